//! A throwaway MariaDB/MySQL server and scenario load, for the demo, tests and benches.
//!
//! [`Sandbox::start`] initialises a fresh data directory, runs `mariadbd` (or
//! `mysqld`) as a child process on a loopback port and creates the accounts
//! listed below ([`ROOT`], [`MONITOR`], [`APP`], [`REPORTS`], [`BATCH`],
//! [`NOPRIVS`]) and the `appdb` database. [`Load`] then drives a [`Scenario`]
//! against it: leaked idle connections, long statements and an open
//! transaction, steady pools from distinct client hosts, bursts of short
//! connections. [`serve`] keeps one sandbox up for another process (the CI
//! script) until its stdin closes.
//!
//! A fresh datadir is a copy of a template installed once per server binary
//! (`<tmp>/conntop-sandbox-template-<key>`), so a start costs the server's
//! own boot plus account setup. Each server has a small `sh` watcher that
//! stops it and removes its temp datadir if the owning process dies without
//! dropping the [`Sandbox`] (a test killed by a signal).
//!
//! Everything stays on loopback addresses; every wait is bounded by a count
//! or a deadline, and the server is only ever signalled through its own PID.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

use crate::snapshot::Flavor;

/// A login created on every sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Account {
    /// User name (the host part is `%`, or `localhost`/`127.0.0.1` for root).
    pub user: &'static str,
    /// Password; empty for root.
    pub password: &'static str,
}

/// `root`, no password, at `localhost` and `127.0.0.1`, all privileges.
pub const ROOT: Account = Account {
    user: "root",
    password: "",
};
/// `conntop`: the monitor and killer (`PROCESS`, `CONNECTION ADMIN` or `SUPER`).
pub const MONITOR: Account = Account {
    user: "conntop",
    password: "conntop",
};
/// `app`: a normal application, all privileges on `appdb.*` only.
pub const APP: Account = Account {
    user: "app",
    password: "app",
};
/// `reports`: another application account, all privileges on `appdb.*`.
pub const REPORTS: Account = Account {
    user: "reports",
    password: "reports",
};
/// `batch`: another application account, all privileges on `appdb.*`.
pub const BATCH: Account = Account {
    user: "batch",
    password: "batch",
};
/// `noprivs`: `USAGE` only, for privilege-error tests.
pub const NOPRIVS: Account = Account {
    user: "noprivs",
    password: "noprivs",
};
/// Every account a sandbox creates.
pub const ACCOUNTS: [Account; 6] = [ROOT, MONITOR, APP, REPORTS, BATCH, NOPRIVS];
/// The application database the app accounts own.
pub const APP_DATABASE: &str = "appdb";
/// A small table in [`APP_DATABASE`] (`id`, `n`, `note`; rows 1..=8).
pub const APP_TABLE: &str = "appdb.t";
/// `max_connections` when the caller has no opinion.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 100;

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
/// Longest a [`serve`] call keeps its server.
const SERVE_MAX: Duration = Duration::from_secs(24 * 3600);
const ERROR_LOG: &str = "error.log";
const OUTPUT_LOG: &str = "mysqld.out";
const PID_FILE: &str = "mysqld.pid";
const SOCKET_FILE: &str = "mysqld.sock";
/// Present in a complete datadir template.
const TEMPLATE_MARK: &str = "conntop-template-complete";
/// Unix socket paths are limited to ~104-108 bytes; longer ones move to the temp dir.
const MAX_SOCKET_PATH: usize = 100;
/// Directories searched after `PATH`.
const EXTRA_DIRS: [&str; 4] = [
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/local/mysql/bin",
    "/opt/homebrew/bin",
];

/// Numbers the sandboxes of this process, for their temp dir names.
static SANDBOX_SEQ: AtomicU32 = AtomicU32::new(0);

/// Why a sandbox could not be started, served or stopped.
#[derive(Debug)]
pub enum SandboxError {
    /// Neither `mariadbd` nor `mysqld` was found.
    NotFound,
    /// A MariaDB server was found but no `mariadb-install-db` next to it.
    InstallerNotFound {
        /// The server binary that was found.
        server: PathBuf,
    },
    /// Initialising the data directory failed.
    Install {
        /// The data directory being initialised.
        datadir: PathBuf,
        /// The installer's status and last lines of output.
        detail: String,
    },
    /// A file or process operation failed.
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The server did not come up.
    Start {
        /// What happened, with the last lines of the error log.
        detail: String,
    },
    /// A statement creating the accounts or the app database failed.
    Setup {
        /// What was being done.
        action: String,
        /// The server's or the driver's error.
        source: mysql::Error,
    },
    /// The server exited on its own while it was being served.
    Exited {
        /// Exit status and the last lines of the error log.
        detail: String,
    },
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::NotFound => write!(
                f,
                "no mariadbd or mysqld found: install MariaDB with {}",
                install_hint()
            ),
            SandboxError::InstallerNotFound { server } => write!(
                f,
                "found {} but no mariadb-install-db or mysql_install_db next to it or on PATH",
                server.display()
            ),
            SandboxError::Install { datadir, detail } => write!(
                f,
                "could not initialise the sandbox data directory {}: {detail}",
                datadir.display()
            ),
            SandboxError::Io { action, source } => write!(f, "could not {action}: {source}"),
            SandboxError::Start { detail } => write!(f, "sandbox server did not start: {detail}"),
            SandboxError::Setup { action, source } => {
                write!(
                    f,
                    "sandbox setup failed: {action}: {}",
                    error_on_one_line(&source.to_string())
                )
            }
            SandboxError::Exited { detail } => write!(f, "sandbox server exited: {detail}"),
        }
    }
}

