//! Keyboards: the reply keyboards and the inline ones, with their data
//! from [`super::callbacks`].

use teloxide::types::{
    ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup,
    ReplyMarkup,
};

use super::callbacks::DialogButton;
use super::labels::{equipment_label, visit_slot_label};
use super::texts::{Lang, Texts};
use strum::VariantArray;

use crate::domain::{ApplianceKind, Code, EditField, Role, Roles, VisitSlot};

/// One button of a role's menu: its label's text key and the command it sends.
type MenuItem = (&'static str, &'static str);

/// The main actions of each role, as rows of the menu under the input field.
fn menu_rows(role: Role) -> Vec<Vec<MenuItem>> {
    const CREATE: MenuItem = ("menu_create", "create_order");
    const TAKE_CALL: MenuItem = ("menu_new_order", "new_order");
    const MY_ORDERS: MenuItem = ("menu_my_orders", "my_orders");
    const HELP: MenuItem = ("menu_help", "help");
    const MY_JOBS: MenuItem = ("menu_my_jobs", "my_jobs");
    const ORDERS: MenuItem = ("menu_orders", "orders");
    const SEARCH: MenuItem = ("menu_search", "search");
    const MASTERS: MenuItem = ("menu_masters", "masters");
    const STATS: MenuItem = ("menu_stats", "stats");
    const EXPORT: MenuItem = ("menu_export", "export");
    match role {
        Role::Client => vec![vec![CREATE], vec![MY_ORDERS, HELP]],
        Role::Master => vec![vec![MY_JOBS], vec![CREATE, HELP]],
        Role::Dispatcher => vec![vec![TAKE_CALL], vec![ORDERS, SEARCH], vec![MASTERS, HELP]],
        Role::Admin => vec![
            vec![TAKE_CALL],
            vec![ORDERS, SEARCH],
            vec![MASTERS, STATS],
            vec![EXPORT, HELP],
        ],
    }
}

/// The menu rows of everything a person holds: a staff role's rows, then
/// those of `master` if held too, each button once. (A staff member's menu
/// already has what a client needs.)
fn menu_of(roles: Roles) -> Vec<Vec<MenuItem>> {
    let mut shown: Vec<Role> = vec![roles.strongest()];
    if roles.is_staff() && roles.contains(Role::Master) {
        shown.push(Role::Master);
    }
    let mut seen = Vec::new();
    let mut rows = Vec::new();
    for role in shown {
        for row in menu_rows(role) {
            let row: Vec<MenuItem> = row
                .into_iter()
                .filter(|item| !seen.contains(item))
                .collect();
            seen.extend(row.iter().copied());
            if !row.is_empty() {
                rows.push(row);
            }
        }
    }
    rows
}

/// The menu of these roles under the input field.
pub fn main_menu(texts: &Texts, lang: Lang, roles: Roles) -> ReplyMarkup {
    let rows = menu_of(roles).into_iter().map(|row| {
        row.into_iter()
            .map(|(key, _)| KeyboardButton::new(texts.get(lang, key)))
            .collect::<Vec<_>>()
    });
    ReplyMarkup::Keyboard(KeyboardMarkup::new(rows).resize_keyboard())
}

/// Maps a menu label (of any role, in any language) to its command; the
/// command's permission is checked as for a typed one.
pub fn menu_command(texts: &Texts, text: &str) -> Option<&'static str> {
    let text = text.trim();
    Role::VARIANTS
        .iter()
        .flat_map(|role| menu_rows(*role).into_iter().flatten())
        .find(|(key, _)| {
            [Lang::Ru, Lang::En]
                .iter()
                .any(|l| texts.get(*l, key) == text)
        })
        .map(|(_, cmd)| cmd)
}

/// Equipment choice, two per row, with one more row under it if given
/// (a cancel button).
pub fn equipment_with(
    texts: &Texts,
    lang: Lang,
    last: Option<Vec<(String, String)>>,
) -> ReplyMarkup {
    let mut rows: Vec<Vec<(String, String)>> = ApplianceKind::VARIANTS
        .chunks(2)
        .map(|pair| {
            pair.iter()
                .map(|k| {
                    (
                        equipment_label(texts, lang, *k),
                        DialogButton::Equipment(*k).data(),
                    )
                })
                .collect()
        })
        .collect();
    rows.extend(last);
    inline(rows)
}

/// Equipment choice, two per row.
pub fn equipment(texts: &Texts, lang: Lang) -> ReplyMarkup {
    equipment_with(texts, lang, None)
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
    let buttons: Vec<_> = VisitSlot::VARIANTS
        .iter()
        .map(|s| {
            InlineKeyboardButton::callback(
                visit_slot_label(texts, lang, *s),
                DialogButton::Visit(*s).data(),
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
            DialogButton::Confirm.data(),
        )],
        vec![
            InlineKeyboardButton::callback(
                texts.get(lang, "btn_edit"),
                DialogButton::EditMenu.data(),
            ),
            InlineKeyboardButton::callback(
                texts.get(lang, "btn_cancel"),
                DialogButton::Cancel.data(),
            ),
        ],
    ]))
}

/// Which field to edit.
pub fn edit_fields(texts: &Texts, lang: Lang, desk: bool) -> ReplyMarkup {
    let rows = EditField::offered(desk).into_iter().map(|f| {
        vec![InlineKeyboardButton::callback(
            texts.get(lang, &format!("field_{}", f.code())),
            DialogButton::Edit(f).data(),
        )]
    });
    ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows))
}

/// "Skip" under an optional step's question.
pub fn skip(texts: &Texts, lang: Lang) -> ReplyMarkup {
    inline(vec![vec![(
        texts.get(lang, "btn_skip").to_string(),
        DialogButton::Skip.data(),
    )]])
}

/// The desk's offer to take a returning caller's name and address.
pub fn reuse_client(texts: &Texts, lang: Lang) -> ReplyMarkup {
    inline(vec![vec![(
        texts.get(lang, "btn_reuse_client").to_string(),
        DialogButton::Reuse.data(),
    )]])
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

/// [`inline`], or no keyboard at all for no rows (Telegram refuses an empty one).
pub fn inline_unless_empty(rows: Vec<Vec<(String, String)>>) -> Option<ReplyMarkup> {
    (!rows.is_empty()).then(|| inline(rows))
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
mod tests {
    use super::*;

    fn commands(roles: Roles) -> Vec<&'static str> {
        menu_of(roles)
            .into_iter()
            .flatten()
            .map(|(_, c)| c)
            .collect()
    }

    #[test]
    fn each_role_has_its_menu_and_several_roles_their_union() {
        assert_eq!(
            commands(Roles::default()),
            ["create_order", "my_orders", "help"]
        );
        assert_eq!(
            commands(Roles::only(Role::Master)),
            ["my_jobs", "create_order", "help"]
        );
        let dispatcher = commands(Roles::only(Role::Dispatcher));
        assert_eq!(dispatcher[0], "new_order", "the desk comes first");
        let both = commands(Roles::only(Role::Dispatcher).with(Role::Master));
        assert!(both.starts_with(&dispatcher));
        assert!(both.contains(&"my_jobs"));
        let mut unique = both.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), both.len(), "each button once: {both:?}");
    }
}
