//! How things look: localized texts, labels, order cards, keyboards and the
//! callback-data codec, and the typed command list. No I/O: built from the
//! domain's answers, sent by [`super::output`].

pub mod callbacks;
pub mod cards;
pub mod commands;
pub mod keyboards;
pub mod labels;
pub mod texts;
