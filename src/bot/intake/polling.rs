//! Receiving updates by long polling as a sliding window: the next
//! `getUpdates` is made while earlier updates are still being handled, and
//! the offset confirms only what lies below the oldest update not yet
//! handled (Telegram confirms every update below the offset). A crash at any
//! point leaves every unhandled update unconfirmed, so it is delivered again,
//! and the handlers recognise a redelivered update that did get applied
//! (see `docs/DESIGN.md` §2). Updates that a re-poll returns again while they
//! are in flight (or after they were handled, but still above an older one in
//! flight) are dropped here by id.
//!
//! Each user's updates run in order, one at a time, in per-user queues
//! ([`super::queues::UserQueues`]); no user waits for another.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::gate::Admission;
use super::queues::UserQueues;
use crate::bot::api::{self, Entry};
use crate::bot::incoming::classify;
use crate::bot::BotContext;

/// Long-poll timeout: Telegram holds the request this long when idle.
pub const POLL_TIMEOUT_SECS: u32 = crate::health::LONG_POLL_SECS;

/// The line the runbook waits for.
pub const STARTED_LINE: &str = "Бот успешно запущен!";

/// What the bot asks Telegram to deliver.
pub const ALLOWED_UPDATES: [&str; 3] = ["message", "callback_query", "my_chat_member"];

/// While an update is in flight, Telegram answers every poll at once, with
/// everything from the offset on (at most 100), the updates already taken
/// included. Re-polling at once would mostly fetch those again. So the next
/// poll waits until every update taken has finished (the common case: a
/// batch is handled in a few milliseconds, and nothing is fetched twice), or,
/// when some take longer, until this long after the previous poll: an
/// update that takes seconds holds the offset, and the other users' new
/// updates must still come in. Short, because a batch of fifty takes
/// about 8 ms to handle: an update that arrives meanwhile should not wait
/// for the whole batch (at 2,500 updates/s, p99 update→reply 9–10 ms with
/// 2 ms against 12–13 ms with 10 ms; `docs/BENCHMARKS.md`).
const REPOLL_PAUSE: Duration = Duration::from_millis(2);
/// ...and then only while at most this many taken updates lie at or above
/// the offset, so that each such poll has room for at least 50 new ones;
/// with more, after [`REPOLL_MAX_PAUSE`] (a stuck update must not stop the
/// others' updates from coming in), and not at all once a poll would bring
/// back only taken ones (Telegram returns at most [`POLL_LIMIT`]).
const REPOLL_SPAN: i64 = 50;
/// The pause grows to this while polls bring nothing new.
const REPOLL_MAX_PAUSE: Duration = Duration::from_millis(200);
/// Updates Telegram returns per `getUpdates` at most.
const POLL_LIMIT: i64 = 100;

/// The updates taken from Telegram and not yet handled.
#[derive(Debug, Default)]
pub struct Window {
    in_flight: BTreeSet<i64>,
    /// The highest update id taken so far.
    highest: Option<i64>,
}

impl Window {
    /// The offset to poll with: the oldest update in flight (so it stays
    /// unconfirmed), or the one after the highest taken.
    pub fn offset(&self) -> i64 {
        match (self.in_flight.first(), self.highest) {
            (Some(oldest), _) => *oldest,
            (None, Some(highest)) => highest + 1,
            (None, None) => 0,
        }
    }

    /// Takes update `id` if it is new; `false` for one taken before.
    pub fn take(&mut self, id: i64) -> bool {
        if self.highest.is_some_and(|h| id <= h) {
            return false;
        }
        self.highest = Some(id);
        self.in_flight.insert(id);
        true
    }

    /// Update `id` was handled (or dropped).
    pub fn finish(&mut self, id: i64) {
        self.in_flight.remove(&id);
    }

    /// Ids up to this one were taken already.
    pub fn seen_through(&self) -> i64 {
        self.highest.unwrap_or(-1)
    }

    /// True while some update is being handled.
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// How many taken updates the next poll would return again: the ids
    /// from the offset up to the highest taken.
    pub fn span(&self) -> i64 {
        match (self.in_flight.first(), self.highest) {
            (Some(oldest), Some(highest)) => highest - oldest + 1,
            _ => 0,
        }
    }
}

