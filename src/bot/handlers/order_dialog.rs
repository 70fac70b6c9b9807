//! The order dialog on Telegram, the client's own and the dispatcher's desk:
//! turns inputs into [`crate::domain::advance`] calls, stores the result,
//! then prompts. The store is written *before* the prompt is sent, so
//! whatever the user sees is already persisted.

use super::error::{input_error_text, BotError, BotResult, OrInternal};
use super::persist::save_dialog;
use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::{outbox, reply};
use crate::bot::ui::callbacks::{Callback, DialogButton};
use crate::bot::ui::cards;
use crate::bot::ui::commands::Command;
use crate::bot::ui::keyboards;
use crate::bot::ui::labels::{equipment_label, status_label, visit_echo, visit_label};
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use crate::db::{ClientSummary, NewOrder, Notification, Order, VisitBounds};
use crate::domain::schedule;
use crate::domain::{
    advance, shop_now, Actor, Advance, Dialog, DialogInput, DialogRefusal, KnownClient, OrderDraft,
    OrderStep, Permission, Role, Visit,
};
use crate::fsm::DialogKey;

/// `/create_order` (the client's own, `OrderDraft::default()`) or
/// `/new_order` (the desk, [`OrderDraft::for_desk`], whose permission the
/// caller checked) outside a dialog.
pub async fn start(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    draft: OrderDraft,
) -> BotResult {
    if !draft.desk {
        check_order_limit(ctx, inc).await?;
    }
    save(ctx, inc, key, OrderStep::Equipment, &draft).await?;
    prompt(ctx, inc, OrderStep::Equipment, &draft).await;
    Ok(())
}

/// An input while the client is at `step`.
pub async fn on_input(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    step: OrderStep,
    mut draft: OrderDraft,
    input: Input,
) -> BotResult {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let dialog_input = match input {
        Input::Command { name, args } => {
            let key_of_reply = match Command::from_parts(&name, &args) {
                Some(Command::Cancel) => return cancel(ctx, inc, key).await,
                Some(Command::CreateOrder | Command::NewOrder | Command::Start(_)) => {
                    "dialog_resumed"
                }
                Some(Command::Help) => "help",
                _ => "in_dialog_command",
            };
            reply::send(ctx, &inc.sender, t.get(lang, key_of_reply), None).await;
            prompt(ctx, inc, step, &draft).await;
            return Ok(());
        }
        Input::Button {
            ref query_id,
            ref data,
            message_id,
        } => {
            let parsed = match Callback::parse(data) {
                Some(Callback::Dialog(button)) => Some(button),
                _ => None,
            };
            if parsed == Some(DialogButton::Cancel) {
                reply::answer_button(ctx, query_id, None).await;
                reply::drop_keyboard(ctx, inc.sender.chat_id, message_id).await;
                return cancel(ctx, inc, key).await;
            }
            match parsed {
                Some(DialogButton::Equipment(k)) => DialogInput::PickEquipment(k),
                Some(DialogButton::Visit(s)) => DialogInput::PickVisitSlot(s),
                Some(DialogButton::Confirm) => DialogInput::Confirm,
                Some(DialogButton::EditMenu) => DialogInput::EditMenu,
                Some(DialogButton::Edit(f)) => DialogInput::Edit(f),
                Some(DialogButton::Skip) => DialogInput::Skip,
                Some(DialogButton::Reuse) => DialogInput::ReuseClient,
                Some(DialogButton::Cancel) | None => {
                    tracing::info!(user_id = inc.sender.user_id, data = %data, "unknown callback data in the order dialog");
                    DialogInput::Unsupported
                }
            }
        }
        Input::Text(text) => DialogInput::Text(text),
        Input::Contact { phone, user_id, .. } => DialogInput::Contact {
            phone,
            own: user_id == Some(inc.sender.user_id),
        },
        Input::Forwarded { .. } => DialogInput::Unsupported,
        Input::Photo { file_id, caption } => DialogInput::Photo { file_id, caption },
        Input::Other | Input::Membership(_) | Input::Migrated { .. } => DialogInput::Unsupported,
    };
    let is_unknown_button = matches!(&inc.input, Input::Button { data, .. } if !matches!(Callback::parse(data), Some(Callback::Dialog(_))));

    let before = draft.clone();
    let outcome = if is_unknown_button {
        Advance::Refused(DialogRefusal::StaleButton)
    } else {
        let now = shop_now(jiff::Timestamp::now(), ctx.texts.time_zone());
        advance(step, &mut draft, dialog_input, now)
    };

    // Answer the button first: Telegram shows a spinner until we do.
    if let Input::Button {
        query_id,
        message_id,
        ..
    } = &inc.input
    {
        match outcome {
            Advance::Refused(DialogRefusal::StaleButton) => {
                reply::answer_button(ctx, query_id, Some(t.get(lang, "err_stale_button"))).await;
            }
            _ => {
                reply::answer_button(ctx, query_id, None).await;
                reply::drop_keyboard(ctx, inc.sender.chat_id, *message_id).await;
            }
        }
    }

    match outcome {
        Advance::Goto(next) => {
            let found = if draft.desk && step == OrderStep::Phone {
                look_up_caller(ctx, &mut draft).await
            } else {
                None
            };
            save(ctx, inc, key, next, &draft).await?;
            if let Some(text) = found {
                let offer = keyboards::reuse_client(t, lang);
                reply::send(ctx, &inc.sender, text, Some(offer)).await;
            }
            prompt(ctx, inc, next, &draft).await;
        }
        Advance::ShowEditMenu => {
            save(ctx, inc, key, step, &draft).await?;
            reply::send(
                ctx,
                &inc.sender,
                t.get(lang, "edit_which"),
                Some(keyboards::edit_fields(t, lang, draft.desk)),
            )
            .await;
        }
        Advance::Refused(refusal) => {
            if draft != before {
                save(ctx, inc, key, step, &draft).await?;
            }
            if refusal != DialogRefusal::StaleButton {
                reply::send(ctx, &inc.sender, refusal_text(ctx, lang, refusal), None).await;
            }
            prompt(ctx, inc, step, &draft).await;
        }
        Advance::Submit => submit(ctx, inc, key, &draft).await?,
    }
    Ok(())
}

