//! Keyboards and the callback-data vocabulary. Callback data is untrusted:
//! every value is parsed back through [`parse_callback`] and checked again by
//! the handler.

use teloxide::types::{
    ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup,
    ReplyMarkup,
};

use super::texts::{Lang, Texts};
use crate::domain::{ApplianceKind, EditField, VisitSlot};

/// A parsed inline-button press of the client dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogButton {
    Equipment(ApplianceKind),
    Visit(VisitSlot),
    Confirm,
    EditMenu,
    Edit(EditField),
    Cancel,
}

/// Parses dialog callback data (`eq:tv`, `vt:any`, `cf:yes`...); `None` for
/// anything else, including forged or outdated values.
pub fn parse_callback(data: &str) -> Option<DialogButton> {
    let (prefix, value) = data.split_once(':')?;
    match prefix {
        "eq" => ApplianceKind::from_code(value).map(DialogButton::Equipment),
        "vt" => VisitSlot::from_code(value).map(DialogButton::Visit),
        "cf" => match value {
            "yes" => Some(DialogButton::Confirm),
            "edit" => Some(DialogButton::EditMenu),
            "no" => Some(DialogButton::Cancel),
            _ => None,
        },
        "ed" => EditField::from_code(value).map(DialogButton::Edit),
        _ => None,
    }
}

/// The main menu under the input field.
pub fn main_menu(texts: &Texts, lang: Lang) -> ReplyMarkup {
    ReplyMarkup::Keyboard(
        KeyboardMarkup::new(vec![
            vec![KeyboardButton::new(texts.get(lang, "menu_create"))],
            vec![
                KeyboardButton::new(texts.get(lang, "menu_my_orders")),
                KeyboardButton::new(texts.get(lang, "menu_help")),
            ],
        ])
        .resize_keyboard(),
    )
}

/// Maps a main-menu label (in any language) to its command.
pub fn menu_command(texts: &Texts, text: &str) -> Option<&'static str> {
    for lang in [Lang::Ru, Lang::En] {
        for (key, cmd) in [
            ("menu_create", "create_order"),
            ("menu_my_orders", "my_orders"),
            ("menu_help", "help"),
        ] {
            if texts.get(lang, key) == text.trim() {
                return Some(cmd);
            }
        }
    }
    None
}

/// Label of an appliance kind.
pub fn equipment_label(texts: &Texts, lang: Lang, kind: ApplianceKind) -> String {
    texts
        .get(lang, &format!("equipment_{}", kind.code()))
        .to_string()
}

/// Visit time as shown: a slot code translated, the client's own words as typed.
pub fn visit_label(texts: &Texts, lang: Lang, stored: &str) -> String {
    match VisitSlot::from_code(stored) {
        Some(slot) => texts
            .get(lang, &format!("visit_{}", slot.code()))
            .to_string(),
        None => stored.to_string(),
    }
}

/// Equipment choice, two per row.
pub fn equipment(texts: &Texts, lang: Lang) -> ReplyMarkup {
    let buttons: Vec<_> = ApplianceKind::ALL
        .iter()
        .map(|k| {
            InlineKeyboardButton::callback(
                equipment_label(texts, lang, *k),
                format!("eq:{}", k.code()),
            )
        })
        .collect();
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(
        buttons.chunks(2).map(|c| c.to_vec()),
    ))
}

/// "Share my number" under the input field.
pub fn share_contact(texts: &Texts, lang: Lang) -> ReplyMarkup {
    ReplyMarkup::Keyboard(
        KeyboardMarkup::new(vec![vec![KeyboardButton::new(
            texts.get(lang, "btn_share_contact"),
        )
        .request(ButtonRequest::Contact)]])
        .resize_keyboard()
        .one_time_keyboard(),
    )
}

/// Visit-time slots.
pub fn visit_slots(texts: &Texts, lang: Lang) -> ReplyMarkup {
    let buttons: Vec<_> = VisitSlot::ALL
        .iter()
        .map(|s| {
            InlineKeyboardButton::callback(
                texts.get(lang, &format!("visit_{}", s.code())),
                format!("vt:{}", s.code()),
            )
        })
        .collect();
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(
        buttons.chunks(2).map(|c| c.to_vec()),
    ))
}