/// The command that installs MariaDB on this machine: `brew` on macOS, else `apt-get`
/// (after `apt-get update`, which a fresh machine needs) as root, through `sudo`, or
/// "as root" when this user has no `sudo`.
fn install_hint() -> String {
    const APT: &str = "apt-get update && apt-get install -y mariadb-server";
    const MACOS: &str = "brew install mariadb";
    if cfg!(target_os = "macos") {
        return MACOS.to_string();
    }
    // The effective uid is the second number of the `Uid:` line.
    let root = fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    let sudo = search_dirs().iter().any(|d| is_executable(&d.join("sudo")));
    let linux = match (root, sudo) {
        (true, _) => APT.to_string(),
        (false, true) => {
            "sudo apt-get update && sudo apt-get install -y mariadb-server".to_string()
        }
        (false, false) => format!("(as root) {APT}"),
    };
    format!("{linux} (Debian/Ubuntu; macOS: {MACOS})")
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Io { source, .. } => Some(source),
            SandboxError::Setup { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Wraps an `io::Error` with what was being done.
fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> SandboxError {
    let action = action.into();
    move |source| SandboxError::Io { action, source }
}

/// Wraps a `mysql::Error` with what was being done.
fn setup_err(action: impl Into<String>) -> impl FnOnce(mysql::Error) -> SandboxError {
    let action = action.into();
    move |source| SandboxError::Setup { action, source }
}

/// Joins the non-empty lines of `text` with " | " so an error stays on one
/// line, keeping the end (where the cause is) when it is long.
fn error_on_one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    const MAX: usize = 900;
    if joined.len() <= MAX {
        return joined;
    }
    let mut cut = joined.len() - MAX;
    while !joined.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &joined[cut..])
}

/// The last `n` non-empty lines of `text`, on one line.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    error_on_one_line(&lines[lines.len().saturating_sub(n)..].join("\n"))
}

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
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            datadir: None,
            extra_args: Vec::new(),
        }
    }
}

/// The server binary, its family and the tool that initialises a data dir.
#[derive(Debug, Clone)]
struct Binaries {
    server: PathBuf,
    flavor: Flavor,
    /// `mariadb-install-db`; `None` for MySQL (`mysqld --initialize-insecure`).
    installer: Option<PathBuf>,
}

impl Binaries {
    fn locate() -> Result<Binaries, SandboxError> {
        let server = Sandbox::find_server()?;
        let flavor = server_flavor(&server);
        let installer =
            match flavor {
                Flavor::MySql => None,
                Flavor::MariaDb => Some(find_installer(&server).ok_or_else(|| {
                    SandboxError::InstallerNotFound {
                        server: server.clone(),
                    }
                })?),
            };
        Ok(Binaries {
            server,
            flavor,
            installer,
        })
    }
}

/// `PATH` followed by the usual server directories.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(EXTRA_DIRS.iter().map(PathBuf::from));
    dirs
}

fn is_executable(path: &Path) -> bool {
    match fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        Ok(meta) => meta.is_file(),
        Err(_) => false,
    }
}

/// MariaDB's installer: next to the server, in `../bin`, `../scripts`, then on `PATH`.
fn find_installer(server: &Path) -> Option<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = server.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(prefix) = dir.parent() {
            dirs.push(prefix.join("bin"));
            dirs.push(prefix.join("scripts"));
        }
    }
    dirs.extend(search_dirs());
    ["mariadb-install-db", "mysql_install_db"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| is_executable(p))
}

/// `mariadbd` is MariaDB; a `mysqld` says which it is in `--version`.
fn server_flavor(server: &Path) -> Flavor {
    if server.file_name().is_some_and(|n| n == "mariadbd") {
        return Flavor::MariaDb;
    }
    match Command::new(server)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => Flavor::from_version(&String::from_utf8_lossy(&out.stdout)),
        Err(_) => Flavor::MariaDb,
    }
}

