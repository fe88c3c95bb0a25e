//! Everything that needs a real server, in one test binary: snapshots read by
//! `Source`, the poller thread, connection options end to end, kill workflows
//! and the diagnosis of `--once`.
//!
//! Tests on the shared server (`CONNTOP_TEST_PORT`) each look only at the
//! sessions of their own user ([`common::test_user`]). Tests that restart a
//! server, fill it or kill without a user filter start a private sandbox.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use conntop::command::Feed;
use conntop::snapshot::Snapshot;
use conntop::source::Source;
use crossbeam_channel::Receiver;
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use serde_json::Value as Json;

use common::{Run, Scratch, mysql_code, private_sandbox, run_conntop, server, wait_until};

/// [`run_conntop`] without extra environment.
fn run<S: AsRef<OsStr>>(args: &[S]) -> Run {
    run_conntop(args, &[])
}

/// `--no-defaults -h 127.0.0.1 -P <port> -u root` followed by `rest`.
fn as_root(port: u16, rest: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--no-defaults", "-h", "127.0.0.1", "-P", &port.to_string()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["-u".to_string(), "root".to_string()]);
    args.extend(rest.iter().map(|s| s.to_string()));
    args
}

/// `--once --format json` as root on the server at `port`, with `extra` flags.
fn once_json(port: u16, extra: &[&str]) -> Json {
    let mut rest = vec!["--once", "--format", "json"];
    rest.extend_from_slice(extra);
    run(&as_root(port, &rest)).json()
}

/// Asserts a clean exit whose summary, the last line of stdout, starts
/// with `prefix`.
#[track_caller]
fn assert_summary(out: &Run, prefix: &str) {
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.lines().last().unwrap().starts_with(prefix),
        "{}",
        out.stdout
    );
}

/// The sessions of `user` in a `--once` JSON report.
fn report_sessions<'a>(report: &'a Json, user: &str) -> Vec<&'a Json> {
    report["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["user"] == user)
        .collect()
}

/// The findings of `kind` in a `--once` JSON report.
fn findings_of<'a>(report: &'a Json, kind: &str) -> Vec<&'a Json> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// A session as the server lists it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: u64,
    user: String,
    command: String,
    time_s: i64,
    info: Option<String>,
}

/// Every session on the server behind `conn` (its own included).
fn processlist(conn: &mut Conn) -> Vec<Row> {
    conn.query_map(
        "SELECT ID, USER, COMMAND, TIME, INFO FROM information_schema.PROCESSLIST",
        |(id, user, command, time_s, info)| Row {
            id,
            user,
            command,
            time_s,
            info,
        },
    )
    .unwrap()
}

/// The sessions of `user` on the shared server.
fn rows_of(user: &str) -> Vec<Row> {
    processlist(&mut common::root_conn())
        .into_iter()
        .filter(|r| r.user == user)
        .collect()
}

fn conn_id(conn: &Conn) -> u64 {
    u64::from(conn.connection_id())
}

/// A `Source` on the shared server as `user`.
fn source_as(user: &str, pass: &str) -> Source {
    Source::connect(&[Opts::from(server().opts(user, pass))], "shared").unwrap()
}

/// Waits (bounded) for the next snapshot on a poller feed, skipping `Down`.
fn next_snapshot(feed: &Receiver<Feed>, within: Duration) -> Arc<Snapshot> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match feed.recv_timeout(left) {
            Ok(Feed::Snapshot(s)) => return s,
            Ok(Feed::Down(_)) => {}
            Err(e) => panic!("no snapshot within {within:?}: {e}"),
        }
    }
}

/// Ends `f` on another thread and waits at most `within` for it.
fn finishes_within(within: Duration, f: impl FnOnce() + Send + 'static) -> bool {
    let (tx, rx) = crossbeam_channel::bounded(1);
    thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(within).is_ok()
}

/// The JSON lines of an audit log.
fn audit_lines(path: &str) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad audit line ({e}): {l}")))
        .collect()
}

/// How a busy session's statement ended.
#[derive(Debug)]
struct BusyEnd {
    /// `SELECT SLEEP(n)`: 0 when it ran out, 1 or an error when interrupted.
    result: Result<Option<i64>, mysql::Error>,
    took: Duration,
    /// `SELECT 1` on the same connection afterwards.
    after: Result<Option<i64>, mysql::Error>,
    /// The connection, kept open.
    conn: Conn,
}

/// A session running `SELECT SLEEP(n)` on its own thread. Dropping it stops
/// the statement (KILL QUERY as root) and waits, bounded, for the thread.
struct Busy {
    id: u64,
    root: OptsBuilder,
    thread: Option<JoinHandle<BusyEnd>>,
}

impl Busy {
    /// Starts `SELECT SLEEP(secs)` on `conn`; `root` can KILL QUERY it.
    fn start(mut conn: Conn, secs: u32, root: OptsBuilder) -> Busy {
        let id = conn_id(&conn);
        let thread = thread::spawn(move || {
            let started = Instant::now();
            let result = conn.query_first::<i64, _>(format!("SELECT SLEEP({secs})"));
            let took = started.elapsed();
            let after = conn.query_first::<i64, _>("SELECT 1");
            BusyEnd {
                result,
                took,
                after,
                conn,
            }
        });
        Busy {
            id,
            root,
            thread: Some(thread),
        }
    }

    /// Waits (bounded) for the statement to end by itself or by a kill.
    fn join(&mut self, within: Duration) -> BusyEnd {
        let handle = self.thread.take().unwrap();
        assert!(
            wait_until(within, || handle.is_finished()),
            "busy session {} still running after {within:?}",
            self.id
        );
        handle.join().unwrap()
    }

    /// Stops the statement with KILL QUERY and waits for the thread.
    fn stop(mut self) -> BusyEnd {
        self.kill_query();
        self.join(Duration::from_secs(10))
    }

    fn kill_query(&self) {
        if let Ok(mut root) = Conn::new(self.root.clone()) {
            let _ = root.query_drop(format!("KILL QUERY {}", self.id));
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(handle) = self.thread.take() {
            self.kill_query();
            if wait_until(Duration::from_secs(10), || handle.is_finished()) {
                let _ = handle.join();
            }
        }
    }
}

/// A busy session of `user` on the shared server, waited for until it shows
/// as running (`Query`).
fn busy_on_shared(user: &common::TestUser, secs: u32) -> Busy {
    let busy = Busy::start(user.connect(), secs, server().opts("root", ""));
    assert!(
        wait_until(Duration::from_secs(5), || rows_of(&user.user)
            .iter()
            .any(|r| r.id == busy.id && r.command == "Query")),
        "session {} never showed as running",
        busy.id
    );
    busy
}

/// Waits (bounded) until every session of `user` shows at least `secs` in its command.
fn wait_all_older(user: &str, n: usize, secs: i64) {
    assert!(
        wait_until(Duration::from_secs(secs as u64 + 5), || {
            let rows = rows_of(user);
            rows.len() == n && rows.iter().all(|r| r.time_s >= secs)
        }),
        "the {n} sessions of {user} did not reach {secs}s: {:?}",
        rows_of(user)
    );
}

/// A table of our own in appdb, dropped again on drop.
struct Table(String);

impl Table {
    fn new() -> Table {
        let name = format!("appdb.{}", common::unique("trx"));
        let mut root = common::root_conn();
        root.query_drop(format!(
            "CREATE TABLE {name} (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB"
        ))
        .unwrap();
        root.query_drop(format!("INSERT INTO {name} VALUES (1, 0), (2, 0)"))
            .unwrap();
        Table(name)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        if let Ok(mut root) = Conn::new(server().opts("root", "")) {
            let _ = root.query_drop(format!("DROP TABLE IF EXISTS {}", self.0));
        }
    }
}

/// Issue "one-connection poller, snapshots": what one poll reads.
mod snapshots {
    use super::*;

    #[test]
    fn status_sessions_and_variables_are_read_right() {
        let user = common::test_user("status", &[]);
        let _idle = user.open_idle(7);
        let mut root = common::root_conn();
        let (max, wait, interactive): (u64, u64, u64) = root
            .query_first(
                "SELECT @@GLOBAL.max_connections, @@GLOBAL.wait_timeout, \
                 @@GLOBAL.interactive_timeout",
            )
            .unwrap()
            .unwrap();

        let mut source = source_as("conntop", "conntop");
        let snap = source.poll().unwrap();

        let mine: Vec<_> = snap
            .sessions
            .iter()
            .filter(|s| s.user == user.user)
            .collect();
        assert_eq!(mine.len(), 7, "{mine:?}");
        for s in &mine {
            assert_eq!(s.command, "Sleep", "{s:?}");
            assert!(s.time_ms < 60_000, "idle time not sane: {s:?}");
            assert_eq!(s.client_host(), "127.0.0.1", "{s:?}");
            assert_eq!(s.info, None, "{s:?}");
        }
        assert!(snap.status.threads_connected >= 8, "{:?}", snap.status);
        assert!(snap.status.threads_running >= 1, "{:?}", snap.status);
        assert!(snap.status.connections >= 8, "{:?}", snap.status);
        assert!(
            snap.status.max_used_connections >= snap.status.threads_connected.min(8),
            "{:?}",
            snap.status
        );
        assert_eq!(snap.variables.max_connections, max);
        assert_eq!(snap.variables.wait_timeout, wait);
        assert_eq!(snap.variables.interactive_timeout, interactive);
        assert!(snap.variables.statement_timeout_ms.is_some());
        assert!(snap.variables.thread_stack > 0, "{:?}", snap.variables);
        assert!(
            snap.variables.max_allowed_packet > 0,
            "{:?}",
            snap.variables
        );
        assert_eq!(snap.server.flavor, conntop::snapshot::Flavor::MariaDb);
        assert!(snap.server.version.contains("MariaDB"), "{:?}", snap.server);
        assert!(snap.statements <= 2, "statements: {}", snap.statements);
        assert!(snap.privileges.process && snap.privileges.kill_any);
        assert!(snap.poll_latency < Duration::from_secs(5));
        assert_eq!(snap.endpoint, "shared");

        // The next poll goes on from the first and stays within two statements.
        let next = source.poll().unwrap();
        assert_eq!(next.seq, snap.seq + 1);
        assert!(next.statements <= 2, "statements: {}", next.statements);
        assert_eq!(next.variables.max_connections, max);
    }

