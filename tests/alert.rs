//! `--on-alert` commands: run once per crossing with the documented
//! environment (a script writes its environment to a file), against a real
//! server; a hanging command is killed with its process group after the
//! timeout; a failing one is logged in one line; nothing waits on them, the
//! dashboard's tee included.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conntop::alert::hook::{AlertConfig, AlertHook, AlertTee};
use conntop::alert::{AlertEvent, AlertKind, Runner, run_alert};
use conntop::command::Feed;
use conntop::link::Link;
use conntop::sandbox::{APP, ROOT};
use conntop::snapshot::{ServerInfo, Snapshot, Status, Variables};
use conntop::source::Source;
use conntop::thresholds::Thresholds;
use mysql::{Conn, Opts};

use common::{Scratch, private_sandbox, wait_until};

/// A script that writes its environment to `<dir>/env.<pid>`.
fn env_script(dir: &Scratch) -> String {
    let script = dir.file(
        "alert.sh",
        &format!("#!/bin/sh\nenv > '{}/env.'$$\n", dir.path("")),
    );
    format!("sh '{script}'")
}

/// The `env.*` files in `dir`, each parsed into a map.
fn runs(dir: &Scratch) -> Vec<HashMap<String, String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.path("")).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("env.") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        out.push(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }
    out
}

fn event(kind: AlertKind) -> AlertEvent {
    AlertEvent {
        kind,
        at: SystemTime::now(),
        server: "127.0.0.1:3306".to_string(),
        usage_pct: 91.5,
        connected: 183,
        max: 200,
        rejected: 0,
        message: "connections at 91.5%".to_string(),
        findings_json: "[]".to_string(),
    }
}

/// True once `pid` is gone (or a zombie waiting for its reaper).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn read_pid(path: &str) -> u32 {
    let mut pid = None;
    assert!(
        wait_until(Duration::from_secs(5), || {
            pid = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| t.trim().parse().ok());
            pid.is_some()
        }),
        "no pid in {path}"
    );
    pid.unwrap()
}

#[test]
fn on_alert_runs_once_per_crossing_with_the_documented_environment() {
    let sb = private_sandbox(20);
    let dir = Scratch::new("alert-env");
    let opts: Opts = sb.opts(ROOT).into();
    let endpoint = format!("127.0.0.1:{}", sb.port());
    let mut source = Source::connect(std::slice::from_ref(&opts), &endpoint).unwrap();
    let mut hook = AlertHook::new(
        AlertConfig {
            at: 0.5,
            commands: vec![env_script(&dir)],
            timeout: Duration::from_secs(5),
            // Short, so one test sees two crossings.
            every: Duration::from_millis(1),
        },
        Thresholds::default(),
    );
    let mut poll = |hook: &mut AlertHook| hook.on_snapshot(&source.poll().unwrap());

    // 1 of 20 (ours): below.
    assert!(poll(&mut hook).is_empty());
    // 9 held + ours = 10 of 20: 50%, crossed.
    let mut held: Vec<Conn> = (0..9).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let lines = poll(&mut hook);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("alert usage: connections at 50.0%"),
        "{lines:?}"
    );
    // Still over: the same crossing, no second run.
    assert!(poll(&mut hook).is_empty());
    assert!(poll(&mut hook).is_empty());
    assert!(wait_until(Duration::from_secs(5), || runs(&dir).len() == 1));
    std::thread::sleep(Duration::from_millis(300));
    let all = runs(&dir);
    assert_eq!(all.len(), 1, "{all:?}");
    let env = &all[0];
    assert_eq!(env["CONNTOP_ALERT"], "usage");
    assert_eq!(env["CONNTOP_SERVER"], endpoint);
    assert_eq!(env["CONNTOP_USAGE_PCT"], "50.0");
    assert_eq!(env["CONNTOP_CONNECTED"], "10");
    assert_eq!(env["CONNTOP_MAX"], "20");
    assert_eq!(env["CONNTOP_REJECTED"], "0");
    assert!(env["CONNTOP_MESSAGE"].contains("alert at 50.0%"), "{env:?}");
    let findings: serde_json::Value = serde_json::from_str(&env["CONNTOP_FINDINGS"]).unwrap();
    assert!(findings.is_array(), "{findings}");

    // Below, then over again: a second crossing, a second run.
    held.truncate(4);
    assert!(wait_until(Duration::from_secs(5), || {
        poll(&mut hook);
        source_connected(&sb) <= 6
    }));
    poll(&mut hook);
    held.extend((0..6).map(|_| Conn::new(sb.opts(APP)).unwrap()));
    let lines = poll(&mut hook);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(wait_until(Duration::from_secs(5), || runs(&dir).len() == 2));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(runs(&dir).len(), 2);
    assert!(hook.failures().is_empty());
}

