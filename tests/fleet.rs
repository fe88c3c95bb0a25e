//! Many servers on one screen.
//!
//! Without a server: the fleet's state and screen built from synthetic
//! snapshots (ranking, drill-in, kills that reach only the open server,
//! 80x24), and `--hosts` files the binary refuses with the line named.
//! With servers: three private sandboxes and a closed port through
//! `--once --format json` and a real terminal (tmux): ranked by usage,
//! Enter on the fullest, a kill there that leaves the others untouched; and
//! a target that accepts TCP and never answers, down within its timeouts
//! while the shared server keeps refreshing every interval.

mod common;

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command as Process, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use conntop::app::Options;
use conntop::command::{Command, Down, Feed, KillMode};
use conntop::config::{self, ConnectArgs, SslMode};
use conntop::fleet::rows::ServerState;
use conntop::fleet::{Fleet, FleetEffect, FleetEvent, FleetMsg, FleetSource, Msg, update};
use conntop::poller::PollerConfig;
use conntop::sandbox::{APP, Sandbox};
use conntop::snapshot::{Session, Snapshot};
use conntop::thresholds::Thresholds;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mysql::Conn;
use mysql::prelude::Queryable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::fixtures::{leaky, raw_snapshot, t0};
use common::{Scratch, conntop_bin, private_sandbox, run_conntop, run_conntop_within, server};

// --- the fleet as plain data -------------------------------------------------

fn options() -> Options {
    Options {
        thresholds: Thresholds {
            idle_over: Duration::from_secs(60),
            ..Thresholds::default()
        },
        interval: Duration::from_secs(1),
        color: false,
        ..Options::default()
    }
}

/// A fleet of `names` at [`t0`], drawn at 80x24.
fn fleet_of(names: &[&str]) -> Fleet {
    let mut f = Fleet::new(names.iter().map(|n| n.to_string()).collect(), &options());
    update(&mut f, FleetEvent::Resize(80, 24));
    update(&mut f, FleetEvent::Tick(t0()));
    f
}

fn msg(f: &mut Fleet, server: usize, feed: Feed) {
    update(
        f,
        FleetEvent::Msg(FleetMsg {
            server,
            msg: Msg::Feed(feed),
        }),
    );
}

/// Server `i` shows `connected` of `max` slots, with `sessions`.
fn show(f: &mut Fleet, i: usize, sessions: Vec<Session>, connected: u64, max: u64) {
    let mut snap: Snapshot = raw_snapshot(sessions, connected, max);
    snap.endpoint = f.members[i].name.clone();
    msg(f, i, Feed::Snapshot(Arc::new(snap)));
}

fn down(f: &mut Fleet, i: usize, error: &str) {
    msg(
        f,
        i,
        Feed::Down(Down {
            since: t0(),
            last_error: error.to_string(),
            attempts: 2,
        }),
    );
}

