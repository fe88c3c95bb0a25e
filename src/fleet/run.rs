//! The fleet's terminal loop: the terminal set up as for one server
//! (`tui::with_terminal`), keys, the multiplexed feeds and clock ticks fed
//! to `state::update`, commands sent to the poller of the server they name.
//!
//! A hundred servers send a hundred feeds a second; the screen is drawn at
//! once after a key (or a feed of the open server), otherwise at most every
//! [`FEED_REDRAW`].

use std::io;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, select};
use crossterm::event::{Event as TermEvent, KeyEventKind};
use signal_hook::consts::{SIGHUP, SIGTSTP};

use crate::app::Options;
use crate::audit::AuditLog;
use crate::cli::Cli;
use crate::modes::{self, Failure};
use crate::poller::PollerConfig;
use crate::thresholds::Thresholds;
use crate::tui::{self, Input};
use crate::ui;

use super::source::FleetSource;
use super::state::{self, Fleet, FleetEffect, FleetEvent};
use super::targets::Target;

/// Shortest time between two draws that only feeds asked for.
pub const FEED_REDRAW: Duration = Duration::from_millis(250);

/// The clock ticks (staleness, messages) at least this often.
const TICK_EVERY: Duration = Duration::from_secs(1);

/// The fleet dashboard: one poller per server (each connects on its own
/// thread, so the screen appears at once whatever the servers do).
pub fn dashboard(cli: &Cli, targets: Vec<Target>) -> Result<(), Failure> {
    if !cli.alerts.on_alert.is_empty() {
        return Err(Failure(
            "--on-alert watches one server: run one conntop per server, or conntop check per server"
                .to_string(),
        ));
    }
    let safety = modes::safety(cli);
    // One audit log, opened (and its warnings shown) once; the first
    // poller takes it, each of the others appends through a handle of its own.
    let mut first = if safety.read_only {
        None
    } else {
        Some(modes::audit_log(cli)?)
    };
    let path = first.as_ref().map(|log| log.path().to_path_buf());
    let mut configs = Vec::with_capacity(targets.len());
    for t in &targets {
        let audit = match (first.take(), &path) {
            (Some(log), _) => Some(log),
            (None, Some(path)) => Some(AuditLog::open(path).map_err(|e| {
                Failure(format!("cannot open the audit log {}: {e}", path.display()))
            })?),
            (None, None) => None,
        };
        configs.push(PollerConfig {
            interval: cli.dashboard.interval,
            attempts: modes::attempts(&t.opts),
            endpoint: t.opts.endpoint(),
            kill_method: cli.safety.kill_method.into(),
            safety: safety.clone(),
            audit,
        });
    }
    let defaults = Thresholds::default();
    let mut fleet = Fleet::new(
        targets.into_iter().map(|t| t.name).collect(),
        &Options {
            thresholds: modes::thresholds(cli, defaults.idle_over, defaults.query_over),
            safety,
            interval: cli.dashboard.interval,
            color: modes::colors(cli),
        },
    );
    // `--filter`: every server's table starts with it.
    if let Some(filter) = &cli.dashboard.filter {
        for m in &mut fleet.members {
            m.app.table.filter = filter.as_str().to_string();
        }
    }
    let source = FleetSource::spawn(configs);
    let result = run(fleet, &source);
    source.stop();
    result.map_err(Failure::from)
}

/// Runs the fleet until the user quits or a signal arrives.
pub fn run(mut fleet: Fleet, source: &FleetSource) -> io::Result<()> {
    tui::with_terminal(|terminal, input, signals| {
        event_loop(&mut fleet, source, terminal, input, signals)
    })
}

fn event_loop(
    fleet: &mut Fleet,
    source: &FleetSource,
    terminal: &mut ratatui::DefaultTerminal,
    input: &Receiver<Input>,
    signals: &Receiver<i32>,
) -> io::Result<()> {
    let size = terminal.size()?;
    state::update(fleet, FleetEvent::Resize(size.width, size.height));
    let mut next_tick = Instant::now();
    let mut last_draw: Option<Instant> = None;
    // Draw without waiting for FEED_REDRAW (after a key).
    let mut urgent = true;
    loop {
        let now = Instant::now();
        if now >= next_tick {
            state::update(fleet, FleetEvent::Tick(SystemTime::now()));
            next_tick = now + TICK_EVERY;
        }
        let redraw_at = last_draw.map_or(now, |at| at + FEED_REDRAW);
        if fleet.is_dirty() && (urgent || now >= redraw_at) {
            fleet.settle();
            fleet.take_dirty();
            terminal.draw(|f| ui::fleet::render(fleet, f))?;
            last_draw = Some(Instant::now());
            urgent = false;
        }
        let wake = if fleet.is_dirty() {
            next_tick.min(redraw_at)
        } else {
            next_tick
        };
        let timeout = wake.saturating_duration_since(Instant::now());
        let event = select! {
            recv(signals) -> sig => match sig {
                Ok(SIGTSTP) => {
                    tui::suspend(terminal)?;
                    urgent = true;
                    let size = terminal.size()?;
                    state::update(fleet, FleetEvent::Resize(size.width, size.height));
                    continue;
                }
                Ok(sig) => {
                    tui::ended_by(sig);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            },
            recv(input) -> msg => {
                urgent = true;
                match msg {
                    Ok(Input::Event(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => FleetEvent::Key(k),
                    Ok(Input::Event(TermEvent::Resize(w, h))) => FleetEvent::Resize(w, h),
                    Ok(Input::Event(_)) => continue,
                    // The terminal hung up: the same end as SIGHUP.
                    Ok(Input::Gone) => {
                        tui::ended_by(SIGHUP);
                        return Ok(());
                    }
                    Err(_) => return Err(io::Error::other("the terminal input stopped")),
                }
            },
            recv(source.messages) -> msg => match msg {
                Ok(m) => {
                    urgent |= fleet.open == Some(m.server);
                    FleetEvent::Msg(m)
                }
                Err(_) => return Err(io::Error::other("the data sources stopped")),
            },
            default(timeout) => continue,
        };
        for effect in state::update(fleet, event) {
            match effect {
                FleetEffect::Quit => return Ok(()),
                FleetEffect::Suspend => {
                    tui::suspend(terminal)?;
                    urgent = true;
                    fleet.touch();
                }
                FleetEffect::Send(server, cmd) => {
                    // Pollers end only when the fleet stops them.
                    if !source.send(server, cmd) {
                        return Err(io::Error::other("a data source stopped"));
                    }
                }
            }
        }
    }
}
