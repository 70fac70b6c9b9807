//! The bot's commands as one typed list (teloxide's `BotCommands` derive
//! parses them and lists them), each with the permission it needs, and the
//! menu Telegram shows next to the input field.

use teloxide::types::BotCommand;
use teloxide::utils::command::{BotCommands, ParseError};

use super::texts::{Lang, Texts};
use crate::domain::Permission;

/// Every command. Arguments are kept as typed; each handler parses its own.
#[derive(BotCommands, strum::IntoStaticStr, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Command {
    /// Greeting and what this person can do (a deep-link payload is ignored).
    Start(String),
    /// File a repair order.
    CreateOrder,
    /// Staff: take a caller's order at the desk.
    NewOrder,
    /// Admin, in a group: bind it to a master as their work group.
    BindMaster(String),
    /// Admin, in a group: unbind it.
    UnbindMaster,
    /// Staff: a master's profile.
    Master(String),
    /// A master's own figures.
    MyStats,
    /// The client's own orders.
    MyOrders,
    /// Leave the dialog in progress.
    Cancel,
    /// Help for this person's role.
    Help,
    /// Staff: the order board, optionally one status.
    Orders(String),
    /// Staff: one order's card.
    Order(String),
    /// Staff: find orders by number, phone, address or name.
    Search(String),
    /// Staff: an order's full history.
    History(String),
    /// Staff: `/add_master <id> [name]`.
    AddMaster(String),
    /// Admins: `/add_dispatcher <id> [name]`.
    AddDispatcher(String),
    /// Staff: `/remove_master <id>`.
    RemoveMaster(String),
    /// Admins: `/remove_dispatcher <id>`.
    RemoveDispatcher(String),
    /// Staff: the list of masters.
    Masters,
    /// Masters: their open jobs.
    MyJobs,
    /// Admins: statistics, `/stats [week|month|N days]`.
    Stats(String),
    /// Admins: CSV of orders, `/export [from [to]]`.
    Export(String),
    /// Excel reports: staff the shop's, a master their own.
    Reports,
}

/// The commands in Telegram's menu (everybody's), in menu order. Staff
/// commands are in the staff help text instead.
const MENU: [&str; 5] = ["start", "create_order", "my_orders", "cancel", "help"];

impl Command {
    /// Parses a command already split by [`crate::bot::incoming::parse_text`]
    /// (`name` lower-cased, without `/` and `@bot`); `None` for an unknown one.
    /// A command that takes no arguments ignores any that were typed.
    pub fn from_parts(name: &str, args: &str) -> Option<Self> {
        let with_args = if args.is_empty() {
            format!("/{name}")
        } else {
            format!("/{name} {args}")
        };
        match Self::parse(&with_args, "") {
            Ok(cmd) => Some(cmd),
            Err(ParseError::TooManyArguments { .. }) => Self::parse(&format!("/{name}"), "").ok(),
            Err(_) => None,
        }
    }

    /// What the command needs; the router checks it for every update.
    pub fn permission(&self) -> Permission {
        match self {
            Self::Start(_) | Self::CreateOrder | Self::MyOrders | Self::Cancel | Self::Help => {
                Permission::FileOrders
            }
            Self::Orders(_)
            | Self::Order(_)
            | Self::Search(_)
            | Self::History(_)
            | Self::Masters => Permission::OrderBoard,
            Self::NewOrder => Permission::TakeCalls,
            Self::BindMaster(_) | Self::UnbindMaster => Permission::BindGroups,
            Self::Master(_) => Permission::ManageMasters,
            Self::MyStats => Permission::OwnJobs,
            Self::AddMaster(_) | Self::RemoveMaster(_) => Permission::ManageMasters,
            Self::AddDispatcher(_) | Self::RemoveDispatcher(_) => Permission::ManageDispatchers,
            Self::MyJobs => Permission::OwnJobs,
            Self::Stats(_) => Permission::Stats,
            Self::Export(_) => Permission::Export,
            Self::Reports => Permission::OwnJobs,
        }
    }

    /// The command's name as typed, for logs (the same snake_case rename
    /// as the parser's).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// The menu of everybody's commands in `lang`, descriptions from the locale
/// files (`cmd_<name>`), for `setMyCommands`.
pub fn menu(texts: &Texts, lang: Lang) -> Vec<BotCommand> {
    MENU.into_iter()
        .map(|c| BotCommand::new(c, texts.get(lang, &format!("cmd_{c}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_and_without_arguments() {
        assert_eq!(
            Command::from_parts("add_master", "42 Пётр"),
            Some(Command::AddMaster("42 Пётр".into()))
        );
        assert_eq!(
            Command::from_parts("orders", ""),
            Some(Command::Orders(String::new()))
        );
        assert_eq!(
            Command::from_parts("start", "ref123"),
            Some(Command::Start("ref123".into()))
        );
        assert_eq!(Command::from_parts("help", "me"), Some(Command::Help));
        assert_eq!(Command::from_parts("my_jobs", ""), Some(Command::MyJobs));
        assert_eq!(Command::from_parts("rm_rf", ""), None);
        assert_eq!(
            Command::AddDispatcher(String::new()).name(),
            "add_dispatcher"
        );
        // With its arguments too (the log of a refused /add_dispatcher 777 ...).
        assert_eq!(
            Command::AddDispatcher("777 Хакер".into()).name(),
            "add_dispatcher"
        );
        // Every command's name is the one it parses from.
        for c in Command::bot_commands() {
            let name = c.command.trim_start_matches('/');
            assert_eq!(Command::from_parts(name, "").map(|c| c.name()), Some(name));
        }
    }

    #[test]
    fn the_menu_holds_everybodys_commands_with_texts() {
        let texts = Texts::load().unwrap();
        for lang in [Lang::Ru, Lang::En] {
            for item in menu(&texts, lang) {
                let cmd = Command::from_parts(&item.command, "").expect("a real command");
                assert_eq!(cmd.permission(), Permission::FileOrders, "{}", item.command);
                assert_ne!(item.description, format!("cmd_{}", item.command));
            }
        }
        // Every command of the enum is listed by the derive (and so in /help's source).
        assert_eq!(Command::bot_commands().len(), 23);
        assert_eq!(
            Command::from_parts("search", "8 999 123-45-67"),
            Some(Command::Search("8 999 123-45-67".into()))
        );
    }
}
