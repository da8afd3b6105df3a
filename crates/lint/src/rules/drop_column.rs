//! `drop-column`: column dropped.
//!
//! Detects `ALTER TABLE ... DROP COLUMN` on an existing table. In a `down.sql`, a column its
//! migration added is dropped to undo it, and is not reported.
//!
//! Risk: the data is gone, and the release still running reads or writes the column and fails.
//!
//! Instead: stop using the column in one release, drop it in a later one (expand/contract), and
//! allow this rule with a reason there.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `drop-column`.
pub struct DropColumn;

impl Rule for DropColumn {
    fn id(&self) -> &'static str {
        "drop-column"
    }

    fn any_database(&self) -> bool {
        true
    }

    fn summary(&self) -> &'static str {
        "column dropped"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for command in ast::alter_commands(alter) {
                // A down.sql dropping the column its migration added undoes that migration.
                if command.subtype == AlterTableType::AtDropColumn as i32
                    && !context.schema.reverts_creation(relation, Some(&command.name))
                {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!(
                            "dropping {}.{} loses its data and breaks the release still using it",
                            ast::relation_text(relation),
                            command.name
                        ),
                        "drop it in a release after the one that stopped using it; allow with a reason",
                    ));
                }
            }
        }
    }
}
