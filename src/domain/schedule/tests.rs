//! The reminder rules with a fixed clock, in Moscow (no DST) and Berlin.

use super::*;
use jiff::civil::date;

fn moscow() -> TimeZone {
    TimeZone::get("Europe/Moscow").unwrap()
}

fn at(h: i8, m: i8) -> Timestamp {
    moscow()
        .to_ambiguous_timestamp(date(2026, 10, 21).at(h, m, 0, 0))
        .compatible()
        .unwrap()
}

fn due(job: &NewJob, id: i64) -> DueJob {
    DueJob {
        id,
        job: NewJob {
            order_id: Some(7),
            ..job.clone()
        },
    }
}

fn order(status: OrderStatus, master: Option<i64>) -> Option<OrderNow> {
    Some(OrderNow {
        status,
        master,
        visit_from: None,
        repair_due: None,
    })
}

#[test]
fn each_status_gets_its_jobs() {
    let th = Thresholds::default();
    let now = at(12, 0).as_millisecond();
    let kinds = |s, m| -> Vec<JobKind> {
        jobs_on_entering(s, m, Some(30), None, now, &th)
            .iter()
            .map(|j| j.kind)
            .collect()
    };
    use JobKind as K;
    assert_eq!(
        kinds(OrderStatus::New, None),
        [K::RemindUnassigned, K::SlaNew]
    );
    assert_eq!(
        kinds(OrderStatus::Assigned, Some(20)),
        [K::RemindUnaccepted, K::SlaAssigned]
    );
    assert_eq!(kinds(OrderStatus::Accepted, Some(20)), [K::SlaAccepted]);
    assert_eq!(kinds(OrderStatus::OnSite, Some(20)), [K::SlaOnSite]);
    assert!(kinds(OrderStatus::Closed, Some(20)).is_empty());
    let jobs = jobs_on_entering(OrderStatus::New, None, None, None, now, &th);
    assert_eq!(jobs[0].due_ms - now, 15 * 60_000);
    assert_eq!(jobs[1].due_ms - now, 2 * 3_600_000);
    // A visit at 18:00 is reminded of at 16:00.
    let visit = at(18, 0).as_millisecond();
    let jobs = jobs_on_entering(OrderStatus::Accepted, Some(20), None, Some(visit), now, &th);
    assert_eq!(jobs[1].kind, K::VisitReminder);
    assert_eq!(jobs[1].due_ms, at(16, 0).as_millisecond());
    // A visit already under way gets none.
    assert!(visit_reminder(Some(20), Some(now - 1), now, &th).is_none());
}

