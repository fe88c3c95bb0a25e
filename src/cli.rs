//! The command line: modes (dashboard, `--once`, `kill`, `demo`, and the
//! generators `completions` and `man`) and their flags. Connection flags live
//! in `config.rs`.
//!
//! Most flags are global, so they may stand before or after a subcommand
//! (`conntop -h db1 kill ...` and `conntop kill -h db1 ...`). [`command`]
//! hides from each subcommand's help the flags that do not apply to it, and
//! [`check`] refuses them, and every other misuse, as a usage error (exit 2).

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::command::KillMethod;
use crate::config::ConnectArgs;
use crate::filter::Filter;
use crate::kill::Pattern;
use crate::poller::MIN_INTERVAL;
use crate::sandbox::Scenario;

mod applies;

pub use applies::{Usage, check, command, command_named, generated};

/// The root command.
#[derive(Parser, Debug)]
#[command(
    name = "conntop",
    version,
    about = "See and fix MySQL/MariaDB connection exhaustion (ERROR 1040) from a terminal",
    disable_help_flag = true,
    after_help = "Connect as you would with mysql: conntop -h db1 -u admin -p\n\
                  Examples:\n  conntop                         dashboard on the local server\n  \
                  conntop --filter 'user:app* time>30s'   start with a filter\n  \
                  conntop --once --format json    one snapshot for scripts\n  \
                  conntop kill --idle-over 10m    kill leaked idle sessions (cron-safe)\n  \
                  conntop demo                    try it on a throwaway server\n\
                  Filter syntax, completions and the manual page: see the README, conntop man"
)]
pub struct Cli {
    /// Print help.
    #[arg(short = '?', long, action = ArgAction::Help, global = true)]
    pub help: Option<bool>,

    #[command(flatten)]
    pub connect: ConnectArgs,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    #[command(flatten)]
    pub safety: SafetyArgs,

    #[command(flatten)]
    pub dashboard: DashboardArgs,

    #[command(flatten)]
    pub alerts: AlertArgs,

    #[command(subcommand)]
    pub command: Option<Mode>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Mode {
    /// Kill idle or long-running sessions without the dashboard (for cron and runbooks).
    Kill(KillArgs),
    /// Start a throwaway server with scenario load and open the dashboard on it.
    Demo(DemoArgs),
    /// Run a throwaway server until stdin closes (for tests and benchmarks).
    #[command(hide = true)]
    Sandbox(SandboxArgs),
    /// Print a shell completion script: conntop completions bash|zsh|fish.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): conntop man [kill|demo|check|record|replay|completions|man].
    Man(ManArgs),
    /// One status line with performance data for Nagios, Icinga or Sensu; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Check(CheckArgs),
    /// Record every snapshot to a directory, without a terminal (a daemon or a service).
    Record(RecordArgs),
    /// Replay a recording in the dashboard, or print one moment or the incident timeline.
    Replay(ReplayArgs),
}

/// Thresholds shared by the dashboard, the findings and `kill`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Thresholds")]
pub struct ThresholdArgs {
    /// A Sleep session idle this long counts as leaked; `I` and `kill` use it [default: 5m].
    #[arg(long, value_name = "DURATION", global = true, value_parser = parse_threshold)]
    pub idle_over: Option<Duration>,

    /// A statement running this long counts as long-running; `L` and `kill` use it [default: 60s].
    #[arg(long, value_name = "DURATION", global = true, value_parser = parse_threshold)]
    pub query_over: Option<Duration>,

    /// Gauge warning level, percent of max_connections.
    #[arg(long, value_name = "PERCENT", default_value_t = 80.0, global = true, value_parser = parse_percent)]
    pub warn: f64,

