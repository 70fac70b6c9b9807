//! The Redis key layout the runbook checks with `KEYS aiogram:*`.

use super::DialogKey;

/// Builds `{prefix}:fsm:state:{chat}:{user}` and `{prefix}:fsm:data:{chat}:{user}`.
#[derive(Debug, Clone)]
pub struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    /// A layout under `prefix` (`aiogram` by default).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// Key of the state name, e.g. `aiogram:fsm:state:42:42`.
    pub fn state_key(&self, key: DialogKey) -> String {
        format!("{}:fsm:state:{}:{}", self.prefix, key.chat_id, key.user_id)
    }

    /// Key of the data JSON, e.g. `aiogram:fsm:data:42:42`.
    pub fn data_key(&self, key: DialogKey) -> String {
        format!("{}:fsm:data:{}:{}", self.prefix, key.chat_id, key.user_id)
    }

    /// Key remembering the update that finished the dialog, e.g.
    /// `aiogram-sync:done:42:42`: outside `{prefix}:*`, so the runbook's
    /// `KEYS aiogram:*` still lists only dialogs (like the replica locks).
    pub fn finished_key(&self, key: DialogKey) -> String {
        format!("{}-sync:done:{}:{}", self.prefix, key.chat_id, key.user_id)
    }

    /// `SCAN` pattern matching every state key.
    pub fn state_pattern(&self) -> String {
        format!("{}:fsm:state:*", self.prefix)
    }

    /// Parses a state key back into a dialog key; `None` for foreign keys.
    pub fn parse_state_key(&self, redis_key: &str) -> Option<DialogKey> {
        let rest = redis_key
            .strip_prefix(&self.prefix)?
            .strip_prefix(":fsm:state:")?;
        let (chat, user) = rest.split_once(':')?;
        Some(DialogKey {
            chat_id: chat.parse().ok()?,
            user_id: user.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_runbook() {
        let layout = KeyLayout::new("aiogram");
        let key = DialogKey {
            chat_id: -100,
            user_id: 7,
        };
        assert_eq!(layout.state_key(key), "aiogram:fsm:state:-100:7");
        assert_eq!(layout.data_key(key), "aiogram:fsm:data:-100:7");
        assert_eq!(
            layout.parse_state_key("aiogram:fsm:state:-100:7"),
            Some(key)
        );
        assert_eq!(layout.parse_state_key("aiogram:fsm:data:-100:7"), None);
        assert_eq!(layout.parse_state_key("other:fsm:state:1:1"), None);
    }
}
