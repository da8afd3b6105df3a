//! Functions that a plan drops while the tables' expressions call them. A function whose result,
//! or its arguments' names or defaults, change is dropped and created again (`plan.rs`:
//! `CREATE OR REPLACE` refuses), and one whose argument types change is a new function, the old
//! one dropped last. The views calling a function dropped to be created again are recreated
//! around it (`views.rs`); a default, generated column, check, index or policy calling it would
//! make PostgreSQL refuse the drop (2BP01), so such a change is refused before anything runs
//! ([`function_drop_refused`]).

use haste_schema::Schema;

use crate::compare::recreated_functions;
use crate::uses;

/// What stops a function from being dropped: for the first function dropped to be created
/// again, every expression of a table calling it (the drop comes before tables change); for the
/// first one dropped for good, the expressions the plan keeps that call it (those that change
/// are set again before). `None` when nothing does.
pub(crate) fn function_drop_refused(from: &Schema, to: &Schema) -> Option<String> {
    let before = uses::expressions(from);
    let recreated = recreated_functions(from, to).into_iter().find_map(|function| {
        let users: Vec<String> = before
            .iter()
            .filter(|e| uses::calls(&e.statement, &function.name))
            .map(|e| e.what.clone())
            .collect();
        (!users.is_empty()).then(|| {
            format!(
                "function {} is dropped and created again (its result, or its arguments' names or defaults, change), and {} call{} it",
                function.signature,
                uses::listed(&users),
                if users.len() == 1 { "s" } else { "" },
            )
        })
    });
    let dropped = || {
        let kept = uses::kept_expressions(from, to);
        from.functions.iter().filter(|f| !to.functions.iter().any(|n| n.signature == f.signature)).find_map(
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
