//! What the schema engine must neither lose nor get wrong, on a real server: view options,
//! identities and sequence options changed in place with the rows kept, trigger firing, and a
//! reading role's search path. Each case is read from the catalog, dumped and replayed on an
//! empty database, and planned from another schema, applied and compared again.

use haste_driver::{Connection, DatabaseUrl, Executor};
use haste_postgres::PgConnection;
use haste_schema::{Schema, StorageParameter, TriggerFiring};
use haste_testkit::{TestDb, database};

fn connect(url: &str) -> PgConnection {
    PgConnection::connect(&DatabaseUrl::parse(url).unwrap(), "haste/test", "test").unwrap()
}

fn introspect(db: &TestDb) -> Schema {
    connect(&db.url).introspect().unwrap()
}

/// The schema of a database holding `sql`.
fn schema_of(sql: &str) -> Schema {
    let db = database().unwrap();
    db.execute(sql);
    introspect(&db)
}

/// `schema`'s dump replayed on an empty database, read back: it must be `schema` again.
fn dump_round_trips(schema: &Schema) {
    let db = database().unwrap();
    let ddl = schema.to_ddl().join(";\n");
    db.try_execute(&ddl).unwrap_or_else(|error| panic!("{error}\n{ddl}"));
    let replayed = introspect(&db);
    assert_eq!(&replayed, schema, "{ddl}");
}

/// Plans `from` (holding `rows`) to `to`, plain and online, and applies the plan: the database
/// must then read as `to` (the whole model, not only what the comparison looks at), and `check`
/// must hold on it. Returns the statements of the plain plan.
fn plan_applies(from: &str, rows: &str, to: &str, check: impl Fn(&TestDb)) -> Vec<String> {
    let desired = schema_of(to);
    let mut statements = Vec::new();
    for online in [false, true] {
        let db = database().unwrap();
        db.execute(from);
        db.execute(rows);
        let options = haste_diff::Options { online };
        let plan = haste_diff::diff(&introspect(&db), &desired, &options);
        for step in &plan.steps {
            if let Err(error) = db.try_execute(&step.sql) {
                panic!("{error}\nin `{}` (online: {online})", step.sql);
            }
        }
        let sql: Vec<String> = plan.steps.into_iter().map(|step| step.sql).collect();
        assert_eq!(introspect(&db), desired, "online: {online}\n{}", sql.join(";\n"));
        check(&db);
        if !online {
            statements = sql;
        }
    }
    statements
}

fn option(name: &str, value: &str) -> StorageParameter {
    StorageParameter { name: name.into(), value: value.into() }
}

const TABLE: &str = "CREATE TABLE accounts (id int, owner text);";

#[test]
fn view_options_are_read_dumped_and_changed_in_place() {
    if database().is_none() {
        return;
    }
    let plain =
        format!("{TABLE} CREATE VIEW mine AS SELECT id, owner FROM accounts WHERE owner = current_user;");
    let guarded = format!(
        "{TABLE} CREATE VIEW mine WITH (security_barrier, security_invoker = true) AS
           SELECT id, owner FROM accounts WHERE owner = current_user WITH LOCAL CHECK OPTION;"
    );
    let cascaded = format!(
        "{TABLE} CREATE VIEW mine WITH (security_barrier = false) AS
           SELECT id, owner FROM accounts WHERE owner = current_user WITH CASCADED CHECK OPTION;"
    );
    let schema = schema_of(&guarded);
    assert_eq!(
        schema.views[0].options,
        [
            option("check_option", "local"),
            option("security_barrier", "true"),
            option("security_invoker", "true")
        ]
    );
    dump_round_trips(&schema);
    dump_round_trips(&schema_of(&cascaded));
    for (from, to) in [(&plain, &guarded), (&guarded, &cascaded), (&cascaded, &plain)] {
        let statements = plan_applies(from, "", to, |_| {});
        assert!(
            statements.iter().all(|s| s.starts_with("ALTER VIEW ")),
            "options change in place, the view stays: {statements:#?}"
        );
    }
}

