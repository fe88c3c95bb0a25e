//! The throwaway server and the scenario load, each test on a private sandbox.

mod common;

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conntop::findings::{self, Finding, FindingKind};
use conntop::history::{History, Sample};
use conntop::sandbox::{
    self, APP, BATCH, Load, LoadOptions, MONITOR, NOPRIVS, REPORTS, ROOT, Sandbox, SandboxError,
    SandboxOptions, Scenario,
};
use conntop::source::Source;
use conntop::thresholds::Thresholds;
use crossbeam_channel::{Receiver, Sender};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts};

use common::{mysql_code, private_sandbox, wait_until};

/// [`common::private_sandbox`], saying how long the start took.
fn start(max_connections: u32) -> Sandbox {
    let began = Instant::now();
    let sb = private_sandbox(max_connections);
    eprintln!("sandbox started in {:?}", began.elapsed());
    sb
}

fn pid_alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// (user, host without port, command, info) of every client session.
fn sessions(root: &mut Conn) -> Vec<(String, String, String, Option<String>)> {
    root.query_map(
        "SELECT USER, SUBSTRING_INDEX(HOST, ':', 1), COMMAND, INFO \
         FROM information_schema.PROCESSLIST \
         WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'",
        |(u, h, c, i): (String, String, String, Option<String>)| (u, h, c, i),
    )
    .unwrap()
}

fn count_user(root: &mut Conn, user: &str) -> usize {
    sessions(root).iter().filter(|s| s.0 == user).count()
}

/// A root connection over TCP to the server on 127.0.0.1:`port`.
fn root_at(port: u16) -> Conn {
    Conn::new(
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(port)
            .user(Some("root"))
            .prefer_socket(false),
    )
    .unwrap()
}

/// The `leak` scenario alone on `sb`, opening `per_second` sessions a second.
fn leak_load(sb: &Sandbox, per_second: u32) -> Load {
    Load::start_with(
        sb.port(),
        Scenario::Leak,
        LoadOptions {
            leak_per_second: per_second,
            ..LoadOptions::default()
        },
    )
}

/// Stops `load` and asserts that took less than 1.5 s.
#[track_caller]
fn stop_quickly(load: Load) {
    let began = Instant::now();
    load.stop();
    let took = began.elapsed();
    assert!(took < Duration::from_millis(1500), "stop took {took:?}");
}

#[test]
fn find_server_finds_the_installed_server() {
    let path = Sandbox::find_server().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name == "mariadbd" || name == "mysqld", "{}", path.display());
    let msg = SandboxError::NotFound.to_string();
    assert!(
        msg.starts_with("no mariadbd or mysqld found: install MariaDB with "),
        "{msg}"
    );
    assert!(msg.contains("apt-get update && "), "{msg}");
    assert!(msg.contains("apt-get install -y mariadb-server"), "{msg}");
    assert!(msg.contains("brew install mariadb"), "{msg}");
    assert!(!msg.contains('\n'));
    // As root (CI), the command needs no sudo.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid == Some("0") {
        assert!(!msg.contains("sudo"), "{msg}");
    }
}

#[test]
fn start_and_stop_leave_nothing_behind() {
    let mut sb = start(20);
    let (pid, datadir, socket) = (
        sb.pid(),
        sb.datadir().to_path_buf(),
        sb.socket().to_path_buf(),
    );
    let name = datadir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("conntop-sandbox-{}-", std::process::id())),
        "{name}"
    );
    assert!(datadir.join("mysql").is_dir());
    assert!(socket.exists());
    assert!(pid_alive(pid));
    assert!(sb.is_running());

    let mut root = Conn::new(sb.root_opts()).unwrap();
    let max: u32 = root
        .query_first("SELECT @@max_connections")
        .unwrap()
        .unwrap();
    assert_eq!(max, 20);
    let bind: String = root.query_first("SELECT @@bind_address").unwrap().unwrap();
    assert_eq!(bind, "127.0.0.1");
    let scheduler: Option<u64> = root
        .query_first("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'event_scheduler'")
        .unwrap();
    assert!(scheduler.is_some(), "event scheduler thread is running");
    drop(root);

    let began = Instant::now();
    sb.stop().unwrap();
    eprintln!("sandbox stopped in {:?}", began.elapsed());
    assert!(!datadir.exists(), "temp datadir removed");
    assert!(!pid_alive(pid), "server process gone");
    assert!(!sb.is_running());
    // A second stop (and the drop) are no-ops.
    sb.stop().unwrap();
}

