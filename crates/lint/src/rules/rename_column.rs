//! `rename-column`: column renamed.
//!
//! Detects `ALTER TABLE ... RENAME COLUMN`.
//!
//! Risk: the release still running uses the old name and fails the moment this commits.
//!
//! Instead: expand/contract: add the new column, keep both in sync with a trigger, backfill,
//! switch the application, drop the old column in a later release.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{Context, Raw, Rule};

/// `rename-column`.
pub struct RenameColumn;

impl Rule for RenameColumn {
    fn id(&self) -> &'static str {
        "rename-column"
    }

    fn any_database(&self) -> bool {
        true
    }

    fn summary(&self) -> &'static str {
        "column renamed"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let Some((table, rename)) = context.rename_of_existing(node, ObjectType::ObjectColumn) {
            let message = format!(
                "renaming {table}.{} to {} breaks the release still using the old name",
                rename.subname, rename.newname
            );
            findings.push(Raw::new(
                context,
                self.id(),
                message,
                "expand/contract: new column + sync trigger + backfill, drop the old one a release later",
            ));
        }
    }
}