fn press(f: &mut Fleet, code: KeyCode) -> Vec<FleetEffect> {
    update(f, FleetEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn char_key(f: &mut Fleet, c: char) -> Vec<FleetEffect> {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(f, FleetEvent::Key(KeyEvent::new(KeyCode::Char(c), mods)))
}

/// The screen as text, `w` x `h`.
fn screen(f: &mut Fleet, w: u16, h: u16) -> Vec<String> {
    update(f, FleetEvent::Resize(w, h));
    f.settle();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|frame| conntop::ui::fleet::render(f, frame))
        .unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// Row index of the line holding `needle`.
#[track_caller]
fn row_of(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n")))
}

/// db-a 50%, db-b 90%, db-c refuses with 1040, db-d down, db-e silent.
fn five() -> Fleet {
    let mut f = fleet_of(&["db-a", "db-b:3307", "db-c", "db-d", "db-e"]);
    show(&mut f, 0, leaky(1), 50, 100);
    show(&mut f, 1, leaky(100), 90, 100);
    show(&mut f, 2, Vec::new(), 10, 100);
    down(
        &mut f,
        2,
        "db-c:3306 is full (ERROR 1040 Too many connections): every slot is taken",
    );
    down(&mut f, 3, "cannot connect: Connection refused");
    f
}

#[test]
fn the_fullest_is_on_top_and_a_refusing_server_above_it() {
    let mut f = five();
    let s = screen(&mut f, 120, 24);
    let rows: Vec<usize> = ["db-c ", "db-b:3307 ", "db-a ", "db-d ", "db-e "]
        .iter()
        .map(|n| row_of(&s, n))
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "{}", s.join("\n"));
    assert!(s[row_of(&s, "db-c ")].contains("FULL 1040"));
    assert!(s[row_of(&s, "db-b:3307 ")].contains("90/100"));
    assert!(s[row_of(&s, "db-b:3307 ")].contains("90%"));
    assert!(s[row_of(&s, "db-d ")].contains("down #2"));
    assert!(s[row_of(&s, "db-d ")].contains("cannot connect"));
    assert!(s[row_of(&s, "db-e ")].contains("connecting"));
    // The worst finding, with its severity and kind.
    assert!(
        s[row_of(&s, "db-b:3307 ")].contains("WARN leak: 20 sessions"),
        "{}",
        s.join("\n")
    );
    // The totals: every server by state, the live slots.
    assert!(
        s[0].contains("  2 live, 1 full, 1 down, 1 connecting"),
        "{}",
        s[0]
    );
    assert!(s[0].contains("connected 140/200 70.0%"), "{}", s[0]);
    assert_eq!(f.summary(2).unwrap().state, ServerState::Full);

    // `s` sorts by the next column (connected), `S` reverses.
    char_key(&mut f, 's');
    char_key(&mut f, 'S');
    let s = screen(&mut f, 120, 24);
    assert!(s[1].contains("sort connected ▲"), "{}", s[1]);
    assert!(row_of(&s, "db-a ") < row_of(&s, "db-b:3307 "));
}

#[test]
fn the_fleet_fits_80x24_and_the_filter_narrows_it() {
    let mut f = five();
    let s = screen(&mut f, 80, 24);
    assert!(s[0].ends_with("1 down, 1 connecting    "), "{}", s[0]);
    let header = &s[2];
    for col in ["Server", "State", "Slots", "Refused", "Worst finding"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(
        s[row_of(&s, "db-b:3307 ")].contains("90/100  90%"),
        "{}",
        s.join("\n")
    );
    assert!(s[23].contains("Enter open"), "{}", s[23]);
    for c in "/db-a".chars() {
        char_key(&mut f, c);
    }
    press(&mut f, KeyCode::Enter);
    let s = screen(&mut f, 80, 24);
    assert!(s[1].contains("Servers 1 of 5") && s[1].contains("filter \"db-a\""));
    press(&mut f, KeyCode::Esc);
    let s = screen(&mut f, 80, 24);
    assert!(s[1].contains("Servers 5 of 5"), "{}", s[1]);
}

#[test]
fn enter_opens_the_top_server_and_esc_and_brackets_move() {
    let mut f = five();
    f.settle();
    press(&mut f, KeyCode::Enter);
    assert_eq!(f.open, Some(2), "the top row: the refusing server");
    press(&mut f, KeyCode::Char(']'));
    assert_eq!(f.open, Some(1), "the next in the fleet's order");
    let s = screen(&mut f, 80, 24);
    assert!(s[0].starts_with("conntop  [db-b:3307]"), "{}", s[0]);
    assert!(s[23].starts_with("Esc fleet  ]/[ server"), "{}", s[23]);
    press(&mut f, KeyCode::Char('['));
    press(&mut f, KeyCode::Char('['));
    assert_eq!(f.open, Some(4), "wraps around to the last");
    // Esc clears the dashboard's filter first, then goes back.
    press(&mut f, KeyCode::Char(']'));
    press(&mut f, KeyCode::Char(']'));
    assert_eq!(f.open, Some(1));
    for c in "/leaky".chars() {
        char_key(&mut f, c);
    }
    press(&mut f, KeyCode::Enter);
    press(&mut f, KeyCode::Esc);
    assert_eq!(f.open, Some(1), "Esc cleared the filter");
    assert!(f.members[1].app.table.filter.is_empty());
    press(&mut f, KeyCode::Esc);
    assert_eq!(f.open, None);
    // The cursor is where the server opened last is.
    press(&mut f, KeyCode::Enter);
    assert_eq!(f.open, Some(1));
}

#[test]
fn a_kill_reaches_only_the_open_server_and_says_which() {
    let mut f = five();
    f.settle();
    press(&mut f, KeyCode::Down);
    press(&mut f, KeyCode::Enter);
    assert_eq!(f.open, Some(1));
    char_key(&mut f, 'I');
    let s = screen(&mut f, 100, 30);
    let all = s.join("\n");
    assert!(
        all.contains("idle sessions (Sleep ≥ 1m) on db-b:3307 ?"),
        "{all}"
    );
    assert!(all.contains("On server db-b:3307"), "{all}");
    let effects = char_key(&mut f, 'y');
    match &effects[..] {
        [FleetEffect::Send(1, Command::Kill { mode, targets, .. })] => {
            assert_eq!(*mode, KillMode::Connection);
            assert_eq!(targets.len(), 20);
            assert!(targets.iter().all(|t| t.session.id >= 100));
        }
        other => panic!("{other:?}"),
    }
    // Another server's feed changes nothing on the open one.
    show(&mut f, 0, Vec::new(), 1, 100);
    assert_eq!(f.open, Some(1));
    assert!(f.members[1].app.kills.running.is_some());
}

#[test]
fn help_lists_the_fleet_keys_there_and_on_a_server() {
    let mut f = five();
    char_key(&mut f, '?');
    let all = screen(&mut f, 100, 40).join("\n");
    for text in [
        "Fleet",
        "open the server's dashboard",
        "On a server's dashboard",
        "back to the fleet",
    ] {
        assert!(all.contains(text), "{text:?}:\n{all}");
    }
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let effects = update(&mut f, FleetEvent::Key(ctrl_c));
    assert!(matches!(effects[..], [FleetEffect::Quit]), "{effects:?}");
    press(&mut f, KeyCode::Esc);
    assert!(f.dialog.is_none());
    press(&mut f, KeyCode::Enter);
    char_key(&mut f, '?');
    let all = screen(&mut f, 100, 60).join("\n");
    for text in [
        "KILL CONNECTION of the selected",
        "Fleet",
        "the next server, in the fleet's order",
    ] {
        assert!(all.contains(text), "{text:?}:\n{all}");
    }
}

// --- the command line, no server -----------------------------------------------

#[test]
fn a_bad_hosts_file_is_one_line_naming_the_line() {
    let dir = Scratch::new("fleet-hosts");
    let file = dir.file("hosts", "# fleet\ndb1\n\ndb2:99999\n");
    let run = run_conntop(&["--no-defaults", "--hosts", &file, "--once"], &[]);
    let line = run.fails(1);
    assert!(
        line.starts_with(&format!("{file}:4: bad port \"99999\"")),
        "{line}"
    );
    let file = dir.file("urls", "mysql://u:S3cret@db1\npostgres://u:S3cret@db2\n");
    let run = run_conntop(&["--no-defaults", "--hosts", &file, "--once"], &[]);
    let line = run.fails(1);
    assert!(line.starts_with(&format!("{file}:2: bad URL")), "{line}");
    assert!(!run.stderr.contains("S3cret"), "{line}");
    let run = run_conntop(&["--no-defaults", "-h", "db1,,db2", "--once"], &[]);
    assert!(
        run.fails(1).starts_with("bad host \"\" in -h"),
        "{:?}",
        run.stderr
    );
    let run = run_conntop(
        &["--no-defaults", "--hosts", &dir.path("none"), "--once"],
        &[],
    );
    assert!(
        run.fails(1).starts_with("cannot read hosts file"),
        "{:?}",
        run.stderr
    );
}

// --- servers -------------------------------------------------------------------

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A port that accepts TCP and never answers; held until the process ends.
fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// Sessions of `user` on a private sandbox.
fn sessions_of(sb: &Sandbox, user: &str) -> usize {
    let mut root = Conn::new(sb.root_opts()).unwrap();
    root.query("SHOW FULL PROCESSLIST")
        .unwrap()
        .into_iter()
        .filter(|row: &mysql::Row| row.get::<String, _>("User").as_deref() == Some(user))
        .count()
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One tmux server running one command; killed (with what runs in it) on drop.
struct Tmux {
    socket: String,
    dir: PathBuf,
}

impl Tmux {
    fn start(width: u16, height: u16, command: &str) -> Tmux {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let socket = format!("conntop-fleet-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&socket);
        fs::create_dir_all(&dir).unwrap();
        let t = Tmux { socket, dir };
        let script = format!("{command}; echo CONNTOP-EXIT=$?; sleep 60");
        let out = t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            "fleet",
            &script,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Process::new("tmux")
            .arg("-u")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "fleet"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "fleet"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str, mut check: impl FnMut(&str) -> bool) -> String {
        let mut last = String::new();
        let ok =
            common::wait_until_every(Duration::from_secs(15), Duration::from_millis(100), || {
                last = self.screen();
                check(&last)
            });
        assert!(ok, "timed out waiting for {what}; the screen:\n{last}");
        last
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let socket_path = self.run(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.run(&["kill-server"]);
        let path = String::from_utf8_lossy(&socket_path.stdout)
            .trim()
            .to_string();
        if !path.is_empty() {
            let _ = fs::remove_file(path);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn three_servers_and_a_closed_port() {
    let (a, b, c) = thread::scope(|s| {
        let a = s.spawn(|| private_sandbox(20));
        let b = s.spawn(|| private_sandbox(40));
        let c = s.spawn(|| private_sandbox(60));
        (a.join().unwrap(), b.join().unwrap(), c.join().unwrap())
    });
    let open = |sb: &Sandbox, n: usize| -> Vec<Conn> {
        (0..n).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect()
    };
    let held = [open(&a, 15), open(&b, 10), open(&c, 5)];
    let closed = closed_port();
    let name = |port: u16| format!("127.0.0.1:{port}");
    let list = [a.port(), b.port(), c.port(), closed].map(name).join(",");

    // --once: four targets, one error, in the order given; exit 1 naming it.
    let run = run_conntop(
        &[
            "--no-defaults",
            "-u",
            "root",
            "-h",
            &list,
            "--once",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        format!("conntop: 1 of 4 servers failed: {}", name(closed))
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let servers = doc["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 4);
    for (item, (sb, used)) in servers.iter().zip([(&a, 15), (&b, 10), (&c, 5)]) {
        assert_eq!(item["target"], name(sb.port()));
        assert!(item["error"].is_null(), "{item}");
        assert_eq!(
            item["connections"]["max_connections"],
            u64::from(sb.max_connections())
        );
        let app = item["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["user"] == APP.user)
            .count();
        assert_eq!(app, used, "{item}");
    }
    assert_eq!(servers[3]["target"], name(closed));
    assert!(
        servers[3]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{}",
        servers[3]
    );
    assert!(servers[3].get("sessions").is_none());

    // `conntop kill --dry-run` on the four: a block per server, nothing
    // sent, exit 1 naming the closed one.
    for sb in [&a, &b, &c] {
        wait_idle(sb, 2);
    }
    let logs = Scratch::new("fleet-kill");
    let kill_log = logs.path("kill.jsonl");
    let kill = |list: &str, dry_run: bool| {
        let mut args = vec![
            "--no-defaults",
            "-u",
            "root",
            "-h",
            list,
            "--audit-log",
            &kill_log,
            "kill",
            "--idle-over",
            "1s",
            "--match-user",
            APP.user,
        ];
        if dry_run {
            args.push("--dry-run");
        }
        run_conntop(&args, &[])
    };
    let run = kill(&list, true);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .ends_with(&format!("1 of 4 servers failed: {}\n", name(closed))),
        "{run:?}"
    );
    for (sb, n) in [(&a, 15), (&b, 10), (&c, 5)] {
        let block = format!(
            "== {0} ==\nwould kill {n} sessions idle for at least 1s on {0}\n",
            name(sb.port())
        );
        assert!(run.stdout.contains(&block), "{block}\n{}", run.stdout);
        assert!(
            run.stdout
                .contains(&format!("dry run: would kill {n}, skipped 0, nothing sent")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains(&format!("== {} ==\nerror: ", name(closed))),
        "{}",
        run.stdout
    );
    assert_eq!(
        [&a, &b, &c].map(|sb| sessions_of(sb, APP.user)),
        [15, 10, 5],
        "a dry run kills nothing"
    );

    // The fleet in a terminal: three live rows and one down, fullest first.
    let dir = Scratch::new("fleet-audit");
    let audit = dir.path("audit.jsonl");
    let command = format!(
        "{} --no-defaults -u root -h {list} --idle-over 1s --connect-timeout 2s --audit-log {audit}",
        conntop_bin().display()
    );
    let t = Tmux::start(80, 24, &command);
    let screen = t.wait_for("three live rows and one down", |s| {
        s.matches("● live").count() == 3 && s.contains("down #") && s.contains("16/20")
    });
    let row = |s: &str, port: u16| {
        s.lines()
            .position(|l| l.starts_with(&format!("{} ", name(port))))
            .unwrap_or_else(|| panic!("no row of {port}:\n{s}"))
    };
    let rows = [a.port(), b.port(), c.port(), closed].map(|p| row(&screen, p));
    assert!(
        rows.windows(2).all(|w| w[0] < w[1]),
        "not by usage:\n{screen}"
    );
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }

    // Enter drills into the fullest; `I` then `y` kills its idle sessions.
    t.keys(&["Enter"]);
    let header = format!("conntop  [{}]", name(a.port()));
    t.wait_for("the fullest server's dashboard, its sessions idle", |s| {
        s.starts_with(&header) && s.contains("15 sessions of app@127.0.0.1 idle over 1s")
    });
    // The finding and the preview may come from different snapshots: ask again.
    let deadline = Instant::now() + Duration::from_secs(15);
    let preview = loop {
        t.keys(&["I"]);
        let screen = t.wait_for("the idle kill preview", |s| {
            s.contains(" idle sessions (Sleep ≥ 1s) on ")
        });
        if screen.contains(" Kill 15 idle sessions") {
            break screen;
        }
        assert!(Instant::now() < deadline, "never offered 15:\n{screen}");
        t.keys(&["Escape"]);
        thread::sleep(Duration::from_millis(500));
    };
    assert!(
        preview.contains(&format!(
            "idle sessions (Sleep ≥ 1s) on {} ?",
            name(a.port())
        )),
        "{preview}"
    );
    assert!(
        preview.contains(&format!("On server {}", name(a.port()))),
        "{preview}"
    );
    t.keys(&["y"]);
    t.wait_for("the kill summary naming the server", |s| {
        s.contains(&format!("{}: killed 15, skipped 0", name(a.port())))
    });
    assert!(common::wait_until(Duration::from_secs(10), || sessions_of(
        &a, APP.user
    ) == 0));
    assert_eq!(sessions_of(&b, APP.user), 10, "another server's sessions");
    assert_eq!(sessions_of(&c, APP.user), 5, "another server's sessions");
    let log = fs::read_to_string(&audit).unwrap();
    assert_eq!(log.lines().count(), 30, "{log}");
    let server = format!("\"server\":\"{}\"", name(a.port()));
    assert!(log.lines().all(|l| l.contains(&server)), "{log}");

    // Back to the fleet: the order follows the usage; `]` moves on.
    t.keys(&["Escape"]);
    let screen = t.wait_for("the fleet re-ranked", |s| {
        s.contains("conntop fleet") && s.contains(" 1/20 ")
    });
    assert!(row(&screen, b.port()) < row(&screen, c.port()), "{screen}");
    assert!(row(&screen, c.port()) < row(&screen, a.port()), "{screen}");
    // The cursor stayed on the server it came back from; `g` goes to the top.
    t.keys(&["g", "Enter"]);
    t.wait_for("the new top server", |s| {
        s.starts_with(&format!("conntop  [{}]", name(b.port())))
    });
    t.keys(&["]"]);
    t.wait_for("the next server", |s| {
        s.starts_with(&format!("conntop  [{}]", name(c.port())))
    });
    t.keys(&["q"]);
    t.wait_for("conntop to exit", |s| s.contains("CONNTOP-EXIT=0"));
    drop(t);

    // `conntop kill` on the other two: each killed, each summed up, exit 0.
    let two = [b.port(), c.port()].map(name).join(",");
    let run = kill(&two, false);
    assert_eq!(run.code, Some(0), "{run:?}");
    for (sb, n) in [(&b, 10), (&c, 5)] {
        let block = format!(
            "== {0} ==\nkilling {n} sessions idle for at least 1s on {0}\n",
            name(sb.port())
        );
        assert!(run.stdout.contains(&block), "{block}\n{}", run.stdout);
    }
    for n in [10, 5] {
        let summary = format!("killed {n}, skipped 0 (changed since preview or gone), failed 0");
        assert!(run.stdout.contains(&summary), "{}", run.stdout);
    }
    assert_eq!([&b, &c].map(|sb| sessions_of(sb, APP.user)), [0, 0]);
    drop(held);
}

/// Waits until every `app` session on `sb` has been idle `secs` seconds.
fn wait_idle(sb: &Sandbox, secs: u64) {
    let mut root = Conn::new(sb.root_opts()).unwrap();
    let idle = common::wait_until(Duration::from_secs(15), || {
        let min: Option<u64> = root
            .exec_first(
                "SELECT MIN(TIME) FROM information_schema.PROCESSLIST WHERE USER = ?",
                (APP.user,),
            )
            .unwrap()
            .flatten();
        min.is_some_and(|m| m >= secs)
    });
    assert!(idle, "app sessions on {} not idle {secs}s", sb.port());
}

/// Options for root on 127.0.0.1:`port` with a 1 s connect timeout.
fn poller_for(port: u16, interval: Duration) -> PollerConfig {
    let args = ConnectArgs {
        user: Some("root".to_string()),
        no_defaults: true,
        ssl_mode: Some(SslMode::Disabled),
        connect_timeout: Some(Duration::from_secs(1)),
        ..ConnectArgs::default()
    };
    let opts = config::resolve_host(&args, "127.0.0.1", Some(port), &|_| None).unwrap();
    PollerConfig {
        interval,
        attempts: vec![opts.to_mysql_opts(false)],
        endpoint: opts.endpoint(),
        kill_method: Default::default(),
        safety: Default::default(),
        audit: None,
    }
}

#[test]
fn a_silent_server_is_down_within_its_timeouts_while_the_others_refresh() {
    let live = server().port;
    let silent = silent_port();
    let interval = Duration::from_millis(250);
    let started = Instant::now();
    let source = FleetSource::spawn(vec![
        poller_for(live, interval),
        poller_for(silent, interval),
    ]);
    let mut fleet = Fleet::new(vec!["live".into(), "silent".into()], &options());
    let mut snapshots = Vec::new();
    let mut down_after = None;
    while started.elapsed() < Duration::from_secs(4) {
        let Ok(m) = source.messages.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        match (&m.server, &m.msg) {
            (0, Msg::Feed(Feed::Snapshot(_))) => snapshots.push(started.elapsed()),
            (1, Msg::Feed(Feed::Down(d))) => {
                assert!(
                    d.last_error.contains("timed out connecting after 1s"),
                    "{d:?}"
                );
                down_after.get_or_insert(started.elapsed());
            }
            other => panic!("unexpected {other:?}"),
        }
        update(&mut fleet, FleetEvent::Msg(m));
    }
    let down_after = down_after.expect("the silent server never showed as down");
    assert!(
        down_after < Duration::from_millis(2500),
        "down after {down_after:?}"
    );
    // Every interval, also while the silent one hangs in its handshake.
    assert!(snapshots.len() >= 10, "{snapshots:?}");
    let gaps = snapshots.windows(2).map(|w| w[1] - w[0]);
    assert!(
        gaps.clone().all(|g| g < Duration::from_millis(700)),
        "{snapshots:?}"
    );
    update(&mut fleet, FleetEvent::Tick(std::time::SystemTime::now()));
    assert_eq!(fleet.summary(0).unwrap().state, ServerState::Live);
    assert_eq!(fleet.summary(1).unwrap().state, ServerState::Down);
    // Quitting is not held by the server that never answers.
    let stopping = Instant::now();
    source.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(1),
        "{:?}",
        stopping.elapsed()
    );

    // --once: the silent one fails at its connect timeout, the other prints.
    let list = format!("127.0.0.1:{live},127.0.0.1:{silent}");
    let run = run_conntop_within(
        Duration::from_secs(20),
        &[
            "--no-defaults",
            "-u",
            "root",
            "-h",
            &list,
            "--connect-timeout",
            "1s",
            "--ssl-mode",
            "DISABLED",
            "--once",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.took < Duration::from_secs(4), "took {:?}", run.took);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc["servers"][0]["error"].is_null(), "{doc}");
    assert!(doc["servers"][0]["connections"]["max_connections"].as_u64() > Some(0));
    let error = doc["servers"][1]["error"].as_str().unwrap();
    assert!(error.contains("timed out connecting after 1s"), "{error}");
}
