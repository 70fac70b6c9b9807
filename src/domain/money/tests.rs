use proptest::prelude::*;

use super::*;
use ApplianceKind as K;

fn rub(r: i64) -> Money {
    Money::from_roubles(r)
}

fn job(equipment: ApplianceKind, total: i64, materials: i64) -> Job {
    Job {
        equipment,
        specialization: vec![],
        senior: false,
        total: rub(total),
        materials: rub(materials),
        out_of_city: false,
        review: false,
    }
}

#[test]
fn typed_amounts_read_exactly() {
    for (raw, kopecks) in [
        ("3500", 350_000),
        ("3 500", 350_000),
        ("3500,50", 350_050),
        ("3500.5", 350_050),
        ("2500,05", 250_005),
        ("3500 ₽", 350_000),
        ("3500руб", 350_000),
        ("3500 руб.", 350_000),
        ("0", 0),
        ("12\u{a0}500", 1_250_000),
    ] {
        assert_eq!(Money::parse(raw), Ok(Money::from_kopecks(kopecks)), "{raw}");
    }
    for raw in [
        "",
        "-5",
        "abc",
        "1,234",
        "3.500,00",
        "12.345",
        "99999999999",
        "10000001",
    ] {
        assert!(Money::parse(raw).is_err(), "{raw}");
    }
}

#[test]
fn money_prints_as_a_shop_writes_it() {
    assert_eq!(rub(12_500).to_string(), "12\u{a0}500\u{a0}₽");
    assert_eq!(
        Money::from_kopecks(250_050).to_string(),
        "2\u{a0}500,50\u{a0}₽"
    );
    assert_eq!(Money::from_kopecks(-30_000).to_string(), "-300\u{a0}₽");
    assert_eq!(rub(999).to_string(), "999\u{a0}₽");
    assert_eq!(rub(1_000_000).to_string(), "1\u{a0}000\u{a0}000\u{a0}₽");
}

/// Every rule of the shop, with the boundaries (net, not total, decides).
#[test]
fn the_split_table() {
    let rules = SplitRules::default();
    struct Case {
        what: &'static str,
        job: Job,
        master_percent: u32,
        master: Money,
    }
    let senior = |mut j: Job| {
        j.senior = true;
        j
    };
    let away = |mut j: Job| {
        j.out_of_city = true;
        j
    };
    let cases = [
        Case {
            what: "electrical 50/50",
            job: job(K::Electrical, 3000, 0),
            master_percent: 50,
            master: rub(1500),
        },
        Case {
            what: "plumbing 50/50",
            job: job(K::Plumbing, 2700, 500),
            master_percent: 50,
            master: rub(1100),
        },
        Case {
            what: "water heater 50/50",
            job: job(K::WaterHeater, 9000, 1000),
            master_percent: 50,
            master: rub(4000),
        },
        Case {
            what: "fridge below 20 000",
            job: job(K::Refrigerator, 21_000, 1_001),
            master_percent: 50,
            master: Money::from_kopecks(999_950),
        },
        Case {
            what: "fridge at 20 000",
            job: job(K::Refrigerator, 21_000, 1_000),
            master_percent: 60,
            master: rub(12_000),
        },
        Case {
            what: "other below 7 000",
            job: job(K::WashingMachine, 7_000, 1),
            master_percent: 40,
            master: Money::from_kopecks(279_960),
        },
        Case {
            what: "other at 7 000",
            job: job(K::WashingMachine, 7_000, 0),
            master_percent: 50,
            master: rub(3_500),
        },
        Case {
            what: "dishwasher below 7 000 (the fixture's 7200 − 2500)",
            job: job(K::Dishwasher, 7_200, 2_500),
            master_percent: 40,
            master: rub(1_880),
        },
        Case {
            what: "senior floor lifts 40 to 50",
            job: senior(job(K::Tv, 3_000, 0)),
            master_percent: 50,
            master: rub(1_500),
        },
        Case {
            what: "senior floor leaves 60 alone",
            job: senior(job(K::Refrigerator, 30_000, 0)),
            master_percent: 60,
            master: rub(18_000),
        },
        Case {
            what: "out of city +10 (the fixture's coffee machine)",
            job: away(job(K::CoffeeMachine, 3_500, 1_300)),
            master_percent: 50,
            master: rub(1_100),
        },
        Case {
            what: "out of city on a fridge (the fixture's 15500 − 5200)",
            job: away(job(K::Refrigerator, 15_500, 5_200)),
            master_percent: 60,
            master: rub(6_180),
        },
        Case {
            what: "senior and out of city",
            job: away(senior(job(K::Dryer, 1_000, 0))),
            master_percent: 60,
            master: rub(600),
        },
        Case {
            what: "nothing earned",
            job: job(K::Oven, 2_000, 2_000),
            master_percent: 40,
            master: Money::ZERO,
        },
        Case {
            what: "rounding half up to the kopeck",
            job: job(K::Oven, 0, 0).with_total(Money::from_kopecks(101)),
            master_percent: 40,
            master: Money::from_kopecks(40),
        },
        Case {
            what: "rounding .5 up",
            job: job(K::Electrical, 0, 0).with_total(Money::from_kopecks(101)),
            master_percent: 50,
            master: Money::from_kopecks(51),
        },
    ];
    for c in cases {
        let s = rules.split(&c.job);
        assert_eq!(s.master_percent, c.master_percent, "{}", c.what);
        assert_eq!(s.master, c.master, "{}", c.what);
        assert_eq!(s.master + s.company, s.net, "{}", c.what);
    }
}