/// `id` with values and a row numbered by hand, made an identity: the rows stay, and the next
/// number the identity gives comes after them.
#[test]
fn an_identity_added_keeps_the_rows_and_numbers_after_them() {
    if database().is_none() {
        return;
    }
    let rows = "INSERT INTO accounts (id, owner) VALUES (1, 'a'), (7, 'b'), (3, 'c');";
    let keeps_rows = |db: &TestDb| {
        assert_eq!(
            db.value("SELECT string_agg(id || owner, ',' ORDER BY id) FROM accounts").unwrap(),
            "1a,3c,7b"
        );
    };
    let statements = plan_applies(
        "CREATE TABLE accounts (id int NOT NULL, owner text);",
        rows,
        "CREATE TABLE accounts (id int GENERATED ALWAYS AS IDENTITY, owner text);",
        |db| {
            keeps_rows(db);
            db.execute("INSERT INTO accounts (owner) VALUES ('d')");
            assert_eq!(db.value("SELECT id FROM accounts WHERE owner = 'd'").unwrap(), "8");
        },
    );
    assert!(statements.iter().all(|s| !s.contains("DROP COLUMN")), "{statements:#?}");
    // A serial column made an identity: its default goes first; and back.
    let serial = "CREATE TABLE accounts (id serial, owner text);";
    let by_default = "CREATE TABLE accounts (id int GENERATED BY DEFAULT AS IDENTITY, owner text);";
    let numbers_after = |db: &TestDb| {
        keeps_rows(db);
        db.execute("INSERT INTO accounts (owner) VALUES ('d')");
        assert_eq!(db.value("SELECT id FROM accounts WHERE owner = 'd'").unwrap(), "8");
    };
    for (from, to) in [(serial, by_default), (by_default, serial)] {
        let statements = plan_applies(from, rows, to, numbers_after);
        assert!(statements.iter().all(|s| !s.contains("DROP COLUMN")), "{from} -> {to}: {statements:#?}");
    }
    let statements = plan_applies(by_default, rows, TABLE, keeps_rows);
    assert!(statements.iter().all(|s| !s.contains("DROP COLUMN")), "{statements:#?}");
    let always = "CREATE TABLE accounts (id int GENERATED ALWAYS AS IDENTITY, owner text);";
    let statements = plan_applies(
        always,
        &rows.replace("VALUES", "OVERRIDING SYSTEM VALUE VALUES"),
        by_default,
        keeps_rows,
    );
    assert_eq!(
        statements,
        ["ALTER TABLE \"public\".\"accounts\" ALTER COLUMN \"id\" SET GENERATED BY DEFAULT"]
    );
}

/// Identity and sequence options: read, dumped, and changed in place.
#[test]
fn sequence_options_are_dumped_and_changed_in_place() {
    if database().is_none() {
        return;
    }
    let identity = |options: &str| {
        format!("CREATE TABLE accounts (id bigint GENERATED BY DEFAULT AS IDENTITY {options}, owner text);")
    };
    let custom = identity("(START WITH 100 INCREMENT BY 10 MAXVALUE 100000 CACHE 5 CYCLE)");
    dump_round_trips(&schema_of(&custom));
    let rows = "INSERT INTO accounts (owner) VALUES ('a'), ('b');";
    let narrow = "CREATE TABLE accounts (id int GENERATED BY DEFAULT AS IDENTITY, owner text);".to_owned();
    for (from, to) in [
        (identity(""), custom.clone()),
        (custom.clone(), identity("(INCREMENT BY 2)")),
        (narrow, custom.clone()),
    ] {
        let statements = plan_applies(&from, rows, &to, |db| {
            assert_eq!(db.value("SELECT count(*) FROM accounts").unwrap(), "2");
        });
        assert!(statements.iter().all(|s| !s.contains("DROP")), "{statements:#?}");
    }
    // A sequence of its own: options, type, and the column that owns it.
    let alone = format!("{TABLE} CREATE SEQUENCE numbers;");
    let owned = format!(
        "{TABLE} CREATE SEQUENCE numbers AS integer INCREMENT BY 5 MAXVALUE 1000 CYCLE OWNED BY accounts.id;"
    );
    dump_round_trips(&schema_of(&owned));
    for (from, to) in [(&alone, &owned), (&owned, &alone)] {
        let statements = plan_applies(from, "", to, |_| {});
        assert!(statements.iter().all(|s| s.starts_with("ALTER SEQUENCE ")), "{statements:#?}");
    }
}

