//! Admins' commands: statistics and the CSV export of orders.

use teloxide::prelude::*;
use teloxide::types::InputFile;

use super::error::{BotError, BotResult, OrInternal};
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::labels::{self, status_label};
use crate::bot::BotContext;
use crate::db::{now_ms, StatsDay};
use crate::domain::{day_start, shop_now, Code, Money, OrderStatus};
use jiff::civil::Date;

/// `/stats [неделя|месяц|N]`: orders by status, by master and by day over
/// the days asked for (a week unless said), the mean times, the money per
/// master and the chart.
pub async fn stats(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    let Some(span) = crate::domain::report::stats_days(args) else {
        return Err(BotError::Invalid("/stats [неделя | месяц | 1–92]".into()));
    };
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let tz = t.time_zone();
    let today = shop_now(jiff::Timestamp::now(), tz).date();
    let days = StatsDay::last(today, span, tz);
    let s = ctx
        .db
        .stats(&days)
        .await
        .or_internal("cannot compute stats")?;
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
                    .map(|st| status_label(t, lang, st))
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
            ("days", &span),
            ("assign", &minutes(s.mean_minutes_to_assign)),
            ("finish", &minutes(s.mean_minutes_to_finish)),
        ],
    );
    // Money over the same days: what each master's closed orders brought.
    let (from, to) = match (days.first(), days.last()) {
        (Some(first), Some(last)) => (first.from_ms, last.to_ms),
        _ => (0, 0),
    };
    let closed = ctx
        .db
        .closed_between(from, to, None)
        .await
        .or_internal("cannot read closed orders")?;
    let mut revenue: Vec<(Option<i64>, Money, Money)> = Vec::new();
    for o in &closed {
        let total = o.total().unwrap_or_default();
        let share = o.money().map(|m| m.master).unwrap_or_default();
        match revenue.iter_mut().find(|(m, _, _)| *m == o.master_id) {
            Some(row) => {
                row.1 = row.1 + total;
                row.2 = row.2 + share;
            }
            None => revenue.push((o.master_id, total, share)),
        }
    }
    let mut named = Vec::new();
    for (master, total, share) in &revenue {
        let name = match master {
            Some(id) => super::names::display_name(ctx, *id).await,
            None => t.get(lang, "report_nobody").to_string(),
        };
        named.push((name, *total, *share));
    }
    let money_lines = lines(
        named
            .iter()
            .map(|(name, total, share)| {
                t.fmt(
                    lang,
                    "stats_money_line",
                    &[("name", name), ("total", total), ("share", share)],
                )
            })
            .collect(),
    );
    let all: Money = revenue.iter().map(|(_, total, _)| *total).sum();
    let text = format!(
        "{text}{}",
        t.fmt(
            lang,
            "stats_money",
            &[("lines", &money_lines), ("total", &all)]
        )
    );
    reply::send(ctx, &inc.sender, text, None).await;
    let chart = crate::reports::chart::stats_png(
        t.get(lang, "chart_orders_per_day"),
        &s.by_day,
        t.get(lang, "chart_revenue_per_master"),
        &named
            .iter()
            .map(|(name, total, _)| (name.clone(), *total))
            .collect::<Vec<_>>(),
    )
    .or_internal("cannot draw the stats chart")?;
    let file = InputFile::memory(chart).file_name("stats.png");
    let slot = ctx.api_slot().await;
    let sent = ctx.bot.send_photo(ChatId(inc.sender.chat_id), file).await;
    drop(slot);
    sent.map(|_| ())
        .or_internal("could not send the stats chart")
}

fn parse_day(s: &str) -> Option<Date> {
    Date::strptime("%Y-%m-%d", s).ok()
}

/// The CSV of orders created in `[from, to]` (inclusive days of the shop's
/// calendar), with history; times in shop time with their UTC offset.
async fn export_csv(ctx: &BotContext, from: Date, to: Date) -> anyhow::Result<(Vec<u8>, usize)> {
    let tz = ctx.texts.time_zone();
    let to_exclusive = to.tomorrow().unwrap_or(to);
    let orders = ctx
        .db
        .orders_created_between(
            day_start(from, tz).as_millisecond(),
            day_start(to_exclusive, tz).as_millisecond(),
        )
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
        "total",
        "rating",
        "rating_comment",
        "history",
    ])?;
    let iso = |ms: i64| labels::iso_in_shop_time(&ctx.texts, ms);
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
            o.client_id.map(|c| c.to_string()).unwrap_or_default(),
            o.client_name.clone(),
            o.master_id.map(|m| m.to_string()).unwrap_or_default(),
            o.work_done.clone().unwrap_or_default(),
            o.total().map(money_cell).unwrap_or_default(),
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

/// `/export [from [to]]`: a CSV document of the orders filed in those days.
pub async fn export(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let today = labels::shop_date(t, now_ms());
    let words: Vec<&str> = args.split_whitespace().collect();
    let range = match words.as_slice() {
        [] => Some((
            today
                .checked_sub(jiff::Span::new().days(29))
                .unwrap_or(today),
            today,
        )),
        [from] => parse_day(from).map(|f| (f, today)),
        [from, to] => parse_day(from).zip(parse_day(to)),
        _ => None,
    };
    let Some((from, to)) = range.filter(|(f, t)| f <= t) else {
        return Err(BotError::Invalid(t.get(lang, "export_usage").to_string()));
    };
    let (bytes, count) = export_csv(ctx, from, to)
        .await
        .or_internal("cannot export orders")?;
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
    sent.map(|_| ()).or_internal("could not send the export")
}

/// An amount as a spreadsheet reads it: `2500.50`, no currency sign.
fn money_cell(m: crate::domain::Money) -> String {
    format!("{}.{:02}", m.kopecks() / 100, m.kopecks() % 100)
}
