//! Type changes that would rewrite a table (`int` to `bigint`): `migrate dev` plans them as
//! expand, prepare and swap migrations that one deploy applies, without rewriting the table
//! under an ACCESS EXCLUSIVE lock, keeping every row, key, index, default and view.

use std::fs;

use std::process::Stdio;
use std::time::Duration;

use haste_testkit::{Session, TempDir, TestDb, database, wait_until};

use crate::{Run, command, haste, migration_folders as folders};

fn dev(dir: &TempDir, db: &TestDb, desired: &str, name: &str) -> Run {
    dir.write("schema.sql", desired);
    haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
}

use crate::dev::matches as same_schema;

/// `migrate dev` with one column rename (`schema.table.old=new`) across two releases.
fn dev_renaming(dir: &TempDir, db: &TestDb, desired: &str, name: &str, rename: &str) -> Run {
    dir.write("schema.sql", desired);
    let args = ["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name];
    haste(dir.path(), &[&args[..], &["--rename", rename, "--expand-contract"]].concat())
}

/// The keys, checks and `NOT NULL` of the swapped columns still refuse each of `statements`.
fn still_refused(db: &TestDb, statements: &[&str]) {
    for refused in statements {
        assert!(db.try_execute(refused).is_err(), "still refused after the swap: {refused}");
    }
}

const V1: &str = "CREATE TABLE workspaces (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE contacts (
  id serial PRIMARY KEY,
  workspace_id integer NOT NULL REFERENCES workspaces (id),
  score integer NOT NULL DEFAULT 0,
  name text,
  UNIQUE (workspace_id, name)
);
CREATE INDEX contacts_score_idx ON contacts (score);
CREATE VIEW ranked AS SELECT id, score FROM contacts WHERE score > 10;";

fn v2() -> String {
    V1.replace("id serial PRIMARY KEY", "id bigserial PRIMARY KEY")
        .replace("workspace_id integer", "workspace_id bigint")
        .replace("score integer NOT NULL DEFAULT 0", "score bigint NOT NULL DEFAULT 1")
}

#[test]
fn int_to_bigint_is_expanded_and_swapped_in_one_deploy_keeping_rows_keys_and_views() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype");
    assert_eq!(dev(&dir, &dev_db, V1, "init").code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    prod.execute(
        "INSERT INTO workspaces VALUES (1, 'acme'), (2, 'globex');
         INSERT INTO contacts (workspace_id, score, name) SELECT 1 + g % 2, g, 'c' || g FROM generate_series(1, 3000) g;",
    );

    let v2 = v2();
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let names: Vec<String> =
        created.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(created.len(), 4, "{names:?}");
    assert!(
        names[1].ends_with("_bigint")
            && names[2].ends_with("_bigint_prepare")
            && names[3].ends_with("_bigint_swap")
    );
    let text: String = created[1..]
        .iter()
        .flat_map(|folder| {
            ["migration.sql", "data.sql"]
                .map(|file| fs::read_to_string(folder.join(file)).unwrap_or_default())
        })
        .collect();
    assert!(!text.contains(" TYPE "), "no statement changes a type in place:\n{text}");
    assert!(text.contains("CONCURRENTLY"), "indexes and keys are built concurrently:\n{text}");
    let swap = fs::read_to_string(created[3].join("migration.sql")).unwrap();
    assert!(!swap.contains("haste:transaction off"), "the swap is one transaction:\n{swap}");
    // The view before its table, as its readers lock them: a swap holding the table while it
    // waited for the view held up every user of the table, on every attempt.
    let first_of = |what: &str| swap.find(what).unwrap_or_else(|| panic!("{what} in the swap:\n{swap}"));
    assert!(first_of("DROP VIEW") < first_of("DROP TRIGGER"), "{swap}");
    let lint = haste(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");

    let applied = deploy(&prod);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema, in one deploy");
    assert_eq!(
        prod.value("SELECT count(*) || ':' || sum(score) || ':' || sum(workspace_id) FROM contacts")
            .as_deref(),
        Some("3000:4501500:4500"),
        "every row kept its values"
    );
    assert_eq!(
        prod.value("SELECT count(*) FROM ranked").as_deref(),
        Some("2990"),
        "the view reads the new column"
    );
    // Keys, defaults and the sequence work on the swapped columns.
    prod.execute("INSERT INTO contacts (workspace_id, name) VALUES (2, 'after')");
    assert_eq!(
        prod.value("SELECT id || ':' || score FROM contacts WHERE name = 'after'").as_deref(),
        Some("3001:1")
    );
    still_refused(
        &prod,
        &[
            "INSERT INTO contacts (workspace_id, name) VALUES (3, 'no such workspace')",
            "INSERT INTO contacts (id, workspace_id, name) VALUES (1, 1, 'duplicate key')",
            "INSERT INTO contacts (workspace_id, name) VALUES (2, 'after')",
            "INSERT INTO contacts (workspace_id, score, name) VALUES (1, NULL, 'null score')",
        ],
    );
    assert_eq!(prod.value("SELECT count(*) FROM pg_index WHERE NOT indisvalid").as_deref(), Some("0"));
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'haste_retype%'").as_deref(),
        Some("0"),
        "nothing of the expand is left"
    );

    // The history replays to the desired schema; going back restores the old types and rows.
    let again = dev(&dir, &dev_db, &v2, "again");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, V1).code, 0);
    assert_eq!(prod.value("SELECT sum(score) FROM contacts").as_deref(), Some("4501501"));
}

/// A change the swap cannot carry (a key a partitioned table's foreign key references:
/// PostgreSQL cannot add it back `NOT VALID`) is made in place, and the migration says why
/// (and allows the lint rule it breaks); the migration's other type change still goes through
/// the expand and swap.
/// The swap builds the view, the index and the unique key over the retyped columns again: their
/// comments come back with them, in the swap's transaction.
#[test]
fn the_swap_gives_back_the_comments_of_the_views_indexes_and_keys_it_builds_again() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-comments");
    let comments = "
COMMENT ON VIEW ranked IS 'top contacts';
COMMENT ON COLUMN ranked.score IS 'points';
COMMENT ON INDEX contacts_score_idx IS 'by score';
COMMENT ON CONSTRAINT contacts_workspace_id_name_key ON contacts IS 'one name per workspace';";
    assert_eq!(dev(&dir, &db, &format!("{V1}{comments}"), "init").code, 0);
    let widened = format!("{}{comments}", v2());
    let run = dev(&dir, &db, &widened, "widen");
    assert_eq!(run.code, 0, "{run:?}");
    let later: Vec<String> = folders(&dir)[1..]
        .iter()
        .map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap())
        .collect();
    assert!(
        later.iter().any(|sql| sql.contains("RENAME")
            && sql.contains("COMMENT ON VIEW")
            && sql.contains("COMMENT ON INDEX")),
        "the swap sets them: {later:#?}"
    );
    assert_eq!(same_schema(&dir, &db, &widened).code, 0);
    assert_eq!(
        db.value("SELECT obj_description('ranked'::regclass, 'pg_class')").as_deref(),
        Some("top contacts")
    );
}

/// The swap builds the view and the index over the retyped column again: the view's column
/// default and the table's cluster index (adv-d D8) come back with them.
#[test]
fn the_swap_gives_back_a_view_columns_default_and_the_cluster_index() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-view-default");
    let kept = "
ALTER VIEW ranked ALTER COLUMN score SET DEFAULT 11;
ALTER TABLE contacts CLUSTER ON contacts_score_idx;";
    assert_eq!(dev(&dir, &db, &format!("{V1}{kept}"), "init").code, 0);
    let widened = format!("{}{kept}", v2());
    let run = dev(&dir, &db, &widened, "widen");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(same_schema(&dir, &db, &widened).code, 0);
    let default =
        db.value("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'ranked'::regclass");
    assert!(default.as_deref().is_some_and(|d| d.contains("11")), "{default:?}");
    let clustered = db.value("SELECT indexrelid::regclass::text FROM pg_index WHERE indisclustered");
    assert_eq!(clustered.as_deref(), Some("contacts_score_idx"));
}

/// The swapped column was added with the default statistics target, storage and compression:
/// it takes the desired ones after the swap (the random dev property test found the target
/// lost).
#[test]
fn the_swapped_column_gets_its_statistics_target_storage_and_compression() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-settings");
    assert_eq!(dev(&dir, &db, V1, "init").code, 0);
    let settings = "
ALTER TABLE contacts ALTER score SET STATISTICS 300;";
    let widened = format!("{}{settings}", v2());
    let run = dev(&dir, &db, &widened, "widen");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(same_schema(&dir, &db, &widened).code, 0);
    let target = db.value(
        "SELECT attstattarget::text FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attname = 'score'",
    );
    assert_eq!(target.as_deref(), Some("300"));
}

#[test]
fn a_new_commented_check_on_a_widened_column_gets_its_comment_once_it_exists() {
    // The swap adds the check under its name; a comment in the first migration found no such
    // constraint (42704) and migrate dev stopped half-way.
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-check-comment");
    assert_eq!(dev(&dir, &db, V1, "init").code, 0);
    let widened = format!(
        "{}\nALTER TABLE contacts ADD CONSTRAINT contacts_score_check CHECK (score > -5);\n\
         COMMENT ON CONSTRAINT contacts_score_check ON contacts IS 'not too low';",
        v2()
    );
    let run = dev(&dir, &db, &widened, "widen");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(same_schema(&dir, &db, &widened).code, 0);
    assert_eq!(
        db.value(
            "SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE conname = 'contacts_score_check'"
        )
        .as_deref(),
        Some("not too low")
    );
}

#[test]
fn a_key_a_partitioned_table_references_is_changed_in_place_with_the_reason_written() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-in-place");
    let v1 = "CREATE TABLE a (id integer PRIMARY KEY);
CREATE TABLE b (id bigint PRIMARY KEY, code text);
CREATE TABLE p (a_id integer REFERENCES a (id), at date) PARTITION BY RANGE (at);";
    assert_eq!(dev(&dir, &db, v1, "init").code, 0);
    let v2 =
        v1.replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY").replace("code text", "code integer");
    let run = dev(&dir, &db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "{run:?}");
    let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        text.contains("a foreign key of a partitioned table references the column")
            && text.contains(" TYPE bigint")
            && !text.contains(" TYPE integer"),
        "{text}"
    );
    // The rewrite is known and said: haste's own lint passes the file.
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
}

