//! Indexes as families: an index on a partitioned table with the partitions' indexes attached to
//! it (at any depth), or a lone index. A partition's index cannot be dropped or replaced alone,
//! so a family is the unit that is kept, dropped or created.
//!
//! A family is kept when it is the same on both sides over the tables on both sides: the
//! indexes of a partition created by the plan come with `CREATE TABLE ... PARTITION OF` (named
//! by PostgreSQL, as they were where the desired schema was made), and those of a dropped
//! partition go with it. Anything else that differs (a definition, a name, validity, an
//! attachment) drops the family's root, which takes its members along, and creates it again.
//!
//! A materialized view's indexes are kept with it while the plan keeps the view; a view the plan
//! drops or creates again takes its indexes along, and they are built after the views are
//! created ([`create_on_views`]), concurrently on a view that stays when online.

use std::collections::{BTreeMap, BTreeSet};

use haste_schema::{Index, Schema, Table, TableKind, qualified};

use crate::builder::Builder;
use crate::{Lock, Named, SchemaChange, online};

/// A family's root and its members, each with its depth below the root.
type Family<'a> = (&'a Index, Vec<(usize, &'a Index)>);

/// Each family by its root's qualified name: the root first, then its members, shallower first.
fn families(schema: &Schema) -> BTreeMap<String, Vec<&Index>> {
    let by_name: BTreeMap<(&str, &str), &Index> =
        schema.indexes.iter().map(|index| ((index.schema.as_str(), index.name.as_str()), index)).collect();
    let mut out: BTreeMap<String, Family> = BTreeMap::new();
    for index in &schema.indexes {
        let (mut root, mut depth) = (index, 0);
        // An attachment names an index of the same model; the bound only guards a broken one.
        while let Some(parent) = root
            .attached_to
            .as_ref()
            .and_then(|(schema, name)| by_name.get(&(schema.as_str(), name.as_str())))
            .filter(|_| depth < schema.indexes.len())
        {
            root = parent;
            depth += 1;
        }
        out.entry(root.qualified_name()).or_insert_with(|| (root, Vec::new())).1.push((depth, index));
    }
    out.into_iter()
        .map(|(root_name, (root, mut members))| {
            members.sort_by_key(|(depth, index)| (*depth, index.qualified_name()));
            let members: Vec<&Index> = members.into_iter().map(|(_, index)| index).collect();
            // The root comes first but where attachments loop (a broken model).
            let name = if std::ptr::eq(members[0], root) { root_name } else { members[0].qualified_name() };
            (name, members)
        })
        .collect()
}

/// The tables on both sides, by qualified name.
pub(crate) struct Tables<'a> {
    pub(crate) old: &'a BTreeMap<String, &'a Table>,
    pub(crate) new: &'a BTreeMap<String, &'a Table>,
    /// The (materialized) views both sides hold that the plan does not create again: their
    /// indexes stay unless they change.
    pub(crate) kept_views: &'a BTreeSet<String>,
}

impl Tables<'_> {
    fn on_both_sides(&self, index: &Index) -> bool {
        let key = qualified(&index.schema, &index.table);
        (self.old.contains_key(&key) && self.new.contains_key(&key)) || self.kept_views.contains(&key)
    }

    /// Whether the index's table gets a partition it did not have (at any depth) on which the
    /// desired schema's `family` has no index. An `INVALID` index on a partitioned table (made
    /// `ON ONLY`, its partitions' indexes never all attached) gives every new partition an index
    /// of its own, which the desired schema may not have: then its family is made again after the
    /// new partition, `ON ONLY` as it was.
    fn gains_partition_without(&self, index: &Index, family: &[&Index]) -> bool {
        let Some(table) = self.new.get(&qualified(&index.schema, &index.table)) else { return false };
        table.partitions_among(self.new.values().copied()).iter().any(|child| {
            !self.old.contains_key(&qualified(&child.schema, &child.name))
                && !family.iter().any(|i| i.schema == child.schema && i.table == child.name)
        })
    }

    /// Whether the index is on a view rather than a table of the `to` side.
    fn on_view(&self, index: &Index) -> bool {
        !self.new.contains_key(&qualified(&index.schema, &index.table))
    }
}

