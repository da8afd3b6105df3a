//! `add-stored-generated-column`: stored generated column added to an existing table.
//!
//! Detects `ADD COLUMN ... GENERATED ALWAYS AS (...) STORED` on an existing table.
//!
//! Lock: ACCESS EXCLUSIVE while the table is rewritten to compute the column.
//!
//! Instead: a nullable column kept current by a trigger and backfilled in batches (PostgreSQL 18:
//! a virtual generated column, which needs no rewrite).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::ast::added_columns;
use super::{Context, Raw, Rule, ast};

/// `add-stored-generated-column`.
pub struct AddStoredGeneratedColumn;

impl Rule for AddStoredGeneratedColumn {
    fn id(&self) -> &'static str {
        "add-stored-generated-column"
    }

    fn summary(&self) -> &'static str {
        "stored generated column added to an existing table"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for column in added_columns(alter) {
                let stored = ast::constraints(&column.constraints)
                    .any(|c| c.contype == ConstrType::ConstrGenerated as i32 && c.generated_kind != "v");
                if stored {
                    findings.push(Raw::new(context, self.id(), format!("adding the stored generated column {}.{} rewrites the table under an ACCESS EXCLUSIVE lock", ast::relation_text(relation), column.colname), "use a trigger-maintained column backfilled in batches"));
                }
            }
        }
    }
}
