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

use super::ast::added_constraints;
use super::{Context, Raw, Rule, ast};

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
        for (relation, constraint) in added_constraints(node) {
            if constraint.contype == ConstrType::ConstrUnique as i32
                && constraint.indexname.is_empty()
                && context.is_existing_table(relation)
            {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "adding a UNIQUE constraint to {} builds its index under an ACCESS EXCLUSIVE lock",
                        ast::relation_text(relation)
                    ),
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX",
                ));
            }
        }
    }
}
