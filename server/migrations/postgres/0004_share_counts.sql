-- `/metrics` share counts kept incrementally (issue 8, item 6): triggers append
-- a -1 for the old state and a +1 for the new in the transaction that changes a
-- share, so a scrape sums a few rows instead of grouping all shares. Appending
-- (not updating one row per state) takes no lock other writers wait on; the
-- sweep folds the rows into one per state.
CREATE TABLE share_count_deltas (
    state TEXT NOT NULL,
    n     BIGINT NOT NULL
);
INSERT INTO share_count_deltas (state, n) SELECT state, COUNT(*) FROM shares GROUP BY state;
CREATE FUNCTION share_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.state = NEW.state THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO share_count_deltas (state, n) VALUES (OLD.state, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO share_count_deltas (state, n) VALUES (NEW.state, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER share_count AFTER INSERT OR DELETE OR UPDATE OF state ON shares
    FOR EACH ROW EXECUTE FUNCTION share_count_delta();
