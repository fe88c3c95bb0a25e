//! Reads a recording (a directory of files, or one file): each file's index
//! from its trailer, or by scanning its blocks when it has none (still being
//! written, or cut by a crash); a [`Cursor`] that seeks to a moment through
//! the keyframe index and steps frame by frame.
//!
//! A torn tail (an incomplete or damaged block) ends a file's data: it is
//! noted once and skipped, never fatal, and what came before is intact. A
//! file still being written is read up to its last whole block, and
//! [`Recording::refresh`] picks up what was appended since.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::format::{self, Block, DownRecord, Index, Kind, Next};
use super::model::State;
use super::writer::parse_name;

/// One file of a recording.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub path: PathBuf,
    pub index: Index,
    /// Where its blocks end (the index block, a torn tail or the end).
    pub data_end: u64,
    /// Closed by its writer (it has an index trailer).
    pub closed: bool,
    /// Why its tail was skipped, and how many bytes.
    pub torn: Option<(String, u64)>,
}

impl FileInfo {
    /// Indexes a file: from its trailer when it has one, else by a scan.
    fn open(path: &Path) -> Result<FileInfo, String> {
        let shown = path.display();
        let mut f = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        let len = f.metadata().map_err(|e| format!("{shown}: {e}"))?.len();
        let mut head = [0u8; format::FILE_HEADER_LEN as usize];
        f.read_exact(&mut head)
            .map_err(|_| format!("{shown}: not a conntop recording (too short)"))?;
        format::check_header(&head).map_err(|e| format!("{shown}: {e}"))?;
        let mut info = FileInfo {
            path: path.to_path_buf(),
            index: Index::default(),
            data_end: format::FILE_HEADER_LEN,
            closed: false,
            torn: None,
        };
        if let Some(index) = read_indexed(&mut f, len) {
            info.data_end = index.0;
            info.index = index.1;
            info.closed = true;
            return Ok(info);
        }
        info.scan().map_err(|e| format!("{shown}: {e}"))?;
        Ok(info)
    }

    /// Reads blocks from `data_end` on, extending the index.
    fn scan(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let mut f = File::open(&self.path)?;
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(self.data_end))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        self.torn = None;
        loop {
            match format::read_block(&mut r)? {
                Next::Block(b) if b.kind == Kind::Index => {
                    self.closed = true;
                    return Ok(());
                }
                Next::Block(b) => {
                    let idx = &mut self.index;
                    if idx.frames == 0 {
                        idx.first_ms = b.t_ms;
                    }
                    idx.last_ms = b.t_ms;
                    idx.frames += 1;
                    if b.kind == Kind::Keyframe {
                        idx.keyframes.push((b.t_ms, self.data_end));
                    }
                    self.data_end += b.size;
                }
                Next::End => return Ok(()),
                Next::Torn(why) => {
                    self.torn = Some((why, len.saturating_sub(self.data_end)));
                    return Ok(());
                }
            }
        }
    }
}

/// The index a trailer points at, and where the data end.
fn read_indexed(f: &mut File, len: u64) -> Option<(u64, Index)> {
    if len < format::FILE_HEADER_LEN + format::BLOCK_HEADER_LEN + format::TRAILER_LEN {
        return None;
    }
    f.seek(SeekFrom::Start(len - format::TRAILER_LEN)).ok()?;
    let mut t = [0u8; format::TRAILER_LEN as usize];
    f.read_exact(&mut t).ok()?;
    let at = format::parse_trailer(&t)?;
    if at < format::FILE_HEADER_LEN || at >= len {
        return None;
    }
    f.seek(SeekFrom::Start(at)).ok()?;
    match format::read_block(&mut BufReader::new(f.take(len - at))).ok()? {
        Next::Block(b) if b.kind == Kind::Index => Some((at, Index::decode(&b.payload).ok()?)),
        _ => None,
    }
}

/// A recording: its files in time order.
#[derive(Debug)]
pub struct Recording {
    /// The directory, when a directory was opened (new files show up).
    dir: Option<PathBuf>,
    files: Vec<FileInfo>,
}

/// Recording files of a directory, oldest first.
fn names_in(dir: &Path) -> Result<Vec<(std::time::SystemTime, u32, PathBuf)>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name();
        if let Some((t, n)) = name.to_str().and_then(parse_name) {
            out.push((t, n, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

impl Recording {
    /// Opens a recording directory or one recording file.
    pub fn open(path: &Path) -> Result<Recording, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut rec = if meta.is_dir() {
            Recording {
                dir: Some(path.to_path_buf()),
                files: Vec::new(),
            }
        } else {
            Recording {
                dir: None,
                files: vec![FileInfo::open(path)?],
            }
        };
        rec.refresh()?;
        if rec.files.iter().all(|f| f.index.frames == 0) {
            return Err(format!("{}: no recorded data", path.display()));
        }
        Ok(rec)
    }

    /// Picks up blocks appended to the newest file and new files.
    pub fn refresh(&mut self) -> Result<(), String> {
        if let Some(last) = self.files.last_mut() {
            let _ = last.scan();
        }
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let known: Vec<PathBuf> = self.files.iter().map(|f| f.path.clone()).collect();
        for (_, _, path) in names_in(dir)? {
            if known.contains(&path) {
                continue;
            }
            // An older file that is no recording, or vanished: skip it.
            if let Ok(info) = FileInfo::open(&path) {
                // A file is complete once a newer one exists.
                if let Some(prev) = self.files.last_mut() {
                    let _ = prev.scan();
                }
                self.files.push(info);
            }
        }
        self.files.sort_by_key(|f| f.index.first_ms);
        Ok(())
    }

    /// The files, oldest first.
    pub fn files(&self) -> &[FileInfo] {
        &self.files
    }

    /// The first and last recorded moments (ms since the epoch).
    pub fn span(&self) -> Option<(i64, i64)> {
        let with = || self.files.iter().filter(|f| f.index.frames > 0);
        Some((
            with().map(|f| f.index.first_ms).min()?,
            with().map(|f| f.index.last_ms).max()?,
        ))
    }

    /// Frames in all files.
    pub fn frames(&self) -> u64 {
        self.files.iter().map(|f| f.index.frames).sum()
    }

    /// One line per skipped tail.
    pub fn notes(&self) -> Vec<String> {
        let n = self.files.len();
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let (why, bytes) = f.torn.as_ref()?;
                let live = if i + 1 == n {
                    " (cut, or still being written)"
                } else {
                    ""
                };
                Some(format!(
                    "{}: the tail was cut at byte {}{live}: {why}; {bytes} bytes skipped, everything before it is read",
                    f.path.display(),
                    f.data_end
                ))
            })
            .collect()
    }
}

