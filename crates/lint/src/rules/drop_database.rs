//! `drop-database`: DROP DATABASE in a migration.
//!
//! Detects `DROP DATABASE`.
//!
//! Risk: everything in it is gone.
//!
//! Instead: never from a migration.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `drop-database`.
pub struct DropDatabase;

impl Rule for DropDatabase {
    fn id(&self) -> &'static str {
        "drop-database"
    }

    fn summary(&self) -> &'static str {
        "DROP DATABASE in a migration"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::DropdbStmt(drop) = node {
            findings.push(Raw::new(
                context,
                self.id(),
                format!("DROP DATABASE {} destroys everything in it", drop.dbname),
                "do not drop databases from migrations",
            ));
        }
    }
}
