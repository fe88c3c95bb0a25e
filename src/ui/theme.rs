//! Named styles. With colour off (`--no-color`, `NO_COLOR`) every style keeps
//! only modifiers (bold, reverse), so the layout stays legible in monochrome.

use ratatui::style::{Color, Modifier, Style};

/// The palette, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn pick(self, color: Style, mono: Style) -> Style {
        if self.color { color } else { mono }
    }

    /// Healthy values.
    pub fn ok(self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Past the warning threshold.
    pub fn warn(self) -> Style {
        self.pick(
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Past the critical threshold, errors, lost connection.
    pub fn crit(self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    /// Titles and labels.
    pub fn title(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Table header row.
    pub fn header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// The selected row.
    pub fn selected(self) -> Style {
        self.pick(
            Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// Tagged rows.
    pub fn tagged(self) -> Style {
        self.pick(
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Keys in the footer and help.
    pub fn key(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Idle sessions.
    pub fn idle(self) -> Style {
        self.pick(Style::new().fg(Color::Gray), Style::new())
    }

    /// Empty part of the gauge.
    pub fn gauge_empty(self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    /// Style for a share of max_connections.
    pub fn level(self, share: f64, warn: f64, crit: f64) -> Style {
        if share >= crit {
            self.crit()
        } else if share >= warn {
            self.warn()
        } else {
            self.ok()
        }
    }
}
