//! What a database driver must provide to the runner, and nothing of the runner's policy.
//!
//! # Brief overview
//! - [`Connection`]: the primitives (lock, history, execution) that the PostgreSQL and SQLite
//!   drivers implement. The algorithm that calls them lives in `haste-runner`, written once.
//! - [`DatabaseUrl`]: a connection string whose password never reaches a `Display`, `Debug` or
//!   `Serialize` output.
//! - [`DbError`]: what the database said, as data (SQLSTATE, message, detail, hint, position).
//! - [`history`]: the layout of haste's history tables and the SQL that writes them.

mod error;
pub mod history;
mod url;

pub use error::{ConnectError, DbError, StepError};
pub use url::{DatabaseUrl, Scheme, UrlError};

use haste_sql::{Dialect, Lock, LockedObject};
use std::time::Duration;

use history::{HistoryRow, HistoryTables, HistoryWrite, PrismaRow};
use std::path::Path;

/// Per-statement limits, applied before the statements they govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// How long a statement may wait for a lock (`lock_timeout`); `None` or zero: forever.
    pub lock_timeout: Option<Duration>,
    /// How long a statement may run (`statement_timeout`); zero: forever; `None`: as the
    /// server says (the role's or database's own setting), which haste leaves as it is.
    pub statement_timeout: Option<Duration>,
}

/// A session that holds the migration lock, as far as the database can tell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockHolder {
    /// Backend process id (PostgreSQL) or operating-system process id (SQLite).
    pub pid: i64,
    /// `application_name` of the session, or the program that holds the lock file.
    pub application_name: String,
    /// Since when it holds the lock (or since when its session exists), as the database prints it.
    pub since: String,
    /// What the session is doing (`active`, `idle in transaction`, ...), where the database says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// How long its transaction has been open, in milliseconds, where the database says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_ms: Option<u64>,
    /// The session is an autovacuum worker (PostgreSQL), which has no application name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autovacuum: Option<Autovacuum>,
    /// The global id of a prepared transaction (two-phase commit) that holds the lock: it has no
    /// session (`pid` 0) and outlives every one; only `COMMIT PREPARED` or `ROLLBACK PREPARED`
    /// with this id ends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepared: Option<String>,
}

impl LockHolder {
    /// Who it is, for people: `pid 123 (app) since ...`, or a prepared transaction by its id
    /// (quoted with its control characters escaped: an id may hold a newline).
    pub fn describe(&self) -> String {
        match &self.prepared {
            Some(gid) => format!(
                "prepared transaction {gid:?} (prepared {}; only COMMIT PREPARED or ROLLBACK PREPARED ends it)",
                self.since
            ),
            None => format!("pid {} ({}) since {}", self.pid, self.application_name, self.since),
        }
    }

    /// What `since` is the start of, for people: `transaction since ...`, or `connected since
    /// ...` for a PostgreSQL session in no transaction (idle), whose time is its connection's;
    /// `None` when the database showed no time (a role that may not see the session).
    pub fn since_phrase(&self) -> Option<String> {
        if self.since.is_empty() {
            return None;
        }
        let idle = self.transaction_ms.is_none() && self.state.is_some();
        Some(match idle {
            true => format!("connected since {}", self.since),
            false => format!("transaction since {}", self.since),
        })
    }
}

/// What an autovacuum worker holding a table runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Autovacuum {
    /// An ordinary one, which the server cancels for a lock waiter past `deadlock_timeout`.
    Ordinary,
    /// One that prevents transaction id wraparound: never cancelled, by the server or anyone.
    ToPreventWraparound,
}

/// An index in the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexRef {
    /// Its schema (`main` on SQLite).
    pub schema: String,
    /// Its name.
    pub name: String,
    /// The table it indexes.
    pub table: String,
}

