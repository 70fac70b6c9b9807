//! What goes out to Telegram: replies to the update being handled, and the
//! outbox worker that delivers queued notifications exactly once.

pub mod outbox;
pub mod pace;
pub mod reply;
