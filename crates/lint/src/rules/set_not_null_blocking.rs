//! `set-not-null-blocking`: SET NOT NULL on an existing column without a validated CHECK.
//!
//! Detects `ALTER COLUMN ... SET NOT NULL` on an existing table, unless a validated
//! `CHECK (column IS NOT NULL)` is known from the history (PostgreSQL 12 and later then skip the scan).
//!
//! Lock: ACCESS EXCLUSIVE while every row is scanned.
//!
//! Instead: `ADD CONSTRAINT c CHECK (column IS NOT NULL) NOT VALID`; `VALIDATE CONSTRAINT c` in a
//! later transaction; then `SET NOT NULL` (instant) and `DROP CONSTRAINT c`.
//!
//! PostgreSQL: the CHECK shortcut needs 12 or later.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `set-not-null-blocking`.
pub struct SetNotNullBlocking;

impl Rule for SetNotNullBlocking {
    fn id(&self) -> &'static str {
        "set-not-null-blocking"
    }

    fn summary(&self) -> &'static str {
        "SET NOT NULL on an existing column without a validated CHECK"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && let Some(relation) = &alter.relation
            && context.is_existing_table(relation)
        {
            for command in ast::alter_commands(alter) {
                let proven = context.config.pg_version >= 12
                    && context.schema.has_validated_not_null_check(relation, &command.name);
                if command.subtype == AlterTableType::AtSetNotNull as i32 && !proven {
                    findings.push(Raw::new(
                        context,
                        self.id(),
                        format!("SET NOT NULL on {}.{} scans every row under an ACCESS EXCLUSIVE lock", ast::relation_text(relation), command.name),
                        "add CHECK (column IS NOT NULL) NOT VALID, validate it in a later migration, then SET NOT NULL",
                    ));
                }
            }
        }
    }
}
