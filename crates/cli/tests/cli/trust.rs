//! The runner's promise on ordinary failures: a migration runs whole or not at all, and what
//! history and messages say is true (statement-protocol faults, concurrent index builds that do
//! not finish, a resume after the failing statement was fixed).

use std::time::Duration;

use haste_testkit::{Session, database, wait_until};

use crate::{command, haste, migrations};

fn columns(db: &haste_testkit::TestDb, table: &str) -> Vec<String> {
    db.query(&format!(
        "SELECT attname FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    ))
    .into_iter()
    .filter_map(|row| row.into_iter().next().flatten())
    .collect()
}

/// The failure that must never happen again: a syntax error in the first statement made the
/// server refuse `BEGIN` with it, and the statements after it ran in autocommit.
#[test]
fn a_syntax_error_in_the_first_statement_leaves_nothing_applied_or_recorded() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        ("1_init", "CREATE TABLE customers (id bigint PRIMARY KEY, name text, legacy text);"),
        (
            "2_orders",
            "CREATE TABEL orders (id bigint PRIMARY KEY);\nALTER TABLE customers DROP COLUMN legacy;",
        ),
    ]);
    let url = db.url.as_str();
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("migration.sql:1:8"), "{deploy:?}");
    assert_eq!(columns(&db, "customers"), ["id", "name", "legacy"], "the second statement must not run");
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 3, "2_orders is still pending: {status:?}");
    assert!(status.stdout.contains("pending     2_orders"), "{status:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations WHERE name = '2_orders'").as_deref(),
        Some("0")
    );

    // The same for a down.sql whose first line has the typo, and for a stepwise group.
    dir.write("migrations/2_orders/migration.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);");
    dir.write(
        "migrations/2_orders/down.sql",
        "DROP TABEL orders;\nALTER TABLE customers DROP COLUMN legacy;",
    );
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    let down = haste(dir.path(), &["migrate", "down", "--url", url]);
    assert_eq!(down.code, 6, "{down:?}");
    assert_eq!(columns(&db, "customers"), ["id", "name", "legacy"]);
    assert!(down.stderr.contains("rolled back"), "{down:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 0, "2_orders stays applied: {status:?}");
}

#[test]
fn a_file_that_does_not_parse_or_a_failing_group_commits_nothing_of_it() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, a text, b text)");
    let dir = migrations(&[(
        "1_mixed",
        "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nALTER TABEL t DROP COLUMN b;\nALTER TABLE t DROP COLUMN a;",
    )]);
    // A file that does not parse cannot succeed: nothing of it runs, not even the statements
    // before the typo, and the error points at the typo.
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(
        deploy.stderr.contains("grammar refuses") && deploy.stderr.contains("migration.sql:2:7"),
        "{deploy:?}"
    );
    assert_eq!(columns(&db, "t"), ["id", "a", "b"]);
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname = 't_a_idx'").as_deref(), Some("0"));
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 3, "still pending");

    // A parsing stepwise file whose group fails runs none of that group.
    dir.write(
        "migrations/1_mixed/migration.sql",
        "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nALTER TABLE t DROP COLUMN nope;\nALTER TABLE t DROP COLUMN a;",
    );
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("stopped after 1 statement"), "{deploy:?}");
    assert_eq!(columns(&db, "t"), ["id", "a", "b"], "the group after the index build ran nothing");
    assert_eq!(
        db.query("SELECT status, statements_done FROM _haste_migrations"),
        [[Some("failed".to_owned()), Some("1".to_owned())]]
    );
}

/// An open transaction that started before a concurrent build, ending after `hold`: the build
/// waits for it, and a short lock timeout cancels the wait, leaving an INVALID index.
fn old_reader(url: &str, hold: Duration) -> std::thread::JoinHandle<()> {
    let url = url.to_owned();
    let (open, opened) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let reader = Session::connect(&url);
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t");
        open.send(()).unwrap();
        std::thread::sleep(hold);
    });
    opened.recv().unwrap();
    reader
}

