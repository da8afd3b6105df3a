//! Column type changes that would rewrite their table, planned as expand and swap within one
//! deploy (the guide's recipe for `int` to `bigint`), so the application never waits behind a
//! rewrite; so is a change of collation alone of a column an index, key, unique or exclusion
//! constraint reads, which rewrites no table but builds each of those indexes again under
//! ACCESS EXCLUSIVE (the swap builds them concurrently on the new column instead), and an enum
//! that loses or reorders labels while it types one column of a table that exists and nothing
//! else names it (the new column takes a staging enum with the desired labels, created in the
//! expand; the swap drops the old enum and gives the staging one its name before the defaults
//! come back; the check refuses a row holding a removed label, by its label as text, since the
//! staging enum does not exist yet when the check runs):
//!
//! 0. check (first statement of the migration, after only its `--rename` hints, whose new
//!    names it reads; for a conversion that can fail: `bigint` to
//!    `integer`, `text` to `integer`, a shorter `varchar`, a smaller `numeric`): every row's
//!    value converted as the trigger converts it, under `ACCESS SHARE`; a row that does not
//!    convert fails the migration with the column, the count, the first key and a hint, before
//!    anything of it is applied;
//! 1. expand (with the migration's other changes): a new column of the new type, a trigger
//!    that fills it on every write (also in replica mode: see [`always_fires`]), a `NOT VALID` check for `NOT NULL` and `NOT VALID` copies
//!    of the column's foreign keys and `CHECK` constraints (the desired schema's check, so the
//!    new type's semantics, reading the new column: see below); `data.sql` fills the rows
//!    already there, in batches;
//! 2. prepare (each statement on its own): the checks and keys validated, the column's indexes
//!    and keys built again on the new column, concurrently;
//! 3. swap (one short transaction): the old column dropped, the new one takes its name,
//!    default, `NOT NULL`, keys, checks, index names, sequence, statistics objects, column
//!    settings (`SET STATISTICS`, `STORAGE`, `COMPRESSION`), views
//!    (materialized ones reading the column created again populated, with their indexes), the
//!    table's replica identity (its index may be a rebuilt key), and the privileges of the
//!    column and of the views it recreates (and, with owners compared, those views' owners);
//!    other tables' foreign keys, and
//!    the table's own, that reference the column (the ids running out: an `integer` primary key
//!    made `bigint`) are dropped before its key and added again `NOT VALID` on the new one;
//! 4. validate (each statement on its own, only when the swap re-added such keys): they are
//!    validated, a scan of the referencing table under `SHARE UPDATE EXCLUSIVE`.
//!
//! A referencing column whose type the migration also changes goes through its own expand
//! and swap, after the key's; one left as it is keeps its type (`integer` referencing
//! `bigint` is valid).
//!
//! When a conversion can fail, the trigger converts every write all the same, so from the
//! expand on an application write whose value does not convert is refused with the
//! conversion's error, as the new type refuses it after the swap (and as it would after an
//! in-place change). The alternative, storing `NULL` and letting a later validation find it,
//! was rejected: the swap cannot re-check the rows without a scan under its `ACCESS EXCLUSIVE`
//! lock, so a value would be lost or the deploy would fail after the application had already
//! written rows the new type cannot hold. Under concurrent writes every row is covered once:
//! rows there when the check's snapshot was taken were checked; rows written after the expand
//! committed went through the trigger (converted, or refused); rows written in between (while
//! the expand waited for its lock) are converted by `data.sql`, which stops on one that does
//! not convert, nothing stored for it, naming its key, until it is fixed and the deploy run
//! again (or the migration undone: its `down.sql`, then `resolve --rolled-back`). No row ever
//! gets a value other than its conversion. The check does not run after the trigger exists
//! instead: in the expand's transaction it would scan under `ACCESS EXCLUSIVE`, blocking the
//! application for the scan, and after it it would find the same row only with the expand
//! applied, as the backfill does.
//!
//! The trigger fires after the table's own `BEFORE` triggers ([`sync_trigger_name`]), so the
//! new column holds what they write. `data.sql` converts nothing itself: it touches each row in a
//! transaction it marks (`haste.backfill`), and the trigger converts the row and gives every
//! other column back its value ([`TableRetype::backfill_branch`]): the backfill changes nothing
//! the application reads, whatever the table's own triggers do (its `AFTER` triggers still see
//! one update per row, with no value changed). Triggers whose `UPDATE OF` list or `WHEN` names
//! the column are dropped and created again by the swap ([`TableRetype::carried_triggers`]).
//!
//! A `CHECK` on the column goes on the new column `NOT VALID` in the expand, after the trigger,
//! rather than in the prepare after the backfill. A `NOT VALID` check is enforced on every write,
//! and the trigger fills the new column on every write, so from the expand on an application
//! write whose converted value the new check refuses is refused: the policy of a conversion
//! that fails, and what the new column does after the swap (and an in-place change for every
//! row). For the same check on a type that keeps the values (`int` to `bigint`, a wider
//! `numeric`, a shorter `varchar` whose long values the conversion refuses anyway) no write the
//! old column accepts is refused. Only a conversion that changes a value (a smaller scale
//! rounds) can turn an accepted value into a refused one; added after the backfill instead,
//! the check would let such writes in during the whole backfill and the prepare's validation
//! would then fail with the expand applied and writes still coming. In the expand, data.sql's
//! `UPDATE` is checked too and stops on an old row the check refuses (fix it and deploy
//! again), so every row has passed the check when the prepare validates it. A check `NOT
//! VALID` or `NOT ENFORCED` in the desired schema, or one that reads two columns whose types
//! both change, is not carried.
//!
//! The swapped column moves to the end of the table (`SELECT *` order changes). A change that
//! cannot be carried (identity or generated columns, expressions of indexes and `EXCLUDE`
//! constraints that use the column, a key a partitioned table's foreign key references, which
//! PostgreSQL cannot add `NOT VALID`, no single-column primary key to walk, a `CHECK` of the
//! table left `NOT VALID`, against which the backfill's update of a row it was never validated
//! against would fail) is made in place, with the reason written in the migration.
//!
//! The swap's `down.sql` is the same recipe the other way ([`online_refill_steps`]): the type
//! change back to the old type planned here from the state after the swap (its check of every
//! row first, so a value the old type cannot hold stops the `down.sql` before anything of it is
//! done, naming the row's key), then the prepare's new column given back, filled in batches.
//! Where the type change back would be made in place, [`refill_steps`] is the way back, a
//! rewrite its file allows with the reason.

use haste_diff::{Hazard, Lock, SchemaChange, Step};
use haste_schema::{
    Column, Comment, CommentObject, Constraint, ConstraintKind, Index, OwnedObject, Owner, Privilege,
    PrivilegeObject, ReplicaIdentity, Schema, Table, TableKind, Trigger, TriggerFiring, View, qualified,
};
use haste_sql::{Repointed, dollar_quote, quote_ident, quote_literal, truncate_ident, unused_ident};

use crate::draft::{Draft, Refill};

/// One column whose type changes.
struct Retyped {
    old: Column,
    new: Column,
    /// The column that takes the new type until the swap.
    temporary: String,
    /// Whether some values of the old type may not convert (`bigint` to `integer`, `text` to
    /// `integer`, a shorter `varchar`, a smaller `numeric`): the expand checks every row first.
    can_fail: bool,
    /// An enum rebuilt (labels removed or reordered): the new column takes the staging enum
    /// (`new.data_type`), which the swap puts in the old one's place.
    rebuilt_enum: Option<RebuiltEnum>,
}

/// An enum that lost or reordered labels, typing one column of a table that exists: rebuilt
/// by the expand and swap rather than by converting the column in place under ACCESS EXCLUSIVE.
#[derive(Clone)]
struct RebuiltEnum {
    /// The enum, qualified and quoted.
    name: String,
    /// Its schema and name, unquoted; the staging enum takes the name in the swap.
    bare: (String, String),
    /// The staging enum's name, unquoted: it holds the desired labels until the swap.
    staged: String,
    /// The desired labels.
    labels: Vec<String>,
}

/// The enums that lose or reorder labels and can be rebuilt through the expand and swap: each
/// types exactly one column of a table that exists, as one value (not an array), and nothing
/// else names it (another column, a domain, a composite type, a view, a constraint or index of
/// the table: those need it converted in place, where the planner rebuilds it whole). Keyed by
/// `(schema, table, column)`.
fn rebuilt_enums(history: &Schema, desired: &Schema) -> Vec<((String, String, String), RebuiltEnum)> {
    let comparison = haste_diff::compare(history, desired);
    let mut found = Vec::new();
    for change in &comparison.changes {
        let haste_diff::ObjectChange::RebuildEnum(haste_diff::Pair { to: item, .. }) = change else {
            continue;
        };
        let (schema, name) = (item.schema.as_str(), item.name.as_str());
        let typed = |data_type: &str| haste_schema::type_is(data_type, schema, name);
        let uses: Vec<(&Table, &Column)> = desired
            .tables
            .iter()
            .flat_map(|t| t.columns.iter().filter(|c| typed(&c.data_type).is_some()).map(move |c| (t, c)))
            .collect();
        let [(table, column)] = uses.as_slice() else { continue };
        let names_it = |statement: &str| {
            haste_sql::type_names(statement).is_none_or(|names| names.iter().any(|n| n == name))
        };
        let on_table = |schema: &str, relation: &str| schema == table.schema && relation == table.name;
        let elsewhere = typed(&column.data_type) == Some(true)
            || desired.domains.iter().any(|d| typed(&d.base_type).is_some())
            || desired.composites.iter().any(|c| c.attributes.iter().any(|a| typed(&a.data_type).is_some()))
            || desired.views.iter().any(|v| names_it(&v.definition))
            || table
                .constraints
                .iter()
                .any(|c| names_it(&format!("ALTER TABLE x ADD CONSTRAINT x {}", c.definition)))
            || desired.indexes.iter().any(|i| on_table(&i.schema, &i.table) && names_it(&i.definition));
        let existing = history.tables.iter().find(|t| same_table(t, table)).is_some_and(|before| {
            before.columns.iter().any(|c| c.name == column.name && typed(&c.data_type) == Some(false))
        });
        if elsewhere || !existing {
            continue;
        }
        let taken = |candidate: &str| {
            [history, desired].iter().any(|side| {
                side.enums.iter().any(|e| e.schema == schema && e.name == candidate)
                    || side.composites.iter().any(|c| c.schema == schema && c.name == candidate)
                    || side.domains.iter().any(|d| d.schema == schema && d.name == candidate)
                    || side.tables.iter().any(|t| t.schema == schema && t.name == candidate)
                    || side.views.iter().any(|v| v.schema == schema && v.name == candidate)
            })
        };
        found.push((
            (table.schema.clone(), table.name.clone(), column.name.clone()),
            RebuiltEnum {
                name: qualified(schema, name),
                bare: (schema.to_owned(), name.to_owned()),
                staged: unused_ident(name, "_new", taken),
                labels: item.values.clone(),
            },
        ));
    }
    found
}

