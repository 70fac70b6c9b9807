//! Every test body runs twice: on a fresh SQLite file and on PostgreSQL in a
//! fresh schema (`TEST_DATABASE_URL`, default the CI server
//! `postgres://postgres@127.0.0.1:5432/test`). PostgreSQL being down fails
//! the PostgreSQL half rather than skipping it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::FutureExt;
use sqlx::PgPool;

use super::*;
use crate::domain::{Action, Actor, ApplianceKind, OrderStatus, Role, Transition};

/// Declares `mod <name> { sqlite, postgres }` tests running `async fn <name>(Database)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::run_on_sqlite(super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::run_on_postgres(super::$name).await
            }
        }
    )*};
}

on_both_backends!(
    files_orders_with_history_and_outbox,
    marks_many_sent_at_once,
    a_filed_order_returns_the_rows_it_queued,
    the_same_update_never_files_two_orders,
    people_roles_round_trip,
    a_change_applies_once_and_a_stale_one_conflicts,
    a_declined_order_can_be_assigned_again,
    rating_comment_is_added_once,
    outbox_retries_and_gives_up,
    a_busy_chat_cannot_fill_the_outbox_batch,
    listings_filter_and_page,
    stats_count_per_status_master_and_shop_day,
    concurrent_assignments_have_exactly_one_winner,
    concurrent_deliveries_of_one_update_file_one_order,
    concurrent_deliveries_of_one_change_apply_it_once,
    settled_notifications_are_purged_after_the_retention,
    a_failed_transaction_leaves_the_writer_usable,
    one_client_per_phone_and_phoned_orders_reach_the_linked_user,
    work_groups_bind_one_to_one_and_follow_a_migration,
    a_chats_later_message_waits_for_an_earlier_retry,
    a_master_with_open_orders_stays_active,
);

async fn a_chats_later_message_waits_for_an_earlier_retry(db: Database) {
    let note = |chat_id, text: &str| Notification {
        chat_id,
        text: text.into(),
        buttons: vec![],
        card: None,
        document: None,
    };
    db.enqueue(&[note(1, "first"), note(1, "second"), note(2, "other")])
        .await
        .unwrap();
    let due = db.due_notifications(10).await.unwrap();
    assert_eq!(due.len(), 3);
    let first = due
        .iter()
        .find(|i| i.notification.text == "first")
        .unwrap()
        .id;
    // Telegram said "retry after": the chat's second message waits for it;
    // another chat's does not.
    db.retry_later(first, "429", now_ms() + 60_000)
        .await
        .unwrap();
    let texts: Vec<String> = db
        .due_notifications(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.notification.text)
        .collect();
    assert_eq!(texts, ["other"]);
}

async fn work_groups_bind_one_to_one_and_follow_a_migration(db: Database) {
    let rebound = db.bind_group(-10, 1, "A", 99).await.unwrap();
    assert_eq!(rebound, Rebound::default());
    // The master moves to another group: the first one is freed.
    let rebound = db.bind_group(-20, 1, "B", 99).await.unwrap();
    assert_eq!(rebound.old_group_of_master, Some(-10));
    assert!(db.group(-10).await.unwrap().is_none());
    // Another master takes group B: master 1 has no group any more.
    let rebound = db.bind_group(-20, 2, "B", 99).await.unwrap();
    assert_eq!(rebound.old_master_of_group, Some(1));
    assert!(db.group_of_master(1).await.unwrap().is_none());
    assert_eq!(db.group_of_master(2).await.unwrap().unwrap().chat_id, -20);
    // A card posted there is remembered, and forgotten when the group migrates.
    let (order, _) = db
        .create_order(&new_order(5), Some(1), |_| vec![])
        .await
        .unwrap();
    db.remember_card(order.id, -20, 77).await.unwrap();
    db.remember_card(order.id, -20, 78).await.unwrap();
    assert_eq!(db.card_message(order.id, -20).await.unwrap(), Some(78));
    db.remember_bot_group(-20, "B").await.unwrap();
    assert!(db.migrate_group(-20, -1_000_000_000_020).await.unwrap());
    assert_eq!(
        db.group_of_master(2).await.unwrap().unwrap().chat_id,
        -1_000_000_000_020
    );
    assert_eq!(db.card_message(order.id, -20).await.unwrap(), None);
    assert!(
        db.unbound_bot_groups().await.unwrap().is_empty(),
        "the moved group is bound"
    );
    assert_eq!(db.unbind_group(-1_000_000_000_020).await.unwrap(), Some(2));
    assert_eq!(
        db.unbound_bot_groups().await.unwrap(),
        [(-1_000_000_000_020, "B".to_string())]
    );
    assert_eq!(db.unbind_group(-1_000_000_000_020).await.unwrap(), None);
}

