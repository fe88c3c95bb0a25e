//! The locks view's part of the table state: the wait-for tree's rows,
//! recomputed once per snapshot, and the selection on them (by session id,
//! so it follows the session as the tree changes).

use crate::locks::{Graph, TreeRowKind};

use super::table::TableView;

/// Levels of waiters listed under a root before the rest is counted.
pub const TREE_DEPTH: u8 = 3;

/// Rows the tree lists at most; the rest is counted.
pub const TREE_ROWS: usize = 5_000;

impl TableView {
    /// Rebuilds the tree from `locks` and keeps the cursor on the selected
    /// session (its first row), else where it was.
    pub(super) fn refresh_locks(&mut self, locks: &Graph) {
        self.tree = locks.tree(TREE_DEPTH, TREE_ROWS);
        let pos = self.selected.and_then(|id| {
            self.tree
                .iter()
                .position(|r| r.id == id && has_session(r.kind))
        });
        self.cursor = match pos {
            Some(p) => p,
            None => self.cursor.min(self.tree.len().saturating_sub(1)),
        };
        // A row that is not a session leaves the selection where it was,
        // for the sessions view to come back to.
        if let Some(id) = self.tree_session(self.cursor) {
            self.selected = Some(id);
        }
    }

    /// The session keys act on: the selected one; in the locks view the
    /// one under the cursor (none on a count or a heading).
    pub fn acted_on(&self) -> Option<u64> {
        match self.view {
            super::View::Locks => self.tree_session(self.cursor),
            _ => self.selected,
        }
    }

    /// The session on tree row `row`, if the row is one.
    pub(super) fn tree_session(&self, row: usize) -> Option<u64> {
        self.tree
            .get(row)
            .filter(|r| has_session(r.kind))
            .map(|r| r.id)
    }
}

/// True for the rows that show a session (not a count or a heading).
fn has_session(kind: TreeRowKind) -> bool {
    matches!(
        kind,
        TreeRowKind::Root | TreeRowKind::Waiter | TreeRowKind::Listed
    )
}
