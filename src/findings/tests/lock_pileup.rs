//! The lock_pileup rule, on snapshots whose waits the inference puts on
//! the sessions (as the source does), then the graph built from them.

use super::*;
use crate::locks::{self, Graph, LockFacts, RowWait, Sightings};

/// Puts the waits on the sessions and builds the graph, as `Source::poll`.
fn with_locks(mut snap: Snapshot, facts: &LockFacts) -> Snapshot {
    locks::apply(&mut snap.sessions, facts, &Sightings::default());
    snap.locks = Graph::build(&snap.sessions);
    snap
}

/// Session `i` (id 100 + i) runs `info` in `state` for `secs`.
fn runs(s: &mut Snapshot, i: usize, secs: u64, state: &str, info: &str) {
    let x = &mut s.sessions[i];
    x.command = "Query".into();
    x.time_ms = secs * 1000;
    x.state = state.into();
    x.info = Some(info.into());
}

const MDL: &str = "Waiting for table metadata lock";

/// 100 idle sessions; #100 idle in a transaction for 10 min, #101 an ALTER
/// waiting 2 min, then `selects` SELECTs queued behind it.
fn metadata_pileup(b: B, selects: usize) -> Snapshot {
    let snap = b
        .add(2 + selects, "app", "10.0.0.1", "Sleep", 600)
        .add(100, "web", "10.0.0.2", "Sleep", 5)
        .with(|s| {
            s.sessions[0].trx_age_ms = Some(600_000);
            runs(s, 1, 120, MDL, "ALTER TABLE orders ADD COLUMN note TEXT");
            for i in 0..selects {
                runs(
                    s,
                    2 + i,
                    60 - i as u64 % 60,
                    MDL,
                    "SELECT * FROM orders WHERE id = 7",
                );
            }
        })
        .snap();
    with_locks(snap, &LockFacts::default())
}

#[test]
fn metadata_pileup_names_the_idle_transaction() {
    let f = one(metadata_pileup(B::new(300), 20));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert_eq!(p.severity, Severity::Critical);
    assert_eq!(
        p.title,
        "21 sessions wait on #100 app@10.0.0.1: metadata lock on shop.orders"
    );
    assert!(
        p.evidence[0].starts_with("Root #100 app@10.0.0.1: Sleep for 10m, transaction open 10m"),
        "{}",
        p.evidence[0]
    );
    assert!(
        p.evidence[0].ends_with("holds metadata lock on shop.orders"),
        "{}",
        p.evidence[0]
    );
    assert!(
        p.evidence[1].starts_with("Waiting on it: 21 sessions, 1 directly"),
        "{}",
        p.evidence[1]
    );
    let chain = p
        .evidence
        .iter()
        .find(|e| e.starts_with("Chain: "))
        .expect("chain");
    assert!(
        chain.contains("→ #101 ALTER TABLE orders ADD COLUMN note TEXT (2m) → #100 (idle in a transaction open 10m)"),
        "{chain}"
    );
    assert!(
        p.evidence
            .iter()
            .any(|e| e.starts_with("How it is known (not certain): inferred"))
    );
    // The first step kills the root, with its key.
    assert_eq!(p.fix[0].key(), Some("B"));
    assert_eq!(p.fix[0].sql.as_deref(), Some("KILL CONNECTION 100;"));
    assert!(
        p.fix[0].text.contains("its transaction rolls back"),
        "{}",
        p.fix[0].text
    );
    assert!(sqls(p).contains(&"SET SESSION lock_wait_timeout = 5;"));
    assert!(
        p.fix
            .iter()
            .any(|s| s.text.contains("ALGORITHM=INPLACE, LOCK=NONE"))
    );
    assert_eq!(config(p), ["idle_transaction_timeout = 60"]);
    // Listed first among the critical findings: it is the cause.
    assert_eq!(f[0].kind, FindingKind::LockPileup);
}

#[test]
fn mysql_has_no_idle_transaction_timeout() {
    let f = one(metadata_pileup(B::new(300).mysql(), 3));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert!(config(p).is_empty(), "{:?}", config(p));
    assert!(
        p.fix
            .iter()
            .any(|s| s.text.contains("MySQL has no idle-transaction timeout"))
    );
}

