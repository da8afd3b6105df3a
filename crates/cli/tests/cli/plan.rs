//! `migrate plan`: the impact of each pending statement, measured on a real server before
//! anything runs, without ever making the application wait behind a probe.

use std::time::Duration;

use haste_testkit::{Session, database};
use serde_json::Value;

use crate::budget::hold_lock;
use crate::{Run, haste, migrations};

/// The statements of the first pending migration in a JSON plan.
fn statements(run: &Run) -> Vec<Value> {
    run.json_lines()[0]["migrations"][0]["statements"].as_array().cloned().unwrap_or_default()
}

/// A session of application `report` that runs `sql` and keeps its transaction open until
/// dropped.
fn report_session(url: &str, sql: &str) -> Session {
    let session = Session::connect(&format!("{url}?application_name=report"));
    session.execute(sql);
    // Older than one attempt of the default lock budget (100 ms): a blocker, not passing load.
    std::thread::sleep(Duration::from_millis(200));
    session
}

#[test]
fn a_probe_that_would_wait_for_a_lock_gives_up_and_says_unmeasured() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN note text;")]);
    // Reading the table's size needs ACCESS SHARE, which waits behind this holder and would
    // make every later request of the application queue behind the probe.
    let holder = hold_lock(url, "ACCESS EXCLUSIVE", Duration::from_secs(10));
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let text = haste(dir.path(), &["migrate", "plan", "--url", url]);
    let still_held = db.value(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.mode = 'AccessExclusiveLock' AND l.granted AND a.application_name = 'report' AND a.datname = current_database()",
    );
    holder.join().unwrap();
    assert_eq!(still_held.as_deref(), Some("1"), "the plans ended while the lock was held: {plan:?}");
    assert_eq!(plan.code, 17, "{plan:?}");
    assert_eq!(plan.json_lines()[0]["ok"], false, "{plan:?}");
    let statement = &statements(&plan)[0];
    let unmeasured = statement["unmeasured"].as_array().unwrap();
    assert_eq!(unmeasured[0]["figure"], "size", "{plan:?}");
    assert!(unmeasured[0]["reason"].as_str().unwrap().contains("lock timeout"), "{plan:?}");
    assert_eq!(statement["tables"], serde_json::json!([]), "no size is guessed: {plan:?}");
    assert_eq!(statement["safe_now"], false, "{plan:?}");
    assert_eq!(text.code, 17, "{text:?}");
    assert!(text.stdout.contains("unmeasured: size of"), "{text:?}");
}

#[test]
fn a_probe_that_runs_long_is_cut_by_its_statement_timeout_and_says_unmeasured() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    // Sampling the scan rate reads rows of the relation the statement names: these take 30 s
    // each, so only the probes' statement timeout ends the plan.
    db.execute("CREATE VIEW slow AS SELECT x FROM generate_series(1, 3) x WHERE pg_sleep(30) IS NOT NULL");
    let dir = migrations(&[("1_index", "CREATE INDEX CONCURRENTLY slow_x_idx ON slow (x);")]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 17, "{plan:?}");
    let statement = &statements(&plan)[0];
    let unmeasured = statement["unmeasured"].as_array().unwrap();
    let estimate = unmeasured.iter().find(|figure| figure["figure"] == "estimate");
    let reason = estimate.and_then(|figure| figure["reason"].as_str()).unwrap_or_default();
    assert!(reason.contains("statement timeout"), "{plan:?}");
    assert!(statement["estimate_ms"].is_null() && statement["safe_now"] == false, "{plan:?}");
    assert!(
        db.value(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FROM slow%' AND pid <> pg_backend_pid() AND datname = current_database()"
        )
        .is_some_and(|count| count == "0"),
        "no probe is left running"
    );
}

