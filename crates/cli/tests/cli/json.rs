//! `--format json`: stdout carries only the JSON docs/json.md describes (one document, or NDJSON
//! events for the commands that run migrations), in success and failure alike; everything else
//! goes to stderr.

use haste_testkit::{TempDir, database};

use crate::{Run, haste, migrations};

/// Every stdout line of `run` is a JSON object carrying `schema`; `single` commands print
/// exactly one. A failure's last document carries the exit code and a stable `code`.
fn assert_json_only(what: &str, run: &Run, single: bool) -> Vec<serde_json::Value> {
    assert!(!run.stdout.trim().is_empty(), "{what}: nothing on stdout: {run:?}");
    let documents: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{what}: `{line}` is not JSON ({error}): {run:?}"))
        })
        .collect();
    // `lint --format json` prints its findings as an array (docs/lint.md); everything else is
    // an object.
    for document in documents.iter().filter(|document| !document.is_array()) {
        assert_eq!(document["schema"], "haste/1", "{what}: {run:?}");
    }
    if single {
        assert_eq!(documents.len(), 1, "{what}: one document: {run:?}");
    }
    let last = documents.last().unwrap();
    if run.code != 0 && !matches!(run.code, 3 | 14) {
        assert_eq!(last["ok"], false, "{what}: {run:?}");
        assert_eq!(last["error"]["exit_code"], run.code, "{what}: {run:?}");
        assert!(last["error"]["code"].is_string(), "{what}: {run:?}");
    }
    documents
}

/// Commands with `--format json`, each as (arguments, prints one document).
fn commands(url: &str) -> Vec<(Vec<&str>, bool)> {
    vec![
        (vec!["migrate", "status", "--url", url], true),
        (vec!["migrate", "status", "--drift", "--url", url], true),
        (vec!["migrate", "deploy", "--url", url], false),
        (vec!["migrate", "deploy", "--lint", "--url", url], false),
        (vec!["migrate", "down", "--url", url], false),
        (vec!["migrate", "resolve", "--applied", "01_init", "--url", url], false),
        (vec!["migrate", "reset", "--force", "--url", url], false),
        (vec!["migrate", "baseline", "01_init", "--url", url], false),
        (vec!["migrate", "unlock", "--url", url], true),
        (vec!["doctor", "--url", url], true),
        (vec!["schema", "inspect", "--url", url], true),
        (vec!["schema", "dump", "--url", url], true),
        (vec!["schema", "diff", "--from", url, "--to", "schema.sql", "--url", url], true),
        (vec!["migrate", "dev", "--url", url, "--schema", "schema.sql", "--create-only"], true),
        (vec!["lint", "--url", url], true),
    ]
}

fn run_json(dir: &TempDir, args: &[&str]) -> Run {
    let mut args = args.to_vec();
    args.extend_from_slice(&["--format", "json"]);
    haste(dir.path(), &args)
}

#[test]
fn every_command_prints_only_json_when_the_database_cannot_be_reached_or_named() {
    let dir = migrations(&[("01_init", "CREATE TABLE t (id int);")]);
    dir.write("schema.sql", "CREATE TABLE t (id int);");
    for url in ["postgres://nobody@127.0.0.1:1/none", "nosuch://x"] {
        for (args, _) in commands(url) {
            let run = run_json(&dir, &args);
            assert!(matches!(run.code, 2 | 9), "{args:?}: {run:?}");
            assert_json_only(&format!("{args:?}"), &run, true);
        }
    }
    // A migrations folder that cannot be read.
    let broken = TempDir::new("json-folder");
    broken.write("migrations/01_init/not-a-migration.txt", "");
    let run = run_json(&broken, &["migrate", "deploy", "--url", "sqlite:db.sqlite"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        assert_json_only("missing migration.sql", &run, true)[0]["error"]["code"],
        "MIGRATIONS_FOLDER"
    );
    let run = run_json(&broken, &["lint"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_json_only("lint, missing migration.sql", &run, true);
}

#[test]
fn every_command_prints_only_json_on_a_live_database() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("01_init", "CREATE TABLE t (id int);"), ("02_more", "CREATE TABLE u (id int);")]);
    dir.write("migrations/02_more/down.sql", "DROP TABLE u;");
    dir.write("schema.sql", "CREATE TABLE t (id int);\nCREATE TABLE u (id int);\nCREATE TABLE v (id int);");
    dir.write("seed.sql", "INSERT INTO t VALUES (1);");
    for (args, single) in commands(&db.url) {
        let run = run_json(&dir, &args);
        assert!(matches!(run.code, 0 | 3 | 4 | 13 | 14), "{args:?}: {run:?}");
        assert_json_only(&format!("{args:?}"), &run, single);
    }

    // `status --drift` is one document, the drift check included, with drift and without.
    let deployed = run_json(&dir, &["migrate", "deploy", "--url", &db.url]);
    assert_json_only("deploy", &deployed, false);
    let clean = run_json(&dir, &["migrate", "status", "--drift", "--url", &db.url, "--schema", "schema.sql"]);
    let document = &assert_json_only("status --drift", &clean, true)[0];
    assert_eq!(document["drift"]["changes"], serde_json::json!([]), "{clean:?}");
    db.execute("CREATE TABLE by_hand (id int)");
    let drifted = run_json(&dir, &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(drifted.code, 15, "{drifted:?}");
    let document = &assert_json_only("status --drift with drift", &drifted, true)[0];
    assert_eq!(document["error"]["code"], "DRIFT", "{drifted:?}");
    assert_eq!(
        document["migrations"][0]["name"], "01_init",
        "the status is in the same document: {drifted:?}"
    );

    // `deploy --lint` refusing: the findings are in the error, not printed as text first.
    let risky = migrations(&[
        ("01_init", "CREATE TABLE t (id int);"),
        ("02_risky", "ALTER TABLE t ADD COLUMN c int NOT NULL;"),
    ]);
    let Some(fresh) = database() else { return };
    assert_eq!(haste(risky.path(), &["migrate", "baseline", "01_init", "--url", &fresh.url]).code, 0);
    let refused = run_json(&risky, &["migrate", "deploy", "--lint", "--url", &fresh.url]);
    assert_eq!(refused.code, 13, "{refused:?}");
    let document = &assert_json_only("deploy --lint refused", &refused, true)[0];
    assert_eq!(document["error"]["findings"][0]["rule"], "add-required-column", "{refused:?}");

    // A failing migration: events, then run_finished with the error.
    let failing = migrations(&[("01_bad", "SELECT 1/0;")]);
    let Some(empty) = database() else { return };
    let failed = run_json(&failing, &["migrate", "deploy", "--url", &empty.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    let events = assert_json_only("failed deploy", &failed, false);
    assert_eq!(events.last().unwrap()["event"], "run_finished", "{failed:?}");

    // `schema dump` in JSON is a document of statements, not DDL text.
    let dump = run_json(&dir, &["schema", "dump", "--url", &db.url]);
    let document = &assert_json_only("schema dump", &dump, true)[0];
    assert!(document["statements"].as_array().is_some_and(|s| !s.is_empty()), "{dump:?}");

    // What a seed command prints goes to stderr.
    dir.write("haste.toml", "seed_command = \"echo seeded\"\n");
    let reset = run_json(&dir, &["migrate", "reset", "--force", "--url", &db.url]);
    assert_eq!(reset.code, 0, "{reset:?}");
    assert_json_only("reset with a seed command", &reset, false);
    assert!(reset.stderr.contains("seeded"), "{reset:?}");
}
