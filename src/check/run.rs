//! The sampling of `conntop check`: one connection, one snapshot (two with
//! `--sample`), the findings, then [`super::verdict`].

use crate::cli::{CheckArgs, Cli};
use crate::findings;
use crate::history::{History, Sample};
use crate::modes::{Failure, attempts, connect_options, thresholds};
use crate::source::{Source, SourceError};
use crate::thresholds::Thresholds;

use super::{Levels, Rates, Verdict, refused, unknown, verdict};

/// `conntop check`: one sample (two with `--sample`), one status line.
/// Never fails: what keeps it from knowing is UNKNOWN.
pub fn run(cli: &Cli, args: &CheckArgs) -> Verdict {
    let levels = Levels {
        warn_pct: cli.thresholds.warn,
        crit_pct: cli.thresholds.crit,
    };
    if levels.warn_pct > levels.crit_pct {
        return unknown("--warn must not be above --crit (see conntop check --help)");
    }
    let opts = match connect_options(cli) {
        Ok(o) => o,
        Err(Failure(why)) => return unknown(&why),
    };
    let endpoint = opts.endpoint();
    let mut source = match Source::connect(&attempts(&opts), &endpoint) {
        Ok(s) => s,
        Err(SourceError::TooManyConnections(help)) => return refused(&help),
        Err(e) => return unknown(&format!("{endpoint}: {e}")),
    };
    let mut history = History::default();
    let mut snap = match source.poll() {
        Ok(s) => s,
        Err(e) => return unknown(&format!("{endpoint}: {e}")),
    };
    history.push(Sample::from_snapshot(&snap));
    if let Some(wait) = args.sample {
        std::thread::sleep(wait);
        snap = match source.poll() {
            Ok(s) => s,
            Err(e) => return unknown(&format!("{endpoint}: {e}")),
        };
        history.push(Sample::from_snapshot(&snap));
    }
    let rates = args.sample.map(|_| Rates {
        connections: history.last_rate(|s| s.connections).unwrap_or(0.0),
        rejected: history.last_rate(|s| s.rejected).unwrap_or(0.0),
        aborted: history.last_rate(|s| s.aborted_connects).unwrap_or(0.0),
    });
    let t = thresholds(
        cli,
        Thresholds::default().idle_over,
        Thresholds::default().query_over,
    );
    let found = findings::diagnose(&snap, &history, &t);
    verdict(&snap, &found, levels, rates)
}
