//! Typed dialogs ⇄ what the stores hold (state name + JSON object text).
//!
//! The JSON object carries two bookkeeping fields next to the collected ones:
//! `_v`, the schema version (so a later release migrates a half-filled order
//! instead of dropping it), and `_u`, the id of the last Telegram update
//! applied to this dialog (so a redelivered update is not applied twice).

use serde_json::{Map, Value};

use super::StoredDialog;
pub use crate::domain::Dialog;
use crate::domain::{
    ApplianceKind, CloseForm, CloseStep, Code, EditField, Money, OrderDraft, OrderStep, RepairForm,
    RepairStep, Visit, DRAFT_SCHEMA_VERSION,
};

/// Fields of the short staff/client dialogs, stored as the data object.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct SmallDialogData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    work: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The field a correction is for (its code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// A moved visit: the words typed and the day they name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    words: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visit: Option<Visit>,
    /// A closing dialog's amounts (kopecks) and answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    materials: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    out_of_city: Option<bool>,
    /// A long repair's parts and agreed price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<Money>,
}

impl Dialog {
    /// The state name stored for this dialog.
    pub fn state_name(&self) -> &'static str {
        match self {
            Dialog::Order { step, .. } => step.state_name(),
            Dialog::MasterDone { form, .. } => match (form.correcting, form.step()) {
                (true, _) => "MoneyEditState:amounts",
                (false, CloseStep::Work) => "MasterDoneState:work",
                (false, _) => "MasterDoneState:amounts",
            },
            Dialog::LongRepair { form, .. } => match form.step() {
                RepairStep::Due => "LongRepairState:due",
                RepairStep::Parts => "LongRepairState:parts",
                RepairStep::Price => "LongRepairState:price",
                RepairStep::Prepayment => "LongRepairState:prepayment",
            },
            Dialog::Decline { .. } => "DeclineState:reason",
            Dialog::Comment { .. } => "CommentState:text",
            Dialog::Refuse { .. } => "RefuseState:reason",
            Dialog::Reschedule { to: None, .. } => "RescheduleState:visit",
            Dialog::Reschedule { to: Some(_), .. } => "RescheduleState:reason",
            Dialog::EditOrder { .. } => "EditOrderState:value",
            Dialog::RatingComment { .. } => "RatingState:comment",
            Dialog::AddStaff { .. } => "StaffState:role",
            Dialog::Search => "SearchState:query",
            Dialog::MasterPhone { .. } => "MasterPhoneState:phone",
        }
    }

    fn small_data(&self) -> Option<SmallDialogData> {
        let d = match self {
            Dialog::Order { .. } => return None,
            Dialog::MasterDone { order_id, form } => SmallDialogData {
                order_id: Some(*order_id),
                work: form.work.clone(),
                total: form.total,
                materials: form.materials,
                out_of_city: form.out_of_city,
                ..Default::default()
            },
            Dialog::LongRepair { order_id, form } => SmallDialogData {
                order_id: Some(*order_id),
                words: form.due.as_ref().map(|(words, _)| words.clone()),
                visit: form.due.as_ref().map(|(_, visit)| visit.clone()),
                parts: form.parts.clone(),
                price: form.price,
                ..Default::default()
            },
            Dialog::Reschedule { order_id, to } => SmallDialogData {
                order_id: Some(*order_id),
                words: to.as_ref().map(|(words, _)| words.clone()),
                visit: to.as_ref().and_then(|(_, visit)| visit.clone()),
                ..Default::default()
            },
            Dialog::EditOrder { order_id, field } => SmallDialogData {
                order_id: Some(*order_id),
                field: Some(field.code().to_string()),
                ..Default::default()
            },
            Dialog::Decline { order_id }
            | Dialog::Comment { order_id }
            | Dialog::Refuse { order_id }
            | Dialog::RatingComment { order_id } => SmallDialogData {
                order_id: Some(*order_id),
                ..Default::default()
            },
            Dialog::AddStaff { user_id, name } => SmallDialogData {
                user_id: Some(*user_id),
                name: Some(name.clone()),
                ..Default::default()
            },
            Dialog::Search => SmallDialogData::default(),
            Dialog::MasterPhone { master_id } => SmallDialogData {
                user_id: Some(*master_id),
                ..Default::default()
            },
        };
        Some(d)
    }
}

/// A decoded dialog and the last update applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedDialog {
    pub dialog: Dialog,
    pub last_update_id: Option<i64>,
    /// The last question of this dialog never reached the user (`_m`).
    pub missed_reply: bool,
}

/// Why a stored dialog could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown state name {0:?}")]
    UnknownState(String),
    #[error("data is not a JSON object: {0}")]
    BadJson(String),
    #[error("data does not fit state {state}: {reason}")]
    BadData { state: String, reason: String },
    #[error("data schema version {0} is newer than this release understands")]
    FutureVersion(u64),
}

