-- Orders brought over from the Python bot (Status_bot): the number the
-- order had there (clients quote it on the phone; `/order N` and `/search N`
-- find it), and when it was deleted there (a deleted order is kept, shown
-- as deleted and left out of every list, figure and report), and the old
-- bot's last change it was copied at (a later import replaces an order
-- untouched here since with the old bot's newer version).
ALTER TABLE orders ADD COLUMN legacy_number INTEGER;
ALTER TABLE orders ADD COLUMN deleted_at INTEGER;
ALTER TABLE orders ADD COLUMN legacy_updated_at INTEGER;
CREATE UNIQUE INDEX orders_legacy_number ON orders (legacy_number) WHERE legacy_number IS NOT NULL;
