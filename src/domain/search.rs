//! What a dispatcher types into `/search`: an order number, a phone number
//! in any spelling, or a piece of an address or a name. Pure: the query is
//! parsed once, and [`SearchQuery::matches`] says whether an order fits.

use super::Phone;

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// `12`, `№12`, `#12`: one order. Five or six bare digits are also
    /// looked for in phone numbers ("234567", the end of a number).
    OrderNumber(i64),
    /// A whole phone number, normalised like stored ones (`+79991234567`).
    Phone(String),
    /// Five to nine digits: a part of a phone number.
    PhoneDigits(String),
    /// Anything else of three letters or more, lower-cased: a piece of an
    /// address or of the client's name.
    Text(String),
}

/// From this number on, a bare number is looked for in phones too ("234567",
/// the end of a number); below it, it is only an order number.
const PHONE_PART_FROM: i64 = 10_000;

/// The shortest text worth searching for.
pub const MIN_TEXT: usize = 3;

impl SearchQuery {
    /// Reads what was typed; `None` when there is nothing to search for.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let number = raw.trim_start_matches(['№', '#']).trim();
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let phone_like = raw
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()\u{a0}.".contains(c));
        if number.len() <= 6 && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
            return number
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .map(Self::OrderNumber);
        }
        if phone_like && digits.len() >= 10 {
            if let Ok(phone) = Phone::parse(raw) {
                return Some(Self::Phone(phone.as_str().to_string()));
            }
            // A landline without its country code ("4951234567"), or any
            // other spelling the parser refuses: its digits.
            return Some(Self::PhoneDigits(digits));
        }
        if phone_like && (5..10).contains(&digits.len()) {
            return Some(Self::PhoneDigits(digits));
        }
        let text = raw.to_lowercase().replace('ё', "е");
        (text.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_TEXT)
            .then_some(Self::Text(text))
    }

    /// The one order the query names, when nothing else can fit: the order
    /// is then looked up by its number instead of matched among all.
    pub fn only_order(&self) -> Option<i64> {
        match self {
            Self::OrderNumber(n) if *n < PHONE_PART_FROM => Some(*n),
            _ => None,
        }
    }

    /// Whether an order with these fields fits the query. `numbers` are
    /// the order's number and, for an imported order, the number it had in
    /// the old bot (clients quote either).
    pub fn matches(&self, numbers: &[i64], phone: &str, address: &str, client_name: &str) -> bool {
        match self {
            Self::OrderNumber(n) => {
                numbers.contains(n)
                    || (*n >= PHONE_PART_FROM && digits_of(phone).contains(&n.to_string()))
            }
            Self::Phone(p) => phone == p,
            Self::PhoneDigits(d) => {
                let stored = digits_of(phone);
                // A Russian number typed with its trunk 8 is stored with 7.
                stored.contains(d.as_str())
                    || d.strip_prefix('8')
                        .is_some_and(|rest| stored.contains(&format!("7{rest}")))
            }
            // Every word typed, in any order, somewhere in the address or
            // the name: "ленина 15" finds "ул. Ленина, д. 15".
            Self::Text(t) => {
                let haystack = format!("{address} {client_name}")
                    .to_lowercase()
                    .replace('ё', "е");
                t.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .all(|w| haystack.contains(w))
            }
        }
    }
}

fn digits_of(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_decides_the_key() {
        use SearchQuery as Q;
        for (typed, query) in [
            ("12", Some(Q::OrderNumber(12))),
            ("№12", Some(Q::OrderNumber(12))),
            ("#7", Some(Q::OrderNumber(7))),
            ("+7 999 123-45-67", Some(Q::Phone("+79991234567".into()))),
            ("89991234567", Some(Q::Phone("+79991234567".into()))),
            ("8 (999) 123 45 67", Some(Q::Phone("+79991234567".into()))),
            ("+79991234567", Some(Q::Phone("+79991234567".into()))),
            ("123-45-67", Some(Q::PhoneDigits("1234567".into()))),
            ("Ленина", Some(Q::Text("ленина".into()))),
            ("  ул. Ленина, 15 ", Some(Q::Text("ул. ленина, 15".into()))),
            ("Ёлкин", Some(Q::Text("елкин".into()))),
            ("ул", None),
            ("", None),
            ("0", None),
        ] {
            assert_eq!(SearchQuery::parse(typed), query, "{typed:?}");
        }
    }

    #[test]
    fn an_order_matches_by_each_key() {
        let fits = |typed: &str| {
            SearchQuery::parse(typed).unwrap().matches(
                &[15, 7],
                "+79991234567",
                "г. Москва, ул. Лёни Голикова, д. 3",
                "Пётр",
            )
        };
        for hit in [
            "15",
            "№7",
            "234567",
            "8999123",
            "9991234567",
            "8 999 123 45 67",
            "1234567",
            "москва",
            "лени голикова",
            "пётр",
            "ПЁТР",
        ] {
            assert!(fits(hit), "{hit}");
        }
        for miss in [
            "16",
            "+79991230000",
            "7654321",
            "Тверь",
            "Иван",
            "голикова 4",
        ] {
            assert!(!fits(miss), "{miss}");
        }
    }
}
