//! What the Python bot this one replaces (Status_bot) stored, read in this
//! shop's own terms: its status codes, role strings, equipment labels,
//! money, time stamps, free-text visit times and the long-repair lines it
//! appended to the notes. Pure: the importer (`crate::import`) reads the
//! rows and writes ours; every rule here is table-tested.

use std::collections::BTreeMap;

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{ActionKind, ApplianceKind, Money, OrderStatus, Role};

/// An order status as Status_bot spells it (`orders.status`, the history
/// columns); `None` for a code it never had.
pub fn status(code: &str) -> Option<OrderStatus> {
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "NEW" => OrderStatus::New,
        "ASSIGNED" => OrderStatus::Assigned,
        "ACCEPTED" => OrderStatus::Accepted,
        "ONSITE" => OrderStatus::OnSite,
        "DR" => OrderStatus::LongRepair,
        "CLOSED" => OrderStatus::Closed,
        "REFUSED" => OrderStatus::Refused,
        _ => return None,
    })
}

/// What a `users.role` string grants here: the staff roles, and whether
/// the person is a senior master (a flag of the master's profile here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub roles: Vec<Role>,
    pub senior: bool,
}

/// Reads `ADMIN`, `DISPATCHER,MASTER`, `MASTER,SENIOR_MASTER`, `UNKNOWN`
/// (comma-separated, any order, spaces tolerated). `Err` names the first
/// token that is no role of Status_bot's.
pub fn roles(text: &str) -> Result<Roles, String> {
    let mut found = Roles::default();
    for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let role = match token.to_ascii_uppercase().as_str() {
            "ADMIN" => Role::Admin,
            "DISPATCHER" => Role::Dispatcher,
            "MASTER" => Role::Master,
            "SENIOR_MASTER" => {
                found.senior = true;
                Role::Master
            }
            "UNKNOWN" => continue,
            _ => return Err(token.to_string()),
        };
        if !found.roles.contains(&role) {
            found.roles.push(role);
        }
    }
    found.roles.sort();
    Ok(found)
}

/// The appliance kind of an `orders.equipment_type` label; an unknown
/// label is kept as "other" (the description still says what it is).
pub fn equipment(label: &str) -> ApplianceKind {
    ApplianceKind::from_label(label).unwrap_or(ApplianceKind::Other)
}

