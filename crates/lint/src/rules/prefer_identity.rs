//! `prefer-identity`: serial column instead of an identity column.
//!
//! Detects `serial`-family columns. Style group, off by default.
//!
//! Risk: the sequence is a separate object with its own permissions and ownership quirks.
//!
//! Instead: `GENERATED ALWAYS AS IDENTITY`.
//!
//! PostgreSQL: 10 and later.

use pg_query::NodeEnum;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Group;

/// `prefer-identity`.
pub struct PreferIdentity;

impl Rule for PreferIdentity {
    fn id(&self) -> &'static str {
        "prefer-identity"
    }

    fn summary(&self) -> &'static str {
        "serial column instead of an identity column"
    }

    fn group(&self) -> Group {
        Group::Style
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for column in new_columns(node) {
            if matches!(
                ast::type_text(column.type_name.as_ref()).as_str(),
                "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
            ) {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("column {} is serial", column.colname),
                    "use GENERATED ALWAYS AS IDENTITY",
                ));
            }
        }
    }
}
