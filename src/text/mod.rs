//! Making server text safe to draw, and short human forms of numbers.
//!
//! Everything that comes from the server (query text, user, host, db, state)
//! passes through [`one_line`] or [`block`] before it reaches the terminal:
//! control characters and escape sequences are shown inert as visible
//! symbols, and every other character whose on-screen width is not a
//! certain 1 or 2 columns (format, zero-width, bidi, combining, private use,
//! unassigned, newer than the terminals in use, ...) becomes
//! [`PLACEHOLDER`], so the width ratatui computes is the width the terminal
//! draws. Huge text is cut.

mod recent;

use std::borrow::Cow;
use std::time::Duration;

/// Most characters kept in a wrapped block (the detail view).
pub const MAX_BLOCK_CHARS: usize = 16 * 1024;

/// The placeholder drawn for a character whose width on screen is not certain.
pub const PLACEHOLDER: char = '\u{fffd}';

/// The inert stand-in for one character, or `None` when it is safe as is.
///
/// Safe means: ratatui and the terminal agree on its width, a plain 1 or 2
/// columns, and it cannot change how its neighbours are drawn. Everything
/// else (controls, format characters, line and paragraph separators,
/// combining and enclosing marks, variation selectors, private use,
/// unassigned code points, Hangul fillers, emoji modifiers and regional
/// indicators that merge with their neighbours) is replaced, so no query can
/// move the columns beside it.
fn inert(c: char) -> Option<char> {
    if c.is_ascii() {
        return match c {
            // C0 controls become their Unicode "control picture" (ESC -> ␛).
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
            '\u{7f}' => Some('␡'),
            _ => None,
        };
    }
    if is_width_certain(c) {
        None
    } else {
        Some(PLACEHOLDER)
    }
}

/// True when a non-ASCII character draws as 1 or 2 columns everywhere and
/// never joins its neighbours.
fn is_width_certain(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    use unicode_width::UnicodeWidthChar;
    let category_ok = !matches!(
        get_general_category(c),
        G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::NonspacingMark
            | G::SpacingMark
            | G::EnclosingMark
    );
    let joins_or_blank = matches!(
        c,
        // Hangul choseong/jungseong/jongseong fillers and the blank Hangul letters.
        '\u{115f}' | '\u{1160}'..='\u{11ff}' | '\u{3164}' | '\u{ffa0}'
        // Emoji skin-tone modifiers and regional indicators (flags) merge
        // with their neighbours in some terminals and not in others.
        | '\u{1f3fb}'..='\u{1f3ff}' | '\u{1f1e6}'..='\u{1f1ff}'
        // Tag characters and variation selectors (in case the category table lags).
        | '\u{e0000}'..='\u{e007f}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}'
    );
    category_ok && !joins_or_blank && !recent::is_recent(c) && matches!(c.width(), Some(1 | 2))
}

/// True when `s` can be drawn as is (no character needs replacing).
fn is_clean(s: &str) -> bool {
    s.chars().all(|c| inert(c).is_none())
}

/// One display line: whitespace runs (newlines, tabs) fold to one space,
/// other controls become visible symbols, and the text is cut at `max`
/// characters with `…`.
pub fn one_line(s: &str, max: usize) -> Cow<'_, str> {
    let short = s.len() <= max;
    if short && is_clean(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut count = 0;
    let mut last_space = false;
    for c in s.chars() {
        if count >= max {
            out.push('…');
            return Cow::Owned(out);
        }
        let c = match c {
            '\n' | '\r' | '\t' | '\u{b}' | '\u{c}' => {
                if last_space {
                    continue;
                }
                ' '
            }
            c => inert(c).unwrap_or(c),
        };
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    Cow::Owned(out)
}

/// A multi-line block for wrapping: newlines are kept, tabs become spaces,
/// other controls become visible symbols; cut at [`MAX_BLOCK_CHARS`].
pub fn block(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_BLOCK_CHARS));
    for (i, c) in s.chars().enumerate() {
        if i >= MAX_BLOCK_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {}
            c => out.push(inert(c).unwrap_or(c)),
        }
    }
    out
}

