//! Figures for the admin's `/stats`.

use super::Database;
use crate::domain::{Code, OrderStatus, StatusGroup};

/// One day of the per-day figures: its label and its bounds as instants
/// (Unix ms, `[from, to)`), cut by the caller in the shop's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsDay {
    pub label: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl StatsDay {
    /// The `n` shop days up to `today` (included), oldest first, cut in `tz`.
    pub fn last(today: jiff::civil::Date, n: usize, tz: &jiff::tz::TimeZone) -> Vec<Self> {
        crate::domain::last_days(today, n, tz)
            .into_iter()
            .map(|(date, from, to)| Self {
                label: date.to_string(),
                from_ms: from.as_millisecond(),
                to_ms: to.as_millisecond(),
            })
            .collect()
    }
}

/// Orders by status, by master and by day, and the mean times to assign and to finish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub by_status: Vec<(String, i64)>,
    /// (master id, master name if known, open orders, done orders).
    pub by_master: Vec<(i64, Option<String>, i64, i64)>,
    /// (the day's label, orders created) for the days asked for that had any.
    pub by_day: Vec<(String, i64)>,
    /// Mean minutes from filing to the first assignment, over the assigned
    /// orders filed in the days asked for.
    pub mean_minutes_to_assign: Option<f64>,
    /// Mean minutes from filing to done, over the done orders filed in the
    /// days asked for.
    pub mean_minutes_to_finish: Option<f64>,
    pub total: i64,
}

impl Database {
    /// Current figures; orders created are counted per day of `days`
    /// (consecutive, oldest first).
    pub async fn stats(&self, days: &[StatsDay]) -> anyhow::Result<Stats> {
        let by_status = self.count_by_status().await?;
        let total = by_status.iter().map(|(_, n)| n).sum();
        // Counted per master and status from the index of live orders (no
        // table rows read), named afterwards: with years of orders a join
        // before counting would read every row.
        let by_master_sql = "SELECT master_id, status, COUNT(*) FROM orders
             WHERE master_id IS NOT NULL AND deleted_at IS NULL GROUP BY master_id, status";
        let names_sql = "SELECT user_id, name FROM people ORDER BY user_id, role";
        // Which of `days` an order was created on: a CASE over the day
        // boundaries ($1 the first day's start, $k+2 the end of day k), so
        // that days cut in the shop's time zone (DST included) need no time
        // zone support from the database.
        let day_index: String = (0..days.len())
            .map(|k| format!("WHEN created_at < ${} THEN CAST({k} AS BIGINT) ", k + 2))
            .collect();
        let by_day_sql = format!(
            "SELECT CASE {day_index}END AS day, COUNT(*) FROM orders
             WHERE created_at >= $1 AND created_at < ${} AND deleted_at IS NULL GROUP BY day ORDER BY day",
            days.len() + 1
        );
        // The means over the orders filed in the days asked for. CAST to a
        // float before dividing: PostgreSQL would otherwise average NUMERIC
        // values, which do not decode as f64.
        let assign_sql = "SELECT AVG(CAST(assigned_at - created_at AS DOUBLE PRECISION) / 60000)
             FROM orders WHERE created_at >= $1 AND created_at < $2
               AND assigned_at IS NOT NULL AND deleted_at IS NULL";
        let finish_sql = "SELECT AVG(CAST(done_at - created_at AS DOUBLE PRECISION) / 60000)
             FROM orders WHERE created_at >= $1 AND created_at < $2
               AND done_at IS NOT NULL AND deleted_at IS NULL";
        let (from, to) = match (days.first(), days.last()) {
            (Some(first), Some(last)) => (first.from_ms, last.to_ms),
            _ => (i64::MIN, i64::MAX),
        };
        let (counts, names, by_day, assign, finish) = on_pool!(self, pool => {
            let counts: Vec<(i64, String, i64)> = sqlx::query_as(by_master_sql).fetch_all(pool).await?;
            let names: Vec<(i64, String)> = sqlx::query_as(names_sql).fetch_all(pool).await?;
            let by_day: Vec<(i64, i64)> = match days.first() {
                Some(first) => {
                    let mut query = sqlx::query_as(&by_day_sql).bind(first.from_ms);
                    for day in days {
                        query = query.bind(day.to_ms);
                    }
                    query.fetch_all(pool).await?
                }
                None => Vec::new(),
            };
            let assign: Option<f64> =
                sqlx::query_scalar(assign_sql).bind(from).bind(to).fetch_one(pool).await?;
            let finish: Option<f64> =
                sqlx::query_scalar(finish_sql).bind(from).bind(to).fetch_one(pool).await?;
            (counts, names, by_day, assign, finish)
        });
        let mut per_master: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
        for (master, status, n) in counts {
            let entry = per_master.entry(master).or_default();
            match OrderStatus::from_code(&status) {
                Some(s) if StatusGroup::WithMaster.contains(s) => entry.0 += n,
                Some(OrderStatus::Closed) => entry.1 += n,
                _ => {}
            }
        }
        let name_of = |id: i64| {
            names
                .iter()
                .find(|(user, name)| *user == id && !name.is_empty())
                .map(|(_, name)| name.clone())
        };
        let by_master = per_master
            .into_iter()
            .map(|(id, (open, done))| (id, name_of(id), open, done))
            .collect();
        let by_day = by_day
            .into_iter()
            .filter_map(|(k, n)| Some((days.get(usize::try_from(k).ok()?)?.label.clone(), n)))
            .collect();
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
