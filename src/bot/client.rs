//! Client side: `/start`, `/help`, `/my_orders`, and routing into the order
//! dialog. Loads the dialog state once per update and never treats a storage
//! error as "no dialog": an unreachable store gets a "briefly unavailable"
//! reply and leaves everything as it was.

use super::dialog;
use super::incoming::{Incoming, Input};
use super::keyboards;
use super::reply;
use super::BotContext;
use crate::fsm::codec::{self, DecodedDialog, Dialog};
use crate::fsm::DialogKey;

pub async fn handle(ctx: &BotContext, inc: Incoming) {
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

    let current = match ctx.fsm.get(key).await {
        Ok(None) => None,
        Ok(Some(stored)) => match codec::decode(&stored) {
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
        Err(e) => {
            tracing::warn!(chat_id = key.chat_id, user_id = key.user_id, error = %e, "dialog storage unavailable");
            crate::metrics::storage_error();
            storage_unavailable(ctx, &inc).await;
            return;
        }
    };

    match current {
        Some(DecodedDialog {
            last_update_id: Some(last),
            ..
        }) if last >= inc.update_id => {
            // Telegram redelivered an update whose effect is already stored.
            tracing::info!(
                update_id = inc.update_id,
                "update already applied to this dialog; skipping"
            );
            answer_if_button(ctx, &inc.input, None).await;
        }
        Some(DecodedDialog {
            dialog: Dialog::Order { step, draft },
            ..
        }) => dialog::on_input(ctx, &inc, key, step, draft, input).await,
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

/// The user is in no dialog.
async fn idle(ctx: &BotContext, inc: &Incoming, key: DialogKey, input: Input) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    match input {
        Input::Command { name, .. } => match name.as_str() {
            "start" => {
                let text = t.fmt(lang, "start", &[("name", &inc.sender.first_name)]);
                reply::send(ctx, &inc.sender, text, Some(keyboards::main_menu(t, lang))).await;
            }
            "help" => {
                reply::send(
                    ctx,
                    &inc.sender,
                    t.get(lang, "help"),
                    Some(keyboards::main_menu(t, lang)),
                )
                .await
            }
            "create_order" => dialog::start(ctx, inc, key).await,
            "cancel" => reply::send(ctx, &inc.sender, t.get(lang, "nothing_to_cancel"), None).await,
            "my_orders" => my_orders(ctx, inc).await,
            _ => reply::send(ctx, &inc.sender, t.get(lang, "unknown_command"), None).await,
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
        Input::Text(_) | Input::Contact { .. } | Input::Photo { .. } | Input::Other => {
            reply::send(
                ctx,
                &inc.sender,
                t.get(lang, "not_understood"),
                Some(keyboards::main_menu(t, lang)),
            )
            .await
        }
    }
}

async fn my_orders(ctx: &BotContext, inc: &Incoming) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let orders = match ctx.db.orders_of_client(inc.sender.user_id, 20).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "could not load a client's orders");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return;
        }
    };
    if orders.is_empty() {
        reply::send(
            ctx,
            &inc.sender,
            t.get(lang, "my_orders_empty"),
            Some(keyboards::main_menu(t, lang)),
        )
        .await;
        return;
    }
    let mut text = t.get(lang, "my_orders_header").to_string();
    for o in &orders {
        let line = t.fmt(
            lang,
            "order_line",
            &[
                ("id", &o.id),
                (
                    "equipment",
                    &keyboards::equipment_label(t, lang, o.equipment),
                ),
                (
                    "status",
                    &t.get(lang, &format!("status_{}", o.status.code())),
                ),
                ("date", &format_date(o.created_at)),
            ],
        );
        text.push('\n');
        text.push_str(&line);
    }
    reply::send(ctx, &inc.sender, text, Some(keyboards::main_menu(t, lang))).await;
}

/// `dd.mm.yyyy` (UTC) of a millisecond timestamp.
pub fn format_date(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms / 1000) {
        Ok(t) => format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => "?".into(),
    }
}
