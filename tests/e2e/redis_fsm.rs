//! Redis as the dialog store, exactly as the runbook checks it with redis-cli,
//! and through the failures an operator meets: bot restarts, Redis restarts,
//! Redis down at start or killed mid-dialog, a password, corrupted state.
//! Each test starts its own redis-server, so it may kill or restart it.

use std::time::Duration;

use crate::restart::{finish_after_restart, walk_to_address};
use crate::support::{RedisOptions, RedisServer, TestEnv, TestUser};
use crate::{fill_order, open_db, test_env};

const UNAVAILABLE: &str = "Сервис временно недоступен. Ваши ответы сохранены";
const DIALOG_RESET: &str = "Не удалось восстановить вашу незаконченную заявку";

/// A test environment whose bot uses `redis` for dialog state.
async fn redis_env(redis: &RedisServer) -> TestEnv {
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());
    env
}

/// `KEYS pattern`, sorted (redis-cli prints one key a line, nothing when empty).
fn keys(redis: &RedisServer, pattern: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis
        .cli(&["KEYS", pattern])
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    keys.sort();
    keys
}

fn state_key(user: i64) -> String {
    format!("aiogram:fsm:state:{user}:{user}")
}

fn data_key(user: i64) -> String {
    format!("aiogram:fsm:data:{user}:{user}")
}

/// Walks a client to the description step (washing machine chosen).
async fn walk_to_description(u: &TestUser) {
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Стиральная");
    u.expect_text("Опишите неисправность").await;
}

#[tokio::test]
async fn dialog_continues_after_a_bot_sigkill_with_redis_as_the_store() {
    // Arrange
    let redis = RedisServer::start(RedisOptions::default()).await;
    let env = redis_env(&redis).await;
    let bot = env.start_bot().await;
    assert!(
        bot.output().contains(&format!(
            "Используется RedisStorage для FSM: {}",
            redis.url()
        )),
        "{}",
        bot.output()
    );
    let u = env.fake.user(7001, "Сергей", "ru");
    walk_to_address(&u).await;
    assert_eq!(redis.cli(&["GET", &state_key(7001)]), "OrderState:address");

    // Act
    bot.sigkill();
    assert!(bot.wait_exit(Duration::from_secs(10)).await.is_some());
    drop(bot);
    let _bot = env.start_bot().await;

    // Assert
    finish_after_restart(&env, &u).await;
    assert!(
        keys(&redis, "aiogram:*").is_empty(),
        "a filed order ends the dialog"
    );
}

/// The runbook's redis-cli checks, under `prefix` (`None`: the default `aiogram`).
async fn check_runbook_layout(prefix: Option<&str>) {
    let redis = RedisServer::start(RedisOptions::default()).await;
    let mut env = redis_env(&redis).await;
    if let Some(p) = prefix {
        env.set("FSM_KEY_PREFIX", p);
    }
    let p = prefix.unwrap_or("aiogram");
    let _bot = env.start_bot().await;
    let u = env.fake.user(7002, "Анна", "ru");

    walk_to_description(&u).await;

    let state = format!("{p}:fsm:state:7002:7002");
    let data = format!("{p}:fsm:data:7002:7002");
    let mut expected = vec![data.clone(), state.clone()];
    expected.sort();
    assert_eq!(keys(&redis, &format!("{p}:*")), expected);
    if prefix.is_some() {
        assert!(
            keys(&redis, "aiogram:*").is_empty(),
            "only the custom prefix is used"
        );
    }
    assert_eq!(redis.cli(&["TYPE", &state]), "string");
    assert_eq!(redis.cli(&["TYPE", &data]), "string");
    assert_eq!(redis.cli(&["GET", &state]), "OrderState:description");
    let json: serde_json::Value =
        serde_json::from_str(&redis.cli(&["GET", &data])).expect("the data key holds JSON");
    let object = json.as_object().expect("a JSON object");
    assert_eq!(object["equipment"], "washing_machine", "{json}");

    u.send_command("/cancel");
    u.expect_text("Оформление заявки отменено").await;
    assert!(
        keys(&redis, &format!("{p}:*")).is_empty(),
        "/cancel deletes both keys: {:?}",
        keys(&redis, "*")
    );
}

#[tokio::test]
async fn redis_keys_are_the_runbook_layout_and_cancel_removes_them() {
    check_runbook_layout(None).await;
}

#[tokio::test]
async fn a_custom_fsm_key_prefix_replaces_aiogram_in_every_key() {
    check_runbook_layout(Some("repairbot")).await;
}

#[tokio::test]
async fn dialog_survives_a_redis_restart_with_aof() {
    // Arrange
    let mut redis = RedisServer::start(RedisOptions {
        appendonly: true,
        ..Default::default()
    })
    .await;
    let env = redis_env(&redis).await;
    let bot = env.start_bot().await;
    let u = env.fake.user(7003, "Пётр", "ru");
    walk_to_address(&u).await;

    // Act: Redis restarts (SIGTERM, reload from the AOF); the bot keeps running.
    redis.restart().await;
    assert_eq!(
        redis.cli(&["GET", &state_key(7003)]),
        "OrderState:address",
        "AOF kept the state"
    );

    // Assert: the very next message continues the dialog.
    u.send_text("г. Сочи, ул. Морская, д. 1");
    u.expect_text("Оставьте телефон").await;
    assert_eq!(redis.cli(&["GET", &state_key(7003)]), "OrderState:phone");
    assert!(bot.is_running());
    assert!(
        !u.transcript().contains(UNAVAILABLE),
        "a restarted Redis is picked up without bothering the user:\n{}",
        u.transcript()
    );
}

