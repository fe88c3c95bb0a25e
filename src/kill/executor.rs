//! The kill batch executor, used by the poller and `conntop kill`: re-reads
//! the processlist, re-checks each target with the policy just before its
//! KILL, sends it and audits every attempt. It talks to the server only
//! through [`KillSource`] and to the log only through [`AuditSink`], so it is
//! tested without either.
//!
//! A chunk of up to [`RECHECK_CHUNK`] targets goes in four steps:
//!
//! 1. re-read the processlist (to the millisecond on MariaDB) and re-check
//!    every target of the chunk against it;
//! 2. append an `attempt` line for each that passed, then one `fsync`: no
//!    record, no kill, and a power cut keeps the record of a KILL sent;
//! 3. send the KILLs, each within [`FRESH_FOR`] of the re-read its re-check
//!    used: when writing the log (a FIFO-slow disk, a hung NFS) or earlier
//!    KILLs took longer, the processlist is read again and the rest
//!    re-checked first, so a session that changed meanwhile is skipped (its
//!    attempt line is followed by `skipped`);
//! 4. append the outcome lines, in target order.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use crate::audit::{AuditRecord, AuditSink, info_may_be_cut};
use crate::command::{Expect, KillMethod, KillMode, KillOutcome, KillTally, KillTarget};
use crate::kill::policy::{Safety, Since, SkipReason, TimePrecision, recheck};
use crate::snapshot::Session;
use crate::source::{Source, SourceError};

/// How many targets share one re-read of the processlist and one `fsync`
/// of the audit log: a batch of 2,000 costs 40 processlist reads and 40
/// `fsync`s (1.5 ms each on an SSD, 10-20 ms on a disk) instead of 2,000.
pub const RECHECK_CHUNK: usize = 50;

/// The longest a KILL may follow the re-read its re-check used; past it, the
/// processlist is read again first.
pub const FRESH_FOR: Duration = Duration::from_millis(200);

/// The processlist as re-read for the re-check.
#[derive(Debug, Clone, PartialEq)]
pub struct Reread {
    /// Every session on the server now, ours included.
    pub sessions: Vec<Session>,
    /// How exact their times are.
    pub precision: TimePrecision,
}

/// What the executor needs from a server connection.
pub trait KillSource {
    /// Every session on the server now, for the re-check.
    fn reread(&mut self) -> Result<Reread, SourceError>;
    /// The whole statement session `id` runs now (up to 16 KiB), `None`
    /// when it runs none.
    fn statement(&mut self, id: u64) -> Result<Option<String>, SourceError>;
    /// Sends one KILL.
    fn kill(&mut self, id: u64, mode: KillMode, method: KillMethod) -> Result<(), SourceError>;
}

impl KillSource for Source {
    fn reread(&mut self) -> Result<Reread, SourceError> {
        let (sessions, exact) = self.read_sessions_exact()?;
        Ok(Reread {
            sessions,
            precision: if exact {
                TimePrecision::Millis
            } else {
                TimePrecision::Seconds
            },
        })
    }

    fn statement(&mut self, id: u64) -> Result<Option<String>, SourceError> {
        Source::statement(self, id)
    }

    fn kill(&mut self, id: u64, mode: KillMode, method: KillMethod) -> Result<(), SourceError> {
        Source::kill(self, id, mode, method)
    }
}

/// Options of one kill batch.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub mode: KillMode,
    pub method: KillMethod,
    /// Re-check and log, but send no KILL (`--dry-run`).
    pub dry_run: bool,
    /// Why, for the audit log.
    pub why: &'a str,
    /// Server endpoint, for the audit log.
    pub server: &'a str,
    /// When the targets were read: each must have aged by the time since
    /// ([`recheck`]).
    pub seen_at: SystemTime,
}

/// The end of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchResult {
    pub tally: KillTally,
    /// The first failure, as a user-facing line.
    pub first_error: Option<String>,
    /// Set when the connection was lost mid-batch (the rest were not tried).
    pub lost: Option<SourceError>,
    /// Set when the audit log could not be written: the batch stopped there
    /// and nothing after it was killed.
    pub audit_error: Option<String>,
    /// Warnings from the audit log (a mode it fixed) and the batch.
    pub warnings: Vec<String>,
}

/// User-facing message for a failed KILL.
pub fn kill_error_message(e: &SourceError) -> String {
    match e.code() {
        Some(1095) => "not owner of thread: the account needs SUPER or CONNECTION_ADMIN \
                       (MariaDB: CONNECTION ADMIN) to kill other users' sessions"
            .to_string(),
        Some(1227) | Some(1370) => format!("not allowed: {e}"),
        _ => e.to_string(),
    }
}

/// Called after each target with its outcome and the tally so far.
pub type OnOutcome<'a> = dyn FnMut(&KillTarget, &KillOutcome, &KillTally) + 'a;

