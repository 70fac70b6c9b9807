//! Checks of the deployment files the operators' runbook names (SPEC §1,
//! "Deployment"): `docker/Dockerfile`, `docker/docker-compose.yml`, the
//! `docker/docker-compose.redis.yml` overlay, the combined
//! `docker/docker-compose.full.yml`, `.dockerignore` and `.env.example`; and
//! the scale-out files `docker/docker-compose.scale.yml` and
//! `docker/nginx.scale.conf` (the latter run in a real nginx against stand-in
//! replicas, the bot's healthcheck run with bash against a stand-in `/healthz`).
//!
//! No Docker engine is needed. The YAML is parsed and compared (the overlay is
//! merged onto the base with Compose's merge rules and must equal the combined
//! file), Compose's `${VAR}` substitution is applied as Compose does, and the
//! shell snippets the Redis container runs (its command and its healthcheck)
//! are run here against a real `redis-server`, with and without a password.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

const BASE: &str = "docker/docker-compose.yml";
const OVERLAY: &str = "docker/docker-compose.redis.yml";
const FULL: &str = "docker/docker-compose.full.yml";
const SCALE: &str = "docker/docker-compose.scale.yml";
const NGINX_CONF: &str = "docker/nginx.scale.conf";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Loads a one-document YAML file as JSON values (mapping keys become strings),
/// which makes paths, comparisons and failure messages simple.
fn load_yaml(rel: &str) -> Value {
    let docs =
        YamlLoader::load_from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"));
    assert_eq!(docs.len(), 1, "{rel} must hold exactly one YAML document");
    yaml_to_json(&docs[0], rel)
}

fn yaml_to_json(y: &Yaml, file: &str) -> Value {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
        Yaml::Integer(i) => json!(i),
        Yaml::Boolean(b) => json!(b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => Value::Array(items.iter().map(|i| yaml_to_json(i, file)).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => panic!("{file}: unsupported mapping key {other:?}"),
                };
                assert!(
                    m.insert(key.clone(), yaml_to_json(v, file)).is_none(),
                    "{file}: duplicate key {key:?}"
                );
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => panic!("{file}: aliases are not used in compose files"),
    }
}

/// The value at a dotted path; a missing step fails the test with the path.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |cur, key| {
        cur.get(key)
            .unwrap_or_else(|| panic!("missing `{path}` (no `{key}`) in {cur:#}"))
    })
}

fn str_at<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("`{path}` must be a string, got {}", at(v, path)))
}

/// A service's `environment`, in either of Compose's two spellings (map or
/// `KEY=value` list), as a map.
fn env_of(service: &Value) -> BTreeMap<String, String> {
    match service.get("environment") {
        None => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                let s = i.as_str().expect("environment entries are strings");
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        Some(other) => panic!("environment must be a map or a list, got {other}"),
    }
}

/// Compose's merge of an override file onto a base file, for the keys these
/// files use: mappings merge key by key (`environment` in either spelling),
/// `command`/`entrypoint`/`healthcheck.test` are replaced, other sequences
/// (`ports`, `volumes`, ...) are merged without duplicates, scalars are replaced.
fn compose_merge(base: &Value, over: &Value, key: &str) -> Value {
    match (base, over) {
        _ if key == "environment" => {
            let mut env = env_of(&json!({ "environment": base }));
            env.extend(env_of(&json!({ "environment": over })));
            Value::Object(
                env.into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            )
        }
        (Value::Object(b), Value::Object(o)) => {
            let mut merged = b.clone();
            for (k, ov) in o {
                let v = match b.get(k) {
                    Some(bv) => compose_merge(bv, ov, k),
                    None => ov.clone(),
                };
                merged.insert(k.clone(), v);
            }
            Value::Object(merged)
        }
        (Value::Array(b), Value::Array(o)) if !matches!(key, "command" | "entrypoint" | "test") => {
            let mut merged = b.clone();
            for item in o {
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Value::Array(merged)
        }
        _ => over.clone(),
    }
}

/// Brings `environment` to the map spelling everywhere, so that files using
/// either spelling compare equal.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k == "environment" {
                        Value::Object(
                            env_of(&json!({ "environment": v }))
                                .into_iter()
                                .map(|(k, v)| (k, Value::String(v)))
                                .collect(),
                        )
                    } else {
                        normalize(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// Compose's variable substitution (as in compose-go's `template` package) for
/// the forms these files use: `$$` (a literal `$`), `${VAR}`, `${VAR:-default}`,
/// `${VAR:+replacement}`, nested, and `${VAR:?message}`. Anything else fails
/// the test, so a form this function does not model cannot slip into the
/// files unnoticed. A `:?` variable that is unset or empty fails the test too;
/// [`try_interpolate`] returns that as an error instead.
fn interpolate(s: &str, vars: &BTreeMap<&str, &str>) -> String {
    try_interpolate(s, vars).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// [`interpolate`], with Compose's refusal (`${VAR:?message}` on an unset or
/// empty VAR) as `Err(message)`.
fn try_interpolate(s: &str, vars: &BTreeMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with("$$") {
            out.push('$');
            i += 2;
        } else if rest.starts_with("${") {
            let mut depth = 0;
            let mut end = None;
            let mut j = i;
            while j < s.len() {
                if s[j..].starts_with("${") {
                    depth += 1;
                    j += 2;
                    continue;
                }
                if s[j..].starts_with('}') {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                j += s[j..].chars().next().map_or(1, char::len_utf8);
            }
            let end = end.unwrap_or_else(|| panic!("unclosed ${{ in {s:?}"));
            out.push_str(&expand(&s[i + 2..end], vars)?);
            i = end + 1;
        } else if rest.starts_with('$') {
            panic!("bare `$` in {s:?}: write ${{VAR}}, or $$ for a literal $");
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            i += c.len_utf8();
        }
    }
    Ok(out)
}

fn expand(inner: &str, vars: &BTreeMap<&str, &str>) -> Result<String, String> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_end);
    let value = vars.get(name).copied().unwrap_or("");
    if op.is_empty() {
        Ok(value.to_string())
    } else if let Some(default) = op.strip_prefix(":-") {
        if value.is_empty() {
            try_interpolate(default, vars)
        } else {
            Ok(value.to_string())
        }
    } else if let Some(replacement) = op.strip_prefix(":+") {
        if value.is_empty() {
            Ok(String::new())
        } else {
            try_interpolate(replacement, vars)
        }
    } else if let Some(message) = op.strip_prefix(":?") {
        if value.is_empty() {
            Err(message.to_string())
        } else {
            Ok(value.to_string())
        }
    } else {
        panic!("substitution form ${{{inner}}} is not modelled by this test");
    }
}

/// Names of the variables Compose substitutes in a file (`${NAME...}`, not `$$`).
fn substituted_vars(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            rest = stripped;
            continue;
        }
        if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            if !names.iter().any(|n| n == &inner[..end]) {
                names.push(inner[..end].to_string());
            }
        }
        rest = after;
    }
    names
}

