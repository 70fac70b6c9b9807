//! Applying a status change decided by [`crate::domain::decide`]: one
//! transaction that updates the order only if it is still as the decision saw
//! it (compare-and-set on status and master), writes the history entry and
//! queues the notifications.

use super::clients::UPSERT_CLIENT_OF_ORDER;
use super::jobs::{jobs_insert_query, CANCEL_MOOT_JOBS};
use super::outbox::{enqueue_query, payloads};
use super::OrderEdit;
use super::ORDER_COLUMNS;
use super::{now_ms, Database, Notification, Order};
use crate::domain::schedule::NewJob;
use crate::domain::{Action, Actor, Code, Correction, OrderStatus, Transition};

/// A decided change; what the actor typed along with it (a reason, the
/// work and its money, the stars) travels in the [`Action`].
#[derive(Debug, Clone)]
pub struct Change {
    pub order_id: i64,
    /// The master the decision saw (status is `transition.from`).
    pub expected_master: Option<i64>,
    pub transition: Transition,
    pub action: Action,
    pub actor: Actor,
    /// The Telegram update that asked for it (redelivery guard).
    pub update_id: Option<i64>,
    /// The field a correction ([`Action::Edit`]) writes, checked against
    /// the value the editor saw.
    pub edit: Option<OrderEdit>,
    /// A long repair's terms as stored, when the change enters one.
    pub repair: Option<StoredRepair>,
    /// Reminders and escalations the change starts; those it makes moot
    /// (by the order's new status or master) are cancelled with it.
    pub jobs: Vec<NewJob>,
}

