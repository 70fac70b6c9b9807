//! Builds every part from the [`Config`] and runs the bot until SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use crate::bot::ui::commands;
use crate::bot::ui::texts::{Lang, Texts};
use crate::bot::{self, BotContext};
use crate::config::{Config, FsmBackend};
use crate::db::Database;
use crate::fsm::{
    memory::MemoryStorage, metered::MeteredStorage, redis::RedisStorage, sqlite::SqliteStorage,
    SharedFsm,
};
use crate::retry::{self, Retryable};
use crate::server::{self, webhook::UserQueues, AppState, UpdatesMode};

/// How long in-flight updates may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long start-up keeps trying to reach Redis before giving up.
pub const REDIS_CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Opens the orders database named by the config: PostgreSQL when
/// `DATABASE_URL` is set, otherwise SQLite at `DATABASE_PATH`. Logs which.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    match &config.database_url {
        Some(url) => {
            let db = Database::open_postgres(url.expose()).await?;
            tracing::info!("Используется PostgreSQL для заявок: {}", url.masked());
            Ok(db)
        }
        None => {
            let db = Database::open_sqlite(&config.database_path).await?;
            crate::backup::mark_in_use(&config.database_path);
            tracing::info!(
                "Используется SQLite для заявок: {}",
                config.database_path.display()
            );
            Ok(db)
        }
    }
}

/// Chooses and opens the dialog store, logging the line the runbook greps for.
pub async fn open_fsm(config: &Config, db: &Database) -> anyhow::Result<SharedFsm> {
    match config.fsm_backend {
        FsmBackend::Memory => {
            tracing::info!("Используется MemoryStorage для FSM");
            if config.redis_url.is_some() {
                tracing::warn!("DEV_MODE=true: REDIS_URL is ignored, dialogs are lost on restart");
            }
            Ok(Arc::new(MemoryStorage::new(config.fsm_ttl)))
        }
        FsmBackend::Sqlite => {
            // With the orders in PostgreSQL the dialogs still go to the SQLite
            // file at DATABASE_PATH, so "no REDIS_URL" keeps meaning
            // "dialogs survive restarts" whatever holds the orders.
            let pool = match db.sqlite_pool() {
                Some(pool) => pool.clone(),
                None => Database::open_sqlite(&config.database_path)
                    .await?
                    .sqlite_pool()
                    .context("a SQLite database has a SQLite pool")?
                    .clone(),
            };
            tracing::info!(
                "Используется SqliteStorage для FSM: {}",
                config.database_path.display()
            );
            Ok(Arc::new(SqliteStorage::new(pool, config.fsm_ttl)))
        }
        FsmBackend::Redis => {
            let url = config.redis_url.as_ref().context("REDIS_URL is not set")?;
            let masked = url.masked();
            let store = connect_redis(url.expose(), &masked, config).await?;
            tracing::info!("Используется RedisStorage для FSM: {masked}");
            Ok(Arc::new(store))
        }
    }
}

async fn connect_redis(url: &str, masked: &str, config: &Config) -> anyhow::Result<RedisStorage> {
    let mut attempt = 0;
    let deadline = retry::Deadline::after(REDIS_CONNECT_PATIENCE);
    let connected = (|| async {
        let store = RedisStorage::connect(url, &config.fsm_key_prefix, config.fsm_ttl).await?;
        crate::fsm::FsmStorage::ping(&store).await?;
        Ok::<_, crate::fsm::StorageError>(store)
    })
    .retry(retry::while_starting())
    .when(|_| deadline.open())
    .notify(|e, _| {
        attempt += 1;
        tracing::warn!(attempt, error = %e, "Redis недоступен ({masked}), повторная попытка...");
    })
    .await;
    connected.map_err(|e| {
        anyhow::anyhow!(
            "Не удалось подключиться к Redis ({masked}): {e}. Проверьте: запущен ли Redis \
             (redis-cli ping, docker compose ps), верен ли REDIS_URL (хост, порт, пароль), \
             или включите DEV_MODE=true для хранения диалогов в памяти. / Cannot connect to \
             Redis at {masked}: is Redis running, is REDIS_URL right, or set DEV_MODE=true."
        )
    })
}

/// Cancels `stop` on SIGINT or SIGTERM.
pub fn spawn_signal_listener(stop: CancellationToken) {
    tokio::spawn(async move {
        let name = wait_for_signal().await;
        tracing::info!("Получен сигнал {name}: завершаю работу (stopping gracefully)");
        stop.cancel();
    });
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl+C"
}

