//! A decorator that times every dialog-store operation and counts failures
//! for `/metrics` (the shape of teloxide's `TraceStorage`): the backends stay
//! free of metrics code and every backend is measured the same way. It also
//! records whether writes go through, for `/healthz` (a Redis out of memory
//! answers pings but refuses every write).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{DialogKey, FsmStorage, SharedFsm, StorageError, StoredDialog};
use crate::config::FsmBackend;
use crate::health::WriteHealth;
use crate::metrics::{self, FsmOp};

/// Wraps a store; `get`/`set`/`clear` feed the latency histogram and the
/// per-operation error counter, the other calls pass straight through.
pub struct MeteredStorage {
    inner: SharedFsm,
    writes: Arc<WriteHealth>,
}

impl MeteredStorage {
    /// Measures `inner`, recording the outcome of each write in `writes`.
    pub fn new(inner: SharedFsm, writes: Arc<WriteHealth>) -> Self {
        Self { inner, writes }
    }
}

fn record<T>(op: FsmOp, started: Instant, result: &Result<T, StorageError>) {
    metrics::fsm_operation(op, started.elapsed(), result.is_ok());
}

#[async_trait]
impl FsmStorage for MeteredStorage {
    async fn get(&self, key: DialogKey) -> Result<Option<StoredDialog>, StorageError> {
        let started = Instant::now();
        let result = self.inner.get(key).await;
        record(FsmOp::Get, started, &result);
        result
    }

    async fn set(&self, key: DialogKey, dialog: &StoredDialog) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.set(key, dialog).await;
        record(FsmOp::Set, started, &result);
        self.writes.record(&result);
        result
    }

    async fn clear(&self, key: DialogKey) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.clear(key).await;
        record(FsmOp::Clear, started, &result);
        self.writes.record(&result);
        result
    }

    async fn finish(&self, key: DialogKey, update_id: i64) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.finish(key, update_id).await;
        record(FsmOp::Clear, started, &result);
        self.writes.record(&result);
        result
    }

    async fn finished_through(&self, key: DialogKey) -> Result<Option<i64>, StorageError> {
        self.inner.finished_through(key).await
    }

    async fn load(&self, key: DialogKey) -> Result<super::Loaded, StorageError> {
        let started = Instant::now();
        let result = self.inner.load(key).await;
        record(FsmOp::Get, started, &result);
        result
    }

    async fn list(&self) -> Result<Vec<(DialogKey, StoredDialog)>, StorageError> {
        self.inner.list().await
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.inner.ping().await
    }

    async fn purge_expired(&self) -> Result<u64, StorageError> {
        self.inner.purge_expired().await
    }

    fn backend(&self) -> FsmBackend {
        self.inner.backend()
    }

    async fn close(&self) {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::memory::MemoryStorage;

    #[tokio::test]
    async fn passes_values_through_unchanged() {
        let store = MeteredStorage::new(
            Arc::new(MemoryStorage::new(None)),
            Arc::new(WriteHealth::default()),
        );
        let key = DialogKey::private(7);
        let dialog = StoredDialog {
            state: "OrderState:address".into(),
            data: "{\"a\":1}".into(),
        };
        store.set(key, &dialog).await.unwrap();
        assert_eq!(store.get(key).await.unwrap(), Some(dialog));
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.clear(key).await.unwrap();
        assert_eq!(store.get(key).await.unwrap(), None);
        assert_eq!(store.backend(), FsmBackend::Memory);
    }
}
