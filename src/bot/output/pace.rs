//! Telegram's limits for what the outbox sends: about 30 messages a second
//! for the whole bot and about one a second into one private chat (short
//! bursts tolerated); beyond them it answers 429 with `retry_after`. A
//! burst of reminders paced here meets no wall of 429s. (Groups get 20 a
//! minute in the lanes themselves, see `outbox::Lanes::group_wait`.)

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{Rate, DEFAULT_OUTBOX_BOT_RATE, DEFAULT_OUTBOX_CHAT_RATE};

/// The outbox's limiters (token buckets from `governor`); `None` is no limit.
pub struct Pace {
    bot: Option<DefaultDirectRateLimiter>,
    per_chat: Option<DefaultKeyedRateLimiter<i64>>,
}

fn quota(rate: Rate) -> Quota {
    Quota::per_second(rate.per_second).allow_burst(rate.burst)
}

impl Pace {
    /// Limiters at `bot` for the bot as a whole and `chat` per private chat.
    pub fn new(bot: Option<Rate>, chat: Option<Rate>) -> Self {
        Self {
            bot: bot.map(|r| RateLimiter::direct(quota(r))),
            per_chat: chat.map(|r| RateLimiter::keyed(quota(r))),
        }
    }

    /// Waits until a notification may go to `chat`.
    pub async fn before_notification(&self, chat: i64) {
        if let (true, Some(per_chat)) = (chat >= 0, &self.per_chat) {
            per_chat.until_key_ready(&chat).await;
        }
        if let Some(bot) = &self.bot {
            bot.until_ready().await;
        }
    }

    /// Forgets chats whose bucket is full again (the keyed store would
    /// otherwise keep every chat ever written to).
    pub fn forget_idle_chats(&self) {
        if let Some(per_chat) = &self.per_chat {
            per_chat.retain_recent();
            per_chat.shrink_to_fit();
        }
    }
}

impl Default for Pace {
    /// Telegram's limits.
    fn default() -> Self {
        let parse = |r| Rate::parse(r).expect("valid default");
        Self::new(
            parse(DEFAULT_OUTBOX_BOT_RATE),
            parse(DEFAULT_OUTBOX_CHAT_RATE),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn a_chat_gets_its_burst_then_one_a_second_while_others_go_on() {
        let rate = |r| Rate::parse(r).unwrap();
        let pace = Pace::new(rate("1000/s"), rate("1/s:3"));
        let start = Instant::now();
        for _ in 0..3 {
            pace.before_notification(42).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "the burst goes at once"
        );
        pace.before_notification(42).await;
        assert!(
            start.elapsed() >= Duration::from_millis(900),
            "the fourth waits a second"
        );
        let other = Instant::now();
        pace.before_notification(43).await;
        assert!(
            other.elapsed() < Duration::from_millis(100),
            "another chat does not wait"
        );
    }

    #[tokio::test]
    async fn the_bot_as_a_whole_keeps_to_its_budget() {
        let rate = |r| Rate::parse(r).unwrap();
        let pace = Pace::new(rate("20/s:1"), rate("1/s:1"));
        let start = Instant::now();
        for chat in 0..40 {
            pace.before_notification(chat).await;
        }
        // 40 messages at 20 a second, evenly: one every 50 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(1900),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn no_limit_when_turned_off() {
        let pace = Pace::new(None, None);
        let start = Instant::now();
        for _ in 0..1000 {
            pace.before_notification(7).await;
        }
        assert!(start.elapsed() < Duration::from_millis(200));
    }
}
