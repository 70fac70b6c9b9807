//! Test-only fault injection, compiled into debug builds only (the e2e
//! tests run the debug binary; `cargo build --release` leaves this out).

use std::sync::Arc;

use crate::bot::incoming::{Incoming, Input};

/// Texts that make their handler misbehave on purpose.
#[derive(Clone, Default)]
pub struct Faults {
    /// `FAULT_PANIC_ON_TEXT`: this exact text panics its handler.
    pub panic_text: Option<Arc<str>>,
    /// `FAULT_SLOW_ON_TEXT`: this exact text takes 3 s to handle.
    pub slow_text: Option<Arc<str>>,
}

impl Faults {
    /// From the two settings.
    pub fn new(panic_text: Option<&str>, slow_text: Option<&str>) -> Self {
        Self {
            panic_text: panic_text.map(Arc::from),
            slow_text: slow_text.map(Arc::from),
        }
    }

    /// Panics or sleeps when the update's text is a trigger.
    pub async fn inject(&self, inc: &Incoming) {
        let Input::Text(text) = &inc.input else {
            return;
        };
        if self.panic_text.as_deref() == Some(text.as_str()) {
            panic!("injected fault: FAULT_PANIC_ON_TEXT matched");
        }
        if self.slow_text.as_deref() == Some(text.as_str()) {
            tracing::info!(
                update_id = inc.update_id,
                "injected fault: FAULT_SLOW_ON_TEXT, handling slowly"
            );
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
    }
}
