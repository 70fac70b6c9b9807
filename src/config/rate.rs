//! The flood-limit setting: `USER_RATE_LIMIT` / `STAFF_RATE_LIMIT` values.

use std::num::NonZeroU32;

/// A rate: `per_second` updates a second with bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Rate {
    /// Parses `2/s:4` (2 a second, bursts of 4), `30/m:10`, or `0` (no limit).
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let text = text.trim();
        if text == "0" || text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (rate, burst) = text.split_once(':').unwrap_or((text, ""));
        let (count, unit) = rate.split_once('/').ok_or_else(|| {
            format!("{text:?}: expected e.g. 2/s:4 (2 a second, bursts of 4) or 0 for no limit")
        })?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("{text:?}: {count:?} is not a whole number"))?;
        let per_second = match unit.trim() {
            "s" => count,
            // Below one a second a bucket still refills once a second at least.
            "m" => count.div_ceil(60),
            other => return Err(format!("{text:?}: unit {other:?} is not s or m")),
        };
        let burst: u32 = if burst.is_empty() {
            count.max(1)
        } else {
            burst
                .trim()
                .parse()
                .map_err(|_| format!("{text:?}: burst {burst:?} is not a whole number"))?
        };
        match (NonZeroU32::new(per_second), NonZeroU32::new(burst)) {
            (Some(per_second), Some(burst)) => Ok(Some(Rate { per_second, burst })),
            _ => Err(format!("{text:?}: use 0 to turn the limit off")),
        }
    }
}
