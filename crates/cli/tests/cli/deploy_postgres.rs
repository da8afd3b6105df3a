//! `migrate deploy` and `status` on PostgreSQL: exactly once, concurrency, transaction modes.

use std::fs;

use haste_testkit::{TempDir, database};

use crate::{command, corpus, haste, migrations};

/// Objects outside the system schemas, leaving out haste's own history tables.
fn catalog_counts(db: &haste_testkit::TestDb) -> [String; 5] {
    let user_tables = "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
        AND c.relname NOT LIKE '\\_haste\\_%'";
    let count = |sql: String| db.value(&sql).unwrap();
    [
        count(format!("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND oid IN ({user_tables})")),
        count(format!("SELECT count(*) FROM pg_index WHERE indrelid IN ({user_tables})")),
        count(format!("SELECT count(*) FROM pg_constraint WHERE conrelid IN ({user_tables}) AND contype IN ('p', 'f', 'u', 'c', 'x')")),
        count(format!("SELECT count(*) FROM pg_constraint WHERE conrelid IN ({user_tables}) AND contype = 'f'")),
        count("SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname NOT IN ('pg_catalog', 'information_schema')".into()),
    ]
}

#[test]
fn deploys_the_prisma_corpus_once_and_reports_up_to_date() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else {
        return;
    };
    let work = TempDir::new("corpus");
    let dir = work.path().join("migrations");
    fs::create_dir_all(&dir).unwrap();
    for entry in fs::read_dir(corpus.join("migrations")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            fs::create_dir_all(dir.join(entry.file_name())).unwrap();
            fs::copy(entry.path().join("migration.sql"), dir.join(entry.file_name()).join("migration.sql"))
                .unwrap();
        } else {
            fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    let first = haste(work.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("Applied 3 migrations"), "{first:?}");
    assert_eq!(catalog_counts(&db), ["45", "230", "136", "91", "21"].map(String::from));

    let second = haste(work.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.stdout.contains("Nothing to apply: 3 migrations already applied"), "{second:?}");
    assert_eq!(db.value("SELECT count(*) FROM _haste_events WHERE event = 'applied'").unwrap(), "3");

    let status = haste(work.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(status.stdout.contains("up to date"), "{status:?}");
}

#[test]
fn concurrent_index_builds_apply_without_a_directive_alone_or_mixed() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        (
            "1_contacts",
            "CREATE TABLE contacts (id bigint PRIMARY KEY, email text, workspace_id bigint);\nINSERT INTO contacts SELECT g, 'c' || g, g % 7 FROM generate_series(1, 1000) g;",
        ),
        ("2_email_index", "CREATE INDEX CONCURRENTLY contacts_email_idx ON contacts (email);"),
        (
            "3_mixed",
            "ALTER TABLE contacts ADD COLUMN score integer;\nCREATE TABLE deals (id bigint PRIMARY KEY, contact_id bigint);\nCREATE UNIQUE INDEX CONCURRENTLY deals_contact_key ON deals (contact_id);\nCREATE INDEX CONCURRENTLY contacts_workspace_idx ON contacts (workspace_id);\nCOMMENT ON TABLE deals IS 'deals; with a semicolon';",
        ),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let modes: Vec<(String, String)> = run
        .json_lines()
        .iter()
        .filter(|event| event["event"] == "migration_applied")
        .map(|event| (event["name"].as_str().unwrap().to_owned(), event["mode"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        modes,
        [("1_contacts", "transaction"), ("2_email_index", "stepwise"), ("3_mixed", "stepwise")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let valid = db.value(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname IN ('contacts_email_idx', 'deals_contact_key', 'contacts_workspace_idx') AND i.indisvalid",
    );
    assert_eq!(valid.as_deref(), Some("3"));
    assert_eq!(
        db.value("SELECT obj_description('deals'::regclass)").as_deref(),
        Some("deals; with a semicolon")
    );
    let progress = db.query("SELECT status, statements_done, statements_total, transactional FROM _haste_migrations WHERE name = '3_mixed'");
    assert_eq!(progress[0], ["applied", "5", "5", "f"].map(|v| Some(v.to_owned())));
}

#[test]
fn eight_concurrent_deploys_apply_every_migration_exactly_once() {
    let Some(db) = database() else { return };
    let mut files: Vec<(String, String)> = (1..=12)
        .map(|i| {
            (
                format!("{i:03}_table_{i}"),
                format!("CREATE TABLE t{i} (id int PRIMARY KEY, v text);\nINSERT INTO t{i} VALUES (1, 'x');"),
            )
        })
        .collect();
    files.push(("013_index".into(), "CREATE INDEX CONCURRENTLY t1_v_idx ON t1 (v);".into()));
    files.push(("014_after".into(), "ALTER TABLE t1 ADD COLUMN w int;".into()));
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let dir = migrations(&files);
    let children: Vec<_> = (0..8)
        .map(|_| {
            command(dir.path(), &["migrate", "deploy", "--url", &db.url, "--lock-wait", "60s"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations WHERE status = 'applied'").as_deref(),
        Some("14")
    );
    assert_eq!(
        db.value("SELECT count(*) FROM (SELECT name FROM _haste_events WHERE event = 'applied' GROUP BY name HAVING count(*) = 1) once").as_deref(),
        Some("14")
    );
    assert_eq!(db.value("SELECT count(*) FROM t1").as_deref(), Some("1"));
    assert_eq!(
        db.value(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't1' AND column_name = 'w'"
        )
        .as_deref(),
        Some("1")
    );
}

#[test]
fn a_file_that_manages_its_own_transaction_runs_as_written() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        ("1_own_tx", "BEGIN;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCOMMIT;\n"),
        (
            "2_two_tx",
            "BEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\nBEGIN;\nINSERT INTO b VALUES (2);\nCOMMIT;\n",
        ),
        (
            "3_broken_tx",
            "BEGIN;\nCREATE TABLE c (id int);\nINSERT INTO c VALUES ('not a number');\nCOMMIT;\n",
        ),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stdout.contains("history commits inside it"), "{run:?}");
    assert!(run.stdout.contains("history recorded after each"), "{run:?}");
    assert!(run.stderr.contains("22P02"), "{run:?}");
    assert_eq!(db.value("SELECT count(*) FROM a").as_deref(), Some("1"));
    assert_eq!(db.value("SELECT count(*) FROM b").as_deref(), Some("1"));
    // The failed file's own transaction rolled back, and with it any trace in history.
    assert_eq!(db.value("SELECT to_regclass('c') IS NULL").as_deref(), Some("t"));
    let names: Vec<_> = db
        .query("SELECT name FROM _haste_migrations ORDER BY name")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(names, ["1_own_tx", "2_two_tx"]);
}

#[test]
fn a_lock_timeout_is_retried_until_the_blocker_lets_go() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE busy (id int)");
    let dir = migrations(&[("1_alter", "ALTER TABLE busy ADD COLUMN v int;")]);
    // Another session holds a conflicting lock for about a second.
    let url = db.url.clone();
    let blocker = std::thread::spawn(move || {
        haste_testkit::execute(
            &url,
            "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.2); COMMIT;",
        )
    });
    assert!(haste_testkit::wait_until(std::time::Duration::from_secs(5), || {
        db.value("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'busy' AND l.mode = 'AccessExclusiveLock'").as_deref() == Some("1")
    }));
    let run = haste(
        dir.path(),
        &["migrate", "deploy", "--url", &db.url, "--lock-timeout", "200ms", "--retries", "10"],
    );
    blocker.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("55P03"), "a retry is reported: {run:?}");
    assert_eq!(
        db.value(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy' AND column_name = 'v'"
        )
        .as_deref(),
        Some("1")
    );
}

/// A migration's session-level settings end with it: the next one of the same deploy runs in
/// the session as haste opened it, as it would in a deploy of its own (a `search_path` set as
/// `pg_dump` writes it put the next migration's table in another schema, and
/// `session_replication_role = replica` let it break a foreign key).
#[test]
fn session_settings_of_a_migration_do_not_reach_the_next() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        (
            "1_settings",
            "CREATE SCHEMA s2;\nCREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int REFERENCES p);\n\
             SELECT pg_catalog.set_config('search_path', 's2, public', false);\n\
             SET session_replication_role = replica;\nSET ROLE NONE;\n",
        ),
        ("2_next", "CREATE TABLE x (id int);\nINSERT INTO c VALUES (42);\n"),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "the foreign key holds: {run:?}");
    assert!(run.stderr.contains("23503"), "{run:?}");
    assert_eq!(db.value("SELECT count(*) FROM c").as_deref(), Some("0"));
    assert_eq!(db.value("SELECT to_regclass('s2.x') IS NULL").as_deref(), Some("t"), "x is not in s2");
}

/// A migration's session objects end with it too: a temporary table named as a real one
/// took the next migration's insert (lost at disconnect), and a prepared statement or a cursor
/// held past its transaction made the next migration that declares the same name fail, only
/// when both were deployed together.
#[test]
fn session_objects_of_a_migration_do_not_reach_the_next() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        (
            "1_scratch",
            "CREATE TABLE settings (k text, v text);\nCREATE TEMP TABLE settings AS SELECT 'scratch'::text AS k, 'x'::text AS v;\n\
             PREPARE p AS SELECT 1;\nDECLARE c CURSOR WITH HOLD FOR SELECT 1;\n",
        ),
        (
            "2_next",
            "INSERT INTO settings VALUES ('feature_flag', 'on');\nPREPARE p AS SELECT 2;\nDECLARE c CURSOR WITH HOLD FOR SELECT 2;\n",
        ),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT string_agg(k || '=' || v, ',') FROM public.settings").as_deref(),
        Some("feature_flag=on")
    );
}

