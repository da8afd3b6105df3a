//! Where a schema comes from, for `schema inspect`, `dump` and (later) `diff`: a live database,
//! a SQL file or folder, or a migrations folder. Files are applied to an empty shadow database,
//! so PostgreSQL itself normalizes what they say.

use std::path::{Path, PathBuf};

use haste_driver::Connection;
use haste_migrations::{MigrationsDir, SqlFile};
use haste_sql::Script;
use haste_sql::sandbox::RunsAs;

use crate::error::{FailureState, MigrationFailure};
use crate::{Error, Observer, Settings};

/// A schema's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaSource {
    /// A database URL.
    Database(String),
    /// One SQL file.
    SqlFile(PathBuf),
    /// A folder of `.sql` files, applied in name order.
    SqlFolder(PathBuf),
    /// A migrations folder, replayed.
    Migrations(PathBuf),
}

impl SchemaSource {
    /// Reads a source as written on the command line: a URL or key/value connection string
    /// (`=` in what is not a file), a `.sql` file, a migrations folder (sub-folders holding
    /// `migration.sql`), or a folder of `.sql` files.
    pub fn parse(text: &str) -> SchemaSource {
        let path = Path::new(text);
        if text.contains("://") || text.starts_with("sqlite:") || (text.contains('=') && !path.exists()) {
            SchemaSource::Database(text.to_owned())
        } else if path.is_dir() {
            let is_migrations = std::fs::read_dir(path)
                .map(|entries| entries.flatten().any(|entry| entry.path().join("migration.sql").is_file()))
                .unwrap_or(false);
            if is_migrations {
                SchemaSource::Migrations(path.to_owned())
            } else {
                SchemaSource::SqlFolder(path.to_owned())
            }
        } else {
            SchemaSource::SqlFile(path.to_owned())
        }
    }
}

/// The SQL files of a file or folder source, read and in the order they run (none for a
/// database or a migrations folder).
pub fn source_files(source: &SchemaSource) -> Result<Vec<SqlFile>, Error> {
    let paths = match source {
        SchemaSource::Database(_) | SchemaSource::Migrations(_) => return Ok(Vec::new()),
        SchemaSource::SqlFile(path) => vec![path.clone()],
        SchemaSource::SqlFolder(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|source| haste_migrations::Error::Io { path: dir.clone(), source })?
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "sql"))
                .collect();
            files.sort();
            files
        }
    };
    Ok(paths
        .into_iter()
        .map(|path| {
            SqlFile::read(&path)?.ok_or_else(|| haste_migrations::Error::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            })
        })
        .collect::<Result<Vec<SqlFile>, _>>()?)
}

/// Applies a file or folder source to `connection`, an empty (shadow) database whose session
/// runs as `runs_as`. Every file is read and checked first: nothing runs when one holds a
/// statement that acts outside the shadow.
pub fn load_source(
    connection: &mut dyn Connection,
    source: &SchemaSource,
    settings: &Settings,
    runs_as: RunsAs,
    observer: &mut dyn Observer,
) -> Result<(), Error> {
    match source {
        SchemaSource::Database(_) => return Ok(()),
        SchemaSource::Migrations(dir) => {
            return crate::replay(connection, &MigrationsDir::load(dir)?, settings, runs_as, observer)
                .map(drop);
        }
        SchemaSource::SqlFile(_) | SchemaSource::SqlFolder(_) => {}
    }
    let files = source_files(source)?;
    crate::sandbox::check(connection.dialect(), &files.iter().collect::<Vec<_>>(), runs_as)?;
    for file in &files {
        let path = &file.path;
        let script = Script::parse(connection.dialect(), &file.sql);
        for (index, statement) in script.statements.iter().enumerate() {
            connection.run_as_written(settings.limits, &statement.text).map_err(|error| {
                Error::SourceFailed(Box::new(MigrationFailure {
                    name: path.display().to_string(),
                    statement_index: index,
                    position: crate::plan::statement_position(file, Some(statement), error.position),
                    error,
                    attempts: 1,
                    state: FailureState::RolledBack,
                    gave_up: None,
                }))
            })?;
        }
    }
    Ok(())
}
