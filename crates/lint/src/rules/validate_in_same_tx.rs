//! `validate-in-same-tx`: VALIDATE CONSTRAINT in the transaction that added it NOT VALID.
//!
//! Detects `VALIDATE CONSTRAINT` of a constraint added `NOT VALID` in the same transaction, a
//! table's (`ALTER TABLE`) or a domain's (`ALTER DOMAIN`).
//!
//! Lock: the `ADD` took ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE), held until commit, so the
//! validation scan runs under it and `NOT VALID` gained nothing. A domain's `ADD` locks the
//! domain, and the scan of every column using it then runs in the transaction that holds it.
//!
//! Instead: validate in a later migration (or after the runner's transaction commits).
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `validate-in-same-tx`.
pub struct ValidateInSameTx;

impl Rule for ValidateInSameTx {
    fn id(&self) -> &'static str {
        "validate-in-same-tx"
    }

    fn summary(&self) -> &'static str {
        "VALIDATE CONSTRAINT in the transaction that added it NOT VALID"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let Some(transaction) = context.transaction else { return };
        let validated: Vec<&str> = match node {
            NodeEnum::AlterTableStmt(alter) => ast::alter_commands(alter)
                .filter(|command| command.subtype == AlterTableType::AtValidateConstraint as i32)
                .map(|command| command.name.as_str())
                .collect(),
            NodeEnum::AlterDomainStmt(alter) if alter.subtype == "V" => vec![alter.name.as_str()],
            _ => Vec::new(),
        };
        for name in validated.into_iter().filter(|name| context.schema.added_not_valid_in(transaction, name))
        {
            findings.push(Raw::new(
                context,
                self.id(),
                format!("{name} is validated in the transaction that added it NOT VALID: the scan runs under the ADD's lock"),
                "validate it in a later migration",
            ));
        }
    }
}
