//! `reindex-not-concurrent`: REINDEX without CONCURRENTLY.
//!
//! Detects `REINDEX` without `CONCURRENTLY`.
//!
//! Lock: SHARE on the table and ACCESS EXCLUSIVE on the index: writes block, and reads that
//! would use the index block too.
//!
//! Instead: `REINDEX ... CONCURRENTLY`.
//!
//! PostgreSQL: 12 and later (before 12 there is no concurrent form).

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `reindex-not-concurrent`.
pub struct ReindexNotConcurrent;

impl Rule for ReindexNotConcurrent {
    fn id(&self) -> &'static str {
        "reindex-not-concurrent"
    }

    fn summary(&self) -> &'static str {
        "REINDEX without CONCURRENTLY"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::ReindexStmt(reindex) = node
            && context.config.pg_version >= 12
            && !reindex
                .params
                .iter()
                .any(|p| matches!(&p.node, Some(NodeEnum::DefElem(d)) if d.defname == "concurrently"))
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "REINDEX without CONCURRENTLY blocks writes and reads that use the index",
                "use REINDEX ... CONCURRENTLY",
            ));
        }
    }
}
