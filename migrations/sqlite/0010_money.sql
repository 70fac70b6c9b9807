-- The money of a closed order, exact in kopecks: what the client paid, the
-- materials, each share of the net (split by the rules at closing) and the
-- flags the split looked at. `price` (whole roubles) is kept for old rows
-- and copied into the total.
ALTER TABLE orders ADD COLUMN total_kopecks INTEGER;
ALTER TABLE orders ADD COLUMN materials_kopecks INTEGER;
ALTER TABLE orders ADD COLUMN master_kopecks INTEGER;
ALTER TABLE orders ADD COLUMN company_kopecks INTEGER;
ALTER TABLE orders ADD COLUMN master_percent INTEGER;
ALTER TABLE orders ADD COLUMN out_of_city INTEGER;
ALTER TABLE orders ADD COLUMN has_review INTEGER;
-- A long repair's terms: the due date (as typed, and its moment in ms),
-- the parts needed, the price agreed with the client, any prepayment.
ALTER TABLE orders ADD COLUMN repair_due_text TEXT;
ALTER TABLE orders ADD COLUMN repair_due_at INTEGER;
ALTER TABLE orders ADD COLUMN repair_parts TEXT;
ALTER TABLE orders ADD COLUMN repair_price_kopecks INTEGER;
ALTER TABLE orders ADD COLUMN prepayment_kopecks INTEGER;
UPDATE orders SET total_kopecks = price * 100, materials_kopecks = 0 WHERE price IS NOT NULL;
