//! Applying one migration in the mode its plan chose, with retries and precise failure records.

use std::time::{Duration, Instant};

use haste_driver::history::{Event, HistoryWrite, MigrationRow, MigrationStatus};
use haste_driver::{Connection, DbError, Limits, LockHolder, StepError};
use haste_migrations::{Checksum, Migration};
use haste_sql::{Dialect, Statement, StatementKind, TransactionControl};

use crate::budget::{Attempted, Budget, blockers, jittered, millis, per_lock};
use crate::error::{FailureState, GaveUp, MigrationFailure};
use crate::plan::{ExecutionMode, Plan};
use crate::waits::{add_sessions, catalog_tables, names_in_path};
use crate::{AppliedMigration, CodeMigration, Error, MAX_BACKOFF, Observer, RunEvent, Settings};

pub(crate) struct Applier<'a> {
    pub connection: &'a mut dyn Connection,
    pub settings: &'a Settings,
    pub observer: &'a mut dyn Observer,
    /// Migrations written in code, by name.
    pub code: &'a [CodeMigration],
    /// How this run's applied migrations waited for table locks.
    pub waits: LockWaits,
    /// How the migration being applied waited so far.
    pub current: MigrationWaits,
}

impl<'a> Applier<'a> {
    pub fn new(
        connection: &'a mut dyn Connection,
        settings: &'a Settings,
        observer: &'a mut dyn Observer,
        code: &'a [CodeMigration],
    ) -> Applier<'a> {
        Applier {
            connection,
            settings,
            observer,
            code,
            waits: LockWaits::default(),
            current: MigrationWaits::default(),
        }
    }

    /// Applies `migration` from statement `from` on (0 for a fresh start; the recorded
    /// progress of an interrupted stepwise or as-written migration when resuming).
    ///
    /// A data step (`data.sql`) runs after the statements, from `progress` (the last key done
    /// and the rows done) when resuming.
    pub fn apply(
        &mut self,
        migration: &Migration,
        from: usize,
        progress: Option<(String, u64)>,
    ) -> Result<AppliedMigration, Error> {
        self.current = MigrationWaits::default();
        self.connection
            .reset_session()
            .map_err(Error::database("resetting the session before the migration"))?;
        if let Some(code) = self.code.iter().find(|code| code.name == migration.name) {
            return self.apply_code(migration, code);
        }
        let plan = Plan::new(self.connection.dialect(), migration)?;
        if let Some(refused) = plan.unparseable() {
            return Err(self.failed(&plan, refused, Tried::attempts(1), FailureState::RolledBack));
        }
        plan.check_data_header(&mut *self.connection)?;
        let started = Instant::now();
        self.observer.event(&RunEvent::MigrationStarted {
            name: &migration.name,
            mode: plan.mode,
            statements: plan.statements.len(),
            data_step: migration.data.is_some(),
            in_code: false,
        });
        if plan.statements.is_empty() && migration.data.is_none() {
            self.observer
                .event(&RunEvent::EmptyMigration { name: &migration.name, file: &migration.up.path });
        }
        // Resuming after the last statement completed but before (or after) it was recorded.
        let statements_done = from > 0 && from >= plan.statements.len();
        if from > 0 && !statements_done {
            // A new session: the settings the statements before `from` made and kept (a `SET
            // search_path`, a `SET ROLE`, not one a rollback undid; SQLite's pragmas, which no
            // rollback undoes) are made again, or the rest would run elsewhere, as someone
            // else or without its foreign keys.
            let limits = self.limits(plan.migration);
            let done = &plan.statements[..from];
            let settings = match self.connection.dialect() {
                Dialect::Postgres => haste_sql::session_settings_in_force(done),
                Dialect::Sqlite => (0..from).filter(|&at| haste_sql::sets_pragma(&done[at])).collect(),
            };
            for index in settings {
                self.connection.run_alone(limits, &plan.statements[index].text).map_err(Error::database(
                    "restoring the session settings of the statements done before resuming",
                ))?;
            }
            let unseen: Vec<usize> = match self.connection.dialect() {
                Dialect::Postgres => done
                    .iter()
                    .filter(|statement| haste_sql::sets_session_unseen(&statement.text))
                    .map(|statement| crate::plan::source_position(plan.file, statement.start).line)
                    .collect(),
                Dialect::Sqlite => Vec::new(),
            };
            if !unseen.is_empty() {
                self.observer.event(&RunEvent::SettingsNotMadeAgain { name: &migration.name, lines: unseen });
            }
        }
        match plan.mode {
            _ if statements_done => {}
            ExecutionMode::Transaction => self.in_transaction(&plan)?,
            ExecutionMode::Stepwise { .. } => self.stepwise(&plan, from)?,
            ExecutionMode::AsWritten { history_in_file_transaction } => {
                self.as_written(&plan, history_in_file_transaction, from)?
            }
        }
        match &migration.data {
            Some(step) => self.run_data(&plan, step, progress)?,
            None if statements_done => self.record_finish(&plan)?,
            None => {}
        }
        let duration_ms = started.elapsed().as_millis();
        self.waits.add(&self.current);
        self.observer.event(&RunEvent::MigrationApplied {
            name: &migration.name,
            mode: plan.mode,
            duration_ms,
        });
        Ok(AppliedMigration {
            name: migration.name.clone(),
            mode: plan.mode,
            statements: plan.statements.len(),
            duration_ms,
        })
    }

    /// Runs a migration written in code in one transaction with its history row.
    fn apply_code(&mut self, migration: &Migration, code: &CodeMigration) -> Result<AppliedMigration, Error> {
        let settings = self.settings;
        let mode = ExecutionMode::Transaction;
        self.observer.event(&RunEvent::MigrationStarted {
            name: &migration.name,
            mode,
            statements: 0,
            data_step: false,
            in_code: true,
        });
        let started = Instant::now();
        let writes = [
            HistoryWrite::Migration(history_row(settings, migration, MigrationStatus::Applied, true, 0, 0)),
            HistoryWrite::Event(event(settings, migration, "applied", None)),
        ];
        let limits = self.limits(migration);
        let outcome = self.connection.run_code(limits, &mut |tx| (code.up)(tx), &settings.history, &writes);
        if let Err(error) = outcome {
            if !error.connection_lost {
                // Rolled back, and in the event log as a failed SQL migration is.
                let detail = serde_json::json!({
                    "sqlstate": error.sqlstate,
                    "message": error.message,
                    "detail": error.detail,
                    "hint": error.hint,
                    "attempts": 1,
                })
                .to_string();
                let failed = [HistoryWrite::Event(event(settings, migration, "failed", Some(detail)))];
                // Best effort: the error being reported matters more than its record.
                let _ = self.connection.record(&settings.history, &failed, false);
            }
            return Err(Error::MigrationFailed(Box::new(MigrationFailure {
                name: migration.name.clone(),
                statement_index: 0,
                position: crate::error::SourcePosition {
                    file: migration.up.path.clone(),
                    line: 1,
                    column: 1,
                    snippet: Vec::new(),
                },
                error,
                attempts: 1,
                state: FailureState::RolledBack,
                gave_up: None,
            })));
        }
        let duration_ms = started.elapsed().as_millis();
        self.observer.event(&RunEvent::MigrationApplied { name: &migration.name, mode, duration_ms });
        Ok(AppliedMigration { name: migration.name.clone(), mode, statements: 0, duration_ms })
    }

    fn limits(&self, migration: &Migration) -> Limits {
        Limits {
            lock_timeout: migration.directives.lock_timeout.or(self.settings.limits.lock_timeout),
            statement_timeout: migration
                .directives
                .statement_timeout
                .or(self.settings.limits.statement_timeout),
        }
    }
}

