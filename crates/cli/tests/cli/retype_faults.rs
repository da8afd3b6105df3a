//! The adversary of the online type change (expand, backfill, prepare, swap, validate, and the
//! regeneration of a generated column): the deploy's session is killed at every statement
//! position of the plan, and in the middle of every concurrent build; a view added by someone
//! else before the swap; a lock held past the deadline during the swap; the password of the
//! connection string in every message.
//!
//! Positions are counted in the database itself, so no hook of the runner is needed: an event
//! trigger (`ddl_command_start` and `ddl_command_end`, every DDL statement of the deploy's
//! session), a statement trigger on each retyped table (every batch of a data step, every
//! swap's `UPDATE`) and one on `_haste_migrations` (every history write) each take a number
//! from a sequence, which no rollback gives back; the one whose number is the database's
//! `fault.kill` setting ends its own session. A clean run first lists the positions.

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use haste_testkit::{Session, TempDir, TestDb, database, wait_until};

use crate::{Run, command, haste, migration_folders as folders, wait_for_orphans};

const PASSWORD: &str = "s3cr3t-Pa55";

const V1: &str = "CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (id bigint PRIMARY KEY, account_id integer REFERENCES accounts (id));
CREATE TABLE items (
  id integer PRIMARY KEY,
  qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
  code varchar(20) UNIQUE
);
CREATE INDEX items_qty_idx ON items (qty);
CREATE VIEW big_items AS SELECT id, qty FROM items WHERE qty > 10;
CREATE TABLE orders (id integer PRIMARY KEY, price integer NOT NULL,
  total integer GENERATED ALWAYS AS (price * 2) STORED);
CREATE TABLE other (id int PRIMARY KEY, x int);";

/// Every kind of step at once: a referenced key widened (its foreign key re-added and
/// validated last), two columns of one table (one narrowed, so checked first; an index, a
/// unique key, a check, a default and a view over them), a generated column regenerated
/// around its source's type change, set apart from a concurrent build.
fn v2() -> String {
    V1.replace("accounts (id integer", "accounts (id bigint")
        .replace("qty integer", "qty bigint")
        .replace("varchar(20)", "varchar(8)")
        .replace("price integer", "price bigint")
        .replace("total integer", "total bigint")
        + "\nCREATE INDEX other_x_idx ON other (x);"
}

/// 1,500 rows a table: a backfill's first batch is 1,000 rows and the next at least 500 (a
/// batch changes by at most a factor of two), so every run has the same two batches and the
/// same positions, however loaded the machine.
const ROWS: &str = "INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 1500) g;
INSERT INTO notes SELECT g, 1 + g % 1500 FROM generate_series(1, 1000) g;
INSERT INTO items SELECT g, g % 50, 'c' || g FROM generate_series(1, 1500) g;
INSERT INTO orders (id, price) SELECT g, g FROM generate_series(1, 500) g;
INSERT INTO other SELECT g, g FROM generate_series(1, 500) g;";

/// Every value of every table, whatever type the columns have now.
const VALUES: &str =
    "SELECT (SELECT count(*) || ':' || sum(id) || ':' || sum(length(name)) FROM accounts) || '/' ||
  (SELECT count(*) || ':' || sum(account_id) FROM notes) || '/' ||
  (SELECT count(*) || ':' || sum(qty) || ':' || sum(length(code)) FROM items) || '/' ||
  (SELECT count(*) || ':' || sum(price) || ':' || sum(total) FROM orders) || '/' ||
  (SELECT count(*) || ':' || sum(x) FROM other)";

/// Where the positions are counted and the fault is injected. `fault.kill` ends the session at
/// that position; `fault.pause` holds it there until `fault_go` has a row; `fault.log` lists
/// every position in `fault_log` (the clean run).
const FAULTS: &str = r#"
CREATE SEQUENCE fault_seq;
CREATE TABLE fault_log (n bigint, what text);
CREATE TABLE fault_go (go boolean);
CREATE FUNCTION fault_tick(what text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE n bigint;
BEGIN
  IF current_setting('application_name') NOT LIKE 'haste/%' THEN RETURN; END IF;
  n := nextval('fault_seq');
  IF current_setting('fault.log', true) = 'on' THEN INSERT INTO fault_log VALUES (n, what); END IF;
  IF n = coalesce(nullif(current_setting('fault.kill', true), ''), '0')::bigint THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
  END IF;
  IF n = coalesce(nullif(current_setting('fault.pause', true), ''), '0')::bigint THEN
    -- At most a minute: a test that fails while the deploy waits here must not hang.
    FOR i IN 1..3000 LOOP EXIT WHEN EXISTS (SELECT FROM fault_go); PERFORM pg_sleep(0.02); END LOOP;
  END IF;
END $f$;
CREATE FUNCTION fault_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $f$
BEGIN
  -- A sequence gives the transaction an id, and DROP INDEX CONCURRENTLY refuses to start in one
  -- that has an id: no position before it (the one after the statement before stands for it).
  IF TG_EVENT = 'ddl_command_start' AND TG_TAG = 'DROP INDEX' AND current_query() ~* 'CONCURRENTLY' THEN
    RETURN;
  END IF;
  PERFORM fault_tick(TG_EVENT || ' ' || left(current_query(), 90));
END $f$;
CREATE FUNCTION fault_rows() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN PERFORM fault_tick(TG_OP || ' ' || TG_TABLE_NAME || ' ' || left(current_query(), 60)); RETURN NULL; END $f$;
CREATE EVENT TRIGGER fault_start ON ddl_command_start EXECUTE FUNCTION fault_ddl();
CREATE EVENT TRIGGER fault_end ON ddl_command_end EXECUTE FUNCTION fault_ddl();
"#;

/// Takes the fault machinery out again (the schema is then compared with a clean run's).
const NO_FAULTS: &str = "DROP EVENT TRIGGER fault_start; DROP EVENT TRIGGER fault_end;
DROP FUNCTION fault_rows() CASCADE; DROP FUNCTION fault_ddl(); DROP FUNCTION fault_tick(text);
DROP TABLE fault_log, fault_go; DROP SEQUENCE fault_seq;";

/// A plan to break: the schemas before and after, how `migrate dev` is asked, the rows, what
/// every value sums to, and what `status` can be checked against.
struct Scenario {
    v1: &'static str,
    v2: String,
    /// More arguments of `migrate dev` (`--expand-contract`, `--rename`).
    dev: &'static [&'static str],
    rows: &'static str,
    values: &'static str,
    /// Tables whose row writes are positions (their backfills).
    tables: &'static [&'static str],
    /// Swaps (one transaction each): the end of the migration's name, and a column with its
    /// new type, which it has exactly when the swap is applied.
    swaps: &'static [(&'static str, &'static str, &'static str, &'static str)],
    /// A regeneration of a generated column (one transaction): the end of its migration's
    /// name, the table, the generated column and the column whose type changes under it.
    regenerated: Option<(&'static str, &'static str, &'static str, &'static str)>,
}

/// `FAULTS` with the row positions of `scenario`'s tables and of history writes.
fn faults(scenario: &Scenario) -> String {
    let mut sql = FAULTS.to_owned();
    for table in scenario.tables.iter().chain(&["_haste_migrations"]) {
        sql.push_str(&format!(
            "CREATE TRIGGER fault_rows BEFORE INSERT OR UPDATE OR DELETE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION fault_rows();\n"
        ));
    }
    sql
}

fn matrix_v1() -> Scenario {
    Scenario {
        v1: V1,
        v2: v2(),
        dev: &[],
        rows: ROWS,
        values: VALUES,
        tables: &["accounts", "items"],
        swaps: &[
            ("_swap", "accounts", "id", "bigint"),
            ("_swap_items", "items", "qty", "bigint"),
            ("_swap_items", "items", "code", "character varying(8)"),
        ],
        regenerated: Some(("_retype", "orders", "total", "price")),
    }
}

/// The migrations of `scenario` planned on a development database, its `v1` in their first.
fn planned(scenario: &Scenario) -> Option<TempDir> {
    let dev_db = database()?;
    let dir = TempDir::new("retype-faults");
    dir.write("schema.sql", scenario.v1);
    let dev = |name: &str, extra: &[&str]| {
        let args = ["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--name", name];
        haste(dir.path(), &[&args[..], extra].concat())
    };
    assert_eq!(dev("init", &[]).code, 0);
    dir.write("schema.sql", &scenario.v2);
    let run = dev("retype", scenario.dev);
    assert_eq!(run.code, 0, "{run:?}");
    Some(dir)
}