async fn a_master_with_open_orders_stays_active(db: Database) {
    for (id, name) in [(3001, "Пётр"), (3002, "Иван")] {
        db.upsert_person(
            &Person {
                user_id: id,
                role: Role::Master,
                name: name.into(),
            },
            1,
        )
        .await
        .unwrap();
    }
    let (order, _) = db
        .create_order(&new_order(5), Some(1), |_| vec![])
        .await
        .unwrap();
    let assigned = match db
        .apply_change(&assign(&order, 3001, Some(2)), |_| vec![])
        .await
        .unwrap()
    {
        Applied::Done(o) => o,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        db.set_master_active(3001, false).await.unwrap(),
        Err(vec![assigned.id])
    );
    assert!(db.master_profile(3001).await.unwrap().unwrap().active);
    assert_eq!(db.set_master_active(3002, false).await.unwrap(), Ok(()));
    let mut ivan = db.master_profile(3002).await.unwrap().unwrap();
    assert!(!ivan.active);
    ivan.senior = true;
    ivan.toggle(ApplianceKind::Tv);
    ivan.phone = Some("+79120001122".into());
    db.save_master_profile(&ivan).await.unwrap();
    let back = db.master_profile(3002).await.unwrap().unwrap();
    assert_eq!(back, ivan, "saving the profile keeps the active flag");
    let candidates = db.master_candidates().await.unwrap();
    let open: Vec<(i64, i64)> = candidates
        .iter()
        .map(|c| (c.profile.user_id, c.open_jobs))
        .collect();
    assert_eq!(open, [(3002, 0), (3001, 1)]);
    assert!(
        db.master_profile(42).await.unwrap().is_none(),
        "not a master"
    );
}

async fn one_client_per_phone_and_phoned_orders_reach_the_linked_user(db: Database) {
    // Two orders for one phone, from two Telegram users (a family's two phones
    // filing for one flat), and one for another phone.
    let mut first = new_order(101);
    first.client_name = "Анна".into();
    let (a, _) = db.create_order(&first, Some(1), |_| vec![]).await.unwrap();
    let mut second = new_order(102);
    second.address = "г. Москва, ул. Ленина, 2".into();
    let (b, _) = db.create_order(&second, Some(2), |_| vec![]).await.unwrap();
    let mut other = new_order(103);
    other.phone = "+79990000000".into();
    db.create_order(&other, Some(3), |_| vec![]).await.unwrap();
    assert_eq!(a.client_ref, b.client_ref, "one client for one phone");

    let client = db.client_by_phone("+79991234567").await.unwrap().unwrap();
    assert_eq!(client.orders, 2);
    assert_eq!(client.last_order, Some((b.id, OrderStatus::New)));
    assert_eq!(client.name, "Иван", "named as in the latest order");
    assert_eq!(
        client.last_address.as_deref(),
        Some("г. Москва, ул. Ленина, 2")
    );
    assert_eq!(client.telegram_id, None, "a typed number links nobody");
    assert!(db.client_by_phone("+70000000000").await.unwrap().is_none());

    // A third Telegram user shares that number as their own: both orders are theirs to see.
    assert!(db
        .link_client_telegram("+79991234567", 104, "Анна")
        .await
        .unwrap());
    assert!(!db
        .link_client_telegram("+79991234567", 104, "Анна")
        .await
        .unwrap());
    let seen: Vec<i64> = db
        .orders_of_client(104, 20)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(seen, [b.id, a.id]);
    // The user who filed one still sees it; a stranger sees none.
    assert_eq!(db.orders_of_client(101, 20).await.unwrap().len(), 1);
    assert!(db.orders_of_client(105, 20).await.unwrap().is_empty());
}

async fn run_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    // A nested path: opening creates the missing directories.
    let db = Database::open_sqlite(&dir.path().join("nested/dir/bot.db"))
        .await
        .unwrap();
    assert_eq!(db.kind(), DbKind::Sqlite);
    test(db.clone()).await;
    db.close().await;
}

async fn run_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let schema = PgSchema::create().await;
    let db = Database::open_postgres_with_patience(&schema.url(), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(db.kind(), DbKind::Postgres);
    let outcome = AssertUnwindSafe(test(db.clone())).catch_unwind().await;
    db.close().await;
    schema.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema of its own for one test, dropped at the end.
struct PgSchema {
    admin: PgPool,
    name: String,
}

impl PgSchema {
    async fn create() -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "test_{}_{}_{}",
            std::process::id(),
            now_ms(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgPool::connect(&pg_admin_url()).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL for the tests is not reachable at {}: {e} (set TEST_DATABASE_URL)",
                pg_admin_url()
            )
        });
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await
            .unwrap();
        Self { admin, name }
    }

    /// The URL the bot would be given: the schema travels as a connection option.
    fn url(&self) -> String {
        let base = pg_admin_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{}", self.name)
    }

    async fn drop(self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.admin)
            .await
            .unwrap();
        self.admin.close().await;
    }
}

#[tokio::test]
async fn postgres_tables_are_created_in_the_schema_named_by_the_url() {
    let schema = PgSchema::create().await;
    let db = Database::open_postgres_with_patience(&schema.url(), Duration::ZERO)
        .await
        .unwrap();
    db.create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let in_schema: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}.orders", schema.name))
            .fetch_one(&schema.admin)
            .await
            .unwrap();
    let in_public: Option<String> = sqlx::query_scalar("SELECT to_regclass('public.orders')::text")
        .fetch_one(&schema.admin)
        .await
        .unwrap();
    db.close().await;
    schema.drop().await;
    assert_eq!(in_schema, 1);
    assert_eq!(in_public, None, "nothing leaks into the public schema");
}

