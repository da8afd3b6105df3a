//! Schemas from their sources: a live database is read as it is; files and migrations folders
//! are applied to a shadow database first.

use haste_driver::{Connection, DatabaseUrl, Limits};
use haste_migrations::MigrationsDir;
use haste_postgres::{PgConnection, Sandbox, ShadowDatabase};
use haste_runner::{SchemaSource, Settings};
use haste_schema::Schema;
use haste_sql::sandbox::{ExtensionRequest, RunsAs, ShadowNeeds};

use crate::Error;

/// A schema and the database it was read from. Dropping it drops its shadow database.
pub struct Loaded {
    /// The schema as PostgreSQL prints it.
    pub schema: Schema,
    /// Owners are read with the schema (`Settings::owners`).
    owners: bool,
    // Declared before the shadow: the session closes before its database is dropped.
    connection: PgConnection,
    shadow: Option<ShadowDatabase>,
}

impl AsRef<Schema> for Loaded {
    fn as_ref(&self) -> &Schema {
        &self.schema
    }
}

fn lock_scope(settings: &Settings) -> String {
    settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE)
}

/// What a shadow must offer the migrations of `dir`.
pub(crate) fn history_needs(dir: &MigrationsDir) -> ShadowNeeds {
    haste_runner::shadow_needs(&haste_runner::migration_files(dir))
}

/// The extensions installed in `schema`, as a shadow must offer them to a copy of it (or to a
/// schema that uses them).
pub fn installed_extensions(schema: &Schema) -> Vec<ExtensionRequest> {
    schema
        .extensions
        .iter()
        .map(|e| ExtensionRequest {
            name: e.name.clone(),
            schema: Some(e.schema.clone()),
            version: None,
            if_not_exists: true,
        })
        .collect()
}

/// Reads `source`: a database directly, anything else through a new shadow database on `server`.
pub fn load(source: &SchemaSource, server: &DatabaseUrl, settings: &Settings) -> Result<Loaded, Error> {
    if let SchemaSource::Database(url) = source {
        let url = DatabaseUrl::parse(url).map_err(|error| haste_driver::ConnectError {
            target: error.shown,
            reason: error.reason.into(),
        })?;
        let mut connection = PgConnection::connect(&url, "haste/dev", &lock_scope(settings))?;
        let schema = connection.introspect_with_owners(settings.owners).map_err(Error::reading)?;
        return Ok(Loaded { schema, owners: settings.owners, connection, shadow: None });
    }
    let needs = match source {
        SchemaSource::Migrations(dir) => {
            history_needs(&MigrationsDir::load(dir).map_err(haste_runner::Error::Folder)?)
        }
        _ => {
            let files = haste_runner::source_files(source)?;
            haste_runner::shadow_needs(&files.iter().collect::<Vec<_>>())
        }
    };
    let mut loaded = Loaded::empty(server, settings, &needs)?;
    let runs_as = loaded.runs_as();
    haste_runner::load_source(
        &mut loaded.connection,
        source,
        &settings.for_replay(),
        runs_as,
        &mut haste_runner::Quiet,
    )?;
    loaded.refresh()?;
    // What the model does not hold would be left out of every migration and diff without a
    // word. A migrations folder keeps its own (written by hand, replayed as written).
    let left_out = &loaded.schema.not_modelled.0;
    if !left_out.is_empty() && !matches!(source, SchemaSource::Migrations(_)) {
        let what = left_out.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        return Err(Error::NotModelled { what });
    }
    Ok(loaded)
}

/// A migrations folder (or part of one) replayed on a new shadow database that offers what
/// `needs` asks (those of every migration that will run there).
pub(crate) fn replay(
    dir: &MigrationsDir,
    needs: &ShadowNeeds,
    server: &DatabaseUrl,
    settings: &Settings,
) -> Result<Loaded, Error> {
    let mut loaded = Loaded::empty(server, settings, needs)?;
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
    /// An empty shadow database offering what `needs` asks, and a session on it as its own role.
    pub(crate) fn empty(
        server: &DatabaseUrl,
        settings: &Settings,
        needs: &ShadowNeeds,
    ) -> Result<Loaded, Error> {
        let shadow = ShadowDatabase::create(server, needs)?;
        let connection = shadow.connect("haste/dev", &lock_scope(settings))?;
        Ok(Loaded { schema: Schema::default(), owners: settings.owners, connection, shadow: Some(shadow) })
    }

    /// Who the SQL run on its shadow database runs as (none for a live database).
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.shadow.as_ref().map(ShadowDatabase::sandbox)
    }

    /// Who what runs on its shadow database runs as: a source the server does not confine is
    /// read more strictly before it runs.
    fn runs_as(&self) -> RunsAs {
        match self.sandbox() {
            Some(Sandbox::Confined { .. }) => RunsAs::OwnRole,
            _ => RunsAs::ConnectingRole,
        }
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
        copy.run(&crate::render::sql(&statements))?;
        Ok((copy, statements))
    }

    fn into_shadow(self, server: &DatabaseUrl, settings: &Settings) -> Result<Loaded, Error> {
        if self.is_shadow() {
            return Ok(self);
        }
        // Its DDL gives objects to other roles when owners are read, or default privileges of
        // another role: only the connecting role may.
        let other_role =
            !self.schema.owners.is_empty() || self.schema.default_privileges.iter().any(|p| p.role.is_some());
        let needs = ShadowNeeds {
            extensions: installed_extensions(&self.schema),
            other_role: other_role
                .then(|| "the copy gives objects to other roles (OWNER TO, FOR ROLE)".to_owned()),
            roles: self.schema.granted_roles(),
        };
        let mut copy = Loaded::empty(server, settings, &needs)?;
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
        let runs_as = self.runs_as();
        haste_runner::replay(&mut self.connection, dir, settings, runs_as, &mut haste_runner::Quiet)?;
        self.refresh()
    }

    fn refresh(&mut self) -> Result<(), Error> {
        self.schema = self.connection.introspect_with_owners(self.owners).map_err(Error::reading)?;
        Ok(())
    }
}
