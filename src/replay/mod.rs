//! Replay: the dashboard on recorded data. A [`source`] thread fills a
//! `link::SourceEnd` from a recording with a time cursor the keys move;
//! `--at TIME --once` and `--summary` print without a terminal ([`output`]).
//!
//! The app gets each position as a [`ReplayFrame`] on the lossless reply
//! channel: the snapshot at the cursor, and after any jump the history of
//! the ten minutes before it, so the chart and the findings are those the
//! dashboard would have shown at that moment.

pub mod output;
pub mod player;
pub mod source;
pub mod timeline;
pub mod when;

use std::sync::Arc;
use std::time::SystemTime;

use crate::command::Down;
use crate::history::{History, Sample};
use crate::snapshot::Snapshot;

pub use player::Player;

/// What the dashboard asks of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayCommand {
    /// One frame back (-1) or forward (+1).
    Step(i8),
    /// Recorded time back (negative) or forward, in ms.
    Skip(i64),
    NextEvent,
    PreviousEvent,
    PlayPause,
    Faster,
    Slower,
    /// A typed moment (see `when`).
    GoTo(String),
}

/// Where a replay is: sent after every command and every played step.
#[derive(Debug, Clone)]
pub struct ReplayFrame {
    /// The cursor's recorded moment.
    pub at: SystemTime,
    /// The snapshot at (or last before) the cursor.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Set when the server could not be reached at the cursor.
    pub down: Option<Down>,
    /// After a jump: the whole history up to the cursor, replacing the
    /// app's. `None` on a step of one frame forward: the app adds the
    /// snapshot's sample as it does live.
    pub history: Option<History>,
    /// The first sample of the recording ("since start" figures).
    pub baseline: Option<Sample>,
    /// The first and last recorded moments.
    pub first: SystemTime,
    pub last: SystemTime,
    /// Playing at this multiple of recorded time; `None` when paused.
    pub speed: Option<u32>,
    /// One line for the footer (an event jumped to, a bad time, the end).
    pub message: Option<String>,
}

impl PartialEq for ReplayFrame {
    /// Frames are equal when they show the same moment the same way.
    fn eq(&self, other: &ReplayFrame) -> bool {
        self.at == other.at
            && self.first == other.first
            && self.last == other.last
            && self.speed == other.speed
            && self.message == other.message
            && self.down == other.down
            && self.snapshot.as_ref().map(|s| s.seq) == other.snapshot.as_ref().map(|s| s.seq)
            && self.history.is_some() == other.history.is_some()
    }
}

impl Eq for ReplayFrame {}
