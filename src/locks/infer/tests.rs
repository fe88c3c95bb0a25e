//! The inference on processlists recorded from MariaDB 10.11 (performance
//! schema off, no plugin) and MySQL 8.0, and on the lock tables' rows.

use super::*;
use crate::locks::{Graph, RowWait};

/// A session as `SHOW PROCESSLIST` lists it.
fn s(id: u64, command: &str, secs: u64, state: &str, info: Option<&str>) -> Session {
    Session {
        id,
        user: "app".into(),
        host: format!("10.0.0.1:{}", 40_000 + id),
        db: Some("appdb".into()),
        command: command.into(),
        time_ms: secs * 1000,
        state: state.into(),
        info: info.map(str::to_string),
        ..Session::default()
    }
}

fn with_trx(mut s: Session, secs: u64) -> Session {
    s.trx_age_ms = Some(secs * 1000);
    s
}

fn run(mut sessions: Vec<Session>, facts: &LockFacts, sightings: &Sightings) -> Vec<Session> {
    apply(&mut sessions, facts, sightings);
    sessions
}

fn infer_only(sessions: Vec<Session>) -> Vec<Session> {
    run(sessions, &LockFacts::default(), &Sightings::default())
}

fn by_id(v: &[Session], id: u64) -> &Session {
    v.iter().find(|s| s.id == id).expect("session")
}

const MDL: &str = "Waiting for table metadata lock";

/// Recorded: an idle transaction (9) read e1 4 s ago; an ALTER (10) waits
/// 3 s; SELECTs (11-13) wait behind it; a busy pool session (20) runs
/// elsewhere, and an idle one (21) has no transaction.
fn idle_transaction_alter_selects() -> Vec<Session> {
    vec![
        with_trx(s(9, "Sleep", 4, "", None), 4),
        s(
            10,
            "Query",
            3,
            MDL,
            Some("ALTER TABLE appdb.e1 ADD COLUMN c INT"),
        ),
        s(11, "Query", 1, MDL, Some("SELECT * FROM appdb.e1")),
        s(12, "Query", 1, MDL, Some("SELECT * FROM e1 WHERE id = 2")),
        s(13, "Query", 0, MDL, Some("INSERT INTO e1 VALUES (13,10,0)")),
        s(
            20,
            "Query",
            0,
            "Sending data",
            Some("SELECT * FROM appdb.other"),
        ),
        s(21, "Sleep", 600, "", None),
    ]
}

#[test]
fn metadata_pileup_roots_at_the_idle_transaction() {
    let v = infer_only(idle_transaction_alter_selects());
    let alter = by_id(&v, 10);
    assert_eq!(alter.blocked_by, vec![9]);
    let w = alter.wait.as_ref().expect("waits");
    assert_eq!(w.kind, WaitKind::Metadata);
    assert_eq!(w.object.as_deref(), Some("appdb.e1"));
    assert!(!w.certain);
    assert!(w.why.contains("#9's transaction is open 4s"), "{}", w.why);
    for id in [11, 12, 13] {
        let sel = by_id(&v, id);
        assert_eq!(sel.blocked_by, vec![10], "#{id}");
        let why = &sel.wait.as_ref().expect("waits").why;
        assert!(why.contains("queued behind ALTER TABLE #10"), "{why}");
    }
    assert!(by_id(&v, 9).wait.is_none());
    assert!(by_id(&v, 20).wait.is_none());
    let g = Graph::build(&v);
    assert_eq!(g.roots.len(), 1);
    assert_eq!(
        (g.roots[0].id, g.roots[0].direct, g.roots[0].total),
        (9, 1, 4)
    );
    assert_eq!(g.chain(12), vec![12, 10, 9]);
}

#[test]
fn younger_transactions_and_other_tables_are_not_holders() {
    let mut sessions = idle_transaction_alter_selects();
    // A transaction opened after the ALTER began waiting cannot hold it up.
    sessions.push(with_trx(s(30, "Sleep", 1, "", None), 1));
    // A statement running on the table since before the ALTER can.
    sessions.push(s(
        31,
        "Query",
        5,
        "Sending data",
        Some("SELECT COUNT(*) FROM e1"),
    ));
    let v = infer_only(sessions);
    let alter = by_id(&v, 10);
    assert_eq!(alter.blocked_by, vec![9, 31]);
    assert!(
        alter
            .wait
            .as_ref()
            .is_some_and(|w| w.why.contains("#31 runs a statement on appdb.e1"))
    );
}