fn refusal_text(ctx: &BotContext, lang: Lang, refusal: DialogRefusal) -> String {
    let t = &ctx.texts;
    match refusal {
        DialogRefusal::UseButtons => t.get(lang, "err_use_buttons").into(),
        DialogRefusal::PhotoNeedsText => t.get(lang, "err_photo_needs_text").into(),
        DialogRefusal::StaleButton => t.get(lang, "err_stale_button").into(),
        DialogRefusal::Unsupported => t.get(lang, "err_unsupported").into(),
        DialogRefusal::Invalid(e) => input_error_text(ctx, lang, e),
        DialogRefusal::VisitPast => t.get(lang, "err_visit_past").into(),
        DialogRefusal::VisitUnclear => t.get(lang, "err_visit_unclear").into(),
    }
}

/// Stores the order dialog at `step` (see [`save_dialog`]).
async fn save(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    step: OrderStep,
    draft: &OrderDraft,
) -> BotResult {
    let dialog = Dialog::Order {
        step,
        draft: draft.clone(),
    };
    save_dialog(ctx, inc, key, &dialog).await
}

async fn cancel(ctx: &BotContext, inc: &Incoming, key: DialogKey) -> BotResult {
    let lang = inc.sender.lang;
    ctx.fsm
        .finish(key, inc.update_id)
        .await
        .map_err(|source| BotError::Unavailable {
            what: "could not clear a cancelled dialog",
            source: source.into(),
        })?;
    reply::send(
        ctx,
        &inc.sender,
        ctx.texts.get(lang, "cancelled"),
        Some(super::roles::menu(ctx, inc).await),
    )
    .await;
    Ok(())
}

