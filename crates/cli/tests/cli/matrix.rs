//! The fault-position matrix: every kind of unit the runner executes, a fault injected before
//! each statement of a four-statement file, on PostgreSQL and SQLite. After each case the state
//! is checked against docs/failure-model.md (schema and rows by introspection, history rows,
//! `status`, the exit code and what the message says), then the fault is fixed and the command
//! that docs/failure-model.md names must reach the state of an uninterrupted run.
//!
//! Cases are generated from data (`cases()`) and run four at a time. Each has a place of its
//! own: on PostgreSQL a schema (`?schema=`, history included) in its worker's database (a seed
//! case, whose `reset` empties a whole database, the worker's `public`); on SQLite a copy of a
//! prepared file. `--nocapture` prints the table of cases; `HASTE_MATRIX_FILTER="Pg Mixed"`
//! runs the cases whose label contains it; `HASTE_MATRIX_TRACE=1` prints each phase's time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use haste_testkit::{Session, TempDir, TestDb, database};

use crate::{Run, haste};

// ---------------------------------------------------------------------------------------------
// The data: units, faults, positions.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Db {
    Pg,
    Sqlite,
}

/// A kind of unit the runner executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// (a) an ordinary migration: one transaction with its history row.
    Tx,
    /// (b) a file with its own `BEGIN`/`COMMIT`.
    OwnTx,
    /// (c) `-- haste:transaction off`: every statement alone.
    StepOff,
    /// (c) a file of concurrent index builds and drops: stepwise.
    Cic,
    /// (d) plain statements and a concurrent build: groups of plain statements, the build alone.
    Mixed,
    /// (e) a batched `data.sql` (one row a batch): the fault is at batch `position`.
    Data,
    /// (f) `down.sql` in one transaction, via `migrate down`.
    Down,
    /// (f) `down.sql` with `-- haste:transaction off`.
    DownStep,
    /// (g) `data.down.sql`, via `migrate down`.
    DataDown,
    /// (h) `seed.sql`, run by `migrate reset`.
    Seed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fault {
    /// `CREATE TABEL ...`
    Syntax,
    /// A duplicate key (a row of `base` that the fix deletes).
    Unique,
    /// `SELECT 1/0`.
    DivZero,
    /// A NUL byte in the statement.
    Nul,
    /// Bytes that are not UTF-8 in the statement.
    Utf8,
    /// Another session holds a lock on the table the statement touches (`lock-timeout 100ms`,
    /// `retries 0`).
    Lock,
    /// `pg_sleep(1)` under `statement-timeout 100ms`.
    StatementTimeout,
    /// The statement terminates haste's own session.
    Killed,
}

const POSITIONS: usize = 4;

/// Cases run at once.
const WORKERS: usize = 4;

/// Every case: (database, kind, position, fault).
fn cases() -> Vec<(Db, Kind, usize, Fault)> {
    use Fault::*;
    use Kind::*;
    let mut all = Vec::new();
    for db in [Db::Pg, Db::Sqlite] {
        for kind in [Tx, OwnTx, StepOff, Cic, Mixed, Data, Down, DownStep, DataDown, Seed] {
            if db == Db::Sqlite && matches!(kind, Cic | Mixed) {
                continue; // SQLite has no statement that refuses a transaction.
            }
            for fault in [Syntax, Unique, DivZero, Nul, Utf8, Lock, StatementTimeout, Killed] {
                let exists = match db {
                    Db::Pg => true,
                    // `1/0` is NULL in SQLite; there is no statement timeout and no session to end.
                    Db::Sqlite => !matches!(fault, DivZero | StatementTimeout | Killed),
                };
                // `reset` drops every object first: a lock held by another session stops the
                // reset itself, never the seed. Data steps retry lock timeouts by design (see
                // `a_data_batch_waits_out_a_held_row_lock`).
                let applies = !(fault == Lock && matches!(kind, Seed | Data | DataDown));
                if !exists || !applies {
                    continue;
                }
                // Faults that do not depend on the rows fail the first batch of a data step
                // whatever the position; SQLite's lock is on the whole file.
                let one_position = (matches!(kind, Data | DataDown) && matches!(fault, Syntax | Nul | Utf8))
                    || (db == Db::Sqlite && fault == Lock);
                for position in 0..if one_position { 1 } else { POSITIONS } {
                    all.push((db, kind, position, fault));
                }
            }
        }
    }
    all
}

/// The base migration every case starts from: a table with the row a duplicate key collides
/// with, a table another session locks, a fuse the sleeping and killing statements read (the fix
/// deletes its rows), an index a concurrent drop removes.
fn base_sql(db: Db) -> &'static str {
    match db {
        Db::Pg => {
            "CREATE TABLE base (id int PRIMARY KEY, v int, u int);\nINSERT INTO base VALUES (1, 1, 1), (2, 2, 1);\n\
             CREATE INDEX base_old_idx ON base (id, v);\nCREATE TABLE held (id int);\nCREATE TABLE fuse (kind text);\n\
             INSERT INTO fuse VALUES ('sleep'), ('kill');\n"
        }
        Db::Sqlite => {
            "CREATE TABLE base (id INTEGER PRIMARY KEY, v INTEGER, u INTEGER);\nINSERT INTO base VALUES (1, 1, 1), (2, 2, 1);\n\
             CREATE INDEX base_old_idx ON base (id, v);\nCREATE TABLE held (id INTEGER);\nCREATE TABLE fuse (kind TEXT);\n\
             INSERT INTO fuse VALUES ('sleep'), ('kill');\n"
        }
    }
}