fn row<'p>(
    settings: &'p Settings,
    plan: &'p Plan<'_>,
    status: MigrationStatus,
    done: usize,
) -> MigrationRow<'p> {
    history_row(
        settings,
        plan.migration,
        status,
        plan.mode == ExecutionMode::Transaction,
        plan.statements.len(),
        done,
    )
}

/// What history says when the statements of `migration.sql` are all done: applied (with the
/// lock waits it took), or, when a data step follows, still running with its schema part
/// complete.
fn finished_writes<'p>(
    settings: &'p Settings,
    plan: &'p Plan<'_>,
    waits: &MigrationWaits,
) -> Vec<HistoryWrite<'p>> {
    let total = plan.statements.len();
    match plan.migration.data {
        None => vec![
            HistoryWrite::Migration(row(settings, plan, MigrationStatus::Applied, total)),
            HistoryWrite::Event(event(settings, plan.migration, "applied", waits.detail())),
        ],
        Some(_) => vec![
            HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, total)),
            HistoryWrite::Event(event(settings, plan.migration, "schema_applied", None)),
        ],
    }
}

/// A migration's history row as this run writes it.
pub(crate) fn history_row<'p>(
    settings: &'p Settings,
    migration: &'p Migration,
    status: MigrationStatus,
    transactional: bool,
    total: usize,
    done: usize,
) -> MigrationRow<'p> {
    MigrationRow {
        name: &migration.name,
        status,
        checksum: migration.up.checksum.as_str(),
        transactional,
        statements_total: total,
        statements_done: done,
        run_id: &settings.run_id,
        tool_version: &settings.tool_version,
        last_error: None,
    }
}

/// An event about `migration` in this run.
pub(crate) fn event<'p>(
    settings: &'p Settings,
    migration: &'p Migration,
    kind: &'p str,
    detail: Option<String>,
) -> Event<'p> {
    Event {
        run_id: &settings.run_id,
        event: kind,
        name: Some(&migration.name),
        checksum: Some(migration.up.checksum.as_str()),
        detail,
    }
}

/// How a run waited for table locks: the guide's "monitor", summed up at the end of a deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LockWaits {
    /// Attempts cancelled by a lock timeout or deadlock, then retried.
    pub retries: u32,
    /// Milliseconds spent in those attempts and the pauses after them.
    pub waited_ms: u128,
    /// The sessions seen holding the tables, once each (the first sighting).
    pub blockers: Vec<LockHolder>,
}

impl LockWaits {
    fn add(&mut self, migration: &MigrationWaits) {
        self.retries += migration.retries;
        self.waited_ms += migration.waited_ms;
        for (holder, _) in &migration.blockers {
            if !self.blockers.iter().any(|seen| seen.pid == holder.pid) {
                self.blockers.push(holder.clone());
            }
        }
    }
}

/// How one migration waited for table locks, which its `applied` event records.
#[derive(Debug, Clone, Default)]
pub(crate) struct MigrationWaits {
    retries: u32,
    waited_ms: u128,
    /// Each session seen holding the tables (its first sighting), with the milliseconds of the
    /// attempts it was seen blocking.
    blockers: Vec<(LockHolder, u128)>,
}

impl MigrationWaits {
    /// One attempt cancelled after `spent` (the pause after it included), `blockers` holding
    /// its tables.
    pub(crate) fn count(&mut self, spent: Duration, blockers: &[LockHolder]) {
        self.retries += 1;
        self.waited_ms += spent.as_millis();
        for holder in blockers {
            self.blocked_by(holder, spent.as_millis());
        }
    }

    fn blocked_by(&mut self, holder: &LockHolder, ms: u128) {
        match self.blockers.iter_mut().find(|(seen, _)| seen.pid == holder.pid) {
            Some((_, blocked)) => *blocked += ms,
            None => self.blockers.push((holder.clone(), ms)),
        }
    }

    /// Adds the waits of a later part of the same migration (its data step).
    pub(crate) fn absorb(&mut self, later: &MigrationWaits) {
        self.retries += later.retries;
        self.waited_ms += later.waited_ms;
        for (holder, ms) in &later.blockers {
            self.blocked_by(holder, *ms);
        }
    }

    /// The `applied` event's detail (`{"lock_waits": ...}`); `None` when the migration never
    /// waited.
    pub(crate) fn detail(&self) -> Option<String> {
        if self.retries == 0 {
            return None;
        }
        let longest = self.blockers.iter().max_by_key(|(_, ms)| *ms).map(|(holder, ms)| LongestBlocker {
            pid: holder.pid,
            application_name: holder.application_name.clone(),
            waited_ms: millis(*ms),
        });
        let waits = RecordedLockWaits {
            retries: self.retries,
            waited_ms: millis(self.waited_ms),
            longest_blocker: longest,
        };
        Some(serde_json::json!({ RECORDED_LOCK_WAITS: waits }).to_string())
    }
}

/// How the attempts of a statement went: how many were made, and whether the lock budget
/// ended them.
pub(crate) struct Tried {
    pub attempts: u32,
    pub gave_up: Option<GaveUp>,
}

impl Tried {
    /// `attempts` made, not ended by the lock budget.
    pub(crate) fn attempts(attempts: u32) -> Tried {
        Tried { attempts, gave_up: None }
    }
}

/// The key of an `applied` event's detail under which [`RecordedLockWaits`] are kept.
pub const RECORDED_LOCK_WAITS: &str = "lock_waits";

/// How one migration waited for table locks, as its `applied` event in `_haste_events` keeps
/// it (under [`RECORDED_LOCK_WAITS`]; absent when it never waited, and in histories written
/// before haste kept it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedLockWaits {
    /// Attempts cancelled by a lock timeout or deadlock, then retried.
    pub retries: u32,
    /// Milliseconds spent in those attempts and the pauses after them.
    pub waited_ms: u64,
    /// The session seen blocking for the longest, when one was seen.
    pub longest_blocker: Option<LongestBlocker>,
}

/// The session a migration waited for longest, named by process id and application name
/// only: its query text may hold literals (a password, a customer's data), and history keeps
/// what it is given for good.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LongestBlocker {
    /// Backend process id (PostgreSQL) or operating-system process id (SQLite).
    pub pid: i64,
    /// Its `application_name`.
    pub application_name: String,
    /// Milliseconds of the attempts it was seen blocking.
    pub waited_ms: u64,
}

