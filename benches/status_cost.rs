//! What the first statement of a tick (status counters, open transactions)
//! costs the server next to the processlist, at 2,000 idle sessions.
//!
//! MariaDB answers a *global* status query by first summing every
//! connection's counters, so at 2,000 sessions the status statement used to
//! cost the server more than `SHOW PROCESSLIST`. This bench prints:
//!
//! 1. the server's own time (`SET profiling = 1`, `SHOW PROFILES`; CPU from
//!    `SHOW PROFILE CPU`) of each candidate statement, interleaved over
//!    [`ROUNDS`] rounds, median and 90th percentile, and as a multiple of a
//!    bare `SHOW PROCESSLIST`;
//! 2. the server process's CPU per tick (`/proc/<pid>/task/*/schedstat`, less
//!    its idle rate) for a bare processlist, the tick as it was (global
//!    status), and `Source::poll()` as it is now, [`TICKS`] ticks each, in
//!    [`BLOCKS`] interleaved blocks.
//!
//! The sessions are held by a child process (this binary re-executed with
//! `CONNTOP_BENCH_HOLD=<port>:<n>`). A throwaway server is started and
//! stopped; `CONNTOP_STATUS_COST_SERVER=<port>:<pid>` measures a running one
//! instead (root without a password on 127.0.0.1; `<pid>` of the server).
//!
//! Run with `cargo bench --bench status_cost` (about 2 minutes).

#[path = "support/mod.rs"]
mod support;

use support::load_average;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use conntop::sandbox::{self, Sandbox, SandboxOptions};
use conntop::snapshot::Flavor;
use conntop::source::{self, ProcesslistSql, Source};

/// Idle sessions held.
const SESSIONS: usize = 2_000;
const MAX_CONNECTIONS: u32 = 2_200;
/// Profiled runs of each candidate.
const ROUNDS: usize = 30;
/// Ticks per mode and block in the /proc measurement, and the pause between
/// them (over `TRX_EVERY`, so every tick reads the open transactions).
const TICKS: usize = 20;
const BLOCKS: usize = 3;
const PAUSE: Duration = Duration::from_millis(300);
const SERVER_IDLE: Duration = Duration::from_secs(3);
/// Server time per tick, as a multiple of a bare `SHOW PROCESSLIST`.
const TARGET: f64 = 1.3;
const HOLD_ENV: &str = "CONNTOP_BENCH_HOLD";
const SERVER_ENV: &str = "CONNTOP_STATUS_COST_SERVER";
const HOLD_LIFETIME: Duration = Duration::from_secs(15 * 60);
const HOLD_READY_LIMIT: Duration = Duration::from_secs(180);
const LOOPBACK: &str = "127.0.0.1";

fn main() {
    if let Ok(spec) = std::env::var(HOLD_ENV) {
        std::process::exit(hold(&spec));
    }
    if let Err(e) = run() {
        eprintln!("status_cost bench: {e}");
        std::process::exit(1);
    }
}

// --- the holder (child process) ----------------------------------------------

/// Opens `n` idle sessions as `app`, prints `ready`, holds them until stdin closes.
fn hold(spec: &str) -> i32 {
    let Some((port, n)) = spec
        .split_once(':')
        .and_then(|(p, n)| Some((p.parse::<u16>().ok()?, n.parse::<usize>().ok()?)))
    else {
        eprintln!("holder: {HOLD_ENV} must be <port>:<sessions>, got {spec:?}");
        return 2;
    };
    let opts = OptsBuilder::new()
        .ip_or_hostname(Some(LOOPBACK))
        .tcp_port(port)
        .user(Some(sandbox::APP.user))
        .pass(Some(sandbox::APP.password))
        .prefer_socket(false)
        .tcp_connect_timeout(Some(Duration::from_secs(10)));
    let opened: Result<Vec<Vec<Conn>>, String> = thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let count = n / 4 + usize::from(t < n % 4);
                let opts = opts.clone();
                scope.spawn(move || {
                    (0..count)
                        .map(|_| Conn::new(opts.clone()).map_err(|e| e.to_string()))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let conns = match opened {
        Ok(c) => c,
        Err(e) => {
            println!("failed {e}");
            return 1;
        }
    };
    println!("ready {}", conns.iter().map(Vec::len).sum::<usize>());
    let _ = std::io::stdout().flush();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(HOLD_LIFETIME);
    0
}

/// A child process holding sessions; closing its stdin ends it.
struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    fn start(port: u16, n: usize) -> Result<Holder, String> {
        let exe = std::env::current_exe().map_err(|e| format!("find this binary: {e}"))?;
        let mut child = Command::new(exe)
            .env(HOLD_ENV, format!("{port}:{n}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start a session holder: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut holder = Holder { child, stdin };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        match rx.recv_timeout(HOLD_READY_LIMIT) {
            Ok(line) if line.starts_with("ready") => Ok(holder),
            other => {
                holder.stop();
                Err(format!("the holder did not open {n} sessions: {other:?}"))
            }
        }
    }

    /// Closes stdin, waits up to 20 s, then ends the child by its PID.
    fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.stop();
    }
}

// --- figures -----------------------------------------------------------------

/// CPU time of every thread of a process, in ms (sum of schedstat).
fn process_cpu_ms(pid: u32) -> Option<f64> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let text = std::fs::read_to_string(entry.ok()?.path().join("schedstat")).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 / 1e6)
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn err(e: mysql::Error) -> String {
    e.to_string()
}

