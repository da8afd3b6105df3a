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

use super::{Context, Raw, Rule, ast};

/// `rename-column`.
pub struct RenameColumn;

impl Rule for RenameColumn {
    fn id(&self) -> &'static str {
        "rename-column"
    }

    fn summary(&self) -> &'static str {
        "column renamed"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::RenameStmt(rename) = node
            && rename.rename_type == ObjectType::ObjectColumn as i32
            && let Some(relation) = &rename.relation
            && context.is_existing_table(relation)
        {
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "renaming {}.{} to {} breaks the release still using the old name",
                    ast::relation_text(relation),
                    rename.subname,
                    rename.newname
                ),
                "expand/contract: new column + sync trigger + backfill, drop the old one a release later",
            ));
        }
    }
}
