//! The order dialog as a pure state machine: the client's own (equipment,
//! description, address, phone, visit) and the dispatcher's desk for a
//! phoned-in order, which also asks the caller's name and notes for the
//! master.
//!
//! The bot feeds each user input to [`advance`] together with the current step
//! and the draft collected so far; the answer says which step comes next (or
//! why the input was refused). Because this is pure, every path of the dialog
//! is unit-tested without Telegram, and the FSM store only ever holds a step
//! name and the draft.

use serde::{Deserialize, Serialize};

use jiff::civil::DateTime;

use super::when::{parse_visit, Visit, WhenError};
use super::{
    Address, ApplianceKind, ClientName, Code, Description, InputError, Phone, PlainText, VisitTime,
};

/// Version of the stored draft format; stored as `_v` next to the fields so a
/// later release can migrate a half-filled order instead of dropping it.
pub const DRAFT_SCHEMA_VERSION: u32 = 1;

/// One step of the order dialog; stored as the FSM state `OrderState:<step>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStep {
    Equipment,
    Description,
    /// Desk only: the caller's name.
    ClientName,
    Address,
    Phone,
    /// Desk only: notes for the master, optional.
    Notes,
    VisitTime,
    Confirm,
}

impl OrderStep {
    /// Every step, in the desk's order (the client's skips two).
    pub const ALL: [OrderStep; 8] = [
        Self::Equipment,
        Self::Description,
        Self::ClientName,
        Self::Address,
        Self::Phone,
        Self::Notes,
        Self::VisitTime,
        Self::Confirm,
    ];

    /// The steps of the client's own dialog, in order.
    pub const CLIENT: [OrderStep; 6] = [
        Self::Equipment,
        Self::Description,
        Self::Address,
        Self::Phone,
        Self::VisitTime,
        Self::Confirm,
    ];

    /// The state name as the runbook shows it in Redis, e.g. `OrderState:description`.
    pub fn state_name(self) -> &'static str {
        match self {
            Self::Equipment => "OrderState:equipment",
            Self::Description => "OrderState:description",
            Self::ClientName => "OrderState:client_name",
            Self::Address => "OrderState:address",
            Self::Phone => "OrderState:phone",
            Self::Notes => "OrderState:notes",
            Self::VisitTime => "OrderState:visit_time",
            Self::Confirm => "OrderState:confirm",
        }
    }

    /// Inverse of [`OrderStep::state_name`].
    pub fn from_state_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.state_name() == name)
    }

    /// The step after this one, in the desk's dialog or the client's.
    fn next(self, desk: bool) -> Self {
        let steps: &[OrderStep] = if desk { &Self::ALL } else { &Self::CLIENT };
        steps
            .iter()
            .skip_while(|s| **s != self)
            .nth(1)
            .copied()
            .unwrap_or(Self::Confirm)
    }

    /// Its place among the dialog's questions ("step 3 of 7"), the
    /// confirmation not counted.
    pub fn number(self, desk: bool) -> (usize, usize) {
        let steps: &[OrderStep] = if desk { &Self::ALL } else { &Self::CLIENT };
        let at = steps.iter().position(|s| *s == self).map_or(0, |i| i + 1);
        (at, steps.len() - 1)
    }
}

/// A field the client may change from the confirmation screen; its code
/// goes into callback data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum EditField {
    Equipment,
    Description,
    ClientName,
    Address,
    Phone,
    Notes,
    VisitTime,
}

impl EditField {
    fn step(self) -> OrderStep {
        match self {
            Self::Equipment => OrderStep::Equipment,
            Self::Description => OrderStep::Description,
            Self::ClientName => OrderStep::ClientName,
            Self::Address => OrderStep::Address,
            Self::Phone => OrderStep::Phone,
            Self::Notes => OrderStep::Notes,
            Self::VisitTime => OrderStep::VisitTime,
        }
    }

    /// The fields the confirmation screen offers to change: the desk's
    /// dialog has two more.
    pub fn offered(desk: bool) -> Vec<EditField> {
        use strum::VariantArray;
        Self::VARIANTS
            .iter()
            .copied()
            .filter(|f| desk || !matches!(f, Self::ClientName | Self::Notes))
            .collect()
    }
}

