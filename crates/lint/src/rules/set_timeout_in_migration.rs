//! `set-timeout-in-migration`: `SET lock_timeout` or `statement_timeout` inside a migration.
//!
//! Detects `SET`, `SET LOCAL`, `SET SESSION` and `RESET` of `lock_timeout` or
//! `statement_timeout`, calls of `set_config('lock_timeout' | 'statement_timeout', ...)`, and
//! the same in bodies of code (`DO`, functions) or through `UPDATE pg_settings`.
//!
//! Risk: the runner sets both on its session for each attempt of each statement, from its lock
//! budget (a short `lock_timeout` per attempt, retried up to a deadline), `haste.toml`, the flags
//! and the file's directives. A value the file sets overrides that budget from there on: a long
//! or disabled `lock_timeout` lets a statement queue behind a long transaction while every
//! query on its table queues behind it, and a short one makes retries fail where the budget
//! would have waited; the migration runs otherwise than `haste migrate plan` said.
//!
//! Instead: say it with a directive in the file's header, which the runner applies to each
//! attempt and reports: `-- haste:lock-timeout 500ms`, `-- haste:statement-timeout 30min`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};
use crate::Severity;

/// `set-timeout-in-migration`.
pub struct SetTimeoutInMigration;

/// The settings the runner's lock budget owns, with the directive that sets each.
const BUDGET_SETTINGS: &[(&str, &str)] =
    &[("lock_timeout", "-- haste:lock-timeout"), ("statement_timeout", "-- haste:statement-timeout")];

impl Rule for SetTimeoutInMigration {
    fn id(&self) -> &'static str {
        "set-timeout-in-migration"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn summary(&self) -> &'static str {
        "SET lock_timeout or statement_timeout inside a migration, overriding haste's lock budget"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let mut set = Vec::new();
        if let NodeEnum::VariableSetStmt(variable) = node {
            set.push(variable.name.to_ascii_lowercase());
        }
        for (node, _, _, _) in node.nodes() {
            if let pg_query::NodeRef::FuncCall(call) = node
                && call.funcname.last().is_some_and(|name| {
                    matches!(&name.node, Some(NodeEnum::String(name)) if name.sval.eq_ignore_ascii_case("set_config"))
                })
                && let Some(NodeEnum::AConst(constant)) = call.args.first().and_then(|arg| arg.node.as_ref())
                && let Some(pg_query::protobuf::a_const::Val::Sval(name)) = &constant.val
            {
                set.push(name.sval.to_ascii_lowercase());
            }
        }
        let out_of_sight = changed_out_of_sight(node, &context.statement.text);
        for (setting, directive) in BUDGET_SETTINGS {
            if set.iter().any(|name| name == setting) || out_of_sight.contains(setting) {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!(
                        "{setting} set inside the migration overrides haste's lock budget (the {setting} of each attempt, its retries and deadline)"
                    ),
                    format!("remove it and write `{directive} <duration>` in the file's header"),
                ));
            }
        }
    }
}

/// The budget's settings that `node` (written as `text`) changes where the parser does not
/// look: in a body of code (`DO`, a function: `PERFORM set_config(...)`, `EXECUTE 'SET ...'`,
/// PL/pgSQL's own `SET`, a function's `SET` clause) or through `UPDATE pg_settings`. A body is
/// text to the parser: one that names a setting beside a way of changing it is taken to.
fn changed_out_of_sight(node: &NodeEnum, text: &str) -> Vec<&'static str> {
    let code = match node {
        NodeEnum::DoStmt(_) | NodeEnum::CreateFunctionStmt(_) => true,
        NodeEnum::UpdateStmt(update) => update
            .relation
            .as_ref()
            .is_some_and(|relation| relation.relname.eq_ignore_ascii_case("pg_settings")),
        _ => false,
    };
    if !code {
        return Vec::new();
    }
    let text = text.to_ascii_lowercase();
    if !["set_config", "pg_settings", "set ", "reset ", "set\n"].iter().any(|change| text.contains(change)) {
        return Vec::new();
    }
    BUDGET_SETTINGS.iter().map(|(setting, _)| *setting).filter(|setting| text.contains(setting)).collect()
}
