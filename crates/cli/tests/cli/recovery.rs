//! Leaving failure states with a command: down, resolve, baseline, reset, unlock, backup, doctor.

use std::fs;
use std::time::Duration;

use haste_testkit::{TempDir, database, wait_until};

use crate::{command, corpus, haste, migrations, prisma_managed};

const REVERSIBLE: [(&str, &str, &str); 3] = [
    (
        "1_contacts",
        "CREATE TYPE stage AS ENUM ('lead', 'won');\nCREATE TABLE contacts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, stage stage NOT NULL DEFAULT 'lead');",
        "DROP TABLE contacts;\nDROP TYPE stage;",
    ),
    (
        "2_deals",
        "CREATE TABLE deals (id bigint PRIMARY KEY, contact_id bigint NOT NULL REFERENCES contacts (id), amount numeric(12, 2));\nCREATE INDEX deals_contact_idx ON deals (contact_id);\nCREATE VIEW big_deals AS SELECT * FROM deals WHERE amount > 1000;",
        "DROP VIEW big_deals;\nDROP TABLE deals;",
    ),
    (
        "3_score",
        "ALTER TABLE contacts ADD COLUMN score integer CHECK (score >= 0);\nCREATE INDEX CONCURRENTLY contacts_score_idx ON contacts (score);",
        "DROP INDEX CONCURRENTLY contacts_score_idx;\nALTER TABLE contacts DROP COLUMN score;",
    ),
];

fn reversible() -> TempDir {
    let dir = TempDir::new("reversible");
    for (name, up, down) in REVERSIBLE {
        dir.write(&format!("migrations/{name}/migration.sql"), up);
        dir.write(&format!("migrations/{name}/down.sql"), down);
    }
    dir
}

#[test]
fn down_then_deploy_round_trips_the_schema_exactly() {
    let Some(db) = database() else { return };
    let dir = reversible();
    let url = db.url.as_str();
    let empty = db.schema_dump();
    // The schema with only the first migration applied, built on its own.
    fs::rename(dir.path().join("migrations/2_deals"), dir.path().join("2_deals.aside")).unwrap();
    fs::rename(dir.path().join("migrations/3_score"), dir.path().join("3_score.aside")).unwrap();
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    let after_first = db.schema_dump();
    let down = haste(dir.path(), &["migrate", "down", "--url", url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(db.schema_dump(), empty, "down of the only migration empties the schema");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    assert_eq!(db.schema_dump(), after_first);

    fs::rename(dir.path().join("2_deals.aside"), dir.path().join("migrations/2_deals")).unwrap();
    fs::rename(dir.path().join("3_score.aside"), dir.path().join("migrations/3_score")).unwrap();
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    let full = db.schema_dump();

    let down = haste(dir.path(), &["migrate", "down", "--url", url, "--to", "1_contacts"]);
    assert_eq!(down.code, 0, "{down:?}");
    assert!(down.stdout.contains("Reverted 3_score") && down.stdout.contains("Reverted 2_deals"), "{down:?}");
    assert_eq!(db.schema_dump(), after_first);
    let status = haste(dir.path(), &["migrate", "status", "--url", url]);
    assert_eq!(status.code, 3, "{status:?}");

    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    assert_eq!(db.schema_dump(), full);
    let reverted = db.value("SELECT count(*) FROM _haste_events WHERE event = 'reverted'");
    assert_eq!(reverted.as_deref(), Some("3"));
}

#[test]
fn down_refuses_without_a_down_file_or_in_production() {
    let Some(db) = database() else { return };
    let dir = reversible();
    dir.write("migrations/4_no_down/migration.sql", "CREATE TABLE irreversible (id int);");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let missing = haste(dir.path(), &["migrate", "down", "--url", &db.url, "--steps", "2"]);
    assert_eq!(missing.code, 4, "{missing:?}");
    assert!(missing.stderr.contains("4_no_down has no down.sql"), "{missing:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations").as_deref(),
        Some("4"),
        "nothing was undone"
    );

    fs::remove_dir_all(dir.path().join("migrations/4_no_down")).unwrap();
    db.execute("DELETE FROM _haste_migrations WHERE name = '4_no_down'");
    let refused = haste(dir.path(), &["migrate", "down", "--url", &db.url, "--environment", "production"]);
    assert_eq!(refused.code, 12, "{refused:?}");
    assert!(refused.stderr.contains("--confirm-production"), "{refused:?}");
    let confirmed = haste(
        dir.path(),
        &["migrate", "down", "--url", &db.url, "--environment", "production", "--confirm-production"],
    );
    assert_eq!(confirmed.code, 0, "{confirmed:?}");
    assert_eq!(db.value("SELECT to_regclass('contacts_score_idx') IS NULL").as_deref(), Some("t"));
}

#[test]
fn a_prisma_managed_database_is_adopted_without_running_anything() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else { return };
    let work = prisma_managed(&corpus, &db);
    let status = haste(work.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 0, "{status:?}");
    let deploy = haste(work.path(), &["migrate", "deploy", "--url", &db.url, "--format", "json"]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    let last = deploy.json_lines().pop().unwrap();
    assert_eq!(last["applied"].as_array().unwrap().len(), 0, "{deploy:?}");
    assert_eq!(last["adopted"].as_array().unwrap().len(), 3, "{deploy:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM _haste_migrations WHERE status = 'applied'").as_deref(),
        Some("3")
    );
    assert_eq!(haste(work.path(), &["migrate", "status", "--url", &db.url]).code, 0);

    // A migration Prisma recorded as failed is reported, never guessed.
    work.write("migrations/20990101000000_later/migration.sql", "CREATE TABLE later (id int);");
    db.execute(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at) \
         VALUES ('9', 'x', '20990101000000_later', 'ERROR: boom', now())",
    );
    let blocked = haste(work.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(blocked.code, 7, "{blocked:?}");
    assert!(
        blocked.stderr.contains("20990101000000_later") && blocked.stderr.contains("Prisma"),
        "{blocked:?}"
    );
    let status = haste(work.path(), &["migrate", "status", "--url", &db.url, "--format", "json"]);
    assert_eq!(status.code, 7);
    let entry = status.json_lines()[0]["migrations"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["state"], "failed");
    assert_eq!(entry["recorded_by"], "prisma");
}

