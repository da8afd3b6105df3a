//! Leaving every failure state with a command: `down`, `resolve`, `baseline`, `reset`, `unlock`.

use std::time::Instant;

use haste_driver::history::{HistoryWrite, MigrationStatus};
use haste_driver::{Connection, LockHolder, StepError};
use haste_migrations::{Directives, Migration, MigrationsDir, SqlFile};
use haste_sql::{ConcurrentIndex, Script, StatementKind, concurrent_index};

use crate::apply::{
    Applier, AsWrittenFailure, Committing, MigrationWaits, RESOLVED_APPLIED, RESOLVED_RESUMED, Tried, Unit,
    event, history_row, run_as_written, within_budget,
};
use crate::budget::Budget;
use crate::error::{FailureState, MigrationFailure};
use crate::plan::{ExecutionMode, Plan};
use crate::recorded::{self, Record, RecordedBy};
use crate::{AppliedMigration, DeployReport, Error, Observer, RunEvent, Settings, deploy_locked, with_lock};

/// Which environment a command runs against; it decides what needs an explicit flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// A developer's database: `reset` needs no confirmation.
    Development,
    /// Production: `down` needs `--confirm-production`, `reset` needs `--force`.
    Production,
    /// Anything else, named: `reset` needs `--force`.
    Other(String),
}

impl Environment {
    fn name(&self) -> String {
        match self {
            Environment::Development => "development".into(),
            Environment::Production => "production".into(),
            Environment::Other(name) => name.clone(),
        }
    }
}

/// Whether `down` may run: in production only with `confirm_production`. `down` checks it
/// itself; a caller may check it before it connects.
pub fn check_down_allowed(environment: &Environment, confirm_production: bool) -> Result<(), Error> {
    if *environment == Environment::Production && !confirm_production {
        return Err(Error::Refused {
            action: "revert migrations",
            environment: environment.name(),
            flag: Some("--confirm-production"),
        });
    }
    Ok(())
}

/// Whether `reset` may run: outside development only with `force`. `reset` checks it itself; a
/// caller may check it before it connects.
pub fn check_reset_allowed(environment: &Environment, force: bool) -> Result<(), Error> {
    if *environment != Environment::Development && !force {
        return Err(Error::Refused {
            action: "reset the database",
            environment: environment.name(),
            flag: Some("--force"),
        });
    }
    Ok(())
}

/// Whether `migrate dev` may run: it writes migrations from the database it is pointed at and
/// applies them there, so never in production, and outside development (a named environment,
/// or none named and a server that is not on this machine) only with `force`. Checked before
/// anything connects.
pub fn check_dev_allowed(environment: &Environment, force: bool) -> Result<(), Error> {
    let action = "generate and apply migrations (migrate dev)";
    match environment {
        Environment::Development => Ok(()),
        Environment::Production => {
            Err(Error::Refused { action, environment: environment.name(), flag: None })
        }
        Environment::Other(_) if force => Ok(()),
        Environment::Other(_) => {
            Err(Error::Refused { action, environment: environment.name(), flag: Some("--force") })
        }
    }
}

/// How far `down` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownTarget {
    /// Undo the last `n` applied migrations.
    Steps(usize),
    /// Undo every migration applied after this one (which stays applied).
    To(String),
}

/// What `resolve` does with one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// It was finished by hand: record it as applied (Prisma's `--applied`).
    Applied,
    /// It was undone by hand: forget it, so it is pending again (Prisma's `--rolled-back`).
    RolledBack,
    /// Continue a failed or interrupted non-transactional migration from its recorded progress.
    Resume {
        /// Drop an invalid index left by a failed `CREATE INDEX CONCURRENTLY` before retrying it.
        drop_invalid_index: bool,
        /// The file was edited after it stopped (its failing statement fixed): run the new text
        /// of the statements not yet done, provided those already done are unchanged.
        accept_edit: bool,
    },
}

/// `phase` of the `last_error` of a migration whose `down.sql` stopped part-way.
const DOWN_PHASE: &str = "down";

/// How many of its `down.sql`'s statements completed, where the recorded error says the
/// migration stopped while it was being reverted.
pub(crate) fn down_statements_done(last_error: &str) -> Option<i64> {
    let error = serde_json::from_str::<serde_json::Value>(last_error).ok()?;
    (error["phase"].as_str() == Some(DOWN_PHASE)).then(|| error["statements_done"].as_i64().unwrap_or(0))
}

