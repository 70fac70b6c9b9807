//! A private `redis-server` per test (needs /usr/bin/redis-server and redis-cli).
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;
use tempfile::TempDir;

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const REDIS_CLI: &str = "redis-cli";

/// Options for [`RedisServer::start`].
#[derive(Clone, Debug, Default)]
pub struct RedisOptions {
    /// `--appendonly yes` (data survives restart/kill via the AOF in the temp dir).
    pub appendonly: bool,
    /// `--requirepass`.
    pub requirepass: Option<String>,
}

/// A redis-server on 127.0.0.1 with its own temp dir. Dropping it SIGKILLs it.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    opts: RedisOptions,
}

impl RedisServer {
    /// Starts a server on a free port and waits for PONG.
    pub async fn start(opts: RedisOptions) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("redis-e2e-")
            .tempdir()
            .expect("tempdir");
        let mut last_err = String::new();
        let mut server = RedisServer {
            child: None,
            port: 0,
            dir,
            opts,
        };
        for _ in 0..5 {
            server.port = free_port();
            match server.launch().await {
                Ok(()) => return server,
                Err(e) => last_err = e,
            }
        }
        panic!("redis-server did not start: {last_err}");
    }

    async fn launch(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| e.to_string())?;
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args([
                "--appendonly",
                if self.opts.appendonly { "yes" } else { "no" },
            ])
            .args(["--save", ""])
            .args(["--daemonize", "no"]);
        if let Some(pass) = &self.opts.requirepass {
            cmd.args(["--requirepass", pass]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log));
        let child = cmd
            .spawn()
            .map_err(|e| format!("spawn {REDIS_SERVER}: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self
                .try_cli(&["ping"])
                .map(|s| s.trim() == "PONG")
                .unwrap_or(false)
            {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.child = None;
                    return Err(format!(
                        "redis-server exited with {status}; log:\n{}",
                        self.log()
                    ));
                }
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!("no PONG within 10 s; log:\n{}", self.log()));
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Process id of the running server (to SIGSTOP/SIGCONT it: a hung Redis).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:P/0` or `redis://:PASS@127.0.0.1:P/0`.
    pub fn url(&self) -> String {
        match &self.opts.requirepass {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// Data directory (AOF lives here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis-server.log")
    }

    /// redis-server's own output.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    pub fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(REDIS_CLI);
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(p) = &self.opts.requirepass {
            cmd.args(["-a", p, "--no-auth-warning"]);
        }
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run redis-cli: {e}"))?;
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(s)
    }

    /// Runs `redis-cli` with `args` against this server (authenticated) and returns
    /// stdout+stderr, trailing newline trimmed. E.g. `cli(&["GET", "k"])`.
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args)
            .unwrap_or_else(|e| panic!("{e}"))
            .trim_end_matches('\n')
            .to_string()
    }

    /// SIGTERM and wait (redis flushes the AOF on shutdown).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// SIGKILL and reap (simulates a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again (after stop/kill; stops it first if running) on the same port and dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.launch().await {
                Ok(()) => return,
                Err(e) if Instant::now() >= deadline => panic!("redis-server restart failed: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
