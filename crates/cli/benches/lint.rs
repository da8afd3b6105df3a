//! Lint benchmark (issue 6): 3,000 generated migration files linted by `haste lint` (with the
//! history replay) and by squawk on the same files, in the same run.
//!
//! `cargo bench -p haste-cli --bench lint` (`-- --files N --rounds R`). squawk comes from PyPI
//! (`pip install squawk-cli`); without it only haste's time is printed.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use haste_testkit::TempDir;

fn main() {
    let (mut files, mut rounds) = (3000, 3);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--files" => files = args.next().and_then(|n| n.parse().ok()).expect("--files N"),
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).expect("--rounds N"),
            _ => {}
        }
    }
    let work = TempDir::new("lint-bench");
    let mut bytes = 0;
    for i in 0..files {
        let sql = migration(i);
        bytes += sql.len();
        work.write(&format!("migrations/{:06}_step_{i}/migration.sql", i), &sql);
    }
    let dir = work.path().join("migrations");
    let haste = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_haste"));
        command.current_dir(work.path()).args(["lint", "--format", "json", "--dir"]).arg(&dir);
        time(&mut command)
    };
    let squawk_available = Command::new("squawk").arg("--version").output().is_ok_and(|o| o.status.success());
    let squawk = || {
        let mut command = Command::new("squawk");
        command.current_dir(work.path()).args(["--reporter", "json", "migrations/*/migration.sql"]);
        time(&mut command)
    };
    let (mut haste_times, mut squawk_times) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        haste_times.push(haste());
        if squawk_available {
            squawk_times.push(squawk());
        }
    }
    let haste_time = median(haste_times);
    println!(
        "lint of {files} migration files ({:.1} MB of SQL, {rounds} rounds, medians):",
        bytes as f64 / 1e6
    );
    println!("  haste lint (history-aware):  {:>8.3} s", haste_time.as_secs_f64());
    if squawk_available {
        let squawk_time = median(squawk_times);
        println!("  squawk:                      {:>8.3} s", squawk_time.as_secs_f64());
        println!(
            "  ratio haste / squawk:        {:>8.3}",
            haste_time.as_secs_f64() / squawk_time.as_secs_f64()
        );
    } else {
        println!("  squawk not installed (pip install squawk-cli): no ratio");
    }
}

/// A realistic migration: new tables with indexes and foreign keys, column changes on earlier
/// tables, a backfill, a function with a dollar-quoted body.
fn migration(i: usize) -> String {
    let previous = i.saturating_sub(1);
    format!(
        "-- step {i}\n\
         CREATE TABLE t{i} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    workspace_id bigint NOT NULL,\n    name text NOT NULL,\n    email varchar(255),\n    payload jsonb NOT NULL DEFAULT '{{}}',\n    created_at timestamptz NOT NULL DEFAULT now(),\n    updated_at timestamptz\n);\n\
         CREATE INDEX t{i}_workspace_idx ON t{i} (workspace_id, created_at DESC);\n\
         CREATE UNIQUE INDEX t{i}_email_key ON t{i} (lower(email)) WHERE email IS NOT NULL;\n\
         ALTER TABLE t{i} ADD CONSTRAINT t{i}_name_check CHECK (char_length(name) <= 200);\n\
         ALTER TABLE t{previous} ADD COLUMN note_{i} text;\n\
         ALTER TABLE t{previous} ADD COLUMN score_{i} integer NOT NULL DEFAULT 0;\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS t{previous}_score_{i}_idx ON t{previous} (score_{i});\n\
         UPDATE t{previous} SET note_{i} = 'n/a' WHERE note_{i} IS NULL;\n\
         CREATE OR REPLACE FUNCTION touch_{i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND\n$$;\n\
         CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch_{i}();\n"
    )
}

fn time(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run the linter");
    let elapsed = started.elapsed();
    // Both exit non-zero when they find something; only a crash is a failed measurement.
    assert!(output.status.code().is_some(), "{command:?} crashed");
    let _ = fs::metadata("/");
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
