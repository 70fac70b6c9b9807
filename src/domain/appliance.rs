use serde::{Deserialize, Serialize};

/// Kind of appliance to repair; the first question of the order dialog.
///
/// The `code` is what is stored (FSM data, database, CSV): short, stable and
/// language-neutral, so a translation change never breaks a stored dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ApplianceKind {
    /// Every kind, in the order the keyboard shows them.
    pub const ALL: [ApplianceKind; 8] = [
        Self::WashingMachine,
        Self::Refrigerator,
        Self::Dishwasher,
        Self::Oven,
        Self::Microwave,
        Self::Tv,
        Self::AirConditioner,
        Self::Other,
    ];

    /// Stable storage code, e.g. `washing_machine`.
    pub fn code(self) -> &'static str {
        match self {
            Self::WashingMachine => "washing_machine",
            Self::Refrigerator => "refrigerator",
            Self::Dishwasher => "dishwasher",
            Self::Oven => "oven",
            Self::Microwave => "microwave",
            Self::Tv => "tv",
            Self::AirConditioner => "air_conditioner",
            Self::Other => "other",
        }
    }

    /// Inverse of [`ApplianceKind::code`]; `None` for anything else (untrusted input).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in ApplianceKind::ALL {
            assert_eq!(ApplianceKind::from_code(kind.code()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
        }
        assert_eq!(ApplianceKind::from_code("toaster"), None);
    }
}