#[test]
fn trigger_firing_is_read_dumped_and_changed_in_place() {
    if database().is_none() {
        return;
    }
    let with = |firing: &str| {
        format!(
            "{TABLE} CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER stamp BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION stamp(); {firing}"
        )
    };
    let enabled = with("");
    let disabled = with("ALTER TABLE accounts DISABLE TRIGGER stamp;");
    let replica = with("ALTER TABLE accounts ENABLE REPLICA TRIGGER stamp;");
    let always = with("ALTER TABLE accounts ENABLE ALWAYS TRIGGER stamp;");
    for (sql, firing) in [
        (&enabled, TriggerFiring::Origin),
        (&disabled, TriggerFiring::Disabled),
        (&replica, TriggerFiring::Replica),
        (&always, TriggerFiring::Always),
    ] {
        let schema = schema_of(sql);
        assert_eq!(schema.triggers[0].firing, firing);
        dump_round_trips(&schema);
    }
    for (from, to) in [(&enabled, &disabled), (&disabled, &replica), (&replica, &always), (&always, &enabled)]
    {
        let statements = plan_applies(from, "", to, |_| {});
        assert_eq!(statements.len(), 1, "{statements:#?}");
        assert!(statements[0].contains(" TRIGGER \"stamp\""), "{statements:#?}");
    }
}

/// A role whose search path shows `app` first: what it reads still names `app`, so the dump
/// replayed on a database where the path is the default lands in `app` again; and the
/// connection gets its own search path back.
#[test]
fn introspection_names_schemas_whatever_the_search_path() {
    let Some(db) = database() else { return };
    db.execute(
        "CREATE SCHEMA app;
         CREATE FUNCTION app.normalized(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
         CREATE TYPE app.tier AS ENUM ('free', 'paid');
         CREATE TABLE app.users (email text DEFAULT app.normalized('X'), tier app.tier, CHECK (app.normalized(email) <> ''));
         CREATE INDEX users_email ON app.users (app.normalized(email));
         CREATE VIEW app.emails AS SELECT app.normalized(email) AS email FROM app.users;",
    );
    let plain = introspect(&db);
    db.execute(&format!("ALTER ROLE CURRENT_USER IN DATABASE \"{}\" SET search_path = app, public", db.name));
    let mut connection = connect(&db.url);
    let path =
        |connection: &mut PgConnection| connection.query_rows("SHOW search_path").unwrap()[0][0].clone();
    assert_eq!(path(&mut connection).as_deref(), Some("app, public"));
    let read = connection.introspect().unwrap();
    assert_eq!(path(&mut connection).as_deref(), Some("app, public"), "the search path comes back");
    assert_eq!(read, plain);
    let users = &read.tables[0];
    assert_eq!(users.columns[0].default.as_deref(), Some("app.normalized('X'::text)"));
    assert_eq!(users.columns[1].data_type, "app.tier");
    assert!(read.indexes[0].definition.contains("app.normalized(email)"), "{:?}", read.indexes[0]);
    assert!(read.views[0].definition.contains("app.normalized"), "{:?}", read.views[0]);
    dump_round_trips(&read);
}

/// A generated column whose expression changes is dropped and added again: everything on it
/// comes back (its index, check, statistics objects, comment and column grant), and its values
/// are computed anew.
#[test]
fn a_column_added_again_gets_back_everything_on_it() {
    let Some(db) = database() else { return };
    haste_testkit::ensure_roles(&db.url, &haste_testkit::GRANTEES);
    let with = |expression: &str| {
        format!(
            "CREATE TABLE deals (id int, price int,
               total int GENERATED ALWAYS AS ({expression}) STORED CHECK (total >= 0));
             CREATE INDEX deals_total ON deals (total);
             CREATE STATISTICS deals_price_total ON price, total FROM deals;
             CREATE STATISTICS deals_all ON id, price, total FROM deals;
             COMMENT ON COLUMN deals.total IS 'what it costs';
             GRANT SELECT (total) ON deals TO haste_reader;"
        )
    };
    plan_applies(
        &with("price * 2"),
        "INSERT INTO deals (id, price) VALUES (1, 10);",
        &with("price * 3"),
        |db| {
            assert_eq!(db.value("SELECT total FROM deals").unwrap(), "30");
        },
    );
}