impl Job {
    fn with_total(mut self, total: Money) -> Self {
        self.total = total;
        self
    }
}

#[test]
fn the_review_bonus_only_when_enabled() {
    let mut rules = SplitRules::default();
    let mut j = job(K::Electrical, 10_000, 0);
    j.review = true;
    let off = rules.split(&j);
    assert_eq!((off.master_percent, off.bonuses.len()), (50, 0));
    rules.review_bonus_enabled = true;
    let on = rules.split(&j);
    assert_eq!(on.master_percent, 60);
    assert_eq!(on.bonuses, vec![(Bonus::Review, 10)]);
    j.out_of_city = true;
    let both = rules.split(&j);
    assert_eq!(both.master_percent, 70);
    assert_eq!(both.master, rub(7_000));
    assert_eq!(both.company, rub(3_000));
    assert_eq!(both.owed_to_company(), rub(3_000));
}

#[test]
fn a_specialization_rate_wins_over_equipment() {
    let mut rules = SplitRules::default();
    rules.specialization.insert(K::Tv, 55);
    let mut j = job(K::Refrigerator, 30_000, 0);
    j.specialization = vec![K::CoffeeMachine, K::Tv];
    let s = rules.split(&j);
    assert_eq!(
        (s.base_percent, s.basis),
        (55, Basis::Specialization(K::Tv))
    );
    // The senior floor still holds under a low specialization rate.
    rules.specialization.insert(K::CoffeeMachine, 30);
    j.senior = true;
    let s = rules.split(&j);
    assert_eq!((s.master_percent, s.basis), (50, Basis::SeniorFloor));
}

#[test]
fn bonuses_never_give_more_than_the_net() {
    let rules = SplitRules {
        review_bonus_enabled: true,
        review_bonus: 50,
        ..SplitRules::default()
    };
    let mut j = job(K::Refrigerator, 30_000, 0);
    j.review = true;
    j.out_of_city = true;
    let s = rules.split(&j);
    assert_eq!(
        (s.master_percent, s.master, s.company),
        (100, rub(30_000), Money::ZERO)
    );
}

#[test]
fn rules_files_that_cannot_be_right_are_refused() {
    let mut r = SplitRules::default();
    assert_eq!(r.validate(), Ok(()));
    r.senior_floor = 120;
    assert_eq!(r.validate(), Err(RulesError::Over100(120)));
    let mut r = SplitRules::default();
    r.equipment[1].kinds.push(K::Electrical);
    assert_eq!(r.validate(), Err(RulesError::TwoRates(K::Electrical)));
    let mut r = SplitRules::default();
    r.otherwise.clear();
    assert!(matches!(r.validate(), Err(RulesError::NoTiers(_))));
}

fn any_kind() -> impl Strategy<Value = ApplianceKind> {
    proptest::sample::select(<ApplianceKind as strum::VariantArray>::VARIANTS)
}

proptest! {
    /// Whatever the amounts, flags and rules: shares are never negative and
    /// add up to the net to the kopeck.
    #[test]
    fn shares_always_add_up_to_the_net(
        equipment in any_kind(),
        spec in proptest::collection::vec(any_kind(), 0..3),
        total in 0i64..=1_000_000_000,
        materials_share in 0u32..=100,
        senior: bool, out_of_city: bool, review: bool, review_on: bool,
        spec_rate in proptest::option::of(0u32..=100),
        floor in 0u32..=100, bonus in 0u32..=100,
    ) {
        let mut rules = SplitRules { review_bonus_enabled: review_on, senior_floor: floor, out_of_city_bonus: bonus, ..SplitRules::default() };
        if let (Some(rate), Some(first)) = (spec_rate, spec.first()) {
            rules.specialization.insert(*first, rate);
        }
        let total = Money::from_kopecks(total);
        let materials = Money::from_kopecks(total.kopecks() * i64::from(materials_share) / 100);
        let j = Job { equipment, specialization: spec, senior, total, materials, out_of_city, review };
        let s = rules.split(&j);
        prop_assert_eq!(s.master + s.company, s.net);
        prop_assert_eq!(s.net, total - materials);
        prop_assert!(s.master >= Money::ZERO && s.company >= Money::ZERO);
        prop_assert!(s.master_percent <= 100);
        if senior { prop_assert!(s.master_percent >= floor.min(100)); }
    }
}
