//! Which flags apply to which subcommand, as data, and what follows from it:
//! each subcommand's help lists only its own flags ([`command`]), the
//! generators see every flag where it applies and nowhere else
//! ([`generated`]), and a flag given where it does not apply is a usage
//! error ([`check`]).

use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory};

use super::{Cli, DEMO_IDLE_OVER, DEMO_QUERY_OVER};
use crate::config::ConnectArgs;

/// The flags that apply to one subcommand.
struct Applies {
    name: &'static str,
    /// Global flags (ids) that do not apply, besides the connection flags
    /// when [`Applies::connection`] is false.
    not: &'static [&'static str],
    /// Do the connection flags apply?
    connection: bool,
    /// Do the other global flags apply at all (false: none but `--help`)?
    globals: bool,
}

/// Every subcommand's [`Applies`].
const APPLIES: [Applies; 8] = [
    Applies {
        name: "kill",
        // No gauge, no colours, no dashboard. --read-only applies: a lock that
        // makes kill refuse (exit 1), which a wrapper may always pass.
        not: &[
            "warn",
            "crit",
            "no_color",
            "interval",
            "filter",
            "alert_at",
            "on_alert",
            "alert_timeout",
        ],
        connection: true,
        globals: true,
    },
    Applies {
        name: "demo",
        // Its own server, killed with KILL.
        not: &["kill_method"],
        connection: false,
        globals: true,
    },
    Applies {
        name: "sandbox",
        not: &[],
        connection: false,
        globals: false,
    },
    Applies {
        name: "completions",
        not: &[],
        connection: false,
        globals: false,
    },
    Applies {
        name: "man",
        not: &[],
        connection: false,
        globals: false,
    },
    Applies {
        name: "check",
        // Reads one or two snapshots: no kills, no screen.
        not: &[
            "read_only",
            "allow_system",
            "ignore_user",
            "ignore_host",
            "audit_log",
            "kill_method",
            "interval",
            "filter",
            "no_color",
            "alert_at",
            "on_alert",
            "alert_timeout",
        ],
        connection: true,
        globals: true,
    },
    Applies {
        name: "record",
        // Polls and writes: no kills, no screen, no findings (yet).
        not: &[
            "idle_over",
            "query_over",
            "warn",
            "crit",
            "read_only",
            "allow_system",
            "ignore_user",
            "ignore_host",
            "audit_log",
            "kill_method",
            "filter",
            "no_color",
        ],
        connection: true,
        globals: true,
    },
    Applies {
        name: "replay",
        // Recorded data: no server, no kills, no polling.
        not: &[
            "read_only",
            "allow_system",
            "ignore_user",
            "ignore_host",
            "audit_log",
            "kill_method",
            "interval",
            "alert_at",
            "on_alert",
            "alert_timeout",
        ],
        connection: false,
        globals: true,
    },
];

/// The end of `conntop check --help`.
const CHECK_AFTER_HELP: &str = "\
Prints one line, CONNTOP <STATE> - <text> | <performance data>, and exits
0 OK, 1 WARNING, 2 CRITICAL (also when the server refuses it with 1040),
3 UNKNOWN (cannot connect, or a bad flag).
Examples:
  conntop check -h db1 -u monitor --warn 80 --crit 95
  conntop check --defaults-extra-file /etc/nagios/conntop.cnf --sample 1s";

/// `conntop kill`'s usage line.
const KILL_USAGE: &str =
    "conntop kill (--idle-over <DURATION> | --query-over <DURATION>) [OPTIONS]";

/// The end of `conntop kill --help`.
const KILL_AFTER_HELP: &str = "\
Give exactly one of --idle-over (kill idle connections) or --query-over (stop
long statements). Each kill is written to the audit log, then re-checked just
before it is sent; system threads, conntop's own connection and --ignore-*
sessions are never killed.
Examples:
  conntop kill --idle-over 10m --dry-run              what would be killed
  conntop kill --idle-over 10m --match-user 'app*'    leaked app connections
  conntop kill --query-over 5m --where 'db:shop !user:repl'
  conntop -h db1 -u admin -p kill --idle-over 30m     on another server";

/// The end of `conntop demo --help`.
const DEMO_AFTER_HELP: &str = "\
Before the dashboard opens, the demo prints how to connect another client
(mysql, or a second conntop) to its server; the server and its data go away
when the dashboard quits.
Examples:
  conntop demo                                    every scenario at once
  conntop demo --scenario leak --max-connections 50
  conntop demo --filter 'user:app !cmd:Sleep'";

