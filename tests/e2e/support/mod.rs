//! End-to-end test support: a fake Telegram Bot API ([`fake_api`]), the bot as a child
//! process ([`bot_process`]) and a private redis-server ([`redis_server`]).
//!
//! Typical use:
//! ```ignore
//! let env = TestEnv::new(env!("CARGO_BIN_EXE_repair-bot")).await;
//! let bot = env.start_bot().await;
//! let user = env.fake.user(42, "Иван", "ru");
//! user.send_command("/start");
//! let msg = user.expect_text("Здравствуйте").await;
//! user.press_button(&msg, "Заказать");
//! ```
#![allow(dead_code, unused_imports)]

pub mod bot_process;
pub mod fake_api;
pub mod nginx;
pub mod redis_server;

/// A port nothing listens on right now (bound to 127.0.0.1:0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

pub use bot_process::{BotProcess, TestEnv, ADMIN_ID, DISPATCHER_ID, STARTED_LINE, TEST_TOKEN};
pub use fake_api::{
    ApiCall, BotMessage, CallbackAnswer, FakeTelegram, SentDocument, TestUser, WebhookConfig,
};
pub use nginx::Nginx;
pub use redis_server::{RedisOptions, RedisServer};
