//! End-to-end tests: the real `repair-bot` binary against the fake Bot API,
//! real SQLite files and real redis-servers started per test.

mod support;

mod backups;
mod chaos;
mod client_dialog;
mod desk;
mod faults;
mod flood;
mod groups;
mod hardening;
mod import;
mod ops_cli;
mod ops_http;
mod ops_logging;
mod ops_support;
mod ops_webhook;
mod outbox;
mod postgres;
mod redis_fsm;
mod replicas;
mod reports;
mod restart;
mod scheduler;
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

/// The answers of a closing dialog after the work (or of an admin's money
/// correction, which starts at the total).
pub struct CloseAnswers<'a> {
    pub total: &'a str,
    pub materials: &'a str,
    pub out_of_city: bool,
    pub review: bool,
}

/// Answers the money questions of a closing (or correcting) dialog on
/// order `id`, up to the review, by `u`.
pub async fn answer_money(u: &TestUser, id: i64, a: CloseAnswers<'_>) {
    u.send_text(a.total);
    u.expect_text(&format!(
        "Сколько стоили материалы (запчасти, расходники) по заявке №{id}"
    ))
    .await;
    u.send_text(a.materials);
    let m = u
        .expect_text(&format!("Заявка №{id} была за городом?"))
        .await;
    u.press_button(&m, if a.out_of_city { "Да" } else { "Нет" });
    let m = u.expect_text("Клиент оставил отзыв?").await;
    u.press_button(&m, if a.review { "Да" } else { "Нет" });
}

/// Opens the bot's SQLite database read-write from the test, via the library.
pub async fn open_db(env: &TestEnv) -> repair_bot::db::Database {
    repair_bot::db::Database::open_sqlite(&env.db_path())
        .await
        .expect("open the bot's database")
}

/// The dialog state stored for a private chat in the SQLite FSM store.
pub async fn stored_state(env: &TestEnv, user: i64) -> Option<String> {
    let db = open_db(env).await;
    sqlx::query_scalar("SELECT state FROM fsm_state WHERE chat_id = ? AND user_id = ?")
        .bind(user)
        .bind(user)
        .fetch_optional(db.sqlite_pool().unwrap())
        .await
        .unwrap()
}

/// The dialog data stored for a private chat in the SQLite FSM store, as JSON.
pub async fn stored_data(env: &TestEnv, user: i64) -> Option<serde_json::Value> {
    let db = open_db(env).await;
    let data: Option<String> =
        sqlx::query_scalar("SELECT data FROM fsm_state WHERE chat_id = ? AND user_id = ?")
            .bind(user)
            .bind(user)
            .fetch_optional(db.sqlite_pool().unwrap())
            .await
            .unwrap();
    data.map(|d| serde_json::from_str(&d).unwrap())
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

/// xorshift64*: a tiny deterministic generator, so a failing randomised run
/// (fuzz, chaos) can be replayed from its seed.
pub struct Rng {
    state: u64,
    /// Where this run started: print it in failure messages.
    pub seed: u64,
}

impl Rng {
    /// A generator seeded from `var` when set, else from the clock; the seed
    /// is printed so a failure can be replayed with `var=<seed>`.
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("{var}={seed} replays this run");
        Rng { state: seed, seed }
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
