//! Collations (`CREATE COLLATION`). PostgreSQL alters none of a collation's options: one that
//! changes is dropped and created again, before anything that may use it is created, which it
//! refuses (2BP01) while a column, domain, composite attribute or range type uses the old one;
//! such a plan is refused before it runs ([`change_refused`]).

use haste_schema::{Collation, Schema, qualified};

use crate::builder::Builder;
use crate::{Hazard, Lock, Named, SchemaChange};

fn key(collation: &Collation) -> String {
    qualified(&collation.schema, &collation.name)
}

/// New collations, and changed ones dropped and created again.
pub(crate) fn create(plan: &mut Builder, from: &Schema, to: &Schema) {
    for new in to.collations.iter().filter(|c| !from.collations.contains(c)) {
        if let Some(old) = from.collations.iter().find(|old| key(old) == key(new)) {
            let source = SchemaChange::DropCollation(Named::new(&old.schema, &old.name));
            plan.push(&source, old.drop_statement(), Lock::None, &[]);
        }
        let source = SchemaChange::CreateCollation(Named::new(&new.schema, &new.name));
        plan.push(&source, new.create_statement(), Lock::None, &[]);
    }
}

/// Collations nothing declares any more, once what used them is gone.
pub(crate) fn drop_unused(plan: &mut Builder, from: &Schema, to: &Schema) {
    for old in from.collations.iter().filter(|old| !to.collations.iter().any(|new| key(new) == key(old))) {
        let source = SchemaChange::DropCollation(Named::new(&old.schema, &old.name));
        plan.push(&source, old.drop_statement(), Lock::None, &[Hazard::DataLoss]);
    }
}

/// What stops a changed collation from being dropped and created again: the columns, domains,
/// composite attributes and range types of `from` that use it, named, for the first such
/// collation; `None` when every one can be.
pub(crate) fn change_refused(from: &Schema, to: &Schema) -> Option<String> {
    let changed = to
        .collations
        .iter()
        .filter_map(|new| from.collations.iter().find(|old| key(old) == key(new) && *old != new));
    changed.into_iter().find_map(|old| {
        let uses = |collation: &Option<String>| collation.as_deref().is_some_and(|c| old.is_named_by(c));
        let users: Vec<String> = from
            .tables
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| uses(&c.collation))
                    .map(move |c| format!("column {}.{}.{}", t.schema, t.name, c.name))
            })
            .chain(from.domains.iter().filter(|d| uses(&d.collation)).map(|d| format!("domain {}.{}", d.schema, d.name)))
            .chain(from.composites.iter().flat_map(|t| {
                t.attributes
                    .iter()
                    .filter(|a| uses(&a.collation))
                    .map(move |a| format!("attribute {} of type {}.{}", a.name, t.schema, t.name))
            }))
            .chain(from.ranges.iter().filter(|r| uses(&r.collation)).map(|r| format!("range type {}.{}", r.schema, r.name)))
            .collect();
        (!users.is_empty()).then(|| {
            format!(
                "collation {}.{} changes, and PostgreSQL cannot alter a collation in place, nor drop it while {} use{} it (create the new one under another name and move {} to it, or write this migration by hand: haste migrate new)",
                old.schema,
                old.name,
                users.join(", "),
                if users.len() == 1 { "s" } else { "" },
                if users.len() == 1 { "it" } else { "them" },
            )
        })
    })
}