#[test]
fn the_report_shows_what_migrate_plan_says_lint_waits_and_unmeasured_figures() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g; \
         CREATE TABLE u (id int); CREATE TABLE other (x int)",
    );
    let dir = migrations(&[(
        "1_change",
        "CREATE INDEX plain_idx ON t (id);\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nALTER TABLE u ADD COLUMN note text;",
    )]);
    // A session holding a snapshot (the concurrent build would wait for it) and u's lock (the
    // size probe of u would wait for it, so it gives up).
    let session = report_session(
        url,
        "SET lock_timeout = '5s'; SET statement_timeout = '20s'; SET idle_in_transaction_session_timeout = '60s'; \
         BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM other; LOCK TABLE u IN ACCESS EXCLUSIVE MODE",
    );
    let pid = session.query("SELECT pg_backend_pid()")[0][0].clone().unwrap();
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let out = dir.path().join("out");
    let report = haste(dir.path(), &["report", "--url", url, "--plan", "--out", out.to_str().unwrap()]);
    session.execute("ROLLBACK");
    let statements = statements(&plan);
    assert_eq!(statements[0]["lint"][0]["rule"], "index-create-not-concurrent", "{plan:?}");
    assert_eq!(statements[1]["waits_for"][0]["pid"].to_string(), pid, "{plan:?}");
    assert_eq!(statements[2]["unmeasured"][0]["figure"], "size", "{plan:?}");
    assert_eq!(report.code, 0, "{report:?}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for said in [
        "lint error</b> index-create-not-concurrent (line 1)".to_owned(),
        format!("waits for pid {pid} (report, idle in transaction, transaction since "),
        format!("blocked by pid {pid} (report, "),
        "unmeasured: size of &quot;u&quot; (canceling statement due to lock timeout)".to_owned(),
    ] {
        let notes: Vec<&str> =
            html.split("<small>").skip(1).map(|note| note.split("</small>").next().unwrap()).collect();
        assert!(html.contains(&said), "the report says {said:?} as migrate plan does: {notes:?}");
    }
}

#[test]
fn a_partitioned_table_is_measured_and_guarded_through_its_partitions() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE p (id int, v int) PARTITION BY RANGE (id);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (5000);
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (5000) TO (10000) PARTITION BY RANGE (id);
         CREATE TABLE p2a PARTITION OF p2 FOR VALUES FROM (5000) TO (10000);
         INSERT INTO p SELECT g, g FROM generate_series(0, 9999) g;
         ANALYZE p1, p2a",
    );
    let dir = migrations(&[("1_add", "ALTER TABLE p ADD COLUMN w int;")]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let table = &statements(&plan)[0]["tables"][0];
    assert_eq!(table["rows"], 10000, "the partitions' rows: {plan:?}");
    assert_eq!(table["partitions"], 3, "{plan:?}");
    assert!(table["bytes"].as_u64().is_some_and(|bytes| bytes > 8192 * 2), "{plan:?}");

    // A reader of one partition holds ACCESS SHARE on it alone, which the ACCESS EXCLUSIVE
    // the parent's ALTER takes on every partition waits for.
    let reader = report_session(url, "BEGIN; SELECT count(*) FROM p1");
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    drop(reader);
    assert_eq!(plan.code, 17, "{plan:?}");
    let statement = &statements(&plan)[0];
    let blocker = &statement["blockers"][0];
    assert_eq!(blocker["application_name"], "report", "{plan:?}");
    assert_eq!(blocker["state"], "idle in transaction", "{plan:?}");
    assert!(blocker["pid"].as_i64().is_some_and(|pid| pid > 0) && blocker["since"].is_string(), "{plan:?}");
    assert!(!plan.stdout.contains("count(*)"), "never another session's query: {plan:?}");
}

#[test]
fn a_concurrent_build_lists_whom_it_waits_for_and_only_conflicting_locks_block_it() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g");
    let dir = migrations(&[("1_index", "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);")]);
    // A reader with a snapshot: the build would wait for it to end, holding only a lock the
    // application never waits for. Its ACCESS SHARE does not conflict with the build's lock.
    let reader = report_session(url, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t");
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let text = haste(dir.path(), &["migrate", "plan", "--url", url]);
    drop(reader);
    assert_eq!(plan.code, 0, "waiting for a reader is safe: {plan:?}");
    let statement = &statements(&plan)[0];
    assert_eq!(statement["blockers"], serde_json::json!([]), "{plan:?}");
    assert_eq!(statement["waits_for"][0]["application_name"], "report", "{plan:?}");
    assert_eq!(statement["waits_for"][0]["state"], "idle in transaction", "{plan:?}");
    assert!(text.stdout.contains("this wait does not block the application"), "{text:?}");

    // A session holding SHARE UPDATE EXCLUSIVE (another build, a manual VACUUM) blocks it.
    let holder = hold_lock(url, "SHARE UPDATE EXCLUSIVE", Duration::from_secs(3));
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(plan.code, 17, "{plan:?}");
    assert_eq!(statements(&plan)[0]["blockers"][0]["application_name"], "report", "{plan:?}");
}

