//! The planning stage: the typed changes of a [`Comparison`] as statements, phase by phase, in an
//! order PostgreSQL accepts, each step keeping the change it carries out.
//!
//! [`plan`] lists the phases; a [`Planner`] holds what several of them read (the tables on each
//! side, the views and functions dropped to be created again, ...), worked out once, and each
//! phase is one of its methods, pushing statements onto the plan under construction. What one
//! phase makes that a later one needs (the types it created, the functions left for the
//! dependency order, the creations) it returns.

use std::collections::{BTreeMap, BTreeSet};

use haste_schema::{
    Composite, Constraint, ConstraintKind, DeclaredType, Function, Index, Range, RowTypeStage, Schema, Table,
    TableKind, View, comment_statements, qualified,
};
use haste_sql::quote_ident;

use crate::builder::Builder;
use crate::compare::{self, Comparison, Object, ObjectChange, Pair, TableChange, by, retyped, table_key};
use crate::composites::composite_key;
use crate::order::{self, Creation};
use crate::sequences::{self, Sequences};
use crate::{
    Hazard, Lock, Named, OfTable, Options, Plan, RenameSuggestion, SchemaChange, collations, columns,
    comments, composites, domains, enums, functions, indexes, online, owners, partitions, privileges, rename,
    settings, triggers, uses, views,
};

/// The statements that turn `from` into `to`: [`plan`] of their [`compare`].
pub fn diff(from: &Schema, to: &Schema, options: &Options) -> Plan {
    plan(&compare::compare(from, to), options)
}

/// The statements that carry out `comparison`'s changes.
pub fn plan(comparison: &Comparison, options: &Options) -> Plan {
    let planner = Planner::new(comparison);
    let mut plan = Builder { steps: Vec::new(), options: *options };
    // 0. Checks that stop the plan before it changes anything.
    domains::check_conversions(&mut plan, comparison);
    // 1. Schemas and extensions that appear.
    create_schemas_and_extensions(&mut plan, comparison);
    collations::create(&mut plan, planner.from, planner.to);
    // 2. Types and sequences that appear or grow (enums that lose or reorder values are
    //    rebuilt after the tables change, in phase 4).
    let types = planner.create_types(&mut plan);
    planner.sequences.create_and_alter(&mut plan);
    // 3. What depends on changed objects goes first: triggers, policies, views, foreign keys,
    //    constraints, indexes and statistics that change or disappear.
    planner.drop_dependents(&mut plan);
    // 4. Tables that disappear (their foreign keys went first, in phase 3), functions whose
    //    bodies are not checked at creation (a new default may call one), changes to the
    //    tables on both sides, then enums rebuilt for their new values.
    planner.drop_tables(&mut plan);
    let ordered_functions = planner.create_early_functions(&mut plan, &types);
    let suggestions = planner.change_tables(&mut plan);
    enums::rebuild(&mut plan, comparison);
    domains::rebuild(&mut plan, comparison);
    composites::rebuild(&mut plan, comparison);
    // 5. New tables and SQL functions (with the views they need) in dependency order, then
    //    constraints, indexes, foreign keys and statistics.
    let creations = planner.create_in_order(&mut plan, &types, &ordered_functions);
    planner.add_constraints_and_indexes(&mut plan);
    // 6. Dependents last: replica identities (over the indexes built above), views in creation
    //    order, triggers, row security, policies, comments, privileges and owners (objects
    //    created again get theirs back here).
    planner.create_dependents(&mut plan, &types, &creations);
    // 7. What nothing uses any more: functions, types, sequences, extensions, schemas.
    planner.drop_unused(&mut plan);
    enums::separate_new_label_uses(&mut plan.steps);
    Plan { steps: plan.steps, suggestions }
}