impl Applier<'_> {
    /// Runs `attempt` until it succeeds, fails for good, or the lock budget runs out: after a
    /// lock timeout or deadlock it tries again after a growing, jittered pause, until the
    /// deadline passes (or the migration's `retries` are used up). Each retry names the
    /// sessions the statement waited for. Returns the outcome and how the attempts went.
    ///
    /// `attempt` is handed the migration's waits so far, for the history it writes, and the
    /// limits of this attempt: `limits` within what remains of the deadline.
    fn with_retries<T>(
        &mut self,
        plan: &Plan<'_>,
        limits: Limits,
        attempt: impl FnMut(&mut dyn Connection, &MigrationWaits, Limits) -> Result<T, StepError>,
    ) -> (Result<T, StepError>, Tried) {
        self.retrying(plan, limits, None, attempt)
    }

    /// [`Self::with_retries`]; a failure at `history` (the index the attempt gives its history
    /// writes) is retried until the deadline whatever the migration's `retries`: the history
    /// tables hold nothing the application waits for.
    fn retrying<T>(
        &mut self,
        plan: &Plan<'_>,
        limits: Limits,
        history: Option<usize>,
        attempt: impl FnMut(&mut dyn Connection, &MigrationWaits, Limits) -> Result<T, StepError>,
    ) -> (Result<T, StepError>, Tried) {
        let retries = plan.migration.directives.retries.or(self.settings.retries);
        let mut budget = Budget::new(self.settings, limits, retries);
        let unit = Unit { name: &plan.migration.name, statements: &plan.statements, history };
        let (connection, observer) = (&mut *self.connection, &mut *self.observer);
        within_budget(connection, observer, &mut budget, &mut self.current, unit, attempt)
    }

    /// The limits for statements `range` of `plan`. Statements whose locks never make the
    /// application's reads and writes wait ([`haste_sql::Lock::lets_application_through`]: concurrent
    /// index builds and drops, `VALIDATE CONSTRAINT`, new types and functions, plain reads) may
    /// wait for other transactions by design: they wait up to the lock budget's deadline in one
    /// attempt instead of being cancelled over and over (a cancelled concurrent build would
    /// start again from scratch). Row changes and reads that call functions are not among them.
    fn step_limits(&mut self, plan: &Plan<'_>, range: std::ops::Range<usize>) -> Limits {
        let mut limits = self.limits(plan.migration);
        if self.connection.dialect() != Dialect::Postgres {
            return limits;
        }
        let facts = plan.lock_facts();
        let waits_by_design = facts[range.clone()].iter().all(|facts| facts.lock.lets_application_through());
        // A deadline of zero is one attempt under the lock timeout as set (a zero lock timeout
        // would be none at all). Others share it between the relations they lock.
        limits.lock_timeout = match waits_by_design
            && !self.settings.lock_deadline.is_zero()
            && plan.migration.directives.lock_timeout.is_none()
        {
            true => Some(self.settings.lock_deadline),
            false if limits.lock_timeout.is_some_and(|timeout| !timeout.is_zero()) => {
                let tables = locked_tables(facts, range);
                let relations = relations_locked(&mut *self.connection, &tables).into_iter().sum();
                per_lock(limits.lock_timeout, relations)
            }
            false => limits.lock_timeout,
        };
        limits
    }

    /// Records the progress of a statement that ran alone and is done. Giving up would leave
    /// history saying the statement is still to run (and `resolve --resume` would run it
    /// again), so a lock timeout on the history table is waited out until the lock budget's
    /// deadline, whatever the migration's own `retries`: the history tables hold nothing the
    /// application waits for.
    fn record_done(
        &mut self,
        plan: &Plan<'_>,
        writes: &[HistoryWrite<'_>],
        index: usize,
    ) -> (Result<(), StepError>, u32) {
        let deadline = Instant::now() + self.settings.lock_deadline;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.connection.record(&self.settings.history, writes, false) {
                Err(error) if error.is_retryable() && Instant::now() < deadline => {
                    let pause = self.settings.backoff * 2u32.saturating_pow((tries - 1).min(5));
                    let delay = jittered(pause.min(MAX_BACKOFF));
                    self.observer.event(&RunEvent::Retrying {
                        name: &plan.migration.name,
                        attempt: tries,
                        delay_ms: delay.as_millis(),
                        lock_timeout_ms: None,
                        error: &error,
                        blockers: &[],
                        autovacuum: None,
                    });
                    std::thread::sleep(delay);
                }
                outcome => return (outcome.map_err(|error| StepError { index, error }), tries),
            }
        }
    }

    fn in_transaction(&mut self, plan: &Plan<'_>) -> Result<(), Error> {
        let settings = self.settings;
        let limits = self.step_limits(plan, 0..plan.statements.len());
        let texts = plan.texts(0..plan.statements.len());
        let mut retry = false;
        let (outcome, tried) = self.with_retries(plan, limits, |connection, waits, limits| {
            // What the rolled-back attempt left in the session (a prepared statement, an
            // advisory lock: neither goes with the rollback) must not meet its statements again.
            if std::mem::replace(&mut retry, true) {
                connection.reset_session().map_err(|error| StepError { index: 0, error })?;
            }
            connection.run_in_transaction(
                limits,
                &texts,
                &settings.history,
                &finished_writes(settings, plan, waits),
            )
        });
        match outcome {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.failed(plan, failure, tried, FailureState::RolledBack)),
        }
    }

    /// Records a migration without a data step as applied (its statements ran earlier).
    fn record_finish(&mut self, plan: &Plan<'_>) -> Result<(), Error> {
        let settings = self.settings;
        let applied = finished_writes(settings, plan, &self.current);
        self.connection
            .record(&settings.history, &applied, false)
            .map_err(Error::database("recording a migration"))
    }

    /// Records that the migration is running from statement `from` on.
    fn record_start(&mut self, plan: &Plan<'_>, from: usize) -> Result<(), Error> {
        let settings = self.settings;
        // The text of each statement, so a resume after an edit can tell whether statements
        // that already ran were changed.
        let detail = serde_json::json!({
            "statements_done": from,
            "statement_checksums": statement_checksums(plan),
        })
        .to_string();
        let (kind, detail) = match from {
            0 => (STARTED, Some(detail)),
            _ => (RESUMED, Some(detail)),
        };
        let started = [
            HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, from)),
            HistoryWrite::Event(event(settings, plan.migration, kind, detail)),
        ];
        self.connection
            .record(&settings.history, &started, false)
            .map_err(Error::database("recording the start of a migration"))
    }

    fn stepwise(&mut self, plan: &Plan<'_>, from: usize) -> Result<(), Error> {
        let settings = self.settings;
        let total = plan.statements.len();
        self.record_start(plan, from)?;
        // Progress is recorded only at step boundaries, so `from` is always one.
        for step in plan.steps().into_iter().filter(|step| step.start >= from) {
            let writes = |waits: &MigrationWaits| {
                if step.end == total {
                    finished_writes(settings, plan, waits)
                } else {
                    vec![HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, step.end))]
                }
            };
            let limits = self.step_limits(plan, step.start..step.end);
            let statement = &plan.statements[step.start];
            let own_transaction = statement.kind == StatementKind::Plain && !statement.may_commit;
            // Whether PostgreSQL refuses a statement in a transaction block can depend on its
            // table (`REINDEX TABLE` or `CLUSTER` of a partitioned table): refused there (before
            // it did anything, its transaction rolled back) it runs alone, as the directive asks.
            let ran_with_progress = step.alone && own_transaction && {
                // A statement that `-- haste:transaction off` runs on its own but that could run
                // in a transaction commits with its progress row: were the session lost between
                // the two, history would say it is still to run and a resume would run it again
                // (`CREATE FUNCTION`: "already exists"). A blocked history write rolls both
                // back and is retried with the statement, until the deadline. A `CALL` or `DO`
                // that may commit by itself runs outside a transaction block, as before.
                let texts = plan.texts(step.start..step.end);
                let (outcome, tried) =
                    self.retrying(plan, limits, Some(step.end), |connection, waits, limits| {
                        connection
                            .run_in_transaction(limits, &texts, &settings.history, &writes(waits))
                            .map_err(|failure| StepError { index: step.start + failure.index, ..failure })
                    });
                match outcome {
                    Ok(()) => true,
                    Err(failure)
                        if failure.index == step.start
                            && failure.error.sqlstate.as_deref() == Some(ACTIVE_SQL_TRANSACTION) =>
                    {
                        false
                    }
                    Err(failure) => {
                        let failure = StepError { index: step.start, ..failure };
                        let state = FailureState::MarkedFailed { statements_done: step.start };
                        return Err(self.failed(plan, failure, tried, state));
                    }
                }
            };
            if ran_with_progress {
                // Done, with its progress row.
            } else if step.alone {
                self.note_unnamed_index_build(plan, step.start)?;
                let mut waited_for = Vec::new();
                let (outcome, mut tried) = self.with_retries(plan, limits, |connection, _, limits| {
                    run_alone(connection, limits, statement, &mut waited_for)
                        .map_err(|error| StepError { index: step.start, error })
                });
                // Those a build waited for are gone by the time the give-up is reported (its
                // cleanup waited them out): the ones named while it waited come first.
                if let Some(gave_up) = &mut tried.gave_up {
                    add_sessions(&mut waited_for, std::mem::take(&mut gave_up.blockers));
                    gave_up.blockers = waited_for;
                }
                match outcome {
                    Err(failure) => {
                        let state = FailureState::MarkedFailed { statements_done: step.start };
                        return Err(self.failed(plan, failure, tried, state));
                    }
                    Ok(Ran::Finalized { partitioned, partition }) => {
                        self.observer.event(&RunEvent::DetachFinalized {
                            name: &plan.migration.name,
                            partitioned: &partitioned,
                            partition: &partition,
                        })
                    }
                    Ok(Ran::AsWritten) => {}
                }
                // The statement is done: only its record is retried, never the statement.
                let (recorded, attempts) = self.record_done(plan, &writes(&self.current), step.start);
                if let Err(failure) = recorded {
                    let state = FailureState::MarkedFailed { statements_done: step.end };
                    return Err(self.failed(plan, failure, Tried::attempts(attempts), state));
                }
            } else {
                let texts = plan.texts(step.start..step.end);
                let (outcome, tried) = self.with_retries(plan, limits, |connection, waits, limits| {
                    connection.run_in_transaction(limits, &texts, &settings.history, &writes(waits)).map_err(
                        |failure| StepError {
                            index: step.start + failure.index.min(texts.len() - 1),
                            ..failure
                        },
                    )
                });
                if let Err(failure) = outcome {
                    let state = FailureState::MarkedFailed { statements_done: step.start };
                    return Err(self.failed(plan, failure, tried, state));
                }
            }
            self.observer.event(&RunEvent::StepDone {
                name: &plan.migration.name,
                statements_done: step.end,
                statements_total: total,
            });
        }
        Ok(())
    }

    /// Before a `CREATE INDEX CONCURRENTLY` without a name, records the indexes its table has:
    /// PostgreSQL names the new index itself, and a resume after an interruption must tell the
    /// index this build made from those that were there, or it would build a second one.
    fn note_unnamed_index_build(&mut self, plan: &Plan<'_>, index: usize) -> Result<(), Error> {
        let statement = &plan.statements[index];
        if statement.kind != StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY") {
            return Ok(());
        }
        let Some(build) = haste_sql::concurrent_index(&statement.text).filter(|build| build.name.is_none())
        else {
            return Ok(());
        };
        let existing = indexes_of(&mut *self.connection, &build.table)
            .map_err(Error::database("listing the table's indexes"))?;
        let detail = serde_json::json!({ "statement_index": index, "indexes_before": existing }).to_string();
        let settings = self.settings;
        let write = [HistoryWrite::Event(event(settings, plan.migration, UNNAMED_INDEX_BUILD, Some(detail)))];
        self.connection
            .record(&settings.history, &write, false)
            .map_err(Error::database("recording an index build"))
    }

    fn as_written(
        &mut self,
        plan: &Plan<'_>,
        history_in_file_transaction: bool,
        from: usize,
    ) -> Result<(), Error> {
        let settings = self.settings;
        let history = &settings.history;
        if !history_in_file_transaction {
            self.record_start(plan, from)?;
        }
        let total = plan.statements.len();
        let progress = |done| [HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, done))];
        let mut recorded_applied = false;
        let mut record =
            |connection: &mut dyn Connection, waits: &MigrationWaits, committing| match committing {
                // History commits with the file's own transaction: a crash between the two
                // cannot make the next run repeat it.
                Committing::InBlock { done } if done == total => {
                    connection.record(history, &finished_writes(settings, plan, waits), true)?;
                    recorded_applied = true;
                    Ok(())
                }
                Committing::InBlock { done } => connection.record(history, &progress(done), true),
                Committing::Alone { done } if !history_in_file_transaction => {
                    connection.record(history, &progress(done), false)
                }
                Committing::Alone { .. } => Ok(()),
            };
        let retries = plan.migration.directives.retries.or(settings.retries);
        let limits = self.limits(plan.migration);
        let budget = || Budget::new(settings, limits, retries);
        let (connection, observer) = (&mut *self.connection, &mut *self.observer);
        let ran = run_as_written(
            connection,
            observer,
            &budget,
            &mut self.current,
            Unit { name: &plan.migration.name, statements: &plan.statements, history: None },
            from,
            &mut record,
        );
        if let Err(AsWrittenFailure { step, committed, tried }) = ran {
            let state = if history_in_file_transaction {
                FailureState::RolledBack
            } else {
                FailureState::MarkedFailed { statements_done: committed }
            };
            return Err(self.failed(plan, step, tried, state));
        }
        if !recorded_applied
            && let Err(error) =
                self.connection.record(history, &finished_writes(settings, plan, &self.current), false)
        {
            let state = FailureState::MarkedFailed { statements_done: total };
            let failure = StepError { index: total - 1, error };
            return Err(self.failed(plan, failure, Tried::attempts(1), state));
        }
        Ok(())
    }

    /// Records a failure as precisely as the database allows and builds the error.
    fn failed(&mut self, plan: &Plan<'_>, failure: StepError, tried: Tried, state: FailureState) -> Error {
        let dialect = self.connection.dialect();
        let mut state = match state {
            // Statements may have committed on their own: never call this rolled back.
            _ if failure.error.transaction_ended_early => FailureState::MarkedFailed { statements_done: 0 },
            FailureState::MarkedFailed { statements_done } => FailureState::MarkedFailed {
                statements_done: changes_done(&plan.statements, dialect, statements_done),
            },
            state => state,
        };
        if failure.index >= plan.statements.len()
            && !failure.error.connection_lost
            && !failure.error.transaction_ended_early
        {
            // Every statement ran; the history writes or the COMMIT failed, and the
            // transaction rolled back.
            return Error::Database {
                context: "committing the migration with its history row (rolled back: nothing applied)",
                source: failure.error,
            };
        }
        let settings = self.settings;
        let position = plan.error_position(failure.index, failure.error.position);
        let detail = serde_json::json!({
            "sqlstate": failure.error.sqlstate,
            "message": failure.error.message,
            "detail": failure.error.detail,
            "hint": failure.error.hint,
            "statement_index": failure.index,
            "line": position.line,
            "column": position.column,
            "attempts": tried.attempts,
            "gave_up": tried.gave_up,
        })
        .to_string();
        if !failure.error.connection_lost {
            let event = HistoryWrite::Event(event(settings, plan.migration, "failed", Some(detail.clone())));
            let writes = match &state {
                FailureState::RolledBack | FailureState::DataStopped { .. } => vec![event],
                FailureState::MarkedFailed { statements_done }
                | FailureState::Unrecorded { statements_done } => {
                    let mut row = row(settings, plan, MigrationStatus::Failed, *statements_done);
                    row.last_error = Some(detail);
                    vec![HistoryWrite::Migration(row), event]
                }
            };
            let recorded = self.connection.record(&settings.history, &writes, false);
            if let (Err(_), FailureState::MarkedFailed { statements_done }) = (recorded, &state) {
                // The error being reported matters more than its record, but the report must
                // not claim a record that failed.
                state = FailureState::Unrecorded { statements_done: *statements_done };
            }
        }
        Error::MigrationFailed(Box::new(MigrationFailure {
            name: plan.migration.name.clone(),
            statement_index: failure.index,
            position,
            error: failure.error,
            attempts: tried.attempts,
            state,
            gave_up: tried.gave_up,
        }))
    }
}

