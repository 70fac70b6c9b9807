//! Receiving updates by long polling, with no update lost or handled twice
//! whatever crashes (see `docs/DESIGN.md`):
//!
//! 1. a `getUpdates` batch is stored in the inbox table of the orders
//!    database (one transaction);
//! 2. only then is it confirmed to Telegram, by asking for the next offset —
//!    at once, so the next batch is fetched while this one is handled;
//! 3. its updates go to per-user queues ([`UserQueues`]): one user's updates
//!    one at a time in order, different users in parallel;
//! 4. handled entries are deleted with the next batch's transaction.
//!
//! At start-up, whatever the inbox still holds (confirmed, but the process
//! died before handling it) is queued before the first poll. If the inbox
//! cannot be written, a batch is handled first and confirmed afterwards, so
//! Telegram keeps it until it is handled. Either way a redelivered or
//! replayed update is recognised by the handlers' update-id bookkeeping.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update};
use tokio_util::sync::CancellationToken;

use super::incoming::{classify, Incoming, Input};
use super::queues::UserQueues;
use super::{reply, BotContext};
use crate::db::InboxEntry;

/// Long-poll timeout: Telegram holds the request this long when idle.
pub const POLL_TIMEOUT_SECS: u32 = 25;

/// The line the runbook waits for.
pub const STARTED_LINE: &str = "Бот успешно запущен!";

/// Polling pauses while this many updates are queued or running, so a burst
/// waits at Telegram instead of in memory.
pub const MAX_IN_FLIGHT: usize = 1000;

/// How long a stop waits for queued updates; what is left stays in the inbox
/// for the next start. Shorter than the start-up module's shutdown grace.
pub const DRAIN_WITHIN: Duration = Duration::from_secs(8);

/// Polls until `stop` is cancelled, then lets the queued updates finish
/// (at most [`DRAIN_WITHIN`]).
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    let queues = UserQueues::new(ctx.clone());
    replay_inbox(&ctx, &queues).await;
    let mut offset: i32 = 0;
    let mut announced = false;
    let mut failures: u32 = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = queues.wait_below(MAX_IN_FLIGHT) => {}
        }
        // The first call does not wait, so the start-up line appears at once.
        let timeout = if announced { POLL_TIMEOUT_SECS } else { 0 };
        let request = ctx
            .bot
            .get_updates()
            .offset(offset)
            .timeout(timeout)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        let result = tokio::select! {
            _ = stop.cancelled() => break,
            r = request.send() => r,
        };
        let updates = match result {
            Ok(updates) => {
                failures = 0;
                crate::metrics::poll_succeeded();
                updates
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis((500u64 << failures.min(6)).min(30_000));
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "getUpdates failed");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
        };
        if !announced {
            tracing::info!("{STARTED_LINE}");
            announced = true;
        }
        if let Some(last) = updates.iter().map(|u| u.id.0).max() {
            take_batch(&ctx, &queues, updates, i64::from(offset)).await;
            offset = last as i32 + 1;
        }
    }
    if !queues.wait_idle(DRAIN_WITHIN).await {
        tracing::warn!(
            in_flight = queues.in_flight(),
            "updates still running at shutdown; they stay in the inbox and run at the next start"
        );
    }
    let handled_below = queues.oldest_in_flight().unwrap_or(i64::from(offset));
    if let Err(e) = ctx.db.inbox_forget_below(handled_below).await {
        tracing::warn!(error = %e, "could not clear handled inbox entries; they are skipped as repeats at the next start");
    }
    tracing::info!("Получение обновлений остановлено");
}