/// The kinds a free-text specialization names (`Электрика, сантехника`,
/// `Универсал: стиралки, сушилки, ДШ/ВП`), in the order written.
pub fn specialization(text: &str) -> Vec<ApplianceKind> {
    let mut kinds = Vec::new();
    for part in text
        .split([',', ';', ':', '/', '+'])
        .flat_map(|p| p.split(" и "))
    {
        // "ДШ/ВП" is one label although it holds a slash.
        let part = part.trim().to_lowercase();
        let kind = if part == "дш" || part == "вп" {
            Some(ApplianceKind::Oven)
        } else {
            ApplianceKind::from_label(&part).filter(|k| *k != ApplianceKind::Other)
        };
        if let Some(kind) = kind {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    kinds
}

/// A money column as SQLite prints it (`3500.0`, `880.3`, `2500.5`, `0`),
/// exact to the kopeck: a third decimal is rounded half up, anything that
/// is not a non-negative decimal number is refused.
pub fn money(text: &str) -> Result<Money, String> {
    let raw = text.trim();
    let (whole, fraction) = raw.split_once(['.', ',']).unwrap_or((raw, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || whole.len() > 13 {
        return Err(format!("not an amount: {raw:?}"));
    }
    let roubles: i64 = whole
        .parse()
        .map_err(|_| format!("not an amount: {raw:?}"))?;
    let mut cents: Vec<i64> = fraction
        .chars()
        .map(|c| i64::from(c.to_digit(10).unwrap_or(0)))
        .collect();
    cents.resize(3.max(cents.len()), 0);
    let kopecks = cents[0] * 10 + cents[1] + i64::from(cents[2] >= 5);
    Ok(Money::from_kopecks(roubles * 100 + kopecks))
}

/// A time stamp in any of the forms Status_bot's installations hold:
/// with an offset (`2026-10-29 12:07:16.694018+03:00`: the inline-SQL
/// steps), with microseconds and no offset (the ORM's writes, local time of
/// `source_tz`), or without a fraction and offset (SQLite's
/// `CURRENT_TIMESTAMP`, which is UTC). Unix milliseconds.
pub fn timestamp(text: &str, source_tz: &TimeZone) -> Result<i64, String> {
    let raw = text.trim();
    let bad = || format!("not a time stamp: {raw:?}");
    let has_offset = raw
        .get(19..)
        .is_some_and(|rest| rest.contains(['+', '-', 'Z']));
    if has_offset {
        let at: Timestamp = raw.replacen(' ', "T", 1).parse().map_err(|_| bad())?;
        return Ok(at.as_millisecond());
    }
    let civil: DateTime = raw.replacen(' ', "T", 1).parse().map_err(|_| bad())?;
    let zone = if raw.contains('.') {
        source_tz.clone()
    } else {
        TimeZone::UTC
    };
    zone.to_ambiguous_timestamp(civil)
        .compatible()
        .map(|at| at.as_millisecond())
        .map_err(|_| bad())
}

/// The part of a stored visit text the visit parser should read: after a
/// reschedule's arrow (`завтра в 11:00 → 09.10.2026 11:00`), without the
/// echo of the typed words (`25.10.2026 15:00 (завтра в 15:00)`).
pub fn visit_words(text: &str) -> &str {
    let latest = text.rsplit('→').next().unwrap_or(text).trim();
    match latest.find(" (") {
        Some(cut) if latest.ends_with(')') => latest[..cut].trim(),
        _ => latest,
    }
}

/// A long repair's due moment from `estimated_completion_date`
/// (`07.11.2026 10:30 (через неделю)`, `19.11.2026 00:00`: a date typed
/// without a time, due in the morning like ours), in `tz`.
pub fn due_moment(text: &str, tz: &TimeZone) -> Option<i64> {
    let words = visit_words(text);
    let (date, time) = words.split_once(' ').unwrap_or((words, "00:00"));
    let mut parts = date.split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    let date = jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
    let (h, min) = time.trim().split_once(':')?;
    let mut time = Time::new(h.parse().ok()?, min.parse().ok()?, 0, 0).ok()?;
    if time == Time::midnight() {
        time = Time::constant(9, 0, 0, 0);
    }
    tz.to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .ok()
        .map(|at| at.as_millisecond())
}

/// What Status_bot's long-repair step appended to the notes
/// (`[ДР] Требуемые запчасти: …`, `Предварительная сумма согласования:
/// 4500.00 ₽`), and the notes without those lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairNote {
    pub parts: Option<String>,
    pub agreed: Option<Money>,
    /// The dispatcher's own notes, the long-repair lines taken out.
    pub rest: Option<String>,
}

const PARTS_LABEL: &str = "Требуемые запчасти:";
const AGREED_LABEL: &str = "Предварительная сумма согласования:";

/// Splits `notes` into the long-repair terms and the rest.
pub fn repair_note(notes: &str) -> RepairNote {
    let mut found = RepairNote::default();
    let mut rest = Vec::new();
    for line in notes.lines() {
        let bare = line.trim().trim_start_matches("[ДР]").trim();
        if let Some(parts) = bare.strip_prefix(PARTS_LABEL) {
            found.parts = Some(parts.trim().to_string()).filter(|p| !p.is_empty());
        } else if let Some(sum) = bare.strip_prefix(AGREED_LABEL) {
            match Money::parse(sum) {
                Ok(money) => found.agreed = Some(money),
                Err(_) => rest.push(line),
            }
        } else if line.trim() != "[ДР]" {
            rest.push(line);
        }
    }
    let rest = rest.join("\n");
    found.rest = Some(rest.trim().to_string()).filter(|r| !r.is_empty());
    found
}

/// The action a Status_bot history row stands for here: what the history
/// view calls it. Status_bot wrote rows only for some changes (no row for
/// assigning, unassigning or the long-repair step), so each is read alone.
pub fn history_action(from: Option<OrderStatus>, to: OrderStatus) -> ActionKind {
    use OrderStatus as S;
    match (from, to) {
        (_, S::Refused) => ActionKind::Refuse,
        (Some(S::Refused | S::Cancelled), S::New) => ActionKind::Reopen,
        (Some(S::Assigned | S::Accepted | S::OnSite | S::LongRepair), S::New) => {
            ActionKind::Unassign
        }
        (_, S::Assigned) => ActionKind::Assign,
        (_, S::Accepted) => ActionKind::Accept,
        (Some(S::LongRepair), S::OnSite) => ActionKind::ResumeWork,
        (_, S::OnSite) => ActionKind::StartWork,
        (_, S::LongRepair) => ActionKind::WaitParts,
        (_, S::Closed) => ActionKind::Finish,
        (_, S::Cancelled) => ActionKind::Cancel,
        (_, S::New) => ActionKind::Edit,
    }
}

/// The role a history row was written in: a master's own step by a master,
/// anything else in the actor's highest staff role (a master otherwise).
pub fn history_role(action: ActionKind, roles: &[Role]) -> Role {
    if action.is_masters_work() && roles.contains(&Role::Master) {
        return Role::Master;
    }
    roles.iter().copied().max().unwrap_or(Role::Master)
}

/// What a closed order's money adds up to, per master.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub orders: i64,
    pub total: Money,
    pub materials: Money,
    pub master: Money,
    pub company: Money,
}

impl Sums {
    /// Adds one closed order.
    pub fn add(&mut self, total: Money, materials: Money, master: Money, company: Money) {
        self.orders += 1;
        self.total = self.total + total;
        self.materials = self.materials + materials;
        self.master = self.master + master;
        self.company = self.company + company;
    }
}

/// The figures an import is checked by, counted once over the source and
/// once over what was written: people per role (`admin`, `dispatcher`,
/// `master`, and `senior` masters), orders per status (this bot's codes,
/// deleted ones included) and how many are deleted, history rows, and the
/// closed orders' money per master (Telegram id, 0 for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub people: BTreeMap<String, i64>,
    pub orders: BTreeMap<String, i64>,
    pub deleted: i64,
    pub history: i64,
    pub closed: BTreeMap<i64, Sums>,
}

/// One figure of the source beside the same figure of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub what: String,
    pub source: String,
    pub imported: String,
}

