//! Appends snapshots to a recording directory: a keyframe at a fixed period
//! and deltas in between, one block per snapshot written with one `write`,
//! files rotated by the hour or by size, old files deleted by age and total
//! size. A failed write (disk full) is reported once; the file is cut back
//! to its last whole block and a new file is tried every
//! [`RETRY_EVERY`] until writing works again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::command::Down;
use crate::snapshot::Snapshot;

use super::clock::{Utc, parse_compact};
use super::format::{self, DownRecord, Index, Kind};
use super::model::{State, to_ms};

/// How often a failed recorder tries a new file.
pub const RETRY_EVERY: Duration = Duration::from_secs(10);

/// File names: `conntop-20261130-031205.rec`, `-2`, `-3`... when taken.
const PREFIX: &str = "conntop-";
const SUFFIX: &str = ".rec";

/// The moment a file's name says it starts at, and its collision number.
pub fn parse_name(name: &str) -> Option<(SystemTime, u32)> {
    let stem = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (time, n) = match stem.get(15..) {
        Some("") => (stem, 0),
        Some(rest) => (stem.get(..15)?, rest.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    Some((parse_compact(time)?, n))
}

fn name_for(t: SystemTime, n: u32) -> String {
    let base = Utc::of(t).compact();
    if n == 0 {
        format!("{PREFIX}{base}{SUFFIX}")
    } else {
        format!("{PREFIX}{base}-{n}{SUFFIX}")
    }
}

/// An open file being appended to.
pub trait Sink: Write + Send {
    /// Cuts the file to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl Sink for File {
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// A file of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
}

/// Where the files go: a directory, or a test's stand-in.
pub trait Files: Send {
    /// Creates `name`; `AlreadyExists` when it is there.
    fn create(&mut self, name: &str) -> io::Result<Box<dyn Sink>>;
    /// The recording files.
    fn list(&self) -> io::Result<Vec<Entry>>;
    /// Deletes `name`.
    fn remove(&mut self, name: &str) -> io::Result<()>;
}

/// A directory on disk.
#[derive(Debug, Clone)]
pub struct Dir(pub PathBuf);

impl Dir {
    /// The directory, created if missing.
    pub fn create(path: &Path) -> io::Result<Dir> {
        fs::create_dir_all(path)?;
        Ok(Dir(path.to_path_buf()))
    }
}

impl Files for Dir {
    fn create(&mut self, name: &str) -> io::Result<Box<dyn Sink>> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.0.join(name))?;
        Ok(Box::new(file))
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.0)? {
            let e = e?;
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if parse_name(&name).is_some() {
                out.push(Entry {
                    name,
                    size: e.metadata().map_or(0, |m| m.len()),
                });
            }
        }
        Ok(out)
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        fs::remove_file(self.0.join(name))
    }
}

/// How a recording is laid out and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// A whole snapshot at least this often (and first in every file).
    pub keyframe_every: Duration,
    /// A new file when the clock enters a new period of this length.
    pub rotate_every: Duration,
    /// A new file when the current one is this big.
    pub rotate_bytes: u64,
    /// Files whose data are all older than this are deleted.
    pub retention: Option<Duration>,
    /// The oldest files are deleted while all of them take more than this.
    pub max_total: Option<u64>,
}

/// Defaults: keyframes every 5 minutes, hourly files (at most 256 MiB).
pub const KEYFRAME_EVERY: Duration = Duration::from_secs(300);

impl WriterOptions {
    /// The defaults, bounded by `retention` and `max_total` (files are cut
    /// at an eighth of `max_total`, so deleting one frees little at a time).
    pub fn bounded(retention: Option<Duration>, max_total: Option<u64>) -> WriterOptions {
        let rotate_bytes = max_total.map_or(256 << 20, |m| (m / 8).clamp(4 << 10, 256 << 20));
        WriterOptions {
            keyframe_every: KEYFRAME_EVERY,
            rotate_every: Duration::from_secs(3600),
            rotate_bytes,
            retention,
            max_total,
        }
    }
}

/// Something a recorder logs (one line each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriterEvent {
    /// A new file was started.
    Opened(String),
    /// A file was closed with its index.
    Closed(String),
    /// An old file was deleted by the retention rules.
    Removed { name: String, why: String },
    /// Writing failed; nothing is recorded until it works again.
    Failed(String),
    /// Writing works again after `lost` snapshots were not recorded.
    Recovered { lost: u64 },
}

struct Current {
    name: String,
    out: Box<dyn Sink>,
    bytes: u64,
    period: u64,
    index: Index,
}

