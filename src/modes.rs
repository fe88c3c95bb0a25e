//! What each mode does once the flags are parsed: the dashboard, `--once`,
//! `kill`, `demo` and the hidden `sandbox`. Each returns a one-line error.

use std::io::Write;
use std::time::Duration;

use mysql::Opts;

use crate::app::{App, Options};
use crate::audit::AuditLog;
use crate::cli::{Cli, DemoArgs, Format, KillArgs, RecordArgs, ReplayArgs, SandboxArgs};
use crate::command::{KillMode, KillOutcome};
use crate::config::{self, ConnectOptions};
use crate::findings;
use crate::history::{History, Sample};
use crate::kill::{self, Batch, Safety, Selection};
use crate::poller::{self, PollerConfig};
use crate::record;
use crate::replay;
use crate::report;
use crate::sandbox::{self, Load, Sandbox, SandboxOptions};
use crate::source::{Source, SourceError};
use crate::text::{one_line, short_ms};
use crate::thresholds::Thresholds;
use crate::tui;

/// A failure to report as `conntop: <message>` with exit code 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Thresholds from the flags, with the given defaults for the durations.
fn thresholds(cli: &Cli, idle: Duration, query: Duration) -> Thresholds {
    Thresholds {
        idle_over: cli.thresholds.idle_over.unwrap_or(idle),
        query_over: cli.thresholds.query_over.unwrap_or(query),
        warn: cli.thresholds.warn / 100.0,
        crit: cli.thresholds.crit / 100.0,
    }
}

fn safety(cli: &Cli) -> Safety {
    Safety {
        own_id: 0,
        allow_system: cli.safety.allow_system,
        ignore_users: cli.safety.ignore_user.clone(),
        ignore_hosts: cli.safety.ignore_host.clone(),
        read_only: cli.safety.read_only,
    }
}

/// Opens the audit log named by `--audit-log` or the default path.
fn audit_log(cli: &Cli) -> Result<AuditLog, Failure> {
    let path = cli
        .safety
        .audit_log
        .clone()
        .or_else(|| AuditLog::default_path(&env))
        .ok_or_else(|| Failure("no place for the audit log: give --audit-log PATH".to_string()))?;
    AuditLog::open(&path).map_err(|e| {
        Failure(format!(
            "cannot open the audit log {}: {e} (give --audit-log PATH, or --read-only)",
            path.display()
        ))
    })
}

/// Resolves the connection options and asks for the password if `-p` was bare.
fn connect_options(cli: &Cli) -> Result<ConnectOptions, Failure> {
    let mut opts = config::resolve(&cli.connect, &env)?;
    opts.ask_password_if_needed()?;
    Ok(opts)
}

fn attempts(opts: &ConnectOptions) -> Vec<Opts> {
    opts.tls_attempts()
        .iter()
        .map(|&tls| opts.to_mysql_opts(tls))
        .collect()
}

fn connect_error(endpoint: &str, e: &SourceError) -> Failure {
    match e {
        SourceError::TooManyConnections(help) => Failure(help.clone()),
        other => Failure(format!("{endpoint}: {other}")),
    }
}

