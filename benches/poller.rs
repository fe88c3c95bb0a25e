//! What watching a server costs, against a real throwaway MariaDB/MySQL
//! holding 500, 2,000 and 5,000 idle sessions, polled every second.
//!
//! For each size:
//! 1. in this process: `Source::connect` as root, then the first full screen
//!    (connect + first poll + `update` + one render into a 120x40
//!    `TestBackend`), then 10 polls at a 1 s cadence: client CPU of the
//!    polling thread per poll, statements per poll, wall latency per poll;
//! 2. the server's own time for one tick's two statements, three ways: with
//!    `SET profiling = 1` on a separate measurement connection (the `Source`
//!    owns its connection, so the same statements are run there 10 times;
//!    wall and CPU per statement, and the status part without INNODB_TRX);
//!    the server process's CPU (`/proc/<pid>/task/*/schedstat`) during the
//!    in-process polls less its idle rate; and the client's wall time for the
//!    two statements with profiling off, as a bound;
//! 3. the real binary as a user runs it (`conntop --read-only` in a 120x40
//!    tmux pane): time to a first screen with session rows, then CPU % of one
//!    core and resident memory over a 20 s window after a 3 s warm-up, and
//!    statements per refresh counted by the server (`Questions`).
//!
//! The sessions are held by a child process (this binary re-executed with
//! `CONNTOP_BENCH_HOLD=<port>:<n>`), so they do not inflate what is measured
//! here. Everything runs on 127.0.0.1; the server, the holders and the tmux
//! server are ended by their own PID / name at the end. Takes about 2-3 min.
//!
//! Run with `cargo bench --bench poller` (it builds `conntop` as well).

#[path = "support/mod.rs"]
mod support;

use support::{Tmux, clock_ticks, load_average};

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use conntop::app::{self, App, Event, Options};
use conntop::command::Feed;
use conntop::sandbox::{self, Sandbox, SandboxOptions};
use conntop::source::{self, ProcesslistSql, Source};
use conntop::ui;

/// Idle sessions held, in this order (held sessions only grow).
const SIZES: [usize; 3] = [500, 2_000, 5_000];
/// Room above the largest size for root, the measurement connection and the
/// server's own threads.
const MAX_CONNECTIONS: u32 = 5_200;
/// In-process polls per size, one per [`INTERVAL`].
const POLLS: usize = 10;
const INTERVAL: Duration = Duration::from_secs(1);
/// How long the server's idle CPU is measured before the polls.
const SERVER_IDLE: Duration = Duration::from_secs(3);
/// Profiled runs of a tick's statements per size.
const PROFILED: usize = 10;
/// The real binary: warm-up, then the measured window.
const WARM_UP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(20);
/// Longest wait for a first screen with rows from the real binary.
const FIRST_SCREEN_LIMIT: Duration = Duration::from_secs(10);
/// Longest wait for a holder to open its sessions.
const HOLD_READY_LIMIT: Duration = Duration::from_secs(180);
/// A holder ends on its own after this long, even if nobody closes its stdin.
const HOLD_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Threads a holder opens its sessions with.
const HOLD_THREADS: usize = 4;
/// The size the targets are checked at, and the targets.
const TARGET_AT: usize = 2_000;
const TARGET_CPU_PCT: f64 = 1.0;
const TARGET_RSS_MB: f64 = 15.0;
const TARGET_STATEMENTS: f64 = 2.0;
const TARGET_FIRST_SCREEN: Duration = Duration::from_millis(200);
/// The terminal size of the first-screen render.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// The environment variable that turns this binary into a session holder.
const HOLD_ENV: &str = "CONNTOP_BENCH_HOLD";
const LOOPBACK: &str = "127.0.0.1";

fn main() {
    if let Ok(spec) = std::env::var(HOLD_ENV) {
        std::process::exit(hold(&spec));
    }
    if let Err(e) = run() {
        eprintln!("poller bench: {e}");
        std::process::exit(1);
    }
}

// --- the holder (child process) ----------------------------------------------

