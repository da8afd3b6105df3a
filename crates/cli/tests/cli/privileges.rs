//! Privileges: dumped and restored, reported as drift, kept by views and columns that a
//! migration creates again, and replayed on shadows where the roles granted to do not exist.

use std::fs;

use haste_testkit::{TempDir, TestDb, database};

use crate::schema::check_dump_round_trip;
use crate::{haste, migration_folders as folders, migrations};

/// A login role of this test's own (roles belong to the whole test cluster), created now.
fn login_role(db: &TestDb, label: &str) -> String {
    let role = format!("{label}_{}", db.name);
    db.execute(&format!("CREATE ROLE \"{role}\" LOGIN"));
    role
}

/// `sql` run as `role` (the test server trusts every login).
fn as_role(db: &TestDb, role: &str, sql: &str) -> Result<(), String> {
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    haste_testkit::try_query(&url, sql).map(drop)
}

fn dev(dir: &TempDir, db: &TestDb, desired: &str, name: &str) -> crate::Run {
    dir.write("schema.sql", desired);
    haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
}

#[test]
fn a_dump_restores_grants_revoked_defaults_and_default_privileges() {
    let Some(db) = database() else { return };
    let reader = login_role(&db, "reader");
    let dir = migrations(&[(
        "1_grants",
        &format!(
            r#"CREATE SCHEMA crm;
GRANT USAGE ON SCHEMA crm TO "{reader}";
CREATE TABLE crm.deals (id serial PRIMARY KEY, amount numeric, secret text);
CREATE VIEW crm.open_deals AS SELECT id, amount FROM crm.deals;
GRANT SELECT ON crm.open_deals TO "{reader}" WITH GRANT OPTION;
GRANT SELECT (id, amount), UPDATE (amount) ON crm.deals TO "{reader}";
GRANT USAGE ON SEQUENCE crm.deals_id_seq TO "{reader}";
CREATE FUNCTION crm.total() RETURNS numeric LANGUAGE sql AS 'SELECT sum(amount) FROM crm.deals';
REVOKE EXECUTE ON FUNCTION crm.total() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crm.total() TO "{reader}";
CREATE TYPE crm.stage AS ENUM ('lead', 'won');
REVOKE USAGE ON TYPE crm.stage FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA crm GRANT SELECT ON TABLES TO "{reader}";
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
"#
        ),
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let dump = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    for statement in [
        format!(r#"GRANT SELECT ("amount") ON TABLE "crm"."deals" TO "{reader}";"#),
        format!(r#"GRANT SELECT ON TABLE "crm"."open_deals" TO "{reader}" WITH GRANT OPTION;"#),
        "REVOKE EXECUTE ON ROUTINE crm.total() FROM PUBLIC;".to_owned(),
        r#"REVOKE USAGE ON TYPE "crm"."stage" FROM PUBLIC;"#.to_owned(),
        format!(r#"ALTER DEFAULT PRIVILEGES IN SCHEMA "crm" GRANT SELECT ON TABLES TO "{reader}";"#),
    ] {
        assert!(dump.stdout.contains(&statement), "{statement}\n{}", dump.stdout);
    }
    assert!(!dump.stdout.contains("OWNER"), "owners are not modelled:\n{}", dump.stdout);
    check_dump_round_trip(&dir, &db);
    assert!(as_role(&db, &reader, "SELECT crm.total(), (SELECT count(*) FROM crm.open_deals)").is_ok());
    let refused = as_role(&db, &reader, "SELECT secret FROM crm.deals");
    assert!(refused.is_err_and(|error| error.starts_with("42501")), "no grant on that column");
}

#[test]
fn a_revoked_grant_is_drift_named_by_privilege() {
    let Some(db) = database() else { return };
    let reader = login_role(&db, "drift");
    let dir = TempDir::new("privilege-drift");
    let v1 = format!("CREATE TABLE deals (id int PRIMARY KEY);\nGRANT SELECT ON deals TO \"{reader}\";");
    assert_eq!(dev(&dir, &db, &v1, "init").code, 0);
    let clean = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(clean.code, 0, "{clean:?}");

    db.execute(&format!("REVOKE SELECT ON deals FROM \"{reader}\""));
    let status = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(status.code, 15, "{status:?}");
    assert!(status.stderr.contains(&format!("privilege SELECT on public.deals for {reader}")), "{status:?}");
}

#[test]
fn a_view_recreated_by_a_migration_keeps_its_grants_for_the_role_reading_it() {
    let Some(db) = database() else { return };
    let reader = login_role(&db, "viewer");
    let dir = TempDir::new("privilege-view");
    let v1 = format!(
        "CREATE TABLE deals (id int PRIMARY KEY, amount int);
CREATE VIEW open_deals AS SELECT id, amount FROM deals;
GRANT SELECT ON open_deals TO \"{reader}\";"
    );
    assert_eq!(dev(&dir, &db, &v1, "init").code, 0);
    db.execute("INSERT INTO deals VALUES (1, 10)");
    assert!(as_role(&db, &reader, "SELECT * FROM open_deals").is_ok());

    // A new column leaves the view that reads the table alone.
    let v2 = v1.replace("amount int)", "amount int, note text)");
    let run = dev(&dir, &db, &v2, "note");
    assert_eq!(run.code, 0, "{run:?}");
    let migration = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(!migration.contains("VIEW") && !migration.contains("GRANT"), "{migration}");

    // A changed definition: the planner drops and recreates the view.
    let v3 = v2.replace("FROM deals;", "FROM deals WHERE amount > 0;");
    let run = dev(&dir, &db, &v3, "open");
    assert_eq!(run.code, 0, "{run:?}");
    let migration = fs::read_to_string(folders(&dir)[2].join("migration.sql")).unwrap();
    let position = |text: &str| migration.find(text).unwrap_or_else(|| panic!("{text}:\n{migration}"));
    assert!(position("DROP VIEW") < position("CREATE VIEW"));
    assert!(
        position("CREATE VIEW")
            < position(&format!("GRANT SELECT ON TABLE \"public\".\"open_deals\" TO \"{reader}\""))
    );
    assert!(!migration.contains("haste:transaction off"), "one transaction:\n{migration}");
    assert_eq!(as_role(&db, &reader, "SELECT id, amount FROM open_deals"), Ok(()), "{migration}");
}

#[test]
fn a_type_change_swap_keeps_the_grants_of_the_views_and_columns_it_recreates() {
    let Some(db) = database() else { return };
    let reader = login_role(&db, "swapper");
    let dir = TempDir::new("privilege-retype");
    let v1 = format!(
        "CREATE TABLE contacts (id bigint PRIMARY KEY, score integer NOT NULL DEFAULT 0, name text);
CREATE VIEW ranked AS SELECT id, score FROM contacts WHERE score > 10;
GRANT SELECT ON ranked TO \"{reader}\";
GRANT SELECT (id, score) ON contacts TO \"{reader}\";
CREATE STATISTICS contacts_score_name (dependencies) ON score, name FROM contacts;"
    );
    let init = dev(&dir, &db, &v1, "init");
    assert_eq!(init.code, 0, "{init:?}");
    db.execute("INSERT INTO contacts SELECT g, g, 'c' || g FROM generate_series(1, 100) g");
    let v2 = v1.replace("score integer", "score bigint");
    let run = dev(&dir, &db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let swap = fs::read_to_string(folders(&dir).last().unwrap().join("migration.sql")).unwrap();
    assert!(swap.contains("DROP VIEW") && swap.contains("GRANT SELECT (\"score\")"), "{swap}");
    assert_eq!(as_role(&db, &reader, "SELECT id, score FROM contacts"), Ok(()), "{swap}");
    assert_eq!(as_role(&db, &reader, "SELECT count(*) FROM ranked"), Ok(()), "{swap}");
    assert_eq!(
        db.value("SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'contacts_score_name'").as_deref(),
        Some("1"),
        "the statistics object over the column is created again:\n{swap}"
    );
}

#[test]
fn a_history_granting_to_a_role_the_server_lacks_replays_on_a_shadow() {
    let Some(db) = database() else { return };
    let ghost = format!("ghost_{}", db.name);
    let dir = migrations(&[(
        "1_grant",
        &format!("CREATE TABLE deals (id int);\nGRANT SELECT ON deals TO \"{ghost}\";"),
    )]);
    let inspect = haste(
        dir.path(),
        &["schema", "dump", "--source", dir.path().join("migrations").to_str().unwrap(), "--url", &db.url],
    );
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert!(inspect.stdout.contains(&format!("GRANT SELECT ON TABLE \"public\".\"deals\" TO \"{ghost}\"")));
    assert_eq!(
        db.value(&format!("SELECT rolcanlogin FROM pg_roles WHERE rolname = '{ghost}'")).as_deref(),
        Some("f"),
        "made as a role nobody logs in as"
    );
}

#[test]
fn grants_and_revokes_on_an_extension_function_are_dumped_and_diffed() {
    let (Some(db), Some(plain)) = (database(), database()) else { return };
    let reader = login_role(&db, "hasher");
    let extension = "CREATE EXTENSION IF NOT EXISTS pgcrypto;";
    let dir = migrations(&[(
        "1_hardened",
        &format!(
            "{extension}
REVOKE ALL ON FUNCTION digest(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION digest(text, text) TO \"{reader}\";"
        ),
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let dump = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    assert!(dump.stdout.contains(&format!("TO \"{reader}\"")), "{}", dump.stdout);
    check_dump_round_trip(&dir, &db);
    plain.execute(extension);
    let diff = haste(dir.path(), &["schema", "diff", "--from", &plain.url, "--to", &db.url]);
    assert_eq!(diff.code, 14, "the grant and the revoke are differences: {diff:?}");
    let revoke = diff.stdout.lines().find(|line| line.starts_with("REVOKE EXECUTE ON ROUTINE"));
    assert!(revoke.is_some_and(|line| line.contains("digest(text,text) FROM PUBLIC")), "{}", diff.stdout);
}

/// A function whose result type changes is dropped and created again, and the row-level
/// security policies calling it with it. In a migration whose other statements commit one by
/// one (a check calling it is validated on its own), the policies come back in the transaction
/// that dropped them: a restrictive policy was gone from its drop until after the validation,
/// and for good when the validation failed, showing the application role the rows it hides.
#[test]
fn policies_dropped_around_a_function_created_again_come_back_in_the_same_transaction() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let app = login_role(&dev_db, "app");
    let dir = TempDir::new("privileges-policy-function");
    let v1 = format!(
        r#"CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
CREATE TABLE t (id int PRIMARY KEY, v int CHECK (f(v) > 0), secret boolean NOT NULL DEFAULT false);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY open ON t FOR SELECT TO "{app}" USING (true);
CREATE POLICY hide_secret ON t AS RESTRICTIVE FOR SELECT TO "{app}" USING (NOT secret AND f(v) > 0);
GRANT SELECT ON t TO "{app}";"#
    );
    assert_eq!(dev(&dir, &dev_db, &v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g, g % 10 = 0 FROM generate_series(1, 100) g");
    let secret_rows = || {
        let url = prod.url.replacen("postgres@", &format!("{app}@"), 1);
        haste_testkit::try_query(&url, "SELECT count(*) FROM t WHERE secret").unwrap()[0][0].clone()
    };
    assert_eq!(secret_rows().as_deref(), Some("0"));
    // The new body refuses rows of production: the validation fails there.
    let v2 = v1.replace(
        "RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1",
        "RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x - 50",
    );
    let run = dev(&dir, &dev_db, &v2, "bigint_f");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "the policies' transaction, then the validation: {run:?}");
    let together = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        !together.contains("haste:transaction off")
            && together.contains("DROP POLICY \"hide_secret\"")
            && together.contains("CREATE POLICY \"hide_secret\""),
        "{together}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert_eq!(secret_rows().as_deref(), Some("0"), "the restrictive policy is in place: {deploy:?}");
    assert_eq!(
        prod.value("SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy").as_deref(),
        Some("hide_secret,open")
    );
}

/// A policy calling a function created again that changes as well (adv-c F2) comes back in the
/// same transaction as one that does not: both are created again as soon as the function
/// exists, in `<name>` (one transaction), before the validation that `<name>_after` runs. The
/// changed restrictive policy was created after the validation, and never when it failed.
#[test]
fn a_changed_policy_calling_a_function_created_again_comes_back_in_the_same_transaction() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let app = login_role(&dev_db, "app");
    let dir = TempDir::new("privileges-changed-policy-function");
    let v1 = format!(
        r#"CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
CREATE TABLE t (id int PRIMARY KEY, v int CHECK (f(v) > 0), secret boolean NOT NULL DEFAULT false);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY open ON t FOR SELECT TO "{app}" USING (true);
CREATE POLICY hide_secret ON t AS RESTRICTIVE FOR SELECT TO "{app}" USING (NOT secret AND f(v) > 0);
CREATE POLICY known ON t AS RESTRICTIVE FOR SELECT TO "{app}" USING (f(id) IS NOT NULL);
GRANT SELECT ON t TO "{app}";"#
    );
    assert_eq!(dev(&dir, &dev_db, &v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g, g % 10 = 0 FROM generate_series(1, 100) g");
    let secret_rows = || {
        let url = prod.url.replacen("postgres@", &format!("{app}@"), 1);
        haste_testkit::try_query(&url, "SELECT count(*) FROM t WHERE secret").unwrap()[0][0].clone()
    };
    assert_eq!(secret_rows().as_deref(), Some("0"));
    // The new body refuses rows of production: the validation fails there. `hide_secret`
    // changes, `known` does not.
    let v2 = v1
        .replace(
            "RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1",
            "RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x - 50",
        )
        .replace("NOT secret AND f(v) > 0", "NOT secret AND f(v) > 1");
    let run = dev(&dir, &dev_db, &v2, "bigint_f");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "the policies' transaction, then the validation: {run:?}");
    let together = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    for policy in ["hide_secret", "known"] {
        assert!(
            !together.contains("haste:transaction off")
                && together.contains(&format!("DROP POLICY \"{policy}\""))
                && together.contains(&format!("CREATE POLICY \"{policy}\"")),
            "{together}"
        );
    }
    let after = fs::read_to_string(created[2].join("migration.sql")).unwrap();
    assert!(!after.contains("POLICY") && after.contains("VALIDATE CONSTRAINT"), "{after}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert_eq!(secret_rows().as_deref(), Some("0"), "the restrictive policies are in place: {deploy:?}");
    assert_eq!(
        prod.value("SELECT string_agg(polname || ': ' || pg_get_expr(polqual, polrelid), '; ' ORDER BY polname) FROM pg_policy")
            .as_deref(),
        Some("hide_secret: ((NOT secret) AND (f(v) > 1)); known: (f(id) IS NOT NULL); open: true")
    );
}

/// The way back of a function created again under a restrictive policy (adv-c F3): `down.sql`
/// runs in one transaction, so the policy's drop never commits without its creation. It was
/// `-- haste:transaction off` (the validation of the check calling the function), and a lock
/// that stopped the drop of the function left the table without its policy.
#[test]
fn the_down_of_a_function_created_again_keeps_its_policies_in_one_transaction() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let app = login_role(&dev_db, "app");
    let dir = TempDir::new("privileges-policy-function-down");
    let v1 = format!(
        r#"CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x - 50 $$;
CREATE TABLE t (id int PRIMARY KEY, v int CHECK (f(v) > 0), secret boolean NOT NULL DEFAULT false);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY open ON t FOR SELECT TO "{app}" USING (true);
CREATE POLICY hide_secret ON t AS RESTRICTIVE FOR SELECT TO "{app}" USING (NOT secret AND f(v) > 0);
GRANT SELECT ON t TO "{app}";"#
    );
    assert_eq!(dev(&dir, &dev_db, &v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g + 50, g % 10 = 0 FROM generate_series(1, 100) g");
    let v2 = v1.replace(
        "RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x - 50",
        "RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1",
    );
    let run = dev(&dir, &dev_db, &v2, "bigint_f");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "the policies' transaction, then the validation: {run:?}");
    let down = fs::read_to_string(created[1].join("down.sql")).unwrap();
    assert!(
        !down.contains("haste:transaction off") && down.contains("CREATE POLICY \"hide_secret\""),
        "{down}"
    );
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    let secret_rows = || {
        let url = prod.url.replacen("postgres@", &format!("{app}@"), 1);
        haste_testkit::try_query(&url, "SELECT count(*) FROM t WHERE secret").unwrap()[0][0].clone()
    };
    assert_eq!(secret_rows().as_deref(), Some("0"));
    // Another session holds the function (a comment being written): the way back gives up at
    // its drop, after the policy's.
    let holder = haste_testkit::Session::connect(&prod.url);
    holder.execute(
        "SET idle_in_transaction_session_timeout = '60s'; SET lock_timeout = '5s'; BEGIN; COMMENT ON FUNCTION f(int) IS 'being documented'",
    );
    let down =
        haste(dir.path(), &["migrate", "down", "--url", &prod.url, "--steps", "2", "--lock-deadline", "1s"]);
    assert_eq!(down.code, 6, "{down:?}");
    assert_eq!(secret_rows().as_deref(), Some("0"), "the restrictive policy is in place: {down:?}");
    assert_eq!(
        prod.value("SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy").as_deref(),
        Some("hide_secret,open")
    );
    holder.execute("ROLLBACK");
    let down = haste(dir.path(), &["migrate", "down", "--url", &prod.url, "--steps", "1"]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(prod.value("SELECT pg_get_function_result('f'::regproc)").as_deref(), Some("integer"));
    assert_eq!(secret_rows().as_deref(), Some("0"));
}

/// A policy reading a view (adv-c P0): the view dropped, for good or to be created again, takes
/// the policy out of its way first (PostgreSQL refuses the drop under it), and the policy comes
/// back after the view, in the same transaction. `migrate dev` of such a schema failed (exit 1)
/// validating its down.sql, which dropped the view under the policy.
#[test]
fn a_policy_reading_a_view_goes_before_it_and_comes_back_after_it() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("privileges-policy-view");
    let v1 = "CREATE TABLE t (id int PRIMARY KEY, v int);
CREATE VIEW vis AS SELECT id FROM t WHERE v > 0;
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY hide ON t FOR SELECT USING (id IN (SELECT id FROM vis));";
    let run = dev(&dir, &db, v1, "init");
    assert_eq!(run.code, 0, "{run:?}");
    let down = fs::read_to_string(folders(&dir)[0].join("down.sql")).unwrap();
    let at = |text: &str, what: &str| text.find(what).unwrap_or_else(|| panic!("{what} in {text}"));
    assert!(at(&down, "DROP POLICY \"hide\"") < at(&down, "DROP VIEW \"public\".\"vis\""), "{down}");
    // The view changes: dropped and created again around the policy, in one transaction.
    let v2 = v1.replace("WHERE v > 0", "WHERE v > 1");
    let run = dev(&dir, &db, &v2, "stricter");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 2, "{run:?}");
    let up = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        !up.contains("haste:transaction off")
            && at(&up, "DROP POLICY \"hide\"") < at(&up, "DROP VIEW \"public\".\"vis\"")
            && at(&up, "CREATE VIEW \"public\".\"vis\"") < at(&up, "CREATE POLICY \"hide\""),
        "{up}"
    );
    assert_eq!(
        db.value("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'hide'").as_deref(),
        Some("(id IN ( SELECT vis.id\n   FROM vis))")
    );
    assert_eq!(db.value("SELECT pg_get_viewdef('vis')").map(|d| d.contains("> 1")), Some(true));
    let back = haste(dir.path(), &["migrate", "down", "--url", &db.url, "--steps", "2"]);
    assert_eq!(back.code, 0, "{back:?}");
    assert_eq!(db.value("SELECT count(*) FROM pg_policy").as_deref(), Some("0"));
}

/// A changed policy beside an index dropped concurrently: the drop moves before the policy's
/// drop and creation and runs on its own (`<name>`), and the policy's drop and creation follow,
/// committing as one (`<name>_recreate`); so does the way back, each `down.sql` its own. Run
/// statement by statement,
/// the policy's drop committed alone, and a stop at the index left the table without it (the
/// down.sql was made one transaction for that, the up.sql was not).
#[test]
fn a_policy_changed_beside_an_index_drop_and_its_way_back_commit_as_one() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("privileges-policy-down-index");
    let v1 = "CREATE TABLE t (id int PRIMARY KEY, v int, secret boolean NOT NULL DEFAULT false);
CREATE INDEX t_v ON t (v);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY open ON t FOR SELECT USING (true);
CREATE POLICY hide_secret ON t AS RESTRICTIVE FOR SELECT USING (NOT secret);";
    assert_eq!(dev(&dir, &db, v1, "init").code, 0);
    let v2 = v1
        .replace("CREATE INDEX t_v ON t (v);\n", "")
        .replace("USING (NOT secret)", "USING (NOT secret AND v > 0)");
    let run = dev(&dir, &db, &v2, "stricter");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "the index's drop, then the policy's transaction: {run:?}");
    let read = |folder: &std::path::Path, file: &str| fs::read_to_string(folder.join(file)).unwrap();
    let (up, down) = (read(&created[2], "migration.sql"), read(&created[2], "down.sql"));
    for text in [&up, &down] {
        assert!(
            !text.contains("haste:transaction off")
                && text.contains("DROP POLICY \"hide_secret\"")
                && text.contains("CREATE POLICY \"hide_secret\"")
                && !text.contains("t_v"),
            "{text}"
        );
    }
    let (up, down) = (read(&created[1], "migration.sql"), read(&created[1], "down.sql"));
    assert!(up.contains("DROP INDEX CONCURRENTLY") && !up.contains("POLICY"), "{up}");
    assert!(down.contains("CREATE INDEX CONCURRENTLY") && !down.contains("POLICY"), "{down}");
    let back = haste(
        dir.path(),
        &["migrate", "down", "--url", &db.url, "--steps", &(created.len() - 1).to_string()],
    );
    assert_eq!(back.code, 0, "{back:?}");
    assert_eq!(
        db.value("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'hide_secret'")
            .as_deref(),
        Some("(NOT secret)")
    );
}