const ACCOUNTS: &str = "CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE contacts (
  id bigint PRIMARY KEY,
  account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX contacts_account_idx ON contacts (account_id);
CREATE TABLE notes (id bigint PRIMARY KEY, account_id integer REFERENCES accounts (id));";

/// The ids running out: an `integer` primary key that other tables' foreign keys reference
/// becomes `bigint` without a rewrite. One referencing column is widened too (its own expand
/// and swap), the other is left `integer`; the swap re-adds both foreign keys on the new key
/// `NOT VALID`, and a last migration validates them.
#[test]
fn a_referenced_primary_key_is_widened_with_its_foreign_keys_repointed() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-referenced");
    assert_eq!(dev(&dir, &dev_db, ACCOUNTS, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute(
        "INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 1000) g;
         INSERT INTO contacts SELECT g, 1 + g % 1000 FROM generate_series(1, 5000) g;
         INSERT INTO notes SELECT g, 1 + g % 500 FROM generate_series(1, 2000) g;",
    );
    let values = "SELECT (SELECT count(*) || ':' || sum(id) FROM accounts) || '/' || \
                  (SELECT count(*) || ':' || sum(account_id) FROM contacts) || '/' || \
                  (SELECT count(*) || ':' || sum(account_id) FROM notes)";
    let before = prod.value(values);

    let v2 = ACCOUNTS
        .replace("id serial PRIMARY KEY", "id bigserial PRIMARY KEY")
        .replace("account_id integer NOT NULL", "account_id bigint NOT NULL");
    let run = dev(&dir, &dev_db, &v2, "ids");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let text: String =
        created[1..].iter().map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap()).collect();
    assert!(!text.contains(" TYPE "), "nothing is changed in place:\n{text}");
    assert!(
        text.contains(r#"ALTER TABLE "public"."notes" ADD CONSTRAINT "notes_account_id_fkey" FOREIGN KEY (account_id) REFERENCES accounts(id) NOT VALID"#)
            && text.contains(r#"ALTER TABLE "public"."notes" VALIDATE CONSTRAINT "notes_account_id_fkey""#),
        "the foreign key is re-added NOT VALID, then validated:\n{text}"
    );
    let lint = haste(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");

    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema, in one deploy");
    assert_eq!(prod.value(values), before, "every row kept its values");
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated").as_deref(),
        Some("2")
    );
    still_refused(
        &prod,
        &[
            "INSERT INTO contacts VALUES (0, 5000000000)",
            "INSERT INTO notes VALUES (0, 1001)",
            "DELETE FROM accounts WHERE id = 1",
        ],
    );
    prod.execute("DELETE FROM accounts WHERE id = 999");
    assert_eq!(
        prod.value("SELECT count(*) FROM contacts WHERE account_id = 999").as_deref(),
        Some("0"),
        "cascade"
    );
    prod.execute("INSERT INTO accounts (name) VALUES ('next'); INSERT INTO contacts VALUES (0, 1001)");

    let steps = (created.len() - 1).to_string();
    let down = haste(dir.path(), &["migrate", "down", "--steps", &steps, "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, ACCOUNTS).code, 0, "going back restores the old types");
}

/// A shorter `varchar` never cuts a value: a row that does not fit stops the deploy, as it
/// stops an `ALTER COLUMN ... TYPE` without `USING`, whether the change goes through the expand
/// and swap (a table with a primary key to walk) or is made in place (no such key).
#[test]
fn a_shorter_varchar_refuses_a_value_that_does_not_fit_instead_of_cutting_it() {
    for (table, v1) in [
        ("items", "CREATE TABLE items (id integer PRIMARY KEY, code varchar(20) NOT NULL);"),
        ("logs", "CREATE TABLE logs (code varchar(20));"),
    ] {
        let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
        let dir = TempDir::new("retype-shorter");
        assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
        let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
        assert_eq!(deploy().code, 0);
        let columns = if table == "items" { "(id, code)" } else { "(code)" };
        let values = if table == "items" { "g, 'code-' || g || '-long'" } else { "'code-' || g || '-long'" };
        prod.execute(&format!(
            "INSERT INTO {table} {columns} SELECT {values} FROM generate_series(1, 500) g"
        ));
        let lengths = format!("SELECT sum(length(code)) FROM {table}");
        let before = prod.value(&lengths);

        let run = dev(&dir, &dev_db, &v1.replace("varchar(20)", "varchar(8)"), "shorter");
        assert_eq!(run.code, 0, "{run:?}");
        let failed = deploy();
        assert_eq!(failed.code, 6, "{table}: {failed:?}");
        assert!(failed.stderr.contains("value too long for type character varying(8)"), "{failed:?}");
        assert_eq!(prod.value(&lengths), before, "{table}: no value was cut");
    }
}

/// Names with spaces, dots, quotes and accents reach the data step's header and back: the
/// type change is planned, applied and keeps every value.
#[test]
fn a_table_and_key_with_spaces_dots_and_quotes_are_retyped() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-names");
    let v1 = r#"CREATE SCHEMA "my.schema";
CREATE TABLE "my.schema"."Wéird ""T"" name" ("the key" integer PRIMARY KEY, "n 2" integer);"#;
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    let table = r#""my.schema"."Wéird ""T"" name""#;
    prod.execute(&format!("INSERT INTO {table} SELECT g, g * 2 FROM generate_series(1, 2000) g"));

    let run = dev(&dir, &dev_db, &v1.replace("\"n 2\" integer", "\"n 2\" bigint"), "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deploy().code, 0);
    assert_eq!(
        prod.value(&format!("SELECT sum(\"n 2\") || ':' || pg_typeof(sum(\"n 2\")) FROM {table}")).as_deref(),
        Some("4002000:numeric"),
        "every value kept, summed as bigints are (numeric)"
    );
}

/// Names holding the dollar-quote tag of the generated function bodies (`$haste$`) or a prefix
/// of it: the pre-check, the sync trigger and an `--expand-contract` rename's trigger still
/// parse, and the type change is applied, keeps every value and goes back.
#[test]
fn names_holding_the_dollar_quote_tag_are_retyped_and_renamed() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-dollar");
    let v1 = r#"CREATE TABLE "t$haste$" (id integer PRIMARY KEY, "a$haste$" integer NOT NULL, "b$haste" bigint, "c$haste1$" text);"#;
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute(r#"INSERT INTO "t$haste$" SELECT g, g, g * 2, 'x' FROM generate_series(1, 300) g"#);
    let sums = r#"SELECT sum("a$haste$") || ':' || sum("b$haste") FROM "t$haste$""#;

    let v2 = v1
        .replace(r#""a$haste$" integer"#, r#""a$haste$" bigint"#)
        .replace(r#""b$haste" bigint"#, r#""b$haste" integer"#);
    let run = dev(&dir, &dev_db, &v2, "retype");
    assert_eq!(run.code, 0, "{run:?}");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(prod.value(sums).as_deref(), Some("45150:90300"));
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, v1).code, 0);
    assert_eq!(prod.value(sums).as_deref(), Some("45150:90300"));
    assert_eq!(deploy().code, 0);

    let v3 = v2.replace(r#""c$haste1$" text"#, r#""d$haste$" text"#);
    let rename = dev_renaming(&dir, &dev_db, &v3, "rename", "public.t$haste$.c$haste1$=d$haste$");
    assert_eq!(rename.code, 0, "{rename:?}");
    dev_db.execute(r#"INSERT INTO "t$haste$" (id, "a$haste$", "d$haste$") VALUES (1, 1, 'new')"#);
    assert_eq!(
        dev_db.value(r#"SELECT "c$haste1$" FROM "t$haste$" WHERE id = 1"#).as_deref(),
        Some("new"),
        "the sync trigger keeps the old column filled"
    );
}

/// Deploys the pending migrations up to the expand and its backfill, runs `meanwhile` (the
/// application's writes before the swap, at a known point), then deploys the prepare and swap.
fn deploy_after_the_backfill(dir: &TempDir, prod: &TestDb, meanwhile: impl FnOnce()) -> Run {
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    let held = TempDir::new("retype-held");
    let later: Vec<_> = folders(dir)
        .into_iter()
        .filter(|folder| ["_prepare", "_swap"].iter().any(|end| folder.to_string_lossy().ends_with(end)))
        .collect();
    assert_eq!(later.len(), 2, "{later:?}");
    for folder in &later {
        fs::rename(folder, held.path().join(folder.file_name().unwrap())).unwrap();
    }
    let expanded = deploy();
    assert_eq!(expanded.code, 0, "{expanded:?}");
    meanwhile();
    for folder in &later {
        fs::rename(held.path().join(folder.file_name().unwrap()), folder).unwrap();
    }
    deploy()
}

/// A type change whose conversion reads the session's settings (`timestamp` to `timestamptz`
/// reads its time zone): a row the application writes from a session in another zone during
/// the backfill is converted as data.sql converts the others, with the deploy's zone (as a
/// change in place converts every row), not with the writer's. Identical values stayed 5 hours
/// apart before.
#[test]
fn a_conversion_uses_the_deploys_settings_for_every_row() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-zone");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, at timestamp NOT NULL);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t VALUES (1, '2026-03-08 02:30'), (2, 'infinity'), (3, '-infinity')");
    let v2 = v1.replace("timestamp", "timestamptz");
    assert_eq!(dev(&dir, &dev_db, &v2, "zoned").code, 0);
    let applied = deploy_after_the_backfill(&dir, &prod, || {
        prod.execute("SET TimeZone = 'America/New_York'; INSERT INTO t VALUES (4, '2026-03-08 02:30')");
    });
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value(
            "SELECT ((SELECT at FROM t WHERE id = 1) = (SELECT at FROM t WHERE id = 4)) || ':' || \
             (SELECT string_agg(at::text, ',' ORDER BY id) FROM t WHERE id IN (2, 3))"
        )
        .as_deref(),
        Some("true:infinity,-infinity"),
        "the same value, converted the same way whoever wrote it"
    );
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, v1).code, 0);
}

/// A write made with `session_replication_role = replica` (a logical replication subscriber's
/// apply, a restore with triggers off) after the backfill: the sync trigger still converts it,
/// so the swap keeps the value written, never the one the new column had before.
#[test]
fn a_write_in_replica_mode_after_the_backfill_is_kept_by_the_swap() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-replica");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL, label text);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO t SELECT g, g, 'l' || g FROM generate_series(1, 500) g");
    assert_eq!(dev(&dir, &dev_db, &v1.replace("n integer", "n bigint"), "bigint").code, 0);
    let applied = deploy_after_the_backfill(&dir, &prod, || {
        assert_eq!(prod.value("SELECT count(*) FROM t WHERE n_haste_new IS NULL").as_deref(), Some("0"));
        prod.execute(
            "SET session_replication_role = replica; UPDATE t SET n = -n WHERE id <= 10; RESET session_replication_role",
        );
    });
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(
        prod.value("SELECT sum(n) || ':' || pg_typeof(n) FROM t WHERE id <= 10 GROUP BY pg_typeof(n)")
            .as_deref(),
        Some("-55:bigint"),
        "the values written in replica mode survive the swap"
    );

    // An --expand-contract rename's sync trigger fires in replica mode too.
    let rename = dev_renaming(
        &dir,
        &dev_db,
        &v1.replace("n integer", "n bigint").replace("label", "title"),
        "title",
        "public.t.label=title",
    );
    assert_eq!(rename.code, 0, "{rename:?}");
    dev_db.execute("INSERT INTO t (id, n, label) VALUES (1, 1, 'one')");
    dev_db.execute("SET session_replication_role = replica; UPDATE t SET label = 'uno' WHERE id = 1; RESET session_replication_role");
    assert_eq!(dev_db.value("SELECT title FROM t WHERE id = 1").as_deref(), Some("uno"));
}

