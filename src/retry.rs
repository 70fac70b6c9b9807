//! The bot's retry policies, in one place, on the `backon` crate: every
//! loop that tries a request again (connecting at start-up, reaching the Bot
//! API, sending a reply) takes its schedule from here and says with `when`
//! which errors are worth another try.

use std::time::Duration;

pub use backon::Retryable;
use backon::{ConstantBuilder, ExponentialBuilder};

/// A service that is still starting (PostgreSQL or Redis next to the bot in
/// a compose file): once a second, for as long as the caller's [`Deadline`]
/// is open (an attempt itself may take seconds, so a count would not do).
pub fn while_starting() -> ConstantBuilder {
    ConstantBuilder::new()
        .with_delay(Duration::from_secs(1))
        .without_max_times()
}

/// A point in time after which a retry loop gives up, for `when`.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(tokio::time::Instant);

impl Deadline {
    /// `patience` from now.
    pub fn after(patience: Duration) -> Self {
        Self(tokio::time::Instant::now() + patience)
    }

    /// Whether there is time left for another try.
    pub fn open(&self) -> bool {
        tokio::time::Instant::now() < self.0
    }
}

/// The Bot API not reachable at start-up: 1 s, 2 s, 4 s... at most 30 s
/// apart, for as long as it takes (the caller stops on shutdown).
pub fn until_reachable() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_factor(2.0)
        .without_max_times()
}

/// A reply to the user: two more tries, 300 ms then 600 ms later (a waiting
/// user would rather get the question again with their next message).
pub fn reply() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(300))
        .with_factor(2.0)
        .with_max_times(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;

    #[test]
    fn schedules_are_the_documented_ones() {
        let waits: Vec<Duration> = while_starting().build().take(3).collect();
        assert_eq!(waits, vec![Duration::from_secs(1); 3]);
        assert!(!Deadline::after(Duration::ZERO).open());
        assert!(Deadline::after(Duration::from_secs(60)).open());
        let waits: Vec<u64> = reply().build().map(|d| d.as_millis() as u64).collect();
        assert_eq!(waits, [300, 600]);
        let waits: Vec<u64> = until_reachable()
            .build()
            .take(7)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[tokio::test]
    async fn only_errors_worth_it_are_tried_again() {
        let mut calls = 0;
        let result: Result<(), &str> = (|| {
            calls += 1;
            async { Err("refused for good") }
        })
        .retry(while_starting())
        .sleep(|_| std::future::ready(()))
        .when(|e| *e != "refused for good")
        .await;
        assert_eq!(result, Err("refused for good"));
        assert_eq!(calls, 1);
    }
}
