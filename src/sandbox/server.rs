//! The [`Sandbox`]: starting, stopping and restarting one server process.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

use super::binaries::{Binaries, free_port, is_executable, running_as_root, search_dirs};
use super::datadir::{fresh_temp_dir, innodb_args, socket_path};
use super::error::{SandboxError, error_on_one_line, io_err, last_lines, setup_err};
use super::{
    ACCOUNTS, APP, APP_DATABASE, APP_TABLE, Account, BATCH, DEFAULT_MAX_CONNECTIONS, MONITOR,
    NOPRIVS, REPORTS, ROOT,
};
use crate::snapshot::Flavor;

/// The only address a sandbox listens on.
const LOOPBACK: &str = "127.0.0.1";
/// Longest wait for a started server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a clean shutdown before `SIGKILL`.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often startup and shutdown are checked.
const POLL: Duration = Duration::from_millis(20);
/// Tries at finding a free port when the chosen one turns out to be taken.
const PORT_ATTEMPTS: u32 = 3;
const ERROR_LOG: &str = "error.log";
const OUTPUT_LOG: &str = "mysqld.out";
const PID_FILE: &str = "mysqld.pid";

/// How to start a [`Sandbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// TCP port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
    /// The server's `max_connections`.
    pub max_connections: u32,
    /// Data directory to use (initialised when it has no `mysql/` yet, kept on
    /// stop); `None` makes a fresh temp dir that is removed on stop.
    pub datadir: Option<PathBuf>,
    /// More server arguments, appended last (they win over ours).
    pub extra_args: Vec<String>,
    /// Start with the performance schema on, metadata lock instrument
    /// included (off by default: it costs memory and start time).
    pub performance_schema: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            datadir: None,
            extra_args: Vec::new(),
            performance_schema: false,
        }
    }
}

/// Reads a file, or an empty string when it is missing or unreadable.
fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Connection options for `account` on 127.0.0.1:`port` over TCP.
pub(super) fn tcp_opts(port: u16, account: Account) -> OptsBuilder {
    OptsBuilder::new()
        .ip_or_hostname(Some(LOOPBACK))
        .tcp_port(port)
        .user(Some(account.user))
        .pass((!account.password.is_empty()).then_some(account.password))
        .prefer_socket(false)
        .tcp_connect_timeout(Some(Duration::from_secs(5)))
}

/// A running throwaway server, owned by this process. Dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    pub(super) bin: Binaries,
    port: u16,
    max_connections: u32,
    extra_args: Vec<String>,
    performance_schema: bool,
    pub(super) datadir: PathBuf,
    socket: PathBuf,
    /// The datadir is ours to remove on stop.
    temp: bool,
    child: Option<Child>,
    /// Stops the server and removes a temp datadir should this process die
    /// without dropping the sandbox (a test killed by a signal).
    watcher: Option<Child>,
    pid: u32,
}

impl Sandbox {
    /// Finds `mariadbd` (preferred) or `mysqld` on `PATH`, then in `/usr/sbin`,
    /// `/usr/local/sbin`, `/usr/local/mysql/bin` and `/opt/homebrew/bin`.
    pub fn find_server() -> Result<PathBuf, SandboxError> {
        let dirs = search_dirs();
        ["mariadbd", "mysqld"]
            .iter()
            .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
            .find(|p| is_executable(p))
            .ok_or(SandboxError::NotFound)
    }

