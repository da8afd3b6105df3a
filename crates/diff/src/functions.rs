//! Functions that a plan drops while the tables' expressions call them. A function whose result,
//! or its arguments' names or defaults, change is dropped and created again (`plan.rs`:
//! `CREATE OR REPLACE` refuses), and one whose argument types change is a new function, the old
//! one dropped last. PostgreSQL refuses to drop a function anything uses (2BP01), so what calls
//! one dropped to be created again is taken out of the way first and put back once it exists:
//! the views calling it are recreated (`views.rs`), the checks and policies calling it dropped
//! and added again, the defaults calling it dropped and set again ([`Recreated`]). An index or a
//! stored generated column calling it would have to be built or computed again, a default that
//! changes as well would be set before the function exists, and a table dropped in the same plan
//! still holds its expressions when the function goes: such a change is refused before anything
//! runs, as is dropping a function for good while expressions the plan keeps still call it
//! ([`function_drop_refused`]).

use std::collections::{BTreeSet, HashSet};

use haste_schema::{Constraint, Function, Policy, Schema, Table};

use crate::compare::recreated_functions;
use crate::uses::{self, Part};

/// The functions a plan drops to create again, by name (as calls name them, without schema):
/// which expressions call one.
pub(crate) struct Recreated<'a> {
    names: BTreeSet<&'a str>,
}

impl<'a> Recreated<'a> {
    pub(crate) fn new(from: &'a Schema, to: &Schema) -> Self {
        Recreated { names: recreated_functions(from, to).into_iter().map(|f| f.name.as_str()).collect() }
    }

    fn called_by(&self, statement: &str) -> bool {
        self.names.iter().any(|name| uses::calls(statement, name))
    }

    /// Whether a column default calls one.
    pub(crate) fn default_calls(&self, default: &str) -> bool {
        !self.names.is_empty() && self.called_by(&uses::expression_statement(default))
    }

    /// Whether a check of `table` calls one (to be dropped and added again around it).
    pub(crate) fn check_calls(&self, table: &Table, constraint: &Constraint) -> bool {
        !self.names.is_empty() && uses::check_statement(table, constraint).is_some_and(|s| self.called_by(&s))
    }

    /// Whether a policy calls one (to be dropped and created again around it).
    pub(crate) fn policy_calls(&self, policy: &Policy) -> bool {
        !self.names.is_empty() && uses::policy_statement(policy).is_some_and(|s| self.called_by(&s))
    }
}

/// What stops a function from being dropped: for the first function dropped to be created
/// again, the indexes and generated columns calling it, the defaults calling it that change, and
/// every expression of a table the plan drops that calls it (the function goes first); for the
/// first one dropped for good, the expressions the plan keeps that call it (those that change
/// are set again before). `None` when nothing does.
pub(crate) fn function_drop_refused(from: &Schema, to: &Schema) -> Option<String> {
    let recreated = recreated_functions(from, to);
    let dropped: Vec<&Function> =
        from.functions.iter().filter(|f| !to.functions.iter().any(|n| n.signature == f.signature)).collect();
    // Most plans drop no function: the tables' expressions are not read then.
    if recreated.is_empty() && dropped.is_empty() {
        return None;
    }
    let before = uses::expressions(from);
    let kept = uses::kept_expressions(from, to);
    let kept_set: HashSet<(&str, &str)> =
        kept.iter().map(|e| (e.what.as_str(), e.statement.as_str())).collect();
    let is_kept = |e: &uses::Expression| kept_set.contains(&(e.what.as_str(), e.statement.as_str()));
    let staying: HashSet<(&str, &str)> =
        to.tables.iter().map(|t| (t.schema.as_str(), t.name.as_str())).collect();
    let table_stays = |table: (&str, &str)| staying.contains(&table);
    let recreated = recreated.into_iter().find_map(|function| {
        let users: Vec<String> = before
            .iter()
            .filter(|e| match e.part {
                _ if !table_stays(e.table) => true,
                Part::Index | Part::Generated => true,
                Part::Default => !is_kept(e),
                Part::Check | Part::Policy => false,
            })
            .filter(|e| uses::calls(&e.statement, &function.name))
            .map(|e| e.what.clone())
            .collect();
        (!users.is_empty()).then(|| {
            format!(
                "function {} is dropped and created again (its result, or its arguments' names or defaults, change), and {} call{} it (an index or generated column would be built again, a default that changes too would be set before the function exists, a table dropped still holds its expressions)",
                function.signature,
                uses::listed(&users),
                if users.len() == 1 { "s" } else { "" },
            )
        })
    });
    let dropped = || {
        dropped.into_iter().find_map(
            |function| {
                let users: Vec<String> = kept
                    .iter()
                    .filter(|e| uses::calls(&e.statement, &function.name))
                    .map(|e| e.what.clone())
                    .collect();
                (!users.is_empty()).then(|| {
                    format!(
                        "function {} is dropped (its argument types change, or it goes), and {}, which the migration keeps, call{} it",
                        function.signature,
                        uses::listed(&users),
                        if users.len() == 1 { "s" } else { "" },
                    )
                })
            },
        )
    };
    recreated.or_else(dropped).map(|reason| {
        format!(
            "{reason}: PostgreSQL refuses to drop a function they use (drop or change them in an earlier migration, or write this migration by hand: haste migrate new)"
        )
    })
}
