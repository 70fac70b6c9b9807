//! `/reports`: a menu of Excel reports, sent as documents. Staff get the
//! shop's (open orders; each master's closed work over a day, a week, a
//! month); a master gets the same about their own orders. Who sees what is
//! decided again on every press ([`crate::domain::report::scope_of`]).

use teloxide::prelude::*;
use teloxide::types::InputFile;

use super::error::{BotError, BotResult, OrInternal};
use super::roles;
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::callbacks::{Callback, ReportButton};
use crate::bot::ui::keyboards;
use crate::bot::ui::labels::{equipment_label, shop_date, status_label};
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use crate::db::now_ms;
use crate::domain::day_start;
use crate::domain::report::{scope_of, Period, Scope};
use crate::reports::{self, ReportMaster};

/// The menu of reports.
pub async fn menu(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let actor = roles::actor(ctx, inc).await?;
    let Some(scope) = scope_of(actor) else {
        return Err(BotError::needs_role(actor.role(), "reports"));
    };
    let button =
        |key: &str, b: ReportButton| (t.get(lang, key).to_string(), Callback::Report(b).data());
    let rows = vec![
        vec![button("btn_report_active", ReportButton::Active)],
        vec![
            button("btn_report_day", ReportButton::Period(Period::Day)),
            button("btn_report_week", ReportButton::Period(Period::Week)),
            button("btn_report_month", ReportButton::Period(Period::Month)),
        ],
    ];
    let key = match scope {
        Scope::Shop => "reports_menu",
        Scope::Master(_) => "reports_menu_own",
    };
    reply::send(
        ctx,
        &inc.sender,
        t.get(lang, key),
        Some(keyboards::inline(rows)),
    )
    .await;
    Ok(())
}

/// A report button: builds the report the presser may see and sends it.
pub async fn on_button(ctx: &BotContext, inc: &Incoming, button: ReportButton) -> BotResult {
    let actor = roles::actor(ctx, inc).await?;
    let Some(scope) = scope_of(actor) else {
        return Err(BotError::needs_role(actor.role(), "reports"));
    };
    let today = shop_date(&ctx.texts, now_ms());
    let (bytes, name) = match button {
        ReportButton::Active => (active(ctx, scope).await?, format!("active_{today}.xlsx")),
        ReportButton::Period(period) => {
            let (from, to) = period.current(today);
            (
                of_period(ctx, scope, from, to).await?,
                reports::period_file_name(period, from),
            )
        }
    };
    send(ctx, inc.sender.chat_id, bytes, name).await
}

/// The masters a shop-wide report lists: every master with a profile,
/// then anyone else who has orders in it, then "nobody" when it has some.
async fn masters_of(
    ctx: &BotContext,
    scope: Scope,
    orders: &[crate::db::Order],
    lang: Lang,
) -> BotResult<Vec<ReportMaster>> {
    let mut masters: Vec<ReportMaster> = match scope {
        Scope::Master(id) => vec![ReportMaster {
            id: Some(id),
            name: super::names::display_name(ctx, id).await,
        }],
        Scope::Shop => ctx
            .db
            .master_candidates()
            .await
            .or_internal("cannot list masters")?
            .into_iter()
            .map(|c| ReportMaster {
                id: Some(c.profile.user_id),
                name: c.profile.name,
            })
            .collect(),
    };
    if scope == Scope::Shop {
        for o in orders {
            if !masters.iter().any(|m| m.id == o.master_id) {
                let name = match o.master_id {
                    Some(id) => super::names::display_name(ctx, id).await,
                    None => ctx.texts.get(lang, "report_nobody").to_string(),
                };
                masters.push(ReportMaster {
                    id: o.master_id,
                    name,
                });
            }
        }
    }
    Ok(masters)
}

fn own(scope: Scope) -> Option<i64> {
    match scope {
        Scope::Shop => None,
        Scope::Master(id) => Some(id),
    }
}

async fn active(ctx: &BotContext, scope: Scope) -> BotResult<Vec<u8>> {
    let t = &ctx.texts;
    let lang = Lang::Ru;
    let orders = ctx
        .db
        .open_orders(own(scope))
        .await
        .or_internal("cannot read open orders")?;
    let masters = masters_of(ctx, scope, &orders, lang).await?;
    reports::active_orders(
        &orders,
        &masters,
        &|s| status_label(t, lang, s),
        &|k| equipment_label(t, lang, k),
        t.time_zone(),
    )
    .or_internal("cannot write the report")
}

/// The closed work of `[from, to)` (shop days), for the menu and the
/// scheduled reports.
pub async fn of_period(
    ctx: &BotContext,
    scope: Scope,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> BotResult<Vec<u8>> {
    let t = &ctx.texts;
    let lang = Lang::Ru;
    let tz = t.time_zone();
    let orders = ctx
        .db
        .closed_between(
            day_start(from, tz).as_millisecond(),
            day_start(to, tz).as_millisecond(),
            own(scope),
        )
        .await
        .or_internal("cannot read closed orders")?;
    let masters = masters_of(ctx, scope, &orders, lang).await?;
    let last = to.yesterday().unwrap_or(to);
    let title = t.fmt(lang, "report_period", &[("from", &from), ("to", &last)]);
    reports::masters_period(
        &title,
        &orders,
        &masters,
        &|k| equipment_label(t, lang, k),
        tz,
    )
    .or_internal("cannot write the report")
}

async fn send(ctx: &BotContext, chat_id: i64, bytes: Vec<u8>, name: String) -> BotResult {
    let file = InputFile::memory(bytes).file_name(name);
    let slot = ctx.api_slot().await;
    let sent = ctx.bot.send_document(ChatId(chat_id), file).await;
    drop(slot);
    sent.map(|_| ()).or_internal("could not send the report")
}
