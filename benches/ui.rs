//! Frame cost of the dashboard at 1,000, 10,000 and 50,000 sessions.
//!
//! No server and no terminal: a synthetic snapshot (mostly idle sessions,
//! ~30 users, ~50 client hosts, some running statements, a few open
//! transactions) goes through `app::update` and `ui::render` into a 120x40
//! `TestBackend`. Prints median and p95 per step in milliseconds, and the
//! verdict against the target: a full refresh (snapshot in + one frame) under
//! 5 ms at 10,000 sessions.
//!
//! A lock pile-up case (`cargo bench --bench ui -- locks`): 10,000 sessions
//! of which 2,000 wait for locks behind five roots; it times the inference
//! and the graph (the poller's share of a tick), and a full refresh in the
//! sessions view (marks) and in the locks view, against the same target.
//!
//! Run with `cargo bench --bench ui`.

#[path = "support/mod.rs"]
mod support;

use support::load_average;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use conntop::app::rows::{Column, Sort};
use conntop::app::{self, App, Event, Options};
use conntop::command::Feed;
use conntop::history::{HISTORY_LEN, Sample};
use conntop::locks::{self, Graph, LockFacts, Sightings};
use conntop::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};
use conntop::ui;

/// Session counts measured.
const SIZES: [usize; 3] = [1_000, 10_000, 50_000];
/// Timed iterations per step (fewer when a step exceeds [`STEP_BUDGET`]).
const ITERATIONS: usize = 200;
/// Untimed iterations before each step.
const WARM_UP: usize = 10;
/// A step stops early after this much measured time (at least [`MIN_ITERATIONS`]).
const STEP_BUDGET: Duration = Duration::from_secs(8);
const MIN_ITERATIONS: usize = 30;
/// The target: feed + render at this size under [`TARGET`].
const TARGET_AT: usize = 10_000;
const TARGET: Duration = Duration::from_millis(5);
/// The terminal size a user typically has.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// A small deterministic generator (xorshift64*), so every run draws the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const TABLES: [&str; 8] = [
    "orders",
    "invoices",
    "customers",
    "stock",
    "shipping",
    "returns",
    "coupons",
    "audit",
];
const STATES: [&str; 6] = [
    "Sending data",
    "executing",
    "Waiting for table metadata lock",
    "Sorting result",
    "Creating sort index",
    "updating",
];
const DATABASES: [&str; 5] = ["shop", "billing", "crm", "reports", "inventory"];

/// A statement of roughly 100-300 bytes.
fn query_text(rng: &mut Rng) -> String {
    let t = rng.pick(&TABLES);
    let u = rng.pick(&TABLES);
    let id = rng.below(1_000_000);
    let mut q = format!(
        "SELECT o.id, o.customer_id, o.total, o.created_at, c.name, c.email FROM {t} o \
         JOIN {u} c ON c.id = o.customer_id WHERE o.status = 'open' AND o.id > {id}"
    );
    for _ in 0..rng.below(4) {
        q.push_str(&format!(
            " AND o.region_id IN ({}, {}, {})",
            rng.below(90),
            rng.below(90),
            rng.below(90)
        ));
    }
    q.push_str(" ORDER BY o.created_at DESC LIMIT 100");
    q
}

/// What a session is doing: ~85% Sleep, ~13% Query, the rest connecting or
/// preparing. Returns command, time in it (ms), state and statement text.
fn activity(rng: &mut Rng) -> (&'static str, u64, String, Option<String>) {
    match rng.below(100) {
        0..=84 => ("Sleep", rng.below(3_600_000), String::new(), None),
        85..=97 => (
            "Query",
            rng.below(120_000),
            rng.pick(&STATES).to_string(),
            Some(query_text(rng)),
        ),
        98 => ("Connect", rng.below(5_000), "login".to_string(), None),
        _ => ("Prepare", rng.below(2_000), "starting".to_string(), None),
    }
}

