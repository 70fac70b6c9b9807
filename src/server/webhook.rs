//! Webhook mode: Telegram POSTs each update to the path of `WEBHOOK_URL`,
//! with `X-Telegram-Bot-Api-Secret-Token` set to `WEBHOOK_SECRET`.
//!
//! A request is answered 200 only after its update was handled; one still
//! running after [`ANSWER_WITHIN`] is answered 503, so Telegram delivers it
//! again. If the process dies first, Telegram has no 200 and delivers the
//! update again, and the handlers' update-id bookkeeping makes
//! that redelivery safe. Updates go to the same per-user queues as polling
//! ([`UserQueues`]): one at a time per user in arrival order, different users
//! in parallel.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Router;
use tokio::sync::oneshot;

pub use crate::bot::intake::queues::UserQueues;
use crate::bot::intake::webhook::{self as webhook_intake, Received};
use crate::config::Secret;
use crate::metrics;
use crate::server::refusals::RefusalLog;

/// Header Telegram puts the webhook secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How long a webhook request waits for its update to be handled before it
/// is answered anyway (Telegram gives up on a request after about 60 s).
pub const ANSWER_WITHIN: Duration = Duration::from_secs(45);

/// Largest webhook body read. Telegram's updates are a few KB; a message
/// with the longest text and entities stays far below this.
pub const MAX_BODY: usize = 1024 * 1024;

/// Time the body may take to arrive once the headers are in.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the webhook route needs.
#[derive(Clone)]
struct WebhookState {
    path: Arc<str>,
    secret: Secret,
    queues: Arc<UserQueues>,
    refused: Arc<RefusalLog>,
}

/// Compares without an early exit, so response timing does not reveal how
/// much of a guessed secret was right.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// The path Telegram POSTs to: the path of `WEBHOOK_URL` (`/` when it has none).
pub fn route_path(webhook_url: &url::Url) -> String {
    match webhook_url.path() {
        "" => "/".to_string(),
        p => p.to_string(),
    }
}

/// Adds the webhook route at `path` to `app`. The route is matched in a
/// fallback by plain string comparison, so any path in `WEBHOOK_URL` works
/// (axum's route syntax would treat `{`/`*` specially).
pub fn attach(app: Router, path: &str, secret: Secret, queues: Arc<UserQueues>) -> Router {
    let state = WebhookState {
        path: Arc::from(path),
        secret,
        queues,
        refused: Arc::new(RefusalLog::new(
            "webhook request refused: missing or wrong X-Telegram-Bot-Api-Secret-Token, too big, too slow or not an update",
        )),
    };
    app.fallback(move |req: Request| {
        let state = state.clone();
        async move { route(state, req).await }
    })
}

async fn route(state: WebhookState, req: Request) -> StatusCode {
    if req.uri().path() != &*state.path {
        return StatusCode::NOT_FOUND;
    }
    if req.method() != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let (parts, body) = req.into_parts();
    // The secret first: a stranger's body is never read, however big or slow.
    if !has_secret(&parts.headers, &state.secret) {
        return refuse(&state, StatusCode::UNAUTHORIZED);
    }
    let read = axum::body::to_bytes(body, MAX_BODY);
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return refuse(&state, StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => return refuse(&state, StatusCode::REQUEST_TIMEOUT),
    };
    receive(state, body).await
}

/// 200 once the update was handled within `within`. Otherwise 503: if this
/// process dies before the handler ends, Telegram still has the update and
/// delivers it again (the handlers recognise it if it did get applied).
async fn answer_when_handled(
    handled: oneshot::Receiver<()>,
    within: Duration,
    update_id: i64,
) -> StatusCode {
    match tokio::time::timeout(within, handled).await {
        Ok(Ok(())) => StatusCode::OK,
        Ok(Err(_)) => {
            tracing::warn!(
                update_id,
                "webhook update was dropped unhandled; answering 503 so Telegram keeps it"
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        Err(_) => {
            tracing::warn!(
                update_id,
                "webhook update still running after {}s; answering 503 so Telegram keeps it",
                within.as_secs()
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Counts a refused request, logs it at most once per interval, answers `code`.
fn refuse(state: &WebhookState, code: StatusCode) -> StatusCode {
    metrics::webhook_rejected();
    state.refused.note(std::time::Instant::now());
    code
}

/// Whether the request carries the webhook secret. What was sent is never
/// logged: it may be a near-miss of the real secret.
fn has_secret(headers: &HeaderMap, secret: &Secret) -> bool {
    headers
        .get(SECRET_HEADER)
        .is_some_and(|given| same_secret(given.as_bytes(), secret.expose().as_bytes()))
}

async fn receive(state: WebhookState, body: Bytes) -> StatusCode {
    match webhook_intake::receive(&state.queues, &body) {
        Received::Queued { update_id, handled } => {
            answer_when_handled(handled, ANSWER_WITHIN, update_id).await
        }
        Received::Acknowledged => StatusCode::OK,
        Received::NotAnUpdate => refuse(&state, StatusCode::BAD_REQUEST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_comparison_needs_the_exact_value() {
        assert!(same_secret(b"abc-123", b"abc-123"));
        assert!(!same_secret(b"abc-124", b"abc-123"));
        assert!(!same_secret(b"abc-12", b"abc-123"));
        assert!(!same_secret(b"", b"abc-123"));
    }

    #[tokio::test]
    async fn an_update_not_handled_in_time_is_not_answered_200() {
        let (done, handled) = oneshot::channel::<()>();
        let slow = answer_when_handled(handled, Duration::from_millis(50), 1).await;
        assert_eq!(
            slow,
            StatusCode::SERVICE_UNAVAILABLE,
            "Telegram must deliver it again"
        );
        drop(done);
        let (done, handled) = oneshot::channel::<()>();
        done.send(()).unwrap();
        let fast = answer_when_handled(handled, Duration::from_millis(50), 2).await;
        assert_eq!(fast, StatusCode::OK);
        let (done, handled) = oneshot::channel::<()>();
        drop(done);
        let dropped = answer_when_handled(handled, Duration::from_secs(5), 3).await;
        assert_eq!(dropped, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn route_path_is_the_url_path() {
        let url = url::Url::parse("https://bot.example.com/tg/hook").unwrap();
        assert_eq!(route_path(&url), "/tg/hook");
        let bare = url::Url::parse("https://bot.example.com").unwrap();
        assert_eq!(route_path(&bare), "/");
    }
}
