//! The kill audit log: JSON lines, appended, never the password. A line
//! `"result": "attempt"` is written (and flushed) before each KILL, a line
//! with the outcome after it; no record, no kill.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::command::{KillMethod, KillMode, KillOutcome};
use crate::snapshot::Session;

/// `result` of the line written before a KILL is sent.
pub const ATTEMPT: &str = "attempt";

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// RFC 3339 UTC time of the line.
    pub time: String,
    /// The server endpoint (`127.0.0.1:3306`).
    pub server: &'a str,
    /// The session: id, user, host, db, command, time_ms, state, info (the
    /// full query as read), trx_age_ms.
    #[serde(flatten)]
    pub session: &'a Session,
    pub mode: KillMode,
    pub method: KillMethod,
    /// [`ATTEMPT`], or the outcome: `killed`, `would_kill`, `skipped`, `failed`.
    pub result: &'static str,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Why the kill was asked for ("idle kill, threshold 5m").
    pub why: &'a str,
    /// `true` when nothing was sent (`--dry-run`).
    pub dry_run: bool,
}

impl<'a> AuditRecord<'a> {
    /// The outcome of a kill of `session`.
    pub fn new(
        server: &'a str,
        session: &'a Session,
        mode: KillMode,
        method: KillMethod,
        outcome: &KillOutcome,
        why: &'a str,
    ) -> AuditRecord<'a> {
        AuditRecord {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            server,
            session,
            mode,
            method,
            result: outcome.result(),
            detail: outcome.detail(),
            why,
            dry_run: false,
        }
    }

    /// The line written before the KILL of `session` is sent.
    pub fn attempt(
        server: &'a str,
        session: &'a Session,
        mode: KillMode,
        method: KillMethod,
        why: &'a str,
    ) -> AuditRecord<'a> {
        AuditRecord {
            result: ATTEMPT,
            detail: None,
            ..AuditRecord::new(server, session, mode, method, &KillOutcome::Killed, why)
        }
    }
}

/// Where audit records go: the log file, or a fake in tests.
pub trait AuditSink {
    /// Appends one record and flushes it: when this returns `Ok` the line
    /// is in the file.
    fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()>;
    /// Where the records go, for messages (the file's path).
    fn location(&self) -> String;
    /// Warnings gathered since the last call (a file whose mode was fixed).
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// An append-only JSON-lines file with mode 0600 (it holds query text).
/// Before each write it checks that the path still names the open file, and
/// reopens it when it was rotated away or deleted.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    /// (device, inode) of `file`.
    identity: Option<(u64, u64)>,
    warnings: Vec<String>,
}

