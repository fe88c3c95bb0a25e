//! The filter expression of the dashboard's `/` prompt, `--filter` and
//! `conntop kill --where`: which sessions to show or to kill.
//!
//! Terms are separated by spaces; a session must pass every one of them.
//!
//! - `word`: a case-insensitive substring of any field: id, user, host, db,
//!   command, state or statement.
//! - `FIELD:PATTERN`: a shell pattern (`*`, `?`, `[a-z]`, `[!x]`) matched
//!   against the whole field, as `--match-user` does. Fields: `user`, `host`
//!   (the client host, port stripped, or `host:port`), `db`, `cmd` (or
//!   `command`), `state`, `info` (or `query`). `user`, `host` and `db`
//!   match case as the server does; `cmd`, `state` and `info` ignore case.
//!   A session without a db or a statement matches no `db:` or `info:`.
//! - `id:N`: the session with that id.
//! - `time>30s`, `time<5m` (also `>=`, `<=`): time in the current command,
//!   a humantime duration or a number of seconds.
//! - `!TERM`: the term must not hold.
//! - `"..."`: quotes keep spaces and `! : < >` as plain text; `\"` and `\\`
//!   stand for `"` and `\`.
//!
//! Parsing is linear in the text, which is at most [`MAX_CHARS`] characters
//! in at most [`MAX_TERMS`] terms; matching is at most a few glob or
//! substring tests per term, each bounded by the pattern and field lengths.
//! Nothing here panics on any input.

use std::fmt;
use std::time::Duration;

use glob::{MatchOptions, Pattern};

use crate::snapshot::Session;
use crate::text::one_line;

/// The syntax, one form a line: (form, meaning). The manual page is
/// written from it.
pub const SYNTAX: [(&str, &str); 11] = [
    (
        "word",
        "a case-insensitive substring of any field: id, user, host, db, command, state, statement",
    ),
    (
        "user:PATTERN",
        "the user; a shell pattern (* ? [a-z] [!x]) matched against the whole value, \
         as --match-user, case-sensitive",
    ),
    (
        "host:PATTERN",
        "the client host, port stripped (or host:port), case-sensitive",
    ),
    (
        "db:PATTERN",
        "the current database, case-sensitive; a session without one never matches",
    ),
    (
        "cmd:PATTERN",
        "the command (Sleep, Query, ...), any case; also command:",
    ),
    ("state:PATTERN", "the thread state, any case"),
    (
        "info:PATTERN",
        "the statement as listed (its first 100 characters), any case; also query:",
    ),
    ("id:N", "the session with that id"),
    (
        "time>30s, time<5m",
        "time in the current command (also >= and <=): a duration or a number of seconds",
    ),
    ("!TERM", "the term must not hold"),
    (
        "\"two words\"",
        "quotes keep spaces and ! : < > as text; \\\" and \\\\ stand for \" and \\",
    ),
];

/// Longest expression, in characters.
pub const MAX_CHARS: usize = 1000;

/// Most terms in one expression.
pub const MAX_TERMS: usize = 32;

/// Longest `time>`/`time<` bound: 100 years (the processlist's time never
/// comes near; the bound keeps the arithmetic far from overflow).
const MAX_TIME: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Most characters of the user's text quoted in an error.
const SHOWN: usize = 30;

/// Field names, as typed before `:`.
const FIELDS: &str = "user host db cmd state info id time";

/// A parsed filter expression; the empty one passes every session.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

/// Why an expression does not parse: one line, safe to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// A session field a pattern can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    User,
    Host,
    Db,
    Command,
    State,
    Info,
}

impl Field {
    fn named(name: &str) -> Option<Field> {
        Some(match name.to_ascii_lowercase().as_str() {
            "user" => Field::User,
            "host" => Field::Host,
            "db" => Field::Db,
            "cmd" | "command" => Field::Command,
            "state" => Field::State,
            "info" | "query" => Field::Info,
            _ => return None,
        })
    }

    /// Users and databases are case-sensitive on the server; commands,
    /// states and statements are read without regard to case.
    fn case_sensitive(self) -> bool {
        matches!(self, Field::User | Field::Host | Field::Db)
    }
}

