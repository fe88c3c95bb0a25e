//! The password prompt of a bare `-p`: no echo, raw mode always restored.

use std::io::{self, IsTerminal, Write};

use super::{ConfigError, io_reason};

/// Reads a password from the terminal without echo, after printing `prompt` on stderr.
///
/// Backspace deletes, Ctrl-U clears, Enter finishes, Ctrl-C or Ctrl-D cancels. Raw mode is
/// always restored. Fails when stdin is not a terminal.
pub fn prompt_password(prompt: &str) -> Result<String, ConfigError> {
    if !io::stdin().is_terminal() {
        return Err(ConfigError::NoTerminal);
    }
    let prompt_error = |e: io::Error| ConfigError::Prompt(io_reason(&e));
    let mut stderr = io::stderr();
    write!(stderr, "{prompt}")
        .and_then(|()| stderr.flush())
        .map_err(prompt_error)?;
    let result = {
        let _raw = RawMode::enable().map_err(prompt_error)?;
        read_secret_line()
    };
    // Raw mode is off again here; end the prompt line.
    let _ = writeln!(stderr);
    result
}

/// Raw mode for as long as this lives.
struct RawMode;

impl RawMode {
    /// Switches raw mode on.
    fn enable() -> io::Result<RawMode> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Reads key events up to Enter, echoing nothing.
fn read_secret_line() -> Result<String, ConfigError> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
    let mut secret = String::new();
    loop {
        let event = crossterm::event::read().map_err(|e| ConfigError::Prompt(io_reason(&e)))?;
        let key = match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => key,
            Event::Paste(text) => {
                secret.push_str(&text);
                continue;
            }
            _ => continue,
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => return Ok(secret),
            KeyCode::Char('c') if ctrl => return Err(ConfigError::PromptCancelled),
            KeyCode::Char('d') if ctrl && secret.is_empty() => {
                return Err(ConfigError::PromptCancelled);
            }
            KeyCode::Char('u') if ctrl => secret.clear(),
            KeyCode::Char(_) if ctrl => {}
            KeyCode::Char(c) => secret.push(c),
            KeyCode::Backspace => {
                secret.pop();
            }
            _ => {}
        }
    }
}
