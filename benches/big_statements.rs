//! What a poll costs when every session runs a huge statement (a dump
//! restore with big `INSERT`s), against a real throwaway MariaDB/MySQL.
//!
//! A child process (this binary re-executed with `CONNTOP_BENCH_BIG`) holds
//! 50 sessions, each running `SELECT SLEEP(300) /* <N bytes of 'x'> */`:
//! a control round with 200-byte statements, then 10 MB ones. Each round is
//! polled from this process every 300 ms with `SHOW PROCESSLIST` (what the
//! poller sends) and `Source::poll()`; the 10 MB round also with
//! `Source::statement(id)` and `SHOW FULL PROCESSLIST` (what it used to
//! send). Processlist rows are decoded as `Source::read_sessions` does.
//!
//! Bytes per poll: the server's `Bytes_sent` over the polls (read on another
//! connection, less what that read costs). Client CPU: the polling thread's
//! (`/proc/thread-self/schedstat`). RSS: this process's after each case
//! (`SHOW FULL` last). Sessions, holder (by PID) and server are ended at the
//! end. Takes under a minute: `cargo bench --bench big_statements`.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use conntop::sandbox::{self, Sandbox, SandboxOptions};
use conntop::snapshot::LISTED_INFO_CHARS;
use conntop::source::{self, ProcesslistLayout, ProcesslistSql, Source};

const SESSIONS: usize = 50;
const BIG: usize = 10_000_000;
const SMALL: usize = 200;
/// Polls per case; `SHOW FULL PROCESSLIST` ships ~500 MB a poll, so fewer.
const POLLS: usize = 20;
const FULL_POLLS: usize = 5;
const STATEMENT_READS: usize = 5;
/// Poll cadence: above `TRX_EVERY`, so every `poll()` is a whole tick.
const INTERVAL: Duration = Duration::from_millis(300);
/// How long the held statements sleep (they are killed before).
const HOLD_SLEEP: Duration = Duration::from_secs(300);
const READY_LIMIT: Duration = Duration::from_secs(60);
/// Room for a 10 MB statement and a 10 MB processlist row.
const MAX_PACKET: &str = "--max-allowed-packet=64M";
/// Columns other than the statement, per `SHOW PROCESSLIST` row (id, user,
/// host, db, command, time, state, progress, with their packet headers).
const OTHER_COLUMNS: f64 = 150.0;
const HOLD_ENV: &str = "CONNTOP_BENCH_BIG";
const FULL: &str = "SHOW FULL PROCESSLIST";

fn main() {
    if let Ok(spec) = std::env::var(HOLD_ENV) {
        std::process::exit(hold(&spec));
    }
    if let Err(e) = run() {
        eprintln!("big_statements bench: {e}");
        std::process::exit(1);
    }
}

/// The child: `n` threads, each running one held statement as `app`, until
/// stdin closes.
fn hold(spec: &str) -> i32 {
    let parts: Vec<usize> = spec.split(':').filter_map(|p| p.parse().ok()).collect();
    let [port, n, bytes] = parts[..] else {
        eprintln!("holder: {HOLD_ENV} must be <port>:<sessions>:<bytes>, got {spec:?}");
        return 2;
    };
    let opts = OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .tcp_port(port as u16)
        .user(Some(sandbox::APP.user))
        .pass(Some(sandbox::APP.password))
        .prefer_socket(false);
    let sql = format!(
        "SELECT SLEEP({}) /* {} */",
        HOLD_SLEEP.as_secs(),
        "x".repeat(bytes)
    );
    let sql: Arc<str> = sql.into();
    for _ in 0..n {
        let (opts, sql) = (opts.clone(), Arc::clone(&sql));
        thread::spawn(move || {
            if let Ok(mut conn) = Conn::new(opts) {
                let _ = conn.query_drop(&*sql);
            }
        });
    }
    // Until the parent closes stdin, or ends.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    0
}

/// Starts a holder child and waits until its statements run.
fn start_holder(port: u16, bytes: usize, m: &mut Conn) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("find this binary: {e}"))?;
    let child = Command::new(exe)
        .env(HOLD_ENV, format!("{port}:{SESSIONS}:{bytes}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("start the holder: {e}"))?;
    // information_schema.PROCESSLIST cuts INFO at 65,535 bytes.
    let count = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE USER = 'app' AND LENGTH(INFO) >= {}",
        bytes.min(65_535)
    );
    let mut why = format!("{SESSIONS} held statements not running within {READY_LIMIT:?}");
    let deadline = Instant::now() + READY_LIMIT;
    while Instant::now() < deadline {
        match m.query_first::<u64, _>(&count) {
            Ok(Some(n)) if n == SESSIONS as u64 => return Ok(child),
            Ok(_) => thread::sleep(Duration::from_millis(100)),
            Err(e) => {
                why = e.to_string();
                break;
            }
        }
    }
    stop_holder(child, m);
    Err(why)
}