fn assert_json_file_logging_10m_3(service: &Value, what: &str) {
    assert_eq!(
        at(service, "logging"),
        &json!({ "driver": "json-file", "options": { "max-size": "10m", "max-file": "3" } }),
        "{what}: json-file logging 10m x 3"
    );
}

#[test]
fn base_compose_runs_the_bot_with_a_data_volume_host_logs_and_capped_docker_logs() {
    let base = load_yaml(BASE);
    let bot = at(&base, "services.bot");
    assert_eq!(
        at(&base, "services").as_object().unwrap().len(),
        1,
        "the base file has only the bot; Redis comes with the overlay"
    );
    assert_eq!(str_at(bot, "container_name"), "telegram_repair_bot");
    assert_eq!(str_at(bot, "restart"), "unless-stopped");
    assert_eq!(at(bot, "env_file"), &json!("../.env"));
    assert_eq!(
        at(bot, "volumes"),
        &json!(["bot_data:/app/data", "../logs:/app/logs"])
    );
    assert!(
        at(&base, "volumes").get("bot_data").is_some(),
        "bot_data declared at the top level"
    );
    let env = env_of(bot);
    assert_eq!(
        env["DATABASE_PATH"], "/app/data/bot_database.db",
        "the database on the volume"
    );
    assert_eq!(env["LOG_DIR"], "/app/logs", "bot.log on the logs mount");
    assert_json_file_logging_10m_3(bot, "bot");

    // Paths are relative to docker/: the context is the repository root, the
    // env file sits next to .env.example, logs/ is the one the README names.
    let docker_dir = repo_root().join("docker");
    let context = docker_dir.join(str_at(bot, "build.context"));
    assert!(
        context.join("Cargo.toml").is_file(),
        "build context is the repo root"
    );
    assert!(context.join(str_at(bot, "build.dockerfile")).is_file());
    assert_eq!(
        docker_dir
            .join("../.env")
            .parent()
            .unwrap()
            .canonicalize()
            .unwrap(),
        repo_root().canonicalize().unwrap()
    );
}

