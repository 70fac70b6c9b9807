//! Operator subcommands of the real binary: `check`, `fsm stats`, `fsm migrate`.

use std::time::Duration;

use crate::ops_support::{free_port, run_cli};
use crate::support::{RedisOptions, RedisServer, TestUser, TEST_TOKEN};
use crate::test_env;

async fn aof_redis() -> RedisServer {
    RedisServer::start(RedisOptions {
        appendonly: true,
        requirepass: None,
    })
    .await
}

#[tokio::test]
async fn help_lists_every_subcommand() {
    let env = test_env().await;
    let run = run_cli(&env, &["--help"]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    for word in ["run", "check", "fsm"] {
        assert!(run.stdout.contains(word), "{word}: {}", run.stdout);
    }
    let fsm = run_cli(&env, &["fsm", "--help"]).await;
    assert!(
        fsm.stdout.contains("stats") && fsm.stdout.contains("migrate"),
        "{}",
        fsm.stdout
    );
}

#[tokio::test]
async fn check_passes_on_a_healthy_setup() {
    // Arrange
    let redis = aof_redis().await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());

    // Act
    let run = run_cli(&env, &["check"]).await;

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.all());
    for line in [
        "✓ Конфигурация / config",
        "✓ Bot API: getMe ok, @repair_test_bot",
        "✓ Redis: PING ok at redis://127.0.0.1:",
        "✓ Redis version:",
        "✓ Redis AOF",
        "✓ База данных / database:",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
    assert!(env.db_path().exists(), "the database was created");
}

#[tokio::test]
async fn check_fails_with_a_fix_line_when_redis_is_down() {
    // Arrange: a password in the URL, nothing listening on the port.
    let mut env = test_env().await;
    let port = free_port();
    env.set(
        "REDIS_URL",
        format!("redis://:very-secret-pw@127.0.0.1:{port}/0"),
    );

    // Act
    let run = run_cli(&env, &["check"]).await;

    // Assert
    assert_ne!(run.code, Some(0), "{}", run.all());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ Redis"))
        .unwrap_or_else(|| panic!("no ✗ Redis line:\n{}", run.stdout));
    assert!(
        line.contains(&format!("redis://:***@127.0.0.1:{port}/0")),
        "{line}"
    );
    assert!(line.contains("запустите Redis"), "{line}");
    assert!(line.contains("DEV_MODE=true"), "{line}");
    assert!(!run.all().contains("very-secret-pw"), "{}", run.all());
    assert!(run.stdout.contains("✓ Bot API"), "{}", run.stdout);
}

#[tokio::test]
async fn check_fails_when_aof_is_off() {
    let redis = RedisServer::start(RedisOptions::default()).await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());
    let run = run_cli(&env, &["check"]).await;
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("✗ Redis AOF"), "{}", run.stdout);
    assert!(run.stdout.contains("appendonly yes"), "{}", run.stdout);
}

#[tokio::test]
async fn check_fails_when_the_bot_api_is_unreachable_without_printing_the_token() {
    // Arrange
    let mut env = test_env().await;
    let port = free_port();
    env.set("TELEGRAM_API_URL", format!("http://127.0.0.1:{port}"));

    // Act
    let run = run_cli(&env, &["check"]).await;

    // Assert
    assert_ne!(run.code, Some(0), "{}", run.all());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ Bot API"))
        .unwrap_or_else(|| panic!("no ✗ Bot API line:\n{}", run.stdout));
    assert!(line.contains("TELEGRAM_API_URL"), "{line}");
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(!run.all().contains(TEST_TOKEN), "{}", run.all());
    assert!(!run.all().contains("TEST-TOKEN"), "{}", run.all());
    assert!(run.stdout.contains("✓ База данных"), "{}", run.stdout);
}

#[tokio::test]
async fn check_reports_a_config_error_as_a_failed_check() {
    let mut env = test_env().await;
    env.set("ADMIN_IDS", "12,x");
    let run = run_cli(&env, &["check"]).await;
    assert_ne!(run.code, Some(0));
    assert!(
        run.stdout.contains("✗ Конфигурация / config: ADMIN_IDS"),
        "{}",
        run.stdout
    );
}

async fn walk_to(u: &TestUser, address: bool) {
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Холодильник");
    u.expect_text("Опишите неисправность").await;
    if address {
        u.send_text("Не морозит морозильная камера");
        u.expect_text("Укажите адрес").await;
    }
}

