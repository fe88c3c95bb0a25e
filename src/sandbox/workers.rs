//! The load threads: what each one needs ([`Ctx`]) and what each one does.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

use super::load::{HOST_APP, HOST_LEAK, HOST_SPIKE, Shared};
use super::server::tcp_opts;
use super::{APP, APP_DATABASE, APP_TABLE, Account, BATCH, MONITOR, NOPRIVS, ROOT};

/// What every load thread needs.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) port: u16,
    /// Never sent on; disconnects when the load stops.
    pub(super) stop: Receiver<()>,
    pub(super) deadline: Instant,
    pub(super) shared: Arc<Shared>,
    /// 127.0.0.x source addresses can be bound (Linux); otherwise all use 127.0.0.1.
    pub(super) distinct_hosts: bool,
}

impl Ctx {
    /// False once the load is stopping or past its deadline.
    pub(super) fn running(&self) -> bool {
        Instant::now() < self.deadline
            && matches!(
                self.stop.try_recv(),
                Err(crossbeam_channel::TryRecvError::Empty)
            )
    }

    /// Waits `d` (cut short by stop); false when the thread should end.
    pub(super) fn pause(&self, d: Duration) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.stop.recv_timeout(d.min(left)) {
            Err(RecvTimeoutError::Timeout) => Instant::now() < self.deadline,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    pub(super) fn opts(&self, account: Account, host: u8) -> OptsBuilder {
        let mut opts =
            tcp_opts(self.port, account).tcp_connect_timeout(Some(Duration::from_secs(2)));
        if account != NOPRIVS && account != ROOT && account != MONITOR {
            opts = opts.db_name(Some(APP_DATABASE));
        }
        if self.distinct_hosts {
            opts = opts.bind_address(Some(SocketAddr::from(([127, 0, 0, host], 0))));
        }
        opts
    }

    /// Connects and counts the outcome.
    pub(super) fn connect(&self, account: Account, host: u8) -> Result<Tracked, mysql::Error> {
        self.connect_with(self.opts(account, host))
    }

    fn connect_with(&self, opts: OptsBuilder) -> Result<Tracked, mysql::Error> {
        match Conn::new(opts) {
            Ok(conn) => {
                self.shared.opened.fetch_add(1, Ordering::Relaxed);
                self.shared.held.fetch_add(1, Ordering::Relaxed);
                Ok(Tracked {
                    conn,
                    shared: Arc::clone(&self.shared),
                })
            }
            Err(e) => {
                if is_full(&e) {
                    self.shared.refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.shared.failed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }

    /// Runs a statement that may block for long; stop interrupts it with `KILL QUERY`.
    pub(super) fn blocking(&self, conn: &mut Conn, sql: &str) -> Option<Result<(), mysql::Error>> {
        let id = conn.connection_id();
        self.shared.busy().insert(id);
        // Checked after registering: either stop sees the id, or we see stop.
        let result = self.running().then(|| conn.query_drop(sql));
        self.shared.busy().remove(&id);
        result
    }
}

/// A load connection, counted in [`LoadStats::held`](super::LoadStats::held) while it lives.
pub(super) struct Tracked {
    pub(super) conn: Conn,
    pub(super) shared: Arc<Shared>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.shared.held.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Error 1040: the server is full.
fn is_full(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1040)
}

/// Doubling wait after failures: 250 ms up to 4 s.
pub(super) struct Backoff(Duration);

impl Backoff {
    const MIN: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    pub(super) fn new() -> Self {
        Backoff(Self::MIN)
    }

    pub(super) fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }

    pub(super) fn reset(&mut self) {
        self.0 = Self::MIN;
    }
}

/// A small xorshift generator for jitter; no need for real randomness.
pub(super) struct Jitter(u64);

impl Jitter {
    pub(super) fn new(seed: u64) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x2545_f491_4f6c_dd1d);
        Jitter((now ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A duration in `lo..hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % hi.saturating_sub(lo).max(1))
    }
}

/// How often the leak looks for its connections that were killed.
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Opens `rate` connections a second as `app` up to `cap` and never uses
/// them again; every [`PRUNE_EVERY`] drops the ones that were killed meanwhile.
pub(super) fn leak(ctx: &Ctx, cap: usize, rate: u32) {
    let interval = Duration::from_millis(1000 / u64::from(rate));
    let mut held: Vec<Tracked> = Vec::new();
    let mut backoff = Backoff::new();
    let mut next_prune = Instant::now() + PRUNE_EVERY;
    while ctx.running() {
        let wait = if held.len() < cap {
            match ctx.connect(APP, HOST_LEAK) {
                Ok(mut c) => {
                    // A leaked handle usually did some work before it was forgotten.
                    let _ = c
                        .conn
                        .query_drop(format!("SELECT note FROM {APP_TABLE} WHERE id = 1"));
                    held.push(c);
                    backoff.reset();
                    interval
                }
                Err(_) => backoff.next(),
            }
        } else {
            Duration::from_millis(500)
        };
        if Instant::now() >= next_prune {
            prune_killed(ctx, &mut held);
            next_prune = Instant::now() + PRUNE_EVERY;
        }
        if !ctx.pause(wait) {
            break;
        }
    }
}

/// Drops held connections the server no longer lists (killed by someone),
/// asking through a short-lived connection so the held ones stay idle.
fn prune_killed(ctx: &Ctx, held: &mut Vec<Tracked>) {
    let Ok(mut probe) = Conn::new(ctx.opts(APP, HOST_LEAK)) else {
        return;
    };
    let sql = format!(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{}'",
        APP.user
    );
    let Ok(alive) = probe.query::<u64, _>(sql) else {
        return;
    };
    let alive: HashSet<u64> = alive.into_iter().collect();
    held.retain(|c| alive.contains(&u64::from(c.conn.connection_id())));
}

/// One "app server": keeps `size` connections open and runs a short query
/// on one of them every few hundred milliseconds.
pub(super) fn pool(ctx: &Ctx, mut jitter: Jitter, account: Account, host: u8, size: usize) {
    const QUERIES: [&str; 4] = [
        "SELECT COUNT(*) FROM appdb.t",
        "SELECT note FROM appdb.t WHERE id = 3",
        "SELECT SUM(n) FROM appdb.t WHERE id > 4",
        "SELECT SLEEP(0.05)",
    ];
    let mut conns: Vec<Option<Tracked>> = (0..size).map(|_| None).collect();
    let mut backoff = Backoff::new();
    let mut turn = 0usize;
    while ctx.running() {
        let mut failed = false;
        for slot in conns.iter_mut().filter(|s| s.is_none()) {
            match ctx.connect(account, host) {
                Ok(c) => *slot = Some(c),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        let i = turn % size;
        if let Some(c) = conns[i].as_mut() {
            let sql = QUERIES[(jitter.next() % QUERIES.len() as u64) as usize];
            if c.conn.query_drop(sql).is_err() {
                conns[i] = None;
            }
        }
        turn = turn.wrapping_add(1);
        let wait = if failed {
            backoff.next()
        } else {
            backoff.reset();
            jitter.millis(150, 450)
        };
        if !ctx.pause(wait) {
            break;
        }
    }
}

/// Runs `SELECT SLEEP(secs)` over and over; reconnects slowly when killed.
pub(super) fn sleeper(ctx: &Ctx, account: Account, host: u8, secs: u64) {
    let sql = format!("SELECT SLEEP({secs})");
    let mut backoff = Backoff::new();
    while ctx.running() {
        let mut c = match ctx.connect(account, host) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        while let Some(Ok(())) = ctx.blocking(&mut c.conn, &sql) {
            if !ctx.pause(Duration::from_secs(1)) {
                return;
            }
        }
        // Killed or failed: a cron job would try again later.
        if !ctx.pause(Duration::from_secs(10)) {
            break;
        }
    }
}

/// Opens a transaction that updates row 1 and then sits idle for 5 minutes
/// before committing; starts over 20 s later.
pub(super) fn open_transaction(ctx: &Ctx) {
    let mut backoff = Backoff::new();
    while ctx.running() {
        let mut c = match ctx.connect(APP, HOST_APP) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        let begun = c.conn.query_drop("START TRANSACTION").and_then(|()| {
            c.conn
                .query_drop(format!("UPDATE {APP_TABLE} SET n = n + 1 WHERE id = 1"))
        });
        if begun.is_ok() {
            if !ctx.pause(Duration::from_secs(300)) {
                break;
            }
            let _ = c.conn.query_drop("COMMIT");
        }
        drop(c);
        if !ctx.pause(Duration::from_secs(20)) {
            break;
        }
    }
}

/// Updates row 1 again and again: waits on the open transaction's lock.
pub(super) fn blocked_update(ctx: &Ctx) {
    let sql = format!("UPDATE {APP_TABLE} SET n = n + 1 WHERE id = 1");
    let mut backoff = Backoff::new();
    // Let the transaction take its lock first.
    if !ctx.pause(Duration::from_millis(500)) {
        return;
    }
    while ctx.running() {
        let mut c = match ctx.connect(APP, HOST_APP) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        let _ = c
            .conn
            .query_drop("SET SESSION innodb_lock_wait_timeout = 120");
        // Lock wait timeouts (1205) are expected; a dead connection ends the round.
        while let Some(result) = ctx.blocking(&mut c.conn, &sql) {
            let dead = matches!(&result, Err(e) if !matches!(e, mysql::Error::MySqlError(_)));
            if dead || !ctx.pause(Duration::from_secs(2)) {
                break;
            }
        }
        drop(c);
        if !ctx.pause(Duration::from_secs(2)) {
            break;
        }
    }
}

/// How long a spike holds its connections: a few polls at any interval.
const SPIKE_HOLD: Duration = Duration::from_secs(3);

/// Every `every`, opens `burst` connections as fast as it can, holds them
/// [`SPIKE_HOLD`] and closes them; also tries three wrong passwords.
pub(super) fn spike(ctx: &Ctx, burst: usize, first: Duration, every: Duration) {
    if !ctx.pause(first) {
        return;
    }
    while ctx.running() {
        let mut held = Vec::with_capacity(burst);
        for _ in 0..burst {
            if !ctx.running() {
                return;
            }
            if let Ok(mut c) = ctx.connect(BATCH, HOST_SPIKE) {
                let _ = c.conn.query_drop("SELECT 1");
                held.push(c);
            }
        }
        for _ in 0..3 {
            let wrong = ctx.opts(APP, HOST_SPIKE).pass(Some("not-the-password"));
            if let Err(e) = Conn::new(wrong) {
                if is_full(&e) {
                    ctx.shared.refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    ctx.shared.bad_logins.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if !ctx.pause(SPIKE_HOLD) {
            return;
        }
        drop(held);
        if !ctx.pause(every) {
            return;
        }
    }
}
