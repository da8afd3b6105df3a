//! Building the plan, phase by phase.

use std::collections::{BTreeMap, BTreeSet};

use haste_schema::{Column, Constraint, Schema, Table, comment_statements, qualified};
use haste_sql::{quote_ident, quote_literal};

use crate::{Error, Hazard, Plan, Step};

struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    fn push(&mut self, sql: impl Into<String>, hazards: &[Hazard]) {
        self.steps.push(Step { sql: sql.into(), hazards: hazards.to_vec() });
    }
}

/// Objects keyed by name, for matching the two sides.
fn by<'a, T>(items: &'a [T], key: impl Fn(&T) -> String) -> BTreeMap<String, &'a T> {
    items.iter().map(|item| (key(item), item)).collect()
}

/// The statements that turn `from` into `to`.
pub fn diff(from: &Schema, to: &Schema) -> Result<Plan, Error> {
    let mut plan = Builder { steps: Vec::new() };
    let table_key = |t: &Table| qualified(&t.schema, &t.name);
    let (old_tables, new_tables) = (by(&from.tables, table_key), by(&to.tables, table_key));

    // Tables whose columns change: views reading them are dropped first and recreated last.
    let reshaped: BTreeSet<&String> = old_tables
        .iter()
        .filter(|(key, old)| {
            new_tables.get(*key).is_some_and(|new| new.columns_by_name() != old.columns_by_name())
        })
        .map(|(key, _)| key)
        .collect();
    let view_key = |v: &haste_schema::View| qualified(&v.schema, &v.name);
    let recreate_all_views =
        !reshaped.is_empty() || old_tables.keys().any(|key| !new_tables.contains_key(key));
    let views_to_drop: Vec<&haste_schema::View> =
        from.views.iter().filter(|view| recreate_all_views || !to.views.contains(view)).collect();
    let views_to_create: Vec<&haste_schema::View> =
        to.views.iter().filter(|view| recreate_all_views || !from.views.contains(view)).collect();

    // 1. Schemas and extensions that appear.
    for namespace in &to.schemas {
        if !from.schemas.iter().any(|n| n.name == namespace.name) {
            plan.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&namespace.name)), &[]);
        }
    }
    for extension in to.extensions.iter().filter(|e| !from.extensions.contains(e)) {
        plan.push(extension.create_statement(), &[]);
    }

    // 2. Types and sequences that appear or grow.
    let enum_key = |e: &haste_schema::Enum| qualified(&e.schema, &e.name);
    let old_enums = by(&from.enums, enum_key);
    for new in &to.enums {
        match old_enums.get(&enum_key(new)) {
            None => plan.push(new.create_statement(), &[]),
            Some(old) if old.values != new.values => {
                // Only additions: the old labels must stay, in the same order.
                let kept: Vec<&String> = new.values.iter().filter(|v| old.values.contains(v)).collect();
                if kept.len() != old.values.len() || kept.iter().zip(&old.values).any(|(a, b)| *a != b) {
                    return Err(Error::EnumValuesRemoved { name: enum_key(new) });
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
                        format!("ALTER TYPE {} ADD VALUE {}{place}", enum_key(new), quote_literal(value)),
                        &[],
                    );
                }
            }
            Some(_) => {}
        }
    }
    let composite_key = |c: &haste_schema::Composite| qualified(&c.schema, &c.name);
    let domain_key = |d: &haste_schema::Domain| qualified(&d.schema, &d.name);
    for new in to.composites.iter().filter(|c| !from.composites.contains(c)) {
        if from.composites.iter().any(|old| composite_key(old) == composite_key(new)) {
            plan.push(format!("DROP TYPE {}", composite_key(new)), &[Hazard::DataLoss]);
        }
        plan.push(new.create_statement(), &[]);
    }
    for new in to.domains.iter().filter(|d| !from.domains.contains(d)) {
        if from.domains.iter().any(|old| domain_key(old) == domain_key(new)) {
            plan.push(format!("DROP DOMAIN {}", domain_key(new)), &[Hazard::DataLoss]);
        }
        for statement in new.create_statements() {
            plan.push(statement, &[]);
        }
    }
    let sequence_key = |s: &haste_schema::Sequence| qualified(&s.schema, &s.name);
    let old_sequences = by(&from.sequences, sequence_key);
    for new in to.sequences.iter().filter(|s| !s.identity && !old_sequences.contains_key(&sequence_key(s))) {
        plan.push(new.create_statement(), &[]);
    }

    // 3. What depends on changed objects goes first: triggers, policies, views, foreign keys,
    //    constraints and indexes that change or disappear.
    for old in from.triggers.iter().filter(|t| !to.triggers.contains(t)) {
        if new_tables.contains_key(&qualified(&old.schema, &old.table)) {
            plan.push(
                format!("DROP TRIGGER {} ON {}", quote_ident(&old.name), qualified(&old.schema, &old.table)),
                &[],
            );
        }
    }
    for old in from.policies.iter().filter(|p| !to.policies.contains(p)) {
        if new_tables.contains_key(&qualified(&old.schema, &old.table)) {
            plan.push(
                format!("DROP POLICY {} ON {}", quote_ident(&old.name), qualified(&old.schema, &old.table)),
                &[],
            );
        }
    }
    for old in views_to_drop.iter().rev() {
        let kind = if old.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
        plan.push(format!("DROP {kind} {}", view_key(old)), &[]);
    }
    let changed_constraints = |foreign: bool| -> Vec<(&Table, &Constraint)> {
        from.tables
            .iter()
            .filter_map(|old| new_tables.get(&table_key(old)).map(|new| (old, new)))
            .flat_map(|(old, new)| {
                old.constraints
                    .iter()
                    .filter(move |c| (c.kind == "f") == foreign && !new.constraints.contains(c))
                    .map(move |c| (old, c))
            })
            .collect()
    };
    for (table, constraint) in changed_constraints(true).into_iter().chain(changed_constraints(false)) {
        plan.push(
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                table.qualified_name(),
                quote_ident(&constraint.name)
            ),
            &[Hazard::AccessExclusiveLock],
        );
    }
    let index_key = |i: &haste_schema::Index| qualified(&i.schema, &i.name);
    for old in from.indexes.iter().filter(|i| !to.indexes.contains(i)) {
        if new_tables.contains_key(&qualified(&old.schema, &old.table)) {
            plan.push(format!("DROP INDEX {}", index_key(old)), &[Hazard::AccessExclusiveLock]);
        }
    }

    // 4. Tables that disappear (their foreign keys first, so they go in any order), then
    //    changes to the tables on both sides.
    for (key, old) in &old_tables {
        if !new_tables.contains_key(key) {
            for constraint in old.constraints.iter().filter(|c| c.kind == "f") {
                plan.push(
                    format!("ALTER TABLE {key} DROP CONSTRAINT {}", quote_ident(&constraint.name)),
                    &[Hazard::AccessExclusiveLock],
                );
            }
        }
    }
    for (key, old) in &old_tables {
        if !new_tables.contains_key(key) && old.partition_of.is_none() {
            plan.push(format!("DROP TABLE {key}"), &[Hazard::AccessExclusiveLock, Hazard::DataLoss]);
        }
    }
    for (key, old) in &old_tables {
        if let Some(new) = new_tables.get(key) {
            alter_table(&mut plan, old, new);
        }
    }

    // 5. Functions (before the tables, defaults and triggers that may call them).
    for new in to.functions.iter().filter(|f| !from.functions.contains(f)) {
        plan.push(new.definition.trim_end().trim_end_matches(';').to_owned(), &[]);
    }

    // 6. New tables, then constraints, indexes and foreign keys.
    let mut created: Vec<&&Table> =
        new_tables.iter().filter(|(key, _)| !old_tables.contains_key(*key)).map(|(_, t)| t).collect();
    created.sort_by_key(|table| table.partition_of.is_some());
    for table in &created {
        plan.push(table.create_statement(), &[]);
    }
    for sequence in
        to.sequences.iter().filter(|s| !s.identity && !old_sequences.contains_key(&sequence_key(s)))
    {
        if let Some((table, column)) = &sequence.owned_by {
            plan.push(
                format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{}",
                    sequence_key(sequence),
                    qualified(&sequence.schema, table),
                    quote_ident(column)
                ),
                &[],
            );
        }
    }
    let added_constraints = |foreign: bool| -> Vec<(&Table, &Constraint)> {
        to.tables
            .iter()
            .flat_map(|new| {
                let old = old_tables.get(&table_key(new));
                new.constraints
                    .iter()
                    .filter(move |c| {
                        (c.kind == "f") == foreign && !old.is_some_and(|old| old.constraints.contains(c))
                    })
                    .map(move |c| (new, c))
            })
            .collect()
    };
    for (table, constraint) in added_constraints(false) {
        let existing = old_tables.contains_key(&table_key(table));
        let hazards: &[Hazard] =
            if existing { &[Hazard::AccessExclusiveLock, Hazard::TableScan] } else { &[] };
        plan.push(table.add_constraint_statement(constraint), hazards);
    }
    for new in to.indexes.iter().filter(|i| !from.indexes.contains(i)) {
        let existing = old_tables.contains_key(&qualified(&new.schema, &new.table));
        let hazards: &[Hazard] = if existing { &[Hazard::IndexBuild] } else { &[] };
        plan.push(new.definition.clone(), hazards);
    }
    for (table, constraint) in added_constraints(true) {
        let existing = old_tables.contains_key(&table_key(table));
        let hazards: &[Hazard] = if existing { &[Hazard::TableScan] } else { &[] };
        plan.push(table.add_constraint_statement(constraint), hazards);
    }

    // 7. Dependents last: views in creation order, triggers, row security, policies, comments.
    for view in views_to_create {
        plan.push(view.create_statement(), &[]);
    }
    for new in to.triggers.iter().filter(|t| !from.triggers.contains(t)) {
        plan.push(new.definition.clone(), &[]);
    }
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        let name = new.qualified_name();
        match (old.map(|o| o.row_security), new.row_security) {
            (Some(false) | None, true) => {
                plan.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"), &[])
            }
            (Some(true), false) => plan.push(format!("ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"), &[]),
            _ => {}
        }
        match (old.map(|o| o.force_row_security), new.force_row_security) {
            (Some(false) | None, true) => {
                plan.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"), &[])
            }
            (Some(true), false) => plan.push(format!("ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY"), &[]),
            _ => {}
        }
    }
    for new in to.policies.iter().filter(|p| !from.policies.contains(p)) {
        plan.push(new.create_statement(), &[]);
    }
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        if old.is_none_or(|old| comment_statements(old) != comment_statements(new)) {
            for statement in comment_statements(new) {
                plan.push(statement, &[]);
            }
            if let Some(old) = old
                && old.comment.is_some()
                && new.comment.is_none()
            {
                plan.push(format!("COMMENT ON TABLE {} IS NULL", new.qualified_name()), &[]);
            }
        }
    }

    // 8. What nothing uses any more: functions, types, sequences, extensions, schemas.
    for old in from.functions.iter().filter(|f| !to.functions.iter().any(|n| n.signature == f.signature)) {
        plan.push(format!("DROP FUNCTION {}", old.signature), &[]);
    }
    for old in from.enums.iter().filter(|e| !to.enums.iter().any(|n| enum_key(n) == enum_key(e))) {
        plan.push(format!("DROP TYPE {}", enum_key(old)), &[]);
    }
    for old in
        from.composites.iter().filter(|c| !to.composites.iter().any(|n| composite_key(n) == composite_key(c)))
    {
        plan.push(format!("DROP TYPE {}", composite_key(old)), &[]);
    }
    for old in from.domains.iter().filter(|d| !to.domains.iter().any(|n| domain_key(n) == domain_key(d))) {
        plan.push(format!("DROP DOMAIN {}", domain_key(old)), &[]);
    }
    for old in from
        .sequences
        .iter()
        .filter(|s| !s.identity && !to.sequences.iter().any(|n| sequence_key(n) == sequence_key(s)))
    {
        if old.owned_by.is_none() {
            plan.push(format!("DROP SEQUENCE {}", sequence_key(old)), &[Hazard::DataLoss]);
        }
    }
    for old in from.extensions.iter().filter(|e| !to.extensions.iter().any(|n| n.name == e.name)) {
        plan.push(format!("DROP EXTENSION {}", quote_ident(&old.name)), &[]);
    }
    for old in from.schemas.iter().filter(|s| !to.schemas.iter().any(|n| n.name == s.name)) {
        plan.push(format!("DROP SCHEMA {}", quote_ident(&old.name)), &[Hazard::DataLoss]);
    }
    Ok(Plan { steps: plan.steps })
}

