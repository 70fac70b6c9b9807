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
