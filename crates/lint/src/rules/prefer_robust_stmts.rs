//! `prefer-robust-stmts`: non-idempotent DDL outside a transaction.
//!
//! Detects `CREATE INDEX CONCURRENTLY` and `CREATE TABLE`/`ADD COLUMN` without `IF NOT EXISTS`,
//! and `DROP ...` without `IF EXISTS`, where the runner runs the statement outside a transaction
//! (so a failure part-way leaves it done and a retry fails on it).
//!
//! Risk: a re-run after a partial failure stops at the statement that already happened.
//!
//! Instead: `IF NOT EXISTS` / `IF EXISTS`. (haste's `resolve --resume` also checks concurrent
//! index builds itself.)
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};
use crate::Severity;

/// `prefer-robust-stmts`.
pub struct PreferRobustStmts;

impl Rule for PreferRobustStmts {
    fn id(&self) -> &'static str {
        "prefer-robust-stmts"
    }

    fn summary(&self) -> &'static str {
        "non-idempotent DDL outside a transaction"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if context.transaction.is_some() {
            return;
        }
        let fragile = match node {
            NodeEnum::IndexStmt(index) => !index.if_not_exists,
            NodeEnum::CreateStmt(create) => !create.if_not_exists,
            NodeEnum::DropStmt(drop) => !drop.missing_ok,
            _ => false,
        };
        if fragile {
            findings.push(Raw::new(
                context,
                self.id(),
                "this runs outside a transaction: if the migration fails after it, a retry fails here",
                "add IF NOT EXISTS / IF EXISTS",
            ));
        }
    }
}
