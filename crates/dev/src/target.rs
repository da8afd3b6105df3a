//! The desired schema `migrate dev` works towards: SQL files (applied to a shadow database), or
//! a Prisma schema (lowered by haste-prisma, its SQL applied to a shadow database so the
//! comparison sees PostgreSQL's own spelling). With a Prisma schema, every comparison looks
//! only at what Prisma models: objects that migrations added by hand (checks, views, triggers,
//! functions) are neither drift nor something to drop.

use std::path::PathBuf;

use haste_diff::{Change, ChangeKind};
use haste_driver::DatabaseUrl;
use haste_prisma::ir::Database;
use haste_runner::{SchemaSource, Settings};
use haste_schema::Schema;
use haste_sql::sandbox::{ExtensionRequest, ShadowNeeds};

use crate::Error;
use crate::source::{Loaded, load};

/// Where the desired schema comes from.
#[derive(Debug, Clone)]
pub enum Desired {
    /// A SQL file or folder.
    Sql(SchemaSource),
    /// A `schema.prisma` file or a folder of `.prisma` files.
    Prisma {
        /// The file or folder.
        path: PathBuf,
        /// Plan haste's online forms instead of Prisma's statements.
        online: bool,
    },
}

impl Desired {
    /// A `--schema` path: a `.prisma` file, or a folder holding `.prisma` files, selects the
    /// Prisma front-end; anything else is SQL.
    pub fn from_path(path: PathBuf, online: bool) -> Desired {
        let prisma = if path.is_dir() {
            haste_prisma::read(&path).map(|files| !files.is_empty()).unwrap_or(false)
        } else {
            path.extension().is_some_and(|e| e == "prisma")
        };
        match (prisma, path.is_dir()) {
            (true, _) => Desired::Prisma { path, online },
            (false, true) => Desired::Sql(SchemaSource::SqlFolder(path)),
            (false, false) => Desired::Sql(SchemaSource::SqlFile(path)),
        }
    }
}

/// A Prisma schema, lowered and normalized by PostgreSQL.
pub struct PrismaSchema {
    /// The Prisma schema lowered: what statements are written from.
    pub lowered: Database,
    /// Its SQL applied to a shadow database, reduced to what Prisma models.
    pub projected: Schema,
    /// The same, read back in Prisma's terms: what comparisons use.
    pub reads_as: Database,
    /// The connection's schema (unqualified names live there).
    pub default_schema: String,
    /// The datasource's `schemas`, for a multi-schema datasource.
    pub schemas: Vec<String>,
}