/// True when this process runs as root (the server then needs `--user=root`).
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = fs::metadata("/proc/self") {
            return meta.uid() == 0;
        }
    }
    Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A port the kernel just handed out on 127.0.0.1 (released again before use).
fn free_port() -> Result<u16, SandboxError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_err("find a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_err("find a free port"))?
        .port();
    Ok(port)
}

/// Reads a file, or an empty string when it is missing or unreadable.
fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Connection options for `account` on 127.0.0.1:`port` over TCP.
fn tcp_opts(port: u16, account: Account) -> OptsBuilder {
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
    bin: Binaries,
    port: u16,
    max_connections: u32,
    extra_args: Vec<String>,
    datadir: PathBuf,
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

    /// Fills the empty datadir: a copy of the cached template when possible
    /// (a few milliseconds), else a fresh install (about half a second).
    fn initialize(&self) -> Result<(), SandboxError> {
        if let Some(template) = self.template() {
            if copy_tree(&template, &self.datadir).is_ok() {
                return Ok(());
            }
            // Unreadable template (another user's?): install instead.
            let _ = fs::remove_dir_all(&self.datadir);
        }
        self.install_into(&self.datadir)
    }

    /// A freshly installed, cleanly shut down datadir under the temp dir,
    /// made once per server binary and reused: `conntop-sandbox-template-<key>`.
    /// It is built in a private dir and renamed into place, so parallel
    /// sandboxes never see a half-made one; the marker file says it is whole.
    fn template(&self) -> Option<PathBuf> {
        let tmp = std::env::temp_dir();
        let name = format!("conntop-sandbox-template-{:016x}", self.template_key());
        let dir = tmp.join(&name);
        if dir.join(TEMPLATE_MARK).is_file() {
            return Some(dir);
        }
        let n = SANDBOX_SEQ.fetch_add(1, Ordering::Relaxed);
        let building = tmp.join(format!("{name}.{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&building);
        let built = self.install_into(&building).is_ok()
            && fs::write(building.join(TEMPLATE_MARK), b"").is_ok()
            && (fs::rename(&building, &dir).is_ok() || dir.join(TEMPLATE_MARK).is_file());
        let _ = fs::remove_dir_all(&building);
        built.then_some(dir)
    }

    /// Changes with the server binary (path, size, mtime), the installer and
    /// the user we run as.
    fn template_key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.bin.server.hash(&mut h);
        self.bin.installer.hash(&mut h);
        if let Ok(meta) = fs::metadata(&self.bin.server) {
            meta.len().hash(&mut h);
            meta.modified().ok().hash(&mut h);
        }
        running_as_root().hash(&mut h);
        innodb_args().hash(&mut h);
        h.finish()
    }

    /// Runs the installer into `dir`, quietly unless it fails.
    fn install_into(&self, dir: &Path) -> Result<(), SandboxError> {
        fs::create_dir_all(dir).map_err(io_err(format!(
            "create the sandbox datadir {}",
            dir.display()
        )))?;
        let datadir = format!("--datadir={}", dir.display());
        let mut cmd;
        match &self.bin.installer {
            Some(installer) => {
                cmd = Command::new(installer);
                cmd.args(["--no-defaults", &datadir]);
                if running_as_root() {
                    cmd.arg("--user=root");
                }
                cmd.args([
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ]);
            }
            None => {
                cmd = Command::new(&self.bin.server);
                cmd.args(["--no-defaults", "--initialize-insecure", &datadir]);
                if running_as_root() {
                    cmd.arg("--user=root");
                }
            }
        }
        // A private tmpdir: a starting server deletes every `#sql*` file in
        // its tmpdir, so sandboxes sharing /tmp break each other's installs.
        cmd.arg(format!("--tmpdir={}", dir.display()));
        cmd.args(innodb_args()).stdin(Stdio::null());
        let out = cmd.output().map_err(io_err("run the sandbox installer"))?;
        if out.status.success() {
            return Ok(());
        }
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Err(SandboxError::Install {
            datadir: dir.to_path_buf(),
            detail: format!("{}: {}", out.status, last_lines(&text, 6)),
        })
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
            "--performance-schema=OFF".into(),
            "--event-scheduler=ON".into(),
        ]);
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
    fn exit_status(&mut self) -> Option<ExitStatus> {
        let status = match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => return None,
        };
        self.child = None;
        Some(status)
    }

    /// The last lines the server wrote since `log_start`, on one line.
    fn log_tail(&self, log_start: u64) -> String {
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

/// Server arguments that keep a sandbox small; the installer gets them too.
fn innodb_args() -> [&'static str; 2] {
    [
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=16M",
    ]
}

/// Copies the files and directories under `from` into `to` (created), at
/// most 4 levels deep; a datadir has no links or special files.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fn walk(from: &Path, to: &Path, depth: u32) -> io::Result<()> {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let target = to.join(entry.file_name());
            if kind.is_dir() && depth < 4 {
                walk(&entry.path(), &target, depth + 1)?;
            } else if kind.is_file() && entry.file_name() != TEMPLATE_MARK {
                fs::copy(entry.path(), &target)?;
            }
        }
        Ok(())
    }
    walk(from, to, 0)
}

