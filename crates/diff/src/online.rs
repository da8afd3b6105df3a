//! Indexes and constraints on tables that already exist: the online forms when
//! [`Options::online`](crate::Options) asks for them, the plain ones otherwise. A new table is
//! empty, so it always gets plain DDL.

use haste_schema::{Column, Constraint, ConstraintKind, Index, Table, TableKind};
use haste_sql::{quote_ident, truncate_ident};

use crate::builder::Builder;
use crate::{Hazard, Lock, Named, OfTable, SchemaChange};

/// Concurrent builds and drops do not exist for a partitioned table's own indexes.
fn concurrent_possible(plan: &Builder, table: &Table) -> bool {
    plan.options.online && !partitioned(table)
}

/// PostgreSQL before 18 refuses a foreign key `NOT VALID` on a partitioned table (it validates
/// each partition as it adds the key to it), so such a key is added plain, scanning under its
/// lock, whatever the options.
fn partitioned(table: &Table) -> bool {
    matches!(table.kind, TableKind::Partitioned { .. })
}

/// An index that appears; `existing` is its table when that table is not new.
pub(crate) fn create_index(plan: &mut Builder, existing: Option<&Table>, index: &Index) {
    let source = SchemaChange::CreateIndex(Named::new(&index.schema, &index.name));
    match existing {
        None => plan.push(&source, index.definition.clone(), Lock::None, &[]),
        Some(table) if concurrent_possible(plan, table) => plan.push_alone(
            &source,
            index.create_concurrently_statement(),
            Lock::ShareUpdateExclusive,
            &[Hazard::IndexBuild],
        ),
        Some(_) => plan.push(&source, index.definition.clone(), Lock::Share, &[Hazard::IndexBuild]),
    }
}

/// An index of a materialized view; `existing` when the view was there before and stays (a
/// view the plan creates is new, like a new table).
pub(crate) fn create_index_on_view(plan: &mut Builder, existing: bool, index: &Index) {
    let source = SchemaChange::CreateIndex(Named::new(&index.schema, &index.name));
    match existing {
        false => plan.push(&source, index.definition.clone(), Lock::None, &[]),
        true if plan.options.online => plan.push_alone(
            &source,
            index.create_concurrently_statement(),
            Lock::ShareUpdateExclusive,
            &[Hazard::IndexBuild],
        ),
        true => plan.push(&source, index.definition.clone(), Lock::Share, &[Hazard::IndexBuild]),
    }
}

/// An index that disappears from a table that stays, or (`None`) from a materialized view that
/// stays.
pub(crate) fn drop_index(plan: &mut Builder, table: Option<&Table>, index: &Index) {
    let name = haste_schema::qualified(&index.schema, &index.name);
    let source = SchemaChange::DropIndex(Named::new(&index.schema, &index.name));
    let concurrent = match table {
        Some(table) => concurrent_possible(plan, table),
        None => plan.options.online,
    };
    if concurrent {
        plan.push_alone(
            &source,
            format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"),
            Lock::ShareUpdateExclusive,
            &[],
        );
    } else {
        plan.push(&source, format!("DROP INDEX {name}"), Lock::AccessExclusive, &[]);
    }
}

/// The partitions of a table a constraint appears on that hold rows of their own and were there
/// before (at any depth), and whether a relation name is taken in a schema (on either side).
pub(crate) struct Leaves<'a> {
    pub(crate) tables: Vec<&'a Table>,
    pub(crate) taken: &'a dyn Fn(&str, &str) -> bool,
}

impl Leaves<'_> {
    /// The name PostgreSQL gives the key it makes on `leaf` over `columns`: the first of
    /// `<leaf>_<columns>_key`, `..._key1`, ... that no relation of its schema has
    /// (`ChooseRelationName`).
    fn key_name(&self, leaf: &Table, columns: &[String]) -> String {
        (0..)
            .map(|n: u32| {
                let label = if n == 0 { "key".to_owned() } else { format!("key{n}") };
                haste_sql::object_name(&leaf.name, &columns.join("_"), &label)
            })
            .find(|name| !(self.taken)(&leaf.schema, name))
            .expect("a free name")
    }
}