/// The recorder's writer.
pub struct Writer<F: Files = Dir> {
    files: F,
    opts: WriterOptions,
    current: Option<Current>,
    /// The state the last block left (what a reader holds now).
    prev: Option<State>,
    last_keyframe_ms: i64,
    /// Writing has failed since; the first error.
    failed: Option<String>,
    next_retry: Option<SystemTime>,
    lost: u64,
    events: Vec<WriterEvent>,
}

impl<F: Files> std::fmt::Debug for Writer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("file", &self.current.as_ref().map(|c| &c.name))
            .field("failed", &self.failed)
            .finish()
    }
}

impl<F: Files> Writer<F> {
    /// A writer that starts a new file on its first snapshot (never appends
    /// to an old one: a restarted recorder continues in a new file).
    pub fn new(files: F, opts: WriterOptions) -> Writer<F> {
        Writer {
            files,
            opts,
            current: None,
            prev: None,
            last_keyframe_ms: i64::MIN,
            failed: None,
            next_retry: None,
            lost: 0,
            events: Vec::new(),
        }
    }

    /// The file being written, if any.
    pub fn current_file(&self) -> Option<&str> {
        self.current.as_ref().map(|c| c.name.as_str())
    }

    /// The files' stand-in (tests).
    pub fn files_mut(&mut self) -> &mut F {
        &mut self.files
    }

    /// Records a snapshot; returns what to log.
    pub fn append(&mut self, snap: &Snapshot) -> Vec<WriterEvent> {
        let at_ms = to_ms(snap.taken_at);
        if self.ready(snap.taken_at) {
            let keyframe = self.prev.is_none()
                || at_ms.saturating_sub(self.last_keyframe_ms)
                    >= to_ms_duration(self.opts.keyframe_every);
            let base = self.prev.take().unwrap_or_default();
            let next = base.next(snap);
            let (kind, payload) = if keyframe {
                (Kind::Keyframe, next.encode_keyframe())
            } else {
                (Kind::Delta, base.encode_delta(&next))
            };
            if self.write(kind, at_ms, &payload) {
                if keyframe {
                    self.last_keyframe_ms = at_ms;
                }
                self.prev = Some(next);
            }
        } else {
            self.lost += 1;
        }
        std::mem::take(&mut self.events)
    }

    /// Records that the server could not be reached at `at`.
    pub fn append_down(&mut self, down: &Down, at: SystemTime) -> Vec<WriterEvent> {
        if self.ready(at) {
            let rec = DownRecord {
                since_ms: to_ms(down.since),
                attempts: down.attempts,
                last_error: down.last_error.clone(),
            };
            self.write(Kind::Down, to_ms(at), &rec.encode());
        }
        std::mem::take(&mut self.events)
    }

    /// Closes the current file with its index (on exit).
    pub fn close(&mut self) -> Vec<WriterEvent> {
        self.close_current();
        std::mem::take(&mut self.events)
    }

    /// Rotates if due and opens a file if none is open; false while failed.
    fn ready(&mut self, at: SystemTime) -> bool {
        let at_ms = to_ms(at);
        let period = period_of(at_ms, self.opts.rotate_every);
        let due = self
            .current
            .as_ref()
            .is_some_and(|c| c.period != period || c.bytes >= self.opts.rotate_bytes);
        if due {
            self.close_current();
        }
        if self.current.is_some() {
            return true;
        }
        if self.next_retry.is_some_and(|t| at < t) {
            return false;
        }
        match self.open(at) {
            Ok(c) => {
                self.current = Some(c);
                self.prev = None;
                self.next_retry = None;
                self.enforce_retention(at);
                true
            }
            Err(e) => {
                self.fail(at, format!("cannot start a recording file: {e}"));
                false
            }
        }
    }