#[test]
fn a_cancelled_concurrent_build_is_dropped_and_never_counted_as_done() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, email text, phone text); INSERT INTO t SELECT g, 'e' || g, 'p' || g FROM generate_series(1, 1000) g");
    let invalid = || db.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid");
    let dir = migrations(&[(
        "1_unique",
        "-- haste:lock-timeout 200ms\n-- haste:retries 0\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_email_key ON t (email);",
    )]);
    let reader = old_reader(url, Duration::from_millis(1500));
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    reader.join().unwrap();
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("55P03"), "{deploy:?}");
    assert!(deploy.stderr.contains("was dropped"), "the message says what became of the index: {deploy:?}");
    assert_eq!(invalid().as_deref(), Some("0"), "no INVALID index is left behind");
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert!(status.stdout.contains("failed"), "{status:?}");
    let resume = haste(dir.path(), &["migrate", "resolve", "--resume", "1_unique", "--url", url]);
    assert_eq!(resume.code, 0, "{resume:?}");
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_email_key'::regclass").as_deref(),
        Some("t")
    );
    let doctor = haste(dir.path(), &["doctor", "--url", url]);
    assert_eq!(doctor.code, 0, "{doctor:?}");

    // With a retry, the debris of the cancelled attempt is dropped and the build runs again:
    // `IF NOT EXISTS` does not skip it.
    dir.write(
        "migrations/2_phone/migration.sql",
        "-- haste:lock-timeout 200ms\n-- haste:retries 2\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_phone_idx ON t (phone);",
    );
    let reader = old_reader(url, Duration::from_millis(1000));
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    reader.join().unwrap();
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert!(deploy.json_lines().iter().any(|event| event["event"] == "retrying"), "{deploy:?}");
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_phone_idx'::regclass").as_deref(),
        Some("t")
    );
    assert_eq!(invalid().as_deref(), Some("0"));
}

#[test]
fn a_leftover_invalid_index_is_rebuilt_not_skipped_by_if_not_exists() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, email text); INSERT INTO t VALUES (1, 'a'), (2, 'a')");
    // A unique build over duplicates fails and leaves its index INVALID, as an earlier run would.
    assert!(db.try_execute("CREATE UNIQUE INDEX CONCURRENTLY t_email_key ON t (email)").is_err());
    assert_eq!(db.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid").as_deref(), Some("1"));
    db.execute("DELETE FROM t WHERE id = 2");
    let dir = migrations(&[(
        "1_unique",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_email_key ON t (email);",
    )]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_email_key'::regclass").as_deref(),
        Some("t")
    );
}

#[test]
fn an_unnamed_concurrent_build_resumed_after_a_kill_builds_no_second_index() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, x int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g");
    assert_eq!(
        haste(migrations(&[]).path(), &["migrate", "deploy", "--url", url]).code,
        0,
        "history tables exist"
    );
    let dir = migrations(&[(
        "1_index",
        "-- haste:lock-timeout 20s\nCREATE INDEX CONCURRENTLY ON t (x);\nALTER TABLE t ADD COLUMN y int;",
    )]);
    // A writer holds the build at its start, until the history table is held too: then the
    // build finishes, its record waits, and the run is killed there.
    let writer = Session::connect(url);
    writer.execute("BEGIN; UPDATE t SET x = x WHERE id = 1");
    let mut child = command(dir.path(), &["migrate", "deploy", "--url", url]).spawn().unwrap();
    let building = wait_until(Duration::from_secs(20), || {
        db.value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND datname = current_database()")
            .as_deref()
            == Some("1")
    });
    assert!(building, "the build started");
    let holder = Session::connect(url);
    holder.execute("BEGIN; LOCK TABLE _haste_migrations IN ACCESS EXCLUSIVE MODE");
    writer.execute("COMMIT");
    let built = wait_until(Duration::from_secs(30), || {
        db.value("SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND indisvalid AND NOT indisprimary")
            .as_deref()
            == Some("1")
    });
    assert!(built, "the build finished");
    // A killed client does not cancel a statement the server is running: the session ends.
    let ended = wait_until(Duration::from_secs(10), || {
        db.value(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name LIKE 'haste/%' AND wait_event_type = 'Lock' \
             AND datname = current_database()",
        )
        .as_deref()
            == Some("1")
    });
    assert!(ended, "the run waited on its record");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(9), "connection lost");
    holder.execute("ROLLBACK");
    assert_eq!(
        db.value("SELECT statements_done FROM _haste_migrations").as_deref(),
        Some("0"),
        "the build was not recorded"
    );
    let resume = haste(dir.path(), &["migrate", "resolve", "--resume", "1_index", "--url", url]);
    assert_eq!(resume.code, 0, "{resume:?}");
    assert_eq!(
        db.value("SELECT string_agg(indexrelid::regclass::text, ',') FROM pg_index WHERE indrelid = 't'::regclass AND NOT indisprimary").as_deref(),
        Some("t_x_idx"),
        "one index on x, not t_x_idx and t_x_idx1"
    );
    assert_eq!(columns(&db, "t"), ["id", "x", "y"]);
}

