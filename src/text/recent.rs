//! Code points assigned after Unicode 14.0 (September 2021).
//!
//! Terminals, multiplexers and C libraries of that age (Debian 12's glibc
//! 2.36 and tmux 3.3, for example) do not know them and draw them zero
//! columns wide, while ratatui's tables (newer) give them 1 or 2: such a
//! character in a user or database name shifts every column after it. They
//! are drawn as the placeholder instead. Generated once by listing what
//! `unicode-general-category` calls assigned and Python 3.11's `unicodedata`
//! (Unicode 14.0) calls unassigned; 75 ranges.

/// Inclusive ranges, in order.
const RANGES: [(char, char); 75] = [
    ('\u{897}', '\u{897}'),
    ('\u{cf3}', '\u{cf3}'),
    ('\u{ece}', '\u{ece}'),
    ('\u{1b4e}', '\u{1b4f}'),
    ('\u{1b7f}', '\u{1b7f}'),
    ('\u{1c89}', '\u{1c8a}'),
    ('\u{2427}', '\u{2429}'),
    ('\u{2ffc}', '\u{2fff}'),
    ('\u{31e4}', '\u{31e5}'),
    ('\u{31ef}', '\u{31ef}'),
    ('\u{a7cb}', '\u{a7cd}'),
    ('\u{a7da}', '\u{a7dc}'),
    ('\u{105c0}', '\u{105f3}'),
    ('\u{10d40}', '\u{10d65}'),
    ('\u{10d69}', '\u{10d85}'),
    ('\u{10d8e}', '\u{10d8f}'),
    ('\u{10ec2}', '\u{10ec4}'),
    ('\u{10efc}', '\u{10eff}'),
    ('\u{1123f}', '\u{11241}'),
    ('\u{11380}', '\u{11389}'),
    ('\u{1138b}', '\u{1138b}'),
    ('\u{1138e}', '\u{1138e}'),
    ('\u{11390}', '\u{113b5}'),
    ('\u{113b7}', '\u{113c0}'),
    ('\u{113c2}', '\u{113c2}'),
    ('\u{113c5}', '\u{113c5}'),
    ('\u{113c7}', '\u{113ca}'),
    ('\u{113cc}', '\u{113d5}'),
    ('\u{113d7}', '\u{113d8}'),
    ('\u{113e1}', '\u{113e2}'),
    ('\u{116d0}', '\u{116e3}'),
    ('\u{11b00}', '\u{11b09}'),
    ('\u{11bc0}', '\u{11be1}'),
    ('\u{11bf0}', '\u{11bf9}'),
    ('\u{11f00}', '\u{11f10}'),
    ('\u{11f12}', '\u{11f3a}'),
    ('\u{11f3e}', '\u{11f5a}'),
    ('\u{1342f}', '\u{1342f}'),
    ('\u{13439}', '\u{13455}'),
    ('\u{13460}', '\u{143fa}'),
    ('\u{16100}', '\u{16139}'),
    ('\u{16d40}', '\u{16d79}'),
    ('\u{18cff}', '\u{18cff}'),
    ('\u{1b132}', '\u{1b132}'),
    ('\u{1b155}', '\u{1b155}'),
    ('\u{1cc00}', '\u{1ccf9}'),
    ('\u{1cd00}', '\u{1ceb3}'),
    ('\u{1d2c0}', '\u{1d2d3}'),
    ('\u{1df25}', '\u{1df2a}'),
    ('\u{1e030}', '\u{1e06d}'),
    ('\u{1e08f}', '\u{1e08f}'),
    ('\u{1e4d0}', '\u{1e4f9}'),
    ('\u{1e5d0}', '\u{1e5fa}'),
    ('\u{1e5ff}', '\u{1e5ff}'),
    ('\u{1f6dc}', '\u{1f6dc}'),
    ('\u{1f774}', '\u{1f776}'),
    ('\u{1f77b}', '\u{1f77f}'),
    ('\u{1f7d9}', '\u{1f7d9}'),
    ('\u{1f8b2}', '\u{1f8bb}'),
    ('\u{1f8c0}', '\u{1f8c1}'),
    ('\u{1fa75}', '\u{1fa77}'),
    ('\u{1fa87}', '\u{1fa89}'),
    ('\u{1fa8f}', '\u{1fa8f}'),
    ('\u{1faad}', '\u{1faaf}'),
    ('\u{1fabb}', '\u{1fabf}'),
    ('\u{1fac6}', '\u{1fac6}'),
    ('\u{1face}', '\u{1facf}'),
    ('\u{1fada}', '\u{1fadc}'),
    ('\u{1fadf}', '\u{1fadf}'),
    ('\u{1fae8}', '\u{1fae9}'),
    ('\u{1faf7}', '\u{1faf8}'),
    ('\u{1fbcb}', '\u{1fbef}'),
    ('\u{2b739}', '\u{2b739}'),
    ('\u{2ebf0}', '\u{2ee5d}'),
    ('\u{31350}', '\u{323af}'),
];

/// True for a character newer than Unicode 14.0.
pub fn is_recent(c: char) -> bool {
    RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_characters_terminals_draw_zero_wide() {
        for c in [
            '\u{31ef}',
            '\u{2ffc}',
            '\u{1c89}',
            '\u{a7cb}',
            '\u{1fae8}',
            '\u{1fabf}',
        ] {
            assert!(is_recent(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '日', '🙂', '\u{1fae0}'] {
            assert!(!is_recent(c), "U+{:04X}", c as u32);
        }
        assert!(RANGES.windows(2).all(|w| w[0].1 < w[1].0));
    }
}
