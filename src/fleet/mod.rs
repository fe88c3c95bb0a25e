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

use crate::cli::Cli;
use crate::config::{self, ConnectOptions};
use crate::modes::{self, Failure};

/// The servers the flags name.
#[derive(Debug)]
pub enum Servers {
    /// One server: the paths of one server, unchanged.
    One(ConnectOptions),
    /// Several (`-h a,b`, `--hosts`, `--url` twice).
    Many(Vec<Target>),
}

/// Resolves the servers the flags name (no connection is made); a bare
/// `-p` prompts once for all of them. A list of one is that one server.
pub fn servers(cli: &Cli) -> Result<Servers, Failure> {
    let read = |path: &std::path::Path| std::fs::read_to_string(path);
    let Some(specs) = targets::specs(&cli.connect, &read)? else {
        return Ok(Servers::One(modes::flag_options(cli)?));
    };
    let mut targets = targets::resolve(&cli.connect, &specs, &modes::env)?;
    if targets.iter().any(|t| t.opts.ask_password) {
        let password = config::prompt_password("Enter password: ")?;
        for t in targets.iter_mut().filter(|t| t.opts.ask_password) {
            t.opts.password = Some(config::Password::new(password.clone()));
            t.opts.ask_password = false;
        }
    }
    Ok(match targets.len() {
        1 => Servers::One(targets.remove(0).opts),
        _ => Servers::Many(targets),
    })
}