/// `n` sessions: ~85% Sleep, ~13% Query, a few other commands and system threads.
fn sessions(n: usize, seed: u64) -> Vec<Session> {
    let mut rng = Rng(seed | 1);
    let users: Vec<String> = (0..30)
        .map(|i| match i {
            0 => "app".to_string(),
            1 => "web".to_string(),
            2 => "reports".to_string(),
            3 => "batch".to_string(),
            _ => format!("svc_{i:02}"),
        })
        .collect();
    let hosts: Vec<String> = (0..50)
        .map(|i| format!("10.0.{}.{}", i / 10, 10 + i))
        .collect();
    let mut out = Vec::with_capacity(n);
    out.push(Session {
        id: 1,
        user: "system user".into(),
        command: "Daemon".into(),
        state: "InnoDB purge coordinator".into(),
        ..Session::default()
    });
    out.push(Session {
        id: 2,
        user: "event_scheduler".into(),
        host: "localhost".into(),
        command: "Daemon".into(),
        time_ms: 86_400_000,
        state: "Waiting on empty queue".into(),
        ..Session::default()
    });
    let mut id = 100;
    while out.len() < n {
        id += 1 + rng.below(3);
        // Skewed towards the first users and hosts, as a real fleet is.
        let user = &users[(rng.below(30) * rng.below(30) / 29) as usize];
        let host = &hosts[(rng.below(50) * rng.below(50) / 49) as usize];
        let port = 30_000 + rng.below(30_000);
        let (command, time_ms, state, info) = activity(&mut rng);
        let trx_age_ms = (rng.below(100) < 2).then(|| time_ms + rng.below(600_000));
        out.push(Session {
            id,
            user: user.clone(),
            host: format!("{host}:{port}"),
            db: (rng.below(10) > 0).then(|| rng.pick(&DATABASES).to_string()),
            command: command.to_string(),
            time_ms,
            state,
            info,
            trx_age_ms,
            ..Session::default()
        });
    }
    out
}

fn snapshot(n: usize) -> Snapshot {
    let sessions = sessions(n, 0x5eed_0000 + n as u64);
    let running = sessions.iter().filter(|s| !s.is_sleeping()).count() as u64;
    Snapshot {
        seq: 1,
        taken_at: SystemTime::now(),
        server: ServerInfo::from_version("10.11.6-MariaDB-0+deb12u1"),
        variables: Variables {
            max_connections: (n as u64 * 6 / 5).max(151),
            wait_timeout: 28_800,
            interactive_timeout: 28_800,
            statement_timeout_ms: Some(0),
            extra_port: Some(0),
            slow_query_log: Some(false),
            long_query_time_s: Some(10.0),
            sort_buffer_size: 2 << 20,
            join_buffer_size: 256 << 10,
            read_buffer_size: 128 << 10,
            read_rnd_buffer_size: 256 << 10,
            thread_stack: 292 << 10,
            net_buffer_length: 16 << 10,
            binlog_cache_size: 32 << 10,
            max_allowed_packet: 16 << 20,
            ..Variables::default()
        },
        status: Status {
            threads_connected: n as u64 + 1,
            threads_running: running,
            max_used_connections: n as u64 + 20,
            connections: 1_000_000,
            aborted_connects: 12,
            aborted_clients: 40,
            connection_errors_max_connections: 0,
            uptime_s: 1_000_000,
        },
        sessions,
        own_id: 99,
        privileges: Privileges {
            process: true,
            kill_any: true,
            ..Privileges::default()
        },
        poll_latency: Duration::from_millis(4),
        statements: 2,
        endpoint: "127.0.0.1:3306".into(),
        locks: Default::default(),
    }
}

/// The next poll of the same server: one second later, every clock moved on,
/// a few sessions changed state. Built outside the timed section.
fn next_snapshot(prev: &Snapshot, rng: &mut Rng) -> Arc<Snapshot> {
    let mut s = prev.clone();
    s.seq += 1;
    s.taken_at = prev.taken_at + Duration::from_secs(1);
    s.status.uptime_s += 1;
    s.status.connections += 7;
    for session in &mut s.sessions {
        session.time_ms += 1000;
    }
    let len = s.sessions.len() as u64;
    // 1% of the sessions start something new, drawn from the same mix, so
    // the share of idle and running sessions stays put run after run.
    for _ in 0..(len / 100).max(1) {
        let i = 2 + rng.below(len - 2) as usize;
        let (command, _, state, info) = activity(rng);
        let session = &mut s.sessions[i];
        session.command = command.to_string();
        session.time_ms = 0;
        session.state = state;
        session.info = info;
    }
    Arc::new(s)
}

/// Sessions waiting for locks in the pile-up case.
const PILEUP_WAITERS: usize = 2_000;
/// Tables with a queue of their own: one idle transaction holds each up.
const PILEUP_TABLES: usize = 5;

