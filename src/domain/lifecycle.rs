//! The order lifecycle: which role may do what to an order in which status.
//!
//! `new → assigned → accepted → on_site → closed`; `long_repair` from
//! `accepted`/`on_site`, back to `on_site` or on to `closed`; `refused` by
//! staff from any open status (with a reason), `reopen` back to `new`;
//! `cancelled` by the client while nobody has started; `unassign` takes the
//! order back from a master who has not started. The bot asks [`decide`]
//! before every change and builds its buttons from [`allowed_actions`], so a
//! replayed or forged button can never move an order where the rules do not
//! allow, and a button the rules would refuse is never shown.

use strum::{EnumDiscriminants, EnumString, IntoStaticStr, VariantArray};

use super::{Actor, ClosedMoney, OrderFacts, OrderStatus, RepairTerms, Role, StatusGroup};

/// The shortest reason the shop accepts for refusing an order: "нет" is
/// not a reason a dispatcher can act on later.
pub const MIN_REFUSE_REASON: usize = 3;

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
    /// Staff: take the order back from a master who has not started; it
    /// returns to `new` and the master is told.
    Unassign,
    /// Master: acknowledge the assignment (`assigned → accepted`).
    Accept,
    /// Master: at the client's (`accepted → on_site`, or back from a long repair).
    StartWork,
    /// Master: a long repair (parts to order, workshop work), with its
    /// terms; `note` is the terms as the history shows them.
    WaitParts { terms: RepairTerms, note: String },
    /// Master: the long repair is over, back on site.
    ResumeWork,
    /// Master: work finished, with the work done and the money split by
    /// the rules; `note` is the split as the history shows it.
    Finish {
        work: String,
        money: ClosedMoney,
        note: String,
    },
    /// Admin: correct a closed order's money; `change` is `old → new`.
    EditMoney { money: ClosedMoney, change: String },
    /// Master: cannot do it; the order returns to the dispatchers.
    Decline { reason: String },
    /// Master: the visit moves to another time, for a reason; `change`
    /// tells old → new and why (the order counts its reschedulings).
    Reschedule { change: String },
    /// Staff: the shop turns the order down, with a reason.
    Refuse { reason: String },
    /// Client: call the order off while nobody has started.
    Cancel,
    /// Staff: a refused or cancelled order is back to `new`.
    Reopen,
    /// Staff: an internal comment; no status change.
    Comment { text: String },
    /// Staff: correct a field of an open order; the history keeps
    /// `old → new` (already rendered by the caller) in `change`.
    Edit { change: String },
    /// Staff: "the client is waiting", an urgent nudge to the order's master.
    Ping,
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

    /// The free text the history keeps with the action (a reason, a
    /// comment, what an edit changed).
    pub fn comment(&self) -> Option<&str> {
        match self {
            Self::Decline { reason } | Self::Refuse { reason } => Some(reason),
            Self::Comment { text } => Some(text),
            Self::Edit { change }
            | Self::Reschedule { change }
            | Self::EditMoney { change, .. } => Some(change),
            Self::Finish { note, .. } | Self::WaitParts { note, .. } => Some(note),
            _ => None,
        }
    }

    /// Why the shop refused the order, for a refusal.
    pub fn refuse_reason(&self) -> Option<&str> {
        match self {
            Self::Refuse { reason } => Some(reason.trim()),
            _ => None,
        }
    }

    /// The work done, for a finish.
    pub fn work(&self) -> Option<&str> {
        match self {
            Self::Finish { work, .. } => Some(work),
            _ => None,
        }
    }

    /// The long repair's terms, for entering one.
    pub fn repair_terms(&self) -> Option<&RepairTerms> {
        match self {
            Self::WaitParts { terms, .. } => Some(terms),
            _ => None,
        }
    }

    /// The money the action writes (a close, a correction).
    pub fn money(&self) -> Option<&ClosedMoney> {
        match self {
            Self::Finish { money, .. } | Self::EditMoney { money, .. } => Some(money),
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

impl ActionKind {
    /// The role `actor` does this in, for the history: a dispatcher who is
    /// also the order's master accepts it as its master.
    pub fn performed_as(self, actor: Actor) -> Role {
        match self {
            _ if self.is_masters_work() && actor.roles.contains(Role::Master) => Role::Master,
            ActionKind::Cancel | ActionKind::Rate => Role::Client,
            _ => actor.role(),
        }
    }

    /// The steps of the work itself, which only the order's master takes
    /// (the kinds of the master's arm of [`permits`]; a test holds the two
    /// together).
    pub fn is_masters_work(self) -> bool {
        use ActionKind as A;
        matches!(
            self,
            A::Accept
                | A::StartWork
                | A::WaitParts
                | A::ResumeWork
                | A::Finish
                | A::Decline
                | A::Reschedule
        )
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
    /// The order was deleted (in the bot it was imported from): it is
    /// there to be looked up, not worked on.
    #[error("the order is deleted")]
    Deleted,
    /// The actor acted on an outdated view: the order's master changed since.
    #[error("the order changed since the actor saw it")]
    Outdated,
    /// The action would change nothing (assigning the master it already has).
    #[error("already so")]
    Unchanged,
    /// A value the action carries is out of range (a forged rating).
    #[error("value out of range")]
    BadValue,
    /// A refusal needs a reason of at least [`MIN_REFUSE_REASON`] characters.
    #[error("a reason is required")]
    ReasonRequired,
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
    if order.deleted {
        return Err(TransitionError::Deleted);
    }
    let staff = actor.roles.is_staff();
    // Anyone is the client of an order they filed themselves.
    let own_client = order.client_id == Some(actor.user_id);
    let own_master = actor.roles.contains(Role::Master) && order.master_id == Some(actor.user_id);
    let from = order.status;
    let wrong = Err(TransitionError::WrongStatus(from));
    let allowed_to = |who: bool| {
        if who {
            Ok(())
        } else {
            Err(TransitionError::Forbidden)
        }
    };
    match kind {
        A::Assign | A::Unassign | A::Refuse | A::Reopen | A::Comment | A::Edit | A::Ping => {
            allowed_to(staff)?;
            match (kind, from) {
                (A::Assign, S::New | S::Assigned | S::Accepted) => Ok(S::Assigned),
                (A::Unassign, S::Assigned | S::Accepted) => Ok(S::New),
                (A::Refuse, _) if from.is_open() => Ok(S::Refused),
                (A::Reopen, S::Refused | S::Cancelled) => Ok(S::New),
                (A::Comment, _) => Ok(from),
                (A::Edit, _) if from.is_open() => Ok(from),
                (A::Ping, _) if StatusGroup::WithMaster.contains(from) => Ok(from),
                _ => wrong,
            }
        }
        A::Accept
        | A::StartWork
        | A::WaitParts
        | A::ResumeWork
        | A::Finish
        | A::Decline
        | A::Reschedule => {
            allowed_to(own_master)?;
            match (kind, from) {
                (A::Accept, S::Assigned) => Ok(S::Accepted),
                (A::StartWork, S::Accepted) => Ok(S::OnSite),
                (A::WaitParts, S::Accepted | S::OnSite) => Ok(S::LongRepair),
                (A::ResumeWork, S::LongRepair) => Ok(S::OnSite),
                (A::Finish, S::OnSite | S::LongRepair) => Ok(S::Closed),
                (A::Decline, _) if StatusGroup::WithMaster.contains(from) => Ok(S::New),
                (A::Reschedule, S::Assigned | S::Accepted) => Ok(from),
                _ => wrong,
            }
        }
        A::EditMoney => {
            allowed_to(actor.roles.contains(Role::Admin))?;
            match from {
                S::Closed => Ok(S::Closed),
                _ => wrong,
            }
        }
        A::Cancel => {
            allowed_to(own_client)?;
            match from {
                S::New | S::Assigned => Ok(S::Cancelled),
                _ => wrong,
            }
        }
        A::Rate => {
            allowed_to(own_client)?;
            if from != S::Closed {
                return wrong;
            }
            if order.rated {
                return Err(TransitionError::AlreadyRated);
            }
            Ok(S::Closed)
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
            if order.master_id == Some(*master_id)
                && matches!(order.status, OrderStatus::Assigned | OrderStatus::Accepted)
            {
                return Err(TransitionError::Unchanged);
            }
            Some(Some(*master_id))
        }
        Action::Decline { .. } | Action::Unassign | Action::Reopen => Some(None),
        Action::Refuse { reason } if reason.trim().chars().count() < MIN_REFUSE_REASON => {
            return Err(TransitionError::ReasonRequired)
        }
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
    actor.roles.is_staff()
        || order.master_id == Some(actor.user_id)
        || order.client_id == Some(actor.user_id)
}

/// Internal comments and the history are for staff only.
pub fn may_read_history(actor: Actor) -> bool {
    actor.roles.is_staff()
}

#[cfg(test)]
mod tests;
