//! The migration algorithm, written once for every database and every caller.
//!
//! # Brief overview
//! - [`deploy`]: take the migration lock, verify history against the folder, apply every pending
//!   migration exactly once, release the lock.
//! - [`status`]: compare history with the folder without taking the lock or writing anything.
//! - [`impact`]: what deploying the pending migrations would do now, statement by statement
//!   (lock, work, table size, estimate, blockers, what it waits for, lint findings), for
//!   `migrate plan`.
//! - [`deploy_fleet`], [`status_fleet`]: the same for many databases (or schemas) at once, a
//!   few at a time, each target with its own lock and history.
//! - [`Observer`] receives [`RunEvent`]s as they happen (lock waits, each migration's start,
//!   retries, completion), so a command line can show progress without the runner printing.
//! - [`ExecutionMode`] says how a migration runs: in one transaction with its history row,
//!   statement by statement around constructs PostgreSQL refuses in a transaction, or exactly as
//!   written when the file manages its own transactions.
//!
//! Drivers provide primitives ([`haste_driver::Connection`]); the decisions are all here.

mod apply;
mod budget;
mod data;
mod doctor;
mod error;
mod fleet;
mod impact;
mod lock;
mod plan;
mod recorded;
mod recovery;
mod replicas;
mod sandbox;
mod source;
mod status;
mod waits;
mod window;

pub use apply::{LockWaits, LongestBlocker, RECORDED_LOCK_WAITS, RecordedLockWaits};
pub use budget::AutovacuumYield;
pub use doctor::{Check, doctor};
pub use error::{Error, FailureState, GaveUp, GaveUpBy, MigrationFailure, OutsideStatement, SourcePosition};
pub use fleet::{
    Connect, FleetObserver, FleetOptions, FleetReport, Outcome, SkipReason, Target, TargetError,
    TargetGuards, deploy_fleet, run_parallel, status_fleet,
};
/// What a migration written in code receives and returns.
pub use haste_driver::{DbError, Executor};
pub use impact::{
    Figure, ImpactReport, LintNote, LintSeverity, MigrationImpact, StatementImpact, TableSize, Unmeasured,
    impact,
};
pub use plan::ExecutionMode;
pub use recorded::RecordedBy;
pub use recovery::{
    DownTarget, Environment, Resolution, UnlockReport, baseline, check_dev_allowed, check_down_allowed,
    check_reset_allowed, down, reset, resolve, unlock,
};
pub use replicas::{ReplicaSeen, Replication};
pub use sandbox::{migration_files, replay, shadow_needs};
pub use source::{SchemaSource, load_source, source_files};
pub use status::{MigrationState, State, StatusReport, status};
pub use window::DeployWindow;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use haste_driver::history::{HistoryTables, HistoryWrite, MigrationStatus};
use haste_driver::{Connection, Limits, LockHolder};
use haste_migrations::{Checksum, Migration, MigrationsDir};
use haste_sql::Script;

use recorded::Record;

/// How a run behaves; the command line fills it from flags, environment and `haste.toml`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where history lives.
    pub history: HistoryTables,
    /// How long to wait for another run's lock before giving up.
    pub lock_wait: Duration,
    /// Limits for each statement unless a migration's directives say otherwise.
    pub limits: Limits,
    /// The lock budget's overall deadline: how long a statement keeps trying after lock
    /// timeouts and deadlocks (each attempt waits at most `limits.lock_timeout`), and how long
    /// a statement that lets the application through may wait for its lock.
    pub lock_deadline: Duration,
    /// At most this many attempts after a lock timeout or deadlock (unless a migration says
    /// otherwise); `None`: as many as the deadline allows.
    pub retries: Option<u32>,
    /// First pause before a retry; it doubles each time, with jitter, up to [`MAX_BACKOFF`].
    pub backoff: Duration,
    /// Apply a pending migration that sorts before an applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// At most this many rows per second in data steps, unless a step sets its own `max-rate`.
    pub max_rate: Option<u64>,
    /// Identifies this run in history and in `application_name`.
    pub run_id: String,
    /// haste's version, stored with every migration it applies.
    pub tool_version: String,
    /// Honour `-- haste:after`: stop before a migration whose predecessor this run applied.
    /// Replays on a shadow database turn it off, since they stand for every release at once.
    pub hold_contracts: bool,
    /// Only migrations another environment has applied may be deployed here.
    pub promotion: Option<Promotion>,
    /// This deploy starts outside the environment's deploy window, for this reason: recorded
    /// as an `outside_window` event before anything is applied.
    pub outside_window: Option<OutsideWindow>,
    /// Schemas are read with their owners (`owners = true`, `--owners`), so dumps, diffs and
    /// drift checks include them. The runner itself never reads it; it travels here with the
    /// rest of a command's configuration to the schema engine (`haste-dev`).
    pub owners: bool,
}

