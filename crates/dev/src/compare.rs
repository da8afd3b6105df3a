//! The schema commands' comparisons (`schema diff`, `status --drift --schema`): two sources read
//! (each through its own shadow database where it is files) and what lies between them.

use std::path::Path;

use haste_diff::{Change, Options, Plan, Rename};
use haste_driver::DatabaseUrl;
use haste_runner::{SchemaSource, Settings};
use haste_schema::Schema;

use crate::Error;
use crate::source::{Loaded, installed_extensions, load};
use crate::target::{Desired, PrismaSchema, lower_prisma};

/// A source to read, the server its shadow database goes on, and the settings to read it with.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// What to read.
    pub source: &'a SchemaSource,
    /// Where a shadow database for it is made.
    pub server: &'a DatabaseUrl,
    /// The settings its configuration gives.
    pub settings: &'a Settings,
}

/// Where shadow databases are made, and the settings they are made with.
#[derive(Clone, Copy)]
pub struct ShadowServer<'a> {
    /// The server.
    pub server: &'a DatabaseUrl,
    /// The settings the configuration gives.
    pub settings: &'a Settings,
}

/// Reads both sides at once (each is a connection and a dozen catalog queries).
pub fn load_pair(from: Side<'_>, to: Side<'_>) -> (Result<Loaded, Error>, Result<Loaded, Error>) {
    std::thread::scope(|scope| {
        let loading = scope.spawn(|| load(to.source, to.server, to.settings));
        let loaded = load(from.source, from.server, from.settings);
        (loaded, loading.join().expect("loading a schema does not panic"))
    })
}

/// The plan from `from` to `to`: the statements of `renames` first (carried out on a shadow
/// database on `shadow`, so nothing runs on a live one), then the diff of the renamed schema.
pub fn plan_between(
    from: Loaded,
    to: &Schema,
    renames: &[Rename],
    online: bool,
    shadow: ShadowServer<'_>,
) -> Result<Plan, Error> {
    let (from, mut steps) = from.renamed(renames, shadow.server, shadow.settings)?;
    refused(&from.schema, to)?;
    let mut plan = haste_diff::diff(&from.schema, to, &Options { online });
    steps.extend(plan.steps);
    plan.steps = steps;
    Ok(plan)
}

/// The changes from `from` to `to` that haste does not plan (inheritance trees, types and
/// functions other objects still use, partitioning PostgreSQL cannot change in place).
fn refused(from: &Schema, to: &Schema) -> Result<(), Error> {
    if let Some(table) = haste_diff::inheritance_refused(from, to) {
        return Err(Error::Inheritance { table });
    }
    if let Some(reason) = haste_diff::rebuild_refused(from, to) {
        return Err(Error::DropRefused { reason });
    }
    if let Some(refusal) = haste_diff::partitioning_refused(from, to) {
        return Err(Error::Partitioning(refusal));
    }
    Ok(())
}

/// Whether `source` names a Prisma schema (else SQL files, a migrations folder or a database).
pub fn is_prisma(source: &str) -> bool {
    matches!(Desired::from_path(source.into(), false), Desired::Prisma { .. })
}

/// The two sides of a `schema diff` where one is a Prisma schema.
pub enum PrismaDiff<'a> {
    /// Two Prisma schemas: no database is needed.
    Schemas {
        /// The schema the migration starts from.
        from: &'a Path,
        /// The schema it reaches.
        to: &'a Path,
    },
    /// From a schema read from a database or files, to a Prisma schema.
    ToPrisma {
        /// The schema the migration starts from.
        from: &'a Schema,
        /// The Prisma schema it reaches.
        to: &'a Path,
        /// Where the Prisma schema is normalized.
        shadow: ShadowServer<'a>,
    },
    /// From a Prisma schema, to a schema read from a database or files.
    FromPrisma {
        /// The Prisma schema the migration starts from.
        from: &'a Path,
        /// The schema it reaches.
        to: &'a Schema,
        /// Where the Prisma schema is normalized.
        shadow: ShadowServer<'a>,
    },
}

