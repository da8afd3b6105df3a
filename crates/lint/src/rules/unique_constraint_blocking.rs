//! `unique-constraint-blocking`: UNIQUE constraint added to an existing table without a prebuilt index.
//!
//! Detects `ADD CONSTRAINT ... UNIQUE (...)` on an existing table that builds its index in place.
//!
//! Lock: ACCESS EXCLUSIVE during the index build: reads and writes stop.
//!
//! Instead: `CREATE UNIQUE INDEX CONCURRENTLY i ...`, then `ADD CONSTRAINT c UNIQUE USING INDEX i`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::{Context, Raw, Rule};

/// `unique-constraint-blocking`.
pub struct UniqueConstraintBlocking;

impl Rule for UniqueConstraintBlocking {
    fn id(&self) -> &'static str {
        "unique-constraint-blocking"
    }

    fn summary(&self) -> &'static str {
        "UNIQUE constraint added to an existing table without a prebuilt index"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for (table, constraint) in context.constraints_added_to_existing(node, ConstrType::ConstrUnique) {
            if constraint.indexname.is_empty() {
                findings.push(Raw::new(context, self.id(), format!("adding a UNIQUE constraint to {table} builds its index under an ACCESS EXCLUSIVE lock"), "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX"));
            }
        }
    }
}
