//! `prefer-bigint-over-int`: int or serial primary key.
//!
//! Detects primary key columns of type `int`/`integer`/`serial` (4 bytes). Style group, off by
//! default.
//!
//! Risk: 2^31 rows (or sequence values) later, inserts fail, and widening the column rewrites
//! the table and every referencing one.
//!
//! Instead: `bigint` (`bigserial`, or `bigint GENERATED ... AS IDENTITY`).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::ConstrType;

use super::ast::new_columns;
use super::{Context, Raw, Rule, ast};
use crate::Group;

/// `prefer-bigint-over-int`.
pub struct PreferBigintOverInt;

impl Rule for PreferBigintOverInt {
    fn id(&self) -> &'static str {
        "prefer-bigint-over-int"
    }

    fn summary(&self) -> &'static str {
        "int or serial primary key"
    }

    fn group(&self) -> Group {
        Group::Style
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::CreateStmt(create) = node {
            let table_keys: Vec<String> = ast::constraints(&create.table_elts)
                .filter(|c| c.contype == ConstrType::ConstrPrimary as i32)
                .flat_map(|c| ast::strings(&c.keys).into_iter().map(str::to_owned))
                .collect();
            for column in new_columns(node) {
                let primary = table_keys.contains(&column.colname)
                    || ast::constraints(&column.constraints)
                        .any(|c| c.contype == ConstrType::ConstrPrimary as i32);
                let kind = ast::type_text(column.type_name.as_ref());
                if primary && matches!(kind.as_str(), "int4" | "serial" | "int2" | "smallserial") {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!("primary key {} is {kind}: it overflows at 2^31", column.colname),
                        "use bigint",
                    ));
                }
            }
        }
    }
}
