//! Order actions from buttons and short dialogs, for every role. Each one is
//! checked on the server: the role is resolved again, the order is loaded,
//! and [`crate::domain::decide`] rules on it; the change is then applied with
//! compare-and-set so two people acting at once cannot both win.

use super::error::{About, BotError, BotResult, Conflict, Denial, OrInternal};
use super::names;
use super::order_dialog;
use super::roles;
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::cards::{self, Rows};
use crate::bot::ui::keyboards;
use crate::bot::ui::labels::equipment_label;
use crate::bot::ui::labels::status_label;
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use std::collections::HashMap;

use crate::db::{Applied, Change, GroupCard, Notification, Order, OrderEdit, StoredRepair};
use crate::domain::schedule::{self, NewJob};
use crate::domain::{
    decide, describe_change, permits, Action, ActionKind, Actor, Code, Correction, EditField,
    OrderStatus, Role, Transition,
};

/// The sender as an actor and the order, if the rules let the sender take
/// an action of `kind` on it now.
pub async fn check(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    kind: ActionKind,
) -> BotResult<(Order, Actor)> {
    let actor = roles::actor(ctx, inc).await?;
    let order = load(ctx, order_id).await?;
    match permits(order.facts(), actor, kind) {
        Ok(_) => Ok((order, actor)),
        Err(e) => Err(BotError::refused(&order, actor, kind, e)),
    }
}

/// The order, or [`BotError::NotFound`].
pub async fn load(ctx: &BotContext, order_id: i64) -> BotResult<Order> {
    ctx.db
        .order(order_id)
        .await
        .or_internal("cannot load an order")?
        .ok_or(BotError::NotFound(order_id))
}

/// Checks and applies `action`, queues the notifications, replies to the
/// actor. `pressed` is the message whose button asked for it: its keyboard
/// is removed once the change is applied, so it cannot be pressed again.
pub async fn perform(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    action: Action,
    pressed: Option<i32>,
) -> BotResult {
    let (order, actor) = check(ctx, inc, order_id, action.kind()).await?;
    apply(ctx, inc, order, actor, action, pressed, None).await
}

/// Checks and applies a correction of one field: staff's, or a master's
/// moved visit (with `reason`). The history and the notifications tell
/// `field: old → new`, and the change is refused if someone changed that
/// field since the editor looked.
pub async fn correct(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    correction: Correction,
    reason: Option<String>,
) -> BotResult {
    let kind = match reason {
        Some(_) => ActionKind::Reschedule,
        None => ActionKind::Edit,
    };
    let (order, actor) = check(ctx, inc, order_id, kind).await?;
    let t = &ctx.texts;
    let staff_lang = Lang::Ru;
    let field = correction.field();
    let equipment = |kind| equipment_label(t, staff_lang, kind);
    let (seen, old_shown) = match field {
        EditField::Equipment => (
            Some(order.equipment.code().to_string()),
            equipment(order.equipment),
        ),
        EditField::Description => (Some(order.description.clone()), order.description.clone()),
        EditField::ClientName => (Some(order.client_name.clone()), order.client_name.clone()),
        EditField::Address => (Some(order.address.clone()), order.address.clone()),
        EditField::Phone => (Some(order.phone.clone()), order.phone.clone()),
        EditField::Notes => (order.notes.clone(), order.notes.clone().unwrap_or_default()),
        EditField::VisitTime => (
            Some(order.visit_time.clone()),
            cards::visit_of(t, staff_lang, &order),
        ),
    };
    let label = t
        .get(staff_lang, &format!("change_{}", field.code()))
        .to_string();
    let mut change = describe_change(&label, &old_shown, &correction.shown(equipment));
    let visit = match &correction {
        Correction::Visit { visit, .. } => {
            visit.as_ref().map(|v| order_dialog::visit_bounds(ctx, v))
        }
        _ => None,
    };
    let edit = OrderEdit {
        correction,
        seen,
        visit,
    };
    let action = match reason {
        Some(reason) => {
            change.push_str(&t.fmt(staff_lang, "change_reason", &[("reason", &reason)]));
            Action::Reschedule { change }
        }
        None => Action::Edit { change },
    };
    apply(ctx, inc, order, actor, action, None, Some(edit)).await
}