/// The four statements of a unit, without the fault.
fn statements(db: Db, kind: Kind) -> Vec<&'static str> {
    let (int, integer) = match db {
        Db::Pg => ("int", "int"),
        Db::Sqlite => ("INTEGER", "INTEGER"),
    };
    let _ = integer;
    match (kind, int) {
        (Kind::Cic, _) => vec![
            "CREATE INDEX CONCURRENTLY base_v_idx ON base (v)",
            "CREATE INDEX CONCURRENTLY base_u_idx ON base (u)",
            "CREATE INDEX CONCURRENTLY base_vu_idx ON base (v, u)",
            "DROP INDEX CONCURRENTLY base_old_idx",
        ],
        (Kind::Mixed, _) => vec![
            "CREATE TABLE m (id int PRIMARY KEY, v int)",
            "INSERT INTO m SELECT g, g * 10 FROM generate_series(1, 80) g",
            "CREATE INDEX CONCURRENTLY m_v_idx ON m (v)",
            "ALTER TABLE m ADD COLUMN w int",
        ],
        (Kind::Down | Kind::DownStep, _) => {
            vec!["DROP INDEX m_v_idx", "ALTER TABLE m DROP COLUMN w", "DELETE FROM m", "DROP TABLE m"]
        }
        (Kind::Seed, _) => vec![
            "INSERT INTO m (id, v) VALUES (500, 50)",
            "UPDATE m SET v = v + 1",
            "INSERT INTO base (id, v, u) VALUES (3, 3, 3)",
            "INSERT INTO held VALUES (1)",
        ],
        (_, "int") => vec![
            "CREATE TABLE m (id int PRIMARY KEY, v int)",
            "INSERT INTO m SELECT g, g * 10 FROM generate_series(1, 80) g",
            "ALTER TABLE m ADD COLUMN w int",
            "CREATE INDEX m_v_idx ON m (v)",
        ],
        _ => vec![
            "CREATE TABLE m (id INTEGER PRIMARY KEY, v INTEGER)",
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 80) INSERT INTO m (id, v) SELECT i, i * 10 FROM g",
            "ALTER TABLE m ADD COLUMN w INTEGER",
            "CREATE INDEX m_v_idx ON m (v)",
        ],
    }
}

/// `1_m`: the unit of the transactional kinds, applied before the down, data and seed kinds.
fn m_sql(db: Db) -> String {
    statements(db, Kind::Tx).iter().map(|s| format!("{s};\n")).collect()
}

/// One row, then (a batch grows at most twofold and is never under ten rows once it has run,
/// and a target this long always lets it grow) 10, 20 and 40 rows: batch `k` starts at row
/// `FIRST_ROW[k]`.
const DATA_HEADER: &str = "-- haste:data table=m key=id batch=1 target=1h\n";
const FIRST_ROW: [usize; POSITIONS] = [1, 2, 12, 32];

/// How a fault is fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fix {
    /// The statement is rewritten (the file's checksum changes).
    Rewrite,
    /// The database is changed, the file stays as it is.
    Database(&'static str),
    /// The other session ends its transaction.
    Release,
}

fn fix_of(kind: Kind, fault: Fault) -> Fix {
    let inline = matches!(kind, Kind::Seed | Kind::Data | Kind::DataDown);
    match fault {
        Fault::Syntax | Fault::DivZero | Fault::Nul | Fault::Utf8 => Fix::Rewrite,
        Fault::Lock => Fix::Release,
        // `reset` builds `base` and `fuse` again; a data step's fault is in its own statement.
        _ if inline => Fix::Rewrite,
        Fault::Unique => Fix::Database("DELETE FROM base WHERE id = 1"),
        Fault::StatementTimeout | Fault::Killed => Fix::Database("DELETE FROM fuse"),
    }
}

/// The faulty statement of a SQL unit (as bytes: it may not be UTF-8) and its rewritten form.
fn fault_statement(db: Db, kind: Kind, fault: Fault) -> (Vec<u8>, &'static str) {
    let (bad, fixed): (&[u8], &str) = match fault {
        Fault::Syntax => (b"CREATE TABEL s (id int)", "CREATE TABLE s (id int)"),
        Fault::Unique if kind == Kind::Cic => {
            (b"CREATE UNIQUE INDEX CONCURRENTLY base_u_key ON base (u)", "SELECT 1")
        }
        Fault::Unique if kind == Kind::Seed => {
            (b"INSERT INTO base (id) VALUES (1)", "INSERT INTO base (id) VALUES (100)")
        }
        Fault::Unique => (b"INSERT INTO base (id) VALUES (1)", "SELECT 1"),
        Fault::DivZero => (b"SELECT 1/0", "SELECT 1/1"),
        Fault::Nul => (b"SELECT 'a\0b'", "SELECT 'ab'"),
        Fault::Utf8 => (b"SELECT 'a\xffb'", "SELECT 'ab'"),
        Fault::Lock => match db {
            Db::Pg => (b"ALTER TABLE held ADD COLUMN f int", ""),
            Db::Sqlite => (b"ALTER TABLE held ADD COLUMN f INTEGER", ""),
        },
        Fault::StatementTimeout if kind == Kind::Seed => (b"SELECT pg_sleep(1)", "SELECT pg_sleep(0)"),
        Fault::StatementTimeout => (b"SELECT pg_sleep(1) FROM fuse WHERE kind = 'sleep'", ""),
        Fault::Killed if kind == Kind::Seed => {
            (b"SELECT pg_terminate_backend(pg_backend_pid())", "SELECT pg_backend_pid()")
        }
        Fault::Killed => (b"SELECT pg_terminate_backend(pg_backend_pid()) FROM fuse WHERE kind = 'kill'", ""),
    };
    // Unique in a seed keeps its row, so the fixed seed inserts another.
    let fixed = if fixed.is_empty() { std::str::from_utf8(bad).unwrap() } else { fixed };
    (bad.to_vec(), fixed)
}

/// The data step's statement with the fault at row `row` (batch `row - 1`), and its fix.
fn data_statement(kind: Kind, fault: Fault, row: usize) -> (Vec<u8>, String) {
    let set = if kind == Kind::Data { "w = v" } else { "w = NULL" };
    let fixed = format!("UPDATE m SET {set} WHERE :range");
    let bad = match fault {
        Fault::Syntax => format!("UPDAET m SET {set} WHERE :range"),
        Fault::Unique => {
            format!("UPDATE m SET {set}, id = CASE WHEN id = {row} THEN {} ELSE id END WHERE :range", row + 1)
        }
        Fault::DivZero => format!("UPDATE m SET {set} WHERE :range AND 1 / (id - {row}) IS NOT NULL"),
        Fault::Nul => format!("UPDATE m SET {set} WHERE :range AND 'a\0' <> ''"),
        Fault::Utf8 => {
            let mut bytes = format!("UPDATE m SET {set} WHERE :range AND 'a").into_bytes();
            bytes.extend_from_slice(b"\xff' <> ''");
            return (bytes, fixed);
        }
        Fault::StatementTimeout => format!(
            "UPDATE m SET {set} WHERE :range AND (SELECT true FROM pg_sleep(CASE WHEN id = {row} THEN 1 ELSE 0 END))"
        ),
        Fault::Killed => {
            format!(
                "UPDATE m SET {set} WHERE :range AND (id <> {row} OR pg_terminate_backend(pg_backend_pid()))"
            )
        }
        Fault::Lock => unreachable!("not a data-step case"),
    };
    (bad.into_bytes(), fixed)
}

