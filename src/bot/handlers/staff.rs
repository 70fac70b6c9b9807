//! Staff's order board and people: the order list, cards, assigning a
//! master, comments, and adding or removing masters and dispatchers. The
//! router has checked the permission of the command or button; actions on
//! an order are checked again by [`super::orders`].

use strum::VariantArray;

use super::error::{About, BotError, BotResult, Denial, OrInternal};
use super::names;
use super::orders;
use super::roles;
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::callbacks::{ListButton, MasterButton, OrderButton};
use crate::bot::ui::cards;
use crate::bot::ui::keyboards;
use crate::bot::ui::labels::{equipment_label, format_date, format_date_time, status_label};
use crate::bot::BotContext;
use crate::db::Person;
use crate::domain::{
    may_read_history, may_view, rank_for, ActionKind, Code, EditField, OrderStatus, PlainText,
    Role, SearchQuery,
};

/// Orders per page of `/orders`.
pub const PAGE_SIZE: i64 = 8;

/// `/orders [status]` and the list buttons: one page, edited in place when paging.
pub async fn orders_page(
    ctx: &BotContext,
    inc: &Incoming,
    page: ListButton,
    edit_message: Option<i32>,
) -> BotResult {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let (orders, total) = ctx
        .db
        .orders_page(page.status, PAGE_SIZE, page.page * PAGE_SIZE)
        .await
        .or_internal("cannot list orders")?;
    let filter = match page.status {
        Some(s) => status_label(t, lang, s),
        None => t.get(lang, "filter_all").to_string(),
    };
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let mut text = if orders.is_empty() {
        t.fmt(lang, "orders_empty", &[("filter", &filter)])
    } else {
        t.fmt(
            lang,
            "orders_header",
            &[
                ("filter", &filter),
                ("page", &(page.page + 1)),
                ("pages", &pages),
                ("total", &total),
            ],
        )
    };
    for o in &orders {
        text.push_str(&format!(
            "\n№{} · {} · {} · {}",
            o.id,
            equipment_label(t, lang, o.equipment),
            status_label(t, lang, o.status),
            o.address
        ));
    }
    let mut rows: Vec<Vec<(String, String)>> = Vec::new();
    let filters: Vec<(String, String)> = std::iter::once((
        t.get(lang, "btn_filter_all").to_string(),
        ListButton {
            status: None,
            page: 0,
        }
        .data(),
    ))
    .chain(OrderStatus::VARIANTS.iter().map(|s| {
        (
            status_label(t, lang, *s),
            ListButton {
                status: Some(*s),
                page: 0,
            }
            .data(),
        )
    }))
    .collect();
    for chunk in filters.chunks(3) {
        rows.push(chunk.to_vec());
    }
    for chunk in orders.chunks(4) {
        rows.push(
            chunk
                .iter()
                .map(|o| (format!("№{}", o.id), OrderButton::Card(o.id).data()))
                .collect(),
        );
    }
    let mut pager = Vec::new();
    if page.page > 0 {
        pager.push((
            t.get(lang, "btn_prev").to_string(),
            ListButton {
                page: page.page - 1,
                ..page
            }
            .data(),
        ));
    }
    if page.page + 1 < pages {
        pager.push((
            t.get(lang, "btn_next").to_string(),
            ListButton {
                page: page.page + 1,
                ..page
            }
            .data(),
        ));
    }
    if !pager.is_empty() {
        rows.push(pager);
    }
    reply::edit_or_send(ctx, &inc.sender, edit_message, text, rows).await;
    Ok(())
}

/// Parses `/orders` arguments: a status code or word, or nothing for all.
pub fn parse_filter(args: &str) -> Option<Option<OrderStatus>> {
    let a = args.trim().to_lowercase();
    if a.is_empty() || a == "all" || a == "все" {
        return Some(None);
    }
    let by_word = [
        ("новые", OrderStatus::New),
        ("назначенные", OrderStatus::Assigned),
        ("принятые", OrderStatus::Accepted),
        ("на месте", OrderStatus::OnSite),
        ("в работе", OrderStatus::OnSite),
        ("длительный ремонт", OrderStatus::LongRepair),
        ("запчасти", OrderStatus::LongRepair),
        ("закрытые", OrderStatus::Closed),
        ("выполненные", OrderStatus::Closed),
        ("отказ", OrderStatus::Refused),
        ("отказы", OrderStatus::Refused),
        ("отменённые", OrderStatus::Cancelled),
        ("отмененные", OrderStatus::Cancelled),
    ];
    OrderStatus::from_code(&a)
        .or_else(|| by_word.iter().find(|(w, _)| *w == a).map(|(_, s)| *s))
        .map(Some)
}

