-- The groups the bot is a member of, so that a master's profile can offer
-- the unbound ones to bind (the other way to bind is /bind_master inside
-- the group).
CREATE TABLE bot_groups (
    chat_id  INTEGER PRIMARY KEY,
    title    TEXT    NOT NULL DEFAULT '',
    added_at INTEGER NOT NULL
);
