//! Logs to stdout and `LOG_DIR/bot.log` (what the runbook greps), rotated
//! daily with a retention, and scrubbed of secrets: the bot token and the
//! Redis password are replaced by `***` in every line, whatever logged them
//! (our code, teloxide, an HTTP error that quotes a URL).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Rotated files older than this many days are deleted.
pub const LOG_RETENTION_DAYS: u32 = 14;

/// Replaces secrets in log text.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// Scrubs each of `secrets` (empty and very short strings are ignored:
    /// masking "a" would mangle every line).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        Self {
            secrets: Arc::new(secrets),
        }
    }

    /// The text with every secret replaced by `***`.
    pub fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for s in self.secrets.iter() {
            if out.contains(s.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(s.as_str(), "***"));
            }
        }
        out
    }
}

/// `bot.log` that moves itself to `bot.log.YYYY-MM-DD` when the day changes.
struct DailyFile {
    dir: PathBuf,
    day: String,
    file: Option<File>,
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// Opens `bot.log` for appending; a new file is `0640` (readable by the
/// bot's group, e.g. a log shipper, never by everyone).
fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

impl DailyFile {
    fn open(dir: &Path) -> io::Result<Self> {
        // The log names order numbers and user ids: readable by the bot's
        // group (an operator's log shipper), never by everyone.
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dir)?;
        }
        let path = dir.join("bot.log");
        // A bot.log left from an earlier day is rotated now, not appended to.
        let day = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|t| {
                let t = time::OffsetDateTime::from(t);
                format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
            })
            .unwrap_or_else(|_| today());
        let mut this = Self {
            dir: dir.to_path_buf(),
            day,
            file: None,
        };
        this.rotate_if_needed()?;
        if this.file.is_none() {
            this.file = Some(open_log(&path)?);
        }
        Ok(this)
    }

    fn rotate_if_needed(&mut self) -> io::Result<()> {
        let now = today();
        if now == self.day {
            return Ok(());
        }
        let path = self.dir.join("bot.log");
        self.file = None;
        if path.exists() {
            fs::rename(&path, self.dir.join(format!("bot.log.{}", self.day)))?;
        }
        self.day = now;
        self.file = Some(open_log(&path)?);
        self.delete_old();
        Ok(())
    }

    fn delete_old(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut rotated: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("bot.log."))
            })
            .collect();
        rotated.sort();
        let excess = rotated.len().saturating_sub(LOG_RETENTION_DAYS as usize);
        for old in &rotated[..excess] {
            let _ = fs::remove_file(old);
        }
    }

    fn write_line(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.rotate_if_needed()?;
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes),
            None => Ok(()),
        }
    }
}

/// A writer for one log event: scrubs it, then writes it to its sink.
pub struct ScrubbingWriter {
    redactor: Redactor,
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    Stdout,
    File(Arc<Mutex<DailyFile>>),
}

impl Write for ScrubbingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = self.redactor.scrub(&text);
        match &self.sink {
            Sink::Stdout => io::stdout().lock().write_all(clean.as_bytes())?,
            Sink::File(f) => f
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write_line(clean.as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &self.sink {
            Sink::Stdout => io::stdout().flush(),
            Sink::File(_) => Ok(()),
        }
    }
}

/// Makes a [`ScrubbingWriter`] per event.
#[derive(Clone)]
pub struct ScrubbingMakeWriter {
    redactor: Redactor,
    sink: Sink,
}

impl<'a> MakeWriter<'a> for ScrubbingMakeWriter {
    type Writer = ScrubbingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter {
            redactor: self.redactor.clone(),
            sink: self.sink.clone(),
        }
    }
}

/// Installs the global subscriber: stdout + `log_dir/bot.log`, filtered by
/// `log_level` (an `EnvFilter` directive such as `info` or `repair_bot=debug`).
/// Also routes the `log` crate (teloxide, sqlx) into tracing.
pub fn init(log_dir: &Path, log_level: &str, redactor: Redactor) -> anyhow::Result<()> {
    let file = DailyFile::open(log_dir)
        .map_err(|e| anyhow::anyhow!("LOG_DIR: cannot write {}/bot.log: {e}", log_dir.display()))?;
    let filter = EnvFilter::try_new(log_level).map_err(|e| {
        anyhow::anyhow!("LOG_LEVEL: {log_level:?} is not a valid level or filter: {e}")
    })?;
    let stdout = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(ScrubbingMakeWriter {
            redactor: redactor.clone(),
            sink: Sink::Stdout,
        });
    let to_file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(ScrubbingMakeWriter {
            redactor,
            sink: Sink::File(Arc::new(Mutex::new(file))),
        });
    tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(to_file)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed() {
        let r = Redactor::new([
            "123:SECRET".to_string(),
            "pw".to_string(),
            "hunter22".to_string(),
        ]);
        assert_eq!(
            r.scrub("url /bot123:SECRET/GetMe pass hunter22"),
            "url /bot***/GetMe pass ***"
        );
        assert_eq!(
            r.scrub("pw stays (too short to mask safely)"),
            "pw stays (too short to mask safely)"
        );
    }

    #[test]
    fn old_bot_log_is_rotated_and_retention_applies() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=20 {
            fs::write(dir.path().join(format!("bot.log.2020-01-{day:02}")), "x").unwrap();
        }
        fs::write(dir.path().join("bot.log"), "old").unwrap();
        let mut f = DailyFile::open(dir.path()).unwrap();
        // Pretend the file was written yesterday.
        f.day = "2020-02-01".into();
        f.write_line(b"new\n").unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("bot.log")).unwrap(),
            "new\n"
        );
        assert!(dir.path().join("bot.log.2020-02-01").exists());
        let rotated = fs::read_dir(dir.path()).unwrap().filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("bot.log.")
        });
        assert_eq!(rotated.count(), LOG_RETENTION_DAYS as usize);
    }
}
