//! `domain-add-constraint`: constraint added to a domain without NOT VALID.
//!
//! Detects `ALTER DOMAIN ... ADD CONSTRAINT` without `NOT VALID`.
//!
//! Lock: every column of every table that uses the domain is checked, under locks on those tables.
//!
//! Instead: `ADD CONSTRAINT ... NOT VALID`, then `VALIDATE CONSTRAINT` in a later transaction.
//!
//! PostgreSQL: all versions.

use pg_query::NodeEnum;

use super::{Context, Raw, Rule};

/// `domain-add-constraint`.
pub struct DomainAddConstraint;

impl Rule for DomainAddConstraint {
    fn id(&self) -> &'static str {
        "domain-add-constraint"
    }

    fn summary(&self) -> &'static str {
        "constraint added to a domain without NOT VALID"
    }

    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>) {
        if let NodeEnum::AlterDomainStmt(alter) = node
            && alter.subtype == "C"
            && !matches!(alter.def.as_deref().and_then(|d| d.node.as_ref()), Some(NodeEnum::Constraint(c)) if c.skip_validation)
        {
            findings.push(Raw::new(
                context,
                self.id(),
                "adding a constraint to a domain checks every column that uses it",
                "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
            ));
        }
    }
}
