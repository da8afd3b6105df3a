//! `validate-in-same-tx`: VALIDATE CONSTRAINT in the transaction that added it NOT VALID.
//!
//! Detects `VALIDATE CONSTRAINT` of a constraint added `NOT VALID` in the same transaction.
//!
//! Lock: the `ADD` took ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE), held until commit, so the
//! validation scan runs under it and `NOT VALID` gained nothing.
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
        if let (NodeEnum::AlterTableStmt(alter), Some(transaction)) = (node, context.transaction) {
            for command in ast::alter_commands(alter) {
                if command.subtype == AlterTableType::AtValidateConstraint as i32
                    && context.schema.added_not_valid_in(transaction, &command.name)
                {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!("{} is validated in the transaction that added it NOT VALID: the scan runs under the ADD's lock", command.name),
                        "validate it in a later migration",
                    ));
                }
            }
        }
    }
}
