//! Column type changes that would rewrite their table, planned as expand and swap within one
//! deploy (the guide's recipe for `int` to `bigint`), so the application never waits behind a
//! rewrite:
//!
//! 1. expand (with the migration's other changes): a new column of the new type, a trigger
//!    that fills it on every write, a `NOT VALID` check for `NOT NULL` and `NOT VALID` copies
//!    of the column's foreign keys; `data.sql` fills the rows already there, in batches;
//! 2. prepare (each statement on its own): the checks and keys validated, the column's indexes
//!    and keys built again on the new column, concurrently;
//! 3. swap (one short transaction): the old column dropped, the new one takes its name,
//!    default, `NOT NULL`, keys, index names, sequence and views.
//!
//! The swapped column moves to the end of the table (`SELECT *` order changes). Only conversions
//! that cannot fail are carried this way (`int` to `bigint`, to `text`, a time gaining a zone):
//! the trigger converts every write, and a value that does not convert must stop the
//! migration, never the application. A change that cannot be carried (such conversions,
//! identity or generated columns, expressions that read the column, keys other tables
//! reference, no single-column primary key to walk) is made in place, with the reason written
//! in the migration.

use haste_diff::{Hazard, Lock, Step};
use haste_schema::{Column, Schema, Table, TableKind, qualified};
use haste_sql::{Repointed, quote_ident, quote_literal, truncate_ident};

use crate::draft::{Draft, Refill};

/// One column whose type changes.
struct Retyped {
    old: Column,
    new: Column,
    /// The column that takes the new type until the swap.
    temporary: String,
}

