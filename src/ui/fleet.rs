//! The fleet screen: one row per server, the fullest on top, with the
//! fleet's totals above and the keys below; or, when a server is open, that
//! server's dashboard (`ui::render` of its `App`). Columns drop by priority
//! so the screen fits 80x24. Every name and server string goes through
//! `text::one_line`; every key shown comes from the binding tables.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::Plan;
use crate::app::keymap::{self, Action, Binding, Mode};
use crate::findings::Severity;
use crate::fleet::rows::{ServerState, SortBy, Summary};
use crate::fleet::state::{Fleet, FleetDialog};
use crate::snapshot::Flavor;
use crate::text::{one_line, short_duration};
use crate::ui::overlay::Overlay;
use crate::ui::theme::Theme;
use crate::ui::wrap::{cut, width};
use crate::ui::{confirm, help, hint_pieces, hint_spans};

/// Width of the usage bar.
const BAR: usize = 8;

/// Narrowest the Finding column gets below 100 columns before other
/// columns make room (a third of the width above).
const MIN_FINDING: u16 = 18;

/// Widest the help overlay gets.
const HELP_WIDTH: u16 = 80;

/// A column of the fleet table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Name,
    Version,
    State,
    /// The bar, `connected/max` and the percentage.
    Usage,
    MaxUsed,
    Running,
    NewPerSec,
    Refused,
    /// The worst finding, or why the server is down.
    Finding,
}

impl Col {
    /// The sort this column shows.
    fn sorted_by(self) -> Option<SortBy> {
        match self {
            Col::Name => Some(SortBy::Name),
            Col::Usage => Some(SortBy::Usage),
            Col::Running => Some(SortBy::Running),
            Col::NewPerSec => Some(SortBy::NewPerSec),
            Col::Refused => Some(SortBy::Refused),
            Col::Finding => Some(SortBy::Finding),
            Col::Version | Col::State | Col::MaxUsed => None,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Col::Name => "Server",
            Col::Version => "Version",
            Col::State => "State",
            Col::Usage => "Slots",
            Col::MaxUsed => "MaxUsed",
            Col::Running => "Run",
            Col::NewPerSec => "New/s",
            Col::Refused => "Refused",
            Col::Finding => "Worst finding",
        }
    }
}

/// The columns shown at `width` for names of up to `longest` characters,
/// with the name's width and whether the usage bar is drawn: MaxUsed goes
/// first, then Run, Version, New/s, the bar, Refused; Name, State, usage and
/// Finding always stay.
pub fn columns_for(width: u16, longest: usize) -> (Vec<Col>, u16, bool) {
    let cap = if width < 100 { 16 } else { 28 };
    let name = u16::try_from(longest).unwrap_or(cap).clamp(6, cap);
    let mut cols = vec![
        Col::Name,
        Col::Version,
        Col::State,
        Col::Usage,
        Col::MaxUsed,
        Col::Running,
        Col::NewPerSec,
        Col::Refused,
        Col::Finding,
    ];
    let mut bar = true;
    let fixed = |cols: &[Col], bar: bool| -> u16 {
        let sum: u16 = cols.iter().map(|c| fixed_width(*c, name, bar)).sum();
        sum + cols.len().saturating_sub(1) as u16
    };
    // The finding is the why: a third of a wide screen.
    let min_finding = if width < 100 { MIN_FINDING } else { width / 3 };
    for drop in [
        Some(Col::MaxUsed),
        Some(Col::Running),
        Some(Col::Version),
        Some(Col::NewPerSec),
        None,
        Some(Col::Refused),
    ] {
        if fixed(&cols, bar) + min_finding <= width {
            break;
        }
        match drop {
            Some(c) => cols.retain(|x| *x != c),
            None => bar = false,
        }
    }
    (cols, name, bar)
}

fn fixed_width(c: Col, name: u16, bar: bool) -> u16 {
    match c {
        Col::Name => name,
        Col::Version => 15,
        Col::State => 10,
        Col::Usage => 14 + if bar { BAR as u16 + 1 } else { 0 },
        Col::MaxUsed => 7,
        Col::Running => 4,
        Col::NewPerSec => 6,
        Col::Refused => 7,
        Col::Finding => 0,
    }
}

