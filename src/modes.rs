//! What each mode does once the flags are parsed: the dashboard, `--once`,
//! `kill`, `demo` and the hidden `sandbox`. Each returns a one-line error.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use mysql::Opts;

use crate::alert::hook::{AlertConfig, AlertHook, AlertTee};
use crate::app::{App, Options};
use crate::audit::{AuditLog, AuditSink};
use crate::cli::{
    self, Cli, CompletionsArgs, DEMO_IDLE_OVER, DEMO_QUERY_OVER, DemoArgs, Format, ManArgs,
    SandboxArgs,
};
use crate::config::{self, ConnectOptions};
use crate::findings;
use crate::fleet::{self, Servers};
use crate::history::{History, Sample};
use crate::kill::Safety;
use crate::poller::{self, PollerConfig};
use crate::report;
use crate::sandbox::{self, Load, Sandbox, SandboxOptions};
use crate::source::{Source, SourceError};
use crate::text::one_line;
use crate::thresholds::Thresholds;
use crate::tui;

mod kill_mode;
mod recording;

pub(crate) use kill_mode::kill_on;
pub use kill_mode::{KillOrder, kill};
pub use recording::{record, replay};

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
            "cannot use the audit log {}: {e} (give --audit-log PATH, or --read-only)",
            path.display()
        ))
    })?;
    for warning in log.take_warnings() {
        crate::text::stderr_line(&format!("conntop: warning: {warning}"));
    }
    Ok(log)
}

/// The one server the flags name; several (`-h a,b`, `--hosts`, `--url`
/// twice) are refused here: see [`fleet::servers`] for the modes that take them.
pub(crate) fn connect_options(cli: &Cli) -> Result<ConnectOptions, Failure> {
    match fleet::servers(cli)? {
        Servers::One(opts) => Ok(opts),
        Servers::Many(targets) => Err(Failure(format!(
            "{} servers named; this mode watches one (the dashboard, --once and kill take several)",
            targets.len()
        ))),
    }
}

/// Resolves the connection options of one server named the usual way and
/// asks for the password if `-p` was bare.
pub(crate) fn flag_options(cli: &Cli) -> Result<ConnectOptions, Failure> {
    let mut opts = config::resolve(&cli.connect, &env)?;
    opts.ask_password_if_needed()?;
    Ok(opts)
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

/// [`connect_error`], plus, when no server answers on this machine, how to
/// name another one.
fn first_connect_error(opts: &ConnectOptions, endpoint: &str, e: &SourceError) -> Failure {
    let Failure(line) = connect_error(endpoint, e);
    if !matches!(e, SourceError::Unreachable(_)) || !is_local(opts) {
        return Failure(line);
    }
    Failure(format!(
        "{line}; no server here? name one as with mysql: -h HOST [-P PORT], or -S /path/to/mysqld.sock"
    ))
}

/// True when the connection goes to this machine (socket, localhost or loopback).
fn is_local(opts: &ConnectOptions) -> bool {
    opts.uses_socket()
        || opts.host.as_deref().is_none_or(|h| {
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

pub(crate) fn colors(cli: &Cli) -> bool {
    !cli.dashboard.no_color && env("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The dashboard against the server the flags name.
pub fn dashboard(cli: &Cli) -> Result<(), Failure> {
    let opts = match fleet::servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet::run::dashboard(cli, targets),
    };
    let endpoint = opts.endpoint();
    let attempts = attempts(&opts);
    // Connect before the terminal is taken over, so a wrong password or an
    // unreachable host is one line on stderr. A full server (1040) is what
    // conntop is for: open the dashboard and keep retrying.
    let (first, first_error) = match Source::connect(&attempts, &endpoint) {
        Ok(source) => (Some(source), None),
        Err(e @ SourceError::TooManyConnections(_)) => (None, Some(e.to_string())),
        Err(e) => return Err(first_connect_error(&opts, &endpoint, &e)),
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
    // `--record DIR`: a tee between the poller and the dashboard.
    let recording = match &cli.dashboard.record {
        Some(dir) => Some(recording::record_tee(dir, &handle)?),
        None => None,
    };
    // `--on-alert`: a thread between the poller and the dashboard runs them.
    let alerting = match AlertConfig::from_flags(&cli.alerts, cli.thresholds.warn) {
        Some(config) => {
            let hook = AlertHook::new(
                config,
                thresholds(cli, defaults.idle_over, defaults.query_over),
            );
            let tee = AlertTee::start(
                recording.as_ref().map_or(&handle.link, |(link, _)| link),
                hook,
            )
            .map_err(|e| Failure(format!("cannot start the alert thread: {e}")))?;
            Some(tee)
        }
        None => None,
    };
    let mut app = App::new(Options {
        thresholds: thresholds(cli, defaults.idle_over, defaults.query_over),
        safety: preview_safety,
        interval: cli.dashboard.interval,
        color: colors(cli),
    });
    // `--filter`: parsed already; the rows follow with the first snapshot.
    if let Some(filter) = &cli.dashboard.filter {
        app.table.filter = filter.as_str().to_string();
    }
    let result = tui::run(
        app,
        alerting
            .as_ref()
            .map(|(link, _)| link)
            .or(recording.as_ref().map(|(link, _)| link))
            .unwrap_or(&handle.link),
    );
    if let Some((link, tee)) = alerting {
        drop(link);
        // The terminal is the dashboard's while it runs: the alerts' log now.
        for line in tee.stop() {
            eprintln!("conntop: {line}");
        }
    }
    if let Some((link, tee)) = recording {
        drop(link);
        tee.stop();
    }
    handle.stop();
    result.map_err(Failure::from)
}

/// `--once`: one snapshot to stdout.
pub fn once(cli: &Cli) -> Result<(), Failure> {
    let opts = match fleet::servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet::once::run(cli, &targets),
    };
    let endpoint = opts.endpoint();
    let mut source = Source::connect(&attempts(&opts), &endpoint)
        .map_err(|e| first_connect_error(&opts, &endpoint, &e))?;
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
    eprint!("{}", demo_connect_help(sb.port(), sb.socket()));
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!("Enter opens the dashboard (its q stops the server); q or Ctrl-C stops now… ");
        let go = wait_for_enter();
        eprintln!();
        if !matches!(go, Ok(true)) {
            load.stop();
            let stopped = sb.stop();
            go?;
            return stopped.map_err(Failure::from);
        }
    }
    // Short thresholds so the demo's leak and long queries show within a minute.
    let defaults = Thresholds {
        idle_over: DEMO_IDLE_OVER,
        query_over: DEMO_QUERY_OVER,
        ..Thresholds::default()
    };
    let result = run_dashboard(cli, attempts, endpoint, Some(first), None, defaults);
    load.stop();
    let stopped = sb.stop();
    result?;
    stopped.map_err(Failure::from)
}

/// How to reach the demo's server from another terminal: the address, the
/// socket and every account. Lines fit 80 columns for a short socket path.
pub fn demo_connect_help(port: u16, socket: &Path) -> String {
    let sock = one_line(&socket.to_string_lossy(), 200).into_owned();
    let (root, m) = (sandbox::ROOT.user, sandbox::MONITOR);
    let apps = [sandbox::APP, sandbox::REPORTS, sandbox::BATCH]
        .iter()
        .map(|a| format!("{}/{}", a.user, a.password))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "conntop demo: the server listens on 127.0.0.1:{port}. Connect another client:\n  \
         mysql -h 127.0.0.1 -P {port} -u {root}          (root, no password)\n  \
         mysql -S {sock} -u {root}\n  \
         conntop -h 127.0.0.1 -P {port} -u {mu} -p{mp}   (as the dashboard)\n\
         Accounts {apps} own the database {db}.\n",
        mu = m.user,
        mp = m.password,
        db = sandbox::APP_DATABASE,
    )
}

/// Waits on the terminal for Enter (`true`) or q, Esc, Ctrl-C (`false`).
/// Raw mode turns Ctrl-C into a key, so the demo's server is stopped
/// rather than left behind by a SIGINT.
fn wait_for_enter() -> std::io::Result<bool> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    crossterm::terminal::enable_raw_mode()?;
    let answer = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break Ok(true),
                KeyCode::Esc | KeyCode::Char('q') => break Ok(false),
                KeyCode::Char('c' | 'd') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Ok(false);
                }
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    answer
}

/// `conntop completions SHELL`: the completion script on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut cmd = cli::generated();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "conntop", &mut out);
    write_stdout(&out)
}

