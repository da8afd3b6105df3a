//! Columns of existing tables that a default must fill before they can be what the desired
//! schema says, within one deploy:
//!
//! - a new column whose default PostgreSQL computes row by row (`gen_random_uuid()`,
//!   `random()`): added with that default, it is filled for every row at once, rewriting the
//!   table under an ACCESS EXCLUSIVE lock (the lint rule `add-column-volatile-default`'s recipe);
//! - a nullable column made `NOT NULL` with a default (Prisma's `String?` to
//!   `String @default("anon")`): its rows holding `NULL` would fail the validation of the
//!   `NOT NULL` and leave the migration failed; they take the default first, as a person
//!   making a column required with a default means (Django fills them the same way).
//!
//! Instead of planning them in place:
//!
//! 1. the migration adds a new column bare (no default, nullable) and leaves an existing one
//!    nullable;
//! 2. a fill migration per table sets the default for new rows, and its `data.sql` fills the
//!    rows without a value in batches;
//! 3. a last migration makes the columns that must be `NOT NULL` so, through a validated check.
//!
//! A table without a single-column primary key to walk gets its columns in place.

use haste_diff::{Lock, Options, SchemaChange, Step};
use haste_schema::{Column, Schema};
use haste_sql::quote_ident;

use crate::draft::Draft;
use crate::retype::walk_key;
use haste_migrations::data_header;

/// The columns of one table that a data step fills.
struct TableFill {
    schema: String,
    table: String,
    key: String,
    columns: Vec<Filled>,
}

/// One column a data step fills, as the desired schema has it.
struct Filled {
    column: Column,
    /// The fill migration sets its default: the column is new, or its default changes.
    sets_default: bool,
}

/// The columns of a migration filled after it.
pub(crate) struct Fills {
    /// The desired schema with every column planned here nullable, a new one without its
    /// default, one that exists with the default it had: the migration's other changes are
    /// planned against it.
    pub(crate) held: Schema,
    /// `held` with the defaults set: the state after the fills, before `NOT NULL`.
    filled: Schema,
    /// The desired schema.
    desired: Schema,
    tables: Vec<TableFill>,
}

/// Finds the columns of tables in `history` that `desired` fills from a default: new ones whose
/// default is computed per row, and nullable ones made `NOT NULL` with a default.
pub(crate) fn plan(history: &Schema, desired: &Schema) -> Fills {
    let mut held = desired.clone();
    let mut filled = desired.clone();
    let mut tables = Vec::new();
    for (table, (held_table, filled_table)) in
        desired.tables.iter().zip(held.tables.iter_mut().zip(filled.tables.iter_mut()))
    {
        let Some(before) = history.tables.iter().find(|t| t.schema == table.schema && t.name == table.name)
        else {
            continue;
        };
        let Some(key) = walk_key(before) else { continue };
        let columns: Vec<Filled> = table
            .columns
            .iter()
            .filter(|column| column.identity.is_none() && column.generated.is_none())
            .filter_map(|column| match before.columns.iter().find(|c| c.name == column.name) {
                None => column
                    .default
                    .as_deref()
                    .is_some_and(haste_sql::default_computed_per_row)
                    .then(|| Filled { column: column.clone(), sets_default: true }),
                Some(was) => (column.not_null
                    && column.default.is_some()
                    && !was.not_null
                    && was.identity.is_none()
                    && was.generated.is_none())
                .then(|| Filled { column: column.clone(), sets_default: was.default != column.default }),
            })
            .collect();
        if columns.is_empty() {
            continue;
        }
        for filled in &columns {
            let was = before.columns.iter().find(|c| c.name == filled.column.name);
            for (slot, keep_default) in [(&mut *held_table, false), (&mut *filled_table, true)] {
                if let Some(bare) = slot.columns.iter_mut().find(|c| c.name == filled.column.name) {
                    bare.not_null = false;
                    if !keep_default {
                        bare.default = was.and_then(|was| was.default.clone());
                    }
                }
            }
        }
        tables.push(TableFill { schema: table.schema.clone(), table: table.name.clone(), key, columns });
    }
    Fills { held, filled, desired: desired.clone(), tables }
}

