//! The migration algorithm, written once for every database and every caller.
//!
//! # Brief overview
//! - [`deploy`]: take the migration lock, verify history against the folder, apply every pending
//!   migration exactly once, release the lock.
//! - [`status`]: compare history with the folder without taking the lock or writing anything.
//! - [`Observer`] receives [`RunEvent`]s as they happen (lock waits, each migration's start,
//!   retries, completion), so a command line can show progress without the runner printing.
//! - [`ExecutionMode`] says how a migration runs: in one transaction with its history row,
//!   statement by statement around constructs PostgreSQL refuses in a transaction, or exactly as
//!   written when the file manages its own transactions.
//!
//! Drivers provide primitives ([`haste_driver::Connection`]); the decisions are all here.

mod apply;
mod error;
mod lock;
mod plan;
mod status;

pub use error::{Error, FailureState, MigrationFailure, SourcePosition};
pub use plan::ExecutionMode;
pub use status::{MigrationState, State, StatusReport, status};

use std::collections::HashMap;
use std::time::{Duration, Instant};

use haste_driver::history::{HistoryRow, HistoryTables, MigrationStatus};
use haste_driver::{Connection, DbError, Limits, LockHolder};
use haste_migrations::MigrationsDir;

/// How a run behaves; the command line fills it from flags, environment and `haste.toml`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where history lives.
    pub history: HistoryTables,
    /// How long to wait for another run's lock before giving up.
    pub lock_wait: Duration,
    /// Limits for each statement unless a migration's directives say otherwise.
    pub limits: Limits,
    /// Attempts after a lock timeout or deadlock, unless a migration says otherwise.
    pub retries: u32,
    /// First pause before a retry; it doubles each time, with jitter, up to [`MAX_BACKOFF`].
    pub backoff: Duration,
    /// Apply a pending migration that sorts before an applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// Identifies this run in history and in `application_name`.
    pub run_id: String,
    /// haste's version, stored with every migration it applies.
    pub tool_version: String,
}

/// How often a run confirms that its session still holds the migration lock (a pooler that
/// switched server processes, or a migration that called `pg_advisory_unlock_all()`).
const LOCK_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Something that happened during a run, for progress output.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent<'a> {
    /// Another session holds the lock; haste keeps polling.
    LockWaiting {
        /// Who holds it, when known.
        holder: Option<LockHolder>,
        /// Milliseconds waited so far.
        waited_ms: u128,
    },
    /// The lock is taken.
    LockAcquired {
        /// Milliseconds waited.
        waited_ms: u128,
    },
    /// A migration starts.
    MigrationStarted {
        /// Its name.
        name: &'a str,
        /// How it runs.
        #[serde(flatten)]
        mode: ExecutionMode,
        /// Statements in the file.
        statements: usize,
    },
    /// Statements of a stepwise migration completed.
    StepDone {
        /// The migration.
        name: &'a str,
        /// Statements completed so far.
        statements_done: usize,
        /// Statements in the file.
        statements_total: usize,
    },
    /// A lock timeout or deadlock; the step runs again after a pause.
    Retrying {
        /// The migration.
        name: &'a str,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Milliseconds until the next one.
        delay_ms: u128,
        /// What the database said.
        error: &'a DbError,
    },
    /// A migration is applied and recorded.
    MigrationApplied {
        /// Its name.
        name: &'a str,
        /// How it ran.
        #[serde(flatten)]
        mode: ExecutionMode,
        /// Milliseconds it took.
        duration_ms: u128,
    },
}

/// Receives progress as it happens.
pub trait Observer {
    /// Called for every event, in order.
    fn event(&mut self, event: &RunEvent<'_>);
}

/// What a deploy did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeployReport {
    /// Migrations applied by this run, in order.
    pub applied: Vec<AppliedMigration>,
    /// Migrations that were applied before this run.
    pub already_applied: usize,
}

/// A migration applied by this run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppliedMigration {
    /// Its name.
    pub name: String,
    /// How it ran.
    #[serde(flatten)]
    pub mode: ExecutionMode,
    /// Statements in the file.
    pub statements: usize,
    /// Milliseconds it took.
    pub duration_ms: u128,
}

