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
use signal_hook::consts::SIGTSTP;

use crate::tui::{self, Input};
use crate::ui;

use super::source::FleetSource;
use super::state::{self, Fleet, FleetEffect, FleetEvent};

/// Shortest time between two draws that only feeds asked for.
pub const FEED_REDRAW: Duration = Duration::from_millis(250);

/// The clock ticks (staleness, messages) at least this often.
const TICK_EVERY: Duration = Duration::from_secs(1);

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
                    Ok(Input::Gone(e)) => return Err(e),
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
