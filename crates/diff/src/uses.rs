//! What stops a type or a function from being dropped and created again: the expressions of
//! tables (defaults, generated columns, checks, index keys and predicates, policies) that name a
//! type in a cast or call a function, and the types and functions whose declarations name a
//! type. PostgreSQL records each as a dependency and refuses the drop under it (2BP01), so the
//! planner takes them out of the way first where it can (`functions.rs`) and refuses the change
//! before anything runs where it cannot (`lib.rs`: [`crate::rebuild_refused`]).
//!
//! Expressions are read with PostgreSQL's grammar (`haste_sql::type_names`, `haste_sql::reads`)
//! by name without schema, which can only find more uses than there are; one that cannot be read
//! counts as a use.

use std::collections::HashSet;

use haste_schema::{Column, Constraint, ConstraintKind, Policy, Schema, Table};

use crate::enums::column_uses;

/// What an expression of a table is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// A column's default.
    Default,
    /// A stored generated column.
    Generated,
    /// A `CHECK` constraint.
    Check,
    /// An index (keys, predicate).
    Index,
    /// A row security policy.
    Policy,
}

/// An expression of a table, as a statement PostgreSQL's grammar reads.
pub(crate) struct Expression<'a> {
    /// What it is, for people: `default of crm.deals.id`, `constraint deals_v_check on crm.deals`.
    pub(crate) what: String,
    /// What it is part of.
    pub(crate) part: Part,
    /// Its table (schema, name).
    pub(crate) table: (&'a str, &'a str),
    /// The column it is the default of (its own conversion resets it).
    pub(crate) default_of: Option<&'a Column>,
    /// A statement holding it.
    pub(crate) statement: String,
}

/// A column's default or generation expression as a statement.
pub(crate) fn expression_statement(expression: &str) -> String {
    format!("SELECT {expression}")
}

/// A check as a query's condition (the grammar's walker does not enter a constraint of `ALTER
/// TABLE`); `None` for a constraint of another kind.
pub(crate) fn check_statement(table: &Table, constraint: &Constraint) -> Option<String> {
    if constraint.kind != ConstraintKind::Check {
        return None;
    }
    let condition = constraint.definition.trim_start_matches("CHECK ");
    let condition = condition.trim_end_matches(" NOT VALID").trim_end_matches(" NO INHERIT");
    Some(format!("SELECT 1 FROM {} WHERE {condition}", table.qualified_name()))
}

/// A policy's expressions as a query's conditions (the walker does not enter `CREATE POLICY`);
/// `None` for a policy without any.
pub(crate) fn policy_statement(policy: &Policy) -> Option<String> {
    let conditions: Vec<&str> = policy.using.iter().chain(&policy.with_check).map(String::as_str).collect();
    (!conditions.is_empty()).then(|| format!("SELECT 1 WHERE ({})", conditions.join(") AND (")))
}

/// Every default, generated column, check, index and policy of `schema`'s tables.
pub(crate) fn expressions(schema: &Schema) -> Vec<Expression<'_>> {
    let mut out = Vec::new();
    for table in &schema.tables {
        let plain = format!("{}.{}", table.schema, table.name);
        let of_table = (table.schema.as_str(), table.name.as_str());
        for column in &table.columns {
            if let Some(default) = &column.default {
                out.push(Expression {
                    what: format!("default of {plain}.{}", column.name),
                    part: Part::Default,
                    table: of_table,
                    default_of: Some(column),
                    statement: expression_statement(default),
                });
            }
            if let Some(generated) = &column.generated {
                out.push(Expression {
                    what: format!("generated column {plain}.{}", column.name),
                    part: Part::Generated,
                    table: of_table,
                    default_of: None,
                    statement: expression_statement(generated),
                });
            }
        }
        for constraint in &table.constraints {
            if let Some(statement) = check_statement(table, constraint) {
                out.push(Expression {
                    what: format!("constraint {} on {plain}", constraint.name),
                    part: Part::Check,
                    table: of_table,
                    default_of: None,
                    statement,
                });
            }
        }
    }
    for index in &schema.indexes {
        out.push(Expression {
            what: format!("index {}.{}", index.schema, index.name),
            part: Part::Index,
            table: (&index.schema, &index.table),
            default_of: None,
            statement: index.definition.clone(),
        });
    }
    for policy in &schema.policies {
        if let Some(statement) = policy_statement(policy) {
            out.push(Expression {
                what: format!("policy {} on {}.{}", policy.name, policy.schema, policy.table),
                part: Part::Policy,
                table: (&policy.schema, &policy.table),
                default_of: None,
                statement,
            });
        }
    }
    out
}

/// The expressions of `from`'s tables that `to` holds unchanged (the plan neither drops nor sets
/// them again).
pub(crate) fn kept_expressions<'a>(from: &'a Schema, to: &Schema) -> Vec<Expression<'a>> {
    let after: HashSet<(String, String)> =
        expressions(to).into_iter().map(|e| (e.what, e.statement)).collect();
    expressions(from).into_iter().filter(|e| after.contains(&(e.what.clone(), e.statement.clone()))).collect()
}

