-- The twin of migrations/sqlite/0005_shop_lifecycle.sql: the shop's
-- statuses (existing orders mapped: in_progress → on_site, waiting_parts →
-- long_repair, done → closed, a cancellation by staff → refused), orders
-- without a Telegram client (phoned in at the desk), the dispatcher's notes,
-- the refusal reason and the count of moved visits. PostgreSQL changes the
-- constraints in place.

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ALTER COLUMN client_id DROP NOT NULL;
ALTER TABLE orders ALTER COLUMN client_chat_id DROP NOT NULL;
ALTER TABLE orders ADD COLUMN notes TEXT;
ALTER TABLE orders ADD COLUMN refuse_reason TEXT;
ALTER TABLE orders ADD COLUMN reschedules BIGINT NOT NULL DEFAULT 0;

UPDATE orders SET status = CASE status
    WHEN 'in_progress' THEN 'on_site'
    WHEN 'waiting_parts' THEN 'long_repair'
    WHEN 'done' THEN 'closed'
    WHEN 'cancelled' THEN
        CASE WHEN EXISTS (
            SELECT 1 FROM order_history h
            WHERE h.order_id = orders.id AND h.to_status = 'cancelled'
              AND h.actor_role IN ('dispatcher', 'admin'))
        THEN 'refused' ELSE 'cancelled' END
    ELSE status
END
WHERE status IN ('in_progress', 'waiting_parts', 'done', 'cancelled');

ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('new', 'assigned', 'accepted', 'on_site', 'long_repair',
                      'closed', 'refused', 'cancelled'));

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
