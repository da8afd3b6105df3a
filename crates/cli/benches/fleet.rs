//! Fleet benchmark (issue 16): N databases × 20 migrations deployed by one
//! `haste migrate deploy --targets` with `--jobs 1, 4, 16`, against a single deploy of the same
//! folder to one database (the median of 5), on an fsync-on cluster the benchmark starts.
//!
//! `cargo bench -p haste-cli --bench fleet` (`-- --targets N` to change the fleet's size).
//! Prints the time per target for each `--jobs` and its ratio to the single deploy;
//! BENCHMARKS.md keeps the latest figures.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use haste_testkit::{Durability, LocalCluster, TempDir, execute};

const MIGRATIONS: usize = 20;

fn main() {
    let mut targets = 200;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--targets" {
            targets = args.next().and_then(|n| n.parse().ok()).expect("--targets N");
        }
    }
    let work = TempDir::new("bench-fleet");
    fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::start(work.path(), Durability::On).expect("start PostgreSQL");
    let dir = work.path().join("migrations");
    for i in 0..MIGRATIONS {
        let folder = dir.join(format!("{:014}_m{i}", 20260101000000u64 + i as u64));
        fs::create_dir_all(&folder).unwrap();
        fs::write(
            folder.join("migration.sql"),
            format!(
                "CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX t{i}_name_idx ON t{i} (name);\n"
            ),
        )
        .unwrap();
    }
    let admin = format!("{}/postgres", cluster.url);
    let load = || {
        fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?").to_owned()
    };

    let mut single = Vec::new();
    for round in 0..5 {
        execute(&admin, &format!("CREATE DATABASE single_{round}"));
        let url = format!("{}/single_{round}", cluster.url);
        single.push(time(
            Command::new(env!("CARGO_BIN_EXE_haste"))
                .args(["migrate", "deploy", "--url", &url])
                .current_dir(work.path()),
        ));
    }
    single.sort();
    let single = single[single.len() / 2];
    println!(
        "{targets} targets × {MIGRATIONS} migrations, PostgreSQL fsync on, load average {} at start",
        load()
    );
    println!("  single deploy (median of 5):   {:>8.1} ms", single.as_secs_f64() * 1000.0);
    for jobs in [1, 4, 16] {
        let urls: Vec<String> = (0..targets)
            .map(|i| {
                execute(&admin, &format!("CREATE DATABASE fleet_{jobs}_{i}"));
                format!("{}/fleet_{jobs}_{i}", cluster.url)
            })
            .collect();
        let file = work.path().join(format!("targets_{jobs}.txt"));
        fs::write(&file, urls.join("\n")).unwrap();
        let total = time(
            Command::new(env!("CARGO_BIN_EXE_haste"))
                .args(["migrate", "deploy", "--jobs", &jobs.to_string(), "--targets"])
                .arg(&file)
                .current_dir(work.path()),
        );
        let per_target = total / targets as u32;
        println!(
            "  --jobs {jobs:>2}: {:>7.2} s in all, {:>6.1} ms per target, {:.2}× a single deploy (load {})",
            total.as_secs_f64(),
            per_target.as_secs_f64() * 1000.0,
            per_target.as_secs_f64() / single.as_secs_f64(),
            load()
        );
    }
    // Its shutdown checkpoint writes every database out, which on a busy disk can outlast
    // pg_ctl's wait; the figures are printed by then, and dropping the cluster retries.
    if let Err(error) = cluster.stop() {
        eprintln!("stopping PostgreSQL: {error}");
    }
}

fn time(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run the command");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    elapsed
}
