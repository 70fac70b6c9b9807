//! Chaos: 100 clients file orders at once while the bot is SIGKILLed and
//! restarted at random moments (5 times) and Redis is restarted once. At the
//! end every client has exactly one complete order, no dialog went back to
//! its start, and every notification arrived exactly once — except where a
//! kill landed between Telegram accepting a message and the outbox recording
//! it, the one window no Bot API client can close (see docs/DESIGN.md); such
//! duplicates are counted, shown, and must each be explained by a kill.
//! Every tenth client first sends a message that takes 3 s to handle, so
//! kills also land while a slow update holds the polling window open.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    BotMessage, BotProcess, RedisOptions, RedisServer, TestUser, ADMIN_ID, DISPATCHER_ID,
};
use crate::{open_db, test_env, Rng};

const CLIENTS: i64 = 100;
const FIRST_CLIENT: i64 = 20_000;
const KILLS: usize = 5;
const UNAVAILABLE: &str = "временно недоступен";

/// Sends with `act` until the bot answers with `want` (re-sending after a
/// "briefly unavailable" answer, as a person would). Returns the answer.
async fn exchange(u: &TestUser, act: &(dyn Fn() -> i64 + Send + Sync), want: &str) -> BotMessage {
    for _ in 0..30 {
        act();
        loop {
            let m = u.next_message(Duration::from_secs(60)).await;
            if m.edited {
                continue;
            }
            if m.text.contains(want) {
                return m;
            }
            if m.text.contains(UNAVAILABLE) {
                tokio::time::sleep(Duration::from_millis(300)).await;
                break;
            }
        }
    }
    panic!(
        "client {}: no {want:?} after 30 tries\n{}",
        u.id,
        u.transcript()
    );
}

/// The text that makes its handler take 3 s (`FAULT_SLOW_ON_TEXT`).
const SLOW_TEXT: &str = "медленный вопрос";

async fn client_run(u: TestUser, start_after: Duration, think: Vec<u64>) {
    tokio::time::sleep(start_after).await;
    if u.id % 10 == 0 {
        let user = u.clone();
        exchange(&u, &move || user.send_text(SLOW_TEXT), "Выберите действие").await;
    }
    let pause = |i: usize| tokio::time::sleep(Duration::from_millis(think[i % think.len()]));
    let user = u.clone();
    let m = exchange(
        &u,
        &move || user.send_command("/create_order"),
        "Шаг 1 из 5",
    )
    .await;
    pause(0).await;
    let user = u.clone();
    exchange(&u, &move || user.press(&m, "eq:refrigerator"), "Шаг 2 из 5").await;
    pause(1).await;
    let user = u.clone();
    let text = format!("Холодильник {} не морозит", u.id);
    exchange(&u, &move || user.send_text(&text), "Шаг 3 из 5").await;
    pause(2).await;
    let user = u.clone();
    exchange(
        &u,
        &move || user.send_text("г. Москва, ул. Тверская, д. 1"),
        "Шаг 4 из 5",
    )
    .await;
    pause(3).await;
    let user = u.clone();
    let m = exchange(&u, &move || user.send_contact("+79990000000"), "Шаг 5 из 5").await;
    pause(4).await;
    let user = u.clone();
    let m = exchange(
        &u,
        &move || user.press(&m, "vt:tomorrow"),
        "Проверьте заявку",
    )
    .await;
    pause(5).await;
    // The receipt comes through the outbox; a redelivered press may answer
    // "button no longer active" instead, which is fine: wait for the receipt.
    let user = u.clone();
    exchange(&u, &move || user.press(&m, "cf:yes"), "принята").await;
}