/// What a retry loop runs: statements of a migration, one of which may stand for its
/// history writes.
pub(crate) struct Unit<'u> {
    /// The migration.
    pub name: &'u str,
    /// Its statements, which a failure's index points into.
    pub statements: &'u [haste_sql::Statement],
    /// The index an attempt gives its history writes, if any: retried until the deadline
    /// whatever the migration's `retries`, as the history tables hold nothing the application
    /// waits for.
    pub history: Option<usize>,
}

/// How many of the first `done` statements of a file count as done when it stops: none when
/// they only made session settings (the `SET search_path` a generated file starts with changes
/// nothing in the database, so a stop after it has applied nothing, and a resume from the start
/// makes it again).
pub(crate) fn changes_done(statements: &[Statement], dialect: Dialect, done: usize) -> usize {
    let settings_only = dialect == Dialect::Postgres
        && statements[..done.min(statements.len())]
            .iter()
            .all(|statement| haste_sql::sets_session(&statement.text));
    if settings_only { 0 } else { done }
}

/// The statements of a file that manages its own transactions run as one unit from `start`:
/// the transaction block open there, to its end, or the statement alone.
fn unit_at(statements: &[Statement], start: usize) -> &[Statement] {
    use TransactionControl::{Commit, CommitAndChain, Rollback, RollbackAndChain};
    let Some(first) = statements.get(start) else { return &[] };
    if !first.kind.transaction_open_after(false) && haste_sql::open_block(statements, start).is_none() {
        return &statements[start..=start];
    }
    let end = statements[start + 1..]
        .iter()
        .position(|statement| {
            matches!(
                statement.kind,
                StatementKind::TransactionControl(Commit | CommitAndChain | Rollback | RollbackAndChain)
            )
        })
        .map_or(statements.len(), |at| start + 1 + at + 1);
    &statements[start..end]
}

