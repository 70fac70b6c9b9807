-- Updates taken from getUpdates but not yet handled. Polling stores a batch
-- here before it confirms the batch to Telegram (the next offset), so it can
-- fetch the next batch while this one is still being handled; an update that
-- was confirmed but not handled when the process died is handled at the next
-- start from here. Rows are deleted once handled.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    -- The update as the handlers see it (bot::incoming::Incoming, JSON).
    payload     TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);