/// One test on a session.
#[derive(Debug, Clone)]
enum Test {
    /// Substring of any field, lowercased (ASCII).
    Word(String),
    Field(Field, Pattern),
    Id(u64),
    /// `time_ms` compared with a bound in ms.
    Time(Cmp, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Over,
    AtLeast,
    Under,
    AtMost,
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    test: Test,
}

/// One character of a term and whether it was quoted (quoted characters
/// are always plain text).
type Marked = (char, bool);

impl Filter {
    /// Parses an expression; see the module documentation for the syntax.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.chars().count() > MAX_CHARS {
            return Err(FilterError(format!(
                "the filter is longer than {MAX_CHARS} characters"
            )));
        }
        let mut terms = Vec::new();
        for raw in split(text)? {
            if terms.len() == MAX_TERMS {
                return Err(FilterError(format!(
                    "the filter has more than {MAX_TERMS} terms"
                )));
            }
            terms.push(term(&raw)?);
        }
        Ok(Filter {
            text: text.trim().to_string(),
            terms,
        })
    }

    /// A filter that searches every field for `text` as one plain word, with
    /// no syntax: the dashboard's fallback for text that does not parse.
    pub fn word(text: &str) -> Filter {
        let text = text.trim();
        let terms = if text.is_empty() {
            Vec::new()
        } else {
            vec![Term {
                negated: false,
                test: Test::Word(text.to_ascii_lowercase()),
            }]
        };
        Filter {
            text: text.to_string(),
            terms,
        }
    }

    /// The expression as typed (outer spaces trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the expression has no terms: every session passes.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Does the session pass every term?
    pub fn matches(&self, s: &Session) -> bool {
        self.terms.iter().all(|t| t.test.holds(s) != t.negated)
    }
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        Filter::parse(s)
    }
}

/// Splits on unquoted whitespace, removing quotes and escapes.
fn split(text: &str) -> Result<Vec<Vec<Marked>>, FilterError> {
    let mut out = Vec::new();
    let mut cur: Vec<Marked> = Vec::new();
    let mut started = false;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('"' | '\\')) => {
                if let Some(next) = chars.next() {
                    cur.push((next, true));
                }
                started = true;
            }
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push((c, quoted));
                started = true;
            }
        }
    }
    if quoted {
        return Err(FilterError("a quote \" is not closed".to_string()));
    }
    if started {
        out.push(cur);
    }
    Ok(out)
}

fn plain(chars: &[Marked]) -> String {
    chars.iter().map(|&(c, _)| c).collect()
}

fn shown(chars: &[Marked]) -> String {
    one_line(&plain(chars), SHOWN).into_owned()
}

/// Parses one term (quotes already removed).
fn term(raw: &[Marked]) -> Result<Term, FilterError> {
    let (negated, body) = match raw.split_first() {
        Some((('!', false), rest)) => (true, rest),
        _ => (false, raw),
    };
    if negated && body.is_empty() {
        return Err(FilterError(
            "! needs a term after it, e.g. !user:repl".to_string(),
        ));
    }
    if negated && body.first() == Some(&('!', false)) {
        return Err(FilterError(format!("one ! is enough: {}", shown(raw))));
    }
    // A name is a run of unquoted ASCII letters right before an unquoted
    // `:`, `<` or `>`; anything else is a plain word (`10.0.0.1:3306`).
    let name_len = body
        .iter()
        .take_while(|&&(c, q)| !q && c.is_ascii_alphabetic())
        .count();
    let name: String = body[..name_len].iter().map(|&(c, _)| c).collect();
    let rest = &body[name_len..];
    let test = match rest.first() {
        Some((':', false)) if name_len > 0 => field_test(&name, &rest[1..])?,
        Some(('<' | '>', false)) if name.eq_ignore_ascii_case("time") => time_test(rest)?,
        _ => Test::Word(plain(body).to_ascii_lowercase()),
    };
    Ok(Term { negated, test })
}

fn field_test(name: &str, value: &[Marked]) -> Result<Test, FilterError> {
    let lower = name.to_ascii_lowercase();
    if lower == "time" {
        return Err(FilterError(
            "time takes > or <, e.g. time>30s or time<5m".to_string(),
        ));
    }
    let value_text = plain(value);
    if lower == "id" {
        return value_text.parse::<u64>().map(Test::Id).map_err(|_| {
            FilterError(format!(
                "id: needs a session id (a number), not {:?}",
                one_line(&value_text, SHOWN)
            ))
        });
    }
    let Some(field) = Field::named(&lower) else {
        return Err(FilterError(format!(
            "unknown field {:?} (fields: {FIELDS})",
            one_line(name, 20)
        )));
    };
    if value.is_empty() {
        return Err(FilterError(format!(
            "{lower}: needs a pattern, e.g. {lower}:app*"
        )));
    }
    Ok(Test::Field(field, pattern(&value_text)?))
}

