//! Delivers queued notifications. A notification is marked sent only after
//! Telegram accepted it; failures are retried with backoff (honouring 429
//! `retry_after`), and refusals that can never succeed (bot blocked, chat
//! gone) are given up on and logged. Pending rows survive restarts.
//!
//! Each chat with due messages gets a *lane*: a task that sends that chat's
//! messages one after another, in order. Lanes run side by side (at most
//! `MAX_LANES`) and independently: a receipt for one client never waits
//! for a dispatcher chat's backlog, nor for any other chat. Outcomes go to
//! one recorder that writes each burst of deliveries with one statement. A
//! row stays "in flight" from the moment a lane takes it until the reader
//! releases it, after its outcome is written and before the reader's next
//! look, so no look at the table hands it out twice (see `Lanes::settled`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bot::ui::{keyboards, texts};
use crate::bot::BotContext;
use crate::db::{now_ms, Notification, OutboxItem};
use teloxide::types::{Message, MessageEntity, MessageId, UserId};

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
pub struct Lanes {
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
    /// Rows sent whose outcome the recorder could not write yet.
    unrecorded: AtomicUsize,
    /// When each group chat was last sent to, for Telegram's limit there.
    group_pace: Mutex<HashMap<i64, VecDeque<Instant>>>,
    /// Rows that failed and are waiting for their retry to be recorded, by
    /// row, with their chat: until then no later row of that chat is
    /// dispatched (the table keeps them behind it afterwards).
    failed: Mutex<HashMap<i64, i64>>,
}

/// Telegram takes about 20 messages a minute into one group; beyond that
/// it answers 429 for a while. A group's lane waits for room instead, so
/// the group's messages keep their order and other chats do not wait.
const GROUP_MESSAGES_PER_MINUTE: usize = 20;
const GROUP_WINDOW: Duration = Duration::from_secs(60);

impl Lanes {
    /// How long a send to `chat` must wait for room in its group's minute
    /// (zero for private chats and for a group with room); a send that may
    /// go now is counted.
    fn group_wait(&self, chat: i64, now: Instant) -> Duration {
        if chat >= 0 {
            return Duration::ZERO;
        }
        let mut pace = self.group_pace.lock().expect("outbox lanes poisoned");
        let sent = pace.entry(chat).or_default();
        while sent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= GROUP_WINDOW)
        {
            sent.pop_front();
        }
        if sent.len() >= GROUP_MESSAGES_PER_MINUTE {
            let oldest = *sent.front().expect("full window");
            return GROUP_WINDOW.saturating_sub(now.duration_since(oldest));
        }
        sent.push_back(now);
        Duration::ZERO
    }
}

/// How new notifications reach the worker. The table stays the record
/// (restarts, retries, other replicas' rows), but a filed order hands its
/// rows over at once, sparing the worker a look at the table per order.
#[derive(Default)]
pub struct Feed {
    wake: Notify,
    /// Rows just committed, handed over by the transaction that queued them.
    fresh: Mutex<Vec<OutboxItem>>,
    /// Rows were queued without being handed over: look at the table.
    look: AtomicBool,
    /// The worker's lanes: handlers that send a row themselves
    /// ([`deliver_now`]) take it in flight here, like a lane would.
    lanes: Arc<Lanes>,
    /// The recorder's intake while the worker runs.
    outcomes: Mutex<Option<mpsc::UnboundedSender<Outcome>>>,
    /// Telegram's limits, for the lanes and the direct sends.
    pace: super::pace::Pace,
}

impl Feed {
    /// A feed whose lanes keep to `pace` (see [`super::pace`]).
    pub fn new(pace: super::pace::Pace) -> Self {
        Self {
            pace,
            ..Self::default()
        }
    }

    /// Hands over rows the caller has just committed to the outbox.
    pub fn queued(&self, items: Vec<OutboxItem>) {
        if items.is_empty() {
            return;
        }
        self.fresh
            .lock()
            .expect("outbox feed poisoned")
            .extend(items);
        self.wake.notify_one();
    }

