//! The SQLite driver: implements [`haste_driver::Connection`] on an embedded SQLite
//! (`rusqlite` with the bundled library, so no system SQLite is needed).
//!
//! The migration lock is an operating-system lock on a file beside the database
//! (`<db>.haste-lock`): the kernel releases it when the process dies, so a crash never leaves a
//! stale lock, and it never changes SQLite's own locking mode (Prisma's `locking_mode=EXCLUSIVE`
//! blocks every other process for the whole run).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use haste_driver::history::{
    HistoryRow, HistoryTables, HistoryWrite, MigrationStatus, PRISMA_SELECT, PROGRESS_TABLE, PrismaRow,
};
use haste_driver::{
    Capabilities, CodeBody, ConnectError, Connection, DatabaseUrl, DbError, Executor, IndexRef, Limits,
    LockHolder, StepError,
};
use haste_sql::{Dialect, Lock, LockedObject, quote_ident, quote_literal};

/// The connection-level pragmas that change what a later statement does, which a migration
/// may set and the next migration must not inherit.
const SESSION_PRAGMAS: [&str; 11] = [
    "foreign_keys",
    "defer_foreign_keys",
    "recursive_triggers",
    "ignore_check_constraints",
    "query_only",
    "writable_schema",
    "legacy_alter_table",
    "reverse_unordered_selects",
    "trusted_schema",
    "automatic_index",
    "cell_size_check",
];

/// How long a statement waits for another connection's write lock when no limit is set.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What opening does when the database file does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create it, empty (commands that apply migrations, as Prisma Migrate creates it).
    Create,
    /// Refuse (commands that only read).
    Refuse,
}

/// A SQLite database file opened for one run.
pub struct SqliteConnection {
    connection: rusqlite::Connection,
    lock_path: Option<PathBuf>,
    lock_file: Option<File>,
    application_name: String,
    /// The [`SESSION_PRAGMAS`] as the connection opened with them ([`Connection::reset_session`]).
    pragmas_at_open: Vec<(&'static str, i64)>,
}

impl SqliteConnection {
    /// Up to `limit` rows of a query, their values as text (`None` for NULL).
    fn rows(&mut self, sql: &str, limit: usize) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let mut statement = self.connection.prepare(sql).map_err(|error| db_error(sql, error))?;
        let width = statement.column_count();
        let mut rows = statement.query([]).map_err(|error| db_error(sql, error))?;
        let mut found = Vec::new();
        while found.len() < limit
            && let Some(row) = rows.next().map_err(|error| db_error(sql, error))?
        {
            found.push(
                (0..width)
                    .map(|i| match row.get_ref(i) {
                        Ok(rusqlite::types::ValueRef::Null) | Err(_) => None,
                        Ok(rusqlite::types::ValueRef::Integer(n)) => Some(n.to_string()),
                        Ok(rusqlite::types::ValueRef::Real(x)) => Some(x.to_string()),
                        Ok(rusqlite::types::ValueRef::Text(t)) | Ok(rusqlite::types::ValueRef::Blob(t)) => {
                            Some(String::from_utf8_lossy(t).into_owned())
                        }
                    })
                    .collect(),
            );
        }
        Ok(found)
    }

