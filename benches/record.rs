//! What recording and replaying cost, at 2,000 sessions, mostly idle,
//! sampled every second. Prints figures next to their targets.
//!
//! 1. In this process, with the library's writer on synthetic snapshots
//!    (2,000 sessions; "steady": all idle, only their times advance;
//!    "active": 40 of them switch between a query and Sleep, 5 reconnect
//!    every minute): CPU per snapshot and bytes per second over one hour of
//!    recorded time (3,600 snapshots, written as fast as they encode).
//! 2. A synthetic 24-hour recording ("active", 86,400 snapshots, hourly
//!    files): the replay's first screen (open, seek, the first frame through
//!    the source thread, the app's update and one 120x40 render), then
//!    jumps to 30 random moments (seek with ten minutes of history, the
//!    snapshot, findings, update, render), then `--summary`.
//! 3. The real binary: `conntop record -i 1s` against a throwaway server
//!    holding 2,000 idle sessions (held by a child process: this binary
//!    re-executed with `CONNTOP_BENCH_HOLD=<port>:<n>`), after a 5 s
//!    warm-up, over 30 s: CPU % of one core and RSS from `/proc`,
//!    statements per tick from the server's `Questions`, bytes written per
//!    second (extrapolated to an hour: the sessions are steady).
//!
//! Everything runs on 127.0.0.1 and under the temp dir; the server, the
//! holder and the recorder are ended by their own PID. About 3 minutes.
//!
//! Run with `cargo bench --bench record` (it builds `conntop` as well).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use conntop::app::{self, App, Event, Options};
use conntop::command::Reply;
use conntop::record::model::{from_ms, to_ms};
use conntop::record::{Dir, Writer, WriterOptions};
use conntop::replay::{Player, ReplayFrame, output, source};
use conntop::sandbox::{self, Sandbox, SandboxOptions};
use conntop::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};
use conntop::thresholds::Thresholds;
use conntop::ui;

const SESSIONS: usize = 2_000;
const BUSY_EVERY: usize = 50;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
const JUMPS: usize = 30;
const WARM_UP: Duration = Duration::from_secs(5);
const WINDOW: Duration = Duration::from_secs(30);
const HOLD_ENV: &str = "CONNTOP_BENCH_HOLD";
const HOLD_THREADS: usize = 4;
const HOLD_LIFETIME: Duration = Duration::from_secs(15 * 60);
const LOOPBACK: &str = "127.0.0.1";

const TARGET_CPU_PCT: f64 = 0.5;
const TARGET_RSS_MB: f64 = 20.0;
const TARGET_STATEMENTS: f64 = 2.0;
const TARGET_BYTES_PER_S: f64 = 1000.0;
const TARGET_FIRST_SCREEN_MS: f64 = 500.0;
const TARGET_JUMP_MS: f64 = 50.0;

fn main() {
    if let Ok(spec) = std::env::var(HOLD_ENV) {
        std::process::exit(hold(&spec));
    }
    if let Err(e) = run() {
        eprintln!("record bench: {e}");
        std::process::exit(1);
    }
}

// --- synthetic snapshots ---------------------------------------------------------

/// 2,000 sessions that age one second per tick; in "active" mode some work.
struct Synth {
    snap: Snapshot,
    active: bool,
    tick: u64,
    next_id: u64,
}

fn session(id: u64, i: usize) -> Session {
    Session {
        id,
        user: format!("app{}", i % 8),
        // 40 application servers, 50 pooled connections each.
        host: format!("10.0.0.{}:{}", 10 + i % 40, 40_000 + i),
        db: Some("shop".to_string()),
        command: "Sleep".to_string(),
        time_ms: (i as u64 % 600) * 1000,
        ..Session::default()
    }
}

