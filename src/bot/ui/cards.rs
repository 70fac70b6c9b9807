//! How an order looks to each role: the card text and the buttons that fit
//! the order's status and the viewer's role.

use super::callbacks::OrderButton;
use super::labels::{
    equipment_label, format_date, shop_date, status_label, visit_echo, visit_label,
};
use super::texts::{Lang, Texts};
use crate::db::{HistoryEntry, Order};
use crate::domain::{
    allowed_actions, privacy, ActionKind, Actor, ClosedMoney, Money, OrderStatus, Role, Visit,
};

/// Rows of inline buttons as (label, callback data): what an outbox row
/// stores and [`super::keyboards::inline`] turns into a keyboard.
pub type Rows = Vec<Vec<(String, String)>>;

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
            ("equipment", &equipment_label(t, lang, o.equipment)),
            ("description", &o.description),
            ("photo", &photo),
            ("address", &o.address),
            ("phone", &o.phone),
            ("visit_time", &visit_of(t, lang, o)),
            ("client", &o.client_name),
            ("client_id", &client_tag(t, lang, o)),
            ("master", &master),
            ("created", &format_date(t, o.created_at)),
        ],
    );
    if let Some(deleted) = o.deleted_at {
        text.push_str(&t.fmt(lang, "card_deleted", &[("date", &format_date(t, deleted))]));
    }
    if let Some(number) = o.legacy_number.filter(|n| *n != o.id) {
        text.push_str(&t.fmt(lang, "card_legacy_number", &[("number", &number)]));
    }
    if let Some(notes) = &o.notes {
        text.push_str(&t.fmt(lang, "card_notes", &[("notes", notes)]));
    }
    if o.reschedules > 0 {
        text.push_str(&t.fmt(lang, "card_reschedules", &[("count", &o.reschedules)]));
    }
    if let Some(reason) = &o.refuse_reason {
        text.push_str(&t.fmt(lang, "card_refused", &[("reason", reason)]));
    }
    if let (Some(work), Some(price)) = (&o.work_done, o.total()) {
        text.push_str(&t.fmt(lang, "card_work", &[("work", work), ("price", &price)]));
    }
    if let Some(m) = o.money() {
        text.push_str(&money_lines(t, lang, &m));
    }
    if let (Some(due), Some(parts), Some(price)) =
        (&o.repair_due_text, &o.repair_parts, o.repair_price_kopecks)
    {
        let due = match o.repair_due_at {
            Some(at) => format!("{due} ({})", format_date(t, at)),
            None => due.clone(),
        };
        text.push('\n');
        text.push_str(&repair_lines(
            t,
            lang,
            &due,
            parts,
            Money::from_kopecks(price),
            o.prepayment_kopecks.map(Money::from_kopecks),
        ));
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

/// The card as the order's master sees it: the client's phone masked until
/// they are on site, the flat and door codes left out until they accepted
/// (see [`crate::domain::privacy`]).
pub fn card_for_master(t: &Texts, lang: Lang, o: &Order, master_name: Option<&str>) -> String {
    let mut shown = o.clone();
    if !privacy::master_sees_phone(o.status) {
        shown.phone = privacy::mask_phone(&o.phone);
    }
    if !privacy::master_sees_full_address(o.status) {
        shown.address = privacy::street_and_house(&o.address);
    }
    card(t, lang, &shown, master_name)
}

/// The card `viewer` may see: everything for staff, [`card_for_master`] for
/// the order's master.
pub fn card_as_seen_by(
    t: &Texts,
    lang: Lang,
    viewer: Actor,
    o: &Order,
    master_name: Option<&str>,
) -> String {
    if viewer.roles.is_staff() {
        card(t, lang, o, master_name)
    } else {
        card_for_master(t, lang, o, master_name)
    }
}

/// Who the client is on Telegram, after their name: " (id 42)", or that
/// the order was phoned in and the caller is not on Telegram (yet).
pub fn client_tag(t: &Texts, lang: Lang, o: &Order) -> String {
    match o.client_id {
        Some(id) => format!(" (id {id})"),
        None => t.get(lang, "client_by_phone").to_string(),
    }
}

/// The visit time of an order as the client gave it, with the day and
/// window understood from it in the shop's time: "завтра после 18 (чт,
/// 22 октября, после 18:00)".
pub fn visit_of(t: &Texts, lang: Lang, o: &Order) -> String {
    let given = visit_label(t, lang, &o.visit_time);
    let stored = match (o.visit_from, o.visit_to, o.visit_window.as_deref()) {
        (Some(from), Some(to), Some(window)) => Visit::from_stored(from, to, window, t.time_zone()),
        _ => None,
    };
    match stored {
        Some(visit) => {
            let today = shop_date(t, crate::clock::now_ms());
            format!("{given} ({})", visit_echo(t, lang, &visit, today))
        }
        None => given,
    }
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
                    ("date", &format_date(t, c.at)),
                ],
            )
        })
        .collect()
}

