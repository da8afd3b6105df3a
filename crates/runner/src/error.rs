//! Why a run stopped, as data. The command line words it and picks the exit code.

use std::path::PathBuf;
use std::time::Duration;

use haste_driver::{DbError, LockHolder};

/// A place in a migration file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourcePosition {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The lines around it, numbered.
    pub snippet: Vec<(usize, String)>,
}

/// What became of a migration that failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureState {
    /// Rolled back completely: still pending, the next deploy tries again.
    RolledBack,
    /// Stopped part-way outside a transaction: recorded as failed after `statements_done`
    /// statements; deploy refuses to continue until it is resolved.
    MarkedFailed {
        /// Statements that completed.
        statements_done: usize,
    },
    /// Stopped part-way outside a transaction after `statements_done` statements, and writing
    /// that to history failed too: history still shows the migration started, with fewer
    /// statements done, and resuming would run the unrecorded ones again.
    Unrecorded {
        /// Statements that completed.
        statements_done: usize,
    },
    /// A data step stopped between batches: every batch before is committed with its
    /// progress; the next deploy resumes after `last_key`.
    DataStopped {
        /// The last key done, if any batch was.
        last_key: Option<String>,
        /// Rows done so far.
        rows_done: u64,
    },
}

/// A migration that failed to apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationFailure {
    /// The migration folder name.
    pub name: String,
    /// 0-based index of the failing statement.
    pub statement_index: usize,
    /// Where in the file.
    pub position: SourcePosition,
    /// What the database said.
    pub error: DbError,
    /// How many times it was tried.
    pub attempts: u32,
    /// What is left behind.
    pub state: FailureState,
    /// The lock budget ran out: the statement kept hitting lock timeouts or deadlocks until
    /// its deadline passed (or its retries were used up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gave_up: Option<GaveUp>,
}

/// Why the retries of a statement blocked by other sessions' locks ended, and by whom it was
/// blocked last.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GaveUp {
    /// What ended them: the lock budget's deadline, or the cap on retries.
    pub by: GaveUpBy,
    /// The lock budget's deadline, in milliseconds.
    pub deadline_ms: u64,
    /// Attempts made, the last included.
    pub attempts: u32,
    /// The sessions holding locks on the statement's tables after the last attempt (pid,
    /// application name, since when; never their query text).
    pub blockers: Vec<LockHolder>,
}

/// What ended the retries of a blocked statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GaveUpBy {
    /// The next attempt would have started after the deadline (`--lock-deadline`).
    Deadline,
    /// The migration's or the run's `retries` were used up.
    Retries,
}