fn colors(cli: &Cli) -> bool {
    !cli.dashboard.no_color && env("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The dashboard against the server the flags name.
pub fn dashboard(cli: &Cli) -> Result<(), Failure> {
    let opts = connect_options(cli)?;
    let endpoint = opts.endpoint();
    let attempts = attempts(&opts);
    // Connect before the terminal is taken over, so a wrong password or an
    // unreachable host is one line on stderr. A full server (1040) is what
    // conntop is for: open the dashboard and keep retrying.
    let (first, first_error) = match Source::connect(&attempts, &endpoint) {
        Ok(source) => (Some(source), None),
        Err(e @ SourceError::TooManyConnections(_)) => (None, Some(e.to_string())),
        Err(e) => return Err(connect_error(&endpoint, &e)),
    };
    run_dashboard(
        cli,
        attempts,
        endpoint,
        first,
        first_error,
        Thresholds::default(),
    )
}

fn run_dashboard(
    cli: &Cli,
    attempts: Vec<Opts>,
    endpoint: String,
    first: Option<Source>,
    first_error: Option<String>,
    defaults: Thresholds,
) -> Result<(), Failure> {
    let safety = safety(cli);
    let audit = if safety.read_only {
        None
    } else {
        Some(audit_log(cli)?)
    };
    let config = PollerConfig {
        interval: cli.dashboard.interval,
        attempts,
        endpoint,
        kill_method: cli.safety.kill_method.into(),
        safety: Safety {
            own_id: first.as_ref().map_or(0, Source::own_id),
            ..safety.clone()
        },
        audit,
    };
    let handle = poller::spawn(config, first, first_error);
    // `--record DIR`: a tee between the poller and the dashboard.
    let recording = match &cli.dashboard.record {
        Some(dir) => Some(record_tee(dir, &handle)?),
        None => None,
    };
    let app = App::new(Options {
        thresholds: thresholds(cli, defaults.idle_over, defaults.query_over),
        safety,
        interval: cli.dashboard.interval,
        color: colors(cli),
    });
    let result = match &recording {
        Some((link, _)) => tui::run(app, link),
        None => tui::run(app, &handle),
    };
    if let Some((link, tee)) = recording {
        drop(link);
        tee.stop();
    }
    handle.stop();
    result.map_err(Failure::from)
}

/// `--once`: one snapshot to stdout.
pub fn once(cli: &Cli) -> Result<(), Failure> {
    let opts = connect_options(cli)?;
    let endpoint = opts.endpoint();
    let mut source =
        Source::connect(&attempts(&opts), &endpoint).map_err(|e| connect_error(&endpoint, &e))?;
    let snap = source.poll().map_err(|e| connect_error(&endpoint, &e))?;
    let mut history = History::default();
    history.push(Sample::from_snapshot(&snap));
    let t = thresholds(
        cli,
        Thresholds::default().idle_over,
        Thresholds::default().query_over,
    );
    let found = findings::diagnose(&snap, &history, &t);
    let text = match cli.dashboard.format {
        Format::Json => report::json(&snap, &found),
        Format::Table => report::table(&snap, &found),
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        // `conntop --once | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Failure::from),
    }
}

/// `conntop kill`: kills idle (`--idle-over`) or long-running
/// (`--query-over`) sessions with the same rules as the dashboard.
pub fn kill(cli: &Cli, args: &KillArgs) -> Result<(), Failure> {
    let (mode, expect_idle, threshold) = match (cli.thresholds.idle_over, cli.thresholds.query_over)
    {
        (Some(d), None) => (KillMode::Connection, true, d),
        (None, Some(d)) => (KillMode::Query, false, d),
        (Some(_), Some(_)) => {
            return Err(Failure(
                "give one of --idle-over (kill idle connections) or --query-over (stop long queries), not both"
                    .to_string(),
            ));
        }
        (None, None) => {
            return Err(Failure(
                "say what to kill: --idle-over DURATION (idle connections) or --query-over DURATION (long queries)"
                    .to_string(),
            ));
        }
    };
    let mut safety = safety(cli);
    if safety.read_only {
        return Err(Failure(
            "read-only mode (--read-only): nothing is killed".to_string(),
        ));
    }
    let opts = connect_options(cli)?;
    let endpoint = opts.endpoint();
    let mut source =
        Source::connect(&attempts(&opts), &endpoint).map_err(|e| connect_error(&endpoint, &e))?;
    safety.own_id = source.own_id();
    let mut audit = audit_log(cli)?;
    let sessions = source
        .read_sessions()
        .map_err(|e| connect_error(&endpoint, &e))?;
    let selection = Selection {
        users: args.match_user.clone(),
        hosts: args.match_host.clone(),
    };
    let targets = if expect_idle {
        kill::idle_targets(&sessions, threshold, &safety, &selection)
    } else {
        kill::long_targets(&sessions, threshold, &safety, &selection)
    };
    let what = if expect_idle {
        format!(
            "idle for at least {}",
            humantime::format_duration(threshold)
        )
    } else {
        format!(
            "running for at least {}",
            humantime::format_duration(threshold)
        )
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} sessions {what} on {endpoint}",
        if args.dry_run {
            "would kill"
        } else {
            "killing"
        },
        targets.len()
    )?;
    let why = format!("conntop kill: {what}");
    let batch = Batch {
        mode,
        method: cli.safety.kill_method.into(),
        dry_run: args.dry_run,
        why: &why,
        server: &endpoint,
    };
    let mut write_error = None;
    let result = kill::execute(
        &mut source,
        &targets,
        batch,
        &safety,
        Some(&mut audit),
        &mut |t, outcome, _| {
            let s = &t.session;
            let (word, detail) = match outcome {
                KillOutcome::Killed => ("killed", String::new()),
                KillOutcome::WouldKill => ("would kill", String::new()),
                KillOutcome::Skipped(why) => ("skipped", format!(" ({why})")),
                KillOutcome::Failed(why) => ("failed", format!(" ({why})")),
            };
            let line = format!(
                "{word:<10} {:>8} {}@{} {} {} {}{detail}",
                s.id,
                one_line(&s.user, 32),
                one_line(s.client_host(), 64),
                one_line(&s.command, 16),
                short_ms(s.time_ms),
                one_line(s.info.as_deref().unwrap_or(""), 80),
            );
            if let Err(e) = writeln!(out, "{}", line.trim_end()) {
                write_error.get_or_insert(e);
            }
        },
    );
    if args.dry_run {
        writeln!(
            out,
            "dry run: would kill {}, skipped {}, nothing sent; audit log {}",
            result.tally.would_kill,
            result.tally.skipped,
            audit.path().display()
        )?;
    } else {
        writeln!(
            out,
            "{}; audit log {}",
            kill::summary(mode, &result.tally),
            audit.path().display()
        )?;
    }
    if let Some(e) = write_error {
        return Err(Failure::from(e));
    }
    match result.first_error {
        Some(e) if result.tally.failed > 0 => Err(Failure(e)),
        _ => Ok(()),
    }
}

/// `conntop demo`: a throwaway server, scenario load, the dashboard on it.
pub fn demo(cli: &Cli, args: &DemoArgs) -> Result<(), Failure> {
    Sandbox::find_server()?;
    eprintln!(
        "conntop demo: starting a throwaway server (max_connections {})…",
        args.max_connections
    );
    let mut sb = Sandbox::start(SandboxOptions {
        max_connections: args.max_connections,
        ..SandboxOptions::default()
    })?;
    let load = Load::start(sb.port(), args.scenario);
    let endpoint = format!("demo 127.0.0.1:{}", sb.port());
    let opts: Opts = sb.opts(sandbox::MONITOR).into();
    let attempts = vec![opts];
    let first = Source::connect(&attempts, &endpoint).map_err(|e| connect_error(&endpoint, &e))?;
    // Short thresholds so the demo's leak and long queries show within a minute.
    let defaults = Thresholds {
        idle_over: Duration::from_secs(30),
        query_over: Duration::from_secs(20),
        ..Thresholds::default()
    };
    let result = run_dashboard(cli, attempts, endpoint, Some(first), None, defaults);
    load.stop();
    let stopped = sb.stop();
    result?;
    stopped.map_err(Failure::from)
}

/// `conntop sandbox`: a server for tests until stdin closes.
pub fn sandbox(args: &SandboxArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout();
    sandbox::serve(
        SandboxOptions {
            port: args.port,
            max_connections: args.max_connections,
            ..SandboxOptions::default()
        },
        &mut out,
    )
    .map_err(Failure::from)
}

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
fn record_tee(
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
        interval: args.interval,
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
            humantime::format_duration(args.interval),
            args.dir.display(),
            humantime::format_duration(args.retention),
            args.max_size
        ),
    );
    let result = record::daemon::run(&handle, writer, &mut err);
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
