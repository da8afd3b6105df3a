//! Partitioned tables in plans. A partition takes its columns from its parent: a column added,
//! dropped or retyped on the parent, and a default or `NOT NULL` set or dropped there, reach
//! every partition by themselves, so a partition's own changes are those left once its
//! parent's have reached it ([`inherited`]). A partition that changes bound or parent, and a
//! table that becomes a partition or stops being one, are detached and attached
//! ([`detach`], [`attach`]). What PostgreSQL cannot change in place is refused
//! ([`partitioning_refused`]).

use haste_schema::{Column, ConstraintKind, Schema, Table, TableKind};
use haste_sql::quote_ident;

use crate::builder::Builder;
use crate::compare::{by, replaced, retyped, table_key};
use crate::{Hazard, Lock, Named, SchemaChange};

/// A change of partitioning the planner cannot carry out, with the table it concerns: a plan
/// that skipped it would leave the database other than the schema says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionRefusal {
    /// A partitioned table's key changes.
    #[error(
        "table {table} changes its partition key ({from} to {to}): PostgreSQL cannot change a partition key in place; create a new partitioned table and move the rows in a migration written by hand (haste migrate new)"
    )]
    KeyChanged {
        /// The table, qualified.
        table: String,
        /// The key before.
        from: String,
        /// The key after.
        to: String,
    },
    /// A column the partition key reads changes type (or is dropped and added again, for an
    /// identity or generated change).
    #[error(
        "column {column} of table {table} is part of its partition key and its type changes: PostgreSQL cannot alter a partition key column; write this migration by hand (haste migrate new)"
    )]
    KeyColumnRetyped {
        /// The table, qualified.
        table: String,
        /// The column.
        column: String,
    },
    /// A table that was not partitioned becomes partitioned.
    #[error(
        "table {table} becomes partitioned: PostgreSQL cannot partition an existing table in place; create the partitioned table under another name, move the rows and swap the names in a migration written by hand (haste migrate new)"
    )]
    BecomesPartitioned {
        /// The table, qualified.
        table: String,
    },
    /// A partitioned table stops being partitioned.
    #[error(
        "table {table} stops being partitioned: PostgreSQL cannot turn a partitioned table into a plain one in place; write this migration by hand (haste migrate new)"
    )]
    StopsBeingPartitioned {
        /// The table, qualified.
        table: String,
    },
    /// A partitioned table is dropped while a partition of it stays.
    #[error(
        "table {table} is dropped while its partition {partition} stays: dropping a partitioned table drops its partitions; detach the partition first in a migration written by hand (haste migrate new), or drop it too"
    )]
    ParentDropped {
        /// The dropped table, qualified.
        table: String,
        /// The partition that stays, qualified.
        partition: String,
    },
}

/// The first change of partitioning (tables in `from`'s order) that the planner cannot carry
/// out. A new partition of a table that stays, a partition dropped, a changed bound, a table
/// attached as a partition or detached from its parent are planned.
pub fn partitioning_refused(from: &Schema, to: &Schema) -> Option<PartitionRefusal> {
    let new_tables = by(&to.tables, table_key);
    from.tables.iter().find_map(|old| {
        let table = table_key(old);
        let Some(new) = new_tables.get(&table) else {
            let staying =
                from.tables.iter().find(|t| t.is_partition_of(old) && new_tables.contains_key(&table_key(t)));
            return staying
                .map(|partition| PartitionRefusal::ParentDropped { table, partition: table_key(partition) });
        };
        match (&old.kind, &new.kind) {
            (TableKind::Partitioned { key: from }, TableKind::Partitioned { key: to }) if from != to => {
                Some(PartitionRefusal::KeyChanged { table, from: from.clone(), to: to.clone() })
            }
            (TableKind::Partitioned { key }, TableKind::Partitioned { .. }) => {
                let changed = new.columns.iter().find(|column| {
                    old.columns.iter().any(|previous| {
                        previous.name == column.name
                            && (retyped(previous, column) || replaced(previous, column))
                    }) && key_reads(new, key, &column.name)
                });
                changed
                    .map(|column| PartitionRefusal::KeyColumnRetyped { table, column: column.name.clone() })
            }
            (TableKind::Partitioned { .. }, _) => Some(PartitionRefusal::StopsBeingPartitioned { table }),
            (_, TableKind::Partitioned { .. }) => Some(PartitionRefusal::BecomesPartitioned { table }),
            _ => None,
        }
    })
}

/// Whether a partition key (`RANGE (at)`, as `pg_get_partkeydef` prints it) reads `column`:
/// its column list read as an expression with PostgreSQL's grammar, so a key it cannot read
/// counts as reading every column.
fn key_reads(table: &Table, key: &str, column: &str) -> bool {
    let columns = key.find('(').map_or(key, |start| &key[start..]);
    haste_sql::expression_reads(&table.name, columns, column)
}

/// The table of `schema` that `table` is a partition of.
fn parent<'a>(schema: &'a Schema, table: &Table) -> Option<&'a Table> {
    table.partition_of.as_ref()?;
    schema.tables.iter().find(|parent| table.is_partition_of(parent))
}