impl Fills {
    /// The migrations that follow the one adding the columns: a fill per table, then the
    /// `NOT NULL` of the columns that need it.
    pub(crate) fn drafts(self, name: &str) -> Vec<Draft> {
        let mut drafts = Vec::new();
        for (index, fill) in self.tables.iter().enumerate() {
            let table = haste_schema::qualified(&fill.schema, &fill.table);
            let names: Vec<String> =
                fill.columns.iter().map(|c| format!("{}.{}", fill.table, c.column.name)).collect();
            let suffix = match index {
                0 => "_fill".to_owned(),
                _ => format!("_fill_{}", fill.table),
            };
            let mut draft = Draft::empty(suffix, format!("{name} (fill {})", names.join(", ")));
            draft.notes = vec![
                "Columns filled from their default (new ones whose default is computed row by row, or ones made".into(),
                "NOT NULL with a default): new rows take the default from here on, and data.sql gives it to the".into(),
                "rows already there without a value, in batches, without rewriting the table.".into(),
            ];
            let (mut set, mut empty) = (Vec::new(), Vec::new());
            for Filled { column, sets_default } in &fill.columns {
                let target = quote_ident(&column.name);
                let default = column.default.as_deref().expect("planned for its default");
                if *sets_default {
                    draft.up.push(Step {
                        sql: format!("ALTER TABLE {table} ALTER COLUMN {target} SET DEFAULT {default}"),
                        lock: Lock::AccessExclusive,
                        hazards: Vec::new(),
                        alone: false,
                        source: SchemaChange::Custom,
                    });
                }
                draft.fills.push(haste_diff::OfTable {
                    schema: fill.schema.clone(),
                    table: fill.table.clone(),
                    name: column.name.clone(),
                });
                // Only the rows still empty: one the application wrote since keeps its value.
                set.push(format!("{target} = COALESCE({target}, {default})"));
                empty.push(format!("{target} IS NULL"));
            }
            let data = format!(
                "{}\nUPDATE {table} SET {} WHERE :range AND ({});\n",
                data_header(&fill.schema, &fill.table, &fill.key),
                set.join(", "),
                empty.join(" OR ")
            );
            draft.data = Some((data, String::new()));
            drafts.push(draft);
        }
        let mut required = haste_diff::diff(&self.filled, &self.desired, &Options { online: true }).steps;
        if !required.is_empty() {
            // A release still running may have written NULL since the data step's pass (an ORM
            // sending every column): once a column's check is in place (`NOT VALID`: no new NULL
            // gets in), its rows take the default too, before its validation reads them. Each
            // column's after its own check: another column's check keeps no NULL out of it.
            for fill in &self.tables {
                let table = haste_schema::qualified(&fill.schema, &fill.table);
                for Filled { column, .. } in fill.columns.iter().filter(|filled| filled.column.not_null) {
                    let target = quote_ident(&column.name);
                    let default = column.default.as_deref().expect("planned for its default");
                    let made_not_null = SchemaChange::SetNotNull(haste_diff::OfTable {
                        schema: fill.schema.clone(),
                        table: fill.table.clone(),
                        name: column.name.clone(),
                    });
                    let validating = required
                        .iter()
                        .position(|step| step.alone && step.source == made_not_null)
                        .unwrap_or(0);
                    required.insert(
                        validating,
                        Step {
                            sql: format!("UPDATE {table} SET {target} = {default} WHERE {target} IS NULL"),
                            lock: Lock::RowExclusive,
                            hazards: vec![haste_diff::Hazard::TableScan],
                            alone: false,
                            source: SchemaChange::Custom,
                        },
                    );
                }
            }
            let mut draft =
                Draft::empty("_not_null".into(), format!("{name} (NOT NULL of the filled columns)"));
            draft.up = required;
            drafts.push(draft);
        }
        drafts
    }
}
