//! `conntop kill`: the kill the flags ask for, on one server or on each of
//! several (`fleet::kill`), with the same rules as the dashboard.

use std::io::Write;
use std::time::Duration;

use crate::audit::AuditSink;
use crate::cli::{Cli, KillArgs};
use crate::command::{Expect, KillMode, KillOutcome};
use crate::fleet::{self, Servers};
use crate::kill::executor::{self, Batch};
use crate::kill::{self, Refusal, Selection};
use crate::source::Source;
use crate::text::one_line;

use super::{Failure, attempts, audit_log, connect_error, first_connect_error, safety};

/// What `conntop kill` kills, from `--idle-over` or `--query-over`.
#[derive(Debug, Clone, Copy)]
pub struct KillOrder {
    pub mode: KillMode,
    /// Idle sessions (`--idle-over`), else running statements.
    pub expect_idle: bool,
    pub threshold: Duration,
}

/// `conntop kill`: kills idle (`--idle-over`) or long-running
/// (`--query-over`) sessions with the same rules as the dashboard; on
/// several servers, on each (`fleet::kill`).
pub fn kill(cli: &Cli, args: &KillArgs) -> Result<(), Failure> {
    let (mode, expect_idle, threshold) = match (cli.thresholds.idle_over, cli.thresholds.query_over)
    {
        (Some(d), None) => (KillMode::Connection, true, d),
        (None, Some(d)) => (KillMode::Query, false, d),
        // `cli::check` refuses both and neither as usage errors first.
        _ => {
            return Err(Failure(
                "give exactly one of --idle-over or --query-over".to_string(),
            ));
        }
    };
    if cli.safety.read_only {
        return Err(Failure(
            "read-only mode (--read-only): nothing is killed".to_string(),
        ));
    }
    let order = KillOrder {
        mode,
        expect_idle,
        threshold,
    };
    let opts = match fleet::servers(cli)? {
        Servers::One(opts) => opts,
        Servers::Many(targets) => return fleet::kill::run(cli, args, order, &targets),
    };
    let endpoint = opts.endpoint();
    let mut source = Source::connect(&attempts(&opts), &endpoint)
        .map_err(|e| first_connect_error(&opts, &endpoint, &e))?;
    let mut audit = audit_log(cli)?;
    let mut out = std::io::stdout().lock();
    kill_on(
        cli,
        args,
        order,
        (&mut source, &endpoint),
        &mut audit,
        &mut out,
    )
}

/// `conntop kill` on one connected server: the sessions to kill, each
/// re-checked, audited and written to `out` as it goes, then the summary.
pub(crate) fn kill_on(
    cli: &Cli,
    args: &KillArgs,
    order: KillOrder,
    (source, endpoint): (&mut Source, &str),
    audit: &mut dyn AuditSink,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let KillOrder {
        mode,
        expect_idle,
        threshold,
    } = order;
    let safety = safety(cli).connected(source.own_id(), source.privileges());
    let seen_at = std::time::SystemTime::now();
    let mut sessions = source
        .read_sessions()
        .map_err(|e| connect_error(endpoint, &e))?;
    // `--where`, ANDed with `--match-user` / `--match-host` (the selection).
    if let Some(filter) = &args.where_ {
        sessions.retain(|s| filter.matches(s));
    }
    let selection = Selection {
        users: args.match_user.clone(),
        hosts: args.match_host.clone(),
    };
    let expect = if expect_idle {
        Expect::IdleAtLeast { min: threshold }
    } else {
        Expect::RunningAtLeast { min: threshold }
    };
    let targets = kill::targets(&sessions, expect, &safety, &selection);
    let not_ours = sessions
        .iter()
        .filter(|s| kill::meets(s, expect) && selection.matches(s))
        .filter(|s| safety.refuses(s) == Some(Refusal::OtherAccount))
        .count();
    if not_ours > 0 {
        eprintln!(
            "conntop: warning: left out {not_ours} sessions of other accounts: \
             killing them needs CONNECTION ADMIN or SUPER"
        );
    }
    let mut what = if expect_idle {
        format!(
            "idle for at least {}",
            humantime::format_duration(threshold)
        )
    } else {
        format!(
            "running for at least {}",
            humantime::format_duration(threshold)
        )
    };
    if let Some(filter) = &args.where_ {
        what.push_str(&format!(" where {:?}", one_line(filter.as_str(), 200)));
    }
    writeln!(
        out,
        "{} {} sessions {what} on {endpoint}",
        if args.dry_run {
            "would kill"
        } else {
            "killing"
        },
        targets.len()
    )?;
    let why = format!("conntop kill: {what}");
    let batch = Batch {
        mode,
        method: cli.safety.kill_method.into(),
        dry_run: args.dry_run,
        why: &why,
        server: endpoint,
        seen_at,
    };
    let mut write_error = None;
    let result = executor::execute(
        source,
        &targets,
        &batch,
        &safety,
        audit,
        &mut |t, outcome, _| {
            let s = &t.session;
            let (word, detail) = match outcome {
                KillOutcome::Killed => ("killed", String::new()),
                KillOutcome::WouldKill => ("would kill", String::new()),
                KillOutcome::Skipped(why) => ("skipped", format!(" ({why})")),
                KillOutcome::Failed(why) => ("failed", format!(" ({why})")),
            };
            let line = format!(
                "{word:<10} {:>8} {}@{} {} {} {}{detail}",
                s.id,
                one_line(&s.user, 32),
                one_line(s.client_host(), 64),
                one_line(&s.command, 16),
                crate::text::session_time(s.time_ms),
                one_line(s.info.as_deref().unwrap_or(""), 80),
            );
            if let Err(e) = writeln!(out, "{}", line.trim_end()) {
                write_error.get_or_insert(e);
            }
        },
    );
    if args.dry_run {
        writeln!(
            out,
            "dry run: would kill {}, skipped {}, nothing sent; audit log {}",
            result.tally.would_kill,
            result.tally.skipped,
            audit.location()
        )?;
    } else {
        writeln!(
            out,
            "{}; audit log {}",
            kill::summary(mode, &result.tally),
            audit.location()
        )?;
    }
    for warning in &result.warnings {
        crate::text::stderr_line(&format!("conntop: warning: {warning}"));
    }
    if let Some(e) = result.audit_error {
        return Err(Failure(e));
    }
    if let Some(e) = write_error {
        return Err(Failure::from(e));
    }
    match result.first_error {
        Some(e) if result.tally.failed > 0 => Err(Failure(e)),
        _ => Ok(()),
    }
}
