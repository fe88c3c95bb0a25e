//! A server that accepts TCP and never answers (frozen, or a black hole in
//! front of it): conntop gives up after --connect-timeout, handshake
//! included, and says so in one line. No server needed.

mod common;

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

#[test]
fn a_silent_server_times_out_at_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    // Accepts and holds every connection, never sends a byte; ends when the
    // test process does.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(8).flatten() {
            held.push(stream);
        }
        thread::sleep(Duration::from_secs(30));
    });
    let run = common::run_conntop_within(
        Duration::from_secs(20),
        &[
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "--connect-timeout",
            "1s",
            "--ssl-mode",
            "DISABLED",
            "--once",
        ],
        &[],
    );
    let line = run.fails(1).to_string();
    assert!(line.contains("timed out connecting after 1s"), "{line}");
    // The old behaviour waited for the 10 s read timeout.
    assert!(run.took < Duration::from_secs(4), "took {:?}", run.took);
}
