//! Figures for the admin's `/stats`.

use super::Database;

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
        let by_master: Vec<(i64, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT o.master_id, p.name,
                    SUM(CASE WHEN o.status IN ('assigned', 'in_progress', 'waiting_parts') THEN 1 ELSE 0 END),
                    SUM(CASE WHEN o.status = 'done' THEN 1 ELSE 0 END)
             FROM orders o LEFT JOIN people p ON p.user_id = o.master_id
             WHERE o.master_id IS NOT NULL
             GROUP BY o.master_id, p.name ORDER BY o.master_id",
        )
        .fetch_all(self.pool())
        .await?;
        let since = super::now_ms() - days * 86_400_000;
        let by_day: Vec<(String, i64)> = sqlx::query_as(
            "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, COUNT(*)
             FROM orders WHERE created_at >= ? GROUP BY day ORDER BY day",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let assign: Option<f64> =
            sqlx::query_scalar("SELECT AVG((assigned_at - created_at) / 60000.0) FROM orders WHERE assigned_at IS NOT NULL")
                .fetch_one(self.pool())
                .await?;
        let finish: Option<f64> = sqlx::query_scalar(
            "SELECT AVG((done_at - created_at) / 60000.0) FROM orders WHERE done_at IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await?;
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