/// What the connected role may do, for `haste doctor`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// May create (or already owns and can write) the history tables.
    pub can_write_history: bool,
    /// May create databases (needed for a shadow database).
    pub can_create_database: bool,
    /// Is a superuser.
    pub superuser: bool,
    /// May create roles (a shadow database's own role, which confines what runs there).
    pub can_create_role: bool,
}

/// Statements run inside a transaction the driver has open, for migrations written in code.
pub trait Executor {
    /// Runs statements.
    fn execute(&mut self, sql: &str) -> Result<(), DbError>;
    /// The first row of a query, its values as text; `None` when it returns no row.
    fn query_row(&mut self, sql: &str) -> Result<Option<Vec<Option<String>>>, DbError>;
}

/// The body of a migration written in code.
pub type CodeBody<'a> = &'a mut dyn FnMut(&mut dyn Executor) -> Result<(), DbError>;

/// The primitives a driver implements. Each call is one step the runner decides on; none of
/// them decides what to run next.
pub trait Connection {
    /// The grammar scripts for this database are split in.
    fn dialect(&self) -> Dialect;
    /// The provider name Prisma writes into `migration_lock.toml` for this database.
    fn provider(&self) -> &'static str;
    /// A short description of the server (`PostgreSQL 15.18`, `SQLite 3.50.2`).
    fn server_version(&mut self) -> Result<String, DbError>;

    /// Whether this session may be behind a transaction-mode pooler, where a session lock would
    /// not protect anything: two autocommit statements reached different backends.
    fn behind_transaction_pooler(&mut self) -> Result<bool, DbError>;
    /// Tries once to take the migration lock; never waits.
    fn try_lock(&mut self) -> Result<bool, DbError>;
    /// Who holds the migration lock, if anybody can be named.
    fn lock_holder(&mut self) -> Result<Option<LockHolder>, DbError>;
    /// Whether this session still holds the lock it took.
    fn holds_lock(&mut self) -> Result<bool, DbError>;
    /// Releases the migration lock.
    fn unlock(&mut self) -> Result<(), DbError>;
    /// The other sessions that hold a lock on any of `tables` (names as SQL text) or on their
    /// partitions and inheritance children (a statement on a table locks those too) in a mode
    /// that conflicts with `lock`, oldest transaction first: whom a statement taking `lock` on
    /// them waits for. Empty where the database cannot tell.
    fn lock_holders(&mut self, tables: &[String], lock: Lock) -> Result<Vec<LockHolder>, DbError>;
    /// How many relations a statement naming each of `tables` locks: the table and its
    /// partitions and inheritance children, each a lock of its own to wait for; 0 for a table
    /// that does not exist (yet). Each table is the names (SQL text) it may have, in the order
    /// of a search path: the first that exists counts. Each 1 where the database cannot tell.
    fn relations_locked(&mut self, tables: &[Vec<String>]) -> Result<Vec<usize>, DbError>;
    /// The other sessions that hold a lock on any of `objects` (routines and types, every
    /// overload of a routine's name), oldest transaction first: whom a statement that locks
    /// them by name waits for. Empty where the database cannot tell.
    fn object_lock_holders(&mut self, objects: &[LockedObject]) -> Result<Vec<LockHolder>, DbError>;
    /// The other sessions of this database whose open transaction holds a snapshot, oldest
    /// first: whom the last phases of a concurrent index build wait for. Empty where the
    /// database cannot tell.
    fn snapshot_holders(&mut self) -> Result<Vec<LockHolder>, DbError>;

    /// Creates the history tables when they are missing.
    fn ensure_history(&mut self, tables: &HistoryTables) -> Result<(), DbError>;
    /// Reads the current state of every migration recorded; empty when there are no history
    /// tables yet (reading never creates them).
    fn history(&mut self, tables: &HistoryTables) -> Result<Vec<HistoryRow>, DbError>;
    /// Writes history in a transaction of its own, or inside the transaction the session has
    /// open when `in_open_transaction` (a script that manages its own transaction).
    fn record(
        &mut self,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
        in_open_transaction: bool,
    ) -> Result<(), DbError>;

