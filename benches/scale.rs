//! A shop at the scale of years: 1,000,000 generated orders (three years of
//! a busy shop, 20 masters, 200,000 clients) in SQLite and in PostgreSQL,
//! and what the owner and the desk do with them: the monthly Excel report,
//! `/stats` over a month (figures, money per master, the chart), a search
//! by phone. Each is timed through the bot's own functions, with the peak
//! resident memory it adds, and the query plans of the statements behind
//! them are printed (docs/BENCHMARKS.md, "At the scale of years").
//!
//! `cargo bench --bench scale` (both backends; `-- --sqlite` or
//! `-- --postgres` for one, `--orders N` for another size). PostgreSQL is
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! in a schema of its own that is dropped at the end.

use std::time::{Duration, Instant};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use repair_bot::db::{Database, Person, StatsDay};
use repair_bot::domain::{day_start, ApplianceKind, Code, Money, Role, SearchQuery};
use repair_bot::reports::{self, ReportMaster};

const MASTERS: i64 = 20;
const CLIENTS: i64 = 200_000;
const YEARS_MS: i64 = 3 * 365 * 86_400_000;
/// Rounds of each timed operation (the first warms the caches).
const ROUNDS: usize = 5;
const SEARCHES: usize = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let orders: i64 = args
        .iter()
        .position(|a| a == "--orders")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let (sqlite, postgres) = match (flag("--sqlite"), flag("--postgres")) {
        (false, false) => (true, true),
        picked => picked,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    if sqlite {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("scale.db");
        let db = Database::open_sqlite(&path).await?;
        let started = Instant::now();
        let fill = fill_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)",
            "printf('%07d', i % $4)",
        );
        generate(&db, orders, now, &fill).await?;
        let size = std::fs::metadata(&path)?.len() + wal_size(&path);
        println!(
            "SQLite: {orders} orders generated in {:.1} s ({:.0} MB on disk)",
            started.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
        measure(&db, now, orders).await?;
        plans(&db).await?;
        db.close().await;
    }
    if postgres {
        let url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin = sqlx::PgPool::connect(&url).await?;
        let schema = format!("scale_bench_{}", std::process::id());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let bench_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
        let outcome = async {
            let db = Database::open_postgres(&bench_url).await?;
            let started = Instant::now();
            let fill = fill_sql(
                "WITH n(i) AS (SELECT generate_series(1::bigint, $1))",
                "lpad((i % $4)::text, 7, '0')",
            );
            generate(&db, orders, now, &fill).await?;
            // What autovacuum leaves a table in: statistics for the planner
            // and the visibility map index-only scans rely on.
            sqlx::query("VACUUM ANALYZE orders")
                .execute(db.postgres_pool().expect("postgres"))
                .await?;
            println!(
                "PostgreSQL: {orders} orders generated in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            measure(&db, now, orders).await?;
            plans(&db).await?;
            db.close().await;
            anyhow::Ok(())
        }
        .await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await?;
        outcome?;
    }
    Ok(())
}

