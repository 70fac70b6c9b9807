//! `repair-bot`: see the README. The binary only parses the command line,
//! loads the config, installs logging and hands over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use repair_bot::config::Config;
use repair_bot::telemetry::{self, Redactor};

/// Telegram bot of an appliance-repair service.
///
/// Configuration comes from `.env` in the working directory and from the
/// environment (see `.env.example`).
#[derive(Parser)]
#[command(name = "repair-bot", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot (the default when no subcommand is given).
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Ошибка конфигурации / configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut secrets = vec![config.bot_token.expose().to_string()];
    if let Some(url) = &config.redis_url {
        if let Ok(parsed) = url::Url::parse(url.expose()) {
            if let Some(pw) = parsed.password() {
                secrets.push(pw.to_string());
            }
        }
    }
    if let Some(s) = &config.webhook_secret {
        secrets.push(s.expose().to_string());
    }
    if let Err(e) = telemetry::init(&config.log_dir, &config.log_level, Redactor::new(secrets)) {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Run) {
            Command::Run => repair_bot::startup::run(config).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
