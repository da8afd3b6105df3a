//! The columns of a table on both sides, from its typed changes: drops, additions, type,
//! default and nullability changes, and the stored generated columns that must be dropped and
//! added again around a type change of a column they read.

use haste_schema::{Column, Index, Table};
use haste_sql::quote_ident;

use crate::builder::Builder;
use crate::compare::{Pair, TableChange, replaced, retyped};
use crate::{Hazard, Lock, Named, OfTable, SchemaChange, online};

/// The generated columns, alike on both sides, that read a column whose type changes:
/// PostgreSQL refuses to retype a column a generated column reads, so each is dropped before
/// the type change and added again after it (at the end of the table, recomputed by the
/// rewrite), with the indexes, constraints, comment and privileges it had.
pub(crate) fn regenerated<'a>(old: &Table, new: &'a Table) -> Vec<&'a Column> {
    let retyped_columns: Vec<&str> = new
        .columns
        .iter()
        .filter(|column| {
            old.columns.iter().any(|previous| previous.name == column.name && retyped(previous, column))
        })
        .map(|column| column.name.as_str())
        .collect();
    new.columns
        .iter()
        .filter(|column| {
            old.columns.iter().any(|previous| previous.name == column.name && !replaced(previous, column))
        })
        .filter(|column| {
            column.generated.as_deref().is_some_and(|expression| {
                retyped_columns.iter().any(|read| haste_sql::expression_reads(&new.name, expression, read))
            })
        })
        .collect()
}

/// The column changes of a table on both sides; `kept_indexes` are its indexes that are the
/// same on both sides. Columns dropped (or dropped to be added again) go first, in `from`'s
/// order, then each column's changes in `to`'s order, then the regenerated columns come back.
pub(crate) fn alter_table(
    plan: &mut Builder,
    old: &Table,
    new: &Table,
    changes: &[TableChange],
    kept_indexes: &[&Index],
) {
    let name = new.qualified_name();
    let part = |column: &Column| OfTable::new(&new.schema, &new.name, &column.name);
    let regenerated = regenerated(old, new);
    let is_regenerated = |column: &Column| regenerated.iter().any(|c| c.name == column.name);
    let dropped = |column: &Column| {
        changes.iter().any(|change| {
            matches!(change, TableChange::DropColumn(c) | TableChange::ReplaceColumn(Pair { from: c, .. })
                if c.name == column.name)
        })
    };
    for column in &old.columns {
        if is_regenerated(column) {
            // Computed again when it is added again: nothing is lost.
            plan.push(
                &SchemaChange::RegenerateColumn(part(column)),
                format!("ALTER TABLE {name} DROP COLUMN {}", quote_ident(&column.name)),
                Lock::AccessExclusive,
                &[],
            );
        } else if dropped(column) {
            plan.push(
                &SchemaChange::DropColumn(part(column)),
                format!("ALTER TABLE {name} DROP COLUMN {}", quote_ident(&column.name)),
                Lock::AccessExclusive,
                &[Hazard::DataLoss],
            );
        }
    }
    for change in changes {
        match change {
            TableChange::AddColumn(column) | TableChange::ReplaceColumn(Pair { to: column, .. }) => {
                add_column(plan, new, column)
            }
            // A regenerated column is added again whole, whatever else changes in it.
            TableChange::AlterColumnType(Pair { to, .. })
            | TableChange::ChangeColumnDefault(Pair { to, .. })
            | TableChange::SetNotNull(to)
            | TableChange::DropNotNull(to)
            | TableChange::ChangeColumnComment(to)
                if is_regenerated(to) => {}
            TableChange::AlterColumnType(Pair { from, to }) => alter_column_type(plan, new, from, to),
            // A type change sets the default again.
            TableChange::ChangeColumnDefault(Pair { from, to }) if !retyped(from, to) => {
                let change = match &to.default {
                    Some(default) => format!("SET DEFAULT {default}"),
                    None => "DROP DEFAULT".to_owned(),
                };
                plan.push(
                    &SchemaChange::ChangeColumnDefault(part(to)),
                    format!("ALTER TABLE {name} ALTER COLUMN {} {change}", quote_ident(&to.name)),
                    Lock::AccessExclusive,
                    &[],
                );
            }
            TableChange::SetNotNull(column) => online::set_not_null(plan, new, column),
            TableChange::DropNotNull(column) => plan.push(
                &SchemaChange::DropNotNull(part(column)),
                format!("ALTER TABLE {name} ALTER COLUMN {} DROP NOT NULL", quote_ident(&column.name)),
                Lock::AccessExclusive,
                &[],
            ),
            // A comment set is written with the table's comments, after the columns exist.
            TableChange::ChangeColumnComment(column) if column.comment.is_none() => plan.push(
                &SchemaChange::SetComments(Named::new(&new.schema, &new.name)),
                format!("COMMENT ON COLUMN {name}.{} IS NULL", quote_ident(&column.name)),
                Lock::ShareUpdateExclusive,
                &[],
            ),
            _ => {}
        }
    }
    for column in &regenerated {
        let source = SchemaChange::RegenerateColumn(part(column));
        plan.push(
            &source,
            format!("ALTER TABLE {name} ADD COLUMN {}", column.definition()),
            Lock::AccessExclusive,
            &[Hazard::TableRewrite],
        );
        recreate_dependents(plan, &source, old, new, kept_indexes);
    }
}

