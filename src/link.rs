//! The seam between a data source and the app: three channels.
//!
//! The app (through `tui::run`) consumes a [`Link`]: feeds (snapshots, or the
//! connection being down) on a latest-wins channel of one, replies to its
//! commands on a lossless channel, and a channel to send [`Command`]s. A
//! source holds the other ends, a [`SourceEnd`]. The live poller is one
//! source; anything else that can fill a `SourceEnd` (a recording, several
//! servers) plugs in without touching the app.

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::command::{Command, Feed, Reply};

/// The app's ends of the channels.
#[derive(Debug)]
pub struct Link {
    /// Latest snapshot or connection state; holds at most one message.
    pub feed: Receiver<Feed>,
    /// Answers to commands, in order, never dropped.
    pub replies: Receiver<Reply>,
    /// Commands to the source. Dropping it tells the source to stop.
    pub commands: Sender<Command>,
}

/// The source's ends of the channels.
#[derive(Debug)]
pub struct SourceEnd {
    feed: Sender<Feed>,
    /// A clone of the app's receiver, used only to drop a stale message.
    drain: Receiver<Feed>,
    /// Where replies go.
    pub replies: Sender<Reply>,
    /// Commands from the app; disconnected when the app is gone.
    pub commands: Receiver<Command>,
}

impl Link {
    /// A connected pair of ends.
    pub fn pair() -> (Link, SourceEnd) {
        let (feed_tx, feed_rx) = crossbeam_channel::bounded(1);
        let (reply_tx, reply_rx) = crossbeam_channel::unbounded();
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let end = SourceEnd {
            feed: feed_tx,
            drain: feed_rx.clone(),
            replies: reply_tx,
            commands: cmd_rx,
        };
        let link = Link {
            feed: feed_rx,
            replies: reply_rx,
            commands: cmd_tx,
        };
        (link, end)
    }
}

impl SourceEnd {
    /// Publishes a feed; latest wins: a message the app has not taken yet
    /// is replaced, so the app never works through a backlog.
    pub fn publish(&self, feed: Feed) {
        match self.feed.try_send(feed) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(feed)) => {
                let _ = self.drain.try_recv();
                let _ = self.feed.try_send(feed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::command::Down;

    fn down(attempts: u32) -> Feed {
        Feed::Down(Down {
            since: SystemTime::UNIX_EPOCH,
            last_error: String::new(),
            attempts,
        })
    }

    #[test]
    fn latest_feed_wins_and_commands_close_on_drop() {
        let (link, end) = Link::pair();
        end.publish(down(1));
        end.publish(down(2));
        assert_eq!(link.feed.len(), 1);
        assert!(matches!(
            link.feed.try_recv(),
            Ok(Feed::Down(Down { attempts: 2, .. }))
        ));
        drop(link);
        assert!(end.commands.recv().is_err());
    }
}
