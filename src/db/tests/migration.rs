//! The shop's lifecycle migration on a database from before it: orders in
//! every old status, both kinds of cancellation, a deleted last order. The
//! database is built by the migrations of that release, filled, then opened
//! by this one.

use std::borrow::Cow;

use sqlx::migrate::Migrator;

use super::*;

/// The migrations of the release before the shop's lifecycle.
fn before_lifecycle(migrator: &Migrator, last_version: i64) -> Migrator {
    let mut old = Migrator::DEFAULT;
    old.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= last_version)
            .cloned()
            .collect(),
    );
    old
}

/// Orders as the old release stored them: (id, status, master), and one
/// history row each for how it got there.
const OLD_ORDERS: &str = "
INSERT INTO orders (id, client_id, client_chat_id, client_name, equipment, description, address,
    phone, visit_time, status, master_id, rating, created_at, updated_at) VALUES
 (1, 11, 11, 'Анна', 'tv', 'Нет звука', 'ул. Мира, 1', '+79990000001', 'any', 'new', NULL, NULL, 1000, 1000),
 (2, 11, 11, 'Анна', 'tv', 'Нет звука', 'ул. Мира, 1', '+79990000001', 'any', 'assigned', 20, NULL, 1000, 1000),
 (3, 12, 12, 'Борис', 'oven', 'Не греет', 'ул. Мира, 2', '+79990000002', 'any', 'in_progress', 20, NULL, 1000, 1000),
 (4, 12, 12, 'Борис', 'oven', 'Не греет', 'ул. Мира, 2', '+79990000002', 'any', 'waiting_parts', 20, NULL, 1000, 1000),
 (5, 13, 13, 'Вера', 'dryer', 'Шумит', 'ул. Мира, 3', '+79990000003', 'any', 'done', 20, 5, 1000, 1000),
 (6, 13, 13, 'Вера', 'dryer', 'Шумит', 'ул. Мира, 3', '+79990000003', 'any', 'cancelled', NULL, NULL, 1000, 1000),
 (7, 14, 14, 'Глеб', 'dryer', 'Шумит', 'ул. Мира, 4', '+79990000004', 'any', 'cancelled', 20, NULL, 1000, 1000),
 (8, 14, 14, 'Глеб', 'dryer', 'Шумит', 'ул. Мира, 4', '+79990000004', 'any', 'new', NULL, NULL, 1000, 1000);
INSERT INTO order_history (order_id, action, from_status, to_status, actor_id, actor_role, comment, at) VALUES
 (3, 'start_work', 'assigned', 'in_progress', 20, 'master', NULL, 2000),
 (4, 'wait_parts', 'in_progress', 'waiting_parts', 20, 'master', NULL, 2000),
 (5, 'finish', 'in_progress', 'done', 20, 'master', NULL, 2000),
 (6, 'cancel', 'new', 'cancelled', 13, 'client', NULL, 2000),
 (7, 'cancel', 'in_progress', 'cancelled', 30, 'dispatcher', NULL, 2000);
DELETE FROM orders WHERE id = 8;
INSERT INTO people (user_id, role, name, added_by, added_at) VALUES (20, 'master', 'Пётр', 1, 1000);
";

