-- `/metrics` share counts kept incrementally (issue 8, item 6): triggers append
-- a -1 for the old state and a +1 for the new in the transaction that changes a
-- share, so a scrape sums a few rows instead of grouping all shares. Appending
-- (not updating one row per state) takes no lock other writers wait on; the
-- sweep folds the rows into one per state.
CREATE TABLE share_count_deltas (
    state TEXT NOT NULL,
    n     INTEGER NOT NULL
);
INSERT INTO share_count_deltas (state, n) SELECT state, COUNT(*) FROM shares GROUP BY state;
CREATE TRIGGER share_count_insert AFTER INSERT ON shares BEGIN
    INSERT INTO share_count_deltas (state, n) VALUES (NEW.state, 1);
END;
CREATE TRIGGER share_count_update AFTER UPDATE OF state ON shares
    WHEN OLD.state <> NEW.state BEGIN
    INSERT INTO share_count_deltas (state, n) VALUES (OLD.state, -1), (NEW.state, 1);
END;
CREATE TRIGGER share_count_delete AFTER DELETE ON shares BEGIN
    INSERT INTO share_count_deltas (state, n) VALUES (OLD.state, -1);
END;
