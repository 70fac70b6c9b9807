//! `repair-bot check`: the runbook's troubleshooting steps as one command.
//! Each check prints `✓ name: detail` or `✗ name: problem — fix`; the exit
//! code is non-zero when any check failed.

use std::process::ExitCode;
use std::time::Duration;

use teloxide::prelude::*;

use super::{secrets_of, Printer};
use crate::config::{Config, ConfigError, FsmBackend};
use crate::fsm::redis::RedisStorage;
use crate::fsm::FsmStorage;
use crate::telemetry::Redactor;

/// Oldest Redis major version the runbook supports.
pub const MIN_REDIS_MAJOR: u32 = 5;
/// How long one network check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Collects check results and prints them as they come.
struct Report {
    printer: Printer,
    failed: usize,
}

impl Report {
    fn ok(&self, name: &str, detail: &str) {
        self.printer.line(&format!("✓ {name}: {detail}"));
    }

    fn fail(&mut self, name: &str, problem: &str, fix: &str) {
        self.failed += 1;
        self.printer.line(&format!("✗ {name}: {problem} — {fix}"));
    }
}

/// Runs every check; `config` is the result of loading the configuration.
pub async fn run(config: Result<Config, ConfigError>) -> ExitCode {
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            let mut report = Report {
                printer: Printer::default(),
                failed: 0,
            };
            report.fail(
                "Конфигурация / config",
                &e.to_string(),
                "исправьте .env или переменные окружения (образец: .env.example)",
            );
            report.printer.line("Итог / result: 1 проверка не пройдена");
            return ExitCode::FAILURE;
        }
    };
    let mut report = Report {
        printer: Printer::new(Redactor::new(secrets_of(&config))),
        failed: 0,
    };
    let mode = if config.webhook_url.is_some() {
        "webhook"
    } else {
        "polling"
    };
    report.ok(
        "Конфигурация / config",
        &format!(
            "ok (FSM store: {}, database: {}, updates: {mode})",
            config.fsm_backend.as_str(),
            config.database_path.display()
        ),
    );

    check_bot_api(&config, &mut report).await;
    match config.fsm_backend {
        FsmBackend::Redis => check_redis(&config, &mut report).await,
        FsmBackend::Sqlite => report.ok(
            "Хранилище диалогов / FSM store",
            "SQLite (table fsm_state in DATABASE_PATH, checked below)",
        ),
        FsmBackend::Memory => report.ok(
            "Хранилище диалогов / FSM store",
            "memory (DEV_MODE=true): dialogs are lost on restart; set DEV_MODE=false for production",
        ),
    }
    check_database(&config, &mut report).await;

    if report.failed == 0 {
        report
            .printer
            .line("Итог / result: все проверки пройдены / all checks passed");
        ExitCode::SUCCESS
    } else {
        report.printer.line(&format!(
            "Итог / result: не пройдено проверок / failed checks: {}",
            report.failed
        ));
        ExitCode::FAILURE
    }
}

async fn check_bot_api(config: &Config, report: &mut Report) {
    let name = "Bot API";
    let url = &config.telegram_api_url;
    let bot = Bot::new(config.bot_token.expose()).set_api_url(url.clone());
    match tokio::time::timeout(CHECK_TIMEOUT, bot.get_me().send()).await {
        Ok(Ok(me)) => report.ok(name, &format!("getMe ok, @{} via {url}", me.username())),
        Ok(Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken))) => report.fail(
            name,
            &format!("Telegram rejected the token (Unauthorized) at {url}"),
            "проверьте BOT_TOKEN (получите заново у @BotFather)",
        ),
        Ok(Err(e)) => report.fail(
            name,
            &format!("{e} at {url}"),
            "проверьте сеть, DNS, прокси и TELEGRAM_API_URL (по умолчанию https://api.telegram.org)",
        ),
        Err(_) => report.fail(
            name,
            &format!("no answer within {}s at {url}", CHECK_TIMEOUT.as_secs()),
            "проверьте сеть, прокси и TELEGRAM_API_URL",
        ),
    }
}

