//! Composite types that change: in place where PostgreSQL can, rebuilt where a table stores
//! values of the type and an attribute changes type, dropped and created otherwise.
//!
//! In place (`ALTER TYPE ... DROP / ALTER / ADD ATTRIBUTE`) when that gives the new attributes
//! in their order (added ones come last) and the type uses no row type of a relation created
//! later: the columns, functions and other types using it stay. Values of a dropped attribute go
//! with it.
//!
//! PostgreSQL refuses `ALTER ATTRIBUTE ... TYPE` while a table column stores the type (its rows
//! would have to be rewritten), so then the type is rebuilt, as a domain is: attributes dropped
//! and added in place first, a type with the new attributes created under a staging name
//! (`<name>_new`), the columns of existing tables converted to it through text (the attributes
//! match by position and name by then, and a value the new attribute type refuses fails the
//! conversion: nothing is lost silently), the old type dropped and the new one renamed, defaults
//! set again. Views reading those columns are recreated around it (`views.rs`). A domain,
//! another composite type or a function using the type, or a check, default, index or policy
//! casting to it, would hold the old type, so such a change is refused, as is a type that must
//! be dropped and created (its attributes reorder) while a table stores it
//! ([`composite_change_refused`]).

use haste_schema::{Attribute, Composite, RowTypeStage, Schema, qualified};
use haste_sql::quote_ident;

use crate::builder::Builder;
use crate::compare::{Comparison, by};
use crate::enums::{column_uses, replace_with_staged, staging_name};
use crate::{Hazard, Lock, Named, SchemaChange, uses};

pub(crate) fn composite_key(composite: &Composite) -> String {
    qualified(&composite.schema, &composite.name)
}

/// The composite types both sides have that differ, as (old, new).
fn changed<'a>(from: &'a Schema, to: &'a Schema) -> Vec<(&'a Composite, &'a Composite)> {
    let old = by(&from.composites, composite_key);
    to.composites
        .iter()
        .filter(|new| !from.composites.contains(new))
        .filter_map(|new| old.get(&composite_key(new)).map(|old| (*old, new)))
        .collect()
}

/// Whether `ALTER TYPE` can turn `old` into `new`: the attributes `old` keeps, then those added,
/// are `new`'s in order, and `new` uses no row type of a relation created later.
fn alterable(to: &Schema, old: &Composite, new: &Composite) -> bool {
    let kept = old.attributes.iter().map(|a| &a.name).filter(|name| has(&new.attributes, name));
    let added = new.attributes.iter().map(|a| &a.name).filter(|name| !has(&old.attributes, name));
    kept.chain(added).eq(new.attributes.iter().map(|a| &a.name))
        && to.row_type_stage(&new.row_types) == RowTypeStage::BeforeTables
}

/// Whether `attributes` has one named `name`.
fn has(attributes: &[Attribute], name: &str) -> bool {
    attributes.iter().any(|a| a.name == name)
}

/// Whether an attribute of `old` that `new` keeps changes type (or collation).
fn retypes(old: &Composite, new: &Composite) -> bool {
    new.attributes
        .iter()
        .any(|attribute| old.attributes.iter().any(|a| a.name == attribute.name && a != attribute))
}

/// The columns of `from`'s tables that store `composite`: typed by it (or an array of it), by a
/// domain over it, or by another composite type holding it; named for people.
fn stored_in(from: &Schema, composite: &Composite) -> Vec<String> {
    let (schema, name) = (composite.schema.as_str(), composite.name.as_str());
    let holders: Vec<(&str, &str)> = std::iter::once((schema, name))
        .chain(
            from.domains
                .iter()
                .filter(|d| column_uses(&d.base_type, schema, name).is_some())
                .map(|d| (d.schema.as_str(), d.name.as_str())),
        )
        .chain(
            from.composites
                .iter()
                .filter(|c| c.attributes.iter().any(|a| column_uses(&a.data_type, schema, name).is_some()))
                .map(|c| (c.schema.as_str(), c.name.as_str())),
        )
        .collect();
    from.tables
        .iter()
        .flat_map(|table| table.columns.iter().map(move |column| (table, column)))
        .filter(|(_, column)| holders.iter().any(|(s, n)| column_uses(&column.data_type, s, n).is_some()))
        .map(|(table, column)| format!("column {}.{}.{}", table.schema, table.name, column.name))
        .collect()
}

/// The composite types a plan rebuilds (old, new): altered in place but for an attribute that
/// changes type while a table column stores the type, or changed otherwise than by added
/// attributes while a view names it ([`held_by_views`]).
fn rebuilt_pairs<'a>(from: &'a Schema, to: &'a Schema) -> Vec<(&'a Composite, &'a Composite)> {
    changed(from, to)
        .into_iter()
        .filter(|(old, new)| {
            (alterable(to, old, new) && retypes(old, new) && !stored_in(from, old).is_empty())
                || held_by_views(from, to, old, new)
        })
        .collect()
}

/// Whether a view names `composite` (a view whose definition the grammar cannot read counts).
fn named_by_view(from: &Schema, composite: &Composite) -> bool {
    from.views.iter().any(|view| {
        haste_sql::type_names(&view.definition).is_none_or(|types| types.contains(composite.name.as_str()))
    })
}

/// Whether `old`, which no table stores, must be rebuilt rather than changed in place or dropped
/// because a view names it: PostgreSQL refuses to retype or drop an attribute a view's rule
/// reads, or to drop the type under it, and the plan drops views only after types change.
/// Rebuilt (a staging type, the old one dropped once the views are, the staging one renamed),
/// the type's views are recreated around it. Added attributes alone stay in place.
fn held_by_views(from: &Schema, to: &Schema, old: &Composite, new: &Composite) -> bool {
    let reshaped = retypes(old, new)
        || old.attributes.iter().any(|a| !has(&new.attributes, &a.name))
        || !alterable(to, old, new);
    reshaped
        && to.row_type_stage(&new.row_types) == RowTypeStage::BeforeTables
        && stored_in(from, old).is_empty()
        && named_by_view(from, old)
}