/// The ids of the connection flags (from [`ConnectArgs`] itself).
fn connection_ids() -> Vec<String> {
    ConnectArgs::augment_args(clap::Command::new("connect"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect()
}

/// The global flags (ids) of `root` that do not apply to subcommand `name`.
fn not_applicable(name: &str, root: &clap::Command) -> Vec<String> {
    let Some(a) = APPLIES.iter().find(|a| a.name == name) else {
        return Vec::new();
    };
    let connection = connection_ids();
    // A flag of the subcommand's own (sandbox's --port) shadows the global one.
    let own: Vec<String> = root
        .find_subcommand(name)
        .map(|sub| {
            sub.get_arguments()
                .map(|a| a.get_id().to_string())
                .collect()
        })
        .unwrap_or_default();
    root.get_arguments()
        .filter(|arg| arg.is_global_set() && arg.get_id() != "help")
        .filter(|arg| !own.iter().any(|o| o == arg.get_id().as_str()))
        .map(|arg| arg.get_id().to_string())
        .filter(|id| {
            !a.globals || a.not.contains(&id.as_str()) || (!a.connection && connection.contains(id))
        })
        .collect()
}

/// A subcommand's own wording of a global flag's help, if it has one.
fn reworded(sub: &str, id: &str) -> Option<String> {
    let human = |d: Duration| humantime::format_duration(d).to_string();
    Some(match (sub, id) {
        ("kill", "idle_over") => {
            "Kill connections idle (Sleep) at least this long; or give --query-over".to_string()
        }
        ("kill", "query_over") => {
            "Stop statements running at least this long (KILL QUERY); or give --idle-over"
                .to_string()
        }
        ("check", "warn") => {
            "WARNING when connections reach this percent of max_connections [default: 80]"
                .to_string()
        }
        ("check", "crit") => {
            "CRITICAL when connections reach this percent of max_connections [default: 95]"
                .to_string()
        }
        ("demo", "idle_over") => format!(
            "A Sleep session idle this long counts as leaked; `I` uses it [default: {}]",
            human(DEMO_IDLE_OVER)
        ),
        ("demo", "query_over") => format!(
            "A statement running this long counts as long-running; `L` uses it [default: {}]",
            human(DEMO_QUERY_OVER)
        ),
        _ => return None,
    })
}

/// The command with each subcommand's help cut to the flags that apply to
/// it; parse with this, then [`check`] the matches.
///
/// A subcommand gets its own copy of each global flag that it hides or words
/// differently: clap then does not propagate the root's, and the value still
/// reaches the root's matches by its id.
pub fn command() -> clap::Command {
    let mut root = Cli::command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set() && a.get_id() != "help")
        .cloned()
        .collect();
    for a in &APPLIES {
        let hidden = not_applicable(a.name, &root);
        root = root.mut_subcommand(a.name, |mut sub| {
            for arg in &globals {
                let id = arg.get_id().as_str();
                if sub.get_arguments().any(|own| own.get_id() == id) {
                    continue;
                }
                if hidden.iter().any(|h| h == id) {
                    sub = sub.arg(arg.clone().hide(true));
                } else if let Some(help) = reworded(a.name, id) {
                    sub = sub.arg(arg.clone().help(help));
                }
            }
            sub
        });
    }
    root.mut_subcommand("kill", |sub| {
        sub.override_usage(KILL_USAGE).after_help(KILL_AFTER_HELP)
    })
    .mut_subcommand("demo", |sub| sub.after_help(DEMO_AFTER_HELP))
    .mut_subcommand("check", |sub| sub.after_help(CHECK_AFTER_HELP))
}

/// [`command`] for the generators (completions, manual pages): every flag
/// spelled out on each subcommand it applies to and nowhere else, and no
/// hidden flag or subcommand (the generators would offer them).
pub fn generated() -> clap::Command {
    let root = command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.is_hide_set())
        .map(|a| a.clone().global(false))
        .collect();
    let subs: Vec<clap::Command> = root
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| {
            let own: Vec<clap::Arg> = sub
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .map(|a| a.clone().global(false))
                .collect();
            let shadowed = |id: &str| sub.get_arguments().any(|a| a.get_id() == id);
            let mut fresh = texts_of(sub, clap::Command::new(sub.get_name().to_string()))
                .disable_help_flag(true)
                .args(own)
                .args(
                    globals
                        .iter()
                        .filter(|g| !shadowed(g.get_id().as_str()))
                        .cloned(),
                );
            if sub.get_name() == "kill" {
                fresh = fresh.override_usage(KILL_USAGE);
            }
            fresh
        })
        .collect();
    let mut fresh = texts_of(&root, clap::Command::new(root.get_name().to_string()))
        .disable_help_flag(true)
        .args(
            root.get_arguments()
                .filter(|a| !a.is_hide_set())
                .map(|a| a.clone().global(false)),
        )
        .subcommands(subs);
    if let Some(v) = root.get_version() {
        fresh = fresh.version(v.to_string());
    }
    fresh
}