/// Undoes applied migrations with their `down.sql`, newest first, each with its history change
/// in one transaction where the file allows.
pub fn down(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    target: &DownTarget,
    environment: &Environment,
    confirm_production: bool,
    observer: &mut dyn Observer,
) -> Result<Vec<String>, Error> {
    check_down_allowed(environment, confirm_production)?;
    with_lock(connection, settings, observer, |connection, observer| {
        let records = recorded::read(connection, &settings.history)?;
        // A migration stopped part-way (a data step that stopped, a failed statement) is the
        // newest change: reverting the one applied before it would undo what it stands on and
        // leave its record saying its part is applied.
        if let Some(unfinished) = records.iter().find(|r| r.row.status != Some(MigrationStatus::Applied)) {
            return Err(crate::blocked(unfinished));
        }
        let mut applied: Vec<Record> =
            records.into_iter().filter(|record| record.by == RecordedBy::Haste).collect();
        // Newest applied first: the order they were applied in, not their names.
        applied.sort_by(|a, b| (&b.row.finished_at, &b.row.name).cmp(&(&a.row.finished_at, &a.row.name)));
        let chosen: Vec<&Record> = match target {
            DownTarget::Steps(n) => applied.iter().take(*n).collect(),
            DownTarget::To(name) => {
                let position = applied
                    .iter()
                    .position(|record| record.row.name == *name)
                    .ok_or_else(|| Error::UnknownMigration { name: name.clone() })?;
                applied[..position].iter().collect()
            }
        };
        // Every file is read and checked before anything is undone.
        let mut plans = Vec::with_capacity(chosen.len());
        for record in chosen {
            let migration = dir
                .get(&record.row.name)
                .ok_or_else(|| Error::UnknownMigration { name: record.row.name.clone() })?;
            let missing = |file: &str| Error::NoDownFile {
                name: migration.name.clone(),
                path: migration.folder().join(file),
            };
            let data_down = match &migration.data {
                Some(_) => Some(migration.read_data_down()?.ok_or_else(|| missing("data.down.sql"))?),
                None => None,
            };
            // A data-only migration has nothing of its own to undo beyond its data step.
            let file = match migration.read_down()? {
                Some(file) => file,
                None if migration.up.sql.trim().is_empty() => SqlFile {
                    path: migration.folder().join("down.sql"),
                    sql: String::new(),
                    checksum: haste_migrations::Checksum::of(""),
                },
                None => return Err(missing("down.sql")),
            };
            plans.push((migration, file, data_down));
        }
        let mut reverted = Vec::with_capacity(plans.len());
        for (migration, file, data_down) in &plans {
            let started = Instant::now();
            // Each revert starts in the session as haste opened it, as each migration of a
            // deploy does: the settings a down.sql before it left (foreign keys or checks off)
            // would change what this one does.
            connection.reset_session().map_err(Error::database("resetting the session before the revert"))?;
            if let Some(step) = data_down {
                crate::data::walk(connection, settings, observer, migration, step, None, false)?;
            }
            revert(connection, settings, observer, migration, file)?;
            observer.event(&RunEvent::MigrationReverted {
                name: &migration.name,
                duration_ms: started.elapsed().as_millis(),
            });
            reverted.push(migration.name.clone());
        }
        Ok(reverted)
    })
}

