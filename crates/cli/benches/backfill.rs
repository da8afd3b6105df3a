//! Backfill benchmark (issue 8): a data migration over 1,000,000 rows against the same work as
//! one `UPDATE`, on the same fsync-on cluster, in the same run. Reports throughput as a ratio.
//!
//! `cargo bench -p haste-cli --bench backfill` (`-- --rows N`).

use std::process::Command;
use std::time::{Duration, Instant};

use haste_testkit::{Durability, LocalCluster, TempDir, execute};

fn main() {
    let mut rows: u64 = 1_000_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rows" {
            rows = args.next().and_then(|n| n.parse().ok()).expect("--rows N");
        }
    }
    let work = TempDir::new("backfill-bench");
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::start(work.path(), Durability::On).expect("start PostgreSQL");
    let setup = format!(
        "CREATE TABLE contacts (id bigint PRIMARY KEY, data integer NOT NULL, score integer);\n\
         INSERT INTO contacts SELECT g, g % 1000 FROM generate_series(1, {rows}) g;\nVACUUM ANALYZE contacts;"
    );
    for database in ["single", "batched"] {
        execute(&format!("{}/postgres", cluster.url), &format!("CREATE DATABASE {database}"));
        for statement in setup.split(";\n") {
            execute(&format!("{}/{database}", cluster.url), statement);
        }
    }
    let single = {
        let started = Instant::now();
        execute(&format!("{}/single", cluster.url), "UPDATE contacts SET score = data * 2");
        started.elapsed()
    };
    work.write(
        "migrations/1_score/data.sql",
        "-- haste:data table=contacts key=id batch=5000 target=200ms\nUPDATE contacts SET score = data * 2 WHERE :range;\n",
    );
    let batched = time(Command::new(env!("CARGO_BIN_EXE_haste")).current_dir(work.path()).args([
        "migrate",
        "deploy",
        "--url",
        &format!("{}/batched", cluster.url),
    ]));
    cluster.stop().expect("stop PostgreSQL");
    let rate = |time: Duration| rows as f64 / time.as_secs_f64();
    println!("backfill of {rows} rows (PostgreSQL fsync on):");
    println!("  one UPDATE:                  {:>8.3} s ({:.0} rows/s)", single.as_secs_f64(), rate(single));
    println!("  haste data migration:        {:>8.3} s ({:.0} rows/s)", batched.as_secs_f64(), rate(batched));
    println!("  throughput ratio haste/one:  {:>8.3}", rate(batched) / rate(single));
}

fn time(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run haste");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    started.elapsed()
}
