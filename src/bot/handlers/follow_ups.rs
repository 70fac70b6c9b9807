//! Short dialogs around an order (a master's "done", a decline reason, a
//! staff comment, a rating comment, the role of a shared contact) on
//! Telegram: inputs go to [`crate::domain::follow_up`], whose answer is
//! carried out here. Like the order dialog, each step is stored before its
//! question is asked, so a restart resumes it.

use teloxide::types::ReplyMarkup;

use super::error::{input_error_text, BotError, BotResult, OrInternal};
use super::persist::{end_dialog, save_dialog};
use super::{orders, roles, staff};
use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::reply;
use crate::bot::ui::callbacks::{self, Callback, DialogButton};
use crate::bot::ui::commands::Command;
use crate::bot::ui::{cards, keyboards};
use crate::bot::BotContext;
use crate::db::Person;
use crate::domain::{
    follow_up, shop_now, Action, CloseStep, Code, Dialog, EditField, FollowUp, FollowUpButton,
    FollowUpInput, Hint, Permission, RepairStep, Role, MIN_REFUSE_REASON,
};
use crate::fsm::DialogKey;

/// The question of a follow-up dialog.
fn question(ctx: &BotContext, inc: &Incoming, dialog: &Dialog) -> (String, Option<ReplyMarkup>) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    match dialog {
        Dialog::MasterDone { order_id, form } => {
            let yes_no = || {
                Some(keyboards::inline(vec![vec![
                    (
                        t.get(lang, "btn_yes").to_string(),
                        callbacks::FollowUpButton::Yes.data(),
                    ),
                    (
                        t.get(lang, "btn_no").to_string(),
                        callbacks::FollowUpButton::No.data(),
                    ),
                ]]))
            };
            let id = [("id", order_id as &(dyn std::fmt::Display + Sync))];
            match form.step() {
                CloseStep::Work => (t.fmt(lang, "ask_work", &id), None),
                CloseStep::Total if form.correcting => (t.fmt(lang, "ask_money_total", &id), None),
                CloseStep::Total => (t.fmt(lang, "ask_total", &id), None),
                CloseStep::Materials => (t.fmt(lang, "ask_materials", &id), None),
                CloseStep::OutOfCity => (t.fmt(lang, "ask_out_of_city", &id), yes_no()),
                CloseStep::Review => (t.get(lang, "ask_review").to_string(), yes_no()),
            }
        }
        Dialog::LongRepair { order_id, form } => {
            let id = [("id", order_id as &(dyn std::fmt::Display + Sync))];
            match form.step() {
                RepairStep::Due => (t.fmt(lang, "ask_repair_due", &id), None),
                RepairStep::Parts => (t.fmt(lang, "ask_repair_parts", &id), None),
                RepairStep::Price => (t.fmt(lang, "ask_repair_price", &id), None),
                RepairStep::Prepayment => (
                    t.fmt(lang, "ask_repair_prepayment", &id),
                    Some(keyboards::inline(vec![vec![(
                        t.get(lang, "btn_no_prepayment").to_string(),
                        callbacks::FollowUpButton::SkipComment.data(),
                    )]])),
                ),
            }
        }
        Dialog::Decline { order_id } => {
            (t.fmt(lang, "ask_decline_reason", &[("id", order_id)]), None)
        }
        Dialog::Comment { order_id } => (t.fmt(lang, "ask_comment", &[("id", order_id)]), None),
        Dialog::Reschedule { order_id, to: None } => (
            t.fmt(lang, "ask_reschedule_visit", &[("id", order_id)]),
            None,
        ),
        Dialog::Reschedule {
            order_id,
            to: Some(_),
        } => (
            t.fmt(
                lang,
                "ask_reschedule_reason",
                &[("id", order_id), ("min", &MIN_REFUSE_REASON)],
            ),
            None,
        ),
        Dialog::Refuse { order_id } => (
            t.fmt(
                lang,
                "ask_refuse_reason",
                &[("id", order_id), ("min", &MIN_REFUSE_REASON)],
            ),
            None,
        ),
        Dialog::EditOrder { order_id, field } => {
            let field_name = t.get(lang, &format!("field_{}", field.code())).to_string();
            let text = t.fmt(
                lang,
                &format!("ask_edit_{}", field.code()),
                &[("id", order_id), ("field", &field_name)],
            );
            let cancel = vec![(
                t.get(lang, "btn_cancel").to_string(),
                DialogButton::Cancel.data(),
            )];
            let markup = match field {
                EditField::Equipment => keyboards::equipment_with(t, lang, Some(cancel)),
                _ => keyboards::inline(vec![cancel]),
            };
            (text, Some(markup))
        }
        Dialog::RatingComment { .. } => (
            t.get(lang, "ask_rating_comment").to_string(),
            Some(keyboards::inline(vec![vec![(
                t.get(lang, "btn_skip").to_string(),
                callbacks::FollowUpButton::SkipComment.data(),
            )]])),
        ),
        Dialog::AddStaff { user_id, name } => {
            let mut row = vec![(
                t.get(lang, "btn_as_master").to_string(),
                callbacks::FollowUpButton::AddAsMaster.data(),
            )];
            if ctx.admin_ids.contains(&inc.sender.user_id) {
                row.push((
                    t.get(lang, "btn_as_dispatcher").to_string(),
                    callbacks::FollowUpButton::AddAsDispatcher.data(),
                ));
            }
            let cancel = vec![(
                t.get(lang, "btn_cancel").to_string(),
                DialogButton::Cancel.data(),
            )];
            (
                t.fmt(
                    lang,
                    "contact_role_question",
                    &[("name", name), ("id", user_id)],
                ),
                Some(keyboards::inline(vec![row, cancel])),
            )
        }
        Dialog::Search => (t.get(lang, "search_ask").to_string(), None),
        Dialog::MasterPhone { .. } => (t.get(lang, "ask_master_phone").to_string(), None),
        Dialog::Order { .. } => (String::new(), None),
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
) -> BotResult {
    if let Some(Dialog::Order { .. }) = current {
        let text = ctx.texts.get(inc.sender.lang, "finish_dialog_reprompt");
        return Err(BotError::Invalid(text.to_string()));
    }
    save_dialog(ctx, inc, key, &dialog).await?;
    ask(ctx, inc, &dialog).await;
    Ok(())
}