/// `<tmp>/conntop-sandbox-<pid>-<n>`, created empty (a stale one is removed).
fn fresh_temp_dir() -> Result<PathBuf, SandboxError> {
    let n = SANDBOX_SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("conntop-sandbox-{}-{n}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io_err(format!(
            "remove the stale sandbox dir {}",
            dir.display()
        )))?;
    }
    fs::create_dir_all(&dir).map_err(io_err(format!(
        "create the sandbox datadir {}",
        dir.display()
    )))?;
    Ok(dir)
}

/// `<datadir>/mysqld.sock`, or a temp-dir path when that is too long for a socket.
fn socket_path(datadir: &Path) -> PathBuf {
    let inside = datadir.join(SOCKET_FILE);
    if inside.as_os_str().len() <= MAX_SOCKET_PATH {
        return inside;
    }
    let n = SANDBOX_SEQ.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("conntop-{}-{n}.sock", std::process::id()))
}

/// Starts a sandbox, writes `port=<P> socket=<S> pid=<server pid>` and a
/// newline to `ready`, then keeps the server up until stdin reaches EOF (or
/// delivers any input), and stops it cleanly.
///
/// This is what `conntop sandbox` runs: a script holds the process's stdin
/// open (a fifo) and closes it to stop the server. Stdin at EOF from the
/// start (`</dev/null`) stops the server right after it is ready.
pub fn serve(opts: SandboxOptions, ready: &mut dyn Write) -> Result<(), SandboxError> {
    serve_until(opts, ready, io::stdin())
}

/// [`serve`], stopping when `stop` reaches EOF, delivers input or fails
/// (rather than stdin). Returns an error when the server exits on its own.
pub fn serve_until<R: Read + Send + 'static>(
    opts: SandboxOptions,
    ready: &mut dyn Write,
    stop: R,
) -> Result<(), SandboxError> {
    let mut sandbox = Sandbox::start(opts)?;
    writeln!(
        ready,
        "port={} socket={} pid={}",
        sandbox.port(),
        sandbox.socket().display(),
        sandbox.pid()
    )
    .and_then(|()| ready.flush())
    .map_err(io_err("write the ready line"))?;

    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    let spawned = thread::Builder::new()
        .name("sandbox-stdin".into())
        .spawn(move || {
            let mut stop = stop;
            let mut buf = [0u8; 256];
            for _ in 0..100 {
                match stop.read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    _ => break,
                }
            }
            let _ = tx.send(());
        });
    if let Err(e) = spawned {
        return Err(SandboxError::Io {
            action: "start the stdin watcher".into(),
            source: e,
        });
    }
    let deadline = Instant::now() + SERVE_MAX;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(status) = sandbox.exit_status() {
            return Err(SandboxError::Exited {
                detail: format!("{status}: {}", sandbox.log_tail(0)),
            });
        }
    }
    sandbox.stop()
}

// ---------------------------------------------------------------------------
// Scenario load
// ---------------------------------------------------------------------------

/// A kind of trouble [`Load`] makes on a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// `app` opens connections steadily and never closes them (idle `Sleep`).
    Leak,
    /// `SELECT SLEEP(...)` for minutes, an idle open transaction and an
    /// `UPDATE` waiting on its row lock.
    Long,
    /// Four "app servers" (distinct client addresses) holding steady pools.
    Pool,
    /// Bursts of short-lived connections and some bad passwords.
    Spike,
    /// All of the above, sized to fill ~90% of `max_connections` and overflow
    /// it (error 1040) during spikes.
    All,
}

impl Scenario {
    /// The names [`FromStr`] accepts, in order.
    pub const NAMES: [&'static str; 5] = ["leak", "long", "pool", "spike", "all"];

    /// The name [`FromStr`] accepts for this scenario.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Leak => "leak",
            Scenario::Long => "long",
            Scenario::Pool => "pool",
            Scenario::Spike => "spike",
            Scenario::All => "all",
        }
    }

    /// True when this scenario runs the `part` scenario.
    fn runs(self, part: Scenario) -> bool {
        self == Scenario::All || self == part
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown scenario name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseScenarioError(
    /// The name that was given.
    pub String,
);

impl fmt::Display for ParseScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scenario '{}': expected one of {}",
            self.0,
            Scenario::NAMES.join(", ")
        )
    }
}

impl std::error::Error for ParseScenarioError {}

impl FromStr for Scenario {
    type Err = ParseScenarioError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "leak" => Ok(Scenario::Leak),
            "long" => Ok(Scenario::Long),
            "pool" => Ok(Scenario::Pool),
            "spike" => Ok(Scenario::Spike),
            "all" => Ok(Scenario::All),
            _ => Err(ParseScenarioError(s.to_string())),
        }
    }
}

