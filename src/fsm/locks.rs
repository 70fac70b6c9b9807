//! Coordination between bot replicas that share Redis.
//!
//! * [`UserLocks`]: one update of a user at a time across all replicas
//!   (`{prefix}-sync:lock:<user>`), so a dialog's steps never race.
//! * [`Lease`]: one replica at a time delivers the outbox
//!   (`{prefix}-sync:lease:outbox`).
//!
//! The keys live outside `{prefix}:*` on purpose: the runbook's
//! `KEYS aiogram:*` must list only the dialog keys.
//!
//! Both are `SET key token NX PX ttl` with a random token, renewed every third
//! of the TTL while held, and released or renewed only by a script that checks
//! the token first — so a holder that stalls past its TTL can never delete or
//! extend someone else's lock, and a lost lock is logged and counted, never
//! silent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::redis::map_err;
use super::StorageError;

const RENEW_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  return 0
end"#;

const RELEASE_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
else
  return 0
end"#;

fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    format!("{}-{:016x}", std::process::id(), h.finish())
}

async fn try_set(
    conn: &ConnectionManager,
    key: &str,
    token: &str,
    ttl: Duration,
) -> Result<bool, StorageError> {
    let reply: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(token)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query_async(&mut conn.clone())
        .await
        .map_err(map_err)?;
    Ok(reply.is_some())
}

async fn renew(
    conn: &ConnectionManager,
    key: &str,
    token: &str,
    ttl: Duration,
) -> Result<bool, StorageError> {
    let n: i64 = redis::Script::new(RENEW_SCRIPT)
        .key(key)
        .arg(token)
        .arg(ttl.as_millis() as u64)
        .invoke_async(&mut conn.clone())
        .await
        .map_err(map_err)?;
    Ok(n == 1)
}

async fn release(conn: &ConnectionManager, key: &str, token: &str) -> Result<(), StorageError> {
    let _: i64 = redis::Script::new(RELEASE_SCRIPT)
        .key(key)
        .arg(token)
        .invoke_async(&mut conn.clone())
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Per-user mutual exclusion across replicas.
#[derive(Clone)]
pub struct UserLocks {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
    max_wait: Duration,
}

/// A held user lock; renewed in the background until [`UserLockGuard::release`].
pub struct UserLockGuard {
    conn: ConnectionManager,
    key: String,
    token: String,
    renewal: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl UserLocks {
    /// Locks under `{prefix}-sync:lock:<user>` that live `ttl` unless renewed.
    pub fn new(conn: ConnectionManager, prefix: &str, ttl: Duration) -> Self {
        Self {
            conn,
            prefix: prefix.to_string(),
            ttl,
            max_wait: Duration::from_secs(30),
        }
    }

    /// Redis key of a user's lock.
    pub fn key(&self, user_id: i64) -> String {
        format!("{}-sync:lock:{user_id}", self.prefix)
    }

    /// Waits (bounded) for the user's lock. `Err` when Redis fails or the
    /// wait exceeds its bound; the caller then proceeds without it, and the
    /// dialog store reports the outage on its own.
    pub async fn acquire(&self, user_id: i64) -> Result<UserLockGuard, StorageError> {
        let key = self.key(user_id);
        let token = random_token();
        let deadline = tokio::time::Instant::now() + self.max_wait;
        let mut pause = Duration::from_millis(2);
        while !try_set(&self.conn, &key, &token, self.ttl).await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(StorageError::Unavailable(format!(
                    "user lock {key} still held after {:?}",
                    self.max_wait
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = {
            let (conn, key, token, ttl, lost) = (
                self.conn.clone(),
                key.clone(),
                token.clone(),
                self.ttl,
                lost.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    match renew(&conn, &key, &token, ttl).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::SeqCst);
                            crate::metrics::lock_lost();
                            tracing::error!(key = %key, "user lock lost while its update was still being handled");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(key = %key, error = %e, "could not renew a user lock; retrying")
                        }
                    }
                }
            })
        };
        Ok(UserLockGuard {
            conn: self.conn.clone(),
            key,
            token,
            renewal,
            lost,
        })
    }
}

