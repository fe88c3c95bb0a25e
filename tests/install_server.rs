//! `.ci/install-server`, the README's first command, on the machines a newcomer has: root
//! without sudo, a user with sudo (with and without a password), empty or filled apt lists,
//! the server already there, macOS with Homebrew. The commands it runs (`id`, `sudo`,
//! `apt-get`, `env`, `brew`) are stubs on `PATH` that log each call; nothing is installed.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::Scratch;

/// What `sudo` does when asked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sudo {
    /// Not installed.
    Absent,
    /// `sudo -n` works.
    Passwordless,
    /// `sudo -n` fails; plain `sudo` works (the password was typed).
    NeedsPassword,
}

/// A fake machine: a `bin/` directory that is the whole `PATH`, apt's list directory and
/// the log of the stubs' calls.
struct Machine {
    dir: Scratch,
}

impl Machine {
    /// A machine as root, with no sudo, no server, apt-get, and empty package lists.
    fn new(name: &str) -> Machine {
        let dir = Scratch::new(&format!("install-{name}"));
        for sub in ["bin", "lists"] {
            std::fs::create_dir_all(dir.path(sub)).unwrap();
        }
        let m = Machine { dir };
        m.uid(0);
        m.stub(
            "env",
            "while [[ $1 == *=* ]]; do export \"$1\"; shift; done\n\"$@\"",
        );
        m.apt(false);
        m
    }

    fn bin(&self) -> PathBuf {
        PathBuf::from(self.dir.path("bin"))
    }

