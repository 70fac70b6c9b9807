//! Deletes what the bot no longer needs and should not keep: dialogs past
//! `FSM_TTL` in the SQLite store (`get` already ignores them, but their
//! rows still hold half-typed phones and addresses) and notifications
//! settled longer ago than `OUTBOX_KEEP`. Runs at start-up and then every
//! [`HOUSEKEEPING_EVERY`]; every step is idempotent, so replicas may all run it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::{now_ms, Database};
use crate::fsm::SharedFsm;

/// How often housekeeping runs.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// One pass: returns (dialogs, notifications) deleted.
pub async fn run_once(db: &Database, fsm: &SharedFsm, outbox_keep: Duration) -> (u64, u64) {
    let dialogs = fsm.purge_expired().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "housekeeping: cannot delete expired dialogs");
        0
    });
    let cutoff = now_ms() - outbox_keep.as_millis() as i64;
    let notifications = db
        .purge_settled_notifications(cutoff)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "housekeeping: cannot delete old notifications");
            0
        });
    if dialogs + notifications > 0 {
        crate::metrics::rows_purged(dialogs + notifications);
        tracing::info!(
            dialogs,
            notifications,
            "housekeeping: deleted expired dialogs and settled notifications"
        );
    }
    (dialogs, notifications)
}

/// Runs [`run_once`] now and every [`HOUSEKEEPING_EVERY`] until `stop`.
pub async fn run(db: Database, fsm: SharedFsm, outbox_keep: Duration, stop: CancellationToken) {
    loop {
        run_once(&db, &fsm, outbox_keep).await;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
        }
    }
}
