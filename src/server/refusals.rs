//! Logging refusals without letting hostile traffic write the log: the
//! first refusal of a quiet period is logged at once, the rest are counted
//! and summed up in one line per [`REFUSAL_LOG_INTERVAL`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one log line per refusal kind this often.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// A rate-limited WARN line for one kind of refusal.
pub struct RefusalLog {
    what: &'static str,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last_line: Option<Instant>,
    unlogged: u64,
}

impl RefusalLog {
    /// A log for refusals described by `what`.
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            state: Mutex::default(),
        }
    }

    /// One more refusal at `now`; writes a line if none was written for
    /// [`REFUSAL_LOG_INTERVAL`]. Returns whether it wrote one.
    pub fn note(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.unlogged += 1;
        let due = state
            .last_line
            .is_none_or(|at| now.duration_since(at) >= REFUSAL_LOG_INTERVAL);
        if due {
            let count = std::mem::take(&mut state.unlogged);
            state.last_line = Some(now);
            tracing::warn!(
                count,
                interval_s = REFUSAL_LOG_INTERVAL.as_secs(),
                "{} (count since the last such line; every refusal is in /metrics)",
                self.what
            );
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_however_many_refusals() {
        let log = RefusalLog::new("test refusals");
        let start = Instant::now();
        assert!(log.note(start), "the first one is logged");
        let written = (1..5_000)
            .filter(|i| log.note(start + Duration::from_millis(*i)))
            .count();
        assert_eq!(written, 0, "the rest of the minute is only counted");
        assert!(log.note(start + REFUSAL_LOG_INTERVAL));
        assert_eq!(log.state.lock().unwrap().unlogged, 0);
    }
}
