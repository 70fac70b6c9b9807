//! `/healthz`: 200 only when updates are being received, the database and the
//! dialog store answer and their last writes went through (or failed longer
//! ago than [`WRITE_FAILURE_WINDOW`]); otherwise 503 naming the failing part.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{AppState, UpdatesMode};
use crate::health::{IntakeHealth, WriteHealth, LONG_POLL_SECS, WRITE_FAILURE_WINDOW};

/// A probe that takes longer than this counts as failed: an orchestrator's
/// probe must get an answer, not hang with a stuck Redis.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Polling is healthy while the last successful `getUpdates` is at most this
/// old: two long-poll periods.
pub fn polling_staleness_limit() -> Duration {
    Duration::from_secs(2 * u64::from(LONG_POLL_SECS))
}

fn updates_status(mode: UpdatesMode, intake: &IntakeHealth) -> Result<(), String> {
    match mode {
        UpdatesMode::Polling => match intake.since_last_poll() {
            Some(age) if age <= polling_staleness_limit() => Ok(()),
            Some(age) => Err(format!("no successful getUpdates for {}s", age.as_secs())),
            None => Err("getUpdates has not succeeded yet".into()),
        },
        UpdatesMode::Webhook if intake.is_webhook_ready() => Ok(()),
        UpdatesMode::Webhook => Err("webhook is not set up yet".into()),
    }
}

async fn probe<F, E>(what: F) -> Result<(), String>
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    match tokio::time::timeout(PROBE_TIMEOUT, what).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
    }
}

fn writes_status(writes: &WriteHealth) -> Result<(), String> {
    writes.status(WRITE_FAILURE_WINDOW)
}

fn field(result: &Result<(), String>) -> Value {
    match result {
        Ok(()) => json!("ok"),
        Err(e) => json!(format!("error: {e}")),
    }
}

/// The health check handler.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let updates = updates_status(state.mode, &state.intake);
    let (database, fsm) = tokio::join!(probe(state.db.ping()), probe(state.fsm.ping()));
    let database = database.and_then(|()| writes_status(state.db.write_health()));
    let fsm = fsm.and_then(|()| writes_status(&state.fsm_writes));
    let failing: Vec<&str> = [
        ("updates", &updates),
        ("database", &database),
        ("fsm", &fsm),
    ]
    .into_iter()
    .filter(|(_, r)| r.is_err())
    .map(|(name, _)| name)
    .collect();
    let body = json!({
        "status": if failing.is_empty() { "ok" } else { "unavailable" },
        "failing": failing,
        "updates": field(&updates),
        "database": field(&database),
        "fsm": field(&fsm),
        "fsm_backend": state.fsm.backend().as_str(),
    });
    let code = if failing.is_empty() {
        StatusCode::OK
    } else {
        tracing::warn!(failing = ?failing, "health check failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
