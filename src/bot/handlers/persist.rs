//! Writing and ending a dialog, the one way every dialog does it.

use super::error::{BotError, BotResult};
use crate::bot::incoming::Incoming;
use crate::bot::BotContext;
use crate::domain::Dialog;
use crate::fsm::codec;
use crate::fsm::DialogKey;

/// Stores `dialog` with the update that produced it (the redelivery guard).
/// On failure the previous state is still stored, so nothing typed before
/// is lost; the user is told the service is briefly unavailable.
pub async fn save_dialog(
    ctx: &BotContext,
    inc: &Incoming,
    key: DialogKey,
    dialog: &Dialog,
) -> BotResult {
    ctx.fsm
        .set(key, &codec::encode(dialog, Some(inc.update_id)))
        .await
        .map_err(|source| BotError::Unavailable {
            what: "could not store the dialog",
            source: source.into(),
        })
}

/// Ends the dialog after `inc`, remembering that it was applied. What the
/// dialog did is already stored: a failure here is logged, not reported
/// (the finished mark only guards against a redelivery).
pub async fn end_dialog(ctx: &BotContext, inc: &Incoming, key: DialogKey) {
    if let Err(e) = ctx.fsm.finish(key, inc.update_id).await {
        tracing::warn!(error = %e, "could not clear a finished dialog");
        crate::metrics::storage_error();
    }
}
