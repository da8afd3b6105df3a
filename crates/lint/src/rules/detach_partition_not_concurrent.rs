//! `detach-partition-not-concurrent`: DETACH PARTITION without CONCURRENTLY.
//!
//! Detects `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY`.
//!
//! Lock: ACCESS EXCLUSIVE on the partitioned table.
//!
//! Instead: `DETACH PARTITION ... CONCURRENTLY` (haste runs it outside a transaction).
//!
//! PostgreSQL: 14 and later.

use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{Context, Raw, Rule, ast};

/// `detach-partition-not-concurrent`.
pub struct DetachPartitionNotConcurrent;

impl Rule for DetachPartitionNotConcurrent {
    fn id(&self) -> &'static str {
        "detach-partition-not-concurrent"
    }

    fn summary(&self) -> &'static str {
        "DETACH PARTITION without CONCURRENTLY"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterTableStmt(alter) = node
            && context.config.pg_version >= 14
        {
            for command in ast::alter_commands(alter) {
                let concurrent = matches!(command.def.as_deref().and_then(|d| d.node.as_ref()), Some(NodeEnum::PartitionCmd(p)) if p.concurrent);
                if command.subtype == AlterTableType::AtDetachPartition as i32 && !concurrent {
                    findings.push(Raw::new(context, self.id(), "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table", "use DETACH PARTITION ... CONCURRENTLY"));
                }
            }
        }
    }
}