#[tokio::test]
async fn fsm_stats_counts_dialogs_per_state() {
    // Arrange: two dialogs at the description step, one at the address step.
    let env = test_env().await;
    let _bot = env.start_bot().await;
    walk_to(&env.fake.user(7301, "А", "ru"), false).await;
    walk_to(&env.fake.user(7302, "Б", "ru"), false).await;
    walk_to(&env.fake.user(7303, "В", "ru"), true).await;

    // Act
    let run = run_cli(&env, &["fsm", "stats"]).await;

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("sqlite"), "{}", run.stdout);
    assert!(
        run.stdout.contains("OrderState:description: 2"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("OrderState:address: 1"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Всего / total: 3"), "{}", run.stdout);
}

#[tokio::test]
async fn fsm_migrate_moves_a_half_filled_dialog_to_redis_and_back() {
    // Arrange: a dialog at the address step, stored in SQLite.
    let redis = aof_redis().await;
    let mut env = test_env().await;
    let bot = env.start_bot().await;
    let u = env.fake.user(7401, "Мария", "ru");
    walk_to(&u, true).await;
    assert!(bot.stop_gracefully(Duration::from_secs(20)).await.success());
    drop(bot);

    // Act: SQLite → Redis
    env.set("REDIS_URL", redis.url());
    let run = run_cli(
        &env,
        &[
            "fsm",
            "migrate",
            "--from",
            "sqlite",
            "--to",
            "redis",
            "--delete-source",
        ],
    )
    .await;

    // Assert
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("copied and verified: 1 dialogs"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("source cleared"), "{}", run.stdout);
    assert_eq!(
        redis.cli(&["GET", "aiogram:fsm:state:7401:7401"]),
        "OrderState:address"
    );
    let stats = run_cli(&env, &["fsm", "stats"]).await;
    assert!(
        stats.stdout.contains("redis") && stats.stdout.contains("Всего / total: 1"),
        "{}",
        stats.stdout
    );

    // The bot on Redis continues the dialog.
    let bot = env.start_bot().await;
    assert!(bot.output().contains("RedisStorage"), "{}", bot.output());
    u.send_text("г. Казань, ул. Баумана, д. 3");
    u.expect_text("Оставьте телефон").await;
    assert!(bot.stop_gracefully(Duration::from_secs(20)).await.success());
    drop(bot);

    // Act: Redis → SQLite (keeping the source this time)
    let back = run_cli(
        &env,
        &["fsm", "migrate", "--from", "redis", "--to", "sqlite"],
    )
    .await;
    assert_eq!(back.code, Some(0), "{}", back.all());
    assert!(
        back.stdout.contains("copied and verified: 1 dialogs"),
        "{}",
        back.stdout
    );
    assert_eq!(
        redis.cli(&["GET", "aiogram:fsm:state:7401:7401"]),
        "OrderState:phone",
        "without --delete-source the source stays"
    );

    // The bot on SQLite continues from the phone step with everything typed so far.
    env.unset("REDIS_URL");
    let bot = env.start_bot().await;
    assert!(bot.output().contains("SqliteStorage"), "{}", bot.output());
    u.send_text("+7 912 000-11-22");
    let visit = u.expect_text("Когда удобно").await;
    u.press_button(&visit, "В любое время");
    let summary = u.expect_text("Проверьте заявку").await;
    assert!(summary.text.contains("Холодильник"), "{}", summary.text);
    assert!(summary.text.contains("Не морозит"), "{}", summary.text);
    assert!(summary.text.contains("Баумана"), "{}", summary.text);
}

#[tokio::test]
async fn fsm_migrate_refuses_the_same_store_and_a_missing_redis_url() {
    let env = test_env().await;
    let same = run_cli(
        &env,
        &["fsm", "migrate", "--from", "sqlite", "--to", "sqlite"],
    )
    .await;
    assert_ne!(same.code, Some(0));
    assert!(same.stdout.contains("nothing to migrate"), "{}", same.all());
    let no_url = run_cli(
        &env,
        &["fsm", "migrate", "--from", "sqlite", "--to", "redis"],
    )
    .await;
    assert_ne!(no_url.code, Some(0));
    assert!(
        no_url.stdout.contains("REDIS_URL is not set"),
        "{}",
        no_url.all()
    );
}
