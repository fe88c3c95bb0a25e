//! The kill progress part of the state: the batch the poller is working on,
//! started from a confirmed preview and followed through its replies.

use crate::command::{Command, KillMode, KillTally, Reply};
use crate::kill;

use super::Level;
use super::preview::Plan;

/// A kill batch the poller is working on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillRun {
    pub request: u64,
    pub mode: KillMode,
    pub total: usize,
    pub tally: KillTally,
}

/// The running batch, if any, and the request numbering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kills {
    /// One batch at a time.
    pub running: Option<KillRun>,
    next_request: u64,
}

impl Default for Kills {
    fn default() -> Self {
        Kills {
            running: None,
            next_request: 1,
        }
    }
}

impl Kills {
    /// Starts the batch of a confirmed plan: the command for the poller.
    pub(super) fn start(&mut self, plan: Plan) -> Command {
        let request = self.next_request;
        self.next_request += 1;
        let why = plan.reason();
        self.running = Some(KillRun {
            request,
            mode: plan.mode,
            total: plan.targets.len(),
            tally: KillTally::default(),
        });
        Command::Kill {
            request,
            mode: plan.mode,
            targets: plan.targets,
            seen_at: plan.seen_at,
            why,
        }
    }

    /// Follows a reply; when a batch ended, what to tell the user.
    pub(super) fn on_reply(&mut self, reply: Reply) -> Option<(Level, String)> {
        match reply {
            Reply::KillProgress {
                request,
                total,
                tally,
            } => {
                if let Some(run) = self.running.as_mut().filter(|r| r.request == request) {
                    run.total = total;
                    run.tally = tally;
                }
                None
            }
            Reply::Replay(_) => None,
            Reply::KillDone {
                request,
                mode,
                tally,
                first_error,
            } => {
                if self.running.is_some_and(|r| r.request == request) {
                    self.running = None;
                }
                let mut text = kill::summary(mode, &tally);
                let level = if tally.failed > 0 {
                    Level::Error
                } else {
                    Level::Info
                };
                if let Some(e) = first_error {
                    text.push_str(": ");
                    text.push_str(&e);
                }
                Some((level, text))
            }
            // Not about kills.
            Reply::Statement { .. } => None,
        }
    }
}
