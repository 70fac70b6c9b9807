//! Process-wide counters and histograms for `/metrics`, kept in the
//! `prometheus` crate's types and rendered by its text encoder (the classic
//! Prometheus exposition format the dashboards already scrape; every name and
//! label of the hand-written version is kept). Recording on the hot path is
//! an atomic add on a pre-built handle.
//!
//! Gauges that need I/O (active dialogs, orders by status, outbox backlog)
//! are gathered by [`crate::server`] at scrape time and passed to
//! [`render_with`].

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use strum::VariantArray;

use crate::domain::{Code, OrderStatus};

/// Upper bounds (seconds) of the latency buckets: from sub-millisecond
/// storage operations up to handlers waiting on a slow Bot API.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Dialog-store operations timed by [`crate::fsm::metered::MeteredStorage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum FsmOp {
    Get,
    Set,
    Clear,
}

/// What kind of update reached the bot (for `repair_bot_updates_total{kind}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// A message (text, command, contact, photo, anything else).
    Message,
    /// An inline-button press.
    Callback,
}

/// Every series of the process, registered once.
struct Metrics {
    registry: Registry,
    updates: IntCounterVec,
    updates_handled: IntCounter,
    updates_ignored: IntCounter,
    handler_latency: Histogram,
    handler_panics: IntCounter,
    fsm_latency: HistogramVec,
    fsm_errors: IntCounterVec,
    storage_errors: IntCounter,
    undecodable_states: IntCounter,
    locks_lost: IntCounter,
    orders_filed: IntCounter,
    notifications_sent: IntCounter,
    notification_failures: IntCounter,
    webhook_rejected: IntCounter,
    updates_throttled: IntCounter,
    http_connections_refused: IntCounter,
    updates_unparseable: IntCounter,
    replies_lost: IntCounter,
    rows_purged: IntCounter,
    outbox_unrecorded: IntGauge,
    jobs_fired: IntCounterVec,
    rate_limited: IntCounter,
}

/// Registers `metric` and hands it back; the names are constants of this
/// file, so a registration error is a programming error caught by the tests.
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique constants");
    metric
}