    #[test]
    fn own_connection_is_reported_and_left_out() {
        let mut source = source_as("conntop", "conntop");
        let own = source.own_id();
        assert!(own > 0);
        let snap = source.poll().unwrap();
        assert_eq!(snap.own_id, own);
        assert!(
            snap.sessions.iter().all(|s| s.id != own),
            "own id {own} among the sessions"
        );
        // The raw list has it: our account, running the processlist statement.
        let all = source.read_sessions().unwrap();
        let me = all
            .iter()
            .find(|s| s.id == own)
            .expect("own session listed");
        assert_eq!(me.user, "conntop");
        assert_eq!(me.command, "Query");
        // And it is the id the server gives this connection.
        let listed: Vec<u64> = processlist(&mut common::root_conn())
            .iter()
            .filter(|r| r.user == "conntop")
            .map(|r| r.id)
            .collect();
        assert!(listed.contains(&own), "{own} not in {listed:?}");
    }

    #[test]
    fn open_transaction_shows_its_age() {
        let table = Table::new();
        let user = common::test_user("trx", &["ALL PRIVILEGES ON appdb.*"]);
        let mut in_trx = user.connect();
        let plain = user.connect();
        in_trx.query_drop("START TRANSACTION").unwrap();
        in_trx
            .query_drop(format!("UPDATE {} SET n = n + 1 WHERE id = 1", table.0))
            .unwrap();
        let (trx_id, plain_id) = (conn_id(&in_trx), conn_id(&plain));

        let mut source = source_as("root", "");
        // MariaDB refreshes INNODB_TRX only after 100 ms without readers:
        // poll slower than that, or the table never shows new transactions.
        let deadline = Instant::now() + Duration::from_secs(8);
        let (snap, aged) = loop {
            let snap = source.poll().unwrap();
            let aged = snap
                .sessions
                .iter()
                .any(|s| s.id == trx_id && s.trx_age_ms.is_some_and(|ms| ms >= 1000));
            if aged || Instant::now() >= deadline {
                break (snap, aged);
            }
            thread::sleep(Duration::from_millis(250));
        };
        let s = snap.sessions.iter().find(|s| s.id == trx_id).unwrap();
        assert!(aged, "no transaction age on {s:?}");
        assert_eq!(s.command, "Sleep", "idle in transaction: {s:?}");
        let p = snap.sessions.iter().find(|s| s.id == plain_id).unwrap();
        assert_eq!(p.trx_age_ms, None, "{p:?}");
        in_trx.query_drop("ROLLBACK").unwrap();
    }

    #[test]
    fn an_account_without_privileges_sees_only_itself_and_cannot_kill_others() {
        let other = common::test_user("victim", &[]);
        let victim = other.connect();
        let victim_id = conn_id(&victim);
        let weak = common::test_user("np", &[]);
        let _second = weak.connect();

        let mut source = source_as(&weak.user, &weak.pass);
        assert!(!source.privileges().process);
        assert!(!source.privileges().kill_any);
        assert_eq!(
            source.privileges().kill_only_user.as_deref(),
            Some(weak.user.as_str())
        );
        assert_eq!(
            source_as("conntop", "conntop").privileges().kill_only_user,
            None
        );
        let snap = source.poll().unwrap();
        assert!(!snap.privileges.process && !snap.privileges.kill_any);
        assert!(
            snap.sessions.iter().all(|s| s.user == weak.user),
            "{:?}",
            snap.sessions
        );
        assert_eq!(snap.sessions.len(), 1, "{:?}", snap.sessions);
        assert!(source.poll().unwrap().statements <= 2);

        let e = source
            .kill(
                victim_id,
                conntop::command::KillMode::Connection,
                conntop::command::KillMethod::Sql,
            )
            .unwrap_err();
        assert_eq!(e.code(), Some(1095), "{e:?}");
        let msg = conntop::kill::executor::kill_error_message(&e);
        assert!(msg.contains("SUPER"), "{msg}");
        assert!(msg.contains("CONNECTION_ADMIN"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert_eq!(other.sessions(), 1, "the victim must survive");
    }

    #[test]
    fn once_json_has_the_documented_fields() {
        let user = common::test_user("json", &["SELECT ON appdb.*"]);
        let _idle = user.open_idle(2);
        let _in_db =
            Conn::new(server().opts(&user.user, &user.pass).db_name(Some("appdb"))).unwrap();
        let port = server().port;
        let report = once_json(port, &[]);

        let srv = &report["server"];
        assert!(
            srv["version"].as_str().unwrap().contains("MariaDB"),
            "{srv}"
        );
        assert_eq!(srv["flavor"], "mariadb");
        assert!(srv["uptime_s"].is_u64(), "{srv}");
        assert_eq!(srv["endpoint"], format!("127.0.0.1:{port}"));
        let c = &report["connections"];
        for field in [
            "threads_connected",
            "threads_running",
            "max_connections",
            "max_used_connections",
            "connections_total",
            "aborted_connects",
            "aborted_clients",
            "rejected",
        ] {
            assert!(c[field].is_u64(), "connections.{field} missing: {c}");
        }
        assert!(c["threads_connected"].as_u64().unwrap() >= 4, "{c}");
        let max: u64 = common::root_conn()
            .query_first("SELECT @@GLOBAL.max_connections")
            .unwrap()
            .unwrap();
        assert_eq!(c["max_connections"], max);

        let own = report["own_id"].as_u64().expect("own_id");
        let sessions = report["sessions"].as_array().unwrap();
        assert!(sessions.iter().all(|s| s["id"] != own), "own id listed");
        for s in sessions {
            for field in [
                "id", "user", "host", "db", "command", "time_ms", "state", "info",
            ] {
                assert!(s.get(field).is_some(), "sessions[].{field} missing: {s}");
            }
        }
        let mine = report_sessions(&report, &user.user);
        assert_eq!(mine.len(), 3, "{mine:?}");
        assert!(mine.iter().all(|s| s["command"] == "Sleep"));
        assert!(
            mine.iter()
                .all(|s| s["id"].is_u64() && s["time_ms"].is_u64())
        );
        assert!(mine.iter().all(|s| s["info"].is_null()));
        assert_eq!(mine.iter().filter(|s| s["db"] == "appdb").count(), 1);
        assert_eq!(mine.iter().filter(|s| s["db"].is_null()).count(), 2);
        assert!(report["findings"].is_array());
    }

    #[test]
    fn once_table_lists_the_sessions() {
        let user = common::test_user("tb", &[]);
        let idle = user.open_idle(3);
        let out = run(&as_root(server().port, &["--once", "--format", "table"]));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        let lines: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.contains(&user.user))
            .collect();
        assert_eq!(lines.len(), 3, "{}", out.stdout);
        for conn in &idle {
            let id = conn_id(conn).to_string();
            assert!(
                lines
                    .iter()
                    .any(|l| l.split_whitespace().next() == Some(id.as_str())),
                "session {id} not listed: {lines:?}"
            );
        }
        assert!(lines.iter().all(|l| l.contains("Sleep")), "{lines:?}");
        assert!(out.stdout.contains("connections "), "{}", out.stdout);
    }
}

/// The poller thread: cadence, latest-wins feed, kills, stop, reconnect.
mod poller_thread {
    use super::*;

    use conntop::audit::AuditLog;
    use conntop::command::{Command as PollerCommand, Expect, KillMethod, KillMode, KillTarget};
    use conntop::command::{KillTally, Reply};
    use conntop::kill::Safety;
    use conntop::poller::{self, PollerConfig};
    use conntop::sandbox::MONITOR;
    use conntop::snapshot::Session;
    use crossbeam_channel::TryRecvError;

    fn monitor() -> Opts {
        Opts::from(server().opts("conntop", "conntop"))
    }

    /// A poller config writing its audit log in `dir`.
    fn config(attempts: Vec<Opts>, safety: Safety, dir: &Scratch) -> PollerConfig {
        PollerConfig {
            interval: Duration::from_millis(200),
            attempts,
            endpoint: "test".to_string(),
            kill_method: KillMethod::Sql,
            safety,
            audit: Some(AuditLog::open(Path::new(&dir.path("audit.jsonl"))).unwrap()),
        }
    }

