//! Routes each update: loads the user's dialog once (a storage error is never
//! taken for "no dialog"), skips updates already applied, sends order and
//! list buttons to their handlers whatever dialog is open, and everything else
//! to the open dialog or, with none, to the commands of the user's role.

use super::actions::{self, Extras};
use super::client;
use super::dialog;
use super::incoming::{Incoming, Input};
use super::keyboards::{self, ListButton, OrderButton};
use super::persist;
use super::reply;
use super::roles;
use super::small_dialogs;
use super::staff;
use super::BotContext;
use crate::domain::{Action, Role};
use crate::fsm::codec::{self, DecodedDialog, Dialog};
use crate::fsm::DialogKey;

/// Handles one update; when a reply to it was lost, marks the dialog so the
/// next message gets the question again (see [`ask_again_if_missed`]).
pub async fn handle(ctx: &BotContext, inc: Incoming) {
    let key = DialogKey {
        chat_id: inc.sender.chat_id,
        user_id: inc.sender.user_id,
    };
    let lost = inc.sender.lost_reply.clone();
    route(ctx, inc).await;
    if lost.is_set() {
        remember_missed_reply(ctx, key).await;
    }
}

/// Marks the stored dialog (if any) as having a question the user never saw.
async fn remember_missed_reply(ctx: &BotContext, key: DialogKey) {
    let stored = match ctx.fsm.get(key).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(user_id = key.user_id, error = %e, "cannot mark a dialog whose question was not delivered");
            return;
        }
    };
    if let Some(marked) = codec::mark_missed_reply(&stored) {
        if let Err(e) = ctx.fsm.set(key, &marked).await {
            tracing::warn!(user_id = key.user_id, error = %e, "cannot mark a dialog whose question was not delivered");
        }
    }
}

/// The dialog's last question never reached the user, so what they typed now
/// answers something else (often the question before, sent again): ask the
/// missed question instead of storing it as the answer. Buttons and commands
/// are unambiguous and go on as usual. `true` when the update was answered.
async fn ask_again_if_missed(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    current: &Option<DecodedDialog>,
    input: &Input,
) -> bool {
    let Some(DecodedDialog {
        dialog,
        missed_reply: true,
        ..
    }) = current
    else {
        return false;
    };
    if matches!(input, Input::Button { .. } | Input::Command { .. }) {
        return false;
    }
    tracing::info!(
        update_id = inc.update_id,
        user_id = inc.sender.user_id,
        "the last question was not delivered; asking it again instead of taking this message as its answer"
    );
    // Stored first: this update is applied, and the mark is gone.
    if persist::save_dialog(ctx, inc, key, dialog).await {
        ask_current(ctx, inc, dialog).await;
    }
    true
}

/// Asks the question of the step `dialog` is at.
async fn ask_current(ctx: &BotContext, inc: &Incoming, dialog: &Dialog) {
    match dialog {
        Dialog::Order { step, draft } => dialog::prompt(ctx, inc, *step, draft).await,
        small => small_dialogs::ask(ctx, inc, small).await,
    }
}