/// The names haste makes up for the new columns, checks and indexes never meet the table's
/// own: a user column named like the temporary one (`n_haste_new`), and two 60-byte columns and
/// indexes whose names cut to the same 63 bytes once `_haste_new` is added. `migrate dev` used
/// to fail on "column already exists".
#[test]
fn made_up_names_avoid_the_tables_own_and_each_other() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-made-up");
    let long = "a".repeat(58);
    let v1 = format!(
        r#"CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL, n_haste_new text, "{long}x1" integer NOT NULL, "{long}x2" integer);
CREATE UNIQUE INDEX "{long}i1" ON t ("{long}x1");
CREATE INDEX "{long}i2" ON t ("{long}x2");"#
    );
    assert_eq!(dev(&dir, &dev_db, &v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO t SELECT g, g, 'mine', g, g FROM generate_series(1, 200) g");
    let values = format!(
        r#"SELECT sum(n) + sum("{long}x1") + sum("{long}x2") || ':' || string_agg(DISTINCT n_haste_new, ',') FROM t"#
    );

    let v2 = v1.replace(" integer", " bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(prod.value(&values).as_deref(), Some("60300:mine"), "the user's own n_haste_new is kept");
    still_refused(&prod, &[&format!(r#"INSERT INTO t (id, n, "{long}x1") VALUES (0, 0, 1)"#)]);
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, &v1).code, 0);
    assert_eq!(prod.value(&values).as_deref(), Some("60300:mine"));
}

/// A policy that reads the column would stop the swap's `DROP COLUMN`: the change is made in
/// place with the reason, where `migrate dev` used to fail. (Triggers are carried across the
/// swap: see `triggers_on_the_retyped_column_are_carried_across_the_swap`.)
#[test]
fn a_column_read_by_a_policy_is_changed_in_place() {
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON t USING (n > 0);";
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-readers");
    assert_eq!(dev(&dir, &db, v1, "init").code, 0);
    let run = dev(&dir, &db, &v1.replace("n integer NOT NULL", "n bigint NOT NULL"), "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 2, "{run:?}");
    let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        text.contains("a row-level security policy reads the column") && text.contains(" TYPE bigint"),
        "{text}"
    );
    assert_eq!(db.value("SELECT format_type(atttypid, -1) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'n'").as_deref(), Some("bigint"));
}

const GENERATED: &str = "CREATE TABLE orders (
  id integer PRIMARY KEY,
  price integer NOT NULL,
  total integer GENERATED ALWAYS AS (price * 2) STORED NOT NULL CHECK (total >= 0),
  note text
);
CREATE INDEX orders_total_idx ON orders (total);
COMMENT ON COLUMN orders.total IS 'twice the price';
GRANT SELECT (total) ON orders TO PUBLIC;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;";

/// PostgreSQL refuses to retype a column a stored generated column reads: the generated
/// column is dropped before the type change and added again after it, in one transaction, with
/// its check, index, comment, privilege and the view over it, and its values computed again.
#[test]
fn a_column_a_generated_column_reads_is_retyped_around_it() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-generated");
    assert_eq!(dev(&dir, &dev_db, GENERATED, "init").code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    let rows = "INSERT INTO orders (id, price) SELECT g, g FROM generate_series(1, 2000) g";
    dev_db.execute(rows);
    prod.execute(rows);

    let v2 = GENERATED.replace("price integer", "price bigint").replace("total integer", "total bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 2, "{run:?}");
    let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        text.contains("a generated column reads the column")
            && text.contains(r#"the generated column "public"."orders"."total" is dropped and added again"#)
            && text.contains("moves to the end of the table")
            && text.contains(" TYPE bigint")
            && !text.contains("haste:transaction off"),
        "{text}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "haste's own migration passes its lint: {lint:?}");

    let applied = deploy(&prod);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema");
    let totals = "SELECT count(*) || ':' || sum(total) || ':' || count(*) FILTER (WHERE total = price * 2) FROM orders";
    assert_eq!(prod.value(totals).as_deref(), Some("2000:4002000:2000"));
    assert_eq!(prod.value("SELECT count(*) FROM big_orders").as_deref(), Some("1950"));
    prod.execute("INSERT INTO orders (id, price) VALUES (2001, 5000000000)");
    assert_eq!(prod.value("SELECT total FROM orders WHERE id = 2001").as_deref(), Some("10000000000"));
    still_refused(&prod, &["INSERT INTO orders (id, price) VALUES (2002, -1)"]);
    let again = dev(&dir, &dev_db, &v2, "again");
    assert!(again.stdout.contains("no migration generated"), "{again:?}");

    prod.execute("DELETE FROM orders WHERE id = 2001");
    let down = haste(dir.path(), &["migrate", "down", "--steps", "1", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, GENERATED).code, 0);
    assert_eq!(prod.value(totals).as_deref(), Some("2000:4002000:2000"));
}

/// A view over a view that reads the column: both go before the swap and come back after it.
#[test]
fn views_over_views_come_back_after_the_swap() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-views");
    let v1 = "CREATE TABLE t (id bigint PRIMARY KEY, n integer NOT NULL);
CREATE VIEW v1 AS SELECT id, n FROM t;
CREATE VIEW v2 AS SELECT n FROM v1 WHERE n > 1;";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
    let v2 = v1.replace("n integer", "n bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(prod.value("SELECT count(*) || ':' || sum(n) FROM v2").as_deref(), Some("99:5049"));
}

const ITEMS: &str = "CREATE TABLE items (
  id integer PRIMARY KEY,
  qty bigint NOT NULL,
  code varchar(20) NOT NULL,
  ref text,
  price numeric(12,2)
);
CREATE INDEX items_code_idx ON items (code);";

/// Every conversion that can fail, on one table: `bigint` to `integer`, a shorter `varchar`,
/// `text` to `integer` and a smaller `numeric`.
fn narrowed() -> String {
    ITEMS
        .replace("qty bigint", "qty integer")
        .replace("varchar(20)", "varchar(8)")
        .replace("ref text", "ref integer")
        .replace("numeric(12,2)", "numeric(6,2)")
}

/// `items` on a fresh database at `ITEMS`, with `rows` rows whose values all convert.
fn items(dir: &TempDir, dev_db: &TestDb, prod: &TestDb, rows: u32) {
    assert_eq!(dev(dir, dev_db, ITEMS, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute(&format!(
        "INSERT INTO items SELECT g, g * 1000, 'c-' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE g::text END, g % 9000 + 0.25
         FROM generate_series(1, {rows}) g"
    ));
}

const ITEM_VALUES: &str = "SELECT count(*) || ':' || sum(qty) || ':' || sum(length(code)) || ':' || sum(ref::bigint) || ':' || sum(price) FROM items";

#[test]
fn conversions_that_can_fail_are_checked_then_expanded_and_swapped() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-narrow");
    items(&dir, &dev_db, &prod, 3000);
    let before = prod.value(ITEM_VALUES);

    let run = dev(&dir, &dev_db, &narrowed(), "narrow");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("a write whose value does not convert to character varying(8) is refused"),
        "the summary says which writes the trigger refuses: {run:?}"
    );
    let created = folders(&dir);
    assert_eq!(created.len(), 4, "{run:?}");
    let expand = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(!expand.contains(" TYPE "), "nothing is changed in place:\n{expand}");
    assert!(expand.contains("the trigger converts every write"), "the header says so:\n{expand}");
    let (first_check, first_add) = (expand.find("DO $haste$").unwrap(), expand.find("ADD COLUMN").unwrap());
    assert!(first_check < first_add, "the checks come first:\n{expand}");
    assert_eq!(
        expand.matches("DO $haste$\n#variable_conflict").count(),
        4,
        "one check per column:\n{expand}"
    );
    let lint = haste(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");

    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &narrowed()).code, 0);
    assert_eq!(prod.value(ITEM_VALUES), before, "every value kept");
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'haste_retype%'").as_deref(),
        Some("0")
    );
    assert!(prod.try_execute("INSERT INTO items VALUES (0, 1, 'too-long-code')").is_err());
}

/// A self-referencing foreign key (`parent_id` referencing `id`) on a key made `bigint`, with
/// the referencing column widened too or left `integer`: the swap used to fail on "cannot drop
/// constraint t_pkey ... other objects depend on it". The key is carried as other tables' keys
/// are: dropped first, added again `NOT VALID` on the new key, validated last.
#[test]
fn a_self_referencing_key_is_widened() {
    for widened in ["parent_id bigint", "parent_id integer"] {
        let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
        let dir = TempDir::new("retype-self");
        let v1 = "CREATE TABLE t (id integer PRIMARY KEY, parent_id integer REFERENCES t (id) ON DELETE CASCADE, n integer);
CREATE INDEX t_parent_idx ON t (parent_id);";
        assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
        let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
        assert_eq!(deploy().code, 0);
        prod.execute("INSERT INTO t SELECT g, NULLIF(g / 2, 0), g FROM generate_series(1, 1000) g");
        let v2 = v1
            .replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY")
            .replace("parent_id integer", widened);
        let run = dev(&dir, &dev_db, &v2, "bigint");
        assert_eq!(run.code, 0, "{widened}: {run:?}");
        let applied = deploy();
        assert_eq!(applied.code, 0, "{widened}: {applied:?}");
        assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "{widened}");
        assert_eq!(
            prod.value("SELECT count(*) || ':' || sum(parent_id) FROM t").as_deref(),
            Some("1000:250000")
        );
        assert_eq!(
            prod.value("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated").as_deref(),
            Some("1")
        );
        still_refused(&prod, &["INSERT INTO t VALUES (5000, 4000, 0)"]);
        prod.execute("DELETE FROM t WHERE id = 1");
        assert_eq!(
            prod.value("SELECT count(*) FROM t").as_deref(),
            Some("0"),
            "{widened}: the cascade follows the key"
        );
        let steps = (folders(&dir).len() - 1).to_string();
        let down = haste(dir.path(), &["migrate", "down", "--steps", &steps, "--url", &prod.url]);
        assert_eq!(down.code, 0, "{widened}: {down:?}");
        assert_eq!(same_schema(&dir, &prod, v1).code, 0, "{widened}");
    }
}

