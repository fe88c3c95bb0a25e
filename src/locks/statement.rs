//! What a statement does to locks, and the tables it names, read from the
//! processlist's text (the first 100 characters: a table named past that is
//! not known). A small tokenizer, not a SQL parser: it skips comments and
//! quotes, and knows where each verb names its table.

use super::qualify;

/// What a statement does, as far as locks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// A plain `SELECT` (shared metadata lock, no row locks).
    Select,
    /// `SELECT ... FOR UPDATE / LOCK IN SHARE MODE / FOR SHARE`.
    LockingSelect,
    /// `INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `LOAD DATA`.
    Write,
    /// `ALTER`, `DROP`, `TRUNCATE`, `RENAME`, `CREATE INDEX`, `OPTIMIZE`,
    /// `REPAIR`, `ANALYZE`: they need the exclusive metadata lock.
    Ddl,
    /// `LOCK TABLES` / `LOCK TABLE`.
    LockTables,
    /// `FLUSH TABLES ... WITH READ LOCK` (and MySQL's `LOCK INSTANCE FOR
    /// BACKUP`).
    Ftwrl,
    /// A plain `FLUSH TABLES`.
    Flush,
    /// MariaDB's `BACKUP STAGE` (any stage but `END`).
    BackupStage,
    /// `UNLOCK TABLES`, `UNLOCK INSTANCE`, `BACKUP STAGE END`: locks held
    /// past the statement are released.
    Unlock,
    /// `START TRANSACTION` / `BEGIN`: releases `LOCK TABLES` (not a global
    /// read lock).
    Begin,
    /// Anything else.
    Other,
}

impl Verb {
    /// True for statements that queue for the exclusive metadata lock (so
    /// that statements after them queue behind them).
    pub fn wants_exclusive(self) -> bool {
        matches!(self, Verb::Ddl | Verb::LockTables)
    }

    /// True for statements that need the backup lock / global read lock
    /// against writes: they block `FLUSH TABLES WITH READ LOCK` on MariaDB.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Verb::LockingSelect | Verb::Write | Verb::Ddl | Verb::LockTables
        )
    }
}

/// A statement read for locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub verb: Verb,
    /// Tables named, `db.table` when the schema is known (from the text or
    /// the session's database); the main one first.
    pub tables: Vec<String>,
}

impl Statement {
    /// The main table, if one was read.
    pub fn table(&self) -> Option<&str> {
        self.tables.first().map(String::as_str)
    }

    /// True when the statement names `object` (see [`super::same_object`]).
    pub fn names(&self, object: &str) -> bool {
        self.tables.iter().any(|t| super::same_object(t, object))
    }
}

/// Tables read from `LOCK TABLES` at most.
const MAX_TABLES: usize = 16;

/// A word of the statement: keyword or identifier, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word (keyword or identifier), with dots: `appdb.t`.
    Word(String),
    /// A backquoted identifier part joined with its neighbours: `` `a`.`b` ``.
    Quoted(String),
    /// One punctuation character: `(`, `,`, `;`, `=`.
    Punct(char),
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The identifier this token can be (words that are keywords are not).
    fn ident(&self) -> Option<&str> {
        match self {
            Token::Quoted(s) => Some(s),
            Token::Word(w) if !is_reserved(w) => Some(w),
            _ => None,
        }
    }
}

