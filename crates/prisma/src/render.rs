//! Prisma-style SQL: the steps Prisma Migrate would write between two states, in its order and
//! layout (`-- CreateTable`, four-space columns, `ON "t"("a", "b")`, both referential actions
//! printed), with its warnings header for destructive steps.

use haste_sql::{quote_ident, quote_literal, truncate_ident};

use crate::ir::{Column, Database, EnumType, Extension, ForeignKey, Index, Name, Table};

fn name(name: &Name) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&name.name)),
        None => quote_ident(&name.name),
    }
}

fn column(column: &Column) -> String {
    let mut text = format!("{} {}", quote_ident(&column.name), column.data_type);
    if column.not_null {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    text
}

fn quoted_list(names: &[String], separator: &str) -> String {
    names.iter().map(|n| quote_ident(n)).collect::<Vec<_>>().join(separator)
}

fn create_enum(item: &EnumType) -> String {
    let values: Vec<String> = item.values.iter().map(|v| quote_literal(v)).collect();
    format!("CREATE TYPE {} AS ENUM ({})", name(&item.name), values.join(", "))
}

fn create_table(table: &Table) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(|c| format!("    {}", column(c))).collect();
    if let Some(key) = &table.primary_key {
        let last = lines.pop().unwrap_or_default();
        lines.push(format!(
            "{last},\n\n    CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&key.name),
            quoted_list(&key.columns, ",")
        ));
        return format!("CREATE TABLE {} (\n{}\n)", name(&table.name), lines.join(",\n"));
    }
    format!("CREATE TABLE {} (\n{}\n)", name(&table.name), lines.join(",\n"))
}

fn create_index(index: &Index) -> String {
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| {
            let mut text = quote_ident(&c.name);
            if let Some(opclass) = &c.opclass {
                text.push_str(&format!(" {opclass}"));
            }
            if let Some(sort) = &c.sort {
                text.push_str(&format!(" {sort}"));
            }
            text
        })
        .collect();
    let method = index.method.as_ref().map(|m| format!(" USING {m} ")).unwrap_or_default();
    let predicate = index.predicate.as_ref().map(|p| format!(" WHERE {p}")).unwrap_or_default();
    format!(
        "CREATE {}INDEX {} ON {}{method}({}){predicate}",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(&index.name),
        name(&index.table),
        columns.join(", ")
    )
}

fn add_foreign_key(key: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) ON DELETE {} ON UPDATE {}",
        name(&key.table),
        quote_ident(&key.name),
        quoted_list(&key.columns, ", "),
        name(&key.referenced_table),
        quoted_list(&key.referenced_columns, ", "),
        key.on_delete,
        key.on_update
    )
}

