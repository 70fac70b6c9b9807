//! Process-wide counters and histograms, rendered in the Prometheus text
//! format by the HTTP server (`/metrics`). Plain atomics with fixed buckets:
//! recording on the hot path costs a few adds, no locks, no extra crate.
//!
//! Gauges that need I/O (active dialogs, orders by status, outbox backlog)
//! are gathered by [`crate::server`] at scrape time and passed to
//! [`render_with`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static UPDATES_HANDLED: AtomicU64 = AtomicU64::new(0);
static UPDATES_IGNORED: AtomicU64 = AtomicU64::new(0);
static UPDATES_MESSAGE: AtomicU64 = AtomicU64::new(0);
static UPDATES_CALLBACK: AtomicU64 = AtomicU64::new(0);
static HANDLER_PANICS: AtomicU64 = AtomicU64::new(0);
static STORAGE_ERRORS: AtomicU64 = AtomicU64::new(0);
static UNDECODABLE_STATES: AtomicU64 = AtomicU64::new(0);
static ORDERS_FILED: AtomicU64 = AtomicU64::new(0);
static NOTIFICATIONS_SENT: AtomicU64 = AtomicU64::new(0);
static NOTIFICATION_FAILURES: AtomicU64 = AtomicU64::new(0);
static WEBHOOK_REJECTED: AtomicU64 = AtomicU64::new(0);
static LOCKS_LOST: AtomicU64 = AtomicU64::new(0);
static UPDATES_UNPARSEABLE: AtomicU64 = AtomicU64::new(0);
static REPLIES_LOST: AtomicU64 = AtomicU64::new(0);
static OUTBOX_UNRECORDED: AtomicU64 = AtomicU64::new(0);
static ROWS_PURGED: AtomicU64 = AtomicU64::new(0);
static HTTP_CONNECTIONS_REFUSED: AtomicU64 = AtomicU64::new(0);
static UPDATES_THROTTLED: AtomicU64 = AtomicU64::new(0);

/// Unix milliseconds of the last successful `getUpdates` (0 = never).
static LAST_POLL_OK_MS: AtomicU64 = AtomicU64::new(0);
/// Set once `setWebhook` succeeded and the server listens.
static WEBHOOK_READY: AtomicBool = AtomicBool::new(false);

/// Upper bounds (seconds) of the latency buckets: from sub-millisecond
/// storage operations up to handlers waiting on a slow Bot API.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with the fixed [`LATENCY_BUCKETS`].
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// An empty histogram (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        // Only the first bucket that fits is bumped; rendering makes them cumulative.
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            out.push_str(&format!(
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}\n"
            ));
        }
        let count = self.count();
        out.push_str(&format!(
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}\n"
        ));
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        out.push_str(&format!("{name}_sum{} {sum}\n", braces(labels)));
        out.push_str(&format!("{name}_count{} {count}\n", braces(labels)));
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

static HANDLER_LATENCY: Histogram = Histogram::new();

/// Dialog-store operations timed by [`crate::fsm::metered::MeteredStorage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsmOp {
    Get,
    Set,
    Clear,
}

impl FsmOp {
    const ALL: [FsmOp; 3] = [FsmOp::Get, FsmOp::Set, FsmOp::Clear];

