//! `add-column-volatile-default`: column added with a volatile default (or any default before PostgreSQL 11).
//!
//! Detects `ADD COLUMN ... DEFAULT <expr>` on an existing table where the default calls a
//! volatile function (`random()`, `gen_random_uuid()`, `clock_timestamp()`, `nextval()`, ...),
//! or any default before PostgreSQL 11.
//!
//! Lock: ACCESS EXCLUSIVE while the whole table is rewritten.
//!
//! Instead: add the column without a default, `SET DEFAULT` for new rows, backfill in batches.
//!
//! PostgreSQL: constant and stable defaults are free from 11 on.

use pg_query::NodeEnum;

use super::ast::{added_columns, column_default};
use super::{Context, Raw, Rule, ast};

/// `add-column-volatile-default`.
pub struct AddColumnVolatileDefault;

impl Rule for AddColumnVolatileDefault {
    fn id(&self) -> &'static str {
        "add-column-volatile-default"
    }

    fn summary(&self) -> &'static str {
        "column added with a volatile default (or any default before PostgreSQL 11)"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for column in added_columns(alter) {
                let Some(default) = column_default(column) else { continue };
                let volatile: Vec<String> = ast::called_functions(default)
                    .into_iter()
                    .filter(|f| VOLATILE.contains(&f.as_str()))
                    .collect();
                if context.config.pg_version < 11 || !volatile.is_empty() {
                    let why = match volatile.first() {
                        Some(function) => format!("its default calls the volatile {function}()"),
                        None => "before PostgreSQL 11 every default does".to_owned(),
                    };
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!(
                            "adding {}.{} rewrites the whole table under an ACCESS EXCLUSIVE lock: {why}",
                            ast::relation_text(relation),
                            column.colname
                        ),
                        "add the column without a default, SET DEFAULT, then backfill in batches",
                    ));
                }
            }
        }
    }
}

/// Functions whose result changes per row: a default calling one is evaluated for every
/// existing row, which rewrites the table.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "pg_current_xact_id",
    "setseed",
];
