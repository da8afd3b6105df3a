//! The lock budget: by default each attempt of a statement waits at most 100 ms for its table
//! lock (so the application never queues behind it longer), retries with growing pauses until
//! the deadline, and names whom it waited for; statements whose locks let the application
//! through wait for other transactions in one attempt.

use std::time::Duration;

use haste_testkit::{Session, database, wait_until};

use crate::{haste, migrations};

/// Holds `lock` on table `t` from another session (application name `report`) for `hold`.
pub(crate) fn hold_lock(url: &str, lock: &str, hold: Duration) -> std::thread::JoinHandle<()> {
    let url = format!("{url}?application_name=report");
    let sql = format!("BEGIN; LOCK TABLE t IN {lock} MODE");
    let (held, holding) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let session = Session::connect(&url);
        session.execute(&sql);
        held.send(()).unwrap();
        std::thread::sleep(hold);
        session.execute("COMMIT");
    });
    holding.recv().unwrap();
    // Older than one attempt of the default lock budget (100 ms): a blocker, not passing load,
    // to `migrate plan`.
    std::thread::sleep(Duration::from_millis(200));
    holder
}

#[test]
fn by_default_a_blocked_statement_retries_in_short_attempts_and_names_the_blocker() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN v int;")]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1500));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    let retries: Vec<serde_json::Value> =
        run.json_lines().into_iter().filter(|event| event["event"] == "retrying").collect();
    // 100 ms attempts with pauses from 100 ms up: several within the 1.2 s the lock is held.
    assert!(retries.len() >= 3, "short attempts, retried: {run:?}");
    assert!(retries.iter().all(|event| event["error"]["sqlstate"] == "55P03"), "{run:?}");
    let blocker = &retries[0]["blockers"][0];
    assert_eq!(blocker["application_name"], "report", "{run:?}");
    assert_eq!(blocker["state"], "idle in transaction", "{run:?}");
    assert!(blocker["pid"].as_i64().is_some_and(|pid| pid > 0), "{run:?}");
    // The run's summary: every retry counted, the time spent waiting, the blocker once.
    let finished = run.json_lines().into_iter().find(|event| event["event"] == "run_finished").unwrap();
    let waits = &finished["lock_waits"];
    assert_eq!(waits["retries"].as_u64(), Some(retries.len() as u64), "{run:?}");
    assert!(waits["waited_ms"].as_u64().is_some_and(|ms| ms >= 100 * retries.len() as u64), "{run:?}");
    assert_eq!(waits["blockers"].as_array().map(Vec::len), Some(1), "{run:?}");
    assert_eq!(waits["blockers"][0]["pid"], *blocker.get("pid").unwrap(), "{run:?}");
    // The migration's own record in history: the same waits, whom it waited for longest, and
    // nothing of that session's query.
    let recorded: serde_json::Value = serde_json::from_str(
        &db.value("SELECT detail::text FROM _haste_events WHERE name = '1_add' AND event = 'applied'")
            .unwrap(),
    )
    .unwrap();
    let recorded = &recorded["lock_waits"];
    assert_eq!(recorded["retries"], waits["retries"], "{recorded}");
    assert_eq!(recorded["waited_ms"], waits["waited_ms"], "{recorded}");
    let longest = &recorded["longest_blocker"];
    assert_eq!(
        (&longest["pid"], &longest["application_name"]),
        (&blocker["pid"], &blocker["application_name"])
    );
    assert_eq!(longest.as_object().map(|o| o.len()), Some(3), "pid, application name, time: {longest}");
    assert_eq!(
        db.value(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'v'"
        )
        .as_deref(),
        Some("1")
    );
}

#[test]
fn the_deadline_ends_the_retries_with_a_clear_failure() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN v int;")]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_secs(4));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s"]);
    holder.join().unwrap();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("55P03"), "{run:?}");
    assert!(run.stderr.contains("after ") && run.stderr.contains(" attempts"), "{run:?}");
    assert!(
        run.stdout.contains("waited for pid") && run.stdout.contains("(report, idle in transaction"),
        "{run:?}"
    );
    assert!(run.stderr.contains("rolled back"), "{run:?}");
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 3, "still pending");
}

