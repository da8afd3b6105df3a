//! The lock budget's edges: a deadline of zero, giving up at the deadline, data steps under the
//! same budget, the debris of interrupted concurrent rebuilds and detaches, and how long the
//! application queues behind a haste statement.
//!
//! Every other session here holds its locks in an open transaction with its own timeouts, so a
//! test that fails to release it never leaves the server waiting for long.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use haste_testkit::{Session, TempDir, database, wait_until};

use crate::{Run, command, haste, migrations};

/// Another session (application name `holder`) inside a transaction that keeps the locks of
/// the statements it ran until [`Holder::release`]; its own timeouts end it after a while
/// should the test never release it.
struct Holder(Session);

impl Holder {
    fn start(url: &str, sql: &str) -> Holder {
        let session = Session::connect(&format!("{url}?application_name=holder"));
        session.execute(
            "SET lock_timeout = '5s'; SET statement_timeout = '20s'; SET idle_in_transaction_session_timeout = '30s'",
        );
        session.execute(&format!("BEGIN; {sql}"));
        Holder(session)
    }

    fn release(self) {
        self.0.execute("ROLLBACK");
    }
}

/// A `haste` run in the background, its JSON lines read as they come.
struct Background {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Background {
    fn start(cwd: &std::path::Path, args: &[&str]) -> Background {
        let mut child = command(cwd, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (send, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        Background { child, lines, seen: Vec::new(), stderr }
    }

    /// Waits (up to a minute) for a JSON line whose `event` is `kind`.
    fn wait_for_event(&mut self, kind: &str) -> Option<serde_json::Value> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(60)) {
            self.seen.push(line.clone());
            let value: serde_json::Value = serde_json::from_str(&line).expect("every stdout line is JSON");
            if value["event"] == kind {
                return Some(value);
            }
        }
        None
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn finish(mut self) -> Run {
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.join().unwrap();
        let mut stdout: String = self.seen.iter().map(|line| format!("{line}\n")).collect();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push_str(&line);
            stdout.push('\n');
        }
        Run { code: status.code().unwrap_or(-1), stdout, stderr }
    }
}

/// Whether a haste session is waiting for a lock in a statement starting with `prefix`.
fn haste_waits_in(db: &haste_testkit::TestDb, prefix: &str) -> bool {
    db.value(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name LIKE 'haste/%' AND wait_event_type = 'Lock' AND query LIKE '{prefix}%'"
    ))
    .is_some_and(|count| count != "0")
}

fn invalid_indexes(db: &haste_testkit::TestDb) -> String {
    db.value(
        "SELECT coalesce(string_agg(indexrelid::regclass::text, ', '), '') FROM pg_index WHERE NOT indisvalid",
    )
    .unwrap_or_default()
}

#[test]
fn a_deadline_of_zero_is_exactly_one_attempt() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[("1_add", "CREATE TABLE u (id int);\nALTER TABLE t ADD COLUMN v int;")]);
    let holder = Holder::start(url, "SELECT count(*) FROM t");
    let run =
        haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "0", "--format", "json"]);
    let lines = run.json_lines();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(lines.iter().all(|event| event["event"] != "retrying"), "one attempt, no retry: {run:?}");
    let error = &lines.last().unwrap()["error"];
    assert_eq!(error["attempts"], 1, "{run:?}");
    let gave_up = &error["gave_up"];
    assert_eq!(
        (&gave_up["by"], &gave_up["deadline_ms"], &gave_up["attempts"]),
        (&"deadline".into(), &0.into(), &1.into())
    );
    let blocker = &gave_up["blockers"][0];
    assert_eq!(blocker["application_name"], "holder", "{run:?}");
    assert!(blocker["pid"].as_i64().is_some_and(|pid| pid > 0) && blocker["since"].is_string(), "{run:?}");
    assert!(blocker.get("query").is_none(), "never the blocker's query text: {blocker}");
    // Nothing half-applied: the table created before the blocked statement was rolled back with it.
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname = 'u'").as_deref(), Some("0"));
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 3, "still pending");
    let recorded = db
        .value("SELECT detail::jsonb -> 'gave_up' ->> 'attempts' FROM _haste_events WHERE event = 'failed'")
        .unwrap();
    assert_eq!(recorded, "1", "history says why it stopped");

    // The same from haste.toml, for a build that waits for other transactions by design: one
    // attempt under the lock timeout, never a lock timeout of zero (which would wait forever).
    let dir = migrations(&[("1_index", "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);")]);
    dir.write("haste.toml", "[defaults]\nlock_deadline = \"0s\"\n");
    let writer = Holder::start(url, "LOCK TABLE t IN SHARE MODE");
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    writer.release();
    holder.release();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains(
            "gave up after 1 attempt: the lock budget's deadline of 0 ms passed; blocked last by pid "
        ) && run.stderr.contains("(holder, idle in transaction, transaction since "),
        "{run:?}"
    );
    assert_eq!(invalid_indexes(&db), "");
}