/// A deploy started outside its environment's window, and why.
#[derive(Debug, Clone)]
pub struct OutsideWindow {
    /// The window, as written.
    pub window: String,
    /// Why it could not wait.
    pub reason: String,
}

/// Refuses a deploy outside the environment's window unless a reason is given, which the
/// deploy then records ([`Settings::outside_window`]).
pub fn check_window(
    window: Option<&DeployWindow>,
    now: jiff::Timestamp,
    reason: Option<&str>,
) -> Result<Option<OutsideWindow>, Error> {
    let Some(window) = window.filter(|window| !window.contains(now)) else { return Ok(None) };
    match reason {
        Some(reason) => {
            Ok(Some(OutsideWindow { window: window.text().to_owned(), reason: reason.to_owned() }))
        }
        None => Err(Error::OutsideWindow { window: window.text().to_owned() }),
    }
}

/// The promotion rule of an environment (`promote_from` in haste.toml): a migration is
/// deployed only after it was applied, with the same file, in the environment it comes from.
#[derive(Debug, Clone)]
pub struct Promotion {
    /// The environment migrations come from.
    pub from: String,
    /// The migrations applied there whose files are unchanged since (status `applied`).
    pub applied_there: Vec<String>,
    /// Deploy the others anyway, for this reason (recorded as a `promotion_override` event for
    /// each of them).
    pub override_reason: Option<String>,
}

impl Promotion {
    /// The rule for deploying what environment `from` has applied: its status read on
    /// `connection` with its own `settings` (the same folder, so `applied` means the same file).
    pub fn read(
        connection: &mut dyn Connection,
        dir: &MigrationsDir,
        settings: &Settings,
        from: String,
        override_reason: Option<String>,
    ) -> Result<Promotion, Error> {
        let applied_there = status(connection, dir, settings)?
            .migrations
            .into_iter()
            .filter(|m| m.state == State::Applied)
            .map(|m| m.name)
            .collect();
        Ok(Promotion { from, applied_there, override_reason })
    }

    /// Refuses `pending` (names of `dir`'s migrations some database lacks) when one of them was
    /// not applied in the source environment, unless overridden; the names in the folder's
    /// order, as a single deploy names them.
    pub fn check_pending(&self, dir: &MigrationsDir, pending: &HashSet<String>) -> Result<(), Error> {
        if self.override_reason.is_some() {
            return Ok(());
        }
        let names: Vec<String> = dir
            .migrations
            .iter()
            .map(|m| m.name.clone())
            .filter(|name| pending.contains(name) && !self.applied_there.contains(name))
            .collect();
        match names.is_empty() {
            true => Ok(()),
            false => Err(Error::NotPromoted { from: self.from.clone(), names }),
        }
    }
}

/// How long a run waits for another run's migration lock, by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(300);
/// How long each attempt of a statement may wait for a table lock, by default: the longest the
/// application's queries queue behind it.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_millis(100);
/// How long a statement keeps trying after lock timeouts, by default.
pub const DEFAULT_LOCK_DEADLINE: Duration = Duration::from_secs(300);
/// The first pause before a retry, by default.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(100);

