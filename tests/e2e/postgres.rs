//! Orders in PostgreSQL (`DATABASE_URL`): the real binary against the
//! PostgreSQL server of the machine (`TEST_DATABASE_URL`, default the CI one at
//! `postgres://postgres@127.0.0.1:5432/test`), each test in a fresh schema
//! named through the URL's `options=-c search_path=…`.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::FutureExt;
use repair_bot::config::mask_url_password;
use sqlx::PgPool;

use crate::support::{TestEnv, DISPATCHER_ID};
use crate::{fill_order, test_env};

const MASTER: i64 = 3001;
const CLIENT: i64 = 5001;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema of its own for one test; `drop` removes it.
pub(crate) struct Schema {
    pub(crate) admin: PgPool,
    pub(crate) name: String,
}

impl Schema {
    pub(crate) async fn create() -> Schema {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let name = format!(
            "e2e_{}_{stamp}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgPool::connect(&admin_url()).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL for the tests is not reachable at {}: {e} (set TEST_DATABASE_URL)",
                admin_url()
            )
        });
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await
            .unwrap();
        Schema { admin, name }
    }

    /// `DATABASE_URL` for the bot: the schema rides in the connection options.
    pub(crate) fn url(&self) -> String {
        let base = admin_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{}", self.name)
    }

    async fn count(&self, sql_after_from: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {}.{sql_after_from}",
            self.name
        ))
        .fetch_one(&self.admin)
        .await
        .unwrap()
    }

    pub(crate) async fn drop(self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
        self.admin.close().await;
    }
}

async fn env_with(schema: &Schema) -> TestEnv {
    let mut env = test_env().await;
    env.set("DATABASE_URL", schema.url());
    env
}

#[tokio::test]
async fn orders_filed_and_assigned_are_stored_in_postgres() {
    let schema = Schema::create().await;
    // The schema is dropped even when an assertion fails.
    let outcome = AssertUnwindSafe(file_and_assign(&schema))
        .catch_unwind()
        .await;
    schema.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn file_and_assign(schema: &Schema) {
    let env = env_with(schema).await;
    let bot = env.start_bot().await;
    let out = bot.output();
    assert!(
        out.contains(&format!(
            "Используется PostgreSQL для заявок: {}",
            mask_url_password(&schema.url())
        )),
        "{out}"
    );
    // No REDIS_URL: dialogs still persist, in the SQLite file at DATABASE_PATH.
    assert!(out.contains("Используется SqliteStorage для FSM"), "{out}");

    let dispatcher = env.fake.user(DISPATCHER_ID, "Диспетчер", "ru");
    let master = env.fake.user(MASTER, "Пётр", "ru");
    let client = env.fake.user(CLIENT, "Анна", "ru");
    dispatcher.send_command(&format!("/add_master {MASTER} Пётр"));
    dispatcher
        .expect_text("Мастер Пётр (id 3001) добавлен")
        .await;

    let summary = fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("Заявка №1 принята").await;
    let note = dispatcher.expect_text("Новая заявка №1").await;
    dispatcher.press_button(&note, "Назначить мастера");
    let choose = dispatcher.expect_text("Кому назначить заявку №1").await;
    dispatcher.press_button(&choose, "Пётр");
    dispatcher
        .expect_text("Заявка №1 назначена мастеру Пётр")
        .await;
    master.expect_text("Вам назначена заявка №1").await;
    client.expect_text("назначен мастер: Пётр").await;

    // The rows are in PostgreSQL, in the schema the URL named.
    let (status, master_id, client_id): (String, Option<i64>, i64) = sqlx::query_as(&format!(
        "SELECT status, master_id, client_id FROM {}.orders WHERE id = 1",
        schema.name
    ))
    .fetch_one(&schema.admin)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), master_id, client_id),
        ("assigned", Some(MASTER), CLIENT)
    );
    let actions: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT action FROM {}.order_history WHERE order_id = 1 ORDER BY id",
        schema.name
    ))
    .fetch_all(&schema.admin)
    .await
    .unwrap();
    assert_eq!(actions, ["create", "assign"]);
    assert_eq!(
        schema
            .count(&format!(
                "people WHERE user_id = {MASTER} AND role = 'master'"
            ))
            .await,
        1
    );
    // Notifications went through the PostgreSQL outbox (new order, assignment).
    assert!(schema.count("outbox").await >= 3);

    // A graceful stop closes the PostgreSQL pool; after a restart the client
    // still finds the order, read back from PostgreSQL.
    let status = bot.stop_gracefully(Duration::from_secs(20)).await;
    assert!(status.success(), "{}", bot.output_tail(20));
    let bot = env.start_bot().await;
    client.send_command("/my_orders");
    let list = client.expect_text("Ваши заявки").await;
    assert!(list.text.contains("№1"), "{}", list.text);
    assert_eq!(schema.count("orders").await, 1);
    drop(bot);
}

#[tokio::test]
async fn unreachable_postgres_stops_the_start_with_the_masked_url() {
    let mut env = test_env().await;
    // Nothing listens on port 1: connections are refused until the bot gives up.
    env.set(
        "DATABASE_URL",
        "postgres://bot:s3cret-pw@127.0.0.1:1/orders",
    );
    let bot = env.spawn_bot();
    let status = bot
        .wait_exit(Duration::from_secs(60))
        .await
        .expect("the bot gives up");
    assert!(!status.success());
    let out = bot.output();
    assert!(
        out.contains(
            "Не удалось подключиться к PostgreSQL (postgres://bot:***@127.0.0.1:1/orders)"
        ),
        "{out}"
    );
    assert!(out.contains("DATABASE_URL"), "{out}");
    assert!(out.contains("Connection refused"), "{out}");
    assert!(
        out.contains("PostgreSQL недоступен"),
        "it retried before giving up: {out}"
    );
    assert!(
        !out.contains("s3cret-pw"),
        "the password never appears: {out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    assert!(!out.contains("Бот успешно запущен!"), "{out}");
}