/// A visit time picked from the keyboard instead of typed. The code is
/// stored in the draft; the bot shows it translated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum VisitSlot {
    Today,
    Tomorrow,
    Weekend,
    Any,
}

/// The fields collected so far. Stored as the FSM data JSON object.
///
/// Fields are plain strings already validated by the step that set them; the
/// short serde names keep the stored object small (Redis memory per dialog).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equipment: Option<ApplianceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Telegram file id of a photo the client sent with the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The phone came as the client's own shared contact (Telegram vouches
    /// for it), not typed: only then is the client record linked to them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not", rename = "po")]
    pub phone_is_own: bool,
    /// Either a [`VisitSlot`] code or the client's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_time: Option<String>,
    /// The day and window understood from `visit_time`, when it names one
    /// ("завтра после 18"); `None` for "any time" or words without a date.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "va")]
    pub visit: Option<Visit>,
    /// Set while the client edits one field from the confirmation screen:
    /// after that field the dialog returns straight to `confirm`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub editing: bool,
    /// A dispatcher is filing this order for a caller (the desk's dialog).
    #[serde(default, skip_serializing_if = "std::ops::Not::not", rename = "dk")]
    pub desk: bool,
    /// Desk: the caller's name.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "cn")]
    pub client_name: Option<String>,
    /// Desk: notes for the master (`None` also when skipped).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "nt")]
    pub notes: Option<String>,
    /// Desk: what the shop knows of the caller of `phone`, put here by the
    /// bot after the phone step so that "reuse" needs no lookup.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "rc")]
    pub returning: Option<KnownClient>,
}

/// A returning caller's details as the clients table has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownClient {
    #[serde(rename = "n")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "a")]
    pub address: Option<String>,
}

impl OrderDraft {
    /// True once every required field is present: only then may the order be filed.
    pub fn is_complete(&self) -> bool {
        self.first_missing_step().is_none()
    }

    /// A dialog for a dispatcher taking a call.
    pub fn for_desk() -> Self {
        Self {
            desk: true,
            ..Self::default()
        }
    }

    /// The first step whose field is missing; where a damaged or migrated
    /// dialog must resume instead of the confirmation screen.
    pub fn first_missing_step(&self) -> Option<OrderStep> {
        if self.equipment.is_none() {
            Some(OrderStep::Equipment)
        } else if self.description.is_none() {
            Some(OrderStep::Description)
        } else if self.desk && self.client_name.is_none() {
            Some(OrderStep::ClientName)
        } else if self.address.is_none() {
            Some(OrderStep::Address)
        } else if self.phone.is_none() {
            Some(OrderStep::Phone)
        } else if self.visit_time.is_none() {
            Some(OrderStep::VisitTime)
        } else {
            None
        }
    }
}

/// What the client did, already stripped of Telegram specifics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogInput {
    /// Plain text (not a command).
    Text(String),
    /// A photo, with its caption if any.
    Photo {
        file_id: String,
        caption: Option<String>,
    },
    /// A shared contact's phone number.
    Contact {
        phone: String,
        /// The sender's own number: Telegram puts their account on it.
        own: bool,
    },
    /// An equipment button.
    PickEquipment(ApplianceKind),
    /// A visit-time button.
    PickVisitSlot(VisitSlot),
    /// Confirm button on the summary.
    Confirm,
    /// Edit button on the summary: show the field list.
    EditMenu,
    /// A field chosen from the edit list.
    Edit(EditField),
    /// The "skip" button of an optional step (notes).
    Skip,
    /// Desk: take the returning caller's name and address from their record.
    ReuseClient,
    /// Anything else: a sticker, a voice message, a location, a document...
    Unsupported,
}

/// Why an input did not move the dialog; the step is asked again with a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The step wants a button press (equipment, confirm).
    UseButtons,
    /// The field failed validation.
    Invalid(InputError),
    /// A photo arrived without a caption at the description step: it is kept,
    /// and the client is asked for the text.
    PhotoNeedsText,
    /// A button of another step (an old message) was pressed.
    StaleButton,
    /// Stickers, voice and the like cannot fill a field.
    Unsupported,
    /// The visit time named is already over.
    VisitPast,
    /// The visit time contradicts itself or names a day that does not exist.
    VisitUnclear,
}

