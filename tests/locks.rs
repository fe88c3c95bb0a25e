//! Lock pile-ups on a real server: each test builds a chain of waits on a
//! private sandbox (MariaDB with the performance schema off and no plugin:
//! the inference path; one with the performance schema on: the lock tables)
//! and checks who `Source::poll` says waits for whom, the root blockers, the
//! `--once` JSON and the diagnosis.
//!
//! Every blocking statement runs on a thread of its own with
//! `lock_wait_timeout` / `innodb_lock_wait_timeout` at 60 s and a read
//! timeout, and is joined before the test ends (dropping a [`Background`]
//! kills its connection first).

mod common;

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use std::path::Path;

use conntop::app::{App, Dialog, Effect, Event, Mode, Options, PlanKind, update};
use conntop::audit::AuditLog;
use conntop::command::{Command, KillMethod, Reply};
use conntop::explain::{self, Explained};
use conntop::findings::FindingKind;
use conntop::kill::Safety;
use conntop::locks::WaitKind;
use conntop::poller::{self, PollerConfig};
use conntop::sandbox::{
    self, APP_DATABASE, Load, LoadOptions, MONITOR, Sandbox, SandboxOptions, Scenario,
};
use conntop::snapshot::{Session, Snapshot};
use conntop::source::Source;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};

use common::{run_conntop, wait_until};

/// Longest a test waits for the server to show a chain.
const SETTLE: Duration = Duration::from_secs(15);

/// Server-side bounds on every wait a test starts.
const BOUNDED: [&str; 2] = [
    "SET SESSION lock_wait_timeout = 60",
    "SET SESSION innodb_lock_wait_timeout = 60",
];

fn start(performance_schema: bool) -> Sandbox {
    Sandbox::start(SandboxOptions {
        max_connections: 80,
        performance_schema,
        ..SandboxOptions::default()
    })
    .unwrap()
}

/// Root over TCP with `appdb` as the default database, as an application connects.
fn app_opts(sb: &Sandbox) -> OptsBuilder {
    sb.root_opts()
        .db_name(Some(APP_DATABASE))
        .read_timeout(Some(Duration::from_secs(90)))
}