/// The families of both sides, and the roots of those that change: worked out once for the
/// three stages that drop and create them (three times over, with each index cloned to compare,
/// it was a quarter of a diff's client time at 3,000 indexes).
pub(crate) struct Families<'a> {
    old: BTreeMap<String, Vec<&'a Index>>,
    new: BTreeMap<String, Vec<&'a Index>>,
    /// The roots of the families that must be dropped (on the `from` side).
    dropped: Vec<String>,
    /// The roots of the families that must be created (on the `to` side).
    created: Vec<String>,
}

impl<'a> Families<'a> {
    pub(crate) fn new(from: &'a Schema, to: &'a Schema, tables: &Tables) -> Families<'a> {
        let (old, new) = (families(from), families(to));
        let kept: BTreeSet<&String> = old
            .iter()
            .filter(|(root, members)| {
                new.get(*root).is_some_and(|other| {
                    let shared = |family: &[&'a Index]| -> Vec<&'a Index> {
                        family.iter().copied().filter(|index| tables.on_both_sides(index)).collect()
                    };
                    tables.on_both_sides(members[0])
                        && shared(members) == shared(other)
                        && (members[0].valid || !tables.gains_partition_without(members[0], other))
                })
            })
            .map(|(root, _)| root)
            .collect();
        let dropped = old.keys().filter(|root| !kept.contains(root)).cloned().collect();
        let created = new.keys().filter(|root| !kept.contains(root)).cloned().collect();
        Families { old, new, dropped, created }
    }
}

/// Drops the families that change or disappear from tables that stay.
pub(crate) fn drop_changed(plan: &mut Builder, families: &Families, tables: &Tables) {
    for root in &families.dropped {
        let index = families.old[root][0];
        let key = qualified(&index.schema, &index.table);
        if let Some(table) = tables.new.get(&key) {
            online::drop_index(plan, Some(table), index);
        } else if tables.kept_views.contains(&key) {
            online::drop_index(plan, None, index);
        }
    }
}

/// Creates the families that change or appear. On a table that existed, a partitioned index is
/// made the online way whatever the options (PostgreSQL builds no partitioned index
/// concurrently): the parent's index `ON ONLY` (catalog only), each partition's built on its
/// own (concurrently when online), then attached, which makes the parent's valid.
pub(crate) fn create_changed(plan: &mut Builder, families: &Families, tables: &Tables) {
    for root in &families.created {
        let family = &families.new[root];
        if tables.on_view(family[0]) {
            continue;
        }
        for index in family {
            let key = qualified(&index.schema, &index.table);
            let table = tables.new.get(&key).copied();
            let existing = table.filter(|_| tables.old.contains_key(&key));
            match existing {
                Some(table) if matches!(table.kind, TableKind::Partitioned { .. }) => plan.push(
                    &SchemaChange::CreateIndex(Named::new(&index.schema, &index.name)),
                    index.definition.clone(),
                    Lock::Share,
                    &[],
                ),
                _ => online::create_index(plan, existing, index),
            }
        }
        for index in family {
            if let Some(statement) = index.attach_statement() {
                let source = SchemaChange::AttachIndex(Named::new(&index.schema, &index.name));
                // ACCESS EXCLUSIVE on the partition's index, which queries on the partition open.
                plan.push(&source, statement, Lock::AccessExclusive, &[]);
            }
        }
    }
}

/// Creates the indexes of materialized views that change or appear, once the views exist: on a
/// view the plan keeps, the way an existing table's is built (concurrently when online); on one
/// it creates (anew or again), plainly, as on a new table.
pub(crate) fn create_on_views(plan: &mut Builder, families: &Families, tables: &Tables) {
    for root in &families.created {
        let index = families.new[root][0];
        if tables.on_view(index) {
            let kept = tables.kept_views.contains(&qualified(&index.schema, &index.table));
            online::create_index_on_view(plan, kept, index);
        }
    }
}