/// Kills `targets` through `source`, a chunk of [`RECHECK_CHUNK`] at a time
/// (see the module's steps): re-checks each target against `safety` (bound
/// to `source`'s connection with [`Safety::connected`]) and a re-read at
/// most [`FRESH_FOR`] old just before its KILL, counts unknown threads
/// (1094) as skipped and calls `on_outcome` after each target.
///
/// No record, no kill: `attempt` lines are appended to `audit` and made
/// durable before the KILLs, the outcomes after them; when a line cannot be
/// written the batch stops there, the rest fail as not tried and
/// [`BatchResult::audit_error`] says why.
pub fn execute(
    source: &mut dyn KillSource,
    targets: &[KillTarget],
    batch: &Batch<'_>,
    safety: &Safety,
    audit: &mut dyn AuditSink,
    on_outcome: &mut OnOutcome<'_>,
) -> BatchResult {
    let mut run = Run {
        batch,
        safety,
        single: targets.len() == 1,
        audit,
        audit_ok: true,
        on_outcome,
        result: BatchResult::default(),
    };
    for chunk in targets.chunks(RECHECK_CHUNK) {
        if let Err(why) = run.chunk(source, chunk) {
            run.give_up(targets, &why);
            break;
        }
    }
    if run.audit_ok {
        if let Err(e) = run.audit.sync() {
            let msg = format!("cannot sync the audit log {}: {e}", run.audit.location());
            run.result.warnings.push(msg);
        }
    }
    let mut warnings = run.audit.take_warnings();
    warnings.append(&mut run.result.warnings);
    run.result.warnings = warnings;
    run.result
}

/// One batch under way.
struct Run<'r, 'a, 'o, 'f> {
    batch: &'r Batch<'a>,
    safety: &'r Safety,
    /// A single session: its whole statement is read for the log.
    single: bool,
    audit: &'r mut (dyn AuditSink + 'o),
    /// False once a line could not be written: nothing more is written or killed.
    audit_ok: bool,
    on_outcome: &'r mut OnOutcome<'f>,
    result: BatchResult,
}

/// The processlist as re-read, and when.
struct View {
    sessions: HashMap<u64, Session>,
    since: Since,
    /// When the read came back.
    read_at: Instant,
}

/// Where one target of a chunk stands: the session as last re-read (as
/// confirmed when gone), and its outcome once known (`None`: passed its
/// re-check, KILL still to send).
struct Step {
    row: Session,
    outcome: Option<KillOutcome>,
}

impl Run<'_, '_, '_, '_> {
    /// Runs one chunk; `Err` is why the rest of the batch is not tried.
    fn chunk(&mut self, source: &mut dyn KillSource, chunk: &[KillTarget]) -> Result<(), String> {
        let mut view = self
            .reread(source)
            .map_err(|why| format!("not tried: {why}"))?;
        let mut steps: Vec<Step> = chunk.iter().map(|t| self.check(t, &view)).collect();
        let statement = match (chunk.first(), steps.first_mut()) {
            (Some(t), Some(step)) if self.single => self.whole_statement(source, t, step),
            _ => None,
        };
        if steps.iter().any(|s| s.outcome.is_none()) {
            if let Err(msg) = self.record_attempts(&steps, statement.as_deref()) {
                let why = format!("not killed: {msg}");
                for step in steps.iter_mut().filter(|s| s.outcome.is_none()) {
                    step.outcome = Some(KillOutcome::Failed(why.clone()));
                }
            }
        }
        let mut stop = None;
        for (t, step) in chunk.iter().zip(steps.iter_mut()) {
            if step.outcome.is_some() {
                continue;
            }
            if let Some(why) = &stop {
                step.outcome = Some(KillOutcome::Failed(format!("not tried: {why}")));
                continue;
            }
            if view.read_at.elapsed() > FRESH_FOR {
                match self.reread(source) {
                    Ok(fresh) => view = fresh,
                    Err(why) => {
                        step.outcome = Some(KillOutcome::Failed(format!("not tried: {why}")));
                        stop = Some(why);
                        continue;
                    }
                }
                *step = self.check(t, &view);
                if step.outcome.is_some() {
                    continue;
                }
            }
            step.outcome = Some(self.kill_one(source, t));
            if self.result.lost.is_some() {
                stop = Some("connection lost".to_string());
            }
        }
        for (t, step) in chunk.iter().zip(steps) {
            let outcome = step
                .outcome
                .unwrap_or_else(|| KillOutcome::Failed("not tried".to_string()));
            self.finish(t, &step.row, outcome);
        }
        if !self.audit_ok {
            return Err("not tried: the audit log cannot be written".to_string());
        }
        if stop.is_none() && self.result.lost.is_some() {
            stop = Some("connection lost".to_string());
        }
        match stop {
            Some(why) => Err(format!("not tried: {why}")),
            None => Ok(()),
        }
    }

