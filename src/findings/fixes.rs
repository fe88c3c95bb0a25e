//! Fix steps more than one rule gives, written once: the max_connections
//! advice, the statement timeout per flavor, keeping a setting in my.cnf.

use super::FixStep;
use super::units::{ceil10, mib};
use crate::action::Action;
use crate::snapshot::{Flavor, Variables, millis};
use crate::thresholds::Thresholds;

/// The highest `max_connections` the servers accept.
pub(super) const MAX_CONNECTIONS_LIMIT: u64 = 100_000;
/// A raised limit leaves this share of room over what is needed.
pub(super) const RAISE_MARGIN: f64 = 0.25;
/// A raised limit is at least this much over the current one.
pub(super) const RAISE_MIN_STEP: u64 = 10;

/// A step that only says what to do.
pub(super) fn step(text: impl Into<String>) -> FixStep {
    FixStep {
        text: text.into(),
        sql: None,
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

/// `SET GLOBAL` of a setting now, explained by `text`.
pub(super) fn set_global(text: impl Into<String>, setting: &str) -> FixStep {
    step(text).sql(format!("SET GLOBAL {setting};"))
}

/// Keeping a setting across restarts.
pub(super) fn keep_in_my_cnf(setting: impl Into<String>) -> FixStep {
    step("Keep it across restarts: my.cnf, under [mysqld]").sql(setting)
}

/// A raised max_connections and what the added connections cost.
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
    /// The limit for `needed` sessions: [`RAISE_MARGIN`] over it, rounded up
    /// to a multiple of 10, at least [`RAISE_MIN_STEP`] over the current limit.
    pub(super) fn advise(v: &Variables, needed: u64) -> MaxConnections {
        let from = v.max_connections;
        let to = ceil10(needed as f64 * (1.0 + RAISE_MARGIN))
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

    /// Setting the limit now (explained by `text`) and in my.cnf.
    pub(super) fn set(&self, text: impl Into<String>) -> Vec<FixStep> {
        vec![
            set_global(text, &format!("max_connections = {}", self.to)),
            keep_in_my_cnf(format!("max_connections = {}", self.to)),
        ]
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
    pub(super) fn setting(&self) -> String {
        match self.flavor {
            Flavor::MariaDb => format!("{} = {}", self.variable(), self.secs),
            Flavor::MySql => format!("{} = {}", self.variable(), self.secs.saturating_mul(1000)),
        }
    }

    /// The step that sets it now.
    pub(super) fn set(&self) -> FixStep {
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
        set_global(text, &self.setting())
    }
}