#[test]
fn a_concurrent_build_waits_for_old_transactions_in_one_attempt() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g");
    // An old transaction the build must wait for, ending after a while.
    let reader = std::thread::spawn({
        let url = url.to_owned();
        move || {
            let session = Session::connect(&url);
            session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t");
            std::thread::sleep(Duration::from_millis(1500));
        }
    });
    assert!(wait_until(Duration::from_secs(5), || {
        db.value("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()").as_deref()
            == Some("1")
    }));
    let dir = migrations(&[("1_index", "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    reader.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.json_lines().iter().all(|event| event["event"] != "retrying"),
        "no cancelled and restarted build: {run:?}"
    );
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass").as_deref(),
        Some("t")
    );
}

#[test]
fn plan_shows_each_pending_statement_and_whether_it_is_safe_now() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id bigint PRIMARY KEY, a int); INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g; ANALYZE t");
    let dir = migrations(&[(
        "1_online",
        "ALTER TABLE t ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);",
    )]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url, "--format", "json"]);
    assert_eq!(plan.code, 0, "nobody holds the table, and nothing holds a blocking lock for long: {plan:?}");
    let report = &plan.json_lines()[0];
    let statements = report["migrations"][0]["statements"].as_array().unwrap();
    assert_eq!(statements[0]["lock"], "ACCESS_EXCLUSIVE");
    assert_eq!(statements[0]["work"], "catalog");
    assert_eq!(statements[0]["tables"][0]["rows"], 20000);
    assert_eq!(statements[1]["lock"], "SHARE_UPDATE_EXCLUSIVE");
    assert_eq!(statements[1]["work"], "build");
    assert!(statements[1]["estimate_ms"].is_u64(), "{plan:?}");

    // A session in a transaction on the table: the blocking statement is not safe now.
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_secs(3));
    let plan = haste(dir.path(), &["migrate", "deploy", "--dry-run", "--url", url]);
    holder.join().unwrap();
    assert_eq!(plan.code, 17, "{plan:?}");
    assert!(
        plan.stdout.contains("NOT SAFE NOW: pid ") && plan.stdout.contains("(report, idle in transaction)"),
        "{plan:?}"
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 3, "a dry run applies nothing");
    assert_eq!(db.value("SELECT count(*) FROM pg_class WHERE relname = 't_a_idx'").as_deref(), Some("0"));
}

#[test]
fn plan_judges_a_transaction_by_how_long_it_holds_its_locks() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id bigint PRIMARY KEY)");
    let dir = migrations(&[("1_hold", "ALTER TABLE t ADD COLUMN c int;\nSELECT pg_sleep(30);")]);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", url]);
    assert_eq!(plan.code, 17, "{plan:?}");
    assert!(plan.stdout.contains("until the commit"), "{plan:?}");
}

fn retries(run: &crate::Run) -> usize {
    run.json_lines().into_iter().filter(|event| event["event"] == "retrying").count()
}

#[test]
fn a_files_own_transaction_block_is_retried_whole_from_its_begin() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE TABLE log (x int)");
    // Two transactions of the file's own: the first commits before the second is blocked.
    let dir = migrations(&[(
        "1_own",
        "BEGIN;\nINSERT INTO log VALUES (1);\nCOMMIT;\n\
         BEGIN;\nINSERT INTO log VALUES (2);\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n",
    )]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1500));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(retries(&run) >= 1, "the blocked block was retried: {run:?}");
    // The blocked block ran again from its BEGIN, its insert rolled back each time; the block
    // before it ran once.
    assert_eq!(db.value("SELECT string_agg(x::text, ',' ORDER BY x) FROM log").as_deref(), Some("1,2"));
    assert_eq!(
        db.value("SELECT status FROM _haste_migrations WHERE name = '1_own'").as_deref(),
        Some("applied")
    );
}

