//! How the domain's values read to a person: status, appliance and visit
//! labels in the person's language, and dates.

use super::texts::{Lang, Texts};
use crate::domain::{ApplianceKind, Code, OrderStatus, Visit, VisitSlot, Window};

/// Localized status label.
pub fn status_label(t: &Texts, lang: Lang, status: OrderStatus) -> String {
    t.get(lang, &format!("status_{}", status.code()))
        .to_string()
}

/// Label of an appliance kind.
pub fn equipment_label(texts: &Texts, lang: Lang, kind: ApplianceKind) -> String {
    texts
        .get(lang, &format!("equipment_{}", kind.code()))
        .to_string()
}

/// Label of a visit slot button.
pub fn visit_slot_label(texts: &Texts, lang: Lang, slot: VisitSlot) -> String {
    texts
        .get(lang, &format!("visit_{}", slot.code()))
        .to_string()
}

/// Visit time as shown: a slot code translated, the client's own words as typed.
pub fn visit_label(texts: &Texts, lang: Lang, stored: &str) -> String {
    match VisitSlot::from_code(stored) {
        Some(slot) => visit_slot_label(texts, lang, slot),
        None => stored.to_string(),
    }
}

/// A millisecond timestamp in the shop's time zone.
fn in_shop_time(t: &Texts, ms: i64) -> Option<jiff::ZonedDateTime> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|ts| ts.to_zoned_datetime(t.time_zone().clone()))
}

/// `dd.mm.yyyy` of a millisecond timestamp, in the shop's time zone.
pub fn format_date(t: &Texts, ms: i64) -> String {
    match in_shop_time(t, ms) {
        Some(z) => format!("{:02}.{:02}.{}", z.day(), z.month(), z.year()),
        None => "?".into(),
    }
}

/// `dd.mm.yyyy HH:MM` of a millisecond timestamp, in the shop's time zone.
pub fn format_date_time(t: &Texts, ms: i64) -> String {
    match in_shop_time(t, ms) {
        Some(z) => format!(
            "{:02}.{:02}.{} {:02}:{:02}",
            z.day(),
            z.month(),
            z.year(),
            z.hour(),
            z.minute()
        ),
        None => "?".into(),
    }
}

/// The shop's calendar day of a millisecond timestamp.
pub fn shop_date(t: &Texts, ms: i64) -> jiff::civil::Date {
    in_shop_time(t, ms)
        .map(|z| z.date())
        .unwrap_or(jiff::civil::Date::MIN)
}

/// RFC 3339 in the shop's time, with its offset: `2026-10-21T16:00:00+03:00`.
pub fn iso_in_shop_time(t: &Texts, ms: i64) -> String {
    in_shop_time(t, ms)
        .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

/// A visit as the bot says it understood it: "пт, 23 октября, 10:00–12:00",
/// "Fri, 23 October 2027, after 18:00 (call first)". The year is written when
/// it is not `today`'s; what is written here parses back to the same visit.
pub fn visit_echo(t: &Texts, lang: Lang, visit: &Visit, today: jiff::civil::Date) -> String {
    let nth = |key: &str, n: usize| {
        t.get(lang, key)
            .split_whitespace()
            .nth(n)
            .unwrap_or("")
            .to_string()
    };
    let d = visit.date;
    let weekday = nth(
        "date_weekdays",
        d.weekday().to_monday_zero_offset() as usize,
    );
    let month = nth("date_months", (d.month() - 1) as usize);
    let mut text = format!("{weekday}, {} {month}", d.day());
    if d.year() != today.year() {
        text.push_str(&format!(" {}", d.year()));
    }
    let hm = |time: jiff::civil::Time| format!("{:02}:{:02}", time.hour(), time.minute());
    let window = match visit.window {
        Window::Any => None,
        Window::At(at) => Some(hm(at)),
        Window::After(at) => Some(t.fmt(lang, "visit_after", &[("time", &hm(at))])),
        Window::Before(at) => Some(t.fmt(lang, "visit_before", &[("time", &hm(at))])),
        Window::Between(from, to) => Some(format!("{}–{}", hm(from), hm(to))),
    };
    if let Some(window) = window {
        text.push_str(", ");
        text.push_str(&window);
    }
    if let Some(note) = &visit.note {
        text.push_str(&format!(" ({note})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;
    use crate::domain::parse_visit;

    #[test]
    fn the_echo_reads_as_the_shop_writes_dates() {
        let t = Texts::load().unwrap();
        let visit = Visit {
            date: date(2026, 10, 23),
            window: Window::Between(time(10, 0, 0, 0), time(12, 0, 0, 0)),
            note: Some("позвонить за час".into()),
        };
        let today = date(2026, 10, 21);
        assert_eq!(
            visit_echo(&t, Lang::Ru, &visit, today),
            "пт, 23 октября, 10:00–12:00 (позвонить за час)"
        );
        assert_eq!(
            visit_echo(&t, Lang::En, &visit, date(2025, 12, 1)),
            "Fri, 23 October 2026, 10:00–12:00 (позвонить за час)"
        );
    }

    /// Every visit the parser gives, over a sweep of "now" and of phrase
    /// forms, parses back from its echo to the same visit, in both languages.
    #[test]
    fn every_echo_parses_back_to_its_visit() {
        let t = Texts::load().unwrap();
        let phrases = [
            "сегодня после 18",
            "завтра в 15:30",
            "послезавтра до 12",
            "через 3 дня с 10 до 12",
            "в пятницу вечером",
            "25.10 14:00",
            "1 января в 9",
            "в 11",
            "tomorrow before noon, call first",
            "next monday after 2pm",
            "in 2 weeks",
            "31.12 в 23:30, код 45",
        ];
        let mut day = date(2026, 1, 1);
        let mut checked = 0;
        while day < date(2027, 7, 1) {
            for hour in [7, 13, 22] {
                let now = day.at(hour, 15, 0, 0);
                for text in phrases {
                    let Ok(visit) = parse_visit(text, now) else {
                        continue;
                    };
                    for lang in [Lang::Ru, Lang::En] {
                        let echo = visit_echo(&t, lang, &visit, now.date());
                        assert_eq!(
                            parse_visit(&echo, now).as_ref(),
                            Ok(&visit),
                            "{text:?} at {now} → {echo:?}"
                        );
                        checked += 1;
                    }
                }
            }
            day = day.tomorrow().unwrap();
        }
        assert!(checked > 10_000, "{checked}");
    }
}
