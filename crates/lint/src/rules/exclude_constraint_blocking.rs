//! `exclude-constraint-blocking`: EXCLUDE constraint added to an existing table.
//!
//! Detects `ADD CONSTRAINT ... EXCLUDE (...)` on an existing table.
//!
//! Lock: ACCESS EXCLUSIVE while the constraint's index is built over every row: reads and
//! writes stop for the whole build.
//!
//! Instead: there is no online form. PostgreSQL cannot attach an exclusion constraint to an
//! index built concurrently (`USING INDEX` takes only unique indexes) nor add it `NOT VALID`.
//! Run it in a maintenance window, or enforce the rule another way (a unique index over a
//! derived column, a trigger) and allow the finding with the reason.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::{Context, Raw, Rule};

/// `exclude-constraint-blocking`.
pub struct ExcludeConstraintBlocking;

impl Rule for ExcludeConstraintBlocking {
    fn id(&self) -> &'static str {
        "exclude-constraint-blocking"
    }

    fn summary(&self) -> &'static str {
        "EXCLUDE constraint added to an existing table"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for (table, _) in context.constraints_added_to_existing(node, ConstrType::ConstrExclusion) {
            findings.push(Raw::new(
                context,
                self.id(),
                format!("adding an EXCLUDE constraint to {table} builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait for the whole build"),
                "PostgreSQL has no online form (no CONCURRENTLY, no USING INDEX, no NOT VALID for EXCLUDE): run it in a maintenance window and allow this finding with the reason",
            ));
        }
    }
}
