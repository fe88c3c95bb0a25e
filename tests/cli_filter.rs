//! The filter expression as a user meets it in the dashboard: typed at the
//! `/` prompt (a bad one keeps the previous filter and says why in the
//! prompt line, within 80 columns) or given as `--filter`. No server needed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use clap::FromArgMatches;
use conntop::app::{App, Dialog, Event, Options, update};
use conntop::cli::{self, Cli};
use conntop::command::Feed;
use conntop::snapshot::Session;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::fixtures::{code, key, raw_snapshot, session, t0};

/// `app` in `appdb`, `app` in `shop`, `appreader` idle, `repl`, `web`.
fn sessions() -> Vec<Session> {
    let mut v = vec![
        session(1, "app", "10.0.0.1:5000", "Query", 40, "SELECT 1"),
        session(2, "app", "10.0.0.2:5000", "Sleep", 400, ""),
        session(3, "appreader", "10.0.1.3:5000", "Sleep", 10, ""),
        session(4, "repl", "10.0.0.4:5000", "Binlog Dump", 9000, ""),
        session(
            5,
            "web",
            "192.0.2.5:5000",
            "Query",
            2,
            "SELECT * FROM appdb.t",
        ),
    ];
    v[0].db = Some("appdb".into());
    v[1].db = Some("shop".into());
    v[4].db = Some("appdb".into());
    v
}

fn app() -> App {
    let mut app = App::new(Options {
        interval: Duration::from_secs(1),
        ..Options::default()
    });
    update(&mut app, Event::Tick(t0()));
    let snap = raw_snapshot(sessions(), 5, 100);
    update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
    app
}

fn ids(app: &App) -> Vec<u64> {
    let mut v: Vec<u64> = app
        .table
        .rows
        .iter()
        .map(|&i| app.sessions()[i].id)
        .collect();
    v.sort_unstable();
    v
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, c);
    }
}

/// The bottom line of an 80x24 screen.
fn footer(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    t.draw(|f| conntop::ui::render(app, f)).expect("draw");
    let buf = t.backend().buffer();
    (0..80).map(|x| buf[(x, 23)].symbol()).collect()
}

#[test]
fn field_filters_tell_the_user_from_the_database() {
    let mut a = app();
    key(&mut a, '/');
    type_text(&mut a, "app");
    assert_eq!(ids(&a), vec![1, 2, 3, 5], "a word searches every field");
    for _ in 0..3 {
        code(&mut a, KeyCode::Backspace);
    }
    type_text(&mut a, "user:app");
    code(&mut a, KeyCode::Enter);
    assert_eq!(a.dialog, None);
    assert_eq!(ids(&a), vec![1, 2]);
    assert_eq!(a.table.filter, "user:app");
}

#[test]
fn the_example_expression_works_typed() {
    let mut a = app();
    key(&mut a, '/');
    type_text(&mut a, "user:app* host:10.0.* !user:repl time>30s");
    code(&mut a, KeyCode::Enter);
    assert_eq!(ids(&a), vec![1, 2]);
    key(&mut a, '/');
    code(&mut a, KeyCode::Esc);
    assert_eq!(ids(&a), vec![1, 2, 3, 4, 5], "Esc clears");
}

#[test]
fn a_bad_expression_keeps_the_previous_filter_and_says_why() {
    let mut a = app();
    key(&mut a, '/');
    type_text(&mut a, "cmd:Sleep");
    code(&mut a, KeyCode::Enter);
    assert_eq!(ids(&a), vec![2, 3]);

    key(&mut a, '/');
    type_text(&mut a, " \"usr x");
    assert_eq!(
        a.table.filter, "cmd:Sleep ",
        "the last text that parsed stays"
    );
    assert_eq!(ids(&a), vec![2, 3]);
    let line = footer(&a);
    assert!(line.contains("a quote \" is not closed"), "{line}");
    assert!(line.contains("/cmd:Sleep \"usr x█"), "{line}");

    // Enter does not apply it and keeps the prompt open to fix it.
    code(&mut a, KeyCode::Enter);
    assert!(matches!(a.dialog, Some(Dialog::Filter { .. })));
    assert_eq!(a.table.filter, "cmd:Sleep ");

    // Fixed by hand, it applies as it is typed.
    for _ in 0..6 {
        code(&mut a, KeyCode::Backspace);
    }
    type_text(&mut a, "user:app");
    assert_eq!(a.table.filter, "cmd:Sleep user:app");
    assert_eq!(ids(&a), vec![2]);
    let line = footer(&a);
    assert!(!line.contains("unknown"), "{line}");
    code(&mut a, KeyCode::Enter);
    assert_eq!(a.dialog, None);
}

#[test]
fn an_unknown_field_is_named_in_the_prompt() {
    let mut a = app();
    key(&mut a, '/');
    type_text(&mut a, "usr:x");
    assert_eq!(a.table.filter, "usr", "the last text that parsed");
    let line = footer(&a);
    assert!(line.contains("unknown field \"usr\""), "{line}");
    assert!(line.contains("/usr:x█"), "{line}");
}

#[test]
fn half_typed_terms_do_not_blank_the_table() {
    let mut a = app();
    key(&mut a, '/');
    for (typed, want) in [
        ("t", vec![1, 5]),
        ("time", vec![]),
        ("time>", vec![]),
        ("time>6", vec![1, 2, 3, 4]),
        ("time>60", vec![2, 4]),
    ] {
        while matches!(&a.dialog, Some(Dialog::Filter { input }) if !input.is_empty()) {
            code(&mut a, KeyCode::Backspace);
        }
        type_text(&mut a, typed);
        if typed == "time>" {
            // Does not parse: the table keeps "time" (a word matching nothing).
            assert_eq!(a.table.filter, "time");
            assert!(footer(&a).contains("time needs a duration"));
        }
        assert_eq!(ids(&a), want, "{typed}");
    }
}

#[test]
fn long_input_and_its_error_fit_the_prompt_line() {
    let mut a = app();
    key(&mut a, '/');
    type_text(&mut a, &"x".repeat(150));
    type_text(&mut a, " id:abc");
    let line = footer(&a);
    assert!(line.contains("id: needs a session id"), "{line}");
    assert!(line.contains("x id:abc█"), "{line}");
    assert!(line.starts_with("/…"), "{line}");
}

#[test]
fn filter_flag_starts_the_dashboard_filtered() {
    let parse = |args: &[&str]| {
        let m = cli::command()
            .try_get_matches_from(std::iter::once("conntop").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let c = Cli::from_arg_matches(&m).map_err(|e| e.to_string())?;
        cli::check(&m, &c).map_err(|u| u.line)?;
        Ok::<Cli, String>(c)
    };
    let c = parse(&["--filter", "user:app !cmd:Sleep"]).expect("parses");
    let f = c.dashboard.filter.expect("a filter");
    assert_eq!(f.as_str(), "user:app !cmd:Sleep");
    let mut a = app();
    a.table.filter = f.as_str().to_string();
    // The rows follow with the next snapshot, as in the dashboard.
    let snap = raw_snapshot(sessions(), 5, 100);
    update(&mut a, Event::Feed(Feed::Snapshot(Arc::new(snap))));
    assert_eq!(ids(&a), vec![1]);
    assert!(parse(&["--filter", "user:"]).is_err());
    assert!(parse(&["demo", "--filter", "db:shop"]).is_ok());
    assert!(parse(&["kill", "--idle-over", "1m", "--filter", "db:shop"]).is_err());
}
