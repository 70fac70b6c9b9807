//! Applying a status change decided by [`crate::domain::decide`]: one
//! transaction that updates the order only if it is still as the decision saw
//! it (compare-and-set on status and master), writes the history entry and
//! queues the notifications.

use super::orders::{order_from_row, ORDER_COLUMNS};
use super::{now_ms, Database, Notification, Order};
use crate::domain::{Action, Actor, OrderStatus, Transition};

/// A decided change, with what the actor typed along with it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub order_id: i64,
    /// The master the decision saw (status is `transition.from`).
    pub expected_master: Option<i64>,
    pub transition: Transition,
    pub action: Action,
    pub actor: Actor,
    /// Reason, comment or rating comment, kept in the history.
    pub comment: Option<&'a str>,
    /// The Telegram update that asked for it (redelivery guard).
    pub update_id: Option<i64>,
    pub work_done: Option<&'a str>,
    pub price: Option<i64>,
    pub rating: Option<i64>,
}

/// What happened to a change.
#[derive(Debug, Clone)]
pub enum Applied {
    /// Done; the order as it is now.
    Done(Order),
    /// Someone changed the order first; nothing was written. The order as it is now.
    Conflict(Order),
    /// This update was already applied before (Telegram redelivered it).
    Duplicate(Order),
    /// No such order.
    Missing,
}

impl Database {
    /// Applies `change` atomically with its notifications.
    pub async fn apply_change(
        &self,
        change: &Change<'_>,
        notifications: impl FnOnce(&Order) -> Vec<Notification>,
    ) -> anyhow::Result<Applied> {
        let mut tx = self.begin_write().await?;
        let select = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?");
        if let Some(update_id) = change.update_id {
            let seen: Option<i64> =
                sqlx::query_scalar("SELECT order_id FROM order_history WHERE update_id = ?")
                    .bind(update_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(order_id) = seen {
                let row = sqlx::query(&select)
                    .bind(order_id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Ok(Applied::Duplicate(order_from_row(&row)?));
            }
        }
        let now = now_ms();
        let t = change.transition;
        let new_master = match t.master {
            Some(m) => m,
            None => change.expected_master,
        };
        let to = t.to.code();
        let updated = sqlx::query(
            "UPDATE orders SET
                status = ?, master_id = ?, updated_at = ?,
                assigned_at = CASE WHEN ? = 'assigned' AND assigned_at IS NULL THEN ? ELSE assigned_at END,
                done_at = CASE WHEN ? = 'done' AND done_at IS NULL THEN ? ELSE done_at END,
                work_done = COALESCE(?, work_done),
                price = COALESCE(?, price),
                rating = COALESCE(?, rating)
             WHERE id = ? AND status = ? AND master_id IS ?",
        )
        .bind(to)
        .bind(new_master)
        .bind(now)
        .bind(to)
        .bind(now)
        .bind(to)
        .bind(now)
        .bind(change.work_done)
        .bind(change.price)
        .bind(change.rating)
        .bind(change.order_id)
        .bind(t.from.code())
        .bind(change.expected_master)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            let row = sqlx::query(&select)
                .bind(change.order_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(match row {
                Some(row) => Applied::Conflict(order_from_row(&row)?),
                None => Applied::Missing,
            });
        }
        sqlx::query(
            "INSERT INTO order_history (order_id, action, from_status, to_status, actor_id, actor_role, comment, update_id, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(change.order_id)
        .bind(change.action.code())
        .bind(t.from.code())
        .bind(to)
        .bind(change.actor.user_id)
        .bind(change.actor.role.code())
        .bind(change.comment)
        .bind(change.update_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&select)
            .bind(change.order_id)
            .fetch_one(&mut *tx)
            .await?;
        let order = order_from_row(&row)?;
        for note in notifications(&order) {
            Self::enqueue_in(&mut tx, &note, now).await?;
        }
        tx.commit().await?;
        Ok(Applied::Done(order))
    }

    /// Adds the client's comment to a rating already given (once).
    pub async fn add_rating_comment(
        &self,
        order_id: i64,
        client_id: i64,
        comment: &str,
        update_id: Option<i64>,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE orders SET rating_comment = ?, updated_at = ?
             WHERE id = ? AND client_id = ? AND rating IS NOT NULL AND rating_comment IS NULL",
        )
        .bind(comment)
        .bind(now_ms())
        .bind(order_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO order_history (order_id, action, from_status, to_status, actor_id, actor_role, comment, update_id, at)
             VALUES (?, 'rate_comment', 'done', 'done', ?, 'client', ?, ?, ?)",
        )
        .bind(order_id)
        .bind(client_id)
        .bind(comment)
        .bind(update_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An order's history, oldest first: (time, action, from, to, actor, role, comment).
    pub async fn history(&self, order_id: i64) -> anyhow::Result<Vec<HistoryEntry>> {
        let rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT at, action, from_status, to_status, actor_id, actor_role, comment
             FROM order_history WHERE order_id = ? ORDER BY id",
        )
        .bind(order_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(at, action, from, to, actor_id, actor_role, comment)| HistoryEntry {
                    at,
                    action,
                    from_status: from.as_deref().and_then(OrderStatus::from_code),
                    to_status: OrderStatus::from_code(&to).unwrap_or(OrderStatus::New),
                    actor_id,
                    actor_role,
                    comment,
                },
            )
            .collect())
    }
}

/// Raw `order_history` columns, in SELECT order.
type HistoryRow = (
    i64,
    String,
    Option<String>,
    String,
    i64,
    String,
    Option<String>,
);

/// One line of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: i64,
    pub action: String,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub actor_id: i64,
    pub actor_role: String,
    pub comment: Option<String>,
}
