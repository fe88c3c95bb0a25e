//! Passwords on the command line are hidden from other local users: while conntop runs,
//! `/proc/PID/cmdline` (what `ps` shows) holds `x` where the password was, as with the
//! mysql client. The binary is kept running by a local listener that accepts its connection
//! and never answers.

#![cfg(target_os = "linux")]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A conntop run that is ended by its own PID when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts conntop with `args` against a listener that never answers, waits until it has
/// connected (so startup is over) and returns its command line as `ps` reads it.
fn cmdline_while_connecting(args: &[&str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut cmd = Command::new(common::conntop_bin());
    cmd.args(["--no-defaults", "-h", "127.0.0.1", "-P", &port])
        .args(["--connect-timeout", "30s", "--once"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("MYSQL_PWD");
    let running = Running(cmd.spawn().unwrap());
    listener.set_nonblocking(true).unwrap();
    let began = Instant::now();
    let _conn = loop {
        match listener.accept() {
            Ok((conn, _)) => break conn,
            Err(_) if began.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("conntop never connected: {e}"),
        }
    };
    let raw = std::fs::read(format!("/proc/{}/cmdline", running.0.id())).unwrap();
    assert_eq!(
        running_state(&running),
        None,
        "conntop exited before its command line was read"
    );
    String::from_utf8_lossy(&raw).replace('\0', " ")
}

fn running_state(running: &Running) -> Option<i32> {
    // `try_wait` needs `&mut`; /proc tells the same without reaping.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", running.0.id())).ok()?;
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.starts_with('Z').then_some(1))
}

#[test]
fn short_password_flag_is_overwritten() {
    let line = cmdline_while_connecting(&["-uadmin", "-pSECRET"]);
    assert!(!line.contains("SECRET"), "{line}");
    assert!(line.contains(" -pxxxxxx "), "{line}");
    assert!(line.contains(" -uadmin "), "{line}");
}

#[test]
fn long_password_flag_and_url_password_are_overwritten() {
    let line = cmdline_while_connecting(&[
        "--password=S3cr/et#1",
        "--url",
        "mysql://admin:An0ther/S3cret@127.0.0.1",
    ]);
    assert!(!line.contains("S3cr"), "{line}");
    assert!(!line.contains("An0ther"), "{line}");
    assert!(line.contains(" --password=xxxxxxxxx "), "{line}");
    assert!(
        line.contains(" mysql://admin:xxxxxxxxxxxxxx@127.0.0.1 "),
        "{line}"
    );
}
