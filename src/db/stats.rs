//! Figures for the admin's `/stats`.

use super::{Database, DbKind};
use crate::domain::{Code, OrderStatus, StatusGroup};

/// Orders by status, by master and by day, and the mean times to assign and to finish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub by_status: Vec<(String, i64)>,
    /// (master id, master name if known, open orders, done orders).
    pub by_master: Vec<(i64, Option<String>, i64, i64)>,
    /// (day `YYYY-MM-DD` UTC, orders created) for the last `days` days that had any.
    pub by_day: Vec<(String, i64)>,
    /// Mean minutes from filing to the first assignment, over assigned orders.
    pub mean_minutes_to_assign: Option<f64>,
    /// Mean minutes from filing to done, over done orders.
    pub mean_minutes_to_finish: Option<f64>,
    pub total: i64,
}

impl Database {
    /// Current figures; `days` limits the per-day list.
    pub async fn stats(&self, days: i64) -> anyhow::Result<Stats> {
        let by_status = self.count_by_status().await?;
        let total = by_status.iter().map(|(_, n)| n).sum();
        let with_master = super::status_list(StatusGroup::WithMaster);
        let done = OrderStatus::Closed.code();
        let by_master_sql = format!(
            "SELECT o.master_id, p.name,
                    SUM(CASE WHEN o.status IN {with_master} THEN 1 ELSE 0 END),
                    SUM(CASE WHEN o.status = '{done}' THEN 1 ELSE 0 END)
             FROM orders o LEFT JOIN people p ON p.user_id = o.master_id
             WHERE o.master_id IS NOT NULL
             GROUP BY o.master_id, p.name ORDER BY o.master_id"
        );
        // The UTC calendar day of a millisecond timestamp, `YYYY-MM-DD`.
        let day = match self.kind() {
            DbKind::Sqlite => "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')",
            DbKind::Postgres => {
                "to_char(to_timestamp(created_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            }
        };
        let by_day_sql = format!(
            "SELECT {day} AS day, COUNT(*) FROM orders WHERE created_at >= $1 GROUP BY day ORDER BY day"
        );
        // CAST to a float before dividing: PostgreSQL would otherwise average
        // NUMERIC values, which do not decode as f64.
        let assign_sql = "SELECT AVG(CAST(assigned_at - created_at AS DOUBLE PRECISION) / 60000)
             FROM orders WHERE assigned_at IS NOT NULL";
        let finish_sql = "SELECT AVG(CAST(done_at - created_at AS DOUBLE PRECISION) / 60000)
             FROM orders WHERE done_at IS NOT NULL";
        let since = super::now_ms() - days * 86_400_000;
        let (by_master, by_day, assign, finish) = on_pool!(self, pool => {
            let by_master: Vec<(i64, Option<String>, i64, i64)> =
                sqlx::query_as(&by_master_sql).fetch_all(pool).await?;
            let by_day: Vec<(String, i64)> =
                sqlx::query_as(&by_day_sql).bind(since).fetch_all(pool).await?;
            let assign: Option<f64> = sqlx::query_scalar(assign_sql).fetch_one(pool).await?;
            let finish: Option<f64> = sqlx::query_scalar(finish_sql).fetch_one(pool).await?;
            (by_master, by_day, assign, finish)
        });
        Ok(Stats {
            by_status,
            by_master,
            by_day,
            mean_minutes_to_assign: assign,
            mean_minutes_to_finish: finish,
            total,
        })
    }
}
