//! Visit times as people type them, in Russian or English: "завтра после
//! 18", "в пятницу с 10 до 12", "25.10 14:00", "after 5pm tomorrow". The
//! result is a date and a time window in the shop's civil time (the caller
//! gives "now" already in the shop's time zone), plus whatever else the
//! person wrote ("позвонить за час"), kept as a note.
//!
//! Pure: the same text and "now" always give the same answer, so every
//! phrase is table-tested; a result is never in the past, and what the bot
//! echoes back (see `ui::labels::visit_echo`) parses to the same visit.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// When during the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Any time of the day.
    Any,
    At(Time),
    After(Time),
    Before(Time),
    /// From the first to the second (the second is later).
    Between(Time, Time),
}

/// A visit: the day, the window, and the rest of what was typed. Kept in
/// the order draft (short serde names: the dialog store's bytes per user).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    #[serde(rename = "d")]
    pub date: Date,
    #[serde(rename = "w")]
    pub window: Window,
    /// Free-text instructions typed beside the date ("позвонить за час").
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Visit {
    /// A whole day, for a slot button ("today", "tomorrow").
    pub fn whole_day(date: Date) -> Self {
        Self {
            date,
            window: Window::Any,
            note: None,
        }
    }
}

/// Why a text is not a visit time the bot can be sure of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// No day and no time in it.
    #[error("no date or time found")]
    NotUnderstood,
    /// Two days that disagree ("в пятницу 25.10" when the 25th is a Monday),
    /// or a day that does not exist (31.02).
    #[error("the date is contradictory or does not exist")]
    Ambiguous,
    /// The day or the window is already over.
    #[error("the time is in the past")]
    Past,
}

impl Visit {
    /// The first moment of the visit in `tz`, DST-correct (a time that a
    /// spring-forward skips is moved forward by the gap, as clocks do).
    pub fn starts_at(&self, tz: &TimeZone) -> Timestamp {
        let time = match self.window {
            Window::Any => Time::midnight(),
            Window::At(t) | Window::After(t) | Window::Between(t, _) => t,
            Window::Before(_) => Time::midnight(),
        };
        tz.to_ambiguous_timestamp(self.date.to_datetime(time))
            .compatible()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The stored name of the window's kind.
    pub fn window_code(&self) -> &'static str {
        match self.window {
            Window::Any => "any",
            Window::At(_) => "at",
            Window::After(_) => "after",
            Window::Before(_) => "before",
            Window::Between(..) => "between",
        }
    }

    /// A visit read back from its first and last moment and window kind in
    /// `tz` (what an order stores); `None` for a malformed row.
    pub fn from_stored(from_ms: i64, to_ms: i64, code: &str, tz: &TimeZone) -> Option<Self> {
        let at = |ms: i64| {
            Timestamp::from_millisecond(ms)
                .ok()
                .map(|ts| tz.to_datetime(ts))
        };
        let (from, to) = (at(from_ms)?, at(to_ms)?);
        let window = match code {
            "any" => Window::Any,
            "at" => Window::At(from.time()),
            "after" => Window::After(from.time()),
            "before" => Window::Before(to.time()),
            "between" => Window::Between(from.time(), to.time()),
            _ => return None,
        };
        Some(Self {
            date: if code == "before" {
                to.date()
            } else {
                from.date()
            },
            window,
            note: None,
        })
    }

