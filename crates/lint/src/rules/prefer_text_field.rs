//! `prefer-text-field`: varchar(n) column.
//!
//! Detects `varchar(n)` columns. Style group, off by default.
//!
//! Risk: raising the limit later is free, but lowering it rewrites the table; a CHECK on
//! `char_length` can change without a rewrite.
//!
//! Instead: `text` with `CHECK (char_length(c) <= n)`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Group;

/// `prefer-text-field`.
pub struct PreferTextField;

impl Rule for PreferTextField {
    fn id(&self) -> &'static str {
        "prefer-text-field"
    }

    fn summary(&self) -> &'static str {
        "varchar(n) column"
    }

    fn group(&self) -> Group {
        Group::Style
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for column in new_columns(node) {
            if ast::type_text(column.type_name.as_ref()).starts_with("varchar(") {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("column {} is varchar(n)", column.colname),
                    "use text with a CHECK on char_length",
                ));
            }
        }
    }
}
