//! Scale-out: three bot replicas in webhook mode behind nginx, sharing Redis
//! (dialogs, per-user locks, the outbox lease) and PostgreSQL (orders, in a
//! fresh schema per test). The
//! test plays Telegram: it POSTs each update to nginx and, like Telegram,
//! sends it again until it gets a 200.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::postgres::Schema;
use crate::support::{
    free_port, BotProcess, FakeTelegram, Nginx, RedisOptions, RedisServer, TestEnv, TestUser,
    DISPATCHER_ID,
};
use crate::test_env;
use repair_bot::db::Database;

const SECRET: &str = "replica-secret_42";
const SLOW_TEXT: &str = "Медленно отвечает";

struct Cluster {
    env: TestEnv,
    schema: Option<Schema>,
    _redis: RedisServer,
    nginx: Nginx,
    replicas: Vec<Option<BotProcess>>,
    ports: Vec<u16>,
    pump_stop: Arc<AtomicBool>,
}

impl Cluster {
    async fn start(n: usize) -> Cluster {
        Self::start_with(n, |_| {}).await
    }

    /// [`Cluster::start`] with the environment adjusted first.
    async fn start_with(n: usize, configure: impl FnOnce(&mut TestEnv)) -> Cluster {
        let redis = RedisServer::start(RedisOptions {
            appendonly: true,
            requirepass: None,
        })
        .await;
        let schema = Schema::create().await;
        let mut env = test_env().await;
        env.set("DATABASE_URL", schema.url())
            .set("REDIS_URL", redis.url())
            .set("WEBHOOK_URL", "https://bot.example.com/tg/hook")
            .set("WEBHOOK_SECRET", SECRET)
            .set("REPLICA_LOCK_TTL", "1s")
            .set("FAULT_SLOW_ON_TEXT", SLOW_TEXT)
            .set("MAX_ORDERS_PER_HOUR", "0");
        configure(&mut env);
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let mut replicas = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            replicas.push(Some(start_replica(&env, i, *port).await));
        }
        let nginx = Nginx::start(&ports).await;
        let pump_stop = Arc::new(AtomicBool::new(false));
        tokio::spawn(pump(env.fake.clone(), nginx.url(), pump_stop.clone()));
        Cluster {
            env,
            schema: Some(schema),
            _redis: redis,
            nginx,
            replicas,
            ports,
            pump_stop,
        }
    }

    /// The shared orders database, as the replicas see it.
    async fn db(&self) -> Database {
        Database::open_postgres(&self.schema.as_ref().unwrap().url())
            .await
            .expect("PostgreSQL")
    }

    /// Stops the replicas and drops the test's schema.
    async fn finish(mut self) {
        self.replicas.clear();
        if let Some(schema) = self.schema.take() {
            schema.drop().await;
        }
    }

    fn user(&self, id: i64) -> TestUser {
        self.env.fake.user(id, "Клиент", "ru")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.pump_stop.store(true, Ordering::SeqCst);
    }
}

async fn start_replica(env: &TestEnv, i: usize, port: u16) -> BotProcess {
    let mut vars = env.env.clone();
    vars.retain(|(k, _)| k != "LOG_DIR");
    let dir = env.path().join(format!("replica{i}"));
    vars.push(("HTTP_ADDR".into(), format!("127.0.0.1:{port}")));
    vars.push(("LOG_DIR".into(), dir.join("logs").display().to_string()));
    let bot = BotProcess::spawn(&env.bin, &dir, &vars);
    bot.wait_for_log(crate::support::STARTED_LINE, Duration::from_secs(30))
        .await;
    bot
}