#[tokio::test]
async fn postgres_over_tls_with_sslmode_require() {
    // The server of CI (Debian's PostgreSQL) has ssl = on with its snakeoil
    // certificate; `require` encrypts without verifying it, as libpq does.
    let schema = PgSchema::create().await;
    let url = format!("{}&sslmode=require", schema.url());
    let db = Database::open_postgres_with_patience(&url, Duration::ZERO)
        .await
        .unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(db.postgres_pool().unwrap())
            .await
            .unwrap();
    db.close().await;
    schema.drop().await;
    assert!(encrypted, "the connection is encrypted");
}

#[tokio::test]
async fn unreachable_postgres_fails_with_the_masked_url_and_what_to_check() {
    // Port 1 on loopback: nothing listens there, the connection is refused.
    let url = "postgres://bot:s3cret-pw@127.0.0.1:1/orders";
    let err = Database::open_postgres_with_patience(url, Duration::ZERO)
        .await
        .err()
        .expect("no server, no database");
    let text = format!("{err:#}");
    assert!(
        text.contains("postgres://bot:***@127.0.0.1:1/orders"),
        "{text}"
    );
    assert!(!text.contains("s3cret-pw"), "password leaked: {text}");
    assert!(text.contains("DATABASE_URL"), "{text}");
    assert!(text.contains("pg_isready"), "{text}");
    assert!(
        text.contains("Connection refused"),
        "the cause is named: {text}"
    );
}

#[tokio::test]
async fn a_wrong_postgres_user_fails_with_the_servers_reason() {
    let mut url = url::Url::parse(&pg_admin_url()).unwrap();
    url.set_username("no_such_bot_user").unwrap();
    let err = Database::open_postgres(url.as_str())
        .await
        .err()
        .expect("unknown role");
    let text = format!("{err:#}");
    assert!(text.contains("no_such_bot_user"), "{text}");
    assert!(
        text.contains("Не удалось подключиться к PostgreSQL"),
        "{text}"
    );
}

#[tokio::test]
async fn a_malformed_postgres_url_is_refused_without_leaking_its_password() {
    let err =
        Database::open_postgres_with_patience("postgres://bot:pw@host:notaport/db", Duration::ZERO)
            .await
            .err()
            .expect("bad port");
    let text = format!("{err:#}");
    assert!(text.contains("DATABASE_URL"), "{text}");
    assert!(!text.contains(":pw@"), "password leaked: {text}");
}

fn new_order(client: i64) -> NewOrder {
    NewOrder {
        client_id: Some(client),
        client_chat_id: Some(client),
        filed_by: Actor::new(client, Role::Client),
        notes: None,
        jobs: Vec::new(),
        client_telegram: None,
        client_name: "Иван".into(),
        client_lang: "ru".into(),
        equipment: ApplianceKind::Refrigerator,
        description: "Не морозит".into(),
        photo_file_id: None,
        address: "г. Москва, ул. Ленина, 1".into(),
        phone: "+79991234567".into(),
        visit_time: "any".into(),
        visit: None,
    }
}

fn note_to(chat_id: i64) -> impl Fn(&Order) -> Vec<Notification> {
    move |o: &Order| {
        vec![Notification {
            chat_id,
            text: format!("#{}", o.id),
            buttons: vec![],
            card: None,
            document: None,
        }]
    }
}

const DISPATCHER: Actor = Actor::new(2001, Role::Dispatcher);

fn assign(order: &Order, master: i64, update_id: Option<i64>) -> Change {
    Change {
        order_id: order.id,
        expected_master: order.master_id,
        transition: Transition {
            from: order.status,
            to: OrderStatus::Assigned,
            master: Some(Some(master)),
        },
        action: Action::Assign {
            master_id: master,
            seen_master: order.master_id,
        },
        actor: DISPATCHER,
        update_id,
        edit: None,
        repair: None,
        jobs: Vec::new(),
    }
}

/// A change by the order's master from `from` to `to`, keeping the master.
fn by_master(order: &Order, action: Action, to: OrderStatus, update_id: i64) -> Change {
    let master = order.master_id.expect("assigned");
    Change {
        order_id: order.id,
        expected_master: order.master_id,
        transition: Transition {
            from: order.status,
            to,
            master: if to == OrderStatus::New {
                Some(None)
            } else {
                None
            },
        },
        action,
        actor: Actor::new(master, Role::Master),
        update_id: Some(update_id),
        edit: None,
        repair: None,
        jobs: Vec::new(),
    }
}

fn finish_action() -> Action {
    let money = crate::domain::ClosedMoney {
        total: crate::domain::Money::from_roubles(4500),
        materials: crate::domain::Money::from_roubles(500),
        master: crate::domain::Money::from_roubles(2000),
        company: crate::domain::Money::from_roubles(2000),
        master_percent: 50,
        out_of_city: false,
        review: true,
    };
    Action::Finish {
        work: "замена компрессора".into(),
        money,
        note: "сумма 4 500 ₽".into(),
    }
}

fn done(applied: Applied) -> Order {
    match applied {
        Applied::Done(o) => o,
        other => panic!("expected Done, got {other:?}"),
    }
}