    /// Opens the database file `url` names: `sqlite:path`, `sqlite://path` or `file:path`; a
    /// query string is ignored. A missing file is created or refused as `missing` says.
    pub fn open(
        url: &DatabaseUrl,
        application_name: &str,
        missing: Missing,
    ) -> Result<SqliteConnection, ConnectError> {
        let path = database_path(url.expose());
        let failed =
            |reason: String| ConnectError { target: format!("SQLite database {}", path.display()), reason };
        if missing == Missing::Refuse && path.as_os_str() != ":memory:" && !path.exists() {
            // A read-only command on a misspelt name must not answer for an empty database it
            // just made (and leave the file behind).
            return Err(failed("the file does not exist (migrate deploy creates it)".into()));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(failed(format!("folder {} does not exist", parent.display())));
        }
        let connection = rusqlite::Connection::open(&path).map_err(|error| failed(error.to_string()))?;
        connection.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(|error| failed(error.to_string()))?;
        let pragmas_at_open = SESSION_PRAGMAS
            .iter()
            .map(|&name| {
                connection
                    .query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, i64>(0))
                    .map(|value| (name, value))
            })
            .collect::<Result<_, _>>()
            .map_err(|error| failed(error.to_string()))?;
        let in_memory = path.as_os_str() == ":memory:";
        let lock_path = (!in_memory).then(|| {
            // One lock file per database file, however it is reached (a symlink, `..`).
            let mut name = path.canonicalize().unwrap_or_else(|_| path.clone()).into_os_string();
            name.push(".haste-lock");
            PathBuf::from(name)
        });
        Ok(SqliteConnection {
            connection,
            lock_path,
            lock_file: None,
            application_name: application_name.to_owned(),
            pragmas_at_open,
        })
    }

    fn execute(&self, sql: &str) -> Result<(), DbError> {
        self.connection.execute_batch(sql).map_err(|error| db_error(sql, error))
    }

    /// History writes and `COMMIT`, once the transaction is known to be still open (a
    /// statement such as `INSERT OR ROLLBACK` can end it early, leaving later ones in autocommit).
    fn commit_with(&self, tables: &HistoryTables, writes: &[HistoryWrite<'_>]) -> Result<(), DbError> {
        self.transaction_still_open()?;
        self.execute(&tables.commit_with(Dialect::Sqlite, writes))
    }

    fn transaction_still_open(&self) -> Result<(), DbError> {
        if self.connection.is_autocommit() {
            return Err(DbError {
                transaction_ended_early: true,
                ..DbError::message(
                    "the transaction had ended before haste's history write and COMMIT: \
                     statements after the one that ended it may have run outside it",
                )
            });
        }
        Ok(())
    }

    fn apply_limits(&self, limits: Limits) -> Result<(), DbError> {
        let busy = limits.lock_timeout.filter(|t| !t.is_zero()).unwrap_or(DEFAULT_BUSY_TIMEOUT);
        self.connection.busy_timeout(busy).map_err(|error| db_error("", error))
    }

    fn history_exists(&self, tables: &HistoryTables) -> Result<bool, DbError> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [PROGRESS_TABLE],
                |row| row.get(0),
            )
            .map_err(|error| db_error("", error))
            .map(|exists: bool| exists && tables.schema.is_none())
    }
}

fn database_path(url: &str) -> PathBuf {
    let rest = ["sqlite://", "sqlite:", "file://", "file:"]
        .iter()
        .find_map(|prefix| url.strip_prefix(prefix))
        .unwrap_or(url);
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    PathBuf::from(rest)
}