/// `COMMIT AND CHAIN` commits the file's first transaction and opens the next: a retry of the
/// blocked second one opens it again with the block's `BEGIN` (its isolation level kept) and
/// never runs the committed part again; when the budget gives up, the history counts the
/// committed statements (it said 0, and `migrate down` ran the first insert six times).
#[test]
fn a_chained_transaction_is_retried_without_its_committed_part() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE TABLE log (x int, isolation text)");
    let file = "BEGIN ISOLATION LEVEL REPEATABLE READ;\nINSERT INTO log VALUES (1, current_setting('transaction_isolation'));\nCOMMIT AND CHAIN;\n\
                INSERT INTO log VALUES (2, current_setting('transaction_isolation'));\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n";
    let dir = migrations(&[("1_chain", file)]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1500));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(retries(&run) >= 1, "the chained transaction was retried: {run:?}");
    assert_eq!(
        db.value("SELECT string_agg(x || ' ' || isolation, ',' ORDER BY x) FROM log").as_deref(),
        Some("1 repeatable read,2 repeatable read")
    );

    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE TABLE log (x int, isolation text)");
    let dir = migrations(&[("1_chain", file)]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(2500));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "300ms"]);
    holder.join().unwrap();
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("stopped after 3 statement(s)"), "{run:?}");
    assert_eq!(db.value("SELECT string_agg(x::text, ',') FROM log").as_deref(), Some("1"));
}

/// A chained transaction retried after a lock timeout is opened again with the characteristics
/// the file gave it after its `BEGIN` (`SET TRANSACTION`), which `COMMIT AND CHAIN` keeps: it
/// ran serializable when not blocked and read committed once retried.
#[test]
fn a_retried_chained_transaction_keeps_what_set_transaction_chose() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int); CREATE TABLE log (x int, isolation text, read_only text)");
    let file = "BEGIN;\nSET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nSET TRANSACTION READ WRITE, DEFERRABLE;\n\
                INSERT INTO log VALUES (1, current_setting('transaction_isolation'), current_setting('transaction_deferrable'));\n\
                COMMIT AND CHAIN;\n\
                INSERT INTO log VALUES (2, current_setting('transaction_isolation'), current_setting('transaction_deferrable'));\n\
                ALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n";
    let dir = migrations(&[("1_chain", file)]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1500));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(retries(&run) >= 1, "the chained transaction was retried: {run:?}");
    assert_eq!(
        db.value("SELECT string_agg(x || ' ' || isolation || ' ' || read_only, ',' ORDER BY x) FROM log")
            .as_deref(),
        Some("1 serializable on,2 serializable on")
    );
}