    /// Notifications were queued in the table: the worker looks for them.
    pub fn changed(&self) {
        self.look.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Sends `item` (a row just committed) from the caller's task, at handler
/// speed, instead of through the worker's queue: the client's receipt after
/// Confirm is their reply and must not wait behind staff alerts. The row is
/// still the record: it is taken in flight as a lane would take it, and its
/// outcome goes to the same recorder, so the duplicate window is the same.
/// When the row's chat already has a lane (keeping that chat's order), the
/// worker is not running, or another replica holds the outbox lease, it is
/// handed over to the worker instead.
pub async fn deliver_now(ctx: &BotContext, item: OutboxItem) {
    let feed = &ctx.outbox;
    let outcomes = feed.outcomes.lock().expect("outbox feed poisoned").clone();
    // A group's messages go through its lane, which keeps to the group's limit.
    let Some(outcomes) = outcomes.filter(|_| item.notification.chat_id >= 0) else {
        feed.queued(vec![item]);
        return;
    };
    // Taken before anything is awaited after the commit: a look at the
    // table that finds the row now sees it in flight.
    if !feed.lanes.take_for_caller(&item) {
        feed.queued(vec![item]);
        return;
    }
    if !may_deliver(ctx).await {
        // Another replica delivers: it finds the row in the table.
        feed.lanes
            .in_flight
            .lock()
            .expect("outbox lanes poisoned")
            .remove(&item.id);
        return;
    }
    // A reply in a conversation: like the dialog's other replies, not
    // paced (the person waits for it, and the flood gate limits them).
    let outcome = send(ctx, &item).await;
    if let Err(returned) = outcomes.send((item, outcome)) {
        // The worker stopped meanwhile: the row stays unsent in the table.
        tracing::warn!(outbox_id = returned.0 .0.id, "outbox stopped before a direct send was recorded; it will be sent again after a restart");
    }
    feed.wake.notify_one();
}

impl Lanes {
    /// Takes `item` in flight for a caller that sends it itself; `false`
    /// when it is in flight already or its chat has a lane (whose order
    /// it must not overtake).
    fn take_for_caller(&self, item: &OutboxItem) -> bool {
        let mut in_flight = self.in_flight.lock().expect("outbox lanes poisoned");
        let queues = self.queues.lock().expect("outbox lanes poisoned");
        if in_flight.contains(&item.id) || queues.contains_key(&item.notification.chat_id) {
            return false;
        }
        in_flight.insert(item.id);
        true
    }
}

/// Rows handed over are checked against the deliveries settled this recently,
/// so a row that a look at the table found, sent and settled before its
/// handover arrived is not sent a second time. The handover follows the
/// commit at once, well within this.
const HANDOVER_HORIZON: Duration = Duration::from_secs(1);

/// Delivered rows the reader has released, for [`HANDOVER_HORIZON`].
#[derive(Default)]
struct RecentlySettled {
    order: VecDeque<(Instant, i64)>,
    ids: HashSet<i64>,
}

impl RecentlySettled {
    fn add(&mut self, now: Instant, ids: &[i64]) {
        while let Some(&(at, id)) = self.order.front() {
            if now.duration_since(at) < HANDOVER_HORIZON {
                break;
            }
            self.order.pop_front();
            self.ids.remove(&id);
        }
        for &id in ids {
            if self.ids.insert(id) {
                self.order.push_back((now, id));
            }
        }
    }

    fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }
}

/// One delivery attempt, for the recorder.
type Outcome = (OutboxItem, Result<(), RequestError>);

/// Runs until `stop` is cancelled; on the way out the messages being sent are
/// finished and every outcome is written.
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    let lanes = ctx.outbox.lanes.clone();
    let (outcomes, received) = mpsc::unbounded_channel();
    *ctx.outbox.outcomes.lock().expect("outbox feed poisoned") = Some(outcomes.clone());
    let recorder = tokio::spawn(record_outcomes(ctx.clone(), lanes.clone(), received));
    let mut running = JoinSet::new();
    deliver_until_stopped(&ctx, &stop, &lanes, &outcomes, &mut running).await;
    *ctx.outbox.outcomes.lock().expect("outbox feed poisoned") = None;
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
/// Whether this replica runs the outbox and the scheduler now (it holds
/// the lease, or runs alone).
pub async fn holds_lease(ctx: &BotContext) -> bool {
    may_deliver(ctx).await
}

async fn may_deliver(ctx: &BotContext) -> bool {
    match &ctx.outbox_lease {
        Some(lease) => lease.hold().await,
        None => true,
    }
}

/// Dispatches rows to lanes: those handed over by the [`Feed`] at once, and
/// those found by a look at the table, which happens when something was
/// queued without a handover, when rows were left without a lane and a lane
/// ended, and at least every [`IDLE_POLL`] (retries, other replicas' rows,
/// what a restart left). Rows whose chat finds no room stay for a later look.
async fn deliver_until_stopped(
    ctx: &BotContext,
    stop: &CancellationToken,
    lanes: &Arc<Lanes>,
    outcomes: &mpsc::UnboundedSender<Outcome>,
    running: &mut JoinSet<()>,
) {
    let feed = &ctx.outbox;
    let mut recent = RecentlySettled::default();
    let mut look = true;
    let mut left_out = false;
    let mut next_look = Instant::now();
    while !stop.is_cancelled() {
        // Finished lanes are reaped here so the set does not grow.
        while running.try_join_next().is_some() {}
        if let Some(lease) = &ctx.outbox_lease {
            if !lease.hold().await {
                // Another replica delivers; what was handed over here is in
                // the table for it. Check again well within the lease's lifetime.
                feed.fresh.lock().expect("outbox feed poisoned").clear();
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(IDLE_POLL) => continue,
                }
            }
        }
        // Registered before the look, so a lane ending meanwhile is not missed.
        let freed = lanes.freed.notified();
        let released = std::mem::take(&mut *lanes.settled.lock().expect("outbox lanes poisoned"));
        recent.add(Instant::now(), &released);
        look |= feed.look.swap(false, Ordering::AcqRel) || Instant::now() >= next_look;
        let mut rows = std::mem::take(&mut *feed.fresh.lock().expect("outbox feed poisoned"));
        rows.retain(|item| !recent.contains(item.id));
        if look {
            match ctx.db.due_notifications_fair(BATCH, PER_CHAT).await {
                Ok(due) => rows.extend(due),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: cannot read pending notifications")
                }
            }
            look = false;
            left_out = false;
            next_look = Instant::now() + IDLE_POLL;
            feed.pace.forget_idle_chats();
        }
        if lanes.unrecorded.load(Ordering::Acquire) >= MAX_UNRECORDED {
            // The table cannot learn what was sent: send nothing more until
            // it can. Handed-over rows stay in the table for a later look.
            rows.clear();
            look = true;
        }
        let dispatched = dispatch(lanes, &released, rows);
        left_out |= dispatched.left_out;
        for chat in dispatched.started {
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
            _ = feed.wake.notified() => {}
            _ = freed => look |= left_out,
            _ = tokio::time::sleep_until(next_look.into()) => {}
        }
    }
}

