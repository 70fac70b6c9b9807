//! Per-user queues of updates, shared by long polling and the webhook: one
//! user's updates run one at a time in arrival order (a dialog step must see
//! the state the previous step left), different users run in parallel.
//!
//! The queues also know which updates are still in flight, so polling can
//! tell which stored inbox entries are finished (everything below the oldest
//! one in flight) and hold back new `getUpdates` calls while too many wait.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use super::incoming::Incoming;
use super::polling::handle_guarded;
use super::BotContext;

/// An update waiting for its turn, and who (if anyone) to tell when it is handled.
type Queued = (Incoming, Option<oneshot::Sender<()>>);

#[derive(Default)]
struct State {
    queues: HashMap<i64, VecDeque<Queued>>,
    /// Update id → how many copies are queued or running (a replayed inbox
    /// entry and a redelivery may meet).
    in_flight: BTreeMap<i64, u32>,
    /// Sum of `in_flight`'s counts.
    count: usize,
}

/// Per-user queues of updates, each drained by one task at a time.
pub struct UserQueues {
    ctx: BotContext,
    state: Mutex<State>,
    /// Woken after every handled update: for backpressure and idle waits.
    progress: Notify,
}

impl UserQueues {
    /// Queues that hand updates to the handlers of `ctx`.
    pub fn new(ctx: BotContext) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            state: Mutex::default(),
            progress: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change is a single push/pop/insert: a poisoned map is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `inc` behind the user's earlier updates; the receiver fires
    /// once it was handled.
    pub fn push(self: &Arc<Self>, inc: Incoming) -> oneshot::Receiver<()> {
        let (done, handled) = oneshot::channel();
        self.enqueue(inc, Some(done));
        handled
    }

    /// Queues `inc` with nobody waiting for it in particular.
    pub fn push_detached(self: &Arc<Self>, inc: Incoming) {
        self.enqueue(inc, None);
    }

    fn enqueue(self: &Arc<Self>, inc: Incoming, done: Option<oneshot::Sender<()>>) {
        let user = inc.sender.user_id;
        {
            let mut state = self.lock();
            *state.in_flight.entry(inc.update_id).or_default() += 1;
            state.count += 1;
            if let Some(queue) = state.queues.get_mut(&user) {
                // A worker owns this entry until it removes it: it will see this update.
                queue.push_back((inc, done));
                return;
            }
            state.queues.insert(user, VecDeque::from([(inc, done)]));
        }
        let this = Arc::clone(self);
        tokio::spawn(async move { this.drain(user).await });
    }

    async fn drain(&self, user: i64) {
        loop {
            let next = {
                let mut state = self.lock();
                match state.queues.get_mut(&user).and_then(VecDeque::pop_front) {
                    Some(item) => Some(item),
                    None => {
                        state.queues.remove(&user);
                        None
                    }
                }
            };
            let Some((inc, done)) = next else { break };
            let update_id = inc.update_id;
            handle_guarded(&self.ctx, inc).await;
            {
                let mut state = self.lock();
                state.count -= 1;
                if let Some(copies) = state.in_flight.get_mut(&update_id) {
                    *copies -= 1;
                    if *copies == 0 {
                        state.in_flight.remove(&update_id);
                    }
                }
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
            self.progress.notify_waiters();
        }
    }

    /// How many updates are queued or running.
    pub fn in_flight(&self) -> usize {
        self.lock().count
    }

    /// The oldest update id still queued or running: every update before it
    /// that was ever pushed is handled.
    pub fn oldest_in_flight(&self) -> Option<i64> {
        self.lock().in_flight.keys().next().copied()
    }

    /// Waits until fewer than `limit` updates are in flight.
    pub async fn wait_below(&self, limit: usize) {
        loop {
            let progressed = self.progress.notified();
            if self.in_flight() < limit {
                return;
            }
            progressed.await;
        }
    }

    /// Waits until every queued update was handled, at most `limit`; `false`
    /// if some were still running.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.wait_below(1))
            .await
            .is_ok()
    }
}
