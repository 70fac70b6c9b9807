//! Telegram updates reduced to what the handlers need: private chats, and
//! groups (a master's work group: commands, button presses, the bot being
//! added or removed, the group becoming a supergroup). Everything else the
//! bot does not serve (channel posts, edited messages, inline queries, ...)
//! becomes `None` here and is skipped with a debug log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use teloxide::types::{Chat, ChatMemberKind, MediaKind, Message, MessageKind, Update, UpdateKind};

use super::ui::texts::Lang;

/// Who sent an update.
#[derive(Debug, Clone)]
pub struct Sender {
    pub user_id: i64,
    pub chat_id: i64,
    /// The update came from a group or supergroup (`chat_id` is the group).
    pub in_group: bool,
    /// The group's title (empty in a private chat).
    pub chat_title: String,
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
    /// The bot's own membership of a group changed (`my_chat_member`);
    /// the sender is who changed it.
    Membership(Membership),
    /// The group became a supergroup with this new id.
    Migrated {
        to_chat_id: i64,
    },
}

/// What happened to the bot in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Added,
    Removed,
    Promoted,
    Demoted,
}

impl Membership {
    /// From the bot's status before and after; `None` when nothing the bot
    /// cares about changed (a restriction edited, say).
    fn of(old: &ChatMemberKind, new: &ChatMemberKind) -> Option<Self> {
        let present =
            |k: &ChatMemberKind| !matches!(k, ChatMemberKind::Left | ChatMemberKind::Banned(_));
        let admin = |k: &ChatMemberKind| {
            matches!(
                k,
                ChatMemberKind::Administrator(_) | ChatMemberKind::Owner(_)
            )
        };
        match (present(old), present(new)) {
            (false, true) => Some(Self::Added),
            (true, false) => Some(Self::Removed),
            (true, true) if admin(new) && !admin(old) => Some(Self::Promoted),
            (true, true) if admin(old) && !admin(new) => Some(Self::Demoted),
            _ => None,
        }
    }
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
            // Buttons are only ever sent in private chats and work groups.
            if chat.as_ref().is_some_and(|c| !served(c)) {
                return None;
            }
            let user_id = q.from.id.0 as i64;
            Some(Incoming {
                update_id,
                sender: Sender {
                    user_id,
                    in_group: chat.as_ref().is_some_and(|c| !c.is_private()),
                    chat_title: chat
                        .as_ref()
                        .and_then(|c| c.title())
                        .unwrap_or("")
                        .to_string(),
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
        UpdateKind::MyChatMember(change) => {
            if !change.chat.is_group() && !change.chat.is_supergroup() {
                return None;
            }
            let membership =
                Membership::of(&change.old_chat_member.kind, &change.new_chat_member.kind)?;
            let from = &change.from;
            Some(Incoming {
                update_id,
                sender: Sender {
                    user_id: from.id.0 as i64,
                    chat_id: change.chat.id.0,
                    in_group: true,
                    chat_title: change.chat.title().unwrap_or("").to_string(),
                    first_name: from.first_name.clone(),
                    lang: Lang::from_code(from.language_code.as_deref()),
                    lost_reply: LostReply::default(),
                },
                input: Input::Membership(membership),
                media_group: None,
                sent_at: Some(change.date.timestamp()),
            })
        }
        _ => None,
    }
}

/// Private chats and groups are served; channels are not.
fn served(chat: &Chat) -> bool {
    chat.is_private() || chat.is_group() || chat.is_supergroup()
}

fn from_message(update_id: i64, msg: &Message) -> Option<Incoming> {
    if !served(&msg.chat) {
        return None;
    }
    let from = msg.from.as_ref()?;
    if from.is_bot {
        return None;
    }
    let input = match &msg.kind {
        MessageKind::Common(_) if msg.migrate_to_chat_id().is_some() => Input::Migrated {
            to_chat_id: msg.migrate_to_chat_id().expect("checked above").0,
        },
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
            in_group: !msg.chat.is_private(),
            chat_title: msg.chat.title().unwrap_or("").to_string(),
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
