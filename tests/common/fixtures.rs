//! Synthetic sessions, snapshots and key presses for the tests that run the
//! dashboard without a terminal or a server (`app_state`, `ui_render`).

use std::time::{Duration, SystemTime};

use conntop::app::{App, Effect, Event, update};
use conntop::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The fixed "now" of every test.
pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A session of `user`@`host` in `command` for `secs`, running `info` (none
/// when empty), without a database, state or transaction.
pub fn session(id: u64, user: &str, host: &str, command: &str, secs: u64, info: &str) -> Session {
    Session {
        id,
        user: user.to_string(),
        host: host.to_string(),
        db: None,
        command: command.to_string(),
        time_ms: secs * 1000,
        state: String::new(),
        info: (!info.is_empty()).then(|| info.to_string()),
        trx_age_ms: None,
    }
}

/// A connection leak: 20 sessions of `leaky` from 10.0.0.9 (ports 40000
/// up), ids from `first_id` up, each asleep for 10 minutes.
pub fn leaky(first_id: u64) -> Vec<Session> {
    (0..20)
        .map(|i| {
            session(
                first_id + i,
                "leaky",
                &format!("10.0.0.9:{}", 40000 + i),
                "Sleep",
                600,
                "",
            )
        })
        .collect()
}

/// Snapshot 1, taken at [`t0`] by an account that may see and kill every
/// session; `max_used_connections` is `connected`, 2 threads run, 5000
/// connections since start, and conntop's own id is 999 999.
pub fn raw_snapshot(sessions: Vec<Session>, connected: u64, max: u64) -> Snapshot {
    Snapshot {
        seq: 1,
        taken_at: t0(),
        server: ServerInfo::from_version("10.11.6-MariaDB"),
        variables: Variables {
            max_connections: max,
            ..Variables::default()
        },
        status: Status {
            threads_connected: connected,
            threads_running: 2,
            max_used_connections: connected,
            connections: 5000,
            uptime_s: 86_400,
            ..Status::default()
        },
        sessions,
        own_id: 999_999,
        privileges: Privileges {
            process: true,
            kill_any: true,
            ..Privileges::default()
        },
        poll_latency: Duration::from_millis(3),
        statements: 2,
        endpoint: "127.0.0.1:3306".to_string(),
    }
}

/// Presses `c` (with Shift when it is upper case).
pub fn key(app: &mut App, c: char) -> Vec<Effect> {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(app, Event::Key(KeyEvent::new(KeyCode::Char(c), mods)))
}

/// Presses `code` without modifiers.
pub fn code(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}