fn revert(
    connection: &mut dyn Connection,
    settings: &Settings,
    observer: &mut dyn Observer,
    migration: &Migration,
    file: &SqlFile,
) -> Result<(), Error> {
    let directives = Directives::parse(&file.path, &file.sql)?;
    let plan = Plan::for_file(connection.dialect(), migration, file, directives.transaction)?;
    if let Some(refused) = plan.unparseable() {
        return Err(Error::MigrationFailed(Box::new(MigrationFailure {
            name: migration.name.clone(),
            statement_index: refused.index,
            position: plan.error_position(refused.index, refused.error.position),
            error: refused.error,
            attempts: 1,
            state: FailureState::RolledBack,
            gave_up: None,
        })));
    }
    let limits = haste_driver::Limits {
        lock_timeout: directives.lock_timeout.or(settings.limits.lock_timeout),
        statement_timeout: directives.statement_timeout.or(settings.limits.statement_timeout),
    };
    let writes = [
        HistoryWrite::Forget(&migration.name),
        HistoryWrite::Event(event(settings, migration, "reverted", None)),
    ];
    let up_statements = Script::parse(connection.dialect(), &migration.up.sql).statements.len();
    if plan.mode != ExecutionMode::Transaction {
        // Statement by statement: before the first, the row says the migration is being
        // reverted, so a run that dies part-way leaves it interrupted, never "applied" over a
        // half-undone schema. Nothing has run when this write fails.
        let mut row =
            history_row(settings, migration, MigrationStatus::Running, false, up_statements, up_statements);
        row.last_error = Some(serde_json::json!({ "phase": DOWN_PHASE, "statements_done": 0 }).to_string());
        let started = [
            HistoryWrite::Migration(row),
            HistoryWrite::Event(event(settings, migration, "revert_started", None)),
        ];
        connection
            .record(&settings.history, &started, false)
            .map_err(Error::database("recording the start of a revert (nothing of it ran)"))?;
    }
    // How many statements of down.sql committed before a failure: all before it outside a
    // transaction block, none of the block it failed in (rolled back here).
    let mut committed = 0;
    // The lock budget of deploy: short attempts, retried until the deadline.
    let budget = || Budget::new(settings, limits, directives.retries.or(settings.retries));
    let mut waits = MigrationWaits::default();
    let unit = Unit { name: &migration.name, statements: &plan.statements, history: None };
    let (outcome, tried) = if plan.mode == ExecutionMode::Transaction {
        let texts = plan.texts(0..plan.statements.len());
        within_budget(connection, observer, &mut budget(), &mut waits, unit, |connection, _, limits| {
            connection.run_in_transaction(limits, &texts, &settings.history, &writes)
        })
    } else {
        // Statement by statement, as written: each commit of down.sql records how far it got
        // (a run killed part-way says where it stopped), the history change follows the last.
        let mut record_progress = |connection: &mut dyn Connection, _: &MigrationWaits, committing| {
            let (done, in_open_transaction) = match committing {
                Committing::InBlock { done } => (done, true),
                Committing::Alone { done } => (done, false),
            };
            let mut row = history_row(
                settings,
                migration,
                MigrationStatus::Running,
                false,
                up_statements,
                up_statements,
            );
            row.last_error =
                Some(serde_json::json!({ "phase": DOWN_PHASE, "statements_done": done }).to_string());
            connection.record(&settings.history, &[HistoryWrite::Migration(row)], in_open_transaction)
        };
        match run_as_written(connection, observer, &budget, &mut waits, unit, 0, &mut record_progress) {
            Err(AsWrittenFailure { step, committed: done, tried }) => {
                committed = crate::apply::changes_done(&plan.statements, connection.dialect(), done);
                (Err(step), tried)
            }
            Ok(()) => {
                committed = plan.statements.len();
                let recorded = connection
                    .record(&settings.history, &writes, false)
                    .map_err(|error| StepError { index: plan.statements.len(), error });
                (recorded, Tried::attempts(1))
            }
        }
    };
    outcome.map_err(|failure| {
        let nothing_committed = if plan.mode == ExecutionMode::Transaction {
            !failure.error.transaction_ended_early
        } else {
            committed == 0 && failure.index < plan.statements.len()
        };
        let state = match nothing_committed {
            true => FailureState::RolledBack,
            false => FailureState::MarkedFailed { statements_done: committed },
        };
        // A revert that started statement by statement (recorded above) and committed nothing
        // leaves the migration applied again; one that committed part of down.sql leaves it
        // neither applied nor reverted until a person resolves it.
        let status = match nothing_committed {
            true if plan.mode != ExecutionMode::Transaction => Some(MigrationStatus::Applied),
            true => None,
            false => Some(MigrationStatus::Failed),
        };
        if let (Some(status), false) = (status, failure.error.connection_lost) {
            let detail = serde_json::json!({
                "phase": DOWN_PHASE,
                "statements_done": committed,
                "rolled_back": nothing_committed,
                "sqlstate": failure.error.sqlstate,
                "message": failure.error.message,
            })
            .to_string();
            let mut row = history_row(settings, migration, status, false, up_statements, up_statements);
            if status == MigrationStatus::Failed {
                row.last_error = Some(detail.clone());
            }
            let writes = [
                HistoryWrite::Migration(row),
                HistoryWrite::Event(event(settings, migration, "revert_failed", Some(detail))),
            ];
            // Best effort: the failure being reported matters more than its record.
            let _ = connection.record(&settings.history, &writes, false);
        }
        Error::MigrationFailed(Box::new(MigrationFailure {
            name: migration.name.clone(),
            statement_index: failure.index,
            position: plan.error_position(failure.index, failure.error.position),
            error: failure.error,
            attempts: tried.attempts,
            state,
            gave_up: tried.gave_up,
        }))
    })
}

