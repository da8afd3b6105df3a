//! `require-lock-timeout`: lock-taking statement with no lock_timeout.
//!
//! Detects a statement that takes a strong lock on an existing table when no `lock_timeout`
//! applies: the runner is configured without one (`lock_timeout = "0"`) and the file sets none
//! (`SET lock_timeout` or `-- haste:lock-timeout`).
//!
//! Risk: a statement waiting for its lock blocks every later query on the table, however short
//! the statement itself is.
//!
//! Instead: keep the runner's default lock timeout (2 s, with retries), or set one.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule, ast};

/// `require-lock-timeout`.
pub struct RequireLockTimeout;

impl Rule for RequireLockTimeout {
    fn id(&self) -> &'static str {
        "require-lock-timeout"
    }

    fn summary(&self) -> &'static str {
        "lock-taking statement with no lock_timeout"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if context.config.runner_lock_timeout || sets_lock_timeout(context) {
            return;
        }
        let relation = match node {
            NodeEnum::AlterTableStmt(alter) => alter.relation.as_ref(),
            NodeEnum::IndexStmt(index) if !index.concurrent => index.relation.as_ref(),
            _ => None,
        };
        if let Some(relation) = relation
            && context.is_existing_table(relation)
        {
            findings.push(Raw::new(
                context,
                self.id(),
                format!(
                    "no lock_timeout: while this waits for its lock on {}, every other query on it waits too",
                    ast::relation_text(relation)
                ),
                "keep the runner's lock_timeout, or add -- haste:lock-timeout 2s",
            ));
        }
    }
}

/// Whether the file sets `lock_timeout` itself before this statement.
fn sets_lock_timeout(context: &Context<'_>) -> bool {
    context.statements[..context.index].iter().any(|s| s.text.to_ascii_lowercase().contains("lock_timeout"))
        || context
            .statements
            .first()
            .is_some_and(|s| s.text[..s.start - s.offset].contains("haste:lock-timeout"))
}