/// The type changes of one table.
struct TableRetype {
    /// The table as the migration leaves it.
    table: Table,
    columns: Vec<Retyped>,
    /// The key the backfill walks.
    key: String,
    /// The sync trigger's name (see [`sync_trigger_name`]).
    trigger: String,
    /// The checks that every row converts, before anything else of the migration.
    checks: Vec<Step>,
    expand: Vec<Step>,
    prepare: Vec<Step>,
    swap: Vec<Step>,
    /// Other tables' foreign keys on the swapped columns, re-added `NOT VALID` by the swap.
    validate: Vec<Step>,
    /// The names of the constraints and indexes made up so far for the new columns.
    made_up: Vec<String>,
    /// The materialized views the swap creates and populates again, qualified.
    repopulated: Vec<String>,
    /// Every constraint and index name of the schemas the plan was made from: what depends on
    /// an old column under another name was added after the plan, and the swap refuses to drop
    /// it silently (see [`TableRetype::unknown_dependents`]).
    known: Vec<String>,
    /// Planned as the way back over a swap, in its `down.sql` ([`online_refill_steps`]): what a
    /// row that does not convert asks of the person is said for `migrate down`.
    undoing: bool,
}

/// The rewriting type changes of a migration.
pub(crate) struct Retypes {
    /// The desired schema with every column planned here held at its old definition: the
    /// migration's other changes are planned against it.
    pub(crate) held: Schema,
    tables: Vec<TableRetype>,
    /// Type changes made in place, each with the reason.
    pub(crate) in_place: Vec<String>,
}

/// The settings a type conversion may read.
const CONVERSION_SETTINGS: [&str; 5] =
    ["TimeZone", "DateStyle", "IntervalStyle", "extra_float_digits", "bytea_output"];

fn step(sql: String, lock: Lock, hazards: &[Hazard], alone: bool) -> Step {
    Step { sql, lock, hazards: hazards.to_vec(), alone, source: SchemaChange::Custom }
}

/// Validating a constraint added `NOT VALID`: a scan that lets reads and writes through, on
/// its own.
fn validate(table: &str, constraint: &str) -> Step {
    step(
        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}"),
        Lock::ShareUpdateExclusive,
        &[Hazard::TableScan],
        true,
    )
}

/// A sync trigger fires also for writes made with `session_replication_role = replica` (a
/// logical replication subscriber's apply, a restore with triggers off): an ordinary trigger
/// skips them, and the swap would then give such a row the value its new column had before
/// the write, silently.
pub(crate) fn always_fires(table: &str, trigger: &str) -> Step {
    step(format!("ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}"), Lock::ShareRowExclusive, &[], false)
}

/// How many `z`s (or `0`s) a sync trigger's name may take before its base name to sort last
/// (or first).
const MAX_LEADING_PAD: usize = 8;

/// The names of the triggers of `schema`.`table` in either schema.
fn trigger_names<'a>(history: &'a Schema, desired: &'a Schema, schema: &str, table: &str) -> Vec<&'a str> {
    [history, desired]
        .into_iter()
        .flat_map(|model| model.triggers.iter())
        .filter(|trigger| trigger.schema == schema && trigger.table == table)
        .map(|trigger| trigger.name.as_str())
        .collect()
}

/// `base`, or with as many `pad`s before it as it takes to sort after (`later`) or before every
/// name of `others`; `None` when none of them does.
fn padded_name(others: &[&str], base: &str, pad: char, later: bool) -> Option<String> {
    (0..=MAX_LEADING_PAD).map(|n| truncate_ident(&format!("{}{base}", pad.to_string().repeat(n)), "")).find(
        |name| others.iter().all(|other| if later { *other < name.as_str() } else { *other > name.as_str() }),
    )
}

/// The name of a trigger that keeps columns of `schema`.`table` in sync: one that sorts after
/// every other trigger of the table in either schema. PostgreSQL fires a table's `BEFORE ROW`
/// triggers in the byte order of their names (it reads them through `pg_trigger`'s index on
/// the name, whose type compares as `C`), so the sync trigger copies the row as the table's
/// own triggers leave it: fired before a `set_updated_at`, it would copy the value that trigger
/// then replaces in one column only, and the other would keep the value from before.
/// `base`, or with as many `z`s before it as that takes; `None` when no such name sorts after
/// them all (one beginning past `z`). A type change's backfill checks the live table again
/// ([`TableRetype::fires_last_check`]): a trigger added there by hand is not in these schemas.
pub(crate) fn fires_last_name(
    history: &Schema,
    desired: &Schema,
    schema: &str,
    table: &str,
    base: &str,
) -> Option<String> {
    padded_name(&trigger_names(history, desired, schema, table), base, 'z', true)
}

/// The name of a trigger of `schema`.`table` that sorts, and so fires, before every other
/// trigger of the table in either schema (see [`fires_last_name`]): `base` with as many `0`s
/// before it as that takes (at least one: `0` sorts before every letter and `_`); `None` when
/// no such name sorts before them all (one beginning with a byte below `0`).
pub(crate) fn fires_first_name(
    history: &Schema,
    desired: &Schema,
    schema: &str,
    table: &str,
    base: &str,
) -> Option<String> {
    padded_name(&trigger_names(history, desired, schema, table), &format!("0{base}"), '0', false)
}

/// The name of the trigger that keeps the new columns of `table` filled (see
/// [`fires_last_name`]): `haste_retype_<table>`, or with `z`s before it.
fn sync_trigger_name(history: &Schema, desired: &Schema, table: &Table) -> Option<String> {
    fires_last_name(history, desired, &table.schema, &table.name, &format!("haste_retype_{}", table.name))
}

/// `UPDATE` of `table` setting `assignments` where `condition` holds, in a transaction whose
/// `setting` names the table: a sync trigger then knows the update is haste's fill of its rows.
/// The marking subquery is joined: its one row, and so the setting, exists before the first row
/// of the table reaches the update and fires the triggers.
pub(crate) fn marked_update(table: &str, setting: &str, assignments: &str, condition: &str) -> String {
    format!(
        "UPDATE {table} SET {assignments}\n  FROM (SELECT set_config({}, {}, true) AS haste_backfill_marked) AS haste_backfill\n  WHERE {condition}",
        quote_literal(setting),
        quote_literal(table),
    )
}

/// The setting data.sql sets, in the transaction of each batch, to the table it fills: the
/// sync trigger then keeps every value the application reads as it was (see
/// [`TableRetype::backfill_branch`]).
const BACKFILL_SETTING: &str = "haste.backfill";

fn same_table(a: &Table, b: &Table) -> bool {
    a.schema == b.schema && a.name == b.name
}

/// The single-column primary key a data step can walk.
pub(crate) fn walk_key(table: &Table) -> Option<String> {
    let key = table.constraints.iter().find(|c| c.kind == ConstraintKind::PrimaryKey)?;
    match key.columns.as_slice() {
        [column] => Some(column.clone()),
        _ => None,
    }
}

/// A column's type as written, with its collation when it has one of its own.
fn type_text(column: &Column) -> String {
    match &column.collation {
        Some(collation) => format!("{} COLLATE {collation}", column.data_type),
        None => column.data_type.clone(),
    }
}

/// What a type change made in place costs: a rewrite, or (the collation alone) its indexes.
fn in_place_cost(old: &Column, new: &Column) -> &'static str {
    match haste_sql::type_change_rewrites(&old.data_type, &new.data_type) {
        true => "rewrites the table",
        false => "builds the column's indexes again under ACCESS EXCLUSIVE",
    }
}

/// Finds the rewriting type changes from `history` to `desired` and plans each one it can.
pub(crate) fn plan(history: &Schema, desired: &Schema) -> Retypes {
    plan_directed(history, desired, false)
}

