//! Money at the close of an order: exact amounts in kopecks, and the split
//! of the net between the master and the company by the shop's rules.
//!
//! The rules are data ([`SplitRules`], read from a TOML file by `config`)
//! because a shop changes its percentages more often than its software; the
//! defaults are the rules the shop runs today. Shares are whole kopecks and
//! the company's share is the net minus the master's, so they always add up.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ApplianceKind, InputError};

/// An amount of roubles, exact to the kopeck (never a float).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    /// Zero roubles.
    pub const ZERO: Money = Money(0);
    /// The largest amount typed in a dialog: ten million roubles; anything
    /// above is a typo (an extra zero or two).
    pub const MAX_TYPED: Money = Money(10_000_000 * 100);

    /// From kopecks (what the database stores).
    pub const fn from_kopecks(kopecks: i64) -> Self {
        Self(kopecks)
    }

    /// From whole roubles.
    pub const fn from_roubles(roubles: i64) -> Self {
        Self(roubles * 100)
    }

    /// Kopecks, for storage and sums.
    pub const fn kopecks(self) -> i64 {
        self.0
    }

    /// The amount as a number of roubles for a spreadsheet cell (a cell
    /// holds a double; kopecks up to 2^53 are exact there).
    pub fn as_roubles_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Reads what a person types: `3500`, `3 500`, `3500,50`, `3500.5`,
    /// `3500 ₽`, `3500 руб`. Not negative, at most two decimals, at most
    /// [`Money::MAX_TYPED`].
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let lowered = raw.trim().to_lowercase();
        let mut text = lowered.as_str();
        for suffix in ["₽", "руб.", "руб", "rub", "р.", "р"] {
            text = text.trim_end().trim_end_matches(suffix);
        }
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect();
        let (whole, fraction) = match compact.split_once([',', '.']) {
            Some((w, f)) => (w, f),
            None => (compact.as_str(), ""),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || whole.len() > 9 || !digits(whole) || !digits(fraction) {
            return Err(InputError::BadPrice);
        }
        if fraction.len() > 2 {
            return Err(InputError::BadPrice);
        }
        let roubles: i64 = whole.parse().map_err(|_| InputError::BadPrice)?;
        let kopecks: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| InputError::BadPrice)? * 10,
            _ => fraction.parse().map_err(|_| InputError::BadPrice)?,
        };
        let money = Money(roubles * 100 + kopecks);
        if money > Self::MAX_TYPED {
            return Err(InputError::BadPrice);
        }
        Ok(money)
    }

    /// `percent` % of this amount, rounded half up to the kopeck.
    pub fn percent(self, percent: u32) -> Money {
        let scaled = i128::from(self.0) * i128::from(percent);
        // Half up for non-negative amounts (the only ones a split sees).
        Money(((scaled + 50) / 100) as i64)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// `12 500 ₽`, `2 500,50 ₽`, `-300 ₽`: how a Russian shop writes money.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (roubles, kopecks) = (abs / 100, abs % 100);
        let digits = roubles.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('\u{a0}');
            }
            grouped.push(c);
        }
        if kopecks == 0 {
            write!(f, "{sign}{grouped}\u{a0}₽")
        } else {
            write!(f, "{sign}{grouped},{kopecks:02}\u{a0}₽")
        }
    }
}

/// One step of a rate: from this net on (inclusive), the master gets
/// `master` percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Net in whole roubles from which this tier applies (0 = from the start).
    #[serde(default)]
    pub from_net: i64,
    /// The master's percent of the net.
    pub master: u32,
}

/// The master's percent by equipment: tiers by net, the highest tier whose
/// `from_net` the net reaches applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EquipmentRate {
    /// The equipment kinds (codes) this rate is for.
    pub kinds: Vec<ApplianceKind>,
    pub tiers: Vec<Tier>,
}

