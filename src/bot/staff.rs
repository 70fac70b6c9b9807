//! Staff commands: the order board, people management, statistics, export.
//! Every command re-checks the caller's role here, on the server.

use teloxide::prelude::*;
use teloxide::types::{InputFile, MessageId};

use super::cards;
use super::incoming::Incoming;
use super::keyboards::{self, ListButton, OrderButton};
use super::reply;
use super::roles;
use super::BotContext;
use crate::db::{now_ms, Person};
use crate::domain::{OrderStatus, PlainText, Role};

/// Orders per page of `/orders`.
pub const PAGE_SIZE: i64 = 8;

/// Refuses (and logs) a caller below `needed`; `true` when allowed.
pub async fn require(
    ctx: &BotContext,
    inc: &Incoming,
    role: Role,
    needed: Role,
    what: &str,
) -> bool {
    let allowed = match needed {
        Role::Admin => role == Role::Admin,
        Role::Dispatcher => role.is_staff(),
        Role::Master => role == Role::Master || role.is_staff(),
        Role::Client => true,
    };
    if !allowed {
        tracing::warn!(
            user_id = inc.sender.user_id,
            role = role.code(),
            command = what,
            "refused: command needs a staff role"
        );
        reply::send(
            ctx,
            &inc.sender,
            ctx.texts.get(inc.sender.lang, "forbidden"),
            None,
        )
        .await;
    }
    allowed
}

