//! The flight recorder and replay: recordings written with the library's
//! writer (synthetic snapshots: rotation, retention, a full disk, torn
//! tails, seeking), the real binary against a private sandbox with a
//! scenario running (`record`, then `replay --at --once` against what
//! `--once` printed), `kill -9` of the recorder, and the replay dashboard
//! in tmux.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use conntop::command::Down;
use conntop::record::model::{from_ms, to_ms};
use conntop::record::writer::{Entry, Files, Sink, WriterOptions};
use conntop::record::{Cursor, Dir, Recording, Writer, WriterEvent};
use conntop::replay::Player;
use conntop::sandbox::{Load, LoadOptions, Scenario};
use conntop::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};
use serde_json::Value as Json;

use common::{Scratch, conntop_bin, private_sandbox, run_conntop, wait_until};

/// 2026-11-30 03:00:00 UTC.
const T0: i64 = 1_796_007_600_000;

/// A snapshot at `t_ms` with `n` idle sessions (ids 100..), `connected`
/// of `max` slots used and `rejected` refusals so far.
fn synth(t_ms: i64, n: u64, connected: u64, max: u64, rejected: u64) -> Snapshot {
    let age = (t_ms - T0) as u64;
    Snapshot {
        seq: age / 1000,
        taken_at: from_ms(t_ms),
        server: ServerInfo::from_version("10.11.6-MariaDB"),
        variables: Variables {
            max_connections: max,
            ..Variables::default()
        },
        status: Status {
            threads_connected: connected,
            threads_running: 1,
            connections: 1000 + age / 1000,
            connection_errors_max_connections: rejected,
            uptime_s: 5000 + age / 1000,
            ..Status::default()
        },
        sessions: (0..n)
            .map(|i| Session {
                id: 100 + i,
                user: format!("app{}", i % 3),
                host: format!("10.0.0.{}:{}", i % 7, 40000 + i),
                db: Some("shop".to_string()),
                command: "Sleep".to_string(),
                // Whole seconds, as the servers report them; each session
                // starts a new command every two minutes.
                time_ms: (age + i * 1000) % 120_000 / 1000 * 1000,
                ..Session::default()
            })
            .collect(),
        own_id: 7,
        privileges: Privileges {
            process: true,
            kill_any: true,
            kill_only_user: None,
        },
        poll_latency: Duration::from_millis(2),
        statements: 2,
        endpoint: "db1:3306".to_string(),
    }
}

fn opts(rotate_every: Duration) -> WriterOptions {
    WriterOptions {
        keyframe_every: Duration::from_secs(30),
        rotate_every,
        rotate_bytes: 1 << 30,
        retention: None,
        max_total: None,
    }
}

/// Writes `secs` one-second snapshots from [`T0`] with `f(second)`.
fn write_seconds<F: Files>(
    w: &mut Writer<F>,
    secs: i64,
    f: impl Fn(i64) -> Snapshot,
) -> Vec<WriterEvent> {
    let mut events = Vec::new();
    for s in 0..secs {
        events.extend(w.append(&f(s)));
    }
    events
}

#[test]
fn seeking_and_stepping_give_back_what_was_written() {
    let dir = Scratch::new("rec-seek");
    let path = Path::new(&dir.path("r")).to_path_buf();
    let mut w = Writer::new(Dir::create(&path).unwrap(), opts(Duration::from_secs(120)));
    let snap = |s: i64| synth(T0 + s * 1000 + 3, 20 + (s as u64 % 5), 30, 100, 0);
    write_seconds(&mut w, 300, snap);
    w.close();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.files().len(), 3, "rotated every 2 minutes");
    assert!(rec.files().iter().all(|f| f.closed && f.torn.is_none()));
    assert_eq!(rec.frames(), 300);
    assert!(rec.notes().is_empty());
    let mut c = Cursor::new();
    for s in [0, 1, 29, 30, 31, 119, 120, 121, 250, 299] {
        assert!(c.seek(&rec, T0 + s * 1000 + 500).unwrap());
        let got = c.state.as_ref().unwrap().to_snapshot();
        let want = snap(s);
        assert_eq!(got.taken_at, want.taken_at, "second {s}");
        assert_eq!(got.status, want.status, "second {s}");
        assert_eq!(got.sessions.len(), want.sessions.len());
        for (a, b) in got.sessions.iter().zip(&want.sessions) {
            assert_eq!((a.id, &a.user, &a.host), (b.id, &b.user, &b.host));
            assert!(a.time_ms.abs_diff(b.time_ms) < 1500, "{a:?} {b:?}");
        }
    }
    // Stepping crosses file boundaries in order.
    assert!(c.seek(&rec, T0).unwrap());
    let mut n = 1;
    let mut last = c.at_ms;
    while c.step(&rec).unwrap() {
        assert!(c.at_ms > last);
        last = c.at_ms;
        n += 1;
    }
    assert_eq!(n, 300);
    // The player rebuilds ten minutes of history after a jump.
    let mut p = Player::open(&path).unwrap();
    p.seek(T0 + 200_000).unwrap();
    assert_eq!(p.history().len(), 200);
    assert!(p.back().unwrap());
    assert_eq!(p.at_ms(), T0 + 198_003);
}