/// Words that end a table list or cannot be a table name here.
fn is_reserved(word: &str) -> bool {
    const WORDS: [&str; 24] = [
        "SELECT",
        "FROM",
        "WHERE",
        "SET",
        "VALUES",
        "VALUE",
        "AS",
        "ON",
        "USING",
        "JOIN",
        "LEFT",
        "RIGHT",
        "INNER",
        "STRAIGHT_JOIN",
        "GROUP",
        "ORDER",
        "LIMIT",
        "READ",
        "WRITE",
        "LOCAL",
        "LOW_PRIORITY",
        "WITH",
        "PARTITION",
        "INTO",
    ];
    WORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Splits `text` into tokens, skipping comments, strings and numbers; at
/// most `max` tokens.
fn tokens(text: &str, max: usize) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    // A `.` right after an identifier joins the next part to it.
    let mut join = false;
    while i < b.len() && out.len() < max {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                join = false;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, i + 2, b"*/").map_or(b.len(), |e| e + 2);
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = find(b, i, b"\n").map_or(b.len(), |e| e + 1);
            }
            b'#' => i = find(b, i, b"\n").map_or(b.len(), |e| e + 1),
            b'\'' | b'"' => {
                // Strings: skipped whole (a doubled quote stays inside).
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == c {
                        if b.get(j + 1) == Some(&c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                i = j + 1;
                join = false;
            }
            b'`' => {
                let end = find(b, i + 1, b"`").unwrap_or(b.len());
                let part = String::from_utf8_lossy(&b[i + 1..end]).into_owned();
                push_part(&mut out, part, join, true);
                i = end + 1;
                join = false;
                if b.get(i) == Some(&b'.') {
                    join = true;
                    i += 1;
                }
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let mut j = i;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric()
                        || b[j] == b'_'
                        || b[j] == b'$'
                        || b[j] >= 0x80)
                {
                    j += 1;
                }
                let part = String::from_utf8_lossy(&b[i..j]).into_owned();
                push_part(&mut out, part, join, false);
                i = j;
                join = false;
                if b.get(i) == Some(&b'.') {
                    join = true;
                    i += 1;
                }
            }
            _ => {
                out.push(Token::Punct(char::from(c)));
                join = false;
                i += 1;
            }
        }
    }
    out
}

