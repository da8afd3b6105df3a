//! Streaming replicas as the primary sees them (`pg_stat_replication`): how far each one's
//! replay is behind. Data steps pause on it; a deploy sums it up at the end (the guide's
//! "monitor": replication lag where a replica is configured).
//!
//! The lag columns are visible only to superusers and members of `pg_read_all_stats`
//! (`pg_monitor`); for other roles the server shows a replica but not its position. Such a
//! replica is reported as not visible, never as caught up.

use std::time::{Duration, Instant};

use haste_driver::{Connection, DbError};
use haste_sql::Dialect;

/// One look at one replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaLag {
    /// The primary's process serving it (two standbys may share a name).
    pub pid: i64,
    /// Its `application_name` (the standby's `cluster_name`, or `walreceiver`), or
    /// `walsender <pid>` when this role cannot see the name.
    pub name: String,
    /// Whether this role sees the replica's state and position (the server hides every
    /// column but the pid from roles without `pg_read_all_stats`).
    pub visible: bool,
    /// WAL bytes its replay is behind the primary; `None` when this role cannot see it, or
    /// while a standby that just connected has not reported a replay position yet.
    pub behind_bytes: Option<u64>,
    /// The server's measure of the time its replay is behind; `None` when idle or invisible.
    pub replay_lag_ms: Option<u64>,
}

/// Reads every streaming replica's lag; none on SQLite or a server without replicas.
pub(crate) fn read(connection: &mut dyn Connection) -> Result<Vec<ReplicaLag>, DbError> {
    if connection.dialect() != Dialect::Postgres {
        return Ok(Vec::new());
    }
    let rows = connection.query_rows(
        "SELECT pid, application_name, \
                CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bigint), \
                CAST(extract(epoch FROM replay_lag) * 1000 AS bigint), \
                state IS NOT NULL \
         FROM pg_stat_replication ORDER BY pid",
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let number = |i: usize| row.get(i).cloned().flatten().and_then(|v| v.parse::<i64>().ok());
            let pid = number(0).unwrap_or_default();
            ReplicaLag {
                pid,
                name: row
                    .get(1)
                    .cloned()
                    .flatten()
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| format!("walsender {pid}")),
                visible: row.get(4).cloned().flatten().as_deref() == Some("t"),
                behind_bytes: number(2).map(|bytes| bytes.max(0) as u64),
                replay_lag_ms: number(3).map(|ms| ms.max(0) as u64),
            }
        })
        .collect())
}

/// How far a deploy's replicas fell behind, for its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Replication {
    /// Each replica seen, in the order first seen.
    pub replicas: Vec<ReplicaSeen>,
}

/// One replica over a deploy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplicaSeen {
    /// The primary's process serving it.
    pub pid: i64,
    /// Its `application_name`.
    pub name: String,
    /// Whether this role could see its position at some look (needs `pg_monitor` or
    /// `pg_read_all_stats`); when not, the figures below say nothing.
    pub visible: bool,
    /// The most WAL bytes its replay was seen behind.
    pub max_behind_bytes: u64,
    /// The longest replay delay the server reported, in milliseconds.
    pub max_replay_lag_ms: u64,
    /// WAL bytes behind at the last look, after the last migration.
    pub behind_bytes_at_end: u64,
    /// Whether it was still streaming at the last look: a standby that stopped (or lost its
    /// connection) while the deploy ran is gone from `pg_stat_replication`, and its figures are
    /// those of the look before.
    pub streaming_at_end: bool,
}

/// Looks at the replicas now and then while a deploy applies migrations.
pub(crate) struct ReplicaWatch {
    seen: Replication,
    /// The last look, or the deploy's start.
    last_look: Instant,
}

/// A run of quick migrations looks once a second, not after each one: a look is a catalog query.
const LOOK_INTERVAL: Duration = Duration::from_secs(1);

impl ReplicaWatch {
    pub fn new() -> ReplicaWatch {
        ReplicaWatch { seen: Replication::default(), last_look: Instant::now() }
    }

    /// Looks after a migration was applied, when the last look (or the start) is a while ago:
    /// a deploy that takes under a second looks only at its end.
    pub fn now_and_then(&mut self, connection: &mut dyn Connection) {
        if self.last_look.elapsed() >= LOOK_INTERVAL {
            self.look(connection);
        }
    }

    /// Looks now (the deploy's end).
    pub fn look(&mut self, connection: &mut dyn Connection) {
        self.last_look = Instant::now();
        // A look that fails (a role without access to the view) leaves the summary without
        // replicas; the migrations themselves are done and recorded.
        let Ok(replicas) = read(connection) else { return };
        for seen in &mut self.seen.replicas {
            seen.streaming_at_end = replicas.iter().any(|replica| replica.pid == seen.pid);
        }
        for replica in replicas {
            let position = match self.seen.replicas.iter().position(|seen| seen.pid == replica.pid) {
                Some(position) => position,
                None => {
                    self.seen.replicas.push(ReplicaSeen {
                        pid: replica.pid,
                        name: replica.name.clone(),
                        visible: false,
                        max_behind_bytes: 0,
                        max_replay_lag_ms: 0,
                        behind_bytes_at_end: 0,
                        streaming_at_end: true,
                    });
                    self.seen.replicas.len() - 1
                }
            };
            let seen = &mut self.seen.replicas[position];
            seen.visible |= replica.visible;
            if let Some(bytes) = replica.behind_bytes {
                seen.max_behind_bytes = seen.max_behind_bytes.max(bytes);
                seen.behind_bytes_at_end = bytes;
            }
            seen.max_replay_lag_ms = seen.max_replay_lag_ms.max(replica.replay_lag_ms.unwrap_or(0));
        }
    }

    /// What was seen; `None` when no replica was.
    pub fn summary(self) -> Option<Replication> {
        (!self.seen.replicas.is_empty()).then_some(self.seen)
    }
}
