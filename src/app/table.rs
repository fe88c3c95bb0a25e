//! The table view part of the state: which view, sort, filter and scope,
//! the rows they give, the selection (by session id, not row), the tags and
//! the scroll position.

use std::collections::BTreeSet;

use crate::groups::{self, Group, GroupBy, GroupSort};
use crate::snapshot::Session;

use super::rows::{self, Column, Sort};

/// The main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Sessions,
    Groups(GroupBy),
}

impl View {
    /// The view after this one (Tab): sessions, then each grouping in turn.
    pub fn next(self) -> View {
        match self {
            View::Sessions => View::Groups(GroupBy::FIRST),
            View::Groups(by) => by.next().map_or(View::Sessions, View::Groups),
        }
    }
}

/// How groups are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOrder {
    pub by: GroupSort,
    pub descending: bool,
}

impl Default for GroupOrder {
    /// Most sessions first.
    fn default() -> Self {
        GroupOrder {
            by: GroupSort::Sessions,
            descending: true,
        }
    }
}

/// What the table shows and where the user is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    pub view: View,
    pub sort: Sort,
    pub group_sort: GroupOrder,
    /// Free-text filter.
    pub filter: String,
    /// Exact group scope set by Enter on a group row.
    pub scope: Option<(GroupBy, String)>,
    pub hide_idle: bool,
    /// Indices into the shown snapshot's sessions, filtered and sorted.
    pub rows: Vec<usize>,
    /// Group rows of the grouped views.
    pub groups: Vec<Group>,
    /// The selected session id (sessions view); follows the id, not the row.
    pub selected: Option<u64>,
    /// The selected group key (grouped views).
    pub selected_group: Option<String>,
    /// Row index of the selection in `rows` / `groups`.
    pub cursor: usize,
    /// The first row on screen.
    pub offset: usize,
    /// Rows the table has room for (from the terminal size).
    pub height: usize,
    /// Tagged session ids.
    pub tags: BTreeSet<u64>,
}

impl Default for TableView {
    fn default() -> Self {
        TableView {
            view: View::Sessions,
            sort: Sort::default(),
            group_sort: GroupOrder::default(),
            filter: String::new(),
            scope: None,
            hide_idle: false,
            rows: Vec::new(),
            groups: Vec::new(),
            selected: None,
            selected_group: None,
            cursor: 0,
            offset: 0,
            height: 20,
            tags: BTreeSet::new(),
        }
    }
}

impl TableView {
    /// Rows in the current view.
    pub fn len(&self) -> usize {
        match self.view {
            View::Sessions => self.rows.len(),
            View::Groups(_) => self.groups.len(),
        }
    }

    /// True when the current view has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows a page moves (PgUp/PgDn).
    pub fn page(&self) -> usize {
        self.height.max(1)
    }

    /// Recomputes rows (or groups) and keeps the selection on the same id.
    pub(super) fn refresh(&mut self, sessions: &[Session], max_connections: u64) {
        match self.view {
            View::Sessions => {
                let mut rows =
                    rows::visible_rows(sessions, &self.filter, self.hide_idle, self.sort);
                if let Some((by, key)) = &self.scope {
                    rows.retain(|&i| by.key_of(&sessions[i]) == key);
                }
                self.rows = rows;
                // A tag acts on what is shown: a tagged session that left
                // the view (went idle under `i`, filtered out, gone) is
                // untagged, so `k` never takes rows the user cannot see.
                if !self.tags.is_empty() {
                    let shown: BTreeSet<u64> = self.rows.iter().map(|&i| sessions[i].id).collect();
                    self.tags.retain(|id| shown.contains(id));
                }
                let pos = self
                    .selected
                    .and_then(|id| self.rows.iter().position(|&i| sessions[i].id == id));
                self.cursor = match pos {
                    Some(p) => p,
                    None => self.cursor.min(self.rows.len().saturating_sub(1)),
                };
                self.selected = self.rows.get(self.cursor).map(|&i| sessions[i].id);
            }
            View::Groups(by) => {
                let filter = rows::filter_of(&self.filter);
                let shown = sessions
                    .iter()
                    .filter(|s| !(self.hide_idle && s.is_sleeping()) && filter.matches(s));
                let mut g = groups::group(shown, by, max_connections);
                groups::sort_groups(&mut g, self.group_sort.by, self.group_sort.descending);
                self.groups = g;
                let pos = self
                    .selected_group
                    .as_ref()
                    .and_then(|k| self.groups.iter().position(|g| &g.key == k));
                self.cursor = match pos {
                    Some(p) => p,
                    None => self.cursor.min(self.groups.len().saturating_sub(1)),
                };
                self.selected_group = self.groups.get(self.cursor).map(|g| g.key.clone());
            }
        }
    }

