//! The binary as a user meets it when something is wrong: one clear line on
//! stderr, nothing on stdout, exit code 2 for usage errors and 1 for the rest.
//! The binary runs with stdin null and no terminal. Only the tests that say
//! so need the shared server.

mod common;

use std::time::Duration;

use common::Run;

/// Longest any run may take.
const RUN_LIMIT: Duration = Duration::from_secs(20);

/// Runs the binary with stdin null and without the `MYSQL_*` environment;
/// ended by its own PID after [`RUN_LIMIT`].
fn run(args: &[&str]) -> Run {
    common::run_conntop_within(RUN_LIMIT, args, &[])
}

#[test]
fn unknown_flag() {
    let line = run(&["--bogus"]).fails(2).to_string();
    assert!(line.contains("--bogus"), "{line}");
}

/// A huge or hostile bad value makes one short, inert line.
#[test]
fn huge_bad_values_are_cut_and_inert() {
    let huge = format!("\u{1b}[2J{}", "9".repeat(100_000));
    let line = run(&["-i", &huge]).fails(2).to_string();
    assert!(line.chars().count() < 300, "{} chars", line.chars().count());
    assert!(!line.contains('\u{1b}'), "{line}");
}

#[test]
fn bad_durations() {
    let line = run(&["-i", "soon"]).fails(2).to_string();
    assert!(line.contains("soon"), "{line}");
    let line = run(&["kill", "--idle-over", "5parsecs"])
        .fails(2)
        .to_string();
    assert!(line.contains("5parsecs"), "{line}");
    let line = run(&["--once", "--connect-timeout", "x"])
        .fails(2)
        .to_string();
    assert!(line.contains("connect-timeout"), "{line}");
}

#[test]
fn interval_below_the_minimum() {
    let line = run(&["-i", "50ms"]).fails(2).to_string();
    assert!(line.contains("100ms"), "{line}");
}

#[test]
fn format_needs_once() {
    let line = run(&["--format", "json"]).fails(2).to_string();
    assert!(line.contains("--once"), "{line}");
}

#[test]
fn separate_password_value_is_refused_without_echoing_it() {
    for secret in ["SECRET", "hunter2"] {
        let out = run(&["-h", "127.0.0.1", "-p", secret, "--once"]);
        let line = out.fails(2).to_string();
        assert!(!out.stderr.contains(secret), "{secret} echoed: {line}");
        assert!(line.contains("-p"), "{line}");
    }
}

#[test]
fn refused_port_fails_within_the_connect_timeout() {
    let out = run(&["--no-defaults", "-h", "127.0.0.1", "-P", "1", "--once"]);
    let line = out.fails(1).to_string();
    assert!(line.contains("127.0.0.1:1"), "{line}");
    assert!(out.took < Duration::from_secs(6), "took {:?}", out.took);
}

#[test]
fn unknown_host_fails_fast() {
    let out = run(&["--no-defaults", "-h", "no-such-host.invalid", "--once"]);
    let line = out.fails(1).to_string();
    assert!(line.contains("no-such-host.invalid"), "{line}");
    assert!(out.took < Duration::from_secs(6), "took {:?}", out.took);
}

#[test]
fn unreadable_defaults_file_is_named() {
    let line = run(&["--defaults-file", "/nonexistent/my.cnf", "--once"])
        .fails(1)
        .to_string();
    assert!(line.contains("/nonexistent/my.cnf"), "{line}");
}

#[test]
fn kill_without_a_threshold_says_what_to_give() {
    for args in [
        &["--no-defaults", "-h", "127.0.0.1", "-P", "1", "kill"][..],
        &["kill", "--dry-run"],
    ] {
        let line = run(args).fails(2).to_string();
        assert!(line.contains("--idle-over"), "{line}");
        assert!(line.contains("--query-over"), "{line}");
        assert!(line.ends_with("(see conntop kill --help)"), "{line}");
    }
}

