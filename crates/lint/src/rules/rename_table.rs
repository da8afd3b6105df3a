//! `rename-table`: table renamed.
//!
//! Detects `ALTER TABLE ... RENAME TO`.
//!
//! Risk: the release still running uses the old name and fails the moment this commits.
//!
//! Instead: create a view with the old name for one release, or expand/contract.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{Context, Raw, Rule};

/// `rename-table`.
pub struct RenameTable;

impl Rule for RenameTable {
    fn id(&self) -> &'static str {
        "rename-table"
    }

    fn any_database(&self) -> bool {
        true
    }

    fn summary(&self) -> &'static str {
        "table renamed"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let Some((table, rename)) = context.rename_of_existing(node, ObjectType::ObjectTable) {
            let message =
                format!("renaming {table} to {} breaks the release still using the old name", rename.newname);
            findings.push(Raw::new(
                context,
                self.id(),
                message,
                "keep a view with the old name for one release",
            ));
        }
    }
}
