-- The twin of migrations/sqlite/0008_bot_groups.sql.
CREATE TABLE bot_groups (
    chat_id  BIGINT PRIMARY KEY,
    title    TEXT   NOT NULL DEFAULT '',
    added_at BIGINT NOT NULL
);
