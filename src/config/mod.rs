//! Configuration from the `.env` file and the process environment (SPEC §1).
//!
//! Every value is validated once, at start-up, so a typo in `.env` stops the
//! bot with one line naming the variable instead of failing later mid-dialog.

mod rate;
mod schedule;
mod secret;

pub use rate::Rate;
pub use secret::{mask_url_password, Secret};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// Official Bot API endpoint, used when `TELEGRAM_API_URL` is not set.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Default orders database, relative to the working directory.
pub const DEFAULT_DATABASE_PATH: &str = "data/bot_database.db";
/// Key prefix the runbook's `KEYS aiogram:*` check expects.
pub const DEFAULT_FSM_KEY_PREFIX: &str = "aiogram";
/// Default of `USER_RATE_LIMIT`: a person typing, pressing and sending an
/// album never reaches it; a script does.
pub const DEFAULT_USER_RATE_LIMIT: &str = "2/s:4";
/// Default of `STAFF_RATE_LIMIT`: dispatchers click through lists quickly.
pub const DEFAULT_STAFF_RATE_LIMIT: &str = "10/s:30";

fn rate_limit(
    value: Option<String>,
    variable: &'static str,
    default: &str,
) -> Result<Option<Rate>, ConfigError> {
    Rate::parse(value.as_deref().unwrap_or(default))
        .map_err(|problem| ConfigError::new(variable, problem))
}

/// Default of `SHOP_TIMEZONE`: dates are read and shown in this zone.
pub const DEFAULT_SHOP_TIMEZONE: &str = "Europe/Moscow";

/// Default of `OUTBOX_BOT_RATE`: a shade under Telegram's 30 messages a
/// second, one every 34 ms with no burst, so that no sliding second holds
/// more than 30.
pub const DEFAULT_OUTBOX_BOT_RATE: &str = "29/s:1";
/// Default of `OUTBOX_CHAT_RATE`: one a second into a private chat after a
/// burst of 3.
pub const DEFAULT_OUTBOX_CHAT_RATE: &str = "1/s:3";

/// Default of `OUTBOX_KEEP`.
pub const DEFAULT_OUTBOX_KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// Which dialog-state store the bot uses; chosen once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsmBackend {
    /// Lost on restart; only for development (`DEV_MODE=true`).
    Memory,
    /// In the orders SQLite database: persistent with no external service.
    Sqlite,
    /// Redis at `REDIS_URL`: persistent and shared between replicas.
    Redis,
}

impl FsmBackend {
    /// Parses the `FSM_STORAGE` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "memory" => Some(Self::Memory),
            "sqlite" => Some(Self::Sqlite),
            "redis" => Some(Self::Redis),
            _ => None,
        }
    }

    /// Lower-case name as used in `FSM_STORAGE` and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Redis => "redis",
        }
    }
}

