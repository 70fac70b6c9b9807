//! Orders, people, history and the notification outbox, in SQLite
//! (`DATABASE_PATH`, the default) or PostgreSQL (`DATABASE_URL`). All SQL
//! lives here; handlers call typed functions.
//!
//! Both backends run the same SQL text: it uses `$n` placeholders (SQLite
//! reads them as numbered parameters) and constructs both dialects share
//! (`IS NOT DISTINCT FROM`, `ON CONFLICT … DO NOTHING`, `RETURNING`). The few
//! dialect differences are chosen by [`DbKind`]. Each query body is compiled
//! once per backend by the `on_pool!` and `in_write_tx!` macros.

/// Runs `$body` with `$pool` bound to the backend's concrete pool
/// (`&SqlitePool` or `&PgPool`): the body is written once and compiled for each.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::db::Pool::Sqlite { readers: $pool, .. } => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// [`on_pool!`] for a single-statement write: on SQLite it runs on the one
/// writer connection (see [`Pool::Sqlite`]).
/// Its outcome is recorded for `/healthz` (see [`crate::health`]).
macro_rules! on_writer {
    ($db:expr, $pool:ident => $body:expr) => {{
        let result = match &$db.pool {
            $crate::db::Pool::Sqlite { writer: $pool, .. } => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        };
        $db.writes.record(&result);
        result
    }};
}

/// Runs `$body` with `$tx` bound to a write transaction of the backend in use.
/// `$body` is an `anyhow::Result` expression that commits before it succeeds;
/// leaving it early (`return`, `?`) leaves the body only and rolls back.
///
/// SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so two writers
/// queue on the busy timeout instead of one failing when it upgrades a read to
/// a write mid-transaction. PostgreSQL: a READ COMMITTED transaction; the
/// writes are compare-and-set UPDATEs and `ON CONFLICT` inserts, which wait
/// for a concurrent writer of the same row and then see its committed result.
///
/// A transaction that fails retires its connection instead of returning it to
/// the pool. When a COMMIT fails ("database or disk is full"), SQLite has
/// already rolled back, the ROLLBACK sent after it fails too, and sqlx would
/// keep counting the connection as inside a transaction: every later `BEGIN`
/// on it would fail until the pool retired it 30 minutes later. A fresh
/// connection costs one open, on a path that already failed.
macro_rules! in_write_tx {
    ($db:expr, $tx:ident => $body:expr) => {{
        let result = match &$db.pool {
            $crate::db::Pool::Sqlite { writer, .. } => match writer.acquire().await {
                Err(e) => Err(e.into()),
                Ok(mut conn) => {
                    let result: anyhow::Result<_> = async {
                        let mut $tx =
                            sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
                        $body
                    }
                    .await;
                    if result.is_err() {
                        conn.close_on_drop();
                    }
                    result
                }
            },
            $crate::db::Pool::Postgres(pool) => match pool.acquire().await {
                Err(e) => Err(e.into()),
                Ok(mut conn) => {
                    let result: anyhow::Result<_> = async {
                        let mut $tx = sqlx::Connection::begin(&mut *conn).await?;
                        $body
                    }
                    .await;
                    if result.is_err() {
                        conn.close_on_drop();
                    }
                    result
                }
            },
        };
        $db.writes.record(&result);
        result
    }};
}

mod backup;
mod clients;
mod edits;
mod groups;
mod import;
mod jobs;
mod masters;
mod orders;
mod outbox;
mod people;
mod reports;
mod stats;
mod transitions;

pub use backup::verify as verify_backup;
pub use clients::ClientSummary;
pub use edits::OrderEdit;
pub use groups::{Rebound, WorkGroup};
pub use import::{
    ImportOutcome, ImportedClient, ImportedMaster, ImportedMoney, ImportedOrder, ImportedPerson,
    ImportedRepair, ImportedStep, LegacyImport,
};
pub use jobs::{Fired, JobBacklog, JobOutcome};
pub use masters::MasterStats;
pub use orders::{NewOrder, Order, VisitBounds};
pub use outbox::{Document, GroupCard, Notification, OutboxItem};
pub use people::Person;
pub use stats::{Stats, StatsDay};
pub use transitions::{Applied, Change, HistoryEntry, StoredRepair};

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, SqlitePool};

use crate::config::{mask_url_password, ConfigError};
use crate::health::WriteHealth;
use crate::retry::{self, Retryable};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

pub use crate::clock::now_ms;

/// The statuses of `group` as an SQL list, `('assigned', 'in_progress')`:
/// queries take their status sets from the lifecycle, never spell them out.
/// The codes are the enum's own constants, so inlining them is safe.
pub(crate) fn status_list(group: crate::domain::StatusGroup) -> String {
    use crate::domain::Code;
    let codes: Vec<String> = group
        .statuses()
        .into_iter()
        .map(|s| format!("'{}'", s.code()))
        .collect();
    format!("({})", codes.join(", "))
}