/// The existing tables `statements`, run as one attempt, lock in modes the application's reads
/// and writes wait behind (by their [`haste_sql::LockFacts`]), quoted as
/// [`haste_sql::tables_of`] gives them (`"t"`, `"s"."t"`),
/// once per wait: a table locked again in a stronger mode waits again, holding the weaker lock
/// meanwhile. Tables they create first are not among them; a name written with another schema
/// than the creation's (or with one where the creation had none) is taken for another table.
/// Each is the names it may have: an unqualified one after a `SET search_path` of the file
/// (before `within` too: the session keeps it) is looked for in that path's schemas first.
/// Then, once each, the tables only the catalog names ([`haste_sql::catalog_tables_of`]: those
/// joined by a foreign key a statement drops or rebuilds), which a statement locks whatever it
/// held before.
fn locked_tables(facts: &[haste_sql::LockFacts], within: std::ops::Range<usize>) -> Vec<Locked> {
    let mut created: Vec<&String> = Vec::new();
    let mut locked: Vec<(&String, haste_sql::Lock, Locked)> = Vec::new();
    let mut through_catalog: Vec<Locked> = Vec::new();
    let mut path: &[String] = &[];
    for (index, statement) in facts[..within.end].iter().enumerate() {
        if let Some(set) = &statement.search_path {
            path = set;
        }
        if index < within.start {
            continue;
        }
        let lock = statement.lock;
        if !lock.lets_application_through() {
            for table in &statement.tables {
                let held =
                    locked.iter().filter(|(name, _, _)| *name == table).map(|(_, held, _)| *held).max();
                if !created.contains(&table) && held.is_none_or(|held| held < lock) {
                    let names = names_in_path(table, path);
                    let with_descendants = !statement.alone.contains(table);
                    locked.push((table, lock, Locked::Named { names, with_descendants }));
                }
            }
            for through in &statement.through_catalog {
                let found = Locked::ThroughCatalog { through: through.clone(), path: path.to_vec() };
                if !through_catalog.contains(&found) {
                    through_catalog.push(found);
                }
            }
        }
        created.extend(&statement.created);
    }
    locked.into_iter().map(|(_, _, table)| table).chain(through_catalog).collect()
}

/// What an attempt locks ([`locked_tables`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Locked {
    /// A table it names: the names it may have, and whether its partitions and inheritance
    /// children are locked with it (not under `ONLY`, nor by a rename).
    Named { names: Vec<String>, with_descendants: bool },
    /// The tables the catalog names for a statement, unqualified names looked for in `path`
    /// first (the search path the file set before it).
    ThroughCatalog { through: haste_sql::CatalogTable, path: Vec<String> },
}

/// How many relations each of `tables` stands for when locked, as the server says: a named
/// table with its partitions and inheritance children, the tables the catalog names for a
/// statement. A named table the server does not find (one the statements create in a way not
/// read) counts one, as does each where the server cannot say. Asked between transactions
/// only: a failed query must not abort one of the migration's.
fn relations_locked(connection: &mut dyn Connection, tables: &[Locked]) -> Vec<usize> {
    let trees: Vec<Vec<String>> = tables
        .iter()
        .filter_map(|table| match table {
            Locked::Named { names, with_descendants: true } => Some(names.clone()),
            _ => None,
        })
        .collect();
    let through: Vec<(haste_sql::CatalogTable, Vec<String>)> = tables
        .iter()
        .filter_map(|table| match table {
            Locked::ThroughCatalog { through, path } => Some((through.clone(), path.clone())),
            _ => None,
        })
        .collect();
    let mut tree_sizes = match connection.relations_locked(&trees) {
        Ok(counts) if counts.len() == trees.len() => counts,
        _ => vec![1; trees.len()],
    }
    .into_iter();
    let mut found = match catalog_tables(&mut *connection, &through) {
        Ok(found) => found.into_iter().map(|tables| tables.len()).collect(),
        Err(_) => vec![1; through.len()],
    }
    .into_iter();
    tables
        .iter()
        .map(|table| match table {
            Locked::Named { with_descendants: true, .. } => tree_sizes.next().unwrap_or(1).max(1),
            Locked::Named { with_descendants: false, .. } => 1,
            Locked::ThroughCatalog { .. } => found.next().unwrap_or(1),
        })
        .collect()
}