    /// Reads the processlist for re-checks; `Err` is a user-facing line
    /// (and the batch's first error).
    fn reread(&mut self, source: &mut dyn KillSource) -> Result<View, String> {
        // Measured before the read: no more than the time that passed on
        // the server between the two reads (see `TimePrecision`). A clock
        // that went back counts as no time passed.
        let elapsed = SystemTime::now()
            .duration_since(self.batch.seen_at)
            .unwrap_or(Duration::ZERO);
        match source.reread() {
            Ok(read) => Ok(View {
                sessions: read.sessions.into_iter().map(|s| (s.id, s)).collect(),
                since: Since {
                    elapsed,
                    precision: read.precision,
                },
                read_at: Instant::now(),
            }),
            Err(e) => {
                let msg = e.to_string();
                self.result.first_error.get_or_insert(msg.clone());
                if e.is_connection_lost() {
                    self.result.lost = Some(e);
                }
                Err(msg)
            }
        }
    }

    /// Re-checks `t` against `view`.
    fn check(&self, t: &KillTarget, view: &View) -> Step {
        let now = view.sessions.get(&t.session.id);
        // The audit log records the session as re-read just before the
        // KILL (as confirmed when it is gone); the re-read has no
        // transaction age, so the confirmed one is kept.
        let row = now.map_or_else(
            || t.session.clone(),
            |s| Session {
                trx_age_ms: s.trx_age_ms.or(t.session.trx_age_ms),
                ..s.clone()
            },
        );
        let outcome = match recheck(t, now, self.batch.mode, self.safety, view.since) {
            Err(why) => Some(KillOutcome::Skipped(why)),
            Ok(()) if self.batch.dry_run => Some(KillOutcome::WouldKill),
            Ok(()) => None,
        };
        Step { row, outcome }
    }

    /// For a single session whose listed statement may be cut: its whole
    /// statement, read just before the KILL, for the audit log. For `KILL
    /// QUERY`, a statement that is no longer the one listed (or none) skips
    /// the target.
    fn whole_statement(
        &mut self,
        source: &mut dyn KillSource,
        t: &KillTarget,
        step: &mut Step,
    ) -> Option<String> {
        if step.outcome.is_some() || !info_may_be_cut(step.row.info.as_deref()) {
            return None;
        }
        let listed = step.row.info.as_deref().unwrap_or("");
        // A cut inside a character shows as U+FFFD at the end.
        let listed = listed.trim_end_matches('\u{FFFD}');
        let changed = || match t.expect {
            Expect::Same => SkipReason::ChangedSinceConfirmed,
            _ => SkipReason::ChangedSincePreview,
        };
        match source.statement(t.session.id) {
            Ok(Some(text)) if text.starts_with(listed) => Some(text),
            Ok(other) if self.batch.mode == KillMode::Query => {
                step.outcome = Some(KillOutcome::Skipped(match other {
                    Some(_) => changed(),
                    None if t.expect == Expect::Same => changed(),
                    None => SkipReason::QueryFinished,
                }));
                None
            }
            // `KILL CONNECTION` of a busy session may find another statement.
            Ok(other) => other,
            Err(e) => {
                if e.is_connection_lost() {
                    step.outcome = Some(KillOutcome::Failed(format!("not tried: {e}")));
                    self.result.first_error.get_or_insert(e.to_string());
                    self.result.lost = Some(e);
                } else {
                    self.result.warnings.push(format!(
                        "session {}: the whole statement could not be read for the audit log: {e}",
                        t.session.id
                    ));
                }
                None
            }
        }
    }

    /// Writes the lines that must be in the log, durable, before the KILLs
    /// of the targets that passed their re-check.
    fn record_attempts(&mut self, steps: &[Step], statement: Option<&str>) -> Result<(), String> {
        let b = self.batch;
        for step in steps.iter().filter(|s| s.outcome.is_none()) {
            let mut rec = AuditRecord::attempt(b.server, &step.row, b.mode, b.method, b.why);
            rec.statement = statement;
            self.write(&rec)?;
        }
        let synced = self.audit.sync();
        synced.map_err(|e| self.audit_failed(e))
    }

    /// Sends the KILL of a target that passed its re-check.
    fn kill_one(&mut self, source: &mut dyn KillSource, t: &KillTarget) -> KillOutcome {
        match source.kill(t.session.id, self.batch.mode, self.batch.method) {
            Ok(()) => KillOutcome::Killed,
            Err(e) if e.code() == Some(1094) => KillOutcome::Skipped(SkipReason::Gone),
            Err(e) => {
                let msg = kill_error_message(&e);
                self.result.first_error.get_or_insert(msg.clone());
                if e.is_connection_lost() {
                    self.result.lost = Some(e);
                }
                KillOutcome::Failed(msg)
            }
        }
    }

    /// Appends one line; on failure, stops all further writes and kills.
    fn write(&mut self, rec: &AuditRecord<'_>) -> Result<(), String> {
        if !self.audit_ok {
            return Err("the audit log cannot be written".to_string());
        }
        let appended = self.audit.append(rec);
        appended.map_err(|e| self.audit_failed(e))
    }

