//! A fake Telegram Bot API server that speaks the real wire format.
//!
//! The bot under test is pointed at [`FakeTelegram::api_url`] (via
//! `TELEGRAM_API_URL`); tests push updates through [`TestUser`] and read what
//! the bot sent back through [`FakeTelegram::messages_to`], [`TestUser::next_message`]
//! and friends.
//!
//! Behaviour that mirrors the real API (so bugs show up here, not in production):
//! * errors are `{"ok":false,"error_code":N,"description":...}` with HTTP status `N`
//!   (never 5xx: codes >= 500 injected by tests are sent with HTTP 200, because
//!   teloxide sleeps 10 s on a 5xx status);
//! * `getUpdates` drops updates below `offset`, honours `limit` and long-poll `timeout`,
//!   answers 409 while a webhook is set and 409 to the older of two concurrent polls;
//! * `editMessageText` with unchanged text and markup answers 400 "message is not modified",
//!   editing without `reply_markup` removes the inline keyboard;
//! * HTML `parse_mode` is checked (unknown/unbalanced tags give 400 "can't parse entities"),
//!   MarkdownV2 unescaped reserved characters give the same error;
//! * a callback query may be answered only once.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

/// Description Telegram returns for `editMessage*` calls that change nothing.
pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// One request the bot made to the fake API (also failed / rejected ones).
#[derive(Clone, Debug)]
pub struct ApiCall {
    /// Method name in lowercase, e.g. `sendmessage`.
    pub method: String,
    /// Parameters: JSON body, form fields and query merged into one object.
    /// Multipart file parts appear as `{"file_name":..,"size":..}`.
    pub params: Value,
    /// When the request arrived.
    pub at: Instant,
}

/// A message the bot showed in a chat: a snapshot taken at send time or after an edit.
#[derive(Clone, Debug, PartialEq)]
pub struct BotMessage {
    pub message_id: i64,
    pub chat_id: i64,
    /// Visible text (or caption): HTML tags / Markdown markup removed, entities decoded.
    pub text: String,
    /// Text exactly as the bot sent it.
    pub raw_text: String,
    pub parse_mode: Option<String>,
    /// Inline keyboard rows of `(button text, callback_data)`; URL buttons carry `"url:<url>"`.
    pub inline_buttons: Vec<Vec<(String, String)>>,
    /// Reply keyboard sent with this message (`Some(vec![])` never happens: removal is `remove_keyboard`).
    pub reply_keyboard: Option<Vec<Vec<String>>>,
    /// The message carried `ReplyKeyboardRemove`.
    pub remove_keyboard: bool,
    /// This snapshot is the result of an edit.
    pub edited: bool,
    /// API method that produced the snapshot (lowercase).
    pub method: String,
    /// File name when the message is a document.
    pub document: Option<String>,
}

impl BotMessage {
    /// All inline button texts, flattened.
    pub fn button_texts(&self) -> Vec<String> {
        self.inline_buttons
            .iter()
            .flatten()
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// callback_data of the first inline button whose text contains `needle`.
    pub fn button_data(&self, needle: &str) -> Option<String> {
        self.inline_buttons
            .iter()
            .flatten()
            .find(|(t, _)| t.contains(needle))
            .map(|(_, d)| d.clone())
    }
}

impl fmt::Display for BotMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = if self.edited { " (edited)" } else { "" };
        writeln!(
            f,
            "#{}{} [{}] {}",
            self.message_id,
            tag,
            self.method,
            self.text.replace('\n', "\n    ")
        )?;
        if let Some(doc) = &self.document {
            writeln!(f, "    [document] {doc}")?;
        }
        for row in &self.inline_buttons {
            let row: Vec<String> = row.iter().map(|(t, d)| format!("[{t} -> {d}]")).collect();
            writeln!(f, "    [inline] {}", row.join(" "))?;
        }
        if let Some(kb) = &self.reply_keyboard {
            for row in kb {
                let row: Vec<String> = row.iter().map(|t| format!("[{t}]")).collect();
                writeln!(f, "    [keyboard] {}", row.join(" "))?;
            }
        }
        if self.remove_keyboard {
            writeln!(f, "    [keyboard removed]")?;
        }
        Ok(())
    }
}

/// A file the bot uploaded with `sendDocument` (or `sendPhoto`).
#[derive(Clone, Debug)]
pub struct SentDocument {
    pub chat_id: i64,
    pub message_id: i64,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
    /// `senddocument` or `sendphoto`.
    pub method: String,
}

/// An `answerCallbackQuery` call.
#[derive(Clone, Debug)]
pub struct CallbackAnswer {
    /// The id the fake gave the query: `"cbq<update_id>"`.
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
}

/// Webhook registered through `setWebhook`.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub url: String,
    pub secret_token: Option<String>,
}

struct Fault {
    method: String,
    /// Only calls to this chat (`chat_id` parameter), when set.
    chat_id: Option<i64>,
    remaining: u32,
    code: u16,
    description: String,
    retry_after: Option<u32>,
}

/// The next calls of a method are answered late (and still carried out).
struct Delay {
    method: String,
    /// Only calls to this chat (`chat_id` parameter), when set.
    chat_id: Option<i64>,
    remaining: u32,
    by: Duration,
}

struct StoredMsg {
    json: Value,
    view: BotMessage,
    deleted: bool,
}

#[derive(Default)]
struct State {
    next_update_id: i64,
    queue: VecDeque<Value>,
    confirmed_offset: i64,
    poll_generation: u64,
    calls: Vec<ApiCall>,
    faults: Vec<Fault>,
    delays: Vec<Delay>,
    latency: Duration,
    next_msg_id: HashMap<i64, i64>,
    chats: HashMap<i64, Value>,
    log: HashMap<i64, Vec<BotMessage>>,
    current: BTreeMap<(i64, i64), StoredMsg>,
    documents: HashMap<i64, Vec<SentDocument>>,
    callback_answers: Vec<CallbackAnswer>,
    open_queries: HashSet<String>,
    reply_keyboard: HashMap<i64, Vec<Vec<String>>>,
    blocked: HashSet<i64>,
    webhook: Option<WebhookConfig>,
    commands: Value,
}

impl State {
    fn alloc_msg_id(&mut self, chat_id: i64) -> i64 {
        let next = self.next_msg_id.entry(chat_id).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }
}

