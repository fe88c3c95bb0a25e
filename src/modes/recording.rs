//! `conntop record`, `conntop replay` and the tee of `--record DIR`.

use std::io::Write;

use crate::alert::hook::{AlertConfig, AlertHook};
use crate::app::{App, Options};
use crate::cli::{Cli, Format, RecordArgs, ReplayArgs};
use crate::kill::Safety;
use crate::poller::{self, PollerConfig};
use crate::record;
use crate::replay;
use crate::source::{Source, SourceError};
use crate::thresholds::Thresholds;
use crate::tui;

use super::{Failure, attempts, colors, connect_error, connect_options, safety, thresholds};

/// A recording directory, created and checked writable, or a one-line error.
fn record_dir(dir: &std::path::Path) -> Result<record::Dir, Failure> {
    let shown = dir.display();
    let d = record::Dir::create(dir).map_err(|e| Failure(format!("cannot use {shown}: {e}")))?;
    let probe = dir.join(".conntop-write-test");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| Failure(format!("cannot write to {shown}: {e}")))?;
    Ok(d)
}

/// The tee of `--record DIR`; its log lines go to `DIR/record.log`.
pub(super) fn record_tee(
    dir: &std::path::Path,
    poller: &crate::link::Link,
) -> Result<(crate::link::Link, record::daemon::Tee), Failure> {
    let files = record_dir(dir)?;
    let log_path = dir.join("record.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| Failure(format!("cannot open {}: {e}", log_path.display())))?;
    let writer = record::Writer::new(files, record::WriterOptions::bounded(None, None));
    record::daemon::Tee::start(poller, writer, Box::new(log)).map_err(Failure::from)
}

/// `conntop record`: polls like the dashboard and records every snapshot
/// until SIGTERM or SIGINT; one log line per event on stderr.
pub fn record(cli: &Cli, args: &RecordArgs) -> Result<(), Failure> {
    let files = record_dir(&args.dir)?;
    let opts = connect_options(cli)?;
    let endpoint = opts.endpoint();
    let attempts = attempts(&opts);
    let (first, first_error) = match Source::connect(&attempts, &endpoint) {
        Ok(source) => (Some(source), None),
        Err(e @ SourceError::TooManyConnections(_)) => (None, Some(e.to_string())),
        Err(e) => return Err(connect_error(&endpoint, &e)),
    };
    let config = PollerConfig {
        interval: cli.dashboard.interval,
        attempts,
        endpoint: endpoint.clone(),
        kill_method: cli.safety.kill_method.into(),
        safety: Safety {
            read_only: true,
            ..safety(cli)
        },
        audit: None,
    };
    let handle = poller::spawn(config, first, first_error);
    let writer = record::Writer::new(
        files,
        record::WriterOptions::bounded(Some(args.retention), Some(args.max_size)),
    );
    let mut err = std::io::stderr();
    record::daemon::log_line(
        &mut err,
        &format!(
            "started: recording {endpoint} every {} to {} (retention {}, max size {} bytes)",
            humantime::format_duration(cli.dashboard.interval),
            args.dir.display(),
            humantime::format_duration(args.retention),
            args.max_size
        ),
    );
    let hooks = match AlertConfig::from_flags(&cli.alerts, cli.thresholds.warn) {
        Some(config) => {
            let defaults = Thresholds::default();
            let t = super::thresholds(cli, defaults.idle_over, defaults.query_over);
            record::daemon::Hooks::with_alerts(AlertHook::new(config, t))
        }
        None => record::daemon::Hooks::default(),
    };
    let result = record::daemon::run(&handle, writer, hooks, &mut err);
    handle.stop();
    result.map_err(Failure)
}

/// `conntop replay`: the dashboard on a recording, or `--at --once`, or
/// `--summary`. Skipped tails are one line each on stderr (or the footer).
pub fn replay(cli: &Cli, args: &ReplayArgs) -> Result<(), Failure> {
    let t = thresholds(
        cli,
        Thresholds::default().idle_over,
        Thresholds::default().query_over,
    );
    let (mut player, notes) = replay::output::open(&args.path)?;
    if args.once || args.summary {
        for note in &notes {
            eprintln!("conntop: {note}");
        }
        let text = if args.summary {
            replay::output::summary(&mut player, &t)?
        } else {
            replay::output::once_at(
                &mut player,
                args.at.as_deref(),
                args.format == Format::Json,
                &t,
            )?
        };
        let mut out = std::io::stdout().lock();
        return match writeln!(out, "{}", text.trim_end()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(Failure::from),
        };
    }
    let (first, last) = player.span();
    let start = match &args.at {
        Some(at) => Some(replay::when::parse(at, first, last)?),
        None => None,
    };
    let handle = replay::source::spawn(player, t, start);
    let mut app = App::new(Options {
        thresholds: t,
        safety: Safety {
            read_only: true,
            ..safety(cli)
        },
        interval: cli.dashboard.interval,
        color: colors(cli),
    });
    app.start_replay();
    if let Some(filter) = &cli.dashboard.filter {
        app.table.filter = filter.as_str().to_string();
    }
    if let Some(note) = notes.first() {
        app.message = Some(crate::app::Message {
            text: note.clone(),
            level: crate::app::Level::Warn,
            at: app.now,
        });
    }
    let result = tui::run(app, &handle.link);
    handle.stop();
    result.map_err(Failure::from)
}