/// `snap` with a lock pile-up: on each of [`PILEUP_TABLES`] tables an idle
/// transaction (15 min) holds up an ALTER (10 min), and `waiters` SELECTs
/// in all queue behind the ALTERs. Other transactions are younger than the
/// ALTERs' waits, so each queue has one root. The waits are put on the
/// sessions as the poller does.
fn pileup(mut snap: Snapshot, waiters: usize) -> Snapshot {
    let waiting = "Waiting for table metadata lock".to_string();
    for s in snap.sessions.iter_mut().skip(2) {
        s.trx_age_ms = s.trx_age_ms.map(|age| age.min(300_000));
    }
    for (t, table) in TABLES.iter().take(PILEUP_TABLES).enumerate() {
        let root = &mut snap.sessions[10 + t];
        root.command = "Sleep".into();
        root.state = String::new();
        root.info = None;
        root.time_ms = 900_000;
        root.trx_age_ms = Some(900_000);
        let alter = &mut snap.sessions[20 + t];
        alter.command = "Query".into();
        alter.db = Some("shop".into());
        alter.time_ms = 600_000;
        alter.trx_age_ms = None;
        alter.state = waiting.clone();
        alter.info = Some(format!("ALTER TABLE {table} ADD COLUMN note VARCHAR(64)"));
    }
    let step = (snap.sessions.len() - 100) / waiters.max(1);
    for i in 0..waiters.saturating_sub(PILEUP_TABLES) {
        let s = &mut snap.sessions[100 + i * step.max(1)];
        s.command = "Query".into();
        s.db = Some("shop".into());
        s.time_ms = (i as u64 % 500) * 1000;
        s.trx_age_ms = None;
        s.state = waiting.clone();
        s.info = Some(format!(
            "SELECT id, total FROM {} WHERE customer_id = {i}",
            TABLES[i % PILEUP_TABLES]
        ));
    }
    snap
}

/// The waits and the graph of `snap`, as `Source::poll` builds them.
fn with_locks(mut snap: Snapshot) -> Snapshot {
    locks::apply(
        &mut snap.sessions,
        &LockFacts::default(),
        &Sightings::default(),
    );
    snap.locks = Graph::build(&snap.sessions);
    snap
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    min: Duration,
    median: Duration,
    p95: Duration,
    runs: usize,
}