impl Settings {
    /// The built-in settings: history in `history`, the default lock budget, this run's id.
    pub fn new(history: HistoryTables, run_id: String) -> Settings {
        Settings {
            history,
            lock_wait: DEFAULT_LOCK_WAIT,
            limits: Limits { lock_timeout: Some(DEFAULT_LOCK_TIMEOUT), statement_timeout: None },
            lock_deadline: DEFAULT_LOCK_DEADLINE,
            retries: None,
            backoff: DEFAULT_BACKOFF,
            allow_out_of_order: false,
            max_rate: None,
            run_id,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            hold_contracts: true,
            promotion: None,
            outside_window: None,
            owners: false,
        }
    }

    /// The same settings for replaying a history on an empty shadow database, which stands for
    /// every release at once: `-- haste:after` holds nothing, and no order is refused.
    pub fn for_replay(&self) -> Settings {
        Settings {
            allow_out_of_order: true,
            hold_contracts: false,
            promotion: None,
            outside_window: None,
            ..self.clone()
        }
    }
}

/// How often a run confirms that its session still holds the migration lock (a pooler that
/// switched server processes, or a migration that called `pg_advisory_unlock_all()`).
const LOCK_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

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
        /// Whether a data step (`data.sql`, in batches) follows the statements.
        data_step: bool,
        /// Whether it is written in code (a `CodeMigration`) rather than SQL.
        in_code: bool,
    },
    /// A warning: the migration's file holds no statement (empty, or only comments). It is
    /// still recorded as applied, as Prisma Migrate does, so the history matches the folder;
    /// the warning is there because an empty file is more often a mistake (unsaved editor,
    /// wrong file) than an intention.
    EmptyMigration {
        /// The migration.
        name: &'a str,
        /// Its `migration.sql`.
        file: &'a std::path::Path,
    },
    /// A warning on resuming a migration: statements it ran before may have changed session
    /// settings in a way haste cannot read (a `DO` block's `SET`, `set_config` among other
    /// work), so the rest runs without them in the new session.
    SettingsNotMadeAgain {
        /// The migration.
        name: &'a str,
        /// Those statements' lines in its file.
        lines: Vec<usize>,
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
        /// How long the attempt could wait for each lock (its `lock_timeout`; `None`: a history
        /// write's, or no timeout): the runner's lock timeout cut to what remains of the
        /// deadline and shared between the relations the attempt locks.
        lock_timeout_ms: Option<u64>,
        /// What the database said.
        error: &'a DbError,
        /// The sessions holding locks on the tables the statement needed, longest transaction
        /// first: whom it waited for.
        blockers: &'a [LockHolder],
        /// An autovacuum among them, and what was done so that it yields.
        #[serde(skip_serializing_if = "Option::is_none")]
        autovacuum: Option<AutovacuumYield>,
    },
    /// A `DETACH PARTITION ... CONCURRENTLY` that an earlier attempt or run left "detach
    /// pending" was finished with `DETACH PARTITION ... FINALIZE` instead of being run again.
    DetachFinalized {
        /// The migration.
        name: &'a str,
        /// The partitioned table, quoted.
        partitioned: &'a str,
        /// The partition, quoted.
        partition: &'a str,
    },
    /// A migration that Prisma Migrate applied is now recorded in haste's history too.
    MigrationAdopted {
        /// Its name.
        name: &'a str,
    },
    /// A migration was undone with its `down.sql`.
    MigrationReverted {
        /// Its name.
        name: &'a str,
        /// Milliseconds it took.
        duration_ms: u128,
    },
    /// A batch of a data migration committed.
    DataProgress {
        /// The migration.
        name: &'a str,
        /// Rows walked so far (this run and earlier ones).
        rows_done: u64,
        /// Rows in the table when the step started.
        rows_total: u64,
        /// The last key done.
        last_key: &'a str,
        /// The next batch's size.
        batch_size: u64,
        /// Rows per second in this run.
        rows_per_second: u64,
    },
    /// A data migration waits for replicas to catch up.
    DataPaused {
        /// The migration.
        name: &'a str,
        /// How far behind the furthest replica's replay is.
        replica_lag_bytes: u64,
        /// Milliseconds paused so far.
        paused_ms: u128,
    },
    /// A data migration cannot see how far these replicas are behind (the role lacks
    /// `pg_monitor`), so it does not pause for them.
    ReplicasNotVisible {
        /// The migration.
        name: &'a str,
        /// The replicas' `application_name`s.
        replicas: &'a [&'a str],
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