#[test]
fn resolve_resumes_after_an_invalid_concurrent_index_and_marks_by_hand_fixes() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        (
            "1_people",
            "CREATE TABLE people (id int PRIMARY KEY, email text);\nINSERT INTO people VALUES (1, 'a'), (2, 'a');",
        ),
        (
            "2_unique_email",
            "CREATE TABLE audit (id int);\nCREATE UNIQUE INDEX CONCURRENTLY people_email_key ON people (email);\nALTER TABLE people ADD COLUMN checked boolean;",
        ),
    ]);
    let url = db.url.as_str();
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(failed.stderr.contains("23505"), "{failed:?}");
    assert!(failed.stderr.contains("was dropped"), "{failed:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid").as_deref(),
        Some("0"),
        "the failed build leaves no INVALID index"
    );

    db.execute("UPDATE people SET email = 'b' WHERE id = 2");
    let resumed = haste(dir.path(), &["migrate", "resolve", "--url", url, "--resume", "2_unique_email"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(
        db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'people_email_key'::regclass")
            .as_deref(),
        Some("t")
    );
    assert_eq!(
        db.value("SELECT count(*) FROM information_schema.columns WHERE column_name = 'checked'").as_deref(),
        Some("1")
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 0);

    // A migration finished by hand is recorded as applied; one undone by hand becomes pending.
    dir.write("migrations/3_broken/migration.sql", "CREATE TABLE x (id int);\nVACUUM nowhere;\n");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6);
    let rolled_back = haste(dir.path(), &["migrate", "resolve", "--url", url, "--rolled-back", "3_broken"]);
    assert_eq!(rolled_back.code, 0, "{rolled_back:?}");
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 3);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 6);
    let applied = haste(dir.path(), &["migrate", "resolve", "--url", url, "--applied", "3_broken"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", url]).code, 0);
    let again = haste(dir.path(), &["migrate", "resolve", "--url", url, "--applied", "3_broken"]);
    assert_eq!(again.code, 4, "an applied migration is not resolvable: {again:?}");
    let unknown = haste(dir.path(), &["migrate", "resolve", "--url", url, "--applied", "9_nope"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
}

#[test]
fn baseline_marks_an_existing_database_without_running_anything() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE a (id int); CREATE TABLE b (id int);");
    let dir = migrations(&[
        ("1_a", "CREATE TABLE a (id int);"),
        ("2_b", "CREATE TABLE b (id int);"),
        ("3_c", "CREATE TABLE c (id int);"),
    ]);
    let baseline = haste(dir.path(), &["migrate", "baseline", "2_b", "--url", &db.url]);
    assert_eq!(baseline.code, 0, "{baseline:?}");
    assert!(baseline.stdout.contains("Baselined 2 migration(s): 1_a, 2_b"), "{baseline:?}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert!(deploy.stdout.contains("Applied 1 migration") && deploy.stdout.contains("3_c"), "{deploy:?}");
}

#[test]
fn reset_removes_drift_and_seeds() {
    let Some(db) = database() else { return };
    let dir = reversible();
    dir.write(
        "seed.sql",
        "INSERT INTO contacts (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');",
    );
    let reference = database().unwrap();
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &reference.url]).code, 0);
    let migrated = reference.schema_dump();

    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    db.execute("CREATE TABLE drifted (id int); ALTER TABLE contacts ADD COLUMN nickname text; CREATE SCHEMA side; CREATE TABLE side.t (id int);");
    let refused = haste(dir.path(), &["migrate", "reset", "--url", &db.url, "--environment", "staging"]);
    assert_eq!(refused.code, 12, "{refused:?}");
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &db.url]);
    assert_eq!(reset.code, 0, "{reset:?}");
    assert_eq!(db.schema_dump(), migrated);
    assert_eq!(
        db.value("SELECT string_agg(email, ',' ORDER BY id) FROM contacts").as_deref(),
        Some("ada@example.com,bob@example.com")
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", &db.url]).code, 0);
}