/// Applies `action`, already allowed for `actor` on `order` as loaded,
/// after the domain's decision on its payload; see [`perform`].
pub(super) async fn apply(
    ctx: &BotContext,
    inc: &Incoming,
    order: Order,
    actor: Actor,
    action: Action,
    pressed: Option<i32>,
    edit: Option<OrderEdit>,
) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let order_id = order.id;
    if let Action::Assign { master_id, .. } = action {
        // The master id came from a button: make sure it is a master (a
        // profile exists only for one) who takes orders now.
        let profile = ctx
            .db
            .master_profile(master_id)
            .await
            .or_internal("cannot load a master")?;
        let Some(profile) = profile else {
            return Err(BotError::Forbidden {
                what: "assign to someone who is not a master",
                denial: Denial::Action,
                about: About {
                    role: Some(actor.role()),
                    order_id: Some(order_id),
                    action: Some(action.code()),
                    person: Some(master_id),
                    command: None,
                },
            });
        };
        if !profile.active {
            return Err(BotError::Invalid(
                t.get(lang, "master_inactive").to_string(),
            ));
        }
    }
    let transition = decide(order.facts(), actor, &action)
        .map_err(|e| BotError::refused(&order, actor, action.kind(), e))?;
    let staff = ctx.staff_chats().await.unwrap_or_default();
    let master_name = match (&action, order.master_id) {
        (Action::Assign { master_id, .. }, _) => Some(names::display_name(ctx, *master_id).await),
        (_, Some(m)) => Some(names::display_name(ctx, m).await),
        _ => None,
    };
    let repair = action.repair_terms().map(|terms| StoredRepair {
        due_words: terms.due_words.clone(),
        due_ms: schedule::repair_due_at(&terms.due, ctx.texts.time_zone()).as_millisecond(),
        parts: terms.parts.clone(),
        price: terms.price,
        prepayment: terms.prepayment,
    });
    let change = Change {
        order_id,
        expected_master: order.master_id,
        transition,
        action: action.clone(),
        actor,
        update_id: Some(inc.update_id),
        repair: repair.clone(),
        jobs: jobs_of(
            ctx,
            &order,
            transition,
            actor,
            edit.as_ref(),
            repair.as_ref(),
        ),
        edit,
    };
    let groups = MasterGroups::of(
        ctx,
        [order.master_id, transition_master(&action)]
            .into_iter()
            .flatten(),
    )
    .await;
    let before = order;
    let audience = Audience {
        master_name: master_name.as_deref(),
        staff: &staff,
        groups: &groups,
    };
    let notes = |after: &Order| notifications(ctx, &action, actor, &before, after, &audience);
    let applied = ctx
        .db
        .apply_change(&change, notes)
        .await
        .or_internal("cannot apply an order change")?;
    match applied {
        Applied::Done(after) => {
            tracing::info!(
                order_id,
                user_id = actor.user_id,
                role = crate::domain::Code::code(actor.role()),
                action = action.code(),
                from = crate::domain::Code::code(before.status),
                to = crate::domain::Code::code(after.status),
                "order changed"
            );
            ctx.outbox.changed();
            // In a work group the pressed card is edited in place by the
            // outbox; in private the pressed message loses its buttons.
            if !inc.sender.in_group {
                reply::drop_keyboard(ctx, inc.sender.chat_id, pressed).await;
            }
            let text = match &action {
                Action::Assign { .. } => t.fmt(
                    lang,
                    "assigned_ok",
                    &[
                        ("id", &order_id),
                        ("master", &master_name.clone().unwrap_or_default()),
                    ],
                ),
                Action::Comment { .. } => t.fmt(lang, "comment_saved", &[("id", &order_id)]),
                Action::Ping => t.fmt(lang, "ping_sent", &[("id", &order_id)]),
                Action::Edit { change }
                | Action::Reschedule { change }
                | Action::EditMoney { change, .. } => t.fmt(
                    lang,
                    "order_edited",
                    &[("id", &order_id), ("change", change)],
                ),
                Action::Rate { .. } => return Ok(()),
                Action::Cancel if actor.role() == Role::Client => {
                    t.fmt(lang, "client_cancel_ok", &[("id", &order_id)])
                }
                _ => t.fmt(
                    lang,
                    "action_ok",
                    &[
                        ("id", &order_id),
                        ("status", &status_label(t, lang, after.status)),
                    ],
                ),
            };
            let markup = if inc.sender.in_group {
                None
            } else {
                keyboards::inline_unless_empty(cards::buttons_for(t, lang, actor, &after))
            };
            reply::send(ctx, &inc.sender, text, markup).await;
            Ok(())
        }
        Applied::Conflict(now) => Err(BotError::Conflict(Conflict::Changed(Box::new(now)))),
        Applied::Duplicate(_) => {
            tracing::info!(
                order_id,
                update_id = inc.update_id,
                "update already applied; skipping"
            );
            Ok(())
        }
        Applied::Missing => Err(BotError::NotFound(order_id)),
    }
}

