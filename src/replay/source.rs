//! The replay's data source: a thread that owns a [`Player`], moves its
//! cursor on the app's [`ReplayCommand`]s (or by itself while playing) and
//! answers each move with a [`ReplayFrame`]. Kills are refused: a replay is
//! read-only.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use crate::command::{Command, KillTally, Reply};
use crate::link::{Link, SourceEnd};
use crate::record::clock::show;
use crate::record::model::from_ms;
use crate::thresholds::Thresholds;

use super::timeline::{self, Found};
use super::{Player, ReplayCommand, ReplayFrame, when};

/// Play speeds, multiples of recorded time.
pub const SPEEDS: [u32; 5] = [1, 10, 60, 600, 3600];

/// How often a playing replay moves.
const PLAY_STEP: Duration = Duration::from_millis(100);

/// How often a paused replay at the end looks for newly recorded data.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Longest search for the next event.
const EVENT_BUDGET: Duration = Duration::from_secs(3);

/// One minute, the `[`/`]` jump.
pub const MINUTE_MS: i64 = 60_000;

/// The app's link to a replay, and its thread.
#[derive(Debug)]
pub struct ReplayHandle {
    pub link: Link,
    thread: Option<JoinHandle<()>>,
}

impl ReplayHandle {
    /// Stops the thread (it ends when the commands channel closes).
    pub fn stop(mut self) {
        let (dead, _) = crossbeam_channel::bounded(0);
        self.link.commands = dead;
        // The thread may be in a long search: never wait for it.
        drop(self.thread.take());
    }
}

/// Starts a replay at `start_ms` (the first frame when `None`).
pub fn spawn(mut player: Player, thresholds: Thresholds, start_ms: Option<i64>) -> ReplayHandle {
    let (link, end) = Link::pair();
    let thread = std::thread::Builder::new()
        .name("conntop-replay".to_string())
        .spawn(move || {
            let baseline = {
                let _ = player.seek(player.span().0);
                player.history().samples().back().cloned()
            };
            let mut r = Replay {
                player,
                end,
                thresholds,
                baseline,
                speed: None,
                played_from: None,
            };
            let start = start_ms.unwrap_or(r.player.span().0);
            let message = r.player.seek(start).err().map(|e| e.to_string());
            r.send(true, message);
            r.run();
        })
        .ok();
    ReplayHandle { link, thread }
}

struct Replay {
    player: Player,
    end: SourceEnd,
    thresholds: Thresholds,
    baseline: Option<crate::history::Sample>,
    speed: Option<u32>,
    /// While playing: the wall instant and recorded moment play started from.
    played_from: Option<(Instant, i64)>,
}

