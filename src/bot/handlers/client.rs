//! The client's own orders: `/my_orders` with cancel and rate buttons, and
//! the star picker of a rating.

use super::error::{BotError, BotResult, OrInternal};
use super::{orders, roles};
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::labels::{equipment_label, format_date, status_label};
use crate::bot::ui::{cards, keyboards};
use crate::bot::BotContext;
use crate::domain::{ActionKind, Actor, Phone, Role};

/// Lists the client's orders with what they can still do to each.
pub async fn my_orders(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let orders = ctx
        .db
        .orders_of_client(inc.sender.user_id, 20)
        .await
        .or_internal("could not load a client's orders")?;
    if orders.is_empty() {
        let menu = roles::menu(ctx, inc).await;
        reply::send(ctx, &inc.sender, t.get(lang, "my_orders_empty"), Some(menu)).await;
        return Ok(());
    }
    let me = Actor::new(inc.sender.user_id, Role::Client);
    let mut text = t.get(lang, "my_orders_header").to_string();
    let mut rows = Vec::new();
    for o in &orders {
        let line = t.fmt(
            lang,
            "order_line",
            &[
                ("id", &o.id),
                ("equipment", &equipment_label(t, lang, o.equipment)),
                ("status", &status_label(t, lang, o.status)),
                ("date", &format_date(t, o.created_at)),
            ],
        );
        text.push('\n');
        text.push_str(&line);
        rows.extend(cards::client_order_row(t, lang, me, o));
    }
    let markup = if rows.is_empty() {
        roles::menu(ctx, inc).await
    } else {
        keyboards::inline(rows)
    };
    reply::send(ctx, &inc.sender, text, Some(markup)).await;
    Ok(())
}

/// Links the sender to the client record of their own phone number.
pub async fn link_own_phone(ctx: &BotContext, inc: &Incoming, phone: &str) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let phone = Phone::parse_account_number(phone)
        .map_err(|_| BotError::Invalid(t.get(lang, "err_bad_phone").to_string()))?;
    ctx.db
        .link_client_telegram(phone.as_str(), inc.sender.user_id, &inc.sender.first_name)
        .await
        .or_internal("cannot link a client's phone")?;
    tracing::info!(
        user_id = inc.sender.user_id,
        "client linked to their phone number"
    );
    let text = t.fmt(lang, "client_linked", &[("phone", &phone.as_str())]);
    let menu = roles::menu(ctx, inc).await;
    reply::send(ctx, &inc.sender, text, Some(menu)).await;
    Ok(())
}

/// The stars to rate order `id` with, if the client may rate it.
pub async fn rate_menu(ctx: &BotContext, inc: &Incoming, order_id: i64) -> BotResult {
    orders::check(ctx, inc, order_id, ActionKind::Rate).await?;
    let text = ctx
        .texts
        .fmt(inc.sender.lang, "rate_which", &[("id", &order_id)]);
    reply::send(
        ctx,
        &inc.sender,
        text,
        Some(keyboards::inline(cards::rating_buttons(order_id))),
    )
    .await;
    Ok(())
}
