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
