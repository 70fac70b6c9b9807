//! In-process dialog state: fast and lost on restart. Only for `DEV_MODE=true`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{DialogKey, FsmStorage, StorageError, StoredDialog};
use crate::config::FsmBackend;

/// Dialogs in a hash map, with optional expiry.
#[derive(Default)]
pub struct MemoryStorage {
    dialogs: Mutex<HashMap<DialogKey, (StoredDialog, Option<Instant>)>>,
    finished: Mutex<HashMap<DialogKey, (i64, Instant)>>,
    ttl: Option<Duration>,
}

impl MemoryStorage {
    /// An empty store whose dialogs expire `ttl` after their last write.
    pub fn new(ttl: Option<Duration>) -> Self {
        Self {
            dialogs: Mutex::default(),
            finished: Mutex::default(),
            ttl,
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<DialogKey, (StoredDialog, Option<Instant>)>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (inserts are single operations), so a poisoned map is still valid.
        self.dialogs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl FsmStorage for MemoryStorage {
    async fn get(&self, key: DialogKey) -> Result<Option<StoredDialog>, StorageError> {
        let mut map = self.lock();
        match map.get(&key) {
            Some((_, Some(expires))) if *expires <= Instant::now() => {
                map.remove(&key);
                Ok(None)
            }
            Some((dialog, _)) => Ok(Some(dialog.clone())),
            None => Ok(None),
        }
    }

    async fn set(&self, key: DialogKey, dialog: &StoredDialog) -> Result<(), StorageError> {
        let expires = self.ttl.map(|ttl| Instant::now() + ttl);
        self.lock().insert(key, (dialog.clone(), expires));
        Ok(())
    }

    async fn clear(&self, key: DialogKey) -> Result<(), StorageError> {
        self.lock().remove(&key);
        Ok(())
    }

    async fn finish(&self, key: DialogKey, update_id: i64) -> Result<(), StorageError> {
        let mut dialogs = self.lock();
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        dialogs.remove(&key);
        let now = Instant::now();
        finished.retain(|_, (_, until)| *until > now);
        finished.insert(key, (update_id, now + super::FINISHED_MEMORY));
        Ok(())
    }

    async fn finished_through(&self, key: DialogKey) -> Result<Option<i64>, StorageError> {
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        Ok(finished
            .get(&key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(id, _)| *id))
    }

    async fn list(&self) -> Result<Vec<(DialogKey, StoredDialog)>, StorageError> {
        let now = Instant::now();
        let mut all: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, (_, exp))| exp.is_none_or(|e| e > now))
            .map(|(k, (d, _))| (*k, d.clone()))
            .collect();
        all.sort_by_key(|(k, _)| *k);
        Ok(all)
    }

    async fn ping(&self) -> Result<(), StorageError> {
        Ok(())
    }

    fn backend(&self) -> FsmBackend {
        FsmBackend::Memory
    }
}