/// Confirm / Edit / Cancel under the summary.
pub fn confirm(texts: &Texts, lang: Lang) -> ReplyMarkup {
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(vec![
        vec![InlineKeyboardButton::callback(
            texts.get(lang, "btn_confirm"),
            "cf:yes",
        )],
        vec![
            InlineKeyboardButton::callback(texts.get(lang, "btn_edit"), "cf:edit"),
            InlineKeyboardButton::callback(texts.get(lang, "btn_cancel"), "cf:no"),
        ],
    ]))
}

/// Which field to edit.
pub fn edit_fields(texts: &Texts, lang: Lang) -> ReplyMarkup {
    let rows = EditField::ALL.iter().map(|f| {
        vec![InlineKeyboardButton::callback(
            texts.get(lang, &format!("field_{}", f.code())),
            format!("ed:{}", f.code()),
        )]
    });
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows))
}

/// Inline keyboard from stored (label, data) rows (outbox notifications).
pub fn from_rows(rows: &[Vec<(String, String)>]) -> Option<ReplyMarkup> {
    if rows.is_empty() {
        return None;
    }
    Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(
        rows.iter().map(|r| {
            r.iter()
                .map(|(t, d)| InlineKeyboardButton::callback(t.clone(), d.clone()))
                .collect::<Vec<_>>()
        }),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_vocabulary_round_trips_and_rejects_forgeries() {
        assert_eq!(
            parse_callback("eq:washing_machine"),
            Some(DialogButton::Equipment(ApplianceKind::WashingMachine))
        );
        assert_eq!(
            parse_callback("vt:any"),
            Some(DialogButton::Visit(VisitSlot::Any))
        );
        assert_eq!(parse_callback("cf:yes"), Some(DialogButton::Confirm));
        assert_eq!(
            parse_callback("ed:phone"),
            Some(DialogButton::Edit(EditField::Phone))
        );
        for forged in [
            "",
            "eq",
            "eq:",
            "eq:toaster",
            "cf:maybe",
            "xx:yes",
            "ed:price",
            "eq:tv:extra",
        ] {
            assert_eq!(parse_callback(forged), None, "{forged}");
        }
    }
}

/// An order-action button; data `o:<verb>:<order>[:<arg>]`. Untrusted: the
/// handler re-checks role, ownership and status before acting on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderButton {
    Card(i64),
    ChooseMaster(i64),
    /// Assign order to master, expecting the order's current master (0 = none):
    /// a button pressed on an outdated card then fails instead of re-assigning.
    AssignTo(i64, i64, i64),
    Accept(i64),
    Start(i64),
    Parts(i64),
    Resume(i64),
    Done(i64),
    Decline(i64),
    Cancel(i64),
    Comment(i64),
    RateMenu(i64),
    Rate(i64, i64),
    /// Every internal comment of an order, for a card too long to hold them.
    Comments(i64),
}

impl OrderButton {
    /// Callback data for this button.
    pub fn data(self) -> String {
        match self {
            Self::Card(id) => format!("o:card:{id}"),
            Self::ChooseMaster(id) => format!("o:asg:{id}"),
            Self::AssignTo(id, m, expected) => format!("o:am:{id}:{m}:{expected}"),
            Self::Accept(id) => format!("o:acc:{id}"),
            Self::Start(id) => format!("o:st:{id}"),
            Self::Parts(id) => format!("o:pt:{id}"),
            Self::Resume(id) => format!("o:rs:{id}"),
            Self::Done(id) => format!("o:dn:{id}"),
            Self::Decline(id) => format!("o:dc:{id}"),
            Self::Cancel(id) => format!("o:cn:{id}"),
            Self::Comment(id) => format!("o:cm:{id}"),
            Self::RateMenu(id) => format!("o:rt:{id}"),
            Self::Rate(id, stars) => format!("o:rv:{id}:{stars}"),
            Self::Comments(id) => format!("o:cms:{id}"),
        }
    }

