//! Scheduled jobs (reminders, escalations, the daily summary). A job is
//! stored in the transaction of the change that causes it, and fired in one
//! transaction that writes its effects (outbox rows, the next repetition)
//! and marks it done only if it was not done yet: whatever crashes, and
//! however many replicas look, a job's effects exist once.

use sqlx::{Encode, QueryBuilder, Type};

use super::outbox::{enqueue_query, payloads};
use super::{now_ms, Database, Notification, Order, ORDER_COLUMNS};
use crate::domain::schedule::{DueJob, JobKind, NewJob};
use crate::domain::Code;

/// What firing a job came to, decided by the caller from the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Its reason is gone: done, nothing sent.
    Moot,
    /// Held (quiet hours): due again at this moment (ms).
    Hold(i64),
    /// Send these, then store `next`.
    Send {
        notes: Vec<Notification>,
        next: Option<NewJob>,
    },
}

/// What happened to a job handed to [`Database::fire_job`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// Its notifications are queued.
    Sent,
    /// Made moot or held.
    NotSent,
    /// Someone (another replica, an earlier try) fired or cancelled it first.
    AlreadyDone,
}

/// The insert of `jobs` for `order_id` (`None`: each job's own), one
/// statement; the same reminder created twice is stored once.
pub(super) fn jobs_insert_query<DB>(
    order_id: Option<i64>,
    jobs: &[NewJob],
    now: i64,
) -> Option<QueryBuilder<'static, DB>>
where
    DB: sqlx::Database,
    i64: Encode<'static, DB> + Type<DB>,
    Option<i64>: Encode<'static, DB> + Type<DB>,
    String: Encode<'static, DB> + Type<DB>,
    Option<String>: Encode<'static, DB> + Type<DB>,
{
    if jobs.is_empty() {
        return None;
    }
    let mut insert = QueryBuilder::new(
        "INSERT INTO jobs (kind, order_id, due_at, dedup_key, round, since_at, master_id, by_user,
            visit_from, expect_status, created_at) ",
    );
    insert.push_values(jobs, |mut row, job| {
        let order = order_id.or(job.order_id);
        let kind: &str = job.kind.into();
        row.push_bind(kind.to_string())
            .push_bind(order)
            .push_bind(job.due_ms)
            .push_bind(job.dedup_key(order))
            .push_bind(i64::from(job.round))
            .push_bind(job.since_ms)
            .push_bind(job.master)
            .push_bind(job.by)
            .push_bind(job.visit_from)
            .push_bind(job.expected_status().map(|s| s.code().to_string()))
            .push_bind(now);
    });
    insert.push(" ON CONFLICT (dedup_key) DO NOTHING");
    Some(insert)
}

/// Cancels an order's pending jobs that its new status or master makes
/// moot: `$1` now, `$2` the order, `$3` its status, `$4` its master.
pub(super) const CANCEL_MOOT_JOBS: &str = "UPDATE jobs SET cancelled_at = $1
     WHERE order_id = $2 AND done_at IS NULL AND cancelled_at IS NULL
       AND (expect_status IS DISTINCT FROM $3
            OR (master_id IS NOT NULL AND master_id IS DISTINCT FROM $4))";

/// `jobs` columns in the order [`DueJob`] is read.
const JOB_COLUMNS: &str =
    "id, kind, order_id, due_at, round, since_at, master_id, by_user, visit_from";

type JobRow = (
    i64,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn due_job(row: JobRow) -> Option<DueJob> {
    let (id, kind, order_id, due_ms, round, since_ms, master, by, visit_from) = row;
    Some(DueJob {
        id,
        job: NewJob {
            kind: kind.parse::<JobKind>().ok()?,
            order_id,
            due_ms,
            round: u32::try_from(round).unwrap_or(1),
            since_ms,
            master,
            by,
            visit_from,
        },
    })
}

/// Pending jobs and how many of them are late, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobBacklog {
    pub pending: i64,
    /// Due more than a minute ago and not fired.
    pub late: i64,
}

