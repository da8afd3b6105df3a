//! `uncommitted-transaction`: BEGIN without COMMIT.
//!
//! Detects a `BEGIN` with no `COMMIT` or `ROLLBACK` after it in the file.
//!
//! Risk: the runner runs the file as written; its changes would stay uncommitted.
//!
//! Instead: end the transaction, or drop `BEGIN` and let the runner manage the transaction.
//!
//! PostgreSQL: all versions.

use haste_sql::{StatementKind, TransactionControl};
use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `uncommitted-transaction`.
pub struct UncommittedTransaction;

impl Rule for UncommittedTransaction {
    fn id(&self) -> &'static str {
        "uncommitted-transaction"
    }

    fn any_database(&self) -> bool {
        true
    }

    fn summary(&self) -> &'static str {
        "BEGIN without COMMIT"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let _ = node;
        if context.statement.kind == StatementKind::TransactionControl(TransactionControl::Begin)
            && !context.statements[context.index + 1..].iter().any(|s| {
                matches!(
                    s.kind,
                    StatementKind::TransactionControl(
                        TransactionControl::Commit | TransactionControl::Rollback
                    )
                )
            })
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "this transaction is never committed",
                "add COMMIT, or drop BEGIN and let the runner manage the transaction",
            ));
        }
    }
}
