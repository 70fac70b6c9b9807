//! Delivers queued notifications. A notification is marked sent only after
//! Telegram accepted it; failures are retried with backoff (honouring 429
//! `retry_after`), and refusals that can never succeed (bot blocked, chat
//! gone) are given up on and logged. Pending rows survive restarts.
//!
//! Each chat with due messages gets a *lane*: a task that sends that chat's
//! messages one after another, in order. Lanes run side by side (at most
//! [`MAX_LANES`]) and independently: a receipt for one client never waits
//! for a dispatcher chat's backlog, nor for the slowest chat of a round.
//! Outcomes go to one recorder that writes each burst of deliveries with one
//! statement. A row stays "in flight" from the moment a lane takes it until
//! its outcome is written, so no later look at the table hands it out twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::keyboards;
use super::BotContext;
use crate::db::{now_ms, OutboxItem};

/// Longest wait between attempts of one notification.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Chats served at once, i.e. requests to Telegram in flight at once: small
/// enough to stay polite with its flood limits (429s are honoured anyway),
/// large enough that a burst of new orders does not queue receipts behind
/// one round trip each.
const MAX_LANES: usize = 16;
/// Rows read per look at the table.
const BATCH: i64 = 100;
/// Rows of one chat per look: one chat's backlog cannot fill the batch.
const PER_CHAT: i64 = 20;
/// How often the worker looks for due rows when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_millis(1000);

/// What lanes and the reader share.
#[derive(Default)]
struct Lanes {
    /// Rows taken by a lane and not yet released by the reader.
    in_flight: Mutex<HashSet<i64>>,
    /// Rows whose outcome is written: released at the reader's next look,
    /// before it reads, so that look's snapshot already shows them as
    /// delivered (a look that started before the write must not see them
    /// free, or it would send them again).
    settled: Mutex<Vec<i64>>,
    /// The queue of each chat that has a lane running.
    queues: Mutex<HashMap<i64, VecDeque<OutboxItem>>>,
    /// A lane ended: there is room for another chat.
    freed: Notify,
}

/// One delivery attempt, for the recorder.
type Outcome = (OutboxItem, Result<(), RequestError>);

/// Runs until `stop` is cancelled; on the way out the messages being sent are
/// finished and every outcome is written.
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    let lanes = Arc::new(Lanes::default());
    let (outcomes, received) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_outcomes(ctx.clone(), lanes.clone(), received));
    let mut running = JoinSet::new();
    deliver_until_stopped(&ctx, &stop, &lanes, &outcomes, &mut running).await;
    drop(outcomes);
    while running.join_next().await.is_some() {}
    let _ = recorder.await;
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

