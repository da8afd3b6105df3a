//! The difference between two schemas as statements that carry their hazards.
//!
//! # Brief overview
//! [`diff`] compares two [`Schema`]s (normalized by the same PostgreSQL, so equal text means
//! equal objects) and returns a [`Plan`]: statements in an order PostgreSQL accepts, each with
//! the lock it takes and its [`Hazard`]s. Renames are never guessed: a column or table that
//! disappears and another that appears are a drop and a create, with the data loss said.
//!
//! Order: the plan is built in phases (drop what depends on changed objects, then change,
//! then create, dependents last). Within a phase, output follows the model's sorted order, so
//! plans are deterministic. Views are recreated in their creation order whenever a table they
//! may read changes.

mod plan;

pub use plan::diff;

use serde::Serialize;

/// What applying a statement risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    /// Takes an ACCESS EXCLUSIVE lock: every read and write of the table waits.
    AccessExclusiveLock,
    /// Rewrites the table (and its indexes).
    TableRewrite,
    /// Scans the whole table under its lock.
    TableScan,
    /// Builds an index.
    IndexBuild,
    /// Loses data.
    DataLoss,
}

impl Hazard {
    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            Hazard::AccessExclusiveLock => "takes an ACCESS EXCLUSIVE lock",
            Hazard::TableRewrite => "rewrites the table",
            Hazard::TableScan => "scans the whole table",
            Hazard::IndexBuild => "builds an index",
            Hazard::DataLoss => "can lose data",
        }
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The SQL, without a terminating `;`.
    pub sql: String,
    /// What it risks.
    pub hazards: Vec<Hazard>,
}

/// The statements that turn one schema into another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// In the order they must run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether the schemas were equal.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// What the planner does not do yet, so it refuses rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An enum lost values or changed their order.
    #[error("enum {name}: removing or reordering values is not supported yet (values can only be added)")]
    EnumValuesRemoved {
        /// The enum, qualified.
        name: String,
    },
}
