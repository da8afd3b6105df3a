//! Comparing history with the folder, read-only.

use std::collections::HashMap;

use haste_driver::Connection;
use haste_driver::history::MigrationStatus;
use haste_migrations::MigrationsDir;

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
    /// When it finished applying (or failed), as the database prints timestamps.
    pub finished_at: Option<String>,
    /// Statements completed, for one that stopped part-way.
    pub statements_done: Option<i64>,
    /// Statements in the file, as recorded.
    pub statements_total: Option<i64>,
    /// The recorded error of a failed migration (JSON text).
    pub last_error: Option<serde_json::Value>,
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

/// Reads history and compares it with `dir`. Takes no lock and writes nothing.
pub fn status(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
) -> Result<StatusReport, Error> {
    let history = connection
        .history(&settings.history)
        .map_err(Error::database("reading history"))?;
    let someone_deploying = history
        .iter()
        .any(|row| row.status == Some(MigrationStatus::Running))
        && connection
            .lock_holder()
            .map_err(Error::database("looking up the lock holder"))?
            .is_some();
    let mut rows: HashMap<&str, _> = history.iter().map(|row| (row.name.as_str(), row)).collect();
    let mut migrations = Vec::with_capacity(dir.migrations.len());
    let state_of = |status: Option<MigrationStatus>| match status {
        Some(MigrationStatus::Applied) => State::Applied,
        Some(MigrationStatus::Failed) | None => State::Failed,
        Some(MigrationStatus::Running) if someone_deploying => State::Running,
        Some(MigrationStatus::Running) => State::Interrupted,
    };
    for migration in &dir.migrations {
        let entry = match rows.remove(migration.name.as_str()) {
            None => MigrationState {
                name: migration.name.clone(),
                state: State::Pending,
                finished_at: None,
                statements_done: None,
                statements_total: None,
                last_error: None,
            },
            Some(row) => {
                let mut state = state_of(row.status);
                if state == State::Applied && row.checksum != migration.up.checksum.as_str() {
                    state = State::Modified;
                }
                MigrationState {
                    name: row.name.clone(),
                    state,
                    finished_at: row.finished_at.clone(),
                    statements_done: Some(row.statements_done),
                    statements_total: Some(row.statements_total),
                    last_error: row
                        .last_error
                        .as_deref()
                        .and_then(|text| serde_json::from_str(text).ok()),
                }
            }
        };
        migrations.push(entry);
    }
    for row in history
        .iter()
        .filter(|row| rows.contains_key(row.name.as_str()))
    {
        migrations.push(MigrationState {
            name: row.name.clone(),
            state: State::Missing,
            finished_at: row.finished_at.clone(),
            statements_done: Some(row.statements_done),
            statements_total: Some(row.statements_total),
            last_error: None,
        });
    }
    Ok(StatusReport { migrations })
}
