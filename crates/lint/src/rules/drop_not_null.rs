//! `drop-not-null`: NOT NULL dropped from a column.
//!
//! Detects `ALTER COLUMN ... DROP NOT NULL` on an existing table.
//!
//! Risk: the release still running reads the column expecting a value.
//!
//! Instead: make the application accept NULL first, then drop the constraint.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};
use crate::Severity;

/// `drop-not-null`.
pub struct DropNotNull;

impl Rule for DropNotNull {
    fn id(&self) -> &'static str {
        "drop-not-null"
    }

    fn summary(&self) -> &'static str {
        "NOT NULL dropped from a column"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for command in ast::alter_commands(alter) {
                if command.subtype == AlterTableType::AtDropNotNull as i32 {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!(
                            "{}.{} may now be NULL: code that expects a value breaks",
                            ast::relation_text(relation),
                            command.name
                        ),
                        "ship code that accepts NULL first",
                    ));
                }
            }
        }
    }
}