/// Desk: what the shop knows of the caller of the phone just typed, as a
/// message to show with the "reuse" offer; the record goes into the draft.
/// A failed lookup only costs the offer.
async fn look_up_caller(ctx: &BotContext, draft: &mut OrderDraft) -> Option<String> {
    let phone = draft.phone.clone()?;
    let client = match ctx.db.client_by_phone(&phone).await {
        Ok(client) => client?,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a returning caller");
            return None;
        }
    };
    draft.returning = Some(KnownClient {
        name: client.name.clone(),
        address: client.last_address.clone(),
    });
    let (t, lang) = (&ctx.texts, Lang::Ru);
    let last = match client.last_order {
        Some((id, status)) => t.fmt(
            lang,
            "desk_last_order",
            &[("id", &id), ("status", &status_label(t, lang, status))],
        ),
        None => String::new(),
    };
    Some(t.fmt(
        lang,
        "desk_returning_client",
        &[
            ("name", &client.name),
            ("address", &client.last_address.as_deref().unwrap_or("—")),
            ("count", &client.orders),
            ("last", &last),
        ],
    ))
}

/// Asks the question of `step`: the desk's wording for a dispatcher taking
/// a call, the client's otherwise.
pub async fn prompt(ctx: &BotContext, inc: &Incoming, step: OrderStep, draft: &OrderDraft) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let key = |name: &str| {
        if draft.desk {
            format!("desk_ask_{name}")
        } else {
            format!("ask_{name}")
        }
    };
    let (text, markup) = match step {
        OrderStep::Equipment => (
            t.get(lang, &key("equipment")).to_string(),
            Some(keyboards::equipment(t, lang)),
        ),
        OrderStep::Description => (t.get(lang, &key("description")).to_string(), None),
        OrderStep::ClientName => (t.get(lang, &key("client_name")).to_string(), None),
        OrderStep::Address => (t.get(lang, &key("address")).to_string(), None),
        // The dispatcher's own number is not the caller's: no contact button.
        OrderStep::Phone if draft.desk => (t.get(lang, &key("phone")).to_string(), None),
        OrderStep::Phone => (
            t.get(lang, &key("phone")).to_string(),
            Some(keyboards::share_contact(t, lang)),
        ),
        OrderStep::Notes => (
            t.get(lang, &key("notes")).to_string(),
            Some(keyboards::skip(t, lang)),
        ),
        OrderStep::VisitTime => (
            t.get(lang, &key("visit_time")).to_string(),
            Some(keyboards::visit_slots(t, lang)),
        ),
        OrderStep::Confirm => (summary(ctx, lang, draft), Some(keyboards::confirm(t, lang))),
    };
    reply::send(ctx, &inc.sender, text, markup).await;
}

fn summary(ctx: &BotContext, lang: Lang, d: &OrderDraft) -> String {
    let t = &ctx.texts;
    let equipment = d
        .equipment
        .map(|k| equipment_label(t, lang, k))
        .unwrap_or_default();
    let visit = visit_shown(ctx, lang, d);
    let photo = if d.photo.is_some() {
        t.get(lang, "photo_attached")
    } else {
        ""
    };
    let key = if d.desk {
        "desk_confirm_summary"
    } else {
        "confirm_summary"
    };
    t.fmt(
        lang,
        key,
        &[
            ("equipment", &equipment),
            ("description", &d.description.as_deref().unwrap_or("")),
            ("photo", &photo),
            ("client", &d.client_name.as_deref().unwrap_or("")),
            ("address", &d.address.as_deref().unwrap_or("")),
            ("phone", &d.phone.as_deref().unwrap_or("")),
            ("notes", &d.notes.as_deref().unwrap_or("—")),
            ("visit_time", &visit),
        ],
    )
}

/// The visit time as the client gave it, and what the bot understood from
/// it when it names a day: "завтра после 18 (чт, 22 октября, после 18:00)".
fn visit_shown(ctx: &BotContext, lang: Lang, d: &OrderDraft) -> String {
    let t = &ctx.texts;
    let given = d
        .visit_time
        .as_deref()
        .map(|v| visit_label(t, lang, v))
        .unwrap_or_default();
    match &d.visit {
        Some(visit) => {
            let today = shop_now(jiff::Timestamp::now(), t.time_zone()).date();
            let echo = visit_echo(t, lang, visit, today);
            format!("{given} ({echo})")
        }
        None => given,
    }
}

