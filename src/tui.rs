//! The terminal loop: sets up the terminal, feeds input, snapshots, replies
//! and clock ticks to `app::update`, draws with `ui::render`, and restores the
//! terminal on quit, error, panic, SIGTERM and SIGHUP.
//!
//! Input is read on its own thread and the loop waits on all sources at once,
//! so a terminal that vanished (SSH drop: the reader may spin or block) can
//! never keep the loop from seeing the signal and shutting down cleanly.

use std::io::{self, IsTerminal};
use std::thread;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, select};
use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::app::{self, App, Effect, Event};
use crate::poller::PollerHandle;
use crate::ui;

/// Redraw at least this often even when nothing arrives (clocks, staleness).
const REDRAW_EVERY: Duration = Duration::from_secs(1);

/// What the input thread reports.
enum Input {
    Event(TermEvent),
    /// The terminal failed or closed; the dashboard ends.
    Gone(io::Error),
}

/// Forwards terminal events until the receiver is dropped or reading fails.
fn spawn_input() -> io::Result<Receiver<Input>> {
    let (tx, rx) = crossbeam_channel::bounded(64);
    thread::Builder::new()
        .name("conntop-input".to_string())
        .spawn(move || {
            loop {
                let msg = match event::read() {
                    Ok(ev) => Input::Event(ev),
                    Err(e) => Input::Gone(e),
                };
                let gone = matches!(msg, Input::Gone(_));
                if tx.send(msg).is_err() || gone {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// Signals that end the dashboard cleanly, as a channel.
fn spawn_signals() -> io::Result<Receiver<i32>> {
    let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    let (tx, rx) = crossbeam_channel::bounded(4);
    thread::Builder::new()
        .name("conntop-signals".to_string())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = tx.send(sig);
            }
        })?;
    Ok(rx)
}

/// Runs the dashboard until the user quits or a signal arrives.
pub fn run(mut app: App, poller: &PollerHandle) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal (for scripts use --once --format json)",
        ));
    }
    let signals = spawn_signals()?;
    // try_init installs a panic hook that restores the terminal first.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // It may have failed after raw mode was switched on.
            ratatui::restore();
            return Err(e);
        }
    };
    let result = spawn_input()
        .and_then(|input| event_loop(&mut app, poller, &mut terminal, &input, &signals));
    ratatui::restore();
    result
}

fn event_loop(
    app: &mut App,
    poller: &PollerHandle,
    terminal: &mut ratatui::DefaultTerminal,
    input: &Receiver<Input>,
    signals: &Receiver<i32>,
) -> io::Result<()> {
    let size = terminal.size()?;
    app::update(app, Event::Resize(size.width, size.height));
    loop {
        app::update(app, Event::Tick(SystemTime::now()));
        terminal.draw(|f| ui::render(app, f))?;
        let event = select! {
            recv(signals) -> _ => return Ok(()),
            recv(input) -> msg => match msg {
                Ok(Input::Event(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(Input::Event(TermEvent::Resize(w, h))) => Event::Resize(w, h),
                Ok(Input::Event(_)) => continue,
                Ok(Input::Gone(e)) => return Err(e),
                Err(_) => return Err(io::Error::other("the terminal input stopped")),
            },
            recv(poller.feed) -> feed => match feed {
                Ok(feed) => Event::Feed(feed),
                Err(_) => return Err(io::Error::other("the poller thread stopped")),
            },
            recv(poller.replies) -> reply => match reply {
                Ok(reply) => Event::Reply(reply),
                Err(_) => return Err(io::Error::other("the poller thread stopped")),
            },
            default(REDRAW_EVERY) => continue,
        };
        for effect in app::update(app, event) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Send(cmd) => {
                    if poller.commands.send(cmd).is_err() {
                        return Err(io::Error::other("the poller thread stopped"));
                    }
                }
            }
        }
    }
}
