//! The folder of migrations and the files in it.

use std::fs;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::{Checksum, DataStep, Directives, Error};

/// Prisma's lock file, naming the database provider the folder was written for.
pub const LOCK_FILE: &str = "migration_lock.toml";
const UP_FILE: &str = "migration.sql";
const DOWN_FILE: &str = "down.sql";
const DATA_FILE: &str = "data.sql";
const DATA_DOWN_FILE: &str = "data.down.sql";

/// A migrations folder, read whole.
#[derive(Debug, Clone)]
pub struct MigrationsDir {
    /// The folder.
    pub path: PathBuf,
    /// Migrations in byte order of their folder names.
    pub migrations: Vec<Migration>,
    /// `provider` from `migration_lock.toml`, when the file exists.
    pub provider: Option<String>,
}

/// One migration folder.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The folder name: the migration's identity in history.
    pub name: String,
    /// `migration.sql`. (`down.sql` beside it is read only by commands that undo migrations.)
    pub up: SqlFile,
    /// The `-- haste:` directives of `migration.sql`.
    pub directives: Directives,
    /// `data.sql`: a batched data step that runs after `migration.sql`.
    pub data: Option<DataStep>,
}

/// A SQL file of a migration.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its text, with a leading BOM removed.
    pub sql: String,
    /// Its normalized checksum.
    pub checksum: Checksum,
}

impl MigrationsDir {
    /// Reads every migration under `path`. A folder that does not exist yet holds no migrations.
    pub fn load(path: &Path) -> Result<MigrationsDir, Error> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(MigrationsDir { path: path.to_owned(), migrations: Vec::new(), provider: None });
            }
            Err(error) => return Err(io(error)),
        };
        let mut folders = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io)?;
            if !entry.file_type().map_err(io)?.is_dir() {
                continue;
            }
            let name = entry.file_name().into_string().map_err(|_| Error::NotUtf8 { path: entry.path() })?;
            if !name.starts_with('.') {
                folders.push(name);
            }
        }
        // Byte order, as Prisma sorts: never numeric, never locale-aware.
        folders.sort_unstable();
        let migrations = folders
            .into_iter()
            .map(|name| Migration::load(&path.join(&name), name))
            .collect::<Result<_, _>>()?;
        Ok(MigrationsDir { path: path.to_owned(), migrations, provider: read_provider(path)? })
    }

    /// Adds migrations written in code (registered by an application through the runner's
    /// library API), in name order among the folder's. They have no statements of their own.
    pub fn add_code(&mut self, names: &[&str]) {
        for name in names {
            self.migrations.push(Migration {
                name: (*name).to_owned(),
                up: SqlFile {
                    path: PathBuf::from(format!("<code:{name}>")),
                    sql: String::new(),
                    checksum: Checksum::code(name),
                },
                directives: Directives::default(),
                data: None,
            });
        }
        self.migrations.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    }

    /// The migration named `name`.
    pub fn get(&self, name: &str) -> Option<&Migration> {
        self.migrations.binary_search_by(|m| m.name.as_str().cmp(name)).ok().map(|i| &self.migrations[i])
    }
}

impl Migration {
    fn load(dir: &Path, name: String) -> Result<Migration, Error> {
        let data = DataStep::read(&dir.join(DATA_FILE))?;
        // A data-only folder needs no migration.sql (Prisma's folders always have one).
        let up = match (SqlFile::read(&dir.join(UP_FILE))?, &data) {
            (Some(up), _) => up,
            (None, Some(_)) => {
                SqlFile { path: dir.join(UP_FILE), sql: String::new(), checksum: Checksum::of("") }
            }
            (None, None) => return Err(Error::MissingMigrationFile { dir: dir.to_owned() }),
        };
        let directives = Directives::parse(&up.path, &up.sql)?;
        Ok(Migration { name, up, directives, data })
    }
}

impl Migration {
    /// Reads `down.sql` beside `migration.sql`, if there is one.
    pub fn read_down(&self) -> Result<Option<SqlFile>, Error> {
        SqlFile::read(&self.folder().join(DOWN_FILE))
    }

    /// Reads `data.down.sql`, if there is one.
    pub fn read_data_down(&self) -> Result<Option<DataStep>, Error> {
        DataStep::read(&self.folder().join(DATA_DOWN_FILE))
    }

    /// The migration's folder.
    pub fn folder(&self) -> &Path {
        self.up.path.parent().unwrap_or(Path::new("."))
    }
}

impl SqlFile {
    /// Reads a SQL file; `None` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<SqlFile>, Error> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io { path: path.to_owned(), source });
            }
        };
        let sql = String::from_utf8(bytes).map_err(|_| Error::NotUtf8 { path: path.to_owned() })?;
        let sql = match sql.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => sql,
        };
        let checksum = Checksum::of(&sql);
        Ok(Some(SqlFile { path: path.to_owned(), sql, checksum }))
    }
}