/// A shell pattern as `--match-user` reads it; runs of `*` count as one (the
/// glob library refuses `**` outside paths, and one star means the same).
fn pattern(text: &str) -> Result<Pattern, FilterError> {
    let mut collapsed = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == '*' && collapsed.ends_with('*')) {
            collapsed.push(c);
        }
    }
    Pattern::new(&collapsed).map_err(|e| {
        FilterError(format!(
            "bad pattern {:?}: {}",
            one_line(text, SHOWN),
            e.msg
        ))
    })
}

fn time_test(rest: &[Marked]) -> Result<Test, FilterError> {
    let (cmp, value) = match rest {
        [('>', _), ('=', false), v @ ..] => (Cmp::AtLeast, v),
        [('<', _), ('=', false), v @ ..] => (Cmp::AtMost, v),
        [('>', _), v @ ..] => (Cmp::Over, v),
        [('<', _), v @ ..] => (Cmp::Under, v),
        _ => return Err(FilterError("time takes > or <".to_string())),
    };
    let text = plain(value);
    let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().ok().map(Duration::from_secs)
    } else {
        humantime::parse_duration(&text).ok()
    };
    let bound = parsed.ok_or_else(|| {
        FilterError(format!(
            "time needs a duration like 30s, 5m or 1h, not {:?}",
            one_line(&text, SHOWN)
        ))
    })?;
    if bound > MAX_TIME {
        return Err(FilterError(format!(
            "time bound {:?} is too large",
            one_line(&text, SHOWN)
        )));
    }
    // At most 100 years: fits u64 milliseconds.
    let ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
    Ok(Test::Time(cmp, ms))
}

