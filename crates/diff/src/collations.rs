//! Collations (`CREATE COLLATION`). PostgreSQL alters none of a collation's options: one that
//! changes is dropped and created again, before anything that may use it is created, which it
//! refuses (2BP01) while a column, domain, composite attribute or range type uses the old one;
//! such a plan is refused before it runs ([`change_refused`]).

use haste_schema::{Collation, Schema, TableKind, qualified};

use crate::builder::Builder;
use crate::{Hazard, Lock, Named, SchemaChange};

/// Whether an expression or definition as PostgreSQL prints it says `COLLATE` `collation`
/// (schema-qualified, or bare where the search path finds it).
fn names_collation(text: &str, collation: &Collation) -> bool {
    text.match_indices("COLLATE ").any(|(at, word)| {
        let name: String = text[at + word.len()..]
            .chars()
            .scan(false, |quoted, c| {
                if c == '"' {
                    *quoted = !*quoted;
                }
                (*quoted || !(c.is_whitespace() || matches!(c, ')' | ',' | ';'))).then_some(c)
            })
            .collect();
        match haste_sql::name_parts(&name).as_slice() {
            [bare] => *bare == collation.name,
            [schema, bare] => *schema == collation.schema && *bare == collation.name,
            _ => false,
        }
    })
}

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
/// composite attributes, range types, and the defaults, generated columns, constraints, indexes
/// and views whose text says `COLLATE` it, of `from`, named, for the first such collation;
/// `None` when every one can be.
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
            .chain(from.tables.iter().flat_map(|t| {
                let expressions = t.columns.iter().flat_map(|c| {
                    [("default of column", &c.default), ("generation of column", &c.generated)]
                        .into_iter()
                        .filter(|(_, text)| text.as_deref().is_some_and(|text| names_collation(text, old)))
                        .map(move |(what, _)| format!("{what} {}.{}.{}", t.schema, t.name, c.name))
                });
                let constraints = t
                    .constraints
                    .iter()
                    .filter(|c| names_collation(&c.definition, old))
                    .map(move |c| format!("constraint {} of {}.{}", c.name, t.schema, t.name));
                let key = match &t.kind {
                    TableKind::Partitioned { key } if names_collation(key, old) => {
                        Some(format!("partition key of {}.{}", t.schema, t.name))
                    }
                    _ => None,
                };
                expressions.chain(constraints).chain(key).collect::<Vec<_>>()
            }))
            .chain(from.indexes.iter().filter(|i| names_collation(&i.definition, old)).map(|i| format!("index {}.{}", i.schema, i.name)))
            .chain(from.views.iter().filter(|v| names_collation(&v.definition, old)).map(|v| format!("view {}.{}", v.schema, v.name)))
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