/// Times `step` (after `prepare`, untimed) until [`ITERATIONS`] or [`STEP_BUDGET`].
fn measure<S>(
    state: &mut S,
    mut prepare: impl FnMut(&mut S),
    mut step: impl FnMut(&mut S),
) -> Stats {
    for _ in 0..WARM_UP {
        prepare(state);
        step(state);
    }
    let mut times = Vec::with_capacity(ITERATIONS);
    let mut spent = Duration::ZERO;
    while times.len() < ITERATIONS && (spent < STEP_BUDGET || times.len() < MIN_ITERATIONS) {
        prepare(state);
        let t = Instant::now();
        step(state);
        let d = t.elapsed();
        spent += d;
        times.push(d);
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Stats {
        min: times[0],
        median: at(0.5),
        p95: at(0.95),
        runs: times.len(),
    }
}

/// What one size is measured with.
struct Bench {
    app: App,
    terminal: Terminal<TestBackend>,
    last: Arc<Snapshot>,
    next: Option<Arc<Snapshot>>,
    rng: Rng,
    /// The snapshots carry a lock pile-up (rebuilt, untimed, for each).
    locks: bool,
    /// The last two snapshots, held as the poller holds them: the app's
    /// reference to the one it replaces is never the last, so (as in the
    /// real program) freeing it is not the UI's work.
    retained: std::collections::VecDeque<Arc<Snapshot>>,
}

impl Bench {
    /// [`Bench::new`] with a lock pile-up of `waiters` sessions; `infer`
    /// puts the waits and the graph on each snapshot (else the same
    /// sessions come without lock data: the control).
    fn with_pileup(n: usize, waiters: usize, infer: bool) -> Bench {
        let mut b = Bench::new(n);
        b.locks = infer;
        let snap = pileup((*b.last).clone(), waiters);
        b.last = Arc::new(if infer { with_locks(snap) } else { snap });
        app::update(&mut b.app, Event::Feed(Feed::Snapshot(Arc::clone(&b.last))));
        b
    }

    fn new(n: usize) -> Bench {
        let mut app = App::new(Options {
            interval: Duration::from_secs(1),
            color: true,
            ..Options::default()
        });
        let first = snapshot(n);
        // A full history, as after ten minutes of watching: the samples of
        // the last HISTORY_LEN seconds, then the snapshot itself.
        let sample = Sample::from_snapshot(&first);
        let len = HISTORY_LEN as u64;
        for i in 0..len {
            let back = len - i;
            app.data.history.push(Sample {
                at: first.taken_at - Duration::from_secs(back),
                uptime_s: sample.uptime_s - back,
                connections: sample.connections - back * 7,
                ..sample.clone()
            });
        }
        let last = Arc::new(first);
        app::update(&mut app, Event::Resize(WIDTH, HEIGHT));
        app::update(&mut app, Event::Feed(Feed::Snapshot(Arc::clone(&last))));
        let terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test terminal");
        Bench {
            app,
            terminal,
            last,
            next: None,
            rng: Rng(0xfeed),
            locks: false,
            retained: std::collections::VecDeque::with_capacity(3),
        }
    }

    fn prepare_snapshot(&mut self) {
        let mut snap = next_snapshot(&self.last, &mut self.rng);
        if self.locks {
            snap = Arc::new(with_locks((*snap).clone()));
        }
        self.last = Arc::clone(&snap);
        self.retained.push_back(Arc::clone(&snap));
        if self.retained.len() > 2 {
            self.retained.pop_front();
        }
        self.next = Some(snap);
    }

    fn feed(&mut self) {
        let snap = self.next.take().expect("a prepared snapshot");
        black_box(app::update(
            &mut self.app,
            Event::Feed(Feed::Snapshot(snap)),
        ));
    }

    fn render(&mut self) {
        let app = &self.app;
        let frame = self.terminal.draw(|f| ui::render(app, f)).expect("draw");
        black_box(frame.area);
    }

    fn key(&mut self, ev: Event) {
        black_box(app::update(&mut self.app, ev));
    }
}

fn ms(d: Duration) -> String {
    format!("{:8.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks sizes ("10000").
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    println!("conntop UI frame cost: update + render into a {WIDTH}x{HEIGHT} TestBackend");
    println!(
        "median / p95 in ms over up to {ITERATIONS} runs (after {WARM_UP} warm-up runs), \
         history full ({} samples), colours on\n",
        HISTORY_LEN
    );
    println!("load average before: {}\n", load_average());
    println!(
        "{:>8}  {:<42} {:>8} {:>8} {:>8} {:>5}",
        "sessions", "step", "min", "median", "p95", "runs"
    );
    let mut verdict = None;
    let mut verdict_locks = None;
    for n in SIZES {
        if !filter.is_empty() && !filter.iter().any(|f| f == &n.to_string()) {
            continue;
        }
        let setup = Instant::now();
        let mut b = Bench::new(n);
        let setup = setup.elapsed();
        let mut rows: Vec<(&str, Stats)> = Vec::new();

        rows.push((
            "(a) update: new snapshot (Feed)",
            measure(&mut b, Bench::prepare_snapshot, Bench::feed),
        ));
        // Where (a) goes: the per-snapshot parts, each on the last snapshot.
        let t = conntop::thresholds::Thresholds::default();
        rows.push((
            "   (a1) findings::diagnose",
            measure(
                &mut b,
                |_| {},
                |b| {
                    black_box(conntop::findings::diagnose(
                        &b.last,
                        &b.app.data.history,
                        &t,
                    ));
                },
            ),
        ));
        rows.push((
            "   (a2) history sample",
            measure(
                &mut b,
                |_| {},
                |b| {
                    black_box(conntop::history::Sample::from_snapshot(&b.last));
                },
            ),
        ));
        rows.push((
            "   (a3) counts",
            measure(
                &mut b,
                |_| {},
                |b| {
                    black_box(b.last.counts());
                },
            ),
        ));
        rows.push((
            "   (a4) rows: filter + sort",
            measure(
                &mut b,
                |_| {},
                |b| {
                    black_box(conntop::app::rows::visible_rows(
                        &b.last.sessions,
                        "",
                        false,
                        b.app.table.sort,
                    ));
                },
            ),
        ));
        rows.push((
            "(b) render one frame",
            measure(&mut b, |_| {}, Bench::render),
        ));
        rows.push((
            "(c1) key `s` (re-sort) + render",
            measure(
                &mut b,
                |_| {},
                |b| {
                    b.key(key(KeyCode::Char('s')));
                    b.render();
                },
            ),
        ));
        // `/` opens the filter; each typed character filters again. Time the
        // first character of "reports" (the widest scan), then take it back.
        b.key(key(KeyCode::Char('/')));
        rows.push((
            "(c2) filter: type `r` + render",
            measure(
                &mut b,
                |b| b.key(key(KeyCode::Backspace)),
                |b| {
                    b.key(key(KeyCode::Char('r')));
                    b.render();
                },
            ),
        ));
        b.key(key(KeyCode::Esc));
        // Back to the default sort (Time, longest first): `s` cycles 8 columns.
        for _ in 0..Column::ALL.len() {
            if b.app.table.sort == Sort::default() {
                break;
            }
            b.key(key(KeyCode::Char('s')));
        }
        let full = measure(&mut b, Bench::prepare_snapshot, |b| {
            b.feed();
            b.render();
        });
        if n == TARGET_AT {
            verdict = Some(full);
        }
        rows.push(("(d) full refresh: Feed + render", full));
        b.key(key(KeyCode::Tab));
        rows.push((
            "(e) full refresh, grouped by user (Tab)",
            measure(&mut b, Bench::prepare_snapshot, |b| {
                b.feed();
                b.render();
            }),
        ));
        for (i, (name, s)) in rows.iter().enumerate() {
            let size = if i == 0 {
                format!("{n}")
            } else {
                String::new()
            };
            println!(
                "{size:>8}  {name:<42} {} {} {} {:>5}",
                ms(s.min),
                ms(s.median),
                ms(s.p95),
                s.runs
            );
        }
        println!(
            "{:>8}  (synthetic snapshot built in {:.2} s; load average now {})\n",
            "",
            setup.as_secs_f64(),
            load_average()
        );
    }
    if filter.is_empty() || filter.iter().any(|f| f == "locks") {
        verdict_locks = Some(bench_locks());
    }
    if let Some(full) = verdict {
        let judge = |d: Duration| if d < TARGET { "under" } else { "OVER" };
        println!(
            "target: full refresh (Feed + render) at {TARGET_AT} sessions under {} ms: \
             median {:.3} ms {}, p95 {:.3} ms {} -> {}",
            TARGET.as_millis(),
            full.median.as_secs_f64() * 1000.0,
            judge(full.median),
            full.p95.as_secs_f64() * 1000.0,
            judge(full.p95),
            if full.median < TARGET {
                "MET"
            } else {
                "MISSED"
            }
        );
        println!("(p95 is sensitive to other work on the machine: see the load average above)");
    }
    if let Some((sessions_view, locks_view)) = verdict_locks {
        for (name, full) in [("sessions view", sessions_view), ("locks view", locks_view)] {
            println!(
                "target with {PILEUP_WAITERS} waiters, {name}: full refresh under {} ms: \
                 median {:.3} ms, p95 {:.3} ms -> {}",
                TARGET.as_millis(),
                full.median.as_secs_f64() * 1000.0,
                full.p95.as_secs_f64() * 1000.0,
                if full.median < TARGET {
                    "MET"
                } else {
                    "MISSED"
                }
            );
        }
    }
}

/// The lock pile-up case at [`TARGET_AT`] sessions; returns the full
/// refreshes of the sessions view and of the locks view.
fn bench_locks() -> (Stats, Stats) {
    let n = TARGET_AT;
    let control = measure(
        &mut Bench::with_pileup(n, PILEUP_WAITERS, false),
        Bench::prepare_snapshot,
        |b| {
            b.feed();
            b.render();
        },
    );
    let mut b = Bench::with_pileup(n, PILEUP_WAITERS, true);
    let graph = &b.last.locks;
    println!(
        "{n:>8}  lock pile-up: {} waiting, {} roots, the first with {} behind it",
        graph.waiting,
        graph.roots.len(),
        graph.roots.first().map_or(0, |r| r.total)
    );
    let base = (*b.last).clone();
    let infer = measure(
        &mut (),
        |_| {},
        |_| {
            black_box(with_locks(base.clone()));
        },
    );
    let copy = measure(
        &mut (),
        |_| {},
        |_| {
            black_box(base.clone());
        },
    );
    let full = |b: &mut Bench| {
        measure(b, Bench::prepare_snapshot, |b| {
            b.feed();
            b.render();
        })
    };
    let sessions_view = full(&mut b);
    for _ in 0..4 {
        b.key(key(KeyCode::Tab));
    }
    let locks_view = full(&mut b);
    for (name, s) in [
        ("(f) poller: inference + graph (+ a copy)", infer),
        ("    the copy alone", copy),
        ("(g0) full refresh, same sessions, no lock data", control),
        ("(g) full refresh, sessions view, marks", sessions_view),
        ("(h) full refresh, locks view (Tab x4)", locks_view),
    ] {
        println!(
            "{:>8}  {name:<42} {} {} {} {:>5}",
            "",
            ms(s.min),
            ms(s.median),
            ms(s.p95),
            s.runs
        );
    }
    println!();
    (sessions_view, locks_view)
}