/// Rows that do not convert stop the deploy at the expand's first statement: the message
/// names the column, how many rows and the first key, nothing of the migration is applied
/// (neither its other changes nor the new column and trigger), and once the rows are fixed the
/// same deploy goes through.
#[test]
fn rows_that_do_not_convert_stop_the_deploy_before_anything_is_applied() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-precheck");
    items(&dir, &dev_db, &prod, 3000);
    prod.execute("UPDATE items SET ref = 'r' || id WHERE id IN (31, 7, 2000)");
    let desired = narrowed().replace("price numeric(6,2)", "price numeric(6,2),\n  note text");
    assert_eq!(dev(&dir, &dev_db, &desired, "narrow").code, 0);

    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    for said in [
        r#"3 row(s) of "public"."items"."ref" do not convert to integer"#,
        r#"The first by id: id = 7: invalid input syntax for type integer: "r7""#,
        "change or delete those rows so that every value converts",
    ] {
        assert!(failed.stderr.contains(said), "{said}: {failed:?}");
    }
    let columns = "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
                   WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped";
    assert_eq!(prod.value(columns).as_deref(), Some("id,qty,code,ref,price"), "nothing applied");
    assert_eq!(prod.value("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").as_deref(), Some("0"));
    assert_eq!(prod.value("SELECT count(*) FROM pg_proc WHERE proname LIKE 'haste%'").as_deref(), Some("0"));

    prod.execute("UPDATE items SET ref = NULL WHERE ref LIKE 'r%'");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &desired).code, 0);
}

/// Deploys `narrowed()` over `rows` rows, holding the backfill on the last row's lock while the
/// application writes; with `gap`, a row is also written as if while the expand waited for its
/// lock (the check did not see it, the trigger did not convert it). Returns the deploy's run.
fn deploy_while_writing(dir: &TempDir, prod: &TestDb, rows: u32, gap: bool) -> Run {
    let mut deploy = command(dir.path(), &["migrate", "deploy", "--url", &prod.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let expanded = || {
        prod.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'haste_retype_items'").as_deref()
            == Some("1")
    };
    wait_until(Duration::from_secs(60), || expanded() || deploy.try_wait().unwrap().is_some());
    if !expanded() {
        let output = deploy.wait_with_output().unwrap();
        panic!("the expand is not applied: {}", String::from_utf8_lossy(&output.stderr));
    }
    let holder = Session::connect(&prod.url);
    holder.execute(&format!("BEGIN; SELECT 1 FROM items WHERE id = {rows} FOR UPDATE"));
    let unfilled = holder.query(&format!("SELECT code_haste_new IS NULL FROM items WHERE id = {rows}"));
    assert_eq!(unfilled[0][0].as_deref(), Some("t"), "the backfill has not reached the last row");

    // The application's writes while the backfill runs: a value that does not convert is
    // refused (as after the swap), one that converts lands in both columns.
    for (refused, error) in [
        (
            "INSERT INTO items VALUES (-1, 1, 'much-too-long-code', '1', 1)",
            "value too long for type character varying(8)",
        ),
        ("UPDATE items SET qty = 5000000000 WHERE id = 1", "integer out of range"),
        ("UPDATE items SET ref = 'seven' WHERE id = 2", "invalid input syntax for type integer"),
        ("INSERT INTO items VALUES (-2, 1, 'c', '1', 123456.78)", "numeric field overflow"),
    ] {
        let result = prod.try_execute(refused);
        assert!(result.as_ref().is_err_and(|e| e.contains(error)), "{refused}: {result:?}");
    }
    prod.execute("INSERT INTO items VALUES (-3, 7, 'ok', '5', 1.5)");
    assert_eq!(
        prod.value("SELECT qty_haste_new || code_haste_new || ref_haste_new || price_haste_new FROM items WHERE id = -3")
            .as_deref(),
        Some("7ok51.50")
    );
    if gap {
        // (The new columns with a NOT VALID NOT NULL check are given a value: the check, added
        // after such a row, would not have looked at it.)
        // Its key is in the batch the backfill waits on: such a row was there before the backfill
        // began.
        let gap = rows - 1;
        prod.execute(&format!(
            "ALTER TABLE items DISABLE TRIGGER haste_retype_items;
             INSERT INTO items (id, qty, code, ref, price, qty_haste_new, code_haste_new)
               VALUES ({gap}, {gap} * 1000, 'c-{gap}', 'not-a-number', {gap} % 9000 + 0.25, {gap} * 1000, 'c-{gap}');
             ALTER TABLE items ENABLE TRIGGER haste_retype_items;"
        ));
    }
    holder.execute("COMMIT");
    let output = deploy.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `items` with `rows` rows on a fresh production database, and `narrowed()` planned for it.
fn narrowing_planned(label: &str, rows: u32) -> Option<(TempDir, TestDb)> {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return None };
    let dir = TempDir::new(label);
    items(&dir, &dev_db, &prod, rows);
    assert_eq!(dev(&dir, &dev_db, &narrowed(), "narrow").code, 0);
    Some((dir, prod))
}

/// Every row as `items` wrote it, whatever column type it is read through now.
fn rows_unchanged(prod: &TestDb, rows: u32) {
    let changed = format!(
        "SELECT count(*) FROM items WHERE id BETWEEN 1 AND {rows} AND (qty, code, coalesce(ref::text, '-'), price)
           IS DISTINCT FROM (id * 1000, 'c-' || id, CASE WHEN id % 3 = 0 THEN '-' ELSE id::text END, id % 9000 + 0.25)"
    );
    assert_eq!(prod.value(&changed).as_deref(), Some("0"), "no value changed");
}

/// Writes that do not convert, made while the backfill runs, are refused; the deploy goes
/// through, and every row holds the value written.
#[test]
fn writes_during_the_backfill_that_do_not_convert_are_refused_and_the_deploy_succeeds() {
    let rows = 50_000;
    let Some((dir, prod)) = narrowing_planned("retype-concurrent", rows) else { return };
    let run = deploy_while_writing(&dir, &prod, rows, false);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(same_schema(&dir, &prod, &narrowed()).code, 0);
    rows_unchanged(&prod, rows);
    assert_eq!(
        prod.value("SELECT string_agg(id || ':' || qty || code || ref || price, ',' ORDER BY id) FROM items WHERE id < 1")
            .as_deref(),
        Some("-3:7ok51.50"),
        "only the write that converted is there"
    );
}

/// A row the check never saw and the trigger never converted (written while the expand waited
/// for its lock) stops `data.sql` with the conversion's error; nothing wrong is stored, and once
/// the row is fixed the next deploy resumes and finishes.
#[test]
fn a_row_written_before_the_trigger_that_does_not_convert_stops_the_backfill() {
    let rows = 50_000;
    let Some((dir, prod)) = narrowing_planned("retype-gap", rows) else { return };
    let gap = rows - 1;
    prod.execute(&format!("DELETE FROM items WHERE id = {gap}"));
    let stopped = deploy_while_writing(&dir, &prod, rows, true);
    assert_ne!(stopped.code, 0, "{stopped:?}");
    assert!(
        stopped.stderr.contains(r#"invalid input syntax for type integer: "not-a-number""#),
        "{stopped:?}"
    );
    let row = format!("SELECT ref_haste_new IS NULL FROM items WHERE id = {gap}");
    assert_eq!(prod.value(&row).as_deref(), Some("t"), "nothing stored for the row");

    // Fixed by the application (the trigger converts the write), the next deploy resumes.
    prod.execute(&format!(
        "UPDATE items SET ref = CASE WHEN id % 3 = 0 THEN NULL ELSE id::text END WHERE id = {gap}"
    ));
    let resumed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert_eq!(same_schema(&dir, &prod, &narrowed()).code, 0);
    rows_unchanged(&prod, rows);
}

/// A column renamed (by a hint) and narrowed in the same migration: the check reads it by its
/// new name, after the rename, and refuses a row that does not fit.
#[test]
fn a_column_renamed_and_narrowed_in_one_migration_is_checked_by_its_new_name() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-rename");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, code text);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, 'c' || g FROM generate_series(1, 100) g; INSERT INTO t VALUES (101, 'much too long')");
    dir.write("schema.sql", "CREATE TABLE t (id integer PRIMARY KEY, label varchar(8));");
    let args = ["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--name", "label"];
    let run = haste(dir.path(), &[&args[..], &["--rename", "public.t.code=label"]].concat());
    assert_eq!(run.code, 0, "{run:?}");
    let failed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(failed.stderr.contains("1 row(s) of \"public\".\"t\".\"label\" do not convert"), "{failed:?}");
    prod.execute("DELETE FROM t WHERE id = 101");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    assert_eq!(prod.value("SELECT count(*) || ':' || max(label) FROM t").as_deref(), Some("100:c99"));
}

/// A `CHECK` that reads the column is carried, not a reason to rewrite in place: the desired
/// check, re-pointed at the new column, goes on `NOT VALID` in the expand (after the trigger,
/// so every write and the backfill are checked), is validated in the prepare and takes the old
/// check's name in the swap. Each case: haste's lint passes the files, one deploy over rows
/// reaches the desired schema, the check still refuses a violating write, and going back
/// restores the old type, check and rows. (`numeric(10,2)` to `numeric(12,2)` would not
/// rewrite the table at all: a scale change does.)
#[test]
fn a_check_on_the_column_is_carried_to_the_new_column() {
    let cases = [
        (
            "amount numeric(10,2) CHECK (amount >= 0)",
            "amount numeric(12,3)",
            "g * 1.25",
            "-1",
            "123456789.5",
            "sum(amount)::float8",
        ),
        (
            "code varchar(20) CHECK (code <> '')",
            "code varchar(10)",
            "'c' || g",
            "''",
            "'fits'",
            "sum(length(code))",
        ),
        ("n integer CHECK (n BETWEEN 0 AND 100)", "n bigint", "g % 101", "101", "100", "sum(n)"),
    ];
    for (column, retyped, value, violating, accepted, total) in cases {
        let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
        let dir = TempDir::new("retype-check");
        let v1 = format!("CREATE TABLE t (id integer PRIMARY KEY, {column});");
        let name = column.split(' ').next().unwrap();
        let old_type = column.split(' ').nth(1).unwrap();
        let v2 = v1.replace(&format!("{name} {old_type}"), retyped);
        assert_eq!(dev(&dir, &dev_db, &v1, "init").code, 0);
        let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
        assert_eq!(deploy().code, 0);
        prod.execute(&format!("INSERT INTO t SELECT g, {value} FROM generate_series(1, 2000) g"));
        let rows = format!("SELECT count(*) || ':' || {total} FROM t");
        let before = prod.value(&rows);

        let run = dev(&dir, &dev_db, &v2, "retype");
        assert_eq!(run.code, 0, "{run:?}");
        let created = folders(&dir);
        assert_eq!(created.len(), 4, "expand, prepare and swap: {run:?}");
        let read = |index: usize| fs::read_to_string(created[index].join("migration.sql")).unwrap();
        let (expand, prepare, swap) = (read(1), read(2), read(3));
        assert!(!expand.contains(" TYPE "), "nothing is changed in place:\n{expand}");
        let (trigger, check) = (expand.find("CREATE TRIGGER").unwrap(), expand.find("CHECK (").unwrap());
        assert!(trigger < check && expand.contains("NOT VALID"), "checked from the trigger on:\n{expand}");
        assert!(prepare.contains("VALIDATE CONSTRAINT"), "{prepare}");
        assert!(swap.contains("RENAME CONSTRAINT"), "{swap}");
        let lint = haste(dir.path(), &["lint", "--format", "json"]);
        assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");

        let applied = deploy();
        assert_eq!(applied.code, 0, "{applied:?}");
        assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "{column}: the desired schema");
        assert_eq!(prod.value(&rows), before, "{column}: every row kept its value");
        assert_eq!(
            prod.value("SELECT string_agg(conname || ':' || convalidated, ',') FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'c'")
                .as_deref(),
            Some(format!("t_{name}_check:true").as_str()),
            "the check keeps its name, validated"
        );
        still_refused(&prod, &[&format!("INSERT INTO t VALUES (0, {violating})")]);
        prod.execute(&format!("INSERT INTO t VALUES (0, {accepted})"));
        prod.execute("DELETE FROM t WHERE id = 0");

        let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
        assert_eq!(down.code, 0, "{down:?}");
        assert_eq!(same_schema(&dir, &prod, &v1).code, 0, "{column}: back to the old type and check");
        assert_eq!(prod.value(&rows), before, "{column}: every row back");
        still_refused(&prod, &[&format!("INSERT INTO t VALUES (0, {violating})")]);
    }
}

