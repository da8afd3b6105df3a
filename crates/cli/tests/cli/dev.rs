//! `haste migrate dev`: migrations generated from a desired schema in SQL, validated, applied,
//! with drift detection, online-safe forms, renames and generated `down.sql`.

use std::fs;
use std::path::{Path, PathBuf};

use haste_testkit::{TempDir, TestDb, database};

use crate::{Run, compare_sources, corpus, haste};

/// Runs `migrate dev` in `dir` against `db` with `schema.sql` holding `desired`.
fn dev(dir: &TempDir, db: &TestDb, desired: &str, extra: &[&str]) -> Run {
    dir.write("schema.sql", desired);
    let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", "schema.sql"];
    args.extend_from_slice(extra);
    haste(dir.path(), &args)
}

use crate::migration_folders as folders;

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Whether the database's schema is the one `sql` describes (by the schema engine).
pub(crate) fn matches(dir: &TempDir, db: &TestDb, sql: &str) -> Run {
    let file = dir.write("expected.sql", sql);
    haste(
        dir.path(),
        &["schema", "diff", "--from", &db.url, "--to", file.to_str().unwrap(), "--url", &db.url],
    )
}

const V1: &str = "CREATE TABLE workspaces (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE contacts (id bigint PRIMARY KEY, workspace_id bigint NOT NULL, name text, email text, phone text);
CREATE TABLE notes (id bigint, contact_id bigint, body text);";

#[test]
fn dev_writes_validates_and_applies_then_reports_no_difference() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev");
    let first = dev(&dir, &db, V1, &["--name", "init"]);
    assert_eq!(first.code, 0, "{first:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 1, "{first:?}");
    assert!(created[0].file_name().unwrap().to_string_lossy().ends_with("_init"));
    assert!(read(&created[0].join("migration.sql")).contains("CREATE TABLE \"public\".\"contacts\""));
    assert!(dir.path().join("migrations/migration_lock.toml").exists());
    assert!(
        first.stdout.contains("+ table public.contacts") && first.stdout.contains("Applied 1 migration"),
        "{first:?}"
    );
    assert_eq!(matches(&dir, &db, V1).code, 0, "the development database has the desired schema");

    // A development database that does not exist yet is created, as Prisma Migrate does.
    let fresh = format!("{}_fresh", db.name);
    let fresh_url = format!("{}{fresh}", db.url.strip_suffix(&db.name).unwrap());
    let created = haste(dir.path(), &["migrate", "dev", "--url", &fresh_url, "--schema", "schema.sql"]);
    assert_eq!(created.code, 0, "{created:?}");
    assert!(
        created.stdout.contains("Created the development database.")
            && created.stdout.contains("Applied 1 migration"),
        "{created:?}"
    );
    db.execute(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{fresh}'"));
    let admin = db.url.replacen(&format!("/{}", db.name), "/postgres", 1);
    haste_testkit::execute(&admin, &format!("DROP DATABASE \"{fresh}\""));

    let again = dev(&dir, &db, V1, &["--name", "nothing"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
    assert_eq!(folders(&dir).len(), 1, "nothing written when nothing changed");

    // --create-only writes without applying; the next run applies it.
    let v2 = format!("{V1}\nCREATE TABLE deals (id bigint PRIMARY KEY, amount numeric(12,2));");
    let review = dev(&dir, &db, &v2, &["--name", "deals", "--create-only", "--format", "json"]);
    assert_eq!(review.code, 0, "{review:?}");
    let summary = &review.json_lines()[0];
    assert_eq!(summary["generated"], true, "{review:?}");
    assert_eq!(summary["changes"][0]["name"], "public.deals", "{review:?}");
    assert_eq!(summary["steps"][0]["lock"], "NONE", "{review:?}");
    assert_eq!(folders(&dir).len(), 2);
    assert_eq!(db.value("SELECT count(*) FROM pg_tables WHERE tablename = 'deals'").as_deref(), Some("0"));
    let apply = dev(&dir, &db, &v2, &[]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stdout.contains("no migration generated") && apply.stdout.contains("Applied 1 migration"),
        "{apply:?}"
    );
    assert_eq!(folders(&dir).len(), 2);

    // Both down.sql files, applied after their migrations, give back the schema before.
    let down = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(matches(&dir, &db, V1).code, 0);
    let down = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(matches(&dir, &db, "").code, 0, "back to an empty schema");
}

#[test]
fn changes_to_tables_with_rows_take_their_online_forms() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-online");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    db.execute(
        "INSERT INTO workspaces VALUES (1, 'acme');
         INSERT INTO contacts SELECT g, 1, 'name ' || g, 'c' || g || '@x.test', NULL FROM generate_series(1, 500) g;
         INSERT INTO notes SELECT g, g, 'note' FROM generate_series(1, 500) g;",
    );
    let v2 = "CREATE TABLE workspaces (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE contacts (id bigint PRIMARY KEY, workspace_id bigint NOT NULL REFERENCES workspaces (id),
    name text NOT NULL, email text UNIQUE CHECK (email LIKE '%@%'), phone text, score integer NOT NULL DEFAULT 0);
CREATE INDEX contacts_phone_idx ON contacts (phone);
CREATE TABLE notes (id bigint PRIMARY KEY, contact_id bigint REFERENCES contacts (id), body text);";
    let run = dev(&dir, &db, v2, &["--name", "harden"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    for expected in [
        "-- haste:transaction off",
        // Indexes build concurrently.
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"contacts_phone_idx\" ON \"public\".\"contacts\" USING btree (phone)",
        // Foreign keys and checks: NOT VALID, then VALIDATE on its own.
        "ADD CONSTRAINT \"contacts_workspace_id_fkey\" FOREIGN KEY (workspace_id) REFERENCES workspaces(id) NOT VALID;",
        "VALIDATE CONSTRAINT \"contacts_workspace_id_fkey\";",
        "ADD CONSTRAINT \"contacts_email_check\" CHECK ((email ~~ '%@%'::text)) NOT VALID;",
        "VALIDATE CONSTRAINT \"contacts_email_check\";",
        // SET NOT NULL through a validated check, dropped afterwards.
        "ADD CONSTRAINT \"haste_name_not_null\" CHECK (\"name\" IS NOT NULL) NOT VALID;",
        "VALIDATE CONSTRAINT \"haste_name_not_null\";",
        "ALTER COLUMN \"name\" SET NOT NULL;",
        "DROP CONSTRAINT \"haste_name_not_null\";",
        // Unique and primary keys on an index built concurrently.
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"contacts_email_key\" ON \"public\".\"contacts\" USING btree (\"email\");",
        "ADD CONSTRAINT \"contacts_email_key\" UNIQUE USING INDEX \"contacts_email_key\";",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"notes_pkey\" ON \"public\".\"notes\" USING btree (\"id\");",
        "ADD CONSTRAINT \"notes_pkey\" PRIMARY KEY USING INDEX \"notes_pkey\";",
        // A new NOT NULL column with a default is instant.
        "ADD COLUMN \"score\" integer DEFAULT 0 NOT NULL;",
        "-- lock: SHARE UPDATE EXCLUSIVE (reads and writes go on); scans the whole table",
    ] {
        assert!(sql.contains(expected), "missing `{expected}` in:\n{sql}");
    }
    assert!(!sql.contains("CREATE INDEX contacts_phone_idx"), "{sql}");
    assert_eq!(matches(&dir, &db, v2).code, 0, "applied to 500 rows, the schema is the desired one");
    assert_eq!(db.value("SELECT count(*) FROM contacts WHERE score = 0").as_deref(), Some("500"));
    // The generated down.sql gives the previous schema back.
    let down = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(matches(&dir, &db, V1).code, 0);
}

#[test]
fn a_not_null_column_without_default_on_an_existing_table_is_refused() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-required");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    let v2 = V1.replace("phone text)", "phone text, title text NOT NULL)");
    let run = dev(&dir, &db, &v2, &["--name", "title"]);
    assert_eq!(run.code, 16, "{run:?}");
    assert!(
        run.stderr.contains("ADD COLUMN \"title\" text NOT NULL")
            && run.stderr.contains("Add the column without NOT NULL (or with a DEFAULT), fill it"),
        "{run:?}"
    );
    assert_eq!(folders(&dir).len(), 1, "nothing written");
    // A new table may have NOT NULL columns without defaults: it is empty.
    let v3 = format!("{V1}\nCREATE TABLE tags (id bigint NOT NULL, label text NOT NULL);");
    assert_eq!(dev(&dir, &db, &v3, &["--name", "tags"]).code, 0);
}

#[test]
fn drift_is_reported_by_name_and_nothing_is_generated() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-drift");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    let v2 = format!("{V1}\nCREATE INDEX notes_body_idx ON notes (body);");

    // An index created by hand.
    db.execute("CREATE INDEX by_hand ON contacts (email)");
    let run = dev(&dir, &db, &v2, &["--name", "next"]);
    assert_eq!(run.code, 15, "{run:?}");
    assert!(
        run.stderr.contains("index public.by_hand exists in the database but not in the migrations"),
        "{run:?}"
    );
    assert!(run.stderr.contains("haste migrate reset"), "{run:?}");
    assert_eq!(folders(&dir).len(), 1, "nothing generated");
    let status = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(status.code, 15, "{status:?}");
    assert!(status.stderr.contains("public.by_hand"), "{status:?}");
    db.execute("DROP INDEX by_hand");
    let clean = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("No drift"), "{clean:?}");

    // An applied migration edited afterwards.
    let applied = folders(&dir)[0].join("migration.sql");
    fs::write(&applied, format!("{}\nCREATE INDEX sneaky ON notes (contact_id);\n", read(&applied))).unwrap();
    let run = dev(&dir, &db, &v2, &["--name", "next"]);
    assert_eq!(run.code, 15, "{run:?}");
    let name = folders(&dir)[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(run.stderr.contains(&format!("migration {name} was edited after it was applied")), "{run:?}");
    assert!(
        run.stderr.contains("index public.sneaky is in the migrations but not in the database"),
        "{run:?}"
    );
    assert_eq!(folders(&dir).len(), 1);
}