/// Whether `statement` names type `name` (without schema) in a cast or a declaration.
pub(crate) fn names_type(statement: &str, name: &str) -> bool {
    haste_sql::type_names(statement).is_none_or(|types| types.contains(name))
}

/// Whether `statement` calls a function named `name` (without schema).
pub(crate) fn calls(statement: &str, name: &str) -> bool {
    haste_sql::reads(statement).is_none_or(|reads| reads.functions.contains(name))
}

/// The domains, composite types and functions of `schema` that declare type `type_schema`.`name`
/// (a domain's base type, an attribute, an argument or the result), named for people.
pub(crate) fn declarations_using(schema: &Schema, (type_schema, name): (&str, &str)) -> Vec<String> {
    let uses = |data_type: &str| column_uses(data_type, type_schema, name).is_some();
    let mut users: Vec<String> = schema
        .domains
        .iter()
        .filter(|d| uses(&d.base_type))
        .map(|d| format!("domain {}.{}", d.schema, d.name))
        .collect();
    users.extend(
        schema
            .composites
            .iter()
            .filter(|c| c.attributes.iter().any(|a| uses(&a.data_type)))
            .map(|c| format!("type {}.{}", c.schema, c.name)),
    );
    users.extend(
        schema
            .functions
            .iter()
            .filter(|f| {
                signature_types(&f.signature).any(uses)
                    || f.result.as_deref().is_some_and(|r| result_names(r, &uses))
            })
            .map(|f| format!("function {}", f.signature)),
    );
    users
}

/// The argument types of a signature as `regprocedure` prints it (`crm.f(integer, crm.score)`).
fn signature_types(signature: &str) -> impl Iterator<Item = &str> {
    let arguments = signature.split_once('(').map_or("", |(_, rest)| rest.trim_end_matches(')'));
    arguments.split(',').map(str::trim).filter(|argument| !argument.is_empty())
}

/// Whether a result as `pg_get_function_result` prints it (`crm.score`, `SETOF crm.score`,
/// `TABLE(id integer, s crm.score)`) holds a type `uses` accepts.
fn result_names(result: &str, uses: &impl Fn(&str) -> bool) -> bool {
    let result = result.strip_prefix("SETOF ").unwrap_or(result);
    match result.strip_prefix("TABLE(").and_then(|columns| columns.strip_suffix(')')) {
        // `name type` per column: the type is what follows the first space.
        Some(columns) => columns
            .split(',')
            .filter_map(|column| column.trim().split_once(' ').map(|(_, data_type)| data_type.trim()))
            .any(uses),
        None => uses(result.trim()),
    }
}

/// The expressions of tables that name type `type_schema`.`name` in a cast and that the plan
/// keeps (the same on both sides: one that changes is dropped before the type is), named for
/// people; the default of a column of the type is left out (its conversion resets it).
pub(crate) fn kept_casts(from: &Schema, to: &Schema, of_type: (&str, &str)) -> Vec<String> {
    casting_to(kept_expressions(from, to), of_type)
}

/// The expressions that name type `type_schema`.`name` in a cast where a rebuild drops it, named
/// for people: those the plan keeps, and the defaults and generated columns of `to` on tables
/// `from` already has, which are set again as the tables change, before the drop (changed
/// checks, indexes and policies come back after it, on the new type; so do a new table's). The
/// default of a column of the type is left out (its conversion resets it).
pub(crate) fn casts_where_dropped(from: &Schema, to: &Schema, of_type: (&str, &str)) -> Vec<String> {
    let kept: HashSet<(String, String)> =
        kept_expressions(from, to).into_iter().map(|e| (e.what, e.statement)).collect();
    let held = expressions(to).into_iter().filter(|e| {
        kept.contains(&(e.what.clone(), e.statement.clone()))
            || (matches!(e.part, Part::Default | Part::Generated)
                && from.tables.iter().any(|t| (t.schema.as_str(), t.name.as_str()) == e.table))
    });
    casting_to(held, of_type)
}

/// Of `expressions`, those that name type `type_schema`.`name` in a cast, named for people; the
/// default of a column of the type is left out (its conversion resets it).
fn casting_to<'a>(
    expressions: impl IntoIterator<Item = Expression<'a>>,
    (type_schema, name): (&str, &str),
) -> Vec<String> {
    expressions
        .into_iter()
        .filter(|e| {
            e.default_of.is_none_or(|column| column_uses(&column.data_type, type_schema, name).is_none())
        })
        .filter(|e| names_type(&e.statement, name))
        .map(|e| e.what)
        .collect()
}

/// One line naming `users`: `a, b and c`.
pub(crate) fn listed(users: &[String]) -> String {
    match users {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
