//! Order statuses and their groups, roles, and who is acting: the nouns of
//! the lifecycle rules in [`super::lifecycle`].

use strum::{EnumString, IntoStaticStr, VariantArray};

/// Where an order is in its life, as the shop runs it:
/// `new → assigned → accepted → on_site → closed`, with `long_repair` beside
/// `on_site`, `refused` by the shop and `cancelled` by the client. The code
/// (`on_site`...) is stored in the database, the CSV export and callback
/// data; the codes of the first releases (`in_progress`, `waiting_parts`,
/// `done`) still decode, so an old button or export reads right.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr, VariantArray, strum::Display,
)]
#[strum(serialize_all = "snake_case")]
pub enum OrderStatus {
    New,
    /// Given to a master who has not yet said they saw it.
    Assigned,
    /// The master saw it and took it on.
    Accepted,
    /// The master is at the client's, working.
    #[strum(to_string = "on_site", serialize = "in_progress")]
    OnSite,
    /// Waiting for parts or a workshop repair; back to on site, or closed.
    #[strum(to_string = "long_repair", serialize = "waiting_parts")]
    LongRepair,
    /// The work is done and paid.
    #[strum(to_string = "closed", serialize = "done")]
    Closed,
    /// The shop turned it down (with a reason); may be reopened.
    Refused,
    /// The client called it off.
    Cancelled,
}

/// A named set of statuses, for lists and queries that must agree with the
/// lifecycle (the SQL layer reads its `IN (...)` lists from here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusGroup {
    /// Still needs someone's work.
    Open,
    /// Finished one way or the other; nothing moves it any more.
    Terminal,
    /// Open and in a master's hands (assigned, accepted, on site, long repair).
    WithMaster,
}

impl StatusGroup {
    /// Whether `status` belongs to the group.
    pub fn contains(self, status: OrderStatus) -> bool {
        match self {
            Self::Open => status.is_open(),
            Self::Terminal => !status.is_open(),
            Self::WithMaster => status.is_open() && status != OrderStatus::New,
        }
    }

    /// The group's statuses in lifecycle order.
    pub fn statuses(self) -> Vec<OrderStatus> {
        OrderStatus::VARIANTS
            .iter()
            .copied()
            .filter(|s| self.contains(*s))
            .collect()
    }
}

/// A stored status as read back; an unknown code is an error.
impl TryFrom<String> for OrderStatus {
    type Error = strum::ParseError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        code.parse()
    }
}

impl OrderStatus {
    /// Open orders still need someone's work.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Closed | Self::Refused | Self::Cancelled)
    }
}

/// A person's role; a person has exactly one, the strongest that applies.
/// Ordered from least to most trusted: a role may do what the roles below it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Client,
    Master,
    Dispatcher,
    Admin,
}

impl Role {
    /// Dispatchers and admins run the order board.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Dispatcher | Self::Admin)
    }

    /// Whether this role may do what `needed` may (admins everything,
    /// dispatchers what masters may, everybody what clients may).
    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
}

/// What the rules need to know about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFacts {
    pub status: OrderStatus,
    /// The client's Telegram user, when the order has one (a phoned-in
    /// order has none until the caller shares their number with the bot).
    pub client_id: Option<i64>,
    pub master_id: Option<i64>,
    pub rated: bool,
}
