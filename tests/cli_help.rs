//! Help, shell completions and manual pages as a user reads them: each
//! subcommand's help lists the flags that apply to it and no others, and the
//! generated scripts and pages name the subcommands and their flags. No
//! server needed.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Run;

/// Longest any run may take.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn run(args: &[&str]) -> Run {
    common::run_conntop_within(RUN_LIMIT, args, &[])
}

/// Runs and asserts success with something on stdout and nothing on stderr.
#[track_caller]
fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    assert!(!out.stdout.is_empty(), "{args:?}: {out:?}");
    out.stdout
}

#[track_caller]
fn has_all(text: &str, what: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{what}: {n:?} missing:\n{text}");
    }
}

#[track_caller]
fn has_none(text: &str, what: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            !text.contains(n),
            "{what}: {n:?} should not be there:\n{text}"
        );
    }
}

/// The connection flags, as help shows them.
const CONNECTION: [&str; 12] = [
    "--host",
    "--port",
    "--user",
    "--password",
    "--socket",
    "--protocol",
    "--url",
    "--defaults-file",
    "--no-defaults",
    "--ssl-mode",
    "--ssl-ca",
    "--connect-timeout",
];

#[test]
fn question_mark_prints_help_as_mysql_does() {
    // -? is the short form (one line a flag), --help the long one.
    for sub in [None, Some("kill"), Some("demo")] {
        let args: Vec<&str> = sub.into_iter().chain(["-?"]).collect();
        let short = stdout_of(&args);
        let long_args: Vec<&str> = sub.into_iter().chain(["--help"]).collect();
        let long = stdout_of(&long_args);
        has_all(&short, "-?", &["-?, --help", "Usage: conntop"]);
        for line in long.lines().filter(|l| l.trim_start().starts_with("--")) {
            let flag = line.split_whitespace().next().unwrap_or_default();
            assert!(short.contains(flag), "{args:?}: {flag} missing:\n{short}");
        }
    }
}

#[test]
fn root_help_lists_the_dashboard_flags_and_the_subcommands() {
    let help = stdout_of(&["--help"]);
    has_all(&help, "conntop --help", &CONNECTION);
    has_all(
        &help,
        "conntop --help",
        &[
            "--filter <EXPR>",
            "--once",
            "--format",
            "--interval",
            "--idle-over",
            "--warn",
            "kill",
            "demo",
            "completions",
            "man",
        ],
    );
    has_none(
        &help,
        "conntop --help",
        &["sandbox", "--where", "--match-user"],
    );
}

#[test]
fn kill_help_lists_what_kill_uses() {
    let help = stdout_of(&["kill", "--help"]);
    has_all(&help, "kill --help", &CONNECTION);
    has_all(
        &help,
        "kill --help",
        &[
            "Usage: conntop kill (--idle-over <DURATION> | --query-over <DURATION>)",
            "exactly one of --idle-over",
            "--where <EXPR>",
            "--match-user",
            "--match-host",
            "--dry-run",
            "--audit-log",
            "--read-only",
            "--ignore-user",
            "--kill-method",
            "Examples:",
            "conntop kill --idle-over 10m --dry-run",
        ],
    );
    has_none(
        &help,
        "kill --help",
        &[
            "--warn",
            "--crit",
            "--no-color",
            "--interval",
            "--filter",
            "--once",
            "--format",
            "[default: 5m]",
        ],
    );
}

#[test]
fn demo_help_lists_what_the_demo_uses() {
    let help = stdout_of(&["demo", "--help"]);
    has_none(&help, "demo --help", &CONNECTION);
    has_none(
        &help,
        "demo --help",
        &[
            "--kill-method",
            "--once",
            "--format",
            "[default: 5m]",
            "[default: 60s]",
        ],
    );
    has_all(
        &help,
        "demo --help",
        &[
            "--scenario",
            "[possible values: leak, long, pool, spike, lock, all]",
            "--max-connections",
            "--idle-over",
            "[default: 30s]",
            "[default: 20s]",
            "--warn",
            "--read-only",
            "--interval",
            "--filter",
            "--no-color",
            "Examples:",
            "connect another client",
        ],
    );
}