/// Draws the fleet, or the open server's dashboard.
pub fn render(fleet: &Fleet, frame: &mut Frame) {
    if let Some(m) = fleet.open.and_then(|i| fleet.members.get(i)) {
        crate::ui::render(&m.app, frame);
        return;
    }
    let theme = Theme { color: fleet.color };
    let area = frame.area();
    let [top, main, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(totals_line(fleet, theme)), top);
    table(fleet, theme, frame, main);
    frame.render_widget(Paragraph::new(footer_line(fleet, theme)), footer);
    if let Some(FleetDialog::Help { scroll }) = &fleet.dialog {
        let o = fleet_help(theme);
        let scroll = (*scroll).min(o.scroll_limit(area, theme));
        o.render(frame, area, scroll, theme);
    }
}

/// `conntop fleet  connected 120/400 30.0%  3 live, 1 down  refused +5`:
/// the slots first, then the servers by state (their number is in the
/// table's title), then the clients refused since start.
fn totals_line(fleet: &Fleet, theme: Theme) -> Line<'static> {
    let t = fleet.totals();
    let share = if t.max > 0 {
        t.connected as f64 / t.max as f64
    } else {
        0.0
    };
    let mut spans = vec![
        Span::styled("conntop fleet ", theme.title()),
        Span::raw(" connected "),
        Span::styled(
            format!("{}/{} {:.1}%", t.connected, t.max, share * 100.0),
            theme.level(share, fleet.warn, fleet.crit),
        ),
    ];
    spans.push(Span::raw("  "));
    let mut first = true;
    for state in ServerState::ALL {
        let n = t.count(state);
        if n == 0 {
            continue;
        }
        if !first {
            spans.push(Span::raw(", "));
        }
        first = false;
        spans.push(Span::styled(
            format!("{n} {}", state.label()),
            state_style(state, theme),
        ));
    }
    if t.refused > 0 {
        spans.push(Span::styled(
            format!("  refused +{}", t.refused),
            theme.crit(),
        ));
    }
    Line::from(spans)
}

fn state_style(state: ServerState, theme: Theme) -> Style {
    match state {
        ServerState::Live => theme.ok(),
        ServerState::Connecting => theme.dim(),
        ServerState::Stale | ServerState::Reconnecting => theme.warn(),
        ServerState::Full | ServerState::Down => theme.crit(),
    }
}

fn state_text(s: &Summary<'_>) -> String {
    match s.state {
        ServerState::Live => "● live".to_string(),
        ServerState::Stale => format!("stale {}", short_duration(s.age.unwrap_or_default())),
        ServerState::Full => "FULL 1040".to_string(),
        ServerState::Reconnecting => format!("retry #{}", s.attempts),
        ServerState::Down => format!("down #{}", s.attempts),
        ServerState::Connecting => "connecting".to_string(),
    }
}

/// `mariadb 10.11.6`.
fn version_text(s: &Summary<'_>) -> String {
    let Some(v) = s.version else {
        return String::new();
    };
    let (a, b, c) = crate::snapshot::parse_version(v);
    let flavor = match s.flavor {
        Some(Flavor::MariaDb) => "mariadb",
        Some(Flavor::MySql) => "mysql",
        None => "",
    };
    format!("{flavor} {a}.{b}.{c}")
}

fn usage_cell(s: &Summary<'_>, fleet: &Fleet, theme: Theme, bar: bool) -> Cell<'static> {
    let (Some(c), Some(m), Some(share)) = (s.connected, s.max, s.usage()) else {
        return Cell::from(Span::styled("–", theme.dim()));
    };
    let style = theme.level(share, fleet.warn, fleet.crit);
    let mut spans = Vec::new();
    if bar {
        let filled = ((share.min(1.0)) * BAR as f64).round() as usize;
        spans.push(Span::styled("█".repeat(filled), style));
        spans.push(Span::styled(
            "░".repeat(BAR - filled.min(BAR)),
            theme.gauge_empty(),
        ));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        format!("{:>9} {:>3.0}%", format!("{c}/{m}"), share * 100.0),
        style,
    ));
    Cell::from(Line::from(spans))
}

