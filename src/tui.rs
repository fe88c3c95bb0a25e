//! The terminal loop: sets up the terminal, feeds input, snapshots, replies
//! and clock ticks to `app::update`, draws with `ui::render`, and restores the
//! terminal on quit, error, panic, SIGTERM and SIGHUP.

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{self, Event as TermEvent, KeyEventKind};

use crate::app::{self, App, Effect, Event};
use crate::poller::PollerHandle;
use crate::ui;

/// How long to wait for input before looking at the channels again.
const INPUT_WAIT: Duration = Duration::from_millis(50);

/// Redraw at least this often even when nothing arrives (clocks, staleness).
const REDRAW_EVERY: Duration = Duration::from_secs(1);

/// Signals that end the dashboard cleanly.
fn watch_signals() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(flag)
}

/// Runs the dashboard until the user quits or a signal arrives.
pub fn run(mut app: App, poller: &PollerHandle) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal (for scripts use --once --format json)",
        ));
    }
    let stop = watch_signals()?;
    // try_init restores on panic through the hook ratatui installs.
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut app, poller, &mut terminal, &stop);
    ratatui::restore();
    result
}

fn event_loop(
    app: &mut App,
    poller: &PollerHandle,
    terminal: &mut ratatui::DefaultTerminal,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if dirty || last_draw.elapsed() >= REDRAW_EVERY {
            app::update(app, Event::Tick(SystemTime::now()));
            terminal.draw(|f| ui::render(app, f))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let mut events = Vec::new();
        if event::poll(INPUT_WAIT)? {
            match event::read()? {
                TermEvent::Key(k) if k.kind != KeyEventKind::Release => events.push(Event::Key(k)),
                TermEvent::Resize(w, h) => events.push(Event::Resize(w, h)),
                _ => {}
            }
        }
        events.extend(poller.feed.try_iter().map(Event::Feed));
        events.extend(poller.replies.try_iter().map(Event::Reply));
        for ev in events {
            dirty = true;
            for effect in app::update(app, ev) {
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
}
