//! New columns of existing tables whose default PostgreSQL computes row by row
//! (`gen_random_uuid()`, `random()`): added with that default, such a column is filled for
//! every row at once, rewriting the table under an ACCESS EXCLUSIVE lock. Instead (the lint
//! rule `add-column-volatile-default`'s recipe), within one deploy:
//!
//! 1. the migration adds the column bare (no default, nullable);
//! 2. a fill migration per table sets the default for new rows, and its `data.sql` fills the
//!    rows already there in batches;
//! 3. a last migration makes the columns that must be `NOT NULL` so, through a validated check.
//!
//! A table without a single-column primary key to walk gets the column in place.

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
    columns: Vec<Column>,
}

/// The columns of a migration filled after it.
pub(crate) struct Fills {
    /// The desired schema with every column planned here bare (no default, nullable): the
    /// migration's other changes are planned against it.
    pub(crate) held: Schema,
    /// `held` with the defaults set: the state after the fills, before `NOT NULL`.
    filled: Schema,
    /// The desired schema.
    desired: Schema,
    tables: Vec<TableFill>,
}

/// Finds the new columns of tables in `history` whose default in `desired` is computed per row.
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
        let columns: Vec<Column> = table
            .columns
            .iter()
            .filter(|column| {
                !before.columns.iter().any(|c| c.name == column.name)
                    && column.identity.is_none()
                    && column.generated.is_none()
                    && column.default.as_deref().is_some_and(haste_sql::default_computed_per_row)
            })
            .cloned()
            .collect();
        if columns.is_empty() {
            continue;
        }
        for column in &columns {
            for (slot, keep_default) in [(&mut *held_table, false), (&mut *filled_table, true)] {
                if let Some(bare) = slot.columns.iter_mut().find(|c| c.name == column.name) {
                    bare.not_null = false;
                    if !keep_default {
                        bare.default = None;
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
                fill.columns.iter().map(|c| format!("{}.{}", fill.table, c.name)).collect();
            let suffix = match index {
                0 => "_fill".to_owned(),
                _ => format!("_fill_{}", fill.table),
            };
            let mut draft = Draft::empty(suffix, format!("{name} (fill {})", names.join(", ")));
            draft.notes = vec![
                "New columns whose default is computed row by row: new rows take the default from here on,"
                    .into(),
                "and data.sql fills the rows already there in batches, without rewriting the table.".into(),
            ];
            let (mut set, mut empty) = (Vec::new(), Vec::new());
            for column in &fill.columns {
                let target = quote_ident(&column.name);
                let default = column.default.as_deref().expect("planned for its default");
                draft.up.push(Step {
                    sql: format!("ALTER TABLE {table} ALTER COLUMN {target} SET DEFAULT {default}"),
                    lock: Lock::AccessExclusive,
                    hazards: Vec::new(),
                    alone: false,
                    source: SchemaChange::Custom,
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
        let required = haste_diff::diff(&self.filled, &self.desired, &Options { online: true }).steps;
        if !required.is_empty() {
            let mut draft =
                Draft::empty("_not_null".into(), format!("{name} (NOT NULL of the filled columns)"));
            draft.up = required;
            drafts.push(draft);
        }
        drafts
    }
}