impl Synth {
    fn new(start_ms: i64, active: bool) -> Synth {
        let sessions: Vec<Session> = (0..SESSIONS)
            .map(|i| session(1_000 + i as u64, i))
            .collect();
        Synth {
            snap: Snapshot {
                seq: 0,
                taken_at: from_ms(start_ms),
                server: ServerInfo::from_version("10.11.6-MariaDB-0+deb12u1"),
                variables: Variables {
                    max_connections: 3_000,
                    wait_timeout: 28_800,
                    interactive_timeout: 28_800,
                    ..Variables::default()
                },
                status: Status {
                    threads_connected: SESSIONS as u64 + 1,
                    threads_running: 1,
                    max_used_connections: SESSIONS as u64 + 1,
                    connections: 5_000,
                    uptime_s: 100_000,
                    ..Status::default()
                },
                sessions,
                own_id: 1,
                privileges: Privileges {
                    process: true,
                    kill_any: true,
                    kill_only_user: None,
                },
                poll_latency: Duration::from_millis(3),
                statements: 2,
                endpoint: "db1:3306".to_string(),
            },
            active,
            tick: 0,
            next_id: 1_000 + SESSIONS as u64,
        }
    }

    /// The next second's snapshot.
    fn next(&mut self) -> &Snapshot {
        self.tick += 1;
        let t = self.tick;
        let s = &mut self.snap;
        s.seq += 1;
        s.taken_at += Duration::from_secs(1);
        s.status.uptime_s += 1;
        for x in &mut s.sessions {
            x.time_ms += 1000;
        }
        if self.active {
            let mut running = 1;
            for (i, x) in s
                .sessions
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| i % BUSY_EVERY == 0)
            {
                // Each busy session runs a 2-4 s query every 10 s or so.
                let phase = (t + i as u64 / BUSY_EVERY as u64 * 3) % 10;
                if phase == 0 {
                    x.command = "Query".to_string();
                    x.state = "Sending data".to_string();
                    x.info = Some(format!(
                        "SELECT * FROM orders WHERE customer_id = {}",
                        t % 997
                    ));
                    x.time_ms = 0;
                } else if phase == 3 && x.command == "Query" {
                    x.command = "Sleep".to_string();
                    x.state = String::new();
                    x.info = None;
                    x.time_ms = 0;
                }
                if x.command == "Query" {
                    running += 1;
                }
            }
            s.status.threads_running = running;
            if t % 60 == 0 {
                // Five clients reconnect.
                for k in 0..5 {
                    let i = ((t / 60) as usize * 5 + k) % SESSIONS;
                    self.next_id += 1;
                    s.sessions[i] = session(self.next_id, i);
                    s.sessions[i].time_ms = 0;
                    s.status.connections += 1;
                }
            }
        }
        &self.snap
    }
}

/// Bytes of the files of a directory.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Writes `ticks` seconds; returns (CPU per snapshot, bytes per second).
fn write(
    dir: &Path,
    ticks: i64,
    active: bool,
    opts: WriterOptions,
) -> Result<(Duration, f64), String> {
    let start_ms = to_ms(SystemTime::now()) / 1000 * 1000 - ticks * 1000;
    let mut synth = Synth::new(start_ms, active);
    let mut w = Writer::new(Dir::create(dir).map_err(|e| e.to_string())?, opts);
    let mut cpu = Duration::ZERO;
    for _ in 0..ticks {
        let snap = synth.next();
        let before = thread_cpu();
        for e in w.append(snap) {
            if matches!(e, conntop::record::WriterEvent::Failed(_)) {
                return Err(e.to_string());
            }
        }
        cpu += thread_cpu().saturating_sub(before);
    }
    w.close();
    Ok((cpu / ticks as u32, dir_bytes(dir) as f64 / ticks as f64))
}

struct Screen {
    term: Terminal<TestBackend>,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            term: Terminal::new(TestBackend::new(120, 40)).expect("a test terminal"),
        }
    }

    fn draw(&mut self, app: &App) {
        let _ = self.term.draw(|f| ui::render(app, f));
    }
}

fn replay_app() -> App {
    let mut app = App::new(Options {
        thresholds: Thresholds::default(),
        interval: Duration::from_secs(1),
        ..Options::default()
    });
    app.start_replay();
    app::update(&mut app, Event::Resize(120, 40));
    app
}

