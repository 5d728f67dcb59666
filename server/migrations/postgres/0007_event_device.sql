-- The fingerprint (PROTOCOL.md §9.6) of the device key behind an event: the
-- bound device on bound, confirmed and viewed, the refused one on
-- refused_device. Earlier events have none.
ALTER TABLE events ADD COLUMN device_fingerprint TEXT;
