//! The per-user flood limit, applied to every update before it is queued:
//! one user sending thousands of messages must not hold up anyone else,
//! nor fill the bot's queues. A token bucket per user (GCRA, `governor`):
//! `USER_RATE_LIMIT` (default 2 per second, bursts of 4) for clients,
//! `STAFF_RATE_LIMIT` (default 10 per second, bursts of 30) for admins,
//! dispatchers and masters. A media group (an album) counts once. Past the
//! limit the user gets one "slow down" notice, and their further updates
//! are confirmed to Telegram and dropped until the bucket refills; each drop
//! is counted in `/metrics`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::bot::incoming::{Incoming, Input};
use crate::bot::output::reply;
use crate::bot::BotContext;

/// One "slow down" notice per user at most this often.
pub const NOTICE_EVERY: Duration = Duration::from_secs(60);

/// A message sent longer ago than this when it arrives is a backlog (the
/// bot was down, polling failed, or Telegram delivers again after a crash),
/// not a flood: it passes without taking a token, so a user's messages
/// written at a normal pace are never dropped for arriving together.
pub const BACKLOG_AGE: Duration = Duration::from_secs(20);

/// How long an album's id is remembered, so its other items pass free.
const MEDIA_GROUP_MEMORY: Duration = Duration::from_secs(10);

pub use crate::config::Rate;

fn quota(rate: Rate) -> Quota {
    Quota::per_second(rate.per_second).allow_burst(rate.burst)
}

/// What the gate decided for one update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Handle it.
    Pass,
    /// Over the limit: drop it and tell the user once.
    Notice,
    /// Over the limit, already told: drop it silently.
    Drop,
}

type Limiter = RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>;

/// The flood gate shared by polling and the webhook.
pub struct Gate {
    clients: Option<Limiter>,
    staff: Option<Limiter>,
    /// Ids with the staff rate: `ADMIN_IDS`, `DISPATCHER_IDS`, and the
    /// people in the database (refreshed by [`refresh_staff`]).
    fixed_staff: HashSet<i64>,
    known_staff: RwLock<HashSet<i64>>,
    noticed: Mutex<HashMap<i64, Instant>>,
    media_groups: Mutex<HashMap<(i64, String), Instant>>,
}

impl Gate {
    /// A gate with the given rates (`None` = no limit for that group).
    pub fn new(clients: Option<Rate>, staff: Option<Rate>, fixed_staff: &[i64]) -> Self {
        Self {
            clients: clients.map(|r| RateLimiter::keyed(quota(r))),
            staff: staff.map(|r| RateLimiter::keyed(quota(r))),
            fixed_staff: fixed_staff.iter().copied().collect(),
            known_staff: RwLock::default(),
            noticed: Mutex::default(),
            media_groups: Mutex::default(),
        }
    }

    /// A gate that lets everything through.
    pub fn open() -> Self {
        Self::new(None, None, &[])
    }

    fn is_staff(&self, user: i64) -> bool {
        self.fixed_staff.contains(&user)
            || self
                .known_staff
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&user)
    }

    /// Replaces the staff ids learnt from the database.
    pub fn set_staff(&self, ids: HashSet<i64>) {
        *self.known_staff.write().unwrap_or_else(|p| p.into_inner()) = ids;
    }

    /// Decides for `inc`.
    pub fn admit(&self, inc: &Incoming) -> Admission {
        self.admit_at(inc, Instant::now())
    }

    fn admit_at(&self, inc: &Incoming, now: Instant) -> Admission {
        let user = inc.sender.user_id;
        if let Some(sent) = inc.sent_at {
            let age = crate::clock::now_ms() / 1000 - sent;
            if age > BACKLOG_AGE.as_secs() as i64 {
                return Admission::Pass;
            }
        }
        let limiter = if self.is_staff(user) {
            &self.staff
        } else {
            &self.clients
        };
        let Some(limiter) = limiter else {
            return Admission::Pass;
        };
        if let Some(group) = &inc.media_group {
            let mut groups = self.media_groups.lock().unwrap_or_else(|p| p.into_inner());
            let key = (user, group.clone());
            if groups
                .get(&key)
                .is_some_and(|at| now.duration_since(*at) < MEDIA_GROUP_MEMORY)
            {
                return Admission::Pass;
            }
            if limiter.check_key(&user).is_ok() {
                groups.insert(key, now);
                return Admission::Pass;
            }
        } else if limiter.check_key(&user).is_ok() {
            return Admission::Pass;
        }
        let mut noticed = self.noticed.lock().unwrap_or_else(|p| p.into_inner());
        match noticed.get(&user) {
            Some(at) if now.duration_since(*at) < NOTICE_EVERY => Admission::Drop,
            _ => {
                noticed.insert(user, now);
                Admission::Notice
            }
        }
    }

    /// Forgets users and albums not seen for a while (memory stays bounded).
    pub fn forget_idle(&self) {
        let now = Instant::now();
        for limiter in [&self.clients, &self.staff].into_iter().flatten() {
            limiter.retain_recent();
        }
        self.noticed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, at| now.duration_since(*at) < NOTICE_EVERY);
        self.media_groups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, at| now.duration_since(*at) < MEDIA_GROUP_MEMORY);
    }
}

