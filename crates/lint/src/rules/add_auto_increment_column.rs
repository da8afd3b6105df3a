//! `add-auto-increment-column`: serial or identity column added to an existing table.
//!
//! Detects `ADD COLUMN` of type `serial`/`bigserial`/`smallserial` or with
//! `GENERATED ... AS IDENTITY` on an existing table.
//!
//! Lock: ACCESS EXCLUSIVE while every row gets its value: the table is rewritten.
//!
//! Instead: add a nullable `bigint`, give it a sequence default, backfill in batches, then set
//! NOT NULL through a validated CHECK.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::ast::added_columns;
use super::{Context, Raw, Rule, ast};

/// `add-auto-increment-column`.
pub struct AddAutoIncrementColumn;

impl Rule for AddAutoIncrementColumn {
    fn id(&self) -> &'static str {
        "add-auto-increment-column"
    }

    fn summary(&self) -> &'static str {
        "serial or identity column added to an existing table"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for column in added_columns(alter) {
                let serial = matches!(
                    ast::type_text(column.type_name.as_ref()).as_str(),
                    "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
                );
                let identity = ast::constraints(&column.constraints)
                    .any(|c| c.contype == ConstrType::ConstrIdentity as i32);
                if serial || identity {
                    findings.push(Raw::new(context, self.id(), format!("adding the auto-increment column {}.{} rewrites the table under an ACCESS EXCLUSIVE lock", ast::relation_text(relation), column.colname), "add a nullable bigint with a sequence default and backfill in batches"));
                }
            }
        }
    }
}
