//! Which sessions the table shows, in what order: filter and sort, computed
//! once per snapshot or keypress, never per frame.

use std::cmp::Ordering;

use crate::filter::Filter;
use crate::snapshot::Session;

/// A column of the sessions table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Id,
    User,
    Host,
    Db,
    Command,
    Time,
    State,
    Query,
}

impl Column {
    /// Every column, in table order.
    pub const ALL: [Column; 8] = [
        Column::Id,
        Column::User,
        Column::Host,
        Column::Db,
        Column::Command,
        Column::Time,
        Column::State,
        Column::Query,
    ];

    /// Header text.
    pub fn title(self) -> &'static str {
        match self {
            Column::Id => "Id",
            Column::User => "User",
            Column::Host => "Host",
            Column::Db => "DB",
            Column::Command => "Command",
            Column::Time => "Time",
            Column::State => "State",
            Column::Query => "Query",
        }
    }

    /// The column after this one, wrapping.
    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }
}

/// Sort column and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    /// Time, longest first: the sessions holding slots longest come first.
    fn default() -> Self {
        Sort {
            column: Column::Time,
            descending: true,
        }
    }
}

/// ASCII-case-insensitive substring test without allocating.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The filter expression of `text` (see [`crate::filter`]). The prompt only
/// applies text that parses; text set otherwise that does not parse is
/// searched for as one plain word, as the filter used to be.
pub fn filter_of(text: &str) -> Filter {
    Filter::parse(text).unwrap_or_else(|_| Filter::word(text))
}

/// Does the session pass the filter expression `filter`? Parses it each
/// call: for many sessions, parse once with [`filter_of`].
pub fn matches(s: &Session, filter: &str) -> bool {
    filter_of(filter).matches(s)
}

fn compare(a: &Session, b: &Session, column: Column) -> Ordering {
    match column {
        Column::Id => a.id.cmp(&b.id),
        Column::User => a.user.cmp(&b.user),
        Column::Host => a.host.cmp(&b.host),
        Column::Db => a.db.cmp(&b.db),
        Column::Command => a.command.cmp(&b.command),
        Column::Time => a.time_ms.cmp(&b.time_ms),
        Column::State => a.state.cmp(&b.state),
        Column::Query => a.info.cmp(&b.info),
    }
}

/// Indices into `sessions` of the rows to show, filtered and sorted (ties by id).
pub fn visible_rows(sessions: &[Session], filter: &str, hide_idle: bool, sort: Sort) -> Vec<usize> {
    let filter = filter_of(filter);
    let mut rows: Vec<usize> = sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| !(hide_idle && s.is_sleeping()) && filter.matches(s))
        .map(|(i, _)| i)
        .collect();
    rows.sort_unstable_by(|&a, &b| {
        let (a, b) = (&sessions[a], &sessions[b]);
        let o = compare(a, b, sort.column);
        let o = if sort.descending { o.reverse() } else { o };
        o.then(a.id.cmp(&b.id))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u64, user: &str, command: &str, secs: u64, info: Option<&str>) -> Session {
        Session {
            id,
            user: user.into(),
            host: "10.0.0.1:1".into(),
            command: command.into(),
            time_ms: secs * 1000,
            info: info.map(str::to_string),
            ..Session::default()
        }
    }

    #[test]
    fn sorts_filters_and_hides_idle() {
        let list = vec![
            s(1, "app", "Sleep", 10, None),
            s(2, "web", "Query", 30, Some("SELECT * FROM Orders")),
            s(3, "app", "Sleep", 20, None),
        ];
        assert_eq!(
            visible_rows(&list, "", false, Sort::default()),
            vec![1, 2, 0]
        );
        let by_id = Sort {
            column: Column::Id,
            descending: false,
        };
        assert_eq!(visible_rows(&list, "", false, by_id), vec![0, 1, 2]);
        assert_eq!(visible_rows(&list, "orders", false, by_id), vec![1]);
        assert_eq!(visible_rows(&list, "APP", false, by_id), vec![0, 2]);
        assert_eq!(visible_rows(&list, "", true, by_id), vec![1]);
        assert_eq!(visible_rows(&list, "user:app", false, by_id), vec![0, 2]);
        assert_eq!(visible_rows(&list, "!user:app", false, by_id), vec![1]);
        assert_eq!(
            visible_rows(&list, "time>15s cmd:sleep", false, by_id),
            vec![2]
        );
        assert!(contains_ci("abc", ""));
        assert!(!contains_ci("ab", "abc"));
    }

    #[test]
    fn text_that_does_not_parse_is_one_word() {
        let mut odd = s(1, "app", "Query", 1, Some("SELECT 1 -- user: x"));
        assert!(matches(&odd, "user: x"), "the old substring search");
        assert!(matches(&odd, "user:app"));
        assert!(!matches(&odd, "user:ap"));
        odd.user = "web".into();
        assert!(!matches(&odd, "user:app"));
    }

    #[test]
    fn columns_cycle() {
        let mut c = Column::Id;
        for _ in 0..Column::ALL.len() {
            c = c.next();
        }
        assert_eq!(c, Column::Id);
    }
}
