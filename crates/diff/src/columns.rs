//! The columns of a table on both sides, from its typed changes: drops, additions, type,
//! default and nullability changes, and the stored generated columns that must be dropped and
//! added again around a type change of a column they read.

use std::collections::BTreeMap;

use haste_schema::{
    Column, ColumnSetting, ColumnSettings, Constraint, ConstraintKind, Identity, Index, Schema, Sequence,
    Statistics, Table, qualified,
};
use haste_sql::{quote_ident, quote_literal};

use crate::builder::Builder;
use crate::compare::{Pair, TableChange, replaced, retyped, table_key};
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

/// The columns of `new` that the plan drops and adds again, losing their comments: those
/// [`regenerated`], and those whose generation expression changes.
pub(crate) fn added_again<'a>(old: &Table, new: &'a Table) -> Vec<&'a Column> {
    let mut columns = regenerated(old, new);
    columns.extend(
        new.columns
            .iter()
            .filter(|c| old.columns.iter().any(|previous| previous.name == c.name && replaced(previous, c))),
    );
    columns
}

/// The foreign keys, the same on both sides and on tables on both sides (this one included),
/// that reference a generated column of `new` added again: its drop would take the key they
/// hang on, which PostgreSQL refuses while they stand.
pub(crate) fn hanging_on_regenerated<'a>(
    old_tables: &BTreeMap<String, &Table>,
    to: &'a Schema,
    old: &Table,
    new: &Table,
) -> Vec<(&'a Table, &'a Constraint)> {
    let regenerated = regenerated(old, new);
    if regenerated.is_empty() {
        return Vec::new();
    }
    to.tables
        .iter()
        .filter_map(|table| Some((table, old_tables.get(&table_key(table))?)))
        .flat_map(|(table, before)| {
            table
                .constraints
                .iter()
                .filter(|c| c.kind == ConstraintKind::ForeignKey && before.constraints.contains(c))
                .filter(|c| {
                    regenerated.iter().any(|column| c.references_column(&new.schema, &new.name, &column.name))
                })
                .map(move |c| (table, c))
        })
        .collect()
}

/// What of a table on both sides `to` keeps, which dropping a column takes along: its indexes and
/// statistics objects the same on both sides, the foreign keys on its regenerated columns
/// ([`hanging_on_regenerated`]); and the sequences its columns own that `to` no longer has (a
/// serial column that became an identity or a plain column), dropped once the column's default
/// no longer reads them, before an identity is added (whose sequence may take the name).
pub(crate) struct Kept<'a> {
    pub(crate) indexes: &'a [&'a Index],
    pub(crate) statistics: Vec<&'a Statistics>,
    pub(crate) hanging: Vec<(&'a Table, &'a Constraint)>,
    pub(crate) released: &'a [&'a Sequence],
    /// New sequences named as an identity sequence of `from` (an identity column that becomes
    /// a serial one): created once the identity of the column `to` gives them to is dropped.
    pub(crate) taking_names: &'a [&'a Sequence],
}

