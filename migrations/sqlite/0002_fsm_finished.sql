-- The update after which a dialog was last finished (order filed, dialog
-- cancelled), kept for a day after the dialog itself is deleted: polling
-- confirms updates as a sliding window, so after a crash Telegram may deliver
-- a finished dialog's updates again, and this is how they are recognised.
-- SQLite only: with the orders in PostgreSQL, dialogs still live in the
-- SQLite file or in Redis.
CREATE TABLE fsm_finished (
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    last_update_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