/// The shop's split rules. Percentages are the master's share of the net;
/// the company gets the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRules {
    /// A rate for a master's specialization (equipment code → master's
    /// percent) wins over everything by equipment: the first of the
    /// master's specializations that has one.
    #[serde(default)]
    pub specialization: std::collections::BTreeMap<ApplianceKind, u32>,
    /// Rates by the order's equipment.
    #[serde(default)]
    pub equipment: Vec<EquipmentRate>,
    /// The rate for equipment no other rate names.
    pub otherwise: Vec<Tier>,
    /// A senior master (or an admin doing the work) never gets less.
    pub senior_floor: u32,
    /// Moved from the company to the master for work out of the city.
    pub out_of_city_bonus: u32,
    /// Moved from the company to the master when the client left a review
    /// (only when `review_bonus_enabled`).
    pub review_bonus: u32,
    pub review_bonus_enabled: bool,
}

impl Default for SplitRules {
    /// The rules the shop runs today.
    fn default() -> Self {
        use ApplianceKind as K;
        let flat = |master| {
            vec![Tier {
                from_net: 0,
                master,
            }]
        };
        Self {
            specialization: Default::default(),
            equipment: vec![
                EquipmentRate {
                    kinds: vec![K::Electrical, K::Plumbing, K::WaterHeater],
                    tiers: flat(50),
                },
                EquipmentRate {
                    kinds: vec![K::Refrigerator],
                    tiers: vec![
                        Tier {
                            from_net: 0,
                            master: 50,
                        },
                        Tier {
                            from_net: 20_000,
                            master: 60,
                        },
                    ],
                },
            ],
            otherwise: vec![
                Tier {
                    from_net: 0,
                    master: 40,
                },
                Tier {
                    from_net: 7_000,
                    master: 50,
                },
            ],
            senior_floor: 50,
            out_of_city_bonus: 10,
            review_bonus: 10,
            review_bonus_enabled: false,
        }
    }
}

/// Why a rules file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("a percentage above 100: {0}")]
    Over100(u32),
    #[error("a rate without tiers (for {0})")]
    NoTiers(String),
    #[error("{0:?} is named by two equipment rates")]
    TwoRates(ApplianceKind),
}

