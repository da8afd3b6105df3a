//! Fleets: one migrations folder deployed to many databases and tenant schemas at once
//! (`--targets`, `--fleet`), each target with its own lock and history.
//!
//! `HASTE_FLEET_DATABASES` and `HASTE_FLEET_SCHEMAS` set the size of the big fleet (default 24
//! databases and 12 schemas, to keep CI short; BENCHMARKS.md reports a run with 200 and 100).

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use haste_testkit::{Durability, LocalCluster, TempDir, TestDb, database, wait_until};

use crate::{Run, command, haste, migrations, wait_for_orphans};

const PASSWORD: &str = "fleet-s3cret";

fn count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// Three migrations, each creating a table.
fn three_tables() -> TempDir {
    migrations(&[
        ("1_a", "CREATE TABLE a (id int PRIMARY KEY);"),
        ("2_b", "CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a);"),
        ("3_c", "CREATE TABLE c (id int);\nCREATE INDEX c_id ON c (id);"),
    ])
}

/// Writes `lines` as a targets file with a comment and a blank line, returning its path.
fn targets_file(dir: &TempDir, lines: &[String]) -> String {
    let text = format!("# the fleet\n\n{}\n", lines.join("\n"));
    dir.write("targets.txt", &text).to_str().unwrap().to_owned()
}

/// `(migration, status, applied events)` of the history in `schema` of `url`, by name.
fn history(url: &str, schema: &str) -> Vec<(String, String, String)> {
    haste_testkit::query(
        url,
        &format!(
            "SELECT m.name, m.status, (SELECT count(*) FROM \"{schema}\"._haste_events e \
             WHERE e.name = m.name AND e.event = 'applied') FROM \"{schema}\"._haste_migrations m ORDER BY 1"
        ),
    )
    .into_iter()
    .map(|row| {
        let mut row = row.into_iter().map(Option::unwrap_or_default);
        (row.next().unwrap(), row.next().unwrap(), row.next().unwrap())
    })
    .collect()
}

/// Every migration of `names` applied exactly once in `schema` of `url`.
fn assert_applied_once(url: &str, schema: &str, names: &[&str]) {
    let expected: Vec<(String, String, String)> =
        names.iter().map(|name| (name.to_string(), "applied".into(), "1".into())).collect();
    assert_eq!(history(url, schema), expected, "{url} schema {schema}");
}

fn has_history(db: &TestDb) -> bool {
    db.value("SELECT to_regclass('public._haste_migrations') IS NOT NULL").as_deref() == Some("t")
}

fn assert_no_password(run: &Run) {
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD), "{run:?}");
}

#[test]
fn a_fleet_of_databases_and_tenant_schemas_deploys_each_once_and_reports_status() {
    let Some(first) = database() else { return };
    let databases = count("HASTE_FLEET_DATABASES", 24);
    let schemas = count("HASTE_FLEET_SCHEMAS", 12);
    let mut dbs = vec![first];
    dbs.extend((1..databases).map(|_| database().unwrap()));
    let tenants = database().unwrap();
    tenants.execute(&(0..schemas).map(|i| format!("CREATE SCHEMA tenant_{i};")).collect::<String>());
    let dir = three_tables();
    let mut lines: Vec<String> = dbs.iter().map(|db| db.url_with_password(PASSWORD)).collect();
    lines.extend((0..schemas).map(|i| format!("{}?schema=tenant_{i}", tenants.url_with_password(PASSWORD))));
    let file = targets_file(&dir, &lines);

    let started = Instant::now();
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--jobs", "8"]);
    eprintln!(
        "fleet of {databases} databases and {schemas} schemas, 3 migrations each, --jobs 8: {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    let total = databases + schemas;
    assert!(run.stdout.contains(&format!("Fleet: {total} of {total} targets deployed")), "{run:?}");
    for db in &dbs {
        assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]);
    }
    for i in 0..schemas {
        let schema = format!("tenant_{i}");
        assert_applied_once(&tenants.url, &schema, &["1_a", "2_b", "3_c"]);
        // The migrations ran with the tenant's schema first on the search path.
        let tables = tenants.value(&format!(
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '{schema}' AND tablename NOT LIKE '\\_haste%'"
        ));
        assert_eq!(tables.as_deref(), Some("a,b,c"), "{schema}");
    }
    assert!(!has_history(&tenants), "nothing lands in public when every target names a schema");

    // A rerun has nothing to do; status shows the fleet up to date.
    let rerun = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert!(rerun.stdout.contains("(0 migrations applied)"), "{rerun:?}");
    let status = haste(dir.path(), &["migrate", "status", "--targets", &file]);
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(status.stdout.matches("up to date").count(), total, "{status:?}");
    assert_no_password(&status);

    // A new migration: every target is behind (exit 3) until the next deploy.
    dir.write("migrations/4_d/migration.sql", "CREATE TABLE d (id int);");
    let behind = haste(dir.path(), &["migrate", "status", "--targets", &file, "--format", "json"]);
    assert_eq!(behind.code, 3, "{behind:?}");
    let documents = behind.json_lines();
    assert_eq!(documents.len(), total + 1, "{behind:?}");
    assert!(documents[..total].iter().all(|d| d["event"] == "target_status" && d["counts"]["pending"] == 1));
    assert_eq!(documents[total]["behind"], total);
}