/// The steps of one migration, and the warnings Prisma prints above them.
#[derive(Debug, Default)]
pub struct Migration {
    /// `(step comment, statement)` in order.
    pub steps: Vec<(&'static str, String)>,
    /// Warnings for destructive or risky steps.
    pub warnings: Vec<String>,
    /// Objects of the database the schema cannot express, left alone (`partial index "x" on
    /// "T" (not expressible in schema.prisma)`); written as `-- kept:` lines after the steps.
    pub kept: Vec<String>,
}

impl Migration {
    fn step(&mut self, kind: &'static str, statement: String) {
        self.steps.push((kind, statement));
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The file as Prisma writes it.
    pub fn to_sql(&self) -> String {
        let mut text = String::new();
        if !self.warnings.is_empty() {
            text.push_str("/*\n  Warnings:\n\n");
            for warning in &self.warnings {
                text.push_str(&format!("  - {warning}\n"));
            }
            text.push_str("\n*/\n");
        }
        text.push_str(&self.script());
        text.push_str(&self.kept_comments());
        text
    }

    /// The statements alone, as `prisma migrate diff --script` prints them (no warnings header).
    pub fn script(&self) -> String {
        let blocks: Vec<String> =
            self.steps.iter().map(|(kind, sql)| format!("-- {kind}\n{sql};\n")).collect();
        blocks.join("\n")
    }

    /// The `-- kept:` lines, each ending in a newline, after an empty line when there are
    /// steps before them.
    pub fn kept_comments(&self) -> String {
        let lines: String = self.kept.iter().map(|kept| format!("-- kept: {kept}\n")).collect();
        if lines.is_empty() || self.steps.is_empty() { lines } else { format!("\n{lines}") }
    }
}

fn enum_values_added(old: &EnumType, new: &EnumType) -> Option<Vec<String>> {
    let removed = old.values.iter().any(|v| !new.values.contains(v));
    (!removed).then(|| new.values.iter().filter(|v| !old.values.contains(v)).cloned().collect())
}

/// The migration from `from` to `to`, in Prisma's step order. `reads_as` is `to` as a database
/// gives it back (PostgreSQL's spelling of defaults, predicates, types): what decides whether
/// an object changed, while the statements keep `to`'s own text and order. For two Prisma
/// schemas it is `to` itself.
pub fn migration(from: &Database, to: &Database, reads_as: &Database) -> Migration {
    let mut out = Migration::default();
    fn read_table<'a>(reads_as: &'a Database, table: &'a Table) -> &'a Table {
        reads_as.tables.iter().find(|t| t.name == table.name).unwrap_or(table)
    }
    fn read_index<'a>(reads_as: &'a Database, index: &'a Index) -> &'a Index {
        reads_as.indexes.iter().find(|i| i.table == index.table && i.name == index.name).unwrap_or(index)
    }
    fn key_as_read<'a>(reads_as: &'a Database, key: &'a ForeignKey) -> &'a ForeignKey {
        reads_as.foreign_keys.iter().find(|k| k.table == key.table && k.name == key.name).unwrap_or(key)
    }
    let read_index = |index| read_index(reads_as, index);
    let read_key = |key| key_as_read(reads_as, key);
    let read_table = |table| read_table(reads_as, table);
    let find_table = |db: &Database, wanted: &Name| db.tables.iter().position(|t| &t.name == wanted);

    let mut schemas: Vec<&String> =
        to.schemas.iter().filter(|s| !from.existing_schemas.contains(s)).collect();
    schemas.sort();
    for schema in schemas {
        out.step("CreateSchema", format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)));
    }
    // Prisma creates the extensions the datasource declares and never drops one it no longer
    // lists; one whose `schema:` or `version:` both sides give, differently, it drops and creates
    // again (all the drops first).
    let mut recreated: Vec<&Extension> = to
        .extensions
        .iter()
        .filter(|e| from.extensions.iter().any(|f| f.name == e.name && moved_or_upgraded(f, e)))
        .collect();
    recreated.sort_by(|a, b| a.name.cmp(&b.name));
    for extension in &recreated {
        out.step("DropExtension", format!("DROP EXTENSION {}", quote_ident(&extension.name)));
    }
    let mut extensions: Vec<&Extension> = to
        .extensions
        .iter()
        .filter(|e| !from.extensions.iter().any(|f| f.name == e.name) || recreated.contains(e))
        .collect();
    extensions.sort_by(|a, b| a.name.cmp(&b.name));
    for extension in extensions {
        out.step("CreateExtension", create_extension(extension));
    }
    for item in &to.enums {
        if !from.enums.iter().any(|e| e.name == item.name) {
            out.step("CreateEnum", create_enum(item));
        }
    }
    for item in &to.enums {
        let Some(old) = from.enums.iter().find(|e| e.name == item.name) else { continue };
        match enum_values_added(old, item) {
            Some(added) if added.is_empty() => {}
            Some(added) => {
                let statements: Vec<String> = added
                    .iter()
                    .map(|v| format!("ALTER TYPE {} ADD VALUE {}", name(&item.name), quote_literal(v)))
                    .collect();
                let text = if statements.len() > 1 {
                    format!(
                        "-- This migration adds more than one value to an enum.\n-- With PostgreSQL versions 11 and earlier, this is not possible\n-- in a single migration. This can be worked around by creating\n-- multiple migrations, each migration adding only one value to\n-- the enum.\n\n\n{}",
                        statements.join(";\n")
                    )
                } else {
                    statements[0].clone()
                };
                out.step("AlterEnum", text);
            }
            None => {
                let removed: Vec<&String> = old.values.iter().filter(|v| !item.values.contains(v)).collect();
                out.warnings.push(format!(
                    "The values [{}] on the enum `{}` will be removed. If these variants are still used in the database, this will fail.",
                    removed.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(","),
                    item.name.name
                ));
                out.step("AlterEnum", recreate_enum(from, to, item));
            }
        }
    }
    // Keys of dropped tables go too, so the tables can be dropped in any order.
    for key in &from.foreign_keys {
        if !to.foreign_keys.iter().any(|k| read_key(k).same_shape(key)) {
            out.step(
                "DropForeignKey",
                format!("ALTER TABLE {} DROP CONSTRAINT {}", name(&key.table), quote_ident(&key.name)),
            );
        }
    }
    let mut dropped_after_key = Vec::new();
    for index in &from.indexes {
        if !to.indexes.iter().any(|i| read_index(i).same_shape(index))
            && find_table(to, &index.table).is_some()
        {
            if replaced_by_new_key(from, reads_as, index) {
                dropped_after_key.push(index);
            } else {
                out.step("DropIndex", drop_index(index));
            }
        }
    }
    // In the order of the tables before (Prisma sorts these steps by the old table's id: for a
    // database, its tables by name).
    for old in &from.tables {
        if let Some(table) = find_table(to, &old.name).map(|i| &to.tables[i]) {
            alter_table(&mut out, old, table, read_table(table));
            // Each right after the `ALTER TABLE` that adds the key (so the last comes first).
            let after_key = out.steps.len();
            for index in dropped_after_key.iter().filter(|i| i.table == table.name) {
                out.steps.insert(after_key, ("DropIndex", drop_index(index)));
            }
        }
    }
    for table in &from.tables {
        if find_table(to, &table.name).is_none() {
            out.warnings.push(format!(
                "You are about to drop the `{}` table. If the table is not empty, all the data it contains will be lost.",
                table.name.name
            ));
            out.step("DropTable", format!("DROP TABLE {}", name(&table.name)));
        }
    }
    for item in &from.enums {
        if !to.enums.iter().any(|e| e.name == item.name) {
            out.step("DropEnum", format!("DROP TYPE {}", name(&item.name)));
        }
    }
    for table in &to.tables {
        if find_table(from, &table.name).is_none() {
            out.step("CreateTable", create_table(table));
        }
    }
    // Whether a column of `table` is dropped and added again (its indexes and keys with it).
    let touches_recreated = |table: &Name, columns: &[String]| {
        let old = from.tables.iter().find(|t| &t.name == table);
        let read = reads_as.tables.iter().find(|t| &t.name == table);
        old.zip(read).is_some_and(|(old, read)| columns.iter().any(|c| recreated_column(old, read, c)))
    };
    // Prisma's order: the indexes of new tables first, then those of tables that exist, in the
    // order of the tables before; each table's in the schema's order.
    let mut created: Vec<&Index> = to
        .indexes
        .iter()
        .filter(|index| {
            let columns: Vec<String> = index.columns.iter().map(|c| c.name.clone()).collect();
            !from.indexes.iter().any(|i| i.same_shape(read_index(index)))
                || touches_recreated(&index.table, &columns)
        })
        .collect();
    created.sort_by_key(|index| (find_table(from, &index.table), find_table(to, &index.table)));
    for index in created {
        if index.unique && find_table(from, &index.table).is_some() {
            let columns: Vec<&str> = index.columns.iter().map(|c| c.name.as_str()).collect();
            out.warnings.push(format!(
                "A unique constraint covering the columns `[{}]` on the table `{}` will be added. If there are existing duplicate values, this will fail.",
                columns.join(","),
                index.table.name
            ));
        }
        out.step("CreateIndex", create_index(index));
    }
    // Prisma writes every foreign key rename before the keys it adds; renames in the order of
    // the old keys and indexes.
    let kept_key = |key: &ForeignKey| -> Option<usize> {
        if touches_recreated(&key.table, &key.columns) {
            return None;
        }
        from.foreign_keys.iter().position(|k| k.same_shape(key_as_read(reads_as, key)))
    };
    let mut renamed_keys: Vec<(usize, String)> = to
        .foreign_keys
        .iter()
        .filter_map(|key| {
            let at = kept_key(key).filter(|&at| from.foreign_keys[at].name != key.name)?;
            Some((
                at,
                format!(
                    "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                    name(&key.table),
                    quote_ident(&from.foreign_keys[at].name),
                    quote_ident(&key.name)
                ),
            ))
        })
        .collect();
    renamed_keys.sort_by_key(|(at, _)| *at);
    for (_, statement) in renamed_keys {
        out.step("RenameForeignKey", statement);
    }
    for key in &to.foreign_keys {
        if kept_key(key).is_none() {
            out.step("AddForeignKey", add_foreign_key(key));
        }
    }
    let mut renamed_indexes: Vec<(usize, String)> = to
        .indexes
        .iter()
        .filter_map(|index| {
            let at = from.indexes.iter().position(|i| {
                i.same_shape(read_index(index)) && i.name != index.name && alone_of_its_kind(i, &from.indexes)
            })?;
            let old = &from.indexes[at];
            Some((at, format!("ALTER INDEX {} RENAME TO {}", quoted_index(old), quote_ident(&index.name))))
        })
        .collect();
    renamed_indexes.sort_by_key(|(at, _)| *at);
    for (_, statement) in renamed_indexes {
        out.step("RenameIndex", statement);
    }
    out
}

