//! Property test: random pairs of schemas within the model, and every plan between them
//! validated on a real server (applied to a database at `from`, it introspects as `to`; the
//! diff after it is empty). Odd cases plan the online forms and run statement by statement, as
//! the runner does. `HASTE_DIFF_CASES` sets how many (default 300); the seed is
//! printed so a failure can be replayed with `HASTE_DIFF_SEED`.

use haste_driver::DatabaseUrl;
use haste_postgres::PgConnection;
use haste_testkit::{Random, database, property_run};

/// Types grouped so that a change of type within a group has a cast.
const FAMILIES: &[&[(&str, &str)]] = &[
    &[("integer", "0"), ("bigint", "1"), ("numeric(10,2)", "2.5"), ("smallint", "3")],
    &[("text", "'x'"), ("character varying(20)", "'y'"), ("text COLLATE \"C\"", "'z'")],
    &[("boolean", "true")],
    &[("timestamp with time zone", "now()"), ("date", "CURRENT_DATE")],
    &[("jsonb", "'{}'::jsonb")],
    &[("uuid", "NULL")],
];
const LABELS: &[&str] = &["lead", "qualified", "proposal", "won", "lost"];

/// One random schema as SQL. `shape` seeds what stays comparable between the two sides (which
/// tables exist, column families), `variant` what changes.
fn schema_sql(shape: u64, variant: u64, target: bool) -> String {
    let mut stable = Random::new(shape);
    let mut random = Random::new(variant);
    let mut sql = String::new();
    // An enum whose labels usually grow from `from` to `to` (a longer prefix of a fixed list),
    // and sometimes lose one or change order, which needs a rebuild.
    let base = 2 + stable.next(3);
    let labels = if target { base + random.next(LABELS.len() - base + 1) } else { base };
    let mut chosen: Vec<&str> = LABELS[..labels].to_vec();
    if target && random.chance(25) {
        chosen.remove(random.next(chosen.len()));
    }
    if target && random.chance(25) {
        chosen.reverse();
    }
    let quoted: Vec<String> = chosen.iter().map(|l| format!("'{l}'")).collect();
    sql.push_str(&format!("CREATE TYPE stage AS ENUM ({});\n", quoted.join(", ")));
    let tables = 1 + stable.next(4);
    let mut keyed = Vec::new();
    for t in 0..tables {
        // Drawn before any random skip, so both sides agree on each column's family.
        let families: Vec<&[(&str, &str)]> =
            (0..1 + stable.next(5)).map(|_| FAMILIES[stable.next(FAMILIES.len())]).collect();
        if random.chance(15) {
            continue;
        }
        let mut columns = vec!["id integer PRIMARY KEY".to_owned()];
        let mut names = Vec::new();
        for (c, family) in families.into_iter().enumerate() {
            if random.chance(20) {
                continue;
            }
            let (kind, default) = family[random.next(family.len())];
            let mut column = format!("c{c} {kind}");
            if random.chance(30) && default != "NULL" {
                column.push_str(&format!(" DEFAULT {default}"));
            }
            if random.chance(30) {
                column.push_str(" NOT NULL");
            }
            columns.push(column);
            names.push(format!("c{c}"));
        }
        if random.chance(30) {
            columns.push("stage stage".into());
        }
        if let Some(&parent) = keyed.last()
            && random.chance(40)
        {
            columns.push(format!(
                "parent_id integer REFERENCES t{parent} (id){}",
                if random.chance(50) { " ON DELETE CASCADE" } else { "" }
            ));
        }
        sql.push_str(&format!("CREATE TABLE t{t} ({});\n", columns.join(", ")));
        keyed.push(t);
        if let Some(name) = names.first() {
            if random.chance(40) {
                sql.push_str(&format!(
                    "CREATE INDEX t{t}_{name}_idx ON t{t} ({name}){};\n",
                    if random.chance(50) { " WHERE id > 0" } else { "" }
                ));
            }
            if random.chance(25) {
                sql.push_str(&format!(
                    "ALTER TABLE t{t} ADD CONSTRAINT t{t}_id_check CHECK (id > {});\n",
                    random.next(3)
                ));
            }
            if random.chance(30) {
                sql.push_str(&format!("CREATE VIEW v{t} AS SELECT id, {name} FROM t{t};\n"));
            }
        }
    }
    sql
}

fn connect(url: &str) -> PgConnection {
    PgConnection::connect(&DatabaseUrl::parse(url).unwrap(), "haste/test", "test").unwrap()
}

#[test]
fn random_plans_turn_one_schema_into_the_other() {
    if database().is_none() {
        return;
    }
    let (cases, seed) = property_run("random plans", "HASTE_DIFF_CASES", 300, "HASTE_DIFF_SEED");
    let (at_from, at_to) = (database().unwrap(), database().unwrap());
    let mut random = Random::new(seed);
    for case in 0..cases {
        let shape = random.next(usize::MAX) as u64;
        let from_sql = schema_sql(shape, random.next(usize::MAX) as u64, false);
        let to_sql = schema_sql(shape, random.next(usize::MAX) as u64, true);
        for db in [&at_from, &at_to] {
            db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        }
        at_from.execute(&from_sql);
        at_to.execute(&to_sql);
        let from = connect(&at_from.url).introspect().unwrap();
        let to = connect(&at_to.url).introspect().unwrap();
        let context = format!("seed {seed}, case {case}\n-- from:\n{from_sql}\n-- to:\n{to_sql}");
        let options = haste_diff::Options { online: case % 2 == 1 };
        let plan = haste_diff::diff(&from, &to, &options);
        let sql: Vec<String> = plan.steps.iter().map(|step| format!("{};", step.sql)).collect();
        let applied = if options.online {
            sql.iter().try_for_each(|statement| at_from.try_execute(statement))
        } else {
            at_from.try_execute(&sql.join("\n"))
        };
        if let Err(error) = applied {
            panic!("the plan does not apply ({options:?}): {error}\n{}\n{context}", sql.join("\n"));
        }
        let after = connect(&at_from.url).introspect().unwrap();
        assert_eq!(after, to, "the plan does not reach `to`:\n{}\n{context}", sql.join("\n"));
        assert!(haste_diff::diff(&after, &to, &options).is_empty(), "{context}");
    }
}