#[test]
fn giving_up_at_the_deadline_says_how_long_how_often_and_whom_it_waited_for() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN v int;")]);
    let holder = Holder::start(url, "SELECT count(*) FROM t");
    let run = haste(
        dir.path(),
        &["migrate", "deploy", "--url", url, "--lock-deadline", "700ms", "--format", "json"],
    );
    holder.release();
    assert_eq!(run.code, 6, "{run:?}");
    let lines = run.json_lines();
    let retries = lines.iter().filter(|event| event["event"] == "retrying").count() as u64;
    assert!(retries >= 1, "{run:?}");
    let error = &lines.last().unwrap()["error"];
    assert_eq!(error["attempts"].as_u64(), Some(retries + 1), "{run:?}");
    assert_eq!(error["gave_up"]["attempts"], error["attempts"], "{run:?}");
    assert_eq!(error["gave_up"]["deadline_ms"], 700, "{run:?}");
    assert_eq!(error["gave_up"]["blockers"][0]["application_name"], "holder", "{run:?}");
    assert_eq!(error["state"], "rolled_back", "{run:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations WHERE status = 'applied'").as_deref(),
        Some("0")
    );
}

/// The first session a build's give-up names: pid, application name, a time and never a query.
fn first_blocker_of(run: &Run, holder_pid: &str) {
    assert_eq!(run.code, 6, "{run:?}");
    let lines = run.json_lines();
    let blocker = &lines.last().unwrap()["error"]["gave_up"]["blockers"][0];
    assert_eq!(blocker["pid"].to_string(), holder_pid, "{run:?}");
    assert_eq!(blocker["application_name"], "holder", "{run:?}");
    assert!(blocker["since"].is_string() && blocker.get("query").is_none(), "{blocker}");
}

#[test]
fn a_build_that_gave_up_waiting_for_an_old_snapshot_names_the_session_holding_it() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000); CREATE TABLE other (x int)",
    );
    let dir = migrations(&[("1_index", "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);")]);
    let deploy = ["migrate", "deploy", "--url", url, "--lock-deadline", "1s", "--format", "json"];
    let snapshot = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM";

    // A transaction that never touches t but holds a snapshot: the build's last phase waits
    // for it, seen in pg_locks only as a wait on its virtual transaction id.
    let holder = Holder::start(url, &format!("{snapshot} other"));
    let holder_pid = holder.0.query("SELECT pg_backend_pid()")[0][0].clone().unwrap();
    let run = haste(dir.path(), &deploy);
    holder.release();
    first_blocker_of(&run, &holder_pid);
    assert_eq!(invalid_indexes(&db), "");

    // One that read t too: the drop of the INVALID index the build left waits it out, so it
    // is gone by the time the give-up is reported; it is named all the same.
    let resolved = haste(dir.path(), &["migrate", "resolve", "--rolled-back", "1_index", "--url", url]);
    assert_eq!(resolved.code, 0, "{resolved:?}");
    let holder = Holder::start(url, &format!("{snapshot} t"));
    let holder_pid = holder.0.query("SELECT pg_backend_pid()")[0][0].clone().unwrap();
    let running = Background::start(dir.path(), &deploy);
    let cleaning = wait_until(Duration::from_secs(60), || haste_waits_in(&db, "DROP INDEX CONCURRENTLY"));
    holder.release();
    assert!(cleaning, "the build gave up and its cleanup waited");
    first_blocker_of(&running.finish(), &holder_pid);
    assert_eq!(invalid_indexes(&db), "");
}