/// An observer for runs nobody watches (shadow databases).
pub struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _: &RunEvent<'_>) {}
}

/// What a deploy did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeployReport {
    /// Migrations applied by this run, in order.
    pub applied: Vec<AppliedMigration>,
    /// Migrations that were applied before this run.
    pub already_applied: usize,
    /// Migrations Prisma Migrate had applied, adopted into haste's history by this run.
    pub adopted: Vec<String>,
    /// The migration this run stopped before, because it waits for a later run.
    pub held: Option<HeldMigration>,
    /// How the run waited for table locks.
    pub lock_waits: LockWaits,
    /// How far streaming replicas fell behind while it ran; `None` when it applied nothing or
    /// saw no replica.
    pub replication: Option<Replication>,
}

/// A pending migration held back for a later run (`-- haste:after`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeldMigration {
    /// Its name.
    pub name: String,
    /// The migration this run applied, which it must not follow in the same run.
    pub after: String,
    /// `after` was finished or marked applied by `migrate resolve` since the last deploy, not
    /// applied by this one.
    pub resolved: bool,
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

/// A migration written in Rust, registered by an application and run from its own binary with
/// the same lock, history and progress as the folder's migrations. `up` receives the
/// migration's transaction; the history row commits in it.
pub struct CodeMigration {
    /// Its name: sorts among the folder's names, like a folder name.
    pub name: String,
    /// What it does, inside its transaction.
    pub up: Box<MigrationCode>,
}

/// The body of a [`CodeMigration`]: statements run through the migration's transaction.
pub type MigrationCode = dyn Fn(&mut dyn Executor) -> Result<(), DbError>;

impl CodeMigration {
    /// A migration named `name` that runs `up`.
    pub fn new(
        name: impl Into<String>,
        up: impl Fn(&mut dyn Executor) -> Result<(), DbError> + 'static,
    ) -> CodeMigration {
        CodeMigration { name: name.into(), up: Box::new(up) }
    }
}

/// [`deploy`] with migrations written in code, applied in name order among the folder's.
pub fn deploy_with_code(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    code: &[CodeMigration],
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    let mut all = dir.clone();
    all.add_code(&code.iter().map(|c| c.name.as_str()).collect::<Vec<_>>());
    check_provider(connection, &all)?;
    with_lock(connection, settings, observer, |connection, observer| {
        deploy_locked(connection, &all, code, settings, observer)
    })
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
    deploy_with_code(connection, dir, &[], settings, observer)
}

/// Runs `body` holding the migration lock: refuses a transaction-mode pooler, polls the lock,
/// creates the history tables if missing, and always releases the lock afterwards.
fn with_lock<T>(
    connection: &mut dyn Connection,
    settings: &Settings,
    observer: &mut dyn Observer,
    body: impl FnOnce(&mut dyn Connection, &mut dyn Observer) -> Result<T, Error>,
) -> Result<T, Error> {
    if connection.behind_transaction_pooler().map_err(Error::database("probing for a connection pooler"))? {
        return Err(Error::PoolerDetected);
    }
    lock::acquire(connection, settings.lock_wait, observer)?;
    let result = connection
        .ensure_history(&settings.history)
        .map_err(Error::database("creating the history tables"))
        .and_then(|()| body(connection, observer));
    let unlocked = connection.unlock().map_err(Error::database("releasing the migration lock"));
    let value = result?;
    unlocked?;
    Ok(value)
}