#[test]
fn redis_overlay_adds_redis_as_the_runbook_describes_and_makes_the_bot_wait_for_it() {
    let overlay = load_yaml(OVERLAY);
    let redis = at(&overlay, "services.redis");
    assert_eq!(str_at(redis, "image"), "redis:7-alpine");
    assert_eq!(str_at(redis, "container_name"), "telegram_bot_redis");
    assert_eq!(str_at(redis, "restart"), "unless-stopped");
    assert_eq!(at(redis, "volumes"), &json!(["redis_data:/data"]));
    assert!(
        at(&overlay, "volumes").get("redis_data").is_some(),
        "redis_data declared at the top level"
    );
    assert_eq!(
        at(redis, "ports"),
        &json!(["127.0.0.1:6379:6379"]),
        "Redis is published on the loopback interface only"
    );
    assert_json_file_logging_10m_3(redis, "redis");

    let command = at(redis, "command").as_array().expect("command as a list");
    assert_eq!(&command[..2], &[json!("sh"), json!("-c")]);
    let script = command[2].as_str().unwrap();
    assert!(script.contains("redis-server --appendonly yes"), "{script}");
    assert!(
        script.contains("--requirepass \"$$REDIS_PASSWORD\""),
        "{script}"
    );

    let test = at(redis, "healthcheck.test").as_array().unwrap();
    assert_eq!(test[0], json!("CMD-SHELL"));
    let check = test[1].as_str().unwrap();
    assert!(check.contains("redis-cli ping"), "{check}");
    assert!(
        check.contains("REDISCLI_AUTH=\"$$REDIS_PASSWORD\""),
        "{check}"
    );
    assert_eq!(str_at(redis, "healthcheck.interval"), "10s");

    let bot = at(&overlay, "services.bot");
    assert_eq!(
        at(bot, "depends_on"),
        &json!({ "redis": { "condition": "service_healthy" } })
    );
    let env = env_of(bot);
    assert_eq!(env["DEV_MODE"], "false");
    assert_eq!(env["FSM_STORAGE"], "redis");
    assert_eq!(env_of(redis)["REDIS_PASSWORD"], "${REDIS_PASSWORD:-}");
}

#[test]
fn overlay_merged_onto_the_base_equals_the_combined_file() {
    let merged = normalize(&compose_merge(&load_yaml(BASE), &load_yaml(OVERLAY), ""));
    let full = normalize(&load_yaml(FULL));
    for key in ["services", "volumes"] {
        assert_eq!(
            at(&merged, key),
            at(&full, key),
            "`{key}`: {BASE} + {OVERLAY} must equal {FULL}\nmerged: {:#}\nfull: {:#}",
            at(&merged, key),
            at(&full, key)
        );
    }
    // The merge really combined both files (a broken merge could not pass).
    let bot = at(&merged, "services.bot");
    let env = env_of(bot);
    assert!(
        env.contains_key("DATABASE_PATH") && env.contains_key("REDIS_URL"),
        "{env:?}"
    );
    assert!(bot.get("build").is_some() && bot.get("depends_on").is_some());
}

#[test]
fn the_bots_redis_url_follows_redis_password_in_every_compose_setup() {
    for file in [OVERLAY, FULL, SCALE] {
        let doc = load_yaml(file);
        let url = env_of(at(&doc, "services.bot"))["REDIS_URL"].clone();
        let redis_pw = env_of(at(&doc, "services.redis"))["REDIS_PASSWORD"].clone();

        let none = BTreeMap::new();
        assert_eq!(interpolate(&url, &none), "redis://redis:6379/0", "{file}");
        assert_eq!(interpolate(&redis_pw, &none), "", "{file}");

        let empty = BTreeMap::from([("REDIS_PASSWORD", "")]);
        assert_eq!(interpolate(&url, &empty), "redis://redis:6379/0", "{file}");

        let set = BTreeMap::from([("REDIS_PASSWORD", "s3cret-Pw_1")]);
        assert_eq!(
            interpolate(&url, &set),
            "redis://:s3cret-Pw_1@redis:6379/0",
            "{file}"
        );
        assert_eq!(interpolate(&redis_pw, &set), "s3cret-Pw_1", "{file}");
    }
}

#[test]
fn every_variable_compose_substitutes_is_documented_in_env_example() {
    let example = read(".env.example");
    for file in [BASE, OVERLAY, FULL, SCALE] {
        for name in substituted_vars(&read(file)) {
            assert!(
                example.lines().any(|l| l.starts_with(&format!("{name}="))),
                "{file} uses ${{{name}}}, which .env.example does not document"
            );
        }
    }
    assert!(substituted_vars(&read(OVERLAY)).contains(&"REDIS_PASSWORD".to_string()));
}