/// What the phases of a plan share, worked out once from its comparison.
struct Planner<'a> {
    comparison: &'a Comparison<'a>,
    from: &'a Schema,
    to: &'a Schema,
    old_tables: BTreeMap<String, &'a Table>,
    new_tables: BTreeMap<String, &'a Table>,
    /// Tables only `from` has, in the order to drop them.
    dropped_tables: Vec<&'a Table>,
    /// Tables only `to` has.
    created_tables: Vec<&'a Table>,
    /// Tables on both sides that differ, as (old, new, changes), parents before their
    /// partitions, whose changes are what their parents' leave.
    modified_tables: Vec<(&'a Table, &'a Table, &'a [TableChange<'a>])>,
    /// The tables with a retyped column (PostgreSQL refuses to retype a column a trigger's
    /// `WHEN` or a policy reads: on such a table, both are dropped first and created again
    /// last).
    retyped: BTreeSet<String>,
    /// The enums, domains and composite types rebuilt.
    rebuilt_types: Vec<String>,
    /// The views dropped and created: those that read what changes go first and come back last
    /// (with their triggers, which their drop takes).
    views: views::Recreation<'a>,
    /// The names of the views dropped.
    dropped_views: BTreeSet<&'a str>,
    /// The functions dropped to be created again: they take the checks, policies and defaults
    /// calling them first, and those come back once they exist (`functions.rs`).
    recreated: functions::Recreated<'a>,
    /// The defaults calling those functions, as (table, column, default).
    recreated_defaults: Vec<(&'a Table, &'a haste_schema::Column, &'a str)>,
    /// The dropped functions that hold a dropped table or view, dropped before it.
    dropped_first: Vec<&'a Function>,
    /// The functions only `to` has (or changed).
    new_functions: Vec<&'a Function>,
    /// Whether policies dropped around a function created again come back as soon as it
    /// exists: not while views are created again or functions wait for them, which the policy
    /// might read.
    policies_early: bool,
    sequences: Sequences<'a>,
    /// The (materialized) views both sides hold that the plan does not create again.
    kept_views: BTreeSet<String>,
    index_families: indexes::Families<'a>,
}

/// The types phase 2 creates or drops that later phases create, once what they need exists, or
/// give their privileges and owner back.
struct NewTypes<'a> {
    /// Composite types to create (new, or dropped to be created again).
    composites: Vec<&'a Composite>,
    /// Composite types dropped to be created again.
    recreated_composites: Vec<String>,
    /// Range types to create (new, or changed: dropped to be created again).
    ranges: Vec<&'a Range>,
}

