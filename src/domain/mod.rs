//! The repair shop's rules, free of Telegram, SQL and Redis: what an order is,
//! which inputs are acceptable, how the dialogs advance, who may move an
//! order to which status and who may use which part of the bot.

mod access;
mod appliance;
mod code;
mod correction;
mod dialog;
mod follow_up;
mod input;
pub mod legacy;
mod lifecycle;
mod masters;
pub mod money;
pub mod privacy;
pub mod report;
pub mod schedule;
mod search;
mod status;
mod when;

pub use access::Permission;
pub use appliance::ApplianceKind;
pub use code::Code;
pub use correction::{describe_change, Correction};
pub use dialog::{
    advance, Advance, DialogInput, EditField, KnownClient, OrderDraft, OrderStep,
    Refusal as DialogRefusal, VisitSlot, DRAFT_SCHEMA_VERSION,
};
pub use follow_up::{
    follow_up, CloseEntry, CloseForm, CloseStep, Dialog, FollowUp, FollowUpButton, FollowUpInput,
    Hint, RepairForm, RepairStep, RepairTerms,
};
pub use input::{Address, ClientName, Description, InputError, Phone, PlainText, VisitTime};
pub use lifecycle::{
    allowed_actions, decide, may_read_history, may_view, permits, Action, ActionKind, Transition,
    TransitionError, MIN_REFUSE_REASON,
};
pub use masters::{rank_for, Candidate, MasterProfile};
pub use money::{ClosedMoney, Money, SplitRules};
pub use search::SearchQuery;
pub use status::{Actor, OrderFacts, OrderStatus, Role, Roles, StatusGroup};
pub use when::{
    day_start, last_days, parse_visit, shop_now, shop_time_zone, Visit, WhenError, Window,
};
