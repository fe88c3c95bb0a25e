//! What each mode does once the flags are parsed: the dashboard, `--once`,
//! `kill`, `demo` and the hidden `sandbox`. Each returns a one-line error.

use std::io::Write;
use std::time::Duration;

use mysql::Opts;

use crate::app::{App, Options};
use crate::audit::{AuditLog, AuditSink};
use crate::cli::{Cli, DemoArgs, Format, KillArgs, SandboxArgs};
use crate::command::{Expect, KillMode, KillOutcome};
use crate::config::{self, ConnectOptions};
use crate::findings;
use crate::fleet::{self, Fleet, FleetSource, Target};
use crate::history::{History, Sample};
use crate::kill::executor::{self, Batch};
use crate::kill::{self, Refusal, Safety, Selection};
use crate::poller::{self, PollerConfig};
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

pub(crate) fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Thresholds from the flags, with the given defaults for the durations.
pub(crate) fn thresholds(cli: &Cli, idle: Duration, query: Duration) -> Thresholds {
    Thresholds {
        idle_over: cli.thresholds.idle_over.unwrap_or(idle),
        query_over: cli.thresholds.query_over.unwrap_or(query),
        warn: cli.thresholds.warn / 100.0,
        crit: cli.thresholds.crit / 100.0,
    }
}

pub(crate) fn safety(cli: &Cli) -> Safety {
    Safety {
        allow_system: cli.safety.allow_system,
        ignore_users: cli.safety.ignore_user.clone(),
        ignore_hosts: cli.safety.ignore_host.clone(),
        read_only: cli.safety.read_only,
        ..Safety::default()
    }
}

/// Opens the audit log named by `--audit-log` or the default path.
pub(crate) fn audit_log(cli: &Cli) -> Result<AuditLog, Failure> {
    let path = cli
        .safety
        .audit_log
        .clone()
        .or_else(|| AuditLog::default_path(&env))
        .ok_or_else(|| Failure("no place for the audit log: give --audit-log PATH".to_string()))?;
    let mut log = AuditLog::open(&path).map_err(|e| {
        Failure(format!(
            "cannot open the audit log {}: {e} (give --audit-log PATH, or --read-only)",
            path.display()
        ))
    })?;
    for warning in log.take_warnings() {
        eprintln!("conntop: warning: {warning}");
    }
    Ok(log)
}

/// Resolves the connection options and asks for the password if `-p` was bare.
fn connect_options(cli: &Cli) -> Result<ConnectOptions, Failure> {
    let mut opts = config::resolve(&cli.connect, &env)?;
    opts.ask_password_if_needed()?;
    Ok(opts)
}

/// The servers the flags name.
enum Servers {
    /// One server: the paths of one server, unchanged.
    One(ConnectOptions),
    /// Several (`-h a,b`, `--hosts`, `--url` twice).
    Many(Vec<Target>),
}

/// Resolves the targets; a bare `-p` prompts once for all of them.
fn servers(cli: &Cli) -> Result<Servers, Failure> {
    let read = |path: &std::path::Path| std::fs::read_to_string(path);
    let Some(specs) = fleet::targets::specs(&cli.connect, &read)? else {
        return Ok(Servers::One(connect_options(cli)?));
    };
    let mut targets = fleet::targets::resolve(&cli.connect, &specs, &env)?;
    if targets.iter().any(|t| t.opts.ask_password) {
        let password = config::prompt_password("Enter password: ")?;
        for t in targets.iter_mut().filter(|t| t.opts.ask_password) {
            t.opts.password = Some(config::Password::new(password.clone()));
            t.opts.ask_password = false;
        }
    }
    Ok(match targets.len() {
        1 => Servers::One(targets.remove(0).opts),
        _ => Servers::Many(targets),
    })
}

pub(crate) fn attempts(opts: &ConnectOptions) -> Vec<Opts> {
    opts.tls_attempts()
        .iter()
        .map(|&tls| opts.to_mysql_opts(tls))
        .collect()
}

pub(crate) fn connect_error(endpoint: &str, e: &SourceError) -> Failure {
    match e {
        SourceError::TooManyConnections(help) => Failure(help.clone()),
        other => Failure(format!("{endpoint}: {other}")),
    }
}

pub(crate) fn colors(cli: &Cli) -> bool {
    !cli.dashboard.no_color && env("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The dashboard against the server the flags name.
pub fn dashboard(cli: &Cli) -> Result<(), Failure> {
    let opts = match servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet_dashboard(cli, targets),
    };
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
        safety: safety.clone(),
        audit,
    };
    // The previews apply the account's limits from the first connection
    // (the app keeps the own id current from the snapshots).
    let preview_safety = match &first {
        Some(source) => safety.connected(source.own_id(), source.privileges()),
        None => safety,
    };
    let handle = poller::spawn(config, first, first_error);
    let app = App::new(Options {
        thresholds: thresholds(cli, defaults.idle_over, defaults.query_over),
        safety: preview_safety,
        interval: cli.dashboard.interval,
        color: colors(cli),
    });
    let result = tui::run(app, &handle);
    handle.stop();
    result.map_err(Failure::from)
}

