//! Characters whose width ratatui and the terminal could disagree on (soft
//! hyphens, joiners, variation selectors, tags, Hangul fillers, combining
//! marks, private use) never reach the buffer: every cell holds one
//! character of a certain width, so no statement can move other rows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use conntop::app::{App, Event, Options, update};
use conntop::command::Feed;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use unicode_width::UnicodeWidthStr;

use common::fixtures::{raw_snapshot, session};

#[test]
fn zero_width_and_format_characters_become_placeholders() {
    let hostile = format!(
        "SELECT 1 /* {}{} */",
        "\u{ad}".repeat(40),
        "\u{2060}\u{fe0f}\u{200b}\u{200d}\u{e0041}\u{1160}\u{3164}\u{301}\u{e000}\u{2028}\u{61c}"
    );
    let snap = raw_snapshot(
        vec![
            session(11, "evil", "10.0.0.1:1", "Query", 90, &hostile),
            session(22, "app", "10.0.0.2:2", "Sleep", 80, ""),
        ],
        3,
        100,
    );
    for (w, h) in [(120, 40), (80, 24), (60, 20)] {
        let mut app = App::new(Options {
            interval: Duration::from_secs(1),
            ..Options::default()
        });
        update(&mut app, Event::Resize(w, h));
        update(
            &mut app,
            Event::Feed(Feed::Snapshot(Arc::new(snap.clone()))),
        );
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| conntop::ui::render(&app, f)).unwrap();
        let buf = t.backend().buffer().clone();
        let mut rows = Vec::new();
        for y in 0..buf.area.height {
            let mut row = String::new();
            for x in 0..buf.area.width {
                let sym = buf[(x, y)].symbol();
                // A wide character's second cell is empty in the buffer.
                assert!(
                    sym.is_empty() || (sym.chars().count() == 1 && (1..=2).contains(&sym.width())),
                    "{w}x{h}: cell ({x},{y}) holds {sym:?}"
                );
                row.push_str(sym);
            }
            rows.push(row);
        }
        let screen = rows.join("\n");
        // The next session's row starts with its own id, in the Id column.
        let header = rows
            .iter()
            .find(|r| r.starts_with("Id "))
            .unwrap_or_else(|| panic!("{w}x{h}: no table header\n{screen}"));
        let user_col = header.find("User").unwrap();
        let next = rows
            .iter()
            .find(|r| r.starts_with("22 "))
            .unwrap_or_else(|| panic!("{w}x{h}: row of session 22 moved\n{screen}"));
        assert_eq!(&next[user_col..user_col + 3], "app", "{w}x{h}\n{screen}");
        if w >= 80 {
            // Wide enough for the Query column: the placeholders are shown.
            assert!(
                screen.contains('\u{fffd}'),
                "{w}x{h}: no placeholder\n{screen}"
            );
        }
    }
}