/// `migrate resolve --resume` of a file that stopped in the part a `COMMIT AND CHAIN` opened
/// runs that part in a transaction again, opened as the chain opened it: it ran its statements
/// one by one in autocommit, so a part that failed again left its first insert committed.
#[test]
fn a_resume_in_a_chained_transaction_runs_it_in_one() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE log (x int, isolation text); CREATE TABLE chk (n int CONSTRAINT positive CHECK (n > 0))");
    let file = "BEGIN;\nSET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nINSERT INTO log VALUES (1, current_setting('transaction_isolation'));\n\
                COMMIT AND CHAIN;\nINSERT INTO log VALUES (2, current_setting('transaction_isolation'));\nINSERT INTO chk VALUES (-1);\nCOMMIT;\n";
    let dir = migrations(&[("1_chain", file)]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("23514"), "{run:?}");
    let log = || db.value("SELECT string_agg(x || ' ' || isolation, ',' ORDER BY x) FROM log");
    assert_eq!(log().as_deref(), Some("1 repeatable read"), "the chained part rolled back");
    // Failing again, the chained part rolls back whole again.
    let run = haste(dir.path(), &["migrate", "resolve", "--url", url, "--resume", "1_chain"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("23514"), "{run:?}");
    assert_eq!(log().as_deref(), Some("1 repeatable read"), "nothing of the chained part committed: {run:?}");
    // Once it can succeed, it does, in a transaction like the chain's.
    db.execute("ALTER TABLE chk DROP CONSTRAINT positive");
    let run = haste(dir.path(), &["migrate", "resolve", "--url", url, "--resume", "1_chain"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(log().as_deref(), Some("1 repeatable read,2 repeatable read"));
    assert_eq!(db.value("SELECT count(*) FROM chk").as_deref(), Some("1"));
    assert_eq!(
        db.value("SELECT status FROM _haste_migrations WHERE name = '1_chain'").as_deref(),
        Some("applied")
    );
}

/// A migration rolled back for a retry leaves what a rollback does not take back (a prepared
/// statement, a session advisory lock): the retry starts from a reset session. The retry failed
/// with 42P05 ("prepared statement already exists"), or took the advisory lock a second time so
/// that the file's one unlock left it held; and a migration's advisory lock outlived it.
#[test]
fn a_retried_migration_starts_from_a_reset_session() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir = migrations(&[
        (
            "1_prepared",
            "PREPARE ins(int) AS INSERT INTO t VALUES ($1);\nSELECT pg_advisory_lock(7);\nSELECT pg_advisory_lock(1, 2);\n\
             ALTER TABLE t ADD COLUMN c int;\nEXECUTE ins(1);\nSELECT pg_advisory_unlock(7);\n",
        ),
        (
            "2_check",
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() \
             AND NOT (classid = 1751217012 AND objsubid = 2)) THEN RAISE EXCEPTION 'an advisory lock of 1_prepared is still held'; END IF; END $$;",
        ),
    ]);
    let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1000));
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(retries(&run) >= 1, "the migration was retried: {run:?}");
    assert_eq!(db.value("SELECT count(*) FROM t").as_deref(), Some("1"));
}

#[test]
fn migrate_down_has_the_budget_of_deploy() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    let dir =
        migrations(&[("1_v", "ALTER TABLE t ADD COLUMN v int;"), ("2_w", "ALTER TABLE t ADD COLUMN w int;")]);
    // One down.sql in haste's transaction, one with a transaction of its own.
    dir.write("migrations/1_v/down.sql", "ALTER TABLE t DROP COLUMN v;");
    dir.write("migrations/2_w/down.sql", "BEGIN;\nALTER TABLE t DROP COLUMN w;\nCOMMIT;\n");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    for steps in ["1", "1"] {
        let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1200));
        let run = haste(dir.path(), &["migrate", "down", "--url", url, "--steps", steps, "--format", "json"]);
        holder.join().unwrap();
        assert_eq!(run.code, 0, "{run:?}");
        assert!(retries(&run) >= 1, "waited out the reader in short attempts: {run:?}");
    }
    assert_eq!(
        db.value("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'").as_deref(),
        Some("1")
    );
}