    /// Moves the cursor to row `to` (clamped) and selects what is there.
    pub(super) fn move_to(&mut self, to: usize, sessions: &[Session]) {
        self.cursor = to.min(self.len().saturating_sub(1));
        match self.view {
            View::Sessions => {
                self.selected = self.rows.get(self.cursor).map(|&i| sessions[i].id);
            }
            View::Groups(_) => {
                self.selected_group = self.groups.get(self.cursor).map(|g| g.key.clone());
            }
        }
    }

    /// `s` (next column among the `visible` ones) or `S` (reverse) in the
    /// current view.
    pub(super) fn change_sort(&mut self, next: bool, visible: &[Column]) {
        match self.view {
            View::Sessions if next => {
                let mut column = self.sort.column.next();
                for _ in 0..Column::ALL.len() {
                    if visible.contains(&column) {
                        break;
                    }
                    column = column.next();
                }
                self.sort.column = column;
                // Numbers read best largest first, text A to Z.
                self.sort.descending = self.sort.column == Column::Time;
            }
            View::Sessions => self.sort.descending = !self.sort.descending,
            View::Groups(_) if next => {
                self.group_sort.by = self.group_sort.by.next();
                self.group_sort.descending = self.group_sort.by != GroupSort::Key;
            }
            View::Groups(_) => self.group_sort.descending = !self.group_sort.descending,
        }
    }

    /// Tags every row shown, or untags them all when all are tagged.
    pub(super) fn tag_all(&mut self, sessions: &[Session]) {
        let shown: BTreeSet<u64> = self.rows.iter().map(|&i| sessions[i].id).collect();
        if !shown.is_empty() && shown.is_subset(&self.tags) {
            self.tags.retain(|id| !shown.contains(id));
        } else {
            self.tags.extend(shown);
        }
    }

    /// Keeps the cursor on screen.
    pub(super) fn scroll_to_cursor(&mut self) {
        self.offset = scroll_offset(self.offset, self.cursor, self.height, self.len());
    }
}

/// Keeps `cursor` inside the window of `height` rows starting near `offset`.
pub fn scroll_offset(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    if height == 0 || len == 0 {
        return 0;
    }
    let max_offset = len.saturating_sub(height);
    let offset = if cursor < offset {
        cursor
    } else if cursor >= offset + height {
        cursor + 1 - height
    } else {
        offset
    };
    offset.min(max_offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_keeps_cursor_visible() {
        assert_eq!(scroll_offset(0, 5, 10, 100), 0);
        assert_eq!(scroll_offset(0, 15, 10, 100), 6);
        assert_eq!(scroll_offset(20, 15, 10, 100), 15);
        assert_eq!(scroll_offset(95, 99, 10, 100), 90);
        assert_eq!(scroll_offset(3, 0, 0, 0), 0);
    }

    #[test]
    fn tab_cycles_sessions_and_every_grouping() {
        let mut v = View::Sessions;
        let mut seen = Vec::new();
        for _ in 0..4 {
            v = v.next();
            seen.push(v);
        }
        assert_eq!(
            seen,
            [
                View::Groups(GroupBy::User),
                View::Groups(GroupBy::Host),
                View::Groups(GroupBy::Db),
                View::Sessions
            ]
        );
    }
}
