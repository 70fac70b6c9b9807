-- The twin of migrations/sqlite/0007_master_groups.sql. Flags are BIGINT
-- 0/1 as in SQLite, so that the code reads them the same way on both.
CREATE TABLE master_groups (
    chat_id    BIGINT PRIMARY KEY,
    master_id  BIGINT NOT NULL UNIQUE,
    title      TEXT   NOT NULL DEFAULT '',
    bound_by   BIGINT NOT NULL,
    bound_at   BIGINT NOT NULL
);

CREATE TABLE order_cards (
    order_id   BIGINT NOT NULL REFERENCES orders (id),
    chat_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (order_id, chat_id)
);

CREATE TABLE master_profiles (
    user_id        BIGINT PRIMARY KEY,
    phone          TEXT,
    specialization TEXT   NOT NULL DEFAULT '',
    senior         BIGINT NOT NULL DEFAULT 0 CHECK (senior IN (0, 1)),
    active         BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
