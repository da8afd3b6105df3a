//! `require-statement-timeout`: strong locks taken with no statement_timeout.
//!
//! Detects the first statement of a file that takes a strong lock on an existing table when no
//! `statement_timeout` applies: the runner is configured without one (haste's default) and the
//! file sets none (`SET statement_timeout` or `-- haste:statement-timeout`). The runner then
//! leaves the session's own setting (a role's or database's `statement_timeout`), which the
//! linter, reading files only, cannot see: the message says so.
//!
//! Risk: a statement that runs far longer than expected (a scan or rewrite of a table larger
//! than planned) holds its lock until it ends, and every query on the table waits.
//!
//! Instead: `[defaults] statement_timeout` in haste.toml, or `-- haste:statement-timeout 5min`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};
use crate::Severity;

/// `require-statement-timeout`.
pub struct RequireStatementTimeout;

impl Rule for RequireStatementTimeout {
    fn id(&self) -> &'static str {
        "require-statement-timeout"
    }

    fn summary(&self) -> &'static str {
        "strong locks taken with no statement_timeout"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if context.config.runner_statement_timeout
            || context.sets_setting("statement_timeout", "haste:statement-timeout")
        {
            return;
        }
        let locks_existing = |node: &NodeEnum| {
            context.strongly_locked_table(node).is_some_and(|t| context.is_existing_table(t))
        };
        // Once per file: the first such statement stands for the rest.
        let first =
            !context.trees[..context.index].iter().any(|tree| tree.as_ref().is_ok_and(locks_existing));
        if first && locks_existing(node) {
            findings.push(Raw::new(
                context,
                self.id(),
                "no statement_timeout from haste or this file (only the role's or database's own, if it has one): \
                 if this runs longer than planned, its lock blocks the table until it ends",
                "set [defaults] statement_timeout in haste.toml, or -- haste:statement-timeout 5min",
            ));
        }
    }
}
