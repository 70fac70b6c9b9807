//! The dialogs a person can be in, and the short ones around an order as
//! pure state machines: a master's "done" (work, then price), a decline
//! reason, a refusal reason, a staff comment, a correction of an order's
//! field, a rating comment, and the role of a shared contact. The bot feeds inputs to [`follow_up`] and carries out the answer;
//! the `fsm` store only encodes and keeps a [`Dialog`].

use jiff::civil::DateTime;

use super::dialog::{read_visit, Refusal};
use super::{
    Action, ApplianceKind, Correction, EditField, InputError, Money, OrderDraft, OrderStep, Phone,
    PlainText, Role, Visit, MIN_REFUSE_REASON,
};

/// A dialog in progress.
// One dialog lives per update being handled, never in a collection: boxing
// the order's draft would add an allocation per update and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The client is filing an order (see [`super::advance`]).
    Order { step: OrderStep, draft: OrderDraft },
    /// A master closes an order (the work done, the total, the materials,
    /// out of city, a review), or an admin corrects a closed order's money
    /// (the same questions but the work).
    MasterDone { order_id: i64, form: CloseForm },
    /// A master puts an order into a long repair: the due date, the parts,
    /// the price agreed with the client, any prepayment.
    LongRepair { order_id: i64, form: RepairForm },
    /// A master gives the reason for declining an order.
    Decline { order_id: i64 },
    /// A master moves the visit: first the new time (`to`: the words and
    /// the day they name), then the reason.
    Reschedule {
        order_id: i64,
        to: Option<(String, Option<Visit>)>,
    },
    /// Staff type an internal comment on an order.
    Comment { order_id: i64 },
    /// Staff give the reason for refusing an order.
    Refuse { order_id: i64 },
    /// Staff type (or pick) the new value of one field of an order.
    EditOrder { order_id: i64, field: EditField },
    /// A client adds an optional comment to the rating just given.
    RatingComment { order_id: i64 },
    /// Staff decide which role a shared contact gets.
    AddStaff { user_id: i64, name: String },
    /// Staff pressed "Search": the next text is what to look for.
    Search,
    /// Staff type a master's phone for their profile.
    MasterPhone { master_id: i64 },
}

impl Dialog {
    /// A prompt that any command replaces (the search prompt: a dispatcher
    /// who presses another menu button has moved on), where the other
    /// dialogs ask to finish or cancel first.
    pub fn yields_to_commands(&self) -> bool {
        matches!(self, Dialog::Search)
    }
}

/// The answers of a closing dialog so far; the first missing one is the
/// question asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloseForm {
    pub work: Option<String>,
    pub total: Option<Money>,
    pub materials: Option<Money>,
    pub out_of_city: Option<bool>,
    /// An admin's correction of a closed order: the work is not asked.
    pub correcting: bool,
}

/// The answers of a long-repair dialog so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairForm {
    /// The due date as typed, and the day it names.
    pub due: Option<(String, Visit)>,
    pub parts: Option<String>,
    pub price: Option<Money>,
}

/// The question a long-repair dialog asks next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairStep {
    Due,
    Parts,
    Price,
    Prepayment,
}

impl RepairForm {
    /// The next question.
    pub fn step(&self) -> RepairStep {
        match self {
            Self { due: None, .. } => RepairStep::Due,
            Self { parts: None, .. } => RepairStep::Parts,
            Self { price: None, .. } => RepairStep::Price,
            _ => RepairStep::Prepayment,
        }
    }

    /// The terms with `prepayment`, once everything else is answered.
    fn terms(&self, prepayment: Option<Money>) -> Option<RepairTerms> {
        let (due_words, due) = self.due.clone()?;
        Some(RepairTerms {
            due_words,
            due,
            parts: self.parts.clone()?,
            price: self.price?,
            prepayment,
        })
    }
}

/// A long repair's terms, as the card shows them and the scheduler reminds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairTerms {
    pub due_words: String,
    pub due: Visit,
    pub parts: String,
    /// The price agreed with the client.
    pub price: Money,
    pub prepayment: Option<Money>,
}

/// The question a closing dialog asks next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseStep {
    Work,
    Total,
    Materials,
    OutOfCity,
    Review,
}

