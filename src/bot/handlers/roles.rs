//! Who someone is, decided on the server for every command and button.

use super::error::{BotError, BotResult, OrInternal};
use crate::bot::incoming::Incoming;
use crate::bot::ui::keyboards;
use crate::bot::BotContext;
use crate::domain::{Actor, Permission, Role};
use teloxide::types::ReplyMarkup;

/// The role of `user_id`: ids from `ADMIN_IDS` / `DISPATCHER_IDS` first, then
/// people added at runtime, otherwise a client.
pub async fn resolve(ctx: &BotContext, user_id: i64) -> anyhow::Result<Role> {
    if ctx.admin_ids.contains(&user_id) {
        return Ok(Role::Admin);
    }
    if ctx.dispatcher_ids.contains(&user_id) {
        return Ok(Role::Dispatcher);
    }
    Ok(ctx
        .db
        .person(user_id)
        .await?
        .map(|p| p.role)
        .unwrap_or(Role::Client))
}

/// The menu of the sender's role (a client's when the role cannot be read:
/// a menu is a convenience, never a permission).
pub async fn menu(ctx: &BotContext, inc: &Incoming) -> ReplyMarkup {
    let role = resolve(ctx, inc.sender.user_id)
        .await
        .unwrap_or(Role::Client);
    keyboards::main_menu(&ctx.texts, inc.sender.lang, role)
}

/// The sender as the rules see them.
pub async fn actor(ctx: &BotContext, inc: &Incoming) -> BotResult<Actor> {
    let role = resolve(ctx, inc.sender.user_id)
        .await
        .or_internal("cannot resolve a role")?;
    Ok(Actor {
        user_id: inc.sender.user_id,
        role,
    })
}

/// The sender's role if it has `permission`; otherwise refused (logged, and
/// the sender told) as `what`, a command or list for another role.
pub async fn require(
    ctx: &BotContext,
    inc: &Incoming,
    permission: Permission,
    what: &str,
) -> BotResult<Role> {
    let role = actor(ctx, inc).await?.role;
    if role.may(permission) {
        Ok(role)
    } else {
        Err(BotError::needs_role(role, what))
    }
}
