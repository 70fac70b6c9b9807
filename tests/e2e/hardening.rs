//! Faults a real server meets, against the real binary: a full disk (a small
//! tmpfs under `DATABASE_PATH`), a slow or refusing Bot API, hostile webhook
//! traffic, broken updates. Each test failed before its fix.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::ops_support::{get, metric, wait_for_get, with_http};
use crate::support::{BotMessage, TestEnv, TestUser, ADMIN_ID, DISPATCHER_ID};
use crate::{answer_money, fill_order, stored_state, test_env, CloseAnswers};

/// A small tmpfs mounted for one test (root only, as CI runs), unmounted on drop.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "these tests mount a tmpfs and need root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk {
            dir: at.to_path_buf(),
        }
    }

    /// Writes a filler file until the disk refuses more.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.dir.join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }

    fn remount_read_only(&self) {
        let out = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// An environment whose database lives on a 2 MB tmpfs.
async fn env_on_small_disk() -> (TestEnv, SmallDisk, String) {
    let mut env = test_env().await;
    let disk = SmallDisk::mount(&env.path().join("small"), "2m");
    env.set(
        "DATABASE_PATH",
        disk.dir.join("bot.db").display().to_string(),
    );
    env.set("FSM_STORAGE", "sqlite");
    let base = with_http(&mut env);
    (env, disk, base)
}

fn count_with(fake_messages: &[BotMessage], needle: &str) -> usize {
    fake_messages
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

const SORRY: &str = "что-то пошло не так";

/// Presses `label` under `msg` as it was when received: the first press
/// may have removed the keyboard, as Telegram users can still press a
/// button on an old copy of a message.
fn press_again(user: &TestUser, msg: &BotMessage, label: &str) -> i64 {
    let data = msg
        .button_data(label)
        .unwrap_or_else(|| panic!("no {label:?} button: {:?}", msg.button_texts()));
    user.press(msg, &data)
}

/// The bot's database wherever `DATABASE_PATH` points.
async fn open_db_of(env: &TestEnv) -> repair_bot::db::Database {
    let path = PathBuf::from(env.get("DATABASE_PATH").unwrap());
    repair_bot::db::Database::open_sqlite(&path).await.unwrap()
}

#[tokio::test]
async fn a_full_disk_heals_without_a_restart_for_orders_staff_actions_and_ratings() {
    // Arrange
    let (env, disk, base) = env_on_small_disk().await;
    let bot = env.start_bot().await;
    let client = env.fake.user(6101, "Анна", "ru");
    let dispatcher = env.fake.user(DISPATCHER_ID, "Диспетчер", "ru");
    let master = env.fake.user(6102, "Пётр", "ru");
    dispatcher.send_command("/add_master 6102 Пётр");
    dispatcher
        .expect_text("Мастер Пётр (id 6102) добавлен")
        .await;
    let summary = fill_order(&client).await;

    // Act: the disk fills up before Confirm
    disk.fill();
    client.press_button(&summary, "Подтвердить");
    client.expect_text(SORRY).await;
    let (status, body) = wait_for_get(
        &format!("{base}/healthz"),
        "unhealthy on a full disk",
        |s, _| s != 200,
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("\"database\"") && body.contains("error"),
        "{body}"
    );

    // Act: space comes back; the same client presses again
    disk.free();
    press_again(&client, &summary, "Подтвердить");

    // Assert: filed at once, no restart
    client
        .expect_text_within("Заявка №1 принята", Duration::from_secs(5))
        .await;
    wait_for_get(&format!("{base}/healthz"), "healthy again", |s, _| s == 200).await;

    // A staff action on a full disk fails, then works once space is back.
    let note = dispatcher.expect_text("Новая заявка №1").await;
    disk.fill();
    dispatcher.press_button(&note, "Назначить мастера");
    let choose = dispatcher.expect_text("Кому назначить заявку №1").await;
    dispatcher.press_button(&choose, "Пётр");
    dispatcher.expect_text(SORRY).await;
    disk.free();
    press_again(&dispatcher, &choose, "Пётр");
    dispatcher
        .expect_text_within("Заявка №1 назначена мастеру Пётр", Duration::from_secs(5))
        .await;

    // The master finishes it; the client's rating on a full disk, then after.
    let job = master.expect_text("Вам назначена заявка №1").await;
    master.press_button(&job, "Принять");
    let m = master.expect_text("Заявка №1: мастер принял").await;
    master.press_button(&m, "На месте");
    let m = master.expect_text("Заявка №1: мастер на месте").await;
    master.press_button(&m, "Закрыть");
    master.expect_text("Что сделано по заявке №1").await;
    master.send_text("Заменил насос");
    master
        .expect_text("Сколько всего заплатил клиент по заявке №1")
        .await;
    answer_money(
        &master,
        1,
        CloseAnswers {
            total: "2000",
            materials: "0",
            out_of_city: false,
            review: false,
        },
    )
    .await;
    master.expect_text("Заявка №1: закрыта").await;
    let done = client.expect_text("Заявка №1 выполнена").await;
    disk.fill();
    client.press_button(&done, "5⭐");
    client.expect_text(SORRY).await;
    disk.free();
    press_again(&client, &done, "5⭐");
    client
        .expect_text_within("Хотите добавить отзыв", Duration::from_secs(5))
        .await;

    let db = open_db_of(&env).await;
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(order.rating, Some(5));
    assert!(bot.is_running());
    assert!(
        !bot.output().contains("non-zero transaction depth"),
        "{}",
        bot.output_tail(30)
    );
}

#[tokio::test]
async fn notifications_sent_while_the_disk_is_full_are_sent_once() {
    // Arrange: the sends of the next order are slow, so they land after the disk fills
    let (env, disk, _base) = env_on_small_disk().await;
    let bot = env.start_bot().await;
    let client = env.fake.user(6201, "Анна", "ru");
    let summary = fill_order(&client).await;
    env.fake
        .delay_next("sendMessage", 3, Duration::from_secs(2));

    // Act
    client.press_button(&summary, "Подтвердить");
    tokio::time::sleep(Duration::from_millis(500)).await;
    disk.fill();
    // Sent, not recordable: long enough for several looks at the table.
    tokio::time::sleep(Duration::from_secs(8)).await;
    disk.free();
    tokio::time::sleep(Duration::from_secs(7)).await;

    // Assert: each notification once
    let to_client = env.fake.messages_to(6201);
    assert_eq!(
        count_with(&to_client, "Заявка №1 принята"),
        1,
        "{}",
        client.transcript()
    );
    for staff in [ADMIN_ID, DISPATCHER_ID] {
        let got = env.fake.messages_to(staff);
        assert_eq!(
            count_with(&got, "Новая заявка №1"),
            1,
            "staff {staff}: {got:?}"
        );
    }
    assert!(
        bot.output().contains("holding them"),
        "the failed record was held, not dropped: {}",
        bot.output_tail(30)
    );
    // And the record did reach the table once the disk had room.
    let db = open_db_of(&env).await;
    assert_eq!(db.outbox_backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn a_send_answered_after_20_seconds_is_delivered_once() {
    // Arrange
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let client = env.fake.user(6301, "Анна", "ru");
    let summary = fill_order(&client).await;
    // Telegram takes 20 s over the receipt (longer than teloxide's default 17 s).
    env.fake
        .delay_next_to("sendMessage", 6301, 1, Duration::from_secs(20));

    // Act
    client.press_button(&summary, "Подтвердить");
    let started = std::time::Instant::now();
    client
        .expect_text_within("Заявка №1 принята", Duration::from_secs(30))
        .await;
    assert!(
        started.elapsed() >= Duration::from_secs(19),
        "the receipt was the slow one"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Assert
    let receipts = count_with(&env.fake.messages_to(6301), "Заявка №1 принята");
    assert_eq!(receipts, 1, "{}", client.transcript());
}

#[tokio::test]
async fn a_question_lost_to_429_is_asked_again_instead_of_taking_the_next_message_as_its_answer() {
    // Arrange
    let env = test_env().await;
    let bot = env.start_bot().await;
    let client = env.fake.user(6401, "Анна", "ru");
    client.send_command("/create_order");
    let m = client.expect_text("Какая техника").await;
    client.press_button(&m, "Стиральная");
    client.expect_text("Опишите неисправность").await;

    // Act: the next question is refused with 429 on every retry
    env.fake.fail_next(
        "sendMessage",
        3,
        429,
        "Too Many Requests: retry after 1",
        Some(1),
    );
    client.send_text("Не отжимает, гудит при сливе воды");
    env.fake
        .wait_until(
            "the reply retried and given up",
            Duration::from_secs(15),
            |f| f.calls_to("sendmessage").len() >= 3,
        )
        .await;
    bot.wait_for_log("the question will be asked again", Duration::from_secs(10))
        .await;
    // The client never saw "Укажите адрес" and repeats the description.
    client.send_text("Не отжимает, гудит при сливе воды");

    // Assert: asked the missed question, stored nothing as the address
    client.expect_text("Укажите адрес").await;
    let draft = crate::stored_data(&env, 6401).await.unwrap();
    assert!(
        draft.get("address").is_none_or(Value::is_null),
        "the repeated description is not the address: {draft}"
    );
    assert_eq!(
        stored_state(&env, 6401).await.as_deref(),
        Some("OrderState:address")
    );
    client.send_text("г. Москва, ул. Ленина, д. 15, кв. 42");
    client.expect_text("Оставьте телефон").await;
}

#[tokio::test]
async fn a_read_only_database_path_exits_2_naming_the_variable() {
    // Arrange: a database made by a first run, then its disk turned read-only
    let (env, disk, _base) = env_on_small_disk().await;
    let bot = env.start_bot().await;
    assert!(bot.stop_gracefully(Duration::from_secs(20)).await.success());
    disk.remount_read_only();

    // Act
    let bot = env.spawn_bot();
    let status = bot.wait_exit(Duration::from_secs(20)).await.expect("exits");

    // Assert
    assert_eq!(status.code(), Some(2), "{}", bot.output());
    let out = bot.output();
    assert!(out.contains("DATABASE_PATH"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[tokio::test]
async fn database_and_log_files_are_private() {
    let env = test_env().await;
    let bot = env.start_bot().await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.db_path()), 0o600, "the database holds phones");
    assert_eq!(mode(env.db_path().parent().unwrap()), 0o700);
    assert_eq!(mode(&env.log_dir()), 0o750);
    assert_eq!(mode(&env.log_dir().join("bot.log")), 0o640);
    let wal = env.db_path().with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal) & 0o077, 0, "the WAL holds the same data");
    }
    drop(bot);
}

#[tokio::test]
async fn an_update_that_cannot_be_read_is_skipped_without_logging_its_text() {
    // Arrange
    let mut env = test_env().await;
    let base = with_http(&mut env);
    let bot = env.start_bot().await;
    let client = env.fake.user(6501, "Анна", "ru");

    // Act: one broken entry in the batch, then a normal message
    let broken = env.fake.push_raw(json!({
        "message": {"message_id": 1, "date": 1, "chat": "broken", "text": "секретный текст 555-12-34"}
    }));
    client.send_command("/start");

    // Assert: polling goes on past it
    client.expect_text("Здравствуйте").await;
    env.fake
        .wait_confirmed(broken, Duration::from_secs(10))
        .await;
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(
        metric(&metrics, "repair_bot_updates_unparseable_total"),
        1.0
    );
    let out = bot.full_output();
    assert!(!out.contains("секретный текст"), "{out}");
    assert!(!out.contains("555-12-34"), "{out}");
    assert!(
        out.contains("skipping an update this version cannot read"),
        "{out}"
    );
}

#[tokio::test]
async fn update_ids_past_i32_are_confirmed_without_wrapping() {
    // Arrange
    let env = test_env().await;
    let _bot = env.start_bot().await;
    env.fake.set_next_update_id(3_000_000_000);
    let client = env.fake.user(6601, "Анна", "ru");

    // Act
    let first = client.send_command("/start");
    client.expect_text("Здравствуйте").await;
    let second = client.send_command("/help");
    client.expect_text("/create_order").await;

    // Assert
    env.fake
        .wait_confirmed(second, Duration::from_secs(10))
        .await;
    assert!(env.fake.confirmed_offset() > first);
    let starts = env
        .fake
        .messages_to(6601)
        .iter()
        .filter(|m| m.text.contains("Здравствуйте"))
        .count();
    assert_eq!(starts, 1, "nothing handled twice: {}", client.transcript());
}

/// A dispatcher adds `n` comments of about 500 characters to order 1.
async fn add_long_comments(dispatcher: &TestUser, n: usize) {
    for i in 0..n {
        dispatcher.send_command("/order 1");
        let card = dispatcher.expect_text("Заявка №1 ·").await;
        dispatcher.press_button(&card, "Комментарий");
        dispatcher.expect_text("Комментарий к заявке №1").await;
        let text = format!(
            "Комментарий {i}: {}",
            "клиент просил перезвонить вечером, ".repeat(14)
        );
        dispatcher.send_text(&text[..text.char_indices().nth(480).unwrap().0]);
        dispatcher
            .expect_text("Комментарий к заявке №1 сохранён")
            .await;
    }
}

#[tokio::test]
async fn a_card_with_long_comments_stays_one_message_and_offers_them_all() {
    // Arrange
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let client = env.fake.user(6701, "Анна", "ru");
    let dispatcher = env.fake.user(DISPATCHER_ID, "Диспетчер", "ru");
    let summary = fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("Заявка №1 принята").await;
    add_long_comments(&dispatcher, 12).await;

    // Act
    dispatcher.send_command("/order 1");
    let card = dispatcher.expect_text("Заявка №1 ·").await;

    // Assert: one message within Telegram's limit, newest comment kept
    assert!(
        card.text.encode_utf16().count() <= 4096,
        "{}",
        card.text.len()
    );
    assert!(card.text.contains("Комментарий 11:"), "{}", card.text);
    assert!(!card.text.contains("Комментарий 0:"), "{}", card.text);
    assert!(card.text.contains("ранних"), "{}", card.text);
    dispatcher.press_button(&card, "Все комментарии");
    dispatcher.expect_text("Комментарии к заявке №1").await;
    let all: String = env
        .fake
        .messages_to(DISPATCHER_ID)
        .iter()
        .rev()
        .take(3)
        .map(|m| m.text.clone())
        .collect();
    for i in 0..12 {
        assert!(
            all.contains(&format!("Комментарий {i}:")),
            "comment {i} missing"
        );
    }
    assert!(env
        .fake
        .messages_to(DISPATCHER_ID)
        .iter()
        .all(|m| m.text.encode_utf16().count() <= 4096));
}

/// Host and port of a webhook URL.
fn addr_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    rest.split('/').next().unwrap().to_string()
}

/// Reads what the server sends until it closes the connection (or `limit`
/// passes); `None` when it was still open then.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn the_webhook_checks_the_secret_before_the_body_and_bounds_what_it_reads() {
    use tokio::io::AsyncWriteExt;
    // Arrange
    let mut env = test_env().await;
    let url = crate::ops_webhook::webhook_env(&mut env);
    let bot = env.start_bot().await;
    let addr = addr_of(&url);

    // A stranger announces 4 MB and sends none of it: refused at once.
    let mut stranger = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stranger
        .write_all(b"POST /telegram/hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4194304\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stranger, Duration::from_secs(3)).await;
    let answer = answer.unwrap_or_else(|| "still waiting for the body".into());
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // With the secret, a body over 1 MB is refused.
    let big = format!(
        "{{\"update_id\": 1, \"pad\": \"{}\"}}",
        "x".repeat(1_100_000)
    );
    assert_eq!(
        crate::ops_webhook::post(&url, Some(crate::ops_webhook::SECRET), big).await,
        413
    );

    // With the secret, a body that stalls is cut off.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /telegram/hook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: {}\r\nContent-Length: 1000\r\n\r\n{{",
        crate::ops_webhook::SECRET
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut slow, Duration::from_secs(20)).await;
    assert!(
        answer.is_some_and(|a| a.starts_with("HTTP/1.1 408")),
        "the stalled body is cut off"
    );

    // A connection that never sends its headers is closed.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(20))
            .await
            .is_some(),
        "a silent connection must not stay open"
    );
    assert!(bot.is_running());
}