#[test]
fn deploy_after_a_killed_stepwise_migration_calls_it_interrupted_as_status_does() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    // The session is killed after the concurrent build, as an operator's pg_terminate_backend would.
    let dir = migrations(&[(
        "1_index",
        "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);\nSELECT pg_terminate_backend(pg_backend_pid());",
    )]);
    let killed = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_ne!(killed.code, 0, "{killed:?}");
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert!(status.stdout.contains("INTERRUPTED 1_index  (1 of 2 statements done)"), "{status:?}");
    let again = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(again.code, 7, "{again:?}");
    assert!(
        again.stderr.contains("migration 1_index is interrupted after 1 of 2 statements")
            && !again.stderr.contains("running"),
        "no run holds the lock, so none is running it: {again:?}"
    );
}

/// A table of 1,000 rows and a data step walking it 100 rows at a time.
fn backfill(url: &str) -> TempDir {
    let dir = migrations(&[(
        "1_contacts",
        "CREATE TABLE contacts (id bigint PRIMARY KEY, score integer);\n\
         INSERT INTO contacts (id) SELECT g FROM generate_series(1, 1000) g;",
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    dir.write(
        "migrations/2_score/data.sql",
        "-- haste:data table=contacts key=id batch=100 target=10s\nUPDATE contacts SET score = id * 2 WHERE :range;\n",
    );
    dir
}

#[test]
fn a_blocked_data_batch_is_retried_smaller_within_the_lock_budget() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = backfill(url);
    // Row 150 is held: the second batch (101..200) cannot take its row lock.
    let holder = Holder::start(url, "SELECT * FROM contacts WHERE id = 150 FOR UPDATE");
    let mut run = Background::start(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    // Smaller batches get the rows before the held one done while it is still held.
    let done_before_held = wait_until(Duration::from_secs(60), || {
        db.value("SELECT last_key FROM _haste_progress")
            .and_then(|key| key.parse::<u64>().ok())
            .is_some_and(|key| (101..150).contains(&key))
    });
    let retrying = run.wait_for_event("retrying");
    holder.release();
    let run = run.finish();
    assert!(done_before_held, "the batch was retried smaller: {run:?}");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(retrying.unwrap()["error"]["sqlstate"], "55P03", "{run:?}");
    assert_eq!(db.value("SELECT count(*) FROM contacts WHERE score = id * 2").as_deref(), Some("1000"));
}

#[test]
fn a_data_steps_batches_share_one_deadline() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = backfill(url);
    // Row 150 is held for good: halved batches before it get through, the one holding it never.
    let holder = Holder::start(url, "SELECT * FROM contacts WHERE id = 150 FOR UPDATE");
    let run =
        haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s", "--format", "json"]);
    holder.release();
    assert_eq!(run.code, 6, "{run:?}");
    let events = run.json_lines();
    let retries = events.iter().filter(|event| event["event"] == "retrying").count();
    let gave_up = events
        .iter()
        .find_map(|event| event.get("gave_up").or(event.pointer("/error/gave_up")).cloned())
        .unwrap_or_else(|| panic!("a give-up: {run:?}"));
    // Every attempt of the step counted against one budget: the smaller batches that got
    // through did not start the deadline again.
    assert_eq!(gave_up["attempts"].as_u64(), Some(retries as u64 + 1), "{run:?}");
    assert!(db.value("SELECT last_key FROM _haste_progress").is_some_and(|key| key != "150"));
}

#[test]
fn a_data_step_blocked_past_the_deadline_stops_and_says_why() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = backfill(url);
    let holder = Holder::start(url, "SELECT * FROM contacts WHERE id = 1 FOR UPDATE");
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    holder.release();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("the lock budget's deadline of 1000 ms passed; blocked last by pid ")
            && run.stderr.contains("(holder, idle in transaction"),
        "{run:?}"
    );
    assert!(run.stderr.contains("stopped after 0 rows"), "{run:?}");
    // It resumes where it stopped once the rows are free.
    let again = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(db.value("SELECT count(*) FROM contacts WHERE score = id * 2").as_deref(), Some("1000"));
}

