//! Data directories: the per-binary template, fresh temp dirs and socket paths.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use super::Sandbox;
use super::binaries::running_as_root;
use super::error::{SandboxError, io_err, last_lines};

const SOCKET_FILE: &str = "mysqld.sock";
/// Present in a complete datadir template.
const TEMPLATE_MARK: &str = "conntop-template-complete";
/// Unix socket paths are limited to ~104-108 bytes; longer ones move to the temp dir.
const MAX_SOCKET_PATH: usize = 100;

/// Numbers the sandboxes of this process, for their temp dir names.
static SANDBOX_SEQ: AtomicU32 = AtomicU32::new(0);

impl Sandbox {
    /// Fills the empty datadir: a copy of the cached template when possible
    /// (a few milliseconds), else a fresh install (about half a second).
    pub(super) fn initialize(&self) -> Result<(), SandboxError> {
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
}

/// Server arguments that keep a sandbox small; the installer gets them too.
pub(super) fn innodb_args() -> [&'static str; 2] {
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
pub(super) fn fresh_temp_dir() -> Result<PathBuf, SandboxError> {
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
pub(super) fn socket_path(datadir: &Path) -> PathBuf {
    let inside = datadir.join(SOCKET_FILE);
    if inside.as_os_str().len() <= MAX_SOCKET_PATH {
        return inside;
    }
    let n = SANDBOX_SEQ.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("conntop-{}-{n}.sock", std::process::id()))
}