/// The composite types a plan rebuilds (qualified), for the views, privileges and owners that go
/// with them.
pub(crate) fn rebuilt(from: &Schema, to: &Schema) -> Vec<String> {
    rebuilt_pairs(from, to).into_iter().map(|(_, new)| composite_key(new)).collect()
}

/// What stops a composite type from changing, for the first such type: one that must be dropped
/// and created while a table stores it, or one rebuilt (an attribute retyped while a table
/// stores it, or reshaped while a view names it) that other declarations use, stored through
/// them, or that kept expressions cast to; `None` when every change can be planned.
pub(crate) fn composite_change_refused(from: &Schema, to: &Schema) -> Option<String> {
    changed(from, to).into_iter().find_map(|(old, new)| {
        let stored = stored_in(from, old);
        let name = format!("{}.{}", old.schema, old.name);
        if stored.is_empty() {
            // Rebuilt under its views, it is dropped: what else declares or casts to it would
            // hold it (2BP01).
            if !held_by_views(from, to, old, new) {
                return None;
            }
            let users = users_of(from, to, old);
            return (!users.is_empty()).then(|| {
                format!(
                    "type {name} loses, reorders or retypes attributes while a view names it, so it is rebuilt (the views created again around it), and {} use{} it (change them in separate migrations, or write this migration by hand: haste migrate new)",
                    uses::listed(&users),
                    if users.len() == 1 { "s" } else { "" },
                )
            });
        }
        if !alterable(to, old, new) {
            return Some(format!(
                "the attributes of type {name} change order, so it would be dropped and created, and {} store{} it (change its attributes in place, adding new ones last, or write this migration by hand: haste migrate new)",
                uses::listed(&stored),
                if stored.len() == 1 { "s" } else { "" },
            ));
        }
        if !retypes(old, new) {
            return None;
        }
        let users = users_of(from, to, old);
        (!users.is_empty()).then(|| {
            format!(
                "an attribute of type {name} changes type, so it is rebuilt (a table stores it), and {} use{} it (rebuild {} too, or change them in separate migrations)",
                uses::listed(&users),
                if users.len() == 1 { "s" } else { "" },
                if users.len() == 1 { "it" } else { "them" },
            )
        })
    })
}

/// What holds `composite` where it is dropped to be rebuilt: other declarations (domains,
/// composite types, functions) and the expressions of existing tables casting to it, named for
/// people.
fn users_of(from: &Schema, to: &Schema, composite: &Composite) -> Vec<String> {
    let mut users = uses::declarations_using(from, (&composite.schema, &composite.name));
    users.extend(uses::casts_where_dropped(from, to, (&composite.schema, &composite.name)));
    users
}

/// Changes a composite type in place, as far as it can: returns whether it did (else it is
/// dropped and created). An attribute retyped while a table stores the type, and any change but
/// added attributes while a view names it ([`held_by_views`]), is left to [`rebuild`], whose
/// staging type is created here.
pub(crate) fn alter(plan: &mut Builder, comparison: &Comparison, old: &Composite, new: &Composite) -> bool {
    let (from, to) = (comparison.from, comparison.to);
    let by_views = held_by_views(from, to, old, new);
    if !by_views && !alterable(to, old, new) {
        return false;
    }
    let rebuilt = by_views || (retypes(old, new) && !stored_in(from, old).is_empty());
    let name = composite_key(new);
    let source = SchemaChange::AlterComposite(Named::new(&new.schema, &new.name));
    for attribute in old.attributes.iter().filter(|a| !by_views && !has(&new.attributes, &a.name)) {
        plan.push(
            &source,
            format!("ALTER TYPE {name} DROP ATTRIBUTE {}", quote_ident(&attribute.name)),
            Lock::AccessExclusive,
            &[Hazard::DataLoss],
        );
    }
    for attribute in new.attributes.iter().filter(|_| !rebuilt) {
        if old.attributes.iter().any(|a| a.name == attribute.name && a != attribute) {
            plan.push(
                &source,
                format!(
                    "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}",
                    quote_ident(&attribute.name),
                    attribute.type_clause()
                ),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    for attribute in new.attributes.iter().filter(|a| !by_views && !has(&old.attributes, &a.name)) {
        plan.push(
            &source,
            format!("ALTER TYPE {name} ADD ATTRIBUTE {}", attribute.definition()),
            Lock::AccessExclusive,
            &[],
        );
    }
    if rebuilt {
        let staged = Composite { name: staging_name(comparison, &new.schema, &new.name), ..new.clone() };
        let source = SchemaChange::RebuildComposite(Named::new(&new.schema, &new.name));
        plan.push(&source, staged.create_statement(), Lock::None, &[]);
    }
    true
}

/// Converts the columns of existing tables typed by each rebuilt composite type to its staging
/// type (through text: by now the attributes differ only in type), then drops the old type and
/// gives the new one its name (new tables are created afterwards, with the name).
pub(crate) fn rebuild(plan: &mut Builder, comparison: &Comparison) {
    for (old, new) in rebuilt_pairs(comparison.from, comparison.to) {
        let source = SchemaChange::RebuildComposite(Named::new(&new.schema, &new.name));
        let staged = qualified(&new.schema, &staging_name(comparison, &new.schema, &new.name));
        replace_with_staged(plan, comparison, &source, "TYPE", (&old.schema, &old.name), &staged, "text");
    }
}
