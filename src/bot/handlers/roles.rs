//! Who someone is, decided on the server for every command and button.

use super::error::{BotError, BotResult, OrInternal};
use crate::bot::incoming::Incoming;
use crate::bot::ui::keyboards;
use crate::bot::BotContext;
use crate::domain::{Actor, Permission, Role, Roles};
use teloxide::types::ReplyMarkup;

/// Every role of `user_id`: admin or dispatcher from `ADMIN_IDS` /
/// `DISPATCHER_IDS`, and those given at runtime (a dispatcher may also be a
/// master); a client when none.
pub async fn resolve(ctx: &BotContext, user_id: i64) -> anyhow::Result<Roles> {
    let mut roles = Roles::default();
    if ctx.admin_ids.contains(&user_id) {
        roles = roles.with(Role::Admin);
    }
    if ctx.dispatcher_ids.contains(&user_id) {
        roles = roles.with(Role::Dispatcher);
    }
    for person in ctx.db.person_roles(user_id).await? {
        roles = roles.with(person.role);
    }
    Ok(roles)
}

/// The menu of the sender's role (a client's when the role cannot be read:
/// a menu is a convenience, never a permission).
pub async fn menu(ctx: &BotContext, inc: &Incoming) -> ReplyMarkup {
    let roles = resolve(ctx, inc.sender.user_id).await.unwrap_or_default();
    keyboards::main_menu(&ctx.texts, inc.sender.lang, roles)
}

/// The sender as the rules see them.
pub async fn actor(ctx: &BotContext, inc: &Incoming) -> BotResult<Actor> {
    let roles = resolve(ctx, inc.sender.user_id)
        .await
        .or_internal("cannot resolve a role")?;
    Ok(Actor {
        user_id: inc.sender.user_id,
        roles,
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
    let role = actor(ctx, inc).await?.role();
    if role.may(permission) {
        Ok(role)
    } else {
        Err(BotError::needs_role(role, what))
    }
}