#[test]
fn lint_findings_sit_beside_their_statements_and_an_error_is_never_safe_now() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[("0_init", "CREATE TABLE t (id int, a int);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    // An empty table: the rewrite would be instant, only lint says it is not safe.
    dir.write(
        "migrations/1_retype/migration.sql",
        "ALTER TABLE t ADD COLUMN note text;\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n",
    );
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 17, "{plan:?}");
    let listed = statements(&plan);
    let severities = |statement: &Value| -> Vec<String> {
        statement["lint"].as_array().unwrap().iter().map(|note| note["severity"].to_string()).collect()
    };
    assert!(!severities(&listed[0]).contains(&"\"error\"".to_owned()), "a warning at most: {plan:?}");
    assert_eq!(listed[0]["safe_now"], true, "{plan:?}");
    let note = &listed[1]["lint"][0];
    assert_eq!(note["rule"], "column-type-rewrite", "{plan:?}");
    assert_eq!(note["severity"], "error", "{plan:?}");
    assert_eq!(note["line"], 2, "{plan:?}");
    assert!(note["message"].is_string(), "{plan:?}");
    assert_eq!(listed[1]["safe_now"], false, "{plan:?}");
    let text = haste(dir.path(), &["migrate", "plan", "--url", url]);
    assert!(text.stdout.contains("lint error column-type-rewrite (line 2)"), "{text:?}");

    // A file PostgreSQL's grammar refuses runs not at all.
    dir.write(
        "migrations/1_retype/migration.sql",
        "ALTER TABLE t ADD COLUMN note text;\nALTER TABLE t ADD COLUMNN x int;\n",
    );
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 17, "{plan:?}");
    let listed = statements(&plan);
    assert_eq!(listed[1]["lint"][0]["rule"], "syntax-error", "{plan:?}");
    assert_eq!(listed[1]["safe_now"], false, "{plan:?}");
}

/// Tables a statement locks without reading or writing them: a new partition's parent, and the
/// table a foreign key references (h-adv P1, P2: both were "safe now" while the statement would
/// have waited).
#[test]
fn a_new_partitions_parent_and_a_referenced_table_are_guarded_too() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE parted (id int) PARTITION BY LIST (id);
         CREATE TABLE parted1 PARTITION OF parted FOR VALUES IN (1);
         CREATE TABLE par (id int PRIMARY KEY); CREATE TABLE ch (id int, pid int)",
    );
    let cases = [
        ("CREATE TABLE parted4 PARTITION OF parted FOR VALUES IN (4);", "BEGIN; SELECT count(*) FROM parted"),
        (
            "ALTER TABLE ch ADD CONSTRAINT ch_pid_fkey FOREIGN KEY (pid) REFERENCES par (id) NOT VALID;",
            "BEGIN; INSERT INTO par VALUES (1)",
        ),
    ];
    for (statement, holder) in cases {
        let dir = migrations(&[("1_change", statement)]);
        let quiet = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
        assert_eq!(statements(&quiet)[0]["safe_now"], true, "{statement}: {quiet:?}");
        let session = report_session(url, holder);
        let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
        drop(session);
        let planned = &statements(&plan)[0];
        assert_eq!(planned["safe_now"], false, "{statement}: {plan:?}");
        assert_eq!(planned["blockers"][0]["application_name"], "report", "{statement}: {plan:?}");
    }
}