fn read_provider(dir: &Path) -> Result<Option<String>, Error> {
    let path = dir.join(LOCK_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { path, source }),
    };
    // The file is a single `provider = "..."` line plus comments; reading that line needs no
    // TOML parser in this crate.
    for line in text.lines() {
        if let Some((key, value)) = line.split_once('=')
            && key.trim() == "provider"
        {
            let value = value.trim().trim_matches('"');
            return Ok(Some(value.to_owned()));
        }
    }
    Err(Error::BadLockFile { path, reason: "no `provider = \"...\"` line".into() })
}

/// Creates `<dir>/<UTC timestamp>_<name>/migration.sql` and returns the new folder. The
/// timestamp moves on by seconds when needed, so the new folder sorts after every folder there
/// and never reuses one (two migrations made within a second keep their order).
pub fn create_migration(dir: &Path, name: &str, now: OffsetDateTime) -> Result<PathBuf, Error> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::BadName {
            name: name.to_owned(),
            reason: "it must be non-empty, not start with a dot, and contain no path separator",
        });
    }
    let latest = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.path().join(UP_FILE).is_file())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .max()
        })
        .unwrap_or_default();
    let mut now = now.to_offset(time::UtcOffset::UTC);
    let folder = loop {
        let stamp = now
            .format(time::macros::format_description!("[year][month][day][hour][minute][second]"))
            .expect("a UTC timestamp always formats");
        let candidate = format!("{stamp}_{name}");
        if latest.as_ref().is_none_or(|latest| candidate > *latest) && !dir.join(&candidate).exists() {
            break dir.join(candidate);
        }
        now += time::Duration::seconds(1);
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    fs::create_dir_all(&folder).map_err(io(&folder))?;
    let file = folder.join(UP_FILE);
    fs::write(&file, format!("-- {name}\n")).map_err(io(&file))?;
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &[u8]) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn temp_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("haste-migrations-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn orders_folders_by_bytes_and_accepts_odd_names() {
        let dir = temp_dir("order");
        for name in ["20240101000000_b", "01_init", "20240101000000_add index copy", "20220721183745_"] {
            write(&dir, &format!("{name}/migration.sql"), b"SELECT 1;");
        }
        write(&dir, "20240101000000_b/down.sql", b"SELECT 2;");
        write(&dir, LOCK_FILE, b"# comment\nprovider = \"postgresql\"\n");
        write(&dir, "README.md", b"not a migration");
        let loaded = MigrationsDir::load(&dir).unwrap();
        let names: Vec<_> = loaded.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["01_init", "20220721183745_", "20240101000000_add index copy", "20240101000000_b"]
        );
        assert_eq!(loaded.provider.as_deref(), Some("postgresql"));
        assert!(loaded.get("01_init").is_some() && loaded.get("02_absent").is_none());
        assert_eq!(loaded.get("20240101000000_b").unwrap().read_down().unwrap().unwrap().sql, "SELECT 2;");
        assert!(loaded.get("01_init").unwrap().read_down().unwrap().is_none());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_folder_without_migration_sql_is_an_error() {
        let dir = temp_dir("missing");
        fs::create_dir_all(dir.join("20240101000000_empty")).unwrap();
        assert!(matches!(MigrationsDir::load(&dir), Err(Error::MissingMigrationFile { .. })));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bom_is_stripped_and_a_missing_folder_is_empty() {
        let dir = temp_dir("bom");
        write(&dir, "1_a/migration.sql", "\u{feff}SELECT 1;".as_bytes());
        let loaded = MigrationsDir::load(&dir).unwrap();
        assert_eq!(loaded.migrations[0].up.sql, "SELECT 1;");
        assert!(MigrationsDir::load(&dir.join("nope")).unwrap().migrations.is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn creates_timestamped_folders() {
        let dir = temp_dir("new");
        let now = time::macros::datetime!(2026-01-15 09:30:00 UTC);
        let folder = create_migration(&dir, "create_users", now).unwrap();
        assert_eq!(folder.file_name().unwrap(), "20260115093000_create_users");
        assert!(folder.join("migration.sql").exists());
        assert!(create_migration(&dir, "../escape", now).is_err());
        // Within the same second, and behind a clock that went back: still after the last one.
        let again = create_migration(&dir, "create_users", now).unwrap();
        assert_eq!(again.file_name().unwrap(), "20260115093001_create_users");
        let earlier = create_migration(&dir, "add_index", now - time::Duration::hours(1)).unwrap();
        assert_eq!(earlier.file_name().unwrap(), "20260115093002_add_index");
        fs::remove_dir_all(dir).unwrap();
    }
}