/// Validated bot configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bot API token; masked in every `Debug`/`Display`.
    pub bot_token: Secret,
    /// Telegram user ids with the admin role.
    pub admin_ids: Vec<i64>,
    /// Telegram user ids with the dispatcher role (more can be added at runtime).
    pub dispatcher_ids: Vec<i64>,
    /// Redis URL as configured (may contain a password: print it with [`Config::redis_url_masked`]).
    pub redis_url: Option<Secret>,
    /// `DEV_MODE=true`: in-memory dialog state even when Redis is configured.
    pub dev_mode: bool,
    /// SQLite file for orders (and dialog state with the SQLite backend).
    pub database_path: PathBuf,
    /// PostgreSQL URL for orders, when set (scale-out deployments).
    pub database_url: Option<Secret>,
    /// Bot API base URL (a fake server in tests, a local Bot API server in some deployments).
    pub telegram_api_url: Url,
    /// The resolved dialog-state backend.
    pub fsm_backend: FsmBackend,
    /// Prefix of the Redis keys (`<prefix>:fsm:state:<chat>:<user>`).
    pub fsm_key_prefix: String,
    /// Optional expiry of idle dialogs, renewed on every write.
    pub fsm_ttl: Option<Duration>,
    /// Public HTTPS URL for webhook mode; polling when unset.
    pub webhook_url: Option<Url>,
    /// Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook_secret: Option<Secret>,
    /// Address of the HTTP server (webhook, `/healthz`, `/metrics`).
    pub http_addr: Option<SocketAddr>,
    /// Directory of `bot.log`.
    pub log_dir: PathBuf,
    /// Tracing filter, e.g. `info` or `repair_bot=debug,info`.
    pub log_level: String,
    /// How many orders one client may file per hour (0 = unlimited).
    pub max_orders_per_hour: u32,
    /// Fault injection for the crash-proofing tests (`FAULT_PANIC_ON_TEXT`):
    /// a message with exactly this text makes its handler panic, so tests can
    /// prove a panic stays contained. Debug builds only: a release binary
    /// neither reads nor knows the variable.
    #[cfg(debug_assertions)]
    pub fault_panic_text: Option<String>,
    /// Fault injection (`FAULT_SLOW_ON_TEXT`): a message with exactly this
    /// text takes 3 s to handle, so tests can show a slow handler delays no
    /// one else. Debug builds only.
    #[cfg(debug_assertions)]
    pub fault_slow_text: Option<String>,
    /// Flood limit per client (`USER_RATE_LIMIT`, default `2/s:4`; `None` = off).
    pub user_rate_limit: Option<Rate>,
    /// Flood limit per admin, dispatcher or master (`STAFF_RATE_LIMIT`,
    /// default `10/s:30`; `None` = off).
    pub staff_rate_limit: Option<Rate>,
    /// The outbox's pace for the bot as a whole (`OUTBOX_BOT_RATE`, default
    /// `29/s:1`) and per private chat (`OUTBOX_CHAT_RATE`, default `1/s:3`):
    /// Telegram's limits; `0` = none.
    pub outbox_bot_rate: Option<Rate>,
    pub outbox_chat_rate: Option<Rate>,
    /// How long delivered (or given-up) notifications are kept before
    /// housekeeping deletes them (`OUTBOX_KEEP`, default 7 days): they hold
    /// the full texts sent, phones and addresses included.
    pub outbox_keep: Duration,
    /// The shop's time zone (`SHOP_TIMEZONE`, an IANA name, default
    /// `Europe/Moscow`): visit times are read in it, dates are shown in it.
    pub shop_timezone: jiff::tz::TimeZone,
    /// The scheduler's thresholds (`REMIND_*`, `SLA_*`,
    /// `VISIT_REMINDER_BEFORE`, `DAILY_SUMMARY_AT`, `QUIET_HOURS`).
    pub thresholds: crate::domain::schedule::Thresholds,
    /// Where backups go (`BACKUP_DIR`, default `data/backups`).
    pub backup_dir: PathBuf,
    /// How long backups are kept (`BACKUP_KEEP_DAYS`, default 30).
    pub backup_keep: Duration,
    /// How a closed order's net is split (`MONEY_RULES_FILE`, a TOML file;
    /// unset: the shop's rules, shown by `repair-bot rules show`).
    pub split_rules: crate::domain::SplitRules,
    /// Lifetime of a replica's per-user lock between renewals
    /// (`REPLICA_LOCK_TTL`, default 10 s; renewed every third of it).
    pub replica_lock_ttl: Duration,
}

/// A configuration problem, phrased for the operator in one line. Also
/// returned by start-up when a value passes validation but does not work
/// (a read-only `DATABASE_PATH`, a taken `HTTP_ADDR`): the bot then exits
/// with code 2, as for a malformed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl ConfigError {
    /// `variable` is at fault for `problem`.
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