fn deploy_locked(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    code: &[CodeMigration],
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    // History is read only under the lock: a list read before it could be stale by the time
    // the lock is ours.
    let records = recorded::read(connection, &settings.history)?;
    let pending = verify(dir, &records, settings.allow_out_of_order)?;
    if let Some(outside) = &settings.outside_window {
        let detail = serde_json::json!({ "window": outside.window, "reason": outside.reason }).to_string();
        let event = haste_driver::history::Event {
            run_id: &settings.run_id,
            event: "outside_window",
            name: None,
            checksum: None,
            detail: Some(detail),
        };
        connection
            .record(&settings.history, &[HistoryWrite::Event(event)], false)
            .map_err(Error::database("recording the deploy outside its window"))?;
    }
    if let Some(promotion) = &settings.promotion {
        check_promotion(connection, settings, promotion, &pending)?;
    }
    let adopted = adopt_prisma_history(connection, dir, &records, settings, observer)?;
    let already_applied = dir.migrations.len() - pending.len();
    let mut applier = apply::Applier::new(connection, settings, observer, code);
    let mut applied = Vec::with_capacity(pending.len());
    let mut lock_checked = Instant::now();
    let mut held = None;
    let mut replicas = replicas::ReplicaWatch::new();
    for Pending { migration, from, progress } in pending {
        let applied_now = |after: &str| applied.iter().any(|done: &AppliedMigration| done.name == after);
        if let Some(hold) = held_back(&mut *applier.connection, settings, migration, &applied_now)? {
            // Recorded, so that the deploy after this one knows a deploy went by.
            let detail = serde_json::json!({ "after": hold.after }).to_string();
            let event = apply::event(settings, migration, apply::HELD, Some(detail));
            applier
                .connection
                .record(&settings.history, &[HistoryWrite::Event(event)], false)
                .map_err(Error::database("recording a migration held for a later deploy"))?;
            held = Some(hold);
            break;
        }
        // The lock was just taken on this session; re-checking it costs a catalog query, so a
        // run of quick migrations checks once a second rather than before each one.
        if lock_checked.elapsed() >= LOCK_CHECK_INTERVAL {
            if !applier.connection.holds_lock().map_err(Error::database("checking the migration lock"))? {
                return Err(Error::LockLost);
            }
            lock_checked = Instant::now();
        }
        applied.push(applier.apply(migration, from, progress)?);
        replicas.now_and_then(&mut *applier.connection);
    }
    if !applied.is_empty() {
        replicas.look(&mut *applier.connection);
    }
    Ok(DeployReport {
        applied,
        already_applied,
        adopted,
        held,
        lock_waits: applier.waits,
        replication: replicas.summary(),
    })
}

/// Whether a deploy holds `migration` back for a later one (`-- haste:after`): the migration it
/// waits for is applied by the same deploy (`applied_now`), or was finished by `migrate resolve`
/// since a deploy last held it back. Reads only, so `migrate plan` tells what deploy will do.
pub(crate) fn held_back(
    connection: &mut dyn Connection,
    settings: &Settings,
    migration: &Migration,
    applied_now: &dyn Fn(&str) -> bool,
) -> Result<Option<HeldMigration>, Error> {
    let Some(after) = migration.directives.after.as_ref().filter(|_| settings.hold_contracts) else {
        return Ok(None);
    };
    let resolved = !applied_now(after);
    if resolved && !resolved_since_held(connection, settings, &migration.name, after)? {
        return Ok(None);
    }
    Ok(Some(HeldMigration { name: migration.name.clone(), after: after.clone(), resolved }))
}