/// The result of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// The dialog moves to (or stays at, re-asked) this step; the draft was updated.
    Goto(OrderStep),
    /// Show the list of fields to edit; the step stays `confirm`.
    ShowEditMenu,
    /// The input was refused; ask the same step again with this hint.
    Refused(Refusal),
    /// The client confirmed a complete draft: file the order.
    Submit,
}

/// A visit time as typed: the words (validated), and the day and window
/// they name, if any. The client's own words ("когда удобно") stay allowed
/// without one; a day that is over or does not exist is refused.
pub fn read_visit(text: &str, now: DateTime) -> Result<(String, Option<Visit>), Refusal> {
    let words = VisitTime::parse(text).map_err(Refusal::Invalid)?;
    let visit = match parse_visit(words.as_str(), now) {
        Ok(v) => Some(v),
        Err(WhenError::NotUnderstood) => None,
        Err(WhenError::Past) => return Err(Refusal::VisitPast),
        Err(WhenError::Ambiguous) => return Err(Refusal::VisitUnclear),
    };
    Ok((words.into_inner(), visit))
}

/// Applies one input to the dialog at `step`, `now` being the shop's civil
/// time (visit times are read relative to it). Mutates `draft` only when
/// the input is accepted.
pub fn advance(
    step: OrderStep,
    draft: &mut OrderDraft,
    input: DialogInput,
    now: DateTime,
) -> Advance {
    use DialogInput as I;
    let after = |draft: &mut OrderDraft, step: OrderStep| {
        if draft.editing {
            draft.editing = false;
            match draft.first_missing_step() {
                Some(missing) => Advance::Goto(missing),
                None => Advance::Goto(OrderStep::Confirm),
            }
        } else {
            Advance::Goto(step.next(draft.desk))
        }
    };
    match (step, input) {
        (_, I::Unsupported) => Advance::Refused(Refusal::Unsupported),

        (OrderStep::Equipment, I::PickEquipment(kind)) => {
            draft.equipment = Some(kind);
            after(draft, step)
        }
        (OrderStep::Equipment, I::Text(_) | I::Photo { .. } | I::Contact { .. }) => {
            Advance::Refused(Refusal::UseButtons)
        }

        (OrderStep::Description, I::Text(text)) => match Description::parse(&text) {
            Ok(d) => {
                draft.description = Some(d.into_inner());
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },
        (OrderStep::Description, I::Photo { file_id, caption }) => {
            match caption.as_deref().map(Description::parse) {
                Some(Ok(d)) => {
                    draft.photo = Some(file_id);
                    draft.description = Some(d.into_inner());
                    after(draft, step)
                }
                Some(Err(e)) => {
                    draft.photo = Some(file_id);
                    Advance::Refused(Refusal::Invalid(e))
                }
                None => {
                    draft.photo = Some(file_id);
                    Advance::Refused(Refusal::PhotoNeedsText)
                }
            }
        }

        (OrderStep::ClientName, I::Text(text)) => match ClientName::parse(&text) {
            Ok(name) => {
                draft.client_name = Some(name.into_inner());
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },

        (OrderStep::Notes, I::Text(text)) => match PlainText::parse(&text) {
            Ok(notes) => {
                draft.notes = Some(notes.into_inner());
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },
        (OrderStep::Notes, I::Skip) => {
            draft.notes = None;
            after(draft, step)
        }

        // The returning caller's record, offered after the phone step: any
        // later step takes it, and asks its own question again.
        (_, I::ReuseClient) if draft.desk && draft.returning.is_some() => {
            let known = draft.returning.clone().expect("checked above");
            draft.client_name = Some(known.name);
            if let Some(address) = known.address {
                draft.address = Some(address);
            }
            Advance::Goto(step)
        }

        (OrderStep::Address, I::Text(text)) => match Address::parse(&text) {
            Ok(a) => {
                draft.address = Some(a.into_inner());
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },

        (OrderStep::Phone, I::Text(text)) => match Phone::parse(&text) {
            Ok(p) => {
                if draft.phone.as_deref() != Some(p.as_str()) {
                    draft.returning = None;
                }
                draft.phone = Some(p.as_str().to_string());
                draft.phone_is_own = false;
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },
        (OrderStep::Phone, I::Contact { phone, own }) => match if own {
            Phone::parse_account_number(&phone)
        } else {
            Phone::parse(&phone)
        } {
            Ok(p) => {
                if draft.phone.as_deref() != Some(p.as_str()) {
                    draft.returning = None;
                }
                draft.phone = Some(p.as_str().to_string());
                // A caller's number the dispatcher shares is never "own".
                draft.phone_is_own = own && !draft.desk;
                after(draft, step)
            }
            Err(e) => Advance::Refused(Refusal::Invalid(e)),
        },

        (OrderStep::VisitTime, I::PickVisitSlot(slot)) => {
            draft.visit_time = Some(slot.code().to_string());
            draft.visit = match slot {
                VisitSlot::Today => Some(Visit::whole_day(now.date())),
                VisitSlot::Tomorrow => now.date().tomorrow().ok().map(Visit::whole_day),
                VisitSlot::Weekend | VisitSlot::Any => None,
            };
            after(draft, step)
        }
        (OrderStep::VisitTime, I::Text(text)) => match read_visit(&text, now) {
            Ok((words, visit)) => {
                draft.visit_time = Some(words);
                draft.visit = visit;
                after(draft, step)
            }
            Err(refusal) => Advance::Refused(refusal),
        },

        // A visit day that passed while the summary waited: ask again.
        (OrderStep::Confirm, I::Confirm)
            if draft.visit.as_ref().is_some_and(|v| v.date < now.date()) =>
        {
            draft.visit = None;
            draft.visit_time = None;
            Advance::Goto(OrderStep::VisitTime)
        }
        (OrderStep::Confirm, I::Confirm) => match draft.first_missing_step() {
            None => Advance::Submit,
            // A damaged draft (manual edit of the store, a bad migration) must
            // never file an incomplete order: ask for what is missing.
            Some(missing) => Advance::Goto(missing),
        },
        (OrderStep::Confirm, I::EditMenu) => Advance::ShowEditMenu,
        (OrderStep::Confirm, I::Edit(field)) => {
            draft.editing = true;
            Advance::Goto(field.step())
        }
        (OrderStep::Confirm, I::Text(_) | I::Photo { .. } | I::Contact { .. }) => {
            Advance::Refused(Refusal::UseButtons)
        }

        // A text or photo where it makes no sense (photo at the address step).
        (_, I::Photo { .. } | I::Contact { .. }) => Advance::Refused(Refusal::Unsupported),
        // Any button that belongs to another step: an old message was tapped.
        (_, _) => Advance::Refused(Refusal::StaleButton),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::when::Window;
    use jiff::civil::date;

    /// Wednesday, 21 October 2026, 13:00 in the shop.
    fn now() -> DateTime {
        date(2026, 10, 21).at(13, 0, 0, 0)
    }

    /// [`super::advance`] at [`now`].
    fn advance(step: OrderStep, draft: &mut OrderDraft, input: DialogInput) -> Advance {
        super::advance(step, draft, input, now())
    }

    #[test]
    fn visit_times_are_understood_or_asked_again() {
        let mut d = full_walk();
        let visit = d.visit.clone().expect("завтра после 18:00 names a day");
        assert_eq!(visit.date, date(2026, 10, 22));
        assert_eq!(visit.window, Window::After(jiff::civil::time(18, 0, 0, 0)));
        assert_eq!(d.visit_time.as_deref(), Some("завтра после 18:00"));
        for (text, refusal) in [
            ("сегодня в 9", Refusal::VisitPast),
            ("31.02 в 10", Refusal::VisitUnclear),
        ] {
            let before = d.clone();
            assert_eq!(
                advance(OrderStep::VisitTime, &mut d, DialogInput::Text(text.into())),
                Advance::Refused(refusal),
                "{text}"
            );
            assert_eq!(d, before, "{text}: nothing changed");
        }
        // Words without a day stay allowed, and forget the old day.
        advance(
            OrderStep::VisitTime,
            &mut d,
            DialogInput::Text("когда удобно, позвоните".into()),
        );
        assert_eq!(d.visit, None);
        assert_eq!(d.visit_time.as_deref(), Some("когда удобно, позвоните"));
        advance(
            OrderStep::VisitTime,
            &mut d,
            DialogInput::PickVisitSlot(VisitSlot::Tomorrow),
        );
        assert_eq!(d.visit.map(|v| v.date), Some(date(2026, 10, 22)));
    }

    fn full_walk() -> OrderDraft {
        let mut d = OrderDraft::default();
        let steps = [
            (
                OrderStep::Equipment,
                DialogInput::PickEquipment(ApplianceKind::WashingMachine),
            ),
            (
                OrderStep::Description,
                DialogInput::Text("Не отжимает, гудит".into()),
            ),
            (
                OrderStep::Address,
                DialogInput::Text("г. Москва, ул. Ленина, д. 15".into()),
            ),
            (
                OrderStep::Phone,
                DialogInput::Contact {
                    phone: "89991234567".into(),
                    own: false,
                },
            ),
            (
                OrderStep::VisitTime,
                DialogInput::Text("завтра после 18:00".into()),
            ),
        ];
        for (i, (step, input)) in steps.into_iter().enumerate() {
            let next = advance(step, &mut d, input);
            assert_eq!(next, Advance::Goto(OrderStep::CLIENT[i + 1]));
        }
        d
    }

    #[test]
    fn the_desk_asks_name_and_notes_and_offers_the_returning_client() {
        let mut d = OrderDraft::for_desk();
        let t = |s: &str| DialogInput::Text(s.into());
        let steps = [
            (
                OrderStep::Equipment,
                DialogInput::PickEquipment(ApplianceKind::Dishwasher),
            ),
            (OrderStep::Description, t("Не сливает воду")),
            (OrderStep::ClientName, t("Анна Петровна")),
            (OrderStep::Address, t("ул. Мира, д. 3, кв. 7")),
            (OrderStep::Phone, t("8 (999) 123 45 67")),
            (OrderStep::Notes, DialogInput::Skip),
            (OrderStep::VisitTime, t("завтра в 15:00")),
        ];
        for (i, (step, input)) in steps.into_iter().enumerate() {
            assert_eq!(step.number(true), (i + 1, 7));
            let next = advance(step, &mut d, input);
            assert_eq!(next, Advance::Goto(OrderStep::ALL[i + 1]), "{step:?}");
        }
        assert_eq!(d.notes, None);
        assert_eq!(d.client_name.as_deref(), Some("Анна Петровна"));
        // The client's own number shared by the dispatcher links nobody.
        assert_eq!(
            advance(
                OrderStep::Phone,
                &mut d,
                DialogInput::Contact {
                    phone: "79991234567".into(),
                    own: true
                }
            ),
            Advance::Goto(OrderStep::Notes)
        );
        assert!(!d.phone_is_own);
        // Reuse is refused until the bot found the caller...
        assert_eq!(
            advance(OrderStep::Notes, &mut d, DialogInput::ReuseClient),
            Advance::Refused(Refusal::StaleButton)
        );
        d.returning = Some(KnownClient {
            name: "Анна П.".into(),
            address: Some("ул. Мира, 3-7".into()),
        });
        assert_eq!(
            advance(OrderStep::Notes, &mut d, DialogInput::ReuseClient),
            Advance::Goto(OrderStep::Notes)
        );
        assert_eq!(d.client_name.as_deref(), Some("Анна П."));
        assert_eq!(d.address.as_deref(), Some("ул. Мира, 3-7"));
        // ... and forgotten when the number changes.
        advance(OrderStep::Phone, &mut d, t("+7 999 000 11 22"));
        assert_eq!(d.returning, None);
        assert!(d.is_complete());
        let mut nameless = d.clone();
        nameless.client_name = None;
        assert_eq!(
            advance(OrderStep::Confirm, &mut nameless, DialogInput::Confirm),
            Advance::Goto(OrderStep::ClientName)
        );
        assert_eq!(EditField::offered(true).len(), 7);
        assert_eq!(EditField::offered(false).len(), 5);
        assert_eq!(OrderStep::Phone.number(false), (4, 5));
    }

    #[test]
    fn happy_path_collects_every_field() {
        let mut d = full_walk();
        assert!(d.is_complete());
        assert_eq!(d.phone.as_deref(), Some("+79991234567"));
        assert_eq!(
            advance(OrderStep::Confirm, &mut d, DialogInput::Confirm),
            Advance::Submit
        );
    }

    #[test]
    fn state_names_are_the_runbooks() {
        assert_eq!(
            OrderStep::Description.state_name(),
            "OrderState:description"
        );
        for s in OrderStep::ALL {
            assert_eq!(OrderStep::from_state_name(s.state_name()), Some(s));
        }
        assert_eq!(OrderStep::from_state_name("OrderState:nope"), None);
    }

    #[test]
    fn refused_input_leaves_draft_untouched() {
        let mut d = OrderDraft::default();
        let before = d.clone();
        for input in [
            DialogInput::Text("стиралка".into()),
            DialogInput::Unsupported,
            DialogInput::Confirm,
            DialogInput::PickVisitSlot(VisitSlot::Any),
        ] {
            assert!(matches!(
                advance(OrderStep::Equipment, &mut d, input),
                Advance::Refused(_)
            ));
        }
        assert_eq!(d, before);
        assert_eq!(
            advance(
                OrderStep::Phone,
                &mut d,
                DialogInput::Text("call me".into())
            ),
            Advance::Refused(Refusal::Invalid(InputError::BadPhone))
        );
        assert_eq!(
            advance(
                OrderStep::Description,
                &mut d,
                DialogInput::Text("x".repeat(10_000))
            ),
            Advance::Refused(Refusal::Invalid(InputError::TooLong { max: 1000 }))
        );
        assert_eq!(d, before);
    }

    #[test]
    fn stale_buttons_are_recognised() {
        let mut d = OrderDraft::default();
        assert_eq!(
            advance(
                OrderStep::Address,
                &mut d,
                DialogInput::PickEquipment(ApplianceKind::Tv)
            ),
            Advance::Refused(Refusal::StaleButton)
        );
        assert_eq!(
            advance(OrderStep::Address, &mut d, DialogInput::Confirm),
            Advance::Refused(Refusal::StaleButton)
        );
    }

    #[test]
    fn photo_without_caption_is_kept_and_text_requested() {
        let mut d = OrderDraft::default();
        let photo = DialogInput::Photo {
            file_id: "F1".into(),
            caption: None,
        };
        assert_eq!(
            advance(OrderStep::Description, &mut d, photo),
            Advance::Refused(Refusal::PhotoNeedsText)
        );
        assert_eq!(d.photo.as_deref(), Some("F1"));
        let photo = DialogInput::Photo {
            file_id: "F2".into(),
            caption: Some("Течёт вода снизу".into()),
        };
        assert_eq!(
            advance(OrderStep::Description, &mut d, photo),
            Advance::Goto(OrderStep::Address)
        );
        assert_eq!(d.description.as_deref(), Some("Течёт вода снизу"));
    }

    #[test]
    fn edit_from_confirm_returns_to_confirm() {
        let mut d = full_walk();
        assert_eq!(
            advance(OrderStep::Confirm, &mut d, DialogInput::EditMenu),
            Advance::ShowEditMenu
        );
        assert_eq!(
            advance(
                OrderStep::Confirm,
                &mut d,
                DialogInput::Edit(EditField::Address)
            ),
            Advance::Goto(OrderStep::Address)
        );
        assert_eq!(
            advance(
                OrderStep::Address,
                &mut d,
                DialogInput::Text("г. Тверь, ул. Мира, 1".into())
            ),
            Advance::Goto(OrderStep::Confirm)
        );
        assert!(!d.editing);
        assert_eq!(d.address.as_deref(), Some("г. Тверь, ул. Мира, 1"));
    }

    #[test]
    fn incomplete_draft_never_submits() {
        let mut d = full_walk();
        d.phone = None;
        assert_eq!(
            advance(OrderStep::Confirm, &mut d, DialogInput::Confirm),
            Advance::Goto(OrderStep::Phone)
        );
    }

    #[test]
    fn draft_json_is_compact_and_round_trips() {
        let d = full_walk();
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("null"), "{json}");
        assert!(!json.contains("editing"), "{json}");
        let back: OrderDraft = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }
}
