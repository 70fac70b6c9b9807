use serde::{Deserialize, Serialize};
use sqlx::{Sqlite, Transaction};

use super::{now_ms, Database};

/// A message to deliver later through the outbox: plain text (never parsed as
/// HTML, so user input cannot break it) and optional inline buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub chat_id: i64,
    pub text: String,
    /// Rows of (label, callback data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<(String, String)>>,
}

/// An outbox row due for delivery.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub notification: Notification,
    pub attempts: i64,
}

impl Database {
    pub(crate) async fn enqueue_in(
        tx: &mut Transaction<'_, Sqlite>,
        note: &Notification,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO outbox (chat_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?)")
            .bind(note.chat_id)
            .bind(serde_json::to_string(note)?)
            .bind(now)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Queues notifications on their own (no other change to commit with them).
    pub async fn enqueue(&self, notes: &[Notification]) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        for note in notes {
            Self::enqueue_in(&mut tx, note, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Notifications whose time has come, oldest first.
    pub async fn due_notifications(&self, limit: i64) -> anyhow::Result<Vec<OutboxItem>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, payload, attempts FROM outbox
             WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?
             ORDER BY id LIMIT ?",
        )
        .bind(now_ms())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for (id, payload, attempts) in rows {
            match serde_json::from_str(&payload) {
                Ok(notification) => items.push(OutboxItem {
                    id,
                    notification,
                    attempts,
                }),
                Err(e) => {
                    tracing::error!(outbox_id = id, error = %e, "undecodable outbox payload; giving up on it");
                    self.give_up(id, &format!("undecodable payload: {e}"))
                        .await?;
                }
            }
        }
        Ok(items)
    }

    /// Marks a notification delivered.
    pub async fn mark_sent(&self, id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn retry_later(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: i64,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?")
            .bind(error)
            .bind(next_attempt_at)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Stops retrying a notification Telegram will never accept.
    pub async fn give_up(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, given_up_at = ? WHERE id = ?")
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Notifications not yet delivered nor given up (metrics, health).
    pub async fn outbox_backlog(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL",
        )
        .fetch_one(self.pool())
        .await?)
    }
}