/// A function whose result type or argument names change: `CREATE OR REPLACE` refuses both, so
/// it is dropped and created, and the view that calls it (whose text does not change) with it;
/// its grants come back (PUBLIC would otherwise get `EXECUTE` again).
#[test]
fn a_function_whose_result_or_argument_names_change_is_created_again() {
    let Some(db) = database() else { return };
    haste_testkit::ensure_roles(&db.url, &haste_testkit::GRANTEES);
    let view = "CREATE VIEW totals AS SELECT total(1) AS one;
        REVOKE EXECUTE ON FUNCTION total(int) FROM PUBLIC; GRANT EXECUTE ON FUNCTION total(int) TO haste_reader;";
    let narrow = format!("CREATE FUNCTION total(n int) RETURNS int LANGUAGE sql AS 'SELECT n'; {view}");
    let wide =
        format!("CREATE FUNCTION total(n int) RETURNS bigint LANGUAGE sql AS 'SELECT n::bigint'; {view}");
    let renamed = format!(
        "CREATE FUNCTION total(amount int) RETURNS bigint LANGUAGE sql AS 'SELECT amount::bigint'; {view}"
    );
    for (from, to) in [(&narrow, &wide), (&wide, &renamed)] {
        let statements = plan_applies(from, "", to, |_| {});
        assert!(
            statements[0].starts_with("DROP VIEW") && statements[1].starts_with("DROP ROUTINE"),
            "{statements:#?}"
        );
    }
}

/// The index query runs on a second session beside the reading one, except inside a transaction
/// block, whose own changes no other session sees: an index created in it is read, and the
/// same index committed is read outside one.
#[test]
fn indexes_a_transaction_created_are_read_inside_it() {
    let Some(db) = database() else { return };
    db.execute("CREATE TABLE t (a int)");
    let names = |schema: &Schema| schema.indexes.iter().map(|index| index.name.clone()).collect::<Vec<_>>();
    let mut connection = connect(&db.url);
    connection.execute("BEGIN").unwrap();
    connection.execute("CREATE INDEX t_a ON t (a)").unwrap();
    let read = connection.introspect();
    connection.execute("ROLLBACK").unwrap();
    assert_eq!(names(&read.unwrap()), ["t_a"]);
    db.execute("CREATE INDEX t_a ON t (a)");
    assert_eq!(names(&introspect(&db)), ["t_a"]);
}

/// Plans `from` to `to` on a server: [`haste_diff::rebuild_refused`] must refuse it naming each
/// of `named`, and the plan must indeed fail there (the refusal stands for a real failure, said
/// before anything runs).
fn refused_where_it_would_fail(from: &str, to: &str, named: &[&str]) {
    let desired = schema_of(to);
    let db = database().unwrap();
    db.execute(from);
    let current = introspect(&db);
    let reason = haste_diff::rebuild_refused(&current, &desired)
        .unwrap_or_else(|| panic!("not refused:\n{from}\n->\n{to}"));
    for name in named {
        assert!(reason.contains(name), "{name} not in: {reason}");
    }
    let plan = haste_diff::diff(&current, &desired, &haste_diff::Options::default());
    let sql: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
    let applied = sql.iter().try_for_each(|statement| db.try_execute(statement).map(|_| ()));
    assert!(applied.is_err(), "the plan applies, so the refusal is wrong:\n{}", sql.join(";\n"));
}