/// Leaves a failed, interrupted or hand-fixed state (see [`Resolution`]).
pub fn resolve(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    name: &str,
    resolution: &Resolution,
    observer: &mut dyn Observer,
) -> Result<Option<AppliedMigration>, Error> {
    let migration = dir.get(name).ok_or_else(|| Error::UnknownMigration { name: name.to_owned() })?;
    with_lock(connection, settings, observer, |connection, observer| {
        let records = recorded::read(connection, &settings.history)?;
        let record = records.iter().find(|record| record.row.name == name);
        let status = record.and_then(|record| record.row.status);
        let not_resolvable =
            |reason: &str| Error::NotResolvable { name: name.to_owned(), reason: reason.to_owned() };
        if record.is_some_and(|record| record.by == RecordedBy::Prisma) {
            return Err(not_resolvable(
                "Prisma Migrate recorded it as failed; resolve it with `prisma migrate resolve`, or fix it and let haste adopt it",
            ));
        }
        match resolution {
            Resolution::Applied => {
                if status == Some(MigrationStatus::Applied) {
                    return Err(not_resolvable("it is already applied"));
                }
                let statements = Script::parse(connection.dialect(), &migration.up.sql).statements.len();
                let writes = [
                    HistoryWrite::Migration(history_row(
                        settings,
                        migration,
                        MigrationStatus::Applied,
                        false,
                        statements,
                        statements,
                    )),
                    HistoryWrite::Event(event(settings, migration, RESOLVED_APPLIED, None)),
                ];
                connection
                    .record(&settings.history, &writes, false)
                    .map_err(Error::database("recording the resolution"))?;
                Ok(None)
            }
            Resolution::RolledBack => {
                if !matches!(status, Some(MigrationStatus::Failed | MigrationStatus::Running)) {
                    return Err(not_resolvable(
                        "only a failed or interrupted migration can be marked rolled back",
                    ));
                }
                let writes = [
                    HistoryWrite::Forget(name),
                    HistoryWrite::Event(event(settings, migration, "resolved_rolled_back", None)),
                ];
                connection
                    .record(&settings.history, &writes, false)
                    .map_err(Error::database("recording the resolution"))?;
                Ok(None)
            }
            Resolution::Resume { drop_invalid_index, accept_edit } => {
                let Some(record) = record
                    .filter(|_| matches!(status, Some(MigrationStatus::Failed | MigrationStatus::Running)))
                else {
                    return Err(not_resolvable("only a failed or interrupted migration can be resumed"));
                };
                if record.row.last_error.as_deref().and_then(down_statements_done).is_some() {
                    return Err(not_resolvable(
                        "its down.sql stopped part-way; finish or undo it by hand, then use --applied or --rolled-back",
                    ));
                }
                let plan = Plan::new(connection.dialect(), migration)?;
                let mut from = usize::try_from(record.row.statements_done).unwrap_or_default();
                if record.row.checksum != migration.up.checksum.as_str() {
                    let changed = changed_statement_done(connection, settings, &plan, from)?;
                    if !accept_edit || changed.is_some() {
                        return Err(Error::EditedBeforeResume {
                            name: name.to_owned(),
                            file: migration.up.path.clone(),
                            statements_done: from,
                            changed_statement_done: changed,
                        });
                    }
                    let detail = serde_json::json!({
                        "statements_done": from,
                        "checksum_before": record.row.checksum,
                        "checksum_after": migration.up.checksum.as_str(),
                    })
                    .to_string();
                    if !plan.resumes_at(from) {
                        return Err(not_resolvable(&format!(
                            "the edited file does not continue where the run stopped: it no longer runs statement {} on its own (outside a transaction or at the start of one), so resuming would run statements twice or skip them; restore the file, or finish by hand and use --applied",
                            from + 1
                        )));
                    }
                    let accepted =
                        [HistoryWrite::Event(event(settings, migration, "edit_accepted", Some(detail)))];
                    connection
                        .record(&settings.history, &accepted, false)
                        .map_err(Error::database("recording the accepted edit"))?;
                }
                if let Some(statement) = plan.statements.get(from)
                    && statement.kind == StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY")
                    && let Some(build) = concurrent_index(&statement.text)
                {
                    let mut finished = false;
                    for index in indexes_built(connection, settings, migration, from, build)? {
                        match connection
                            .index_validity(&index)
                            .map_err(Error::database("checking the index"))?
                        {
                            // The build finished but the run died before recording it.
                            Some(true) => finished = true,
                            Some(false) => {
                                let drop_statement = format!("DROP INDEX CONCURRENTLY IF EXISTS {index}");
                                if !drop_invalid_index {
                                    return Err(Error::InvalidIndexLeft {
                                        name: name.to_owned(),
                                        index,
                                        drop_statement,
                                    });
                                }
                                connection
                                    .run_alone(settings.limits, &drop_statement)
                                    .map_err(Error::database("dropping the invalid index"))?;
                            }
                            None => {}
                        }
                    }
                    from += usize::from(finished);
                }
                // A migration a later one waits for (`-- haste:after`) and that resolve finishes
                // holds that one back for a deploy more (see `resolved_since_held`).
                let resumed = [HistoryWrite::Event(event(settings, migration, RESOLVED_RESUMED, None))];
                connection
                    .record(&settings.history, &resumed, false)
                    .map_err(Error::database("recording the resolution"))?;
                let mut applier = Applier::new(connection, settings, observer, &[]);
                let progress = record
                    .row
                    .data_last_key
                    .clone()
                    .map(|key| (key, record.row.data_rows_done.unwrap_or_default().max(0) as u64));
                applier.apply(migration, from, progress).map(Some)
            }
        }
    })
}