    /// The last moment of the visit in `tz` (the end of the window, or of the day).
    pub fn ends_at(&self, tz: &TimeZone) -> Timestamp {
        let end = match self.window {
            Window::At(t) | Window::Before(t) | Window::Between(_, t) => self.date.to_datetime(t),
            Window::Any | Window::After(_) => self.date.to_datetime(Time::MAX),
        };
        tz.to_ambiguous_timestamp(end)
            .compatible()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// Parses `text` as a visit time, relative to `now` in the shop's time.
pub fn parse_visit(text: &str, now: DateTime) -> Result<Visit, WhenError> {
    let tokens = tokenize(text);
    let mut p = Parser {
        tokens: &tokens,
        used: vec![false; tokens.len()],
        today: now.date(),
    };
    let day = p.day()?;
    let window = p.window()?;
    let note = p.note();
    let (date, window) = match (day, window) {
        (None, None) => return Err(WhenError::NotUnderstood),
        (Some(date), window) => (date, window.unwrap_or(Window::Any)),
        // A time alone: today while it is still ahead, otherwise tomorrow.
        (None, Some(window)) => {
            let today = now.date();
            if window_over(window, now.time()) {
                (today.tomorrow().map_err(|_| WhenError::Ambiguous)?, window)
            } else {
                (today, window)
            }
        }
    };
    if date < now.date() || (date == now.date() && window_over(window, now.time())) {
        return Err(WhenError::Past);
    }
    Ok(Visit { date, window, note })
}

/// Whether a window of today has ended by `now`.
fn window_over(window: Window, now: Time) -> bool {
    match window {
        Window::Any | Window::After(_) => false,
        Window::At(t) | Window::Before(t) | Window::Between(_, t) => t < now,
    }
}

/// One word of the text: as typed (for the note) and normalised.
#[derive(Debug, Clone)]
struct Token {
    original: String,
    word: String,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut spaced = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        match ch {
            // Ranges and list marks stand alone: "10–12", "10-12", "пт,".
            '–' | '—' | '-' | ',' | ';' | '(' | ')' | '!' | '?' => {
                spaced.push(' ');
                if matches!(ch, '–' | '—' | '-') {
                    spaced.push('-');
                    spaced.push(' ');
                }
            }
            _ => spaced.push(ch),
        }
    }
    spaced
        .split_whitespace()
        .map(|w| {
            let trimmed = w.trim_end_matches('.');
            let word = trimmed.to_lowercase().replace('ё', "е");
            Token {
                original: w.to_string(),
                word: if word.is_empty() {
                    w.to_lowercase()
                } else {
                    word
                },
            }
        })
        .collect()
}

struct Parser<'a> {
    tokens: &'a [Token],
    used: Vec<bool>,
    today: Date,
}

/// Words that only join the others ("в пятницу", "on friday", "at 5").
const FILLERS: [&str; 14] = [
    "в",
    "во",
    "на",
    "к",
    "около",
    "примерно",
    "at",
    "on",
    "in",
    "the",
    "by",
    "around",
    "about",
    "-",
];

/// A day-and-month without a year that passed fewer days ago than this is
/// taken as a mistake (the person is asked again), not as next year's.
const RECENT_PAST_DAYS: i64 = 60;

fn weekday_of(word: &str) -> Option<Weekday> {
    use Weekday::*;
    let table: [(&[&str], Weekday); 7] = [
        (&["понедельник", "пн", "monday", "mon"], Monday),
        (&["вторник", "вт", "tuesday", "tue", "tues"], Tuesday),
        (&["среда", "среду", "ср", "wednesday", "wed"], Wednesday),
        (&["четверг", "чт", "thursday", "thu", "thurs"], Thursday),
        (&["пятница", "пятницу", "пт", "friday", "fri"], Friday),
        (&["суббота", "субботу", "сб", "saturday", "sat"], Saturday),
        (&["воскресенье", "вс", "sunday", "sun"], Sunday),
    ];
    table
        .iter()
        .find(|(names, _)| names.contains(&word))
        .map(|(_, d)| *d)
}

fn month_of(word: &str) -> Option<i8> {
    const MONTHS: [(&str, &str); 12] = [
        ("январ", "jan"),
        ("феврал", "feb"),
        ("март", "mar"),
        ("апрел", "apr"),
        ("ма", "may"),
        ("июн", "jun"),
        ("июл", "jul"),
        ("август", "aug"),
        ("сентябр", "sep"),
        ("октябр", "oct"),
        ("ноябр", "nov"),
        ("декабр", "dec"),
    ];
    MONTHS
        .iter()
        .position(|(ru, en)| {
            // "мая"/"май" only: "ма" alone would also match "мастер".
            let ru_ok = if *ru == "ма" {
                matches!(word, "мая" | "май")
            } else {
                word.starts_with(ru) && word.len() <= ru.len() + 4
            };
            let en_ok = word.starts_with(en) && word.len() >= 3 && en_month_full(word);
            ru_ok || en_ok
        })
        .map(|i| i as i8 + 1)
}

fn en_month_full(word: &str) -> bool {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.iter().any(|m| m.starts_with(word) || *m == word) || word == "sept"
}

