//! The development loop on PostgreSQL: schemas read from their sources, drift between a
//! development database and its migration history, and migrations generated from a desired
//! schema (`haste migrate dev`).
//!
//! # Brief overview
//! Everything here compares schemas that PostgreSQL itself normalized: a source written as SQL
//! or as a migrations folder is applied to a shadow database ([`load`]) and introspected, so
//! two sources agree exactly when the server prints their objects the same way.
//!
//! [`dev`] is `migrate dev`: check drift ([`drift`]), replay the history on a shadow, plan
//! towards the desired schema ([`Desired`]: haste's online forms for tables that exist, Prisma's
//! statements for a Prisma schema where they are the same or asked for), validate the plan on the shadow (applied, it must reach the
//! desired schema, and its `down.sql` must give the history back), and write the folder;
//! [`apply`] then deploys it to the development database.

mod compare;
mod draft;
mod drift;
mod expand;
mod fill;
mod generate;
mod render;
mod retype;
mod source;
mod target;
mod together;

pub use compare::{
    PrismaDiff, PrismaOrSchema, ShadowServer, Side, Unmigrated, is_prisma, load_pair, plan_between,
    prisma_diff, prisma_plan, unmigrated,
};
pub use drift::{Drift, EditedMigration, SharedHistories, drift};
pub use generate::{DataLoss, Generated, Outcome, Request, apply, dev, prepare};
// The types this crate's results hold, so that a caller renders them without reaching into the
// crates below.
pub use haste_diff::{Change, ChangeKind, Hazard, Lock, Plan, Rename, Step};
pub use haste_postgres::Sandbox;
pub use haste_prisma::{DatasourceUrl, UrlValue};
pub use haste_schema::{Schema, WRITTEN_FOR};
pub use source::{Loaded, installed_extensions, load};
pub use target::{Desired, PrismaSchema, lower_prisma, prisma_datasource};

use haste_driver::{ConnectError, DbError};

/// Why the development loop stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database or shadow database could not be reached or created.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The runner failed (replaying a history, or applying to the development database).
    #[error(transparent)]
    Runner(#[from] haste_runner::Error),
    /// A statement of haste's own failed.
    #[error("{context}: {source}")]
    Database {
        /// What haste was doing.
        context: &'static str,
        /// The error.
        source: DbError,
    },
    /// A rename hint that does not apply.
    #[error(transparent)]
    Rename(#[from] haste_diff::Error),
    /// The development database differs from its migration history.
    #[error("the development database has drifted from the migration history")]
    Drift(Drift),
    /// The change adds `NOT NULL` columns without a default to tables that exist.
    #[error("a NOT NULL column without a default cannot be added to a table that already exists")]
    RequiredColumns {
        /// The statements that would fail on a table with rows.
        statements: Vec<String>,
        /// Likely renames, which would need no new column.
        suggestions: Vec<haste_diff::RenameSuggestion>,
    },
    /// The change makes columns `NOT NULL` whose rows on the development database hold `NULL`,
    /// and nothing of the migration fills them first.
    #[error("the change makes columns NOT NULL that hold NULL on the development database")]
    NullsInRequired {
        /// The columns, with their rows holding `NULL`.
        columns: Vec<NullRows>,
    },
    /// The migration drops data and nobody accepted that.
    #[error("the migration drops data")]
    DataLoss {
        /// The statements that lose data.
        statements: Vec<String>,
    },
    /// A generated plan did not reach its target on the shadow database (a bug in haste).
    #[error("the generated {which} does not reach its target schema; nothing was written")]
    PlanInvalid {
        /// `migration.sql` or `down.sql`.
        which: &'static str,
        /// What still differs after it ran.
        left: Vec<Change>,
    },
    /// A migration `migrate dev` had just written failed on the shadow database, where it is
    /// checked after the history before it is kept (the folders it wrote are removed): rows the
    /// history inserted that the change refuses, or a bug in haste.
    #[error("the migration haste wrote failed on the shadow database; nothing was written")]
    GeneratedFailed(Box<haste_runner::MigrationFailure>),
    /// A Prisma schema that does not validate (the diagnostics, rendered).
    #[error("{0}")]
    Prisma(String),
    /// Expand/contract column renames are planned from SQL, not from a Prisma schema (its type
    /// changes are).
    #[error(
        "--expand-contract renames a column across two releases from a SQL desired schema only: Prisma schemas have no rename syntax (a type change of a Prisma schema's column needs no --rename and is split across two releases)"
    )]
    ExpandNeedsSql,
    /// A column both renamed and retyped by one `--expand-contract` migration.
    #[error(
        "{column} is renamed to `{new}` and its type changes ({from} to {to}) in one migration: --expand-contract does one of them at a time; write the desired schema with the old type, run migrate dev --expand-contract --rename, deploy both releases, then change the type with migrate dev --expand-contract"
    )]
    RenameAndRetype {
        /// The column, qualified.
        column: String,
        /// Its new name.
        new: String,
        /// Its type in the history.
        from: String,
        /// Its type in the desired schema.
        to: String,
    },
    /// Type changes of both ends of a foreign key, under `--expand-contract`.
    #[error(
        "--expand-contract cannot split the type changes of {referencing} and {referenced} across two releases: a foreign key links two of their columns whose types both change, and the referenced table's swap must come before the referencing table's expand; change one table per migration, or run migrate dev without --expand-contract (one deploy)"
    )]
    LinkedRetypes {
        /// The table whose foreign key references the other, qualified.
        referencing: String,
        /// The referenced table, qualified.
        referenced: String,
    },
    /// The change touches a table of an inheritance tree in a way haste does not plan
    /// ([`haste_diff::inheritance_refused`]).
    #[error(
        "table {table} takes part in table inheritance (INHERITS): haste plans new inheritance trees and children, not changes to their tables; write this migration by hand (haste migrate new)"
    )]
    Inheritance {
        /// The table, qualified.
        table: String,
    },
    /// The desired schema holds an object haste does not model, which it would leave out of
    /// every migration and comparison silently.
    #[error(
        "the schema files create {what}, which haste does not model (a migration or diff would leave it out silently); create it in a migration written by hand and remove it from the schema files; nothing was written"
    )]
    NotModelled {
        /// The kind and names of the objects.
        what: String,
    },
    /// The plan would drop a type or function that other objects still use, and PostgreSQL
    /// would refuse it (a domain's base type or a composite type's attribute types change, a
    /// range type changes, a function's interface changes: [`haste_diff::rebuild_refused`]).
    #[error("{reason}; nothing was written")]
    DropRefused {
        /// Which object, what changes, and what uses it.
        reason: String,
    },
    /// A change of partitioning haste does not plan ([`haste_diff::partitioning_refused`]): the
    /// message names the table and why.
    #[error("{0}")]
    Partitioning(haste_diff::PartitionRefusal),
    /// `--expand-contract` found nothing to split across two releases.
    #[error(
        "--expand-contract found nothing to split across two releases: it needs a column rename hint (--rename schema.table.old=new) or a type change that rewrites a table with a single-column primary key"
    )]
    NothingToExpand,
    /// A schema file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The migrations folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A column made `NOT NULL` and the rows of the development database holding `NULL` in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NullRows {
    /// The column, qualified (`public."User".name`).
    pub column: String,
    /// How many rows hold `NULL`.
    pub rows: u64,
}

impl Error {
    pub(crate) fn reading(source: DbError) -> Error {
        Error::Database { context: "reading the schema", source }
    }
}