/// The input as the follow-up dialogs see it.
fn follow_up_input(input: &Input) -> FollowUpInput {
    match input {
        Input::Command { name, args }
            if Command::from_parts(name, args) == Some(Command::Cancel) =>
        {
            FollowUpInput::CancelCommand
        }
        Input::Command { .. } => FollowUpInput::OtherCommand,
        Input::Text(text) => FollowUpInput::Text(text.clone()),
        Input::Button { data, .. } => FollowUpInput::Button(match Callback::parse(data) {
            Some(Callback::FollowUp(callbacks::FollowUpButton::SkipComment)) => {
                FollowUpButton::SkipComment
            }
            Some(Callback::FollowUp(callbacks::FollowUpButton::AddAsMaster)) => {
                FollowUpButton::AddAs(Role::Master)
            }
            Some(Callback::FollowUp(callbacks::FollowUpButton::AddAsDispatcher)) => {
                FollowUpButton::AddAs(Role::Dispatcher)
            }
            Some(Callback::FollowUp(callbacks::FollowUpButton::Yes)) => {
                FollowUpButton::Answer(true)
            }
            Some(Callback::FollowUp(callbacks::FollowUpButton::No)) => {
                FollowUpButton::Answer(false)
            }
            Some(Callback::Dialog(DialogButton::Cancel)) => FollowUpButton::Cancel,
            Some(Callback::Dialog(DialogButton::Equipment(kind))) => {
                FollowUpButton::Equipment(kind)
            }
            _ => FollowUpButton::Foreign,
        }),
        _ => FollowUpInput::Unsupported,
    }
}

