//! One contract, every backend: the same checks run against memory, a real
//! SQLite file and a real Redis (the local service at 127.0.0.1:6379, under a
//! random key prefix so parallel runs never collide).

use std::time::Duration;

use super::*;

async fn check_contract(store: &dyn FsmStorage) {
    let a = DialogKey::private(1001);
    let b = DialogKey {
        chat_id: -5,
        user_id: 1001,
    };
    assert_eq!(store.get(a).await.unwrap(), None);

    let first = StoredDialog {
        state: "OrderState:equipment".into(),
        data: "{\"_v\":1}".into(),
    };
    store.set(a, &first).await.unwrap();
    assert_eq!(store.get(a).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.get(b).await.unwrap(),
        None,
        "chat and user together form the key"
    );

    let second = StoredDialog {
        state: "OrderState:description".into(),
        data: "{\"_v\":1,\"equipment\":\"tv\",\"description\":\"Нет звука\"}".into(),
    };
    store.set(a, &second).await.unwrap();
    store.set(b, &first).await.unwrap();
    assert_eq!(store.get(a).await.unwrap(), Some(second.clone()));

    let listed = store.list().await.unwrap();
    assert!(
        listed.contains(&(a, second.clone())) && listed.contains(&(b, first.clone())),
        "{listed:?}"
    );

    store.clear(a).await.unwrap();
    assert_eq!(store.get(a).await.unwrap(), None);
    store.clear(a).await.unwrap();
    assert_eq!(store.get(b).await.unwrap(), Some(first));
    store.clear(b).await.unwrap();
    store.ping().await.unwrap();
    check_finish(store).await;
}

/// `finish` ends the dialog and remembers the update it ended after;
/// `load` gives the dialog or, without one, that mark.
async fn check_finish(store: &dyn FsmStorage) {
    let key = DialogKey::private(3003);
    let d = StoredDialog {
        state: "OrderState:confirm".into(),
        data: "{\"_v\":1,\"_u\":41}".into(),
    };
    assert_eq!(store.load(key).await.unwrap(), Loaded::default());
    store.set(key, &d).await.unwrap();
    let loaded = store.load(key).await.unwrap();
    assert_eq!(loaded.dialog, Some(d.clone()));
    store.finish(key, 42).await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), None, "the dialog is gone");
    assert!(store.list().await.unwrap().iter().all(|(k, _)| *k != key));
    assert_eq!(store.finished_through(key).await.unwrap(), Some(42));
    assert_eq!(
        store.load(key).await.unwrap(),
        Loaded {
            dialog: None,
            finished_through: Some(42)
        }
    );
    // A new dialog takes over; finishing it again moves the mark.
    store.set(key, &d).await.unwrap();
    assert_eq!(store.load(key).await.unwrap().finished_through, None);
    store.finish(key, 57).await.unwrap();
    assert_eq!(store.finished_through(key).await.unwrap(), Some(57));
    assert_eq!(
        store
            .finished_through(DialogKey::private(3004))
            .await
            .unwrap(),
        None
    );
}

async fn check_ttl(store: &dyn FsmStorage) {
    let key = DialogKey::private(2002);
    let d = StoredDialog {
        state: "OrderState:address".into(),
        data: "{}".into(),
    };
    store.set(key, &d).await.unwrap();
    assert!(store.get(key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        store.get(key).await.unwrap(),
        None,
        "expired dialogs are gone"
    );
}

async fn sqlite_store(ttl: Option<Duration>) -> (tempfile::TempDir, sqlite::SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::Database::open_sqlite(&dir.path().join("t.db"))
        .await
        .unwrap();
    (
        dir,
        sqlite::SqliteStorage::new(db.sqlite_pool().unwrap().clone(), ttl),
    )
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

fn random_prefix() -> String {
    format!("test{}", std::process::id() as u64 * 1000 + rand_suffix())
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn sqlite_deletes_expired_dialogs_on_purge() {
    let (_dir, store) = sqlite_store(Some(Duration::from_millis(200))).await;
    let d = StoredDialog {
        state: "OrderState:phone".into(),
        data: "{\"phone\":\"+79990000000\"}".into(),
    };
    store.set(DialogKey::private(1), &d).await.unwrap();
    assert_eq!(store.purge_expired().await.unwrap(), 0, "not expired yet");
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.set(DialogKey::private(2), &d).await.unwrap();
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fsm_state")
        .fetch_one(&store_pool(&store))
        .await
        .unwrap();
    assert_eq!(left, 1, "the row itself is gone, not only hidden from get");
    let (_dir, forever) = sqlite_store(None).await;
    forever.set(DialogKey::private(3), &d).await.unwrap();
    assert_eq!(forever.purge_expired().await.unwrap(), 0);
}

fn store_pool(store: &sqlite::SqliteStorage) -> sqlx::SqlitePool {
    store.pool().clone()
}

#[tokio::test]
async fn memory_backend_keeps_the_contract() {
    check_contract(&memory::MemoryStorage::new(None)).await;
    check_ttl(&memory::MemoryStorage::new(Some(Duration::from_secs(2)))).await;
}

#[tokio::test]
async fn sqlite_backend_keeps_the_contract() {
    let (_dir, store) = sqlite_store(None).await;
    check_contract(&store).await;
    let (_dir, store) = sqlite_store(Some(Duration::from_secs(2))).await;
    check_ttl(&store).await;
}

#[tokio::test]
async fn redis_backend_keeps_the_contract() {
    let prefix = random_prefix();
    let store = redis::RedisStorage::connect(&redis_url(), &prefix, None)
        .await
        .expect("local Redis at 127.0.0.1:6379");
    check_contract(&store).await;
    let store = redis::RedisStorage::connect(&redis_url(), &prefix, Some(Duration::from_secs(2)))
        .await
        .unwrap();
    check_ttl(&store).await;
}

#[tokio::test]
async fn redis_writes_the_runbook_layout() {
    let prefix = random_prefix();
    let store = redis::RedisStorage::connect(&redis_url(), &prefix, Some(Duration::from_secs(600)))
        .await
        .unwrap();
    let key = DialogKey::private(77);
    let d = StoredDialog {
        state: "OrderState:description".into(),
        data: "{\"equipment\":\"tv\"}".into(),
    };
    store.set(key, &d).await.unwrap();
    let client = ::redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let state: String = ::redis::cmd("GET")
        .arg(format!("{prefix}:fsm:state:77:77"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "OrderState:description");
    let data: String = ::redis::cmd("GET")
        .arg(format!("{prefix}:fsm:data:77:77"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(data, "{\"equipment\":\"tv\"}");
    let ttl: i64 = ::redis::cmd("TTL")
        .arg(format!("{prefix}:fsm:data:77:77"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((590..=600).contains(&ttl), "TTL renewed on write: {ttl}");
    store.clear(key).await.unwrap();
    let left: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "an ended dialog deletes both keys: {left:?}"
    );
}