/// A connection that ran `statements` and now sits idle.
fn idle_after(sb: &Sandbox, statements: &[&str]) -> Conn {
    let mut conn = Conn::new(app_opts(sb)).unwrap();
    for sql in BOUNDED.iter().chain(statements) {
        conn.query_drop(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn
}

/// A statement running on a thread of its own (it may block for long).
struct Background {
    id: u64,
    root: OptsBuilder,
    handle: Option<JoinHandle<Result<(), String>>>,
}

impl Background {
    /// Starts `sql` on a new connection; returns once the connection is up.
    fn start(sb: &Sandbox, sql: &str) -> Background {
        let opts = app_opts(sb);
        let sql = sql.to_string();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let handle = thread::spawn(move || {
            let mut conn = Conn::new(opts).map_err(|e| e.to_string())?;
            for s in BOUNDED {
                conn.query_drop(s).map_err(|e| e.to_string())?;
            }
            let _ = tx.send(u64::from(conn.connection_id()));
            conn.query_drop(&sql).map_err(|e| format!("{sql}: {e}"))
        });
        let id = rx.recv_timeout(Duration::from_secs(10)).unwrap_or(0);
        Background {
            id,
            root: sb.root_opts(),
            handle: Some(handle),
        }
    }

    /// Waits (at most `within`) for the statement's end and returns its result.
    fn finish(mut self, within: Duration) -> Result<(), String> {
        let handle = self.handle.take().expect("not joined yet");
        let deadline = Instant::now() + within;
        while !handle.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if !handle.is_finished() {
            self.handle = Some(handle);
            return Err(format!("#{} still running after {within:?}", self.id));
        }
        handle.join().unwrap_or_else(|_| Err("panicked".into()))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        if !handle.is_finished() {
            if let Ok(mut root) = Conn::new(self.root.clone()) {
                let _ = root.query_drop(format!("KILL CONNECTION {}", self.id));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !handle.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = handle.join();
    }
}

/// Polls the processlist (as root, a fresh connection each time) until
/// `n` sessions are in a state containing `state`.
fn wait_for_state(sb: &Sandbox, state: &str, n: usize) {
    let ok = wait_until(SETTLE, || {
        let Ok(mut root) = Conn::new(sb.root_opts()) else {
            return false;
        };
        let count: Option<u64> = root
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE ?",
                (format!("%{state}%"),),
            )
            .unwrap_or(None);
        count.unwrap_or(0) as usize >= n
    });
    assert!(ok, "{n} sessions never showed state {state:?}");
}

/// A source as the monitor account, as `conntop demo` connects.
fn source(sb: &Sandbox) -> Source {
    Source::connect(&[Opts::from(sb.opts(MONITOR))], "sandbox").unwrap()
}

/// Polls until `ready` holds for a snapshot (every 200 ms, at most [`SETTLE`]).
fn snapshot_when(source: &mut Source, ready: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + SETTLE;
    loop {
        let snap = source.poll().unwrap();
        if ready(&snap) || Instant::now() >= deadline {
            return snap;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

fn waiting(snap: &Snapshot) -> usize {
    snap.sessions.iter().filter(|s| s.wait.is_some()).count()
}

fn session(snap: &Snapshot, id: u64) -> &Session {
    snap.sessions
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("#{id} not in the snapshot"))
}

/// An idle transaction read `appdb.t`; an ALTER waits for it; 20 SELECTs
/// queue behind the ALTER. The root is the idle transaction.
#[test]
fn idle_transaction_alter_and_twenty_selects() {
    let sb = start(false);
    let idle = idle_after(&sb, &["START TRANSACTION", "SELECT * FROM t"]);
    let idle_id = u64::from(idle.connection_id());
    thread::sleep(Duration::from_millis(1100));
    let alter = Background::start(&sb, "ALTER TABLE t ADD COLUMN extra INT");
    wait_for_state(&sb, "metadata lock", 1);
    let selects: Vec<Background> = (0..20)
        .map(|_| Background::start(&sb, "SELECT COUNT(*) FROM t"))
        .collect();
    wait_for_state(&sb, "metadata lock", 21);

    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| waiting(s) >= 21);
    assert_eq!(waiting(&snap), 21);
    let a = session(&snap, alter.id);
    assert_eq!(a.blocked_by, vec![idle_id]);
    let w = a.wait.as_ref().expect("the ALTER waits");
    assert_eq!(w.kind, WaitKind::Metadata);
    assert_eq!(w.object.as_deref(), Some("appdb.t"));
    assert!(!w.certain, "no lock table on this server: inferred");
    assert!(w.why.contains("transaction"), "{}", w.why);
    for s in &selects {
        assert_eq!(session(&snap, s.id).blocked_by, vec![alter.id]);
    }
    assert!(session(&snap, idle_id).wait.is_none());
    let root = &snap.locks.roots[0];
    assert_eq!((root.id, root.direct, root.total), (idle_id, 1, 21));
    assert_eq!(snap.locks.roots.len(), 1, "{:?}", snap.locks.roots);
    assert_eq!(
        snap.locks.chain(selects[7].id),
        vec![selects[7].id, alter.id, idle_id]
    );
    // Nothing to read for metadata locks here: still two statements.
    assert_eq!(snap.statements, 2);

    // The JSON: blocked_by and wait on every session.
    let port = sb.port().to_string();
    let out = run_conntop(
        &[
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "root",
            "--once",
            "--format",
            "json",
        ],
        &[],
    );
    let report = out.json();
    let sessions = report["sessions"].as_array().unwrap();
    let of = |id: u64| {
        sessions
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("#{id} not in the JSON"))
    };
    assert_eq!(of(alter.id)["blocked_by"], serde_json::json!([idle_id]));
    assert_eq!(of(alter.id)["wait"]["kind"], "metadata");
    assert_eq!(of(alter.id)["wait"]["object"], "appdb.t");
    assert_eq!(of(alter.id)["wait"]["certain"], false);
    assert_eq!(
        of(selects[0].id)["blocked_by"],
        serde_json::json!([alter.id])
    );
    assert_eq!(of(idle_id)["blocked_by"], serde_json::json!([]));
    assert!(of(idle_id)["wait"].is_null());
    let pileup = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "lock_pileup")
        .expect("a lock_pileup finding");
    assert_eq!(pileup["severity"], "critical");
    let title = pileup["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!("21 sessions wait on #{idle_id} root@")),
        "{title}"
    );
    assert_eq!(pileup["fix"][0]["key"], "B");

    // The finding's key, in the dashboard: the preview of the root's kill,
    // confirmed, sent to the poller; the ALTER completes, the SELECTs run.
    kill_the_root_from_the_finding(&sb, idle_id, 21);
    drop(idle);
    assert_eq!(alter.finish(Duration::from_secs(20)), Ok(()));
    for s in selects {
        assert_eq!(s.finish(Duration::from_secs(20)), Ok(()));
    }
}

/// Runs the dashboard's state machine on a real poller: waits for the
/// `lock_pileup` finding, presses its fix step's key in the diagnosis,
/// checks the preview names `root` with `waiting` sessions behind it,
/// confirms, and waits for the kill's reply.
fn kill_the_root_from_the_finding(sb: &Sandbox, root: u64, waiting: usize) {
    let dir = common::Scratch::new("locks-kill");
    let config = PollerConfig {
        interval: Duration::from_millis(200),
        attempts: vec![Opts::from(sb.opts(MONITOR))],
        endpoint: "sandbox".to_string(),
        kill_method: KillMethod::Sql,
        safety: Safety::default(),
        audit: Some(AuditLog::open(Path::new(&dir.path("audit.jsonl"))).unwrap()),
    };
    let poller = poller::spawn(config, Some(source(sb)), None);
    let mut app = App::new(Options {
        interval: Duration::from_millis(200),
        ..Options::default()
    });
    update(&mut app, Event::Resize(120, 40));
    let found = wait_until(SETTLE, || {
        if let Ok(feed) = poller.feed.recv_timeout(Duration::from_millis(500)) {
            update(&mut app, Event::Feed(feed));
        }
        app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::LockPileup)
    });
    assert!(found, "no lock_pileup finding");
    let finding = app
        .data
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::LockPileup)
        .unwrap();
    let step_key = finding.fix[0].key().expect("the fix step has a key");
    let press = |app: &mut App, c: char| {
        let m = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        update(app, Event::Key(KeyEvent::new(KeyCode::Char(c), m)))
    };
    press(&mut app, 'd');
    assert_eq!(app.mode(), Mode::Diagnosis);
    let effects = press(&mut app, step_key.chars().next().unwrap());
    let Some(Dialog::Confirm(plan)) = &app.dialog else {
        panic!("no preview: {:?} {effects:?}", app.message);
    };
    assert_eq!(plan.kind, PlanKind::Blocker);
    assert_eq!(plan.targets.len(), 1);
    assert_eq!(plan.targets[0].session.id, root);
    assert_eq!(plan.blocks.0, waiting);
    let effects = press(&mut app, 'y');
    let command = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Send(c @ Command::Kill { .. }) => Some(c),
            _ => None,
        })
        .expect("a kill command");
    poller.commands.send(command).unwrap();
    let done = wait_until(SETTLE, || {
        match poller.replies.recv_timeout(Duration::from_millis(500)) {
            Ok(reply) => {
                let done = matches!(reply, Reply::KillDone { .. });
                if let Reply::KillDone { tally, .. } = &reply {
                    assert_eq!(tally.killed, 1, "{reply:?}");
                }
                update(&mut app, Event::Reply(reply));
                done
            }
            Err(_) => false,
        }
    });
    assert!(done, "the kill never finished");
    poller.stop();
}

