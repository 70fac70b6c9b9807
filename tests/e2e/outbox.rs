//! Notifications go through the outbox: retried on Telegram errors (honouring
//! 429 retry_after), delivered after a crash, and never twice.

use std::time::Duration;

use crate::support::{ADMIN_ID, DISPATCHER_ID};
use crate::{fill_order, open_db, test_env};

fn count_to(env: &crate::support::TestEnv, chat: i64, needle: &str) -> usize {
    env.fake
        .messages_to(chat)
        .iter()
        .filter(|m| !m.edited && m.text.contains(needle))
        .count()
}

#[tokio::test]
async fn a_notification_pending_at_a_crash_is_delivered_once_after_restart() {
    let env = test_env().await;
    let bot = env.start_bot().await;
    let client = env.fake.user(7001, "Лев", "ru");
    let summary = fill_order(&client).await;

    // Telegram rate-limits every send while the order is confirmed.
    env.fake.fail_next(
        "sendMessage",
        1000,
        429,
        "Too Many Requests: retry after 2",
        Some(2),
    );
    let attempts_before = env.fake.calls_to("sendmessage").len();
    client.press_button(&summary, "Подтвердить");
    env.fake
        .wait_until(
            "the outbox tried and was refused",
            Duration::from_secs(10),
            |f| f.calls_to("sendmessage").len() > attempts_before,
        )
        .await;
    bot.sigkill();
    bot.wait_exit(Duration::from_secs(10))
        .await
        .expect("killed");
    drop(bot);
    let db = open_db(&env).await;
    assert_eq!(
        db.count_orders().await.unwrap(),
        1,
        "the order itself is safe"
    );
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        3,
        "receipt + admin + dispatcher still pending"
    );
    assert_eq!(count_to(&env, DISPATCHER_ID, "Новая заявка №1"), 0);

    // Telegram recovers; a new process delivers what was pending.
    env.fake.clear_faults();
    let _bot = env.start_bot().await;
    client.expect_text("Заявка №1 принята").await;
    env.fake
        .wait_until(
            "staff notified after the restart",
            Duration::from_secs(15),
            |f| {
                let n = |chat| {
                    f.messages_to(chat)
                        .iter()
                        .filter(|m| m.text.contains("Новая заявка №1"))
                        .count()
                };
                n(DISPATCHER_ID) >= 1 && n(ADMIN_ID) >= 1
            },
        )
        .await;
    let db = open_db(&env).await;
    for _ in 0..50 {
        if db.outbox_backlog().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(db.outbox_backlog().await.unwrap(), 0);
    // Give a duplicate every chance to show up before counting.
    client.expect_silence(Duration::from_millis(1500)).await;
    assert_eq!(
        count_to(&env, DISPATCHER_ID, "Новая заявка №1"),
        1,
        "exactly once"
    );
    assert_eq!(
        count_to(&env, ADMIN_ID, "Новая заявка №1"),
        1,
        "exactly once"
    );
    assert_eq!(count_to(&env, 7001, "Заявка №1 принята"), 1, "exactly once");
}

#[tokio::test]
async fn a_blocked_chat_is_given_up_on_while_others_still_get_theirs() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    env.fake.block_chat(ADMIN_ID);
    let client = env.fake.user(7002, "Майя", "ru");
    let summary = fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("Заявка №1 принята").await;
    crate::wait_message_to(&env, DISPATCHER_ID, "Новая заявка №1").await;
    let db = open_db(&env).await;
    for _ in 0..50 {
        if db.outbox_backlog().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        0,
        "the refused notification is given up, not retried forever"
    );
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    assert!(
        log.contains("notification refused for good"),
        "and the operator can see it"
    );
}