/// How long start-up keeps trying to reach PostgreSQL while it refuses
/// connections (a container starting next to the bot) before giving up.
pub const POSTGRES_CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Which database holds the orders: decides the few SQL dialect differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// The connection pool of the backend in use.
#[derive(Clone)]
enum Pool {
    /// SQLite has a single write lock. When several connections race for it,
    /// the losers sleep in SQLite's busy handler (1, 2, 5 … 100 ms steps),
    /// which showed up as 50–100 ms stalls of whole update batches under load
    /// (docs/BENCHMARKS.md). So every write goes through one `writer`
    /// connection, queueing in the async pool instead; `readers` (WAL) never
    /// wait for it.
    Sqlite {
        readers: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// SQLite reader connections (each keeps its own page cache).
const SQLITE_READERS: u32 = 2;

/// Handle to the orders database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// Outcome of the last write, for `/healthz`.
    writes: Arc<WriteHealth>,
}

/// The columns of an [`Order`] row, in the order its `FromRow` reads them.
pub(crate) const ORDER_COLUMNS: &str = "id, client_id, client_chat_id, client_name, client_lang, equipment, description, \
    photo_file_id, address, phone, visit_time, status, master_id, work_done, total_kopecks, materials_kopecks, \
    master_kopecks, company_kopecks, master_percent, out_of_city, has_review, \
    repair_due_text, repair_due_at, repair_parts, repair_price_kopecks, prepayment_kopecks, rating, rating_comment, \
    created_at, updated_at, done_at, visit_from, visit_to, visit_window, client_ref, notes, refuse_reason, reschedules, legacy_number, deleted_at";

/// Embedded migrations: the binary carries its schema, nothing to install.
/// The two directories hold the same schema in each dialect.
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Runs the SQLite migrations on a connection of their own with foreign
/// keys off: a migration that rebuilds a table (SQLite's only way to change
/// a constraint) drops the old one while other tables still refer to it.
/// Each migration still runs in its own transaction; afterwards every
/// reference is checked, and a dangling one stops the start-up.
async fn migrate_sqlite(options: SqliteConnectOptions) -> anyhow::Result<()> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.foreign_keys(false))
        .await
        .context("cannot open the SQLite database")?;
    SQLITE_MIGRATOR
        .run(&pool)
        .await
        .context("cannot migrate (write to) the SQLite database")?;
    let dangling: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&pool)
        .await
        .context("cannot check the SQLite database")?;
    pool.close().await;
    if let Some((table,)) = dangling.first() {
        anyhow::bail!(
            "{} rows of table {table} refer to rows that do not exist (PRAGMA foreign_key_check)",
            dangling.len()
        );
    }
    Ok(())
}

impl Database {
    /// Opens (creating file and parent directory if missing) and migrates.
    /// Any failure names `DATABASE_PATH` (a [`ConfigError`]: exit code 2).
    /// A new directory is made `0700` and a new file `0600`: they hold
    /// clients' phones and addresses.
    pub async fn open_sqlite(path: &Path) -> anyhow::Result<Self> {
        Self::open_sqlite_inner(path).await.map_err(|e| {
            ConfigError::new(
                "DATABASE_PATH",
                format!(
                    "{}: {e:#}. Check that the file and its directory exist or can be created \
                     and are writable by the bot's user / проверьте, что файл базы и его папка \
                     доступны боту на запись",
                    path.display()
                ),
            )
            .into()
        })
    }

