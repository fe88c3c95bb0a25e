//! [`Load`]: the scenario threads against a sandbox, their plan and their stop.

use std::collections::HashSet;
use std::fmt;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use mysql::Conn;
use mysql::prelude::Queryable;

use super::lock_scenario;
use super::scenario::{LoadOptions, LoadStats, Scenario};
use super::server::tcp_opts;
use super::workers::{Ctx, Jitter, blocked_update, leak, open_transaction, pool, sleeper, spike};
use super::{Account, BATCH, DEFAULT_MAX_CONNECTIONS, REPORTS, ROOT};

/// State shared by the load threads and their owner.
#[derive(Default)]
pub(super) struct Shared {
    pub(super) opened: AtomicU64,
    pub(super) held: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) bad_logins: AtomicU64,
    /// Connection ids inside a blocking statement; killed on stop.
    pub(super) busy: Mutex<HashSet<u32>>,
}

impl Shared {
    pub(super) fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Running scenario threads against a sandbox. Dropping it stops them and
/// closes their connections.
pub struct Load {
    port: u16,
    stop_tx: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Load")
            .field("port", &self.port)
            .field("threads", &self.threads.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// How long [`Load::stop`] waits for its threads.
const LOAD_STOP_GRACE: Duration = Duration::from_secs(3);
/// Source addresses of the simulated client hosts (127.0.0.x).
pub(super) const HOST_POOLS: [u8; 4] = [2, 3, 4, 5];
pub(super) const HOST_REPORTS: u8 = 6;
pub(super) const HOST_BATCH: u8 = 7;
pub(super) const HOST_APP: u8 = 8;
pub(super) const HOST_SPIKE: u8 = 9;
pub(super) const HOST_LEAK: u8 = 10;

impl Load {
    /// Starts `scenario` against the sandbox on 127.0.0.1:`sandbox_port` with
    /// the default [`LoadOptions`].
    pub fn start(sandbox_port: u16, scenario: Scenario) -> Load {
        Load::start_with(sandbox_port, scenario, LoadOptions::default())
    }

    /// Starts `scenario` with explicit tuning. Never fails: threads that
    /// cannot connect back off and retry until stopped.
    pub fn start_with(sandbox_port: u16, scenario: Scenario, opts: LoadOptions) -> Load {
        let max = opts
            .max_connections
            .or_else(|| server_max_connections(sandbox_port))
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        let plan = Plan::new(scenario, max);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::new(Shared::default());
        let ctx = Ctx {
            port: sandbox_port,
            stop: stop_rx,
            deadline: Instant::now() + opts.max_run,
            shared: Arc::clone(&shared),
            distinct_hosts: TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).is_ok(),
        };
        let mut threads = Vec::new();
        let mut spawn = |name: &str, seed: u64, work: Box<dyn FnOnce(Ctx, Jitter) + Send>| {
            let ctx = ctx.clone();
            let jitter = Jitter::new(seed);
            match thread::Builder::new()
                .name(format!("load-{name}"))
                .spawn(move || work(ctx, jitter))
            {
                Ok(handle) => threads.push(handle),
                Err(_) => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        if plan.leak > 0 {
            let (cap, rate) = (plan.leak, opts.leak_per_second.max(1));
            spawn("leak", 1, Box::new(move |c, _| leak(&c, cap, rate)));
        }
        for (i, (account, host)) in plan.pools.iter().copied().enumerate() {
            let size = plan.pool_size;
            spawn(
                &format!("pool{i}"),
                10 + i as u64,
                Box::new(move |c, j| pool(&c, j, account, host, size)),
            );
        }
        if plan.long {
            let secs = opts.long_query.as_secs().max(1);
            let sleepers = [
                (REPORTS, HOST_REPORTS, secs),
                (REPORTS, HOST_REPORTS, secs + secs / 2),
                (BATCH, HOST_BATCH, secs * 2),
            ];
            for (i, (account, host, secs)) in sleepers.into_iter().enumerate() {
                spawn(
                    &format!("sleep{i}"),
                    20 + i as u64,
                    Box::new(move |c, _| sleeper(&c, account, host, secs)),
                );
            }
            spawn("txn", 30, Box::new(|c, _| open_transaction(&c)));
            spawn("blocked", 31, Box::new(|c, _| blocked_update(&c)));
        }
        if plan.lock > 0 {
            spawn(
                "lock-trx",
                50,
                Box::new(|c, _| lock_scenario::idle_transaction(&c)),
            );
            spawn("lock-alter", 51, Box::new(|c, _| lock_scenario::alter(&c)));
            for n in 0..plan.lock as u32 {
                spawn(
                    &format!("lock-select{n}"),
                    60 + u64::from(n),
                    Box::new(move |c, _| lock_scenario::select(&c, n)),
                );
            }
        }
        if plan.spike > 0 {
            let (burst, first, every) = (plan.spike, opts.first_spike_after, opts.spike_every);
            spawn(
                "spike",
                40,
                Box::new(move |c, _| spike(&c, burst, first, every)),
            );
        }
        Load {
            port: sandbox_port,
            stop_tx: Some(stop_tx),
            threads,
            shared,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> LoadStats {
        let s = &self.shared;
        LoadStats {
            opened: s.opened.load(Ordering::Relaxed),
            held: s.held.load(Ordering::Relaxed),
            refused: s.refused.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            bad_logins: s.bad_logins.load(Ordering::Relaxed),
        }
    }

    /// Stops the threads (within about a second) and closes their connections.
    pub fn stop(self) {
        drop(self);
    }

    /// Signals stop, interrupts blocking statements with `KILL QUERY` (as
    /// root) and joins the threads, giving up on stragglers after a grace period.
    fn shutdown(&mut self) {
        let Some(tx) = self.stop_tx.take() else {
            return;
        };
        drop(tx);
        let deadline = Instant::now() + LOAD_STOP_GRACE;
        let mut killer: Option<Conn> = None;
        let mut killed = HashSet::new();
        let mut tries = 0;
        let mut last_try: Option<Instant> = None;
        while Instant::now() < deadline && !self.threads.iter().all(|t| t.is_finished()) {
            let busy: Vec<u32> = self
                .shared
                .busy()
                .iter()
                .copied()
                .filter(|id| !killed.contains(id))
                .collect();
            // A full server refuses root too, until the other threads have
            // closed their connections: retry a few times, spaced out.
            let due = last_try.is_none_or(|t: Instant| t.elapsed() >= Duration::from_millis(100));
            if !busy.is_empty() && killer.is_none() && tries < 10 && due {
                tries += 1;
                last_try = Some(Instant::now());
                killer = Conn::new(tcp_opts(self.port, ROOT)).ok();
            }
            if let Some(conn) = killer.as_mut() {
                for id in busy {
                    let _ = conn.query_drop(format!("KILL QUERY {id}"));
                    killed.insert(id);
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
        for handle in self.threads.drain(..) {
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `SELECT @@max_connections` as root, or `None`.
fn server_max_connections(port: u16) -> Option<u32> {
    let opts = tcp_opts(port, ROOT).read_timeout(Some(Duration::from_secs(5)));
    let mut conn = Conn::new(opts).ok()?;
    conn.query_first::<u32, _>("SELECT @@max_connections")
        .ok()
        .flatten()
}

/// How many connections each part of a scenario holds.
#[derive(Debug)]
struct Plan {
    leak: usize,
    pools: Vec<(Account, u8)>,
    pool_size: usize,
    long: bool,
    spike: usize,
    /// SELECTs queued behind the lock scenario's ALTER.
    lock: usize,
}

impl Plan {
    /// Sizes `scenario` for a server with `max` connections: alone, each part
    /// stays below `max` (the pools together hold 72%, enough for the pool
    /// finding); `All` holds ~92% and its spikes overflow into 1040s.
    fn new(scenario: Scenario, max: u32) -> Plan {
        let max = max as usize;
        let pool_size = (max * 18 / 100).max(2);
        let pools: Vec<(Account, u8)> = if scenario.runs(Scenario::Pool) {
            [REPORTS, REPORTS, BATCH, BATCH]
                .into_iter()
                .zip(HOST_POOLS)
                .collect()
        } else {
            Vec::new()
        };
        let long = scenario.runs(Scenario::Long);
        let long_held = if long { 5 } else { 0 };
        let leak = match scenario {
            Scenario::Leak => (max * 6 / 10).max(1),
            Scenario::All => (max * 92 / 100)
                .saturating_sub(pools.len() * pool_size + long_held)
                .max(1),
            _ => 0,
        };
        let spike = if scenario.runs(Scenario::Spike) {
            (max * 15 / 100).max(5)
        } else {
            0
        };
        let lock = if scenario.runs(Scenario::Lock) {
            (max / 5).clamp(1, 20)
        } else {
            0
        };
        Plan {
            leak,
            pools,
            pool_size,
            long,
            spike,
            lock,
        }
    }
}