/// [`plan`], as the migration (`undoing` false) or as the way back over a swap in its
/// `down.sql`.
fn plan_directed(history: &Schema, desired: &Schema, undoing: bool) -> Retypes {
    let mut held = desired.clone();
    let enums = rebuilt_enums(history, desired);
    let rebuilt = |table: &Table, column: &str| {
        enums
            .iter()
            .find(|((schema, name, c), _)| *schema == table.schema && *name == table.name && c == column)
            .map(|(_, rebuilt)| rebuilt.clone())
    };
    let mut tables = Vec::new();
    let mut in_place = Vec::new();
    for table in &desired.tables {
        let Some(before) = history.tables.iter().find(|t| same_table(t, table)) else { continue };
        // A change of collation alone keeps the table but builds the column's indexes again
        // under ACCESS EXCLUSIVE: built concurrently on a new column instead, as for a rewrite.
        let indexes: Vec<&Index> =
            desired.indexes.iter().filter(|i| i.schema == table.schema && i.table == table.name).collect();
        let changed: Vec<(&Column, &Column)> = table
            .columns
            .iter()
            .filter_map(|new| Some((before.columns.iter().find(|c| c.name == new.name)?, new)))
            .filter(|(old, new)| {
                (old.identity.is_none() && new.identity.is_none() && old.generated == new.generated)
                    && (haste_sql::type_change_rewrites(&old.data_type, &new.data_type)
                        || (old.collation != new.collation
                            && haste_diff::indexed(table, &indexes, &new.name))
                        || rebuilt(table, &new.name).is_some())
            })
            .collect();
        if changed.is_empty() {
            continue;
        }
        let key = walk_key(before);
        let mut columns = Vec::new();
        for (old, new) in changed {
            let reason = match (&table.kind, &key) {
                (TableKind::Partitioned { .. }, _) => Some("the table is partitioned"),
                _ if table.partition_of.is_some() => Some("the table is a partition"),
                (_, None) => Some("the table has no single-column primary key to fill the new column by"),
                _ if old.generated.is_some() => Some("the column is generated"),
                _ => blocker(desired, table, &old.name),
            };
            match reason {
                Some(reason) => in_place.push(format!(
                    "the type change of {}.{} ({} to {}) {} in place: {reason}",
                    table.qualified_name(),
                    quote_ident(&old.name),
                    type_text(old),
                    type_text(new),
                    in_place_cost(old, new)
                )),
                None => columns.push(Retyped {
                    old: old.clone(),
                    new: match rebuilt(table, &new.name) {
                        Some(rebuilt) => {
                            Column { data_type: qualified(&rebuilt.bare.0, &rebuilt.staged), ..new.clone() }
                        }
                        None => new.clone(),
                    },
                    rebuilt_enum: rebuilt(table, &new.name),
                    temporary: unused_ident(&old.name, "_haste_new", |name| {
                        [before, table].iter().any(|t| t.columns.iter().any(|c| c.name == name))
                            || columns.iter().any(|c: &Retyped| c.temporary == name)
                    }),
                    can_fail: rebuilt(table, &new.name).is_some()
                        || !haste_sql::conversion_cannot_fail(&old.data_type, &new.data_type),
                }),
            }
        }
        if let Some(shared) = shared_by_two(desired, table, &columns) {
            in_place.extend(columns.drain(..).map(|column| {
                format!(
                    "the type change of {}.{} {} in place: {shared} uses two columns whose types change",
                    table.qualified_name(),
                    quote_ident(&column.old.name),
                    in_place_cost(&column.old, &column.new)
                )
            }));
        }
        if columns.is_empty() {
            continue;
        }
        let Some(trigger) = sync_trigger_name(history, desired, table) else {
            in_place.extend(columns.iter().map(|column| {
                format!(
                    "the type change of {}.{} rewrites the table in place: a trigger of the table sorts after every name haste can give its sync trigger, which must fire last",
                    table.qualified_name(),
                    quote_ident(&column.old.name)
                )
            }));
            continue;
        };
        let held_table = held.tables.iter_mut().find(|t| same_table(t, table)).expect("the same schema");
        for column in &columns {
            if let Some(slot) = held_table.columns.iter_mut().find(|c| c.name == column.old.name) {
                *slot = column.old.clone();
            }
        }
        // The old columns keep their own checks until the swap drops them with the columns: the
        // desired ones are written for the new types (`c >= 0::numeric` cannot go on a `text`
        // column) and go on the new columns.
        let qualified_table = table.qualified_name();
        let reads_old = |constraint: &Constraint| {
            constraint.kind == ConstraintKind::Check
                && columns.iter().any(|column| {
                    haste_sql::constraint_on(
                        &qualified_table,
                        &constraint.definition,
                        &column.old.name,
                        "x",
                        "x",
                    ) != Repointed::Untouched
                })
        };
        let swapped: Vec<String> = held_table
            .constraints
            .iter()
            .filter(|constraint| reads_old(constraint))
            .map(|constraint| constraint.name.clone())
            .collect();
        held_table.constraints.retain(|constraint| !reads_old(constraint));
        let mut kept_old = Vec::new();
        for old_check in before.constraints.iter().filter(|constraint| reads_old(constraint)) {
            if !held_table.constraints.iter().any(|constraint| constraint.name == old_check.name) {
                held_table.constraints.push(old_check.clone());
                kept_old.push(old_check.name.clone());
            }
        }
        // Comments follow their constraints: a desired check the swap adds gets its comment
        // there (commented now, it does not exist yet under its name), an old one kept keeps
        // the comment it has.
        let on_constraint = |comment: &Comment, names: &[String]| {
            comment.object == CommentObject::Constraint
                && comment.schema == table.schema
                && comment.name == table.name
                && comment.part.as_ref().is_some_and(|part| names.contains(part))
        };
        held.comments
            .retain(|comment| !on_constraint(comment, &swapped) && !on_constraint(comment, &kept_old));
        held.comments
            .extend(history.comments.iter().filter(|comment| on_constraint(comment, &kept_old)).cloned());
        let mut retype = TableRetype {
            table: table.clone(),
            columns,
            key: key.expect("checked above"),
            trigger,
            checks: Vec::new(),
            expand: Vec::new(),
            prepare: Vec::new(),
            swap: Vec::new(),
            validate: Vec::new(),
            made_up: Vec::new(),
            repopulated: Vec::new(),
            known: known_dependents(history, desired, table),
            undoing,
        };
        // An enum rebuilt through the swap keeps its labels until then, beside its staging enum
        // with the desired ones, which the expand creates.
        for rebuilt in retype.columns.iter().filter_map(|column| column.rebuilt_enum.as_ref()) {
            let (schema, name) = &rebuilt.bare;
            if let (Some(kept), Some(old)) = (
                held.enums.iter_mut().find(|e| &e.schema == schema && &e.name == name),
                history.enums.iter().find(|e| &e.schema == schema && &e.name == name),
            ) {
                kept.values.clone_from(&old.values);
            }
            held.enums.push(haste_schema::Enum {
                schema: schema.clone(),
                name: rebuilt.staged.clone(),
                values: rebuilt.labels.clone(),
            });
        }
        retype.plan(desired);
        tables.push(retype);
    }
    Retypes { held, tables, in_place }
}

/// The names of what may depend on a column of `table` in either schema: its constraints,
/// indexes and statistics objects, and the foreign keys of other tables naming it (more than those referencing it:
/// a name too many only lets the swap through as before).
fn known_dependents(history: &Schema, desired: &Schema, table: &Table) -> Vec<String> {
    let mut known: Vec<String> = [history, desired]
        .iter()
        .flat_map(|schema| {
            let constraints = schema.tables.iter().flat_map(|other| {
                other
                    .constraints
                    .iter()
                    .filter(move |c| {
                        same_table(other, table)
                            || c.references.as_ref().is_some_and(|target| {
                                target.schema == table.schema && target.table == table.name
                            })
                    })
                    .map(|c| c.name.clone())
            });
            let indexes = schema
                .indexes
                .iter()
                .filter(|i| i.schema == table.schema && i.table == table.name)
                .map(|i| i.name.clone());
            let statistics = schema
                .statistics
                .iter()
                .filter(|s| s.table_schema == table.schema && s.table == table.name)
                .map(|s| s.name.clone());
            constraints.chain(indexes).chain(statistics).collect::<Vec<_>>()
        })
        .collect();
    known.sort();
    known.dedup();
    known
}

/// The privileges `desired` gives the relation `schema.name`: on `column` only, or (no column)
/// on the relation and every column of it.
fn privileges_on<'a>(
    desired: &'a Schema,
    schema: &'a str,
    name: &'a str,
    column: Option<&'a str>,
) -> impl Iterator<Item = &'a Privilege> {
    desired.privileges.iter().filter(move |p| {
        p.object == PrivilegeObject::Table
            && p.schema == schema
            && p.name == name
            && column.is_none_or(|column| p.column.as_deref() == Some(column))
    })
}

/// Why the column cannot be re-pointed, if it cannot.
fn blocker(desired: &Schema, table: &Table, column: &str) -> Option<&'static str> {
    let qualified_table = table.qualified_name();
    for constraint in &table.constraints {
        if let Repointed::Unsupported(reason) =
            haste_sql::constraint_on(&qualified_table, &constraint.definition, column, "x", "x")
        {
            return Some(reason);
        }
    }
    for index in desired.indexes.iter().filter(|i| i.schema == table.schema && i.table == table.name) {
        if let Repointed::Unsupported(reason) = haste_sql::index_on(&index.definition, column, "x", "x") {
            return Some(reason);
        }
    }
    // The backfill's UPDATE of every row is checked against every CHECK of the table, an
    // unvalidated one too: a row it was never validated against would stop the backfill, while
    // a change in place checks no constraint that does not read the column.
    let unvalidated = table.constraints.iter().any(|c| c.kind == ConstraintKind::Check && !c.validated);
    if unvalidated {
        return Some(
            "a CHECK constraint NOT VALID on the table would refuse the backfill's update of a row it was never validated against",
        );
    }
    // PostgreSQL cannot add the swap's NOT VALID foreign key to a partitioned table.
    if referencing(desired, table, column)
        .any(|(other, _)| matches!(other.kind, TableKind::Partitioned { .. }))
    {
        return Some("a foreign key of a partitioned table references the column");
    }
    // What the swap's DROP COLUMN would refuse to drop without CASCADE, and cannot re-point.
    let on_table = |schema: &str, name: &str| schema == table.schema && name == table.name;
    // An expression of the table, read as a query of it (a policy's statement hides its table
    // from the parse-tree walk).
    let reads = |expression: &str| haste_sql::expression_reads(&table.name, expression, column);
    if table.columns.iter().filter_map(|c| c.generated.as_deref()).any(reads) {
        return Some("a generated column reads the column");
    }
    let policy = desired
        .policies
        .iter()
        .filter(|p| on_table(&p.schema, &p.table))
        .flat_map(|policy| [policy.using.as_deref(), policy.with_check.as_deref()])
        .flatten()
        .any(reads);
    policy.then_some("a row-level security policy reads the column")
}