#[tokio::test]
async fn a_password_in_redis_url_works_and_never_reaches_the_logs() {
    // Arrange
    let password = "Zq8-secret-Pa55word";
    let redis = RedisServer::start(RedisOptions {
        requirepass: Some(password.into()),
        ..Default::default()
    })
    .await;
    let env = redis_env(&redis).await;
    assert_eq!(
        env.get("REDIS_URL"),
        Some(format!("redis://:{password}@127.0.0.1:{}/0", redis.port()).as_str())
    );

    // Act
    let bot = env.start_bot().await;
    let u = env.fake.user(7004, "Ирина", "ru");
    walk_to_description(&u).await;

    // Assert
    assert_eq!(
        redis.cli(&["GET", &state_key(7004)]),
        "OrderState:description"
    );
    let masked = format!(
        "Используется RedisStorage для FSM: redis://:***@127.0.0.1:{}/0",
        redis.port()
    );
    let out = bot.output();
    assert!(out.contains(&masked), "{out}");
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    assert!(log.contains(&masked), "{log}");
    assert!(!out.contains(password), "password in stdout:\n{out}");
    assert!(!log.contains(password), "password in bot.log:\n{log}");
}

#[tokio::test]
async fn redis_down_at_start_is_one_clear_error_and_a_non_zero_exit() {
    // Arrange: a port nobody listens on, and a password that must stay hidden.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut env = test_env().await;
    env.set(
        "REDIS_URL",
        format!("redis://:hunter2-Secret@127.0.0.1:{port}/0"),
    );

    // Act
    let bot = env.spawn_bot();
    let status = bot
        .wait_exit(Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("still running:\n{}", bot.output_tail(40)));

    // Assert
    assert!(!status.success(), "{status:?}");
    let out = bot.output();
    let masked = format!("redis://:***@127.0.0.1:{port}/0");
    assert!(
        out.contains(&format!("Не удалось подключиться к Redis ({masked})")),
        "{out}"
    );
    for hint in ["redis-cli ping", "REDIS_URL", "DEV_MODE=true"] {
        assert!(out.contains(hint), "the error says to check {hint}: {out}");
    }
    assert!(!out.contains("panicked"), "{out}");
    assert!(!out.to_lowercase().contains("stack backtrace"), "{out}");
    assert!(!out.contains("hunter2-Secret"), "{out}");
    assert!(!out.contains(crate::support::STARTED_LINE), "{out}");
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap_or_default();
    assert!(!log.contains("hunter2-Secret"), "{log}");
}

#[tokio::test]
async fn redis_killed_mid_dialog_keeps_the_answers_and_the_bot_reconnects() {
    // Arrange
    let mut redis = RedisServer::start(RedisOptions {
        appendonly: true,
        ..Default::default()
    })
    .await;
    let env = redis_env(&redis).await;
    let bot = env.start_bot().await;
    let u = env.fake.user(7005, "Сергей", "ru");
    walk_to_address(&u).await;

    // Act: Redis crashes; the client answers the address question.
    redis.kill();
    u.send_text("г. Сочи, ул. Морская, д. 1");

    // Assert: told to retry, nothing reset, bot still up.
    let reply = u.expect_text(UNAVAILABLE).await;
    assert!(reply.text.contains("повторите"), "{}", reply.text);
    assert!(bot.is_running(), "{}", bot.output_tail(40));
    let transcript = u.transcript();
    let after_kill = &transcript[transcript.rfind("Укажите адрес").unwrap()..];
    assert!(
        !after_kill.contains("Какая техника") && !after_kill.contains(DIALOG_RESET),
        "the dialog was not reset:\n{transcript}"
    );

    // Redis comes back on the same port with its AOF: the client resends.
    redis.restart().await;
    assert_eq!(redis.cli(&["GET", &state_key(7005)]), "OrderState:address");
    finish_after_restart(&env, &u).await;
    // The outage is logged: on the read, or on the write if Redis died in between.
    let out = bot.output();
    assert!(
        out.contains("dialog storage unavailable") || out.contains("could not store the dialog"),
        "{out}"
    );
}

#[tokio::test]
async fn dev_mode_with_a_live_redis_writes_nothing_to_it() {
    // Arrange
    let redis = RedisServer::start(RedisOptions::default()).await;
    let mut env = redis_env(&redis).await;
    env.set("DEV_MODE", "true");

    // Act
    let bot = env.start_bot().await;
    let u = env.fake.user(7006, "Ольга", "ru");
    walk_to_description(&u).await;
    u.send_text("Не работает");
    u.expect_text("Укажите адрес").await;

    // Assert
    let out = bot.output();
    assert!(out.contains("Используется MemoryStorage для FSM"), "{out}");
    assert!(!out.contains("Используется RedisStorage"), "{out}");
    assert_eq!(redis.cli(&["DBSIZE"]), "0", "{:?}", keys(&redis, "*"));
}

