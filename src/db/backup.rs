//! A consistent copy of the SQLite database while the bot writes:
//! `VACUUM INTO` reads one snapshot (a read transaction) and writes a
//! compacted file, never a half-written page; the copy is then checked with
//! `PRAGMA integrity_check` before it counts as a backup.

use std::path::Path;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Database, Pool};

impl Database {
    /// Writes a consistent copy of the database to `target` (which must not
    /// exist) and verifies it. PostgreSQL is backed up with `pg_dump`.
    pub async fn backup_into(&self, target: &Path) -> anyhow::Result<()> {
        let Pool::Sqlite { writer, .. } = &self.pool else {
            anyhow::bail!("PostgreSQL is backed up with pg_dump (see the README), not by the bot");
        };
        let path = target
            .to_str()
            .context("the backup path is not valid UTF-8")?
            .to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(&path)
            .execute(writer)
            .await
            .context("VACUUM INTO failed")?;
        verify(target).await
    }
}

/// `PRAGMA integrity_check` of a database file, opened read-only.
pub async fn verify(file: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a database", file.display()))?;
    conn.close().await.ok();
    anyhow::ensure!(
        verdict == "ok",
        "integrity check of {}: {verdict}",
        file.display()
    );
    Ok(())
}