/// For a migration edited after it stopped with `done` statements run: the first of those
/// whose text changed, or `Some(done)` when the file has fewer statements now. A history that
/// recorded no statement checksums (older haste) cannot tell: `Some(0)`.
fn changed_statement_done(
    connection: &mut dyn Connection,
    settings: &Settings,
    plan: &Plan<'_>,
    done: usize,
) -> Result<Option<usize>, Error> {
    let query = settings
        .history
        .latest_event_detail(&plan.migration.name, &[crate::apply::STARTED, crate::apply::RESUMED]);
    let recorded: Vec<String> = connection
        .query_row(&query)
        .map_err(Error::database("reading the statements that ran"))?
        .and_then(|row| row.into_iter().next().flatten())
        .and_then(|detail| serde_json::from_str::<serde_json::Value>(&detail).ok())
        .and_then(|detail| serde_json::from_value(detail["statement_checksums"].clone()).ok())
        .unwrap_or_default();
    if recorded.len() < done {
        return Ok(Some(0));
    }
    let now = crate::apply::statement_checksums(plan);
    Ok((0..done).find(|&index| now.get(index) != recorded.get(index)))
}

/// The indexes an interrupted `CREATE INDEX CONCURRENTLY` (statement `at` of `migration`) may
/// have made: the one it names, or, for a build without a name, those its table has now and
/// did not have when the build started (recorded then).
fn indexes_built(
    connection: &mut dyn Connection,
    settings: &Settings,
    migration: &Migration,
    at: usize,
    build: ConcurrentIndex,
) -> Result<Vec<String>, Error> {
    if let Some(name) = build.name {
        return Ok(vec![name]);
    }
    let query = settings.history.latest_event_detail(&migration.name, &[crate::apply::UNNAMED_INDEX_BUILD]);
    let noted: Option<serde_json::Value> = connection
        .query_row(&query)
        .map_err(Error::database("reading the index build record"))?
        .and_then(|row| row.into_iter().next().flatten())
        .and_then(|detail| serde_json::from_str(&detail).ok());
    let Some(noted) = noted.filter(|noted| noted["statement_index"].as_u64() == Some(at as u64)) else {
        // Not recorded: the run stopped before the build began.
        return Ok(Vec::new());
    };
    let before: Vec<String> = serde_json::from_value(noted["indexes_before"].clone()).unwrap_or_default();
    let now = crate::apply::indexes_of(connection, &build.table)
        .map_err(Error::database("listing the table's indexes"))?;
    let mut built = Vec::new();
    for index in now.into_iter().filter(|index| !before.contains(index)) {
        // Another session may have added an index meanwhile: only one of this definition counts.
        if builds_same_index(connection, &index, &build).map_err(Error::database("reading an index"))? {
            built.push(index);
        }
    }
    Ok(built)
}

