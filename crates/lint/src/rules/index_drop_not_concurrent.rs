//! `index-drop-not-concurrent`: DROP INDEX without CONCURRENTLY.
//!
//! Detects `DROP INDEX` without `CONCURRENTLY`, except of an index on a partitioned table,
//! which has no concurrent form (`partitioned-index-drop` reports it).
//!
//! Lock: ACCESS EXCLUSIVE on the index's table: short, but it queues behind every running query
//! and every later query queues behind it.
//!
//! Instead: `DROP INDEX CONCURRENTLY` (not for indexes backing a constraint).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{Context, Raw, Rule, ast};

/// `index-drop-not-concurrent`.
pub struct IndexDropNotConcurrent;

impl Rule for IndexDropNotConcurrent {
    fn id(&self) -> &'static str {
        "index-drop-not-concurrent"
    }

    fn summary(&self) -> &'static str {
        "DROP INDEX without CONCURRENTLY"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::DropStmt(drop) = node
            && drop.remove_type == ObjectType::ObjectIndex as i32
            && !drop.concurrent
            && ast::dropped_names(drop).iter().any(|name| !context.schema.is_partitioned_index(name))
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
                "use DROP INDEX CONCURRENTLY",
            ));
        }
    }
}