fn drain(conn: &mut Conn, sql: &str) -> Result<(), String> {
    let rows: Vec<mysql::Row> = conn.query(sql).map_err(err)?;
    std::hint::black_box(rows.len());
    Ok(())
}

/// One candidate statement and its profiled runs (ms).
struct Candidate {
    label: &'static str,
    sql: String,
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

/// Runs every candidate once per round with profiling on; each statement
/// carries a `/* cN */` tag so `SHOW PROFILES` rows are matched to it.
fn profile(opts: &Opts, candidates: &mut [Candidate]) -> Result<(), String> {
    let mut conn = Conn::new(opts.clone()).map_err(err)?;
    conn.query_drop("SET profiling_history_size = 100")
        .map_err(err)?;
    conn.query_drop("SET profiling = 1").map_err(err)?;
    let mut seen = 0u64;
    for _ in 0..ROUNDS {
        for (i, c) in candidates.iter().enumerate() {
            drain(&mut conn, &format!("/* c{i} */ {}", c.sql))?;
        }
        let rows: Vec<(Value, Value, Value)> = conn.query("SHOW PROFILES").map_err(err)?;
        for (id, duration, query) in rows {
            let id = source::value_u64(&id).unwrap_or(0);
            if id <= seen {
                continue;
            }
            seen = id;
            let query = source::value_text(&query).unwrap_or_default();
            let Some(i) = query
                .strip_prefix("/* c")
                .and_then(|r| r.split_once(' '))
                .and_then(|(n, _)| n.parse::<usize>().ok())
            else {
                continue;
            };
            let secs: f64 = source::value_text(&duration)
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0.0);
            let steps: Vec<(Value, Value, Value, Value)> = conn
                .query(format!("SHOW PROFILE CPU FOR QUERY {id}"))
                .map_err(err)?;
            let f = |v: &Value| {
                source::value_text(v)
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            let cpu: f64 = steps.iter().map(|(_, _, u, s)| f(u) + f(s)).sum();
            if let Some(c) = candidates.get_mut(i) {
                c.wall.push(secs * 1000.0);
                c.cpu.push(cpu * 1000.0);
            }
        }
    }
    conn.query_drop("SET profiling = 0").map_err(err)?;
    Ok(())
}

/// How a tick is sent in the /proc measurement.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `SHOW PROCESSLIST` alone: the floor.
    Processlist,
    /// The tick before: global status + open transactions, then the processlist.
    Before,
    /// `Source::poll()` as it is now.
    Now,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Processlist => "SHOW PROCESSLIST alone",
            Mode::Before => "tick before (global status + trx, processlist)",
            Mode::Now => "tick now (Source::poll)",
        }
    }
}

