//! The kill audit log: one JSON line per kill attempt, appended, never the password.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::command::{KillMethod, KillMode, KillOutcome};
use crate::snapshot::Session;

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// RFC 3339 UTC time of the attempt.
    pub time: String,
    /// The server endpoint (`127.0.0.1:3306`).
    pub server: &'a str,
    /// The session as confirmed: id, user, host, db, command, time_ms,
    /// state, info (the full query as read), trx_age_ms.
    #[serde(flatten)]
    pub session: &'a Session,
    pub mode: KillMode,
    pub method: KillMethod,
    #[serde(flatten)]
    pub outcome: &'a KillOutcome,
    /// Why the kill was asked for ("idle kill, threshold 5m").
    pub why: &'a str,
    /// `true` when nothing was sent (`--dry-run`).
    pub dry_run: bool,
}

impl<'a> AuditRecord<'a> {
    /// A record for `session` as confirmed by the user.
    pub fn new(
        server: &'a str,
        session: &'a Session,
        mode: KillMode,
        method: KillMethod,
        outcome: &'a KillOutcome,
        why: &'a str,
    ) -> AuditRecord<'a> {
        AuditRecord {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            server,
            session,
            mode,
            method,
            outcome,
            why,
            dry_run: false,
        }
    }
}

/// Where audit records go: the log file, or a fake in tests.
pub trait AuditSink {
    /// Appends one record.
    fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()>;
    /// Where the records go, for messages (the file's path).
    fn location(&self) -> String;
}

/// An append-only JSON-lines file, created with mode 0600 (it holds query text).
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
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

    /// Opens (creating parents and the file) for appending.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
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
        let file = options.open(path)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Where the log is written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditSink for AuditLog {
    /// Appends one record as a single line (one write call, so lines from
    /// concurrent conntop processes do not interleave).
    fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
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
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(v["id"], 7);
        assert_eq!(v["result"], "skipped");
        assert_eq!(v["detail"], "busy now (Query)");
        assert_eq!(v["mode"], "connection");
        assert_eq!(v["info"], "SELECT \"x\"\n");
        assert_eq!(v["server"], "127.0.0.1:3306");
        let _ = std::fs::remove_dir_all(dir);
    }
}
