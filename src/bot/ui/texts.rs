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

/// One text, split once at load into literal runs and `{name}` placeholders,
/// so that filling it in is a single pass: a value is never searched for
/// placeholders itself (a client's description containing `{phone}` stays
/// exactly as typed).
struct Template {
    raw: String,
    parts: Vec<Part>,
}

enum Part {
    Literal(std::ops::Range<usize>),
    Slot(std::ops::Range<usize>),
}

impl Template {
    /// Splits `raw` at `{name}` placeholders (`name`: letters, digits, `_`);
    /// a brace that does not open one is literal text.
    fn parse(raw: String) -> Self {
        let mut parts = Vec::new();
        let bytes = raw.as_bytes();
        let (mut literal_from, mut i) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'{' {
                let name_len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let close = i + 1 + name_len;
                if name_len > 0 && bytes.get(close) == Some(&b'}') {
                    if literal_from < i {
                        parts.push(Part::Literal(literal_from..i));
                    }
                    parts.push(Part::Slot(i + 1..close));
                    i = close + 1;
                    literal_from = i;
                    continue;
                }
            }
            i += 1;
        }
        if literal_from < raw.len() {
            parts.push(Part::Literal(literal_from..raw.len()));
        }
        Self { raw, parts }
    }

    /// The placeholder names, in order of appearance.
    #[cfg(test)]
    fn slots(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Slot(r) => Some(&self.raw[r.clone()]),
            Part::Literal(_) => None,
        })
    }

    /// Fills the placeholders from `args` in one pass; a placeholder without
    /// an argument stays as written (visible in the text, never a crash).
    fn fill(&self, args: &[(&str, &(dyn Display + Sync))]) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(self.raw.len() + 64);
        for part in &self.parts {
            match part {
                Part::Literal(r) => out.push_str(&self.raw[r.clone()]),
                Part::Slot(r) => {
                    let name = &self.raw[r.clone()];
                    match args.iter().find(|(n, _)| *n == name) {
                        // Writing to a String cannot fail.
                        Some((_, value)) => {
                            let _ = write!(out, "{value}");
                        }
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                }
            }
        }
        out
    }
}

type Locale = HashMap<String, Template>;

fn parse_locale(file: &str, text: &str) -> anyhow::Result<Locale> {
    let raw: HashMap<String, String> =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| (k, Template::parse(v)))
        .collect())
}

/// Every text of every language, and the shop's time zone that dates are
/// written in.
pub struct Texts {
    ru: Locale,
    en: Locale,
    time_zone: jiff::tz::TimeZone,
}

const RU: &str = include_str!("../../../locales/ru.toml");
const EN: &str = include_str!("../../../locales/en.toml");

impl Texts {
    /// Parses the embedded locale files. They are part of the binary and
    /// checked by tests, so a parse failure here is a build defect.
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            ru: parse_locale("locales/ru.toml", RU)?,
            en: parse_locale("locales/en.toml", EN)?,
            time_zone: crate::domain::shop_time_zone(crate::config::DEFAULT_SHOP_TIMEZONE)
                .unwrap_or(jiff::tz::TimeZone::UTC),
        })
    }

    /// The same texts, writing dates in `tz` (`SHOP_TIMEZONE`).
    pub fn in_time_zone(mut self, tz: jiff::tz::TimeZone) -> Self {
        self.time_zone = tz;
        self
    }

    /// The shop's time zone.
    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.time_zone
    }

    fn template(&self, lang: Lang, key: &str) -> Option<&Template> {
        let primary = match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        };
        primary.get(key).or_else(|| self.ru.get(key))
    }

    /// The text `key` in `lang`, falling back to Russian, then to the key itself
    /// (a missing text shows up as its key instead of crashing a handler).
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.template(lang, key)
            .map(|t| t.raw.as_str())
            .unwrap_or(key)
    }

    /// The text `key` with its `{name}` placeholders filled from `args`, in
    /// one pass (see [`Template`]).
    pub fn fmt(&self, lang: Lang, key: &str, args: &[(&str, &(dyn Display + Sync))]) -> String {
        match self.template(lang, key) {
            Some(t) => t.fill(args),
            None => key.to_string(),
        }
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

    #[test]
    fn both_locales_use_the_same_placeholders() {
        let t = Texts::load().unwrap();
        for key in t.keys(Lang::Ru) {
            let names = |l: &Locale| {
                let mut v: Vec<String> = l[key].slots().map(str::to_string).collect();
                v.sort();
                v
            };
            assert_eq!(names(&t.ru), names(&t.en), "placeholders of {key}");
        }
    }

    #[test]
    fn user_input_with_placeholder_names_is_kept_as_typed() {
        let t = Texts::load().unwrap();
        let mut every: Vec<String> =
            t.ru.values()
                .chain(t.en.values())
                .flat_map(|tpl| tpl.slots().map(|s| format!("{{{s}}}")).collect::<Vec<_>>())
                .collect();
        every.sort();
        every.dedup();
        let typed = format!("не греет {} {{}} {{ {{id", every.join(" "));
        for lang in [Lang::Ru, Lang::En] {
            for key in t.keys(lang) {
                let tpl = &t.template(lang, key).unwrap();
                let args: Vec<(&str, &(dyn Display + Sync))> =
                    tpl.slots().map(|name| (name, &typed as _)).collect();
                let filled = t.fmt(lang, key, &args);
                let expected: String = tpl
                    .parts
                    .iter()
                    .map(|p| match p {
                        Part::Literal(r) => tpl.raw[r.clone()].to_string(),
                        Part::Slot(_) => typed.clone(),
                    })
                    .collect();
                assert_eq!(
                    filled, expected,
                    "{key}: every value appears exactly as typed"
                );
            }
        }
        let card = t.fmt(
            Lang::Ru,
            "staff_new_order",
            &[
                ("description", &"звоните на {phone}, id {client_id}"),
                ("phone", &"+79001234567"),
                ("client_id", &42),
            ],
        );
        assert!(
            card.contains("звоните на {phone}, id {client_id}"),
            "{card}"
        );
    }

    #[test]
    fn templates_split_at_placeholders_only() {
        let t = Template::parse("a {x} {not closed {y}} {} {_z1}".into());
        let names: Vec<&str> = t.slots().collect();
        assert_eq!(names, ["x", "y", "_z1"]);
        assert_eq!(
            t.fill(&[("x", &1), ("y", &"{x}"), ("_z1", &"")]),
            "a 1 {not closed {x}} {} "
        );
        assert_eq!(t.fill(&[]), "a {x} {not closed {y}} {} {_z1}");
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
    truncate_to(text, MESSAGE_LIMIT)
}

/// Telegram's limit on a file's caption, in UTF-16 code units.
const CAPTION_LIMIT: usize = 1024;

/// [`truncate_for_telegram`] for a caption.
pub fn truncate_caption(text: &str) -> String {
    truncate_to(text, CAPTION_LIMIT)
}

/// `text` cut to `limit` UTF-16 code units, an ellipsis marking the cut.
fn truncate_to(text: &str, limit: usize) -> String {
    if utf16_len(text) <= limit {
        return text.to_string();
    }
    let mut out = String::new();
    let mut len = 0;
    for ch in text.chars() {
        if len + ch.len_utf16() > limit - 1 {
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
