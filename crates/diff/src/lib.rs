//! The difference between two schemas as statements that carry their hazards.
//!
//! # Brief overview
//! [`compare`] compares two [`Schema`](haste_schema::Schema)s (normalized by the same PostgreSQL,
//! so equal text means equal objects) and returns their typed changes ([`ObjectChange`],
//! [`TableChange`]); [`plan`] turns those into a [`Plan`]: statements in an order PostgreSQL
//! accepts, each with the [`Lock`] it takes and its [`Hazard`]s. [`diff`] does both; [`changes`]
//! sums the typed changes up for people. Renames are never guessed: a
//! column that disappears and another that appears are a drop and an add, with the data loss
//! said and the likely rename offered as a [`RenameSuggestion`]; [`rename_statements`] turns
//! explicit hints into statements.
//!
//! Order: the plan is built in phases (drop what depends on changed objects, then change,
//! then create, dependents last). New tables, `LANGUAGE sql` functions and the views they need
//! are created in the order of a dependency graph (what defaults, generated columns, bodies and
//! views read and call), the phase order standing where nothing depends. Within a phase, output
//! follows the model's sorted order, so plans are deterministic. Only the views that read what changes (a retyped, dropped or replaced
//! column, a dropped table, a recreated view) or whose definition changes are dropped and
//! created again, in dependency order.
//!
//! Each step carries its source, the [`SchemaChange`] it carries out: code that reads a plan
//! matches on that, never on the statement's text.
//!
//! With [`Options::online`], changes to tables that already exist take their online forms:
//! concurrent index builds, constraints added `NOT VALID` and validated apart, `SET NOT NULL`
//! through a validated check, unique and primary keys attached to an index built concurrently.

mod builder;
mod collations;
mod columns;
mod comments;
mod compare;
mod composites;
mod domains;
mod enums;
#[cfg(test)]
mod fixtures;
mod functions;
mod indexes;
mod online;
mod order;
mod owners;
mod partitions;
mod plan;
mod privileges;
mod rename;
mod schema_change;
mod sequences;
mod settings;
mod summary;
mod triggers;
mod uses;
mod views;

pub use columns::indexed;
pub use compare::{Comparison, Object, ObjectChange, Pair, TableChange, compare, inheritance_refused};
pub use partitions::{PartitionRefusal, partitioning_refused};
pub use plan::{diff, plan};
pub use rename::{Rename, RenameSuggestion, Renamed, rename_statements};
pub use schema_change::{Named, OfTable, SchemaChange};
pub use summary::{Change, ChangeKind, changes};

use serde::Serialize;

/// What stops the plan from `from` to `to` from applying, said before anything runs: a type or
/// function it must drop (a domain, composite type or range type rebuilt, a function dropped or
/// created again) while something PostgreSQL keeps still uses it, which makes the drop fail
/// (2BP01); a composite type a table stores that would have to be dropped. The reason names the
/// object and its users; `None` when nothing does.
pub fn rebuild_refused(from: &haste_schema::Schema, to: &haste_schema::Schema) -> Option<String> {
    domains::domain_rebuild_refused(from, to)
        .or_else(|| collations::change_refused(from, to))
        .or_else(|| domains::range_rebuild_refused(from, to))
        .or_else(|| composites::composite_change_refused(from, to))
        .or_else(|| functions::function_drop_refused(from, to))
}

/// How to plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Use the online forms for tables that already exist.
    pub online: bool,
}

/// The strongest table lock a step takes: one notion of lock levels for plans, the linter and
/// the runner.
pub use haste_sql::Lock;

/// What applying a statement risks, beyond its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    /// Rewrites the table (and its indexes) under its lock.
    TableRewrite,
    /// Scans the whole table under its lock.
    TableScan,
    /// Builds an index.
    IndexBuild,
    /// Loses data.
    DataLoss,
    /// Fails when the table has rows (a `NOT NULL` column without a default).
    FailsOnRows,
}

impl Hazard {
    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            Hazard::TableRewrite => "rewrites the table",
            Hazard::TableScan => "scans the whole table",
            Hazard::IndexBuild => "builds an index",
            Hazard::DataLoss => "can lose data",
            Hazard::FailsOnRows => "fails if the table has rows",
        }
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The SQL, without a terminating `;`.
    pub sql: String,
    /// The lock it takes.
    pub lock: Lock,
    /// What it risks.
    pub hazards: Vec<Hazard>,
    /// It must not share a transaction with the statements before it (a concurrent index
    /// build, or a validation whose point is that the `NOT VALID` constraint committed first).
    pub alone: bool,
    /// The change it carries out (left out of JSON, which shows the statements).
    #[serde(skip)]
    pub source: SchemaChange,
}

/// The statements that turn one schema into another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// In the order they must run.
    pub steps: Vec<Step>,
    /// Dropped and added columns that look like renames; never applied without a hint.
    pub suggestions: Vec<RenameSuggestion>,
}

impl Plan {
    /// Whether the schemas were equal.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether a runner must give each statement its own transaction.
    pub fn needs_separate_transactions(&self) -> bool {
        self.steps.iter().any(|step| step.alone)
    }

    /// Whether any statement carries `hazard`.
    pub fn has(&self, hazard: Hazard) -> bool {
        self.steps.iter().any(|step| step.hazards.contains(&hazard))
    }
}

/// What the planner refuses rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rename hint names nothing in the schema.
    #[error("rename hint `{hint}`: {reason}")]
    BadRename {
        /// The hint as written.
        hint: String,
        /// Why it does not apply.
        reason: String,
    },
}