/// Directive lines for a fault.
fn header(kind: Kind, fault: Fault) -> String {
    let mut header = String::new();
    if matches!(kind, Kind::StepOff | Kind::DownStep) {
        header.push_str("-- haste:transaction off\n");
    }
    header.push_str("-- haste:retries 0\n");
    if fault == Fault::Lock {
        header.push_str("-- haste:lock-timeout 100ms\n");
    }
    if fault == Fault::StatementTimeout {
        header.push_str("-- haste:statement-timeout 100ms\n");
    }
    header
}

/// One case's files: the unit's file with the fault and with it fixed.
struct Unit {
    /// Relative path of the file the fault is in.
    path: String,
    faulty: Vec<u8>,
    fixed: String,
    /// Statements of the file as the runner cuts it, faulty (for stepwise bookkeeping): whether
    /// each runs alone.
    alone: Vec<bool>,
    /// Index of the faulty statement in the file, and its line.
    index: usize,
    line: usize,
}

fn unit(db: Db, kind: Kind, position: usize, fault: Fault) -> Unit {
    if matches!(kind, Kind::Data | Kind::DataDown) {
        let (bad, fixed) = data_statement(kind, fault, FIRST_ROW[position]);
        let file =
            if kind == Kind::Data { "migrations/2_data/data.sql" } else { "migrations/2_data/data.down.sql" };
        let mut faulty = DATA_HEADER.as_bytes().to_vec();
        faulty.extend_from_slice(&bad);
        faulty.push(b'\n');
        return Unit {
            path: file.into(),
            faulty,
            fixed: format!("{DATA_HEADER}{fixed}\n"),
            alone: vec![false],
            index: 0,
            line: 2,
        };
    }
    let base = statements(db, kind);
    let (bad, fixed) = fault_statement(db, kind, fault);
    // A fault fixed in the database leaves the statement as it is.
    let fixed = if fix_of(kind, fault) == Fix::Rewrite { fixed } else { std::str::from_utf8(&bad).unwrap() };
    let head = if kind == Kind::Seed { String::new() } else { header(kind, fault) };
    let mut faulty = head.clone().into_bytes();
    let mut fixed_text = head.clone();
    let mut alone = Vec::new();
    let own = kind == Kind::OwnTx;
    if own {
        faulty.extend_from_slice(b"BEGIN;\n");
        fixed_text.push_str("BEGIN;\n");
        alone.push(false);
    }
    for (i, statement) in base.iter().enumerate() {
        if i == position {
            faulty.extend_from_slice(&bad);
            faulty.extend_from_slice(b";\n");
            fixed_text.push_str(&format!("{fixed};\n"));
            alone.push(bad.starts_with(b"CREATE UNIQUE INDEX CONCURRENTLY"));
        }
        faulty.extend_from_slice(format!("{statement};\n").as_bytes());
        fixed_text.push_str(&format!("{statement};\n"));
        alone.push(statement.contains("CONCURRENTLY"));
    }
    if own {
        faulty.extend_from_slice(b"COMMIT;\n");
        fixed_text.push_str("COMMIT;\n");
        alone.push(false);
    }
    let path = match kind {
        Kind::Down | Kind::DownStep => "migrations/1_m/down.sql",
        Kind::Seed => "seed.sql",
        _ => "migrations/1_unit/migration.sql",
    };
    let index = position + usize::from(own);
    let line = head.lines().count() + index + 1;
    Unit { path: path.into(), faulty, fixed: fixed_text, alone, index, line }
}

/// The migrations every case of `kind` has applied before its unit runs.
fn prepared(db: Db, kind: Kind) -> Vec<(&'static str, String)> {
    let mut files = vec![("migrations/0_base/migration.sql", base_sql(db).to_owned())];
    if matches!(kind, Kind::Data | Kind::DataDown | Kind::Down | Kind::DownStep | Kind::Seed) {
        files.push(("migrations/1_m/migration.sql", m_sql(db)));
    }
    if kind == Kind::DataDown {
        files
            .push(("migrations/2_data/data.sql", format!("{DATA_HEADER}UPDATE m SET w = v WHERE :range;\n")));
    }
    files
}

/// Statements that, run by hand on the prepared database, give the state of a stepwise unit
/// that stopped after `done` statements (or a data step after `done` rows).
fn partial_sql(db: Db, kind: Kind, done: usize) -> Vec<String> {
    match kind {
        Kind::Data => vec![format!("UPDATE m SET w = v WHERE id <= {done}")],
        Kind::DataDown => vec![format!("UPDATE m SET w = NULL WHERE id <= {done}")],
        _ => statements(db, kind)[..done].iter().map(|s| s.to_string()).collect(),
    }
}

