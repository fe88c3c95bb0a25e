//! Events of a recording, frame by frame: usage crossing the warn, crit and
//! 100% levels (up or back down), 1040 refusals starting and stopping, a
//! finding starting or ending (the same `findings::diagnose` as the
//! dashboard, over the recorded snapshots and history), the server
//! becoming unreachable and reachable again. The replay's next/previous
//! event keys and `--summary` both use it.

use std::time::Instant;

use crate::findings::{self, FindingKind, Severity};
use crate::thresholds::Thresholds;

use super::player::Player;

/// Findings are evaluated at most this often (in recorded time): they cost
/// far more than the counters.
pub const FINDINGS_EVERY_MS: i64 = 10_000;

/// Refusals that have not risen for this long have stopped.
pub const REFUSALS_QUIET_MS: i64 = 60_000;

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// Usage went up to or over a level (a share of max_connections).
    Above(f64),
    /// Usage went back under a level.
    Below(f64),
    RefusalsStarted,
    /// No refusal for [`REFUSALS_QUIET_MS`]; the count of the episode.
    RefusalsStopped(u64),
    FindingStarted(FindingKind, Severity),
    FindingEnded(FindingKind),
    Down,
    Back,
}

/// One event at a recorded moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at_ms: i64,
    pub kind: EventKind,
    /// One line for people.
    pub text: String,
}

/// Follows a recording frame by frame and tells what changed.
#[derive(Debug)]
pub struct Scanner {
    levels: Vec<f64>,
    thresholds: Thresholds,
    primed: bool,
    usage: Option<f64>,
    /// Rejected counter, uptime, at.
    rejected: Option<(u64, u64)>,
    /// Refusals of the running episode, and when the last one was seen.
    refusing: Option<(u64, i64)>,
    findings: Vec<FindingKind>,
    findings_at: Option<i64>,
    down: bool,
}

fn pct(level: f64) -> String {
    format!("{:.0}%", level * 100.0)
}

impl Scanner {
    /// A scanner with the levels warn, crit and 100%.
    pub fn new(thresholds: Thresholds) -> Scanner {
        let mut levels = vec![thresholds.warn, thresholds.crit, 1.0];
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        Scanner {
            levels,
            thresholds,
            primed: false,
            usage: None,
            rejected: None,
            refusing: None,
            findings: Vec::new(),
            findings_at: None,
            down: false,
        }
    }

