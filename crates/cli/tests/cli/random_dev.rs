//! Property test: between random pairs of SQL schemas (`haste_testkit::RandomSchema`, half of
//! them with a partitioned table and its indexes), `migrate dev` writes migrations whose files
//! (`migration.sql` and `down.sql`, which `haste lint` reads too) pass `haste lint` with no
//! error (nor a `set-timeout-in-migration` warning), and that deploy to a
//! database holding rows in every table and leave it at the desired schema.
//!
//! Each case runs the binary as a user does: `migrate dev --schema from.sql` (applied), then
//! `migrate dev --schema to.sql --create-only` (again with `--accept-data-loss` when the change
//! drops data), `lint`, then `migrate deploy` of the new migrations to a second database that
//! had the first one and a few rows per table, and `schema diff` of that database against
//! `to.sql`. A change `migrate dev` refuses because it fails on any row (a `NOT NULL` column
//! without a default on an existing table) is counted and skipped. `HASTE_DEV_CASES` sets how
//! many cases (default 12); the seed is printed, and `HASTE_DEV_SEED` replays it.

use std::path::Path;

use haste_testkit::{Random, RandomSchema, TempDir, TestDb, database, property_run};
use serde_json::Value;

use crate::{Run, haste, migration_folders};

/// What happened to the cases of a run.
#[derive(Default, Debug)]
struct Tally {
    changed: u64,
    in_sync: u64,
    data_loss: u64,
    refused_required_column: u64,
}

fn dev(dir: &Path, db: &TestDb, schema: &str, name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", schema, "--name", name];
    args.extend_from_slice(extra);
    haste(dir, &args)
}

/// The steps of a `migrate dev --format json` that generated migrations; `None` when there was
/// nothing to generate.
fn generated_steps(run: &Run) -> Option<Vec<Value>> {
    let document = run.json_lines().into_iter().find(|line| line.get("generated").is_some())?;
    if document["generated"] == Value::Bool(false) {
        return None;
    }
    Some(document["steps"].as_array().expect("steps").clone())
}

fn loses_data(steps: &[Value]) -> bool {
    steps.iter().any(|step| step["hazards"].as_array().is_some_and(|h| h.iter().any(|h| h == "data_loss")))
}

/// Every file of the migrations written for `to`, for failure messages.
fn written(dir: &TempDir) -> String {
    migration_folders(dir)
        .iter()
        .skip(1)
        .flat_map(|folder| {
            ["migration.sql", "data.sql", "down.sql"].map(|file| {
                std::fs::read_to_string(folder.join(file))
                    .map(|text| format!("-- {}/{file}\n{text}\n", folder.display()))
                    .unwrap_or_default()
            })
        })
        .collect()
}

#[test]
fn generated_migrations_pass_lint_and_deploy_over_rows_to_the_desired_schema() {
    if database().is_none() {
        return;
    }
    let (cases, seed) = property_run("random migrate dev", "HASTE_DEV_CASES", 12, "HASTE_DEV_SEED");
    haste_testkit::ensure_roles(&database().unwrap().url, &haste_testkit::GRANTEES);
    let mut random = Random::new(seed);
    let mut tally = Tally::default();
    for case in 0..cases {
        let (from, to) = RandomSchema::pair(&mut random);
        // The seed comes last: a log cut in the middle keeps its tail, and with it the replay.
        let context = format!(
            "-- from.sql:\n{}\n-- to.sql:\n{}\n-- rows:\n{}\nreplay: HASTE_DEV_SEED={seed}, case {case}",
            from.sql, to.sql, from.rows
        );
        let (dev_db, prod) = (database().unwrap(), database().unwrap());
        let dir = TempDir::new("random-dev");
        dir.write("from.sql", &from.sql);
        let to_file = dir.write("to.sql", &to.sql);

        let init = dev(dir.path(), &dev_db, "from.sql", "init", &[]);
        assert_eq!(init.code, 0, "{init:?}\n{context}");
        let deployed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
        assert_eq!(deployed.code, 0, "{deployed:?}\n{context}");
        prod.try_execute(&from.rows).unwrap_or_else(|e| panic!("rows of `from`: {e}\n{context}"));

        let json = ["--create-only", "--format", "json"];
        let review = dev(dir.path(), &dev_db, "to.sql", "change", &json);
        if review.code == 16 {
            assert!(review.stdout.contains("UNSAFE_CHANGE"), "{review:?}\n{context}");
            tally.refused_required_column += 1;
            continue;
        }
        assert_eq!(review.code, 0, "{review:?}\n{context}");
        let Some(steps) = generated_steps(&review) else {
            tally.in_sync += 1;
            continue;
        };
        tally.changed += 1;
        if loses_data(&steps) {
            tally.data_loss += 1;
            for folder in &migration_folders(&dir)[1..] {
                std::fs::remove_dir_all(folder).unwrap();
            }
            let accepted =
                dev(dir.path(), &dev_db, "to.sql", "change", &[&json[..], &["--accept-data-loss"]].concat());
            assert_eq!(accepted.code, 0, "{accepted:?}\n{context}");
        }

        let lint = haste(dir.path(), &["lint", "--format", "json"]);
        let findings: Vec<Value> = serde_json::from_str(&lint.stdout)
            .unwrap_or_else(|e| panic!("lint JSON: {e}\n{lint:?}\n{context}"));
        // Errors, and the warning that a file overrides the lock budget the runner gives it.
        let errors: Vec<&Value> = findings
            .iter()
            .filter(|f| f["severity"] == "error" || f["rule"] == "set-timeout-in-migration")
            .collect();
        assert!(
            errors.is_empty() && lint.code == 0,
            "haste's own migrations fail its lint:\n{errors:#?}\n{}\n{context}",
            written(&dir)
        );

        let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
        assert_eq!(applied.code, 0, "deploy over rows: {applied:?}\n{}\n{context}", written(&dir));
        let to_path = to_file.to_str().unwrap();
        let same =
            haste(dir.path(), &["schema", "diff", "--from", &prod.url, "--to", to_path, "--url", &prod.url]);
        assert_eq!(same.code, 0, "deployed, not at `to`: {same:?}\n{}\n{context}", written(&dir));
    }
    eprintln!("random migrate dev: {tally:?}");
    assert!(tally.changed > 0 || cases < 5, "no case generated a migration: {tally:?}");
}
