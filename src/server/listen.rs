//! Serves the HTTP router connection by connection, with the bounds a
//! public port needs: `axum::serve` has none, so 300 half-open connections
//! stayed open for good and, with a 512-file limit, made the webhook and
//! `/healthz` unreachable.
//!
//! * at most [`max_connections`] at once; one more is closed at once (the
//!   count of such refusals is in `/metrics`);
//! * a client must send a request's headers within [`HEADER_READ_TIMEOUT`],
//!   and an idle keep-alive connection is closed after the same time;
//! * bodies are bounded by size and time where they are read (the webhook).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::refusals::RefusalLog;

/// Time a client has to send a request's headers, and the longest a
/// keep-alive connection may sit idle. Telegram sends a whole update in one
/// go; a client that needs longer is not Telegram.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Upper bound of connections served at once.
pub const MAX_CONNECTIONS: usize = 256;

/// Connections served at once: [`MAX_CONNECTIONS`], or half the process's
/// open-file limit when that is lower, so that a flood of connections never
/// takes the files the database, the log and Telegram's connections need.
pub fn max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur as usize
    } else {
        1024
    };
    MAX_CONNECTIONS.min(soft / 2).max(8)
}

/// Serves `app` on `listener` until `stop` is cancelled, then lets the
/// requests in flight finish. A failure to accept (out of files) is logged
/// and retried after a pause, never fatal.
pub fn spawn(
    listener: TcpListener,
    app: Router,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(max_connections()));
        let refused = RefusalLog::new("HTTP connections refused: too many open at once");
        let mut connections = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            while connections.try_join_next().is_some() {}
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP server cannot accept a connection; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                crate::metrics::http_connection_refused();
                refused.note(Instant::now());
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(app.clone().map_request(
                |req: hyper::Request<hyper::body::Incoming>| req.map(axum::body::Body::new),
            ));
            let stop = stop.clone();
            connections.spawn(async move {
                let _slot = slot;
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(connection);
                let result = tokio::select! {
                    result = connection.as_mut() => result,
                    _ = stop.cancelled() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(e) = result {
                    // Slow, idle or broken clients: theirs to fix, not ours to log loudly.
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
            });
        }
        drop(listener);
        while connections.join_next().await.is_some() {}
    })
}