    /// Looks at the player's frame; the first call only learns the state.
    /// Findings are evaluated when `findings` is set and their period passed.
    pub fn feed(&mut self, p: &mut Player, findings: bool) -> Vec<Event> {
        let at_ms = p.at_ms();
        let mut out = Vec::new();
        let primed = self.primed;
        self.primed = true;
        let mut say = |kind: EventKind, text: String| {
            if primed {
                out.push(Event { at_ms, kind, text });
            }
        };
        if let Some(d) = p.down() {
            if !self.down {
                say(
                    EventKind::Down,
                    format!(
                        "server unreachable: {}",
                        crate::text::one_line(&d.last_error, 120)
                    ),
                );
            }
            self.down = true;
            return out;
        }
        if self.down {
            say(EventKind::Back, "server reachable again".to_string());
            self.down = false;
        }
        let Some(state) = p.state() else {
            return out;
        };
        let (used, max) = (
            state.status.threads_connected,
            state.variables.max_connections,
        );
        let usage = if max == 0 {
            0.0
        } else {
            used as f64 / max as f64
        };
        if let Some(prev) = self.usage {
            // Up through the levels lowest first, down highest first.
            for &l in &self.levels {
                if prev < l && usage >= l {
                    let verb = if l >= 1.0 { "reached" } else { "crossed" };
                    say(
                        EventKind::Above(l),
                        format!("usage {verb} {} ({used}/{max})", pct(l)),
                    );
                }
            }
            for &l in self.levels.iter().rev() {
                if prev >= l && usage < l {
                    say(
                        EventKind::Below(l),
                        format!("usage back under {} ({used}/{max})", pct(l)),
                    );
                }
            }
        }
        self.usage = Some(usage);
        let rejected = state.status.connection_errors_max_connections;
        let uptime = state.status.uptime_s;
        let rise = match self.rejected {
            Some((r, up)) if uptime >= up && rejected > r => rejected - r,
            _ => 0,
        };
        self.rejected = Some((rejected, uptime));
        match (&mut self.refusing, rise) {
            (None, 0) => {}
            (None, n) => {
                self.refusing = Some((n, at_ms));
                say(
                    EventKind::RefusalsStarted,
                    format!("1040 refusals started (+{n})"),
                );
            }
            (Some((total, last)), 0) => {
                if at_ms - *last >= REFUSALS_QUIET_MS {
                    let total = *total;
                    self.refusing = None;
                    say(
                        EventKind::RefusalsStopped(total),
                        format!("1040 refusals stopped ({total} refused)"),
                    );
                }
            }
            (Some((total, last)), n) => {
                *total += n;
                *last = at_ms;
            }
        }
        let due = self
            .findings_at
            .is_none_or(|t| at_ms - t >= FINDINGS_EVERY_MS || at_ms < t);
        if findings && due {
            self.findings_at = Some(at_ms);
            if let Some(snap) = p.snapshot() {
                let found = findings::diagnose(&snap, p.history(), &self.thresholds);
                let kinds: Vec<FindingKind> = found.iter().map(|f| f.kind).collect();
                for f in &found {
                    if !self.findings.contains(&f.kind) {
                        say(
                            EventKind::FindingStarted(f.kind, f.severity),
                            format!(
                                "finding started: {} {}: {}",
                                f.severity.name(),
                                f.kind.name(),
                                crate::text::one_line(&f.title, 160)
                            ),
                        );
                    }
                }
                for k in &self.findings {
                    if !kinds.contains(k) {
                        say(
                            EventKind::FindingEnded(*k),
                            format!("finding ended: {}", k.name()),
                        );
                    }
                }
                self.findings = kinds;
            }
        }
        out
    }
}

/// Where a search for an event ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Event(Event),
    /// None up to this moment (the end, or the time budget ran out).
    Nothing {
        searched_to_ms: i64,
    },
}

/// Searches forward from the cursor for the next event, within `budget`
/// of wall time; the cursor is left on the event, or back where it was.
pub fn next_event(
    p: &mut Player,
    thresholds: Thresholds,
    budget: std::time::Duration,
) -> std::io::Result<Found> {
    let start = p.at_ms();
    let began = Instant::now();
    let mut scan = Scanner::new(thresholds);
    scan.feed(p, true);
    loop {
        if !p.forward()? {
            let end = p.at_ms();
            p.seek(start)?;
            return Ok(Found::Nothing {
                searched_to_ms: end,
            });
        }
        if let Some(e) = scan.feed(p, true).into_iter().next() {
            p.seek(e.at_ms)?;
            return Ok(Found::Event(e));
        }
        if began.elapsed() > budget {
            let end = p.at_ms();
            p.seek(start)?;
            return Ok(Found::Nothing {
                searched_to_ms: end,
            });
        }
    }
}

/// Searches backward from the cursor for the previous event, looking at
/// windows of growing length before it; the cursor is left on the event,
/// or back where it was.
pub fn previous_event(p: &mut Player, thresholds: Thresholds) -> std::io::Result<Found> {
    let start = p.at_ms();
    let first = p.span().0;
    for window in [
        600_000i64,
        3_600_000,
        6 * 3_600_000,
        24 * 3_600_000,
        i64::MAX / 4,
    ] {
        let from = start.saturating_sub(window).max(first);
        p.seek(from)?;
        let mut scan = Scanner::new(thresholds);
        let mut last = None;
        scan.feed(p, true);
        while p.at_ms() < start && p.forward()? {
            if p.at_ms() >= start {
                break;
            }
            if let Some(e) = scan.feed(p, true).into_iter().last() {
                last = Some(e);
            }
        }
        if let Some(e) = last {
            p.seek(e.at_ms)?;
            return Ok(Found::Event(e));
        }
        if from <= first {
            break;
        }
    }
    p.seek(start)?;
    Ok(Found::Nothing {
        searched_to_ms: first,
    })
}
