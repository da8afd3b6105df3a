//! The example application runs its Rust migration from its own binary, and `haste migrate
//! status` sees it in the same history as the SQL migrations.

use std::path::Path;
use std::process::Command;

#[test]
fn a_rust_migration_runs_from_the_application_and_haste_sees_it() {
    let Some(db) = haste_testkit::database() else { return };
    let app = env!("CARGO_BIN_EXE_haste-example-rust");
    let run = Command::new(app).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("applied 20260102000000_backfill_domains"));
    assert_eq!(
        db.value("SELECT string_agg(domain, ',' ORDER BY id) FROM contacts").as_deref(),
        Some("example.com,example.org,example.com")
    );
    let again = Command::new(app).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 applied, 2 already applied"));

    // The haste command line, built in the same target folder, shares the history.
    let haste = Path::new(app).with_file_name("haste");
    if !haste.exists() {
        eprintln!("SKIP: {} is not built (run the whole workspace's tests)", haste.display());
        return;
    }
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let status = Command::new(&haste)
        .args(["migrate", "status", "--url", &db.url, "--dir"])
        .arg(&migrations)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&status.stderr));
    assert!(stdout.contains("applied     20260102000000_backfill_domains"), "{stdout}");
    let deploy = Command::new(&haste)
        .args(["migrate", "deploy", "--url", &db.url, "--dir"])
        .arg(&migrations)
        .output()
        .unwrap();
    assert_eq!(
        deploy.status.code(),
        Some(0),
        "the CLI does not count it missing: {}",
        String::from_utf8_lossy(&deploy.stderr)
    );
}
