//! Masters as the shop plans with them: what each one repairs, whether they
//! are senior, whether they take orders now; and the order in which the
//! assign list offers them for an order.

use std::cmp::Reverse;

use super::{ApplianceKind, Code};

/// A master's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterProfile {
    pub user_id: i64,
    pub name: String,
    pub phone: Option<String>,
    /// The kinds of appliance they repair; empty: not said (anything).
    pub specialization: Vec<ApplianceKind>,
    pub senior: bool,
    /// An inactive master (on leave, gone) is not offered for orders.
    pub active: bool,
}

impl MasterProfile {
    /// A master nobody has described yet: active, no specialization.
    pub fn new(user_id: i64, name: String) -> Self {
        Self {
            user_id,
            name,
            phone: None,
            specialization: Vec::new(),
            senior: false,
            active: true,
        }
    }

    /// Whether `kind` is what they repair.
    pub fn repairs(&self, kind: ApplianceKind) -> bool {
        self.specialization.contains(&kind)
    }

    /// The specialization as stored: codes, comma-separated.
    pub fn specialization_codes(&self) -> String {
        self.specialization
            .iter()
            .map(|k| k.code())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads stored codes; unknown ones (a kind retired since) are dropped.
    pub fn parse_specialization(codes: &str) -> Vec<ApplianceKind> {
        let mut kinds: Vec<ApplianceKind> = codes
            .split(',')
            .filter_map(|c| ApplianceKind::from_code(c.trim()))
            .collect();
        kinds.dedup();
        kinds
    }

    /// The specialization with `kind` added or, if there, taken out.
    pub fn toggle(&mut self, kind: ApplianceKind) {
        match self.specialization.iter().position(|k| *k == kind) {
            Some(i) => {
                self.specialization.remove(i);
            }
            None => self.specialization.push(kind),
        }
    }
}

/// A master as the assign list weighs them for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub profile: MasterProfile,
    /// Orders in their hands now.
    pub open_jobs: i64,
    /// Whether they have a work group (the list warns when not).
    pub has_group: bool,
}

/// The masters to offer for an order of `kind`, best fit first: active
/// ones only; those who repair this kind first, then senior ones, then the
/// least busy, then by name.
pub fn rank_for(kind: ApplianceKind, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut offered: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| c.profile.active)
        .collect();
    offered.sort_by_key(|c| {
        (
            Reverse(c.profile.repairs(kind)),
            Reverse(c.profile.senior),
            c.open_jobs,
            c.profile.name.to_lowercase(),
        )
    });
    offered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(id: i64, name: &str, repairs: &[ApplianceKind], senior: bool) -> MasterProfile {
        MasterProfile {
            specialization: repairs.to_vec(),
            senior,
            ..MasterProfile::new(id, name.into())
        }
    }

    fn candidate(profile: MasterProfile, open_jobs: i64) -> Candidate {
        Candidate {
            profile,
            open_jobs,
            has_group: true,
        }
    }

    #[test]
    fn the_fittest_master_comes_first_and_the_inactive_not_at_all() {
        use ApplianceKind as K;
        let mut away = master(5, "Юрий", &[K::WashingMachine], true);
        away.active = false;
        let ranked = rank_for(
            K::WashingMachine,
            vec![
                candidate(master(1, "Анна", &[K::Tv], true), 0),
                candidate(master(2, "Борис", &[K::WashingMachine], false), 3),
                candidate(master(3, "Вера", &[K::WashingMachine, K::Dryer], false), 1),
                candidate(master(4, "Глеб", &[K::WashingMachine], true), 5),
                candidate(away, 0),
                candidate(master(6, "Дина", &[], false), 0),
            ],
        );
        let names: Vec<&str> = ranked.iter().map(|c| c.profile.name.as_str()).collect();
        assert_eq!(names, ["Глеб", "Вера", "Борис", "Анна", "Дина"]);
    }

    #[test]
    fn the_specialization_is_stored_as_codes_and_toggled() {
        use ApplianceKind as K;
        let mut m = master(1, "Анна", &[K::Tv], false);
        m.toggle(K::Dryer);
        m.toggle(K::Tv);
        assert_eq!(m.specialization, [K::Dryer]);
        let codes = m.specialization_codes();
        assert_eq!(MasterProfile::parse_specialization(&codes), [K::Dryer]);
        assert_eq!(
            MasterProfile::parse_specialization("tv, toaster,,dryer"),
            [K::Tv, K::Dryer]
        );
        assert!(MasterProfile::parse_specialization("").is_empty());
    }
}
