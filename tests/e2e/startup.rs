//! Start-up: configuration errors, the storage log lines, the start-up line.

use std::time::Duration;

use crate::test_env;

#[tokio::test]
async fn missing_token_is_one_clear_line_and_exit_code_2() {
    let mut env = test_env().await;
    env.unset("BOT_TOKEN");
    let bot = env.spawn_bot();
    let status = bot.wait_exit(Duration::from_secs(10)).await.expect("exits");
    assert_eq!(status.code(), Some(2));
    let out = bot.output();
    assert!(out.contains("BOT_TOKEN: is not set"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
}

#[tokio::test]
async fn malformed_admin_ids_name_the_variable() {
    let mut env = test_env().await;
    env.set("ADMIN_IDS", "123,abc");
    let bot = env.spawn_bot();
    let status = bot.wait_exit(Duration::from_secs(10)).await.expect("exits");
    assert_eq!(status.code(), Some(2));
    assert!(
        bot.output()
            .contains("ADMIN_IDS: \"abc\" is not a Telegram user id"),
        "{}",
        bot.output()
    );
}

#[tokio::test]
async fn defaults_use_sqlite_and_log_it_to_bot_log() {
    let mut env = test_env().await;
    let nested = env.path().join("deep/er/bot_database.db");
    env.set("DATABASE_PATH", nested.display().to_string());
    let _bot = env.start_bot().await;
    // One menu per language, texts from the locale files.
    let menus: Vec<String> = env
        .fake
        .calls_to("setmycommands")
        .iter()
        .map(|c| c.params.to_string())
        .collect();
    assert!(
        menus
            .iter()
            .any(|m| m.contains("Оставить заявку на ремонт") && !m.contains("language_code")),
        "Russian menu by default: {menus:?}"
    );
    assert!(
        menus
            .iter()
            .any(|m| m.contains("File a repair order") && m.contains("\"language_code\":\"en\"")),
        "English menu for English users: {menus:?}"
    );
    assert!(
        nested.exists(),
        "database and its parent directories are created"
    );
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    let storage_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.to_lowercase().contains("storage"))
        .collect();
    assert!(
        storage_lines
            .iter()
            .any(|l| l.contains("Используется SqliteStorage для FSM")),
        "grep -i storage shows the store: {storage_lines:?}"
    );
    assert!(log.contains("Бот успешно запущен!"));
    assert!(
        !log.contains("TEST-TOKEN"),
        "the token never appears in the log"
    );
}

#[tokio::test]
async fn dev_mode_uses_memory_even_with_redis_url() {
    let mut env = test_env().await;
    // Nothing listens on port 1: a connection attempt would fail the start.
    env.set("REDIS_URL", "redis://127.0.0.1:1/0")
        .set("DEV_MODE", "true");
    let bot = env.start_bot().await;
    assert!(
        bot.output().contains("Используется MemoryStorage для FSM"),
        "{}",
        bot.output()
    );
}
