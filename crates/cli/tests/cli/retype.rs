//! Type changes that would rewrite a table (`int` to `bigint`): `migrate dev` plans them as
//! expand, prepare and swap migrations that one deploy applies, without rewriting the table
//! under an ACCESS EXCLUSIVE lock, keeping every row, key, index, default and view.

use std::fs;

use haste_testkit::{TempDir, TestDb, database};

use crate::{Run, haste, migration_folders as folders};

fn dev(dir: &TempDir, db: &TestDb, desired: &str, name: &str) -> Run {
    dir.write("schema.sql", desired);
    haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
}

use crate::dev::matches as same_schema;

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
    for refused in [
        "INSERT INTO contacts (workspace_id, name) VALUES (3, 'no such workspace')",
        "INSERT INTO contacts (id, workspace_id, name) VALUES (1, 1, 'duplicate key')",
        "INSERT INTO contacts (workspace_id, name) VALUES (2, 'after')",
        "INSERT INTO contacts (workspace_id, score, name) VALUES (1, NULL, 'null score')",
    ] {
        assert!(prod.try_execute(refused).is_err(), "still refused after the swap: {refused}");
    }
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

/// A change the swap cannot carry (a key other tables reference, a conversion that can fail)
/// is made in place, and the migration says why (and allows the lint rule it breaks).
#[test]
fn a_referenced_key_is_changed_in_place_with_the_reason_written() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("retype-in-place");
    let v1 = "CREATE TABLE a (id integer PRIMARY KEY);
CREATE TABLE b (id bigint PRIMARY KEY, a_id integer REFERENCES a (id), code text);";
    assert_eq!(dev(&dir, &db, v1, "init").code, 0);
    let v2 =
        v1.replace("id integer PRIMARY KEY", "id bigint PRIMARY KEY").replace("code text", "code integer");
    let run = dev(&dir, &db, &v2, "bigint");
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    assert_eq!(created.len(), 2, "{run:?}");
    let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
    assert!(
        text.contains("foreign keys of other tables reference the column") && text.contains(" TYPE bigint"),
        "{text}"
    );
    // The rewrite is known and said: haste's own lint passes the file.
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
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

/// A policy or a trigger's `WHEN` that reads the column would stop the swap's `DROP COLUMN`:
/// the change is made in place with the reason, where `migrate dev` used to fail.
#[test]
fn a_column_read_by_a_policy_or_a_trigger_condition_is_changed_in_place() {
    for (reader, v1, reason) in [
        (
            "policy",
            "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON t USING (n > 0);",
            "a row-level security policy reads the column",
        ),
        (
            "trigger",
            "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL);
CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.n > 0) EXECUTE FUNCTION tf();",
            "a trigger's WHEN condition or column list reads the column",
        ),
    ] {
        let Some(db) = database() else { return };
        let dir = TempDir::new("retype-readers");
        assert_eq!(dev(&dir, &db, v1, "init").code, 0, "{reader}");
        let run = dev(&dir, &db, &v1.replace("n integer NOT NULL", "n bigint NOT NULL"), "bigint");
        assert_eq!(run.code, 0, "{reader}: {run:?}");
        let created = folders(&dir);
        assert_eq!(created.len(), 2, "{reader}: {run:?}");
        let text = fs::read_to_string(created[1].join("migration.sql")).unwrap();
        assert!(text.contains(reason) && text.contains(" TYPE bigint"), "{reader}: {text}");
        assert_eq!(db.value("SELECT format_type(atttypid, -1) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'n'").as_deref(), Some("bigint"));
    }
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
