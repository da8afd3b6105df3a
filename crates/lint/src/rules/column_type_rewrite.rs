//! `column-type-rewrite`: column type change that rewrites the table.
//!
//! Detects `ALTER COLUMN ... TYPE` on an existing table, except the changes PostgreSQL makes
//! without a rewrite when the old type is known from the history: `varchar(n)` to a longer
//! `varchar` or to `text`, `varchar` to `text`, `numeric(p,s)` to a larger precision with the same
//! scale or to unconstrained `numeric`.
//!
//! Lock: ACCESS EXCLUSIVE while the table and its indexes are rewritten.
//!
//! Instead: add a new column, keep it in sync with a trigger, backfill in batches, then switch.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `column-type-rewrite`.
pub struct ColumnTypeRewrite;

impl Rule for ColumnTypeRewrite {
    fn id(&self) -> &'static str {
        "column-type-rewrite"
    }

    fn summary(&self) -> &'static str {
        "column type change that rewrites the table"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for command in ast::alter_commands(alter) {
                if command.subtype != AlterTableType::AtAlterColumnType as i32 {
                    continue;
                }
                let new = match command.def.as_deref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::ColumnDef(column)) => ast::type_text(column.type_name.as_ref()),
                    _ => continue,
                };
                let old = context.schema.column_type(relation, &command.name);
                if old.is_some_and(|old| !haste_sql::type_change_rewrites(old, &new)) {
                    continue;
                }
                let from = old.map_or_else(|| "its current type".to_owned(), str::to_owned);
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("changing {}.{} from {from} to {new} rewrites the table under an ACCESS EXCLUSIVE lock", ast::relation_text(relation), command.name),
                    "add a new column, sync it with a trigger, backfill in batches, then switch",
                ));
            }
        }
    }
}
