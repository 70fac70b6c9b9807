-- Scheduled jobs: reminders, SLA escalations, visit reminders, the daily
-- summary. Created in the transaction of the change that causes them,
-- fired once (the effects, outbox rows, are written in the transaction
-- that marks the job done), made moot by the change that ends their reason.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    order_id      INTEGER REFERENCES orders (id),
    due_at        INTEGER NOT NULL,
    -- One job per reminder: the same one created twice is stored once.
    dedup_key     TEXT    NOT NULL UNIQUE,
    round         INTEGER NOT NULL DEFAULT 1,
    since_at      INTEGER NOT NULL DEFAULT 0,
    master_id     INTEGER,
    by_user       INTEGER,
    visit_from    INTEGER,
    -- The status the order must still be in, for the change that moves
    -- it on to cancel the job in its own transaction.
    expect_status TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    done_at       INTEGER,
    cancelled_at  INTEGER
);
CREATE INDEX jobs_pending ON jobs (due_at) WHERE done_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX jobs_of_order ON jobs (order_id) WHERE done_at IS NULL AND cancelled_at IS NULL;