/// `to` with the about and after-help texts of `from`.
fn texts_of(from: &clap::Command, mut to: clap::Command) -> clap::Command {
    if let Some(t) = from.get_about() {
        to = to.about(t.clone());
    }
    if let Some(t) = from.get_long_about() {
        to = to.long_about(t.clone());
    }
    if let Some(t) = from.get_after_help() {
        to = to.after_help(t.clone());
    }
    to
}

/// A usage error found after parsing: one line, and the command whose help
/// explains it (`conntop kill`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub line: String,
    pub command: String,
}

/// Refuses what the parser lets through: flags given to a subcommand they do
/// not apply to, root-only flags (`--once`, `--format`) with a subcommand,
/// `--filter` with `--once`, and `kill` without exactly one of
/// `--idle-over` / `--query-over`.
pub fn check(matches: &ArgMatches, cli: &Cli) -> Result<(), Usage> {
    let Some((name, sub)) = matches.subcommand() else {
        if cli.dashboard.once && cli.dashboard.filter.is_some() {
            return Err(Usage {
                line: "--filter is for the dashboard; --once prints every session".to_string(),
                command: "conntop".to_string(),
            });
        }
        return Ok(());
    };
    let usage = |line: String| Usage {
        line,
        command: format!("conntop {name}"),
    };
    // `ids` first: `value_source` panics on an unknown id in debug builds.
    let given = |m: &ArgMatches, id: &str| {
        m.ids().any(|i| i.as_str() == id) && m.value_source(id) == Some(ValueSource::CommandLine)
    };
    let root = Cli::command();
    for arg in root.get_arguments() {
        if !arg.is_global_set() && given(matches, arg.get_id().as_str()) {
            return Err(usage(format!(
                "{} does not apply to conntop {name}",
                flag(arg)
            )));
        }
    }
    for id in not_applicable(name, &root) {
        if !given(sub, &id) {
            continue;
        }
        let shown = root
            .get_arguments()
            .find(|a| a.get_id() == id.as_str())
            .map_or_else(|| id.clone(), flag);
        return Err(usage(match (name, id.as_str()) {
            ("demo", _) if connection_ids().contains(&id) => {
                format!("{shown} does not apply to conntop demo: it starts its own server")
            }
            _ => format!("{shown} does not apply to conntop {name}"),
        }));
    }
    if name == "kill" {
        match (cli.thresholds.idle_over, cli.thresholds.query_over) {
            (Some(_), None) | (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                return Err(usage(
                    "give one of --idle-over (kill idle connections) or --query-over \
                     (stop long statements), not both"
                        .to_string(),
                ));
            }
            (None, None) => {
                return Err(usage(
                    "say what to kill: --idle-over DURATION (idle connections) or \
                     --query-over DURATION (long statements)"
                        .to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// The command a usage error is about, `conntop` or `conntop kill`: the
/// arguments read as the parser reads them, up to the first that names a
/// subcommand (a flag's separate value is skipped, so `-u kill` is a user).
pub fn command_named(args: &[std::ffi::OsString]) -> String {
    let root = command();
    let takes_value = |arg: Option<&clap::Arg>| {
        arg.is_some_and(|a| {
            a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
    };
    let mut skip_next = false;
    for word in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let arg = root.get_arguments().find(|a| a.get_long() == Some(long));
            skip_next = !long.contains('=') && takes_value(arg);
        } else if let Some(shorts) = word.strip_prefix('-') {
            // `-u admin`: a value follows; `-uadmin`, `-vv`: none.
            let mut chars = shorts.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                skip_next = takes_value(root.get_arguments().find(|a| a.get_short() == Some(c)));
            }
        } else if root.find_subcommand(word).is_some() {
            return format!("conntop {word}");
        } else {
            break;
        }
    }
    "conntop".to_string()
}

/// How a flag is written: `-h/--host`, `--once`.
fn flag(arg: &clap::Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}/--{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, None) => arg.get_id().to_string(),
    }
}
