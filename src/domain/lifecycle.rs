//! The order lifecycle: which role may do what to an order in which status.
//!
//! `new → assigned → in_progress (⇄ waiting_parts) → done`; `cancelled` from
//! `new`/`assigned` by the client and from any open status by staff. The bot
//! asks [`decide`] before every change and builds its buttons from
//! [`allowed_actions`], so a replayed or forged button can never move an
//! order where the rules do not allow, and a button the rules would refuse
//! is never shown.

use strum::{EnumDiscriminants, EnumString, IntoStaticStr, VariantArray};

use super::{Actor, OrderFacts, OrderStatus, Role};

/// Something a person wants to do to an order, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq, EnumDiscriminants)]
#[strum_discriminants(
    name(ActionKind),
    derive(Hash, EnumString, IntoStaticStr, VariantArray),
    strum(serialize_all = "snake_case")
)]
pub enum Action {
    /// Staff: give the order to a master (or another master). `seen_master`
    /// is the master the actor saw on the order: if someone changed it since,
    /// the assignment is refused as [`TransitionError::Outdated`].
    Assign {
        master_id: i64,
        seen_master: Option<i64>,
    },
    /// Master: acknowledge the assignment.
    Accept,
    /// Master: on the way / working.
    StartWork,
    /// Master: waiting for spare parts.
    WaitParts,
    /// Master: parts arrived, back to work.
    ResumeWork,
    /// Master: work finished, with the work done and its price.
    Finish { work: String, price: i64 },
    /// Master: cannot do it; the order returns to the dispatchers.
    Decline { reason: String },
    /// Client (early) or staff (any open status): cancel.
    Cancel,
    /// Staff: an internal comment; no status change.
    Comment { text: String },
    /// Client: rate a finished order (1–5 stars), once.
    Rate { stars: u8 },
}

impl Action {
    /// What kind of action this is (the part the rules look at).
    pub fn kind(&self) -> ActionKind {
        self.into()
    }

    /// Stored code for the order history.
    pub fn code(&self) -> &'static str {
        self.kind().into()
    }

    /// The free text the history keeps with the action (a decline reason, a comment).
    pub fn comment(&self) -> Option<&str> {
        match self {
            Self::Decline { reason } => Some(reason),
            Self::Comment { text } => Some(text),
            _ => None,
        }
    }

    /// The work done and its price, for a finish.
    pub fn work_and_price(&self) -> Option<(&str, i64)> {
        match self {
            Self::Finish { work, price } => Some((work, *price)),
            _ => None,
        }
    }

    /// The stars of a rating.
    pub fn stars(&self) -> Option<u8> {
        match self {
            Self::Rate { stars } => Some(*stars),
            _ => None,
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
    /// The actor acted on an outdated view: the order's master changed since.
    #[error("the order changed since the actor saw it")]
    Outdated,
    /// The action would change nothing (assigning the master it already has).
    #[error("already so")]
    Unchanged,
    /// A value the action carries is out of range (a forged rating).
    #[error("value out of range")]
    BadValue,
}

/// The status `kind` leads to when `actor` does it to `order`, or why not.
/// The whole rule table of the shop, for every kind of action.
pub fn permits(
    order: OrderFacts,
    actor: Actor,
    kind: ActionKind,
) -> Result<OrderStatus, TransitionError> {
    use ActionKind as A;
    use OrderStatus as S;
    let staff = actor.role.is_staff();
    let own_client = actor.role == Role::Client && actor.user_id == order.client_id;
    let own_master = actor.role == Role::Master && order.master_id == Some(actor.user_id);
    let from = order.status;
    let wrong = Err(TransitionError::WrongStatus(from));
    match kind {
        A::Assign => {
            if !staff {
                return Err(TransitionError::Forbidden);
            }
            match from {
                S::New | S::Assigned => Ok(S::Assigned),
                _ => wrong,
            }
        }
        A::Accept | A::StartWork | A::WaitParts | A::ResumeWork | A::Finish | A::Decline => {
            if !own_master {
                return Err(TransitionError::Forbidden);
            }
            match (kind, from) {
                (A::Accept, S::Assigned) => Ok(S::Assigned),
                (A::StartWork, S::Assigned) => Ok(S::InProgress),
                (A::WaitParts, S::InProgress) => Ok(S::WaitingParts),
                (A::ResumeWork, S::WaitingParts) => Ok(S::InProgress),
                (A::Finish, S::InProgress) => Ok(S::Done),
                (A::Decline, S::Assigned | S::InProgress | S::WaitingParts) => Ok(S::New),
                _ => wrong,
            }
        }
        A::Cancel => {
            if staff {
                if from.is_open() {
                    Ok(S::Cancelled)
                } else {
                    wrong
                }
            } else if own_client {
                match from {
                    S::New | S::Assigned => Ok(S::Cancelled),
                    _ => wrong,
                }
            } else {
                Err(TransitionError::Forbidden)
            }
        }
        A::Comment => {
            if staff {
                Ok(from)
            } else {
                Err(TransitionError::Forbidden)
            }
        }
        A::Rate => {
            if !own_client {
                return Err(TransitionError::Forbidden);
            }
            if from != S::Done {
                return wrong;
            }
            if order.rated {
                return Err(TransitionError::AlreadyRated);
            }
            Ok(S::Done)
        }
    }
}

/// Decides whether `actor` may do `action` to an order: [`permits`] for its
/// kind, then what its payload must satisfy; pure.
pub fn decide(
    order: OrderFacts,
    actor: Actor,
    action: &Action,
) -> Result<Transition, TransitionError> {
    let to = permits(order, actor, action.kind())?;
    let master = match action {
        Action::Assign {
            master_id,
            seen_master,
        } => {
            if order.master_id != *seen_master {
                return Err(TransitionError::Outdated);
            }
            if order.master_id == Some(*master_id) && order.status == OrderStatus::Assigned {
                return Err(TransitionError::Unchanged);
            }
            Some(Some(*master_id))
        }
        Action::Decline { .. } => Some(None),
        Action::Rate { stars } if !(1..=5).contains(stars) => {
            return Err(TransitionError::BadValue)
        }
        _ => None,
    };
    Ok(Transition {
        from: order.status,
        to,
        master,
    })
}

/// Every kind of action `actor` may take on `order` now, in declaration
/// order: what the buttons under an order offer.
pub fn allowed_actions(order: OrderFacts, actor: Actor) -> Vec<ActionKind> {
    ActionKind::VARIANTS
        .iter()
        .copied()
        .filter(|kind| permits(order, actor, *kind).is_ok())
        .collect()
}

/// Who may see an order's card: staff, its master, its client.
pub fn may_view(order: OrderFacts, actor: Actor) -> bool {
    actor.role.is_staff()
        || order.master_id == Some(actor.user_id)
        || order.client_id == actor.user_id
}

/// Internal comments and the history are for staff only.
pub fn may_read_history(actor: Actor) -> bool {
    actor.role.is_staff()
}

#[cfg(test)]
mod tests;
