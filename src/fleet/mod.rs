//! Many servers on one screen: which targets (`targets`), one poller per
//! server multiplexed onto one channel (`source`), the fleet's state
//! (`state`, one `App` per server kept up to date in the background, and the
//! rows ranked by how close each server is to running out of slots), the
//! terminal loop (`run`), and the non-interactive paths (`once`, `kill`).

pub mod kill;
pub mod once;
pub mod rows;
pub mod run;
pub mod source;
pub mod state;
pub mod targets;

pub use source::{FleetMsg, FleetSource, Msg};
pub use state::{Fleet, FleetEffect, FleetEvent, Member, update};
pub use targets::{Target, TargetSpec};
