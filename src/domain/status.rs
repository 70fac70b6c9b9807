//! The order lifecycle: which role may do what to an order in which status.
//!
//! `new → assigned → in_progress (⇄ waiting_parts) → done`; `cancelled` from
//! `new`/`assigned` by the client and from any open status by staff. The bot
//! asks [`decide`] before every change, so a replayed or forged button can
//! never move an order where the rules do not allow.

use std::fmt;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    New,
    Assigned,
    InProgress,
    WaitingParts,
    Done,
    Cancelled,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 6] = [
        Self::New,
        Self::Assigned,
        Self::InProgress,
        Self::WaitingParts,
        Self::Done,
        Self::Cancelled,
    ];

    /// Stored code (database, CSV, callback data).
    pub fn code(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::WaitingParts => "waiting_parts",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or untrusted code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Open orders still need someone's work.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Done | Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A person's role; a person has exactly one, the strongest that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Client,
    Master,
    Dispatcher,
    Admin,
}

impl Role {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Master => "master",
            Self::Dispatcher => "dispatcher",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Client, Self::Master, Self::Dispatcher, Self::Admin]
            .into_iter()
            .find(|r| r.code() == code)
    }

    /// Dispatchers and admins run the order board.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Dispatcher | Self::Admin)
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
    pub client_id: i64,
    pub master_id: Option<i64>,
    pub rated: bool,
}

/// Something a person wants to do to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Staff: give the order to a master (or another master).
    Assign { master_id: i64 },
    /// Master: acknowledge the assignment.
    Accept,
    /// Master: on the way / working.
    StartWork,
    /// Master: waiting for spare parts.
    WaitParts,
    /// Master: parts arrived, back to work.
    ResumeWork,
    /// Master: work finished (with work description and price).
    Finish,
    /// Master: cannot do it; the order returns to the dispatchers.
    Decline,
    /// Client (early) or staff (any open status): cancel.
    Cancel,
    /// Staff: an internal comment; no status change.
    Comment,
    /// Client: rate a finished order, once.
    Rate,
}

impl Action {
    /// Stored code for the order history.
    pub fn code(self) -> &'static str {
        match self {
            Self::Assign { .. } => "assign",
            Self::Accept => "accept",
            Self::StartWork => "start_work",
            Self::WaitParts => "wait_parts",
            Self::ResumeWork => "resume_work",
            Self::Finish => "finish",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
            Self::Comment => "comment",
            Self::Rate => "rate",
        }
    }
}

/// An allowed change: the status after it and what happens to the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    /// `Some(Some(id))` sets the master, `Some(None)` clears it, `None` keeps it.
    pub master: Option<Option<i64>>,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// This role may never do this (or not to someone else's order).
    #[error("not allowed for this user")]
    Forbidden,
    /// Allowed in principle, but not in the order's current status.
    #[error("not possible in status {0}")]
    WrongStatus(OrderStatus),
    /// The order was already rated.
    #[error("already rated")]
    AlreadyRated,
}

/// Decides whether `actor` may do `action` to an order; pure.
pub fn decide(
    order: OrderFacts,
    actor: Actor,
    action: Action,
) -> Result<Transition, TransitionError> {
    use OrderStatus as S;
    let staff = actor.role.is_staff();
    let own_client = actor.user_id == order.client_id;
    let own_master = actor.role == Role::Master && order.master_id == Some(actor.user_id);
    let from = order.status;
    let to = |to: OrderStatus, master: Option<Option<i64>>| Ok(Transition { from, to, master });
    let wrong = Err(TransitionError::WrongStatus(from));

    match action {
        Action::Assign { master_id } => {
            if !staff {
                return Err(TransitionError::Forbidden);
            }
            match from {
                S::New | S::Assigned => to(S::Assigned, Some(Some(master_id))),
                _ => wrong,
            }
        }
        Action::Accept
        | Action::StartWork
        | Action::WaitParts
        | Action::ResumeWork
        | Action::Finish
        | Action::Decline => {
            if !own_master {
                return Err(TransitionError::Forbidden);
            }
            match (action, from) {
                (Action::Accept, S::Assigned) => to(S::Assigned, None),
                (Action::StartWork, S::Assigned) => to(S::InProgress, None),
                (Action::WaitParts, S::InProgress) => to(S::WaitingParts, None),
                (Action::ResumeWork, S::WaitingParts) => to(S::InProgress, None),
                (Action::Finish, S::InProgress) => to(S::Done, None),
                (Action::Decline, S::Assigned | S::InProgress | S::WaitingParts) => {
                    to(S::New, Some(None))
                }
                _ => wrong,
            }
        }
        Action::Cancel => {
            if staff {
                if from.is_open() {
                    to(S::Cancelled, None)
                } else {
                    wrong
                }
            } else if own_client && actor.role == Role::Client {
                match from {
                    S::New | S::Assigned => to(S::Cancelled, None),
                    _ => wrong,
                }
            } else {
                Err(TransitionError::Forbidden)
            }
        }
        Action::Comment => {
            if staff {
                to(from, None)
            } else {
                Err(TransitionError::Forbidden)
            }
        }
        Action::Rate => {
            if !own_client || actor.role != Role::Client {
                return Err(TransitionError::Forbidden);
            }
            if from != S::Done {
                return wrong;
            }
            if order.rated {
                return Err(TransitionError::AlreadyRated);
            }
            to(S::Done, None)
        }
    }
}

#[cfg(test)]
mod tests;