    /// The replies of request `request` up to and including its `KillDone`.
    fn replies_until_done(replies: &Receiver<Reply>, request: u64) -> Vec<Reply> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = replies
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no KillDone ({e}); got {got:?}"));
            let done = matches!(reply, Reply::KillDone { request: r, .. } if r == request);
            got.push(reply);
            if done {
                return got;
            }
        }
    }

    fn session_exists(id: u64) -> bool {
        processlist(&mut common::root_conn())
            .iter()
            .any(|r| r.id == id)
    }

    #[test]
    fn snapshots_flow_latest_wins_kills_run_and_stop_ends_the_thread() {
        let user = common::test_user("poll", &[]);
        let idle = user.open_idle(1);
        let target_id = conn_id(&idle[0]);
        let source = Source::connect(&[monitor()], "test").unwrap();
        let own = source.own_id();
        let dir = Scratch::new("poll");
        let handle = poller::spawn(
            config(vec![monitor()], Safety::default(), &dir),
            Some(source),
            None,
        );

        let mut last = 0;
        for _ in 0..3 {
            let snap = next_snapshot(&handle.feed, Duration::from_secs(5));
            assert!(snap.seq > last, "seq {} after {last}", snap.seq);
            assert_eq!(snap.own_id, own);
            last = snap.seq;
        }

        // The UI does not read for 2 s: the feed never holds more than one message.
        let quiet = Instant::now();
        while quiet.elapsed() < Duration::from_secs(2) {
            assert!(handle.feed.len() <= 1, "feed holds {}", handle.feed.len());
            thread::sleep(Duration::from_millis(50));
        }
        let fresh = next_snapshot(&handle.feed, Duration::from_secs(5));
        assert!(
            fresh.seq >= last + 5,
            "stale snapshot after 2 s at 200ms: seq {} after {last}",
            fresh.seq
        );

        let session = fresh
            .sessions
            .iter()
            .find(|s| s.id == target_id)
            .cloned()
            .expect("the idle session is in the snapshot");
        handle
            .commands
            .send(PollerCommand::Kill {
                request: 7,
                mode: KillMode::Connection,
                targets: vec![KillTarget {
                    session,
                    expect: Expect::IdleAtLeast {
                        min: Duration::ZERO,
                    },
                }],
                why: "test".to_string(),
                seen_at: std::time::SystemTime::now(),
            })
            .unwrap();
        let replies = replies_until_done(&handle.replies, 7);
        assert!(
            matches!(
                replies.first(),
                Some(Reply::KillProgress {
                    request: 7,
                    total: 1,
                    ..
                })
            ),
            "{replies:?}"
        );
        match replies.last() {
            Some(Reply::KillDone {
                mode,
                tally,
                first_error,
                ..
            }) => {
                assert_eq!(*mode, KillMode::Connection);
                assert_eq!(
                    *tally,
                    KillTally {
                        killed: 1,
                        would_kill: 0,
                        skipped: 0,
                        failed: 0
                    }
                );
                assert_eq!(*first_error, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            wait_until(Duration::from_secs(5), || user.sessions() == 0),
            "the killed session is still there"
        );
        // Polling goes on after the kill (the feed may still hold the
        // snapshot taken just before it).
        assert!(
            wait_until(Duration::from_secs(5), || next_snapshot(
                &handle.feed,
                Duration::from_secs(5)
            )
            .sessions
            .iter()
            .all(|s| s.id != target_id)),
            "no snapshot without the killed session"
        );

        let feed = handle.feed.clone();
        assert!(
            finishes_within(Duration::from_secs(10), move || handle.stop()),
            "stop() did not return"
        );
        assert!(
            wait_until(Duration::from_secs(2), || matches!(
                feed.try_recv(),
                Err(TryRecvError::Disconnected)
            )),
            "the poller thread is still publishing"
        );
        assert!(
            wait_until(Duration::from_secs(5), || !session_exists(own)),
            "the poller's connection {own} is still open"
        );
    }

    #[test]
    fn the_poller_never_kills_its_own_connection_and_drop_ends_it() {
        let mut source = Source::connect(&[monitor()], "test").unwrap();
        let own = source.own_id();
        let me = source
            .read_sessions()
            .unwrap()
            .into_iter()
            .find(|s| s.id == own)
            .unwrap();
        // No own_id given: the poller knows its connection itself.
        let dir = Scratch::new("own");
        let handle = poller::spawn(
            config(vec![monitor()], Safety::default(), &dir),
            Some(source),
            None,
        );
        next_snapshot(&handle.feed, Duration::from_secs(5));
        handle
            .commands
            .send(PollerCommand::Kill {
                request: 1,
                mode: KillMode::Connection,
                targets: vec![KillTarget {
                    session: me,
                    expect: Expect::Same,
                }],
                why: "test".to_string(),
                seen_at: std::time::SystemTime::now(),
            })
            .unwrap();
        let replies = replies_until_done(&handle.replies, 1);
        match replies.last() {
            Some(Reply::KillDone { tally, .. }) => {
                assert_eq!((tally.killed, tally.skipped), (0, 1), "{replies:?}")
            }
            other => panic!("{other:?}"),
        }
        let snap = next_snapshot(&handle.feed, Duration::from_secs(5));
        assert_eq!(snap.own_id, own, "the poller had to reconnect");
        assert!(session_exists(own));

        let feed = handle.feed.clone();
        assert!(finishes_within(Duration::from_secs(10), move || drop(
            handle
        )));
        assert!(wait_until(Duration::from_secs(2), || matches!(
            feed.try_recv(),
            Err(TryRecvError::Disconnected)
        )));
        assert!(wait_until(Duration::from_secs(5), || !session_exists(own)));
    }

    /// `x` on a session showing FIRST; before `y` it runs SECOND: SECOND
    /// must run to its end, and the audit log must name SECOND.
    #[test]
    fn x_stops_only_the_statement_that_was_confirmed() {
        const FIRST: &str = "SELECT SLEEP(30) /* FIRST harmless report */";
        const SECOND: &str = "SELECT SLEEP(4) /* SECOND critical statement */";
        let user = common::test_user("race", &[]);
        let mut conn = user.connect();
        let id = conn_id(&conn);
        let worker = thread::spawn(move || {
            let first = conn.query_first::<i64, _>(FIRST);
            let started = Instant::now();
            let second = conn.query_first::<i64, _>(SECOND);
            (first, second, started.elapsed())
        });
        let dir = Scratch::new("race");
        let audit = dir.path("audit.jsonl");
        let source = Source::connect(&[monitor()], "test").unwrap();
        let handle = poller::spawn(
            config(vec![monitor()], Safety::default(), &dir),
            Some(source),
            None,
        );

        // What the confirmation dialog showed: the session running FIRST.
        let deadline = Instant::now() + Duration::from_secs(10);
        let confirmed = loop {
            let snap = next_snapshot(&handle.feed, Duration::from_secs(5));
            let row = snap.sessions.iter().find(|s| s.id == id);
            if let Some(s) = row.filter(|s| s.info.as_deref() == Some(FIRST)) {
                break s.clone();
            }
            assert!(Instant::now() < deadline, "FIRST never showed: {row:?}");
        };
        // FIRST ends; the session goes on with SECOND before `y` is pressed.
        common::root_conn()
            .query_drop(format!("KILL QUERY {id}"))
            .unwrap();
        assert!(
            wait_until(Duration::from_secs(5), || rows_of(&user.user)
                .iter()
                .any(|r| r.id == id && r.info.as_deref() == Some(SECOND))),
            "SECOND never ran: {:?}",
            rows_of(&user.user)
        );

        handle
            .commands
            .send(PollerCommand::Kill {
                request: 3,
                mode: KillMode::Query,
                targets: vec![KillTarget {
                    session: confirmed,
                    expect: Expect::Same,
                }],
                why: "test".to_string(),
                seen_at: std::time::SystemTime::now(),
            })
            .unwrap();
        let replies = replies_until_done(&handle.replies, 3);
        match replies.last() {
            Some(Reply::KillDone { tally, .. }) => {
                assert_eq!((tally.killed, tally.skipped), (0, 1), "{replies:?}")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            wait_until(Duration::from_secs(10), || worker.is_finished()),
            "the session never finished SECOND"
        );
        let (first, second, took) = worker.join().unwrap();
        let first_stopped = match &first {
            Ok(Some(1)) => true,
            Err(e) => mysql_code(e) == Some(1317),
            Ok(_) => false,
        };
        assert!(
            first_stopped,
            "FIRST was not stopped by the test: {first:?}"
        );
        assert_eq!(second.unwrap(), Some(0), "SECOND was interrupted");
        assert!(took >= Duration::from_millis(3500), "SECOND took {took:?}");

        let lines = audit_lines(&audit);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["id"], id);
        assert_eq!(lines[0]["result"], "skipped");
        assert_eq!(lines[0]["detail"], "changed since you confirmed");
        assert_eq!(
            lines[0]["info"], SECOND,
            "the audit must name the row as re-read"
        );
        drop(handle);
    }

    /// A poller on the shared server as the monitor account, its audit log in `dir`.
    fn poller_on_shared(dir: &Scratch) -> poller::PollerHandle {
        let source = Source::connect(&[monitor()], "test").unwrap();
        poller::spawn(
            config(vec![monitor()], Safety::default(), dir),
            Some(source),
            None,
        )
    }

    /// The row of session `id` in the first snapshot where `pred` holds, and
    /// when that snapshot was taken: what a dialog showed and confirmed.
    fn confirmed_row(
        handle: &poller::PollerHandle,
        id: u64,
        pred: impl Fn(&Session) -> bool,
    ) -> (Session, std::time::SystemTime) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let snap = next_snapshot(&handle.feed, Duration::from_secs(5));
            let row = snap.sessions.iter().find(|s| s.id == id);
            if let Some(s) = row.filter(|s| pred(s)) {
                return (s.clone(), snap.taken_at);
            }
            assert!(Instant::now() < deadline, "never showed as wanted: {row:?}");
        }
    }

