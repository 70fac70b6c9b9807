//! Secrets never reach the logs: with a bot token and a Redis password set,
//! neither appears in stdout or logs/bot.log, also on failure paths whose
//! errors quote a URL (the Bot API URL carries the token in its path).

use std::time::Duration;

use crate::ops_support::free_port;
use crate::support::{RedisOptions, RedisServer, TEST_TOKEN};
use crate::test_env;

const REDIS_PASSWORD: &str = "Redis-Pa55word-9f3k";

#[tokio::test]
async fn token_and_redis_password_never_appear_in_logs() {
    // Arrange
    let mut redis = RedisServer::start(RedisOptions {
        appendonly: true,
        requirepass: Some(REDIS_PASSWORD.into()),
    })
    .await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());
    let token_secret = TEST_TOKEN.split(':').nth(1).unwrap();

    // Act 1: the Bot API is unreachable for a while (errors quote the request URL).
    let real_api = env.get("TELEGRAM_API_URL").unwrap().to_string();
    let dead_port = free_port();
    env.set("TELEGRAM_API_URL", format!("http://127.0.0.1:{dead_port}"));
    // The most verbose level: HTTP client internals log the URLs they dial.
    env.set("LOG_LEVEL", "trace");
    let bot = env.spawn_bot();
    bot.wait_for_log("Bot API is not reachable yet", Duration::from_secs(30))
        .await;
    assert!(bot.stop_gracefully(Duration::from_secs(20)).await.success());
    let unreachable_output = bot.output();
    drop(bot);

    // Act 2: a normal run; Redis dies mid-dialog, then the password is wrong.
    env.set("TELEGRAM_API_URL", real_api);
    let bot = env.start_bot().await;
    let u = env.fake.user(7501, "Глеб", "ru");
    u.send_command("/create_order");
    u.expect_text("Какая техника").await;
    redis.kill();
    u.send_text("/create_order");
    bot.wait_for_log("dialog storage unavailable", Duration::from_secs(30))
        .await;
    assert!(bot.stop_gracefully(Duration::from_secs(30)).await.success());
    drop(bot);
    redis.restart().await;
    env.set(
        "REDIS_URL",
        redis.url().replace(REDIS_PASSWORD, "wrong-Pa55word-x1"),
    );
    let refused = env.spawn_bot();
    let status = refused
        .wait_exit(Duration::from_secs(60))
        .await
        .expect("a bot that cannot log in to Redis exits");
    assert!(!status.success());
    drop(refused);

    // Assert: the failure paths did log, with the secrets masked.
    assert!(
        unreachable_output.contains(&format!("http://127.0.0.1:{dead_port}/")),
        "the unreachable-API path logs the URL it dials:\n{unreachable_output}"
    );
    let stdout = std::fs::read_to_string(env.path().join("bot-output.log")).unwrap();
    let file_log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    assert!(
        stdout.contains("Используется RedisStorage для FSM: redis://:***@127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Не удалось подключиться к Redis (redis://:***@127.0.0.1:"),
        "the Redis failure names the masked URL: {stdout}"
    );
    for (name, text) in [("stdout", &stdout), ("logs/bot.log", &file_log)] {
        assert!(!text.contains(TEST_TOKEN), "token in {name}:\n{text}");
        assert!(
            !text.contains(token_secret),
            "token part in {name}:\n{text}"
        );
        assert!(
            !text.contains(REDIS_PASSWORD),
            "Redis password in {name}:\n{text}"
        );
        assert!(
            !text.contains("wrong-Pa55word-x1"),
            "wrong password in {name}:\n{text}"
        );
    }
}
