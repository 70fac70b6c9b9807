//! Helpers shared by the `ops_*` tests: free ports, HTTP calls to the bot's
//! server, running the binary's operator subcommands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TestEnv;

pub use crate::support::free_port;

/// Sets `HTTP_ADDR` to a free local port and returns the server's base URL.
pub fn with_http(env: &mut TestEnv) -> String {
    let port = free_port();
    env.set("HTTP_ADDR", format!("127.0.0.1:{port}"));
    format!("http://127.0.0.1:{port}")
}

/// An HTTP client that gives up instead of hanging a test.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("reqwest client")
}

/// GET `url`: status and body.
pub async fn get(url: &str) -> (u16, String) {
    let resp = http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Polls GET `url` until `ok(status, body)` holds; panics with the last answer after 30 s.
pub async fn wait_for_get(url: &str, what: &str, ok: impl Fn(u16, &str) -> bool) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(url).await;
        if ok(answer.0, &answer.1) {
            return answer;
        }
        if Instant::now() >= deadline {
            panic!("{what}: last answer from {url}: {answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The value of one series (exact name with labels) in Prometheus text.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("series {series} missing in /metrics:\n{text}"))
}

/// Result of one run of the binary as an operator tool.
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Both streams, for assertion messages and secret scans.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `repair-bot <args>` with the environment of `env` (cwd = its temp dir).
pub async fn run_cli(env: &TestEnv, args: &[&str]) -> CliRun {
    let mut cmd = Command::new(&env.bin);
    cmd.env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .envs(env.env.iter().map(|(k, v)| (k, v)))
        .current_dir(env.path())
        .args(args)
        .stdin(Stdio::null());
    // The fake Bot API lives on this test's runtime: wait without blocking it.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run repair-bot");
    CliRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