    /// Runs `statements` in one transaction under `limits`, then `writes`, then commits; on any
    /// error rolls everything back and says which statement failed (`statements.len()` for the
    /// history writes).
    fn run_in_transaction(
        &mut self,
        limits: Limits,
        statements: &[&str],
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), StepError>;
    /// Opens a transaction under `limits`, hands it to `body`, then writes `writes` and
    /// commits; rolls everything back when `body` or the writes fail.
    fn run_code(
        &mut self,
        limits: Limits,
        body: CodeBody<'_>,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), DbError>;
    /// Runs one statement outside any transaction under `limits`.
    fn run_alone(&mut self, limits: Limits, statement: &str) -> Result<(), DbError>;
    /// Runs one statement exactly as written in the session as it is (for scripts that manage
    /// their own transactions); `limits` are applied at session level.
    fn run_as_written(&mut self, limits: Limits, statement: &str) -> Result<(), DbError>;
    /// Puts the session's settings back as they were when it connected, before a migration: a
    /// session-level `SET` of the one before (`search_path`, `session_replication_role`, a role)
    /// must not change what this one does, or a migration would do one thing deployed with it
    /// and another in a later deploy.
    fn reset_session(&mut self) -> Result<(), DbError>;

    /// Every row of a query, its values as text (`None` for NULL). Runs in autocommit.
    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError>;
    /// The first row of a query, as [`Connection::query_rows`]; `None` when it returns no row.
    fn query_row(&mut self, sql: &str) -> Result<Option<Vec<Option<String>>>, DbError> {
        Ok(self.query_rows(sql)?.into_iter().next())
    }
    /// Prisma Migrate's history, when the database has a `_prisma_migrations` table.
    fn prisma_history(&mut self) -> Result<Option<Vec<PrismaRow>>, DbError>;
    /// Whether the index `name` (as SQL text, quoted and possibly schema-qualified) exists, and
    /// if so whether it is valid (a failed `CREATE INDEX CONCURRENTLY` leaves it invalid).
    fn index_validity(&mut self, name: &str) -> Result<Option<bool>, DbError>;
    /// Every invalid index.
    fn invalid_indexes(&mut self) -> Result<Vec<IndexRef>, DbError>;
    /// Drops every object in every non-system schema (PostgreSQL) or the whole database
    /// content (SQLite), leaving an empty database with an empty `public` schema.
    fn drop_all_objects(&mut self) -> Result<(), DbError>;
    /// Ends another session (the holder of a stale lock).
    fn terminate_session(&mut self, pid: i64) -> Result<bool, DbError>;
    /// What the connected role may do.
    fn capabilities(&mut self, tables: &HistoryTables) -> Result<Capabilities, DbError>;
    /// Writes a full backup of the database to `path` (`pg_dump`, or SQLite's `VACUUM INTO`),
    /// readable by its owner only (through [`write_backup`]).
    fn backup(&mut self, path: &Path) -> Result<(), DbError>;
}

/// Writes a backup to `path` with `dump` (a backup tool writing into the file), the file made
/// owner-only first. A dump that fails removes the file when this call created it, so no half
/// a backup is left to be restored from (one that existed is the caller's, left as the tool left it).
pub fn write_backup(path: &Path, dump: impl FnOnce() -> Result<(), DbError>) -> Result<(), DbError> {
    let created = !path.exists();
    private_backup_file(path)?;
    dump().inspect_err(|_| {
        if created {
            let _ = std::fs::remove_file(path);
        }
    })
}

/// Makes `path` a file only its owner may read or write (mode 0600) before a backup tool writes
/// into it: created empty when missing, its mode narrowed when it exists (its contents are left
/// to the tool: `pg_dump` replaces them, `VACUUM INTO` refuses a file that is not empty). A
/// backup holds every row, so it must never be readable by others, not even while written.
fn private_backup_file(path: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |error: std::io::Error| DbError::message(format!("{}: {error}", path.display()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)
}
