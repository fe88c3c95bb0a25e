//! A throwaway MariaDB/MySQL server and scenario load, for the demo, tests and benches.
//!
//! [`Sandbox::start`] initialises a fresh data directory, runs `mariadbd` (or
//! `mysqld`) as a child process on a loopback port and creates the accounts
//! listed below ([`ROOT`], [`MONITOR`], [`APP`], [`REPORTS`], [`BATCH`],
//! [`NOPRIVS`]) and the `appdb` database. [`Load`] then drives a [`Scenario`]
//! against it: leaked idle connections, long statements and an open
//! transaction, steady pools from distinct client hosts, bursts of short
//! connections. [`serve`] keeps one sandbox up for another process (the CI
//! script) until its stdin closes.
//!
//! A fresh datadir is a copy of a template installed once per server binary
//! (`<tmp>/conntop-sandbox-template-<key>`), so a start costs the server's
//! own boot plus account setup. Each server has a small `sh` watcher that
//! stops it and removes its temp datadir if the owning process dies without
//! dropping the [`Sandbox`] (a test killed by a signal).
//!
//! Everything stays on loopback addresses; every wait is bounded by a count
//! or a deadline, and the server is only ever signalled through its own PID.

mod binaries;
mod datadir;
mod error;
mod load;
mod lock_scenario;
mod scenario;
mod server;
mod serving;
mod workers;

pub use error::SandboxError;
pub use load::Load;
pub use lock_scenario::LOCK_TABLE;
pub use scenario::{LoadOptions, LoadStats, ParseScenarioError, Scenario};
pub use server::{Sandbox, SandboxOptions};
pub use serving::{serve, serve_until};

/// A login created on every sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Account {
    /// User name (the host part is `%`, or `localhost`/`127.0.0.1` for root).
    pub user: &'static str,
    /// Password; empty for root.
    pub password: &'static str,
}

/// `root`, no password, at `localhost` and `127.0.0.1`, all privileges.
pub const ROOT: Account = Account {
    user: "root",
    password: "",
};
/// `conntop`: the monitor and killer (`PROCESS`, `CONNECTION ADMIN` or `SUPER`).
pub const MONITOR: Account = Account {
    user: "conntop",
    password: "conntop",
};
/// `app`: a normal application, all privileges on `appdb.*` only.
pub const APP: Account = Account {
    user: "app",
    password: "app",
};
/// `reports`: another application account, all privileges on `appdb.*`.
pub const REPORTS: Account = Account {
    user: "reports",
    password: "reports",
};
/// `batch`: another application account, all privileges on `appdb.*`.
pub const BATCH: Account = Account {
    user: "batch",
    password: "batch",
};
/// `noprivs`: `USAGE` only, for privilege-error tests.
pub const NOPRIVS: Account = Account {
    user: "noprivs",
    password: "noprivs",
};
/// Every account a sandbox creates.
pub const ACCOUNTS: [Account; 6] = [ROOT, MONITOR, APP, REPORTS, BATCH, NOPRIVS];
/// The application database the app accounts own.
pub const APP_DATABASE: &str = "appdb";
/// A small table in [`APP_DATABASE`] (`id`, `n`, `note`; rows 1..=8).
pub const APP_TABLE: &str = "appdb.t";
/// `max_connections` when the caller has no opinion.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 100;
