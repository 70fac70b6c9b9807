//! Dialog state in Redis, in the runbook's layout:
//! `{prefix}:fsm:state:{chat}:{user}` holds `OrderState:description`,
//! `{prefix}:fsm:data:{chat}:{user}` holds the JSON object of collected fields.
//!
//! Writes are one `MULTI`/`EXEC` (state and data never disagree), reads are
//! one `MGET` (one round trip). The connection manager reconnects by itself
//! after Redis restarts; while it is down every call fails with
//! [`StorageError::Unavailable`] and nothing is reset.
//!
//! The connection manager only starts reconnecting when a call fails, and the
//! call that finds a dead (or failed-reconnect) connection gets that error
//! back. Every command here is idempotent (`MGET`, `SET`s in `MULTI`, `DEL`),
//! so a call that hits a stale connection is sent once more on the fresh one:
//! the first message after Redis comes back continues the dialog instead of
//! being told "unavailable" a second time. Timeouts are not retried, so a hung
//! Redis costs a user at most one [`RESPONSE_TIMEOUT`].

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, FromRedisValue, RedisResult};

use super::keys::KeyLayout;
use super::{DialogKey, FsmStorage, StorageError, StoredDialog};
use crate::config::FsmBackend;

/// Redis-backed dialog store.
pub struct RedisStorage {
    conn: ConnectionManager,
    layout: KeyLayout,
    ttl: Option<Duration>,
}

/// Per-command deadline: a hung Redis must not hang a user's update forever.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

impl RedisStorage {
    /// Connects (one attempt, bounded by a timeout); the caller decides how
    /// often to retry at start-up.
    pub async fn connect(
        url: &str,
        prefix: &str,
        ttl: Option<Duration>,
    ) -> Result<Self, StorageError> {
        let client = redis::Client::open(url).map_err(|e| StorageError::Backend(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(RESPONSE_TIMEOUT)
            // Reconnection attempts inside one call stay short: the user gets
            // "briefly unavailable" quickly instead of a hanging chat.
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(map_err)?;
        Ok(Self {
            conn,
            layout: KeyLayout::new(prefix),
            ttl,
        })
    }

    /// A handle on the same self-healing connection, for the locks that
    /// coordinate replicas (see [`super::locks`]).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The key layout in use (tests and tooling inspect keys directly).
    pub fn layout(&self) -> &KeyLayout {
        &self.layout
    }

    /// `INFO server` → `redis_version`, and whether AOF is on; for `repair-bot check`.
    pub async fn server_facts(&self) -> Result<(String, bool), StorageError> {
        let mut conn = self.conn.clone();
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await
            .map_err(map_err)?;
        let persistence: String = redis::cmd("INFO")
            .arg("persistence")
            .query_async(&mut conn)
            .await
            .map_err(map_err)?;
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
                .map(|v| v.trim().to_string())
        };
        let version = field(&info, "redis_version").unwrap_or_default();
        let aof = field(&persistence, "aof_enabled").as_deref() == Some("1");
        Ok((version, aof))
    }
}

/// True when `e` says the connection itself is gone (refused, reset, a failed
/// reconnect), not that Redis answered or was slow: such a call is worth one
/// more try, which waits for the reconnection the manager has just started.
fn is_stale_connection(e: &redis::RedisError) -> bool {
    (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal()) && !e.is_timeout()
}

impl RedisStorage {
    /// Sends `cmd`, once more if the connection turned out to be stale.
    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StorageError> {
        let first: RedisResult<T> = cmd.query_async(&mut self.conn.clone()).await;
        match first {
            Err(e) if is_stale_connection(&e) => {
                tracing::debug!(error = %e, "Redis connection was stale; retrying once");
                cmd.query_async(&mut self.conn.clone())
                    .await
                    .map_err(map_err)
            }
            other => other.map_err(map_err),
        }
    }

    /// Sends `pipe` (a `MULTI`/`EXEC` of idempotent writes), once more if the
    /// connection turned out to be stale.
    async fn query_pipe(&self, pipe: &redis::Pipeline) -> Result<(), StorageError> {
        let first: RedisResult<()> = pipe.query_async(&mut self.conn.clone()).await;
        match first {
            Err(e) if is_stale_connection(&e) => {
                tracing::debug!(error = %e, "Redis connection was stale; retrying once");
                pipe.query_async(&mut self.conn.clone())
                    .await
                    .map_err(map_err)
            }
            other => other.map_err(map_err),
        }
    }
}

pub(crate) fn map_err(e: redis::RedisError) -> StorageError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        StorageError::Unavailable(e.to_string())
    } else if matches!(
        e.kind(),
        redis::ErrorKind::BusyLoadingError | redis::ErrorKind::TryAgain
    ) {
        // Redis replaying its AOF after a restart answers LOADING: transient.
        StorageError::Unavailable(e.to_string())
    } else {
        StorageError::Backend(e.to_string())
    }
}

