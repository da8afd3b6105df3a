//! Fault injection: deploys killed at random moments, and a server restarted under a deploy.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use haste_testkit::{Durability, LocalCluster, TempDir, TestDb, database, wait_until};

use crate::{command, haste, wait_for_orphans};

/// Transactional, concurrent-index, mixed and self-managed migrations, slow enough that a
/// random kill lands in every phase.
const MIXED: [(&str, &str); 5] = [
    (
        "1_base",
        "CREATE TABLE a (id int PRIMARY KEY, v int, w int);\nINSERT INTO a SELECT g, g % 97, g FROM generate_series(1, 40000) g;",
    ),
    ("2_index", "CREATE INDEX CONCURRENTLY a_v_idx ON a (v);"),
    (
        "3_mixed",
        "CREATE TABLE b (id int PRIMARY KEY, x int);\nINSERT INTO b SELECT g, g % 100 FROM generate_series(1, 40000) g;\nCREATE INDEX CONCURRENTLY b_x_idx ON b (x);\nALTER TABLE a ADD COLUMN z int;\nCREATE UNIQUE INDEX CONCURRENTLY a_id_w_key ON a (id, w);",
    ),
    ("4_tx", "CREATE TABLE c (id int PRIMARY KEY REFERENCES a);\nCREATE INDEX c_id_idx ON c (id);"),
    ("5_own_tx", "BEGIN;\nCREATE TABLE d (id int);\nINSERT INTO d VALUES (1);\nCOMMIT;"),
];

fn mixed_folder() -> TempDir {
    let dir = TempDir::new("faults");
    for (name, sql) in MIXED {
        dir.write(&format!("migrations/{name}/migration.sql"), sql);
    }
    dir
}

fn exists(db: &TestDb, relation: &str) -> bool {
    db.value(&format!("SELECT to_regclass('{relation}') IS NOT NULL")).as_deref() == Some("t")
}

/// Checks that what `status` says of each migration is what the database holds.
fn check_status_is_truthful(dir: &TempDir, db: &TestDb, seed: u64) {
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url, "--format", "json"]);
    let report = &status.json_lines()[0];
    let states: HashMap<String, (String, i64)> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                (m["state"].as_str().unwrap().to_owned(), m["statements_done"].as_i64().unwrap_or(0)),
            )
        })
        .collect();
    let state = |name: &str| states[name].0.as_str();
    let context = format!("seed {seed}: {states:?}");
    // Transactional and self-managed single-transaction migrations are all or nothing.
    assert_eq!(state("1_base") == "applied", exists(db, "a"), "{context}");
    assert_eq!(state("4_tx") == "applied", exists(db, "c"), "{context}");
    assert_eq!(state("5_own_tx") == "applied", exists(db, "d"), "{context}");
    for name in ["1_base", "4_tx", "5_own_tx"] {
        assert!(matches!(state(name), "applied" | "pending"), "{context}");
    }
    // Stepwise migrations: nothing runs before their start is recorded; progress is exact at
    // step boundaries.
    if state("2_index") == "pending" {
        assert!(!exists(db, "a_v_idx"), "{context}");
    }
    match state("3_mixed") {
        "pending" => assert!(!exists(db, "b"), "{context}"),
        "applied" => {
            assert!(exists(db, "b") && exists(db, "b_x_idx") && exists(db, "a_id_w_key"), "{context}")
        }
        "interrupted" | "failed" => assert_eq!(exists(db, "b"), states["3_mixed"].1 >= 2, "{context}"),
        other => panic!("unexpected state {other}: {context}"),
    }
}