async fn route(ctx: &BotContext, inc: Incoming) {
    if let (Some(trigger), Input::Text(text)) = (&ctx.fault_panic_text, &inc.input) {
        if text.as_str() == &**trigger {
            panic!("injected fault: FAULT_PANIC_ON_TEXT matched");
        }
    }
    if let (Some(trigger), Input::Text(text)) = (&ctx.fault_slow_text, &inc.input) {
        if text.as_str() == &**trigger {
            tracing::info!(
                update_id = inc.update_id,
                "injected fault: FAULT_SLOW_ON_TEXT, handling slowly"
            );
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
    }
    let key = DialogKey {
        chat_id: inc.sender.chat_id,
        user_id: inc.sender.user_id,
    };
    let input = match inc.input.clone() {
        Input::Text(t) => match keyboards::menu_command(&ctx.texts, &t) {
            Some(cmd) => Input::Command {
                name: cmd.to_string(),
                args: String::new(),
            },
            None => Input::Text(t),
        },
        other => other,
    };

    let loaded = match ctx.fsm.load(key).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(chat_id = key.chat_id, user_id = key.user_id, error = %e, "dialog storage unavailable");
            crate::metrics::storage_error();
            storage_unavailable(ctx, &inc).await;
            return;
        }
    };
    if loaded
        .finished_through
        .is_some_and(|last| last >= inc.update_id)
    {
        // Delivered again after a crash, from a dialog that has ended since:
        // it was applied (a `/create_order` must not start the dialog over).
        tracing::info!(
            update_id = inc.update_id,
            "update already applied to a finished dialog; skipping"
        );
        answer_if_button(ctx, &inc.input, None).await;
        return;
    }
    let current = match loaded.dialog {
        None => None,
        Some(stored) => match codec::decode(&stored) {
            Ok(decoded) => Some(decoded),
            Err(e) => {
                tracing::error!(
                    chat_id = key.chat_id, user_id = key.user_id, state = %stored.state, error = %e,
                    "undecodable dialog state; resetting the dialog"
                );
                crate::metrics::undecodable_state();
                if let Err(e) = ctx.fsm.clear(key).await {
                    tracing::warn!(error = %e, "could not clear an undecodable dialog");
                    storage_unavailable(ctx, &inc).await;
                    return;
                }
                answer_if_button(ctx, &inc.input, None).await;
                let text = ctx.texts.get(inc.sender.lang, "dialog_reset");
                reply::send(
                    ctx,
                    &inc.sender,
                    text,
                    Some(keyboards::main_menu(&ctx.texts, inc.sender.lang)),
                )
                .await;
                return;
            }
        },
    };

    if let Some(DecodedDialog {
        last_update_id: Some(last),
        ..
    }) = &current
    {
        if *last >= inc.update_id {
            // Telegram redelivered an update whose effect is already stored.
            tracing::info!(
                update_id = inc.update_id,
                "update already applied to this dialog; skipping"
            );
            answer_if_button(ctx, &inc.input, None).await;
            // The reply to it may have been lost with the crash that caused the
            // redelivery: ask the current question again so nobody waits forever.
            if let Some(DecodedDialog { dialog, .. }) = &current {
                ask_current(ctx, &inc, dialog).await;
            }
            return;
        }
    }
    if ask_again_if_missed(ctx, &inc, key, &current, &input).await {
        return;
    }
    let current = current.map(|d| d.dialog);

    if let Input::Button {
        query_id,
        data,
        message_id,
    } = &input
    {
        if let Some(button) = OrderButton::parse(data) {
            reply::answer_button(ctx, query_id, None).await;
            on_order_button(ctx, &inc, key, current.as_ref(), button, *message_id).await;
            return;
        }
        if let Some(page) = ListButton::parse(data) {
            reply::answer_button(ctx, query_id, None).await;
            let role = roles::resolve(ctx, inc.sender.user_id)
                .await
                .unwrap_or(Role::Client);
            if staff::require(ctx, &inc, role, Role::Dispatcher, "orders page").await {
                staff::orders_page(ctx, &inc, page, *message_id).await;
            }
            return;
        }
    }

    match current {
        Some(Dialog::Order { step, draft }) => {
            dialog::on_input(ctx, &inc, key, step, draft, input).await
        }
        Some(small) => small_dialogs::on_input(ctx, &inc, key, small, input).await,
        None => idle(ctx, &inc, key, input).await,
    }
}

async fn storage_unavailable(ctx: &BotContext, inc: &Incoming) {
    let text = ctx.texts.get(inc.sender.lang, "storage_unavailable");
    if let Input::Button { query_id, .. } = &inc.input {
        reply::answer_button(ctx, query_id, Some(text)).await;
    }
    reply::send(ctx, &inc.sender, text, None).await;
}

