use super::*;
use crate::domain::{ApplianceKind, OrderStatus, Role};

fn new_order(client: i64) -> NewOrder {
    NewOrder {
        client_id: client,
        client_chat_id: client,
        client_name: "Иван".into(),
        client_lang: "ru".into(),
        equipment: ApplianceKind::Refrigerator,
        description: "Не морозит".into(),
        photo_file_id: None,
        address: "г. Москва, ул. Ленина, 1".into(),
        phone: "+79991234567".into(),
        visit_time: "any".into(),
    }
}

async fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_sqlite(&dir.path().join("nested/dir/bot.db"))
        .await
        .unwrap();
    (dir, db)
}

#[tokio::test]
async fn creates_parent_directory_and_files_orders_with_history_and_outbox() {
    let (_dir, db) = db().await;
    let note = |o: &Order| {
        vec![Notification {
            chat_id: 5,
            text: format!("#{}", o.id),
            buttons: vec![],
        }]
    };
    let (order, created) = db
        .create_order(&new_order(1), Some(100), note)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(order.status, OrderStatus::New);
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
    let due = db.due_notifications(10).await.unwrap();
    assert_eq!(due[0].notification.text, format!("#{}", order.id));
    db.mark_sent(due[0].id).await.unwrap();
    assert_eq!(db.outbox_backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn the_same_update_never_files_two_orders() {
    let (_dir, db) = db().await;
    let note = |_: &Order| {
        vec![Notification {
            chat_id: 5,
            text: "x".into(),
            buttons: vec![],
        }]
    };
    let (a, first) = db.create_order(&new_order(1), Some(7), note).await.unwrap();
    let (b, second) = db.create_order(&new_order(1), Some(7), note).await.unwrap();
    assert!(first && !second);
    assert_eq!(a.id, b.id);
    assert_eq!(db.count_orders().await.unwrap(), 1);
    assert_eq!(
        db.outbox_backlog().await.unwrap(),
        1,
        "no duplicate notification"
    );
}

#[tokio::test]
async fn people_roles_round_trip() {
    let (_dir, db) = db().await;
    let p = Person {
        user_id: 9,
        role: Role::Master,
        name: "Пётр".into(),
    };
    db.upsert_person(&p, 1).await.unwrap();
    assert_eq!(db.person(9).await.unwrap(), Some(p.clone()));
    assert_eq!(db.people_with_role(Role::Master).await.unwrap(), vec![p]);
    assert!(db.remove_person(9).await.unwrap());
    assert_eq!(db.person(9).await.unwrap(), None);
}
