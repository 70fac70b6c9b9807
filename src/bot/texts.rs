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
