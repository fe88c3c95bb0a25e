//! `conntop check` as a monitoring system runs it: exit codes against the
//! thresholds, UNKNOWN when it cannot know (a closed port, bad flags), one
//! line on stdout with parseable performance data, and numbers that are the
//! server's (the session-scope status reads what the global one does).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use conntop::sandbox::{APP, ROOT, Sandbox};
use conntop::source::Source;
use mysql::prelude::Queryable;
use mysql::{Conn, Opts};

use common::{Run, private_sandbox, run_conntop, server};

/// `check` as root on 127.0.0.1:`port` with `rest`.
fn check(port: u16, rest: &[&str]) -> Run {
    let port = port.to_string();
    let mut args = vec![
        "--no-defaults",
        "-h",
        "127.0.0.1",
        "-P",
        &port,
        "-u",
        "root",
        "check",
    ];
    args.extend_from_slice(rest);
    run_conntop(&args, &[])
}

/// Asserts the plugin contract: exit `code`, one line on stdout starting
/// with `CONNTOP <STATE> - `, nothing on stderr; returns the line.
#[track_caller]
fn plugin_line(out: &Run, code: i32) -> &str {
    assert_eq!(out.code, Some(code), "{out:?}");
    assert!(out.stderr.is_empty(), "stderr: {out:?}");
    assert!(out.stdout.ends_with('\n'), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "want one line: {out:?}");
    let state = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code as usize];
    assert!(
        lines[0].starts_with(&format!("CONNTOP {state} - ")),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains('\x1b'), "{}", lines[0]);
    lines[0]
}

/// One perfdata item: value, unit, warn, crit, min, max.
#[derive(Debug, Clone, PartialEq)]
struct Perf {
    value: f64,
    unit: String,
    warn: Option<f64>,
    crit: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

/// Parses the performance data after ` | ` strictly, as a monitoring system
/// does: `label=value[UOM];[warn];[crit];[min];[max]`, space-separated.
#[track_caller]
fn perfdata(line: &str) -> HashMap<String, Perf> {
    let (text, perf) = line.split_once(" | ").expect("perfdata after ' | '");
    assert!(!text.contains('|'), "a second | in the text: {line}");
    let mut out = HashMap::new();
    for item in perf.split(' ') {
        let (label, rest) = item.split_once('=').unwrap_or_else(|| panic!("{item}"));
        assert!(
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "label {label:?}"
        );
        let fields: Vec<&str> = rest.split(';').collect();
        assert!(fields.len() <= 5, "{item}");
        let num_end = fields[0]
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(fields[0].len());
        let (value, unit) = fields[0].split_at(num_end);
        assert!(
            ["", "%", "c", "s"].contains(&unit),
            "unit {unit:?} in {item}"
        );
        let opt = |i: usize| {
            fields.get(i).filter(|f| !f.is_empty()).map(|f| {
                f.parse::<f64>()
                    .unwrap_or_else(|_| panic!("field {i} of {item} is not a number"))
            })
        };
        let perf = Perf {
            value: value
                .parse()
                .unwrap_or_else(|_| panic!("value of {item} is not a number")),
            unit: unit.to_string(),
            warn: opt(1),
            crit: opt(2),
            min: opt(3),
            max: opt(4),
        };
        assert!(
            out.insert(label.to_string(), perf).is_none(),
            "{label} twice"
        );
    }
    out
}

/// A private server with `max` slots and `n` idle `app` sessions held.
fn held(max: u32, n: usize) -> (Sandbox, Vec<Conn>) {
    let sb = private_sandbox(max);
    let conns = (0..n).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    (sb, conns)
}

#[test]
fn exit_codes_follow_usage_against_the_thresholds() {
    // 4 held + the check's own connection: 5 of 20, 25%.
    let (sb, _held) = held(20, 4);
    let port = sb.port();

    let ok = check(port, &["--warn", "50", "--crit", "90"]);
    let line = plugin_line(&ok, 0);
    assert!(line.contains(" - 5/20 connections (25%)"), "{line}");
    let p = perfdata(line);
    assert_eq!(p["connected"].value, 5.0);
    assert_eq!(p["connected"].warn, Some(10.0));
    assert_eq!(p["connected"].crit, Some(18.0));
    assert_eq!(p["connected"].max, Some(20.0));
    assert_eq!(p["usage"].value, 25.0);
    assert_eq!(p["usage"].unit, "%");
    assert_eq!((p["usage"].warn, p["usage"].crit), (Some(50.0), Some(90.0)));
    assert_eq!(p["max"].value, 20.0);

    // Usage over --warn: WARNING (the headroom finding agrees).
    let warn = check(port, &["--warn", "20", "--crit", "90"]);
    let line = plugin_line(&warn, 1);
    assert!(line.contains("; warning headroom: "), "{line}");

    // Usage at --crit: CRITICAL.
    let crit = check(port, &["--warn", "10", "--crit", "25"]);
    let line = plugin_line(&crit, 2);
    assert!(line.contains("; critical headroom: "), "{line}");
}

#[test]
fn a_closed_port_is_unknown_and_names_the_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = check(port, &[]);
    let line = plugin_line(&out, 3);
    assert!(
        line.starts_with(&format!("CONNTOP UNKNOWN - 127.0.0.1:{port}: ")),
        "{line}"
    );
    assert!(line.to_lowercase().contains("refused"), "{line}");
    assert!(!line.contains(" | "), "no perfdata without data: {line}");
}

