//! `check-constraint-not-valid`: CHECK constraint added to an existing table without NOT VALID.
//!
//! Detects `ALTER TABLE ... ADD CONSTRAINT ... CHECK (...)` (also inline in `ADD COLUMN`) on an
//! existing table without `NOT VALID`.
//!
//! Lock: ACCESS EXCLUSIVE while PostgreSQL scans every row: reads and writes stop.
//!
//! Instead: `ADD CONSTRAINT ... CHECK (...) NOT VALID`, then `VALIDATE CONSTRAINT` in a later
//! transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::{Context, Raw, Rule};

/// `check-constraint-not-valid`.
pub struct CheckConstraintNotValid;

impl Rule for CheckConstraintNotValid {
    fn id(&self) -> &'static str {
        "check-constraint-not-valid"
    }

    fn summary(&self) -> &'static str {
        "CHECK constraint added to an existing table without NOT VALID"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for (table, constraint) in context.constraints_added_to_existing(node, ConstrType::ConstrCheck) {
            if !constraint.skip_validation {
                findings.push(Raw::new(context, self.id(), format!("adding a CHECK constraint to {table} validates every row under an ACCESS EXCLUSIVE lock"), "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration"));
            }
        }
    }
}
