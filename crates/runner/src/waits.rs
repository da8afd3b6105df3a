//! The statements that wait for other transactions by design, and whom they wait for: the one
//! model behind `migrate plan`'s `waits_for` and the sessions a give-up names.

use haste_driver::{Connection, DbError, LockHolder};
use haste_sql::{CatalogTable, Lock, StatementKind, quote_ident, quote_literal};

/// How a statement that waits by design waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DesignedWait {
    /// It waits for the sessions holding a lock on its tables that conflicts with this mode.
    pub mode: Lock,
    /// It also waits for every transaction of the database holding a snapshot, on any table
    /// (the last phases of a concurrent build): `pg_locks` shows those only as the build's
    /// waits on their virtual transaction ids.
    pub snapshots: bool,
}

/// How `kind` waits for other transactions by design, if it does: the concurrent index builds
/// and drops and `DETACH PARTITION CONCURRENTLY`, whose wait holds only a lock the
/// application's reads and writes never wait for.
pub(crate) fn waits_by_design(kind: StatementKind) -> Option<DesignedWait> {
    match kind {
        StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY" | "REINDEX CONCURRENTLY") => {
            Some(DesignedWait { mode: Lock::Share, snapshots: true })
        }
        StatementKind::NoTransaction("DROP INDEX CONCURRENTLY" | "DETACH PARTITION CONCURRENTLY") => {
            Some(DesignedWait { mode: Lock::AccessExclusive, snapshots: false })
        }
        _ => None,
    }
}

/// Adds the sessions of `more` that `sessions` does not name yet, in their order.
pub(crate) fn add_sessions(sessions: &mut Vec<LockHolder>, more: Vec<LockHolder>) {
    for session in more {
        if !sessions.iter().any(|seen| seen.pid == session.pid) {
            sessions.push(session);
        }
    }
}

/// The tables a PostgreSQL `statement` locks, quoted as SQL text: those it names, and those the
/// catalog names for it (an index's table, the table a dropped foreign key references): the one
/// list behind `migrate plan`'s tables and blockers and the sessions a retry names. Reads only
/// the catalog, which takes no table lock.
pub(crate) fn locked_tables(
    connection: &mut dyn Connection,
    statement: &str,
) -> Result<Vec<String>, DbError> {
    let mut tables = haste_sql::tables_of(statement);
    for through in haste_sql::catalog_tables_of(statement) {
        let condition = match &through {
            CatalogTable::OfIndex(index) => format!(
                "c.oid = (SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = to_regclass({}))",
                quote_literal(index)
            ),
            CatalogTable::ReferencedBy { table, constraint } => format!(
                "c.oid = (SELECT k.confrelid FROM pg_constraint k WHERE k.contype = 'f' \
                 AND k.conrelid = to_regclass({}) AND k.conname = {})",
                quote_literal(table),
                quote_literal(constraint)
            ),
        };
        let sql = format!(
            "SELECT n.nspname, c.relname FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {condition}"
        );
        if let Some([Some(schema), Some(name)]) = connection.query_row(&sql)?.as_deref() {
            let table = format!("{}.{}", quote_ident(schema), quote_ident(name));
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
    }
    Ok(tables)
}