    /// Records that the log failed: nothing more is written or killed.
    fn audit_failed(&mut self, e: std::io::Error) -> String {
        let msg = format!("cannot write the audit log {}: {e}", self.audit.location());
        self.audit_ok = false;
        self.result.first_error.get_or_insert(msg.clone());
        self.result
            .audit_error
            .get_or_insert(format!("{msg}; the batch stopped (no record, no kill)"));
        msg
    }

    /// Counts, audits `row` (while the log works) and reports one outcome.
    fn finish(&mut self, target: &KillTarget, row: &Session, outcome: KillOutcome) {
        self.result.tally.add(&outcome);
        if self.audit_ok {
            let b = self.batch;
            let mut rec = AuditRecord::new(b.server, row, b.mode, b.method, &outcome, b.why);
            rec.dry_run = b.dry_run;
            // A failure is kept in `result` and ends the batch.
            let _ = self.write(&rec);
        }
        (self.on_outcome)(target, &outcome, &self.result.tally);
    }

    /// Fails every target not done yet without trying it.
    fn give_up(&mut self, targets: &[KillTarget], why: &str) {
        let done = self.result.tally.done();
        for t in targets.iter().skip(done) {
            self.finish(t, &t.session, KillOutcome::Failed(why.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::io;
    use std::rc::Rc;
    use std::time::Duration;

    use super::*;
    use crate::command::Expect;
    use crate::kill::policy::Refusal;
    use crate::snapshot::Privileges;

    /// What happened, in order, on the fake server and in the fake log.
    type Journal = Rc<RefCell<Vec<String>>>;

    /// A server in memory: each re-read returns the next list (the last one
    /// again when they run out), to the millisecond unless `seconds`;
    /// KILLs are recorded, some ids fail.
    #[derive(Default)]
    struct Fake {
        reads: VecDeque<Vec<Session>>,
        last: Vec<Session>,
        read_count: usize,
        seconds: bool,
        killed: Vec<(u64, KillMode)>,
        errors: HashMap<u64, SourceError>,
        /// Whole statements by id (`statement`), and how often one was read.
        statements: HashMap<u64, String>,
        statement_reads: usize,
        journal: Journal,
    }

    impl Fake {
        fn new(lists: Vec<Vec<Session>>) -> Fake {
            Fake {
                reads: lists.into(),
                ..Fake::default()
            }
        }

        fn killed_ids(&self) -> Vec<u64> {
            self.killed.iter().map(|(id, _)| *id).collect()
        }
    }

    impl KillSource for Fake {
        fn reread(&mut self) -> Result<Reread, SourceError> {
            self.read_count += 1;
            self.journal.borrow_mut().push("read".to_string());
            if let Some(next) = self.reads.pop_front() {
                self.last = next;
            }
            Ok(Reread {
                sessions: self.last.clone(),
                precision: if self.seconds {
                    TimePrecision::Seconds
                } else {
                    TimePrecision::Millis
                },
            })
        }

        fn statement(&mut self, id: u64) -> Result<Option<String>, SourceError> {
            self.statement_reads += 1;
            Ok(self.statements.get(&id).cloned())
        }

        fn kill(&mut self, id: u64, mode: KillMode, _: KillMethod) -> Result<(), SourceError> {
            if let Some(e) = self.errors.get(&id) {
                return Err(e.clone());
            }
            self.journal.borrow_mut().push(format!("KILL {id}"));
            self.killed.push((id, mode));
            self.last.retain(|s| s.id != id);
            Ok(())
        }
    }

    /// Audit records as JSON values; with `room`, every write past that
    /// many lines fails as a full disk does; with `slow_sync`, each sync
    /// takes that long (a hung NFS, a slow disk).
    #[derive(Default)]
    struct Records {
        lines: Vec<serde_json::Value>,
        room: Option<usize>,
        slow_sync: Option<Duration>,
        syncs: usize,
        journal: Journal,
    }

    impl Records {
        fn results(&self) -> Vec<String> {
            self.lines
                .iter()
                .map(|r| format!("{} {}", r["result"].as_str().unwrap_or("?"), r["id"]))
                .collect()
        }
    }

    impl AuditSink for Records {
        fn append(&mut self, record: &AuditRecord<'_>) -> io::Result<()> {
            if self.room.is_some_and(|room| self.lines.len() >= room) {
                return Err(io::Error::from_raw_os_error(28));
            }
            let v = serde_json::to_value(record).map_err(io::Error::other)?;
            self.journal
                .borrow_mut()
                .push(format!("log {} {}", record.result, record.session.id));
            self.lines.push(v);
            Ok(())
        }

        fn sync(&mut self) -> io::Result<()> {
            if let Some(d) = self.slow_sync {
                std::thread::sleep(d);
            }
            self.syncs += 1;
            self.journal.borrow_mut().push("sync".to_string());
            Ok(())
        }

        fn location(&self) -> String {
            "/var/log/conntop.jsonl".to_string()
        }
    }

    fn s(id: u64, user: &str, command: &str, secs: u64, info: Option<&str>) -> Session {
        Session {
            id,
            user: user.into(),
            host: format!("10.0.0.{id}:4000"),
            command: command.into(),
            time_ms: secs * 1000,
            info: info.map(str::to_string),
            ..Session::default()
        }
    }

    fn idle(session: Session) -> KillTarget {
        KillTarget {
            session,
            expect: Expect::IdleAtLeast {
                min: Duration::from_secs(60),
            },
        }
    }

    fn batch(mode: KillMode) -> Batch<'static> {
        Batch {
            mode,
            method: KillMethod::Sql,
            dry_run: false,
            why: "test",
            server: "fake:3306",
            seen_at: SystemTime::now(),
        }
    }

    /// Runs a batch; returns the result and the outcomes in order.
    fn run(
        fake: &mut Fake,
        targets: &[KillTarget],
        batch: &Batch<'_>,
        safety: &Safety,
        audit: &mut Records,
    ) -> (BatchResult, Vec<(u64, KillOutcome)>) {
        let mut outcomes = Vec::new();
        let result = execute(fake, targets, batch, safety, audit, &mut |t, o, _| {
            outcomes.push((t.session.id, o.clone()))
        });
        (result, outcomes)
    }

    #[test]
    fn kills_what_still_matches_and_skips_what_changed_since_the_preview() {
        // Previewed: three idle sessions. Before the KILLs, 2 turned busy
        // and 3 disconnected.
        let preview = [
            s(1, "app", "Sleep", 400, None),
            s(2, "app", "Sleep", 300, None),
            s(3, "app", "Sleep", 200, None),
        ];
        let mut fake = Fake::new(vec![vec![
            s(1, "app", "Sleep", 402, None),
            s(2, "app", "Query", 0, Some("UPDATE t SET n = n + 1")),
        ]]);
        let targets: Vec<KillTarget> = preview.into_iter().map(idle).collect();
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.killed, vec![(1, KillMode::Connection)]);
        assert_eq!(
            outcomes,
            vec![
                (1, KillOutcome::Killed),
                (
                    2,
                    KillOutcome::Skipped(SkipReason::Busy {
                        command: "Query".into()
                    })
                ),
                (3, KillOutcome::Skipped(SkipReason::Gone)),
            ]
        );
        assert_eq!((result.tally.killed, result.tally.skipped), (1, 2));
        assert_eq!(result.first_error, None);
        assert_eq!(
            audit.results(),
            vec!["attempt 1", "killed 1", "skipped 2", "skipped 3"]
        );
        assert_eq!(audit.lines[2]["detail"], "busy now (Query)");
        assert_eq!(audit.lines[3]["detail"], "gone");
    }

    #[test]
    fn x_on_a_session_that_moved_on_to_another_statement_kills_nothing() {
        let first = s(
            5,
            "app",
            "Query",
            3,
            Some("SELECT SLEEP(8) /* FIRST harmless report */"),
        );
        let second = s(
            5,
            "app",
            "Query",
            0,
            Some("SELECT SLEEP(8) /* SECOND critical statement */"),
        );
        let target = [KillTarget {
            session: first.clone(),
            expect: Expect::Same,
        }];
        let mut fake = Fake::new(vec![vec![second]]);
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert!(fake.killed.is_empty(), "SECOND was stopped");
        assert_eq!(result.tally.skipped, 1);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::ChangedSinceConfirmed)
        );
        assert_eq!(audit.results(), vec!["skipped 5"]);
        assert_eq!(audit.lines[0]["detail"], "changed since you confirmed");
        assert_eq!(
            audit.lines[0]["info"], "SELECT SLEEP(8) /* SECOND critical statement */",
            "the audit names the row as re-read"
        );

        // Still FIRST, a second later: stopped, and the audit has the row as
        // re-read just before the KILL.
        let later = Session {
            time_ms: 4000,
            ..first
        };
        let mut fake = Fake::new(vec![vec![later]]);
        let mut audit = Records::default();
        run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.killed, vec![(5, KillMode::Query)]);
        assert_eq!(audit.results(), vec!["attempt 5", "killed 5"]);
        for line in &audit.lines {
            assert_eq!(line["time_ms"], 4000);
            assert_eq!(line["info"], "SELECT SLEEP(8) /* FIRST harmless report */");
        }
    }

    #[test]
    fn k_on_an_idle_session_that_ran_something_since_kills_nothing() {
        let target = [KillTarget {
            session: s(6, "app", "Sleep", 10, None),
            expect: Expect::Same,
        }];
        for now in [
            s(6, "app", "Query", 0, Some("UPDATE t SET n = 1")),
            s(6, "app", "Sleep", 1, None),
        ] {
            let mut fake = Fake::new(vec![vec![now.clone()]]);
            let (result, _) = run(
                &mut fake,
                &target,
                &batch(KillMode::Connection),
                &Safety::default(),
                &mut Records::default(),
            );
            assert!(fake.killed.is_empty(), "{now:?}");
            assert_eq!(result.tally.skipped, 1);
        }
    }

    #[test]
    fn the_attempt_is_in_the_log_before_the_kill_is_sent() {
        let journal = Journal::default();
        let mut fake = Fake::new(vec![vec![
            s(1, "app", "Sleep", 401, None),
            s(2, "app", "Sleep", 401, None),
        ]]);
        fake.journal = Rc::clone(&journal);
        let mut audit = Records {
            journal: Rc::clone(&journal),
            ..Records::default()
        };
        let targets = [
            idle(s(1, "app", "Sleep", 400, None)),
            idle(s(2, "app", "Sleep", 400, None)),
        ];
        run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(
            *journal.borrow(),
            vec![
                "read",
                "log attempt 1",
                "log attempt 2",
                "sync",
                "KILL 1",
                "KILL 2",
                "log killed 1",
                "log killed 2",
                "sync"
            ]
        );
    }

    #[test]
    fn no_record_no_kill_when_the_audit_log_cannot_be_written() {
        let list: Vec<Session> = (1..=10)
            .map(|id| s(id, "app", "Sleep", 400, None))
            .collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        let mut fake = Fake::new(vec![list.clone()]);
        let mut full = Records {
            room: Some(0),
            ..Records::default()
        };
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut full,
        );
        assert!(fake.killed.is_empty(), "killed without a record");
        assert_eq!((result.tally.killed, result.tally.failed), (0, 10));
        assert_eq!(outcomes.len(), 10);
        let why = result.audit_error.expect("the batch says why it stopped");
        assert!(
            why.starts_with("cannot write the audit log /var/log/conntop.jsonl"),
            "{why}"
        );
        assert!(why.contains("no record, no kill"), "{why}");
        assert!(!why.contains('\n'));
        assert!(matches!(&outcomes[0].1, KillOutcome::Failed(d) if d.starts_with("not killed")));

        // The log fills up among a chunk's attempt lines: none of that
        // chunk is killed (the lines written are attempts without outcome).
        let mut fake = Fake::new(vec![list]);
        let mut filling = Records {
            room: Some(4),
            ..Records::default()
        };
        let (result, _) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut filling,
        );
        assert!(fake.killed.is_empty());
        assert_eq!((result.tally.killed, result.tally.failed), (0, 10));
        assert!(result.audit_error.is_some());
        assert_eq!(filling.syncs, 0, "the failed chunk is not synced");
    }

    #[test]
    fn a_log_that_fills_up_stops_the_batch_at_the_next_chunk() {
        let list: Vec<Session> = (1..=60)
            .map(|id| s(id, "app", "Sleep", 400, None))
            .collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        // Room for the first chunk's attempts and outcomes, not for the
        // second chunk's first attempt.
        let mut fake = Fake::new(vec![list.clone()]);
        let mut filling = Records {
            room: Some(100),
            ..Records::default()
        };
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut filling,
        );
        assert_eq!(fake.killed_ids(), (1..=50).collect::<Vec<u64>>());
        assert_eq!((result.tally.killed, result.tally.failed), (50, 10));
        assert!(result.audit_error.is_some());
        assert_eq!(outcomes.len(), 60);
        assert!(matches!(&outcomes[50].1, KillOutcome::Failed(d) if d.starts_with("not killed")));
        // Full among the first chunk's outcomes: its KILLs were sent (their
        // attempts are durable), the second chunk is not tried.
        let mut fake = Fake::new(vec![list]);
        let mut filling = Records {
            room: Some(75),
            ..Records::default()
        };
        let (result, _) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut filling,
        );
        assert_eq!(fake.killed.len(), 50);
        assert_eq!((result.tally.killed, result.tally.failed), (50, 10));
        assert_eq!(fake.read_count, 1);
    }

    /// The attacker's case: the attempt line's write (here its fsync) blocks
    /// for longer than [`FRESH_FOR`]; meanwhile the idle session runs
    /// `BEGIN; INSERT` and goes idle again. The KILL must not go out on the
    /// re-check made before the write.
    #[test]
    fn a_slow_audit_write_is_followed_by_a_fresh_recheck_before_the_kill() {
        let journal = Journal::default();
        let confirmed = s(1, "app", "Sleep", 400, None);
        let target = [KillTarget {
            session: confirmed.clone(),
            expect: Expect::Same,
        }];
        let idle_again = Session {
            time_ms: 100,
            ..confirmed.clone()
        };
        let mut fake = Fake::new(vec![vec![confirmed.clone()], vec![idle_again]]);
        fake.journal = Rc::clone(&journal);
        let mut audit = Records {
            slow_sync: Some(FRESH_FOR + Duration::from_millis(100)),
            journal: Rc::clone(&journal),
            ..Records::default()
        };
        let (result, outcomes) = run(
            &mut fake,
            &target,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert!(fake.killed.is_empty(), "killed on a stale re-check");
        assert_eq!(result.tally.skipped, 1);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::ChangedSinceConfirmed)
        );
        assert_eq!(
            *journal.borrow(),
            vec![
                "read",
                "log attempt 1",
                "sync",
                "read",
                "log skipped 1",
                "sync"
            ]
        );
        assert_eq!(
            audit.lines[1]["time_ms"], 100,
            "the outcome names the row as re-read"
        );

        // Still idle the whole time: killed, after the second re-read.
        let still = Session {
            time_ms: 400_400,
            ..confirmed.clone()
        };
        let mut fake = Fake::new(vec![vec![confirmed], vec![still]]);
        let mut audit = Records {
            slow_sync: Some(FRESH_FOR + Duration::from_millis(100)),
            ..Records::default()
        };
        run(
            &mut fake,
            &target,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.killed_ids(), vec![1]);
        assert_eq!(fake.read_count, 2);
        assert_eq!(audit.results(), vec!["attempt 1", "killed 1"]);
    }

    /// A fast log: one re-read per chunk, the KILLs right after it.
    #[test]
    fn a_fast_log_needs_no_second_read() {
        let list: Vec<Session> = (1..=3).map(|id| s(id, "app", "Sleep", 400, None)).collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        let mut fake = Fake::new(vec![list]);
        let mut audit = Records::default();
        run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.read_count, 1);
        assert_eq!(fake.killed_ids(), vec![1, 2, 3]);
        assert_eq!(audit.syncs, 2, "one for the attempts, one at the end");
    }

    /// `x` on a loop of `SELECT SLEEP(1.5)`: confirmed 2.5 s ago at 1 s in;
    /// the run found now started after that.
    #[test]
    fn x_on_a_loop_skips_the_run_started_after_the_dialog_opened() {
        let shown = s(5, "app", "Query", 1, Some("SELECT SLEEP(1.5)"));
        let target = [KillTarget {
            session: shown.clone(),
            expect: Expect::Same,
        }];
        let next_run = Session {
            time_ms: 2400,
            ..shown.clone()
        };
        let mut b = batch(KillMode::Query);
        b.seen_at = SystemTime::now() - Duration::from_millis(2500);
        let mut fake = Fake::new(vec![vec![next_run]]);
        let mut audit = Records::default();
        let (result, _) = run(&mut fake, &target, &b, &Safety::default(), &mut audit);
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.skipped, 1);
        // The confirmed run itself, 2.5 s on.
        let same_run = Session {
            time_ms: 3600,
            ..shown
        };
        let mut fake = Fake::new(vec![vec![same_run]]);
        run(
            &mut fake,
            &target,
            &b,
            &Safety::default(),
            &mut Records::default(),
        );
        assert_eq!(fake.killed_ids(), vec![5]);
    }

    /// A statement as long as the processlist lists: for one session, the
    /// whole text is read just before the KILL and logged; in bulk, the
    /// lines say the text may be cut.
    #[test]
    fn a_single_kill_logs_the_whole_statement() {
        let whole = format!("SELECT /* {} */ 1", "x".repeat(200));
        let listed: String = whole.chars().take(100).collect();
        let session = s(5, "app", "Query", 3, Some(&listed));
        let target = [KillTarget {
            session: session.clone(),
            expect: Expect::Same,
        }];
        let mut fake = Fake::new(vec![vec![session.clone()]]);
        fake.statements.insert(5, whole.clone());
        let mut audit = Records::default();
        run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.killed_ids(), vec![5]);
        assert_eq!(audit.lines[0]["result"], "attempt");
        assert_eq!(audit.lines[0]["statement"], whole.as_str());
        assert_eq!(audit.lines[0]["info_cut"], true);
        assert_eq!(audit.lines[0]["info"], listed.as_str());

        // It moved on to another statement between the re-read and this
        // read: skipped.
        let mut fake = Fake::new(vec![vec![session.clone()]]);
        fake.statements.insert(5, "SELECT 2".to_string());
        let mut audit = Records::default();
        let (result, _) = run(
            &mut fake,
            &target,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.skipped, 1);
        assert_eq!(audit.results(), vec!["skipped 5"]);

        // Two sessions: no extra reads, the lines mark the cut.
        let other = Session {
            id: 6,
            ..session.clone()
        };
        let targets: Vec<KillTarget> = [session.clone(), other.clone()]
            .into_iter()
            .map(|session| KillTarget {
                session,
                expect: Expect::Same,
            })
            .collect();
        let mut fake = Fake::new(vec![vec![session, other]]);
        let mut audit = Records::default();
        run(
            &mut fake,
            &targets,
            &batch(KillMode::Query),
            &Safety::default(),
            &mut audit,
        );
        assert_eq!(fake.statement_reads, 0);
        assert_eq!(fake.killed_ids(), vec![5, 6]);
        assert!(audit.lines.iter().all(|l| l["info_cut"] == true));
        assert!(audit.lines.iter().all(|l| l.get("statement").is_none()));
    }

    /// MySQL: whole seconds, read twice, so the same statement may show a
    /// second less than expected: still killed.
    #[test]
    fn whole_second_rereads_get_the_wider_slack() {
        let shown = s(5, "app", "Query", 5, Some("SELECT * FROM big_report"));
        let target = [KillTarget {
            session: shown.clone(),
            expect: Expect::Same,
        }];
        let mut b = batch(KillMode::Query);
        b.seen_at = SystemTime::now() - Duration::from_millis(1900);
        let rounded = Session {
            time_ms: 6000,
            ..shown
        };
        let mut fake = Fake::new(vec![vec![rounded]]);
        fake.seconds = true;
        run(
            &mut fake,
            &target,
            &b,
            &Safety::default(),
            &mut Records::default(),
        );
        assert_eq!(fake.killed_ids(), vec![5]);
    }

    #[test]
    fn own_connection_is_never_killed_and_unknown_threads_count_as_gone() {
        let mut fake = Fake::new(vec![vec![
            s(7, "conntop", "Query", 0, Some("SHOW FULL PROCESSLIST")),
            s(8, "app", "Query", 0, None),
        ]]);
        fake.errors.insert(
            8,
            SourceError::Server {
                code: 1094,
                message: "Unknown thread id: 8".into(),
            },
        );
        let targets: Vec<KillTarget> = [
            s(7, "conntop", "Query", 0, None),
            s(8, "app", "Query", 0, None),
        ]
        .into_iter()
        .map(|session| KillTarget {
            session,
            expect: Expect::Same,
        })
        .collect();
        let safety = Safety::default().connected(7, &Privileges::default());
        let mut audit = Records::default();
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &safety,
            &mut audit,
        );
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.skipped, 2);
        assert_eq!(
            outcomes[0].1,
            KillOutcome::Skipped(SkipReason::Refused(Refusal::OwnConnection))
        );
        assert_eq!(outcomes[1].1, KillOutcome::Skipped(SkipReason::Gone));
        assert_eq!(audit.results(), vec!["attempt 8", "skipped 7", "skipped 8"]);
    }

    #[test]
    fn dry_run_sends_nothing() {
        let mut fake = Fake::new(vec![vec![s(1, "app", "Sleep", 400, None)]]);
        let targets = [idle(s(1, "app", "Sleep", 400, None))];
        let mut b = batch(KillMode::Connection);
        b.dry_run = true;
        let mut audit = Records::default();
        let (result, _) = run(&mut fake, &targets, &b, &Safety::default(), &mut audit);
        assert!(fake.killed.is_empty());
        assert_eq!(result.tally.would_kill, 1);
        assert_eq!(audit.results(), vec!["would_kill 1"]);
        assert_eq!(audit.lines[0]["dry_run"], true);
    }

    #[test]
    fn rereads_once_per_chunk_and_stops_when_the_connection_is_lost() {
        let list: Vec<Session> = (1..=120)
            .map(|id| s(id, "app", "Sleep", 400, None))
            .collect();
        let targets: Vec<KillTarget> = list.iter().cloned().map(idle).collect();
        let mut fake = Fake::new(vec![list.clone()]);
        let (result, _) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut Records::default(),
        );
        assert_eq!(result.tally.killed, 120);
        assert_eq!(fake.read_count, 3);

        let mut fake = Fake::new(vec![list]);
        fake.errors
            .insert(3, SourceError::Lost("server has gone away".into()));
        let (result, outcomes) = run(
            &mut fake,
            &targets,
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut Records::default(),
        );
        assert_eq!(fake.killed_ids(), vec![1, 2]);
        assert_eq!((result.tally.killed, result.tally.failed), (2, 118));
        assert!(result.lost.is_some());
        assert_eq!(outcomes.len(), 120);
        assert_eq!(
            outcomes[119].1,
            KillOutcome::Failed("not tried: connection lost".into())
        );
    }

    #[test]
    fn a_refused_kill_says_which_privilege_is_missing() {
        let mut fake = Fake::new(vec![vec![s(1, "other", "Sleep", 400, None)]]);
        fake.errors.insert(
            1,
            SourceError::Server {
                code: 1095,
                message: "You are not owner of thread 1".into(),
            },
        );
        let (result, _) = run(
            &mut fake,
            &[idle(s(1, "other", "Sleep", 400, None))],
            &batch(KillMode::Connection),
            &Safety::default(),
            &mut Records::default(),
        );
        assert_eq!(result.tally.failed, 1);
        assert!(
            result
                .first_error
                .unwrap_or_default()
                .contains("CONNECTION_ADMIN")
        );
    }
}