    /// Gauge critical level, percent of max_connections.
    #[arg(long, value_name = "PERCENT", default_value_t = 95.0, global = true, value_parser = parse_percent)]
    pub crit: f64,
}

/// Who may be killed, and how.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Kill safety")]
pub struct SafetyArgs {
    /// Disable every kill.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Allow killing system and replication threads.
    #[arg(long, global = true)]
    pub allow_system: bool,

    /// Never kill these users (shell pattern: repl*, backup; repeatable).
    #[arg(long, value_name = "PATTERN", global = true)]
    pub ignore_user: Vec<Pattern>,

    /// Never kill sessions from these client hosts (shell pattern: 10.0.0.*; repeatable).
    #[arg(long, value_name = "PATTERN", global = true)]
    pub ignore_host: Vec<Pattern>,

    /// Append every kill attempt here as a JSON line [default: $XDG_STATE_HOME/conntop/audit.jsonl].
    #[arg(long, value_name = "PATH", global = true)]
    pub audit_log: Option<PathBuf>,

    /// How to kill: sql (KILL) or rds (CALL mysql.rds_kill).
    #[arg(long, value_name = "METHOD", default_value = "sql", global = true)]
    pub kill_method: KillMethodArg,
}

/// `--kill-method` values.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KillMethodArg {
    #[default]
    Sql,
    Rds,
}

impl From<KillMethodArg> for KillMethod {
    fn from(k: KillMethodArg) -> KillMethod {
        match k {
            KillMethodArg::Sql => KillMethod::Sql,
            KillMethodArg::Rds => KillMethod::Rds,
        }
    }
}

/// Dashboard and snapshot flags.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Display")]
pub struct DashboardArgs {
    /// Poll interval, e.g. 1s or 500ms (minimum 100ms, maximum 1h).
    #[arg(short = 'i', long, value_name = "DURATION", default_value = "1s", global = true,
          value_parser = parse_interval)]
    pub interval: Duration,

    /// Start with this filter, e.g. 'user:app* !cmd:Sleep time>30s' (the `/` prompt's syntax).
    #[arg(long, value_name = "EXPR", global = true, value_parser = parse_filter)]
    pub filter: Option<Filter>,

    /// Print one snapshot and exit.
    #[arg(long)]
    pub once: bool,

    /// Output of --once.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "table",
        requires = "once"
    )]
    pub format: Format,

    /// No colours (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Also record every snapshot to this directory (as `conntop record` does).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// `conntop record`.
#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// Where the recording files go (created if missing).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// Delete files whose data are all older than this.
    #[arg(long, value_name = "DURATION", default_value = "48h", value_parser = parse_retention)]
    pub retention: Duration,

    /// Delete the oldest files while the recording takes more than this (2GB, 500MB, 1GiB).
    #[arg(long, value_name = "SIZE", default_value = "2GB", value_parser = parse_size)]
    pub max_size: u64,
}

/// `conntop replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// A recording directory, or one recording file.
    #[arg(value_name = "DIR|FILE")]
    pub path: PathBuf,

    /// Start at this moment (UTC): 03:12, 2026-11-30 03:12:05, -10m, start, end.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,

    /// Print the moment (--at, default the end) as --once does, and exit.
    #[arg(long, conflicts_with = "summary")]
    pub once: bool,

    /// Output of --once.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "table",
        requires = "once"
    )]
    pub format: Format,

    /// Print the incident timeline: thresholds crossed, refusals, findings, the peak.
    #[arg(long)]
    pub summary: bool,
}

/// `--format` values.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
}

/// `conntop kill`.
#[derive(Args, Debug, Clone)]
pub struct KillArgs {
    /// Only these users (shell pattern; repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub match_user: Vec<Pattern>,

    /// Only these client hosts (shell pattern; repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub match_host: Vec<Pattern>,

    /// Only sessions this filter expression matches, e.g. 'db:shop !user:repl' (ANDed with --match-*).
    #[arg(long = "where", id = "where", value_name = "EXPR", value_parser = parse_filter)]
    pub where_: Option<Filter>,