/// The column changes of a table on both sides, with what it keeps ([`Kept`]). Columns dropped (or dropped to be added again) go first, in
/// `from`'s order, then each column's changes in `to`'s order, then the regenerated columns come
/// back.
///
/// A generated column added again comes back in the transaction that dropped it, so nothing
/// that must run on its own (an online `SET NOT NULL`'s validation, a foreign key's) goes
/// between its drop and its addition: those come after it. So does a column dropped and added
/// again for a new generation expression, with what it had (its comment and privileges come
/// back with the table's, `plan.rs` and `privileges.rs`).
pub(crate) fn alter_table(
    plan: &mut Builder,
    old: &Table,
    new: &Table,
    changes: &[TableChange],
    kept: &Kept,
) {
    let hanging = kept.hanging.as_slice();
    let release = |plan: &mut Builder, column: &Column| {
        let owned =
            |s: &&&Sequence| s.owned_by.as_ref().is_some_and(|(t, c)| *t == new.name && *c == column.name);
        for sequence in kept.released.iter().filter(owned) {
            let source = SchemaChange::DropSequence(Named::new(&sequence.schema, &sequence.name));
            let statement = format!("DROP SEQUENCE {}", qualified(&sequence.schema, &sequence.name));
            plan.push(&source, statement, Lock::None, &[]);
        }
    };
    let name = new.qualified_name();
    let part = |column: &Column| OfTable::new(&new.schema, &new.name, &column.name);
    let regenerated = regenerated(old, new);
    let is_regenerated = |column: &Column| regenerated.iter().any(|c| c.name == column.name);
    for (table, key) in hanging {
        plan.push(
            &SchemaChange::DropConstraint(OfTable::new(&table.schema, &table.name, &key.name)),
            format!("ALTER TABLE {} DROP CONSTRAINT {}", table.qualified_name(), quote_ident(&key.name)),
            Lock::AccessExclusive,
            &[],
        );
    }
    let mut not_null_later = Vec::new();
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
            TableChange::AddColumn(column) => add_column(plan, new, column),
            TableChange::ReplaceColumn(Pair { to: column, .. }) => {
                add_column(plan, new, column);
                let source = SchemaChange::AddColumn(part(column));
                recreate_dependents(plan, &source, &column.name, old, new, kept);
            }
            // A regenerated column is added again whole, whatever else changes in it.
            TableChange::AlterColumnType(Pair { to, .. })
            | TableChange::ChangeColumnDefault(Pair { to, .. })
            | TableChange::SetNotNull(to)
            | TableChange::DropNotNull(to)
            | TableChange::ChangeColumnComment(to)
            | TableChange::ChangeColumnSettings(Pair { to, .. })
                if is_regenerated(to) => {}
            TableChange::AlterColumnType(Pair { from, to }) => {
                alter_column_type(plan, new, from, to, kept);
                release(plan, to);
                // The new type's storage strategy replaces the column's.
                let storage_reset = ColumnSettings { storage: None, ..from.settings.clone() };
                let after = if to.settings.storage.is_some() || from.settings.storage.is_some() {
                    &storage_reset
                } else {
                    &from.settings
                };
                change_settings(plan, new, to, after);
            }
            TableChange::ChangeColumnSettings(Pair { from, to }) if !retyped(from, to) => {
                change_settings(plan, new, to, &from.settings)
            }
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
                release(plan, to);
            }
            TableChange::ChangeIdentity(Pair { from, to }) => {
                change_identity(plan, new, from, to);
                let owned = |s: &&&Sequence| {
                    s.owned_by.as_ref().is_some_and(|(t, c)| *t == new.name && *c == to.name)
                };
                for sequence in kept.taking_names.iter().filter(owned).filter(|_| to.identity.is_none()) {
                    let source = SchemaChange::CreateSequence(Named::new(&sequence.schema, &sequence.name));
                    plan.push(&source, sequence.create_statement(), Lock::None, &[]);
                    let reference = quote_literal(&qualified(&sequence.schema, &sequence.name));
                    set_past_values(plan, &source, sequence, &reference, new, &to.name);
                }
            }
            TableChange::SetNotNull(column) if regenerated.is_empty() => {
                online::set_not_null(plan, new, column)
            }
            TableChange::SetNotNull(column) => not_null_later.push(*column),
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
        recreate_dependents(plan, &source, &column.name, old, new, kept);
    }
    online::add_foreign_keys_again(plan, hanging);
    for column in not_null_later {
        online::set_not_null(plan, new, column);
    }
}

/// An identity added (`ADD GENERATED`; its options and a sequence set past the column's values
/// follow once the table's columns are done, `plan::identity_sequences`), switched between
/// `ALWAYS` and `BY DEFAULT` (`SET GENERATED`), or dropped (`DROP IDENTITY`, which drops its
/// sequence): in place, never by dropping the column and its values.
fn change_identity(plan: &mut Builder, table: &Table, from: &Column, to: &Column) {
    let mode = |identity: Identity| match identity {
        Identity::Always => "ALWAYS",
        Identity::ByDefault => "BY DEFAULT",
    };
    let action = match (from.identity, to.identity) {
        (None, Some(identity)) => format!("ADD GENERATED {} AS IDENTITY", mode(identity)),
        (Some(_), Some(identity)) => format!("SET GENERATED {}", mode(identity)),
        (_, None) => "DROP IDENTITY".to_owned(),
    };
    plan.push(
        &SchemaChange::ChangeIdentity(OfTable::new(&table.schema, &table.name, &to.name)),
        format!("ALTER TABLE {} ALTER COLUMN {} {action}", table.qualified_name(), quote_ident(&to.name)),
        Lock::AccessExclusive,
        &[],
    );
}

