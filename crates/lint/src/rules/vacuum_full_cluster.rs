//! `vacuum-full-cluster`: VACUUM FULL or CLUSTER.
//!
//! Detects `VACUUM FULL` and `CLUSTER`.
//!
//! Lock: ACCESS EXCLUSIVE while the table is rewritten.
//!
//! Instead: pg_repack or pg_squeeze outside migrations.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `vacuum-full-cluster`.
pub struct VacuumFullCluster;

impl Rule for VacuumFullCluster {
    fn id(&self) -> &'static str {
        "vacuum-full-cluster"
    }

    fn summary(&self) -> &'static str {
        "VACUUM FULL or CLUSTER"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        let full = match node {
            NodeEnum::VacuumStmt(vacuum) => {
                vacuum.is_vacuumcmd
                    && vacuum
                        .options
                        .iter()
                        .any(|o| matches!(&o.node, Some(NodeEnum::DefElem(d)) if d.defname == "full"))
            }
            NodeEnum::ClusterStmt(_) => true,
            _ => false,
        };
        if full {
            findings.push(Raw::new(
                context,
                self.id(),
                "VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock",
                "use pg_repack or pg_squeeze outside migrations",
            ));
        }
    }
}