/// Kills the held sessions, closes the holder's stdin and ends it by PID.
fn stop_holder(mut child: Child, m: &mut Conn) {
    let sql = "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app'";
    for id in m.query::<u64, _>(sql).unwrap_or_default() {
        let _ = m.query_drop(format!("KILL {id}"));
    }
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !matches!(child.try_wait(), Ok(Some(_))) {
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`), after a
/// short sleep so the kernel has brought it up to date.
fn thread_cpu() -> Result<Duration, String> {
    thread::sleep(Duration::from_millis(2));
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text.split_whitespace().next().and_then(|n| n.parse().ok());
    ns.map(Duration::from_nanos)
        .ok_or("cannot read /proc/thread-self/schedstat".into())
}

/// A `/proc/self/status` field in MB (`VmRSS`, `VmHWM`).
fn status_mb(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

fn bytes_sent(m: &mut Conn) -> Result<u64, String> {
    let row: Option<(Value, Value)> = m
        .query_first("SHOW GLOBAL STATUS LIKE 'Bytes_sent'")
        .map_err(|e| e.to_string())?;
    row.and_then(|(_, v)| source::value_u64(&v))
        .ok_or_else(|| "no Bytes_sent counter".to_string())
}

/// One processlist read, decoded like `Source::read_sessions`; returns the
/// longest statement received, in characters.
fn processlist(conn: &mut Conn, sql: &str) -> Result<usize, String> {
    let mut result = conn.query_iter(sql).map_err(|e| e.to_string())?;
    let names: Vec<String> = result
        .columns()
        .as_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let layout = ProcesslistLayout::from_names(names.iter().map(String::as_str));
    let mut sessions = Vec::new();
    for row in result.by_ref() {
        let values = row.map_err(|e| e.to_string())?.unwrap();
        sessions.extend(layout.decode(&values));
    }
    Ok(longest(&sessions))
}

/// The longest statement in `sessions`, in characters.
fn longest(sessions: &[conntop::snapshot::Session]) -> usize {
    let infos = sessions.iter().filter_map(|s| s.info.as_deref());
    infos.map(|i| i.chars().count()).max().unwrap_or(0)
}

/// What one poll of a case sends.
#[derive(Clone, Copy)]
enum Ask {
    /// `SHOW [FULL] PROCESSLIST` on a plain root connection.
    Processlist(&'static str),
    Poll,
    Statement(u64),
}

impl Ask {
    fn name(self) -> String {
        match self {
            Ask::Processlist(sql) => format!("`{sql}`"),
            Ask::Poll => "`Source::poll()`".into(),
            Ask::Statement(_) => "`Source::statement(id)`, one session".into(),
        }
    }

    fn polls(self) -> usize {
        match self {
            Ask::Processlist(FULL) => FULL_POLLS,
            Ask::Statement(_) => STATEMENT_READS,
            _ => POLLS,
        }
    }
}

/// Figures for one case.
struct Case {
    ask: Ask,
    statement: usize,
    bytes: f64,
    cpu_ms: f64,
    wall_ms: f64,
    rss_mb: f64,
    longest: usize,
}

/// The connections: `m` reads `Bytes_sent`, the others are measured.
struct Clients {
    m: Conn,
    plain: Conn,
    src: Source,
    /// What one read of `Bytes_sent` adds to it.
    base: u64,
}

impl Clients {
    /// One read; returns the longest statement received, in characters.
    fn once(&mut self, ask: Ask) -> Result<usize, String> {
        let e = |e: conntop::source::SourceError| e.to_string();
        Ok(match ask {
            Ask::Processlist(sql) => processlist(&mut self.plain, sql)?,
            Ask::Poll => longest(&self.src.poll().map_err(e)?.sessions),
            Ask::Statement(id) => self
                .src
                .statement(id)
                .map_err(e)?
                .map_or(0, |t| t.chars().count()),
        })
    }

    /// Runs `ask` [`Ask::polls`] times at [`INTERVAL`] and measures it.
    fn measure(&mut self, ask: Ask, statement: usize) -> Result<Case, String> {
        let (mut walls, mut longest, mut cpu) = (Vec::new(), 0, Duration::ZERO);
        let b0 = bytes_sent(&mut self.m)?;
        for _ in 0..ask.polls() {
            let next = Instant::now() + INTERVAL;
            let c0 = thread_cpu()?;
            let t = Instant::now();
            longest = longest.max(self.once(ask)?);
            walls.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu += thread_cpu()?.saturating_sub(c0);
            thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        let sent = bytes_sent(&mut self.m)?.saturating_sub(b0 + self.base);
        walls.sort_by(f64::total_cmp);
        let polls = ask.polls() as f64;
        Ok(Case {
            ask,
            statement,
            bytes: sent as f64 / polls,
            cpu_ms: cpu.as_secs_f64() * 1000.0 / polls,
            wall_ms: walls[walls.len() / 2],
            rss_mb: status_mb("VmRSS"),
            longest,
        })
    }
}

fn size(bytes: f64) -> String {
    match bytes {
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e4 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

fn run() -> Result<(), String> {
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxOptions {
        extra_args: vec![MAX_PACKET.to_string()],
        ..SandboxOptions::default()
    })
    .map_err(|e| format!("start the sandbox: {e}"))?;
    let port = sandbox.port();
    let opts: Opts = sandbox.root_opts().into();
    let endpoint = format!("127.0.0.1:{port}");
    let err = |e: mysql::Error| e.to_string();
    let src = Source::connect(std::slice::from_ref(&opts), &endpoint);
    let mut src = src.map_err(|e| e.to_string())?;
    let mut m = Conn::new(opts.clone()).map_err(err)?;
    let version: Option<String> = m.query_first("SELECT VERSION()").map_err(err)?;
    let version = version.unwrap_or_default();
    println!(
        "{SESSIONS} sessions running big statements on {version} at {endpoint} (pid {})",
        sandbox.pid()
    );
    // What one read of `Bytes_sent` adds to it: two reads back to back.
    let base = bytes_sent(&mut m)?;
    let base = bytes_sent(&mut m)?.saturating_sub(base);
    src.poll().map_err(|e| e.to_string())?; // the first poll reads the variables too
    let plain = Conn::new(opts.clone()).map_err(err)?;
    let mut c = Clients {
        m,
        plain,
        src,
        base,
    };
    let show = ProcesslistSql::Show.sql();
    let mut cases = Vec::new();
    for bytes in [SMALL, BIG] {
        let holder = start_holder(port, bytes, &mut c.m)?;
        let mut asks = vec![Ask::Processlist(show), Ask::Poll];
        if bytes == BIG {
            let snap = c.src.poll().map_err(|e| e.to_string())?;
            let app = snap.sessions.iter().find(|s| s.user == sandbox::APP.user);
            asks.push(Ask::Statement(app.ok_or("no app session")?.id));
            asks.push(Ask::Processlist(FULL));
        }
        let result = asks.into_iter().try_for_each(|ask| {
            cases.push(c.measure(ask, bytes)?);
            Ok::<_, String>(())
        });
        stop_holder(holder, &mut c.m);
        result?;
    }

    println!(
        "\n| case | each statement | bytes per poll | per session | client CPU per poll | wall per poll | RSS after | longest statement received |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for k in &cases {
        let per_session = match k.ask {
            Ask::Statement(_) => "-".to_string(),
            _ => size(k.bytes / SESSIONS as f64),
        };
        println!(
            "| {} | {} | {} | {per_session} | {:.2} ms | {:.2} ms | {:.1} MB | {} chars |",
            k.ask.name(),
            size(k.statement as f64),
            size(k.bytes),
            k.cpu_ms,
            k.wall_ms,
            k.rss_mb,
            k.longest
        );
    }
    println!(
        "(less {base} B a `Bytes_sent` read costs; VmHWM {:.1} MB)",
        status_mb("VmHWM")
    );
    let [small, big] = [0, 2].map(|i| cases[i].bytes / SESSIONS as f64);
    let bound = LISTED_INFO_CHARS as f64 + OTHER_COLUMNS;
    let met = big <= bound && (big - small).abs() < 16.0 && cases[2].longest <= LISTED_INFO_CHARS;
    println!(
        "target: `{show}` under {bound:.0} B a session a poll, whatever the statement size: \
         {small:.0} B with {} statements, {big:.0} B with {}, longest {} characters: {}",
        size(SMALL as f64),
        size(BIG as f64),
        cases[2].longest,
        if met { "MET" } else { "MISSED" }
    );
    drop((c, sandbox));
    println!(
        "(total {:.0} s; sessions killed, holder and server stopped)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
