//! The plan overlay's part of the state: opening it asks the server (on
//! conntop's one connection, through the poller) for the plan of the
//! session's statement; the answer arrives as a reply.

use crate::command::{Command, KillMode};

use super::dialog::{Dialog, scrolled};
use super::keymap::Action;
use super::{App, Effect};

impl App {
    /// Opens the plan of session `id`, to be asked for (the loop sends the
    /// command after a table key; a dialog key returns it itself).
    pub(super) fn open_explain(&mut self, id: u64) {
        self.data.explain = None;
        self.dialog = Some(Dialog::Explain { id, scroll: 0 });
    }

    /// A key in the plan overlay: the detail's keys (kill, scroll, close),
    /// and the explain key asks again.
    pub(super) fn on_explain_action(
        &mut self,
        id: u64,
        scroll: u16,
        action: Action,
    ) -> Vec<Effect> {
        match action {
            Action::KillConnection => self.kill_selected_or_tagged(KillMode::Connection),
            Action::KillQuery => self.kill_selected_or_tagged(KillMode::Query),
            Action::Explain => {
                self.open_explain(id);
                return vec![Effect::Send(Command::Explain { id })];
            }
            _ => {
                self.dialog = scrolled(scroll, action).map(|scroll| Dialog::Explain { id, scroll });
            }
        }
        Vec::new()
    }
}
