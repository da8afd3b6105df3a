//! `add-required-column`: NOT NULL column added to an existing table without a default.
//!
//! Detects `ADD COLUMN ... NOT NULL` without a `DEFAULT` (nor identity or generated) on an
//! existing table.
//!
//! Risk: fails on any table that has rows; and the release still running inserts rows without it.
//!
//! Instead: add it nullable, backfill, then set NOT NULL through a validated CHECK; or give it a
//! constant default.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::ast::{added_columns, column_default};
use super::{Context, Raw, Rule, ast};

/// `add-required-column`.
pub struct AddRequiredColumn;

impl Rule for AddRequiredColumn {
    fn id(&self) -> &'static str {
        "add-required-column"
    }

    fn summary(&self) -> &'static str {
        "NOT NULL column added to an existing table without a default"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for column in added_columns(alter) {
                let constraints: Vec<_> = ast::constraints(&column.constraints).collect();
                let not_null = column.is_not_null
                    || constraints.iter().any(|c| {
                        c.contype == ConstrType::ConstrNotnull as i32
                            || c.contype == ConstrType::ConstrPrimary as i32
                    });
                let filled = column_default(column).is_some()
                    || !column.identity.is_empty()
                    || !column.generated.is_empty()
                    || constraints.iter().any(|c| {
                        c.contype == ConstrType::ConstrIdentity as i32
                            || c.contype == ConstrType::ConstrGenerated as i32
                    });
                if not_null && !filled {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!("{}.{} is NOT NULL without a default: this fails on a table with rows, and the running release cannot insert", ast::relation_text(relation), column.colname),
                        "add it nullable and backfill, or give it a constant DEFAULT",
                    ));
                }
            }
        }
    }
}
