//! Keeping one sandbox up for another process until told to stop.

use std::io::{self, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use super::Sandbox;
use super::error::{SandboxError, io_err};
use super::server::SandboxOptions;

/// Longest a [`serve`] call keeps its server.
const SERVE_MAX: Duration = Duration::from_secs(24 * 3600);

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
