//! Sequences of their own (an identity sequence is its column's, `columns.rs`): created and
//! changed in place before the tables change, given to the column that comes to own them once it
//! exists, and dropped when nothing uses them any more.

use haste_schema::{Schema, Sequence, qualified};
use haste_sql::quote_literal;

use crate::builder::Builder;
use crate::compare::{self, Comparison, Object, ObjectChange, by};
use crate::{Hazard, Lock, Named, OfTable, SchemaChange, columns};

fn sequence_key(sequence: &Sequence) -> String {
    qualified(&sequence.schema, &sequence.name)
}

/// The sequences a plan creates, changes and lets go, worked out once for the phases that
/// handle them.
pub(crate) struct Sequences<'a> {
    /// New sequences (an identity sequence of `from` is no sequence of its own: a serial
    /// column's may take its name, once the identity that holds it is dropped, `columns.rs`),
    /// but for those that take a name.
    created: Vec<&'a Sequence>,
    /// New sequences named as an identity sequence of `from`.
    pub(crate) taking_names: Vec<&'a Sequence>,
    /// Sequences on both sides that change, as (old, new).
    altered: Vec<(&'a Sequence, &'a Sequence)>,
    /// Sequences a column that stays owns, which `to` no longer has.
    pub(crate) released: Vec<&'a Sequence>,
}

impl<'a> Sequences<'a> {
    pub(crate) fn new(comparison: &Comparison<'a>) -> Self {
        let (from, to) = (comparison.from, comparison.to);
        let old_sequences = by(&from.sequences, sequence_key);
        let new_sequences: Vec<&Sequence> = to
            .sequences
            .iter()
            .filter(|s| !s.identity && old_sequences.get(&sequence_key(s)).is_none_or(|old| old.identity))
            .collect();
        let (taking_names, created): (Vec<&Sequence>, Vec<&Sequence>) =
            new_sequences.into_iter().partition(|s| old_sequences.contains_key(&sequence_key(s)));
        let altered = comparison
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
        let released = comparison
            .changes
            .iter()
            .filter_map(|change| match change {
                ObjectChange::Drop(Object::Sequence(old)) if old.owned_by.is_some() => Some(*old),
                _ => None,
            })
            .collect();
        Sequences { created, taking_names, altered, released }
    }

    /// Creates the new sequences, and changes in place (type, options) those on both sides; one
    /// no column owns any more is let go before the tables change (dropping the column that
    /// owned it would drop it too), one a column comes to own is given to it once the column
    /// exists ([`Sequences::give_to_columns`]).
    pub(crate) fn create_and_alter(&self, plan: &mut Builder) {
        for new in &self.created {
            let source = SchemaChange::CreateSequence(Named::new(&new.schema, &new.name));
            plan.push(&source, new.create_statement(), Lock::None, &[]);
        }
        for (old, new) in &self.altered {
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
    }

    /// `OWNED BY` for the new sequences and those a column comes to own, once the columns exist.
    pub(crate) fn give_to_columns(&self, plan: &mut Builder) {
        for sequence in self.created.iter().chain(&self.taking_names) {
            if let Some(statement) = sequence.owned_by_statement() {
                let source = SchemaChange::CreateSequence(Named::new(&sequence.schema, &sequence.name));
                plan.push(&source, statement, Lock::None, &[]);
            }
        }
        for (_, new) in
            self.altered.iter().filter(|(old, new)| new.owned_by.is_some() && old.owned_by != new.owned_by)
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
    }

    /// Drops the sequences `to` no longer has: those no column owned, and those let go by a
    /// column that stays unless a column's change dropped them already.
    pub(crate) fn drop_unused(&self, plan: &mut Builder, from: &Schema, to: &Schema) {
        for old in from
            .sequences
            .iter()
            .filter(|s| !s.identity && !to.sequences.iter().any(|n| sequence_key(n) == sequence_key(s)))
        {
            let source = SchemaChange::DropSequence(Named::new(&old.schema, &old.name));
            let released =
                self.released.contains(&old) && !plan.steps.iter().any(|step| step.source == source);
            if old.owned_by.is_none() || released {
                plan.push(
                    &source,
                    format!("DROP SEQUENCE {}", sequence_key(old)),
                    Lock::None,
                    &[Hazard::DataLoss],
                );
            }
        }
    }
}

/// Identity sequences whose options are not what their column had (PostgreSQL's defaults for a
/// column that gets its identity in this plan: a new table, a new column, an identity added),
/// set through their column. An identity added to a column that exists also gets its sequence
/// set past the column's values: else the first row it numbers collides with one already there.
pub(crate) fn identities(plan: &mut Builder, from: &Schema, to: &Schema) {
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
