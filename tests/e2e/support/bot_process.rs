//! Runs the real bot binary as a child process with a controlled environment.
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::fake_api::FakeTelegram;

/// Log line the bot prints once it is receiving updates.
pub const STARTED_LINE: &str = "Бот успешно запущен!";
/// Token used by [`TestEnv`] (and accepted by its fake API).
pub const TEST_TOKEN: &str = "123456:TEST-TOKEN";
/// Admin user id in [`TestEnv`]'s default `ADMIN_IDS`.
pub const ADMIN_ID: i64 = 1001;
/// Dispatcher user id in [`TestEnv`]'s default `DISPATCHER_IDS`.
pub const DISPATCHER_ID: i64 = 2001;

/// A running bot process. Output (stdout + stderr) is appended to `workdir/bot-output.log`.
/// Dropping it SIGKILLs and reaps the process.
pub struct BotProcess {
    child: Mutex<Child>,
    pid: u32,
    log_path: PathBuf,
    /// Length of the log file when this process was spawned (earlier runs come before it).
    log_start: u64,
}

impl BotProcess {
    /// Spawns `bin` with a cleared environment (only `PATH` plus `env`), cwd = `workdir`.
    pub fn spawn(bin: &Path, workdir: &Path, env: &[(String, String)]) -> BotProcess {
        std::fs::create_dir_all(workdir).expect("create bot workdir");
        let log_path = workdir.join("bot-output.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open bot-output.log");
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("clone log handle")))
            .stderr(Stdio::from(log));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        BotProcess {
            pid: child.id(),
            child: Mutex::new(child),
            log_path,
            log_start,
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Path of the shared output log.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Output of this process (from its spawn on).
    pub fn output(&self) -> String {
        let all = std::fs::read(&self.log_path).unwrap_or_default();
        let start = (self.log_start as usize).min(all.len());
        String::from_utf8_lossy(&all[start..]).into_owned()
    }

    /// Whole log file, including earlier runs in the same workdir.
    pub fn full_output(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Last `lines` lines of this process's output.
    pub fn output_tail(&self, lines: usize) -> String {
        let out = self.output();
        let all: Vec<&str> = out.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Waits until this process's output contains `needle`; panics with the output tail on
    /// timeout or if the process exits first.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.output().contains(needle) {
                return;
            }
            if !self.is_running() {
                // One last look: the line may have been flushed right before exit.
                if self.output().contains(needle) {
                    return;
                }
                panic!(
                    "bot exited ({:?}) before logging {needle:?}\n--- bot output (tail) ---\n{}",
                    self.try_status(),
                    self.output_tail(80)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "bot did not log {needle:?} within {timeout:?}\n--- bot output (tail) ---\n{}",
                    self.output_tail(80)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many times `needle` occurs in this process's output.
    pub fn count_in_log(&self, needle: &str) -> usize {
        self.output().matches(needle).count()
    }

    fn signal(&self, sig: &str) {
        if self.is_running() {
            let _ = Command::new("kill")
                .arg(sig)
                .arg(self.pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        self.signal("-TERM");
    }

    /// Sends SIGINT (Ctrl+C).
    pub fn sigint(&self) {
        self.signal("-INT");
    }

    /// Sends SIGKILL.
    pub fn sigkill(&self) {
        self.signal("-KILL");
    }

    fn try_status(&self) -> Option<ExitStatus> {
        self.child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait()
            .ok()
            .flatten()
    }

    /// True while the process has not exited.
    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGTERM, then wait up to `timeout` for exit; panics with the output tail if it hangs.
    pub async fn stop_gracefully(&self, timeout: Duration) -> ExitStatus {
        self.sigterm();
        match self.wait_exit(timeout).await {
            Some(s) => s,
            None => panic!(
                "bot did not exit within {timeout:?} after SIGTERM\n--- bot output (tail) ---\n{}",
                self.output_tail(80)
            ),
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Ok(None) = child.try_wait() {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

/// A temp directory + fake Telegram + default bot environment.
///
/// Default env: `BOT_TOKEN`, `TELEGRAM_API_URL`, `ADMIN_IDS`, `DISPATCHER_IDS`,
/// `DATABASE_PATH=<dir>/data/bot.db`, `LOG_DIR=<dir>/logs`, `LOG_LEVEL=info`, `RUST_BACKTRACE=1`,
/// and the flood limits off (`USER_RATE_LIMIT=0`, `STAFF_RATE_LIMIT=0`).
pub struct TestEnv {
    pub dir: TempDir,
    pub fake: FakeTelegram,
    pub env: Vec<(String, String)>,
    pub bin: PathBuf,
}

impl TestEnv {
    /// New environment for the bot binary `bin` (pass `env!("CARGO_BIN_EXE_repair-bot")`).
    pub async fn new(bin: impl Into<PathBuf>) -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("repair-bot-e2e-")
            .tempdir()
            .expect("tempdir");
        let fake = FakeTelegram::start(TEST_TOKEN).await;
        let root = dir.path().to_path_buf();
        let env = vec![
            ("BOT_TOKEN".to_string(), TEST_TOKEN.to_string()),
            ("TELEGRAM_API_URL".to_string(), fake.api_url()),
            ("ADMIN_IDS".to_string(), ADMIN_ID.to_string()),
            ("DISPATCHER_IDS".to_string(), DISPATCHER_ID.to_string()),
            (
                "DATABASE_PATH".to_string(),
                root.join("data/bot.db").display().to_string(),
            ),
            (
                "LOG_DIR".to_string(),
                root.join("logs").display().to_string(),
            ),
            ("LOG_LEVEL".to_string(), "info".to_string()),
            ("RUST_BACKTRACE".to_string(), "1".to_string()),
            // Simulated users answer in milliseconds, far faster than people:
            // the flood limit is off unless a test is about it (tests/e2e/flood.rs).
            ("USER_RATE_LIMIT".to_string(), "0".to_string()),
            ("STAFF_RATE_LIMIT".to_string(), "0".to_string()),
            // Nor the outbox's pace: the fake is not Telegram, and a test of
            // 100 orders would wait 100 s for one staff chat's alerts
            // (benches/outbox.rs measures the pace against a strict fake).
            ("OUTBOX_BOT_RATE".to_string(), "0".to_string()),
            ("OUTBOX_CHAT_RATE".to_string(), "0".to_string()),
            // A daily summary falling into an unrelated test would be a
            // stray message in the staff chats (tests/e2e/scheduler.rs sets
            // its own thresholds).
            ("DAILY_SUMMARY_AT".to_string(), "off".to_string()),
        ];
        TestEnv {
            dir,
            fake,
            env,
            bin: bin.into(),
        }
    }

    /// Sets (or replaces) an environment variable for future spawns.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self.env.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key.to_string(), value)),
        }
        self
    }

    /// Removes an environment variable for future spawns.
    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Current value of a variable in the env.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The temp directory (bot cwd).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `DATABASE_PATH` of the default env.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("data/bot.db")
    }

    /// `LOG_DIR` of the default env.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// Spawns the bot without waiting for it to start.
    pub fn spawn_bot(&self) -> BotProcess {
        BotProcess::spawn(&self.bin, self.dir.path(), &self.env)
    }

    /// Spawns the bot and waits (30 s) for [`STARTED_LINE`].
    pub async fn start_bot(&self) -> BotProcess {
        let bot = self.spawn_bot();
        bot.wait_for_log(STARTED_LINE, Duration::from_secs(30))
            .await;
        bot
    }
}