/// Column changes of a table that exists on both sides.
fn alter_table(plan: &mut Builder, old: &Table, new: &Table) {
    let name = new.qualified_name();
    let old_columns: BTreeMap<&str, &Column> = old.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new_columns: BTreeMap<&str, &Column> = new.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for column in &old.columns {
        let replaced = new_columns
            .get(column.name.as_str())
            .is_some_and(|n| n.identity != column.identity || n.generated != column.generated);
        if !new_columns.contains_key(column.name.as_str()) || replaced {
            plan.push(
                format!("ALTER TABLE {name} DROP COLUMN {}", quote_ident(&column.name)),
                &[Hazard::AccessExclusiveLock, Hazard::DataLoss],
            );
        }
    }
    for column in &new.columns {
        let Some(previous) = old_columns.get(column.name.as_str()) else {
            plan.push(
                format!("ALTER TABLE {name} ADD COLUMN {}", column.definition()),
                &[Hazard::AccessExclusiveLock],
            );
            continue;
        };
        if previous.identity != column.identity || previous.generated != column.generated {
            plan.push(
                format!("ALTER TABLE {name} ADD COLUMN {}", column.definition()),
                &[Hazard::AccessExclusiveLock],
            );
            continue;
        }
        let target = quote_ident(&column.name);
        if previous.data_type != column.data_type || previous.collation != column.collation {
            let collate = column.collation.as_ref().map(|c| format!(" COLLATE {c}")).unwrap_or_default();
            if previous.default.is_some() {
                plan.push(format!("ALTER TABLE {name} ALTER COLUMN {target} DROP DEFAULT"), &[]);
            }
            plan.push(
                format!(
                    "ALTER TABLE {name} ALTER COLUMN {target} TYPE {}{collate} USING {target}::{}",
                    column.data_type, column.data_type
                ),
                &[Hazard::AccessExclusiveLock, Hazard::TableRewrite],
            );
            if let Some(default) = &column.default {
                plan.push(format!("ALTER TABLE {name} ALTER COLUMN {target} SET DEFAULT {default}"), &[]);
            }
        } else if previous.default != column.default {
            match &column.default {
                Some(default) => {
                    plan.push(format!("ALTER TABLE {name} ALTER COLUMN {target} SET DEFAULT {default}"), &[])
                }
                None => plan.push(format!("ALTER TABLE {name} ALTER COLUMN {target} DROP DEFAULT"), &[]),
            }
        }
        if previous.not_null != column.not_null {
            if column.not_null {
                plan.push(
                    format!("ALTER TABLE {name} ALTER COLUMN {target} SET NOT NULL"),
                    &[Hazard::AccessExclusiveLock, Hazard::TableScan],
                );
            } else {
                plan.push(format!("ALTER TABLE {name} ALTER COLUMN {target} DROP NOT NULL"), &[]);
            }
        }
        if previous.comment != column.comment && column.comment.is_none() {
            plan.push(format!("COMMENT ON COLUMN {name}.{target} IS NULL"), &[]);
        }
    }
}