/// Opens `n` idle sessions as `app` on 127.0.0.1:`port`, prints `ready <n>`,
/// and holds them until stdin closes (or [`HOLD_LIFETIME`] passes).
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
        .db_name(Some(sandbox::APP_DATABASE))
        .prefer_socket(false)
        .tcp_connect_timeout(Some(Duration::from_secs(10)));
    let opened: Result<Vec<Vec<Conn>>, String> = thread::scope(|scope| {
        let workers: Vec<_> = (0..HOLD_THREADS)
            .map(|t| {
                let count = n / HOLD_THREADS + usize::from(t < n % HOLD_THREADS);
                let opts = opts.clone();
                scope.spawn(move || {
                    let mut conns = Vec::with_capacity(count);
                    for _ in 0..count {
                        conns.push(Conn::new(opts.clone()).map_err(|e| e.to_string())?);
                    }
                    Ok::<_, String>(conns)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a holder thread panicked".to_string()))
            })
            .collect()
    });
    let conns = match opened {
        Ok(c) => c,
        Err(e) => {
            println!("failed {e}");
            return 1;
        }
    };
    let held: usize = conns.iter().map(Vec::len).sum();
    println!("ready {held}");
    let _ = std::io::stdout().flush();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(HOLD_LIFETIME);
    drop(conns);
    0
}

/// A child process holding sessions; closing its stdin ends it.
struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    fn start(port: u16, n: usize) -> Result<Holder, String> {
        let exe = std::env::current_exe().map_err(|e| format!("find this bench binary: {e}"))?;
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
            Ok(line) => {
                holder.stop();
                Err(format!(
                    "the session holder could not open {n} sessions: {}",
                    line.trim()
                ))
            }
            Err(_) => {
                holder.stop();
                Err(format!(
                    "the session holder did not open {n} sessions within {} s",
                    HOLD_READY_LIMIT.as_secs()
                ))
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

// --- /proc readings ------------------------------------------------------------

/// CPU time of the calling thread in ns (`/proc/thread-self/schedstat`). The
/// kernel brings the figure up to date when the thread blocks, so callers
/// sleep briefly before reading it.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn settled_thread_cpu() -> Option<Duration> {
    thread::sleep(Duration::from_millis(2));
    thread_cpu()
}

/// utime + stime of a process, all its threads, in clock ticks.
fn process_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields count from after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 14 (utime) and 15 (stime) overall; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of every live thread of a process, in ns (sum of schedstat).
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// CPU time of the server process in ms: the sum of its threads' schedstat
/// (ns), or utime + stime in clock ticks when schedstat is not there.
fn server_cpu_ms(pid: u32, ticks: u64) -> Option<f64> {
    match process_cpu_ns(pid) {
        Some(ns) => Some(ns as f64 / 1e6),
        None => process_ticks(pid).map(|t| t as f64 * 1000.0 / ticks as f64),
    }
}

/// A `/proc/<pid>/status` field in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Soft and hard `Max open files` of this process.
fn open_files_limit() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line["Max open files".len()..].split_whitespace();
    let parse = |s: Option<&str>| match s? {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    };
    Some((parse(nums.next())?, parse(nums.next())?))
}

/// Makes sure the holders (children inherit the limit) can open `need`
/// sockets: raises the soft limit to the hard one with `prlimit` if needed.
fn ensure_open_files(need: u64) -> Result<u64, String> {
    let (soft, hard) = open_files_limit().ok_or("cannot read /proc/self/limits")?;
    if soft >= need {
        return Ok(soft);
    }
    if hard < need {
        return Err(format!(
            "the open files limit is {soft} (hard {hard}); {need} are needed: raise it (ulimit -n {need}) and run again"
        ));
    }
    let pid = std::process::id().to_string();
    let raised = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={hard}:{hard}")])
        .status()
        .is_ok_and(|s| s.success());
    match open_files_limit() {
        Some((soft, _)) if raised && soft >= need => Ok(soft),
        _ => Err(format!(
            "the open files limit is {soft} (hard {hard}) and prlimit could not raise it; \
             run `ulimit -n {hard}` first"
        )),
    }
}

// --- measurements -------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// In-process figures for one size.
struct InProcess {
    sessions: usize,
    connect: Duration,
    first_screen: Duration,
    cpu_per_poll_ms: Vec<f64>,
    latency_ms: Vec<f64>,
    statements: Vec<u32>,
    /// mariadbd/mysqld CPU (all threads, /proc) with nobody polling, ms per s.
    server_idle_ms_per_s: f64,
    /// mariadbd/mysqld CPU per poll during the polls, less the idle rate.
    server_ms_per_poll: f64,
}

fn in_process(
    opts: &Opts,
    endpoint: &str,
    server_pid: u32,
    ticks: u64,
) -> Result<InProcess, String> {
    let started = Instant::now();
    let mut src =
        Source::connect(std::slice::from_ref(opts), endpoint).map_err(|e| e.to_string())?;
    let connect = started.elapsed();
    let snap = src.poll().map_err(|e| e.to_string())?;
    let mut app = App::new(Options {
        interval: INTERVAL,
        color: true,
        ..Options::default()
    });
    app::update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).map_err(|e| e.to_string())?;
    terminal
        .draw(|f| ui::render(&app, f))
        .map_err(|e| e.to_string())?;
    let first_screen = started.elapsed();

    let mut out = InProcess {
        sessions: app.sessions().len(),
        connect,
        first_screen,
        cpu_per_poll_ms: Vec::new(),
        latency_ms: Vec::new(),
        statements: Vec::new(),
        server_idle_ms_per_s: 0.0,
        server_ms_per_poll: 0.0,
    };
    // The server's own background work, with nobody polling.
    let idle = Instant::now();
    let idle0 = server_cpu_ms(server_pid, ticks);
    thread::sleep(SERVER_IDLE);
    let idle1 = server_cpu_ms(server_pid, ticks);
    let idle_s = idle.elapsed().as_secs_f64();
    let mut next = Instant::now() + INTERVAL;
    let window = Instant::now();
    let server0 = server_cpu_ms(server_pid, ticks);
    for _ in 0..POLLS {
        thread::sleep(next.saturating_duration_since(Instant::now()));
        next += INTERVAL;
        let before = settled_thread_cpu();
        let snap = src.poll().map_err(|e| e.to_string())?;
        let after = settled_thread_cpu();
        if let (Some(a), Some(b)) = (before, after) {
            // Less the settling sleep's own few microseconds: negligible.
            out.cpu_per_poll_ms.push(ms(b.saturating_sub(a)));
        }
        out.latency_ms.push(ms(snap.poll_latency));
        out.statements.push(snap.statements);
        out.sessions = snap.sessions.len();
    }
    let server1 = server_cpu_ms(server_pid, ticks);
    let window_s = window.elapsed().as_secs_f64();
    if let (Some(a), Some(b), Some(c), Some(d)) = (idle0, idle1, server0, server1) {
        out.server_idle_ms_per_s = (b - a) / idle_s;
        let busy = (d - c) - out.server_idle_ms_per_s * window_s;
        out.server_ms_per_poll = busy.max(0.0) / POLLS as f64;
    }
    Ok(out)
}