/// An input while a follow-up dialog is open.
pub async fn on_input(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    dialog: Dialog,
    input: Input,
) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let now = shop_now(jiff::Timestamp::now(), t.time_zone());
    let outcome = follow_up(&dialog, follow_up_input(&input), now);
    if let Input::Button {
        query_id,
        message_id,
        ..
    } = &input
    {
        if outcome == FollowUp::StaleButton {
            reply::answer_button(ctx, query_id, Some(t.get(lang, "err_stale_button"))).await;
            return Ok(());
        }
        reply::answer_button(ctx, query_id, None).await;
        reply::drop_keyboard(ctx, inc.sender.chat_id, *message_id).await;
    }
    match outcome {
        FollowUp::StaleButton => Ok(()),
        FollowUp::Next(next) => {
            save_dialog(ctx, inc, key, &next).await?;
            ask(ctx, inc, &next).await;
            Ok(())
        }
        FollowUp::Reask(hint) => {
            let hint = match hint {
                Hint::Invalid(e) => input_error_text(ctx, lang, e),
                Hint::UseButtons => t.get(lang, "err_use_buttons").to_string(),
                Hint::FinishFirst => t.get(lang, "finish_dialog_reprompt").to_string(),
                Hint::Unsupported => t.get(lang, "err_unsupported").to_string(),
                Hint::VisitPast => t.get(lang, "err_visit_past").to_string(),
                Hint::VisitUnclear => t.get(lang, "err_visit_unclear").to_string(),
            };
            reply::send(ctx, &inc.sender, hint, None).await;
            ask(ctx, inc, &dialog).await;
            Ok(())
        }
        FollowUp::Close { order_id, entry } => {
            let done = super::money::close(ctx, inc, order_id, entry).await;
            end_dialog(ctx, inc, key).await;
            done
        }
        FollowUp::EnterRepair { order_id, terms } => {
            // The history is the shop's record, in the staff's language.
            let note = cards::repair_lines(
                t,
                crate::bot::ui::texts::Lang::Ru,
                &terms.due_words,
                &terms.parts,
                terms.price,
                terms.prepayment,
            );
            let action = Action::WaitParts { terms, note };
            let done = orders::perform(ctx, inc, order_id, action, None).await;
            end_dialog(ctx, inc, key).await;
            done
        }
        FollowUp::Perform { order_id, action } => {
            let done = orders::perform(ctx, inc, order_id, action, None).await;
            end_dialog(ctx, inc, key).await;
            done
        }
        FollowUp::Correct {
            order_id,
            correction,
            reason,
        } => {
            let done = orders::correct(ctx, inc, order_id, correction, reason).await;
            end_dialog(ctx, inc, key).await;
            done
        }
        FollowUp::SetMasterPhone { master_id, phone } => {
            end_dialog(ctx, inc, key).await;
            super::masters::save_phone(ctx, inc, master_id, phone).await
        }
        FollowUp::Search { text } => {
            end_dialog(ctx, inc, key).await;
            roles::require(ctx, inc, Permission::OrderBoard, "search").await?;
            staff::search(ctx, inc, &text).await
        }
        FollowUp::RateComment { order_id, text } => {
            if let Err(e) = ctx
                .db
                .add_rating_comment(order_id, inc.sender.user_id, &text, Some(inc.update_id))
                .await
            {
                tracing::error!(error = %e, "cannot save a rating comment");
            }
            end_dialog(ctx, inc, key).await;
            reply::send(ctx, &inc.sender, t.get(lang, "rating_saved"), None).await;
            Ok(())
        }
        FollowUp::SkipComment => {
            end_dialog(ctx, inc, key).await;
            reply::send(ctx, &inc.sender, t.get(lang, "rating_saved"), None).await;
            Ok(())
        }
        FollowUp::Cancelled { by_command } => {
            end_dialog(ctx, inc, key).await;
            let menu = match by_command {
                true => Some(roles::menu(ctx, inc).await),
                false => None,
            };
            reply::send(
                ctx,
                &inc.sender,
                t.get(lang, "dialog_cancelled_short"),
                menu,
            )
            .await;
            Ok(())
        }
        FollowUp::AddPerson {
            user_id,
            name,
            role,
        } => {
            let me = roles::resolve(ctx, inc.sender.user_id)
                .await
                .or_internal("cannot resolve a role")?
                .strongest();
            let allowed = Permission::to_manage(role).is_some_and(|p| me.may(p));
            if !allowed {
                end_dialog(ctx, inc, key).await;
                return Err(BotError::needs_role(me, "add from contact"));
            }
            // Added first: a crash between the two must leave the dialog
            // open, so the redelivered press adds the person (idempotently)
            // instead of being skipped as finished.
            let added = staff::add_person(
                ctx,
                inc,
                Person {
                    user_id,
                    role,
                    name,
                },
            )
            .await;
            end_dialog(ctx, inc, key).await;
            added
        }
    }
}