/// Whether no other index of `index`'s table has its columns and uniqueness. Prisma renames only
/// such an index: of two identical ones (say `User_email_key` and `users_email_key`), which one
/// the schema's index is cannot be told, so both stay as they are.
fn alone_of_its_kind(index: &Index, among: &[Index]) -> bool {
    let columns = |i: &Index| i.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    among
        .iter()
        .filter(|other| {
            other.table == index.table && other.unique == index.unique && columns(other) == columns(index)
        })
        .count()
        == 1
}

fn drop_index(index: &Index) -> String {
    format!("DROP INDEX {}", quoted_index(index))
}

/// Whether `index`, dropped, is a unique index of a table without a primary key that gains one on
/// the same columns, none of them dropped or recreated: Prisma drops such an index after the key
/// is added (its upgrade of an implicit many-to-many table from `_AB_unique` to `_AB_pkey`).
fn replaced_by_new_key(from: &Database, reads_as: &Database, index: &Index) -> bool {
    let old = from.tables.iter().find(|t| t.name == index.table);
    let new = reads_as.tables.iter().find(|t| t.name == index.table);
    let Some((old, new)) = old.zip(new) else { return false };
    let columns: Vec<&str> = index.columns.iter().map(|c| c.name.as_str()).collect();
    index.unique
        && old.primary_key.is_none()
        && new
            .primary_key
            .as_ref()
            .is_some_and(|key| key.columns.iter().map(String::as_str).eq(columns.iter().copied()))
        && columns.iter().all(|c| new.columns.iter().any(|n| n.name == *c) && !recreated_column(old, new, c))
}