/// The foreign keys of other tables that reference `column` of `table`: the swap drops them
/// before the key they hang on and adds them again, `NOT VALID`, on the new column.
fn referencing<'a>(
    desired: &'a Schema,
    table: &'a Table,
    column: &'a str,
) -> impl Iterator<Item = (&'a Table, &'a Constraint)> {
    desired.tables.iter().filter(move |other| !same_table(other, table)).flat_map(move |other| {
        other
            .constraints
            .iter()
            .filter(move |c| {
                c.kind == ConstraintKind::ForeignKey
                    && c.references_column(&table.schema, &table.name, column)
            })
            .map(move |c| (other, c))
    })
}

/// A key or index of `table` that two of the columns take part in (it cannot be built on two
/// replacements one column at a time), named for people.
fn shared_by_two(desired: &Schema, table: &Table, columns: &[Retyped]) -> Option<String> {
    let qualified_table = table.qualified_name();
    let uses = |repoint: &dyn Fn(&str) -> Repointed| {
        columns.iter().filter(|column| matches!(repoint(&column.old.name), Repointed::Statement(_))).count()
            > 1
    };
    table
        .constraints
        .iter()
        .find(|c| uses(&|column| haste_sql::constraint_on(&qualified_table, &c.definition, column, "x", "x")))
        .map(|c| format!("constraint {}", quote_ident(&c.name)))
        .or_else(|| {
            desired
                .indexes
                .iter()
                .filter(|i| i.schema == table.schema && i.table == table.name)
                .find(|i| uses(&|column| haste_sql::index_on(&i.definition, column, "x", "x")))
                .map(|i| format!("index {}", quote_ident(&i.name)))
        })
}

impl TableRetype {
    fn name(&self) -> String {
        self.table.qualified_name()
    }

    /// A free name for a constraint or index of the new columns: none of the table's
    /// constraints, none of the schema's relations (a key's index is one), none made up before
    /// (the caller keeps it in `made_up` once it uses it).
    fn free_name(&self, desired: &Schema, stem: &str, suffix: &str) -> String {
        let schema = &self.table.schema;
        unused_ident(stem, suffix, |name| {
            let constraint = desired
                .tables
                .iter()
                .filter(|t| &t.schema == schema)
                .any(|t| t.name == name || t.constraints.iter().any(|c| c.name == name));
            let relation = desired.indexes.iter().any(|i| &i.schema == schema && i.name == name)
                || desired.views.iter().any(|v| &v.schema == schema && v.name == name)
                || desired.sequences.iter().any(|q| &q.schema == schema && q.name == name);
            constraint || relation || self.made_up.iter().any(|made| made == name)
        })
    }

    fn sync_function(&self) -> String {
        qualified(&self.table.schema, &truncate_ident(&format!("haste_retype_{}", self.table.name), ""))
    }

    fn sync_trigger(&self) -> String {
        quote_ident(&self.trigger)
    }

    /// The sync function's check, once per batch of the backfill (before its first row): a
    /// `BEFORE ROW` trigger of the live table whose name sorts after the sync trigger (added by
    /// hand, not in the schemas the plan was made from) fires after it, and the new column would
    /// miss what it writes. The backfill stops, naming it; renamed to sort first, the next
    /// deploy walks the table from its first key and converts every row again (a batch that
    /// fails records no progress). Checked in the backfill, not by a `DO` block in the expand:
    /// that would make the expand's transaction one that holds its lock through a statement
    /// whose duration cannot be told, never safe to `migrate plan`.
    fn fires_last_check(&self) -> String {
        let (table, trigger) = (quote_literal(&self.name()), quote_literal(&self.trigger));
        format!(
            "    IF current_setting({checked}, true) IS DISTINCT FROM 'on' THEN
      SELECT string_agg(quote_ident(tgname), ', ' ORDER BY tgname) INTO later FROM pg_trigger
       WHERE tgrelid = {table}::regclass AND NOT tgisinternal
         AND tgtype::integer & 3 = 3 AND tgname > {trigger}::name AND tgname !~ {rename_sync};
      IF later IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
          MESSAGE = format({message}, {table}, {trigger}, later),
          DETAIL = {detail},
          HINT = {hint};
      END IF;
      PERFORM set_config({checked}, 'on', true);
    END IF;
",
            checked = quote_literal(&format!("{BACKFILL_SETTING}_checked")),
            // The sync triggers of a rename's expand (`expand.rs`) copy between the two names of
            // a renamed column, never a retyped one (a column both renamed and retyped is
            // refused): the order between them and this one does not matter.
            rename_sync = quote_literal("^z*haste_sync_"),
            message =
                quote_literal("BEFORE ROW triggers of %s fire after the type change's sync trigger %s: %s"),
            detail = quote_literal(
                "PostgreSQL fires a table's BEFORE ROW triggers in the order of their names: the new column would not hold what they write"
            ),
            hint = quote_literal(
                "they are not in the schema this migration was planned for: rename them to sort before it (ALTER TRIGGER ... RENAME TO), then deploy again: the backfill converts every row"
            ),
        )
    }

    /// The sync function's first part: an `UPDATE` from haste's own backfill (data.sql sets
    /// [`BACKFILL_SETTING`] to this table in its batch's transaction, and fires this trigger
    /// directly, `pg_trigger_depth() = 1`) gets back every value it had (`NEW := OLD`) before
    /// the new columns are converted. The table's own `BEFORE` triggers, which fired first (this
    /// one fires last: [`sync_trigger_name`]), changed nothing then: the backfill leaves every
    /// value the application reads as it was (a `set_updated_at` does not date every row). The
    /// depth keeps an update a user trigger makes of another row, or another table's sync, as
    /// written. A value that does not convert (a row written while the expand waited for its
    /// lock, which the check before it could not see) stops the batch with the row's key.
    fn backfill_branch(&self) -> String {
        let mut converted = String::new();
        for column in &self.columns {
            let temporary = quote_ident(&column.temporary);
            let assignment = format!("NEW.{temporary} := {};", self.converted(column, "NEW."));
            if !column.can_fail {
                converted.push_str(&format!("    {assignment}\n"));
                continue;
            }
            // A subtransaction per row of the backfill that writes nothing (no transaction id),
            // so none of the cost of subtransactions that write.
            converted.push_str(&format!(
                "    BEGIN
      {assignment}
    EXCEPTION WHEN data_exception THEN
      RAISE EXCEPTION USING ERRCODE = SQLSTATE,
        MESSAGE = format('the row of %s whose %s = %s does not convert to %s (%s): %s',
          {table}, {key_name}, OLD.{key}, {type_name}, {column}, SQLERRM),
        HINT = {hint};
    END;
",
                table = quote_literal(&self.name()),
                key_name = quote_literal(&quote_ident(&self.key)),
                key = quote_ident(&self.key),
                type_name = quote_literal(&column.new.data_type),
                column = quote_literal(&quote_ident(&column.old.name)),
                hint = quote_literal(match self.undoing {
                    false => {
                        "it was written while the migration waited for its lock, after the check of every row: change or delete it (the application's writes are converted by now: a value that converts is accepted), then deploy again and the backfill resumes; or give the type change up: run the migration's down.sql, then migrate resolve --rolled-back <migration>"
                    }
                    true => {
                        "it was written while down.sql waited for its lock, after the check of every row: change or delete it (the application's writes are converted by now), then run the rest of down.sql from this statement by hand (each statement after the fill is as written) and migrate resolve --rolled-back <migration>; or keep the migration: undo the statements of down.sql before this one by hand, then migrate resolve --applied <migration>"
                    }
                }),
            ));
        }
        format!(
            "  IF TG_OP = 'UPDATE' AND pg_trigger_depth() = 1
     AND current_setting({setting}, true) = {table} THEN
{check}    NEW := OLD;
{converted}    RETURN NEW;
  END IF;
",
            setting = quote_literal(BACKFILL_SETTING),
            table = quote_literal(&self.name()),
            check = self.fires_last_check(),
        )
    }

    /// The old value of each column as the new type stores it (never cut to a shorter length),
    /// as the trigger and the backfill compute it.
    fn converted(&self, column: &Retyped, row: &str) -> String {
        let value = format!("{row}{}", quote_ident(&column.old.name));
        match column.rebuilt_enum {
            // No cast between two enums: through the label.
            Some(_) => format!("{value}::text::{}", column.new.data_type),
            None => haste_sql::conversion(&value, &column.new.data_type),
        }
    }

    /// The expand's first statement for a conversion that can fail: every row's value converted
    /// as the trigger converts it (a PL/pgSQL assignment to the new type, which refuses a value
    /// that does not fit its length as the column does). When one does not convert, the rows are
    /// counted and the first key named, and the migration fails before anything is applied.
    /// Only the failure walks the rows one by one (a subtransaction each).
    fn precheck(&self, column: &Retyped) -> Step {
        let (table, key, old) = (self.name(), quote_ident(&self.key), quote_ident(&column.old.name));
        // A staging enum is created after the checks, with the migration's other changes: its
        // labels are checked as text, with the error its cast gives.
        let (new_type, type_name, assign) = match &column.rebuilt_enum {
            Some(rebuilt) => {
                let labels: Vec<String> = rebuilt.labels.iter().map(|label| quote_literal(label)).collect();
                (
                    "text".to_owned(),
                    rebuilt.name.clone(),
                    format!(
                        "converted := checked.{old}::text;
      IF converted <> ALL (ARRAY[{}]::text[]) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_text_representation',
          MESSAGE = format('invalid input value for enum %s: \"%s\"', {}, converted);
      END IF;",
                        labels.join(", "),
                        quote_literal(&rebuilt.name)
                    ),
                )
            }
            None => (
                column.new.data_type.clone(),
                column.new.data_type.clone(),
                format!("converted := {};", self.converted(column, "checked.")),
            ),
        };
        let body = format!(
            "
#variable_conflict use_column
DECLARE
  converted {new_type};
  checked record;
  failing bigint := 0;
  first_key text;
  first_error text;
  first_state text;
BEGIN
  BEGIN
    FOR checked IN SELECT {old} FROM {table} LOOP
      {assign}
    END LOOP;
    RETURN;
  EXCEPTION WHEN data_exception THEN
    NULL;
  END;
  FOR checked IN SELECT {key}::text AS haste_key, {old} FROM {table} ORDER BY {key} LOOP
    BEGIN
      {assign}
    EXCEPTION WHEN data_exception THEN
      failing := failing + 1;
      IF first_key IS NULL THEN
        first_key := checked.haste_key;
        first_error := SQLERRM;
        first_state := SQLSTATE;
      END IF;
    END;
  END LOOP;
  IF failing > 0 THEN
    RAISE EXCEPTION USING ERRCODE = first_state,
      MESSAGE = format('%s row(s) of %s do not convert to %s; nothing of this {what} was applied',
        failing, {column}, {type_name}),
      DETAIL = format('The first by %s: %s = %s: %s', {key_name}, {key_name}, first_key, first_error),
      HINT = {hint};
  END IF;
END
",
            what = if self.undoing { "down.sql" } else { "migration" },
            column = quote_literal(&format!("{table}.{old}")),
            type_name = quote_literal(&type_name),
            key_name = quote_literal(&self.key),
            hint = quote_literal(match self.undoing {
                false => {
                    "change or delete those rows so that every value converts (a type change in place would refuse them too), then deploy again"
                }
                true => {
                    "the old type cannot hold them: change or delete those rows so that every value converts back, then run migrate down again (the migration is still applied)"
                }
            }),
        );
        step(format!("DO {}", dollar_quote(&body)), Lock::AccessShare, &[Hazard::TableScan], false)
    }

