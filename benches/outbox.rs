//! The outbox at Telegram's limits: `cargo bench --bench outbox`.
//!
//! A burst of notifications (default 2,000: to 500 private chats and 5
//! groups) is queued in a fresh SQLite database, then the real bot binary
//! starts and drains it against a fake Bot API that enforces Telegram's
//! limits and answers 429 with `retry_after` beyond them: 30 messages a
//! second for the bot (sliding second), a burst of 4 then 1 a second per
//! private chat, 20 a minute per group. Measured: the drain time (the goal:
//! the count / 30 s + 10 %), messages lost and sent twice (0), the share of
//! requests answered 429 (≤ 1 %), and per-chat order (each chat's messages
//! carry a sequence number; a lower one after a higher one is a break).
//!
//! Knobs (env): `BENCH_BOT_BIN` (default `target/release/repair-bot`; the
//! drain is paced by the limits, not by CPU, so a debug binary measures the
//! same), `BENCH_MESSAGES` (2000), `BENCH_CHATS` (500), `BENCH_GROUPS` (5),
//! `BENCH_NO_DOC=1` (do not rewrite the section of docs/BENCHMARKS.md).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use repair_bot::db::{Database, Notification};

const TOKEN: &str = "777000:BENCHTOKEN";
const SECTION: &str = "## Outbox at Telegram's limits";
const GLOBAL_PER_SECOND: usize = 30;
const CHAT_BURST: f64 = 4.0;
const GROUP_PER_MINUTE: usize = 20;

