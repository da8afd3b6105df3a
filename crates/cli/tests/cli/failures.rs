//! Failures a person can act on: each with its exit code, its place in the file, and no password.

use std::fs;
use std::time::Duration;

use haste_testkit::{TempDir, database};

use crate::{command, haste, migrations};

const SEVEN_LINES: &str = "-- line 1\nCREATE TABLE first_table (id int);\n\n-- line 4\nCREATE TABLE second_table (\n    id int\n) oops;\nCREATE TABLE third_table (id int);\n";

#[test]
fn a_syntax_error_names_file_line_and_sqlstate_and_leaves_no_trace() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_ok", "CREATE TABLE ok (id int);"), ("2_broken", SEVEN_LINES)]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("2_broken/migration.sql:7:3"), "{run:?}");
    assert!(run.stderr.contains("sqlstate: 42601"), "{run:?}");
    assert!(run.stderr.contains("7 | ) oops;"), "the snippet shows the line: {run:?}");
    assert_eq!(db.value("SELECT to_regclass('first_table') IS NULL").as_deref(), Some("t"));
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations WHERE name = '2_broken'").as_deref(),
        Some("0")
    );
    assert_eq!(db.value("SELECT count(*) FROM _haste_migrations WHERE name = '1_ok'").as_deref(), Some("1"));

    let json = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]);
    assert_eq!(json.code, 6);
    let last = json.json_lines().pop().unwrap();
    assert_eq!(last["error"]["sqlstate"], "42601");
    assert_eq!(last["error"]["line"], 7);
    assert_eq!(last["error"]["code"], "MIGRATION_FAILED");
    assert_eq!(last["error"]["state"], "rolled_back");
    assert!(last["error"]["file"].as_str().unwrap().ends_with("2_broken/migration.sql"));

    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 3, "the failed migration is still pending: {status:?}");

    // An error in a file's first statement points into the file too.
    fs::remove_dir_all(dir.path().join("migrations/2_broken")).unwrap();
    dir.write(
        "migrations/3_first/migration.sql",
        "-- header\n\nCREATE TABLE x (id int) nonsense;\nCREATE TABLE y (id int);\n",
    );
    let first = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(first.code, 6, "{first:?}");
    assert!(first.stderr.contains("3_first/migration.sql:3:25"), "{first:?}");
}

#[test]
fn a_statement_without_any_keyword_fails_the_migration_instead_of_vanishing() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_typo", "CREATE TABLE kept (id int);\nSELEC now();\n")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("1_typo/migration.sql:2:1") && run.stderr.contains("42601"), "{run:?}");
    assert_eq!(db.value("SELECT to_regclass('kept') IS NULL").as_deref(), Some("t"), "rolled back: {run:?}");
}

#[test]
fn a_changed_byte_stops_deploy_and_status_but_line_endings_do_not() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let file = dir.path().join("migrations/1_a/migration.sql");

    fs::write(&file, "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n").unwrap();
    dir.write("migrations/2_c/migration.sql", "CREATE TABLE c (id int);");
    let crlf = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(crlf.code, 0, "{crlf:?}");

    fs::write(&file, "CREATE TABLE a (id int);\r\nCREATE TABLE B (id int);\r\n").unwrap();
    dir.write("migrations/3_d/migration.sql", "CREATE TABLE d (id int);");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy.code, 4, "{deploy:?}");
    assert!(deploy.stderr.contains("1_a/migration.sql"), "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('d') IS NULL").as_deref(), Some("t"), "nothing applied");
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 4, "{status:?}");
    assert!(status.stdout.contains("MODIFIED    1_a"), "{status:?}");
}

#[test]
fn passwords_never_appear_in_any_output() {
    let Some(db) = database() else { return };
    let password = "Sup3rSecretPassw0rd";
    let url = db.url_with_password(password);
    let dir = migrations(&[("1_ok", "CREATE TABLE ok (id int);"), ("2_broken", SEVEN_LINES)]);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = format!("postgres://postgres:{password}@127.0.0.1:{closed_port}/nothing");
    let runs = [
        haste(dir.path(), &["migrate", "deploy", "--url", &url]),
        haste(dir.path(), &["migrate", "deploy", "--url", &url, "--format", "json"]),
        haste(dir.path(), &["migrate", "status", "--url", &url]),
        haste(dir.path(), &["migrate", "status", "--url", &url, "--format", "json"]),
        haste(dir.path(), &["migrate", "deploy", "--url", &unreachable]),
        haste(dir.path(), &["migrate", "status", "--url", &unreachable, "--format", "json"]),
        haste(dir.path(), &["migrate", "deploy", "--url", &format!("mysql://u:{password}@h/d")]),
    ];
    for run in &runs {
        assert!(!run.all().contains(password), "password leaked: {run:?}");
    }
    assert_eq!(runs[0].code, 6);
    assert!(runs[1].stdout.contains("postgres:***@"), "{:?}", runs[1]);
    assert_eq!(runs[4].code, 9, "{:?}", runs[4]);
    assert!(runs[4].stderr.contains(&format!("port={closed_port}")), "says what was tried: {:?}", runs[4]);
    assert_eq!(runs[5].json_lines()[0]["error"]["code"], "CONNECT");
    assert_eq!(runs[6].code, 2);
}

