//! The terminal loop: sets up the terminal, feeds input, snapshots, replies
//! and clock ticks to `app::update`, draws with `ui::render`, and restores the
//! terminal on quit, error, panic, SIGTERM and SIGHUP (exiting 128 + the
//! signal's number), and leaves the screen while suspended (SIGTSTP).
//!
//! Input is read on its own thread and the loop waits on all sources at once,
//! so a terminal that vanished (SSH drop: the reader may spin or block) can
//! never keep the loop from seeing the signal and shutting down cleanly.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Once};
use std::thread;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, select};
use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP};
use signal_hook::iterator::Signals;

use crate::app::{self, App, Effect, Event};
use crate::link::Link;
use crate::ui;

/// Redraw at least this often even when nothing arrives (clocks, staleness).
const REDRAW_EVERY: Duration = Duration::from_secs(1);

/// What the input thread reports.
enum Input {
    Event(TermEvent),
    /// The terminal failed or closed; the dashboard ends.
    Gone,
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
                    Err(_) => Input::Gone,
                };
                let gone = matches!(msg, Input::Gone);
                if tx.send(msg).is_err() || gone {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// Signals that end the dashboard cleanly.
const ENDING: [i32; 4] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT];

/// The signal that ended the dashboard, 0 when none did.
static ENDED_BY: AtomicI32 = AtomicI32::new(0);

/// The exit status the process should end with when a signal ended the
/// dashboard: 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP).
pub fn signal_exit_status() -> Option<u8> {
    match ENDED_BY.load(Ordering::Relaxed) {
        0 => None,
        sig => u8::try_from(128 + sig).ok(),
    }
}

/// Signals as a channel: the ending ones and SIGTSTP (suspend). The first
/// ending signal arms an immediate exit, so a second one always ends the
/// process, whatever is still shutting down.
fn spawn_signals() -> io::Result<Receiver<i32>> {
    let armed = Arc::new(AtomicBool::new(false));
    for sig in ENDING {
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&armed))?;
    }
    let mut signals = Signals::new(ENDING.iter().copied().chain([SIGTSTP]))?;
    let (tx, rx) = crossbeam_channel::bounded(4);
    thread::Builder::new()
        .name("conntop-signals".to_string())
        .spawn(move || {
            for sig in signals.forever() {
                if ENDING.contains(&sig) {
                    armed.store(true, Ordering::SeqCst);
                }
                if tx.send(sig).is_err() {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// A panic on any thread restores the terminal, prints once, and ends the
/// process: a dashboard whose poller or input thread died would only show
/// stale data. Nothing here may panic again (a hung-up terminal fails every
/// write: ratatui's own restore would print that failure and abort).
fn exit_on_panic() {
    static ONCE: Once = Once::new();
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        ONCE.call_once(|| {
            restore();
            print(info);
            std::process::exit(101);
        });
    }));
}

/// True when a terminal write failed because the terminal is gone.
fn hung_up(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EIO) {
        return true;
    }
    matches!(e.kind(), io::ErrorKind::BrokenPipe)
}

/// Takes the terminal: raw mode, the alternate screen, a hidden cursor.
fn init() -> io::Result<ratatui::DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    ratatui::Terminal::new(ratatui::prelude::CrosstermBackend::new(io::stdout()))
}

/// Gives the terminal back, quietly: after a hang-up every write fails and
/// there is nobody to tell.
fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Leaves the screen to the shell while the process is stopped (SIGTSTP or
/// Ctrl-Z), and takes it back, redrawn in full, when it continues.
fn suspend(terminal: &mut ratatui::DefaultTerminal) -> io::Result<()> {
    restore();
    // Stops the process here; returns on SIGCONT.
    signal_hook::low_level::emulate_default_handler(SIGTSTP)?;
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    // Forget what ratatui thinks is on screen so the next draw is complete:
    // diff a blank buffer against it (writes blanks onto the cleared
    // screen) and keep the blank one as "previous". `Terminal::clear` would
    // ask the terminal for the cursor, and the input thread would eat the
    // answer.
    terminal.current_buffer_mut().reset();
    terminal.flush()?;
    terminal.swap_buffers();
    Ok(())
}

/// Runs the dashboard until the user quits or a signal arrives.
pub fn run(mut app: App, source: &Link) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal (for scripts use --once --format json)",
        ));
    }
    let signals = spawn_signals()?;
    exit_on_panic();
    let mut terminal = match init() {
        Ok(t) => t,
        Err(e) => {
            // It may have failed after raw mode was switched on.
            restore();
            return Err(e);
        }
    };
    let result = spawn_input()
        .and_then(|input| event_loop(&mut app, source, &mut terminal, &input, &signals));
    restore();
    // `restore` showed the cursor already. Dropping the terminal would try
    // again and, on a terminal that hung up, print the failure to a stderr
    // that is gone too, which panics. The process ends right after.
    std::mem::forget(terminal);
    match result {
        // Drawing on a terminal that hung up: the same end as SIGHUP.
        Err(e) if hung_up(&e) => {
            ENDED_BY.store(SIGHUP, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

fn event_loop(
    app: &mut App,
    source: &Link,
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
            recv(signals) -> sig => match sig {
                Ok(SIGTSTP) => {
                    suspend(terminal)?;
                    continue;
                }
                Ok(sig) => {
                    ENDED_BY.store(sig, Ordering::Relaxed);
                    return Ok(());
                }
                Err(_) => return Ok(()),
            },
            recv(input) -> msg => match msg {
                Ok(Input::Event(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(Input::Event(TermEvent::Resize(w, h))) => Event::Resize(w, h),
                Ok(Input::Event(_)) => continue,
                // The terminal hung up (SSH dropped, window closed): the
                // same end as SIGHUP, whether or not the signal came.
                Ok(Input::Gone) => {
                    ENDED_BY.store(SIGHUP, Ordering::Relaxed);
                    return Ok(());
                }
                Err(_) => return Err(io::Error::other("the terminal input stopped")),
            },
            recv(source.feed) -> feed => match feed {
                Ok(feed) => Event::Feed(feed),
                Err(_) => return Err(io::Error::other("the data source stopped")),
            },
            recv(source.replies) -> reply => match reply {
                Ok(reply) => Event::Reply(reply),
                Err(_) => return Err(io::Error::other("the data source stopped")),
            },
            default(REDRAW_EVERY) => continue,
        };
        for effect in app::update(app, event) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Suspend => suspend(terminal)?,
                Effect::Send(cmd) => {
                    if source.commands.send(cmd).is_err() {
                        return Err(io::Error::other("the data source stopped"));
                    }
                }
            }
        }
    }
}
