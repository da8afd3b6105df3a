//! Table storage parameters and `REPLICA IDENTITY`: dumped and restored, planned between two
//! databases, and reported as drift.

use haste_testkit::{TempDir, database};

use crate::schema::{check_dump_round_trip, check_plan, model};
use crate::{haste, migrations};

const TUNED: &str = "
CREATE TABLE events (id bigint PRIMARY KEY, code text NOT NULL, body text)
    WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05, toast.autovacuum_enabled = false);
CREATE UNIQUE INDEX events_code_key ON events (code);
ALTER TABLE events REPLICA IDENTITY USING INDEX events_code_key;
CREATE TABLE audit (id int, note text);
ALTER TABLE audit REPLICA IDENTITY FULL;
CREATE TABLE scratch (id int) WITH (parallel_workers = 2);
ALTER TABLE scratch REPLICA IDENTITY NOTHING;
";

#[test]
fn a_dump_keeps_storage_parameters_and_replica_identities() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_tuned", TUNED)]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let model = model(&dir, &db);
    let events = &model["tables"].as_array().unwrap().iter().find(|t| t["name"] == "events").unwrap();
    assert_eq!(events["replica_identity"]["index"], "events_code_key", "{events}");
    let parameters: Vec<String> = events["storage_parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}={}", p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        parameters,
        ["autovacuum_vacuum_scale_factor=0.05", "fillfactor=70", "toast.autovacuum_enabled=false"]
    );
    let dump = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    assert!(
        dump.stdout.contains(r#"ALTER TABLE "public"."audit" REPLICA IDENTITY FULL;"#),
        "{}",
        dump.stdout
    );
    check_dump_round_trip(&dir, &db);
}

#[test]
fn a_plan_sets_resets_and_moves_them() {
    if database().is_none() {
        return;
    }
    // Each way: parameters set, changed and reset, identities moved to and from an index.
    let plain = "
CREATE TABLE events (id bigint PRIMARY KEY, code text NOT NULL, body text) WITH (fillfactor = 90, parallel_workers = 4);
CREATE TABLE audit (id int, note text);
CREATE TABLE scratch (id int);
";
    let plan = check_plan(plain, TUNED);
    for statement in [
        r#"ALTER TABLE "public"."events" RESET ("parallel_workers");"#,
        r#"ALTER TABLE "public"."events" REPLICA IDENTITY USING INDEX "events_code_key";"#,
        "-- lock: SHARE UPDATE EXCLUSIVE",
    ] {
        assert!(plan.contains(statement), "{statement}\n{plan}");
    }
    let back = check_plan(TUNED, plain);
    assert!(back.contains(r#"ALTER TABLE "public"."audit" REPLICA IDENTITY DEFAULT;"#), "{back}");
}

#[test]
fn a_changed_parameter_or_identity_is_drift() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("storage-drift");
    dir.write("schema.sql", TUNED);
    let init =
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", "init"]);
    assert_eq!(init.code, 0, "{init:?}");
    let clean = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(clean.code, 0, "{clean:?}");

    db.execute("ALTER TABLE events SET (fillfactor = 50); ALTER TABLE audit REPLICA IDENTITY DEFAULT");
    let status = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(status.code, 15, "{status:?}");
    for line in [
        "storage parameter public.events.fillfactor differs",
        "replica identity of table public.audit differs",
    ] {
        assert!(status.stderr.contains(line), "{line}\n{status:?}");
    }
}