impl Database {
    /// Stores jobs not tied to a change (the daily summary); the same one
    /// twice is stored once.
    pub async fn schedule_jobs(&self, jobs: &[NewJob]) -> anyhow::Result<()> {
        let now = now_ms();
        in_write_tx!(self, tx => {
            if let Some(mut insert) = jobs_insert_query(None, jobs, now) {
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, anyhow::Error>(())
        })
    }

    /// Pending jobs due by `now`, the most overdue first.
    pub async fn due_jobs(&self, now: i64, limit: i64) -> anyhow::Result<Vec<DueJob>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE done_at IS NULL AND cancelled_at IS NULL AND due_at <= $1
             ORDER BY due_at, id LIMIT $2"
        );
        let rows: Vec<JobRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().filter_map(due_job).collect())
    }

    /// When the next pending job is due (ms), if any.
    pub async fn next_job_due(&self) -> anyhow::Result<Option<i64>> {
        let sql = "SELECT MIN(due_at) FROM jobs WHERE done_at IS NULL AND cancelled_at IS NULL";
        on_pool!(self, pool => Ok(sqlx::query_scalar(sql).fetch_one(pool).await?))
    }

    /// Pending jobs of `order_id` (tests, `/history` later).
    pub async fn pending_jobs_of(&self, order_id: i64) -> anyhow::Result<Vec<DueJob>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE order_id = $1 AND done_at IS NULL AND cancelled_at IS NULL ORDER BY due_at, id"
        );
        let rows: Vec<JobRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(order_id)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().filter_map(due_job).collect())
    }

    /// Fires `job`: in one transaction, reads its order, lets `decide` say
    /// what it comes to, and writes that (the notifications and the next
    /// job, or a later due time, or nothing) together with the job's end.
    /// A job fired or cancelled meanwhile is left alone (`AlreadyDone`).
    pub async fn fire_job(
        &self,
        job: &DueJob,
        decide: impl FnOnce(Option<&Order>) -> JobOutcome,
    ) -> anyhow::Result<Fired> {
        let pending =
            "SELECT COUNT(*) FROM jobs WHERE id = $1 AND done_at IS NULL AND cancelled_at IS NULL";
        let order_sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        let now = now_ms();
        in_write_tx!(self, tx => {
            let still: i64 = sqlx::query_scalar(pending).bind(job.id).fetch_one(&mut *tx).await?;
            if still == 0 {
                return Ok(Fired::AlreadyDone);
            }
            let order: Option<Order> = match job.order_id {
                Some(id) => sqlx::query_as(&order_sql).bind(id).fetch_optional(&mut *tx).await?,
                None => None,
            };
            let fired = match decide(order.as_ref()) {
                JobOutcome::Moot => {
                    sqlx::query("UPDATE jobs SET cancelled_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(job.id)
                        .execute(&mut *tx)
                        .await?;
                    Fired::NotSent
                }
                JobOutcome::Hold(until) => {
                    sqlx::query("UPDATE jobs SET due_at = $1 WHERE id = $2")
                        .bind(until)
                        .bind(job.id)
                        .execute(&mut *tx)
                        .await?;
                    Fired::NotSent
                }
                JobOutcome::Send { notes, next } => {
                    if let Some(mut insert) = enqueue_query(&payloads(notes)?, now) {
                        insert.build().execute(&mut *tx).await?;
                    }
                    let next: Vec<NewJob> = next.into_iter().collect();
                    if let Some(mut insert) = jobs_insert_query(job.order_id, &next, now) {
                        insert.build().execute(&mut *tx).await?;
                    }
                    let marked = sqlx::query(
                        "UPDATE jobs SET done_at = $1 WHERE id = $2 AND done_at IS NULL",
                    )
                    .bind(now)
                    .bind(job.id)
                    .execute(&mut *tx)
                    .await?;
                    if marked.rows_affected() == 0 {
                        // A concurrent firing committed first (PostgreSQL
                        // re-checks the row after waiting for it): undo ours.
                        tx.rollback().await?;
                        return Ok(Fired::AlreadyDone);
                    }
                    Fired::Sent
                }
            };
            tx.commit().await?;
            Ok(fired)
        })
    }

    /// A firing that failed (the database refused): tried again at `at`.
    pub async fn retry_job(&self, id: i64, at: i64) -> anyhow::Result<()> {
        on_writer!(self, pool => sqlx::query(
            "UPDATE jobs SET attempts = attempts + 1, due_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Pending and late jobs at `now`.
    pub async fn job_backlog(&self, now: i64) -> anyhow::Result<JobBacklog> {
        let sql = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at < $1 THEN 1 ELSE 0 END), 0)
             FROM jobs WHERE done_at IS NULL AND cancelled_at IS NULL";
        let (pending, late): (i64, i64) = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(now - 60_000)
            .fetch_one(pool)
            .await?);
        Ok(JobBacklog { pending, late })
    }

    /// Jobs fired (sent) of `kind` for `order_id`: what the tests count.
    pub async fn jobs_done(&self, order_id: Option<i64>, kind: JobKind) -> anyhow::Result<i64> {
        let code: &str = kind.into();
        let sql = "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND done_at IS NOT NULL
             AND order_id IS NOT DISTINCT FROM $2";
        on_pool!(self, pool => Ok(sqlx::query_scalar(sql)
            .bind(code)
            .bind(order_id)
            .fetch_one(pool)
            .await?))
    }
}