/// What the old statuses became.
async fn check_mapped(db: &Database) {
    let want = [
        (1, OrderStatus::New),
        (2, OrderStatus::Assigned),
        (3, OrderStatus::OnSite),
        (4, OrderStatus::LongRepair),
        (5, OrderStatus::Closed),
        (6, OrderStatus::Cancelled),
        (7, OrderStatus::Refused),
    ];
    for (id, status) in want {
        let order = db.order(id).await.unwrap().expect("kept");
        assert_eq!(order.status, status, "order {id}");
        assert_eq!(
            order.client_id,
            Some(10 + (id + 1) / 2),
            "order {id} keeps its client"
        );
    }
    assert_eq!(db.order(5).await.unwrap().unwrap().rating, Some(5));
    // People kept, and one of them may now take a second role.
    let dispatcher = Person {
        user_id: 20,
        role: Role::Dispatcher,
        name: "Пётр".into(),
    };
    db.upsert_person(&dispatcher, 1).await.unwrap();
    let roles: Vec<Role> = db
        .person_roles(20)
        .await
        .unwrap()
        .iter()
        .map(|p| p.role)
        .collect();
    assert_eq!(roles, [Role::Master, Role::Dispatcher]);
    let history = |id| async move { db.history(id).await.unwrap() };
    let refused = history(7).await;
    assert_eq!(
        refused[0].action, "refuse",
        "a staff cancellation is a refusal"
    );
    assert_eq!(refused[0].to_status, OrderStatus::Refused);
    assert_eq!(refused[0].from_status, Some(OrderStatus::OnSite));
    let cancelled = history(6).await;
    assert_eq!(cancelled[0].action, "cancel");
    assert_eq!(cancelled[0].to_status, OrderStatus::Cancelled);
    assert_eq!(history(4).await[0].to_status, OrderStatus::LongRepair);
    assert_eq!(history(5).await[0].to_status, OrderStatus::Closed);

    // The number of the deleted order 8 is never given again.
    let (next, created) = db
        .create_order(&new_order(15), Some(900), |_| vec![])
        .await
        .unwrap();
    assert!(created);
    assert!(next.id > 8, "got number {}", next.id);
    assert_eq!(db.count_orders().await.unwrap(), 8);
    // The new statuses are allowed by the table.
    let accept = Change {
        order_id: 2,
        expected_master: Some(20),
        transition: Transition {
            from: OrderStatus::Assigned,
            to: OrderStatus::Accepted,
            master: None,
        },
        action: Action::Accept,
        actor: Actor::new(20, Role::Master),
        update_id: Some(901),
        edit: None,
        repair: None,
        jobs: Vec::new(),
    };
    assert!(matches!(
        db.apply_change(&accept, |_| vec![]).await.unwrap(),
        Applied::Done(_)
    ));
}

#[tokio::test]
async fn a_sqlite_database_from_before_the_shop_lifecycle_is_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let old = sqlx::SqlitePool::connect(&url).await.unwrap();
    before_lifecycle(&SQLITE_MIGRATOR, 4)
        .run(&old)
        .await
        .unwrap();
    sqlx::raw_sql(OLD_ORDERS).execute(&old).await.unwrap();
    old.close().await;

    let db = Database::open_sqlite(&path).await.unwrap();
    check_mapped(&db).await;
    let file = sqlx::SqlitePool::connect(&url).await.unwrap();
    let on_sqlite = |sql: &'static str| {
        let file = file.clone();
        async move {
            let value: String = sqlx::query_scalar(sql).fetch_one(&file).await.unwrap();
            value
        }
    };
    // The rebuilt table kept its indexes and every reference holds.
    let indexes = on_sqlite(
        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'orders' AND name NOT LIKE 'sqlite_%' ORDER BY name)",
    )
    .await;
    assert_eq!(
        indexes,
        "orders_client,orders_client_ref,orders_created_live,orders_legacy_number,orders_master,\
         orders_master_live,orders_phone,orders_status,orders_status_done_live"
    );
    let broken = on_sqlite("SELECT CAST(COUNT(*) AS TEXT) FROM pragma_foreign_key_check").await;
    assert_eq!(broken, "0");
    file.close().await;
    db.close().await;
}

#[tokio::test]
async fn a_postgres_database_from_before_the_shop_lifecycle_is_mapped() {
    let schema = PgSchema::create().await;
    let old = PgPool::connect(&schema.url()).await.unwrap();
    before_lifecycle(&POSTGRES_MIGRATOR, 3)
        .run(&old)
        .await
        .unwrap();
    sqlx::raw_sql(OLD_ORDERS).execute(&old).await.unwrap();
    // Rows copied with their numbers: the identity moves past them, as
    // the copy tool of the first releases did.
    sqlx::raw_sql("SELECT setval(pg_get_serial_sequence('orders', 'id'), 8)")
        .execute(&old)
        .await
        .unwrap();
    old.close().await;
    let db = Database::open_postgres_with_patience(&schema.url(), Duration::ZERO)
        .await
        .unwrap();
    let outcome = AssertUnwindSafe(check_mapped(&db)).catch_unwind().await;
    db.close().await;
    schema.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
