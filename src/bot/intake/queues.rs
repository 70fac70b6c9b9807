//! Per-user queues of updates, each drained by one task at a time: one
//! user's updates are handled strictly in arrival order, different users in
//! parallel, and no user waits for another. Polling and the webhook both
//! feed them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::reply;
use crate::bot::BotContext;

/// An update waiting for its turn, and who to tell when it is handled.
type Queued = (Incoming, Option<oneshot::Sender<()>>);

/// Per-user queues of updates.
pub struct UserQueues {
    ctx: BotContext,
    queues: Mutex<HashMap<i64, VecDeque<Queued>>>,
    workers: AtomicUsize,
    idle: Notify,
    /// Gets the id of every update once it is handled (polling's window).
    handled: Option<mpsc::UnboundedSender<i64>>,
}

impl UserQueues {
    /// Queues that hand updates to the handlers of `ctx`.
    pub fn new(ctx: BotContext) -> Arc<Self> {
        Self::build(ctx, None)
    }

    /// Queues that also report each handled update's id on `handled`.
    pub fn reporting(ctx: BotContext, handled: mpsc::UnboundedSender<i64>) -> Arc<Self> {
        Self::build(ctx, Some(handled))
    }

    fn build(ctx: BotContext, handled: Option<mpsc::UnboundedSender<i64>>) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            queues: Mutex::default(),
            workers: AtomicUsize::new(0),
            idle: Notify::new(),
            handled,
        })
    }

    /// The context updates are handled with.
    pub fn context(&self) -> &BotContext {
        &self.ctx
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, VecDeque<Queued>>> {
        // Queue operations are single push/pop calls: a poisoned map is still consistent.
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `inc` behind the user's earlier updates; the receiver fires
    /// once it was handled.
    pub fn push(self: &Arc<Self>, inc: Incoming) -> oneshot::Receiver<()> {
        let (done, handled) = oneshot::channel();
        self.enqueue(inc, Some(done));
        handled
    }

    /// Queues `inc` with no one waiting for it (its id is still reported).
    pub fn push_quiet(self: &Arc<Self>, inc: Incoming) {
        self.enqueue(inc, None);
    }

    fn enqueue(self: &Arc<Self>, inc: Incoming, done: Option<oneshot::Sender<()>>) {
        let user = inc.sender.user_id;
        {
            let mut queues = self.lock();
            if let Some(queue) = queues.get_mut(&user) {
                // A worker owns this entry until it removes it: it will see this update.
                queue.push_back((inc, done));
                return;
            }
            queues.insert(user, VecDeque::from([(inc, done)]));
        }
        self.workers.fetch_add(1, Ordering::SeqCst);
        let this = Arc::clone(self);
        tokio::spawn(async move { this.drain(user).await });
    }

    async fn drain(&self, user: i64) {
        loop {
            let next = {
                let mut queues = self.lock();
                match queues.get_mut(&user).and_then(VecDeque::pop_front) {
                    Some(inc) => Some(inc),
                    None => {
                        queues.remove(&user);
                        None
                    }
                }
            };
            let Some((inc, done)) = next else { break };
            let update_id = inc.update_id;
            handle_guarded(&self.ctx, inc).await;
            if let Some(done) = done {
                let _ = done.send(());
            }
            if let Some(handled) = &self.handled {
                let _ = handled.send(update_id);
            }
        }
        if self.workers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Waits until every queued update was handled, at most `limit`; `false`
    /// if some were still running (they will be delivered again: the
    /// handlers' update-id bookkeeping makes that safe).
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.workers.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
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
    let outcome = AssertUnwindSafe(crate::bot::handle(ctx, inc))
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
