//! `repair-bot`: see the README. The binary only parses the command line,
//! loads the config, installs logging and hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use repair_bot::cli::{self, Cli, Command};
use repair_bot::config::{Config, ConfigError};
use repair_bot::telemetry::{self, Redactor};

/// Keeps glibc malloc's footprint small (docs/BENCHMARKS.md): glibc gives
/// every thread that allocates its own arena (up to 8 per core), so the async
/// runtime's and SQLite's threads would each keep memory in a separate arena,
/// and RSS would grow with no benefit for a bot this size. One arena: nearly
/// all allocation happens on the one runtime thread, and small blocks come
/// from per-thread caches without the arena lock anyway. Must run before any
/// thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only tunes the allocator; called once, single-threaded.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // Fixed thresholds: glibc otherwise raises the mmap threshold after
        // the first large buffer is freed, so later large buffers land in the
        // heap, fragment it and keep the peak resident.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
    // Files the bot creates (database, log, exports) hold clients' phones and
    // addresses: never readable by other users, whatever the shell's umask.
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o027);
    }
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run);
    let config = Config::load();
    if !matches!(command, Command::Run) {
        // Operator tools print their own report and leave the bot's log alone.
        return cli::execute(command, config);
    }
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Ошибка конфигурации / configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let redactor = Redactor::new(cli::secrets_of(&config));
    if let Err(e) = telemetry::init(&config.log_dir, &config.log_level, redactor) {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    // One thread runs every task. The bot's work is I/O (Telegram, Redis) and
    // SQLite, which sqlx runs on its own threads; a second async worker only
    // added wake-ups between the two: on 2 cores the multi-threaded runtime
    // spent ~40% more CPU per update for the same throughput (see
    // docs/BENCHMARKS.md, "Load: what was tried").
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(repair_bot::startup::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        // A setting that does not work (a read-only DATABASE_PATH, a taken
        // HTTP_ADDR): one line naming it, the exit code of a bad setting.
        Err(e) if e.downcast_ref::<ConfigError>().is_some() => {
            tracing::error!("Ошибка конфигурации / configuration error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