fn parse_id_and_name(args: &str) -> Option<(i64, String)> {
    let mut parts = args.trim().splitn(2, char::is_whitespace);
    let id: i64 = parts.next()?.parse().ok().filter(|id| *id > 0)?;
    let name = parts.next().map(str::trim).unwrap_or("");
    let name = if name.is_empty() {
        format!("id {id}")
    } else {
        PlainText::parse(name).ok()?.into_inner()
    };
    Some((id, name.chars().take(64).collect()))
}

/// `/order N`: the order of number N and, when another one had number N
/// in the old bot it was imported from, that one too.
pub async fn order_command(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    let Ok(number) = args.trim().trim_start_matches(['№', '#']).parse::<i64>() else {
        return Err(BotError::Invalid("/order N".into()));
    };
    let found = ctx
        .db
        .orders_numbered(number)
        .await
        .or_internal("cannot find an order by its number")?;
    // Of two, only those the asker may see; one alone is shown or refused.
    let actor = roles::actor(ctx, inc).await?;
    let visible: Vec<i64> = found
        .iter()
        .filter(|o| found.len() == 1 || may_view(o.facts(), actor))
        .map(|o| o.id)
        .collect();
    match visible.as_slice() {
        [] => show_card(ctx, inc, number).await,
        ids => {
            for id in ids {
                show_card(ctx, inc, *id).await?;
            }
            Ok(())
        }
    }
}

/// Shows an order card to whoever may see it (staff, its master, its client).
pub async fn show_card(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let actor = roles::actor(ctx, inc).await?;
    let order = orders::load(ctx, order_id).await?;
    if !may_view(order.facts(), actor) {
        return Err(BotError::Forbidden {
            what: "card of someone else's order",
            denial: Denial::Action,
            about: About {
                role: Some(actor.role()),
                order_id: Some(order_id),
                ..About::default()
            },
        });
    }
    let master = match order.master_id {
        Some(m) => Some(names::display_name(ctx, m).await),
        None => None,
    };
    let history = if may_read_history(actor) {
        ctx.db.history(order_id).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let (text, hidden) = if !actor.roles.is_staff() && order.master_id == Some(actor.user_id) {
        // The order's master: what the shop's privacy rules let them see.
        let text = cards::card_for_master(t, lang, &order, master.as_deref());
        (text, 0)
    } else {
        cards::card_with_comments(t, lang, &order, master.as_deref(), &history)
    };
    let mut buttons = cards::buttons_for(t, lang, actor, &order);
    if hidden > 0 {
        buttons.push(cards::all_comments_button(t, lang, order_id));
    }
    if may_read_history(actor) {
        buttons.push(cards::history_button(t, lang, order_id));
    }
    reply::send(
        ctx,
        &inc.sender,
        text,
        keyboards::inline_unless_empty(buttons),
    )
    .await;
    Ok(())
}

/// Every internal comment of an order, as many messages as it takes (the
/// card shows only the newest that fit).
pub async fn show_comments(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let actor = roles::actor(ctx, inc).await?;
    if !may_read_history(actor) {
        return Err(BotError::Forbidden {
            what: "comments of an order (staff only)",
            denial: Denial::Action,
            about: About {
                role: Some(actor.role()),
                order_id: Some(order_id),
                ..About::default()
            },
        });
    }
    let history = ctx
        .db
        .history(order_id)
        .await
        .or_internal("cannot load an order's history")?;
    let mut text = t.fmt(lang, "comments_title", &[("id", &order_id)]);
    for line in cards::comment_lines(t, lang, &history) {
        text.push_str(&line);
    }
    reply::send(ctx, &inc.sender, text, None).await;
    Ok(())
}

/// Orders shown for one search.
pub const SEARCH_LIMIT: usize = 10;

/// `/search <text>`: orders by number, phone (any spelling), or a piece of
/// the address or the client's name, newest first, each with its card button.
pub async fn search(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let Some(query) = SearchQuery::parse(args) else {
        return Err(BotError::Invalid(t.get(lang, "search_usage").to_string()));
    };
    let (orders, total) = ctx
        .db
        .search_orders(&query, SEARCH_LIMIT)
        .await
        .or_internal("cannot search orders")?;
    let typed = args.trim();
    if orders.is_empty() {
        let text = t.fmt(lang, "search_none", &[("query", &typed)]);
        reply::send(ctx, &inc.sender, text, None).await;
        return Ok(());
    }
    let mut text = t.fmt(
        lang,
        "search_found",
        &[("query", &typed), ("total", &total)],
    );
    for o in &orders {
        text.push_str(&t.fmt(
            lang,
            "search_line",
            &[
                ("id", &o.id),
                ("date", &format_date(t, o.created_at)),
                ("status", &status_label(t, lang, o.status)),
                ("address", &o.address),
                ("client", &o.client_name),
            ],
        ));
    }
    if total > orders.len() {
        text.push_str(&t.fmt(lang, "search_more", &[("shown", &orders.len())]));
    }
    let rows: Vec<Vec<(String, String)>> = orders
        .chunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .map(|o| (format!("№{}", o.id), OrderButton::Card(o.id).data()))
                .collect()
        })
        .collect();
    reply::send(ctx, &inc.sender, text, keyboards::inline_unless_empty(rows)).await;
    Ok(())
}

