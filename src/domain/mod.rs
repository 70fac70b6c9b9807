//! The repair shop's rules, free of Telegram, SQL and Redis: what an order is,
//! which inputs are acceptable, how the order dialog advances and who may move
//! an order to which status.

mod appliance;
mod dialog;
mod input;
mod status;

pub use appliance::ApplianceKind;
pub use dialog::{
    advance, Advance, DialogInput, EditField, OrderDraft, OrderStep, Refusal as DialogRefusal,
    VisitSlot, DRAFT_SCHEMA_VERSION,
};
pub use input::{Address, Description, InputError, Phone, PlainText, Price, VisitTime};
pub use status::{
    decide, Action, Actor, OrderFacts, OrderStatus, Role, Transition, TransitionError,
};
