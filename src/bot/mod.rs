//! The Telegram side, one room per job. Updates flow one way:
//! [`intake`] (polling, webhook intake, per-user queues, the flood gate) →
//! [`handlers`] (routing and one room of handlers per role) → [`ui`] (texts,
//! keyboards, cards, the callback codec) and [`output`] (replies and the
//! outbox worker). [`BotContext`], [`incoming`] and the Bot API client
//! [`api`] are what every room shares.

pub mod api;
pub mod handlers;
pub mod incoming;
pub mod intake;
pub mod output;
pub mod ui;

use std::sync::Arc;

use teloxide::Bot;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::db::Database;
use crate::fsm::SharedFsm;
use crate::health::IntakeHealth;
use incoming::Incoming;
use ui::texts::Texts;

/// Requests to Telegram (other than `getUpdates`) in flight at once. Each
/// one holds an HTTP connection, and the client keeps every connection it
/// ever opened; without a cap a burst of updates opened ~230 of them, a few
/// MB of buffers (docs/BENCHMARKS.md). Telegram accepts ~30 messages a second
/// per bot, so this cap is never what slows real traffic down.
pub const MAX_API_REQUESTS: usize = 48;

/// Everything a handler needs, shared by all updates.
#[derive(Clone)]
pub struct BotContext {
    pub bot: Bot,
    pub db: Database,
    pub fsm: SharedFsm,
    pub texts: Arc<Texts>,
    /// Ids from `ADMIN_IDS` (always admins, whatever the database says).
    pub admin_ids: Arc<Vec<i64>>,
    /// Ids from `DISPATCHER_IDS`.
    pub dispatcher_ids: Arc<Vec<i64>>,
    /// Tells the outbox worker about notifications right after a change
    /// queued them.
    pub outbox: Arc<output::outbox::Feed>,
    /// Requests to Telegram in flight at once (see [`MAX_API_REQUESTS`]).
    pub api_slots: Arc<Semaphore>,
    /// Orders one client may file per hour; 0 = unlimited.
    pub max_orders_per_hour: u32,
    /// When reminders and escalations fall due (see [`crate::domain::schedule`]).
    pub thresholds: Arc<crate::domain::schedule::Thresholds>,
    /// Where daily backups go and how long they are kept (`None`: the
    /// orders are in PostgreSQL, backed up with `pg_dump`).
    pub backups: Option<Arc<(std::path::PathBuf, std::time::Duration)>>,
    /// How a closed order's net is split (`MONEY_RULES_FILE` or the shop's defaults).
    pub split_rules: Arc<crate::domain::SplitRules>,
    /// Test-only fault injection (`FAULT_PANIC_ON_TEXT`,
    /// `FAULT_SLOW_ON_TEXT`); not compiled into release builds.
    #[cfg(debug_assertions)]
    pub faults: handlers::faults::Faults,
    /// Per-user locks shared by replicas (webhook mode with Redis): one
    /// update of a user at a time across all processes.
    pub user_locks: Option<crate::fsm::locks::UserLocks>,
    /// Lease that lets one replica at a time deliver the outbox (with Redis).
    pub outbox_lease: Option<Arc<crate::fsm::locks::Lease>>,
    /// The per-user flood limit every update passes first.
    pub gate: Arc<intake::gate::Gate>,
    /// Whether updates arrive, for `/healthz`.
    pub intake_health: Arc<IntakeHealth>,
}

impl BotContext {
    /// Waits for a free [`MAX_API_REQUESTS`] slot; the request is sent while
    /// the permit lives.
    pub async fn api_slot(&self) -> OwnedSemaphorePermit {
        self.api_slots
            .clone()
            .acquire_owned()
            .await
            .expect("the API semaphore is never closed")
    }

    /// Chats that hear about new orders: admins and dispatchers, from the
    /// environment and those added at runtime, each once.
    pub async fn staff_chats(&self) -> anyhow::Result<Vec<i64>> {
        let mut ids: Vec<i64> = self
            .admin_ids
            .iter()
            .chain(self.dispatcher_ids.iter())
            .copied()
            .collect();
        ids.extend(self.db.staff_user_ids().await?);
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        Ok(ids)
    }
}

/// Handles one update end to end. Errors are reported to the user by the
/// handlers, once, so callers only log.
pub async fn handle(ctx: &BotContext, incoming: Incoming) {
    handlers::handle(ctx, incoming).await
}