/// A long locking SELECT holds MariaDB's backup lock against FLUSH TABLES
/// WITH READ LOCK (on MariaDB 10.4+ a plain SELECT does not: FTWRL waits
/// only for statements that write or lock rows); writes queue behind the
/// FTWRL. The root is the long SELECT.
#[test]
fn ftwrl_behind_a_long_select_with_writers_queued() {
    let sb = start(false);
    let long = Background::start(&sb, "SELECT SLEEP(30) FROM t WHERE id = 3 FOR UPDATE");
    wait_for_state(&sb, "User sleep", 1);
    thread::sleep(Duration::from_millis(1100));
    let ftwrl = Background::start(&sb, "FLUSH TABLES WITH READ LOCK");
    wait_for_state(&sb, "backup lock", 1);
    let writers: Vec<Background> = (0..5)
        .map(|i| {
            Background::start(
                &sb,
                &format!("UPDATE t SET n = n + 1 WHERE id = {}", 4 + i % 3),
            )
        })
        .collect();
    wait_for_state(&sb, "backup lock", 6);

    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| waiting(s) >= 6);
    let f = session(&snap, ftwrl.id);
    assert_eq!(f.blocked_by, vec![long.id]);
    assert_eq!(f.wait.as_ref().map(|w| w.kind), Some(WaitKind::Backup));
    for w in &writers {
        assert_eq!(session(&snap, w.id).blocked_by, vec![ftwrl.id]);
    }
    let root = &snap.locks.roots[0];
    assert_eq!((root.id, root.total), (long.id, 6));

    // The long SELECT stops: the FTWRL gets its lock (and its connection
    // closes), the writes run.
    let mut root_conn = Conn::new(sb.root_opts()).unwrap();
    root_conn
        .query_drop(format!("KILL QUERY {}", long.id))
        .unwrap();
    let _ = long.finish(Duration::from_secs(20));
    assert_eq!(ftwrl.finish(Duration::from_secs(20)), Ok(()));
    for w in writers {
        assert_eq!(w.finish(Duration::from_secs(20)), Ok(()));
    }
}

