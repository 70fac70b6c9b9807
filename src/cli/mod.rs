//! The command line: `repair-bot [run]` starts the bot, the other
//! subcommands are the operator's tools from the runbook (`check`, `fsm ...`).
//! Every line they print goes through the [`Redactor`], like the logs.

pub mod check;
pub mod fsm;
pub mod rules;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::telemetry::Redactor;

/// Telegram bot of an appliance-repair service.
///
/// Configuration comes from `.env` in the working directory and from the
/// environment (see `.env.example`). Without a subcommand the bot runs.
#[derive(Parser, Debug)]
#[command(name = "repair-bot", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Run the bot (the default when no subcommand is given).
    Run,
    /// Troubleshooting checklist: one ✓/✗ line per check, exit code 1 on any failure.
    ///
    /// Checks: config valid, Bot API reachable (getMe via TELEGRAM_API_URL),
    /// Redis answers PING with version >= 5 and AOF on (when Redis is the
    /// dialog store), database writable (create/write/rollback). A failed
    /// check prints what to fix.
    Check,
    /// Dialog (FSM) store tooling: `fsm stats`, `fsm migrate`.
    #[command(subcommand)]
    Fsm(FsmCommand),
    /// Take a verified backup of the SQLite database now (into BACKUP_DIR),
    /// consistent while the bot runs. PostgreSQL: use pg_dump.
    Backup,
    /// Replace the SQLite database with a backup FILE. Refused while a bot
    /// runs on the database; the replaced file is kept beside it.
    Restore {
        /// The backup to restore.
        file: std::path::PathBuf,
    },
    /// The money split rules: `rules show`.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Bring another bot's data over: `import status-bot --from PATH`.
    #[command(subcommand)]
    Import(ImportCommand),
}

/// `repair-bot import ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum ImportCommand {
    /// Import the database of the Python bot Status_bot (bot_database.db)
    /// into the configured database: people and roles, masters with their
    /// work groups, clients, every order with its money and history.
    /// The file is only read (the old bot may keep running); the import is
    /// one transaction, checked against the source before it commits, and
    /// a second run adds only orders that are new. Exit code 1 when the
    /// figures differ or the file is refused.
    StatusBot {
        /// The Status_bot database file.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Print the same figures without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// The time zone Status_bot wrote its times in (its clock is Moscow
        /// time).
        #[arg(long, default_value = "Europe/Moscow")]
        source_tz: String,
    },
}

/// `repair-bot rules ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum RulesCommand {
    /// Print the split rules in effect as a TOML file (MONEY_RULES_FILE, or
    /// the shop's built-in defaults): a starting point for your own file.
    Show,
}

/// `repair-bot fsm ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum FsmCommand {
    /// Count active dialogs per state (e.g. OrderState:address) in the
    /// configured store, and the total.
    Stats,
    /// Copy every active dialog from one persistent store to the other
    /// (SQLite at DATABASE_PATH, Redis at REDIS_URL), verifying each copy.
    /// Stop the bot first, so no dialog changes during the copy.
    Migrate {
        /// Store to read from.
        #[arg(long, value_enum)]
        from: StoreKind,
        /// Store to write to.
        #[arg(long, value_enum)]
        to: StoreKind,
        /// Remove the dialogs from the source once all copies are verified.
        #[arg(long)]
        delete_source: bool,
    },
}

/// A persistent dialog store the tooling can open.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Table `fsm_state` in the SQLite database at DATABASE_PATH.
    Sqlite,
    /// Keys `<FSM_KEY_PREFIX>:fsm:*` in Redis at REDIS_URL.
    Redis,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Redis => "redis",
        }
    }
}

/// Secrets to scrub from logs and command output: the token, the Redis
/// password, the webhook secret.
pub fn secrets_of(config: &Config) -> Vec<String> {
    let mut secrets = vec![config.bot_token.expose().to_string()];
    for url in [&config.redis_url, &config.database_url]
        .into_iter()
        .flatten()
    {
        if let Ok(parsed) = url::Url::parse(url.expose()) {
            if let Some(pw) = parsed.password() {
                secrets.push(pw.to_string());
            }
        }
    }
    if let Some(s) = &config.webhook_secret {
        secrets.push(s.expose().to_string());
    }
    secrets
}