fn wal_size(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

/// The statement that generates `$1` orders: created evenly over three
/// years up to `$2`; of every 20, 14 closed two days later with money, 3
/// refused, 1 cancelled, 1 new, 1 assigned; `$5` masters, `$4` phones.
/// `numbers` is the dialect's source of the rows 1..=`$1` (as `n(i)`),
/// `phone_digits` its seven-digit spelling of `i % $4`.
fn fill_sql(numbers: &str, phone_digits: &str) -> String {
    format!(
        "{numbers}
    INSERT INTO orders (client_name, client_lang, equipment, description, address, phone, visit_time,
        status, master_id, total_kopecks, materials_kopecks, master_kopecks, company_kopecks,
        master_percent, out_of_city, has_review, created_at, updated_at, assigned_at, done_at)
    SELECT 'Клиент ' || (i % $4), 'ru',
        CASE i % 5 WHEN 0 THEN 'washing_machine' WHEN 1 THEN 'refrigerator' WHEN 2 THEN 'dishwasher'
            WHEN 3 THEN 'oven' ELSE 'water_heater' END,
        'Не включается, гудит', 'ул. Ленина, д. ' || (i % 300) || ', кв. ' || (i % 97),
        '+7999' || {phone_digits}, 'завтра после 18:00',
        CASE WHEN i % 20 < 14 THEN 'closed' WHEN i % 20 < 17 THEN 'refused'
            WHEN i % 20 = 17 THEN 'cancelled' WHEN i % 20 = 18 THEN 'new' ELSE 'assigned' END,
        CASE WHEN i % 20 IN (17, 18) THEN NULL ELSE 7000000 + i % $5 END,
        CASE WHEN i % 20 < 14 THEN 300000 + (i % 50) * 20000 END,
        CASE WHEN i % 20 < 14 THEN 50000 + (i % 7) * 10000 END,
        CASE WHEN i % 20 < 14 THEN (250000 + (i % 50) * 20000 - (i % 7) * 10000) / 2 END,
        CASE WHEN i % 20 < 14 THEN 250000 + (i % 50) * 20000 - (i % 7) * 10000
            - (250000 + (i % 50) * 20000 - (i % 7) * 10000) / 2 END,
        CASE WHEN i % 20 < 14 THEN 50 END,
        CASE WHEN i % 20 < 14 THEN i % 9 = 0 END,
        CASE WHEN i % 20 < 14 THEN i % 3 = 0 END,
        $2 - $3 + i * ($3 / $1), $2 - $3 + i * ($3 / $1) + 172800000,
        CASE WHEN i % 20 NOT IN (17, 18) THEN $2 - $3 + i * ($3 / $1) + 1800000 END,
        CASE WHEN i % 20 < 14 THEN $2 - $3 + i * ($3 / $1) + 172800000 END
    FROM n"
    )
}

async fn generate(db: &Database, orders: i64, now: i64, fill: &str) -> anyhow::Result<()> {
    // One statement for either pool (each expansion has its own types).
    macro_rules! fill_on {
        ($pool:expr) => {
            sqlx::query(fill)
                .bind(orders)
                .bind(now)
                .bind(YEARS_MS)
                .bind(CLIENTS)
                .bind(MASTERS)
                .execute($pool)
                .await
                .map(drop)?
        };
    }
    match (db.sqlite_pool(), db.postgres_pool()) {
        (Some(pool), _) => fill_on!(pool),
        (_, Some(pool)) => fill_on!(pool),
        _ => unreachable!(),
    }
    for m in 0..MASTERS {
        let master = Person {
            user_id: 7_000_000 + m,
            role: Role::Master,
            name: format!("Мастер {m}"),
        };
        db.upsert_person(&master, 0).await?;
    }
    Ok(())
}

/// Resident memory now and the peak since the last reset, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `op` [`ROUNDS`] times; prints the median and worst time and the
/// most resident memory any round added.
async fn timed<F, Fut>(what: &str, mut op: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let mut times = Vec::new();
    let mut extra = 0u64;
    let mut detail = String::new();
    for _ in 0..ROUNDS {
        // Resets the peak (VmHWM) to the current resident size.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (before, _) = memory();
        let started = Instant::now();
        detail = op().await?;
        times.push(started.elapsed());
        let (_, peak) = memory();
        extra = extra.max(peak.saturating_sub(before));
    }
    times.sort();
    println!(
        "  {what}: median {:.0} ms, worst {:.0} ms, +{:.1} MB peak resident; {detail}",
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap()),
        extra as f64 / 1_048_576.0
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn measure(db: &Database, now: i64, orders: i64) -> anyhow::Result<()> {
    let tz = TimeZone::get("Europe/Moscow")?;
    let today = tz
        .to_datetime(jiff::Timestamp::from_millisecond(now)?)
        .date();
    let month_start = today.first_of_month();
    let last_month = month_start.yesterday()?.first_of_month();
    let (from, to) = (day_ms(last_month, &tz), day_ms(month_start, &tz));

    timed("monthly report (last month, all masters, xlsx)", || async {
        let orders = db.closed_between(from, to, None).await?;
        let masters: Vec<ReportMaster> = db
            .master_candidates()
            .await?
            .into_iter()
            .map(|c| ReportMaster {
                id: Some(c.profile.user_id),
                name: c.profile.name,
            })
            .collect();
        let bytes = reports::masters_period(
            "Период: прошлый месяц",
            &orders,
            &masters,
            &|k: ApplianceKind| k.code().to_string(),
            &tz,
        )?;
        Ok(format!(
            "{} closed orders, {} KB",
            orders.len(),
            bytes.len() / 1024
        ))
    })
    .await?;

    let days = StatsDay::last(today, 30, &tz);
    timed(
        "/stats for the last 30 days (figures, money per master, chart)",
        || async {
            let s = db.stats(&days).await?;
            let (from, to) = (days[0].from_ms, days[days.len() - 1].to_ms);
            let closed = db.closed_between(from, to, None).await?;
            let mut revenue: std::collections::BTreeMap<Option<i64>, Money> = Default::default();
            for o in &closed {
                let total = o.total().unwrap_or(Money::ZERO);
                let entry = revenue.entry(o.master_id).or_insert(Money::ZERO);
                *entry = *entry + total;
            }
            let named: Vec<(String, Money)> = revenue
                .into_iter()
                .map(|(m, total)| (format!("{m:?}"), total))
                .collect();
            let png = reports::chart::stats_png("Заявки по дням", &s.by_day, "Выручка", &named)?;
            Ok(format!(
                "{} orders in all, {} closed in the days, chart {} KB",
                s.total,
                closed.len(),
                png.len() / 1024
            ))
        },
    )
    .await?;

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut times = Vec::with_capacity(SEARCHES);
    let mut found = 0;
    for _ in 0..SEARCHES {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let phone = format!("+7999{:07}", seed % CLIENTS.min(orders) as u64);
        let query = SearchQuery::Phone(phone);
        let started = Instant::now();
        let (hits, total) = db.search_orders(&query, 10).await?;
        times.push(started.elapsed());
        found += total;
        assert!(!hits.is_empty());
    }
    times.sort();
    println!(
        "  search by phone ({SEARCHES} random clients, 10 newest shown): p50 {:.2} ms, p99 {:.2} ms, worst {:.2} ms; {:.1} orders per client",
        ms(times[SEARCHES / 2]),
        ms(times[SEARCHES * 99 / 100]),
        ms(*times.last().unwrap()),
        found as f64 / SEARCHES as f64
    );
    Ok(())
}

fn day_ms(d: Date, tz: &TimeZone) -> i64 {
    day_start(d, tz).as_millisecond()
}

/// The statements behind the figures above, as the bot runs them.
const PLANNED: [(&str, &str); 6] = [
    (
        "closed orders of a period (report, /stats money)",
        "SELECT id FROM orders WHERE status = 'closed' AND deleted_at IS NULL AND done_at >= 1 AND done_at < 2 AND (NULL IS NULL OR master_id = NULL) ORDER BY done_at, id",
    ),
    (
        "orders per status (/stats)",
        "SELECT status, COUNT(*) FROM orders WHERE deleted_at IS NULL GROUP BY status ORDER BY status",
    ),
    (
        "orders per master and status (/stats)",
        "SELECT master_id, status, COUNT(*) FROM orders WHERE master_id IS NOT NULL AND deleted_at IS NULL GROUP BY master_id, status",
    ),
    (
        "orders filed per day (/stats)",
        "SELECT CASE WHEN created_at < 2 THEN 0 END AS day, COUNT(*) FROM orders WHERE created_at >= 1 AND created_at < 3 AND deleted_at IS NULL GROUP BY day ORDER BY day",
    ),
    (
        "mean time to assign (/stats)",
        "SELECT AVG(CAST(assigned_at - created_at AS DOUBLE PRECISION) / 60000) FROM orders WHERE created_at >= 1 AND created_at < 2 AND assigned_at IS NOT NULL AND deleted_at IS NULL",
    ),
    (
        "search by phone",
        "SELECT id FROM orders WHERE phone = '+79990000001' AND deleted_at IS NULL ORDER BY id DESC",
    ),
];

async fn plans(db: &Database) -> anyhow::Result<()> {
    for (what, sql) in PLANNED {
        let lines: Vec<String> = match (db.sqlite_pool(), db.postgres_pool()) {
            (Some(pool), _) => {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .fetch_all(pool)
                        .await?;
                rows.into_iter().map(|r| r.3).collect()
            }
            (_, Some(pool)) => {
                sqlx::query_scalar(&format!("EXPLAIN {sql}"))
                    .fetch_all(pool)
                    .await?
            }
            _ => unreachable!(),
        };
        println!("  plan of {what}:");
        for line in lines {
            println!("      {line}");
        }
    }
    Ok(())
}