#[test]
fn a_failing_target_leaves_the_others_applied_and_json_names_each_target() {
    let Some(first) = database() else { return };
    let dbs: Vec<TestDb> = std::iter::once(first).chain((0..5).map(|_| database().unwrap())).collect();
    // The third database already has a table `b`: its second migration fails.
    dbs[2].execute("CREATE TABLE b (x int)");
    let dir = three_tables();
    let lines: Vec<String> = dbs.iter().map(|db| db.url_with_password(PASSWORD)).collect();
    let file = targets_file(&dir, &lines);
    let run =
        haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--jobs", "3", "--format", "json"]);
    assert_eq!(run.code, 19, "{run:?}");
    assert_no_password(&run);
    let documents = run.json_lines();
    assert!(documents.iter().all(|d| d["schema"] == "haste/1" && d.get("url").is_none()), "{run:?}");
    assert!(
        documents.iter().filter(|d| d["event"] != "fleet_finished").all(|d| d["target"].is_string()),
        "every event names its target: {run:?}"
    );
    let finished: Vec<&serde_json::Value> =
        documents.iter().filter(|d| d["event"] == "target_finished").collect();
    assert_eq!(finished.len(), 6);
    let failed: Vec<&&serde_json::Value> = finished.iter().filter(|d| d["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{run:?}");
    assert_eq!(failed[0]["error"]["code"], "MIGRATION_FAILED");
    assert!(failed[0]["target"].as_str().unwrap().contains(&dbs[2].name));
    let fleet = documents.last().unwrap();
    assert_eq!(
        (fleet["event"].as_str(), fleet["deployed"].as_u64(), fleet["failed"].as_u64()),
        (Some("fleet_finished"), Some(5), Some(1))
    );
    assert_eq!(fleet["exit_code"], 19);
    for (i, db) in dbs.iter().enumerate() {
        if i == 2 {
            assert_eq!(history(&db.url, "public"), vec![("1_a".into(), "applied".into(), "1".into())]);
        } else {
            assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]);
        }
    }

    // The text summary says which failed and why; fixed by hand, a rerun finishes it alone.
    let text = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
    assert_eq!(text.code, 19, "{text:?}");
    assert!(text.stdout.contains("FAILED") && text.stdout.contains("\"b\" already exists"), "{text:?}");
    assert_no_password(&text);
    dbs[2].execute("DROP TABLE b");
    let rerun = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert!(rerun.stdout.contains("(2 migrations applied)"), "{rerun:?}");
    assert_applied_once(&dbs[2].url, "public", &["1_a", "2_b", "3_c"]);
}