/// `SELECT setval(...)` that sets `sequence` (as `reference`, SQL that names it) past the values
/// `column` of `table` holds, when one is at or past its start: a sequence that comes to number
/// a column with rows (an identity added, a serial column that was an identity) would otherwise
/// give a number a row already has.
pub(crate) fn set_past_values(
    plan: &mut Builder,
    source: &SchemaChange,
    sequence: &Sequence,
    reference: &str,
    table: &Table,
    column: &str,
) {
    let (aggregate, past) = if sequence.increment > 0 { ("max", ">=") } else { ("min", "<=") };
    let target = quote_ident(column);
    plan.push(
        source,
        format!(
            "SELECT setval({reference}, {aggregate}({target})) FROM {} HAVING {aggregate}({target}) {past} {}",
            table.qualified_name(),
            sequence.start
        ),
        Lock::AccessShare,
        &[Hazard::TableScan],
    );
}

/// `ALTER COLUMN ... TYPE`, its default dropped before and set again after (PostgreSQL would
/// otherwise try to cast the old default). Its hazard is what PostgreSQL does: a rewrite of the
/// table and its indexes unless the type change is free; a change of collation alone keeps the
/// table but builds every index on the column again, under the same ACCESS EXCLUSIVE lock.
fn alter_column_type(plan: &mut Builder, table: &Table, from: &Column, to: &Column, kept: &Kept) {
    let hazards: &[Hazard] = if haste_sql::type_change_rewrites(&from.data_type, &to.data_type) {
        &[Hazard::TableRewrite]
    } else if from.collation != to.collation && indexed(table, kept.indexes, &to.name) {
        &[Hazard::IndexBuild]
    } else {
        &[]
    };
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
        hazards,
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

/// Whether one of `indexes` (of `table`), or a key, unique or exclusion constraint of the
/// table, covers `column`: what an `ALTER COLUMN ... TYPE` builds again, a change of collation
/// alone too.
pub fn indexed(table: &Table, indexes: &[&Index], column: &str) -> bool {
    let involves = |repointed: haste_sql::Repointed| repointed != haste_sql::Repointed::Untouched;
    let name = table.qualified_name();
    indexes.iter().any(|index| involves(haste_sql::index_on(&index.definition, column, "x", "x")))
        || table.constraints.iter().any(|constraint| {
            constraint.kind.builds_index()
                && involves(haste_sql::constraint_on(&name, &constraint.definition, column, "x", "x"))
        })
}

/// The constraints, indexes and statistics objects on `column` that `DROP COLUMN` took along
/// (or cut down, for statistics over three columns or more) although both sides have them,
/// built again in the same transaction (the table is already locked for the rewrite that added
/// the column back). The table's own foreign keys on the column's key are among `hanging`,
/// added again after every regenerated column.
fn recreate_dependents(
    plan: &mut Builder,
    source: &SchemaChange,
    column: &str,
    old: &Table,
    table: &Table,
    kept: &Kept,
) {
    let name = table.qualified_name();
    let involves = |repointed: haste_sql::Repointed| repointed != haste_sql::Repointed::Untouched;
    let own = |constraint: &Constraint| {
        kept.hanging.iter().any(|(other, key)| table_key(other) == table_key(table) && *key == constraint)
    };
    for constraint in table.constraints.iter().filter(|c| old.constraints.contains(c) && !own(c)) {
        if involves(haste_sql::constraint_on(&name, &constraint.definition, column, "x", "x")) {
            let hazards: &[Hazard] = if constraint.kind.builds_index() {
                &[Hazard::TableScan, Hazard::IndexBuild]
            } else {
                &[Hazard::TableScan]
            };
            plan.push(source, table.add_constraint_statement(constraint), Lock::AccessExclusive, hazards);
        }
    }
    for index in kept.indexes {
        if involves(haste_sql::index_on(&index.definition, column, "x", "x")) {
            plan.push(source, index.definition.clone(), Lock::Share, &[Hazard::IndexBuild]);
        }
    }
    let reads = |statistics: &Statistics| {
        // Read as PostgreSQL's `quote_ident` writes them: quoted only when they must be.
        statistics.columns.iter().any(|c| *c == column || *c == quote_ident(column))
            || statistics.expressions.iter().any(|e| haste_sql::expression_reads(&table.name, e, column))
    };
    for statistics in kept.statistics.iter().filter(|s| reads(s)) {
        plan.push(source, statistics.drop_if_exists_statement(), Lock::ShareUpdateExclusive, &[]);
        plan.push(source, statistics.create_statement(), Lock::ShareUpdateExclusive, &[]);
    }
}

/// `ALTER COLUMN ... SET STATISTICS | STORAGE | COMPRESSION | (...)` from the settings `from` to
/// the column's: the statistics target and options under the lock `ANALYZE` takes, the others
/// under the table's exclusive lock (no rewrite: values already stored stay as they are).
pub(crate) fn change_settings(plan: &mut Builder, table: &Table, column: &Column, from: &ColumnSettings) {
    let source = SchemaChange::ChangeColumnSettings(OfTable::new(&table.schema, &table.name, &column.name));
    for (setting, statement) in column.settings_statements(&table.qualified_name(), from) {
        let lock = match setting {
            ColumnSetting::StatisticsTarget | ColumnSetting::Options => Lock::ShareUpdateExclusive,
            ColumnSetting::Storage | ColumnSetting::Compression => Lock::AccessExclusive,
        };
        plan.push(&source, statement, lock, &[]);
    }
}

/// The columns of a partition whose statistics target or storage its parent's change reached
/// (`SET STATISTICS` and `SET STORAGE` on a partitioned table reach its partitions; `SET
/// COMPRESSION` does not): set to the partition's own again where that differs. Runs after the
/// partition's own changes, which follow its parent's.
pub(crate) fn settings_reached_from_parent(
    plan: &mut Builder,
    from: &Schema,
    to: &Schema,
    old: &Table,
    new: &Table,
) {
    let (Some(old_parent), Some(new_parent)) = (partition_parent(from, old), partition_parent(to, new))
    else {
        return;
    };
    if table_key(old_parent) != table_key(new_parent) {
        return;
    }
    for column in &new.columns {
        let Some(before) = old.columns.iter().find(|c| c.name == column.name) else { continue };
        let settings_of =
            |table: &Table| table.columns.iter().find(|c| c.name == column.name).map(|c| c.settings.clone());
        let (Some(parent_before), Some(parent_after)) = (settings_of(old_parent), settings_of(new_parent))
        else {
            continue;
        };
        if retyped(before, column) || replaced(before, column) {
            continue;
        }
        let (own_before, own_after) = (&before.settings, &column.settings);
        // Its own statements (after its parent's) set what changed in it; the parent's reached
        // the rest.
        let reached = ColumnSettings {
            statistics_target: match own_before.statistics_target != own_after.statistics_target {
                true => own_after.statistics_target,
                false if parent_before.statistics_target != parent_after.statistics_target => {
                    parent_after.statistics_target
                }
                false => own_before.statistics_target,
            },
            storage: match own_before.storage != own_after.storage {
                true => own_after.storage,
                false if parent_before.storage != parent_after.storage => parent_after.storage,
                false => own_before.storage,
            },
            compression: own_after.compression,
            options: own_after.options.clone(),
        };
        change_settings(plan, new, column, &reached);
    }
}

/// The table of `schema` that `table` is a partition of.
fn partition_parent<'a>(schema: &'a Schema, table: &Table) -> Option<&'a Table> {
    schema.tables.iter().find(|parent| table.is_partition_of(parent))
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
    change_settings(plan, table, column, &ColumnSettings::default());
}
