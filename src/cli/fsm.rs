//! `repair-bot fsm stats` and `repair-bot fsm migrate`: the dialog store as
//! the operator sees it, and moving dialogs between SQLite and Redis (e.g.
//! when a single-host setup grows into a Redis deployment) without losing
//! a half-filled order.

use std::collections::BTreeMap;

use anyhow::{bail, Context};

use super::{Printer, StoreKind};
use crate::config::{Config, FsmBackend};
use crate::db::Database;
use crate::fsm::redis::RedisStorage;
use crate::fsm::sqlite::SqliteStorage;
use crate::fsm::{FsmStorage, SharedFsm};

/// An opened store and what to close after use.
struct Opened {
    store: SharedFsm,
    db: Option<Database>,
    /// How the store is named in output (URL masked).
    label: String,
}

impl Opened {
    async fn close(self) {
        self.store.close().await;
        if let Some(db) = self.db {
            db.close().await;
        }
    }
}

async fn open(config: &Config, kind: StoreKind) -> anyhow::Result<Opened> {
    match kind {
        StoreKind::Sqlite => {
            let db = Database::open_sqlite(&config.database_path).await?;
            let pool = db
                .sqlite_pool()
                .context("the SQLite dialog store needs the SQLite database")?
                .clone();
            Ok(Opened {
                store: std::sync::Arc::new(SqliteStorage::new(pool, config.fsm_ttl)),
                db: Some(db),
                label: format!("sqlite ({})", config.database_path.display()),
            })
        }
        StoreKind::Redis => {
            let url = config.redis_url.as_ref().context(
                "REDIS_URL is not set: it names the Redis store (e.g. redis://localhost:6379/0)",
            )?;
            let masked = url.masked();
            let store = async {
                let store =
                    RedisStorage::connect(url.expose(), &config.fsm_key_prefix, config.fsm_ttl)
                        .await?;
                store.ping().await?;
                Ok::<_, crate::fsm::StorageError>(store)
            }
            .await
            .with_context(|| {
                format!("Redis at {masked} does not answer — запустите Redis / проверьте REDIS_URL")
            })?;
            Ok(Opened {
                store: std::sync::Arc::new(store),
                db: None,
                label: format!("redis ({masked}, prefix {})", config.fsm_key_prefix),
            })
        }
    }
}

/// Prints the number of active dialogs per state and the total for the
/// store the bot is configured to use.
pub async fn stats(config: &Config, out: &Printer) -> anyhow::Result<()> {
    let kind = match config.fsm_backend {
        FsmBackend::Sqlite => StoreKind::Sqlite,
        FsmBackend::Redis => StoreKind::Redis,
        FsmBackend::Memory => bail!(
            "the dialog store is memory (DEV_MODE=true): dialogs live only inside the running bot \
             process and cannot be listed from outside"
        ),
    };
    let opened = open(config, kind).await?;
    let listed = opened.store.list().await;
    let label = opened.label.clone();
    opened.close().await;
    let dialogs = listed.with_context(|| format!("cannot list dialogs in {label}"))?;
    let mut per_state: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, dialog) in &dialogs {
        *per_state.entry(dialog.state.as_str()).or_default() += 1;
    }
    out.line(&format!("Хранилище диалогов / dialog store: {label}"));
    for (state, n) in &per_state {
        out.line(&format!("  {state}: {n}"));
    }
    out.line(&format!("Всего / total: {}", dialogs.len()));
    Ok(())
}

/// Copies every dialog from `from` to `to`, reads each copy back to verify
/// it, and (with `delete_source`) clears the source once all are verified.
pub async fn migrate(
    config: &Config,
    out: &Printer,
    from: StoreKind,
    to: StoreKind,
    delete_source: bool,
) -> anyhow::Result<()> {
    if from == to {
        bail!(
            "--from and --to are both {}: nothing to migrate",
            from.name()
        );
    }
    let source = open(config, from).await?;
    let target = match open(config, to).await {
        Ok(t) => t,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    let result = copy_all(&source, &target, out, delete_source).await;
    source.close().await;
    target.close().await;
    result
}

async fn copy_all(
    source: &Opened,
    target: &Opened,
    out: &Printer,
    delete_source: bool,
) -> anyhow::Result<()> {
    out.line(&format!(
        "Перенос диалогов / migrating dialogs: {} → {}",
        source.label, target.label
    ));
    let dialogs = source
        .store
        .list()
        .await
        .with_context(|| format!("cannot list dialogs in {}", source.label))?;
    for (key, dialog) in &dialogs {
        target.store.set(*key, dialog).await.with_context(|| {
            format!(
                "cannot write dialog {}:{} to {}",
                key.chat_id, key.user_id, target.label
            )
        })?;
        let back = target.store.get(*key).await.with_context(|| {
            format!(
                "cannot read back dialog {}:{} from {}",
                key.chat_id, key.user_id, target.label
            )
        })?;
        if back.as_ref() != Some(dialog) {
            bail!(
                "dialog {}:{} reads back differently from {}; the source is left untouched",
                key.chat_id,
                key.user_id,
                target.label
            );
        }
    }
    out.line(&format!(
        "✓ Перенесено и проверено / copied and verified: {} dialogs",
        dialogs.len()
    ));
    if delete_source {
        for (key, _) in &dialogs {
            source.store.clear(*key).await.with_context(|| {
                format!(
                    "copied, but cannot clear dialog {}:{} in {}",
                    key.chat_id, key.user_id, source.label
                )
            })?;
        }
        out.line(&format!(
            "✓ Источник очищен / source cleared: {} dialogs removed from {}",
            dialogs.len(),
            source.label
        ));
    }
    Ok(())
}