#[test]
fn accounts_work_with_their_privileges() {
    let sb = start(30);
    for account in sandbox::ACCOUNTS {
        let mut conn = Conn::new(sb.opts(account))
            .unwrap_or_else(|e| panic!("{} cannot log in: {e}", account.user));
        let one: u8 = conn.query_first("SELECT 1").unwrap().unwrap();
        assert_eq!(one, 1);
    }

    // url() is what the dashboard is pointed at.
    for account in [ROOT, MONITOR, APP] {
        let url = sb.url(account.user);
        assert!(
            url.starts_with(&format!("mysql://{}", account.user)),
            "{url}"
        );
        assert!(url.ends_with(&format!("@127.0.0.1:{}", sb.port())), "{url}");
        let opts = Opts::from_url(&url).unwrap();
        assert_eq!(opts.get_pass().unwrap_or(""), account.password);
        Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false)).unwrap();
    }

    let mut root = Conn::new(sb.root_opts()).unwrap();
    let root_id = root.connection_id();

    // app: its own database only.
    let mut app = Conn::new(sb.opts(APP)).unwrap();
    let rows: u64 = app
        .query_first("SELECT COUNT(*) FROM appdb.t")
        .unwrap()
        .unwrap();
    assert_eq!(rows, 8);
    app.query_drop("UPDATE appdb.t SET n = n + 1 WHERE id = 2")
        .unwrap();
    let err = app.query_drop("SELECT * FROM mysql.user").unwrap_err();
    assert_eq!(mysql_code(&err), Some(1142), "{err}");
    for account in [REPORTS, BATCH] {
        let mut c = Conn::new(sb.opts(account)).unwrap();
        c.query_drop("SELECT note FROM appdb.t WHERE id = 1")
            .unwrap();
    }

    // The monitor sees everyone and may kill.
    let mut monitor = Conn::new(sb.opts(MONITOR)).unwrap();
    let users: Vec<String> = monitor
        .query("SELECT USER FROM information_schema.PROCESSLIST")
        .unwrap();
    assert!(users.iter().any(|u| u == "root"), "{users:?}");
    assert!(users.iter().any(|u| u == "app"), "{users:?}");
    let app_id = app.connection_id();
    monitor.query_drop(format!("KILL {app_id}")).unwrap();
    assert!(wait_until(Duration::from_secs(5), || count_user(
        &mut root, "app"
    ) == 0));

    // noprivs sees only itself and cannot kill others.
    let mut noprivs = Conn::new(sb.opts(NOPRIVS)).unwrap();
    let visible: Vec<String> = noprivs
        .query("SELECT USER FROM information_schema.PROCESSLIST")
        .unwrap();
    assert_eq!(visible, vec!["noprivs".to_string()]);
    let err = noprivs.query_drop(format!("KILL {root_id}")).unwrap_err();
    assert_eq!(mysql_code(&err), Some(1095), "{err}");
    let err = noprivs.query_drop("SELECT * FROM appdb.t").unwrap_err();
    assert!(matches!(mysql_code(&err), Some(1142 | 1044)), "{err}");
}

