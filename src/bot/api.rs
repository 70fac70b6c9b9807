//! How the bot talks to the Bot API over HTTP: one client with timeouts
//! chosen on purpose, and `getUpdates` read entry by entry.
//!
//! Timeouts. teloxide's default client gives up on any request after 17 s,
//! shorter than its own long poll and short enough that a slow but
//! successful `sendMessage` (Telegram answering after 20 s) is taken for a
//! failure and sent again. Ours waits [`API_REQUEST_TIMEOUT`] for a request
//! and the long poll plus [`POLL_GRACE`] for `getUpdates`. A request still
//! unanswered then has an unknown outcome: the outbox tries it again only
//! after [`UNKNOWN_OUTCOME_HOLD`] (see `outbox::classify`).

use std::time::Duration;

use serde_json::value::RawValue;
use teloxide::types::{Update, UpdateKind};
use teloxide::Bot;

/// How long one Bot API call (other than `getUpdates`) may take. Telegram
/// answers in well under a second when healthy; under load or during an
/// incident answers of 10–20 s happen and still carry a real outcome.
pub const API_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a notification whose send timed out waits before it is tried
/// again: Telegram may still be processing a request we stopped waiting for,
/// and past this window it has either delivered it or dropped it.
pub const UNKNOWN_OUTCOME_HOLD: Duration = Duration::from_secs(60);

/// Added to the long-poll timeout for `getUpdates`: Telegram answers an idle
/// long poll at its timeout, plus the round trip.
pub const POLL_GRACE: Duration = Duration::from_secs(10);

/// TCP connect timeout: a Bot API host that does not accept connections
/// within this is unreachable for now.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Bot`] on `api_url` using the client described in the module docs.
pub fn bot(token: &str, api_url: url::Url) -> anyhow::Result<Bot> {
    let client = teloxide::net::default_reqwest_settings()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(API_REQUEST_TIMEOUT)
        .build()?;
    Ok(Bot::with_client(token, client).set_api_url(api_url))
}

/// One entry of a `getUpdates` answer.
#[derive(Debug)]
pub enum Entry {
    /// A Telegram update (its id as Telegram numbered it).
    Update(i64, Box<Update>),
    /// An entry this version cannot read: skipped, its id still confirmed.
    Unreadable { update_id: i64, reason: String },
    /// An update the caller has already taken (it is still unconfirmed
    /// because an older one is being handled); not parsed again.
    Seen(i64),
}

impl Entry {
    /// The entry's update id.
    pub fn id(&self) -> i64 {
        match self {
            Entry::Update(id, _) | Entry::Unreadable { update_id: id, .. } | Entry::Seen(id) => *id,
        }
    }
}

/// Why `getUpdates` gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// Telegram asked to wait (`429` with `retry_after`).
    #[error("Too Many Requests: retry after {0:?}")]
    RetryAfter(Duration),
    /// Telegram answered `ok: false`.
    #[error("Bot API error {code}: {description}")]
    Api { code: i64, description: String },
    /// No usable answer (network, timeout, not JSON). Never carries the body:
    /// it holds users' messages.
    #[error("getUpdates failed: {0}")]
    Transport(String),
}

/// Calls `getUpdates` with a 64-bit `offset` and reads each entry on its
/// own: one entry this version cannot parse (a new Telegram field of an
/// unexpected shape) is reported as [`Entry::Unreadable`] instead of failing
/// the whole batch, which would block polling for good.
///
/// Entries up to `seen_through` are returned as [`Entry::Seen`] unparsed.
pub async fn get_updates(
    bot: &Bot,
    offset: i64,
    timeout_secs: u32,
    allowed_updates: &[&str],
    seen_through: i64,
) -> Result<Vec<Entry>, PollError> {
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| PollError::Transport("TELEGRAM_API_URL cannot be a base".into()))?
        .push(&format!("bot{}", bot.token()))
        .push("getUpdates");
    let body = serde_json::json!({
        "offset": offset,
        "timeout": timeout_secs,
        "allowed_updates": allowed_updates,
    });
    let response = bot
        .client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(u64::from(timeout_secs)) + POLL_GRACE)
        .send()
        .await
        // reqwest's error text names the URL, which holds the token.
        .map_err(|e| PollError::Transport(describe(&e)))?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| PollError::Transport(describe(&e)))?;
    parse_answer(&bytes, seen_through)
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "broken answer"
    } else {
        "request failed"
    };
    match e.status() {
        Some(status) => format!("{kind} (HTTP {status})"),
        None => kind.to_string(),
    }
}

/// The envelope of a Bot API answer; `result` entries stay raw text.
#[derive(serde::Deserialize)]
struct Answer<'a> {
    ok: bool,
    #[serde(borrow, default)]
    result: Option<Vec<&'a RawValue>>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(serde::Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    update_id: i64,
}