impl PrismaSchema {
    /// Reads, validates and lowers `path`, and applies its SQL to a shadow database on `server`
    /// that also offers `also` (the extensions the history installs: an operator class or type
    /// the schema names may come from one the datasource does not declare).
    pub fn load(
        path: &std::path::Path,
        also: &[ExtensionRequest],
        server: &DatabaseUrl,
        settings: &Settings,
    ) -> Result<PrismaSchema, Error> {
        let default_schema = settings.history.schema.clone().unwrap_or_else(|| "public".into());
        let (lowered, schemas) = lower_prisma(path, &default_schema)?;
        let declared = lowered.extensions.iter().map(|e| ExtensionRequest {
            name: e.name.clone(),
            schema: e.schema.clone(),
            version: e.version.clone(),
            if_not_exists: true,
        });
        let undeclared: Vec<ExtensionRequest> = also
            .iter()
            .filter(|e| !lowered.extensions.iter().any(|d| d.name == e.name))
            .map(|e| ExtensionRequest { if_not_exists: true, ..e.clone() })
            .collect();
        // A Prisma schema grants nothing.
        let needs = ShadowNeeds {
            extensions: declared.chain(undeclared.clone()).collect(),
            ..ShadowNeeds::default()
        };
        // Prisma's `?schema=` names the schema unqualified names live in; Migrate creates it.
        let statements: Vec<String> = std::iter::once(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            haste_sql::quote_ident(&default_schema)
        ))
        .chain(
            undeclared
                .iter()
                .map(|e| format!("CREATE EXTENSION IF NOT EXISTS {}", haste_sql::quote_ident(&e.name))),
        )
        .chain(
            haste_prisma::migration(&Database::default(), &lowered, &lowered)
                .steps
                .into_iter()
                .map(|(_, sql)| sql),
        )
        .collect();
        let mut shadow = Loaded::empty(server, settings, &needs)?;
        shadow.run(&statements)?;
        let projected = haste_prisma::project(&shadow.schema, &default_schema, &schemas);
        let reads_as = haste_prisma::from_schema(&shadow.schema, &default_schema, &schemas);
        Ok(PrismaSchema { lowered, projected, reads_as, default_schema, schemas })
    }

    /// `schema` reduced to what this Prisma schema manages and compared as Prisma compares it
    /// (defaults by meaning, indexes Prisma does not read left out).
    pub fn view(&self, schema: &Schema) -> Schema {
        let projected = haste_prisma::project(schema, &self.default_schema, &self.schemas);
        haste_prisma::align(&projected, &self.projected, &self.lowered, &self.default_schema)
    }

    /// `schema` reduced to what this Prisma schema manages, in Prisma's terms.
    pub fn read(&self, schema: &Schema) -> Database {
        let projected = haste_prisma::project(schema, &self.default_schema, &self.schemas);
        // The schemas and extensions that exist decide which a migration creates; the
        // sequences keep the names the database gave them, which a `DROP SEQUENCE` needs.
        let viewed = Schema {
            schemas: schema.schemas.clone(),
            extensions: schema.extensions.clone(),
            sequences: projected.sequences.clone(),
            ..haste_prisma::align(&projected, &self.projected, &self.lowered, &self.default_schema)
        };
        haste_prisma::from_schema(&viewed, &self.default_schema, &self.schemas)
    }

    /// Prisma's migration from `from` to this schema, with the objects of `from` it leaves
    /// alone listed as kept.
    pub fn migration_from(&self, from: &Schema) -> haste_prisma::Migration {
        let mut migration = haste_prisma::migration(&self.read(from), &self.lowered, &self.reads_as);
        migration.kept = self.kept(from).iter().map(ToString::to_string).collect();
        migration
    }

    /// Prisma's migration from this schema to the database state `to` (what it does not
    /// model left out, defaults compared by meaning).
    pub fn migration_to(&self, to: &Schema) -> haste_prisma::Migration {
        let to = self.read(to);
        // The side Prisma reads from the schema, not from a database: its names unqualified.
        let from = Database { namespace: None, ..self.reads_as.clone() };
        haste_prisma::migration(&from, &to, &to)
    }

    /// The objects of `schema` this Prisma schema cannot express, which no comparison touches.
    pub fn kept(&self, schema: &Schema) -> Vec<haste_prisma::Kept> {
        haste_prisma::kept(schema, &self.projected, &self.default_schema, &self.schemas)
    }
}

/// The loaded desired schema.
pub(crate) enum Target {
    Sql(Box<Loaded>),
    Prisma { schema: Box<PrismaSchema>, online: bool },
}

/// A Prisma schema's files, parsed and lowered, or its diagnostics rendered.
pub fn lower_prisma(path: &std::path::Path, default_schema: &str) -> Result<(Database, Vec<String>), Error> {
    let files =
        haste_prisma::read(path).map_err(|error| Error::Read { path: path.to_owned(), source: error })?;
    let rendered = |errors: Vec<haste_prisma::Diagnostic>| rendered(&files, &errors);
    let ast = haste_prisma::parse(&files).map_err(rendered)?;
    let lowered = haste_prisma::lower(&ast, default_schema).map_err(rendered)?;
    Ok((lowered, haste_prisma::datasource_schemas(&ast)))
}

/// The datasource's connection strings (`url`, `directUrl`, `shadowDatabaseUrl`) of the Prisma
/// schema at `path`, or why it cannot be read.
pub fn prisma_datasource(path: &std::path::Path) -> Result<Vec<haste_prisma::DatasourceUrl>, Error> {
    let files =
        haste_prisma::read(path).map_err(|error| Error::Read { path: path.to_owned(), source: error })?;
    haste_prisma::datasource_urls(&files).map_err(|errors| rendered(&files, &errors))
}

