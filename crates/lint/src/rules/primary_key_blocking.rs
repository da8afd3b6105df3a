//! `primary-key-blocking`: PRIMARY KEY added to an existing table without a prebuilt index.
//!
//! Detects `ADD PRIMARY KEY (...)` on an existing table that builds its index in place.
//!
//! Lock: ACCESS EXCLUSIVE during the index build (and a scan for NOT NULL on nullable columns).
//!
//! Instead: `CREATE UNIQUE INDEX CONCURRENTLY i ...`, then `ADD CONSTRAINT pk PRIMARY KEY USING INDEX i`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::{Context, Raw, Rule};

/// `primary-key-blocking`.
pub struct PrimaryKeyBlocking;

impl Rule for PrimaryKeyBlocking {
    fn id(&self) -> &'static str {
        "primary-key-blocking"
    }

    fn summary(&self) -> &'static str {
        "PRIMARY KEY added to an existing table without a prebuilt index"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for (table, constraint) in context.constraints_added_to_existing(node, ConstrType::ConstrPrimary) {
            if constraint.indexname.is_empty() {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "adding a primary key to {table} builds its index under an ACCESS EXCLUSIVE lock"
                    ),
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
                ));
            }
        }
    }
}
