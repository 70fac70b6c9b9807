//! Where updates come in: `getUpdates` polling as a sliding window, the
//! webhook's update intake (the HTTP part is [`crate::server`]'s), per-user
//! queues and the flood gate every update passes first. The intake calls
//! [`super::handle`] and nothing else of the handlers.

pub mod gate;
pub mod polling;
pub mod queues;
pub mod webhook;