impl Replay {
    fn run(&mut self) {
        loop {
            let wait = if self.speed.is_some() {
                PLAY_STEP
            } else {
                FOLLOW_EVERY
            };
            match self.end.commands.recv_timeout(wait) {
                Ok(Command::Replay(cmd)) => self.on_command(cmd),
                Ok(Command::Kill {
                    request,
                    mode,
                    targets,
                    ..
                }) => {
                    let _ = self.end.replies.send(Reply::KillDone {
                        request,
                        mode,
                        tally: KillTally {
                            failed: targets.len(),
                            ..KillTally::default()
                        },
                        first_error: Some("a replay is read-only: nothing is killed".to_string()),
                    });
                }
                Ok(Command::Statement { id }) => {
                    // Only what the processlist listed was recorded.
                    let text = self.player.snapshot().map_or(Ok(None), |s| {
                        Ok(s.sessions
                            .iter()
                            .find(|x| x.id == id)
                            .and_then(|x| x.info.clone()))
                    });
                    let _ = self.end.replies.send(Reply::Statement { id, text });
                }
                Ok(Command::SetInterval(_)) => {}
                Err(RecvTimeoutError::Timeout) => self.on_timer(),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Sends where the cursor is; `full` sends the history with it.
    fn send(&mut self, full: bool, message: Option<String>) {
        let (first, last) = self.player.span();
        let m = self.player.moment();
        let frame = ReplayFrame {
            at: m.at,
            snapshot: m.snapshot,
            down: m.down,
            history: full.then(|| self.player.history().clone()),
            baseline: self.baseline.clone(),
            first: from_ms(first),
            last: from_ms(last),
            speed: self.speed,
            message,
        };
        if self
            .end
            .replies
            .send(Reply::Replay(Box::new(frame)))
            .is_err()
        {
            self.speed = None;
        }
    }

    fn seek(&mut self, t_ms: i64) -> Option<String> {
        self.played_from = self.speed.map(|_| (Instant::now(), t_ms));
        self.player.seek(t_ms).err().map(|e| e.to_string())
    }

    fn on_command(&mut self, cmd: ReplayCommand) {
        let _ = self.player.refresh();
        let at = self.player.at_ms();
        let (first, last) = self.player.span();
        let message = match cmd {
            ReplayCommand::Step(n) if n > 0 => match self.player.forward() {
                Ok(true) => {
                    self.send(false, None);
                    return;
                }
                Ok(false) => Some(format!(
                    "the end of the recording ({})",
                    show(from_ms(last))
                )),
                Err(e) => Some(e.to_string()),
            },
            ReplayCommand::Step(_) => match self.player.back() {
                Ok(true) => None,
                Ok(false) => Some("the start of the recording".to_string()),
                Err(e) => Some(e.to_string()),
            },
            ReplayCommand::Skip(ms) => {
                let to = at.saturating_add(ms).clamp(first, last);
                self.seek(to)
            }
            ReplayCommand::GoTo(text) => match when::parse(&text, first, last) {
                Ok(t) if t < first || t > last => Some(format!(
                    "{} is outside the recording ({} to {})",
                    show(from_ms(t)),
                    show(from_ms(first)),
                    show(from_ms(last))
                )),
                Ok(t) => self.seek(t),
                Err(e) => Some(e),
            },
            ReplayCommand::NextEvent => {
                self.speed = None;
                match timeline::next_event(&mut self.player, self.thresholds, EVENT_BUDGET) {
                    Ok(Found::Event(e)) => Some(e.text),
                    Ok(Found::Nothing { searched_to_ms }) => Some(format!(
                        "no event after this up to {}",
                        show(from_ms(searched_to_ms))
                    )),
                    Err(e) => Some(e.to_string()),
                }
            }
            ReplayCommand::PreviousEvent => {
                self.speed = None;
                match timeline::previous_event(&mut self.player, self.thresholds) {
                    Ok(Found::Event(e)) => Some(e.text),
                    Ok(Found::Nothing { .. }) => Some("no event before this".to_string()),
                    Err(e) => Some(e.to_string()),
                }
            }
            ReplayCommand::PlayPause => {
                self.speed = match self.speed {
                    Some(_) => None,
                    None => Some(SPEEDS[0]),
                };
                self.played_from = self.speed.map(|_| (Instant::now(), at));
                None
            }
            ReplayCommand::Faster | ReplayCommand::Slower => {
                let i = SPEEDS
                    .iter()
                    .position(|&s| Some(s) == self.speed)
                    .unwrap_or(0);
                let i = if cmd == ReplayCommand::Faster {
                    (i + 1).min(SPEEDS.len() - 1)
                } else {
                    i.saturating_sub(1)
                };
                self.speed = Some(SPEEDS[i]);
                self.played_from = Some((Instant::now(), at));
                None
            }
        };
        self.send(true, message);
    }

    /// Plays on, or follows a recording that is still being written.
    fn on_timer(&mut self) {
        let _ = self.player.refresh();
        let Some(speed) = self.speed else {
            return;
        };
        let (since, from_ms) = self
            .played_from
            .unwrap_or_else(|| (Instant::now(), self.player.at_ms()));
        let gone = i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX);
        let target = from_ms.saturating_add(gone.saturating_mul(i64::from(speed)));
        let mut moved = 0;
        while let Ok(Some(next)) = self.player.next_ms() {
            if next > target {
                break;
            }
            match self.player.forward() {
                Ok(true) => moved += 1,
                _ => break,
            }
        }
        match moved {
            0 => {}
            1 => self.send(false, None),
            _ => self.send(true, None),
        }
    }
}