#[test]
fn a_fixed_failing_statement_is_resumed_only_with_consent_and_only_when_done_ones_are_unchanged() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let original = "-- haste:transaction off\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT 1/0;\nINSERT INTO t VALUES (2);\n";
    let dir = migrations(&[("1_a", original)]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6);
    dir.write("migrations/1_a/migration.sql", &original.replace("SELECT 1/0", "SELECT 1"));
    let refused = haste(dir.path(), &["migrate", "resolve", "--resume", "1_a", "--url", url]);
    assert_eq!(refused.code, 4, "{refused:?}");
    assert!(refused.stderr.contains("--accept-edit"), "the way out is offered: {refused:?}");

    // An edit of a statement that already ran is refused even with consent.
    dir.write(
        "migrations/1_a/migration.sql",
        &original.replace("VALUES (1)", "VALUES (10)").replace("SELECT 1/0", "SELECT 1"),
    );
    let changed =
        haste(dir.path(), &["migrate", "resolve", "--resume", "1_a", "--accept-edit", "--url", url]);
    assert_eq!(changed.code, 4, "{changed:?}");
    assert!(changed.stderr.contains("statement 2 already ran"), "{changed:?}");

    dir.write("migrations/1_a/migration.sql", &original.replace("SELECT 1/0", "SELECT 1"));
    let resumed =
        haste(dir.path(), &["migrate", "resolve", "--resume", "1_a", "--accept-edit", "--url", url]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(db.query("SELECT id FROM t ORDER BY id"), [[Some("1".to_owned())], [Some("2".to_owned())]]);
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_events WHERE event = 'edit_accepted'").as_deref(),
        Some("1")
    );
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 0, "the new checksum is the applied one: {status:?}");
}

#[test]
fn a_seed_that_steers_its_own_transactions_is_reported_as_it_ran() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    dir.write(
        "migrations/../seed.sql",
        "INSERT INTO a VALUES (1);\nCOMMIT;\nINSERT INTO a VALUES (2);\nSELECT 1/0;\nINSERT INTO a VALUES (3);\n",
    );
    let reset = haste(dir.path(), &["migrate", "reset", "--force", "--url", url]);
    assert_eq!(reset.code, 6, "{reset:?}");
    assert!(reset.stderr.contains("error: seed"), "{reset:?}");
    assert!(!reset.stderr.contains("nothing of it was applied"), "rows committed: {reset:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM a WHERE id = 3").as_deref(),
        Some("0"),
        "nothing runs after the failure"
    );

    // An ordinary seed is one transaction: a failure leaves none of it.
    dir.write("seed.sql", "INSERT INTO a VALUES (1);\nSELECT 1/0;\n");
    let reset = haste(dir.path(), &["migrate", "reset", "--force", "--url", url]);
    assert_eq!(reset.code, 6, "{reset:?}");
    assert!(reset.stderr.contains("the seed was rolled back"), "{reset:?}");
    assert_eq!(db.value("SELECT count(*) FROM a").as_deref(), Some("0"));
}

#[test]
fn an_edit_that_changes_where_the_run_resumes_is_refused() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let original =
        "-- haste:transaction off\nCREATE TABLE log (v int);\nINSERT INTO log VALUES (1);\nSELECT 1/0;\n";
    let dir = migrations(&[("1_a", original)]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6);
    // Now one transaction: resuming after 2 statements would run them again.
    dir.write(
        "migrations/1_a/migration.sql",
        "CREATE TABLE log (v int);\nINSERT INTO log VALUES (1);\nINSERT INTO log VALUES (2);\n",
    );
    let refused =
        haste(dir.path(), &["migrate", "resolve", "--resume", "1_a", "--accept-edit", "--url", url]);
    assert_eq!(refused.code, 4, "{refused:?}");
    assert!(refused.stderr.contains("does not continue where the run stopped"), "{refused:?}");
    assert_eq!(db.value("SELECT count(*) FROM log").as_deref(), Some("1"));
}

