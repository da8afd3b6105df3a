//! Data migrations: walk a table's key range in batches, one short transaction each, with the
//! last key done committed in the same transaction, so a killed run resumes where it stopped
//! and never repeats or skips a row.

use std::time::{Duration, Instant};

use haste_driver::history::{HistoryWrite, MigrationStatus};
use haste_driver::{Connection, DbError, Limits, StepError};
use haste_migrations::{DataStep, Migration};
use haste_sql::{quote_ident, quote_literal};

use crate::apply::{Applier, MigrationWaits, event, history_row};
use crate::budget::{Attempted, Budget};
use crate::error::{FailureState, GaveUp, MigrationFailure};
use crate::plan::Plan;
use crate::{Error, Observer, RunEvent, Settings};

/// Smallest and largest batch the size adapts between.
const BATCH_LIMITS: (u64, u64) = (10, 100_000);
/// Replica replay lag (WAL bytes) above which batches pause.
const MAX_REPLICA_LAG_BYTES: u64 = 16 * 1024 * 1024;
/// Longest pause while replicas catch up, between two looks.
const LAG_POLL: Duration = Duration::from_secs(1);

impl Applier<'_> {
    /// Runs `step` of `plan`'s migration from `progress`, then records the migration applied.
    pub(crate) fn run_data(
        &mut self,
        plan: &Plan<'_>,
        step: &DataStep,
        progress: Option<(String, u64)>,
    ) -> Result<(), Error> {
        let settings = self.settings;
        let migration = plan.migration;
        let walked =
            walk(&mut *self.connection, settings, &mut *self.observer, migration, step, progress, true)?;
        self.current.absorb(&walked);
        let total = plan.statements.len();
        let applied = [
            HistoryWrite::Migration(history_row(
                settings,
                migration,
                MigrationStatus::Applied,
                false,
                total,
                total,
            )),
            HistoryWrite::Event(event(settings, migration, "applied", self.current.detail())),
        ];
        self.connection
            .record(&settings.history, &applied, false)
            .map_err(Error::database("recording a migration"))
    }
}