/// The reminders and escalations a change starts: those of the status the
/// order enters (or of its new master), and a new visit reminder when an
/// accepted order's visit moves.
fn jobs_of(
    ctx: &BotContext,
    order: &Order,
    transition: Transition,
    actor: Actor,
    edit: Option<&OrderEdit>,
    repair: Option<&StoredRepair>,
) -> Vec<NewJob> {
    let th = &ctx.thresholds;
    let now = crate::db::now_ms();
    let master = transition.master.unwrap_or(order.master_id);
    let mut jobs = if transition.to != transition.from || master != order.master_id {
        schedule::jobs_on_entering(
            transition.to,
            master,
            Some(actor.user_id),
            order.visit_from,
            now,
            th,
        )
    } else {
        Vec::new()
    };
    if let Some(repair) = repair {
        jobs.push(schedule::repair_due(master, repair.due_ms, now));
    }
    if let Some(edit) = edit.filter(|_| transition.to == OrderStatus::Accepted) {
        if let Correction::Visit { .. } = edit.correction {
            let start = edit.visit.as_ref().map(|v| v.from_ms);
            jobs.extend(schedule::visit_reminder(master, start, now, th));
        }
    }
    jobs
}

/// How a message reaches an order's master (see `to_master` in
/// [`notifications`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToMaster {
    /// Look now: a new card in the group, with a mention; a message in private.
    Fresh,
    /// The group's card edited in place; a message in private.
    Card,
    /// Only the group's card edited in place (the status moved); nothing
    /// in private, where the master's own reply already says it.
    CardOnly,
    /// A plain message, in the group or in private.
    Note,
}

/// The work groups of the masters a change concerns.
struct MasterGroups(HashMap<i64, i64>);

impl MasterGroups {
    /// Looked up before the change; a master whose group cannot be read
    /// gets their messages in private rather than not at all.
    async fn of(ctx: &BotContext, masters: impl Iterator<Item = i64>) -> Self {
        let mut groups = HashMap::new();
        for master in masters {
            match ctx.db.group_of_master(master).await {
                Ok(Some(group)) => {
                    groups.insert(master, group.chat_id);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(master, error = %e, "cannot read a master's work group; writing to them in private")
                }
            }
        }
        Self(groups)
    }

    fn group_of(&self, master: i64) -> Option<i64> {
        self.0.get(&master).copied()
    }
}

/// The master an action gives the order to, if any.
fn transition_master(action: &Action) -> Option<i64> {
    match action {
        Action::Assign { master_id, .. } => Some(*master_id),
        _ => None,
    }
}

/// Who may hear about a change: looked up before its transaction.
struct Audience<'a> {
    /// The name of the order's master (the new one, for an assignment).
    master_name: Option<&'a str>,
    staff: &'a [i64],
    groups: &'a MasterGroups,
}