/// Server time of one tick's statements, from `SHOW PROFILES`.
struct ServerTime {
    status_ms: Vec<f64>,
    processlist_ms: Vec<f64>,
    /// CPU_user + CPU_system of the same statements.
    status_cpu_ms: Vec<f64>,
    processlist_cpu_ms: Vec<f64>,
    /// The status part alone (no INNODB_TRX), for the breakdown.
    status_only_ms: Vec<f64>,
    with_variables_ms: f64,
    /// Client-side wall time of both statements with profiling off.
    unprofiled_ms: Vec<f64>,
}

fn server_time(
    opts: &Opts,
    flavor: conntop::snapshot::Flavor,
    processlist: ProcesslistSql,
) -> Result<ServerTime, String> {
    let err = |e: mysql::Error| e.to_string();
    let mut conn = Conn::new(opts.clone()).map_err(err)?;
    conn.query_drop("SET profiling_history_size = 100")
        .map_err(err)?;
    let tick_status = source::status_sql(flavor, false, true);
    let with_vars = source::status_sql(flavor, true, true);
    let status_only = source::status_sql(flavor, false, false);
    let drain = |conn: &mut Conn, sql: &str| -> Result<(), String> {
        let rows: Vec<mysql::Row> = conn.query(sql).map_err(err)?;
        std::hint::black_box(rows.len());
        Ok(())
    };
    // SHOW PROFILES cuts the text at 300 characters, and the three status
    // statements start alike: they are told apart by the order they ran in.
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        WithVariables,
        TickStatus,
        StatusOnly,
    }
    // The same two statements without profiling, timed by the client
    // (round trip and row decoding included): profiling has a cost of its own.
    let mut unprofiled_ms = Vec::new();
    for _ in 0..PROFILED {
        let t = Instant::now();
        drain(&mut conn, &tick_status)?;
        drain(&mut conn, processlist.sql())?;
        unprofiled_ms.push(ms(t.elapsed()));
    }
    conn.query_drop("SET profiling = 1").map_err(err)?;
    let mut order = vec![Kind::WithVariables];
    drain(&mut conn, &with_vars)?;
    for _ in 0..PROFILED {
        drain(&mut conn, &tick_status)?;
        order.push(Kind::TickStatus);
        drain(&mut conn, processlist.sql())?;
        drain(&mut conn, &status_only)?;
        order.push(Kind::StatusOnly);
    }
    let rows: Vec<(Value, Value, Value)> = conn.query("SHOW PROFILES").map_err(err)?;
    let mut out = ServerTime {
        status_ms: Vec::new(),
        processlist_ms: Vec::new(),
        status_cpu_ms: Vec::new(),
        processlist_cpu_ms: Vec::new(),
        status_only_ms: Vec::new(),
        with_variables_ms: 0.0,
        unprofiled_ms,
    };
    let mut order = order.into_iter();
    for (id, duration, query) in &rows {
        let secs: f64 = source::value_text(duration)
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0.0);
        let query = source::value_text(query).unwrap_or_default();
        let id = source::value_u64(id).unwrap_or(0);
        let mut cpu = || -> Result<f64, String> {
            let steps: Vec<(Value, Value, Value, Value)> = conn
                .query(format!("SHOW PROFILE CPU FOR QUERY {id}"))
                .map_err(err)?;
            let f = |v: &Value| {
                source::value_text(v)
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            Ok(steps
                .iter()
                .map(|(_, _, user, system)| f(user) + f(system))
                .sum::<f64>()
                * 1000.0)
        };
        if query == processlist.sql() {
            out.processlist_ms.push(secs * 1000.0);
            out.processlist_cpu_ms.push(cpu()?);
        } else if query.starts_with("SELECT 'S'") {
            match order.next() {
                Some(Kind::WithVariables) => out.with_variables_ms = secs * 1000.0,
                Some(Kind::TickStatus) => {
                    out.status_ms.push(secs * 1000.0);
                    out.status_cpu_ms.push(cpu()?);
                }
                Some(Kind::StatusOnly) => out.status_only_ms.push(secs * 1000.0),
                None => {}
            }
        }
    }
    conn.query_drop("SET profiling = 0").map_err(err)?;
    Ok(out)
}

