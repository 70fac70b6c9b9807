//! Who someone is, decided on the server for every command and button.

use super::BotContext;
use crate::domain::Role;

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

/// A staff member's display name: the stored name, or their id.
pub async fn display_name(ctx: &BotContext, user_id: i64) -> String {
    match ctx.db.person(user_id).await {
        Ok(Some(p)) if !p.name.is_empty() => p.name,
        _ => format!("id {user_id}"),
    }
}