/// `LOCK TABLES e1 WRITE` (36) then idle: readers wait for the metadata
/// lock with no DDL queued and no transaction open anywhere.
#[test]
fn lock_tables_holder_from_a_sighting_or_a_narrow_guess() {
    let sessions = vec![
        s(36, "Sleep", 2, "", None),
        s(37, "Query", 1, MDL, Some("SELECT * FROM appdb.e1")),
        s(
            38,
            "Query",
            0,
            MDL,
            Some("INSERT INTO appdb.e1 VALUES (13,10,0)"),
        ),
    ];
    // Not seen taking it: the only idle session since before the first waiter.
    let v = infer_only(sessions.clone());
    assert_eq!(by_id(&v, 37).blocked_by, vec![36]);
    let why = &by_id(&v, 38).wait.as_ref().expect("waits").why;
    assert!(why.contains("only LOCK TABLES"), "{why}");
    // Seen taking it: named as such.
    let mut seen = Sightings::default();
    seen.update(&[s(36, "Query", 0, "", Some("LOCK TABLES e1 WRITE"))]);
    let v = run(sessions.clone(), &LockFacts::default(), &seen);
    let w = by_id(&v, 37).wait.clone().expect("waits");
    assert_eq!(by_id(&v, 37).blocked_by, vec![36]);
    assert!(w.why.contains("seen running LOCK TABLES"), "{}", w.why);
    // A crowd of idle sessions in the schema: nobody is named.
    let mut crowd = sessions;
    crowd.extend((50..60).map(|id| s(id, "Sleep", 100, "", None)));
    let v = infer_only(crowd);
    assert!(by_id(&v, 37).blocked_by.is_empty());
    let why = &by_id(&v, 37).wait.as_ref().expect("waits").why;
    assert!(why.starts_with("holder not visible"), "{why}");
}

/// Recorded: FTWRL (27) waits for a running SELECT ... FOR UPDATE (25); a
/// plain SELECT (26) runs too; an INSERT (29) queues behind the FTWRL.
#[test]
fn mariadb_ftwrl_behind_a_locking_select() {
    let backup = "Waiting for backup lock";
    let v = infer_only(vec![
        s(
            25,
            "Query",
            3,
            "User sleep",
            Some("SELECT SLEEP(8) FROM appdb.t WHERE id=3 FOR UPDATE"),
        ),
        s(
            26,
            "Query",
            3,
            "User sleep",
            Some("SELECT SLEEP(6) FROM appdb.t WHERE id=4"),
        ),
        s(27, "Query", 2, backup, Some("FLUSH TABLES WITH READ LOCK")),
        s(
            29,
            "Query",
            1,
            backup,
            Some("INSERT INTO appdb.e1 VALUES (11,10,0)"),
        ),
    ]);
    let ftwrl = by_id(&v, 27);
    assert_eq!(
        ftwrl.blocked_by,
        vec![25],
        "a plain SELECT does not hold MariaDB's FTWRL"
    );
    assert_eq!(ftwrl.wait.as_ref().map(|w| w.kind), Some(WaitKind::Backup));
    assert_eq!(by_id(&v, 29).blocked_by, vec![27]);
    let why = &by_id(&v, 29).wait.as_ref().expect("waits").why;
    assert!(
        why.contains("queued behind FLUSH TABLES WITH READ LOCK #27"),
        "{why}"
    );
    let g = Graph::build(&v);
    assert_eq!(g.roots[0].id, 25);
    assert_eq!(g.roots[0].total, 2);
}