/// Whether the index `name` has the uniqueness and key columns `build` asks for (for an
/// expression or partial build: that it is one too).
fn builds_same_index(
    connection: &mut dyn Connection,
    name: &str,
    build: &ConcurrentIndex,
) -> Result<bool, haste_driver::DbError> {
    let sql = format!(
        "SELECT i.indisunique, i.indexprs IS NULL AND i.indpred IS NULL, \
         CAST((SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) \
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.n <= i.indnkeyatts) AS text) \
         FROM pg_index i WHERE i.indexrelid = to_regclass({})",
        haste_sql::quote_literal(name)
    );
    let Some(row) = connection.query_row(&sql)? else { return Ok(false) };
    let flag = |i: usize| row.get(i).cloned().flatten().as_deref() == Some("t");
    let columns: Vec<String> =
        row.get(2).cloned().flatten().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    Ok(flag(0) == build.unique
        && match &build.columns {
            Some(wanted) => flag(1) && columns == *wanted,
            None => !flag(1),
        })
}

/// Marks every migration up to and including `name` as applied without running anything: the
/// database already has their effect (it was built before haste, or by other means).
pub fn baseline(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    name: &str,
    observer: &mut dyn Observer,
) -> Result<Vec<String>, Error> {
    if dir.get(name).is_none() {
        return Err(Error::UnknownMigration { name: name.to_owned() });
    }
    with_lock(connection, settings, observer, |connection, _| {
        let records = recorded::read(connection, &settings.history)?;
        let marked: Vec<(&Migration, usize)> = dir
            .migrations
            .iter()
            .take_while(|migration| migration.name.as_str() <= name)
            .filter(|migration| records.iter().all(|record| record.row.name != migration.name))
            .map(|migration| {
                (migration, Script::parse(connection.dialect(), &migration.up.sql).statements.len())
            })
            .collect();
        let mut writes = Vec::with_capacity(marked.len() * 2);
        for (migration, statements) in &marked {
            writes.push(HistoryWrite::Migration(history_row(
                settings,
                migration,
                MigrationStatus::Applied,
                false,
                *statements,
                *statements,
            )));
            writes.push(HistoryWrite::Event(event(settings, migration, "baselined", None)));
        }
        if !writes.is_empty() {
            connection
                .record(&settings.history, &writes, false)
                .map_err(Error::database("recording the baseline"))?;
        }
        Ok(marked.into_iter().map(|(migration, _)| migration.name.clone()).collect())
    })
}

/// Empties the database (every object in every non-system schema), applies every migration,
/// then runs `seed` (a SQL file) in one transaction.
pub fn reset(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    seed: Option<&SqlFile>,
    environment: &Environment,
    force: bool,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    check_reset_allowed(environment, force)?;
    crate::check_provider(connection, dir)?;
    if let Some(seed) = seed {
        check_seed(connection.dialect(), seed)?;
    }
    with_lock(connection, settings, observer, |connection, observer| {
        connection.drop_all_objects().map_err(Error::database("dropping every object"))?;
        connection
            .ensure_history(&settings.history)
            .map_err(Error::database("creating the history tables"))?;
        // An empty database stands for no release at all: every migration applies, those a
        // `-- haste:after` holds back for the next release too, before the seed runs on them.
        let every_release = Settings { hold_contracts: false, ..settings.clone() };
        let report = deploy_locked(connection, dir, &[], &every_release, observer)?;
        if let Some(seed) = seed {
            // The seed starts in the session as haste opened it, not in the one the last
            // migration left (foreign keys or checks it turned off for its own work).
            connection.reset_session().map_err(Error::database("resetting the session before the seed"))?;
            run_seed(connection, settings, observer, seed)?;
        }
        Ok(report)
    })
}

