//! Enums: created, grown in place (`ADD VALUE ... BEFORE`), or rebuilt when values disappear or
//! change order, which PostgreSQL cannot do in place: a new type with the new labels, every
//! column converted through text, the old type dropped and the new one renamed, defaults set
//! again. A row holding a removed label makes the conversion fail, so nothing is lost silently.

use haste_schema::{Enum, Schema, qualified};
use haste_sql::{quote_ident, quote_literal};

use crate::plan::{Builder, by, table_key};
use crate::{Hazard, Lock, Named, SchemaChange, Step};

fn named(item: &Enum) -> Named {
    Named::new(&item.schema, &item.name)
}

fn enum_key(item: &Enum) -> String {
    qualified(&item.schema, &item.name)
}

/// Whether `old`'s labels all survive in `new`, in the same order (so they can be extended).
fn only_grows(old: &Enum, new: &Enum) -> bool {
    let kept: Vec<&String> = new.values.iter().filter(|v| old.values.contains(v)).collect();
    kept.len() == old.values.len() && kept.iter().zip(&old.values).all(|(a, b)| *a == b)
}

/// The enums on both sides whose labels lost one or changed order.
pub(crate) fn rebuilt(from: &Schema, to: &Schema) -> Vec<String> {
    let old = by(&from.enums, enum_key);
    to.enums
        .iter()
        .filter(|new| old.get(&enum_key(new)).is_some_and(|old| !only_grows(old, new)))
        .map(enum_key)
        .collect()
}

/// New enums, and labels added to enums that only grow.
pub(crate) fn create_and_extend(plan: &mut Builder, from: &Schema, to: &Schema, rebuilt: &[String]) {
    let old_enums = by(&from.enums, enum_key);
    for new in &to.enums {
        let Some(old) = old_enums.get(&enum_key(new)) else {
            plan.push(&SchemaChange::CreateEnum(named(new)), new.create_statement(), Lock::None, &[]);
            continue;
        };
        if rebuilt.contains(&enum_key(new)) {
            continue;
        }
        for (position, value) in new.values.iter().enumerate() {
            if old.values.contains(value) {
                continue;
            }
            let place = match new.values[position + 1..].iter().find(|v| old.values.contains(v)) {
                Some(next) => format!(" BEFORE {}", quote_literal(next)),
                None => String::new(),
            };
            plan.push(
                &SchemaChange::AddEnumLabel { enum_type: named(new), label: value.clone() },
                format!("ALTER TYPE {} ADD VALUE {}{place}", enum_key(new), quote_literal(value)),
                Lock::None,
                &[],
            );
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

/// Whether a column type as `format_type` prints it (`"Stage"`, `crm.stage`, `stage[]`) names
/// `item`; returns whether it is an array of it.
pub(crate) fn column_uses(data_type: &str, item: &Enum) -> Option<bool> {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (data_type, false),
    };
    let bare = base.replace('"', "");
    (bare == item.name || bare == format!("{}.{}", item.schema, item.name)).then_some(array)
}

/// Rebuilds each enum of `rebuilt` with its labels in `to`, converting the columns of tables
/// that already exist (new tables are created afterwards with the new type).
pub(crate) fn rebuild(plan: &mut Builder, from: &Schema, to: &Schema, rebuilt: &[String]) {
    let old_tables = by(&from.tables, table_key);
    for item in to.enums.iter().filter(|e| rebuilt.contains(&enum_key(e))) {
        let source = SchemaChange::RebuildEnum(named(item));
        let name = enum_key(item);
        let staged = qualified(&item.schema, &format!("{}_new", item.name));
        let retired = format!("{}_old", item.name);
        let values: Vec<String> = item.values.iter().map(|v| quote_literal(v)).collect();
        plan.push(&source, format!("CREATE TYPE {staged} AS ENUM ({})", values.join(", ")), Lock::None, &[]);
        let mut defaults = Vec::new();
        for table in to.tables.iter().filter(|t| old_tables.contains_key(&table_key(t))) {
            for column in &table.columns {
                let Some(array) = column_uses(&column.data_type, item) else { continue };
                let (table_name, target) = (table.qualified_name(), quote_ident(&column.name));
                if let Some(default) = &column.default {
                    plan.push(
                        &source,
                        format!("ALTER TABLE {table_name} ALTER COLUMN {target} DROP DEFAULT"),
                        Lock::AccessExclusive,
                        &[],
                    );
                    defaults.push(format!(
                        "ALTER TABLE {table_name} ALTER COLUMN {target} SET DEFAULT {default}"
                    ));
                }
                let suffix = if array { "[]" } else { "" };
                plan.push(
                    &source,
                    format!(
                        "ALTER TABLE {table_name} ALTER COLUMN {target} TYPE {staged}{suffix} USING ({target}::text{suffix}::{staged}{suffix})"
                    ),
                    Lock::AccessExclusive,
                    &[Hazard::TableRewrite],
                );
            }
        }
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

/// Enums that nothing declares any more.
pub(crate) fn drop_unused(plan: &mut Builder, from: &Schema, to: &Schema) {
    for old in from.enums.iter().filter(|e| !to.enums.iter().any(|n| enum_key(n) == enum_key(e))) {
        plan.push(
            &SchemaChange::DropEnum(named(old)),
            format!("DROP TYPE {}", enum_key(old)),
            Lock::None,
            &[],
        );
    }
}
