//! What watching a fleet costs: the real binary on 100 targets at a 1 s
//! interval.
//!
//! Four throwaway servers each hold 20 idle `app` sessions (opened by this
//! process, which is not what is measured); a `--hosts` file lists each
//! server 25 times (`127.0.0.1:<port>`, the same port repeated), so conntop
//! runs 100 pollers with 100 connections. `conntop --hosts FILE --read-only`
//! runs in a 120x40 tmux pane; measured from `/proc`: the time to the first
//! fleet frame and to 100 live rows, then CPU % of one core and resident
//! memory over a window after a warm-up, threads, and statements per server
//! per refresh (the servers' `Questions`). Then the same with one more
//! target that accepts TCP and never answers, to show it costs nothing.
//! Everything is ended by its own PID or name at the end. Takes about 2 min.
//!
//! Run with `cargo bench --bench fleet` (it builds `conntop` as well).

#[path = "support/mod.rs"]
mod support;

use support::{Tmux, clock_ticks, load_average};

use std::net::TcpListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use conntop::sandbox::{APP, Sandbox, SandboxOptions};
use conntop::source;

/// Throwaway servers, and how often each is listed.
const SERVERS: usize = 4;
const REPEAT: usize = 25;
/// Idle sessions each server holds.
const IDLE: usize = 20;
/// Warm-up after all rows are live, then the measured window.
const WARM_UP: Duration = Duration::from_secs(5);
const WINDOW: Duration = Duration::from_secs(30);
/// Longest wait for every row to be live.
const LIVE_LIMIT: Duration = Duration::from_secs(30);
const INTERVAL: Duration = Duration::from_secs(1);
/// The targets.
const TARGET_CPU_PCT: f64 = 5.0;
const TARGET_RSS_MB: f64 = 100.0;
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

fn main() {
    if let Err(e) = run() {
        eprintln!("fleet bench: {e}");
        std::process::exit(1);
    }
}

/// utime + stime of a process, all its threads, in clock ticks.
fn process_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
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

