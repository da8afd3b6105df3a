//! Property test: random pairs of schemas within the model (`haste_testkit::RandomSchema`, also
//! used by the CLI's `migrate dev` property test), and every plan between them validated on a
//! real server (applied to a database at `from`, it introspects as `to`; the diff after it is
//! empty). Odd cases plan the online forms and run statement by statement, as the runner does. `HASTE_DIFF_CASES` sets how many (default 300); the seed is
//! printed so a failure can be replayed with `HASTE_DIFF_SEED`.

use haste_driver::DatabaseUrl;
use haste_postgres::PgConnection;
use haste_schema::Schema;
use haste_testkit::{Random, RandomSchema, database, property_run};

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
    haste_testkit::ensure_roles(&at_from.url, &haste_testkit::GRANTEES);
    let mut random = Random::new(seed);
    for case in 0..cases {
        let (from, to) = RandomSchema::pair(&mut random);
        let (from_sql, to_sql) = (from.sql, to.sql);
        for db in [&at_from, &at_to] {
            db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        }
        at_from.execute(&from_sql);
        at_to.execute(&to_sql);
        let from = connect(&at_from.url).introspect().unwrap();
        let to = connect(&at_to.url).introspect().unwrap();
        let context =
            format!("-- from:\n{from_sql}\n-- to:\n{to_sql}\nreplay: HASTE_DIFF_SEED={seed}, case {case}");
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
        assert_eq!(
            in_name_order(after.clone()),
            in_name_order(to.clone()),
            "the plan does not reach `to`:\n{}\n{context}",
            sql.join("\n")
        );
        assert!(haste_diff::diff(&after, &to, &options).is_empty(), "{context}");
    }
}

/// `schema` with its views by name rather than in creation order: a plan recreates only the
/// views that read what changes, so the views it keeps were created before the ones it
/// recreates, whatever order `to` created them in.
fn in_name_order(mut schema: Schema) -> Schema {
    schema.views.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    schema
}