/// Tables the parser's own list leaves out: a renamed table or column, a policy's table, and
/// the table `ATTACH PARTITION` scans under its lock (h-adv13 P6, P7: each was "safe now"
/// while a reader held the table, and the deploy then waited for it).
#[test]
fn renamed_policy_and_attached_tables_are_measured_and_guarded() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE parent (id int PRIMARY KEY, v int); INSERT INTO parent SELECT g, g FROM generate_series(1, 1000) g;
         CREATE TABLE parted (id int, k int) PARTITION BY RANGE (k);
         CREATE TABLE p1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
         CREATE TABLE p2 (id int, k int); INSERT INTO p2 SELECT g, 100 + g % 100 FROM generate_series(1, 5000) g;
         CREATE TABLE child (id int PRIMARY KEY, pid int CONSTRAINT child_pid_fkey REFERENCES parent (id));
         ANALYZE parent, p2",
    );
    let cases = [
        (
            "-- haste:allow-file rename-column reason=\"test\"\nALTER TABLE parent RENAME COLUMN v TO w;",
            "parent",
            "\"parent\"",
        ),
        (
            "-- haste:allow-file rename-table reason=\"test\"\nALTER TABLE parent RENAME TO parent2;",
            "parent",
            "\"parent\"",
        ),
        ("CREATE POLICY p ON parent USING (v > 0);", "parent", "\"parent\""),
        ("ALTER TABLE parted ATTACH PARTITION p2 FOR VALUES FROM (100) TO (200);", "p2", "\"p2\""),
        // The table a dropped foreign key references is locked too: the catalog names it.
        ("ALTER TABLE child DROP CONSTRAINT child_pid_fkey;", "parent", "\"public\".\"parent\""),
    ];
    for (statement, held, table) in cases {
        let dir = migrations(&[("1_change", statement)]);
        let reader = report_session(url, &format!("BEGIN; SELECT count(*) FROM {held}"));
        let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
        drop(reader);
        let planned = &statements(&plan)[0];
        let size = planned["tables"].as_array().unwrap().iter().find(|size| size["name"] == table).cloned();
        assert!(size.is_some_and(|size| size["rows"].as_u64() > Some(0)), "{statement}: {plan:?}");
        assert_eq!(planned["safe_now"], false, "{statement}: {plan:?}");
        assert_eq!(planned["blockers"][0]["application_name"], "report", "{statement}: {plan:?}");
        assert_eq!(plan.code, 17, "{statement}: {plan:?}");
    }
}

