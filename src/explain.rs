//! Why a long statement is slow: the plan the server is running it with
//! (`SHOW EXPLAIN FOR id` on MariaDB, `EXPLAIN FOR CONNECTION id` on MySQL),
//! as plain data, with the traits a DBA looks for picked out: full scans,
//! filesorts, temporary tables. Pure: the source reads the rows, the UI
//! draws them.

/// One row of a plan (one table access).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanRow {
    pub id: Option<u64>,
    pub select_type: String,
    pub table: String,
    /// The access type: `ALL`, `index`, `range`, `ref`, `eq_ref`, `const`, ...
    pub access: String,
    pub possible_keys: Option<String>,
    pub key: Option<String>,
    /// Rows the optimizer expects to examine.
    pub rows: Option<u64>,
    pub extra: String,
}

/// What the server said about a session's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explained {
    /// The plan it runs with.
    Plan(Vec<PlanRow>),
    /// There is none, and why, in one line (idle, finished, not a
    /// statement with a plan).
    NoPlan(String),
}

/// A trait of a plan that makes a statement slow, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trait {
    /// Reads every row of a table (`type = ALL`).
    FullScan,
    /// Reads a whole index (`type = index`).
    FullIndexScan,
    /// Re-checks a range for every row of the previous table.
    RangeCheckedPerRow,
    /// Sorts the rows itself (`Using filesort`).
    Filesort,
    /// Builds a temporary table (`Using temporary`).
    Temporary,
    /// Joins through a join buffer: no usable index on the joined table.
    JoinBuffer,
}

impl Trait {
    /// Short words for the trait.
    pub fn describe(self) -> &'static str {
        match self {
            Trait::FullScan => "full table scan",
            Trait::FullIndexScan => "full index scan",
            Trait::RangeCheckedPerRow => "range re-checked for every row",
            Trait::Filesort => "filesort",
            Trait::Temporary => "temporary table",
            Trait::JoinBuffer => "join without an index (join buffer)",
        }
    }
}

/// A trait found on a table, with the rows it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub what: Trait,
    pub table: String,
    pub rows: Option<u64>,
}

impl Warning {
    /// `full table scan on orders (4001 rows)`.
    pub fn describe(&self) -> String {
        let mut s = self.what.describe().to_string();
        if !self.table.is_empty() {
            s.push_str(&format!(" on {}", self.table));
        }
        if let Some(rows) = self.rows {
            s.push_str(&format!(" ({rows} rows)"));
        }
        s
    }
}

/// Scans of tables expected to read fewer rows than this are not worth a
/// warning (a lookup table of a few rows).
pub const SMALL_SCAN_ROWS: u64 = 100;

/// The warnings of a plan, worst first (then the most rows first).
pub fn warnings(rows: &[PlanRow]) -> Vec<Warning> {
    let mut out = Vec::new();
    for r in rows {
        let big = r.rows.is_none_or(|n| n >= SMALL_SCAN_ROWS);
        let mut push = |what| {
            out.push(Warning {
                what,
                table: r.table.clone(),
                rows: r.rows,
            })
        };
        match r.access.to_ascii_uppercase().as_str() {
            "ALL" if big => push(Trait::FullScan),
            "INDEX" if big => push(Trait::FullIndexScan),
            _ => {}
        }
        let extra = r.extra.to_ascii_lowercase();
        if extra.contains("range checked for each record") {
            push(Trait::RangeCheckedPerRow);
        }
        if extra.contains("using filesort") {
            push(Trait::Filesort);
        }
        if extra.contains("using temporary") {
            push(Trait::Temporary);
        }
        if extra.contains("join buffer") {
            push(Trait::JoinBuffer);
        }
    }
    out.sort_by(|a, b| a.what.cmp(&b.what).then(b.rows.cmp(&a.rows)));
    out
}

/// The worst trait of a plan, in words, if it has one.
pub fn worst(rows: &[PlanRow]) -> Option<String> {
    warnings(rows).first().map(Warning::describe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: &str, access: &str, rows: u64, extra: &str) -> PlanRow {
        PlanRow {
            id: Some(1),
            select_type: "SIMPLE".into(),
            table: table.into(),
            access: access.into(),
            rows: Some(rows),
            extra: extra.into(),
            ..PlanRow::default()
        }
    }

    #[test]
    fn picks_out_what_makes_it_slow() {
        // Recorded from MariaDB 10.11: SELECT v, SLEEP(0.01) FROM big WHERE v = 'x'.
        let plan = [row("big", "ALL", 4001, "Using where")];
        assert_eq!(
            worst(&plan).as_deref(),
            Some("full table scan on big (4001 rows)")
        );
        let plan = [
            row(
                "o",
                "index",
                90_000,
                "Using index; Using temporary; Using filesort",
            ),
            row(
                "c",
                "ALL",
                50,
                "Using where; Using join buffer (flat, BNL join)",
            ),
        ];
        let w: Vec<Trait> = warnings(&plan).iter().map(|w| w.what).collect();
        assert_eq!(
            w,
            [
                Trait::FullIndexScan,
                Trait::Filesort,
                Trait::Temporary,
                Trait::JoinBuffer
            ],
            "a 50-row scan is no warning"
        );
        assert_eq!(worst(&[row("t", "eq_ref", 1, "")]), None);
        assert_eq!(worst(&[]), None);
        let unknown = PlanRow {
            access: "ALL".into(),
            ..PlanRow::default()
        };
        assert_eq!(worst(&[unknown]).as_deref(), Some("full table scan"));
    }
}
