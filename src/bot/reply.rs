//! Sending replies. A failed reply is logged, never propagated: the user's
//! action already took effect, and failing the update would redo it.

use teloxide::prelude::*;
use teloxide::types::{MessageId, ReplyMarkup};

use super::incoming::Sender;
use super::BotContext;

/// Sends `text` to the sender's chat, with an optional keyboard.
pub async fn send(
    ctx: &BotContext,
    to: &Sender,
    text: impl Into<String>,
    markup: Option<ReplyMarkup>,
) {
    let mut req = ctx.bot.send_message(ChatId(to.chat_id), text.into());
    if let Some(markup) = markup {
        req = req.reply_markup(markup);
    }
    let _slot = ctx.api_slot().await;
    if let Err(e) = req.await {
        tracing::warn!(chat_id = to.chat_id, error = %e, "could not send a reply");
    }
}

/// Answers a button press (stops the spinner), optionally with a toast.
///
/// The answer only stops the spinner on the user's button, and nothing the
/// handler does next depends on it: it is sent alongside, not waited for, so a
/// button press costs one Telegram round trip less (docs/BENCHMARKS.md).
pub async fn answer_button(ctx: &BotContext, query_id: &str, toast: Option<&str>) {
    let mut req = ctx
        .bot
        .answer_callback_query(teloxide::types::CallbackQueryId(query_id.to_string()));
    if let Some(text) = toast {
        req = req.text(text);
    }
    let slots = ctx.api_slots.clone();
    tokio::spawn(async move {
        let _slot = slots.acquire_owned().await;
        if let Err(e) = req.await {
            tracing::debug!(error = %e, "could not answer a callback query");
        }
    });
}

/// Removes the inline keyboard of a message the user has answered, so an old
/// button cannot be pressed again by mistake.
pub async fn drop_keyboard(ctx: &BotContext, chat_id: i64, message_id: Option<i32>) {
    if let Some(id) = message_id {
        let _slot = ctx.api_slot().await;
        if let Err(e) = ctx
            .bot
            .edit_message_reply_markup(ChatId(chat_id), MessageId(id))
            .await
        {
            tracing::debug!(error = %e, "could not remove an inline keyboard");
        }
    }
}

/// Unwraps a result of the database or another internal part: on an error,
/// logs `what` for the operator and apologises to the user, once, here.
pub async fn or_apologize<T>(
    ctx: &BotContext,
    to: &Sender,
    result: anyhow::Result<T>,
    what: &str,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::error!(error = %e, "{what}");
            send(ctx, to, ctx.texts.get(to.lang, "internal_error"), None).await;
            None
        }
    }
}