/// Open to first screen, through the source thread as the dashboard does.
fn first_screen(dir: &Path) -> Result<Duration, String> {
    let began = Instant::now();
    let player = Player::open(dir)?;
    let handle = source::spawn(player, Thresholds::default(), None);
    let reply = handle
        .link
        .replies
        .recv_timeout(Duration::from_secs(30))
        .map_err(|e| format!("no first frame: {e}"))?;
    let mut app = replay_app();
    app::update(&mut app, Event::Reply(reply));
    Screen::new().draw(&app);
    let took = began.elapsed();
    handle.stop();
    Ok(took)
}

/// Jumps to random moments: seek, snapshot, update (findings), render.
fn jumps(dir: &Path) -> Result<Vec<f64>, String> {
    let mut p = Player::open(dir)?;
    let (first, last) = p.span();
    let mut app = replay_app();
    let mut screen = Screen::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::new();
    for _ in 0..JUMPS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let t = first + (seed % (last - first).max(1) as u64) as i64;
        let began = Instant::now();
        p.seek(t).map_err(|e| e.to_string())?;
        let m = p.moment();
        let frame = ReplayFrame {
            at: m.at,
            snapshot: m.snapshot,
            down: m.down,
            history: Some(p.history().clone()),
            baseline: None,
            first: from_ms(first),
            last: from_ms(last),
            speed: None,
            message: None,
        };
        app::update(&mut app, Event::Reply(Reply::Replay(Box::new(frame))));
        screen.draw(&app);
        out.push(ms(began.elapsed()));
    }
    Ok(out)
}

// --- the real binary ---------------------------------------------------------------