impl Config {
    /// Loads `.env` from the working directory (real environment variables win)
    /// and validates the result.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing .env is normal (Docker passes real env vars); a broken one is not.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError::new(".env", format!("cannot be read: {e}"))),
        }
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars)
    }

    /// Builds the config from a variable map; separate from [`Config::load`] so
    /// tests can check validation without touching the process environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let bot_token = get("BOT_TOKEN").ok_or_else(|| {
            ConfigError::new(
                "BOT_TOKEN",
                "is not set; put the token from @BotFather into .env or the environment",
            )
        })?;
        if !looks_like_token(&bot_token) {
            return Err(ConfigError::new(
                "BOT_TOKEN",
                "does not look like a Bot API token (expected <digits>:<secret>)",
            ));
        }

        let admin_ids = parse_ids("ADMIN_IDS", get("ADMIN_IDS"))?;
        let dispatcher_ids = parse_ids("DISPATCHER_IDS", get("DISPATCHER_IDS"))?;

        let dev_mode = match get("DEV_MODE") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ConfigError::new("DEV_MODE", format!("must be true or false, got {v:?}"))
            })?,
        };

        let redis_url = get("REDIS_URL")
            .map(|raw| validate_redis_url(&raw).map(|_| Secret::new(raw)))
            .transpose()?;

        let explicit_backend = get("FSM_STORAGE")
            .map(|v| {
                FsmBackend::parse(&v).ok_or_else(|| {
                    ConfigError::new(
                        "FSM_STORAGE",
                        format!("must be redis, sqlite or memory, got {v:?}"),
                    )
                })
            })
            .transpose()?;
        let fsm_backend = match explicit_backend {
            Some(FsmBackend::Redis) if redis_url.is_none() => {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "is required when FSM_STORAGE=redis (e.g. redis://localhost:6379/0)",
                ))
            }
            Some(backend) => backend,
            None if dev_mode => FsmBackend::Memory,
            None if redis_url.is_some() => FsmBackend::Redis,
            None => FsmBackend::Sqlite,
        };

        let fsm_key_prefix = get("FSM_KEY_PREFIX").unwrap_or_else(|| DEFAULT_FSM_KEY_PREFIX.into());
        if fsm_key_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::new(
                "FSM_KEY_PREFIX",
                "must not contain spaces",
            ));
        }
        let fsm_ttl = get("FSM_TTL").map(|v| parse_ttl(&v)).transpose()?;

        let telegram_api_url =
            get("TELEGRAM_API_URL").unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.into());
        let telegram_api_url = Url::parse(&telegram_api_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ConfigError::new(
                    "TELEGRAM_API_URL",
                    format!("must be an http(s) URL, got {telegram_api_url:?}"),
                )
            })?;

        let database_url = get("DATABASE_URL")
            .map(|v| {
                if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                    Ok(Secret::new(v))
                } else {
                    Err(ConfigError::new(
                        "DATABASE_URL",
                        "must be a postgres:// URL (leave it unset to use SQLite at DATABASE_PATH)",
                    ))
                }
            })
            .transpose()?;

        let webhook_url = get("WEBHOOK_URL")
            .map(|v| {
                Url::parse(&v)
                    .ok()
                    .filter(|u| u.scheme() == "https" || u.scheme() == "http")
                    .ok_or_else(|| {
                        ConfigError::new("WEBHOOK_URL", format!("must be an https URL, got {v:?}"))
                    })
            })
            .transpose()?;
        let webhook_secret = get("WEBHOOK_SECRET").map(Secret::new);
        if let Some(secret) = &webhook_secret {
            let ok = secret.expose().len() <= 256
                && secret
                    .expose()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(ConfigError::new(
                    "WEBHOOK_SECRET",
                    "may hold only A-Z, a-z, 0-9, _ and - (at most 256 characters), as Telegram requires",
                ));
            }
        }
        if webhook_url.is_some() && webhook_secret.is_none() {
            return Err(ConfigError::new(
                "WEBHOOK_SECRET",
                "is required with WEBHOOK_URL so that forged updates are refused",
            ));
        }
        let http_addr = get("HTTP_ADDR")
            .map(|v| {
                v.parse::<SocketAddr>().map_err(|_| {
                    ConfigError::new(
                        "HTTP_ADDR",
                        format!("must be host:port like 0.0.0.0:8080, got {v:?}"),
                    )
                })
            })
            .transpose()?;
        if webhook_url.is_some() && http_addr.is_none() {
            return Err(ConfigError::new(
                "HTTP_ADDR",
                "is required with WEBHOOK_URL: the address Telegram's requests reach (e.g. 0.0.0.0:8080)",
            ));
        }

        let max_orders_per_hour = match get("MAX_ORDERS_PER_HOUR") {
            None => 5,
            Some(v) => v.parse::<u32>().map_err(|_| {
                ConfigError::new(
                    "MAX_ORDERS_PER_HOUR",
                    format!("must be a whole number, got {v:?}"),
                )
            })?,
        };

        Ok(Self {
            bot_token: Secret::new(bot_token),
            admin_ids,
            dispatcher_ids,
            redis_url,
            dev_mode,
            database_path: get("DATABASE_PATH")
                .unwrap_or_else(|| DEFAULT_DATABASE_PATH.into())
                .into(),
            database_url,
            telegram_api_url,
            fsm_backend,
            fsm_key_prefix,
            fsm_ttl,
            webhook_url,
            webhook_secret,
            http_addr,
            log_dir: get("LOG_DIR").unwrap_or_else(|| "logs".into()).into(),
            log_level: get("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            max_orders_per_hour,
            #[cfg(debug_assertions)]
            fault_panic_text: get("FAULT_PANIC_ON_TEXT"),
            #[cfg(debug_assertions)]
            fault_slow_text: get("FAULT_SLOW_ON_TEXT"),
            replica_lock_ttl: match get("REPLICA_LOCK_TTL") {
                Some(v) => parse_duration("REPLICA_LOCK_TTL", &v)?,
                None => Duration::from_secs(10),
            },
            user_rate_limit: rate_limit(
                get("USER_RATE_LIMIT"),
                "USER_RATE_LIMIT",
                DEFAULT_USER_RATE_LIMIT,
            )?,
            staff_rate_limit: rate_limit(
                get("STAFF_RATE_LIMIT"),
                "STAFF_RATE_LIMIT",
                DEFAULT_STAFF_RATE_LIMIT,
            )?,
            outbox_bot_rate: rate_limit(
                get("OUTBOX_BOT_RATE"),
                "OUTBOX_BOT_RATE",
                DEFAULT_OUTBOX_BOT_RATE,
            )?,
            outbox_chat_rate: rate_limit(
                get("OUTBOX_CHAT_RATE"),
                "OUTBOX_CHAT_RATE",
                DEFAULT_OUTBOX_CHAT_RATE,
            )?,
            outbox_keep: match get("OUTBOX_KEEP") {
                Some(v) => parse_duration("OUTBOX_KEEP", &v)?,
                None => DEFAULT_OUTBOX_KEEP,
            },
            // Empty is meaningful here (no quiet hours, no summary).
            backup_dir: vars
                .get("BACKUP_DIR")
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("data/backups")),
            backup_keep: backup_keep(vars.get("BACKUP_KEEP_DAYS").map(|v| v.trim()))?,
            split_rules: money_rules(vars.get("MONEY_RULES_FILE").map(|v| v.trim()))?,
            thresholds: schedule::thresholds(&|name| vars.get(name).map(|v| v.trim().to_string()))?,
            shop_timezone: {
                let name = get("SHOP_TIMEZONE").unwrap_or_else(|| DEFAULT_SHOP_TIMEZONE.into());
                crate::domain::shop_time_zone(name.trim()).ok_or_else(|| {
                    ConfigError::new(
                        "SHOP_TIMEZONE",
                        format!(
                            "{name:?} is not an IANA time zone name; use e.g. Europe/Moscow, \
                             Asia/Yekaterinburg or Europe/Berlin"
                        ),
                    )
                })?
            },
        })
    }

    /// The Redis URL with its password replaced by `***`, safe for logs.
    pub fn redis_url_masked(&self) -> Option<String> {
        self.redis_url
            .as_ref()
            .map(|u| mask_url_password(u.expose()))
    }
}