/// Drops an update the gate refused: counted, logged at debug, and for the
/// first of a run the user is told to slow down (sent alongside, so the
/// caller never waits for Telegram here).
pub fn refuse(ctx: &BotContext, inc: &Incoming, admission: Admission) {
    crate::metrics::update_throttled();
    tracing::debug!(
        update_id = inc.update_id,
        user_id = inc.sender.user_id,
        "update dropped by the flood limit"
    );
    if admission != Admission::Notice {
        return;
    }
    tracing::info!(
        user_id = inc.sender.user_id,
        "flood limit reached; the user is asked to slow down"
    );
    let ctx = ctx.clone();
    let inc = inc.clone();
    tokio::spawn(async move {
        let text = ctx.texts.get(inc.sender.lang, "slow_down");
        if let Input::Button { query_id, .. } = &inc.input {
            reply::answer_button(&ctx, query_id, Some(text)).await;
        }
        reply::send(&ctx, &inc.sender, text, None).await;
    });
}

/// Keeps the gate's staff list in step with the database, every minute.
pub async fn refresh_staff(ctx: BotContext, stop: tokio_util::sync::CancellationToken) {
    loop {
        let mut ids: HashSet<i64> = HashSet::new();
        match ctx.db.staff_user_ids().await {
            Ok(staff) => ids.extend(staff),
            Err(e) => tracing::warn!(error = %e, "flood limit: cannot list staff"),
        }
        match ctx.db.people_with_role(crate::domain::Role::Master).await {
            Ok(masters) => ids.extend(masters.iter().map(|m| m.user_id)),
            Err(e) => tracing::warn!(error = %e, "flood limit: cannot list masters"),
        }
        ctx.gate.set_staff(ids);
        ctx.gate.forget_idle();
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::incoming::{LostReply, Sender};
    use crate::bot::ui::texts::Lang;

    #[test]
    fn a_backlog_is_not_a_flood() {
        let gate = Gate::new(Rate::parse("1/s:1").unwrap(), None, &[]);
        let now = Instant::now();
        let mut old = text_from(1, None);
        old.sent_at = Some(crate::clock::now_ms() / 1000 - 60);
        assert!((0..20).all(|_| gate.admit_at(&old, now) == Admission::Pass));
        assert_eq!(gate.admit_at(&text_from(1, None), now), Admission::Pass);
        assert_eq!(gate.admit_at(&text_from(1, None), now), Admission::Notice);
    }

    fn text_from(user: i64, media_group: Option<&str>) -> Incoming {
        Incoming {
            update_id: 1,
            sender: Sender {
                user_id: user,
                chat_id: user,
                in_group: false,
                chat_title: String::new(),
                first_name: "A".into(),
                lang: Lang::Ru,
                lost_reply: LostReply::default(),
            },
            input: Input::Text("x".into()),
            media_group: media_group.map(str::to_string),
            sent_at: Some(crate::clock::now_ms() / 1000),
        }
    }

    #[test]
    fn rates_parse_with_units_and_bursts() {
        let r = Rate::parse("2/s:4").unwrap().unwrap();
        assert_eq!((r.per_second.get(), r.burst.get()), (2, 4));
        let r = Rate::parse("10/s").unwrap().unwrap();
        assert_eq!((r.per_second.get(), r.burst.get()), (10, 10));
        let r = Rate::parse("30/m:5").unwrap().unwrap();
        assert_eq!((r.per_second.get(), r.burst.get()), (1, 5));
        assert_eq!(Rate::parse("0").unwrap(), None);
        for bad in ["2", "x/s", "2/h", "2/s:x", "0/s:4", "2/s:0"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_flooder_is_told_once_and_others_are_not_touched() {
        let gate = Gate::new(
            Rate::parse("2/s:4").unwrap(),
            Rate::parse("10/s:30").unwrap(),
            &[99],
        );
        let now = Instant::now();
        let flooder = text_from(1, None);
        let decisions: Vec<Admission> = (0..10).map(|_| gate.admit_at(&flooder, now)).collect();
        assert_eq!(
            &decisions[..4],
            &[Admission::Pass; 4],
            "a burst of 4 passes"
        );
        assert_eq!(decisions[4], Admission::Notice, "then one notice");
        assert!(decisions[5..].iter().all(|d| *d == Admission::Drop));
        assert_eq!(
            gate.admit_at(&text_from(2, None), now),
            Admission::Pass,
            "another user"
        );
        let staff = text_from(99, None);
        assert!(
            (0..30).all(|_| gate.admit_at(&staff, now) == Admission::Pass),
            "staff have more room"
        );
    }

    #[test]
    fn an_album_counts_once() {
        let gate = Gate::new(Rate::parse("1/s:1").unwrap(), None, &[]);
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(
                gate.admit_at(&text_from(1, Some("album-1")), now),
                Admission::Pass
            );
        }
        assert_eq!(gate.admit_at(&text_from(1, None), now), Admission::Notice);
    }

    #[test]
    fn no_limit_lets_everything_through() {
        let gate = Gate::open();
        assert!((0..1000).all(|_| gate.admit(&text_from(1, None)) == Admission::Pass));
    }
}