/// Two UPDATEs of one row, the first session idle in its transaction: the
/// second waits for the first, certain (from `INNODB_LOCK_WAITS`).
#[test]
fn row_lock_behind_an_idle_transaction_is_certain() {
    let sb = start(false);
    let holder = idle_after(
        &sb,
        &["START TRANSACTION", "UPDATE t SET n = n + 1 WHERE id = 6"],
    );
    let holder_id = u64::from(holder.connection_id());
    let waiter = Background::start(&sb, "UPDATE t SET n = n + 1 WHERE id = 6");
    let mut root = Conn::new(sb.root_opts()).unwrap();
    assert!(wait_until(SETTLE, || {
        root.query_first::<u64, _>(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
        )
        .ok()
        .flatten()
            == Some(1)
    }));
    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| waiting(s) >= 1);
    let w = session(&snap, waiter.id);
    assert_eq!(w.blocked_by, vec![holder_id]);
    let wait = w.wait.as_ref().expect("waits");
    assert_eq!(wait.kind, WaitKind::Row);
    assert!(wait.certain);
    assert_eq!(wait.object.as_deref(), Some("appdb.t"));
    assert!(wait.why.contains("INNODB_LOCK_WAITS"), "{}", wait.why);
    assert!(snap.locks.roots[0].certain);
    // LOCK WAIT adds one statement for the lock tables.
    assert_eq!(snap.statements, 3);
    drop(holder);
    assert_eq!(waiter.finish(Duration::from_secs(20)), Ok(()));
}

/// `LOCK TABLES t WRITE`, then idle: readers wait for the metadata lock. The
/// holder is the only session idle in `appdb` since before they waited.
#[test]
fn lock_tables_write_and_readers() {
    let sb = start(false);
    let locker = idle_after(&sb, &["LOCK TABLES t WRITE"]);
    let locker_id = u64::from(locker.connection_id());
    thread::sleep(Duration::from_millis(1100));
    let readers: Vec<Background> = (0..3)
        .map(|_| Background::start(&sb, "SELECT * FROM t"))
        .collect();
    wait_for_state(&sb, "metadata lock", 3);
    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| waiting(s) >= 3);
    for r in &readers {
        let s = session(&snap, r.id);
        assert_eq!(s.blocked_by, vec![locker_id]);
        let w = s.wait.as_ref().expect("waits");
        assert_eq!((w.kind, w.certain), (WaitKind::Metadata, false));
        assert!(w.why.contains("LOCK TABLES"), "{}", w.why);
    }
    assert_eq!(snap.locks.roots[0].id, locker_id);
    drop(locker);
    for r in readers {
        assert_eq!(r.finish(Duration::from_secs(20)), Ok(()));
    }
}

/// With the performance schema on (and its metadata lock instrument), the
/// metadata edges come from `performance_schema.metadata_locks`: certain.
#[test]
fn metadata_edges_are_certain_with_the_performance_schema() {
    let sb = start(true);
    let idle = idle_after(&sb, &["START TRANSACTION", "SELECT * FROM t"]);
    let idle_id = u64::from(idle.connection_id());
    let alter = Background::start(&sb, "ALTER TABLE t ADD COLUMN extra INT");
    wait_for_state(&sb, "metadata lock", 1);
    let selects: Vec<Background> = (0..3)
        .map(|_| Background::start(&sb, "SELECT COUNT(*) FROM t"))
        .collect();
    wait_for_state(&sb, "metadata lock", 4);
    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| waiting(s) >= 4);
    let a = session(&snap, alter.id);
    assert_eq!(a.blocked_by, vec![idle_id]);
    let w = a.wait.as_ref().expect("waits");
    assert!(w.certain, "{w:?}");
    assert!(
        w.why.contains("performance_schema.metadata_locks"),
        "{}",
        w.why
    );
    for s in &selects {
        let s = session(&snap, s.id);
        assert_eq!(s.blocked_by, vec![alter.id]);
        assert!(s.wait.as_ref().is_some_and(|w| w.certain));
    }
    assert_eq!(snap.locks.roots[0].id, idle_id);
    assert!(snap.locks.roots[0].certain);
    assert_eq!(snap.statements, 3);
    drop(idle);
    assert_eq!(alter.finish(Duration::from_secs(20)), Ok(()));
    for s in selects {
        assert_eq!(s.finish(Duration::from_secs(20)), Ok(()));
    }
}