#[test]
fn severity_by_count_and_share() {
    // Two waiting among 120 connected: a warning.
    let f = one(metadata_pileup(B::new(300), 1));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert_eq!(p.severity, Severity::Warning);
    assert!(
        p.title.starts_with("2 sessions wait on #100"),
        "{}",
        p.title
    );
    // Two waiting among 12 connected: over 10%, critical.
    let small = B::new(20)
        .add(2, "app", "10.0.0.1", "Sleep", 600)
        .add(10, "web", "10.0.0.2", "Sleep", 5)
        .with(|s| {
            s.sessions[0].trx_age_ms = Some(600_000);
            runs(s, 1, 120, MDL, "ALTER TABLE orders ADD COLUMN note TEXT");
        })
        .snap();
    let f = one(with_locks(small, &LockFacts::default()));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert_eq!(p.severity, Severity::Warning, "one waiter of 12: under 10%");
    assert!(p.title.starts_with("1 session waits on"), "{}", p.title);
}

#[test]
fn a_short_single_wait_is_no_finding() {
    let snap = B::new(100)
        .add(2, "app", "10.0.0.1", "Sleep", 600)
        .with(|s| {
            s.sessions[0].trx_age_ms = Some(600_000);
            runs(s, 1, 3, MDL, "ALTER TABLE orders ADD COLUMN note TEXT");
        })
        .snap();
    let f = one(with_locks(snap, &LockFacts::default()));
    assert!(get(&f, FindingKind::LockPileup).is_none());
    let f = one(B::new(100).add(50, "app", "10.0.0.1", "Sleep", 600).snap());
    assert!(get(&f, FindingKind::LockPileup).is_none());
}

#[test]
fn row_lock_pileup_is_certain_and_bounds_lock_waits() {
    let snap = B::new(100)
        .add(7, "app", "10.0.0.1", "Sleep", 60)
        .with(|s| {
            s.sessions[0].trx_age_ms = Some(60_000);
            for i in 1..7 {
                runs(
                    s,
                    i,
                    30,
                    "Updating",
                    "UPDATE stock SET n = n - 1 WHERE id = 7",
                );
                s.sessions[i].trx_age_ms = Some(30_000);
            }
        })
        .snap();
    let facts = LockFacts {
        rows: (101..107)
            .map(|w| RowWait {
                waiter: w,
                holder: 100,
                object: Some("shop.stock".into()),
            })
            .collect(),
        rows_from: Some("information_schema.INNODB_LOCK_WAITS"),
        lock_wait: (101..107).collect(),
        ..LockFacts::default()
    };
    let f = one(with_locks(snap, &facts));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert_eq!(p.severity, Severity::Critical);
    assert!(p.title.ends_with("row locks in shop.stock"), "{}", p.title);
    assert!(
        p.evidence
            .iter()
            .any(|e| e
                .starts_with("How it is known (certain): information_schema.INNODB_LOCK_WAITS"))
    );
    assert_eq!(
        config(p),
        [
            "idle_transaction_timeout = 60",
            "innodb_lock_wait_timeout = 10"
        ]
    );
}

#[test]
fn backup_pileup_behind_a_long_locking_select() {
    let backup = "Waiting for backup lock";
    let snap = B::new(100)
        .add(8, "app", "10.0.0.1", "Sleep", 60)
        .with(|s| {
            runs(s, 0, 300, "Sending data", "SELECT * FROM orders FOR UPDATE");
            runs(s, 1, 200, backup, "FLUSH TABLES WITH READ LOCK");
            for i in 2..8 {
                runs(s, i, 100, backup, "INSERT INTO orders VALUES (1)");
            }
        })
        .snap();
    let f = one(with_locks(snap, &LockFacts::default()));
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    assert!(
        p.title.starts_with("7 sessions wait on #100"),
        "{}",
        p.title
    );
    assert!(
        p.fix[0].text.contains("its locks are released"),
        "{}",
        p.fix[0].text
    );
    assert_eq!(sqls(p)[..2], ["KILL CONNECTION 100;", "KILL QUERY 100;"]);
    assert!(
        p.fix
            .iter()
            .any(|s| s.text.contains("mariadb-backup") && s.text.contains("--ftwrl-wait-timeout"))
    );
}

#[test]
fn other_roots_are_named() {
    let mut snap = metadata_pileup(B::new(300), 5);
    // A second, smaller pile-up: a MyISAM UPDATE and two SELECTs behind it.
    let n = snap.sessions.len();
    for (i, (state, info, secs)) in [
        ("Sending data", "UPDATE logs SET n = 1", 50),
        ("Waiting for table level lock", "SELECT * FROM logs", 20),
        ("Waiting for table level lock", "SELECT * FROM logs", 10),
    ]
    .into_iter()
    .enumerate()
    {
        runs(&mut snap, n - 1 - i, secs, state, info);
    }
    let snap = with_locks(snap, &LockFacts::default());
    let f = one(snap);
    let p = get(&f, FindingKind::LockPileup).expect("lock_pileup");
    let others = p
        .evidence
        .iter()
        .find(|e| e.starts_with("Other roots: "))
        .expect("others");
    assert!(others.contains("(2)"), "{others}");
}
