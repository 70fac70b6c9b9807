//! The client's own orders: `/my_orders` with cancel and rate buttons.

use super::cards;
use super::incoming::Incoming;
use super::keyboards::{self, OrderButton};
use super::reply;
use super::BotContext;
use crate::domain::OrderStatus;

/// Lists the client's orders with what they can still do to each.
pub async fn my_orders(ctx: &BotContext, inc: &Incoming) {
    let lang = inc.sender.lang;
    let t = &ctx.texts;
    let Some(orders) = reply::or_apologize(
        ctx,
        &inc.sender,
        ctx.db.orders_of_client(inc.sender.user_id, 20).await,
        "could not load a client's orders",
    )
    .await
    else {
        return;
    };
    if orders.is_empty() {
        reply::send(
            ctx,
            &inc.sender,
            t.get(lang, "my_orders_empty"),
            Some(keyboards::main_menu(t, lang)),
        )
        .await;
        return;
    }
    let mut text = t.get(lang, "my_orders_header").to_string();
    let mut rows = Vec::new();
    for o in &orders {
        let line = t.fmt(
            lang,
            "order_line",
            &[
                ("id", &o.id),
                (
                    "equipment",
                    &keyboards::equipment_label(t, lang, o.equipment),
                ),
                ("status", &cards::status_label(t, lang, o.status)),
                ("date", &format_date(o.created_at)),
            ],
        );
        text.push('\n');
        text.push_str(&line);
        match o.status {
            OrderStatus::New | OrderStatus::Assigned => rows.push(vec![(
                t.fmt(lang, "btn_client_cancel", &[("id", &o.id)]),
                OrderButton::Cancel(o.id).data(),
            )]),
            OrderStatus::Done if o.rating.is_none() => rows.push(vec![(
                t.fmt(lang, "btn_rate", &[("id", &o.id)]),
                OrderButton::RateMenu(o.id).data(),
            )]),
            _ => {}
        }
    }
    let markup = if rows.is_empty() {
        keyboards::main_menu(t, lang)
    } else {
        keyboards::inline(rows)
    };
    reply::send(ctx, &inc.sender, text, Some(markup)).await;
}

/// `dd.mm.yyyy` (UTC) of a millisecond timestamp.
pub fn format_date(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms / 1000) {
        Ok(t) => format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => "?".into(),
    }
}
