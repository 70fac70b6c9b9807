//! Whether the stores take writes. A database with a full disk, or a Redis
//! out of memory, still answers reads and pings, so a health check that only
//! pings says "ok" while every order fails to file. Each store records the
//! outcome of its real writes here, and `/healthz` reads it. The update
//! intake records whether updates are arriving ([`IntakeHealth`]).

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one failed write keeps a store unhealthy when no write follows
/// it: long enough for an orchestrator's probe (every 10–30 s) to see it,
/// short enough that a quiet bot does not stay marked down for an old fault.
pub const WRITE_FAILURE_WINDOW: Duration = Duration::from_secs(120);

/// The last write outcome of one store. Cheap on the hot path: a successful
/// write while nothing failed is one atomic load.
#[derive(Debug)]
pub struct WriteHealth {
    base: Instant,
    /// Milliseconds since `base` of the last failed write, plus one; 0 while
    /// the last write succeeded.
    failed_at: AtomicU64,
    last_error: Mutex<String>,
}

impl Default for WriteHealth {
    fn default() -> Self {
        Self {
            base: Instant::now(),
            failed_at: AtomicU64::new(0),
            last_error: Mutex::new(String::new()),
        }
    }
}

impl WriteHealth {
    /// Records a write's outcome.
    pub fn record<T, E: Display>(&self, result: &Result<T, E>) {
        match result {
            Ok(_) => self.succeeded(),
            Err(e) => self.failed(e),
        }
    }

    /// A write went through: the store is healthy again at once.
    pub fn succeeded(&self) {
        if self.failed_at.load(Ordering::Relaxed) != 0 {
            self.failed_at.store(0, Ordering::Relaxed);
        }
    }

    /// A write failed with `error`.
    pub fn failed(&self, error: &dyn Display) {
        let text: String = error.to_string().chars().take(300).collect();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = text;
        let at = self.base.elapsed().as_millis() as u64 + 1;
        self.failed_at.store(at, Ordering::Relaxed);
    }

    /// `Err` naming the failure while the last write failed less than
    /// `window` ago.
    pub fn status(&self, window: Duration) -> Result<(), String> {
        let failed_at = self.failed_at.load(Ordering::Relaxed);
        if failed_at == 0 {
            return Ok(());
        }
        let ago = Duration::from_millis(
            (self.base.elapsed().as_millis() as u64 + 1).saturating_sub(failed_at),
        );
        if ago >= window {
            return Ok(());
        }
        let error = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Err(format!("last write failed {}s ago: {error}", ago.as_secs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_is_unhealthy_until_a_write_succeeds() {
        let health = WriteHealth::default();
        assert!(health.status(WRITE_FAILURE_WINDOW).is_ok());
        health.record::<(), _>(&Err("database or disk is full"));
        let status = health.status(WRITE_FAILURE_WINDOW).unwrap_err();
        assert!(status.contains("database or disk is full"), "{status}");
        health.record::<_, String>(&Ok(()));
        assert!(health.status(WRITE_FAILURE_WINDOW).is_ok());
    }

    #[test]
    fn an_old_failure_no_longer_counts() {
        let health = WriteHealth::default();
        health.failed(&"OOM command not allowed");
        assert!(health.status(Duration::from_secs(60)).is_err());
        std::thread::sleep(Duration::from_millis(20));
        assert!(health.status(Duration::from_millis(10)).is_ok());
    }
}

/// The long-poll period of `getUpdates`, in seconds: polling waits this long
/// for news, and `/healthz` allows two periods without a successful poll.
pub const LONG_POLL_SECS: u32 = 25;

/// Whether updates reach the bot: the polling loop notes each successful
/// `getUpdates`, start-up notes a registered webhook. Shared by the intake
/// and `/healthz` (one per process, passed to both, not a global).
#[derive(Debug)]
pub struct IntakeHealth {
    base: Instant,
    /// Milliseconds since `base` of the last successful poll, plus one; 0 = never.
    last_poll: AtomicU64,
    webhook_ready: std::sync::atomic::AtomicBool,
}

impl Default for IntakeHealth {
    fn default() -> Self {
        Self {
            base: Instant::now(),
            last_poll: AtomicU64::new(0),
            webhook_ready: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl IntakeHealth {
    /// `getUpdates` answered: updates are being received.
    pub fn poll_succeeded(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_poll.store(ms + 1, Ordering::Relaxed);
    }

    /// Time since the last successful `getUpdates`; `None` if there was none.
    pub fn since_last_poll(&self) -> Option<Duration> {
        match self.last_poll.load(Ordering::Relaxed) {
            0 => None,
            t => Some(
                self.base
                    .elapsed()
                    .saturating_sub(Duration::from_millis(t - 1)),
            ),
        }
    }

    /// The webhook is registered and the server accepts updates.
    pub fn webhook_ready(&self) {
        self.webhook_ready.store(true, Ordering::Relaxed);
    }

    /// Whether [`IntakeHealth::webhook_ready`] was called.
    pub fn is_webhook_ready(&self) -> bool {
        self.webhook_ready.load(Ordering::Relaxed)
    }
}
