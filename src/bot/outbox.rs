//! Delivers queued notifications. A notification is marked sent only after
//! Telegram accepted it; failures are retried with backoff (honouring 429
//! `retry_after`), and refusals that can never succeed (bot blocked, chat
//! gone) are given up on and logged. Pending rows survive restarts.

use std::time::Duration;

use futures::StreamExt;

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use super::keyboards;
use super::BotContext;
use crate::db::{now_ms, OutboxItem};

/// Longest wait between attempts of one notification.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Requests to Telegram in flight at once; small enough to stay polite with
/// its flood limits (429s are honoured anyway), large enough that a burst of
/// new orders does not queue receipts behind one round trip each.
const CONCURRENT_SENDS: usize = 8;
/// Rows read per look at the table.
const BATCH: i64 = 100;
/// Rows of one chat per look: one chat's backlog cannot fill the batch.
const PER_CHAT: i64 = 20;
/// How often the worker looks for due rows when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_millis(1000);

/// Runs until `stop` is cancelled.
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    deliver_until_stopped(&ctx, &stop).await;
    if let Some(lease) = &ctx.outbox_lease {
        // Let another replica take over at once instead of after the TTL.
        lease.give_up().await;
    }
}

/// True while this process may deliver: always without Redis, else while it
/// holds the outbox lease (checked before every message, so a replica that
/// lost the lease stops within one message).
async fn may_deliver(ctx: &BotContext) -> bool {
    match &ctx.outbox_lease {
        Some(lease) => lease.hold().await,
        None => true,
    }
}

/// Delivers in rounds: each round reads the due rows (at most [`PER_CHAT`]
/// of one chat, so a busy dispatcher chat cannot crowd out receipts) and
/// serves the chats side by side, each chat's messages in order, at most
/// [`CONCURRENT_SENDS`] chats at once. A message's outcome is recorded in the
/// background while the chat's next message goes out; every record is
/// written before the round ends and the table is read again.
async fn deliver_until_stopped(ctx: &BotContext, stop: &CancellationToken) {
    while !stop.is_cancelled() {
        if let Some(lease) = &ctx.outbox_lease {
            if !lease.hold().await {
                // Another replica delivers; check again well within the lease's lifetime.
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(IDLE_POLL) => continue,
                }
            }
        }
        let due = match ctx.db.due_notifications_fair(BATCH, PER_CHAT).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read pending notifications");
                Vec::new()
            }
        };
        let busy = !due.is_empty();
        let mut per_chat: Vec<(i64, Vec<OutboxItem>)> = Vec::new();
        for item in due {
            let chat = item.notification.chat_id;
            match per_chat.iter_mut().find(|(c, _)| *c == chat) {
                Some((_, items)) => items.push(item),
                None => per_chat.push((chat, vec![item])),
            }
        }
        futures::stream::iter(per_chat)
            .for_each_concurrent(CONCURRENT_SENDS, |(_, items)| async move {
                let mut records = Vec::with_capacity(items.len());
                for item in items {
                    if stop.is_cancelled() || !may_deliver(ctx).await {
                        break;
                    }
                    let outcome = send(ctx, &item).await;
                    let ctx = ctx.clone();
                    records.push(tokio::spawn(
                        async move { record(&ctx, item, outcome).await },
                    ));
                }
                for r in records {
                    let _ = r.await;
                }
            })
            .await;
        if busy {
            continue;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ctx.outbox_wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

async fn send(
    ctx: &BotContext,
    item: &OutboxItem,
) -> Result<teloxide::types::Message, RequestError> {
    let note = &item.notification;
    let mut req = ctx
        .bot
        .send_message(ChatId(note.chat_id), note.text.clone());
    if let Some(markup) = keyboards::from_rows(&note.buttons) {
        req = req.reply_markup(markup);
    }
    req.await
}

async fn record(
    ctx: &BotContext,
    item: OutboxItem,
    outcome: Result<teloxide::types::Message, RequestError>,
) {
    let note = &item.notification;
    let result = match outcome {
        Ok(_) => {
            crate::metrics::notification_sent();
            ctx.db.mark_sent(item.id).await
        }
        Err(e) => {
            crate::metrics::notification_failed();
            match classify(&e, item.attempts) {
                Retry::At(wait) => {
                    tracing::warn!(outbox_id = item.id, chat_id = note.chat_id, attempts = item.attempts + 1, error = %e, retry_in_ms = wait.as_millis() as u64, "notification not delivered; will retry");
                    ctx.db
                        .retry_later(item.id, &e.to_string(), now_ms() + wait.as_millis() as i64)
                        .await
                }
                Retry::Never => {
                    tracing::error!(outbox_id = item.id, chat_id = note.chat_id, error = %e, "notification refused for good; giving up");
                    ctx.db.give_up(item.id, &e.to_string()).await
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::error!(outbox_id = item.id, error = %e, "outbox: cannot record a delivery attempt");
    }
}

enum Retry {
    At(Duration),
    Never,
}

fn classify(e: &RequestError, attempts: i64) -> Retry {
    let backoff = Duration::from_secs(1u64 << attempts.clamp(0, 10) as u32).min(MAX_BACKOFF);
    match e {
        RequestError::RetryAfter(secs) => Retry::At(secs.duration()),
        RequestError::Api(api) => match api {
            ApiError::BotBlocked
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup => Retry::Never,
            // Anything else (unknown 400s, 5xx described as API errors) may pass later.
            _ if attempts >= 20 => Retry::Never,
            _ => Retry::At(backoff),
        },
        _ => Retry::At(backoff),
    }
}