impl Metrics {
    fn new() -> Self {
        let r = Registry::new();
        let counter = |name: &str, help: &str| {
            registered(&r, IntCounter::new(name, help).expect("valid metric name"))
        };
        let latency = |name: &str, help: &str| {
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec())
        };
        let updates = registered(
            &r,
            IntCounterVec::new(
                Opts::new("repair_bot_updates_total", "Updates received, by kind"),
                &["kind"],
            )
            .expect("valid metric"),
        );
        let fsm_latency = registered(
            &r,
            HistogramVec::new(
                latency(
                    "repair_bot_fsm_operation_duration_seconds",
                    "Dialog-store operation latency",
                ),
                &["op"],
            )
            .expect("valid metric"),
        );
        let fsm_errors = registered(
            &r,
            IntCounterVec::new(
                Opts::new(
                    "repair_bot_fsm_operation_errors_total",
                    "Failed dialog-store operations, by operation",
                ),
                &["op"],
            )
            .expect("valid metric"),
        );
        // Every label value appears from the start, also at zero, so
        // dashboards see the series before the first event.
        for kind in ["message", "callback", "ignored"] {
            updates.with_label_values(&[kind]);
        }
        let jobs_fired = registered(
            &r,
            IntCounterVec::new(
                Opts::new(
                    "repair_bot_jobs_fired_total",
                    "Scheduled jobs fired (reminders, escalations, summaries), by kind",
                ),
                &["kind"],
            )
            .expect("valid metric"),
        );
        for kind in crate::domain::schedule::JobKind::VARIANTS {
            jobs_fired.with_label_values(&[<&str>::from(*kind)]);
        }
        for op in FsmOp::VARIANTS {
            let op: &str = (*op).into();
            fsm_latency.with_label_values(&[op]);
            fsm_errors.with_label_values(&[op]);
        }
        Self {
            updates,
            updates_handled: counter(
                "repair_bot_updates_handled_total",
                "Updates that reached a handler",
            ),
            updates_ignored: counter(
                "repair_bot_updates_ignored_total",
                "Updates the bot does not serve",
            ),
            handler_latency: registered(
                &r,
                Histogram::with_opts(latency(
                    "repair_bot_handler_duration_seconds",
                    "Time to handle one update",
                ))
                .expect("valid metric"),
            ),
            handler_panics: counter("repair_bot_handler_panics_total", "Handler panics caught"),
            fsm_latency,
            fsm_errors,
            storage_errors: counter(
                "repair_bot_fsm_storage_errors_total",
                "Dialog-store failures seen by handlers",
            ),
            undecodable_states: counter(
                "repair_bot_fsm_undecodable_states_total",
                "Stored dialogs that could not be decoded",
            ),
            locks_lost: counter(
                "repair_bot_locks_lost_total",
                "Redis locks that expired while still held (should stay 0)",
            ),
            orders_filed: counter("repair_bot_orders_filed_total", "Orders filed"),
            notifications_sent: counter(
                "repair_bot_notifications_sent_total",
                "Notifications delivered",
            ),
            notification_failures: counter(
                "repair_bot_notification_failures_total",
                "Failed notification attempts",
            ),
            jobs_fired,
            rate_limited: counter(
                "repair_bot_telegram_429_total",
                "Requests Telegram answered 429 Too Many Requests",
            ),
            webhook_rejected: counter(
                "repair_bot_webhook_rejected_total",
                "Webhook requests refused (wrong secret, too big, too slow or malformed body)",
            ),
            updates_throttled: counter(
                "repair_bot_updates_throttled_total",
                "Updates dropped by the per-user flood limit",
            ),
            http_connections_refused: counter(
                "repair_bot_http_connections_refused_total",
                "HTTP connections closed at once because too many were open",
            ),
            updates_unparseable: counter(
                "repair_bot_updates_unparseable_total",
                "getUpdates entries that are not Telegram updates (skipped)",
            ),
            replies_lost: counter(
                "repair_bot_replies_lost_total",
                "Direct replies not delivered after their retries (the question is asked again)",
            ),
            rows_purged: counter(
                "repair_bot_rows_purged_total",
                "Expired dialogs and delivered notifications deleted by housekeeping",
            ),
            outbox_unrecorded: registered(
                &r,
                IntGauge::new(
                    "repair_bot_outbox_unrecorded",
                    "Sent notifications whose delivery is not yet written (held, never resent)",
                )
                .expect("valid metric"),
            ),
            registry: r,
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn m() -> &'static Metrics {
    &METRICS
}

/// An update reached a handler.
pub fn update_handled() {
    m().updates_handled.inc();
}
/// An update of `kind` was handled in `elapsed`: feeds the per-kind counter
/// and the handler latency histogram.
pub fn handler_finished(kind: UpdateKind, elapsed: Duration) {
    let kind = match kind {
        UpdateKind::Message => "message",
        UpdateKind::Callback => "callback",
    };
    m().updates.with_label_values(&[kind]).inc();
    m().handler_latency.observe(elapsed.as_secs_f64());
}
/// An update the bot does not serve was skipped.
pub fn update_ignored() {
    m().updates.with_label_values(&["ignored"]).inc();
    m().updates_ignored.inc();
}
/// A handler panicked (the update got an apology).
pub fn handler_panic() {
    m().handler_panics.inc();
}
/// The dialog store failed an operation (as seen by a handler).
pub fn storage_error() {
    m().storage_errors.inc();
}
/// A stored dialog could not be decoded and was reset.
pub fn undecodable_state() {
    m().undecodable_states.inc();
}
/// An order was filed.
pub fn order_filed() {
    m().orders_filed.inc();
}
/// The outbox delivered a notification.
pub fn notification_sent() {
    m().notifications_sent.inc();
}
/// The outbox failed an attempt.
pub fn notification_failed() {
    m().notification_failures.inc();
}
/// A scheduled job of `kind` fired.
pub fn job_fired(kind: &str) {
    m().jobs_fired.with_label_values(&[kind]).inc();
}
/// Telegram answered 429 (flood control).
pub fn rate_limited() {
    m().rate_limited.inc();
}
/// A dialog-store operation finished (`ok = false` when it failed).
pub fn fsm_operation(op: FsmOp, elapsed: Duration, ok: bool) {
    let op: &str = op.into();
    m().fsm_latency
        .with_label_values(&[op])
        .observe(elapsed.as_secs_f64());
    if !ok {
        m().fsm_errors.with_label_values(&[op]).inc();
    }
}
/// A Redis lock expired while its holder was still working.
pub fn lock_lost() {
    m().locks_lost.inc();
}
/// A webhook request was refused (bad secret, too big, too slow or malformed).
pub fn webhook_rejected() {
    m().webhook_rejected.inc();
}
/// An update was dropped by the per-user flood limit.
pub fn update_throttled() {
    m().updates_throttled.inc();
}
/// An HTTP connection was closed at once: too many were open.
pub fn http_connection_refused() {
    m().http_connections_refused.inc();
}
/// `getUpdates` returned an entry that is not a Telegram update; it was skipped.
pub fn update_unparseable() {
    m().updates_unparseable.inc();
}
/// A direct reply could not be delivered even after its retries.
pub fn reply_lost() {
    m().replies_lost.inc();
}
/// Sent notifications whose outcome is waiting to be written.
pub fn outbox_unrecorded(rows: usize) {
    m().outbox_unrecorded
        .set(i64::try_from(rows).unwrap_or(i64::MAX));
}
/// Housekeeping deleted `rows` expired rows (old dialogs, delivered notifications).
pub fn rows_purged(rows: u64) {
    m().rows_purged.inc_by(rows);
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
    /// Scheduled jobs pending, and those late (due over a minute ago).
    pub jobs: Option<(i64, i64)>,
}

/// Counters and histograms only, in the Prometheus text exposition format.
pub fn render() -> String {
    render_with(&Gauges::default())
}

/// Every series, with the I/O-backed `gauges`, in the Prometheus text format.
/// The scrape-time gauges live in a registry of their own, built per scrape:
/// a gauge whose collection failed is left out, not reported as a stale value.
pub fn render_with(gauges: &Gauges) -> String {
    let scrape = Registry::new();
    let gauge = |name: &str, help: &str, value: i64| {
        let g = registered(
            &scrape,
            IntGauge::new(name, help).expect("valid metric name"),
        );
        g.set(value);
    };
    if let Some(n) = gauges.active_dialogs {
        gauge(
            "repair_bot_active_dialogs",
            "Dialogs in progress in the dialog store",
            n,
        );
    }
    if let Some(rows) = &gauges.orders_by_status {
        let orders = registered(
            &scrape,
            IntGaugeVec::new(
                Opts::new("repair_bot_orders", "Orders by status"),
                &["status"],
            )
            .expect("valid metric"),
        );
        // Every status appears, also with zero orders, so dashboards see the series.
        for status in OrderStatus::VARIANTS.iter().copied() {
            let n = rows
                .iter()
                .find(|(code, _)| code == status.code())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            orders.with_label_values(&[status.code()]).set(n);
        }
    }
    if let Some(n) = gauges.outbox_backlog {
        gauge(
            "repair_bot_outbox_backlog",
            "Notifications waiting to be sent",
            n,
        );
    }
    if let Some((pending, late)) = gauges.jobs {
        gauge(
            "repair_bot_jobs_pending",
            "Scheduled jobs not yet fired",
            pending,
        );
        gauge(
            "repair_bot_jobs_late",
            "Scheduled jobs due over a minute ago and not fired",
            late,
        );
    }
    let mut families = m().registry.gather();
    families.extend(scrape.gather());
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
        tracing::warn!(error = %e, "could not render the metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(out: &str, series: &str) -> u64 {
        out.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} in\n{out}"))
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let x = "repair_bot_fsm_operation_duration_seconds";
        let bucket = |le: &str| format!("{x}_bucket{{op=\"clear\",le=\"{le}\"}}");
        let les = ["0.0005", "0.005", "10", "+Inf"];
        let before = render();
        fsm_operation(FsmOp::Clear, Duration::from_micros(300), true);
        fsm_operation(FsmOp::Clear, Duration::from_millis(3), true);
        fsm_operation(FsmOp::Clear, Duration::from_secs(60), false);
        let after = render();
        // Other tests of this process may time a clear too: at least ours.
        for (le, n) in les.iter().zip([1, 2, 2, 3]) {
            let grew = value(&after, &bucket(le)) - value(&before, &bucket(le));
            assert!(grew >= n, "{le}: +{grew}, expected +{n}");
        }
        let counts: Vec<u64> = les.iter().map(|le| value(&after, &bucket(le))).collect();
        assert!(
            counts.windows(2).all(|w| w[0] <= w[1]),
            "cumulative: {counts:?}"
        );
        let count = value(&after, &format!("{x}_count{{op=\"clear\"}}"));
        assert_eq!(count, counts[3], "+Inf holds every observation");
        assert!(
            value(
                &after,
                "repair_bot_fsm_operation_errors_total{op=\"clear\"}"
            ) >= 1
        );
        assert!(after.contains("# TYPE repair_bot_handler_duration_seconds histogram"));
    }

