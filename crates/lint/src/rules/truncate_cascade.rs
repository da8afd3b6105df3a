//! `truncate-cascade`: TRUNCATE ... CASCADE.
//!
//! Detects `TRUNCATE ... CASCADE`.
//!
//! Risk: silently empties every table with a foreign key to the named ones, recursively; ACCESS
//! EXCLUSIVE on all of them.
//!
//! Instead: name every table to empty.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::DropBehavior;

use super::{Context, Raw, Rule};

/// `truncate-cascade`.
pub struct TruncateCascade;

impl Rule for TruncateCascade {
    fn id(&self) -> &'static str {
        "truncate-cascade"
    }

    fn summary(&self) -> &'static str {
        "TRUNCATE ... CASCADE"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::TruncateStmt(truncate) = node
            && truncate.behavior == DropBehavior::DropCascade as i32
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "TRUNCATE ... CASCADE also empties every table that references these, recursively",
                "name every table to empty, without CASCADE",
            ));
        }
    }
}
