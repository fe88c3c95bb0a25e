//! Replay without a terminal: `--at TIME --once` (the `--once` document of
//! that moment, plus `recorded_at`) and `--summary` (the incident timeline).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::findings;
use crate::record::clock::{Utc, rfc3339, show};
use crate::record::model::from_ms;
use crate::report::{self, Report};
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

use super::player::Player;
use super::timeline::{Event, EventKind, Scanner};
use super::when;

/// The `--once` JSON with the moment it was recorded first.
#[derive(Debug, Serialize)]
struct At<'a> {
    recorded_at: String,
    #[serde(flatten)]
    report: Report<'a>,
}

/// Opens a recording for printing; its skipped tails, one line each.
pub fn open(path: &Path) -> Result<(Player, Vec<String>), String> {
    let p = Player::open(path)?;
    let notes = p.recording().notes();
    Ok((p, notes))
}

/// `--at TIME --once`: the snapshot recorded at (or last before) `at`
/// (the end when `None`), as `--once` prints it, in JSON or as a table.
pub fn once_at(
    p: &mut Player,
    at: Option<&str>,
    json: bool,
    t: &Thresholds,
) -> Result<String, String> {
    let (first, last) = p.span();
    let target = match at {
        Some(text) => when::parse(text, first, last)?,
        None => last,
    };
    if target < first || target > last {
        return Err(format!(
            "{} is outside the recording ({} to {})",
            show(from_ms(target)),
            show(from_ms(first)),
            show(from_ms(last))
        ));
    }
    p.seek(target).map_err(|e| e.to_string())?;
    if let Some(down) = p.down() {
        return Err(format!(
            "at {} the server could not be reached (since {}): {}",
            show(from_ms(p.at_ms())),
            show(down.since),
            crate::text::one_line(&down.last_error, 200)
        ));
    }
    let snap = p
        .snapshot()
        .ok_or_else(|| "nothing was recorded at or before that moment".to_string())?;
    let found = findings::diagnose(&snap, p.history(), t);
    Ok(if json {
        let doc = At {
            recorded_at: rfc3339(snap.taken_at),
            report: report::report(&snap, &found),
        };
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
    } else {
        format!(
            "recorded at {}\n{}",
            show(snap.taken_at),
            report::table(&snap, &found)
        )
    })
}