/// Plays Telegram: every update the test users "send" is POSTed to nginx,
/// concurrently, each retried until a 200 (a dead replica is not an answer).
async fn pump(fake: FakeTelegram, url: String, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    while !stop.load(Ordering::SeqCst) {
        for update in fake.take_pushed() {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(deliver(http, url, update));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn deliver(http: reqwest::Client, url: String, update: Value) {
    for _ in 0..100 {
        let sent = http
            .post(format!("{url}/tg/hook"))
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .json(&update)
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        if matches!(&sent, Ok(r) if r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("update {} never accepted", update["update_id"]);
}

/// From the address question to the receipt: the steps every test shares.
async fn finish_from_address(u: &TestUser, address: &str, phone: &str, slot: &str) {
    u.send_text(address);
    u.expect_text_within("Шаг 4 из 5", Duration::from_secs(30))
        .await;
    u.send_text(phone);
    let m = u
        .expect_text_within("Шаг 5 из 5", Duration::from_secs(30))
        .await;
    u.press(&m, slot);
    let m = u
        .expect_text_within("Проверьте заявку", Duration::from_secs(30))
        .await;
    u.press(&m, "cf:yes");
    u.expect_text_within("принята", Duration::from_secs(30))
        .await;
}

async fn file_order(u: &TestUser, n: &str) {
    u.send_command("/create_order");
    let m = u
        .expect_text_within("Шаг 1 из 5", Duration::from_secs(30))
        .await;
    u.press(&m, "eq:oven");
    u.expect_text_within("Шаг 2 из 5", Duration::from_secs(30))
        .await;
    u.send_text(&format!("Духовка {n} не греет"));
    u.expect_text_within("Шаг 3 из 5", Duration::from_secs(30))
        .await;
    finish_from_address(u, "г. Пермь, ул. Ленина, д. 5", "+79995554433", "vt:today").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialogs_spread_over_three_replicas_complete_and_notify_once() {
    let cluster = Cluster::start(3).await;
    let clients: Vec<TestUser> = (0..12).map(|i| cluster.user(30_000 + i)).collect();
    let runs = clients
        .iter()
        .cloned()
        .map(|u| tokio::spawn(async move { file_order(&u, &u.id.to_string()).await }));
    for r in futures::future::join_all(runs).await {
        r.expect("client finished");
    }

    let db = cluster.db().await;
    assert_eq!(db.count_orders().await.unwrap(), 12);
    for u in &clients {
        let orders = db.orders_filed_by(u.id, 5).await.unwrap();
        assert_eq!(orders.len(), 1, "client {}", u.id);
        assert_eq!(orders[0].description, format!("Духовка {} не греет", u.id));
    }
    let used: std::collections::HashSet<String> =
        cluster.nginx.upstreams_used().into_iter().collect();
    for port in &cluster.ports {
        assert!(
            used.iter().any(|u| u.contains(&format!(":{port}"))),
            "replica {port} served requests: {used:?}"
        );
    }
    // Each dialog (7 updates) was spread over replicas by round-robin.
    let staff: Vec<String> = cluster
        .env
        .fake
        .messages_to(DISPATCHER_ID)
        .into_iter()
        .filter(|m| !m.edited)
        .map(|m| m.text)
        .collect();
    for n in 1..=12 {
        let copies = staff
            .iter()
            .filter(|t| t.starts_with(&format!("🆕 Новая заявка №{n}\n")))
            .count();
        assert_eq!(
            copies, 1,
            "order {n}: notified exactly once across replicas"
        );
    }
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_updates_stay_ordered_across_replicas_even_with_a_slow_handler() {
    let cluster = Cluster::start(3).await;
    let u = cluster.user(31_000);
    u.send_command("/create_order");
    let m = u
        .expect_text_within("Шаг 1 из 5", Duration::from_secs(30))
        .await;
    u.press(&m, "eq:tv");
    u.expect_text_within("Шаг 2 из 5", Duration::from_secs(30))
        .await;

    // The description takes 3 s (three lock lifetimes); the address follows
    // 100 ms later and lands on another replica. Only a renewed lock keeps
    // the address from being taken as the description.
    u.send_text(SLOW_TEXT);
    tokio::time::sleep(Duration::from_millis(100)).await;
    finish_from_address(&u, "г. Омск, ул. Мира, д. 9", "+79990001122", "vt:any").await;

    let order = cluster
        .db()
        .await
        .orders_filed_by(31_000, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(order.description, SLOW_TEXT);
    assert_eq!(order.address, "г. Омск, ул. Мира, д. 9");
    let used = cluster.nginx.upstreams_used();
    let hook: Vec<&String> = used.iter().collect();
    assert!(hook.len() >= 4, "{hook:?}");
    // The slow and the following update went to different replicas.
    assert_ne!(
        hook[2], hook[3],
        "the two racing updates hit two replicas: {hook:?}"
    );
    for r in cluster.replicas.iter().flatten() {
        assert!(!r.output().contains("user lock lost"), "{}", r.output());
    }
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_replica_mid_dialog_loses_nothing() {
    let mut cluster = Cluster::start(3).await;
    let clients: Vec<TestUser> = (0..6).map(|i| cluster.user(32_000 + i)).collect();
    // Everyone gets half-way.
    for u in &clients {
        u.send_command("/create_order");
        let m = u
            .expect_text_within("Шаг 1 из 5", Duration::from_secs(30))
            .await;
        u.press(&m, "eq:dishwasher");
        u.expect_text_within("Шаг 2 из 5", Duration::from_secs(30))
            .await;
        u.send_text(&format!("Посудомойка {} не сливает", u.id));
        u.expect_text_within("Шаг 3 из 5", Duration::from_secs(30))
            .await;
    }
    let victim = cluster.replicas[1].take().unwrap();
    victim.sigkill();
    victim
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("killed");
    // ...and finishes with one replica gone.
    let runs = clients.iter().cloned().map(|u| {
        tokio::spawn(async move {
            finish_from_address(
                &u,
                "г. Тула, ул. Советская, д. 2",
                "+79993332211",
                "vt:weekend",
            )
            .await;
        })
    });
    for r in futures::future::join_all(runs).await {
        r.expect("client finished after a replica died");
    }
    let db = cluster.db().await;
    for u in &clients {
        let o = db.orders_filed_by(u.id, 5).await.unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].description, format!("Посудомойка {} не сливает", u.id));
        assert_eq!(o[0].address, "г. Тула, ул. Советская, д. 2");
    }
    cluster.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_send_each_reminder_once() {
    let cluster = Cluster::start_with(2, |env| {
        env.set("REMIND_UNASSIGNED_AFTER", "1s")
            .set("REMIND_REPEAT", "1s")
            .set("REMIND_MAX", "2")
            .set("SLA_NEW", "1s")
            .set("QUIET_HOURS", "");
    })
    .await;
    let client = cluster.user(31_000);
    file_order(&client, "reminded").await;
    let dispatcher = cluster.env.fake.user(DISPATCHER_ID, "Диспетчер", "ru");
    dispatcher
        .expect_text_within("(напоминание 2 из 2)", Duration::from_secs(15))
        .await;
    // Time for a second replica's copy, if there were one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts: Vec<String> = cluster
        .env
        .fake
        .messages_to(DISPATCHER_ID)
        .into_iter()
        .filter(|m| !m.edited)
        .map(|m| m.text)
        .collect();
    for round in 1..=2 {
        let copies = texts
            .iter()
            .filter(|t| t.contains(&format!("(напоминание {round} из 2)")))
            .count();
        assert_eq!(
            copies, 1,
            "reminder {round} once across replicas: {texts:#?}"
        );
    }
    let admin: Vec<String> = cluster
        .env
        .fake
        .messages_to(crate::support::ADMIN_ID)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(admin.iter().filter(|t| t.contains("🚨 SLA")).count(), 1);
    let db = cluster.db().await;
    assert_eq!(
        db.jobs_done(
            Some(1),
            repair_bot::domain::schedule::JobKind::RemindUnassigned
        )
        .await
        .unwrap(),
        2
    );
    db.close().await;
    cluster.finish().await;
}
