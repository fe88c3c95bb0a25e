//! Shared helpers for the integration tests.
//!
//! The tests share ONE server, started by `bash .ci/run` and found through
//! `CONNTOP_TEST_PORT` (and `CONNTOP_TEST_SOCKET`). Without it they panic:
//! a test must never pass by skipping. Only [`server`] and the helpers that
//! call it need that server; the rest (and [`fixtures`]) work without one.
//! Tests that need a server of their own (restart, a small
//! `max_connections`) call [`private_sandbox`].
//!
//! Parallel tests must not count each other's sessions: each test makes its
//! own user with [`test_user`] and looks only at that user's sessions.
//!
//! Every test binary compiles this whole module and uses only part of it.

#![allow(dead_code)]

pub mod fixtures;

use std::ffi::OsStr;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use conntop::sandbox::{Sandbox, SandboxOptions};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};
use serde_json::Value as Json;

/// The shared test server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestServer {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Unix socket, when `CONNTOP_TEST_SOCKET` is set.
    pub socket: Option<PathBuf>,
}

impl TestServer {
    /// Options for `user`/`pass` over TCP to 127.0.0.1 (never the socket).
    pub fn opts(&self, user: &str, pass: &str) -> OptsBuilder {
        OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some(user))
            .pass((!pass.is_empty()).then_some(pass))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(5)))
    }

    /// `mysql://user:pass@127.0.0.1:port`.
    pub fn url(&self, user: &str, pass: &str) -> String {
        if pass.is_empty() {
            format!("mysql://{user}@127.0.0.1:{}", self.port)
        } else {
            format!("mysql://{user}:{pass}@127.0.0.1:{}", self.port)
        }
    }
}

/// The shared server from the environment; panics when there is none.
pub fn server() -> TestServer {
    let port = match std::env::var("CONNTOP_TEST_PORT") {
        Ok(p) => p
            .trim()
            .parse::<u16>()
            .unwrap_or_else(|_| panic!("CONNTOP_TEST_PORT={p:?} is not a port number")),
        Err(_) => panic!(
            "no test server: run `bash .ci/run`, or start one with `conntop sandbox` and \
             export CONNTOP_TEST_PORT"
        ),
    };
    let socket = std::env::var_os("CONNTOP_TEST_SOCKET")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    TestServer { port, socket }
}

/// A root connection to the shared server over TCP.
pub fn root_conn() -> Conn {
    connect("root", "")
}

/// A connection to the shared server as `user`/`pass`; panics with the reason.
pub fn connect(user: &str, pass: &str) -> Conn {
    let srv = server();
    Conn::new(srv.opts(user, pass))
        .unwrap_or_else(|e| panic!("connect as {user} to 127.0.0.1:{}: {e}", srv.port))
}

/// `n` idle connections as `user`/`pass` (they sit in `Sleep` until dropped).
pub fn open_idle(user: &str, pass: &str, n: usize) -> Vec<Conn> {
    (0..n).map(|_| connect(user, pass)).collect()
}

/// The built `conntop` binary.
pub fn conntop_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_conntop"))
}

/// `<prefix>_<pid>_<n>`: unique across the tests of this run (each test
/// binary is its own process) and short enough for a MariaDB user name.
pub fn unique(prefix: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

/// A per-test account on the shared server; dropping it kills its sessions
/// and drops the user.
#[derive(Debug)]
pub struct TestUser {
    /// `t_<name>_<pid>_<n>`.
    pub user: String,
    /// The account's password.
    pub pass: String,
}

impl TestUser {
    /// A connection as this user.
    pub fn connect(&self) -> Conn {
        connect(&self.user, &self.pass)
    }

    /// `n` idle connections as this user.
    pub fn open_idle(&self, n: usize) -> Vec<Conn> {
        open_idle(&self.user, &self.pass, n)
    }

    /// How many sessions this user has on the server now.
    pub fn sessions(&self) -> usize {
        count_sessions(&self.user)
    }

    /// `mysql://user:pass@127.0.0.1:port`.
    pub fn url(&self) -> String {
        server().url(&self.user, &self.pass)
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let Ok(mut root) = Conn::new(server().opts("root", "")) else {
            return;
        };
        let ids: Vec<u64> = root
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?",
                (&self.user,),
            )
            .unwrap_or_default();
        for id in ids {
            let _ = root.query_drop(format!("KILL CONNECTION {id}"));
        }
        let _ = root.query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.user));
    }
}

