//! Triggers and rules: dropped before what they depend on changes (a retyped column, a view
//! created again) and created again last, and their firing (`ENABLE REPLICA`, `ALWAYS`,
//! `DISABLE`) set once they exist.

use std::collections::BTreeMap;

use haste_schema::{Rule, Schema, Table, Trigger, TriggerFiring, qualified};
use haste_sql::quote_ident;

use crate::builder::Builder;
use crate::views::Recreation;
use crate::{Lock, OfTable, SchemaChange};

/// Whether a trigger or rule of table (or view) `schema.table`, which the other side has
/// unchanged or not, stays in place: else it is dropped first and created again last
/// (`plan.rs`: not on a table with a retyped column, nor on a view created again).
pub(crate) type Stays<'s> = &'s dyn Fn(&str, &str, bool) -> bool;

/// Drops the triggers and rules that change or disappear from tables and views that stay.
pub(crate) fn drop_changed(
    plan: &mut Builder,
    (from, to): (&Schema, &Schema),
    new_tables: &BTreeMap<String, &Table>,
    views: &Recreation,
    stays: Stays,
) {
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
}

/// Creates the triggers and rules that appear or change, then sets the firing of those that
/// fire otherwise than when created.
pub(crate) fn create(plan: &mut Builder, (from, to): (&Schema, &Schema), stays: Stays) {
    for new in to.triggers.iter().filter(|t| !t.cloned && !stays(&t.schema, &t.table, has_trigger(from, t))) {
        let source = SchemaChange::CreateTrigger(OfTable::new(&new.schema, &new.table, &new.name));
        plan.push(&source, new.definition.clone(), Lock::ShareRowExclusive, &[]);
    }
    create_rules(plan, from, to, stays);
    set_trigger_firing(plan, from, to, stays);
}

/// A rule is created enabled: one that fires otherwise is set so, as is one kept whose firing
/// changes.
fn create_rules(plan: &mut Builder, from: &Schema, to: &Schema, stays: Stays) {
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
}

/// A trigger is created enabled: one that fires otherwise is set so, as is one kept whose
/// firing changes. Setting a partitioned table's trigger sets its partitions' clones too, so
/// the clones that fire otherwise come after, and a clone that comes to fire as its parent's
/// trigger is set back to that.
fn set_trigger_firing(plan: &mut Builder, from: &Schema, to: &Schema, stays: Stays) {
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
