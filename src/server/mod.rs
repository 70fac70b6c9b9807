//! The HTTP side (on `HTTP_ADDR`): `/healthz` for orchestrators, `/metrics`
//! for Prometheus and, in webhook mode, the route Telegram POSTs updates to.
//!
//! One axum server serves all three; it shuts down with the bot (graceful:
//! requests in flight are answered first).

pub mod health;
pub mod listen;
pub mod refusals;
pub mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::db::Database;
use crate::fsm::SharedFsm;
use crate::health::{IntakeHealth, WriteHealth};
use crate::metrics::{self, Gauges};

/// How the bot receives updates; decides what "updates are flowing" means
/// for `/healthz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatesMode {
    /// Long polling: healthy while `getUpdates` succeeds regularly.
    Polling,
    /// Webhook: healthy once `setWebhook` succeeded.
    Webhook,
}

/// How long a counted number of active dialogs is reused: counting scans the
/// whole store (a Redis `SCAN`), which a scrape every few seconds must not repeat.
pub const ACTIVE_DIALOGS_CACHE: Duration = Duration::from_secs(15);

/// Everything the health and metrics endpoints read; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub fsm: SharedFsm,
    /// Whether dialog writes go through (recorded by the metered store).
    pub fsm_writes: Arc<WriteHealth>,
    pub mode: UpdatesMode,
    /// Whether updates arrive (noted by the intake).
    pub intake: Arc<IntakeHealth>,
    dialogs_cache: Arc<Mutex<Option<(Instant, i64)>>>,
}

impl AppState {
    /// State for a bot receiving updates in `mode`.
    pub fn new(
        db: Database,
        fsm: SharedFsm,
        fsm_writes: Arc<WriteHealth>,
        mode: UpdatesMode,
        intake: Arc<IntakeHealth>,
    ) -> Self {
        Self {
            db,
            fsm,
            fsm_writes,
            mode,
            intake,
            dialogs_cache: Arc::default(),
        }
    }

    /// Number of dialogs in the store, counted at most once per [`ACTIVE_DIALOGS_CACHE`].
    async fn active_dialogs(&self) -> Option<i64> {
        // The lock is held during the count so concurrent scrapes wait for one scan.
        let mut cache = self.dialogs_cache.lock().await;
        if let Some((at, n)) = *cache {
            if at.elapsed() < ACTIVE_DIALOGS_CACHE {
                return Some(n);
            }
        }
        match tokio::time::timeout(Duration::from_secs(5), self.fsm.list()).await {
            Ok(Ok(all)) => {
                let n = all.len() as i64;
                *cache = Some((Instant::now(), n));
                Some(n)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: cannot count active dialogs");
                None
            }
            Err(_) => {
                tracing::warn!("metrics: counting active dialogs timed out");
                None
            }
        }
    }
}

async fn metrics_endpoint(State(state): State<AppState>) -> impl IntoResponse {
    let orders_by_status = state
        .db
        .count_by_status()
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "metrics: cannot count orders"))
        .ok();
    let outbox_backlog = state
        .db
        .outbox_backlog()
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "metrics: cannot read the outbox backlog"))
        .ok();
    let jobs = state
        .db
        .job_backlog(crate::db::now_ms())
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "metrics: cannot read the job backlog"))
        .ok()
        .map(|b| (b.pending, b.late));
    let gauges = Gauges {
        active_dialogs: state.active_dialogs().await,
        orders_by_status,
        outbox_backlog,
        jobs,
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render_with(&gauges),
    )
}

/// `/healthz` and `/metrics`; the webhook route is added by [`webhook::attach`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics_endpoint))
        .with_state(state)
}

/// Binds `addr`, with an error that names `HTTP_ADDR` and the likely cause.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        crate::config::ConfigError::new(
            "HTTP_ADDR",
            format!(
                "{addr}: cannot listen ({e}); is another process using the port? / \
                 не удаётся открыть порт HTTP_ADDR: занят другим процессом?"
            ),
        )
        .into()
    })
}

/// Serves `app` on `listener` until `stop` is cancelled, then finishes the
/// requests in flight (see [`listen`] for the bounds on each connection).
pub fn spawn(
    listener: TcpListener,
    app: Router,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    listen::spawn(listener, app, stop)
}