/// The parent on both sides when `old` and `new` are partitions of the same table.
fn same_parent<'a>(
    from: &'a Schema,
    to: &'a Schema,
    old: &Table,
    new: &Table,
) -> Option<(&'a Table, &'a Table)> {
    let (before, after) = (parent(from, old)?, parent(to, new)?);
    (table_key(before) == table_key(after)).then_some((before, after))
}

/// A partition that stays under the same parent as its parent's changes leave it, before any
/// statement of its own: the columns the parent adds (as the parent has them), without those
/// it drops, with the type, default and `NOT NULL` the parent's statements give it (each
/// `ALTER TABLE` of a partitioned table reaches its partitions, a type change's default with
/// it). `None` for any other table. A partition's own changes are the difference between this
/// and its new form; so a sub-partition, whose parent's own statements reach it too, is
/// compared with what its parent's whole change gives it.
pub(crate) fn inherited(from: &Schema, to: &Schema, old: &Table, new: &Table) -> Option<Table> {
    let (parent_old, parent_new) = same_parent(from, to, old, new)?;
    let mut partition = old.clone();
    let kept = |column: &Column| {
        !parent_old.columns.iter().any(|c| c.name == column.name)
            || parent_new.columns.iter().any(|c| c.name == column.name)
    };
    partition.columns.retain(kept);
    for column in &parent_new.columns {
        let given = Column { inherited: true, comment: None, ..column.clone() };
        let previous = parent_old.columns.iter().find(|c| c.name == column.name);
        let own = partition.columns.iter_mut().find(|c| c.name == column.name);
        match (previous, own) {
            (None, None) => partition.columns.push(given),
            (None, Some(_)) => {}
            (Some(previous), Some(own)) if replaced(previous, column) => *own = given,
            (Some(previous), Some(own)) => {
                if retyped(previous, column) {
                    (own.data_type, own.collation) = (column.data_type.clone(), column.collation.clone());
                    if previous.default.is_some() || column.default.is_some() {
                        own.default = column.default.clone();
                    }
                } else if previous.default != column.default {
                    own.default = column.default.clone();
                }
                if previous.not_null != column.not_null {
                    own.not_null = column.not_null;
                }
            }
            (Some(_), None) => partition.columns.push(given),
        }
    }
    Some(partition)
}

/// `DETACH PARTITION` for a table that leaves its parent (for a plain table, or for another
/// parent): before the tables change, so its parent's changes no longer reach it. The checks and
/// foreign keys its parent gave it stay on it as its own (under the parent's names): they are
/// dropped, and those the table keeps are added with the constraints that appear (the model of
/// `from` never held them on the partition).
pub(crate) fn detach(plan: &mut Builder, from: &Schema, to: &Schema, old: &Table, new: &Table) {
    let Some(parent_old) = parent(from, old) else { return };
    if same_parent(from, to, old, new).is_some() {
        return;
    }
    detach_statement(plan, parent_old, old);
    let given = parent_old
        .constraints
        .iter()
        .filter(|c| matches!(c.kind, ConstraintKind::Check | ConstraintKind::ForeignKey));
    for constraint in given {
        plan.push(
            &SchemaChange::DetachPartition(Named::new(&old.schema, &old.name)),
            format!("ALTER TABLE {} DROP CONSTRAINT {}", old.qualified_name(), quote_ident(&constraint.name)),
            Lock::AccessExclusive,
            &[],
        );
    }
}

/// `DETACH` of a partition whose bound changes (under the same parent), before [`attach`]
/// attaches it again with the new one, in the same transaction.
pub(crate) fn detach_for_new_bound(plan: &mut Builder, from: &Schema, to: &Schema, old: &Table, new: &Table) {
    let Some((_, bound)) = &new.partition_of else { return };
    if let Some((parent_old, _)) = same_parent(from, to, old, new)
        && old.partition_of.as_ref().map(|(_, b)| b) != Some(bound)
    {
        detach_statement(plan, parent_old, old);
    }
}

/// `ATTACH PARTITION` for a table that joins a parent (from being a plain table or from another
/// parent), or a partition whose bound changes (detached by [`detach_for_new_bound`]), in one
/// transaction: after the tables changed and the new ones were created, so the parent exists
/// and the columns match.
pub(crate) fn attach(plan: &mut Builder, from: &Schema, to: &Schema, old: &Table, new: &Table) {
    let (Some(parent_new), Some((_, bound))) = (parent(to, new), &new.partition_of) else { return };
    if same_parent(from, to, old, new).is_some() && old.partition_of.as_ref().map(|(_, b)| b) == Some(bound) {
        return;
    }
    // PostgreSQL attaches a table only when it holds every check of the parent (it then takes
    // them as the parent's): a table that was no partition of it gets the checks the parent
    // holds at this point (those on both sides; new ones come later, through the parent).
    if same_parent(from, to, old, new).is_none() {
        let kept_checks = parent_new.constraints.iter().filter(|c| {
            c.kind == ConstraintKind::Check
                && from
                    .tables
                    .iter()
                    .any(|t| table_key(t) == table_key(parent_new) && t.constraints.contains(c))
        });
        for check in kept_checks {
            plan.push(
                &SchemaChange::AttachPartition(Named::new(&new.schema, &new.name)),
                new.add_constraint_statement(check),
                Lock::AccessExclusive,
                &[Hazard::TableScan],
            );
        }
    }
    // ACCESS EXCLUSIVE on the partition (SHARE UPDATE EXCLUSIVE on the parent), and a scan of
    // its rows (and of a default partition's) against the bound.
    plan.push(
        &SchemaChange::AttachPartition(Named::new(&new.schema, &new.name)),
        format!(
            "ALTER TABLE {} ATTACH PARTITION {} {bound}",
            parent_new.qualified_name(),
            new.qualified_name()
        ),
        Lock::AccessExclusive,
        &[Hazard::TableScan],
    );
}