    /// Sends a kill of `target` as confirmed at `seen_at`; its final tally.
    fn kill_confirmed(
        handle: &poller::PollerHandle,
        request: u64,
        mode: KillMode,
        target: KillTarget,
        seen_at: std::time::SystemTime,
    ) -> KillTally {
        handle
            .commands
            .send(PollerCommand::Kill {
                request,
                mode,
                targets: vec![target],
                why: "test".to_string(),
                seen_at,
            })
            .unwrap();
        let replies = replies_until_done(&handle.replies, request);
        match replies.last() {
            Some(Reply::KillDone { tally, .. }) => *tally,
            other => panic!("{other:?}"),
        }
    }

    /// `x` on a session that runs `SELECT SLEEP(1.5)` again and again: by
    /// `y`, the run shown has ended and a later run (same text) is going.
    /// That one was never confirmed: it must run to its end.
    #[test]
    fn x_on_a_loop_of_short_statements_skips_the_run_started_after_the_dialog_opened() {
        const LOOP: &str = "SELECT SLEEP(1.5) /* loop */";
        let user = common::test_user("xloop", &[]);
        let mut conn = user.connect();
        let id = conn_id(&conn);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut interrupted = 0;
                let mut runs = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && runs < 12 {
                    match conn.query_first::<i64, _>(LOOP) {
                        Ok(Some(0)) => {}
                        _ => interrupted += 1,
                    }
                    runs += 1;
                }
                interrupted
            })
        };
        let dir = Scratch::new("xloop");
        let handle = poller_on_shared(&dir);
        let (shown, seen_at) = confirmed_row(&handle, id, |s| s.info.as_deref() == Some(LOOP));
        // The run shown is at most 1.5 s long: over by now.
        thread::sleep(Duration::from_secs(2));
        let target = KillTarget {
            session: shown,
            expect: Expect::Same,
        };
        let tally = kill_confirmed(&handle, 1, KillMode::Query, target, seen_at);
        assert_eq!((tally.killed, tally.skipped), (0, 1), "{tally:?}");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(wait_until(Duration::from_secs(10), || worker.is_finished()));
        assert_eq!(worker.join().unwrap(), 0, "a run was stopped");
        let lines = audit_lines(&dir.path("audit.jsonl"));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["detail"], "changed since you confirmed");
    }

    /// `x` on a long statement 1 s after the dialog opened: stopped (times to
    /// the millisecond leave it no doubt), and its whole text, longer than
    /// the processlist lists, is in the audit log.
    #[test]
    fn x_stops_a_long_statement_and_logs_its_whole_text() {
        let text = format!("SELECT SLEEP(20) /* {} */", "long ".repeat(60));
        let user = common::test_user("xlong", &[]);
        let conn = user.connect();
        let id = conn_id(&conn);
        let sql = text.clone();
        let worker = thread::spawn(move || {
            let mut conn = conn;
            let started = Instant::now();
            let result = conn.query_first::<i64, _>(sql);
            (result, started.elapsed())
        });
        let dir = Scratch::new("xlong");
        let handle = poller_on_shared(&dir);
        let (shown, seen_at) = confirmed_row(&handle, id, |s| s.command == "Query");
        assert!(
            shown
                .info
                .as_deref()
                .is_some_and(|i| text.starts_with(i) && i.len() < text.len())
        );
        thread::sleep(Duration::from_secs(1));
        let target = KillTarget {
            session: shown,
            expect: Expect::Same,
        };
        let tally = kill_confirmed(&handle, 1, KillMode::Query, target, seen_at);
        assert_eq!((tally.killed, tally.skipped), (1, 0), "{tally:?}");
        assert!(wait_until(Duration::from_secs(10), || worker.is_finished()));
        let (result, took) = worker.join().unwrap();
        assert!(
            took < Duration::from_secs(10),
            "not stopped: {result:?} after {took:?}"
        );
        let lines = audit_lines(&dir.path("audit.jsonl"));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["result"], "attempt");
        assert_eq!(lines[0]["statement"], text.as_str());
        assert_eq!(lines[0]["info_cut"], true);
        assert_eq!(lines[1]["result"], "killed");
    }

    /// `k` on a session shown as Sleep 0 s; before `y` it runs `BEGIN;
    /// INSERT` and goes idle again. It is still `Sleep`, but not the idle
    /// spell confirmed: skipped, and its transaction lives on.
    #[test]
    fn k_on_an_idle_session_that_opened_a_transaction_since_is_skipped() {
        let table = Table::new();
        let user = common::test_user("kbegin", &["ALL PRIVILEGES ON appdb.*"]);
        let mut conn = user.connect();
        let id = conn_id(&conn);
        let dir = Scratch::new("kbegin");
        let handle = poller_on_shared(&dir);
        conn.query_drop("DO 0").unwrap();
        let (shown, seen_at) =
            confirmed_row(&handle, id, |s| s.command == "Sleep" && s.time_ms == 0);
        thread::sleep(Duration::from_millis(800));
        conn.query_drop("BEGIN").unwrap();
        conn.query_drop(format!("INSERT INTO {} VALUES (3, 0)", table.0))
            .unwrap();
        let target = KillTarget {
            session: shown,
            expect: Expect::Same,
        };
        let tally = kill_confirmed(&handle, 1, KillMode::Connection, target, seen_at);
        assert_eq!((tally.killed, tally.skipped), (0, 1), "{tally:?}");
        conn.query_drop("COMMIT").expect("the session was killed");
        let n: Option<u64> = common::root_conn()
            .query_first(format!("SELECT COUNT(*) FROM {} WHERE id = 3", table.0))
            .unwrap();
        assert_eq!(n, Some(1), "the row was rolled back");
    }

    /// `I`'s preview: a session idle past the threshold; before `y` it ran
    /// `BEGIN; INSERT` and idled past the threshold again. Not the idle
    /// spell previewed: skipped, the row kept.
    #[test]
    fn an_idle_kill_skips_a_session_that_ran_a_transaction_since_the_preview() {
        let table = Table::new();
        let user = common::test_user("ibegin", &["ALL PRIVILEGES ON appdb.*"]);
        let mut conn = user.connect();
        let id = conn_id(&conn);
        let dir = Scratch::new("ibegin");
        let handle = poller_on_shared(&dir);
        let (shown, seen_at) =
            confirmed_row(&handle, id, |s| s.command == "Sleep" && s.time_ms >= 1000);
        conn.query_drop("BEGIN").unwrap();
        conn.query_drop(format!("INSERT INTO {} VALUES (4, 0)", table.0))
            .unwrap();
        thread::sleep(Duration::from_millis(1500));
        let target = KillTarget {
            session: shown,
            expect: Expect::IdleAtLeast {
                min: Duration::from_secs(1),
            },
        };
        let tally = kill_confirmed(&handle, 1, KillMode::Connection, target, seen_at);
        assert_eq!((tally.killed, tally.skipped), (0, 1), "{tally:?}");
        conn.query_drop("COMMIT").expect("the session was killed");
        let lines = audit_lines(&dir.path("audit.jsonl"));
        assert_eq!(lines[0]["detail"], "changed since preview", "{lines:?}");
    }

    /// `L`'s preview: statement A past the threshold; before `y`, A ended
    /// and B (never shown) ran past the threshold. B must run to its end.
    #[test]
    fn a_long_running_kill_skips_a_statement_never_shown() {
        const A: &str = "SELECT SLEEP(1.6) /* A */";
        const B: &str = "SELECT SLEEP(5) /* B */";
        let user = common::test_user("lnew", &[]);
        let mut conn = user.connect();
        let id = conn_id(&conn);
        let worker = thread::spawn(move || {
            let a = conn.query_first::<i64, _>(A);
            let b = conn.query_first::<i64, _>(B);
            (a, b)
        });
        let dir = Scratch::new("lnew");
        let handle = poller_on_shared(&dir);
        let (shown, seen_at) = confirmed_row(&handle, id, |s| {
            s.info.as_deref() == Some(A) && s.time_ms >= 1000
        });
        assert!(
            wait_until(Duration::from_secs(5), || rows_of(&user.user)
                .iter()
                .any(|r| r.info.as_deref() == Some(B) && r.time_s >= 2)),
            "B never ran 2 s"
        );
        let target = KillTarget {
            session: shown,
            expect: Expect::RunningAtLeast {
                min: Duration::from_secs(1),
            },
        };
        let tally = kill_confirmed(&handle, 1, KillMode::Query, target, seen_at);
        assert_eq!((tally.killed, tally.skipped), (0, 1), "{tally:?}");
        assert!(wait_until(Duration::from_secs(10), || worker.is_finished()));
        let (_, b) = worker.join().unwrap();
        assert_eq!(b.unwrap(), Some(0), "B was stopped");
    }

    #[test]
    fn reconnects_after_the_server_restarts() {
        let sb = private_sandbox(50);
        let opts: Opts = sb.opts(MONITOR).into();
        // Start without a connection: the poller connects by itself.
        let dir = Scratch::new("reconnect");
        let handle = poller::spawn(
            config(vec![opts], Safety::default(), &dir),
            None,
            Some("not connected yet".to_string()),
        );
        let before = next_snapshot(&handle.feed, Duration::from_secs(10));
        assert!(before.privileges.process);

        let restart = thread::spawn(move || {
            let mut sb = sb;
            let result = sb.restart();
            (sb, result)
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut down_error = None;
        let mut back = None;
        while Instant::now() < deadline && back.is_none() {
            match handle.feed.recv_timeout(Duration::from_millis(200)) {
                Ok(Feed::Down(down)) => down_error = Some(down.last_error),
                Ok(Feed::Snapshot(s)) if down_error.is_some() => back = Some(s),
                Ok(Feed::Snapshot(_)) | Err(_) => {}
            }
        }
        assert!(
            wait_until(Duration::from_secs(30), || restart.is_finished()),
            "restart did not finish"
        );
        let (mut sb, result) = restart.join().unwrap();
        result.unwrap();
        let down_error = down_error.expect("no Feed::Down while the server restarted");
        assert!(!down_error.is_empty());
        let back = back.expect("no snapshot after the restart within 30 s");
        assert_ne!(back.own_id, 0);
        assert_eq!(back.variables.max_connections, 50);

        // A preview of the old server's sessions, confirmed after the
        // restart: its ids may name the new server's connections now.
        // Nothing is killed.
        let mut fresh: Vec<Conn> = (0..3)
            .map(|_| Conn::new(sb.opts(MONITOR)).unwrap())
            .collect();
        // The old sessions, and the ids the new connections got as the
        // old preview would have listed them.
        let targets: Vec<KillTarget> = before
            .sessions
            .iter()
            .cloned()
            .chain(fresh.iter().map(|c| conntop::snapshot::Session {
                id: conn_id(c),
                user: MONITOR.user.to_string(),
                command: "Sleep".to_string(),
                ..conntop::snapshot::Session::default()
            }))
            .map(|session| KillTarget {
                session,
                expect: Expect::IdleAtLeast {
                    min: Duration::ZERO,
                },
            })
            .collect();
        let total = targets.len();
        handle
            .commands
            .send(PollerCommand::Kill {
                request: 9,
                mode: KillMode::Connection,
                targets,
                why: "test".to_string(),
                seen_at: before.taken_at,
            })
            .unwrap();
        let replies = replies_until_done(&handle.replies, 9);
        match replies.last() {
            Some(Reply::KillDone {
                tally, first_error, ..
            }) => {
                assert_eq!((tally.killed, tally.failed), (0, total), "{replies:?}");
                let why = first_error.clone().unwrap_or_default();
                assert!(why.contains("reconnected since the preview"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        for c in &mut fresh {
            c.query_drop("DO 1").expect("a new connection was killed");
        }
        drop(fresh);

        assert!(finishes_within(Duration::from_secs(10), move || drop(
            handle
        )));
        sb.stop().unwrap();
    }
}

/// Connection flags end to end, as a DBA types them.
mod connect_options {
    use super::*;

    /// Two idle sessions of a fresh user, who (without PROCESS) sees only them.
    fn user_with_sessions(name: &str) -> (common::TestUser, Vec<Conn>) {
        let user = common::test_user(name, &[]);
        let idle = user.open_idle(2);
        (user, idle)
    }

    fn assert_logged_in_as(report: &Json, user: &str) {
        let sessions = report["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        assert!(sessions.iter().all(|s| s["user"] == user), "{sessions:?}");
    }

    #[test]
    fn url() {
        let (user, _idle) = user_with_sessions("url");
        let port = server().port;
        let out = run(&[
            "--no-defaults",
            "--url",
            &user.url(),
            "--once",
            "--format",
            "json",
        ]);
        let report = out.json();
        assert_logged_in_as(&report, &user.user);
        assert_eq!(report["server"]["endpoint"], format!("127.0.0.1:{port}"));
    }

    #[test]
    fn mysql_pwd_environment() {
        let (user, _idle) = user_with_sessions("pwd");
        let port = server().port.to_string();
        let args = [
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            &user.user,
            "--once",
            "--format",
            "json",
        ];
        let report = run_conntop(&args, &[("MYSQL_PWD", &user.pass)]).json();
        assert_logged_in_as(&report, &user.user);
        // Without it the same command is refused.
        let out = run(&args);
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(
            out.error_line().to_lowercase().contains("access denied"),
            "{out:?}"
        );
    }

    #[test]
    fn defaults_file_client_section() {
        let (user, _idle) = user_with_sessions("cnf");
        let dir = Scratch::new("cnf");
        let file = dir.path("my.cnf");
        std::fs::write(
            &file,
            format!(
                "[mysqld]\nport = 1\n\n[client]\nhost = 127.0.0.1\nport = {}\nuser = {}\n\
                 password = \"{}\"\n",
                server().port,
                user.user,
                user.pass
            ),
        )
        .unwrap();
        let report = run(&["--defaults-file", &file, "--once", "--format", "json"]).json();
        assert_logged_in_as(&report, &user.user);
    }

    #[test]
    fn socket_with_host_localhost() {
        let (user, _idle) = user_with_sessions("sock");
        let socket = server()
            .socket
            .expect("CONNTOP_TEST_SOCKET names the shared server's socket");
        let socket = socket.to_str().unwrap();
        let password = format!("-p{}", user.pass);
        let report = run(&[
            "--no-defaults",
            "-S",
            socket,
            "-h",
            "localhost",
            "-u",
            &user.user,
            &password,
            "--once",
            "--format",
            "json",
        ])
        .json();
        assert_logged_in_as(&report, &user.user);
        assert_eq!(report["server"]["endpoint"], socket);
    }
}

/// Issue "Kill workflows": `conntop kill` and the library's re-check.
mod kills {
    use super::*;

    use conntop::audit::AuditLog;
    use conntop::command::{KillMethod, KillMode, KillOutcome};
    use conntop::kill::executor::{self, Batch};
    use conntop::kill::{self, Pattern, Safety, Selection, SkipReason};

    /// `kill <rest>` on the shared server as `killer`, with the audit log in `audit`.
    fn kill_as(killer: &common::TestUser, audit: &str, rest: &[&str]) -> Run {
        let port = server().port.to_string();
        let password = format!("-p{}", killer.pass);
        let mut args = vec![
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            &killer.user,
            &password,
            "kill",
            "--audit-log",
            audit,
        ];
        args.extend_from_slice(rest);
        run(&args)
    }

    fn killer() -> common::TestUser {
        common::test_user("killer", &["PROCESS ON *.*", "CONNECTION ADMIN ON *.*"])
    }

    #[test]
    fn leak_is_killed_with_output_and_audit_log() {
        let killer = killer();
        let user = common::test_user("leak", &[]);
        let idle = user.open_idle(20);
        let ids: Vec<u64> = idle.iter().map(conn_id).collect();
        wait_all_older(&user.user, 20, 2);
        let dir = Scratch::new("audit");
        let audit = dir.path("audit.jsonl");

        let out = kill_as(
            &killer,
            &audit,
            &["--idle-over", "2s", "--match-user", &user.user],
        );
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        let killed: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with("killed ") && l.contains(&format!("{}@", user.user)))
            .collect();
        assert_eq!(killed.len(), 20, "{}", out.stdout);
        for id in &ids {
            let id = id.to_string();
            assert!(
                killed
                    .iter()
                    .any(|l| l.split_whitespace().nth(1) == Some(id.as_str())),
                "no line for {id}: {}",
                out.stdout
            );
        }
        let summary = out.stdout.lines().last().unwrap();
        assert!(summary.starts_with("killed 20,"), "{summary}");
        assert!(summary.contains("failed 0"), "{summary}");
        assert!(
            wait_until(Duration::from_secs(5), || user.sessions() == 0),
            "sessions left: {:?}",
            rows_of(&user.user)
        );

        let text = std::fs::read_to_string(&audit).unwrap();
        assert!(
            !text.contains(&killer.pass),
            "the password is in the audit log"
        );
        assert!(!text.contains(&user.pass), "a password is in the audit log");
        // Two lines per kill: the attempts of the chunk, written (and
        // synced) before its KILLs, then the results in the same order.
        let lines = audit_lines(&audit);
        assert_eq!(lines.len(), 40, "{text}");
        let (attempts, results) = lines.split_at(20);
        for (a, r) in attempts.iter().zip(results) {
            assert_eq!(a["result"], "attempt", "{text}");
            assert_eq!(a["id"], r["id"], "{text}");
        }
        for l in results {
            for field in [
                "time", "server", "id", "user", "host", "db", "command", "time_ms", "state",
                "info", "info_cut", "mode", "result", "why",
            ] {
                assert!(l.get(field).is_some(), "audit field {field} missing: {l}");
            }
            assert_eq!(l["user"], user.user.as_str());
            assert_eq!(l["result"], "killed");
            assert_eq!(l["mode"], "connection");
            assert_eq!(l["command"], "Sleep");
            assert_eq!(l["dry_run"], false);
            assert!(l["time_ms"].as_u64().unwrap() >= 2000, "{l}");
            assert!(ids.contains(&l["id"].as_u64().unwrap()), "{l}");
            assert!(!l["why"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn busy_sessions_survive_an_idle_kill() {
        let killer = killer();
        let user = common::test_user("busy", &[]);
        let _idle = user.open_idle(3);
        let busy = busy_on_shared(&user, 30);
        wait_all_older(&user.user, 4, 1);
        let dir = Scratch::new("busy");

        let out = kill_as(
            &killer,
            &dir.path("audit.jsonl"),
            &["--idle-over", "1s", "--match-user", &user.user],
        );
        assert_summary(&out, "killed 3,");
        let left = rows_of(&user.user);
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].id, busy.id);
        assert_eq!(left[0].command, "Query");
        let end = busy.stop();
        assert!(end.took < Duration::from_secs(30), "{end:?}");
    }

    /// A device, a FIFO (opening one for writing would wait for a reader)
    /// or a symbolic link as the audit log: refused at once with why, exit
    /// 1, nothing killed.
    #[test]
    fn an_audit_log_that_is_not_a_regular_file_is_refused_and_nothing_is_killed() {
        let killer = killer();
        let user = common::test_user("notfile", &[]);
        let _idle = user.open_idle(3);
        wait_all_older(&user.user, 3, 1);
        let dir = Scratch::new("notfile");
        let fifo = dir.path("fifo.jsonl");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let real = dir.path("real.jsonl");
        let link = dir.path("link.jsonl");
        std::fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        for (path, why) in [
            ("/dev/full", "it is a character device, not a regular file"),
            (fifo.as_str(), "it is a FIFO, not a regular file"),
            (link.as_str(), "it is a symbolic link, not a regular file"),
        ] {
            let started = Instant::now();
            let out = kill_as(
                &killer,
                path,
                &["--idle-over", "1s", "--match-user", &user.user],
            );
            assert!(started.elapsed() < Duration::from_secs(10), "{out:?}");
            assert_eq!(out.code, Some(1), "{out:?}");
            let line = out.error_line();
            assert!(
                line.contains(&format!("cannot use the audit log {path}: {why}")),
                "{out:?}"
            );
            assert!(out.stdout.is_empty(), "{out:?}");
            assert_eq!(user.sessions(), 3, "sessions were killed without a record");
        }
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "");
    }

    /// The disk fills up while the attempt lines are written (as root: a
    /// tiny tmpfs): no record, no kill, and the log holds whole lines only.
    #[test]
    fn a_full_disk_kills_nothing_and_leaves_whole_lines() {
        struct Mount(String);
        impl Drop for Mount {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(&self.0).status();
            }
        }
        let dir = Scratch::new("fulldisk");
        let mnt = dir.path("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8k", "tmpfs", &mnt])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            // Mounting needs root; CI runs as root and must not pass by skipping.
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot mount a tmpfs in CI"
            );
            eprintln!("not run: mounting a tmpfs needs root");
            return;
        }
        let mount = Mount(mnt.clone());
        // One of the two pages taken: room for a few lines, not 20.
        std::fs::write(format!("{mnt}/filler"), vec![b'.'; 4096]).unwrap();
        let audit = format!("{mnt}/audit.jsonl");
        let killer = killer();
        let user = common::test_user("fulldisk", &[]);
        let _idle = user.open_idle(20);
        wait_all_older(&user.user, 20, 1);

        let out = kill_as(
            &killer,
            &audit,
            &["--idle-over", "1s", "--match-user", &user.user],
        );
        assert_eq!(out.code, Some(1), "{out:?}");
        let line = out.error_line();
        assert!(line.contains(&format!("audit log {audit}")), "{out:?}");
        assert!(line.contains("no record, no kill"), "{out:?}");
        assert!(
            out.stdout.lines().last().unwrap().starts_with("killed 0,"),
            "{}",
            out.stdout
        );
        thread::sleep(Duration::from_millis(300));
        assert_eq!(user.sessions(), 20, "sessions were killed");
        let text = std::fs::read_to_string(&audit).unwrap();
        assert!(text.ends_with('\n'), "half a line left: {text}");
        let lines = audit_lines(&audit);
        assert!(
            !lines.is_empty() && lines.len() < 20,
            "{} lines",
            lines.len()
        );
        assert!(lines.iter().all(|l| l["result"] == "attempt"));
        drop(mount);
    }

    #[test]
    fn without_connection_admin_other_accounts_are_left_out() {
        let weak = common::test_user("weak", &["PROCESS ON *.*"]);
        let victim = common::test_user("victim", &[]);
        let _theirs = victim.open_idle(2);
        let _mine = weak.open_idle(2);
        wait_all_older(&victim.user, 2, 1);
        wait_all_older(&weak.user, 2, 1);
        let dir = Scratch::new("weak");
        let both = format!("t_*_{}_*", std::process::id());

        let out = kill_as(
            &weak,
            &dir.path("audit.jsonl"),
            &["--idle-over", "1s", "--match-user", &both],
        );
        // Its own idle sessions are killed; the victim's are not even tried.
        assert_summary(&out, "killed 2,");
        assert!(out.stdout.lines().last().unwrap().contains("failed 0"));
        assert!(!out.stdout.contains(&victim.user), "{}", out.stdout);
        let warning = out.error_line();
        assert!(
            warning.contains("left out 2 sessions of other accounts"),
            "{out:?}"
        );
        assert!(warning.contains("CONNECTION ADMIN"), "{out:?}");
        assert_eq!(victim.sessions(), 2);
        assert!(wait_until(Duration::from_secs(5), || weak.sessions() == 0));
    }

    #[test]
    fn query_over_stops_the_statement_and_keeps_the_connection() {
        let killer = killer();
        let user = common::test_user("kq", &[]);
        let mut busy = busy_on_shared(&user, 60);
        wait_all_older(&user.user, 1, 2);
        let dir = Scratch::new("kq");
        let audit = dir.path("audit.jsonl");

        let began = Instant::now();
        let out = kill_as(
            &killer,
            &audit,
            &["--query-over", "2s", "--match-user", &user.user],
        );
        assert_summary(&out, "stopped queries of 1,");
        let end = busy.join(Duration::from_secs(10));
        assert!(began.elapsed() < Duration::from_secs(30));
        let interrupted = match &end.result {
            Ok(Some(1)) => true,
            Err(e) => mysql_code(e) == Some(1317),
            Ok(_) => false,
        };
        assert!(interrupted, "the statement was not interrupted: {end:?}");
        assert_eq!(end.after.as_ref().ok(), Some(&Some(1)), "{end:?}");
        assert_eq!(conn_id(&end.conn), busy.id);
        let rows = rows_of(&user.user);
        assert_eq!(rows.len(), 1, "the connection must stay: {rows:?}");
        assert_eq!(rows[0].id, busy.id);
        let lines = audit_lines(&audit);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["result"], "attempt");
        assert_eq!(lines[1]["result"], "killed");
        assert_eq!(lines[1]["mode"], "query");
        assert_eq!(lines[1]["info"], "SELECT SLEEP(60)");
    }

    #[test]
    fn a_session_that_turns_busy_after_the_preview_is_skipped() {
        let user = common::test_user("recheck", &[]);
        let conn = user.connect();
        let id = conn_id(&conn);
        let mut source = source_as("conntop", "conntop");
        let safety = Safety::default().connected(source.own_id(), source.privileges());
        let selection = Selection {
            users: vec![Pattern::new(&user.user).unwrap()],
            hosts: vec![],
        };
        let snap = source.poll().unwrap();
        let targets = kill::idle_targets(&snap.sessions, Duration::ZERO, &safety, &selection);
        assert_eq!(targets.len(), 1, "{targets:?}");
        assert_eq!(targets[0].session.id, id);

        let busy = Busy::start(conn, 5, server().opts("root", ""));
        assert!(wait_until(Duration::from_secs(5), || rows_of(&user.user)
            .iter()
            .any(|r| r.id == id && r.command == "Query")));
        let dir = Scratch::new("recheck");
        let mut audit = AuditLog::open(Path::new(&dir.path("audit.jsonl"))).unwrap();
        let mut outcomes = Vec::new();
        let result = executor::execute(
            &mut source,
            &targets,
            &Batch {
                mode: KillMode::Connection,
                method: KillMethod::Sql,
                dry_run: false,
                why: "test",
                server: "shared",
                seen_at: std::time::SystemTime::now(),
            },
            &safety,
            &mut audit,
            &mut |t, outcome, _| outcomes.push((t.session.id, outcome.clone())),
        );
        assert_eq!((result.tally.killed, result.tally.skipped), (0, 1));
        assert_eq!(result.first_error, None);
        match &outcomes[..] {
            [(got, KillOutcome::Skipped(why))] => {
                assert_eq!(*got, id);
                assert!(matches!(why, SkipReason::Busy { .. }), "{why}");
                assert!(why.to_string().starts_with("busy now"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(rows_of(&user.user).iter().any(|r| r.id == id));
        drop(busy);
    }

    #[test]
    fn read_only_refuses_and_dry_run_kills_nothing() {
        let killer = killer();
        let user = common::test_user("dry", &[]);
        let _idle = user.open_idle(3);
        wait_all_older(&user.user, 3, 1);
        let dir = Scratch::new("dry");
        let audit = dir.path("audit.jsonl");

        let out = kill_as(
            &killer,
            &audit,
            &[
                "--idle-over",
                "1s",
                "--match-user",
                &user.user,
                "--read-only",
            ],
        );
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.error_line().contains("read-only"), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert_eq!(user.sessions(), 3);
        assert!(audit_lines(&audit).is_empty());

        let out = kill_as(
            &killer,
            &audit,
            &["--idle-over", "1s", "--match-user", &user.user, "--dry-run"],
        );
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("would kill"), "{}", out.stdout);
        let would: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with("would kill") && l.contains(&format!("{}@", user.user)))
            .collect();
        assert_eq!(would.len(), 3, "{}", out.stdout);
        assert!(
            out.stdout.lines().last().unwrap().contains("would kill 3"),
            "{}",
            out.stdout
        );
        assert_eq!(user.sessions(), 3, "a dry run killed something");
        let lines = audit_lines(&audit);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l["dry_run"] == true), "{lines:?}");
        assert!(
            lines.iter().all(|l| l["result"] == "would_kill"),
            "{lines:?}"
        );
    }

    #[test]
    fn ignore_user_protects_a_matched_user() {
        let killer = killer();
        let kept = common::test_user("iga", &[]);
        let gone = common::test_user("igb", &[]);
        let _a = kept.open_idle(2);
        let _b = gone.open_idle(2);
        wait_all_older(&kept.user, 2, 1);
        wait_all_older(&gone.user, 2, 1);
        let dir = Scratch::new("ign");
        let both = format!("t_ig?_{}_*", std::process::id());
        let protect = format!("{}*", kept.user);

        let out = kill_as(
            &killer,
            &dir.path("audit.jsonl"),
            &[
                "--idle-over",
                "1s",
                "--match-user",
                &both,
                "--ignore-user",
                &protect,
            ],
        );
        assert_summary(&out, "killed 2,");
        assert!(!out.stdout.contains(&kept.user), "{}", out.stdout);
        assert_eq!(kept.sessions(), 2, "the protected user lost sessions");
        assert!(wait_until(Duration::from_secs(5), || gone.sessions() == 0));

        // With only the protected user matched, nothing at all is killed.
        let out = kill_as(
            &killer,
            &dir.path("audit.jsonl"),
            &[
                "--idle-over",
                "1s",
                "--match-user",
                &kept.user,
                "--ignore-user",
                &protect,
            ],
        );
        assert_summary(&out, "killed 0,");
        assert_eq!(kept.sessions(), 2);
    }
}

/// Tests that need a server of their own.
mod private_server {
    use super::*;

    use conntop::sandbox::{APP, ROOT};

    #[test]
    fn a_full_server_is_explained_and_root_still_gets_in() {
        // 10 is MariaDB's smallest max_connections (it raises 5 to 10).
        let sb = private_sandbox(10);
        let mut held = Vec::new();
        let mut refused = None;
        for _ in 0..20 {
            match Conn::new(sb.opts(APP)) {
                Ok(c) => held.push(c),
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let refused = refused.expect("the server never refused app");
        assert_eq!(mysql_code(&refused), Some(1040), "{refused}");
        assert!(held.len() >= 9, "only {} connections", held.len());

        let port = sb.port().to_string();
        let out = run(&[
            "--no-defaults",
            "--once",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "app",
            "-papp",
        ]);
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        let line = out.error_line();
        for word in [
            "1040",
            "Too many connections",
            "SUPER",
            "CONNECTION_ADMIN",
            "extra_port",
        ] {
            assert!(line.contains(word), "{word:?} missing: {line}");
        }

        // root has SUPER: the reserved slot lets it in, once the server has
        // let go of the refused attempts (they hold it for a moment).
        let args = as_root(sb.port(), &["--once", "--format", "json"]);
        let mut last = None;
        let got_in = wait_until(Duration::from_secs(5), || {
            let out = run(&args);
            let ok = out.code == Some(0);
            last = Some(out);
            ok
        });
        let last = last.unwrap();
        assert!(got_in, "root never got in: {last:?}");
        let report = last.json();
        let c = &report["connections"];
        assert!(
            c["threads_connected"].as_u64().unwrap() > c["max_connections"].as_u64().unwrap(),
            "{c}"
        );
        assert_eq!(c["max_connections"], 10);
        // MariaDB counts a refusal at the reserved slot (after the login) in
        // Aborted_connects, not in Connection_errors_max_connections.
        assert!(c["aborted_connects"].as_u64().unwrap() >= 2, "{c}");
        assert!(c["rejected"].is_u64(), "{c}");
        assert_eq!(report_sessions(&report, "app").len(), held.len());
        drop(held);
    }

    #[test]
    fn headroom_finding_near_max_connections() {
        let sb = private_sandbox(20);
        let held: Vec<Conn> = (0..17).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
        let report = once_json(sb.port(), &[]);
        let found = findings_of(&report, "headroom");
        assert_eq!(found.len(), 1, "{}", report["findings"]);
        let fixes = found[0]["fix"].as_array().unwrap();
        assert!(
            fixes.iter().any(|f| f["sql"]
                .as_str()
                .is_some_and(|sql| sql.contains("SET GLOBAL max_connections"))),
            "{fixes:?}"
        );
        drop(held);
    }

    #[test]
    fn kill_everything_spares_system_threads_and_its_own_connection() {
        let mut sb = private_sandbox(50);
        let root_opts = sb.opts(ROOT);
        let idle: Vec<Conn> = (0..4).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
        let mut busy = Busy::start(Conn::new(sb.opts(APP)).unwrap(), 30, root_opts.clone());
        let sessions = |opts: &OptsBuilder| processlist(&mut Conn::new(opts.clone()).unwrap());
        assert!(
            wait_until(Duration::from_secs(5), || sessions(&root_opts)
                .iter()
                .any(|r| r.id == busy.id && r.command == "Query")),
            "the busy session never ran"
        );
        let scheduler = sessions(&root_opts)
            .into_iter()
            .find(|r| r.user == "event_scheduler")
            .expect("the event scheduler runs on the sandbox");
        let dir = Scratch::new("all");
        let audit = dir.path("audit.jsonl");
        let port = sb.port();

        let out = run(&as_root(
            port,
            &["kill", "--idle-over", "0s", "--audit-log", &audit],
        ));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(!out.stdout.contains("event_scheduler"), "{}", out.stdout);
        let summary = out.stdout.lines().last().unwrap();
        assert!(summary.contains("failed 0"), "{summary}");
        let after = sessions(&root_opts);
        let app_left: Vec<&Row> = after.iter().filter(|r| r.user == "app").collect();
        assert_eq!(app_left.len(), 1, "idle app sessions survived: {after:?}");
        assert_eq!(app_left[0].id, busy.id);
        assert!(after.iter().any(|r| r.id == scheduler.id), "{after:?}");
        for id in idle.iter().map(conn_id) {
            assert!(
                audit_lines(&audit)
                    .iter()
                    .any(|l| l["id"] == id && l["result"] == "killed"),
                "idle session {id} not killed"
            );
        }

        // Statements running 0s or more: the app's SLEEP, but neither the
        // scheduler nor conntop's own processlist statement.
        let out = run(&as_root(
            port,
            &["kill", "--query-over", "0s", "--audit-log", &audit],
        ));
        assert_summary(&out, "stopped queries of 1,");
        let end = busy.join(Duration::from_secs(10));
        assert!(end.took < Duration::from_secs(30), "{end:?}");
        let lines = audit_lines(&audit);
        assert!(
            lines
                .iter()
                .all(|l| l["user"] != "event_scheduler" && l["user"] != "root"),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| l["command"] != "Daemon"), "{lines:?}");
        assert!(sessions(&root_opts).iter().any(|r| r.id == scheduler.id));
        drop(idle);
        sb.stop().unwrap();
    }
}

/// Issue "Diagnosis": findings in `--once --format json`.
mod diagnosis {
    use super::*;

    #[test]
    fn leak() {
        let user = common::test_user("lk", &[]);
        let _idle = user.open_idle(12);
        wait_all_older(&user.user, 12, 1);
        let report = once_json(server().port, &["--idle-over", "1s"]);
        let leaks = findings_of(&report, "leak");
        let mine: Vec<&&Json> = leaks
            .iter()
            .filter(|f| f["title"].as_str().unwrap().contains(&user.user))
            .collect();
        assert_eq!(mine.len(), 1, "{}", report["findings"]);
        assert!(
            mine[0]["title"]
                .as_str()
                .unwrap()
                .starts_with("12 sessions"),
            "{}",
            mine[0]
        );
    }

    #[test]
    fn long_running() {
        let user = common::test_user("lr", &[]);
        let busy = [busy_on_shared(&user, 30), busy_on_shared(&user, 30)];
        wait_all_older(&user.user, 2, 1);
        let report = once_json(server().port, &["--query-over", "1s"]);
        let found = findings_of(&report, "long_running");
        assert_eq!(found.len(), 1, "{}", report["findings"]);
        drop(busy);
    }

    #[test]
    fn lax_timeouts() {
        let wait: u64 = common::root_conn()
            .query_first("SELECT @@GLOBAL.wait_timeout")
            .unwrap()
            .unwrap();
        assert_eq!(wait, 28800, "the shared server should keep the default");
        let report = once_json(server().port, &[]);
        let found = findings_of(&report, "timeouts");
        assert_eq!(found.len(), 1, "{}", report["findings"]);
        let f = found[0];
        assert!(
            f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().contains("wait_timeout = 28800s")),
            "{f}"
        );
        assert!(
            f["fix"].as_array().unwrap().iter().any(|s| s["sql"]
                .as_str()
                .is_some_and(|sql| sql.starts_with("SET GLOBAL wait_timeout"))),
            "{f}"
        );
    }
}

/// Issue "Every number agrees": the counts of real snapshots add up, what
/// the server counts against what the processlist shows.
mod numbers {
    use super::*;

    use std::net::TcpStream;

    use conntop::groups::{self, GroupBy};
    use conntop::sandbox::{APP, ROOT};
    use conntop::snapshot::{Activity, Counts};

    /// The sums that hold in every snapshot, whatever the races.
    #[track_caller]
    fn assert_sums(snap: &Snapshot) -> Counts {
        let c = snap.counts();
        assert_eq!(c.running + c.sleeping + c.other, c.clients, "{c:?}");
        assert_eq!(c.clients + c.system, c.listed, "{c:?}");
        assert_eq!(c.listed, snap.sessions.len() as u64, "{c:?}");
        assert_eq!(c.own, 1, "{c:?}");
        assert!(
            snap.sessions.iter().all(|s| s.id != snap.own_id),
            "own id listed"
        );
        // A system thread holds no share of max_connections, in any view.
        for by in [GroupBy::User, GroupBy::Host, GroupBy::Db] {
            let gs = groups::group(&snap.sessions, by, c.max_connections);
            let slots: u64 = gs.iter().map(|g| u64::from(g.slots)).sum();
            assert_eq!(slots, c.clients, "{by:?}: {gs:?}");
            for g in gs.iter().filter(|g| g.slots == 0) {
                assert_eq!(g.share, 0.0, "{g:?}");
            }
        }
        c
    }

    /// Waits (bounded) until the server at `root` lists `want` threads of
    /// `user` in `command`.
    fn wait_for(root: &OptsBuilder, user: &str, command: &str, want: usize) {
        assert!(
            wait_until(Duration::from_secs(10), || {
                let rows = processlist(&mut Conn::new(root.clone()).unwrap());
                rows.iter()
                    .filter(|r| r.user == user && r.command == command)
                    .count()
                    == want
            }),
            "{want} {user} in {command} never listed"
        );
    }

    /// Waits (bounded) until no root session but the checking one is listed
    /// on the server at `root`: the test's helper connections are gone.
    fn wait_quiet(root: &OptsBuilder) {
        assert!(
            wait_until(Duration::from_secs(10), || {
                processlist(&mut Conn::new(root.clone()).unwrap())
                    .iter()
                    .filter(|r| r.user == "root")
                    .count()
                    == 1
            }),
            "root sessions linger"
        );
    }

    #[test]
    fn on_a_quiet_server_every_number_is_exact() {
        let sb = private_sandbox(20);
        let root = sb.opts(ROOT);
        // A login that never finishes stays listed as `Connect` this long.
        Conn::new(root.clone())
            .unwrap()
            .query_drop("SET GLOBAL connect_timeout = 120")
            .unwrap();
        let _idle: Vec<Conn> = (0..4).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
        let _busy: Vec<Busy> = (0..2)
            .map(|_| Busy::start(Conn::new(sb.opts(APP)).unwrap(), 60, root.clone()))
            .collect();
        let _login = TcpStream::connect(("127.0.0.1", sb.port())).unwrap();
        wait_for(&root, "app", "Query", 2);
        wait_for(&root, "unauthenticated user", "Connect", 1);
        wait_quiet(&root);

        let mut source = Source::connect(&[Opts::from(root.clone())], "private").unwrap();
        // The checking connection of `wait_quiet` ends as the source starts.
        assert!(
            wait_until(Duration::from_secs(10), || source
                .poll()
                .unwrap()
                .sessions
                .iter()
                .all(|s| s.user != "root")),
            "root sessions linger"
        );
        for _ in 0..3 {
            let snap = source.poll().unwrap();
            let c = assert_sums(&snap);
            // 4 idle + 2 running + 1 logging in; the event scheduler apart.
            assert_eq!(
                (c.sleeping, c.running, c.other, c.system),
                (4, 2, 1, 1),
                "{c:?} {:?}",
                snap.sessions
            );
            // Nothing connects or leaves: the two statements agree exactly.
            assert_eq!(c.clients + c.own, c.connected, "{c:?}");
            assert_eq!(c.unlisted, 0, "{c:?}");
            assert_eq!(c.max_connections, 20);
            // The server's own Threads_running also counts conntop's
            // statement and the scheduler; the count shown does not.
            assert!(snap.status.threads_running > c.running, "{c:?}");
            assert!(c.running < c.connected, "{c:?}");
            let scheduler = snap
                .sessions
                .iter()
                .find(|s| s.user == "event_scheduler")
                .expect("the event scheduler runs on the sandbox");
            assert_eq!(scheduler.activity(), Activity::System);
            let by_user = groups::group(&snap.sessions, GroupBy::User, 20);
            let g = |key: &str| by_user.iter().find(|g| g.key == key).unwrap().clone();
            assert_eq!(g("event_scheduler").share, 0.0);
            assert!((g("app").share - 6.0 / 20.0).abs() < 1e-9);
            assert_eq!(g("unauthenticated user").other, 1);
        }

        // --once says the same, in JSON and in the table. Plain TCP: with
        // TLS preferred, the refused TLS attempt's connection can still be
        // listed as logging in (`other`) when the plain one reads.
        drop(source);
        wait_quiet(&root);
        let plain = ["--ssl-mode", "DISABLED"];
        let report = once_json(sb.port(), &plain);
        let c = &report["counts"];
        for (field, want) in [
            ("connected", 8),
            ("max_connections", 20),
            ("listed", 8),
            ("clients", 7),
            ("running", 2),
            ("sleeping", 4),
            ("other", 1),
            ("system", 1),
            ("own", 1),
            ("unlisted", 0),
        ] {
            assert_eq!(c[field], want, "counts.{field}: {c}");
        }
        assert_eq!(report["connections"]["threads_connected"], 8);
        assert!(report["connections"]["threads_running"].as_u64().unwrap() >= 3);

        let out = run(&as_root(
            sb.port(),
            &["--once", "--format", "table", plain[0], plain[1]],
        ));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(
            out.stdout.contains("connections 8/20 (40.0%)"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(
                "sessions 7  running 2  sleeping 4  other 1  conntop 1  unlisted 0  \
                 system threads 1"
            ),
            "{}",
            out.stdout
        );
    }

    #[test]
    fn on_the_shared_server_the_counts_agree_within_the_races() {
        let user = common::test_user("num", &[]);
        let _idle = user.open_idle(3);
        let _busy = busy_on_shared(&user, 30);
        let mut source = source_as("root", "");
        let mut snap = source.poll().unwrap();
        for _ in 0..5 {
            let next = source.poll().unwrap();
            let c = assert_sums(&snap);
            // Listed clients and conntop's own are all counted by the
            // server, but for those that connected between the status
            // statement and the processlist (at most the attempts counted
            // by `Connections` until the next tick's status).
            let opened = next
                .status
                .connections
                .saturating_sub(snap.status.connections);
            assert!(
                c.clients + c.own <= c.connected + opened,
                "{c:?}, {opened} opened meanwhile"
            );
            let mine: Vec<Activity> = snap
                .sessions
                .iter()
                .filter(|s| s.user == user.user)
                .map(|s| s.activity())
                .collect();
            assert_eq!(mine.len(), 4, "{mine:?}");
            assert_eq!(mine.iter().filter(|a| **a == Activity::Sleeping).count(), 3);
            assert_eq!(mine.iter().filter(|a| **a == Activity::Running).count(), 1);
            snap = next;
        }
    }

    #[test]
    fn without_process_the_sessions_of_others_are_counted_as_unlisted() {
        let other = common::test_user("unseen", &[]);
        let _unseen = other.open_idle(2);
        let weak = common::test_user("np2", &[]);
        let _second = weak.connect();
        let mut source = source_as(&weak.user, &weak.pass);
        let snap = source.poll().unwrap();
        let c = assert_sums(&snap);
        assert_eq!((c.clients, c.sleeping, c.system), (1, 1, 0), "{c:?}");
        // The other account's two sessions, at least, hold slots nobody lists.
        assert!(c.unlisted >= 2, "{c:?}");
        assert_eq!(c.clients + c.own + c.unlisted, c.connected, "{c:?}");
    }

    #[test]
    fn once_table_lines_end_without_spaces() {
        let user = common::test_user("tbsp", &[]);
        let _idle = user.open_idle(2);
        let _busy = busy_on_shared(&user, 30);
        let out = run(&as_root(
            server().port,
            &["--once", "--format", "table", "--idle-over", "1s"],
        ));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.lines().count() > 4, "{}", out.stdout);
        for line in out.stdout.lines() {
            assert!(!line.ends_with(' '), "trailing space: {line:?}");
            assert!(!line.ends_with('\t'), "trailing tab: {line:?}");
        }
    }
}
