//! Dialog state in the orders SQLite database (table `fsm_state`): persistent
//! with no external service, so a bot started with only a token survives restarts.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;

use super::{DialogKey, FsmStorage, StorageError, StoredDialog};
use crate::config::FsmBackend;

/// Dialogs as rows of `fsm_state`, one per (chat, user).
pub struct SqliteStorage {
    pool: SqlitePool,
    ttl: Option<Duration>,
}

impl SqliteStorage {
    /// Uses the orders database pool; its migrations created `fsm_state`.
    pub fn new(pool: SqlitePool, ttl: Option<Duration>) -> Self {
        Self { pool, ttl }
    }

    /// The pool this store writes to (tests look at the table itself).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn now_ms() -> i64 {
    crate::db::now_ms()
}

/// [`FsmStorage::finish`] inside one transaction on `conn`.
async fn finish_on(
    conn: &mut sqlx::SqliteConnection,
    key: DialogKey,
    update_id: i64,
) -> Result<(), StorageError> {
    let mut tx = sqlx::Connection::begin(conn).await.map_err(map_err)?;
    sqlx::query("DELETE FROM fsm_state WHERE chat_id = ? AND user_id = ?")
        .bind(key.chat_id)
        .bind(key.user_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO fsm_finished (chat_id, user_id, last_update_id, expires_at)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (chat_id, user_id) DO UPDATE SET
           last_update_id = excluded.last_update_id, expires_at = excluded.expires_at",
    )
    .bind(key.chat_id)
    .bind(key.user_id)
    .bind(update_id)
    .bind(now_ms() + super::FINISHED_MEMORY.as_millis() as i64)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

fn map_err(e: sqlx::Error) -> StorageError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StorageError::Unavailable(e.to_string())
        }
        other => StorageError::Backend(other.to_string()),
    }
}

#[async_trait]
impl FsmStorage for SqliteStorage {
    async fn get(&self, key: DialogKey) -> Result<Option<StoredDialog>, StorageError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT state, data FROM fsm_state
             WHERE chat_id = ? AND user_id = ? AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(key.chat_id)
        .bind(key.user_id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.map(|(state, data)| StoredDialog { state, data }))
    }

    async fn set(&self, key: DialogKey, dialog: &StoredDialog) -> Result<(), StorageError> {
        let now = now_ms();
        let expires = self.ttl.map(|ttl| now + ttl.as_millis() as i64);
        sqlx::query(
            "INSERT INTO fsm_state (chat_id, user_id, state, data, updated_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (chat_id, user_id) DO UPDATE SET
               state = excluded.state, data = excluded.data,
               updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        )
        .bind(key.chat_id)
        .bind(key.user_id)
        .bind(&dialog.state)
        .bind(&dialog.data)
        .bind(now)
        .bind(expires)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn clear(&self, key: DialogKey) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM fsm_state WHERE chat_id = ? AND user_id = ?")
            .bind(key.chat_id)
            .bind(key.user_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn finish(&self, key: DialogKey, update_id: i64) -> Result<(), StorageError> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let result = finish_on(&mut conn, key, update_id).await;
        if result.is_err() {
            // A failed COMMIT leaves sqlx counting the connection as inside a
            // transaction (see `in_write_tx!` in db): retire it.
            conn.close_on_drop();
        }
        result
    }

    async fn finished_through(&self, key: DialogKey) -> Result<Option<i64>, StorageError> {
        sqlx::query_scalar(
            "SELECT last_update_id FROM fsm_finished
             WHERE chat_id = ? AND user_id = ? AND expires_at > ?",
        )
        .bind(key.chat_id)
        .bind(key.user_id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn list(&self) -> Result<Vec<(DialogKey, StoredDialog)>, StorageError> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT chat_id, user_id, state, data FROM fsm_state
             WHERE expires_at IS NULL OR expires_at > ? ORDER BY chat_id, user_id",
        )
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(chat_id, user_id, state, data)| {
                (DialogKey { chat_id, user_id }, StoredDialog { state, data })
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn purge_expired(&self) -> Result<u64, StorageError> {
        let done =
            sqlx::query("DELETE FROM fsm_state WHERE expires_at IS NOT NULL AND expires_at <= ?")
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    fn backend(&self) -> FsmBackend {
        FsmBackend::Sqlite
    }
}
