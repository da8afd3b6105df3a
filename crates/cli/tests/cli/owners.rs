//! Owners, compared only when asked (`--owners`, `owners = true`): dumped and restored, planned
//! as `OWNER TO`, reported as drift; and default privileges of another role, dumped `FOR ROLE`
//! it whether or not owners are asked for.

use haste_testkit::{TempDir, TestDb, database};

use crate::{haste, migration_folders as folders, migrations};

/// A role of this test's own (roles belong to the whole test cluster).
fn role(db: &TestDb, label: &str) -> String {
    let role = format!("{label}_{}", db.name);
    haste_testkit::ensure_roles(&db.url, &[&role]);
    role
}

/// The model of `db` as `schema inspect --owners` reads it.
fn model_with_owners(dir: &TempDir, db: &TestDb) -> serde_json::Value {
    let run = haste(dir.path(), &["schema", "inspect", "--owners", "--url", &db.url, "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    run.json_lines()[0]["schema_model"].clone()
}

fn owned_objects(owner: &str, reader: &str) -> String {
    format!(
        r#"CREATE SCHEMA crm;
ALTER SCHEMA crm OWNER TO "{owner}";
CREATE TABLE crm.deals (id serial PRIMARY KEY, amount numeric);
ALTER TABLE crm.deals OWNER TO "{owner}";
CREATE TABLE crm.events (at date) PARTITION BY RANGE (at);
CREATE TABLE crm.events_2026 PARTITION OF crm.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE crm.events_2026 OWNER TO "{owner}";
CREATE VIEW crm.open_deals AS SELECT id FROM crm.deals;
ALTER VIEW crm.open_deals OWNER TO "{owner}";
CREATE MATERIALIZED VIEW crm.totals AS SELECT sum(amount) AS total FROM crm.deals;
ALTER MATERIALIZED VIEW crm.totals OWNER TO "{owner}";
CREATE SEQUENCE crm.numbers;
ALTER SEQUENCE crm.numbers OWNER TO "{owner}";
CREATE FUNCTION crm.one() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER FUNCTION crm.one() OWNER TO "{owner}";
CREATE TYPE crm.stage AS ENUM ('lead', 'won');
ALTER TYPE crm.stage OWNER TO "{owner}";
CREATE DOMAIN crm.email AS text;
ALTER DOMAIN crm.email OWNER TO "{owner}";
ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA crm GRANT SELECT ON TABLES TO "{reader}";
"#
    )
}

/// With `--owners` the dump gives every object its owner back (a column's sequence follows
/// its table) and inspects equal on a copy; without, it writes no owner, as before. Default
/// privileges of another role are written `FOR ROLE` it either way, and come back for it.
#[test]
fn a_dump_with_owners_restores_them_and_default_privileges_keep_their_role() {
    let (Some(db), Some(copy), Some(plain)) = (database(), database(), database()) else { return };
    let (owner, reader) = (role(&db, "owner"), role(&db, "reader"));
    let dir = migrations(&[("1_owned", &owned_objects(&owner, &reader))]);
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");

    let dump = haste(dir.path(), &["schema", "dump", "--owners", "--url", &db.url]);
    assert_eq!(dump.code, 0, "{dump:?}");
    for statement in [
        format!(r#"ALTER SCHEMA "crm" OWNER TO "{owner}";"#),
        format!(r#"ALTER TABLE "crm"."deals" OWNER TO "{owner}";"#),
        format!(r#"ALTER TABLE "crm"."events_2026" OWNER TO "{owner}";"#),
        format!(r#"ALTER VIEW "crm"."open_deals" OWNER TO "{owner}";"#),
        format!(r#"ALTER MATERIALIZED VIEW "crm"."totals" OWNER TO "{owner}";"#),
        format!(r#"ALTER SEQUENCE "crm"."numbers" OWNER TO "{owner}";"#),
        format!(r#"ALTER ROUTINE crm.one() OWNER TO "{owner}";"#),
        format!(r#"ALTER TYPE "crm"."stage" OWNER TO "{owner}";"#),
        format!(r#"ALTER DOMAIN "crm"."email" OWNER TO "{owner}";"#),
        format!(
            r#"ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA "crm" GRANT SELECT ON TABLES TO "{reader}";"#
        ),
    ] {
        assert!(dump.stdout.contains(&statement), "{statement}\n{}", dump.stdout);
    }
    assert!(!dump.stdout.contains("deals_id_seq\" OWNER"), "a column's sequence follows its table");
    assert!(!dump.stdout.contains("\"events\" OWNER"), "the parent stays the reader's own");
    let replay = TempDir::new("owners-replay");
    replay.write("migrations/1_dump/migration.sql", &dump.stdout);
    let applied = haste(replay.path(), &["migrate", "deploy", "--url", &copy.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(model_with_owners(&dir, &copy), model_with_owners(&dir, &db));
    let owner_of = |db: &TestDb| {
        db.value("SELECT relowner::regrole::text FROM pg_class WHERE oid = 'crm.deals_id_seq'::regclass")
    };
    assert_eq!(owner_of(&copy), owner_of(&db), "the sequence followed its table");

    // Without --owners: no owner, but the default privileges still belong to their role.
    let without = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    assert!(!without.stdout.contains("OWNER TO"), "{}", without.stdout);
    assert!(without.stdout.contains(&format!("FOR ROLE \"{owner}\"")), "{}", without.stdout);
    let inspect = haste(dir.path(), &["schema", "inspect", "--url", &db.url, "--format", "json"]);
    assert!(inspect.json_lines()[0]["schema_model"].get("owners").is_none(), "{inspect:?}");
    let plain_dir = TempDir::new("owners-plain");
    plain_dir.write("migrations/1_dump/migration.sql", &without.stdout);
    assert_eq!(haste(plain_dir.path(), &["migrate", "deploy", "--url", &plain.url]).code, 0);
    let defaults = "SELECT defaclrole::regrole::text FROM pg_default_acl";
    assert_eq!(plain.value(defaults), Some(owner.clone()));

    // The plain copy differs from the source in owners only: `schema diff --owners` plans them.
    let diff = haste(dir.path(), &["schema", "diff", "--from", &plain.url, "--to", &db.url]);
    assert_eq!(diff.code, 0, "without --owners nothing differs: {diff:?}");
    let diff = haste(dir.path(), &["schema", "diff", "--owners", "--from", &plain.url, "--to", &db.url]);
    assert_eq!(diff.code, 14, "{diff:?}");
    assert!(
        diff.stdout.contains(&format!(r#"ALTER TABLE "crm"."deals" OWNER TO "{owner}";"#)),
        "{}",
        diff.stdout
    );
    let json = haste(
        dir.path(),
        &["schema", "diff", "--owners", "--from", &plain.url, "--to", &db.url, "--format", "json"],
    );
    let steps = json.json_lines()[0]["steps"].clone();
    let step = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sql"].as_str().unwrap().starts_with("ALTER TABLE \"crm\".\"deals\" OWNER"))
        .unwrap_or_else(|| panic!("{steps}"));
    assert_eq!(step["lock"], "ACCESS_EXCLUSIVE", "{step}");
    // Back the other way: the objects go back to the role running the plan.
    let back = haste(dir.path(), &["schema", "diff", "--owners", "--from", &db.url, "--to", &plain.url]);
    assert!(back.stdout.contains(r#"ALTER TABLE "crm"."deals" OWNER TO CURRENT_USER;"#), "{}", back.stdout);
}

/// Drift: an owner changed outside the migrations is drift with `--owners` or `owners = true`
/// (exit 15) and nothing without; owners the migrations give are replayed on the shadow and
/// match.
#[test]
fn an_owner_changed_by_hand_is_drift_only_when_owners_are_compared() {
    let Some(db) = database() else { return };
    let owner = role(&db, "owner");
    let dir = migrations(&[(
        "1_tables",
        &format!(
            "CREATE TABLE given (id int);\nALTER TABLE given OWNER TO \"{owner}\";\nCREATE TABLE kept (id int);"
        ),
    )]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let status = |owners: bool| {
        let mut args = vec!["migrate", "status", "--drift", "--url", &db.url];
        if owners {
            args.push("--owners");
        }
        haste(dir.path(), &args)
    };
    let clean = status(true);
    assert_eq!(clean.code, 0, "the owner the history gives matches: {clean:?}");
    db.execute(&format!("ALTER TABLE kept OWNER TO \"{owner}\""));
    assert_eq!(status(false).code, 0, "owners are not compared by default");
    let drift = status(true);
    assert_eq!(drift.code, 15, "{drift:?}");
    assert!(drift.stderr.contains("owner table public.kept"), "{drift:?}");
    // `owners = true` in haste.toml asks for them as the flag does.
    dir.write("haste.toml", "owners = true\n");
    assert_eq!(status(false).code, 15, "haste.toml's owners = true");
    let config = haste(dir.path(), &["config", "--url", &db.url, "--format", "json"]);
    assert_eq!(config.json_lines()[0]["owners"], "true", "{config:?}");
}

/// `migrate dev --owners` writes the owner the desired schema gives, and the file deploys.
#[test]
fn migrate_dev_with_owners_writes_owner_to() {
    let Some(db) = database() else { return };
    let owner = role(&db, "owner");
    let dir = TempDir::new("owners-dev");
    dir.write("schema.sql", "CREATE TABLE deals (id int);");
    let dev = |extra: &[&str]| {
        let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", "schema.sql"];
        args.extend_from_slice(extra);
        haste(dir.path(), &args)
    };
    assert_eq!(dev(&["--name", "init"]).code, 0);
    dir.write(
        "schema.sql",
        &format!("CREATE TABLE deals (id int);\nALTER TABLE deals OWNER TO \"{owner}\";"),
    );
    let same = dev(&["--name", "ignored"]);
    assert!(same.stdout.contains("no migration generated"), "without --owners: {same:?}");
    let owned = dev(&["--owners", "--name", "owner"]);
    assert_eq!(owned.code, 0, "{owned:?}");
    let written = folders(&dir).last().unwrap().join("migration.sql");
    let sql = std::fs::read_to_string(written).unwrap();
    assert!(sql.contains(&format!(r#"ALTER TABLE "public"."deals" OWNER TO "{owner}";"#)), "{sql}");
    assert_eq!(
        db.value("SELECT relowner::regrole::text FROM pg_class WHERE relname = 'deals'"),
        Some(owner.clone())
    );
    let again = dev(&["--owners", "--name", "again"]);
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
}

/// A view another role owns over a column whose type change is expanded and swapped: the swap
/// creates the view again and, owners compared, gives it back to its owner in the same
/// transaction (migrate dev stopped with exit 1, "a bug in haste: + owner view public.v2":
/// adversary adv-b O2).
#[test]
fn a_view_the_type_change_swap_creates_again_keeps_its_owner() {
    let Some(db) = database() else { return };
    let owner = role(&db, "owner");
    let dir = TempDir::new("owners-swap-view");
    let v1 = format!(
        "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
CREATE VIEW v2 AS SELECT id, v * 2 AS w FROM t;
ALTER VIEW v2 OWNER TO \"{owner}\";"
    );
    let dev = |desired: &str, name: &str| {
        dir.write("schema.sql", desired);
        haste(
            dir.path(),
            &["migrate", "dev", "--owners", "--url", &db.url, "--schema", "schema.sql", "--name", name],
        )
    };
    assert_eq!(dev(&v1, "init").code, 0);
    let v2 = v1.replace("v int NOT NULL", "v bigint NOT NULL");
    let run = dev(&v2, "wider");
    assert_eq!(run.code, 0, "{run:?}");
    let swap = folders(&dir)
        .into_iter()
        .map(|folder| std::fs::read_to_string(folder.join("migration.sql")).unwrap())
        .find(|sql| sql.contains("CREATE VIEW"))
        .expect("a swap creating the view again");
    assert!(swap.contains(&format!(r#"ALTER VIEW "public"."v2" OWNER TO "{owner}";"#)), "{swap}");
    assert_eq!(
        db.value("SELECT relowner::regrole::text FROM pg_class WHERE relname = 'v2'"),
        Some(owner.clone())
    );
    let again = dev(&v2, "again");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
}

/// A rename hint on a live database copies it to a shadow from its DDL first; with owners read,
/// that DDL gives objects to their owners, which the copy runs as the connecting role to do.
#[test]
fn a_rename_on_a_database_with_owners_copies_them() {
    let (Some(from), Some(to)) = (database(), database()) else { return };
    let owner = role(&from, "owner");
    let table = |column: &str| {
        format!("CREATE TABLE deals (id int, {column} numeric);\nALTER TABLE deals OWNER TO \"{owner}\";")
    };
    from.execute(&table("amount"));
    to.execute(&table("total"));
    let dir = TempDir::new("owners-rename");
    let diff = haste(
        dir.path(),
        &[
            "schema",
            "diff",
            "--owners",
            "--url",
            &from.url,
            "--from",
            &from.url,
            "--to",
            &to.url,
            "--rename",
            "public.deals.amount=total",
        ],
    );
    assert_eq!(diff.code, 14, "{diff:?}");
    assert!(diff.stdout.contains("RENAME COLUMN"), "{}", diff.stdout);
    assert!(!diff.stdout.contains("OWNER TO"), "the owner is the same on both sides: {}", diff.stdout);
}