/// `migrate plan` and `deploy --dry-run` make deploy's own checks and refuse as it refuses
/// (h-adv13 P5: both said "Safe to deploy now." where deploy refused).
#[test]
fn plan_and_dry_run_refuse_where_deploy_refuses_with_its_code() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (a int); CREATE TABLE u (b int)");
    let dir = migrations(&[("1_a", "ALTER TABLE t ADD COLUMN x int;")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    dir.write(
        "migrations/1_a/migration.sql",
        "ALTER TABLE t ADD COLUMN x int;\nALTER TABLE t ADD COLUMN y int;\n",
    );
    dir.write("migrations/2_b/migration.sql", "ALTER TABLE u ADD COLUMN c int;\n");
    let same_as_deploy = |code: &str, exit: i32| {
        let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
        assert_eq!(deploy.code, exit, "{deploy:?}");
        for command in [&["migrate", "plan"][..], &["migrate", "deploy", "--dry-run"]] {
            let args = [command, &["--url", url, "--format", "json"]].concat();
            let run = haste(dir.path(), &args);
            assert_eq!(run.code, exit, "{command:?}: {run:?}");
            let document = &run.json_lines()[0];
            assert_eq!(document["error"]["code"], code, "{command:?}: {run:?}");
            let refusal = deploy.json_lines().into_iter().find(|line| line["error"]["code"].is_string());
            assert_eq!(document["error"]["message"], refusal.unwrap()["error"]["message"], "{run:?}");
            let text = haste(dir.path(), &[command, &["--url", url]].concat());
            assert!(!text.stdout.contains("Safe to deploy now"), "{command:?}: {text:?}");
        }
    };
    same_as_deploy("CHECKSUM_MISMATCH", 4);
    std::fs::remove_dir_all(dir.path().join("migrations/1_a")).unwrap();
    same_as_deploy("MISSING_APPLIED", 4);

    let db = database().unwrap();
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (a int); CREATE TABLE u (b int)");
    let dir = migrations(&[
        ("1_a", "-- haste:transaction off\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nSELECT 1/0;\n"),
        ("2_b", "ALTER TABLE u ADD COLUMN c int;"),
    ]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    assert_eq!(deploy.code, 7, "{deploy:?}");
    for command in [&["migrate", "plan"][..], &["migrate", "deploy", "--dry-run"]] {
        let run = haste(dir.path(), &[command, &["--url", url, "--format", "json"]].concat());
        assert_eq!(run.code, 7, "{command:?}: {run:?}");
        assert_eq!(run.json_lines()[0]["error"]["code"], "BLOCKED_BY_FAILED", "{run:?}");
    }
}

/// A writer in the middle of a short transaction is load the statement queues behind within one
/// attempt of the lock budget, not a blocker; once its transaction is older than an attempt it
/// is one (h-adv13 P8: under ordinary write load plan was never safe).
#[test]
fn a_transaction_younger_than_one_lock_timeout_attempt_is_load_not_a_blocker() {
    let Some(db) = database() else { return };
    let url = db.url.clone();
    db.execute("CREATE TABLE t (id int, v int); INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN w int;")]);
    let writer_url = url.clone();
    // An active writer: its transaction holds ROW EXCLUSIVE on t while its statement runs.
    let writer = std::thread::spawn(move || {
        let session = Session::connect(&format!("{writer_url}?application_name=report"));
        session.execute(
            "SET statement_timeout = '20s'; BEGIN; UPDATE t SET v = v + 1 WHERE id = 1; SELECT pg_sleep(3); COMMIT",
        );
    });
    let active = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'report' \
                  AND state = 'active' AND datname = current_database() AND xact_start IS NOT NULL";
    while db.value(active).as_deref() != Some("1") {
        std::thread::sleep(Duration::from_millis(20));
    }
    // An attempt of a minute: the writer's transaction, seconds old at most, is younger.
    let patient =
        haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json", "--lock-timeout", "60s"]);
    let text = haste(dir.path(), &["migrate", "plan", "--url", &url, "--lock-timeout", "60s"]);
    // The default attempt (100 ms): once the writer's transaction is older, it is a blocker.
    let older = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'report' AND state = 'active' \
                 AND datname = current_database() AND clock_timestamp() - xact_start > interval '300 ms'";
    while db.value(older).as_deref() != Some("1") {
        std::thread::sleep(Duration::from_millis(20));
    }
    let strict = haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json"]);
    writer.join().unwrap();
    assert_eq!(patient.code, 0, "{patient:?}");
    let statement = &statements(&patient)[0];
    assert_eq!(statement["blockers"], serde_json::json!([]), "{patient:?}");
    assert_eq!(statement["load"][0]["application_name"], "report", "{patient:?}");
    assert!(statement["load"][0]["transaction_ms"].is_u64(), "{patient:?}");
    assert!(
        text.stdout.contains("load, not a blocker") && text.stdout.contains("Safe to deploy now"),
        "{text:?}"
    );
    assert_eq!(strict.code, 17, "{strict:?}");
    let statement = &statements(&strict)[0];
    assert_eq!(statement["blockers"][0]["application_name"], "report", "{strict:?}");
    assert_eq!(statement["load"], serde_json::json!([]), "{strict:?}");

    // A client between two statements of its transaction: idle in it, and as young, it is load
    // too (h-adv13 P8 again: under pgbench, sessions idle in transactions a few milliseconds old
    // were blockers); older than an attempt, a blocker.
    let between = Session::connect(&format!("{url}?application_name=between"));
    between.execute(
        "SET idle_in_transaction_session_timeout = '20s'; BEGIN; UPDATE t SET v = v + 1 WHERE id = 2",
    );
    let patient =
        haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json", "--lock-timeout", "60s"]);
    std::thread::sleep(Duration::from_millis(300));
    let strict = haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json"]);
    between.execute("ROLLBACK");
    assert_eq!(patient.code, 0, "{patient:?}");
    let statement = &statements(&patient)[0];
    assert_eq!(statement["load"][0]["state"], "idle in transaction", "{patient:?}");
    assert_eq!(strict.code, 17, "{strict:?}");
    assert_eq!(statements(&strict)[0]["blockers"][0]["application_name"], "between", "{strict:?}");
}

