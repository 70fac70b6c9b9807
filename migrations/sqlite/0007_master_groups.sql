-- Masters' work groups: the Telegram group a master works from (one per
-- master, one master per group), the order cards posted there (edited in
-- place as the order moves), and the masters' profiles.
CREATE TABLE master_groups (
    chat_id    INTEGER PRIMARY KEY,
    master_id  INTEGER NOT NULL UNIQUE,
    title      TEXT    NOT NULL DEFAULT '',
    bound_by   INTEGER NOT NULL,
    bound_at   INTEGER NOT NULL
);

-- The message that shows an order's card in a chat, to edit it in place.
CREATE TABLE order_cards (
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (order_id, chat_id)
);

-- What the assign list and the money rules need to know of a master:
-- phone, specialization (appliance codes, comma-separated), senior, and
-- whether they take orders at all.
CREATE TABLE master_profiles (
    user_id        INTEGER PRIMARY KEY,
    phone          TEXT,
    specialization TEXT    NOT NULL DEFAULT '',
    senior         INTEGER NOT NULL DEFAULT 0 CHECK (senior IN (0, 1)),
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
