//! `index-create-not-concurrent`: CREATE INDEX on an existing table without CONCURRENTLY.
//!
//! Detects `CREATE INDEX` without `CONCURRENTLY` on a table that existed before this file
//! (not created in it, nor in an earlier unreleased migration).
//!
//! Lock: SHARE on the table for the whole build: every INSERT, UPDATE and DELETE waits.
//!
//! Instead: `CREATE INDEX CONCURRENTLY` (haste runs it outside a transaction by itself).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule, ast};

/// `index-create-not-concurrent`.
pub struct IndexCreateNotConcurrent;

impl Rule for IndexCreateNotConcurrent {
    fn id(&self) -> &'static str {
        "index-create-not-concurrent"
    }

    fn summary(&self) -> &'static str {
        "CREATE INDEX on an existing table without CONCURRENTLY"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::IndexStmt(index) = node
            && !index.concurrent
            && let Some(relation) = &index.relation
            && context.is_existing_table(relation)
        {
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "building an index on {} without CONCURRENTLY blocks writes to it for the whole build",
                    ast::relation_text(relation)
                ),
                "use CREATE INDEX CONCURRENTLY; haste runs it outside a transaction by itself",
            ));
        }
    }
}