/// Each down.sql of `migrate down --steps 2` and the seed after `migrate reset` start in the
/// session as haste opened it: a down.sql (or the last migration) that turned foreign keys off
/// for its own work let the next down.sql, or the seed, leave rows whose parent is gone.
#[test]
fn each_down_and_the_seed_start_in_a_fresh_session() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        (
            "1_a",
            "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (id int, pid int REFERENCES parent);\nINSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1, 1);",
        ),
        ("2_b", "CREATE TABLE b (n int);\nSET session_replication_role = replica;"),
    ]);
    dir.write("migrations/1_a/down.sql", "DELETE FROM parent;\nDROP TABLE child;\nDROP TABLE parent;");
    dir.write("migrations/2_b/down.sql", "SET session_replication_role = replica;\nDROP TABLE b;");
    dir.write("seed.sql", "INSERT INTO child VALUES (2, 999);");
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &db.url]);
    assert_eq!(reset.code, 6, "the seed's row has no parent: {reset:?}");
    assert!(reset.stderr.contains("23503"), "{reset:?}");
    assert_eq!(db.value("SELECT count(*) FROM child").as_deref(), Some("1"));

    let down = haste(dir.path(), &["migrate", "down", "--steps", "2", "--url", &db.url]);
    assert_eq!(down.code, 6, "1_a's DELETE meets the foreign key: {down:?}");
    assert!(down.stderr.contains("23503"), "{down:?}");
    assert_eq!(db.value("SELECT count(*) FROM parent").as_deref(), Some("1"), "1_a's down rolled back");
    assert_eq!(db.value("SELECT to_regclass('b') IS NULL").as_deref(), Some("t"), "2_b was reverted");
}

/// A seed that opens a transaction it never ends is refused before `reset` empties the
/// database (exit 4, file and line): its insert was rolled back at disconnect while reset said
/// "Ran the seed". A down.sql doing the same is refused as a migration is.
#[test]
fn a_seed_or_down_that_never_commits_its_transaction_is_refused() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_users", "CREATE TABLE users (n int);")]);
    dir.write("migrations/1_users/down.sql", "BEGIN;\nDROP TABLE users;\n");
    dir.write("seed.sql", "INSERT INTO users VALUES (0);\nBEGIN;\nINSERT INTO users VALUES (1);\n");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    db.execute("INSERT INTO users VALUES (42)");
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &db.url]);
    assert_eq!(reset.code, 4, "{reset:?}");
    assert!(reset.stderr.contains("the seed opens a transaction here that it never ends"), "{reset:?}");
    assert!(reset.stderr.contains("seed.sql:2:1"), "{reset:?}");
    assert!(!reset.stdout.contains("Ran the seed"), "{reset:?}");
    assert_eq!(db.value("SELECT string_agg(n::text, ',') FROM users").as_deref(), Some("42"), "not reset");
    let json = haste(dir.path(), &["migrate", "reset", "--url", &db.url, "--format", "json"]);
    assert_eq!(json.code, 4, "{json:?}");
    let error = json.json_lines().last().unwrap()["error"].clone();
    assert_eq!(error["code"], "UNTERMINATED_TRANSACTION", "{json:?}");
    assert_eq!(error["line"], 2, "{json:?}");

    let down = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
    assert_eq!(down.code, 4, "{down:?}");
    assert!(down.stderr.contains("down.sql:1:1"), "{down:?}");
    assert_eq!(db.value("SELECT count(*) FROM users").as_deref(), Some("1"), "nothing reverted");
}

