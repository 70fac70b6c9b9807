//! Short dialogs around an order: a master's "done" (work, then price), a
//! decline reason, a staff comment, a rating comment, and the role of a
//! shared contact. Like the order dialog, each step is stored before the
//! question is asked, so a restart resumes it.

use teloxide::types::ReplyMarkup;

use super::actions::{self, Extras};
use super::incoming::{Incoming, Input};
use super::keyboards::{self, SmallDialogButton};
use super::reply;
use super::roles;
use super::staff;
use super::BotContext;
use crate::db::Person;
use crate::domain::{Action, PlainText, Price, Role};
use crate::fsm::codec::Dialog;
use crate::fsm::DialogKey;

/// The question of a small dialog.
fn question(ctx: &BotContext, inc: &Incoming, dialog: &Dialog) -> (String, Option<ReplyMarkup>) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    match dialog {
        Dialog::MasterDone {
            order_id,
            work: None,
        } => (t.fmt(lang, "ask_work", &[("id", order_id)]), None),
        Dialog::MasterDone {
            order_id,
            work: Some(_),
        } => (t.fmt(lang, "ask_price", &[("id", order_id)]), None),
        Dialog::Decline { order_id } => {
            (t.fmt(lang, "ask_decline_reason", &[("id", order_id)]), None)
        }
        Dialog::Comment { order_id } => (t.fmt(lang, "ask_comment", &[("id", order_id)]), None),
        Dialog::RatingComment { .. } => (
            t.get(lang, "ask_rating_comment").to_string(),
            Some(keyboards::inline(vec![vec![(
                t.get(lang, "btn_skip").to_string(),
                SmallDialogButton::SkipComment.data().to_string(),
            )]])),
        ),
        Dialog::AddStaff { user_id, name } => {
            let mut row = vec![(
                t.get(lang, "btn_as_master").to_string(),
                SmallDialogButton::AddAsMaster.data().to_string(),
            )];
            if ctx.admin_ids.contains(&inc.sender.user_id) {
                row.push((
                    t.get(lang, "btn_as_dispatcher").to_string(),
                    SmallDialogButton::AddAsDispatcher.data().to_string(),
                ));
            }
            let cancel = vec![(t.get(lang, "btn_cancel").to_string(), "cf:no".to_string())];
            (
                t.fmt(
                    lang,
                    "contact_role_question",
                    &[("name", name), ("id", user_id)],
                ),
                Some(keyboards::inline(vec![row, cancel])),
            )
        }
        Dialog::Order { .. } => (String::new(), None),
    }
}

/// Ends the dialog after `inc`, remembering that it was applied.
async fn end(ctx: &BotContext, inc: &Incoming, key: DialogKey) {
    if let Err(e) = ctx.fsm.finish(key, inc.update_id).await {
        tracing::warn!(error = %e, "could not clear a finished dialog");
        crate::metrics::storage_error();
    }
}

/// Asks the current question of `dialog` again.
pub async fn ask(ctx: &BotContext, inc: &Incoming, dialog: &Dialog) {
    let (text, markup) = question(ctx, inc, dialog);
    reply::send(ctx, &inc.sender, text, markup).await;
}

/// Starts `dialog` unless the user is filing an order (never overwrite a draft).
pub async fn start(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    current: Option<&Dialog>,
    dialog: Dialog,
) {
    if let Some(Dialog::Order { .. }) = current {
        reply::send(
            ctx,
            &inc.sender,
            ctx.texts.get(inc.sender.lang, "finish_dialog_reprompt"),
            None,
        )
        .await;
        return;
    }
    if super::persist::save_dialog(ctx, inc, key, &dialog).await {
        let (text, markup) = question(ctx, inc, &dialog);
        reply::send(ctx, &inc.sender, text, markup).await;
    }
}

