//! Stored codes of the domain's enums (`in_progress`, `washing_machine`,
//! `start_work`...): one rule for all of them, written by the `strum`
//! derives on each enum, so a code cannot drift between the database, the
//! callback data and the dialog store.

use std::str::FromStr;

/// An enum whose variants have a stable, language-neutral code.
///
/// Implemented for every enum that derives `strum::IntoStaticStr` and
/// `strum::EnumString`; untrusted text parses with [`Code::from_code`].
pub trait Code: Sized + Copy {
    /// The stored code of this value.
    fn code(self) -> &'static str;
    /// Parses a stored or untrusted code; `None` for anything else.
    fn from_code(code: &str) -> Option<Self>;
}

impl<T> Code for T
where
    T: Copy + FromStr + Into<&'static str>,
{
    fn code(self) -> &'static str {
        self.into()
    }

    fn from_code(code: &str) -> Option<Self> {
        code.parse().ok()
    }
}