/// Runs `attempt` until it succeeds, fails for good, or `budget` runs out: the one retry loop
/// of deploy and `migrate down`. `attempt` is handed the migration's waits so far (for the
/// history it writes) and the limits of this attempt; the waits of each cancelled attempt are
/// added to `waits`.
pub(crate) fn within_budget<T>(
    connection: &mut dyn Connection,
    observer: &mut dyn Observer,
    budget: &mut Budget,
    waits: &mut MigrationWaits,
    unit: Unit<'_>,
    mut attempt: impl FnMut(&mut dyn Connection, &MigrationWaits, Limits) -> Result<T, StepError>,
) -> (Result<T, StepError>, Tried) {
    loop {
        let started = Instant::now();
        let limits = budget.attempt();
        let failure = match attempt(&mut *connection, waits, limits) {
            Err(failure) if failure.error.is_retryable() => failure,
            outcome => return (outcome, Tried::attempts(budget.attempts())),
        };
        let history = unit.history == Some(failure.index);
        let (statement, kind) = match unit.statements.get(failure.index) {
            Some(statement) if !history => (statement.text.as_str(), statement.kind),
            _ => ("", StatementKind::Plain),
        };
        let attempted =
            Attempted { name: unit.name, statement, kind, error: &failure.error, started, capped: !history };
        match budget.retry_after(&mut *connection, &mut *observer, attempted) {
            Ok(blockers) => waits.count(started.elapsed(), &blockers),
            Err(gave_up) => {
                let tried = Tried { attempts: gave_up.attempts, gave_up: Some(gave_up) };
                return (Err(failure), tried);
            }
        }
    }
}

/// What [`run_alone`] ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The statement, as written.
    AsWritten,
    /// `DETACH PARTITION ... FINALIZE` in its place: an earlier attempt or run of this
    /// `DETACH PARTITION ... CONCURRENTLY` was interrupted after it marked the partition
    /// "detach pending", which the statement as written would refuse.
    Finalized {
        /// The partitioned table, quoted.
        partitioned: String,
        /// The partition, quoted.
        partition: String,
    },
}

/// Runs a statement that cannot run in a transaction. A concurrent index build or rebuild
/// that does not finish (cancelled by a lock or statement timeout, or refused) leaves INVALID
/// indexes behind (an unfinished build; a rebuild's `_ccnew` or `_ccold`): they are dropped
/// before the error is reported or the statement retried, and a build is never counted as done
/// while it left an invalid index. Only the indexes of the tables the statement rebuilds are
/// considered, and never one another session is building right now.
///
/// A `DETACH PARTITION ... CONCURRENTLY` whose partition an interrupted run left "detach
/// pending" is finished with `DETACH PARTITION ... FINALIZE` instead.
///
/// A build that gave up waiting puts the sessions it waited for in `waited_for`, named before
/// the drop of its INVALID index waits them out (and they are gone).
pub(crate) fn run_alone(
    connection: &mut dyn Connection,
    limits: Limits,
    statement: &haste_sql::Statement,
    waited_for: &mut Vec<LockHolder>,
) -> Result<Ran, DbError> {
    let (scope, named) = match statement.kind {
        StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY") => {
            match haste_sql::concurrent_index(&statement.text) {
                Some(build) => (Some(IndexScope::Table(build.table)), build.name),
                None => (None, None),
            }
        }
        StatementKind::NoTransaction("REINDEX CONCURRENTLY") => {
            (reindexed_scope(connection, &statement.text)?, None)
        }
        StatementKind::NoTransaction("DETACH PARTITION CONCURRENTLY") => {
            if let Some((partitioned, partition)) = haste_sql::detached_partition(&statement.text)
                && detach_pending(connection, &partitioned, &partition)?
            {
                let finalize = format!("ALTER TABLE {partitioned} DETACH PARTITION {partition} FINALIZE");
                connection.run_alone(limits, &finalize)?;
                return Ok(Ran::Finalized { partitioned, partition });
            }
            (None, None)
        }
        _ => (None, None),
    };
    let Some(scope) = scope else {
        return connection.run_alone(limits, &statement.text).map(|()| Ran::AsWritten);
    };
    if let Some(name) = &named
        && connection.index_validity(name)? == Some(false)
    {
        // Left by an earlier build of this very statement: `IF NOT EXISTS` would keep it.
        drop_index(connection, name)?;
    }
    let invalid_before = invalid_indexes_of(connection, &scope)?;
    let built = connection.run_alone(limits, &statement.text);
    if built.as_ref().is_err_and(|error| error.connection_lost) {
        return built.map(|()| Ran::AsWritten);
    }
    if built.as_ref().is_err_and(DbError::is_retryable) {
        *waited_for = blockers(connection, &statement.text, statement.kind);
    }
    let left: Vec<String> = invalid_indexes_of(connection, &scope)?
        .into_iter()
        .filter(|index| !invalid_before.contains(index))
        .collect();
    for name in &left {
        drop_index(connection, name)?;
    }
    match built {
        Err(mut error) if !left.is_empty() => {
            let note = format!("the INVALID index the build left ({}) was dropped", left.join(", "));
            error.detail = Some(error.detail.map_or(note.clone(), |detail| format!("{detail}\n{note}")));
            Err(error)
        }
        Ok(()) if !left.is_empty() => Err(invalid_index_error(&left)),
        Ok(()) => match named {
            Some(name) if connection.index_validity(&name)? == Some(false) => {
                drop_index(connection, &name)?;
                Err(invalid_index_error(&[name]))
            }
            _ => Ok(Ran::AsWritten),
        },
        Err(error) => Err(error),
    }
}

/// Whether `partition` (quoted) is still attached to `partitioned` (quoted) with a detach
/// pending: an interrupted `DETACH PARTITION ... CONCURRENTLY`.
fn detach_pending(
    connection: &mut dyn Connection,
    partitioned: &str,
    partition: &str,
) -> Result<bool, DbError> {
    let sql = format!(
        "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = to_regclass({}) AND inhparent = to_regclass({})",
        haste_sql::quote_literal(partition),
        haste_sql::quote_literal(partitioned)
    );
    let pending = connection.query_row(&sql)?.and_then(|row| row.into_iter().next().flatten());
    Ok(pending.as_deref() == Some("t"))
}

/// What history a file that manages its own transactions writes as its statements commit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Committing {
    /// Just before the `COMMIT` of a transaction block of the file, inside it: `done`
    /// statements are done once it commits.
    InBlock { done: usize },
    /// After a statement outside any block committed by itself, not the file's last: `done`
    /// statements are done.
    Alone { done: usize },
}