/// A constraint that appears on `table`; `existing` says whether the table was there before.
pub(crate) fn add_constraint(
    plan: &mut Builder,
    table: &Table,
    constraint: &Constraint,
    existing: bool,
    leaves: &Leaves<'_>,
) {
    let statement = table.add_constraint_statement(constraint);
    let source = SchemaChange::AddConstraint {
        constraint: OfTable::new(&table.schema, &table.name, &constraint.name),
        kind: constraint.kind,
    };
    let foreign = constraint.kind == ConstraintKind::ForeignKey;
    // A foreign key locks the referenced table too, even when its own table is new.
    let plain_lock = if foreign { Lock::ShareRowExclusive } else { Lock::AccessExclusive };
    if !existing {
        plan.push(&source, statement, if foreign { Lock::ShareRowExclusive } else { Lock::None }, &[]);
        return;
    }
    let name = quote_ident(&constraint.name);
    let table_name = table.qualified_name();
    let validated_later = matches!(constraint.kind, ConstraintKind::ForeignKey | ConstraintKind::Check)
        && constraint.validated
        && plan.options.online
        && !(foreign && partitioned(table));
    if validated_later {
        plan.push(&source, format!("{statement} NOT VALID"), plain_lock, &[]);
        validate(plan, &source, table, constraint);
        return;
    }
    // A partitioned table's unique key: PostgreSQL builds no partitioned index concurrently and
    // refuses USING INDEX there, but adding the key takes over the key each partition already
    // has on the same columns. So each partition that holds rows gets its own first (a unique
    // index built concurrently, made its key, named as PostgreSQL would name it there); the
    // parent's key then builds nothing.
    if constraint.plain_key
        && constraint.kind == ConstraintKind::Unique
        && plan.options.online
        && partitioned(table)
    {
        let columns: Vec<String> = constraint.columns.iter().map(|column| quote_ident(column)).collect();
        for leaf in &leaves.tables {
            let key = quote_ident(&leaves.key_name(leaf, &constraint.columns));
            let leaf_name = leaf.qualified_name();
            plan.push_alone(
                &source,
                format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {key} ON {leaf_name} USING btree ({})",
                    columns.join(", ")
                ),
                Lock::ShareUpdateExclusive,
                &[Hazard::IndexBuild],
            );
            plan.push(
                &source,
                format!("ALTER TABLE {leaf_name} ADD CONSTRAINT {key} UNIQUE USING INDEX {key}"),
                Lock::AccessExclusive,
                &[],
            );
        }
        plan.push(&source, statement, Lock::AccessExclusive, &[]);
        return;
    }
    // A plain key goes onto a unique index built concurrently first.
    if constraint.plain_key && concurrent_possible(plan, table) {
        let columns: Vec<String> = constraint.columns.iter().map(|column| quote_ident(column)).collect();
        plan.push_alone(
            &source,
            format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table_name} USING btree ({})",
                columns.join(", ")
            ),
            Lock::ShareUpdateExclusive,
            &[Hazard::IndexBuild],
        );
        plan.push(
            &source,
            format!(
                "ALTER TABLE {table_name} ADD CONSTRAINT {name} {} USING INDEX {name}",
                constraint.kind.keyword()
            ),
            Lock::AccessExclusive,
            &[],
        );
        return;
    }
    let hazards: &[Hazard] = if constraint.kind.builds_index() {
        &[Hazard::TableScan, Hazard::IndexBuild]
    } else {
        &[Hazard::TableScan]
    };
    plan.push(&source, statement, plain_lock, hazards);
}

/// A constraint added `NOT VALID`, validated on its own once the statements before it committed:
/// a scan that lets reads and writes through.
fn validate(plan: &mut Builder, source: &SchemaChange, table: &Table, constraint: &Constraint) {
    plan.push_alone(
        source,
        format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            table.qualified_name(),
            quote_ident(&constraint.name)
        ),
        Lock::ShareUpdateExclusive,
        &[Hazard::TableScan],
    );
}

/// Foreign keys of tables that stay, added again after the key they reference was built again
/// in the same transaction (a generated column added again, `columns::regenerated`). Online, each
/// goes on `NOT VALID` inside that transaction (every row passed it already) and all are
/// validated after it, each on its own, so the transaction holding the rewritten table's lock
/// scans no referencing table.
pub(crate) fn add_foreign_keys_again(plan: &mut Builder, keys: &[(&Table, &Constraint)]) {
    let source = |table: &Table, key: &Constraint| SchemaChange::AddConstraint {
        constraint: OfTable::new(&table.schema, &table.name, &key.name),
        kind: key.kind,
    };
    let (plain, keys): (Vec<_>, Vec<_>) =
        keys.iter().partition(|(table, _)| !plan.options.online || partitioned(table));
    for (table, key) in plain {
        add_constraint(plan, table, key, true, &Leaves { tables: Vec::new(), taken: &|_, _| false });
    }
    // One the target holds unvalidated stays so.
    for (table, key) in &keys {
        let statement = table.add_constraint_statement(key);
        let statement = if key.validated { format!("{statement} NOT VALID") } else { statement };
        plan.push(&source(table, key), statement, Lock::ShareRowExclusive, &[]);
    }
    for (table, key) in keys.iter().filter(|(_, key)| key.validated) {
        validate(plan, &source(table, key), table, key);
    }
}

/// `SET NOT NULL` on a column of a table that stays. Online: a `CHECK (col IS NOT NULL)` added
/// `NOT VALID` and validated apart lets `SET NOT NULL` skip its scan (PostgreSQL 12+).
pub(crate) fn set_not_null(plan: &mut Builder, table: &Table, column: &Column) {
    let table_name = table.qualified_name();
    let target = quote_ident(&column.name);
    let source = SchemaChange::SetNotNull(OfTable::new(&table.schema, &table.name, &column.name));
    if !plan.options.online {
        plan.push(
            &source,
            format!("ALTER TABLE {table_name} ALTER COLUMN {target} SET NOT NULL"),
            Lock::AccessExclusive,
            &[Hazard::TableScan],
        );
        return;
    }
    let check = quote_ident(&truncate_ident(&format!("haste_{}_not_null", column.name), ""));
    plan.push(
        &source,
        format!("ALTER TABLE {table_name} ADD CONSTRAINT {check} CHECK ({target} IS NOT NULL) NOT VALID"),
        Lock::AccessExclusive,
        &[],
    );
    plan.push_alone(
        &source,
        format!("ALTER TABLE {table_name} VALIDATE CONSTRAINT {check}"),
        Lock::ShareUpdateExclusive,
        &[Hazard::TableScan],
    );
    plan.push(
        &source,
        format!("ALTER TABLE {table_name} ALTER COLUMN {target} SET NOT NULL"),
        Lock::AccessExclusive,
        &[],
    );
    plan.push(
        &source,
        format!("ALTER TABLE {table_name} DROP CONSTRAINT {check}"),
        Lock::AccessExclusive,
        &[],
    );
}
