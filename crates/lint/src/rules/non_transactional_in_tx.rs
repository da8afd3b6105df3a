//! `non-transactional-in-tx`: a statement PostgreSQL refuses inside a transaction, in a transaction.
//!
//! Detects `CREATE/DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`, `VACUUM` and the other
//! statements PostgreSQL refuses inside a transaction block, where the runner will run them in
//! one: a file forced with `-- haste:transaction on`, or between the file's own `BEGIN` and
//! `COMMIT`. (In a plain file haste runs them outside a transaction by itself.)
//!
//! Risk: the statement fails with SQLSTATE 25001 and the migration with it.
//!
//! Instead: remove the directive, or move the statement out of the `BEGIN ... COMMIT` block.
//!
//! PostgreSQL: all versions.

use haste_sql::StatementKind;
use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `non-transactional-in-tx`.
pub struct NonTransactionalInTx;

impl Rule for NonTransactionalInTx {
    fn id(&self) -> &'static str {
        "non-transactional-in-tx"
    }

    fn summary(&self) -> &'static str {
        "a statement PostgreSQL refuses inside a transaction, in a transaction"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let _ = node;
        if let StatementKind::NoTransaction(construct) = context.statement.kind
            && context.transaction.is_some()
        {
            findings.push(Raw::new(
                context,
                self.id(),
                format!("{construct} cannot run inside a transaction block, and this file runs it in one"),
                "drop `-- haste:transaction on`, or move the statement out of BEGIN ... COMMIT",
            ));
        }
    }
}
