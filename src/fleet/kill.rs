//! `conntop kill` over several servers: each server on a thread of its own
//! (connect, re-read, re-check, kill, each bounded by that server's
//! timeouts) with the same rules as one server, every attempt in the one
//! audit log; then one block per server, in target order, and a last line
//! naming the servers that failed (exit 1 if any did).

use std::io::Write;
use std::sync::Mutex;

use crate::audit::{AuditLog, AuditRecord, AuditSink};
use crate::cli::{Cli, KillArgs};
use crate::modes::{self, Failure, KillOrder};
use crate::source::Source;

use super::once::failed_servers;
use super::targets::Target;

/// The one audit log, shared by the servers' threads line by line.
struct Shared<'a>(&'a Mutex<AuditLog>);

impl Shared<'_> {
    fn log(&self) -> std::sync::MutexGuard<'_, AuditLog> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl AuditSink for Shared<'_> {
    fn append(&mut self, record: &AuditRecord<'_>) -> std::io::Result<()> {
        self.log().append(record)
    }

    fn location(&self) -> String {
        self.log().location()
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.log().take_warnings()
    }
}

/// Kills on every target at once; prints a block per server.
pub fn run(
    cli: &Cli,
    args: &KillArgs,
    order: KillOrder,
    targets: &[Target],
) -> Result<(), Failure> {
    let audit = Mutex::new(modes::audit_log(cli)?);
    let results: Vec<(Vec<u8>, Result<(), Failure>)> = std::thread::scope(|s| {
        let runs: Vec<_> = targets
            .iter()
            .map(|t| {
                let audit = &audit;
                s.spawn(move || {
                    let mut out = Vec::new();
                    let result = kill_one(cli, args, order, t, &mut Shared(audit), &mut out);
                    (out, result)
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| {
                r.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        Err(Failure("the kill on this server failed".to_string())),
                    )
                })
            })
            .collect()
    });
    let mut stdout = std::io::stdout().lock();
    for (i, (t, (text, result))) in targets.iter().zip(&results).enumerate() {
        if i > 0 {
            writeln!(stdout)?;
        }
        writeln!(stdout, "== {} ==", crate::text::one_line(&t.name, 120))?;
        stdout.write_all(text)?;
        if let Err(Failure(e)) = result {
            writeln!(stdout, "error: {}", crate::text::one_line(e, 400))?;
        }
    }
    let outcomes: Vec<Result<(), Failure>> = results.into_iter().map(|(_, r)| r).collect();
    failed_servers(targets, &outcomes)
}

/// One server: connect, then the one-server kill, written to `out`.
fn kill_one(
    cli: &Cli,
    args: &KillArgs,
    order: KillOrder,
    t: &Target,
    audit: &mut dyn AuditSink,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let endpoint = t.opts.endpoint();
    let mut source = Source::connect(&modes::attempts(&t.opts), &endpoint)
        .map_err(|e| modes::connect_error(&endpoint, &e))?;
    modes::kill_on(cli, args, order, (&mut source, &endpoint), audit, out)
}