    /// Writes an executable stub `bin/<name>` that logs `name args` and then runs `body`.
    fn stub(&self, name: &str, body: &str) {
        let path = self.bin().join(name);
        let script = format!("#!/bin/bash\necho \"{name} $*\" >>\"$STUB_LOG\"\n{body}\n");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.bin().join(name));
    }

    /// `id -u` prints `uid`.
    fn uid(&self, uid: u32) {
        self.stub("id", &format!("echo {uid}"));
    }

    fn sudo(&self, sudo: Sudo) {
        match sudo {
            Sudo::Absent => self.remove("sudo"),
            Sudo::Passwordless => self.stub("sudo", "[[ $1 == -n ]] && shift\n\"$@\"\nexit $?"),
            Sudo::NeedsPassword => self.stub("sudo", "[[ $1 == -n ]] && exit 1\n\"$@\"\nexit $?"),
        }
    }

    /// An `apt-get` whose `install` puts a command for each package in `bin/`; with
    /// `stale_lists` the first install fails until an `update` has run.
    fn apt(&self, stale_lists: bool) {
        let stale = if stale_lists { "stale" } else { "fresh" };
        let marker = self.dir.path("updated");
        self.stub(
            "apt-get",
            &format!(
                r#"[[ $DEBIAN_FRONTEND == noninteractive ]] || exit 9
case $1 in
  update) : >"{marker}" ;;
  install)
    [[ {stale} == stale && ! -e "{marker}" ]] && {{ echo "E: Unable to locate package" >&2; exit 100; }}
    for pkg in "${{@:2}}"; do
      [[ $pkg == -* ]] && continue
      cmd=$pkg
      [[ $pkg == mariadb-server ]] && cmd=mariadbd
      printf '#!/bin/bash\n' >"${{0%/*}}/$cmd"
      /bin/chmod +x "${{0%/*}}/$cmd"
    done ;;
esac"#
            ),
        );
    }

    /// A server that is already installed.
    fn server_installed(&self) {
        self.stub("mariadbd", "");
    }

    /// apt's lists after an `apt-get update`.
    fn lists_filled(&self) {
        std::fs::write(
            Path::new(&self.dir.path("lists"))
                .join("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"),
            "",
        )
        .unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-server");
        let mut cmd = Command::new("/bin/bash");
        cmd.arg(script)
            .args(args)
            .env_clear()
            .env("PATH", self.bin())
            .env("STUB_LOG", self.dir.path("calls.log"))
            .env("CONNTOP_APT_LISTS", self.dir.path("lists"))
            .env("CONNTOP_SERVER_DIRS", "")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs the script without a terminal.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The stubs' calls, in order, without the `env` hops.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path("calls.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("env "))
            .map(str::to_string)
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        self.bin().join(name).exists()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const APT_INSTALL: &str = "apt-get install -y -q --no-install-recommends";

#[test]
fn server_present_installs_nothing_and_asks_nothing() {
    let m = Machine::new("present");
    m.uid(1000);
    m.sudo(Sudo::NeedsPassword);
    m.server_installed();
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(m.calls(), Vec::<String>::new());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn server_in_sbin_counts_even_when_not_on_path() {
    let m = Machine::new("sbin");
    let sbin = m.dir.path("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    let server = Path::new(&sbin).join("mysqld");
    std::fs::write(&server, "#!/bin/bash\n").unwrap();
    std::fs::set_permissions(&server, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = m
        .command(&[])
        .env("CONNTOP_SERVER_DIRS", format!("/nonexistent:{sbin}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(m.calls(), Vec::<String>::new());
}

#[test]
fn root_without_sudo_and_empty_lists_updates_then_installs() {
    let m = Machine::new("root-empty");
    m.sudo(Sudo::Absent);
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        [
            "id -u".to_string(),
            "apt-get update -q".to_string(),
            format!("{APT_INSTALL} mariadb-server"),
        ]
    );
    assert!(m.has("mariadbd"));
    assert!(stderr(&out).contains("as root"), "{}", stderr(&out));
}

#[test]
fn root_with_filled_lists_installs_without_an_update() {
    let m = Machine::new("root-filled");
    m.lists_filled();
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        ["id -u".to_string(), format!("{APT_INSTALL} mariadb-server")]
    );
}

#[test]
fn stale_lists_are_updated_after_a_failed_install() {
    let m = Machine::new("stale");
    m.lists_filled();
    m.apt(true);
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        [
            "id -u".to_string(),
            format!("{APT_INSTALL} mariadb-server"),
            "apt-get update -q".to_string(),
            format!("{APT_INSTALL} mariadb-server"),
        ]
    );
}

#[test]
fn root_ignores_an_installed_sudo() {
    let m = Machine::new("root-sudo");
    m.sudo(Sudo::Passwordless);
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        m.calls().iter().all(|c| !c.starts_with("sudo")),
        "{:?}",
        m.calls()
    );
}

#[test]
fn user_with_passwordless_sudo_goes_through_sudo() {
    let m = Machine::new("user-sudo");
    m.uid(1000);
    m.sudo(Sudo::Passwordless);
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        [
            "id -u".to_string(),
            "sudo -n true".to_string(),
            "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -q".to_string(),
            "apt-get update -q".to_string(),
            format!("sudo -n env DEBIAN_FRONTEND=noninteractive {APT_INSTALL} mariadb-server"),
            format!("{APT_INSTALL} mariadb-server"),
        ]
    );
}

#[test]
fn user_whose_sudo_needs_a_password_without_a_terminal_is_told_the_command() {
    let m = Machine::new("user-password");
    m.uid(1000);
    m.sudo(Sudo::NeedsPassword);
    let out = m.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(m.calls(), ["id -u", "sudo -n true"]);
    let err = stderr(&out);
    assert!(
        err.contains("sudo apt-get update && sudo apt-get install -y mariadb-server"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn user_whose_sudo_needs_a_password_is_asked_on_the_terminal() {
    let m = Machine::new("user-tty");
    m.uid(1000);
    m.sudo(Sudo::NeedsPassword);
    // `script` gives the run a pseudo-terminal for its stdin.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-server");
    let out = Command::new("/usr/bin/script")
        .args([
            "-qec",
            &format!("/bin/bash {}", script.display()),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", m.bin())
        .env("STUB_LOG", m.dir.path("calls.log"))
        .env("CONNTOP_APT_LISTS", m.dir.path("lists"))
        .env("CONNTOP_SERVER_DIRS", "")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script(1)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("sudo may ask for your password"), "{text}");
    let calls = m.calls();
    assert_eq!(calls[..2], ["id -u", "sudo -n true"]);
    assert!(
        calls.contains(&format!(
            "sudo env DEBIAN_FRONTEND=noninteractive {APT_INSTALL} mariadb-server"
        )),
        "{calls:?}"
    );
    assert!(m.has("mariadbd"));
}

#[test]
fn user_without_sudo_is_told_to_run_it_as_root() {
    let m = Machine::new("user-nosudo");
    m.uid(1000);
    m.sudo(Sudo::Absent);
    let out = m.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(m.calls(), ["id -u"]);
    let err = stderr(&out);
    assert!(err.contains("sudo is not installed"), "{err}");
    assert!(
        err.contains("as root run: apt-get update && apt-get install -y mariadb-server"),
        "{err}"
    );
}

#[test]
fn extra_commands_are_installed_alongside() {
    let m = Machine::new("tmux");
    m.server_installed();
    m.lists_filled();
    let out = m.run(&["tmux"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        ["id -u".to_string(), format!("{APT_INSTALL} tmux")]
    );
    assert!(m.has("tmux"));

    let m = Machine::new("tmux-both");
    m.lists_filled();
    let out = m.run(&["tmux"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.calls(),
        [
            "id -u".to_string(),
            format!("{APT_INSTALL} mariadb-server tmux")
        ]
    );
    // Present: nothing at all.
    let out = m.run(&["tmux"]);
    assert!(out.status.success());
    assert_eq!(m.calls().len(), 2);
}

#[test]
fn bad_package_names_are_refused() {
    let m = Machine::new("badname");
    let out = m.run(&["tmux;rm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(m.calls().is_empty(), "{:?}", m.calls());
}

#[test]
fn homebrew_when_there_is_no_apt() {
    let m = Machine::new("brew");
    m.remove("apt-get");
    m.sudo(Sudo::Passwordless);
    m.stub(
        "brew",
        "printf '#!/bin/bash\\n' >\"${0%/*}/mariadbd\"\n/bin/chmod +x \"${0%/*}/mariadbd\"",
    );
    let out = m.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(m.calls(), ["brew install mariadb"]);
}

#[test]
fn no_package_manager_says_what_to_install() {
    let m = Machine::new("nothing");
    m.remove("apt-get");
    let out = m.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("mariadb-server"), "{}", stderr(&out));
}

#[test]
fn an_install_that_leaves_no_server_fails() {
    let m = Machine::new("broken");
    m.lists_filled();
    m.stub("apt-get", "exit 0");
    let out = m.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("still no mariadbd or mysqld"),
        "{}",
        stderr(&out)
    );
}