async fn files_orders_with_history_and_outbox(db: Database) {
    let (order, created) = db
        .create_order(&new_order(1), Some(100), note_to(5))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(order.status, OrderStatus::New);
    assert_eq!(order.client_name, "Иван");
    assert_eq!(db.order(order.id).await.unwrap(), Some(order.clone()));
    let history = db.history(order.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "create");
    assert_eq!(history[0].from_status, None);
    assert_eq!(history[0].to_status, OrderStatus::New);
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
    let due = db.due_notifications(10).await.unwrap();
    assert_eq!(due[0].notification.chat_id, 5);
    assert_eq!(due[0].notification.text, format!("#{}", order.id));
    db.mark_sent_many(&[due[0].id]).await.unwrap();
    assert_eq!(db.outbox_backlog().await.unwrap(), 0);
    db.ping().await.unwrap();
}

async fn a_filed_order_returns_the_rows_it_queued(db: Database) {
    let notes = |o: &Order| {
        [5, 6, 5]
            .into_iter()
            .enumerate()
            .map(|(i, chat_id)| Notification {
                chat_id,
                text: format!("#{} {i}", o.id),
                buttons: vec![vec![("Ок".into(), format!("ok:{i}"))]],
                card: None,
                document: None,
            })
            .collect()
    };
    let (order, created, queued) = db
        .create_order_queued(&new_order(1), Some(40), notes)
        .await
        .unwrap();
    assert!(created);
    let due = db.due_notifications(10).await.unwrap();
    let as_pairs = |items: &[OutboxItem]| -> Vec<(i64, Notification, i64)> {
        items
            .iter()
            .map(|i| (i.id, i.notification.clone(), i.attempts))
            .collect()
    };
    assert_eq!(
        as_pairs(&queued),
        as_pairs(&due),
        "the very rows in the table"
    );
    assert_eq!(queued[1].notification.text, format!("#{} 1", order.id));
    // The same update again files nothing and hands over nothing.
    let (_, again, none) = db
        .create_order_queued(&new_order(1), Some(40), notes)
        .await
        .unwrap();
    assert!(!again && none.is_empty());
}

async fn marks_many_sent_at_once(db: Database) {
    let notes: Vec<Notification> = (0..1_200)
        .map(|i| Notification {
            chat_id: 10 + i % 3,
            text: format!("n{i}"),
            buttons: vec![],
            card: None,
            document: None,
        })
        .collect();
    db.enqueue(&notes).await.unwrap();
    let due = db.due_notifications(2_000).await.unwrap();
    assert_eq!(due.len(), 1_200);
    // All but the last one, across more than one chunk of the statement.
    let ids: Vec<i64> = due[..1_199].iter().map(|i| i.id).collect();
    db.mark_sent_many(&ids).await.unwrap();
    db.mark_sent_many(&[]).await.unwrap();
    let left = db.due_notifications(2_000).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, due[1_199].id);
    assert_eq!(left[0].attempts, 0, "the unmarked one is untouched");
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
}

async fn settled_notifications_are_purged_after_the_retention(db: Database) {
    let notes: Vec<Notification> = (0..4)
        .map(|i| Notification {
            chat_id: 20 + i,
            text: format!("Заявка: телефон +7999000000{i}"),
            buttons: vec![],
            card: None,
            document: None,
        })
        .collect();
    db.enqueue(&notes).await.unwrap();
    let due = db.due_notifications(10).await.unwrap();
    db.mark_sent_many(&[due[0].id, due[1].id]).await.unwrap();
    db.give_up(due[2].id, "blocked").await.unwrap();
    // Nothing is old enough yet.
    assert_eq!(
        db.purge_settled_notifications(now_ms() - 60_000)
            .await
            .unwrap(),
        0
    );
    // Past the retention: the delivered and the given-up go, the pending one stays.
    let purged = db.purge_settled_notifications(now_ms() + 1).await.unwrap();
    assert_eq!(purged, 3);
    let left = db.due_notifications(10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, due[3].id);
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
}