    fn plan(&mut self, desired: &Schema) {
        let name = self.name();
        let mut assignments = String::new();
        let checks: Vec<Step> = self
            .columns
            .iter()
            .filter(|column| column.can_fail)
            .map(|column| self.precheck(column))
            .collect();
        self.checks = checks;
        for column in &self.columns {
            let temporary = quote_ident(&column.temporary);
            let collate = column.new.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
            self.expand.push(step(
                format!("ALTER TABLE {name} ADD COLUMN {temporary} {}{collate}", column.new.data_type),
                Lock::AccessExclusive,
                &[],
                false,
            ));
            assignments.push_str(&format!("  NEW.{temporary} := {};\n", self.converted(column, "NEW.")));
        }
        let function = self.sync_function();
        // A conversion can read the session's settings (`timestamp` to `timestamptz` its time
        // zone, text to a date its `DateStyle`, a float to text its digits): the trigger
        // converts with the deploy's settings, as data.sql does and as a change in place would
        // for every row, not with those of each application session that writes.
        let settings: String =
            CONVERSION_SETTINGS.iter().map(|name| format!(" SET {name} FROM CURRENT")).collect();
        self.expand.push(step(
            format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql{settings} AS {}",
                dollar_quote(&format!(
                    "\nDECLARE\n  later text;\nBEGIN\n{}{assignments}  RETURN NEW;\nEND\n",
                    self.backfill_branch()
                ))
            ),
            Lock::None,
            &[],
            false,
        ));
        self.expand.push(step(
            format!(
                "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {name} FOR EACH ROW EXECUTE FUNCTION {function}()",
                self.sync_trigger()
            ),
            Lock::ShareRowExclusive,
            &[],
            false,
        ));
        self.expand.push(always_fires(&name, &self.sync_trigger()));

