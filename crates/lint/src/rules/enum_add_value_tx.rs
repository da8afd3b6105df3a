//! `enum-add-value-tx`: enum value added inside a transaction, or used in the one that added it.
//!
//! Detects `ALTER TYPE ... ADD VALUE` that runs inside a transaction: before PostgreSQL 12 this
//! fails; from 12 on, using the new value in the same transaction fails with 55P04 ("unsafe use
//! of new value"), which this rule reports where a later statement of the transaction mentions
//! the value.
//!
//! Instead: add the value in its own migration; use it in a later one.
//!
//! PostgreSQL: in a transaction at all only from 12.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `enum-add-value-tx`.
pub struct EnumAddValueTx;

impl Rule for EnumAddValueTx {
    fn id(&self) -> &'static str {
        "enum-add-value-tx"
    }

    fn summary(&self) -> &'static str {
        "enum value added inside a transaction, or used in the one that added it"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let Some(transaction) = context.transaction else { return };
        if let NodeEnum::AlterEnumStmt(alter) = node
            && alter.old_val.is_empty()
            && !alter.new_val.is_empty()
            && context.config.pg_version < 12
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "ALTER TYPE ... ADD VALUE cannot run inside a transaction before PostgreSQL 12",
                "put it in a migration of its own with -- haste:transaction off",
            ));
        }
        for value in context.schema.enum_values_added_in(transaction) {
            let literal = format!("'{}'", value.replace('\'', "''"));
            if !matches!(node, NodeEnum::AlterEnumStmt(_)) && context.statement.text.contains(&literal) {
                findings.push(Raw::new(
                    context,
                    self.id(),
                    format!("the enum value {literal} is used in the transaction that added it: PostgreSQL refuses (55P04)"),
                    "use the new value in a later migration",
                ));
            }
        }
    }
}
