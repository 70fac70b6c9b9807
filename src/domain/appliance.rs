use serde::{Deserialize, Serialize};
#[cfg(test)]
use strum::VariantArray;

/// Kind of appliance to repair; the first question of the order dialog.
///
/// The `code` is what is stored (FSM data, database, CSV): short, stable and
/// language-neutral, so a translation change never breaks a stored dialog.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ApplianceKind {
    WashingMachine,
    Dryer,
    /// Ovens and hobs ("ДШ/ВП" in the shop's books).
    Oven,
    Dishwasher,
    CoffeeMachine,
    Plumbing,
    Electrical,
    WaterHeater,
    Tv,
    Refrigerator,
    Microwave,
    AirConditioner,
    Other,
}

impl ApplianceKind {
    /// The kind a label of an older bot means: the aiogram bot's keyboard
    /// ("Холодильник", "Плита") or the shop's own list in Status_bot
    /// ("Стиральные машины", "ДШ/ВП", "Кофе машина"); a stored code works
    /// too. `None` for a label that names none of them.
    pub fn from_label(label: &str) -> Option<Self> {
        if let Ok(kind) = label.parse() {
            return Some(kind);
        }
        let l = label.to_lowercase();
        let table = [
            ("стирал", Self::WashingMachine),
            ("сушил", Self::Dryer),
            ("дш/вп", Self::Oven),
            ("духов", Self::Oven),
            ("варочн", Self::Oven),
            ("плит", Self::Oven),
            ("посудомо", Self::Dishwasher),
            ("кофе", Self::CoffeeMachine),
            ("сантех", Self::Plumbing),
            // Before "электр": an electric water heater is a water heater.
            ("водонагр", Self::WaterHeater),
            ("бойлер", Self::WaterHeater),
            ("электр", Self::Electrical),
            ("телевиз", Self::Tv),
            ("холодил", Self::Refrigerator),
            ("микровол", Self::Microwave),
            ("кондиц", Self::AirConditioner),
            ("друг", Self::Other),
        ];
        table
            .into_iter()
            .find(|(needle, _)| l.contains(needle))
            .map(|(_, k)| k)
    }
}

/// A stored kind as read back: an unknown code (an older or foreign row)
/// reads as [`ApplianceKind::Other`] rather than losing the order.
impl From<String> for ApplianceKind {
    fn from(code: String) -> Self {
        code.parse().unwrap_or(Self::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Code;

    #[test]
    fn codes_round_trip() {
        for kind in ApplianceKind::VARIANTS.iter().copied() {
            assert_eq!(ApplianceKind::from_code(kind.code()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
        }
        assert_eq!(ApplianceKind::from_code("toaster"), None);
        assert_eq!(
            ApplianceKind::from("toaster".to_string()),
            ApplianceKind::Other
        );
        // Stored codes of the first release still decode to the same kinds.
        for (code, kind) in [
            ("washing_machine", ApplianceKind::WashingMachine),
            ("refrigerator", ApplianceKind::Refrigerator),
            ("dishwasher", ApplianceKind::Dishwasher),
            ("oven", ApplianceKind::Oven),
            ("microwave", ApplianceKind::Microwave),
            ("tv", ApplianceKind::Tv),
            ("air_conditioner", ApplianceKind::AirConditioner),
            ("other", ApplianceKind::Other),
        ] {
            assert_eq!(ApplianceKind::from_code(code), Some(kind));
        }
    }

    #[test]
    fn the_shops_own_labels_are_recognised() {
        use ApplianceKind as K;
        for (label, kind) in [
            ("Стиральные машины", K::WashingMachine),
            ("Сушильные машины", K::Dryer),
            ("ДШ/ВП", K::Oven),
            ("Посудомоечная машина", K::Dishwasher),
            ("Кофе машина", K::CoffeeMachine),
            ("Сантехника", K::Plumbing),
            ("Электрика", K::Electrical),
            ("Водонагреватели", K::WaterHeater),
            ("Телевизоры", K::Tv),
            ("Холодильники", K::Refrigerator),
            ("Холодильник", K::Refrigerator),
            ("Плита", K::Oven),
            ("coffee_machine", K::CoffeeMachine),
            ("Электрический водонагреватель", K::WaterHeater),
            ("Бойлер электрический", K::WaterHeater),
        ] {
            assert_eq!(ApplianceKind::from_label(label), Some(kind), "{label}");
        }
        assert_eq!(ApplianceKind::from_label("Тостер"), None);
    }
}
