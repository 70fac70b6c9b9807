//! Masters' own jobs. Their work steps are order actions
//! ([`super::orders`]); closing and declining ask first ([`super::follow_ups`]).

use super::error::{BotResult, OrInternal};
use super::names;
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::{cards, keyboards};
use crate::bot::BotContext;
use crate::domain::{Actor, Role};

/// `/my_jobs`: each open job as a card with the steps the rules allow now.
pub async fn my_jobs(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let jobs = ctx
        .db
        .open_jobs_of_master(inc.sender.user_id)
        .await
        .or_internal("cannot list a master's jobs")?;
    if jobs.is_empty() {
        reply::send(ctx, &inc.sender, t.get(lang, "my_jobs_empty"), None).await;
        return Ok(());
    }
    reply::send(ctx, &inc.sender, t.get(lang, "my_jobs_header"), None).await;
    let name = names::display_name(ctx, inc.sender.user_id).await;
    let me = Actor::new(inc.sender.user_id, Role::Master);
    for o in jobs {
        let text = cards::card_for_master(t, lang, &o, Some(&name));
        let buttons = cards::buttons_for(t, lang, me, &o);
        reply::send(
            ctx,
            &inc.sender,
            text,
            keyboards::inline_unless_empty(buttons),
        )
        .await;
    }
    Ok(())
}
