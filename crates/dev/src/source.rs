//! Schemas from their sources: a live database is read as it is; files and migrations folders
//! are applied to a shadow database first.

use haste_driver::{Connection, DatabaseUrl, Limits};
use haste_migrations::MigrationsDir;
use haste_postgres::{PgConnection, ShadowDatabase};
use haste_runner::{SchemaSource, Settings};
use haste_schema::Schema;

use crate::Error;

/// A schema and the database it was read from. Dropping it drops its shadow database.
pub struct Loaded {
    /// The schema as PostgreSQL prints it.
    pub schema: Schema,
    // Declared before the shadow: the session closes before its database is dropped.
    connection: PgConnection,
    shadow: Option<ShadowDatabase>,
}

fn connect(url: &DatabaseUrl, settings: &Settings) -> Result<PgConnection, Error> {
    let scope = settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
    Ok(PgConnection::connect(url, "haste/dev", &scope)?)
}

/// Reads `source`: a database directly, anything else through a new shadow database on `server`.
pub fn load(source: &SchemaSource, server: &DatabaseUrl, settings: &Settings) -> Result<Loaded, Error> {
    if let SchemaSource::Database(url) = source {
        let url = DatabaseUrl::parse(url).map_err(|error| haste_driver::ConnectError {
            target: error.shown,
            reason: error.reason.into(),
        })?;
        let mut connection = connect(&url, settings)?;
        let schema = connection.introspect().map_err(Error::reading)?;
        return Ok(Loaded { schema, connection, shadow: None });
    }
    let mut loaded = Loaded::empty(server, settings)?;
    haste_runner::load_source(
        &mut loaded.connection,
        source,
        &settings.for_replay(),
        &mut haste_runner::Quiet,
    )?;
    loaded.refresh()?;
    Ok(loaded)
}

/// A migrations folder (or part of one) replayed on a new shadow database.
pub(crate) fn replay(
    dir: &MigrationsDir,
    server: &DatabaseUrl,
    settings: &Settings,
) -> Result<Loaded, Error> {
    let mut loaded = Loaded::empty(server, settings)?;
    // With nothing to replay the runner must not even create its history (and its schema):
    // a database no migration touched has neither.
    if dir.migrations.is_empty() {
        loaded.refresh()?;
    } else {
        loaded.deploy(dir, settings)?;
    }
    Ok(loaded)
}

impl Loaded {
    pub(crate) fn empty(server: &DatabaseUrl, settings: &Settings) -> Result<Loaded, Error> {
        let shadow = ShadowDatabase::create(server)?;
        let connection = connect(&shadow.url, settings)?;
        Ok(Loaded { schema: Schema::default(), connection, shadow: Some(shadow) })
    }

    /// Whether the schema lives in a shadow database haste may change.
    pub fn is_shadow(&self) -> bool {
        self.shadow.is_some()
    }

    /// The schema with `renames` carried out, and their statements: a live database's schema is
    /// copied to a shadow database first (from its DDL), so nothing runs on the database itself.
    pub fn renamed(
        self,
        renames: &[haste_diff::Rename],
        server: &DatabaseUrl,
        settings: &Settings,
    ) -> Result<(Loaded, Vec<haste_diff::Step>), Error> {
        if renames.is_empty() {
            return Ok((self, Vec::new()));
        }
        let statements = haste_diff::rename_statements(&self.schema, renames)?;
        let mut copy = self.into_shadow(server, settings)?;
        copy.run(&crate::generate::sql(&statements))?;
        Ok((copy, statements))
    }

    fn into_shadow(self, server: &DatabaseUrl, settings: &Settings) -> Result<Loaded, Error> {
        if self.is_shadow() {
            return Ok(self);
        }
        let mut copy = Loaded::empty(server, settings)?;
        copy.run(&self.schema.to_ddl())?;
        Ok(copy)
    }

    /// Runs statements on the shadow database, one by one, and reads the schema again.
    pub fn run(&mut self, statements: &[String]) -> Result<(), Error> {
        assert!(self.is_shadow(), "statements only ever run on a shadow database");
        for statement in statements {
            self.connection.run_as_written(Limits::default(), statement).map_err(|source| {
                Error::Database { context: "trying a statement on the shadow database", source }
            })?;
        }
        self.refresh()
    }

    /// Applies the pending migrations of `dir` to the shadow database and reads the schema again.
    pub(crate) fn deploy(&mut self, dir: &MigrationsDir, settings: &Settings) -> Result<(), Error> {
        assert!(self.is_shadow(), "replays only ever run on a shadow database");
        haste_runner::replay(&mut self.connection, dir, settings, &mut haste_runner::Quiet)?;
        self.refresh()
    }

    fn refresh(&mut self) -> Result<(), Error> {
        self.schema = self.connection.introspect().map_err(Error::reading)?;
        Ok(())
    }
}
