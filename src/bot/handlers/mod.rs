//! What the bot does with an update: [`router`] reads it as a tree (buttons
//! by their callback, inputs of an open dialog, commands by role) and hands
//! it to the room of its job. Every handler returns a [`BotResult`]; one
//! place ([`error::report`]) turns a failure into the user's reply and the
//! operator's log line.

mod admin;
mod client;
mod error;
#[cfg(debug_assertions)]
pub mod faults;
mod follow_ups;
mod groups;
mod master;
mod masters;
mod money;
mod names;
mod order_dialog;
mod orders;
mod persist;
mod reports;
mod roles;
mod router;
mod staff;

pub use error::{BotError, BotResult};
pub use reports::of_period as period_report;

use super::incoming::Incoming;
use super::BotContext;

/// Handles one update end to end.
pub async fn handle(ctx: &BotContext, incoming: Incoming) {
    router::handle(ctx, incoming).await
}