impl CloseForm {
    /// The next question.
    pub fn step(&self) -> CloseStep {
        match self {
            Self {
                work: None,
                correcting: false,
                ..
            } => CloseStep::Work,
            Self { total: None, .. } => CloseStep::Total,
            Self {
                materials: None, ..
            } => CloseStep::Materials,
            Self {
                out_of_city: None, ..
            } => CloseStep::OutOfCity,
            _ => CloseStep::Review,
        }
    }
}

/// Everything a closing dialog collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseEntry {
    /// `None` for a correction (the work stays as it was).
    pub work: Option<String>,
    pub total: Money,
    pub materials: Money,
    pub out_of_city: bool,
    pub review: bool,
}

/// A button of a follow-up dialog, already parsed from (untrusted) data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpButton {
    /// Leave the rating without a comment.
    SkipComment,
    /// Give the shared contact this role.
    AddAs(Role),
    /// Cancel the dialog.
    Cancel,
    /// An equipment kind (the correction of an order's equipment).
    Equipment(ApplianceKind),
    /// Yes or no (out of city, a review).
    Answer(bool),
    /// A button of something else (an old message, forged data).
    Foreign,
}

/// What the person did, stripped of Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpInput {
    Text(String),
    /// `/cancel`.
    CancelCommand,
    /// Any other command.
    OtherCommand,
    Button(FollowUpButton),
    /// A photo, sticker, contact...: nothing a follow-up dialog takes.
    Unsupported,
}

/// Why the question is asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Invalid(InputError),
    /// This step is answered with its buttons.
    UseButtons,
    /// Commands wait until the dialog is finished or cancelled.
    FinishFirst,
    Unsupported,
    /// The visit time named is already over.
    VisitPast,
    /// The visit time contradicts itself.
    VisitUnclear,
}

impl From<Refusal> for Hint {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(e) => Self::Invalid(e),
            Refusal::UseButtons => Self::UseButtons,
            Refusal::VisitPast => Self::VisitPast,
            Refusal::VisitUnclear => Self::VisitUnclear,
            Refusal::PhotoNeedsText | Refusal::StaleButton | Refusal::Unsupported => {
                Self::Unsupported
            }
        }
    }
}

/// What to do with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// Store this next step and ask its question.
    Next(Dialog),
    /// Ask the same question again after the hint.
    Reask(Hint),
    /// The pressed button belongs to something else: say so on the button only.
    StaleButton,
    /// Split the money by the rules and close the order (or, for a
    /// correction, rewrite a closed order's money), then end the dialog.
    Close { order_id: i64, entry: CloseEntry },
    /// Put the order into a long repair on these terms, then end.
    EnterRepair { order_id: i64, terms: RepairTerms },
    /// Apply `action` to the order, then end the dialog.
    Perform { order_id: i64, action: Action },
    /// Correct the order's field (if the actor may, and the order is still
    /// open), then end the dialog. `reason` is a master's, for a moved visit.
    Correct {
        order_id: i64,
        correction: Correction,
        reason: Option<String>,
    },
    /// Save the comment to the order's rating, then end.
    RateComment { order_id: i64, text: String },
    /// End the dialog: the rating stays without a comment.
    SkipComment,
    /// Search for `text` (if the actor may), then end.
    Search { text: String },
    /// Store the master's phone (if the actor may), then end.
    SetMasterPhone { master_id: i64, phone: String },
    /// Add the person with `role` (if the actor may), then end.
    AddPerson {
        user_id: i64,
        name: String,
        role: Role,
    },
    /// End the dialog on the person's request (`by_command`: with `/cancel`).
    Cancelled { by_command: bool },
}

/// Applies one input to a follow-up dialog, `now` being the shop's civil
/// time (a corrected visit time is read relative to it); `dialog` is never
/// an order dialog (that one has [`super::advance`]), which is answered
/// with `Reask(Unsupported)`.
pub fn follow_up(dialog: &Dialog, input: FollowUpInput, now: DateTime) -> FollowUp {
    use FollowUpInput as I;
    match input {
        I::CancelCommand => FollowUp::Cancelled { by_command: true },
        I::OtherCommand => FollowUp::Reask(Hint::FinishFirst),
        I::Unsupported => FollowUp::Reask(Hint::Unsupported),
        I::Button(button) => on_button(dialog, button),
        I::Text(text) => on_text(dialog, &text, now),
    }
}

