//! A recording with a time cursor: seek to any moment (history rebuilt
//! from the ten minutes before it), step frame by frame, and the snapshot
//! or the down record at the cursor.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::command::Down;
use crate::history::{HISTORY_LEN, History};
use crate::record::model::from_ms;
use crate::record::{Cursor, Recording};
use crate::snapshot::Snapshot;

/// How far before the cursor a seek starts, to fill the history.
pub const HISTORY_WINDOW_MS: i64 = HISTORY_LEN as i64 * 1_000;

/// What the cursor is on.
#[derive(Debug, Clone)]
pub struct Moment {
    /// The frame's recorded moment.
    pub at: SystemTime,
    /// The last snapshot at or before it (none before the first).
    pub snapshot: Option<Arc<Snapshot>>,
    /// Set when the server could not be reached at this moment.
    pub down: Option<Down>,
}

/// A recording being replayed.
#[derive(Debug)]
pub struct Player {
    rec: Recording,
    cursor: Cursor,
    history: History,
    /// The snapshot of the state at the cursor, built once.
    built: Option<(i64, Arc<Snapshot>)>,
}

impl Player {
    /// Opens `path` (a directory or a file) at its first frame.
    pub fn open(path: &Path) -> Result<Player, String> {
        let rec = Recording::open(path)?;
        let mut p = Player {
            rec,
            cursor: Cursor::new(),
            history: History::default(),
            built: None,
        };
        let first = p.span().0;
        p.seek(first)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(p)
    }

    /// The recording.
    pub fn recording(&self) -> &Recording {
        &self.rec
    }

    /// Reads what was appended since (a recording still being written).
    pub fn refresh(&mut self) -> Result<(), String> {
        self.rec.refresh()
    }

    /// First and last recorded moments, ms since the epoch.
    pub fn span(&self) -> (i64, i64) {
        self.rec.span().unwrap_or((0, 0))
    }

    /// The cursor's moment, ms since the epoch.
    pub fn at_ms(&self) -> i64 {
        self.cursor.at_ms
    }

    /// The history up to the cursor (at most `HISTORY_LEN` samples).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The cursor's state (as stored), when a snapshot was seen.
    pub fn state(&self) -> Option<&crate::record::model::State> {
        self.cursor.state.as_ref()
    }

    /// Set when the cursor is on a down record.
    pub fn down(&self) -> Option<Down> {
        self.cursor.down.as_ref().map(|d| Down {
            since: from_ms(d.since_ms),
            last_error: d.last_error.clone(),
            attempts: d.attempts,
        })
    }

    fn push_sample(&mut self) {
        if self.cursor.down.is_some() {
            return;
        }
        if let Some(s) = self
            .cursor
            .state
            .as_ref()
            .filter(|s| s.at_ms == self.cursor.at_ms)
        {
            self.history.push(s.sample());
        }
    }

    /// Moves to the last frame at or before `t_ms` (the first frame when
    /// earlier), with the history of the window before it.
    pub fn seek(&mut self, t_ms: i64) -> io::Result<bool> {
        self.history = History::default();
        self.built = None;
        if !self
            .cursor
            .seek(&self.rec, t_ms.saturating_sub(HISTORY_WINDOW_MS))?
        {
            return Ok(false);
        }
        self.push_sample();
        while let Some(next) = self.cursor.next_ms(&self.rec)? {
            if next > t_ms {
                break;
            }
            self.cursor.step(&self.rec)?;
            self.push_sample();
        }
        Ok(true)
    }

    /// One frame on; false at the end (for now).
    pub fn forward(&mut self) -> io::Result<bool> {
        if !self.cursor.step(&self.rec)? {
            return Ok(false);
        }
        self.built = None;
        self.push_sample();
        Ok(true)
    }

    /// One frame back; false at the first frame.
    pub fn back(&mut self) -> io::Result<bool> {
        let at = self.cursor.at_ms;
        if at <= self.span().0 {
            return Ok(false);
        }
        self.seek(at - 1)?;
        Ok(self.cursor.at_ms < at)
    }

    /// The moment of the next frame, if there is one yet.
    pub fn next_ms(&mut self) -> io::Result<Option<i64>> {
        self.cursor.next_ms(&self.rec)
    }

    /// The snapshot of the state at the cursor.
    pub fn snapshot(&mut self) -> Option<Arc<Snapshot>> {
        let state = self.cursor.state.as_ref()?;
        match &self.built {
            Some((at, snap)) if *at == state.at_ms => Some(Arc::clone(snap)),
            _ => {
                let snap = Arc::new(state.to_snapshot());
                self.built = Some((state.at_ms, Arc::clone(&snap)));
                Some(snap)
            }
        }
    }

    /// What the cursor is on.
    pub fn moment(&mut self) -> Moment {
        Moment {
            at: from_ms(self.cursor.at_ms),
            snapshot: self.snapshot(),
            down: self.down(),
        }
    }
}