impl Connection for SqliteConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn provider(&self) -> &'static str {
        "sqlite"
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        Ok(format!("SQLite {}", rusqlite::version()))
    }

    fn behind_transaction_pooler(&mut self) -> Result<bool, DbError> {
        Ok(false)
    }

    fn try_lock(&mut self) -> Result<bool, DbError> {
        let Some(path) = &self.lock_path else {
            return Ok(true);
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|error| io_error(path, error))?;
        match file.try_lock() {
            Ok(()) => {
                let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                let holder = format!("{}\n{}\n{}\n", std::process::id(), self.application_name, since);
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| file.write_all(holder.as_bytes()))
                    .map_err(|error| io_error(path, error))?;
                self.lock_file = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(error)) => Err(io_error(path, error)),
        }
    }

    fn lock_holder(&mut self) -> Result<Option<LockHolder>, DbError> {
        let Some(path) = &self.lock_path else {
            return Ok(None);
        };
        let mut text = String::new();
        match File::open(path).and_then(|mut file| file.read_to_string(&mut text)) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(path, error)),
        }
        let mut lines = text.lines();
        let pid = lines.next().and_then(|pid| pid.parse().ok());
        Ok(pid.map(|pid| LockHolder {
            pid,
            application_name: lines.next().unwrap_or_default().to_owned(),
            since: lines.next().map(|secs| format!("unix time {secs}")).unwrap_or_default(),
            state: None,
            autovacuum: None,
            transaction_ms: None,
            prepared: None,
        }))
    }

    fn holds_lock(&mut self) -> Result<bool, DbError> {
        Ok(self.lock_path.is_none() || self.lock_file.is_some())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        if let Some(file) = self.lock_file.take() {
            let _ = file.set_len(0);
            file.unlock()
                .map_err(|error| io_error(self.lock_path.as_deref().unwrap_or(Path::new("")), error))?;
        }
        Ok(())
    }

    fn lock_holders(&mut self, _tables: &[String], _lock: Lock) -> Result<Vec<LockHolder>, DbError> {
        // SQLite locks the whole file and does not say who holds it.
        Ok(Vec::new())
    }

    fn relations_locked(&mut self, tables: &[Vec<String>]) -> Result<Vec<usize>, DbError> {
        // SQLite locks the whole file once.
        Ok(vec![1; tables.len()])
    }

    fn object_lock_holders(&mut self, _objects: &[LockedObject]) -> Result<Vec<LockHolder>, DbError> {
        // SQLite has no routines or types to lock.
        Ok(Vec::new())
    }

    fn snapshot_holders(&mut self) -> Result<Vec<LockHolder>, DbError> {
        // A SQLite reader does not hold back a writer's index build.
        Ok(Vec::new())
    }

    fn ensure_history(&mut self, tables: &HistoryTables) -> Result<(), DbError> {
        if self.history_exists(tables)? {
            return Ok(());
        }
        // One transaction: a run killed half-way must not leave one table without the other.
        let statements = tables.create_statements(Dialect::Sqlite).join(";\n");
        self.execute(&format!("BEGIN IMMEDIATE;\n{statements};\nCOMMIT"))?;
        Ok(())
    }

    fn history(&mut self, tables: &HistoryTables) -> Result<Vec<HistoryRow>, DbError> {
        if !self.history_exists(tables)? {
            return Ok(Vec::new());
        }
        let sql = tables.select_statement(Dialect::Sqlite);
        let mut statement = self.connection.prepare(&sql).map_err(|error| db_error(&sql, error))?;
        let rows = statement
            .query_map([], |row| {
                Ok(HistoryRow {
                    name: row.get(0)?,
                    status: MigrationStatus::parse(&row.get::<_, String>(1)?),
                    checksum: row.get(2)?,
                    transactional: row.get(3)?,
                    statements_total: row.get(4)?,
                    statements_done: row.get(5)?,
                    finished_at: row.get(6)?,
                    duration_ms: row.get(7)?,
                    last_error: row.get(8)?,
                    data_last_key: row.get(9)?,
                    data_rows_done: row.get(10)?,
                })
            })
            .map_err(|error| db_error(&sql, error))?;
        rows.collect::<Result<_, _>>().map_err(|error| db_error(&sql, error))
    }

    fn record(
        &mut self,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
        in_open_transaction: bool,
    ) -> Result<(), DbError> {
        if in_open_transaction {
            self.transaction_still_open()?;
        }
        let mut sql: Vec<String> = writes.iter().map(|write| tables.render(Dialect::Sqlite, write)).collect();
        if !in_open_transaction {
            sql.insert(0, "BEGIN IMMEDIATE".into());
            sql.push("COMMIT".into());
        }
        let result = self.execute(&sql.join(";\n"));
        if result.is_err() && !in_open_transaction && !self.connection.is_autocommit() {
            let _ = self.execute("ROLLBACK");
        }
        result
    }

    fn run_in_transaction(
        &mut self,
        limits: Limits,
        statements: &[&str],
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), StepError> {
        // SQLite stops reading a statement at a NUL byte: the rest would be skipped silently.
        if let Some(index) = statements.iter().position(|statement| statement.contains('\0')) {
            return Err(StepError { index, error: nul_byte_error() });
        }
        self.apply_limits(limits).map_err(|error| StepError { index: 0, error })?;
        // IMMEDIATE takes the write lock up front, so two runners never both read then upgrade.
        self.execute("BEGIN IMMEDIATE").map_err(|error| StepError { index: 0, error })?;
        let result = statements
            .iter()
            .enumerate()
            .try_for_each(|(index, statement)| {
                self.execute(statement).map_err(|error| StepError { index, error })
            })
            .and_then(|()| {
                self.commit_with(tables, writes).map_err(|error| StepError { index: statements.len(), error })
            });
        if result.is_err() && !self.connection.is_autocommit() {
            let _ = self.execute("ROLLBACK");
        }
        result
    }

    fn run_alone(&mut self, limits: Limits, statement: &str) -> Result<(), DbError> {
        if statement.contains('\0') {
            return Err(nul_byte_error());
        }
        self.apply_limits(limits)?;
        self.execute(statement)
    }

    fn run_as_written(&mut self, limits: Limits, statement: &str) -> Result<(), DbError> {
        self.run_alone(limits, statement)
    }

    fn reset_session(&mut self) -> Result<(), DbError> {
        // The temporary objects a migration made would shadow the tables of the next one.
        // SQLite's own (`sqlite_sequence`, made by an AUTOINCREMENT table) cannot be dropped
        // and go with the tables that made them.
        const TEMPORARY: &str = "SELECT type, name FROM temp.sqlite_master \
             WHERE type IN ('view', 'trigger', 'table') AND substr(name, 1, 7) <> 'sqlite_'";
        let temporary = self.rows(TEMPORARY, usize::MAX)?;
        let drops = temporary.iter().filter_map(|row| match row.as_slice() {
            [Some(kind), Some(name)] => {
                Some(format!("DROP {} IF EXISTS temp.{}", kind.to_uppercase(), quote_ident(name)))
            }
            _ => None,
        });
        // A database a migration attached would take the next one's unqualified names that
        // main lacks (a `DROP TABLE IF EXISTS` dropped the attached file's table).
        let attached = self.rows("PRAGMA database_list", usize::MAX)?;
        let detaches = attached.iter().filter_map(|row| match row.get(1) {
            Some(Some(name)) if name != "main" && name != "temp" => {
                Some(format!("DETACH DATABASE {}", quote_ident(name)))
            }
            _ => None,
        });
        // `case_sensitive_like` cannot be read back: SQLite's default.
        let pragmas = self
            .pragmas_at_open
            .iter()
            .map(|(name, value)| format!("PRAGMA {name} = {value}"))
            .chain(std::iter::once("PRAGMA case_sensitive_like = OFF".to_owned()));
        self.execute(&drops.chain(detaches).chain(pragmas).collect::<Vec<_>>().join(";\n"))
    }

    fn run_code(
        &mut self,
        limits: Limits,
        body: CodeBody<'_>,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), DbError> {
        self.apply_limits(limits)?;
        self.execute("BEGIN IMMEDIATE")?;
        let result = body(self).and_then(|()| self.commit_with(tables, writes));
        if result.is_err() && !self.connection.is_autocommit() {
            let _ = self.execute("ROLLBACK");
        }
        result
    }

    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        self.rows(sql, usize::MAX)
    }

    fn prisma_history(&mut self) -> Result<Option<Vec<PrismaRow>>, DbError> {
        let exists: bool = self
            .connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations')",
                [],
                |row| row.get(0),
            )
            .map_err(|error| db_error("", error))?;
        if !exists {
            return Ok(None);
        }
        let mut statement =
            self.connection.prepare(PRISMA_SELECT).map_err(|error| db_error(PRISMA_SELECT, error))?;
        let rows = statement
            .query_map([], |row| {
                Ok(PrismaRow {
                    migration_name: row.get(0)?,
                    checksum: row.get(1)?,
                    finished_at: row.get(2)?,
                    rolled_back_at: row.get(3)?,
                    logs: row.get(4)?,
                })
            })
            .map_err(|error| db_error(PRISMA_SELECT, error))?;
        rows.collect::<Result<_, _>>().map(Some).map_err(|error| db_error(PRISMA_SELECT, error))
    }

    fn index_validity(&mut self, name: &str) -> Result<Option<bool>, DbError> {
        // SQLite builds indexes in a transaction: an index either exists and is valid or does not.
        let bare = name.rsplit('.').next().unwrap_or(name).trim_matches('"').replace("\"\"", "\"");
        let exists: bool = self
            .connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
                [bare],
                |row| row.get(0),
            )
            .map_err(|error| db_error("", error))?;
        Ok(exists.then_some(true))
    }

    fn invalid_indexes(&mut self) -> Result<Vec<IndexRef>, DbError> {
        Ok(Vec::new())
    }

    fn drop_all_objects(&mut self) -> Result<(), DbError> {
        let objects: Vec<(String, String)> = {
            let mut statement = self
                .connection
                .prepare(
                    "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                     AND type IN ('view', 'trigger', 'table') \
                     ORDER BY CASE type WHEN 'view' THEN 0 WHEN 'trigger' THEN 1 ELSE 2 END",
                )
                .map_err(|error| db_error("", error))?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(|error| db_error("", error))?;
            rows.collect::<Result<_, _>>().map_err(|error| db_error("", error))?
        };
        let mut sql = vec!["PRAGMA foreign_keys = OFF".to_owned(), "BEGIN IMMEDIATE".to_owned()];
        sql.extend(
            objects
                .iter()
                .map(|(kind, name)| format!("DROP {} IF EXISTS {}", kind.to_uppercase(), quote_ident(name))),
        );
        sql.push("COMMIT".into());
        sql.push("PRAGMA foreign_keys = ON".into());
        self.execute(&sql.join(";\n"))
    }

    fn terminate_session(&mut self, _pid: i64) -> Result<bool, DbError> {
        Err(DbError::message("SQLite has no sessions to end: stop the process that holds the lock file"))
    }

    fn capabilities(&mut self, _tables: &HistoryTables) -> Result<Capabilities, DbError> {
        let read_only =
            self.connection.is_readonly(rusqlite::MAIN_DB).map_err(|error| db_error("", error))?;
        Ok(Capabilities {
            can_write_history: !read_only,
            can_create_database: !read_only,
            superuser: true,
            can_create_role: false,
        })
    }

    fn backup(&mut self, path: &Path) -> Result<(), DbError> {
        let target = path.to_str().ok_or_else(|| DbError::message("the backup path is not UTF-8"))?;
        haste_driver::write_backup(path, || self.execute(&format!("VACUUM INTO {}", quote_literal(target))))
    }
}

