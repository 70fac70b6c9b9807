//! Order actions from buttons and short dialogs, for every role. Each one is
//! checked on the server: the role is resolved again, the order is loaded,
//! and [`crate::domain::decide`] rules on it; the change is then applied with
//! compare-and-set so two people acting at once cannot both win.

use super::cards;
use super::incoming::Incoming;
use super::keyboards::{self, OrderButton};
use super::reply;
use super::roles;
use super::texts::Lang;
use super::BotContext;
use crate::db::{Applied, Change, Notification, Order};
use crate::domain::{decide, Action, Actor, OrderFacts, OrderStatus, Role, TransitionError};

/// Extra values some actions carry.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub comment: Option<String>,
    pub work: Option<String>,
    pub price: Option<i64>,
    pub rating: Option<i64>,
    /// For assignments: the master the actor saw on the order (`None` = none).
    /// A different current master means someone acted first: a conflict.
    pub expected_master: Option<Option<i64>>,
    /// The message whose button asked for this: its keyboard is removed once
    /// the change is applied, before the reply, so it cannot be pressed again.
    pub pressed_message: Option<i32>,
}

/// The result of [`perform`], for callers that continue a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Performed {
    Done,
    /// Refused, conflicting, or failed: the user was told why.
    NotDone,
}

fn facts(o: &Order) -> OrderFacts {
    OrderFacts {
        status: o.status,
        client_id: o.client_id,
        master_id: o.master_id,
        rated: o.rating.is_some(),
    }
}

/// Loads the order and checks the action, telling the user when refused.
/// `Ok(Some((order, actor)))` when allowed.
pub async fn check(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    action: Action,
) -> Option<(Order, Actor)> {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let role = match roles::resolve(ctx, inc.sender.user_id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot resolve a role");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return None;
        }
    };
    let actor = Actor {
        user_id: inc.sender.user_id,
        role,
    };
    let order = match ctx.db.order(order_id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            tracing::warn!(
                user_id = actor.user_id,
                order_id,
                action = action.code(),
                "action on a missing order"
            );
            tell_order_missing(ctx, inc, order_id).await;
            return None;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load an order");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return None;
        }
    };
    match decide(facts(&order), actor, action) {
        Ok(_) => Some((order, actor)),
        Err(TransitionError::Forbidden) => {
            tracing::warn!(
                user_id = actor.user_id,
                role = role.code(),
                order_id,
                action = action.code(),
                "refused: this user may not do this (forged or replayed button?)"
            );
            reply::send(ctx, &inc.sender, t.get(lang, "refused_action"), None).await;
            None
        }
        Err(TransitionError::WrongStatus(status)) => {
            tracing::info!(
                user_id = actor.user_id,
                order_id,
                action = action.code(),
                status = status.code(),
                "refused: wrong status"
            );
            let text = t.fmt(
                lang,
                "wrong_status",
                &[
                    ("id", &order_id),
                    ("status", &cards::status_label(t, lang, status)),
                ],
            );
            reply::send(ctx, &inc.sender, text, None).await;
            None
        }
        Err(TransitionError::AlreadyRated) => {
            reply::send(ctx, &inc.sender, t.get(lang, "already_rated"), None).await;
            None
        }
    }
}

