//! Writing a dialog step, the one way every dialog does it.

use super::incoming::Incoming;
use super::reply;
use super::BotContext;
use crate::fsm::codec::{self, Dialog};
use crate::fsm::DialogKey;

/// Stores `dialog` with the update that produced it (the redelivery guard).
/// On failure tells the user the service is briefly unavailable and returns
/// `false`: the previous state is still stored, so nothing typed before is lost.
pub async fn save_dialog(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    dialog: &Dialog,
) -> bool {
    match ctx
        .fsm
        .set(key, &codec::encode(dialog, Some(inc.update_id)))
        .await
    {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(chat_id = key.chat_id, user_id = key.user_id, error = %e, "could not store the dialog");
            crate::metrics::storage_error();
            reply::send(
                ctx,
                &inc.sender,
                ctx.texts.get(inc.sender.lang, "storage_unavailable"),
                None,
            )
            .await;
            false
        }
    }
}