impl AuditLog {
    /// `$XDG_STATE_HOME/conntop/audit.jsonl`, else `~/.local/state/conntop/audit.jsonl`.
    pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        if let Some(state) = env("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
            return Some(PathBuf::from(state).join("conntop").join("audit.jsonl"));
        }
        env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".local/state/conntop/audit.jsonl"))
    }

    /// Opens (creating parents and the file) for appending. An existing
    /// regular file open to other users is set to mode 0600, with a warning
    /// ([`AuditSink::take_warnings`]).
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let mut log = AuditLog {
            path: path.to_path_buf(),
            file: open_file(path)?,
            identity: None,
            warnings: Vec::new(),
        };
        log.adopt()?;
        Ok(log)
    }

    /// Where the log is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the open file's identity and fixes a mode open to others.
    fn adopt(&mut self) -> io::Result<()> {
        let meta = self.file.metadata()?;
        self.identity = identity(&meta);
        if let Some(mode) = loose_mode(&meta) {
            restrict(&self.file)?;
            self.warnings.push(format!(
                "the audit log {} was open to other users (mode {mode:o}): set to 0600",
                self.path.display()
            ));
        }
        Ok(())
    }

    /// Reopens the path when it no longer names the open file (rotated,
    /// renamed or deleted).
    fn follow_path(&mut self) -> io::Result<()> {
        let current = match std::fs::metadata(&self.path) {
            Ok(meta) => Some(identity(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if current == Some(self.identity) {
            return Ok(());
        }
        self.file = open_file(&self.path)?;
        self.adopt()
    }
}

impl AuditSink for AuditLog {
    /// Appends one record as a single line (one write call, so lines from
    /// concurrent conntop processes do not interleave), to the file the path
    /// names now.
    fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.follow_path()?;
        self.file.write_all(&line)?;
        self.file.flush()
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// Opens `path` for appending, creating it (mode 0600) and its parents.
fn open_file(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// (device, inode) of a file.
#[cfg(unix)]
fn identity(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Metadata) -> Option<(u64, u64)> {
    None
}

/// The permission bits of a regular file that group or others may use.
#[cfg(unix)]
fn loose_mode(meta: &Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    (meta.is_file() && mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_: &Metadata) -> Option<u32> {
    None
}

#[cfg(unix)]
fn restrict(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kill::SkipReason;

    #[test]
    fn default_path_prefers_xdg_state_home() {
        let env = |k: &str| match k {
            "XDG_STATE_HOME" => Some("/s".to_string()),
            "HOME" => Some("/h".to_string()),
            _ => None,
        };
        assert_eq!(
            AuditLog::default_path(&env),
            Some(PathBuf::from("/s/conntop/audit.jsonl"))
        );
        let env = |k: &str| (k == "HOME").then(|| "/h".to_string());
        assert_eq!(
            AuditLog::default_path(&env),
            Some(PathBuf::from("/h/.local/state/conntop/audit.jsonl"))
        );
        assert_eq!(AuditLog::default_path(&|_| None), None);
    }

    #[test]
    fn appends_complete_json_lines() {
        let dir = std::env::temp_dir().join(format!("conntop-audit-test-{}", std::process::id()));
        let path = dir.join("sub/audit.jsonl");
        let session = Session {
            id: 7,
            user: "app".into(),
            host: "10.0.0.1:5000".into(),
            command: "Sleep".into(),
            time_ms: 400_000,
            info: Some("SELECT \"x\"\n".into()),
            ..Session::default()
        };
        let outcome = KillOutcome::Skipped(SkipReason::Busy {
            command: "Query".into(),
        });
        {
            let mut log = AuditLog::open(&path).expect("opens");
            let rec = AuditRecord::new(
                "127.0.0.1:3306",
                &session,
                KillMode::Connection,
                KillMethod::Sql,
                &outcome,
                "idle kill",
            );
            log.append(&rec).expect("appends");
            log.append(&rec).expect("appends");
        }
        let text = std::fs::read_to_string(&path).expect("reads");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(v["id"], 7);
        assert_eq!(v["result"], "skipped");
        assert_eq!(v["detail"], "busy now (Query)");
        assert_eq!(v["mode"], "connection");
        assert_eq!(v["info"], "SELECT \"x\"\n");
        assert_eq!(v["server"], "127.0.0.1:3306");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn session() -> Session {
        Session {
            id: 7,
            user: "app".into(),
            host: "10.0.0.1:5000".into(),
            command: "Sleep".into(),
            ..Session::default()
        }
    }

    fn attempt_line(log: &mut AuditLog, id: u64) -> io::Result<()> {
        let s = Session { id, ..session() };
        log.append(&AuditRecord::attempt(
            "db:3306",
            &s,
            KillMode::Connection,
            KillMethod::Sql,
            "test",
        ))
    }

    fn ids_in(path: &Path) -> Vec<u64> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                assert_eq!(v["result"], ATTEMPT);
                assert!(v.get("detail").is_none(), "{v}");
                v["id"].as_u64().expect("id")
            })
            .collect()
    }

    #[test]
    fn follows_the_path_when_the_log_is_rotated_or_deleted() {
        let dir = std::env::temp_dir().join(format!("conntop-audit-rot-{}", std::process::id()));
        let path = dir.join("audit.jsonl");
        let rotated = dir.join("audit.jsonl.1");
        let mut log = AuditLog::open(&path).expect("opens");
        attempt_line(&mut log, 1).expect("appends");
        // logrotate without copytruncate: rename, then the next line goes
        // to a new file under the old name.
        std::fs::rename(&path, &rotated).expect("renames");
        attempt_line(&mut log, 2).expect("appends");
        assert_eq!(ids_in(&rotated), vec![1]);
        assert_eq!(ids_in(&path), vec![2]);
        // Deleted: recreated, not written into the deleted inode.
        std::fs::remove_file(&path).expect("removes");
        attempt_line(&mut log, 3).expect("appends");
        assert_eq!(ids_in(&path), vec![3]);
        assert!(log.take_warnings().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_log_open_to_other_users_is_set_to_0600_with_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("conntop-audit-mode-{}", std::process::id()));
        let path = dir.join("audit.jsonl");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(&path, "").expect("creates");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut log = AuditLog::open(&path).expect("opens");
        assert_eq!(mode(&path), 0o600);
        let warnings = log.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("mode 644"), "{warnings:?}");
        assert!(log.take_warnings().is_empty());
        // A file put in its place by a rotation with `create 0640`: fixed too.
        std::fs::remove_file(&path).expect("removes");
        std::fs::write(&path, "").expect("creates");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        attempt_line(&mut log, 1).expect("appends");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(log.take_warnings().len(), 1);
        assert_eq!(ids_in(&path), vec![1]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_full_device_fails_the_write_and_is_left_alone() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let mut log = AuditLog::open(full).expect("opens");
        assert!(attempt_line(&mut log, 1).is_err());
        assert!(
            log.take_warnings().is_empty(),
            "a device's mode is not ours to fix"
        );
    }
}
