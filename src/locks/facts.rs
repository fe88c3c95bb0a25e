//! What the server's lock tables said in one tick, flavor-neutral, and which
//! metadata lock modes conflict.
//!
//! - Row lock waits: MariaDB (and MySQL 5.7) `information_schema.INNODB_LOCK_WAITS`
//!   with `INNODB_TRX`; MySQL 8 `performance_schema.data_lock_waits`.
//! - Metadata locks: `performance_schema.metadata_locks` (granted and
//!   pending), or MariaDB's `information_schema.METADATA_LOCK_INFO` plugin
//!   (granted only).
//!
//! The conflict rules are the server's (`mdl.cc`): a request waits for a
//! granted lock it is incompatible with, and for a pending lock of a stronger
//! request queued ahead of it. MariaDB's backup lock namespace is reduced to
//! "backup stages against work" (close enough to name who waits for whom).

/// One InnoDB row lock wait: `waiter` waits for a lock `holder` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWait {
    pub waiter: u64,
    pub holder: u64,
    /// `db.table` of the lock.
    pub object: Option<String>,
}

/// The namespace of a metadata lock (`OBJECT_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    Table,
    Schema,
    /// MySQL's global read lock.
    Global,
    /// MySQL's commit lock (taken by `FLUSH TABLES WITH READ LOCK`).
    Commit,
    /// MariaDB's backup lock (`FLUSH TABLES WITH READ LOCK`, `BACKUP STAGE`).
    Backup,
    /// Routines, triggers, events, user locks, tablespaces.
    Other,
}

impl Namespace {
    /// From `OBJECT_TYPE` (`TABLE`, `GLOBAL`, `BACKUP`, ...) or the plugin's
    /// `LOCK_TYPE` (`Table metadata lock`, `Backup lock`, ...).
    pub fn parse(text: &str) -> Namespace {
        let t = text.trim().to_ascii_uppercase();
        let t = t
            .trim_end_matches(" METADATA LOCK")
            .trim_end_matches(" LOCK");
        match t {
            "TABLE" => Namespace::Table,
            "SCHEMA" => Namespace::Schema,
            "GLOBAL" | "GLOBAL READ" => Namespace::Global,
            "COMMIT" => Namespace::Commit,
            "BACKUP" => Namespace::Backup,
            _ => Namespace::Other,
        }
    }
}

/// One metadata lock, granted or pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdlLock {
    /// The processlist id of the owner.
    pub session: u64,
    pub namespace: Namespace,
    /// `db.table` (or the schema, or `db.routine`); `None` for global locks.
    pub object: Option<String>,
    /// The mode without the `MDL_` prefix: `SHARED_READ`, `EXCLUSIVE`, ...
    pub mode: String,
    pub granted: bool,
}

/// Where the metadata locks came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MdlSource {
    /// Not read: no source on this server (or nobody waits for one).
    #[default]
    None,
    /// `performance_schema.metadata_locks`: granted and pending.
    PerformanceSchema,
    /// MariaDB's `METADATA_LOCK_INFO` plugin: granted only.
    Plugin,
}

impl MdlSource {
    /// The table's name, for the reasons given.
    pub fn table(self) -> &'static str {
        match self {
            MdlSource::None => "",
            MdlSource::PerformanceSchema => "performance_schema.metadata_locks",
            MdlSource::Plugin => "information_schema.METADATA_LOCK_INFO",
        }
    }
}

/// Everything the lock tables said in one tick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockFacts {
    /// Row lock waits, when they were read.
    pub rows: Vec<RowWait>,
    /// The table the row lock waits come from (`None` when not read).
    pub rows_from: Option<&'static str>,
    /// Metadata locks on contested objects.
    pub mdl: Vec<MdlLock>,
    pub mdl_source: MdlSource,
    /// Sessions whose InnoDB transaction is in `LOCK WAIT` (from the tick's
    /// first statement).
    pub lock_wait: Vec<u64>,
}

/// Table lock modes in `mdl.cc` order.
const MODES: [&str; 10] = [
    "SHARED",
    "SHARED_HIGH_PRIO",
    "SHARED_READ",
    "SHARED_WRITE",
    "SHARED_WRITE_LOW_PRIO",
    "SHARED_UPGRADABLE",
    "SHARED_READ_ONLY",
    "SHARED_NO_WRITE",
    "SHARED_NO_READ_WRITE",
    "EXCLUSIVE",
];

