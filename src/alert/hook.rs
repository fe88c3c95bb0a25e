//! Alerts on a stream of snapshots. [`AlertHook`] keeps the history, runs
//! the findings, the detector and the runner for each snapshot; the recorder
//! calls it once per recorded snapshot. [`AlertTee`] runs a hook on a thread
//! between the poller's [`Link`] and the dashboard's, so neither the poller
//! nor the UI thread ever waits on an alert.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, select};

use super::{Alerts, Runner};
use crate::command::Feed;
use crate::findings;
use crate::history::{History, Sample};
use crate::link::Link;
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

/// What to alert on and what to run (`--alert-at`, `--on-alert`, `--alert-timeout`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    /// The `usage` threshold, a share of max_connections (0.8 = 80%).
    pub at: f64,
    /// Shell commands run for each alert.
    pub commands: Vec<String>,
    /// How long each may run.
    pub timeout: Duration,
    /// The rate limit per kind ([`super::ALERT_EVERY`]).
    pub every: Duration,
}

impl AlertConfig {
    /// The configuration the flags ask for; `None` without `--on-alert`.
    /// `--alert-at` defaults to `warn_pct` (`--warn`).
    pub fn from_flags(flags: &crate::cli::AlertArgs, warn_pct: f64) -> Option<AlertConfig> {
        (!flags.on_alert.is_empty()).then(|| AlertConfig {
            at: flags.alert_at.unwrap_or(warn_pct) / 100.0,
            commands: flags.on_alert.clone(),
            timeout: flags.alert_timeout,
            every: super::ALERT_EVERY,
        })
    }
}

/// Findings, detection and the runner over one stream of snapshots.
#[derive(Debug)]
pub struct AlertHook {
    alerts: Alerts,
    runner: Runner,
    history: History,
    thresholds: Thresholds,
    failures: Receiver<String>,
}

impl AlertHook {
    /// A hook for `config`; the findings use `thresholds`.
    pub fn new(config: AlertConfig, thresholds: Thresholds) -> AlertHook {
        let (tx, failures) = crossbeam_channel::unbounded();
        let log: super::run::Log = Arc::new(move |line| {
            let _ = tx.send(line);
        });
        AlertHook {
            alerts: Alerts::new(config.at).every(config.every),
            runner: Runner::new(config.commands, config.timeout, log),
            history: History::default(),
            thresholds,
            failures,
        }
    }

    /// Looks at the next snapshot: starts the commands of any alert and
    /// returns lines to log (the alerts started, and commands that failed
    /// since the last call). Never waits for a command.
    pub fn on_snapshot(&mut self, snap: &Snapshot) -> Vec<String> {
        self.history.push(Sample::from_snapshot(snap));
        let found = findings::diagnose(snap, &self.history, &self.thresholds);
        let mut lines = Vec::new();
        for event in self.alerts.observe(snap, &found) {
            lines.push(format!("alert {}: {}", event.kind.name(), event.message));
            self.runner.fire(&event);
        }
        lines.extend(self.failures());
        lines
    }

    /// Failed commands reported since the last call.
    pub fn failures(&self) -> Vec<String> {
        self.failures.try_iter().collect()
    }
}

/// Log lines a tee keeps for after the dashboard (the terminal is the
/// dashboard's while it runs); older ones are dropped.
const KEPT_LINES: usize = 50;

/// How long quitting waits for the tee thread.
const STOP_WAIT: Duration = Duration::from_millis(200);

/// A thread between the poller's link and the dashboard's that runs an
/// [`AlertHook`] on every snapshot on its way through.
#[derive(Debug)]
pub struct AlertTee {
    thread: Option<JoinHandle<()>>,
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl AlertTee {
    /// Starts the tee; the dashboard uses the returned link. Dropping that
    /// link ends the tee (and with it the tee's hold on the poller).
    pub fn start(poller: &Link, mut hook: AlertHook) -> std::io::Result<(Link, AlertTee)> {
        let (link, end) = Link::pair();
        let feed = poller.feed.clone();
        let replies = poller.replies.clone();
        let commands = poller.commands.clone();
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let kept = Arc::clone(&lines);
        let keep = move |new: Vec<String>| {
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            for line in new {
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        };
        let thread = std::thread::Builder::new()
            .name("conntop-alerts".to_string())
            .spawn(move || {
                loop {
                    select! {
                        recv(feed) -> f => match f {
                            Ok(f) => {
                                let snap = match &f {
                                    Feed::Snapshot(s) => Some(Arc::clone(s)),
                                    Feed::Down(_) => None,
                                };
                                end.publish(f);
                                if let Some(s) = snap {
                                    keep(hook.on_snapshot(&s));
                                }
                            }
                            Err(_) => break,
                        },
                        recv(replies) -> r => {
                            if r.map_or(true, |r| end.replies.send(r).is_err()) {
                                break;
                            }
                        },
                        recv(end.commands) -> c => {
                            if c.map_or(true, |c| commands.send(c).is_err()) {
                                break;
                            }
                        },
                    }
                }
                keep(hook.failures());
            })?;
        Ok((
            link,
            AlertTee {
                thread: Some(thread),
                lines,
            },
        ))
    }

    /// Waits (at most [`STOP_WAIT`]) for the tee to end, after the
    /// dashboard's link was dropped; returns the lines it logged.
    pub fn stop(mut self) -> Vec<String> {
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + STOP_WAIT;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.drain(..).collect()
    }
}
