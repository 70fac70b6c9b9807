//! Corrections staff make to an order already filed: which field, its new
//! value validated as the order dialog validates it, and how the history
//! tells the change ("адрес: ул. Ленина, 5 → ул. Ленина, 15").

use jiff::civil::DateTime;

use super::dialog::{read_visit, Refusal};
use super::{Address, ApplianceKind, ClientName, Description, EditField, Phone, PlainText, Visit};

/// A validated new value for one field of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correction {
    Equipment(ApplianceKind),
    Description(String),
    ClientName(String),
    Address(String),
    /// Normalised (`+79991234567`).
    Phone(String),
    /// `None` clears the notes.
    Notes(Option<String>),
    /// The words and the day and window they name, if any.
    Visit {
        words: String,
        visit: Option<Visit>,
    },
}

/// What typed text clears the notes instead of replacing them.
const CLEAR: [&str; 3] = ["-", "—", "нет"];

impl Correction {
    /// The field it corrects.
    pub fn field(&self) -> EditField {
        match self {
            Self::Equipment(_) => EditField::Equipment,
            Self::Description(_) => EditField::Description,
            Self::ClientName(_) => EditField::ClientName,
            Self::Address(_) => EditField::Address,
            Self::Phone(_) => EditField::Phone,
            Self::Notes(_) => EditField::Notes,
            Self::Visit { .. } => EditField::VisitTime,
        }
    }

    /// Reads `text` typed as the new value of `field`, `now` being the
    /// shop's civil time (for a visit time). The equipment is chosen from
    /// buttons, never typed.
    pub fn from_text(field: EditField, text: &str, now: DateTime) -> Result<Self, Refusal> {
        let invalid = Refusal::Invalid;
        Ok(match field {
            EditField::Equipment => return Err(Refusal::UseButtons),
            EditField::Description => {
                Self::Description(Description::parse(text).map_err(invalid)?.into_inner())
            }
            EditField::ClientName => {
                Self::ClientName(ClientName::parse(text).map_err(invalid)?.into_inner())
            }
            EditField::Address => {
                Self::Address(Address::parse(text).map_err(invalid)?.into_inner())
            }
            EditField::Phone => Self::Phone(Phone::parse(text).map_err(invalid)?.as_str().into()),
            EditField::Notes if CLEAR.contains(&text.trim().to_lowercase().as_str()) => {
                Self::Notes(None)
            }
            EditField::Notes => {
                Self::Notes(Some(PlainText::parse(text).map_err(invalid)?.into_inner()))
            }
            EditField::VisitTime => {
                let (words, visit) = read_visit(text, now)?;
                Self::Visit { words, visit }
            }
        })
    }

    /// The new value as the history shows it; `shown_equipment` names an
    /// appliance kind in the staff's language.
    pub fn shown(&self, shown_equipment: impl Fn(ApplianceKind) -> String) -> String {
        match self {
            Self::Equipment(kind) => shown_equipment(*kind),
            Self::Description(s) | Self::ClientName(s) | Self::Address(s) | Self::Phone(s) => {
                s.clone()
            }
            Self::Notes(notes) => notes.clone().unwrap_or_else(|| "—".into()),
            Self::Visit { words, .. } => words.clone(),
        }
    }
}

/// The history's line for a correction: `field: old → new`, each side cut
/// to a length a chat line can carry.
pub fn describe_change(field_label: &str, old: &str, new: &str) -> String {
    const MAX: usize = 120;
    let cut = |s: &str| {
        if s.chars().count() > MAX {
            let head: String = s.chars().take(MAX).collect();
            format!("{head}…")
        } else if s.is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    format!("{field_label}: {} → {}", cut(old), cut(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::InputError;
    use jiff::civil::date;

    fn now() -> DateTime {
        date(2026, 10, 21).at(13, 0, 0, 0)
    }

    #[test]
    fn each_field_is_validated_as_at_filing() {
        use EditField as F;
        let ok = |f, s: &str| Correction::from_text(f, s, now()).unwrap();
        assert_eq!(
            ok(F::Phone, "8 (999) 123 45 67"),
            Correction::Phone("+79991234567".into())
        );
        assert_eq!(
            ok(F::Address, " ул. Мира,  3 "),
            Correction::Address("ул. Мира, 3".into())
        );
        assert_eq!(ok(F::Notes, "—"), Correction::Notes(None));
        assert_eq!(
            ok(F::Notes, "код 12К"),
            Correction::Notes(Some("код 12К".into()))
        );
        let Correction::Visit { words, visit } = ok(F::VisitTime, "завтра в 15:00") else {
            panic!("a visit")
        };
        assert_eq!(words, "завтра в 15:00");
        assert_eq!(visit.map(|v| v.date), Some(date(2026, 10, 22)));
        for (field, text, refusal) in [
            (F::Equipment, "стиралка", Refusal::UseButtons),
            (F::Phone, "call me", Refusal::Invalid(InputError::BadPhone)),
            (
                F::Address,
                "ул. Мира",
                Refusal::Invalid(InputError::NoHouseNumber),
            ),
            (F::VisitTime, "сегодня в 9", Refusal::VisitPast),
            (
                F::ClientName,
                "1",
                Refusal::Invalid(InputError::TooShort { min: 2 }),
            ),
        ] {
            assert_eq!(
                Correction::from_text(field, text, now()),
                Err(refusal),
                "{text}"
            );
        }
    }

    #[test]
    fn the_history_line_shows_old_and_new() {
        assert_eq!(
            describe_change("адрес", "ул. Мира, 3", "ул. Мира, 5"),
            "адрес: ул. Мира, 3 → ул. Мира, 5"
        );
        assert_eq!(describe_change("заметки", "", "код"), "заметки: — → код");
        let long = "x".repeat(500);
        assert!(describe_change("f", &long, "y").chars().count() < 140);
    }
}