/// A production database at the scenario's `v1` with rows, the fault machinery installed, and
/// `settings` (`fault.kill = 7`, ...) for the sessions that connect from now on.
fn production(dir: &TempDir, scenario: &Scenario, settings: &[(&str, &str)]) -> TestDb {
    let prod = database().unwrap();
    let init = folders(dir)[0].clone();
    let held = TempDir::new("retype-faults-held");
    let later: Vec<_> = folders(dir).into_iter().skip(1).collect();
    // Only the first migration: deployed from a folder of its own.
    fs::create_dir_all(held.path().join("migrations")).unwrap();
    let target = held.path().join("migrations").join(init.file_name().unwrap());
    fs::create_dir_all(&target).unwrap();
    fs::copy(init.join("migration.sql"), target.join("migration.sql")).unwrap();
    let lock = dir.path().join("migrations/migration_lock.toml");
    if lock.exists() {
        fs::copy(lock, held.path().join("migrations/migration_lock.toml")).unwrap();
    }
    let first = haste(held.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(first.code, 0, "{first:?} {later:?}");
    prod.execute(scenario.rows);
    prod.execute(&faults(scenario));
    for (name, value) in settings {
        prod.execute(&format!("ALTER DATABASE \"{}\" SET {name} = '{value}'", prod.name));
    }
    prod
}

fn deploy(dir: &TempDir, db: &TestDb, json: bool) -> Run {
    let url = db.url_with_password(PASSWORD);
    let mut args = vec!["migrate", "deploy", "--url", &url];
    if json {
        args.extend(["--format", "json"]);
    }
    haste(dir.path(), &args)
}

fn no_password(run: &Run, context: &str) {
    assert!(!run.all().contains(PASSWORD), "{context}: the password is printed: {run:?}");
}

/// The state `migrate status` gives each migration, by the end of its name (`_prepare`, ...).
fn states(dir: &TempDir, db: &TestDb) -> (Vec<(String, String, i64)>, Run) {
    let status = haste(
        dir.path(),
        &["migrate", "status", "--url", &db.url_with_password(PASSWORD), "--format", "json"],
    );
    let report = &status.json_lines()[0];
    let list = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
                m["statements_done"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    (list, status)
}

/// What `status` says against what the database holds, after a fault.
fn status_is_truthful(dir: &TempDir, db: &TestDb, scenario: &Scenario, context: &str) {
    let (states, status) = states(dir, db);
    no_password(&status, context);
    let context = format!("{context}: {states:?}");
    let state = |end: &str| {
        states
            .iter()
            .find(|(name, ..)| name.ends_with(end))
            .unwrap_or_else(|| panic!("no migration ending {end}: {context}"))
            .1
            .clone()
    };
    let column_type = |table: &str, column: &str| {
        db.value(&format!(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '{table}'::regclass
             AND attname = '{column}' AND NOT attisdropped"
        ))
    };
    // A swap is one transaction: applied exactly when the column has its new type, and until
    // then the old column is there with its old type.
    for &(end, table, column, new) in scenario.swaps {
        let swapped = column_type(table, column).as_deref() == Some(new);
        assert_eq!(state(end) == "applied", swapped, "{end}: {table}.{column}: {context}");
        assert!(matches!(state(end).as_str(), "applied" | "pending"), "{end}: {context}");
    }
    // A migration run statement by statement stopped at its statement `done`: every statement
    // before it took effect, none after it did (the one at `done` may have run without being
    // recorded). A pending one took no effect at all, unless its schema part is done and only
    // its data step is left.
    for (name, state, done) in &states {
        let folder = dir.path().join("migrations").join(name);
        let sql = fs::read_to_string(folder.join("migration.sql")).unwrap();
        let statements = haste_sql::Script::parse(haste_sql::Dialect::Postgres, &sql).statements;
        let done = usize::try_from(*done).unwrap();
        let (before, after) = match state.as_str() {
            "interrupted" | "failed" => (done, done + 1),
            "pending" if done == statements.len() && done > 0 => (done, done),
            "pending" => (0, 0),
            _ => continue,
        };
        for (i, statement) in statements.iter().enumerate() {
            let Some((took_effect, object)) = effect(db, &statement.text) else { continue };
            // A later statement that ran may have dropped it again.
            let dropped = statements[i + 1..before.max(i + 1)]
                .iter()
                .any(|later| later.text.contains("DROP") && later.text.contains(&object));
            if i < before && !dropped {
                assert!(
                    took_effect,
                    "{name} [{i}] is done but did not take effect: {}: {context}",
                    statement.text
                );
            } else if i >= after && i >= before {
                assert!(
                    !took_effect,
                    "{name} [{i}] is not done but took effect: {}: {context}",
                    statement.text
                );
            }
        }
    }
    // The regeneration is one transaction: never without its generated column.
    if let Some((end, table, generated, source)) = scenario.regenerated {
        let regenerated = column_type(table, source).as_deref() == Some("bigint");
        assert_eq!(state(end) == "applied", regenerated, "{context}");
        assert!(
            column_type(table, generated).is_some(),
            "the generated column is never left dropped: {context}"
        );
    }
    // Nothing reports success over an INVALID index: every invalid index was being built (or
    // dropped concurrently: a drop cut short leaves it so) by a migration that is not applied.
    let invalid = db.query(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid",
    );
    for row in invalid {
        let index = row[0].clone().unwrap();
        let owner = folders(dir).into_iter().find(|folder| {
            let sql = fs::read_to_string(folder.join("migration.sql")).unwrap();
            haste_sql::Script::parse(haste_sql::Dialect::Postgres, &sql).statements.iter().any(|statement| {
                ["INDEX CONCURRENTLY IF NOT EXISTS", "DROP INDEX CONCURRENTLY IF EXISTS"]
                    .iter()
                    .any(|keyword| name_after(&statement.text, keyword).as_deref() == Some(index.as_str()))
            })
        });
        let owner =
            owner.unwrap_or_else(|| panic!("an INVALID index {index} nobody builds or drops: {context}"));
        let name = owner.file_name().unwrap().to_string_lossy().into_owned();
        let owner_state = &states.iter().find(|(n, ..)| *n == name).unwrap().1;
        assert!(
            matches!(owner_state.as_str(), "interrupted" | "failed"),
            "INVALID index {index} while {name} is {owner_state}: {context}"
        );
    }
}

/// The name after `keyword` in `statement`, unquoted, without its schema.
fn name_after(statement: &str, keyword: &str) -> Option<String> {
    let mut rest = statement[statement.find(keyword)? + keyword.len()..].trim_start();
    loop {
        let (name, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (quoted[..end].to_owned(), &quoted[end + 1..])
            }
            None => {
                let end =
                    rest.find(|c: char| c.is_whitespace() || c == '(' || c == '.').unwrap_or(rest.len());
                (rest[..end].to_owned(), &rest[end..])
            }
        };
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None => return Some(name),
        }
    }
}

/// Whether the effect of one of the plan's statements on haste's own objects (its new columns,
/// functions, triggers, checks, validations and concurrent builds) is in the database; `None`
/// for the others, whose effect cannot be told apart from what was there before.
fn effect(db: &TestDb, statement: &str) -> Option<(bool, String)> {
    let count = |sql: String| db.value(&sql).as_deref() != Some("0");
    if let Some(index) = name_after(statement, "INDEX CONCURRENTLY IF NOT EXISTS") {
        let valid = count(format!(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '{index}' AND i.indisvalid"
        ));
        return Some((valid, index));
    }
    let ours = |name: String| Some(name).filter(|name| name.contains("haste"));
    if let Some(trigger) = name_after(statement, "ENABLE ALWAYS TRIGGER").and_then(ours) {
        let always =
            count(format!("SELECT count(*) FROM pg_trigger WHERE tgname = '{trigger}' AND tgenabled = 'A'"));
        return Some((always, trigger));
    }
    if let Some(trigger) = name_after(statement, "CREATE TRIGGER").and_then(ours) {
        return Some((count(format!("SELECT count(*) FROM pg_trigger WHERE tgname = '{trigger}'")), trigger));
    }
    if let Some(function) = name_after(statement, "CREATE FUNCTION").and_then(ours) {
        return Some((count(format!("SELECT count(*) FROM pg_proc WHERE proname = '{function}'")), function));
    }
    if let Some(column) = name_after(statement, "ADD COLUMN").and_then(ours) {
        let exists = count(format!(
            "SELECT count(*) FROM pg_attribute WHERE attname = '{column}' AND NOT attisdropped AND attnum > 0"
        ));
        return Some((exists, column));
    }
    if let Some(constraint) = name_after(statement, "VALIDATE CONSTRAINT").and_then(ours) {
        let validated = count(format!(
            "SELECT count(*) FROM pg_constraint WHERE conname = '{constraint}' AND convalidated"
        ));
        return Some((validated, constraint));
    }
    if let Some(constraint) = name_after(statement, "ADD CONSTRAINT").and_then(ours) {
        return Some((
            count(format!("SELECT count(*) FROM pg_constraint WHERE conname = '{constraint}'")),
            constraint,
        ));
    }
    None
}