        // The views first: their readers lock a view before its table, and a swap that held
        // the table while it waited for a view would hold up the table's every user for as
        // long, and time out on every attempt under a steady stream of such readers.
        let views = self.recreated_views(desired);
        for view in views.iter().rev() {
            let kind = if view.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
            self.swap.push(step(
                format!("DROP {kind} {}", qualified(&view.schema, &view.name)),
                Lock::AccessExclusive,
                &[],
                false,
            ));
        }
        self.swap.push(step(
            format!("DROP TRIGGER {} ON {name}", self.sync_trigger()),
            Lock::AccessExclusive,
            &[],
            false,
        ));
        self.swap.push(step(format!("DROP FUNCTION {function}()"), Lock::None, &[], false));
        let carried = self.carried_triggers(desired);
        for trigger in &carried {
            self.swap.push(step(
                format!("DROP TRIGGER {} ON {name}", quote_ident(&trigger.name)),
                Lock::AccessExclusive,
                &[],
                false,
            ));
        }
        let mut after_swap = Vec::new();
        // The table's own foreign keys on a swapped key (`parent_id` referencing `id`) go first,
        // before any column they hang on or read, and come back as other tables' keys do.
        let own: Vec<Constraint> =
            self.table.constraints.iter().filter(|c| self.self_referencing(c)).cloned().collect();
        let table = self.table.clone();
        let readded: Vec<Step> = own.iter().map(|key| self.repoint_foreign_key(&table, key)).collect();
        let columns = std::mem::take(&mut self.columns);
        for column in &columns {
            self.plan_column(desired, column, &own, &mut after_swap);
        }
        self.columns = columns;
        after_swap.extend(readded);
        // Dropping the old column took the statistics objects over it along.
        for statistics in desired
            .statistics
            .iter()
            .filter(|s| s.table_schema == self.table.schema && s.table == self.table.name)
        {
            after_swap.push(step(
                statistics.create_if_missing_statement(),
                Lock::ShareUpdateExclusive,
                &[],
                false,
            ));
        }
        // The swap recreates the keys and indexes over the retyped columns; the identity's
        // index may be one of them, and the table's identity went with the old one: name it
        // again (the swap holds the table's lock already).
        if let Some(wanted) = desired.tables.iter().find(|t| same_table(t, &self.table))
            && matches!(wanted.replica_identity, ReplicaIdentity::Index(_))
        {
            after_swap.push(step(wanted.replica_identity_statement(), Lock::AccessExclusive, &[], false));
        }
        // So may the index `CLUSTER` orders the table by, which takes its mark along.
        if let Some(wanted) = desired.tables.iter().find(|t| same_table(t, &self.table))
            && wanted.clustered_on.is_some()
        {
            after_swap.push(step(wanted.cluster_statement(), Lock::ShareUpdateExclusive, &[], false));
        }
        for trigger in &carried {
            after_swap.push(step(trigger.definition.clone(), Lock::ShareRowExclusive, &[], false));
            if trigger.firing != TriggerFiring::Origin {
                after_swap.push(step(trigger.firing_statement(), Lock::ShareRowExclusive, &[], false));
            }
        }
        // The old enum types nothing any more: the staging one takes its name, before the
        // defaults and views that name it come back.
        for rebuilt in self.columns.iter().filter_map(|column| column.rebuilt_enum.as_ref()) {
            self.swap.push(step(format!("DROP TYPE {}", rebuilt.name), Lock::None, &[], false));
            self.swap.push(step(
                format!(
                    "ALTER TYPE {} RENAME TO {}",
                    qualified(&rebuilt.bare.0, &rebuilt.staged),
                    quote_ident(&rebuilt.bare.1)
                ),
                Lock::None,
                &[],
                false,
            ));
        }
        self.swap.extend(after_swap);
        for view in &views {
            // A materialized view is populated here (its query runs under the swap's lock), and
            // its indexes come back with it: new in this transaction, nobody waits on them.
            let hazards: &[Hazard] = if view.materialized { &[Hazard::TableScan] } else { &[] };
            if view.materialized {
                self.repopulated.push(qualified(&view.schema, &view.name));
            }
            for statement in view.create_statements() {
                self.swap.push(step(statement, Lock::None, hazards, false));
            }
            for index in desired.indexes.iter().filter(|i| i.schema == view.schema && i.table == view.name) {
                self.swap.push(step(index.definition.clone(), Lock::None, &[Hazard::IndexBuild], false));
            }
            // In the swap's transaction: a role reading the view never finds it without its grant.
            for privilege in privileges_on(desired, &view.schema, &view.name, None) {
                self.swap.push(step(privilege.apply_statement(), Lock::None, &[], false));
            }
            // The view belongs to the role creating it again: with owners compared, its owner is
            // given back after the grants (which that role gives as owner), as the planner does.
            let of_view = |owner: &&Owner| {
                matches!(owner.object, OwnedObject::View | OwnedObject::MaterializedView)
                    && owner.schema == view.schema
                    && owner.name == view.name
            };
            for owner in desired.owners.iter().filter(of_view) {
                self.swap.push(step(owner.apply_statement(), Lock::None, &[], false));
            }
        }
        // The views, and the table's keys and indexes, built again took their comments along.
        let on_table = |schema: &str, name: &str| self.table.schema == schema && self.table.name == name;
        let rebuilt = |comment: &Comment| match comment.object {
            CommentObject::View | CommentObject::MaterializedView => {
                views.iter().any(|v| v.schema == comment.schema && v.name == comment.name)
            }
            CommentObject::Index => desired.indexes.iter().any(|index| {
                index.schema == comment.schema
                    && index.name == comment.name
                    && (on_table(&index.schema, &index.table)
                        || views.iter().any(|v| v.schema == index.schema && v.name == index.table))
            }),
            CommentObject::Constraint => on_table(&comment.schema, &comment.name),
            CommentObject::Trigger => {
                on_table(&comment.schema, &comment.name)
                    && carried.iter().any(|trigger| comment.part.as_ref() == Some(&trigger.name))
            }
            _ => false,
        };
        let comments: Vec<Step> = desired
            .comments
            .iter()
            .filter(|comment| rebuilt(comment))
            .map(|comment| {
                step(comment.statement(Some(&comment.text)), Lock::ShareUpdateExclusive, &[], false)
            })
            .collect();
        self.swap.extend(comments);
    }

    /// The table's triggers on a swapped column (its `UPDATE OF` list names it, or its `WHEN`
    /// reads it), which PostgreSQL would refuse to drop the column under: the swap drops them
    /// before the old column and creates them again, as the desired schema has them, on the new
    /// one once it has the name, under the swap's lock (no write comes in between).
    fn carried_triggers<'a>(&self, desired: &'a Schema) -> Vec<&'a Trigger> {
        desired
            .triggers
            .iter()
            .filter(|trigger| trigger.schema == self.table.schema && trigger.table == self.table.name)
            .filter(|trigger| {
                self.columns.iter().any(|column| {
                    haste_sql::trigger_reads(&trigger.definition, &self.table.name, &column.old.name)
                })
            })
            .collect()
    }

    /// The views the swap drops first and creates again last, in creation order. When a view
    /// reads a swapped column, every plain view goes, as the planner recreates views (a view
    /// reading that view would block its drop), and with them each materialized view that reads
    /// a swapped column or a view that goes (or whose query cannot be read): those are populated
    /// again in the swap, so the others are left alone.
    fn recreated_views<'a>(&self, desired: &'a Schema) -> Vec<&'a View> {
        let reads_column = |view: &View| {
            self.columns.iter().any(|c| haste_sql::mentions(&view.definition, &self.table.name, &c.old.name))
        };
        if !desired.views.iter().any(reads_column) {
            return Vec::new();
        }
        let mut going: Vec<&View> =
            desired.views.iter().filter(|view| !view.materialized || reads_column(view)).collect();
        loop {
            let reads_going = |view: &View| {
                haste_sql::relations(&view.definition)
                    .is_none_or(|names| going.iter().any(|gone| names.contains(&gone.name)))
            };
            let more: Vec<&View> = desired
                .views
                .iter()
                .filter(|view| view.materialized && !going.contains(view) && reads_going(view))
                .collect();
            if more.is_empty() {
                break;
            }
            going.extend(more);
        }
        desired.views.iter().filter(|view| going.contains(view)).collect()
    }

    /// Whether `constraint` is a foreign key of the table on one of its own swapped columns.
    fn self_referencing(&self, constraint: &Constraint) -> bool {
        constraint.kind == ConstraintKind::ForeignKey
            && self.columns.iter().any(|column| {
                constraint.references_column(&self.table.schema, &self.table.name, &column.old.name)
            })
    }

    /// A foreign key of `other` that hangs on a swapped key: the swap drops it before the key
    /// and adds it again (the returned step), `NOT VALID` since every row already passed it,
    /// once the key is on the new column; the validate migration validates it.
    fn repoint_foreign_key(&mut self, other: &Table, foreign_key: &Constraint) -> Step {
        let (other_name, quoted) = (other.qualified_name(), quote_ident(&foreign_key.name));
        self.swap.push(step(
            format!("ALTER TABLE {other_name} DROP CONSTRAINT {quoted}"),
            Lock::AccessExclusive,
            &[],
            false,
        ));
        self.validate.push(validate(&other_name, &quoted));
        step(
            format!("ALTER TABLE {other_name} ADD CONSTRAINT {quoted} {} NOT VALID", foreign_key.definition),
            Lock::ShareRowExclusive,
            &[],
            false,
        )
    }

    /// The steps of one column; `after_swap` collects what needs the new column under its name.
    /// `own`: the table's foreign keys on its swapped columns, carried apart.
    fn plan_column(
        &mut self,
        desired: &Schema,
        column: &Retyped,
        own: &[Constraint],
        after_swap: &mut Vec<Step>,
    ) {
        let name = self.name();
        let (old, temporary) = (quote_ident(&column.old.name), quote_ident(&column.temporary));
        if column.new.not_null {
            let check = self.free_name(desired, &column.temporary, "_not_null");
            self.made_up.push(check.clone());
            let check = quote_ident(&check);
            self.expand.push(step(
                format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {check} CHECK ({temporary} IS NOT NULL) NOT VALID"
                ),
                Lock::AccessExclusive,
                &[],
                false,
            ));
            self.prepare.push(validate(&name, &check));
            after_swap.push(step(
                format!("ALTER TABLE {name} ALTER COLUMN {old} SET NOT NULL"),
                Lock::AccessExclusive,
                &[],
                false,
            ));
            after_swap.push(step(
                format!("ALTER TABLE {name} DROP CONSTRAINT {check}"),
                Lock::AccessExclusive,
                &[],
                false,
            ));
        }
        if let Some(default) = &column.new.default {
            after_swap.push(step(
                format!("ALTER TABLE {name} ALTER COLUMN {old} SET DEFAULT {default}"),
                Lock::AccessExclusive,
                &[],
                false,
            ));
        }
        // The old column's privileges went with it.
        for privilege in privileges_on(desired, &self.table.schema, &self.table.name, Some(&column.old.name))
        {
            after_swap.push(step(privilege.apply_statement(), Lock::None, &[], false));
        }
        if let Some(comment) = &column.new.comment {
            after_swap.push(step(
                format!("COMMENT ON COLUMN {name}.{old} IS {}", quote_literal(comment)),
                Lock::ShareUpdateExclusive,
                &[],
                false,
            ));
        }
        for sequence in desired.sequences.iter().filter(|s| {
            s.schema == self.table.schema
                && s.owned_by == Some((self.table.name.clone(), column.old.name.clone()))
        }) {
            self.swap.push(step(
                format!(
                    "ALTER SEQUENCE {} OWNED BY {name}.{temporary}",
                    qualified(&sequence.schema, &sequence.name)
                ),
                Lock::None,
                &[],
                false,
            ));
        }
        // Other tables' foreign keys hang on the old column's key: they go before it and come
        // back, NOT VALID (every row already passed them), once the key is on the new column.
        let referencing: Vec<(Table, Constraint)> = referencing(desired, &self.table, &column.old.name)
            .map(|(other, foreign_key)| (other.clone(), foreign_key.clone()))
            .collect();
        let readded: Vec<Step> = referencing
            .iter()
            .map(|(other, foreign_key)| self.repoint_foreign_key(other, foreign_key))
            .collect();
        // Foreign keys first: a key they would hang on is dropped after them.
        let mut constraints = self.table.constraints.clone();
        constraints.sort_by_key(|c| c.kind != ConstraintKind::ForeignKey);
        for constraint in constraints.iter().filter(|c| !own.contains(c)) {
            let replacement = self.free_name(desired, &constraint.name, "_haste_new");
            let Repointed::Statement(sql) = haste_sql::constraint_on(
                &name,
                &constraint.definition,
                &column.old.name,
                &column.temporary,
                &replacement,
            ) else {
                continue;
            };
            self.made_up.push(replacement.clone());
            let (quoted, replacement) = (quote_ident(&constraint.name), quote_ident(&replacement));
            // The old column's checks (its own, not these: see `plan`) go with it.
            if constraint.kind != ConstraintKind::Check {
                self.swap.push(step(
                    format!("ALTER TABLE {name} DROP CONSTRAINT {quoted}"),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            }
            if matches!(constraint.kind, ConstraintKind::ForeignKey | ConstraintKind::Check) {
                // A check goes on in the expand, after the trigger (see the module's notes).
                let lock = match constraint.kind {
                    ConstraintKind::Check => Lock::AccessExclusive,
                    _ => Lock::ShareRowExclusive,
                };
                self.expand.push(step(sql, lock, &[], false));
                self.prepare.push(validate(&name, &replacement));
                after_swap.push(step(
                    format!("ALTER TABLE {name} RENAME CONSTRAINT {replacement} TO {quoted}"),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            } else {
                self.prepare.push(step(sql, Lock::ShareUpdateExclusive, &[Hazard::IndexBuild], true));
                after_swap.push(step(
                    format!(
                        "ALTER TABLE {name} ADD CONSTRAINT {quoted} {} USING INDEX {replacement}",
                        constraint.kind.keyword()
                    ),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            }
        }
        let (schema, table) = (self.table.schema.clone(), self.table.name.clone());
        for index in desired.indexes.iter().filter(|i| i.schema == schema && i.table == table) {
            let replacement = self.free_name(desired, &index.name, "_haste_new");
            if let Repointed::Statement(sql) =
                haste_sql::index_on(&index.definition, &column.old.name, &column.temporary, &replacement)
            {
                self.made_up.push(replacement.clone());
                self.prepare.push(step(sql, Lock::ShareUpdateExclusive, &[Hazard::IndexBuild], true));
                after_swap.push(step(
                    format!(
                        "ALTER INDEX {} RENAME TO {}",
                        qualified(&index.schema, &replacement),
                        quote_ident(&index.name)
                    ),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            }
        }
        after_swap.extend(readded);
        self.swap.push(self.unknown_dependents(column));
        self.swap.push(step(
            format!("ALTER TABLE {name} DROP COLUMN {old}"),
            Lock::AccessExclusive,
            &[],
            false,
        ));
        self.swap.push(step(
            format!("ALTER TABLE {name} RENAME COLUMN {temporary} TO {old}"),
            Lock::AccessExclusive,
            &[],
            false,
        ));
        // The new column was added with the defaults: it takes the desired statistics target,
        // storage and compression (no rewrite: values already stored stay as they are).
        let defaults = haste_schema::ColumnSettings::default();
        for (_, statement) in column.new.settings_statements(&name, &defaults) {
            self.swap.push(step(statement, Lock::AccessExclusive, &[], false));
        }
    }

    /// Before the swap drops the old column: an index, constraint or statistics object on it
    /// that the plan does not know (made by hand after the migration was written: a hotfix
    /// index, a check, `CREATE STATISTICS`) would go with the column without a word, and the deploy would report success. It stops the
    /// swap instead (2BP01, the names in the detail), as PostgreSQL stops it for a view. So
    /// does a table made to inherit from it (`INHERITS`, which the plan refuses, added by hand):
    /// the trigger and the copy fill the new column of the parent's own rows only, and the
    /// swap would replace the child's values with nothing.
    fn unknown_dependents(&self, column: &Retyped) -> Step {
        let table = quote_literal(&self.name());
        let attnum = format!(
            "(SELECT attnum FROM pg_attribute WHERE attrelid = {table}::regclass AND attname = {})",
            quote_literal(&column.old.name)
        );
        let known: Vec<String> = self.known.iter().map(|name| quote_literal(name)).collect();
        let body = format!(
            "
DECLARE
  unknown text;
BEGIN
  SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) INTO unknown
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = {table}::regclass AND NOT c.relispartition;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
      MESSAGE = format('cannot swap column %s of %s: tables the migration was not planned with inherit it', {column}, {table}),
      DETAIL = format('%s inherit its columns, and their rows were never copied to the new column: the swap would lose their values', unknown);
  END IF;
  SELECT string_agg(name, ', ' ORDER BY name) INTO unknown FROM (
    SELECT c.relname::text AS name FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND c.relkind IN ('i', 'I')
       AND d.refclassid = 'pg_class'::regclass AND d.refobjid = {table}::regclass AND d.refobjsubid = {attnum}
    UNION
    SELECT con.conname::text FROM pg_depend d JOIN pg_constraint con ON con.oid = d.objid
     WHERE d.classid = 'pg_constraint'::regclass AND con.contype <> 'n'
       AND d.refclassid = 'pg_class'::regclass AND d.refobjid = {table}::regclass AND d.refobjsubid = {attnum}
    UNION
    SELECT s.stxname::text FROM pg_depend d JOIN pg_statistic_ext s ON s.oid = d.objid
     WHERE d.classid = 'pg_statistic_ext'::regclass
       AND d.refclassid = 'pg_class'::regclass AND d.refobjid = {table}::regclass AND d.refobjsubid = {attnum}
  ) dependents
  WHERE name <> ALL (ARRAY[{known}]::text[]);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
      MESSAGE = format('cannot drop column %s of %s: indexes, constraints or statistics objects the migration was not planned with depend on it', {column}, {table}),
      DETAIL = format('%s depend on it and would be dropped with it', unknown);
  END IF;
  SELECT string_agg(quote_ident(p.pubname), ', ' ORDER BY p.pubname) INTO unknown
    FROM pg_depend d JOIN pg_publication_rel r ON r.oid = d.objid JOIN pg_publication p ON p.oid = r.prpubid
   WHERE d.classid = 'pg_publication_rel'::regclass
     AND d.refclassid = 'pg_class'::regclass AND d.refobjid = {table}::regclass AND d.refobjsubid = {attnum};
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
      MESSAGE = format('cannot swap column %s of %s: the column list of publication %s names it', {column}, {table}, unknown),
      DETAIL = 'haste does not model publications, and PostgreSQL refuses to drop a column a publication''s column list or row filter names: take the column out of the publication (ALTER PUBLICATION ... SET TABLE), deploy again, then add it back.';
  END IF;
END
",
            known = known.join(", "),
            column = quote_literal(&column.old.name),
        );
        step(format!("DO {}", dollar_quote(&body)), Lock::None, &[], false)
    }

    /// `data.sql`: the rows already there, in batches over the primary key; `data.down.sql`
    /// the same copy the other way (when it runs, the reverted swap has given the old columns
    /// their values back, so it finds nothing left to copy unless a write slipped through).
    fn data(&self) -> (String, String) {
        let name = self.name();
        let header = haste_migrations::data_header(&self.table.schema, &self.table.name, &self.key);
        let copy = |target: &dyn Fn(&Retyped) -> (String, String)| {
            let (mut set, mut differ) = (Vec::new(), Vec::new());
            for column in &self.columns {
                let (to, value) = target(column);
                set.push(format!("{to} = {value}"));
                differ.push(format!("{to} IS DISTINCT FROM {value}"));
            }
            format!(
                "{header}\nUPDATE {name} SET {} WHERE :range AND ({});\n",
                set.join(", "),
                differ.join(" OR ")
            )
        };
        // The trigger converts each row (and names the row that does not convert); the update
        // only touches it, in a transaction marked as haste's backfill of this table.
        let touched: Vec<String> = self
            .columns
            .iter()
            .map(|column| format!("{temporary} = {temporary}", temporary = quote_ident(&column.temporary)))
            .collect();
        let fill =
            format!("{header}\n{};\n", marked_update(&name, BACKFILL_SETTING, &touched.join(", "), ":range"));
        (
            fill,
            copy(&|column| {
                let value = match column.rebuilt_enum {
                    Some(_) => format!("{}::text::{}", quote_ident(&column.temporary), column.old.data_type),
                    None => haste_sql::conversion(&quote_ident(&column.temporary), &column.old.data_type),
                };
                (quote_ident(&column.old.name), value)
            }),
        )
    }

    /// For the summary: the application writes the trigger refuses until the swap.
    fn refused_writes(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|column| column.can_fail)
            .map(|column| {
                format!(
                    "{}.{}: from the expand on, a write whose value does not convert to {} is refused (as after the swap)",
                    self.name(),
                    quote_ident(&column.old.name),
                    column.new.data_type
                )
            })
            .collect()
    }

    fn describe(&self) -> String {
        self.columns
            .iter()
            .map(|c| {
                format!("{}.{}: {} -> {}", self.table.name, c.old.name, type_text(&c.old), type_text(&c.new))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl TableRetype {
    fn refills(&self) -> Vec<Refill> {
        self.columns
            .iter()
            .map(|column| Refill {
                schema: self.table.schema.clone(),
                table: self.table.name.clone(),
                old: column.old.name.clone(),
                column: column.temporary.clone(),
                value: self.converted(column, ""),
            })
            .collect()
    }
}

/// `previous` without the checks on the new columns a swap's `down.sql` brings back: they
/// return once the columns are filled again.
fn without_refilled_checks(previous: &Schema, refills: &[Refill]) -> Schema {
    let mut relaxed = previous.clone();
    for refill in refills {
        let Some(table) =
            relaxed.tables.iter_mut().find(|t| t.schema == refill.schema && t.name == refill.table)
        else {
            continue;
        };
        let name = table.qualified_name();
        table.constraints.retain(|constraint| {
            haste_sql::constraint_on(&name, &constraint.definition, &refill.column, "x", "x")
                == Repointed::Untouched
        });
    }
    relaxed
}

/// The way back over a swap: the new columns return empty and without their checks and keys,
/// are filled from the old ones, and only then get their checks and keys back; a plain diff
/// would validate a `NOT NULL` check on an empty column and fail on any row. This form changes
/// the old columns' types back in place (a rewrite under ACCESS EXCLUSIVE): it is the way back
/// only where [`online_refill_steps`] has none, and its file says so.
pub(crate) fn refill_steps(current: &Schema, previous: &Schema, refills: &[Refill]) -> Vec<Step> {
    let relaxed = without_refilled_checks(previous, refills);
    let online = haste_diff::Options { online: true };
    // The sync trigger comes back firing `ALWAYS` with the diff: the model holds its firing.
    let mut steps = haste_diff::diff(current, &relaxed, &online).steps;
    for refill in refills {
        let column = quote_ident(&refill.column);
        steps.push(step(
            format!(
                "UPDATE {} SET {column} = {} WHERE {column} IS DISTINCT FROM {}",
                qualified(&refill.schema, &refill.table),
                refill.value,
                refill.value
            ),
            Lock::None,
            &[Hazard::TableScan],
            false,
        ));
    }
    steps.extend(haste_diff::diff(&relaxed, previous, &online).steps);
    steps
}

/// How many rows each transaction of a `down.sql`'s fill updates.
const DOWN_FILL_BATCH: u32 = 1000;

/// A `DO` block that touches the rows of `table` whose `pending` condition holds, in batches of
/// [`DOWN_FILL_BATCH`] over its single-column key `key`, each batch in a transaction marked as
/// haste's backfill of the table (the sync trigger converts the row and keeps every other value,
/// as for `data.sql`) and committed before the next: no transaction holds more than a batch's
/// row locks. A `down.sql` has no data step of its own (`data.down.sql` runs before it, when
/// the columns to fill do not exist yet), so the batches are a loop of the server's, which may
/// `COMMIT` in a `DO` block run on its own. Run again after a lock timeout, it skips the rows
/// filled already (`pending` no longer holds for them).
fn batched_fill(table: &Table, key: &str, touched: &[String], pending: &[String]) -> Step {
    let name = table.qualified_name();
    let key = quote_ident(key);
    let condition = format!(
        "(haste_last IS NULL OR {key} > haste_last) AND {key} <= haste_next AND ({})",
        pending.join(" OR ")
    );
    let body = format!(
        "
#variable_conflict use_variable
DECLARE
  haste_last {name}.{key}%TYPE;
  haste_next {name}.{key}%TYPE;
BEGIN
  LOOP
    SELECT max(haste_batch.haste_key) INTO haste_next
      FROM (SELECT {key} AS haste_key FROM {name} WHERE haste_last IS NULL OR {key} > haste_last ORDER BY {key} LIMIT {DOWN_FILL_BATCH}) AS haste_batch;
    EXIT WHEN haste_next IS NULL;
    {};
    COMMIT;
    haste_last := haste_next;
  END LOOP;
END
",
        marked_update(&name, BACKFILL_SETTING, &touched.join(", "), &condition)
    );
    step(format!("DO {}", dollar_quote(&body)), Lock::RowExclusive, &[Hazard::TableScan], true)
}

/// `steps` as a file that runs them as written: each run of statements that need not run alone
/// in one `BEGIN` ... `COMMIT` block, the others on their own.
fn in_blocks(steps: Vec<Step>) -> Vec<Step> {
    let mut written = Vec::new();
    let mut block: Vec<Step> = Vec::new();
    let close = |block: &mut Vec<Step>, written: &mut Vec<Step>| {
        if block.is_empty() {
            return;
        }
        written.push(step("BEGIN".into(), Lock::None, &[], false));
        written.append(block);
        written.push(step("COMMIT".into(), Lock::None, &[], false));
    };
    for step in steps {
        if step.alone {
            close(&mut block, &mut written);
            written.push(step);
        } else {
            block.push(step);
        }
    }
    close(&mut block, &mut written);
    written
}

/// The way back over a swap without rewriting the table, where the type changes back can be
/// planned as type changes themselves (see the module's header for what cannot): the swap is
/// undone by a swap. From the state after the swap, a type change of each swapped column back
/// to its old type is planned as the expand, its fill, the prepare and the swap of this module
/// (the conversions that can fail checked over every row first, before anything changes, the
/// first row that does not convert named by its key), then the new columns come back as the
/// expand and prepare left them (empty, filled in batches, then their checks and keys). Each
/// column is copied twice, never rewritten under ACCESS EXCLUSIVE, and no transaction holds the
/// table longer than a swap or a batch. Renaming the new-type column back instead of copying it
/// again would save the second copy, but needs a swap of its own that moves every key,
/// reference, view and trigger to the column under its other name, which this module's swap
/// already does, checked, for the way there. `None` where a type change back would be made in
/// place (its reason is the module's), is none this module plans (an enum rebuilt), or where a
/// `CHECK` reads the column (written for one type or the other): the caller then writes
/// [`refill_steps`].
/// The steps, and the notes of the file (what it allows of the lint, and why).
pub(crate) fn online_refill_steps(
    current: &Schema,
    previous: &Schema,
    refills: &[Refill],
) -> Option<(Vec<Step>, Vec<String>)> {
    // The state the swap started from, but for the new columns and what they carry: the swapped
    // columns at their old definitions.
    let mut restored = current.clone();
    for refill in refills {
        let old = previous
            .tables
            .iter()
            .find(|t| t.schema == refill.schema && t.name == refill.table)?
            .columns
            .iter()
            .find(|c| c.name == refill.old)?;
        let table =
            restored.tables.iter_mut().find(|t| t.schema == refill.schema && t.name == refill.table)?;
        *table.columns.iter_mut().find(|c| c.name == refill.old)? = old.clone();
    }
    // A `CHECK` on a swapped column is written for one of the two types, before the swap and
    // after it (the prepare's copy on the new column is the one after it, under a name of its
    // own): it is not carried back here.
    let checked = |schema: &Schema, refill: &Refill| {
        schema.tables.iter().filter(|t| t.schema == refill.schema && t.name == refill.table).any(|table| {
            let name = table.qualified_name();
            table.constraints.iter().any(|constraint| {
                constraint.kind == ConstraintKind::Check
                    && haste_sql::constraint_on(&name, &constraint.definition, &refill.old, "x", "x")
                        != Repointed::Untouched
            })
        })
    };
    if refills.iter().any(|refill| checked(current, refill) || checked(previous, refill)) {
        return None;
    }
    let back = plan_directed(current, &restored, true);
    let planned_back = |refill: &Refill| {
        back.tables.iter().any(|table| {
            table.table.schema == refill.schema
                && table.table.name == refill.table
                && table.columns.iter().any(|c| c.old.name == refill.old && c.rebuilt_enum.is_none())
        })
    };
    if !back.in_place.is_empty() || !refills.iter().all(planned_back) {
        return None;
    }
    let mut steps: Vec<Step> = back.tables.iter().flat_map(|table| table.checks.iter().cloned()).collect();
    for table in &back.tables {
        let mut part = table.expand.clone();
        let temporaries: Vec<String> =
            table.columns.iter().map(|column| quote_ident(&column.temporary)).collect();
        part.push(batched_fill(
            &table.table,
            &table.key,
            &temporaries.iter().map(|t| format!("{t} = {t}")).collect::<Vec<_>>(),
            &temporaries.iter().map(|t| format!("{t} IS NULL")).collect::<Vec<_>>(),
        ));
        part.extend(table.prepare.iter().cloned());
        part.extend(table.swap.iter().cloned());
        part.extend(table.validate.iter().cloned());
        steps.extend(part);
    }
    // Then the new columns as the prepare left them: added empty, filled in batches, checked.
    let relaxed = without_refilled_checks(previous, refills);
    let online = haste_diff::Options { online: true };
    steps.extend(haste_diff::diff(&restored, &relaxed, &online).steps);
    for table in &back.tables {
        let refilled: Vec<String> = refills
            .iter()
            .filter(|r| r.schema == table.table.schema && r.table == table.table.name)
            .map(|r| quote_ident(&r.column))
            .collect();
        steps.push(batched_fill(
            &table.table,
            &table.key,
            &refilled.iter().map(|c| format!("{c} = {c}")).collect::<Vec<_>>(),
            &refilled.iter().map(|c| format!("{c} IS NULL")).collect::<Vec<_>>(),
        ));
    }
    steps.extend(haste_diff::diff(&relaxed, previous, &online).steps);
    let notes = vec![
        "Undoes the swap without rewriting the table: the columns go back to their old types by a type change".into(),
        "of their own (a new column filled by a trigger and in batches, its indexes built concurrently, a short".into(),
        "swap), then the columns of the new type come back as the prepare left them, filled in batches again.".into(),
        "Blocks between BEGIN and COMMIT commit whole; every other statement commits on its own.".into(),
        "haste:allow-file drop-column reason=\"the column of the new type, whose every value was converted to the old type first; the prepare's column of the new type comes back, filled again\"".into(),
        "haste:allow-file rename-column reason=\"the column of the old type takes its name back: the application sees no rename\"".into(),
    ];
    Some((in_blocks(steps), notes))
}

impl Retypes {
    /// Whether nothing is planned here.
    pub(crate) fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Two tables whose type changes a foreign key links (the first references the second),
    /// qualified: a key from a retyped column to a retyped column. Within one deploy the
    /// referenced table's swap comes before the referencing table's expand, whose copy of the
    /// key then references the swapped column; moved to a later release, the swap would find
    /// that copy on the column it drops. (A key from a column that keeps its type is re-added
    /// by the referenced table's swap, as in one deploy.)
    pub(crate) fn linked(&self) -> Option<(String, String)> {
        let retyped = |table: &TableRetype, names: &[String]| {
            table.columns.iter().any(|column| names.contains(&column.old.name))
        };
        self.tables.iter().find_map(|referencing| {
            let target = referencing.table.constraints.iter().find_map(|constraint| {
                let target = constraint.references.as_ref()?;
                if !retyped(referencing, &constraint.columns) {
                    return None;
                }
                self.tables.iter().find(|referenced| {
                    !same_table(&referenced.table, &referencing.table)
                        && target.schema == referenced.table.schema
                        && target.table == referenced.table.name
                        && retyped(referenced, &target.columns)
                })
            })?;
            Some((referencing.name(), target.name()))
        })
    }

    /// The migrations after `first` (the migration's other changes, which the first table's
    /// expand joins): per table, its expand (with `data.sql`), its prepare and its swap, all
    /// applied by one deploy.
    /// `renames`: how many of `first`'s steps are renames from hints, which come first.
    pub(crate) fn drafts(self, mut first: Draft, name: &str, renames: usize) -> Vec<Draft> {
        let mut drafts = Vec::new();
        // Every check before anything else of the migration, so that a row that does not
        // convert leaves nothing applied, also in a file whose statements run one by one. Only
        // renames from hints go before them: the checks read the columns by their new names
        // (and then scan under the renames' lock).
        let checks: Vec<Step> = self.tables.iter().flat_map(|table| table.checks.iter().cloned()).collect();
        first.up.splice(renames..renames, checks);
        first.warnings.extend(self.tables.iter().flat_map(TableRetype::refused_writes));
        for (index, table) in self.tables.into_iter().enumerate() {
            let changes = table.describe();
            let data = table.data();
            let refills = table.refills();
            let suffix = |part: &str| match index {
                0 => format!("_{part}"),
                _ => format!("_{part}_{}", table.table.name),
            };
            let mut expand_notes = vec![
                format!("Type change without a table rewrite ({changes}): a new column, kept filled by a trigger;"),
                "data.sql fills the rows already there in batches; the migrations that follow swap the columns.".into(),
                "data.sql only touches each row: the trigger converts it and keeps every other value as it was (the".into(),
                "table's own BEFORE triggers change nothing; its AFTER triggers fire once per row, seeing no value change).".into(),
            ];
            if table.columns.iter().any(|column| column.can_fail) {
                expand_notes.extend([
                    "Some values may not convert: the first statement converts every row and, if one does not, fails the".into(),
                    "migration before anything is applied. From this migration on, the trigger converts every write: a".into(),
                    "write whose value does not convert is refused, as the new type refuses it after the swap (a row written".into(),
                    "while this migration waited for its lock stops data.sql the same way: fix it and deploy again).".into(),
                ]);
            }
            if index == 0 {
                first.notes.extend(expand_notes);
                first.up.extend(table.expand);
                first.data = Some(data);
                drafts.push(first);
                first = Draft::empty(String::new(), String::new());
            } else {
                let mut expand = Draft::empty(suffix("expand"), format!("{name} (expand {changes})"));
                expand.notes = expand_notes;
                expand.up = table.expand;
                expand.data = Some(data);
                drafts.push(expand);
            }
            if !table.prepare.is_empty() {
                let mut prepare = Draft::empty(suffix("prepare"), format!("{name} (prepare {changes})"));
                prepare.notes = vec![
                    "Validates and builds, on the new columns, what the swap attaches; each on its own."
                        .into(),
                ];
                prepare.up = table.prepare;
                drafts.push(prepare);
            }
            let mut swap = Draft::empty(suffix("swap"), format!("{name} (swap {changes})"));
            swap.notes = vec![
                "One short transaction: the new columns take the old ones' names, defaults, keys and indexes.".into(),
                "haste:allow-file drop-column reason=\"the old column of a type change; its values live on in the new column\"".into(),
                "haste:allow-file rename-column reason=\"the new column takes the old name: the application sees no rename\"".into(),
            ];
            if !table.repopulated.is_empty() {
                swap.notes.extend([
                    format!(
                        "Materialized views reading the column are created again and populated in this transaction: {};",
                        table.repopulated.join(", ")
                    ),
                    "the table stays locked while their queries run (PostgreSQL refuses the column's drop under them).".into(),
                ]);
            }
            swap.up = table.swap;
            swap.refills = refills;
            swap.second_release = true;
            drafts.push(swap);
            if !table.validate.is_empty() {
                let mut validate = Draft::empty(suffix("validate"), format!("{name} (validate {changes})"));
                validate.notes = vec![
                    "Validates the foreign keys of other tables that the swap added again NOT VALID; each on its own.".into(),
                ];
                validate.up = table.validate;
                validate.second_release = true;
                drafts.push(validate);
            }
        }
        drafts
    }
}