/// A long repair's terms with the due moment resolved in the shop's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRepair {
    pub due_words: String,
    pub due_ms: i64,
    pub parts: String,
    pub price: crate::domain::Money,
    pub prepayment: Option<crate::domain::Money>,
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
    /// Applies `change` atomically with its notifications. Of concurrent
    /// changes made from the same view of the order, exactly one is `Done`;
    /// the same update applied twice (even at once) is `Done` once, then
    /// `Duplicate`.
    pub async fn apply_change(
        &self,
        change: &Change,
        notifications: impl FnOnce(&Order) -> Vec<Notification>,
    ) -> anyhow::Result<Applied> {
        let select = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        let t = change.transition;
        let new_master = match t.master {
            Some(m) => m,
            None => change.expected_master,
        };
        let to = t.to.code();
        // Compare-and-set: only the order as the decision saw it is changed.
        // PostgreSQL re-checks the WHERE on the latest committed row after
        // waiting for a concurrent writer, so the second of two racing
        // changes updates nothing.
        let (assigned, closed, refused) = (
            OrderStatus::Assigned.code(),
            OrderStatus::Closed.code(),
            OrderStatus::Refused.code(),
        );
        let update = format!(
            "UPDATE orders SET
                status = $1, master_id = $2, updated_at = $3,
                assigned_at = CASE WHEN $1 = '{assigned}' AND assigned_at IS NULL THEN $3 ELSE assigned_at END,
                done_at = CASE WHEN $1 = '{closed}' AND done_at IS NULL THEN $3 ELSE done_at END,
                work_done = COALESCE($4, work_done),
                total_kopecks = CASE WHEN $11 THEN $5 ELSE total_kopecks END,
                materials_kopecks = CASE WHEN $11 THEN $12 ELSE materials_kopecks END,
                master_kopecks = CASE WHEN $11 THEN $13 ELSE master_kopecks END,
                company_kopecks = CASE WHEN $11 THEN $14 ELSE company_kopecks END,
                master_percent = CASE WHEN $11 THEN $15 ELSE master_percent END,
                out_of_city = CASE WHEN $11 THEN $16 ELSE out_of_city END,
                has_review = CASE WHEN $11 THEN $17 ELSE has_review END,
                repair_due_text = CASE WHEN $18 THEN $19 ELSE repair_due_text END,
                repair_due_at = CASE WHEN $18 THEN $20 ELSE repair_due_at END,
                repair_parts = CASE WHEN $18 THEN $21 ELSE repair_parts END,
                repair_price_kopecks = CASE WHEN $18 THEN $22 ELSE repair_price_kopecks END,
                prepayment_kopecks = CASE WHEN $18 THEN $23 ELSE prepayment_kopecks END,
                rating = COALESCE($6, rating),
                refuse_reason = CASE WHEN $1 = '{refused}' THEN COALESCE($10, refuse_reason) ELSE NULL END
             WHERE id = $7 AND status = $8 AND master_id IS NOT DISTINCT FROM $9"
        );
        let money = change.action.money();
        let kopecks = |f: fn(&crate::domain::ClosedMoney) -> crate::domain::Money| {
            money.map(|m| f(m).kopecks())
        };
        let history = "INSERT INTO order_history
                (order_id, action, from_status, to_status, actor_id, actor_role, comment, update_id, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (update_id) DO NOTHING";
        let outcome = in_write_tx!(self, tx => {
            if let Some(update_id) = change.update_id {
                let seen: Option<i64> =
                    sqlx::query_scalar("SELECT order_id FROM order_history WHERE update_id = $1")
                        .bind(update_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(order_id) = seen {
                    let order: Order = sqlx::query_as(&select)
                        .bind(order_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    return Ok(Some(Applied::Duplicate(order)));
                }
            }
            let now = now_ms();
            let updated = sqlx::query(&update)
                .bind(to)
                .bind(new_master)
                .bind(now)
                .bind(change.action.work())
                .bind(kopecks(|m| m.total))
                .bind(change.action.stars().map(i64::from))
                .bind(change.order_id)
                .bind(t.from.code())
                .bind(change.expected_master)
                .bind(change.action.refuse_reason())
                .bind(money.is_some())
                .bind(kopecks(|m| m.materials))
                .bind(kopecks(|m| m.master))
                .bind(kopecks(|m| m.company))
                .bind(money.map(|m| i64::from(m.master_percent)))
                .bind(money.map(|m| m.out_of_city))
                .bind(money.map(|m| m.review))
                .bind(change.repair.is_some())
                .bind(change.repair.as_ref().map(|r| r.due_words.as_str()))
                .bind(change.repair.as_ref().map(|r| r.due_ms))
                .bind(change.repair.as_ref().map(|r| r.parts.as_str()))
                .bind(change.repair.as_ref().map(|r| r.price.kopecks()))
                .bind(change.repair.as_ref().and_then(|r| r.prepayment.map(|p| p.kopecks())))
                .execute(&mut *tx)
                .await?;
            let mut applied = updated.rows_affected() == 1;
            if let (true, Some(edit)) = (applied, &change.edit) {
                let client_ref: Option<i64> = match &edit.correction {
                    Correction::Phone(phone) => Some(
                        sqlx::query_scalar(UPSERT_CLIENT_OF_ORDER)
                            .bind(phone)
                            .bind(change.order_id)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?,
                    ),
                    _ => None,
                };
                let sql = edit.update_sql();
                let mut query = sqlx::query(&sql)
                    .bind(edit.value())
                    .bind(change.order_id)
                    .bind(edit.seen.clone());
                query = match &edit.correction {
                    Correction::Visit { .. } => query
                        .bind(edit.visit.as_ref().map(|v| v.from_ms))
                        .bind(edit.visit.as_ref().map(|v| v.to_ms))
                        .bind(edit.visit.as_ref().map(|v| v.window)),
                    Correction::Phone(_) => query.bind(client_ref),
                    _ => query,
                };
                applied = query.execute(&mut *tx).await?.rows_affected() == 1;
            }
            if !applied {
                let now: Option<Order> = sqlx::query_as(&select)
                    .bind(change.order_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                // Nothing of this change may stay (a status written before
                // the field's check failed).
                tx.rollback().await?;
                return Ok(Some(match now {
                    Some(order) => Applied::Conflict(order),
                    None => Applied::Missing,
                }));
            }
            let recorded = sqlx::query(history)
                .bind(change.order_id)
                .bind(change.action.code())
                .bind(t.from.code())
                .bind(to)
                .bind(change.actor.user_id)
                .bind(change.action.kind().performed_as(change.actor).code())
                .bind(change.action.comment())
                .bind(change.update_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if recorded.rows_affected() == 0 {
                // The same update was applied by a concurrent transaction
                // that committed after our look-up (PostgreSQL only: SQLite
                // runs write transactions one at a time). Undo ours.
                tx.rollback().await?;
                Ok(None)
            } else {
                let order: Order = sqlx::query_as(&select)
                    .bind(change.order_id)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(CANCEL_MOOT_JOBS)
                    .bind(now)
                    .bind(order.id)
                    .bind(order.status.code())
                    .bind(order.master_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(mut insert) = jobs_insert_query(Some(order.id), &change.jobs, now) {
                    insert.build().execute(&mut *tx).await?;
                }
                if let Some(mut insert) = enqueue_query(&payloads(notifications(&order))?, now) {
                    insert.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(Some(Applied::Done(order)))
            }
        })?;
        match outcome {
            Some(applied) => Ok(applied),
            None => Ok(match self.order(change.order_id).await? {
                Some(order) => Applied::Duplicate(order),
                None => Applied::Missing,
            }),
        }
    }

    /// Adds the client's comment to a rating already given (once).
    pub async fn add_rating_comment(
        &self,
        order_id: i64,
        client_id: i64,
        comment: &str,
        update_id: Option<i64>,
    ) -> anyhow::Result<bool> {
        let update = "UPDATE orders SET rating_comment = $1, updated_at = $2
             WHERE id = $3 AND client_id = $4 AND rating IS NOT NULL AND rating_comment IS NULL";
        let history = "INSERT INTO order_history
                (order_id, action, from_status, to_status, actor_id, actor_role, comment, update_id, at)
             VALUES ($1, 'rate_comment', 'closed', 'closed', $2, 'client', $3, $4, $5)";
        let now = now_ms();
        in_write_tx!(self, tx => {
            let done = sqlx::query(update)
                .bind(comment)
                .bind(now)
                .bind(order_id)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(history)
                .bind(order_id)
                .bind(client_id)
                .bind(comment)
                .bind(update_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// An order's history, oldest first: (time, action, from, to, actor, role, comment).
    pub async fn history(&self, order_id: i64) -> anyhow::Result<Vec<HistoryEntry>> {
        let sql = "SELECT at, action, from_status, to_status, actor_id, actor_role, comment
             FROM order_history WHERE order_id = $1 ORDER BY id";
        let rows: Vec<HistoryRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(order_id)
            .fetch_all(pool)
            .await?);
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
