//! `fk-not-valid`: foreign key added to an existing table without NOT VALID.
//!
//! Detects `ALTER TABLE ... ADD ... FOREIGN KEY` (also `REFERENCES` in `ADD COLUMN`) on an
//! existing table without `NOT VALID`.
//!
//! Lock: SHARE ROW EXCLUSIVE on both tables while every row is checked: writes to both stop.
//!
//! Instead: `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`, then `VALIDATE CONSTRAINT` in a later
//! transaction.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::{Context, Raw, Rule};

/// `fk-not-valid`.
pub struct FkNotValid;

impl Rule for FkNotValid {
    fn id(&self) -> &'static str {
        "fk-not-valid"
    }

    fn summary(&self) -> &'static str {
        "foreign key added to an existing table without NOT VALID"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for (table, constraint) in context.constraints_added_to_existing(node, ConstrType::ConstrForeign) {
            if !constraint.skip_validation {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "adding a foreign key to {table} checks every row while writes to both tables wait"
                    ),
                    "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                ));
            }
        }
    }
}