/// Queues the updates a previous run confirmed but did not finish.
async fn replay_inbox(ctx: &BotContext, queues: &Arc<UserQueues>) {
    let entries = match ctx.db.inbox_entries().await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the inbox of updates saved before the restart; they are not handled");
            return;
        }
    };
    if entries.is_empty() {
        return;
    }
    tracing::info!(
        count = entries.len(),
        "Обрабатываю обновления, полученные до перезапуска"
    );
    for entry in entries {
        match serde_json::from_str::<Incoming>(&entry.payload) {
            Ok(inc) => queues.push_detached(inc),
            Err(e) => tracing::error!(
                update_id = entry.update_id,
                error = %e,
                "inbox entry unreadable (written by another version?); skipped"
            ),
        }
    }
}

/// Stores a fetched batch and queues it; `offset` is the offset the batch
/// was fetched with (every update below it was queued earlier). Returns once
/// the batch may be confirmed to Telegram.
async fn take_batch(
    ctx: &BotContext,
    queues: &Arc<UserQueues>,
    updates: Vec<Update>,
    offset: i64,
) {
    let incoming = served(&updates);
    drop(updates);
    let entries: Result<Vec<InboxEntry>, _> = incoming
        .iter()
        .map(|inc| {
            serde_json::to_string(inc).map(|payload| InboxEntry {
                update_id: inc.update_id,
                payload,
            })
        })
        .collect();
    let handled_below = queues.oldest_in_flight().unwrap_or(offset);
    let stored = match entries {
        Ok(entries) => ctx.db.inbox_store(&entries, Some(handled_below)).await,
        Err(e) => Err(e.into()),
    };
    match stored {
        Ok(()) => {
            for inc in incoming {
                queues.push_detached(inc);
            }
        }
        Err(e) => {
            crate::metrics::inbox_unavailable();
            tracing::warn!(error = %e, "cannot store updates in the inbox; handling the batch before confirming it to Telegram");
            let handled: Vec<_> = incoming.into_iter().map(|inc| queues.push(inc)).collect();
            futures::future::join_all(handled).await;
        }
    }
}

/// The updates of a batch the bot serves, in order; the rest are counted and skipped.
fn served(updates: &[Update]) -> Vec<Incoming> {
    updates
        .iter()
        .filter_map(|update| {
            let inc = classify(update);
            if inc.is_none() {
                crate::metrics::update_ignored();
                tracing::debug!(
                    update_id = update.id.0,
                    "update ignored (not served by this bot)"
                );
            }
            inc
        })
        .collect()
}

/// Runs one update's handler; a panic is contained to that update: logged,
/// counted, and answered with an apology.
pub async fn handle_guarded(ctx: &BotContext, inc: Incoming) {
    crate::metrics::update_handled();
    let sender = inc.sender.clone();
    let update_id = inc.update_id;
    let button = match &inc.input {
        Input::Button { query_id, .. } => Some(query_id.clone()),
        _ => None,
    };
    let kind = match button {
        Some(_) => crate::metrics::UpdateKind::Callback,
        None => crate::metrics::UpdateKind::Message,
    };
    let started = std::time::Instant::now();
    let lock = match &ctx.user_locks {
        Some(locks) => match locks.acquire(sender.user_id).await {
            Ok(guard) => Some(guard),
            Err(e) => {
                // Redis is down or stuck: the dialog store will say so to the
                // user; ordering across replicas is moot while nothing is stored.
                tracing::warn!(user_id = sender.user_id, error = %e, "handling without the user lock");
                None
            }
        },
        None => None,
    };
    let outcome = AssertUnwindSafe(super::handle(ctx, inc))
        .catch_unwind()
        .await;
    if let Some(guard) = lock {
        guard.release().await;
    }
    crate::metrics::handler_finished(kind, started.elapsed());
    if let Err(panic) = outcome {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        crate::metrics::handler_panic();
        tracing::error!(update_id, user_id = sender.user_id, panic = %message, "handler panicked; the bot keeps running");
        if let Some(id) = button {
            reply::answer_button(ctx, &id, None).await;
        }
        reply::send(
            ctx,
            &sender,
            ctx.texts.get(sender.lang, "internal_error"),
            None,
        )
        .await;
    }
}