    /// Print what would be killed; kill nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `conntop demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Which load to run.
    #[arg(long, value_name = "SCENARIO", default_value = "all",
          value_parser = PossibleValuesParser::new(Scenario::NAMES)
              .try_map(|s| s.parse::<Scenario>()))]
    pub scenario: Scenario,

    /// max_connections of the throwaway server (10 to 100000).
    #[arg(long, value_name = "N", default_value_t = crate::sandbox::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub max_connections: u32,
}

/// `conntop completions`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `conntop man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// A subcommand's page instead of conntop's own.
    #[arg(value_name = "SUBCOMMAND", value_parser = PossibleValuesParser::new(MAN_PAGES))]
    pub page: Option<String>,
}

/// The subcommands with a manual page of their own.
pub const MAN_PAGES: [&str; 7] = [
    "kill",
    "demo",
    "check",
    "record",
    "replay",
    "completions",
    "man",
];

/// The demo's `--idle-over` default: its leak shows within a minute.
pub const DEMO_IDLE_OVER: Duration = Duration::from_secs(30);

/// The demo's `--query-over` default: its long statements show within a minute.
pub const DEMO_QUERY_OVER: Duration = Duration::from_secs(20);

/// `conntop sandbox` (hidden).
#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Loopback port [default: a free one].
    #[arg(long)]
    pub port: Option<u16>,

    /// max_connections of the server.
    #[arg(long, default_value_t = 500)]
    pub max_connections: u32,
}

/// `conntop check` (`--warn`/`--crit` are the levels, in percent of max_connections).
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Take a second sample this long after the first, for rates (new connections, refusals) in the performance data, e.g. 1s.
    #[arg(long, value_name = "DURATION", value_parser = parse_sample)]
    pub sample: Option<Duration>,
}

/// Alerts of the dashboard: a command run when the server fills up.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Alerts")]
pub struct AlertArgs {
    /// Run the --on-alert commands when connections reach this share of max_connections (80%), when clients are refused (1040) and when a critical finding starts; each kind at most once a minute [default: --warn].
    #[arg(long, global = true, value_name = "PERCENT", value_parser = parse_percent, requires = "on_alert")]
    pub alert_at: Option<f64>,

    /// Shell command to run on an alert, with CONNTOP_ALERT, CONNTOP_SERVER, CONNTOP_USAGE_PCT, CONNTOP_CONNECTED, CONNTOP_MAX, CONNTOP_FINDINGS, ... in its environment (repeatable).
    #[arg(long, global = true, value_name = "CMD")]
    pub on_alert: Vec<String>,

    /// An alert command still running after this long is killed (its process group).
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = parse_alert_timeout)]
    pub alert_timeout: Duration,
}

/// Longest `--sample`.
pub const MAX_SAMPLE: Duration = Duration::from_secs(60);

/// Longest `--alert-timeout`.
pub const MAX_ALERT_TIMEOUT: Duration = Duration::from_secs(600);

/// `--sample`: from 100 ms to [`MAX_SAMPLE`].
fn parse_sample(text: &str) -> Result<Duration, String> {
    let d = parse_duration_up_to(text, MAX_SAMPLE)?;
    if d < Duration::from_millis(100) {
        return Err("must be at least 100ms".to_string());
    }
    Ok(d)
}

/// `--alert-timeout`: above zero, at most [`MAX_ALERT_TIMEOUT`].
fn parse_alert_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration_up_to(text, MAX_ALERT_TIMEOUT)?;
    if d.is_zero() {
        return Err("must be above zero".to_string());
    }
    Ok(d)
}

/// Longest `--interval`.
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Longest `--idle-over` and `--query-over`.
pub const MAX_THRESHOLD: Duration = Duration::from_secs(30 * 24 * 3600);

/// A humantime duration (`5m`, `90s`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (try 30s, 5m or 1h)"))
}