/// Refuses a new order from a client who filed `MAX_ORDERS_PER_HOUR` in the last hour.
async fn check_order_limit(ctx: &BotContext, inc: &Incoming) -> BotResult {
    if ctx.max_orders_per_hour == 0 {
        return Ok(());
    }
    let since = crate::db::now_ms() - 3_600_000;
    match ctx.db.count_orders_since(inc.sender.user_id, since).await {
        Ok(n) if n >= i64::from(ctx.max_orders_per_hour) => {
            tracing::info!(
                user_id = inc.sender.user_id,
                orders = n,
                "order rate limit reached"
            );
            let text = ctx
                .texts
                .fmt(inc.sender.lang, "rate_limited", &[("count", &n)]);
            Err(BotError::Invalid(text))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            // The limit protects staff from spam; it must not block real orders.
            tracing::warn!(error = %e, "could not check the order rate limit; allowing");
            Ok(())
        }
    }
}

/// A visit's window as the database stores it: instants of the shop's time zone.
pub fn visit_bounds(ctx: &BotContext, v: &Visit) -> VisitBounds {
    VisitBounds::of(v, ctx.texts.time_zone())
}

/// Files the order and ends the dialog.
async fn submit(ctx: &BotContext, inc: &Incoming, key: DialogKey, draft: &OrderDraft) -> BotResult {
    let lang = inc.sender.lang;
    let (Some(equipment), Some(description), Some(address), Some(phone), Some(visit_time)) = (
        draft.equipment,
        draft.description.clone(),
        draft.address.clone(),
        draft.phone.clone(),
        draft.visit_time.clone(),
    ) else {
        // advance() only submits complete drafts.
        return Ok(());
    };
    let desk = draft.desk;
    let filed_by = if desk {
        // The role is checked again at the moment of filing: a dispatcher
        // removed while on the phone files nothing.
        let role = super::roles::require(ctx, inc, Permission::TakeCalls, "new_order").await?;
        Actor::new(inc.sender.user_id, role)
    } else {
        check_order_limit(ctx, inc).await?;
        Actor::new(inc.sender.user_id, Role::Client)
    };
    let new = NewOrder {
        client_id: (!desk).then_some(inc.sender.user_id),
        client_chat_id: (!desk).then_some(inc.sender.chat_id),
        filed_by,
        client_telegram: draft.phone_is_own.then_some(inc.sender.user_id),
        client_name: match &draft.client_name {
            Some(name) if desk => name.clone(),
            _ => inc.sender.first_name.clone(),
        },
        // A caller's language is not known: the shop's own.
        client_lang: if desk { Lang::Ru } else { lang }.code().to_string(),
        notes: draft.notes.clone(),
        // Reminded to staff if nobody takes it; escalated if it waits long.
        jobs: schedule::jobs_on_entering(
            crate::domain::OrderStatus::New,
            None,
            None,
            None,
            crate::db::now_ms(),
            &ctx.thresholds,
        ),
        equipment,
        description,
        photo_file_id: draft.photo.clone(),
        address,
        phone,
        visit_time,
        visit: draft.visit.as_ref().map(|v| visit_bounds(ctx, v)),
    };
    let staff = ctx
        .staff_chats()
        .await
        .or_internal("could not load the staff list")?;
    // Looked up before filing: what the client's record says of earlier orders.
    let returning = match ctx.db.client_by_phone(&new.phone).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up the client's earlier orders");
            None
        }
    };
    let filer = desk.then_some(inc.sender.chat_id);
    let notes = |order: &Order| notifications(ctx, lang, order, &staff, returning.as_ref(), filer);
    let (order, created, queued) = ctx
        .db
        .create_order_queued(&new, Some(inc.update_id), notes)
        .await
        .or_internal("could not file an order; the dialog is kept for a retry")?;
    {
        {
            if created {
                // The client's receipt is their reply: sent now, at handler
                // speed; staff alerts go to the worker's lanes.
                let (receipt, alerts): (Vec<_>, Vec<_>) = queued
                    .into_iter()
                    .partition(|item| item.notification.chat_id == inc.sender.chat_id);
                ctx.outbox.queued(alerts);
                for item in receipt {
                    outbox::deliver_now(ctx, item).await;
                }
                tracing::info!(
                    order_id = order.id,
                    client_id = order.client_id,
                    filed_by = inc.sender.user_id,
                    desk,
                    "order filed"
                );
                crate::metrics::order_filed();
            } else {
                tracing::info!(
                    order_id = order.id,
                    "order already filed by this update; not filing again"
                );
                // Its notifications may still be waiting in the table.
                ctx.outbox.changed();
            }
            if let Err(e) = ctx.fsm.finish(key, inc.update_id).await {
                // The order is safe; a leftover confirm state is re-submitted
                // idempotently only for the same update, so log loudly.
                tracing::error!(order_id = order.id, error = %e, "order filed but its dialog could not be cleared");
            }
        }
    }
    Ok(())
}