/// Every misuse of every subcommand is a usage error: exit 2, one line that
/// names the help to read, before any connection is tried.
#[test]
fn usage_errors_exit_2_in_every_subcommand() {
    for (args, want, help) in [
        (
            &["kill", "--idle-over", "1m", "--query-over", "1m"][..],
            "not both",
            "conntop kill",
        ),
        (
            &["kill", "--idle-over", "1m", "--warn", "50"],
            "--warn",
            "conntop kill",
        ),
        (
            &["--no-color", "kill", "--idle-over", "1m"],
            "--no-color",
            "conntop kill",
        ),
        (
            &["--once", "kill", "--idle-over", "1m"],
            "--once",
            "conntop kill",
        ),
        (
            &["kill", "--idle-over", "1m", "--bogus"],
            "--bogus",
            "conntop kill",
        ),
        (
            &["kill", "--idle-over", "1m", "--where", "usr:x"],
            "unknown field",
            "conntop kill",
        ),
        (
            &["kill", "--idle-over", "1m", "--where", "time>"],
            "time",
            "conntop kill",
        ),
        (
            &["demo", "-h", "db1"],
            "starts its own server",
            "conntop demo",
        ),
        (&["-u", "admin", "demo"], "-u/--user", "conntop demo"),
        (
            &["demo", "--kill-method", "rds"],
            "--kill-method",
            "conntop demo",
        ),
        (
            &["demo", "--max-connections", "5"],
            "10..=100000",
            "conntop demo",
        ),
        (&["demo", "--scenario", "chaos"], "chaos", "conntop demo"),
        (&["demo", "--once"], "--once", "conntop demo"),
        (&["completions"], "SHELL", "conntop completions"),
        (&["completions", "tcsh"], "tcsh", "conntop completions"),
        (&["man", "bogus"], "bogus", "conntop man"),
        (&["--filter", "!"], "! needs a term", "conntop"),
        (&["--once", "--filter", "user:app"], "--once", "conntop"),
    ] {
        let out = run(args);
        let line = out.fails(2).to_string();
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(
            line.ends_with(&format!("(see {help} --help)")),
            "{args:?}: {line}"
        );
        assert!(
            out.took < Duration::from_secs(5),
            "{args:?}: {:?}",
            out.took
        );
    }
}

#[test]
fn no_local_server_suggests_naming_one() {
    for args in [
        &[
            "--no-defaults",
            "-S",
            "/nonexistent/conntop-test/mysqld.sock",
            "--once",
        ][..],
        &["--no-defaults", "-h", "127.0.0.1", "-P", "1", "--once"],
        &["--no-defaults", "-P", "1", "kill", "--idle-over", "1m"],
    ] {
        let line = run(args).fails(1).to_string();
        for flag in ["-h HOST", "-P PORT", "-S "] {
            assert!(line.contains(flag), "{args:?}: {flag} missing: {line}");
        }
    }
    // A named remote server gets no such advice.
    let line = run(&["--no-defaults", "-h", "no-such-host.invalid", "--once"])
        .fails(1)
        .to_string();
    assert!(!line.contains("-h HOST"), "{line}");
}