/// Bit of each mode in the conflict masks below (by position in [`MODES`]).
const fn bit(i: usize) -> u16 {
    1 << i
}
const S: u16 = bit(0);
const SH: u16 = bit(1);
const SR: u16 = bit(2);
const SW: u16 = bit(3);
const SWLP: u16 = bit(4);
const SU: u16 = bit(5);
const SRO: u16 = bit(6);
const SNW: u16 = bit(7);
const SNRW: u16 = bit(8);
const X: u16 = bit(9);
const ALL: u16 = S | SH | SR | SW | SWLP | SU | SRO | SNW | SNRW | X;

/// Per requested mode, the granted modes it waits for.
const GRANTED_CONFLICTS: [u16; 10] = [
    X,
    X,
    SNRW | X,
    SRO | SNW | SNRW | X,
    SRO | SNW | SNRW | X,
    SU | SNW | SNRW | X,
    SW | SWLP | SNRW | X,
    SW | SWLP | SU | SNW | SNRW | X,
    SR | SW | SWLP | SU | SRO | SNW | SNRW | X,
    ALL,
];

/// Per requested mode, the pending modes that go first.
const PENDING_CONFLICTS: [u16; 10] = [
    X,
    0,
    SNRW | X,
    SNW | SNRW | X,
    SRO | SNW | SNRW | X,
    X,
    SW | SNRW | X,
    X,
    X,
    0,
];

fn mode_index(mode: &str) -> Option<usize> {
    let m = mode.trim().trim_start_matches("MDL_");
    MODES.iter().position(|x| x.eq_ignore_ascii_case(m))
}

/// Scoped locks (global, commit, schema): `INTENTION_EXCLUSIVE`, `SHARED`,
/// `EXCLUSIVE`. Returns (granted conflict, pending goes first).
fn scoped(request: &str, other: &str) -> (bool, bool) {
    let r = request
        .trim()
        .trim_start_matches("MDL_")
        .to_ascii_uppercase();
    let o = other.trim().trim_start_matches("MDL_").to_ascii_uppercase();
    let granted = r == "EXCLUSIVE" || o == "EXCLUSIVE" || r != o;
    let pending = match r.as_str() {
        "INTENTION_EXCLUSIVE" => o == "SHARED" || o == "EXCLUSIVE",
        "SHARED" => o == "EXCLUSIVE",
        _ => false,
    };
    (granted, pending)
}

/// MariaDB backup lock modes, reduced: what a backup stage blocks.
fn backup_blocks(stage: &str, work: &str) -> bool {
    let s = stage.trim().trim_start_matches("MDL_").to_ascii_uppercase();
    let w = work.trim().trim_start_matches("MDL_").to_ascii_uppercase();
    let ddl = matches!(w.as_str(), "BACKUP_DDL" | "BACKUP_ALTER_COPY");
    let dml = ddl
        || matches!(
            w.as_str(),
            "BACKUP_DML" | "BACKUP_TRANS_DML" | "BACKUP_SYS_DML"
        );
    let commit = dml || w == "BACKUP_COMMIT";
    match s.as_str() {
        "BACKUP_FTWRL1" => dml,
        "BACKUP_FTWRL2" | "BACKUP_WAIT_COMMIT" => commit,
        "BACKUP_BLOCK_DDL" | "BACKUP_WAIT_DDL" => ddl,
        _ => false,
    }
}

/// True for MariaDB's backup lock modes (`BACKUP_...`).
fn is_backup_mode(mode: &str) -> bool {
    let m = mode.trim().trim_start_matches("MDL_");
    m.len() > 7 && m[..7].eq_ignore_ascii_case("BACKUP_")
}

/// True for the backup lock modes a backup takes (as opposed to work).
fn is_backup_stage(mode: &str) -> bool {
    let m = mode.trim().trim_start_matches("MDL_").to_ascii_uppercase();
    matches!(
        m.as_str(),
        "BACKUP_START"
            | "BACKUP_FLUSH"
            | "BACKUP_WAIT_FLUSH"
            | "BACKUP_WAIT_DDL"
            | "BACKUP_WAIT_COMMIT"
            | "BACKUP_FTWRL1"
            | "BACKUP_FTWRL2"
            | "BACKUP_BLOCK_DDL"
            | "BACKUP_END"
    )
}

