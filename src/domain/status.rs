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

/// A person's role. Ordered from least to most trusted: for permissions, a
/// role may do what the roles below it may. A person may hold several (a
/// dispatcher who also goes out as a master): see [`Roles`].
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

/// The roles one person holds. Everybody is a client of the orders they
/// filed themselves, so `Client` is always held.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    const fn bit(role: Role) -> u8 {
        1 << (role as u8)
    }

    /// Just `role` (and, as always, client).
    pub const fn only(role: Role) -> Self {
        Self(Self::bit(Role::Client) | Self::bit(role))
    }

    /// These roles and `role`.
    pub fn with(self, role: Role) -> Self {
        Self(self.0 | Self::bit(role))
    }

    /// Whether `role` is held as such (a dispatcher is not a master unless
    /// they hold the master role too).
    pub fn contains(self, role: Role) -> bool {
        self.0 & Self::bit(role) != 0
    }

    /// The most trusted role held: what permissions ([`super::Permission`])
    /// are judged by, and what the log names.
    pub fn strongest(self) -> Role {
        self.held().last().copied().unwrap_or(Role::Client)
    }

    /// Whether a staff role is among them.
    pub fn is_staff(self) -> bool {
        self.strongest().is_staff()
    }

    /// Every role held, least trusted first.
    pub fn held(self) -> Vec<Role> {
        Role::VARIANTS
            .iter()
            .copied()
            .filter(|r| self.contains(*r))
            .collect()
    }
}

impl Default for Roles {
    fn default() -> Self {
        Self::only(Role::Client)
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(roles: I) -> Self {
        roles.into_iter().fold(Self::default(), Self::with)
    }
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.held()).finish()
    }
}

/// Who is acting, with every role they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub roles: Roles,
}

impl Actor {
    /// A person with one role.
    pub const fn new(user_id: i64, role: Role) -> Self {
        Self {
            user_id,
            roles: Roles::only(role),
        }
    }

    /// Their most trusted role (see [`Roles::strongest`]).
    pub fn role(self) -> Role {
        self.roles.strongest()
    }
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
    /// Deleted in the bot it was imported from: kept to be looked up,
    /// never changed again.
    pub deleted: bool,
}