/// Writes the history of [`Committing`] statements, handed the migration's waits so far.
pub(crate) type RecordCommitting<'r> =
    dyn FnMut(&mut dyn Connection, &MigrationWaits, Committing) -> Result<(), DbError> + 'r;

/// How [`run_as_written`] stopped.
pub(crate) struct AsWrittenFailure {
    /// The statement that failed.
    pub step: StepError,
    /// Statements committed (and recorded) before it: all those before it outside a block,
    /// none of the block it failed in, which was rolled back.
    pub committed: usize,
    /// How the attempts at its unit went.
    pub tried: Tried,
}

/// Runs `unit.statements` from `from` one by one exactly as written, as psql would. Each
/// transaction the file opens (`BEGIN` ... `COMMIT`; a `COMMIT AND CHAIN` commits one and opens
/// the next) and each statement outside one is a unit under its own lock budget (a fresh
/// `budget()`): cancelled by a lock timeout or deadlock, the unit is rolled back and run again
/// from its start after a pause, as a transaction of haste's own would be (a unit opened by a
/// chain is opened again by its block's `BEGIN` and `SET TRANSACTION`s: what the chain committed
/// never runs twice, and a resume from there runs in a transaction too);
/// any other failure rolls back the block it happened in and stops. `record` writes history as
/// statements commit (see [`Committing`]).
pub(crate) fn run_as_written(
    connection: &mut dyn Connection,
    observer: &mut dyn Observer,
    budget: &dyn Fn() -> Budget,
    waits: &mut MigrationWaits,
    unit: Unit<'_>,
    from: usize,
    record: &mut RecordCommitting<'_>,
) -> Result<(), AsWrittenFailure> {
    let statements = unit.statements;
    // Each unit's budget, its lock timeout shared between the relations its statements lock;
    // what each table locked stands for is asked once, before anything runs.
    let (facts, sizes): (Vec<haste_sql::LockFacts>, Vec<(Locked, usize)>) = match connection.dialect() {
        Dialect::Postgres => {
            let facts: Vec<haste_sql::LockFacts> =
                statements.iter().map(|statement| haste_sql::lock_facts(&statement.text)).collect();
            let tables = locked_tables(&facts, from..statements.len());
            let counts = relations_locked(&mut *connection, &tables);
            (facts, tables.into_iter().zip(counts).collect())
        }
        Dialect::Sqlite => (Vec::new(), Vec::new()),
    };
    let budget = |start: usize| {
        let mut budget = budget();
        if !sizes.is_empty() {
            let unit = start..start + unit_at(statements, start).len();
            let relations = locked_tables(&facts, unit)
                .iter()
                .map(|table| sizes.iter().find(|(name, _)| name == table).map_or(1, |(_, size)| *size))
                .sum();
            budget.share_lock_timeout(relations);
        }
        budget
    };
    let mut current = budget(from);
    let (mut unit_start, mut index, mut in_transaction) = (from, from, false);
    let mut limits = current.attempt();
    if haste_sql::open_block(statements, from).is_some() {
        // Resuming in the part of a block that a chained commit opened: that transaction died
        // with the run, and its statements must run in one again, never on their own.
        reopen_chained(&mut *connection, statements, from, limits).map_err(|step| AsWrittenFailure {
            step,
            committed: from,
            tried: Tried::attempts(1),
        })?;
        in_transaction = true;
    }
    let mut started = Instant::now();
    while let Some(statement) = statements.get(index) {
        let control = match statement.kind {
            StatementKind::TransactionControl(control) => Some(control),
            _ => None,
        };
        // A block read only from its start refuses the history write: it commits as any
        // statement outside a block would, its progress recorded after it, never retried (what
        // it committed changed nothing). A chained part of it is read only too: its progress
        // waits for a later commit.
        let commits = in_transaction
            && matches!(control, Some(TransactionControl::Commit | TransactionControl::CommitAndChain))
            && !read_only_block(statements, index);
        let outcome = if commits {
            record(&mut *connection, waits, Committing::InBlock { done: index + 1 })
                .and_then(|()| connection.run_as_written(limits, &statement.text))
        } else if let StatementKind::TransactionControl(_) = statement.kind {
            connection.run_as_written(limits, &statement.text)
        } else {
            run_alone(&mut *connection, limits, statement, &mut Vec::new()).map(|_| ())
        };
        let error = match outcome {
            Ok(()) => {
                in_transaction = statement.kind.transaction_open_after(in_transaction);
                index += 1;
                if commits && in_transaction {
                    // Committed and chained: the next unit starts here, in the new transaction.
                    (unit_start, current) = (index, budget(index));
                    limits = current.attempt();
                    started = Instant::now();
                }
                if !in_transaction {
                    if !commits && index < statements.len() {
                        record(&mut *connection, waits, Committing::Alone { done: index }).map_err(
                            |error| AsWrittenFailure {
                                step: StepError { index: index - 1, error },
                                committed: index,
                                tried: Tried::attempts(current.attempts()),
                            },
                        )?;
                    }
                    // The next unit starts here, with a budget of its own.
                    (unit_start, current) = (index, budget(index));
                    limits = current.attempt();
                    started = Instant::now();
                }
                continue;
            }
            Err(error) => error,
        };
        if in_transaction && !error.connection_lost {
            let _ = connection.run_as_written(limits, "ROLLBACK");
        }
        let tried = if error.is_retryable() && !error.connection_lost {
            let attempted = Attempted {
                name: unit.name,
                statement: &statement.text,
                kind: statement.kind,
                error: &error,
                started,
                capped: true,
            };
            match current.retry_after(&mut *connection, &mut *observer, attempted) {
                Ok(blockers) => {
                    waits.count(started.elapsed(), &blockers);
                    (index, in_transaction) = (unit_start, false);
                    limits = current.attempt();
                    started = Instant::now();
                    if haste_sql::open_block(statements, unit_start).is_some() {
                        if let Err(step) = reopen_chained(&mut *connection, statements, unit_start, limits) {
                            let tried = Tried::attempts(current.attempts());
                            return Err(AsWrittenFailure { step, committed: unit_start, tried });
                        }
                        in_transaction = true;
                    }
                    continue;
                }
                Err(gave_up) => Tried { attempts: gave_up.attempts, gave_up: Some(gave_up) },
            }
        } else {
            Tried::attempts(current.attempts())
        };
        return Err(AsWrittenFailure { step: StepError { index, error }, committed: unit_start, tried });
    }
    Ok(())
}

/// Whether the file's transaction block that statement `at` ends was read only from its start
/// (`BEGIN READ ONLY`, or `SET TRANSACTION READ ONLY` before its first other statement), and
/// so is still (a chained part may turn read write): then nothing of it can have written. A
/// block that wrote and only then made itself read only is not: its writes must commit with
/// their history row. Only the block is read; only statements that mention `read` are parsed.
fn read_only_block(statements: &[haste_sql::Statement], at: usize) -> bool {
    let Some(begin) = haste_sql::open_block(statements, at) else { return false };
    let setting = |s: &haste_sql::Statement| {
        s.text.to_ascii_lowercase().contains("read").then(|| haste_sql::read_only_setting(&s.text)).flatten()
    };
    let mut read_only = setting(&statements[begin]).unwrap_or(false);
    // Whether the current part ran a statement: a setting after one no longer tells whether
    // what ran could write.
    let mut ran = false;
    for statement in &statements[begin + 1..at] {
        match (statement.kind, setting(statement)) {
            (StatementKind::TransactionControl(_), _) => ran = false,
            (_, Some(set)) if !ran => read_only = set,
            (_, Some(_)) => {}
            _ if !read_only => return false,
            _ => ran = true,
        }
    }
    read_only
}