fn quoted_index(index: &Index) -> String {
    match &index.table.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&index.name)),
        None => quote_ident(&index.name),
    }
}

/// `ALTER TABLE` for a table on both sides, in Prisma's order: drops and adds by column name,
/// then changes in column order. `read` is `new` as the database spells it, for comparing.
fn alter_table(out: &mut Migration, old: &Table, new: &Table, read: &Table) {
    let mut clauses = Vec::new();
    // A key column whose type changes takes the key with it: Prisma drops the key, changes the
    // type and adds the key again (whatever PostgreSQL could do in place).
    let retyped_key = old
        .primary_key
        .as_ref()
        .zip(read.primary_key.as_ref())
        .is_some_and(|(before, _)| before.columns.iter().any(|c| retyped_column(old, read, c)));
    // A key on the same columns under another name is renamed, as Prisma does, first.
    let renamed_key = old.primary_key.as_ref().zip(read.primary_key.as_ref()).filter(|(before, after)| {
        before.columns == after.columns && before.name != after.name && !retyped_key
    });
    let key_changed = (old.primary_key != read.primary_key && renamed_key.is_none()) || retyped_key;
    if let Some((before, after)) = renamed_key {
        clauses.push(format!(
            "RENAME CONSTRAINT {} TO {}",
            quote_ident(&before.name),
            quote_ident(&after.name)
        ));
    }
    if key_changed && let Some(key) = &old.primary_key {
        clauses.push(format!("DROP CONSTRAINT {}", quote_ident(&key.name)));
    }
    let recreated = |name: &str| recreated_column(old, read, name);
    let mut dropped: Vec<&Column> =
        old.columns.iter().filter(|c| !new.columns.iter().any(|n| n.name == c.name)).collect();
    dropped.sort_by(|a, b| a.name.cmp(&b.name));
    for gone in dropped {
        out.warnings.push(format!(
            "You are about to drop the column `{}` on the `{}` table. All the data in the column will be lost.",
            gone.name, old.name.name
        ));
        clauses.push(format!("DROP COLUMN {}", quote_ident(&gone.name)));
    }
    let mut added: Vec<&Column> =
        new.columns.iter().filter(|c| !old.columns.iter().any(|o| o.name == c.name)).collect();
    added.sort_by(|a, b| a.name.cmp(&b.name));
    for came in added {
        if came.not_null && came.default.is_none() && !came.data_type.contains("SERIAL") {
            out.warnings.push(format!(
                "Added the required column `{}` to the `{}` table without a default value. This is not possible if the table is not empty.",
                came.name, new.name.name
            ));
        }
        clauses.push(format!("ADD COLUMN     {}", column(came)));
    }
    // In the order of the columns before (Prisma sorts these changes by the old column's id); a
    // column that is dropped and added again is one of them, its two clauses side by side.
    let changed: Vec<(&Column, &Column)> = old
        .columns
        .iter()
        .filter_map(|o| new.columns.iter().find(|n| n.name == o.name).map(|n| (o, n)))
        .collect();
    // Statements around the `ALTER TABLE`: a sequence is created before and owned, set and
    // dropped after it.
    let (mut before_table, mut after_table) = (Vec::new(), Vec::new());
    for (before, after) in changed {
        let target = quote_ident(&after.name);
        if recreated(&after.name) {
            out.warnings.push(format!(
                "The `{}` column on the `{}` table would be dropped and recreated. This will lead to data loss.",
                after.name, old.name.name
            ));
            clauses.push(format!("DROP COLUMN {target}"));
            clauses.push(format!("ADD COLUMN     {}", column(after)));
            continue;
        }
        let compared = read.columns.iter().find(|c| c.name == after.name).unwrap_or(after);
        // Prisma's order: nullability, then default, then type.
        if before.not_null != compared.not_null {
            clauses.push(format!(
                "ALTER COLUMN {target} {} NOT NULL",
                if after.not_null { "SET" } else { "DROP" }
            ));
        }
        let set_default = match &after.default {
            Some(default) => format!("ALTER COLUMN {target} SET DEFAULT {default}"),
            None => format!("ALTER COLUMN {target} DROP DEFAULT"),
        };
        let sequence = |name: &str| match &new.name.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
            None => quote_ident(name),
        };
        match (before.is_serial(), compared.is_serial()) {
            (false, true) => {
                // As Prisma names it; PostgreSQL's `SERIAL` would make the same sequence.
                let created = sequence(&truncate_ident(
                    &format!("{}_{}_seq", new.name.name, after.name).to_lowercase(),
                    "",
                ));
                before_table.push(format!("CREATE SEQUENCE {created}"));
                clauses
                    .push(format!("ALTER COLUMN {target} SET DEFAULT nextval({})", quote_literal(&created)));
                after_table.push(format!("ALTER SEQUENCE {created} OWNED BY {}.{target}", name(&new.name)));
                // Beyond Prisma: rows already there keep their values, the sequence starts above.
                after_table.push(format!(
                    "SELECT setval({}, GREATEST(MAX({target}), 0) + 1, false) FROM {}",
                    quote_literal(&created),
                    name(&new.name)
                ));
            }
            (true, false) => {
                clauses.push(set_default);
                if let Some(owned) = &before.sequence {
                    after_table.push(format!("DROP SEQUENCE {}", sequence(owned)));
                }
            }
            // `@default(dbgenerated())`: whatever default the column has stays.
            _ if after.keeps_default => {}
            _ if !same_default(
                before.default.as_deref(),
                compared.default.as_deref(),
                matches!(compared.stored_type(), "JSON" | "JSONB"),
            ) =>
            {
                clauses.push(set_default)
            }
            _ => {}
        }
        if retyped_column(old, read, &after.name) {
            clauses.push(format!("ALTER COLUMN {target} SET DATA TYPE {}", after.stored_type()));
            // A sequence kept across a change of width counts in the new width.
            if let Some(owned) =
                before.sequence.as_ref().filter(|_| before.is_serial() && compared.is_serial())
            {
                after_table.push(format!("ALTER SEQUENCE {} AS {}", sequence(owned), after.stored_type()));
            }
        }
    }
    // `CREATE TABLE` lists the key's columns as `("a","b")`, this clause as `("a", "b")`.
    if key_changed && let Some(key) = &new.primary_key {
        clauses.push(format!(
            "ADD CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&key.name),
            quoted_list(&key.columns, ", ")
        ));
    }
    if !clauses.is_empty() {
        let statements: Vec<String> = before_table
            .into_iter()
            .chain([format!("ALTER TABLE {} {}", name(&new.name), clauses.join(",\n"))])
            .chain(after_table)
            .collect();
        out.step("AlterTable", statements.join(";\n"));
    }
}