/// What a swap cannot carry stays in place, with the reason: an `EXCLUDE` on the column, and a
/// check that reads two columns whose types both change.
#[test]
fn an_exclusion_or_a_check_over_two_retyped_columns_is_changed_in_place() {
    let cases = [
        (
            "CREATE TABLE t (id integer PRIMARY KEY, n integer, EXCLUDE USING btree (n WITH =));",
            "an EXCLUDE constraint uses the column",
        ),
        (
            "CREATE TABLE t (id integer PRIMARY KEY, n integer, m integer, CHECK (n < m));",
            "uses two columns whose types change",
        ),
    ];
    for (v1, reason) in cases {
        let Some(db) = database() else { return };
        let dir = TempDir::new("retype-check-in-place");
        assert_eq!(dev(&dir, &db, v1, "init").code, 0);
        let v2 = v1.replace("n integer", "n bigint").replace("m integer", "m bigint");
        let run = dev(&dir, &db, &v2, "bigint");
        assert_eq!(run.code, 0, "{run:?}");
        let created = folders(&dir);
        assert_eq!(created.len(), 2, "{run:?}");
        let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
        assert!(text.contains(reason) && text.contains(" TYPE bigint"), "{text}");
        let lint = haste(dir.path(), &["lint"]);
        assert_eq!(lint.code, 0, "{lint:?}");
    }
}

/// A check written for the new type (`c >= 0` on an `integer`, which a `varchar` cannot hold)
/// goes on the new column only; the old column keeps its own check until the swap drops it.
#[test]
fn a_check_for_the_new_type_goes_on_the_new_column_only() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-new-check");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, c varchar(10) CHECK (c <> ''));";
    let v2 = "CREATE TABLE t (id integer PRIMARY KEY, c integer CONSTRAINT t_c_check CHECK (c >= 0));";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO t SELECT g, g::text FROM generate_series(1, 500) g");
    let run = dev(&dir, &dev_db, v2, "integer");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(folders(&dir).len(), 4, "expand, prepare and swap: {run:?}");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, v2).code, 0);
    assert_eq!(prod.value("SELECT sum(c) FROM t").as_deref(), Some("125250"));
    still_refused(&prod, &["INSERT INTO t VALUES (0, -1)"]);
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, v1).code, 0);
    still_refused(&prod, &["INSERT INTO t VALUES (0, '')"]);
}

/// A table whose replica identity is its primary key's index keeps it through the swap, which
/// recreates that key over the new column, and through the swap's revert.
#[test]
fn a_replica_identity_on_the_retyped_key_survives_the_swap_and_its_revert() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-identity");
    let v1 = "CREATE TABLE orders (id integer PRIMARY KEY, note text);
ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_pkey;";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 100) g");
    let identity = "SELECT c.relreplident::text || ':' || coalesce((SELECT i.indexrelid::regclass::text FROM pg_index i \
                    WHERE i.indrelid = c.oid AND i.indisreplident), '-') FROM pg_class c WHERE c.oid = 'orders'::regclass";

    let v2 = v1.replace("id integer", "id bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(prod.value(identity).as_deref(), Some("i:orders_pkey"));
    let down = haste(dir.path(), &["migrate", "down", "--steps", "3", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, v1).code, 0);
    assert_eq!(prod.value(identity).as_deref(), Some("i:orders_pkey"));
}

/// A generated column that another table's foreign key references (through its unique key) is
/// dropped and added again around the type change of the column it reads: the foreign key must
/// go before it and come back after it. Found by h-adv13b: the drop fails with 2BP01.
#[test]
fn a_generated_column_another_tables_key_references_is_regenerated_with_the_key() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-generated-fk");
    let v1 = "CREATE TABLE t (id serial PRIMARY KEY, qty integer NOT NULL,
  label text GENERATED ALWAYS AS ('q' || qty::text) STORED UNIQUE);
CREATE TABLE r (id serial PRIMARY KEY, label text REFERENCES t (label));";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute(
        "INSERT INTO t (qty) SELECT g FROM generate_series(1, 100) g;
         INSERT INTO r (label) SELECT 'q' || g FROM generate_series(1, 10) g;",
    );
    let v2 = v1.replace("qty integer", "qty bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema");
    assert_eq!(prod.value("SELECT count(*) FROM r JOIN t USING (label)").as_deref(), Some("10"));
    let validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'r_label_fkey'";
    assert_eq!(prod.value(validated).as_deref(), Some("t"), "added NOT VALID, then validated");
    still_refused(&prod, &["INSERT INTO r (label) VALUES ('q1000')"]);
    let text: String = folders(&dir)
        .iter()
        .map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap())
        .collect();
    assert!(
        text.contains(r#"ALTER TABLE "public"."r" ADD CONSTRAINT "r_label_fkey" FOREIGN KEY (label) REFERENCES t(label) NOT VALID"#)
            && text.contains(r#"ALTER TABLE "public"."r" VALIDATE CONSTRAINT "r_label_fkey""#),
        "{text}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");
}

/// The generated column's drop and add must share one transaction, as the migration's lint
/// reasons say, even when something else in the migration (a concurrent index on another table,
/// a check validated on its own) turns the file into `-- haste:transaction off`. Found by
/// h-adv13b: the file runs statement by statement, so a failure between the drop and the add
/// leaves the table without its generated column and the view dropped.
#[test]
fn a_generated_column_is_regenerated_in_one_transaction_beside_a_concurrent_index() {
    let (Some(dev_db), Some(_prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-generated-tx");
    let v1 = "CREATE TABLE t (id serial PRIMARY KEY, qty integer NOT NULL,
  doubled integer GENERATED ALWAYS AS (qty * 2) STORED);
CREATE TABLE other (id int PRIMARY KEY, x int);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let v2 = v1.replace("qty integer", "qty bigint") + "\nCREATE INDEX other_x ON other (x);";
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let with_drop = created
        .iter()
        .map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap())
        .find(|text| text.contains(r#"DROP COLUMN "doubled""#))
        .expect("a migration drops the generated column");
    assert!(
        !with_drop.contains("haste:transaction off"),
        "the drop and add of the generated column run statement by statement: {with_drop}"
    );
}

/// A `CHECK` added `NOT VALID` over rows it refuses, on a table whose column is retyped: the
/// backfill's `UPDATE` of every row would be checked against it and stop on those rows, so the
/// type change is made in place (which checks no unvalidated constraint), the reason written.
#[test]
fn a_not_valid_check_over_refused_rows_keeps_the_type_change_in_place() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-not-valid-check");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, qty integer NOT NULL, note text);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    prod.execute(
        "INSERT INTO t SELECT g, g, CASE WHEN g % 10 = 0 THEN 'bad' END FROM generate_series(1, 500) g",
    );
    let checked = format!("{v1}\nALTER TABLE t ADD CONSTRAINT t_note_check CHECK (note <> 'bad') NOT VALID;");
    assert_eq!(dev(&dir, &dev_db, &checked, "check").code, 0);
    assert_eq!(deploy(&prod).code, 0, "the check does not look at the rows already there");

    let v2 = checked.replace("qty integer", "qty bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 3, "one migration, no expand and swap: {run:?}");
    let text = fs::read_to_string(created[2].join("migration.sql")).unwrap();
    assert!(
        text.contains("a CHECK constraint NOT VALID on the table") && text.contains(" TYPE bigint"),
        "{text}"
    );
    let applied = deploy(&prod);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema, the check still NOT VALID");
    assert_eq!(prod.value("SELECT count(*) || ':' || sum(qty) FROM t").as_deref(), Some("500:125250"));
    assert_eq!(prod.value("SELECT count(*) FROM t WHERE note = 'bad'").as_deref(), Some("50"));
}

/// The regeneration's migration fails at the generated column's addition (its unique key no
/// longer holds once the values are computed again): being one transaction, it leaves the
/// table with its generated column and values, history without it, and the next deploy, once
/// the rows are fixed, applies it.
#[test]
fn a_regeneration_that_fails_at_the_add_leaves_the_generated_column_in_place() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-generated-fault");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, qty numeric(10,2) NOT NULL,
  label text GENERATED ALWAYS AS ('q' || qty::text) STORED UNIQUE);
CREATE TABLE other (id int PRIMARY KEY, x int);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = |db: &TestDb| haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy(&prod).code, 0);
    prod.execute("INSERT INTO t VALUES (1, 1.20), (2, 1.40), (3, 3)");
    let v2 = v1.replace("numeric(10,2)", "numeric(10,0)") + "\nCREATE INDEX other_x ON other (x);";
    let run = dev(&dir, &dev_db, &v2, "whole");
    assert_eq!(run.code, 0, "{run:?}");

    let failed = deploy(&prod);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(
        failed.stderr.contains("could not create unique index \"t_label_key\"")
            && failed.stderr.contains("nothing of it was applied or recorded"),
        "{failed:?}"
    );
    let labels =
        "SELECT string_agg(label, ',' ORDER BY id) || ' ' || (SELECT format_type(atttypid, atttypmod)
                  FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'qty') FROM t";
    assert_eq!(prod.value(labels).as_deref(), Some("q1.20,q1.40,q3.00 numeric(10,2)"), "as it was");
    let recorded = "SELECT count(*) FROM _haste_migrations WHERE name LIKE '%whole%'";
    assert_eq!(prod.value(recorded).as_deref(), Some("0"), "history holds none of it");
    let status = haste(dir.path(), &["migrate", "status", "--url", &prod.url]);
    assert!(status.stdout.contains("_whole"), "pending: {status:?}");

    prod.execute("DELETE FROM t WHERE id = 2");
    let applied = deploy(&prod);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema");
    assert_eq!(prod.value(labels).as_deref(), Some("q1,q3 numeric(10,0)"));
}