/// `/orders [status]` and the list buttons: one page, edited in place when paging.
pub async fn orders_page(
    ctx: &BotContext,
    inc: &Incoming,
    page: ListButton,
    edit_message: Option<i32>,
) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let (orders, total) = match ctx
        .db
        .orders_page(page.status, PAGE_SIZE, page.page * PAGE_SIZE)
        .await
    {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "cannot list orders");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return;
        }
    };
    let filter = match page.status {
        Some(s) => cards::status_label(t, lang, s),
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
            keyboards::equipment_label(t, lang, o.equipment),
            cards::status_label(t, lang, o.status),
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
    .chain(OrderStatus::ALL.iter().map(|s| {
        (
            cards::status_label(t, lang, *s),
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
    let markup = keyboards::inline(rows);
    if let Some(message_id) = edit_message {
        let slot = ctx.api_slot().await;
        let edited = ctx
            .bot
            .edit_message_text(
                ChatId(inc.sender.chat_id),
                MessageId(message_id),
                text.clone(),
            )
            .reply_markup(match &markup {
                teloxide::types::ReplyMarkup::InlineKeyboard(k) => k.clone(),
                _ => unreachable!("keyboards::inline builds an inline keyboard"),
            })
            .await;
        // Released before any fallback reply, which takes a slot of its own.
        drop(slot);
        match edited {
            Ok(_) => return,
            Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => return,
            Err(e) => {
                tracing::debug!(error = %e, "could not edit the order list; sending a new one")
            }
        }
    }
    reply::send(ctx, &inc.sender, text, Some(markup)).await;
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
        ("в работе", OrderStatus::InProgress),
        ("запчасти", OrderStatus::WaitingParts),
        ("выполненные", OrderStatus::Done),
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

/// `/add_master` and `/add_dispatcher` (and the shared-contact flow).
pub async fn add_person(ctx: &BotContext, inc: &Incoming, person: Person) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    if let Err(e) = ctx.db.upsert_person(&person, inc.sender.user_id).await {
        tracing::error!(error = %e, "cannot add a person");
        reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
        return;
    }
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
}

/// Runs a staff command; `false` when `name` is not a staff command.
pub async fn command(ctx: &BotContext, inc: &Incoming, role: Role, name: &str, args: &str) -> bool {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    match name {
        "orders" => {
            if require(ctx, inc, role, Role::Dispatcher, name).await {
                let status = parse_filter(args).unwrap_or(None);
                orders_page(ctx, inc, ListButton { status, page: 0 }, None).await;
            }
        }
        "order" => {
            if require(ctx, inc, role, Role::Dispatcher, name).await {
                match args.trim().trim_start_matches(['№', '#']).parse::<i64>() {
                    Ok(id) => super::actions::show_card(ctx, inc, id).await,
                    Err(_) => reply::send(ctx, &inc.sender, "/order N", None).await,
                }
            }
        }
        "add_master" | "add_dispatcher" => {
            let (needed, new_role, usage) = if name == "add_master" {
                (Role::Dispatcher, Role::Master, "add_master_usage")
            } else {
                (Role::Admin, Role::Dispatcher, "add_dispatcher_usage")
            };
            if require(ctx, inc, role, needed, name).await {
                match parse_id_and_name(args) {
                    Some((user_id, name)) => {
                        add_person(
                            ctx,
                            inc,
                            Person {
                                user_id,
                                role: new_role,
                                name,
                            },
                        )
                        .await
                    }
                    None => reply::send(ctx, &inc.sender, t.get(lang, usage), None).await,
                }
            }
        }
        "remove_master" | "remove_dispatcher" => {
            let (needed, target) = if name == "remove_master" {
                (Role::Dispatcher, Role::Master)
            } else {
                (Role::Admin, Role::Dispatcher)
            };
            if require(ctx, inc, role, needed, name).await {
                let Ok(id) = args.trim().parse::<i64>() else {
                    reply::send(ctx, &inc.sender, t.get(lang, "remove_usage"), None).await;
                    return true;
                };
                let removed = match ctx.db.person(id).await {
                    Ok(Some(p)) if p.role == target => {
                        ctx.db.remove_person(id).await.unwrap_or(false)
                    }
                    _ => false,
                };
                let key = if removed {
                    "person_removed"
                } else {
                    "person_not_found"
                };
                if removed {
                    tracing::info!(
                        by = inc.sender.user_id,
                        user_id = id,
                        role = target.code(),
                        "staff member removed"
                    );
                }
                reply::send(ctx, &inc.sender, t.fmt(lang, key, &[("id", &id)]), None).await;
            }
        }
        "masters" => {
            if require(ctx, inc, role, Role::Dispatcher, name).await {
                let masters = ctx
                    .db
                    .people_with_role(Role::Master)
                    .await
                    .unwrap_or_default();
                let text = if masters.is_empty() {
                    t.get(lang, "masters_empty").to_string()
                } else {
                    let mut s = t.get(lang, "masters_header").to_string();
                    for m in masters {
                        s.push_str(&format!("\n• {} (id {})", m.name, m.user_id));
                    }
                    s
                };
                reply::send(ctx, &inc.sender, text, None).await;
            }
        }
        "my_jobs" => {
            if require(ctx, inc, role, Role::Master, name).await {
                my_jobs(ctx, inc).await;
            }
        }
        "stats" => {
            if require(ctx, inc, role, Role::Admin, name).await {
                stats(ctx, inc).await;
            }
        }
        "export" => {
            if require(ctx, inc, role, Role::Admin, name).await {
                export(ctx, inc, args).await;
            }
        }
        _ => return false,
    }
    true
}

async fn my_jobs(ctx: &BotContext, inc: &Incoming) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let Some(jobs) = reply::or_apologize(
        ctx,
        &inc.sender,
        ctx.db.open_jobs_of_master(inc.sender.user_id).await,
        "cannot list a master's jobs",
    )
    .await
    else {
        return;
    };
    if jobs.is_empty() {
        reply::send(ctx, &inc.sender, t.get(lang, "my_jobs_empty"), None).await;
        return;
    }
    reply::send(ctx, &inc.sender, t.get(lang, "my_jobs_header"), None).await;
    let name = roles::display_name(ctx, inc.sender.user_id).await;
    for o in jobs {
        let text = cards::card(t, lang, &o, Some(&name));
        let buttons = cards::master_buttons(t, lang, &o);
        reply::send(
            ctx,
            &inc.sender,
            text,
            (!buttons.is_empty()).then(|| keyboards::inline(buttons)),
        )
        .await;
    }
}

async fn stats(ctx: &BotContext, inc: &Incoming) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let Some(s) = reply::or_apologize(
        ctx,
        &inc.sender,
        ctx.db.stats(7).await,
        "cannot compute stats",
    )
    .await
    else {
        return;
    };
    let none = t.get(lang, "stats_none").to_string();
    let lines = |items: Vec<String>| {
        if items.is_empty() {
            none.clone()
        } else {
            items.join("\n")
        }
    };
    let by_status = lines(
        s.by_status
            .iter()
            .map(|(code, n)| {
                let label = OrderStatus::from_code(code)
                    .map(|st| cards::status_label(t, lang, st))
                    .unwrap_or(code.clone());
                format!("• {label}: {n}")
            })
            .collect(),
    );
    let by_master = lines(
        s.by_master
            .iter()
            .map(|(id, name, open, done)| {
                format!(
                    "• {} : {open} / {done}",
                    name.clone().unwrap_or(format!("id {id}"))
                )
            })
            .collect(),
    );
    let by_day = lines(
        s.by_day
            .iter()
            .map(|(day, n)| format!("• {day}: {n}"))
            .collect(),
    );
    let minutes = |m: Option<f64>| match m {
        Some(m) => t.fmt(lang, "minutes", &[("n", &format!("{m:.0}"))]),
        None => none.clone(),
    };
    let text = t.fmt(
        lang,
        "stats",
        &[
            ("total", &s.total),
            ("by_status", &by_status),
            ("by_master", &by_master),
            ("by_day", &by_day),
            ("assign", &minutes(s.mean_minutes_to_assign)),
            ("finish", &minutes(s.mean_minutes_to_finish)),
        ],
    );
    reply::send(ctx, &inc.sender, text, None).await;
}

fn parse_day(s: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).ok()
}

fn day_start_ms(d: time::Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

/// The CSV of orders created in `[from, to]` (inclusive days), with history.
pub async fn export_csv(
    ctx: &BotContext,
    from: time::Date,
    to: time::Date,
) -> anyhow::Result<(Vec<u8>, usize)> {
    let to_exclusive = to.next_day().unwrap_or(to);
    let orders = ctx
        .db
        .orders_created_between(day_start_ms(from), day_start_ms(to_exclusive))
        .await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "created_at",
        "status",
        "equipment",
        "description",
        "address",
        "phone",
        "visit_time",
        "client_id",
        "client_name",
        "master_id",
        "work_done",
        "price",
        "rating",
        "rating_comment",
        "history",
    ])?;
    let iso = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms / 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    };
    for o in &orders {
        let history = ctx
            .db
            .history(o.id)
            .await?
            .iter()
            .map(|h| {
                let mut s = format!(
                    "{} {} {}->{} by {} ({})",
                    iso(h.at),
                    h.action,
                    h.from_status.map(|s| s.code()).unwrap_or("-"),
                    h.to_status.code(),
                    h.actor_id,
                    h.actor_role
                );
                if let Some(c) = &h.comment {
                    s.push_str(&format!(": {c}"));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("; ");
        w.write_record([
            o.id.to_string(),
            iso(o.created_at),
            o.status.code().to_string(),
            o.equipment.code().to_string(),
            o.description.clone(),
            o.address.clone(),
            o.phone.clone(),
            o.visit_time.clone(),
            o.client_id.to_string(),
            o.client_name.clone(),
            o.master_id.map(|m| m.to_string()).unwrap_or_default(),
            o.work_done.clone().unwrap_or_default(),
            o.price.map(|p| p.to_string()).unwrap_or_default(),
            o.rating.map(|r| r.to_string()).unwrap_or_default(),
            o.rating_comment.clone().unwrap_or_default(),
            history,
        ])?;
    }
    Ok((
        w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?,
        orders.len(),
    ))
}

async fn export(ctx: &BotContext, inc: &Incoming, args: &str) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let today = time::OffsetDateTime::from_unix_timestamp(now_ms() / 1000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    let words: Vec<&str> = args.split_whitespace().collect();
    let range = match words.as_slice() {
        [] => Some((today - time::Duration::days(29), today)),
        [from] => parse_day(from).map(|f| (f, today)),
        [from, to] => parse_day(from).zip(parse_day(to)),
        _ => None,
    };
    let Some((from, to)) = range.filter(|(f, t)| f <= t) else {
        reply::send(ctx, &inc.sender, t.get(lang, "export_usage"), None).await;
        return;
    };
    let (bytes, count) = match export_csv(ctx, from, to).await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "cannot export orders");
            reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
            return;
        }
    };
    let file = InputFile::memory(bytes).file_name(format!("orders_{from}_{to}.csv"));
    let caption = t.fmt(
        lang,
        "export_caption",
        &[("from", &from), ("to", &to), ("count", &count)],
    );
    let slot = ctx.api_slot().await;
    let sent = ctx
        .bot
        .send_document(ChatId(inc.sender.chat_id), file)
        .caption(caption)
        .await;
    drop(slot);
    if let Err(e) = sent {
        tracing::warn!(error = %e, "could not send the export");
        reply::send(ctx, &inc.sender, t.get(lang, "internal_error"), None).await;
    }
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