/// `ALTER COLUMN ... TYPE`, its default dropped before and set again after (PostgreSQL would
/// otherwise try to cast the old default).
fn alter_column_type(plan: &mut Builder, table: &Table, from: &Column, to: &Column) {
    let name = table.qualified_name();
    let target = quote_ident(&to.name);
    let source = SchemaChange::AlterColumnType(OfTable::new(&table.schema, &table.name, &to.name));
    let collate = to.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
    if from.default.is_some() {
        plan.push(
            &source,
            format!("ALTER TABLE {name} ALTER COLUMN {target} DROP DEFAULT"),
            Lock::AccessExclusive,
            &[],
        );
    }
    plan.push(
        &source,
        format!(
            "ALTER TABLE {name} ALTER COLUMN {target} TYPE {}{collate} USING {}",
            to.data_type,
            haste_sql::conversion(&target, &to.data_type)
        ),
        Lock::AccessExclusive,
        &[Hazard::TableRewrite],
    );
    if let Some(default) = &to.default {
        plan.push(
            &source,
            format!("ALTER TABLE {name} ALTER COLUMN {target} SET DEFAULT {default}"),
            Lock::AccessExclusive,
            &[],
        );
    }
}

/// The constraints and indexes on `column` that `DROP COLUMN` took along although both sides
/// have them, built again in the same transaction (the table is already locked for the
/// rewrite that added the column back).
fn recreate_dependents(
    plan: &mut Builder,
    source: &SchemaChange,
    old: &Table,
    table: &Table,
    kept_indexes: &[&Index],
) {
    let SchemaChange::RegenerateColumn(column) = source else { return };
    let name = table.qualified_name();
    let involves = |repointed: haste_sql::Repointed| repointed != haste_sql::Repointed::Untouched;
    for constraint in table.constraints.iter().filter(|c| old.constraints.contains(c)) {
        if involves(haste_sql::constraint_on(&name, &constraint.definition, &column.name, "x", "x")) {
            let hazards: &[Hazard] = if constraint.kind.builds_index() {
                &[Hazard::TableScan, Hazard::IndexBuild]
            } else {
                &[Hazard::TableScan]
            };
            plan.push(source, table.add_constraint_statement(constraint), Lock::AccessExclusive, hazards);
        }
    }
    for index in kept_indexes {
        if involves(haste_sql::index_on(&index.definition, &column.name, "x", "x")) {
            plan.push(source, index.definition.clone(), Lock::Share, &[Hazard::IndexBuild]);
        }
    }
}

/// A column added to a table that exists: instant with no default or a constant one, a
/// rewrite for identity and generated columns, and a failure on any row when it is `NOT NULL`
/// with nothing to fill it.
fn add_column(plan: &mut Builder, table: &Table, column: &Column) {
    let hazards: &[Hazard] = if column.identity.is_some() || column.generated.is_some() {
        &[Hazard::TableRewrite]
    } else if column.not_null && column.default.is_none() {
        &[Hazard::FailsOnRows]
    } else {
        &[]
    };
    plan.push(
        &SchemaChange::AddColumn(OfTable::new(&table.schema, &table.name, &column.name)),
        format!("ALTER TABLE {} ADD COLUMN {}", table.qualified_name(), column.definition()),
        Lock::AccessExclusive,
        hazards,
    );
}
