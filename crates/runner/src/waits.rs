//! The statements that wait for other transactions by design, and whom they wait for: the one
//! model behind `migrate plan`'s `waits_for` and the sessions a give-up names.

use haste_driver::LockHolder;
use haste_sql::{Lock, StatementKind};

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
