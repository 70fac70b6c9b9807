//! The one error type of the handlers, and the one place that turns it into
//! the user's reply and the operator's log line. A handler returns
//! `Err(BotError::...)`; it never writes its own apology.

use super::names;
use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::reply;
use crate::bot::ui::labels::status_label;
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use crate::db::Order;
use crate::domain::{ActionKind, Actor, Code, InputError, OrderStatus, Role, TransitionError};

/// What handlers return.
pub type BotResult<T = ()> = Result<T, BotError>;

/// Why an update could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// The input was refused; the user gets this hint (already localized)
    /// and the question again where there is one.
    #[error("invalid input")]
    Invalid(String),
    /// A value failed the domain's validation; the user reads why.
    #[error("invalid input: {0}")]
    BadInput(InputError),
    /// This person may not do this. `what` names it for the log, `about`
    /// what it was aimed at.
    #[error("refused: {what}")]
    Forbidden {
        what: &'static str,
        denial: Denial,
        about: About,
    },
    /// No order has this number.
    #[error("order {0} not found")]
    NotFound(i64),
    /// The order is not where the action needs it.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A store is unavailable (dialog storage): "try again in a minute".
    #[error("{what}: {source}")]
    Unavailable {
        what: &'static str,
        source: anyhow::Error,
    },
    /// Anything else that failed inside: an apology, and an error log line.
    #[error("{what}: {source}")]
    Internal {
        what: &'static str,
        source: anyhow::Error,
    },
}

/// Which refusal the user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// An order action (a button) this person may not take.
    Action,
    /// A command or list for another role.
    Command,
}

/// What a refused update was aimed at, for the operator's log line (only
/// the parts that are known are written).
#[derive(Debug, Clone, Default)]
pub struct About {
    pub role: Option<Role>,
    pub order_id: Option<i64>,
    pub action: Option<&'static str>,
    /// The person the action was about (the master of an assignment).
    pub person: Option<i64>,
    pub command: Option<String>,
}

