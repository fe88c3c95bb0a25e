//! The `lock` scenario: a metadata lock pile-up, the classic road to 1040
//! that has nothing to do with leaks. A session reads `appdb.orders` inside
//! a transaction and sits idle without committing; an `ALTER TABLE` queues
//! for the exclusive lock; every later `SELECT` on the table queues behind
//! the ALTER. Killing the idle session (the root) frees the queue; a minute
//! later the scenario builds the chain again.
//!
//! It uses a table of its own, so the other scenarios' queries never join
//! its queue.

use std::time::Duration;

use super::load::{HOST_APP, HOST_BATCH, HOST_REPORTS};
use super::workers::{Backoff, Ctx};
use super::{APP, BATCH, REPORTS};
use mysql::prelude::Queryable;

/// The scenario's table.
pub const LOCK_TABLE: &str = "appdb.orders";

/// How long the idle transaction stays open if nobody kills it.
const HOLD: Duration = Duration::from_secs(600);

/// The pause before the chain is built again.
const AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The ALTER starts this long after the transaction, the SELECTs after it.
const STAGGER: Duration = Duration::from_secs(3);

/// Bounds on every wait the scenario starts (the server's default is a year).
const LOCK_WAIT: &str = "SET SESSION lock_wait_timeout = 900";

/// Creates the table (idempotent) and opens the idle transaction that holds
/// its metadata lock; starts over after it ended (killed, or [`HOLD`]).
pub(super) fn idle_transaction(ctx: &Ctx) {
    let mut backoff = Backoff::new();
    while ctx.running() {
        let Ok(mut c) = ctx.connect(APP, HOST_APP) else {
            if !ctx.pause(backoff.next()) {
                return;
            }
            continue;
        };
        backoff.reset();
        let begun = [
            format!(
                "CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (id INT PRIMARY KEY, \
                 total INT NOT NULL DEFAULT 0) ENGINE=InnoDB"
            ),
            format!("INSERT IGNORE INTO {LOCK_TABLE} (id, total) VALUES (1, 10), (2, 20), (3, 30)"),
            "START TRANSACTION".to_string(),
            format!("SELECT SUM(total) FROM {LOCK_TABLE}"),
        ]
        .iter()
        .try_for_each(|sql| c.conn.query_drop(sql));
        if begun.is_ok() {
            // Idle in the transaction (nothing sent on it, so it stays
            // `Sleep`), until killed or HOLD is over.
            let id = u64::from(c.conn.connection_id());
            let mut left = HOLD;
            while left > Duration::ZERO {
                let step = left.min(CHECK_EVERY);
                if !ctx.pause(step) {
                    return;
                }
                left = left.saturating_sub(step);
                if !alive(ctx, id) {
                    break;
                }
            }
            let _ = c.conn.query_drop("ROLLBACK");
        }
        drop(c);
        if !ctx.pause(AGAIN_AFTER) {
            return;
        }
    }
}

/// How often the idle transaction checks whether it was killed.
const CHECK_EVERY: Duration = Duration::from_secs(3);

/// Is session `id` still on the server? Asked on a short-lived connection
/// of the same account (which sees its own sessions), so the idle one
/// stays untouched. When the server cannot say, it is.
fn alive(ctx: &Ctx, id: u64) -> bool {
    let Ok(mut probe) = ctx.connect(APP, HOST_APP) else {
        return true;
    };
    let sql = format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id}");
    !matches!(probe.conn.query_first::<u64, _>(sql), Ok(Some(0)))
}

/// A schema change that waits for the exclusive lock, again and again.
pub(super) fn alter(ctx: &Ctx) {
    ddl_or_select(
        ctx,
        BATCH,
        HOST_BATCH,
        STAGGER,
        &format!("ALTER TABLE {LOCK_TABLE} FORCE"),
    );
}

/// An application query on the table: it queues behind the ALTER.
pub(super) fn select(ctx: &Ctx, n: u32) {
    ddl_or_select(
        ctx,
        REPORTS,
        HOST_REPORTS,
        STAGGER * 2 + Duration::from_millis(100 * u64::from(n)),
        &format!("SELECT COUNT(*) FROM {LOCK_TABLE} WHERE total > {n}"),
    );
}

/// Waits `first`, then runs `sql` (interruptible by stop) every second,
/// reconnecting after a failure.
fn ddl_or_select(ctx: &Ctx, account: super::Account, host: u8, first: Duration, sql: &str) {
    if !ctx.pause(first) {
        return;
    }
    let mut backoff = Backoff::new();
    while ctx.running() {
        let Ok(mut c) = ctx.connect(account, host) else {
            if !ctx.pause(backoff.next()) {
                return;
            }
            continue;
        };
        backoff.reset();
        let _ = c.conn.query_drop(LOCK_WAIT);
        while let Some(result) = ctx.blocking(&mut c.conn, sql) {
            let dead = matches!(&result, Err(e) if !matches!(e, mysql::Error::MySqlError(_)));
            if dead || !ctx.pause(Duration::from_secs(1)) {
                break;
            }
        }
        drop(c);
        if !ctx.pause(Duration::from_secs(2)) {
            return;
        }
    }
}