#[test]
fn unlock_names_the_holder_and_ends_only_that_session() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_slow", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);")]);
    let holder = command(dir.path(), &["migrate", "deploy", "--url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        db.value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid() AND datname = current_database()").as_deref() == Some("1")
    }));
    let shown = haste(dir.path(), &["migrate", "unlock", "--url", &db.url, "--format", "json"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let pid = shown.json_lines()[0]["holder"]["pid"].as_i64().unwrap();
    let wrong =
        haste(dir.path(), &["migrate", "unlock", "--url", &db.url, "--terminate", &(pid + 1).to_string()]);
    assert_eq!(wrong.code, 4, "{wrong:?}");
    let ended = haste(dir.path(), &["migrate", "unlock", "--url", &db.url, "--terminate", &pid.to_string()]);
    assert_eq!(ended.code, 0, "{ended:?}");
    assert!(ended.stdout.contains(&format!("Ended pid {pid}")), "{ended:?}");
    let output = holder.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(9), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("connection"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 3, "the interrupted transactional migration is still pending: {status:?}");
    let free = haste(dir.path(), &["migrate", "unlock", "--url", &db.url]);
    assert!(free.stdout.contains("free"), "{free:?}");
}

#[test]
fn deploy_backs_up_first_and_refuses_when_the_backup_fails() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE backed_up (id int);")]);
    let bad =
        haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--backup", "/nonexistent/dir/dump.sql"]);
    assert_eq!(bad.code, 10, "{bad:?}");
    assert_eq!(db.value("SELECT to_regclass('backed_up') IS NULL").as_deref(), Some("t"), "nothing applied");
    // pg_dump stops part-way on a table the role may not read: no half a backup is left behind.
    let role = format!("dumper_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN; GRANT CREATE ON SCHEMA public TO {role}; CREATE TABLE secret_rows (id int)"
    ));
    let partial = dir.path().join("partial.sql");
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let denied =
        haste(dir.path(), &["migrate", "deploy", "--url", &url, "--backup", partial.to_str().unwrap()]);
    assert_eq!(denied.code, 10, "{denied:?}");
    assert!(denied.stderr.contains("pg_dump failed"), "{denied:?}");
    assert!(!partial.exists(), "a failed backup leaves no file: {denied:?}");
    assert_eq!(db.value("SELECT to_regclass('backed_up') IS NULL").as_deref(), Some("t"), "nothing applied");
    let file = dir.path().join("before.sql");
    let good =
        haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--backup", file.to_str().unwrap()]);
    assert_eq!(good.code, 0, "{good:?}");
    assert!(fs::read_to_string(&file).unwrap().contains("PostgreSQL database dump"));
}

#[test]
fn doctor_passes_on_a_healthy_database_and_names_what_is_wrong() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let healthy = haste(dir.path(), &["doctor", "--url", &db.url]);
    assert_eq!(healthy.code, 0, "{healthy:?}");
    assert!(
        healthy.stdout.contains("pass direct connection")
            && healthy.stdout.contains("pass invalid indexes: none"),
        "{healthy:?}"
    );
    db.execute("INSERT INTO a VALUES (1), (1)");
    assert!(db.try_execute("CREATE UNIQUE INDEX CONCURRENTLY a_id_key ON a (id)").is_err());
    let sick = haste(dir.path(), &["doctor", "--url", &db.url]);
    assert_eq!(sick.code, 11, "{sick:?}");
    assert!(sick.stdout.contains("FAIL invalid indexes: public.a_id_key on a"), "{sick:?}");
}