#[test]
fn dockerfile_builds_locked_in_a_separate_stage_and_runs_as_a_non_root_user() {
    let text = read("docker/Dockerfile");
    // Join `\` continuations, drop comments: one instruction per entry.
    let mut instructions: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (kw, args) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        instructions.push((
            kw.to_uppercase(),
            args.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
        current.clear();
    }
    let stages: Vec<&[(String, String)]> = {
        let starts: Vec<usize> = instructions
            .iter()
            .enumerate()
            .filter(|(_, (kw, _))| kw == "FROM")
            .map(|(i, _)| i)
            .collect();
        starts
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                &instructions[s..starts.get(n + 1).copied().unwrap_or(instructions.len())]
            })
            .collect()
    };
    assert!(
        stages.len() >= 2,
        "multi-stage build, got {} stage(s)",
        stages.len()
    );
    let (builder, runtime) = (stages[0], stages[stages.len() - 1]);
    let find = |stage: &[(String, String)], kw: &str| -> Vec<String> {
        stage
            .iter()
            .filter(|(k, _)| k == kw)
            .map(|(_, a)| a.clone())
            .collect()
    };

    assert!(
        find(builder, "FROM")[0].starts_with("rust:"),
        "builder from a rust image"
    );
    assert!(find(builder, "FROM")[0].ends_with("AS builder"));
    assert!(
        find(builder, "RUN")
            .iter()
            .any(|r| r.contains("cargo build --release --locked")),
        "release build pinned to Cargo.lock"
    );

    assert!(find(runtime, "FROM")[0].starts_with("debian:bookworm-slim"));
    let installs: Vec<String> = find(runtime, "RUN")
        .into_iter()
        .filter(|r| r.contains("apt-get install"))
        .collect();
    assert_eq!(installs.len(), 1);
    let packages: Vec<&str> = installs[0]
        .split("apt-get install")
        .nth(1)
        .unwrap()
        .split("&&")
        .next()
        .unwrap()
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(
        packages,
        ["ca-certificates"],
        "runtime image: CA certificates only"
    );
    assert!(find(runtime, "COPY")
        .iter()
        .any(|c| c.starts_with("--from=builder")));
    assert_eq!(find(runtime, "WORKDIR"), ["/app"]);
    assert!(
        find(runtime, "ENV")
            .iter()
            .any(|e| e.contains("DATABASE_PATH=/app/data/bot_database.db")),
        "DATABASE_PATH default on the data volume"
    );
    let volumes = find(runtime, "VOLUME").join(" ");
    assert!(
        volumes.contains("/app/data") && volumes.contains("/app/logs"),
        "{volumes}"
    );

    let user = find(runtime, "USER");
    let user = user.last().expect("a USER in the runtime stage");
    assert!(
        !["root", "0", "0:0", "root:root"].contains(&user.as_str()),
        "USER {user}"
    );
    let user_pos = runtime.iter().position(|(k, _)| k == "USER").unwrap();
    let last_run = runtime.iter().rposition(|(k, _)| k == "RUN").unwrap();
    assert!(
        user_pos > last_run,
        "USER comes after the last RUN, so the bot itself is not root"
    );
}

#[test]
fn dockerignore_keeps_secrets_build_output_and_local_state_out_of_the_image() {
    let text = read(".dockerignore");
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    for needed in ["target", "data", "logs", ".env", ".git"] {
        assert!(
            patterns.contains(&needed),
            ".dockerignore lacks {needed}: {patterns:?}"
        );
    }
    for kept in [
        "src",
        "migrations",
        "locales",
        "Cargo.toml",
        "Cargo.lock",
        "docker",
    ] {
        assert!(
            !patterns.contains(&kept),
            "{kept} is needed in the build context"
        );
    }
}

#[test]
fn env_example_documents_every_variable_with_a_comment_line_above_it() {
    let text = read(".env.example");
    let lines: Vec<&str> = text.lines().collect();
    let vars = [
        // SPEC §1
        "BOT_TOKEN",
        "ADMIN_IDS",
        "DISPATCHER_IDS",
        "REDIS_URL",
        "DEV_MODE",
        "DATABASE_PATH",
        // our additions
        "TELEGRAM_API_URL",
        "FSM_STORAGE",
        "FSM_KEY_PREFIX",
        "FSM_TTL",
        "DATABASE_URL",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "HTTP_ADDR",
        "LOG_DIR",
        "LOG_LEVEL",
        "MAX_ORDERS_PER_HOUR",
        "REPLICA_LOCK_TTL",
        "OUTBOX_KEEP",
        "SHOP_TIMEZONE",
        "USER_RATE_LIMIT",
        "STAFF_RATE_LIMIT",
        "REMIND_UNASSIGNED_AFTER",
        "REMIND_UNACCEPTED_AFTER",
        "REMIND_REPEAT",
        "REMIND_MAX",
        "SLA_NEW",
        "SLA_ASSIGNED",
        "SLA_ACCEPTED",
        "SLA_ON_SITE",
        "VISIT_REMINDER_BEFORE",
        "DAILY_SUMMARY_AT",
        "REPORT_DAILY_AT",
        "REPORT_WEEKLY_AT",
        "REPORT_MONTHLY_AT",
        "BACKUP_AT",
        "BACKUP_DIR",
        "BACKUP_KEEP_DAYS",
        "MONEY_RULES_FILE",
        "QUIET_HOURS",
        "OUTBOX_BOT_RATE",
        "OUTBOX_CHAT_RATE",
        // docker/docker-compose.redis.yml
        "REDIS_PASSWORD",
        // docker/docker-compose.scale.yml
        "BOT_REPLICAS",
        "PUBLIC_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
    ];
    for var in vars {
        let at: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(&format!("{var}=")))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "{var} must be set exactly once in .env.example"
        );
        let above = at[0].checked_sub(1).map(|i| lines[i].trim_start());
        assert!(
            above.is_some_and(|l| l.starts_with('#') && l.len() > 2),
            "{var} needs a comment on the line directly above it"
        );
    }
}

// --- the Redis container's shell snippets, run against a real redis-server ---

