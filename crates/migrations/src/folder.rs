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
    /// Reads every migration under `path`. A folder that does not exist (or is a file) is an
    /// error, never an empty history: a mistyped `--dir` must not look like "nothing to apply".
    /// Symbolic links are followed (to migration folders and to files alike); one that points
    /// at nothing is an error naming it.
    pub fn load(path: &Path) -> Result<MigrationsDir, Error> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        match fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Err(Error::NotAFolder { path: path.to_owned() }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(
                    broken_symlink(path).unwrap_or_else(|| Error::MissingFolder { path: path.to_owned() })
                );
            }
            Err(error) => return Err(io(error)),
        }
        let mut folders = Vec::new();
        for entry in fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let is_dir = match fs::metadata(entry.path()) {
                Ok(metadata) => metadata.is_dir(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(broken_symlink(&entry.path()).unwrap_or_else(|| io(error)));
                }
                Err(source) => return Err(Error::Io { path: entry.path(), source }),
            };
            if is_dir {
                let name = name.into_string().map_err(|_| Error::NotUtf8 { path: entry.path() })?;
                if name.chars().any(char::is_control) {
                    return Err(Error::ControlCharacterInName { name });
                }
                folders.push(name);
            }
        }
        // Byte order, as Prisma sorts: never numeric, never locale-aware.
        folders.sort_unstable();
        let migrations: Vec<Migration> = folders
            .into_iter()
            .map(|name| Migration::load(&path.join(&name), name))
            .collect::<Result<_, _>>()?;
        for migration in &migrations {
            migration.check_named(&migrations)?;
        }
        Ok(MigrationsDir { path: path.to_owned(), migrations, provider: read_provider(path)? })
    }

    /// For each migration, whether a later one says it is released with it (`-- haste:release-with`
    /// naming it or one before it): then what it creates is still new and empty when that later
    /// one runs, as far as the folder can tell. Only an unbroken run counts: every migration
    /// between the one named and the one naming it must name the same one (as the pieces
    /// `migrate dev` cuts a change into do), so a line naming a migration of long ago does not
    /// make every table created since new again.
    pub fn released_with_a_later(&self) -> Vec<bool> {
        let mut with_later = vec![false; self.migrations.len()];
        for (index, migration) in self.migrations.iter().enumerate() {
            let Some(first) = &migration.directives.release_with else { continue };
            let Some(start) = self.migrations[..index].iter().position(|m| &m.name == first) else {
                continue;
            };
            let unbroken = self.migrations[start + 1..index]
                .iter()
                .all(|between| between.directives.release_with.as_ref() == Some(first));
            if unbroken {
                with_later[start..index].iter_mut().for_each(|flag| *flag = true);
            }
        }
        with_later
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

    /// `-- haste:after <name>` must name another migration of the folder: a typo would
    /// otherwise hold nothing back, and the contract half would run in the same deploy as its
    /// expand half. `-- haste:release-with <name>` must name an earlier one: a typo would
    /// otherwise leave the linter judging this file against another history than meant.
    fn check_named(&self, folder: &[Migration]) -> Result<(), Error> {
        let named = |name: &String| folder.iter().any(|m| &m.name == name);
        let earlier =
            |name: &String| folder.iter().take_while(|m| m.name != self.name).any(|m| &m.name == name);
        let checks = [
            ("after", self.directives.after.as_ref().map(|name| (name, named(name)))),
            ("release-with", self.directives.release_with.as_ref().map(|name| (name, earlier(name)))),
        ];
        let line_of = |directive: &str| {
            self.up
                .sql
                .lines()
                .enumerate()
                .find(|(_, line)| {
                    line.trim()
                        .strip_prefix("--")
                        .is_some_and(|comment| comment.trim().starts_with(&format!("haste:{directive}")))
                })
                .map_or((1, ""), |(index, line)| (index + 1, line.trim()))
        };
        if self.directives.after.is_some() && self.directives.release_with.is_some() {
            let (line, text) = line_of("release-with");
            return Err(Error::BadDirective {
                path: self.up.path.clone(),
                line,
                text: text.to_owned(),
                reason: "`haste:after` holds this migration for a later deploy, so it cannot be released with another: keep one of the two".to_owned(),
            });
        }
        for (directive, checked) in checks {
            let Some((name, found)) = checked else { continue };
            if name != &self.name && found {
                continue;
            }
            let (line, text) = line_of(directive);
            return Err(Error::BadDirective {
                path: self.up.path.clone(),
                line,
                text: text.to_owned(),
                reason: match (name == &self.name, directive) {
                    (true, "after") => "a migration cannot wait for itself".to_owned(),
                    (true, _) => "a migration cannot be released with itself".to_owned(),
                    (false, "after") => format!("no migration named `{name}` in the folder"),
                    (false, _) => format!("no migration named `{name}` before this one in the folder"),
                },
            });
        }
        Ok(())
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
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return broken_symlink(path).map_or(Ok(None), Err);
            }
            Err(source) => {
                return Err(Error::Io { path: path.to_owned(), source });
            }
        };
        let sql = text(path, bytes)?;
        let sql = match sql.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => sql,
        };
        let checksum = Checksum::of(&sql);
        Ok(Some(SqlFile { path: path.to_owned(), sql, checksum }))
    }
}