async fn answer_if_button(ctx: &BotContext, input: &Input, toast: Option<&str>) {
    if let Input::Button { query_id, .. } = input {
        reply::answer_button(ctx, query_id, toast).await;
    }
}

async fn on_order_button(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    current: Option<&Dialog>,
    button: OrderButton,
    message_id: Option<i32>,
) {
    let pressed = Extras {
        pressed_message: message_id,
        ..Default::default()
    };
    let simple = |action| {
        let extras = pressed.clone();
        async move {
            actions::perform(ctx, inc, order_id_of(button), action, extras).await;
        }
    };
    match button {
        OrderButton::Card(id) => actions::show_card(ctx, inc, id).await,
        OrderButton::Comments(id) => actions::show_comments(ctx, inc, id).await,
        OrderButton::ChooseMaster(id) => actions::choose_master(ctx, inc, id).await,
        OrderButton::AssignTo(id, master_id, expected) => {
            let extras = Extras {
                expected_master: Some((expected != 0).then_some(expected)),
                ..pressed.clone()
            };
            actions::perform(ctx, inc, id, Action::Assign { master_id }, extras).await;
        }
        OrderButton::Accept(_) => simple(Action::Accept).await,
        OrderButton::Start(_) => simple(Action::StartWork).await,
        OrderButton::Parts(_) => simple(Action::WaitParts).await,
        OrderButton::Resume(_) => simple(Action::ResumeWork).await,
        OrderButton::Cancel(_) => simple(Action::Cancel).await,
        OrderButton::Done(id) => {
            if actions::check(ctx, inc, id, Action::Finish).await.is_some() {
                small_dialogs::start(
                    ctx,
                    inc,
                    key,
                    current,
                    Dialog::MasterDone {
                        order_id: id,
                        work: None,
                    },
                )
                .await;
            }
        }
        OrderButton::Decline(id) => {
            if actions::check(ctx, inc, id, Action::Decline)
                .await
                .is_some()
            {
                small_dialogs::start(ctx, inc, key, current, Dialog::Decline { order_id: id })
                    .await;
            }
        }
        OrderButton::Comment(id) => {
            if actions::check(ctx, inc, id, Action::Comment)
                .await
                .is_some()
            {
                small_dialogs::start(ctx, inc, key, current, Dialog::Comment { order_id: id })
                    .await;
            }
        }
        OrderButton::RateMenu(id) => {
            if actions::check(ctx, inc, id, Action::Rate).await.is_some() {
                let text = ctx.texts.fmt(inc.sender.lang, "rate_which", &[("id", &id)]);
                reply::send(
                    ctx,
                    &inc.sender,
                    text,
                    Some(keyboards::inline(super::cards::rating_buttons(id))),
                )
                .await;
            }
        }
        OrderButton::Rate(id, stars) => {
            let extras = Extras {
                rating: Some(stars),
                ..pressed.clone()
            };
            if actions::perform(ctx, inc, id, Action::Rate, extras).await
                == actions::Performed::Done
            {
                small_dialogs::start(
                    ctx,
                    inc,
                    key,
                    current,
                    Dialog::RatingComment { order_id: id },
                )
                .await;
            }
        }
    }
}

fn order_id_of(b: OrderButton) -> i64 {
    match b {
        OrderButton::Card(id)
        | OrderButton::ChooseMaster(id)
        | OrderButton::AssignTo(id, _, _)
        | OrderButton::Accept(id)
        | OrderButton::Start(id)
        | OrderButton::Parts(id)
        | OrderButton::Resume(id)
        | OrderButton::Done(id)
        | OrderButton::Decline(id)
        | OrderButton::Cancel(id)
        | OrderButton::Comment(id)
        | OrderButton::RateMenu(id)
        | OrderButton::Rate(id, _)
        | OrderButton::Comments(id) => id,
    }
}

