//! Shadow databases run only what stays inside them. A schema file or a migration history
//! replayed on a shadow is the user's SQL running on the user's server under haste's control,
//! where nobody reviews it statement by statement: `DROP DATABASE victim` there would drop a
//! real database. Every file is checked ([`haste_sql::sandbox::escapes`]) before the first
//! statement of any of them runs. That check reads what is written; what a function builds at
//! run time is stopped by the server, since the shadow's session runs as a role of its own
//! ([`shadow_needs`] tells its maker what that role must be given, or why it cannot be used).

use haste_driver::Connection;
use haste_migrations::{MigrationsDir, SqlFile};
use haste_sql::Dialect;
use haste_sql::sandbox::{RunsAs, ShadowNeeds};

use crate::error::{Error, OutsideStatement};
use crate::{DeployReport, Observer, Settings, deploy};

/// Refuses `files` when a statement of any of them acts outside its database, as far as a
/// reading can tell for a session that runs as `runs_as`, naming each such statement. Only
/// PostgreSQL has shadow databases.
pub(crate) fn check(dialect: Dialect, files: &[&SqlFile], runs_as: RunsAs) -> Result<(), Error> {
    if dialect != Dialect::Postgres {
        return Ok(());
    }
    let statements: Vec<OutsideStatement> = files
        .iter()
        .flat_map(|file| {
            haste_sql::sandbox::escapes(&file.sql, runs_as).into_iter().map(|escape| OutsideStatement {
                position: crate::plan::source_position(file, escape.offset),
                what: escape.what,
            })
        })
        .collect();
    if statements.is_empty() { Ok(()) } else { Err(Error::OutsideShadow { statements }) }
}

/// What a shadow database must offer `files` (every file of a source or history that will run
/// there): the extensions they create, the first statement a role of the shadow's own
/// cannot run, with its place, and the roles they grant to.
pub fn shadow_needs(files: &[&SqlFile]) -> ShadowNeeds {
    let mut needs = ShadowNeeds::default();
    for file in files {
        let found = haste_sql::sandbox::needs(&file.sql);
        needs.extensions.extend(found.extensions);
        needs.roles.extend(found.roles);
        if needs.other_role.is_none()
            && let Some(statement) = found.other_roles.first()
        {
            let position = crate::plan::source_position(file, statement.offset);
            needs.other_role =
                Some(format!("{}:{}: {}", position.file.display(), position.line, statement.what));
        }
    }
    needs.roles.sort();
    needs.roles.dedup();
    needs
}

/// The files of `dir` a replay runs: each migration and its data step.
pub fn migration_files(dir: &MigrationsDir) -> Vec<&SqlFile> {
    dir.migrations
        .iter()
        .flat_map(|migration| {
            std::iter::once(&migration.up).chain(migration.data.as_ref().map(|data| &data.file))
        })
        .collect()
}

/// Applies the migrations of `dir` to a shadow database, which stands for every release at once
/// ([`Settings::for_replay`]), its session running as `runs_as`. Nothing runs when a migration
/// (or its data step) holds a statement that acts outside the shadow.
pub fn replay(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    runs_as: RunsAs,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    check(connection.dialect(), &migration_files(dir), runs_as)?;
    deploy(connection, dir, &settings.for_replay(), observer).map_err(|error| match error {
        Error::MigrationFailed(failure) => Error::ReplayFailed(failure),
        other => other,
    })
}