#[test]
fn help_lists_the_modes() {
    let out = run(&["--help"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    for flag in [
        "--idle-over",
        "--once",
        "--query-over",
        "--format",
        "--filter",
    ] {
        assert!(out.stdout.contains(flag), "{flag} missing:\n{}", out.stdout);
    }
}

/// Needs the shared server.
#[test]
fn wrong_password_is_access_denied_without_the_password() {
    let port = common::server().port.to_string();
    let wrong = "Wr0ngPassw0rd-x7";
    let password = format!("-p{wrong}");
    let out = run(&[
        "--no-defaults",
        "-h",
        "127.0.0.1",
        "-P",
        &port,
        "-u",
        "app",
        &password,
        "--once",
    ]);
    let line = out.fails(1).to_string();
    assert!(line.to_lowercase().contains("access denied"), "{line}");
    assert!(!out.stderr.contains(wrong), "password echoed: {line}");
}

/// Needs the shared server: the dashboard connects before it looks for a terminal.
#[test]
fn dashboard_without_a_terminal() {
    let port = common::server().port.to_string();
    let out = run(&[
        "--no-defaults",
        "-h",
        "127.0.0.1",
        "-P",
        &port,
        "-u",
        "conntop",
        "-pconntop",
        "--read-only",
    ]);
    let line = out.fails(1).to_string();
    assert!(line.contains("terminal"), "{line}");
    assert!(line.contains("--once"), "{line}");
}

#[test]
fn durations_have_an_upper_bound() {
    for (args, want) in [
        (
            &["-i", "500000000000y"][..],
            "'500000000000y' for '--interval <DURATION>': must be at most 1h",
        ),
        (
            &["-i", "2h"],
            "'2h' for '--interval <DURATION>': must be at most 1h",
        ),
        (
            &["kill", "--idle-over", "500000000000y"],
            "must be at most 30days",
        ),
        (
            &["--query-over", "31days", "--once"],
            "'31days' for '--query-over <DURATION>': must be at most 30days",
        ),
        (
            &["--once", "--connect-timeout", "500000000000y"],
            "must be at most 1h",
        ),
    ] {
        let line = run(args).fails(2).to_string();
        assert!(line.contains(want), "{args:?}: {line}");
    }
}

#[test]
fn option_files_that_never_end_fail_fast() {
    let dir = common::Scratch::new("cli-errors-fifo");
    let fifo = dir.path("my.cnf");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let include_zero = dir.file("zero.cnf", "[client]\n!include /dev/zero\n");
    for file in [fifo.as_str(), "/dev/zero", include_zero.as_str()] {
        let out = run(&["--defaults-file", file, "--once"]);
        let line = out.fails(1).to_string();
        assert!(line.ends_with("not a regular file"), "{file}: {line}");
        assert!(out.took < Duration::from_secs(5), "{file}: {:?}", out.took);
    }
}

#[test]
fn huge_option_values_give_a_short_line() {
    let dir = common::Scratch::new("cli-errors-huge");
    // Just under the 1 MiB limit of an option file.
    let huge = "h".repeat(1_000_000);
    let host = dir.file("host.cnf", &format!("[client]\nhost={huge}\n"));
    let port = dir.file("port.cnf", &format!("[client]\nport={huge}\n"));
    for file in [host, port] {
        let line = run(&["--defaults-file", &file, "--once"])
            .fails(1)
            .to_string();
        assert!(line.chars().count() < 200, "{} chars", line.len());
        assert!(line.contains('…'), "{line}");
    }
}

#[test]
fn pasted_url_passwords_never_show() {
    // Unencoded `/`, `#` and `@` in the password: the user part ends at the last `@`.
    for url in [
        "mysql://admin:S3cr/et@127.0.0.1:1",
        "mysql://admin:S3cr#et@127.0.0.1:1/db",
        "mysql://admin:S3cr@et@127.0.0.1:1",
    ] {
        let out = run(&["--no-defaults", "--url", url, "--once"]);
        let line = out.fails(1).to_string();
        assert!(
            line.starts_with("127.0.0.1:1: cannot connect"),
            "{url}: {line}"
        );
        assert!(!out.stderr.contains("S3cr"), "{url}: {line}");
    }
    // Malformed: whatever is wrong, no part of the user information shows.
    for url in [
        "mysql://admin:S3cret",
        "mysql://admin:S3cr/et",
        "mysql://S3cret:x@h:port",
        "mysql://admin:S3cret@h?ssl=1",
        "admin:S3cret@h",
    ] {
        let out = run(&["--no-defaults", "--url", url, "--once"]);
        let line = out.fails(1).to_string();
        assert!(line.starts_with("bad URL"), "{url}: {line}");
        assert!(!out.stderr.contains("S3cr"), "{url}: {line}");
    }
}

/// A file under /proc that blocks on read (the kernel log) fails at once
/// instead of hanging the start (as root it opens; as a user it is denied).
#[test]
fn an_option_file_that_blocks_on_read_fails_at_once() {
    let run = run(&["--defaults-file", "/proc/kmsg", "--once"]);
    let line = run.fails(1).to_string();
    assert!(line.contains("/proc/kmsg"), "{line}");
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
}
