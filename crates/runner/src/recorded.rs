//! History as the runner sees it: haste's own rows, plus the migrations Prisma Migrate recorded
//! in `_prisma_migrations` when haste takes over a Prisma-managed database.

use std::collections::HashMap;

use haste_driver::Connection;
use haste_driver::history::{HistoryRow, HistoryTables, MigrationStatus, PrismaRow};
use haste_migrations::{Checksum, SqlFile};

use crate::Error;

/// Who recorded a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedBy {
    /// haste's `_haste_migrations`.
    Haste,
    /// Prisma Migrate's `_prisma_migrations`, not yet adopted into haste's history.
    Prisma,
}

/// One migration as history records it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub row: HistoryRow,
    pub by: RecordedBy,
}

impl Record {
    /// Whether `file` is the file that was applied.
    pub fn matches(&self, file: &SqlFile) -> bool {
        match self.by {
            RecordedBy::Haste => self.row.checksum == file.checksum.as_str(),
            RecordedBy::Prisma => Checksum::matches_prisma(&file.sql, &self.row.checksum),
        }
    }
}

/// Every recorded migration, haste's rows first in name order, then Prisma's for names haste
/// has no row for. A Prisma migration counts as applied when a row of it finished and was not
/// rolled back; as failed when a row of it neither finished nor was rolled back; a migration
/// whose every row was rolled back is pending and not listed.
pub(crate) fn read(connection: &mut dyn Connection, tables: &HistoryTables) -> Result<Vec<Record>, Error> {
    let rows = connection.history(tables).map_err(Error::database("reading history"))?;
    let prisma = connection.prisma_history().map_err(Error::database("reading _prisma_migrations"))?;
    let known: std::collections::HashSet<String> = rows.iter().map(|row| row.name.clone()).collect();
    let mut records: Vec<Record> =
        rows.into_iter().map(|row| Record { row, by: RecordedBy::Haste }).collect();
    let mut by_name: HashMap<&str, Vec<&PrismaRow>> = HashMap::new();
    for row in prisma.iter().flatten() {
        if !known.contains(&row.migration_name) {
            by_name.entry(&row.migration_name).or_default().push(row);
        }
    }
    let mut adopted: Vec<Record> = by_name
        .into_iter()
        .filter_map(|(name, rows)| {
            let live = || rows.iter().filter(|row| row.rolled_back_at.is_none());
            let (status, row) = match live().find(|row| row.finished_at.is_some()) {
                Some(row) => (MigrationStatus::Applied, row),
                None => (MigrationStatus::Failed, live().next()?),
            };
            Some(Record {
                row: HistoryRow {
                    name: name.to_owned(),
                    status: Some(status),
                    checksum: row.checksum.clone(),
                    transactional: false,
                    statements_total: 0,
                    statements_done: 0,
                    finished_at: row.finished_at.clone(),
                    duration_ms: None,
                    data_last_key: None,
                    data_rows_done: None,
                    last_error: (status == MigrationStatus::Failed).then(|| {
                        serde_json::json!({
                            "message": "Prisma Migrate recorded this migration as failed",
                            "detail": row.logs,
                        })
                        .to_string()
                    }),
                },
                by: RecordedBy::Prisma,
            })
        })
        .collect();
    adopted.sort_by(|a, b| a.row.name.cmp(&b.row.name));
    records.extend(adopted);
    Ok(records)
}
