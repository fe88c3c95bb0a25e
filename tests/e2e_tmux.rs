//! End to end: the real binary in a real terminal (tmux), driven by keys and
//! read back from the screen.
//!
//! Each test runs its own tmux server (`tmux -L conntop-e2e-<pid>-<n>`) that a
//! guard kills when the test ends, also on panic. Every wait polls the screen
//! with a deadline. Tests that kill sessions run against a private sandbox,
//! never the shared server other tests use at the same time.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use conntop::sandbox::{APP, Sandbox};
use mysql::Conn;
use mysql::prelude::Queryable;

use common::{
    conntop_bin, private_sandbox, root_conn, server, test_user, wait_until, wait_until_every,
};

/// Longest wait for anything to appear on screen.
const WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks again: enough time for a screen capture each.
const STEP: Duration = Duration::from_millis(100);
/// Printed before conntop starts, so the restored screen can be recognised.
const BEFORE: &str = "BEFORE-MARKER";
/// Printed by the shell when conntop has exited, followed by its status.
const EXIT: &str = "CONNTOP-EXIT=";

/// Numbers the tmux servers of this process.
static SEQ: AtomicU32 = AtomicU32::new(0);

/// `'text'` for `sh`.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One tmux server with one session `e2e` running conntop; killed on drop.
struct Tmux {
    /// `-L` name of the server.
    socket: String,
    /// Temp dir of this test (the audit log).
    dir: PathBuf,
    /// The server's socket file, which tmux leaves behind.
    socket_path: Option<PathBuf>,
    /// The pane's shell, conntop's parent.
    shell: Option<u32>,
    /// Shut down already.
    down: bool,
}

impl Tmux {
    /// Starts conntop as root against 127.0.0.1:`port` in a `width` x
    /// `height` terminal, with `extra` flags. The shell echoes [`BEFORE`]
    /// first and `CONNTOP-EXIT=<status>` after, then keeps the pane open.
    fn dashboard(width: u16, height: u16, port: u16, extra: &[&str]) -> Tmux {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let socket = format!("conntop-e2e-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&socket);
        fs::create_dir_all(&dir).unwrap();
        // The guard exists before the server does, so a failed start is cleaned up too.
        let mut tmux = Tmux {
            socket,
            dir,
            socket_path: None,
            shell: None,
            down: false,
        };
        let mut args = vec![
            sh_quote(conntop_bin().to_str().unwrap()),
            "-h 127.0.0.1".to_string(),
            format!("-P {port}"),
            "-u root --no-defaults".to_string(),
            format!(
                "--audit-log {}",
                sh_quote(tmux.audit_log().to_str().unwrap())
            ),
        ];
        args.extend(extra.iter().map(|a| sh_quote(a)));
        let script = format!("echo {BEFORE}; {}; echo {EXIT}$?; sleep 60", args.join(" "));
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            "e2e",
            &script,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.socket_path = Some(PathBuf::from(tmux.display("#{socket_path}")));
        tmux.shell = Some(tmux.display("#{pane_pid}").parse().unwrap());
        tmux
    }

    /// The audit log this dashboard writes.
    fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    /// `tmux -u -L <socket> args...`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-u")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    /// Sends key names (`Enter`, `Escape`, `q`, ...).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "e2e", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text:?}");
    }

    /// The visible screen, one line per row.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "e2e"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format (`#{alternate_on}`) for the pane.
    fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "e2e", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `check` holds for the screen and returns that screen;
    /// panics with `what` and the last screen after [`WAIT`].
    fn wait_for(&self, what: &str, mut check: impl FnMut(&str) -> bool) -> String {
        let mut last = String::new();
        let ok = wait_until_every(WAIT, STEP, || {
            last = self.screen();
            check(&last)
        });
        assert!(ok, "timed out waiting for {what}; the screen:\n{last}");
        last
    }

    /// Waits for the first complete frame with live data.
    fn wait_live(&self) -> String {
        self.wait_for("the live dashboard", |s| {
            s.contains("● live") && s.contains("Slots [")
        })
    }

    /// Filters the table to `text` (`/` text Enter) and waits for the title.
    fn filter(&self, text: &str) -> String {
        self.keys(&["/"]);
        self.type_text(text);
        self.keys(&["Enter"]);
        let title = format!("filter \"{text}\"");
        self.wait_for("the filter in the title", |s| {
            s.contains(&title) && !s.contains("Enter apply")
        })
    }

