//! `--once` over several servers: every server polled at the same time, on
//! a thread each, each bounded by its own connect and read timeouts; one
//! document (`{"servers": [...]}`) or one block per server, in the order
//! the targets were given.

use std::io::Write;

use crate::cli::{Cli, Format};
use crate::findings::{self, Finding};
use crate::history::{History, Sample};
use crate::modes::{self, Failure};
use crate::report;
use crate::snapshot::Snapshot;
use crate::source::Source;
use crate::thresholds::Thresholds;

use super::targets::Target;

/// One server's poll: its snapshot and findings, or why there are none.
pub type Outcome = Result<(Snapshot, Vec<Finding>), String>;

/// Connects to and polls every target at once; the outcomes in target order.
pub fn poll_all(targets: &[Target], thresholds: &Thresholds) -> Vec<Outcome> {
    std::thread::scope(|s| {
        let polls: Vec<_> = targets
            .iter()
            .map(|t| s.spawn(move || poll_one(t, thresholds)))
            .collect();
        polls
            .into_iter()
            .map(|p| {
                p.join()
                    .unwrap_or_else(|_| Err("the poll of this server failed".to_string()))
            })
            .collect()
    })
}

fn poll_one(t: &Target, thresholds: &Thresholds) -> Outcome {
    let endpoint = t.opts.endpoint();
    let failed = |e| modes::connect_error(&endpoint, &e).0;
    let mut source = Source::connect(&modes::attempts(&t.opts), &endpoint).map_err(failed)?;
    let snap = source.poll().map_err(failed)?;
    let mut history = History::default();
    history.push(Sample::from_snapshot(&snap));
    let found = findings::diagnose(&snap, &history, thresholds);
    Ok((snap, found))
}

/// `--once` over `targets`: prints every server (the ones that failed with
/// their error) and fails when any did, naming them.
pub fn run(cli: &Cli, targets: &[Target]) -> Result<(), Failure> {
    let defaults = Thresholds::default();
    let t = modes::thresholds(cli, defaults.idle_over, defaults.query_over);
    let outcomes = poll_all(targets, &t);
    let polled: Vec<report::Polled<'_>> = targets
        .iter()
        .zip(&outcomes)
        .map(|(t, o)| {
            let result = match o {
                Ok((snap, found)) => Ok((snap, found.as_slice())),
                Err(e) => Err(e.as_str()),
            };
            (t.name.as_str(), result)
        })
        .collect();
    let text = match cli.dashboard.format {
        Format::Json => report::fleet_json(&polled),
        Format::Table => report::fleet_table(&polled),
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        // `conntop --once | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    failed_servers(targets, &outcomes)
}

/// `Err` naming the servers that failed (`2 of 5 servers failed: db3, db4`).
pub fn failed_servers<T, E>(targets: &[Target], outcomes: &[Result<T, E>]) -> Result<(), Failure> {
    let failed: Vec<&str> = targets
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.is_err())
        .map(|(t, _)| t.name.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let mut names = failed
        .iter()
        .take(5)
        .map(|n| crate::text::one_line(n, 60).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if failed.len() > 5 {
        names.push_str(&format!(" and {} more", failed.len() - 5));
    }
    Err(Failure(format!(
        "{} of {} servers failed: {names}",
        failed.len(),
        targets.len()
    )))
}