/// Opens again the transaction of a unit that starts at `start` inside a file's transaction
/// block: with the block's `BEGIN` and the `SET TRANSACTION`s run in the block before `start`,
/// whose characteristics a chained commit carries into the next transaction. Only a chained
/// commit starts a unit inside a block; anywhere else the block's statements before `start`
/// never committed, and running on from `start` would skip them: refused.
fn reopen_chained(
    connection: &mut dyn Connection,
    statements: &[haste_sql::Statement],
    start: usize,
    limits: Limits,
) -> Result<(), StepError> {
    let begin =
        haste_sql::open_block(statements, start).filter(|_| haste_sql::opened_by_chain(statements, start));
    let Some(begin) = begin else {
        return Err(StepError {
            index: start,
            error: DbError::message(format!(
                "statement {} is inside a transaction block that did not commit before it: running on from there would skip the block's start",
                start + 1
            )),
        });
    };
    let characteristics = (begin + 1..start).filter(|&at| {
        statements[at].kind == StatementKind::Plain
            && haste_sql::sets_transaction_characteristics(&statements[at].text)
    });
    for at in std::iter::once(begin).chain(characteristics) {
        connection
            .run_as_written(limits, &statements[at].text)
            .map_err(|error| StepError { index: at, error })?;
    }
    Ok(())
}

/// Where a concurrent build or rebuild may leave INVALID indexes.
enum IndexScope {
    /// The indexes of one table (quoted SQL text).
    Table(String),
    /// The indexes of every table in a schema (quoted).
    Schema(String),
    /// The indexes of every table of the database outside the system schemas.
    Database,
}

/// The tables a `REINDEX ... CONCURRENTLY` rebuilds indexes of.
fn reindexed_scope(connection: &mut dyn Connection, statement: &str) -> Result<Option<IndexScope>, DbError> {
    use haste_sql::ReindexTarget;
    Ok(match haste_sql::reindexed_relation(statement) {
        Some((ReindexTarget::Table, table)) => Some(IndexScope::Table(table)),
        Some((ReindexTarget::Index, index)) => connection
            .query_row(&format!(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indexrelid = to_regclass({})",
                haste_sql::quote_literal(&index)
            ))?
            .and_then(|row| row.into_iter().next().flatten())
            .map(IndexScope::Table),
        Some((ReindexTarget::Schema, schema)) => Some(IndexScope::Schema(schema)),
        Some((ReindexTarget::Database, _)) => Some(IndexScope::Database),
        None => None,
    })
}

/// The INVALID indexes of the tables in `scope` and of their TOAST tables (a rebuild rebuilds
/// those too), schema-qualified and quoted, leaving out those another session is building or
/// rebuilding right now.
fn invalid_indexes_of(connection: &mut dyn Connection, scope: &IndexScope) -> Result<Vec<String>, DbError> {
    let tables = match scope {
        IndexScope::Table(table) => format!("t.oid = to_regclass({})", haste_sql::quote_literal(table)),
        IndexScope::Schema(schema) => {
            format!("t.relnamespace = to_regnamespace({})", haste_sql::quote_literal(schema))
        }
        IndexScope::Database => "t.relnamespace NOT IN (SELECT oid FROM pg_namespace \
             WHERE nspname IN ('pg_catalog', 'information_schema', 'pg_toast'))"
            .to_owned(),
    };
    let sql = format!(
        "WITH tables AS (SELECT t.oid, t.reltoastrelid FROM pg_class t WHERE {tables}) \
         SELECT CAST(coalesce(json_agg(format('%I.%I', n.nspname, c.relname) ORDER BY c.relname), '[]') AS text) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indrelid IN (SELECT oid FROM tables UNION SELECT reltoastrelid FROM tables) \
           AND NOT i.indisvalid AND NOT EXISTS \
           (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid AND p.pid <> pg_backend_pid())"
    );
    let names =
        connection.query_row(&sql)?.and_then(|row| row.into_iter().next().flatten()).unwrap_or_default();
    Ok(serde_json::from_str(&names).unwrap_or_default())
}

/// PostgreSQL's SQLSTATE for a statement refused inside a transaction block.
const ACTIVE_SQL_TRANSACTION: &str = "25001";

/// Event written when a migration that records progress starts.
pub(crate) const STARTED: &str = "started";
/// Event written when such a migration continues from its recorded progress.
pub(crate) const RESUMED: &str = "resumed";

/// The event of `resolve --applied`.
pub(crate) const RESOLVED_APPLIED: &str = "resolved_applied";

/// The event of `resolve --resume`, before the rest of the migration runs.
pub(crate) const RESOLVED_RESUMED: &str = "resolved_resumed";

/// The event of a deploy that held a migration back for a later one (`-- haste:after`).
pub(crate) const HELD: &str = "held";

/// A checksum of each statement of `plan`, in order.
pub(crate) fn statement_checksums(plan: &Plan<'_>) -> Vec<String> {
    plan.statements.iter().map(|statement| Checksum::of(&statement.text).to_string()).collect()
}

/// Event written before a `CREATE INDEX CONCURRENTLY` without a name runs.
pub(crate) const UNNAMED_INDEX_BUILD: &str = "unnamed_index_build";

/// The quoted, schema-qualified names of the indexes of `table` (quoted SQL text).
pub(crate) fn indexes_of(connection: &mut dyn Connection, table: &str) -> Result<Vec<String>, DbError> {
    let sql = format!(
        "SELECT CAST(coalesce(json_agg(format('%I.%I', n.nspname, c.relname) ORDER BY c.relname), '[]') AS text) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE i.indrelid = to_regclass({})",
        haste_sql::quote_literal(table)
    );
    let names =
        connection.query_row(&sql)?.and_then(|row| row.into_iter().next().flatten()).unwrap_or_default();
    Ok(serde_json::from_str(&names).unwrap_or_default())
}

/// Limits of the drop of an INVALID index a build left. `DROP INDEX CONCURRENTLY` waits for
/// the transactions that made the build give up, holding only a lock the application's reads
/// and writes never wait for, so it waits without a lock timeout, for a bounded time.
const CLEANUP_LIMITS: Limits =
    Limits { lock_timeout: None, statement_timeout: Some(std::time::Duration::from_secs(300)) };

fn drop_index(connection: &mut dyn Connection, name: &str) -> Result<(), DbError> {
    connection.run_alone(CLEANUP_LIMITS, &format!("DROP INDEX CONCURRENTLY IF EXISTS {name}")).map_err(
        |error| DbError {
            detail: Some(format!(
                "the INVALID index {name} remains; drop it with: DROP INDEX CONCURRENTLY IF EXISTS {name};"
            )),
            ..error
        },
    )
}

fn invalid_index_error(indexes: &[String]) -> DbError {
    DbError {
        detail: Some(format!("dropped the INVALID index {}", indexes.join(", "))),
        ..DbError::message("the concurrent index build finished but left its index INVALID")
    }
}