    async fn open_sqlite_inner(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .context("cannot create the database directory")?;
            }
        }
        if !path.exists() {
            // SQLite gives its -wal and -shm files the mode of the database.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).context("cannot create the database file"),
            }
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .context("not a usable path")?
            .create_if_missing(true)
            // WAL: readers never block the writer; NORMAL sync is crash-safe
            // for a process crash (only an OS crash may lose the last commit).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 1 MB page cache per connection instead of 2 MB: lookups go by
            // index, the OS caches the file anyway, and the bot's resident
            // memory stays small (docs/BENCHMARKS.md).
            .pragma("cache_size", "-1024");
        let open = |connections: u32| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                // A local file does not hang up: the ping sqlx sends before
                // each use would only cost a round trip to the connection's
                // thread per query (docs/BENCHMARKS.md).
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        migrate_sqlite(options.clone()).await?;
        let writer = open(1).await.context("cannot open the SQLite database")?;
        let readers = open(SQLITE_READERS)
            .await
            .context("cannot open the SQLite database")?;
        Ok(Self {
            pool: Pool::Sqlite { readers, writer },
            writes: Arc::default(),
        })
    }

    /// Connects to PostgreSQL (`DATABASE_URL`) and migrates, retrying for
    /// [`POSTGRES_CONNECT_PATIENCE`] while the server refuses connections.
    /// Errors name the URL with its password masked and say what to check.
    pub async fn open_postgres(url: &str) -> anyhow::Result<Self> {
        Self::open_postgres_with_patience(url, POSTGRES_CONNECT_PATIENCE).await
    }

    /// [`Database::open_postgres`] with a chosen retry window (tests use none).
    pub async fn open_postgres_with_patience(
        url: &str,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let masked = mask_url_password(url);
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            anyhow::anyhow!(
                "DATABASE_URL {masked} is not a valid PostgreSQL URL ({e}); expected \
                 postgres://USER:PASSWORD@HOST:5432/DATABASE / неверный DATABASE_URL"
            )
        })?;
        let mut attempt = 0u32;
        // One plain connection first: its error says what is wrong
        // ("Connection refused", "password authentication failed"), where the
        // pool would only report that it timed out.
        let deadline = retry::Deadline::after(patience);
        let first = (|| options.connect())
            .retry(retry::while_starting())
            // Only an unreachable server may come up by itself; a wrong
            // password or a missing database will not.
            .when(|e| matches!(e, sqlx::Error::Io(_)) && deadline.open())
            .notify(|e, _| {
                attempt += 1;
                tracing::warn!(attempt, error = %e, "PostgreSQL недоступен ({masked}), повторная попытка...");
            })
            .await;
        match first {
            Ok(conn) => {
                let _ = conn.close().await;
            }
            Err(e) => anyhow::bail!(
                "Не удалось подключиться к PostgreSQL ({masked}): {e}. Проверьте: запущен ли \
                 PostgreSQL (pg_isready -h HOST -p PORT), верен ли DATABASE_URL (хост, порт, \
                 пользователь, пароль, имя базы), существует ли база; или уберите DATABASE_URL, \
                 чтобы хранить заявки в SQLite (DATABASE_PATH). / Cannot connect to PostgreSQL \
                 at {masked}: is the server running and reachable, are the user, password and \
                 database in DATABASE_URL right? Unset DATABASE_URL to keep orders in SQLite."
            ),
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot open a connection pool to PostgreSQL {masked}: {e}")
            })?;
        if let Err(e) = POSTGRES_MIGRATOR.run(&pool).await {
            pool.close().await;
            anyhow::bail!(
                "cannot migrate the PostgreSQL database {masked}: {e}. The user needs the right \
                 to create tables in the first schema of its search_path / нет прав на создание таблиц"
            );
        }
        Ok(Self {
            pool: Pool::Postgres(pool),
            writes: Arc::default(),
        })
    }

    /// Whether writes to the orders database go through (for `/healthz`).
    pub fn write_health(&self) -> &WriteHealth {
        &self.writes
    }

    /// Which backend holds the orders.
    pub fn kind(&self) -> DbKind {
        match self.pool {
            Pool::Sqlite { .. } => DbKind::Sqlite,
            Pool::Postgres(_) => DbKind::Postgres,
        }
    }

    /// The SQLite writer, shared with the SQLite FSM backend (most of its
    /// calls write, and must queue with the other writes); `None` when the
    /// orders are in PostgreSQL.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite { writer, .. } => Some(writer),
            Pool::Postgres(_) => None,
        }
    }

    /// Proves the database takes writes without leaving a trace (for
    /// `repair-bot check`): a table is created and written inside a
    /// transaction that is rolled back. DDL is transactional in both engines.
    pub async fn probe_write(&self) -> Result<(), sqlx::Error> {
        const CREATE: &str = "CREATE TABLE repair_bot_check_probe (x INTEGER)";
        const INSERT: &str = "INSERT INTO repair_bot_check_probe (x) VALUES (1)";
        match &self.pool {
            Pool::Sqlite { writer: pool, .. } => {
                let mut tx = pool.begin().await?;
                sqlx::query(CREATE).execute(&mut *tx).await?;
                sqlx::query(INSERT).execute(&mut *tx).await?;
                tx.rollback().await
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(CREATE).execute(&mut *tx).await?;
                sqlx::query(INSERT).execute(&mut *tx).await?;
                tx.rollback().await
            }
        }
    }

    /// The PostgreSQL pool when the orders are there (tests, operator tools).
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Sqlite { .. } => None,
            Pool::Postgres(pool) => Some(pool),
        }
    }

    /// Checks the database answers (health check, `repair-bot check`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite { readers, writer } => {
                readers.close().await;
                writer.close().await;
            }
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests;