/// The real binary in a tmux pane.
struct RealBinary {
    first_screen: Option<Duration>,
    cpu_pct_ticks: f64,
    cpu_pct_ns: Option<f64>,
    rss_max_mb: f64,
    hwm_mb: f64,
    statements_per_refresh: f64,
}

/// A row of the sessions table: one of the held `app` sessions, idle.
fn shows_session_row(screen: &str) -> bool {
    screen
        .lines()
        .any(|l| l.contains(" app ") && l.contains("Sleep") && l.contains("127.0.0.1:"))
}

fn questions(conn: &mut Conn) -> Result<u64, String> {
    let row: Option<(Value, Value)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Questions'")
        .map_err(|e| e.to_string())?;
    row.and_then(|(_, v)| source::value_u64(&v))
        .ok_or_else(|| "no Questions counter".to_string())
}

fn real_binary(
    bin: &Path,
    port: u16,
    measure: &mut Conn,
    ticks: u64,
) -> Result<RealBinary, String> {
    let tag = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let tmux = Tmux {
        socket: std::env::temp_dir().join(format!("conntop-bench-{tag}.tmux")),
        session: format!("bench-{tag}"),
    };
    let command = format!(
        "exec {} -h {LOOPBACK} -P {port} -u root --no-defaults --read-only",
        bin.display()
    );
    let started = Instant::now();
    let ok = tmux
        .cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            &tmux.session,
            "-x",
            &WIDTH.to_string(),
            "-y",
            &HEIGHT.to_string(),
            &command,
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err("tmux new-session failed (is tmux installed?)".to_string());
    }
    let _ = tmux
        .cmd()
        .args(["set-option", "-t", &tmux.session, "remain-on-exit", "on"])
        .status();
    let mut first_screen = None;
    let mut screen = String::new();
    while started.elapsed() < FIRST_SCREEN_LIMIT {
        screen = tmux.capture();
        if shows_session_row(&screen) {
            first_screen = Some(started.elapsed());
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let pid = tmux.pane_pid().ok_or("no tmux pane")?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "conntop" {
        return Err(format!(
            "the pane runs {:?}, not conntop; its screen:\n{screen}",
            comm.trim()
        ));
    }
    thread::sleep(WARM_UP);
    let q0 = questions(measure)?;
    let t0 = process_ticks(pid).ok_or("cannot read the binary's /proc stat")?;
    let n0 = process_cpu_ns(pid);
    let w0 = Instant::now();
    let mut rss_max = 0u64;
    while w0.elapsed() < WINDOW {
        thread::sleep(Duration::from_millis(500));
        rss_max = rss_max.max(status_kb(pid, "VmRSS").unwrap_or(0));
    }
    let t1 = process_ticks(pid).ok_or("conntop exited during the window")?;
    let n1 = process_cpu_ns(pid);
    let window = w0.elapsed().as_secs_f64();
    let q1 = questions(measure)?;
    let hwm = status_kb(pid, "VmHWM").unwrap_or(0);
    let cpu_pct_ticks = (t1 - t0) as f64 / ticks as f64 / window * 100.0;
    let cpu_pct_ns = match (n0, n1) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e9 / window * 100.0),
        _ => None,
    };
    // The second `SHOW GLOBAL STATUS` counts itself; the holders are idle.
    let refreshes = window / INTERVAL.as_secs_f64();
    Ok(RealBinary {
        first_screen,
        cpu_pct_ticks,
        cpu_pct_ns,
        rss_max_mb: rss_max as f64 / 1024.0,
        hwm_mb: hwm as f64 / 1024.0,
        statements_per_refresh: (q1 - q0).saturating_sub(1) as f64 / refreshes,
    })
}

