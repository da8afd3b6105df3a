//! Comparing history with the folder, read-only.

use std::collections::HashMap;

use haste_driver::Connection;
use haste_driver::history::MigrationStatus;
use haste_migrations::MigrationsDir;

use crate::recorded::{self, Record, RecordedBy};
use crate::{Error, Settings};

/// The state of every migration, in the folder or in history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    /// One entry per migration: the folder's in order, then those only in history.
    pub migrations: Vec<MigrationState>,
}

/// One migration's state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationState {
    /// Folder name.
    pub name: String,
    /// Where it stands.
    pub state: State,
    /// Whose history records it (`prisma` until haste adopts a Prisma-managed database).
    pub recorded_by: Option<RecordedBy>,
    /// When it finished applying (or failed), as the database prints timestamps.
    pub finished_at: Option<String>,
    /// Statements completed, for one that stopped part-way.
    pub statements_done: Option<i64>,
    /// Statements in the file, as recorded.
    pub statements_total: Option<i64>,
    /// The recorded error of a failed migration (JSON text).
    pub last_error: Option<serde_json::Value>,
    /// Where it stopped while its `down.sql` ran: how many of those statements completed.
    pub down_statements_done: Option<i64>,
    /// How far a data migration got: `{last_key, rows_done}`.
    pub data_progress: Option<serde_json::Value>,
}

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and the file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file changed since.
    Modified,
    /// Applied, but its folder is gone.
    Missing,
    /// Stopped part-way at a failed statement; needs resolving.
    Failed,
    /// Being applied by a run that holds the lock.
    Running,
    /// Started by a run that is gone (crashed or killed); needs resolving.
    Interrupted,
}

impl StatusReport {
    /// Whether any migration is in `state`.
    pub fn any(&self, state: State) -> bool {
        self.migrations.iter().any(|m| m.state == state)
    }
}

/// Reads history (haste's, and Prisma Migrate's for a database haste has not adopted yet) and
/// compares it with `dir`. Takes no lock and writes nothing.
pub fn status(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
) -> Result<StatusReport, Error> {
    let records = recorded::read(connection, &settings.history)?;
    let someone_deploying = records.iter().any(|record| record.row.status == Some(MigrationStatus::Running))
        && connection.lock_holder().map_err(Error::database("looking up the lock holder"))?.is_some();
    let mut by_name: HashMap<&str, &Record> =
        records.iter().map(|record| (record.row.name.as_str(), record)).collect();
    let state_of = |status: Option<MigrationStatus>| match status {
        Some(MigrationStatus::Applied) => State::Applied,
        Some(MigrationStatus::Failed) | None => State::Failed,
        Some(MigrationStatus::Running) if someone_deploying => State::Running,
        Some(MigrationStatus::Running) => State::Interrupted,
    };
    let entry = |record: &Record, state: State| MigrationState {
        data_progress: record
            .row
            .data_last_key
            .as_ref()
            .map(|key| serde_json::json!({ "last_key": key, "rows_done": record.row.data_rows_done })),
        name: record.row.name.clone(),
        state,
        recorded_by: Some(record.by),
        finished_at: record.row.finished_at.clone(),
        statements_done: Some(record.row.statements_done),
        statements_total: Some(record.row.statements_total),
        last_error: record.row.last_error.as_deref().and_then(|text| serde_json::from_str(text).ok()),
        down_statements_done: record
            .row
            .last_error
            .as_deref()
            .and_then(crate::recovery::down_statements_done),
    };
    let mut migrations = Vec::with_capacity(dir.migrations.len());
    for migration in &dir.migrations {
        migrations.push(match by_name.remove(migration.name.as_str()) {
            None => MigrationState {
                name: migration.name.clone(),
                state: State::Pending,
                recorded_by: None,
                finished_at: None,
                statements_done: None,
                statements_total: None,
                last_error: None,
                down_statements_done: None,
                data_progress: None,
            },
            Some(record) => {
                let mut data_stopped = false;
                let state = match state_of(record.row.status) {
                    State::Applied if !record.matches(&migration.up) => State::Modified,
                    // A stopped data migration resumes on the next deploy by itself.
                    State::Interrupted if crate::resumable_data(record, Some(migration)) => {
                        data_stopped = true;
                        State::Pending
                    }
                    state => state,
                };
                let mut state = entry(record, state);
                // Its schema part is applied even when no batch committed: say so.
                if data_stopped && state.data_progress.is_none() {
                    state.data_progress = Some(serde_json::json!({
                        "last_key": null,
                        "rows_done": record.row.data_rows_done.unwrap_or_default()
                    }));
                }
                state
            }
        });
    }
    for record in records.iter().filter(|record| by_name.contains_key(record.row.name.as_str())) {
        // A migration written in code lives in the application that registered it.
        let state = match state_of(record.row.status) {
            State::Applied if haste_migrations::Checksum::is_code(&record.row.checksum) => State::Applied,
            _ => State::Missing,
        };
        migrations.push(entry(record, state));
    }
    Ok(StatusReport { migrations })
}