/// A duration of at most `max`: later arithmetic on it (deadlines, `Instant` sums) cannot
/// overflow.
fn parse_duration_up_to(text: &str, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d > max {
        return Err(format!(
            "must be at most {}",
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

/// `--idle-over` and `--query-over`: at most [`MAX_THRESHOLD`].
fn parse_threshold(text: &str) -> Result<Duration, String> {
    parse_duration_up_to(text, MAX_THRESHOLD)
}

/// `--interval`: from [`MIN_INTERVAL`] to [`MAX_INTERVAL`].
fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration_up_to(text, MAX_INTERVAL)?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "must be at least {}",
            humantime::format_duration(MIN_INTERVAL)
        ));
    }
    Ok(d)
}

/// `--filter` and `--where`: a filter expression (see [`crate::filter`]).
fn parse_filter(text: &str) -> Result<Filter, String> {
    Filter::parse(text).map_err(|e| e.to_string())
}

/// Longest `--retention`.
pub const MAX_RETENTION: Duration = Duration::from_secs(3650 * 24 * 3600);

fn parse_retention(text: &str) -> Result<Duration, String> {
    let d = parse_duration_up_to(text, MAX_RETENTION)?;
    if d < Duration::from_secs(60) {
        return Err("must be at least 1m".to_string());
    }
    Ok(d)
}