#[test]
fn rotation_and_retention_with_small_values() {
    let dir = Scratch::new("rec-retention");
    let path = Path::new(&dir.path("r")).to_path_buf();
    let mut o = opts(Duration::from_secs(60));
    o.retention = Some(Duration::from_secs(150));
    let mut w = Writer::new(Dir::create(&path).unwrap(), o);
    let events = write_seconds(&mut w, 400, |s| synth(T0 + s * 1000, 5, 10, 100, 0));
    let opened = events
        .iter()
        .filter(|e| matches!(e, WriterEvent::Opened(_)))
        .count();
    let removed: Vec<&WriterEvent> = events
        .iter()
        .filter(|e| matches!(e, WriterEvent::Removed { .. }))
        .collect();
    assert_eq!(opened, 7, "{events:?}");
    assert_eq!(removed.len(), 3, "{events:?}");
    let names: Vec<String> = fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    // The oldest data left is at most the retention plus one file old.
    let rec = Recording::open(&path).unwrap();
    let (first, last) = rec.span().unwrap();
    // Retention runs when a file is started: two files' worth of slack.
    assert!(last - first <= 150_000 + 2 * 60_000, "{first} {last}");
    // By size: at most max_total, the oldest go first.
    let dir2 = Scratch::new("rec-size");
    let path2 = Path::new(&dir2.path("r")).to_path_buf();
    let mut o = opts(Duration::from_secs(3600));
    o.rotate_bytes = 8 << 10;
    o.max_total = Some(40 << 10);
    let mut w = Writer::new(Dir::create(&path2).unwrap(), o);
    let events = write_seconds(&mut w, 2000, |s| synth(T0 + s * 1000, 40, 50, 100, 0));
    w.close();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, WriterEvent::Removed { why, .. } if why.contains("over")))
    );
    let total: u64 = fs::read_dir(&path2)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total <= (40 << 10) + (10 << 10), "{total}");
    let rec = Recording::open(&path2).unwrap();
    assert_eq!(
        rec.span().unwrap().1,
        T0 + 1_999_000,
        "the newest data stay"
    );
}

/// Files in memory whose writes fail while the disk is "full".
#[derive(Clone, Default)]
struct Mem {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    full: Arc<Mutex<bool>>,
}

struct MemFile {
    name: String,
    mem: Mem,
}

impl Write for MemFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A full disk takes part of a write, then refuses.
        let mut files = self.mem.files.lock().unwrap();
        let f = files.entry(self.name.clone()).or_default();
        if *self.mem.full.lock().unwrap() {
            let part = buf.len() / 2;
            f.extend_from_slice(&buf[..part]);
            return Err(io::Error::from_raw_os_error(28));
        }
        f.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for MemFile {
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut files = self.mem.files.lock().unwrap();
        if let Some(f) = files.get_mut(&self.name) {
            f.truncate(len as usize);
        }
        Ok(())
    }
}

impl Files for Mem {
    fn create(&mut self, name: &str) -> io::Result<Box<dyn Sink>> {
        self.files
            .lock()
            .unwrap()
            .insert(name.to_string(), Vec::new());
        Ok(Box::new(MemFile {
            name: name.to_string(),
            mem: self.clone(),
        }))
    }

    fn list(&self) -> io::Result<Vec<Entry>> {
        Ok(self
            .files
            .lock()
            .unwrap()
            .iter()
            .map(|(n, d)| Entry {
                name: n.clone(),
                size: d.len() as u64,
            })
            .collect())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.files.lock().unwrap().remove(name);
        Ok(())
    }
}

