//! Receiving updates by long polling, with at-least-once delivery made safe:
//! a batch is confirmed to Telegram (by asking for the next offset) only after
//! every update in it was handled, so a crash mid-batch means redelivery, and
//! the handlers recognise a redelivered update (see `docs/DESIGN.md`).
//!
//! Within a batch, updates of one user run in order, one at a time; different
//! users run in parallel.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use teloxide::types::Update;
use tokio_util::sync::CancellationToken;

use super::api::Entry;
use super::incoming::{classify, Incoming, Input};
use super::{reply, BotContext};

/// Long-poll timeout: Telegram holds the request this long when idle.
pub const POLL_TIMEOUT_SECS: u32 = 25;

/// The line the runbook waits for.
pub const STARTED_LINE: &str = "Бот успешно запущен!";

/// What the bot asks Telegram to deliver.
pub const ALLOWED_UPDATES: [&str; 2] = ["message", "callback_query"];

/// Polls until `stop` is cancelled; the batch in hand is finished first.
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    // 64-bit: Telegram's update ids are, and an `i32` offset would wrap.
    let mut offset: i64 = 0;
    let mut announced = false;
    let mut failures: u32 = 0;
    loop {
        // The first call does not wait, so the start-up line appears at once.
        let timeout = if announced { POLL_TIMEOUT_SECS } else { 0 };
        let request = super::api::get_updates(&ctx.bot, offset, timeout, &ALLOWED_UPDATES);
        let result = tokio::select! {
            _ = stop.cancelled() => break,
            r = request => r,
        };
        let entries = match result {
            Ok(entries) => {
                failures = 0;
                crate::metrics::poll_succeeded();
                entries
            }
            Err(e) => {
                failures += 1;
                let wait = match &e {
                    super::api::PollError::RetryAfter(wait) => *wait,
                    _ => Duration::from_millis((500u64 << failures.min(6)).min(30_000)),
                };
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
        let Some(last) = entries.iter().map(Entry::id).max() else {
            continue;
        };
        let mut updates = Vec::with_capacity(entries.len());
        for entry in entries {
            match entry {
                Entry::Update(_, update) => updates.push(*update),
                Entry::Unreadable { update_id, reason } => {
                    // Confirmed with the batch so it cannot block polling;
                    // never logged in full: it holds a user's message.
                    crate::metrics::update_unparseable();
                    tracing::warn!(update_id, reason = %reason, "skipping an update this version cannot read");
                }
            }
        }
        process_batch(&ctx, updates).await;
        offset = last + 1;
    }
    tracing::info!("Получение обновлений остановлено");
}

/// Handles a batch: per-user order, users in parallel. Returns when all are done.
pub async fn process_batch(ctx: &BotContext, updates: Vec<Update>) {
    let mut per_user: HashMap<i64, Vec<Incoming>> = HashMap::new();
    let mut order = Vec::new();
    for update in &updates {
        match classify(update) {
            Some(inc) => {
                let user = inc.sender.user_id;
                if !per_user.contains_key(&user) {
                    order.push(user);
                }
                per_user.entry(user).or_default().push(inc);
            }
            None => {
                crate::metrics::update_ignored();
                tracing::debug!(
                    update_id = update.id.0,
                    "update ignored (not served by this bot)"
                );
            }
        }
    }
    let tasks = order
        .into_iter()
        .filter_map(|user| per_user.remove(&user))
        .map(|queue| {
            let ctx = ctx.clone();
            async move {
                for inc in queue {
                    handle_guarded(&ctx, inc).await;
                }
            }
        });
    futures::future::join_all(tasks).await;
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