/// A composite type whose attribute changes type while a table stores it: PostgreSQL refuses
/// `ALTER ATTRIBUTE ... TYPE` then, so the type is rebuilt (attributes dropped and added in
/// place, a staging type with the new attributes, the columns and arrays converted to it through
/// text, the old type dropped and the new one renamed), the rows and the view reading it kept;
/// so is one a view names. Without either, it is still altered in place.
#[test]
fn a_composite_type_a_table_stores_is_rebuilt_when_an_attribute_changes_type() {
    if database().is_none() {
        return;
    }
    let schema = |attributes: &str| {
        format!(
            "CREATE TYPE comp AS ({attributes});
             CREATE TABLE tc (id int PRIMARY KEY, v comp, w comp[]);
             CREATE VIEW firsts AS SELECT id, (v).a FROM tc;"
        )
    };
    let rows = "INSERT INTO tc VALUES (1, ROW(5, 'x', 3), ARRAY[ROW(6, 'y', 1)::comp]), (2, NULL, NULL)";
    let statements =
        plan_applies(&schema("a int, b text, c int"), rows, &schema("a bigint, b text, d int"), |db| {
            assert_eq!(
                db.value(
                    "SELECT string_agg(format('%s %s %s', v, w, pg_typeof((v).a)), '; ' ORDER BY id) FROM tc"
                )
                .as_deref(),
                Some("(5,x,) {\"(6,y,)\"} bigint;   bigint")
            );
            assert_eq!(db.value("SELECT a FROM firsts WHERE id = 1").as_deref(), Some("5"));
        });
    assert!(
        statements
            .iter()
            .any(|s| s == r#"CREATE TYPE "public"."comp_new" AS ("a" bigint, "b" text, "d" integer)"#)
            && statements.iter().any(|s| s == r#"DROP TYPE "public"."comp""#)
            && !statements.iter().any(|s| s.contains("ALTER ATTRIBUTE")),
        "{statements:#?}"
    );
    let unused = |attributes: &str| format!("CREATE TYPE comp AS ({attributes});");
    let statements = plan_applies(&unused("a int, b text"), "", &unused("a bigint, b text"), |_| {});
    assert_eq!(statements, [r#"ALTER TYPE "public"."comp" ALTER ATTRIBUTE "a" TYPE bigint"#]);
    // A view naming the type holds it too (PostgreSQL refuses to retype an attribute its rule
    // reads): rebuilt, the view recreated around it.
    let viewed = |attributes: &str| {
        format!("CREATE TYPE comp AS ({attributes}); CREATE VIEW v AS SELECT (row(1, 'x')::comp).a;")
    };
    let statements = plan_applies(&viewed("a int, b text"), "", &viewed("a bigint, b text"), |db| {
        assert_eq!(db.value("SELECT pg_typeof(a)::text FROM v").as_deref(), Some("bigint"));
    });
    assert!(!statements.iter().any(|s| s.contains("ALTER ATTRIBUTE")), "{statements:#?}");
    // So is one that loses or reorders attributes under a view (dropping the attribute, or the
    // type, would be refused while the view reads it); one that only gains them stays in place.
    let read = |attributes: &str| {
        format!("CREATE TYPE comp AS ({attributes}); CREATE VIEW v AS SELECT (NULL::comp).b AS b, 1 AS one;")
    };
    for (before, after) in [("a int, b text, z int", "a int, b text"), ("a int, b text", "b text, a int")] {
        let statements = plan_applies(&read(before), "", &read(after), |db| {
            assert_eq!(db.value("SELECT one FROM v").as_deref(), Some("1"));
        });
        assert!(statements.iter().any(|s| s.starts_with("DROP VIEW")), "{statements:#?}");
    }
    let statements = plan_applies(&read("a int, b text"), "", &read("a int, b text, c int"), |_| {});
    assert_eq!(statements, [r#"ALTER TYPE "public"."comp" ADD ATTRIBUTE "c" integer"#]);
}

/// What a composite type rebuild cannot take along is refused: a domain over the type, a type
/// whose attributes reorder (it would be dropped) while a table stores it, a function taking it
/// or a default casting to it while a view's hold makes it rebuilt.
#[test]
fn composite_type_changes_that_cannot_apply_are_refused() {
    if database().is_none() {
        return;
    }
    let over = |a: &str| {
        format!(
            "CREATE TYPE comp AS (a {a}, b text); CREATE DOMAIN dcomp AS comp; CREATE TABLE t (v comp, w dcomp);"
        )
    };
    refused_where_it_would_fail(&over("int"), &over("bigint"), &["type public.comp", "domain public.dcomp"]);
    let stored = |attributes: &str| format!("CREATE TYPE comp AS ({attributes}); CREATE TABLE t (v comp);");
    refused_where_it_would_fail(&stored("a int, b text"), &stored("b text, a int"), &["column public.t.v"]);
    // Rebuilt under a view that names it, it is dropped: a function taking it, or a default
    // casting to it, would hold it.
    let viewed = |a: &str, user: &str| {
        format!("CREATE TYPE comp AS (a {a}, b text); CREATE VIEW v AS SELECT (NULL::comp).a; {user}")
    };
    let function = "CREATE FUNCTION first_of(c comp) RETURNS text LANGUAGE sql AS 'SELECT c.b';";
    refused_where_it_would_fail(
        &viewed("int", function),
        &viewed("bigint", function),
        &["type public.comp", "first_of"],
    );
    let default = "CREATE TABLE d (x text DEFAULT (ROW(1, 'x')::comp).b);";
    refused_where_it_would_fail(
        &viewed("int", default),
        &viewed("bigint", default),
        &["type public.comp", "public.d"],
    );
}

/// A function dropped to be created again (its result changes) while a table's default, check
/// and policy call it: they are taken out of the way first and put back once it exists, the rows
/// kept. An index or generated column calling it (they would be built or computed again), or a
/// function dropped for another signature while a kept default calls it, is refused naming them:
/// PostgreSQL would refuse the drop.
#[test]
fn a_function_dropped_under_table_expressions_calling_it_takes_them_along_or_is_refused() {
    if database().is_none() {
        return;
    }
    let returning = |result: &str, more: &str| {
        format!(
            "CREATE FUNCTION f(x int) RETURNS {result} LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
             CREATE TABLE t (id int DEFAULT f(1), v int CHECK (f(v) > 0){more});
             ALTER TABLE t ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON t USING (f(v) > 0);"
        )
    };
    let statements =
        plan_applies(&returning("int", ""), "INSERT INTO t (v) VALUES (5)", &returning("bigint", ""), |db| {
            assert_eq!(db.value("SELECT format('%s %s', id, v) FROM t").as_deref(), Some("2 5"));
            assert!(db.try_execute("INSERT INTO t (v) VALUES (-3)").is_err(), "the check is back");
        });
    let position = |start: &str| statements.iter().position(|s| s.starts_with(start)).unwrap_or(usize::MAX);
    assert!(position("DROP POLICY") < position("DROP ROUTINE"), "{statements:#?}");
    assert!(
        position("ALTER TABLE \"public\".\"t\" DROP CONSTRAINT") < position("DROP ROUTINE"),
        "{statements:#?}"
    );
    assert!(position("DROP ROUTINE") < position("CREATE POLICY"), "{statements:#?}");
    let generated = ", g int GENERATED ALWAYS AS (f(v)) STORED); CREATE INDEX t_f ON t ((f(v))";
    refused_where_it_would_fail(
        &returning("int", generated),
        &returning("bigint", generated),
        &["function f(integer)", "generated column public.t.g", "index public.t_f"],
    );
    let defaulted = |arguments: &str| {
        format!(
            "CREATE FUNCTION g({arguments}) RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE TABLE u (id int DEFAULT g());"
        )
    };
    refused_where_it_would_fail(
        &defaulted(""),
        &defaulted("a int DEFAULT 0"),
        &["function g()", "default of public.u.id"],
    );
}

/// A domain whose base type changes while a function returns it, or a default of another column
/// casts to it: the old domain cannot be dropped under them, so it is refused. (A check casting
/// to it prints differently over the new base type, so the plan drops and adds it again.)
#[test]
fn a_domain_rebuild_under_a_function_result_or_casts_is_refused() {
    if database().is_none() {
        return;
    }
    let domain = |base: &str| format!("CREATE DOMAIN score AS {base};");
    let result = "CREATE FUNCTION best() RETURNS score LANGUAGE sql AS 'SELECT 1::score';";
    refused_where_it_would_fail(
        &format!("{} {result}", domain("int")),
        &format!("{} {result}", domain("bigint")),
        &["function best()"],
    );
    let casts =
        "CREATE TABLE t (v int CHECK (v::score > 0), w int DEFAULT 1::score, s score DEFAULT 0::score);";
    refused_where_it_would_fail(
        &format!("{} {casts}", domain("int")),
        &format!("{} {casts}", domain("bigint")),
        &["default of public.t.w"],
    );
}

/// Types over types (a domain over a composite type or an enum, a composite type holding a
/// domain or an enum) are dropped users first, and the dump and the plan that create them apply.
#[test]
fn types_over_types_are_created_and_dropped_in_dependency_order() {
    if database().is_none() {
        return;
    }
    let types = "CREATE TYPE mood AS ENUM ('up', 'down'); CREATE DOMAIN dmood AS mood;
        CREATE TYPE comp AS (a int, m mood); CREATE DOMAIN dcomp AS comp;
        CREATE DOMAIN code AS text; CREATE TYPE coded AS (c code);
        CREATE TABLE tc (id int PRIMARY KEY, w dcomp, c coded, m dmood);";
    dump_round_trips(&schema_of(types));
    plan_applies("", "", types, |_| {});
    plan_applies(types, "", "", |_| {});
}