/// Who hears about an applied change, and what.
fn notifications(
    ctx: &BotContext,
    action: &Action,
    actor: Actor,
    before: &Order,
    after: &Order,
    audience: &Audience,
) -> Vec<Notification> {
    let Audience {
        master_name,
        staff,
        groups,
    } = *audience;
    let t = &ctx.texts;
    let staff_lang = Lang::Ru;
    let client_lang = Lang::from_code(Some(&after.client_lang));
    let id = after.id;
    let master = master_name.unwrap_or("—").to_string();
    let mut notes = Vec::new();
    let to_client = |notes: &mut Vec<Notification>, key: &str, buttons: Rows| {
        // A phoned-in order's caller not on Telegram hears by phone.
        let Some(chat_id) = after.client_chat_id else {
            return;
        };
        notes.push(Notification {
            chat_id,
            text: t.fmt(
                client_lang,
                key,
                &[
                    ("id", &id),
                    ("master", &master),
                    ("work", &after.work_done.clone().unwrap_or_default()),
                    ("price", &after.total().unwrap_or_default()),
                    ("reason", &after.refuse_reason.clone().unwrap_or_default()),
                ],
            ),
            buttons,
            card: None,
            document: None,
        })
    };
    // A master reads about their orders in their work group when they have
    // one (the order's card there, edited in place; a fresh card with a
    // mention when they must look now), else in their private chat (not
    // about what they did themselves).
    let to_master = |notes: &mut Vec<Notification>,
                     master: Option<i64>,
                     text: String,
                     buttons: Rows,
                     how: ToMaster| {
        let Some(master) = master else { return };
        match groups.group_of(master) {
            Some(group) => {
                let mention = (how == ToMaster::Fresh)
                    .then(|| (master, master_name.unwrap_or("").to_string()))
                    .filter(|(_, name)| !name.is_empty());
                let text = match &mention {
                    Some((_, name)) => format!("{name}, {text}"),
                    None => text,
                };
                notes.push(Notification {
                    chat_id: group,
                    text,
                    buttons,
                    card: (how != ToMaster::Note).then(|| GroupCard {
                        order_id: id,
                        mention,
                        fresh: how == ToMaster::Fresh,
                    }),
                    document: None,
                });
            }
            None if master != actor.user_id && how != ToMaster::CardOnly => {
                notes.push(Notification {
                    chat_id: master,
                    text,
                    buttons,
                    card: None,
                    document: None,
                });
            }
            None => {}
        }
    };
    // The card in the master's group follows the order's status.
    let card_follows = |notes: &mut Vec<Notification>| {
        let card = cards::card_for_master(t, staff_lang, after, master_name);
        let buttons = cards::master_buttons(t, staff_lang, after);
        to_master(notes, after.master_id, card, buttons, ToMaster::CardOnly);
    };
    // A master's card in the group that is no longer theirs: says why, no buttons.
    let card_gone = |notes: &mut Vec<Notification>, master: Option<i64>, key: &str| {
        let text = t.fmt(staff_lang, key, &[("id", &id)]);
        let card = cards::card_for_master(t, staff_lang, before, master_name);
        let in_group = master.and_then(|m| groups.group_of(m)).is_some();
        let shown = if in_group {
            format!("{text}\n\n{card}")
        } else {
            text
        };
        to_master(notes, master, shown, vec![], ToMaster::Card);
    };
    let to_staff = |notes: &mut Vec<Notification>, text: String, buttons: Rows| {
        for chat in staff.iter().filter(|c| **c != actor.user_id) {
            notes.push(Notification {
                chat_id: *chat,
                text: text.clone(),
                buttons: buttons.clone(),
                card: None,
                document: None,
            });
        }
    };
    let status_text = t.fmt(
        staff_lang,
        "staff_status",
        &[
            ("id", &id),
            ("status", &status_label(t, staff_lang, after.status)),
            ("master", &master),
        ],
    );
    match action {
        Action::Assign { master_id, .. } => {
            if let Some(previous) = before.master_id.filter(|m| m != master_id) {
                card_gone(&mut notes, Some(previous), "master_unassigned");
            }
            let card = cards::card_for_master(t, staff_lang, after, master_name);
            let text = t.fmt(
                staff_lang,
                "master_assigned",
                &[("id", &id), ("card", &card)],
            );
            let buttons = cards::master_buttons(t, staff_lang, after);
            to_master(&mut notes, Some(*master_id), text, buttons, ToMaster::Fresh);
            to_client(&mut notes, "client_assigned", vec![]);
        }
        Action::Unassign => {
            card_gone(&mut notes, before.master_id, "master_taken_off");
            to_staff(
                &mut notes,
                status_text,
                cards::staff_buttons(t, staff_lang, after),
            );
        }
        Action::Accept => {
            card_follows(&mut notes);
            to_client(&mut notes, "client_accepted", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::StartWork => {
            card_follows(&mut notes);
            to_client(&mut notes, "client_in_progress", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::WaitParts { note, .. } => {
            card_follows(&mut notes);
            to_client(&mut notes, "client_waiting_parts", vec![]);
            to_staff(&mut notes, format!("{status_text}\n{note}"), vec![]);
        }
        Action::ResumeWork => {
            card_follows(&mut notes);
            to_client(&mut notes, "client_resumed", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::Finish { .. } => {
            card_follows(&mut notes);
            to_client(&mut notes, "client_done", cards::rating_buttons(id));
            let mut text = t.fmt(
                staff_lang,
                "staff_done",
                &[
                    ("id", &id),
                    ("master", &master),
                    ("work", &after.work_done.clone().unwrap_or_default()),
                    ("price", &after.total().unwrap_or_default()),
                ],
            );
            if let Some(m) = after.money() {
                text.push_str(&cards::money_lines(t, staff_lang, &m));
            }
            to_staff(&mut notes, text, vec![]);
        }
        Action::Decline { reason } => {
            let text = t.fmt(
                staff_lang,
                "staff_declined",
                &[("id", &id), ("master", &master), ("reason", reason)],
            );
            to_staff(&mut notes, text, cards::staff_buttons(t, staff_lang, after));
            to_client(&mut notes, "client_declined", vec![]);
            card_gone(&mut notes, before.master_id, "master_declined_card");
        }
        Action::Cancel => {
            to_staff(
                &mut notes,
                t.fmt(staff_lang, "staff_cancelled_by_client", &[("id", &id)]),
                vec![],
            );
            card_gone(&mut notes, before.master_id, "master_cancelled");
        }
        Action::Refuse { reason } => {
            to_client(&mut notes, "client_refused", vec![]);
            let text = t.fmt(
                staff_lang,
                "staff_refused",
                &[("id", &id), ("reason", reason)],
            );
            to_staff(&mut notes, text, cards::staff_buttons(t, staff_lang, after));
            card_gone(&mut notes, before.master_id, "master_cancelled");
        }
        Action::Reopen => {
            to_client(&mut notes, "client_reopened", vec![]);
            to_staff(
                &mut notes,
                status_text,
                cards::staff_buttons(t, staff_lang, after),
            );
        }
        Action::Edit { change } => {
            let text = t.fmt(
                staff_lang,
                "order_edited",
                &[("id", &id), ("change", change)],
            );
            let card = cards::card_for_master(t, staff_lang, after, master_name);
            let buttons = cards::master_buttons(t, staff_lang, after);
            card_follows(&mut notes);
            to_master(
                &mut notes,
                after.master_id,
                format!("{text}\n\n{card}"),
                buttons,
                ToMaster::Note,
            );
            to_staff(&mut notes, text, vec![]);
        }
        Action::Reschedule { change } => {
            let visit = cards::visit_of(t, client_lang, after);
            if let Some(chat_id) = after.client_chat_id {
                notes.push(Notification {
                    chat_id,
                    text: t.fmt(
                        client_lang,
                        "client_rescheduled",
                        &[("id", &id), ("visit", &visit)],
                    ),
                    buttons: vec![],
                    card: None,
                    document: None,
                });
            }
            let text = t.fmt(
                staff_lang,
                "staff_rescheduled",
                &[("id", &id), ("master", &master), ("change", change)],
            );
            to_staff(&mut notes, text, vec![]);
            card_follows(&mut notes);
        }
        Action::Ping => {
            let card = cards::card_for_master(t, staff_lang, after, master_name);
            let text = t.fmt(staff_lang, "master_ping", &[("id", &id), ("card", &card)]);
            let buttons = cards::master_buttons(t, staff_lang, after);
            to_master(&mut notes, after.master_id, text, buttons, ToMaster::Fresh);
        }
        Action::Comment { .. } => {}
        Action::EditMoney { change, .. } => {
            let text = t.fmt(
                staff_lang,
                "money_edited",
                &[("id", &id), ("change", change)],
            );
            card_follows(&mut notes);
            to_staff(&mut notes, text, vec![]);
        }
        Action::Rate { .. } => {
            let text = t.fmt(
                staff_lang,
                "staff_rated",
                &[("id", &id), ("stars", &after.rating.unwrap_or(0))],
            );
            to_staff(&mut notes, text, vec![]);
        }
    }
    notes
}
