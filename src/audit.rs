//! The kill audit log: JSON lines, appended, never the password. A line
//! `"result": "attempt"` is written before each KILL and made durable
//! (`fsync`, once per re-check chunk) before the KILL is sent, a line with
//! the outcome after it; no record, no kill.
//!
//! The log is a regular file of ours: a symbolic link, a FIFO, a device, a
//! file of another user or a file that is not an audit log (its first line
//! is not a record) is refused at open with a one-line reason, so
//! `--audit-log` can neither hang on a FIFO nor append JSON to (or change the
//! mode of) a file that is not ours. Every record is one `write` of the whole
//! line; a write cut short (a full disk) is undone, so the next record never
//! lands glued to half a line.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::command::{KillMethod, KillMode, KillOutcome};
use crate::snapshot::{LISTED_INFO_CHARS, Session};

/// `result` of the line written before a KILL is sent.
pub const ATTEMPT: &str = "attempt";

/// How every record starts (`time` is the first field): an existing file
/// that starts otherwise is not an audit log.
pub const RECORD_START: &[u8] = b"{\"time\":\"";

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// RFC 3339 UTC time of the line. Keep it first ([`RECORD_START`]).
    pub time: String,
    /// The server endpoint (`127.0.0.1:3306`).
    pub server: &'a str,
    /// The session: id, user, host, db, command, time_ms, state, info (the
    /// statement as the processlist lists it: its first 100 bytes on
    /// MariaDB, characters on MySQL),
    /// trx_age_ms.
    #[serde(flatten)]
    pub session: &'a Session,
    /// True when `info` is as long as the processlist lists (100 bytes or
    /// more): the statement may be longer than what `info` holds.
    pub info_cut: bool,
    /// The whole statement (up to 16 KiB), read just before the KILL of a
    /// single session whose `info` may be cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<&'a str>,
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