/// Creates `t_<name>_<pid>_<n>`@`%` with `grants` (e.g. `"PROCESS ON *.*"`,
/// `"SELECT ON appdb.*"`; none = `USAGE` only).
pub fn test_user(name: &str, grants: &[&str]) -> TestUser {
    let user = unique(&format!("t_{name}"));
    let pass = format!("pw_{user}");
    let mut root = root_conn();
    root.query_drop(format!(
        "CREATE OR REPLACE USER '{user}'@'%' IDENTIFIED BY '{pass}'"
    ))
    .unwrap_or_else(|e| panic!("create user {user}: {e}"));
    for grant in grants {
        root.query_drop(format!("GRANT {grant} TO '{user}'@'%'"))
            .unwrap_or_else(|e| panic!("grant {grant} to {user}: {e}"));
    }
    TestUser { user, pass }
}

/// How many sessions `user` has on the shared server.
pub fn count_sessions(user: &str) -> usize {
    let mut root = root_conn();
    let n: Option<u64> = root
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?",
            (user,),
        )
        .unwrap_or_else(|e| panic!("count sessions of {user}: {e}"));
    n.unwrap_or(0) as usize
}

/// Polls `check` every 50 ms until it is true or `timeout` passes; returns
/// whether it became true.
pub fn wait_until(timeout: Duration, check: impl FnMut() -> bool) -> bool {
    wait_until_every(timeout, Duration::from_millis(50), check)
}

/// [`wait_until`] polling every `step`.
pub fn wait_until_every(
    timeout: Duration,
    step: Duration,
    mut check: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(step);
    }
}

/// The server error code of a driver error.
pub fn mysql_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

/// A private sandbox with `max_connections`, for a test that must not touch
/// the shared server.
pub fn private_sandbox(max_connections: u32) -> Sandbox {
    Sandbox::start(SandboxOptions {
        max_connections,
        ..SandboxOptions::default()
    })
    .unwrap()
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// `conntop-<name>_<pid>_<n>` (see [`unique`]), created empty.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(unique(&format!("conntop-{name}")));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The path of `name` in the directory.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }

    /// Writes `text` to `name` in the directory; returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Longest a run of the binary may take in [`run_conntop`].
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Environment variables that would change what the binary connects to.
const MYSQL_ENV: [&str; 4] = [
    "MYSQL_PWD",
    "MYSQL_HOST",
    "MYSQL_TCP_PORT",
    "MYSQL_UNIX_PORT",
];

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    /// The one non-empty line on stderr (panics when there are more or none).
    #[track_caller]
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "want one line on stderr: {self:?}");
        lines[0]
    }

    /// Asserts the error contract: exit `code`, nothing on stdout, exactly
    /// one non-empty line on stderr (returned, without the `conntop: ` prefix).
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:?}");
        assert!(self.stdout.is_empty(), "stdout not empty: {self:?}");
        let line = self.error_line();
        assert!(
            !self.stderr.contains('\x1b'),
            "escape sequences on stderr: {self:?}"
        );
        assert!(line.starts_with("conntop: "), "{line}");
        line.trim_start_matches("conntop: ")
    }

    /// Stdout parsed as JSON, after asserting a clean exit.
    #[track_caller]
    pub fn json(&self) -> Json {
        assert_eq!(self.code, Some(0), "{self:?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the binary with `args`, stdin null, without the `MYSQL_*`
/// environment, plus `envs`; ended by its own PID after [`RUN_LIMIT`].
pub fn run_conntop<S: AsRef<OsStr>>(args: &[S], envs: &[(&str, &str)]) -> Run {
    run_conntop_within(RUN_LIMIT, args, envs)
}

/// [`run_conntop`], ended after `limit` instead of [`RUN_LIMIT`].
pub fn run_conntop_within<S: AsRef<OsStr>>(
    limit: Duration,
    args: &[S],
    envs: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(conntop_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in MYSQL_ENV {
        cmd.env_remove(key);
    }
    cmd.envs(envs.iter().copied());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let out = read_on_thread(child.stdout.take().unwrap());
    let err = read_on_thread(child.stderr.take().unwrap());
    let mut status = None;
    let finished = wait_until(limit, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let took = started.elapsed();
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
        panic!("conntop did not finish within {limit:?}");
    }
    Run {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        took,
    }
}

/// Reads `pipe` to its end on a thread of its own (so neither pipe can fill
/// up and block the child).
fn read_on_thread(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}