    fn label(self) -> &'static str {
        match self {
            FsmOp::Get => "get",
            FsmOp::Set => "set",
            FsmOp::Clear => "clear",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

static FSM_LATENCY: [Histogram; 3] = [const { Histogram::new() }; 3];
static FSM_OP_ERRORS: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// What kind of update reached the bot (for `repair_bot_updates_total{kind}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// A message (text, command, contact, photo, anything else).
    Message,
    /// An inline-button press.
    Callback,
}

/// An update reached a handler.
pub fn update_handled() {
    UPDATES_HANDLED.fetch_add(1, Ordering::Relaxed);
}
/// An update of `kind` was handled in `elapsed`: feeds the per-kind counter
/// and the handler latency histogram.
pub fn handler_finished(kind: UpdateKind, elapsed: Duration) {
    match kind {
        UpdateKind::Message => UPDATES_MESSAGE.fetch_add(1, Ordering::Relaxed),
        UpdateKind::Callback => UPDATES_CALLBACK.fetch_add(1, Ordering::Relaxed),
    };
    HANDLER_LATENCY.observe(elapsed);
}
/// An update the bot does not serve was skipped.
pub fn update_ignored() {
    UPDATES_IGNORED.fetch_add(1, Ordering::Relaxed);
}
/// A handler panicked (the update got an apology).
pub fn handler_panic() {
    HANDLER_PANICS.fetch_add(1, Ordering::Relaxed);
}
/// The dialog store failed an operation (as seen by a handler).
pub fn storage_error() {
    STORAGE_ERRORS.fetch_add(1, Ordering::Relaxed);
}
/// A stored dialog could not be decoded and was reset.
pub fn undecodable_state() {
    UNDECODABLE_STATES.fetch_add(1, Ordering::Relaxed);
}
/// An order was filed.
pub fn order_filed() {
    ORDERS_FILED.fetch_add(1, Ordering::Relaxed);
}
/// The outbox delivered a notification.
pub fn notification_sent() {
    NOTIFICATIONS_SENT.fetch_add(1, Ordering::Relaxed);
}
/// The outbox failed an attempt.
pub fn notification_failed() {
    NOTIFICATION_FAILURES.fetch_add(1, Ordering::Relaxed);
}
/// A dialog-store operation finished (`ok = false` when it failed).
pub fn fsm_operation(op: FsmOp, elapsed: Duration, ok: bool) {
    FSM_LATENCY[op.index()].observe(elapsed);
    if !ok {
        FSM_OP_ERRORS[op.index()].fetch_add(1, Ordering::Relaxed);
    }
}
/// A Redis lock expired while its holder was still working.
pub fn lock_lost() {
    LOCKS_LOST.fetch_add(1, Ordering::Relaxed);
}
/// A webhook request was refused (bad secret, too big, too slow or malformed).
pub fn webhook_rejected() {
    WEBHOOK_REJECTED.fetch_add(1, Ordering::Relaxed);
}
/// An update was dropped by the per-user flood limit.
pub fn update_throttled() {
    UPDATES_THROTTLED.fetch_add(1, Ordering::Relaxed);
}
/// An HTTP connection was closed at once: too many were open.
pub fn http_connection_refused() {
    HTTP_CONNECTIONS_REFUSED.fetch_add(1, Ordering::Relaxed);
}
/// `getUpdates` returned an entry that is not a Telegram update; it was skipped.
pub fn update_unparseable() {
    UPDATES_UNPARSEABLE.fetch_add(1, Ordering::Relaxed);
}
/// A direct reply could not be delivered even after its retries.
pub fn reply_lost() {
    REPLIES_LOST.fetch_add(1, Ordering::Relaxed);
}
/// Sent notifications whose outcome is waiting to be written.
pub fn outbox_unrecorded(rows: usize) {
    OUTBOX_UNRECORDED.store(rows as u64, Ordering::Relaxed);
}
/// Housekeeping deleted `rows` expired rows (old dialogs, delivered notifications).
pub fn rows_purged(rows: u64) {
    ROWS_PURGED.fetch_add(rows, Ordering::Relaxed);
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `getUpdates` answered: updates are being received (health check).
pub fn poll_succeeded() {
    LAST_POLL_OK_MS.store(now_ms(), Ordering::Relaxed);
}
/// Time since the last successful `getUpdates`; `None` if there was none.
pub fn since_last_poll() -> Option<Duration> {
    match LAST_POLL_OK_MS.load(Ordering::Relaxed) {
        0 => None,
        t => Some(Duration::from_millis(now_ms().saturating_sub(t))),
    }
}
/// The webhook is registered and the server accepts updates (health check).
pub fn webhook_ready() {
    WEBHOOK_READY.store(true, Ordering::Relaxed);
}
/// Whether [`webhook_ready`] was called.
pub fn is_webhook_ready() -> bool {
    WEBHOOK_READY.load(Ordering::Relaxed)
}

/// Values that need I/O to collect; `None` when collecting failed (the
/// series is then left out rather than reported as a false zero).
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    /// Dialogs in the store (cached by the caller).
    pub active_dialogs: Option<i64>,
    /// Orders per status code.
    pub orders_by_status: Option<Vec<(String, i64)>>,
    /// Notifications waiting in the outbox.
    pub outbox_backlog: Option<i64>,
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    out.push_str(&format!(
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
    ));
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    out.push_str(&format!(
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
    ));
}

/// Counters and histograms only, in the Prometheus text exposition format.
pub fn render() -> String {
    render_with(&Gauges::default())
}

/// Every series, with the I/O-backed `gauges`, in the Prometheus text format.
pub fn render_with(gauges: &Gauges) -> String {
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::new();

    out.push_str(
        "# HELP repair_bot_updates_total Updates received, by kind\n# TYPE repair_bot_updates_total counter\n",
    );
    for (kind, value) in [
        ("message", &UPDATES_MESSAGE),
        ("callback", &UPDATES_CALLBACK),
        ("ignored", &UPDATES_IGNORED),
    ] {
        out.push_str(&format!(
            "repair_bot_updates_total{{kind=\"{kind}\"}} {}\n",
            load(value)
        ));
    }
    counter(
        &mut out,
        "repair_bot_updates_handled_total",
        "Updates that reached a handler",
        load(&UPDATES_HANDLED),
    );
    counter(
        &mut out,
        "repair_bot_updates_ignored_total",
        "Updates the bot does not serve",
        load(&UPDATES_IGNORED),
    );
    out.push_str("# HELP repair_bot_handler_duration_seconds Time to handle one update\n# TYPE repair_bot_handler_duration_seconds histogram\n");
    HANDLER_LATENCY.render(&mut out, "repair_bot_handler_duration_seconds", "");
    counter(
        &mut out,
        "repair_bot_handler_panics_total",
        "Handler panics caught",
        load(&HANDLER_PANICS),
    );

    out.push_str("# HELP repair_bot_fsm_operation_duration_seconds Dialog-store operation latency\n# TYPE repair_bot_fsm_operation_duration_seconds histogram\n");
    for op in FsmOp::ALL {
        FSM_LATENCY[op.index()].render(
            &mut out,
            "repair_bot_fsm_operation_duration_seconds",
            &format!("op=\"{}\"", op.label()),
        );
    }
    out.push_str("# HELP repair_bot_fsm_operation_errors_total Failed dialog-store operations, by operation\n# TYPE repair_bot_fsm_operation_errors_total counter\n");
    for op in FsmOp::ALL {
        out.push_str(&format!(
            "repair_bot_fsm_operation_errors_total{{op=\"{}\"}} {}\n",
            op.label(),
            load(&FSM_OP_ERRORS[op.index()])
        ));
    }
    counter(
        &mut out,
        "repair_bot_fsm_storage_errors_total",
        "Dialog-store failures seen by handlers",
        load(&STORAGE_ERRORS),
    );
    counter(
        &mut out,
        "repair_bot_fsm_undecodable_states_total",
        "Stored dialogs that could not be decoded",
        load(&UNDECODABLE_STATES),
    );
    counter(
        &mut out,
        "repair_bot_locks_lost_total",
        "Redis locks that expired while still held (should stay 0)",
        load(&LOCKS_LOST),
    );
    counter(
        &mut out,
        "repair_bot_orders_filed_total",
        "Orders filed",
        load(&ORDERS_FILED),
    );
    counter(
        &mut out,
        "repair_bot_notifications_sent_total",
        "Notifications delivered",
        load(&NOTIFICATIONS_SENT),
    );
    counter(
        &mut out,
        "repair_bot_notification_failures_total",
        "Failed notification attempts",
        load(&NOTIFICATION_FAILURES),
    );
    counter(
        &mut out,
        "repair_bot_webhook_rejected_total",
        "Webhook requests refused (wrong secret, too big, too slow or malformed body)",
        load(&WEBHOOK_REJECTED),
    );
    counter(
        &mut out,
        "repair_bot_updates_throttled_total",
        "Updates dropped by the per-user flood limit",
        load(&UPDATES_THROTTLED),
    );
    counter(
        &mut out,
        "repair_bot_http_connections_refused_total",
        "HTTP connections closed at once because too many were open",
        load(&HTTP_CONNECTIONS_REFUSED),
    );
    counter(
        &mut out,
        "repair_bot_updates_unparseable_total",
        "getUpdates entries that are not Telegram updates (skipped)",
        load(&UPDATES_UNPARSEABLE),
    );
    counter(
        &mut out,
        "repair_bot_replies_lost_total",
        "Direct replies not delivered after their retries (the question is asked again)",
        load(&REPLIES_LOST),
    );
    counter(
        &mut out,
        "repair_bot_rows_purged_total",
        "Expired dialogs and delivered notifications deleted by housekeeping",
        load(&ROWS_PURGED),
    );
    gauge(
        &mut out,
        "repair_bot_outbox_unrecorded",
        "Sent notifications whose delivery is not yet written (held, never resent)",
        load(&OUTBOX_UNRECORDED) as i64,
    );

    if let Some(n) = gauges.active_dialogs {
        gauge(
            &mut out,
            "repair_bot_active_dialogs",
            "Dialogs in progress in the dialog store",
            n,
        );
    }
    if let Some(rows) = &gauges.orders_by_status {
        out.push_str("# HELP repair_bot_orders Orders by status\n# TYPE repair_bot_orders gauge\n");
        // Every status appears, also with zero orders, so dashboards see the series.
        for status in crate::domain::OrderStatus::ALL {
            let n = rows
                .iter()
                .find(|(code, _)| code == status.code())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            out.push_str(&format!(
                "repair_bot_orders{{status=\"{}\"}} {n}\n",
                status.code()
            ));
        }
    }
    if let Some(n) = gauges.outbox_backlog {
        gauge(
            &mut out,
            "repair_bot_outbox_backlog",
            "Notifications waiting to be sent",
            n,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x", "op=\"get\"");
        assert!(
            out.contains("x_bucket{op=\"get\",le=\"0.0005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{op=\"get\",le=\"0.005\"} 2\n"),
            "{out}"
        );
        assert!(out.contains("x_bucket{op=\"get\",le=\"10\"} 2\n"), "{out}");
        assert!(
            out.contains("x_bucket{op=\"get\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("x_count{op=\"get\"} 3\n"), "{out}");
    }

    #[test]
    fn gauges_list_every_order_status() {
        let text = render_with(&Gauges {
            active_dialogs: Some(4),
            orders_by_status: Some(vec![("new".into(), 2)]),
            outbox_backlog: Some(0),
        });
        assert!(text.contains("repair_bot_active_dialogs 4\n"));
        assert!(text.contains("repair_bot_orders{status=\"new\"} 2\n"));
        assert!(text.contains("repair_bot_orders{status=\"done\"} 0\n"));
        assert!(text.contains("repair_bot_outbox_backlog 0\n"));
    }
}