/// A position in a recording and the state there.
#[derive(Debug, Default)]
pub struct Cursor {
    file: usize,
    offset: u64,
    reader: Option<(usize, u64, BufReader<File>)>,
    peeked: Option<Block>,
    /// The state of the last snapshot frame at or before the cursor.
    pub state: Option<State>,
    /// The frame the cursor is on: its moment.
    pub at_ms: i64,
    /// Set when the frame is a down record.
    pub down: Option<DownRecord>,
    /// On a frame (false before the first seek, or in an empty recording).
    pub placed: bool,
}

impl Cursor {
    /// A cursor that is nowhere yet.
    pub fn new() -> Cursor {
        Cursor::default()
    }

    /// Moves to the last frame at or before `t_ms` (the first frame when
    /// `t_ms` is earlier). False when the recording has no frame.
    pub fn seek(&mut self, rec: &Recording, t_ms: i64) -> io::Result<bool> {
        let files = rec.files();
        let Some(fi) = files
            .iter()
            .rposition(|f| f.index.frames > 0 && f.index.first_ms <= t_ms)
            .or_else(|| files.iter().position(|f| f.index.frames > 0))
        else {
            return Ok(false);
        };
        let kf = files[fi].index.keyframes.iter().rev().find(|k| k.0 <= t_ms);
        self.file = fi;
        self.offset = kf.map_or(format::FILE_HEADER_LEN, |k| k.1);
        self.peeked = None;
        self.state = None;
        self.down = None;
        self.placed = false;
        while let Some(next) = self.next_ms(rec)? {
            if self.placed && next > t_ms {
                break;
            }
            self.consume();
        }
        Ok(self.placed)
    }

    /// Moves to the next frame; false at the end (for now).
    pub fn step(&mut self, rec: &Recording) -> io::Result<bool> {
        if self.peek(rec)?.is_none() {
            return Ok(false);
        }
        self.consume();
        Ok(true)
    }

    /// The moment of the next frame, if there is one yet.
    pub fn next_ms(&mut self, rec: &Recording) -> io::Result<Option<i64>> {
        Ok(self.peek(rec)?.map(|b| b.t_ms))
    }

    fn consume(&mut self) {
        let Some(b) = self.peeked.take() else {
            return;
        };
        self.offset += b.size;
        match b.kind {
            Kind::Keyframe => match State::decode_keyframe(b.t_ms, &b.payload) {
                Ok(s) => {
                    self.state = Some(s);
                    self.down = None;
                }
                Err(_) => return,
            },
            Kind::Delta => {
                let Some(s) = self.state.as_mut() else {
                    return;
                };
                if s.apply_delta(b.t_ms, &b.payload).is_err() {
                    self.state = None;
                    return;
                }
                self.down = None;
            }
            Kind::Down => match DownRecord::decode(&b.payload) {
                Ok(d) => self.down = Some(d),
                Err(_) => return,
            },
            Kind::Index => return,
        }
        self.at_ms = b.t_ms;
        self.placed = true;
    }

    /// The next block, read once and kept until consumed.
    fn peek(&mut self, rec: &Recording) -> io::Result<Option<&Block>> {
        if self.peeked.is_none() {
            self.peeked = self.read_next(rec)?;
        }
        Ok(self.peeked.as_ref())
    }

    fn read_next(&mut self, rec: &Recording) -> io::Result<Option<Block>> {
        let files = rec.files();
        loop {
            let Some(f) = files.get(self.file) else {
                return Ok(None);
            };
            if self.offset < f.data_end {
                break;
            }
            if self.file + 1 >= files.len() {
                return Ok(None);
            }
            self.file += 1;
            self.offset = format::FILE_HEADER_LEN;
        }
        let path = &files[self.file].path;
        let reuse =
            matches!(&self.reader, Some((fi, pos, _)) if *fi == self.file && *pos == self.offset);
        if !reuse {
            let mut f = File::open(path)?;
            f.seek(SeekFrom::Start(self.offset))?;
            self.reader = Some((self.file, self.offset, BufReader::with_capacity(1 << 16, f)));
        }
        let Some((_, pos, r)) = self.reader.as_mut() else {
            return Ok(None);
        };
        match format::read_block(r)? {
            Next::Block(b) => {
                *pos += b.size;
                Ok(Some(b))
            }
            Next::End | Next::Torn(_) => {
                self.reader = None;
                Ok(None)
            }
        }
    }
}
