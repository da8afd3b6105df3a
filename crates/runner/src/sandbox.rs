//! Shadow databases run only what stays inside them. A schema file or a migration history
//! replayed on a shadow is the user's SQL running on the user's server under haste's control,
//! where nobody reviews it statement by statement: `DROP DATABASE victim` there would drop a
//! real database. Every file is checked ([`haste_sql::sandbox::escapes`]) before the first
//! statement of any of them runs.

use haste_driver::Connection;
use haste_migrations::{MigrationsDir, SqlFile};
use haste_sql::Dialect;

use crate::error::{Error, OutsideStatement};
use crate::{DeployReport, Observer, Settings, deploy};

/// Refuses `files` when a statement of any of them acts outside its database, naming each
/// such statement. Only PostgreSQL has shadow databases.
pub(crate) fn check(dialect: Dialect, files: &[&SqlFile]) -> Result<(), Error> {
    if dialect != Dialect::Postgres {
        return Ok(());
    }
    let statements: Vec<OutsideStatement> = files
        .iter()
        .flat_map(|file| {
            haste_sql::sandbox::escapes(&file.sql).into_iter().map(|escape| OutsideStatement {
                position: crate::plan::source_position(file, escape.offset),
                what: escape.what,
            })
        })
        .collect();
    if statements.is_empty() { Ok(()) } else { Err(Error::OutsideShadow { statements }) }
}

/// Applies the migrations of `dir` to a shadow database, which stands for every release at once
/// ([`Settings::for_replay`]). Nothing runs when a migration (or its data step) holds a
/// statement that acts outside the shadow.
pub fn replay(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    observer: &mut dyn Observer,
) -> Result<DeployReport, Error> {
    let files: Vec<&SqlFile> = dir
        .migrations
        .iter()
        .flat_map(|migration| {
            std::iter::once(&migration.up).chain(migration.data.as_ref().map(|data| &data.file))
        })
        .collect();
    check(connection.dialect(), &files)?;
    deploy(connection, dir, &settings.for_replay(), observer)
}