impl SplitRules {
    /// Checks what a rules file could get wrong but the types cannot say.
    pub fn validate(&self) -> Result<(), RulesError> {
        let percents = self
            .specialization
            .values()
            .copied()
            .chain(
                self.equipment
                    .iter()
                    .flat_map(|r| r.tiers.iter().map(|t| t.master)),
            )
            .chain(self.otherwise.iter().map(|t| t.master))
            .chain([self.senior_floor, self.out_of_city_bonus, self.review_bonus]);
        for p in percents {
            if p > 100 {
                return Err(RulesError::Over100(p));
            }
        }
        if self.otherwise.is_empty() {
            return Err(RulesError::NoTiers("otherwise".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for rate in &self.equipment {
            if rate.tiers.is_empty() {
                return Err(RulesError::NoTiers(format!("{:?}", rate.kinds)));
            }
            for kind in &rate.kinds {
                if !seen.insert(*kind) {
                    return Err(RulesError::TwoRates(*kind));
                }
            }
        }
        Ok(())
    }

    /// The base percent and where it comes from.
    fn base(&self, job: &Job) -> (u32, Basis) {
        if let Some((kind, pct)) = job
            .specialization
            .iter()
            .find_map(|k| self.specialization.get(k).map(|p| (*k, *p)))
        {
            return (pct, Basis::Specialization(kind));
        }
        let net_roubles = job.net().kopecks().div_euclid(100);
        let tiered = |tiers: &[Tier]| {
            tiers
                .iter()
                .filter(|t| net_roubles >= t.from_net)
                .max_by_key(|t| t.from_net)
                .or(tiers.first())
                .map(|t| t.master)
                .unwrap_or(0)
        };
        match self
            .equipment
            .iter()
            .find(|r| r.kinds.contains(&job.equipment))
        {
            Some(rate) => (tiered(&rate.tiers), Basis::Equipment),
            None => (tiered(&self.otherwise), Basis::Otherwise),
        }
    }

    /// Splits the net of `job`: the base rate, the senior floor, then the
    /// bonuses; the master's share rounded half up to the kopeck, the
    /// company's the rest.
    pub fn split(&self, job: &Job) -> Split {
        let (base, mut basis) = self.base(job);
        let mut percent = base;
        if job.senior && percent < self.senior_floor {
            percent = self.senior_floor;
            basis = Basis::SeniorFloor;
        }
        let mut bonuses = Vec::new();
        if job.out_of_city && self.out_of_city_bonus > 0 {
            bonuses.push((Bonus::OutOfCity, self.out_of_city_bonus));
        }
        if job.review && self.review_bonus_enabled && self.review_bonus > 0 {
            bonuses.push((Bonus::Review, self.review_bonus));
        }
        let master_percent = (percent + bonuses.iter().map(|(_, p)| p).sum::<u32>()).min(100);
        let net = job.net();
        let master = net.percent(master_percent);
        Split {
            total: job.total,
            materials: job.materials,
            net,
            base_percent: percent,
            basis,
            bonuses,
            master_percent,
            master,
            company: net - master,
            out_of_city: job.out_of_city,
            review: job.review,
        }
    }
}

/// What the split of one closed job depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub equipment: ApplianceKind,
    /// The master's specializations, in their order.
    pub specialization: Vec<ApplianceKind>,
    /// A senior master, or an admin doing the work.
    pub senior: bool,
    pub total: Money,
    pub materials: Money,
    pub out_of_city: bool,
    pub review: bool,
}

impl Job {
    /// Total minus materials.
    pub fn net(&self) -> Money {
        self.total - self.materials
    }
}

/// Where the base percent came from (shown on the card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Specialization(ApplianceKind),
    Equipment,
    Otherwise,
    SeniorFloor,
}

impl Basis {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Basis::Specialization(_) => "specialization",
            Basis::Equipment => "equipment",
            Basis::Otherwise => "otherwise",
            Basis::SeniorFloor => "senior_floor",
        }
    }
}

/// A share moved from the company to the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bonus {
    OutOfCity,
    Review,
}

/// The money of a closed order, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub total: Money,
    pub materials: Money,
    pub net: Money,
    /// The master's percent before bonuses (after the senior floor).
    pub base_percent: u32,
    pub basis: Basis,
    /// Each bonus applied with its percent.
    pub bonuses: Vec<(Bonus, u32)>,
    /// The master's percent of the net in the end.
    pub master_percent: u32,
    pub master: Money,
    pub company: Money,
    pub out_of_city: bool,
    pub review: bool,
}

impl Split {
    /// What the master, who took the client's money, hands over to the
    /// company: the company's share (the materials he bought are his).
    pub fn owed_to_company(&self) -> Money {
        self.company
    }
}

/// The money of a closed order as the database keeps it (the split's
/// outcome; how it came about is not re-derived from today's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClosedMoney {
    pub total: Money,
    pub materials: Money,
    pub master: Money,
    pub company: Money,
    pub master_percent: u32,
    pub out_of_city: bool,
    pub review: bool,
}

impl ClosedMoney {
    /// Total minus materials.
    pub fn net(&self) -> Money {
        self.total - self.materials
    }

    /// What the master hands over to the company.
    pub fn owed_to_company(&self) -> Money {
        self.company
    }
}

impl From<&Split> for ClosedMoney {
    fn from(s: &Split) -> Self {
        Self {
            total: s.total,
            materials: s.materials,
            master: s.master,
            company: s.company,
            master_percent: s.master_percent,
            out_of_city: s.out_of_city,
            review: s.review,
        }
    }
}

#[cfg(test)]
mod tests;