    /// Parses callback data; `None` for anything malformed.
    pub fn parse(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok());
        if parts.first() != Some(&"o") || parts.len() < 3 {
            return None;
        }
        let id = num(2).filter(|id| *id > 0)?;
        let button = match (parts[1], parts.len()) {
            ("card", 3) => Self::Card(id),
            ("asg", 3) => Self::ChooseMaster(id),
            ("am", 5) => {
                Self::AssignTo(id, num(3).filter(|m| *m > 0)?, num(4).filter(|e| *e >= 0)?)
            }
            ("acc", 3) => Self::Accept(id),
            ("st", 3) => Self::Start(id),
            ("pt", 3) => Self::Parts(id),
            ("rs", 3) => Self::Resume(id),
            ("dn", 3) => Self::Done(id),
            ("dc", 3) => Self::Decline(id),
            ("cn", 3) => Self::Cancel(id),
            ("cm", 3) => Self::Comment(id),
            ("rt", 3) => Self::RateMenu(id),
            ("rv", 4) => Self::Rate(id, num(3).filter(|s| (1..=5).contains(s))?),
            ("cms", 3) => Self::Comments(id),
            _ => return None,
        };
        Some(button)
    }
}

/// A page of the staff's order list: data `l:<filter>:<page>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListButton {
    pub status: Option<crate::domain::OrderStatus>,
    pub page: i64,
}

impl ListButton {
    /// Callback data for this page.
    pub fn data(self) -> String {
        format!(
            "l:{}:{}",
            self.status.map(|s| s.code()).unwrap_or("all"),
            self.page
        )
    }

    /// Parses callback data; `None` for anything malformed.
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("l:")?;
        let (filter, page) = rest.split_once(':')?;
        let page: i64 = page.parse().ok().filter(|p| (0..100_000).contains(p))?;
        let status = match filter {
            "all" => None,
            code => Some(crate::domain::OrderStatus::from_code(code)?),
        };
        Some(Self { status, page })
    }
}

/// Buttons of the short staff/client dialogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallDialogButton {
    /// Skip the rating comment.
    SkipComment,
    /// Add the shared contact as a master.
    AddAsMaster,
    /// Add the shared contact as a dispatcher (admins only).
    AddAsDispatcher,
}

impl SmallDialogButton {
    /// Callback data for this button.
    pub fn data(self) -> &'static str {
        match self {
            Self::SkipComment => "sd:skip",
            Self::AddAsMaster => "sd:master",
            Self::AddAsDispatcher => "sd:dispatcher",
        }
    }

    /// Parses callback data.
    pub fn parse(data: &str) -> Option<Self> {
        [Self::SkipComment, Self::AddAsMaster, Self::AddAsDispatcher]
            .into_iter()
            .find(|b| b.data() == data)
    }
}

/// Rows of (label, data) as an inline keyboard.
pub fn inline(rows: Vec<Vec<(String, String)>>) -> ReplyMarkup {
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows.into_iter().map(|r| {
        r.into_iter()
            .map(|(t, d)| InlineKeyboardButton::callback(t, d))
            .collect::<Vec<_>>()
    })))
}

#[cfg(test)]
mod order_button_tests {
    use super::*;

    #[test]
    fn order_buttons_round_trip_and_reject_forgeries() {
        for b in [
            OrderButton::Card(1),
            OrderButton::AssignTo(12, 345, 0),
            OrderButton::AssignTo(12, 345, 678),
            OrderButton::Rate(9, 5),
            OrderButton::Decline(77),
            OrderButton::Comments(i64::MAX),
        ] {
            assert_eq!(OrderButton::parse(&b.data()), Some(b));
            assert!(
                b.data().len() <= 64,
                "Telegram limits callback data to 64 bytes"
            );
        }
        for forged in [
            "o:card",
            "o:card:-1",
            "o:card:abc",
            "o:rv:1:6",
            "o:rv:1:0",
            "o:am:1",
            "o:am:1:2",
            "o:am:1:2:-1",
            "o:zz:1",
            "o:card:1:2",
            "x:card:1",
        ] {
            assert_eq!(OrderButton::parse(forged), None, "{forged}");
        }
        assert_eq!(
            ListButton::parse("l:new:2"),
            Some(ListButton {
                status: Some(crate::domain::OrderStatus::New),
                page: 2
            })
        );
        assert_eq!(ListButton::parse("l:lost:0"), None);
        assert_eq!(ListButton::parse("l:all:-1"), None);
    }
}
