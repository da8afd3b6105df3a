//! `ban-char-field`: char(n) column.
//!
//! Detects `char(n)` (`bpchar`) columns. Style group, off by default.
//!
//! Risk: values are blank-padded, comparisons and lengths surprise.
//!
//! Instead: `text` (with a CHECK if the length matters).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Group;

/// `ban-char-field`.
pub struct BanCharField;

impl Rule for BanCharField {
    fn id(&self) -> &'static str {
        "ban-char-field"
    }

    fn summary(&self) -> &'static str {
        "char(n) column"
    }

    fn group(&self) -> Group {
        Group::Style
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for column in new_columns(node) {
            if ast::base_type(&ast::type_text(column.type_name.as_ref())) == "bpchar" {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("column {} is char(n)", column.colname),
                    "use text",
                ));
            }
        }
    }
}
