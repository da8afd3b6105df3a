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

use super::ast::added_constraints;
use super::{Context, Raw, Rule, ast};

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
        for (relation, constraint) in added_constraints(node) {
            if constraint.contype == ConstrType::ConstrForeign as i32
                && !constraint.skip_validation
                && context.is_existing_table(relation)
            {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "adding a foreign key to {} checks every row while writes to both tables wait",
                        ast::relation_text(relation)
                    ),
                    "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                ));
            }
        }
    }
}