/// The `update_id` of one update's JSON, read without the rest: for an
/// update this version cannot parse, which must still be confirmed.
pub fn update_id_of(json: &[u8]) -> Option<i64> {
    serde_json::from_slice::<IdOnly>(json)
        .ok()
        .map(|id| id.update_id)
}

/// Reads a `getUpdates` answer body; entries up to `seen_through` are
/// only numbered, not parsed.
pub fn parse_answer(bytes: &[u8], seen_through: i64) -> Result<Vec<Entry>, PollError> {
    let answer: Answer = serde_json::from_slice(bytes)
        .map_err(|e| PollError::Transport(format!("answer is not JSON ({:?})", e.classify())))?;
    if !answer.ok {
        if let Some(secs) = answer.parameters.and_then(|p| p.retry_after) {
            return Err(PollError::RetryAfter(Duration::from_secs(secs)));
        }
        let description = answer
            .description
            .unwrap_or_else(|| "no description".into())
            .chars()
            .take(200)
            .collect();
        return Err(PollError::Api {
            code: answer.error_code.unwrap_or(0),
            description,
        });
    }
    let Some(entries) = answer.result else {
        return Err(PollError::Transport("answer has no result list".into()));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(update_id) = update_id_of(entry.get().as_bytes()) else {
            // Without an id it cannot be confirmed either; Telegram never sends this.
            return Err(PollError::Transport("an entry has no update_id".into()));
        };
        if update_id <= seen_through {
            out.push(Entry::Seen(update_id));
            continue;
        }
        match serde_json::from_str::<Update>(entry.get()) {
            // teloxide keeps what it could not read as `UpdateKind::Error`.
            Ok(update) if matches!(update.kind, UpdateKind::Error(_)) => {
                out.push(Entry::Unreadable {
                    update_id,
                    reason: "malformed or unknown update kind".into(),
                })
            }
            Ok(update) => out.push(Entry::Update(update_id, Box::new(update))),
            // serde's message may quote the user's text: keep only its kind.
            Err(e) => out.push(Entry::Unreadable {
                update_id,
                reason: format!("{:?} error", e.classify()),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_already_taken_are_not_parsed_again() {
        let body = serde_json::json!({"ok": true, "result": [message(10, "a"), message(11, "b")]});
        let entries = parse_answer(body.to_string().as_bytes(), 10).unwrap();
        assert!(matches!(entries[0], Entry::Seen(10)));
        assert!(matches!(entries[1], Entry::Update(11, _)));
    }

    fn message(update_id: i64, text: &str) -> serde_json::Value {
        serde_json::json!({
            "update_id": update_id,
            "message": {
                "message_id": 1, "date": 1_700_000_000,
                "chat": {"id": 5, "type": "private", "first_name": "A"},
                "from": {"id": 5, "is_bot": false, "first_name": "A"},
                "text": text
            }
        })
    }

    #[test]
    fn an_unreadable_entry_is_skipped_and_the_others_kept() {
        let mut broken = message(11, "secret text");
        broken["message"]["chat"] = serde_json::json!("not a chat");
        let body =
            serde_json::json!({"ok": true, "result": [message(10, "a"), broken, message(12, "b")]});
        let entries = parse_answer(body.to_string().as_bytes(), 0).unwrap();
        let ids: Vec<i64> = entries.iter().map(Entry::id).collect();
        assert_eq!(ids, vec![10, 11, 12]);
        match &entries[1] {
            Entry::Unreadable { reason, .. } => assert!(!reason.contains("secret"), "{reason}"),
            other => panic!("expected unreadable, got {other:?}"),
        }
        assert!(matches!(entries[0], Entry::Update(10, _)));
    }

    #[test]
    fn ids_beyond_i32_are_kept_whole() {
        // Telegram's ids are 64-bit on the wire; the offset must not wrap.
        let body = serde_json::json!({"ok": true, "result": [{"update_id": 3_000_000_000i64, "poll": {}}]});
        let entries = parse_answer(body.to_string().as_bytes(), 0).unwrap();
        assert_eq!(entries[0].id(), 3_000_000_000);
    }

    #[test]
    fn errors_say_what_telegram_said() {
        let retry = serde_json::json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}});
        assert!(matches!(
            parse_answer(retry.to_string().as_bytes(), 0),
            Err(PollError::RetryAfter(d)) if d == Duration::from_secs(3)
        ));
        let conflict = serde_json::json!({"ok": false, "error_code": 409, "description": "Conflict: terminated by other getUpdates request"});
        match parse_answer(conflict.to_string().as_bytes(), 0) {
            Err(PollError::Api {
                code: 409,
                description,
            }) => assert!(description.contains("Conflict")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_answer(b"<html>", 0),
            Err(PollError::Transport(_))
        ));
    }
}
