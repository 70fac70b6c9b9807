//! Localized texts from `locales/*.toml`, compiled into the binary.
//! Russian is the default; users whose Telegram language is English get English.

use std::collections::HashMap;
use std::fmt::Display;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    /// Picks the language from Telegram's `language_code` (`en`, `en-GB` → English).
    pub fn from_code(code: Option<&str>) -> Self {
        match code {
            Some(c) if c.to_ascii_lowercase().starts_with("en") => Self::En,
            _ => Self::Ru,
        }
    }

    /// Stored code (`ru` / `en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

/// Every text of every language.
pub struct Texts {
    ru: HashMap<String, String>,
    en: HashMap<String, String>,
}

const RU: &str = include_str!("../../locales/ru.toml");
const EN: &str = include_str!("../../locales/en.toml");

impl Texts {
    /// Parses the embedded locale files. They are part of the binary and
    /// checked by tests, so a parse failure here is a build defect.
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            ru: toml::from_str(RU).map_err(|e| anyhow::anyhow!("locales/ru.toml: {e}"))?,
            en: toml::from_str(EN).map_err(|e| anyhow::anyhow!("locales/en.toml: {e}"))?,
        })
    }

    /// The text `key` in `lang`, falling back to Russian, then to the key itself
    /// (a missing text shows up as its key instead of crashing a handler).
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let primary = match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        };
        primary
            .get(key)
            .or_else(|| self.ru.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The text `key` with `{name}` placeholders filled in.
    pub fn fmt(&self, lang: Lang, key: &str, args: &[(&str, &(dyn Display + Sync))]) -> String {
        let mut text = self.get(lang, key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }

    #[cfg(test)]
    fn keys(&self, lang: Lang) -> std::collections::BTreeSet<&String> {
        match lang {
            Lang::Ru => self.ru.keys().collect(),
            Lang::En => self.en.keys().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_keys() {
        let t = Texts::load().unwrap();
        assert_eq!(t.keys(Lang::Ru), t.keys(Lang::En));
    }

    #[test]
    fn language_choice_and_placeholders() {
        let t = Texts::load().unwrap();
        assert_eq!(Lang::from_code(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_code(Some("uk")), Lang::Ru);
        assert_eq!(Lang::from_code(None), Lang::Ru);
        assert!(t
            .fmt(Lang::Ru, "order_created", &[("id", &17)])
            .contains("№17"));
        assert!(t
            .fmt(Lang::En, "order_created", &[("id", &17)])
            .contains("#17"));
        assert_eq!(t.get(Lang::En, "no_such_key"), "no_such_key");
    }
}

/// Telegram's limit on one message's text, in UTF-16 code units.
pub const MESSAGE_LIMIT: usize = 4096;

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits `text` into messages within [`MESSAGE_LIMIT`], at line breaks
/// where possible (a line longer than a message is cut between characters).
pub fn split_for_telegram(text: &str) -> Vec<String> {
    if utf16_len(text) <= MESSAGE_LIMIT {
        return vec![text.to_string()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let line_len = utf16_len(line);
        if current_len + line_len > MESSAGE_LIMIT && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if line_len <= MESSAGE_LIMIT {
            current.push_str(line);
            current_len += line_len;
            continue;
        }
        for ch in line.chars() {
            if current_len + ch.len_utf16() > MESSAGE_LIMIT {
                parts.push(std::mem::take(&mut current));
                current_len = 0;
            }
            current.push(ch);
            current_len += ch.len_utf16();
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

/// `text` cut to [`MESSAGE_LIMIT`] with a trailing ellipsis, for messages
/// that must stay one message (an outbox notification is one row).
pub fn truncate_for_telegram(text: &str) -> String {
    if utf16_len(text) <= MESSAGE_LIMIT {
        return text.to_string();
    }
    let mut out = String::new();
    let mut len = 0;
    for ch in text.chars() {
        if len + ch.len_utf16() > MESSAGE_LIMIT - 1 {
            break;
        }
        out.push(ch);
        len += ch.len_utf16();
    }
    out.push('…');
    out
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn long_texts_are_split_within_the_limit_and_lose_nothing() {
        let line = "Комментарий мастера: заменил ТЭН, проверил слив 🚿\n";
        let text = line.repeat(300);
        let parts = split_for_telegram(&text);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| utf16_len(p) <= MESSAGE_LIMIT));
        assert_eq!(parts.concat(), text, "nothing lost, nothing added");
        let one_line = "я".repeat(MESSAGE_LIMIT * 2 + 5);
        let parts = split_for_telegram(&one_line);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), one_line);
        assert_eq!(split_for_telegram("short"), vec!["short".to_string()]);
    }

    #[test]
    fn truncation_keeps_one_message() {
        let text = "🚿".repeat(MESSAGE_LIMIT);
        let cut = truncate_for_telegram(&text);
        assert!(utf16_len(&cut) <= MESSAGE_LIMIT);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_for_telegram("ok"), "ok");
    }
}