/// Writes a dialog for `user` straight into Redis, as a foreign tool would.
fn plant(redis: &RedisServer, user: i64, state: &str, data: &str) {
    assert_eq!(redis.cli(&["SET", &state_key(user), state]), "OK");
    assert_eq!(redis.cli(&["SET", &data_key(user), data]), "OK");
}

/// The client writes into a corrupted dialog: told, offered /create_order, the
/// keys are gone, the log names the state; a new order then works.
async fn check_reset_of(redis: &RedisServer, env: &TestEnv, user: i64, state: &str, data: &str) {
    plant(redis, user, state, data);
    let u = env.fake.user(user, "Лена", "ru");
    u.send_text("г. Москва, ул. Мира, д. 1");
    let reply = u.expect_text(DIALOG_RESET).await;
    assert!(reply.text.contains("/create_order"), "{}", reply.text);
    assert!(
        keys(redis, &format!("aiogram:fsm:*:{user}:{user}")).is_empty(),
        "the undecodable dialog is cleared"
    );
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("undecodable dialog state")
            && l.contains(state)
            && l.contains(&user.to_string())),
        "the log names the state and the user:\n{log}"
    );
    let summary = fill_order(&u).await;
    u.press_button(&summary, "Подтвердить");
    u.expect_text("принята").await;
}

#[tokio::test]
async fn undecodable_state_in_redis_is_reported_cleared_and_a_new_order_works() {
    let redis = RedisServer::start(RedisOptions::default()).await;
    let env = redis_env(&redis).await;
    let _bot = env.start_bot().await;

    check_reset_of(&redis, &env, 7007, "OrderState:address", "{\"equipment\":").await;
    check_reset_of(&redis, &env, 7008, "OrderState:teleport", "{\"_v\":1}").await;

    let db = open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 2);
}

#[tokio::test]
async fn a_legacy_aiogram_dialog_in_redis_is_migrated_and_continues() {
    // Arrange: what the Python bot left behind (no `_v`, its own field names).
    let redis = RedisServer::start(RedisOptions::default()).await;
    let env = redis_env(&redis).await;
    let _bot = env.start_bot().await;
    plant(
        &redis,
        7009,
        "OrderState:address",
        r#"{"equipment_type": "Стиральная машина", "problem": "Не сливает воду"}"#,
    );
    let u = env.fake.user(7009, "Виктор", "ru");

    // Act
    u.send_text("г. Тверь, ул. Советская, д. 3");

    // Assert
    u.expect_text("Оставьте телефон").await;
    assert_eq!(redis.cli(&["GET", &state_key(7009)]), "OrderState:phone");
    let data: serde_json::Value =
        serde_json::from_str(&redis.cli(&["GET", &data_key(7009)])).unwrap();
    assert_eq!(data["_v"], 1, "stored again in the current format: {data}");
    assert_eq!(data["equipment"], "washing_machine", "{data}");
    assert_eq!(data["description"], "Не сливает воду", "{data}");
    u.send_text("+7 999 111-22-33");
    let visit = u.expect_text("Когда удобно").await;
    u.press_button(&visit, "В любое время");
    let summary = u.expect_text("Проверьте заявку").await;
    assert!(
        summary.text.contains("Стиральная машина") && summary.text.contains("Не сливает воду"),
        "{}",
        summary.text
    );
    u.press_button(&summary, "Подтвердить");
    u.expect_text("Заявка №1 принята").await;
    let order = open_db(&env).await.order(1).await.unwrap().unwrap();
    assert_eq!(order.description, "Не сливает воду");
    assert_eq!(order.address, "г. Тверь, ул. Советская, д. 3");
}

/// Sends `sig` (`-STOP`, `-CONT`) to the redis-server.
fn signal_redis(redis: &RedisServer, sig: &str) {
    let pid = redis.pid().expect("redis-server is running").to_string();
    let status = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

#[tokio::test]
async fn a_hung_redis_costs_one_timeout_not_a_hung_chat() {
    // Arrange
    let redis = RedisServer::start(RedisOptions::default()).await;
    let env = redis_env(&redis).await;
    let bot = env.start_bot().await;
    let u = env.fake.user(7010, "Сергей", "ru");
    walk_to_address(&u).await;

    // Act: Redis stops answering but keeps the connection open.
    signal_redis(&redis, "-STOP");
    u.send_text("г. Сочи, ул. Морская, д. 1");

    // Assert: the per-command timeout turns it into the "kept, retry" reply.
    let reply = u.expect_text(UNAVAILABLE).await;
    signal_redis(&redis, "-CONT");
    assert!(reply.text.contains("повторите"), "{}", reply.text);
    assert!(bot.is_running());
    assert_eq!(redis.cli(&["GET", &state_key(7010)]), "OrderState:address");
    finish_after_restart(&env, &u).await;
}