/// Reverting the swap brings the sync trigger back as the expand made it, firing also for
/// writes in replica mode: the model holds no trigger's firing mode, so the revert says it.
#[test]
fn the_swaps_revert_brings_the_sync_trigger_back_firing_always() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-revert-always");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, qty integer NOT NULL);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
    let run = dev(&dir, &dev_db, &v1.replace("qty integer", "qty bigint"), "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    let swap = folders(&dir).into_iter().last().unwrap();
    let revert = fs::read_to_string(swap.join("down.sql")).unwrap();
    // Once for the sync trigger of the way back, once for the one it gives back.
    assert_eq!(revert.matches("ENABLE ALWAYS TRIGGER").count(), 2, "each set once:\n{revert}");
    let down = haste(dir.path(), &["migrate", "down", "--steps", "1", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    let mode =
        "SELECT string_agg(tgname || ':' || tgenabled::text, ',') FROM pg_trigger WHERE NOT tgisinternal";
    assert_eq!(prod.value(mode).as_deref(), Some("haste_retype_t:A"));
    prod.execute("SET session_replication_role = replica; UPDATE t SET qty = 1000 WHERE id = 1");
    let copied = "SELECT qty_haste_new FROM t WHERE id = 1";
    assert_eq!(prod.value(copied).as_deref(), Some("1000"), "a write in replica mode is converted");
}

/// The table's file node, the type of each of its columns, and its rows, as `(node, columns,
/// rows)`: a rewrite changes the node.
fn contacts_state(db: &TestDb) -> (String, String, String) {
    let node = db.value("SELECT pg_relation_filenode('contacts')::text").unwrap();
    let columns = db
        .value(
            "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname)
               FROM pg_attribute WHERE attrelid = 'contacts'::regclass AND attnum > 0 AND NOT attisdropped",
        )
        .unwrap();
    let rows = db.value("SELECT string_agg(id || ':' || score, ',' ORDER BY id) FROM contacts").unwrap();
    (node, columns, rows)
}

/// A widened column with an index, deployed over 2,500 rows (more than a batch of the way
/// back): the folder and the database.
fn widened_over_rows() -> Option<(TempDir, TestDb)> {
    let (dev_db, prod) = (database()?, database()?);
    let dir = TempDir::new("retype-online-down");
    let v1 = "CREATE TABLE contacts (id serial PRIMARY KEY, score integer NOT NULL DEFAULT 0, name text);
CREATE INDEX contacts_score_idx ON contacts (score);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO contacts (score, name) SELECT g * 3, 'n' || g FROM generate_series(1, 2500) g");
    let run = dev(&dir, &dev_db, &v1.replace("score integer", "score bigint"), "widen");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    Some((dir, prod))
}

/// The swap's down.sql goes back to the state after the prepare without rewriting the table:
/// the table keeps its file node, the old column has its old type, name, values and index, the
/// new column of the new type is kept filled by the sync trigger again, with its validated
/// check and its index; the prepare's and expand's downs then give the first schema back, and
/// the type change deploys again, every row kept each way. Every file passes haste's lint.
#[test]
fn the_swaps_down_goes_back_without_rewriting_the_table_and_the_type_change_deploys_again() {
    let Some((dir, prod)) = widened_over_rows() else { return };
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let swap = folders(&dir).into_iter().last().unwrap();
    let revert = fs::read_to_string(swap.join("down.sql")).unwrap();
    assert!(!revert.contains(" TYPE integer"), "no type changed in place:\n{revert}");
    let (node, _, rows) = contacts_state(&prod);

    let down = haste(dir.path(), &["migrate", "down", "--steps", "1", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    let (after, columns, back) = contacts_state(&prod);
    assert_eq!(after, node, "the table was not rewritten");
    assert_eq!(columns, "id integer, name text, score integer, score_haste_new bigint");
    assert_eq!(back, rows);
    let copies = "SELECT count(*) FROM contacts WHERE score_haste_new IS DISTINCT FROM score";
    assert_eq!(prod.value(copies).as_deref(), Some("0"), "the new column is filled again");
    // An aggregate's `ORDER BY 1` orders by the constant 1: by name, or the catalog's order shows.
    let indexes = "SELECT string_agg(indexrelid::regclass::text || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'contacts'::regclass";
    assert_eq!(
        prod.value(indexes).as_deref(),
        Some("contacts_pkey:true,contacts_score_idx:true,contacts_score_idx_haste_new:true")
    );
    let on_score = "SELECT pg_get_indexdef('contacts_score_idx'::regclass) LIKE '%(score)'";
    assert_eq!(prod.value(on_score).as_deref(), Some("t"));
    let check = "SELECT convalidated FROM pg_constraint WHERE conname = 'score_haste_new_not_null'";
    assert_eq!(prod.value(check).as_deref(), Some("t"));
    prod.execute("INSERT INTO contacts (score, name) VALUES (7, 'after the down')");
    let synced = "SELECT score_haste_new FROM contacts WHERE name = 'after the down'";
    assert_eq!(prod.value(synced).as_deref(), Some("7"), "the sync trigger converts writes again");

    let (_, _, rows) = contacts_state(&prod);
    let rest = haste(dir.path(), &["migrate", "down", "--steps", "2", "--url", &prod.url]);
    assert_eq!(rest.code, 0, "{rest:?}");
    let (after, columns, back) = contacts_state(&prod);
    assert_eq!((after.as_str(), columns.as_str()), (node.as_str(), "id integer, name text, score integer"));
    assert_eq!(back, rows);
    let again = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(again.code, 0, "{again:?}");
    let (after, columns, back) = contacts_state(&prod);
    assert_eq!((after.as_str(), columns.as_str()), (node.as_str(), "id integer, name text, score bigint"));
    assert_eq!(back, rows);
}

/// A value the old type cannot hold (a `bigint` past 2^31 going back to `integer`) stops the
/// swap's down.sql at its first statement, naming the row's key: nothing of it is done, the
/// migration stays applied, and once the row fits, `migrate down` goes back.
#[test]
fn a_value_the_old_type_cannot_hold_stops_the_swaps_down_before_anything_changes() {
    let Some((dir, prod)) = widened_over_rows() else { return };
    prod.execute("UPDATE contacts SET score = 3000000000 WHERE id = 1207");
    let before = contacts_state(&prod);
    let down = haste(dir.path(), &["migrate", "down", "--steps", "1", "--url", &prod.url]);
    assert_ne!(down.code, 0, "{down:?}");
    let said = format!("{}{}", down.stdout, down.stderr);
    assert!(said.contains("id = 1207"), "names the row: {down:?}");
    assert!(said.contains("nothing of this down.sql was applied"), "{down:?}");
    assert!(said.contains("run migrate down again"), "{down:?}");
    assert_eq!(contacts_state(&prod), before, "nothing changed");
    let status = haste(dir.path(), &["migrate", "status", "--url", &prod.url]);
    assert_eq!(status.code, 0, "still applied: {status:?}");

    prod.execute("UPDATE contacts SET score = 12 WHERE id = 1207");
    let down = haste(dir.path(), &["migrate", "down", "--steps", "1", "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    let kept = "SELECT score || ' ' || score_haste_new FROM contacts WHERE id = 1207";
    assert_eq!(prod.value(kept).as_deref(), Some("12 12"));
}

/// A materialized view over the retyped column (PostgreSQL refuses the old column's drop under
/// it) is dropped by the swap and created again, populated, with its indexes: the table is not
/// rewritten, and a second database deployed from the folder has the view with its rows.
#[test]
fn a_materialized_view_over_the_column_is_created_again_populated_with_its_indexes() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-matview");
    let v1 = "CREATE TABLE contacts (id integer PRIMARY KEY, score integer NOT NULL);
CREATE MATERIALIZED VIEW top_scores AS SELECT id, score FROM contacts WHERE score > 10;
CREATE UNIQUE INDEX top_scores_id_idx ON top_scores (id);
CREATE INDEX top_scores_score_idx ON top_scores (score);";
    let init = dev(&dir, &dev_db, v1, "init");
    assert_eq!(init.code, 0, "{init:?}");
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute(
        "INSERT INTO contacts SELECT g, g FROM generate_series(1, 100) g; REFRESH MATERIALIZED VIEW top_scores;",
    );

    let v2 = v1.replace("score integer NOT NULL", "score bigint NOT NULL");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let swap = fs::read_to_string(created.last().unwrap().join("migration.sql")).unwrap();
    assert!(created.last().unwrap().to_string_lossy().ends_with("_bigint_swap"), "{created:?}");
    for wanted in [
        "DROP MATERIALIZED VIEW \"public\".\"top_scores\"",
        "CREATE MATERIALIZED VIEW \"public\".\"top_scores\" AS",
        "CREATE UNIQUE INDEX top_scores_id_idx ON public.top_scores",
        "created again and populated in this transaction",
    ] {
        assert!(swap.contains(wanted), "{wanted} in:\n{swap}");
    }
    let text: String =
        created[1..].iter().map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap()).collect();
    assert!(!text.contains(" TYPE "), "no statement changes a type in place:\n{text}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "haste's own migrations pass its lint: {lint:?}");

    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "the desired schema, in one deploy");
    assert_eq!(
        prod.value("SELECT count(*) || ':' || sum(score) || ':' || pg_typeof(min(score)) FROM top_scores")
            .as_deref(),
        Some("90:4995:bigint"),
        "populated, over the new column"
    );
    assert_eq!(
        prod.value("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'top_scores'")
            .as_deref(),
        Some("top_scores_id_idx,top_scores_score_idx")
    );
    prod.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY top_scores");
}

/// A statistics object the plan knows, over the retyped column, passes the swap's guard
/// against unknown dependants and is there again after the swap.
#[test]
fn a_planned_statistics_object_over_the_retyped_column_is_kept_through_the_swap() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-stats");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0);\nCREATE STATISTICS t_stats ON id, n FROM t;";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
    let run = dev(&dir, &dev_db, &v1.replace("n integer", "n bigint"), "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(
        prod.value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'n'").as_deref(),
        Some("bigint")
    );
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_statistic_ext WHERE stxname = 't_stats'").as_deref(),
        Some("1")
    );
}

/// The catalog checks haste writes into a type change's swap (`DO` blocks reading only the
/// system catalogs: dependents it was not planned with, publications naming the column) take no
/// table lock and are brief: `migrate plan` judges the generated migrations safe on an idle
/// database (a check calling `quote_ident` made every swap NOT SAFE NOW, exit 17).
#[test]
fn the_generated_swaps_catalog_checks_are_judged_brief_and_lock_free() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-plan");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
    assert_eq!(dev(&dir, &dev_db, &v1.replace("n integer", "n bigint"), "bigint").code, 0);
    let plan = haste(dir.path(), &["migrate", "plan", "--url", &prod.url, "--format", "json"]);
    let document: serde_json::Value =
        serde_json::from_str(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {plan:?}"));
    let mut checks = 0;
    for migration in document["migrations"].as_array().unwrap() {
        let text = fs::read_to_string(
            dir.path().join("migrations").join(migration["name"].as_str().unwrap()).join("migration.sql"),
        )
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for statement in migration["statements"].as_array().unwrap() {
            let line = statement["line"].as_u64().unwrap() as usize;
            if lines[line - 1].starts_with("DO ") {
                checks += 1;
                assert_eq!(
                    (&statement["lock"], &statement["work"]),
                    (&"NONE".into(), &"catalog".into()),
                    "{statement}"
                );
            }
        }
    }
    assert!(checks >= 1, "the swap has its checks: {plan:?}");
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// The migrations of `dir` up to the one whose name ends with `last` (and the lock file), in a
/// folder of their own: a deploy of it stops where a deploy stalled before the rest would.
pub(crate) fn migrations_up_to(dir: &TempDir, last: &str) -> String {
    let stage = dir.path().join("stage");
    fs::create_dir_all(&stage).unwrap();
    fs::copy(dir.path().join("migrations/migration_lock.toml"), stage.join("migration_lock.toml")).unwrap();
    for folder in folders(dir) {
        let target = stage.join(folder.file_name().unwrap());
        fs::create_dir_all(&target).unwrap();
        for file in fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
        if folder.to_string_lossy().ends_with(last) {
            break;
        }
    }
    stage.to_string_lossy().into_owned()
}

const STAMPED: &str = "CREATE TABLE contacts (
  id integer PRIMARY KEY,
  n integer NOT NULL DEFAULT 0,
  name text,
  updated_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE audit (id integer, updated_at text);
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE FUNCTION audited() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (NEW.id, NEW.updated_at::text); RETURN NULL; END $$;
CREATE TRIGGER audited AFTER UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION audited();";

/// A table whose own `BEFORE` trigger sets a column (`set_updated_at`) and whose `AFTER`
/// trigger audits updates, retyping that column or another one. The sync trigger fires after
/// the table's own (PostgreSQL fires them in name order; haste's used to fire first and copy
/// the value `set_updated_at` then replaced, so the swap brought back the row's previous
/// `updated_at`), and the backfill changes no value the application reads (it used to set
/// `updated_at = now()` on every row, for good when another column was retyped). The audit
/// trigger sees each backfilled row unchanged.
#[test]
fn the_sync_trigger_fires_after_the_tables_own_and_the_backfill_changes_no_value() {
    for (retyped, v2) in [
        ("updated_at", STAMPED.replace("updated_at timestamp", "updated_at timestamptz")),
        ("n", STAMPED.replace("n integer", "n bigint")),
    ] {
        let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
        let dir = TempDir::new("retype-stamped");
        assert_eq!(dev(&dir, &dev_db, STAMPED, "init").code, 0, "{retyped}");
        assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
        prod.execute(
            "INSERT INTO contacts SELECT g, g, 'n' || g, '2000-01-01' FROM generate_series(1, 500) g",
        );
        let run = dev(&dir, &dev_db, &v2, "retype");
        assert_eq!(run.code, 0, "{retyped}: {run:?}");
        let created = folders(&dir);
        let expand = created[1].file_name().unwrap().to_string_lossy().into_owned();
        let staged = migrations_up_to(&dir, &expand);
        let expanded = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--dir", &staged]);
        assert_eq!(expanded.code, 0, "{retyped}: {expanded:?}");
        let dated = "SELECT count(*) FROM contacts WHERE updated_at <> '2000-01-01'";
        assert_eq!(prod.value(dated).as_deref(), Some("0"), "{retyped}: the backfill dated no row");
        assert_eq!(
            prod.value("SELECT count(*) || ':' || count(*) FILTER (WHERE updated_at::timestamp <> '2000-01-01') FROM audit")
                .as_deref(),
            Some("500:0"),
            "{retyped}: the audit trigger saw every backfilled row unchanged"
        );
        // The application, between the expand and the swap.
        let written = prod
            .value("UPDATE contacts SET name = 'changed' WHERE id = 1 RETURNING updated_at::text")
            .unwrap();
        assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0, "{retyped}");
        assert_eq!(same_schema(&dir, &prod, &v2).code, 0, "{retyped}");
        assert_eq!(
            prod.value("SELECT name || ' ' || updated_at::timestamp FROM contacts WHERE id = 1"),
            prod.value(&format!("SELECT 'changed ' || '{written}'::timestamp")),
            "{retyped}: the application's update keeps the time its trigger set"
        );
        assert_eq!(
            prod.value(dated).as_deref(),
            Some("1"),
            "{retyped}: only the row the application updated"
        );
        assert_eq!(prod.value("SELECT sum(n) FROM contacts").as_deref(), Some("125250"), "{retyped}");
    }
}

/// A `BEFORE` trigger of the live table, added by hand (not in the schemas the plan was made
/// from) and named to fire after the sync trigger, stops the backfill at its first batch,
/// naming it, before any row is converted; renamed to fire first, the next deploy converts
/// every row and finishes.
#[test]
fn a_trigger_added_by_hand_that_would_fire_after_the_sync_trigger_stops_the_backfill() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-late-trigger");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute(
        "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;
         CREATE FUNCTION late() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.n := NEW.n + 1; RETURN NEW; END $$;
         CREATE TRIGGER zzzzzzzzzz_late BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION late();",
    );
    assert_eq!(dev(&dir, &dev_db, &v1.replace("n integer", "n bigint"), "bigint").code, 0);
    let failed = deploy();
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(
        failed.stderr.contains("fire after the type change's sync trigger haste_retype_t: zzzzzzzzzz_late"),
        "{failed:?}"
    );
    assert_eq!(prod.value("SELECT count(n_haste_new) FROM t").as_deref(), Some("0"), "no row converted");

    prod.execute("ALTER TRIGGER zzzzzzzzzz_late ON t RENAME TO a_late");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(prod.value("SELECT sum(n) FROM t").as_deref(), Some("55"), "the backfill changed no value");
    prod.execute("UPDATE t SET n = 100 WHERE id = 1");
    assert_eq!(
        prod.value("SELECT n FROM t WHERE id = 1").as_deref(),
        Some("101"),
        "the trigger's write kept"
    );
}