/// Opens `n` idle sessions as `app`, prints `ready <n>`, holds them until
/// stdin closes.
fn hold(spec: &str) -> i32 {
    let Some((port, n)) = spec
        .split_once(':')
        .and_then(|(p, n)| Some((p.parse::<u16>().ok()?, n.parse::<usize>().ok()?)))
    else {
        return 2;
    };
    let opts = OptsBuilder::new()
        .ip_or_hostname(Some(LOOPBACK))
        .tcp_port(port)
        .user(Some(sandbox::APP.user))
        .pass(Some(sandbox::APP.password))
        .db_name(Some(sandbox::APP_DATABASE))
        .prefer_socket(false);
    let opened: Result<Vec<Vec<Conn>>, String> = thread::scope(|scope| {
        let workers: Vec<_> = (0..HOLD_THREADS)
            .map(|t| {
                let count = n / HOLD_THREADS + usize::from(t < n % HOLD_THREADS);
                let opts = opts.clone();
                scope.spawn(move || {
                    (0..count)
                        .map(|_| Conn::new(opts.clone()).map_err(|e| e.to_string()))
                        .collect::<Result<Vec<Conn>, String>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a holder thread panicked".into()))
            })
            .collect()
    });
    let Ok(conns) = opened else {
        println!("failed");
        return 1;
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

struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    fn start(port: u16, n: usize) -> Result<Holder, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .env(HOLD_ENV, format!("{port}:{n}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start a session holder: {e}"))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let holder = Holder { child, stdin };
        if line.starts_with("ready") {
            Ok(holder)
        } else {
            Err(format!(
                "the holder could not open {n} sessions: {}",
                line.trim()
            ))
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
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

fn process_cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let text = std::fs::read_to_string(entry.ok()?.path().join("schedstat")).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(&format!("{field}:")))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn questions(conn: &mut Conn) -> Result<u64, String> {
    let row: Option<(String, Value)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Questions'")
        .map_err(|e| e.to_string())?;
    match row {
        Some((_, Value::Bytes(b))) => String::from_utf8_lossy(&b)
            .parse()
            .map_err(|_| "Questions".into()),
        Some((_, Value::UInt(n))) => Ok(n),
        Some((_, Value::Int(n))) => Ok(n as u64),
        _ => Err("no Questions counter".into()),
    }
}

struct RealRun {
    cpu_pct: f64,
    rss_mb: f64,
    hwm_mb: f64,
    statements: f64,
    bytes_per_s: f64,
    keyframe_bytes: u64,
}

fn real_binary(dir: &Path) -> Result<RealRun, String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_conntop"));
    let sb = Sandbox::start(SandboxOptions {
        max_connections: SESSIONS as u32 + 200,
        ..SandboxOptions::default()
    })
    .map_err(|e| format!("start the sandbox: {e}"))?;
    let port = sb.port();
    let _holder = Holder::start(port, SESSIONS)?;
    let opts: Opts = sb.root_opts().into();
    let mut measure = Conn::new(opts).map_err(|e| e.to_string())?;
    let mut rec = Command::new(bin)
        .args([
            "record",
            "-h",
            LOOPBACK,
            "-P",
            &port.to_string(),
            "-u",
            "root",
            "--no-defaults",
        ])
        .args(["-i", "1s", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = rec.id();
    thread::sleep(WARM_UP);
    let frames = || conntop::record::Recording::open(dir).map_or(0, |r| r.frames());
    let (cpu0, q0, b0, f0) = (
        process_cpu_ns(pid),
        questions(&mut measure)?,
        dir_bytes(dir),
        frames(),
    );
    let began = Instant::now();
    let mut rss_max = 0u64;
    while began.elapsed() < WINDOW {
        thread::sleep(Duration::from_millis(500));
        rss_max = rss_max.max(status_kb(pid, "VmRSS").unwrap_or(0));
    }
    let secs = began.elapsed().as_secs_f64();
    let (cpu1, q1, b1, f1) = (
        process_cpu_ns(pid),
        questions(&mut measure)?,
        dir_bytes(dir),
        frames(),
    );
    let hwm = status_kb(pid, "VmHWM").unwrap_or(0);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = rec.wait();
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9 / secs * 100.0,
        _ => f64::NAN,
    };
    Ok(RealRun {
        cpu_pct: cpu,
        rss_mb: rss_max as f64 / 1024.0,
        hwm_mb: hwm as f64 / 1024.0,
        // One of the two reads of Questions counts itself.
        // Per recorded tick; one of the two reads of Questions counts itself.
        statements: (q1 - q0).saturating_sub(1) as f64 / (f1 - f0).max(1) as f64,
        // The window holds deltas only: add the hour's keyframes (one every
        // 5 minutes), each about what the file held after the warm-up.
        bytes_per_s: (b1 - b0) as f64 / secs + b0 as f64 * 12.0 / 3600.0,
        keyframe_bytes: b0,
    })
}

fn run() -> Result<(), String> {
    let started = Instant::now();
    let root: PathBuf =
        std::env::temp_dir().join(format!("conntop-bench-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    println!("conntop record/replay cost, {SESSIONS} sessions, 1 s interval");

    let mut rows: Vec<(String, String, String)> = Vec::new();
    for (name, active) in [("steady", false), ("active", true)] {
        let dir = root.join(format!("hour-{name}"));
        let (cpu, bytes) = write(&dir, HOUR, active, WriterOptions::bounded(None, None))?;
        println!(
            "writer, 1 h {name}: {:.3} ms CPU per snapshot ({:.3}% of a core at 1/s), {:.0} bytes/s",
            ms(cpu),
            ms(cpu) / 10.0,
            bytes
        );
        if !active {
            rows.push((
                "disk, 1 h steady (library writer)".into(),
                format!("{bytes:.0} B/s"),
                format!(
                    "<= {TARGET_BYTES_PER_S:.0} B/s: {}",
                    mark(bytes <= TARGET_BYTES_PER_S)
                ),
            ));
        } else {
            rows.push((
                "disk, 1 h active (library writer)".into(),
                format!("{bytes:.0} B/s"),
                "-".into(),
            ));
        }
    }

    let day = root.join("day");
    let t = Instant::now();
    let (_, bytes) = write(&day, DAY, true, WriterOptions::bounded(None, None))?;
    println!(
        "24 h active recording written in {:.0} s: {:.1} MB in {} files ({bytes:.0} bytes/s)",
        t.elapsed().as_secs_f64(),
        dir_bytes(&day) as f64 / 1e6,
        std::fs::read_dir(&day).map(|r| r.count()).unwrap_or(0)
    );
    let firsts: Vec<f64> = (0..5)
        .map(|_| first_screen(&day).map(ms))
        .collect::<Result<_, _>>()?;
    println!(
        "first screen of the 24 h recording: {:?} ms",
        firsts.iter().map(|x| x.round()).collect::<Vec<_>>()
    );
    let first = pct(&firsts, 0.5);
    rows.push((
        "replay: 24 h recording to first screen (median of 5)".into(),
        format!("{first:.0} ms (max {:.0})", pct(&firsts, 1.0)),
        format!(
            "<= {TARGET_FIRST_SCREEN_MS:.0} ms: {}",
            mark(pct(&firsts, 1.0) <= TARGET_FIRST_SCREEN_MS)
        ),
    ));
    let j = jumps(&day)?;
    rows.push((
        format!("replay: jump to a random moment ({JUMPS})"),
        format!(
            "median {:.1} ms, p95 {:.1}, max {:.1}",
            pct(&j, 0.5),
            pct(&j, 0.95),
            pct(&j, 1.0)
        ),
        format!(
            "<= {TARGET_JUMP_MS:.0} ms: {}",
            mark(pct(&j, 1.0) <= TARGET_JUMP_MS)
        ),
    ));
    let t = Instant::now();
    let mut p = Player::open(&day)?;
    let text = output::summary(&mut p, &Thresholds::default())?;
    rows.push((
        "replay --summary of 24 h".into(),
        format!(
            "{:.1} s ({} lines)",
            t.elapsed().as_secs_f64(),
            text.lines().count()
        ),
        "-".into(),
    ));

    println!(
        "\nthe real binary: conntop record -i 1s, {SESSIONS} idle sessions on a throwaway server…"
    );
    match real_binary(&root.join("real")) {
        Ok(r) => {
            rows.push((
                "record: CPU (30 s window)".into(),
                format!("{:.2}% of a core", r.cpu_pct),
                format!(
                    "<= {TARGET_CPU_PCT}%: {}",
                    mark(r.cpu_pct <= TARGET_CPU_PCT)
                ),
            ));
            rows.push((
                "record: memory".into(),
                format!("RSS {:.1} MB (peak {:.1})", r.rss_mb, r.hwm_mb),
                format!(
                    "<= {TARGET_RSS_MB:.0} MB: {}",
                    mark(r.hwm_mb <= TARGET_RSS_MB)
                ),
            ));
            rows.push((
                "record: statements per tick (Questions)".into(),
                format!("{:.2}", r.statements),
                format!(
                    "<= {TARGET_STATEMENTS:.0}: {}",
                    mark(r.statements <= TARGET_STATEMENTS)
                ),
            ));
            rows.push((
                "record: disk, 30 s steady + 12 keyframes, per 1 h".into(),
                format!(
                    "{:.0} B/s ({:.1} MB/h, keyframe {:.0} KB)",
                    r.bytes_per_s,
                    r.bytes_per_s * 3600.0 / 1e6,
                    r.keyframe_bytes as f64 / 1e3
                ),
                format!(
                    "<= {TARGET_BYTES_PER_S:.0} B/s: {}",
                    mark(r.bytes_per_s <= TARGET_BYTES_PER_S)
                ),
            ));
        }
        Err(e) => println!("  the real binary was not measured: {e}"),
    }

    println!("\n{:<52} {:<34} target", "what", "figure");
    for (what, fig, target) in &rows {
        println!("{what:<52} {fig:<34} {target}");
    }
    let _ = std::fs::remove_dir_all(&root);
    println!(
        "\n(total {:.0} s; server, holder and recorder stopped)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
