//! `repair-bot import status-bot`: the Python bot's database (the fixture in
//! `tests/fixtures/status_bot`, made by that bot's own code) brought over
//! into SQLite and PostgreSQL, every figure of its `expected.json` checked
//! in our tables; a second run, a dry run, a run killed halfway, a damaged
//! file, an unknown schema, the older raw-SQL schema, and imported orders
//! worked on by the running bot.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use repair_bot::db::Database;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::ops_support::run_cli;
use crate::postgres::Schema;
use crate::staff::open_shop;
use crate::support::TestEnv;
use crate::{answer_money, test_env, CloseAnswers, BIN};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status_bot/bot_database.db")
}

fn expected() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status_bot/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn digest(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Our status code of a Status_bot one (the mapping the shop expects).
fn ours(code: &str) -> &'static str {
    match code {
        "NEW" => "new",
        "ASSIGNED" => "assigned",
        "ACCEPTED" => "accepted",
        "ONSITE" => "on_site",
        "DR" => "long_repair",
        "CLOSED" => "closed",
        "REFUSED" => "refused",
        other => panic!("unexpected status {other}"),
    }
}

/// Moscow wall time with microseconds (the fixture's ORM stamps) in ms.
fn moscow_ms(text: &str) -> i64 {
    let civil: jiff::civil::DateTime = text.replacen(' ', "T", 1).parse().unwrap();
    jiff::tz::TimeZone::get("Europe/Moscow")
        .unwrap()
        .to_ambiguous_timestamp(civil)
        .compatible()
        .unwrap()
        .as_millisecond()
}

