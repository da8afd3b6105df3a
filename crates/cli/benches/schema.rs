//! Schema benchmark (issue 4): 1,000 tables, 10,000 columns, 3,000 indexes and 1,000 foreign
//! keys; times `haste schema inspect` and `haste schema diff` between two databases holding it
//! with 1% of the tables changed, beside migra where it is installed (`pip install migra
//! psycopg2-binary`), in the same run on the same cluster.
//!
//! `cargo bench -p haste-cli --bench schema` (`-- --tables N`).

use std::process::Command;
use std::time::{Duration, Instant};

use haste_testkit::{Durability, LocalCluster, TempDir, execute};

fn main() {
    let mut tables = 1000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--tables" {
            tables = args.next().and_then(|n| n.parse().ok()).expect("--tables N");
        }
    }
    let work = TempDir::new("schema-bench");
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::start(work.path(), Durability::Off).expect("start PostgreSQL");
    let admin = format!("{}/postgres", cluster.url);
    execute(&admin, "CREATE DATABASE a");
    let a = format!("{}/a", cluster.url);
    let mut ddl = String::new();
    for t in 0..tables {
        let columns: Vec<String> =
            (0..9).map(|c| format!("c{c} {}", ["integer", "text", "timestamptz"][c % 3])).collect();
        ddl.push_str(&format!("CREATE TABLE t{t} (id bigint PRIMARY KEY, {});\n", columns.join(", ")));
        ddl.push_str(&format!("CREATE INDEX t{t}_c0 ON t{t} (c0); CREATE INDEX t{t}_c1 ON t{t} (c1); CREATE INDEX t{t}_c2 ON t{t} (c2);\n"));
        if t > 0 {
            ddl.push_str(&format!(
                "ALTER TABLE t{t} ADD COLUMN parent_id bigint REFERENCES t{} (id);\n",
                t - 1
            ));
        }
    }
    // One transaction would need a lock per table; chunks keep it within max_locks_per_transaction.
    for chunk in ddl.lines().collect::<Vec<_>>().chunks(200) {
        execute(&a, &chunk.join("\n"));
    }
    execute(&admin, "CREATE DATABASE b TEMPLATE a");
    let b = format!("{}/b", cluster.url);
    let changed = (tables / 100).max(1);
    for t in 0..changed {
        execute(
            &b,
            &format!(
                "ALTER TABLE t{t} ADD COLUMN extra text; DROP INDEX t{t}_c2; CREATE INDEX t{t}_c3 ON t{t} (c3);"
            ),
        );
    }
    let haste = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_haste"));
        command.current_dir(work.path()).args(args);
        command
    };
    let inspect =
        median(3, || time(&mut haste(&["schema", "inspect", "--url", &a, "--format", "json"]), &[0]));
    let diff = median(3, || time(&mut haste(&["schema", "diff", "--from", &a, "--to", &b]), &[14]));
    let migra = Command::new("migra").arg("--help").output().is_ok_and(|o| o.status.success());
    let to_url = |url: &str| url.replacen("postgres://", "postgresql://", 1);
    // migra exits 2 when the schemas differ; anything else means it could not run here.
    let migra = migra
        && Command::new("migra")
            .args(["--unsafe", &to_url(&a), &to_url(&b)])
            .output()
            .is_ok_and(|o| o.status.code() == Some(2));
    println!(
        "schema of {tables} tables, {} columns, {} indexes, {} foreign keys (same run):",
        tables * 10,
        tables * 3,
        tables - 1
    );
    println!("  haste schema inspect:        {:>8.3} s", inspect.as_secs_f64());
    println!("  haste schema diff (1%):      {:>8.3} s", diff.as_secs_f64());
    if migra {
        let migra_time =
            median(3, || time(Command::new("migra").args(["--unsafe", &to_url(&a), &to_url(&b)]), &[2]));
        println!("  migra (1%):                  {:>8.3} s", migra_time.as_secs_f64());
        println!("  ratio haste diff / migra:    {:>8.3}", diff.as_secs_f64() / migra_time.as_secs_f64());
    } else {
        println!(
            "  migra not installed or not working (pip install migra psycopg2-binary 'sqlalchemy<2'): no ratio"
        );
    }
}

fn time(command: &mut Command, expected: &[i32]) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run the command");
    let elapsed = started.elapsed();
    let code = output.status.code().unwrap_or(-1);
    assert!(
        expected.contains(&code),
        "{command:?} exited {code}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn median(rounds: usize, mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..rounds).map(|_| run()).collect();
    times.sort();
    times[times.len() / 2]
}