    /// PID of conntop: the pane's shell's child running the binary.
    fn conntop_pid(&self) -> u32 {
        let mut found = Vec::new();
        let ok = wait_until_every(WAIT, STEP, || {
            found = self.conntop_children();
            !found.is_empty()
        });
        assert!(ok, "no conntop child of the pane's shell {:?}", self.shell);
        found[0]
    }

    /// conntop processes started by the pane's shell that still run.
    fn conntop_children(&self) -> Vec<u32> {
        let Some(shell) = self.shell else {
            return Vec::new();
        };
        let Ok(out) = Command::new("pgrep")
            .args(["-P", &shell.to_string()])
            .output()
        else {
            return Vec::new();
        };
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
            .filter(|&pid| is_running_conntop(pid))
            .collect()
    }

    /// Kills the tmux server (the pane's shell and conntop get SIGHUP) and
    /// removes its socket and the temp dir. Returns the conntop processes
    /// that did not end within 3 s of the hang-up; they are then killed.
    fn shutdown(&mut self) -> Vec<u32> {
        if std::mem::replace(&mut self.down, true) {
            return Vec::new();
        }
        let conntop = self.conntop_children();
        let _ = self.run(&["kill-server"]);
        let stuck: Vec<u32> = conntop
            .into_iter()
            .filter(|&pid| {
                !wait_until_every(Duration::from_secs(3), STEP, || !is_running_conntop(pid))
            })
            .collect();
        for pid in &stuck {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        if let Some(path) = &self.socket_path {
            let _ = fs::remove_file(path);
        }
        let _ = fs::remove_dir_all(&self.dir);
        stuck
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// True while `pid` is a conntop process that has not exited (a zombie has).
fn is_running_conntop(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ...`; comm may hold spaces and parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    comm == "conntop" && !matches!(state, Some('Z' | 'X'))
}

/// The shared server's `max_connections`.
fn shared_max_connections() -> u64 {
    root_conn()
        .query_first("SELECT @@max_connections")
        .unwrap()
        .unwrap()
}

/// Table rows on `screen` of a user whose name starts with `prefix` (the
/// User column shows 12 characters, the last one `…` when cut) and that
/// are idle.
fn idle_rows(screen: &str, prefix: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.contains(prefix) && l.contains("Sleep"))
        .count()
}

/// The screen after conntop ended: the shell's lines are back, the
/// dashboard and the alternate screen are gone.
fn assert_restored(t: &Tmux, screen: &str) {
    assert!(
        screen.contains(BEFORE),
        "screen before start not restored:\n{screen}"
    );
    for drawn in ["Slots [", "● live", "Sessions "] {
        assert!(
            !screen.contains(drawn),
            "{drawn:?} left on screen:\n{screen}"
        );
    }
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "alternate screen still on"
    );
}

/// Number of sessions of `user` on a private sandbox.
fn sandbox_sessions(sb: &Sandbox, user: &str) -> usize {
    let mut root = Conn::new(sb.root_opts()).unwrap();
    root.query("SHOW FULL PROCESSLIST")
        .unwrap()
        .into_iter()
        .filter(|row: &mysql::Row| row.get::<String, _>("User").as_deref() == Some(user))
        .count()
}

#[test]
fn sessions_of_a_user_are_visible_and_filterable() {
    let max = shared_max_connections();
    let user = test_user("vis", &[]);
    let _conns = user.open_idle(5);
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    let gauge = format!("/{max} ");
    t.wait_for(&format!("live and a gauge with {gauge:?}"), |s| {
        s.contains("● live")
            && s.lines()
                .any(|l| l.starts_with("Slots [") && l.contains(&gauge))
    });

    t.filter(&user.user);
    let prefix: String = user.user.chars().take(11).collect();
    let title = format!("filter \"{}\"", user.user);
    t.wait_for("5 idle rows of the user under a filter title", |s| {
        idle_rows(s, &prefix) == 5
            && s.lines()
                .any(|l| l.contains(" Sessions 5 of ") && l.contains(&title))
    });
}

#[test]
fn help_lists_the_keys_and_any_key_closes_it() {
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    t.wait_live();
    t.keys(&["?"]);
    t.wait_for("the whole help overlay", |s| {
        s.contains("any other key closes")
            && s.contains("Kill (always previewed and confirmed)")
            && s.contains("kill idle sessions past the idle threshold")
            && s.lines()
                .any(|l| l.contains("q Ctrl-C") && l.contains("quit"))
            && s.contains("In dialogs")
    });

    t.keys(&["j"]);
    // Still running: the key only closed the overlay.
    t.wait_for("help to close", |s| {
        !s.contains("any other key closes")
            && !s.contains("kill idle sessions past")
            && s.contains("? help")
            && !s.contains(EXIT)
    });
}

#[test]
fn quit_restores_the_terminal() {
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    t.wait_live();
    assert_eq!(
        t.display("#{alternate_on}"),
        "1",
        "dashboard not on the alternate screen"
    );
    t.keys(&["q"]);
    let screen = t.wait_for("conntop to exit", |s| s.contains(EXIT));
    assert!(screen.contains(&format!("{EXIT}0")), "{screen}");
    assert_restored(&t, &screen);
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    t.wait_live();
    let pid = t.conntop_pid();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -TERM {pid}");
    let screen = t.wait_for("conntop to exit", |s| s.contains(EXIT));
    let code = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix(EXIT))
        .unwrap();
    // The shell's convention for an end by signal: 128 + SIGTERM.
    assert_eq!(code, "143", "exit status {code}:\n{screen}");
    assert_restored(&t, &screen);
}

#[test]
fn leaked_idle_sessions_are_recovered_with_capital_i_then_y() {
    // `I` kills every idle session the rules allow: a private server, so no
    // other test's sessions are in reach. On it the only idle client
    // sessions are the 30 below (conntop's own connection is never a target
    // and nothing else connects until the kill is done).
    let sb = private_sandbox(60);
    let conns: Vec<Conn> = (0..30).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let opened = Instant::now();
    let ids: Vec<u64> = conns.iter().map(|c| c.connection_id() as u64).collect();
    let t = Tmux::dashboard(120, 40, sb.port(), &["--idle-over", "2s"]);
    t.wait_for("30 sleeping sessions", |s| {
        s.contains("● live") && s.contains("/60 ") && s.contains("sleeping 30 ")
    });
    // Past the 2 s threshold with a poll (1 s) to spare.
    thread::sleep(Duration::from_secs(3).saturating_sub(opened.elapsed()));

    // A snapshot taken just before the threshold may offer fewer: ask again.
    let deadline = Instant::now() + WAIT;
    let preview = loop {
        t.keys(&["I"]);
        let screen = t.wait_for("the whole idle kill preview", |s| {
            s.contains("idle sessions (Sleep")
                && (s.contains("y/Enter kill") || s.contains("Nothing matches"))
        });
        if screen.contains(" Kill 30 idle sessions (Sleep ≥ 2s) ? ")
            && screen.contains("30  app@127.0.0.1")
        {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "preview never offered 30:\n{screen}"
        );
        t.keys(&["Escape"]);
        thread::sleep(Duration::from_millis(500));
    };
    assert!(preview.contains("30 sessions, threshold 2s"), "{preview}");

    t.keys(&["y"]);
    t.wait_for("the kill summary", |s| {
        s.contains("killed 30, skipped 0 (changed since preview or gone), failed 0")
    });

    let text = fs::read_to_string(t.audit_log()).unwrap();
    let all: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each kill: an `attempt` line before the KILL, then its result.
    let (attempts, lines): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|r| r["result"] == "attempt");
    assert_eq!(attempts.len(), 30, "audit log:\n{text}");
    assert_eq!(lines.len(), 30, "audit log:\n{text}");
    for rec in &lines {
        assert_eq!(rec["user"], "app", "{rec}");
        assert_eq!(rec["result"], "killed", "{rec}");
        assert_eq!(rec["command"], "Sleep", "{rec}");
        assert!(
            rec["why"].as_str().unwrap().starts_with("idle kill"),
            "{rec}"
        );
    }
    let mut logged: Vec<u64> = lines.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    let mut expected = ids.clone();
    logged.sort_unstable();
    expected.sort_unstable();
    assert_eq!(logged, expected, "audit log ids are not the app sessions");

    assert!(
        wait_until(WAIT, || sandbox_sessions(&sb, APP.user) == 0),
        "app sessions left: {}",
        sandbox_sessions(&sb, APP.user)
    );
    drop(t);
    drop(conns);
}

#[test]
fn capital_i_then_y_at_80x24_shows_the_whole_preview() {
    // The preview's last lines (the keys) used to fall off an 80x24 screen.
    // A private server, as for the test above.
    let sb = private_sandbox(60);
    let conns: Vec<Conn> = (0..20).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let opened = Instant::now();
    let t = Tmux::dashboard(80, 24, sb.port(), &["--idle-over", "2s"]);
    t.wait_for("20 sleeping sessions", |s| {
        s.contains("● live") && s.contains("sleeping 20 ")
    });
    thread::sleep(Duration::from_secs(3).saturating_sub(opened.elapsed()));
    let deadline = Instant::now() + WAIT;
    let preview = loop {
        t.keys(&["I"]);
        let screen = t.wait_for("the idle kill preview", |s| {
            s.contains("idle sessions (Sleep") && s.contains("re-checked")
        });
        if screen.contains(" Kill 20 idle sessions (Sleep ≥ 2s) ? ") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "preview never offered 20:\n{screen}"
        );
        t.keys(&["Escape"]);
        thread::sleep(Duration::from_millis(500));
    };
    let keys = preview
        .lines()
        .find(|l| l.contains("y/Enter kill · n/Esc cancel"))
        .unwrap_or_else(|| panic!("the keys are not on screen:\n{preview}"));
    // Whole, inside the box's borders.
    let at = keys.find("y/Enter").unwrap();
    assert!(keys[..at].contains('│'), "{keys}");
    assert!(keys[at..].contains('│'), "{keys}");
    assert_eq!(preview.lines().count(), 24, "{preview}");
    for line in preview.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }

    t.keys(&["y"]);
    t.wait_for("the kill summary", |s| {
        s.contains("killed 20, skipped 0 (changed since preview or gone), failed 0")
    });
    assert!(
        wait_until(WAIT, || sandbox_sessions(&sb, APP.user) == 0),
        "app sessions left: {}",
        sandbox_sessions(&sb, APP.user)
    );

    // `+` polls less often, and the header says so.
    t.keys(&["+"]);
    t.wait_for("the new interval in the header", |s| {
        s.lines().next().is_some_and(|l| l.contains("every 2s"))
    });
    drop(t);
    drop(conns);
}

#[test]
fn read_only_kills_nothing() {
    // Private server: if read-only failed, `I` must not reach other tests.
    let sb = private_sandbox(40);
    let conns: Vec<Conn> = (0..3).map(|_| Conn::new(sb.opts(APP)).unwrap()).collect();
    let opened = Instant::now();
    let t = Tmux::dashboard(120, 40, sb.port(), &["--read-only", "--idle-over", "1s"]);
    t.wait_for("3 sleeping sessions", |s| {
        s.contains("● live") && s.contains("sleeping 3 ")
    });
    // Past the threshold, so a kill would have targets.
    thread::sleep(Duration::from_millis(2500).saturating_sub(opened.elapsed()));

    t.keys(&["I"]);
    let screen = t.wait_for("the read-only message", |s| s.contains("read-only"));
    assert!(
        !screen.contains("idle sessions (Sleep"),
        "preview opened:\n{screen}"
    );
    // A confirmation key with no dialog open does nothing either.
    t.keys(&["y"]);
    thread::sleep(Duration::from_millis(1500));
    let screen = t.screen();
    assert!(!screen.contains("killed"), "{screen}");
    assert!(screen.contains("sleeping 3 "), "{screen}");
    assert_eq!(sandbox_sessions(&sb, APP.user), 3);
    let audit = fs::read_to_string(t.audit_log()).unwrap_or_default();
    assert!(
        audit.is_empty(),
        "audit log written in read-only mode:\n{audit}"
    );
    drop(t);
    drop(conns);
}

#[test]
fn hostile_query_text_is_drawn_inert() {
    let user = test_user("hostile", &[]);
    let mut conn = user.connect();
    let query = "SELECT SLEEP(20) /* \x1b]0;pwned\x07 \x1b[2J */";
    let runner = thread::spawn(move || {
        // Ends with the sleep, or when the user's sessions are killed on drop.
        let _ = conn.query_drop(query);
    });
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    t.wait_live();
    t.filter(&user.user);
    let screen = t.wait_for("the query shown inert", |s| {
        s.contains("SLEEP(20) /* ␛]0;pwn")
    });
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen}"
    );

    // The detail view shows the whole query, still inert.
    t.keys(&["Enter"]);
    let screen = t.wait_for("the whole query in the detail", |s| {
        s.contains("Session ") && s.contains("SELECT SLEEP(20) /* ␛]0;pwned␇ ␛[2J */")
    });
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen}"
    );

    // Neither sequence reached the terminal: no new title, no cleared
    // screen; the dashboard is intact under the popup.
    t.keys(&["Escape"]);
    t.wait_for("the dashboard back", |s| {
        s.starts_with("conntop ") && s.contains("Slots [") && s.contains("SLEEP(20)")
    });
    let title = t.display("#{pane_title}");
    assert!(
        !title.contains("pwned"),
        "pane title set by the query: {title:?}"
    );

    drop(t);
    drop(user);
    runner.join().unwrap();
}

#[test]
fn fits_an_80x24_terminal() {
    let max = shared_max_connections();
    let t = Tmux::dashboard(80, 24, server().port, &[]);
    let gauge = format!("/{max} ");
    let screen = t.wait_for("header, whole gauge and footer", |s| {
        let lines: Vec<&str> = s.lines().collect();
        lines.len() == 24
            && lines[0].starts_with("conntop ")
            && lines[0].contains("● live")
            && lines[1].starts_with("Slots [")
            && lines[1].contains(&gauge)
            && lines[1].contains("max used")
            && lines[23].contains("d diagnose")
            && lines[23].contains("? help")
    });
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
}

/// A vanished terminal (SSH drop, closed window) ends conntop: the tmux
/// server goes away under it and it must exit on its own, not spin.
#[test]
fn a_closed_terminal_ends_conntop() {
    let mut t = Tmux::dashboard(80, 24, server().port, &[]);
    t.wait_live();
    let pid = t.conntop_pid();
    let socket = t.socket.clone();
    let socket_path = t.socket_path.clone().unwrap();
    let dir = t.dir.clone();
    let stuck = t.shutdown();
    assert!(
        stuck.is_empty(),
        "conntop {pid} still ran 3 s after the hang-up"
    );
    assert!(!is_running_conntop(pid));
    let alive = Command::new("tmux")
        .args(["-L", &socket, "has-session", "-t", "e2e"])
        .env_remove("TMUX")
        .output()
        .unwrap();
    assert!(
        !alive.status.success(),
        "tmux server {socket} still running"
    );
    assert!(
        !socket_path.exists(),
        "{} left behind",
        socket_path.display()
    );
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// Sends `signal` (a name such as "STOP") to `pid`.
fn signal(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Resumes a stopped server when the test ends, whatever happened.
struct Frozen(u32);

impl Drop for Frozen {
    fn drop(&mut self) {
        signal("CONT", self.0);
    }
}

/// A frozen server (mariadbd stopped) must not hold conntop: `q` ends it at
/// once although the poller is blocked in a read of that server.
#[test]
fn a_hung_server_does_not_hold_quit() {
    let sb = private_sandbox(20);
    let t = Tmux::dashboard(80, 24, sb.port(), &["-i", "200ms"]);
    t.wait_live();
    let frozen = Frozen(sb.pid());
    signal("STOP", frozen.0);
    // Let the poller block in its next read of the frozen server.
    thread::sleep(Duration::from_millis(600));
    let asked = Instant::now();
    t.keys(&["q"]);
    let screen = t.wait_for("conntop to exit", |s| s.contains(EXIT));
    let took = asked.elapsed();
    assert!(screen.contains(&format!("{EXIT}0")), "{screen}");
    // tmux's polling adds its own delay; the exit itself takes ~150 ms.
    assert!(took < Duration::from_secs(2), "quit took {took:?}");
    assert_restored(&t, &screen);
    drop(frozen);
}

/// SIGTSTP leaves the screen to the shell (no raw mode, no alternate
/// screen); SIGCONT brings the dashboard back.
#[test]
fn suspend_leaves_the_screen_and_continue_brings_it_back() {
    let t = Tmux::dashboard(80, 24, server().port, &[]);
    t.wait_live();
    let pid = t.conntop_pid();
    signal("TSTP", pid);
    let deadline = Instant::now() + WAIT;
    while t.display("#{alternate_on}") != "0" {
        assert!(Instant::now() < deadline, "still on the alternate screen");
        thread::sleep(Duration::from_millis(50));
    }
    signal("CONT", pid);
    while t.display("#{alternate_on}") != "1" {
        assert!(
            Instant::now() < deadline,
            "not back on the alternate screen"
        );
        thread::sleep(Duration::from_millis(50));
    }
    t.wait_live();
    t.keys(&["q"]);
    let screen = t.wait_for("conntop to exit", |s| s.contains(EXIT));
    assert!(screen.contains(&format!("{EXIT}0")), "{screen}");
}

/// Forty soft hyphens and other zero-width or format characters in one
/// statement do not move a single column of the rows around it.
#[test]
fn zero_width_characters_do_not_move_columns() {
    let user = test_user("zw", &[]);
    let mut busy = user.connect();
    let idle = user.connect();
    let hostile = format!(
        "SELECT SLEEP(20) /* {}{}{}x */",
        "\u{ad}".repeat(40),
        "\u{2060}\u{fe0f}\u{200b}",
        "\u{e0041}\u{1160}"
    );
    let runner = thread::spawn(move || {
        let _ = busy.query_drop(hostile);
    });
    let t = Tmux::dashboard(120, 40, server().port, &[]);
    t.wait_live();
    t.filter(&user.user);
    let screen = t.wait_for("both sessions", |s| {
        s.contains("SLEEP(20)") && s.lines().filter(|l| l.contains(&user.user)).count() >= 2
    });
    // Every row of the user starts its user column at the same place as the
    // header's "User", and the idle session's id sits under "Id".
    let header = screen
        .lines()
        .find(|l| l.contains("User") && l.contains("Id"))
        .unwrap_or_else(|| panic!("no table header:\n{screen}"));
    let user_col = header.find("User").unwrap();
    let user_col = header[..user_col].chars().count();
    let rows = screen
        .lines()
        .filter(|l| l.contains(&user.user) && l.starts_with(|c: char| c.is_ascii_digit()));
    for row in rows {
        let at = row.find(&user.user).unwrap();
        assert_eq!(
            row[..at].chars().count(),
            user_col,
            "user column moved in {row:?}\n{screen}"
        );
    }
    let idle_id = idle.connection_id().to_string();
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with(&format!("{idle_id} ")) && l.contains(&user.user)),
        "{screen}"
    );
    drop(t);
    drop(idle);
    drop(user);
    runner.join().unwrap();
}

/// Ctrl-Z as a key (the terminal is raw, so it arrives as a key, not as
/// SIGTSTP) leaves the screen to the shell too.
#[test]
fn ctrl_z_suspends_like_sigtstp() {
    let t = Tmux::dashboard(80, 24, server().port, &[]);
    t.wait_live();
    let pid = t.conntop_pid();
    t.keys(&["C-z"]);
    let deadline = Instant::now() + WAIT;
    while t.display("#{alternate_on}") != "0" {
        assert!(Instant::now() < deadline, "Ctrl-Z did not leave the screen");
        thread::sleep(Duration::from_millis(50));
    }
    signal("CONT", pid);
    t.wait_live();
    t.keys(&["q"]);
    let screen = t.wait_for("conntop to exit", |s| s.contains(EXIT));
    assert!(screen.contains(&format!("{EXIT}0")), "{screen}");
}

/// A terminal that hangs up while conntop ignores SIGHUP (nohup, a shell
/// trap): every read and write fails. It still ends as a hang-up, 129, with
/// no abort and no core file.
#[test]
fn a_hung_up_terminal_ends_with_129_not_an_abort() {
    let socket = format!("conntop-hup-{}", std::process::id());
    let dir = std::env::temp_dir().join(&socket);
    fs::create_dir_all(&dir).unwrap();
    let rc = dir.join("rc");
    let script = format!(
        "cd {dir}; ulimit -c unlimited; trap '' HUP; {bin} -h 127.0.0.1 -P {port} -u root \
         --no-defaults --read-only; echo $? > {rc}",
        dir = sh_quote(dir.to_str().unwrap()),
        bin = sh_quote(conntop_bin().to_str().unwrap()),
        port = server().port,
        rc = sh_quote(rc.to_str().unwrap()),
    );
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-x",
        "80",
        "-y",
        "24",
        "-s",
        "hup",
        "bash",
        "-c",
        &script,
    ]);
    assert!(started.status.success(), "{started:?}");
    let deadline = Instant::now() + WAIT;
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", "hup"]);
        if String::from_utf8_lossy(&screen.stdout).contains("● live") {
            break;
        }
        assert!(Instant::now() < deadline, "the dashboard never came up");
        thread::sleep(Duration::from_millis(100));
    }
    tmux(&["kill-server"]);
    let code = loop {
        if let Ok(text) = fs::read_to_string(&rc) {
            if !text.trim().is_empty() {
                break text.trim().to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "conntop did not end after the hang-up"
        );
        thread::sleep(Duration::from_millis(100));
    };
    let cores: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("core"))
        .collect();
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(code, "129", "exit status after a hang-up");
    assert!(cores.is_empty(), "a core file was left: {cores:?}");
}
