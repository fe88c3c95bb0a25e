//! The poller thread: owns conntop's one server connection, polls at a fixed
//! cadence, publishes snapshots on a latest-wins channel, runs the UI's
//! commands (kills) and reconnects with backoff when the connection is lost.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use mysql::Opts;

use crate::audit::AuditLog;
use crate::command::{Command, Down, Feed, KillMethod, KillMode, KillTally, Reply};
use crate::kill::Safety;
use crate::kill::executor::{self, Batch};
use crate::link::{Link, SourceEnd};
use crate::snapshot::Snapshot;
use crate::source::{Source, SourceError, too_many_connections_help};

/// The shortest interval accepted (`-i`).
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// The longest interval accepted (`-i`, [`Command::SetInterval`]).
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Reconnect backoff: first retry after this long, doubling up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Longest wait between reconnect attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Kill progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the poller needs to (re)connect and to kill.
#[derive(Debug)]
pub struct PollerConfig {
    pub interval: Duration,
    /// Connection options to try in order (TLS, then plain for PREFERRED).
    pub attempts: Vec<Opts>,
    /// Human name of the server, for messages and the audit log.
    pub endpoint: String,
    pub kill_method: KillMethod,
    /// Safety rules from the flags; each batch binds them to the live
    /// connection ([`Safety::connected`]).
    pub safety: Safety,
    pub audit: Option<AuditLog>,
}

/// How long quitting waits for the poller thread to finish on its own; a
/// thread blocked in a read of a hung server is left behind (the process
/// ends it), so no server can hold conntop open.
const STOP_WAIT: Duration = Duration::from_millis(150);

/// The app's [`Link`] to the poller, and the thread.
#[derive(Debug)]
pub struct PollerHandle {
    /// The channels the app reads and writes.
    pub link: Link,
    thread: Option<JoinHandle<()>>,
    /// Disconnected when the thread has ended.
    ended: Receiver<()>,
}

impl std::ops::Deref for PollerHandle {
    type Target = Link;

    fn deref(&self) -> &Link {
        &self.link
    }
}