/// The busiest accounts and client hosts of a snapshot.
fn tops(snap: &Snapshot, n: usize) -> (String, String) {
    let mut users: HashMap<&str, u32> = HashMap::new();
    let mut hosts: HashMap<&str, u32> = HashMap::new();
    for s in snap.sessions.iter().filter(|s| !s.is_system()) {
        *users.entry(&s.user).or_default() += 1;
        *hosts.entry(s.client_host()).or_default() += 1;
    }
    let list = |m: HashMap<&str, u32>| {
        let mut v: Vec<(&str, u32)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        if v.is_empty() {
            return "none".to_string();
        }
        v.iter()
            .map(|(k, c)| format!("{} {c}", crate::text::one_line(k, 40)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (list(users), list(hosts))
}

/// `--summary`: when usage crossed the levels, when refusals started and
/// stopped, which findings started and ended when, down periods, the peak
/// and who held the slots at the peak.
pub fn summary(p: &mut Player, t: &Thresholds) -> Result<String, String> {
    let (first, last) = p.span();
    p.seek(first).map_err(|e| e.to_string())?;
    let mut scan = Scanner::new(*t);
    let mut events: Vec<Event> = Vec::new();
    let mut peak: Option<(u64, i64)> = None;
    let mut refused: u64 = 0;
    let mut prev: Option<(u64, u64)> = None;
    let start = at_start(p, t);
    loop {
        events.extend(scan.feed(p, true));
        if p.down().is_none() {
            if let Some(s) = p.state() {
                let used = s.status.threads_connected;
                if peak.is_none_or(|(u, _)| used > u) {
                    peak = Some((used, s.at_ms));
                }
                let (r, up) = (
                    s.status.connection_errors_max_connections,
                    s.status.uptime_s,
                );
                if let Some((pr, pup)) = prev.filter(|&(pr, pup)| up >= pup && r > pr) {
                    let _ = pup;
                    refused += r - pr;
                }
                prev = Some((r, up));
            }
        }
        if !p.forward().map_err(|e| e.to_string())? {
            break;
        }
    }
    let mut out = String::new();
    let hours = (last - first) as f64 / 3_600_000.0;
    let _ = writeln!(
        out,
        "recording  {} to {} ({hours:.1} h), {} frames in {} files",
        show(from_ms(first)),
        show(from_ms(last)),
        p.recording().frames(),
        p.recording().files().len()
    );
    if let Some((used, at)) = peak {
        p.seek(at).map_err(|e| e.to_string())?;
        if let Some(snap) = p.snapshot() {
            let max = snap.variables.max_connections;
            let _ = writeln!(
                out,
                "server     {} at {}, max_connections {max}",
                crate::text::one_line(&snap.server.version, 60),
                crate::text::one_line(&snap.endpoint, 80)
            );
            let _ = writeln!(
                out,
                "peak       {}: {used}/{max} connected ({:.1}%), {} running, {} sleeping",
                show(from_ms(at)),
                snap.usage() * 100.0,
                // The same counts as the header: client sessions, ours apart.
                snap.counts().running,
                snap.counts().sleeping
            );
            let (users, hosts) = tops(&snap, 5);
            let _ = writeln!(out, "           top users: {users}");
            let _ = writeln!(out, "           top hosts: {hosts}");
        }
    }
    let _ = writeln!(out, "start      {start}");
    let _ = writeln!(
        out,
        "refused    {refused} clients with 1040 (Connection_errors_max_connections)"
    );
    let _ = writeln!(out, "\ntimeline (UTC)");
    if events.is_empty() {
        let _ = writeln!(
            out,
            "  nothing crossed {:.0}%, no refusals, no finding started or ended",
            t.warn * 100.0
        );
    }
    for e in &events {
        let _ = writeln!(out, "  {}  {}", Utc::of_ms(e.at_ms).seconds(), e.text);
    }
    let spans = finding_spans(&events);
    if !spans.is_empty() {
        let _ = writeln!(
            out,
            "\nfindings (checked every {} s)",
            super::timeline::FINDINGS_EVERY_MS / 1000
        );
        for (name, from, to) in spans {
            let _ = writeln!(
                out,
                "  {:<13} {} to {}",
                name,
                Utc::of_ms(from).seconds(),
                to.map_or("the end".to_string(), |t| Utc::of_ms(t).seconds())
            );
        }
    }
    Ok(out)
}

/// Usage and findings at the player's frame, in words.
fn at_start(p: &mut Player, t: &Thresholds) -> String {
    if let Some(d) = p.down() {
        return format!(
            "server unreachable: {}",
            crate::text::one_line(&d.last_error, 120)
        );
    }
    let Some(snap) = p.snapshot() else {
        return "no snapshot".to_string();
    };
    let found = findings::diagnose(&snap, p.history(), t);
    let names: Vec<String> = found
        .iter()
        .map(|f| format!("{} ({})", f.kind.name(), f.severity.name()))
        .collect();
    format!(
        "{}/{} connected ({:.1}%), findings: {}",
        snap.status.threads_connected,
        snap.variables.max_connections,
        snap.usage() * 100.0,
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )
}

/// (kind, started, ended) of every finding episode.
fn finding_spans(events: &[Event]) -> Vec<(&'static str, i64, Option<i64>)> {
    let mut open: Vec<(crate::findings::FindingKind, i64)> = Vec::new();
    let mut out = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::FindingStarted(k, _) => open.push((*k, e.at_ms)),
            EventKind::FindingEnded(k) => {
                if let Some(i) = open.iter().position(|(o, _)| o == k) {
                    let (k, from) = open.remove(i);
                    out.push((k.name(), from, Some(e.at_ms)));
                }
            }
            _ => {}
        }
    }
    out.extend(open.into_iter().map(|(k, from)| (k.name(), from, None)));
    out.sort_by_key(|x| x.1);
    out
}
