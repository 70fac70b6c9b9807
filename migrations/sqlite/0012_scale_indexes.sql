-- Indexes for a shop with years of orders (docs/BENCHMARKS.md, "At the
-- scale of years"): a phone looked up at the desk; the live orders per
-- status and, within one, by the day they were closed (orders per status in
-- /stats; closed orders of a period in the reports and /stats money); by
-- the day they were filed (/stats); per master and status (/stats, the
-- assign list); each without reading the whole table. Deleted orders are
-- never counted, so the live ones have partial indexes of their own.
CREATE INDEX orders_phone ON orders (phone, id);
CREATE INDEX orders_status_done_live ON orders (status, done_at) WHERE deleted_at IS NULL;
CREATE INDEX orders_created_live ON orders (created_at) WHERE deleted_at IS NULL;
CREATE INDEX orders_master_live ON orders (master_id, status) WHERE deleted_at IS NULL;