/// Prints lines to stdout with secrets scrubbed.
#[derive(Clone, Default)]
pub struct Printer {
    redactor: Redactor,
}

impl Printer {
    /// A printer scrubbing `redactor`'s secrets.
    pub fn new(redactor: Redactor) -> Self {
        Self { redactor }
    }

    /// Prints one line.
    pub fn line(&self, text: &str) {
        println!("{}", self.redactor.scrub(text));
    }
}

/// Runs an operator subcommand (not `run`) and turns its outcome into the
/// process exit code.
pub fn execute(command: Command, config: Result<Config, crate::config::ConfigError>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        // `main` starts the bot itself (it owns logging); nothing to do here.
        Command::Run => {
            eprintln!("`run` is started by the binary, not by cli::execute");
            ExitCode::FAILURE
        }
        Command::Check => runtime.block_on(check::run(config)),
        Command::Backup | Command::Restore { .. } => {
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("Ошибка конфигурации / configuration error: {e}");
                    return ExitCode::from(2);
                }
            };
            let outcome = runtime.block_on(async {
                match command {
                    Command::Restore { file } => {
                        anyhow::ensure!(
                            config.database_url.is_none(),
                            "the orders are in PostgreSQL: restore with pg_restore / psql"
                        );
                        let kept = crate::backup::restore(&config.database_path, &file).await?;
                        println!(
                            "✓ restored {} into {}; the replaced database is {}",
                            file.display(),
                            config.database_path.display(),
                            kept.display()
                        );
                    }
                    _ => {
                        let db = crate::startup::open_database(&config).await?;
                        let taken =
                            crate::backup::take(&db, &config.backup_dir, config.backup_keep)
                                .await?;
                        println!(
                            "✓ backup {} ({} bytes, integrity ok); {} old ones deleted",
                            taken.path.display(),
                            taken.bytes,
                            taken.pruned
                        );
                    }
                }
                Ok::<(), anyhow::Error>(())
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("✗ {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Rules(RulesCommand::Show) => {
            let file = std::env::var("MONEY_RULES_FILE").ok();
            match crate::config::money_rules(file.as_deref().map(str::trim)) {
                Ok(rules) => {
                    print!("{}", rules::show(&rules, file.as_deref()));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("Ошибка конфигурации / configuration error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Import(ImportCommand::StatusBot {
            from,
            dry_run,
            source_tz,
        }) => {
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("Ошибка конфигурации / configuration error: {e}");
                    return ExitCode::from(2);
                }
            };
            let Some(tz) = crate::domain::shop_time_zone(&source_tz) else {
                eprintln!("--source-tz {source_tz}: no such time zone (e.g. Europe/Moscow)");
                return ExitCode::from(2);
            };
            let printer = Printer::new(Redactor::new(secrets_of(&config)));
            match runtime.block_on(crate::import::status_bot(
                &config,
                &|line: &str| printer.line(line),
                &from,
                dry_run,
                &tz,
            )) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    printer.line(&format!("✗ {e:#}"));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Fsm(cmd) => {
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("Ошибка конфигурации / configuration error: {e}");
                    return ExitCode::from(2);
                }
            };
            let printer = Printer::new(Redactor::new(secrets_of(&config)));
            let outcome = runtime.block_on(async {
                match cmd {
                    FsmCommand::Stats => fsm::stats(&config, &printer).await,
                    FsmCommand::Migrate {
                        from,
                        to,
                        delete_source,
                    } => fsm::migrate(&config, &printer, from, to, delete_source).await,
                }
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    printer.line(&format!("✗ {e:#}"));
                    ExitCode::FAILURE
                }
            }
        }
    }
}