/// Deploys `statement` (a concurrent rebuild) on `app.t` (which has a TOAST table) while a writer's open transaction
/// makes its wait for older transactions time out, and returns the run once the INVALID
/// index it left was dropped (the drop waits for the writer, which is released then).
fn rebuild_blocked_by_a_writer(db: &haste_testkit::TestDb, statement: &str) -> Run {
    let url = db.url.as_str();
    db.execute(
        "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, a int, note text); CREATE INDEX t_a_idx ON app.t (a); \
         INSERT INTO app.t SELECT g, g FROM generate_series(1, 100) g",
    );
    let dir = migrations(&[("1_rebuild", &format!("-- haste:retries 0\n{statement}"))]);
    let writer = Holder::start(url, "INSERT INTO app.t VALUES (0, 0)");
    let run = Background::start(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    let dropping = wait_until(Duration::from_secs(60), || haste_waits_in(db, "DROP INDEX CONCURRENTLY"));
    writer.release();
    let run = run.finish();
    assert!(dropping, "the INVALID index left was dropped: {run:?}");
    run
}

#[test]
fn a_cancelled_reindex_concurrently_of_a_table_leaves_no_invalid_index_nor_toast_index() {
    let Some(db) = database() else { return };
    let run = rebuild_blocked_by_a_writer(&db, "REINDEX TABLE CONCURRENTLY app.t;");
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("pg_toast.") && run.stderr.contains("was dropped"), "{run:?}");
    assert_eq!(invalid_indexes(&db), "");
}

#[test]
fn a_cancelled_reindex_concurrently_of_a_schema_leaves_no_invalid_index() {
    let Some(db) = database() else { return };
    let run = rebuild_blocked_by_a_writer(&db, "REINDEX SCHEMA CONCURRENTLY app;");
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("55P03") && run.stderr.contains("_ccnew") && run.stderr.contains("was dropped"),
        "{run:?}"
    );
    assert_eq!(invalid_indexes(&db), "");
}

#[test]
fn a_cancelled_reindex_concurrently_of_the_database_leaves_no_invalid_index() {
    let Some(db) = database() else { return };
    let statement = format!("REINDEX DATABASE CONCURRENTLY {};", haste_sql::quote_ident(&db.name));
    let run = rebuild_blocked_by_a_writer(&db, &statement);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("_ccnew") && run.stderr.contains("was dropped"), "{run:?}");
    assert_eq!(invalid_indexes(&db), "");
}

/// A partitioned `events` with partition `events_1`, and a reader in a transaction on it.
fn partitioned(db: &haste_testkit::TestDb) -> Holder {
    db.execute(
        "CREATE TABLE events (id int, at int) PARTITION BY RANGE (at); \
         CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10)",
    );
    Holder::start(&db.url, "SELECT count(*) FROM events")
}

fn detach_pending(db: &haste_testkit::TestDb) -> Option<String> {
    db.value("SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'events_1'::regclass")
}

#[test]
fn a_detach_interrupted_by_a_lock_timeout_is_finalized_by_the_retry() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let reader = partitioned(&db);
    let dir = migrations(&[(
        "1_detach",
        "-- haste:lock-timeout 200ms\nALTER TABLE events DETACH PARTITION events_1 CONCURRENTLY;",
    )]);
    let mut run = Background::start(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    // The first attempt marked the partition detach pending, then timed out waiting for the
    // reader.
    let retrying = run.wait_for_event("retrying");
    let pending = detach_pending(&db);
    reader.release();
    let run = run.finish();
    assert!(retrying.is_some(), "{run:?}");
    assert_eq!(pending.as_deref(), Some("t"), "{run:?}");
    assert_eq!(run.code, 0, "{run:?}");
    let finalized = run.json_lines().into_iter().find(|event| event["event"] == "detach_finalized");
    assert_eq!(finalized.map(|event| event["partition"].clone()), Some("\"events_1\"".into()), "{run:?}");
    assert_eq!(detach_pending(&db), None, "detached");
}