impl Line {
    /// Whether the two agree.
    pub fn agrees(&self) -> bool {
        self.source == self.imported
    }
}

/// Every figure of `source` beside the same figure of `imported`, in a
/// stable order: the import is right when every line agrees.
pub fn compare(source: &Figures, imported: &Figures) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut counts = |prefix: &str, a: &BTreeMap<String, i64>, b: &BTreeMap<String, i64>| {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            lines.push(Line {
                what: format!("{prefix} {key}"),
                source: a.get(key).copied().unwrap_or(0).to_string(),
                imported: b.get(key).copied().unwrap_or(0).to_string(),
            });
        }
    };
    counts("people", &source.people, &imported.people);
    counts("orders", &source.orders, &imported.orders);
    for (what, a, b) in [
        ("orders deleted", source.deleted, imported.deleted),
        ("history rows", source.history, imported.history),
    ] {
        lines.push(Line {
            what: what.to_string(),
            source: a.to_string(),
            imported: b.to_string(),
        });
    }
    let masters: std::collections::BTreeSet<&i64> =
        source.closed.keys().chain(imported.closed.keys()).collect();
    let show = |s: Option<&Sums>| {
        let s = s.copied().unwrap_or_default();
        format!(
            "{} closed, total {}, materials {}, master {}, company {}",
            s.orders, s.total, s.materials, s.master, s.company
        )
    };
    for master in masters {
        lines.push(Line {
            what: format!("money of master {master}"),
            source: show(source.closed.get(master)),
            imported: show(imported.closed.get(master)),
        });
    }
    lines
}

#[cfg(test)]
mod tests;