/// (chat, text, when) of every sendMessage the fake accepted.
fn sends(env: &crate::support::TestEnv) -> Vec<(i64, String, Instant)> {
    env.fake
        .calls_to("sendmessage")
        .into_iter()
        .filter_map(|c| {
            let chat = match &c.params["chat_id"] {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            }?;
            Some((chat, c.params["text"].as_str()?.to_string(), c.at))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_survive_kills_and_a_redis_restart() {
    let mut rng = Rng::from_env("CHAOS_SEED");

    let mut redis = RedisServer::start(RedisOptions {
        appendonly: true,
        requirepass: None,
    })
    .await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url())
        .set("MAX_ORDERS_PER_HOUR", "0")
        .set("FAULT_SLOW_ON_TEXT", SLOW_TEXT);
    let env = Arc::new(env);
    let bot: Arc<Mutex<Option<BotProcess>>> = Arc::new(Mutex::new(Some(env.start_bot().await)));

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let u = env.fake.user(FIRST_CLIENT + i, "Клиент", "ru");
        let start_after = Duration::from_millis(rng.below(6_000));
        let think: Vec<u64> = (0..6).map(|_| 50 + rng.below(400)).collect();
        clients.push(tokio::spawn(client_run(u, start_after, think)));
    }

    // The chaos: SIGKILL + restart at random moments, Redis restarted once.
    let mut kill_times = Vec::new();
    let redis_after_kill = rng.below(KILLS as u64) as usize;
    for k in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(600 + rng.below(1_400))).await;
        let victim = bot.lock().unwrap().take().expect("a running bot");
        victim.sigkill();
        kill_times.push(Instant::now());
        assert!(victim.wait_exit(Duration::from_secs(10)).await.is_some());
        drop(victim);
        let fresh = env.start_bot().await;
        *bot.lock().unwrap() = Some(fresh);
        if k == redis_after_kill {
            tokio::time::sleep(Duration::from_millis(rng.below(500))).await;
            redis.restart().await;
        }
    }

    for c in clients {
        tokio::time::timeout(Duration::from_secs(240), c)
            .await
            .expect("clients finish in time")
            .expect("client ran clean");
    }

    // Every client: exactly one complete order.
    let db = open_db(&env).await;
    for i in 0..CLIENTS {
        let id = FIRST_CLIENT + i;
        let orders = db.orders_filed_by(id, 10).await.unwrap();
        assert_eq!(
            orders.len(),
            1,
            "client {id} has exactly one order: {orders:?}"
        );
        let o = &orders[0];
        assert_eq!(o.description, format!("Холодильник {id} не морозит"));
        assert_eq!(
            (o.address.as_str(), o.phone.as_str(), o.visit_time.as_str()),
            ("г. Москва, ул. Тверская, д. 1", "+79990000000", "tomorrow")
        );
    }

    // No dialog went back to its start.
    for i in 0..CLIENTS {
        let chat = FIRST_CLIENT + i;
        let texts: Vec<String> = env
            .fake
            .messages_to(chat)
            .into_iter()
            .filter(|m| !m.edited)
            .map(|m| m.text)
            .collect();
        if let Some(second) = texts.iter().position(|t| t.contains("Шаг 2 из 5")) {
            assert!(
                !texts[second..].iter().any(|t| t.contains("Шаг 1 из 5")),
                "client {chat} was sent back to step 1:\n{texts:#?}"
            );
        }
    }

    // Notifications: all delivered; duplicates only where a kill explains them.
    for _ in 0..100 {
        if db.outbox_backlog().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(db.outbox_backlog().await.unwrap(), 0, "the outbox drained");
    let all = sends(&env);
    let mut duplicates = 0;
    let orders = db.count_orders().await.unwrap();
    for n in 1..=orders {
        let staff_text = format!("🆕 Новая заявка №{n}\n");
        let receipt = format!("Заявка №{n} принята");
        let order = db.order(n).await.unwrap().unwrap();
        for (chat, needle) in [
            (DISPATCHER_ID, &staff_text),
            (ADMIN_ID, &staff_text),
            (order.client_chat_id.expect("filed by a client"), &receipt),
        ] {
            let copies: Vec<Instant> = all
                .iter()
                .filter(|(c, t, _)| *c == chat && t.starts_with(needle.as_str()))
                .map(|(_, _, at)| *at)
                .collect();
            assert!(
                !copies.is_empty(),
                "order {n}: chat {chat} never got {needle:?}"
            );
            if copies.len() > 1 {
                duplicates += copies.len() - 1;
                let first = copies[0];
                // The kill may also come a moment before the fake logs the
                // first copy: the request was already in the socket.
                let explained = kill_times.iter().any(|k| {
                    if *k >= first {
                        k.duration_since(first) < Duration::from_secs(2)
                    } else {
                        first.duration_since(*k) < Duration::from_millis(200)
                    }
                });
                if !explained {
                    let rows: Vec<(i64, i64, Option<i64>, Option<String>)> = sqlx::query_as(
                        "SELECT id, attempts, sent_at, last_error FROM outbox WHERE chat_id = ? AND payload LIKE ?",
                    )
                    .bind(chat)
                    .bind(format!("%{}%", needle.trim_end()))
                    .fetch_all(db.sqlite_pool().unwrap())
                    .await
                    .unwrap();
                    let t0 = copies[0];
                    let kills: Vec<i128> = kill_times
                        .iter()
                        .map(|k| {
                            k.duration_since(t0).as_millis() as i128
                                - if *k < t0 {
                                    t0.duration_since(*k).as_millis() as i128 * 2
                                } else {
                                    0
                                }
                        })
                        .collect();
                    let gaps: Vec<u128> = copies
                        .iter()
                        .map(|c| c.duration_since(t0).as_millis())
                        .collect();
                    panic!("order {n}: {} copies to chat {chat} with no kill right after the first; copies at +{gaps:?} ms, kills at {kills:?} ms, outbox rows {rows:?}\n{}", copies.len(), env.fake.calls_summary());
                }
            }
        }
    }
    eprintln!("chaos: {orders} orders, {KILLS} kills, 1 Redis restart, {duplicates} kill-window duplicate(s)");
    assert_eq!(orders, CLIENTS);
}