impl PollerHandle {
    /// Stops the thread (by closing the command channel) and waits for it at
    /// most [`STOP_WAIT`].
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let (dead, _) = crossbeam_channel::bounded(0);
        self.link.commands = dead;
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Ok never comes; Disconnected means the thread returned.
        if let Err(RecvTimeoutError::Disconnected) = self.ended.recv_timeout(STOP_WAIT) {
            let _ = thread.join();
        }
    }
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the poller. `first` is a connection the caller already made (so
/// that startup errors are reported before any UI appears); `None` starts in
/// the reconnecting state with `first_error`.
pub fn spawn(
    config: PollerConfig,
    first: Option<Source>,
    first_error: Option<String>,
) -> PollerHandle {
    let (link, end) = Link::pair();
    let (ended_tx, ended) = crossbeam_channel::bounded::<()>(0);
    let thread = std::thread::Builder::new()
        .name("conntop-poller".to_string())
        .spawn(move || {
            let _ended = ended_tx;
            let mut poller = Poller {
                config,
                source: first,
                end,
                down_since: None,
                last_error: first_error.unwrap_or_default(),
                attempts: 0,
                next_retry: Instant::now(),
                backoff: FIRST_BACKOFF,
                retained: VecDeque::with_capacity(3),
            };
            if poller.source.is_none() {
                poller.down_since = Some(SystemTime::now());
            }
            poller.run();
        });
    PollerHandle {
        link,
        thread: thread.ok(),
        ended,
    }
}

struct Poller {
    config: PollerConfig,
    source: Option<Source>,
    end: SourceEnd,
    down_since: Option<SystemTime>,
    last_error: String,
    attempts: u32,
    next_retry: Instant,
    backoff: Duration,
    /// The last two snapshots sent. The UI drops its copy of the older one
    /// when it takes the newer, so freeing it (thousands of sessions) happens
    /// here on the next publish, not on the UI thread. The newest one's
    /// variables name the extra/admin port when a reconnect meets a 1040.
    retained: VecDeque<Arc<Snapshot>>,
}

/// The next tick after the interval changed from `old` to `new` at `now`:
/// one `new` interval after the last tick (`next - old`), or now when that
/// has passed. A longer interval waits longer at once, a shorter one polls
/// at once if it is already due.
fn retimed(next: Instant, old: Duration, new: Duration, now: Instant) -> Instant {
    let last = next.checked_sub(old).unwrap_or(now);
    (last + new).max(now)
}

impl Poller {
    fn run(&mut self) {
        let mut interval = self.config.interval.clamp(MIN_INTERVAL, MAX_INTERVAL);
        let mut next_tick = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_tick {
                self.tick();
                // Fixed cadence: the next tick is one interval after the
                // previous one was due, not after the work; missed ticks are
                // skipped, never bunched.
                next_tick += interval;
                let now = Instant::now();
                if next_tick <= now {
                    next_tick = now + interval;
                }
                continue;
            }
            match self.end.commands.recv_timeout(next_tick - now) {
                Ok(Command::Kill {
                    request,
                    mode,
                    targets,
                    seen_at,
                    why,
                }) => {
                    self.kill(request, mode, &targets, seen_at, &why);
                    next_tick = Instant::now();
                }
                Ok(Command::SetInterval(new)) => {
                    let new = new.clamp(MIN_INTERVAL, MAX_INTERVAL);
                    next_tick = retimed(next_tick, interval, new, Instant::now());
                    interval = new;
                }
                Ok(Command::Statement { id }) => {
                    let text = match self.source.as_mut() {
                        Some(source) => source.statement(id).map_err(|e| e.to_string()),
                        None => Err(format!("not connected: {}", self.last_error)),
                    };
                    let _ = self.end.replies.send(Reply::Statement { id, text });
                }
                Ok(Command::Explain { id }) => {
                    let plan = match self.source.as_mut() {
                        Some(source) => source.explain(id).map_err(|e| e.to_string()),
                        None => Err(format!("not connected: {}", self.last_error)),
                    };
                    let _ = self.end.replies.send(Reply::Explain { id, plan });
                }
                Ok(Command::Replay(_)) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Polls, or tries to reconnect when the connection is down.
    fn tick(&mut self) {
        if self.source.is_none() && !self.reconnect() {
            return;
        }
        let Some(source) = self.source.as_mut() else {
            return;
        };
        match source.poll() {
            Ok(snap) => {
                let snap = Arc::new(snap);
                self.retained.push_back(Arc::clone(&snap));
                if self.retained.len() > 2 {
                    self.retained.pop_front();
                }
                self.publish(Feed::Snapshot(snap));
            }
            Err(e) => self.lost(e),
        }
    }

    fn reconnect(&mut self) -> bool {
        if Instant::now() < self.next_retry {
            self.publish_down();
            return false;
        }
        self.attempts += 1;
        match Source::connect(&self.config.attempts, &self.config.endpoint) {
            Ok(source) => {
                self.source = Some(source);
                self.down_since = None;
                self.attempts = 0;
                self.backoff = FIRST_BACKOFF;
                true
            }
            Err(e) => {
                self.last_error = match e {
                    SourceError::TooManyConnections(_) => too_many_connections_help(
                        &self.config.endpoint,
                        self.retained.back().map(|s| &s.variables),
                    ),
                    other => other.to_string(),
                };
                self.next_retry = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.publish_down();
                false
            }
        }
    }

    fn lost(&mut self, e: SourceError) {
        self.source = None;
        self.down_since = Some(SystemTime::now());
        self.last_error = e.to_string();
        self.next_retry = Instant::now() + FIRST_BACKOFF;
        self.backoff = FIRST_BACKOFF;
        self.publish_down();
    }

    fn publish_down(&mut self) {
        let feed = Feed::Down(Down {
            since: self.down_since.unwrap_or_else(SystemTime::now),
            last_error: self.last_error.clone(),
            attempts: self.attempts,
        });
        self.publish(feed);
    }

    fn publish(&self, feed: Feed) {
        self.end.publish(feed);
    }

    fn kill(
        &mut self,
        request: u64,
        mode: KillMode,
        targets: &[crate::command::KillTarget],
        seen_at: SystemTime,
        why: &str,
    ) {
        let total = targets.len();
        let refuse = |why: String| Reply::KillDone {
            request,
            mode,
            tally: KillTally {
                failed: total,
                ..KillTally::default()
            },
            first_error: Some(why),
        };
        let Some(source) = self.source.as_mut() else {
            let _ = self
                .end
                .replies
                .send(refuse(format!("not connected: {}", self.last_error)));
            return;
        };
        // The targets must come from this connection: a snapshot taken
        // before it was made came from another one, perhaps another server
        // run whose ids now name other sessions.
        if seen_at < source.connected_at() {
            let _ = self.end.replies.send(refuse(
                "reconnected since the preview: nothing is killed (look again and retry)"
                    .to_string(),
            ));
            return;
        }
        // No record, no kill.
        let Some(audit) = self.config.audit.as_mut() else {
            let _ = self.end.replies.send(refuse(
                "no audit log (read-only mode): nothing is killed".to_string(),
            ));
            return;
        };
        let batch = Batch {
            mode,
            method: self.config.kill_method,
            dry_run: false,
            why,
            server: &self.config.endpoint,
            seen_at,
        };
        let safety = self
            .config
            .safety
            .connected(source.own_id(), source.privileges());
        let replies = &self.end.replies;
        let mut last_progress = Instant::now();
        let _ = replies.send(Reply::KillProgress {
            request,
            total,
            tally: KillTally::default(),
        });
        let result = executor::execute(
            source,
            targets,
            &batch,
            &safety,
            audit,
            &mut |_, _, tally| {
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    last_progress = Instant::now();
                    let _ = replies.send(Reply::KillProgress {
                        request,
                        total,
                        tally: *tally,
                    });
                }
            },
        );
        // The reply has one line: why the batch stopped when the audit log
        // failed, else the first failure, else a warning from the audit log
        // (a mode it fixed).
        let first_error = result
            .audit_error
            .or(result.first_error)
            .or_else(|| result.warnings.into_iter().next());
        let _ = self.end.replies.send(Reply::KillDone {
            request,
            mode,
            tally: result.tally,
            first_error,
        });
        if let Some(e) = result.lost {
            self.lost(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_interval_counts_from_the_last_tick() {
        let now = Instant::now();
        let s = Duration::from_secs;
        // Last tick 2 s ago at 10 s: 1 s now means poll at once.
        assert_eq!(retimed(now + s(8), s(10), s(1), now), now);
        // Last tick 0.5 s ago at 1 s: 10 s waits 9.5 s more.
        let next = now + Duration::from_millis(500);
        assert_eq!(
            retimed(next, s(1), s(10), now),
            now + Duration::from_millis(9500)
        );
    }

    /// Without a server the poller publishes `Down` on every tick, so its
    /// cadence shows in the feed.
    #[test]
    fn set_interval_changes_the_cadence_at_once() {
        let config = PollerConfig {
            interval: MAX_INTERVAL,
            attempts: Vec::new(),
            endpoint: "nowhere".to_string(),
            kill_method: KillMethod::Sql,
            safety: Safety::default(),
            audit: None,
        };
        let handle = spawn(config, None, Some("no server".to_string()));
        let wait = Duration::from_secs(5);
        assert!(matches!(handle.feed.recv_timeout(wait), Ok(Feed::Down(_))));
        // At one hour nothing more comes soon.
        assert!(
            handle
                .feed
                .recv_timeout(Duration::from_millis(300))
                .is_err()
        );
        handle
            .commands
            .send(Command::SetInterval(Duration::from_millis(100)))
            .unwrap();
        let started = Instant::now();
        for _ in 0..5 {
            assert!(matches!(handle.feed.recv_timeout(wait), Ok(Feed::Down(_))));
        }
        // Five ticks at 100 ms (the first at once): well under a second.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        handle.stop();
    }
}