/// Deploys until everything is applied, as an operator would: a deploy refused because a
/// migration stopped part-way is followed by `resolve --resume` (with `--drop-invalid-index`
/// for the build a killed session left INVALID).
fn recover(dir: &TempDir, db: &TestDb, context: &str) -> String {
    let mut transcript = String::new();
    for attempt in 0..8u32 {
        // Text and JSON in turn: neither may print the password.
        let run = deploy(dir, db, attempt.is_multiple_of(2));
        no_password(&run, context);
        transcript.push_str(&format!("{run:?}\n"));
        match run.code {
            0 if states(dir, db).0.iter().any(|(_, state, _)| state != "applied") => {}
            0 => return transcript,
            7 => {
                let (states, _) = states(dir, db);
                let stuck = states
                    .iter()
                    .find(|(_, state, _)| matches!(state.as_str(), "interrupted" | "failed"))
                    .map(|(name, ..)| name.clone())
                    .unwrap_or_else(|| panic!("{context}: blocked, nothing stuck:\n{transcript}"));
                let url = db.url_with_password(PASSWORD);
                let resume = haste(
                    dir.path(),
                    &["migrate", "resolve", "--url", &url, "--resume", &stuck, "--drop-invalid-index"],
                );
                no_password(&resume, context);
                transcript.push_str(&format!("{resume:?}\n"));
                assert_eq!(resume.code, 0, "{context}:\n{transcript}");
            }
            _ => panic!("{context}:\n{transcript}"),
        }
    }
    panic!("{context}: did not recover:\n{transcript}");
}

/// Deploys until nothing is left (a held contract takes one deploy more) or a deploy stops.
fn deploys(dir: &TempDir, url: &str) -> Run {
    let mut last = None;
    for _ in 0..3 {
        let child = command(dir.path(), &["migrate", "deploy", "--url", url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if run.code != 0 || !run.all().contains("for a later deploy") {
            return run;
        }
        last = Some(run);
    }
    last.unwrap()
}

/// One case: the database at the scenario's `v1`, deployed until the deploy is killed where
/// `settings` say (or by `during`, run beside the deploys), then the checks and the way out.
fn case(
    dir: &TempDir,
    scenario: &Scenario,
    expected: &(String, Option<String>),
    label: &str,
    settings: &[(&str, &str)],
    during: impl FnOnce(&TestDb) + Send,
) {
    let prod = production(dir, scenario, settings);
    let before = prod.value(scenario.values);
    let url = prod.url_with_password(PASSWORD);
    let killed = std::thread::scope(|scope| {
        let beside = scope.spawn(|| during(&prod));
        let killed = deploys(dir, &url);
        beside.join().unwrap();
        killed
    });
    no_password(&killed, label);
    assert_eq!(killed.code, 9, "{label}: the lost session is exit 9: {killed:?}");
    assert!(killed.stderr.contains("connection"), "{label}: {killed:?}");
    wait_for_orphans(&prod);
    prod.execute(&format!("ALTER DATABASE \"{}\" RESET ALL", prod.name));
    prod.execute(NO_FAULTS);
    assert_eq!(prod.value(scenario.values), before, "{label}: every value as it was");
    status_is_truthful(dir, &prod, scenario, label);
    let transcript = recover(dir, &prod, label);
    assert_eq!(&prod.schema_dump(), &expected.0, "{label}: the desired schema:\n{transcript}");
    assert_eq!(prod.value(scenario.values), expected.1, "{label}: every value kept:\n{transcript}");
    assert_eq!(prod.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid").as_deref(), Some("0"));
    let once = prod.value(
        "SELECT count(*) FILTER (WHERE (SELECT count(*) FROM _haste_events e WHERE e.name = m.name AND e.event = 'applied') <> 1)
         FROM _haste_migrations m",
    );
    assert_eq!(once.as_deref(), Some("0"), "{label}: every migration applied once:\n{transcript}");
}

/// The deploy's session killed at every statement of the plan (before and after each DDL
/// statement, at each batch of the backfills, at each history write) and in the middle of
/// every concurrent build: the data is intact, no INVALID index is reported done, `status`
/// says what the database holds, and deploy (with `resolve --resume` where a migration
/// stopped part-way) ends in the desired schema with every value.
#[test]
fn a_deploy_killed_at_every_position_of_a_retype_plan_recovers_to_the_desired_schema() {
    every_position(&matrix_v1());
}

/// The same over a rename across two releases with a type change beside it: the rename's
/// expand and copy, the type change's expand, backfill and prepare in the first release's
/// deploy, its swap and the contract in the next one.
#[test]
fn a_deploy_killed_at_every_position_of_an_expand_contract_plan_recovers_to_the_desired_schema() {
    let v1 =
        "CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL, score integer NOT NULL DEFAULT 0);
CREATE INDEX people_name_idx ON people (name);
CREATE INDEX people_score_idx ON people (score);";
    every_position(&Scenario {
        v1,
        v2: v1
            .replace("name text", "full_name text")
            .replace("(name)", "(full_name)")
            .replace("score integer", "score bigint"),
        dev: &["--rename", "public.people.name=full_name", "--expand-contract"],
        rows: "INSERT INTO people SELECT g, 'p' || g, g FROM generate_series(1, 1500) g",
        values: "SELECT count(*) || ':' || sum(score) || ':' || sum(length(coalesce(to_jsonb(p) ->> 'full_name', to_jsonb(p) ->> 'name'))) FROM people p",
        tables: &["people"],
        swaps: &[("_swap", "people", "score", "bigint")],
        regenerated: None,
    });
}

/// The kill matrix of `scenario`.
fn every_position(scenario: &Scenario) {
    let Some(dir) = planned(scenario) else { return };
    // The clean run: the desired schema, the values, and every position.
    let reference = production(&dir, scenario, &[("fault.log", "on")]);
    let clean = deploys(&dir, &reference.url_with_password(PASSWORD));
    assert_eq!(clean.code, 0, "{clean:?}");
    let positions: Vec<(i64, String)> = reference
        .query("SELECT n, what FROM fault_log ORDER BY n")
        .into_iter()
        .map(|row| (row[0].as_deref().unwrap().parse().unwrap(), row[1].clone().unwrap()))
        .collect();
    let values = reference.value(scenario.values);
    reference.execute(NO_FAULTS);
    let expected = (reference.schema_dump(), values);
    let builds: Vec<i64> = positions
        .iter()
        .filter(|(_, what)| what.starts_with("ddl_command_start") && what.contains("INDEX CONCURRENTLY"))
        .map(|(n, _)| *n)
        .collect();
    assert!(!builds.is_empty(), "{positions:?}");
    for table in scenario.tables {
        assert!(
            positions.iter().any(|(_, what)| what.starts_with(&format!("UPDATE {table}"))),
            "{positions:?}"
        );
    }
    let only: Option<i64> = std::env::var("HASTE_RETYPE_FAULT").ok().and_then(|n| n.parse().ok());
    eprintln!("{} positions, {} concurrent builds", positions.len(), builds.len());
    if std::env::var("HASTE_RETYPE_FAULT_LIST").is_ok() {
        for (n, what) in &positions {
            eprintln!("{n}: {what}");
        }
        for folder in folders(&dir) {
            eprintln!("{}", folder.display());
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((n, what)) = positions.get(i) else { break };
                    if only.is_some_and(|only| only != *n) {
                        continue;
                    }
                    let label = format!("killed at {n} ({what})");
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        case(&dir, scenario, &expected, &label, &[("fault.kill", &n.to_string())], |_| {})
                    }));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures.lock().unwrap().push(format!("{label}: {message}"));
                    }
                }
            });
        }
    });
    // In the middle of each concurrent build: held at its start, an old snapshot taken, let go,
    // killed while it waits for that snapshot (the index is in the catalog, INVALID).
    for n in builds {
        if only.is_some_and(|only| only != n) {
            continue;
        }
        let label = format!("killed in the middle of the build at {n}");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            case(&dir, scenario, &expected, &label, &[("fault.pause", &n.to_string())], |prod| {
                let deploy_pid = "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'haste/%' AND datname = current_database()";
                let paused = wait_until(Duration::from_secs(60), || {
                    prod.value(&format!("{deploy_pid} AND wait_event = 'PgSleep'")).is_some()
                });
                assert!(paused, "{label}: the build never started");
                let old = Session::connect(&prod.url);
                old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1");
                prod.execute("INSERT INTO fault_go VALUES (true)");
                let waiting = wait_until(Duration::from_secs(60), || {
                    prod.value(&format!("{deploy_pid} AND wait_event = 'virtualxid'")).is_some()
                });
                assert!(waiting, "{label}: the build never waited for the old snapshot");
                let pid = prod.value(&format!("{deploy_pid} AND wait_event = 'virtualxid'")).unwrap();
                let invalid = prod.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid");
                assert_eq!(invalid.as_deref(), Some("1"), "{label}: the build is half done");
                prod.execute(&format!("SELECT pg_terminate_backend({pid})"));
                old.execute("COMMIT");
            })
        }));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.lock().unwrap().push(format!("{label}: {message}"));
        }
    }
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} failing positions:\n{}", failures.len(), failures.join("\n\n"));
}

