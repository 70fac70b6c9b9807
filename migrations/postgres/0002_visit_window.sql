-- The visit day and window understood from what the client typed ("завтра
-- после 18"), as instants in the shop's time zone: the first and last moment
-- of the window, and which kind of window it was (at, after, before,
-- between, any). NULL when the words named no day ("когда удобно").
ALTER TABLE orders ADD COLUMN visit_from BIGINT;
ALTER TABLE orders ADD COLUMN visit_to BIGINT;
ALTER TABLE orders ADD COLUMN visit_window TEXT;