#[test]
fn a_failed_canary_stops_the_fleet_and_fail_fast_starts_no_other() {
    let Some(first) = database() else { return };
    let dbs: Vec<TestDb> = std::iter::once(first).chain((0..4).map(|_| database().unwrap())).collect();
    dbs[1].execute("CREATE TABLE c (x int)");
    let dir = three_tables();
    let lines: Vec<String> = dbs.iter().map(|db| db.url.clone()).collect();
    let file = targets_file(&dir, &lines);
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--canary", "2", "--jobs", "4"]);
    assert_eq!(run.code, 19, "{run:?}");
    assert_eq!(run.stdout.matches("skipped: a canary failed").count(), 3, "{run:?}");
    assert_applied_once(&dbs[0].url, "public", &["1_a", "2_b", "3_c"]);
    assert!(dbs[2..].iter().all(|db| !has_history(db)), "no target after the canaries was touched");

    // Canaries that pass let the rest go.
    dbs[1].execute("DROP TABLE c");
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--canary", "2"]);
    assert_eq!(run.code, 0, "{run:?}");
    dbs.iter().for_each(|db| assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]));

    // --fail-fast, one at a time: the failure is the first target, so nothing else starts.
    dir.write("migrations/4_d/migration.sql", "CREATE TABLE d (id int);");
    dbs[0].execute("CREATE TABLE d (x int)");
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--fail-fast", "--jobs", "1"]);
    assert_eq!(run.code, 19, "{run:?}");
    assert_eq!(run.stdout.matches("skipped: --fail-fast after a failure").count(), 4, "{run:?}");
    assert!(dbs[1..].iter().all(|db| history(&db.url, "public").len() == 3));
}