/// Threads_connected of the private server, read on a fresh connection
/// (which counts itself, hence the caller's margin).
fn source_connected(sb: &conntop::sandbox::Sandbox) -> u64 {
    use mysql::prelude::Queryable;
    let mut c = Conn::new(sb.opts(ROOT)).unwrap();
    let row: Option<(String, u64)> = c
        .query_first("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
        .unwrap();
    row.map_or(0, |(_, n)| n)
}

#[test]
fn a_hanging_command_is_killed_with_its_process_group_after_the_timeout() {
    let dir = Scratch::new("alert-hang");
    let (leader, child) = (dir.path("leader"), dir.path("child"));
    // The shell and a background sleep of its own, both in the group.
    let cmd = format!("echo $$ > '{leader}'; sleep 60 & echo $! > '{child}'; wait");
    let started = Instant::now();
    let result = run_alert(&cmd, &event(AlertKind::Usage), Duration::from_millis(500));
    let took = started.elapsed();
    let why = result.unwrap_err();
    assert!(why.starts_with("timed out after 500ms"), "{why}");
    assert!(!why.contains('\n'), "{why}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let (leader, child) = (read_pid(&leader), read_pid(&child));
    assert!(
        wait_until(Duration::from_secs(3), || gone(leader) && gone(child)),
        "still running: {leader} {child}"
    );

    // Through a Runner: fire returns at once; the timeout is logged later.
    let (tx, rx) = crossbeam_channel::unbounded();
    let runner = Runner::new(
        vec!["sleep 60".to_string()],
        Duration::from_millis(300),
        Arc::new(move |line| {
            let _ = tx.send(line);
        }),
    );
    let t = Instant::now();
    runner.fire(&event(AlertKind::Refused));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(runner.running(), 1);
    let line = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        line.starts_with("alert command `sleep 60` (refused) timed out after 300ms"),
        "{line}"
    );
    assert!(wait_until(Duration::from_secs(2), || runner.running() == 0));
}

#[test]
fn a_failing_command_is_one_line_naming_its_exit_and_stderr() {
    let why = run_alert(
        "echo 'no route to pager' >&2; echo second >&2; exit 3",
        &event(AlertKind::Critical),
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert_eq!(why, "failed (exit status: 3): no route to pager");
    assert!(run_alert("true", &event(AlertKind::Critical), Duration::from_secs(5)).is_ok());
    let why = run_alert(
        "test \"$CONNTOP_ALERT\" = critical && test \"$CONNTOP_CONNECTED\" = 183 && exit 7",
        &event(AlertKind::Critical),
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert_eq!(why, "failed (exit status: 7)");
}

/// A snapshot of `connected` of 100.
fn snapshot(seq: u64, connected: u64) -> Arc<Snapshot> {
    Arc::new(Snapshot {
        seq,
        taken_at: SystemTime::now(),
        server: ServerInfo::from_version("10.11.6-MariaDB"),
        variables: Variables {
            max_connections: 100,
            ..Variables::default()
        },
        status: Status {
            threads_connected: connected,
            ..Status::default()
        },
        sessions: Vec::new(),
        own_id: 1,
        privileges: Default::default(),
        poll_latency: Duration::ZERO,
        statements: 2,
        endpoint: "fake:3306".to_string(),
    })
}

#[test]
fn the_dashboards_tee_never_waits_on_a_command() {
    let dir = Scratch::new("alert-tee");
    let pid_file = dir.path("pid");
    let (poller, end) = Link::pair();
    let hook = AlertHook::new(
        AlertConfig {
            at: 0.8,
            commands: vec![format!("echo $$ > '{pid_file}'; exec sleep 60")],
            timeout: Duration::from_millis(700),
            every: conntop::alert::ALERT_EVERY,
        },
        Thresholds::default(),
    );
    let (app, tee) = AlertTee::start(&poller, hook).unwrap();
    end.publish(Feed::Snapshot(snapshot(1, 90)));
    // The app gets the snapshot while the command hangs.
    match app.feed.recv_timeout(Duration::from_millis(500)) {
        Ok(Feed::Snapshot(s)) => assert_eq!(s.seq, 1),
        other => panic!("{other:?}"),
    }
    end.publish(Feed::Snapshot(snapshot(2, 91)));
    assert!(matches!(
        app.feed.recv_timeout(Duration::from_millis(500)),
        Ok(Feed::Snapshot(_))
    ));
    // Commands still reach the poller through the tee.
    app.commands
        .send(conntop::command::Command::Statement { id: 7 })
        .unwrap();
    assert!(matches!(
        end.commands.recv_timeout(Duration::from_millis(500)),
        Ok(conntop::command::Command::Statement { id: 7 })
    ));
    let pid = read_pid(&pid_file);
    assert!(
        wait_until(Duration::from_secs(5), || gone(pid)),
        "the hanging command outlived its timeout"
    );
    // Its runner reaps it, then logs.
    std::thread::sleep(Duration::from_millis(500));
    // Quitting: drop the app's link; the tee ends at once with its log.
    drop(app);
    let t = Instant::now();
    let lines = tee.stop();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("alert usage: connections at 90.0%")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("timed out after 700ms")),
        "{lines:?}"
    );
}

/// `conntop record --alert-at 10% --on-alert CMD`: the recorder runs the
/// command when usage crosses the threshold, and logs the alert on stderr.
#[test]
fn the_recorder_runs_alerts() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let sb = private_sandbox(20);
    let dir = Scratch::new("alert-record");
    let _held: Vec<Conn> = (0..4).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let mut child = Command::new(common::conntop_bin())
        .args(["record", "-h", "127.0.0.1", "-P", &sb.port().to_string()])
        .args(["-u", "root", "--no-defaults", "-i", "200ms"])
        .args(["--dir", &dir.path("rec"), "--alert-at", "10%"])
        .args(["--on-alert", &env_script(&dir)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ran = wait_until(Duration::from_secs(10), || !runs(&dir).is_empty());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(ran, "no alert command ran; stderr:\n{err}");
    assert!(status.success(), "{status:?}\n{err}");
    let env = &runs(&dir)[0];
    assert_eq!(env["CONNTOP_ALERT"], "usage");
    assert_eq!(env["CONNTOP_MAX"], "20");
    assert!(err.contains("alert usage"), "{err}");
}
