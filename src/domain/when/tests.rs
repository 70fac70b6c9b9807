//! Visit-time phrases in both languages against a fixed "now": Wednesday,
//! 21 October 2026, 13:00 shop time.

use jiff::civil::{date, time, DateTime};

use super::*;

fn now() -> DateTime {
    date(2026, 10, 21).at(13, 0, 0, 0)
}

fn t(h: i8, m: i8) -> Time {
    time(h, m, 0, 0)
}

fn ok(text: &str) -> Visit {
    parse_visit(text, now()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn phrases_in_russian() {
    use Window::*;
    let table: Vec<(&str, Date, Window)> = vec![
        ("сегодня после 18", date(2026, 10, 21), After(t(18, 0))),
        ("завтра в 15:00", date(2026, 10, 22), At(t(15, 0))),
        ("послезавтра", date(2026, 10, 23), Any),
        ("через 3 дня", date(2026, 10, 24), Any),
        ("через два дня", date(2026, 10, 23), Any),
        ("через день", date(2026, 10, 22), Any),
        ("через неделю", date(2026, 10, 28), Any),
        (
            "в пятницу с 10 до 12",
            date(2026, 10, 23),
            Between(t(10, 0), t(12, 0)),
        ),
        ("25.10 14:00", date(2026, 10, 25), At(t(14, 0))),
        ("25.10.2026 в 9", date(2026, 10, 25), At(t(9, 0))),
        ("25/10 в 9", date(2026, 10, 25), At(t(9, 0))),
        ("в пт в 9 утра", date(2026, 10, 23), At(t(9, 0))),
        (
            "в субботу вечером",
            date(2026, 10, 24),
            Between(t(17, 0), t(21, 0)),
        ),
        (
            "в понедельник утром",
            date(2026, 10, 26),
            Between(t(9, 0), t(12, 0)),
        ),
        ("в среду", date(2026, 10, 21), Any),
        ("в следующую среду", date(2026, 10, 28), Any),
        ("25 октября", date(2026, 10, 25), Any),
        ("25 октября 2026 в 10:30", date(2026, 10, 25), At(t(10, 30))),
        (
            "1 ноября с 9 до 13",
            date(2026, 11, 1),
            Between(t(9, 0), t(13, 0)),
        ),
        ("завтра до 12", date(2026, 10, 22), Before(t(12, 0))),
        ("завтра к 10", date(2026, 10, 22), At(t(10, 0))),
        ("завтра в обед", date(2026, 10, 22), At(t(12, 0))),
        (
            "завтра 10:00-12:00",
            date(2026, 10, 22),
            Between(t(10, 0), t(12, 0)),
        ),
        (
            "завтра 10–12",
            date(2026, 10, 22),
            Between(t(10, 0), t(12, 0)),
        ),
        (
            "с 14 до 16 в субботу",
            date(2026, 10, 24),
            Between(t(14, 0), t(16, 0)),
        ),
        ("в 10 утра в четверг", date(2026, 10, 22), At(t(10, 0))),
        ("в 7 вечера", date(2026, 10, 21), At(t(19, 0))),
        ("15:00", date(2026, 10, 21), At(t(15, 0))),
        ("после 20", date(2026, 10, 21), After(t(20, 0))),
        // Already past today: tomorrow.
        ("в 11", date(2026, 10, 22), At(t(11, 0))),
        ("утром", date(2026, 10, 22), Between(t(9, 0), t(12, 0))),
        // Long past this year: next year's.
        ("5 января", date(2027, 1, 5), Any),
        ("Завтра ПОСЛЕ 18", date(2026, 10, 22), After(t(18, 0))),
        (
            "пт, 23 октября, 10:00–12:00",
            date(2026, 10, 23),
            Between(t(10, 0), t(12, 0)),
        ),
        (
            "с 10 до 2 завтра",
            date(2026, 10, 22),
            Between(t(10, 0), t(14, 0)),
        ),
    ];
    for (text, day, window) in table {
        let v = ok(text);
        assert_eq!((v.date, v.window), (day, window), "{text:?}");
        assert_eq!(v.note, None, "{text:?}");
    }
}

#[test]
fn phrases_in_english() {
    use Window::*;
    let table: Vec<(&str, Date, Window)> = vec![
        ("after 5pm tomorrow", date(2026, 10, 22), After(t(17, 0))),
        ("tomorrow at 3pm", date(2026, 10, 22), At(t(15, 0))),
        ("today after 6 pm", date(2026, 10, 21), After(t(18, 0))),
        ("in 2 days", date(2026, 10, 23), Any),
        ("in a week", date(2026, 10, 28), Any),
        (
            "friday 10-12",
            date(2026, 10, 23),
            Between(t(10, 0), t(12, 0)),
        ),
        ("on monday after 2pm", date(2026, 10, 26), After(t(14, 0))),
        // "next" is the first such day after today (the echo shows which).
        ("next friday", date(2026, 10, 23), Any),
        ("next wednesday", date(2026, 10, 28), Any),
        (
            "day after tomorrow in the evening",
            date(2026, 10, 23),
            Between(t(17, 0), t(21, 0)),
        ),
        ("october 30 at 9am", date(2026, 10, 30), At(t(9, 0))),
        ("30 oct 10:00", date(2026, 10, 30), At(t(10, 0))),
        ("tomorrow before noon", date(2026, 10, 22), Before(t(12, 0))),
        (
            "tomorrow from 9 to 11",
            date(2026, 10, 22),
            Between(t(9, 0), t(11, 0)),
        ),
        (
            "Sat between 10 and 14",
            date(2026, 10, 24),
            Between(t(10, 0), t(14, 0)),
        ),
        (
            "Fri, 23 October, 10:00–12:00",
            date(2026, 10, 23),
            Between(t(10, 0), t(12, 0)),
        ),
        ("after 5pm", date(2026, 10, 21), After(t(17, 0))),
        ("12am tomorrow", date(2026, 10, 22), At(t(0, 0))),
    ];
    for (text, day, window) in table {
        let v = ok(text);
        assert_eq!((v.date, v.window), (day, window), "{text:?}");
        assert_eq!(v.note, None, "{text:?}");
    }
}

#[test]
fn instructions_beside_a_date_are_kept_as_the_note() {
    let v = ok("сегодня в 19:30, позвонить за час");
    assert_eq!(
        (v.date, v.window),
        (date(2026, 10, 21), Window::At(t(19, 30)))
    );
    assert_eq!(v.note.as_deref(), Some("позвонить за час"));
    let v = ok("завтра после 18 — домофон не работает");
    assert_eq!(v.window, Window::After(t(18, 0)));
    assert_eq!(v.note.as_deref(), Some("домофон не работает"));
    let v = ok("tomorrow 10-12, call first");
    assert_eq!(v.note.as_deref(), Some("call first"));
    // A flat number next to a dash is not a time unless it makes a range.
    let v = ok("завтра, кв. 5 - код 1234");
    assert_eq!(v.window, Window::Any);
    assert_eq!(v.note.as_deref(), Some("кв. 5 - код 1234"));
    let v = ok("завтра в 5 часов вечера, позвонить за час");
    assert_eq!(v.window, Window::At(t(17, 0)));
    assert_eq!(v.note.as_deref(), Some("позвонить за час"));
    let v = ok("in 2 days, call in advance");
    assert_eq!(v.note.as_deref(), Some("call in advance"));
}

#[test]
fn what_cannot_be_told_is_refused() {
    for (text, e) in [
        ("когда удобно", WhenError::NotUnderstood),
        ("", WhenError::NotUnderstood),
        ("позвоните мне", WhenError::NotUnderstood),
        ("сегодня в 9", WhenError::Past),
        ("вчера", WhenError::Past),
        ("yesterday at 5pm", WhenError::Past),
        ("20.10", WhenError::Past),
        ("01.01.2020", WhenError::Past),
        ("31.02", WhenError::Ambiguous),
        ("в пятницу 26.10", WhenError::Ambiguous),
        ("завтра 25.10", WhenError::Ambiguous),
        ("завтра с 21 до 1", WhenError::Ambiguous),
        ("завтра с 14 до 13", WhenError::Ambiguous),
    ] {
        assert_eq!(parse_visit(text, now()), Err(e), "{text:?}");
    }
}

#[test]
fn visits_are_instants_in_the_shop_zone_across_dst() {
    let berlin = shop_time_zone("Europe/Berlin").expect("bundled tzdb");
    // The night clocks go forward in Berlin: 02:00 → 03:00 on 29 March 2026.
    let before = date(2026, 3, 28).at(20, 0, 0, 0);
    let v = parse_visit("завтра в 2:30", before).unwrap();
    assert_eq!(v.date, date(2026, 3, 29));
    let start = v.starts_at(&berlin);
    // 02:30 does not exist that night; it is 03:30 CEST, 01:30 UTC.
    assert_eq!(start.to_string(), "2026-03-29T01:30:00Z");
    // The day after, the same words are 12 hours apart from 14:30 as usual.
    let v = parse_visit("завтра в 14:30", before).unwrap();
    assert_eq!(v.starts_at(&berlin).to_string(), "2026-03-29T12:30:00Z");
    // And in October (back to CET): 10:00 is 09:00 UTC.
    let v = parse_visit("25.10 в 10", date(2026, 10, 21).at(9, 0, 0, 0)).unwrap();
    assert_eq!(v.starts_at(&berlin).to_string(), "2026-10-25T09:00:00Z");
    let moscow = shop_time_zone("Europe/Moscow").unwrap();
    assert_eq!(v.starts_at(&moscow).to_string(), "2026-10-25T07:00:00Z");
    assert_eq!(
        v.ends_at(&moscow),
        v.starts_at(&moscow),
        "a time, not a window"
    );
    let v = parse_visit("25.10 с 10 до 12", date(2026, 10, 21).at(9, 0, 0, 0)).unwrap();
    assert_eq!(v.ends_at(&moscow).to_string(), "2026-10-25T09:00:00Z");
    assert!(shop_time_zone("Mars/Olympus").is_none());
    // "now" in the shop: 21:30 UTC is already tomorrow in Moscow.
    let late = Timestamp::from_second(1_792_618_200).unwrap(); // 2026-10-21T21:30:00Z
    assert_eq!(shop_now(late, &moscow).date(), date(2026, 10, 22));
}

/// Every result, for a sweep of "now" over two years and every hour, of
/// every phrase form, lies today or later.
#[test]
fn no_result_is_ever_in_the_past() {
    let phrases = [
        "сегодня после 18",
        "завтра в 15:00",
        "послезавтра",
        "через 3 дня",
        "в пятницу с 10 до 12",
        "в воскресенье",
        "25.10 14:00",
        "29.02",
        "31.12 в 23:30",
        "1 января",
        "в 11",
        "утром",
        "после 20",
        "until 9am",
        "next monday",
        "in 2 weeks",
        "after 5pm tomorrow",
    ];
    let mut day = date(2026, 1, 1);
    let mut checked = 0;
    while day < date(2028, 1, 1) {
        for hour in [0, 8, 13, 22] {
            let now = day.at(hour, 30, 0, 0);
            for text in phrases {
                if let Ok(v) = parse_visit(text, now) {
                    assert!(v.date >= now.date(), "{text:?} at {now}: {v:?}");
                    if v.date == now.date() {
                        assert!(
                            !window_over(v.window, now.time()),
                            "{text:?} at {now}: {v:?}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        day = day.tomorrow().unwrap();
    }
    assert!(checked > 40_000, "{checked}");
}

#[test]
fn a_stored_window_reads_back_as_the_same_visit() {
    let tz = shop_time_zone("Europe/Moscow").unwrap();
    for text in [
        "завтра в 15:00",
        "завтра после 18",
        "завтра до 12",
        "в пятницу с 10 до 12",
        "послезавтра",
    ] {
        let v = ok(text);
        let back = Visit::from_stored(
            v.starts_at(&tz).as_millisecond(),
            v.ends_at(&tz).as_millisecond(),
            v.window_code(),
            &tz,
        )
        .unwrap();
        assert_eq!(back, v, "{text}");
    }
    assert_eq!(Visit::from_stored(0, 0, "sometime", &tz), None);
}

#[test]
fn shop_days_follow_the_clock_across_a_dst_change() {
    let berlin = shop_time_zone("Europe/Berlin").expect("bundled tzdb");
    // Clocks went back at 03:00 on Sunday 25 October 2026: that day has 25 hours.
    let days = last_days(date(2026, 10, 26), 3, &berlin);
    let hours: Vec<i64> = days
        .iter()
        .map(|(_, from, to)| (to.as_second() - from.as_second()) / 3600)
        .collect();
    assert_eq!(hours, [24, 25, 24]);
    assert_eq!(days[0].0, date(2026, 10, 24));
    assert_eq!(days[2].0, date(2026, 10, 26));
    // Each day starts at the shop's midnight, and the days leave no gap.
    assert_eq!(
        berlin.to_datetime(days[1].1),
        date(2026, 10, 25).at(0, 0, 0, 0)
    );
    assert!(days.windows(2).all(|w| w[0].2 == w[1].1));
}