/// Whether `after`, the migration `name` must wait for, was finished (or marked applied) by
/// `migrate resolve` since a deploy last held `name` back: the deploy after a resolve is the
/// one the release that writes the new columns goes out with, as if it had applied `after`
/// itself, so the release before it still runs and `name` must wait for the next one.
fn resolved_since_held(
    connection: &mut dyn Connection,
    settings: &Settings,
    name: &str,
    after: &str,
) -> Result<bool, Error> {
    let mut newest = |migration: &str, events: &[&str]| -> Result<Option<i64>, Error> {
        let query = settings.history.latest_event_id(migration, events);
        let row = connection.query_row(&query).map_err(Error::database("reading history events"))?;
        Ok(row.and_then(|row| row.into_iter().next().flatten()).and_then(|id| id.parse().ok()))
    };
    let resolved = newest(after, &[apply::RESOLVED_RESUMED, apply::RESOLVED_APPLIED])?;
    let held = newest(name, &[apply::HELD])?;
    Ok(resolved.is_some_and(|resolved| held.is_none_or(|held| held < resolved)))
}

/// Refuses pending migrations the source environment has not applied with the same file, or,
/// with an override, records the override for each of them before anything is applied.
fn check_promotion(
    connection: &mut dyn Connection,
    settings: &Settings,
    promotion: &Promotion,
    pending: &[Pending<'_>],
) -> Result<(), Error> {
    let unpromoted: Vec<&Migration> =
        pending.iter().map(|p| p.migration).filter(|m| !promotion.applied_there.contains(&m.name)).collect();
    if unpromoted.is_empty() {
        return Ok(());
    }
    let Some(reason) = &promotion.override_reason else {
        return Err(Error::NotPromoted {
            from: promotion.from.clone(),
            names: unpromoted.iter().map(|m| m.name.clone()).collect(),
        });
    };
    let detail = serde_json::json!({ "from": promotion.from, "reason": reason }).to_string();
    let writes: Vec<HistoryWrite> = unpromoted
        .iter()
        .map(|m| HistoryWrite::Event(apply::event(settings, m, "promotion_override", Some(detail.clone()))))
        .collect();
    connection
        .record(&settings.history, &writes, false)
        .map_err(Error::database("recording the promotion override"))
}

/// Records in haste's history, in one transaction, the migrations Prisma Migrate applied (their
/// files verified against Prisma's checksums), so later runs no longer need Prisma's table.
fn adopt_prisma_history(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    records: &[Record],
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<Vec<String>, Error> {
    let adopted: Vec<(&Migration, usize)> = records
        .iter()
        .filter(|record| record.by == RecordedBy::Prisma)
        .filter_map(|record| dir.get(&record.row.name))
        .map(|migration| (migration, Script::parse(connection.dialect(), &migration.up.sql).statements.len()))
        .collect();
    if adopted.is_empty() {
        return Ok(Vec::new());
    }
    let mut writes = Vec::with_capacity(adopted.len() * 2);
    for (migration, statements) in &adopted {
        let row =
            apply::history_row(settings, migration, MigrationStatus::Applied, true, *statements, *statements);
        writes.push(HistoryWrite::Migration(row));
        writes.push(HistoryWrite::Event(apply::event(settings, migration, "adopted_from_prisma", None)));
    }
    connection
        .record(&settings.history, &writes, false)
        .map_err(Error::database("adopting Prisma's history"))?;
    for (migration, _) in &adopted {
        observer.event(&RunEvent::MigrationAdopted { name: &migration.name });
    }
    Ok(adopted.into_iter().map(|(migration, _)| migration.name.clone()).collect())
}

pub(crate) fn check_provider(connection: &dyn Connection, dir: &MigrationsDir) -> Result<(), Error> {
    match &dir.provider {
        Some(folder) if folder != connection.provider() => Err(Error::ProviderMismatch {
            folder: folder.clone(),
            database: connection.provider().to_owned(),
        }),
        _ => Ok(()),
    }
}

/// A migration to apply: from its first statement, or a data step to resume.
pub(crate) struct Pending<'d> {
    pub(crate) migration: &'d Migration,
    pub(crate) from: usize,
    pub(crate) progress: Option<(String, u64)>,
}

/// Whether `record` is a data migration whose statements are done and whose batches stopped
/// (a killed run): resumable by design, so deploy carries on with it.
pub(crate) fn resumable_data(record: &Record, migration: Option<&Migration>) -> bool {
    record.by == RecordedBy::Haste
        && record.row.status == Some(MigrationStatus::Running)
        && record.row.statements_done >= record.row.statements_total
        && migration.is_some_and(|migration| migration.data.is_some())
        && record.row.last_error.as_deref().and_then(recovery::down_statements_done).is_none()
}

/// The refusal a failed or interrupted migration's record makes, read under the migration lock:
/// a haste record saying `running` is then no run's (a live run, or the backend of a killed one
/// still running a statement, holds the lock), it was interrupted, as `migrate status` says.
fn blocked(record: &Record) -> Error {
    let state = match (record.by, record.row.status) {
        (RecordedBy::Haste, Some(MigrationStatus::Running)) => "interrupted",
        (_, status) => status.map_or("in an unknown state", MigrationStatus::as_str),
    };
    Error::Blocked {
        name: record.row.name.clone(),
        state,
        statements_done: record.row.statements_done,
        statements_total: record.row.statements_total,
        down_statements_done: record.row.last_error.as_deref().and_then(recovery::down_statements_done),
        recorded_by: record.by,
    }
}

/// The pending migrations, after checking that history and folder agree: deploy's checks, and
/// `migrate plan`'s.
pub(crate) fn verify<'d>(
    dir: &'d MigrationsDir,
    records: &[Record],
    allow_out_of_order: bool,
) -> Result<Vec<Pending<'d>>, Error> {
    let resumable = |record: &Record| resumable_data(record, dir.get(&record.row.name));
    if let Some(record) = records
        .iter()
        .find(|record| record.row.status != Some(MigrationStatus::Applied) && !resumable(record))
    {
        return Err(blocked(record));
    }
    // Code migrations live in the application that registered them, not in the folder.
    let missing: Vec<String> = records
        .iter()
        .filter(|record| dir.get(&record.row.name).is_none() && !Checksum::is_code(&record.row.checksum))
        .map(|record| record.row.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingFiles { names: missing });
    }
    let by_name: HashMap<&str, &Record> =
        records.iter().map(|record| (record.row.name.as_str(), record)).collect();
    for migration in &dir.migrations {
        if let Some(record) = by_name.get(migration.name.as_str())
            && !record.matches(&migration.up)
        {
            return Err(Error::ChecksumMismatch {
                name: migration.name.clone(),
                file: migration.up.path.clone(),
                applied: record.row.checksum.clone(),
                current: migration.up.checksum.to_string(),
            });
        }
    }
    let pending: Vec<Pending<'d>> = dir
        .migrations
        .iter()
        .filter_map(|migration| match by_name.get(migration.name.as_str()) {
            None => Some(Pending { migration, from: 0, progress: None }),
            Some(record) if resumable(record) => Some(Pending {
                migration,
                from: usize::try_from(record.row.statements_done).unwrap_or_default(),
                progress: record
                    .row
                    .data_last_key
                    .clone()
                    .map(|key| (key, record.row.data_rows_done.unwrap_or_default().max(0) as u64)),
            }),
            Some(_) => None,
        })
        .collect();
    let newest_applied = records.iter().filter(|r| !resumable(r)).map(|r| &r.row.name).max();
    if !allow_out_of_order
        && let (Some(first), Some(newest)) = (pending.first(), newest_applied)
        && first.migration.name < *newest
    {
        return Err(Error::OutOfOrder {
            pending: first.migration.name.clone(),
            newest_applied: newest.clone(),
        });
    }
    Ok(pending)
}