/// The finding column's cell, cut to `room` columns (ending in `…`).
fn finding_cell(s: &Summary<'_>, theme: Theme, room: usize) -> Cell<'static> {
    if s.state == ServerState::Full {
        let open = keymap::label_in(Mode::Fleet, Action::OpenServer).unwrap_or(keymap::NO_LABEL);
        return Cell::from(Span::styled(
            format!("ERROR 1040 Too many connections ({open}: how to get in)"),
            theme.crit(),
        ));
    }
    if let Some(reason) = s.reason.filter(|_| !s.state.is_current()) {
        let style = if s.state == ServerState::Reconnecting {
            theme.warn()
        } else {
            theme.crit()
        };
        return Cell::from(Span::styled(cut(&one_line(reason, 300), room), style));
    }
    match s.worst {
        Some(f) => {
            let (label, style) = match f.severity {
                Severity::Critical => ("CRIT", theme.crit()),
                Severity::Warning => ("WARN", theme.warn()),
                Severity::Info => ("info", theme.dim()),
            };
            let head = format!("{label} {}", f.kind.name());
            let rest = room.saturating_sub(width(&head));
            Cell::from(Line::from(vec![
                Span::styled(cut(&head, room), style),
                Span::raw(cut(&format!(": {}", one_line(&f.title, 300)), rest)),
            ]))
        }
        None if s.state.is_current() => Cell::from(Span::styled("none", theme.dim())),
        None => Cell::from(""),
    }
}

fn cell(
    s: &Summary<'_>,
    c: Col,
    fleet: &Fleet,
    theme: Theme,
    name_w: u16,
    bar: bool,
    room: usize,
) -> Cell<'static> {
    let num = |v: Option<u64>| v.map_or("–".to_string(), |v| v.to_string());
    match c {
        Col::Name => Cell::from(one_line(s.name, usize::from(name_w)).into_owned()),
        Col::Version => Cell::from(version_text(s)),
        Col::State => Cell::from(Span::styled(state_text(s), state_style(s.state, theme))),
        Col::Usage => usage_cell(s, fleet, theme, bar),
        Col::MaxUsed => Cell::from(num(s.max_used)),
        Col::Running => Cell::from(num(s.running)),
        Col::NewPerSec => Cell::from(s.new_per_s.map_or("–".to_string(), |r| format!("{r:.1}"))),
        Col::Refused => match s.refused {
            Some(r) if r > 0 => Cell::from(Span::styled(format!("+{r}"), theme.crit())),
            other => Cell::from(Span::styled(num(other), theme.dim())),
        },
        Col::Finding => finding_cell(s, theme, room),
    }
}

fn table(fleet: &Fleet, theme: Theme, frame: &mut Frame, area: Rect) {
    let longest = fleet
        .members
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0);
    let (cols, name_w, bar) = columns_for(area.width, longest);
    // What the Fill column gets: the width less the fixed columns and the
    // one-column gaps between columns.
    let fixed: usize = cols
        .iter()
        .filter(|c| **c != Col::Finding)
        .map(|c| usize::from(fixed_width(*c, name_w, bar)))
        .sum();
    let room = usize::from(area.width).saturating_sub(fixed + cols.len().saturating_sub(1));
    let body = usize::from(area.height.saturating_sub(2));
    let offset =
        crate::app::table::scroll_offset(fleet.offset, fleet.cursor, body, fleet.order.len());
    let header = Row::new(cols.iter().map(|c| {
        let mut t = c.title().to_string();
        let by = fleet.sort.by;
        if c.sorted_by() == Some(by) || (*c == Col::Usage && by == SortBy::Connected) {
            t.push(if fleet.sort.descending { '▼' } else { '▲' });
        }
        Cell::from(t)
    }))
    .style(theme.header());
    let rows = fleet
        .order
        .iter()
        .enumerate()
        .skip(offset)
        .take(body)
        .filter_map(|(pos, &i)| {
            let s = fleet.summary(i)?;
            let cells: Vec<Cell> = cols
                .iter()
                .map(|c| cell(&s, *c, fleet, theme, name_w, bar, room))
                .collect();
            let row = Row::new(cells);
            Some(if pos == fleet.cursor {
                row.style(theme.selected())
            } else {
                row
            })
        });
    let widths = cols.iter().map(|c| match c {
        Col::Finding => Constraint::Fill(1),
        c => Constraint::Length(fixed_width(*c, name_w, bar)),
    });
    let widget = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::TOP).title(title(fleet)))
        .column_spacing(1);
    frame.render_widget(widget, area);
    if fleet.order.is_empty() && area.height > 3 {
        let msg = format!(
            "no server matches ({} clears the filter)",
            keymap::label_in(Mode::Fleet, Action::ClearFilter).unwrap_or(keymap::NO_LABEL)
        );
        let r = Rect {
            x: area.x + 1,
            y: area.y + 2,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        frame.render_widget(Paragraph::new(Span::styled(msg, theme.dim())), r);
    }
}