#[tokio::test]
async fn a_flood_of_idle_connections_is_capped_and_the_server_recovers() {
    // Arrange
    let mut env = test_env().await;
    let url = crate::ops_webhook::webhook_env(&mut env);
    let bot = env.start_bot().await;
    let addr = addr_of(&url);
    let base = format!("http://{addr}");
    wait_for_get(&format!("{base}/healthz"), "healthy", |s, _| s == 200).await;

    // Act: 300 connections that send nothing
    let mut idle = Vec::new();
    for _ in 0..300 {
        if let Ok(c) = tokio::net::TcpStream::connect(&addr).await {
            idle.push(c);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Assert: the bot never holds more than its cap
    let fds = std::fs::read_dir(format!("/proc/{}/fd", bot.pid()))
        .unwrap()
        .count();
    assert!(fds < 256 + 64, "open files: {fds}");
    // The idle ones are closed by the header timeout; then the server answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = crate::ops_support::http()
            .get(format!("{base}/healthz"))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/healthz unreachable 30 s after the flood"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert!(
        metric(&metrics, "repair_bot_http_connections_refused_total") >= 40.0,
        "{metrics}"
    );
    drop(idle);
    assert!(bot.is_running());
}

#[tokio::test]
async fn refused_webhook_requests_are_counted_and_logged_once_per_minute() {
    // Arrange
    let mut env = test_env().await;
    let url = crate::ops_webhook::webhook_env(&mut env);
    let bot = env.start_bot().await;
    let base = format!("http://{}", addr_of(&url));

    // Act
    for _ in 0..300 {
        assert_eq!(
            crate::ops_webhook::post(&url, Some("wrong"), "{}".into()).await,
            401
        );
    }

    // Assert
    let (_, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(metric(&metrics, "repair_bot_webhook_rejected_total"), 300.0);
    let lines = bot.count_in_log("webhook request refused");
    assert_eq!(lines, 1, "one line per minute, not one per request");
}

#[tokio::test]
async fn healthz_is_503_while_redis_refuses_writes_and_recovers_by_itself() {
    use crate::support::{RedisOptions, RedisServer};
    // Arrange: a Redis that is out of memory (noeviction, a tiny maxmemory)
    let redis = RedisServer::start(RedisOptions {
        appendonly: false,
        requirepass: None,
    })
    .await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());
    let base = with_http(&mut env);
    let _bot = env.start_bot().await;
    wait_for_get(&format!("{base}/healthz"), "healthy", |s, _| s == 200).await;
    let client = env.fake.user(6801, "Анна", "ru");
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    let used: u64 = redis
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    redis.cli(&["CONFIG", "SET", "maxmemory", &(used + 1024).to_string()]);
    let _ = redis.try_cli(&["SET", "filler", &"x".repeat(4096)]);

    // Act: a dialog step cannot be written
    client.send_command("/create_order");
    client.expect_text("Сервис временно недоступен").await;

    // Assert: the ping still answers, but health says the store refuses writes
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["failing"], json!(["fsm"]), "{body}");

    // Memory comes back: the next write heals it
    redis.cli(&["CONFIG", "SET", "maxmemory", "0"]);
    client.send_command("/create_order");
    client.expect_text("Какая техника").await;
    wait_for_get(&format!("{base}/healthz"), "healthy again", |s, _| s == 200).await;
}
