//! Telegram updates reduced to what the handlers need. Everything the bot does
//! not serve (channel posts, group chats, edited messages, inline queries, ...)
//! becomes `None` here and is skipped with a debug log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use teloxide::types::{MediaKind, Message, MessageKind, Update, UpdateKind};

use super::ui::texts::Lang;

/// Who sent an update.
#[derive(Debug, Clone)]
pub struct Sender {
    pub user_id: i64,
    pub chat_id: i64,
    pub first_name: String,
    pub lang: Lang,
    /// Set when a reply to this update could not be delivered.
    pub lost_reply: LostReply,
}

/// Whether a reply to the update was lost (Telegram refused it even after
/// retries). The router then marks the dialog, so the user's next message is
/// answered with the question they never saw instead of being taken as the
/// answer to it. Shared by every clone of the [`Sender`].
#[derive(Debug, Clone, Default)]
pub struct LostReply(Arc<AtomicBool>);

impl LostReply {
    /// A reply was not delivered.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True when some reply to this update was not delivered.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `/name args` (a `@botname` suffix is dropped).
    Command {
        name: String,
        args: String,
    },
    Text(String),
    /// A shared contact; `user_id` is set when the contact has a Telegram account.
    Contact {
        phone: String,
        user_id: Option<i64>,
        name: String,
    },
    /// A message forwarded from a user who allows linking to their account.
    Forwarded {
        user_id: i64,
        name: String,
    },
    Photo {
        file_id: String,
        caption: Option<String>,
    },
    /// A sticker, voice, video, location, document...
    Other,
    /// An inline button; `data` is untrusted.
    Button {
        query_id: String,
        data: String,
        message_id: Option<i32>,
    },
}

/// One update the bot serves.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub update_id: i64,
    pub sender: Sender,
    pub input: Input,
    /// The album this message belongs to (the flood limit counts it once).
    pub media_group: Option<String>,
    /// When the user sent it (a message's `date`, Unix seconds; `None` for
    /// a button press): the flood limit leaves a backlog alone.
    pub sent_at: Option<i64>,
}

/// Classifies an update; `None` for updates the bot does not serve.
pub fn classify(update: &Update) -> Option<Incoming> {
    let update_id = i64::from(update.id.0);
    match &update.kind {
        UpdateKind::Message(msg) => from_message(update_id, msg),
        UpdateKind::CallbackQuery(q) => {
            if q.from.is_bot {
                return None;
            }
            let message = q.message.as_ref();
            let chat = message.map(|m| m.chat().clone());
            // Buttons are only ever sent in private chats; anything else is not ours.
            if let Some(chat) = &chat {
                if !chat.is_private() {
                    return None;
                }
            }
            let user_id = q.from.id.0 as i64;
            Some(Incoming {
                update_id,
                sender: Sender {
                    user_id,
                    chat_id: chat.map(|c| c.id.0).unwrap_or(user_id),
                    first_name: q.from.first_name.clone(),
                    lang: Lang::from_code(q.from.language_code.as_deref()),
                    lost_reply: LostReply::default(),
                },
                input: Input::Button {
                    query_id: q.id.0.clone(),
                    data: q.data.clone().unwrap_or_default(),
                    message_id: message.map(|m| m.id().0),
                },
                media_group: None,
                sent_at: None,
            })
        }
        _ => None,
    }
}

fn from_message(update_id: i64, msg: &Message) -> Option<Incoming> {
    if !msg.chat.is_private() {
        return None;
    }
    let from = msg.from.as_ref()?;
    if from.is_bot {
        return None;
    }
    let input = match &msg.kind {
        MessageKind::Common(_) if msg.forward_from_user().is_some() => {
            let u = msg.forward_from_user().expect("checked above");
            Input::Forwarded {
                user_id: u.id.0 as i64,
                name: u.full_name(),
            }
        }
        MessageKind::Common(common) => match &common.media_kind {
            MediaKind::Text(t) => parse_text(&t.text),
            MediaKind::Contact(c) => Input::Contact {
                phone: c.contact.phone_number.clone(),
                user_id: c.contact.user_id.map(|u| u.0 as i64),
                name: format!(
                    "{} {}",
                    c.contact.first_name,
                    c.contact.last_name.as_deref().unwrap_or("")
                )
                .trim()
                .to_string(),
            },
            MediaKind::Photo(p) => Input::Photo {
                // Telegram lists sizes smallest first; the largest is the one to keep.
                file_id: p
                    .photo
                    .last()
                    .map(|s| s.file.id.0.clone())
                    .unwrap_or_default(),
                caption: p.caption.clone(),
            },
            _ => Input::Other,
        },
        _ => return None,
    };
    Some(Incoming {
        update_id,
        sender: Sender {
            user_id: from.id.0 as i64,
            chat_id: msg.chat.id.0,
            first_name: from.first_name.clone(),
            lang: Lang::from_code(from.language_code.as_deref()),
            lost_reply: LostReply::default(),
        },
        input,
        media_group: msg.media_group_id().map(|g| g.0.clone()),
        sent_at: Some(msg.date.timestamp()),
    })
}

/// Splits `/cmd@bot args` into a command; other text stays text.
pub fn parse_text(text: &str) -> Input {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix('/') {
        let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let name = head.split('@').next().unwrap_or("").to_ascii_lowercase();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Input::Command {
                name,
                args: args.trim().to_string(),
            };
        }
    }
    Input::Text(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_bot_suffix_and_args() {
        assert_eq!(
            parse_text("/add_master@RepairBot 42 Пётр"),
            Input::Command {
                name: "add_master".into(),
                args: "42 Пётр".into()
            }
        );
        assert_eq!(
            parse_text("/START"),
            Input::Command {
                name: "start".into(),
                args: "".into()
            }
        );
        assert_eq!(parse_text("/ "), Input::Text("/ ".into()));
        assert_eq!(parse_text("1/2 дома"), Input::Text("1/2 дома".into()));
    }
}