/// Tuning for [`Load::start_with`]; the defaults suit the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The server's `max_connections`; `None` asks the server (100 if it can't).
    pub max_connections: Option<u32>,
    /// Leaked connections opened per second.
    pub leak_per_second: u32,
    /// Delay before the first spike: long enough for a baseline to form
    /// (the spike finding compares with the seconds before).
    pub first_spike_after: Duration,
    /// Pause between spikes.
    pub spike_every: Duration,
    /// Length of each `SELECT SLEEP(...)` in the long scenario.
    pub long_query: Duration,
    /// The load ends by itself after this long.
    pub max_run: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_connections: None,
            leak_per_second: 2,
            first_spike_after: Duration::from_secs(20),
            spike_every: Duration::from_secs(30),
            long_query: Duration::from_secs(600),
            max_run: Duration::from_secs(12 * 3600),
        }
    }
}

/// Counters of a running [`Load`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Connections opened so far.
    pub opened: u64,
    /// Connections the load holds right now.
    pub held: u64,
    /// Connects refused with error 1040 (too many connections).
    pub refused: u64,
    /// Connects that failed for other reasons (server down, ...).
    pub failed: u64,
    /// Deliberate logins with a wrong password.
    pub bad_logins: u64,
}

/// State shared by the load threads and their owner.
#[derive(Default)]
struct Shared {
    opened: AtomicU64,
    held: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    bad_logins: AtomicU64,
    /// Connection ids inside a blocking statement; killed on stop.
    busy: Mutex<HashSet<u32>>,
}