#[test]
fn with_no_statement_timeout_configured_the_databases_own_applies() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET statement_timeout = ''1234ms''', current_database()); END $$");
    let check = "DO $$ BEGIN IF current_setting('statement_timeout') <> '1234ms' THEN \
                 RAISE EXCEPTION 'statement_timeout is %', current_setting('statement_timeout'); END IF; END $$;";
    let dir = migrations(&[
        ("1_in_transaction", check),
        // Stepwise: the check runs in a step after a statement that runs alone.
        (
            "2_stepwise",
            &format!("CREATE TABLE u (id int);\nCREATE INDEX CONCURRENTLY u_idx ON u (id);\n{check}"),
        ),
        ("3_own", &format!("BEGIN;\n{check}\nCOMMIT;\n{check}")),
    ]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(run.code, 0, "{run:?}");
    let config = haste(dir.path(), &["config", "--url", url]);
    assert!(config.stdout.contains("not set by haste (the role's or database's own"), "{config:?}");
    // One configured is set over it.
    dir.write(
        "migrations/4_set/migration.sql",
        "DO $$ BEGIN IF current_setting('statement_timeout') <> '5min' THEN RAISE EXCEPTION 'not set'; END IF; END $$;",
    );
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--statement-timeout", "5min"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn duration_unit_m_is_refused_as_postgresql_refuses_it() {
    let dir = migrations(&[]);
    for (value, says) in [("5m", "`min` or `ms`"), ("5sec", "use ms, s, min or h")] {
        let run = haste(dir.path(), &["config", "--url", "postgres://localhost/x", "--lock-timeout", value]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(says), "{run:?}");
    }
}

/// A real autovacuum cannot be started on demand (the shared test cluster's
/// `autovacuum_naptime` is a minute): a user's slow `VACUUM` holds the same lock, and must be
/// neither called an autovacuum nor cancelled. (Cancelling and outwaiting real autovacuum
/// workers were checked by hand, as a superuser and as a role that may not cancel them.)
#[test]
fn a_users_vacuum_is_never_taken_for_an_autovacuum_nor_cancelled() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute(
        "CREATE TABLE t (id int, v int) WITH (autovacuum_enabled = off); \
         INSERT INTO t SELECT g, g FROM generate_series(1, 100000) g; UPDATE t SET v = v + 1",
    );
    // Throttled to a page per 100 ms: it holds the table for seconds, then its own timeout ends it.
    let vacuum_url = format!(
        "{url}?application_name=vacuumer&options=-c%20vacuum_cost_delay%3D100%20-c%20vacuum_cost_limit%3D1%20-c%20statement_timeout%3D6s"
    );
    let vacuum = std::thread::spawn(move || haste_testkit::try_query(&vacuum_url, "VACUUM t"));
    let vacuuming = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND application_name = 'vacuumer' AND state = 'active' AND query = 'VACUUM t'";
    assert!(wait_until(Duration::from_secs(5), || db.value(vacuuming).as_deref() == Some("1")));
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN w int;")]);
    let run =
        haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "1s", "--format", "json"]);
    let still_vacuuming = db.value(vacuuming);
    let _ = vacuum.join();
    assert_eq!(run.code, 6, "{run:?}");
    let retrying: Vec<serde_json::Value> =
        run.json_lines().into_iter().filter(|event| event["event"] == "retrying").collect();
    assert!(!retrying.is_empty(), "{run:?}");
    for event in &retrying {
        assert!(event.get("autovacuum").is_none(), "{event}");
        assert_eq!(event["blockers"][0]["application_name"], "vacuumer", "{event}");
        assert!(event["blockers"][0].get("autovacuum").is_none(), "{event}");
    }
    assert_eq!(still_vacuuming.as_deref(), Some("1"), "the user's VACUUM was left running");
}

/// A migration's `RESET ALL` (meant for `search_path`, say) puts haste's lock budget back, not
/// the server's default of no lock timeout: the `ALTER` after it waited for a reader's whole
/// transaction in one attempt, past the deadline, with the application queued behind it.
#[test]
fn a_reset_of_all_settings_keeps_the_lock_budget() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    db.execute("CREATE TABLE t (id int)");
    // At the top of the file, where the runner sets its limits again after it; inside code,
    // where it cannot, and the session's own default (the budget's, from its startup options)
    // comes back.
    let resets = [
        "RESET ALL;\nALTER TABLE t ADD COLUMN x int;",
        "RESET lock_timeout;\nALTER TABLE t ADD COLUMN x int;",
        "SET lock_timeout TO DEFAULT;\nALTER TABLE t ADD COLUMN x int;",
        "DO $$ BEGIN RESET ALL; ALTER TABLE t ADD COLUMN x int; END $$;",
        "DO $$ BEGIN EXECUTE 'RESET lock_timeout'; EXECUTE 'ALTER TABLE t ADD COLUMN x int'; END $$;",
        "CREATE FUNCTION widen() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RESET ALL; ALTER TABLE t ADD COLUMN x int; END $$;\nSELECT widen();",
        // Switched off before a statement: the runner sets its limits again after each one.
        "SET lock_timeout = 0;\nALTER TABLE t ADD COLUMN x int;",
        "SELECT set_config('lock_timeout', '0', false);\nALTER TABLE t ADD COLUMN x int;",
        "DO $$ BEGIN PERFORM set_config('lock_timeout', '0', false); END $$;\nALTER TABLE t ADD COLUMN x int;",
    ];
    for reset in resets {
        let dir = migrations(&[("1_after_reset", &format!("SET search_path = public;\n{reset}"))]);
        // A reader holding the table until its session times out, 4 s from now.
        let reader = Session::connect(url);
        reader.execute("SET idle_in_transaction_session_timeout = '4s'; BEGIN; SELECT count(*) FROM t");
        let deploy = haste(dir.path(), &["migrate", "deploy", "--url", url, "--lock-deadline", "500ms"]);
        drop(reader);
        assert_eq!(deploy.code, 6, "{reset} the budget gives up at its deadline: {deploy:?}");
        assert!(deploy.stderr.contains("55P03"), "{reset} {deploy:?}");
        assert_eq!(
            db.value("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'x'")
                .as_deref(),
            Some("0")
        );
    }
}

/// PostgreSQL's `lock_timeout` bounds each lock wait on its own: an attempt that held one table
/// while it waited for a second would hold up the first table's users for the wait on the
/// second too. The attempt's lock timeout is shared between the existing relations it locks
/// against the application (a partitioned table's partitions each take a share, tables the
/// file creates none), and reported.
#[test]
fn an_attempt_that_locks_two_tables_shares_its_lock_timeout_between_them() {
    let cases = [
        ("1_two_tables", "ALTER TABLE u ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;", 200),
        ("1_one_table", "ALTER TABLE t ADD COLUMN c int;", 400),
        (
            "1_one_new",
            "CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN d int;\nALTER TABLE t ADD COLUMN e int;",
            400,
        ),
        // A file's own transaction block: shared within it, not with what follows it.
        (
            "1_own_block",
            "BEGIN;\nALTER TABLE u ADD COLUMN f int;\nALTER TABLE t ADD COLUMN g int;\nCOMMIT;\nALTER TABLE u ADD COLUMN h int;",
            200,
        ), // A partitioned table is locked with each of its partitions, each a wait of its own:
        // p, p1, p2 and p2's partition p2a, then t.
        ("1_partitioned", "ALTER TABLE p ADD COLUMN i int;\nALTER TABLE t ADD COLUMN j int;", 80),
        // A rename locks the partitioned table alone, not its partitions.
        ("1_rename_partitioned", "ALTER TABLE p RENAME TO q;\nALTER TABLE t ADD COLUMN x int;", 200),
        // A table locked again in a stronger mode waits again, holding the weaker lock.
        ("1_upgrade", "CREATE INDEX t_id ON t (id);\nALTER TABLE t ADD COLUMN o int;", 200),
        // A table created in another schema is not the existing one of the same name.
        (
            "1_same_name_elsewhere",
            "CREATE SCHEMA other;\nCREATE TABLE other.u (id int);\nALTER TABLE u ADD COLUMN q int;\nALTER TABLE t ADD COLUMN r int;",
            200,
        ),
        // An unqualified name after the file's own SET search_path is that path's table:
        // app.ap and its two partitions, then t.
        (
            "1_search_path",
            "SET search_path = app;\nALTER TABLE ap ADD COLUMN s int;\nALTER TABLE public.t ADD COLUMN v int;",
            100,
        ),
        // The same in a block of the file's own after the SET: the session keeps the path.
        (
            "1_search_path_block",
            "SET search_path = app;\nBEGIN;\nALTER TABLE ap ADD COLUMN s int;\nALTER TABLE public.t ADD COLUMN v int;\nCOMMIT;",
            100,
        ),
        // A DO block locks what its statements (and a literal it EXECUTEs) lock.
        (
            "1_do_block",
            "DO $$ BEGIN ALTER TABLE u ADD COLUMN m int; EXECUTE 'ALTER TABLE t ADD COLUMN n int'; END $$;",
            200,
        ),
        (
            "1_partitioned_block",
            "BEGIN;\nALTER TABLE p ADD COLUMN k int;\nALTER TABLE t ADD COLUMN l int;\nCOMMIT;",
            80,
        ),
        // Tables only the catalog names: dropping a foreign key locks the table it references
        // (r), a partitioned one with its partitions (rp, rp1, rp2); dropping a table or a
        // column drops its foreign keys; a referenced column's type change rebuilds those
        // referencing it; TRUNCATE ... CASCADE empties the referencing tables.
        ("1_drop_foreign_key", "ALTER TABLE f DROP CONSTRAINT f_r_fk;\nALTER TABLE t ADD COLUMN x int;", 133),
        (
            "1_drop_foreign_key_to_partitioned",
            "ALTER TABLE f DROP CONSTRAINT f_rp_fk;\nALTER TABLE t ADD COLUMN x int;",
            80,
        ),
        ("1_drop_table", "DROP TABLE f;\nALTER TABLE t ADD COLUMN x int;", 66),
        ("1_drop_key_column", "ALTER TABLE f DROP COLUMN r_id;\nALTER TABLE t ADD COLUMN x int;", 133),
        ("1_drop_other_column", "ALTER TABLE f DROP COLUMN note;\nALTER TABLE t ADD COLUMN x int;", 200),
        (
            "1_retype_referenced",
            "ALTER TABLE r ALTER COLUMN id TYPE bigint;\nALTER TABLE t ADD COLUMN x int;",
            133,
        ),
        ("1_truncate_cascade", "TRUNCATE r CASCADE;\nALTER TABLE t ADD COLUMN x int;", 133),
        // What a DROP ... CASCADE takes along: the tables whose column has the type (f, g),
        // whose foreign key uses the index (f, besides r), the schema's tables and those their
        // foreign keys reference (app.ap, its two partitions, app.k, and w).
        ("1_drop_type_cascade", "DROP TYPE mood CASCADE;\nALTER TABLE t ADD COLUMN x int;", 133),
        ("1_drop_index_cascade", "DROP INDEX r_code CASCADE;\nALTER TABLE t ADD COLUMN x int;", 133),
        ("1_drop_schema_cascade", "DROP SCHEMA app CASCADE;\nALTER TABLE t ADD COLUMN x int;", 66),
        // Columns of the type's array type (h, g), and views over views of a dropped table
        // (vb, v1, v2), go too.
        ("1_drop_type_of_arrays", "DROP TYPE tone CASCADE;\nALTER TABLE t ADD COLUMN x int;", 133),
        ("1_drop_table_under_views", "DROP TABLE vb CASCADE;\nALTER TABLE t ADD COLUMN x int;", 100),
        // A partition leaving a table referenced by f: rp, rp2, f, then t.
        ("1_detach_referenced", "ALTER TABLE rp DETACH PARTITION rp2;\nALTER TABLE t ADD COLUMN x int;", 100),
    ];
    for (name, sql, per_lock) in cases {
        let Some(db) = database() else { return };
        let url = db.url.as_str();
        db.execute(
            "CREATE TABLE t (id int); CREATE TABLE u (id int);
             CREATE TABLE p (id int) PARTITION BY RANGE (id);
             CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
             CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20) PARTITION BY RANGE (id);
             CREATE TABLE p2a PARTITION OF p2 FOR VALUES FROM (10) TO (20);
             CREATE SCHEMA app; CREATE TABLE app.ap (id int) PARTITION BY RANGE (id);
             CREATE TABLE app.ap1 PARTITION OF app.ap FOR VALUES FROM (0) TO (10);
             CREATE TABLE app.ap2 PARTITION OF app.ap FOR VALUES FROM (10) TO (20);
             CREATE TABLE r (id int PRIMARY KEY);
             CREATE TABLE rp (id int PRIMARY KEY) PARTITION BY RANGE (id);
             CREATE TABLE rp1 PARTITION OF rp FOR VALUES FROM (0) TO (10);
             CREATE TABLE rp2 PARTITION OF rp FOR VALUES FROM (10) TO (20);
             CREATE TABLE f (id int, note text, r_id int CONSTRAINT f_r_fk REFERENCES r,
               rp_id int CONSTRAINT f_rp_fk REFERENCES rp);
             CREATE TYPE mood AS ENUM ('a'); CREATE TABLE g (m mood); ALTER TABLE f ADD COLUMN m mood;
             ALTER TABLE r ADD COLUMN code int; CREATE UNIQUE INDEX r_code ON r (code);
             ALTER TABLE f ADD COLUMN r_code int CONSTRAINT f_r_code_fk REFERENCES r (code);
             CREATE TABLE w (id int PRIMARY KEY); CREATE TABLE app.k (id int CONSTRAINT k_w_fk REFERENCES w);
             CREATE TYPE tone AS ENUM ('x'); CREATE TABLE h (e tone[]); ALTER TABLE g ADD COLUMN e tone[];
             CREATE TABLE vb (id int); CREATE VIEW v1 AS SELECT * FROM vb; CREATE VIEW v2 AS SELECT * FROM v1",
        );
        let dir = migrations(&[(name, sql)]);
        let holder = hold_lock(url, "ACCESS SHARE", Duration::from_millis(1500));
        let run = haste(
            dir.path(),
            &["migrate", "deploy", "--url", url, "--lock-timeout", "400ms", "--format", "json"],
        );
        holder.join().unwrap();
        assert_eq!(run.code, 0, "{name}: {run:?}");
        let retrying: Vec<serde_json::Value> =
            run.json_lines().into_iter().filter(|event| event["event"] == "retrying").collect();
        assert!(!retrying.is_empty(), "{name}: {run:?}");
        assert_eq!(retrying[0]["lock_timeout_ms"].as_u64(), Some(per_lock), "{name}: {run:?}");
    }
}

/// A pooler in front of `server` (`host:port`) that refuses a startup packet with startup
/// options, as PgBouncer does one it cannot apply (FATAL 08P01), and passes every other session
/// through: its address, and how many sessions it refused.
fn pooler_refusing_options(server: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = refused.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let server = server.clone();
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut length = [0u8; 4];
                if client.read_exact(&mut length).is_err() {
                    return;
                }
                let mut startup = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
                if client.read_exact(&mut startup).is_err() {
                    return;
                }
                if startup.windows(8).any(|window| window == b"options\0") {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let fields = b"SFATAL\0VFATAL\0C08P01\0Munsupported startup parameter: options\0\0";
                    let mut error = vec![b'E'];
                    error.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
                    error.extend_from_slice(fields);
                    let _ = client.write_all(&error);
                    return;
                }
                let Ok(mut upstream) = std::net::TcpStream::connect(&server) else { return };
                let _ = upstream.write_all(&length).and_then(|()| upstream.write_all(&startup));
                let (mut from_client, mut to_server) =
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || std::io::copy(&mut from_client, &mut to_server));
                let _ = std::io::copy(&mut upstream, &mut client);
            });
        }
    });
    (address, refused)
}

/// A pooler that refuses startup options (PgBouncer with an option it does not know) gets the
/// session without the budget's defaults: deploy still applies under the runner's own `SET`s.
#[test]
fn a_pooler_refusing_startup_options_gets_the_session_without_them() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE t (id int)");
    let (server, name) = db.url.trim_start_matches("postgres://postgres@").split_once('/').unwrap();
    let (pooler, refused) = pooler_refusing_options(server.to_owned());
    let url = format!("postgres://postgres@{pooler}/{name}?sslmode=disable");
    let dir = migrations(&[("1_add", "ALTER TABLE t ADD COLUMN v int;")]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert!(refused.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the options were offered first");
    assert_eq!(
        db.value("SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'v'")
            .as_deref(),
        Some("1")
    );
}
