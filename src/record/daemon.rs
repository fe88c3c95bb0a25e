//! The recorder's loops: `conntop record` (no terminal: the poller's feed
//! into a [`Writer`] until SIGTERM/SIGINT, one log line per event on
//! stderr) and the tee of `conntop --record DIR` (between the poller's
//! `Link` and the dashboard's, writing every snapshot on its way through).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, select};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::alert::hook::AlertHook;
use crate::command::{Down, Feed};
use crate::link::{Link, SourceEnd};
use crate::snapshot::Snapshot;
use crate::text::short_duration;

use super::clock::rfc3339_seconds;
use super::writer::{Files, Writer, WriterEvent};

/// Called once per recorded snapshot, after it is written: the alerts of
/// `conntop record --alert-at ... --on-alert CMD`. Returns lines to log.
#[derive(Debug, Default)]
pub struct Hooks {
    alerts: Option<AlertHook>,
}

impl Hooks {
    /// Hooks that run these alerts.
    pub fn with_alerts(alerts: AlertHook) -> Hooks {
        Hooks {
            alerts: Some(alerts),
        }
    }

    /// Looks at one snapshot: alerts that fire (their commands run on
    /// their own threads) and commands that failed since, as log lines.
    pub fn on_snapshot(&mut self, snap: &Snapshot) -> Vec<String> {
        match &mut self.alerts {
            Some(alerts) => alerts.on_snapshot(snap),
            None => Vec::new(),
        }
    }
}

/// Writes one log line: `conntop record: <time> <what>`.
pub fn log_line(out: &mut dyn Write, what: &str) {
    let _ = writeln!(
        out,
        "conntop record: {} {}",
        rfc3339_seconds(SystemTime::now()),
        crate::text::one_line(what, 400)
    );
}

/// Tracks the connection for the "lost" and "back" lines.
#[derive(Debug, Default)]
struct Connection {
    down: Option<Down>,
}

/// Records one feed; returns the lines to log.
fn record<F: Files>(
    feed: &Feed,
    writer: &mut Writer<F>,
    conn: &mut Connection,
    hooks: &mut Hooks,
) -> Vec<String> {
    let mut lines = Vec::new();
    let events = match feed {
        Feed::Snapshot(snap) => {
            if let Some(down) = conn.down.take() {
                let for_ = snap.taken_at.duration_since(down.since).unwrap_or_default();
                lines.push(format!(
                    "connection back after {} down",
                    short_duration(for_)
                ));
            }
            let events = writer.append(snap);
            lines.extend(hooks.on_snapshot(snap));
            events
        }
        Feed::Down(down) => {
            let changed = conn
                .down
                .as_ref()
                .is_none_or(|d| d.since != down.since || d.last_error != down.last_error);
            if conn.down.is_none() {
                lines.push(format!("connection lost: {}", down.last_error));
            }
            conn.down = Some(down.clone());
            if changed {
                writer.append_down(down, SystemTime::now())
            } else {
                Vec::new()
            }
        }
    };
    let mut all: Vec<String> = events.iter().map(WriterEvent::to_string).collect();
    all.extend(lines);
    all
}

/// Signals that stop the recorder; a second one ends the process at once.
fn stop_signals() -> std::io::Result<Receiver<i32>> {
    let armed = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&armed))?;
    }
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let (tx, rx) = crossbeam_channel::bounded(2);
    std::thread::Builder::new()
        .name("conntop-signals".to_string())
        .spawn(move || {
            for sig in signals.forever() {
                armed.store(true, std::sync::atomic::Ordering::SeqCst);
                if tx.send(sig).is_err() {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// `conntop record`: records the poller's feed until SIGTERM or SIGINT,
/// then closes the file (with its index) and returns.
pub fn run<F: Files>(
    link: &Link,
    mut writer: Writer<F>,
    mut hooks: Hooks,
    log: &mut dyn Write,
) -> Result<(), String> {
    let signals = stop_signals().map_err(|e| format!("cannot watch signals: {e}"))?;
    let mut conn = Connection::default();
    loop {
        select! {
            recv(link.feed) -> feed => match feed {
                Ok(feed) => {
                    for line in record(&feed, &mut writer, &mut conn, &mut hooks) {
                        log_line(log, &line);
                    }
                }
                Err(_) => {
                    for e in writer.close() {
                        log_line(log, &e.to_string());
                    }
                    return Err("the poller stopped".to_string());
                }
            },
            recv(signals) -> sig => {
                for e in writer.close() {
                    log_line(log, &e.to_string());
                }
                let name = match sig {
                    Ok(SIGTERM) => "SIGTERM",
                    Ok(SIGINT) => "SIGINT",
                    _ => "a signal",
                };
                log_line(log, &format!("stopped by {name}"));
                return Ok(());
            },
        }
    }
}

/// The tee of `--record DIR`: a thread between the poller's link and the
/// dashboard's. Dropping the dashboard's link ends it.
#[derive(Debug)]
pub struct Tee {
    thread: Option<JoinHandle<()>>,
}

/// How long quitting waits for the tee to close its file.
const TEE_STOP_WAIT: Duration = Duration::from_millis(500);

impl Tee {
    /// Starts the tee; the dashboard uses the returned link. Log lines go to `log`.
    pub fn start<F: Files + 'static>(
        poller: &Link,
        mut writer: Writer<F>,
        mut log: Box<dyn Write + Send>,
    ) -> std::io::Result<(Link, Tee)> {
        let (link, end) = Link::pair();
        let feed = poller.feed.clone();
        let replies = poller.replies.clone();
        let commands = poller.commands.clone();
        let thread = std::thread::Builder::new()
            .name("conntop-record".to_string())
            .spawn(move || {
                let mut conn = Connection::default();
                let mut hooks = Hooks::default();
                tee_loop(&end, &feed, &replies, &commands, |f| {
                    for line in record(f, &mut writer, &mut conn, &mut hooks) {
                        log_line(&mut log, &line);
                    }
                });
                for e in writer.close() {
                    log_line(&mut log, &e.to_string());
                }
            })?;
        Ok((
            link,
            Tee {
                thread: Some(thread),
            },
        ))
    }

    /// Waits (bounded) for the tee to close its file; call after the
    /// dashboard's link is dropped.
    pub fn stop(mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = std::time::Instant::now() + TEE_STOP_WAIT;
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

fn tee_loop(
    end: &SourceEnd,
    feed: &Receiver<Feed>,
    replies: &Receiver<crate::command::Reply>,
    commands: &crossbeam_channel::Sender<crate::command::Command>,
    mut write: impl FnMut(&Feed),
) {
    loop {
        select! {
            recv(feed) -> f => match f {
                Ok(f) => {
                    end.publish(f.clone());
                    write(&f);
                }
                Err(_) => return,
            },
            recv(replies) -> r => match r {
                Ok(r) => {
                    if end.replies.send(r).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            },
            recv(end.commands) -> c => match c {
                Ok(c) => {
                    if commands.send(c).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            },
        }
    }
}