#[test]
fn a_rename_hint_keeps_the_data_and_a_likely_rename_is_only_suggested() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-rename");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO contacts VALUES (1, 1, 'Ada', 'ada@x.test', '555')");
    let v2 = V1.replace("name text, email", "full_name text, email");
    let review = dev(&dir, &db, &v2, &["--name", "guess", "--create-only"]);
    assert_eq!(review.code, 0, "{review:?}");
    assert!(
        review.stdout.contains("--rename public.contacts.name=full_name"),
        "a likely rename is suggested: {review:?}"
    );
    let guessed = folders(&dir).pop().unwrap();
    assert!(read(&guessed.join("migration.sql")).contains("DROP COLUMN \"name\""), "never applied silently");
    fs::remove_dir_all(guessed).unwrap();

    let run = dev(&dir, &db, &v2, &["--name", "rename", "--rename", "public.contacts.name=full_name"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    assert!(
        sql.contains("ALTER TABLE \"public\".\"contacts\" RENAME COLUMN \"name\" TO \"full_name\""),
        "{sql}"
    );
    assert!(!sql.contains("DROP COLUMN"), "{sql}");
    assert_eq!(db.value("SELECT full_name FROM contacts").as_deref(), Some("Ada"));
    // Asked for explicitly: the file allows the rule, with the reason, and passes haste's lint.
    assert!(
        sql.contains("haste:allow-file rename-column reason=\"asked for with migrate dev --rename\""),
        "{sql}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let down = read(&folders(&dir)[1].join("down.sql"));
    assert!(down.contains("RENAME COLUMN \"full_name\" TO \"name\""), "{down}");
    let bad = dev(&dir, &db, &v2, &["--name", "x", "--rename", "public.nope.a=b"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("public.nope.a=b"), "{bad:?}");
}

#[test]
fn expand_contract_renames_a_column_across_two_deploys() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-expand");
    // The old column is NOT NULL: going back must fill it before the constraint returns. Its
    // index keeps its name on the new column: the old release keeps using it until the contract.
    // So do the views over it (and a view over those): the old release reads them by the old
    // column's name until the contract recreates them, and a new view over them waits with it.
    let index = "\nCREATE INDEX contacts_name_idx ON contacts (name);\n\
        CREATE VIEW contact_names AS SELECT id, name FROM contacts;\n\
        CREATE VIEW named AS SELECT name FROM contact_names;";
    let v1 = format!("{}{index}", V1.replace("name text, email", "name text NOT NULL, email"));
    assert_eq!(dev(&dir, &dev_db, &v1, &["--name", "init"]).code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    prod.execute(
        "INSERT INTO workspaces VALUES (1, 'acme');
         INSERT INTO contacts SELECT g, 1, 'name ' || g, NULL, NULL FROM generate_series(1, 3000) g;",
    );
    let v2 = format!(
        "{}{}\nCREATE VIEW later AS SELECT full_name FROM named;",
        V1.replace("name text, email", "full_name text NOT NULL, email"),
        index
            .replace("(name)", "(full_name)")
            .replace("id, name", "id, full_name")
            .replace("SELECT name", "SELECT full_name")
    );
    let run = dev(
        &dir,
        &dev_db,
        &v2,
        &["--name", "full_name", "--rename", "public.contacts.name=full_name", "--expand-contract"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    // The contract, then what runs statement by statement after it (the new column's NOT NULL
    // through a validated check), held with it.
    assert_eq!(created.len(), 4, "{run:?}");
    let (expand, contract) = (&created[1], &created[2]);
    assert!(created[3].to_string_lossy().ends_with("_full_name_contract_after"), "{created:?}");
    assert!(!read(&expand.join("migration.sql")).contains("VIEW"), "the views wait for the contract");
    // The contract drops the old column, its index with it, and recreates the views in one
    // transaction: they are never missing.
    let contract_sql = read(&contract.join("migration.sql"));
    assert!(!contract_sql.contains("transaction off"), "{contract_sql}");
    let second_release = format!("{contract_sql}{}", read(&created[3].join("migration.sql")));
    assert!(second_release.contains("CREATE VIEW \"public\".\"later\""), "{second_release}");
    assert!(read(&expand.join("migration.sql")).contains("ADD COLUMN \"full_name\" text;"));
    assert!(read(&expand.join("data.sql")).contains("SET \"full_name\" = \"name\""));
    let expand_name = expand.file_name().unwrap().to_string_lossy().into_owned();
    assert!(read(&contract.join("migration.sql")).contains(&format!("-- haste:after {expand_name}")));
    assert!(run.stdout.contains("Held"), "the development database waits too: {run:?}");

    // Told before it runs: the plan lists the expand and says the contract is held, as the
    // deploy then does; once the expand is in, the contract is what the next deploy applies.
    let planned = || {
        let run = haste(dir.path(), &["migrate", "plan", "--url", &prod.url, "--format", "json"]);
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
    };
    let listed = |plan: &serde_json::Value| -> Vec<String> {
        plan["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = planned();
    assert_eq!(listed(&before), std::slice::from_ref(&expand_name), "{before}");
    assert!(before["held"]["name"].as_str().unwrap().ends_with("_full_name_contract"), "{before}");
    assert_eq!(before["held"]["after"].as_str(), Some(expand_name.as_str()), "{before}");
    let text = haste(dir.path(), &["migrate", "plan", "--url", &prod.url]);
    assert!(
        text.stdout.contains("Deploy will stop before") && text.stdout.contains("_full_name_contract"),
        "{text:?}"
    );

    // Release 1: expand only; the copy is done and both columns stay in sync for old code.
    let first = deploy(&prod);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("Held") && first.stdout.contains("_full_name_contract"), "{first:?}");
    assert_eq!(prod.value("SELECT count(*) FROM contacts WHERE full_name = name").as_deref(), Some("3000"));
    let indexdef =
        |name: &str| prod.value(&format!("SELECT indexdef FROM pg_indexes WHERE indexname = '{name}'"));
    assert!(indexdef("contacts_name_idx").unwrap().ends_with("(name)"), "the old release keeps its index");
    assert!(
        indexdef("contacts_name_idx_haste_new").unwrap().ends_with("(full_name)"),
        "the new release has one"
    );
    prod.execute("INSERT INTO contacts (id, workspace_id, name) VALUES (5000, 1, 'old code')");
    prod.execute("UPDATE contacts SET full_name = 'new code' WHERE id = 1");
    assert_eq!(prod.value("SELECT full_name FROM contacts WHERE id = 5000").as_deref(), Some("old code"));
    assert_eq!(prod.value("SELECT name FROM contacts WHERE id = 1").as_deref(), Some("new code"));
    assert_eq!(prod.value("SELECT name FROM named WHERE name = 'new code'").as_deref(), Some("new code"));

    // Release 2: contract.
    let after = planned();
    assert!(after["held"].is_null(), "{after}");
    assert!(
        listed(&after).iter().all(|name| name.contains("_full_name_contract")) && listed(&after).len() == 2,
        "{after}"
    );
    let second = deploy(&prod);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(indexdef("contacts_name_idx").unwrap().ends_with("(full_name)"), "the new index takes the name");
    assert_eq!(prod.value("SELECT count(full_name) FROM later").as_deref(), Some("3001"));
    assert_eq!(matches(&dir, &prod, &v2).code, 0, "the desired schema, data kept");
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE full_name IS NOT NULL").as_deref(),
        Some("3001")
    );
    // The history replays to the desired schema: nothing more to generate.
    let again = dev(&dir, &dev_db, &v2, &["--name", "again"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
    // Both down.sql files, on the table with rows: the old column comes back with its data.
    assert!(!read(&contract.join("down.sql")).contains("irreversible"), "the rows come back");
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(matches(&dir, &prod, &v1).code, 0);
    assert_eq!(prod.value("SELECT name FROM contacts WHERE id = 1").as_deref(), Some("new code"));
    assert_eq!(prod.value("SELECT count(*) FROM contacts WHERE name IS NOT NULL").as_deref(), Some("3001"));
}

/// A renamed column with a default: between the releases each release inserts with and
/// without the column, and every value a writer gave reaches both columns (the default only
/// where neither release gave one), so nothing is lost when the contract drops the old column.
#[test]
fn expand_contract_rename_keeps_what_either_release_inserts_over_a_default() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-expand-default");
    let v1 = "CREATE TABLE contacts (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'anon');";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g FROM generate_series(1, 100) g");
    let v2 = v1.replace("name text", "full_name text");
    let run = dev(
        &dir,
        &dev_db,
        &v2,
        &["--name", "full_name", "--rename", "public.contacts.name=full_name", "--expand-contract"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let first = deploy(&prod);
    assert_eq!(first.code, 0, "{first:?}");
    prod.execute(
        "INSERT INTO contacts (id, name) VALUES (1001, 'old release');
         INSERT INTO contacts (id) VALUES (1002);
         INSERT INTO contacts (id, full_name) VALUES (1003, 'new release');
         INSERT INTO contacts (id, name, full_name) VALUES (1004, 'old', 'new release too');",
    );
    let rows = || {
        prod.value(
            "SELECT string_agg(id || ':' || coalesce(name, 'NULL') || '/' || coalesce(full_name, 'NULL'), ' ' ORDER BY id)
             FROM contacts WHERE id > 1000",
        )
    };
    assert_eq!(
        rows().as_deref(),
        Some(
            "1001:old release/old release 1002:anon/anon 1003:new release/new release \
             1004:new release too/new release too"
        ),
        "both columns hold what the writer gave"
    );
    let second = deploy(&prod);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0, "the desired schema, with its default");
    prod.execute("INSERT INTO contacts (id) VALUES (1006)");
    assert_eq!(
        prod.value(
            "SELECT string_agg(id || ':' || full_name, ' ' ORDER BY id) FROM contacts WHERE id > 1000"
        )
        .as_deref(),
        Some("1001:old release 1002:anon 1003:new release 1004:new release too 1006:anon"),
        "the contract keeps every value and moves the default to the new column"
    );
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE full_name = 'n' || id").as_deref(),
        Some("100")
    );
}

/// A table whose own `BEFORE` trigger sets a column (`set_updated_at`) and whose `AFTER` trigger
/// audits updates, two of its columns renamed with `--expand-contract`, one of them the column
/// the trigger sets. The sync triggers fire after the table's own (PostgreSQL fires them in name
/// order: `haste_sync_*` used to fire first, copy the value `set_updated_at` then replaced, and
/// an old release's update left `updated_at` as it was), and the copy of the rows changes no
/// value the application reads (it used to date every row).
#[test]
fn expand_contract_rename_sync_fires_after_the_tables_own_triggers_and_the_copy_changes_nothing() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-expand-stamped");
    let v1 = "CREATE TABLE contacts (id bigint PRIMARY KEY, name text, updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE audit (id bigint, stamp text);
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE FUNCTION audited() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (NEW.id, NEW.updated_at::text); RETURN NULL; END $$;
CREATE TRIGGER audited AFTER UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION audited();";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g, '2000-01-01' FROM generate_series(1, 300) g");
    let v2 = v1
        .replace("name text, updated_at timestamp", "full_name text, modified_at timestamp")
        .replace("NEW.updated_at", "NEW.modified_at");
    let run = dev(
        &dir,
        &dev_db,
        &v2,
        &[
            "--name",
            "renames",
            "--rename",
            "public.contacts.name=full_name",
            "--rename",
            "public.contacts.updated_at=modified_at",
            "--expand-contract",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let first = deploy();
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(
        prod.value(
            "SELECT count(*) FROM contacts WHERE updated_at <> '2000-01-01' OR modified_at IS DISTINCT FROM updated_at
                OR full_name IS DISTINCT FROM name"
        )
        .as_deref(),
        Some("0"),
        "every row copied, none dated"
    );
    assert_eq!(
        prod.value("SELECT count(*) FILTER (WHERE stamp::timestamp <> '2000-01-01') FROM audit").as_deref(),
        Some("0"),
        "the audit trigger saw each copied row unchanged"
    );
    // The old release updates a row: its trigger (now setting the new column) dates it, and
    // both columns hold that time.
    prod.execute("UPDATE contacts SET name = 'changed' WHERE id = 1");
    assert_eq!(
        prod.value(
            "SELECT full_name || ' ' || (updated_at <> '2000-01-01') || ' ' || (updated_at = modified_at)
             FROM contacts WHERE id = 1"
        )
        .as_deref(),
        Some("changed true true"),
        "the old release reads the time its update was made"
    );
    let second = deploy();
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE modified_at <> '2000-01-01'").as_deref(),
        Some("1"),
        "only the row the application updated"
    );
}

/// Two columns of one table renamed across two releases, then the contract undone: both old
/// columns come back with their values. The down.sql fills them in one update: filled one after
/// the other, the copy trigger of the pair not yet filled gave its new column the old one's
/// `NULL`, and the second update copied that back (both columns of the pair lost).
#[test]
fn expand_contract_of_two_columns_of_one_table_undone_keeps_both() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-expand-two");
    let v1 = "CREATE TABLE acct (id int PRIMARY KEY, old_a int, b1 int);";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO acct SELECT g, g, 10 * g FROM generate_series(1, 100) g");
    let v2 = v1.replace("old_a int, b1 int", "new_a int, b2 int");
    let renames = ["--rename", "public.acct.old_a=new_a", "--rename", "public.acct.b1=b2"];
    let mut args = vec!["--name", "renames", "--expand-contract"];
    args.extend(renames);
    let run = dev(&dir, &dev_db, &v2, &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deploy().code, 0);
    let second = deploy();
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0);
    let down = haste(dir.path(), &["migrate", "down", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(
        prod.value(
            "SELECT count(*) FROM acct WHERE old_a = id AND new_a = id AND b1 = 10 * id AND b2 = 10 * id"
        )
        .as_deref(),
        Some("100"),
        "every value of both pairs kept"
    );
}

/// A table whose own `BEFORE` triggers read and write the renamed column (one requires it, under
/// a name that sorts before `0haste...`; one lowers it and derives another column from it),
/// installed by the expand as the new schema has them (reading the new column). haste's first
/// trigger fills the new column before they run, so the old release's writes (setting only the
/// old column) pass them and get their work, and haste's last trigger gives the old column the
/// result; the copy of the rows still changes nothing (with one trigger firing last, the old
/// release's inserts were refused and its updates kept neither the lowered value nor the new
/// domain). The contract drops both of haste's triggers.
#[test]
fn expand_contract_rename_runs_the_tables_own_triggers_on_the_new_column_for_both_releases() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-expand-normalized");
    let v1 = "CREATE TABLE users (id bigint PRIMARY KEY, email text, domain text);
CREATE FUNCTION required() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF NEW.email IS NULL THEN RAISE EXCEPTION 'email required'; END IF; RETURN NEW; END $$;
CREATE TRIGGER \"0_required\" BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION required();
CREATE FUNCTION normalized() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  NEW.email := lower(NEW.email); NEW.domain := split_part(NEW.email, '@', 2); RETURN NEW; END $$;
CREATE TRIGGER normalized BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION normalized();";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    // Rows the trigger never saw: the copy must leave them as they are.
    prod.execute(
        "ALTER TABLE users DISABLE TRIGGER USER;
         INSERT INTO users SELECT g, 'Row' || g || '@Mixed.example', 'kept' FROM generate_series(1, 200) g;
         ALTER TABLE users ENABLE TRIGGER USER;",
    );
    let v2 = v1
        .replace("email text", "mail text")
        .replace("NEW.email", "NEW.mail")
        .replace("email required", "mail required");
    let run = dev(
        &dir,
        &dev_db,
        &v2,
        &["--name", "mail", "--rename", "public.users.email=mail", "--expand-contract"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let first = deploy();
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(
        prod.value(
            "SELECT count(*) FROM users WHERE mail = email AND email = 'Row' || id || '@Mixed.example' AND domain = 'kept'"
        )
        .as_deref(),
        Some("200"),
        "every row copied as it was, nothing else changed"
    );
    // The old release writes the old column only; the new release the new one.
    prod.execute(
        "INSERT INTO users (id, email) VALUES (1001, 'Two@Old.example');
         UPDATE users SET email = 'Moved@Other.example' WHERE id = 1;
         INSERT INTO users (id, mail) VALUES (1002, 'Three@New.example');
         UPDATE users SET mail = 'Again@Newer.example' WHERE id = 2;
         UPDATE users SET domain = 'recomputed' WHERE id = 3;",
    );
    let refused = prod.try_execute("INSERT INTO users (id) VALUES (1003)").unwrap_err();
    assert!(refused.contains("mail required"), "{refused}");
    let rows = || {
        prod.value(
            "SELECT string_agg(id || ':' || coalesce(mail, 'NULL') || ':' || coalesce(domain, 'NULL'), ' ' ORDER BY id)
             FROM users WHERE id IN (1, 2, 3, 1001, 1002)",
        )
    };
    let expected = "1:moved@other.example:other.example 2:again@newer.example:newer.example \
                    3:row3@mixed.example:mixed.example 1001:two@old.example:old.example \
                    1002:three@new.example:new.example";
    assert_eq!(rows().as_deref(), Some(expected), "the table's trigger ran on every write");
    assert_eq!(
        prod.value("SELECT count(*) FROM users WHERE mail IS DISTINCT FROM email").as_deref(),
        Some("0"),
        "the old column holds what the trigger wrote"
    );
    let second = deploy();
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0, "the desired schema, haste's triggers gone");
    assert_eq!(rows().as_deref(), Some(expected));
    assert_eq!(
        prod.value(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal
               AND tgname NOT IN ('0_required', 'normalized')"
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(prod.value("SELECT count(*) FROM pg_proc WHERE proname LIKE 'haste%'").as_deref(), Some("0"));
}

/// hasteCRM: the schema Prisma's migrations give at each step, written as SQL by `schema dump`,
/// fed to `migrate dev` one step after another, gives migrations that replay to the same schema.
#[test]
fn the_corpus_steps_generate_migrations_that_replay_like_prismas() {
    let Some(corpus) = corpus() else { return };
    let Some(db) = database() else { return };
    let prisma_dir = corpus.join("migrations");
    let mut prisma_steps: Vec<PathBuf> = fs::read_dir(&prisma_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("migration.sql").is_file())
        .collect();
    prisma_steps.sort();
    let work = TempDir::new("dev-corpus");
    let dir = TempDir::new("dev-corpus-out");
    for (step, _) in prisma_steps.iter().enumerate() {
        // The desired schema at this step: Prisma's first step+1 migrations, dumped.
        let partial = work.path().join(format!("prisma-{step}"));
        for migration in &prisma_steps[..=step] {
            let target = partial.join(migration.file_name().unwrap());
            fs::create_dir_all(&target).unwrap();
            fs::copy(migration.join("migration.sql"), target.join("migration.sql")).unwrap();
        }
        let dump =
            haste(work.path(), &["schema", "dump", "--source", partial.to_str().unwrap(), "--url", &db.url]);
        assert_eq!(dump.code, 0, "{dump:?}");
        let run = dev(&dir, &db, &dump.stdout, &["--name", &format!("step{}", step + 1)]);
        assert_eq!(run.code, 0, "step {}: {run:?}", step + 1);
        assert_eq!(folders(&dir).len(), step + 1, "{run:?}");
        let again = dev(&dir, &db, &dump.stdout, &[]);
        assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
    }
    let same = compare_sources(dir.path(), &dir.path().join("migrations"), &prisma_dir, &db.url);
    assert_eq!(same.code, 0, "haste's migrations replay like Prisma's: {same:?}");
}

#[test]
fn a_new_enum_label_used_in_the_same_migration_runs_after_it_commits() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-enum");
    let v1 =
        "CREATE TYPE stage AS ENUM ('lead', 'won'); CREATE TABLE deals (id int, stage stage DEFAULT 'lead');";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    let v2 = "CREATE TYPE stage AS ENUM ('new', 'lead', 'won'); CREATE TABLE deals (id int, stage stage DEFAULT 'new');";
    let run = dev(&dir, &db, v2, &["--name", "new_stage"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    assert!(
        sql.contains("ADD VALUE 'new' BEFORE 'lead'") && sql.contains("-- haste:transaction off"),
        "{sql}"
    );
    assert_eq!(matches(&dir, &db, v2).code, 0);
}

/// A new column whose default is computed row by row is added bare, takes its default, and is
/// filled in batches by a data step, then made NOT NULL through a validated check, all in one
/// deploy: never `ADD COLUMN ... DEFAULT gen_random_uuid()`, which rewrites the table.
#[test]
fn a_volatile_default_on_an_existing_table_is_filled_in_batches() {
    let (Some(db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-fill");
    let v1 = "CREATE TABLE deals (id bigint PRIMARY KEY, name text);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO deals SELECT g, 'd' || g FROM generate_series(1, 500) g");
    let v2 = "CREATE TABLE deals (id bigint PRIMARY KEY, name text, token uuid NOT NULL DEFAULT gen_random_uuid());";
    let run = dev(&dir, &db, v2, &["--name", "token"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let names: Vec<String> =
        created.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(
        names.len() == 4 && names[2].ends_with("_token_fill") && names[3].ends_with("_token_not_null"),
        "{names:?}"
    );
    let add = read(&created[1].join("migration.sql"));
    assert!(add.contains("ADD COLUMN \"token\" uuid;"), "added bare:\n{add}");
    assert!(read(&created[2].join("data.sql")).contains("gen_random_uuid()"));
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let deployed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    assert_eq!(matches(&dir, &prod, v2).code, 0);
    assert_eq!(
        prod.value("SELECT count(DISTINCT token) FROM deals").as_deref(),
        Some("500"),
        "every row has its own value"
    );
}

/// A nullable column made NOT NULL with a default, over rows holding NULL: the rows take the
/// default in batches (a data step) before the NOT NULL is validated, so the development
/// database is never left with a failed migration, and the written files pass haste's lint.
/// Without a default, nothing fills them: refused before anything is written, naming the column
/// and its NULL rows.
#[test]
fn a_column_made_required_over_nulls_is_filled_from_its_default_or_refused() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-required");
    let v1 = "CREATE TABLE members (id bigint PRIMARY KEY, name text, nick text);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute(
        "INSERT INTO members SELECT g, CASE WHEN g % 2 = 0 THEN 'n' || g END, CASE WHEN g < 3 THEN 'x' END
         FROM generate_series(1, 300) g",
    );
    let without_default = "CREATE TABLE members (id bigint PRIMARY KEY, name text, nick text NOT NULL);";
    let refused = dev(&dir, &db, without_default, &["--name", "nick"]);
    assert_eq!(refused.code, 16, "{refused:?}");
    assert!(
        refused.stderr.contains("\"public\".\"members\".\"nick\": 298 rows hold NULL")
            && refused.stderr.contains("Nothing was written"),
        "{refused:?}"
    );
    assert_eq!(folders(&dir).len(), 1, "nothing written");

    let v2 = "CREATE TABLE members (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'anon', nick text);";
    let run = dev(&dir, &db, v2, &["--name", "required"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "{run:?}");
    assert!(read(&created[1].join("data.sql")).contains("COALESCE(\"name\", 'anon'::text)"));
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(matches(&dir, &db, v2).code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT count(*) FILTER (WHERE name = 'anon') || '/' || count(*) FILTER (WHERE name = 'n' || id) FROM members")
            .as_deref(),
        Some("150/150"),
        "the NULLs take the default, the values stay"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");

    // Production, where the release still running writes NULL explicitly after the fill's pass:
    // those rows take the default once the check is in place, and the validation passes (it
    // failed, leaving the migration failed).
    let Some(prod) = database() else { return };
    let fill = created[1].file_name().unwrap().to_string_lossy().into_owned();
    let staged = crate::retype::migrations_up_to(&dir, &fill);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--dir", &staged]).code, 0);
    prod.execute("INSERT INTO members VALUES (1, NULL, NULL), (2, 'kept', NULL), (3, NULL, NULL)");
    let required = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(required.code, 0, "{required:?}");
    assert_eq!(matches(&dir, &prod, v2).code, 0);
    assert_eq!(
        prod.value("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM members").as_deref(),
        Some("1:anon,2:kept,3:anon")
    );
}

/// Two columns of one table made NOT NULL with a default: a release still running writes NULL
/// into whichever column the schema lets it (an event trigger inserts such a row at the end of
/// each `ALTER TABLE` of the table, so between the generated statements, deterministically).
/// Each column is filled again after its own `NOT VALID` check, before its validation: the
/// second column's re-fill used to come after the first column's check, before its own, and
/// its validation failed on the NULLs written meanwhile (exit 6, migration failed).
#[test]
fn two_columns_made_required_are_each_filled_again_after_their_own_check() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-required-two");
    let v1 = "CREATE TABLE members (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, city text);";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    let v2 = v1
        .replace("name text, city text", "name text NOT NULL DEFAULT 'anon', city text NOT NULL DEFAULT 'x'");
    let run = dev(&dir, &dev_db, &v2, &["--name", "required"]);
    assert_eq!(run.code, 0, "{run:?}");
    let staged = crate::retype::migrations_up_to(&dir, "_required");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--dir", &staged]).code, 0);
    prod.execute(
        "INSERT INTO members (name, city) VALUES (NULL, NULL), ('kept', NULL), (NULL, 'kept');
         CREATE FUNCTION old_release_writes() RETURNS event_trigger LANGUAGE plpgsql AS $$
         DECLARE
           open_name boolean; open_city boolean;
         BEGIN
           IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE objid = 'members'::regclass) THEN
             RETURN;
           END IF;
           SELECT NOT a.attnotnull AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = a.attrelid
                    AND c.conname = 'haste_' || a.attname || '_not_null')
             INTO open_name FROM pg_attribute a WHERE a.attrelid = 'members'::regclass AND a.attname = 'name';
           SELECT NOT a.attnotnull AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = a.attrelid
                    AND c.conname = 'haste_' || a.attname || '_not_null')
             INTO open_city FROM pg_attribute a WHERE a.attrelid = 'members'::regclass AND a.attname = 'city';
           IF open_name OR open_city THEN
             INSERT INTO members (name, city)
               VALUES (CASE WHEN open_name THEN NULL ELSE 'late' END, CASE WHEN open_city THEN NULL ELSE 'late' END);
           END IF;
         END $$;
         CREATE EVENT TRIGGER old_release_writes ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
           EXECUTE FUNCTION old_release_writes();",
    );
    let required = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(required.code, 0, "{required:?}");
    prod.execute("DROP EVENT TRIGGER old_release_writes; DROP FUNCTION old_release_writes()");
    assert_eq!(matches(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value(
            "SELECT string_agg(id || ':' || name || ':' || city, ' ' ORDER BY id) FROM members WHERE id <= 3"
        )
        .as_deref(),
        Some("1:anon:x 2:kept:x 3:anon:kept")
    );
    assert_eq!(
        prod.value("SELECT count(*) FILTER (WHERE city = 'x') > 0 AND count(*) FILTER (WHERE name = 'late') > 0 FROM members WHERE id > 3")
            .as_deref(),
        Some("t"),
        "the writer ran between the statements, and its NULLs took the default"
    );
}

/// Reordering an enum's labels rebuilds the type, converting its columns in place: the file
/// allows the rewrite it makes, so haste's own lint passes it, and the rows keep their labels.
#[test]
fn a_rebuilt_enum_allows_its_rewrite_and_keeps_the_rows() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-enum-rebuild");
    let v1 = "CREATE TYPE stage AS ENUM ('lead', 'won'); CREATE TABLE deals (id int, stage stage);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO deals VALUES (1, 'won'), (2, 'lead')");
    let v2 = "CREATE TYPE stage AS ENUM ('won', 'lead'); CREATE TABLE deals (id int, stage stage);";
    let run = dev(&dir, &db, v2, &["--name", "reorder"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    assert!(sql.contains("haste:allow-file column-type-rewrite reason="), "{sql}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    assert_eq!(matches(&dir, &db, v2).code, 0);
    assert_eq!(
        db.value("SELECT string_agg(stage::text, ',' ORDER BY stage) FROM deals").as_deref(),
        Some("won,lead")
    );
}

/// An `EXCLUDE` constraint added to a table that exists builds its index under ACCESS EXCLUSIVE,
/// and PostgreSQL has no online form for it: lint reports it, and the file migrate dev writes
/// allows it with that reason, so it still passes haste's own lint.
#[test]
fn an_exclude_constraint_on_an_existing_table_is_linted_and_allowed_with_its_reason() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-exclude");
    let v1 = "CREATE TABLE bookings (id bigint PRIMARY KEY, during tstzrange);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    let v2 = "CREATE TABLE bookings (id bigint PRIMARY KEY, during tstzrange,
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&));";
    let run = dev(&dir, &db, v2, &["--name", "exclude", "--create-only"]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = folders(&dir)[1].join("migration.sql");
    let sql = read(&path);
    assert!(
        sql.contains("haste:allow-file exclude-constraint-blocking reason=\"no online form")
            && sql.contains("EXCLUDE USING gist"),
        "{sql}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    // Without the allow line, the same file is an error naming the blocking build.
    fs::write(
        &path,
        sql.lines().filter(|line| !line.contains("haste:allow-file")).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let bare = haste(dir.path(), &["lint"]);
    let said = format!("{}{}", bare.stdout, bare.stderr);
    assert!(
        bare.code != 0 && said.contains("exclude-constraint-blocking") && said.contains("ACCESS EXCLUSIVE"),
        "{bare:?}"
    );
}

/// A function over a table's row type, or whose `BEGIN ATOMIC` body reads the table or a view,
/// holds it: the down.sql of the migration that creates them drops the function first
/// (PostgreSQL refuses the table's or the view's drop under it, 2BP01), so migrate dev writes
/// and validates it (before, it exited 1 on the view).
#[test]
fn a_function_holding_a_table_is_dropped_before_it_in_down_sql() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-function-row-type");
    let desired = "CREATE TABLE contacts (id int PRIMARY KEY, n int);
CREATE FUNCTION f(c contacts) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION total() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT sum(n) FROM contacts; END;
CREATE VIEW counted AS SELECT id FROM contacts;
CREATE FUNCTION how_many() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM counted; END;";
    let run = dev(&dir, &db, desired, &["--name", "init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let down = read(&folders(&dir)[0].join("down.sql"));
    let at = |wanted: &str| down.find(wanted).unwrap_or_else(|| panic!("{wanted} in:\n{down}"));
    let table = at("DROP TABLE");
    assert!(at("DROP ROUTINE f(contacts)") < table && at("DROP ROUTINE total()") < table, "{down}");
    assert!(at("DROP ROUTINE how_many()") < at("DROP VIEW"), "{down}");
    assert_eq!(down.matches("DROP ROUTINE total()").count(), 1, "{down}");
}

/// Publications are not modelled: schema files creating one are refused with exit 2 naming
/// it, by `migrate dev` (nothing written) and `schema diff`, rather than left out silently.
#[test]
fn a_publication_in_the_schema_files_is_refused_not_dropped_silently() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-publication");
    let desired = "CREATE TABLE contacts (id int PRIMARY KEY, n int);
CREATE PUBLICATION contacts_feed FOR TABLE contacts;";
    let run = dev(&dir, &db, desired, &["--name", "init"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("publication contacts_feed") && run.stderr.contains("does not model"),
        "{run:?}"
    );
    assert!(folders(&dir).is_empty(), "nothing written: {run:?}");
    dir.write("plain.sql", "CREATE TABLE contacts (id int PRIMARY KEY, n int);");
    let diff =
        haste(dir.path(), &["schema", "diff", "--from", "plain.sql", "--to", "schema.sql", "--url", &db.url]);
    assert_eq!(diff.code, 2, "{diff:?}");
    assert!(diff.stderr.contains("publication contacts_feed"), "{diff:?}");
}

/// Every other kind of object the model does not hold is refused the same way, each named with
/// its kind (adversary adv-b U1): they were left out of the migration (exit 0), or, used by a
/// column, made its apply fail (exit 6) naming a migration.sql that was never written.
#[test]
fn objects_haste_does_not_model_in_the_schema_files_are_refused_each_named() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-not-modelled");
    let desired = "CREATE TABLE contacts (id int PRIMARY KEY, n int);
CREATE AGGREGATE total (int) (SFUNC = int4pl, STYPE = int);
CREATE FUNCTION same(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same);
CREATE TEXT SEARCH CONFIGURATION english_plain (COPY = english);
CREATE FUNCTION contact_text(contacts) RETURNS text LANGUAGE sql AS 'SELECT $1.id::text';
CREATE CAST (contacts AS text) WITH FUNCTION contact_text(contacts);
CREATE TYPE address AS (street text);
CREATE TABLE addresses OF address;";
    let run = dev(&dir, &db, desired, &["--name", "init"]);
    assert_eq!(run.code, 2, "{run:?}");
    for object in [
        "aggregate total(integer)",
        "operator ===(integer,integer)",
        "text search configuration public.english_plain",
        "cast (contacts AS text)",
        "typed table public.addresses OF address",
    ] {
        assert!(run.stderr.contains(object), "{object}\n{run:?}");
    }
    assert!(run.stderr.contains("does not model") && !run.stderr.contains("migration.sql"), "{run:?}");
    assert!(folders(&dir).is_empty(), "nothing written: {run:?}");
    dir.write("plain.sql", "CREATE TABLE contacts (id int PRIMARY KEY, n int);");
    let diff =
        haste(dir.path(), &["schema", "diff", "--from", "plain.sql", "--to", "schema.sql", "--url", &db.url]);
    assert_eq!(diff.code, 2, "{diff:?}");
    assert!(diff.stderr.contains("aggregate total(integer)"), "{diff:?}");
}

/// Collations are part of the schema: created before what uses them, in the dump, compared
/// (a column, a domain and a composite attribute keep theirs), and one that changes while in
/// use is refused before anything is written (PostgreSQL alters no collation in place). They
/// were left out: `migrate dev` refused the file, and a domain's `COLLATE` was lost silently.
#[test]
fn collations_are_created_compared_and_a_changed_one_in_use_is_refused() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-collations");
    let desired = |email_locale: &str, domain_collation: &str| {
        format!(
            "CREATE SCHEMA app;
CREATE COLLATION app.ci (provider = icu, locale = '{email_locale}', deterministic = false);
CREATE COLLATION \"Posix\" (provider = libc, locale = 'C');
CREATE DOMAIN handle AS text COLLATE {domain_collation};
CREATE TYPE card AS (label text COLLATE app.ci);
CREATE TABLE contacts (id int PRIMARY KEY, email text COLLATE app.ci UNIQUE, code text COLLATE \"Posix\", handle handle, card card);
CREATE INDEX contacts_code_ci ON contacts ((code COLLATE app.ci));"
        )
    };
    let v1 = desired("und-u-ks-level2", "app.ci");
    let run = dev(&dir, &db, &v1, &["--name", "init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(matches(&dir, &db, &v1).code, 0, "the database has the desired schema");
    // Case-insensitive, as the schema says: the unique key refuses the same address in capitals.
    db.execute("INSERT INTO contacts (id, email) VALUES (1, 'Ada@Example.com')");
    assert_eq!(
        db.value("SELECT count(*) FROM contacts WHERE email = 'ada@example.COM'").as_deref(),
        Some("1")
    );
    assert_eq!(
        db.value("SELECT collation_name FROM information_schema.domains WHERE domain_name = 'handle'")
            .as_deref(),
        Some("ci")
    );
    // The dump creates them again, before what uses them.
    let dump = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    assert_eq!(dump.code, 0, "{dump:?}");
    assert!(dump.stdout.contains("CREATE COLLATION \"app\".\"ci\" (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"), "{dump:?}");
    assert_eq!(matches(&dir, &db, &dump.stdout).code, 0, "{dump:?}");

    // A collation in use that changes is refused, naming its users; nothing is written.
    let run = dev(&dir, &db, &desired("und-u-ks-level1", "app.ci"), &["--name", "level1"]);
    assert_eq!(run.code, 2, "{run:?}");
    for user in [
        "collation app.ci changes",
        "column public.contacts.email",
        "domain public.handle",
        "attribute label of type public.card",
        "index public.contacts_code_ci",
    ] {
        assert!(run.stderr.contains(user), "{user}: {run:?}");
    }
    assert_eq!(folders(&dir).len(), 1, "nothing written: {run:?}");

    // A domain that moves to another collation is rebuilt with it.
    let v2 = desired("und-u-ks-level2", "\"Posix\"");
    let run = dev(&dir, &db, &v2, &["--name", "handle_posix"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(matches(&dir, &db, &v2).code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT collation_name FROM information_schema.domains WHERE domain_name = 'handle'")
            .as_deref(),
        Some("Posix")
    );
}

/// A materialized view created `WITH NO DATA` is created so by the migration (its query is not
/// run), and a `REFRESH` afterwards is no change: its rows are data (adversary adv-b U1).
#[test]
fn a_materialized_view_with_no_data_is_created_without_data() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-no-data");
    let desired = "CREATE TABLE deals (id int PRIMARY KEY, amount int);
CREATE MATERIALIZED VIEW totals AS SELECT sum(amount) AS amount FROM deals WITH NO DATA;";
    let run = dev(&dir, &db, desired, &["--name", "init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let written = read(&folders(&dir)[0].join("migration.sql"));
    assert!(written.contains("FROM deals WITH NO DATA"), "{written}");
    assert_eq!(
        db.value("SELECT relispopulated FROM pg_class WHERE relname = 'totals'").as_deref(),
        Some("f")
    );
    db.execute("REFRESH MATERIALIZED VIEW totals");
    let again = dev(&dir, &db, desired, &["--name", "refreshed"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
}

/// A migration that drops data is refused until a person accepts it; accepted, the file says so
/// and passes haste's own lint; `--create-only` writes it for review.
#[test]
fn dropping_data_needs_accept_data_loss_and_the_accepted_file_passes_lint() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-data-loss");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    let without_phone = V1
        .replace(", phone text", "")
        .replace("CREATE TABLE notes (id bigint, contact_id bigint, body text);", "");
    let refused = dev(&dir, &db, &without_phone, &["--name", "drop"]);
    assert_eq!(refused.code, 16, "{refused:?}");
    assert!(
        refused.stderr.contains("DROP COLUMN \"phone\"") && refused.stderr.contains("--accept-data-loss"),
        "{refused:?}"
    );
    assert_eq!(folders(&dir).len(), 1, "nothing written");
    assert!(db.try_execute("SELECT phone FROM contacts").is_ok(), "nothing applied");

    let review = dev(&dir, &db, &without_phone, &["--name", "drop", "--create-only"]);
    assert_eq!(review.code, 0, "{review:?}");
    assert!(review.stdout.contains("drop-column"), "the review shows what the lint says: {review:?}");
    fs::remove_dir_all(&folders(&dir)[1]).unwrap();

    let accepted = dev(&dir, &db, &without_phone, &["--name", "drop", "--accept-data-loss"]);
    assert_eq!(accepted.code, 0, "{accepted:?}");
    assert!(db.try_execute("SELECT phone FROM contacts").is_err(), "applied");
    let text = read(&folders(&dir)[1].join("migration.sql"));
    assert!(
        text.contains("haste:allow-file drop-column reason=\"accepted with migrate dev --accept-data-loss\""),
        "{text}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
}

/// An accepted migration allows only the data-loss rules its statements break: an allowance
/// that allows nothing would itself fail the lint (`unused-suppression`).
#[test]
fn an_accepted_column_drop_allows_only_the_drop_column_rule() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-data-loss-column");
    assert_eq!(dev(&dir, &db, V1, &["--name", "init"]).code, 0);
    let without_phone = V1.replace(", phone text", "");
    let accepted = dev(&dir, &db, &without_phone, &["--name", "drop", "--accept-data-loss"]);
    assert_eq!(accepted.code, 0, "{accepted:?}");
    let text = read(&folders(&dir)[1].join("migration.sql"));
    assert!(text.contains("haste:allow-file drop-column") && !text.contains("drop-table"), "{text}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
}

/// A new domain gets its checks inside `CREATE DOMAIN` (it types no column yet); a changed check
/// of a domain in use is added next to the old one `NOT VALID`, validated on its own, and only
/// then put in the old one's place (the column is never unchecked), keeping the rows. Both files
/// pass haste's own lint.
#[test]
fn domain_checks_are_created_with_the_domain_and_replaced_only_once_validated() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-domain");
    let v1 = "CREATE DOMAIN score AS integer CONSTRAINT score_range CHECK (VALUE >= 0);
CREATE TABLE contacts (id bigint PRIMARY KEY, score score);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    let init = read(&folders(&dir)[0].join("migration.sql"));
    assert!(
        init.contains("CREATE DOMAIN \"public\".\"score\" AS integer CONSTRAINT \"score_range\" CHECK")
            && !init.contains("ALTER DOMAIN"),
        "{init}"
    );
    db.execute("INSERT INTO contacts VALUES (1, 5), (2, 0)");
    let v2 = v1.replace("VALUE >= 0", "VALUE >= 0 AND VALUE <= 100");
    let run = dev(&dir, &db, &v2, &["--name", "cap"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    let at = |wanted: &str| sql.find(wanted).unwrap_or_else(|| panic!("{wanted} in:\n{sql}"));
    let added = at("ALTER DOMAIN \"public\".\"score\" ADD CONSTRAINT \"score_range_haste_new\" CHECK");
    let validated = at("ALTER DOMAIN \"public\".\"score\" VALIDATE CONSTRAINT \"score_range_haste_new\"");
    let dropped = at("ALTER DOMAIN \"public\".\"score\" DROP CONSTRAINT \"score_range\"");
    let renamed = at(
        "ALTER DOMAIN \"public\".\"score\" RENAME CONSTRAINT \"score_range_haste_new\" TO \"score_range\"",
    );
    assert!(added < validated && validated < dropped && dropped < renamed, "{sql}");
    assert!(sql[added..validated].contains("NOT VALID") && !sql.contains("DROP DOMAIN"), "{sql}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(db.value("SELECT sum(score) FROM contacts").as_deref(), Some("5"));
    assert!(db.try_execute("INSERT INTO contacts VALUES (3, 101)").is_err(), "the new check holds");
}

/// A domain whose base type changes is rebuilt: its column converted to a domain of the new
/// type (rows kept, the view reading it created again), the old domain dropped and the new one
/// renamed; the database then matches the schema. A domain another domain is built on refuses
/// such a change with exit 2, naming it, and nothing is written.
#[test]
fn a_domain_of_a_new_base_type_is_rebuilt_or_refused_naming_what_uses_it() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-domain-rebase");
    let v1 = "CREATE DOMAIN code AS varchar(4) CONSTRAINT code_upper CHECK (VALUE = upper(VALUE));
CREATE TABLE items (id bigint PRIMARY KEY, code code DEFAULT 'AB');
CREATE VIEW item_codes AS SELECT id, code FROM items;";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO items VALUES (1, 'XY')");
    let v2 = v1.replace("varchar(4)", "text");
    let run = dev(&dir, &db, &v2, &["--name", "wider"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    assert!(
        sql.contains("CREATE DOMAIN \"public\".\"code_new\" AS text")
            && sql.contains("DROP DOMAIN \"public\".\"code\"")
            && sql.contains("ALTER DOMAIN \"public\".\"code_new\" RENAME TO \"code\""),
        "{sql}"
    );
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(db.value("SELECT code FROM item_codes").as_deref(), Some("XY"));
    assert!(db.try_execute("INSERT INTO items VALUES (2, 'lower')").is_err(), "the check came along");

    let v3 = format!("{v2}\nCREATE DOMAIN short_code AS code CHECK (length(VALUE) < 3);");
    assert_eq!(dev(&dir, &db, &v3, &["--name", "short"]).code, 0);
    let v4 = v3.replace("AS text", "AS varchar(10)");
    let refused = dev(&dir, &db, &v4, &["--name", "narrower"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("domain public.short_code"), "{refused:?}");
    assert_eq!(folders(&dir).len(), 3, "nothing written");
}

/// A domain narrowed (int to smallint) over an indexed column a view reads: every value is cast
/// to the new base type first, so a value that does not fit stops the migration before it drops
/// anything (the view and the index stayed dropped in production, the rebuild failing half-way).
#[test]
fn a_narrowed_domain_is_checked_before_anything_is_dropped() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-domain-narrow");
    let v1 = "CREATE DOMAIN d AS int CHECK (VALUE > 0);
CREATE TABLE t (id int PRIMARY KEY, v d);
CREATE INDEX t_v ON t ((v + 1));
CREATE VIEW v1 AS SELECT id, v FROM t;";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g * 100 FROM generate_series(1, 1000) g");
    let v2 = v1.replace("AS int", "AS smallint");
    let run = dev(&dir, &dev_db, &v2, &["--name", "narrow"]);
    assert_eq!(run.code, 0, "{run:?}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("22003"), "{deploy:?}");
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_views WHERE viewname = 'v1'").as_deref(),
        Some("1"),
        "the view is still there"
    );
    assert_eq!(prod.value("SELECT count(*) FROM pg_indexes WHERE indexname = 't_v'").as_deref(), Some("1"));
    // Once the rows fit, the rebuild goes through.
    let resolve = haste(dir.path(), &["migrate", "status", "--url", &prod.url, "--format", "json"]);
    let failed = resolve.json_lines()[0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] != "applied")
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m["state"].as_str().unwrap().to_owned()))
        .unwrap();
    if failed.1 == "failed" {
        let rolled =
            haste(dir.path(), &["migrate", "resolve", "--rolled-back", &failed.0, "--url", &prod.url]);
        assert_eq!(rolled.code, 0, "{rolled:?}");
    }
    prod.execute("UPDATE t SET v = 1 WHERE v > 32767");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0);
}

/// A domain rebuilt on a shorter string type (varchar(20) to varchar(5), adv-c D1): a value that
/// does not fit stops the migration, as it stops a plain column's change, in the check and in the
/// conversion itself. Both were explicit casts, which cut the value: 1000 distinct values
/// became one, exit 0.
#[test]
fn a_domain_narrowed_to_a_shorter_string_refuses_values_that_do_not_fit() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-domain-shorter");
    let v1 = "CREATE DOMAIN d AS varchar(20) CHECK (VALUE <> '');
CREATE TABLE t (id int PRIMARY KEY, v d, tags d[]);
CREATE VIEW v1 AS SELECT id, v FROM t;";
    assert_eq!(dev(&dir, &dev_db, v1, &["--name", "init"]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, 'value-' || g, ARRAY['tag'] FROM generate_series(1, 1000) g");
    let v2 = v1.replace("AS varchar(20)", "AS varchar(5)");
    let run = dev(&dir, &dev_db, &v2, &["--name", "narrow"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(
        deploy.stderr.contains("22001") && deploy.stderr.contains(r#""public"."t"."v" does not convert"#),
        "{deploy:?}"
    );
    assert_eq!(prod.value("SELECT count(DISTINCT v) FROM t").as_deref(), Some("1000"));
    assert_eq!(prod.value("SELECT count(*) FROM pg_views WHERE viewname = 'v1'").as_deref(), Some("1"));
    // The conversion refuses such a value too (a row written after the check).
    let statement = |start: &str| {
        let at = sql.find(start).unwrap_or_else(|| panic!("{start} in {sql}"));
        sql[at..at + sql[at..].find(";\n").unwrap()].to_owned()
    };
    let converting = format!(
        "BEGIN; {}; {}; {}; ROLLBACK",
        statement("DROP VIEW"),
        statement("CREATE DOMAIN \"public\".\"d_new\""),
        statement("ALTER TABLE \"public\".\"t\" ALTER COLUMN \"v\" TYPE")
    );
    let refused = prod.try_execute(&converting).expect_err("the conversion refuses a value too long");
    assert!(refused.contains("value too long for type character varying(5)"), "{refused}");
    // An array of the domain is checked and converted the same way.
    prod.execute("UPDATE t SET v = 'short', tags = ARRAY['a-long-tag']");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains(r#""public"."t"."tags" does not convert"#), "{deploy:?}");
    let converting = format!(
        "BEGIN; {}; {}; {}; ROLLBACK",
        statement("DROP VIEW"),
        statement("CREATE DOMAIN \"public\".\"d_new\""),
        statement("ALTER TABLE \"public\".\"t\" ALTER COLUMN \"tags\" TYPE")
    );
    let refused = prod.try_execute(&converting).expect_err("the conversion refuses a value too long");
    assert!(refused.contains("value too long for type character varying(5)"), "{refused}");
    prod.execute("UPDATE t SET tags = ARRAY['tag']");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(matches(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value("SELECT count(*) FROM t WHERE v = 'short' AND tags = ARRAY['tag']::d[]").as_deref(),
        Some("1000")
    );
}

/// A domain rebuilt while it types a column of a partitioned table (adv-c D2): the column is
/// converted (and checked) on the parent only, which reaches every partition; the partition's
/// own `ALTER COLUMN ... TYPE` failed (42P16, "cannot alter inherited column": exit 6).
#[test]
fn a_domain_rebuilt_under_a_partitioned_table_converts_the_parent_only() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-domain-partitioned");
    let v1 = "CREATE DOMAIN qty AS int CHECK (VALUE > 0);
CREATE TABLE orders (id int, k int, amount qty, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE orders_1 PARTITION OF orders FOR VALUES FROM (0) TO (100);
CREATE TABLE orders_2 PARTITION OF orders FOR VALUES FROM (100) TO (200);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO orders SELECT g, g, g FROM generate_series(1, 199) g");
    let v2 = v1.replace("AS int", "AS smallint");
    let run = dev(&dir, &db, &v2, &["--name", "narrow"]);
    assert_eq!(run.code, 0, "{run:?}");
    let sql = read(&folders(&dir)[1].join("migration.sql"));
    assert!(
        sql.contains(r#"ALTER TABLE "public"."orders" ALTER COLUMN "amount" TYPE"#)
            && sql.contains(r#"SELECT count("amount"::smallint) FROM "public"."orders""#)
            && !sql.contains(r#""public"."orders_1""#)
            && !sql.contains(r#""public"."orders_2""#),
        "{sql}"
    );
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(
        db.value("SELECT format('%s %s', sum(amount), min(pg_typeof(amount)::text)) FROM orders_2")
            .as_deref(),
        Some("14950 qty")
    );
}

/// A composite type a table stores whose attribute changes type is rebuilt (PostgreSQL refuses
/// it in place): the rows kept through the conversion, the database then matching the schema. A
/// function whose result changes while a column default calls it is dropped and created again
/// with the default dropped and set around it; while an index calls it, the change is refused
/// with exit 2, naming both, and nothing is written (PostgreSQL would refuse to drop it).
#[test]
fn a_stored_composite_type_is_rebuilt_and_a_function_under_an_index_refused() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-composite-rebuild");
    let v1 = "CREATE TYPE pair AS (a int, b text);
CREATE TABLE things (id int PRIMARY KEY, p pair);
CREATE FUNCTION next_id() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE TABLE counters (id int DEFAULT next_id());";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO things VALUES (1, ROW(5, 'x'))");
    let v2 = v1.replace("a int", "a bigint");
    let run = dev(&dir, &db, &v2, &["--name", "wider"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(read(&folders(&dir)[1].join("migration.sql")).contains("CREATE TYPE \"public\".\"pair_new\""));
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(
        db.value("SELECT format('%s %s', p, pg_typeof((p).a)) FROM things").as_deref(),
        Some("(5,x) bigint")
    );

    let v3 = v2.replace("RETURNS int", "RETURNS bigint");
    let run = dev(&dir, &db, &v3, &["--name", "bigger"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(matches(&dir, &db, &v3).code, 0);
    let v4 = format!("{v3}\nCREATE INDEX counters_next ON counters ((id + next_id()));");
    assert_eq!(dev(&dir, &db, &v4, &["--name", "index"]).code, 0);
    let v5 = v4.replace("RETURNS bigint", "RETURNS int");
    let refused = dev(&dir, &db, &v5, &["--name", "smaller"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("function next_id()")
            && refused.stderr.contains("index public.counters_next"),
        "{refused:?}"
    );
    assert_eq!(folders(&dir).len(), 4, "nothing written");
}

/// A function dropped and created again (its result changes) loses its comment with the drop:
/// the migration sets it again, and so does its down.sql, which creates the old function again
/// (migrate dev stopped with exit 1, "a bug in haste: + comment on function f(integer)":
/// adversary adv-b O1).
#[test]
fn a_function_created_again_gets_its_comment_back_and_down_too() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-function-comment");
    let v1 = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
CREATE TABLE t (id int PRIMARY KEY, v int CHECK (f(v) > 0));
COMMENT ON FUNCTION f(int) IS 'plus one';";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    let comment = || db.value("SELECT obj_description('f(int)'::regprocedure, 'pg_proc')");
    let v2 = v1.replace("RETURNS int", "RETURNS bigint");
    let run = dev(&dir, &db, &v2, &["--name", "bigger"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(comment().as_deref(), Some("plus one"));
    let steps = (folders(&dir).len() - 1).to_string();
    let down = haste(dir.path(), &["migrate", "down", "--steps", &steps, "--url", &db.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(matches(&dir, &db, v1).code, 0);
    assert_eq!(comment().as_deref(), Some("plus one"));
}

/// A composite type whose name holds a quote is matched to the columns storing it by its name,
/// not by its text with the quotes taken out: an attribute retyped while a table stores it
/// rebuilds it, as for any other name (it was altered in place, which PostgreSQL refused, exit
/// 6: adversary adv-b Q1).
#[test]
fn a_stored_composite_type_with_a_quote_in_its_name_is_rebuilt() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-composite-quote");
    let v1 = r#"CREATE TYPE "Addr ""x""" AS (street text, zip int);
CREATE TABLE t (id int PRIMARY KEY, a "Addr ""x""");"#;
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    db.execute("INSERT INTO t VALUES (1, ROW('main', 12345))");
    let v2 = v1.replace("zip int", "zip bigint");
    let run = dev(&dir, &db, &v2, &["--name", "wider"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        read(&folders(&dir)[1].join("migration.sql")).contains(r#"CREATE TYPE "public"."Addr ""x""_new""#)
    );
    assert_eq!(matches(&dir, &db, &v2).code, 0);
    assert_eq!(
        db.value("SELECT format('%s %s', a, pg_typeof((a).zip)) FROM t").as_deref(),
        Some("(main,12345) bigint")
    );
}

/// Table inheritance (`INHERITS`, not partitions): a new tree is created parents first (the
/// child with its own columns only, then the default it gives an inherited one) and dumped
/// with its `INHERITS`; a change to a table of the tree, which the table-by-table plan
/// would get wrong (a parent's new column added to its child again), is refused naming the
/// table, and nothing is written.
#[test]
fn inheritance_trees_are_created_but_changes_to_their_tables_are_refused() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-inherits");
    let v1 = "CREATE TABLE activities (id bigint NOT NULL, at timestamptz NOT NULL, CHECK (id > 0));
CREATE TABLE activities_archive (archived_at timestamptz) INHERITS (activities);
ALTER TABLE activities_archive ALTER COLUMN id SET DEFAULT 0;";
    let init = dev(&dir, &db, v1, &["--name", "init"]);
    assert_eq!(init.code, 0, "{init:?}");
    // The child's inherited columns stay inherited, with the default it gives one of them.
    assert_eq!(
        db.value(
            "SELECT string_agg(attname || ' ' || attislocal || ' ' || coalesce(pg_get_expr(adbin, adrelid), '-'), ', ' \
             ORDER BY attnum) FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum \
             WHERE attrelid = 'activities_archive'::regclass AND attnum > 0"
        )
        .as_deref(),
        Some("id false 0, at false -, archived_at true -")
    );
    assert_eq!(
        db.value("SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = 'activities_archive'::regclass")
            .as_deref(),
        Some("activities")
    );
    let dump = haste(dir.path(), &["schema", "dump", "--url", &db.url]);
    assert_eq!(dump.code, 0, "{dump:?}");
    assert!(dump.stdout.contains(") INHERITS (\"public\".\"activities\")"), "{}", dump.stdout);
    let again = dev(&dir, &db, v1, &["--name", "again"]);
    assert!(
        again.stdout.contains("no migration generated"),
        "the dump and the desired schema agree: {again:?}"
    );

    let v2 = v1.replace("at timestamptz NOT NULL,", "at timestamptz NOT NULL, kind text,");
    let refused = dev(&dir, &db, &v2, &["--name", "kind"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("\"public\".\"activities\"") && refused.stderr.contains("INHERITS"),
        "{refused:?}"
    );
    assert_eq!(folders(&dir).len(), 1, "nothing written");
    let diff = matches(&dir, &db, &v2);
    assert_eq!(diff.code, 2, "schema diff refuses it too: {diff:?}");
    assert!(diff.stderr.contains("\"public\".\"activities\""), "{diff:?}");
}

/// A procedure is a routine like a function: created, its down.sql written, and dropped when
/// the schema no longer has it (`DROP FUNCTION` refuses a procedure).
#[test]
fn a_procedure_comes_and_goes() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-procedure");
    let with =
        "CREATE TABLE t (id int);\nCREATE PROCEDURE touch() LANGUAGE sql AS 'INSERT INTO t VALUES (1)';\n";
    let first = dev(&dir, &db, with, &["--name", "procedure"]);
    assert_eq!(first.code, 0, "{first:?}");
    db.execute("CALL touch()");
    let second = dev(&dir, &db, "CREATE TABLE t (id int);\n", &["--name", "no_procedure"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(matches(&dir, &db, "CREATE TABLE t (id int);\n").code, 0);
    assert_eq!(db.value("SELECT count(*) FROM t").as_deref(), Some("1"));
}

/// The schema of issue 13: a column widened in place (no rewrite) under a view and a trigger,
/// and an index built concurrently in the same change, which makes the migration run
/// statement by statement.
const WIDENED_UNDER_A_VIEW: &str = "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(10) NOT NULL, price int);
CREATE VIEW item_names AS SELECT id, name FROM items;
GRANT SELECT ON item_names TO PUBLIC;
CREATE FUNCTION items_trim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := btrim(NEW.name); RETURN NEW; END $$;
CREATE TRIGGER items_trim BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_trim();";

/// The change of `v1` (a version of [`WIDENED_UNDER_A_VIEW`]): `varchar(20)`, and a new index.
fn widened(v1: &str) -> String {
    v1.replace("varchar(10)", "varchar(20)") + "\nCREATE INDEX items_price ON items (price);"
}

/// `migrate dev` of `widened(v1)` after `v1` deployed to `prod` with 100 rows.
fn widen_with_rows(dir: &TempDir, dev_db: &TestDb, prod: &TestDb, v1: &str) -> Run {
    assert_eq!(dev(dir, dev_db, v1, &["--name", "init"]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 100) g");
    dev(dir, dev_db, &widened(v1), &["--name", "widen"])
}

/// A view and a trigger that a stepwise migration drops and creates again (a column under them
/// widened, beside a concurrent index build) come back in the transaction that dropped them:
/// the build moves out of the stretch between the drops and the creations, which becomes a
/// migration of its own, one transaction, and the build follows in the same deploy. They
/// committed one statement at a time, the view missing for the application until the build
/// was done.
#[test]
fn a_view_and_a_trigger_dropped_around_an_index_build_come_back_in_one_transaction() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-recreated-together");
    let run = widen_with_rows(&dir, &dev_db, &prod, WIDENED_UNDER_A_VIEW);
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "the transaction, then the build: {run:?}");
    let together = read(&created[1].join("migration.sql"));
    assert!(!together.contains("haste:transaction off") && !together.contains("CONCURRENTLY"), "{together}");
    for part in [
        "DROP VIEW \"public\".\"item_names\"",
        "DROP TRIGGER \"items_trim\"",
        "TYPE character varying(20)",
        "CREATE VIEW \"public\".\"item_names\"",
        "GRANT SELECT ON TABLE \"public\".\"item_names\" TO PUBLIC",
        "CREATE TRIGGER items_trim",
        "the view \"public\".\"item_names\"",
        "the trigger \"items_trim\" on \"public\".\"items\"",
    ] {
        assert!(together.contains(part), "{part} in {together}");
    }
    let after = read(&created[2].join("migration.sql"));
    assert!(
        after.contains("haste:transaction off")
            && after.contains("CREATE INDEX CONCURRENTLY")
            && !after.contains("VIEW"),
        "{after}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(matches(&dir, &prod, &widened(WIDENED_UNDER_A_VIEW)).code, 0);
    assert_eq!(prod.value("SELECT count(*) FROM item_names").as_deref(), Some("100"));
    prod.execute("UPDATE items SET name = '  a longer name  ' WHERE id = 1");
    assert_eq!(
        prod.value("SELECT name FROM item_names WHERE id = 1").as_deref(),
        Some("a longer name"),
        "the trigger fires"
    );
}

/// The transaction that drops the view and creates it again gives up at the type change
/// between them (a session reads the table past the lock budget): the view is still there for
/// the application, history says which migration failed, the build after it has not run, and
/// the next deploy applies both. Committed statement by statement, the view's drop stayed and
/// the view was missing until someone resolved the migration.
#[test]
fn a_failure_between_a_views_drop_and_its_creation_leaves_the_view_in_place() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("dev-recreated-fault");
    // Without the trigger, whose drop would wait for the table before the view's drop.
    let v1 = WIDENED_UNDER_A_VIEW.split("\nCREATE FUNCTION").next().unwrap();
    let run = widen_with_rows(&dir, &dev_db, &prod, v1);
    assert_eq!(run.code, 0, "{run:?}");
    let holder = haste_testkit::Session::connect(&prod.url);
    holder.execute("SET idle_in_transaction_session_timeout = '60s'; BEGIN; SELECT count(*) FROM items");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--lock-deadline", "1s"]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(deploy.stderr.contains("_widen failed"), "{deploy:?}");
    assert_eq!(
        prod.value("SELECT to_regclass('item_names')::text").as_deref(),
        Some("item_names"),
        "the view is in place: {deploy:?}"
    );
    assert_eq!(prod.value("SELECT count(*) FROM item_names").as_deref(), Some("100"));
    // A transaction rolled back leaves no row: the `failed` event names the migration.
    assert_eq!(
        prod.value("SELECT string_agg(substring(name from '_widen.*'), ',') FROM _haste_events WHERE event = 'failed'")
            .as_deref(),
        Some("_widen")
    );
    assert_eq!(
        prod.value("SELECT count(*) FROM _haste_migrations WHERE name LIKE '%widen%'").as_deref(),
        Some("0")
    );
    holder.execute("ROLLBACK");
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(matches(&dir, &prod, &widened(v1)).code, 0);
    assert_eq!(prod.value("SELECT count(*) FROM item_names").as_deref(), Some("100"));
}

/// The names of a generated view's body and foreign key are printed for the search path the
/// schema is read with (`public`): deployed by a session whose search path puts another schema
/// holding a table of the same name first, they still name `public`'s table.
#[test]
fn generated_migrations_name_the_same_tables_under_another_search_path() {
    let Some(db) = database() else { return };
    let prod = database().unwrap();
    let dir = TempDir::new("dev-search-path");
    let v1 = "CREATE TABLE accounts (id integer PRIMARY KEY, name text);";
    assert_eq!(dev(&dir, &db, v1, &["--name", "init"]).code, 0);
    let v2 = "CREATE TABLE accounts (id integer PRIMARY KEY, name text);
CREATE TABLE deals (id integer PRIMARY KEY, account_id integer REFERENCES accounts (id), amount numeric);
CREATE VIEW big_deals AS SELECT d.id, a.name FROM deals d JOIN accounts a ON a.id = d.account_id WHERE d.amount > 100;";
    let second = dev(&dir, &db, v2, &["--name", "deals"]);
    assert_eq!(second.code, 0, "{second:?}");
    prod.execute("CREATE SCHEMA app; CREATE TABLE app.accounts (id integer PRIMARY KEY, name text)");
    let url = format!("{}?options=-c%20search_path%3Dapp,public", prod.url);
    let deployed = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    assert_eq!(
        prod.value(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'deals_account_id_fkey'"
        )
        .as_deref(),
        Some("accounts"),
        "the foreign key references public.accounts"
    );
    assert_eq!(
        prod.value(
            "SELECT string_agg(DISTINCT v.table_schema, ',') FROM information_schema.view_table_usage v \
             WHERE v.view_name = 'big_deals'"
        )
        .as_deref(),
        Some("public"),
        "the view reads public's tables"
    );
}

/// A unique key dropped with a table whose foreign key references it: the foreign keys of the
/// tables that go are dropped first, before any key they reference (the key first failed with
/// 2BP01, in the down.sql of the migration adding both, and in the migration dropping them).
#[test]
fn a_key_referenced_by_a_dropped_table_goes_after_its_foreign_key() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-key-order");
    let without = "CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL);";
    let with = "CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL UNIQUE);
CREATE TABLE events (id bigint PRIMARY KEY, acode text REFERENCES accounts (code));";
    assert_eq!(dev(&dir, &db, without, &["--name", "init"]).code, 0);
    let added = dev(&dir, &db, with, &["--name", "events"]);
    assert_eq!(added.code, 0, "{added:?}");
    let down = read(&folders(&dir).last().unwrap().join("down.sql"));
    let (fkey, key) =
        (down.find("\"events_acode_fkey\"").unwrap(), down.find("\"accounts_code_key\"").unwrap());
    assert!(fkey < key, "the foreign key goes first:\n{down}");
    let dropped = dev(&dir, &db, without, &["--name", "drop_events", "--accept-data-loss"]);
    assert_eq!(dropped.code, 0, "{dropped:?}");
    assert_eq!(matches(&dir, &db, without).code, 0);
}

/// A new partition of a table whose index is made again (here from an `ON ONLY` parent index
/// left without its partitions' indexes) in a change that is cut into migrations: the new
/// partition's index goes with the partition and its attachment after the parent index is
/// built (the attachment went with the partition, before the parent index existed: the shadow
/// replay failed, 42P01, exit 6), and the files pass lint.
#[test]
fn a_new_partitions_index_is_attached_after_its_parent_index_is_built() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-partition-index");
    let from = "CREATE TABLE items (id integer PRIMARY KEY, price integer, CONSTRAINT items_price_check CHECK (price > 0));
CREATE TABLE events (at integer NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (10);
CREATE INDEX events_note_idx ON ONLY events (note);";
    let to = "CREATE TABLE items (id integer PRIMARY KEY, price integer, CONSTRAINT items_price_check CHECK (price > 1));
CREATE TABLE events (at integer NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (10);
CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (10) TO (20);
CREATE INDEX events_note_idx ON events (note);";
    assert_eq!(dev(&dir, &db, from, &["--name", "init"]).code, 0);
    let changed = dev(&dir, &db, to, &["--name", "partition"]);
    assert_eq!(changed.code, 0, "{changed:?}");
    assert!(folders(&dir).len() > 2, "the change is cut into migrations: {:?}", folders(&dir));
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    assert_eq!(matches(&dir, &db, to).code, 0);
}

/// A migration `migrate dev` has just written that fails where it is checked (on a shadow
/// database, after the history: here a row the history inserted breaks the new check) is told
/// as the new migration's failure (exit 1, `PLAN_INVALID`, with its SQLSTATE), not as the
/// history's (`REPLAY_FAILED`), and its folder is gone.
#[test]
fn a_written_migration_that_fails_its_check_is_told_apart_from_the_history() {
    let Some(db) = database() else { return };
    let dir = crate::migrations(&[("1_init", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (-1);\n")]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &db.url]).code, 0);
    let desired = "CREATE TABLE t (a int CONSTRAINT t_a_check CHECK (a > 0));";
    let run = dev(&dir, &db, desired, &["--name", "check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.json_lines().last().unwrap()["error"].clone();
    assert_eq!(error["code"], "PLAN_INVALID", "{run:?}");
    assert_eq!(error["sqlstate"], "23514", "{run:?}");
    assert!(error["migration"].as_str().unwrap().ends_with("_check"), "{run:?}");
    let text = dev(&dir, &db, desired, &["--name", "check"]);
    assert!(text.stderr.contains("haste wrote this migration and checked it"), "{text:?}");
    assert_eq!(folders(&dir).len(), 1, "nothing written: {:?}", folders(&dir));
}