/// Whether two defaults are the same as Prisma compares them: numbers by value (`1.5` is
/// `1.50`), a JSON column's by the document (`{"a": 1}` is `{"a":1}`), everything else as
/// written.
fn same_default(a: Option<&str>, b: Option<&str>, json: bool) -> bool {
    let document = |text: &str| {
        let inner = text.strip_prefix('\'')?.strip_suffix('\'')?.replace("''", "'");
        serde_json::from_str::<serde_json::Value>(&inner).ok()
    };
    a == b
        || a.zip(b)
            .and_then(
                |(a, b)| {
                    if json { Some(document(a)? == document(b)?) } else { Some(number(a)? == number(b)?) }
                },
            )
            .unwrap_or(false)
}

/// A number literal without the zeros that do not change its value (`-01.50`: `-1.5`); `None`
/// for anything else.
fn number(text: &str) -> Option<String> {
    let (sign, digits) = text.strip_prefix('-').map_or(("", text), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let fraction = fraction.trim_end_matches('0');
    let sign = if whole == "0" && fraction.is_empty() { "" } else { sign };
    Some(if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") })
}

/// Whether column `name` of both tables stores another type in `read` (cast, or dropped and
/// added); autoincrement coming or going is a change of default.
fn retyped_column(old: &Table, read: &Table, name: &str) -> bool {
    column_type_change(old, read, name).is_some()
}

/// A type Prisma does not cast to (to or from an enum, a scalar to a list, most changes between
/// unrelated types: Prisma's table, `postgres_column_type_change`) is a drop and an add; the
/// column's indexes and foreign keys go with it and are created again.
fn recreated_column(old: &Table, read: &Table, name: &str) -> bool {
    column_type_change(old, read, name) == Some(TypeChange::Recreate)
}

/// How Prisma changes a column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeChange {
    /// `ALTER COLUMN ... SET DATA TYPE`.
    Cast,
    /// `DROP COLUMN` and `ADD COLUMN`.
    Recreate,
}

/// The change of column `name`'s type between both tables, as Prisma judges it: `None` where
/// the types are the same or Prisma counts them so (a time or timestamp precision given on one
/// side only).
fn column_type_change(old: &Table, read: &Table, name: &str) -> Option<TypeChange> {
    let before = old.columns.iter().find(|c| c.name == name)?.stored_type();
    let after = read.columns.iter().find(|c| c.name == name)?.stored_type();
    if before == after {
        return None;
    }
    if is_enum(before) || is_enum(after) {
        return Some(TypeChange::Recreate);
    }
    let (before_list, after_list) = (before.strip_suffix("[]"), after.strip_suffix("[]"));
    match (before_list, after_list) {
        // A list becomes text by a cast, anything else by a drop and an add.
        (Some(_), None) => Some(match native(after).0 {
            "TEXT" | "VARCHAR" | "CHAR" => TypeChange::Cast,
            _ => TypeChange::Recreate,
        }),
        (None, Some(_)) => Some(TypeChange::Recreate),
        (Some(before), Some(after)) => scalar_type_change(before, after),
        (None, None) => scalar_type_change(before, after),
    }
}

/// A rendered type as its name and length, precision or scale (`VARCHAR(20)`: `VARCHAR`, 20).
fn native(data_type: &str) -> (&str, Option<u32>) {
    match data_type.split_once('(') {
        Some((base, args)) => {
            (base, args.trim_end_matches(')').split(',').next().and_then(|n| n.trim().parse().ok()))
        }
        None => (data_type, None),
    }
}

/// Prisma's table of PostgreSQL type changes (types Prisma knows; `Unsupported` ones are cast).
fn scalar_type_change(before: &str, after: &str) -> Option<TypeChange> {
    use TypeChange::{Cast, Recreate};
    let (from, from_arg) = native(before);
    let (to, to_arg) = native(after);
    let text = matches!(to, "TEXT") || (to == "VARCHAR" && to_arg.is_none());
    let string_of_at_least = |min: u32| matches!(to, "CHAR" | "VARCHAR") && to_arg.is_some_and(|n| n > min);
    let numbers = ["SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "REAL", "DOUBLE PRECISION"];
    let strings = ["TEXT", "VARCHAR", "CHAR"];
    // A time or timestamp keeps its type when either side gives no precision or both the same.
    let same_precision = from == to && (from_arg.is_none() || to_arg.is_none() || from_arg == to_arg);
    let castable = match from {
        "MONEY" | "CITEXT" => true,
        "INET" => matches!(to, "CITEXT" | "TEXT" | "VARCHAR"),
        "OID" => matches!(to, "TEXT" | "VARCHAR" | "BIGINT" | "INTEGER"),
        "SMALLINT" | "INTEGER" | "BIGINT" | "DECIMAL" | "REAL" | "DOUBLE PRECISION" => {
            numbers.contains(&to) || strings.contains(&to)
        }
        "VARCHAR" | "CHAR" => strings.contains(&to),
        "TEXT" => strings.contains(&to) || to == "CITEXT",
        "BYTEA" => text || string_of_at_least(2),
        "TIMESTAMP" | "TIMESTAMPTZ" if same_precision => return None,
        "TIMESTAMP" => {
            text || string_of_at_least(22)
                || matches!(to, "TIMESTAMP" | "TIMESTAMPTZ" | "DATE" | "TIME" | "TIMETZ")
        }
        "TIMESTAMPTZ" => {
            text || string_of_at_least(27)
                || matches!(to, "TIMESTAMP" | "TIMESTAMPTZ" | "DATE" | "TIME" | "TIMETZ")
        }
        "DATE" => text || string_of_at_least(27) || matches!(to, "TIMESTAMP" | "TIMESTAMPTZ"),
        "TIME" | "TIMETZ" if same_precision => return None,
        "TIME" => text || string_of_at_least(13) || to == "TIMETZ",
        "TIMETZ" => text || string_of_at_least(18) || matches!(to, "TIME" | "TIMETZ"),
        "BOOLEAN" => matches!(to, "TEXT" | "VARCHAR") || (to == "CHAR" && to_arg.is_some_and(|n| n > 3)),
        "BIT" => match from_arg {
            None => matches!(to, "TEXT" | "VARCHAR" | "CHAR" | "VARBIT"),
            Some(length) => {
                text || (to == "VARBIT" && to_arg.is_none_or(|n| n >= length))
                    || (matches!(to, "VARCHAR" | "CHAR") && to_arg.is_some_and(|n| n >= length))
            }
        },
        "VARBIT" => match from_arg {
            None => text || matches!(to, "VARCHAR" | "CHAR" | "BIT"),
            Some(length) => {
                text || matches!(to, "VARCHAR" | "CHAR")
                    || (to == "VARBIT" && to_arg.is_none_or(|n| n > length))
                    || (to == "BIT" && to_arg.is_none_or(|n| n <= length))
            }
        },
        "UUID" => text || string_of_at_least(31),
        "XML" => strings.contains(&to),
        "JSON" => strings.contains(&to) || to == "JSONB",
        "JSONB" => strings.contains(&to) || to == "JSON",
        // A type Prisma does not know (`Unsupported`): a cast.
        _ => true,
    };
    let known = |name: &str| {
        numbers.contains(&name)
            || strings.contains(&name)
            || [
                "MONEY",
                "CITEXT",
                "INET",
                "OID",
                "BYTEA",
                "TIMESTAMP",
                "TIMESTAMPTZ",
                "DATE",
                "TIME",
                "TIMETZ",
                "BOOLEAN",
                "BIT",
                "VARBIT",
                "UUID",
                "XML",
                "JSON",
                "JSONB",
            ]
            .contains(&name)
    };
    Some(if castable || !known(to) { Cast } else { Recreate })
}

/// Whether a rendered type is an enum (`"Role"`, `"crm"."Stage"`, `"Role"[]`): the only types
/// Prisma renders quoted.
fn is_enum(data_type: &str) -> bool {
    data_type.starts_with('"')
}

/// `name` of `database`'s side as Prisma writes it there: qualified when it was read from a
/// database.
fn in_namespace(name: &Name, database: &Database) -> Name {
    Name { schema: name.schema.clone().or_else(|| database.namespace.clone()), name: name.name.clone() }
}

/// Prisma's rebuild of an enum that loses values, in one transaction.
fn recreate_enum(from: &Database, to: &Database, item: &EnumType) -> String {
    let staged = Name { schema: item.name.schema.clone(), name: format!("{}_new", item.name.name) };
    let retired = format!("{}_old", item.name.name);
    let values: Vec<String> = item.values.iter().map(|v| quote_literal(v)).collect();
    let mut lines =
        vec!["BEGIN".to_owned(), format!("CREATE TYPE {} AS ENUM ({})", name(&staged), values.join(", "))];
    let type_name = name(&item.name);
    // Prisma drops every default of the type first, then converts each column.
    let (mut dropped_defaults, mut conversions, mut defaults) = (Vec::new(), Vec::new(), Vec::new());
    // Every column of the type as the database has it now (tables dropped later included, or
    // the old type could not be dropped); a default of the old type blocks the conversion, and
    // the one the new schema wants is set afterwards.
    for table in &from.tables {
        for col in &table.columns {
            let array = col.data_type == format!("{type_name}[]");
            if col.data_type != type_name && !array {
                continue;
            }
            let target = quote_ident(&col.name);
            if col.default.is_some() {
                dropped_defaults.push(format!(
                    "ALTER TABLE {} ALTER COLUMN {target} DROP DEFAULT",
                    name(&in_namespace(&table.name, from))
                ));
            }
            let wanted = to
                .tables
                .iter()
                .find(|t| t.name == table.name)
                .and_then(|t| t.columns.iter().find(|c| c.name == col.name && c.data_type == col.data_type))
                .and_then(|c| c.default.as_ref());
            if let Some(default) = wanted.filter(|_| col.default.is_some()) {
                defaults.push(format!(
                    "ALTER TABLE {} ALTER COLUMN {target} SET DEFAULT {default}",
                    name(&table.name)
                ));
            }
            // A list too goes through `text` (its array literal), as Prisma writes it.
            let suffix = if array { "[]" } else { "" };
            conversions.push(format!(
                "ALTER TABLE {} ALTER COLUMN {target} TYPE {staged}{suffix} USING ({target}::text::{staged}{suffix})",
                name(&table.name),
                staged = name(&staged)
            ));
        }
    }
    lines.extend(dropped_defaults);
    lines.extend(conversions);
    lines.push(format!("ALTER TYPE {type_name} RENAME TO {}", quote_ident(&retired)));
    lines.push(format!("ALTER TYPE {} RENAME TO {}", name(&staged), quote_ident(&item.name.name)));
    let retired_name = Name { schema: item.name.schema.clone(), name: retired };
    lines.push(format!("DROP TYPE {}", name(&in_namespace(&retired_name, from))));
    lines.extend(defaults);
    lines.push("COMMIT".into());
    lines.join(";\n")
}

/// Whether both sides give an extension's schema, or its version, and they differ: what Prisma
/// answers by dropping and creating it (a side that does not say is taken as agreeing).
fn moved_or_upgraded(from: &Extension, to: &Extension) -> bool {
    let differ = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
    differ(&from.schema, &to.schema) || differ(&from.version, &to.version)
}

/// `CREATE EXTENSION IF NOT EXISTS "name" WITH SCHEMA "s" VERSION "v"`, as Prisma writes it.
fn create_extension(extension: &Extension) -> String {
    let mut statement = format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(&extension.name));
    let mut with = Vec::new();
    if let Some(schema) = &extension.schema {
        with.push(format!("SCHEMA {}", quote_ident(schema)));
    }
    if let Some(version) = &extension.version {
        with.push(format!("VERSION {}", quote_ident(version)));
    }
    if !with.is_empty() {
        statement.push_str(&format!(" WITH {}", with.join(" ")));
    }
    statement
}