/// Polls until `stop` is cancelled; then lets the updates in flight finish
/// (at most `grace`) and confirms them.
pub async fn run(ctx: BotContext, stop: CancellationToken, grace: Duration) {
    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    let queues = UserQueues::reporting(ctx.clone(), handled_tx);
    let mut window = Window::default();
    let mut announced = false;
    let mut failures: u32 = 0;
    let mut pause = REPOLL_PAUSE;
    loop {
        while let Ok(id) = handled.try_recv() {
            window.finish(id);
        }
        // The first call does not wait, so the start-up line appears at once;
        // nor does one while updates are in flight (Telegram would answer
        // at once anyway, with the unconfirmed ones).
        let timeout = if announced && !window.busy() {
            POLL_TIMEOUT_SECS
        } else {
            0
        };
        let next_poll = tokio::time::Instant::now() + pause;
        let request = api::get_updates(
            &ctx.bot,
            window.offset(),
            timeout,
            &ALLOWED_UPDATES,
            window.seen_through(),
        );
        let result = tokio::select! {
            _ = stop.cancelled() => break,
            r = request => r,
        };
        let entries = match result {
            Ok(entries) => {
                failures = 0;
                ctx.intake_health.poll_succeeded();
                entries
            }
            Err(e) => {
                failures += 1;
                let wait = match &e {
                    api::PollError::RetryAfter(wait) => *wait,
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
        let mut taken = 0;
        for entry in entries {
            let id = entry.id();
            if !window.take(id) {
                continue;
            }
            taken += 1;
            match entry {
                Entry::Update(_, update) => match classify(&update) {
                    Some(inc) => match ctx.gate.admit(&inc) {
                        Admission::Pass => queues.push_quiet(inc),
                        refused => {
                            super::gate::refuse(&ctx, &inc, refused);
                            window.finish(id);
                        }
                    },
                    None => {
                        crate::metrics::update_ignored();
                        tracing::debug!(update_id = id, "update ignored (not served by this bot)");
                        window.finish(id);
                    }
                },
                Entry::Unreadable { update_id, reason } => {
                    // Confirmed with the others so it cannot block polling;
                    // never logged in full: it holds a user's message.
                    crate::metrics::update_unparseable();
                    tracing::warn!(update_id, reason = %reason, "skipping an update this version cannot read");
                    window.finish(id);
                }
                Entry::Seen(_) => {}
            }
        }
        // See REPOLL_PAUSE and REPOLL_SPAN.
        pause = if taken > 0 {
            REPOLL_PAUSE
        } else {
            (pause * 2).min(REPOLL_MAX_PAUSE)
        };
        while window.busy() {
            let span = window.span();
            let ready_at = if span <= REPOLL_SPAN {
                Some(next_poll)
            } else if span < POLL_LIMIT {
                Some(next_poll + REPOLL_MAX_PAUSE)
            } else {
                None
            };
            if ready_at.is_some_and(|at| tokio::time::Instant::now() >= at) {
                break;
            }
            let wake = ready_at.unwrap_or_else(|| tokio::time::Instant::now() + REPOLL_MAX_PAUSE);
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(id) = handled.recv() => window.finish(id),
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
        if stop.is_cancelled() {
            break;
        }
    }
    if !queues.wait_idle(grace).await {
        tracing::warn!(
            "in-flight updates did not finish within {}s; they will be redelivered",
            grace.as_secs()
        );
    }
    while let Ok(id) = handled.try_recv() {
        window.finish(id);
    }
    confirm(&ctx, &window).await;
    tracing::info!("Получение обновлений остановлено");
}

/// Confirms what was handled before a shutdown, so the next start does not
/// get it again (a redelivery would be harmless, only slower).
async fn confirm(ctx: &BotContext, window: &Window) {
    if window.highest.is_none() {
        return;
    }
    let call = api::get_updates(&ctx.bot, window.offset(), 0, &ALLOWED_UPDATES, i64::MAX);
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not confirm the handled updates; they will be delivered again")
        }
        Err(_) => {
            tracing::warn!("confirming the handled updates timed out; they will be delivered again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_never_passes_an_update_in_flight() {
        let mut w = Window::default();
        assert_eq!(w.offset(), 0);
        for id in [10, 11, 12] {
            assert!(w.take(id));
        }
        assert_eq!(w.offset(), 10);
        // 11 and 12 finish; 10 is slow: nothing may be confirmed yet.
        w.finish(11);
        w.finish(12);
        assert_eq!(w.offset(), 10);
        // A re-poll returns 10..12 again: none is taken twice.
        assert!(!w.take(10) && !w.take(11) && !w.take(12));
        assert!(w.take(13));
        assert_eq!(w.seen_through(), 13);
        assert_eq!(w.span(), 4, "10..=13 would come back");
        w.finish(10);
        assert_eq!(w.offset(), 13, "up to the oldest still in flight");
        assert_eq!(w.span(), 1);
        w.finish(13);
        assert_eq!(w.offset(), 14);
        assert!(!w.busy());
    }
}