/// Triggers on the retyped column, by their `UPDATE OF` list or their `WHEN`: PostgreSQL
/// refuses to drop the column under them (the swap used to fail, 2BP01, with a hint saying
/// they were not in the schema). The swap drops them and creates them again on the new column,
/// with their firing mode and comment; they fire as before.
#[test]
fn triggers_on_the_retyped_column_are_carried_across_the_swap() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-triggers");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0, m integer, k integer);
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.m := coalesce(NEW.m, 0) + 1; RETURN NEW; END $$;
CREATE FUNCTION mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.k := 7; RETURN NEW; END $$;
CREATE TRIGGER t_of BEFORE UPDATE OF n ON t FOR EACH ROW EXECUTE FUNCTION bump();
CREATE TRIGGER t_when BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.n > 100) EXECUTE FUNCTION mark();
ALTER TABLE t ENABLE ALWAYS TRIGGER t_when;
COMMENT ON TRIGGER t_of ON t IS 'counts changes of n';";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO t (id, n) SELECT g, g FROM generate_series(1, 100) g");
    let v2 = v1.replace("n integer", "n bigint");
    let run = dev(&dir, &dev_db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let swap = folders(&dir).into_iter().find(|f| f.to_string_lossy().ends_with("_swap")).expect("a swap");
    let text = fs::read_to_string(swap.join("migration.sql")).unwrap();
    assert!(text.contains("DROP TRIGGER \"t_of\"") && text.contains("DROP TRIGGER \"t_when\""), "{text}");
    let applied = deploy();
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    prod.execute("UPDATE t SET n = 5000000000 WHERE id = 1; UPDATE t SET m = 0 WHERE id = 2");
    assert_eq!(
        prod.value("SELECT string_agg(id || ':' || n || ':' || coalesce(m, -1) || ':' || coalesce(k, -1), ',' ORDER BY id) FROM t WHERE id <= 2")
            .as_deref(),
        Some("1:5000000000:1:7,2:2:0:-1"),
        "t_of fires on n only, t_when on its condition"
    );
    assert_eq!(prod.value("SELECT tgenabled FROM pg_trigger WHERE tgname = 't_when'").as_deref(), Some("A"));
    prod.execute("UPDATE t SET n = 1 WHERE id = 1");
    let steps = (folders(&dir).len() - 1).to_string();
    let down = haste(dir.path(), &["migrate", "down", "--steps", &steps, "--url", &prod.url]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(same_schema(&dir, &prod, v1).code, 0, "the way back carries them too");
}

/// The race of a conversion that can fail: the application commits a row that does not convert
/// after the check's snapshot and before the expand's trigger exists (here: while the expand
/// waits for its lock behind the writer's transaction). The check cannot see it; the backfill,
/// which converts every row through the trigger, stops on it, naming its key, with nothing
/// stored for it. The way out the message gives works: the expand's `down.sql` and `resolve
/// --rolled-back` leave the table as it was, and once the row is fixed the deploy goes through.
#[test]
fn a_row_committed_while_the_expand_waits_stops_the_backfill_naming_its_key() {
    let rows = 1000;
    let Some((dir, prod)) = narrowing_planned("retype-race", rows) else { return };
    let writer = Session::connect(&prod.url);
    writer.execute(&format!(
        "SET lock_timeout = '10s'; SET statement_timeout = '60s'; SET idle_in_transaction_session_timeout = '60s';
         BEGIN; INSERT INTO items VALUES ({}, 1, 'c', 'not-a-number', 1.5)",
        rows + 1
    ));
    let deploy = command(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--lock-timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE NOT l.granted AND a.datname = current_database() AND l.relation = 'items'::regclass";
    wait_until(Duration::from_secs(60), || prod.value(waiting).as_deref() == Some("1"));
    writer.execute("COMMIT");
    let output = deploy.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!(r#"whose "id" = {} does not convert to integer ("ref")"#, rows + 1))
            && stderr.contains("invalid input syntax for type integer")
            && stderr.contains("resolve --rolled-back"),
        "{stderr}"
    );
    let expand = &folders(&dir)[1];
    let name = expand.file_name().unwrap().to_string_lossy().into_owned();
    prod.execute(&fs::read_to_string(expand.join("down.sql")).unwrap());
    let resolved = haste(dir.path(), &["migrate", "resolve", "--rolled-back", &name, "--url", &prod.url]);
    assert_eq!(resolved.code, 0, "{resolved:?}");
    assert_eq!(same_schema(&dir, &prod, ITEMS).code, 0, "the table is as it was");

    prod.execute(&format!("DELETE FROM items WHERE id = {}", rows + 1));
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &narrowed()).code, 0);
    rows_unchanged(&prod, rows);
}

