//! Deploy benchmark (issue 2): 1,000 small migrations, each a `CREATE TABLE` and a
//! `CREATE INDEX`, applied to an empty database by `haste migrate deploy`, against the floor of
//! `psql -X -q -f` running the same SQL concatenated into one file, in the same run on the same
//! fsync-on cluster; then a no-op deploy with all 1,000 applied.
//!
//! `cargo bench -p haste-cli --bench deploy` (`-- --migrations N --rounds R` to change the size).
//! Prints the medians and haste's ratio to psql; BENCHMARKS.md keeps the latest figures.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use haste_testkit::{Durability, LocalCluster, TempDir, execute};

fn main() {
    let mut migrations = 1000;
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--migrations" => migrations = args.next().and_then(|n| n.parse().ok()).expect("--migrations N"),
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).expect("--rounds N"),
            _ => {} // cargo bench passes --bench
        }
    }
    let work = TempDir::new("bench");
    fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::start(work.path(), Durability::On).expect("start PostgreSQL");
    let dir = work.path().join("migrations");
    let mut all = String::new();
    for i in 0..migrations {
        let sql = format!(
            "CREATE TABLE bench_{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX bench_{i}_name_idx ON bench_{i} (name);\n"
        );
        let folder = dir.join(format!("{:014}_bench_{i}", 20260101000000u64 + i as u64));
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("migration.sql"), &sql).unwrap();
        all.push_str(&sql);
    }
    let all_file = work.path().join("all.sql");
    fs::write(&all_file, all).unwrap();
    let psql = cluster.bin.join("psql");
    let psql = if psql.exists() { psql } else { "psql".into() };

    let (mut floor, mut haste, mut noop) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let psql_db = format!("psql_{round}");
        let haste_db = format!("haste_{round}");
        for database in [&psql_db, &haste_db] {
            execute(&format!("{}/postgres", cluster.url), &format!("CREATE DATABASE {database}"));
        }
        let psql_url = format!("{}/{psql_db}", cluster.url);
        let haste_url = format!("{}/{haste_db}", cluster.url);
        floor.push(time(
            Command::new(&psql)
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &psql_url, "-f"])
                .arg(&all_file),
        ));
        haste.push(time(&mut haste_command(work.path(), &dir, &haste_url)));
        for _ in 0..10 {
            noop.push(time(&mut haste_command(work.path(), &dir, &haste_url)));
        }
    }
    cluster.stop().expect("stop PostgreSQL");
    let seconds = |times: &[Duration]| {
        times.iter().map(|t| format!("{:.3}", t.as_secs_f64())).collect::<Vec<_>>().join(" ")
    };
    println!("rounds (s): psql {} | haste {}", seconds(&floor), seconds(&haste));
    let (floor, haste, noop) = (median(floor), median(haste), median(noop));
    println!("deploy of {migrations} migrations ({rounds} rounds, medians, PostgreSQL fsync on):");
    println!("  psql -X -q -f (one concatenated file): {:>8.3} s", floor.as_secs_f64());
    println!("  haste migrate deploy:                  {:>8.3} s", haste.as_secs_f64());
    println!("  ratio haste / psql:                    {:>8.3}", haste.as_secs_f64() / floor.as_secs_f64());
    println!("  no-op deploy, all applied:             {:>8.1} ms", noop.as_secs_f64() * 1000.0);
}

fn haste_command(cwd: &Path, dir: &Path, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_haste"));
    command.current_dir(cwd).args(["migrate", "deploy", "--url", url, "--dir"]).arg(dir);
    command
}

fn time(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run the command");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