async fn check_redis(config: &Config, report: &mut Report) {
    let Some(url) = &config.redis_url else {
        report.fail(
            "Redis",
            "REDIS_URL is not set",
            "задайте REDIS_URL или DEV_MODE=true",
        );
        return;
    };
    let masked = url.masked();
    let fix = "запустите Redis (redis-cli ping, docker compose ps) / проверьте REDIS_URL (хост, порт, пароль) / DEV_MODE=true";
    let connected = tokio::time::timeout(CHECK_TIMEOUT, async {
        let store =
            RedisStorage::connect(url.expose(), &config.fsm_key_prefix, config.fsm_ttl).await?;
        store.ping().await?;
        Ok::<_, crate::fsm::StorageError>(store)
    })
    .await;
    let store = match connected {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => {
            report.fail("Redis", &format!("{e} at {masked}"), fix);
            return;
        }
        Err(_) => {
            report.fail(
                "Redis",
                &format!("no answer within {}s at {masked}", CHECK_TIMEOUT.as_secs()),
                fix,
            );
            return;
        }
    };
    report.ok("Redis", &format!("PING ok at {masked}"));
    match store.server_facts().await {
        Ok((version, aof)) => {
            let major = version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            match major {
                Some(m) if m >= MIN_REDIS_MAJOR => report.ok(
                    "Redis version",
                    &format!("{version} (>= {MIN_REDIS_MAJOR}.0)"),
                ),
                _ => report.fail(
                    "Redis version",
                    &format!("{version:?} is older than {MIN_REDIS_MAJOR}.0 or unknown"),
                    "обновите Redis (образ redis:7-alpine)",
                ),
            }
            if aof {
                report.ok(
                    "Redis AOF",
                    "appendonly yes: dialogs survive a Redis restart",
                );
            } else {
                report.fail(
                    "Redis AOF",
                    "appendonly is off: dialogs are lost when Redis restarts",
                    "запустите redis-server --appendonly yes (или CONFIG SET appendonly yes и CONFIG REWRITE)",
                );
            }
        }
        Err(e) => report.fail(
            "Redis INFO",
            &format!("{e} at {masked}"),
            "разрешите команду INFO для пользователя бота",
        ),
    }
    store.close().await;
}

async fn check_database(config: &Config, report: &mut Report) {
    let name = "База данных / database";
    let (place, fix) = match &config.database_url {
        Some(url) => (
            url.masked(),
            "проверьте DATABASE_URL (хост, порт, пользователь, база), запущен ли PostgreSQL (pg_isready)",
        ),
        None => (
            config.database_path.display().to_string(),
            "проверьте DATABASE_PATH, права на каталог (том data в Docker) и свободное место",
        ),
    };
    let db = match tokio::time::timeout(CHECK_TIMEOUT, crate::startup::open_database(config)).await
    {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            report.fail(name, &format!("{e:#} ({place})"), fix);
            return;
        }
        Err(_) => {
            report.fail(
                name,
                &format!("no answer within {}s ({place})", CHECK_TIMEOUT.as_secs()),
                fix,
            );
            return;
        }
    };
    match db.probe_write().await {
        Ok(()) => report.ok(name, &format!("{place} writable (create/write/rollback)")),
        Err(e) => report.fail(name, &format!("{e} ({place})"), fix),
    }
    check_scheduler(config, &db, report).await;
    db.close().await;
}

/// The scheduler's settings and its backlog: a late job means no replica
/// has been firing them (the bot down, or the outbox lease stuck).
async fn check_scheduler(config: &Config, db: &crate::db::Database, report: &mut Report) {
    let name = "Планировщик / scheduler";
    let th = &config.thresholds;
    let secs = |d: std::time::Duration| format!("{}s", d.as_secs());
    let quiet = th
        .quiet
        .map(|q| format!("{}-{}", q.from.strftime("%H:%M"), q.to.strftime("%H:%M")))
        .unwrap_or_else(|| "none".into());
    let summary = th
        .summary_at
        .map(|t| t.strftime("%H:%M").to_string())
        .unwrap_or_else(|| "off".into());
    let settings = format!(
        "reminders after {} / {} (repeat {}, max {}), SLA {}/{}/{}/{}, visit {} before, summary {summary}, quiet hours {quiet}",
        secs(th.unassigned_after),
        secs(th.unaccepted_after),
        secs(th.repeat),
        th.max_reminders,
        secs(th.sla_new),
        secs(th.sla_assigned),
        secs(th.sla_accepted),
        secs(th.sla_on_site),
        secs(th.visit_before),
    );
    match db.job_backlog(crate::db::now_ms()).await {
        Ok(b) if b.late == 0 => report.ok(name, &format!("{} pending, none late; {settings}", b.pending)),
        Ok(b) => report.fail(
            name,
            &format!("{} of {} pending jobs are over a minute late", b.late, b.pending),
            "запустите бота (поздние напоминания уйдут при старте); при нескольких репликах проверьте Redis (аренда outbox)",
        ),
        Err(e) => report.fail(name, &e.to_string(), "проверьте базу данных"),
    }
}
