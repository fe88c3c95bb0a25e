//! Fix steps more than one rule gives, written once: the max_connections
//! advice, the wait_timeout advice, the statement timeout per flavor, and
//! the one my.cnf block a finding ends with.

use foldhash::{HashMap, HashMapExt};

use super::FixStep;
use super::leak::{self, Leak};
use super::units::{ceil_to, mib};
use crate::action::Action;
use crate::snapshot::{Flavor, Snapshot, Variables, millis};
use crate::text::short_ms;
use crate::thresholds::Thresholds;

/// The highest `max_connections` the servers accept.
pub(super) const MAX_CONNECTIONS_LIMIT: u64 = 100_000;
/// A raised limit leaves this share of room over what is needed.
pub(super) const RAISE_MARGIN: f64 = 0.25;
/// A raised limit is at least this much over the current one.
pub(super) const RAISE_MIN_STEP: u64 = 10;
/// The usual advice for wait_timeout is 300 to 600 s: the low end, unless
/// pools on the server idle longer.
pub(super) const WAIT_ADVISED_S: u64 = 300;
/// interactive_timeout: the high end, for people at a mysql prompt.
pub(super) const INTERACTIVE_ADVISED_S: u64 = 600;
/// An advised wait_timeout stays this share above the longest pool idle time.
pub(super) const WAIT_MARGIN: f64 = 0.2;

/// A step that only says what to do.
pub(super) fn step(text: impl Into<String>) -> FixStep {
    FixStep {
        text: text.into(),
        sql: None,
        config: None,
        action: None,
    }
}

impl FixStep {
    /// The step with SQL to copy.
    pub(super) fn sql(mut self, sql: impl Into<String>) -> FixStep {
        self.sql = Some(sql.into());
        self
    }

    /// The step with the action that performs it.
    pub(super) fn action(mut self, action: Action) -> FixStep {
        self.action = Some(action);
        self
    }
}

/// The steps of one finding's fix. Every setting changed with `SET GLOBAL`
/// is gathered into one `[mysqld]` block, the last step.
#[derive(Debug, Default)]
pub(super) struct Fix {
    steps: Vec<FixStep>,
    settings: Vec<String>,
}

impl Fix {
    /// Adds a step.
    pub(super) fn push(&mut self, step: FixStep) {
        self.steps.push(step);
    }

    /// Adds `SET GLOBAL setting` now, explained by `text`, and keeps the
    /// setting for the my.cnf block.
    pub(super) fn set_global(&mut self, text: impl Into<String>, setting: String) {
        self.steps
            .push(step(text).sql(format!("SET GLOBAL {setting};")));
        self.settings.push(setting);
    }

    /// The steps, ending with the my.cnf block when something was set.
    pub(super) fn finish(mut self) -> Vec<FixStep> {
        if !self.settings.is_empty() {
            let them = if self.settings.len() == 1 {
                "it"
            } else {
                "them"
            };
            let mut config = String::from("[mysqld]");
            for s in &self.settings {
                config.push('\n');
                config.push_str(s);
            }
            self.steps.push(FixStep {
                config: Some(config),
                ..step(format!(
                    "SET GLOBAL is lost at restart: keep {them} in my.cnf (or a file in its \
                     conf.d directory)"
                ))
            });
        }
        self.steps
    }
}

/// The advised max_connections and what the added connections cost: one
/// computation for every finding that advises raising the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MaxConnections {
    /// The current limit.
    pub from: u64,
    /// The advised limit.
    pub to: u64,
    /// Worst-case memory per connection, in bytes (0 when unknown).
    pub per_conn: u64,
}

impl MaxConnections {
    /// The limit for the most sessions the server has held (now or since it
    /// started).
    pub(super) fn for_snapshot(snap: &Snapshot) -> MaxConnections {
        let st = &snap.status;
        MaxConnections::advise(
            &snap.variables,
            st.max_used_connections.max(st.threads_connected),
        )
    }

    /// The limit for `needed` sessions: [`RAISE_MARGIN`] over it, rounded up
    /// to a multiple of 10, at least [`RAISE_MIN_STEP`] over the current limit.
    pub(super) fn advise(v: &Variables, needed: u64) -> MaxConnections {
        let from = v.max_connections;
        let to = ceil_to(needed as f64 * (1.0 + RAISE_MARGIN), 10)
            .max(from.saturating_add(RAISE_MIN_STEP))
            .min(MAX_CONNECTIONS_LIMIT.max(from));
        let per_conn = [
            v.sort_buffer_size,
            v.join_buffer_size,
            v.read_buffer_size,
            v.read_rnd_buffer_size,
            v.thread_stack,
            v.net_buffer_length,
            v.binlog_cache_size,
        ]
        .iter()
        .fold(0u64, |sum, b| sum.saturating_add(*b));
        MaxConnections { from, to, per_conn }
    }

    /// Connections the raise adds.
    pub(super) fn added(&self) -> u64 {
        self.to.saturating_sub(self.from)
    }

    /// Sets the limit (explained by `text`).
    pub(super) fn set(&self, fix: &mut Fix, text: impl Into<String>) {
        fix.set_global(text, format!("max_connections = {}", self.to));
    }