/// A migration that creates objects as another role (`SET ROLE`, the deploy role a member of
/// it) has its history written as the role that connected, and its later statements still run
/// as the role it chose: the history write failed with 42501 and the migration could never be
/// applied, in haste's transaction, in the file's own, and statement by statement.
#[test]
fn a_migration_that_sets_a_role_is_recorded_and_keeps_it() {
    let Some(db) = database() else { return };
    let (deployer, owner) = (format!("deployer_{}", db.name), format!("owner_{}", db.name));
    db.execute(&format!(
        "CREATE ROLE \"{owner}\"; CREATE ROLE \"{deployer}\" LOGIN; GRANT \"{owner}\" TO \"{deployer}\"; \
         GRANT ALL ON SCHEMA public TO \"{deployer}\", \"{owner}\""
    ));
    let url = db.url.replacen("postgres@", &format!("{deployer}@"), 1);
    let set_role = format!("SET ROLE \"{owner}\";");
    let dir = migrations(&[
        ("1_haste_transaction", &format!("{set_role}\nCREATE TABLE a (id int);\n")),
        (
            "2_own_transaction",
            &format!(
                "BEGIN;\n{set_role}\nCREATE TABLE b (id int);\nCOMMIT AND CHAIN;\nCREATE TABLE c (id int);\nCOMMIT;\n"
            ),
        ),
        (
            "3_alone",
            &format!(
                "{set_role}\nCREATE TABLE d (id int);\nCREATE INDEX CONCURRENTLY d_id ON d (id);\nCREATE TABLE e (id int);\n"
            ),
        ),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT string_agg(tablename || ' ' || tableowner, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('a', 'b', 'c', 'd', 'e')"),
        Some(["a", "b", "c", "d", "e"].map(|table| format!("{table} {owner}")).join(","))
    );
    assert_eq!(
        db.value("SELECT string_agg(status, ',') FROM _haste_migrations").as_deref(),
        Some("applied,applied,applied")
    );
}

/// `-- haste:transaction off` on a file with its own `BEGIN ... COMMIT` keeps the block whole:
/// each statement ran alone with its history row committed after it, and that `COMMIT` ended the
/// file's open block piecemeal (two inserts of a failed block stayed). A file that opens a
/// transaction and never ends it is refused before anything runs (its work would be rolled back
/// at disconnect while history said statements were done).
#[test]
fn a_files_own_transaction_is_kept_whole_and_one_never_ended_is_refused() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE log (n int); CREATE TABLE chk (n int CHECK (n > 0))");
    let dir = migrations(&[(
        "1_block",
        "-- haste:transaction off\nBEGIN;\nINSERT INTO log VALUES (1);\nINSERT INTO log VALUES (2);\nINSERT INTO chk VALUES (-1);\nCOMMIT;\n",
    )]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("23514"), "{run:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM log").as_deref(),
        Some("0"),
        "the block rolled back whole: {run:?}"
    );

    let db = database().unwrap();
    db.execute("CREATE TABLE log (n int)");
    let dir = migrations(&[("1_open", "INSERT INTO log VALUES (0);\nBEGIN;\nINSERT INTO log VALUES (1);\n")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.json_lines().last().unwrap()["error"]["code"], "UNTERMINATED_TRANSACTION", "{run:?}");
    assert_eq!(db.value("SELECT count(*) FROM log").as_deref(), Some("0"), "nothing ran");
}

/// A read-only block of the file's own (a check that changes nothing) applies: its history row
/// was written inside it, which PostgreSQL refused (25006), so such a file could never apply.
#[test]
fn a_read_only_block_of_the_file_applies() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE t (n int)");
    let dir = migrations(&[
        ("1_check", "BEGIN READ ONLY;\nSELECT count(*) FROM t;\nCOMMIT;\nINSERT INTO t VALUES (1);\n"),
        (
            "2_chained",
            "BEGIN;\nSET TRANSACTION READ ONLY;\nSELECT count(*) FROM t;\nCOMMIT AND CHAIN;\nSELECT 1;\nCOMMIT;\nINSERT INTO t VALUES (2);\n",
        ),
        ("3_only", "BEGIN READ ONLY;\nSELECT count(*) FROM t;\nCOMMIT;\n"),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(db.value("SELECT string_agg(n::text, ',' ORDER BY n) FROM t").as_deref(), Some("1,2"));
    assert_eq!(
        db.value(
            "SELECT string_agg(status || ' ' || statements_done, ',' ORDER BY name) FROM _haste_migrations"
        )
        .as_deref(),
        Some("applied 4,applied 7,applied 3")
    );

    // A block that writes and only then makes itself read only is no read-only block: its
    // history row cannot join it, so it fails whole (25006), never committed without its record
    // (a history write blocked after it committed retried it, its insert landing four times).
    let db = database().unwrap();
    db.execute("CREATE TABLE payments (n int)");
    let dir = migrations(&[(
        "1_late",
        "BEGIN;\nINSERT INTO payments VALUES (1);\nSET TRANSACTION READ ONLY;\nCOMMIT;\nSELECT 2;\n",
    )]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("25006"), "{run:?}");
    assert_eq!(db.value("SELECT count(*) FROM payments").as_deref(), Some("0"), "{run:?}");

    // A migration that makes the session's default read only does not stop haste's own
    // history writes (every later step's record failed with 25006, and every resume).
    let db = database().unwrap();
    db.execute("CREATE TABLE t (n int)");
    let dir = migrations(&[(
        "1_default",
        "-- haste:transaction off\nSET default_transaction_read_only = on;\nSELECT count(*) FROM t;\n",
    )]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(db.value("SELECT status FROM _haste_migrations").as_deref(), Some("applied"));
}

/// A least-privilege deploy role, which may create in the schema it deploys to but not in the
/// database (PostgreSQL's default for a role that does not own it), deploys: the history
/// schema is created only when it is missing (`CREATE SCHEMA IF NOT EXISTS public` needs the
/// database's CREATE privilege even when the schema exists, and stopped it with exit 1).
#[test]
fn a_role_that_may_only_create_in_its_schema_deploys() {
    let Some(db) = database() else { return };
    let role = format!("schema_only_{}", db.name);
    db.execute(&format!("CREATE ROLE \"{role}\" LOGIN; GRANT ALL ON SCHEMA public TO \"{role}\""));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let dir = migrations(&[("1_t", "CREATE TABLE t (id int);")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT tableowner FROM pg_tables WHERE tablename = '_haste_migrations'"),
        Some(role)
    );
}