#[test]
fn reminders_repeat_up_to_the_maximum_then_stop() {
    let th = Thresholds::default();
    let now = at(12, 0);
    let first = &jobs_on_entering(
        OrderStatus::New,
        None,
        None,
        None,
        now.as_millisecond(),
        &th,
    )[0];
    let mut job = due(first, 1);
    let mut sent = 0;
    loop {
        match on_due(&job, order(OrderStatus::New, None), now, &moscow(), &th) {
            Firing::Send { next } => {
                sent += 1;
                match next {
                    Some(n) => {
                        assert_eq!(n.round, job.round + 1);
                        assert_ne!(n.dedup_key(Some(7)), first.dedup_key(Some(7)));
                        job = due(&n, 2);
                    }
                    None => break,
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sent, 4);
}

#[test]
fn a_job_whose_reason_is_gone_is_moot() {
    let th = Thresholds::default();
    let now = at(12, 0);
    let tz = moscow();
    let unaccepted = &jobs_on_entering(OrderStatus::Assigned, Some(20), Some(30), None, 0, &th)[0];
    let job = due(unaccepted, 1);
    assert_eq!(
        on_due(&job, order(OrderStatus::Accepted, Some(20)), now, &tz, &th),
        Firing::Moot
    );
    assert_eq!(
        on_due(&job, order(OrderStatus::Assigned, Some(21)), now, &tz, &th),
        Firing::Moot,
        "another master"
    );
    assert_eq!(
        on_due(&job, None, now, &tz, &th),
        Firing::Moot,
        "the order is gone"
    );
    assert!(matches!(
        on_due(&job, order(OrderStatus::Assigned, Some(20)), now, &tz, &th),
        Firing::Send { .. }
    ));
    // A moved visit makes its reminder moot.
    let visit = visit_reminder(Some(20), Some(at(18, 0).as_millisecond()), 0, &th).unwrap();
    let job = due(&visit, 3);
    let mut moved = order(OrderStatus::Accepted, Some(20)).unwrap();
    moved.visit_from = Some(at(19, 0).as_millisecond());
    assert_eq!(on_due(&job, Some(moved), now, &tz, &th), Firing::Moot);
    moved.visit_from = visit.visit_from;
    assert!(matches!(
        on_due(&job, Some(moved), now, &tz, &th),
        Firing::Send { next: None }
    ));
}

#[test]
fn quiet_hours_hold_reminders_until_morning_but_not_escalations() {
    let th = Thresholds::default();
    let tz = moscow();
    let late = at(23, 10);
    let first = &jobs_on_entering(OrderStatus::New, None, None, None, 0, &th);
    let reminder = due(&first[0], 1);
    let morning = tz
        .to_ambiguous_timestamp(date(2026, 10, 22).at(6, 0, 0, 0))
        .compatible()
        .unwrap();
    assert_eq!(
        on_due(&reminder, order(OrderStatus::New, None), late, &tz, &th),
        Firing::Hold {
            until_ms: morning.as_millisecond()
        }
    );
    // After midnight, the same morning.
    let small_hours = morning
        .checked_sub(jiff::SignedDuration::from_hours(3))
        .unwrap();
    assert_eq!(
        on_due(
            &reminder,
            order(OrderStatus::New, None),
            small_hours,
            &tz,
            &th
        ),
        Firing::Hold {
            until_ms: morning.as_millisecond()
        }
    );
    let sla = due(&first[1], 2);
    assert!(matches!(
        on_due(&sla, order(OrderStatus::New, None), late, &tz, &th),
        Firing::Send { .. }
    ));
    let no_quiet = Thresholds {
        quiet: None,
        ..th.clone()
    };
    assert!(matches!(
        on_due(
            &reminder,
            order(OrderStatus::New, None),
            late,
            &tz,
            &no_quiet
        ),
        Firing::Send { .. }
    ));
    let window = QuietHours::parse("22:00-06:00").unwrap();
    assert!(window.contains(jiff::civil::time(23, 0, 0, 0)));
    assert!(window.contains(jiff::civil::time(5, 59, 0, 0)));
    assert!(!window.contains(jiff::civil::time(6, 0, 0, 0)));
    let day = QuietHours::parse("13:00 - 14:00").unwrap();
    assert!(
        day.contains(jiff::civil::time(13, 30, 0, 0))
            && !day.contains(jiff::civil::time(22, 0, 0, 0))
    );
    for bad in ["", "22:00", "25:00-06:00", "10:00-10:00"] {
        assert_eq!(QuietHours::parse(bad), None, "{bad}");
    }
}

#[test]
fn the_summary_comes_daily_at_its_hour_in_shop_time() {
    let th = Thresholds::default();
    let tz = moscow();
    let job = next_summary(at(12, 0), &tz, &th).unwrap();
    assert_eq!(job.due_ms, at(21, 30).as_millisecond());
    let after = next_summary(at(21, 30), &tz, &th).unwrap();
    assert_eq!(after.due_ms - job.due_ms, 86_400_000);
    assert_ne!(job.dedup_key(None), after.dedup_key(None));
    // Firing it schedules tomorrow's.
    let fired = on_due(&due(&job, 1), None, at(21, 30), &tz, &th);
    assert_eq!(fired, Firing::Send { next: Some(after) });
    // Across Berlin's DST change the hour stays 21:30 local.
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let saturday = berlin
        .to_ambiguous_timestamp(date(2026, 10, 24).at(22, 0, 0, 0))
        .compatible()
        .unwrap();
    let sunday = next_summary(saturday, &berlin, &th).unwrap();
    let local = berlin.to_datetime(Timestamp::from_millisecond(sunday.due_ms).unwrap());
    assert_eq!(local, date(2026, 10, 25).at(21, 30, 0, 0));
    assert!(next_summary(
        saturday,
        &berlin,
        &Thresholds {
            summary_at: None,
            ..th
        }
    )
    .is_none());
}

#[test]
fn dedup_keys_tell_stays_and_orders_apart() {
    let th = Thresholds::default();
    let a = &jobs_on_entering(OrderStatus::New, None, None, None, 1_000, &th)[0];
    let b = &jobs_on_entering(OrderStatus::New, None, None, None, 2_000, &th)[0];
    assert_ne!(
        a.dedup_key(Some(7)),
        b.dedup_key(Some(7)),
        "a second stay in new"
    );
    assert_ne!(a.dedup_key(Some(7)), a.dedup_key(Some(8)));
    let sla_a = &jobs_on_entering(OrderStatus::New, None, None, None, 1_000, &th)[1];
    let sla_b = &jobs_on_entering(OrderStatus::New, None, None, None, 2_000, &th)[1];
    assert_eq!(
        sla_a.dedup_key(Some(7)),
        sla_b.dedup_key(Some(7)),
        "one SLA alert per order and status"
    );
    for kind in JobKind::VARIANTS {
        let code: &str = (*kind).into();
        assert_eq!(code.parse::<JobKind>().ok(), Some(*kind));
    }
}

#[test]
fn a_long_repair_is_reminded_on_its_day_in_the_morning_or_at_its_time() {
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let day = jiff::civil::date(2026, 12, 9);
    let morning = super::repair_due_at(&crate::domain::Visit::whole_day(day), &tz);
    assert_eq!(
        morning.to_string(),
        "2026-12-09T06:00:00Z",
        "09:00 in Moscow"
    );
    let visit = crate::domain::parse_visit("09.12 в 14:30", day.at(8, 0, 0, 0)).unwrap();
    let timed = super::repair_due_at(&visit, &tz);
    assert_eq!(timed.to_string(), "2026-12-09T11:30:00Z");
    // Set for a moment already over: due at once; moot once the due moves.
    let job = super::repair_due(Some(7), 1_000, 5_000);
    assert_eq!((job.due_ms, job.visit_from), (5_000, Some(1_000)));
    assert_eq!(job.dedup_key(Some(3)), "repair_due:3:1000");
}

#[test]
fn the_backup_is_planned_daily_at_its_hour_and_not_held_by_quiet_hours() {
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let th = super::Thresholds::default();
    let now: jiff::Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
    let job = super::next_backup(now, &tz, &th).unwrap();
    // 03:00 in Moscow tomorrow (today's is over).
    assert_eq!(
        jiff::Timestamp::from_millisecond(job.due_ms)
            .unwrap()
            .to_string(),
        "2026-12-03T00:00:00Z"
    );
    assert!(!super::JobKind::Backup.held_in_quiet_hours());
    let off = super::Thresholds {
        backup_at: None,
        ..th
    };
    assert_eq!(super::next_backup(now, &tz, &off), None);
}

#[test]
fn scheduled_reports_come_daily_on_mondays_and_on_the_first() {
    let th = Thresholds::default();
    let tz = moscow();
    let local = |job: &NewJob| tz.to_datetime(Timestamp::from_millisecond(job.due_ms).unwrap());
    let moment = |d: Date, h: i8, m: i8| {
        tz.to_ambiguous_timestamp(d.at(h, m, 0, 0))
            .compatible()
            .unwrap()
    };
    // 2026-10-21 is a Wednesday.
    for (period, now, next) in [
        (Period::Day, at(7, 0), date(2026, 10, 21).at(8, 0, 0, 0)),
        (Period::Day, at(8, 0), date(2026, 10, 22).at(8, 0, 0, 0)),
        (Period::Week, at(12, 0), date(2026, 10, 26).at(9, 0, 0, 0)),
        (
            Period::Week,
            moment(date(2026, 10, 26), 8, 59),
            date(2026, 10, 26).at(9, 0, 0, 0),
        ),
        (
            Period::Week,
            moment(date(2026, 10, 26), 9, 0),
            date(2026, 11, 2).at(9, 0, 0, 0),
        ),
        (Period::Month, at(12, 0), date(2026, 11, 1).at(10, 0, 0, 0)),
        (
            Period::Month,
            moment(date(2026, 12, 1), 10, 30),
            date(2027, 1, 1).at(10, 0, 0, 0),
        ),
    ] {
        let job = next_report(period, now, &tz, &th).unwrap();
        assert_eq!(local(&job), next, "{period:?} after {now}");
        assert_eq!(job.kind.report_period(), Some(period));
        // Firing one plans the next.
        let fired = on_due(
            &due(&job, 1),
            None,
            Timestamp::from_millisecond(job.due_ms).unwrap(),
            &tz,
            &th,
        );
        let Firing::Send { next: Some(after) } = fired else {
            panic!("{period:?}: {fired:?}");
        };
        assert!(after.due_ms > job.due_ms, "{period:?}");
        assert_ne!(after.dedup_key(None), job.dedup_key(None));
    }
    let off = Thresholds {
        report_day_at: None,
        report_week_at: None,
        report_month_at: None,
        ..th
    };
    for period in [Period::Day, Period::Week, Period::Month] {
        assert_eq!(
            next_report(period, at(12, 0), &tz, &off),
            None,
            "{period:?}"
        );
    }
}
