//! FSM storage benchmark against Redis, through the bot's real `RedisStorage`.
//!
//! ```text
//! cargo bench --bench fsm_storage                                   # own redis-server on a free port
//! cargo bench --bench fsm_storage -- --redis redis://127.0.0.1:6379/0   # an existing Redis
//! ```
//!
//! Measures, one operation at a time (as a user's update does it):
//! - `get` (state + data, one `MGET` round trip) and `set` (state + data in one
//!   `MULTI`/`EXEC`) latency, p50 / p99 / p99.9 / max, on a
//!   multi-thread runtime (2 workers) and on a current-thread runtime (the
//!   bot's since 2026-11-25);
//! - `PING` through the same connection, the floor any command pays;
//! - Redis memory per active dialog: `INFO memory` `used_memory` before and
//!   after 10,000 dialogs parked at `OrderState:confirm`, encoded by
//!   `fsm::codec::encode` exactly as the bot stores them.
//!
//! With its own server the memory figure is clean. On a shared Redis other
//! clients' writes add noise; the bench keys (`aiogram:fsm:*:6000000000+i:…`)
//! are deleted at the end either way.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use repair_bot::domain::{ApplianceKind, OrderDraft, OrderStep};
use repair_bot::fsm::codec::{encode, Dialog};
use repair_bot::fsm::redis::RedisStorage;
use repair_bot::fsm::{DialogKey, FsmStorage, StoredDialog};

const DIALOGS: i64 = 10_000;
const FIRST_USER: i64 = 6_000_000_000;
const FIRST_UPDATE: i64 = 900_000_000;

struct Args {
    redis: Option<String>,
    ops: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        redis: None,
        ops: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--redis" => args.redis = it.next(),
            "--ops" => {
                args.ops = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--ops takes a number")
            }
            // `cargo bench` passes `--bench`; ignore it and anything unknown.
            _ => {}
        }
    }
    args
}

/// A private redis-server (default settings, no persistence) on a free port.
struct OwnRedis {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (apt-get install redis-server)");
        OwnRedis {
            child,
            _dir: dir,
            url: format!("redis://127.0.0.1:{port}/0"),
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bench_dialog(i: i64) -> (DialogKey, StoredDialog) {
    let draft = OrderDraft {
        equipment: Some(ApplianceKind::WashingMachine),
        description: Some("Стиральная машина не отжимает, гудит при сливе воды".into()),
        address: Some("г. Москва, ул. Ленина, д. 15, кв. 42".into()),
        phone: Some("+79991234567".into()),
        visit_time: Some("завтра после 18:00".into()),
        ..Default::default()
    };
    let dialog = Dialog::Order {
        step: OrderStep::Confirm,
        draft,
    };
    (
        DialogKey::private(FIRST_USER + i),
        encode(&dialog, Some(FIRST_UPDATE + i)),
    )
}

struct Stats {
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        max: *samples.last().unwrap(),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn print_row(name: &str, s: &Stats) {
    println!(
        "| {name:<28} | {:>8} | {:>8} | {:>8} | {:>8} |",
        us(s.p50),
        us(s.p99),
        us(s.p999),
        us(s.max)
    );
}

async fn latency(url: &str, ops: usize, runtime: &str) {
    let store = RedisStorage::connect(url, "aiogram", None)
        .await
        .expect("connect to Redis");
    let (key, dialog) = bench_dialog(DIALOGS + 1);
    // Warm-up: connection, allocator, CPU caches.
    for _ in 0..2_000 {
        store.set(key, &dialog).await.unwrap();
        store.get(key).await.unwrap();
    }
    let mut ping = Vec::with_capacity(ops);
    let mut set = Vec::with_capacity(ops);
    let mut get = Vec::with_capacity(ops);
    for _ in 0..ops {
        let t = Instant::now();
        store.ping().await.unwrap();
        ping.push(t.elapsed());
        let t = Instant::now();
        store.set(key, &dialog).await.unwrap();
        set.push(t.elapsed());
        let t = Instant::now();
        let back = store.get(key).await.unwrap();
        get.push(t.elapsed());
        assert_eq!(back.as_ref(), Some(&dialog));
    }
    store.clear(key).await.unwrap();
    println!("\nLatency, {ops} sequential operations each, {runtime} (µs):\n");
    println!("| operation                    |      p50 |      p99 |    p99.9 |      max |");
    println!("|------------------------------|---------:|---------:|---------:|---------:|");
    print_row("get (MGET state+data)", &stats(get));
    print_row("set (MULTI SET SET EXEC)", &stats(set));
    print_row("PING (round-trip floor)", &stats(ping));
}

async fn info_field(
    conn: &mut redis::aio::MultiplexedConnection,
    section: &str,
    name: &str,
) -> String {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_default()
        .trim()
        .to_string()
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    info_field(conn, "memory", "used_memory")
        .await
        .parse()
        .unwrap()
}

async fn memory(url: &str) {
    let store = RedisStorage::connect(url, "aiogram", None)
        .await
        .expect("connect to Redis");
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let version = info_field(&mut conn, "server", "redis_version").await;
    let allocator = info_field(&mut conn, "memory", "mem_allocator").await;

    let before = used_memory(&mut conn).await;
    for i in 0..DIALOGS {
        let (key, dialog) = bench_dialog(i);
        store.set(key, &dialog).await.unwrap();
    }
    // Let serverCron finish any incremental rehash of the keyspace table.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = used_memory(&mut conn).await;

    let (key, dialog) = bench_dialog(0);
    let layout = store.layout();
    let usage = |k: String| redis::cmd("MEMORY").arg("USAGE").arg(k).clone();
    let state_usage: i64 = usage(layout.state_key(key))
        .query_async(&mut conn)
        .await
        .unwrap();
    let data_usage: i64 = usage(layout.data_key(key))
        .query_async(&mut conn)
        .await
        .unwrap();

    for i in 0..DIALOGS {
        store.clear(bench_dialog(i).0).await.unwrap();
    }

    println!("\nMemory, {DIALOGS} dialogs at OrderState:confirm (redis {version}, {allocator}):\n");
    println!("- used_memory before: {before} B, after: {after} B");
    println!(
        "- per dialog: {:.1} B",
        (after - before) as f64 / DIALOGS as f64
    );
    println!(
        "- one dialog: state key {:?} ({} B) = {:?}; data key {:?} ({} B), value {} B:",
        layout.state_key(key),
        layout.state_key(key).len(),
        dialog.state,
        layout.data_key(key),
        layout.data_key(key).len(),
        dialog.data.len()
    );
    println!("  {}", dialog.data);
    println!("- MEMORY USAGE: state key {state_usage} B, data key {data_usage} B");
}

fn main() {
    let args = parse_args();
    let own = match &args.redis {
        Some(_) => None,
        None => Some(OwnRedis::start()),
    };
    let url = args
        .redis
        .clone()
        .or_else(|| own.as_ref().map(|o| o.url.clone()))
        .unwrap();

    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(async {
        // A fresh server needs a moment before it accepts connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while RedisStorage::connect(&url, "aiogram", None).await.is_err() {
            assert!(Instant::now() < deadline, "Redis at {url} does not answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("FSM storage benchmark (RedisStorage) against {url}");
        memory(&url).await;
        latency(&url, args.ops, "multi-thread runtime with 2 workers").await;
    });
    drop(multi);
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    current.block_on(latency(
        &url,
        args.ops,
        "current-thread runtime (as the bot)",
    ));
}
