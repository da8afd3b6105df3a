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
        if context.config.runner_lock_timeout || context.sets_setting("lock_timeout", "haste:lock-timeout") {
            return;
        }
        if let Some(relation) = context.strongly_locked_table(node)
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
