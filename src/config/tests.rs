use super::*;

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const TOKEN: (&str, &str) = ("BOT_TOKEN", "123456:ABC-secret");

#[test]
fn token_and_ids_alone_give_persistent_sqlite_dialogs() {
    let cfg = Config::from_vars(&vars(&[
        TOKEN,
        ("ADMIN_IDS", "1, 2"),
        ("DISPATCHER_IDS", "3"),
    ]))
    .unwrap();
    assert_eq!(cfg.fsm_backend, FsmBackend::Sqlite);
    assert_eq!(cfg.admin_ids, vec![1, 2]);
    assert_eq!(cfg.dispatcher_ids, vec![3]);
    assert_eq!(cfg.database_path, PathBuf::from(DEFAULT_DATABASE_PATH));
    assert_eq!(cfg.fsm_key_prefix, "aiogram");
    assert_eq!(cfg.telegram_api_url.as_str(), "https://api.telegram.org/");
}

#[test]
fn missing_token_names_the_variable() {
    let err = Config::from_vars(&vars(&[("ADMIN_IDS", "1")])).unwrap_err();
    assert_eq!(err.variable, "BOT_TOKEN");
    assert!(err.to_string().starts_with("BOT_TOKEN: is not set"));
}

#[test]
fn malformed_token_is_refused() {
    let err = Config::from_vars(&vars(&[("BOT_TOKEN", "not a token")])).unwrap_err();
    assert_eq!(err.variable, "BOT_TOKEN");
}

#[test]
fn malformed_admin_ids_name_the_bad_part() {
    let err = Config::from_vars(&vars(&[TOKEN, ("ADMIN_IDS", "123,abc")])).unwrap_err();
    assert_eq!(err.variable, "ADMIN_IDS");
    assert!(err.problem.contains("\"abc\""), "{err}");
}

#[test]
fn redis_url_selects_redis_unless_dev_mode() {
    let cfg =
        Config::from_vars(&vars(&[TOKEN, ("REDIS_URL", "redis://localhost:6379/0")])).unwrap();
    assert_eq!(cfg.fsm_backend, FsmBackend::Redis);
    let cfg = Config::from_vars(&vars(&[
        TOKEN,
        ("REDIS_URL", "redis://localhost:6379/0"),
        ("DEV_MODE", "true"),
    ]))
    .unwrap();
    assert_eq!(cfg.fsm_backend, FsmBackend::Memory);
    let cfg = Config::from_vars(&vars(&[
        TOKEN,
        ("REDIS_URL", "redis://localhost:6379/0"),
        ("DEV_MODE", "false"),
    ]))
    .unwrap();
    assert_eq!(cfg.fsm_backend, FsmBackend::Redis);
}

#[test]
fn explicit_fsm_storage_wins() {
    let cfg = Config::from_vars(&vars(&[
        TOKEN,
        ("REDIS_URL", "redis://localhost:6379/0"),
        ("FSM_STORAGE", "sqlite"),
    ]))
    .unwrap();
    assert_eq!(cfg.fsm_backend, FsmBackend::Sqlite);
    let err = Config::from_vars(&vars(&[TOKEN, ("FSM_STORAGE", "redis")])).unwrap_err();
    assert_eq!(err.variable, "REDIS_URL");
    let err = Config::from_vars(&vars(&[TOKEN, ("FSM_STORAGE", "mongo")])).unwrap_err();
    assert_eq!(err.variable, "FSM_STORAGE");
}

#[test]
fn bad_dev_mode_is_refused() {
    let err = Config::from_vars(&vars(&[TOKEN, ("DEV_MODE", "maybe")])).unwrap_err();
    assert_eq!(err.variable, "DEV_MODE");
}

#[test]
fn redis_password_never_prints() {
    let cfg = Config::from_vars(&vars(&[
        TOKEN,
        ("REDIS_URL", "redis://:s3cret@redis:6379/0"),
    ]))
    .unwrap();
    assert_eq!(cfg.redis_url_masked().unwrap(), "redis://:***@redis:6379/0");
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(!debug.contains("ABC-secret"), "{debug}");
}

#[test]
fn bad_redis_url_error_hides_the_password() {
    let err =
        Config::from_vars(&vars(&[TOKEN, ("REDIS_URL", "http://:pw@redis:6379")])).unwrap_err();
    assert_eq!(err.variable, "REDIS_URL");
    assert!(!err.to_string().contains("pw@"), "{err}");
}

#[test]
fn masks_all_url_shapes() {
    assert_eq!(
        mask_url_password("redis://localhost:6379/0"),
        "redis://localhost:6379/0"
    );
    assert_eq!(
        mask_url_password("redis://:pw@redis:6379/0"),
        "redis://:***@redis:6379/0"
    );
    assert_eq!(
        mask_url_password("redis://user:pw@redis:6379/0"),
        "redis://user:***@redis:6379/0"
    );
    assert_eq!(mask_url_password("redis://pw@redis"), "redis://***@redis");
    assert_eq!(mask_url_password("not a url"), "not a url");
}

#[test]
fn ttl_accepts_units() {
    for (raw, secs) in [("60", 60), ("10m", 600), ("2h", 7200), ("7d", 604_800)] {
        let cfg = Config::from_vars(&vars(&[TOKEN, ("FSM_TTL", raw)])).unwrap();
        assert_eq!(cfg.fsm_ttl, Some(Duration::from_secs(secs)));
    }
    let err = Config::from_vars(&vars(&[TOKEN, ("FSM_TTL", "soon")])).unwrap_err();
    assert_eq!(err.variable, "FSM_TTL");
}

#[test]
fn webhook_needs_secret_and_address() {
    let err = Config::from_vars(&vars(&[
        TOKEN,
        ("WEBHOOK_URL", "https://bot.example.com/tg"),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "WEBHOOK_SECRET");
    let err = Config::from_vars(&vars(&[
        TOKEN,
        ("WEBHOOK_URL", "https://bot.example.com/tg"),
        ("WEBHOOK_SECRET", "abc_DEF-123"),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "HTTP_ADDR");
    let err = Config::from_vars(&vars(&[TOKEN, ("WEBHOOK_SECRET", "has space")])).unwrap_err();
    assert_eq!(err.variable, "WEBHOOK_SECRET");
}

#[test]
fn the_shop_time_zone_is_moscow_unless_set_and_must_exist() {
    let cfg = Config::from_vars(&vars(&[TOKEN])).unwrap();
    assert_eq!(cfg.shop_timezone.iana_name(), Some("Europe/Moscow"));
    let cfg = Config::from_vars(&vars(&[TOKEN, ("SHOP_TIMEZONE", "Asia/Yekaterinburg")])).unwrap();
    assert_eq!(cfg.shop_timezone.iana_name(), Some("Asia/Yekaterinburg"));
    let err = Config::from_vars(&vars(&[TOKEN, ("SHOP_TIMEZONE", "Moscow")])).unwrap_err();
    assert_eq!(err.variable, "SHOP_TIMEZONE");
    assert!(err.to_string().contains("Europe/Moscow"), "{err}");
}
