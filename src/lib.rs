//! repair-bot: a Telegram bot for an appliance-repair service.
//!
//! Data flows one way: Telegram update → [`bot`] handler → [`domain`] decision →
//! [`db`] / [`fsm`] writes → replies. The dialog state lives in a persistent
//! [`fsm`] store so that no half-filled order is lost when the bot restarts.

/// Backups of the SQLite database and their restore.
pub mod backup;
/// Telegram side: update loop, handlers per role, keyboards, texts.
pub mod bot;
/// `repair-bot check` and `repair-bot fsm ...`: operator commands.
pub mod cli;
/// The wall clock in the tables' format.
pub mod clock;
/// Environment / `.env` configuration, validated once at start-up.
pub mod config;
/// Orders, people, history and the notification outbox (sqlx, SQLite).
pub mod db;
/// Orders, statuses, validated input types and the order dialog: pure, no I/O.
pub mod domain;
/// Dialog (FSM) state storage: one trait, memory / SQLite / Redis backends.
pub mod fsm;
/// Whether the stores take writes (for `/healthz`).
pub mod health;
/// Periodic deletion of expired dialogs and settled notifications.
pub mod housekeeping;
/// Bringing another bot's data over (`repair-bot import status-bot`).
pub mod import;
/// Counters and histograms for `/metrics`.
pub mod metrics;
/// The owner's Excel reports (open orders; each master's closed work).
pub mod reports;
/// The retry policies of every request loop.
pub mod retry;
/// Reminders, SLA escalations and the daily summary, fired once each.
pub mod scheduler;
/// HTTP server: `/healthz`, `/metrics` and the webhook route.
pub mod server;
/// Wiring: builds every part from the config and runs the bot until shutdown.
pub mod startup;
/// Tracing to stdout and `logs/bot.log` with daily rotation.
pub mod telemetry;
