//! The scheduler's thresholds from the environment: durations with units
//! (`15m`, `2h`, and `2s` so that tests need no waiting), a count, a time
//! of day and the quiet hours. Unset means the shop's defaults.

use jiff::civil::Time;

use super::{parse_duration, ConfigError};
use crate::domain::schedule::{QuietHours, Thresholds};

/// Reads every `REMIND_*`, `SLA_*`, `VISIT_REMINDER_BEFORE`,
/// `DAILY_SUMMARY_AT`, `BACKUP_AT`, `REPORT_*_AT` and `QUIET_HOURS`
/// variable through `get`.
pub fn thresholds(get: &dyn Fn(&str) -> Option<String>) -> Result<Thresholds, ConfigError> {
    let mut th = Thresholds::default();
    let durations: [(&'static str, &mut std::time::Duration); 8] = [
        ("REMIND_UNASSIGNED_AFTER", &mut th.unassigned_after),
        ("REMIND_UNACCEPTED_AFTER", &mut th.unaccepted_after),
        ("REMIND_REPEAT", &mut th.repeat),
        ("SLA_NEW", &mut th.sla_new),
        ("SLA_ASSIGNED", &mut th.sla_assigned),
        ("SLA_ACCEPTED", &mut th.sla_accepted),
        ("SLA_ON_SITE", &mut th.sla_on_site),
        ("VISIT_REMINDER_BEFORE", &mut th.visit_before),
    ];
    for (name, slot) in durations {
        if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
            *slot = parse_duration(name, v.trim())?;
        }
    }
    if let Some(v) = get("REMIND_MAX").filter(|v| !v.trim().is_empty()) {
        th.max_reminders = v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "REMIND_MAX",
                    format!("must be a number of reminders from 1 to 100, got {v:?}"),
                )
            })?;
    }
    // An empty DAILY_SUMMARY_AT has always meant "no summary"; the later
    // variables keep their default when empty.
    th.summary_at = time_of_day(get, "DAILY_SUMMARY_AT", th.summary_at, None)?;
    th.backup_at = time_of_day(get, "BACKUP_AT", th.backup_at, th.backup_at)?;
    th.report_day_at = time_of_day(get, "REPORT_DAILY_AT", th.report_day_at, th.report_day_at)?;
    th.report_week_at = time_of_day(
        get,
        "REPORT_WEEKLY_AT",
        th.report_week_at,
        th.report_week_at,
    )?;
    th.report_month_at = time_of_day(
        get,
        "REPORT_MONTHLY_AT",
        th.report_month_at,
        th.report_month_at,
    )?;
    if let Some(v) = get("QUIET_HOURS") {
        th.quiet = match v.trim() {
            "" | "off" => None,
            window => Some(QuietHours::parse(window).ok_or_else(|| {
                ConfigError::new(
                    "QUIET_HOURS",
                    format!("must be a window like 22:00-06:00 (or empty for none), got {v:?}"),
                )
            })?),
        };
    }
    Ok(th)
}

/// A time of day (`08:00`, or `08:00:30` to the second) or `off`; unset
/// keeps `default`, empty gives `when_empty`.
fn time_of_day(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: Option<Time>,
    when_empty: Option<Time>,
) -> Result<Option<Time>, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(default);
    };
    match v.trim() {
        "" => Ok(when_empty),
        "off" => Ok(None),
        at => Time::strptime("%H:%M:%S", at)
            .or_else(|_| Time::strptime("%H:%M", at))
            .map(Some)
            .map_err(|_| {
                let example =
                    default.map_or("08:00".to_string(), |t| t.strftime("%H:%M").to_string());
                ConfigError::new(
                    name,
                    format!("must be a time of day like {example} (or off), got {v:?}"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    fn read(vars: &[(&str, &str)]) -> Result<Thresholds, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        thresholds(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_units_and_refusals() {
        assert_eq!(read(&[]).unwrap(), Thresholds::default());
        let th = read(&[
            ("REMIND_UNASSIGNED_AFTER", "2s"),
            ("SLA_ON_SITE", "12h"),
            ("REMIND_MAX", "2"),
            ("DAILY_SUMMARY_AT", "08:15"),
            ("QUIET_HOURS", ""),
            ("REPORT_DAILY_AT", "07:30:15"),
            ("REPORT_WEEKLY_AT", "off"),
            ("REPORT_MONTHLY_AT", ""),
        ])
        .unwrap();
        assert_eq!(th.report_day_at, Some(jiff::civil::time(7, 30, 15, 0)));
        assert_eq!(th.report_week_at, None);
        assert_eq!(th.report_month_at, Some(jiff::civil::time(10, 0, 0, 0)));
        assert_eq!(th.unassigned_after, Duration::from_secs(2));
        assert_eq!(th.sla_on_site, Duration::from_secs(12 * 3600));
        assert_eq!(th.max_reminders, 2);
        assert_eq!(th.summary_at, Some(jiff::civil::time(8, 15, 0, 0)));
        assert_eq!(th.quiet, None);
        for (var, bad) in [
            ("REMIND_REPEAT", "soon"),
            ("REMIND_MAX", "0"),
            ("DAILY_SUMMARY_AT", "25:99"),
            ("QUIET_HOURS", "22-6"),
            ("REPORT_WEEKLY_AT", "monday"),
        ] {
            let e = read(&[(var, bad)]).unwrap_err();
            assert_eq!(e.variable, var);
        }
    }
}
