//! How a person is named in texts.

use crate::bot::BotContext;

/// A staff member's display name: the stored name, or their id.
pub async fn display_name(ctx: &BotContext, user_id: i64) -> String {
    match ctx.db.person(user_id).await {
        Ok(Some(p)) if !p.name.is_empty() => p.name,
        _ => format!("id {user_id}"),
    }
}