impl std::fmt::Display for About {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(role) = self.role {
            parts.push(format!("role={}", role.code()));
        }
        if let Some(id) = self.order_id {
            parts.push(format!("order_id={id}"));
        }
        if let Some(action) = self.action {
            parts.push(format!("action={action}"));
        }
        if let Some(person) = self.person {
            parts.push(format!("person={person}"));
        }
        if let Some(command) = &self.command {
            parts.push(format!("command={command}"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// How an order stands against the action.
#[derive(Debug)]
pub enum Conflict {
    /// Not possible in the order's status.
    WrongStatus {
        order_id: i64,
        status: OrderStatus,
        action: &'static str,
    },
    /// The actor acted on an outdated view (the master changed since the
    /// card was shown); this is how the order stands now.
    Outdated(Box<Order>),
    /// Someone changed the order first; this is how it stands now.
    Changed(Box<Order>),
    /// The order was rated already.
    AlreadyRated,
    /// The change is already in place (assigning the same master again).
    AlreadyDone,
    /// The order was deleted in the bot it came from: nothing to do to it.
    Deleted { order_id: i64 },
}

impl BotError {
    /// An internal failure of `what`.
    pub fn internal(what: &'static str, source: impl Into<anyhow::Error>) -> Self {
        Self::Internal {
            what,
            source: source.into(),
        }
    }

    /// A command or list that `role` may not use (`command` names it in the log).
    pub fn needs_role(role: Role, command: impl Into<String>) -> Self {
        Self::Forbidden {
            what: "command needs a staff role",
            denial: Denial::Command,
            about: About {
                role: Some(role),
                command: Some(command.into()),
                ..About::default()
            },
        }
    }

    /// An order action of `kind` by `actor`, refused by the domain's rules.
    pub fn refused(order: &Order, actor: Actor, kind: ActionKind, e: TransitionError) -> Self {
        match e {
            TransitionError::Forbidden | TransitionError::BadValue => Self::Forbidden {
                what: "this user may not do this (forged or replayed button?)",
                denial: Denial::Action,
                about: About {
                    role: Some(actor.role()),
                    order_id: Some(order.id),
                    action: Some(kind.code()),
                    ..About::default()
                },
            },
            TransitionError::WrongStatus(status) => Self::Conflict(Conflict::WrongStatus {
                order_id: order.id,
                status,
                action: kind.code(),
            }),
            TransitionError::AlreadyRated => Self::Conflict(Conflict::AlreadyRated),
            TransitionError::Deleted => Self::Conflict(Conflict::Deleted { order_id: order.id }),
            TransitionError::Outdated => {
                Self::Conflict(Conflict::Outdated(Box::new(order.clone())))
            }
            TransitionError::Unchanged => Self::Conflict(Conflict::AlreadyDone),
            // The reason dialog checks the length first: only a forged path
            // gets here, and it is told what the shop needs.
            TransitionError::ReasonRequired => Self::BadInput(InputError::TooShort {
                min: crate::domain::MIN_REFUSE_REASON,
            }),
        }
    }
}

/// `?` for the results of the database and other internal parts.
pub trait OrInternal<T> {
    /// An `Err` becomes [`BotError::Internal`] naming `what` failed.
    fn or_internal(self, what: &'static str) -> BotResult<T>;
}

impl<T, E: Into<anyhow::Error>> OrInternal<T> for Result<T, E> {
    fn or_internal(self, what: &'static str) -> BotResult<T> {
        self.map_err(|e| BotError::internal(what, e))
    }
}

/// Tells the user what went wrong and logs it for the operator, once.
pub async fn report(ctx: &BotContext, inc: &Incoming, error: BotError) {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let user_id = inc.sender.user_id;
    let text = match &error {
        BotError::Invalid(hint) => hint.clone(),
        BotError::BadInput(e) => input_error_text(ctx, lang, *e),
        BotError::Forbidden {
            what,
            denial,
            about,
        } => {
            tracing::warn!(user_id, update_id = inc.update_id, details = %about, "refused: {what}");
            match denial {
                Denial::Action => t.get(lang, "refused_action").to_string(),
                Denial::Command => t.get(lang, "forbidden").to_string(),
            }
        }
        BotError::NotFound(order_id) => {
            tracing::warn!(user_id, order_id, "action on a missing order");
            t.fmt(lang, "order_not_found", &[("id", order_id)])
        }
        BotError::Conflict(Conflict::WrongStatus {
            order_id,
            status,
            action,
        }) => {
            tracing::info!(
                user_id,
                order_id,
                action,
                status = status.code(),
                "refused: wrong status"
            );
            t.fmt(
                lang,
                "wrong_status",
                &[
                    ("id", order_id),
                    ("status", &status_label(t, lang, *status)),
                ],
            )
        }
        BotError::Conflict(Conflict::Outdated(now) | Conflict::Changed(now)) => {
            if matches!(error, BotError::Conflict(Conflict::Outdated(_))) {
                tracing::info!(
                    user_id,
                    order_id = now.id,
                    "assignment on an outdated view; not applied"
                );
            } else {
                tracing::info!(
                    user_id,
                    order_id = now.id,
                    "order changed by someone else first; not applied"
                );
            }
            let master = match now.master_id {
                Some(m) => names::display_name(ctx, m).await,
                None => t.get(lang, "no_master").to_string(),
            };
            t.fmt(
                lang,
                "order_changed",
                &[
                    ("id", &now.id),
                    ("status", &status_label(t, lang, now.status)),
                    ("master", &master),
                ],
            )
        }
        BotError::Conflict(Conflict::AlreadyRated) => t.get(lang, "already_rated").to_string(),
        BotError::Conflict(Conflict::AlreadyDone) => t.get(lang, "already_applied").to_string(),
        BotError::Conflict(Conflict::Deleted { order_id }) => {
            t.fmt(lang, "order_deleted", &[("id", order_id)])
        }
        BotError::Unavailable { what, source } => {
            tracing::warn!(chat_id = inc.sender.chat_id, user_id, error = %source, "{what}");
            crate::metrics::storage_error();
            let text = t.get(lang, "storage_unavailable");
            if let Input::Button { query_id, .. } = &inc.input {
                reply::answer_button(ctx, query_id, Some(text)).await;
            }
            text.to_string()
        }
        BotError::Internal { what, source } => {
            tracing::error!(user_id, error = %source, "{what}");
            t.get(lang, "internal_error").to_string()
        }
    };
    reply::send(ctx, &inc.sender, text, None).await;
}

/// The hint for a refused field value.
pub fn input_error_text(ctx: &BotContext, lang: Lang, e: InputError) -> String {
    let t = &ctx.texts;
    match e {
        InputError::Empty => t.get(lang, "err_empty").into(),
        InputError::TooShort { min } => t.fmt(lang, "err_too_short", &[("min", &min)]),
        InputError::TooLong { max } => t.fmt(lang, "err_too_long", &[("max", &max)]),
        InputError::BadPhone => t.get(lang, "err_bad_phone").into(),
        InputError::BadPrice => t.get(lang, "err_bad_price").into(),
        InputError::NoLetters => t.get(lang, "err_no_letters").into(),
        InputError::NoHouseNumber => t.get(lang, "err_no_house_number").into(),
        InputError::MaterialsOverTotal => t.get(lang, "err_materials_over_total").into(),
        InputError::PrepaymentOverPrice => t.get(lang, "err_prepayment_over_price").into(),
    }
}