/// Brings the database to the newest migration the way an operator would: deploy, and where
/// status names an interrupted migration, resume it.
fn recover(dir: &TempDir, db: &TestDb, seed: u64) {
    let mut transcript = String::new();
    for _ in 0..6 {
        let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
        transcript.push_str(&format!("{deploy:?}\n"));
        match deploy.code {
            0 => return,
            7 => {
                let status = haste(dir.path(), &["migrate", "status", "--url", &db.url, "--format", "json"]);
                let report = &status.json_lines()[0];
                let stuck = report["migrations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| matches!(m["state"].as_str(), Some("interrupted" | "failed")))
                    .map(|m| m["name"].as_str().unwrap().to_owned())
                    .unwrap_or_else(|| panic!("seed {seed}: deploy blocked but nothing stuck: {status:?}"));
                let resume = haste(
                    dir.path(),
                    &["migrate", "resolve", "--url", &db.url, "--resume", &stuck, "--drop-invalid-index"],
                );
                transcript.push_str(&format!("{resume:?}\n"));
                assert_eq!(resume.code, 0, "seed {seed}: {transcript}");
            }
            _ => panic!("seed {seed}: {deploy:?}"),
        }
    }
    panic!("seed {seed}: did not recover:\n{transcript}");
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

#[test]
fn killed_deploys_leave_a_truthful_status_and_recover_to_the_same_schema() {
    let Some(reference) = database() else { return };
    let dir = mixed_folder();
    let started = Instant::now();
    let clean = haste(dir.path(), &["migrate", "deploy", "--url", &reference.url]);
    let clean_ms = started.elapsed().as_millis() as u64;
    assert_eq!(clean.code, 0, "{clean:?}");
    let expected = reference.schema_dump();
    let runs: u64 = std::env::var("HASTE_FAULT_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(50);
    let base_seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("fault injection: {runs} runs, base seed {base_seed}, clean deploy {clean_ms} ms");
    std::thread::scope(|scope| {
        for worker in 0..2u64 {
            let (dir, expected) = (&dir, &expected);
            scope.spawn(move || {
                for run in (worker..runs).step_by(2) {
                    let seed = base_seed.wrapping_add(run);
                    let mut random = Lcg(seed);
                    let db = database().unwrap();
                    let mut child = command(dir.path(), &["migrate", "deploy", "--url", &db.url])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(random.next(clean_ms * 5 / 4)));
                    let _ = child.kill();
                    let _ = child.wait();
                    wait_for_orphans(&db);
                    check_status_is_truthful(dir, &db, seed);
                    recover(dir, &db, seed);
                    assert_eq!(&db.schema_dump(), expected, "seed {seed}");
                    let once = db.value(
                        "SELECT count(*) FROM _haste_migrations m WHERE status = 'applied' AND \
                         (SELECT count(*) FROM _haste_events e WHERE e.name = m.name AND e.event = 'applied') = 1",
                    );
                    assert_eq!(once.as_deref(), Some("5"), "seed {seed}: every migration applied exactly once");
                }
            });
        }
    });
}

#[test]
fn a_server_restart_during_deploy_is_a_connection_error_and_a_rerun_completes() {
    // Only where a server can be started: this test restarts its own.
    if database().is_none() {
        return;
    }
    let folder = TempDir::new("restart-cluster");
    std::fs::set_permissions(folder.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::start(folder.path(), Durability::Off).unwrap();
    haste_testkit::execute(&format!("{}/postgres", cluster.url), "CREATE DATABASE restart");
    let url = format!("{}/restart", cluster.url);
    let dir = TempDir::new("restart");
    dir.write("migrations/1_a/migration.sql", "CREATE TABLE a (id int);");
    dir.write("migrations/2_slow/migration.sql", "CREATE TABLE b (id int);\nSELECT pg_sleep(5);");
    dir.write("migrations/3_c/migration.sql", "CREATE TABLE c (id int);");
    let child = command(dir.path(), &["migrate", "deploy", "--url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sleeping = wait_until(Duration::from_secs(10), || {
        haste_testkit::query(&url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(5)%' AND pid <> pg_backend_pid() AND datname = current_database()")
            [0][0]
            .as_deref()
            == Some("1")
    });
    assert!(sleeping);
    cluster.restart().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains("connection was lost"), "{stderr}");
    let rerun = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert!(rerun.stdout.contains("Applied 2 migrations"), "{rerun:?}");
    cluster.stop().unwrap();
}