#[test]
fn a_full_disk_is_reported_once_and_recording_resumes() {
    let mem = Mem::default();
    let mut w = Writer::new(mem.clone(), opts(Duration::from_secs(3600)));
    let snap = |s: i64| synth(T0 + s * 1000, 10, 12, 100, 0);
    let mut events = write_seconds(&mut w, 20, snap);
    *mem.full.lock().unwrap() = true;
    for s in 20..40 {
        events.extend(w.append(&snap(s)));
    }
    let failed: Vec<&WriterEvent> = events
        .iter()
        .filter(|e| matches!(e, WriterEvent::Failed(_)))
        .collect();
    assert_eq!(failed.len(), 1, "reported once: {events:?}");
    assert!(failed[0].to_string().contains("os error 28"), "{failed:?}");
    *mem.full.lock().unwrap() = false;
    let mut after = Vec::new();
    for s in 40..60 {
        after.extend(w.append(&snap(s)));
    }
    w.close();
    assert!(
        after
            .iter()
            .any(|e| matches!(e, WriterEvent::Recovered { lost } if *lost >= 20)),
        "{after:?}"
    );
    // Both files read back whole: the failed one was cut to its last block.
    let dir = Scratch::new("rec-full");
    let path = Path::new(&dir.path("r")).to_path_buf();
    fs::create_dir_all(&path).unwrap();
    for (name, data) in mem.files.lock().unwrap().iter() {
        fs::write(path.join(name), data).unwrap();
    }
    let rec = Recording::open(&path).unwrap();
    assert!(rec.notes().is_empty(), "{:?}", rec.notes());
    assert_eq!(rec.files().len(), 2);
    assert_eq!(rec.files()[0].index.frames, 20);
    assert!(rec.files()[1].index.frames >= 10);
    assert_eq!(rec.span().unwrap().1, T0 + 59_000);
}

#[test]
fn a_torn_tail_is_skipped_with_one_note() {
    let dir = Scratch::new("rec-torn");
    let path = Path::new(&dir.path("r")).to_path_buf();
    let mut w = Writer::new(Dir::create(&path).unwrap(), opts(Duration::from_secs(3600)));
    write_seconds(&mut w, 12, |s| synth(T0 + s * 1000, 30, 31, 100, 0));
    w.append_down(
        &Down {
            since: from_ms(T0 + 12_000),
            last_error: "connection refused".to_string(),
            attempts: 1,
        },
        from_ms(T0 + 12_500),
    );
    // No close: the file ends with its last block, as after a crash.
    drop(w);
    let file = fs::read_dir(&path).unwrap().next().unwrap().unwrap().path();
    let whole = fs::read(&file).unwrap();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.frames(), 13);
    let end = rec.files()[0].data_end as usize;
    assert_eq!(end, whole.len());
    // Cut the file inside its last block at every length: 12 frames are read.
    let last_block = whole.len() - down_block_len(&whole);
    for cut in (last_block + 1..whole.len()).step_by(3) {
        fs::write(&file, &whole[..cut]).unwrap();
        let rec = Recording::open(&path).unwrap();
        assert_eq!(rec.frames(), 12, "cut at {cut}");
        let notes = rec.notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("the tail was cut"), "{notes:?}");
    }
    // Garbage after the last whole block is skipped too.
    let mut junk = whole.clone();
    junk.extend_from_slice(b"\0\0garbage after a power loss");
    fs::write(&file, &junk).unwrap();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.frames(), 13);
    assert_eq!(rec.notes().len(), 1);
}

/// The length of the last block of a file that ends with a down block.
fn down_block_len(whole: &[u8]) -> usize {
    let at = whole
        .windows(4)
        .rposition(|w| w == b"CTBK")
        .expect("a block");
    whole.len() - at
}

/// 10 minutes: usage 50%, then 85% from minute 4, 100% with refusals
/// from minute 6, back to 50% at minute 8.
fn incident(s: i64) -> Snapshot {
    let (connected, rejected) = match s {
        0..240 => (50, 0),
        240..360 => (85, 0),
        360..480 => (100, (s as u64 - 359) * 3),
        _ => (50, 363),
    };
    synth(T0 + s * 1000, 40, connected, 100, rejected)
}

