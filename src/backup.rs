//! Backups of the SQLite database: taken daily by the scheduler
//! (`BACKUP_AT`, shop time) or on demand (`repair-bot backup`), each a
//! consistent copy verified before it counts, kept `BACKUP_KEEP_DAYS` days
//! in `BACKUP_DIR`; and `repair-bot restore FILE`, which refuses while a
//! bot has the database open and keeps the file it replaces.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::db::Database;

/// File names of backups start with this, so pruning touches nothing else.
const PREFIX: &str = "repair-bot-";

/// A backup taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub path: PathBuf,
    pub bytes: u64,
    /// Old backups deleted after it.
    pub pruned: usize,
}

/// Takes a verified backup into `dir` (created if missing), then deletes
/// the backups older than `keep`.
pub async fn take(db: &Database, dir: &Path, keep: Duration) -> anyhow::Result<Taken> {
    // A backup holds every phone and address: private, like the database.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H%M%S%.3fZ");
    let path = dir.join(format!("{PREFIX}{stamp}.db"));
    let partial = dir.join(format!(".{PREFIX}{stamp}.db.partial"));
    let _ = std::fs::remove_file(&partial);
    if let Err(e) = db.backup_into(&partial).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))
        .context("cannot make the backup private")?;
    // Only a verified copy gets a backup's name.
    std::fs::rename(&partial, &path).context("cannot name the backup")?;
    let bytes = std::fs::metadata(&path)?.len();
    let pruned = prune(dir, keep, &path);
    tracing::info!(path = %path.display(), bytes, pruned, "backup taken");
    Ok(Taken {
        path,
        bytes,
        pruned,
    })
}

/// Deletes backups in `dir` older than `keep` (never `newest`).
fn prune(dir: &Path, keep: Duration, newest: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let cutoff = SystemTime::now()
        .checked_sub(keep)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut pruned = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".db"));
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at < cutoff);
        if ours && old && path != newest && std::fs::remove_file(&path).is_ok() {
            pruned += 1;
        }
    }
    pruned
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn flock(file: &File, how: libc::c_int) -> bool {
    // SAFETY: flock on a descriptor this process owns; no memory involved.
    unsafe { libc::flock(file.as_raw_fd(), how | libc::LOCK_NB) == 0 }
}

/// Marks the database as in use by this process for as long as it runs
/// (a shared lock on `<DATABASE_PATH>.lock`), so that a restore refuses.
pub fn mark_in_use(database: &Path) {
    static HELD: OnceLock<File> = OnceLock::new();
    if HELD.get().is_some() {
        return;
    }
    match File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(database))
    {
        Ok(file) if flock(&file, libc::LOCK_SH) => {
            let _ = HELD.set(file);
        }
        Ok(_) => tracing::warn!("the database is being restored; it may change under the bot"),
        Err(e) => tracing::warn!(error = %e, "cannot create the database's lock file"),
    }
}

/// Replaces the database at `database` with the backup `file`: refused
/// while a bot (or a backup) has it open, or when `file` is not a sound
/// database; the replaced file is kept beside it. Returns where.
pub async fn restore(database: &Path, file: &Path) -> anyhow::Result<PathBuf> {
    crate::db::verify_backup(file).await?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(database))
        .context("cannot create the database's lock file")?;
    anyhow::ensure!(
        flock(&lock, libc::LOCK_EX),
        "a bot is running on {} — stop it first",
        database.display()
    );
    let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H%M%SZ");
    let mut kept = database.as_os_str().to_owned();
    kept.push(format!(".replaced-{stamp}"));
    let kept = PathBuf::from(kept);
    if database.exists() {
        std::fs::rename(database, &kept)
            .with_context(|| format!("cannot move {} aside", database.display()))?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::copy(file, database)
        .with_context(|| format!("cannot copy {} into place", file.display()))?;
    Ok(kept)
}