/// The file's bytes as text. Invalid UTF-8 and NUL bytes are refused with the place of the
/// first one: a NUL would reach the database as the end of the statement, so a migration could
/// be recorded as applied with nothing run.
fn text(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    let not_text = |bytes: &[u8], offset: usize, what| Error::NotText {
        path: path.to_owned(),
        line: bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1,
        offset,
        what,
    };
    let text = String::from_utf8(bytes)
        .map_err(|error| not_text(error.as_bytes(), error.utf8_error().valid_up_to(), "invalid UTF-8"))?;
    match text.bytes().position(|b| b == 0) {
        Some(offset) => Err(not_text(text.as_bytes(), offset, "a NUL byte")),
        None => Ok(text),
    }
}

/// The error for `path` when it is a symbolic link to nothing (`NotFound` from following it).
fn broken_symlink(path: &Path) -> Option<Error> {
    let target = fs::read_link(path).ok()?;
    Some(Error::BrokenSymlink { path: path.to_owned(), target })
}

fn read_provider(dir: &Path) -> Result<Option<String>, Error> {
    let path = dir.join(LOCK_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => text(&path, bytes)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return broken_symlink(&path).map_or(Ok(None), Err);
        }
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
    // Every command that reads the folder refuses such a name (printed, it could forge lines).
    if name.chars().any(char::is_control) {
        return Err(Error::BadName {
            name: name.to_owned(),
            reason: "it must hold no control character (a line break, a tab, an escape)",
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
    fn bom_is_stripped() {
        let dir = temp_dir("bom");
        write(&dir, "1_a/migration.sql", "\u{feff}SELECT 1;".as_bytes());
        let loaded = MigrationsDir::load(&dir).unwrap();
        assert_eq!(loaded.migrations[0].up.sql, "SELECT 1;");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_folder_or_a_file_is_an_error_not_an_empty_history() {
        let dir = temp_dir("absent");
        let error = MigrationsDir::load(&dir.join("migratoins")).unwrap_err();
        assert!(matches!(error, Error::MissingFolder { .. }), "{error}");
        assert!(error.to_string().contains("migratoins does not exist"), "{error}");
        write(&dir, "file", b"SELECT 1;");
        assert!(matches!(MigrationsDir::load(&dir.join("file")), Err(Error::NotAFolder { .. })));
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_followed_and_broken_ones_named() {
        use std::os::unix::fs::symlink;
        let dir = temp_dir("links");
        write(&dir, "elsewhere/2_b/migration.sql", b"SELECT 2;");
        write(&dir, "m/1_a/migration.sql", b"SELECT 1;");
        symlink(dir.join("elsewhere/2_b"), dir.join("m/2_b")).unwrap();
        let loaded = MigrationsDir::load(&dir.join("m")).unwrap();
        let names: Vec<_> = loaded.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["1_a", "2_b"]);
        // The folder itself through a link.
        symlink(dir.join("m"), dir.join("linked")).unwrap();
        assert_eq!(MigrationsDir::load(&dir.join("linked")).unwrap().migrations.len(), 2);

        symlink(dir.join("gone"), dir.join("m/3_c")).unwrap();
        let error = MigrationsDir::load(&dir.join("m")).unwrap_err();
        assert!(matches!(&error, Error::BrokenSymlink { path, .. } if path.ends_with("m/3_c")), "{error}");
        fs::remove_file(dir.join("m/3_c")).unwrap();
        symlink(dir.join("gone.sql"), dir.join("m/1_a/down.sql")).unwrap();
        let loaded = MigrationsDir::load(&dir.join("m")).unwrap();
        let error = loaded.get("1_a").unwrap().read_down().unwrap_err();
        assert!(error.to_string().contains("down.sql is a symbolic link to"), "{error}");
        symlink(dir.join("nothing"), dir.join("dangling")).unwrap();
        assert!(matches!(MigrationsDir::load(&dir.join("dangling")), Err(Error::BrokenSymlink { .. })));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_are_refused_with_their_place() {
        let dir = temp_dir("bytes");
        write(&dir, "1_a/migration.sql", b"SELECT 1;\nSELECT\0 2;\n");
        let error = MigrationsDir::load(&dir).unwrap_err();
        assert!(matches!(error, Error::NotText { line: 2, offset: 16, what: "a NUL byte", .. }), "{error}");
        assert!(error.to_string().contains("1_a/migration.sql:2: a NUL byte at byte offset 16"), "{error}");
        write(&dir, "1_a/migration.sql", b"\xef\xbb\xbfSELECT 1;\n-- caf\xe9\n");
        let error = MigrationsDir::load(&dir).unwrap_err();
        assert!(
            matches!(error, Error::NotText { line: 2, offset: 19, what: "invalid UTF-8", .. }),
            "{error}"
        );
        write(&dir, "1_a/migration.sql", b"SELECT 1;");
        for file in ["down.sql", "data.sql", "data.down.sql"] {
            write(&dir, &format!("1_a/{file}"), b"\xff");
            let error = MigrationsDir::load(&dir)
                .and_then(|loaded| {
                    loaded.migrations[0].read_down()?;
                    loaded.migrations[0].read_data_down().map(|_| ())
                })
                .unwrap_err();
            assert!(error.to_string().contains(file), "{error}");
            fs::remove_file(dir.join("1_a").join(file)).unwrap();
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn after_must_name_another_migration_of_the_folder() {
        let dir = temp_dir("after");
        write(&dir, "1_expand/migration.sql", b"SELECT 1;");
        write(&dir, "2_contract/migration.sql", b"-- note\n-- haste:after 1_expnad\nSELECT 2;");
        let error = MigrationsDir::load(&dir).unwrap_err();
        assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{error}");
        assert!(error.to_string().contains("no migration named `1_expnad`"), "{error}");
        write(&dir, "2_contract/migration.sql", b"-- haste:after 2_contract\nSELECT 2;");
        assert!(MigrationsDir::load(&dir).unwrap_err().to_string().contains("cannot wait for itself"));
        write(&dir, "2_contract/migration.sql", b"-- haste:after 1_expand\nSELECT 2;");
        assert!(MigrationsDir::load(&dir).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn release_with_must_name_an_earlier_migration_of_the_folder() {
        let dir = temp_dir("release-with");
        write(&dir, "1_change/migration.sql", b"SELECT 1;");
        write(&dir, "3_later/migration.sql", b"SELECT 3;");
        for (named, reason) in [
            ("1_chnage", "no migration named `1_chnage` before this one"),
            ("3_later", "no migration named `3_later` before this one"),
            ("2_change_after", "cannot be released with itself"),
        ] {
            let text = format!("-- haste:transaction off\n-- haste:release-with {named}\nSELECT 2;");
            write(&dir, "2_change_after/migration.sql", text.as_bytes());
            let error = MigrationsDir::load(&dir).unwrap_err();
            assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{named}: {error}");
            assert!(error.to_string().contains(reason), "{named}: {error}");
        }
        // A comment above that mentions the directive is not the line named.
        let both = "-- see haste:release-with below\n-- haste:release-with 1_change\n-- haste:after 1_change\nSELECT 2;";
        write(&dir, "2_change_after/migration.sql", both.as_bytes());
        let error = MigrationsDir::load(&dir).unwrap_err();
        assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{error}");
        assert!(error.to_string().contains("keep one of the two"), "{error}");
        write(&dir, "2_change_after/migration.sql", b"-- haste:release-with 1_change\nSELECT 2;");
        let loaded = MigrationsDir::load(&dir).unwrap();
        assert_eq!(loaded.migrations[1].directives.release_with.as_deref(), Some("1_change"));
        assert_eq!(loaded.released_with_a_later(), [true, false, false]);
        fs::remove_dir_all(dir).unwrap();
    }

    /// Only an unbroken run of migrations naming the same first one counts: one naming a
    /// migration further back, past others that do not, leaves them released.
    #[test]
    fn release_with_counts_an_unbroken_run_only() {
        let dir = temp_dir("release-run");
        write(&dir, "1_init/migration.sql", b"SELECT 1;");
        write(&dir, "2_change/migration.sql", b"SELECT 2;");
        write(&dir, "3_change_recreate/migration.sql", b"-- haste:release-with 2_change\nSELECT 3;");
        write(&dir, "4_change_after/migration.sql", b"-- haste:release-with 2_change\nSELECT 4;");
        write(&dir, "5_later/migration.sql", b"-- haste:release-with 1_init\nSELECT 5;");
        let loaded = MigrationsDir::load(&dir).unwrap();
        assert_eq!(loaded.released_with_a_later(), [false, true, true, false, false]);
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
