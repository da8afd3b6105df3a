//! Enums: created, grown in place (`ADD VALUE ... BEFORE`), or rebuilt when values disappear or
//! change order, which PostgreSQL cannot do in place: a new type with the new labels, every
//! column converted through text, the old type dropped and the new one renamed, defaults set
//! again. A row holding a removed label makes the conversion fail, so nothing is lost silently.
//! `migrate dev` plans the common case online instead (one column of a table that exists typed
//! by the enum): `haste-dev`'s `retype.rs`.

use haste_schema::{Enum, Table, qualified};
use haste_sql::{quote_ident, quote_literal, unused_ident};

use crate::builder::Builder;
use crate::compare::{Comparison, ObjectChange, Pair, by, table_key};
use crate::{Hazard, Lock, Named, SchemaChange, Step};

fn named(item: &Enum) -> Named {
    Named::new(&item.schema, &item.name)
}

fn enum_key(item: &Enum) -> String {
    qualified(&item.schema, &item.name)
}

/// New enums, and labels added to enums that only grow.
pub(crate) fn create_and_extend(plan: &mut Builder, comparison: &Comparison) {
    for change in &comparison.changes {
        match change {
            ObjectChange::AddEnum(new) => {
                plan.push(&SchemaChange::CreateEnum(named(new)), new.create_statement(), Lock::None, &[])
            }
            ObjectChange::AddEnumLabel { enum_type, label, before } => {
                let place = before.map(|next| format!(" BEFORE {}", quote_literal(next))).unwrap_or_default();
                plan.push(
                    &SchemaChange::AddEnumLabel { enum_type: named(enum_type), label: (*label).to_owned() },
                    format!("ALTER TYPE {} ADD VALUE {}{place}", enum_key(enum_type), quote_literal(label)),
                    Lock::None,
                    &[],
                );
            }
            _ => {}
        }
    }
}

/// PostgreSQL refuses a label added by `ADD VALUE` until that transaction commits (55P04), so a
/// later statement that uses it (a default, a check, an index predicate) must run apart. A use
/// is the label's literal anywhere in the statement: a statement that merely looks like one runs
/// apart too, which costs a transaction, never correctness.
pub(crate) fn separate_new_label_uses(steps: &mut [Step]) {
    let mut added: Vec<String> = Vec::new();
    for step in steps {
        if added.iter().any(|literal| step.sql.contains(literal.as_str())) {
            step.alone = true;
        }
        if let SchemaChange::AddEnumLabel { label, .. } = &step.source {
            added.push(quote_literal(label));
        }
    }
}

pub(crate) use haste_schema::type_is as column_uses;

/// Rebuilds each enum that lost or reordered labels with its labels in `to`, converting the
/// columns of tables that already exist (new tables are created afterwards with the new type).
pub(crate) fn rebuild(plan: &mut Builder, comparison: &Comparison) {
    for change in &comparison.changes {
        let ObjectChange::RebuildEnum(Pair { to: item, .. }) = change else { continue };
        let source = SchemaChange::RebuildEnum(named(item));
        let name = enum_key(item);
        // Prisma's `<name>_new` and `<name>_old`, cut to 63 bytes and made unique among the
        // schema's types (two long names cut to the same bytes would meet).
        let staged = qualified(&item.schema, &staging_name(comparison, &item.schema, &item.name));
        let retired = unused_ident(&item.name, "_old", |name| type_taken(comparison, &item.schema, name));
        let values: Vec<String> = item.values.iter().map(|v| quote_literal(v)).collect();
        plan.push(&source, format!("CREATE TYPE {staged} AS ENUM ({})", values.join(", ")), Lock::None, &[]);
        let defaults =
            convert_columns(plan, comparison, &source, (&item.schema, &item.name), &staged, "text");
        plan.push(&source, format!("ALTER TYPE {name} RENAME TO {}", quote_ident(&retired)), Lock::None, &[]);
        plan.push(
            &source,
            format!("ALTER TYPE {staged} RENAME TO {}", quote_ident(&item.name)),
            Lock::None,
            &[],
        );
        plan.push(&source, format!("DROP TYPE {}", qualified(&item.schema, &retired)), Lock::None, &[]);
        for statement in defaults {
            plan.push(&source, statement, Lock::AccessExclusive, &[]);
        }
    }
}

/// `<name>_new`, cut to 63 bytes and free among the schema's types on both sides: the name under
/// which a rebuilt enum, domain or composite type is made before it takes the old one's.
pub(crate) fn staging_name(comparison: &Comparison, schema: &str, name: &str) -> String {
    unused_ident(name, "_new", |taken| type_taken(comparison, schema, taken))
}

