//! The rows the owner's reports are made of: open orders, and the orders
//! closed in a period (by when they were closed), for one master or all.

use super::{status_list, Database, Order, ORDER_COLUMNS};
use crate::domain::{Code, OrderStatus, StatusGroup};

impl Database {
    /// Every open order (optionally one master's), oldest first.
    pub async fn open_orders(&self, master: Option<i64>) -> anyhow::Result<Vec<Order>> {
        let open = status_list(StatusGroup::Open);
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status IN {open} AND deleted_at IS NULL
               AND ($1 IS NULL OR master_id = $1) ORDER BY id"
        );
        on_pool!(self, pool => {
            let rows: Vec<Order> = sqlx::query_as(&sql).bind(master).fetch_all(pool).await?;
            Ok(rows)
        })
    }

    /// Orders closed in `[from_ms, to_ms)` (optionally one master's),
    /// in the order they were closed.
    pub async fn closed_between(
        &self,
        from_ms: i64,
        to_ms: i64,
        master: Option<i64>,
    ) -> anyhow::Result<Vec<Order>> {
        let closed = OrderStatus::Closed.code();
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status = '{closed}' AND deleted_at IS NULL
               AND done_at >= $1 AND done_at < $2 AND ($3 IS NULL OR master_id = $3)
             ORDER BY done_at, id"
        );
        on_pool!(self, pool => {
            let rows: Vec<Order> = sqlx::query_as(&sql)
                .bind(from_ms)
                .bind(to_ms)
                .bind(master)
                .fetch_all(pool)
                .await?;
            Ok(rows)
        })
    }
}