struct Inner {
    token: String,
    bot_id: i64,
    addr: SocketAddr,
    state: Mutex<State>,
    updates: Notify,
}

/// Handle to a running fake Bot API server. Cheap to clone.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl FakeTelegram {
    /// Starts the server on `127.0.0.1:<free port>`; only `token` is accepted.
    /// The bot's user id is the numeric part of the token.
    pub async fn start(token: &str) -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Telegram API");
        let addr = listener.local_addr().expect("local addr");
        let bot_id = token
            .split(':')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(123456);
        let fake = FakeTelegram {
            inner: Arc::new(Inner {
                token: token.to_string(),
                bot_id,
                addr,
                state: Mutex::new(State {
                    next_update_id: 100_000,
                    commands: json!([]),
                    ..State::default()
                }),
                updates: Notify::new(),
            }),
        };
        let app = Router::new()
            .route("/{bot}/{method}", any(handle))
            .fallback(|| async { not_found() })
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Base URL for `TELEGRAM_API_URL`, e.g. `http://127.0.0.1:41234` (teloxide appends `/bot<token>/<Method>`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The accepted token.
    pub fn token(&self) -> &str {
        &self.inner.token
    }

    /// The bot's own user id (numeric part of the token).
    pub fn bot_id(&self) -> i64 {
        self.inner.bot_id
    }

    /// The bot as a Bot API `User` object.
    pub fn bot_user_json(&self) -> Value {
        json!({"id": self.inner.bot_id, "is_bot": true, "first_name": "Repair Test Bot", "username": "repair_test_bot"})
    }

    /// A Telegram user talking to the bot in a private chat (chat id == user id).
    /// `lang` becomes `from.language_code` (e.g. "ru", "en").
    pub fn user(&self, id: i64, first_name: &str, lang: &str) -> TestUser {
        let chat = json!({"id": id, "type": "private", "first_name": first_name});
        self.st().chats.insert(id, chat.clone());
        TestUser {
            id,
            first_name: first_name.to_string(),
            lang: lang.to_string(),
            chat_id: id,
            chat,
            fake: self.clone(),
            cursor: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Queues an update; `update_id` is assigned (overwriting any given one) and returned.
    /// Panics unless `update` is a JSON object. Anything else inside is delivered verbatim.
    pub fn push_raw(&self, update_without_id: Value) -> i64 {
        self.push_built(|_| update_without_id)
    }

    /// Like [`FakeTelegram::push_raw`], but the update is built knowing its
    /// id, under the same lock that assigns it, so concurrent pushes from
    /// many simulated users can never race (callback query ids use it).
    pub fn push_built(&self, build: impl FnOnce(i64) -> Value) -> i64 {
        let id = {
            let mut st = self.st();
            let id = st.next_update_id;
            let Value::Object(mut obj) = build(id) else {
                panic!("push_raw: an update must be a JSON object");
            };
            st.next_update_id += 1;
            if let Some(q) = obj.get("callback_query").and_then(|q| q["id"].as_str()) {
                st.open_queries.insert(q.to_string());
            }
            obj.insert("update_id".into(), json!(id));
            st.queue.push_back(Value::Object(obj));
            id
        };
        self.inner.updates.notify_waiters();
        id
    }

    /// Removes and returns every queued update, oldest first: in webhook
    /// tests the test itself plays Telegram and POSTs them to the bot.
    pub fn take_pushed(&self) -> Vec<Value> {
        self.st().queue.drain(..).collect()
    }

    /// Every API call so far, in arrival order.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.st().calls.clone()
    }

    /// Calls of one method (case-insensitive).
    pub fn calls_to(&self, method: &str) -> Vec<ApiCall> {
        let m = method.to_ascii_lowercase();
        self.st()
            .calls
            .iter()
            .filter(|c| c.method == m)
            .cloned()
            .collect()
    }

    /// Highest `offset` the bot passed to getUpdates (0 if none): updates below it are confirmed.
    pub fn confirmed_offset(&self) -> i64 {
        self.st().confirmed_offset
    }

    /// Updates not yet confirmed by the bot (delivered or not).
    pub fn pending_updates(&self) -> usize {
        self.st().queue.len()
    }

    /// Polls `pred` every 20 ms until it holds; panics mentioning `what` after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&FakeTelegram) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for: {what}\n--- API calls ---\n{}",
                    self.calls_summary()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the bot confirmed `update_id` (i.e. asked for updates after it).
    pub async fn wait_confirmed(&self, update_id: i64, timeout: Duration) {
        self.wait_until(&format!("update {update_id} confirmed"), timeout, |f| {
            f.confirmed_offset() > update_id
        })
        .await;
    }

    /// The next `times` calls of `method` fail with `code`/`description`
    /// (`retry_after` adds `parameters.retry_after`, as for 429). Calls are still recorded.
    /// Use full Telegram descriptions, e.g. "Too Many Requests: retry after 1".
    pub fn fail_next(
        &self,
        method: &str,
        times: u32,
        code: u16,
        description: &str,
        retry_after: Option<u32>,
    ) {
        self.st().faults.push(Fault {
            method: method.to_ascii_lowercase(),
            chat_id: None,
            remaining: times,
            code,
            description: description.to_string(),
            retry_after,
        });
    }

    /// Like [`FakeTelegram::fail_next`], for calls to one chat only, and
    /// answered with the real HTTP status (a 500 is a 500: teloxide then
    /// waits 10 s before it reports the error).
    pub fn fail_next_to(
        &self,
        method: &str,
        chat_id: i64,
        times: u32,
        code: u16,
        description: &str,
    ) {
        self.st().faults.push(Fault {
            method: method.to_ascii_lowercase(),
            chat_id: Some(chat_id),
            remaining: times,
            code,
            description: description.to_string(),
            retry_after: None,
        });
    }

    /// Every call but `getUpdates` is answered after `latency`, as a real
    /// Bot API far away would (tens of milliseconds).
    pub fn set_latency(&self, latency: Duration) {
        self.st().latency = latency;
    }

    /// The next `times` calls of `method` are carried out only after `by`
    /// (the message is delivered then, and the call answered): Telegram under
    /// load, slower than a client that gives up early would wait.
    pub fn delay_next(&self, method: &str, times: u32, by: Duration) {
        self.st().delays.push(Delay {
            method: method.to_ascii_lowercase(),
            chat_id: None,
            remaining: times,
            by,
        });
    }

    /// Like [`FakeTelegram::delay_next`], for calls to one chat only.
    pub fn delay_next_to(&self, method: &str, chat_id: i64, times: u32, by: Duration) {
        self.st().delays.push(Delay {
            method: method.to_ascii_lowercase(),
            chat_id: Some(chat_id),
            remaining: times,
            by,
        });
    }

    /// Telegram numbers the next update `id` (ids past `i32::MAX` exist).
    pub fn set_next_update_id(&self, id: i64) {
        self.st().next_update_id = id;
    }

    /// Drops every pending injected fault: Telegram is healthy again.
    pub fn clear_faults(&self) {
        self.st().faults.clear();
    }

    /// Sends to `chat_id` fail with 403 "Forbidden: bot was blocked by the user" from now on.
    pub fn block_chat(&self, chat_id: i64) {
        self.st().blocked.insert(chat_id);
    }

    /// Undoes [`FakeTelegram::block_chat`].
    pub fn unblock_chat(&self, chat_id: i64) {
        self.st().blocked.remove(&chat_id);
    }

    /// Chronological log of everything the bot showed in `chat_id`: sends and edits (as snapshots).
    pub fn messages_to(&self, chat_id: i64) -> Vec<BotMessage> {
        self.st().log.get(&chat_id).cloned().unwrap_or_default()
    }

    /// Current state of the chat as the user sees it: bot messages after edits, without deleted ones.
    pub fn screen(&self, chat_id: i64) -> Vec<BotMessage> {
        self.st()
            .current
            .range((chat_id, i64::MIN)..=(chat_id, i64::MAX))
            .filter(|(_, m)| !m.deleted)
            .map(|(_, m)| m.view.clone())
            .collect()
    }

    /// Latest state of one bot message (even if deleted).
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<BotMessage> {
        self.st()
            .current
            .get(&(chat_id, message_id))
            .map(|m| m.view.clone())
    }

    /// Was this bot message deleted with deleteMessage?
    pub fn is_deleted(&self, chat_id: i64, message_id: i64) -> bool {
        self.st()
            .current
            .get(&(chat_id, message_id))
            .is_some_and(|m| m.deleted)
    }

    /// The reply keyboard currently shown in `chat_id` (last one sent and not removed).
    pub fn reply_keyboard_of(&self, chat_id: i64) -> Option<Vec<Vec<String>>> {
        self.st().reply_keyboard.get(&chat_id).cloned()
    }

    /// Documents/photos uploaded to `chat_id`.
    pub fn documents_to(&self, chat_id: i64) -> Vec<SentDocument> {
        self.st()
            .documents
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// All answerCallbackQuery calls that succeeded.
    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.st().callback_answers.clone()
    }

    /// The answer to the callback query pushed as update `update_id` (see [`TestUser::press`]).
    pub fn callback_answer_for(&self, update_id: i64) -> Option<CallbackAnswer> {
        let id = format!("cbq{update_id}");
        self.st()
            .callback_answers
            .iter()
            .find(|a| a.callback_query_id == id)
            .cloned()
    }

    /// The webhook set by the bot, if any.
    pub fn webhook(&self) -> Option<WebhookConfig> {
        self.st().webhook.clone()
    }

    /// Commands from the last setMyCommands (JSON array), `[]` after deleteMyCommands.
    pub fn my_commands(&self) -> Value {
        self.st().commands.clone()
    }

    /// Everything the bot showed in `chat_id`, for failure messages.
    pub fn transcript(&self, chat_id: i64) -> String {
        let log = self.messages_to(chat_id);
        if log.is_empty() {
            return "(the bot sent nothing to this chat)\n".into();
        }
        log.iter().map(|m| m.to_string()).collect()
    }

    /// One line per API call (method + params), for failure messages.
    pub fn calls_summary(&self) -> String {
        let calls = self.calls();
        let skip = calls.len().saturating_sub(60);
        let mut out = String::new();
        if skip > 0 {
            out.push_str(&format!("... {skip} earlier calls\n"));
        }
        for c in &calls[skip..] {
            if c.method == "getupdates" {
                out.push_str(&format!("getupdates {}\n", c.params));
            } else {
                let p = c.params.to_string();
                let p: String = p.chars().take(300).collect();
                out.push_str(&format!("{} {}\n", c.method, p));
            }
        }
        out
    }
}

/// A Telegram user (private chat, or a group via [`TestUser::in_group`]).
/// Clones share the read cursor used by [`TestUser::next_message`].
#[derive(Clone)]
pub struct TestUser {
    pub id: i64,
    pub first_name: String,
    pub lang: String,
    /// Chat the user writes in: `id` for a private chat, negative for groups.
    pub chat_id: i64,
    chat: Value,
    fake: FakeTelegram,
    cursor: Arc<AtomicUsize>,
}

impl TestUser {
    /// The same user writing in a group chat (`chat_id` negative; <= -10^12 makes a supergroup).
    pub fn in_group(&self, chat_id: i64, title: &str) -> TestUser {
        let kind = if chat_id <= -1_000_000_000_000 {
            "supergroup"
        } else {
            "group"
        };
        let chat = json!({"id": chat_id, "type": kind, "title": title});
        self.fake.st().chats.insert(chat_id, chat.clone());
        TestUser {
            chat_id,
            chat,
            cursor: Arc::new(AtomicUsize::new(0)),
            ..self.clone()
        }
    }

    /// The fake Telegram this user talks to (for raw updates in a test).
    pub fn fake(&self) -> &FakeTelegram {
        &self.fake
    }

    /// Bot API `User` object for this user.
    pub fn user_json(&self) -> Value {
        json!({"id": self.id, "is_bot": false, "first_name": self.first_name, "language_code": self.lang})
    }

    /// Builds a `Message` object from this user with the given extra fields.
    pub fn message_json(&self, extra: Value) -> Value {
        let message_id = self.fake.st().alloc_msg_id(self.chat_id);
        let mut msg = json!({
            "message_id": message_id,
            "from": self.user_json(),
            "chat": self.chat,
            "date": now_unix(),
        });
        if let (Value::Object(m), Value::Object(e)) = (&mut msg, extra) {
            m.extend(e);
        }
        msg
    }

    fn send_message_update(&self, extra: Value) -> i64 {
        let msg = self.message_json(extra);
        self.fake.push_raw(json!({ "message": msg }))
    }

    /// A text message. Returns the update_id.
    pub fn send_text(&self, text: &str) -> i64 {
        self.send_message_update(json!({ "text": text }))
    }

    /// A command such as `/start` or `/start payload`, with a `bot_command` entity.
    pub fn send_command(&self, cmd: &str) -> i64 {
        let word = cmd.split_whitespace().next().unwrap_or(cmd);
        let len = word.encode_utf16().count();
        self.send_message_update(json!({
            "text": cmd,
            "entities": [{"type": "bot_command", "offset": 0, "length": len}],
        }))
    }

    /// Shares the user's own contact (`contact.user_id == self.id`).
    pub fn send_contact(&self, phone: &str) -> i64 {
        self.send_message_update(json!({
            "contact": {"phone_number": phone, "first_name": self.first_name, "user_id": self.id},
        }))
    }

    /// Shares the contact of another Telegram user (with their `user_id`), as
    /// staff do to register a master.
    pub fn send_contact_of(&self, user_id: i64, phone: &str, first_name: &str) -> i64 {
        self.send_message_update(json!({
            "contact": {"phone_number": phone, "first_name": first_name, "user_id": user_id},
        }))
    }

    /// Shares someone else's contact (no `user_id`), e.g. to test "not your own number".
    pub fn send_foreign_contact(&self, phone: &str, first_name: &str) -> i64 {
        self.send_message_update(json!({
            "contact": {"phone_number": phone, "first_name": first_name},
        }))
    }

    /// A photo, optionally with a caption.
    pub fn send_photo(&self, caption: Option<&str>) -> i64 {
        let mut extra = json!({
            "photo": [
                {"file_id": "AgAC-small", "file_unique_id": "AQAD-s", "width": 90, "height": 67, "file_size": 1200},
                {"file_id": "AgAC-big", "file_unique_id": "AQAD-b", "width": 1280, "height": 960, "file_size": 98000}
            ]
        });
        if let Some(c) = caption {
            extra["caption"] = json!(c);
        }
        self.send_message_update(extra)
    }

    /// A regular static sticker.
    pub fn send_sticker(&self) -> i64 {
        self.send_message_update(json!({
            "sticker": {
                "file_id": "CAAC-sticker", "file_unique_id": "AgAD-st", "type": "regular",
                "width": 512, "height": 512, "is_animated": false, "is_video": false,
                "emoji": "👍", "file_size": 20000
            }
        }))
    }

    /// A voice message.
    pub fn send_voice(&self) -> i64 {
        self.send_message_update(json!({
            "voice": {"file_id": "AwAC-voice", "file_unique_id": "AgAD-vo", "duration": 3, "mime_type": "audio/ogg", "file_size": 7000}
        }))
    }

    /// A document from the user.
    pub fn send_document(&self, file_name: &str, caption: Option<&str>) -> i64 {
        let mut extra = json!({
            "document": {"file_id": "BQAC-doc", "file_unique_id": "AgAD-doc", "file_name": file_name, "mime_type": "application/octet-stream", "file_size": 1234}
        });
        if let Some(c) = caption {
            extra["caption"] = json!(c);
        }
        self.send_message_update(extra)
    }

    /// Presses an inline button with `callback_data` under `msg` (the message's current
    /// state is attached, as Telegram does). Returns the update_id; the callback query id is `cbq<update_id>`.
    pub fn press(&self, msg: &BotMessage, callback_data: &str) -> i64 {
        let message = {
            let st = self.fake.st();
            st.current
                .get(&(msg.chat_id, msg.message_id))
                .map(|m| m.json.clone())
                .unwrap_or_else(|| {
                    panic!(
                        "press: bot message #{} in chat {} is unknown",
                        msg.message_id, msg.chat_id
                    )
                })
        };
        let user = self.user_json();
        self.fake.push_built(|id| {
            json!({
                "callback_query": {
                    "id": format!("cbq{id}"),
                    "from": user,
                    "message": message,
                    "chat_instance": format!("ci{}", msg.chat_id),
                    "data": callback_data,
                }
            })
        })
    }

    /// Presses the inline button whose text contains `button_text_contains`, looking at the
    /// message's *current* state. Panics listing the buttons if there is none.
    pub fn press_button(&self, msg: &BotMessage, button_text_contains: &str) -> i64 {
        let current = self
            .fake
            .message(msg.chat_id, msg.message_id)
            .unwrap_or_else(|| msg.clone());
        let Some(data) = current.button_data(button_text_contains) else {
            panic!(
                "no inline button containing {button_text_contains:?} under message #{}; buttons: {:?}\n--- transcript ---\n{}",
                msg.message_id,
                current.button_texts(),
                self.transcript()
            );
        };
        if let Some(url) = data.strip_prefix("url:") {
            panic!("button {button_text_contains:?} is a URL button ({url}), it cannot be pressed");
        }
        self.press(&current, &data)
    }

    /// Next bot message (send or edit snapshot) in this chat after the read cursor.
    /// Panics with the transcript on timeout.
    pub async fn next_message(&self, timeout: Duration) -> BotMessage {
        let deadline = Instant::now() + timeout;
        loop {
            let idx = self.cursor.load(Ordering::SeqCst);
            if let Some(m) = self.fake.messages_to(self.chat_id).get(idx) {
                self.cursor.store(idx + 1, Ordering::SeqCst);
                return m.clone();
            }
            if Instant::now() >= deadline {
                panic!(
                    "no new bot message in chat {} within {timeout:?} (read {idx} so far)\n--- transcript ---\n{}",
                    self.chat_id,
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits up to 10 s for a later bot message containing `needle` (skipping others);
    /// moves the read cursor past it.
    pub async fn expect_text(&self, needle: &str) -> BotMessage {
        self.expect_text_within(needle, Duration::from_secs(10))
            .await
    }

    /// [`TestUser::expect_text`] with an explicit timeout.
    pub async fn expect_text_within(&self, needle: &str, timeout: Duration) -> BotMessage {
        let deadline = Instant::now() + timeout;
        loop {
            let start = self.cursor.load(Ordering::SeqCst);
            let log = self.fake.messages_to(self.chat_id);
            if let Some((i, m)) = log
                .iter()
                .enumerate()
                .skip(start)
                .find(|(_, m)| m.text.contains(needle))
            {
                self.cursor.store(i + 1, Ordering::SeqCst);
                return m.clone();
            }
            if Instant::now() >= deadline {
                panic!(
                    "no bot message containing {needle:?} in chat {} within {timeout:?} (looked from #{start} of the log)\n--- transcript ---\n{}",
                    self.chat_id,
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts that no new bot message arrives in this chat during `wait`.
    pub async fn expect_silence(&self, wait: Duration) {
        let idx = self.cursor.load(Ordering::SeqCst);
        tokio::time::sleep(wait).await;
        let log = self.fake.messages_to(self.chat_id);
        if log.len() > idx {
            panic!(
                "expected no bot messages, got:\n{}",
                log[idx..].iter().map(|m| m.to_string()).collect::<String>()
            );
        }
    }

    /// Moves the read cursor to the end of the log (ignore everything so far).
    pub fn skip_all(&self) {
        self.cursor
            .store(self.fake.messages_to(self.chat_id).len(), Ordering::SeqCst);
    }

    /// Everything the bot showed in this chat.
    pub fn transcript(&self) -> String {
        self.fake.transcript(self.chat_id)
    }
}

// ---------------------------------------------------------------------------
// HTTP side
// ---------------------------------------------------------------------------

fn ok(result: Value) -> Response {
    (StatusCode::OK, Json(json!({"ok": true, "result": result}))).into_response()
}

fn api_err(code: u16, description: &str, retry_after: Option<u32>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(s) = retry_after {
        body["parameters"] = json!({ "retry_after": s });
    }
    // Never answer 5xx: teloxide sleeps 10 s on server errors.
    let status = if (400..500).contains(&code) {
        code
    } else {
        200
    };
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(body),
    )
        .into_response()
}

fn bad(description: &str) -> Response {
    api_err(400, description, None)
}

/// An API error produced while validating parameters.
struct ApiFail {
    code: u16,
    description: String,
    retry_after: Option<u32>,
}

impl ApiFail {
    fn new(code: u16, description: &str, retry_after: Option<u32>) -> ApiFail {
        ApiFail {
            code,
            description: description.to_string(),
            retry_after,
        }
    }
}

impl IntoResponse for ApiFail {
    fn into_response(self) -> Response {
        api_err(self.code, &self.description, self.retry_after)
    }
}

fn fail(description: &str) -> ApiFail {
    ApiFail::new(400, description, None)
}

fn not_found() -> Response {
    api_err(404, "Not Found: method not found", None)
}

fn p_i64(p: &Value, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn p_str(p: &Value, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn p_bool(p: &Value, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

fn p_json(p: &Value, k: &str) -> Option<Value> {
    match p.get(k)? {
        Value::Null => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        v => Some(v.clone()),
    }
}

fn form_to_map(raw: &str, into: &mut Map<String, Value>) {
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        into.insert(k.into_owned(), Value::String(v.into_owned()));
    }
}

struct FilePart {
    file_name: Option<String>,
    bytes: Vec<u8>,
}

async fn read_params(req: Request) -> Result<(Value, HashMap<String, FilePart>), Response> {
    let mut map = Map::new();
    let mut files = HashMap::new();
    if let Some(q) = req.uri().query() {
        form_to_map(q, &mut map);
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad(&format!("Bad Request: bad multipart: {e}")))?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(bad(&format!("Bad Request: bad multipart: {e}"))),
            };
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let is_file = file_name.is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| bad(&format!("Bad Request: bad multipart: {e}")))?;
            if is_file {
                map.insert(
                    name.clone(),
                    json!({"file_name": file_name, "size": bytes.len()}),
                );
                files.insert(
                    name,
                    FilePart {
                        file_name,
                        bytes: bytes.to_vec(),
                    },
                );
            } else {
                map.insert(
                    name,
                    Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                );
            }
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024)
            .await
            .map_err(|e| bad(&format!("Bad Request: cannot read body: {e}")))?;
        let text = String::from_utf8_lossy(&body);
        if !text.trim().is_empty() {
            if ct.starts_with("application/x-www-form-urlencoded") {
                form_to_map(&text, &mut map);
            } else {
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(o)) => map.extend(o),
                    Ok(_) => return Err(bad("Bad Request: parameters must be a JSON object")),
                    Err(_) if !ct.contains("json") && text.contains('=') => {
                        form_to_map(&text, &mut map)
                    }
                    Err(e) => return Err(bad(&format!("Bad Request: can't parse JSON: {e}"))),
                }
            }
        }
    }
    Ok((Value::Object(map), files))
}

async fn handle(
    AxState(fake): AxState<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    req: Request<Body>,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return not_found();
    };
    if token != fake.inner.token {
        return api_err(401, "Unauthorized", None);
    }
    let method = method.to_ascii_lowercase();
    let (params, files) = match read_params(req).await {
        Ok(p) => p,
        Err(resp) => {
            fake.st().calls.push(ApiCall {
                method,
                params: Value::Null,
                at: Instant::now(),
            });
            return resp;
        }
    };
    {
        let mut st = fake.st();
        st.calls.push(ApiCall {
            method: method.clone(),
            params: params.clone(),
            at: Instant::now(),
        });
        if let Some(f) = st.faults.iter_mut().find(|f| {
            f.method == method
                && f.remaining > 0
                && f.chat_id
                    .is_none_or(|c| p_i64(&params, "chat_id") == Some(c))
        }) {
            f.remaining -= 1;
            let resp = if f.chat_id.is_some() {
                // Targeted faults answer with the real HTTP status, 5xx included.
                let body = json!({"ok": false, "error_code": f.code, "description": f.description});
                (
                    StatusCode::from_u16(f.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    axum::Json(body),
                )
                    .into_response()
            } else {
                api_err(f.code, &f.description, f.retry_after)
            };
            st.faults.retain(|f| f.remaining > 0);
            return resp;
        }
    }
    let delay = {
        let mut st = fake.st();
        let found = st
            .delays
            .iter_mut()
            .find(|d| {
                d.method == method
                    && d.remaining > 0
                    && d.chat_id
                        .is_none_or(|c| p_i64(&params, "chat_id") == Some(c))
            })
            .map(|d| {
                d.remaining -= 1;
                d.by
            });
        st.delays.retain(|d| d.remaining > 0);
        let latency = (method != "getupdates" && !st.latency.is_zero()).then_some(st.latency);
        found.or(latency)
    };
    if let Some(by) = delay {
        // Carried out even if the client stops waiting, as Telegram would.
        let fake = fake.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(by).await;
            let mut st = fake.st();
            dispatch(&fake, &mut st, &method, &params, files)
        });
        return task
            .await
            .unwrap_or_else(|_| api_err(500, "Internal Server Error", None));
    }
    if method == "getupdates" {
        return get_updates(&fake, &params).await;
    }
    let mut st = fake.st();
    dispatch(&fake, &mut st, &method, &params, files)
}

async fn get_updates(fake: &FakeTelegram, p: &Value) -> Response {
    let offset = p_i64(p, "offset").unwrap_or(0);
    let limit = p_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p_i64(p, "timeout").unwrap_or(0).clamp(0, 50) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let generation = {
        let mut st = fake.st();
        if st.webhook.is_some() {
            return api_err(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                None,
            );
        }
        if offset > 0 {
            st.queue
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            st.confirmed_offset = st.confirmed_offset.max(offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while st.queue.len() > keep {
                st.queue.pop_front();
            }
        }
        st.poll_generation += 1;
        st.poll_generation
    };
    fake.inner.updates.notify_waiters(); // wakes an older poll so it can report the conflict
    loop {
        let notified = fake.inner.updates.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let st = fake.st();
            if st.poll_generation != generation {
                return api_err(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    None,
                );
            }
            let ups: Vec<Value> = st.queue.iter().take(limit).cloned().collect();
            if !ups.is_empty() || tokio::time::Instant::now() >= deadline {
                return ok(Value::Array(ups));
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Reads chat_id; `Err` is the response to send.
fn chat_of(st: &State, p: &Value) -> Result<i64, ApiFail> {
    match p.get("chat_id") {
        None | Some(Value::Null) => Err(fail("Bad Request: chat_id is empty")),
        Some(_) => match p_i64(p, "chat_id") {
            Some(id) if st.blocked.contains(&id) => Err(ApiFail::new(
                403,
                "Forbidden: bot was blocked by the user",
                None,
            )),
            Some(id) => Ok(id),
            None => Err(fail("Bad Request: chat not found")),
        },
    }
}

fn chat_json(st: &State, chat_id: i64) -> Value {
    st.chats.get(&chat_id).cloned().unwrap_or_else(|| {
        if chat_id > 0 {
            json!({"id": chat_id, "type": "private", "first_name": format!("User{chat_id}")})
        } else {
            json!({"id": chat_id, "type": "group", "title": format!("Group{chat_id}")})
        }
    })
}

/// (visible text, error description)
fn render(raw: &str, parse_mode: Option<&str>) -> Result<String, String> {
    match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        Some("html") => parse_html(raw),
        Some("markdownv2") => parse_markdown_v2(raw),
        Some("markdown") => Ok(strip_legacy_markdown(raw)),
        _ => Ok(raw.to_string()),
    }
}

fn parse_html(raw: &str) -> Result<String, String> {
    const ALLOWED: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ];
    let pfx = "Bad Request: can't parse entities: ";
    let mut out = String::new();
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let rest = &raw[i..];
        let c = rest.chars().next().unwrap_or(' ');
        if c == '<' {
            let Some(end) = rest.find('>') else {
                return Err(format!("{pfx}Unclosed start tag at byte offset {i}"));
            };
            let inner = &rest[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                match stack.pop() {
                    Some(open) if open == name => {}
                    Some(open) => {
                        return Err(format!(
                            "{pfx}Unmatched end tag at byte offset {i}, expected \"</{open}>\", found \"</{name}>\""
                        ))
                    }
                    None => return Err(format!("{pfx}Unexpected end tag at byte offset {i}")),
                }
            } else {
                let name = inner
                    .split(char::is_whitespace)
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if name.is_empty() {
                    return Err(format!("{pfx}Empty tag name at byte offset {i}"));
                }
                if !ALLOWED.contains(&name.as_str()) {
                    return Err(format!(
                        "{pfx}Unsupported start tag \"{name}\" at byte offset {i}"
                    ));
                }
                stack.push(name);
            }
            i += end + 1;
        } else if c == '&' {
            let decoded = rest.find(';').filter(|&e| e <= 10).and_then(|e| {
                let ent = &rest[1..e];
                let ch = match ent {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ => ent
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                ch.map(|ch| (ch, e))
            });
            match decoded {
                Some((ch, e)) => {
                    out.push(ch);
                    i += e + 1;
                }
                None => {
                    out.push('&');
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!(
            "{pfx}Can't find end tag corresponding to start tag \"{open}\""
        ));
    }
    Ok(out)
}

fn parse_markdown_v2(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut it = raw.char_indices().peekable();
    let mut in_code = false;
    let mut at_line_start = true;
    while let Some((pos, c)) = it.next() {
        let line_start = at_line_start;
        at_line_start = c == '\n';
        if c == '\\' {
            if let Some((_, n)) = it.next() {
                out.push(n);
            }
            continue;
        }
        if in_code {
            if c == '`' {
                in_code = false;
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '`' => in_code = true,
            '*' | '_' | '~' | '|' | '[' => {}
            ']' => {
                if it.peek().map(|(_, n)| *n) == Some('(') {
                    for (_, n) in it.by_ref() {
                        if n == ')' {
                            break;
                        }
                    }
                }
            }
            '>' if line_start => {}
            '(' | ')' | '>' | '#' | '+' | '-' | '=' | '{' | '}' | '.' | '!' => {
                return Err(format!(
                    "Bad Request: can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\' (byte offset {pos})"
                ))
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

fn strip_legacy_markdown(raw: &str) -> String {
    let mut out = String::new();
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' | '_' | '`' | '[' => {}
            ']' if it.peek() == Some(&'(') => {
                for n in it.by_ref() {
                    if n == ')' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

struct Markup {
    inline: Option<Value>,
    inline_rows: Vec<Vec<(String, String)>>,
    reply: Option<Vec<Vec<String>>>,
    remove: bool,
}

fn parse_markup(p: &Value) -> Result<Markup, ApiFail> {
    let mut m = Markup {
        inline: None,
        inline_rows: vec![],
        reply: None,
        remove: false,
    };
    let Some(rm) = p_json(p, "reply_markup") else {
        if p.get("reply_markup").is_some_and(|v| !v.is_null()) {
            return Err(fail(
                "Bad Request: can't parse reply keyboard markup JSON object",
            ));
        }
        return Ok(m);
    };
    if let Some(rows) = rm.get("inline_keyboard") {
        let rows = rows
            .as_array()
            .ok_or_else(|| fail("Bad Request: field \"inline_keyboard\" must be an Array"))?;
        for row in rows {
            let row = row
                .as_array()
                .ok_or_else(|| fail("Bad Request: inline keyboard row must be an Array"))?;
            let mut r = vec![];
            for b in row {
                let text = b["text"]
                    .as_str()
                    .ok_or_else(|| fail("Bad Request: can't find field \"text\""))?;
                let data = if let Some(d) = b["callback_data"].as_str() {
                    if d.is_empty() || d.len() > 64 {
                        return Err(fail("Bad Request: BUTTON_DATA_INVALID"));
                    }
                    d.to_string()
                } else if let Some(u) = b["url"].as_str() {
                    format!("url:{u}")
                } else {
                    String::new()
                };
                r.push((text.to_string(), data));
            }
            m.inline_rows.push(r);
        }
        m.inline = Some(rm.clone());
    } else if let Some(rows) = rm.get("keyboard") {
        let rows = rows
            .as_array()
            .ok_or_else(|| fail("Bad Request: field \"keyboard\" must be an Array"))?;
        let mut kb = vec![];
        for row in rows {
            let row = row
                .as_array()
                .ok_or_else(|| fail("Bad Request: keyboard row must be an Array"))?;
            kb.push(
                row.iter()
                    .map(|b| {
                        b.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| b["text"].as_str().unwrap_or("").to_string())
                    })
                    .collect(),
            );
        }
        m.reply = Some(kb);
    } else if rm.get("remove_keyboard").is_some() {
        m.remove = true;
    }
    Ok(m)
}

fn text_param(p: &Value, key: &str) -> Result<(String, String, Option<String>), ApiFail> {
    let raw = p_str(p, key).unwrap_or_default();
    let parse_mode = p_str(p, "parse_mode").filter(|s| !s.is_empty());
    let visible = render(&raw, parse_mode.as_deref()).map_err(|e| fail(&e))?;
    Ok((raw, visible, parse_mode))
}

fn dispatch(
    fake: &FakeTelegram,
    st: &mut State,
    method: &str,
    p: &Value,
    files: HashMap<String, FilePart>,
) -> Response {
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(r) => return r.into_response(),
            }
        };
    }
    match method {
        "getme" => {
            let mut me = fake.bot_user_json();
            me["can_join_groups"] = json!(true);
            me["can_read_all_group_messages"] = json!(false);
            me["supports_inline_queries"] = json!(false);
            me["can_connect_to_business"] = json!(false);
            me["has_main_web_app"] = json!(false);
            ok(me)
        }
        "sendmessage" => {
            let chat_id = tri!(chat_of(st, p));
            let (raw, visible, parse_mode) = tri!(text_param(p, "text"));
            if visible.trim().is_empty() {
                return bad("Bad Request: message text is empty");
            }
            if visible.encode_utf16().count() > 4096 {
                return bad("Bad Request: message is too long");
            }
            let markup = tri!(parse_markup(p));
            let mut msg = new_bot_message(fake, st, chat_id);
            msg["text"] = json!(visible);
            let view = BotMessage {
                message_id: msg["message_id"].as_i64().unwrap_or(0),
                chat_id,
                text: visible,
                raw_text: raw,
                parse_mode,
                inline_buttons: vec![],
                reply_keyboard: None,
                remove_keyboard: false,
                edited: false,
                method: method.into(),
                document: None,
            };
            ok(store_new(st, msg, view, markup))
        }
        "senddocument" | "sendphoto" => {
            let chat_id = tri!(chat_of(st, p));
            let field = if method == "senddocument" {
                "document"
            } else {
                "photo"
            };
            let reference = p_str(p, field).unwrap_or_default();
            let part = match reference.strip_prefix("attach://") {
                Some(name) => files.get(name),
                None => files.get(field),
            };
            let (file_name, bytes) = match part {
                Some(f) => (f.file_name.clone(), f.bytes.clone()),
                None if !reference.is_empty() => (None, vec![]),
                None => return bad(&format!("Bad Request: there is no {field} in the request")),
            };
            let (raw, visible, parse_mode) = tri!(text_param(p, "caption"));
            let markup = tri!(parse_markup(p));
            let mut msg = new_bot_message(fake, st, chat_id);
            let message_id = msg["message_id"].as_i64().unwrap_or(0);
            if method == "senddocument" {
                msg["document"] = json!({
                    "file_id": format!("BQACfake{chat_id}_{message_id}"),
                    "file_unique_id": format!("AgADfake{message_id}"),
                    "file_name": file_name.clone().unwrap_or_else(|| "document".into()),
                    "file_size": bytes.len(),
                });
            } else {
                msg["photo"] = json!([{
                    "file_id": format!("AgACfake{chat_id}_{message_id}"),
                    "file_unique_id": format!("AQADfake{message_id}"),
                    "width": 800, "height": 600, "file_size": bytes.len(),
                }]);
            }
            if !raw.is_empty() {
                msg["caption"] = json!(visible);
            }
            st.documents.entry(chat_id).or_default().push(SentDocument {
                chat_id,
                message_id,
                file_name: file_name.clone(),
                bytes,
                caption: (!raw.is_empty()).then(|| visible.clone()),
                method: method.into(),
            });
            let view = BotMessage {
                message_id,
                chat_id,
                text: visible,
                raw_text: raw,
                parse_mode,
                inline_buttons: vec![],
                reply_keyboard: None,
                remove_keyboard: false,
                edited: false,
                method: method.into(),
                document: Some(file_name.unwrap_or_else(|| reference.clone())),
            };
            ok(store_new(st, msg, view, markup))
        }
        "editmessagetext" | "editmessagecaption" | "editmessagereplymarkup" => {
            if p.get("inline_message_id").is_some() {
                return ok(json!(true));
            }
            let chat_id = tri!(chat_of(st, p));
            let Some(message_id) = p_i64(p, "message_id") else {
                return bad("Bad Request: message identifier is not specified");
            };
            let markup = tri!(parse_markup(p));
            if markup.reply.is_some() || markup.remove {
                return bad("Bad Request: inline keyboard expected");
            }
            let text_change = match method {
                "editmessagetext" => Some(tri!(text_param(p, "text"))),
                "editmessagecaption" => Some(tri!(text_param(p, "caption"))),
                _ => None,
            };
            let Some(stored) = st
                .current
                .get_mut(&(chat_id, message_id))
                .filter(|m| !m.deleted)
            else {
                return bad("Bad Request: message to edit not found");
            };
            let mut view = stored.view.clone();
            let mut json_msg = stored.json.clone();
            if let Some((raw, visible, parse_mode)) = text_change {
                if method == "editmessagetext" {
                    if json_msg.get("text").is_none() {
                        return bad("Bad Request: there is no text in the message to edit");
                    }
                    if visible.trim().is_empty() {
                        return bad("Bad Request: message text is empty");
                    }
                    json_msg["text"] = json!(visible);
                } else {
                    if json_msg.get("text").is_some() {
                        return bad("Bad Request: there is no caption in the message to edit");
                    }
                    json_msg["caption"] = json!(visible);
                }
                view.text = visible;
                view.raw_text = raw;
                view.parse_mode = parse_mode;
            }
            view.inline_buttons = markup.inline_rows;
            match markup.inline {
                Some(m) => json_msg["reply_markup"] = m,
                None => {
                    if let Value::Object(o) = &mut json_msg {
                        o.remove("reply_markup");
                    }
                }
            }
            if view.raw_text == stored.view.raw_text
                && view.text == stored.view.text
                && view.inline_buttons == stored.view.inline_buttons
            {
                return bad(NOT_MODIFIED);
            }
            json_msg["edit_date"] = json!(now_unix());
            view.edited = true;
            view.method = method.into();
            view.reply_keyboard = None;
            view.remove_keyboard = false;
            stored.json = json_msg.clone();
            stored.view = view.clone();
            st.log.entry(chat_id).or_default().push(view);
            ok(json_msg)
        }
        "deletemessage" => {
            let chat_id = tri!(chat_of(st, p));
            let message_id = p_i64(p, "message_id").unwrap_or(0);
            match st.current.get_mut(&(chat_id, message_id)) {
                Some(m) if !m.deleted => {
                    m.deleted = true;
                    ok(json!(true))
                }
                _ => bad("Bad Request: message to delete not found"),
            }
        }
        "answercallbackquery" => {
            let id = p_str(p, "callback_query_id").unwrap_or_default();
            if !st.open_queries.remove(&id) {
                return bad("Bad Request: query is too old and response timeout expired or query ID is invalid");
            }
            st.callback_answers.push(CallbackAnswer {
                callback_query_id: id,
                text: p_str(p, "text"),
                show_alert: p_bool(p, "show_alert"),
            });
            ok(json!(true))
        }
        "sendchataction" => {
            tri!(chat_of(st, p));
            ok(json!(true))
        }
        "setmycommands" => {
            st.commands = p_json(p, "commands").unwrap_or(json!([]));
            ok(json!(true))
        }
        "deletemycommands" => {
            st.commands = json!([]);
            ok(json!(true))
        }
        "getmycommands" => ok(st.commands.clone()),
        "setwebhook" => {
            let url = p_str(p, "url").unwrap_or_default();
            if url.is_empty() {
                st.webhook = None;
                return ok(json!(true));
            }
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return bad("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
            }
            if p_bool(p, "drop_pending_updates") {
                st.queue.clear();
            }
            st.webhook = Some(WebhookConfig {
                url,
                secret_token: p_str(p, "secret_token"),
            });
            ok(json!(true))
        }
        "deletewebhook" => {
            st.webhook = None;
            if p_bool(p, "drop_pending_updates") {
                st.queue.clear();
            }
            ok(json!(true))
        }
        "getwebhookinfo" => {
            let url = st
                .webhook
                .as_ref()
                .map(|w| w.url.clone())
                .unwrap_or_default();
            ok(
                json!({"url": url, "has_custom_certificate": false, "pending_update_count": st.queue.len()}),
            )
        }
        "close"
        | "logout"
        | "setmydescription"
        | "setmyshortdescription"
        | "setmyname"
        | "setchatmenubutton" => ok(json!(true)),
        "getchat" => {
            let chat_id = tri!(chat_of(st, p));
            let mut chat = chat_json(st, chat_id);
            chat["accent_color_id"] = json!(0);
            chat["max_reaction_count"] = json!(11);
            ok(chat)
        }
        _ => not_found(),
    }
}

fn new_bot_message(fake: &FakeTelegram, st: &mut State, chat_id: i64) -> Value {
    let message_id = st.alloc_msg_id(chat_id);
    json!({
        "message_id": message_id,
        "from": fake.bot_user_json(),
        "chat": chat_json(st, chat_id),
        "date": now_unix(),
    })
}

fn store_new(st: &mut State, mut msg: Value, mut view: BotMessage, markup: Markup) -> Value {
    let chat_id = view.chat_id;
    if let Some(inline) = markup.inline {
        msg["reply_markup"] = inline;
        view.inline_buttons = markup.inline_rows;
    }
    if let Some(kb) = markup.reply {
        st.reply_keyboard.insert(chat_id, kb.clone());
        view.reply_keyboard = Some(kb);
    }
    if markup.remove {
        st.reply_keyboard.remove(&chat_id);
        view.remove_keyboard = true;
    }
    st.log.entry(chat_id).or_default().push(view.clone());
    st.current.insert(
        (chat_id, view.message_id),
        StoredMsg {
            json: msg.clone(),
            view,
            deleted: false,
        },
    );
    msg
}
