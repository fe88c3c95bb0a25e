//! The fleet's data source: one poller per server (`poller::spawn`, each
//! with its own connection, cadence, reconnect and backoff) and one thread
//! that multiplexes their feeds and replies onto one channel of
//! [`FleetMsg`] (server index + message). Commands go straight to the
//! poller of the server they are for.
//!
//! Every poller connects on its own thread, so a server that is down, full
//! or hung delays nobody, startup included. Each poller's feed is
//! latest-wins; the multiplexed channel is bounded, so a slow screen sees
//! the newest state of each server, never a backlog.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Select, Sender};

use crate::command::{Command, Feed, Reply};
use crate::poller::{self, PollerConfig, PollerHandle};

/// Messages the multiplexed channel holds before the thread waits.
const MUX_CAPACITY: usize = 64;

/// What one server's poller sent.
#[derive(Debug, Clone)]
pub enum Msg {
    Feed(Feed),
    Reply(Reply),
}

/// A message and the index of the server (in target order) it is from.
#[derive(Debug, Clone)]
pub struct FleetMsg {
    pub server: usize,
    pub msg: Msg,
}

/// The pollers of a fleet and the multiplexed channel.
#[derive(Debug)]
pub struct FleetSource {
    /// Feeds and replies of every server, tagged with its index.
    pub messages: Receiver<FleetMsg>,
    pollers: Vec<PollerHandle>,
    /// Dropping it ends the multiplexing thread.
    stop: Option<Sender<()>>,
    mux: Option<JoinHandle<()>>,
}

impl FleetSource {
    /// Starts one poller per config (none connects here: each connects on
    /// its own thread) and the multiplexing thread.
    pub fn spawn(configs: Vec<PollerConfig>) -> FleetSource {
        let pollers: Vec<PollerHandle> = configs
            .into_iter()
            .map(|c| poller::spawn(c, None, None))
            .collect();
        let feeds: Vec<Receiver<Feed>> = pollers.iter().map(|p| p.link.feed.clone()).collect();
        let replies: Vec<Receiver<Reply>> =
            pollers.iter().map(|p| p.link.replies.clone()).collect();
        let (tx, messages) = crossbeam_channel::bounded(MUX_CAPACITY);
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let mux = std::thread::Builder::new()
            .name("conntop-fleet".to_string())
            .spawn(move || multiplex(&feeds, &replies, &stopped, &tx))
            .ok();
        FleetSource {
            messages,
            pollers,
            stop: Some(stop),
            mux,
        }
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.pollers.len()
    }

    /// True when there are no servers.
    pub fn is_empty(&self) -> bool {
        self.pollers.is_empty()
    }

    /// Sends a command to the poller of `server` only; false when that
    /// poller has stopped (or there is no such server).
    pub fn send(&self, server: usize, command: Command) -> bool {
        self.pollers
            .get(server)
            .is_some_and(|p| p.link.commands.send(command).is_ok())
    }

    /// Stops every poller at once and waits for each at most the poller's
    /// own short limit, all in parallel: a hung server holds nobody.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop = None;
        let pollers = std::mem::take(&mut self.pollers);
        std::thread::scope(|s| {
            for p in pollers {
                s.spawn(move || p.stop());
            }
        });
        if let Some(mux) = self.mux.take() {
            // It ends on the stop channel at once.
            let _ = mux.join();
        }
    }
}

impl Drop for FleetSource {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Forwards every feed and reply, tagged with its server, until `stop` or
/// the receiver of `out` is gone. A poller that ended is left out of the
/// wait from then on.
fn multiplex(
    feeds: &[Receiver<Feed>],
    replies: &[Receiver<Reply>],
    stop: &Receiver<()>,
    out: &Sender<FleetMsg>,
) {
    let n = feeds.len();
    let mut open_feed = vec![true; n];
    let mut open_reply = vec![true; n];
    loop {
        let mut sel = Select::new();
        // Operation index -> (server, is a reply).
        let mut ops = Vec::with_capacity(2 * n);
        let stop_op = sel.recv(stop);
        for i in 0..n {
            if open_reply[i] {
                ops.push((sel.recv(&replies[i]), i, true));
            }
            if open_feed[i] {
                ops.push((sel.recv(&feeds[i]), i, false));
            }
        }
        let op = sel.select();
        let index = op.index();
        if index == stop_op {
            let _ = op.recv(stop);
            return;
        }
        let Some(&(_, server, is_reply)) = ops.iter().find(|(at, _, _)| *at == index) else {
            return;
        };
        let msg = if is_reply {
            match op.recv(&replies[server]) {
                Ok(r) => Msg::Reply(r),
                Err(_) => {
                    open_reply[server] = false;
                    continue;
                }
            }
        } else {
            match op.recv(&feeds[server]) {
                Ok(f) => Msg::Feed(f),
                Err(_) => {
                    open_feed[server] = false;
                    continue;
                }
            }
        };
        // Waits while the screen is busy; the pollers meanwhile keep only
        // their newest feed.
        crossbeam_channel::select! {
            send(out, FleetMsg { server, msg }) -> sent => if sent.is_err() { return },
            recv(stop) -> _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use super::*;
    use crate::command::Down;
    use crate::link::Link;

    fn down(attempts: u32) -> Feed {
        Feed::Down(Down {
            since: SystemTime::UNIX_EPOCH,
            last_error: String::new(),
            attempts,
        })
    }

    #[test]
    fn messages_are_tagged_with_their_server_and_stop_ends_the_thread() {
        let (a, a_end) = Link::pair();
        let (b, b_end) = Link::pair();
        let (tx, rx) = crossbeam_channel::bounded(4);
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let feeds = vec![a.feed.clone(), b.feed.clone()];
        let replies = vec![a.replies.clone(), b.replies.clone()];
        let mux = std::thread::spawn(move || multiplex(&feeds, &replies, &stopped, &tx));
        b_end.publish(down(7));
        let m = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(m.server, 1);
        assert!(matches!(
            m.msg,
            Msg::Feed(Feed::Down(Down { attempts: 7, .. }))
        ));
        a_end
            .replies
            .send(Reply::Statement {
                id: 3,
                text: Ok(None),
            })
            .unwrap();
        let m = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(m.server, 0);
        assert!(matches!(m.msg, Msg::Reply(Reply::Statement { id: 3, .. })));
        // A source that ends is dropped from the wait; the rest go on.
        drop(a_end);
        b_end.publish(down(8));
        let m = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(m.server, 1);
        let started = Instant::now();
        drop(stop);
        mux.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        drop((a, b));
    }
}
