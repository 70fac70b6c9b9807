-- The shop's lifecycle and the dispatcher's desk.
--
-- Statuses become the shop's own: new → assigned → accepted → on_site →
-- closed, long_repair beside on_site, refused (by the shop, with a reason)
-- and cancelled (by the client). Orders filed before are mapped:
-- in_progress → on_site, waiting_parts → long_repair, done → closed, and a
-- cancellation stays `cancelled` when the client made it, `refused` when
-- staff did (the history says who).
--
-- An order phoned in at the desk has no Telegram client until the caller
-- shares their number with the bot, so client_id and client_chat_id may be
-- NULL. It also carries the dispatcher's notes; a refused order its reason;
-- every order the number of times its visit was moved.
--
-- SQLite cannot change a CHECK or a NOT NULL in place, so the table is
-- rebuilt: the bot runs its migrations with foreign keys off (the history
-- keeps pointing at the same order numbers), inside this migration's
-- transaction, and the AUTOINCREMENT counter is carried over so that no
-- number is ever given twice.

CREATE TABLE orders_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        INTEGER,
    client_chat_id   INTEGER,
    client_name      TEXT    NOT NULL DEFAULT '',
    client_lang      TEXT    NOT NULL DEFAULT 'ru',
    equipment        TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    photo_file_id    TEXT,
    address          TEXT    NOT NULL,
    phone            TEXT    NOT NULL,
    visit_time       TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'assigned', 'accepted', 'on_site', 'long_repair',
                          'closed', 'refused', 'cancelled')),
    master_id        INTEGER,
    work_done        TEXT,
    price            INTEGER,
    rating           INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment   TEXT,
    source_update_id INTEGER UNIQUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    assigned_at      INTEGER,
    done_at          INTEGER,
    visit_from       INTEGER,
    visit_to         INTEGER,
    visit_window     TEXT,
    client_ref       INTEGER REFERENCES clients (id),
    notes            TEXT,
    refuse_reason    TEXT,
    reschedules      INTEGER NOT NULL DEFAULT 0
);

-- Who cancelled each cancelled order: staff cancellations become refusals.
CREATE TEMP TABLE refused_by_staff AS
SELECT DISTINCT order_id AS id FROM order_history
WHERE to_status = 'cancelled' AND actor_role IN ('dispatcher', 'admin');

INSERT INTO orders_rebuilt (
    id, client_id, client_chat_id, client_name, client_lang, equipment, description,
    photo_file_id, address, phone, visit_time, status, master_id, work_done, price,
    rating, rating_comment, source_update_id, created_at, updated_at, assigned_at,
    done_at, visit_from, visit_to, visit_window, client_ref)
SELECT
    id, client_id, client_chat_id, client_name, client_lang, equipment, description,
    photo_file_id, address, phone, visit_time,
    CASE status
        WHEN 'in_progress' THEN 'on_site'
        WHEN 'waiting_parts' THEN 'long_repair'
        WHEN 'done' THEN 'closed'
        WHEN 'cancelled' THEN
            CASE WHEN id IN (SELECT id FROM refused_by_staff) THEN 'refused' ELSE 'cancelled' END
        ELSE status
    END,
    master_id, work_done, price,
    rating, rating_comment, source_update_id, created_at, updated_at, assigned_at,
    done_at, visit_from, visit_to, visit_window, client_ref
FROM orders;

CREATE TEMP TABLE orders_counter AS
SELECT seq FROM sqlite_sequence WHERE name = 'orders';

DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM orders_counter), 0))
WHERE name = 'orders';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'orders', seq FROM orders_counter
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'orders');
DROP TABLE orders_counter;

CREATE INDEX orders_client ON orders (client_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_master ON orders (master_id, status);
CREATE INDEX orders_client_ref ON orders (client_ref, id);

-- The history speaks the same statuses.
UPDATE order_history SET
    action = CASE WHEN to_status = 'cancelled' AND actor_role IN ('dispatcher', 'admin')
                  THEN 'refuse' ELSE action END,
    to_status = CASE to_status
        WHEN 'in_progress' THEN 'on_site'
        WHEN 'waiting_parts' THEN 'long_repair'
        WHEN 'done' THEN 'closed'
        WHEN 'cancelled' THEN
            CASE WHEN actor_role IN ('dispatcher', 'admin') THEN 'refused' ELSE 'cancelled' END
        ELSE to_status
    END,
    from_status = CASE from_status
        WHEN 'in_progress' THEN 'on_site'
        WHEN 'waiting_parts' THEN 'long_repair'
        WHEN 'done' THEN 'closed'
        ELSE from_status
    END;
DROP TABLE refused_by_staff;