#[test]
fn a_killed_fleet_deploy_finishes_every_target_exactly_once_on_rerun() {
    let Some(first) = database() else { return };
    let dbs: Vec<TestDb> = std::iter::once(first).chain((0..11).map(|_| database().unwrap())).collect();
    let dir = migrations(&[
        ("1_a", "CREATE TABLE a (id int);\nSELECT pg_sleep(0.3);"),
        ("2_b", "CREATE TABLE b (id int);\nSELECT pg_sleep(0.3);"),
        ("3_c", "CREATE INDEX CONCURRENTLY a_id ON a (id);"),
    ]);
    let lines: Vec<String> = dbs.iter().map(|db| db.url.clone()).collect();
    let file = targets_file(&dir, &lines);
    let mut child = command(dir.path(), &["migrate", "deploy", "--targets", &file, "--jobs", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some targets are done and others are not started.
    let some_done = wait_until(Duration::from_secs(60), || {
        dbs.iter().filter(|db| has_history(db) && history(&db.url, "public").len() == 3).count() >= 2
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert!(some_done, "two targets finished before the kill");
    let untouched = dbs.iter().filter(|db| !has_history(db)).count();
    assert!(untouched > 0, "the kill came before every target started");
    dbs.iter().for_each(wait_for_orphans);

    let rerun = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--jobs", "3"]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    for db in &dbs {
        assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]);
    }
}

#[test]
fn one_fleet_spans_two_clusters() {
    let Some(local) = database() else { return };
    let folder = TempDir::new("second-cluster");
    std::fs::set_permissions(folder.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let second = LocalCluster::start(folder.path(), Durability::Off).unwrap();
    for name in ["other", "another"] {
        haste_testkit::execute(&format!("{}/postgres", second.url), &format!("CREATE DATABASE {name}"));
    }
    let dir = three_tables();
    let remote = |name: &str| format!("{}/{name}", second.url);
    let file =
        targets_file(&dir, &[local.url.clone(), remote("other"), format!("{}?schema=t", remote("another"))]);
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_applied_once(&local.url, "public", &["1_a", "2_b", "3_c"]);
    assert_applied_once(&remote("other"), "public", &["1_a", "2_b", "3_c"]);
    assert_applied_once(&remote("another"), "t", &["1_a", "2_b", "3_c"]);
    assert!(run.stdout.contains(&format!(":{}/other", second.port)), "{run:?}");
    second.stop().unwrap();
}

#[test]
fn the_fleet_section_lists_environments_or_queries_tenant_schemas() {
    let Some(main) = database() else { return };
    let staging = database().unwrap();
    main.execute("CREATE TABLE tenants (schema_name text); INSERT INTO tenants VALUES ('acme'), ('Globex Corp'), ('initech')");
    let dir = three_tables();
    dir.write(
        "haste.toml",
        &format!(
            "url = \"{}\"\n[fleet]\ntargets_query = \"SELECT schema_name FROM tenants ORDER BY 1\"\njobs = 2\n",
            main.url_with_password(PASSWORD)
        ),
    );
    let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    // A schema name is taken as written (quoted), like the history schema: case and spaces kept.
    for tenant in ["acme", "Globex Corp", "initech"] {
        assert_applied_once(&main.url, tenant, &["1_a", "2_b", "3_c"]);
        let tables = main.value(&format!(
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '{tenant}' AND tablename NOT LIKE '\\_haste%'"
        ));
        assert_eq!(tables.as_deref(), Some("a,b,c"), "{tenant}");
    }
    let status = haste(dir.path(), &["migrate", "status", "--fleet"]);
    assert_eq!((status.code, status.stdout.matches("up to date").count()), (0, 3), "{status:?}");

    // `env:NAME` takes an environment's url; a file can list them too.
    dir.write(
        "haste.toml",
        &format!(
            "[environments.staging]\nurl = \"${{STAGING_URL}}\"\n[fleet]\ntargets = [\"env:staging\", \"{}?schema=acme\"]\n",
            main.url
        ),
    );
    let run = haste_with_env(dir.path(), &["migrate", "deploy", "--fleet"], ("STAGING_URL", &staging.url));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("env:staging") && run.stdout.contains("applied 0 migrations in"), "{run:?}");
    assert_applied_once(&staging.url, "public", &["1_a", "2_b", "3_c"]);
}

fn haste_with_env(cwd: &std::path::Path, args: &[&str], (key, value): (&str, &str)) -> Run {
    let output = command(cwd, args).env(key, value).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn bad_targets_are_refused_before_anything_connects_and_never_quoted() {
    let Some(db) = database() else { return };
    let dir = three_tables();
    let refused = |lines: &[String], needle: &str| {
        let file = targets_file(&dir, lines);
        let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(needle), "{needle}: {run:?}");
        assert_no_password(&run);
    };
    refused(&[db.url.clone(), format!("mysql://u:{PASSWORD}@h/d")], "targets.txt:4");
    refused(&[format!("u:{PASSWORD}@h/d")], "targets.txt:3");
    refused(&["env:nowhere".into()], "no [environments.nowhere]");
    refused(
        &[db.url_with_password(PASSWORD), db.url_with_password(PASSWORD)],
        "targets 1 and 2 are the same",
    );
    refused(&[], "lists no target");
    assert!(!has_history(&db), "nothing was applied");
    let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no [fleet] section"), "{run:?}");
    let file = targets_file(&dir, std::slice::from_ref(&db.url));
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--url", &db.url]);
    assert!(run.code == 2 && run.stderr.contains("--url is not used with --targets"), "{run:?}");
    let run = haste(dir.path(), &["migrate", "deploy", "--canary", "1", "--url", &db.url]);
    assert_eq!(run.code, 2, "--canary needs a fleet: {run:?}");

    // Standard input works as a file.
    let mut child = command(dir.path(), &["migrate", "deploy", "--targets", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{}\n", db.url).as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]);
}

/// Two spellings of one database are one target (refused as a duplicate: the same database
/// twice would back up and verify it twice and count its deploy twice), and a target the driver
/// cannot read (a port past 65535) is refused before any other target runs, not after.
#[test]
fn one_database_in_two_spellings_and_an_unreadable_target_are_refused_before_anything_runs() {
    let Some(db) = database() else { return };
    let other = database().unwrap();
    let dir = three_tables();
    let (server, name) = db.url.rsplit_once('/').unwrap();
    let port = server.rsplit_once(':').unwrap().1;
    let with_password = db.url_with_password(PASSWORD);
    for spelling in [
        with_password.replacen("postgres://", "postgresql://", 1),
        format!("{with_password}?application_name=again&sslmode=disable"),
        format!("host=127.0.0.1 port={port} user=postgres password={PASSWORD} dbname={name}"),
    ] {
        let file = targets_file(&dir, &[db.url.clone(), other.url.clone(), spelling.clone()]);
        let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
        assert_eq!(run.code, 2, "{spelling}: {run:?}");
        assert!(run.stderr.contains("targets 1 and 3 are the same database"), "{spelling}: {run:?}");
        assert_no_password(&run);
    }
    let file =
        targets_file(&dir, &[other.url.clone(), format!("postgres://postgres:{PASSWORD}@127.0.0.1:99999/x")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("targets.txt:4"), "{run:?}");
    assert_no_password(&run);
    assert!(!has_history(&db) && !has_history(&other), "nothing was applied");
}

/// `targets_query` only reads: a query that writes fails in its read-only transaction and
/// changes nothing, and an empty row is refused before any target starts (exit 2 both).
#[test]
fn targets_query_changes_nothing_and_an_empty_row_starts_no_target() {
    let Some(main) = database() else { return };
    main.execute("CREATE TABLE tenants (schema_name text); INSERT INTO tenants VALUES ('acme'), ('')");
    let dir = three_tables();
    let config = |query: &str| format!("url = \"{}\"\n[fleet]\ntargets_query = \"{query}\"\n", main.url);
    dir.write("haste.toml", &config("DROP TABLE tenants"));
    let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("read-only transaction"), "{run:?}");
    assert_eq!(main.value("SELECT to_regclass('tenants')::text").as_deref(), Some("tenants"));

    dir.write("haste.toml", &config("SELECT schema_name FROM tenants ORDER BY 1 DESC"));
    let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("[fleet] targets_query: row 2 is empty"), "{run:?}");
    assert_eq!(main.value("SELECT to_regnamespace('acme')::text"), None, "no target started");
}

/// A `targets_query` row that is a URL of another database (`mysql://...`) is refused, not
/// taken for the name of a schema to create (with its password in the name); a NULL row is
/// refused as an empty one is. Nothing starts either way.
#[test]
fn a_targets_query_row_that_is_no_target_is_refused_without_its_password() {
    let Some(main) = database() else { return };
    let dir = three_tables();
    let config = |query: &str| format!("url = \"{}\"\n[fleet]\ntargets_query = \"{query}\"\n", main.url);
    for (query, says) in [
        (format!("SELECT 'mysql://app:{PASSWORD}@h/db'"), "row 1: unsupported database URL `mysql://...`"),
        ("SELECT NULL::text UNION ALL SELECT 'acme'".to_owned(), "row 1 is empty"),
    ] {
        dir.write("haste.toml", &config(&query));
        let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
        assert_eq!(run.code, 2, "{query}: {run:?}");
        assert!(run.stderr.contains(says), "{query}: {run:?}");
        assert_no_password(&run);
    }
    assert_eq!(
        main.value("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mysql%' OR nspname = 'acme'")
            .as_deref(),
        Some("0"),
        "no target started"
    );
}

/// `promote_from` and `lint = true` in the environment a fleet deploys in: judged once for the
/// fleet on what any target lacks, before any target runs; an override is recorded per target.
#[test]
fn a_fleet_takes_only_promoted_migrations_and_is_linted_once_before_any_target_runs() {
    let Some(staging) = database() else { return };
    let dbs: Vec<TestDb> = (0..3).map(|_| database().unwrap()).collect();
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int, legacy text);")]);
    dir.write(
        "haste.toml",
        &format!(
            "[environments.staging]\nurl = \"{}\"\n\n[environments.production]\npromote_from = \"staging\"\nlint = true\n",
            staging.url
        ),
    );
    let file = targets_file(&dir, &dbs.iter().map(|db| db.url_with_password(PASSWORD)).collect::<Vec<_>>());
    let fleet = |extra: &[&str]| {
        haste(
            dir.path(),
            &[&["migrate", "deploy", "--env", "production", "--targets", &file], extra].concat(),
        )
    };
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--env", "staging"]).code, 0);
    // The second target is ahead of the others: it has 1_a, they lack everything.
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &dbs[1].url]).code, 0);
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id int);");

    let refused = fleet(&[]);
    assert_eq!(refused.code, 12, "{refused:?}");
    assert!(refused.stderr.contains("not applied there with the same file:\n  2_b"), "{refused:?}");
    assert_no_password(&refused);
    assert!(!has_history(&dbs[0]) && !has_history(&dbs[2]), "no target started");

    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--env", "staging"]).code, 0);
    let promoted = fleet(&[]);
    assert_eq!(promoted.code, 0, "{promoted:?}");
    dbs.iter().for_each(|db| assert_applied_once(&db.url, "public", &["1_a", "2_b"]));

    // Promoted, but an error-level lint finding: the whole fleet stops before anything runs.
    dir.write("migrations/3_c/migration.sql", "ALTER TABLE a DROP COLUMN legacy;");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--env", "staging"]).code, 0);
    let linted = fleet(&["--format", "json"]);
    assert_eq!(linted.code, 13, "{linted:?}");
    assert_eq!(linted.json_lines().last().unwrap()["error"]["code"], "LINT_FAILED", "{linted:?}");
    dbs.iter().for_each(|db| assert_applied_once(&db.url, "public", &["1_a", "2_b"]));

    // An override with a reason deploys what staging has not applied and says so in each history.
    std::fs::remove_dir_all(dir.path().join("migrations/3_c")).unwrap();
    dir.write("migrations/4_d/migration.sql", "CREATE TABLE d (id int);");
    let overridden = fleet(&["--promotion-override", "hotfix 4711"]);
    assert_eq!(overridden.code, 0, "{overridden:?}");
    for db in &dbs {
        assert_applied_once(&db.url, "public", &["1_a", "2_b", "4_d"]);
        assert_eq!(
            db.value("SELECT name || ': ' || (detail::jsonb ->> 'reason') FROM _haste_events WHERE event = 'promotion_override'")
                .as_deref(),
            Some("4_d: hotfix 4711")
        );
    }
}

