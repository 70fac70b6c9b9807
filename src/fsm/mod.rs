//! Dialog (FSM) state: where each user is in a dialog and what they typed so far.
//!
//! One trait, [`FsmStorage`], with three backends chosen once at start-up:
//! [`memory`] (development only), [`sqlite`] (the default: persistent with no
//! external service) and [`redis`] (production, shared between replicas, in
//! the key layout the runbook checks). Backends store opaque state names and
//! JSON text; [`codec`] turns them into typed dialogs and back.

pub mod codec;
pub mod keys;
pub mod locks;
pub mod memory;
pub mod metered;
pub mod redis;
pub mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::FsmBackend;

/// Identifies one dialog: a user in a chat (aiogram's `chat:user` pairing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogKey {
    pub chat_id: i64,
    pub user_id: i64,
}

impl DialogKey {
    /// Key of a private chat, where the chat id is the user id.
    pub fn private(user_id: i64) -> Self {
        Self {
            chat_id: user_id,
            user_id,
        }
    }
}

/// What a backend stores for one dialog: the state name (`OrderState:address`)
/// and the collected fields as a JSON object, kept as text so the backend never
/// needs to understand it (and a corrupted value still reaches the codec, which
/// can report it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDialog {
    pub state: String,
    pub data: String,
}

/// How long the id of the update that finished a dialog is kept: Telegram
/// keeps an unconfirmed update for 24 hours.
pub const FINISHED_MEMORY: Duration = Duration::from_secs(25 * 3600);

/// What [`FsmStorage::load`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    pub dialog: Option<StoredDialog>,
    /// With no dialog: the last update applied to the one finished here.
    pub finished_through: Option<i64>,
}

/// A storage failure. Every variant means "the state is unknown right now",
/// never "there is no state": callers must not reset a dialog on an error.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The store cannot be reached (connection refused, timeout); retry later.
    #[error("dialog storage unavailable: {0}")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("dialog storage error: {0}")]
    Backend(String),
}

/// A persistent map from [`DialogKey`] to [`StoredDialog`].
///
/// Contract shared by every backend (one generic test suite checks it):
/// `set` replaces state and data together, atomically; `get` reads both in one
/// operation; `clear` removes both; an optional TTL is renewed on each `set`.
#[async_trait]
pub trait FsmStorage: Send + Sync {
    /// The dialog at `key`, or `None` when the user is in no dialog.
    async fn get(&self, key: DialogKey) -> Result<Option<StoredDialog>, StorageError>;
    /// Replaces state and data at `key`.
    async fn set(&self, key: DialogKey, dialog: &StoredDialog) -> Result<(), StorageError>;
    /// Ends the dialog at `key`; clearing an absent dialog is not an error.
    async fn clear(&self, key: DialogKey) -> Result<(), StorageError>;
    /// Ends the dialog at `key` after update `update_id` was applied, and
    /// remembers that id for [`FINISHED_MEMORY`] (outside the dialog keys):
    /// after a crash Telegram may deliver this update, or earlier ones of the
    /// same user, again, and with the dialog gone nothing else would tell
    /// that they were applied (a redelivered `/create_order` would start the
    /// dialog over). One atomic write.
    async fn finish(&self, key: DialogKey, update_id: i64) -> Result<(), StorageError>;
    /// The update after which the dialog at `key` was last finished.
    async fn finished_through(&self, key: DialogKey) -> Result<Option<i64>, StorageError>;
    /// The dialog at `key`, or when there is none, the update it was last
    /// finished after. Backends that can read both at once override it.
    async fn load(&self, key: DialogKey) -> Result<Loaded, StorageError> {
        match self.get(key).await? {
            Some(dialog) => Ok(Loaded {
                dialog: Some(dialog),
                finished_through: None,
            }),
            None => Ok(Loaded {
                dialog: None,
                finished_through: self.finished_through(key).await?,
            }),
        }
    }
    /// Every stored dialog, for `fsm stats` / `fsm migrate` and metrics.
    async fn list(&self) -> Result<Vec<(DialogKey, StoredDialog)>, StorageError>;
    /// Checks the store answers (health check, start-up).
    async fn ping(&self) -> Result<(), StorageError>;
    /// Deletes dialogs whose TTL has passed; returns how many. A store that
    /// expires keys by itself (Redis) or keeps nothing (memory) has nothing
    /// to do: only the SQLite table keeps rows that `get` no longer returns.
    async fn purge_expired(&self) -> Result<u64, StorageError> {
        Ok(0)
    }
    /// Which backend this is.
    fn backend(&self) -> FsmBackend;
    /// Releases connections at shutdown.
    async fn close(&self) {}
}

/// Shared handle to the chosen backend.
pub type SharedFsm = Arc<dyn FsmStorage>;

/// Expiry settings shared by the backends.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ttl(pub Option<Duration>);

#[cfg(test)]
mod contract_tests;