/// `/history N`.
pub async fn history_command(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    match args.trim().trim_start_matches(['№', '#']).parse::<i64>() {
        Ok(id) if id > 0 => show_history(ctx, inc, id).await,
        _ => Err(BotError::Invalid(
            ctx.texts.get(inc.sender.lang, "history_usage").to_string(),
        )),
    }
}

/// An order's whole history, oldest first: when, what, from which status to
/// which, who, and what they wrote.
pub async fn show_history(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let actor = roles::actor(ctx, inc).await?;
    if !may_read_history(actor) {
        return Err(BotError::Forbidden {
            what: "history of an order (staff only)",
            denial: Denial::Action,
            about: About {
                role: Some(actor.role()),
                order_id: Some(order_id),
                ..About::default()
            },
        });
    }
    let order = orders::load(ctx, order_id).await?;
    let history = ctx
        .db
        .history(order_id)
        .await
        .or_internal("cannot load an order's history")?;
    let mut known: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    let mut text = t.fmt(lang, "history_title", &[("id", &order_id)]);
    for h in &history {
        let change = match h.from_status {
            Some(from) if from != h.to_status => format!(
                " ({} → {})",
                status_label(t, lang, from),
                status_label(t, lang, h.to_status)
            ),
            _ => String::new(),
        };
        let name = match known.get(&h.actor_id) {
            _ if h.actor_role == "client" => order.client_name.clone(),
            Some(name) => name.clone(),
            None => {
                let name = names::display_name(ctx, h.actor_id).await;
                known.insert(h.actor_id, name.clone());
                name
            }
        };
        let actor = format!(" · {name}");
        let comment = h
            .comment
            .as_deref()
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        let action_key = format!("history_{}", h.action);
        text.push_str(&t.fmt(
            lang,
            "history_line",
            &[
                ("time", &format_date_time(t, h.at)),
                ("action", &t.get(lang, &action_key)),
                ("change", &change),
                ("actor", &actor),
                ("comment", &comment),
            ],
        ));
    }
    reply::send(ctx, &inc.sender, text, None).await;
    Ok(())
}

/// The list of masters to assign `order_id` to.
pub async fn choose_master(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let (order, _) = orders::check(ctx, inc, order_id, ActionKind::Assign).await?;
    let expected = order.master_id.unwrap_or(0);
    let candidates = ctx
        .db
        .master_candidates()
        .await
        .or_internal("cannot list masters")?;
    // Best fit for this appliance first; inactive masters are not offered.
    let ranked = rank_for(order.equipment, candidates);
    if ranked.is_empty() {
        return Err(BotError::Invalid(t.get(lang, "no_masters").to_string()));
    }
    let rows = ranked
        .iter()
        .map(|c| {
            let fit = if c.profile.repairs(order.equipment) {
                "🧰 "
            } else {
                ""
            };
            let no_group = if c.has_group {
                String::new()
            } else {
                format!(" · {}", t.get(lang, "assign_no_group"))
            };
            let label = t.fmt(
                lang,
                "assign_line",
                &[
                    ("fit", &fit),
                    ("name", &c.profile.name),
                    ("open", &c.open_jobs),
                    ("no_group", &no_group),
                ],
            );
            vec![(
                label,
                OrderButton::AssignTo(order_id, c.profile.user_id, expected).data(),
            )]
        })
        .collect();
    reply::send(
        ctx,
        &inc.sender,
        t.fmt(lang, "choose_master", &[("id", &order_id)]),
        Some(keyboards::inline(rows)),
    )
    .await;
    Ok(())
}

