//! Shared helpers for the integration tests.
//!
//! The tests share ONE server, started by `bash .ci/run` and found through
//! `CONNTOP_TEST_PORT` (and `CONNTOP_TEST_SOCKET`). Without it they panic:
//! a test must never pass by skipping. Tests that need a server of their own
//! (restart, a small `max_connections`) call `conntop::sandbox::Sandbox::start`.
//!
//! Parallel tests must not count each other's sessions: each test makes its
//! own user with [`test_user`] and looks only at that user's sessions.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

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
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