/// A `/proc/<pid>/status` field (`VmRSS` in kB, `Threads`).
fn status_field(pid: u32, field: &str) -> Option<u64> {
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

fn questions(conn: &mut Conn) -> Result<u64, String> {
    let row: Option<(Value, Value)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Questions'")
        .map_err(|e| e.to_string())?;
    row.and_then(|(_, v)| source::value_u64(&v))
        .ok_or_else(|| "no Questions counter".to_string())
}

/// What one run measured.
struct Measured {
    targets: usize,
    first_frame: Duration,
    all_live: Duration,
    cpu_pct_ticks: f64,
    cpu_pct_ns: Option<f64>,
    rss_max_mb: f64,
    hwm_mb: f64,
    threads: u64,
    statements_per_server: f64,
}

/// `live` rows expected on screen: `N live` in the totals line.
fn live_rows(screen: &str) -> Option<usize> {
    let first = screen.lines().next()?;
    let at = first.find(" live")?;
    first[..at].rsplit(' ').next()?.parse().ok()
}

fn measure(
    bin: &Path,
    hosts: &Path,
    targets: usize,
    live: usize,
    measure_conns: &mut [Conn],
    ticks: u64,
) -> Result<Measured, String> {
    let tag = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let tmux = Tmux {
        socket: std::env::temp_dir().join(format!("conntop-fleet-bench-{tag}.tmux")),
        session: format!("fleet-{tag}"),
    };
    let command = format!(
        "exec {} --hosts {} -u root --no-defaults --read-only --connect-timeout 2s",
        bin.display(),
        hosts.display()
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
    let mut first_frame = None;
    let mut all_live = None;
    let mut screen = String::new();
    while started.elapsed() < LIVE_LIMIT {
        screen = tmux.capture();
        if first_frame.is_none() && screen.starts_with("conntop fleet") {
            first_frame = Some(started.elapsed());
        }
        if live_rows(&screen) == Some(live) {
            all_live = Some(started.elapsed());
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let (Some(first_frame), Some(all_live)) = (first_frame, all_live) else {
        return Err(format!(
            "{live} live rows never showed; the screen:\n{screen}"
        ));
    };
    let pid = tmux.pane_pid().ok_or("no tmux pane")?;
    thread::sleep(WARM_UP);
    let q0: Vec<u64> = measure_conns
        .iter_mut()
        .map(questions)
        .collect::<Result<_, _>>()?;
    let t0 = process_ticks(pid).ok_or("cannot read conntop's /proc stat")?;
    let n0 = process_cpu_ns(pid);
    let w0 = Instant::now();
    let mut rss_max = 0u64;
    while w0.elapsed() < WINDOW {
        thread::sleep(Duration::from_millis(500));
        rss_max = rss_max.max(status_field(pid, "VmRSS").unwrap_or(0));
    }
    let t1 = process_ticks(pid).ok_or("conntop exited during the window")?;
    let n1 = process_cpu_ns(pid);
    let window = w0.elapsed().as_secs_f64();
    let q1: Vec<u64> = measure_conns
        .iter_mut()
        .map(questions)
        .collect::<Result<_, _>>()?;
    // Each measurement's own SHOW GLOBAL STATUS counts once.
    let statements: u64 = q0
        .iter()
        .zip(&q1)
        .map(|(a, b)| b.saturating_sub(*a).saturating_sub(1))
        .sum();
    let refreshes = window / INTERVAL.as_secs_f64();
    Ok(Measured {
        targets,
        first_frame,
        all_live,
        cpu_pct_ticks: (t1 - t0) as f64 / ticks as f64 / window * 100.0,
        cpu_pct_ns: match (n0, n1) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e9 / window * 100.0),
            _ => None,
        },
        rss_max_mb: rss_max as f64 / 1024.0,
        hwm_mb: status_field(pid, "VmHWM").unwrap_or(0) as f64 / 1024.0,
        threads: status_field(pid, "Threads").unwrap_or(0),
        statements_per_server: statements as f64 / (live as f64) / refreshes,
    })
}

fn print(m: &Measured) {
    let ns = m.cpu_pct_ns.map_or("?".to_string(), |p| format!("{p:.2}%"));
    println!(
        "| {} | {:.0} ms | {:.2} s | {ns} ({:.2}% by ticks) | {:.1} MB (peak {:.1} MB) | {} | {:.2} |",
        m.targets,
        m.first_frame.as_secs_f64() * 1000.0,
        m.all_live.as_secs_f64(),
        m.cpu_pct_ticks,
        m.rss_max_mb,
        m.hwm_mb,
        m.threads,
        m.statements_per_server,
    );
}

fn run() -> Result<(), String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_conntop"));
    if !bin.exists() {
        return Err(format!("{} is missing: build it first", bin.display()));
    }
    println!("conntop on a fleet: {SERVERS} throwaway servers x {REPEAT} targets each, 127.0.0.1");
    println!("binary: {}; load average {}", bin.display(), load_average());
    let started = Instant::now();
    let sandboxes: Vec<Sandbox> = thread::scope(|s| {
        let starts: Vec<_> = (0..SERVERS)
            .map(|_| {
                s.spawn(|| {
                    Sandbox::start(SandboxOptions {
                        max_connections: 200,
                        ..SandboxOptions::default()
                    })
                })
            })
            .collect();
        starts
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a sandbox start panicked".to_string())?
                    .map_err(|e| format!("start a sandbox: {e}"))
            })
            .collect::<Result<_, String>>()
    })?;
    println!(
        "servers on ports {:?}, started in {:.1} s",
        sandboxes.iter().map(Sandbox::port).collect::<Vec<_>>(),
        started.elapsed().as_secs_f64()
    );
    let mut held = Vec::new();
    for sb in &sandboxes {
        for _ in 0..IDLE {
            held.push(Conn::new(sb.opts(APP)).map_err(|e| format!("idle session: {e}"))?);
        }
    }
    let mut measure_conns: Vec<Conn> = sandboxes
        .iter()
        .map(|sb| Conn::new(sb.root_opts()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let dir = std::env::temp_dir().join(format!("conntop-fleet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let hosts = dir.join("hosts");
    let mut text = String::from("# fleet bench: each server listed many times\n");
    for _ in 0..REPEAT {
        for sb in &sandboxes {
            text.push_str(&format!("127.0.0.1:{}\n", sb.port()));
        }
    }
    std::fs::write(&hosts, &text).map_err(|e| e.to_string())?;
    let ticks = clock_ticks();
    let n = SERVERS * REPEAT;

    println!();
    println!(
        "| targets | first fleet frame | all rows live | CPU of one core | memory (RSS) | threads | statements per server per refresh |"
    );
    println!("|---|---|---|---|---|---|---|");
    let plain = measure(bin, &hosts, n, n, &mut measure_conns, ticks)?;
    print(&plain);

    // One more target that accepts TCP and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let silent_port = silent.local_addr().map_err(|e| e.to_string())?.port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let hung = dir.join("hosts-hung");
    std::fs::write(&hung, format!("{text}127.0.0.1:{silent_port}\n")).map_err(|e| e.to_string())?;
    let with_hung = measure(bin, &hung, n + 1, n, &mut measure_conns, ticks)?;
    print(&with_hung);

    println!();
    let cpu = plain.cpu_pct_ns.unwrap_or(plain.cpu_pct_ticks);
    println!(
        "target at {n} targets and a 1 s interval: CPU <= {TARGET_CPU_PCT}% of a core ({}), RSS <= {TARGET_RSS_MB} MB ({})",
        if cpu <= TARGET_CPU_PCT {
            "met"
        } else {
            "MISSED"
        },
        if plain.rss_max_mb <= TARGET_RSS_MB {
            "met"
        } else {
            "MISSED"
        },
    );
    drop(held);
    drop(measure_conns);
    for mut sb in sandboxes {
        let _ = sb.stop();
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