/// The migration as Prisma Migrate writes it between the two sides; a Prisma side facing a
/// schema is normalized on a shadow database (offering the other side's extensions) and the
/// other side read in Prisma's terms.
pub fn prisma_diff(sides: PrismaDiff<'_>) -> Result<haste_prisma::Migration, Error> {
    let prisma = |path: &Path, database: &Schema, shadow: ShadowServer<'_>| {
        PrismaSchema::load(path, &installed_extensions(database), shadow.server, shadow.settings)
    };
    match sides {
        PrismaDiff::Schemas { from, to } => {
            // No connection: its schema is PostgreSQL's default, as for Prisma's own diff.
            let (from, _) = lower_prisma(from, "public")?;
            let (to, _) = lower_prisma(to, "public")?;
            Ok(haste_prisma::migration(&from, &to, &to))
        }
        PrismaDiff::ToPrisma { from, to, shadow } => Ok(prisma(to, from, shadow)?.migration_from(from)),
        PrismaDiff::FromPrisma { from, to, shadow } => Ok(prisma(from, to, shadow)?.migration_to(to)),
    }
}

/// One side of `schema diff --online` between sources of which one at least is a Prisma schema.
#[derive(Clone, Copy)]
pub enum PrismaOrSchema<'a> {
    /// A Prisma schema file or folder.
    Prisma(&'a Path),
    /// A schema read from a database or files.
    Schema(&'a Schema),
}

/// haste's plan between two sides of which one at least is a Prisma schema (`schema diff
/// --online`): as `migrate dev` plans a Prisma schema's changes to tables that exist, each
/// Prisma schema normalized on a shadow database on `shadow` (offering the other side's
/// extensions), the other side seen as that Prisma schema sees it (the target's when both are),
/// then the diff in `online` form.
pub fn prisma_plan(
    from: PrismaOrSchema<'_>,
    to: PrismaOrSchema<'_>,
    online: bool,
    shadow: ShadowServer<'_>,
) -> Result<Plan, Error> {
    use PrismaOrSchema::{Prisma, Schema as Read};
    let load = |path: &Path, other: Option<&Schema>| {
        let extensions = other.map(installed_extensions).unwrap_or_default();
        PrismaSchema::load(path, &extensions, shadow.server, shadow.settings)
    };
    let (from, to) = match (from, to) {
        (Prisma(from), Prisma(to)) => {
            let (from, to) = (load(from, None)?, load(to, None)?);
            (to.view(&from.projected), to.projected)
        }
        (Read(from), Prisma(to)) => {
            let to = load(to, Some(from))?;
            (to.view(from), to.projected)
        }
        (Prisma(from), Read(to)) => {
            let from = load(from, Some(to))?;
            (from.projected.clone(), from.view(to))
        }
        (Read(from), Read(to)) => (from.clone(), to.clone()),
    };
    refused(&from, &to)?;
    Ok(haste_diff::diff(&from, &to, &Options { online }))
}

/// What a desired schema holds that no migration holds yet.
#[derive(Debug)]
pub enum Unmigrated {
    /// A Prisma schema: the statements Prisma Migrate would write.
    Statements(Vec<String>),
    /// SQL files: the objects that differ.
    Changes(Vec<Change>),
}

impl Unmigrated {
    /// Nothing to generate.
    pub fn is_empty(&self) -> bool {
        match self {
            Unmigrated::Statements(statements) => statements.is_empty(),
            Unmigrated::Changes(changes) => changes.is_empty(),
        }
    }
}

/// What the desired schema at `desired` has that the database at `url` lacks.
pub fn unmigrated(
    url: &DatabaseUrl,
    desired: &Path,
    server: &DatabaseUrl,
    settings: &Settings,
) -> Result<Unmigrated, Error> {
    let database = load(&SchemaSource::Database(url.expose().to_owned()), server, settings)?;
    Ok(match Desired::from_path(desired.to_owned(), false) {
        Desired::Prisma { path, .. } => {
            let prisma =
                PrismaSchema::load(&path, &installed_extensions(&database.schema), server, settings)?;
            Unmigrated::Statements(
                prisma.migration_from(&database.schema).steps.into_iter().map(|(_, sql)| sql).collect(),
            )
        }
        Desired::Sql(source) => {
            let desired = load(&source, server, settings)?;
            Unmigrated::Changes(haste_diff::changes(&database.schema, &desired.schema))
        }
    })
}