/// Server text made plain for machine-read output (the findings' JSON):
/// control and invisible format characters (bidi overrides among them)
/// become spaces, surrounding blanks go, and more than `max_chars`
/// characters end in `…`. [`one_line`] is the form for the terminal.
pub fn plain(s: &str, max_chars: usize) -> String {
    let replaced: String = s
        .chars()
        .map(|c| {
            if c.is_control() || inert(c).is_some() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let trimmed = replaced.trim();
    if trimmed.chars().count() <= max_chars {
        return trimmed.to_string();
    }
    let mut out: String = trimmed.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A cell of exactly `width` columns: [`one_line`], cut by display width
/// (ending in `…` when cut) and padded with spaces, so that columns line up
/// whatever the text (wide CJK, placeholders).
pub fn cell(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let safe = one_line(s, width.saturating_mul(2).max(1));
    let mut out = String::with_capacity(width + 4);
    let mut used = 0;
    let total: usize = safe.chars().map(|c| c.width().unwrap_or(1)).sum();
    let room = if total > width {
        width.saturating_sub(1)
    } else {
        width
    };
    for c in safe.chars() {
        let w = c.width().unwrap_or(1);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    if total > width && width > 0 {
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// JSON text with every non-ASCII character whose on-screen width is not
/// certain (C1 controls, bidi overrides, format and zero-width characters)
/// written as a `\uXXXX` escape: the same data once parsed, inert when the
/// JSON itself is looked at in a terminal. Only valid inside JSON strings,
/// which is the only place such characters occur in serde's output.
pub fn json_inert(json: String) -> String {
    if json.is_ascii() || json.chars().all(|c| c.is_ascii() || inert(c).is_none()) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() || inert(c).is_none() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Writes one line to stderr: made safe to draw (an error can quote the
/// server), and never panicking (stderr may be a terminal that hung up).
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", one_line(line, 4000));
}

/// Short human form of a duration: the two largest units of humantime's
/// form, without spaces (`4m12s`, `2h3m`, `3d4h`, `850ms`).
pub fn short_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = Duration::from_secs(d.as_secs());
    humantime::format_duration(secs)
        .to_string()
        .split(' ')
        .take(2)
        .map(|part| {
            part.replace("days", "d")
                .replace("day", "d")
                .replace("months", "mo")
                .replace("month", "mo")
                .replace("years", "y")
                .replace("year", "y")
        })
        .collect()
}

/// A session's time as the processlist gives it: whole seconds, so under a
/// second is `0s`, not a false `0ms`.
pub fn session_time(ms: u64) -> String {
    if ms < 1000 {
        "0s".to_string()
    } else {
        short_ms(ms)
    }
}

/// [`short_duration`] of milliseconds.
pub fn short_ms(ms: u64) -> String {
    short_duration(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_inert() {
        let hostile = "SELECT 1 /*\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31m*/";
        let clean = one_line(hostile, 100);
        assert!(!clean.chars().any(|c| c.is_control()), "{clean:?}");
        assert!(clean.contains("␛]0;pwned␇␛[2J"));
        let c1 = one_line("a\u{9b}31mb", 100);
        assert_eq!(c1, "a\u{fffd}31mb");
        assert_eq!(one_line("evil\u{202e}txt.exe", 100), "evil�txt.exe");
        assert!(
            !block("x\u{1b}[1m\ny\u{0}")
                .chars()
                .any(|c| c.is_control() && c != '\n')
        );
    }

    /// Every code point in the planes that matter: what survives is a
    /// single grapheme of width 1 or 2 by ratatui's own measure, and the
    /// classes the terminal disagrees on are all replaced.
    #[test]
    fn every_character_that_survives_has_a_certain_width() {
        use unicode_width::UnicodeWidthStr;
        let ranges = [0u32..0x3_0000, 0xe_0000..0xe_1000, 0xf_0000..0xf_0100];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let s = c.to_string();
            let out = one_line(&s, 10);
            let w = out.width();
            assert!(
                (1..=2).contains(&w) && out.chars().count() == 1,
                "U+{:04X} drew as {out:?} (width {w})",
                c as u32
            );
        }
        for hostile in [
            '\u{ad}',
            '\u{61c}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{fe0f}',
            '\u{e0041}',
            '\u{1160}',
            '\u{3164}',
            '\u{200b}',
            '\u{200d}',
            '\u{301}',
            '\u{e000}',
            '\u{10ffff}',
            '\u{1f3fb}',
            '\u{1f1fa}',
            '\u{20e3}',
            '\u{9b}',
        ] {
            assert_eq!(
                one_line(&hostile.to_string(), 5),
                PLACEHOLDER.to_string(),
                "U+{:04X}",
                hostile as u32
            );
        }
        // Ordinary text of every width survives as is.
        for fine in [
            "SELECT é ñ ß",
            "日本語のクエリ",
            "Ωμέγα",
            "кириллица",
            "🙂 ⌚",
        ] {
            assert!(matches!(one_line(fine, 100), Cow::Borrowed(_)), "{fine}");
        }
        // Forty soft hyphens take forty columns, not zero.
        let soft = format!("a{}b", "\u{ad}".repeat(40));
        assert_eq!(one_line(&soft, 100).width(), 42);
    }

    #[test]
    fn whitespace_folds_and_long_text_is_cut() {
        assert_eq!(
            one_line("SELECT\n\t  1\r\nFROM t", 100),
            "SELECT   1 FROM t"
        );
        assert!(matches!(one_line("plain", 100), Cow::Borrowed(_)));
        let long = "x".repeat(10_000);
        let cut = one_line(&long, 20);
        assert_eq!(cut.chars().count(), 21);
        assert!(cut.ends_with('…'));
        let huge = "y".repeat(MAX_BLOCK_CHARS * 2);
        assert_eq!(block(&huge).chars().count(), MAX_BLOCK_CHARS + 1);
        // Invalid UTF-8 arrives as U+FFFD from the decoder; it stays visible.
        assert_eq!(one_line("a\u{fffd}b", 10), "a\u{fffd}b");
    }

    #[test]
    fn plain_strips_controls_and_cuts() {
        assert_eq!(plain("SELECT *\n\tFROM t\u{7f}", 60), "SELECT *  FROM t");
        assert_eq!(plain("abcdef", 4), "abc…");
        assert_eq!(plain("", 0), "");
        assert_eq!(plain("abc", 0), "…");
        assert_eq!(plain("evil\u{202e}txt", 20), "evil txt");
    }

    #[test]
    fn cells_have_their_exact_width() {
        use unicode_width::UnicodeWidthStr;
        for (text, w) in [
            ("app", 16),
            ("a_very_long_user_name_indeed", 16),
            ("日本語のユーザー名です", 16),
            ("evil\u{1b}]0;PWNED\u{7}", 16),
            ("x", 1),
            ("", 4),
        ] {
            let c = cell(text, w);
            assert_eq!(c.width(), w, "{text:?} -> {c:?}");
        }
        assert_eq!(cell("a_very_long_user_name", 8), "a_very_…");
        assert_eq!(cell("日本語のユーザー", 7), "日本語…");
    }

    #[test]
    fn json_keeps_the_data_and_escapes_what_a_terminal_would_act_on() {
        let value = serde_json::json!({"info": "a\u{9b}31m\u{202e}b\u{ad}c é 日 \u{e0041}"});
        let text = json_inert(serde_json::to_string(&value).unwrap());
        assert!(text.is_ascii() || !text.chars().any(|c| inert(c).is_some() && !c.is_ascii()));
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e") && text.contains("\\udb40\\udc41")
        );
        assert!(text.contains("é 日"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn short_durations() {
        assert_eq!(short_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(short_duration(Duration::from_secs(0)), "0ms");
        assert_eq!(short_duration(Duration::from_secs(5)), "5s");
        assert_eq!(short_duration(Duration::from_secs(252)), "4m12s");
        assert_eq!(
            short_duration(Duration::from_secs(2 * 3600 + 180 + 9)),
            "2h3m"
        );
        assert_eq!(
            short_duration(Duration::from_secs(3 * 86400 + 4 * 3600)),
            "3d4h"
        );
        assert_eq!(short_ms(60_000), "1m");
        assert_eq!(short_ms(42_000), "42s");
        assert_eq!(short_ms(300_000), "5m");
        assert_eq!(short_ms(7_380_000), "2h3m");
        assert_eq!(short_ms(28_800_000), "8h");
        assert_eq!(short_ms(273_600_000), "3d4h");
        assert_eq!(short_ms(172_800_000), "2d");
        assert!(!short_ms(u64::MAX).is_empty());
    }
}
