//! `drop-table`: table dropped.
//!
//! Detects `DROP TABLE` of a table not created in the same file. In a `down.sql`, a table its
//! migration created is dropped to undo it, and is not reported.
//!
//! Risk: the data is gone; an ACCESS EXCLUSIVE lock, also on tables whose foreign keys point to it.
//!
//! Instead: drop it in a release after the one that stopped using it; allow with a reason.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{Context, Raw, Rule, ast};

/// `drop-table`.
pub struct DropTable;

impl Rule for DropTable {
    fn id(&self) -> &'static str {
        "drop-table"
    }

    fn any_database(&self) -> bool {
        true
    }

    fn summary(&self) -> &'static str {
        "table dropped"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::DropStmt(drop) = node
            && drop.remove_type == ObjectType::ObjectTable as i32
        {
            for name in ast::dropped_names(drop) {
                let mut relation = pg_query::protobuf::RangeVar::default();
                match name.split_once('.') {
                    Some((schema, table)) => {
                        (relation.schemaname, relation.relname) = (schema.to_owned(), table.to_owned())
                    }
                    None => relation.relname = name.clone(),
                }
                // A down.sql dropping the table its migration created undoes that migration.
                if context.is_existing_table(&relation) && !context.schema.reverts_creation(&relation, None) {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!("dropping {name} loses its data and breaks the release still using it"),
                        "drop it in a release after the one that stopped using it; allow with a reason",
                    ));
                }
            }
        }
    }
}
