//! `truncate-table`: existing table emptied.
//!
//! Detects `TRUNCATE` of a table not created in the same file (with or without `CASCADE`, which
//! `truncate-cascade` reports as well).
//!
//! Risk: the rows are gone (no `WHERE`, no undo once committed), as with `drop-table`; an ACCESS
//! EXCLUSIVE lock on the table, and on the tables named with it, that stops even readers.
//!
//! Instead: empty it in a release after the one that stopped using its rows, or delete the rows
//! meant in batches (a `data.sql` step); allow with a reason.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule, ast};

/// `truncate-table`.
pub struct TruncateTable;

impl Rule for TruncateTable {
    fn id(&self) -> &'static str {
        "truncate-table"
    }

    fn summary(&self) -> &'static str {
        "existing table emptied with TRUNCATE"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let NodeEnum::TruncateStmt(truncate) = node else { return };
        for relation in truncate.relations.iter().filter_map(|node| match &node.node {
            Some(NodeEnum::RangeVar(relation)) => Some(relation),
            _ => None,
        }) {
            if context.is_existing_table(relation) {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "TRUNCATE {} loses every row and locks the table ACCESS EXCLUSIVE, even against readers",
                        ast::relation_text(relation)
                    ),
                    "empty it in a release after the one that stopped using its rows, or delete the rows meant in batches (data.sql); allow with a reason",
                ));
            }
        }
    }
}