/// True when `request` (pending) waits for `other`: another session's lock on
/// the same object that is granted and incompatible, or pending and ahead.
pub fn waits_for(request: &MdlLock, other: &MdlLock) -> bool {
    if request.session == other.session
        || request.namespace != other.namespace
        || !same(request.object.as_deref(), other.object.as_deref())
    {
        return false;
    }
    match request.namespace {
        Namespace::Table | Namespace::Other => {
            let (Some(r), Some(o)) = (mode_index(&request.mode), mode_index(&other.mode)) else {
                // Unknown modes (a newer server): an exclusive side conflicts.
                return request.mode.contains("EXCLUSIVE") || other.mode.contains("EXCLUSIVE");
            };
            let table = if other.granted {
                GRANTED_CONFLICTS
            } else {
                PENDING_CONFLICTS
            };
            table[r] & bit(o) != 0
        }
        Namespace::Global | Namespace::Commit | Namespace::Schema => {
            let (granted, pending) = scoped(&request.mode, &other.mode);
            if other.granted { granted } else { pending }
        }
        // MySQL's backup lock (`LOCK INSTANCE FOR BACKUP`) has scoped modes.
        Namespace::Backup if !is_backup_mode(&request.mode) || !is_backup_mode(&other.mode) => {
            let (granted, pending) = scoped(&request.mode, &other.mode);
            if other.granted { granted } else { pending }
        }
        Namespace::Backup => {
            let (r_stage, o_stage) = (is_backup_stage(&request.mode), is_backup_stage(&other.mode));
            match (r_stage, o_stage) {
                // A backup stage waits for granted work it blocks.
                (true, false) => other.granted && backup_blocks(&request.mode, &other.mode),
                // Work waits for a stage granted or queued ahead.
                (false, true) => backup_blocks(&other.mode, &request.mode),
                _ => false,
            }
        }
    }
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// The mode a statement of `verb` asks for on its table, for the plugin's
/// granted-only rows (which carry no pending requests).
pub fn requested_mode(verb: super::statement::Verb) -> &'static str {
    use super::statement::Verb;
    match verb {
        Verb::Ddl => "EXCLUSIVE",
        Verb::LockTables => "SHARED_NO_READ_WRITE",
        Verb::Write | Verb::LockingSelect => "SHARED_WRITE",
        _ => "SHARED_READ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(
        session: u64,
        ns: Namespace,
        object: Option<&str>,
        mode: &str,
        granted: bool,
    ) -> MdlLock {
        MdlLock {
            session,
            namespace: ns,
            object: object.map(str::to_string),
            mode: mode.to_string(),
            granted,
        }
    }

    fn table(session: u64, mode: &str, granted: bool) -> MdlLock {
        lock(session, Namespace::Table, Some("appdb.e1"), mode, granted)
    }

    /// Recorded from MariaDB 10.11 with the performance schema and the mdl
    /// instrument on: an idle transaction (10) read e1, an ALTER (11) waits,
    /// a SELECT (12) queues behind it.
    #[test]
    fn alter_behind_an_idle_transaction() {
        let idle = table(10, "SHARED_READ", true);
        let alter_held = table(11, "SHARED_UPGRADABLE", true);
        let alter = table(11, "EXCLUSIVE", false);
        let select = table(12, "SHARED_READ", false);
        assert!(waits_for(&alter, &idle));
        assert!(!waits_for(&alter, &alter_held), "its own lock");
        assert!(waits_for(&select, &alter), "queued behind the pending X");
        assert!(!waits_for(&select, &alter_held), "SR and SU are compatible");
        assert!(!waits_for(&select, &idle));
        assert!(
            !waits_for(&alter, &select),
            "a weaker pending request is not ahead"
        );
        let other_table = lock(10, Namespace::Table, Some("appdb.t"), "SHARED_READ", true);
        assert!(!waits_for(&alter, &other_table));
    }

    #[test]
    fn lock_tables_write_blocks_readers_and_writers() {
        let locked = table(5, "SHARED_NO_READ_WRITE", true);
        assert!(waits_for(&table(6, "SHARED_READ", false), &locked));
        assert!(waits_for(&table(7, "SHARED_WRITE", false), &locked));
        let read_locked = table(5, "SHARED_READ_ONLY", true);
        assert!(!waits_for(&table(6, "SHARED_READ", false), &read_locked));
        assert!(waits_for(&table(7, "SHARED_WRITE", false), &read_locked));
        assert!(waits_for(
            &table(7, "MDL_EXCLUSIVE", false),
            &table(5, "MDL_SHARED", true)
        ));
    }

    /// Recorded from MariaDB 10.11: FTWRL (16) waits for a running SELECT ...
    /// FOR UPDATE (15); an INSERT (17) queues behind the FTWRL; later the FTWRL
    /// holds BACKUP_FTWRL1 and the INSERT waits for it.
    #[test]
    fn mariadb_backup_lock() {
        let b = |s, mode, g| lock(s, Namespace::Backup, None, mode, g);
        let select_for_update = b(15, "BACKUP_TRANS_DML", true);
        let ftwrl = b(16, "BACKUP_FTWRL1", false);
        let insert = b(17, "BACKUP_TRANS_DML", false);
        assert!(waits_for(&ftwrl, &select_for_update));
        assert!(waits_for(&insert, &ftwrl));
        assert!(
            !waits_for(&ftwrl, &insert),
            "pending work is not ahead of a backup"
        );
        assert!(!waits_for(&insert, &select_for_update));
        assert!(waits_for(&insert, &b(16, "BACKUP_FTWRL1", true)));
        assert!(!waits_for(&insert, &b(16, "BACKUP_START", true)));
        assert!(waits_for(
            &b(18, "BACKUP_COMMIT", false),
            &b(16, "BACKUP_FTWRL2", true)
        ));
        assert!(!waits_for(
            &b(18, "BACKUP_COMMIT", false),
            &b(16, "BACKUP_FTWRL1", true)
        ));
        // MySQL 8's LOCK INSTANCE FOR BACKUP against a DDL.
        assert!(waits_for(
            &b(18, "INTENTION_EXCLUSIVE", false),
            &b(16, "SHARED", true)
        ));
    }

    /// MySQL 8: FTWRL holds GLOBAL SHARED; writers ask INTENTION_EXCLUSIVE.
    #[test]
    fn mysql_global_read_lock() {
        let g = |s, mode, granted| lock(s, Namespace::Global, None, mode, granted);
        assert!(waits_for(
            &g(2, "INTENTION_EXCLUSIVE", false),
            &g(1, "SHARED", true)
        ));
        assert!(waits_for(
            &g(2, "INTENTION_EXCLUSIVE", false),
            &g(1, "SHARED", false)
        ));
        assert!(!waits_for(
            &g(2, "INTENTION_EXCLUSIVE", false),
            &g(1, "INTENTION_EXCLUSIVE", true)
        ));
        assert!(waits_for(
            &g(1, "SHARED", false),
            &g(2, "INTENTION_EXCLUSIVE", true)
        ));
        assert!(!waits_for(
            &g(1, "SHARED", false),
            &g(2, "INTENTION_EXCLUSIVE", false)
        ));
        let c = |s, mode, granted| lock(s, Namespace::Commit, None, mode, granted);
        assert!(waits_for(
            &c(2, "INTENTION_EXCLUSIVE", false),
            &c(1, "SHARED", true)
        ));
    }

    #[test]
    fn namespaces_and_modes_parse() {
        assert_eq!(Namespace::parse("TABLE"), Namespace::Table);
        assert_eq!(Namespace::parse("Table metadata lock"), Namespace::Table);
        assert_eq!(Namespace::parse("Backup lock"), Namespace::Backup);
        assert_eq!(Namespace::parse("GLOBAL"), Namespace::Global);
        assert_eq!(Namespace::parse("Global read lock"), Namespace::Global);
        assert_eq!(Namespace::parse("Schema metadata lock"), Namespace::Schema);
        assert_eq!(Namespace::parse("USER LEVEL LOCK"), Namespace::Other);
        assert_eq!(mode_index("MDL_SHARED_READ"), Some(2));
        assert_eq!(mode_index("bogus"), None);
        // Unknown modes: only an exclusive side conflicts.
        assert!(waits_for(
            &table(1, "EXCLUSIVE_NEW", false),
            &table(2, "WHATEVER", true)
        ));
        assert!(!waits_for(
            &table(1, "NEW", false),
            &table(2, "WHATEVER", true)
        ));
        assert_eq!(
            requested_mode(super::super::statement::Verb::Ddl),
            "EXCLUSIVE"
        );
    }
}