/// A size: `2GB` (10^9), `1GiB` (2^30), `500MB`, `64k`, `4096`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!(
            "{:?} is not a size (try 2GB, 500MB or 1GiB)",
            crate::text::one_line(t, 40)
        )
    })?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        _ => {
            return Err(format!(
                "unknown size unit {:?} (try 2GB, 500MB or 1GiB)",
                crate::text::one_line(unit, 20)
            ));
        }
    };
    let bytes = n * mult;
    if !(4096.0..=1e15).contains(&bytes) {
        return Err("must be between 4KB and 1PB".to_string());
    }
    Ok(bytes as u64)
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(1.0..=100.0).contains(&v) {
        return Err("must be between 1 and 100".to_string());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("conntop").chain(args.iter().copied()))
    }

    /// Parses as the binary does: [`command`], then [`check`].
    fn usage(args: &[&str]) -> Result<Cli, String> {
        let m = command()
            .try_get_matches_from(std::iter::once("conntop").chain(args.iter().copied()))
            .map_err(|e| e.kind().to_string())?;
        let cli = Cli::from_arg_matches(&m).map_err(|e| e.to_string())?;
        check(&m, &cli).map_err(|u| format!("{}: {}", u.command, u.line))?;
        Ok(cli)
    }

    #[test]
    fn commands_are_valid() {
        command().debug_assert();
        generated().debug_assert();
        for name in MAN_PAGES {
            let sub = generated().find_subcommand(name).cloned();
            sub.expect("a page per name").debug_assert();
        }
    }

    #[test]
    fn flags_go_before_or_after_the_subcommand() {
        for args in [
            &[
                "-h",
                "db1",
                "kill",
                "--idle-over",
                "5m",
                "--where",
                "db:shop",
            ][..],
            &[
                "kill",
                "-h",
                "db1",
                "--idle-over",
                "5m",
                "--where",
                "db:shop",
            ],
            &[
                "--idle-over",
                "5m",
                "-h",
                "db1",
                "kill",
                "--where",
                "db:shop",
            ],
        ] {
            let cli = usage(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(cli.connect.host.as_deref(), Some("db1"), "{args:?}");
            assert_eq!(cli.thresholds.idle_over, Some(Duration::from_secs(300)));
            let Some(Mode::Kill(k)) = &cli.command else {
                panic!("{args:?}: not kill");
            };
            assert_eq!(k.where_.as_ref().map(Filter::as_str), Some("db:shop"));
        }
        let cli = usage(&[
            "demo",
            "--idle-over",
            "1m",
            "-i",
            "2s",
            "--filter",
            "user:app",
        ])
        .expect("demo flags");
        assert_eq!(cli.thresholds.idle_over, Some(Duration::from_secs(60)));
        assert_eq!(cli.dashboard.interval, Duration::from_secs(2));
        assert_eq!(
            cli.dashboard.filter.as_ref().map(Filter::as_str),
            Some("user:app")
        );
        let cli = usage(&["--filter", "!cmd:Sleep"]).expect("dashboard filter");
        assert!(cli.dashboard.filter.is_some());
        assert!(usage(&["sandbox", "--port", "0", "--max-connections", "20"]).is_ok());
        assert!(usage(&["completions", "bash"]).is_ok());
        assert!(usage(&["man", "kill"]).is_ok());
    }

    #[test]
    fn usage_errors_name_the_subcommand() {
        let named = |args: &[&str]| {
            let argv: Vec<std::ffi::OsString> = std::iter::once("conntop")
                .chain(args.iter().copied())
                .map(Into::into)
                .collect();
            command_named(&argv)
        };
        assert_eq!(named(&["kill", "--bogus"]), "conntop kill");
        assert_eq!(named(&["-h", "db1", "-P", "3307", "kill"]), "conntop kill");
        assert_eq!(
            named(&["--user", "kill", "demo"]),
            "conntop demo",
            "a user named kill"
        );
        assert_eq!(
            named(&["-u", "man", "--warn=5", "-i2s", "demo"]),
            "conntop demo"
        );
        assert_eq!(
            named(&["--password", "kill"]),
            "conntop kill",
            "bare -p prompts"
        );
        assert_eq!(named(&["--once", "--bogus"]), "conntop");
        assert_eq!(named(&["stray", "kill"]), "conntop");
        assert_eq!(named(&["--", "kill"]), "conntop");
    }

    #[test]
    fn flags_that_do_not_apply_are_refused() {
        for (args, want) in [
            (&["kill", "--dry-run"][..], "say what to kill"),
            (
                &["kill", "--idle-over", "1m", "--query-over", "1m"],
                "not both",
            ),
            (
                &["--warn", "50", "kill", "--idle-over", "1m"],
                "--warn does not apply",
            ),
            (&["kill", "--idle-over", "1m", "--no-color"], "--no-color"),
            (
                &["--once", "kill", "--idle-over", "1m"],
                "--once does not apply",
            ),
            (&["-i", "2s", "kill", "--idle-over", "1m"], "-i/--interval"),
            (
                &["demo", "-h", "db1"],
                "-h/--host does not apply to conntop demo",
            ),
            (&["--password=X", "demo"], "--password"),
            (&["demo", "--kill-method", "rds"], "--kill-method"),
            (&["completions", "-u", "x", "bash"], "-u/--user"),
            (&["man", "--idle-over", "1m"], "--idle-over"),
            (&["--once", "--filter", "user:x"], "--once prints"),
        ] {
            let e = usage(args).map(|_| ()).expect_err(want);
            assert!(e.contains(want), "{args:?}: {e}");
        }
        for args in [
            &["kill", "--where", "usr:x", "--idle-over", "1m"][..],
            &["--filter", "time>"],
            &["demo", "--max-connections", "5"],
            &["completions", "tcsh"],
            &["man", "bogus"],
        ] {
            assert!(usage(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn defaults_and_modes() {
        let cli = parse(&[]).expect("parses");
        assert_eq!(cli.dashboard.interval, Duration::from_secs(1));
        assert!(cli.command.is_none());
        let cli = parse(&["--once", "--format", "json", "-h", "127.0.0.1"]).expect("parses");
        assert_eq!(cli.dashboard.format, Format::Json);
        let cli =
            parse(&["kill", "--idle-over", "5m", "--dry-run", "-u", "admin"]).expect("parses");
        assert!(matches!(cli.command, Some(Mode::Kill(ref k)) if k.dry_run));
        assert_eq!(cli.thresholds.idle_over, Some(Duration::from_secs(300)));
        assert_eq!(cli.connect.user.as_deref(), Some("admin"));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(parse(&["-i", "50ms"]).is_err());
        assert!(parse(&["-i", "soon"]).is_err());
        assert!(parse(&["--idle-over", "5 parsecs"]).is_err());
        assert!(parse(&["--warn", "120"]).is_err());
        assert!(
            parse(&["--format", "json"]).is_err(),
            "--format needs --once"
        );
        assert!(parse(&["--ignore-user", "["]).is_err());
        assert!(parse(&["demo", "--scenario", "chaos"]).is_err());
        assert!(parse(&["record"]).is_err(), "record needs --dir");
        assert!(parse(&["record", "--dir", "d", "--max-size", "2 parsecs"]).is_err());
        assert!(parse(&["record", "--dir", "d", "--retention", "1s"]).is_err());
        assert!(parse(&["replay", "d", "--format", "json"]).is_err());
        assert!(parse(&["replay", "d", "--once", "--summary"]).is_err());
    }

    #[test]
    fn record_and_replay() {
        let cli = parse(&[
            "record",
            "--dir",
            "/tmp/r",
            "--max-size",
            "500MB",
            "-u",
            "mon",
        ])
        .expect("parses");
        match cli.command {
            Some(Mode::Record(r)) => {
                assert_eq!(r.max_size, 500_000_000);
                assert_eq!(r.retention, Duration::from_secs(48 * 3600));
            }
            other => panic!("{other:?}"),
        }
        let cli = parse(&[
            "replay", "/tmp/r", "--at", "03:12", "--once", "--format", "json",
        ])
        .expect("parses");
        assert!(
            matches!(cli.command, Some(Mode::Replay(ref r)) if r.once && r.format == Format::Json)
        );
        assert!(
            parse(&["--record", "/tmp/r"])
                .expect("parses")
                .dashboard
                .record
                .is_some()
        );
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("1").is_err());
    }

    #[test]
    fn durations_have_an_upper_bound() {
        assert!(parse(&["-i", "1h"]).is_ok());
        assert!(parse(&["-i", "61m"]).is_err());
        assert!(parse(&["-i", "500000000000y"]).is_err());
        assert!(parse(&["--idle-over", "30days"]).is_ok());
        assert!(parse(&["--idle-over", "31days"]).is_err());
        assert!(parse(&["--query-over", "500000000000y"]).is_err());
        let err = parse_interval("2h").unwrap_err();
        assert_eq!(err, "must be at most 1h");
        let err = parse_threshold("1y").unwrap_err();
        assert_eq!(err, "must be at most 30days");
    }

    #[test]
    fn check_and_alert_flags() {
        let cli = parse(&["check", "--sample", "1s", "--warn", "70", "-h", "db1"]).expect("parses");
        assert!(
            matches!(cli.command, Some(Mode::Check(ref c)) if c.sample == Some(Duration::from_secs(1)))
        );
        assert_eq!(cli.thresholds.warn, 70.0);
        assert!(parse(&["check", "--sample", "50ms"]).is_err());
        assert!(parse(&["check", "--sample", "2m"]).is_err());
        let cli =
            parse(&["--alert-at", "85%", "--on-alert", "a", "--on-alert", "b"]).expect("parses");
        assert_eq!(cli.alerts.alert_at, Some(85.0));
        assert_eq!(cli.alerts.on_alert, ["a", "b"]);
        assert_eq!(cli.alerts.alert_timeout, Duration::from_secs(10));
        assert!(parse(&["--alert-at", "80%"]).is_err(), "needs --on-alert");
        assert!(parse(&["--on-alert", "a", "--alert-timeout", "0s"]).is_err());
        assert!(parse(&["--on-alert", "a", "--alert-timeout", "11m"]).is_err());
    }
}