/// A rewrite builds each of the table's indexes anew under its lock: the estimate counts each
/// build (h-adv13 E2: 5 indexes, "about 82 ms" for a lock held over 1 s).
#[test]
fn a_rewrite_estimate_counts_the_build_of_each_index() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE t (id int PRIMARY KEY, n int, a text, c int);
         INSERT INTO t SELECT g, g, md5(g::text), g FROM generate_series(1, 20000) g;
         CREATE INDEX ON t (a); CREATE INDEX ON t (c); CREATE INDEX ON t (n); ANALYZE t",
    );
    let dir = migrations(&[(
        "1_retype",
        "-- haste:allow-file column-type-rewrite reason=\"the estimate\"\nALTER TABLE t ALTER COLUMN n TYPE bigint;",
    )]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let text = haste(dir.path(), &["migrate", "plan", "--url", url]);
    let statement = &statements(&plan)[0];
    let table = &statement["tables"][0];
    assert_eq!(table["indexes"], 4, "{plan:?}");
    let rows = table["rows"].as_u64().unwrap();
    let rate = plan.json_lines()[0]["scan_rows_per_second"].as_u64().unwrap();
    // Writing the table (4 scans' work) and building 4 indexes (2 each).
    let expected = (rows as f64 * (4.0 + 2.0 * 4.0) * 1000.0 / rate as f64) as u64;
    assert_eq!(statement["estimate_ms"].as_u64(), Some(expected), "{plan:?}");
    assert!(text.stdout.contains("rewrite work, with its 4 indexes built anew, about "), "{text:?}");
}

/// A pending `data.sql` is part of the plan: the table it walks, its size and batches (h-adv13
/// P4: plan said nothing of it, text or JSON).
#[test]
fn a_pending_data_step_is_listed_with_its_table_and_batches() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE contacts (id int PRIMARY KEY, score int);
         INSERT INTO contacts SELECT g, NULL FROM generate_series(1, 10000) g; ANALYZE contacts",
    );
    let dir = migrations(&[("1_fill", "ALTER TABLE contacts ADD COLUMN note text;")]);
    dir.write(
        "migrations/1_fill/data.sql",
        "-- haste:data table=contacts key=id batch=1000\nUPDATE contacts SET score = id * 2 WHERE :range AND score IS NULL;\n",
    );
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let text = haste(dir.path(), &["migrate", "plan", "--url", url]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let data = &plan.json_lines()[0]["migrations"][0]["data"];
    assert_eq!(data["table"], "\"contacts\"", "{plan:?}");
    assert_eq!(data["key"], "id", "{plan:?}");
    assert_eq!(data["size"]["rows"], 10000, "{plan:?}");
    assert_eq!(data["batch_size"], 1000, "{plan:?}");
    assert_eq!(data["batches"], 10, "{plan:?}");
    assert_eq!(data["lock_timeout_ms"], 100, "{plan:?}");
    assert!(data["file"].as_str().is_some_and(|file| file.ends_with("data.sql")), "{plan:?}");
    assert!(
        text.stdout.contains("data step") && text.stdout.contains("\"contacts\": 10000 rows"),
        "{text:?}"
    );
    assert!(text.stdout.contains("in batches of 1000 rows, about 10 batches"), "{text:?}");
}

/// A data step whose header names a key column (or table) that is not there, nor created by its
/// migration, is refused before anything of the migration runs, by plan and deploy alike,
/// naming data.sql (h-adv13 D3: deploy applied migration.sql, then failed with exit 1).
#[test]
fn a_data_header_naming_a_missing_column_or_table_is_refused_before_anything_runs() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (k int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)");
    let dir = migrations(&[("1_a", "ALTER TABLE t ADD COLUMN w int;")]);
    for header in ["-- haste:data table=t key=kk", "-- haste:data table=nosuch key=k"] {
        dir.write("migrations/1_a/data.sql", &format!("{header}\nUPDATE t SET v = 1 WHERE :range;\n"));
        for command in [&["migrate", "plan"][..], &["migrate", "deploy"]] {
            let run = haste(dir.path(), &[command, &["--url", url, "--format", "json"]].concat());
            assert_eq!(run.code, 4, "{header} {command:?}: {run:?}");
            let error = &run.json_lines().into_iter().find(|line| line["error"]["code"].is_string()).unwrap()
                ["error"];
            assert_eq!(error["code"], "DATA_HEADER", "{run:?}");
            assert!(error["file"].as_str().is_some_and(|file| file.ends_with("data.sql")), "{run:?}");
            assert_eq!(error["line"], 1, "{run:?}");
        }
        let text = haste(dir.path(), &["migrate", "deploy", "--url", url]);
        assert!(text.stderr.contains("data.sql:1"), "{text:?}");
        assert_eq!(
            db.value(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'w'"
            )
            .as_deref(),
            Some("0")
        );
    }
    // A key column the migration itself adds is there when the walk starts.
    dir.write("migrations/1_a/migration.sql", "ALTER TABLE t ADD COLUMN kk int;\n");
    dir.write("migrations/1_a/data.sql", "-- haste:data table=t key=kk\nUPDATE t SET v = 1 WHERE :range;\n");
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// The catalog check haste writes into a type change's swap (a `DO` block reading only the
/// system catalogs) takes no table lock and is brief: the swap's transaction is safe on an idle
/// database (h-adv13 P3: it "holds ACCESS EXCLUSIVE for a time that cannot be told").
#[test]
fn a_do_block_that_only_reads_the_catalog_is_safe_in_a_swap_transaction() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g");
    let check = "DO $haste$\nDECLARE\n  unknown text;\nBEGIN\n  SELECT string_agg(c.oid::regclass::text, ', ') INTO unknown\n    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid\n   WHERE i.inhparent = 't'::regclass;\n  IF unknown IS NOT NULL THEN\n    RAISE EXCEPTION USING MESSAGE = format('tables %s inherit t', unknown);\n  END IF;\nEND\n$haste$;";
    let dir = migrations(&[("1_swap", &format!("{check}\nALTER TABLE t ADD COLUMN w int;\n"))]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let listed = statements(&plan);
    assert_eq!(listed[0]["lock"], "NONE", "{plan:?}");
    assert_eq!(listed[0]["work"], "catalog", "{plan:?}");
    // A block that writes a table cannot be judged.
    let dir = migrations(&[(
        "1_swap",
        "DO $$ BEGIN UPDATE t SET n = n + 1; END $$;\nALTER TABLE t ADD COLUMN w int;\n",
    )]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 17, "{plan:?}");
}