impl<'a> Planner<'a> {
    fn new(comparison: &'a Comparison<'a>) -> Self {
        let (from, to) = (comparison.from, comparison.to);
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
                ObjectChange::RebuildEnum(Pair { to, .. }) => {
                    rebuilt_enums.push(qualified(&to.schema, &to.name))
                }
                _ => {}
            }
        }
        // Each phase takes the tables in name order (as quoted), so plans are deterministic.
        let dropped_tables = from.drop_order(in_key_order(dropped_tables));
        // Parents before their partitions, whose changes are what their parents' leave.
        modified_tables.sort_by_cached_key(|(_, table, _)| (table.partition_depth, table_key(table)));
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
        let rebuilt_types: Vec<String> = rebuilt_enums
            .iter()
            .cloned()
            .chain(domains::rebuilt(from, to))
            .chain(composites::rebuilt(from, to))
            .collect();
        let views = views::recreation(from, to, &rebuilt_types);
        let recreated = functions::Recreated::new(from, to);
        let recreated_defaults = recreated_defaults(&recreated, &old_tables, to);
        let dropped_views = views.dropped.iter().map(|view| view.name.as_str()).collect();
        let dropped_first = functions_before_relations(from, to, &dropped_tables, &views.dropped);
        let new_functions: Vec<&Function> =
            to.functions.iter().filter(|f| !from.functions.contains(f)).collect();
        let policies_early = views.created.is_empty()
            && new_functions.iter().all(|f| to.row_type_stage(&f.row_types) != RowTypeStage::AfterViews);
        let view_key = |view: &View| qualified(&view.schema, &view.name);
        let new_views: BTreeSet<String> = to.views.iter().map(view_key).collect();
        let kept_views = from
            .views
            .iter()
            .map(view_key)
            .filter(|key| new_views.contains(key) && !views.created.iter().any(|view| view_key(view) == *key))
            .collect();
        let tables = indexes::Tables { old: &old_tables, new: &new_tables, kept_views: &kept_views };
        let index_families = indexes::Families::new(from, to, &tables);
        Planner {
            comparison,
            from,
            to,
            old_tables,
            new_tables,
            dropped_tables,
            created_tables,
            modified_tables,
            retyped,
            rebuilt_types,
            views,
            dropped_views,
            recreated,
            recreated_defaults,
            dropped_first,
            new_functions,
            policies_early,
            sequences: Sequences::new(comparison),
            kept_views,
            index_families,
        }
    }

    /// Whether a trigger, rule or policy of table `schema.table` that the other side has
    /// `unchanged` stays in place, rather than being dropped first and created again last.
    fn stays(&self, schema: &str, table: &str, unchanged: bool) -> bool {
        unchanged && !self.retyped.contains(&qualified(schema, table)) && !self.views.creates(schema, table)
    }

    /// The tables on both sides, for the phases of indexes.
    fn index_tables(&self) -> indexes::Tables<'_> {
        indexes::Tables { old: &self.old_tables, new: &self.new_tables, kept_views: &self.kept_views }
    }

    fn stage(&self, function: &Function) -> RowTypeStage {
        self.to.row_type_stage(&function.row_types)
    }

    /// Phase 2: enums, composite types, domains and range types that appear or change (but for
    /// the ranges whose `SUBTYPE_DIFF` is a function of the schema, and the composite types over
    /// row types of tables or views, created once those exist).
    fn create_types(&self, plan: &mut Builder) -> NewTypes<'a> {
        let (from, to) = (self.from, self.to);
        enums::create_and_extend(plan, self.comparison);
        let (mut new_composites, mut recreated_composites) = (Vec::new(), Vec::new());
        for new in to.composites.iter().filter(|c| !from.composites.contains(c)) {
            let named = Named::new(&new.schema, &new.name);
            let Some(old) = from.composites.iter().find(|old| composite_key(old) == composite_key(new))
            else {
                new_composites.push(new);
                continue;
            };
            if !composites::alter(plan, self.comparison, old, new) {
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
        // Range types: one that changes is dropped and created again (PostgreSQL alters none of
        // its options); one whose `SUBTYPE_DIFF` is a function of the schema waits for the
        // functions.
        let ranges = to.ranges.iter().filter(|r| !from.ranges.contains(r)).collect();
        let types = NewTypes { composites: new_composites, recreated_composites, ranges };
        for old in
            from.ranges.iter().filter(|old| types.ranges.iter().any(|new| range_key(new) == range_key(old)))
        {
            let source = SchemaChange::DropRange(Named::new(&old.schema, &old.name));
            plan.push(&source, old.drop_statement(), Lock::AccessExclusive, &[Hazard::DataLoss]);
        }
        // New composite types, domains and ranges (but those whose `SUBTYPE_DIFF` waits for the
        // functions), each after the types it declares, as the dump creates them.
        let new_types = to.types_in_creation_order(
            types
                .composites
                .iter()
                .copied()
                .filter(|c| to.row_type_stage(&c.row_types) == RowTypeStage::BeforeTables),
            domains::created(self.comparison).into_iter(),
            types.ranges.iter().copied().filter(|r| !r.uses_function_of(to)),
        );
        for new in new_types {
            let source = match new {
                DeclaredType::Composite(c) => SchemaChange::CreateComposite(Named::new(&c.schema, &c.name)),
                DeclaredType::Domain(d) => SchemaChange::CreateDomain(Named::new(&d.schema, &d.name)),
                DeclaredType::Range(r) => SchemaChange::CreateRange(Named::new(&r.schema, &r.name)),
            };
            for statement in new.create_statements() {
                plan.push(&source, statement, Lock::None, &[]);
            }
        }
        domains::alter_and_stage(plan, self.comparison);
        types
    }

    /// Phase 3: drops what depends on the objects that change (or disappear), in an order
    /// PostgreSQL accepts.
    fn drop_dependents(&self, plan: &mut Builder) {
        let stays = |schema: &str, table: &str, unchanged: bool| self.stays(schema, table, unchanged);
        triggers::drop_changed(plan, (self.from, self.to), &self.new_tables, &self.views, &stays);
        self.drop_policies(plan);
        // A dropped function over a dropped table's row type, or whose `BEGIN ATOMIC` body
        // reads a table or a view the plan drops, holds it (2BP01): it goes before the views,
        // unless the table's own expressions or a dropped view call it.
        for old in &self.dropped_first {
            let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
            plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
        }
        for old in &self.views.dropped {
            let kind = if old.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
            let source = SchemaChange::DropView(Named::new(&old.schema, &old.name));
            plan.push(
                &source,
                format!("DROP {kind} {}", qualified(&old.schema, &old.name)),
                Lock::AccessExclusive,
                &[],
            );
        }
        self.drop_constraints(plan);
        indexes::drop_changed(plan, &self.index_families, &self.index_tables());
        for old in self.comparison.dropped_or_changed(statistics) {
            if self.new_tables.contains_key(&qualified(&old.table_schema, &old.table)) {
                let source = SchemaChange::DropStatistics(Named::new(&old.schema, &old.name));
                plan.push(&source, old.drop_statement(), Lock::ShareUpdateExclusive, &[]);
            }
        }
        for (table, column, _) in &self.recreated_defaults {
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
        // created again (`CREATE OR REPLACE` refuses), once the views, checks, policies and
        // defaults calling it are out of the way; what else would hold it is refused before
        // planning (`functions.rs`).
        for old in compare::recreated_functions(self.from, self.to) {
            let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
            plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
        }
    }

    /// Whether a policy that the other side has `unchanged` or not is dropped and created
    /// again: it changes, its table has a retyped column, a function it calls is created again,
    /// or it reads a view the plan drops.
    fn policy_goes(&self, policy: &haste_schema::Policy, unchanged: bool) -> bool {
        !self.stays(&policy.schema, &policy.table, unchanged)
            || self.recreated.policy_calls(policy)
            || self.reads_dropped_view(policy)
    }

    /// A policy reading a view the plan drops (to create it again, or for good) goes before it,
    /// whatever becomes of its table (PostgreSQL refuses the view's drop under it, 2BP01), and
    /// comes back after the views are created.
    fn reads_dropped_view(&self, policy: &haste_schema::Policy) -> bool {
        !self.dropped_views.is_empty()
            && uses::policy_statement(policy).is_some_and(|statement| {
                haste_sql::relations(&statement)
                    .is_none_or(|read| read.iter().any(|name| self.dropped_views.contains(name.as_str())))
            })
    }

    fn drop_policies(&self, plan: &mut Builder) {
        for old in self.from.policies.iter().filter(|p| self.policy_goes(p, self.to.policies.contains(p))) {
            if self.new_tables.contains_key(&qualified(&old.schema, &old.table))
                || self.reads_dropped_view(old)
            {
                plan.push(
                    &SchemaChange::DropPolicy(OfTable::new(&old.schema, &old.table, &old.name)),
                    format!(
                        "DROP POLICY {} ON {}",
                        quote_ident(&old.name),
                        qualified(&old.schema, &old.table)
                    ),
                    Lock::AccessExclusive,
                    &[],
                );
            }
        }
    }

    /// The foreign keys (`foreign`) or other constraints of tables on both sides that change or
    /// disappear, or call a function created again.
    fn changed_constraints(&self, foreign: bool) -> Vec<(&'a Table, &'a Constraint)> {
        let recreated = &self.recreated;
        self.from
            .tables
            .iter()
            .filter_map(|old| self.new_tables.get(&table_key(old)).map(|new| (old, *new)))
            .flat_map(|(old, new)| {
                old.constraints
                    .iter()
                    .filter(move |c| {
                        (c.kind == ConstraintKind::ForeignKey) == foreign
                            && (!new.constraints.contains(c) || recreated.check_calls(old, c))
                    })
                    .map(move |c| (old, c))
            })
            .collect()
    }

    /// The foreign keys of tables that disappear go first, so the tables go in any order
    /// afterwards, and with the foreign keys that change, before any key they reference (a
    /// unique key dropped with a table referencing it: 2BP01 otherwise).
    fn drop_constraints(&self, plan: &mut Builder) {
        for old in &self.dropped_tables {
            for constraint in old.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
                plan.push(
                    &SchemaChange::DropTable(Named::new(&old.schema, &old.name)),
                    format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        table_key(old),
                        quote_ident(&constraint.name)
                    ),
                    Lock::AccessExclusive,
                    &[],
                );
            }
        }
        for (table, constraint) in
            self.changed_constraints(true).into_iter().chain(self.changed_constraints(false))
        {
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
    }

    /// Phase 4, first: the tables that disappear (their foreign keys went first, in phase 3). A
    /// partition goes with its parent when that goes too; under a parent that stays, it is
    /// dropped on its own.
    fn drop_tables(&self, plan: &mut Builder) {
        let parent_stays = |partition: &Table| {
            self.old_tables
                .iter()
                .any(|(key, parent)| partition.is_partition_of(parent) && self.new_tables.contains_key(key))
        };
        for old in &self.dropped_tables {
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
    }

    /// Phase 4, then: the new functions that must exist before the tables change, and the
    /// ranges that wait for functions. Returns the other new functions that need no table's or
    /// view's row type, for the dependency order (phase 5).
    ///
    /// Functions in other languages go first when a column's default or generated expression
    /// calls them (added or altered below), and a range's `SUBTYPE_DIFF` (whatever its language)
    /// before the range; the others wait for the new tables in the dependency order, since
    /// PostgreSQL compiles a PL/pgSQL body at creation and refuses a variable of a table's row
    /// type (or a column's `%TYPE`) that does not exist yet.
    fn create_early_functions(&self, plan: &mut Builder, types: &NewTypes) -> Vec<&'a Function> {
        let to = self.to;
        let called_by_columns = if self.new_functions.iter().any(|f| !checked_body(f)) {
            functions_called_by_columns(to)
        } else {
            BTreeSet::new()
        };
        let subtype_diff = |function: &Function| {
            to.ranges.iter().any(|r| {
                r.subtype_diff.as_ref().is_some_and(|(s, n)| *s == function.schema && *n == function.name)
            })
        };
        let called_early =
            |function: &Function| !checked_body(function) && called_by_columns.contains(&function.name);
        let (early_functions, ordered_functions): (Vec<&Function>, Vec<&Function>) = self
            .new_functions
            .iter()
            .filter(|f| self.stage(f) == RowTypeStage::BeforeTables)
            .partition(|f| !to.uses_late_range(f) && (called_early(f) || subtype_diff(f)));
        for new in &early_functions {
            create_function(plan, new);
        }
        types.create_ranges(plan, to, true);
        // Functions over those ranges that a column calls, once they exist (the others over
        // them come with the tables, phase 5).
        let (late_range_functions, mut ordered_functions): (Vec<&Function>, Vec<&Function>) =
            ordered_functions.into_iter().partition(|f| to.uses_late_range(f) && called_early(f));
        for new in &late_range_functions {
            create_function(plan, new);
        }
        // The `sql` ones first, so that among the objects ready the others (whose bodies the
        // graph cannot read: the tables their variables need are unknown) come after every
        // table that is not waiting for them.
        ordered_functions.sort_by_key(|f| !checked_body(f));
        ordered_functions
    }

    /// Phase 4, then: changes to the tables on both sides, parents first (partitions detached
    /// from their parent before), and the settings partitions get from their parents. Returns
    /// the likely renames among the columns dropped and added.
    fn change_tables(&self, plan: &mut Builder) -> Vec<RenameSuggestion> {
        let (from, to) = (self.from, self.to);
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
        for (old, new, _) in &self.modified_tables {
            partitions::detach(plan, from, to, old, new);
        }
        // A partition under the same parent is compared with what its parent's changes give it.
        let inherited: Vec<Option<Table>> = self
            .modified_tables
            .iter()
            .map(|(old, new, _)| partitions::inherited(from, to, old, new))
            .collect();
        for ((old, new, changes), inherited) in self.modified_tables.iter().zip(&inherited) {
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
                hanging: columns::hanging_on_regenerated(&self.old_tables, to, old, new),
                released: &self.sequences.released,
                taking_names: &self.sequences.taking_names,
            };
            columns::alter_table(plan, old, new, changes, &kept);
            settings::storage_parameters(plan, new, changes);
            settings::persistence(plan, old, new);
            suggestions.extend(rename::suggest(new, changes));
        }
        self.reset_partition_settings(plan);
        suggestions
    }

    /// Partitions (changed or not) of parents whose column settings change, after every
    /// table's own changes, parents first.
    fn reset_partition_settings(&self, plan: &mut Builder) {
        let resetting: Vec<&Table> = self
            .modified_tables
            .iter()
            .filter(|(_, _, changes)| {
                changes.iter().any(|c| matches!(c, TableChange::ChangeColumnSettings(_)))
            })
            .map(|(_, new, _)| *new)
            .filter(|table| matches!(table.kind, TableKind::Partitioned { .. }))
            .collect();
        let mut partitions: Vec<&Table> = self
            .to
            .tables
            .iter()
            .filter(|t| resetting.iter().any(|parent| t.is_partition_of(parent)))
            .collect();
        partitions.sort_by_cached_key(|table| (table.partition_depth, table_key(table)));
        for new in partitions {
            if let Some(old) = self.old_tables.get(&table_key(new)) {
                columns::settings_reached_from_parent(plan, self.from, self.to, old, new);
            }
        }
    }

    /// Phase 5, first: new tables and SQL functions (with the views they need) in dependency
    /// order, partitions attached, then what waits for the new tables (composite types and
    /// functions over their row types, defaults dropped around a function created again,
    /// policies dropped around one, sequences' owners, identities' options). Returns the
    /// creations, in their order.
    fn create_in_order(
        &self,
        plan: &mut Builder,
        types: &NewTypes,
        ordered_functions: &[&'a Function],
    ) -> Vec<Creation<'a>> {
        let (from, to) = (self.from, self.to);
        let created = to.creation_order(in_key_order(self.created_tables.clone()));
        // SQL-language functions, whose bodies PostgreSQL checks against the tables they read,
        // and the others no column calls come after those tables, and before the tables whose
        // defaults or generated columns call them (`order.rs`).
        let creations = order::creations(&created, ordered_functions, &self.views.created);
        for creation in &creations {
            match creation {
                Creation::Table(table) => create_table(plan, to, table),
                Creation::Function(function) => create_function(plan, function),
                Creation::View(view) => create_view(plan, view),
            }
        }
        // Every partition whose bound changes is detached before any is attached again: two
        // neighbours moving their common bound would overlap in between.
        for (old, new, _) in &self.modified_tables {
            partitions::detach_for_new_bound(plan, from, to, old, new);
        }
        for (old, new, _) in &self.modified_tables {
            partitions::attach(plan, from, to, old, new);
        }
        // Composite types and functions over the row types of the new tables, once they exist.
        types.create_composites(plan, to, RowTypeStage::AfterTables, &|_| true);
        for new in self.new_functions.iter().filter(|f| self.stage(f) == RowTypeStage::AfterTables) {
            create_function(plan, new);
        }
        for (table, column, default) in &self.recreated_defaults {
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
        // change: one that changes too is dropped all the same) comes back as soon as the
        // function exists, before any constraint is validated or index built: in a migration
        // whose statements commit one by one, the table is never left without it across those
        // (the generator keeps the drop and this creation in one transaction).
        for new in to.policies.iter().filter(|p| self.back_early(p)) {
            let source = SchemaChange::CreatePolicy(OfTable::new(&new.schema, &new.table, &new.name));
            plan.push(&source, new.create_statement(), Lock::AccessExclusive, &[]);
        }
        self.sequences.give_to_columns(plan);
        sequences::identities(plan, from, to);
        creations
    }

    /// Whether a policy comes back as soon as the function created again that it calls exists
    /// ([`Planner::create_in_order`]), rather than after the views.
    fn back_early(&self, policy: &haste_schema::Policy) -> bool {
        let before = self.from.policies.iter().find(|old| {
            (&old.schema, &old.table, &old.name) == (&policy.schema, &policy.table, &policy.name)
        });
        self.policies_early
            && self.stays(&policy.schema, &policy.table, before.is_some())
            && before
                .is_some_and(|old| self.recreated.policy_calls(old) || self.recreated.policy_calls(policy))
    }

    /// Phase 5, then: constraints that appear (or call a function created again), indexes,
    /// foreign keys and statistics.
    fn add_constraints_and_indexes(&self, plan: &mut Builder) {
        let (from, to) = (self.from, self.to);
        let recreated = &self.recreated;
        let old_tables = &self.old_tables;
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
        let relations = relation_names(from, to);
        let taken = |schema: &str, name: &str| relations.contains(&(schema, name));
        for (table, constraint) in added_constraints(false) {
            let existing = old_tables.contains_key(&table_key(table));
            let leaves = online::Leaves { tables: existing_leaves(table), taken: &taken };
            online::add_constraint(plan, table, constraint, existing, &leaves);
        }
        indexes::create_changed(plan, &self.index_families, &self.index_tables());
        for (table, constraint) in added_constraints(true) {
            let existing = old_tables.contains_key(&table_key(table));
            let leaves = online::Leaves { tables: Vec::new(), taken: &taken };
            online::add_constraint(plan, table, constraint, existing, &leaves);
        }
        for new in self.comparison.added_or_changed(statistics) {
            let source = SchemaChange::CreateStatistics(Named::new(&new.schema, &new.name));
            plan.push(&source, new.create_statement(), Lock::ShareUpdateExclusive, &[]);
        }
    }

    /// Phase 6: replica identities (over the indexes built in phase 5), views in creation order,
    /// what waits for the views, triggers and rules, row security, policies, comments,
    /// privileges and owners (objects created again get theirs back here).
    fn create_dependents(&self, plan: &mut Builder, types: &NewTypes, creations: &[Creation<'a>]) {
        let (from, to) = (self.from, self.to);
        settings::replica_identities(plan, from, to);
        settings::cluster_indexes(plan, from, to);
        self.create_views(plan, creations);
        indexes::create_on_views(plan, &self.index_families, &self.index_tables());
        types.create_composites(plan, to, RowTypeStage::AfterViews, &|_| true);
        for new in self.new_functions.iter().filter(|f| self.stage(f) == RowTypeStage::AfterViews) {
            create_function(plan, new);
        }
        let stays = |schema: &str, table: &str, unchanged: bool| self.stays(schema, table, unchanged);
        triggers::create(plan, (from, to), &stays);
        row_security(plan, &self.old_tables, to);
        for new in to
            .policies
            .iter()
            .filter(|p| self.policy_goes(p, from.policies.contains(p)))
            .filter(|p| !self.back_early(p))
        {
            let source = SchemaChange::CreatePolicy(OfTable::new(&new.schema, &new.table, &new.name));
            plan.push(&source, new.create_statement(), Lock::AccessExclusive, &[]);
        }
        table_comments(plan, &self.old_tables, to);
        comments::plan(plan, from, to);
        // Types created again (an enum or domain rebuilt, a composite type dropped and created)
        // lost their privileges and owners; those altered in place kept them.
        let recreated_ranges =
            types.ranges.iter().filter(|new| from.ranges.iter().any(|old| range_key(old) == range_key(new)));
        let recreated_types: Vec<String> = self
            .rebuilt_types
            .iter()
            .cloned()
            .chain(types.recreated_composites.iter().cloned())
            .chain(recreated_ranges.map(|range| range_key(range)))
            .collect();
        privileges::plan(plan, from, to, &self.views.created, &recreated_types);
        owners::plan(plan, from, to, &self.views.created, &recreated_types);
    }

    /// The views not created in phase 5 (which no table or function needed), and the views kept
    /// whose options or column defaults change.
    fn create_views(&self, plan: &mut Builder, creations: &[Creation<'a>]) {
        let created_early: Vec<&View> = creations
            .iter()
            .filter_map(|creation| match creation {
                Creation::View(view) => Some(*view),
                _ => None,
            })
            .collect();
        for view in self
            .views
            .created
            .iter()
            .filter(|view| !created_early.iter().any(|early| std::ptr::eq(*early, **view)))
        {
            create_view(plan, view);
        }
        for new in self.to.views.iter().filter(|view| !self.views.creates(&view.schema, &view.name)) {
            if let Some(old) = self.from.views.iter().find(|old| old.same_query(new)) {
                let source = SchemaChange::AlterView(Named::new(&new.schema, &new.name));
                let options = match old.options != new.options {
                    true => new.alter_options_statements(old),
                    false => Vec::new(),
                };
                for statement in
                    options.into_iter().chain(new.column_default_statements(&old.column_defaults))
                {
                    plan.push(&source, statement, Lock::AccessExclusive, &[]);
                }
            }
        }
    }

    /// Phase 7: what nothing uses any more: functions, types, sequences, collations,
    /// extensions, schemas.
    fn drop_unused(&self, plan: &mut Builder) {
        let (from, to) = (self.from, self.to);
        for old in from.functions.iter().filter(|f| {
            !to.functions.iter().any(|n| n.signature == f.signature) && !self.dropped_first.contains(f)
        }) {
            let source = SchemaChange::DropFunction(Named::new(&old.schema, &old.signature));
            // `ROUTINE`: a procedure too (`DROP FUNCTION` refuses one, 42809).
            plan.push(&source, format!("DROP ROUTINE {}", old.signature), Lock::None, &[]);
        }
        drop_unused_types(plan, from, to);
        enums::drop_unused(plan, self.comparison);
        self.sequences.drop_unused(plan, from, to);
        collations::drop_unused(plan, from, to);
        for old in self.comparison.dropped(|object| match object {
            Object::Extension(extension) => Some(extension),
            _ => None,
        }) {
            let source = SchemaChange::DropExtension(old.name.clone());
            plan.push(&source, format!("DROP EXTENSION {}", quote_ident(&old.name)), Lock::None, &[]);
        }
        for old in self.comparison.dropped(|object| match object {
            Object::Schema(namespace) => Some(namespace),
            _ => None,
        }) {
            let source = SchemaChange::DropSchema(old.name.clone());
            plan.push(
                &source,
                format!("DROP SCHEMA {}", quote_ident(&old.name)),
                Lock::None,
                &[Hazard::DataLoss],
            );
        }
    }
}

impl NewTypes<'_> {
    /// Creates the composite types whose row types `stage` says exist, of those `which` takes
    /// (composite types and functions over the row types of tables or views wait for them).
    fn create_composites(
        &self,
        plan: &mut Builder,
        to: &Schema,
        stage: RowTypeStage,
        which: &dyn Fn(&&Composite) -> bool,
    ) {
        for new in self.composites.iter().filter(|c| to.row_type_stage(&c.row_types) == stage && which(c)) {
            let named = Named::new(&new.schema, &new.name);
            plan.push(&SchemaChange::CreateComposite(named), new.create_statement(), Lock::None, &[]);
        }
    }

    /// Creates the range types whose `SUBTYPE_DIFF` is a function of the schema (`late`), or the
    /// others.
    fn create_ranges(&self, plan: &mut Builder, to: &Schema, late: bool) {
        for new in self.ranges.iter().filter(|r| r.uses_function_of(to) == late) {
            let source = SchemaChange::CreateRange(Named::new(&new.schema, &new.name));
            plan.push(&source, new.create_statement(), Lock::None, &[]);
        }
    }
}

fn range_key(range: &Range) -> String {
    qualified(&range.schema, &range.name)
}

/// Phase 1: the schemas and extensions that appear, and schemas' comments.
fn create_schemas_and_extensions(plan: &mut Builder, comparison: &Comparison) {
    for change in &comparison.changes {
        match change {
            ObjectChange::Add(Object::Schema(namespace)) => {
                plan.push(
                    &SchemaChange::CreateSchema(namespace.name.clone()),
                    format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&namespace.name)),
                    Lock::None,
                    &[],
                );
                if namespace.comment.is_some() {
                    let source = SchemaChange::SetSchemaComment(namespace.name.clone());
                    plan.push(&source, namespace.comment_statement(), Lock::ShareUpdateExclusive, &[]);
                }
            }
            // A schema has nothing but its name and comment.
            ObjectChange::Modify { to: Object::Schema(namespace), .. } => {
                let source = SchemaChange::SetSchemaComment(namespace.name.clone());
                plan.push(&source, namespace.comment_statement(), Lock::ShareUpdateExclusive, &[]);
            }
            ObjectChange::Add(Object::Extension(extension)) => {
                let source = SchemaChange::CreateExtension(extension.name.clone());
                plan.push(&source, extension.create_statement(), Lock::None, &[]);
            }
            // One installed in another schema moves (`CREATE ... IF NOT EXISTS` would skip it).
            ObjectChange::Modify { to: Object::Extension(extension), .. } => {
                let source = SchemaChange::CreateExtension(extension.name.clone());
                let statement = format!(
                    "ALTER EXTENSION {} SET SCHEMA {}",
                    quote_ident(&extension.name),
                    quote_ident(&extension.schema)
                );
                plan.push(&source, statement, Lock::None, &[]);
            }
            _ => {}
        }
    }
}

/// A new table, its columns inherited from its parents, and its columns' settings.
fn create_table(plan: &mut Builder, to: &Schema, table: &Table) {
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

/// The relation names either side holds (an index-backed key's index has its name), for the
/// names of partitions' keys.
fn relation_names<'a>(from: &'a Schema, to: &'a Schema) -> BTreeSet<(&'a str, &'a str)> {
    [from, to]
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
        .collect()
}

/// Row security enabled or disabled, forced or not, on the tables of `to`.
fn row_security(plan: &mut Builder, old_tables: &BTreeMap<String, &Table>, to: &Schema) {
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
}

/// The comments of the tables of `to` (and their columns) that are new or change, or that a
/// column added again lost.
fn table_comments(plan: &mut Builder, old_tables: &BTreeMap<String, &Table>, to: &Schema) {
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

/// Picks a statistics object out of a comparison's objects.
fn statistics(object: Object<'_>) -> Option<&haste_schema::Statistics> {
    match object {
        Object::Statistics(statistics) => Some(statistics),
        _ => None,
    }
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