#[test]
fn usage_errors_are_unknown_for_check_only() {
    for bad in [
        &["check", "--sample", "soon"][..],
        &["check", "--sample", "2h"],
        &["check", "--warn", "120"],
        &[
            "check",
            "--warn",
            "90",
            "--crit",
            "80",
            "-P",
            "1",
            "-h",
            "127.0.0.1",
        ],
        &["check", "--bogus"],
        &["--bogus", "check"],
        &["check", "-p", "secret"],
    ] {
        let out = run_conntop(bad, &[]);
        let line = plugin_line(&out, 3);
        assert!(
            line.ends_with("(see conntop check --help)"),
            "{bad:?}: {line}"
        );
        assert!(!line.contains("secret"), "{line}");
    }
    // Elsewhere a usage error stays exit 2 on stderr.
    let out = run_conntop(&["--sample", "1s"], &[]);
    out.fails(2);
}

#[test]
fn one_line_with_parseable_perfdata_and_rates() {
    let srv = server();
    let out = check(srv.port, &["--sample", "200ms"]);
    let code = out.code.expect("an exit code");
    assert!((0..=2).contains(&code), "{out:?}");
    let line = plugin_line(&out, code);
    let p = perfdata(line);
    for label in [
        "connected",
        "max",
        "usage",
        "rejected",
        "max_used",
        "running",
        "connections_rate",
        "rejected_rate",
        "aborted_rate",
    ] {
        assert!(p.contains_key(label), "{label} missing: {line}");
    }
    assert_eq!(p["rejected"].unit, "c");
    assert!(p["connected"].value >= 1.0);
    assert_eq!(p["connected"].max, Some(p["max"].value));
    // The check's own connection, plus the second sample's rate of new ones.
    assert!(p["connections_rate"].value >= 0.0);
    assert!(p["max_used"].value >= p["connected"].value - 1.0, "{line}");
    // Without --sample there are no rates.
    let once = check(srv.port, &[]);
    let line = plugin_line(&once, once.code.unwrap_or(3));
    assert!(!perfdata(line).contains_key("connections_rate"), "{line}");
}

#[test]
fn the_status_read_each_tick_is_the_servers_global_status() {
    let sb = private_sandbox(30);
    // A failed login raises Aborted_connects.
    let mut bad = sb.opts(APP);
    bad = bad.pass(Some("wrong"));
    assert!(Conn::new(bad).is_err());
    let _idle: Vec<Conn> = (0..3).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let mut measure = Conn::new(sb.opts(ROOT)).unwrap();
    let opts: Opts = sb.opts(ROOT).into();
    let mut source = Source::connect(std::slice::from_ref(&opts), "private").unwrap();
    // Poll twice: the second tick reads no variables, the usual case.
    source.poll().unwrap();
    let snap = source.poll().unwrap();
    assert!(snap.statements <= 2, "{}", snap.statements);
    let global: HashMap<String, u64> = measure
        .query::<(String, String), _>(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Threads_running', \
             'Max_used_connections', 'Connections', 'Aborted_connects', 'Aborted_clients', \
             'Connection_errors_max_connections', 'Uptime')",
        )
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect();
    let st = &snap.status;
    assert_eq!(
        st.threads_connected, global["Threads_connected"],
        "{st:?} {global:?}"
    );
    // Ours running the processlist then, the measuring connection now; the
    // event scheduler in both. A thread of the server's start may still be
    // finishing: the two agree once it has.
    let mut last = None;
    let agree = common::wait_until(Duration::from_secs(5), || {
        let ours = source.poll().unwrap().status.threads_running;
        let theirs: Option<(String, u64)> = measure
            .query_first("SHOW GLOBAL STATUS LIKE 'Threads_running'")
            .unwrap();
        let theirs = theirs.map_or(0, |(_, n)| n);
        last = Some((ours, theirs));
        ours == theirs
    });
    assert!(agree, "Threads_running (ours, global): {last:?}");
    assert_eq!(st.max_used_connections, global["Max_used_connections"]);
    assert_eq!(st.connections, global["Connections"]);
    assert!(st.aborted_connects >= 1, "{st:?}");
    assert_eq!(st.aborted_connects, global["Aborted_connects"]);
    assert_eq!(st.aborted_clients, global["Aborted_clients"]);
    assert_eq!(
        st.connection_errors_max_connections,
        global["Connection_errors_max_connections"]
    );
    assert!(
        global["Uptime"].abs_diff(st.uptime_s) <= 1,
        "{st:?} {global:?}"
    );
    // The binary's figures are the same numbers.
    let out = check(sb.port(), &["--warn", "99", "--crit", "100"]);
    let line = plugin_line(&out, out.code.unwrap_or(3));
    let p = perfdata(line);
    assert_eq!(p["max"].value, 30.0);
    // 3 idle, the measuring connection, the source's and the check's own.
    assert_eq!(p["connected"].value, 6.0, "{line}");
    assert!(p["running"].value >= 1.0, "{line}");
    drop(source);
    std::thread::sleep(Duration::from_millis(10));
}