/// MySQL 8: FTWRL (5) holds the global read lock and waits for a long SELECT
/// (4) to close its tables; writes wait for the global read lock.
#[test]
fn mysql_ftwrl_behind_a_long_select() {
    let v = infer_only(vec![
        s(
            4,
            "Query",
            120,
            "executing",
            Some("SELECT SLEEP(600) FROM shop.orders"),
        ),
        s(
            5,
            "Query",
            30,
            "Waiting for table flush",
            Some("FLUSH TABLES WITH READ LOCK"),
        ),
        s(
            6,
            "Query",
            20,
            "Waiting for global read lock",
            Some("UPDATE orders SET n = 1"),
        ),
        s(7, "Query", 10, "Waiting for commit lock", Some("COMMIT")),
        s(
            8,
            "Query",
            5,
            "Waiting for table flush",
            Some("SELECT * FROM shop.orders"),
        ),
    ]);
    assert_eq!(by_id(&v, 5).blocked_by, vec![4]);
    assert_eq!(
        by_id(&v, 5).wait.as_ref().map(|w| w.kind),
        Some(WaitKind::Flush)
    );
    assert_eq!(by_id(&v, 6).blocked_by, vec![5]);
    assert_eq!(
        by_id(&v, 6).wait.as_ref().map(|w| w.kind),
        Some(WaitKind::GlobalRead)
    );
    assert_eq!(by_id(&v, 7).blocked_by, vec![5]);
    assert_eq!(
        by_id(&v, 8).blocked_by,
        vec![4],
        "the old table is still open in #4"
    );
    let g = Graph::build(&v);
    assert_eq!((g.roots[0].id, g.roots[0].total), (4, 4));
}

#[test]
fn idle_ftwrl_holder_is_named_only_when_seen() {
    let writers = vec![
        s(40, "Sleep", 50, "", None),
        s(
            41,
            "Query",
            30,
            "Waiting for backup lock",
            Some("UPDATE t SET n = 1"),
        ),
        s(
            42,
            "Query",
            10,
            "Waiting for backup lock",
            Some("DELETE FROM t"),
        ),
    ];
    let v = infer_only(writers.clone());
    assert!(by_id(&v, 41).blocked_by.is_empty());
    let why = &by_id(&v, 41).wait.as_ref().expect("waits").why;
    assert!(why.contains("holder not visible"), "{why}");
    assert_eq!(Graph::build(&v).unheld, vec![41, 42]);
    let mut seen = Sightings::default();
    seen.update(&[s(40, "Query", 0, "", Some("FLUSH TABLES WITH READ LOCK"))]);
    let v = run(writers, &LockFacts::default(), &seen);
    assert_eq!(by_id(&v, 41).blocked_by, vec![40]);
    assert_eq!(by_id(&v, 42).blocked_by, vec![40]);
}

/// Recorded: a long MyISAM UPDATE (41) holds the table lock; a SELECT (42)
/// waits for it.
#[test]
fn table_level_lock_on_myisam() {
    let v = infer_only(vec![
        s(
            41,
            "Query",
            1,
            "User sleep",
            Some("UPDATE appdb.my SET id = id + SLEEP(4)"),
        ),
        s(
            42,
            "Query",
            0,
            "Waiting for table level lock",
            Some("SELECT * FROM appdb.my"),
        ),
    ]);
    assert_eq!(by_id(&v, 42).blocked_by, vec![41]);
    assert_eq!(
        by_id(&v, 42).wait.as_ref().map(|w| w.kind),
        Some(WaitKind::Table)
    );
}