/// An input while a small dialog is active.
pub async fn on_input(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    dialog: Dialog,
    input: Input,
) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let asked = dialog.clone();
    let reprompt = |hint: Option<String>| {
        let asked = asked.clone();
        async move {
            if let Some(h) = hint {
                reply::send(ctx, &inc.sender, h, None).await;
            }
            let (text, markup) = question(ctx, inc, &asked);
            reply::send(ctx, &inc.sender, text, markup).await;
        }
    };
    match input {
        Input::Command { name, .. } if name == "cancel" => {
            end(ctx, inc, key).await;
            reply::send(
                ctx,
                &inc.sender,
                t.get(lang, "dialog_cancelled_short"),
                Some(keyboards::main_menu(t, lang)),
            )
            .await;
        }
        Input::Command { .. } => {
            reprompt(Some(t.get(lang, "finish_dialog_reprompt").to_string())).await
        }
        Input::Button {
            query_id,
            data,
            message_id,
        } => {
            let button = SmallDialogButton::parse(&data);
            let cancel = data == "cf:no";
            let fits = matches!(
                (&dialog, button),
                (
                    Dialog::RatingComment { .. },
                    Some(SmallDialogButton::SkipComment)
                ) | (
                    Dialog::AddStaff { .. },
                    Some(SmallDialogButton::AddAsMaster | SmallDialogButton::AddAsDispatcher)
                )
            ) || (cancel && matches!(dialog, Dialog::AddStaff { .. }));
            if !fits {
                reply::answer_button(ctx, &query_id, Some(t.get(lang, "err_stale_button"))).await;
                return;
            }
            reply::answer_button(ctx, &query_id, None).await;
            reply::drop_keyboard(ctx, inc.sender.chat_id, message_id).await;
            match (dialog, button) {
                (Dialog::RatingComment { .. }, _) => {
                    end(ctx, inc, key).await;
                    reply::send(ctx, &inc.sender, t.get(lang, "rating_saved"), None).await;
                }
                (Dialog::AddStaff { .. }, _) if cancel => {
                    end(ctx, inc, key).await;
                    reply::send(
                        ctx,
                        &inc.sender,
                        t.get(lang, "dialog_cancelled_short"),
                        None,
                    )
                    .await;
                }
                (Dialog::AddStaff { user_id, name }, Some(b)) => {
                    let role = roles::resolve(ctx, inc.sender.user_id)
                        .await
                        .unwrap_or(Role::Client);
                    let (needed, new_role) = match b {
                        SmallDialogButton::AddAsDispatcher => (Role::Admin, Role::Dispatcher),
                        _ => (Role::Dispatcher, Role::Master),
                    };
                    if !staff::require(ctx, inc, role, needed, "add from contact").await {
                        end(ctx, inc, key).await;
                        return;
                    }
                    // Added first: a crash between the two must leave the
                    // dialog open, so the redelivered press adds the person
                    // (idempotently) instead of being skipped as finished.
                    staff::add_person(
                        ctx,
                        inc,
                        Person {
                            user_id,
                            role: new_role,
                            name,
                        },
                    )
                    .await;
                    end(ctx, inc, key).await;
                }
                _ => {}
            }
        }
        Input::Text(text) => match dialog {
            Dialog::MasterDone {
                order_id,
                work: None,
            } => match PlainText::parse(&text) {
                Ok(work) => {
                    let next = Dialog::MasterDone {
                        order_id,
                        work: Some(work.into_inner()),
                    };
                    if super::persist::save_dialog(ctx, inc, key, &next).await {
                        let (q, m) = question(ctx, inc, &next);
                        reply::send(ctx, &inc.sender, q, m).await;
                    }
                }
                Err(e) => reprompt(Some(super::dialog::input_error_text(ctx, lang, e))).await,
            },
            Dialog::MasterDone {
                order_id,
                work: Some(work),
            } => match Price::parse(&text) {
                Ok(price) => {
                    let extras = Extras {
                        work: Some(work),
                        price: Some(i64::from(price.value())),
                        ..Default::default()
                    };
                    actions::perform(ctx, inc, order_id, Action::Finish, extras).await;
                    end(ctx, inc, key).await;
                }
                Err(e) => reprompt(Some(super::dialog::input_error_text(ctx, lang, e))).await,
            },
            Dialog::Decline { order_id } | Dialog::Comment { order_id } => {
                match PlainText::parse(&text) {
                    Ok(reason) => {
                        let action = if matches!(dialog, Dialog::Decline { .. }) {
                            Action::Decline
                        } else {
                            Action::Comment
                        };
                        let extras = Extras {
                            comment: Some(reason.into_inner()),
                            ..Default::default()
                        };
                        actions::perform(ctx, inc, order_id, action, extras).await;
                        end(ctx, inc, key).await;
                    }
                    Err(e) => reprompt(Some(super::dialog::input_error_text(ctx, lang, e))).await,
                }
            }
            Dialog::RatingComment { order_id } => match PlainText::parse(&text) {
                Ok(comment) => {
                    match ctx
                        .db
                        .add_rating_comment(
                            order_id,
                            inc.sender.user_id,
                            comment.as_str(),
                            Some(inc.update_id),
                        )
                        .await
                    {
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "cannot save a rating comment"),
                    }
                    end(ctx, inc, key).await;
                    reply::send(ctx, &inc.sender, t.get(lang, "rating_saved"), None).await;
                }
                Err(e) => reprompt(Some(super::dialog::input_error_text(ctx, lang, e))).await,
            },
            Dialog::AddStaff { .. } => {
                reprompt(Some(t.get(lang, "err_use_buttons").to_string())).await
            }
            Dialog::Order { .. } => {}
        },
        _ => reprompt(Some(t.get(lang, "err_unsupported").to_string())).await,
    }
}