/// `DROP VIEW` and `ALTER SEQUENCE` lock the view or the sequence itself: a reader of either
/// blocks them, and plan names it (adversary adv-a P10: no table, "safe now", and the deploy
/// then waited for the reader and gave up).
#[test]
fn a_reader_of_a_dropped_view_or_an_altered_sequence_is_named_as_a_blocker() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t; CREATE SEQUENCE seq");
    for (statement, read) in [
        ("DROP VIEW v;", "SELECT * FROM v"),
        ("ALTER SEQUENCE seq RESTART WITH 10;", "SELECT nextval('seq')"),
    ] {
        let dir = migrations(&[("1_change", statement)]);
        let reader =
            report_session(url, &format!("SET idle_in_transaction_session_timeout = '20s'; BEGIN; {read}"));
        std::thread::sleep(Duration::from_millis(300));
        let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
        reader.execute("ROLLBACK");
        assert_eq!(plan.code, 17, "{statement} {plan:?}");
        assert_eq!(statements(&plan)[0]["blockers"][0]["application_name"], "report", "{statement} {plan:?}");
    }
}

/// A prepared transaction (two-phase commit) has no session, yet holds its locks until
/// `COMMIT PREPARED` or `ROLLBACK PREPARED`: plan named no blocker and said "safe to deploy
/// now", and the deploy then gave up naming nobody. Its own server: prepared transactions are
/// off by default (`max_prepared_transactions = 0`).
#[test]
fn a_prepared_transaction_holding_the_table_is_named_as_a_blocker() {
    use haste_testkit::{Durability, LocalCluster, TempDir};
    if database().is_none() {
        return;
    }
    let folder = TempDir::new("prepared");
    let cluster =
        LocalCluster::start_with(folder.path(), Durability::Off, &["max_prepared_transactions = 2"]).unwrap();
    let url = format!("{}/postgres", cluster.url);
    haste_testkit::execute(&url, "CREATE TABLE busy (id int)");
    haste_testkit::execute(&url, "BEGIN; INSERT INTO busy VALUES (1); PREPARE TRANSACTION 'deploy-42'");
    let dir = migrations(&[("1_add", "ALTER TABLE busy ADD COLUMN w int;")]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json"]);
    assert_eq!(plan.code, 17, "{plan:?}");
    assert_eq!(statements(&plan)[0]["blockers"][0]["prepared"], "deploy-42", "{plan:?}");
    let text = haste(dir.path(), &["migrate", "plan", "--url", &url]);
    assert!(text.stdout.contains("prepared transaction \"deploy-42\""), "{text:?}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &url, "--lock-deadline", "300ms"]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("blocked last by prepared transaction \"deploy-42\""), "{deploy:?}");
    haste_testkit::execute(&url, "ROLLBACK PREPARED 'deploy-42'");

    // An id is shown escaped: a newline in it cannot forge a line of the report.
    haste_testkit::execute(
        &url,
        "BEGIN; INSERT INTO busy VALUES (1); PREPARE TRANSACTION E'x\\n  = all clear'",
    );
    let text = haste(dir.path(), &["migrate", "plan", "--url", &url]);
    assert!(text.stdout.contains(r#"prepared transaction "x\n  = all clear""#), "{text:?}");
    assert!(!text.stdout.contains("\n  = all clear"), "{text:?}");
    haste_testkit::execute(&url, "ROLLBACK PREPARED E'x\\n  = all clear'");

    // Databases cloned from one template share table oids: a lock in another database is
    // nobody's blocker here.
    haste_testkit::execute(&url, "CREATE DATABASE other TEMPLATE postgres");
    let other = format!("{}/other", cluster.url);
    haste_testkit::execute(&other, "BEGIN; INSERT INTO busy VALUES (1); PREPARE TRANSACTION 'elsewhere'");
    let plan = haste(dir.path(), &["migrate", "plan", "--url", &url, "--format", "json"]);
    haste_testkit::execute(&other, "ROLLBACK PREPARED 'elsewhere'");
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// A session holding a function, a type, a schema, a collation or a text search configuration
/// (a `COMMENT ON` it in an open transaction) blocks a statement that locks it by name, though
/// it holds no table: plan said "safe to deploy now", and the deploy's give-up named nobody.
#[test]
fn a_holder_of_a_function_or_type_is_named_as_a_blocker() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT 1'; \
         CREATE FUNCTION f(text) RETURNS int LANGUAGE sql AS 'SELECT 2'; \
         CREATE TYPE stage AS ENUM ('lead'); CREATE SCHEMA crm; \
         CREATE COLLATION nocase FROM \"C\"; CREATE SCHEMA s1; \
         CREATE TEXT SEARCH CONFIGURATION english_simple (COPY = simple)",
    );
    for (statement, held) in [
        ("DROP FUNCTION f(int);", "COMMENT ON FUNCTION f(int) IS 'in review'"),
        ("DROP FUNCTION f(integer);", "COMMENT ON FUNCTION public.f(int4) IS 'in review'"),
        ("DROP TYPE stage;", "COMMENT ON TYPE stage IS 'in review'"),
        ("ALTER TYPE stage ADD VALUE 'won';", "COMMENT ON TYPE stage IS 'in review'"),
        ("COMMENT ON SCHEMA crm IS 'sales';", "COMMENT ON SCHEMA crm IS 'in review'"),
        // A table created in the schema by a transaction still open holds the schema.
        ("DROP SCHEMA s1 CASCADE;", "CREATE TABLE s1.draft (id int)"),
        ("DROP COLLATION nocase;", "COMMENT ON COLLATION nocase IS 'in review'"),
        (
            "DROP TEXT SEARCH CONFIGURATION english_simple;",
            "COMMENT ON TEXT SEARCH CONFIGURATION english_simple IS 'in review'",
        ),
    ] {
        let dir = migrations(&[("1_change", statement)]);
        let holder =
            report_session(url, &format!("SET idle_in_transaction_session_timeout = '20s'; BEGIN; {held}"));
        let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
        assert_eq!(plan.code, 17, "{statement} {plan:?}");
        assert_eq!(statements(&plan)[0]["blockers"][0]["application_name"], "report", "{statement} {plan:?}");
        let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "300ms"]);
        holder.execute("ROLLBACK");
        assert_eq!(deploy.code, 6, "{statement} {deploy:?}");
        assert!(deploy.stderr.contains("blocked last by pid"), "{statement} {deploy:?}");
        assert!(deploy.stderr.contains("(report"), "{statement} {deploy:?}");
    }
    // Another overload of the name is no blocker: the deploy drops the one it names at once.
    let dir = migrations(&[("1_change", "DROP FUNCTION f(int);")]);
    let holder = report_session(
        url,
        "SET idle_in_transaction_session_timeout = '20s'; BEGIN; COMMENT ON FUNCTION f(text) IS 'in review'",
    );
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "300ms"]);
    holder.execute("ROLLBACK");
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(statements(&plan)[0]["blockers"], serde_json::json!([]), "{plan:?}");
    assert_eq!(deploy.code, 0, "{deploy:?}");
}