/// `backup` and `verify = true` run per target: a backup file of its own before each target
/// applies anything (never replacing a file), a verify after; a failure of either fails only
/// its target, named in the summary with the guard that failed.
#[test]
fn backups_and_verify_run_per_target_and_a_failure_fails_only_its_target() {
    let Some(first) = database() else { return };
    let dbs: Vec<TestDb> = std::iter::once(first).chain((0..2).map(|_| database().unwrap())).collect();
    dbs[1].execute("CREATE TABLE by_hand (x int)");
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    dir.write(
        "haste.toml",
        "environment = \"live\"\n\n[environments.live]\nbackup = \"backups/live-{timestamp}.sql\"\nverify = true\n",
    );
    let file = targets_file(&dir, &dbs.iter().map(|db| db.url_with_password(PASSWORD)).collect::<Vec<_>>());
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--format", "json"]);
    assert_eq!(run.code, 19, "{run:?}");
    assert_no_password(&run);
    let finished: Vec<serde_json::Value> =
        run.json_lines().into_iter().filter(|d| d["event"] == "target_finished").collect();
    let failed: Vec<&serde_json::Value> = finished.iter().filter(|d| d["ok"] == false).collect();
    assert_eq!((finished.len(), failed.len()), (3, 1), "{run:?}");
    assert!(failed[0]["target"].as_str().unwrap().contains(&dbs[1].name));
    let error = &failed[0]["error"];
    assert_eq!((error["guard"].as_str(), error["code"].as_str()), (Some("verify"), Some("VERIFY_FAILED")));
    assert!(error["drift"].to_string().contains("by_hand"), "{run:?}");
    assert_eq!(failed[0]["applied"][0]["name"], "1_a", "the verify came after the deploy: {run:?}");
    dbs.iter().for_each(|db| assert_applied_once(&db.url, "public", &["1_a"]));
    let mut backups: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .flatten()
        .map(|entry| {
            assert_eq!(entry.metadata().unwrap().permissions().mode() & 0o777, 0o600);
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    backups.sort();
    assert_eq!(backups.len(), 3, "one backup per target: {backups:?}");
    for (index, db) in dbs.iter().enumerate() {
        assert!(backups[index].ends_with(&format!("-{}-{}.sql", index + 1, db.name)), "{backups:?}");
    }

    // A backup file that exists is never replaced: that target fails, the others go on.
    dbs[1].execute("DROP TABLE by_hand");
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id int);");
    let taken = format!("backups/fixed-2-{}.sql", dbs[1].name);
    dir.write(&taken, "keep me");
    let run = haste(dir.path(), &["migrate", "deploy", "--targets", &file, "--backup", "backups/fixed.sql"]);
    assert_eq!(run.code, 19, "{run:?}");
    assert!(
        run.stdout.contains("FAILED: backup: backup to") && run.stdout.contains("File exists"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join(&taken)).unwrap(), "keep me");
    assert_applied_once(&dbs[1].url, "public", &["1_a"]);
    for db in [&dbs[0], &dbs[2]] {
        assert_applied_once(&db.url, "public", &["1_a", "2_b"]);
    }
}

/// `status --targets --drift`: each target compared with the schema its applied migrations
/// give (behind ones too, at their own point), in a DRIFT column; a drifted target needs
/// attention (exit 19).
#[test]
fn fleet_status_with_drift_shows_each_targets_drift() {
    let Some(first) = database() else { return };
    let dbs: Vec<TestDb> = std::iter::once(first).chain((0..2).map(|_| database().unwrap())).collect();
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let file = targets_file(&dir, &dbs.iter().map(|db| db.url_with_password(PASSWORD)).collect::<Vec<_>>());
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--targets", &file]).code, 0);
    // The third target stays behind: it lacks 2_b.
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id int);");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &dbs[0].url]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &dbs[1].url]).code, 0);
    let clean = haste(dir.path(), &["migrate", "status", "--targets", &file, "--drift"]);
    assert_eq!(clean.code, 3, "one target behind, none drifted: {clean:?}");
    assert!(clean.stdout.contains("DRIFT") && clean.stdout.matches("  none  ").count() == 3, "{clean:?}");

    dbs[1].execute("ALTER TABLE b ADD COLUMN by_hand text");
    let drifted = haste(dir.path(), &["migrate", "status", "--targets", &file, "--drift"]);
    assert_eq!(drifted.code, 19, "{drifted:?}");
    assert_no_password(&drifted);
    let row = drifted.stdout.lines().find(|line| line.contains(&dbs[1].name)).unwrap();
    assert!(row.contains("1 difference") && row.contains("needs attention"), "{drifted:?}");
    assert!(drifted.stdout.contains("1 behind, 0 unreadable, 1 drifted"), "{drifted:?}");
    let json = haste(dir.path(), &["migrate", "status", "--targets", &file, "--drift", "--format", "json"]);
    let documents = json.json_lines();
    assert!(documents[1]["drift"].to_string().contains("by_hand"), "{json:?}");
    assert_eq!(documents[0]["drift"]["changes"], serde_json::json!([]), "{json:?}");
    assert_eq!(documents[3]["drifted"], 1, "{json:?}");
}