fn on_button(dialog: &Dialog, button: FollowUpButton) -> FollowUp {
    match (dialog, button) {
        (Dialog::RatingComment { .. }, FollowUpButton::SkipComment) => FollowUp::SkipComment,
        (Dialog::LongRepair { order_id, form }, FollowUpButton::SkipComment) => {
            match form.terms(None) {
                Some(terms) => FollowUp::EnterRepair {
                    order_id: *order_id,
                    terms,
                },
                None => FollowUp::StaleButton,
            }
        }
        (Dialog::MasterDone { order_id, form }, FollowUpButton::Answer(yes)) => {
            match (form.step(), form.total, form.materials, form.out_of_city) {
                (CloseStep::OutOfCity, ..) => FollowUp::Next(Dialog::MasterDone {
                    order_id: *order_id,
                    form: CloseForm {
                        out_of_city: Some(yes),
                        ..form.clone()
                    },
                }),
                (CloseStep::Review, Some(total), Some(materials), Some(out_of_city)) => {
                    FollowUp::Close {
                        order_id: *order_id,
                        entry: CloseEntry {
                            work: form.work.clone(),
                            total,
                            materials,
                            out_of_city,
                            review: yes,
                        },
                    }
                }
                _ => FollowUp::StaleButton,
            }
        }
        (Dialog::AddStaff { .. } | Dialog::EditOrder { .. }, FollowUpButton::Cancel) => {
            FollowUp::Cancelled { by_command: false }
        }
        (
            Dialog::EditOrder {
                order_id,
                field: EditField::Equipment,
            },
            FollowUpButton::Equipment(kind),
        ) => FollowUp::Correct {
            order_id: *order_id,
            correction: Correction::Equipment(kind),
            reason: None,
        },
        (Dialog::AddStaff { user_id, name }, FollowUpButton::AddAs(role))
            if matches!(role, Role::Master | Role::Dispatcher) =>
        {
            FollowUp::AddPerson {
                user_id: *user_id,
                name: name.clone(),
                role,
            }
        }
        _ => FollowUp::StaleButton,
    }
}