#[test]
fn the_next_run_of_an_interrupted_detach_finalizes_it_and_says_so() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let reader = partitioned(&db);
    let dir = migrations(&[("1_detach", "ALTER TABLE events DETACH PARTITION events_1 CONCURRENTLY;")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    reader.release();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("stopped after 0 statement(s)"), "{run:?}");
    assert_eq!(detach_pending(&db).as_deref(), Some("t"));
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 7, "{status:?}");
    let resume = haste(dir.path(), &["migrate", "resolve", "--resume", "1_detach", "--url", url]);
    assert_eq!(resume.code, 0, "{resume:?}");
    assert!(
        resume.stdout.contains(
            "\"events_1\" was left detach pending from \"events\" by an earlier attempt; finishing it with \
             ALTER TABLE \"events\" DETACH PARTITION \"events_1\" FINALIZE"
        ),
        "{resume:?}"
    );
    assert_eq!(detach_pending(&db), None, "detached");
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 0);
}

#[test]
fn a_transaction_off_build_that_timed_out_first_says_where_it_stopped_and_resumes() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
    let dir = migrations(&[(
        "1_build",
        "-- haste:transaction off\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nALTER TABLE t ADD COLUMN b int;",
    )]);
    let writer = Holder::start(url, "INSERT INTO t VALUES (0, 0)");
    let run = Background::start(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    let dropping = wait_until(Duration::from_secs(60), || haste_waits_in(&db, "DROP INDEX CONCURRENTLY"));
    writer.release();
    let run = run.finish();
    assert!(dropping, "{run:?}");
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("gave up after 1 attempt"), "{run:?}");
    assert_eq!(invalid_indexes(&db), "");
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname = 't_a_idx'").as_deref(), Some("0"));
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 7, "{status:?}");
    assert!(
        status.stdout.contains("(0 of 2 statements done)"),
        "stopped before its first statement: {status:?}"
    );
    let resume = haste(dir.path(), &["migrate", "resolve", "--resume", "1_build", "--url", url]);
    assert_eq!(resume.code, 0, "{resume:?}");
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass").as_deref(),
        Some("t")
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 0);
}

/// Promise 5: with the defaults, an application query queued behind a blocked haste statement
/// gets through after one attempt's lock timeout, not after haste's whole wait: it finishes
/// while haste is still retrying behind the same long transaction.
#[test]
fn the_application_queues_behind_haste_for_one_attempt_at_most() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN v int;")]);
    let long = Holder::start(url, "SELECT count(*) FROM t");
    let mut run = Background::start(dir.path(), &["migrate", "deploy", "--url", url]);
    let application = Session::connect(&format!("{url}?application_name=application"));
    application.execute("SET statement_timeout = '20s'");
    let pid = application.query("SELECT pg_backend_pid()")[0][0].clone().unwrap();
    let haste_pid = || {
        db.value(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name LIKE 'haste/%' AND wait_event_type = 'Lock'",
        )
    };
    // The application's reads conflict only with haste's ACCESS EXCLUSIVE request: each one
    // that starts while haste waits queues behind it, and gets through when that attempt times
    // out, though the long transaction still holds the table.
    let mut queued_behind_haste = false;
    for _ in 0..50 {
        assert!(wait_until(Duration::from_secs(30), || haste_pid().is_some()), "haste waits for its lock");
        let watcher = {
            let db_url = url.to_owned();
            let pid = pid.clone();
            std::thread::spawn(move || {
                let watch = Session::connect(&db_url);
                let blocked = |watch: &Session| {
                    watch.query(&format!(
                        "SELECT count(*) FROM pg_stat_activity a WHERE a.pid = {pid} AND a.wait_event_type = 'Lock' \
                         AND EXISTS (SELECT 1 FROM pg_stat_activity h WHERE h.pid = ANY (pg_blocking_pids({pid})) \
                         AND h.application_name LIKE 'haste/%')"
                    ))[0][0]
                        .as_deref()
                        == Some("1")
                };
                wait_until(Duration::from_secs(2), || blocked(&watch))
            })
        };
        application.query("SELECT count(*) FROM t");
        if watcher.join().unwrap() {
            queued_behind_haste = true;
            break;
        }
    }
    let long_still_holds = db
        .value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'holder' AND state = 'idle in transaction'",
        )
        .as_deref()
        == Some("1");
    let haste_still_waits = run.running();
    long.release();
    let run = run.finish();
    assert!(queued_behind_haste, "the application's read queued behind haste's statement: {run:?}");
    assert!(long_still_holds && haste_still_waits, "and got through before haste did: {run:?}");
    assert_eq!(run.code, 0, "{run:?}");
}