/// Applies every pending migration of `dir`, in order, each exactly once.
///
/// Nothing is applied unless every check passes first: the folder's provider, the pooler probe,
/// the lock, no failed or interrupted migration in history, no modified or missing applied
/// migration, no pending migration out of order.
pub fn deploy(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    check_provider(connection, dir)?;
    if connection
        .behind_transaction_pooler()
        .map_err(Error::database("probing for a connection pooler"))?
    {
        return Err(Error::PoolerDetected);
    }
    lock::acquire(connection, settings.lock_wait, observer)?;
    let result = deploy_locked(connection, dir, settings, observer);
    let unlocked = connection
        .unlock()
        .map_err(Error::database("releasing the migration lock"));
    let report = result?;
    unlocked?;
    Ok(report)
}

fn deploy_locked(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    connection
        .ensure_history(&settings.history)
        .map_err(Error::database("creating the history tables"))?;
    // History is read only under the lock: a list read before it could be stale by the time
    // the lock is ours.
    let history = connection
        .history(&settings.history)
        .map_err(Error::database("reading history"))?;
    let pending = verify(dir, &history, settings.allow_out_of_order)?;
    let already_applied = dir.migrations.len() - pending.len();
    let mut applier = apply::Applier {
        connection,
        settings,
        observer,
    };
    let mut applied = Vec::with_capacity(pending.len());
    let mut lock_checked = Instant::now();
    for migration in pending {
        // The lock was just taken on this session; re-checking it costs a catalog query, so a
        // run of quick migrations checks once a second rather than before each one.
        if lock_checked.elapsed() >= LOCK_CHECK_INTERVAL {
            if !applier
                .connection
                .holds_lock()
                .map_err(Error::database("checking the migration lock"))?
            {
                return Err(Error::LockLost);
            }
            lock_checked = Instant::now();
        }
        applied.push(applier.apply(migration)?);
    }
    Ok(DeployReport {
        applied,
        already_applied,
    })
}

fn check_provider(connection: &dyn Connection, dir: &MigrationsDir) -> Result<(), Error> {
    match &dir.provider {
        Some(folder) if folder != connection.provider() => Err(Error::ProviderMismatch {
            folder: folder.clone(),
            database: connection.provider().to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The pending migrations, after checking that history and folder agree.
fn verify<'d>(
    dir: &'d MigrationsDir,
    history: &[HistoryRow],
    allow_out_of_order: bool,
) -> Result<Vec<&'d haste_migrations::Migration>, Error> {
    let recorded: HashMap<&str, &HistoryRow> =
        history.iter().map(|row| (row.name.as_str(), row)).collect();
    if let Some(row) = history
        .iter()
        .find(|row| row.status != Some(MigrationStatus::Applied))
    {
        return Err(Error::Blocked {
            name: row.name.clone(),
            state: row
                .status
                .map_or("in an unknown state", MigrationStatus::as_str),
            statements_done: row.statements_done,
            statements_total: row.statements_total,
        });
    }
    let missing: Vec<String> = history
        .iter()
        .filter(|row| dir.get(&row.name).is_none())
        .map(|row| row.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingFiles { names: missing });
    }
    for migration in &dir.migrations {
        if let Some(row) = recorded.get(migration.name.as_str())
            && row.checksum != migration.up.checksum.as_str()
        {
            return Err(Error::ChecksumMismatch {
                name: migration.name.clone(),
                file: migration.up.path.clone(),
                applied: row.checksum.clone(),
                current: migration.up.checksum.to_string(),
            });
        }
    }
    let pending: Vec<_> = dir
        .migrations
        .iter()
        .filter(|m| !recorded.contains_key(m.name.as_str()))
        .collect();
    if !allow_out_of_order
        && let (Some(first), Some(newest)) =
            (pending.first(), history.iter().map(|r| &r.name).max())
        && first.name < *newest
    {
        return Err(Error::OutOfOrder {
            pending: first.name.clone(),
            newest_applied: newest.clone(),
        });
    }
    Ok(pending)
}