/// ASCII-case-insensitive substring test without allocating; `needle` is lowercase.
fn contains_lower(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The decimal digits of `n`, in `buf`.
fn digits(n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

impl Test {
    fn holds(&self, s: &Session) -> bool {
        match self {
            Test::Word(w) => {
                let mut buf = [0u8; 20];
                contains_lower(digits(s.id, &mut buf), w)
                    || contains_lower(&s.user, w)
                    || contains_lower(&s.host, w)
                    || s.db.as_deref().is_some_and(|d| contains_lower(d, w))
                    || contains_lower(&s.command, w)
                    || contains_lower(&s.state, w)
                    || s.info.as_deref().is_some_and(|q| contains_lower(q, w))
            }
            Test::Field(field, p) => {
                let opts = MatchOptions {
                    case_sensitive: field.case_sensitive(),
                    require_literal_separator: false,
                    require_literal_leading_dot: false,
                };
                let m = |v: &str| p.matches_with(v, opts);
                match field {
                    Field::User => m(&s.user),
                    Field::Host => m(s.client_host()) || m(&s.host),
                    Field::Db => s.db.as_deref().is_some_and(m),
                    Field::Command => m(&s.command),
                    Field::State => m(&s.state),
                    Field::Info => s.info.as_deref().is_some_and(m),
                }
            }
            Test::Id(id) => s.id == *id,
            Test::Time(cmp, ms) => match cmp {
                Cmp::Over => s.time_ms > *ms,
                Cmp::AtLeast => s.time_ms >= *ms,
                Cmp::Under => s.time_ms < *ms,
                Cmp::AtMost => s.time_ms <= *ms,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn s(id: u64, user: &str, host: &str, db: Option<&str>, cmd: &str, secs: u64) -> Session {
        Session {
            id,
            user: user.into(),
            host: host.into(),
            db: db.map(str::to_string),
            command: cmd.into(),
            time_ms: secs * 1000,
            ..Session::default()
        }
    }

    /// The sessions of the examples: ids 1..=6.
    fn list() -> Vec<Session> {
        let mut v = vec![
            s(1, "app", "10.0.0.7:5120", Some("shop"), "Sleep", 40),
            s(2, "app", "10.0.1.9:6001", Some("appdb"), "Query", 3),
            s(3, "repl", "10.0.0.8:4000", None, "Binlog Dump", 9000),
            s(4, "web", "web-1.example:777", Some("shop"), "Query", 400),
            s(5, "reporting", "localhost", Some("appdb"), "Sleep", 10),
            s(6, "App", "10.0.0.9:1", Some("Shop"), "sleep", 31),
        ];
        v[1].state = "Sending data".into();
        v[1].info = Some("SELECT * FROM orders WHERE id = 7".into());
        v[3].state = "Creating sort index".into();
        v[3].info = Some("select name:value from t".into());
        v
    }

    fn ids(expr: &str) -> Vec<u64> {
        let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        list()
            .iter()
            .filter(|s| f.matches(s))
            .map(|s| s.id)
            .collect()
    }

    fn err(expr: &str) -> String {
        match Filter::parse(expr) {
            Ok(f) => panic!("{expr:?} parsed: {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_matches_everything() {
        for e in ["", "   ", "\t\n"] {
            assert_eq!(ids(e), vec![1, 2, 3, 4, 5, 6], "{e:?}");
            assert!(Filter::parse(e).is_ok_and(|f| f.is_empty()));
        }
        assert!(Filter::default().matches(&Session::default()));
    }

    #[test]
    fn words_search_every_field_ignoring_case() {
        assert_eq!(ids("app"), vec![1, 2, 5, 6], "user and db appdb");
        assert_eq!(ids("ORDERS"), vec![2], "statement");
        assert_eq!(ids("sort"), vec![4], "state");
        assert_eq!(ids("binlog"), vec![3], "command");
        assert_eq!(ids("web-1"), vec![4], "host");
        assert_eq!(ids("localhost"), vec![5]);
        assert_eq!(ids("6"), vec![2, 6], "id 6 and host port 6001");
        assert_eq!(
            ids("10.0.0.7:5120"),
            vec![1],
            "a colon after digits is a word"
        );
        assert_eq!(ids("app shop"), vec![1, 6], "words AND together");
        assert_eq!(ids("nothing-like-this"), Vec::<u64>::new());
    }

    #[test]
    fn field_patterns_match_the_whole_value() {
        // The issue: `/app` matched the `appdb` database; `user:app` does not.
        assert_eq!(ids("user:app"), vec![1, 2]);
        assert_eq!(ids("user:App"), vec![6], "users are case-sensitive");
        assert_eq!(ids("user:rep*"), vec![3, 5]);
        assert_eq!(ids("user:re?l"), vec![3]);
        assert_eq!(ids("user:[aw]*"), vec![1, 2, 4]);
        assert_eq!(ids("user:[!a]*"), vec![3, 4, 5, 6]);
        assert_eq!(ids("host:10.0.*"), vec![1, 2, 3, 6], "port stripped");
        assert_eq!(ids("host:10.0.0.7"), vec![1]);
        assert_eq!(ids("host:10.0.0.7:5120"), vec![1], "or host:port");
        assert_eq!(ids("host:localhost"), vec![5]);
        assert_eq!(ids("db:shop"), vec![1, 4]);
        assert_eq!(ids("db:*"), vec![1, 2, 4, 5, 6], "no db matches no pattern");
        assert_eq!(ids("!db:*"), vec![3], "sessions without a db");
        assert_eq!(ids("cmd:Sleep"), vec![1, 5, 6], "commands ignore case");
        assert_eq!(ids("command:query"), vec![2, 4]);
        assert_eq!(ids("state:sending*"), vec![2]);
        assert_eq!(ids("info:select*"), vec![2, 4], "statements ignore case");
        assert_eq!(ids("query:*orders*"), vec![2]);
        assert_eq!(ids("info:*name:value*"), vec![4], "a colon inside a value");
        assert_eq!(ids("USER:app"), vec![1, 2], "field names ignore case");
        assert_eq!(ids("user:a***p"), vec![1, 2], "runs of stars are one star");
    }

    #[test]
    fn ids_and_times() {
        assert_eq!(ids("id:4"), vec![4]);
        assert_eq!(ids("!id:4"), vec![1, 2, 3, 5, 6]);
        assert_eq!(ids("time>30s"), vec![1, 3, 4, 6]);
        assert_eq!(ids("time>40s"), vec![3, 4], "strictly over");
        assert_eq!(ids("time>=40s"), vec![1, 3, 4]);
        assert_eq!(ids("time<5m"), vec![1, 2, 5, 6]);
        assert_eq!(ids("time<=10"), vec![2, 5], "a bare number is seconds");
        assert_eq!(ids("time>1m time<2h"), vec![4]);
        assert_eq!(ids("TIME>1h30m"), vec![3]);
        assert_eq!(ids("!time>30s"), vec![2, 5]);
    }

    #[test]
    fn the_example_of_the_readme() {
        let e = "user:app host:10.0.* db:shop cmd:Sleep !user:repl time>30s";
        assert_eq!(ids(e), vec![1]);
        let f = Filter::parse(&format!("  {e} ")).unwrap();
        assert_eq!(f.as_str(), e);
        assert_eq!(f.to_string(), e);
        assert_eq!(e.parse::<Filter>().unwrap(), f);
    }

    #[test]
    fn negation_and_quotes() {
        assert_eq!(ids("!app"), vec![3, 4]);
        assert_eq!(ids("!user:app !user:App"), vec![3, 4, 5]);
        assert_eq!(ids("\"sending data\""), vec![2], "quotes keep spaces");
        assert_eq!(ids("state:\"Creating sort*\""), vec![4]);
        assert_eq!(ids("\"name:value\""), vec![4], "a quoted colon is text");
        assert_eq!(
            ids("\"user:app\""),
            Vec::<u64>::new(),
            "a quoted field is a word"
        );
        assert_eq!(ids("\"!app\""), Vec::<u64>::new(), "a quoted ! is text");
        assert_eq!(ids("\"time>3\""), Vec::<u64>::new());
        assert_eq!(ids("\"\""), vec![1, 2, 3, 4, 5, 6], "an empty word");
        let mut quoted = list();
        quoted[0].info = Some(r#"SELECT "a\b""#.into());
        let f = Filter::parse(r#"info:*\"a\\b\"*"#).unwrap();
        assert!(f.matches(&quoted[0]));
        assert!(!f.matches(&quoted[1]));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(err("user:").contains("user: needs a pattern"));
        assert!(err("!").contains("! needs a term"));
        assert!(err("app !").contains("! needs a term"));
        assert!(err("!!user:x").contains("one !"));
        assert!(err("usr:app").contains("unknown field \"usr\""));
        assert!(err("usr:app").contains("user host db"));
        assert!(err("http://x").contains("unknown field \"http\""));
        assert!(err("id:abc").contains("id: needs a session id"));
        assert!(err("id:-1").contains("id:"));
        assert!(err("time:30s").contains("time takes > or <"));
        assert!(err("time>").contains("time needs a duration"));
        assert!(err("time>soon").contains("\"soon\""));
        assert!(err("time<5parsecs").contains("time needs a duration"));
        assert!(err("time>99999999999999999999").contains("time needs a duration"));
        assert!(err("time>200years").contains("too large"));
        assert!(err("user:[").contains("bad pattern \"[\""));
        assert!(err("user:\"app").contains("quote"));
    }

    #[test]
    fn hostile_input_is_refused_or_bounded() {
        // Too long, too many terms: refused, with a short message.
        let long = "a".repeat(MAX_CHARS + 1);
        assert!(err(&long).contains("longer than"));
        let many = vec!["a"; MAX_TERMS + 1].join(" ");
        assert!(err(&many).contains("more than"));
        assert!(Filter::parse(&vec!["a"; MAX_TERMS].join(" ")).is_ok());
        // Escapes and controls in errors come out inert and short.
        let e = err(&format!("id:\u{1b}[2J{}", "z".repeat(500)));
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.chars().count() < 200, "{e}");
        let e = err(&format!("user:[\u{1b}{}", "\u{7}".repeat(300)));
        assert!(!e.contains('\u{1b}') && !e.contains('\u{7}'), "{e}");
        assert!(e.chars().count() < 200, "{e}");
        // The worst patterns against the longest statements: fast.
        let mut big = list();
        big[0].info = Some("a".repeat(crate::snapshot::MAX_INFO_BYTES));
        big[1].info = Some("ab".repeat(crate::snapshot::MAX_INFO_BYTES / 2));
        let worst = [
            "info:".to_string() + &"*a".repeat(150) + "*b",
            "info:".to_string() + &"*?".repeat(150) + "*c",
            "info:".to_string() + &"*[ab]".repeat(100) + "*c",
            "a".repeat(MAX_CHARS),
        ];
        for w in worst {
            let f = Filter::parse(&w).expect("parses");
            let start = Instant::now();
            for s in &big {
                let _ = f.matches(s);
            }
            assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
        }
    }

    #[test]
    fn any_text_parses_or_errs_without_panicking() {
        // A small deterministic generator over the characters that matter.
        let alphabet: Vec<char> = "ab:!<>=\"\\*?[]-^ tuseridmqyfohn0123456789\u{e9}\u{1b}\u{300}"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let session = &list()[1];
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let text: String = (0..len)
                .map(|i| alphabet[((seed >> (i % 8 * 8)) as usize + i) % alphabet.len()])
                .collect();
            if let Ok(f) = Filter::parse(&text) {
                let _ = f.matches(session);
            }
        }
    }

    #[test]
    fn digits_of_ids() {
        let mut buf = [0u8; 20];
        assert_eq!(digits(0, &mut buf), "0");
        assert_eq!(digits(907, &mut buf), "907");
        assert_eq!(digits(u64::MAX, &mut buf), "18446744073709551615");
    }
}
