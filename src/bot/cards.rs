//! How an order looks to each role: the card text and the buttons that fit
//! the order's status and the viewer's role.

use super::keyboards::{self, OrderButton};
use super::texts::{Lang, Texts};
use crate::db::{HistoryEntry, Order};
use crate::domain::{OrderStatus, Role};

/// Localized status label.
pub fn status_label(t: &Texts, lang: Lang, status: OrderStatus) -> String {
    t.get(lang, &format!("status_{}", status.code()))
        .to_string()
}

/// The order card without internal comments (see [`card_with_comments`]).
pub fn card(t: &Texts, lang: Lang, o: &Order, master_name: Option<&str>) -> String {
    let photo = if o.photo_file_id.is_some() {
        t.get(lang, "photo_attached")
    } else {
        ""
    };
    let master = master_name
        .map(str::to_string)
        .unwrap_or_else(|| t.get(lang, "no_master").to_string());
    let mut text = t.fmt(
        lang,
        "card",
        &[
            ("id", &o.id),
            ("status", &status_label(t, lang, o.status)),
            (
                "equipment",
                &keyboards::equipment_label(t, lang, o.equipment),
            ),
            ("description", &o.description),
            ("photo", &photo),
            ("address", &o.address),
            ("phone", &o.phone),
            (
                "visit_time",
                &keyboards::visit_label(t, lang, &o.visit_time),
            ),
            ("client", &o.client_name),
            ("client_id", &o.client_id),
            ("master", &master),
            ("created", &super::client::format_date(o.created_at)),
        ],
    );
    if let (Some(work), Some(price)) = (&o.work_done, o.price) {
        text.push_str(&t.fmt(lang, "card_work", &[("work", work), ("price", &price)]));
    }
    if let Some(stars) = o.rating {
        let comment = o.rating_comment.clone().unwrap_or_default();
        text.push_str(&t.fmt(
            lang,
            "card_rating",
            &[("stars", &stars), ("comment", &comment)],
        ));
    }
    text
}

/// Room the comments leave for the rest of a card: a card with a long
/// history must still be one message (Telegram refuses more than 4,096).
const CARD_BUDGET: usize = 3_800;

/// [`card`] with the order's internal comments (staff only), the newest
/// that fit in one message; returns the text and how many older comments
/// were left out (the card then offers a button that lists them all).
pub fn card_with_comments(
    t: &Texts,
    lang: Lang,
    o: &Order,
    master_name: Option<&str>,
    history: &[HistoryEntry],
) -> (String, usize) {
    let mut text = card(t, lang, o, master_name);
    let lines = comment_lines(t, lang, history);
    if lines.is_empty() {
        return (text, 0);
    }
    let header = t.get(lang, "card_comments");
    let mut room = CARD_BUDGET.saturating_sub(utf16(&text) + utf16(header) + 120);
    let mut shown = Vec::new();
    for line in lines.iter().rev() {
        let len = utf16(line);
        if len > room {
            break;
        }
        room -= len;
        shown.push(line.as_str());
    }
    let hidden = lines.len() - shown.len();
    text.push_str(header);
    if hidden > 0 {
        text.push_str(&t.fmt(lang, "card_comments_hidden", &[("count", &hidden)]));
    }
    for line in shown.into_iter().rev() {
        text.push_str(line);
    }
    (text, hidden)
}

/// Every internal comment of an order as card lines, oldest first.
pub fn comment_lines(t: &Texts, lang: Lang, history: &[HistoryEntry]) -> Vec<String> {
    history
        .iter()
        .filter(|h| h.action == "comment")
        .map(|c| {
            t.fmt(
                lang,
                "card_comment_line",
                &[
                    ("text", &c.comment.clone().unwrap_or_default()),
                    ("actor", &c.actor_id),
                    ("date", &super::client::format_date(c.at)),
                ],
            )
        })
        .collect()
}

fn utf16(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The button under a card whose older comments were left out.
pub fn all_comments_button(t: &Texts, lang: Lang, order_id: i64) -> Vec<(String, String)> {
    vec![button(
        t,
        lang,
        "btn_all_comments",
        OrderButton::Comments(order_id),
    )]
}

fn button(t: &Texts, lang: Lang, key: &str, b: OrderButton) -> (String, String) {
    (t.get(lang, key).to_string(), b.data())
}

/// Buttons a dispatcher/admin gets under an order.
pub fn staff_buttons(t: &Texts, lang: Lang, o: &Order) -> Vec<Vec<(String, String)>> {
    let id = o.id;
    let mut rows = Vec::new();
    match o.status {
        OrderStatus::New => rows.push(vec![button(
            t,
            lang,
            "btn_assign",
            OrderButton::ChooseMaster(id),
        )]),
        OrderStatus::Assigned => rows.push(vec![button(
            t,
            lang,
            "btn_reassign",
            OrderButton::ChooseMaster(id),
        )]),
        _ => {}
    }
    let mut last = vec![button(t, lang, "btn_comment", OrderButton::Comment(id))];
    if o.status.is_open() {
        last.insert(
            0,
            button(t, lang, "btn_cancel_order", OrderButton::Cancel(id)),
        );
    }
    rows.push(last);
    rows
}

/// Buttons the assigned master gets under an order.
pub fn master_buttons(t: &Texts, lang: Lang, o: &Order) -> Vec<Vec<(String, String)>> {
    let id = o.id;
    let decline = button(t, lang, "btn_decline", OrderButton::Decline(id));
    match o.status {
        OrderStatus::Assigned => vec![
            vec![
                button(t, lang, "btn_accept", OrderButton::Accept(id)),
                button(t, lang, "btn_start", OrderButton::Start(id)),
            ],
            vec![decline],
        ],
        OrderStatus::InProgress => vec![
            vec![
                button(t, lang, "btn_parts", OrderButton::Parts(id)),
                button(t, lang, "btn_done", OrderButton::Done(id)),
            ],
            vec![decline],
        ],
        OrderStatus::WaitingParts => vec![
            vec![button(t, lang, "btn_resume", OrderButton::Resume(id))],
            vec![decline],
        ],
        _ => vec![],
    }
}

/// Rating stars under a done order.
pub fn rating_buttons(id: i64) -> Vec<Vec<(String, String)>> {
    vec![(1..=5)
        .map(|s| (format!("{s}⭐"), OrderButton::Rate(id, s).data()))
        .collect()]
}

/// Buttons for the viewer's role.
pub fn buttons_for(
    t: &Texts,
    lang: Lang,
    role: Role,
    viewer: i64,
    o: &Order,
) -> Vec<Vec<(String, String)>> {
    if role.is_staff() {
        staff_buttons(t, lang, o)
    } else if role == Role::Master && o.master_id == Some(viewer) {
        master_buttons(t, lang, o)
    } else {
        Vec::new()
    }
}