impl Shared {
    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Running scenario threads against a sandbox. Dropping it stops them and
/// closes their connections.
pub struct Load {
    port: u16,
    stop_tx: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Load")
            .field("port", &self.port)
            .field("threads", &self.threads.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// How long [`Load::stop`] waits for its threads.
const LOAD_STOP_GRACE: Duration = Duration::from_secs(3);
/// Source addresses of the simulated client hosts (127.0.0.x).
const HOST_POOLS: [u8; 4] = [2, 3, 4, 5];
const HOST_REPORTS: u8 = 6;
const HOST_BATCH: u8 = 7;
const HOST_APP: u8 = 8;
const HOST_SPIKE: u8 = 9;
const HOST_LEAK: u8 = 10;

impl Load {
    /// Starts `scenario` against the sandbox on 127.0.0.1:`sandbox_port` with
    /// the default [`LoadOptions`].
    pub fn start(sandbox_port: u16, scenario: Scenario) -> Load {
        Load::start_with(sandbox_port, scenario, LoadOptions::default())
    }

    /// Starts `scenario` with explicit tuning. Never fails: threads that
    /// cannot connect back off and retry until stopped.
    pub fn start_with(sandbox_port: u16, scenario: Scenario, opts: LoadOptions) -> Load {
        let max = opts
            .max_connections
            .or_else(|| server_max_connections(sandbox_port))
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        let plan = Plan::new(scenario, max);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::new(Shared::default());
        let ctx = Ctx {
            port: sandbox_port,
            stop: stop_rx,
            deadline: Instant::now() + opts.max_run,
            shared: Arc::clone(&shared),
            distinct_hosts: TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).is_ok(),
        };
        let mut threads = Vec::new();
        let mut spawn = |name: &str, seed: u64, work: Box<dyn FnOnce(Ctx, Jitter) + Send>| {
            let ctx = ctx.clone();
            let jitter = Jitter::new(seed);
            match thread::Builder::new()
                .name(format!("load-{name}"))
                .spawn(move || work(ctx, jitter))
            {
                Ok(handle) => threads.push(handle),
                Err(_) => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        if plan.leak > 0 {
            let (cap, rate) = (plan.leak, opts.leak_per_second.max(1));
            spawn("leak", 1, Box::new(move |c, _| leak(&c, cap, rate)));
        }
        for (i, (account, host)) in plan.pools.iter().copied().enumerate() {
            let size = plan.pool_size;
            spawn(
                &format!("pool{i}"),
                10 + i as u64,
                Box::new(move |c, j| pool(&c, j, account, host, size)),
            );
        }
        if plan.long {
            let secs = opts.long_query.as_secs().max(1);
            let sleepers = [
                (REPORTS, HOST_REPORTS, secs),
                (REPORTS, HOST_REPORTS, secs + secs / 2),
                (BATCH, HOST_BATCH, secs * 2),
            ];
            for (i, (account, host, secs)) in sleepers.into_iter().enumerate() {
                spawn(
                    &format!("sleep{i}"),
                    20 + i as u64,
                    Box::new(move |c, _| sleeper(&c, account, host, secs)),
                );
            }
            spawn("txn", 30, Box::new(|c, _| open_transaction(&c)));
            spawn("blocked", 31, Box::new(|c, _| blocked_update(&c)));
        }
        if plan.spike > 0 {
            let (burst, first, every) = (plan.spike, opts.first_spike_after, opts.spike_every);
            spawn(
                "spike",
                40,
                Box::new(move |c, _| spike(&c, burst, first, every)),
            );
        }
        Load {
            port: sandbox_port,
            stop_tx: Some(stop_tx),
            threads,
            shared,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> LoadStats {
        let s = &self.shared;
        LoadStats {
            opened: s.opened.load(Ordering::Relaxed),
            held: s.held.load(Ordering::Relaxed),
            refused: s.refused.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            bad_logins: s.bad_logins.load(Ordering::Relaxed),
        }
    }

    /// Stops the threads (within about a second) and closes their connections.
    pub fn stop(self) {
        drop(self);
    }

    /// Signals stop, interrupts blocking statements with `KILL QUERY` (as
    /// root) and joins the threads, giving up on stragglers after a grace period.
    fn shutdown(&mut self) {
        let Some(tx) = self.stop_tx.take() else {
            return;
        };
        drop(tx);
        let deadline = Instant::now() + LOAD_STOP_GRACE;
        let mut killer: Option<Conn> = None;
        let mut killed = HashSet::new();
        let mut tries = 0;
        let mut last_try: Option<Instant> = None;
        while Instant::now() < deadline && !self.threads.iter().all(|t| t.is_finished()) {
            let busy: Vec<u32> = self
                .shared
                .busy()
                .iter()
                .copied()
                .filter(|id| !killed.contains(id))
                .collect();
            // A full server refuses root too, until the other threads have
            // closed their connections: retry a few times, spaced out.
            let due = last_try.is_none_or(|t: Instant| t.elapsed() >= Duration::from_millis(100));
            if !busy.is_empty() && killer.is_none() && tries < 10 && due {
                tries += 1;
                last_try = Some(Instant::now());
                killer = Conn::new(tcp_opts(self.port, ROOT)).ok();
            }
            if let Some(conn) = killer.as_mut() {
                for id in busy {
                    let _ = conn.query_drop(format!("KILL QUERY {id}"));
                    killed.insert(id);
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
        for handle in self.threads.drain(..) {
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `SELECT @@max_connections` as root, or `None`.
fn server_max_connections(port: u16) -> Option<u32> {
    let opts = tcp_opts(port, ROOT).read_timeout(Some(Duration::from_secs(5)));
    let mut conn = Conn::new(opts).ok()?;
    conn.query_first::<u32, _>("SELECT @@max_connections")
        .ok()
        .flatten()
}

/// How many connections each part of a scenario holds.
#[derive(Debug)]
struct Plan {
    leak: usize,
    pools: Vec<(Account, u8)>,
    pool_size: usize,
    long: bool,
    spike: usize,
}

impl Plan {
    /// Sizes `scenario` for a server with `max` connections: alone, each part
    /// stays below `max` (the pools together hold 72%, enough for the pool
    /// finding); `All` holds ~92% and its spikes overflow into 1040s.
    fn new(scenario: Scenario, max: u32) -> Plan {
        let max = max as usize;
        let pool_size = (max * 18 / 100).max(2);
        let pools: Vec<(Account, u8)> = if scenario.runs(Scenario::Pool) {
            [REPORTS, REPORTS, BATCH, BATCH]
                .into_iter()
                .zip(HOST_POOLS)
                .collect()
        } else {
            Vec::new()
        };
        let long = scenario.runs(Scenario::Long);
        let long_held = if long { 5 } else { 0 };
        let leak = match scenario {
            Scenario::Leak => (max * 6 / 10).max(1),
            Scenario::All => (max * 92 / 100)
                .saturating_sub(pools.len() * pool_size + long_held)
                .max(1),
            _ => 0,
        };
        let spike = if scenario.runs(Scenario::Spike) {
            (max * 15 / 100).max(5)
        } else {
            0
        };
        Plan {
            leak,
            pools,
            pool_size,
            long,
            spike,
        }
    }
}

/// What every load thread needs.
#[derive(Clone)]
struct Ctx {
    port: u16,
    /// Never sent on; disconnects when the load stops.
    stop: Receiver<()>,
    deadline: Instant,
    shared: Arc<Shared>,
    /// 127.0.0.x source addresses can be bound (Linux); otherwise all use 127.0.0.1.
    distinct_hosts: bool,
}

impl Ctx {
    /// False once the load is stopping or past its deadline.
    fn running(&self) -> bool {
        Instant::now() < self.deadline
            && matches!(
                self.stop.try_recv(),
                Err(crossbeam_channel::TryRecvError::Empty)
            )
    }

    /// Waits `d` (cut short by stop); false when the thread should end.
    fn pause(&self, d: Duration) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.stop.recv_timeout(d.min(left)) {
            Err(RecvTimeoutError::Timeout) => Instant::now() < self.deadline,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    fn opts(&self, account: Account, host: u8) -> OptsBuilder {
        let mut opts =
            tcp_opts(self.port, account).tcp_connect_timeout(Some(Duration::from_secs(2)));
        if account != NOPRIVS && account != ROOT && account != MONITOR {
            opts = opts.db_name(Some(APP_DATABASE));
        }
        if self.distinct_hosts {
            opts = opts.bind_address(Some(SocketAddr::from(([127, 0, 0, host], 0))));
        }
        opts
    }

    /// Connects and counts the outcome.
    fn connect(&self, account: Account, host: u8) -> Result<Tracked, mysql::Error> {
        self.connect_with(self.opts(account, host))
    }

    fn connect_with(&self, opts: OptsBuilder) -> Result<Tracked, mysql::Error> {
        match Conn::new(opts) {
            Ok(conn) => {
                self.shared.opened.fetch_add(1, Ordering::Relaxed);
                self.shared.held.fetch_add(1, Ordering::Relaxed);
                Ok(Tracked {
                    conn,
                    shared: Arc::clone(&self.shared),
                })
            }
            Err(e) => {
                if is_full(&e) {
                    self.shared.refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.shared.failed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }

    /// Runs a statement that may block for long; stop interrupts it with `KILL QUERY`.
    fn blocking(&self, conn: &mut Conn, sql: &str) -> Option<Result<(), mysql::Error>> {
        let id = conn.connection_id();
        self.shared.busy().insert(id);
        // Checked after registering: either stop sees the id, or we see stop.
        let result = self.running().then(|| conn.query_drop(sql));
        self.shared.busy().remove(&id);
        result
    }
}

/// A load connection, counted in [`LoadStats::held`] while it lives.
struct Tracked {
    conn: Conn,
    shared: Arc<Shared>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.shared.held.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Error 1040: the server is full.
fn is_full(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1040)
}

/// Doubling wait after failures: 250 ms up to 4 s.
struct Backoff(Duration);

impl Backoff {
    const MIN: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    fn new() -> Self {
        Backoff(Self::MIN)
    }

    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }

    fn reset(&mut self) {
        self.0 = Self::MIN;
    }
}

/// A small xorshift generator for jitter; no need for real randomness.
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x2545_f491_4f6c_dd1d);
        Jitter((now ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A duration in `lo..hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % hi.saturating_sub(lo).max(1))
    }
}

/// How often the leak looks for its connections that were killed.
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Opens `rate` connections a second as `app` up to `cap` and never uses
/// them again; every [`PRUNE_EVERY`] drops the ones that were killed meanwhile.
fn leak(ctx: &Ctx, cap: usize, rate: u32) {
    let interval = Duration::from_millis(1000 / u64::from(rate));
    let mut held: Vec<Tracked> = Vec::new();
    let mut backoff = Backoff::new();
    let mut next_prune = Instant::now() + PRUNE_EVERY;
    while ctx.running() {
        let wait = if held.len() < cap {
            match ctx.connect(APP, HOST_LEAK) {
                Ok(mut c) => {
                    // A leaked handle usually did some work before it was forgotten.
                    let _ = c
                        .conn
                        .query_drop(format!("SELECT note FROM {APP_TABLE} WHERE id = 1"));
                    held.push(c);
                    backoff.reset();
                    interval
                }
                Err(_) => backoff.next(),
            }
        } else {
            Duration::from_millis(500)
        };
        if Instant::now() >= next_prune {
            prune_killed(ctx, &mut held);
            next_prune = Instant::now() + PRUNE_EVERY;
        }
        if !ctx.pause(wait) {
            break;
        }
    }
}

/// Drops held connections the server no longer lists (killed by someone),
/// asking through a short-lived connection so the held ones stay idle.
fn prune_killed(ctx: &Ctx, held: &mut Vec<Tracked>) {
    let Ok(mut probe) = Conn::new(ctx.opts(APP, HOST_LEAK)) else {
        return;
    };
    let sql = format!(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{}'",
        APP.user
    );
    let Ok(alive) = probe.query::<u64, _>(sql) else {
        return;
    };
    let alive: HashSet<u64> = alive.into_iter().collect();
    held.retain(|c| alive.contains(&u64::from(c.conn.connection_id())));
}

/// One "app server": keeps `size` connections open and runs a short query
/// on one of them every few hundred milliseconds.
fn pool(ctx: &Ctx, mut jitter: Jitter, account: Account, host: u8, size: usize) {
    const QUERIES: [&str; 4] = [
        "SELECT COUNT(*) FROM appdb.t",
        "SELECT note FROM appdb.t WHERE id = 3",
        "SELECT SUM(n) FROM appdb.t WHERE id > 4",
        "SELECT SLEEP(0.05)",
    ];
    let mut conns: Vec<Option<Tracked>> = (0..size).map(|_| None).collect();
    let mut backoff = Backoff::new();
    let mut turn = 0usize;
    while ctx.running() {
        let mut failed = false;
        for slot in conns.iter_mut().filter(|s| s.is_none()) {
            match ctx.connect(account, host) {
                Ok(c) => *slot = Some(c),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        let i = turn % size;
        if let Some(c) = conns[i].as_mut() {
            let sql = QUERIES[(jitter.next() % QUERIES.len() as u64) as usize];
            if c.conn.query_drop(sql).is_err() {
                conns[i] = None;
            }
        }
        turn = turn.wrapping_add(1);
        let wait = if failed {
            backoff.next()
        } else {
            backoff.reset();
            jitter.millis(150, 450)
        };
        if !ctx.pause(wait) {
            break;
        }
    }
}

/// Runs `SELECT SLEEP(secs)` over and over; reconnects slowly when killed.
fn sleeper(ctx: &Ctx, account: Account, host: u8, secs: u64) {
    let sql = format!("SELECT SLEEP({secs})");
    let mut backoff = Backoff::new();
    while ctx.running() {
        let mut c = match ctx.connect(account, host) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        while let Some(Ok(())) = ctx.blocking(&mut c.conn, &sql) {
            if !ctx.pause(Duration::from_secs(1)) {
                return;
            }
        }
        // Killed or failed: a cron job would try again later.
        if !ctx.pause(Duration::from_secs(10)) {
            break;
        }
    }
}

/// Opens a transaction that updates row 1 and then sits idle for 5 minutes
/// before committing; starts over 20 s later.
fn open_transaction(ctx: &Ctx) {
    let mut backoff = Backoff::new();
    while ctx.running() {
        let mut c = match ctx.connect(APP, HOST_APP) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        let begun = c.conn.query_drop("START TRANSACTION").and_then(|()| {
            c.conn
                .query_drop(format!("UPDATE {APP_TABLE} SET n = n + 1 WHERE id = 1"))
        });
        if begun.is_ok() {
            if !ctx.pause(Duration::from_secs(300)) {
                break;
            }
            let _ = c.conn.query_drop("COMMIT");
        }
        drop(c);
        if !ctx.pause(Duration::from_secs(20)) {
            break;
        }
    }
}

/// Updates row 1 again and again: waits on the open transaction's lock.
fn blocked_update(ctx: &Ctx) {
    let sql = format!("UPDATE {APP_TABLE} SET n = n + 1 WHERE id = 1");
    let mut backoff = Backoff::new();
    // Let the transaction take its lock first.
    if !ctx.pause(Duration::from_millis(500)) {
        return;
    }
    while ctx.running() {
        let mut c = match ctx.connect(APP, HOST_APP) {
            Ok(c) => c,
            Err(_) => {
                if !ctx.pause(backoff.next()) {
                    break;
                }
                continue;
            }
        };
        backoff.reset();
        let _ = c
            .conn
            .query_drop("SET SESSION innodb_lock_wait_timeout = 120");
        // Lock wait timeouts (1205) are expected; a dead connection ends the round.
        while let Some(result) = ctx.blocking(&mut c.conn, &sql) {
            let dead = matches!(&result, Err(e) if !matches!(e, mysql::Error::MySqlError(_)));
            if dead || !ctx.pause(Duration::from_secs(2)) {
                break;
            }
        }
        drop(c);
        if !ctx.pause(Duration::from_secs(2)) {
            break;
        }
    }
}

/// How long a spike holds its connections: a few polls at any interval.
const SPIKE_HOLD: Duration = Duration::from_secs(3);

/// Every `every`, opens `burst` connections as fast as it can, holds them
/// [`SPIKE_HOLD`] and closes them; also tries three wrong passwords.
fn spike(ctx: &Ctx, burst: usize, first: Duration, every: Duration) {
    if !ctx.pause(first) {
        return;
    }
    while ctx.running() {
        let mut held = Vec::with_capacity(burst);
        for _ in 0..burst {
            if !ctx.running() {
                return;
            }
            if let Ok(mut c) = ctx.connect(BATCH, HOST_SPIKE) {
                let _ = c.conn.query_drop("SELECT 1");
                held.push(c);
            }
        }
        for _ in 0..3 {
            let wrong = ctx.opts(APP, HOST_SPIKE).pass(Some("not-the-password"));
            if let Err(e) = Conn::new(wrong) {
                if is_full(&e) {
                    ctx.shared.refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    ctx.shared.bad_logins.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if !ctx.pause(SPIKE_HOLD) {
            return;
        }
        drop(held);
        if !ctx.pause(every) {
            return;
        }
    }
}