/// Encodes a dialog with the update that produced it.
pub fn encode(dialog: &Dialog, update_id: Option<i64>) -> StoredDialog {
    let value = match dialog {
        Dialog::Order { draft, .. } => serde_json::to_value(draft),
        other => serde_json::to_value(other.small_data().unwrap_or_default()),
    };
    // Both are plain structs of strings and numbers: they always serialise to objects.
    let mut object = match value {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    object.insert("_v".into(), Value::from(DRAFT_SCHEMA_VERSION));
    if let Some(id) = update_id {
        object.insert("_u".into(), Value::from(id));
    }
    StoredDialog {
        state: dialog.state_name().to_string(),
        // serde_json writes non-ASCII as UTF-8, not \uXXXX: half the bytes for Cyrillic.
        data: Value::Object(object).to_string(),
    }
}

/// Data key set while the dialog's last question was not delivered. Any
/// [`encode`] (the next step) drops it.
const MISSED_REPLY: &str = "_m";

/// `stored` with the mark that its last question never reached the user;
/// `None` when the data is not a JSON object (the codec will report it).
pub fn mark_missed_reply(stored: &StoredDialog) -> Option<StoredDialog> {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&stored.data) else {
        return None;
    };
    object.insert(MISSED_REPLY.into(), Value::Bool(true));
    Some(StoredDialog {
        state: stored.state.clone(),
        data: Value::Object(object).to_string(),
    })
}