fn number(word: &str) -> Option<i64> {
    let digits = word
        .trim_end_matches("-го")
        .trim_end_matches("го")
        .trim_end_matches("th")
        .trim_end_matches("st")
        .trim_end_matches("nd")
        .trim_end_matches("rd");
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn word_number(word: &str) -> Option<i64> {
    let words: [(&[&str], i64); 7] = [
        (&["один", "одна", "one", "a"], 1),
        (&["два", "две", "two"], 2),
        (&["три", "three"], 3),
        (&["четыре", "four"], 4),
        (&["пять", "five"], 5),
        (&["шесть", "six"], 6),
        (&["семь", "seven"], 7),
    ];
    number(word).or_else(|| {
        words
            .iter()
            .find(|(names, _)| names.contains(&word))
            .map(|(_, n)| *n)
    })
}

impl Parser<'_> {
    fn word(&self, i: usize) -> Option<&str> {
        self.tokens.get(i).map(|t| t.word.as_str())
    }

    fn take(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            if let Some(u) = self.used.get_mut(i) {
                *u = true;
            }
        }
    }

    fn free(&self, i: usize) -> bool {
        i < self.tokens.len() && !self.used[i]
    }

    /// The day, from every day expression found; they must agree.
    fn day(&mut self) -> Result<Option<Date>, WhenError> {
        let mut found: Vec<Date> = Vec::new();
        let mut weekday: Option<(Weekday, bool)> = None;
        let mut i = 0;
        while i < self.tokens.len() {
            let w = self.tokens[i].word.clone();
            let next = self.word(i + 1).map(str::to_string);
            let next2 = self.word(i + 2).map(str::to_string);
            let mut consumed = 0;
            match w.as_str() {
                "сегодня" | "today" | "tonight" => {
                    found.push(self.today);
                    consumed = 1;
                }
                "завтра" | "tomorrow" => {
                    found.push(self.plus_days(1)?);
                    consumed = 1;
                }
                "вчера" | "yesterday" => {
                    found.push(self.plus_days(-1)?);
                    consumed = 1;
                }
                "послезавтра" => {
                    found.push(self.plus_days(2)?);
                    consumed = 1;
                }
                "day"
                    if next.as_deref() == Some("after") && next2.as_deref() == Some("tomorrow") =>
                {
                    found.push(self.plus_days(2)?);
                    consumed = 3;
                }
                "через" | "in" => {
                    if let Some((days, len)) = self.span_after(i + 1) {
                        found.push(self.plus_days(days)?);
                        consumed = 1 + len;
                    }
                }
                "следующий" | "следующую" | "следующее" | "следующая" | "next" => {
                    if let Some(d) = next.as_deref().and_then(weekday_of) {
                        weekday = Some((d, true));
                        consumed = 2;
                    }
                }
                _ => {
                    if let Some(d) = weekday_of(&w) {
                        weekday = Some((d, false));
                        consumed = 1;
                    } else if self.time_with_dot(i) {
                        // "в 10.05": a time, read by `window`.
                    } else if let Some((date, len)) = self.calendar_date(i)? {
                        found.push(date);
                        consumed = len;
                    }
                }
            }
            if consumed > 0 {
                self.take(i..i + consumed);
                i += consumed;
            } else {
                i += 1;
            }
        }
        if let Some((day, strictly_next)) = weekday {
            let mut date = if self.today.weekday() == day && !strictly_next {
                self.today
            } else {
                self.today
                    .nth_weekday(1, day)
                    .map_err(|_| WhenError::Ambiguous)?
            };
            // "пт, 25 октября": the weekday only confirms the date.
            if let Some(explicit) = found.first() {
                if explicit.weekday() != day {
                    return Err(WhenError::Ambiguous);
                }
                date = *explicit;
            }
            found.push(date);
        }
        match found.split_first() {
            None => Ok(None),
            Some((first, rest)) if rest.iter().all(|d| d == first) => Ok(Some(*first)),
            Some(_) => Err(WhenError::Ambiguous),
        }
    }

    /// `10.05` right after a time preposition ("в 10.05", "до 18.30"): an
    /// hour and minutes, not the 10th of May.
    fn time_with_dot(&self, i: usize) -> bool {
        let after_preposition = i > 0
            && matches!(
                self.tokens[i - 1].word.as_str(),
                "в" | "к" | "с" | "до" | "после" | "at" | "from" | "after" | "before" | "by"
            );
        let Some((h, m)) = self.tokens[i].word.split_once('.') else {
            return false;
        };
        after_preposition
            && m.len() == 2
            && h.parse::<u8>().is_ok_and(|h| h <= 23)
            && m.parse::<u8>().is_ok_and(|m| m < 60)
    }

    fn plus_days(&self, days: i64) -> Result<Date, WhenError> {
        self.today
            .checked_add(jiff::Span::new().days(days))
            .map_err(|_| WhenError::Ambiguous)
    }

    /// "3 дня", "день", "неделю", "2 weeks", "a week" after "через"/"in".
    fn span_after(&self, i: usize) -> Option<(i64, usize)> {
        let unit = |w: &str| -> Option<i64> {
            match w {
                "день" | "дня" | "дней" | "day" | "days" => Some(1),
                "неделю" | "недели" | "недель" | "week" | "weeks" => Some(7),
                _ => None,
            }
        };
        let first = self.word(i)?;
        if let Some(u) = unit(first) {
            return Some((u, 1));
        }
        let n = word_number(first)?;
        let u = unit(self.word(i + 1)?)?;
        (1..=60).contains(&n).then_some((n * u, 2))
    }

    /// `25.10`, `25.10.2025`, `25/10`, `25 октября`, `october 25`, `25 oct 2026`.
    fn calendar_date(&self, i: usize) -> Result<Option<(Date, usize)>, WhenError> {
        let w = self.tokens[i].word.as_str();
        if let Some((d, m, y)) = numeric_date(w) {
            return self.resolve(d, m, y).map(|date| Some((date, 1)));
        }
        // "25 октября [2026]"
        if let (Some(day), Some(month)) = (number(w), self.word(i + 1).and_then(month_of)) {
            let year = self.word(i + 2).and_then(number).filter(|y| *y >= 2000);
            let len = if year.is_some() { 3 } else { 2 };
            return self.resolve(day, month, year).map(|date| Some((date, len)));
        }
        // "october 25 [2026]"
        if let (Some(month), Some(day)) = (month_of(w), self.word(i + 1).and_then(number)) {
            if (1..=31).contains(&day) {
                let year = self.word(i + 2).and_then(number).filter(|y| *y >= 2000);
                let len = if year.is_some() { 3 } else { 2 };
                return self.resolve(day, month, year).map(|date| Some((date, len)));
            }
        }
        Ok(None)
    }

    /// A day and month (and maybe year) as a date; without a year, the next
    /// such day from today on.
    fn resolve(&self, day: i64, month: i8, year: Option<i64>) -> Result<Date, WhenError> {
        let day = i8::try_from(day).map_err(|_| WhenError::Ambiguous)?;
        match year {
            Some(y) => {
                let y = if y < 100 { 2000 + y } else { y };
                let y = i16::try_from(y).map_err(|_| WhenError::Ambiguous)?;
                Date::new(y, month, day).map_err(|_| WhenError::Ambiguous)
            }
            None => {
                let this =
                    Date::new(self.today.year(), month, day).map_err(|_| WhenError::Ambiguous)?;
                if this >= self.today {
                    return Ok(this);
                }
                // A day that passed weeks ago is a typo or a mix-up, not a
                // visit a year from now: ask again. One that passed long
                // ago is next year's ("5 января" typed in December).
                let ago = this
                    .until(self.today)
                    .ok()
                    .and_then(|span| span.get_days().checked_abs())
                    .unwrap_or(0);
                if i64::from(ago) < RECENT_PAST_DAYS {
                    return Ok(this); // reported as past by the caller
                }
                Date::new(self.today.year() + 1, month, day).map_err(|_| WhenError::Ambiguous)
            }
        }
    }

    /// The time window, from the words not used by the day.
    fn window(&mut self) -> Result<Option<Window>, WhenError> {
        let mut i = 0;
        while i < self.tokens.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            let w = self.tokens[i].word.clone();
            let part_of_day = match w.as_str() {
                "утром" | "morning" => Some((9, 12)),
                "днем" | "afternoon" => Some((12, 17)),
                "вечером" | "evening" => Some((17, 21)),
                _ => None,
            };
            if let Some((from, to)) = part_of_day {
                self.take(i..i + 1);
                return Ok(Some(Window::Between(hour(from), hour(to))));
            }
            if matches!(w.as_str(), "полдень" | "noon") {
                self.take(i..i + 1);
                return Ok(Some(Window::At(hour(12))));
            }
            let (kind, start) = match w.as_str() {
                "после" | "after" | "позже" => ("after", i + 1),
                "до" | "before" | "until" | "till" => ("before", i + 1),
                "с" | "from" | "between" => ("from", i + 1),
                "в" | "at" | "к" | "около" | "around" => ("at", i + 1),
                _ => ("at", i),
            };
            // A bare number is a time only as the start of a range ("10-12")
            // or with its minutes after a dash ("14-00").
            let range_only = kind == "at"
                && start == i
                && self.word(i + 1) == Some("-")
                && self.dashed_minutes(i).is_none();
            let bare = kind == "at" && start == i && !range_only;
            let Some((t, len)) = self.time_at(start, bare) else {
                i += 1;
                continue;
            };
            let mut end = start + len;
            let window = match kind {
                "after" => Window::After(t),
                "before" => Window::Before(t),
                _ => {
                    // "с 10 до 12", "from 10 to 12", "between 10 and 12", "10-12".
                    let joins = ["до", "по", "to", "and", "-", "till", "until"];
                    match self.word(end) {
                        Some(j) if joins.contains(&j) => match self.time_at(end + 1, false) {
                            Some((until, len2)) => {
                                let until = later_than(t, until).ok_or(WhenError::Ambiguous)?;
                                end = end + 1 + len2;
                                Window::Between(t, until)
                            }
                            None => Window::At(t),
                        },
                        _ if kind == "from" => Window::After(t),
                        _ => Window::At(t),
                    }
                }
            };
            if range_only && !matches!(window, Window::Between(..)) {
                i += 1;
                continue;
            }
            self.take(i..end);
            return Ok(Some(window));
        }
        Ok(None)
    }

    /// `MM` when token `i` starts an hour written with a dash, `14-00` or
    /// `9-30`: the minutes start with 0 or cannot be an hour. `10-12` stays a
    /// range of hours.
    fn dashed_minutes(&self, i: usize) -> Option<i8> {
        number(self.word(i)?).filter(|h| (0..=23).contains(h))?;
        if self.word(i + 1)? != "-" {
            return None;
        }
        let minutes = self.word(i + 2)?;
        if minutes.len() != 2 || !minutes.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let m: i8 = minutes.parse().ok()?;
        ((minutes.starts_with('0') || m > 23) && m < 60).then_some(m)
    }

    /// A time at token `i`: `15:00`, `15`, `5pm`, `9 утра`, `7 вечера`,
    /// `5 pm`. A bare number needs a preposition before it (`bare` false),
    /// unless it comes with a marker (`pm`, `утра`).
    fn time_at(&self, i: usize, bare: bool) -> Option<(Time, usize)> {
        if !self.free(i) {
            return None;
        }
        let w = self.word(i)?;
        if matches!(w, "полдень" | "полудня" | "обед" | "обеда" | "noon") {
            return Some((hour(12), 1));
        }
        let (body, suffix) = split_meridiem(w);
        let mut len = 1;
        // "14:00", "14.00" (after a preposition), "14-00".
        let (h, m, written_minutes) = match body.split_once([':', '.']) {
            Some((h, m)) if m.len() == 2 => (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?, true),
            Some(_) => return None,
            None => {
                let h = number(body).and_then(|n| i8::try_from(n).ok())?;
                match self.dashed_minutes(i) {
                    Some(m) => {
                        len = 3;
                        (h, m, true)
                    }
                    None => (h, 0, false),
                }
            }
        };
        if body.contains('.') && bare {
            // "25.10" standing alone is a date, read by `day`.
            return None;
        }
        // "в 5 часов", "к 10 часам"
        if matches!(self.word(i + len), Some("час" | "часа" | "часов" | "часам"))
            && !written_minutes
        {
            len += 1;
        }
        let marker = suffix.or_else(|| {
            let next = self.word(i + len)?;
            let m = match next {
                "утра" | "am" | "a.m" => "am",
                "вечера" | "дня" | "pm" | "p.m" => "pm",
                "ночи" => "night",
                _ => return None,
            };
            len += 1;
            Some(m)
        });
        if bare && marker.is_none() && !written_minutes {
            return None;
        }
        let h = match marker {
            Some("pm") if h < 12 => h + 12,
            Some("am" | "night") if h == 12 => 0,
            // "в 5", "после 6": a repair visit at five is in the afternoon;
            // the morning is said ("в 5 утра").
            None if (1..=7).contains(&h) && !written_minutes => h + 12,
            _ => h,
        };
        if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
            return None;
        }
        Some((Time::new(h, m, 0, 0).ok()?, len))
    }

    /// Everything not read as a day or a time, as typed. A joining word is
    /// dropped where it joined a day or time ("в" of "в пятницу"), kept
    /// inside the instructions ("call in advance").
    fn note(&self) -> Option<String> {
        let is_filler = |i: usize| FILLERS.contains(&self.tokens[i].word.as_str());
        let joins_used = |i: usize| {
            // The first word after this run of joining words.
            let next = (i + 1..self.tokens.len()).find(|j| !is_filler(*j));
            let next_used = next.is_none_or(|j| self.used[j]);
            let prev_used = i == 0 || self.used[i - 1];
            next_used || (self.tokens[i].word == "-" && prev_used)
        };
        let words: Vec<&str> = self
            .tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let dropped = self.used[*i] || (is_filler(*i) && joins_used(*i));
                !dropped
            })
            .map(|(_, t)| t.original.as_str())
            .collect();
        let note = words.join(" ");
        let note = note.trim_matches(|c: char| c.is_whitespace() || c == '.' || c == ':');
        (!note.is_empty()).then(|| note.to_string())
    }
}