/// What [`dispatch`] did.
struct Dispatched {
    /// Chats whose lane must be started.
    started: Vec<i64>,
    /// Some rows found no room; a look must find them again.
    left_out: bool,
}

/// Releases the rows settled before the look, then queues the rows not in
/// flight on their chat's lane, starting lanes as room allows.
fn dispatch(lanes: &Lanes, released: &[i64], rows: Vec<OutboxItem>) -> Dispatched {
    let mut in_flight = lanes.in_flight.lock().expect("outbox lanes poisoned");
    let mut failed = lanes.failed.lock().expect("outbox lanes poisoned");
    for id in released {
        in_flight.remove(id);
        failed.remove(id);
    }
    let held: HashSet<i64> = failed.values().copied().collect();
    drop(failed);
    let mut queues = lanes.queues.lock().expect("outbox lanes poisoned");
    let mut done = Dispatched {
        started: Vec::new(),
        left_out: false,
    };
    for item in rows {
        if in_flight.contains(&item.id) {
            continue;
        }
        let (id, chat) = (item.id, item.notification.chat_id);
        if held.contains(&chat) {
            done.left_out = true;
            continue;
        }
        if let Some(queue) = queues.get_mut(&chat) {
            queue.push_back(item);
        } else if queues.len() < MAX_LANES {
            queues.insert(chat, VecDeque::from([item]));
            done.started.push(chat);
        } else {
            done.left_out = true;
            continue;
        }
        in_flight.insert(id);
    }
    done
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
        let mut stopped = false;
        loop {
            let wait = lanes.group_wait(chat, Instant::now());
            if wait.is_zero() {
                break;
            }
            tracing::debug!(
                chat_id = chat,
                wait_ms = wait.as_millis() as u64,
                "group at its per-minute limit; holding its next message"
            );
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => {
                    stopped = true;
                    break;
                }
            }
        }
        if stopped {
            give_back(&lanes, chat, item);
            break;
        }
        tokio::select! {
            _ = ctx.outbox.pace.before_notification(chat) => {}
            _ = stop.cancelled() => {
                give_back(&lanes, chat, item);
                break;
            }
        }
        let outcome = send(&ctx, &item).await;
        let failed = outcome.is_err();
        if failed {
            lanes
                .failed
                .lock()
                .expect("outbox lanes poisoned")
                .insert(item.id, chat);
        }
        if outcomes.send((item, outcome)).is_err() {
            // Cannot happen while `run` waits for the lanes; nothing to record into.
            break;
        }
        if failed {
            // The chat's later messages wait for this one's retry (the
            // table keeps them behind it), so its order is kept.
            give_back_queue(&lanes, chat);
            break;
        }
    }
    lanes.freed.notify_one();
}