#[test]
fn a_role_that_cannot_create_history_tables_gets_exit_1() {
    let Some(db) = database() else { return };
    let role = format!("limited_{}", db.name);
    db.execute(&format!("CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC"));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("42501") && run.stderr.contains("creating the history tables"), "{run:?}");
    let doctor = haste(dir.path(), &["doctor", "--url", &url]);
    assert_eq!(doctor.code, 11, "{doctor:?}");
    assert!(doctor.stdout.contains("FAIL privilege: history tables"), "{doctor:?}");
    db.execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
}

#[test]
fn doctor_says_where_shadow_databases_go_for_a_role_without_createdb() {
    let Some(db) = database() else { return };
    let role = format!("{}_nocreatedb", db.name);
    db.execute(&format!("CREATE ROLE \"{role}\" LOGIN NOCREATEDB"));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let dir = migrations(&[]);

    let superuser = haste(dir.path(), &["doctor", "--url", &db.url]);
    assert!(superuser.stdout.contains("pass shadow database: CREATE DATABASE allowed"), "{superuser:?}");

    // The test cluster runs from the machine's server binaries, so a local cluster can start:
    // what migrate dev will do is a warning, not a failure.
    let doctor = haste(dir.path(), &["doctor", "--url", &url, "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(doctor.stdout.trim()).unwrap();
    let shadow =
        document["checks"].as_array().unwrap().iter().find(|c| c["name"] == "shadow database").unwrap();
    assert_eq!((&shadow["ok"], &shadow["warning"]), (&true.into(), &true.into()), "{doctor:?}");
    assert!(
        shadow["detail"].as_str().unwrap().contains("throwaway local cluster started from"),
        "{doctor:?}"
    );
    // ... and it is what happens: schema diff works for that role.
    let from = dir.write("from.sql", "CREATE TABLE t (id int);");
    let diff = haste(
        dir.path(),
        &["schema", "diff", "--from", from.to_str().unwrap(), "--to", from.to_str().unwrap(), "--url", &url],
    );
    assert_eq!(diff.code, 0, "{diff:?}");

    // Without server binaries, neither works: a failure.
    let mut command = crate::command(dir.path(), &["doctor", "--url", &url]);
    let missing = dir.path().join("no-binaries-here");
    let output = command.env("HASTE_PG_BIN", &missing).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(11), "{stdout}");
    assert!(
        stdout.contains("FAIL shadow database: CREATE DATABASE refused")
            && stdout.contains("grant CREATEDB or pass --shadow-url"),
        "{stdout}"
    );
    db.execute(&format!("DROP ROLE \"{role}\""));
}

#[test]
fn doctor_says_whether_shadow_databases_are_confined() {
    let Some(db) = database() else { return };
    let role = format!("{}_createdb", db.name);
    db.execute(&format!("CREATE ROLE \"{role}\" LOGIN CREATEDB NOCREATEROLE"));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let dir = migrations(&[]);

    let superuser = haste(dir.path(), &["doctor", "--url", &db.url]);
    assert!(
        superuser
            .stdout
            .contains("pass shadow sandbox: replayed SQL runs as a login role of each shadow's own"),
        "{superuser:?}"
    );

    // A role that may create databases but no role: its shadows are on this server, unconfined.
    let doctor = haste(dir.path(), &["doctor", "--url", &url, "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(doctor.stdout.trim()).unwrap();
    let sandbox =
        document["checks"].as_array().unwrap().iter().find(|c| c["name"] == "shadow sandbox").unwrap();
    assert_eq!((&sandbox["ok"], &sandbox["warning"]), (&true.into(), &true.into()), "{doctor:?}");
    assert!(sandbox["detail"].as_str().unwrap().contains("may not create roles"), "{doctor:?}");
    // ... and replays still work for it, as that role.
    let from = dir.write("from.sql", "CREATE TABLE t (id int);");
    let diff = haste(
        dir.path(),
        &["schema", "diff", "--from", from.to_str().unwrap(), "--to", from.to_str().unwrap(), "--url", &url],
    );
    assert_eq!(diff.code, 0, "{diff:?}");
    db.execute(&format!("DROP ROLE \"{role}\""));
}

/// `resolve --resume` runs the rest of a file in a new session: the session settings its
/// statements before made and kept (`SET search_path`, here; not the one a `ROLLBACK` undid)
/// are made again first. The rest ran in `public` instead, or failed there, or (with `SET
/// ROLE`) created objects for another owner; and a replayed rolled-back `SET` sent it to the
/// wrong schema.
#[test]
fn a_resume_runs_the_rest_under_the_settings_the_file_made() {
    // Also as pg_dump writes it: a query of nothing but set_config(..., false).
    for setting in ["SET search_path = app", "SELECT pg_catalog.set_config('search_path', 'app', false)"] {
        let Some(db) = database() else { return };
        let url = db.url.as_str();
        let dir = migrations(&[(
            "1_app",
            &format!(
                "-- haste:transaction off\nCREATE SCHEMA app;\nCREATE SCHEMA wrong;\n{setting};\n\
                 BEGIN;\nSET search_path = wrong;\nROLLBACK;\nCREATE TABLE accounts (id int);\n\
                 CREATE TABLE ledger AS SELECT 1 / (SELECT count(*) FROM accounts)::int AS n;\n"
            ),
        )]);
        let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
        assert_eq!(run.code, 6, "{setting}: {run:?}");
        assert!(run.stderr.contains("22012"), "{setting}: {run:?}");
        db.execute("INSERT INTO app.accounts VALUES (1)");
        let run = haste(dir.path(), &["migrate", "resolve", "--url", url, "--resume", "1_app"]);
        assert_eq!(run.code, 0, "{setting}: {run:?}");
        assert_eq!(
            db.value("SELECT to_regclass('app.ledger') IS NOT NULL").as_deref(),
            Some("t"),
            "{setting}"
        );
    }
}

/// A setting a resume cannot make again (a `DO` block's `SET`) is said out loud, with its line,
/// in text and JSON: the rest of the file then runs without it (it ran in `public` silently).
#[test]
fn a_resume_says_which_settings_it_cannot_make_again() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[(
        "1_app",
        "-- haste:transaction off\nCREATE SCHEMA app;\nDO $$ BEGIN SET search_path = app; END $$;\n\
         CREATE TABLE accounts (id int);\nCREATE TABLE ledger AS SELECT 1 / (SELECT count(*) FROM accounts)::int AS n;\n",
    )]);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
    assert_eq!(run.code, 6, "{run:?}");
    db.execute("INSERT INTO app.accounts VALUES (1)");
    let run =
        haste(dir.path(), &["migrate", "resolve", "--url", url, "--resume", "1_app", "--format", "json"]);
    let warned: Vec<serde_json::Value> =
        run.json_lines().into_iter().filter(|event| event["event"] == "settings_not_made_again").collect();
    assert_eq!(warned.len(), 1, "{run:?}");
    assert_eq!(warned[0]["lines"], serde_json::json!([3]), "{run:?}");
}

/// A migration of the history that fails on the shadow database (the confined role refuses a
/// superuser-only setting) is said to have failed there: it was reported as a migration of this
/// run, "rolled back: nothing of it was applied or recorded; the next deploy tries it again",
/// about a migration applied long ago.
#[test]
fn a_migration_failing_on_the_shadow_says_so() {
    let Some(db) = database() else { return };
    let url = db.url.as_str();
    let dir = migrations(&[
        ("1_items", "CREATE TABLE items (id int PRIMARY KEY);"),
        ("2_replica", "SET session_replication_role = replica;\nINSERT INTO items VALUES (1);\n"),
    ]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", url]).code, 0);
    let run = haste(dir.path(), &["migrate", "status", "--drift", "--url", url]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("replayed on a shadow database"), "{run:?}");
    assert!(!run.stderr.contains("the next deploy tries it again"), "{run:?}");
    let json = haste(dir.path(), &["migrate", "status", "--drift", "--url", url, "--format", "json"]);
    assert_eq!(json.json_lines().last().unwrap()["error"]["code"], "REPLAY_FAILED", "{json:?}");
}

/// A `down.sql` that runs statement by statement and is stopped part-way (the haste process
/// killed, or its connection ended) leaves history saying how many of its statements committed:
/// it said 0 whatever had run, and `status` showed the up migration's count.
#[test]
fn a_down_stopped_part_way_says_where_it_stopped() {
    for stop in ["kill", "terminate"] {
        let Some(db) = database() else { return };
        let table = format!("t_{stop}");
        let dir = migrations(&[(
            "1_t",
            &format!("CREATE TABLE {table} (id int);\nCREATE INDEX {table}_id ON {table} (id);"),
        )]);
        dir.write(
            "migrations/1_t/down.sql",
            &format!(
                "DROP INDEX CONCURRENTLY {table}_id;\nCOMMENT ON TABLE {table} IS 'reverting';\nSELECT pg_sleep(60);\nDROP TABLE {table};"
            ),
        );
        assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
        let mut down = command(dir.path(), &["migrate", "down", "--url", &db.url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sleeping = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname = current_database()";
        assert!(wait_until(Duration::from_secs(10), || db.value(sleeping).is_some()), "{stop}");
        match stop {
            "kill" => down.kill().unwrap(),
            _ => {
                db.execute(&format!("SELECT pg_terminate_backend(pid) FROM ({sleeping}) s"));
            }
        }
        down.wait().unwrap();
        // A killed client's statement may run on: end it before reading the state.
        db.execute(&format!("SELECT pg_terminate_backend(pid) FROM ({sleeping}) s"));
        let status = haste(dir.path(), &["migrate", "status", "--url", &db.url, "--format", "json"]);
        let migration = &status.json_lines()[0]["migrations"][0];
        assert_eq!(migration["last_error"]["phase"], "down", "{stop}: {status:?}");
        assert_eq!(migration["last_error"]["statements_done"], 2, "{stop}: {status:?}");
        let text = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
        assert!(text.stdout.contains("down.sql stopped after 2 statement(s)"), "{stop}: {text:?}");
        assert!(!text.stdout.contains("statements done"), "not the up migration's count: {text:?}");
        // Running down again is refused with the down's progress and a way out that works.
        let again = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
        assert_eq!(again.code, 7, "{stop}: {again:?}");
        assert!(again.stderr.contains("down.sql stopped after 2 statement(s)"), "{stop}: {again:?}");
        assert!(!again.stderr.contains("--resume"), "resume refuses a stopped down: {again:?}");
        db.execute(&format!("DROP TABLE {table}"));
        let resolved = haste(dir.path(), &["migrate", "resolve", "--rolled-back", "1_t", "--url", &db.url]);
        assert_eq!(resolved.code, 0, "the way out the message gives works: {resolved:?}");
    }
}

/// `migrate reset` applies every migration, a `-- haste:after` one too (what `--expand-contract`
/// writes for the next release): it held that one and all after it back, then ran the seed on
/// the part of the schema it had applied.
#[test]
fn reset_applies_the_migrations_held_for_the_next_release() {
    let Some(db) = database() else { return };
    let dir = migrations(&[
        ("1_people", "CREATE TABLE people (id int PRIMARY KEY, name text, full_name text);"),
        ("2_contract", "-- haste:after 1_people\nALTER TABLE people DROP COLUMN name;"),
        ("3_later", "CREATE TABLE later (id int);"),
    ]);
    dir.write(
        "seed.sql",
        "INSERT INTO people (id, full_name) VALUES (1, 'Ada');\nINSERT INTO later VALUES (1);",
    );
    let reset = haste(dir.path(), &["migrate", "reset", "--force", "--url", &db.url]);
    assert_eq!(reset.code, 0, "{reset:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM later").as_deref(),
        Some("1"),
        "the seed ran on the whole schema"
    );
    assert_eq!(
        db.value(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'name'"
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(haste(dir.path(), &["migrate", "status", "--url", &db.url]).code, 0, "nothing pending");
    // A deploy still holds the contract back for the next release.
    let fresh = database().unwrap();
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &fresh.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(fresh.value("SELECT to_regclass('later') IS NULL").as_deref(), Some("t"), "{deploy:?}");
}

/// `migrate reset` empties the database outside the migrations' statement timeout (the session
/// starts with it): dropping a schema of many objects under a short one failed with 57014.
#[test]
fn reset_empties_a_large_schema_whatever_the_statement_timeout() {
    let Some(db) = database() else { return };
    let tables: String =
        (0..200).map(|i| format!("CREATE TABLE t{i} (id int PRIMARY KEY, v text);")).collect();
    db.execute(&tables);
    let dir = migrations(&[]);
    let reset = haste(
        dir.path(),
        &["migrate", "reset", "--url", &db.url, "--statement-timeout", "1ms", "--retries", "0"],
    );
    assert_eq!(reset.code, 0, "{reset:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM pg_tables WHERE tablename ~ '^t[0-9]+$'").as_deref(),
        Some("0")
    );
}
