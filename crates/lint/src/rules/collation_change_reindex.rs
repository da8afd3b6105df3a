//! `collation-change-reindex`: column collation change that builds the column's indexes again.
//!
//! Detects `ALTER COLUMN ... TYPE ... [COLLATE ...]` on an existing table that keeps the type
//! (or changes it without a rewrite) but changes the column's collation, when an index, key,
//! unique or exclusion constraint reads the column. The table is not rewritten, but every such
//! index is built again, since its order depends on the collation.
//!
//! Lock: ACCESS EXCLUSIVE for as long as the index builds take: reads and writes stop.
//!
//! Instead: add a new column with the new collation, keep it in sync with a trigger, backfill
//! in batches, build its indexes concurrently, then switch (what `haste migrate dev` writes).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `collation-change-reindex`.
pub struct CollationChangeReindex;

impl Rule for CollationChangeReindex {
    fn id(&self) -> &'static str {
        "collation-change-reindex"
    }

    fn summary(&self) -> &'static str {
        "column collation change that builds the column's indexes again"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let NodeEnum::AlterTableStmt(alter) = node else { return };
        let Some(relation) = alter.relation.as_ref().filter(|relation| context.is_existing_table(relation))
        else {
            return;
        };
        for command in ast::alter_commands(alter) {
            if command.subtype != AlterTableType::AtAlterColumnType as i32 {
                continue;
            }
            let Some(NodeEnum::ColumnDef(column)) = command.def.as_deref().and_then(|d| d.node.as_ref())
            else {
                continue;
            };
            // A rewriting change (or one from an unknown type) is `column-type-rewrite`'s.
            let Some(old) = context.schema.column_type(relation, &command.name) else { continue };
            if haste_sql::type_change_rewrites(old, &ast::type_text(column.type_name.as_ref())) {
                continue;
            }
            let new = ast::collation(column);
            let old = context.schema.column_collation(relation, &command.name);
            if old == new.as_deref() || !context.schema.is_indexed(relation, &command.name) {
                continue;
            }
            let collation = |collation: Option<&str>| {
                collation
                    .map_or_else(|| "the type's default collation".to_owned(), |c| format!("COLLATE \"{c}\""))
            };
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "changing the collation of {}.{} from {} to {} builds every index on the column again under an ACCESS EXCLUSIVE lock (the table is not rewritten)",
                    ast::relation_text(relation),
                    command.name,
                    collation(old),
                    collation(new.as_deref())
                ),
                "add a new column with the new collation, sync it with a trigger, backfill in batches, build its indexes concurrently, then switch",
            ));
        }
    }
}
