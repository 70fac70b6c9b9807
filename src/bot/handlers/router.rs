//! Routes each update. The dialog is loaded once (a storage error is never
//! taken for "no dialog"), updates already applied are skipped, and then the
//! update goes down one tree:
//!
//! - an order button or an order-list page → its handler, whatever dialog is open;
//! - anything else in an open dialog → that dialog;
//! - a command → its handler, behind the command's permission;
//! - a shared contact or forward (staff) → the "add staff" dialog.
//!
//! Role checks are filters on the branches, run on the server for every
//! update; every branch returns a [`BotResult`] reported in one place.

use super::error::{self, BotError, BotResult};
use super::persist::{end_dialog, save_dialog};
use super::{
    admin, client, follow_ups, groups, master, masters, order_dialog, orders, reports, roles, staff,
};
use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::reply;
use crate::bot::ui::callbacks::{Callback, ListButton, OrderButton};
use crate::bot::ui::commands::Command;
use crate::bot::ui::keyboards;
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use crate::domain::{
    Action, ActionKind, CloseForm, Dialog, OrderDraft, Permission, RepairForm, Role, Roles,
};
use crate::fsm::codec::{self, DecodedDialog};
use crate::fsm::DialogKey;

/// Handles one update; when a reply to it was lost, marks the dialog so the
/// next message gets the question again (see [`ask_again_if_missed`]).
pub async fn handle(ctx: &BotContext, inc: Incoming) {
    #[cfg(debug_assertions)]
    ctx.faults.inject(&inc).await;
    let key = key_of(&inc);
    let lost = inc.sender.lost_reply.clone();
    if let Err(e) = route(ctx, &inc).await {
        error::report(ctx, &inc, e).await;
    }
    if lost.is_set() {
        remember_missed_reply(ctx, key).await;
    }
}