/// Looks at the table whenever something may have changed (a change queued
/// notifications, a lane ended, or [`IDLE_POLL`] passed) and hands the due
/// rows that are not in flight to their chat's lane, starting lanes as room
/// allows. Rows of chats that find no room stay for a later look.
async fn deliver_until_stopped(
    ctx: &BotContext,
    stop: &CancellationToken,
    lanes: &Arc<Lanes>,
    outcomes: &mpsc::UnboundedSender<Outcome>,
    running: &mut JoinSet<()>,
) {
    while !stop.is_cancelled() {
        // Finished lanes are reaped here so the set does not grow.
        while running.try_join_next().is_some() {}
        if let Some(lease) = &ctx.outbox_lease {
            if !lease.hold().await {
                // Another replica delivers; check again well within the lease's lifetime.
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(IDLE_POLL) => continue,
                }
            }
        }
        // Registered before the look, so a lane ending meanwhile is not missed.
        let freed = lanes.freed.notified();
        let released = std::mem::take(&mut *lanes.settled.lock().expect("outbox lanes poisoned"));
        let due = match ctx.db.due_notifications_fair(BATCH, PER_CHAT).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read pending notifications");
                Vec::new()
            }
        };
        for chat in dispatch(lanes, &released, due) {
            running.spawn(lane(
                ctx.clone(),
                stop.clone(),
                lanes.clone(),
                outcomes.clone(),
                chat,
            ));
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ctx.outbox_wake.notified() => {}
            _ = freed => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Releases the rows settled before the look, then queues the rows not in
/// flight on their chat's lane; returns the chats whose lane must be started.
fn dispatch(lanes: &Lanes, released: &[i64], due: Vec<OutboxItem>) -> Vec<i64> {
    let mut in_flight = lanes.in_flight.lock().expect("outbox lanes poisoned");
    for id in released {
        in_flight.remove(id);
    }
    let mut queues = lanes.queues.lock().expect("outbox lanes poisoned");
    let mut started = Vec::new();
    for item in due {
        if in_flight.contains(&item.id) {
            continue;
        }
        let (id, chat) = (item.id, item.notification.chat_id);
        if let Some(queue) = queues.get_mut(&chat) {
            queue.push_back(item);
        } else if queues.len() < MAX_LANES {
            queues.insert(chat, VecDeque::from([item]));
            started.push(chat);
        } else {
            continue;
        }
        in_flight.insert(id);
    }
    started
}

/// Sends one chat's messages in order until its queue is empty, then ends.
/// Stopping (or losing the lease) gives its unsent rows back.
async fn lane(
    ctx: BotContext,
    stop: CancellationToken,
    lanes: Arc<Lanes>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    chat: i64,
) {
    loop {
        let next = {
            let mut queues = lanes.queues.lock().expect("outbox lanes poisoned");
            let queue = queues.get_mut(&chat).expect("a running lane has its queue");
            let next = queue.pop_front();
            if next.is_none() {
                queues.remove(&chat);
            }
            next
        };
        let Some(item) = next else { break };
        if stop.is_cancelled() || !may_deliver(&ctx).await {
            give_back(&lanes, chat, item);
            break;
        }
        let outcome = send(&ctx, &item).await.map(drop);
        if outcomes.send((item, outcome)).is_err() {
            // Cannot happen while `run` waits for the lanes; nothing to record into.
            break;
        }
    }
    lanes.freed.notify_one();
}

/// Returns a lane's unsent rows (this one and its queue) to the table's care.
fn give_back(lanes: &Lanes, chat: i64, item: OutboxItem) {
    let mut in_flight = lanes.in_flight.lock().expect("outbox lanes poisoned");
    let mut queues = lanes.queues.lock().expect("outbox lanes poisoned");
    in_flight.remove(&item.id);
    for rest in queues.remove(&chat).unwrap_or_default() {
        in_flight.remove(&rest.id);
    }
}

/// Writes outcomes as they come, every delivery that arrived together in
/// one statement; a row is settled (see [`Lanes::settled`]) only once its
/// outcome is stored.
async fn record_outcomes(
    ctx: BotContext,
    lanes: Arc<Lanes>,
    mut received: mpsc::UnboundedReceiver<Outcome>,
) {
    let mut burst = Vec::new();
    while received.recv_many(&mut burst, 1_000).await > 0 {
        let mut delivered = Vec::new();
        let mut done = Vec::with_capacity(burst.len());
        for (item, outcome) in burst.drain(..) {
            done.push(item.id);
            match outcome {
                Ok(()) => {
                    crate::metrics::notification_sent();
                    delivered.push(item.id);
                }
                Err(e) => record_failure(&ctx, &item, &e).await,
            }
        }
        if let Err(e) = ctx.db.mark_sent_many(&delivered).await {
            tracing::error!(count = delivered.len(), error = %e, "outbox: cannot record deliveries");
        }
        lanes
            .settled
            .lock()
            .expect("outbox lanes poisoned")
            .extend(done);
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

async fn record_failure(ctx: &BotContext, item: &OutboxItem, e: &RequestError) {
    let note = &item.notification;
    crate::metrics::notification_failed();
    let result = match classify(e, item.attempts) {
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