impl UserLockGuard {
    /// True if another holder could have taken the lock meanwhile.
    pub fn was_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stops renewing and deletes the lock if it is still ours.
    pub async fn release(self) {
        self.renewal.abort();
        if let Err(e) = release(&self.conn, &self.key, &self.token).await {
            // It expires by itself within the TTL.
            tracing::warn!(key = %self.key, error = %e, "could not release a user lock");
        }
    }
}

impl Drop for UserLockGuard {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// A lease that at most one replica holds at a time (outbox delivery).
pub struct Lease {
    conn: ConnectionManager,
    key: String,
    token: String,
    ttl: Duration,
    held: AtomicBool,
}

impl Lease {
    /// A lease on `{prefix}-sync:lease:<name>`.
    pub fn new(conn: ConnectionManager, prefix: &str, name: &str, ttl: Duration) -> Self {
        Self {
            conn,
            key: format!("{prefix}-sync:lease:{name}"),
            token: random_token(),
            ttl,
            held: AtomicBool::new(false),
        }
    }

    /// Takes or renews the lease; `true` while this replica holds it. Call
    /// it before each unit of work, at least every third of the TTL.
    pub async fn hold(&self) -> bool {
        let held = if self.held.load(Ordering::SeqCst) {
            renew(&self.conn, &self.key, &self.token, self.ttl).await
        } else {
            try_set(&self.conn, &self.key, &self.token, self.ttl).await
        };
        let now = matches!(held, Ok(true));
        let before = self.held.swap(now, Ordering::SeqCst);
        if now != before {
            tracing::info!(lease = %self.key, held = now, "lease changed hands");
        }
        now
    }

    /// Gives the lease up (graceful shutdown), so another replica takes over at once.
    pub async fn give_up(&self) {
        if self.held.swap(false, Ordering::SeqCst) {
            let _ = release(&self.conn, &self.key, &self.token).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn conn() -> ConnectionManager {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
        ConnectionManager::new(redis::Client::open(url).unwrap())
            .await
            .expect("local Redis")
    }

    fn prefix() -> String {
        format!("locktest{}{}", std::process::id(), random_token().len())
    }

    #[tokio::test]
    async fn a_user_lock_excludes_and_hands_over_in_turn() {
        let locks = UserLocks::new(conn().await, &prefix(), Duration::from_millis(600));
        let counter = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (locks, counter) = (locks.clone(), counter.clone());
            tasks.push(tokio::spawn(async move {
                let guard = locks.acquire(42).await.unwrap();
                let inside = counter.fetch_add(1, Ordering::SeqCst);
                assert_eq!(inside, 0, "two holders at once");
                tokio::time::sleep(Duration::from_millis(20)).await;
                counter.fetch_sub(1, Ordering::SeqCst);
                guard.release().await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_slow_holder_keeps_its_lock_by_renewal() {
        let locks = UserLocks::new(conn().await, &prefix(), Duration::from_millis(300));
        let guard = locks.acquire(7).await.unwrap();
        // Far longer than the TTL: renewal must keep others out.
        let other = UserLocks {
            max_wait: Duration::from_millis(1200),
            ..locks.clone()
        };
        assert!(
            other.acquire(7).await.is_err(),
            "the lock outlived its TTL only because it was renewed"
        );
        assert!(!guard.was_lost());
        guard.release().await;
        let again = locks.acquire(7).await.unwrap();
        again.release().await;
    }

    #[tokio::test]
    async fn only_one_replica_holds_a_lease() {
        let p = prefix();
        let a = Lease::new(conn().await, &p, "outbox", Duration::from_millis(500));
        let b = Lease::new(conn().await, &p, "outbox", Duration::from_millis(500));
        assert!(a.hold().await);
        assert!(!b.hold().await);
        assert!(a.hold().await, "the holder renews");
        a.give_up().await;
        assert!(b.hold().await, "released at once on give_up");
        assert!(!a.hold().await);
        b.give_up().await;
    }
}