/// Returns a lane's queue (not the row just tried) to the table's care.
fn give_back_queue(lanes: &Lanes, chat: i64) {
    let mut in_flight = lanes.in_flight.lock().expect("outbox lanes poisoned");
    let mut queues = lanes.queues.lock().expect("outbox lanes poisoned");
    for rest in queues.remove(&chat).unwrap_or_default() {
        in_flight.remove(&rest.id);
    }
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

/// Rows whose outcome could not be written yet, at most: past this the
/// reader hands out no new rows (they wait in the table) until the records
/// go through, so a long storage fault cannot grow memory without bound.
const MAX_UNRECORDED: usize = 2_000;
/// How long shutdown keeps trying to write held records before it gives
/// up on them (within the start-up code's 10 s grace for the outbox; a send
/// still in flight past that grace is the duplicate window of DESIGN.md §3).
const SHUTDOWN_RECORD_PATIENCE: Duration = Duration::from_secs(5);
/// Longest pause between two tries of writing held records.
const MAX_RECORD_BACKOFF: Duration = Duration::from_secs(5);

/// What the table must learn about one or more sends.
#[derive(Debug, Clone, PartialEq)]
enum Record {
    /// Telegram accepted these rows.
    Delivered(Vec<i64>),
    /// This row failed; try again at `at` (ms since the epoch).
    Retry { id: i64, error: String, at: i64 },
    /// This row will never be accepted.
    GiveUp { id: i64, error: String },
}

impl Record {
    fn ids(&self) -> Vec<i64> {
        match self {
            Record::Delivered(ids) => ids.clone(),
            Record::Retry { id, .. } | Record::GiveUp { id, .. } => vec![*id],
        }
    }
}

/// Writes outcomes as they come, every delivery that arrived together in
/// one statement. A row is settled (see [`Lanes::settled`]) only once its
/// outcome is stored: while a write fails (a full disk) the record is held
/// here and tried again with backoff, and the row stays in flight, so no look
/// at the table finds it unsent and sends it a second time.
async fn record_outcomes(
    ctx: BotContext,
    lanes: Arc<Lanes>,
    mut received: mpsc::UnboundedReceiver<Outcome>,
) {
    let mut burst = Vec::new();
    let mut held: Vec<Record> = Vec::new();
    let mut backoff = Duration::from_millis(250);
    let mut closed_at: Option<Instant> = None;
    loop {
        if closed_at.is_none() {
            let arrived = if held.is_empty() {
                received.recv_many(&mut burst, 1_000).await
            } else {
                // Take what arrives meanwhile, but come back to the held records.
                tokio::select! {
                    n = received.recv_many(&mut burst, 1_000) => n,
                    _ = tokio::time::sleep(backoff) => usize::MAX,
                }
            };
            if arrived == 0 {
                closed_at = Some(Instant::now());
            }
        } else {
            tokio::time::sleep(backoff).await;
        }
        let mut delivered = Vec::new();
        for (item, outcome) in burst.drain(..) {
            match outcome {
                Ok(()) => {
                    crate::metrics::notification_sent();
                    delivered.push(item.id);
                }
                Err(e) => held.push(failure_record(&item, &e)),
            }
        }
        if !delivered.is_empty() {
            held.insert(0, Record::Delivered(delivered));
        }
        let before = held.len();
        let settled = write_records(&ctx, &mut held).await;
        lanes
            .settled
            .lock()
            .expect("outbox lanes poisoned")
            .extend(settled);
        let unrecorded: usize = held.iter().map(|r| r.ids().len()).sum();
        lanes.unrecorded.store(unrecorded, Ordering::Release);
        crate::metrics::outbox_unrecorded(unrecorded);
        if held.is_empty() {
            if closed_at.is_some() {
                break;
            }
            backoff = Duration::from_millis(250);
        } else if held.len() >= before {
            backoff = (backoff * 2).min(MAX_RECORD_BACKOFF);
        }
        if closed_at.is_some_and(|at| at.elapsed() >= SHUTDOWN_RECORD_PATIENCE) {
            let ids: Vec<i64> = held.iter().flat_map(Record::ids).collect();
            tracing::error!(count = ids.len(), outbox_ids = ?ids, "outbox: delivery outcomes could not be recorded before shutdown; these rows will be sent again after a restart");
            break;
        }
    }
}

/// Writes `held` in order; returns the ids written and keeps the records
/// that failed (the storage is still refusing writes) for the next try.
async fn write_records(ctx: &BotContext, held: &mut Vec<Record>) -> Vec<i64> {
    let mut settled = Vec::new();
    let mut kept = Vec::new();
    for record in held.drain(..) {
        let result = match &record {
            Record::Delivered(ids) => ctx.db.mark_sent_many(ids).await,
            Record::Retry { id, error, at } => ctx.db.retry_later(*id, error, *at).await,
            Record::GiveUp { id, error } => ctx.db.give_up(*id, error).await,
        };
        match result {
            Ok(()) => settled.extend(record.ids()),
            Err(e) => {
                if kept.is_empty() {
                    tracing::error!(error = %e, "outbox: cannot record delivery outcomes; holding them (and not resending their rows) until the database takes writes again");
                }
                kept.push(record);
            }
        }
    }
    *held = kept;
    settled
}

async fn send(ctx: &BotContext, item: &OutboxItem) -> Result<(), RequestError> {
    let note = &item.notification;
    if let Some(document) = &note.document {
        return send_document(ctx, item.id, note, document).await;
    }
    let Some(card) = &note.card else {
        return post(ctx, note).await.map(drop);
    };
    if !card.fresh {
        if let Some(message_id) = known_card(ctx, card.order_id, note.chat_id).await {
            match edit_card(ctx, note, message_id).await {
                Ok(()) => return Ok(()),
                // Deleted by someone in the group, or too old to edit:
                // the card is posted again below.
                Err(RequestError::Api(
                    ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
                )) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let posted = post(ctx, note).await?;
    if let Err(e) = ctx
        .db
        .remember_card(card.order_id, note.chat_id, posted.id.0)
        .await
    {
        // The next change posts the card anew instead of editing this one.
        tracing::warn!(order_id = card.order_id, chat_id = note.chat_id, error = %e, "cannot remember a posted card");
    }
    Ok(())
}

/// Sends a file with the note's text as its caption. A row whose file
/// cannot be decoded (damaged by hand) sends the caption alone rather than
/// retrying for ever.
async fn send_document(
    ctx: &BotContext,
    outbox_id: i64,
    note: &Notification,
    document: &crate::db::Document,
) -> Result<(), RequestError> {
    let Some(bytes) = document.bytes() else {
        tracing::error!(
            outbox_id,
            "an outbox row's file cannot be decoded; its text is sent alone"
        );
        return post(ctx, note).await.map(drop);
    };
    let file = teloxide::types::InputFile::memory(bytes).file_name(document.file_name.clone());
    ctx.bot
        .send_document(ChatId(note.chat_id), file)
        .caption(texts::truncate_caption(&note.text))
        .await
        .map(drop)
}

/// Sends `note` as a new message; a card's mention becomes a link to the
/// master that notifies them.
async fn post(ctx: &BotContext, note: &Notification) -> Result<Message, RequestError> {
    let text = texts::truncate_for_telegram(&note.text);
    let mut req = ctx.bot.send_message(ChatId(note.chat_id), text);
    if let Some(markup) = keyboards::from_rows(&note.buttons) {
        req = req.reply_markup(markup);
    }
    if let Some((user_id, name)) = note.card.as_ref().and_then(|c| c.mention.as_ref()) {
        if note.text.starts_with(name.as_str()) {
            let length = name.encode_utf16().count();
            req = req.entities(vec![MessageEntity::text_mention_id(
                UserId(*user_id as u64),
                0,
                length,
            )]);
        }
    }
    let _slot = ctx.api_slot().await;
    req.await
}

/// Edits the card `message_id` to `note`'s text and buttons (none: the
/// buttons go). An edit that changes nothing is done.
async fn edit_card(
    ctx: &BotContext,
    note: &Notification,
    message_id: i32,
) -> Result<(), RequestError> {
    let text = texts::truncate_for_telegram(&note.text);
    let markup = match keyboards::from_rows(&note.buttons) {
        Some(teloxide::types::ReplyMarkup::InlineKeyboard(k)) => k,
        _ => teloxide::types::InlineKeyboardMarkup::default(),
    };
    let req = ctx
        .bot
        .edit_message_text(ChatId(note.chat_id), MessageId(message_id), text)
        .reply_markup(markup);
    let _slot = ctx.api_slot().await;
    match req.await {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The message showing an order's card in a chat; a lookup that fails
/// posts a new card rather than losing the update.
async fn known_card(ctx: &BotContext, order_id: i64, chat_id: i64) -> Option<i32> {
    match ctx.db.card_message(order_id, chat_id).await {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(order_id, chat_id, error = %e, "cannot read a posted card; posting it again");
            None
        }
    }
}

/// Logs a failed attempt and turns it into the record the table needs.
fn failure_record(item: &OutboxItem, e: &RequestError) -> Record {
    let note = &item.notification;
    crate::metrics::notification_failed();
    match classify(e, item.attempts) {
        Retry::At(wait) => {
            tracing::warn!(outbox_id = item.id, chat_id = note.chat_id, attempts = item.attempts + 1, error = %e, retry_in_ms = wait.as_millis() as u64, "notification not delivered; will retry");
            Record::Retry {
                id: item.id,
                error: e.to_string(),
                at: now_ms() + wait.as_millis() as i64,
            }
        }
        Retry::Never => {
            tracing::error!(outbox_id = item.id, chat_id = note.chat_id, error = %e, "notification refused for good; giving up");
            Record::GiveUp {
                id: item.id,
                error: e.to_string(),
            }
        }
    }
}

enum Retry {
    At(Duration),
    Never,
}

fn classify(e: &RequestError, attempts: i64) -> Retry {
    let backoff = Duration::from_secs(1u64 << attempts.clamp(0, 10) as u32).min(MAX_BACKOFF);
    match e {
        RequestError::RetryAfter(secs) => {
            crate::metrics::rate_limited();
            Retry::At(secs.duration())
        }
        // No answer within the client's timeout: Telegram may still deliver
        // the message. Another try only once that can no longer happen.
        RequestError::Network(net) if net.is_timeout() => {
            Retry::At(crate::bot::api::UNKNOWN_OUTCOME_HOLD.max(backoff))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_gets_twenty_messages_a_minute_and_private_chats_no_limit() {
        let lanes = Lanes::default();
        let start = Instant::now();
        for _ in 0..GROUP_MESSAGES_PER_MINUTE {
            assert_eq!(lanes.group_wait(-100, start), Duration::ZERO);
        }
        let wait = lanes.group_wait(-100, start + Duration::from_secs(10));
        assert_eq!(
            wait,
            Duration::from_secs(50),
            "the 21st waits for the first to leave the minute"
        );
        // Another group and a private chat are not held by it.
        assert_eq!(lanes.group_wait(-200, start), Duration::ZERO);
        for _ in 0..100 {
            assert_eq!(lanes.group_wait(42, start), Duration::ZERO);
        }
        // A minute after the first, there is room again.
        assert_eq!(lanes.group_wait(-100, start + GROUP_WINDOW), Duration::ZERO);
    }

    fn row(id: i64, chat_id: i64) -> OutboxItem {
        OutboxItem {
            id,
            notification: Notification {
                chat_id,
                text: format!("#{id}"),
                buttons: vec![],
                card: None,
                document: None,
            },
            attempts: 0,
        }
    }

    fn queued(lanes: &Lanes, chat: i64) -> Vec<i64> {
        let queues = lanes.queues.lock().unwrap();
        queues
            .get(&chat)
            .map(|q| q.iter().map(|i| i.id).collect())
            .unwrap_or_default()
    }

    #[test]
    fn rows_in_flight_are_not_handed_out_twice_until_released() {
        let lanes = Lanes::default();
        let first = dispatch(&lanes, &[], vec![row(1, 10), row(2, 10), row(3, 20)]);
        assert_eq!(first.started, vec![10, 20]);
        assert!(!first.left_out);
        assert_eq!(queued(&lanes, 10), vec![1, 2]);
        // A look that finds the same rows (not yet settled) changes nothing.
        let again = dispatch(&lanes, &[], vec![row(1, 10), row(3, 20), row(4, 10)]);
        assert!(again.started.is_empty(), "chat 10 already has a lane");
        assert_eq!(queued(&lanes, 10), vec![1, 2, 4], "only the new row joins");
        assert_eq!(queued(&lanes, 20), vec![3]);
        // Released rows may be handed out again (a retry found by a later look).
        lanes.queues.lock().unwrap().clear();
        let after = dispatch(&lanes, &[1], vec![row(1, 10), row(2, 10)]);
        assert_eq!(after.started, vec![10]);
        assert_eq!(queued(&lanes, 10), vec![1], "2 is still in flight");
    }

    #[test]
    fn chats_beyond_the_lane_limit_wait_for_a_later_look() {
        let lanes = Lanes::default();
        let rows: Vec<OutboxItem> = (0..MAX_LANES as i64 + 2).map(|i| row(i, 100 + i)).collect();
        let done = dispatch(&lanes, &[], rows);
        assert_eq!(done.started.len(), MAX_LANES);
        assert!(done.left_out, "the reader must look again when a lane ends");
        let in_flight = lanes.in_flight.lock().unwrap();
        assert_eq!(in_flight.len(), MAX_LANES, "left-out rows stay free");
        assert!(!in_flight.contains(&(MAX_LANES as i64)));
    }

    #[test]
    fn settled_rows_are_remembered_for_the_handover_horizon() {
        let mut recent = RecentlySettled::default();
        let start = Instant::now();
        recent.add(start, &[1, 2]);
        assert!(recent.contains(1) && recent.contains(2) && !recent.contains(3));
        recent.add(start + HANDOVER_HORIZON / 2, &[3]);
        assert!(recent.contains(1), "still within the horizon");
        recent.add(start + HANDOVER_HORIZON, &[]);
        assert!(
            !recent.contains(1) && !recent.contains(2),
            "forgotten after it"
        );
        assert!(recent.contains(3));
        assert_eq!(recent.order.len(), recent.ids.len());
    }

    #[test]
    fn the_feed_hands_over_rows_and_asks_for_looks() {
        let feed = Feed::default();
        feed.queued(vec![]);
        assert!(feed.fresh.lock().unwrap().is_empty());
        feed.queued(vec![row(7, 1)]);
        assert_eq!(feed.fresh.lock().unwrap().len(), 1);
        assert!(!feed.look.load(Ordering::Acquire));
        feed.changed();
        assert!(feed.look.load(Ordering::Acquire));
    }
}
