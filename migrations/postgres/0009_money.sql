-- The money of a closed order, exact in kopecks: what the client paid, the
-- materials, each share of the net (split by the rules at closing) and the
-- flags the split looked at. `price` (whole roubles) is kept for old rows
-- and copied into the total.
ALTER TABLE orders ADD COLUMN total_kopecks BIGINT;
ALTER TABLE orders ADD COLUMN materials_kopecks BIGINT;
ALTER TABLE orders ADD COLUMN master_kopecks BIGINT;
ALTER TABLE orders ADD COLUMN company_kopecks BIGINT;
ALTER TABLE orders ADD COLUMN master_percent BIGINT;
ALTER TABLE orders ADD COLUMN out_of_city BOOLEAN;
ALTER TABLE orders ADD COLUMN has_review BOOLEAN;
UPDATE orders SET total_kopecks = price * 100, materials_kopecks = 0 WHERE price IS NOT NULL;
