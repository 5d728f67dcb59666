-- The relay-wide storage quota (issue 8, item 10): each live share reserves the
-- bytes of its record, owner data, wrapped key and declared attachments; `usage`
-- keeps their sum, updated in the same transactions, so a create checks the
-- quota without scanning shares.
ALTER TABLE shares ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
UPDATE shares SET reserved = COALESCE(length(record), 0) + COALESCE(length(owner_data), 0)
    + COALESCE(length(wrapped_key), 0)
    + (SELECT COALESCE(SUM(a.size), 0)::BIGINT FROM attachments a WHERE a.share_id = shares.share_id)
    WHERE state IN ('unbound', 'binding', 'bound');
CREATE TABLE usage (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    bytes BIGINT NOT NULL
);
INSERT INTO usage (id, bytes) SELECT 1, COALESCE(SUM(reserved), 0)::BIGINT FROM shares;
