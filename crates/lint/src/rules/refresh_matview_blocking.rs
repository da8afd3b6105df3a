//! `refresh-matview-blocking`: REFRESH MATERIALIZED VIEW without CONCURRENTLY.
//!
//! Detects `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.
//!
//! Lock: ACCESS EXCLUSIVE on the view: every read of it waits for the refresh.
//!
//! Instead: `REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on the view).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `refresh-matview-blocking`.
pub struct RefreshMatviewBlocking;

impl Rule for RefreshMatviewBlocking {
    fn id(&self) -> &'static str {
        "refresh-matview-blocking"
    }

    fn summary(&self) -> &'static str {
        "REFRESH MATERIALIZED VIEW without CONCURRENTLY"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::RefreshMatViewStmt(refresh) = node
            && !refresh.concurrent
            && !refresh.skip_data
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view",
                "use REFRESH MATERIALIZED VIEW CONCURRENTLY",
            ));
        }
    }
}