const SMALL: &str = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0);
CREATE INDEX t_n_idx ON t (n);";

/// `SMALL` planned to `n bigint`, deployed on a production database with rows up to the swap
/// (the swap's folder held back); returns the folder, the database and the swap's folder name.
fn up_to_the_swap() -> Option<(TempDir, TestDb, String)> {
    up_to_the_swap_of(SMALL, "INSERT INTO t SELECT g, g FROM generate_series(1, 2000) g")
}

/// `v1` (a table `t` with `n integer`) planned to `n bigint`, deployed with `rows` on a production
/// database up to the swap, whose folder is held back; the folder, the database and the swap's
/// folder name.
fn up_to_the_swap_of(v1: &str, rows: &str) -> Option<(TempDir, TestDb, String)> {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return None };
    let dir = TempDir::new("retype-swap");
    let dev = |desired: &str, name: &str| {
        dir.write("schema.sql", desired);
        haste(dir.path(), &["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--name", name])
    };
    assert_eq!(dev(v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute(rows);
    let run = dev(&v1.replace("n integer", "n bigint"), "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let swap = folders(&dir).into_iter().find(|f| f.to_string_lossy().ends_with("_swap")).unwrap();
    let held = dir.path().join("held-swap");
    fs::rename(&swap, &held).unwrap();
    let expanded = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(expanded.code, 0, "{expanded:?}");
    fs::rename(&held, &swap).unwrap();
    Some((dir, prod, swap.file_name().unwrap().to_string_lossy().into_owned()))
}

/// The swap rolled back whole: the old column with its type and every value, the new one
/// still kept filled by its trigger, the swap pending, no INVALID index.
fn swap_rolled_back(dir: &TempDir, prod: &TestDb, swap: &str) {
    let columns = "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped";
    assert_eq!(prod.value(columns).as_deref(), Some("id integer,n integer,n_haste_new bigint"));
    assert_eq!(prod.value("SELECT count(*) || ':' || sum(n) FROM t").as_deref(), Some("2000:2001000"));
    assert_eq!(prod.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid").as_deref(), Some("0"));
    prod.execute("UPDATE t SET n = -1 WHERE id = 1");
    assert_eq!(prod.value("SELECT n_haste_new FROM t WHERE id = 1").as_deref(), Some("-1"), "still in sync");
    prod.execute("UPDATE t SET n = 1 WHERE id = 1");
    let (states, _) = states(dir, prod);
    let state = &states.iter().find(|(name, ..)| name == swap).unwrap().1;
    assert_eq!(state, "pending", "{states:?}");
}

/// Someone adds a view over the old column after the plan was written: the swap's `DROP
/// COLUMN` is refused, the swap rolls back whole, the message says which view is in the way
/// and never suggests `CASCADE` (which would drop that view); once the view is gone the same
/// deploy goes through.
#[test]
fn a_view_added_on_the_old_column_before_the_swap_rolls_the_swap_back_whole() {
    let Some((dir, prod, swap)) = up_to_the_swap() else { return };
    prod.execute("CREATE VIEW report AS SELECT id, n FROM t WHERE n > 1000");
    for json in [false, true] {
        let failed = deploy(&dir, &prod, json);
        no_password(&failed, "view");
        assert_eq!(failed.code, 6, "{failed:?}");
        let all = failed.all();
        assert!(
            all.contains("2BP01") && all.contains("view report depends on column n of table t"),
            "{failed:?}"
        );
        assert!(all.contains(&swap), "names the migration: {failed:?}");
        assert!(
            !all.contains("Use DROP ... CASCADE") && all.contains("change or drop them first"),
            "CASCADE would drop the user's view: {failed:?}"
        );
        if json {
            assert!(!failed.json_lines().is_empty(), "only JSON on stdout: {failed:?}");
        }
        swap_rolled_back(&dir, &prod, &swap);
    }
    assert_eq!(prod.value("SELECT count(*) FROM report").as_deref(), Some("1000"));
    prod.execute("DROP VIEW report");
    let applied = deploy(&dir, &prod, false);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(
        prod.value("SELECT sum(n) || ':' || pg_typeof(n) FROM t GROUP BY pg_typeof(n)").as_deref(),
        Some("2001000:bigint")
    );
}

/// Another session holds `ACCESS SHARE` on the table past the lock budget's deadline while the
/// swap wants its lock: the swap rolls back whole after its attempts, the message names the
/// blocker (pid, application name), and the password of the connection string is printed
/// nowhere, in text or JSON.
#[test]
fn a_lock_held_past_the_deadline_rolls_the_swap_back_and_names_the_blocker() {
    let Some((dir, prod, swap)) = up_to_the_swap() else { return };
    for json in [false, true] {
        let holder = crate::budget::hold_lock(&prod.url, "ACCESS SHARE", Duration::from_secs(4));
        let url = prod.url_with_password(PASSWORD);
        let mut args = vec!["migrate", "deploy", "--url", &url, "--lock-deadline", "1s"];
        if json {
            args.extend(["--format", "json"]);
        }
        let failed = haste(dir.path(), &args);
        holder.join().unwrap();
        no_password(&failed, "lock");
        assert_eq!(failed.code, 6, "{failed:?}");
        assert!(failed.all().contains("55P03") && failed.all().contains(&swap), "{failed:?}");
        if json {
            let lines = failed.json_lines();
            let blockers: Vec<&serde_json::Value> = lines
                .iter()
                .filter(|event| event["event"] == "retrying")
                .flat_map(|event| event["blockers"].as_array().unwrap())
                .collect();
            assert!(
                !blockers.is_empty() && blockers.iter().all(|b| b["application_name"] == "report"),
                "{failed:?}"
            );
            let end = lines.last().unwrap();
            assert_eq!(end["ok"], false, "{failed:?}");
        } else {
            assert!(
                failed.all().contains("waited for pid")
                    && failed.all().contains("(report, idle in transaction"),
                "{failed:?}"
            );
            assert!(failed.stderr.contains("rolled back"), "{failed:?}");
        }
        swap_rolled_back(&dir, &prod, &swap);
    }
    let applied = deploy(&dir, &prod, false);
    assert_eq!(applied.code, 0, "{applied:?}");
}

/// `migrate dev` of `desired` (written as schema.sql in `dir`) against `dev_db`, with `extra`
/// arguments.
fn dev_with(dir: &TempDir, dev_db: &TestDb, desired: &str, name: &str, extra: &[&str]) -> Run {
    dir.write("schema.sql", desired);
    let args = ["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--name", name];
    haste(dir.path(), &[&args[..], extra].concat())
}

const CONTACTS: &str = "CREATE TABLE contacts (id integer PRIMARY KEY, name text NOT NULL, score integer);
CREATE INDEX contacts_name_idx ON contacts (name);";

/// `--expand-contract` across two releases: the expand leaves the old release's index on the
/// old column in place (the new one is built beside it under another name), the old release's
/// writes to the old column reach the new one and the new release's the old one; a backfill
/// killed part-way is resumed by the next deploy, which holds the contract back, so the release
/// still reading the old column never loses it in the deploy that finished the copy; the
/// contract of a later deploy ends in the desired schema with every value.
#[test]
fn expand_contract_keeps_the_old_releases_index_and_holds_the_contract_until_the_copy_is_done() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-expand-contract");
    let dev = |desired: &str, name: &str, extra: &[&str]| dev_with(&dir, &dev_db, desired, name, extra);
    assert_eq!(dev(CONTACTS, "init", &[]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g, g FROM generate_series(1, 5000) g");
    let v2 = CONTACTS.replace("name text", "full_name text").replace("(name)", "(full_name)");
    let run = dev(&v2, "full_name", &["--rename", "public.contacts.name=full_name", "--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let expand = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(!expand.contains("DROP INDEX"), "the expand drops no index of the old release:\n{expand}");

    // The backfill is killed at its second batch.
    prod.execute(
        "CREATE SEQUENCE kill_seq;
         CREATE FUNCTION kill_backfill() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN
           IF current_setting('application_name') LIKE 'haste/%'
              AND current_query() LIKE '%SET \"full_name\" = \"name\"%' AND nextval('kill_seq') = 2 THEN
             PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);
           END IF;
           RETURN NULL;
         END $f$;
         CREATE TRIGGER kill_backfill BEFORE UPDATE ON contacts FOR EACH STATEMENT EXECUTE FUNCTION kill_backfill();",
    );
    let killed = deploy(&dir, &prod, false);
    no_password(&killed, "expand-contract");
    assert_eq!(killed.code, 9, "{killed:?}");
    wait_for_orphans(&prod);
    prod.execute(
        "DROP TRIGGER kill_backfill ON contacts; DROP FUNCTION kill_backfill(); DROP SEQUENCE kill_seq;",
    );
    let copied = "SELECT count(*) FILTER (WHERE full_name IS NULL) > 0 FROM contacts";
    assert_eq!(prod.value(copied).as_deref(), Some("t"), "the copy stopped part-way");
    let (stopped, _) = states(&dir, &prod);
    assert!(stopped[2].1 == "pending", "the contract waits: {stopped:?}");

    // The old release writes the old column, the new release the new one.
    let index = "SELECT pg_get_indexdef('contacts_name_idx'::regclass)";
    assert!(prod.value(index).unwrap().ends_with("(name)"), "the old release's index");
    prod.execute("INSERT INTO contacts (id, name, score) VALUES (-1, 'old release', 1)");
    prod.execute("UPDATE contacts SET name = 'renamed by old' WHERE id = 4999");
    prod.execute("INSERT INTO contacts (id, full_name, score) VALUES (-2, 'new release', 2)");

    let resumed = deploy(&dir, &prod, false);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(prod.value(copied).as_deref(), Some("f"), "the copy is done");
    let (states, _) = states(&dir, &prod);
    assert_eq!(
        states[2].1, "pending",
        "the deploy that finished the copy holds the contract: {states:?} {resumed:?}"
    );
    assert!(prod.value(index).unwrap().ends_with("(name)"), "the old release's index is still there");
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE name IS DISTINCT FROM full_name").as_deref(),
        Some("0")
    );

    let contracted = deploy(&dir, &prod, false);
    assert_eq!(contracted.code, 0, "{contracted:?}");
    assert!(
        prod.value(index).unwrap().ends_with("(full_name)"),
        "the index takes its name on the new column"
    );
    assert_eq!(
        prod.value("SELECT count(*) || ':' || sum(score) || ':' || count(*) FILTER (WHERE full_name = 'n' || id) FROM contacts")
            .as_deref(),
        Some("5002:12502503:4999")
    );
    assert_eq!(
        prod.value("SELECT string_agg(full_name, ',' ORDER BY id) FROM contacts WHERE id < 0 OR id = 4999")
            .as_deref(),
        Some("new release,old release,renamed by old")
    );
}

/// The password of the connection string in no message of `migrate dev` and `deploy`, in text
/// or JSON: a desired schema the server refuses, a database that does not exist, a type change
/// whose rows do not convert.
#[test]
fn no_message_of_dev_or_deploy_prints_the_password() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-secrets");
    let dev_url = dev_db.url_with_password(PASSWORD);
    // Nothing listens on port 1: the connection is refused.
    let missing = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/{}", dev_db.name);
    let dev = |url: &str, desired: &str, json: bool| {
        dir.write("schema.sql", desired);
        let mut args = vec!["migrate", "dev", "--url", url, "--schema", "schema.sql", "--name", "m"];
        if json {
            args.extend(["--format", "json"]);
        }
        haste(dir.path(), &args)
    };
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, code text);";
    assert_eq!(dev(&dev_url, v1, false).code, 0);
    assert_eq!(deploy(&dir, &prod, false).code, 0);
    prod.execute("INSERT INTO t VALUES (1, 'not a number')");
    for json in [false, true] {
        let refused =
            dev(&dev_url, "CREATE TABLE t (id integer PRIMARY KEY, code text REFERENCES nowhere);", json);
        no_password(&refused, "dev, refused schema");
        assert_ne!(refused.code, 0, "{refused:?}");
        let absent = dev(&missing, v1, json);
        no_password(&absent, "dev, no server");
        assert_ne!(absent.code, 0, "{absent:?}");
        if json {
            assert!(!refused.json_lines().is_empty() && !absent.json_lines().is_empty());
        }
    }
    assert_eq!(dev(&dev_url, &v1.replace("code text", "code integer"), false).code, 0);
    for json in [false, true] {
        let failed = deploy(&dir, &prod, json);
        no_password(&failed, "deploy, rows that do not convert");
        assert_eq!(failed.code, 6, "{failed:?}");
        let status = states(&dir, &prod).1;
        no_password(&status, "status");
    }
}

/// An expand run statement by statement (it also builds an index concurrently) whose session
/// is killed part-way is finished by `resolve --resume`; the deploy that follows is the one the
/// new release goes out with, so it still holds the contract back: the old release reads the
/// old column until then.
#[test]
fn a_contract_waits_for_the_deploy_after_the_one_whose_expand_resolve_finished() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-expand-resolved");
    let dev = |desired: &str, name: &str, extra: &[&str]| dev_with(&dir, &dev_db, desired, name, extra);
    assert_eq!(dev(CONTACTS, "init", &[]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g, g FROM generate_series(1, 2000) g");
    let v2 = CONTACTS.replace("name text", "full_name text").replace("(name)", "(full_name)")
        + "\nCREATE INDEX contacts_score_idx ON contacts (score);";
    let run = dev(&v2, "full_name", &["--rename", "public.contacts.name=full_name", "--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    let expand_name = folders(&dir)[1].file_name().unwrap().to_string_lossy().into_owned();
    let expand = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(expand.contains("haste:transaction off") && expand.contains("CONCURRENTLY"), "{expand}");

    // Killed as the concurrent build starts.
    prod.execute(
        "CREATE FUNCTION kill_build() RETURNS event_trigger LANGUAGE plpgsql AS $f$
         BEGIN
           IF current_setting('application_name') LIKE 'haste/%' AND current_query() LIKE '%CONCURRENTLY%' THEN
             PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);
           END IF;
         END $f$;
         CREATE EVENT TRIGGER kill_build ON ddl_command_start EXECUTE FUNCTION kill_build();",
    );
    let killed = deploy(&dir, &prod, false);
    assert_eq!(killed.code, 9, "{killed:?}");
    wait_for_orphans(&prod);
    prod.execute("DROP EVENT TRIGGER kill_build; DROP FUNCTION kill_build();");
    let blocked = deploy(&dir, &prod, false);
    assert_eq!(blocked.code, 7, "{blocked:?}");
    let url = prod.url_with_password(PASSWORD);
    let resumed = haste(dir.path(), &["migrate", "resolve", "--url", &url, "--resume", &expand_name]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE full_name IS DISTINCT FROM name").as_deref(),
        Some("0"),
        "the copy is done"
    );

    let next = deploy(&dir, &prod, false);
    assert_eq!(next.code, 0, "{next:?}");
    let old_column = "SELECT count(*) FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = 'name' AND NOT attisdropped";
    assert_eq!(prod.value(old_column).as_deref(), Some("1"), "the contract is held: {next:?}");
    // The message names who finished the expand: this deploy did not apply it.
    assert!(
        next.stdout.contains(&format!(
            "{expand_name}, which `migrate resolve` finished or marked applied since the last deploy"
        )),
        "{next:?}"
    );
    let contracted = deploy(&dir, &prod, false);
    assert_eq!(contracted.code, 0, "{contracted:?}");
    assert_eq!(prod.value(old_column).as_deref(), Some("0"), "{contracted:?}");
}

/// `--expand-contract` with a type change beside the rename: the type change goes through its
/// own expand, backfill and prepare in the first release and its swap in the second, beside the
/// contract, never `ALTER COLUMN ... TYPE` in place (it used to be written as a rewrite with "no
/// online form" allowed); the old release's writes between the two reach both, and every value
/// is kept.
#[test]
fn expand_contract_with_a_type_change_swaps_it_online_in_the_second_release() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-expand-contract-type");
    let dev = |desired: &str, name: &str, extra: &[&str]| dev_with(&dir, &dev_db, desired, name, extra);
    assert_eq!(dev(CONTACTS, "init", &[]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g, g FROM generate_series(1, 3000) g");
    let v2 = CONTACTS
        .replace("name text", "full_name text")
        .replace("(name)", "(full_name)")
        .replace("score integer", "score bigint");
    let run = dev(&v2, "full_name", &["--rename", "public.contacts.name=full_name", "--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    let text: String = folders(&dir)[1..]
        .iter()
        .map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap())
        .collect();
    assert!(!text.contains(" TYPE bigint") && text.contains("score_haste_new"), "{text}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");

    let first = deploy(&dir, &prod, false);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("_swap for a later deploy"), "{first:?}");
    let score = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = 'score'";
    assert_eq!(prod.value(score).as_deref(), Some("integer"), "swapped in the second release");
    prod.execute("INSERT INTO contacts (id, name, score) VALUES (-1, 'old release', 1500)");
    let second = deploy(&dir, &prod, false);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(prod.value(score).as_deref(), Some("bigint"));
    prod.execute("INSERT INTO contacts (id, full_name, score) VALUES (-2, 'new release', 5000000000)");
    assert_eq!(
        prod.value("SELECT count(*) || ':' || sum(score) || ':' || count(*) FILTER (WHERE full_name = 'n' || id) FROM contacts")
            .as_deref(),
        Some("3002:5004503000:3000")
    );
    assert_eq!(prod.value("SELECT full_name FROM contacts WHERE id = -1").as_deref(), Some("old release"));
}

/// A `-- haste:transaction off` file: its session killed after a statement committed but
/// before its progress row (here at the history write after `CREATE FUNCTION`) used to leave
/// history one statement behind, so `resolve --resume` ran `CREATE FUNCTION` again and failed
/// on "already exists". Each statement that can run in a transaction now commits with its
/// progress row; a `CALL` of a procedure that commits by itself still runs outside one.
#[test]
fn a_transaction_off_statement_commits_with_its_progress_row_and_a_committing_call_still_runs() {
    let Some(db) = database() else { return };
    let dir = crate::migrations(&[
        (
            "1_base",
            "CREATE TABLE t (id int);\nCREATE PROCEDURE fill() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; INSERT INTO t VALUES (2); END $$;",
        ),
        (
            "2_off",
            "-- haste:transaction off\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nCALL fill();\nCREATE TABLE u (id int);",
        ),
    ]);
    let first = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(first.code, 0, "{first:?}");
    db.execute(
        "DROP TABLE u; DROP FUNCTION f(); TRUNCATE t; DELETE FROM _haste_migrations WHERE name = '2_off'",
    );
    // Killed at the first history write after the function was created.
    db.execute(
        "CREATE SEQUENCE kill_seq;
         CREATE FUNCTION kill_history() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN
           IF current_setting('application_name') LIKE 'haste/%' AND to_regproc('f') IS NOT NULL
              AND nextval('kill_seq') = 1 THEN
             PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);
           END IF;
           RETURN NULL;
         END $f$;
         CREATE TRIGGER kill_history BEFORE INSERT OR UPDATE ON _haste_migrations FOR EACH STATEMENT EXECUTE FUNCTION kill_history();",
    );
    let killed = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(killed.code, 9, "{killed:?}");
    wait_for_orphans(&db);
    db.execute("DROP TRIGGER kill_history ON _haste_migrations; DROP FUNCTION kill_history(); DROP SEQUENCE kill_seq;");
    let done = db.value("SELECT statements_done FROM _haste_migrations WHERE name = '2_off'");
    let created = db.value("SELECT count(*) FROM pg_proc WHERE proname = 'f'");
    assert_eq!(
        (done.as_deref(), created.as_deref()),
        (Some("0"), Some("0")),
        "history and the database agree: the function went with its unwritten progress row"
    );
    let resumed = haste(dir.path(), &["migrate", "resolve", "--url", &db.url, "--resume", "2_off"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM t").as_deref(), Some("1,2"));
    assert_eq!(db.value("SELECT to_regclass('u') IS NOT NULL").as_deref(), Some("t"));
}

/// An index and a check someone added on the old column after the plan was written: the
/// swap's `DROP COLUMN` would drop them with it silently (PostgreSQL refuses only for views)
/// and the deploy reported success without them. The swap now stops whole, naming them.
#[test]
fn an_index_or_check_added_on_the_old_column_before_the_swap_is_never_dropped_silently() {
    let Some((dir, prod, swap)) = up_to_the_swap() else { return };
    prod.execute(
        "CREATE INDEX t_n_hotfix ON t (n); ALTER TABLE t ADD CONSTRAINT t_n_positive CHECK (n > -100)",
    );
    for json in [false, true] {
        let failed = deploy(&dir, &prod, json);
        no_password(&failed, "unknown dependents");
        assert_eq!(failed.code, 6, "{failed:?}");
        let all = failed.all();
        assert!(all.contains("2BP01") && all.contains("t_n_hotfix, t_n_positive depend on it"), "{failed:?}");
        assert!(all.contains(&swap) && all.contains("change or drop them first"), "{failed:?}");
        swap_rolled_back(&dir, &prod, &swap);
    }
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_class WHERE relname = 't_n_hotfix'").as_deref(),
        Some("1"),
        "still there"
    );
    prod.execute("DROP INDEX t_n_hotfix; ALTER TABLE t DROP CONSTRAINT t_n_positive");
    let applied = deploy(&dir, &prod, false);
    assert_eq!(applied.code, 0, "{applied:?}");
}

/// Whether PostgreSQL refuses a statement in a transaction block can depend on its table:
/// `REINDEX TABLE` and `CLUSTER` of a partitioned table are refused (25001), of a plain one
/// not. A `-- haste:transaction off` file promises each statement runs alone; since statements
/// that could run in a transaction commit with their progress row, these failed on 25001
/// (before that change they ran). They now run alone when refused there.
#[test]
fn a_transaction_off_statement_refused_in_a_transaction_block_by_its_table_still_runs_alone() {
    let Some(db) = database() else { return };
    let dir = crate::migrations(&[
        (
            "1_base",
            "CREATE TABLE p (id int) PARTITION BY RANGE (id);\nCREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);\nCREATE INDEX p_i ON p (id);",
        ),
        (
            "2_off",
            "-- haste:transaction off\nCREATE TABLE t (id int);\n/* partitioned */ reindex table p;\nCLUSTER p USING p_i;\nCREATE TABLE u (id int);",
        ),
    ]);
    for json in [false, true] {
        let applied = deploy(&dir, &db, json);
        no_password(&applied, "transaction off");
        assert_eq!(applied.code, 0, "{applied:?}");
        if json {
            assert!(
                applied.json_lines().iter().any(|line| line.to_string().contains("2_off")),
                "{applied:?}"
            );
        }
        assert_eq!(
            db.value("SELECT status || ':' || statements_done FROM _haste_migrations WHERE name = '2_off'")
                .as_deref(),
            Some("applied:4")
        );
        assert_eq!(db.value("SELECT to_regclass('u') IS NOT NULL").as_deref(), Some("t"));
        db.execute("DROP TABLE t, u; DELETE FROM _haste_migrations WHERE name = '2_off'");
    }
}

/// A history write that fails (a trigger on `_haste_migrations` raising, standing in for a
/// revoked privilege or a full disk) at every write of a `-- haste:transaction off` file, once,
/// then again at every write after it (so the failure cannot be recorded either). Each
/// ordinary statement goes with its progress row; what history says is done is done, and
/// what it says is not done is not, except a statement that ran outside a transaction (the
/// concurrent build) whose record failed, which the message names; `resolve --resume` brings
/// it to the end; the password is never printed.
#[test]
fn a_failing_history_write_at_every_position_of_a_transaction_off_file_leaves_history_true() {
    let file = "-- haste:transaction off\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nCREATE TABLE b (id int);\nINSERT INTO b VALUES (2);";
    // What statement `i` leaves behind, as a query answering `t` or `f` (rows counted through
    // `query_to_xml`, so that a table not there yet is `f`, not an error).
    let left = [
        "SELECT to_regclass('a') IS NOT NULL",
        "SELECT CASE WHEN to_regclass('a') IS NULL THEN false ELSE (xpath('count(//row)', query_to_xml('SELECT 1 FROM a', false, false, '')))[1]::text::int > 0 END",
        "SELECT to_regclass('a_id') IS NOT NULL",
        "SELECT to_regclass('b') IS NOT NULL",
        "SELECT CASE WHEN to_regclass('b') IS NULL THEN false ELSE (xpath('count(//row)', query_to_xml('SELECT 1 FROM b', false, false, '')))[1]::text::int > 0 END",
    ];
    for persistent in [false, true] {
        // Writes: the start, then one per statement (the last one finishing).
        for failing in 1..=6 {
            let Some(db) = database() else { return };
            let dir = crate::migrations(&[("1_off", file)]);
            let context = format!("history write {failing} fails (persistent: {persistent})");
            db.execute(&format!(
                "CREATE SEQUENCE fail_seq;
                 CREATE FUNCTION fail_history() RETURNS trigger LANGUAGE plpgsql AS $f$
                 BEGIN
                   IF current_setting('application_name') LIKE 'haste/%' AND {} THEN
                     RAISE EXCEPTION 'history refused';
                   END IF;
                   RETURN NEW;
                 END $f$;",
                if persistent {
                    format!("nextval('fail_seq') >= {failing}")
                } else {
                    format!("nextval('fail_seq') = {failing}")
                }
            ));
            // The history tables exist once haste made them: a first, empty deploy makes them.
            let empty = crate::migrations(&[]);
            assert_eq!(deploy(&empty, &db, false).code, 0);
            db.execute("CREATE TRIGGER fail_history BEFORE INSERT OR UPDATE ON _haste_migrations FOR EACH ROW EXECUTE FUNCTION fail_history();");
            let failed = deploy(&dir, &db, persistent);
            no_password(&failed, &context);
            assert_ne!(failed.code, 0, "{context}: {failed:?}");
            db.execute("DROP TRIGGER fail_history ON _haste_migrations");
            let done: usize = db
                .value("SELECT statements_done FROM _haste_migrations WHERE name = '1_off'")
                .map_or(0, |done| done.parse().unwrap());
            for (index, query) in left.iter().enumerate() {
                let there = db.value(query).as_deref() == Some("t");
                if index < done {
                    assert!(there, "{context}: statement {index} is recorded done: {failed:?}");
                } else if index == 2 && there {
                    // The concurrent build ran and its record failed: the message says so.
                    let all = failed.all();
                    assert!(
                        all.contains("failed too") || all.contains("\"unrecorded\""),
                        "{context}: {failed:?}"
                    );
                } else {
                    assert!(!there, "{context}: statement {index} ran but is not recorded done: {failed:?}");
                }
            }
            let status = haste(dir.path(), &["migrate", "status", "--url", &db.url, "--format", "json"]);
            let _ = status.json_lines();
            let resumed =
                match db.value("SELECT status FROM _haste_migrations WHERE name = '1_off'").as_deref() {
                    None => deploy(&dir, &db, false),
                    Some(_) => {
                        let url = db.url_with_password(PASSWORD);
                        haste(dir.path(), &["migrate", "resolve", "--url", &url, "--resume", "1_off"])
                    }
                };
            no_password(&resumed, &context);
            assert_eq!(resumed.code, 0, "{context}: {resumed:?}");
            assert_eq!(db.value("SELECT count(*) FROM a").as_deref(), Some("1"), "{context}");
            assert_eq!(db.value("SELECT count(*) FROM b").as_deref(), Some("1"), "{context}");
        }
    }
}

/// What someone adds over the old column after the plan was written, other than an index or a
/// check: a statistics object goes with `DROP COLUMN` silently (PostgreSQL records it as an
/// automatic dependant), so the swap stops whole naming it; a trigger on `UPDATE OF` the column,
/// a policy reading it and a generated column over it PostgreSQL refuses to drop itself (2BP01),
/// with haste's hint, never CASCADE. Each is still there, and the swap goes through once it is
/// gone.
#[test]
fn a_statistics_object_trigger_policy_or_generated_column_added_on_the_old_column_stops_the_swap() {
    let Some((dir, prod, swap)) = up_to_the_swap() else { return };
    prod.execute("CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$");
    let added = [
        ("CREATE STATISTICS t_hand_stats ON id, n FROM t", "t_hand_stats", "DROP STATISTICS t_hand_stats"),
        (
            "CREATE TRIGGER t_hand_trigger BEFORE UPDATE OF n ON t FOR EACH ROW EXECUTE FUNCTION keep()",
            "trigger t_hand_trigger",
            "DROP TRIGGER t_hand_trigger ON t",
        ),
        (
            "CREATE POLICY t_hand_policy ON t USING (n > 0)",
            "policy t_hand_policy",
            "DROP POLICY t_hand_policy ON t",
        ),
        (
            "ALTER TABLE t ADD COLUMN twice bigint GENERATED ALWAYS AS (n * 2) STORED",
            "column twice",
            "ALTER TABLE t DROP COLUMN twice",
        ),
    ];
    for (add, named, remove) in added {
        prod.execute(add);
        for json in [false, true] {
            let failed = deploy(&dir, &prod, json);
            no_password(&failed, add);
            assert_eq!(failed.code, 6, "{add}: {failed:?}");
            let all = failed.all();
            assert!(all.contains("2BP01") && all.contains(named) && all.contains(&swap), "{add}: {failed:?}");
            assert!(all.contains("change or drop them first"), "{add}: {failed:?}");
            if !add.contains("GENERATED") {
                swap_rolled_back(&dir, &prod, &swap);
            }
        }
        prod.execute(remove);
    }
    let applied = deploy(&dir, &prod, false);
    assert_eq!(applied.code, 0, "{applied:?}");
}

/// A table made to inherit from the retyped one by hand after the plan (`migrate dev` refuses
/// `INHERITS` trees): its rows are never copied to the new column (the trigger and `data.sql`
/// see the parent's own rows), so the swap replaced their values with NULL and reported
/// success. The swap now stops whole, naming the child, and goes through once it is gone.
#[test]
fn a_table_inheriting_from_the_retyped_one_added_by_hand_stops_the_swap_instead_of_losing_values() {
    let nullable = "CREATE TABLE t (id integer PRIMARY KEY, n integer);";
    let rows = "INSERT INTO t SELECT g, g FROM generate_series(1, 20) g";
    let Some((dir, prod, swap)) = up_to_the_swap_of(nullable, rows) else { return };
    prod.execute("CREATE TABLE tc () INHERITS (t); INSERT INTO tc (id, n) VALUES (5000, 77)");
    for json in [false, true] {
        let failed = deploy(&dir, &prod, json);
        no_password(&failed, "inheriting table");
        assert_eq!(failed.code, 6, "{failed:?}");
        let all = failed.all();
        assert!(all.contains("2BP01") && all.contains("tc inherit") && all.contains(&swap), "{failed:?}");
        assert_eq!(prod.value("SELECT n FROM t WHERE id = 5000").as_deref(), Some("77"), "{failed:?}");
        let (states, _) = states(&dir, &prod);
        assert_eq!(states.iter().find(|(name, ..)| name == &swap).unwrap().1, "pending", "{states:?}");
    }
    prod.execute("DROP TABLE tc");
    let applied = deploy(&dir, &prod, false);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(
        prod.value("SELECT sum(n)::text || pg_typeof(n)::text FROM t GROUP BY pg_typeof(n)").as_deref(),
        Some("210bigint")
    );
}

/// Two tables a foreign key links, each with a type change: the referenced key (`id`) and a
/// checked, indexed column (`score`), so release 2 has a swap and a validation.
const SCORED: &str = "CREATE TABLE contacts (id integer PRIMARY KEY, name text NOT NULL,
  score integer NOT NULL DEFAULT 0 CHECK (score >= 0));
CREATE INDEX contacts_score_idx ON contacts (score);
CREATE TABLE visits (id bigint PRIMARY KEY, contact_id integer REFERENCES contacts (id));";

/// `--expand-contract` with a type change and no rename: release 1 (check, expand, backfill,
/// prepare) and release 2 (swap, validate), the swap held by the first deploy. Between them
/// the old release keeps writing the old column and the trigger keeps the new one equal;
/// `status` and `plan` say where the deploys are; the swap keeps every value, those written
/// during the first deploy and between the two.
#[test]
fn expand_contract_splits_a_type_change_across_two_releases_and_keeps_every_write() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-two-releases");
    let dev = |desired: &str, name: &str, extra: &[&str]| dev_with(&dir, &dev_db, desired, name, extra);
    assert_eq!(dev(SCORED, "init", &[]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute(
        "INSERT INTO contacts SELECT g, 'n' || g, g FROM generate_series(1, 3000) g;
         INSERT INTO visits SELECT g, 1 + g % 3000 FROM generate_series(1, 2000) g;",
    );
    let v2 = SCORED
        .replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY")
        .replace("score integer", "score bigint");
    let run = dev(&v2, "wider", &["--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    let names: Vec<String> =
        folders(&dir).iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let ends: Vec<&str> = names.iter().map(|n| &n[n.find('_').unwrap()..]).collect();
    assert_eq!(ends, ["_init", "_wider", "_wider_prepare", "_wider_swap", "_wider_validate"], "{names:?}");
    let text = |index: usize| fs::read_to_string(folders(&dir)[index].join("migration.sql")).unwrap();
    assert!(folders(&dir)[1].join("data.sql").exists() && !text(1).contains("DROP COLUMN"), "{}", text(1));
    assert!(text(3).contains(&format!("-- haste:after {}\n", names[2])), "the swap waits: {}", text(3));
    assert!(!text(4).contains("haste:after"), "the validation follows the swap: {}", text(4));
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");

    let url = prod.url_with_password(PASSWORD);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", &url]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains(&format!("Deploy will stop before {} and hold it for a later deploy", names[3])),
        "{plan:?}"
    );

    // Release 1, with the old release writing the old columns all along.
    let writes =
        "INSERT INTO contacts (id, name, score) SELECT -g, 'during', g FROM generate_series(1, 50) g;
         UPDATE contacts SET score = score + 1 WHERE id BETWEEN 1 AND 100";
    let first = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for round in 0..20 {
                prod.execute(&writes.replace("-g", &format!("-g - {}", round * 100)));
            }
        });
        let first = deploy(&dir, &prod, false);
        writer.join().unwrap();
        first
    });
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains(&format!("Held {} for a later deploy", names[3])), "{first:?}");
    let column_type = |column: &str| {
        prod.value(&format!(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = '{column}'"
        ))
    };
    assert_eq!(column_type("score").as_deref(), Some("integer"), "not swapped in release 1");
    let (between, status) = states(&dir, &prod);
    let state: Vec<&str> = between.iter().map(|(_, state, _)| state.as_str()).collect();
    assert_eq!(state, ["applied", "applied", "applied", "pending", "pending"], "{status:?}");
    let plan = haste(dir.path(), &["migrate", "plan", "--url", &url]);
    assert!(plan.stdout.contains(&names[3]) && !plan.stdout.contains("Deploy will stop"), "{plan:?}");

    // Between the releases: the old release inserts, updates and deletes; the new columns follow.
    prod.execute(
        "INSERT INTO contacts (id, name, score) VALUES (-9000, 'between', 7);
         UPDATE contacts SET score = score * 2 WHERE id BETWEEN 200 AND 300;
         UPDATE contacts SET id = -9001 WHERE id = 2999;
         DELETE FROM contacts WHERE id = 3000;
         INSERT INTO visits VALUES (5000, -9000);",
    );
    let in_sync = "SELECT count(*) FROM contacts WHERE score_haste_new IS DISTINCT FROM score OR id_haste_new IS DISTINCT FROM id";
    assert_eq!(prod.value(in_sync).as_deref(), Some("0"));
    let values = "SELECT count(*) || ':' || sum(id) || ':' || sum(score) || ':' || (SELECT sum(contact_id) FROM visits) FROM contacts";
    let before = prod.value(values);

    // Release 2: the swap and the validation of the foreign key it added again.
    let second = deploy(&dir, &prod, false);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(
        (column_type("score").as_deref(), column_type("id").as_deref()),
        (Some("bigint"), Some("bigint"))
    );
    assert_eq!(prod.value(values), before, "every value kept");
    let validated = "SELECT bool_and(convalidated) FROM pg_constraint WHERE conrelid = 'visits'::regclass AND contype = 'f'";
    assert_eq!(prod.value(validated).as_deref(), Some("t"));
    prod.execute("INSERT INTO contacts (id, name, score) VALUES (5000000000, 'new', 5000000000)");
    let (after, _) = states(&dir, &prod);
    assert!(after.iter().all(|(_, state, _)| state == "applied"), "{after:?}");
    let clean = haste(
        dir.path(),
        &["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--create-only"],
    );
    assert!(
        clean.stdout.contains("no migration generated"),
        "the folder reaches the desired schema: {clean:?}"
    );
}

/// A rename and a type change of the same column are refused (the trigger would assign one
/// type to the other as it is); so are type changes of tables a foreign key links, and a run
/// with nothing to split. Each is a usage error (exit 2) that writes nothing.
#[test]
fn expand_contract_refuses_what_it_cannot_split_across_two_releases() {
    let Some(dev_db) = database() else { return };
    let dir = TempDir::new("retype-two-releases-refused");
    let dev = |desired: &str, extra: &[&str]| dev_with(&dir, &dev_db, desired, "next", extra);
    assert_eq!(dev(SCORED, &[]).code, 0);
    let written = folders(&dir).len();
    let renamed = dev(
        &SCORED.replace("score integer", "points bigint").replace("(score", "(points"),
        &["--rename", "public.contacts.score=points", "--expand-contract"],
    );
    assert_eq!(renamed.code, 2, "{renamed:?}");
    assert!(
        renamed.stderr.contains(
            "\"public\".\"contacts\".\"score\" is renamed to `points` and its type changes (integer to bigint)"
        ),
        "{renamed:?}"
    );
    let linked = dev(
        &SCORED
            .replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY")
            .replace("contact_id integer", "contact_id bigint"),
        &["--expand-contract"],
    );
    assert_eq!(linked.code, 2, "{linked:?}");
    assert!(
        linked
            .stderr
            .contains("cannot split the type changes of \"public\".\"visits\" and \"public\".\"contacts\""),
        "{linked:?}"
    );
    let nothing = dev(&format!("{SCORED}\nCREATE TABLE extra (id int);"), &["--expand-contract"]);
    assert_eq!(nothing.code, 2, "{nothing:?}");
    assert!(nothing.stderr.contains("found nothing to split across two releases"), "{nothing:?}");
    assert_eq!(folders(&dir).len(), written, "nothing written");

    // Two tables whose key does not change type: both first releases, then both swaps, the
    // first held; deployed over rows, every value kept.
    let prod = database().unwrap();
    assert_eq!(deploy(&dir, &prod, false).code, 0);
    prod.execute(
        "INSERT INTO contacts SELECT g, 'n' || g, g FROM generate_series(1, 1500) g;
         INSERT INTO visits SELECT g, g FROM generate_series(1, 1500) g;",
    );
    let values = "SELECT sum(score) || ':' || (SELECT sum(id) + sum(contact_id) FROM visits) FROM contacts";
    let before = prod.value(values);
    let both = dev(
        &SCORED.replace("score integer", "score bigint").replace("visits (id bigint", "visits (id integer"),
        &["--expand-contract", "--create-only"],
    );
    assert_eq!(both.code, 0, "{both:?}");
    let names: Vec<String> = folders(&dir)[written..]
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let ends: Vec<&str> = names.iter().map(|n| &n[n.find('_').unwrap()..]).collect();
    assert_eq!(
        ends,
        [
            "_next",
            "_next_prepare",
            "_next_expand_visits",
            "_next_prepare_visits",
            "_next_swap",
            "_next_swap_visits"
        ]
    );
    let swap = fs::read_to_string(folders(&dir)[written + 4].join("migration.sql")).unwrap();
    assert!(swap.contains(&format!("-- haste:after {}\n", names[3])), "{swap}");
    let first = deploy(&dir, &prod, false);
    assert!(first.code == 0 && first.stdout.contains(&format!("Held {}", names[4])), "{first:?}");
    prod.execute("UPDATE contacts SET score = score + 1 WHERE id = 1; INSERT INTO visits VALUES (-1, 2)");
    let second = deploy(&dir, &prod, false);
    assert_eq!(second.code, 0, "{second:?}");
    let types = "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attrelid::regclass::text)
      FROM pg_attribute WHERE attrelid IN ('contacts'::regclass, 'visits'::regclass) AND attname IN ('score', 'id')
      AND attnum > 0 AND NOT attisdropped AND (attname = 'score' OR attrelid = 'visits'::regclass)";
    assert_eq!(prod.value(types).as_deref(), Some("bigint,integer"));
    let expected = before.map(|b| {
        let (score, visits) = b.split_once(':').unwrap();
        format!("{}:{}", score.parse::<i64>().unwrap() + 1, visits.parse::<i64>().unwrap() + 1)
    });
    assert_eq!(prod.value(values), expected, "every value kept");
}

/// The kill matrix over a type change split across two releases: killed at every position of
/// the first deploy (check, expand, backfill, prepare) and of the second (the swap, held by the
/// first, and the validation of the foreign key it adds again), the data is intact, `status`
/// is truthful and deploys end in the desired schema.
#[test]
fn a_deploy_killed_at_every_position_of_a_two_release_type_change_recovers_to_the_desired_schema() {
    let v1 =
        "CREATE TABLE people (id integer PRIMARY KEY, score integer NOT NULL DEFAULT 0 CHECK (score >= 0));
CREATE INDEX people_score_idx ON people (score);
CREATE TABLE visits (id bigint PRIMARY KEY, person_id integer REFERENCES people (id));";
    every_position(&Scenario {
        v1,
        v2: v1
            .replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY")
            .replace("score integer", "score bigint"),
        dev: &["--expand-contract"],
        rows: "INSERT INTO people SELECT g, g FROM generate_series(1, 1500) g;
INSERT INTO visits SELECT g, 1 + g % 1500 FROM generate_series(1, 1000) g;",
        values: "SELECT count(*) || ':' || sum(id) || ':' || sum(score) || ':' || (SELECT sum(person_id) FROM visits) FROM people",
        tables: &["people"],
        swaps: &[("_swap", "people", "score", "bigint"), ("_swap", "people", "id", "bigint")],
        regenerated: None,
    });
}