#[test]
fn restart_keeps_port_and_data_and_a_given_datadir_survives_stop() {
    let datadir = std::env::temp_dir().join(format!("conntop-test-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    let mut sb = Sandbox::start(SandboxOptions {
        max_connections: 20,
        datadir: Some(datadir.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    assert_eq!(sb.datadir(), datadir.as_path());
    let (port, pid) = (sb.port(), sb.pid());
    {
        let mut app = Conn::new(sb.opts(APP)).unwrap();
        app.query_drop("CREATE TABLE appdb.kept (id INT PRIMARY KEY)")
            .unwrap();
        app.query_drop("INSERT INTO appdb.kept VALUES (42)")
            .unwrap();
    }
    // The row in appdb.kept, read as app on a connection of its own.
    let kept = |sb: &Sandbox| -> u32 {
        Conn::new(sb.opts(APP))
            .unwrap()
            .query_first("SELECT id FROM appdb.kept")
            .unwrap()
            .unwrap()
    };
    // A client connected across the restart sees the server go away.
    let mut before = Conn::new(sb.opts(APP)).unwrap();

    let began = Instant::now();
    sb.restart().unwrap();
    eprintln!("sandbox restarted in {:?}", began.elapsed());
    assert_eq!(sb.port(), port);
    assert_ne!(sb.pid(), pid);
    assert!(!pid_alive(pid));
    assert!(before.query_drop("SELECT 1").is_err());
    assert_eq!(kept(&sb), 42);

    let new_pid = sb.pid();
    sb.stop().unwrap();
    assert!(!pid_alive(new_pid));
    assert!(datadir.join("mysql").is_dir(), "a given datadir is kept");

    // It can be started again from the kept datadir.
    let sb = Sandbox::start(SandboxOptions {
        datadir: Some(datadir.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    assert_eq!(kept(&sb), 42);
    drop(sb);
    std::fs::remove_dir_all(&datadir).unwrap();
}

#[test]
fn startup_failures_are_one_clear_line() {
    let err = Sandbox::start(SandboxOptions {
        extra_args: vec!["--no-such-option-at-all".into()],
        ..SandboxOptions::default()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SandboxError::Start { .. }), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains("no-such-option-at-all"), "{msg}");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Sandbox::start(SandboxOptions {
        port: Some(port),
        ..SandboxOptions::default()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains("Address already in use"), "{msg}");
}

#[test]
fn scenario_names_parse() {
    for name in Scenario::NAMES {
        let s: Scenario = name.parse().unwrap();
        assert_eq!(s.to_string(), name);
    }
    assert_eq!("ALL".parse::<Scenario>().unwrap(), Scenario::All);
    let err = "leaks".parse::<Scenario>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown scenario 'leaks': expected one of leak, long, pool, spike, all"
    );
}

#[test]
fn leak_load_creates_idle_sessions_and_stops_cleanly() {
    let sb = start(40);
    let mut root = Conn::new(sb.root_opts()).unwrap();
    let load = leak_load(&sb, 20);
    // Leak alone holds 60% of max_connections.
    assert!(
        wait_until(Duration::from_secs(10), || load.stats().held >= 24),
        "{:?}",
        load.stats()
    );
    let s = sessions(&mut root);
    let leaked: Vec<_> = s.iter().filter(|s| s.0 == "app").collect();
    assert_eq!(leaked.len(), 24, "{s:?}");
    assert!(leaked.iter().all(|s| s.2 == "Sleep"), "{leaked:?}");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(load.stats().held, 24, "stays at its cap");

    stop_quickly(load);
    assert!(
        wait_until(Duration::from_secs(5), || count_user(&mut root, "app") == 0),
        "{:?}",
        sessions(&mut root)
    );
}

#[test]
fn killed_leaked_sessions_are_noticed() {
    let sb = start(30);
    let mut root = Conn::new(sb.root_opts()).unwrap();
    let load = leak_load(&sb, 50);
    assert!(wait_until(Duration::from_secs(10), || load.stats().held >= 18));
    let ids: Vec<u64> = root
        .query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app' LIMIT 5")
        .unwrap();
    for id in &ids {
        root.query_drop(format!("KILL {id}")).unwrap();
    }
    // The leak prunes killed handles every 5 s and opens new ones.
    assert!(
        wait_until(Duration::from_secs(10), || load.stats().opened >= 23),
        "{:?}",
        load.stats()
    );
    drop(load);
}

#[test]
fn all_load_fills_the_server_and_overflows() {
    let sb = start(30);
    // Opened before the load: root keeps a slot even when the server is full.
    let mut root = Conn::new(sb.root_opts()).unwrap();
    let load = Load::start_with(
        sb.port(),
        Scenario::All,
        LoadOptions {
            leak_per_second: 20,
            first_spike_after: Duration::from_secs(2),
            spike_every: Duration::from_secs(2),
            long_query: Duration::from_secs(120),
            ..LoadOptions::default()
        },
    );
    assert!(
        wait_until(Duration::from_secs(20), || {
            let s = load.stats();
            s.refused > 0 && s.bad_logins > 0
        }),
        "{:?}",
        load.stats()
    );
    let connected: (String, u32) = root
        .query_first("SHOW GLOBAL STATUS LIKE 'Max_used_connections'")
        .unwrap()
        .unwrap();
    assert!(connected.1 >= 27, "{connected:?}");

    let s = sessions(&mut root);
    let hosts: HashSet<(&str, &str)> = s
        .iter()
        .filter(|x| x.0 == "reports" || x.0 == "batch")
        .map(|x| (x.0.as_str(), x.1.as_str()))
        .collect();
    for host in ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        assert!(hosts.iter().any(|h| h.1 == host), "{host} in {hosts:?}");
    }
    let sleeping = s
        .iter()
        .filter(|x| {
            x.3.as_deref()
                .is_some_and(|i| i.starts_with("SELECT SLEEP(") && !i.contains("0.05"))
        })
        .count();
    assert_eq!(sleeping, 3, "{s:?}");
    let trx: u64 = root
        .query_first("SELECT COUNT(*) FROM information_schema.INNODB_TRX")
        .unwrap()
        .unwrap();
    assert!(trx >= 1, "an open transaction");
    let aborted: (String, u64) = root
        .query_first("SHOW GLOBAL STATUS LIKE 'Aborted_connects'")
        .unwrap()
        .unwrap();
    assert!(aborted.1 >= 1, "{aborted:?}");

    // Stop interrupts the sleeping and lock-waiting statements.
    stop_quickly(load);
    assert!(
        wait_until(Duration::from_secs(5), || sessions(&mut root).is_empty()),
        "{:?}",
        sessions(&mut root)
    );
}

/// The demo's `spike` scenario, watched like the dashboard does (every
/// 250 ms, the demo's thresholds), gives a `spike` finding within a minute.
#[test]
fn spike_scenario_is_diagnosed_within_a_minute() {
    let sb = start(100);
    let mut source = Source::connect(&[Opts::from(sb.opts(MONITOR))], "spike").unwrap();
    let load = Load::start(sb.port(), Scenario::Spike);
    let t = Thresholds {
        idle_over: Duration::from_secs(30),
        query_over: Duration::from_secs(20),
        ..Thresholds::default()
    };
    let began = Instant::now();
    let mut history = History::default();
    let mut spike: Option<Finding> = None;
    let seen =
        common::wait_until_every(Duration::from_secs(60), Duration::from_millis(250), || {
            let Ok(snap) = source.poll() else {
                return false;
            };
            history.push(Sample::from_snapshot(&snap));
            spike = findings::diagnose(&snap, &history, &t)
                .into_iter()
                .find(|f| f.kind == FindingKind::Spike);
            spike.is_some()
        });
    assert!(
        seen,
        "no spike finding in {:?}: {:?}",
        began.elapsed(),
        load.stats()
    );
    let spike = spike.unwrap();
    eprintln!("spike after {:?}: {}", began.elapsed(), spike.title);
    assert!(
        spike
            .evidence
            .iter()
            .any(|e| e.contains("127.0.0.9") || e.contains("127.0.0.1")),
        "{spike:#?}"
    );
    stop_quickly(load);
}

/// Blocks in `read` until its sender is dropped, then reports EOF.
struct Eof(Receiver<()>);

impl Read for Eof {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        let _ = self.0.recv();
        Ok(0)
    }
}

/// Sends each write over a channel.
struct Lines(Sender<Vec<u8>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn serve_reports_ready_and_stops_at_eof() {
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
    let (line_tx, line_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
    let server = std::thread::spawn(move || {
        let mut ready = Lines(line_tx);
        sandbox::serve_until(
            SandboxOptions {
                max_connections: 25,
                ..SandboxOptions::default()
            },
            &mut ready,
            Eof(stop_rx),
        )
    });
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        line.extend(line_rx.recv_timeout(Duration::from_secs(30)).unwrap());
    }
    let line = String::from_utf8(line).unwrap();
    let fields: Vec<(&str, &str)> = line
        .trim_end()
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let keys: Vec<&str> = fields.iter().map(|f| f.0).collect();
    assert_eq!(keys, ["port", "socket", "pid"], "{line}");
    let port: u16 = fields[0].1.parse().unwrap();
    let socket = PathBuf::from(fields[1].1);
    let pid: u32 = fields[2].1.parse().unwrap();
    assert!(socket.exists());
    assert!(pid_alive(pid));

    let mut root = root_at(port);
    let max: u32 = root
        .query_first("SELECT @@max_connections")
        .unwrap()
        .unwrap();
    assert_eq!(max, 25);
    drop(root);

    drop(stop_tx);
    server.join().unwrap().unwrap();
    assert!(!pid_alive(pid));
    assert!(
        !socket.parent().is_some_and(Path::exists),
        "datadir removed"
    );
}

/// Starts `conntop sandbox` with a piped stdin; returns it and its ready line's
/// (port, socket, server pid).
fn spawn_cli_sandbox() -> (std::process::Child, u16, PathBuf, u32) {
    use std::io::BufRead;
    let mut child = Command::new(common::conntop_bin())
        .args(["sandbox", "--max-connections", "20"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let caps: Vec<&str> = line
        .trim_end()
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap().1)
        .collect();
    assert_eq!(caps.len(), 3, "{line:?}");
    (
        child,
        caps[0].parse().unwrap(),
        PathBuf::from(caps[1]),
        caps[2].parse().unwrap(),
    )
}

#[test]
fn cli_sandbox_stops_when_stdin_closes() {
    let (mut child, port, socket, pid) = spawn_cli_sandbox();
    let mut root = root_at(port);
    root.query_drop("SELECT 1").unwrap();
    drop(root);
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!pid_alive(pid));
    assert!(
        !socket.parent().is_some_and(Path::exists),
        "datadir removed"
    );
}

#[test]
fn a_killed_owner_does_not_leave_its_server_behind() {
    let (mut child, _port, socket, pid) = spawn_cli_sandbox();
    let datadir = socket.parent().unwrap().to_path_buf();
    assert!(pid_alive(pid));
    // SIGKILL: no destructor runs; the watcher has to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || !pid_alive(pid)
            && !datadir.exists()),
        "server pid {pid} alive: {}, datadir {} exists: {}",
        pid_alive(pid),
        datadir.display(),
        datadir.exists()
    );
}