/// A `redis-server` started through the compose `command`, killed on drop.
struct RedisFromCompose {
    child: Child,
    port: u16,
    shims: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl Drop for RedisFromCompose {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("{program} not found on PATH (.ci/run installs redis-server/redis-tools)")
        })
}

fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RedisFromCompose {
    /// Runs the overlay's Redis `command` with `sh`, as the container does,
    /// with REDIS_PASSWORD set the way Compose sets it (possibly empty). Shims
    /// first on PATH record the arguments and pin port and directory, so the
    /// server cannot collide with another Redis on this machine.
    fn start(redis_password: &str) -> Self {
        let overlay = load_yaml(OVERLAY);
        let command = at(&overlay, "services.redis.command").as_array().unwrap();
        let argv: Vec<String> = command
            .iter()
            .map(|a| interpolate(a.as_str().unwrap(), &BTreeMap::new()))
            .collect();

        let port = free_port();
        let shims = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let args_file = shims.path().join("args");
        write_script(
            &shims.path().join("redis-server"),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexec '{}' \"$@\" --port {port} --bind 127.0.0.1 --dir '{}' --save ''\n",
                args_file.display(),
                which("redis-server").display(),
                data.path().display()
            ),
        );
        write_script(
            &shims.path().join("redis-cli"),
            &format!(
                "#!/bin/sh\nexec '{}' -p {port} \"$@\"\n",
                which("redis-cli").display()
            ),
        );
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env("PATH", path_with(shims.path()))
            .env("REDIS_PASSWORD", redis_password)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut redis = RedisFromCompose {
            child,
            port,
            shims,
            _data: data,
        };
        redis.wait_until_listening();
        redis
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self.cli(None, &["ping"]);
            if reply.contains("PONG") || reply.contains("NOAUTH") {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("redis-server from the compose command exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The arguments the compose command passed to redis-server.
    fn args(&self) -> Vec<String> {
        let mut s = String::new();
        std::fs::File::open(self.shims.path().join("args"))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s.lines().map(str::to_string).collect()
    }

    fn cli(&self, password: Option<&str>, args: &[&str]) -> String {
        let mut cmd = Command::new(which("redis-cli"));
        cmd.arg("-p").arg(self.port.to_string()).args(args);
        cmd.env_remove("REDISCLI_AUTH");
        if let Some(pw) = password {
            cmd.env("REDISCLI_AUTH", pw);
        }
        let out = cmd.output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Runs the overlay's healthcheck (`CMD-SHELL` = `/bin/sh -c`) with the
    /// container's REDIS_PASSWORD.
    fn healthcheck(&self, redis_password: &str) -> Output {
        let overlay = load_yaml(OVERLAY);
        let test = at(&overlay, "services.redis.healthcheck.test")
            .as_array()
            .unwrap();
        assert_eq!(test[0], json!("CMD-SHELL"));
        let script = interpolate(test[1].as_str().unwrap(), &BTreeMap::new());
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .env("PATH", path_with(self.shims.path()))
            .env("REDIS_PASSWORD", redis_password)
            .env_remove("REDISCLI_AUTH")
            .output()
            .unwrap()
    }
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

#[test]
fn redis_command_with_a_password_requires_it_keeps_aof_on_and_the_healthcheck_authenticates() {
    // A space and a `$` check the shell quoting of the command and healthcheck.
    let password = "pa ss$word-1";
    let redis = RedisFromCompose::start(password);

    assert_eq!(
        redis.args(),
        ["--appendonly", "yes", "--requirepass", password]
    );
    assert!(
        redis.cli(None, &["ping"]).contains("NOAUTH"),
        "no access without the password"
    );
    assert_eq!(redis.cli(Some(password), &["ping"]).trim(), "PONG");
    assert_eq!(
        redis
            .cli(Some(password), &["config", "get", "appendonly"])
            .trim(),
        "appendonly\nyes"
    );

    assert!(
        redis.healthcheck(password).status.success(),
        "healthy with the password"
    );
    assert!(
        !redis.healthcheck("wrong").status.success(),
        "a wrong password is unhealthy"
    );
    assert!(
        !redis.healthcheck("").status.success(),
        "the check must authenticate"
    );
}

#[test]
fn redis_command_without_a_password_runs_aof_without_requirepass_and_is_healthy() {
    let redis = RedisFromCompose::start("");

    assert_eq!(redis.args(), ["--appendonly", "yes"]);
    assert_eq!(redis.cli(None, &["ping"]).trim(), "PONG");
    assert_eq!(
        redis.cli(None, &["config", "get", "appendonly"]).trim(),
        "appendonly\nyes"
    );
    assert_eq!(
        redis.cli(None, &["config", "get", "requirepass"]).trim(),
        "requirepass"
    );
    assert!(
        redis.healthcheck("").status.success(),
        "{:?}",
        redis.healthcheck("")
    );
}

// --- docker/docker-compose.scale.yml and docker/nginx.scale.conf ---

/// What the scale file's `${...}` see in a typical `.env`.
fn scale_vars() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("WEBHOOK_URL", "https://bot.example.com/tg/hook"),
        ("WEBHOOK_SECRET", "s3cret_-1"),
        ("POSTGRES_PASSWORD", "pg-Pass_1"),
    ])
}

#[test]
fn scale_compose_runs_webhook_replicas_behind_nginx_on_shared_redis_and_postgres() {
    let doc = load_yaml(SCALE);
    let mut names: Vec<&str> = at(&doc, "services")
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["bot", "nginx", "postgres", "redis"]);

    let bot = at(&doc, "services.bot");
    assert!(
        bot.get("container_name").is_none(),
        "replicas cannot share a container_name"
    );
    let replicas = str_at(bot, "deploy.replicas");
    assert_eq!(interpolate(replicas, &BTreeMap::new()), "3");
    assert_eq!(
        interpolate(replicas, &BTreeMap::from([("BOT_REPLICAS", "5")])),
        "5"
    );
    let base = load_yaml(BASE);
    assert_eq!(
        at(bot, "build"),
        at(&base, "services.bot.build"),
        "built like the base file"
    );
    assert_eq!(at(bot, "image"), at(&base, "services.bot.image"));
    assert_eq!(str_at(bot, "restart"), "unless-stopped");
    assert_eq!(at(bot, "env_file"), &json!("../.env"));
    assert_eq!(
        at(bot, "depends_on"),
        &json!({
            "redis": { "condition": "service_healthy" },
            "postgres": { "condition": "service_healthy" }
        })
    );

    let env = env_of(bot);
    let vars = scale_vars();
    let value = |k: &str| interpolate(&env[k], &vars);
    assert_eq!(value("WEBHOOK_URL"), "https://bot.example.com/tg/hook");
    assert_eq!(value("WEBHOOK_SECRET"), "s3cret_-1");
    assert_eq!(value("HTTP_ADDR"), "0.0.0.0:8080");
    assert_eq!(value("REDIS_URL"), "redis://redis:6379/0");
    assert_eq!(
        value("DATABASE_URL"),
        "postgres://bot:pg-Pass_1@postgres:5432/repair"
    );
    assert_eq!(value("DEV_MODE"), "false");
    assert_eq!(value("FSM_STORAGE"), "redis");

    // The bot itself reads this environment as webhook mode on Redis and PostgreSQL.
    let mut as_bot: std::collections::HashMap<String, String> = env
        .keys()
        .map(|k| (k.clone(), interpolate(&env[k], &vars)))
        .collect();
    as_bot.insert("BOT_TOKEN".into(), "123456:test-token".into());
    let cfg = repair_bot::config::Config::from_vars(&as_bot).expect("the bot accepts it");
    assert_eq!(
        cfg.webhook_url.as_ref().map(|u| u.as_str()),
        Some("https://bot.example.com/tg/hook")
    );
    assert_eq!(cfg.http_addr.unwrap().port(), 8080);
    assert!(cfg.database_url.is_some() && cfg.redis_url.is_some() && !cfg.dev_mode);
    assert_eq!(
        format!("{:?}", cfg.fsm_backend).to_lowercase(),
        "redis",
        "dialogs in Redis"
    );

    // User and database name reach both PostgreSQL and the bot's URL.
    let mut custom = scale_vars();
    custom.extend([("POSTGRES_USER", "orders"), ("POSTGRES_DB", "shop")]);
    assert_eq!(
        interpolate(&env["DATABASE_URL"], &custom),
        "postgres://orders:pg-Pass_1@postgres:5432/shop"
    );
    let pg_env = env_of(at(&doc, "services.postgres"));
    for (k, want) in [
        ("POSTGRES_USER", "orders"),
        ("POSTGRES_PASSWORD", "pg-Pass_1"),
        ("POSTGRES_DB", "shop"),
    ] {
        assert_eq!(interpolate(&pg_env[k], &custom), want, "{k}");
    }

    // Without these, Compose refuses to start instead of running N replicas
    // in polling mode (they would fight over getUpdates) or without a password.
    for missing in ["WEBHOOK_URL", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"] {
        for unset in [None, Some("")] {
            let mut v = scale_vars();
            match unset {
                None => v.remove(missing),
                Some(empty) => v.insert(missing, empty),
            };
            assert!(
                env.values().any(|val| try_interpolate(val, &v).is_err()),
                "the bot must not start with {missing} {unset:?}"
            );
        }
    }

    // Healthchecks and capped logs everywhere.
    for name in ["bot", "redis", "postgres", "nginx"] {
        let service = at(&doc, &format!("services.{name}"));
        assert!(
            at(service, "healthcheck.test").as_array().is_some(),
            "{name} has a healthcheck"
        );
        assert_json_file_logging_10m_3(service, name);
        assert_eq!(str_at(service, "restart"), "unless-stopped", "{name}");
    }

    // Redis: the overlay's container (its command and healthcheck are run
    // against a real redis-server above), with no published port.
    let redis = at(&doc, "services.redis");
    let overlay = load_yaml(OVERLAY);
    for key in ["image", "command", "healthcheck", "environment", "volumes"] {
        assert_eq!(
            at(redis, key),
            at(&overlay, &format!("services.redis.{key}")),
            "redis `{key}` as in {OVERLAY}"
        );
    }

    let postgres = at(&doc, "services.postgres");
    assert_eq!(str_at(postgres, "image"), "postgres:16-alpine");
    assert_eq!(
        at(postgres, "volumes"),
        &json!(["postgres_data:/var/lib/postgresql/data"])
    );
    let pg_check = at(postgres, "healthcheck.test").as_array().unwrap();
    assert_eq!(pg_check[0], json!("CMD-SHELL"));
    assert!(pg_check[1].as_str().unwrap().starts_with("pg_isready"));
    for v in ["redis_data", "postgres_data"] {
        assert!(
            at(&doc, "volumes").get(v).is_some(),
            "{v} declared at the top level"
        );
    }

    // Only nginx is published; Redis, PostgreSQL and the replicas (and so
    // /metrics) stay on the compose network.
    for name in ["bot", "redis", "postgres"] {
        assert!(
            at(&doc, &format!("services.{name}")).get("ports").is_none(),
            "{name} must not publish a port"
        );
    }
    let nginx = at(&doc, "services.nginx");
    assert_eq!(str_at(nginx, "image"), "nginx:1.27-alpine");
    let ports = at(nginx, "ports").as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(
        interpolate(ports[0].as_str().unwrap(), &BTreeMap::new()),
        "8443:80"
    );
    assert_eq!(
        interpolate(
            ports[0].as_str().unwrap(),
            &BTreeMap::from([("PUBLIC_PORT", "443")])
        ),
        "443:80"
    );
    assert_eq!(
        at(nginx, "volumes"),
        &json!(["./nginx.scale.conf:/etc/nginx/templates/default.conf.template:ro"])
    );
    assert!(
        repo_root()
            .join("docker")
            .join("nginx.scale.conf")
            .is_file(),
        "the mounted config sits next to the compose file"
    );
}