fn kopecks(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

/// One integer from `sql` on either backend.
async fn int(db: &Database, sql: &str) -> i64 {
    let value: Option<i64> = match (db.sqlite_pool(), db.postgres_pool()) {
        (Some(pool), _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        (_, Some(pool)) => sqlx::query_scalar(sql).fetch_one(pool).await,
        _ => unreachable!(),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    value.unwrap_or(0)
}

/// One text from `sql` on either backend.
async fn text(db: &Database, sql: &str) -> Option<String> {
    match (db.sqlite_pool(), db.postgres_pool()) {
        (Some(pool), _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        (_, Some(pool)) => sqlx::query_scalar(sql).fetch_one(pool).await,
        _ => unreachable!(),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every figure of `expected.json`, read from our tables.
async fn check_expected(db: &Database) {
    let ex = expected();
    let imported = "legacy_number IS NOT NULL";
    assert_eq!(
        int(db, &format!("SELECT COUNT(*) FROM orders WHERE {imported}")).await,
        150
    );

    for (role, n) in ex["users"]["by_single_role"].as_object().unwrap() {
        let got = match role.as_str() {
            "SENIOR_MASTER" => {
                int(db, "SELECT COUNT(*) FROM master_profiles WHERE senior = 1").await
            }
            "UNKNOWN" => continue,
            r => {
                int(
                    db,
                    &format!(
                        "SELECT COUNT(*) FROM people WHERE role = '{}'",
                        r.to_lowercase()
                    ),
                )
                .await
            }
        };
        assert_eq!(got, n.as_i64().unwrap(), "people with role {role}");
    }

    let o = &ex["orders"];
    for (key, condition) in [
        ("by_status", ""),
        ("by_status_not_deleted", " AND deleted_at IS NULL"),
        ("soft_deleted_by_status", " AND deleted_at IS NOT NULL"),
        (
            "with_refuse_reason_by_status",
            // An earlier refusal of an order given to another master since
            // is kept as a note: here a reason belongs to a refused order.
            " AND (refuse_reason IS NOT NULL OR notes LIKE '%Ранее отказ: %')",
        ),
    ] {
        for (status, n) in o[key].as_object().unwrap() {
            let sql = format!(
                "SELECT COUNT(*) FROM orders WHERE {imported} AND status = '{}'{condition}",
                ours(status)
            );
            assert_eq!(int(db, &sql).await, n.as_i64().unwrap(), "{key} {status}");
        }
    }
    for (sql, key) in [
        ("deleted_at IS NOT NULL", "soft_deleted"),
        ("status = 'closed' AND out_of_city", "out_of_city_closed"),
        ("status = 'closed' AND has_review", "has_review_closed"),
        ("reschedules > 0", "rescheduled"),
    ] {
        let sql = format!("SELECT COUNT(*) FROM orders WHERE {imported} AND {sql}");
        assert_eq!(int(db, &sql).await, o[key].as_i64().unwrap(), "{key}");
    }
    assert_eq!(
        int(
            db,
            &format!("SELECT MIN(created_at) FROM orders WHERE {imported}")
        )
        .await,
        moscow_ms(o["created_at_min"].as_str().unwrap())
    );
    assert_eq!(
        int(
            db,
            &format!("SELECT MAX(created_at) FROM orders WHERE {imported}")
        )
        .await,
        moscow_ms(o["created_at_max"].as_str().unwrap())
    );
    let totals = &o["closed_totals_not_deleted"];
    for (column, key) in [
        ("total_kopecks", "total_amount"),
        ("materials_kopecks", "materials_cost"),
        ("master_kopecks", "master_profit"),
        ("company_kopecks", "company_profit"),
    ] {
        let sql = format!(
            "SELECT CAST(SUM({column}) AS BIGINT) FROM orders
             WHERE {imported} AND status = 'closed' AND deleted_at IS NULL"
        );
        assert_eq!(int(db, &sql).await, kopecks(&totals[key]), "closed {key}");
    }

    let steps = "FROM order_history h JOIN orders o ON o.id = h.order_id
                 WHERE o.legacy_number IS NOT NULL AND h.action <> 'create'";
    assert_eq!(
        int(db, &format!("SELECT COUNT(*) {steps}")).await,
        ex["status_history_rows"].as_i64().unwrap()
    );
    for (transition, n) in ex["status_history_transitions"].as_object().unwrap() {
        let (from, to) = transition.split_once("->").unwrap();
        let sql = format!(
            "SELECT COUNT(*) {steps} AND h.from_status = '{}' AND h.to_status = '{}'",
            ours(from),
            ours(to)
        );
        assert_eq!(int(db, &sql).await, n.as_i64().unwrap(), "{transition}");
    }

    for m in ex["masters"].as_array().unwrap() {
        let user = m["telegram_id"].as_i64().unwrap();
        let name = format!(
            "{} {}",
            m["first_name"].as_str().unwrap(),
            m["last_name"].as_str().unwrap()
        );
        let profile = format!("FROM master_profiles WHERE user_id = {user}");
        assert_eq!(
            text(
                db,
                &format!("SELECT name FROM people WHERE user_id = {user} AND role = 'master'")
            )
            .await
            .as_deref(),
            Some(name.as_str())
        );
        assert_eq!(
            text(db, &format!("SELECT phone {profile}"))
                .await
                .as_deref(),
            m["phone"].as_str()
        );
        assert_eq!(
            int(db, &format!("SELECT active {profile}")).await,
            m["is_active"].as_i64().unwrap(),
            "{name} active"
        );
        let senior = m["role"].as_str().unwrap().contains("SENIOR_MASTER");
        assert_eq!(
            int(db, &format!("SELECT senior {profile}")).await,
            i64::from(senior)
        );
        assert_eq!(
            int(
                db,
                &format!("SELECT chat_id FROM master_groups WHERE master_id = {user}")
            )
            .await,
            m["work_chat_id"].as_i64().unwrap(),
            "{name}'s work group"
        );
    }
    for (key, deleted) in [
        ("closed_by_master", " AND deleted_at IS NULL"),
        ("closed_by_master_including_deleted", ""),
    ] {
        for (master, sums) in ex[key].as_object().unwrap() {
            let of = format!(
                "FROM orders WHERE {imported} AND status = 'closed' AND master_id = {master}{deleted}"
            );
            assert_eq!(
                int(db, &format!("SELECT COUNT(*) {of}")).await,
                sums["closed_orders"].as_i64().unwrap()
            );
            for (column, field) in [
                ("total_kopecks", "total_amount"),
                ("materials_kopecks", "materials_cost"),
                ("master_kopecks", "master_profit"),
                ("company_kopecks", "company_profit"),
            ] {
                let sql = format!("SELECT CAST(SUM({column}) AS BIGINT) {of}");
                assert_eq!(
                    int(db, &sql).await,
                    kopecks(&sums[field]),
                    "{master} {field}"
                );
            }
        }
    }

    // The sample rows, field by field.
    let masters: std::collections::HashMap<i64, i64> = ex["masters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["masters_id"].as_i64().unwrap(),
                m["telegram_id"].as_i64().unwrap(),
            )
        })
        .collect();
    for sample in ex["sample_orders"].as_array().unwrap() {
        let row = &sample["row"];
        let number = row["id"].as_i64().unwrap();
        let order = db
            .orders_numbered(number)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.legacy_number == Some(number))
            .unwrap_or_else(|| panic!("order {number} imported"));
        let s = |k: &str| row[k].as_str().map(str::to_string);
        let money = |k: &str| row[k].as_f64().map(|v| (v * 100.0).round() as i64);
        assert_eq!(Some(order.description.clone()), s("description"));
        assert_eq!(Some(order.client_name.clone()), s("client_name"));
        assert_eq!(Some(order.address.clone()), s("client_address"));
        assert_eq!(Some(order.phone.clone()), s("client_phone"));
        assert_eq!(Some(order.visit_time.clone()), s("scheduled_time"));
        assert_eq!(
            order.status.to_string(),
            ours(row["status"].as_str().unwrap())
        );
        assert_eq!(
            order.master_id,
            row["assigned_master_id"].as_i64().map(|m| masters[&m])
        );
        assert_eq!(order.total_kopecks, money("total_amount"));
        assert_eq!(order.materials_kopecks, money("materials_cost"));
        assert_eq!(order.master_kopecks, money("master_profit"));
        assert_eq!(order.company_kopecks, money("company_profit"));
        assert_eq!(order.prepayment_kopecks, money("prepayment_amount"));
        assert_eq!(
            order.out_of_city,
            row["out_of_city"].as_i64().map(|v| v == 1)
        );
        assert_eq!(order.has_review, row["has_review"].as_i64().map(|v| v == 1));
        assert_eq!(order.repair_due_text, s("estimated_completion_date"));
        assert_eq!(order.refuse_reason, s("refuse_reason"));
        assert_eq!(
            order.created_at,
            moscow_ms(row["created_at"].as_str().unwrap())
        );
        assert_eq!(
            order.equipment,
            repair_bot::domain::legacy::equipment(row["equipment_type"].as_str().unwrap())
        );
        match s("notes") {
            // The long-repair line became the agreed price.
            Some(n) if n.starts_with("[ДР]") => {
                assert_eq!(order.repair_price_kopecks, Some(820_000));
                assert_eq!(order.notes, None);
            }
            notes => assert_eq!(order.notes, notes),
        }
    }
}

/// Runs the import into `env`'s database.
async fn import(env: &TestEnv, extra: &[&str]) -> crate::ops_support::CliRun {
    let from = fixture();
    let mut args = vec!["import", "status-bot", "--from", from.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_cli(env, &args).await
}

#[tokio::test]
async fn the_fixture_imports_into_sqlite_with_every_expected_figure_and_twice_imports_nothing() {
    let env = test_env().await;
    let before = digest(&fixture());

    let dry = import(&env, &["--dry-run"]).await;
    assert_eq!(dry.code, Some(0), "{}", dry.all());
    assert!(
        dry.stdout.contains("dry run, nothing written"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("✓ orders closed"), "{}", dry.stdout);
    {
        let db = crate::open_db(&env).await;
        assert_eq!(
            db.count_orders().await.unwrap(),
            0,
            "a dry run writes nothing"
        );
        db.close().await;
    }

    let first = import(&env, &[]).await;
    assert_eq!(first.code, Some(0), "{}", first.all());
    assert!(
        first
            .stdout
            .contains("ORM + Alembic schema, Alembic revision ensure_parser_config"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("150 orders new (150 keep their number)"),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains('✗'), "{}", first.stdout);
    let db = crate::open_db(&env).await;
    check_expected(&db).await;
    db.close().await;

    let second = import(&env, &[]).await;
    assert_eq!(second.code, Some(0), "{}", second.all());
    assert!(
        second
            .stdout
            .contains("nothing new to import: all 150 orders were imported before"),
        "{}",
        second.stdout
    );
    let db = crate::open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 150);
    check_expected(&db).await;
    db.close().await;
    assert_eq!(digest(&fixture()), before, "the source is never written");
}

#[tokio::test]
async fn the_fixture_imports_into_postgres_with_every_expected_figure() {
    let schema = Schema::create().await;
    let mut env = test_env().await;
    env.set("DATABASE_URL", schema.url());
    // One order filed here first takes number 1 from the sequence.
    let db = Database::open_postgres(&schema.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO orders (client_name, equipment, description, address, phone, visit_time, status,
            created_at, updated_at) VALUES ('Анна', 'washing_machine', 'Не отжимает', 'ул. Мира, 1',
            '+79990000000', 'завтра', 'new', 0, 0)",
    )
    .execute(db.postgres_pool().unwrap())
    .await
    .unwrap();
    let run = import(&env, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("150 orders new (149 keep their number)"),
        "{}",
        run.stdout
    );
    check_expected(&db).await;
    // The old order 1 took the first number after the kept ones, and the
    // next order filed here gets the one after it.
    assert_eq!(
        int(&db, "SELECT id FROM orders WHERE legacy_number = 1").await,
        151
    );
    assert_eq!(
        int(
            &db,
            "SELECT nextval(pg_get_serial_sequence('orders', 'id'))"
        )
        .await,
        152
    );
    db.close().await;
    let again = import(&env, &[]).await;
    assert!(
        again.stdout.contains("nothing new to import"),
        "{}",
        again.all()
    );
    schema.drop().await;
}

/// A copy of the fixture with `extra` more orders (copies of the 150 under
/// new numbers), for a run long enough to be killed in the middle.
async fn bigger_fixture(dir: &Path, extra: usize) -> PathBuf {
    let path = dir.join("big_status_bot.db");
    std::fs::copy(fixture(), &path).unwrap();
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    sqlx::query("CREATE TEMP TABLE copy AS SELECT * FROM orders")
        .execute(&mut conn)
        .await
        .unwrap();
    for round in 1..=extra / 150 {
        sqlx::query("UPDATE copy SET id = id + 150")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO orders SELECT * FROM copy")
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    conn.close().await.unwrap();
    path
}

#[tokio::test]
async fn an_import_killed_halfway_leaves_nothing_and_a_rerun_completes_it() {
    let env = test_env().await;
    let source = bigger_fixture(env.path(), 30_000).await;
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.env.iter().map(|(k, v)| (k, v)))
        .current_dir(env.path())
        .args(["import", "status-bot", "--from", source.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("… 1000 of 30150 orders written"))
    });
    let seen = tokio::time::timeout(Duration::from_secs(120), seen)
        .await
        .expect("the import shows progress")
        .unwrap();
    assert!(seen.is_some(), "progress line before the end");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished: {status:?}");

    let db = crate::open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 0, "nothing half imported");
    assert_eq!(
        int(&db, "SELECT COUNT(*) FROM people").await,
        0,
        "not even the people"
    );
    db.close().await;

    let rerun = run_cli(
        &env,
        &["import", "status-bot", "--from", source.to_str().unwrap()],
    )
    .await;
    assert_eq!(rerun.code, Some(0), "{}", rerun.all());
    assert!(
        rerun.stdout.contains("30150 orders new"),
        "{}",
        rerun.stdout
    );
    let db = crate::open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 30_150);
    db.close().await;
}

#[tokio::test]
async fn a_damaged_file_and_an_unknown_schema_are_refused_in_one_line() {
    let env = test_env().await;
    // Half of the fixture: the pages it lists are missing.
    let damaged = env.path().join("damaged.db");
    let bytes = std::fs::read(fixture()).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let not_sqlite = env.path().join("notes.txt");
    std::fs::write(&not_sqlite, "это не база данных\n".repeat(200)).unwrap();
    let other = env.path().join("other.db");
    {
        let mut conn = SqliteConnectOptions::new()
            .filename(&other)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    for (file, says) in [
        (&damaged, "damaged"),
        (&not_sqlite, "not a readable SQLite database"),
        (
            &other,
            "not a Status_bot database: found tables [customers, orders], missing table users",
        ),
        (&env.path().join("missing.db"), "no such file"),
    ] {
        let run = run_cli(
            &env,
            &["import", "status-bot", "--from", file.to_str().unwrap()],
        )
        .await;
        assert_eq!(run.code, Some(1), "{}", run.all());
        let all = run.all();
        let lines: Vec<&str> = all.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line: {}", run.all());
        assert!(lines[0].contains(says), "{says}: {}", lines[0]);
    }
    let db = crate::open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 0);
    db.close().await;
}

/// The schema of older installations: the raw-SQL tables (TEXT and REAL
/// types, no CHECKs, `role TEXT DEFAULT 'UNKNOWN'`, a `version` column in
/// the history), orders without `refuse_reason`, and a leftover Alembic
/// table; the fixture's rows copied into it.
async fn raw_sql_variant(dir: &Path) -> PathBuf {
    let path = dir.join("raw_sql.db");
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    let fixture = fixture();
    for sql in [
        format!("ATTACH DATABASE '{}' AS fx", fixture.display()),
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, telegram_id INTEGER UNIQUE NOT NULL,
            username TEXT, first_name TEXT, last_name TEXT, role TEXT DEFAULT 'UNKNOWN',
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)".into(),
        "CREATE TABLE masters (id INTEGER PRIMARY KEY AUTOINCREMENT, telegram_id INTEGER UNIQUE NOT NULL,
            phone TEXT NOT NULL, specialization TEXT NOT NULL, is_active BOOLEAN DEFAULT 1,
            is_approved BOOLEAN DEFAULT 0, work_chat_id INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)".into(),
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, equipment_type TEXT NOT NULL,
            description TEXT NOT NULL, client_name TEXT NOT NULL, client_address TEXT NOT NULL,
            client_phone TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'NEW', assigned_master_id INTEGER,
            dispatcher_id INTEGER, notes TEXT, scheduled_time TEXT, total_amount REAL, materials_cost REAL,
            master_profit REAL, company_profit REAL, has_review BOOLEAN, out_of_city BOOLEAN,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            deleted_at TIMESTAMP)".into(),
        "CREATE TABLE order_status_history (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,
            old_status TEXT, new_status TEXT NOT NULL, changed_by INTEGER NOT NULL,
            changed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, notes TEXT, version INTEGER DEFAULT 1)".into(),
        "CREATE TABLE _alembic_tmp_audit_log (id INTEGER PRIMARY KEY, user_id INTEGER)".into(),
        "INSERT INTO users SELECT id, telegram_id, username, first_name, last_name, role, created_at FROM fx.users".into(),
        "INSERT INTO masters SELECT id, telegram_id, phone, specialization, is_active, is_approved, work_chat_id, created_at FROM fx.masters".into(),
        "INSERT INTO orders SELECT id, equipment_type, description, client_name, client_address, client_phone,
            status, assigned_master_id, dispatcher_id, notes, scheduled_time, total_amount, materials_cost,
            master_profit, company_profit, has_review, out_of_city, created_at, updated_at, deleted_at FROM fx.orders".into(),
        "INSERT INTO order_status_history SELECT id, order_id, old_status, new_status, changed_by, changed_at, notes, 1
            FROM fx.order_status_history".into(),
        "DETACH DATABASE fx".into(),
    ] {
        sqlx::query(&sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn.close().await.unwrap();
    path
}

#[tokio::test]
async fn the_older_raw_sql_schema_imports_with_its_missing_columns_left_empty() {
    let env = test_env().await;
    let source = raw_sql_variant(env.path()).await;
    let run = run_cli(
        &env,
        &["import", "status-bot", "--from", source.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("raw SQL schema, no Alembic revision"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
    let db = crate::open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 150);
    assert_eq!(
        int(
            &db,
            "SELECT COUNT(*) FROM orders WHERE refuse_reason IS NOT NULL"
        )
        .await,
        0,
        "the column is not there"
    );
    assert_eq!(
        int(
            &db,
            "SELECT CAST(SUM(master_kopecks) AS BIGINT) FROM orders WHERE status = 'closed'"
        )
        .await,
        16_331_500
    );
    db.close().await;
}

/// A running shop where `client_name` filed order 1 through the bot, and
/// then the fixture was imported: the report of the import.
async fn shop_with_an_order_and_the_fixture(
    client_name: &str,
) -> (crate::staff::Shop, crate::ops_support::CliRun) {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5001, client_name, "ru");
    let summary = crate::fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("Заявка №1 принята").await;
    let run = import(&shop.env, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    (shop, run)
}

#[tokio::test]
async fn imported_orders_are_found_by_their_old_numbers_and_worked_on_by_the_running_bot() {
    // The order filed here first takes number 1: the old order 1 gets a
    // new number and is still found as 1.
    let (shop, run) = shop_with_an_order_and_the_fixture("Анна").await;
    assert!(
        run.stdout
            .contains("150 orders new (149 keep their number)"),
        "{}",
        run.stdout
    );

    shop.dispatcher.send_command("/order 1");
    let ours = shop.dispatcher.expect_text("Заявка №1").await;
    assert!(ours.text.contains("ул. Ленина"), "{}", ours.text);
    let old = shop
        .dispatcher
        .expect_text("Номер в прежнем боте: №1")
        .await;
    assert!(old.text.contains("Заявка №151"), "{}", old.text);
    shop.dispatcher.send_command("/search 1");
    let found = shop.dispatcher.expect_text("№151").await;
    assert!(found.text.contains("№1"), "{}", found.text);

    // A deleted order is there to look at, with nothing to press.
    shop.dispatcher.send_command("/order 22");
    let deleted = shop.dispatcher.expect_text("Удалена в прежнем боте").await;
    assert!(
        !deleted
            .button_texts()
            .iter()
            .any(|b| b.contains("Назначить")),
        "{:?}",
        deleted.button_texts()
    );

    // An open imported order is given to one of this shop's masters.
    let db = crate::open_db(&shop.env).await;
    let new_one = int(
        &db,
        "SELECT MIN(id) FROM orders WHERE legacy_number IS NOT NULL AND status = 'new' AND deleted_at IS NULL",
    )
    .await;
    shop.dispatcher.send_command(&format!("/order {new_one}"));
    let card = shop
        .dispatcher
        .expect_text(&format!("Заявка №{new_one}"))
        .await;
    crate::staff::assign_to_petr(&shop, &card, new_one).await;
    let job = shop
        .master_a
        .expect_text(&format!("Вам назначена заявка №{new_one}"))
        .await;
    shop.master_a.press_button(&job, "Принять");
    shop.master_a
        .expect_text(&format!("Заявка №{new_one}: мастер принял"))
        .await;

    // An imported master finishes his imported long repair; the money is
    // split by this shop's rules (plumbing: half each).
    let sergey = shop.env.fake.user(624_132_244, "Сергей", "ru");
    sergey.send_command("/my_jobs");
    let card = sergey.expect_text("Заявка №67").await;
    sergey.press_button(&card, "Снова на месте");
    let m = sergey.expect_text("Заявка №67: мастер на месте").await;
    sergey.press_button(&m, "Закрыть");
    sergey.expect_text("Что сделано по заявке №67").await;
    sergey.send_text("Заменил гибкую подводку");
    sergey
        .expect_text("Сколько всего заплатил клиент по заявке №67")
        .await;
    answer_money(
        &sergey,
        67,
        CloseAnswers {
            total: "8200",
            materials: "1200",
            out_of_city: false,
            review: false,
        },
    )
    .await;
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let o = db.order(67).await.unwrap().unwrap();
            if o.status.to_string() == "closed" {
                break o;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("order 67 closed");
    assert_eq!(
        (
            closed.total_kopecks,
            closed.master_kopecks,
            closed.company_kopecks
        ),
        (Some(820_000), Some(350_000), Some(350_000))
    );
    db.close().await;
}

/// Every phone, address, name and text of the fixture worth looking for
/// (a needle of three characters or fewer would match anything).
async fn personal_data_of_fixture() -> Vec<String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(fixture())
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let mut needles = Vec::new();
    for sql in [
        "SELECT client_phone FROM orders",
        "SELECT client_address FROM orders",
        "SELECT client_name FROM orders",
        "SELECT description FROM orders",
        "SELECT notes FROM orders WHERE notes IS NOT NULL",
        "SELECT refuse_reason FROM orders WHERE refuse_reason IS NOT NULL",
        "SELECT master_lead_name FROM orders WHERE master_lead_name IS NOT NULL",
        "SELECT phone FROM masters",
        "SELECT first_name FROM users WHERE first_name IS NOT NULL",
        "SELECT last_name FROM users WHERE last_name IS NOT NULL",
        "SELECT username FROM users WHERE username IS NOT NULL",
    ] {
        let values: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap();
        needles.extend(values);
    }
    conn.close().await.unwrap();
    // A phone also in its normalised spelling and by its last digits.
    let mut extra = Vec::new();
    for n in &needles {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 10 {
            extra.push(digits[digits.len() - 10..].to_string());
        }
    }
    needles.extend(extra);
    needles.retain(|n| n.trim().chars().count() > 3);
    needles.sort();
    needles.dedup();
    needles
}

#[tokio::test]
async fn personal_data_stays_out_of_logs_through_an_order_an_import_and_a_backup() {
    let (shop, import) = shop_with_an_order_and_the_fixture("Ангелина").await;
    // Staff work on imported orders: look one up by a client's phone,
    // open a card, give one to a master.
    shop.dispatcher.send_command("/search +79176071624");
    shop.dispatcher.expect_text("найдено: 1").await;
    shop.dispatcher.send_command("/order 9");
    shop.dispatcher.expect_text("Заявка №9").await;
    let backup = run_cli(&shop.env, &["backup"]).await;
    assert_eq!(backup.code, Some(0), "{}", backup.all());
    assert!(shop
        .bot
        .stop_gracefully(Duration::from_secs(20))
        .await
        .success());

    let mut logs = shop.bot.full_output();
    for entry in std::fs::read_dir(shop.env.log_dir()).unwrap() {
        logs.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default());
    }
    logs.push_str(&import.all());
    logs.push_str(&backup.all());
    assert!(
        logs.contains("Бот успешно запущен") && logs.contains("✓ backup"),
        "the logs were read"
    );

    let mut needles = personal_data_of_fixture().await;
    needles.extend(
        [
            "+79991234567",
            "9991234567",
            "ул. Ленина, д. 15, кв. 42",
            "Стиральная машина не отжимает",
            "Ангелина",
        ]
        .map(String::from),
    );
    assert!(needles.len() > 400, "{} needles", needles.len());
    let leaked: Vec<&String> = needles
        .iter()
        .filter(|n| logs.contains(n.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "personal data in the logs: {leaked:?} ({} needles looked for)",
        needles.len()
    );
}

#[tokio::test]
async fn a_later_run_brings_over_what_changed_in_the_old_bot_unless_it_changed_here_too() {
    let env = test_env().await;
    let source = env.path().join("status_bot.db");
    std::fs::copy(fixture(), &source).unwrap();
    let from = source.to_str().unwrap().to_string();
    let first = run_cli(&env, &["import", "status-bot", "--from", &from]).await;
    assert_eq!(first.code, Some(0), "{}", first.all());

    // Since then: the old bot refused order 12 and order 13, and order 13
    // was also worked on here; a new order 151 was filed there.
    {
        let mut conn = SqliteConnectOptions::new()
            .filename(&source)
            .connect()
            .await
            .unwrap();
        for sql in [
            "UPDATE orders SET status = 'REFUSED', refuse_reason = 'Клиент передумал',
                updated_at = '2026-12-01 17:30:00.123456' WHERE id IN (12, 13)",
            "INSERT INTO order_status_history (order_id, old_status, new_status, changed_by, changed_at, notes)
                VALUES (12, 'NEW', 'REFUSED', 225546244, '2026-12-01 17:30:00.123456', 'Отмена заявки диспетчером')",
            "INSERT INTO orders (id, equipment_type, description, client_name, client_address, client_phone,
                status, rescheduled_count, created_at, updated_at, version)
                VALUES (151, 'Холодильники', 'Не морозит морозилка', 'Зоя', 'ул. Мира, д. 3', '+79990001122',
                'NEW', 0, '2026-12-01 17:40:00.000001', '2026-12-01 17:40:00.000001', 1)",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        conn.close().await.unwrap();
    }
    let db = crate::open_db(&env).await;
    // Orders 13 and 14 were worked on here (14 only here).
    sqlx::query("UPDATE orders SET updated_at = updated_at + 1, notes = 'позвонить' WHERE legacy_number IN (13, 14)")
        .execute(db.sqlite_pool().unwrap())
        .await
        .unwrap();

    let second = run_cli(&env, &["import", "status-bot", "--from", &from]).await;
    assert_eq!(second.code, Some(0), "{}", second.all());
    assert!(
        second.stdout.contains(
            "1 orders new (1 keep their number), 1 updated from the old bot, 147 imported before"
        ),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("! order 13 changed both here and in the old bot since it was imported"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains(
            "1 orders worked on here since they were imported are kept as they are here and left out of the figures"
        ),
        "{}",
        second.stdout
    );
    assert!(!second.stdout.contains('✗'), "{}", second.stdout);
    let twelve = db.order(12).await.unwrap().unwrap();
    assert_eq!(twelve.status.to_string(), "refused");
    assert_eq!(twelve.refuse_reason.as_deref(), Some("Клиент передумал"));
    let history = db.history(12).await.unwrap();
    assert_eq!(history.last().unwrap().action, "refuse");
    assert_eq!(
        history.iter().filter(|h| h.action == "create").count(),
        1,
        "the history is written again, not twice"
    );
    let thirteen = db.order(13).await.unwrap().unwrap();
    assert_eq!(
        thirteen.notes.as_deref(),
        Some("позвонить"),
        "kept as it is here"
    );
    assert_ne!(thirteen.status.to_string(), "refused");
    assert_eq!(db.order(151).await.unwrap().unwrap().client_name, "Зоя");

    let third = run_cli(&env, &["import", "status-bot", "--from", &from]).await;
    assert!(
        third
            .stdout
            .contains("nothing new to import: all 151 orders"),
        "{}",
        third.all()
    );
    db.close().await;
}
