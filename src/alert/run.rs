//! Running the `--on-alert` commands: `sh -c CMD` in a process group of its
//! own, the event in its environment, stdin and stdout to `/dev/null`, the
//! first line of its stderr kept for the log. A command still running after
//! the timeout gets SIGTERM, then SIGKILL, sent to its process group (by the
//! PID of its leader, which is still ours to signal: it has not been reaped).
//! [`Runner`] runs each command on a thread of its own, so its caller never
//! waits.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::AlertEvent;

/// How long a command may run unless `--alert-timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Commands running at once at most; past it an alert's commands are skipped
/// (and that is logged).
pub const MAX_RUNNING: usize = 8;

/// Between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// How often a running command is looked at.
const STEP: Duration = Duration::from_millis(20);

/// Most bytes of a command's stderr read.
const MAX_STDERR: u64 = 4096;

/// Longest command text and reason in a log line.
const MAX_SHOWN: usize = 80;

/// Runs `cmd` with `sh -c` and the event in its environment, waits for it at
/// most `timeout`, then ends its process group. Blocks the calling thread
/// (use [`Runner`] to run it on one of its own); `Err` is one line: why
/// the command failed, timed out or could not start.
pub fn run_alert(cmd: &str, event: &AlertEvent, timeout: Duration) -> Result<(), String> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .envs(event.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let leader = child.id();
    // The first line of stderr, read on a thread of its own: a child that
    // leaves the pipe open behind it cannot hold us.
    let (tx, stderr) = crossbeam_channel::bounded(1);
    if let Some(pipe) = child.stderr.take() {
        let _ = thread::Builder::new()
            .name("conntop-alert-stderr".to_string())
            .spawn(move || {
                let mut text = String::new();
                let _ = pipe.take(MAX_STDERR).read_to_string(&mut text);
                let _ = tx.send(text);
            });
    }
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // The leader is not reaped until both signals are sent, so
                // its id names this group all along (a zombie keeps it).
                signal_group(leader, libc::SIGTERM);
                thread::sleep(GRACE);
                signal_group(leader, libc::SIGKILL);
                let _ = child.wait();
                return Err(format!(
                    "timed out after {}: its process group was killed",
                    humantime::format_duration(timeout)
                ));
            }
            Ok(None) => thread::sleep(STEP),
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let said = stderr
        .recv_timeout(Duration::from_millis(100))
        .ok()
        .and_then(|t| t.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
        .map(|l| format!(": {}", crate::text::one_line(&l, MAX_SHOWN)))
        .unwrap_or_default();
    Err(format!("failed ({status}){said}"))
}

/// Sends `signal` to the process group led by `leader` (not yet reaped, so
/// the id is still that group's).
fn signal_group(leader: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(leader) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: killpg only sends a signal; `pgid` is the group of a child
        // we spawned and have not reaped.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

/// Where one-line reports of failed commands go.
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Runs the `--on-alert` commands for each event, each on its own thread.
#[derive(Clone)]
pub struct Runner {
    commands: Vec<String>,
    timeout: Duration,
    log: Log,
    running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("commands", &self.commands)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner of `commands`, each ended after `timeout`; failures go to `log`.
    pub fn new(commands: Vec<String>, timeout: Duration, log: Log) -> Runner {
        Runner {
            commands,
            timeout,
            log,
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Starts every command for `event` and returns at once.
    pub fn fire(&self, event: &AlertEvent) {
        for cmd in &self.commands {
            let shown = crate::text::one_line(cmd, MAX_SHOWN).into_owned();
            let what = format!("alert command `{shown}` ({})", event.kind.name());
            if self.running.fetch_add(1, Ordering::SeqCst) >= MAX_RUNNING {
                self.running.fetch_sub(1, Ordering::SeqCst);
                (self.log)(format!(
                    "{what} skipped: {MAX_RUNNING} alert commands are still running"
                ));
                continue;
            }
            let (cmd, event, timeout) = (cmd.clone(), event.clone(), self.timeout);
            let (log, running) = (Arc::clone(&self.log), Arc::clone(&self.running));
            let started = thread::Builder::new()
                .name("conntop-alert".to_string())
                .spawn(move || {
                    if let Err(why) = run_alert(&cmd, &event, timeout) {
                        log(format!("{what} {why}"));
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                });
            if let Err(e) = started {
                self.running.fetch_sub(1, Ordering::SeqCst);
                (self.log)(format!("alert command `{shown}` not run: {e}"));
            }
        }
    }

    /// Commands running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }
}