#[test]
fn nginx_config_balances_over_the_replicas_retries_the_next_one_and_hides_metrics() {
    let conf = read(NGINX_CONF);
    let lines: Vec<&str> = conf
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        lines.contains(&"server bot:8080 resolve;"),
        "the upstream is every replica of service bot"
    );
    assert!(lines.contains(&"resolver 127.0.0.11 valid=10s ipv6=off;"));
    assert!(lines.contains(&"proxy_next_upstream error timeout http_502 http_503 non_idempotent;"));
    assert!(
        !lines.iter().any(|l| l.contains("metrics")),
        "no directive mentions /metrics: it falls into the 404 catch-all"
    );
    // envsubst in the nginx image substitutes `${NAME}` of defined variables:
    // WEBHOOK_PATH must be the only one, nginx's own variables have no braces.
    assert_eq!(substituted_vars(&conf), ["WEBHOOK_PATH"]);
    let locations: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("location"))
        .copied()
        .collect();
    assert_eq!(
        locations,
        [
            "location = \"${WEBHOOK_PATH}\" {",
            "location = /healthz {",
            "location / {"
        ]
    );
}

#[test]
fn nginx_entrypoint_derives_the_same_webhook_path_as_the_bot() {
    let doc = load_yaml(SCALE);
    let entrypoint = at(&doc, "services.nginx.entrypoint").as_array().unwrap();
    assert_eq!(&entrypoint[..2], &[json!("sh"), json!("-c")]);
    let script = interpolate(entrypoint[2].as_str().unwrap(), &BTreeMap::new());
    let last = script.trim_end().lines().last().unwrap();
    assert_eq!(
        last, "exec /docker-entrypoint.sh nginx -g 'daemon off;'",
        "hands over to the image's entrypoint (which renders the template)"
    );
    let probe = script.replace(last, "printf '%s' \"$WEBHOOK_PATH\"");
    for url in [
        "https://bot.example.com/tg/hook",
        "https://bot.example.com:8443/a/b-c_d",
        "https://bot.example.com/hook?x=1",
        "https://bot.example.com/hook#frag",
        "https://bot.example.com/",
        "https://bot.example.com",
        "https://bot.example.com?x=1",
    ] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(&probe)
            .env("WEBHOOK_URL", url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{url}: {out:?}");
        let expected = repair_bot::server::webhook::route_path(&url::Url::parse(url).unwrap());
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{url}");
    }
}

