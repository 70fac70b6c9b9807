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
    Refrigerator,
    Dishwasher,
    Oven,
    Microwave,
    Tv,
    AirConditioner,
    Other,
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
    }
}