/// Refuses a seed that would lose its own work, before the database is emptied.
fn check_seed(dialect: haste_sql::Dialect, seed: &SqlFile) -> Result<(), Error> {
    let script = Script::parse(dialect, &seed.sql);
    if script.parse_error.is_none()
        && let Some(index) = haste_sql::unterminated(&script.statements)
    {
        return Err(Error::SeedUnterminatedTransaction {
            position: crate::plan::source_position(seed, script.statements[index].start),
        });
    }
    Ok(())
}

fn run_seed(
    connection: &mut dyn Connection,
    settings: &Settings,
    observer: &mut dyn Observer,
    seed: &SqlFile,
) -> Result<(), Error> {
    let name = seed.path.display().to_string();
    if let Some(failure) = crate::plan::nul_byte(connection.dialect(), &name, seed) {
        return Err(Error::SeedFailed(failure));
    }
    let script = Script::parse(connection.dialect(), &seed.sql);
    let transactional = script.parse_error.is_some()
        || (!script.manages_transactions() && script.no_transaction_statements().next().is_none());
    // The lock budget of deploy, as for a migration.
    let budget = || Budget::new(settings, settings.limits, settings.retries);
    let mut waits = MigrationWaits::default();
    let unit = Unit { name: &name, statements: &script.statements, history: None };
    let (failure, state, tried) = if transactional {
        let texts: Vec<&str> = script.statements.iter().map(|s| s.text.as_str()).collect();
        let (outcome, tried) =
            within_budget(connection, observer, &mut budget(), &mut waits, unit, |connection, _, limits| {
                connection.run_in_transaction(limits, &texts, &settings.history, &[])
            });
        match outcome {
            Ok(()) => return Ok(()),
            Err(failure) if failure.error.transaction_ended_early => {
                (failure, FailureState::MarkedFailed { statements_done: 0 }, tried)
            }
            Err(failure) => (failure, FailureState::RolledBack, tried),
        }
    } else {
        // The seed steers its own transactions (or holds statements that cannot run in one):
        // as written, statement by statement, as psql would run it.
        let mut record_nothing = |_: &mut dyn Connection, _: &MigrationWaits, _| Ok(());
        match run_as_written(connection, observer, &budget, &mut waits, unit, 0, &mut record_nothing) {
            Ok(()) => return Ok(()),
            Err(AsWrittenFailure { step, committed, tried }) => {
                (step, FailureState::MarkedFailed { statements_done: committed }, tried)
            }
        }
    };
    let position =
        crate::plan::statement_position(seed, script.statements.get(failure.index), failure.error.position);
    Err(Error::SeedFailed(Box::new(MigrationFailure {
        name: seed.path.display().to_string(),
        statement_index: failure.index,
        position,
        error: failure.error,
        attempts: tried.attempts,
        state,
        gave_up: tried.gave_up,
    })))
}

/// What `unlock` found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnlockReport {
    /// Who held the migration lock.
    pub holder: Option<LockHolder>,
    /// Whether that session was ended.
    pub terminated: bool,
}

/// Shows who holds the migration lock; ends that session only when `terminate` names it.
pub fn unlock(connection: &mut dyn Connection, terminate: Option<i64>) -> Result<UnlockReport, Error> {
    let holder = connection.lock_holder().map_err(Error::database("looking up the lock holder"))?;
    let terminated = match (terminate, &holder) {
        (None, _) => false,
        (Some(pid), Some(holder)) if holder.pid == pid => {
            connection.terminate_session(pid).map_err(Error::database("ending the lock holder's session"))?
        }
        (Some(pid), _) => {
            return Err(Error::NotResolvable {
                name: "the migration lock".into(),
                reason: match &holder {
                    Some(holder) => format!("it is held by pid {}, not {pid}", holder.pid),
                    None => "nobody holds it".into(),
                },
            });
        }
    };
    Ok(UnlockReport { holder, terminated })
}