/// A statement that would act outside the shadow database it was meant for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutsideStatement {
    /// Where it is.
    pub position: SourcePosition,
    /// What it is (`DROP DATABASE`, `a call of pg_read_file`).
    pub what: String,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database request outside any migration failed.
    #[error("{context}: {source}")]
    Database {
        /// What haste was doing.
        context: &'static str,
        /// What the database said.
        source: DbError,
    },
    /// The migrations folder could not be read.
    #[error(transparent)]
    Folder(#[from] haste_migrations::Error),
    /// An applied migration's file changed since it was applied.
    #[error("migration {name} was modified after it was applied ({file})")]
    ChecksumMismatch {
        /// The migration.
        name: String,
        /// Its file.
        file: PathBuf,
        /// Checksum stored in history.
        applied: String,
        /// Checksum of the file now.
        current: String,
    },
    /// Applied migrations whose folders are gone.
    #[error("applied migrations are missing from the migrations folder: {}", names.join(", "))]
    MissingFiles {
        /// Their names.
        names: Vec<String>,
    },
    /// A pending migration sorts before one already applied.
    #[error("migration {pending} is pending but sorts before {newest_applied}, which is already applied")]
    OutOfOrder {
        /// The pending migration.
        pending: String,
        /// The newest applied one.
        newest_applied: String,
    },
    /// `migration_lock.toml` names another database.
    #[error("the migrations folder is for provider `{folder}`, but the database is `{database}`")]
    ProviderMismatch {
        /// Provider in `migration_lock.toml`.
        folder: String,
        /// Provider of the connection.
        database: String,
    },
    /// `-- haste:transaction on` with a statement that cannot run in a transaction.
    #[error("migration {name} forces a transaction but contains {construct}")]
    ForcedTransactionConflict {
        /// The migration.
        name: String,
        /// Where the statement is.
        position: SourcePosition,
        /// What it is.
        construct: &'static str,
    },
    /// A data step's header names a table or key column that is not in the database, and the
    /// statements of its migration do not create it.
    #[error("{file}:{line}: {message}", file = file.display())]
    DataHeader {
        /// The migration.
        name: String,
        /// `data.sql`.
        file: PathBuf,
        /// The header's line.
        line: usize,
        /// What is missing.
        message: String,
    },
    /// The environment takes deploys only within its window (`window` in haste.toml).
    #[error("outside the deploy window ({window})")]
    OutsideWindow {
        /// The window, as written.
        window: String,
    },
    /// The environment takes only migrations its source environment applied (`promote_from`).
    #[error("not applied in {from} yet: {}", names.join(", "))]
    NotPromoted {
        /// The source environment.
        from: String,
        /// The pending migrations it has not applied with the same file.
        names: Vec<String>,
    },
    /// A file opens a transaction it never ends (`BEGIN` without `COMMIT`, a chained part with
    /// statements and no end): its work would be rolled back when the session ends.
    #[error("migration {name} opens a transaction it never ends")]
    UnterminatedTransaction {
        /// The migration.
        name: String,
        /// Where the `BEGIN` (or chain) that opens it is.
        position: SourcePosition,
    },
    /// The seed opens a transaction it never ends: its work would be rolled back when the
    /// session ends, after `reset` had emptied the database and said the seed ran.
    #[error("the seed opens a transaction it never ends")]
    SeedUnterminatedTransaction {
        /// Where the `BEGIN` (or chain) that opens it is.
        position: SourcePosition,
    },
    /// A file uses two-phase commit, which leaves a prepared transaction holding its locks
    /// after the session ends, until someone commits it by hand.
    #[error("migration {name} uses two-phase commit ({construct})")]
    TwoPhaseCommit {
        /// The migration.
        name: String,
        /// Where the statement is.
        position: SourcePosition,
        /// The statement's first words.
        construct: String,
    },
    /// Another run holds the migration lock for longer than the configured wait.
    #[error("timed out after {waited:?} waiting for the migration lock")]
    LockTimeout {
        /// How long haste waited.
        waited: Duration,
        /// Who holds it, when known.
        holder: Option<LockHolder>,
    },
    /// The connection goes through a transaction-mode pooler, where a session lock protects nothing.
    #[error(
        "the connection goes through a transaction-mode pooler (two statements reached different server processes)"
    )]
    PoolerDetected,
    /// The session no longer holds the migration lock it took.
    #[error("the migration lock was lost (the session changed or was reset)")]
    LockLost,
    /// An earlier run left a migration failed or interrupted.
    #[error("migration {name} is {state} {}; resolve it first", match down_statements_done {
        Some(done) => format!("while being reverted: its down.sql stopped after {done} statement(s)"),
        None => format!("after {statements_done} of {statements_total} statements"),
    })]
    Blocked {
        /// The migration.
        name: String,
        /// `failed`, `interrupted` (haste's record says `running`, and no run holds the lock), or
        /// Prisma's `running`.
        state: &'static str,
        /// Statements that completed.
        statements_done: i64,
        /// Statements in the file.
        statements_total: i64,
        /// Where it stopped while its `down.sql` ran: how many of those statements completed.
        down_statements_done: Option<i64>,
        /// Whose history says so.
        recorded_by: crate::RecordedBy,
    },
    /// The named migration is not in the migrations folder.
    #[error("no migration named {name} in the migrations folder")]
    UnknownMigration {
        /// The name given.
        name: String,
    },
    /// `resolve` was asked for something the migration's state does not allow.
    #[error("cannot resolve {name}: {reason}")]
    NotResolvable {
        /// The migration.
        name: String,
        /// Why not.
        reason: String,
    },
    /// `resolve --resume` on a migration whose file changed after it stopped.
    #[error("migration {name} was edited after it stopped")]
    EditedBeforeResume {
        /// The migration.
        name: String,
        /// Its `migration.sql`.
        file: PathBuf,
        /// Statements that ran before it stopped.
        statements_done: usize,
        /// The first statement that already ran and is no longer the same (or cannot be told
        /// to be), if any: its new text would never run.
        changed_statement_done: Option<usize>,
    },
    /// A failed `CREATE INDEX CONCURRENTLY` left an invalid index that must go before a retry.
    #[error("migration {name} left the invalid index {index}; drop it first: {drop_statement}")]
    InvalidIndexLeft {
        /// The migration.
        name: String,
        /// The index, quoted and qualified as in the migration.
        index: String,
        /// The exact statement that drops it.
        drop_statement: String,
    },
    /// `down` needs a `down.sql` the migration does not have.
    #[error("migration {name} has no down.sql ({path}); it cannot be reverted")]
    NoDownFile {
        /// The migration.
        name: String,
        /// Where the file was looked for.
        path: PathBuf,
    },
    /// The environment forbids the command without an explicit confirmation flag, or at all.
    #[error("refusing to {action} in the {environment} environment {}", match flag {
        Some(flag) => format!("without {flag}"),
        None => "(no flag allows it)".to_owned(),
    })]
    Refused {
        /// What was refused.
        action: &'static str,
        /// The environment.
        environment: String,
        /// The flag that confirms it; `None`: nothing does.
        flag: Option<&'static str>,
    },
    /// The seed after `reset` failed.
    #[error("seed {} failed", .0.name)]
    SeedFailed(Box<MigrationFailure>),
    /// A schema written as SQL (`schema.sql` or a folder of files) failed on the shadow
    /// database it was loaded into; the shadow is dropped, nothing else was touched.
    #[error("schema file {} failed on the shadow database", .0.name)]
    SourceFailed(Box<MigrationFailure>),
    /// A migration of the history failed while it was replayed on a shadow database (`migrate
    /// dev`, `status --drift`, `schema diff` from a folder): nothing but the shadow, which is
    /// dropped, was touched; the migration's record in the target database is unchanged.
    #[error("migration {} failed on the shadow database", .0.name)]
    ReplayFailed(Box<MigrationFailure>),
    /// A schema source or a history to replay on a shadow database holds statements that act
    /// outside it (other databases, roles, the server's files or settings); nothing ran.
    #[error(
        "{}:{}: {} acts outside the shadow database; nothing was run",
        .statements[0].position.file.display(),
        .statements[0].position.line,
        .statements[0].what
    )]
    OutsideShadow {
        /// Each such statement, in file order.
        statements: Vec<OutsideStatement>,
    },
    /// A migration failed.
    #[error("migration {} failed", .0.name)]
    MigrationFailed(Box<MigrationFailure>),
}

impl Error {
    pub(crate) fn database(context: &'static str) -> impl FnOnce(DbError) -> Error {
        move |source| Error::Database { context, source }
    }
}