/// Everything measured at one size.
struct Row {
    n: usize,
    inp: InProcess,
    server: ServerTime,
    real: Result<RealBinary, String>,
}

fn print_size(r: &Row) {
    let i = &r.inp;
    let s = &r.server;
    println!(
        "\n== {} held sessions ({} in the processlist, ours left out; load average {}) ==",
        r.n,
        i.sessions,
        load_average()
    );
    println!("  in-process Source (root over TCP, {POLLS} polls at 1 s):");
    println!(
        "    connect (handshake, VERSION, grants, locks)   {:8.1} ms",
        ms(i.connect)
    );
    println!(
        "    first full screen (connect..render 120x40)     {:8.1} ms",
        ms(i.first_screen)
    );
    let cpu_med = median(i.cpu_per_poll_ms.clone());
    println!(
        "    client CPU per poll (polling thread)           {:8.2} ms median, {:.2} max  = {:.2}% of a core at 1 s",
        cpu_med,
        max(&i.cpu_per_poll_ms),
        cpu_med / 10.0
    );
    println!(
        "    wall latency per poll (poll_latency)           {:8.2} ms median, {:.2} max",
        median(i.latency_ms.clone()),
        max(&i.latency_ms)
    );
    println!(
        "    statements per poll (snapshot.statements)      {:8} max (all: {:?})",
        i.statements.iter().max().copied().unwrap_or(0),
        i.statements
    );
    let st = median(s.status_ms.clone());
    let pl = median(s.processlist_ms.clone());
    println!(
        "  server time per refresh (SET profiling, separate connection, {PROFILED} runs, median; \
         profiling adds its own cost, compare the last two lines):"
    );
    println!(
        "    status + open transactions                     {st:8.2} ms (global status alone {:.2} ms; \
         {:.2} ms every 10 s with the variables)",
        median(s.status_only_ms.clone()),
        s.with_variables_ms
    );
    println!("    processlist                                    {pl:8.2} ms");
    println!(
        "    total                                          {:8.2} ms wall, {:.2} ms CPU (profile CPU_user + CPU_system)",
        st + pl,
        median(s.status_cpu_ms.clone()) + median(s.processlist_cpu_ms.clone())
    );
    println!(
        "    server process CPU per poll (/proc schedstat)  {:8.2} ms (during the in-process polls, less the idle {:.2} ms/s)",
        i.server_ms_per_poll, i.server_idle_ms_per_s
    );
    println!(
        "    both statements, profiling off, client wall    {:8.2} ms (round trips and decoding included)",
        median(s.unprofiled_ms.clone())
    );
    match &r.real {
        Ok(b) => {
            println!("  real binary (conntop --read-only in a 120x40 tmux pane):");
            match b.first_screen {
                Some(d) => println!(
                    "    first screen with session rows                 {:8.1} ms (from tmux new-session: process start included)",
                    ms(d)
                ),
                None => println!(
                    "    first screen with session rows                 not seen within {} s",
                    FIRST_SCREEN_LIMIT.as_secs()
                ),
            }
            println!(
                "    CPU over {} s                                  {:8.2} % of one core (clock ticks){}",
                WINDOW.as_secs(),
                b.cpu_pct_ticks,
                b.cpu_pct_ns
                    .map_or(String::new(), |p| format!(", {p:.2} % (schedstat ns)"))
            );
            println!(
                "    resident memory                                {:8.1} MB max VmRSS, {:.1} MB VmHWM",
                b.rss_max_mb, b.hwm_mb
            );
            println!(
                "    statements per refresh (server Questions)      {:8.2}",
                b.statements_per_refresh
            );
        }
        Err(e) => println!("  real binary: not measured: {e}"),
    }
}