/// The type changes of one table.
struct TableRetype {
    /// The table as the migration leaves it.
    table: Table,
    columns: Vec<Retyped>,
    /// The key the backfill walks.
    key: String,
    expand: Vec<Step>,
    prepare: Vec<Step>,
    swap: Vec<Step>,
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

fn step(sql: String, lock: Lock, hazards: &[Hazard], alone: bool) -> Step {
    Step { sql, lock, hazards: hazards.to_vec(), alone }
}

fn same_table(a: &Table, b: &Table) -> bool {
    a.schema == b.schema && a.name == b.name
}

/// The single-column primary key a data step can walk.
pub(crate) fn walk_key(table: &Table) -> Option<String> {
    let key = table.constraints.iter().find(|c| c.kind == "p")?;
    match haste_sql::key_columns(&key.definition)?.as_slice() {
        [column] => Some(column.clone()),
        _ => None,
    }
}

/// Finds the rewriting type changes from `history` to `desired` and plans each one it can.
pub(crate) fn plan(history: &Schema, desired: &Schema) -> Retypes {
    let mut held = desired.clone();
    let mut tables = Vec::new();
    let mut in_place = Vec::new();
    for table in &desired.tables {
        let Some(before) = history.tables.iter().find(|t| same_table(t, table)) else { continue };
        let changed: Vec<(&Column, &Column)> = table
            .columns
            .iter()
            .filter_map(|new| Some((before.columns.iter().find(|c| c.name == new.name)?, new)))
            .filter(|(old, new)| {
                (old.identity.is_none() && new.identity.is_none() && old.generated == new.generated)
                    && haste_sql::type_change_rewrites(&old.data_type, &new.data_type)
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
                // The trigger would convert every write: one that fails would fail the
                // application's write, where in place it fails the migration.
                _ if !haste_sql::conversion_cannot_fail(&old.data_type, &new.data_type) => Some(
                    "some values may not convert, and that must stop the migration, not the application's writes",
                ),
                _ => blocker(desired, table, &old.name),
            };
            match reason {
                Some(reason) => in_place.push(format!(
                    "the type change of {}.{} ({} to {}) rewrites the table in place: {reason}",
                    table.qualified_name(),
                    quote_ident(&old.name),
                    old.data_type,
                    new.data_type
                )),
                None => columns.push(Retyped {
                    old: old.clone(),
                    new: new.clone(),
                    temporary: truncate_ident(&old.name, "_haste_new"),
                }),
            }
        }
        if let Some(shared) = shared_by_two(desired, table, &columns) {
            in_place.extend(columns.drain(..).map(|column| {
                format!(
                    "the type change of {}.{} rewrites the table in place: {shared} uses two columns whose types change",
                    table.qualified_name(),
                    quote_ident(&column.old.name)
                )
            }));
        }
        if columns.is_empty() {
            continue;
        }
        let held_table = held.tables.iter_mut().find(|t| same_table(t, table)).expect("the same schema");
        for column in &columns {
            if let Some(slot) = held_table.columns.iter_mut().find(|c| c.name == column.old.name) {
                *slot = column.old.clone();
            }
        }
        let mut retype = TableRetype {
            table: table.clone(),
            columns,
            key: key.expect("checked above"),
            expand: Vec::new(),
            prepare: Vec::new(),
            swap: Vec::new(),
        };
        retype.plan(desired);
        tables.push(retype);
    }
    Retypes { held, tables, in_place }
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
    let referenced = desired.tables.iter().any(|other| {
        !same_table(other, table)
            && other
                .constraints
                .iter()
                .any(|c| c.kind == "f" && haste_sql::references_column(&c.definition, &table.name, column))
    });
    if referenced {
        return Some("foreign keys of other tables reference the column");
    }
    let materialized = desired
        .views
        .iter()
        .any(|view| view.materialized && haste_sql::mentions(&view.definition, &table.name, column));
    if materialized {
        return Some("a materialized view reads the column");
    }
    // What the swap's DROP COLUMN would refuse to drop without CASCADE, and cannot re-point.
    let on_table = |schema: &str, name: &str| schema == table.schema && name == table.name;
    // An expression of the table, read as a query of it (a policy's statement hides its table
    // from the parse-tree walk).
    let reads = |expression: &str| {
        haste_sql::mentions(
            &format!("SELECT 1 FROM {} WHERE {expression}", quote_ident(&table.name)),
            &table.name,
            column,
        )
    };
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
    if policy {
        return Some("a row-level security policy reads the column");
    }
    let trigger = desired
        .triggers
        .iter()
        .filter(|t| on_table(&t.schema, &t.table))
        .any(|trigger| haste_sql::mentions(&trigger.definition, &table.name, column));
    trigger.then_some("a trigger's WHEN condition or column list reads the column")
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

    fn sync_function(&self) -> String {
        qualified(&self.table.schema, &truncate_ident(&format!("haste_retype_{}", self.table.name), ""))
    }

    fn sync_trigger(&self) -> String {
        quote_ident(&truncate_ident(&format!("haste_retype_{}", self.table.name), ""))
    }

    /// The old value of each column as the new type stores it (never cut to a shorter length),
    /// as the trigger and the backfill compute it.
    fn converted(&self, column: &Retyped, row: &str) -> String {
        haste_sql::conversion(&format!("{row}{}", quote_ident(&column.old.name)), &column.new.data_type)
    }

    fn plan(&mut self, desired: &Schema) {
        let name = self.name();
        let mut assignments = String::new();
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
        self.expand.push(step(
            format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $haste$\nBEGIN\n{assignments}  RETURN NEW;\nEND\n$haste$"
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

        self.swap.push(step(
            format!("DROP TRIGGER {} ON {name}", self.sync_trigger()),
            Lock::AccessExclusive,
            &[],
            false,
        ));
        self.swap.push(step(format!("DROP FUNCTION {function}()"), Lock::None, &[], false));
        let reads_column = desired.views.iter().any(|view| {
            self.columns.iter().any(|c| haste_sql::mentions(&view.definition, &self.table.name, &c.old.name))
        });
        // When a view reads the column, every view goes first and comes back last, in creation
        // order, as the planner recreates views: a view reading that view would block its drop.
        // (Materialized views reading the column keep the change in place: see `blocker`.)
        let views: Vec<_> = match reads_column {
            true => desired.views.iter().filter(|view| !view.materialized).collect(),
            false => Vec::new(),
        };
        let mut after_swap = Vec::new();
        for view in views.iter().rev() {
            self.swap.push(step(
                format!("DROP VIEW {}", qualified(&view.schema, &view.name)),
                Lock::AccessExclusive,
                &[],
                false,
            ));
        }
        let columns = std::mem::take(&mut self.columns);
        for column in &columns {
            self.plan_column(desired, column, &mut after_swap);
        }
        self.columns = columns;
        self.swap.extend(after_swap);
        for view in views {
            self.swap.push(step(view.create_statement(), Lock::None, &[], false));
        }
    }

    /// The steps of one column; `after_swap` collects what needs the new column under its name.
    fn plan_column(&mut self, desired: &Schema, column: &Retyped, after_swap: &mut Vec<Step>) {
        let name = self.name();
        let (old, temporary) = (quote_ident(&column.old.name), quote_ident(&column.temporary));
        if column.new.not_null {
            let check = quote_ident(&truncate_ident(&column.temporary, "_not_null"));
            self.expand.push(step(
                format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {check} CHECK ({temporary} IS NOT NULL) NOT VALID"
                ),
                Lock::AccessExclusive,
                &[],
                false,
            ));
            self.prepare.push(step(
                format!("ALTER TABLE {name} VALIDATE CONSTRAINT {check}"),
                Lock::ShareUpdateExclusive,
                &[Hazard::TableScan],
                true,
            ));
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
        // Foreign keys first: a key they would hang on is dropped after them.
        let mut constraints: Vec<_> = self.table.constraints.iter().collect();
        constraints.sort_by_key(|c| c.kind != "f");
        for constraint in constraints {
            let replacement = truncate_ident(&constraint.name, "_haste_new");
            let Repointed::Statement(sql) = haste_sql::constraint_on(
                &name,
                &constraint.definition,
                &column.old.name,
                &column.temporary,
                &replacement,
            ) else {
                continue;
            };
            let (quoted, replacement) = (quote_ident(&constraint.name), quote_ident(&replacement));
            self.swap.push(step(
                format!("ALTER TABLE {name} DROP CONSTRAINT {quoted}"),
                Lock::AccessExclusive,
                &[],
                false,
            ));
            if constraint.kind == "f" {
                self.expand.push(step(sql, Lock::ShareRowExclusive, &[], false));
                self.prepare.push(step(
                    format!("ALTER TABLE {name} VALIDATE CONSTRAINT {replacement}"),
                    Lock::ShareUpdateExclusive,
                    &[Hazard::TableScan],
                    true,
                ));
                after_swap.push(step(
                    format!("ALTER TABLE {name} RENAME CONSTRAINT {replacement} TO {quoted}"),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            } else {
                self.prepare.push(step(sql, Lock::ShareUpdateExclusive, &[Hazard::IndexBuild], true));
                let kind = if constraint.kind == "p" { "PRIMARY KEY" } else { "UNIQUE" };
                after_swap.push(step(
                    format!("ALTER TABLE {name} ADD CONSTRAINT {quoted} {kind} USING INDEX {replacement}"),
                    Lock::AccessExclusive,
                    &[],
                    false,
                ));
            }
        }
        for index in
            desired.indexes.iter().filter(|i| i.schema == self.table.schema && i.table == self.table.name)
        {
            let replacement = truncate_ident(&index.name, "_haste_new");
            if let Repointed::Statement(sql) =
                haste_sql::index_on(&index.definition, &column.old.name, &column.temporary, &replacement)
            {
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
        (
            copy(&|column| (quote_ident(&column.temporary), self.converted(column, ""))),
            copy(&|column| {
                let value = haste_sql::conversion(&quote_ident(&column.temporary), &column.old.data_type);
                (quote_ident(&column.old.name), value)
            }),
        )
    }

    fn describe(&self) -> String {
        self.columns
            .iter()
            .map(|c| {
                format!("{}.{}: {} -> {}", self.table.name, c.old.name, c.old.data_type, c.new.data_type)
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
                column: column.temporary.clone(),
                value: self.converted(column, ""),
            })
            .collect()
    }
}

/// The way back over a swap: the new columns return empty and without their checks and keys,
/// are filled from the old ones, and only then get their checks and keys back; a plain diff
/// would validate a `NOT NULL` check on an empty column and fail on any row.
pub(crate) fn refill_steps(current: &Schema, previous: &Schema, refills: &[Refill]) -> Vec<Step> {
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
    let online = haste_diff::Options { online: true };
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

impl Retypes {
    /// Whether nothing is planned here.
    pub(crate) fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The migrations after `first` (the migration's other changes, which the first table's
    /// expand joins): per table, its expand (with `data.sql`), its prepare and its swap, all
    /// applied by one deploy.
    pub(crate) fn drafts(self, mut first: Draft, name: &str) -> Vec<Draft> {
        let mut drafts = Vec::new();
        for (index, table) in self.tables.into_iter().enumerate() {
            let changes = table.describe();
            let data = table.data();
            let refills = table.refills();
            let suffix = |part: &str| match index {
                0 => format!("_{part}"),
                _ => format!("_{part}_{}", table.table.name),
            };
            let expand_notes = vec![
                format!("Type change without a table rewrite ({changes}): a new column, kept filled by a trigger;"),
                "data.sql fills the rows already there in batches; the migrations that follow swap the columns.".into(),
            ];
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
            swap.up = table.swap;
            swap.refills = refills;
            drafts.push(swap);
        }
        drafts
    }
}