    /// Initialises a data directory (when needed), starts the server, waits
    /// until it accepts connections and creates the sandbox accounts.
    ///
    /// With the datadir template in place this takes about 0.2 s on MariaDB
    /// 10.11 (the first start on a machine also runs the installer, about
    /// 0.5 s more). On error everything started so far is stopped and a temp
    /// datadir removed.
    pub fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let bin = Binaries::locate()?;
        let (datadir, temp) = match &opts.datadir {
            Some(dir) => (dir.clone(), false),
            None => (fresh_temp_dir()?, true),
        };
        let socket = socket_path(&datadir);
        // From here on, dropping `sandbox` cleans up whatever was started.
        let mut sandbox = Sandbox {
            bin,
            port: opts.port.unwrap_or(0),
            max_connections: opts.max_connections,
            extra_args: opts.extra_args,
            performance_schema: opts.performance_schema,
            datadir,
            socket,
            temp,
            child: None,
            watcher: None,
            pid: 0,
        };
        if !sandbox.datadir.join("mysql").is_dir() {
            sandbox.initialize()?;
        }
        let attempts = if opts.port.is_some() {
            1
        } else {
            PORT_ATTEMPTS
        };
        for attempt in 1..=attempts {
            if opts.port.is_none() {
                sandbox.port = free_port()?;
            }
            match sandbox.launch() {
                Ok(()) => break,
                Err(LaunchError::PortTaken(_)) if attempt < attempts => continue,
                Err(LaunchError::PortTaken(e) | LaunchError::Other(e)) => return Err(e),
            }
        }
        sandbox.setup()?;
        Ok(sandbox)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// PID of the server process (the last one, once stopped).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The data directory.
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The server's `max_connections`.
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// True while the server process is alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_)) | Err(_)) | None => false,
        }
    }

    /// Options for `root` over TCP to 127.0.0.1:port (`prefer_socket(false)`).
    pub fn root_opts(&self) -> OptsBuilder {
        self.opts(ROOT)
    }

    /// Options for `account` over TCP to 127.0.0.1:port (`prefer_socket(false)`).
    pub fn opts(&self, account: Account) -> OptsBuilder {
        tcp_opts(self.port, account)
    }

    /// `mysql://user:pass@127.0.0.1:port` for one of the sandbox [`ACCOUNTS`]
    /// (an unknown user gets no password).
    pub fn url(&self, user: &str) -> String {
        match ACCOUNTS.iter().find(|a| a.user == user) {
            Some(a) if !a.password.is_empty() => {
                format!("mysql://{user}:{}@{LOOPBACK}:{}", a.password, self.port)
            }
            _ => format!("mysql://{user}@{LOOPBACK}:{}", self.port),
        }
    }

    /// Stops the server cleanly and starts it again on the same port and datadir.
    pub fn restart(&mut self) -> Result<(), SandboxError> {
        self.shutdown()?;
        match self.launch() {
            Ok(()) => {}
            Err(LaunchError::PortTaken(e) | LaunchError::Other(e)) => return Err(e),
        }
        self.setup()
    }

    /// Stops the server (`SIGTERM` to its PID, `SIGKILL` after 20 s) and
    /// removes a temp datadir. Calling it again does nothing.
    pub fn stop(&mut self) -> Result<(), SandboxError> {
        self.shutdown()?;
        if self.socket.parent() != Some(self.datadir.as_path()) {
            let _ = fs::remove_file(&self.socket);
        }
        if self.temp && self.datadir.exists() {
            fs::remove_dir_all(&self.datadir).map_err(io_err(format!(
                "remove the sandbox datadir {}",
                self.datadir.display()
            )))?;
        }
        Ok(())
    }
    fn server_args(&self) -> Vec<String> {
        let d = &self.datadir;
        let mut args = vec![
            "--no-defaults".to_string(),
            format!("--datadir={}", d.display()),
        ];
        if running_as_root() {
            args.push("--user=root".into());
        }
        args.extend([
            format!("--port={}", self.port),
            format!("--bind-address={LOOPBACK}"),
            format!("--socket={}", self.socket.display()),
            format!("--pid-file={}", d.join(PID_FILE).display()),
            // Private tmpdir (see `install`).
            format!("--tmpdir={}", d.display()),
            "--skip-name-resolve".into(),
            format!("--max-connections={}", self.max_connections),
            // The spike scenario's bad passwords must not get a host blocked.
            "--max-connect-errors=1000000".into(),
            format!("--log-error={}", d.join(ERROR_LOG).display()),
            "--skip-log-bin".into(),
            "--event-scheduler=ON".into(),
        ]);
        if self.performance_schema {
            args.extend([
                "--performance-schema=ON".to_string(),
                "--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON".to_string(),
            ]);
        } else {
            args.push("--performance-schema=OFF".into());
        }
        args.extend(innodb_args().iter().map(|s| s.to_string()));
        if self.bin.flavor == Flavor::MySql {
            args.push("--mysqlx=OFF".into());
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// Spawns the server and waits until root can connect over the socket.
    fn launch(&mut self) -> Result<(), LaunchError> {
        let log = self.datadir.join(ERROR_LOG);
        let log_start = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let out = File::create(self.datadir.join(OUTPUT_LOG))
            .map_err(io_err("create the server output file"))?;
        let err = out
            .try_clone()
            .map_err(io_err("create the server output file"))?;
        let child = Command::new(&self.bin.server)
            .args(self.server_args())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io_err(format!("run {}", self.bin.server.display())))?;
        self.pid = child.id();
        self.child = Some(child);
        self.watcher = self.spawn_watcher();
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last_error = String::from("no socket yet");
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                let detail = format!(
                    "{} exited with {status} during startup: {}",
                    self.bin.server.display(),
                    self.log_tail(log_start)
                );
                let taken = detail.contains("Address already in use")
                    || detail.contains("Bind on TCP/IP port");
                let e = SandboxError::Start { detail };
                return Err(if taken {
                    LaunchError::PortTaken(e)
                } else {
                    LaunchError::Other(e)
                });
            }
            if self.socket.exists() {
                match Conn::new(self.socket_opts()) {
                    Ok(_) => return Ok(()),
                    Err(e) => last_error = e.to_string(),
                }
            }
            thread::sleep(POLL);
        }
        let _ = self.shutdown();
        Err(LaunchError::Other(SandboxError::Start {
            detail: format!(
                "no connection within {} s (last error: {}): {}",
                START_TIMEOUT.as_secs(),
                error_on_one_line(&last_error),
                self.log_tail(log_start)
            ),
        }))
    }

    /// Starts a small `sh` that waits for this process to end (checking once
    /// a second, for at most a week) and then does what [`Sandbox::stop`]
    /// would have done: `SIGTERM` to the server's PID, `SIGKILL` after 20 s,
    /// remove the temp datadir. It ignores INT/TERM/HUP so the signal that
    /// killed its owner does not kill it too. Normal stops kill it first.
    fn spawn_watcher(&self) -> Option<Child> {
        const SCRIPT: &str = r#"trap '' INT TERM HUP
owner=$1 server=$2 dir=$3 i=0
while [ "$i" -lt 604800 ] && kill -0 "$owner" 2>/dev/null; do sleep 1; i=$((i + 1)); done
kill -0 "$owner" 2>/dev/null && exit 0
if kill -TERM "$server" 2>/dev/null; then
  j=0
  while [ "$j" -lt 200 ] && kill -0 "$server" 2>/dev/null; do sleep 0.1; j=$((j + 1)); done
  kill -KILL "$server" 2>/dev/null
fi
[ -n "$dir" ] && rm -rf -- "$dir"
exit 0"#;
        let dir = if self.temp {
            self.datadir.to_string_lossy().into_owned()
        } else {
            String::new()
        };
        Command::new("/bin/sh")
            .args(["-c", SCRIPT, "conntop-sandbox-watch"])
            .arg(std::process::id().to_string())
            .arg(self.pid.to_string())
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }

    /// Root over the unix socket: works before `root@127.0.0.1` exists.
    fn socket_opts(&self) -> OptsBuilder {
        OptsBuilder::new()
            .socket(Some(self.socket.to_string_lossy()))
            .user(Some(ROOT.user))
            .read_timeout(Some(Duration::from_secs(30)))
    }

    /// The exit status when the server has exited (and forgets the child).
    pub(super) fn exit_status(&mut self) -> Option<ExitStatus> {
        let status = match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => return None,
        };
        self.child = None;
        Some(status)
    }

    /// The last lines the server wrote since `log_start`, on one line.
    pub(super) fn log_tail(&self, log_start: u64) -> String {
        let log = read_lossy(&self.datadir.join(ERROR_LOG));
        let start = usize::try_from(log_start).unwrap_or(0);
        let fresh = log.get(start..).unwrap_or(&log);
        let out = read_lossy(&self.datadir.join(OUTPUT_LOG));
        let tail = last_lines(&format!("{out}\n{fresh}"), 6);
        if tail.is_empty() {
            format!("(nothing in {})", self.datadir.join(ERROR_LOG).display())
        } else {
            tail
        }
    }

    /// Creates the accounts and the app database (idempotent), then checks
    /// that root can log in over TCP.
    fn setup(&mut self) -> Result<(), SandboxError> {
        let mut conn = Conn::new(self.socket_opts()).map_err(setup_err("connect as root"))?;
        let mut statements = vec![
            format!("CREATE USER IF NOT EXISTS 'root'@'{LOOPBACK}'"),
            format!("GRANT ALL PRIVILEGES ON *.* TO 'root'@'{LOOPBACK}' WITH GRANT OPTION"),
            format!("CREATE DATABASE IF NOT EXISTS {APP_DATABASE}"),
            format!(
                "CREATE TABLE IF NOT EXISTS {APP_TABLE} (id INT PRIMARY KEY, \
                 n BIGINT NOT NULL DEFAULT 0, note VARCHAR(64) NOT NULL DEFAULT '') \
                 ENGINE=InnoDB"
            ),
            format!(
                "INSERT IGNORE INTO {APP_TABLE} (id, note) VALUES (1, 'orders'), \
                 (2, 'invoices'), (3, 'customers'), (4, 'stock'), (5, 'shipping'), \
                 (6, 'returns'), (7, 'coupons'), (8, 'audit')"
            ),
        ];
        for account in [MONITOR, APP, REPORTS, BATCH, NOPRIVS] {
            statements.push(format!(
                "CREATE USER IF NOT EXISTS '{}'@'%' IDENTIFIED BY '{}'",
                account.user, account.password
            ));
        }
        for account in [APP, REPORTS, BATCH] {
            statements.push(format!(
                "GRANT ALL PRIVILEGES ON {APP_DATABASE}.* TO '{}'@'%'",
                account.user
            ));
        }
        for sql in &statements {
            conn.query_drop(sql).map_err(setup_err(sql.clone()))?;
        }
        // MariaDB >= 10.5.2 splits CONNECTION ADMIN out of SUPER; MySQL 8 spells
        // it CONNECTION_ADMIN; older servers only know SUPER.
        let mut last = None;
        for privs in ["CONNECTION ADMIN", "CONNECTION_ADMIN", "SUPER"] {
            let sql = format!("GRANT PROCESS, {privs} ON *.* TO '{}'@'%'", MONITOR.user);
            match conn.query_drop(&sql) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some((sql, e)),
            }
        }
        if let Some((sql, e)) = last {
            return Err(SandboxError::Setup {
                action: sql,
                source: e,
            });
        }
        if self.performance_schema {
            // What a monitor needs to read the lock tables there.
            let sql = format!(
                "GRANT SELECT ON performance_schema.* TO '{}'@'%'",
                MONITOR.user
            );
            conn.query_drop(&sql).map_err(setup_err(sql.clone()))?;
        }
        drop(conn);
        Conn::new(self.root_opts()).map_err(setup_err(format!(
            "connect as root over TCP to {LOOPBACK}:{}",
            self.port
        )))?;
        Ok(())
    }

    /// Stops the server process cleanly; keeps the datadir.
    fn shutdown(&mut self) -> Result<(), SandboxError> {
        if let Some(mut watcher) = self.watcher.take() {
            let _ = watcher.kill();
            let _ = watcher.wait();
        }
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(());
        }
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !term.is_ok_and(|s| s.success()) {
            // No `kill` command: SIGKILL is all std offers.
            let _ = child.kill();
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => thread::sleep(POLL / 2),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SandboxError::Io {
                        action: format!("wait for the server (pid {})", self.pid),
                        source: e,
                    });
                }
            }
        }
        let _ = child.kill();
        child
            .wait()
            .map_err(io_err(format!("wait for the server (pid {})", self.pid)))?;
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A failed launch; a taken port is worth another try on a new port.
enum LaunchError {
    PortTaken(SandboxError),
    Other(SandboxError),
}

impl From<SandboxError> for LaunchError {
    fn from(e: SandboxError) -> Self {
        LaunchError::Other(e)
    }
}
