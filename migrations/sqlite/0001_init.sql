-- Orders, the people who work them, their history, the notification outbox
-- and the dialog state of the SQLite FSM backend. Times are Unix milliseconds.

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        INTEGER NOT NULL,
    client_chat_id   INTEGER NOT NULL,
    client_name      TEXT    NOT NULL DEFAULT '',
    client_lang      TEXT    NOT NULL DEFAULT 'ru',
    equipment        TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    photo_file_id    TEXT,
    address          TEXT    NOT NULL,
    phone            TEXT    NOT NULL,
    visit_time       TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'assigned', 'in_progress', 'waiting_parts', 'done', 'cancelled')),
    master_id        INTEGER,
    work_done        TEXT,
    price            INTEGER,
    rating           INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment   TEXT,
    -- The Telegram update that filed the order: a redelivered update finds
    -- its order instead of filing a second one.
    source_update_id INTEGER UNIQUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    assigned_at      INTEGER,
    done_at          INTEGER
);
CREATE INDEX orders_client ON orders (client_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_master ON orders (master_id, status);

-- Staff added at runtime; ids from ADMIN_IDS / DISPATCHER_IDS are never stored here.
CREATE TABLE people (
    user_id    INTEGER PRIMARY KEY,
    role       TEXT    NOT NULL CHECK (role IN ('master', 'dispatcher', 'admin')),
    name       TEXT    NOT NULL,
    added_by   INTEGER,
    added_at   INTEGER NOT NULL
);

CREATE TABLE order_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    action      TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL,
    actor_role  TEXT    NOT NULL,
    comment     TEXT,
    -- The Telegram update that caused this entry: a redelivered update is
    -- recognised here and not applied twice.
    update_id   INTEGER UNIQUE,
    at          INTEGER NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

-- Messages to send, written in the same transaction as the change they
-- announce, so a crash can delay a notification but never lose it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT,
    -- Set when Telegram refuses for good (bot blocked, chat gone): no more retries.
    given_up_at     INTEGER
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

CREATE TABLE fsm_state (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (chat_id, user_id)
);