fn looks_like_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.chars().all(|c| c.is_ascii_digit())
                && !secret.is_empty()
                && !secret.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn parse_ids(variable: &'static str, raw: Option<String>) -> Result<Vec<i64>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
            ConfigError::new(
                variable,
                format!("{part:?} is not a Telegram user id; expected comma-separated numbers like 123456789,987654321"),
            )
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_ttl(value: &str) -> Result<Duration, ConfigError> {
    parse_duration("FSM_TTL", value)
}

/// Seconds, or a number with `ms`/`s`/`m`/`h`/`d`; zero is refused.
fn parse_duration(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let err = || {
        ConfigError::new(
            variable,
            format!(
                "must be seconds or a number with ms/s/m/h/d (e.g. 86400 or 7d), got {value:?}"
            ),
        )
    };
    let (digits, unit) = match value.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| err())?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86_400),
        _ => return Err(err()),
    };
    if duration.is_zero() {
        return Err(err());
    }
    Ok(duration)
}

fn validate_redis_url(raw: &str) -> Result<(), ConfigError> {
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new(
            "REDIS_URL",
            format!(
                "{} is not a URL ({e}); expected redis://host:6379/0",
                mask_url_password(raw)
            ),
        )
    })?;
    if !matches!(url.scheme(), "redis" | "rediss") || url.host_str().is_none() {
        return Err(ConfigError::new(
            "REDIS_URL",
            format!(
                "{} must look like redis://localhost:6379/0 or redis://:PASSWORD@redis:6379/0",
                mask_url_password(raw)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Reads the split rules from `path` (none or empty: the shop's defaults);
/// a file that is missing, malformed or self-contradictory stops the start.
pub fn money_rules(path: Option<&str>) -> Result<crate::domain::SplitRules, ConfigError> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(crate::domain::SplitRules::default());
    };
    let bad = |problem: String| ConfigError::new("MONEY_RULES_FILE", problem);
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
    let rules: crate::domain::SplitRules =
        toml::from_str(&text).map_err(|e| bad(format!("{path} is not valid rules: {e}")))?;
    rules.validate().map_err(|e| bad(format!("{path}: {e}")))?;
    Ok(rules)
}

/// `BACKUP_KEEP_DAYS`: whole days from 1 to 3650 (empty: 30).
fn backup_keep(days: Option<&str>) -> Result<Duration, ConfigError> {
    let days = match days.filter(|d| !d.is_empty()) {
        None => 30,
        Some(d) => d
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=3650).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "BACKUP_KEEP_DAYS",
                    format!("must be a number of days from 1 to 3650, got {d:?}"),
                )
            })?,
    };
    Ok(Duration::from_secs(days * 86_400))
}
