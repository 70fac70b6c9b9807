//! Validated user input. Each type can only be built by `parse`, so code that
//! holds a [`Phone`] knows it is a normalised phone number.

use std::fmt;

/// Why a piece of user input was refused; the bot turns it into a localized hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("empty")]
    Empty,
    #[error("too short")]
    TooShort { min: usize },
    #[error("too long")]
    TooLong { max: usize },
    #[error("not a phone number")]
    BadPhone,
    #[error("not a price")]
    BadPrice,
    #[error("no letters")]
    NoLetters,
    #[error("no house number")]
    NoHouseNumber,
    /// Materials cost more than the client paid in total.
    #[error("materials above the total")]
    MaterialsOverTotal,
    /// A prepayment above the agreed price.
    #[error("prepayment above the price")]
    PrepaymentOverPrice,
}

fn clean(raw: &str) -> String {
    // Collapse runs of whitespace and drop control characters: a pasted address
    // with tabs and newlines is still one address.
    raw.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_len(s: &str, min: usize, max: usize) -> Result<(), InputError> {
    let n = s.chars().count();
    if n == 0 {
        Err(InputError::Empty)
    } else if n < min {
        Err(InputError::TooShort { min })
    } else if n > max {
        Err(InputError::TooLong { max })
    } else {
        Ok(())
    }
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, needs_letters = $letters:expr) => {
        text_type!($(#[$doc])* $name, $min, $max, needs_letters = $letters, needs_digit = false);
    };
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, needs_letters = $letters:expr,
     needs_digit = $digit:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Shortest accepted length, in characters.
            pub const MIN: usize = $min;
            /// Longest accepted length, in characters.
            pub const MAX: usize = $max;

            /// Trims, collapses whitespace and checks the length.
            pub fn parse(raw: &str) -> Result<Self, InputError> {
                let s = clean(raw);
                check_len(&s, Self::MIN, Self::MAX)?;
                if $letters && !s.chars().any(char::is_alphabetic) {
                    return Err(InputError::NoLetters);
                }
                if $digit && !s.chars().any(|c| c.is_ascii_digit()) {
                    return Err(InputError::NoHouseNumber);
                }
                Ok(Self(s))
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives the text back, e.g. to store it.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// What is wrong with the appliance, in the client's words.
    Description, 5, 1000, needs_letters = true
);
text_type!(
    /// Where the master has to go: city, street, house, flat. Without a
    /// house number the master cannot find the door.
    Address, 5, 300, needs_letters = true, needs_digit = true
);
text_type!(
    /// What the caller is called, as the dispatcher typed it.
    ClientName, 2, 100, needs_letters = true
);
text_type!(
    /// Preferred visit day / time window, typed by the client.
    VisitTime, 2, 100, needs_letters = false
);
text_type!(
    /// Free text from staff: comments, decline reasons, work done, rating comments.
    PlainText, 1, 1000, needs_letters = false
);

/// A phone number normalised to `+<country><number>`.
///
/// Russian numbers are accepted in every common spelling (`8 999 123-45-67`,
/// `+7 (999) 123 45 67`, `9991234567`) and stored as `+79991234567`, so staff
/// can tap them and duplicates compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// A number Telegram gives for an account (a shared own contact): it is
    /// international but comes without its `+` ("84961234567" is Vietnam,
    /// not a Russian trunk 8); anything else is read as [`Phone::parse`] does.
    pub fn parse_account_number(raw: &str) -> Result<Self, InputError> {
        let raw = raw.trim();
        if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_digit()) {
            return Self::parse(&format!("+{raw}"));
        }
        Self::parse(raw)
    }

    /// Validates and normalises a phone number.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InputError::Empty);
        }
        if raw.chars().count() > 32 {
            return Err(InputError::BadPhone);
        }
        let plus = raw.starts_with('+');
        let mut digits = String::new();
        for (i, c) in raw.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '(' | ')' | '.' | '\u{a0}' => {}
                _ => return Err(InputError::BadPhone),
            }
        }
        let normalised = match (plus, digits.len()) {
            (false, 11) if digits.starts_with('8') || digits.starts_with('7') => {
                format!("+7{}", &digits[1..])
            }
            (false, 10) if digits.starts_with('9') => format!("+7{digits}"),
            (true, 11) if digits.starts_with('7') => format!("+{digits}"),
            (true, 10..=15) if !digits.starts_with('7') && !digits.starts_with('0') => {
                format!("+{digits}")
            }
            _ => return Err(InputError::BadPhone),
        };
        Ok(Self(normalised))
    }

    /// The normalised number, e.g. `+79991234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_phone_spellings_normalise() {
        for raw in [
            "+79991234567",
            "89991234567",
            "8 999 123-45-67",
            "+7 (999) 123 45 67",
            "9991234567",
            "79991234567",
        ] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), "+79991234567", "{raw}");
        }
    }

    #[test]
    fn foreign_numbers_with_plus_are_kept() {
        assert_eq!(
            Phone::parse("+375 29 123 45 67").unwrap().as_str(),
            "+375291234567"
        );
    }

    #[test]
    fn garbage_is_not_a_phone() {
        for raw in [
            "",
            "12345",
            "abc",
            "+7999",
            "8999123456789012",
            "call me",
            "+0123456789",
            "+7999123456",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn description_bounds() {
        assert_eq!(Description::parse("   "), Err(InputError::Empty));
        assert_eq!(
            Description::parse("abc"),
            Err(InputError::TooShort { min: 5 })
        );
        assert_eq!(
            Description::parse(&"x".repeat(10_000)),
            Err(InputError::TooLong { max: 1000 })
        );
        assert_eq!(Description::parse("12345 678"), Err(InputError::NoLetters));
        let d = Description::parse("  Не  отжимает\n\tбельё ").unwrap();
        assert_eq!(d.as_str(), "Не отжимает бельё");
    }

    #[test]
    fn address_needs_letters() {
        assert!(Address::parse("г. Москва, ул. Ленина, д. 15, кв. 42").is_ok());
        assert_eq!(Address::parse("12345"), Err(InputError::NoLetters));
        assert_eq!(Address::parse("ул. Ленина"), Err(InputError::NoHouseNumber));
        assert!(Address::parse("ул. Ленина 5").is_ok());
        assert_eq!(ClientName::parse("7"), Err(InputError::TooShort { min: 2 }));
        assert_eq!(
            ClientName::parse("  Анна   Петровна ").unwrap().as_str(),
            "Анна Петровна"
        );
    }

    #[test]
    fn an_account_number_is_international_without_its_plus() {
        assert_eq!(
            Phone::parse_account_number("79991234567").unwrap().as_str(),
            "+79991234567"
        );
        assert_eq!(
            Phone::parse_account_number("84961234567").unwrap().as_str(),
            "+84961234567",
            "Vietnam, not a Russian trunk 8"
        );
        assert_eq!(
            Phone::parse_account_number("+7 999 123-45-67")
                .unwrap()
                .as_str(),
            "+79991234567"
        );
    }
}