fn write_incident(path: &Path) {
    let mut w = Writer::new(
        Dir::create(path).unwrap(),
        WriterOptions::bounded(None, None),
    );
    write_seconds(&mut w, 600, incident);
    w.close();
}

#[test]
fn summary_and_once_of_a_synthetic_incident() {
    let dir = Scratch::new("rec-incident");
    let path = dir.path("r");
    write_incident(Path::new(&path));
    let run = run_conntop(&["replay", &path, "--summary"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    let out = &run.stdout;
    for want in [
        "2026-11-30 03:04:00  usage crossed 80% (85/100)",
        "2026-11-30 03:06:00  usage crossed 95% (100/100)",
        "2026-11-30 03:06:00  usage reached 100% (100/100)",
        "2026-11-30 03:06:00  1040 refusals started (+3)",
        "2026-11-30 03:08:00  usage back under 80% (50/100)",
        "peak       2026-11-30 03:06:00 UTC: 100/100",
        "top users: app0 14, app1 13, app2 13",
        "refused    363 clients",
    ] {
        assert!(out.contains(want), "lacks {want:?}:\n{out}");
    }
    let run = run_conntop(
        &[
            "replay", &path, "--at", "03:07", "--once", "--format", "json",
        ],
        &[],
    );
    let doc = run.json();
    assert_eq!(doc["recorded_at"], "2026-11-30T03:07:00.000Z");
    assert_eq!(doc["connections"]["threads_connected"], 100);
    assert_eq!(doc["connections"]["rejected"], 183);
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 40);
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"headroom"), "{kinds:?}");
    let run = run_conntop(&["replay", &path, "--at", "02:00", "--once"], &[]);
    assert!(run.fails(1).contains("outside the recording"), "{run:?}");
}

