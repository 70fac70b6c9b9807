//! The webhook's update intake: a body Telegram POSTed becomes an update in
//! its user's queue, after the same classification and flood gate as a
//! polled one. The HTTP side (secret, limits, status codes) is
//! [`crate::server::webhook`]'s.

use std::sync::Arc;

use teloxide::types::Update;
use tokio::sync::oneshot;

use super::gate::{self, Admission};
use super::queues::UserQueues;
use crate::bot::incoming::classify;
use crate::metrics;

/// What became of a webhook body.
#[derive(Debug)]
pub enum Received {
    /// Queued: `handled` fires once its handler has finished.
    Queued {
        update_id: i64,
        handled: oneshot::Receiver<()>,
    },
    /// Nothing to handle (not served, unreadable, or over the flood limit),
    /// but an update: acknowledge it, or Telegram sends it forever.
    Acknowledged,
    /// Not a Telegram update at all.
    NotAnUpdate,
}

/// Reads one webhook body and queues its update.
pub fn receive(queues: &Arc<UserQueues>, body: &[u8]) -> Received {
    let update: Update = match serde_json::from_slice(body) {
        Ok(u) => u,
        Err(_) => {
            // A Telegram update this version cannot read is acknowledged
            // (as polling skips it), or Telegram would send it forever.
            return match crate::bot::api::update_id_of(body) {
                Some(update_id) => {
                    metrics::update_unparseable();
                    tracing::warn!(update_id, "skipping an update this version cannot read");
                    Received::Acknowledged
                }
                None => Received::NotAnUpdate,
            };
        }
    };
    let Some(inc) = classify(&update) else {
        metrics::update_ignored();
        tracing::debug!(
            update_id = update.id.0,
            "update ignored (not served by this bot)"
        );
        return Received::Acknowledged;
    };
    let ctx = queues.context();
    match ctx.gate.admit(&inc) {
        Admission::Pass => {}
        refused => {
            // Acknowledged: Telegram must not deliver it again.
            gate::refuse(ctx, &inc, refused);
            return Received::Acknowledged;
        }
    }
    let update_id = inc.update_id;
    Received::Queued {
        update_id,
        handled: queues.push(inc),
    }
}
