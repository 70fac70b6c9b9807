use serde::{Deserialize, Serialize};
use sqlx::{Encode, QueryBuilder, Type};

use super::{now_ms, Database};

/// Ids per `UPDATE … IN (…)`: well under SQLite's bound-parameter limit.
const MARK_CHUNK: usize = 500;

/// A message to deliver later through the outbox: plain text (never parsed as
/// HTML, so user input cannot break it) and optional inline buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub chat_id: i64,
    pub text: String,
    /// Rows of (label, callback data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Vec<(String, String)>>,
    /// Set when this message is an order's card in a master's work group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<GroupCard>,
    /// A file sent with the text as its caption (a scheduled report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
}

/// A file an outbox row sends: made when the row is written (the report of
/// a period as it stood then), so a re-send after a crash sends the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    #[serde(rename = "n")]
    pub file_name: String,
    /// The bytes, base64 (standard alphabet, padded).
    #[serde(rename = "b")]
    pub base64: String,
}

impl Document {
    /// A document of `bytes` named `file_name`.
    pub fn new(file_name: String, bytes: &[u8]) -> Self {
        use base64::Engine;
        Self {
            file_name,
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The bytes; `None` for a damaged row.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.base64)
            .ok()
    }
}

/// An order's card in a work group: posted once, then edited in place as
/// the order moves, with the master named by a mention that notifies them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCard {
    #[serde(rename = "o")]
    pub order_id: i64,
    /// The master to mention (user id, name): the text starts with the name.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<(i64, String)>,
    /// A new card to post (the assignment, "the client is waiting"), which
    /// becomes the one edited from then on; otherwise the card is edited.
    #[serde(rename = "f", default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}

/// An outbox row due for delivery.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub notification: Notification,
    pub attempts: i64,
}

/// Notifications with the JSON the outbox stores for each: serialized once,
/// both bound by the insert and matched against what it returns.
pub(super) type Payloads = Vec<(Notification, String)>;

/// Serializes `notes` for [`enqueue_query`].
pub(super) fn payloads(notes: Vec<Notification>) -> anyhow::Result<Payloads> {
    notes
        .into_iter()
        .map(|note| {
            let payload = serde_json::to_string(&note)?;
            Ok((note, payload))
        })
        .collect()
}

/// The outbox insert of `rows` as one multi-row statement (one round trip
/// whatever their number), for either backend; `None` when there is nothing
/// to queue. The caller runs it inside the transaction of the change it
/// announces.
pub(super) fn enqueue_query<DB>(rows: &Payloads, now: i64) -> Option<QueryBuilder<'static, DB>>
where
    DB: sqlx::Database,
    i64: Encode<'static, DB> + Type<DB>,
    String: Encode<'static, DB> + Type<DB>,
{
    if rows.is_empty() {
        return None;
    }
    let mut insert =
        QueryBuilder::new("INSERT INTO outbox (chat_id, payload, created_at, next_attempt_at) ");
    insert.push_values(rows, |mut row, (note, payload)| {
        row.push_bind(note.chat_id)
            .push_bind(payload.clone())
            .push_bind(now)
            .push_bind(now);
    });
    Some(insert)
}

/// Pairs the rows an insert returned (id, payload; in no promised order)
/// with the notifications they store; sorted by id, i.e. in queue order.
pub(super) fn queued_items(rows: Payloads, returned: Vec<(i64, String)>) -> Vec<OutboxItem> {
    let mut rows: Vec<Option<(Notification, String)>> = rows.into_iter().map(Some).collect();
    let mut items = Vec::with_capacity(returned.len());
    for (id, payload) in returned {
        let slot = rows
            .iter_mut()
            .find(|slot| matches!(slot, Some((_, p)) if *p == payload));
        if let Some((notification, _)) = slot.and_then(Option::take) {
            items.push(OutboxItem {
                id,
                notification,
                attempts: 0,
            });
        }
    }
    items.sort_by_key(|item| item.id);
    items
}

impl Database {
    /// Queues notifications on their own (no other change to commit with them).
    pub async fn enqueue(&self, notes: &[Notification]) -> anyhow::Result<()> {
        in_write_tx!(self, tx => {
            if let Some(mut insert) = enqueue_query(&payloads(notes.to_vec())?, now_ms()) {
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Notifications whose time has come, oldest first.
    pub async fn due_notifications(&self, limit: i64) -> anyhow::Result<Vec<OutboxItem>> {
        self.due_notifications_fair(limit, limit).await
    }

    /// Like [`Database::due_notifications`], but at most `per_chat` of each
    /// chat: one busy chat (a dispatcher getting every new order) cannot fill
    /// the batch and hold up other people's messages behind its backlog.
    pub async fn due_notifications_fair(
        &self,
        limit: i64,
        per_chat: i64,
    ) -> anyhow::Result<Vec<OutboxItem>> {
        let sql = "SELECT id, payload, attempts FROM (
               SELECT id, payload, attempts,
                      ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY id) AS place
               FROM outbox
               WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1
                 -- A chat's messages keep their order: none overtakes an
                 -- earlier one waiting for its retry.
                 AND NOT EXISTS (
                   SELECT 1 FROM outbox earlier
                   WHERE earlier.chat_id = outbox.chat_id AND earlier.id < outbox.id
                     AND earlier.sent_at IS NULL AND earlier.given_up_at IS NULL
                     AND earlier.next_attempt_at > $1)
             ) due
             WHERE place <= $2
             ORDER BY id LIMIT $3";
        let now = now_ms();
        let rows: Vec<(i64, String, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(now)
            .bind(per_chat)
            .bind(limit)
            .fetch_all(pool)
            .await?);
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

    /// Marks several notifications delivered in one statement: the outbox
    /// worker records a burst of deliveries with one write instead of one
    /// write each on SQLite's single writer connection.
    pub async fn mark_sent_many(&self, ids: &[i64]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        for chunk in ids.chunks(MARK_CHUNK) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = format!(
                "UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id IN ({})",
                placeholders.join(", ")
            );
            on_writer!(self, pool => {
                let mut query = sqlx::query(&sql).bind(now);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.execute(pool).await.map(drop)
            })?;
        }
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn retry_later(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: i64,
    ) -> anyhow::Result<()> {
        let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(error)
            .bind(next_attempt_at)
            .bind(id)
            .execute(pool)
            .await.map(drop))?;
        Ok(())
    }

    /// Stops retrying a notification Telegram will never accept.
    pub async fn give_up(&self, id: i64, error: &str) -> anyhow::Result<()> {
        let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = $1, given_up_at = $2 WHERE id = $3";
        let now = now_ms();
        on_writer!(self, pool => sqlx::query(sql)
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await.map(drop))?;
        Ok(())
    }

    /// Deletes notifications delivered or given up before `cutoff_ms`: they
    /// hold the full texts sent (phones, addresses) and are of no use once
    /// settled. Returns how many rows went.
    pub async fn purge_settled_notifications(&self, cutoff_ms: i64) -> anyhow::Result<u64> {
        let sql = "DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < $1)
             OR (given_up_at IS NOT NULL AND given_up_at < $1)";
        let done = on_writer!(self, pool => sqlx::query(sql)
            .bind(cutoff_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done)
    }

    /// Notifications not yet delivered nor given up (metrics, health).
    pub async fn outbox_backlog(&self) -> anyhow::Result<i64> {
        let sql = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL";
        on_pool!(self, pool => Ok(sqlx::query_scalar(sql).fetch_one(pool).await?))
    }
}
