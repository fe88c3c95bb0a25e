//! Messages between the UI and the poller thread.
//!
//! Snapshots flow one way on a latest-wins channel ([`Feed`]); the UI sends
//! [`Command`]s back on their own channel and the poller answers each with
//! [`Reply`]s on a third, lossless one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::kill::policy::SkipReason;
use crate::snapshot::{Session, Snapshot};

/// What the poller publishes on the latest-wins channel.
#[derive(Debug, Clone)]
pub enum Feed {
    /// A fresh poll.
    Snapshot(Arc<Snapshot>),
    /// The connection is down; the poller retries with backoff.
    Down(Down),
}

/// The poller cannot reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// When the connection was lost (or the first attempt failed).
    pub since: SystemTime,
    pub last_error: String,
    /// Reconnection attempts so far.
    pub attempts: u32,
}

/// How a session is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KillMode {
    /// `KILL CONNECTION`: the session is gone, its transaction rolled back.
    Connection,
    /// `KILL QUERY`: the statement stops, the connection stays.
    Query,
}

impl KillMode {
    /// The statement's name, for dialogs and progress (`KILL CONNECTION`).
    pub fn label(self) -> &'static str {
        match self {
            KillMode::Connection => "KILL CONNECTION",
            KillMode::Query => "KILL QUERY",
        }
    }
}

/// How the KILL statement is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KillMethod {
    /// `KILL [CONNECTION|QUERY] id`.
    #[default]
    Sql,
    /// Amazon RDS: `CALL mysql.rds_kill(id)` / `CALL mysql.rds_kill_query(id)`.
    Rds,
}

/// What must still hold, at kill time, for a target to be killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Expect {
    /// Same id, user and host as confirmed; nothing more.
    Same,
    /// Still `Sleep`, idle at least this long.
    IdleAtLeast {
        #[serde(with = "crate::command::millis")]
        min: Duration,
    },
    /// Still running (not `Sleep`) for at least this long.
    RunningAtLeast {
        #[serde(with = "crate::command::millis")]
        min: Duration,
    },
}

/// One session the user confirmed for killing, as it looked then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillTarget {
    pub session: Session,
    pub expect: Expect,
}

/// A request from the UI to the poller.
#[derive(Debug, Clone)]
pub enum Command {
    /// Read the whole statement one session runs (the processlist carries
    /// only its first characters); answered with [`Reply::Statement`].
    Statement { id: u64 },
    /// Kill these sessions, re-checking each just before its KILL.
    Kill {
        /// Echoed in every reply so the UI can match them.
        request: u64,
        mode: KillMode,
        targets: Vec<KillTarget>,
        /// When the targets were read (the snapshot the user confirmed
        /// from): a session confirmed by itself must have aged by the time
        /// since, or it runs something new.
        seen_at: SystemTime,
        /// Free text for the audit log ("idle kill, threshold 5m").
        why: String,
    },
    /// Poll at this interval from now on (no reply).
    SetInterval(Duration),
    /// Move a replay's time cursor (a live source ignores it).
    Replay(crate::replay::ReplayCommand),
}

/// What happened to one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillOutcome {
    Killed,
    /// A dry run: it passed its re-check and would have been killed; nothing was sent.
    WouldKill,
    /// Not killed because it no longer matched what was confirmed (or is gone).
    Skipped(SkipReason),
    /// The server refused or failed.
    Failed(String),
}

impl KillOutcome {
    /// The audit log's `result`: `killed`, `would_kill`, `skipped`, `failed`.
    pub fn result(&self) -> &'static str {
        match self {
            KillOutcome::Killed => "killed",
            KillOutcome::WouldKill => "would_kill",
            KillOutcome::Skipped(_) => "skipped",
            KillOutcome::Failed(_) => "failed",
        }
    }

    /// The audit log's `detail`: why it was skipped or failed.
    pub fn detail(&self) -> Option<String> {
        match self {
            KillOutcome::Killed | KillOutcome::WouldKill => None,
            KillOutcome::Skipped(why) => Some(why.to_string()),
            KillOutcome::Failed(why) => Some(why.clone()),
        }
    }
}

/// Counts of a finished (or running) kill batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KillTally {
    pub killed: usize,
    /// Dry runs only: passed the re-check, nothing sent.
    pub would_kill: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl KillTally {
    /// Adds one outcome.
    pub fn add(&mut self, outcome: &KillOutcome) {
        match outcome {
            KillOutcome::Killed => self.killed += 1,
            KillOutcome::WouldKill => self.would_kill += 1,
            KillOutcome::Skipped(_) => self.skipped += 1,
            KillOutcome::Failed(_) => self.failed += 1,
        }
    }

    /// Outcomes counted so far.
    pub fn done(&self) -> usize {
        self.killed + self.would_kill + self.skipped + self.failed
    }
}

/// The poller's answer to a [`Command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The whole statement of session `id`: `Ok(None)` when it runs none
    /// (finished, or gone), `Err` with the reason it could not be read.
    Statement {
        id: u64,
        text: Result<Option<String>, String>,
    },
    /// A batch is under way.
    KillProgress {
        request: u64,
        total: usize,
        tally: KillTally,
    },
    /// A batch ended; `first_error` is the first failure's message, if any.
    KillDone {
        request: u64,
        mode: KillMode,
        tally: KillTally,
        first_error: Option<String>,
    },
    /// Where a replay is now (after a command, or a played step).
    Replay(Box<crate::replay::ReplayFrame>),
}

/// Serialises a Duration as whole milliseconds.
pub mod millis {
    use std::time::Duration;

    /// serde `serialize_with` for Durations as integer milliseconds.
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(crate::snapshot::millis(*d))
    }
}