#[test]
fn an_unnamed_build_is_not_satisfied_by_another_index_on_its_table() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE t (id int PRIMARY KEY, v int, w int); INSERT INTO t VALUES (1, 1, 1), (2, 1, 2)",
    );
    let dir = migrations(&[("1_idx", "CREATE UNIQUE INDEX CONCURRENTLY ON t (v);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6, "duplicates");
    db.execute("UPDATE t SET v = 2 WHERE id = 2; CREATE INDEX t_w_idx ON t (w)");
    let resume = haste(dir.path(), &["migrate", "resolve", "--resume", "1_idx", "--url", url]);
    assert_eq!(resume.code, 0, "{resume:?}");
    assert!(db.try_execute("INSERT INTO t VALUES (3, 1, 3)").is_err(), "the unique index on v exists");
}

#[test]
fn a_build_never_drops_an_invalid_index_of_another_table() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE TABLE other (v int); INSERT INTO other VALUES (1), (1)");
    assert!(db.try_execute("CREATE UNIQUE INDEX CONCURRENTLY other_v_key ON other (v)").is_err());
    let dir = migrations(&[("1_idx", "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);")]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname = 'other_v_key'").as_deref(), Some("1"));
}

#[test]
fn a_data_step_that_commits_by_itself_is_refused_before_anything_runs() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[("1_t", "CREATE TABLE t (id int PRIMARY KEY, n int);")]);
    dir.write(
        "migrations/1_t/data.sql",
        "-- haste:data table=t key=id\nUPDATE t SET n = 1 WHERE :range;\nCOMMIT;\n",
    );
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 2, "{deploy:?}");
    assert!(deploy.stderr.contains("exactly one statement"), "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('t') IS NULL").as_deref(), Some("t"));
}

#[test]
fn a_down_file_with_its_own_transaction_that_fails_is_reported_rolled_back() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[("1_ab", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);")]);
    dir.write("migrations/1_ab/down.sql", "BEGIN;\nDROP TABLE b;\nDROP TABLE a;\nSELECT 1/0;\nCOMMIT;\n");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    let down = haste(dir.path(), &["migrate", "down", "--url", url]);
    assert_eq!(down.code, 6, "{down:?}");
    assert!(down.stderr.contains("rolled back"), "{down:?}");
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b')").as_deref(), Some("2"));
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 0, "still applied");
}

#[test]
fn session_settings_of_one_migration_never_weaken_the_next() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[
        ("1_settings", "-- haste:transaction off\nSET lock_timeout = 0;\n"),
        ("2_add", "-- haste:transaction off\nALTER TABLE t ADD COLUMN c int;\n"),
    ]);
    let holder = Session::connect(url);
    holder.execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    holder.execute("ROLLBACK");
    assert_eq!(deploy.code, 6, "the lock budget still applies: {deploy:?}");
    assert!(deploy.stderr.contains("55P03"), "{deploy:?}");
}

#[test]
fn a_migration_that_releases_the_migration_lock_is_rolled_back_not_recorded() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[(
        "1_a",
        "CREATE TABLE log (v int);\nSELECT pg_advisory_unlock_all();\nINSERT INTO log VALUES (1);",
    )]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_ne!(deploy.code, 0, "{deploy:?}");
    assert!(deploy.stderr.contains("migration lock"), "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('log') IS NULL").as_deref(), Some("t"), "rolled back");
    assert_eq!(db.value("SELECT count(*) FROM _haste_migrations").as_deref(), Some("0"));
}

#[test]
fn a_folder_name_with_a_line_break_or_a_setting_given_twice_is_refused() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[("01_a\napplied     02_forged", "CREATE TABLE a (id int);")]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 2, "{deploy:?}");
    assert!(
        deploy.stderr.contains("control character") && !deploy.stdout.contains("02_forged"),
        "{deploy:?}"
    );

    let dir = migrations(&[(
        "01_a",
        "-- haste:transaction off\n-- haste:transaction on\nCREATE TABLE a (id int);",
    )]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(deploy.code, 2, "{deploy:?}");
    assert!(deploy.stderr.contains("given twice"), "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('a') IS NULL").as_deref(), Some("t"), "nothing applied");
}

/// A database that reads backslashes in plain literals as escapes (`standard_conforming_strings`
/// off): history is written all the same. The failure record's JSON holds `\"` for every quoted
/// name of the message, and writing it failed, leaving history "interrupted" with the count of
/// statements done unsure.
#[test]
fn history_is_written_where_backslashes_in_literals_are_escapes() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let name = db.value("SELECT current_database()").unwrap();
    db.execute(&format!("ALTER DATABASE \"{name}\" SET standard_conforming_strings = off"));
    let dir = migrations(&[(
        "1_bad",
        "-- haste:transaction off\nCREATE TABLE a (id int);\nSELECT * FROM \"no such\";\n",
    )]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(!run.stderr.contains("writing that to history failed"), "{run:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", url, "--format", "json"]);
    let document = status.json_lines().last().unwrap().clone();
    let migration = &document["migrations"][0];
    assert_eq!(migration["state"], "failed", "{status:?}");
    assert_eq!(migration["statements_done"], 1, "{status:?}");
    assert_eq!(migration["last_error"]["message"], "relation \"no such\" does not exist", "{status:?}");
}
