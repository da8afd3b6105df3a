//! `fk-not-valid`: foreign key added to an existing table without NOT VALID.
//!
//! Detects `ALTER TABLE ... ADD ... FOREIGN KEY` (also `REFERENCES` in `ADD COLUMN`) on an
//! existing table without `NOT VALID`.
//!
//! Lock: SHARE ROW EXCLUSIVE on both tables while every row is checked: writes to both stop.
//!
//! Instead: `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`, then `VALIDATE CONSTRAINT` in a later
//! transaction. Before PostgreSQL 18 a partitioned table refuses a `NOT VALID` foreign key
//! ("cannot add NOT VALID foreign key on partitioned table"): there the key is added `NOT VALID`
//! to each partition and validated there, then added to the partitioned table under the same
//! name, which adopts the validated keys of its partitions without checking their rows again.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

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
        for (relation, constraint) in ast::added_constraints(node) {
            if constraint.contype != ConstrType::ConstrForeign as i32
                || constraint.skip_validation
                || !context.is_existing_table(relation)
            {
                continue;
            }
            let help = if context.schema.is_partitioned(relation) && context.config.pg_version < 18 {
                "a partitioned table takes no NOT VALID foreign key before PostgreSQL 18: add it NOT VALID to each partition and VALIDATE CONSTRAINT there in a later migration, then add it to the partitioned table under the same name, which adopts the validated keys without checking the rows again"
            } else {
                "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration"
            };
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "adding a foreign key to {} checks every row while writes to both tables wait",
                    ast::relation_text(relation)
                ),
                help,
            ));
        }
    }
}