/// `conntop record` against the private sandbox `port`, writing to `dir`.
fn start_recorder(port: u16, dir: &str) -> Child {
    Command::new(conntop_bin())
        .args([
            "record",
            "-h",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-u",
            "root",
            "--no-defaults",
        ])
        .args(["--dir", dir, "-i", "500ms"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn frames_in(dir: &str) -> u64 {
    Recording::open(Path::new(dir)).map_or(0, |r| r.frames())
}

fn sessions_by_id(doc: &Json) -> HashMap<u64, (String, String)> {
    doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_u64().unwrap(),
                (
                    s["user"].as_str().unwrap().to_string(),
                    s["host"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn record_a_scenario_then_replay_a_moment_as_once_printed_it() {
    let mut sb = private_sandbox(60);
    let port = sb.port();
    let load = Load::start_with(
        port,
        Scenario::Pool,
        LoadOptions {
            max_run: Duration::from_secs(120),
            ..LoadOptions::default()
        },
    );
    let scratch = Scratch::new("rec-server");
    let dir = scratch.path("r");
    let mut rec = start_recorder(port, &dir);
    assert!(wait_until(Duration::from_secs(20), || load.stats().held
        >= 30
        && frames_in(&dir) >= 6));
    let live_args = [
        "-h",
        "127.0.0.1",
        "-P",
        &port.to_string(),
        "-u",
        "root",
        "--no-defaults",
        "--once",
        "--format",
        "json",
    ];
    let live = run_conntop(&live_args, &[]);
    let polled = SystemTime::now();
    let live = live.json();
    // Replay reads the recording while it is being written.
    std::thread::sleep(Duration::from_millis(1200));
    let at = humantime::format_rfc3339_millis(polled).to_string();
    let replayed = run_conntop(
        &["replay", &dir, "--at", &at, "--once", "--format", "json"],
        &[],
    );
    assert!(replayed.stderr.is_empty(), "{replayed:?}");
    let replayed = replayed.json();
    let recorded_at = humantime::parse_rfc3339(replayed["recorded_at"].as_str().unwrap()).unwrap();
    let gap = polled.duration_since(recorded_at).unwrap();
    assert!(
        gap <= Duration::from_millis(1200),
        "recorded {gap:?} before the live --once ended"
    );
    // Counters and the server agree.
    assert_eq!(
        live["connections"]["max_connections"],
        replayed["connections"]["max_connections"]
    );
    assert_eq!(live["server"]["version"], replayed["server"]["version"]);
    let (l, r) = (&live["connections"], &replayed["connections"]);
    let near = |k: &str, slack: i64| {
        let (a, b) = (l[k].as_i64().unwrap(), r[k].as_i64().unwrap());
        assert!((a - b).abs() <= slack, "{k}: live {a}, replayed {b}");
    };
    near("threads_connected", 4);
    near("connections_total", 20);
    // The same sessions, but for the two tools' own connections.
    let mut a = sessions_by_id(&live);
    let mut b = sessions_by_id(&replayed);
    for own in [
        live["own_id"].as_u64().unwrap(),
        replayed["own_id"].as_u64().unwrap(),
    ] {
        a.remove(&own);
        b.remove(&own);
    }
    let common = a.keys().filter(|id| b.contains_key(id)).count();
    assert!(a.len() >= 30, "{a:?}");
    assert!(
        common * 10 >= a.len() * 9,
        "{common} of {} live sessions were recorded",
        a.len()
    );
    for (id, who) in &a {
        if let Some(rec) = b.get(id) {
            assert_eq!(who, rec, "session {id}");
        }
    }
    signal(&rec, "-TERM");
    let status = rec.wait().unwrap();
    let mut err = String::new();
    io::Read::read_to_string(rec.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].contains("started: recording 127.0.0.1:"), "{err}");
    assert!(
        lines.iter().any(|l| l.contains("recording to conntop-")),
        "{err}"
    );
    assert!(
        lines.last().unwrap().contains("stopped by SIGTERM"),
        "{err}"
    );
    assert!(lines.len() <= 6, "nothing per tick: {err}");
    let recording = Recording::open(Path::new(&dir)).unwrap();
    assert!(
        recording.files().iter().all(|f| f.closed),
        "closed with an index"
    );
    load.stop();
    sb.stop().unwrap();
}

#[test]
fn kill_9_mid_write_loses_only_the_cut_block() {
    let mut sb = private_sandbox(40);
    let scratch = Scratch::new("rec-kill9");
    let dir = scratch.path("r");
    let mut rec = start_recorder(sb.port(), &dir);
    assert!(wait_until(Duration::from_secs(20), || frames_in(&dir) >= 6));
    signal(&rec, "-KILL");
    rec.wait().unwrap();
    // A kill lands between writes almost always; cut the last block in
    // half, as a kill or a power loss in the middle of the write leaves it.
    let file = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let whole = fs::read(&file).unwrap();
    let before = Recording::open(Path::new(&dir)).unwrap();
    assert!(!before.files()[0].closed);
    let frames = before.frames();
    let last = down_block_len(&whole);
    fs::write(&file, &whole[..whole.len() - last / 2]).unwrap();
    let after = Recording::open(Path::new(&dir)).unwrap();
    assert_eq!(after.frames(), frames - 1);
    let run = run_conntop(&["replay", &dir, "--once", "--format", "json"], &[]);
    let doc = run.json();
    let line = run.error_line();
    assert!(line.contains("the tail was cut"), "{line}");
    let mut c = Cursor::new();
    c.seek(&after, i64::MAX).unwrap();
    assert_eq!(
        doc["recorded_at"].as_str().unwrap(),
        humantime::format_rfc3339_millis(from_ms(c.at_ms)).to_string()
    );
    let run = run_conntop(&["replay", &dir, "--summary"], &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    // A restarted recorder continues in a new file.
    let mut again = start_recorder(sb.port(), &dir);
    assert!(wait_until(Duration::from_secs(20), || {
        Recording::open(Path::new(&dir))
            .is_ok_and(|r| r.files().len() == 2 && r.files()[1].index.frames >= 2)
    }));
    signal(&again, "-INT");
    assert_eq!(again.wait().unwrap().code(), Some(0));
    let both = Recording::open(Path::new(&dir)).unwrap();
    assert_eq!(
        both.files()[0].index.frames,
        frames - 1,
        "the old file is untouched"
    );
    assert!(both.files()[1].closed);
    sb.stop().unwrap();
}

/// A tmux server running one command; killed on drop.
struct Tmux(String);

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let name = common::unique("conntop-rec");
        let t = Tmux(name);
        let ok = t
            .cmd(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
                "-s",
                "r",
                cmd,
            ])
            .status
            .success();
        assert!(ok, "tmux new-session");
        t
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-u")
            .arg("-L")
            .arg(&self.0)
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "r"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "r"];
        args.extend(keys);
        self.cmd(&args);
    }

    /// Waits (bounded) until the screen contains `text`.
    #[track_caller]
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {text:?} on screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn replay_dashboard_in_tmux() {
    let dir = Scratch::new("rec-tmux");
    let path = dir.path("r");
    write_incident(Path::new(&path));
    let cmd = format!(
        "{} replay '{path}' --at 03:02:00; echo EXIT=$?; sleep 30",
        conntop_bin().display()
    );
    let t = Tmux::start(&cmd);
    let s = t.wait_for("REPLAY");
    assert!(s.contains("2026-11-30 03:02:00 UTC"), "{s}");
    assert!(s.contains(" 50/100 "), "{s}");
    t.keys(&["Right"]);
    t.wait_for("2026-11-30 03:02:01 UTC");
    t.keys(&["Left", "Left"]);
    t.wait_for("2026-11-30 03:01:59 UTC");
    t.keys(&["]"]);
    t.wait_for("2026-11-30 03:02:59 UTC");
    // The next event: usage crossing 80% at 03:04:00.
    t.keys(&["n"]);
    let s = t.wait_for("usage crossed 80% (85/100)");
    assert!(s.contains("2026-11-30 03:04:00 UTC"), "{s}");
    // Then on (a finding may start in between) to usage crossing 95%.
    let mut found = false;
    for _ in 0..5 {
        let before = t.screen();
        t.keys(&["n"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while t.screen() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if t.screen().contains("usage crossed 95%") {
            found = true;
            break;
        }
    }
    assert!(found, "{}", t.screen());
    t.wait_for("2026-11-30 03:06:00 UTC");
    // Back to the last event before it (the headroom finding starting,
    // or the crossing of 80%).
    t.keys(&["N"]);
    t.wait_for("REPLAY 2026-11-30 03:04:");
    t.keys(&[":", "03:07:30", "Enter"]);
    let s = t.wait_for("2026-11-30 03:07:30 UTC");
    assert!(s.contains("100/100"), "{s}");
    // A kill key says a replay is read-only.
    t.keys(&["I"]);
    t.wait_for("a replay is read-only");
    t.keys(&["k"]);
    t.wait_for("a replay is read-only");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn bad_replay_input_is_one_line() {
    let dir = Scratch::new("rec-bad");
    let junk = dir.file("conntop-20261130-030000.rec", "not a recording at all");
    let run = run_conntop(&["replay", &junk, "--once"], &[]);
    assert!(run.fails(1).contains("not a conntop recording"), "{run:?}");
    let run = run_conntop(&["replay", &dir.path("missing"), "--summary"], &[]);
    run.fails(1);
    let empty = dir.path("empty");
    fs::create_dir_all(&empty).unwrap();
    let run = run_conntop(&["replay", &empty, "--once"], &[]);
    assert!(run.fails(1).contains("no recorded data"), "{run:?}");
    let run = run_conntop(&["record", "--dir", "/proc/conntop-cannot"], &[]);
    assert!(run.fails(1).contains("/proc/conntop-cannot"), "{run:?}");
    let _ = to_ms(SystemTime::now());
}

#[test]
fn the_dashboard_tee_records_and_passes_everything_through() {
    use conntop::command::{Command, Feed};
    use conntop::link::Link;
    use conntop::record::daemon::Tee;
    let dir = Scratch::new("rec-tee");
    let path = Path::new(&dir.path("r")).to_path_buf();
    let (poller, end) = Link::pair();
    let writer = Writer::new(Dir::create(&path).unwrap(), opts(Duration::from_secs(3600)));
    let (app, tee) = Tee::start(&poller, writer, Box::new(io::sink())).unwrap();
    for s in 0..3 {
        end.publish(Feed::Snapshot(Arc::new(synth(T0 + s * 1000, 4, 5, 100, 0))));
        match app.feed.recv_timeout(Duration::from_secs(5)) {
            Ok(Feed::Snapshot(got)) => assert_eq!(got.taken_at, from_ms(T0 + s * 1000)),
            other => panic!("{other:?}"),
        }
    }
    app.commands
        .send(Command::SetInterval(Duration::from_secs(2)))
        .unwrap();
    assert!(matches!(
        end.commands.recv_timeout(Duration::from_secs(5)),
        Ok(Command::SetInterval(_))
    ));
    drop(app);
    tee.stop();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.frames(), 3);
    assert!(rec.files()[0].closed, "closed with its index on quit");
}