/// `conntop man [SUBCOMMAND]`: a manual page (roff) on stdout,
/// `conntop(1)` or `conntop-kill(1)`.
pub fn man(args: &ManArgs) -> Result<(), Failure> {
    let root = cli::generated();
    let (title, cmd) = match &args.page {
        None => ("conntop".to_string(), root),
        Some(name) => {
            let sub = root
                .find_subcommand(name)
                .cloned()
                .ok_or_else(|| Failure(format!("no manual page for {name}")))?;
            let title = format!("conntop-{name}");
            (
                title.clone(),
                sub.display_name(title).bin_name(format!("conntop {name}")),
            )
        }
    };
    let takes_filter = cmd
        .get_arguments()
        .any(|a| matches!(a.get_id().as_str(), "filter" | "where"));
    let has_subcommands = cmd.get_subcommands().next().is_some();
    let has_after_help = cmd.get_after_help().is_some();
    let page = clap_mangen::Man::new(cmd)
        .title(title)
        .source(format!("conntop {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    if has_subcommands {
        page.render_subcommands_section(&mut out)?;
    }
    if takes_filter {
        out.extend_from_slice(filter_section().as_bytes());
    }
    if has_after_help {
        page.render_extra_section(&mut out)?;
    }
    write_stdout(&out)
}

/// The manual's FILTER EXPRESSIONS section, from [`filter::SYNTAX`].
fn filter_section() -> String {
    // roff: `\` starts an escape, `-` is a hyphen, a line may not start with `.` or `'`.
    let roff = |t: &str| t.replace('\\', "\\e").replace('-', "\\-");
    let mut s = String::from(
        ".SH \"FILTER EXPRESSIONS\"\n\
         The \\fB/\\fR prompt, \\fB\\-\\-filter\\fR and \\fBkill \\-\\-where\\fR take terms \
         separated by spaces; a session must pass every term.\n",
    );
    for (form, meaning) in crate::filter::SYNTAX {
        s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(form), roff(meaning)));
    }
    s.push_str(".PP\nExample: user:app host:10.0.* db:shop cmd:Sleep !user:repl time>30s\n");
    s
}

/// Writes generated text to stdout; a closed pipe (`| head`) is fine.
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Failure::from),
    }
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
