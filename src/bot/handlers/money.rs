//! The money of a closing: the master's (or, for a correction, an admin's)
//! answers become a split by the shop's rules ([`crate::domain::money`]),
//! which the order's change then writes with the history line that shows
//! it. The rules see the master's specialization and seniority from their
//! profile, whoever closes.

use super::error::{BotResult, OrInternal};
use super::orders;
use crate::bot::incoming::Incoming;
use crate::bot::ui::texts::{Lang, Texts};
use crate::bot::BotContext;
use crate::db::Order;
use crate::domain::money::{Bonus, Job, Split};
use crate::domain::{Action, ActionKind, CloseEntry, ClosedMoney};

/// Closes the order with the entry's money, or corrects a closed order's
/// money when the entry has no work (an admin's correction).
pub async fn close(
    ctx: &BotContext,
    inc: &Incoming,
    order_id: i64,
    entry: CloseEntry,
) -> BotResult {
    let kind = match entry.work {
        Some(_) => ActionKind::Finish,
        None => ActionKind::EditMoney,
    };
    let (order, actor) = orders::check(ctx, inc, order_id, kind).await?;
    let split = split_of(ctx, &order, &entry).await?;
    // The history is the shop's record, kept in the staff's language.
    let t = &ctx.texts;
    let note = describe(t, Lang::Ru, &split);
    let money = ClosedMoney::from(&split);
    let action = match entry.work {
        Some(work) => Action::Finish { work, money, note },
        None => {
            let old = order
                .money()
                .map(|m| describe_stored(t, Lang::Ru, &m))
                .or_else(|| order.total().map(|total| total.to_string()))
                .unwrap_or_else(|| "—".into());
            Action::EditMoney {
                money,
                change: format!("{old} → {note}"),
            }
        }
    };
    orders::apply(ctx, inc, order, actor, action, None, None).await
}

/// The split of `order` by the configured rules: the master's profile
/// (specialization, senior) and whether the master is an admin.
async fn split_of(ctx: &BotContext, order: &Order, entry: &CloseEntry) -> BotResult<Split> {
    let profile = match order.master_id {
        Some(id) => ctx
            .db
            .master_profile(id)
            .await
            .or_internal("cannot read the master's profile")?,
        None => None,
    };
    let admin = order
        .master_id
        .is_some_and(|id| ctx.admin_ids.contains(&id));
    let job = Job {
        equipment: order.equipment,
        specialization: profile
            .as_ref()
            .map(|p| p.specialization.clone())
            .unwrap_or_default(),
        senior: admin || profile.as_ref().is_some_and(|p| p.senior),
        total: entry.total,
        materials: entry.materials,
        out_of_city: entry.out_of_city,
        review: entry.review,
    };
    Ok(ctx.split_rules.split(&job))
}

/// The split in one line for the history: the amounts, how the master's
/// percent came about, each share.
pub fn describe(t: &Texts, lang: Lang, s: &Split) -> String {
    let mut percent = s.base_percent.to_string();
    for (bonus, p) in &s.bonuses {
        let name = match bonus {
            Bonus::OutOfCity => t.get(lang, "money_out_of_city"),
            Bonus::Review => t.get(lang, "money_review"),
        };
        percent.push_str(&format!(" + {p} ({name})"));
    }
    if !s.bonuses.is_empty() {
        percent.push_str(&format!(" = {}", s.master_percent));
    }
    note(t, lang, &ClosedMoney::from(s), &percent)
}

/// A stored split in the same words (how it came about is not kept).
fn describe_stored(t: &Texts, lang: Lang, m: &ClosedMoney) -> String {
    note(t, lang, m, &m.master_percent.to_string())
}

/// The history's line of a split, `percent` saying how the master's came about.
fn note(t: &Texts, lang: Lang, m: &ClosedMoney, percent: &str) -> String {
    t.fmt(
        lang,
        "money_note",
        &[
            ("total", &m.total),
            ("materials", &m.materials),
            ("net", &m.net()),
            ("percent", &percent),
            ("master", &m.master),
            ("company", &m.company),
        ],
    )
}