/// True when `info` may be the processlist's cut of a longer statement
/// (MariaDB cuts at 100 bytes, MySQL 8 at 100 characters: both are at least
/// 100 bytes of UTF-8, a cut character included).
pub fn info_may_be_cut(info: Option<&str>) -> bool {
    info.is_some_and(|i| i.len() >= LISTED_INFO_CHARS)
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
            info_cut: info_may_be_cut(session.info.as_deref()),
            statement: None,
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
    /// Appends one record: when this returns `Ok` the whole line was
    /// written (not yet durable: see [`AuditSink::sync`]); on an error,
    /// nothing of it stays.
    fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()>;
    /// Makes every line appended so far durable (a power cut keeps them).
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Where the records go, for messages (the file's path).
    fn location(&self) -> String;
    /// Warnings gathered since the last call (a file whose mode was fixed).
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// An append-only JSON-lines file with mode 0600 (it holds query text).
/// Before each write it checks that the path still names the open file, and
/// reopens it (with the same checks) when it was rotated away or deleted.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    /// (device, inode) of `file`.
    identity: Option<(u64, u64)>,
    warnings: Vec<String>,
    /// Lines were written to `file` since its last `fsync`.
    unsynced: bool,
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

    /// Opens (creating parents and the file, mode 0600) for appending. The
    /// error names the reason a path is refused: a symbolic link, not a
    /// regular file, another user's file, not an audit log. An existing log
    /// open to other users is set to mode 0600, and one that ends in a cut
    /// line gets a newline first, each with a warning
    /// ([`AuditSink::take_warnings`]).
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let mut log = AuditLog {
            path: path.to_path_buf(),
            file: open_file(path)?,
            identity: None,
            warnings: Vec::new(),
            unsynced: false,
        };
        log.adopt()?;
        Ok(log)
    }

    /// Where the log is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the open file's identity, ends a cut last line and fixes a
    /// mode open to others (the file passed [`open_file`]'s checks).
    fn adopt(&mut self) -> io::Result<()> {
        let meta = self.file.metadata()?;
        self.identity = identity(&meta);
        if meta.len() > 0 && !ends_with_newline(&self.file, meta.len())? {
            write_line(&mut self.file, b"\n")?;
            self.unsynced = true;
            self.warnings.push(format!(
                "the audit log {} ended in a cut line: a newline was added",
                self.path.display()
            ));
        }
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
    /// renamed, deleted or replaced, by a symbolic link too), after making
    /// the lines written to the old one durable.
    fn follow_path(&mut self) -> io::Result<()> {
        let current = match std::fs::symlink_metadata(&self.path) {
            Ok(meta) => Some(identity(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if current == Some(self.identity) {
            return Ok(());
        }
        self.sync()?;
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
        write_line(&mut self.file, &line)?;
        self.unsynced = true;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// A file lines are appended to: its length can be read and cut back.
pub trait LineFile: Write {
    /// The file's length now.
    fn len_now(&self) -> io::Result<u64>;
    /// Cuts the file back to `len` bytes.
    fn cut_to(&mut self, len: u64) -> io::Result<()>;
}

impl LineFile for File {
    fn len_now(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn cut_to(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// Appends `line` with one write call (more only if the system writes it in
/// parts). A write cut short (a full disk) is undone: the file is cut back
/// to its length before, unless another process wrote to it meanwhile.
pub fn write_line(file: &mut dyn LineFile, line: &[u8]) -> io::Result<()> {
    let before = file.len_now()?;
    let mut written = 0;
    let failure = loop {
        if written == line.len() {
            return Ok(());
        }
        match file.write(&line[written..]) {
            Ok(0) => break io::Error::from(io::ErrorKind::WriteZero),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break e,
        }
    };
    if written > 0 {
        let ours = file
            .len_now()
            .is_ok_and(|len| len == before + written as u64);
        if !ours || file.cut_to(before).is_err() {
            return Err(io::Error::new(
                failure.kind(),
                format!("{failure}; a cut line is left in the log"),
            ));
        }
    }
    Err(failure)
}

/// True when the last byte of `file` (`len` bytes, not empty) is `\n`.
fn ends_with_newline(file: &File, len: u64) -> io::Result<bool> {
    let mut last = [0u8; 1];
    read_at(file, &mut last, len - 1)?;
    Ok(last[0] == b'\n')
}

/// Reads exactly `buf.len()` bytes at `offset`.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// An error naming why `--audit-log` refuses a path.
fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

/// Opens `path` for appending, creating it (mode 0600) and its parents,
/// after checking it names a regular file of ours that is empty or an audit
/// log. The path itself must not be a symbolic link (a directory on the
/// way may be). A FIFO is refused before it is opened (opening one for
/// writing would wait for a reader), and opened without waiting anyway
/// should it appear in between.
fn open_file(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => check_kind(&meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    no_follow_no_wait(&mut options);
    let file = options.open(path).map_err(|e| match e.raw_os_error() {
        Some(code) if code == ELOOP => refused(kind_refusal("a symbolic link")),
        Some(code) if code == ENXIO => refused(kind_refusal("a FIFO")),
        _ => e,
    })?;
    let meta = file.metadata()?;
    check_kind(&meta)?;
    check_owner(&meta)?;
    blocking(&file)?;
    check_content(&file, meta.len())?;
    Ok(file)
}

fn kind_refusal(what: &str) -> String {
    format!("it is {what}, not a regular file")
}

/// Refuses what is not a regular file.
fn check_kind(meta: &Metadata) -> io::Result<()> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let what = if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else {
        special_kind(meta)
    };
    Err(refused(kind_refusal(what)))
}

/// Refuses an existing file that does not start as an audit record does.
fn check_content(file: &File, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let n = RECORD_START
        .len()
        .min(usize::try_from(len).unwrap_or(usize::MAX));
    let mut head = vec![0u8; n];
    read_at(file, &mut head, 0)?;
    if RECORD_START.starts_with(&head) {
        return Ok(());
    }
    Err(refused(
        "it is not a conntop audit log (its first line is not an audit record)".to_string(),
    ))
}

#[cfg(unix)]
const ELOOP: i32 = libc::ELOOP;
#[cfg(unix)]
const ENXIO: i32 = libc::ENXIO;
#[cfg(not(unix))]
const ELOOP: i32 = -1;
#[cfg(not(unix))]
const ENXIO: i32 = -1;

/// `O_NOFOLLOW` (the path must not be a symbolic link) and `O_NONBLOCK` (a
/// FIFO is not waited on).
#[cfg(unix)]
fn no_follow_no_wait(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
}

#[cfg(not(unix))]
fn no_follow_no_wait(_: &mut OpenOptions) {}

/// Clears `O_NONBLOCK` again (the file is a regular one).
#[cfg(unix)]
fn blocking(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(unix))]
fn blocking(_: &File) -> io::Result<()> {
    Ok(())
}

/// Refuses a file owned by another user than the one conntop runs as.
#[cfg(unix)]
fn check_owner(meta: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no arguments and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() == me {
        return Ok(());
    }
    Err(refused(format!(
        "it belongs to another user (uid {}, conntop runs as uid {me})",
        meta.uid()
    )))
}

#[cfg(not(unix))]
fn check_owner(_: &Metadata) -> io::Result<()> {
    Ok(())
}

/// What a file that is not regular, a directory or a link is.
#[cfg(unix)]
fn special_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &Metadata) -> &'static str {
    "a special file"
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

    /// A scratch directory, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir =
                std::env::temp_dir().join(format!("conntop-audit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("mkdir");
            Dir(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn refusal(path: &Path) -> String {
        let e = AuditLog::open(path).expect_err("refused");
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        text
    }

    #[cfg(unix)]
    fn mode_of(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(p)
            .expect("stat")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn records_start_with_their_time() {
        let s = session();
        let rec = AuditRecord::attempt("db:3306", &s, KillMode::Query, KillMethod::Sql, "t");
        let line = serde_json::to_vec(&rec).expect("json");
        assert!(line.starts_with(RECORD_START));
        let v: serde_json::Value = serde_json::from_slice(&line).expect("json");
        assert_eq!(v["info_cut"], false);
        assert!(v.get("statement").is_none());
        assert!(info_may_be_cut(Some(&"x".repeat(100))));
        assert!(!info_may_be_cut(Some(&"x".repeat(99))));
        assert!(!info_may_be_cut(None));
    }

    /// A device (`/dev/full`, `/dev/null`), a FIFO (opening one for writing
    /// would wait for a reader: it must not hang), a directory and a
    /// symbolic link, even to a good log: refused at open, with why.
    #[cfg(unix)]
    #[test]
    fn anything_but_a_regular_file_is_refused_at_open() {
        for dev in ["/dev/full", "/dev/null"] {
            if Path::new(dev).exists() {
                let why = refusal(Path::new(dev));
                assert!(
                    why.contains("a character device, not a regular file"),
                    "{why}"
                );
            }
        }
        let dir = Dir::new("kinds");
        let fifo = dir.path("fifo.jsonl");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let why = refusal(&fifo);
        assert!(why.contains("a FIFO, not a regular file"), "{why}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let why = refusal(&dir.0);
        assert!(why.contains("a directory"), "{why}");

        let real = dir.path("real.jsonl");
        drop(AuditLog::open(&real).expect("opens"));
        let link = dir.path("link.jsonl");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let why = refusal(&link);
        assert!(why.contains("a symbolic link"), "{why}");
        // A dangling link is not followed to create its target either.
        let dangling = dir.path("dangling.jsonl");
        std::os::unix::fs::symlink(dir.path("nowhere.jsonl"), &dangling).expect("symlink");
        assert!(refusal(&dangling).contains("a symbolic link"));
        assert!(!dir.path("nowhere.jsonl").exists());
    }

    /// A log replaced by a symbolic link after it was opened: the next line
    /// is refused, not written through the link.
    #[cfg(unix)]
    #[test]
    fn a_log_replaced_by_a_link_is_not_followed() {
        let dir = Dir::new("relink");
        let path = dir.path("audit.jsonl");
        let victim = dir.path("victim");
        std::fs::write(&victim, "precious\n").expect("writes");
        let mut log = AuditLog::open(&path).expect("opens");
        std::fs::remove_file(&path).expect("removes");
        std::os::unix::fs::symlink(&victim, &path).expect("symlink");
        let e = attempt_line(&mut log, 1).expect_err("refused");
        assert!(e.to_string().contains("a symbolic link"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("reads"),
            "precious\n"
        );
    }

    /// `--audit-log /etc/passwd` as root: a file of ours that is not an
    /// audit log is neither appended to nor has its mode changed; another
    /// user's file is refused the same way.
    #[cfg(unix)]
    #[test]
    fn files_that_are_not_our_audit_log_are_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new("notours");
        let passwd = dir.path("passwd");
        let text = "root:x:0:0:root:/root:/bin/bash\n";
        std::fs::write(&passwd, text).expect("writes");
        std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let why = refusal(&passwd);
        assert!(why.contains("not a conntop audit log"), "{why}");
        assert_eq!(mode_of(&passwd), 0o644);
        assert_eq!(std::fs::read_to_string(&passwd).expect("reads"), text);

        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            // Root only; CI runs as root and must not pass by skipping.
            assert!(
                std::env::var_os("CI").is_none(),
                "this test needs root in CI"
            );
            return;
        }
        let theirs = dir.path("theirs.jsonl");
        std::fs::write(&theirs, "").expect("writes");
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::chown(&theirs, Some(54321), Some(54321)).expect("chown");
        let why = refusal(&theirs);
        assert!(why.contains("belongs to another user (uid 54321"), "{why}");
        assert_eq!(mode_of(&theirs), 0o644);
        assert_eq!(std::fs::metadata(&theirs).expect("stat").len(), 0);
    }

    /// A log that ends in half a line (written by a crash or an older
    /// version): the next record starts on a line of its own.
    #[test]
    fn a_cut_last_line_is_ended_before_the_next_record() {
        let dir = Dir::new("cut");
        let path = dir.path("audit.jsonl");
        std::fs::write(&path, "{\"time\":\"2024-01-01T00:00:00Z\",\"id\":1,\"res").expect("writes");
        let mut log = AuditLog::open(&path).expect("opens");
        let warnings = log.take_warnings();
        assert!(
            warnings.iter().any(|w| w.contains("cut line")),
            "{warnings:?}"
        );
        attempt_line(&mut log, 2).expect("appends");
        let text = std::fs::read_to_string(&path).expect("reads");
        let last = text.lines().last().expect("a line");
        let v: serde_json::Value = serde_json::from_str(last).expect("json");
        assert_eq!(v["id"], 2);
        log.sync().expect("syncs");
    }

    /// A file in memory with room for `room` bytes: a write past it is cut
    /// short, then fails as a full disk does.
    struct Tight {
        bytes: Vec<u8>,
        room: usize,
        /// Bytes another process appends after each write.
        other: Vec<u8>,
    }

    impl Write for Tight {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let free = self.room.saturating_sub(self.bytes.len());
            if free == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            let n = free.min(buf.len());
            self.bytes.extend_from_slice(&buf[..n]);
            self.bytes.extend_from_slice(&self.other);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl LineFile for Tight {
        fn len_now(&self) -> io::Result<u64> {
            Ok(self.bytes.len() as u64)
        }

        fn cut_to(&mut self, len: u64) -> io::Result<()> {
            self.bytes.truncate(len as usize);
            Ok(())
        }
    }

    #[test]
    fn a_write_cut_short_is_undone() {
        let mut file = Tight {
            bytes: b"{\"a\":1}\n".to_vec(),
            room: 16,
            other: Vec::new(),
        };
        let e = write_line(&mut file, b"{\"b\":2222222}\n").expect_err("full");
        assert_eq!(e.raw_os_error(), Some(28));
        assert_eq!(file.bytes, b"{\"a\":1}\n", "half a line was left");
        write_line(&mut file, b"{}\n").expect("fits");
        assert_eq!(file.bytes, b"{\"a\":1}\n{}\n");
        // Someone else wrote after our half line: it cannot be cut back
        // without cutting theirs, and the error says so.
        let mut file = Tight {
            bytes: Vec::new(),
            room: 4,
            other: b"x".to_vec(),
        };
        let e = write_line(&mut file, b"{\"b\":2}\n").expect_err("full");
        assert!(e.to_string().contains("cut line is left"), "{e}");
    }

    /// A real full disk (root only: a tiny tmpfs): every line in the file
    /// is whole, and the one that did not fit left nothing.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_leaves_only_whole_lines() {
        struct Mount(PathBuf);
        impl Drop for Mount {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(&self.0).status();
            }
        }
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            // Root only; CI runs as root and must not pass by skipping.
            assert!(
                std::env::var_os("CI").is_none(),
                "this test needs root in CI"
            );
            return;
        }
        let dir = Dir::new("tmpfs");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8k", "tmpfs"])
            .arg(&dir.0)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            return;
        }
        let mount = Mount(dir.0.clone());
        let path = mount.0.join("audit.jsonl");
        let mut log = AuditLog::open(&path).expect("opens");
        let mut written = 0;
        let failed = loop {
            match attempt_line(&mut log, written + 1) {
                Ok(()) => written += 1,
                Err(e) => break e,
            }
            assert!(written < 1000, "the tmpfs never filled up");
        };
        assert_eq!(failed.raw_os_error(), Some(28), "{failed}");
        let text = std::fs::read_to_string(&path).expect("reads");
        assert!(text.ends_with('\n'), "the file ends in half a line");
        assert_eq!(ids_in(&path), (1..=written).collect::<Vec<u64>>());
        drop(log);
        drop(mount);
    }
}