/// The client's receipt (when the client is on Telegram) and the staff
/// alerts, queued with the order itself. An order taken at the desk
/// (`filer`: the dispatcher's chat) gives the dispatcher the card as the
/// receipt, first, and alerts the rest of the staff.
fn notifications(
    ctx: &BotContext,
    client_lang: Lang,
    order: &Order,
    staff: &[i64],
    returning: Option<&ClientSummary>,
    filer: Option<i64>,
) -> Vec<Notification> {
    let t = &ctx.texts;
    let staff_lang = Lang::Ru;
    let mut notes = Vec::new();
    if let Some(chat_id) = filer {
        notes.push(Notification {
            chat_id,
            text: t.fmt(
                staff_lang,
                "desk_order_filed",
                &[
                    ("id", &order.id),
                    ("client", &order.client_name),
                    ("phone", &order.phone),
                ],
            ),
            buttons: cards::staff_buttons(t, staff_lang, order),
            card: None,
            document: None,
        });
    }
    if let Some(chat_id) = order.client_chat_id {
        let lang = if filer.is_some() {
            Lang::from_code(Some(&order.client_lang))
        } else {
            client_lang
        };
        notes.push(Notification {
            chat_id,
            text: t.fmt(lang, "order_created", &[("id", &order.id)]),
            buttons: vec![],
            card: None,
            document: None,
        });
    }
    let photo = if order.photo_file_id.is_some() {
        t.get(staff_lang, "photo_attached")
    } else {
        ""
    };
    let mut text = t.fmt(
        staff_lang,
        "staff_new_order",
        &[
            ("id", &order.id),
            (
                "equipment",
                &equipment_label(t, staff_lang, order.equipment),
            ),
            ("description", &order.description),
            ("photo", &photo),
            ("address", &order.address),
            ("phone", &order.phone),
            ("visit_time", &cards::visit_of(t, staff_lang, order)),
            ("client", &order.client_name),
            ("client_id", &cards::client_tag(t, staff_lang, order)),
        ],
    );
    if let Some(text_of_notes) = &order.notes {
        text.push_str(&t.fmt(staff_lang, "card_notes", &[("notes", text_of_notes)]));
    }
    // Someone who called before: the desk sees it at once.
    if let Some((last_id, last_status)) = returning.and_then(|c| c.last_order) {
        text.push_str(&t.fmt(
            staff_lang,
            "staff_returning_client",
            &[
                ("count", &returning.map(|c| c.orders).unwrap_or(0)),
                ("id", &last_id),
                ("status", &status_label(t, staff_lang, last_status)),
            ],
        ));
    }
    let buttons = cards::staff_buttons(t, staff_lang, order);
    for chat_id in staff.iter().filter(|c| Some(**c) != filer) {
        notes.push(Notification {
            chat_id: *chat_id,
            text: text.clone(),
            buttons: buttons.clone(),
            card: None,
            document: None,
        });
    }
    notes
}
