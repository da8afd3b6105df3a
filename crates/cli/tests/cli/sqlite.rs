//! The embedded default: the same runner on a SQLite file, no server needed.

use std::path::Path;

use haste_testkit::TempDir;

use crate::{haste, migrations};

#[test]
fn the_readme_example_deploys_on_sqlite_with_no_server() {
    let work = TempDir::new("example");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crm/migrations");
    let url = format!("sqlite:{}", work.path().join("crm.db").display());
    let dir = example.to_str().unwrap();
    let first = haste(work.path(), &["migrate", "deploy", "--url", &url, "--dir", dir]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("Applied 3 migrations"), "{first:?}");
    let again = haste(work.path(), &["migrate", "deploy", "--url", &url, "--dir", dir]);
    assert!(again.stdout.contains("Nothing to apply"), "{again:?}");
    let status = haste(work.path(), &["migrate", "status", "--url", &url, "--dir", dir]);
    assert_eq!(status.code, 0, "{status:?}");
}

#[test]
fn a_failing_sqlite_migration_rolls_back_and_vacuum_runs_outside_a_transaction() {
    let dir = migrations(&[
        ("1_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);"),
        ("2_vacuum", "DELETE FROM a;\nVACUUM;"),
        ("3_broken", "CREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    ]);
    let url = format!("sqlite:{}", dir.path().join("dev.db").display());
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url, "--format", "json"]);
    assert_eq!(run.code, 6, "{run:?}");
    let lines = run.json_lines();
    assert!(
        lines
            .iter()
            .any(|e| e["event"] == "migration_applied" && e["name"] == "2_vacuum" && e["mode"] == "stepwise"),
        "{run:?}"
    );
    let error = &lines.last().unwrap()["error"];
    assert_eq!(error["line"], 2, "{run:?}");
    assert!(error["message"].as_str().unwrap().contains("no such table"), "{run:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", &url]);
    assert_eq!(status.code, 3, "3_broken is still pending: {status:?}");
    assert!(status.stdout.contains("pending     3_broken"), "{status:?}");
}