/// `5pm` → (`5`, pm); `9am`; anything else unchanged.
fn split_meridiem(word: &str) -> (&str, Option<&'static str>) {
    for (suffix, marker) in [("pm", "pm"), ("am", "am")] {
        if let Some(body) = word.strip_suffix(suffix) {
            if !body.is_empty() {
                return (body, Some(marker));
            }
        }
    }
    (word, None)
}

/// `until` read as later than `from`: "с 10 до 2" is 10:00–14:00; `None`
/// when even that is not later ("с 14 до 13", "с 21 до 1").
fn later_than(from: Time, until: Time) -> Option<Time> {
    if until > from {
        return Some(until);
    }
    let pm = Time::new(until.hour() + 12, until.minute(), 0, 0).ok()?;
    (until.hour() < 12 && pm > from).then_some(pm)
}

fn hour(h: i8) -> Time {
    Time::new(h, 0, 0, 0).unwrap_or(Time::midnight())
}

/// `25.10`, `25.10.2025`, `25.10.25`, `25/10`.
fn numeric_date(word: &str) -> Option<(i64, i8, Option<i64>)> {
    let parts: Vec<&str> = word.split(['.', '/']).collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    if parts.iter().any(|p| !p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let day: i64 = parts[0].parse().ok()?;
    let month: i8 = parts[1].parse().ok()?;
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) || parts[0].len() > 2 {
        return None;
    }
    let year = match parts.get(2) {
        Some(y) if y.len() == 2 || y.len() == 4 => Some(y.parse().ok()?),
        Some(_) => return None,
        None => None,
    };
    Some((day, month, year))
}

/// The shop's time zone by IANA name (`SHOP_TIMEZONE`), from the time zone
/// database compiled into the binary.
pub fn shop_time_zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// The first moment of `date` in `tz` (day boundaries of lists and exports).
pub fn day_start(date: Date, tz: &TimeZone) -> Timestamp {
    tz.to_ambiguous_timestamp(date.to_datetime(Time::midnight()))
        .compatible()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The `n` shop days up to and including `today`, oldest first, each with
/// its first moment and the first moment of the next day: a day across a
/// DST change is 23 or 25 hours long, never 24 by assumption.
pub fn last_days(today: Date, n: usize, tz: &TimeZone) -> Vec<(Date, Timestamp, Timestamp)> {
    (0..n)
        .rev()
        .filter_map(|back| {
            let date = today
                .checked_sub(jiff::Span::new().days(back as i64))
                .ok()?;
            let next = date.tomorrow().ok()?;
            Some((date, day_start(date, tz), day_start(next, tz)))
        })
        .collect()
}

/// `now` as the shop's civil time in `tz`.
pub fn shop_now(now: Timestamp, tz: &TimeZone) -> DateTime {
    tz.to_datetime(now)
}

#[cfg(test)]
mod tests;