/// Decodes a stored dialog, migrating older data formats.
pub fn decode(stored: &StoredDialog) -> Result<DecodedDialog, DecodeError> {
    let value: Value =
        serde_json::from_str(&stored.data).map_err(|e| DecodeError::BadJson(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(DecodeError::BadJson("not an object".into()));
    };
    let version = object.remove("_v").and_then(|v| v.as_u64()).unwrap_or(0);
    let last_update_id = object.remove("_u").and_then(|v| v.as_i64());
    let missed_reply = object.remove(MISSED_REPLY).and_then(|v| v.as_bool()) == Some(true);
    if version > u64::from(DRAFT_SCHEMA_VERSION) {
        return Err(DecodeError::FutureVersion(version));
    }
    if version == 0 && stored.state.starts_with("OrderState:") {
        migrate_v0_to_v1(&mut object);
    }
    if let Some(step) = OrderStep::from_state_name(&stored.state) {
        let draft: OrderDraft =
            serde_json::from_value(Value::Object(object)).map_err(|e| DecodeError::BadData {
                state: stored.state.clone(),
                reason: e.to_string(),
            })?;
        // Never show a confirmation screen for a draft with holes.
        let step = match (step, draft.first_missing_step()) {
            (OrderStep::Confirm, Some(missing)) => missing,
            (step, _) => step,
        };
        return Ok(DecodedDialog {
            dialog: Dialog::Order { step, draft },
            last_update_id,
            missed_reply,
        });
    }
    let small = || -> Result<SmallDialogData, DecodeError> {
        serde_json::from_value(Value::Object(object.clone())).map_err(|e| DecodeError::BadData {
            state: stored.state.clone(),
            reason: e.to_string(),
        })
    };
    let missing = |field: &str| DecodeError::BadData {
        state: stored.state.clone(),
        reason: format!("missing {field}"),
    };
    let dialog = match stored.state.as_str() {
        // `:price` is what an earlier release stored after the work: the
        // same place as `:amounts` with no amount yet.
        "MasterDoneState:work"
        | "MasterDoneState:price"
        | "MasterDoneState:amounts"
        | "MoneyEditState:amounts" => {
            let d = small()?;
            let correcting = stored.state.starts_with("MoneyEdit");
            if !correcting && !stored.state.ends_with(":work") && d.work.is_none() {
                return Err(missing("work"));
            }
            Dialog::MasterDone {
                order_id: d.order_id.ok_or_else(|| missing("order_id"))?,
                form: CloseForm {
                    work: d.work,
                    total: d.total,
                    materials: d.materials,
                    out_of_city: d.out_of_city,
                    correcting,
                },
            }
        }
        "LongRepairState:due"
        | "LongRepairState:parts"
        | "LongRepairState:price"
        | "LongRepairState:prepayment" => {
            let d = small()?;
            let form = RepairForm {
                due: d.words.zip(d.visit),
                parts: d.parts,
                price: d.price,
            };
            // The step stored must be the step the data reaches.
            let reached = Dialog::LongRepair {
                order_id: 0,
                form: form.clone(),
            };
            if reached.state_name() != stored.state {
                return Err(missing("the answers of that step"));
            }
            Dialog::LongRepair {
                order_id: d.order_id.ok_or_else(|| missing("order_id"))?,
                form,
            }
        }
        "DeclineState:reason" => Dialog::Decline {
            order_id: small()?.order_id.ok_or_else(|| missing("order_id"))?,
        },
        "CommentState:text" => Dialog::Comment {
            order_id: small()?.order_id.ok_or_else(|| missing("order_id"))?,
        },
        "RescheduleState:visit" | "RescheduleState:reason" => {
            let d = small()?;
            let to = if stored.state.ends_with(":reason") {
                Some((d.words.ok_or_else(|| missing("words"))?, d.visit))
            } else {
                None
            };
            Dialog::Reschedule {
                order_id: d.order_id.ok_or_else(|| missing("order_id"))?,
                to,
            }
        }
        "RefuseState:reason" => Dialog::Refuse {
            order_id: small()?.order_id.ok_or_else(|| missing("order_id"))?,
        },
        "EditOrderState:value" => {
            let d = small()?;
            Dialog::EditOrder {
                order_id: d.order_id.ok_or_else(|| missing("order_id"))?,
                field: d
                    .field
                    .as_deref()
                    .and_then(EditField::from_code)
                    .ok_or_else(|| missing("field"))?,
            }
        }
        "RatingState:comment" => Dialog::RatingComment {
            order_id: small()?.order_id.ok_or_else(|| missing("order_id"))?,
        },
        "StaffState:role" => {
            let d = small()?;
            Dialog::AddStaff {
                user_id: d.user_id.ok_or_else(|| missing("user_id"))?,
                name: d.name.unwrap_or_default(),
            }
        }
        "SearchState:query" => Dialog::Search,
        "MasterPhoneState:phone" => Dialog::MasterPhone {
            master_id: small()?.user_id.ok_or_else(|| missing("user_id"))?,
        },
        _ => return Err(DecodeError::UnknownState(stored.state.clone())),
    };
    Ok(DecodedDialog {
        dialog,
        last_update_id,
        missed_reply,
    })
}

/// Version 0 is the data of the Python (aiogram) bot this one replaces: keys
/// `equipment_type` (a Russian label), `problem`, `address`, `phone`, `time`.
/// Migrating it lets clients who were mid-dialog during the switch carry on.
fn migrate_v0_to_v1(object: &mut Map<String, Value>) {
    let rename = [
        ("equipment_type", "equipment"),
        ("problem", "description"),
        ("time", "visit_time"),
        ("preferred_time", "visit_time"),
    ];
    for (old, new) in rename {
        if let Some(v) = object.remove(old) {
            object.entry(new.to_string()).or_insert(v);
        }
    }
    if let Some(Value::String(label)) = object.get("equipment").cloned() {
        match ApplianceKind::from_label(&label) {
            Some(kind) => {
                object.insert("equipment".into(), Value::from(kind.code()));
            }
            // Unknown label: drop it so the dialog asks for the equipment again.
            None => {
                object.remove("equipment");
            }
        }
    }
    // Drop fields the new format does not know rather than failing on them.
    let known = [
        "equipment",
        "description",
        "photo",
        "address",
        "phone",
        "visit_time",
    ];
    object.retain(|k, v| known.contains(&k.as_str()) && v.is_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench_draft() -> OrderDraft {
        OrderDraft {
            equipment: Some(ApplianceKind::WashingMachine),
            description: Some("Стиральная машина не отжимает, гудит при сливе воды".into()),
            address: Some("г. Москва, ул. Ленина, д. 15, кв. 42".into()),
            phone: Some("+79991234567".into()),
            visit_time: Some("завтра после 18:00".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_missed_reply_mark_survives_until_the_next_step() {
        let dialog = Dialog::Order {
            step: OrderStep::Address,
            draft: bench_draft(),
        };
        let stored = encode(&dialog, Some(7));
        assert!(!decode(&stored).unwrap().missed_reply);
        let marked = mark_missed_reply(&stored).unwrap();
        let back = decode(&marked).unwrap();
        assert!(back.missed_reply);
        assert_eq!(back.last_update_id, Some(7));
        assert_eq!(back.dialog, dialog, "the mark changes nothing else");
        assert!(!decode(&encode(&back.dialog, Some(8))).unwrap().missed_reply);
        assert!(mark_missed_reply(&StoredDialog {
            state: "OrderState:address".into(),
            data: "[1]".into()
        })
        .is_none());
    }

    #[test]
    fn round_trip_keeps_everything() {
        let dialog = Dialog::Order {
            step: OrderStep::Confirm,
            draft: bench_draft(),
        };
        let stored = encode(&dialog, Some(42));
        assert_eq!(stored.state, "OrderState:confirm");
        assert!(
            stored.data.contains("Стиральная"),
            "Cyrillic must not be escaped: {}",
            stored.data
        );
        let back = decode(&stored).unwrap();
        assert_eq!(back.dialog, dialog);
        assert_eq!(back.last_update_id, Some(42));
    }

    #[test]
    fn unknown_state_and_bad_json_are_errors_not_resets() {
        let bad_state = StoredDialog {
            state: "OrderState:teleport".into(),
            data: "{}".into(),
        };
        assert!(matches!(
            decode(&bad_state),
            Err(DecodeError::UnknownState(_))
        ));
        let bad_json = StoredDialog {
            state: "OrderState:address".into(),
            data: "{\"equipment\":".into(),
        };
        assert!(matches!(decode(&bad_json), Err(DecodeError::BadJson(_))));
        let wrong_type = StoredDialog {
            state: "OrderState:address".into(),
            data: "{\"_v\":1,\"equipment\":5}".into(),
        };
        assert!(matches!(
            decode(&wrong_type),
            Err(DecodeError::BadData { .. })
        ));
        let future = StoredDialog {
            state: "OrderState:address".into(),
            data: "{\"_v\":99}".into(),
        };
        assert_eq!(decode(&future), Err(DecodeError::FutureVersion(99)));
    }

    #[test]
    fn legacy_aiogram_data_migrates() {
        let legacy = StoredDialog {
            state: "OrderState:address".into(),
            data: r#"{"equipment_type":"Стиральная машина","problem":"Не сливает воду","extra":1}"#
                .into(),
        };
        let decoded = decode(&legacy).unwrap();
        let Dialog::Order { step, draft } = decoded.dialog else {
            panic!("not an order dialog")
        };
        assert_eq!(step, OrderStep::Address);
        assert_eq!(draft.equipment, Some(ApplianceKind::WashingMachine));
        assert_eq!(draft.description.as_deref(), Some("Не сливает воду"));
    }

    #[test]
    fn small_dialogs_round_trip() {
        for dialog in [
            Dialog::MasterDone {
                order_id: 7,
                form: CloseForm::default(),
            },
            Dialog::MasterDone {
                order_id: 7,
                form: CloseForm {
                    work: Some("Заменил ТЭН".into()),
                    total: Some(Money::from_kopecks(350_050)),
                    materials: Some(Money::ZERO),
                    out_of_city: Some(true),
                    correcting: false,
                },
            },
            Dialog::MasterDone {
                order_id: 7,
                form: CloseForm {
                    total: Some(Money::from_roubles(900)),
                    correcting: true,
                    ..CloseForm::default()
                },
            },
            Dialog::LongRepair {
                order_id: 8,
                form: RepairForm::default(),
            },
            Dialog::LongRepair {
                order_id: 8,
                form: RepairForm {
                    due: Some((
                        "через неделю".into(),
                        crate::domain::Visit::whole_day(jiff::civil::date(2026, 12, 9)),
                    )),
                    parts: Some("ТЭН".into()),
                    price: Some(Money::from_roubles(4500)),
                },
            },
            Dialog::Decline { order_id: 8 },
            Dialog::Comment { order_id: 9 },
            Dialog::Refuse { order_id: 10 },
            Dialog::MasterPhone { master_id: 3001 },
            Dialog::Reschedule {
                order_id: 12,
                to: None,
            },
            Dialog::Reschedule {
                order_id: 12,
                to: Some((
                    "завтра после 18".into(),
                    Some(crate::domain::Visit {
                        date: jiff::civil::date(2026, 10, 22),
                        window: crate::domain::Window::After(jiff::civil::time(18, 0, 0, 0)),
                        note: None,
                    }),
                )),
            },
            Dialog::Reschedule {
                order_id: 12,
                to: Some(("когда удобно".into(), None)),
            },
            Dialog::EditOrder {
                order_id: 11,
                field: EditField::VisitTime,
            },
            Dialog::RatingComment { order_id: 10 },
            Dialog::AddStaff {
                user_id: 42,
                name: "Пётр".into(),
            },
        ] {
            let stored = encode(&dialog, Some(5));
            assert_eq!(decode(&stored).unwrap().dialog, dialog, "{stored:?}");
        }
        let broken = StoredDialog {
            state: "DeclineState:reason".into(),
            data: "{\"_v\":1}".into(),
        };
        assert!(matches!(decode(&broken), Err(DecodeError::BadData { .. })));
    }

    #[test]
    fn confirm_with_missing_field_resumes_at_that_field() {
        let mut draft = bench_draft();
        draft.phone = None;
        let stored = encode(
            &Dialog::Order {
                step: OrderStep::Confirm,
                draft,
            },
            None,
        );
        let Dialog::Order { step, .. } = decode(&stored).unwrap().dialog else {
            panic!("not an order dialog")
        };
        assert_eq!(step, OrderStep::Phone);
    }
}
