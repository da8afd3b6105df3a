//! The planning stage: the typed changes of a [`Comparison`] as statements, phase by phase, in an
//! order PostgreSQL accepts, each step keeping the change it carries out.

use std::collections::{BTreeMap, BTreeSet};

use haste_schema::{
    Constraint, ConstraintKind, Index, RowTypeStage, Rule, Schema, Sequence, Table, TableKind, Trigger,
    TriggerFiring, comment_statements, qualified,
};
use haste_sql::{quote_ident, quote_literal};

use crate::builder::Builder;
use crate::compare::{self, Comparison, Object, ObjectChange, Pair, TableChange, by, retyped, table_key};
use crate::composites::composite_key;
use crate::order::{self, Creation};
use crate::{
    Hazard, Lock, Named, OfTable, Options, Plan, SchemaChange, collations, columns, comments, composites,
    domains, enums, functions, indexes, online, owners, partitions, privileges, rename, settings, uses,
    views,
};

/// The statements that turn `from` into `to`: [`plan`] of their [`compare`].
pub fn diff(from: &Schema, to: &Schema, options: &Options) -> Plan {
    plan(&compare::compare(from, to), options)
}

/// The statements that carry out `comparison`'s changes.
pub fn plan(comparison: &Comparison, options: &Options) -> Plan {
    let (from, to) = (comparison.from, comparison.to);
    let mut plan = Builder { steps: Vec::new(), options: *options };
    let (old_tables, new_tables) = (by(&from.tables, table_key), by(&to.tables, table_key));
    let (mut dropped_tables, mut created_tables, mut modified_tables, mut rebuilt_enums) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for change in &comparison.changes {
        match change {
            ObjectChange::DropTable(table) => dropped_tables.push(*table),
            ObjectChange::AddTable(table) => created_tables.push(*table),
            ObjectChange::ModifyTable { from, to, changes } => {
                modified_tables.push((*from, *to, changes.as_slice()))
            }
            ObjectChange::RebuildEnum(Pair { to, .. }) => rebuilt_enums.push(qualified(&to.schema, &to.name)),
            _ => {}
        }
    }
    // Each phase takes the tables in name order (as quoted), so plans are deterministic.
    let dropped_tables = from.drop_order(in_key_order(dropped_tables));
    // Parents before their partitions, whose changes are what their parents' leave.
    modified_tables.sort_by_cached_key(|(_, table, _)| (table.partition_depth, table_key(table)));

    // PostgreSQL refuses to retype a column a trigger's WHEN or a policy reads: on a table with
    // a retyped column, both are dropped first and created again last.
    let retyped: BTreeSet<String> = modified_tables
        .iter()
        .filter(|(_, _, changes)| {
            changes.iter().any(|change| match change {
                TableChange::AlterColumnType { .. } => true,
                TableChange::ReplaceColumn(Pair { from, to }) => retyped(from, to),
                _ => false,
            })
        })
        .map(|(table, _, _)| table_key(table))
        .collect();
    // Views that read what changes go first and come back last (with their triggers, which
    // their drop takes).
    let rebuilt_types: Vec<String> = rebuilt_enums
        .iter()
        .cloned()
        .chain(domains::rebuilt(from, to))
        .chain(composites::rebuilt(from, to))
        .collect();
    let views = views::recreation(from, to, &rebuilt_types);
    let stays = |schema: &str, table: &str, unchanged: bool| {
        unchanged && !retyped.contains(&qualified(schema, table)) && !views.creates(schema, table)
    };

    // 0. Checks that stop the plan before it changes anything.
    domains::check_conversions(&mut plan, comparison);

    // 1. Schemas and extensions that appear.
    for namespace in &to.schemas {
        if !from.schemas.iter().any(|n| n.name == namespace.name) {
            plan.push(
                &SchemaChange::CreateSchema(namespace.name.clone()),
                format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&namespace.name)),
                Lock::None,
                &[],
            );
        }
        let before = from.schemas.iter().find(|n| n.name == namespace.name).and_then(|n| n.comment.as_ref());
        if namespace.comment.as_ref() != before {
            let source = SchemaChange::SetSchemaComment(namespace.name.clone());
            plan.push(&source, namespace.comment_statement(), Lock::ShareUpdateExclusive, &[]);
        }
    }
    for extension in to.extensions.iter().filter(|e| !from.extensions.contains(e)) {
        let source = SchemaChange::CreateExtension(extension.name.clone());
        // One installed in another schema moves (`CREATE ... IF NOT EXISTS` would skip it).
        let statement = match from.extensions.iter().any(|old| old.name == extension.name) {
            true => format!(
                "ALTER EXTENSION {} SET SCHEMA {}",
                quote_ident(&extension.name),
                quote_ident(&extension.schema)
            ),
            false => extension.create_statement(),
        };
        plan.push(&source, statement, Lock::None, &[]);
    }
    collations::create(&mut plan, from, to);

    // 2. Types and sequences that appear or grow (enums that lose or reorder values are
    //    rebuilt after the tables change, below).
    enums::create_and_extend(&mut plan, comparison);
    let (mut new_composites, mut recreated_composites): (Vec<&haste_schema::Composite>, Vec<String>) =
        (Vec::new(), Vec::new());
    for new in to.composites.iter().filter(|c| !from.composites.contains(c)) {
        let named = Named::new(&new.schema, &new.name);
        let Some(old) = from.composites.iter().find(|old| composite_key(old) == composite_key(new)) else {
            new_composites.push(new);
            continue;
        };
        if !composites::alter(&mut plan, comparison, old, new) {
            plan.push(
                &SchemaChange::DropComposite(named.clone()),
                format!("DROP TYPE {}", composite_key(new)),
                Lock::AccessExclusive,
                &[Hazard::DataLoss],
            );
            recreated_composites.push(composite_key(new));
            new_composites.push(new);
        }
    }
    // Composite types and functions over the row types of tables or views wait for them.
    let create_composites = |plan: &mut Builder,
                             stage: RowTypeStage,
                             which: &dyn Fn(&&haste_schema::Composite) -> bool| {
        for new in new_composites.iter().filter(|c| to.row_type_stage(&c.row_types) == stage && which(c)) {
            let named = Named::new(&new.schema, &new.name);
            plan.push(&SchemaChange::CreateComposite(named), new.create_statement(), Lock::None, &[]);
        }
    };
    // A domain over a composite type comes after it, a composite type holding a domain after
    // the domains.
    let holds_domain = |c: &&haste_schema::Composite| c.holds_domain(to);
    let before_domains = |c: &&haste_schema::Composite| !holds_domain(c);
    create_composites(&mut plan, RowTypeStage::BeforeTables, &before_domains);
    domains::create_and_alter(&mut plan, comparison);
    create_composites(&mut plan, RowTypeStage::BeforeTables, &holds_domain);
    // Range types: one that changes is dropped and created again (PostgreSQL alters none of its
    // options); one whose `SUBTYPE_DIFF` is a function of the schema waits for the functions.
    let range_key = |r: &haste_schema::Range| qualified(&r.schema, &r.name);
    let new_ranges: Vec<&haste_schema::Range> =
        to.ranges.iter().filter(|r| !from.ranges.contains(r)).collect();
    for old in from.ranges.iter().filter(|old| new_ranges.iter().any(|new| range_key(new) == range_key(old)))
    {
        let source = SchemaChange::DropRange(Named::new(&old.schema, &old.name));
        plan.push(&source, old.drop_statement(), Lock::AccessExclusive, &[Hazard::DataLoss]);
    }
    let create_ranges = |plan: &mut Builder, late: bool| {
        for new in new_ranges.iter().filter(|r| r.uses_function_of(to) == late) {
            let source = SchemaChange::CreateRange(Named::new(&new.schema, &new.name));
            plan.push(&source, new.create_statement(), Lock::None, &[]);
        }
    };
    create_ranges(&mut plan, false);
    let sequence_key = |s: &haste_schema::Sequence| qualified(&s.schema, &s.name);
    let old_sequences = by(&from.sequences, sequence_key);
    // New sequences (an identity sequence of `from` is no sequence of its own: a serial
    // column's may take its name, once the identity that holds it is dropped, `columns.rs`).
    let new_sequences: Vec<&Sequence> = to
        .sequences
        .iter()
        .filter(|s| !s.identity && old_sequences.get(&sequence_key(s)).is_none_or(|old| old.identity))
        .collect();
    let (taking_names, new_sequences): (Vec<&Sequence>, Vec<&Sequence>) =
        new_sequences.into_iter().partition(|s| old_sequences.contains_key(&sequence_key(s)));
    for new in &new_sequences {
        let source = SchemaChange::CreateSequence(Named::new(&new.schema, &new.name));
        plan.push(&source, new.create_statement(), Lock::None, &[]);
    }
    // Sequences on both sides change in place (type, options); one no column owns any more is
    // let go before the tables change (dropping the column that owned it would drop it too),
    // one a column comes to own is given to it once the column exists (below).
    let altered_sequences: Vec<(&Sequence, &Sequence)> = comparison
        .changes
        .iter()
        .filter_map(|change| match change {
            ObjectChange::Modify { from: Object::Sequence(old), to: Object::Sequence(new) }
                if !new.identity =>
            {
                Some((*old, *new))
            }
            _ => None,
        })
        .collect();
    for (old, new) in &altered_sequences {
        let mut clauses = Vec::new();
        if old.data_type != new.data_type {
            clauses.push(format!("AS {}", new.data_type));
        }
        clauses.extend(new.changed_options(old));
        if old.owned_by.is_some() && new.owned_by.is_none() {
            clauses.push("OWNED BY NONE".to_owned());
        }
        if !clauses.is_empty() {
            plan.push(
                &SchemaChange::AlterSequence(Named::new(&new.schema, &new.name)),
                format!("ALTER SEQUENCE {} {}", qualified(&new.schema, &new.name), clauses.join(" ")),
                Lock::None,
                &[],
            );
        }
    }

    // 3. What depends on changed objects goes first: triggers, policies, views, foreign keys,
    //    constraints, indexes and statistics that change or disappear.
    // A partition's clone of a trigger goes with its parent's, never on its own.
    for old in from.triggers.iter().filter(|t| !t.cloned && !stays(&t.schema, &t.table, has_trigger(to, t))) {
        if new_tables.contains_key(&qualified(&old.schema, &old.table)) {
            plan.push(
                &SchemaChange::DropTrigger(OfTable::new(&old.schema, &old.table, &old.name)),
                format!("DROP TRIGGER {} ON {}", quote_ident(&old.name), qualified(&old.schema, &old.table)),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    // A rule on a table or view that stays (a view created again takes its rules along).
    for old in from.rules.iter().filter(|r| !stays(&r.schema, &r.table, has_rule(to, r))) {
        let key = qualified(&old.schema, &old.table);
        let view_kept = to.views.iter().any(|v| v.schema == old.schema && v.name == old.table)
            && !views.creates(&old.schema, &old.table);
        if new_tables.contains_key(&key) || view_kept {
            plan.push(
                &SchemaChange::DropRule(OfTable::new(&old.schema, &old.table, &old.name)),
                format!("DROP RULE {} ON {key}", quote_ident(&old.name)),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    // A function dropped to be created again takes the checks, policies and defaults calling it
    // first, and they come back once it exists (`functions.rs`).
    let recreated = functions::Recreated::new(from, to);
    let recreated_defaults = recreated_defaults(&recreated, &old_tables, to);
    // A policy reading a view the plan drops (to create it again, or for good) goes before it,
    // whatever becomes of its table (PostgreSQL refuses the view's drop under it, 2BP01), and
    // comes back after the views are created.
    let dropped_views: BTreeSet<&str> = views.dropped.iter().map(|view| view.name.as_str()).collect();
    let reads_dropped_view = |policy: &haste_schema::Policy| {
        !dropped_views.is_empty()
            && uses::policy_statement(policy).is_some_and(|statement| {
                haste_sql::relations(&statement)
                    .is_none_or(|read| read.iter().any(|name| dropped_views.contains(name.as_str())))
            })
    };
    for old in from.policies.iter().filter(|p| {
        !stays(&p.schema, &p.table, to.policies.contains(p))
            || recreated.policy_calls(p)
            || reads_dropped_view(p)
    }) {
        if new_tables.contains_key(&qualified(&old.schema, &old.table)) || reads_dropped_view(old) {
            plan.push(
                &SchemaChange::DropPolicy(OfTable::new(&old.schema, &old.table, &old.name)),
                format!("DROP POLICY {} ON {}", quote_ident(&old.name), qualified(&old.schema, &old.table)),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    // A dropped function over a dropped table's row type, or whose `BEGIN ATOMIC` body reads a
    // table or a view the plan drops, holds it (2BP01): it goes before the views, unless the
    // table's own expressions or a dropped view call it.
    let dropped_first = functions_before_relations(from, to, &dropped_tables, &views.dropped);
    for old in &dropped_first {
        let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
        plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
    }
    for old in &views.dropped {
        let kind = if old.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
        let source = SchemaChange::DropView(Named::new(&old.schema, &old.name));
        plan.push(
            &source,
            format!("DROP {kind} {}", qualified(&old.schema, &old.name)),
            Lock::AccessExclusive,
            &[],
        );
    }
    let changed_constraints = |foreign: bool| -> Vec<(&Table, &Constraint)> {
        from.tables
            .iter()
            .filter_map(|old| new_tables.get(&table_key(old)).map(|new| (old, new)))
            .flat_map(|(old, new)| {
                old.constraints
                    .iter()
                    .filter(|c| {
                        (c.kind == ConstraintKind::ForeignKey) == foreign
                            && (!new.constraints.contains(c) || recreated.check_calls(old, c))
                    })
                    .map(move |c| (old, c))
            })
            .collect()
    };
    // The foreign keys of tables that disappear go first, so the tables go in any order
    // afterwards, and with the foreign keys that change, before any key they reference (a
    // unique key dropped with a table referencing it: 2BP01 otherwise).
    for old in &dropped_tables {
        for constraint in old.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
            plan.push(
                &SchemaChange::DropTable(Named::new(&old.schema, &old.name)),
                format!("ALTER TABLE {} DROP CONSTRAINT {}", table_key(old), quote_ident(&constraint.name)),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    for (table, constraint) in changed_constraints(true).into_iter().chain(changed_constraints(false)) {
        plan.push(
            &SchemaChange::DropConstraint(OfTable::new(&table.schema, &table.name, &constraint.name)),
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                table.qualified_name(),
                quote_ident(&constraint.name)
            ),
            Lock::AccessExclusive,
            &[],
        );
    }
    let view_key = |view: &haste_schema::View| qualified(&view.schema, &view.name);
    let new_views: BTreeSet<String> = to.views.iter().map(view_key).collect();
    let kept_views = from
        .views
        .iter()
        .map(view_key)
        .filter(|key| new_views.contains(key) && !views.created.iter().any(|view| view_key(view) == *key))
        .collect();
    let tables = indexes::Tables { old: &old_tables, new: &new_tables, kept_views };
    let index_families = indexes::Families::new(from, to, &tables);
    indexes::drop_changed(&mut plan, &index_families, &tables);
    for old in from.statistics.iter().filter(|s| !to.statistics.contains(s)) {
        if new_tables.contains_key(&qualified(&old.table_schema, &old.table)) {
            let source = SchemaChange::DropStatistics(Named::new(&old.schema, &old.name));
            plan.push(&source, old.drop_statement(), Lock::ShareUpdateExclusive, &[]);
        }
    }
    for (table, column, _) in &recreated_defaults {
        plan.push(
            &SchemaChange::ChangeColumnDefault(OfTable::new(&table.schema, &table.name, &column.name)),
            format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                table.qualified_name(),
                quote_ident(&column.name)
            ),
            Lock::AccessExclusive,
            &[],
        );
    }
    // A function whose result, or its arguments' names or defaults, change is dropped to be
    // created again (`CREATE OR REPLACE` refuses), once the views, checks, policies and defaults
    // calling it are out of the way; what else would hold it is refused before planning
    // (`functions.rs`).
    for old in compare::recreated_functions(from, to) {
        let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
        plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
    }

    // 4. Tables that disappear (their foreign keys went first, above), functions
    //    whose bodies are not checked at creation (a new default may call one), changes to the
    //    tables on both sides, then enums rebuilt for their new values.
    // A partition goes with its parent when that goes too; under a parent that stays, it is
    // dropped on its own.
    let parent_stays = |partition: &Table| {
        old_tables
            .iter()
            .any(|(key, parent)| partition.is_partition_of(parent) && new_tables.contains_key(key))
    };
    for old in &dropped_tables {
        if old.partition_of.is_none() || parent_stays(old) {
            let source = SchemaChange::DropTable(Named::new(&old.schema, &old.name));
            plan.push(
                &source,
                format!("DROP TABLE {}", table_key(old)),
                Lock::AccessExclusive,
                &[Hazard::DataLoss],
            );
        }
    }
    let new_functions: Vec<&haste_schema::Function> =
        to.functions.iter().filter(|f| !from.functions.contains(f)).collect();
    let stage = |function: &haste_schema::Function| to.row_type_stage(&function.row_types);
    // Functions in other languages go first when a column's default or generated expression
    // calls them (added or altered below), and a range's `SUBTYPE_DIFF` (whatever its language)
    // before the range; the others wait for the new tables in the dependency order, since
    // PostgreSQL compiles a PL/pgSQL body at creation and refuses a variable of a table's row
    // type (or a column's `%TYPE`) that does not exist yet.
    let called_by_columns = if new_functions.iter().any(|f| !checked_body(f)) {
        functions_called_by_columns(to)
    } else {
        BTreeSet::new()
    };
    let subtype_diff = |function: &haste_schema::Function| {
        to.ranges.iter().any(|r| {
            r.subtype_diff.as_ref().is_some_and(|(s, n)| *s == function.schema && *n == function.name)
        })
    };
    let called_early = |function: &haste_schema::Function| {
        !checked_body(function) && called_by_columns.contains(&function.name)
    };
    let (early_functions, ordered_functions): (Vec<&haste_schema::Function>, Vec<&haste_schema::Function>) =
        new_functions
            .iter()
            .filter(|f| stage(f) == RowTypeStage::BeforeTables)
            .partition(|f| !to.uses_late_range(f) && (called_early(f) || subtype_diff(f)));
    for new in &early_functions {
        create_function(&mut plan, new);
    }
    create_ranges(&mut plan, true);
    // Functions over those ranges that a column calls, once they exist (the others over them
    // come with the tables, below).
    let (late_range_functions, mut ordered_functions): (
        Vec<&haste_schema::Function>,
        Vec<&haste_schema::Function>,
    ) = ordered_functions.into_iter().partition(|f| to.uses_late_range(f) && called_early(f));
    for new in &late_range_functions {
        create_function(&mut plan, new);
    }
    // The `sql` ones first, so that among the objects ready the others (whose bodies the graph
    // cannot read: the tables their variables need are unknown) come after every table that
    // is not waiting for them.
    ordered_functions.sort_by_key(|f| !checked_body(f));
    let mut suggestions = Vec::new();
    // The indexes both sides hold unchanged, by table: looked up by name, not compared with
    // every index of the other side (a schema of thousands of indexes).
    let old_indexes: BTreeMap<(&str, &str), &Index> =
        from.indexes.iter().map(|i| ((i.schema.as_str(), i.name.as_str()), i)).collect();
    let mut kept_indexes: BTreeMap<(&str, &str), Vec<&Index>> = BTreeMap::new();
    for index in &to.indexes {
        if old_indexes.get(&(index.schema.as_str(), index.name.as_str())) == Some(&index) {
            kept_indexes.entry((index.schema.as_str(), index.table.as_str())).or_default().push(index);
        }
    }
    // Sequences a column that stays owns, which `to` no longer has.
    let released_sequences: Vec<&Sequence> = comparison
        .changes
        .iter()
        .filter_map(|change| match change {
            ObjectChange::Drop(Object::Sequence(old)) if old.owned_by.is_some() => Some(*old),
            _ => None,
        })
        .collect();
    for (old, new, _) in &modified_tables {
        partitions::detach(&mut plan, from, to, old, new);
    }
    // A partition under the same parent is compared with what its parent's changes give it.
    let inherited: Vec<Option<Table>> =
        modified_tables.iter().map(|(old, new, _)| partitions::inherited(from, to, old, new)).collect();
    for ((old, new, changes), inherited) in modified_tables.iter().zip(&inherited) {
        let own_changes;
        let (old, changes): (&Table, &[TableChange]) = match inherited {
            Some(partition) => {
                own_changes = compare::table(partition, new);
                (partition, &own_changes)
            }
            None => (old, changes),
        };
        let kept = columns::Kept {
            indexes: kept_indexes
                .get(&(new.schema.as_str(), new.name.as_str()))
                .map_or(&[][..], Vec::as_slice),
            statistics: to
                .statistics
                .iter()
                .filter(|s| {
                    s.table_schema == new.schema && s.table == new.name && from.statistics.contains(s)
                })
                .collect(),
            hanging: columns::hanging_on_regenerated(&old_tables, to, old, new),
            released: &released_sequences,
            taking_names: &taking_names,
        };
        columns::alter_table(&mut plan, old, new, changes, &kept);
        settings::storage_parameters(&mut plan, new, changes);
        settings::persistence(&mut plan, old, new);
        suggestions.extend(rename::suggest(new, changes));
    }
    // Partitions (changed or not) of parents whose column settings change, after every table's
    // own changes, parents first.
    let resetting: Vec<&Table> = modified_tables
        .iter()
        .filter(|(_, _, changes)| changes.iter().any(|c| matches!(c, TableChange::ChangeColumnSettings(_))))
        .map(|(_, new, _)| *new)
        .filter(|table| matches!(table.kind, haste_schema::TableKind::Partitioned { .. }))
        .collect();
    let mut partitions: Vec<&Table> =
        to.tables.iter().filter(|t| resetting.iter().any(|parent| t.is_partition_of(parent))).collect();
    partitions.sort_by_cached_key(|table| (table.partition_depth, table_key(table)));
    for new in partitions {
        if let Some(old) = old_tables.get(&table_key(new)) {
            columns::settings_reached_from_parent(&mut plan, from, to, old, new);
        }
    }
    enums::rebuild(&mut plan, comparison);
    domains::rebuild(&mut plan, comparison);
    composites::rebuild(&mut plan, comparison);

    // 5. New tables and SQL functions (with the views they need) in dependency order, then
    //    constraints, indexes, foreign keys and statistics.
    let created = to.creation_order(in_key_order(created_tables));
    // SQL-language functions, whose bodies PostgreSQL checks against the tables they read, and
    // the others no column calls come after those tables, and before the tables whose defaults
    // or generated columns call them (`order.rs`).
    let creations = order::creations(&created, &ordered_functions, &views.created);
    for creation in &creations {
        match creation {
            Creation::Table(table) => {
                let source = SchemaChange::CreateTable(Named::new(&table.schema, &table.name));
                plan.push(&source, table.create_statement(), Lock::None, &[]);
                for statement in to.inherited_column_statements(table) {
                    plan.push(&source, statement, Lock::None, &[]);
                }
                // Its columns' settings: nothing uses the new table yet.
                let defaults = haste_schema::ColumnSettings::default();
                for column in &table.columns {
                    for (_, statement) in column.settings_statements(&table.qualified_name(), &defaults) {
                        plan.push(&source, statement, Lock::None, &[]);
                    }
                }
            }
            Creation::Function(function) => create_function(&mut plan, function),
            Creation::View(view) => create_view(&mut plan, view),
        }
    }
    // Every partition whose bound changes is detached before any is attached again: two
    // neighbours moving their common bound would overlap in between.
    for (old, new, _) in &modified_tables {
        partitions::detach_for_new_bound(&mut plan, from, to, old, new);
    }
    for (old, new, _) in &modified_tables {
        partitions::attach(&mut plan, from, to, old, new);
    }
    // Composite types and functions over the row types of the new tables, once they exist.
    create_composites(&mut plan, RowTypeStage::AfterTables, &|_| true);
    for new in new_functions.iter().filter(|f| stage(f) == RowTypeStage::AfterTables) {
        create_function(&mut plan, new);
    }
    for (table, column, default) in &recreated_defaults {
        plan.push(
            &SchemaChange::ChangeColumnDefault(OfTable::new(&table.schema, &table.name, &column.name)),
            format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default}",
                table.qualified_name(),
                quote_ident(&column.name)
            ),
            Lock::AccessExclusive,
            &[],
        );
    }
    // A policy dropped around a function created again that it calls (before or after the
    // change: one that changes too is dropped all the same) comes back as soon as the function
    // exists, before any constraint is validated or index built: in a migration whose statements
    // commit one by one, the table is never left without it across those (the generator keeps
    // the drop and this creation in one transaction). Not while views are created again or
    // functions wait for them, which the policy might read.
    let policies_early =
        views.created.is_empty() && new_functions.iter().all(|f| stage(f) != RowTypeStage::AfterViews);
    let back_early = |p: &haste_schema::Policy| {
        let before = from
            .policies
            .iter()
            .find(|old| (&old.schema, &old.table, &old.name) == (&p.schema, &p.table, &p.name));
        policies_early
            && stays(&p.schema, &p.table, before.is_some())
            && before.is_some_and(|old| recreated.policy_calls(old) || recreated.policy_calls(p))
    };
    for new in to.policies.iter().filter(|p| back_early(p)) {
        let source = SchemaChange::CreatePolicy(OfTable::new(&new.schema, &new.table, &new.name));
        plan.push(&source, new.create_statement(), Lock::AccessExclusive, &[]);
    }
    for sequence in new_sequences.iter().chain(&taking_names) {
        if let Some(statement) = sequence.owned_by_statement() {
            let source = SchemaChange::CreateSequence(Named::new(&sequence.schema, &sequence.name));
            plan.push(&source, statement, Lock::None, &[]);
        }
    }
    for (_, new) in
        altered_sequences.iter().filter(|(old, new)| new.owned_by.is_some() && old.owned_by != new.owned_by)
    {
        if let Some(statement) = new.owned_by_statement() {
            plan.push(
                &SchemaChange::AlterSequence(Named::new(&new.schema, &new.name)),
                statement,
                Lock::None,
                &[],
            );
        }
    }
    identity_sequences(&mut plan, from, to);
    let recreated = &recreated;
    let added_constraints = |foreign: bool| -> Vec<(&Table, &Constraint)> {
        to.tables
            .iter()
            .flat_map(|new| {
                let old = old_tables.get(&table_key(new));
                new.constraints
                    .iter()
                    .filter(move |c| {
                        (c.kind == ConstraintKind::ForeignKey) == foreign
                            && (!old.is_some_and(|old| old.constraints.contains(c))
                                || recreated.check_calls(new, c))
                    })
                    .map(move |c| (new, c))
            })
            .collect()
    };
    // The partitions at any depth below a table that hold rows of their own and were there.
    let existing_leaves = |table: &Table| -> Vec<&Table> {
        let partitions = table.partitions_among(to.tables.iter());
        partitions
            .into_iter()
            .filter(|child| {
                !matches!(child.kind, TableKind::Partitioned { .. })
                    && old_tables.contains_key(&table_key(child))
            })
            .collect()
    };
    // The relation names either side holds (an index-backed key's index has its name), for the
    // names of partitions' keys.
    let relations: BTreeSet<(&str, &str)> = [from, to]
        .iter()
        .flat_map(|side| {
            let tables = side.tables.iter().map(|t| (t.schema.as_str(), t.name.as_str()));
            let keys = side.tables.iter().flat_map(|t| {
                t.constraints
                    .iter()
                    .filter(|c| c.kind.builds_index())
                    .map(move |c| (t.schema.as_str(), c.name.as_str()))
            });
            let indexes = side.indexes.iter().map(|i| (i.schema.as_str(), i.name.as_str()));
            let views = side.views.iter().map(|v| (v.schema.as_str(), v.name.as_str()));
            let sequences = side.sequences.iter().map(|s| (s.schema.as_str(), s.name.as_str()));
            tables.chain(keys).chain(indexes).chain(views).chain(sequences)
        })
        .collect();
    let taken = |schema: &str, name: &str| relations.contains(&(schema, name));
    for (table, constraint) in added_constraints(false) {
        let existing = old_tables.contains_key(&table_key(table));
        let leaves = online::Leaves { tables: existing_leaves(table), taken: &taken };
        online::add_constraint(&mut plan, table, constraint, existing, &leaves);
    }
    indexes::create_changed(&mut plan, &index_families, &tables);
    for (table, constraint) in added_constraints(true) {
        let existing = old_tables.contains_key(&table_key(table));
        let leaves = online::Leaves { tables: Vec::new(), taken: &taken };
        online::add_constraint(&mut plan, table, constraint, existing, &leaves);
    }
    for new in to.statistics.iter().filter(|s| !from.statistics.contains(s)) {
        let source = SchemaChange::CreateStatistics(Named::new(&new.schema, &new.name));
        plan.push(&source, new.create_statement(), Lock::ShareUpdateExclusive, &[]);
    }

    // 6. Dependents last: replica identities (over the indexes built above), views in creation
    //    order, triggers, row security, policies, comments, privileges and owners (objects
    //    created again get theirs back here).
    settings::replica_identities(&mut plan, from, to);
    settings::cluster_indexes(&mut plan, from, to);
    let created_early: Vec<&haste_schema::View> = creations
        .iter()
        .filter_map(|creation| match creation {
            Creation::View(view) => Some(*view),
            _ => None,
        })
        .collect();
    for view in
        views.created.iter().filter(|view| !created_early.iter().any(|early| std::ptr::eq(*early, **view)))
    {
        create_view(&mut plan, view);
    }
    for new in to.views.iter().filter(|view| !views.creates(&view.schema, &view.name)) {
        if let Some(old) = from.views.iter().find(|old| old.same_query(new)) {
            let source = SchemaChange::AlterView(Named::new(&new.schema, &new.name));
            let options = match old.options != new.options {
                true => new.alter_options_statements(old),
                false => Vec::new(),
            };
            for statement in options.into_iter().chain(new.column_default_statements(&old.column_defaults)) {
                plan.push(&source, statement, Lock::AccessExclusive, &[]);
            }
        }
    }
    indexes::create_on_views(&mut plan, &index_families, &tables);
    create_composites(&mut plan, RowTypeStage::AfterViews, &|_| true);
    for new in new_functions.iter().filter(|f| stage(f) == RowTypeStage::AfterViews) {
        create_function(&mut plan, new);
    }
    for new in to.triggers.iter().filter(|t| !t.cloned && !stays(&t.schema, &t.table, has_trigger(from, t))) {
        let source = SchemaChange::CreateTrigger(OfTable::new(&new.schema, &new.table, &new.name));
        plan.push(&source, new.definition.clone(), Lock::ShareRowExclusive, &[]);
    }
    // A rule is created enabled: one that fires otherwise is set so, as is one kept whose firing
    // changes.
    for new in &to.rules {
        let kept = stays(&new.schema, &new.table, has_rule(from, new));
        let of_table = OfTable::new(&new.schema, &new.table, &new.name);
        if !kept {
            plan.push(
                &SchemaChange::CreateRule(of_table.clone()),
                new.create_statement(),
                Lock::AccessExclusive,
                &[],
            );
        }
        let before = from
            .rules
            .iter()
            .find(|old| kept && (&old.schema, &old.table, &old.name) == (&new.schema, &new.table, &new.name))
            .map_or(TriggerFiring::Origin, |old| old.firing);
        if new.firing != before {
            plan.push(
                &SchemaChange::SetRuleFiring(of_table),
                new.firing_statement(),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    // A trigger is created enabled: one that fires otherwise is set so, as is one kept whose
    // firing changes. Setting a partitioned table's trigger sets its partitions' clones too, so
    // the clones that fire otherwise come after, and a clone that comes to fire as its parent's
    // trigger is set back to that.
    let (cloned, own): (Vec<&Trigger>, Vec<&Trigger>) = to.triggers.iter().partition(|t| t.cloned);
    let mut parents_set = Vec::new();
    for new in own {
        let kept = stays(&new.schema, &new.table, has_trigger(from, new));
        let before = from
            .triggers
            .iter()
            .find(|old| kept && old.schema == new.schema && old.table == new.table && old.name == new.name)
            .map_or(TriggerFiring::Origin, |old| old.firing);
        if new.firing != before {
            let source = SchemaChange::SetTriggerFiring(OfTable::new(&new.schema, &new.table, &new.name));
            plan.push(&source, new.firing_statement(), Lock::ShareRowExclusive, &[]);
            parents_set.push(new);
        }
    }
    for new in cloned {
        let parent_set = parents_set.iter().any(|parent| clone_of(to, new, parent));
        let before = from.triggers.iter().find(|old| {
            old.cloned && (&old.schema, &old.table, &old.name) == (&new.schema, &new.table, &new.name)
        });
        if parent_set || before.map(|old| old.firing) != Some(new.firing) {
            let source = SchemaChange::SetTriggerFiring(OfTable::new(&new.schema, &new.table, &new.name));
            plan.push(&source, new.firing_statement(), Lock::ShareRowExclusive, &[]);
        }
    }
    for old in from.triggers.iter().filter(|t| t.cloned) {
        let same = |t: &&Trigger| (&t.schema, &t.table, &t.name) == (&old.schema, &old.table, &old.name);
        let parent = to.triggers.iter().find(|parent| !parent.cloned && clone_of(to, old, parent));
        if let Some(parent) = parent.filter(|_| !to.triggers.iter().any(|t| same(&t)))
            && !parents_set.iter().any(|set| std::ptr::eq(*set, parent))
        {
            let back = Trigger { firing: parent.firing, ..old.clone() };
            let source = SchemaChange::SetTriggerFiring(OfTable::new(&old.schema, &old.table, &old.name));
            plan.push(&source, back.firing_statement(), Lock::ShareRowExclusive, &[]);
        }
    }
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        let name = new.qualified_name();
        let source = SchemaChange::SetRowSecurity(Named::new(&new.schema, &new.name));
        let setting = match (old.map(|o| o.row_security), new.row_security) {
            (Some(false) | None, true) => Some("ENABLE"),
            (Some(true), false) => Some("DISABLE"),
            _ => None,
        };
        let forcing = match (old.map(|o| o.force_row_security), new.force_row_security) {
            (Some(false) | None, true) => Some("FORCE"),
            (Some(true), false) => Some("NO FORCE"),
            _ => None,
        };
        for change in setting.into_iter().chain(forcing) {
            plan.push(
                &source,
                format!("ALTER TABLE {name} {change} ROW LEVEL SECURITY"),
                Lock::AccessExclusive,
                &[],
            );
        }
    }
    for new in to
        .policies
        .iter()
        .filter(|p| {
            !stays(&p.schema, &p.table, from.policies.contains(p))
                || recreated.policy_calls(p)
                || reads_dropped_view(p)
        })
        .filter(|p| !back_early(p))
    {
        let source = SchemaChange::CreatePolicy(OfTable::new(&new.schema, &new.table, &new.name));
        plan.push(&source, new.create_statement(), Lock::AccessExclusive, &[]);
    }
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        let recommented =
            old.is_some_and(|old| columns::added_again(old, new).iter().any(|c| c.comment.is_some()));
        if recommented || old.is_none_or(|old| comment_statements(old) != comment_statements(new)) {
            let source = SchemaChange::SetComments(Named::new(&new.schema, &new.name));
            for statement in comment_statements(new) {
                plan.push(&source, statement, Lock::ShareUpdateExclusive, &[]);
            }
            if let Some(old) = old
                && old.comment.is_some()
                && new.comment.is_none()
            {
                plan.push(
                    &source,
                    format!("COMMENT ON TABLE {} IS NULL", new.qualified_name()),
                    Lock::ShareUpdateExclusive,
                    &[],
                );
            }
        }
    }

    comments::plan(&mut plan, from, to);
    // Types created again (an enum or domain rebuilt, a composite type dropped and created) lost
    // their privileges and owners; those altered in place kept them.
    let recreated_ranges =
        new_ranges.iter().filter(|new| from.ranges.iter().any(|old| range_key(old) == range_key(new)));
    let recreated_types: Vec<String> = rebuilt_types
        .iter()
        .cloned()
        .chain(recreated_composites.iter().cloned())
        .chain(recreated_ranges.map(|range| range_key(range)))
        .collect();
    privileges::plan(&mut plan, from, to, &views.created, &recreated_types);
    owners::plan(&mut plan, from, to, &views.created, &recreated_types);

    // 7. What nothing uses any more: functions, types, sequences, extensions, schemas.
    for old in from
        .functions
        .iter()
        .filter(|f| !to.functions.iter().any(|n| n.signature == f.signature) && !dropped_first.contains(f))
    {
        let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
        // `ROUTINE`: a procedure too (`DROP FUNCTION` refuses one, 42809).
        plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
    }
    drop_unused_types(&mut plan, from, to);
    enums::drop_unused(&mut plan, comparison);
    for old in from
        .sequences
        .iter()
        .filter(|s| !s.identity && !to.sequences.iter().any(|n| sequence_key(n) == sequence_key(s)))
    {
        let source = SchemaChange::DropSequence(Named::new(&old.schema, &old.name));
        let released =
            released_sequences.contains(&old) && !plan.steps.iter().any(|step| step.source == source);
        if old.owned_by.is_none() || released {
            plan.push(
                &source,
                format!("DROP SEQUENCE {}", sequence_key(old)),
                Lock::None,
                &[Hazard::DataLoss],
            );
        }
    }
    collations::drop_unused(&mut plan, from, to);
    for old in from.extensions.iter().filter(|e| !to.extensions.iter().any(|n| n.name == e.name)) {
        let source = SchemaChange::DropExtension(old.name.clone());
        plan.push(&source, format!("DROP EXTENSION {}", quote_ident(&old.name)), Lock::None, &[]);
    }
    for old in from.schemas.iter().filter(|s| !to.schemas.iter().any(|n| n.name == s.name)) {
        let source = SchemaChange::DropSchema(old.name.clone());
        plan.push(
            &source,
            format!("DROP SCHEMA {}", quote_ident(&old.name)),
            Lock::None,
            &[Hazard::DataLoss],
        );
    }
    enums::separate_new_label_uses(&mut plan.steps);
    Plan { steps: plan.steps, suggestions }
}

fn in_key_order(mut tables: Vec<&Table>) -> Vec<&Table> {
    tables.sort_by_cached_key(|table| table_key(table));
    tables
}

/// The functions the plan drops that name a dropped table (a row type of their arguments or
/// result, a relation their body reads) and that no expression of a dropped table calls: dropped
/// before the tables, which PostgreSQL refuses to drop under them.
fn functions_before_relations<'a>(
    from: &'a Schema,
    to: &Schema,
    dropped_tables: &[&Table],
    dropped_views: &[&haste_schema::View],
) -> Vec<&'a haste_schema::Function> {
    let dropped = |name: &str| {
        dropped_tables.iter().any(|t| t.name == name) || dropped_views.iter().any(|v| v.name == name)
    };
    let called_by_views = |function: &haste_schema::Function| {
        dropped_views.iter().any(|view| {
            haste_sql::reads(&view.definition)
                .is_none_or(|reads| reads.functions.contains(&function.name.to_ascii_lowercase()))
        })
    };
    let called_by_tables = |function: &haste_schema::Function| {
        dropped_tables.iter().any(|table| {
            let expressions = table
                .columns
                .iter()
                .flat_map(|c| [c.default.as_deref(), c.generated.as_deref()])
                .flatten()
                .chain(table.constraints.iter().filter_map(|c| c.definition.strip_prefix("CHECK ")));
            expressions.into_iter().any(|expression| {
                haste_sql::reads(&format!("SELECT {expression}"))
                    .is_none_or(|reads| reads.functions.contains(&function.name.to_ascii_lowercase()))
            })
        })
    };
    from.functions
        .iter()
        .filter(|f| !to.functions.iter().any(|n| n.signature == f.signature))
        .filter(|f| {
            f.row_types.iter().any(|(_, name)| dropped(name))
                || haste_sql::reads(&f.definition)
                    .is_some_and(|reads| reads.relations.iter().any(|r| dropped(r)))
        })
        .filter(|f| !called_by_tables(f) && !called_by_views(f))
        .collect()
}

/// The columns of tables on both sides whose default, the same on both, calls a function the plan
/// drops to create again: dropped before it, set again once it exists. (A default that changes
/// is refused, `functions.rs`.)
fn recreated_defaults<'a>(
    recreated: &functions::Recreated,
    old_tables: &BTreeMap<String, &Table>,
    to: &'a Schema,
) -> Vec<(&'a Table, &'a haste_schema::Column, &'a str)> {
    to.tables
        .iter()
        .filter_map(|new| old_tables.get(&table_key(new)).map(|old| (*old, new)))
        .flat_map(|(old, new)| {
            new.columns.iter().filter_map(move |column| {
                let default = column.default.as_deref()?;
                let kept = old
                    .columns
                    .iter()
                    .any(|c| c.name == column.name && c.default.as_deref() == Some(default));
                (kept && recreated.default_calls(default)).then_some((new, column, default))
            })
        })
        .collect()
}

/// Composite types, range types and domains nothing declares any more, each before the types
/// it uses (a domain over a composite or range type, a composite type with an attribute of a
/// domain or range type, a range over a domain or composite type): PostgreSQL refuses to drop a
/// type another one uses (2BP01). Enums, which use no type, go after them.
fn drop_unused_types(plan: &mut Builder, from: &Schema, to: &Schema) {
    #[derive(Clone, Copy)]
    enum Kind<'a> {
        Composite,
        Range(&'a haste_schema::Range),
        Domain,
    }
    // (schema, name, the types it declares, what it is)
    let composites = from
        .composites
        .iter()
        .filter(|c| !to.composites.iter().any(|n| composite_key(n) == composite_key(c)))
        .map(|c| {
            let declared = c.attributes.iter().map(|a| a.data_type.as_str()).collect::<Vec<_>>();
            (&c.schema, &c.name, declared, Kind::Composite)
        });
    let ranges = from
        .ranges
        .iter()
        .filter(|r| !to.ranges.iter().any(|n| (&n.schema, &n.name) == (&r.schema, &r.name)))
        .map(|r| (&r.schema, &r.name, vec![r.subtype.as_str()], Kind::Range(r)));
    let domains = from
        .domains
        .iter()
        .filter(|d| !to.domains.iter().any(|n| (&n.schema, &n.name) == (&d.schema, &d.name)))
        .map(|d| (&d.schema, &d.name, vec![d.base_type.as_str()], Kind::Domain));
    let mut left: Vec<_> = composites.chain(ranges).chain(domains).collect();
    while !left.is_empty() {
        // The first that no other type left declares (a cycle is impossible: PostgreSQL refuses
        // a type that contains itself).
        let unused = |index: usize| {
            let (schema, name, ..) = &left[index];
            !left.iter().enumerate().any(|(other, (_, _, declared, _))| {
                other != index && declared.iter().any(|t| enums::column_uses(t, schema, name).is_some())
            })
        };
        let next = (0..left.len()).find(|&index| unused(index)).unwrap_or(0);
        let (schema, name, _, kind) = left.remove(next);
        let (source, statement) = match kind {
            Kind::Domain => (
                SchemaChange::DropDomain(Named::new(schema, name)),
                format!("DROP DOMAIN {}", qualified(schema, name)),
            ),
            Kind::Range(range) => (SchemaChange::DropRange(Named::new(schema, name)), range.drop_statement()),
            Kind::Composite => (
                SchemaChange::DropComposite(Named::new(schema, name)),
                format!("DROP TYPE {}", qualified(schema, name)),
            ),
        };
        plan.push(&source, statement, Lock::None, &[]);
    }
}

/// Whether `clone` (a trigger of a partition in `schema`) is the clone of `parent`: the same
/// name on the partition's parent table.
fn clone_of(schema: &Schema, clone: &Trigger, parent: &Trigger) -> bool {
    clone.name == parent.name
        && schema.tables.iter().any(|table| {
            table.schema == clone.schema
                && table.name == clone.table
                && schema
                    .tables
                    .iter()
                    .any(|p| p.schema == parent.schema && p.name == parent.table && table.is_partition_of(p))
        })
}

/// Whether `side` has `rule` with the same definition (its firing aside, which changes in place).
fn has_rule(side: &Schema, rule: &Rule) -> bool {
    side.rules.iter().any(|other| {
        (&other.schema, &other.table, &other.name, &other.definition)
            == (&rule.schema, &rule.table, &rule.name, &rule.definition)
    })
}

/// Whether `side` has `trigger` with the same definition (its firing aside, which changes in
/// place).
fn has_trigger(side: &Schema, trigger: &Trigger) -> bool {
    side.triggers.iter().any(|other| {
        (&other.schema, &other.table, &other.name, &other.definition)
            == (&trigger.schema, &trigger.table, &trigger.name, &trigger.definition)
    })
}

/// Identity sequences whose options are not what their column had (PostgreSQL's defaults for a
/// column that gets its identity in this plan: a new table, a new column, an identity added),
/// set through their column. An identity added to a column that exists also gets its sequence
/// set past the column's values: else the first row it numbers collides with one already there.
fn identity_sequences(plan: &mut Builder, from: &Schema, to: &Schema) {
    for new in to.sequences.iter().filter(|s| s.identity) {
        let Some((table, column)) = &new.owned_by else { continue };
        let old = compare::identity_sequence(from, &new.schema, new.owned_by.as_ref());
        let options = new.changed_options(old.unwrap_or(&new.identity_defaults()));
        if let Some(statement) = new.identity_options_statement(&options, old.is_none()) {
            let source = SchemaChange::AlterSequence(Named::new(&new.schema, &new.name));
            plan.push(&source, statement, Lock::AccessExclusive, &[]);
        }
        let had_values = from.tables.iter().any(|t| {
            t.schema == new.schema && t.name == *table && t.columns.iter().any(|c| c.name == *column)
        });
        let table = to.tables.iter().find(|t| t.schema == new.schema && t.name == *table);
        if let Some(table) = table.filter(|_| old.is_none() && had_values) {
            let reference = format!(
                "pg_get_serial_sequence({}, {})",
                quote_literal(&table.qualified_name()),
                quote_literal(column)
            );
            let source = SchemaChange::ChangeIdentity(OfTable::new(&new.schema, &table.name, column));
            columns::set_past_values(plan, &source, new, &reference, table, column);
        }
    }
}

fn create_function(plan: &mut Builder, function: &haste_schema::Function) {
    let source = SchemaChange::CreateFunction(Named::new(&function.schema, &function.signature));
    plan.push(&source, function.definition.trim_end().trim_end_matches(';').to_owned(), Lock::None, &[]);
}

fn create_view(plan: &mut Builder, view: &haste_schema::View) {
    let source = SchemaChange::CreateView(Named::new(&view.schema, &view.name));
    for statement in view.create_statements() {
        plan.push(&source, statement, Lock::None, &[]);
    }
}

/// Whether PostgreSQL validates the body against the catalog at creation (`LANGUAGE sql`).
fn checked_body(function: &haste_schema::Function) -> bool {
    function.language == "sql"
}

/// The functions (by name without schema) that a column default or generated expression of
/// `schema` calls.
fn functions_called_by_columns(schema: &Schema) -> BTreeSet<String> {
    schema
        .tables
        .iter()
        .flat_map(|table| &table.columns)
        .flat_map(|column| column.default.iter().chain(&column.generated))
        .filter_map(|expression| haste_sql::reads(&format!("SELECT {expression}")))
        .flat_map(|reads| reads.functions)
        .collect()
}

#[cfg(test)]
mod tests {
    use haste_schema::{
        Column, Constraint, ConstraintKind, Index, References, ReferentialAction, Schema, Table, TableKind,
    };

    use crate::fixtures::{column, index, table};
    use crate::{Hazard, Options, SchemaChange, diff};

    /// `crm.deals (id, price, total GENERATED ALWAYS AS (price * 2) STORED NOT NULL, note)`
    /// with `price` of `price_type`, a check and an index on `total`, and its comment.
    fn schema(price_type: &str) -> Schema {
        let total = Column {
            not_null: true,
            generated: Some("(price * 2)".into()),
            comment: Some("twice the price".into()),
            ..column("total", price_type)
        };
        let mut deals =
            table(vec![column("id", "integer"), column("price", price_type), total, column("note", "text")]);
        deals.constraints.push(Constraint {
            columns: vec!["total".into()],
            ..Constraint::new("deals_total_check", ConstraintKind::Check, "CHECK ((total >= 0))")
        });
        Schema {
            tables: vec![deals],
            indexes: vec![Index {
                name: "deals_total_idx".into(),
                columns: vec!["total".into()],
                elements: "(total)".into(),
                ..index("CREATE INDEX deals_total_idx ON crm.deals USING btree (total)")
            }],
            ..Schema::default()
        }
    }

    #[test]
    fn a_generated_column_is_added_again_around_the_type_change_of_a_column_it_reads() {
        let plan = diff(&schema("integer"), &schema("bigint"), &Options { online: true });
        let statements: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
        assert_eq!(
            statements,
            [
                r#"ALTER TABLE "crm"."deals" DROP COLUMN "total""#,
                r#"ALTER TABLE "crm"."deals" ALTER COLUMN "price" TYPE bigint USING "price"::bigint"#,
                r#"ALTER TABLE "crm"."deals" ADD COLUMN "total" bigint GENERATED ALWAYS AS ((price * 2)) STORED NOT NULL"#,
                r#"ALTER TABLE "crm"."deals" ADD CONSTRAINT "deals_total_check" CHECK ((total >= 0))"#,
                "CREATE INDEX deals_total_idx ON crm.deals USING btree (total)",
                r#"COMMENT ON COLUMN "crm"."deals"."total" IS 'twice the price'"#,
            ]
        );
        // One transaction, nothing lost, and the rewrite said.
        assert!(plan.steps.iter().all(|step| !step.alone && !step.hazards.contains(&Hazard::DataLoss)));
        assert!(plan.steps[2].hazards.contains(&Hazard::TableRewrite));
        let regenerates = |step: &crate::Step| matches!(&step.source, SchemaChange::RegenerateColumn(c) if c.name == "total");
        assert!([0, 2, 3, 4].iter().all(|at| regenerates(&plan.steps[*at])), "{:#?}", plan.steps);
        // Its column privileges come back with it.
        let grant = haste_schema::Privilege {
            object: haste_schema::PrivilegeObject::Table,
            schema: "crm".into(),
            name: "deals".into(),
            column: Some("total".into()),
            grantee: "app_ro".into(),
            privilege: "SELECT".into(),
            grantable: false,
            revoked: false,
        };
        let (mut before, mut after) = (schema("integer"), schema("bigint"));
        before.privileges.push(grant.clone());
        after.privileges.push(grant);
        let planned = diff(&before, &after, &Options { online: true }).steps;
        assert_eq!(
            planned.last().map(|step| step.sql.as_str()),
            Some(r#"GRANT SELECT ("total") ON TABLE "crm"."deals" TO "app_ro""#)
        );
        // A type change the generated column does not read leaves it alone.
        let mut other = schema("integer");
        other.tables[0].columns[3].data_type = "varchar(20)".into();
        let statements = diff(&schema("integer"), &other, &Options { online: true }).steps;
        assert!(!statements.iter().any(|step| step.sql.contains("DROP COLUMN")), "{statements:#?}");
    }

    /// A foreign key of another table on the regenerated column goes before the column's drop
    /// and comes back after its addition, `NOT VALID`, in the same run of statements; what must
    /// run on its own (its validation, an online `SET NOT NULL` of the same table) comes after.
    #[test]
    fn keys_on_a_regenerated_column_go_before_it_and_come_back_after_it() {
        let with_key = |price_type: &str, note_not_null: bool| {
            let mut schema = schema(price_type);
            schema.tables[0].columns[3].not_null = note_not_null;
            let mut lines = table(vec![column("id", "integer"), column("total", "bigint")]);
            lines.name = "lines".into();
            lines.constraints.push(Constraint {
                columns: vec!["total".into()],
                references: Some(References {
                    schema: "crm".into(),
                    table: "deals".into(),
                    columns: vec!["total".into()],
                    on_delete: ReferentialAction::NoAction,
                    on_update: ReferentialAction::NoAction,
                }),
                ..Constraint::new(
                    "lines_total_fkey",
                    ConstraintKind::ForeignKey,
                    "FOREIGN KEY (total) REFERENCES crm.deals(total)",
                )
            });
            schema.tables.push(lines);
            schema
        };
        let plan = diff(&with_key("integer", false), &with_key("bigint", true), &Options { online: true });
        let statements: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
        let at = |wanted: &str| statements.iter().position(|sql| *sql == wanted).expect(wanted);
        let dropped = at(r#"ALTER TABLE "crm"."lines" DROP CONSTRAINT "lines_total_fkey""#);
        let added = at(
            r#"ALTER TABLE "crm"."lines" ADD CONSTRAINT "lines_total_fkey" FOREIGN KEY (total) REFERENCES crm.deals(total) NOT VALID"#,
        );
        let validated = at(r#"ALTER TABLE "crm"."lines" VALIDATE CONSTRAINT "lines_total_fkey""#);
        assert!(dropped < at(r#"ALTER TABLE "crm"."deals" DROP COLUMN "total""#), "{statements:#?}");
        assert!(at("CREATE INDEX deals_total_idx ON crm.deals USING btree (total)") < added);
        assert!(plan.steps[dropped..=added].iter().all(|step| !step.alone), "{statements:#?}");
        assert!(plan.steps[validated].alone && added < validated);
        let not_null = at(r#"ALTER TABLE "crm"."deals" ALTER COLUMN "note" SET NOT NULL"#);
        assert!(added < not_null, "{statements:#?}");
        // Without the online forms: added again as it was, in the same transaction.
        let plain = diff(&with_key("integer", false), &with_key("bigint", false), &Options { online: false });
        assert!(plain.steps.iter().all(|step| !step.alone && !step.sql.contains("NOT VALID")), "{plain:#?}");
    }

    /// `crm.events` partitioned, with the partitions named; the catalog writes a parent as
    /// `quote_ident` does, so `crm.events` bare.
    fn events(partitions: &[&str]) -> Schema {
        let mut parent = table(vec![column("at", "integer")]);
        parent.name = "events".into();
        parent.kind = TableKind::Partitioned { key: "RANGE (at)".into() };
        let children = partitions.iter().enumerate().map(|(i, name)| Table {
            name: (*name).into(),
            kind: TableKind::Regular,
            partition_of: Some(("crm.events".into(), format!("FOR VALUES FROM ({i}) TO ({})", i + 1))),
            partition_depth: 1,
            ..parent.clone()
        });
        Schema { tables: std::iter::once(parent.clone()).chain(children).collect(), ..Schema::default() }
    }

    fn statements(from: &Schema, to: &Schema) -> Vec<String> {
        diff(from, to, &Options::default()).steps.into_iter().map(|step| step.sql).collect()
    }

    #[test]
    fn a_partition_that_disappears_is_dropped_unless_its_parent_goes_too() {
        assert_eq!(
            statements(&events(&["events_a", "events_b"]), &events(&["events_a"])),
            [r#"DROP TABLE "crm"."events_b""#],
            "under a parent that stays"
        );
        assert_eq!(
            statements(&events(&["events_a", "events_b"]), &Schema::default()),
            [r#"DROP TABLE "crm"."events""#],
            "the parent's drop takes its partitions"
        );
    }
}