/// The comment line above the line of `statement` in `text` (its lock and hazards).
fn annotation<'a>(text: &'a str, statement: &str) -> &'a str {
    let at = text.find(statement).unwrap_or_else(|| panic!("{statement} in:\n{text}"));
    let line = text[..at].rfind('\n').map_or(0, |end| end + 1);
    text[..line].trim_end().lines().last().unwrap_or_default()
}

/// A change of collation alone does not rewrite the table, but PostgreSQL builds every index on
/// the column again under ACCESS EXCLUSIVE: an indexed column goes through the expand and swap
/// (its index built concurrently on the new column), an unindexed one is changed in place with
/// no rewrite claimed, and one the swap cannot carry (an EXCLUDE constraint reads it) is changed
/// in place with its true cost said and allowed, so the files pass haste's own lint.
#[test]
fn a_collation_change_of_an_indexed_column_builds_its_index_concurrently() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-collation");
    let v1 = "CREATE TABLE contacts (id bigint PRIMARY KEY, name text, note text);
CREATE INDEX contacts_name_idx ON contacts (name);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO contacts SELECT g, 'n' || g, 'x' FROM generate_series(1, 500) g");
    let v2 =
        v1.replace("name text", "name text COLLATE \"C\"").replace("note text", "note text COLLATE \"C\"");
    let run = dev(&dir, &dev_db, &v2, "collate");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 4, "expand, prepare, swap: {run:?}");
    let text: String =
        created[1..].iter().map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap()).collect();
    assert!(
        !text.contains("ALTER COLUMN \"name\" TYPE"),
        "the indexed column is not changed in place:\n{text}"
    );
    assert!(text.contains("CREATE INDEX CONCURRENTLY"), "{text}");
    let note = annotation(&text, "ALTER COLUMN \"note\" TYPE text COLLATE \"C\"");
    assert_eq!(note, "-- lock: ACCESS EXCLUSIVE (blocks reads and writes)", "no rewrite claimed:\n{text}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value(
            "SELECT c.collname FROM pg_index i JOIN pg_collation c ON c.oid = i.indcollation[0]
             WHERE i.indexrelid = 'contacts_name_idx'::regclass"
        )
        .as_deref(),
        Some("C"),
        "the index orders by the new collation"
    );
    assert_eq!(prod.value("SELECT count(*) FROM contacts WHERE name = 'n' || id").as_deref(), Some("500"));

    // An EXCLUDE constraint reading the column: in place, with its cost said and allowed.
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-collation-in-place");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, name text, EXCLUDE USING btree (name WITH =));";
    assert_eq!(dev(&dir, &db, v1, "init").code, 0);
    let run = dev(&dir, &db, &v1.replace("name text", "name text COLLATE \"C\""), "collate");
    assert_eq!(run.code, 0, "{run:?}");
    let text = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(
        text.contains(
            "builds the column's indexes again under ACCESS EXCLUSIVE in place: an EXCLUDE constraint"
        ) && text.contains("haste:allow-file collation-change-reindex reason=")
            && !text.contains("rewrites the table"),
        "{text}"
    );
    let statement = "ALTER TABLE \"public\".\"t\" ALTER COLUMN \"name\" TYPE text COLLATE \"C\"";
    assert!(annotation(&text, statement).ends_with("builds an index"), "{text}");
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
}

/// An enum that loses or reorders labels is rebuilt through the expand and swap when it types
/// one column of a table that exists: a staging enum, a new column of it filled by the trigger
/// and data.sql, the swap dropping the old enum and renaming the staging one; never a
/// conversion in place under ACCESS EXCLUSIVE, so the files need no allow. A row holding a
/// removed label stops the deploy before anything is applied, naming it.
#[test]
fn an_enum_losing_a_label_is_rebuilt_through_the_expand_and_swap() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-enum");
    let v1 = "CREATE TYPE mood AS ENUM ('a', 'b', 'c');
CREATE TABLE contacts (id bigint PRIMARY KEY, m mood DEFAULT 'a', pad text);
CREATE INDEX contacts_m_idx ON contacts (m);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute(
        "INSERT INTO contacts SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'c' END::mood, 'x' FROM generate_series(1, 400) g;
         INSERT INTO contacts VALUES (401, 'b', 'x');",
    );
    let v2 = v1.replace("('a', 'b', 'c')", "('c', 'a')");
    dir.write("schema.sql", &v2);
    let args = ["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.sql", "--name", "drop_b"];
    let run = haste(dir.path(), &[&args[..], &["--accept-data-loss"]].concat());
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let text: String =
        created[1..].iter().map(|folder| fs::read_to_string(folder.join("migration.sql")).unwrap()).collect();
    assert!(
        !text.contains("ALTER COLUMN \"m\" TYPE") && !text.contains("haste:allow-file column-type-rewrite"),
        "no conversion in place:\n{text}"
    );
    assert!(
        text.contains("CREATE INDEX CONCURRENTLY") && text.contains("DROP TYPE \"public\".\"mood\""),
        "{text}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");

    let refused = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(
        refused.stderr.contains("1 row(s) of \"public\".\"contacts\".\"m\" do not convert")
            && refused.stderr.contains("id = 401"),
        "{refused:?}"
    );
    assert_eq!(
        prod.value("SELECT count(*) FROM pg_type WHERE typname = 'mood_new'").as_deref(),
        Some("0"),
        "nothing of the migration was applied"
    );
    prod.execute("DELETE FROM contacts WHERE m = 'b'");
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(same_schema(&dir, &prod, &v2).code, 0);
    assert_eq!(
        prod.value("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'mood'::regtype")
            .as_deref(),
        Some("c,a")
    );
    assert_eq!(
        prod.value(
            "SELECT count(*) FILTER (WHERE m = 'a') || ':' || count(*) FILTER (WHERE m = 'c') FROM contacts"
        )
        .as_deref(),
        Some("200:200"),
        "every row kept its label"
    );
    prod.execute("INSERT INTO contacts (id) VALUES (402)");
    assert_eq!(
        prod.value("SELECT m::text FROM contacts WHERE id = 402").as_deref(),
        Some("a"),
        "the default"
    );
}

/// A publication whose column list names the retyped column (added on the database by hand:
/// haste does not model publications) stops the swap with a message naming it and what to do,
/// before anything of the swap is applied.
#[test]
fn a_publication_column_list_naming_the_column_stops_the_swap_with_its_name() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("retype-publication");
    let v1 = "CREATE TABLE t (id integer PRIMARY KEY, qty integer, note text);";
    assert_eq!(dev(&dir, &dev_db, v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 50) g");
    let publication = format!("{}_feed", prod.name);
    prod.execute(&format!("CREATE PUBLICATION {publication} FOR TABLE t (id, qty)"));
    assert_eq!(dev(&dir, &dev_db, &v1.replace("qty integer", "qty bigint"), "bigint").code, 0);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!("the column list of publication {publication} names it"))
            && run.stderr.contains("ALTER PUBLICATION"),
        "{run:?}"
    );
    assert_eq!(prod.value("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'qty'").as_deref(), Some("integer"), "the swap did not run");
    prod.execute(&format!("DROP PUBLICATION {publication}"));
}
