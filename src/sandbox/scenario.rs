//! What a [`Load`](super::Load) runs: the scenarios, their tuning and counters.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A kind of trouble [`Load`](super::Load) makes on a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// `app` opens connections steadily and never closes them (idle `Sleep`).
    Leak,
    /// `SELECT SLEEP(...)` for minutes, an idle open transaction and an
    /// `UPDATE` waiting on its row lock.
    Long,
    /// Four "app servers" (distinct client addresses) holding steady pools.
    Pool,
    /// Bursts of short-lived connections and some bad passwords.
    Spike,
    /// A lock pile-up: an idle transaction holds a metadata lock, an ALTER
    /// queues for it, SELECTs queue behind the ALTER (see `lock_scenario`).
    Lock,
    /// Leak, long, pool and spike, sized to fill ~90% of `max_connections`
    /// and overflow it (error 1040) during spikes. Not the lock pile-up: its
    /// critical finding would push the others off the findings strip.
    All,
}

impl Scenario {
    /// The names [`FromStr`] accepts, in order.
    pub const NAMES: [&'static str; 6] = ["leak", "long", "pool", "spike", "lock", "all"];

    /// The name [`FromStr`] accepts for this scenario.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Leak => "leak",
            Scenario::Long => "long",
            Scenario::Pool => "pool",
            Scenario::Spike => "spike",
            Scenario::Lock => "lock",
            Scenario::All => "all",
        }
    }

    /// True when this scenario runs the `part` scenario.
    pub(super) fn runs(self, part: Scenario) -> bool {
        self == part || (self == Scenario::All && part != Scenario::Lock)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown scenario name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseScenarioError(
    /// The name that was given.
    pub String,
);

impl fmt::Display for ParseScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scenario '{}': expected one of {}",
            self.0,
            Scenario::NAMES.join(", ")
        )
    }
}

impl std::error::Error for ParseScenarioError {}

impl FromStr for Scenario {
    type Err = ParseScenarioError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "leak" => Ok(Scenario::Leak),
            "long" => Ok(Scenario::Long),
            "pool" => Ok(Scenario::Pool),
            "spike" => Ok(Scenario::Spike),
            "lock" => Ok(Scenario::Lock),
            "all" => Ok(Scenario::All),
            _ => Err(ParseScenarioError(s.to_string())),
        }
    }
}

/// Tuning for [`Load::start_with`](super::Load::start_with); the defaults suit the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The server's `max_connections`; `None` asks the server (100 if it can't).
    pub max_connections: Option<u32>,
    /// Leaked connections opened per second.
    pub leak_per_second: u32,
    /// Delay before the first spike: long enough for a baseline to form
    /// (the spike finding compares with the seconds before).
    pub first_spike_after: Duration,
    /// Pause between spikes.
    pub spike_every: Duration,
    /// Length of each `SELECT SLEEP(...)` in the long scenario.
    pub long_query: Duration,
    /// The load ends by itself after this long.
    pub max_run: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_connections: None,
            leak_per_second: 2,
            first_spike_after: Duration::from_secs(20),
            spike_every: Duration::from_secs(30),
            long_query: Duration::from_secs(600),
            max_run: Duration::from_secs(12 * 3600),
        }
    }
}

/// Counters of a running [`Load`](super::Load).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Connections opened so far.
    pub opened: u64,
    /// Connections the load holds right now.
    pub held: u64,
    /// Connects refused with error 1040 (too many connections).
    pub refused: u64,
    /// Connects that failed for other reasons (server down, ...).
    pub failed: u64,
    /// Deliberate logins with a wrong password.
    pub bad_logins: u64,
}