/// Puts the staging type `staged` (made already) in the place of `schema`.`name`, a domain or
/// composite type (`keyword`: `DOMAIN` or `TYPE`): the columns of existing tables converted
/// through `via`, the old one dropped, the staged one renamed, the defaults set again.
pub(crate) fn replace_with_staged(
    plan: &mut Builder,
    comparison: &Comparison,
    source: &SchemaChange,
    keyword: &str,
    (schema, name): (&str, &str),
    staged: &str,
    via: &str,
) {
    let defaults = convert_columns(plan, comparison, source, (schema, name), staged, via);
    plan.push(source, format!("DROP {keyword} {}", qualified(schema, name)), Lock::None, &[]);
    plan.push(source, format!("ALTER {keyword} {staged} RENAME TO {}", quote_ident(name)), Lock::None, &[]);
    for statement in defaults {
        plan.push(source, statement, Lock::AccessExclusive, &[]);
    }
}

/// Converts every column of an existing table typed by `old` (a type, or an array of it) to the
/// staging type `staged` through `via` (the text of an enum, the base type of a domain), its
/// default dropped first; returns the statements that set the defaults again once the staging
/// type has the old one's name. A value the new type refuses fails the conversion: nothing is
/// lost silently.
pub(crate) fn convert_columns(
    plan: &mut Builder,
    comparison: &Comparison,
    source: &SchemaChange,
    (schema, name): (&str, &str),
    staged: &str,
    via: &str,
) -> Vec<String> {
    let old_tables = by(&comparison.from.tables, table_key);
    let mut defaults = Vec::new();
    for table in comparison.to.tables.iter().filter(|t| old_tables.contains_key(&table_key(t))) {
        let through_parent = reached_through_parent(comparison, table);
        for column in &table.columns {
            let Some(array) = column_uses(&column.data_type, schema, name) else { continue };
            let (table_name, target) = (table.qualified_name(), quote_ident(&column.name));
            if let Some(default) = &column.default {
                plan.push(
                    source,
                    format!("ALTER TABLE {table_name} ALTER COLUMN {target} DROP DEFAULT"),
                    Lock::AccessExclusive,
                    &[],
                );
                defaults
                    .push(format!("ALTER TABLE {table_name} ALTER COLUMN {target} SET DEFAULT {default}"));
            }
            if through_parent {
                continue;
            }
            let suffix = if array { "[]" } else { "" };
            // A cast to a length-limited base type would cut what does not fit: the conversion
            // stops at the unlimited type, and the column's assignment to the staging type
            // (its base's length) refuses such a value.
            let via = format!("{via}{suffix}");
            let converted = match haste_sql::cast_cuts(&via) {
                true => haste_sql::conversion(&target, &via),
                false => format!("{target}::{via}::{staged}{suffix}"),
            };
            plan.push(
                source,
                format!(
                    "ALTER TABLE {table_name} ALTER COLUMN {target} TYPE {staged}{suffix} USING ({converted})"
                ),
                Lock::AccessExclusive,
                &[Hazard::TableRewrite],
            );
        }
    }
    defaults
}

/// Whether `table` is a partition of the same parent on both sides: the conversion of the
/// parent's column (and a read of the parent) reaches it, and PostgreSQL refuses a type change
/// of its own (42P16, "cannot alter inherited column").
pub(crate) fn reached_through_parent(comparison: &Comparison, table: &Table) -> bool {
    let same = |t: &&Table| t.schema == table.schema && t.name == table.name;
    let (Some(old), Some(new)) =
        (comparison.from.tables.iter().find(same), comparison.to.tables.iter().find(same))
    else {
        return false;
    };
    comparison.from.tables.iter().any(|parent| old.is_partition_of(parent) && new.is_partition_of(parent))
}

/// Whether a type named `name` is in `schema` on either side (enums, composite types, domains,
/// and the row types of tables and views).
pub(crate) fn type_taken(comparison: &Comparison, schema: &str, name: &str) -> bool {
    [comparison.from, comparison.to].iter().any(|side| {
        side.enums.iter().any(|e| e.schema == schema && e.name == name)
            || side.composites.iter().any(|c| c.schema == schema && c.name == name)
            || side.domains.iter().any(|d| d.schema == schema && d.name == name)
            || side.tables.iter().any(|t| t.schema == schema && t.name == name)
            || side.views.iter().any(|v| v.schema == schema && v.name == name)
    })
}

/// Enums that nothing declares any more.
pub(crate) fn drop_unused(plan: &mut Builder, comparison: &Comparison) {
    for change in &comparison.changes {
        let ObjectChange::DropEnum(old) = change else { continue };
        plan.push(
            &SchemaChange::DropEnum(named(old)),
            format!("DROP TYPE {}", enum_key(old)),
            Lock::None,
            &[],
        );
    }
}