/// A transaction whose body fails retires its connection: the next write
/// transaction still works (before, a failed COMMIT left sqlx counting the
/// SQLite writer as inside a transaction, and every BEGIN failed after it).
async fn a_failed_transaction_leaves_the_writer_usable(db: Database) {
    for _ in 0..3 {
        let failed: anyhow::Result<()> = in_write_tx!(db, tx => {
            sqlx::query("INSERT INTO no_such_table VALUES (1)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        });
        assert!(failed.is_err());
        assert!(db
            .write_health()
            .status(std::time::Duration::from_secs(60))
            .is_err());
    }
    db.enqueue(&[Notification {
        chat_id: 1,
        text: "after".into(),
        buttons: vec![],
        card: None,
        document: None,
    }])
    .await
    .unwrap();
    assert!(db
        .write_health()
        .status(std::time::Duration::from_secs(60))
        .is_ok());
}

/// A real "database or disk is full" inside a write transaction (the writer
/// connection capped at its current size): SQLite rolls the transaction back
/// itself, the ROLLBACK after it fails, and the connection used to keep a
/// transaction depth of 1 so that every later BEGIN failed. The next write
/// must work on a fresh connection.
#[tokio::test]
async fn the_sqlite_writer_heals_after_a_full_database() {
    run_on_sqlite(|db: Database| async move {
        let writer = db.sqlite_pool().unwrap().clone();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&writer)
            .await
            .unwrap();
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&writer)
            .await
            .unwrap();
        let note = |text: String| Notification {
            chat_id: 1,
            text,
            buttons: vec![],
            card: None,
            document: None,
        };
        let full = db.enqueue(&[note("x".repeat(300_000))]).await;
        let error = format!("{:#}", full.unwrap_err());
        assert!(error.contains("full"), "{error}");
        db.enqueue(&[note("after".into())])
            .await
            .expect("the writer works again");
        assert_eq!(db.outbox_backlog().await.unwrap(), 1);
    })
    .await
}

async fn the_same_update_never_files_two_orders(db: Database) {
    let (a, first) = db
        .create_order(&new_order(1), Some(7), note_to(5))
        .await
        .unwrap();
    let (b, second) = db
        .create_order(&new_order(1), Some(7), note_to(5))
        .await
        .unwrap();
    assert!(first && !second);
    assert_eq!(a.id, b.id);
    // Orders filed without an update id are never taken for each other.
    let (c, _) = db
        .create_order(&new_order(1), None, |_| vec![])
        .await
        .unwrap();
    let (d, _) = db
        .create_order(&new_order(1), None, |_| vec![])
        .await
        .unwrap();
    assert_ne!(c.id, d.id);
    assert_eq!(
        (c.id, d.id),
        (a.id + 1, a.id + 2),
        "a redelivery leaves no gap in order numbers"
    );
    assert_eq!(db.count_orders().await.unwrap(), 3);
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        1,
        "no duplicate notification"
    );
}

async fn people_roles_round_trip(db: Database) {
    let p = Person {
        user_id: 9,
        role: Role::Master,
        name: "Пётр".into(),
    };
    db.upsert_person(&p, 1).await.unwrap();
    assert_eq!(db.person_roles(9).await.unwrap(), vec![p.clone()]);
    assert_eq!(
        db.people_with_role(Role::Master).await.unwrap(),
        vec![p.clone()]
    );
    assert!(
        db.staff_user_ids().await.unwrap().is_empty(),
        "a master is not staff"
    );
    let admin = Person {
        user_id: 3,
        role: Role::Admin,
        name: "Анна".into(),
    };
    db.upsert_person(&admin, 1).await.unwrap();
    let promoted = Person {
        user_id: 9,
        role: Role::Dispatcher,
        name: "Пётр И.".into(),
    };
    db.upsert_person(&promoted, 1).await.unwrap();
    // A second role beside the first: the master is also a dispatcher now.
    assert_eq!(
        db.person_roles(9).await.unwrap(),
        vec![p.clone(), promoted.clone()]
    );
    assert_eq!(
        db.people_with_role(Role::Master).await.unwrap(),
        vec![p.clone()]
    );
    assert_eq!(db.staff_user_ids().await.unwrap(), vec![3, 9]);
    // Taking one role leaves the other.
    assert!(db.remove_person(9, Role::Dispatcher).await.unwrap());
    assert!(!db.remove_person(9, Role::Dispatcher).await.unwrap());
    assert_eq!(db.person_roles(9).await.unwrap(), vec![p]);
    assert_eq!(db.staff_user_ids().await.unwrap(), vec![3]);
    assert!(db.remove_person(9, Role::Master).await.unwrap());
    assert!(db.person_roles(9).await.unwrap().is_empty());
}

