//! What the shop owner's reports count: the periods (a day, a week from
//! Monday, a calendar month; the current one for the menu, the previous one
//! for the scheduled reports) and a master's totals over the orders closed
//! in one. Pure: the database reads the orders, `reports` lays them out.

use std::collections::BTreeMap;

use jiff::civil::Date;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::{ApplianceKind, ClosedMoney, Money};

/// The length of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The period `today` falls in: `[first day, day after the last)`.
    pub fn current(self, today: Date) -> (Date, Date) {
        let first = match self {
            Period::Day => today,
            Period::Week => monday_of(today),
            Period::Month => today.first_of_month(),
        };
        (first, self.after(first))
    }

    /// The whole period before the one `today` falls in (yesterday, last
    /// week, last month): what a scheduled report covers.
    pub fn previous(self, today: Date) -> (Date, Date) {
        let (current, _) = self.current(today);
        let day_before = current.yesterday().unwrap_or(current);
        self.current(day_before)
    }

    fn after(self, first: Date) -> Date {
        let next = match self {
            Period::Day => first.tomorrow(),
            Period::Week => first.checked_add(jiff::Span::new().days(7)),
            Period::Month => first.last_of_month().tomorrow(),
        };
        next.unwrap_or(first)
    }
}

fn monday_of(day: Date) -> Date {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
}

/// Days `/stats` shows when no period is asked for.
pub const STATS_DAYS: usize = 7;
/// The longest period `/stats` shows, in days.
pub const MAX_STATS_DAYS: usize = 92;

/// The days `/stats` covers, from what follows the command: nothing or
/// a week (`неделя`, `week`: 7), a month (`месяц`, `month`: 30), or a
/// number of days (`30`, `30 дней`) up to [`MAX_STATS_DAYS`]; `None` for
/// anything else.
pub fn stats_days(args: &str) -> Option<usize> {
    let lowered = args.trim().to_lowercase();
    let mut words = lowered
        .split_whitespace()
        .skip_while(|w| *w == "за" || *w == "last");
    let first = words.next().unwrap_or("");
    if first.is_empty() || first.starts_with("нед") || first.starts_with("week") {
        return Some(STATS_DAYS);
    }
    if first.starts_with("мес") || first.starts_with("month") {
        return Some(30);
    }
    first
        .parse()
        .ok()
        .filter(|n| (1..=MAX_STATS_DAYS).contains(n))
}

/// Whose orders a person's reports cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole shop (admins, dispatchers).
    Shop,
    /// A master's own.
    Master(i64),
}

/// Whose orders `actor` may see in a report, or `None`: no reports.
pub fn scope_of(actor: super::Actor) -> Option<Scope> {
    use super::{Permission, Role};
    if actor.may(Permission::OrderBoard) {
        Some(Scope::Shop)
    } else if actor.roles.contains(Role::Master) {
        Some(Scope::Master(actor.user_id))
    } else {
        None
    }
}

/// One closed order as a report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedJob {
    pub equipment: ApplianceKind,
    /// `None`: closed before the money rules (a total only).
    pub money: Option<ClosedMoney>,
    pub total: Money,
}

/// A master's figures over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MasterTotals {
    pub orders: u32,
    pub total: Money,
    pub materials: Money,
    pub net: Money,
    pub master: Money,
    /// What the master hands over to the company.
    pub owed: Money,
    pub by_equipment: BTreeMap<ApplianceKind, u32>,
}

impl MasterTotals {
    /// Sums `jobs`.
    pub fn of<'a>(jobs: impl IntoIterator<Item = &'a ClosedJob>) -> Self {
        let mut t = Self::default();
        for job in jobs {
            t.orders += 1;
            t.total = t.total + job.total;
            if let Some(m) = &job.money {
                t.materials = t.materials + m.materials;
                t.master = t.master + m.master;
                t.owed = t.owed + m.owed_to_company();
            }
            *t.by_equipment.entry(job.equipment).or_default() += 1;
        }
        t.net = t.total - t.materials;
        t
    }

    /// The mean total per order, to the kopeck (half up); zero for none.
    pub fn average_check(&self) -> Money {
        if self.orders == 0 {
            return Money::ZERO;
        }
        let n = i64::from(self.orders);
        Money::from_kopecks((self.total.kopecks() * 2 + n) / (2 * n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn stats_periods_as_typed() {
        for (typed, days) in [
            ("", Some(7)),
            ("неделя", Some(7)),
            ("за неделю", Some(7)),
            ("за месяц", Some(30)),
            ("last month", Some(30)),
            ("week", Some(7)),
            ("месяц", Some(30)),
            ("Month", Some(30)),
            ("30", Some(30)),
            ("14 дней", Some(14)),
            ("92", Some(92)),
            ("93", None),
            ("0", None),
            ("вчера", None),
        ] {
            assert_eq!(stats_days(typed), days, "{typed:?}");
        }
    }

    #[test]
    fn periods_are_calendar_ones() {
        let wed = date(2026, 12, 2);
        assert_eq!(Period::Day.current(wed), (wed, date(2026, 12, 3)));
        assert_eq!(
            Period::Week.current(wed),
            (date(2026, 11, 30), date(2026, 12, 7))
        );
        assert_eq!(
            Period::Month.current(wed),
            (date(2026, 12, 1), date(2027, 1, 1))
        );
        assert_eq!(Period::Day.previous(wed), (date(2026, 12, 1), wed));
        assert_eq!(
            Period::Week.previous(wed),
            (date(2026, 11, 23), date(2026, 11, 30))
        );
        assert_eq!(
            Period::Month.previous(wed),
            (date(2026, 11, 1), date(2026, 12, 1))
        );
        // A Monday's week starts that day; January's previous month is December.
        let mon = date(2027, 1, 4);
        assert_eq!(Period::Week.current(mon).0, mon);
        assert_eq!(
            Period::Month.previous(mon),
            (date(2026, 12, 1), date(2027, 1, 1))
        );
    }

    #[test]
    fn a_masters_totals_add_up() {
        let money = |total, materials, master| ClosedMoney {
            total: Money::from_roubles(total),
            materials: Money::from_roubles(materials),
            master: Money::from_roubles(master),
            company: Money::from_roubles(total - materials - master),
            master_percent: 50,
            out_of_city: false,
            review: false,
        };
        let jobs = [
            ClosedJob {
                equipment: ApplianceKind::Refrigerator,
                money: Some(money(12_500, 0, 6_250)),
                total: Money::from_roubles(12_500),
            },
            ClosedJob {
                equipment: ApplianceKind::Dishwasher,
                money: Some(money(7_200, 2_500, 1_880)),
                total: Money::from_roubles(7_200),
            },
            ClosedJob {
                equipment: ApplianceKind::Dishwasher,
                money: None,
                total: Money::from_kopecks(100_001),
            },
        ];
        let t = MasterTotals::of(&jobs);
        assert_eq!(t.orders, 3);
        assert_eq!(t.total, Money::from_kopecks(2_070_001));
        assert_eq!(t.materials, Money::from_roubles(2_500));
        assert_eq!(t.net, Money::from_kopecks(1_820_001));
        assert_eq!(t.master, Money::from_roubles(8_130));
        assert_eq!(t.owed, Money::from_roubles(6_250 + 2_820));
        assert_eq!(t.average_check(), Money::from_kopecks(690_000));
        assert_eq!(t.by_equipment[&ApplianceKind::Dishwasher], 2);
        assert_eq!(MasterTotals::default().average_check(), Money::ZERO);
    }
}
