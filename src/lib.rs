//! conntop: see and fix MySQL/MariaDB connection exhaustion from a terminal.
//!
//! Data flows one way:
//!
//! ```text
//! server -> source (all SQL) -> poller (thread, one connection)
//!        =link=> tui loop -> app::update (pure state) -> ui::render (read-only)
//! ```
//!
//! The app consumes a [`link::Link`] (feeds, replies, commands); the live
//! poller is one source behind it. Commands (kills, a whole statement) flow
//! back on their own channel. Keys live in `app::bindings` (one table per
//! mode), diagnosis rules in `findings/` (one file each), who may be killed
//! in `kill::policy`, and server text is made safe to draw in `text`.

pub mod action;
pub mod alert;
pub mod app;
pub mod audit;
pub mod check;
pub mod cli;
pub mod command;
pub mod config;
pub mod filter;
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