/// Diagnostics as people read them. They quote the schema's lines, which may hold a connection
/// string written in the datasource (a schema that does not parse too): every password in them
/// is masked.
fn rendered(files: &[haste_prisma::SourceFile], errors: &[haste_prisma::Diagnostic]) -> Error {
    let text = errors.iter().map(|e| e.render(files)).collect::<Vec<_>>().join("\n\n");
    let words: Vec<&str> =
        text.split_whitespace().map(|word| word.trim_matches(|c: char| "`\"',;()[]{}".contains(c))).collect();
    let masked = words
        .iter()
        .filter(|word| word.contains("://") || word.starts_with("password="))
        .filter_map(|word| DatabaseUrl::parse(word).ok().map(|url| (*word, url)))
        .fold(text.clone(), |masked, (word, url)| url.scrub(&masked.replace(word, &url.redacted())));
    Error::Prisma(masked)
}

impl Target {
    /// The desired schema, on a shadow that also offers the extensions of `history`.
    pub(crate) fn load(
        desired: &Desired,
        history: &ShadowNeeds,
        server: &DatabaseUrl,
        settings: &Settings,
    ) -> Result<Target, Error> {
        let (path, online) = match desired {
            Desired::Sql(source) => return Ok(Target::Sql(Box::new(load(source, server, settings)?))),
            Desired::Prisma { path, online } => (path, *online),
        };
        let schema = PrismaSchema::load(path, &history.extensions, server, settings)?;
        Ok(Target::Prisma { schema: Box::new(schema), online })
    }

    /// The desired schema (for a Prisma schema, what Prisma models of it).
    pub(crate) fn schema(&self) -> &Schema {
        match self {
            Target::Sql(loaded) => &loaded.schema,
            Target::Prisma { schema, .. } => &schema.projected,
        }
    }

    /// `schema` as this target compares it.
    pub(crate) fn view(&self, schema: &Schema) -> Schema {
        match self {
            Target::Sql(_) => schema.clone(),
            Target::Prisma { schema: prisma, .. } => prisma.view(schema),
        }
    }

    /// What still separates `schema` from the target.
    pub(crate) fn unreached(&self, schema: &Schema) -> Vec<Change> {
        match self {
            Target::Prisma { schema: prisma, online: false } => steps_left(&prisma.migration_from(schema)),
            _ => haste_diff::changes(&self.view(schema), self.schema()),
        }
    }

    /// What separates two states, as this target compares them.
    pub(crate) fn differences(&self, from: &Schema, to: &Schema) -> Vec<Change> {
        match self {
            Target::Prisma { online: false, .. } => steps_left(&self.prisma_migration_between(from, to)),
            _ => haste_diff::changes(&self.view(from), &self.view(to)),
        }
    }

    /// What a Prisma schema leaves alone in `schema` (`partial index "x" on "T" (...)`).
    pub(crate) fn kept(&self, schema: &Schema) -> Vec<String> {
        match self {
            Target::Prisma { schema: prisma, .. } => {
                prisma.kept(schema).iter().map(ToString::to_string).collect()
            }
            Target::Sql(_) => Vec::new(),
        }
    }

    fn prisma(&self) -> &PrismaSchema {
        match self {
            Target::Prisma { schema, .. } => schema,
            Target::Sql(_) => unreachable!("only a Prisma target renders Prisma's statements"),
        }
    }

    /// Prisma's migration from `from` to the Prisma schema.
    pub(crate) fn prisma_migration(&self, from: &Schema) -> haste_prisma::Migration {
        self.prisma().migration_from(from)
    }

    /// Prisma's migration between two database states (for `down.sql`).
    pub(crate) fn prisma_migration_between(&self, from: &Schema, to: &Schema) -> haste_prisma::Migration {
        let to = self.prisma().read(to);
        haste_prisma::migration(&self.prisma().read(from), &to, &to)
    }
}

/// Prisma's remaining steps, as changes to report.
fn steps_left(migration: &haste_prisma::Migration) -> Vec<Change> {
    migration
        .steps
        .iter()
        .map(|(kind, sql)| Change { kind: ChangeKind::Changed, object: kind, name: sql.clone() })
        .collect()
}
