//! Finding the server binaries, and facts about this machine a start needs.

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Sandbox;
use super::error::{SandboxError, io_err};
use crate::snapshot::Flavor;

/// Directories searched after `PATH`.
const EXTRA_DIRS: [&str; 4] = [
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/local/mysql/bin",
    "/opt/homebrew/bin",
];

/// The server binary, its family and the tool that initialises a data dir.
#[derive(Debug, Clone)]
pub(super) struct Binaries {
    pub(super) server: PathBuf,
    pub(super) flavor: Flavor,
    /// `mariadb-install-db`; `None` for MySQL (`mysqld --initialize-insecure`).
    pub(super) installer: Option<PathBuf>,
}

impl Binaries {
    pub(super) fn locate() -> Result<Binaries, SandboxError> {
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
pub(super) fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(EXTRA_DIRS.iter().map(PathBuf::from));
    dirs
}
pub(super) fn is_executable(path: &Path) -> bool {
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
pub(super) fn running_as_root() -> bool {
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
pub(super) fn free_port() -> Result<u16, SandboxError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_err("find a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_err("find a free port"))?
        .port();
    Ok(port)
}
