//! `haste lint` as a user runs it, and `deploy --lint`.

use haste_testkit::{TempDir, database};

use crate::{corpus, haste, migrations};

fn risky_history() -> TempDir {
    migrations(&[
        ("1_init", "CREATE TABLE contacts (id bigint PRIMARY KEY, email text, name text);"),
        (
            "2_change",
            "-- add a score\nALTER TABLE contacts ADD COLUMN score integer NOT NULL;\nCREATE INDEX contacts_email_idx\n  ON contacts (email);\n-- haste:allow rename-column reason=\"view with the old name kept for one release\"\nALTER TABLE contacts RENAME COLUMN name TO full_name;\n",
        ),
    ])
}

#[test]
fn lint_reports_rustc_style_findings_and_fails_on_errors() {
    let dir = risky_history();
    let run = haste(dir.path(), &["lint"]);
    assert_eq!(run.code, 13, "{run:?}");
    assert!(run.stdout.contains("error[add-required-column]"), "{run:?}");
    assert!(run.stdout.contains("--> migrations/2_change/migration.sql:3:1"), "{run:?}");
    assert!(run.stdout.contains("3 | / CREATE INDEX contacts_email_idx"), "{run:?}");
    assert!(!run.stdout.contains("\x1b["), "no colours in a pipe: {run:?}");
    assert!(run.stdout.contains("help: use CREATE INDEX CONCURRENTLY"), "{run:?}");
    assert!(!run.stdout.contains("rename-column"), "allowed with a reason: {run:?}");

    let json = haste(dir.path(), &["lint", "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rules: Vec<&str> = findings.as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["add-required-column", "require-statement-timeout", "index-create-not-concurrent"]);
    let first = &findings[0];
    for field in ["file", "line", "column", "end_line", "end_column", "rule", "severity", "message", "help"] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }

    let github = haste(dir.path(), &["lint", "--format", "github"]);
    assert!(
        github.stdout.starts_with("::error file=migrations/2_change/migration.sql,line=2,col=1,"),
        "{github:?}"
    );
    let sarif = haste(dir.path(), &["lint", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);

    let relaxed = haste(
        dir.path(),
        &["lint", "--rule", "add-required-column=warn", "--rule", "index-create-not-concurrent=off"],
    );
    assert_eq!(relaxed.code, 0, "warnings do not fail: {relaxed:?}");
    assert!(relaxed.stdout.contains("warning[add-required-column]"), "{relaxed:?}");
    let bad_rule = haste(dir.path(), &["lint", "--rule", "no-such-rule=warn"]);
    assert_eq!(bad_rule.code, 2, "{bad_rule:?}");
}

/// Each migration's `down.sql` is read with the same rules, against the schema its migration
/// left: dropping what that migration created is what undoing it means, while a down.sql that
/// rewrites or locks a table that existed before is reported by its path. `deploy --lint`
/// judges what a deploy runs, which is never a down.sql.
#[test]
fn lint_reads_each_down_sql_against_the_schema_its_migration_left() {
    let dir = migrations(&[
        ("1_init", "CREATE TABLE contacts (id bigint PRIMARY KEY, score integer NOT NULL);"),
        (
            "2_widen",
            "CREATE TABLE notes (id bigint PRIMARY KEY);\nALTER TABLE contacts ADD COLUMN note_id bigint;\n",
        ),
    ]);
    dir.write("migrations/1_init/down.sql", "DROP TABLE contacts;\n");
    dir.write(
        "migrations/2_widen/down.sql",
        "ALTER TABLE contacts DROP COLUMN note_id;\nDROP TABLE notes;\nALTER TABLE contacts ALTER COLUMN score TYPE text;\n",
    );
    let run = haste(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 13, "{run:?}");
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(&str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["rule"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [("column-type-rewrite", "migrations/2_widen/down.sql")],
        "only the rewrite is reported, by the down.sql's path; the drops of what the migrations created are not: {run:?}"
    );
    let text = haste(dir.path(), &["lint"]);
    assert!(text.stdout.contains("--> migrations/2_widen/down.sql:3:1"), "{text:?}");
    assert!(text.stdout.contains("in 4 file(s) checked"), "{text:?}");

    // Named on the command line, a down.sql is checked alone, still as the down of its migration.
    let named = haste(dir.path(), &["lint", "migrations/1_init/down.sql"]);
    assert_eq!(named.code, 0, "{named:?}");
    assert!(named.stdout.contains("0 error(s), 0 warning(s) in 1 file(s) checked"), "{named:?}");

    // Dropping what the migration did not create is reported as anywhere else.
    dir.write("migrations/2_widen/down.sql", "ALTER TABLE contacts DROP COLUMN score;\n");
    let lost = haste(dir.path(), &["lint", "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&lost.stdout).unwrap();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "drop-column" && f["file"].as_str().unwrap().ends_with("2_widen/down.sql")),
        "{lost:?}"
    );

    let Some(db) = database() else { return };
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--lint"]);
    assert_eq!(deploy.code, 0, "a deploy runs no down.sql: {deploy:?}");
}

#[test]
fn lint_of_one_file_replays_the_folder_before_it() {
    let dir = risky_history();
    let extra = dir.write("extra.sql", "CREATE TABLE notes (id bigint);\nCREATE INDEX notes_id_idx ON notes (id);\nDROP INDEX contacts_email_idx;\n");
    let run = haste(dir.path(), &["lint", extra.to_str().unwrap(), "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<&str> = findings.as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["index-drop-not-concurrent"], "only the named file is checked: {run:?}");
}

#[test]
fn with_a_url_only_pending_migrations_are_checked_and_their_tables_are_new() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_init", "CREATE TABLE contacts (id bigint PRIMARY KEY, email text);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    dir.write(
        "migrations/2_deals/migration.sql",
        "CREATE TABLE deals (id bigint PRIMARY KEY, contact_id bigint);",
    );
    dir.write(
        "migrations/3_deal_index/migration.sql",
        "CREATE INDEX deals_contact_idx ON deals (contact_id);",
    );
    dir.write(
        "migrations/4_contact_index/migration.sql",
        "CREATE INDEX contacts_email_idx ON contacts (email);",
    );
    let run = haste(dir.path(), &["lint", "--url", &db.url, "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let files: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "index-create-not-concurrent")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{run:?}");
    assert!(
        files[0].ends_with("4_contact_index/migration.sql"),
        "deals is created by a pending migration, contacts is live: {run:?}"
    );

    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--lint"]);
    assert_eq!(deploy.code, 13, "{deploy:?}");
    assert!(deploy.stdout.contains("error[index-create-not-concurrent]"), "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('deals') IS NULL").as_deref(), Some("t"), "nothing applied");
    dir.write(
        "migrations/4_contact_index/migration.sql",
        "CREATE INDEX CONCURRENTLY contacts_email_idx ON contacts (email);",
    );
    let fixed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--lint"]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
}

#[test]
fn a_foreign_key_on_a_partitioned_table_is_not_advised_not_valid_before_postgresql_18() {
    let Some(db) = database() else { return };
    let dir = migrations(&[(
        "1_init",
        "CREATE TABLE contacts (id bigint PRIMARY KEY);\nCREATE TABLE events (id bigint, contact_id bigint) PARTITION BY RANGE (id);\nCREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);",
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    dir.write(
        "migrations/2_fk/migration.sql",
        "ALTER TABLE events ADD CONSTRAINT events_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);",
    );
    let run = haste(dir.path(), &["lint", "--url", &db.url, "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let finding = findings.as_array().unwrap().iter().find(|f| f["rule"] == "fk-not-valid").cloned();
    let help = finding.as_ref().and_then(|f| f["help"].as_str()).unwrap_or_default().to_owned();
    let version: u32 = db.value("SHOW server_version_num").unwrap().parse().unwrap();
    if version >= 180_000 {
        assert!(help.starts_with("add it NOT VALID"), "{run:?}");
        return;
    }
    assert!(help.contains("each partition") && help.contains("before PostgreSQL 18"), "{run:?}");
    // What the server says of the ordinary advice, and that the advice given works.
    let refused = db.try_execute(
        "ALTER TABLE events ADD CONSTRAINT events_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) NOT VALID",
    );
    assert!(refused.is_err_and(|error| error.contains("NOT VALID")));
    db.execute("ALTER TABLE events_1 ADD CONSTRAINT events_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) NOT VALID");
    db.execute("ALTER TABLE events_1 VALIDATE CONSTRAINT events_contact_fkey");
    db.execute("ALTER TABLE events ADD CONSTRAINT events_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id)");
    let adopted = "SELECT count(*) FROM pg_constraint WHERE conrelid = 'events_1'::regclass AND contype = 'f' AND conparentid <> 0";
    assert_eq!(db.value(adopted).as_deref(), Some("1"), "the partition's validated key was adopted");
}

#[test]
fn the_prisma_corpus_findings_match_the_reviewed_list() {
    let Some(corpus) = corpus() else { return };
    let work = TempDir::new("lint-corpus");
    let run = haste(
        work.path(),
        &["lint", "--dir", corpus.join("migrations").to_str().unwrap(), "--format", "json"],
    );
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let actual: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let migration = file.rsplit('/').nth(1).unwrap();
            format!("{migration}:{} {}", f["line"], f["rule"].as_str().unwrap())
        })
        .collect();
    let expected_file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lint/tests/corpus/hastecrm.findings");
    let expected: Vec<String> = std::fs::read_to_string(&expected_file)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split(" -- ").next().unwrap().trim().to_owned())
        .collect();
    assert_eq!(actual, expected, "{run:?}");
    assert_eq!(run.code, 0, "the reviewed findings are warnings: {run:?}");
}

/// A folder whose `migration_lock.toml` says SQLite.
fn sqlite_history(files: &[(&str, &str)]) -> TempDir {
    let dir = migrations(files);
    dir.write("migrations/migration_lock.toml", "provider = \"sqlite\"\n");
    dir
}

#[test]
fn a_sqlite_history_is_linted_in_sqlite_by_the_rules_that_hold_for_any_database() {
    // The repository's own SQLite example: a trigger body, no PostgreSQL syntax error.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crm/migrations");
    let run =
        haste(std::path::Path::new("."), &["lint", "--dir", example.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.trim(), "[]", "{run:?}");

    let dir = sqlite_history(&[
        (
            "1_init",
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT, y TEXT);\n\
             CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN\n  UPDATE t SET y = 'z' WHERE id = NEW.id;\nEND;",
        ),
        (
            "2_change",
            "PRAGMA foreign_keys = ON;\nCREATE INDEX t_x ON t (x);\nALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0;\nALTER TABLE t DROP COLUMN y;\n",
        ),
    ]);
    let run = haste(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 13, "{run:?}");
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<&str> = findings.as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    // No index-create-not-concurrent, require-lock-timeout or syntax-error: PostgreSQL's.
    assert_eq!(rules, ["drop-column"], "{run:?}");
    assert_eq!(findings[0]["line"], 4, "{run:?}");

    // deploy --lint on a SQLite database lints too, in SQLite.
    let deploy = haste(dir.path(), &["migrate", "deploy", "--lint", "--url", "sqlite:crm.db"]);
    assert_eq!(deploy.code, 13, "{deploy:?}");
    assert!(
        deploy.stdout.contains("error[drop-column]") && !deploy.stdout.contains("syntax-error"),
        "{deploy:?}"
    );
}

/// `-- haste:release-with` cannot make an applied table new again: with the database known
/// (`lint --url`, `deploy --lint`) its history decides, and offline a line naming a migration
/// further back, past others that do not name it, is not taken.
#[test]
fn release_with_does_not_hide_findings_on_tables_already_released() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_init", "CREATE TABLE users (id bigint PRIMARY KEY, email text);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    db.execute("INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g");
    dir.write(
        "migrations/2_index/migration.sql",
        "-- haste:release-with 1_init\nCREATE INDEX users_email ON users (email);\n",
    );
    for lint in [
        vec!["lint", "--url", db.url.as_str()],
        vec!["migrate", "deploy", "--url", db.url.as_str(), "--lint"],
    ] {
        let run = haste(dir.path(), &lint);
        assert_eq!(run.code, 13, "{lint:?}: {run:?}");
        assert!(run.stdout.contains("index-create-not-concurrent"), "{lint:?}: {run:?}");
    }
    assert_eq!(
        db.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email'").as_deref(),
        Some("0")
    );
    // Offline, past a migration between that does not name it.
    dir.write("migrations/2_index/migration.sql", "ALTER TABLE users ADD COLUMN note text;\n");
    dir.write(
        "migrations/3_index/migration.sql",
        "-- haste:release-with 1_init\nCREATE INDEX users_email ON users (email);\n",
    );
    let offline = haste(dir.path(), &["lint"]);
    assert_eq!(offline.code, 13, "{offline:?}");
}