#[test]
fn generator_help_lists_no_connection_flags() {
    for sub in ["completions", "man"] {
        let help = stdout_of(&[sub, "--help"]);
        has_none(&help, sub, &CONNECTION);
        has_none(&help, sub, &["--idle-over", "--audit-log", "--interval"]);
    }
}

#[test]
fn help_text_of_the_subcommands_fits_80_columns_where_it_is_ours() {
    // clap lays out the flag lists; the texts written here must fit.
    for args in [&["kill", "--help"][..], &["demo", "--help"]] {
        let help = stdout_of(args);
        let tail = help.split("Examples:").nth(1).unwrap_or_default();
        for line in tail.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
        }
    }
}

#[test]
fn completions_name_the_subcommands_and_their_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        has_all(
            &script,
            shell,
            &[
                "conntop",
                "kill",
                "demo",
                "completions",
                "man",
                "idle-over",
                "query-over",
                "where",
                "match-user",
                "filter",
                "host",
                "scenario",
            ],
        );
        has_none(&script, shell, &["sandbox"]);
    }
    for shell in ["elvish", "powershell"] {
        has_all(
            &stdout_of(&["completions", shell]),
            shell,
            &["kill", "demo"],
        );
    }
}

#[test]
fn bash_completion_offers_each_subcommand_its_own_flags() {
    let script = stdout_of(&["completions", "bash"]);
    // The word lists bash completes from, one per (sub)command.
    let opts = |marker: &str| -> String {
        let at = script
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} missing:\n{script}"));
        let rest = &script[at..];
        let line = rest
            .lines()
            .find(|l| l.trim_start().starts_with("opts="))
            .unwrap_or_default();
        line.to_string()
    };
    let demo = opts("conntop__subcmd__demo)");
    has_all(&demo, "demo", &["--scenario", "--idle-over", "--filter"]);
    has_none(
        &demo,
        "demo",
        &["--host", "--port ", "--kill-method", "--once"],
    );
    let kill = opts("conntop__subcmd__kill)");
    has_all(
        &kill,
        "kill",
        &["--where", "--host", "--idle-over", "--dry-run"],
    );
    has_none(
        &kill,
        "kill",
        &["--warn", "--no-color", "--filter", "--interval"],
    );
}

#[test]
fn bash_completion_is_valid_bash() {
    let script = stdout_of(&["completions", "bash"]);
    let mut child = Command::new("bash")
        .args(["-n", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    let out = child.wait_with_output().expect("bash ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_pages_name_the_subcommands_flags_and_the_filter_syntax() {
    let page = stdout_of(&["man"]);
    has_all(
        &page,
        "conntop(1)",
        &[
            ".TH conntop 1",
            ".SH NAME",
            ".SH SYNOPSIS",
            "kill",
            "demo",
            "completions",
            r"\-\-filter",
            r"\-\-host",
            r"\-\-idle\-over",
            "FILTER EXPRESSIONS",
            "user:PATTERN",
            r"time>30s",
        ],
    );
    has_none(&page, "conntop(1)", &["sandbox"]);
    let kill = stdout_of(&["man", "kill"]);
    has_all(
        &kill,
        "conntop-kill(1)",
        &[
            ".TH conntop-kill 1",
            r"\-\-where",
            r"\-\-match\-user",
            r"\-\-idle\-over",
            r"\-\-host",
            "FILTER EXPRESSIONS",
            "Examples:",
        ],
    );
    has_none(&kill, "conntop-kill(1)", &[r"\-\-warn", r"\-\-no\-color"]);
    let demo = stdout_of(&["man", "demo"]);
    has_all(
        &demo,
        "conntop-demo(1)",
        &[r"\-\-scenario", "[default: 30s]"],
    );
    has_none(&demo, "conntop-demo(1)", &[r"\-\-host", r"\-\-ssl\-mode"]);
    for page in ["completions", "man"] {
        has_all(&stdout_of(&["man", page]), page, &[".SH NAME"]);
    }
}

#[test]
fn generators_refuse_bad_arguments_with_exit_2() {
    for args in [
        &["completions"][..],
        &["completions", "tcsh"],
        &["man", "bogus"],
        &["completions", "bash", "-h", "db1"],
        &["man", "--read-only"],
    ] {
        let out = run(args);
        out.fails(2);
    }
}
