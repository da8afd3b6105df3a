//! `json-not-jsonb`: json column instead of jsonb.
//!
//! Detects columns of type `json` (in `CREATE TABLE` and `ADD COLUMN`).
//!
//! Risk: `json` has no equality operator, so `DISTINCT`, `UNION` and `GROUP BY` on it fail, and
//! every read re-parses the text.
//!
//! Instead: `jsonb`.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Severity;

/// `json-not-jsonb`.
pub struct JsonNotJsonb;

impl Rule for JsonNotJsonb {
    fn id(&self) -> &'static str {
        "json-not-jsonb"
    }

    fn summary(&self) -> &'static str {
        "json column instead of jsonb"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warn
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        for column in new_columns(node) {
            if ast::type_text(column.type_name.as_ref()) == "json" {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("column {} is json", column.colname),
                    "use jsonb",
                ));
            }
        }
    }
}