fn detach_statement(plan: &mut Builder, parent: &Table, partition: &Table) {
    plan.push(
        &SchemaChange::DetachPartition(Named::new(&partition.schema, &partition.name)),
        format!("ALTER TABLE {} DETACH PARTITION {}", parent.qualified_name(), partition.qualified_name()),
        Lock::AccessExclusive,
        &[],
    );
}

#[cfg(test)]
mod tests {
    use haste_schema::{Column, Schema, Table, TableKind};

    use super::{PartitionRefusal, inherited, partitioning_refused};
    use crate::compare::table;
    use crate::fixtures::{self, column};

    /// `crm.events` partitioned by `key` (or plain), with `columns`, and `crm.events_a` of it.
    fn events(key: Option<&str>, columns: Vec<Column>) -> Schema {
        let mut parent = fixtures::table(columns);
        parent.name = "events".into();
        if let Some(key) = key {
            parent.kind = TableKind::Partitioned { key: key.into() };
        }
        let partition = Table {
            name: "events_a".into(),
            kind: TableKind::Regular,
            partition_of: Some(("crm.events".into(), "FOR VALUES FROM (0) TO (10)".into())),
            partition_depth: 1,
            columns: parent.columns.iter().map(|c| Column { inherited: true, ..c.clone() }).collect(),
            ..parent.clone()
        };
        Schema { tables: vec![parent, partition], ..Schema::default() }
    }

    #[test]
    fn what_postgresql_cannot_change_in_place_is_refused_naming_the_table() {
        let at = || column("at", "integer");
        let table = || "\"crm\".\"events\"".to_owned();
        let range = events(Some("RANGE (at)"), vec![at(), column("kind", "text")]);
        let mut plain = events(None, vec![at(), column("kind", "text")]);
        plain.tables.truncate(1);
        let mut orphan = range.clone();
        orphan.tables.remove(0);
        let cases = [
            (
                &range,
                events(Some("LIST (kind)"), vec![at(), column("kind", "text")]),
                Some(PartitionRefusal::KeyChanged {
                    table: table(),
                    from: "RANGE (at)".into(),
                    to: "LIST (kind)".into(),
                }),
            ),
            (
                &range,
                events(Some("RANGE (at)"), vec![column("at", "bigint"), column("kind", "text")]),
                Some(PartitionRefusal::KeyColumnRetyped { table: table(), column: "at".into() }),
            ),
            (&plain, range.clone(), Some(PartitionRefusal::BecomesPartitioned { table: table() })),
            (&range, plain.clone(), Some(PartitionRefusal::StopsBeingPartitioned { table: table() })),
            (
                &range,
                orphan,
                Some(PartitionRefusal::ParentDropped {
                    table: table(),
                    partition: "\"crm\".\"events_a\"".into(),
                }),
            ),
            // A column outside the key retyped, a new column: planned.
            (
                &range,
                events(Some("RANGE (at)"), vec![at(), column("kind", "varchar(9)"), column("n", "int")]),
                None,
            ),
        ];
        for (from, to, expected) in cases {
            assert_eq!(partitioning_refused(from, &to), expected, "{to:#?}");
        }
    }

    /// A partition's own changes are what is left once its parent's changes reached it: none
    /// when it only follows its parent, its own default when it keeps one.
    #[test]
    fn a_partition_is_compared_with_what_its_parents_change_gives_it() {
        let from = events(
            Some("RANGE (at)"),
            vec![column("at", "integer"), column("amount", "integer"), column("old", "text")],
        );
        let amount = Column { not_null: true, default: Some("0".into()), ..column("amount", "bigint") };
        let mut to = events(Some("RANGE (at)"), vec![column("at", "integer"), amount, column("new", "text")]);
        let given = inherited(&from, &to, &from.tables[1], &to.tables[1]).unwrap();
        assert_eq!(table(&given, &to.tables[1]), vec![]);
        to.tables[1].columns[1].default = Some("5".into());
        let given = inherited(&from, &to, &from.tables[1], &to.tables[1]).unwrap();
        let own = table(&given, &to.tables[1]);
        assert!(
            matches!(own.as_slice(), [crate::TableChange::ChangeColumnDefault(pair)] if pair.to.default.as_deref() == Some("5")),
            "{own:#?}"
        );
        assert!(inherited(&from, &to, &from.tables[0], &to.tables[0]).is_none(), "a parent is itself");
    }
}
