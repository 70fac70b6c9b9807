//! The field a staff correction writes, inside the transaction of its
//! [`super::Change`]: compare-and-set on the value the editor saw, so two
//! dispatchers fixing the same address at once cannot silently overwrite
//! each other, and the history's `old → new` is what really changed.

use super::VisitBounds;
use crate::domain::{Code, Correction};

/// A correction as the database applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEdit {
    pub correction: Correction,
    /// The stored value the editor saw (`None`: empty), for compare-and-set.
    pub seen: Option<String>,
    /// A corrected visit's window as instants (from the shop's time zone).
    pub visit: Option<VisitBounds>,
}

impl OrderEdit {
    /// The order's column the correction replaces (its CAS column too).
    fn column(&self) -> &'static str {
        match self.correction {
            Correction::Equipment(_) => "equipment",
            Correction::Description(_) => "description",
            Correction::ClientName(_) => "client_name",
            Correction::Address(_) => "address",
            Correction::Phone(_) => "phone",
            Correction::Notes(_) => "notes",
            Correction::Visit { .. } => "visit_time",
        }
    }

    /// The new value of [`OrderEdit::column`].
    pub(super) fn value(&self) -> Option<String> {
        match &self.correction {
            Correction::Equipment(kind) => Some(kind.code().to_string()),
            Correction::Description(s)
            | Correction::ClientName(s)
            | Correction::Address(s)
            | Correction::Phone(s) => Some(s.clone()),
            Correction::Notes(notes) => notes.clone(),
            Correction::Visit { words, .. } => Some(words.clone()),
        }
    }
}

impl OrderEdit {
    /// The statement that writes it: `$1` the new value, `$2` the order,
    /// `$3` the value seen; a visit binds its window as `$4..$6`, a phone
    /// its client record as `$4`. Updates no row when the field no longer
    /// holds what the editor saw.
    pub(super) fn update_sql(&self) -> String {
        let column = self.column();
        let extra = match self.correction {
            // A new visit: its window moves with it, and the order counts
            // one more rescheduling.
            Correction::Visit { .. } => {
                ", visit_from = $4, visit_to = $5, visit_window = $6, reschedules = reschedules + 1"
            }
            // Another number is another client's record.
            Correction::Phone(_) => ", client_ref = $4",
            _ => "",
        };
        format!(
            "UPDATE orders SET {column} = $1{extra}
             WHERE id = $2 AND {column} IS NOT DISTINCT FROM $3"
        )
    }
}