    #[test]
    fn every_series_is_there_from_the_start() {
        let out = render();
        for series in [
            "repair_bot_updates_total{kind=\"ignored\"}",
            "repair_bot_updates_handled_total",
            "repair_bot_handler_panics_total",
            "repair_bot_fsm_operation_errors_total{op=\"get\"}",
            "repair_bot_rows_purged_total",
            "repair_bot_outbox_unrecorded",
        ] {
            assert!(
                out.lines().any(|l| l.starts_with(&format!("{series} "))),
                "{series} in\n{out}"
            );
        }
        assert!(
            !out.contains("repair_bot_active_dialogs"),
            "left out when unknown"
        );
    }

    #[test]
    fn gauges_list_every_order_status() {
        let text = render_with(&Gauges {
            active_dialogs: Some(4),
            orders_by_status: Some(vec![("new".into(), 2)]),
            outbox_backlog: Some(0),
            jobs: Some((3, 1)),
        });
        assert!(text.contains("repair_bot_jobs_pending 3\n"));
        assert!(text.contains("repair_bot_jobs_late 1\n"));
        assert!(text.contains("repair_bot_jobs_fired_total{kind=\"sla_new\"} 0\n"));
        assert!(text.contains("repair_bot_active_dialogs 4\n"));
        assert!(text.contains("repair_bot_orders{status=\"new\"} 2\n"));
        assert!(text.contains("repair_bot_orders{status=\"closed\"} 0\n"));
        assert!(text.contains("repair_bot_outbox_backlog 0\n"));
    }
}