/// Adds an identifier part: joined to the previous token after a `.`.
fn push_part(out: &mut Vec<Token>, part: String, join: bool, quoted: bool) {
    if join {
        if let Some(last) = out.last_mut() {
            let joined = match last {
                Token::Word(w) | Token::Quoted(w) => format!("{w}.{part}"),
                Token::Punct(_) => part.clone(),
            };
            *last = Token::Quoted(joined);
            return;
        }
    }
    out.push(if quoted {
        Token::Quoted(part)
    } else {
        Token::Word(part)
    });
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Reads `text`, run with default database `db`.
pub fn parse(text: &str, db: Option<&str>) -> Statement {
    let t = tokens(text, 200);
    let mut words = t.iter().skip_while(|t| matches!(t, Token::Punct('(')));
    let first = words.next();
    let second = words.next();
    let upper = |t: Option<&Token>| match t {
        Some(Token::Word(w)) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    let (w1, w2) = (upper(first), upper(second));
    let verb = match w1.as_str() {
        "SELECT" | "WITH" => {
            if has_seq(&t, &["FOR", "UPDATE"])
                || has_seq(&t, &["LOCK", "IN", "SHARE", "MODE"])
                || has_seq(&t, &["FOR", "SHARE"])
            {
                Verb::LockingSelect
            } else {
                Verb::Select
            }
        }
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "LOAD" => Verb::Write,
        "ALTER" | "DROP" | "TRUNCATE" | "RENAME" | "OPTIMIZE" | "REPAIR" | "ANALYZE" => Verb::Ddl,
        "CREATE" if has_word(&t, "INDEX") => Verb::Ddl,
        "LOCK" if w2 == "TABLES" || w2 == "TABLE" => Verb::LockTables,
        "LOCK" if w2 == "INSTANCE" => Verb::Ftwrl,
        "FLUSH" if has_seq(&t, &["WITH", "READ", "LOCK"]) => Verb::Ftwrl,
        "FLUSH" if w2 == "TABLES" || w2 == "TABLE" => Verb::Flush,
        "UNLOCK" => Verb::Unlock,
        "BACKUP" if has_word(&t, "END") => Verb::Unlock,
        "BACKUP" => Verb::BackupStage,
        "BEGIN" => Verb::Begin,
        "START" if w2 == "TRANSACTION" => Verb::Begin,
        _ => Verb::Other,
    };
    let tables = match verb {
        Verb::Select | Verb::LockingSelect => after(&t, "FROM").into_iter().collect(),
        Verb::Write => match w1.as_str() {
            "INSERT" | "REPLACE" => {
                first_ident_after_verb(&t, 1, &["INTO", "IGNORE", "DELAYED", "HIGH_PRIORITY"])
            }
            "UPDATE" => first_ident_after_verb(&t, 1, &["IGNORE"]),
            "DELETE" => after(&t, "FROM").into_iter().collect(),
            _ => after(&t, "INTO").into_iter().collect(),
        },
        Verb::Ddl => match w1.as_str() {
            "CREATE" | "DROP" if has_word(&t, "INDEX") => after(&t, "ON").into_iter().collect(),
            "TRUNCATE" => first_ident_after_verb(&t, 1, &["TABLE"]),
            _ => after(&t, "TABLE").into_iter().collect(),
        },
        Verb::LockTables => lock_tables_list(&t),
        Verb::Flush | Verb::Ftwrl => table_list_after(&t, 2),
        _ => Vec::new(),
    };
    Statement {
        verb,
        tables: tables.into_iter().map(|n| qualify(&n, db)).collect(),
    }
}

fn has_word(t: &[Token], word: &str) -> bool {
    t.iter().any(|x| x.is(word))
}

fn has_seq(t: &[Token], seq: &[&str]) -> bool {
    t.windows(seq.len())
        .any(|w| w.iter().zip(seq).all(|(tok, k)| tok.is(k)))
}

/// The identifier after the first `keyword` (skipping `IF EXISTS`-style
/// words and modifiers), if the next token is one.
fn after(t: &[Token], keyword: &str) -> Option<String> {
    let pos = t.iter().position(|x| x.is(keyword))?;
    t[pos + 1..]
        .iter()
        .find(|x| !is_modifier(x))
        .and_then(Token::ident)
        .map(str::to_string)
}

/// Words between a verb and its table.
fn is_modifier(t: &Token) -> bool {
    const WORDS: [&str; 10] = [
        "IF",
        "EXISTS",
        "NOT",
        "ONLINE",
        "IGNORE",
        "LOW_PRIORITY",
        "QUICK",
        "NO_WRITE_TO_BINLOG",
        "LOCAL",
        "TEMPORARY",
    ];
    WORDS.iter().any(|k| t.is(k))
}

/// The first identifier after token `from`, skipping the words in `skip` and
/// the usual modifiers.
fn first_ident_after_verb(t: &[Token], from: usize, skip: &[&str]) -> Vec<String> {
    t.iter()
        .skip_while(|x| matches!(x, Token::Punct('(')))
        .skip(from)
        .find(|x| !is_modifier(x) && !skip.iter().any(|k| x.is(k)))
        .and_then(Token::ident)
        .map(|s| vec![s.to_string()])
        .unwrap_or_default()
}

/// `LOCK TABLES a READ, b AS x WRITE, ...`: every table.
fn lock_tables_list(t: &[Token]) -> Vec<String> {
    let mut out = Vec::new();
    let mut expect_table = true;
    for tok in t.iter().skip(2) {
        match tok {
            Token::Punct(',') => expect_table = true,
            _ if expect_table => {
                if let Some(name) = tok.ident() {
                    out.push(name.to_string());
                    if out.len() >= MAX_TABLES {
                        break;
                    }
                }
                expect_table = false;
            }
            _ => {}
        }
    }
    out
}

/// `FLUSH TABLES a, b WITH READ LOCK`: the tables named after token `from`.
fn table_list_after(t: &[Token], from: usize) -> Vec<String> {
    let mut out = Vec::new();
    for tok in t.iter().skip(from) {
        match tok {
            Token::Punct(',') => {}
            _ if tok.is("WITH") || tok.is("FOR") => break,
            _ => match tok.ident() {
                Some(name) if out.len() < MAX_TABLES => out.push(name.to_string()),
                _ => break,
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (Verb, Vec<String>) {
        let s = parse(text, Some("appdb"));
        (s.verb, s.tables)
    }

    fn v(tables: &[&str]) -> Vec<String> {
        tables.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selects_and_writes_name_their_table() {
        assert_eq!(p("SELECT * FROM t"), (Verb::Select, v(&["appdb.t"])));
        assert_eq!(
            p("select a, b from `shop`.`orders` o where id = 1"),
            (Verb::Select, v(&["shop.orders"]))
        );
        assert_eq!(
            p("SELECT * FROM t WHERE id = 3 FOR UPDATE"),
            (Verb::LockingSelect, v(&["appdb.t"]))
        );
        assert_eq!(
            p("SELECT * FROM t LOCK IN SHARE MODE").0,
            Verb::LockingSelect
        );
        assert_eq!(p("SELECT SLEEP(100)"), (Verb::Select, v(&[])));
        assert_eq!(
            p("INSERT INTO appdb.e1 VALUES (1)"),
            (Verb::Write, v(&["appdb.e1"]))
        );
        assert_eq!(
            p("INSERT IGNORE INTO t (a) VALUES (1)"),
            (Verb::Write, v(&["appdb.t"]))
        );
        assert_eq!(
            p("UPDATE LOW_PRIORITY t SET n = n + 1 WHERE id = 1"),
            (Verb::Write, v(&["appdb.t"]))
        );
        assert_eq!(
            p("DELETE QUICK FROM t WHERE id = 1"),
            (Verb::Write, v(&["appdb.t"]))
        );
        assert_eq!(p("REPLACE t VALUES (1)"), (Verb::Write, v(&["appdb.t"])));
        assert_eq!(
            p("/* app:42 */ SELECT 1 FROM `weird name`"),
            (Verb::Select, v(&["appdb.weird name"]))
        );
        assert_eq!(
            p("(SELECT a FROM t) UNION (SELECT a FROM u)"),
            (Verb::Select, v(&["appdb.t"]))
        );
    }

    #[test]
    fn ddl_and_lock_statements() {
        assert_eq!(
            p("ALTER TABLE t ADD COLUMN c INT"),
            (Verb::Ddl, v(&["appdb.t"]))
        );
        assert_eq!(
            p("ALTER ONLINE TABLE x.t ENGINE=InnoDB"),
            (Verb::Ddl, v(&["x.t"]))
        );
        assert_eq!(p("DROP TABLE IF EXISTS t"), (Verb::Ddl, v(&["appdb.t"])));
        assert_eq!(p("TRUNCATE TABLE t"), (Verb::Ddl, v(&["appdb.t"])));
        assert_eq!(p("TRUNCATE t"), (Verb::Ddl, v(&["appdb.t"])));
        assert_eq!(p("CREATE INDEX k ON t (a)"), (Verb::Ddl, v(&["appdb.t"])));
        assert_eq!(
            p("OPTIMIZE NO_WRITE_TO_BINLOG TABLE t"),
            (Verb::Ddl, v(&["appdb.t"]))
        );
        assert_eq!(p("CREATE TABLE x (a INT)").0, Verb::Other);
        assert_eq!(
            p("LOCK TABLES t WRITE, u AS uu READ, `d`.`v` READ LOCAL"),
            (Verb::LockTables, v(&["appdb.t", "appdb.u", "d.v"]))
        );
        assert_eq!(p("FLUSH TABLES WITH READ LOCK"), (Verb::Ftwrl, v(&[])));
        assert_eq!(
            p("flush tables t, u with read lock"),
            (Verb::Ftwrl, v(&["appdb.t", "appdb.u"]))
        );
        assert_eq!(p("FLUSH TABLES"), (Verb::Flush, v(&[])));
        assert_eq!(p("LOCK INSTANCE FOR BACKUP").0, Verb::Ftwrl);
        assert_eq!(p("UNLOCK TABLES").0, Verb::Unlock);
        assert_eq!(p("BACKUP STAGE START").0, Verb::BackupStage);
        assert_eq!(p("BACKUP STAGE END").0, Verb::Unlock);
        assert_eq!(p("START TRANSACTION").0, Verb::Begin);
        assert_eq!(p("begin").0, Verb::Begin);
    }

    #[test]
    fn hostile_and_cut_text() {
        assert_eq!(p(""), (Verb::Other, v(&[])));
        assert_eq!(p("SELECT 'FROM x' FROM t"), (Verb::Select, v(&["appdb.t"])));
        assert_eq!(p("SELECT a, b, c, d FR"), (Verb::Select, v(&[])));
        assert_eq!(p("UPDATE"), (Verb::Write, v(&[])));
        assert_eq!(p("SELECT * FROM (SELECT 1) x").1, v(&[]));
        assert_eq!(p("`unterminated").0, Verb::Other);
        assert_eq!(p("/* never closed").0, Verb::Other);
        let s = parse("SELECT * FROM t", None);
        assert_eq!(s.table(), Some("t"));
        assert!(s.names("appdb.t"));
        assert!(!parse("SELECT 1", None).names("t"));
        // Thousands of tokens do not cost more than the cap.
        let long = "SELECT ".to_string() + &"a, ".repeat(10_000) + "b FROM t";
        assert_eq!(parse(&long, None).verb, Verb::Select);
    }
}
