-- Clients as records, keyed by their phone number as the bot normalises it
-- (+79991234567): a caller who phones the desk twice, or writes to the bot
-- after phoning, is one client. telegram_id is set when the client is known
-- on Telegram (they filed an order themselves, or shared their own contact).
CREATE TABLE clients (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    phone        TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL DEFAULT '',
    telegram_id  INTEGER,
    last_address TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX clients_telegram ON clients (telegram_id);

ALTER TABLE orders ADD COLUMN client_ref INTEGER REFERENCES clients (id);
CREATE INDEX orders_client_ref ON orders (client_ref, id);

-- Orders filed before: one client per phone, named and addressed as in its
-- latest order. Nobody is linked: those numbers were typed, and a typed
-- number does not show whose it is.
INSERT INTO clients (phone, name, telegram_id, last_address, created_at, updated_at)
SELECT o.phone, o.client_name, NULL, o.address, o.created_at, o.created_at
FROM orders o
WHERE o.id = (SELECT MAX(o2.id) FROM orders o2 WHERE o2.phone = o.phone);
UPDATE orders SET client_ref = (SELECT c.id FROM clients c WHERE c.phone = orders.phone);
