//! Orders, people, history and the notification outbox, in SQLite
//! (`DATABASE_PATH`). All SQL lives here; handlers call typed functions.

mod orders;
mod outbox;
mod people;
mod stats;
mod transitions;

pub use orders::{NewOrder, Order};
pub use outbox::{Notification, OutboxItem};
pub use people::Person;
pub use stats::Stats;
pub use transitions::{Applied, Change, HistoryEntry};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Milliseconds since the Unix epoch: the time format of every table.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Handle to the orders database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    /// Readers (WAL: they never wait for the writer).
    pool: SqlitePool,
    /// The one connection that writes. SQLite has a single write lock; when
    /// several connections race for it, the losers sleep in SQLite's busy
    /// handler (1, 2, 5 ... 100 ms steps), which showed up as 50-100 ms stalls
    /// of whole update batches under load (docs/BENCHMARKS.md). Queueing
    /// writers here, in the async pool, costs nothing of the sort.
    writer: SqlitePool,
}

/// Reader connections (each has its own page cache of up to 2 MB).
const READERS: u32 = 2;

/// Embedded migrations: the binary carries its schema, nothing to install.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Database {
    /// Opens (creating file and parent directory if missing) and migrates.
    pub async fn open_sqlite(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| {
                format!("cannot create the database directory {}", parent.display())
            })?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .with_context(|| format!("bad DATABASE_PATH {}", path.display()))?
            .create_if_missing(true)
            // WAL: readers never block the writer; NORMAL sync is crash-safe
            // for a process crash (only an OS crash may lose the last commit).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        MIGRATOR
            .run(&writer)
            .await
            .with_context(|| format!("cannot migrate the SQLite database {}", path.display()))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        Ok(Self { pool, writer })
    }

    /// The SQLite pool for the SQLite FSM backend: the writer, since most of
    /// its calls write and must queue with the other writes.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        Some(&self.writer)
    }

    /// Checks the database answers a write (health check, `repair-bot check`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction that takes SQLite's write lock up front
    /// (`BEGIN IMMEDIATE`): two writers then queue on the busy timeout instead
    /// of one failing when it upgrades a read to a write mid-transaction.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Connections for reads.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The connection for single-statement writes (see [`Database::writer`]'s field).
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

#[cfg(test)]
mod tests;
