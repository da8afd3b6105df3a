//! A database's migration history, read for the report: the current state of each migration
//! (`_haste_migrations`) and the event log (`_haste_events`).

use haste_driver::history::{EVENTS_TABLE, HistoryRow, HistoryTables};
use haste_driver::{Connection, DbError};
use haste_runner::{RECORDED_LOCK_WAITS, RecordedLockWaits};
use haste_sql::Dialect;

/// What the history tables hold.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Each migration's current state, by name.
    pub migrations: Vec<HistoryRow>,
    /// Every event, oldest first.
    pub events: Vec<Event>,
}

/// One row of `_haste_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When, as the database prints timestamps.
    pub at: String,
    /// The run that wrote it.
    pub run_id: String,
    /// What happened (`started`, `applied`, `failed`, `resolved_applied`, ...).
    pub event: String,
    /// The migration it is about.
    pub name: Option<String>,
    /// Its details (error, attempts, progress), when it has any.
    pub detail: Option<serde_json::Value>,
}

impl History {
    /// The events about migration `name`, oldest first.
    pub fn events_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |event| event.name.as_deref() == Some(name))
    }

    /// How migration `name` waited for table locks when it was last applied; `None` when it
    /// did not wait, or its history was written before haste kept its waits.
    pub fn lock_waits_of(&self, name: &str) -> Option<RecordedLockWaits> {
        let applied = self.events_of(name).filter(|event| event.event == "applied").last()?;
        let waits = applied.detail.as_ref()?.get(RECORDED_LOCK_WAITS)?;
        serde_json::from_value(waits.clone()).ok()
    }
}

/// Reads the history (empty when haste never ran on this database). The events come back as
/// one JSON array, so that the driver's one-row primitive reads the whole log at once.
pub fn read(connection: &mut dyn Connection, tables: &HistoryTables) -> Result<History, DbError> {
    let migrations = connection.history(tables)?;
    let events = tables.qualified(EVENTS_TABLE);
    let sql = match connection.dialect() {
        Dialect::Postgres => format!(
            "SELECT CAST(coalesce(json_agg(json_build_object('at', CAST(at AS text), 'run_id', run_id, \
             'event', event, 'name', name, 'detail', CAST(detail AS text)) ORDER BY id), '[]') AS text) FROM {events}"
        ),
        Dialect::Sqlite => format!(
            "SELECT coalesce(json_group_array(json_object('at', at, 'run_id', run_id, 'event', event, \
             'name', name, 'detail', detail)), '[]') FROM (SELECT * FROM {events} ORDER BY id)"
        ),
    };
    let text = match connection.query_row(&sql) {
        Ok(row) => row.and_then(|row| row.into_iter().next().flatten()).unwrap_or_default(),
        // No current state and no event log: haste never ran here.
        Err(_) if migrations.is_empty() => return Ok(History::default()),
        Err(error) => return Err(error),
    };
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let field = |row: &serde_json::Value, key: &str| row.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let events = rows
        .iter()
        .map(|row| Event {
            at: field(row, "at").unwrap_or_default(),
            run_id: field(row, "run_id").unwrap_or_default(),
            event: field(row, "event").unwrap_or_default(),
            name: field(row, "name"),
            detail: field(row, "detail").and_then(|detail| serde_json::from_str(&detail).ok()),
        })
        .collect();
    Ok(History { migrations, events })
}