fn key_of(inc: &Incoming) -> DialogKey {
    DialogKey {
        chat_id: inc.sender.chat_id,
        user_id: inc.sender.user_id,
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

/// Asks the question of the step `dialog` is at.
async fn ask_current(ctx: &BotContext, inc: &Incoming, dialog: &Dialog) {
    match dialog {
        Dialog::Order { step, draft } => order_dialog::prompt(ctx, inc, *step, draft).await,
        small => follow_ups::ask(ctx, inc, small).await,
    }
}

/// The dialog state as stored, once per update; `None` when the update was
/// fully answered here (skipped as applied, or the state was reset).
async fn load_dialog(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
) -> BotResult<Option<Option<DecodedDialog>>> {
    let loaded = ctx
        .fsm
        .load(key)
        .await
        .map_err(|source| BotError::Unavailable {
            what: "dialog storage unavailable",
            source: source.into(),
        })?;
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
        return Ok(None);
    }
    let Some(stored) = loaded.dialog else {
        return Ok(Some(None));
    };
    match codec::decode(&stored) {
        Ok(decoded) => Ok(Some(Some(decoded))),
        Err(e) => {
            tracing::error!(
                chat_id = key.chat_id, user_id = key.user_id, state = %stored.state, error = %e,
                "undecodable dialog state; resetting the dialog"
            );
            crate::metrics::undecodable_state();
            ctx.fsm
                .clear(key)
                .await
                .map_err(|source| BotError::Unavailable {
                    what: "could not clear an undecodable dialog",
                    source: source.into(),
                })?;
            answer_if_button(ctx, &inc.input, None).await;
            let (t, lang) = (&ctx.texts, inc.sender.lang);
            let menu = roles::menu(ctx, inc).await;
            reply::send(ctx, &inc.sender, t.get(lang, "dialog_reset"), Some(menu)).await;
            Ok(None)
        }
    }
}

async fn route(ctx: &BotContext, inc: &Incoming) -> BotResult {
    if inc.sender.in_group && groups::gate(ctx, inc).await? == groups::Gate::Handled {
        return Ok(());
    }
    let key = key_of(inc);
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
    let Some(current) = load_dialog(ctx, inc, key).await? else {
        return Ok(());
    };
    if let Some(DecodedDialog {
        last_update_id: Some(last),
        dialog,
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
            ask_current(ctx, inc, dialog).await;
            return Ok(());
        }
    }
    if ask_again_if_missed(ctx, inc, key, &current, &input).await? {
        return Ok(());
    }
    let current = current.map(|d| d.dialog);

    if let Input::Button {
        query_id,
        data,
        message_id,
    } = &input
    {
        match Callback::parse(data) {
            Some(Callback::Order(button)) => {
                reply::answer_button(ctx, query_id, None).await;
                return on_order_button(ctx, inc, key, current.as_ref(), button, *message_id).await;
            }
            Some(Callback::Master(button)) => {
                reply::answer_button(ctx, query_id, None).await;
                return match masters::on_button(ctx, inc, button, *message_id).await? {
                    Some(question) => {
                        follow_ups::start(ctx, inc, key, current.as_ref(), question).await
                    }
                    None => Ok(()),
                };
            }
            Some(Callback::Report(button)) => {
                reply::answer_button(ctx, query_id, None).await;
                return reports::on_button(ctx, inc, button).await;
            }
            Some(Callback::List(page)) => {
                reply::answer_button(ctx, query_id, None).await;
                roles::require(ctx, inc, Permission::OrderBoard, "orders page").await?;
                return staff::orders_page(ctx, inc, page, *message_id).await;
            }
            _ => {}
        }
    }
    let current = match current {
        Some(d) if d.yields_to_commands() && matches!(input, Input::Command { .. }) => {
            end_dialog(ctx, inc, key).await;
            None
        }
        other => other,
    };
    match current {
        Some(Dialog::Order { step, draft }) => {
            order_dialog::on_input(ctx, inc, key, step, draft, input).await
        }
        Some(small) => follow_ups::on_input(ctx, inc, key, small, input).await,
        None => idle(ctx, inc, key, input).await,
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
) -> BotResult<bool> {
    let Some(DecodedDialog {
        dialog,
        missed_reply: true,
        ..
    }) = current
    else {
        return Ok(false);
    };
    if matches!(input, Input::Button { .. } | Input::Command { .. }) {
        return Ok(false);
    }
    tracing::info!(
        update_id = inc.update_id,
        user_id = inc.sender.user_id,
        "the last question was not delivered; asking it again instead of taking this message as its answer"
    );
    // Stored first: this update is applied, and the mark is gone.
    save_dialog(ctx, inc, key, dialog).await?;
    ask_current(ctx, inc, dialog).await;
    Ok(true)
}

async fn answer_if_button(ctx: &BotContext, input: &Input, toast: Option<&str>) {
    if let Input::Button { query_id, .. } = input {
        reply::answer_button(ctx, query_id, toast).await;
    }
}

/// An order button: the action is checked by [`orders`] against the rules;
/// the ones that ask something first open their follow-up dialog.
async fn on_order_button(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    current: Option<&Dialog>,
    button: OrderButton,
    pressed: Option<i32>,
) -> BotResult {
    let id = button.order_id();
    let perform = |action| orders::perform(ctx, inc, id, action, pressed);
    let ask_first = |kind, dialog| async move {
        orders::check(ctx, inc, id, kind).await?;
        follow_ups::start(ctx, inc, key, current, dialog).await
    };
    match button {
        OrderButton::Card(_) => staff::show_card(ctx, inc, id).await,
        OrderButton::Comments(_) => staff::show_comments(ctx, inc, id).await,
        OrderButton::History(_) => staff::show_history(ctx, inc, id).await,
        OrderButton::ChooseMaster(_) => staff::choose_master(ctx, inc, id).await,
        OrderButton::AssignTo(_, master_id, seen) => {
            perform(Action::Assign {
                master_id,
                seen_master: (seen != 0).then_some(seen),
            })
            .await
        }
        OrderButton::Accept(_) => perform(Action::Accept).await,
        OrderButton::Start(_) => perform(Action::StartWork).await,
        OrderButton::Parts(_) => {
            let dialog = Dialog::LongRepair {
                order_id: id,
                form: RepairForm::default(),
            };
            ask_first(ActionKind::WaitParts, dialog).await
        }
        OrderButton::Resume(_) => perform(Action::ResumeWork).await,
        OrderButton::Cancel(_) => perform(Action::Cancel).await,
        OrderButton::Done(_) => {
            let dialog = Dialog::MasterDone {
                order_id: id,
                form: CloseForm::default(),
            };
            ask_first(ActionKind::Finish, dialog).await
        }
        OrderButton::Decline(_) => {
            ask_first(ActionKind::Decline, Dialog::Decline { order_id: id }).await
        }
        OrderButton::Comment(_) => {
            ask_first(ActionKind::Comment, Dialog::Comment { order_id: id }).await
        }
        OrderButton::Unassign(_) => perform(Action::Unassign).await,
        OrderButton::Reschedule(_) => {
            let dialog = Dialog::Reschedule {
                order_id: id,
                to: None,
            };
            ask_first(ActionKind::Reschedule, dialog).await
        }
        OrderButton::Reopen(_) => perform(Action::Reopen).await,
        OrderButton::EditMoney(_) => {
            let dialog = Dialog::MasterDone {
                order_id: id,
                form: CloseForm {
                    correcting: true,
                    ..CloseForm::default()
                },
            };
            ask_first(ActionKind::EditMoney, dialog).await
        }
        OrderButton::Ping(_) => perform(Action::Ping).await,
        OrderButton::Refuse(_) => {
            ask_first(ActionKind::Refuse, Dialog::Refuse { order_id: id }).await
        }
        OrderButton::EditMenu(_) => staff::edit_menu(ctx, inc, id).await,
        OrderButton::EditField(_, field) => {
            let dialog = Dialog::EditOrder {
                order_id: id,
                field,
            };
            ask_first(ActionKind::Edit, dialog).await
        }
        OrderButton::RateMenu(_) => client::rate_menu(ctx, inc, id).await,
        OrderButton::Rate(_, stars) => {
            perform(Action::Rate { stars }).await?;
            follow_ups::start(
                ctx,
                inc,
                key,
                current,
                Dialog::RatingComment { order_id: id },
            )
            .await
        }
    }
}

/// The user is in no dialog.
async fn idle(ctx: &BotContext, inc: &Incoming, key: DialogKey, input: Input) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    if inc.sender.in_group && !matches!(input, Input::Command { .. } | Input::Button { .. }) {
        // A work group's conversation is not addressed to the bot.
        return Ok(());
    }
    match input {
        Input::Command { name, args } => match Command::from_parts(&name, &args) {
            Some(cmd) => command(ctx, inc, key, cmd).await,
            None => {
                reply::send(ctx, &inc.sender, t.get(lang, "unknown_command"), None).await;
                Ok(())
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
            Ok(())
        }
        // Their own number, which Telegram vouches for: the orders phoned in
        // for it become theirs to see.
        Input::Contact { user_id, phone, .. } if user_id == Some(inc.sender.user_id) => {
            client::link_own_phone(ctx, inc, &phone).await
        }
        Input::Contact { user_id, name, .. } => {
            if !sender_is_staff(ctx, inc).await? {
                return Ok(());
            }
            let Some(user_id) = user_id else {
                return Err(BotError::Invalid(
                    t.get(lang, "contact_no_user").to_string(),
                ));
            };
            let name = if name.is_empty() {
                format!("id {user_id}")
            } else {
                name
            };
            follow_ups::start(ctx, inc, key, None, Dialog::AddStaff { user_id, name }).await
        }
        Input::Forwarded { user_id, name } => {
            if !sender_is_staff(ctx, inc).await? {
                return Ok(());
            }
            follow_ups::start(ctx, inc, key, None, Dialog::AddStaff { user_id, name }).await
        }
        _ => {
            not_understood(ctx, inc).await;
            Ok(())
        }
    }
}

/// A command outside any dialog, behind its permission. Everybody's commands
/// need no role lookup except those whose text depends on the role.
async fn command(ctx: &BotContext, inc: &Incoming, key: DialogKey, cmd: Command) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    match &cmd {
        Command::CreateOrder => {
            return order_dialog::start(ctx, inc, key, OrderDraft::default()).await
        }
        Command::Cancel => {
            reply::send(ctx, &inc.sender, t.get(lang, "nothing_to_cancel"), None).await;
            return Ok(());
        }
        Command::MyOrders => return client::my_orders(ctx, inc).await,
        _ => {}
    }
    let held = roles::actor(ctx, inc).await?.roles;
    let role = held.strongest();
    if !role.may(cmd.permission()) {
        return Err(BotError::needs_role(role, cmd.name()));
    }
    match cmd {
        Command::Start(_) => {
            let mut text = t.fmt(lang, "start", &[("name", &inc.sender.first_name)]);
            append_role_help(ctx, lang, held, &mut text);
            let menu = keyboards::main_menu(t, lang, held);
            reply::send(ctx, &inc.sender, text, Some(menu)).await;
            Ok(())
        }
        Command::Help => {
            let mut text = t.get(lang, "help").to_string();
            append_role_help(ctx, lang, held, &mut text);
            let menu = keyboards::main_menu(t, lang, held);
            reply::send(ctx, &inc.sender, text, Some(menu)).await;
            Ok(())
        }
        Command::Orders(args) => {
            let status = staff::parse_filter(&args).unwrap_or(None);
            staff::orders_page(ctx, inc, ListButton { status, page: 0 }, None).await
        }
        Command::Order(args) => staff::order_command(ctx, inc, &args).await,
        // The menu's button, or the bare command: ask what to look for.
        Command::Search(args) if args.trim().is_empty() => {
            follow_ups::start(ctx, inc, key, None, Dialog::Search).await
        }
        Command::Search(args) => staff::search(ctx, inc, &args).await,
        Command::History(args) => staff::history_command(ctx, inc, &args).await,
        Command::AddMaster(args) => staff::add_command(ctx, inc, Role::Master, &args).await,
        Command::AddDispatcher(args) => staff::add_command(ctx, inc, Role::Dispatcher, &args).await,
        Command::RemoveMaster(args) => staff::remove_command(ctx, inc, Role::Master, &args).await,
        Command::RemoveDispatcher(args) => {
            staff::remove_command(ctx, inc, Role::Dispatcher, &args).await
        }
        Command::Masters => staff::masters(ctx, inc).await,
        Command::NewOrder => order_dialog::start(ctx, inc, key, OrderDraft::for_desk()).await,
        // In a group the gate answered them; here, in a private chat:
        Command::BindMaster(_) | Command::UnbindMaster => {
            Err(BotError::Invalid(t.get(lang, "group_only").to_string()))
        }
        Command::MyJobs => master::my_jobs(ctx, inc).await,
        Command::MyStats => masters::my_stats(ctx, inc).await,
        Command::Master(args) => masters::profile_command(ctx, inc, &args).await,
        Command::Stats(args) => admin::stats(ctx, inc, &args).await,
        Command::Export(args) => admin::export(ctx, inc, &args).await,
        Command::Reports => reports::menu(ctx, inc).await,
        Command::CreateOrder | Command::Cancel | Command::MyOrders => Ok(()),
    }
}

/// For inputs only staff may send (a contact or a forward adds a person):
/// `true` for staff; otherwise the sender was told it was not understood.
async fn sender_is_staff(ctx: &BotContext, inc: &Incoming) -> BotResult<bool> {
    if roles::actor(ctx, inc).await?.may(Permission::OrderBoard) {
        return Ok(true);
    }
    not_understood(ctx, inc).await;
    Ok(false)
}

async fn not_understood(ctx: &BotContext, inc: &Incoming) {
    let text = ctx.texts.get(inc.sender.lang, "not_understood");
    let menu = roles::menu(ctx, inc).await;
    reply::send(ctx, &inc.sender, text, Some(menu)).await
}

/// The help of each role held: a dispatcher who is also a master reads both.
fn append_role_help(ctx: &BotContext, lang: Lang, roles: Roles, text: &mut String) {
    let mut keys = Vec::new();
    if roles.is_staff() {
        keys.push("staff_help");
    }
    if roles.contains(Role::Master) {
        keys.push("master_help");
    }
    for key in keys {
        text.push_str("\n\n");
        text.push_str(ctx.texts.get(lang, key));
    }
}