/// The fleet dashboard: one poller per server (each connects on its own
/// thread, so the screen appears at once whatever the servers do).
fn fleet_dashboard(cli: &Cli, targets: Vec<Target>) -> Result<(), Failure> {
    let safety = safety(cli);
    // One audit log, opened (and its warnings shown) once; the first
    // poller takes it, each of the others appends through a handle of its own.
    let mut first = if safety.read_only {
        None
    } else {
        Some(audit_log(cli)?)
    };
    let path = first.as_ref().map(|log| log.path().to_path_buf());
    let mut configs = Vec::with_capacity(targets.len());
    for t in &targets {
        let audit = match (first.take(), &path) {
            (Some(log), _) => Some(log),
            (None, Some(path)) => Some(AuditLog::open(path).map_err(|e| {
                Failure(format!("cannot open the audit log {}: {e}", path.display()))
            })?),
            (None, None) => None,
        };
        configs.push(PollerConfig {
            interval: cli.dashboard.interval,
            attempts: attempts(&t.opts),
            endpoint: t.opts.endpoint(),
            kill_method: cli.safety.kill_method.into(),
            safety: safety.clone(),
            audit,
        });
    }
    let defaults = Thresholds::default();
    let fleet = Fleet::new(
        targets.into_iter().map(|t| t.name).collect(),
        &Options {
            thresholds: thresholds(cli, defaults.idle_over, defaults.query_over),
            safety,
            interval: cli.dashboard.interval,
            color: colors(cli),
        },
    );
    let source = FleetSource::spawn(configs);
    let result = fleet::run::run(fleet, &source);
    source.stop();
    result.map_err(Failure::from)
}

/// `--once`: one snapshot to stdout.
pub fn once(cli: &Cli) -> Result<(), Failure> {
    let opts = match servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet::once::run(cli, &targets),
    };
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

/// What `conntop kill` kills, from `--idle-over` or `--query-over`.
#[derive(Debug, Clone, Copy)]
pub struct KillOrder {
    pub mode: KillMode,
    /// Idle sessions (`--idle-over`), else running statements.
    pub expect_idle: bool,
    pub threshold: Duration,
}

/// The kill the flags ask for; refused in read-only mode.
fn kill_order(cli: &Cli) -> Result<KillOrder, Failure> {
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
    if cli.safety.read_only {
        return Err(Failure(
            "read-only mode (--read-only): nothing is killed".to_string(),
        ));
    }
    Ok(KillOrder {
        mode,
        expect_idle,
        threshold,
    })
}

/// `conntop kill`: kills idle (`--idle-over`) or long-running
/// (`--query-over`) sessions with the same rules as the dashboard; on
/// several servers, on each (see `fleet::kill`).
pub fn kill(cli: &Cli, args: &KillArgs) -> Result<(), Failure> {
    let order = kill_order(cli)?;
    let opts = match servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet::kill::run(cli, args, order, &targets),
    };
    let endpoint = opts.endpoint();
    let mut source =
        Source::connect(&attempts(&opts), &endpoint).map_err(|e| connect_error(&endpoint, &e))?;
    let mut audit = audit_log(cli)?;
    let mut out = std::io::stdout().lock();
    kill_on(
        cli,
        args,
        order,
        (&mut source, &endpoint),
        &mut audit,
        &mut out,
    )
}

/// `conntop kill` on one connected server: the sessions to kill, each
/// re-checked, audited and written to `out` as it goes, then the summary.
pub(crate) fn kill_on(
    cli: &Cli,
    args: &KillArgs,
    order: KillOrder,
    (source, endpoint): (&mut Source, &str),
    audit: &mut dyn AuditSink,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let KillOrder {
        mode,
        expect_idle,
        threshold,
    } = order;
    let safety = safety(cli).connected(source.own_id(), source.privileges());
    let sessions = source
        .read_sessions()
        .map_err(|e| connect_error(endpoint, &e))?;
    let selection = Selection {
        users: args.match_user.clone(),
        hosts: args.match_host.clone(),
    };
    let expect = if expect_idle {
        Expect::IdleAtLeast { min: threshold }
    } else {
        Expect::RunningAtLeast { min: threshold }
    };
    let targets = kill::targets(&sessions, expect, &safety, &selection);
    let not_ours = sessions
        .iter()
        .filter(|s| kill::meets(s, expect) && selection.matches(s))
        .filter(|s| safety.refuses(s) == Some(Refusal::OtherAccount))
        .count();
    if not_ours > 0 {
        eprintln!(
            "conntop: warning: left out {not_ours} sessions of other accounts: \
             killing them needs CONNECTION ADMIN or SUPER"
        );
    }
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
        server: endpoint,
    };
    let mut write_error = None;
    let result = executor::execute(
        source,
        &targets,
        &batch,
        &safety,
        audit,
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
            audit.location()
        )?;
    } else {
        writeln!(
            out,
            "{}; audit log {}",
            kill::summary(mode, &result.tally),
            audit.location()
        )?;
    }
    for warning in &result.warnings {
        eprintln!("conntop: warning: {warning}");
    }
    if let Some(e) = result.audit_error {
        return Err(Failure(e));
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