fn on_text(dialog: &Dialog, text: &str, now: DateTime) -> FollowUp {
    let plain = || PlainText::parse(text).map(PlainText::into_inner);
    let outcome = match dialog {
        Dialog::MasterDone { order_id, form } => {
            let next = |form: CloseForm| {
                FollowUp::Next(Dialog::MasterDone {
                    order_id: *order_id,
                    form,
                })
            };
            match form.step() {
                CloseStep::Work => plain().map(|work| {
                    next(CloseForm {
                        work: Some(work),
                        ..form.clone()
                    })
                }),
                CloseStep::Total => Money::parse(text).map(|total| {
                    next(CloseForm {
                        total: Some(total),
                        ..form.clone()
                    })
                }),
                CloseStep::Materials => Money::parse(text).and_then(|materials| {
                    if Some(materials) > form.total {
                        return Err(InputError::MaterialsOverTotal);
                    }
                    Ok(next(CloseForm {
                        materials: Some(materials),
                        ..form.clone()
                    }))
                }),
                CloseStep::OutOfCity | CloseStep::Review => {
                    return FollowUp::Reask(Hint::UseButtons)
                }
            }
        }
        Dialog::LongRepair { order_id, form } => {
            let next = |form: RepairForm| {
                FollowUp::Next(Dialog::LongRepair {
                    order_id: *order_id,
                    form,
                })
            };
            match form.step() {
                RepairStep::Due => {
                    return match read_visit(text, now) {
                        Ok((words, Some(due))) => next(RepairForm {
                            due: Some((words, due)),
                            ..form.clone()
                        }),
                        // A reminder needs a day to be on.
                        Ok((_, None)) => FollowUp::Reask(Hint::VisitUnclear),
                        Err(refusal) => FollowUp::Reask(refusal.into()),
                    };
                }
                RepairStep::Parts => plain().map(|parts| {
                    next(RepairForm {
                        parts: Some(parts),
                        ..form.clone()
                    })
                }),
                RepairStep::Price => Money::parse(text).map(|price| {
                    next(RepairForm {
                        price: Some(price),
                        ..form.clone()
                    })
                }),
                RepairStep::Prepayment => Money::parse(text).and_then(|paid| {
                    if Some(paid) > form.price {
                        return Err(InputError::PrepaymentOverPrice);
                    }
                    let paid = (paid > Money::ZERO).then_some(paid);
                    form.terms(paid)
                        .map(|terms| FollowUp::EnterRepair {
                            order_id: *order_id,
                            terms,
                        })
                        .ok_or(InputError::Empty)
                }),
            }
        }
        Dialog::Decline { order_id } => plain().map(|reason| FollowUp::Perform {
            order_id: *order_id,
            action: Action::Decline { reason },
        }),
        Dialog::Comment { order_id } => plain().map(|text| FollowUp::Perform {
            order_id: *order_id,
            action: Action::Comment { text },
        }),
        Dialog::Refuse { order_id } => plain().and_then(|reason| {
            if reason.chars().count() < MIN_REFUSE_REASON {
                return Err(InputError::TooShort {
                    min: MIN_REFUSE_REASON,
                });
            }
            Ok(FollowUp::Perform {
                order_id: *order_id,
                action: Action::Refuse { reason },
            })
        }),
        Dialog::EditOrder { order_id, field } => {
            return match Correction::from_text(*field, text, now) {
                Ok(correction) => FollowUp::Correct {
                    order_id: *order_id,
                    correction,
                    reason: None,
                },
                Err(refusal) => FollowUp::Reask(refusal.into()),
            }
        }
        Dialog::Reschedule { order_id, to: None } => {
            return match read_visit(text, now) {
                Ok(to) => FollowUp::Next(Dialog::Reschedule {
                    order_id: *order_id,
                    to: Some(to),
                }),
                Err(refusal) => FollowUp::Reask(refusal.into()),
            }
        }
        Dialog::Reschedule {
            order_id,
            to: Some((words, visit)),
        } => plain().and_then(|reason| {
            if reason.chars().count() < MIN_REFUSE_REASON {
                return Err(InputError::TooShort {
                    min: MIN_REFUSE_REASON,
                });
            }
            Ok(FollowUp::Correct {
                order_id: *order_id,
                correction: Correction::Visit {
                    words: words.clone(),
                    visit: visit.clone(),
                },
                reason: Some(reason),
            })
        }),
        Dialog::RatingComment { order_id } => plain().map(|text| FollowUp::RateComment {
            order_id: *order_id,
            text,
        }),
        Dialog::AddStaff { .. } => return FollowUp::Reask(Hint::UseButtons),
        Dialog::Search => Ok(FollowUp::Search {
            text: text.to_string(),
        }),
        Dialog::MasterPhone { master_id } => Phone::parse(text).map(|p| FollowUp::SetMasterPhone {
            master_id: *master_id,
            phone: p.as_str().to_string(),
        }),
        Dialog::Order { .. } => return FollowUp::Reask(Hint::Unsupported),
    };
    outcome.unwrap_or_else(|e| FollowUp::Reask(Hint::Invalid(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FollowUpInput {
        FollowUpInput::Text(s.into())
    }

    /// Wednesday, 21 October 2026, 13:00 in the shop.
    fn follow_up(dialog: &Dialog, input: FollowUpInput) -> FollowUp {
        super::follow_up(
            dialog,
            input,
            jiff::civil::date(2026, 10, 21).at(13, 0, 0, 0),
        )
    }

    #[test]
    fn a_master_moves_a_visit_with_a_time_then_a_reason() {
        let start = Dialog::Reschedule {
            order_id: 9,
            to: None,
        };
        assert_eq!(
            follow_up(&start, text("сегодня в 9")),
            FollowUp::Reask(Hint::VisitPast)
        );
        let FollowUp::Next(why) = follow_up(&start, text("завтра после 18")) else {
            panic!("a time accepted")
        };
        let Dialog::Reschedule {
            to: Some((words, Some(visit))),
            ..
        } = &why
        else {
            panic!("{why:?}")
        };
        assert_eq!(words, "завтра после 18");
        assert_eq!(visit.date, jiff::civil::date(2026, 10, 22));
        assert_eq!(
            follow_up(&why, text("ок")),
            FollowUp::Reask(Hint::Invalid(InputError::TooShort { min: 3 }))
        );
        let FollowUp::Correct {
            order_id: 9,
            correction: Correction::Visit { .. },
            reason: Some(reason),
        } = follow_up(&why, text("Жду запчасть до обеда"))
        else {
            panic!("a reason accepted")
        };
        assert_eq!(reason, "Жду запчасть до обеда");
    }

    #[test]
    fn a_refusal_needs_a_reason_and_a_correction_a_valid_value() {
        let refuse = Dialog::Refuse { order_id: 4 };
        assert_eq!(
            follow_up(&refuse, text(" no ")),
            FollowUp::Reask(Hint::Invalid(InputError::TooShort { min: 3 }))
        );
        assert_eq!(
            follow_up(&refuse, text("не наш район")),
            FollowUp::Perform {
                order_id: 4,
                action: Action::Refuse {
                    reason: "не наш район".into()
                }
            }
        );
        let edit = |field| Dialog::EditOrder { order_id: 4, field };
        assert_eq!(
            follow_up(&edit(EditField::Address), text("ул. Мира, 7")),
            FollowUp::Correct {
                order_id: 4,
                correction: Correction::Address("ул. Мира, 7".into()),
                reason: None
            }
        );
        assert_eq!(
            follow_up(&edit(EditField::VisitTime), text("сегодня в 9")),
            FollowUp::Reask(Hint::VisitPast)
        );
        assert_eq!(
            follow_up(
                &edit(EditField::Equipment),
                FollowUpInput::Button(FollowUpButton::Equipment(ApplianceKind::Tv))
            ),
            FollowUp::Correct {
                order_id: 4,
                correction: Correction::Equipment(ApplianceKind::Tv),
                reason: None
            }
        );
        // An equipment button means nothing to another field.
        assert_eq!(
            follow_up(
                &edit(EditField::Phone),
                FollowUpInput::Button(FollowUpButton::Equipment(ApplianceKind::Tv))
            ),
            FollowUp::StaleButton
        );
        assert_eq!(
            follow_up(
                &edit(EditField::Phone),
                FollowUpInput::Button(FollowUpButton::Cancel)
            ),
            FollowUp::Cancelled { by_command: false }
        );
    }

    #[test]
    fn closing_asks_work_total_materials_then_two_answers() {
        let step = |d: &Dialog, input| match follow_up(d, input) {
            FollowUp::Next(next) => next,
            other => panic!("{other:?}"),
        };
        let start = Dialog::MasterDone {
            order_id: 7,
            form: CloseForm::default(),
        };
        assert_eq!(
            follow_up(&start, text("   ")),
            FollowUp::Reask(Hint::Invalid(InputError::Empty))
        );
        let worked = step(&start, text("  replaced   the pump "));
        assert_eq!(
            follow_up(&worked, text("abc")),
            FollowUp::Reask(Hint::Invalid(InputError::BadPrice))
        );
        let totalled = step(&worked, text("12 500,50"));
        assert_eq!(
            follow_up(&totalled, text("13000")),
            FollowUp::Reask(Hint::Invalid(InputError::MaterialsOverTotal))
        );
        let costed = step(&totalled, text("2500"));
        assert_eq!(
            follow_up(&costed, text("yes")),
            FollowUp::Reask(Hint::UseButtons)
        );
        let away = step(&costed, FollowUpInput::Button(FollowUpButton::Answer(true)));
        assert_eq!(
            follow_up(&away, FollowUpInput::Button(FollowUpButton::Answer(false))),
            FollowUp::Close {
                order_id: 7,
                entry: CloseEntry {
                    work: Some("replaced the pump".into()),
                    total: Money::from_kopecks(1_250_050),
                    materials: Money::from_roubles(2500),
                    out_of_city: true,
                    review: false,
                }
            }
        );
        // A correction skips the work.
        let correcting = Dialog::MasterDone {
            order_id: 7,
            form: CloseForm {
                correcting: true,
                ..CloseForm::default()
            },
        };
        let Dialog::MasterDone { form, .. } = step(&correcting, text("900")) else {
            unreachable!()
        };
        assert_eq!(
            (form.total, form.work),
            (Some(Money::from_roubles(900)), None)
        );
    }

    #[test]
    fn a_long_repair_asks_a_day_parts_price_and_a_prepayment() {
        let step = |d: &Dialog, input| match follow_up(d, input) {
            FollowUp::Next(next) => next,
            other => panic!("{other:?}"),
        };
        let start = Dialog::LongRepair {
            order_id: 4,
            form: RepairForm::default(),
        };
        // A reminder needs a day: free words are asked again.
        assert_eq!(
            follow_up(&start, text("как придут запчасти")),
            FollowUp::Reask(Hint::VisitUnclear)
        );
        assert_eq!(
            follow_up(&start, text("вчера")),
            FollowUp::Reask(Hint::VisitPast)
        );
        let dated = step(&start, text("28.10"));
        let parted = step(&dated, text("ТЭН 2 кВт"));
        let priced = step(&parted, text("6500"));
        assert_eq!(
            follow_up(&priced, text("7000")),
            FollowUp::Reask(Hint::Invalid(InputError::PrepaymentOverPrice))
        );
        let terms = |prepayment| RepairTerms {
            due_words: "28.10".into(),
            due: Visit::whole_day(jiff::civil::date(2026, 10, 28)),
            parts: "ТЭН 2 кВт".into(),
            price: Money::from_roubles(6500),
            prepayment,
        };
        assert_eq!(
            follow_up(&priced, text("1500,5")),
            FollowUp::EnterRepair {
                order_id: 4,
                terms: terms(Some(Money::from_kopecks(150_050)))
            }
        );
        for none in [
            text("0"),
            FollowUpInput::Button(FollowUpButton::SkipComment),
        ] {
            assert_eq!(
                follow_up(&priced, none),
                FollowUp::EnterRepair {
                    order_id: 4,
                    terms: terms(None)
                }
            );
        }
        // The skip button means nothing before the last question.
        assert_eq!(
            follow_up(&parted, FollowUpInput::Button(FollowUpButton::SkipComment)),
            FollowUp::StaleButton
        );
    }

    #[test]
    fn decline_and_comment_carry_their_text() {
        assert_eq!(
            follow_up(&Dialog::Decline { order_id: 3 }, text("no parts")),
            FollowUp::Perform {
                order_id: 3,
                action: Action::Decline {
                    reason: "no parts".into()
                }
            }
        );
        assert_eq!(
            follow_up(&Dialog::Comment { order_id: 3 }, text("call first")),
            FollowUp::Perform {
                order_id: 3,
                action: Action::Comment {
                    text: "call first".into()
                }
            }
        );
    }

    #[test]
    fn rating_comment_can_be_skipped_only_by_its_button() {
        let d = Dialog::RatingComment { order_id: 1 };
        assert_eq!(
            follow_up(&d, FollowUpInput::Button(FollowUpButton::SkipComment)),
            FollowUp::SkipComment
        );
        assert_eq!(
            follow_up(&d, FollowUpInput::Button(FollowUpButton::Cancel)),
            FollowUp::StaleButton
        );
        assert_eq!(
            follow_up(&d, text("great")),
            FollowUp::RateComment {
                order_id: 1,
                text: "great".into()
            }
        );
    }

    #[test]
    fn a_shared_contact_gets_a_staff_role_from_buttons_only() {
        let d = Dialog::AddStaff {
            user_id: 42,
            name: "Пётр".into(),
        };
        assert_eq!(
            follow_up(
                &d,
                FollowUpInput::Button(FollowUpButton::AddAs(Role::Master))
            ),
            FollowUp::AddPerson {
                user_id: 42,
                name: "Пётр".into(),
                role: Role::Master
            }
        );
        for forged in [Role::Admin, Role::Client] {
            assert_eq!(
                follow_up(&d, FollowUpInput::Button(FollowUpButton::AddAs(forged))),
                FollowUp::StaleButton
            );
        }
        assert_eq!(
            follow_up(&d, text("master")),
            FollowUp::Reask(Hint::UseButtons)
        );
        assert_eq!(
            follow_up(&d, FollowUpInput::Button(FollowUpButton::Cancel)),
            FollowUp::Cancelled { by_command: false }
        );
    }

    #[test]
    fn a_search_takes_the_next_text() {
        assert_eq!(
            follow_up(&Dialog::Search, text("8 999 123 45 67")),
            FollowUp::Search {
                text: "8 999 123 45 67".into()
            }
        );
        assert_eq!(
            follow_up(&Dialog::Search, FollowUpInput::CancelCommand),
            FollowUp::Cancelled { by_command: true }
        );
    }

    #[test]
    fn commands_and_media_in_any_follow_up() {
        let d = Dialog::Decline { order_id: 1 };
        assert_eq!(
            follow_up(&d, FollowUpInput::CancelCommand),
            FollowUp::Cancelled { by_command: true }
        );
        assert_eq!(
            follow_up(&d, FollowUpInput::OtherCommand),
            FollowUp::Reask(Hint::FinishFirst)
        );
        assert_eq!(
            follow_up(&d, FollowUpInput::Unsupported),
            FollowUp::Reask(Hint::Unsupported)
        );
        assert_eq!(
            follow_up(&d, FollowUpInput::Button(FollowUpButton::Foreign)),
            FollowUp::StaleButton
        );
    }
}
