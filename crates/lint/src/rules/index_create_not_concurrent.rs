//! `index-create-not-concurrent`: CREATE INDEX on an existing table without CONCURRENTLY.
//!
//! Detects `CREATE INDEX` without `CONCURRENTLY` on a table that existed before this file
//! (not created in it, nor in an earlier unreleased migration). On a partitioned table,
//! `CREATE INDEX ... ON ONLY parent` is fine: it only writes the catalog (the index stays
//! invalid until each partition's index is attached); without `ONLY` it builds every
//! partition's index under the lock, and is detected.
//!
//! Lock: SHARE on the table (on a partitioned table, on every partition) for the whole build:
//! every INSERT, UPDATE and DELETE waits.
//!
//! Instead: `CREATE INDEX CONCURRENTLY` (haste runs it outside a transaction by itself). A
//! partitioned table has no concurrent form (PostgreSQL refuses it): `CREATE INDEX ... ON ONLY
//! parent`, `CREATE INDEX CONCURRENTLY` on each partition, then `ALTER INDEX ... ATTACH
//! PARTITION` of each, the form `migrate dev` writes.
//!
//! PostgreSQL: all versions (partitioned indexes from 11).

use pg_query::NodeEnum;

use super::{Context, Raw, Rule, ast};

/// `index-create-not-concurrent`.
pub struct IndexCreateNotConcurrent;

impl Rule for IndexCreateNotConcurrent {
    fn id(&self) -> &'static str {
        "index-create-not-concurrent"
    }

    fn summary(&self) -> &'static str {
        "CREATE INDEX on an existing table without CONCURRENTLY (on a partitioned one, without ONLY)"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let NodeEnum::IndexStmt(index) = node else { return };
        let Some(relation) = &index.relation else { return };
        if index.concurrent || !context.is_existing_table(relation) {
            return;
        }
        let table = ast::relation_text(relation);
        if !context.schema.is_partitioned(relation) {
            findings.push(Raw::new(
                context,
                self.id(),
                format!("building an index on {table} without CONCURRENTLY blocks writes to it for the whole build"),
                "use CREATE INDEX CONCURRENTLY; haste runs it outside a transaction by itself",
            ));
        } else if relation.inh {
            let partitions = context.schema.partitions_of(relation);
            let each = if partitions.is_empty() {
                "each partition".to_owned()
            } else {
                format!("each partition ({})", partitions.join(", "))
            };
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "building an index on partitioned table {table} without ONLY builds every partition's index, \
                     blocking writes to all of them for the whole build"
                ),
                format!(
                    "PostgreSQL builds no partitioned index concurrently: CREATE INDEX ... ON ONLY {table}, \
                     CREATE INDEX CONCURRENTLY on {each}, then ALTER INDEX ... ATTACH PARTITION each of those"
                ),
            ));
        }
    }
}