/// Nobody waits: two statements a tick, no waits, an empty graph.
#[test]
fn steady_state_costs_two_statements() {
    let sb = start(false);
    let _idle = idle_after(&sb, &["START TRANSACTION", "SELECT * FROM t"]);
    let mut src = source(&sb);
    for _ in 0..3 {
        let snap = src.poll().unwrap();
        assert_eq!(snap.statements, 2);
        assert!(snap.locks.is_empty());
        assert!(
            snap.sessions
                .iter()
                .all(|s| s.blocked_by.is_empty() && s.wait.is_none())
        );
    }
}

/// `conntop demo --scenario lock`: the load builds the idle transaction +
/// ALTER + SELECTs chain on a table of its own; the diagnosis names the
/// idle transaction; the load stops cleanly.
#[test]
fn the_lock_demo_scenario_builds_the_chain() {
    let sb = start(false);
    let load = Load::start_with(
        sb.port(),
        Scenario::Lock,
        LoadOptions {
            max_connections: Some(80),
            ..LoadOptions::default()
        },
    );
    let mut src = source(&sb);
    let snap = snapshot_when(&mut src, |s| {
        s.locks.roots.first().is_some_and(|r| r.total >= 10)
    });
    let root = snap.locks.roots.first().expect("a root blocker");
    let holder = session(&snap, root.id);
    assert_eq!(holder.user, "app");
    assert!(
        holder.is_sleeping() && holder.trx_age_ms.is_some(),
        "{holder:?}"
    );
    let alter = snap
        .sessions
        .iter()
        .find(|s| {
            s.info
                .as_deref()
                .is_some_and(|i| i.starts_with("ALTER TABLE"))
        })
        .expect("the ALTER");
    assert_eq!(alter.blocked_by, vec![root.id]);
    assert_eq!(
        alter.wait.as_ref().and_then(|w| w.object.as_deref()),
        Some(sandbox::LOCK_TABLE)
    );
    let findings = conntop::findings::diagnose(
        &snap,
        &{
            let mut h = conntop::history::History::default();
            h.push(conntop::history::Sample::from_snapshot(&snap));
            h
        },
        &conntop::thresholds::Thresholds::default(),
    );
    let f = findings
        .iter()
        .find(|f| f.kind == FindingKind::LockPileup)
        .expect("lock_pileup");
    assert!(
        f.title.contains(&format!("#{} app@", root.id)),
        "{}",
        f.title
    );
    load.stop();
}

/// EXPLAIN of a running `SELECT ... SLEEP()` over a table scan shows the
/// plan (a full scan picked out); of a `Sleep` session, a clear line.
#[test]
fn explain_a_running_scan_and_an_idle_session() {
    let sb = start(false);
    let _setup = idle_after(
        &sb,
        &[
            "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(8), k INT, KEY (k))",
            "INSERT INTO big SELECT seq, 'x', seq FROM seq_1_to_500",
        ],
    );
    let scan = Background::start(&sb, "SELECT v, SLEEP(0.05) FROM big WHERE v = 'x'");
    wait_for_state(&sb, "User sleep", 1);
    let idle = idle_after(&sb, &["SELECT 1"]);
    let idle_id = u64::from(idle.connection_id());

    let mut src = source(&sb);
    let plan = src.explain(scan.id).unwrap();
    let Explained::Plan(rows) = plan else {
        panic!("no plan: {plan:?}");
    };
    assert_eq!(rows[0].table, "big");
    assert_eq!(rows[0].access, "ALL");
    assert!(rows[0].rows.is_some_and(|n| n >= 400), "{rows:?}");
    assert_eq!(
        explain::worst(&rows).as_deref(),
        Some(
            format!(
                "full table scan on big ({} rows)",
                rows[0].rows.unwrap_or(0)
            )
            .as_str()
        )
    );

    match src.explain(idle_id).unwrap() {
        Explained::NoPlan(why) => {
            assert!(why.contains("idle"), "{why}");
            assert!(!why.contains('\n'));
        }
        other => panic!("a plan for an idle session: {other:?}"),
    }
    match src.explain(999_999).unwrap() {
        Explained::NoPlan(why) => assert_eq!(why, "the session is gone"),
        other => panic!("{other:?}"),
    }
    // The connection is still fine for the next tick.
    assert!(src.poll().is_ok());

    let mut root = Conn::new(sb.root_opts()).unwrap();
    root.query_drop(format!("KILL QUERY {}", scan.id)).unwrap();
    let _ = scan.finish(Duration::from_secs(20));
}