/// Walks the key range of `step`'s table in batches. With `record`, each batch commits the
/// last key done with it (resumable); without, the walk starts over when run again (undoing).
/// Returns how its batches waited for locks.
pub(crate) fn walk(
    connection: &mut dyn Connection,
    settings: &Settings,
    observer: &mut dyn Observer,
    migration: &Migration,
    step: &DataStep,
    progress: Option<(String, u64)>,
    record: bool,
) -> Result<MigrationWaits, Error> {
    let table = step.relation();
    let key = quote_ident(&step.key);
    let text = |value: &str| format!("CAST({value} AS text)");
    // The upper end is fixed at the start: rows added later are the application's to fill.
    // Rows whose key is NULL are in no key range: the walk would pass them by and report the
    // step done.
    // The ends are the first rows in the key's order, not `max()`, which some key types lack
    // (uuid).
    let upper_sql = format!(
        "SELECT {}, count(*), count(*) FILTER (WHERE {key} IS NULL) FROM {table}",
        text(&format!("(SELECT {key} FROM {table} WHERE {key} IS NOT NULL ORDER BY {key} DESC LIMIT 1)"))
    );
    let upper =
        connection.query_row(&upper_sql).map_err(Error::database("finding the end of the key range"))?;
    let (mut last, mut rows_done) = match progress {
        Some((key, rows)) => (Some(key), rows),
        None => (None, 0),
    };
    let keyless: u64 = upper.as_ref().and_then(|row| row[2].as_deref()?.parse().ok()).unwrap_or(0);
    if keyless > 0 {
        let error = DbError {
            message: format!(
                "{keyless} rows of {table} have no {key} (NULL): a walk by {key} would skip them"
            ),
            hint: Some(
                "give them a key first, or walk by a key column that is NOT NULL (the primary key)".into(),
            ),
            ..DbError::default()
        };
        let stop = Stop { error, attempts: 1, gave_up: None };
        return Err(stopped(connection, settings, migration, step, stop, last, rows_done, record));
    }
    let (Some(upper), total) = upper.map(|row| (row[0].clone(), row[1].clone())).unwrap_or_default() else {
        return Ok(MigrationWaits::default());
    };
    let total: u64 = total.and_then(|t| t.parse().ok()).unwrap_or(0);
    let limits = Limits {
        lock_timeout: migration.directives.lock_timeout.or(settings.limits.lock_timeout),
        statement_timeout: migration.directives.statement_timeout.or(settings.limits.statement_timeout),
    };
    let retries = migration.directives.retries.or(settings.retries);
    let mut batch = step.batch_size;
    let started = Instant::now();
    let rows_at_start = rows_done;
    let mut waits = MigrationWaits::default();
    let mut invisible_said = false;
    // One lock budget for the whole step: a batch cancelled by a lock timeout or deadlock is
    // tried again, smaller, and the time its batches spend blocked adds up towards one
    // deadline (the smaller batch that gets through before the held row does not start a new
    // one).
    let mut budget = Budget::new(settings, limits, retries);
    loop {
        wait_for_replicas(connection, observer, &migration.name, &mut invisible_said)?;
        let lower =
            last.as_ref().map(|last| format!("{key} > {} AND ", quote_literal(last))).unwrap_or_default();
        let bound_sql = format!(
            "WITH batch AS (SELECT {key} AS k FROM {table} WHERE {lower}{key} <= {} ORDER BY {key} LIMIT {batch}) \
             SELECT {}, (SELECT count(*) FROM batch)",
            quote_literal(&upper),
            text("(SELECT k FROM batch ORDER BY k DESC LIMIT 1)"),
        );
        let bound = connection.query_row(&bound_sql).map_err(Error::database("finding the next batch"))?;
        let Some((Some(end), count)) = bound.map(|row| (row[0].clone(), row[1].clone())) else { break };
        let count: u64 = count.and_then(|c| c.parse().ok()).unwrap_or(0);
        let range = format!("{lower}{key} <= {}", quote_literal(&end));
        let statement = step.batch_statement(&range, &quote_literal(&end));
        let done = rows_done + count;
        let writes = if record {
            vec![HistoryWrite::Progress { name: &migration.name, last_key: &end, rows_done: done }]
        } else {
            Vec::new()
        };
        let batch_started = Instant::now();
        let attempt_limits = budget.attempt();
        match connection.run_in_transaction(attempt_limits, &[statement.as_str()], &settings.history, &writes)
        {
            Ok(()) => budget.passed(),
            Err(StepError { error, .. }) if error.is_retryable() => {
                let attempted = Attempted {
                    name: &migration.name,
                    statement: &statement,
                    kind: haste_sql::StatementKind::Plain,
                    error: &error,
                    started: batch_started,
                    capped: true,
                };
                match budget.retry_after(connection, observer, attempted) {
                    Ok(blockers) => waits.count(batch_started.elapsed(), &blockers),
                    Err(gave_up) => {
                        let stop = Stop { error, attempts: gave_up.attempts, gave_up: Some(gave_up) };
                        return Err(stopped(
                            connection, settings, migration, step, stop, last, rows_done, record,
                        ));
                    }
                }
                // A smaller batch holds its locks for less time, and the rows before the one
                // that is held get done meanwhile: the next attempt walks from the same key, fewer
                // rows.
                batch = (batch / 2).max(BATCH_LIMITS.0);
                continue;
            }
            Err(StepError { error, .. }) => {
                let stop = Stop { error, attempts: budget.attempts(), gave_up: None };
                return Err(stopped(connection, settings, migration, step, stop, last, rows_done, record));
            }
        }
        let elapsed = batch_started.elapsed();
        rows_done = done;
        last = Some(end);
        // Aim the next batch at the target duration, changing by at most a factor of two.
        let scale = step.target.as_secs_f64() / elapsed.as_secs_f64().max(0.001);
        batch = ((batch as f64 * scale.clamp(0.5, 2.0)) as u64).clamp(BATCH_LIMITS.0, BATCH_LIMITS.1);
        let walked = rows_done - rows_at_start;
        if let Some(rate) = step.max_rate.or(settings.max_rate) {
            let due = Duration::from_secs_f64(walked as f64 / rate.max(1) as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        observer.event(&RunEvent::DataProgress {
            name: &migration.name,
            rows_done,
            rows_total: total.max(rows_done),
            last_key: last.as_deref().unwrap_or_default(),
            batch_size: batch,
            rows_per_second: (walked as f64 / started.elapsed().as_secs_f64().max(0.001)) as u64,
        });
    }
    Ok(waits)
}

/// Pauses while a streaming replica's replay is more than [`MAX_REPLICA_LAG_BYTES`] behind.
/// Replicas whose position this role cannot see are said once per step, never taken as caught up
/// silently.
fn wait_for_replicas(
    connection: &mut dyn Connection,
    observer: &mut dyn Observer,
    name: &str,
    invisible_said: &mut bool,
) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        let replicas = crate::replicas::read(connection).map_err(Error::database("reading replica lag"))?;
        let invisible: Vec<&str> = replicas.iter().filter(|r| !r.visible).map(|r| r.name.as_str()).collect();
        if !invisible.is_empty() && !*invisible_said {
            *invisible_said = true;
            observer.event(&RunEvent::ReplicasNotVisible { name, replicas: &invisible });
        }
        let lag = replicas.iter().filter_map(|r| r.behind_bytes).max().unwrap_or(0);
        if lag <= MAX_REPLICA_LAG_BYTES {
            return Ok(());
        }
        observer.event(&RunEvent::DataPaused {
            name,
            replica_lag_bytes: lag,
            paused_ms: started.elapsed().as_millis(),
        });
        std::thread::sleep(LAG_POLL);
    }
}

/// Why a data step stopped: the error of its last attempt at a batch.
struct Stop {
    error: DbError,
    attempts: u32,
    gave_up: Option<GaveUp>,
}

/// Records why a data step stopped; it resumes from `last` on the next deploy.
#[allow(clippy::too_many_arguments)]
fn stopped(
    connection: &mut dyn Connection,
    settings: &Settings,
    migration: &Migration,
    step: &DataStep,
    stop: Stop,
    last: Option<String>,
    rows_done: u64,
    record: bool,
) -> Error {
    let Stop { error, attempts, gave_up } = stop;
    if record && !error.connection_lost {
        let detail = serde_json::json!({ "sqlstate": error.sqlstate, "message": error.message, "last_key": last, "rows_done": rows_done, "attempts": attempts, "gave_up": gave_up });
        let failed = [HistoryWrite::Event(event(settings, migration, "failed", Some(detail.to_string())))];
        let _ = connection.record(&settings.history, &failed, false);
    }
    let offset = step.file.sql.find(step.statement.lines().next().unwrap_or_default()).unwrap_or(0);
    Error::MigrationFailed(Box::new(MigrationFailure {
        name: migration.name.clone(),
        statement_index: 0,
        position: crate::plan::source_position(&step.file, offset),
        error,
        attempts,
        state: FailureState::DataStopped { last_key: last, rows_done },
        gave_up,
    }))
}