fn utf16(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The history button under a staff member's card.
pub fn history_button(t: &Texts, lang: Lang, order_id: i64) -> Vec<(String, String)> {
    vec![button(
        t,
        lang,
        "btn_history",
        OrderButton::History(order_id),
    )]
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

/// The buttons under an order for `viewer`: the actions the domain allows
/// them on it now ([`allowed_actions`]), laid out for their role. Staff get
/// the board's actions, the order's master the work steps; a client's
/// actions are offered in their order list ([`client_order_row`]).
pub fn buttons_for(t: &Texts, lang: Lang, viewer: Actor, o: &Order) -> Rows {
    let allowed = allowed_actions(o.facts(), viewer);
    let has = |kind: ActionKind| allowed.contains(&kind);
    let id = o.id;
    let mut rows = Vec::new();
    // A person holding several roles gets the buttons of each.
    if viewer.roles.is_staff() {
        {
            let assign_label = if o.status == OrderStatus::New {
                "btn_assign"
            } else {
                "btn_reassign"
            };
            let layout: [&[(ActionKind, &str, OrderButton)]; 4] = [
                &[
                    (
                        ActionKind::Assign,
                        assign_label,
                        OrderButton::ChooseMaster(id),
                    ),
                    (
                        ActionKind::Unassign,
                        "btn_unassign",
                        OrderButton::Unassign(id),
                    ),
                ],
                &[
                    (ActionKind::Ping, "btn_ping", OrderButton::Ping(id)),
                    (
                        ActionKind::Edit,
                        "btn_edit_order",
                        OrderButton::EditMenu(id),
                    ),
                ],
                &[
                    (ActionKind::Refuse, "btn_refuse", OrderButton::Refuse(id)),
                    (ActionKind::Reopen, "btn_reopen", OrderButton::Reopen(id)),
                    (ActionKind::Comment, "btn_comment", OrderButton::Comment(id)),
                ],
                &[(
                    ActionKind::EditMoney,
                    "btn_edit_money",
                    OrderButton::EditMoney(id),
                )],
            ];
            for row in layout {
                let row: Vec<_> = row
                    .iter()
                    .filter(|(kind, _, _)| has(*kind))
                    .map(|(_, key, b)| button(t, lang, key, *b))
                    .collect();
                if !row.is_empty() {
                    rows.push(row);
                }
            }
        }
    }
    if viewer.roles.contains(Role::Master) {
        {
            let work: Vec<_> = [
                (ActionKind::Accept, "btn_accept", OrderButton::Accept(id)),
                (ActionKind::StartWork, "btn_start", OrderButton::Start(id)),
                (ActionKind::WaitParts, "btn_parts", OrderButton::Parts(id)),
                (ActionKind::Finish, "btn_done", OrderButton::Done(id)),
                (
                    ActionKind::ResumeWork,
                    "btn_resume",
                    OrderButton::Resume(id),
                ),
            ]
            .into_iter()
            .filter(|(kind, _, _)| has(*kind))
            .map(|(_, key, b)| button(t, lang, key, b))
            .collect();
            if !work.is_empty() {
                rows.push(work);
            }
            let last: Vec<_> = [
                (
                    ActionKind::Reschedule,
                    "btn_reschedule",
                    OrderButton::Reschedule(id),
                ),
                (ActionKind::Decline, "btn_decline", OrderButton::Decline(id)),
            ]
            .into_iter()
            .filter(|(kind, _, _)| has(*kind))
            .map(|(_, key, b)| button(t, lang, key, b))
            .collect();
            if !last.is_empty() {
                rows.push(last);
            }
        }
    }
    rows
}

/// The buttons a staff member gets under a notification about `o`.
/// The same for every staff member: the rules do not depend on which one.
pub fn staff_buttons(t: &Texts, lang: Lang, o: &Order) -> Rows {
    let viewer = Actor::new(0, Role::Dispatcher);
    buttons_for(t, lang, viewer, o)
}

/// The buttons the order's master gets under a notification about it.
pub fn master_buttons(t: &Texts, lang: Lang, o: &Order) -> Rows {
    match o.master_id {
        Some(master) => buttons_for(t, lang, Actor::new(master, Role::Master), o),
        None => Vec::new(),
    }
}

/// The client's button for one of their orders in `/my_orders`: cancel
/// while the rules allow it, rate once it is done.
pub fn client_order_row(
    t: &Texts,
    lang: Lang,
    client: Actor,
    o: &Order,
) -> Option<Vec<(String, String)>> {
    let allowed = allowed_actions(o.facts(), client);
    let label = |key| t.fmt(lang, key, &[("id", &o.id)]);
    if allowed.contains(&ActionKind::Cancel) {
        Some(vec![(
            label("btn_client_cancel"),
            OrderButton::Cancel(o.id).data(),
        )])
    } else if allowed.contains(&ActionKind::Rate) {
        Some(vec![(
            label("btn_rate"),
            OrderButton::RateMenu(o.id).data(),
        )])
    } else {
        None
    }
}

/// Rating stars under a done order.
pub fn rating_buttons(id: i64) -> Rows {
    vec![(1..=5)
        .map(|s| (format!("{s}⭐"), OrderButton::Rate(id, s).data()))
        .collect()]
}

/// The split of a closed order: materials, net, each share with the
/// master's percent and bonuses, what the master hands over.
pub fn money_lines(t: &Texts, lang: Lang, m: &ClosedMoney) -> String {
    // What was marked at closing, as facts: whether a mark moved the
    // percent depends on the rules (a review bonus may be off), and the
    // history's line of the split tells which bonuses applied.
    let mut marks = Vec::new();
    if m.out_of_city {
        marks.push(t.get(lang, "money_out_of_city").to_string());
    }
    if m.review {
        marks.push(t.get(lang, "money_review").to_string());
    }
    let flags = if marks.is_empty() {
        String::new()
    } else {
        t.fmt(lang, "card_money_flags", &[("flags", &marks.join(", "))])
    };
    t.fmt(
        lang,
        "card_money",
        &[
            ("materials", &m.materials),
            ("net", &m.net()),
            ("percent", &m.master_percent),
            ("master", &m.master),
            ("company", &m.company),
            ("owed", &m.owed_to_company()),
            ("flags", &flags),
        ],
    )
}

/// A long repair's terms: due, parts, agreed price, prepayment.
pub fn repair_lines(
    t: &Texts,
    lang: Lang,
    due: &str,
    parts: &str,
    price: Money,
    prepayment: Option<Money>,
) -> String {
    let paid = match prepayment {
        Some(p) => p.to_string(),
        None => t.get(lang, "repair_no_prepayment").to_string(),
    };
    t.fmt(
        lang,
        "card_repair",
        &[
            ("due", &due),
            ("parts", &parts),
            ("price", &price),
            ("prepayment", &paid),
        ],
    )
}