fn title(fleet: &Fleet) -> Line<'static> {
    let mut t = format!(
        " Servers {} of {} · sort {} {} ",
        fleet.order.len(),
        fleet.members.len(),
        fleet.sort.by.title(),
        if fleet.sort.descending { "▼" } else { "▲" }
    );
    if !fleet.filter.is_empty() {
        t.push_str(&format!("· filter \"{}\" ", one_line(&fleet.filter, 40)));
    }
    Line::from(t)
}

fn footer_line(fleet: &Fleet, theme: Theme) -> Line<'static> {
    if let Some(FleetDialog::Filter { input }) = &fleet.dialog {
        let mut spans = vec![
            Span::styled("/", theme.key()),
            Span::raw(one_line(input, 200).into_owned()),
            Span::styled("█   ", theme.dim()),
        ];
        spans.extend(hint_spans(Mode::Filter, |_| true, theme));
        return Line::from(spans);
    }
    Line::from(hint_spans(Mode::Fleet, |_| true, theme))
}

/// Help lines for `bindings`, one per binding: keys and what they do.
fn binding_lines(bindings: &[Binding], theme: Theme) -> Vec<Line<'static>> {
    bindings
        .iter()
        .filter(|b| !b.help.is_empty())
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("  {:<12}", b.label()), theme.key()),
                Span::raw(b.help),
            ])
        })
        .collect()
}

/// The help box of the fleet: its keys, those of a server opened from it,
/// and the filter prompt's.
pub fn fleet_help(theme: Theme) -> Overlay {
    let mut body = vec![Line::styled("Fleet", theme.title())];
    body.extend(binding_lines(Mode::Fleet.bindings(), theme));
    body.push(Line::styled("On a server's dashboard", theme.title()));
    body.extend(binding_lines(Mode::Server.bindings(), theme));
    body.push(Line::styled("In dialogs", theme.title()));
    let mut spans = vec![Span::raw(format!("  {:<14}", Mode::Filter.name()))];
    spans.extend(hint_spans(Mode::Filter, |_| true, theme));
    body.push(Line::from(spans));
    help_box(body, theme)
}

/// The help of a server's dashboard opened from the fleet: its keys, then
/// the fleet's.
pub fn server_help(theme: Theme) -> Overlay {
    let mut body = help::lines(theme);
    body.push(Line::styled("Fleet", theme.title()));
    body.extend(binding_lines(Mode::Server.bindings(), theme));
    help_box(body, theme)
}

fn help_box(body: Vec<Line<'static>>, theme: Theme) -> Overlay {
    let mut keys = hint_pieces(Mode::Help, |_| true, theme);
    keys.push(vec![Span::styled("any other key closes", theme.dim())]);
    Overlay {
        title: Line::from(" Keys "),
        body,
        keys,
        max_width: HELP_WIDTH,
    }
}

/// The kill confirmation of a server of the fleet: the title and the first
/// line name the server (the lists make room for that line).
pub fn confirm_overlay(plan: &Plan, theme: Theme, screen: Rect, name: &str) -> Overlay {
    let shorter = Rect {
        height: screen.height.saturating_sub(1),
        ..screen
    };
    let mut o = confirm::overlay(plan, theme, shorter);
    let title: String = o.title.spans.iter().map(|s| s.content.as_ref()).collect();
    let name = one_line(name, 60);
    o.title = Line::styled(
        format!(
            "{} on {name} ? ",
            title.trim_end().trim_end_matches('?').trim_end()
        ),
        theme.crit(),
    );
    o.body.insert(
        0,
        Line::from(vec![
            Span::styled("On server ", theme.title()),
            Span::styled(name.into_owned(), theme.key()),
        ]),
    );
    o
}