/// Checks and applies `action`, queues the notifications, replies to the actor.
pub async fn perform(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    action: Action,
    extras: Extras,
) -> Performed {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let Some((order, actor)) = check(ctx, inc, order_id, action).await else {
        return Performed::NotDone;
    };
    let transition = match decide(facts(&order), actor, action) {
        Ok(tr) => tr,
        Err(_) => return Performed::NotDone,
    };
    if let Action::Assign { master_id } = action {
        // The master id came from a button: make sure it is a master.
        match ctx.db.person(master_id).await {
            Ok(Some(p)) if p.role == Role::Master => {}
            Ok(_) => {
                tracing::warn!(
                    user_id = actor.user_id,
                    master_id,
                    "refused: assign to someone who is not a master"
                );
                reply::send(ctx, &inc.sender, t.get(lang, "refused_action"), None).await;
                return Performed::NotDone;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot load a master");
                reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
                return Performed::NotDone;
            }
        }
        if let Some(expected) = extras.expected_master {
            if order.master_id != expected {
                tracing::info!(
                    order_id,
                    user_id = actor.user_id,
                    "assignment on an outdated view; not applied"
                );
                tell_order_changed(ctx, inc, &order).await;
                return Performed::NotDone;
            }
        }
        if order.master_id == Some(master_id) && order.status == OrderStatus::Assigned {
            reply::send(ctx, &inc.sender, t.get(lang, "already_applied"), None).await;
            return Performed::NotDone;
        }
    }
    let staff = ctx.staff_chats().await.unwrap_or_default();
    let master_name = match (action, order.master_id) {
        (Action::Assign { master_id }, _) => Some(roles::display_name(ctx, master_id).await),
        (_, Some(m)) => Some(roles::display_name(ctx, m).await),
        _ => None,
    };
    let change = Change {
        order_id,
        expected_master: order.master_id,
        transition,
        action,
        actor,
        comment: extras.comment.as_deref(),
        update_id: Some(inc.update_id),
        work_done: extras.work.as_deref(),
        price: extras.price,
        rating: extras.rating,
    };
    let before = order.clone();
    let notes = |after: &Order| {
        notifications(
            ctx,
            action,
            actor,
            &before,
            after,
            &extras,
            master_name.as_deref(),
            &staff,
        )
    };
    match ctx.db.apply_change(&change, notes).await {
        Ok(Applied::Done(after)) => {
            tracing::info!(
                order_id,
                user_id = actor.user_id,
                role = actor.role.code(),
                action = action.code(),
                from = before.status.code(),
                to = after.status.code(),
                "order changed"
            );
            ctx.outbox.changed();
            reply::drop_keyboard(ctx, inc.sender.chat_id, extras.pressed_message).await;
            let text = match action {
                Action::Assign { .. } => t.fmt(
                    lang,
                    "assigned_ok",
                    &[
                        ("id", &order_id),
                        ("master", &master_name.clone().unwrap_or_default()),
                    ],
                ),
                Action::Comment => t.fmt(lang, "comment_saved", &[("id", &order_id)]),
                Action::Rate => return Performed::Done,
                Action::Cancel if actor.role == Role::Client => {
                    t.fmt(lang, "client_cancel_ok", &[("id", &order_id)])
                }
                _ => t.fmt(
                    lang,
                    "action_ok",
                    &[
                        ("id", &order_id),
                        ("status", &cards::status_label(t, lang, after.status)),
                    ],
                ),
            };
            let buttons = cards::buttons_for(t, lang, actor.role, actor.user_id, &after);
            let markup = (!buttons.is_empty()).then(|| keyboards::inline(buttons));
            reply::send(ctx, &inc.sender, text, markup).await;
            Performed::Done
        }
        Ok(Applied::Conflict(now)) => {
            tracing::info!(
                order_id,
                user_id = actor.user_id,
                action = action.code(),
                "order changed by someone else first; not applied"
            );
            tell_order_changed(ctx, inc, &now).await;
            Performed::NotDone
        }
        Ok(Applied::Duplicate(_)) => {
            tracing::info!(
                order_id,
                update_id = inc.update_id,
                "update already applied; skipping"
            );
            Performed::Done
        }
        Ok(Applied::Missing) => {
            tell_order_missing(ctx, inc, order_id).await;
            Performed::NotDone
        }
        Err(e) => {
            tracing::error!(order_id, error = %e, "cannot apply an order change");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            Performed::NotDone
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn notifications(
    ctx: &BotContext,
    action: Action,
    actor: Actor,
    before: &Order,
    after: &Order,
    extras: &Extras,
    master_name: Option<&str>,
    staff: &[i64],
) -> Vec<Notification> {
    let t = &ctx.texts;
    let staff_lang = Lang::Ru;
    let client_lang = Lang::from_code(Some(&after.client_lang));
    let id = after.id;
    let master = master_name.unwrap_or("—").to_string();
    let mut notes = Vec::new();
    let to_client =
        |notes: &mut Vec<Notification>, key: &str, buttons: Vec<Vec<(String, String)>>| {
            notes.push(Notification {
                chat_id: after.client_chat_id,
                text: t.fmt(
                    client_lang,
                    key,
                    &[
                        ("id", &id),
                        ("master", &master),
                        ("work", &after.work_done.clone().unwrap_or_default()),
                        ("price", &after.price.unwrap_or(0)),
                    ],
                ),
                buttons,
            })
        };
    let to_staff =
        |notes: &mut Vec<Notification>, text: String, buttons: Vec<Vec<(String, String)>>| {
            for chat in staff.iter().filter(|c| **c != actor.user_id) {
                notes.push(Notification {
                    chat_id: *chat,
                    text: text.clone(),
                    buttons: buttons.clone(),
                });
            }
        };
    let status_text = t.fmt(
        staff_lang,
        "staff_status",
        &[
            ("id", &id),
            ("status", &cards::status_label(t, staff_lang, after.status)),
            ("master", &master),
        ],
    );
    match action {
        Action::Assign { master_id } => {
            let card = cards::card(t, staff_lang, after, master_name);
            notes.push(Notification {
                chat_id: master_id,
                text: t.fmt(
                    staff_lang,
                    "master_assigned",
                    &[("id", &id), ("card", &card)],
                ),
                buttons: cards::master_buttons(t, staff_lang, after),
            });
            if let Some(previous) = before.master_id.filter(|m| *m != master_id) {
                notes.push(Notification {
                    chat_id: previous,
                    text: t.fmt(staff_lang, "master_unassigned", &[("id", &id)]),
                    buttons: vec![],
                });
            }
            to_client(&mut notes, "client_assigned", vec![]);
        }
        Action::Accept => to_client(&mut notes, "client_accepted", vec![]),
        Action::StartWork => {
            to_client(&mut notes, "client_in_progress", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::WaitParts => {
            to_client(&mut notes, "client_waiting_parts", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::ResumeWork => {
            to_client(&mut notes, "client_resumed", vec![]);
            to_staff(&mut notes, status_text, vec![]);
        }
        Action::Finish => {
            to_client(&mut notes, "client_done", cards::rating_buttons(id));
            let text = t.fmt(
                staff_lang,
                "staff_done",
                &[
                    ("id", &id),
                    ("master", &master),
                    ("work", &after.work_done.clone().unwrap_or_default()),
                    ("price", &after.price.unwrap_or(0)),
                ],
            );
            to_staff(&mut notes, text, vec![]);
        }
        Action::Decline => {
            let reason = extras.comment.clone().unwrap_or_default();
            let text = t.fmt(
                staff_lang,
                "staff_declined",
                &[("id", &id), ("master", &master), ("reason", &reason)],
            );
            to_staff(&mut notes, text, cards::staff_buttons(t, staff_lang, after));
            to_client(&mut notes, "client_declined", vec![]);
        }
        Action::Cancel => {
            if actor.role == Role::Client {
                to_staff(
                    &mut notes,
                    t.fmt(staff_lang, "staff_cancelled_by_client", &[("id", &id)]),
                    vec![],
                );
            } else {
                to_client(&mut notes, "client_cancelled_by_staff", vec![]);
                to_staff(&mut notes, status_text, vec![]);
            }
            if let Some(m) = before.master_id {
                notes.push(Notification {
                    chat_id: m,
                    text: t.fmt(staff_lang, "master_cancelled", &[("id", &id)]),
                    buttons: vec![],
                });
            }
        }
        Action::Comment => {}
        Action::Rate => {
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

/// Tells the user that no order has this number.
async fn tell_order_missing(ctx: &BotContext, inc: &Incoming, order_id: i64) {
    let text = ctx
        .texts
        .fmt(inc.sender.lang, "order_not_found", &[("id", &order_id)]);
    reply::send(ctx, &inc.sender, text, None).await;
}

/// Tells the actor that someone changed the order first, and how it stands now.
async fn tell_order_changed(ctx: &BotContext, inc: &Incoming, now: &Order) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let master = match now.master_id {
        Some(m) => roles::display_name(ctx, m).await,
        None => t.get(lang, "no_master").to_string(),
    };
    let text = t.fmt(
        lang,
        "order_changed",
        &[
            ("id", &now.id),
            ("status", &cards::status_label(t, lang, now.status)),
            ("master", &master),
        ],
    );
    reply::send(ctx, &inc.sender, text, None).await;
}

/// Shows an order card to whoever may see it (staff, its master, its client).
pub async fn show_card(ctx: &BotContext, inc: &Incoming, order_id: i64) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let role = roles::resolve(ctx, inc.sender.user_id)
        .await
        .unwrap_or(Role::Client);
    let order = match ctx.db.order(order_id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            tell_order_missing(ctx, inc, order_id).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load an order");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return;
        }
    };
    let viewer = inc.sender.user_id;
    let may_see = role.is_staff() || order.master_id == Some(viewer) || order.client_id == viewer;
    if !may_see {
        tracing::warn!(
            user_id = viewer,
            order_id,
            "refused: card of someone else's order"
        );
        reply::send(ctx, &inc.sender, t.get(lang, "refused_action"), None).await;
        return;
    }
    let master = match order.master_id {
        Some(m) => Some(roles::display_name(ctx, m).await),
        None => None,
    };
    let history = if role.is_staff() {
        ctx.db.history(order_id).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let (text, hidden) = cards::card_with_comments(t, lang, &order, master.as_deref(), &history);
    let mut buttons = cards::buttons_for(t, lang, role, viewer, &order);
    if hidden > 0 {
        buttons.push(cards::all_comments_button(t, lang, order_id));
    }
    reply::send(
        ctx,
        &inc.sender,
        text,
        (!buttons.is_empty()).then(|| keyboards::inline(buttons)),
    )
    .await;
}

/// Staff: every internal comment of an order, as many messages as it takes
/// (the card shows only the newest that fit).
pub async fn show_comments(ctx: &BotContext, inc: &Incoming, order_id: i64) {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let resolved = roles::resolve(ctx, inc.sender.user_id).await;
    let Some(role) = reply::or_apologize(ctx, &inc.sender, resolved, "cannot resolve a role").await
    else {
        return;
    };
    if !role.is_staff() {
        tracing::warn!(
            user_id = inc.sender.user_id,
            order_id,
            "refused: comments of an order (staff only)"
        );
        reply::send(ctx, &inc.sender, t.get(lang, "refused_action"), None).await;
        return;
    }
    let loaded = ctx.db.history(order_id).await;
    let Some(history) =
        reply::or_apologize(ctx, &inc.sender, loaded, "cannot load an order's history").await
    else {
        return;
    };
    let mut text = t.fmt(lang, "comments_title", &[("id", &order_id)]);
    for line in cards::comment_lines(t, lang, &history) {
        text.push_str(&line);
    }
    reply::send(ctx, &inc.sender, text, None).await;
}

/// Staff: the list of masters to assign `order_id` to.
pub async fn choose_master(ctx: &BotContext, inc: &Incoming, order_id: i64) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    // The master is not known yet: check with a placeholder id that the actor may assign at all.
    let Some((order, _)) = check(ctx, inc, order_id, Action::Assign { master_id: 0 }).await else {
        return;
    };
    let expected = order.master_id.unwrap_or(0);
    let Some(masters) = reply::or_apologize(
        ctx,
        &inc.sender,
        ctx.db.people_with_role(Role::Master).await,
        "cannot list masters",
    )
    .await
    else {
        return;
    };
    if masters.is_empty() {
        reply::send(ctx, &inc.sender, t.get(lang, "no_masters"), None).await;
        return;
    }
    let rows = masters
        .iter()
        .map(|m| {
            vec![(
                m.name.clone(),
                OrderButton::AssignTo(order_id, m.user_id, expected).data(),
            )]
        })
        .collect();
    reply::send(
        ctx,
        &inc.sender,
        t.fmt(lang, "choose_master", &[("id", &order_id)]),
        Some(keyboards::inline(rows)),
    )
    .await;
}