fn verdict(rows: &[Row]) {
    let Some(r) = rows.iter().find(|r| r.n == TARGET_AT) else {
        return;
    };
    println!("\n== targets at {TARGET_AT} sessions, 1 s refresh ==");
    let line = |what: &str, got: String, target: String, ok: bool| {
        println!(
            "  {what:<34} {got:>12}   target {target:<10} {}",
            if ok { "MET" } else { "MISSED" }
        );
    };
    let stmts = r.inp.statements.iter().max().copied().unwrap_or(0) as f64;
    line(
        "statements per refresh (poll)",
        format!("{stmts:.0}"),
        format!("<= {TARGET_STATEMENTS:.0}"),
        stmts <= TARGET_STATEMENTS,
    );
    line(
        "first full screen (in-process)",
        format!("{:.1} ms", ms(r.inp.first_screen)),
        format!("< {} ms", TARGET_FIRST_SCREEN.as_millis()),
        r.inp.first_screen < TARGET_FIRST_SCREEN,
    );
    match &r.real {
        Ok(b) => {
            let cpu = b.cpu_pct_ns.unwrap_or(b.cpu_pct_ticks);
            line(
                "client CPU (real binary)",
                format!("{cpu:.2} %"),
                format!("< {TARGET_CPU_PCT} %"),
                cpu < TARGET_CPU_PCT,
            );
            line(
                "resident memory (real binary)",
                format!("{:.1} MB", b.hwm_mb),
                format!("< {TARGET_RSS_MB} MB"),
                b.hwm_mb < TARGET_RSS_MB,
            );
            line(
                "statements per refresh (server)",
                format!("{:.2}", b.statements_per_refresh),
                format!("<= {TARGET_STATEMENTS:.0}"),
                b.statements_per_refresh <= TARGET_STATEMENTS + 0.05,
            );
            if let Some(d) = b.first_screen {
                line(
                    "first screen (real binary)",
                    format!("{:.1} ms", ms(d)),
                    format!("< {} ms", TARGET_FIRST_SCREEN.as_millis()),
                    d < TARGET_FIRST_SCREEN,
                );
            }
        }
        Err(e) => println!("  real binary not measured: {e}"),
    }
}