#[async_trait]
impl FsmStorage for RedisStorage {
    async fn get(&self, key: DialogKey) -> Result<Option<StoredDialog>, StorageError> {
        let mut cmd = redis::cmd("MGET");
        cmd.arg(self.layout.state_key(key))
            .arg(self.layout.data_key(key));
        let (state, data): (Option<String>, Option<String>) = self.query(&cmd).await?;
        Ok(state.map(|state| StoredDialog {
            state,
            data: data.unwrap_or_else(|| "{}".into()),
        }))
    }

    async fn set(&self, key: DialogKey, dialog: &StoredDialog) -> Result<(), StorageError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        match self.ttl {
            Some(ttl) => {
                let secs = ttl.as_secs().max(1);
                pipe.set_ex(self.layout.state_key(key), &dialog.state, secs)
                    .ignore();
                pipe.set_ex(self.layout.data_key(key), &dialog.data, secs)
                    .ignore();
            }
            None => {
                pipe.set(self.layout.state_key(key), &dialog.state).ignore();
                pipe.set(self.layout.data_key(key), &dialog.data).ignore();
            }
        }
        self.query_pipe(&pipe).await
    }

    async fn clear(&self, key: DialogKey) -> Result<(), StorageError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.layout.state_key(key))
            .arg(self.layout.data_key(key));
        self.query::<()>(&cmd).await
    }

    async fn finish(&self, key: DialogKey, update_id: i64) -> Result<(), StorageError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.del(self.layout.state_key(key)).ignore();
        pipe.del(self.layout.data_key(key)).ignore();
        pipe.set_ex(
            self.layout.finished_key(key),
            update_id,
            super::FINISHED_MEMORY.as_secs(),
        )
        .ignore();
        self.query_pipe(&pipe).await
    }

    async fn finished_through(&self, key: DialogKey) -> Result<Option<i64>, StorageError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.layout.finished_key(key));
        self.query(&cmd).await
    }

    /// One round trip for the dialog and the finished mark.
    async fn load(&self, key: DialogKey) -> Result<super::Loaded, StorageError> {
        let mut cmd = redis::cmd("MGET");
        cmd.arg(self.layout.state_key(key))
            .arg(self.layout.data_key(key))
            .arg(self.layout.finished_key(key));
        let (state, data, finished): (Option<String>, Option<String>, Option<i64>) =
            self.query(&cmd).await?;
        Ok(match state {
            Some(state) => super::Loaded {
                dialog: Some(StoredDialog {
                    state,
                    data: data.unwrap_or_else(|| "{}".into()),
                }),
                finished_through: None,
            },
            None => super::Loaded {
                dialog: None,
                finished_through: finished,
            },
        })
    }

    async fn list(&self) -> Result<Vec<(DialogKey, StoredDialog)>, StorageError> {
        let mut conn = self.conn.clone();
        let mut keys = Vec::new();
        {
            let mut iter: redis::AsyncIter<String> = conn
                .scan_match(self.layout.state_pattern())
                .await
                .map_err(map_err)?;
            while let Some(k) = futures::StreamExt::next(&mut iter).await {
                let k = k.map_err(map_err)?;
                if let Some(key) = self.layout.parse_state_key(&k) {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let mut cmd = redis::cmd("MGET");
            for key in chunk {
                cmd.arg(self.layout.state_key(*key))
                    .arg(self.layout.data_key(*key));
            }
            let values: Vec<Option<String>> = cmd.query_async(&mut conn).await.map_err(map_err)?;
            for (key, pair) in chunk.iter().zip(values.chunks(2)) {
                if let Some(state) = pair[0].clone() {
                    let data = pair
                        .get(1)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "{}".into());
                    out.push((*key, StoredDialog { state, data }));
                }
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.query::<String>(&redis::cmd("PING")).await?;
        Ok(())
    }

    fn backend(&self) -> FsmBackend {
        FsmBackend::Redis
    }
}