async fn a_change_applies_once_and_a_stale_one_conflicts(db: Database) {
    let (order, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let assigned = done(
        db.apply_change(&assign(&order, 3001, Some(10)), note_to(3001))
            .await
            .unwrap(),
    );
    assert_eq!(assigned.status, OrderStatus::Assigned);
    assert_eq!(assigned.master_id, Some(3001));
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);

    // Telegram redelivers the same update: recognised, nothing written.
    match db
        .apply_change(&assign(&order, 3001, Some(10)), note_to(3001))
        .await
        .unwrap()
    {
        Applied::Duplicate(o) => assert_eq!(o, assigned),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    // A decision taken on the old view (status new, no master) is stale.
    match db
        .apply_change(&assign(&order, 3002, Some(11)), note_to(3002))
        .await
        .unwrap()
    {
        Applied::Conflict(o) => assert_eq!(o.master_id, Some(3001)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let mut missing = assign(&order, 3001, Some(12));
    missing.order_id = order.id + 1000;
    assert!(matches!(
        db.apply_change(&missing, |_| vec![]).await.unwrap(),
        Applied::Missing
    ));

    let started = done(
        db.apply_change(
            &by_master(&assigned, Action::StartWork, OrderStatus::OnSite, 13),
            |_| vec![],
        )
        .await
        .unwrap(),
    );
    let finish = by_master(&started, finish_action(), OrderStatus::Closed, 14);
    let finished = done(db.apply_change(&finish, |_| vec![]).await.unwrap());
    assert_eq!(finished.status, OrderStatus::Closed);
    assert_eq!(finished.work_done.as_deref(), Some("замена компрессора"));
    assert_eq!(
        finished.money(),
        finish.action.money().copied(),
        "every figure of the split is stored as it was decided"
    );

    let history = db.history(order.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["create", "assign", "start_work", "finish"]);
    assert_eq!(history[1].actor_id, DISPATCHER.user_id);
    assert_eq!(history[1].actor_role, "dispatcher");
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        1,
        "only the assignment notified"
    );
}

async fn a_declined_order_can_be_assigned_again(db: Database) {
    let (order, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let assigned = done(
        db.apply_change(&assign(&order, 3001, Some(2)), |_| vec![])
            .await
            .unwrap(),
    );
    let decline = by_master(
        &assigned,
        Action::Decline {
            reason: "нет запчастей".into(),
        },
        OrderStatus::New,
        3,
    );
    let declined = done(db.apply_change(&decline, |_| vec![]).await.unwrap());
    assert_eq!(declined.status, OrderStatus::New);
    assert_eq!(declined.master_id, None);
    // The compare-and-set matches the NULL master (IS NOT DISTINCT FROM).
    let again = done(
        db.apply_change(&assign(&declined, 3002, Some(4)), |_| vec![])
            .await
            .unwrap(),
    );
    assert_eq!(again.master_id, Some(3002));
    let history = db.history(order.id).await.unwrap();
    assert_eq!(history[2].comment.as_deref(), Some("нет запчастей"));
    assert_eq!(history[2].from_status, Some(OrderStatus::Assigned));
    assert_eq!(history[2].to_status, OrderStatus::New);
}

async fn rating_comment_is_added_once(db: Database) {
    let (order, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    // No rating yet: nothing to comment on.
    assert!(!db
        .add_rating_comment(order.id, 1, "спасибо", Some(2))
        .await
        .unwrap());
    let a = done(
        db.apply_change(&assign(&order, 3001, Some(3)), |_| vec![])
            .await
            .unwrap(),
    );
    let s = done(
        db.apply_change(
            &by_master(&a, Action::StartWork, OrderStatus::OnSite, 4),
            |_| vec![],
        )
        .await
        .unwrap(),
    );
    let f = done(
        db.apply_change(
            &by_master(&s, finish_action(), OrderStatus::Closed, 5),
            |_| vec![],
        )
        .await
        .unwrap(),
    );
    let rate = Change {
        order_id: f.id,
        expected_master: f.master_id,
        transition: Transition {
            from: OrderStatus::Closed,
            to: OrderStatus::Closed,
            master: None,
        },
        action: Action::Rate { stars: 5 },
        actor: Actor::new(1, Role::Client),
        update_id: Some(6),
        edit: None,
        repair: None,
        jobs: Vec::new(),
    };
    assert_eq!(
        done(db.apply_change(&rate, |_| vec![]).await.unwrap()).rating,
        Some(5)
    );
    assert!(
        !db.add_rating_comment(order.id, 2, "чужой", Some(7))
            .await
            .unwrap(),
        "not the client"
    );
    assert!(db
        .add_rating_comment(order.id, 1, "спасибо", Some(8))
        .await
        .unwrap());
    assert!(!db
        .add_rating_comment(order.id, 1, "ещё раз", Some(9))
        .await
        .unwrap());
    let order = db.order(order.id).await.unwrap().unwrap();
    assert_eq!(order.rating_comment.as_deref(), Some("спасибо"));
}

async fn a_busy_chat_cannot_fill_the_outbox_batch(db: Database) {
    let busy: Vec<Notification> = (0..10)
        .map(|i| Notification {
            chat_id: 7,
            text: format!("busy {i}"),
            buttons: vec![],
            card: None,
            document: None,
        })
        .collect();
    db.enqueue(&busy).await.unwrap();
    let quiet = Notification {
        chat_id: 8,
        text: "receipt".into(),
        buttons: vec![],
        card: None,
        document: None,
    };
    db.enqueue(std::slice::from_ref(&quiet)).await.unwrap();
    let due = db.due_notifications_fair(5, 2).await.unwrap();
    let texts: Vec<&str> = due.iter().map(|i| i.notification.text.as_str()).collect();
    assert_eq!(
        texts,
        ["busy 0", "busy 1", "receipt"],
        "two of the busy chat, oldest first, then the other chat"
    );
    assert_eq!(
        db.due_notifications(5).await.unwrap().len(),
        5,
        "the plain query has no per-chat cap"
    );
}

async fn outbox_retries_and_gives_up(db: Database) {
    let notes: Vec<Notification> = (1..=3)
        .map(|chat_id| Notification {
            chat_id,
            text: format!("to {chat_id}"),
            buttons: vec![vec![("Ок".into(), "ok:1".into())]],
            card: None,
            document: None,
        })
        .collect();
    db.enqueue(&notes).await.unwrap();
    let due = db.due_notifications(10).await.unwrap();
    let got: Vec<&Notification> = due.iter().map(|i| &i.notification).collect();
    assert_eq!(
        got,
        notes.iter().collect::<Vec<_>>(),
        "oldest first, buttons kept"
    );
    assert!(due.iter().all(|i| i.attempts == 0));
    assert_eq!(db.due_notifications(2).await.unwrap().len(), 2, "limit");

    db.retry_later(due[0].id, "timeout", now_ms() + 3_600_000)
        .await
        .unwrap();
    db.give_up(due[1].id, "bot was blocked by the user")
        .await
        .unwrap();
    let due_now = db.due_notifications(10).await.unwrap();
    assert_eq!(due_now.len(), 1);
    assert_eq!(due_now[0].id, due[2].id);
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        2,
        "retrying one still counts"
    );

    db.retry_later(due[0].id, "timeout", now_ms() - 1)
        .await
        .unwrap();
    let retried = db.due_notifications(10).await.unwrap();
    assert_eq!(retried[0].id, due[0].id);
    assert_eq!(retried[0].attempts, 2);
}

async fn listings_filter_and_page(db: Database) {
    let before = now_ms();
    let mut orders = Vec::new();
    for i in 0..5 {
        let client = if i % 2 == 0 { 1 } else { 2 };
        let (o, _) = db
            .create_order(&new_order(client), Some(i), |_| vec![])
            .await
            .unwrap();
        orders.push(o);
    }
    done(
        db.apply_change(&assign(&orders[1], 3001, Some(100)), |_| vec![])
            .await
            .unwrap(),
    );
    done(
        db.apply_change(&assign(&orders[3], 3001, Some(101)), |_| vec![])
            .await
            .unwrap(),
    );

    let mine = db.orders_of_client(1, 10).await.unwrap();
    let ids: Vec<i64> = mine.iter().map(|o| o.id).collect();
    assert_eq!(
        ids,
        [orders[4].id, orders[2].id, orders[0].id],
        "newest first"
    );
    assert_eq!(db.orders_of_client(1, 2).await.unwrap().len(), 2);
    assert_eq!(db.count_orders_since(1, before).await.unwrap(), 3);
    assert_eq!(db.count_orders_since(1, now_ms() + 1).await.unwrap(), 0);

    let (all, total) = db.orders_page(None, 2, 0).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(
        all.iter().map(|o| o.id).collect::<Vec<_>>(),
        [orders[4].id, orders[3].id]
    );
    let (last, _) = db.orders_page(None, 2, 4).await.unwrap();
    assert_eq!(
        last.iter().map(|o| o.id).collect::<Vec<_>>(),
        [orders[0].id]
    );
    let (assigned, n) = db
        .orders_page(Some(OrderStatus::Assigned), 10, 0)
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert!(assigned.iter().all(|o| o.status == OrderStatus::Assigned));
    let (_, n_done) = db
        .orders_page(Some(OrderStatus::Closed), 10, 0)
        .await
        .unwrap();
    assert_eq!(n_done, 0);

    let jobs = db.open_jobs_of_master(3001).await.unwrap();
    assert_eq!(
        jobs.iter().map(|o| o.id).collect::<Vec<_>>(),
        [orders[1].id, orders[3].id]
    );
    assert!(db.open_jobs_of_master(3002).await.unwrap().is_empty());

    let all_time = db
        .orders_created_between(before, now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(all_time.len(), 5);
    assert!(db
        .orders_created_between(0, before)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.count_by_status().await.unwrap(),
        [("assigned".to_string(), 2), ("new".to_string(), 3)]
    );
}

async fn stats_count_per_status_master_and_shop_day(db: Database) {
    const DAY: i64 = 86_400_000;
    let now = now_ms();
    let day = |label: &str, from_ms, to_ms| StatsDay {
        label: label.into(),
        from_ms,
        to_ms,
    };
    // Days as the caller cuts them in the shop's time zone; the database
    // only counts between the bounds it is given.
    let days = [
        day("2026-10-24", now - 3 * DAY, now - 2 * DAY),
        day("2026-10-25", now - 2 * DAY, now - 3_600_000),
        day("2026-10-26", now - 3_600_000, now + 3_600_000),
    ];
    let empty = db.stats(&days).await.unwrap();
    assert_eq!(empty, Stats::default());

    db.upsert_person(
        &Person {
            user_id: 3001,
            role: Role::Master,
            name: "Пётр".into(),
        },
        1,
    )
    .await
    .unwrap();
    let (a, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let (b, _) = db
        .create_order(&new_order(2), Some(2), |_| vec![])
        .await
        .unwrap();
    let (_c, _) = db
        .create_order(&new_order(3), Some(3), |_| vec![])
        .await
        .unwrap();
    let a = done(
        db.apply_change(&assign(&a, 3001, Some(10)), |_| vec![])
            .await
            .unwrap(),
    );
    let a = done(
        db.apply_change(
            &by_master(&a, Action::StartWork, OrderStatus::OnSite, 11),
            |_| vec![],
        )
        .await
        .unwrap(),
    );
    done(
        db.apply_change(
            &by_master(&a, finish_action(), OrderStatus::Closed, 12),
            |_| vec![],
        )
        .await
        .unwrap(),
    );
    done(
        db.apply_change(&assign(&b, 3002, Some(13)), |_| vec![])
            .await
            .unwrap(),
    );

    let stats = db.stats(&days).await.unwrap();
    assert_eq!(stats.total, 3);
    assert_eq!(
        stats.by_status,
        [
            ("assigned".to_string(), 1),
            ("closed".to_string(), 1),
            ("new".to_string(), 1)
        ]
    );
    assert_eq!(
        stats.by_master,
        [(3001, Some("Пётр".to_string()), 0, 1), (3002, None, 1, 0)]
    );
    assert_eq!(stats.by_day, [("2026-10-26".to_string(), 3)]);
    // One order filed the day before: counted on that day; an empty day is left out.
    in_write_tx!(db, tx => {
        sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2")
            .bind(now - DAY)
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, anyhow::Error>(())
    })
    .unwrap();
    let moved = db.stats(&days).await.unwrap();
    assert_eq!(
        moved.by_day,
        [("2026-10-25".to_string(), 1), ("2026-10-26".to_string(), 2)]
    );
    let assign_minutes = stats.mean_minutes_to_assign.expect("two assigned orders");
    let finish_minutes = stats.mean_minutes_to_finish.expect("one finished order");
    assert!((0.0..60.0).contains(&assign_minutes), "{assign_minutes}");
    assert!((0.0..60.0).contains(&finish_minutes), "{finish_minutes}");
    assert!(db.stats(&[]).await.unwrap().by_day.is_empty());
}

async fn concurrent_assignments_have_exactly_one_winner(db: Database) {
    let (order, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (db, order, barrier) = (db.clone(), order.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.apply_change(&assign(&order, 3000 + i, Some(100 + i)), note_to(3000 + i))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Applied::Done(o) => winners.push(o),
            Applied::Conflict(_) => conflicts += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one assignment wins");
    assert_eq!(conflicts, 9);
    let now = db.order(order.id).await.unwrap().unwrap();
    assert_eq!(now.master_id, winners[0].master_id);
    let assigns = db
        .history(order.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.action == "assign")
        .count();
    assert_eq!(assigns, 1);
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        1,
        "only the winner notifies"
    );
}

async fn concurrent_deliveries_of_one_update_file_one_order(db: Database) {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.create_order(&new_order(1), Some(42), note_to(5))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    assert!(results.iter().all(|(o, _)| o.id == results[0].0.id));
    assert_eq!(db.count_orders().await.unwrap(), 1);
    assert_eq!(db.history(results[0].0.id).await.unwrap().len(), 1);
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
}

async fn concurrent_deliveries_of_one_change_apply_it_once(db: Database) {
    // A comment keeps status and master, so the compare-and-set alone cannot
    // stop a second delivery: the update id must.
    let (order, _) = db
        .create_order(&new_order(1), Some(1), |_| vec![])
        .await
        .unwrap();
    let comment = Change {
        order_id: order.id,
        expected_master: None,
        transition: Transition {
            from: OrderStatus::New,
            to: OrderStatus::New,
            master: None,
        },
        action: Action::Comment {
            text: "позвонить заранее".into(),
        },
        actor: DISPATCHER,
        update_id: Some(77),
        edit: None,
        repair: None,
        jobs: Vec::new(),
    };
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (db, barrier, change) = (db.clone(), barrier.clone(), comment.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                db.apply_change(&change, note_to(5)).await.unwrap()
            })
        })
        .collect();
    let (mut applied, mut duplicates) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Applied::Done(_) => applied += 1,
            Applied::Duplicate(o) => {
                assert_eq!(o.id, order.id);
                duplicates += 1
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((applied, duplicates), (1, 9));
    let comments = db
        .history(order.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.action == "comment")
        .count();
    assert_eq!(comments, 1);
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
}

/// A database of the release before clients were records: opening it
/// creates one client per phone, named and addressed as its latest order,
/// and links every order to its client.
#[tokio::test]
async fn orders_of_before_get_their_clients_on_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0004" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let file = dir.path().join("bot.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for (client, name, phone, address, at) in [
            (11, "Анна", "+79991234567", "ул. Ленина, 1", 1000),
            (
                12,
                "Анна Петровна",
                "+79991234567",
                "ул. Ленина, 1, кв. 2",
                2000,
            ),
            (13, "Борис", "+79990000000", "ул. Мира, 3", 3000),
        ] {
            sqlx::query(
                "INSERT INTO orders (client_id, client_chat_id, client_name, equipment, description,
                    address, phone, visit_time, created_at, updated_at)
                 VALUES ($1, $1, $2, 'tv', 'не включается', $3, $4, 'any', $5, $5)",
            )
            .bind(client)
            .bind(name)
            .bind(address)
            .bind(phone)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }

    let db = Database::open_sqlite(&file).await.unwrap();
    let anna = db.client_by_phone("+79991234567").await.unwrap().unwrap();
    assert_eq!(anna.name, "Анна Петровна");
    assert_eq!(anna.last_address.as_deref(), Some("ул. Ленина, 1, кв. 2"));
    assert_eq!(
        anna.telegram_id, None,
        "numbers of before were typed: nobody is linked"
    );
    assert_eq!(
        (anna.orders, anna.last_order),
        (2, Some((2, OrderStatus::New)))
    );
    let boris = db.client_by_phone("+79990000000").await.unwrap().unwrap();
    assert_eq!(boris.orders, 1);
    for id in 1..=3 {
        assert!(db.order(id).await.unwrap().unwrap().client_ref.is_some());
    }
    db.close().await;
}

mod migration;
