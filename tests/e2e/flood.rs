//! No user waits for another: against a Bot API that answers in 30 ms, one
//! user flooding the bot, a reply answered 500 or a send hanging 15 s hold
//! up nobody else. Polling is a sliding window (docs/DESIGN.md §1) and every
//! user has their own queue; the flood limit is the default one.

use std::time::{Duration, Instant};

use crate::ops_support::{get, metric, with_http};
use crate::support::{BotMessage, TestEnv, TestUser};
use crate::test_env;

/// An environment with the default flood limits and a 30 ms Bot API.
async fn slow_api_env() -> (TestEnv, String) {
    let mut env = test_env().await;
    env.unset("USER_RATE_LIMIT").unset("STAFF_RATE_LIMIT");
    env.set("MAX_ORDERS_PER_HOUR", "0");
    let base = with_http(&mut env);
    env.fake.set_latency(Duration::from_millis(30));
    (env, base)
}

/// One step: `act`, then the time until a message containing `want`, and it.
async fn step(u: &TestUser, act: impl FnOnce() -> i64, want: &str) -> (Duration, BotMessage) {
    let started = Instant::now();
    act();
    let m = u.expect_text_within(want, Duration::from_secs(30)).await;
    (started.elapsed(), m)
}

/// Files an order like a person would (a short pause between steps, so the
/// default flood limit is never theirs), returning each step's latency.
async fn file_order_timed(u: TestUser) -> Vec<Duration> {
    let mut took = Vec::new();
    // A person's pause between steps, so the default flood limit is never theirs.
    let mut timed = async |act: &(dyn Fn() -> i64 + Sync), want: &str| {
        let (t, m) = step(&u, act, want).await;
        took.push(t);
        tokio::time::sleep(Duration::from_millis(600)).await;
        m
    };
    let m = timed(&|| u.send_command("/create_order"), "Какая техника").await;
    timed(
        &|| u.press_button(&m, "Холодильник"),
        "Опишите неисправность",
    )
    .await;
    timed(
        &|| u.send_text("Холодильник не морозит, шумит"),
        "Укажите адрес",
    )
    .await;
    timed(
        &|| u.send_text("г. Москва, ул. Ленина, д. 15, кв. 42"),
        "Оставьте телефон",
    )
    .await;
    timed(&|| u.send_contact("+79991234567"), "Когда удобно").await;
    let summary = timed(&|| u.send_text("завтра после 18:00"), "Проверьте заявку").await;
    timed(&|| u.press_button(&summary, "Подтвердить"), "принята").await;
    took
}

fn p99(mut all: Vec<Duration>) -> Duration {
    all.sort();
    all[(all.len() * 99 / 100).min(all.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_flooding_3000_messages_holds_up_no_one_else() {
    // Arrange
    let (env, base) = slow_api_env().await;
    let bot = env.start_bot().await;
    let flooder = env.fake.user(7001, "Флудер", "ru");

    // Act: 3,000 messages at once, then five people file orders meanwhile
    for i in 0..3_000 {
        flooder.send_text(&format!("спам {i}"));
    }
    let mut people = Vec::new();
    for i in 0..5 {
        let u = env.fake.user(7100 + i, "Клиент", "ru");
        people.push(tokio::spawn(file_order_timed(u)));
    }
    let mut latencies = Vec::new();
    for p in people {
        latencies.extend(p.await.expect("a client finished its order"));
    }

    // Assert: the others' steps stay fast, and all five orders exist
    let worst = p99(latencies.clone());
    assert!(
        worst < Duration::from_secs(1),
        "p99 step latency {worst:?}: {latencies:?}"
    );
    let db = crate::open_db(&env).await;
    for i in 0..5 {
        assert_eq!(db.orders_filed_by(7100 + i, 10).await.unwrap().len(), 1);
    }
    // The flooder was told once, and the rest of the flood was dropped and counted.
    let notices = env
        .fake
        .messages_to(7001)
        .iter()
        .filter(|m| m.text.contains("слишком быстро"))
        .count();
    assert_eq!(notices, 1);
    env.fake
        .wait_until("the flood confirmed", Duration::from_secs(60), |f| {
            f.pending_updates() == 0
        })
        .await;
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert!(
        metric(&metrics, "repair_bot_updates_throttled_total") >= 2_900.0,
        "{metrics}"
    );
    assert!(bot.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_answered_500_or_hanging_15_s_delays_no_other_user() {
    // Arrange
    let (env, _base) = slow_api_env().await;
    let _bot = env.start_bot().await;
    let unlucky = env.fake.user(7201, "Анна", "ru");
    let stuck = env.fake.user(7202, "Борис", "ru");
    let other = env.fake.user(7203, "Вера", "ru");
    env.fake
        .fail_next_to("sendMessage", 7201, 1, 500, "Internal Server Error");
    env.fake
        .delay_next_to("sendMessage", 7202, 1, Duration::from_secs(15));

    // Act: the first two users' replies fail or hang; the third goes on
    unlucky.send_command("/start");
    stuck.send_command("/start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (took, m) = step(
        &other,
        || other.send_command("/create_order"),
        "Какая техника",
    )
    .await;
    let (took2, _) = step(
        &other,
        || other.press_button(&m, "Холодильник"),
        "Опишите неисправность",
    )
    .await;

    // Assert
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(took2 < Duration::from_secs(1), "{took2:?}");
    // And the two others still get their answers.
    unlucky
        .expect_text_within("Здравствуйте", Duration::from_secs(30))
        .await;
    stuck
        .expect_text_within("Здравствуйте", Duration::from_secs(30))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_update_does_not_delay_other_users() {
    // Arrange: one user's update takes 3 s to handle
    let mut env = test_env().await;
    env.set("FAULT_SLOW_ON_TEXT", "медленно");
    let _bot = env.start_bot().await;
    let slow = env.fake.user(7301, "Анна", "ru");
    let other = env.fake.user(7302, "Борис", "ru");

    // Act
    slow.send_text("медленно");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (took, _) = step(&other, || other.send_command("/start"), "Здравствуйте").await;
    let (took2, _) = step(&other, || other.send_command("/help"), "/create_order").await;

    // Assert
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert!(took2 < Duration::from_millis(800), "{took2:?}");
    slow.expect_text_within("Выберите действие", Duration::from_secs(10))
        .await;
}
