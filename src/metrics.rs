//! Process-wide counters, rendered in the Prometheus text format by the HTTP
//! server. Plain atomics: updating a counter on the hot path costs one add.

use std::sync::atomic::{AtomicU64, Ordering};

static UPDATES_HANDLED: AtomicU64 = AtomicU64::new(0);
static UPDATES_IGNORED: AtomicU64 = AtomicU64::new(0);
static HANDLER_PANICS: AtomicU64 = AtomicU64::new(0);
static STORAGE_ERRORS: AtomicU64 = AtomicU64::new(0);
static UNDECODABLE_STATES: AtomicU64 = AtomicU64::new(0);
static ORDERS_FILED: AtomicU64 = AtomicU64::new(0);
static NOTIFICATIONS_SENT: AtomicU64 = AtomicU64::new(0);
static NOTIFICATION_FAILURES: AtomicU64 = AtomicU64::new(0);

/// An update reached a handler.
pub fn update_handled() {
    UPDATES_HANDLED.fetch_add(1, Ordering::Relaxed);
}
/// An update the bot does not serve was skipped.
pub fn update_ignored() {
    UPDATES_IGNORED.fetch_add(1, Ordering::Relaxed);
}
/// A handler panicked (the update got an apology).
pub fn handler_panic() {
    HANDLER_PANICS.fetch_add(1, Ordering::Relaxed);
}
/// The dialog store failed an operation.
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

/// Current values, in the Prometheus text exposition format.
pub fn render() -> String {
    let counters = [
        (
            "repair_bot_updates_handled_total",
            "Updates that reached a handler",
            &UPDATES_HANDLED,
        ),
        (
            "repair_bot_updates_ignored_total",
            "Updates the bot does not serve",
            &UPDATES_IGNORED,
        ),
        (
            "repair_bot_handler_panics_total",
            "Handler panics caught",
            &HANDLER_PANICS,
        ),
        (
            "repair_bot_fsm_storage_errors_total",
            "Failed dialog-store operations",
            &STORAGE_ERRORS,
        ),
        (
            "repair_bot_fsm_undecodable_states_total",
            "Stored dialogs that could not be decoded",
            &UNDECODABLE_STATES,
        ),
        (
            "repair_bot_orders_filed_total",
            "Orders filed",
            &ORDERS_FILED,
        ),
        (
            "repair_bot_notifications_sent_total",
            "Notifications delivered",
            &NOTIFICATIONS_SENT,
        ),
        (
            "repair_bot_notification_failures_total",
            "Failed notification attempts",
            &NOTIFICATION_FAILURES,
        ),
    ];
    let mut out = String::new();
    for (name, help, value) in counters {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
            value.load(Ordering::Relaxed)
        ));
    }
    out
}