    /// What to check before raising: memory and open files.
    pub(super) fn costs(&self) -> Vec<FixStep> {
        let added = self.added();
        let memory = if self.per_conn == 0 {
            format!(
                "Per-connection buffer sizes are unknown: budget memory for {added} more \
                 connections before raising the limit"
            )
        } else {
            format!(
                "Memory, worst case per added connection: {} (sort, join, read, read_rnd \
                 buffers, thread stack, net buffer, binlog cache) x {added} added = {}; check \
                 it fits next to the buffer pool",
                mib(self.per_conn),
                mib(self.per_conn.saturating_mul(added))
            )
        };
        vec![
            step(memory),
            step(
                "Check open_files_limit (and the service's LimitNOFILE) covers the new limit, \
                 or the server lowers max_connections at startup",
            ),
        ]
    }
}

/// The advised wait_timeout and interactive_timeout: one computation for
/// the leak and the timeouts findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WaitTimeout {
    /// wait_timeout to set, in seconds: [`WAIT_ADVISED_S`], or more when
    /// pools idle longer.
    pub secs: u64,
    /// interactive_timeout to set, in seconds.
    pub interactive_secs: u64,
    /// The longest idle time of a pooled session, in ms (0 when none seen).
    pub pools_idle_ms: u64,
}

impl WaitTimeout {
    /// The advice for `snap`: pooled sessions are idle client sessions outside
    /// a transaction, not leaked, whose account holds more than one session
    /// from their host (a lone session may be someone's shell).
    pub(super) fn advise(snap: &Snapshot, t: &Thresholds, leaks: &[Leak]) -> WaitTimeout {
        let idle_ms = millis(t.idle_over);
        let leaked = |user: &str| leaks.iter().any(|l| l.user == user);
        let mut per_pair: HashMap<(&str, &str), (usize, u64)> = HashMap::new();
        for s in snap.sessions.iter().filter(|s| s.holds_slot()) {
            let pooled_idle = s.is_sleeping()
                && s.trx_age_ms.is_none()
                && !(leaked(&s.user) && leak::is_stale(s, idle_ms));
            let entry = per_pair.entry((&s.user, s.client_host())).or_default();
            entry.0 += 1;
            if pooled_idle {
                entry.1 = entry.1.max(s.time_ms);
            }
        }
        let pools_idle_ms = per_pair
            .values()
            .filter(|(n, _)| *n > 1)
            .map(|(_, idle)| *idle)
            .max()
            .unwrap_or(0);
        let needed = ceil_to(pools_idle_ms as f64 / 1000.0 * (1.0 + WAIT_MARGIN), 60);
        let secs = WAIT_ADVISED_S.max(needed);
        WaitTimeout {
            secs,
            interactive_secs: INTERACTIVE_ADVISED_S.max(secs),
            pools_idle_ms,
        }
    }

    /// Sets wait_timeout (explained by `text`) and says what it does to pools.
    pub(super) fn set(&self, fix: &mut Fix, text: &str) {
        let w = self.secs;
        let seen = if self.pools_idle_ms > 0 {
            format!(
                "; the pools here idle up to {}",
                short_ms(self.pools_idle_ms)
            )
        } else {
            String::new()
        };
        fix.set_global(
            format!("{text} after {w}s (applies to new sessions{seen})"),
            format!("wait_timeout = {w}"),
        );
        fix.push(step(format!(
            "What it does to pools: one that does not validate a connection before use gets \
             'server has gone away' (2006/2013) from a connection the server closed after {w}s \
             idle; set the pool's idle timeout or max lifetime under {w}s"
        )));
    }
}

/// A server-wide statement time limit, in the flavor's own variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StatementTimeout {
    pub flavor: Flavor,
    /// The limit in whole seconds.
    pub secs: u64,
}

impl StatementTimeout {
    /// The limit derived from the long-running threshold.
    pub(super) fn for_threshold(flavor: Flavor, t: &Thresholds) -> StatementTimeout {
        StatementTimeout {
            flavor,
            secs: millis(t.query_over).div_ceil(1000).max(1),
        }
    }

    /// The variable that holds it on this flavor.
    pub(super) fn variable(&self) -> &'static str {
        match self.flavor {
            Flavor::MariaDb => "max_statement_time",
            Flavor::MySql => "max_execution_time",
        }
    }

    /// `variable = value` in the variable's unit (seconds on MariaDB,
    /// milliseconds on MySQL).
    fn setting(&self) -> String {
        match self.flavor {
            Flavor::MariaDb => format!("{} = {}", self.variable(), self.secs),
            Flavor::MySql => format!("{} = {}", self.variable(), self.secs.saturating_mul(1000)),
        }
    }

    /// Sets it now.
    pub(super) fn set(&self, fix: &mut Fix) {
        let secs = self.secs;
        let text = match self.flavor {
            Flavor::MariaDb => format!(
                "Cap statement time at {secs}s server-wide (MariaDB max_statement_time, in \
                 seconds; new sessions; keep it above your longest legitimate statement)"
            ),
            Flavor::MySql => format!(
                "Cap SELECT time at {secs}s server-wide (MySQL max_execution_time, in \
                 milliseconds; read-only SELECTs only, writes and DDL are not limited)"
            ),
        };
        fix.set_global(text, self.setting());
    }
}