impl Executor for SqliteConnection {
    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        SqliteConnection::execute(self, sql)
    }

    fn query_row(&mut self, sql: &str) -> Result<Option<Vec<Option<String>>>, DbError> {
        Ok(self.rows(sql, 1)?.into_iter().next())
    }
}

fn nul_byte_error() -> DbError {
    DbError::message("the statement contains a NUL byte, where SQLite would stop reading it; nothing was run")
}

fn io_error(path: &Path, error: std::io::Error) -> DbError {
    DbError::message(format!("{}: {error}", path.display()))
}

fn db_error(sql: &str, error: rusqlite::Error) -> DbError {
    match error {
        rusqlite::Error::SqlInputError { error, msg, offset, .. } => DbError {
            message: msg,
            detail: Some(format!("SQLite error {:?} (code {})", error.code, error.extended_code)),
            // SQLite reports a byte offset; haste positions count characters, as PostgreSQL's do.
            position: usize::try_from(offset)
                .ok()
                .map(|offset| sql.get(..offset).map_or(offset, |before| before.chars().count()) + 1),
            ..DbError::default()
        },
        rusqlite::Error::SqliteFailure(failure, message) => DbError {
            message: message.unwrap_or_else(|| failure.to_string()),
            detail: Some(format!("SQLite error {:?} (code {})", failure.code, failure.extended_code)),
            ..DbError::default()
        },
        other => DbError::message(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_path_from_each_url_form() {
        assert_eq!(database_path("sqlite:dev.db"), PathBuf::from("dev.db"));
        assert_eq!(database_path("sqlite://./data/dev.db?mode=rwc"), PathBuf::from("./data/dev.db"));
        assert_eq!(database_path("file:/tmp/x.db"), PathBuf::from("/tmp/x.db"));
    }
}
