//! Sending replies. A failed reply is retried a little
//! ([`retry::reply`], honouring Telegram's `retry_after`), then logged and remembered on the sender
//! ([`super::incoming::LostReply`]), never propagated: the user's action
//! already took effect, and failing the update would redo it.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{MessageId, ReplyMarkup};
use teloxide::{ApiError, RequestError};

use crate::bot::incoming::Sender;
use crate::bot::ui::texts;
use crate::bot::BotContext;
use crate::retry::{self, Retryable};

/// The longest `retry_after` a reply waits for; a user waiting longer would
/// rather get the question again with their next message.
const REPLY_RETRY_AFTER_MAX: Duration = Duration::from_secs(10);

/// Sends `text` to the sender's chat, with an optional keyboard. A text
/// over Telegram's limit goes as several messages, the keyboard under the last.
pub async fn send(
    ctx: &BotContext,
    to: &Sender,
    text: impl Into<String>,
    markup: Option<ReplyMarkup>,
) {
    // A reply keyboard in a group would pop up for everyone in it: menus
    // belong to private chats.
    let markup = markup.filter(|m| !to.in_group || matches!(m, ReplyMarkup::InlineKeyboard(_)));
    let mut parts = texts::split_for_telegram(&text.into());
    let last = parts.pop().unwrap_or_default();
    for part in parts {
        send_one(ctx, to, part, None).await;
    }
    send_one(ctx, to, last, markup).await;
}

async fn send_one(ctx: &BotContext, to: &Sender, text: String, markup: Option<ReplyMarkup>) {
    let mut attempt = 1;
    let sent = (|| async {
        let mut req = ctx.bot.send_message(ChatId(to.chat_id), text.clone());
        if let Some(markup) = &markup {
            req = req.reply_markup(markup.clone());
        }
        let _slot = ctx.api_slot().await;
        req.await
    })
    .retry(retry::reply())
    .when(worth_retrying)
    // Telegram's own wait, when it asks for one, instead of ours.
    .adjust(|e, ours| match (e, ours) {
        (RequestError::RetryAfter(after), Some(_)) => Some(after.duration()),
        (_, ours) => ours,
    })
    .notify(|e, wait| {
        tracing::info!(chat_id = to.chat_id, attempt, error = %e, retry_in_ms = wait.as_millis() as u64, "reply not delivered; retrying");
        attempt += 1;
    })
    .await;
    if let Err(e) = sent {
        tracing::warn!(chat_id = to.chat_id, attempts = attempt, error = %e, "could not send a reply; the question will be asked again");
        crate::metrics::reply_lost();
        to.lost_reply.set();
    }
}

/// Whether a failed reply is tried again: not for refusals that will not
/// pass (blocked, chat gone, bad request), a `retry_after` longer than
/// [`REPLY_RETRY_AFTER_MAX`], or a timeout (Telegram may have delivered it;
/// if not, the next message gets the question again).
fn worth_retrying(e: &RequestError) -> bool {
    match e {
        RequestError::RetryAfter(after) => after.duration() <= REPLY_RETRY_AFTER_MAX,
        RequestError::Network(net) if net.is_timeout() => false,
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => true,
        // Telegram reports its own 5xx as API errors it does not know.
        RequestError::Api(ApiError::Unknown(_)) => true,
        _ => false,
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

/// Replaces the text and buttons of the bot's message `message_id` in the
/// sender's chat (a list page, a profile after a toggle), or sends them as
/// a new message when there is none or it cannot be edited any more.
pub async fn edit_or_send(
    ctx: &BotContext,
    to: &Sender,
    message_id: Option<i32>,
    text: String,
    rows: Vec<Vec<(String, String)>>,
) {
    let markup = crate::bot::ui::keyboards::inline(rows);
    if let (Some(message_id), ReplyMarkup::InlineKeyboard(keyboard)) = (message_id, &markup) {
        let slot = ctx.api_slot().await;
        let edited = ctx
            .bot
            .edit_message_text(ChatId(to.chat_id), MessageId(message_id), text.clone())
            .reply_markup(keyboard.clone())
            .await;
        // Released before any fallback reply, which takes a slot of its own.
        drop(slot);
        match edited {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => return,
            Err(e) => tracing::debug!(error = %e, "could not edit a message; sending a new one"),
        }
    }
    send(ctx, to, text, Some(markup)).await;
}