#[test]
fn migrate_new_creates_a_timestamped_folder() {
    let work = TempDir::new("new");
    let run = haste(work.path(), &["migrate", "new", "add contacts"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created: Vec<_> = std::fs::read_dir(work.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(created.len(), 1);
    assert!(
        created[0].ends_with("_add contacts") && created[0].len() == 14 + "_add contacts".len(),
        "{created:?}"
    );
    assert!(work.path().join("migrations").join(&created[0]).join("migration.sql").exists());
}

#[test]
fn configuration_comes_from_haste_toml_and_dotenv_with_flags_winning() {
    let work = TempDir::new("config");
    work.write("db/migrations/1_a/migration.sql", "CREATE TABLE a (id INTEGER);");
    work.write(".env", "APP_DB=sqlite:from-dotenv.db\n");
    work.write(
        "haste.toml",
        "url = \"${APP_DB}\"\nmigrations_dir = \"db/migrations\"\n\n[defaults]\nlock_timeout = \"1s\"\n",
    );
    let run = haste(work.path(), &["migrate", "deploy"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(work.path().join("from-dotenv.db").exists(), "url came from haste.toml with .env interpolated");

    let flag = haste(work.path(), &["migrate", "deploy", "--url", "sqlite:from-flag.db"]);
    assert_eq!(flag.code, 0, "{flag:?}");
    assert!(work.path().join("from-flag.db").exists(), "--url wins");

    work.write("haste.toml", "url = \"sqlite:x.db\"\nmigration_dir = \"typo\"\n");
    let typo = haste(work.path(), &["migrate", "status"]);
    assert_eq!(typo.code, 2, "an unknown key is a configuration error: {typo:?}");
    assert!(typo.stderr.contains("migration_dir"), "{typo:?}");
}

#[test]
fn down_reset_and_baseline_work_on_sqlite_too() {
    let work = TempDir::new("sqlite-recovery");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crm/migrations");
    let dir = example.to_str().unwrap();
    let url = format!("sqlite:{}", work.path().join("crm.db").display());
    let run = |args: &[&str]| {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--url", &url, "--dir", dir]);
        haste(work.path(), &all)
    };
    assert_eq!(run(&["deploy"]).code, 0);
    let down = run(&["down", "--steps", "2"]);
    assert_eq!(down.code, 0, "{down:?}");
    assert!(
        down.stdout.contains("Reverted 20260103090000_create_deals")
            && down.stdout.contains("Reverted 20260102090000_create_contacts"),
        "{down:?}"
    );
    assert_eq!(run(&["status"]).code, 3);
    let reset = run(&["reset"]);
    assert_eq!(reset.code, 0, "SQLite files count as development: {reset:?}");
    assert!(reset.stdout.contains("Applied 3 migrations"), "{reset:?}");
    assert_eq!(run(&["status"]).code, 0);

    // A database made before haste, holding what the first migration creates.
    let legacy = work.path().join("legacy.db");
    rusqlite::Connection::open(&legacy)
        .unwrap()
        .execute_batch("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        .unwrap();
    let fresh = format!("sqlite:{}", legacy.display());
    let baseline = haste(
        work.path(),
        &["migrate", "baseline", "20260102090000_create_contacts", "--url", &fresh, "--dir", dir],
    );
    assert_eq!(baseline.code, 0, "{baseline:?}");
    let status = haste(work.path(), &["migrate", "status", "--url", &fresh, "--dir", dir]);
    assert!(
        status.stdout.contains("applied     20260102090000_create_contacts")
            && status.stdout.contains("pending     20260103090000_create_deals"),
        "{status:?}"
    );
}

#[test]
fn data_migrations_run_in_batches_on_sqlite_too() {
    let dir = migrations(&[(
        "1_items",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);\n\
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 5000) INSERT INTO items (id) SELECT i FROM g;",
    )]);
    dir.write(
        "migrations/2_bump/data.sql",
        "-- haste:data table=items key=id batch=700\nUPDATE items SET n = n + 1 WHERE :range;\n",
    );
    let url = format!("sqlite:{}", dir.path().join("dev.db").display());
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url, "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json_lines().iter().filter(|e| e["event"] == "data_progress").count() >= 2, "{run:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", &url]);
    assert_eq!(status.code, 0, "{status:?}");
    let db = rusqlite::Connection::open(dir.path().join("dev.db")).unwrap();
    let once: i64 = db.query_row("SELECT count(*) FROM items WHERE n = 1", [], |row| row.get(0)).unwrap();
    assert_eq!(once, 5000, "every row updated exactly once");
    let again = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert!(again.stdout.contains("Nothing to apply"), "{again:?}");
}

/// A pragma a migration sets on the connection ends with it: the next migration of the same
/// deploy runs as on a connection of its own (foreign keys enforced, as haste opens it).
#[test]
fn a_pragma_of_a_migration_does_not_reach_the_next() {
    let dir = migrations(&[
        (
            "1_pragma",
            "-- haste:transaction off\nCREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (pid INTEGER REFERENCES p);\nPRAGMA foreign_keys = OFF;",
        ),
        ("2_next", "INSERT INTO c VALUES (42);"),
    ]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let together = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(together.code, 6, "as in a deploy of its own: {together:?}");
    assert!(together.stderr.contains("FOREIGN KEY constraint failed"), "{together:?}");
}

/// The same for every pragma that changes what a later statement does, and for temporary
/// tables: `ignore_check_constraints` let the next migration store a row its CHECK refuses,
/// and a temporary table named as a real one took the next migration's insert.
#[test]
fn check_pragmas_and_temporary_tables_of_a_migration_do_not_reach_the_next() {
    let dir = migrations(&[
        (
            "1_pragma",
            "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER CHECK (balance >= 0));\nCREATE TABLE settings (k TEXT);\n\
             CREATE TEMP TABLE settings (k TEXT);\nPRAGMA ignore_check_constraints = ON;",
        ),
        ("2_setting", "INSERT INTO settings VALUES ('feature_flag');"),
        ("3_next", "INSERT INTO acct VALUES (1, -100);"),
    ]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let together = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(together.code, 6, "as in a deploy of its own: {together:?}");
    assert!(together.stderr.contains("CHECK constraint failed"), "{together:?}");
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    let settings: String =
        db.query_row("SELECT group_concat(k) FROM settings", [], |row| row.get(0)).unwrap();
    assert_eq!(settings, "feature_flag");
}

/// Each down.sql of `migrate down --steps 2` and the seed after `migrate reset` start as haste
/// opened the connection: a down.sql (or the last migration) ending with
/// `PRAGMA ignore_check_constraints = ON` let the next down.sql, or the seed, store a row its
/// CHECK refuses.
#[test]
fn each_down_and_the_seed_start_with_the_pragmas_haste_opened_with() {
    let dir = migrations(&[
        ("1_acct", "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER CHECK (balance >= 0));"),
        ("2_b", "CREATE TABLE b (n INTEGER);\nPRAGMA ignore_check_constraints = ON;"),
    ]);
    dir.write("migrations/1_acct/down.sql", "INSERT INTO acct VALUES (9, -1);\nDROP TABLE acct;");
    dir.write("migrations/2_b/down.sql", "DROP TABLE b;\nPRAGMA ignore_check_constraints = ON;");
    dir.write("seed.sql", "INSERT INTO acct VALUES (1, -100);");
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &url]);
    assert_eq!(reset.code, 6, "the seed's row breaks the CHECK: {reset:?}");
    assert!(reset.stderr.contains("CHECK constraint failed"), "{reset:?}");

    let down = haste(dir.path(), &["migrate", "down", "--steps", "2", "--url", &url]);
    assert_eq!(down.code, 6, "1_acct's insert breaks the CHECK: {down:?}");
    assert!(down.stderr.contains("CHECK constraint failed"), "{down:?}");
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    let negative: i64 =
        db.query_row("SELECT count(*) FROM acct WHERE balance < 0", [], |row| row.get(0)).unwrap();
    assert_eq!(negative, 0);
}

/// A seed that opens a transaction it never ends is refused before `reset` empties the
/// database (exit 4): SQLite rolled its insert back at close while reset said "Ran the seed".
#[test]
fn a_seed_that_never_commits_its_transaction_is_refused_on_sqlite_too() {
    let dir = migrations(&[("1_users", "CREATE TABLE users (n INTEGER);")]);
    dir.write("seed.sql", "BEGIN;\nINSERT INTO users VALUES (1);\n");
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &url]).code, 0);
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    db.execute_batch("INSERT INTO users VALUES (42)").unwrap();
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &url]);
    assert_eq!(reset.code, 4, "{reset:?}");
    assert!(reset.stderr.contains("seed.sql:1:1"), "{reset:?}");
    let kept: i64 = db.query_row("SELECT sum(n) FROM users", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, 42, "the database was not reset");
}