/// Recorded: two UPDATEs of one row behind an idle transaction (47), from
/// `INNODB_LOCK_WAITS`; 49 also waits for 48, queued ahead of it.
#[test]
fn row_lock_waits_are_certain() {
    let facts = LockFacts {
        rows: vec![
            RowWait {
                waiter: 49,
                holder: 48,
                object: Some("appdb.t".into()),
            },
            RowWait {
                waiter: 49,
                holder: 47,
                object: Some("appdb.t".into()),
            },
            RowWait {
                waiter: 48,
                holder: 47,
                object: Some("appdb.t".into()),
            },
        ],
        rows_from: Some("information_schema.INNODB_LOCK_WAITS"),
        lock_wait: vec![48, 49, 50],
        ..LockFacts::default()
    };
    let v = run(
        vec![
            with_trx(s(47, "Sleep", 2, "", None), 2),
            with_trx(
                s(
                    48,
                    "Query",
                    1,
                    "Updating",
                    Some("UPDATE appdb.t SET n=n+1 WHERE id=5"),
                ),
                1,
            ),
            with_trx(
                s(
                    49,
                    "Query",
                    0,
                    "Updating",
                    Some("UPDATE appdb.t SET n=n+1 WHERE id=5"),
                ),
                0,
            ),
            with_trx(
                s(50, "Query", 0, "Updating", Some("UPDATE appdb.u SET n=1")),
                0,
            ),
        ],
        &facts,
        &Sightings::default(),
    );
    let w = by_id(&v, 48).wait.clone().expect("waits");
    assert_eq!((w.kind, w.certain), (WaitKind::Row, true));
    assert_eq!(w.object.as_deref(), Some("appdb.t"));
    assert!(
        w.why.starts_with("information_schema.INNODB_LOCK_WAITS"),
        "{}",
        w.why
    );
    assert_eq!(by_id(&v, 48).blocked_by, vec![47]);
    assert_eq!(by_id(&v, 49).blocked_by, vec![47, 48]);
    // LOCK WAIT without a row in the lock table (it finished meanwhile).
    let w50 = by_id(&v, 50).wait.clone().expect("waits");
    assert!(!w50.certain && by_id(&v, 50).blocked_by.is_empty());
    assert_eq!(w50.object.as_deref(), Some("appdb.u"));
    let g = Graph::build(&v);
    assert_eq!(
        (g.roots[0].id, g.roots[0].direct, g.roots[0].total),
        (47, 2, 2)
    );
    assert!(g.roots[0].certain);
}

#[test]
fn nothing_waits_nothing_changes() {
    let mut v = vec![
        s(1, "Sleep", 10, "", None),
        s(2, "Query", 1, "Sending data", Some("SELECT 1")),
    ];
    v[0].blocked_by = vec![5];
    let v = infer_only(v);
    assert!(
        v.iter()
            .all(|s| s.wait.is_none() && s.blocked_by.is_empty())
    );
    assert_eq!(
        state_wait("Waiting for table metadata lock"),
        Some(WaitKind::Metadata)
    );
    assert_eq!(
        state_wait("Waiting for schema metadata lock"),
        Some(WaitKind::Metadata)
    );
    assert_eq!(
        state_wait("Waiting for backup lock"),
        Some(WaitKind::Backup)
    );
    assert_eq!(
        state_wait("Waiting for commit lock"),
        Some(WaitKind::GlobalRead)
    );
    assert_eq!(state_wait("Waiting on empty queue"), None);
    assert_eq!(state_wait("Sending data"), None);
}

#[test]
fn system_threads_are_neither_waiters_nor_holders() {
    let mut daemon = s(1, "Daemon", 9999, "Waiting for table metadata lock", None);
    daemon.user = "system user".into();
    let mut v = idle_transaction_alter_selects();
    v.push(daemon);
    let v = infer_only(v);
    assert!(by_id(&v, 1).wait.is_none());
    assert_eq!(by_id(&v, 10).blocked_by, vec![9]);
}

/// 10,000 sessions with 2,000 waiting on one table: the inference stays
/// cheap (a budget far above its cost, so a slow machine does not fail it).
#[test]
fn ten_thousand_sessions_quickly() {
    let mut v: Vec<Session> = (0..8_000)
        .map(|i| with_trx(s(100 + i, "Sleep", 100, "", None), 1).clone())
        .map(|mut x| {
            x.trx_age_ms = (x.id % 50 == 0).then_some(1000);
            x
        })
        .collect();
    v.push(with_trx(s(1, "Sleep", 900, "", None), 900));
    v.push(s(
        2,
        "Query",
        600,
        MDL,
        Some("ALTER TABLE appdb.e1 ADD COLUMN c INT"),
    ));
    v.extend((0..2_000).map(|i| s(10_000 + i, "Query", i % 500, MDL, Some("SELECT * FROM e1"))));
    let started = std::time::Instant::now();
    let v = infer_only(v);
    let g = Graph::build(&v);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(g.roots[0].id, 1);
    assert_eq!(g.roots[0].total, 2_001);
}
