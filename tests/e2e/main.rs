//! End-to-end tests: the real `repair-bot` binary against the fake Bot API,
//! real SQLite files and real redis-servers started per test.

mod support;

mod chaos;
mod client_dialog;
mod faults;
mod ops_cli;
mod ops_http;
mod ops_logging;
mod ops_support;
mod ops_webhook;
mod outbox;
mod postgres;
mod redis_fsm;
mod replicas;
mod restart;
mod staff;
mod startup;

use std::time::Duration;

use support::{BotMessage, TestEnv, TestUser};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_repair-bot");

/// A fresh environment: temp dir, fake Telegram, default env.
pub async fn test_env() -> TestEnv {
    TestEnv::new(BIN).await
}

/// Walks a client from `/create_order` to the confirmation screen.
pub async fn fill_order(u: &TestUser) -> BotMessage {
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Стиральная");
    u.expect_text("Опишите неисправность").await;
    u.send_text("Стиральная машина не отжимает, гудит при сливе воды");
    u.expect_text("Укажите адрес").await;
    u.send_text("г. Москва, ул. Ленина, д. 15, кв. 42");
    u.expect_text("Оставьте телефон").await;
    u.send_contact("+79991234567");
    let m = u.expect_text("Когда удобно").await;
    u.send_text("завтра после 18:00");
    let _ = m;
    u.expect_text("Проверьте заявку").await
}

/// Opens the bot's SQLite database read-write from the test, via the library.
pub async fn open_db(env: &TestEnv) -> repair_bot::db::Database {
    repair_bot::db::Database::open_sqlite(&env.db_path())
        .await
        .expect("open the bot's database")
}

/// Waits until `chat` has received a message containing `needle`.
pub async fn wait_message_to(env: &TestEnv, chat: i64, needle: &str) -> BotMessage {
    let what = format!("a message containing {needle:?} to chat {chat}");
    env.fake
        .wait_until(&what, Duration::from_secs(15), |f| {
            f.messages_to(chat).iter().any(|m| m.text.contains(needle))
        })
        .await;
    env.fake
        .messages_to(chat)
        .into_iter()
        .find(|m| m.text.contains(needle))
        .unwrap()
}