/// A stand-in replica: answers 200 (or the status in `status`) to every
/// request and records `METHOD path secret-header`.
async fn fake_replica(
    status: std::sync::Arc<std::sync::atomic::AtomicU16>,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (log, status) = (log.clone(), status.clone());
        async move {
            let secret = req
                .headers()
                .get("X-Telegram-Bot-Api-Secret-Token")
                .map(|v| v.to_str().unwrap_or("?").to_string())
                .unwrap_or_default();
            log.lock()
                .unwrap()
                .push(format!("{} {} {secret}", req.method(), req.uri().path()));
            let code = status.load(std::sync::atomic::Ordering::SeqCst);
            (axum::http::StatusCode::from_u16(code).unwrap(), "{}")
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

/// Debian's nginx running docker/nginx.scale.conf; stopped on drop.
struct LocalNginx {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl LocalNginx {
    /// Renders the template as the image would (WEBHOOK_PATH substituted),
    /// with the two lines that only make sense inside Compose replaced:
    /// `listen 80` by a free loopback port and `server bot:8080 resolve`
    /// (Docker DNS; `resolve` needs nginx >= 1.27.3) by the given replicas.
    fn start(webhook_path: &str, replicas: &[u16]) -> LocalNginx {
        let conf = read(NGINX_CONF);
        let port = free_port();
        let servers: String = replicas
            .iter()
            .map(|p| format!("server 127.0.0.1:{p};\n"))
            .collect();
        let rendered = conf
            .replace("${WEBHOOK_PATH}", webhook_path)
            .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
            .replace("server bot:8080 resolve;", &servers);
        assert_ne!(rendered, conf);
        let dir = tempfile::Builder::new()
            .prefix("nginx-scale-")
            .tempdir()
            .unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("default.conf"), rendered).unwrap();
        // As root, workers would switch to `nobody`, who cannot use this
        // private temp dir; as another user nginx ignores the directive.
        let main = format!(
            "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n\
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;\n\
               uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               include {d}/default.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let nginx_bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| "nginx".into());
        let child = Command::new(nginx_bin)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-p")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (apt-get install nginx-light)");
        let mut nginx = LocalNginx { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for LocalNginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its worker, then exits.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_forwards_only_the_webhook_and_healthz_and_passes_updates_past_failing_replicas() {
    let ok = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200));
    let (alive, seen) = fake_replica(ok).await;
    // First in the list, so round robin tries it first: nothing listens there.
    let dead = free_port();
    // Takes the request, then answers 503: only `non_idempotent` lets nginx
    // pass a POST that already reached a replica on to the next one.
    let unavailable = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(503));
    let (failing, failing_seen) = fake_replica(unavailable).await;
    let nginx = LocalNginx::start("/tg/hook", &[dead, failing, alive]);
    let http = reqwest::Client::new();

    for n in 0..4 {
        let r = http
            .post(nginx.url("/tg/hook"))
            .header("X-Telegram-Bot-Api-Secret-Token", "s3cret_-1")
            .body(format!("{{\"update_id\":{n}}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "update {n}: {}", nginx.error_log());
    }
    assert!(
        nginx.error_log().contains(&format!("127.0.0.1:{dead}")),
        "the dead replica was tried and skipped: {}",
        nginx.error_log()
    );
    let r = http.get(nginx.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    for (method, path, want) in [
        ("GET", "/metrics", 404),
        ("POST", "/metrics", 404),
        ("GET", "/tg/hook", 403),
        ("POST", "/other", 404),
        ("POST", "/tg/hook/x", 404),
    ] {
        let r = http
            .request(method.parse().unwrap(), nginx.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{method} {path}");
    }

    let failing_seen = failing_seen.lock().unwrap().clone();
    assert!(
        failing_seen.contains(&"POST /tg/hook s3cret_-1".to_string()),
        "an update reached the replica answering 503 and was passed on: {failing_seen:?}"
    );
    assert!(failing_seen
        .iter()
        .all(|s| s == "POST /tg/hook s3cret_-1" || s == "GET /healthz "));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "POST /tg/hook s3cret_-1",
            "POST /tg/hook s3cret_-1",
            "POST /tg/hook s3cret_-1",
            "POST /tg/hook s3cret_-1",
            "GET /healthz ",
        ],
        "each update reached a replica once, with its secret; nothing else was forwarded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_healthcheck_passes_on_200_from_healthz_and_fails_otherwise() {
    let doc = load_yaml(SCALE);
    let test = at(&doc, "services.bot.healthcheck.test")
        .as_array()
        .unwrap();
    let argv: Vec<String> = test
        .iter()
        .map(|a| interpolate(a.as_str().unwrap(), &BTreeMap::new()))
        .collect();
    assert_eq!(
        argv[..3],
        ["CMD", "bash", "-c"],
        "the runtime image has bash, not curl"
    );
    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200));
    let (port, seen) = fake_replica(status.clone()).await;
    let run = |port: u16| {
        let argv = argv.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(&argv[1])
                .args(&argv[2..])
                .env("HTTP_ADDR", format!("0.0.0.0:{port}"))
                .output()
                .unwrap()
        })
    };

    let out = run(port).await.unwrap();
    assert!(out.status.success(), "healthy on 200: {out:?}");
    assert_eq!(seen.lock().unwrap().last().unwrap(), "GET /healthz ");

    status.store(503, std::sync::atomic::Ordering::SeqCst);
    assert!(
        !run(port).await.unwrap().status.success(),
        "unhealthy on 503"
    );

    assert!(
        !run(free_port()).await.unwrap().status.success(),
        "unhealthy when nothing listens"
    );
}
