//! `repair-bot rules show`: the split rules as a file an owner can copy and
//! edit, with what each part means.

use crate::domain::SplitRules;

/// The rules as TOML, after a header saying where they come from and how
/// they are read.
pub fn show(rules: &SplitRules, file: Option<&str>) -> String {
    let source = match file.filter(|f| !f.trim().is_empty()) {
        Some(path) => format!("# The split rules read from {path} (MONEY_RULES_FILE).\n"),
        None => "# The shop's built-in split rules (MONEY_RULES_FILE is not set).\n".to_string(),
    };
    let body = toml::to_string_pretty(rules).unwrap_or_else(|e| format!("# cannot print: {e}\n"));
    format!(
        "{source}\
         # Percentages are the master's share of the net (total - materials); the company\n\
         # gets the rest. A rate for the master's specialization wins; otherwise the\n\
         # order's equipment picks a rate, and `otherwise` covers the rest. Tiers: the\n\
         # highest `from_net` (roubles) the net reaches applies. A senior master (or an\n\
         # admin doing the work) gets at least `senior_floor`; bonuses move percent of\n\
         # the net from the company to the master. Equipment codes: washing_machine,\n\
         # dryer, oven, dishwasher, coffee_machine, plumbing, electrical, water_heater,\n\
         # tv, refrigerator, microwave, air_conditioner, other.\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_defaults_read_back_as_the_same_rules() {
        let printed = show(&SplitRules::default(), None);
        let read: SplitRules = toml::from_str(&printed).expect("valid TOML");
        assert_eq!(read, SplitRules::default());
        assert!(printed.contains("senior_floor = 50"), "{printed}");
    }

    #[test]
    fn a_shop_file_with_a_specialization_rate_reads() {
        let file = r#"
            senior_floor = 55
            out_of_city_bonus = 10
            review_bonus = 5
            review_bonus_enabled = true
            otherwise = [{ master = 45 }]
            [specialization]
            refrigerator = 65
            [[equipment]]
            kinds = ["tv", "microwave"]
            tiers = [{ master = 40 }, { from_net = 5000, master = 55 }]
        "#;
        let rules: SplitRules = toml::from_str(file).unwrap();
        assert_eq!(rules.validate(), Ok(()));
        assert_eq!(
            rules.specialization[&crate::domain::ApplianceKind::Refrigerator],
            65
        );
        assert!(toml::from_str::<SplitRules>("senior_floor = 50\nbogus = 1").is_err());
    }
}