async fn check_token(bot: &Bot, stop: &CancellationToken) -> anyhow::Result<Option<String>> {
    let reached = (|| async { bot.get_me().await })
        .retry(retry::until_reachable())
        .when(|e| !matches!(e, RequestError::Api(ApiError::InvalidToken)))
        .notify(|e, wait| {
            tracing::warn!(error = %e, "Bot API is not reachable yet; retrying in {}s", wait.as_secs());
        });
    let outcome = tokio::select! {
        _ = stop.cancelled() => return Ok(None),
        outcome = reached => outcome,
    };
    match outcome {
        Ok(me) => Ok(Some(me.username().to_string())),
        Err(RequestError::Api(ApiError::InvalidToken)) => Err(crate::config::ConfigError::new(
            "BOT_TOKEN",
            "Telegram rejected the token (Unauthorized); check it with @BotFather",
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Replicas exist only in webhook mode (Telegram lets one process poll), and
/// share state only through Redis: there a per-user lock keeps each user's
/// updates in order across processes, and a lease lets one process at a
/// time deliver the outbox.
async fn with_replica_coordination(
    mut ctx: BotContext,
    config: &Config,
    webhook: bool,
) -> anyhow::Result<BotContext> {
    if config.fsm_backend != FsmBackend::Redis || !webhook {
        return Ok(ctx);
    }
    let Some(url) = &config.redis_url else {
        return Ok(ctx);
    };
    let redis = RedisStorage::connect(url.expose(), &config.fsm_key_prefix, None)
        .await
        .with_context(|| format!("Redis ({}) for replica coordination", url.masked()))?;
    let conn = redis.connection();
    ctx.user_locks = Some(crate::fsm::locks::UserLocks::new(
        conn.clone(),
        &config.fsm_key_prefix,
        config.replica_lock_ttl,
    ));
    ctx.outbox_lease = Some(Arc::new(crate::fsm::locks::Lease::new(
        conn,
        &config.fsm_key_prefix,
        "outbox",
        Duration::from_secs(10),
    )));
    Ok(ctx)
}

/// Registers the webhook with Telegram: retried while the Bot API is not
/// reachable, fatal when Telegram refuses it (a bad URL does not heal).
async fn set_webhook(
    bot: &Bot,
    url: &url::Url,
    secret: &str,
    stop: &CancellationToken,
) -> anyhow::Result<bool> {
    let registered = (|| async {
        bot.set_webhook(url.clone())
            .secret_token(secret.to_string())
            .allowed_updates(vec![
                AllowedUpdate::Message,
                AllowedUpdate::CallbackQuery,
                AllowedUpdate::MyChatMember,
            ])
            .await
    })
    .retry(retry::until_reachable())
    // Telegram answering with a refusal: a bad URL does not heal.
    .when(|e| !matches!(e, RequestError::Api(_)))
    .notify(|e, wait| {
        tracing::warn!(error = %e, "setWebhook failed; retrying in {}s", wait.as_secs());
    });
    let outcome = tokio::select! {
        _ = stop.cancelled() => return Ok(false),
        outcome = registered => outcome,
    };
    match outcome {
        Ok(_) => Ok(true),
        Err(RequestError::Api(e)) => Err(crate::config::ConfigError::new(
            "WEBHOOK_URL",
            format!(
                "Telegram refused {url}: {e}. Telegram needs a public HTTPS URL on port \
                 443, 80, 88 or 8443 that reaches HTTP_ADDR / Telegram отклонил WEBHOOK_URL"
            ),
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Runs the bot until a shutdown signal, then closes everything and returns.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    spawn_signal_listener(stop.clone());

    let db = open_database(&config).await?;
    let fsm_writes = Arc::new(crate::health::WriteHealth::default());
    let fsm: SharedFsm = Arc::new(MeteredStorage::new(
        open_fsm(&config, &db).await?,
        fsm_writes.clone(),
    ));
    let texts = Arc::new(Texts::load()?.in_time_zone(config.shop_timezone.clone()));
    let bot = bot::api::bot(config.bot_token.expose(), config.telegram_api_url.clone())?;

    let webhook = match (&config.webhook_url, &config.webhook_secret) {
        (Some(url), Some(secret)) => Some((url.clone(), secret.clone())),
        _ => None,
    };
    let mode = if webhook.is_some() {
        UpdatesMode::Webhook
    } else {
        UpdatesMode::Polling
    };
    if let Some((url, _)) = &webhook {
        let path = server::webhook::route_path(url);
        if path == "/healthz" || path == "/metrics" {
            anyhow::bail!("WEBHOOK_URL: the path {path} is taken by the HTTP server; choose another, e.g. /telegram/webhook");
        }
    }
    // Bound before anything else talks to Telegram: a taken port fails the start at once.
    let listener = match config.http_addr {
        Some(addr) => Some(server::bind(addr).await?),
        None => None,
    };

    let Some(username) = check_token(&bot, &stop).await? else {
        fsm.close().await;
        db.close().await;
        return Ok(());
    };
    tracing::info!(bot = %username, api = %config.telegram_api_url, "Bot API reachable");
    if let Err(e) = bot.set_my_commands(commands::menu(&texts, Lang::Ru)).await {
        tracing::warn!(error = %e, "could not set the command menu");
    }
    if let Err(e) = bot
        .set_my_commands(commands::menu(&texts, Lang::En))
        .language_code("en")
        .await
    {
        tracing::warn!(error = %e, "could not set the English command menu");
    }

    let ctx = BotContext {
        bot: bot.clone(),
        db: db.clone(),
        fsm: fsm.clone(),
        texts,
        admin_ids: Arc::new(config.admin_ids.clone()),
        dispatcher_ids: Arc::new(config.dispatcher_ids.clone()),
        outbox: Arc::new(bot::output::outbox::Feed::new(
            bot::output::pace::Pace::new(config.outbox_bot_rate, config.outbox_chat_rate),
        )),
        api_slots: Arc::new(tokio::sync::Semaphore::new(bot::MAX_API_REQUESTS)),
        max_orders_per_hour: config.max_orders_per_hour,
        thresholds: Arc::new(config.thresholds.clone()),
        split_rules: Arc::new(config.split_rules.clone()),
        backups: (db.kind() == crate::db::DbKind::Sqlite)
            .then(|| Arc::new((config.backup_dir.clone(), config.backup_keep))),
        #[cfg(debug_assertions)]
        faults: bot::handlers::faults::Faults::new(
            config.fault_panic_text.as_deref(),
            config.fault_slow_text.as_deref(),
        ),
        user_locks: None,
        outbox_lease: None,
        gate: Arc::new(bot::intake::gate::Gate::new(
            config.user_rate_limit,
            config.staff_rate_limit,
            &[
                config.admin_ids.as_slice(),
                config.dispatcher_ids.as_slice(),
            ]
            .concat(),
        )),
        intake_health: Arc::default(),
    };
    let ctx = with_replica_coordination(ctx, &config, webhook.is_some()).await?;

    let outbox_stop = CancellationToken::new();
    let outbox = tokio::spawn(bot::output::outbox::run(ctx.clone(), outbox_stop.clone()));
    tokio::spawn(crate::scheduler::run(ctx.clone(), outbox_stop.clone()));
    tokio::spawn(bot::intake::gate::refresh_staff(
        ctx.clone(),
        outbox_stop.clone(),
    ));
    tokio::spawn(crate::housekeeping::run(
        db.clone(),
        fsm.clone(),
        config.outbox_keep,
        outbox_stop.clone(),
    ));

    let mut app = server::router(AppState::new(
        db.clone(),
        fsm.clone(),
        fsm_writes,
        mode,
        ctx.intake_health.clone(),
    ));
    let queues = webhook.as_ref().map(|_| UserQueues::new(ctx.clone()));
    if let (Some((url, secret)), Some(queues)) = (&webhook, &queues) {
        let path = server::webhook::route_path(url);
        app = server::webhook::attach(app, &path, secret.clone(), queues.clone());
    }
    let http = listener.map(|l| {
        if let Ok(addr) = l.local_addr() {
            tracing::info!("HTTP-сервер слушает {addr} (/healthz, /metrics)");
        }
        server::spawn(l, app, stop.clone())
    });

    match &webhook {
        Some((url, secret)) => {
            // Shutdown leaves the webhook in place: other replicas may be serving it.
            if set_webhook(&bot, url, secret.expose(), &stop).await? {
                ctx.intake_health.webhook_ready();
                tracing::info!(webhook = %url, "Webhook установлен");
                tracing::info!("{}", bot::intake::polling::STARTED_LINE);
            }
            stop.cancelled().await;
            if let Some(http) = http {
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, http).await;
            }
            if let Some(queues) = &queues {
                if !queues.wait_idle(SHUTDOWN_GRACE).await {
                    tracing::warn!(
                        "in-flight webhook updates did not finish within {}s",
                        SHUTDOWN_GRACE.as_secs()
                    );
                }
            }
        }
        None => {
            // Polling and a webhook exclude each other; pending updates are kept.
            if let Err(e) = bot.delete_webhook().await {
                tracing::warn!(error = %e, "could not delete a webhook before polling");
            }
            let mut polling = tokio::spawn(bot::intake::polling::run(
                ctx.clone(),
                stop.clone(),
                SHUTDOWN_GRACE,
            ));
            tokio::select! {
                _ = &mut polling => {}
                _ = stop.cancelled() => {
                    // Polling waits SHUTDOWN_GRACE for its updates, then confirms.
                    let limit = SHUTDOWN_GRACE + Duration::from_secs(6);
                    if tokio::time::timeout(limit, &mut polling).await.is_err() {
                        tracing::warn!("polling did not stop in time; unconfirmed updates will be redelivered");
                        polling.abort();
                    }
                }
            }
            stop.cancel();
            if let Some(http) = http {
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, http).await;
            }
        }
    }
    outbox_stop.cancel();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, outbox).await;
    fsm.close().await;
    db.close().await;
    tracing::info!("Соединения с хранилищем и базой закрыты. Бот остановлен.");
    Ok(())
}
