//! `prefer-timestamptz`: timestamp without time zone column.
//!
//! Detects `timestamp` (without time zone) columns. Style group, off by default.
//!
//! Risk: values carry no zone; their meaning changes with the session's `TimeZone`.
//!
//! Instead: `timestamptz`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Group;

/// `prefer-timestamptz`.
pub struct PreferTimestamptz;

impl Rule for PreferTimestamptz {
    fn id(&self) -> &'static str {
        "prefer-timestamptz"
    }

    fn summary(&self) -> &'static str {
        "timestamp without time zone column"
    }

    fn group(&self) -> Group {
        Group::Style
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for column in new_columns(node) {
            if ast::base_type(&ast::type_text(column.type_name.as_ref())) == "timestamp" {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("column {} is timestamp without time zone", column.colname),
                    "use timestamptz",
                ));
            }
        }
    }
}
