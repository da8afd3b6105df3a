//! End-to-end tests of the `haste` command, as a user runs it, against real databases.

mod arguments;
mod budget;
mod data;
mod deploy_postgres;
mod dev;
mod failures;
mod faults;
mod fleet;
mod guards;
mod inputs;
mod json;
mod lint;
mod matrix;
mod owners;
mod partitions;
mod pictures;
mod plan;
mod prisma;
mod privileges;
mod random_dev;
mod real_world;
mod recovery;
mod retype;
mod retype_faults;
mod sandbox;
mod schema;
mod sqlite;
mod storage;
mod terminal;
mod tls;
mod trust;
mod waits;

use std::path::Path;
use std::process::{Command, Output};

use haste_testkit::TempDir;

/// The result of one `haste` run.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The JSON lines of stdout.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `haste` with `args` in `cwd` to completion.
pub fn haste(cwd: &Path, args: &[&str]) -> Run {
    let output: Output = command(cwd, args).output().expect("run haste");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The `haste` command, not yet started, with no DATABASE_URL inherited.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_haste"));
    command.current_dir(cwd).args(args).env_remove("DATABASE_URL");
    command
}

/// A migrations folder written from `(folder name, migration.sql)` pairs.
pub fn migrations(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("migrations");
    std::fs::create_dir_all(dir.path().join("migrations")).expect("a migrations folder");
    for (name, sql) in files {
        dir.write(&format!("migrations/{name}/migration.sql"), sql);
    }
    dir
}

pub use haste_testkit::corpus;

/// The migration folders under `dir/migrations`, in order.
pub fn migration_folders(dir: &TempDir) -> Vec<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path().join("migrations"))
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// `schema diff` between two migrations folders (or any two sources), shadow databases on the
/// server of `url`: exit 0 when they replay to the same schema.
pub fn compare_sources(cwd: &Path, from: &Path, to: &Path, url: &str) -> Run {
    haste(
        cwd,
        &["schema", "diff", "--from", from.to_str().unwrap(), "--to", to.to_str().unwrap(), "--url", url],
    )
}

/// A database Prisma Migrate built from the corpus's migrations, with its `_prisma_migrations`
/// rows as Prisma writes them, and a working folder holding the same migrations.
pub fn prisma_managed(corpus: &Path, db: &haste_testkit::TestDb) -> TempDir {
    db.execute(
        "CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, \
         finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, \
         started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)",
    );
    let work = TempDir::new("prisma");
    let mut names: Vec<String> = std::fs::read_dir(corpus.join("migrations"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        let sql =
            std::fs::read_to_string(corpus.join("migrations").join(name).join("migration.sql")).unwrap();
        work.write(&format!("migrations/{name}/migration.sql"), &sql);
        db.execute(&sql);
        let literal = sql.replace('\'', "''");
        db.execute(&format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) \
             VALUES ('{i}', encode(sha256(convert_to('{literal}', 'UTF8')), 'hex'), now(), '{name}', now() + interval '{i} seconds', 1)"
        ));
    }
    std::fs::copy(
        corpus.join("migrations/migration_lock.toml"),
        work.path().join("migrations/migration_lock.toml"),
    )
    .unwrap();
    work
}

/// Waits until no session of a killed haste is left in `db`: a backend finishes its current
/// statement before it notices its client is gone, and holds the lock until then.
pub fn wait_for_orphans(db: &haste_testkit::TestDb) {
    let gone = haste_testkit::wait_until(std::time::Duration::from_secs(60), || {
        db.value(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND application_name LIKE 'haste/%'",
            db.name
        ))
        .as_deref()
            == Some("0")
    });
    assert!(gone, "the killed deploy's session did not end");
}