/// `/masters`.
pub async fn masters(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let masters = ctx
        .db
        .people_with_role(Role::Master)
        .await
        .unwrap_or_default();
    let text = if masters.is_empty() {
        t.get(lang, "masters_empty").to_string()
    } else {
        let mut s = t.get(lang, "masters_header").to_string();
        for m in &masters {
            s.push_str(&format!("\n• {} (id {})", m.name, m.user_id));
        }
        s
    };
    // A button to each master's profile.
    let rows: Vec<Vec<(String, String)>> = masters
        .iter()
        .map(|m| {
            vec![(
                t.fmt(lang, "btn_profile", &[("name", &m.name)]),
                MasterButton::Profile(m.user_id).data(),
            )]
        })
        .collect();
    reply::send(ctx, &inc.sender, text, keyboards::inline_unless_empty(rows)).await;
    Ok(())
}

/// `/add_master` and `/add_dispatcher`: `role` is the new person's.
pub async fn add_command(ctx: &BotContext, inc: &Incoming, role: Role, args: &str) -> BotResult {
    let usage = match role {
        Role::Dispatcher => "add_dispatcher_usage",
        _ => "add_master_usage",
    };
    match parse_id_and_name(args) {
        Some((user_id, name)) => {
            add_person(
                ctx,
                inc,
                Person {
                    user_id,
                    role,
                    name,
                },
            )
            .await
        }
        None => Err(BotError::Invalid(
            ctx.texts.get(inc.sender.lang, usage).to_string(),
        )),
    }
}

/// Adds (or re-adds) a master or dispatcher and welcomes them.
pub async fn add_person(ctx: &BotContext, inc: &Incoming, person: Person) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    ctx.db
        .upsert_person(&person, inc.sender.user_id)
        .await
        .or_internal("cannot add a person")?;
    tracing::info!(
        by = inc.sender.user_id,
        user_id = person.user_id,
        role = person.role.code(),
        "staff member added"
    );
    let (done_key, welcome_key) = match person.role {
        Role::Dispatcher => ("dispatcher_added", "welcome_dispatcher"),
        _ => ("master_added", "welcome_master"),
    };
    let welcome = crate::db::Notification {
        chat_id: person.user_id,
        text: t.get(lang, welcome_key).to_string(),
        buttons: vec![],
        card: None,
        document: None,
    };
    if let Err(e) = ctx.db.enqueue(&[welcome]).await {
        tracing::warn!(error = %e, "cannot queue a welcome message");
    }
    ctx.outbox.changed();
    reply::send(
        ctx,
        &inc.sender,
        t.fmt(
            lang,
            done_key,
            &[("name", &person.name), ("id", &person.user_id)],
        ),
        None,
    )
    .await;
    Ok(())
}

/// `/remove_master` and `/remove_dispatcher`: `role` is the removed person's.
pub async fn remove_command(ctx: &BotContext, inc: &Incoming, role: Role, args: &str) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let Ok(id) = args.trim().parse::<i64>() else {
        return Err(BotError::Invalid(t.get(lang, "remove_usage").to_string()));
    };
    let removed = ctx.db.remove_person(id, role).await.unwrap_or(false);
    if removed {
        tracing::info!(
            by = inc.sender.user_id,
            user_id = id,
            role = role.code(),
            "staff member removed"
        );
    }
    let key = if removed {
        "person_removed"
    } else {
        "person_not_found"
    };
    reply::send(ctx, &inc.sender, t.fmt(lang, key, &[("id", &id)]), None).await;
    Ok(())
}

/// The card's "Edit" button: which field of the order to correct. The
/// correction itself is checked again when the new value arrives.
pub async fn edit_menu(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    orders::check(ctx, inc, order_id, ActionKind::Edit).await?;
    let rows = EditField::VARIANTS
        .chunks(2)
        .map(|pair| {
            pair.iter()
                .map(|f| {
                    (
                        t.get(lang, &format!("field_{}", f.code())).to_string(),
                        OrderButton::EditField(order_id, *f).data(),
                    )
                })
                .collect()
        })
        .collect();
    let text = t.fmt(lang, "edit_order_which", &[("id", &order_id)]);
    reply::send(ctx, &inc.sender, text, Some(keyboards::inline(rows))).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_people_arguments() {
        assert_eq!(parse_filter(""), Some(None));
        assert_eq!(parse_filter("new"), Some(Some(OrderStatus::New)));
        assert_eq!(parse_filter("Новые"), Some(Some(OrderStatus::New)));
        assert_eq!(parse_filter("lost"), None);
        assert_eq!(
            parse_id_and_name("42 Пётр Иванов"),
            Some((42, "Пётр Иванов".into()))
        );
        assert_eq!(parse_id_and_name("42"), Some((42, "id 42".into())));
        assert_eq!(parse_id_and_name("abc Пётр"), None);
        assert_eq!(parse_id_and_name("-5 x"), None);
    }
}