/// A password the migration itself holds (a role's, a user mapping's, a connection string's) is
/// run as written but never shown: not in the plan, not in a failure's snippet, not in lint.
#[test]
fn passwords_written_in_a_migration_are_never_shown() {
    const SECRETS: [&str; 7] = [
        "R0lePassw0rd",
        "C0nnPassw0rd",
        "UrlPassw0rd",
        "Ex3cPassw0rd",
        "C0ncatPassw0rd",
        "Decl4redPassw0rd",
        "Unt3rmPassw0rd",
    ];
    let Some(db) = database() else { return };
    let role = format!("haste_secret_{}", std::process::id());
    let sql = format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'R0lePassw0rd';\n\
         SELECT 'host=db password=C0nnPassw0rd' AS conninfo, 'postgres://u:UrlPassw0rd@h/d' AS url;\n\
         DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD ''Ex3cPassw0rd''', '{role}'); END $$;\n\
         DO $$ BEGIN EXECUTE 'ALTER ROLE {role} PASSWORD ' || quote_literal('C0ncatPassw0rd'); END $$;\n\
         DO $$ DECLARE p text := 'Decl4redPassw0rd'; BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', '{role}', p); END $$;\n\
         CREATE TABLE t (id int) oops;\n"
    );
    let dir = migrations(&[("1_roles", &sql)]);
    // A literal never closed: the scanner cannot read the file, lint still shows no secret.
    let unterminated = migrations(&[("1_role", "ALTER ROLE app PASSWORD 'Unt3rmPassw0rd\nSELECT 1;\n")]);
    let runs = [
        haste(dir.path(), &["migrate", "plan", "--url", &db.url]),
        haste(dir.path(), &["migrate", "plan", "--url", &db.url, "--format", "json"]),
        haste(dir.path(), &["migrate", "deploy", "--url", &db.url]),
        haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]),
        haste(dir.path(), &["lint"]),
        haste(unterminated.path(), &["lint"]),
        haste(unterminated.path(), &["lint", "--format", "json"]),
        haste(dir.path(), &["report", "--url", &db.url, "--plan", "--out", "report"]),
    ];
    let report_page = fs::read_to_string(dir.path().join("report/index.html")).unwrap_or_default();
    assert!(report_page.contains("ALTER ROLE"), "the plan page shows the statements: {report_page}");
    for run in &runs {
        for secret in SECRETS {
            assert!(!run.all().contains(secret), "{secret} shown: {run:?}");
        }
    }
    for secret in SECRETS {
        assert!(!report_page.contains(secret), "{secret} shown on the plan page");
    }
    assert_eq!(runs[2].code, 6, "the failing statement stops the migration: {:?}", runs[2]);
    assert!(runs[2].stderr.contains("1_roles/migration.sql:6:"), "the place is still right: {:?}", runs[2]);
    assert!(
        runs[2].stderr.contains("quote_literal('**************')"),
        "the snippet shows where it was: {:?}",
        runs[2]
    );
    assert!(runs[0].stdout.contains("PASSWORD '************'"), "{:?}", runs[0]);
    assert_eq!(
        db.value(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'")).as_deref(),
        Some("0"),
        "rolled back whole"
    );
}

#[test]
fn each_failure_has_its_documented_exit_code() {
    let Some(db) = database() else { return };
    let empty = TempDir::new("no-url");
    let usage = haste(empty.path(), &["migrate", "status"]);
    assert_eq!(usage.code, 2, "no URL is a usage error: {usage:?}");

    let dir = migrations(&[("2_b", "CREATE TABLE b (id int);")]);
    let pending = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(pending.code, 3, "{pending:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);

    dir.write("migrations/1_a/migration.sql", "CREATE TABLE a (id int);");
    let out_of_order = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(out_of_order.code, 4, "{out_of_order:?}");
    assert!(out_of_order.stderr.contains("1_a is pending but sorts before 2_b"), "{out_of_order:?}");
    let allowed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--allow-out-of-order"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");

    dir.write(
        "migrations/3_forced/migration.sql",
        "-- haste:transaction on\nCREATE TABLE c (id int);\nCREATE INDEX CONCURRENTLY c_id ON c (id);\n",
    );
    let forced = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(forced.code, 4, "{forced:?}");
    assert!(forced.stderr.contains("3_forced/migration.sql:3:1"), "{forced:?}");
    fs::remove_dir_all(dir.path().join("migrations/3_forced")).unwrap();

    dir.write("migrations/4_stops_midway/migration.sql", "CREATE TABLE d (id int);\nCREATE INDEX CONCURRENTLY d_missing ON no_such_table (id);\nCREATE TABLE e (id int);\n");
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(
        failed.stderr.contains("42P01") && failed.stderr.contains("stopped after 1 statement"),
        "{failed:?}"
    );
    let blocked = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(blocked.code, 7, "{blocked:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 7, "{status:?}");
    assert!(status.stdout.contains("FAILED      4_stops_midway  (1 of 3 statements done)"), "{status:?}");
}

#[test]
fn a_held_lock_is_waited_for_with_its_holder_named_then_gives_up() {
    let Some(db) = database() else { return };
    let slow = migrations(&[("1_slow", "SELECT pg_sleep(4);")]);
    let mut holder = command(slow.path(), &["migrate", "deploy", "--url", &db.url])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(haste_testkit::wait_until(Duration::from_secs(10), || {
        db.value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid() AND datname = current_database()").as_deref() == Some("1")
    }));
    let waiter = haste(slow.path(), &["migrate", "deploy", "--url", &db.url, "--lock-wait", "1s"]);
    assert_eq!(waiter.code, 5, "{waiter:?}");
    assert!(
        waiter.stdout.contains("Waiting for the migration lock") && waiter.stdout.contains("haste/"),
        "{waiter:?}"
    );
    assert!(waiter.stderr.contains("held by pid"), "{waiter:?}");
    assert!(holder.wait().unwrap().success());
}

/// `REINDEX TABLE` (and `CLUSTER`) of a partitioned table cannot run inside a transaction
/// block, which only the server knows (the table's kind is not in the statement): a file
/// without `-- haste:transaction off` runs it in its transaction, and fails with 25001, rolled
/// back. The hint says what to do, in text and JSON; with the directive the same file applies.
#[test]
fn a_partitioned_reindex_or_cluster_in_a_transaction_hints_at_the_transaction_off_directive() {
    let Some(db) = database() else { return };
    let reindex = "CREATE TABLE marker (id int);\nREINDEX TABLE events;\n";
    let dir = migrations(&[
        (
            "1_events",
            "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\n\
             CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n\
             CREATE INDEX events_id_idx ON events (id);",
        ),
        ("2_reindex", reindex),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("2_reindex/migration.sql:2:1") && run.stderr.contains("sqlstate: 25001"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("hint: PostgreSQL runs this statement only outside a transaction")
            && run.stderr.contains("add the line `-- haste:transaction off` at the top of the migration"),
        "{run:?}"
    );
    assert!(run.stderr.contains("the migration was rolled back"), "{run:?}");
    assert_eq!(db.value("SELECT to_regclass('marker') IS NULL").as_deref(), Some("t"), "rolled back");
    let json = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]);
    let error = &json.json_lines().pop().unwrap()["error"];
    assert_eq!((error["sqlstate"].as_str(), error["state"].as_str()), (Some("25001"), Some("rolled_back")));
    assert!(error["hint"].as_str().unwrap().contains("-- haste:transaction off"), "{json:?}");

    // As the hint says.
    dir.write("migrations/2_reindex/migration.sql", &format!("-- haste:transaction off\n{reindex}"));
    let fixed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
    assert_eq!(db.value("SELECT to_regclass('marker') IS NOT NULL").as_deref(), Some("t"));

    // `CLUSTER` of a partitioned table the same way.
    let cluster = "CREATE TABLE clustered (id int);\nCLUSTER events USING events_id_idx;\n";
    dir.write("migrations/3_cluster/migration.sql", cluster);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("sqlstate: 25001") && run.stderr.contains("`-- haste:transaction off`"),
        "{run:?}"
    );
    assert_eq!(db.value("SELECT to_regclass('clustered') IS NULL").as_deref(), Some("t"), "rolled back");
    dir.write("migrations/3_cluster/migration.sql", &format!("-- haste:transaction off\n{cluster}"));
    let fixed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
}