/// Undoes by hand the first `done` statements of a stepwise unit (before it is marked rolled back).
fn undo_sql(kind: Kind, done: usize) -> Vec<String> {
    match kind {
        Kind::Cic => ["base_v_idx", "base_u_idx", "base_vu_idx"][..done.min(3)]
            .iter()
            .map(|index| format!("DROP INDEX IF EXISTS {index}"))
            .collect(),
        _ if done > 0 => vec!["DROP TABLE IF EXISTS m".into()],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// A database of either kind.

struct Target {
    db: Db,
    /// PostgreSQL: the URL haste is given (`?schema=` of the case) and the one the test's own
    /// queries use (the same schema as search path).
    haste_url: String,
    sql_url: String,
    /// PostgreSQL: one session for the test's own queries.
    session: Option<Session>,
    /// SQLite: the file.
    file: std::path::PathBuf,
}

impl Target {
    fn url(&self) -> String {
        match self.db {
            Db::Pg => self.haste_url.clone(),
            Db::Sqlite => format!("sqlite:{}", self.file.display()),
        }
    }

    fn execute(&self, sql: &str) {
        match self.db {
            Db::Pg => self.session.as_ref().unwrap().execute(sql),
            Db::Sqlite => rusqlite::Connection::open(&self.file)
                .unwrap()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.db {
            Db::Pg => self.session.as_ref().unwrap().query(sql),
            Db::Sqlite => {
                let connection = rusqlite::Connection::open(&self.file).unwrap();
                let mut statement = connection.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let columns = statement.column_count();
                statement
                    .query_map([], |row| {
                        Ok((0..columns)
                            .map(|i| {
                                row.get_ref(i).ok().and_then(|value| match value {
                                    rusqlite::types::ValueRef::Null => None,
                                    rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                                    rusqlite::types::ValueRef::Real(n) => Some(n.to_string()),
                                    rusqlite::types::ValueRef::Text(t)
                                    | rusqlite::types::ValueRef::Blob(t) => {
                                        Some(String::from_utf8_lossy(t).into_owned())
                                    }
                                })
                            })
                            .collect())
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
        }
    }

    fn value(&self, sql: &str) -> Option<String> {
        self.rows(sql).into_iter().next().and_then(|row| row.into_iter().next().flatten())
    }

    /// Tables, columns, indexes (with validity), constraints and every row of the user's
    /// tables, history left out: equal snapshots are equal databases.
    fn snapshot(&self) -> String {
        match self.db {
            Db::Pg => self.value(PG_SNAPSHOT).unwrap_or_default(),
            Db::Sqlite => {
                let mut lines: Vec<String> = self
                    .rows(
                        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master \
                         WHERE name NOT LIKE '\\_haste%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
                    )
                    .into_iter()
                    .map(|row| row[0].clone().unwrap_or_default())
                    .collect();
                let tables: Vec<String> = self
                    .rows(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_haste%' ESCAPE '\\' \
                         AND name NOT LIKE 'sqlite_%' ORDER BY 1",
                    )
                    .into_iter()
                    .map(|row| row[0].clone().unwrap())
                    .collect();
                for table in tables {
                    for row in self.rows(&format!("SELECT * FROM \"{table}\" ORDER BY 1")) {
                        let cells: Vec<String> =
                            row.into_iter().map(|cell| cell.unwrap_or_else(|| "NULL".into())).collect();
                        lines.push(format!("row {table} ({})", cells.join(", ")));
                    }
                }
                lines.join("\n")
            }
        }
    }

    /// The unit's history row: (status, statements_done).
    fn history_row(&self, name: &str) -> Option<(String, i64)> {
        self.rows(&format!("SELECT status, statements_done FROM _haste_migrations WHERE name = '{name}'"))
            .into_iter()
            .next()
            .map(|row| (row[0].clone().unwrap(), row[1].as_deref().unwrap().parse().unwrap()))
    }

    fn events(&self) -> Vec<(String, Option<String>)> {
        self.rows("SELECT event, detail FROM _haste_events ORDER BY id")
            .into_iter()
            .map(|row| (row[0].clone().unwrap(), row[1].clone()))
            .collect()
    }
}

const PG_SNAPSHOT: &str = "SELECT string_agg(line, E'\\n' ORDER BY line) FROM ( \
    SELECT format('column %s.%s %s %s %s', table_name, ordinal_position, column_name, data_type, is_nullable) AS line \
      FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_haste%' \
    UNION ALL SELECT format('index %s %s valid=%s', c.relname, replace(pg_get_indexdef(i.indexrelid), current_schema() || '.', ''), i.indisvalid) \
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relname NOT LIKE '\\_haste%' \
    UNION ALL SELECT format('constraint %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint \
      WHERE connamespace = current_schema()::regnamespace AND conname NOT LIKE '\\_haste%' \
    UNION ALL SELECT format('rows %s %s', relname, (xpath('/row/r/text()', query_to_xml(format( \
        'SELECT string_agg(t::text, '' '' ORDER BY t::text) AS r FROM %I t', relname), false, true, '')))[1]::text) \
      FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname NOT LIKE '\\_haste%' \
  ) s";

/// Where cases run: on PostgreSQL one database per worker thread (cases in it run one after
/// the other), each case in a schema of its own (`?schema=`), prepared by deploying the
/// migrations its kind starts from; a seed case, whose `reset` empties the whole database,
/// uses the worker's `public`. On SQLite, a copy of a prepared file.
struct Templates {
    folder: TempDir,
    sqlite: Mutex<HashMap<usize, std::path::PathBuf>>,
    counter: AtomicUsize,
    /// Snapshots of reference runs, by key.
    references: Mutex<HashMap<String, std::sync::Arc<std::sync::OnceLock<String>>>>,
}

/// A worker's own database.
struct Worker {
    db: Option<TestDb>,
}

impl Templates {
    fn new() -> Templates {
        Templates {
            folder: TempDir::new("matrix"),
            sqlite: Mutex::new(HashMap::new()),
            counter: AtomicUsize::new(0),
            references: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh place in the prepared state of `kind`.
    fn target(&self, worker: &Worker, db: Db, kind: Kind) -> Target {
        let files = prepared(db, kind);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        match db {
            Db::Pg => {
                let base = &worker.db.as_ref().expect("a PostgreSQL server").url;
                let target = if kind == Kind::Seed {
                    haste_testkit::execute(base, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
                    Target {
                        db,
                        haste_url: base.clone(),
                        sql_url: base.clone(),
                        session: None,
                        file: Default::default(),
                    }
                } else {
                    let schema = format!("case{n}");
                    haste_testkit::execute(base, &format!("CREATE SCHEMA {schema}"));
                    Target {
                        db,
                        haste_url: format!("{base}?schema={schema}"),
                        sql_url: format!("{base}?options=-c%20search_path%3D{schema}"),
                        session: None,
                        file: Default::default(),
                    }
                };
                let mut target = target;
                target.session = Some(Session::connect(&target.sql_url));
                let dir = write_files(&files);
                let run = haste(dir.path(), &["migrate", "deploy", "--url", &target.haste_url]);
                assert_eq!(run.code, 0, "{run:?}");
                target
            }
            Db::Sqlite => {
                let template = self
                    .sqlite
                    .lock()
                    .unwrap()
                    .entry(files.len())
                    .or_insert_with(|| {
                        let path = self.folder.path().join(format!("template{}.db", files.len()));
                        let dir = write_files(&files);
                        let url = format!("sqlite:{}", path.display());
                        let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
                        assert_eq!(run.code, 0, "{run:?}");
                        path
                    })
                    .clone();
                let file = self.folder.path().join(format!("case{n}.db"));
                std::fs::copy(&template, &file).unwrap();
                Target { db, haste_url: String::new(), sql_url: String::new(), session: None, file }
            }
        }
    }

    /// The snapshot `make` computes once per key (other workers asking for it meanwhile wait
    /// for that one computation).
    fn reference(&self, key: String, make: impl FnOnce() -> String) -> String {
        let cell = self.references.lock().unwrap().entry(key).or_default().clone();
        cell.get_or_init(make).clone()
    }
}

fn write_files(files: &[(&str, String)]) -> TempDir {
    let dir = TempDir::new("matrix-case");
    for (path, text) in files {
        dir.write(path, text);
    }
    dir
}

fn write_bytes(dir: &TempDir, relative: &str, bytes: &[u8]) {
    let path = dir.path().join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Running one case.

/// The command that runs a unit, with the flags a unit without directives needs.
fn command_of(kind: Kind, fault: Fault, url: &str) -> Vec<String> {
    let mut args: Vec<String> = match kind {
        Kind::Down | Kind::DownStep | Kind::DataDown => vec!["migrate".into(), "down".into()],
        Kind::Seed => vec!["migrate".into(), "reset".into()],
        _ => vec!["migrate".into(), "deploy".into()],
    };
    args.extend(["--url".into(), url.into()]);
    if matches!(kind, Kind::Seed | Kind::Data | Kind::DataDown) {
        args.extend(["--retries".into(), "0".into()]);
        if fault == Fault::StatementTimeout {
            args.extend(["--statement-timeout".into(), "100ms".into()]);
        }
    }
    args
}

fn run(dir: &TempDir, args: &[String]) -> Run {
    haste(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Another session holding a lock on `held` (or, on SQLite, a write transaction on the file).
enum Holder {
    Pg(Session),
    Sqlite(rusqlite::Connection),
}

impl Holder {
    fn take(target: &Target) -> Holder {
        match target.db {
            Db::Pg => {
                let session = Session::connect(&target.sql_url);
                session.execute("BEGIN; LOCK TABLE held IN ACCESS SHARE MODE");
                Holder::Pg(session)
            }
            Db::Sqlite => {
                let connection = rusqlite::Connection::open(&target.file).unwrap();
                connection
                    .execute_batch(
                        "BEGIN IMMEDIATE; INSERT INTO held VALUES (99); DELETE FROM held WHERE id = 99",
                    )
                    .unwrap();
                Holder::Sqlite(connection)
            }
        }
    }

    fn release(self) {
        match self {
            Holder::Pg(session) => session.execute("COMMIT"),
            Holder::Sqlite(connection) => connection.execute_batch("COMMIT").unwrap(),
        }
    }
}

/// A case's index, what it found (or why it failed) and how long it took.
type CaseResult = (usize, Result<Outcome, String>, Duration);

/// What a case found, for the table.
struct Outcome {
    exit: i32,
    state: String,
    recovery: String,
}

/// What a failure leaves, by kind of unit (docs/failure-model.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Nothing applied, no history row: pending.
    Atomic,
    /// Statements up to the start of the failing step applied; the row failed (interrupted when
    /// the session died) with that count.
    Stepwise,
    /// Batches before the failing one committed with their progress; pending, resumed by deploy.
    Data,
    /// Nothing of the down file or seed applied; the migration is still applied.
    Kept,
    /// Part of down.sql applied; the row says it is neither applied nor reverted.
    DownStepwise,
}

fn class_of(db: Db, kind: Kind, fault: Fault, position: usize) -> Class {
    // A file with a NUL byte is refused before anything of it runs.
    let refused = fault == Fault::Nul;
    match kind {
        Kind::Tx | Kind::OwnTx => Class::Atomic,
        Kind::StepOff | Kind::Cic | Kind::Mixed if refused => Class::Atomic,
        // A file PostgreSQL's grammar refuses runs nothing at all.
        Kind::StepOff | Kind::Cic | Kind::Mixed if db == Db::Pg && fault == Fault::Syntax => Class::Atomic,
        Kind::DownStep if db == Db::Pg && fault == Fault::Syntax => Class::Kept,
        Kind::StepOff | Kind::Cic | Kind::Mixed => Class::Stepwise,
        Kind::Data => Class::Data,
        // Nothing of down.sql committed: the migration is applied again (a killed session
        // cannot say so: it stays interrupted).
        Kind::DownStep if position == 0 && fault != Fault::Killed => Class::Kept,
        Kind::DownStep if !refused => Class::DownStepwise,
        Kind::Down | Kind::DownStep | Kind::DataDown | Kind::Seed => Class::Kept,
    }
}

/// Where the unit's history lives.
fn unit_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Data | Kind::DataDown => "2_data",
        Kind::Down | Kind::DownStep | Kind::Seed => "1_m",
        _ => "1_unit",
    }
}

/// Runs the unit's command as it would run uninterrupted, on a fresh prepared database with
/// the fix applied: the state every recovery must reach.
fn reference_run(
    templates: &Templates,
    worker: &Worker,
    db: Db,
    kind: Kind,
    fault: Fault,
    final_files: &[(String, Vec<u8>)],
) -> String {
    let target = templates.target(worker, db, kind);
    if let Fix::Database(sql) = fix_of(kind, fault) {
        target.execute(sql);
    }
    let dir = TempDir::new("matrix-reference");
    for (path, text) in prepared(db, kind) {
        dir.write(path, &text);
    }
    for (path, bytes) in final_files {
        write_bytes(&dir, path, bytes);
    }
    let url = target.url();
    let clean = run(&dir, &command_of(kind, Fault::Syntax, &url));
    assert_eq!(clean.code, 0, "reference run of {kind:?}/{fault:?}: {clean:?}");
    target.snapshot()
}

fn run_case(
    templates: &Templates,
    worker: &Worker,
    db: Db,
    kind: Kind,
    position: usize,
    fault: Fault,
) -> Outcome {
    let t0 = Instant::now();
    let trace = |what: &str| {
        if std::env::var_os("HASTE_MATRIX_TRACE").is_some() {
            eprintln!("{db:?} {kind:?} {position} {fault:?} {what} {} ms", t0.elapsed().as_millis())
        }
    };
    let target = templates.target(worker, db, kind);
    trace("target");
    let url = target.url();
    let unit = unit(db, kind, position, fault);
    let name = unit_name(kind);
    let dir = TempDir::new("matrix-case");
    for (path, text) in prepared(db, kind) {
        dir.write(path, &text);
    }
    // Seed: the migration the reset re-applies is `1_m`; data: a data-only folder.
    write_bytes(&dir, &unit.path, &unit.faulty);
    // SQLite locks the whole file: the other connection's write transaction blocks haste's own
    // bookkeeping as well, so nothing runs and nothing can be recorded.
    let whole_file_lock = db == Db::Sqlite && fault == Fault::Lock;
    let holder = (fault == Fault::Lock).then(|| Holder::take(&target));
    let before = target.snapshot();
    // (Snapshots list every index with its validity: comparing them also proves that no
    // INVALID index is left behind.)
    let events_before =
        (matches!(fault, Fault::Nul | Fault::Utf8) || whole_file_lock).then(|| target.events().len());
    let status_before = (matches!(fault, Fault::Nul | Fault::Utf8) || whole_file_lock)
        .then(|| haste(dir.path(), &["migrate", "status", "--url", &url, "--format", "json"]).code);

    trace("setup");
    let first = run(&dir, &command_of(kind, fault, &url));
    trace("first");
    let context = format!("{db:?} {kind:?} position {position} {fault:?}:\n{first:?}");

    // The state after the failure, by kind (docs/failure-model.md).
    let refused_up_front = first.code == 2 || whole_file_lock;
    let data = matches!(kind, Kind::Data | Kind::DataDown);
    let killed = fault == Fault::Killed;
    let class = class_of(db, kind, fault, position);
    let stepwise = matches!(class, Class::Stepwise | Class::DownStepwise);
    let done = if data {
        FIRST_ROW[position] - 1
    } else if stepwise {
        // The start of the step holding the faulty statement: plain statements run in groups.
        let mut start = unit.index;
        if !unit.alone[start] && kind != Kind::StepOff && kind != Kind::DownStep {
            while start > 0 && !unit.alone[start - 1] {
                start -= 1;
            }
        }
        start
    } else {
        0
    };
    let state_text;
    if refused_up_front {
        if whole_file_lock {
            // A failed migration (6), or haste's first history write failed (1).
            assert!(matches!(first.code, 1 | 6), "{context}");
            assert!(first.stderr.contains("database is locked"), "{context}");
        } else {
            assert!(
                matches!(fault, Fault::Nul | Fault::Utf8),
                "only unreadable files are refused up front: {context}"
            );
            assert!(
                first.stderr.contains(unit.path.rsplit('/').next().unwrap()),
                "names the file: {context}"
            );
        }
        assert_eq!(target.snapshot(), before, "nothing applied: {context}");
        assert_eq!(Some(target.events().len()), events_before, "nothing recorded: {context}");
        state_text =
            if whole_file_lock { "nothing applied or recorded" } else { "refused up front" }.to_owned();
    } else {
        let expected_exit = if killed { 9 } else { 6 };
        assert_eq!(first.code, expected_exit, "{context}");
        // The message names the file and the line of the faulty statement.
        let file_name = unit.path.rsplit('/').next().unwrap();
        let pointer = format!("{}:{}:", file_name, unit.line);
        let lock_on_sqlite = db == Db::Sqlite && fault == Fault::Lock;
        if !lock_on_sqlite {
            assert!(first.stderr.contains(&pointer), "points at {pointer}: {context}");
        }
        let after = target.snapshot();
        if data {
            let expected = templates.reference(format!("{db:?} {kind:?} partial {done}"), || {
                let partial = templates.target(worker, db, kind);
                for sql in partial_sql(db, kind, done) {
                    partial.execute(&sql);
                }
                partial.snapshot()
            });
            assert_eq!(after, expected, "exactly the batches before the fault are done: {context}");
            if !killed {
                assert!(
                    first.stderr.contains(&format!("stopped after {done} rows")),
                    "says how far it got: {context}"
                );
            }
            if kind == Kind::DataDown {
                // The next deploy does not resume an undo; `down` walks again from the start.
                assert!(!first.stderr.contains("next deploy"), "{context}");
            }
            state_text = format!("{position} batches ({done} rows) done");
        } else if stepwise {
            let expected = templates.reference(format!("{db:?} {kind:?} partial {done}"), || {
                let partial = templates.target(worker, db, kind);
                for sql in partial_sql(db, kind, done) {
                    partial.execute(&sql);
                }
                partial.snapshot()
            });
            assert_eq!(after, expected, "exactly statements 0..{done} applied: {context}");
            assert!(!first.stderr.contains("nothing of it was applied"), "{context}");
            if !killed {
                assert!(
                    first.stderr.contains(&format!("stopped after {done} statement(s)")),
                    "says how far it got: {context}"
                );
            }
            state_text = format!("{done} statement(s) applied");
        } else {
            assert_eq!(after, before, "nothing applied: {context}");
            if !killed {
                assert!(first.stderr.contains("nothing of it was applied"), "{context}");
            }
            if class == Class::Kept {
                // A down file or a seed is not what the next deploy runs.
                assert!(!first.stderr.contains("next deploy"), "{context}");
            }
            state_text = "nothing applied".to_owned();
        }
        if killed {
            assert!(first.stderr.contains("connection was lost"), "{context}");
        }
    }

    trace("checked");
    // History and status.
    let status = haste(dir.path(), &["migrate", "status", "--url", &url, "--format", "json"]);
    let row = target.history_row(name);
    let new_events: Vec<(String, Option<String>)> = target
        .events()
        .into_iter()
        .filter(|(event, _)| !matches!(event.as_str(), "applied" | "started"))
        .collect();
    let failed_event = new_events.iter().find(|(event, _)| event == "failed" || event == "revert_failed");
    let unit_state = |status: &Run| -> Option<serde_json::Value> {
        status.json_lines().first().and_then(|report| {
            report["migrations"].as_array().and_then(|all| all.iter().find(|m| m["name"] == name).cloned())
        })
    };
    let context =
        format!("{context}\n--- status\n{status:?}\n--- history row {row:?}\n--- events {new_events:?}");
    if !refused_up_front {
        match class {
            Class::Atomic => {
                assert_eq!(row, None, "{context}");
                assert_eq!(status.code, 3, "{context}");
                assert_eq!(unit_state(&status).unwrap()["state"], "pending", "{context}");
            }
            Class::Stepwise => {
                let expected = if killed { "running" } else { "failed" };
                assert_eq!(row, Some((expected.to_owned(), done as i64)), "{context}");
                assert_eq!(status.code, 7, "{context}");
                let shown = if killed { "interrupted" } else { "failed" };
                assert_eq!(unit_state(&status).unwrap()["state"], shown, "{context}");
            }
            Class::Data => {
                assert_eq!(status.code, 3, "{context}");
                let state = unit_state(&status).unwrap();
                assert_eq!(state["state"], "pending", "{context}");
                // Also before any batch committed: the schema part is applied all the same.
                assert_eq!(state["data_progress"]["rows_done"], done as u64, "{context}");
            }
            Class::Kept => {
                assert_eq!(row.as_ref().map(|r| r.0.as_str()), Some("applied"), "{context}");
                assert_eq!(status.code, 0, "{context}");
            }
            Class::DownStepwise => {
                assert_eq!(status.code, 7, "neither applied nor reverted: {context}");
                let shown = unit_state(&status).unwrap()["state"].as_str().unwrap().to_owned();
                assert!(matches!(shown.as_str(), "failed" | "interrupted"), "{context}");
            }
        }
        // A failure the session survived is in the event log, with the statement's index.
        // (Nothing of a file with a NUL byte runs: it is refused before its first statement.)
        let logged = !killed && fault != Fault::Nul && class != Class::Kept;
        if logged {
            let (_, detail) = failed_event.unwrap_or_else(|| panic!("a failed event: {context}"));
            let detail: serde_json::Value = serde_json::from_str(detail.as_deref().unwrap()).unwrap();
            if data {
                assert_eq!(detail["rows_done"], done as u64, "{context}");
            } else if kind == Kind::DownStep {
                assert_eq!(detail["statements_done"], unit.index as u64, "{context}");
            } else {
                assert_eq!(detail["statement_index"], unit.index as u64, "{context}");
            }
        }
    } else {
        // Unchanged, or the folder itself is unreadable now.
        assert!(Some(status.code) == status_before || status.code == 2, "{context}");
    }

    trace("status");
    // Fix the fault, then the documented way out.
    let fix = fix_of(kind, fault);
    match fix {
        Fix::Database(sql) => target.execute(sql),
        Fix::Release => holder.expect("a holder").release(),
        Fix::Rewrite => std::fs::write(dir.path().join(&unit.path), &unit.fixed).unwrap(),
    }
    let final_files = vec![(
        unit.path.clone(),
        if fix == Fix::Rewrite { unit.fixed.clone().into_bytes() } else { unit.faulty.clone() },
    )];
    let mut recovery = Vec::new();
    let step = |args: Vec<String>, expect: i32, recovery: &mut Vec<String>| {
        let outcome = run(&dir, &args);
        recovery.push(if args[1] == "resolve" { format!("resolve {}", args[4]) } else { args[1].clone() });
        assert_eq!(outcome.code, expect, "{context}\n--- recovery {args:?}\n{outcome:?}");
    };
    let resolve = |how: &str| {
        vec!["migrate".into(), "resolve".into(), "--url".into(), url.clone(), how.into(), name.into()]
    };
    if refused_up_front || !stepwise {
        step(command_of(kind, fault, &url), 0, &mut recovery);
    } else if class == Class::DownStepwise {
        // Part of down.sql ran: finish it by hand, then say so.
        let rest: Vec<String> = unit_statements_after_fix(db, kind, position, fault)[unit.index..].to_vec();
        for sql in rest {
            target.execute(&sql);
        }
        recovery.push("finish by hand".into());
        step(resolve("--rolled-back"), 0, &mut recovery);
    } else if fix == Fix::Rewrite {
        // The file changed: resume refuses; undo by hand, mark it rolled back, deploy again.
        step(resolve("--resume"), 4, &mut recovery);
        recovery.last_mut().unwrap().push_str(" (refused)");
        for sql in undo_sql(kind, done) {
            target.execute(&sql);
        }
        recovery.push("undo by hand".into());
        step(resolve("--rolled-back"), 0, &mut recovery);
        step(command_of(kind, fault, &url), 0, &mut recovery);
    } else {
        step(resolve("--resume"), 0, &mut recovery);
    }
    trace("recovered");
    let expected_status = if matches!(kind, Kind::Down | Kind::DownStep | Kind::DataDown) { 3 } else { 0 };
    let status = haste(dir.path(), &["migrate", "status", "--url", &url]);
    assert_eq!(status.code, expected_status, "{context}\n--- final status\n{status:?}");
    // The fixed file differs between positions only in the order of its statements, which no
    // snapshot line depends on: one reference run per (database, kind, fault).
    let reference_key = format!("{db:?} {kind:?} {fault:?}");
    // The same state as an uninterrupted run (a seed's reference reuses the worker's database,
    // so the case's state is read first).
    let recovered = target.snapshot();
    let reference = templates
        .reference(reference_key, || reference_run(templates, worker, db, kind, fault, &final_files));
    trace("reference");
    assert_eq!(recovered, reference, "recovered to the uninterrupted state: {context}");
    Outcome { exit: first.code, state: state_text, recovery: recovery.join(", ") }
}

/// The statements of a down.sql after its fix, as one would run them by hand.
fn unit_statements_after_fix(db: Db, kind: Kind, position: usize, fault: Fault) -> Vec<String> {
    let (bad, fixed) = fault_statement(db, kind, fault);
    let fixed =
        if fix_of(kind, fault) == Fix::Rewrite { fixed.to_owned() } else { String::from_utf8(bad).unwrap() };
    let mut all: Vec<String> = statements(db, kind).iter().map(|s| s.to_string()).collect();
    all.insert(position, fixed);
    all
}

// ---------------------------------------------------------------------------------------------

#[test]
fn every_fault_at_every_position_of_every_unit_leaves_the_documented_state_and_recovers() {
    let cases = cases();
    // Without a server, the SQLite cases still run.
    let pg = database().is_some();
    let cases: Vec<_> = cases.into_iter().filter(|(db, ..)| pg || *db == Db::Sqlite).collect();
    let templates = Templates::new();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<CaseResult>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let filter = std::env::var("HASTE_MATRIX_FILTER").ok();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                let worker = Worker { db: if pg { database() } else { None } };
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(db, kind, position, fault)) = cases.get(index) else { break };
                    let label = format!("{db:?} {kind:?} {position} {fault:?}");
                    if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
                        continue;
                    }
                    let case_started = Instant::now();
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_case(&templates, &worker, db, kind, position, fault)
                    }))
                    .map_err(|panic| {
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    });
                    results.lock().unwrap().push((index, outcome, case_started.elapsed()));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, ..)| *index);
    let mut failures = Vec::new();
    let mut counts: HashMap<(Db, Kind, Fault), usize> = HashMap::new();
    println!(
        "{:<7} {:<9} {:>3} {:<17} {:>4}  {:<28} {:<72} {:>6}",
        "db", "unit", "pos", "fault", "exit", "state left", "recovery", "ms"
    );
    for (index, outcome, took) in &results {
        let (db, kind, position, fault) = cases[*index];
        *counts.entry((db, kind, fault)).or_default() += 1;
        match outcome {
            Ok(outcome) => println!(
                "{:<7} {:<9} {:>3} {:<17} {:>4}  {:<28} {:<72} {:>6}",
                format!("{db:?}"),
                format!("{kind:?}"),
                position,
                format!("{fault:?}"),
                outcome.exit,
                outcome.state,
                outcome.recovery,
                took.as_millis()
            ),
            Err(message) => {
                println!(
                    "{:<7} {:<9} {:>3} {:<17} FAILED",
                    format!("{db:?}"),
                    format!("{kind:?}"),
                    position,
                    format!("{fault:?}")
                );
                failures.push(format!("{db:?} {kind:?} position {position} {fault:?}: {message}"));
            }
        }
    }
    println!(
        "{} cases in {:.1} s, {} failed",
        results.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Concurrency: another session in the way of a concurrent index build or of a history write.

/// A session whose transaction took its snapshot before the build started: `CREATE INDEX
/// CONCURRENTLY` waits for it before it can mark the index valid.
fn old_snapshot(url: &str) -> Session {
    let session = Session::connect(url);
    session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class");
    session
}

fn waiting_build(db: &TestDb) -> bool {
    db.value(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%' \
         AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database()",
    )
    .as_deref()
        == Some("1")
}

const INVALID: &str = "SELECT count(*) FROM pg_index WHERE NOT indisvalid";

#[test]
fn a_concurrent_build_cancelled_while_it_waits_for_an_old_transaction_leaves_no_invalid_index() {
    let Some(db) = database() else { return };
    let dir = crate::migrations(&[(
        "1_t",
        "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;",
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);

    // With retries: each cancelled attempt drops the INVALID index it left, and once the old
    // transaction ends the build succeeds.
    dir.write(
        "migrations/2_unique/migration.sql",
        "-- haste:lock-timeout 100ms\n-- haste:retries 20\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\n",
    );
    let holder = old_snapshot(&db.url);
    let child = crate::command(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(haste_testkit::wait_until(Duration::from_secs(20), || waiting_build(&db)), "the build waits");
    // Long enough for a lock timeout or two.
    std::thread::sleep(Duration::from_millis(700));
    holder.execute("COMMIT");
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let retries = stdout.lines().filter(|line| line.contains("\"event\":\"retrying\"")).count();
    assert!(retries >= 1, "retried after lock timeouts: {stdout}");
    assert_eq!(db.value(INVALID).as_deref(), Some("0"));
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass").as_deref(),
        Some("t")
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", &db.url]).code, 0);

    // Without retries: the deploy fails, drops the INVALID index, and says where it stopped.
    dir.write(
        "migrations/3_unique/migration.sql",
        "-- haste:lock-timeout 100ms\n-- haste:retries 0\nCREATE UNIQUE INDEX CONCURRENTLY t_id_v_key ON t (id, v);\n",
    );
    let holder = old_snapshot(&db.url);
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(
        failed.stderr.contains("55P03") && failed.stderr.contains("3_unique/migration.sql:3:"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("was dropped"), "says the INVALID index was dropped: {failed:?}");
    assert!(failed.stderr.contains("stopped after 0 statement(s)"), "{failed:?}");
    assert_eq!(db.value(INVALID).as_deref(), Some("0"), "no INVALID index remains");
    assert_eq!(db.value("SELECT to_regclass('t_id_v_key') IS NULL").as_deref(), Some("t"));
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 7, "{status:?}");
    assert!(status.stdout.contains("FAILED      3_unique  (0 of 1 statements done)  [55P03]"), "{status:?}");
    let doctor = haste(dir.path(), &["doctor", "--url", &db.url]);
    assert_eq!(doctor.code, 11, "{doctor:?}");
    assert!(doctor.stdout.contains("pass invalid indexes: none"), "{doctor:?}");
    assert!(doctor.stdout.contains("FAIL migrations") && doctor.stdout.contains("1 failed"), "{doctor:?}");
    holder.execute("COMMIT");
    let resumed = haste(dir.path(), &["migrate", "resolve", "--url", &db.url, "--resume", "3_unique"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(db.value(INVALID).as_deref(), Some("0"));
    assert_eq!(haste(dir.path(), &["doctor", "--url", &db.url]).code, 0);
}

/// Takes `LOCK TABLE _haste_migrations IN ACCESS EXCLUSIVE MODE` as soon as the deploy runs
/// `marker`, holds it for `hold`, then commits.
fn lock_history_while(db: &TestDb, marker: &str, hold: Duration) -> std::thread::JoinHandle<()> {
    let url = db.url.clone();
    let probe = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()"
    );
    std::thread::spawn(move || {
        assert!(haste_testkit::wait_until(Duration::from_secs(20), || {
            haste_testkit::query(&url, &probe)[0][0].as_deref() == Some("1")
        }));
        let session = Session::connect(&url);
        session.execute("BEGIN; LOCK TABLE _haste_migrations IN ACCESS EXCLUSIVE MODE");
        std::thread::sleep(hold);
        session.execute("COMMIT");
    })
}

#[test]
fn a_blocked_history_write_never_leaves_history_contradicting_the_database() {
    let Some(db) = database() else { return };
    let dir = crate::migrations(&[("0_base", "CREATE TABLE base (id int);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let exists =
        |name: &str| db.value(&format!("SELECT to_regclass('{name}') IS NOT NULL")).as_deref() == Some("t");
    let row = |name: &str| {
        db.query(&format!("SELECT status, statements_done FROM _haste_migrations WHERE name = '{name}'"))
            .into_iter()
            .next()
            .map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap()))
    };

    // A transaction whose history write times out rolls back whole; the session stays usable
    // (the lock is released, and the next deploy is not kept waiting).
    dir.write(
        "migrations/1_tx/migration.sql",
        "-- haste:lock-timeout 100ms\n-- haste:retries 0\nCREATE TABLE a AS SELECT 1 AS one FROM pg_sleep(0.4);\n",
    );
    let holder = lock_history_while(&db, "pg_sleep(0.4)", Duration::from_millis(1500));
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    holder.join().unwrap();
    assert_ne!(failed.code, 0, "{failed:?}");
    assert!(!failed.all().contains("25P02") && !failed.all().contains("aborted"), "{failed:?}");
    assert!(failed.stderr.contains("nothing applied"), "{failed:?}");
    assert!(!exists("a"), "{failed:?}");
    assert_eq!(row("1_tx"), None);
    assert!(haste(dir.path(), &["migrate", "unlock", "--url", &db.url]).stdout.contains("free"));
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 3, "pending: {status:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--lock-wait", "1s"]).code, 0);
    assert!(exists("a"));

    // A statement run alone whose progress write times out: the statement is done, so its
    // record is retried (never the statement) until the history table is free again; history
    // never says fewer statements are done than ran.
    dir.write(
        "migrations/2_step/migration.sql",
        "-- haste:transaction off\n-- haste:lock-timeout 100ms\n-- haste:retries 0\n\
         CREATE TABLE b (id int);\nCREATE TABLE c AS SELECT 1 AS one FROM pg_sleep(0.4);\nCREATE TABLE d (id int);\n",
    );
    let holder = lock_history_while(&db, "pg_sleep(0.4)", Duration::from_millis(1500));
    let waited = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    holder.join().unwrap();
    assert_eq!(waited.code, 0, "{waited:?}");
    assert!(waited.stdout.contains("retrying"), "{waited:?}");
    assert!(exists("b") && exists("c") && exists("d"), "{waited:?}");
    assert_eq!(row("2_step"), Some(("applied".to_owned(), "3".to_owned())));
    let once = db.value("SELECT count(*) FROM _haste_events WHERE name = '2_step' AND event = 'applied'");
    assert_eq!(once.as_deref(), Some("1"));
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", &db.url]).code, 0);
}
