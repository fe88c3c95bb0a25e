//! `conntop kill --where EXPR` on the shared server: the filter expression
//! selects, ANDed with `--match-user`, and the rest stays. Needs the shared
//! server (`bash .ci/run`).

mod common;

use std::time::Duration;

use common::{Run, Scratch, TestUser};
use mysql::prelude::Queryable;

/// `kill <rest>` as a killer with PROCESS and CONNECTION ADMIN.
fn kill(killer: &TestUser, audit: &str, rest: &[&str]) -> Run {
    let port = common::server().port.to_string();
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
    common::run_conntop_within(Duration::from_secs(30), &args, &[])
}

fn conn_id(c: &mysql::Conn) -> u64 {
    c.connection_id() as u64
}

/// The ids on the lines of `out` that start with `word`.
fn ids_on(out: &Run, word: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with(word))
        .filter_map(|l| {
            // `<word> <id> <user>@<host> ...`, not the count line.
            let mut rest = l[word.len()..].split_whitespace();
            let id = rest.next()?.parse().ok()?;
            rest.next()?.contains('@').then_some(id)
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn where_selects_with_the_filter_expression() {
    let killer = common::test_user("wkiller", &["PROCESS ON *.*", "CONNECTION ADMIN ON *.*"]);
    let user = common::test_user("where", &["SELECT ON appdb.*"]);
    let mut in_db = user.open_idle(3);
    for c in &mut in_db {
        c.query_drop("USE appdb").expect("use appdb");
    }
    let elsewhere = user.open_idle(2);
    let mut want: Vec<u64> = in_db.iter().map(conn_id).collect();
    want.sort_unstable();
    let mut others: Vec<u64> = elsewhere.iter().map(conn_id).collect();
    others.sort_unstable();
    let dir = Scratch::new("where");
    let audit = dir.path("audit.jsonl");
    let pattern = user.user.clone();

    let out = kill(
        &killer,
        &audit,
        &[
            "--idle-over",
            "0s",
            "--match-user",
            &pattern,
            "--where",
            "!db:*",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(ids_on(&out, "would kill "), others, "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("where \"!db:*\""),
        "{}",
        out.stdout
    );

    let out = kill(
        &killer,
        &audit,
        &[
            "--idle-over",
            "0s",
            "--match-user",
            &pattern,
            "--where",
            "db:appdb cmd:sleep",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(ids_on(&out, "killed "), want, "{}", out.stdout);
    assert!(
        common::wait_until(Duration::from_secs(5), || user.sessions() == 2),
        "{} sessions left",
        user.sessions()
    );
    let audit_text = std::fs::read_to_string(&audit).expect("audit log");
    assert!(
        audit_text.contains("db:appdb"),
        "the expression is in the why: {audit_text}"
    );
    drop(elsewhere);
}