/// `targets_command`: its standard output lists the targets as a file does; a failure, or no
/// target, is exit 2 before anything connects, and neither the command nor its standard error
/// is shown.
#[test]
fn targets_command_lists_the_fleet_and_its_failures_show_no_secret() {
    let Some(first) = database() else { return };
    let second = database().unwrap();
    let dir = three_tables();
    let config = |command: &str| {
        dir.write("haste.toml", &format!("[fleet]\ntargets_command = '''{command}'''\n"));
    };
    config(&format!(
        "echo '# from the catalog'; echo '{}'; echo; echo '{}'",
        first.url_with_password(PASSWORD),
        second.url_with_password(PASSWORD)
    ));
    let run = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    assert!(run.stdout.contains("Fleet: 2 of 2 targets deployed"), "{run:?}");
    [&first, &second].iter().for_each(|db| assert_applied_once(&db.url, "public", &["1_a", "2_b", "3_c"]));

    config(&format!("echo '{PASSWORD}' >&2; exit 3"));
    let failed = haste(dir.path(), &["migrate", "status", "--fleet"]);
    assert_eq!(failed.code, 2, "{failed:?}");
    assert!(failed.stderr.contains("[fleet] targets_command failed (exit status: 3)"), "{failed:?}");
    assert_no_password(&failed);
    config("echo '# nothing'");
    let empty = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert!(empty.code == 2 && empty.stderr.contains("[fleet] targets_command lists no target"), "{empty:?}");
    config(&format!("echo 'mysql://u:{PASSWORD}@h/d'"));
    let bad = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert!(bad.code == 2 && bad.stderr.contains("[fleet] targets_command:1"), "{bad:?}");
    assert_no_password(&bad);
    dir.write("haste.toml", "[fleet]\ntargets = [\"env:a\"]\ntargets_command = \"true\"\n");
    let both = haste(dir.path(), &["migrate", "deploy", "--fleet"]);
    assert!(both.code == 2 && both.stderr.contains("set one of targets"), "{both:?}");
}
