//! How a person is named in texts.

use crate::bot::BotContext;

/// A staff member's display name: the stored name, or their id.
pub async fn display_name(ctx: &BotContext, user_id: i64) -> String {
    let people = ctx.db.person_roles(user_id).await.unwrap_or_default();
    people
        .into_iter()
        .map(|p| p.name)
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| format!("id {user_id}"))
}