    fn open(&mut self, at: SystemTime) -> io::Result<Current> {
        let mut n = 0;
        loop {
            let name = name_for(at, n);
            match self.files.create(&name) {
                Ok(mut out) => {
                    if let Err(e) = out.write_all(&format::file_header()) {
                        drop(out);
                        let _ = self.files.remove(&name);
                        return Err(e);
                    }
                    self.events.push(WriterEvent::Opened(name.clone()));
                    return Ok(Current {
                        name,
                        out,
                        bytes: format::FILE_HEADER_LEN,
                        period: period_of(to_ms(at), self.opts.rotate_every),
                        index: Index::default(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes one block; false (and the file dropped) when that failed.
    fn write(&mut self, kind: Kind, at_ms: i64, payload: &[u8]) -> bool {
        let Some(c) = self.current.as_mut() else {
            return false;
        };
        let bytes = format::block(kind, at_ms, payload);
        match c.out.write_all(&bytes) {
            Ok(()) => {
                let idx = &mut c.index;
                if idx.frames == 0 {
                    idx.first_ms = at_ms;
                }
                idx.last_ms = at_ms;
                idx.frames += 1;
                if kind == Kind::Keyframe {
                    idx.keyframes.push((at_ms, c.bytes));
                }
                c.bytes += bytes.len() as u64;
                if self.failed.take().is_some() {
                    self.events.push(WriterEvent::Recovered {
                        lost: std::mem::take(&mut self.lost),
                    });
                }
                true
            }
            Err(e) => {
                // Cut back to the last whole block, so the file stays clean.
                let _ = c.out.truncate(c.bytes);
                self.current = None;
                self.prev = None;
                self.lost += 1;
                self.fail(
                    crate::record::model::from_ms(at_ms),
                    format!("write failed: {e}"),
                );
                false
            }
        }
    }

    fn fail(&mut self, at: SystemTime, why: String) {
        self.next_retry = Some(at + RETRY_EVERY);
        if self.failed.is_none() {
            self.events.push(WriterEvent::Failed(format!(
                "{why}; nothing is recorded until it works again (retrying every {}s)",
                RETRY_EVERY.as_secs()
            )));
            self.failed = Some(why);
        }
    }

    fn close_current(&mut self) {
        let Some(mut c) = self.current.take() else {
            return;
        };
        self.prev = None;
        let index = format::block(Kind::Index, c.index.last_ms, &c.index.encode());
        let mut tail = index;
        tail.extend_from_slice(&format::trailer(c.bytes));
        if c.out.write_all(&tail).and_then(|()| c.out.flush()).is_err() {
            // No index: readers scan the file instead.
            let _ = c.out.truncate(c.bytes);
        }
        self.events.push(WriterEvent::Closed(c.name));
    }

    /// Deletes old files: by age first, then the oldest while over size.
    fn enforce_retention(&mut self, now: SystemTime) {
        let Ok(entries) = self.files.list() else {
            return;
        };
        let mut files: Vec<(SystemTime, u32, Entry)> = entries
            .into_iter()
            .filter_map(|e| parse_name(&e.name).map(|(t, n)| (t, n, e)))
            .collect();
        files.sort_by_key(|f| (f.0, f.1));
        let current = self.current.as_ref().map(|c| c.name.clone());
        let mut keep = vec![true; files.len()];
        if let Some(ret) = self.opts.retention {
            let cutoff = now.checked_sub(ret).unwrap_or(SystemTime::UNIX_EPOCH);
            for i in 0..files.len().saturating_sub(1) {
                // A file's data end where the next file starts.
                if files[i + 1].0 < cutoff && Some(&files[i].2.name) != current.as_ref() {
                    keep[i] = false;
                    self.remove(
                        &files[i].2.name,
                        format!("older than {}", humantime::format_duration(ret)),
                    );
                }
            }
        }
        if let Some(max) = self.opts.max_total {
            let mut total: u64 = files
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(f, _)| f.2.size)
                .sum();
            for (i, f) in files.iter().enumerate() {
                if total <= max {
                    break;
                }
                if !keep[i] || Some(&f.2.name) == current.as_ref() {
                    continue;
                }
                total -= f.2.size;
                self.remove(&f.2.name, format!("the recording is over {max} bytes"));
            }
        }
    }

    fn remove(&mut self, name: &str, why: String) {
        let why = match self.files.remove(name) {
            Ok(()) => why,
            Err(e) => format!("{why}, but deleting failed: {e}"),
        };
        self.events.push(WriterEvent::Removed {
            name: name.to_string(),
            why,
        });
    }
}

fn to_ms_duration(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn period_of(at_ms: i64, every: Duration) -> u64 {
    let every = to_ms_duration(every).max(1);
    u64::try_from(at_ms.div_euclid(every)).unwrap_or(0)
}

impl std::fmt::Display for WriterEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriterEvent::Opened(name) => write!(f, "recording to {name}"),
            WriterEvent::Closed(name) => write!(f, "closed {name}"),
            WriterEvent::Removed { name, why } => write!(f, "deleted {name} ({why})"),
            WriterEvent::Failed(why) => write!(f, "{why}"),
            WriterEvent::Recovered { lost } => {
                write!(f, "writing again ({lost} snapshots were not recorded)")
            }
        }
    }
}