/// Server CPU per tick, ms, per mode: interleaved blocks, less the idle rate.
fn server_cpu_per_tick(
    opts: &Opts,
    pid: u32,
    flavor: Flavor,
) -> Result<Vec<(Mode, Vec<f64>)>, String> {
    let endpoint = format!("{LOOPBACK}:bench");
    let mut source =
        Source::connect(std::slice::from_ref(opts), &endpoint).map_err(|e| e.to_string())?;
    let mut conn = Conn::new(opts.clone()).map_err(err)?;
    let before = source::status_sql(flavor, false, true);
    let idle0 = process_cpu_ms(pid).ok_or("cannot read the server's /proc")?;
    let t = Instant::now();
    thread::sleep(SERVER_IDLE);
    let idle_per_ms = (process_cpu_ms(pid).unwrap_or(idle0) - idle0) / ms(t.elapsed());
    let modes = [Mode::Processlist, Mode::Before, Mode::Now];
    let mut out: Vec<(Mode, Vec<f64>)> = modes.iter().map(|&m| (m, Vec::new())).collect();
    for _ in 0..BLOCKS {
        for (mode, figures) in &mut out {
            let mut busy = 0.0;
            for _ in 0..TICKS {
                thread::sleep(PAUSE);
                let t = Instant::now();
                let c0 = process_cpu_ms(pid).unwrap_or(0.0);
                match mode {
                    Mode::Processlist => drain(&mut conn, ProcesslistSql::Show.sql())?,
                    Mode::Before => {
                        drain(&mut conn, &before)?;
                        drain(&mut conn, ProcesslistSql::Show.sql())?;
                    }
                    Mode::Now => {
                        std::hint::black_box(source.poll().map_err(|e| e.to_string())?);
                    }
                }
                // Let the server's threads settle into schedstat.
                thread::sleep(Duration::from_millis(2));
                let c1 = process_cpu_ms(pid).unwrap_or(c0);
                busy += (c1 - c0 - idle_per_ms * ms(t.elapsed())).max(0.0);
            }
            figures.push(busy / TICKS as f64);
        }
    }
    Ok(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run() -> Result<(), String> {
    let (port, pid, sandbox) = match std::env::var(SERVER_ENV) {
        Ok(spec) => {
            let (p, pid) = spec
                .split_once(':')
                .and_then(|(p, pid)| Some((p.parse::<u16>().ok()?, pid.parse::<u32>().ok()?)))
                .ok_or(format!("{SERVER_ENV} must be <port>:<pid>"))?;
            (p, pid, None)
        }
        Err(_) => {
            let sb = Sandbox::start(SandboxOptions {
                max_connections: MAX_CONNECTIONS,
                ..SandboxOptions::default()
            })
            .map_err(|e| format!("start the sandbox: {e}"))?;
            (sb.port(), sb.pid(), Some(sb))
        }
    };
    let opts: Opts = OptsBuilder::new()
        .ip_or_hostname(Some(LOOPBACK))
        .tcp_port(port)
        .user(Some("root"))
        .prefer_socket(false)
        .into();
    let mut probe = Conn::new(opts.clone()).map_err(err)?;
    let (version, connected): (String, u64) = probe
        .query_first("SELECT VERSION(), (SELECT COUNT(*) FROM information_schema.PROCESSLIST)")
        .map_err(err)?
        .ok_or("no answer")?;
    let flavor = conntop::snapshot::Flavor::from_version(&version);
    let _holder = if (connected as usize) < SESSIONS {
        let more = SESSIONS - connected as usize;
        println!("opening {more} idle sessions…");
        Some(Holder::start(port, more)?)
    } else {
        None
    };
    let listed: u64 = probe
        .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST")
        .map_err(err)?
        .unwrap_or(0);
    println!(
        "status cost: {version} on {LOOPBACK}:{port} (pid {pid}), {listed} threads listed, load average {}",
        load_average()
    );

    let mut candidates = vec![
        Candidate {
            label: "SHOW PROCESSLIST (the reference)",
            sql: ProcesslistSql::Show.sql().to_string(),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "before: global status + trx",
            sql: source::status_sql(flavor, false, true),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "global status alone",
            sql: source::status_sql(flavor, false, false),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "SHOW GLOBAL STATUS WHERE name IN (8)",
            sql: source::show_status_sql(false, false)
                .first()
                .map(|(_, s)| s.clone())
                .unwrap_or_default(),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "SHOW GLOBAL STATUS LIKE 'Threads_connected'",
            sql: "SHOW GLOBAL STATUS LIKE 'Threads_connected'".to_string(),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "now: session status + trx",
            sql: source::session_status_sql(false, true),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "session status alone",
            sql: source::session_status_sql(false, false),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "now, every 10 s: + variables",
            sql: source::session_status_sql(true, true),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "INNODB_TRX alone",
            sql: "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX".to_string(),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
        Candidate {
            label: "SELECT 1 (a round trip)",
            sql: "SELECT 1".to_string(),
            wall: Vec::new(),
            cpu: Vec::new(),
        },
    ];
    profile(&opts, &mut candidates)?;
    let reference = quantile(&candidates[0].wall, 0.5).max(1e-9);
    println!(
        "\nserver time per statement (SET profiling, {ROUNDS} interleaved runs; profiling adds a cost of its own\n\
         per statement and counts time waiting for a CPU, so trust the /proc figures below), ms:\n  {:<46} {:>8} {:>8} {:>8} {:>10}",
        "statement", "median", "p90", "cpu", "x SHOW PL"
    );
    for c in &candidates {
        let med = quantile(&c.wall, 0.5);
        println!(
            "  {:<46} {:>8.3} {:>8.3} {:>8.3} {:>9.2}x",
            c.label,
            med,
            quantile(&c.wall, 0.9),
            quantile(&c.cpu, 0.5),
            med / reference
        );
    }
    let ticks = server_cpu_per_tick(&opts, pid, flavor)?;
    println!(
        "\nserver process CPU per tick (/proc schedstat, less idle; {BLOCKS} blocks of {TICKS} ticks), ms:"
    );
    let floor = ticks
        .iter()
        .find(|(m, _)| *m == Mode::Processlist)
        .map_or(1e-9, |(_, v)| quantile(v, 0.5).max(1e-9));
    for (mode, v) in &ticks {
        let med = quantile(v, 0.5);
        println!(
            "  {:<46} {:>8.3} (blocks: {}) {:>6.2}x",
            mode.label(),
            med,
            v.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
            med / floor
        );
    }
    let now = ticks
        .iter()
        .find(|(m, _)| *m == Mode::Now)
        .map_or(0.0, |(_, v)| quantile(v, 0.5));
    let ratio = now / floor;
    println!(
        "\ntarget: server time per tick <= {TARGET:.1}x a bare SHOW PROCESSLIST: {ratio:.2}x, {}",
        if ratio <= TARGET { "MET" } else { "MISSED" }
    );
    drop(probe);
    drop(_holder);
    if let Some(mut sb) = sandbox {
        sb.stop().map_err(|e| e.to_string())?;
    }
    Ok(())
}