/// What the fake saw.
#[derive(Default)]
struct Seen {
    requests: u64,
    too_many: u64,
    /// Accepted sends in order: (chat, text).
    accepted: Vec<(i64, String)>,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Accepted sends of the last second (the bot's budget).
    second: VecDeque<Instant>,
    /// Per private chat: (tokens, last refill).
    buckets: HashMap<i64, (f64, Instant)>,
    /// Per group: accepted sends of the last minute.
    minutes: HashMap<i64, VecDeque<Instant>>,
}

struct Fake {
    seen: Mutex<Seen>,
    next_id: Mutex<i64>,
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn too_many(seconds: u64) -> Response {
    json(format!(
        r#"{{"ok":false,"error_code":429,"description":"Too Many Requests: retry after {seconds}","parameters":{{"retry_after":{seconds}}}}}"#
    ))
}

/// Whether Telegram would take a message to `chat` at `now`; counts it if so.
fn admit(seen: &mut Seen, chat: i64, now: Instant) -> Result<(), u64> {
    while seen
        .second
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
    {
        seen.second.pop_front();
    }
    if seen.second.len() >= GLOBAL_PER_SECOND {
        return Err(1);
    }
    if chat < 0 {
        let minute = seen.minutes.entry(chat).or_default();
        while minute
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            minute.pop_front();
        }
        if minute.len() >= GROUP_PER_MINUTE {
            return Err(10);
        }
        minute.push_back(now);
    } else {
        let (tokens, at) = seen.buckets.entry(chat).or_insert((CHAT_BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64()).min(CHAT_BURST);
        *at = now;
        if *tokens < 1.0 {
            return Err(1);
        }
        *tokens -= 1.0;
    }
    seen.second.push_back(now);
    Ok(())
}

async fn api(State(fake): State<Arc<Fake>>, uri: Uri, body: Bytes) -> Response {
    let method = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match method.as_str() {
        "getme" => json(
            r#"{"ok":true,"result":{"id":777000,"is_bot":true,"first_name":"Bench","username":"bench_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false,"can_connect_to_business":false,"has_main_web_app":false}}"#
                .into(),
        ),
        "getupdates" => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            json(r#"{"ok":true,"result":[]}"#.into())
        }
        "sendmessage" => {
            let p: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let chat = p["chat_id"].as_i64().unwrap_or(0);
            let text = p["text"].as_str().unwrap_or("").to_string();
            let now = Instant::now();
            let mut seen = fake.seen.lock().unwrap();
            seen.requests += 1;
            if let Err(wait) = admit(&mut seen, chat, now) {
                seen.too_many += 1;
                return too_many(wait);
            }
            seen.first.get_or_insert(now);
            seen.last = Some(now);
            seen.accepted.push((chat, text));
            drop(seen);
            let id = {
                let mut next = fake.next_id.lock().unwrap();
                *next += 1;
                *next
            };
            let kind = if chat < 0 { "group" } else { "private" };
            json(format!(
                r#"{{"ok":true,"result":{{"message_id":{id},"date":0,"chat":{{"id":{chat},"type":"{kind}","title":"g","first_name":"u"}},"text":"ok"}}}}"#
            ))
        }
        _ => json(r#"{"ok":true,"result":true}"#.into()),
    }
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Chat `k` of the burst: groups first (negative ids), then private chats.
fn chat_of(k: usize, chats: usize, groups: usize) -> i64 {
    let slot = k % (chats + groups);
    if slot < groups {
        -1_000_000_000_000 - slot as i64
    } else {
        10_000 + (slot - groups) as i64
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let messages = env_num("BENCH_MESSAGES", 2000);
    let chats = env_num("BENCH_CHATS", 500);
    let groups = env_num("BENCH_GROUPS", 5);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var("BENCH_BOT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/release/repair-bot"));
    assert!(
        bin.exists(),
        "{} missing: cargo build --release",
        bin.display()
    );
    // The bot runs in a temp dir: a relative path must not depend on it.
    let bin = std::fs::canonicalize(&bin).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/bot.db");
    let db = Database::open_sqlite(&db_path).await.unwrap();
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    let mut burst = Vec::with_capacity(messages);
    for k in 0..messages {
        let chat = chat_of(k, chats, groups);
        let n = per_chat.entry(chat).or_default();
        *n += 1;
        burst.push(Notification {
            chat_id: chat,
            text: format!("m {chat} {n}"),
            buttons: vec![],
            card: None,
            document: None,
        });
    }
    for part in burst.chunks(500) {
        db.enqueue(part).await.unwrap();
    }
    db.close().await;
    let groups_share: usize = per_chat
        .iter()
        .filter(|(c, _)| **c < 0)
        .map(|(_, n)| n)
        .sum();

    let fake = Arc::new(Fake {
        seen: Mutex::new(Seen::default()),
        next_id: Mutex::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(api).with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let started = Instant::now();
    let mut bot = Command::new(&bin)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", format!("http://{addr}"))
        .env("ADMIN_IDS", "1")
        .env("DISPATCHER_IDS", "2")
        .env("DATABASE_PATH", &db_path)
        .env("LOG_DIR", dir.path().join("logs"))
        .env("DAILY_SUMMARY_AT", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Duration::from_secs((messages as u64 / 30) * 3 + 60);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let done = fake.seen.lock().unwrap().accepted.len() >= messages;
        if done || started.elapsed() > deadline {
            break;
        }
    }
    // A little longer: anything sent twice would arrive now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = bot.kill();
    let _ = bot.wait();

    let seen = fake.seen.lock().unwrap();
    let drain = match (seen.first, seen.last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => Duration::ZERO,
    };
    let mut delivered: HashMap<&str, usize> = HashMap::new();
    for (_, text) in &seen.accepted {
        *delivered.entry(text.as_str()).or_default() += 1;
    }
    let lost = burst
        .iter()
        .filter(|n| !delivered.contains_key(n.text.as_str()))
        .count();
    let twice: usize = delivered.values().filter(|n| **n > 1).map(|n| n - 1).sum();
    let mut last_seq: HashMap<i64, usize> = HashMap::new();
    let mut out_of_order = 0;
    for (chat, text) in &seen.accepted {
        let seq: usize = text
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let prev = last_seq.entry(*chat).or_default();
        if seq < *prev {
            out_of_order += 1;
        }
        *prev = seq.max(*prev);
    }
    let share_429 = if seen.requests == 0 {
        0.0
    } else {
        100.0 * seen.too_many as f64 / seen.requests as f64
    };
    let goal = messages as f64 / 30.0 * 1.1;
    let rows = [
        (
            "messages queued",
            format!(
                "{messages} ({} chats, {groups} groups; {groups_share} to groups)",
                chats
            ),
        ),
        (
            "drain time (first to last accepted)",
            format!("{:.1} s (goal ≤ {goal:.1} s)", drain.as_secs_f64()),
        ),
        ("lost", lost.to_string()),
        ("sent twice", twice.to_string()),
        (
            "requests answered 429",
            format!(
                "{} of {} ({share_429:.2} %, goal ≤ 1 %)",
                seen.too_many, seen.requests
            ),
        ),
        ("per-chat order breaks", out_of_order.to_string()),
    ];
    let mut table = String::from("| figure | value |\n|---|---|\n");
    for (k, v) in &rows {
        table.push_str(&format!("| {k} | {v} |\n"));
    }
    println!("{table}");
    if std::env::var("BENCH_NO_DOC").is_err() {
        let binary = bin
            .strip_prefix(&root)
            .unwrap_or(&bin)
            .display()
            .to_string();
        write_section(
            &root.join("docs/BENCHMARKS.md"),
            &format!(
                "{SECTION}\n\n`cargo bench --bench outbox` (binary `{binary}`): the burst is queued in a fresh SQLite \
                 database, then the bot drains it against a fake Bot API that answers 429 beyond 30 messages a \
                 second, a burst of 4 then 1 a second per private chat, and 20 a minute per group.\n\n{table}"
            ),
        );
    }
    assert_eq!(lost, 0, "messages lost");
    assert_eq!(twice, 0, "messages sent twice");
    assert_eq!(out_of_order, 0, "per-chat order broken");
}

/// Replaces (or appends) the section of `path` that starts with [`SECTION`].
fn write_section(path: &Path, section: &str) {
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let start = doc.find(SECTION);
    let new = match start {
        Some(i) => {
            let rest = &doc[i + SECTION.len()..];
            let end = rest.find("\n## ").map(|j| i + SECTION.len() + j + 1);
            match end {
                Some(e) => format!("{}{}\n{}", &doc[..i], section.trim_end(), &doc[e..]),
                None => format!("{}{}\n", &doc[..i], section.trim_end()),
            }
        }
        None => format!("{}\n{}\n", doc.trim_end(), section.trim_end()),
    };
    std::fs::write(path, new).unwrap();
}