/// The user is in no dialog. The role is looked up only for what depends on
/// it (greetings, staff commands, staff-only inputs), on every such update.
async fn idle(ctx: &BotContext, inc: &Incoming, key: DialogKey, input: Input) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    match input {
        Input::Command { name, args } => match name.as_str() {
            "create_order" => dialog::start(ctx, inc, key).await,
            "cancel" => reply::send(ctx, &inc.sender, t.get(lang, "nothing_to_cancel"), None).await,
            "my_orders" => client::my_orders(ctx, inc).await,
            _ => {
                let Some(role) = role_or_apologize(ctx, inc).await else {
                    return;
                };
                match name.as_str() {
                    "start" => {
                        let mut text = t.fmt(lang, "start", &[("name", &inc.sender.first_name)]);
                        append_role_help(ctx, lang, role, &mut text);
                        reply::send(ctx, &inc.sender, text, Some(keyboards::main_menu(t, lang)))
                            .await;
                    }
                    "help" => {
                        let mut text = t.get(lang, "help").to_string();
                        append_role_help(ctx, lang, role, &mut text);
                        reply::send(ctx, &inc.sender, text, Some(keyboards::main_menu(t, lang)))
                            .await
                    }
                    other => {
                        if !staff::command(ctx, inc, role, other, &args).await {
                            reply::send(ctx, &inc.sender, t.get(lang, "unknown_command"), None)
                                .await;
                        }
                    }
                }
            }
        },
        Input::Button {
            query_id,
            message_id,
            ..
        } => {
            // No dialog to press buttons in: an old message. Say so, disarm it.
            reply::answer_button(ctx, &query_id, Some(t.get(lang, "err_stale_button"))).await;
            reply::drop_keyboard(ctx, inc.sender.chat_id, message_id).await;
        }
        Input::Contact { user_id, name, .. } => {
            if !sender_is_staff(ctx, inc).await {
                return;
            }
            match user_id {
                Some(user_id) => {
                    let dialog = Dialog::AddStaff {
                        user_id,
                        name: if name.is_empty() {
                            format!("id {user_id}")
                        } else {
                            name
                        },
                    };
                    small_dialogs::start(ctx, inc, key, None, dialog).await;
                }
                None => reply::send(ctx, &inc.sender, t.get(lang, "contact_no_user"), None).await,
            }
        }
        Input::Forwarded { user_id, name } => {
            if sender_is_staff(ctx, inc).await {
                small_dialogs::start(ctx, inc, key, None, Dialog::AddStaff { user_id, name }).await;
            }
        }
        _ => not_understood(ctx, inc).await,
    }
}

/// The sender's role, or `None` after apologising (the database failed).
async fn role_or_apologize(ctx: &BotContext, inc: &Incoming) -> Option<Role> {
    reply::or_apologize(
        ctx,
        &inc.sender,
        roles::resolve(ctx, inc.sender.user_id).await,
        "cannot resolve a role",
    )
    .await
}

/// For inputs only staff may send (a contact or a forward adds a person):
/// `true` for staff; otherwise the sender has been answered (not understood,
/// or an apology when the role could not be looked up).
async fn sender_is_staff(ctx: &BotContext, inc: &Incoming) -> bool {
    match role_or_apologize(ctx, inc).await {
        Some(role) if role.is_staff() => true,
        Some(_) => {
            not_understood(ctx, inc).await;
            false
        }
        None => false,
    }
}

async fn not_understood(ctx: &BotContext, inc: &Incoming) {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    reply::send(
        ctx,
        &inc.sender,
        t.get(lang, "not_understood"),
        Some(keyboards::main_menu(t, lang)),
    )
    .await
}

fn append_role_help(ctx: &BotContext, lang: super::texts::Lang, role: Role, text: &mut String) {
    match role {
        Role::Client => {}
        Role::Master => {
            text.push_str("\n\n");
            text.push_str(ctx.texts.get(lang, "master_help"));
        }
        Role::Dispatcher | Role::Admin => {
            text.push_str("\n\n");
            text.push_str(ctx.texts.get(lang, "staff_help"));
        }
    }
}
