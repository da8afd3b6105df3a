//! Applying one migration in the mode its plan chose, with retries and precise failure records.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use haste_driver::history::{Event, HistoryWrite, MigrationRow, MigrationStatus};
use haste_driver::{Connection, DbError, Limits, StepError};
use haste_migrations::Migration;
use haste_sql::{StatementKind, TransactionControl};

use crate::error::{FailureState, MigrationFailure};
use crate::plan::{ExecutionMode, Plan};
use crate::{AppliedMigration, CodeMigration, Error, MAX_BACKOFF, Observer, RunEvent, Settings};
use haste_sql::Step;

pub(crate) struct Applier<'a> {
    pub connection: &'a mut dyn Connection,
    pub settings: &'a Settings,
    pub observer: &'a mut dyn Observer,
    /// Migrations written in code, by name.
    pub code: &'a [CodeMigration],
}

impl Applier<'_> {
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
        if let Some(code) = self.code.iter().find(|code| code.name == migration.name) {
            return self.apply_code(migration, code);
        }
        let plan = Plan::new(self.connection.dialect(), migration)?;
        let started = Instant::now();
        self.observer.event(&RunEvent::MigrationStarted {
            name: &migration.name,
            mode: plan.mode,
            statements: plan.statements.len(),
        });
        if plan.statements.is_empty() && migration.data.is_none() {
            self.observer
                .event(&RunEvent::EmptyMigration { name: &migration.name, file: &migration.up.path });
        }
        // Resuming after the last statement completed but before (or after) it was recorded.
        let statements_done = from > 0 && from >= plan.statements.len();
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
        self.observer.event(&RunEvent::MigrationStarted { name: &migration.name, mode, statements: 0 });
        let started = Instant::now();
        let writes = [
            HistoryWrite::Migration(history_row(settings, migration, MigrationStatus::Applied, true, 0, 0)),
            HistoryWrite::Event(event(settings, migration, "applied", None)),
        ];
        let limits = self.limits(migration);
        let outcome = self.connection.run_code(limits, &mut |tx| (code.up)(tx), &settings.history, &writes);
        if let Err(error) = outcome {
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

/// What history says when the statements of `migration.sql` are all done: applied, or,
/// when a data step follows, still running with its schema part complete.
fn finished_writes<'p>(settings: &'p Settings, plan: &'p Plan<'_>) -> Vec<HistoryWrite<'p>> {
    let total = plan.statements.len();
    match plan.migration.data {
        None => vec![
            HistoryWrite::Migration(row(settings, plan, MigrationStatus::Applied, total)),
            HistoryWrite::Event(event(settings, plan.migration, "applied", None)),
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

impl Applier<'_> {
    /// Runs `attempt` until it succeeds, fails for good, or runs out of retries after lock
    /// timeouts and deadlocks. Returns the outcome and how many attempts were made.
    fn with_retries<T>(
        &mut self,
        plan: &Plan<'_>,
        mut attempt: impl FnMut(&mut dyn Connection) -> Result<T, StepError>,
    ) -> (Result<T, StepError>, u32) {
        let retries = plan.migration.directives.retries.unwrap_or(self.settings.retries);
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt(&mut *self.connection) {
                Err(failure) if failure.error.is_retryable() && tries <= retries => {
                    let delay =
                        jittered((self.settings.backoff * 2u32.saturating_pow(tries - 1)).min(MAX_BACKOFF));
                    self.observer.event(&RunEvent::Retrying {
                        name: &plan.migration.name,
                        attempt: tries,
                        delay_ms: delay.as_millis(),
                        error: &failure.error,
                    });
                    std::thread::sleep(delay);
                }
                outcome => return (outcome, tries),
            }
        }
    }

    fn in_transaction(&mut self, plan: &Plan<'_>) -> Result<(), Error> {
        let settings = self.settings;
        let limits = self.limits(plan.migration);
        let texts = plan.texts(0..plan.statements.len());
        let writes = finished_writes(settings, plan);
        let (outcome, attempts) = self.with_retries(plan, |connection| {
            connection.run_in_transaction(limits, &texts, &settings.history, &writes)
        });
        match outcome {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.failed(plan, failure, attempts, FailureState::RolledBack)),
        }
    }

    /// Records a migration without a data step as applied (its statements ran earlier).
    fn record_finish(&mut self, plan: &Plan<'_>) -> Result<(), Error> {
        let settings = self.settings;
        let applied = finished_writes(settings, plan);
        self.connection
            .record(&settings.history, &applied, false)
            .map_err(Error::database("recording a migration"))
    }

    /// Records that the migration is running from statement `from` on.
    fn record_start(&mut self, plan: &Plan<'_>, from: usize) -> Result<(), Error> {
        let settings = self.settings;
        let (kind, detail) = match from {
            0 => ("started", None),
            _ => ("resumed", Some(serde_json::json!({ "statements_done": from }).to_string())),
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
        let limits = self.limits(plan.migration);
        let total = plan.statements.len();
        self.record_start(plan, from)?;
        // Progress is recorded only at step boundaries, so `from` is always one.
        for step in plan.steps().into_iter().filter(|step| step.start >= from) {
            let writes = if step.end == total {
                finished_writes(settings, plan)
            } else {
                vec![HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, step.end))]
            };
            let texts = plan.texts(step.start..step.end);
            let (outcome, attempts) = self.with_retries(plan, |connection| {
                run_step(connection, settings, limits, step, &texts, &writes)
            });
            if let Err(failure) = outcome {
                let state = FailureState::MarkedFailed { statements_done: step.start };
                return Err(self.failed(plan, failure, attempts, state));
            }
            self.observer.event(&RunEvent::StepDone {
                name: &plan.migration.name,
                statements_done: step.end,
                statements_total: total,
            });
        }
        Ok(())
    }

    fn as_written(
        &mut self,
        plan: &Plan<'_>,
        history_in_file_transaction: bool,
        from: usize,
    ) -> Result<(), Error> {
        let settings = self.settings;
        let limits = self.limits(plan.migration);
        let history = &settings.history;
        if !history_in_file_transaction {
            self.record_start(plan, from)?;
        }
        let applied = finished_writes(settings, plan);
        let last = plan.statements.len() - 1;
        let mut in_transaction = false;
        let mut recorded_done = from;
        for (index, statement) in plan.statements.iter().enumerate().skip(from) {
            let step = if history_in_file_transaction && index == last {
                // The file's final COMMIT: history commits with it.
                self.connection
                    .record(history, &applied, true)
                    .and_then(|()| self.connection.run_as_written(limits, &statement.text))
            } else {
                self.connection.run_as_written(limits, &statement.text)
            };
            if let Err(error) = step {
                if in_transaction && !error.connection_lost {
                    let _ = self.connection.run_as_written(limits, "ROLLBACK");
                }
                let state = if history_in_file_transaction {
                    FailureState::RolledBack
                } else {
                    FailureState::MarkedFailed { statements_done: recorded_done }
                };
                return Err(self.failed(plan, StepError { index, error }, 1, state));
            }
            in_transaction = match statement.kind {
                StatementKind::TransactionControl(TransactionControl::Begin) => true,
                StatementKind::TransactionControl(
                    TransactionControl::Commit | TransactionControl::Rollback,
                ) => false,
                _ => in_transaction,
            };
            if !history_in_file_transaction && !in_transaction && index < last {
                recorded_done = index + 1;
                let progress =
                    [HistoryWrite::Migration(row(settings, plan, MigrationStatus::Running, recorded_done))];
                self.connection
                    .record(history, &progress, false)
                    .map_err(Error::database("recording progress"))?;
            }
        }
        if !history_in_file_transaction {
            self.connection
                .record(history, &applied, false)
                .map_err(Error::database("recording a migration"))?;
        }
        Ok(())
    }

    /// Records a failure as precisely as the database allows and builds the error.
    fn failed(&mut self, plan: &Plan<'_>, failure: StepError, attempts: u32, state: FailureState) -> Error {
        if failure.index >= plan.statements.len() {
            // Every statement ran; writing history failed, and the transaction rolled back.
            return Error::Database { context: "recording the migration in history", source: failure.error };
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
            "attempts": attempts,
        })
        .to_string();
        if !failure.error.connection_lost {
            let event = HistoryWrite::Event(event(settings, plan.migration, "failed", Some(detail.clone())));
            let writes = match &state {
                FailureState::RolledBack | FailureState::DataStopped { .. } => vec![event],
                FailureState::MarkedFailed { statements_done } => {
                    let mut row = row(settings, plan, MigrationStatus::Failed, *statements_done);
                    row.last_error = Some(detail);
                    vec![HistoryWrite::Migration(row), event]
                }
            };
            // Best effort: the error being reported matters more than its record.
            let _ = self.connection.record(&settings.history, &writes, false);
        }
        Error::MigrationFailed(Box::new(MigrationFailure {
            name: plan.migration.name.clone(),
            statement_index: failure.index,
            position,
            error: failure.error,
            attempts,
            state,
        }))
    }
}

fn run_step(
    connection: &mut dyn Connection,
    settings: &Settings,
    limits: Limits,
    step: Step,
    texts: &[&str],
    writes: &[HistoryWrite<'_>],
) -> Result<(), StepError> {
    if step.alone {
        let at = |error: DbError| StepError { index: step.start, error };
        connection.run_alone(limits, texts[0]).map_err(at)?;
        connection.record(&settings.history, writes, false).map_err(at)
    } else {
        connection.run_in_transaction(limits, texts, &settings.history, writes).map_err(|failure| StepError {
            index: step.start + failure.index.min(texts.len() - 1),
            ..failure
        })
    }
}

/// `pause` scaled by a pseudo-random factor in [0.5, 1.0), so runners that collide spread out.
pub(crate) fn jittered(pause: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let seed = nanos ^ std::process::id().wrapping_mul(0x9e37_79b9);
    let fraction = 0.5 + f64::from(seed % 1000) / 2000.0;
    pause.mul_f64(fraction)
}