/// A database a migration attaches is detached before the next one: attached, the next
/// migration's `DROP TABLE IF EXISTS settings` (nothing in main) dropped the attached file's
/// table, only when both were deployed together.
#[test]
fn a_database_a_migration_attaches_does_not_reach_the_next() {
    let dir = migrations(&[
        (
            "1_import",
            "ATTACH DATABASE 'archive.db' AS archive;\nCREATE TABLE imported AS SELECT * FROM archive.settings;",
        ),
        ("2_settings", "DROP TABLE IF EXISTS settings;\nCREATE TABLE settings (k TEXT);"),
    ]);
    let archive = rusqlite::Connection::open(dir.path().join("archive.db")).unwrap();
    archive.execute_batch("CREATE TABLE settings (k TEXT); INSERT INTO settings VALUES ('legacy');").unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    let kept: String =
        archive.query_row("SELECT group_concat(k) FROM settings", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, "legacy");
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    let imported: String =
        db.query_row("SELECT group_concat(k) FROM imported", [], |row| row.get(0)).unwrap();
    assert_eq!(imported, "legacy");
}

/// A temporary AUTOINCREMENT table (which makes `temp.sqlite_sequence`) does not stop the
/// next migration of the deploy: the reset tried to drop `sqlite_sequence` too, exit 1.
#[test]
fn a_temporary_autoincrement_table_does_not_stop_the_next_migration() {
    let dir = migrations(&[
        (
            "1_scratch",
            "CREATE TABLE t (n INTEGER);\nCREATE TEMP TABLE scratch (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);\nINSERT INTO scratch (v) VALUES ('x');",
        ),
        ("2_next", "CREATE TABLE scratch (n INTEGER);\nINSERT INTO scratch VALUES (7);"),
    ]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    let n: i64 = db.query_row("SELECT n FROM main.scratch", [], |row| row.get(0)).unwrap();
    assert_eq!(n, 7, "the temporary scratch table was dropped before 2_next");
}

/// A SQLite savepoint outside every transaction opens one, and its `RELEASE` commits it: in a
/// file run as written, that block applies with its history row and stops whole. haste wrote
/// history after the `SAVEPOINT` as if it had run alone: exit 6 "cannot start a transaction
/// within a transaction", history `failed 4`, the insert gone.
#[test]
fn a_savepoint_outside_a_transaction_is_a_block_of_its_own() {
    let file = "BEGIN;\nCREATE TABLE b (x INTEGER);\nCOMMIT;\nSAVEPOINT s;\nINSERT INTO b VALUES (1);\nINSERT INTO audit VALUES (1);\nRELEASE s;";
    let dir = migrations(&[("1_a", file)]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let history = || {
        let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
        let row: (String, i64) = db
            .query_row("SELECT status, statements_done FROM _haste_migrations", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        let rows: i64 = db.query_row("SELECT count(*) FROM b", [], |row| row.get(0)).unwrap();
        (row.0, row.1, rows)
    };
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(failed.stderr.contains("no such table: audit"), "{failed:?}");
    assert_eq!(history(), ("failed".into(), 3, 0), "the first block committed, the savepoint's rolled back");

    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute_batch("CREATE TABLE audit (x INTEGER)")
        .unwrap();
    let resumed = haste(dir.path(), &["migrate", "resolve", "--resume", "1_a", "--url", &url]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(history(), ("applied".into(), 7, 1));
}

/// A resume on SQLite sets again the pragmas the file set before the resume point: the rest
/// ran with foreign keys back on, and a cascade deleted what the file meant to keep.
#[test]
fn a_resume_sets_again_the_pragmas_the_file_set() {
    let dir = migrations(&[(
        "1_pragma",
        "-- haste:transaction off\nPRAGMA foreign_keys = OFF;\nUPDATE chk SET v = v - 10;\nDELETE FROM parent;\nINSERT INTO parent VALUES (1);",
    )]);
    let file = dir.path().join("app.db");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (pid INTEGER REFERENCES parent ON DELETE CASCADE);\
         CREATE TABLE chk (v INTEGER CHECK (v > 0)); INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1); INSERT INTO chk VALUES (5);",
    )
    .unwrap();
    let url = format!("sqlite:{}", file.display());
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(run.code, 6, "{run:?}");
    db.execute_batch("UPDATE chk SET v = 100").unwrap();
    let run = haste(dir.path(), &["migrate", "resolve", "--url", &url, "--resume", "1_pragma"]);
    assert_eq!(run.code, 0, "{run:?}");
    let children: i64 = db.query_row("SELECT count(*) FROM child", [], |row| row.get(0)).unwrap();
    assert_eq!(children, 1, "no cascade: foreign keys stayed off as the file set them");
}
