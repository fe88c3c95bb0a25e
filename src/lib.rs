//! conntop: see and fix MySQL/MariaDB connection exhaustion from a terminal.
//!
//! Data flows one way: server -> `source` -> `poller` -> channel -> `app`
//! state -> `ui`. Commands (kills) flow back on their own channel.

pub mod action;
pub mod app;
pub mod audit;
pub mod cli;
pub mod command;
pub mod config;
pub mod findings;
pub mod groups;
pub mod history;
pub mod kill;
pub mod link;
pub mod modes;
pub mod poller;
pub mod record;
pub mod replay;
pub mod report;
pub mod sandbox;
pub mod snapshot;
pub mod source;
pub mod text;
pub mod thresholds;
pub mod tui;
pub mod ui;