fn run() -> Result<(), String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_conntop"));
    if !bin.exists() {
        return Err(format!(
            "{} is missing: run `cargo build --release` first",
            bin.display()
        ));
    }
    let largest = *SIZES.iter().max().unwrap_or(&0) as u64;
    let files = ensure_open_files(largest + 200)?;
    // mariadbd asks for max_connections * 5 descriptors; give it what we have.
    let server_files = files.min(1 << 20);
    println!("conntop poll cost against a throwaway server, 127.0.0.1 only");
    println!("binary: {}", bin.display());
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxOptions {
        max_connections: MAX_CONNECTIONS,
        extra_args: vec![format!("--open-files-limit={server_files}")],
        ..SandboxOptions::default()
    })
    .map_err(|e| format!("start the sandbox: {e}"))?;
    let port = sandbox.port();
    let opts: Opts = sandbox.root_opts().into();
    let endpoint = format!("{LOOPBACK}:{port}");
    let mut measure =
        Conn::new(opts.clone()).map_err(|e| format!("measurement connection: {e}"))?;
    let (version, max_conn, open_files): (String, u64, u64) = measure
        .query_first("SELECT VERSION(), @@max_connections, @@open_files_limit")
        .map_err(|e| e.to_string())?
        .ok_or("no server variables")?;
    println!(
        "server: {version} on {endpoint} (pid {}), max_connections {max_conn}, open_files_limit {open_files}; started in {:.1} s",
        sandbox.pid(),
        started.elapsed().as_secs_f64()
    );
    if max_conn < MAX_CONNECTIONS as u64 {
        println!(
            "  note: the server lowered max_connections (open files limit); the largest size may not fit"
        );
    }
    let probe =
        Source::connect(std::slice::from_ref(&opts), &endpoint).map_err(|e| e.to_string())?;
    let flavor = probe.server().flavor;
    let processlist = ProcesslistSql::for_server(probe.server());
    drop(probe);
    let ticks = clock_ticks();

    let mut holders: Vec<Holder> = Vec::new();
    let mut held = 0;
    let mut rows = Vec::new();
    for n in SIZES {
        let t = Instant::now();
        let more = n - held;
        holders.push(Holder::start(port, more)?);
        held = n;
        println!(
            "\n({n} idle sessions held as `app`; opening {more} more took {:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let inp = in_process(&opts, &endpoint, sandbox.pid(), ticks)?;
        let server = server_time(&opts, flavor, processlist)?;
        let real = real_binary(bin, port, &mut measure, ticks);
        let row = Row {
            n,
            inp,
            server,
            real,
        };
        print_size(&row);
        rows.push(row);
    }

    println!("\n== summary ==");
    println!(
        "(cpu/poll: polling thread; srv cpu: server process per poll (/proc); srv prof: SET profiling \
         wall, which adds its own cost; bin: the real binary)"
    );
    println!(
        "{:>6} {:>10} {:>9} {:>9} {:>10} {:>11} {:>10} {:>8} {:>8} {:>8} {:>9}",
        "held",
        "cpu/poll",
        "latency",
        "srv cpu",
        "srv prof",
        "1st screen",
        "stmts/ref",
        "bin cpu",
        "bin rss",
        "bin hwm",
        "bin 1st"
    );
    for r in &rows {
        let (cpu, rss, hwm, first) = match &r.real {
            Ok(b) => (
                format!("{:.2}%", b.cpu_pct_ns.unwrap_or(b.cpu_pct_ticks)),
                format!("{:.1}MB", b.rss_max_mb),
                format!("{:.1}MB", b.hwm_mb),
                b.first_screen
                    .map_or("-".to_string(), |d| format!("{:.0}ms", ms(d))),
            ),
            Err(_) => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>6} {:>8.2}ms {:>7.2}ms {:>7.2}ms {:>8.2}ms {:>9.1}ms {:>10} {:>8} {:>8} {:>8} {:>9}",
            r.n,
            median(r.inp.cpu_per_poll_ms.clone()),
            median(r.inp.latency_ms.clone()),
            r.inp.server_ms_per_poll,
            median(r.server.status_ms.clone()) + median(r.server.processlist_ms.clone()),
            ms(r.inp.first_screen),
            r.inp.statements.iter().max().copied().unwrap_or(0),
            cpu,
            rss,
            hwm,
            first
        );
    }
    verdict(&rows);

    for mut h in holders {
        h.stop();
    }
    drop(measure);
    drop(sandbox);
    println!(
        "\n(total {:.0} s; server, holders and tmux stopped)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
