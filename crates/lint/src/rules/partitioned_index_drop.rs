//! `partitioned-index-drop`: DROP INDEX of an index on a partitioned table.
//!
//! Detects `DROP INDEX` of an index the history created on a partitioned table.
//!
//! Lock: ACCESS EXCLUSIVE on the partitioned table and on every partition: short (catalog only),
//! but it queues behind every running query on any of them, and every later query queues
//! behind it.
//!
//! Instead: there is none. PostgreSQL refuses `DROP INDEX CONCURRENTLY` of a partitioned index,
//! and a partition's attached index cannot be dropped alone. It is a warning, not an error: run
//! it under a short lock timeout with retries (haste's runner does, see `require-lock-timeout`),
//! in a migration of its own, at a quiet time.
//!
//! PostgreSQL: 11 and later (partitioned indexes).

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{Context, Raw, Rule, ast};
use crate::Severity;

/// `partitioned-index-drop`.
pub struct PartitionedIndexDrop;

impl Rule for PartitionedIndexDrop {
    fn id(&self) -> &'static str {
        "partitioned-index-drop"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn summary(&self) -> &'static str {
        "DROP INDEX of an index on a partitioned table (no concurrent form exists)"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let NodeEnum::DropStmt(drop) = node else { return };
        if drop.remove_type != ObjectType::ObjectIndex as i32 {
            return;
        }
        for name in ast::dropped_names(drop).iter().filter(|name| context.schema.is_partitioned_index(name)) {
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "dropping {name}, an index on a partitioned table, takes an ACCESS EXCLUSIVE lock on the \
                     table and every partition; PostgreSQL has no concurrent form for it"
                ),
                "keep it short and retried: a lock timeout with retries (haste's runner sets one), in a \
                 migration of its own, at a quiet time",
            ));
        }
    }
}
