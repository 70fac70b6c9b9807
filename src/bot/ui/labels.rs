//! How the domain's values read to a person: status, appliance and visit
//! labels in the person's language, and dates.

use super::texts::{Lang, Texts};
use crate::domain::{ApplianceKind, Code, OrderStatus, VisitSlot};

/// Localized status label.
pub fn status_label(t: &Texts, lang: Lang, status: OrderStatus) -> String {
    t.get(lang, &format!("status_{}", status.code()))
        .to_string()
}

/// Label of an appliance kind.
pub fn equipment_label(texts: &Texts, lang: Lang, kind: ApplianceKind) -> String {
    texts
        .get(lang, &format!("equipment_{}", kind.code()))
        .to_string()
}

/// Label of a visit slot button.
pub fn visit_slot_label(texts: &Texts, lang: Lang, slot: VisitSlot) -> String {
    texts
        .get(lang, &format!("visit_{}", slot.code()))
        .to_string()
}

/// Visit time as shown: a slot code translated, the client's own words as typed.
pub fn visit_label(texts: &Texts, lang: Lang, stored: &str) -> String {
    match VisitSlot::from_code(stored) {
        Some(slot) => visit_slot_label(texts, lang, slot),
        None => stored.to_string(),
    }
}

/// `dd.mm.yyyy` (UTC) of a millisecond timestamp.
pub fn format_date(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms / 1000) {
        Ok(t) => format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => "?".into(),
    }
}
