//! Plans whose order a dependency decides, applied on a real server: a `LANGUAGE sql` function
//! is checked against the catalog when it is created, so it must come after what its body reads
//! and before the tables whose defaults, checks, generated columns and indexes call it (and a
//! PL/pgSQL one is compiled, its variables' types looked up). Also the
//! typed facts the planner reads instead of definitions' text, as introspection fills them, and
//! plans that must converge once applied (long enum names, a moved extension, what default
//! privileges give the objects a plan creates).

use haste_driver::DatabaseUrl;
use haste_postgres::PgConnection;
use haste_schema::{ConstraintKind, ReferentialAction, Schema};
use haste_testkit::{TestDb, database};

fn connect(url: &str) -> PgConnection {
    PgConnection::connect(&DatabaseUrl::parse(url).unwrap(), "haste/test", "test").unwrap()
}

fn introspect(db: &TestDb) -> Schema {
    connect(&db.url).introspect().unwrap()
}

/// Plans an empty database to `target` (plain and online) and applies each plan statement by
/// statement on a database of its own: it must reach `target`, and diffing again must be empty.
fn plans_reach(target: &str) {
    let at_to = database().unwrap();
    at_to.execute(target);
    let to = introspect(&at_to);
    for online in [false, true] {
        let at_from = database().unwrap();
        let options = haste_diff::Options { online };
        let plan = haste_diff::diff(&introspect(&at_from), &to, &options);
        for step in &plan.steps {
            if let Err(error) = at_from.try_execute(&step.sql) {
                let sql: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
                panic!("{error}\nin `{}` of the plan (online: {online}):\n{}", step.sql, sql.join(";\n"));
            }
        }
        let after = introspect(&at_from);
        assert!(haste_diff::diff(&after, &to, &options).is_empty(), "online: {online}\n{target}");
    }
}

#[test]
fn a_sql_function_in_a_new_tables_default_reading_another_new_table() {
    if database().is_none() {
        return;
    }
    // `accounts` comes before `zones` by name: the function between them decides.
    plans_reach(
        "CREATE TABLE zones (id int PRIMARY KEY);
         CREATE FUNCTION zone_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM zones $$;
         CREATE TABLE accounts (id int, zone_total bigint DEFAULT zone_count());",
    );
}

/// From sirimbo's schema.sql: PostgreSQL compiles a PL/pgSQL body when the function is created,
/// and a variable of a table's row type or of a column's `%TYPE` needs that table. A function no
/// column calls waits for the new tables; one a default calls still comes before its table.
#[test]
fn a_plpgsql_function_declaring_a_new_tables_row_type() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE SCHEMA crawler;
         CREATE TABLE crawler.rate_limit_rule (host text PRIMARY KEY, max_requests int NOT NULL);
         CREATE FUNCTION crawler.reserve_request(in_host text) RETURNS boolean LANGUAGE plpgsql AS $$
         DECLARE r crawler.rate_limit_rule; m crawler.rate_limit_rule.max_requests%TYPE;
         BEGIN SELECT * INTO r FROM crawler.rate_limit_rule WHERE host = in_host; RETURN r.host IS NOT NULL; END $$;
         CREATE FUNCTION next_code() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a'; END $$;
         CREATE TABLE codes (code text DEFAULT next_code());",
    );
    // While `accounts` waits for `zone_count`, the PL/pgSQL function is ready as far as the
    // graph knows (it cannot read what the body declares), and sorts first by name: it must
    // still wait for every table that is not waiting for it.
    plans_reach(
        "CREATE TABLE zones (id int PRIMARY KEY);
         CREATE FUNCTION zone_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM zones $$;
         CREATE TABLE accounts (id int, zone_total bigint DEFAULT zone_count());
         CREATE FUNCTION audit(id int) RETURNS boolean LANGUAGE plpgsql AS $$
         DECLARE a accounts; BEGIN SELECT * INTO a FROM accounts WHERE accounts.id = audit.id; RETURN FOUND; END $$;",
    );
}

/// Partitions three levels deep and an `INHERITS` child, each named to sort before its parent,
/// with a `sql` function in a parent's default (so the dependency graph orders the creations):
/// a parent is created first whatever the names, and a child whose own default calls nothing
/// does not overtake a parent waiting for its function.
#[test]
fn partitions_and_inheritance_children_come_after_their_parents_whatever_their_names() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE TABLE zones (id int PRIMARY KEY);
         CREATE FUNCTION zone_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM zones $$;
         CREATE TABLE z_events (at int NOT NULL, kind text NOT NULL, total bigint DEFAULT zone_count()) PARTITION BY RANGE (at);
         CREATE TABLE b_events_2 PARTITION OF z_events FOR VALUES FROM (0) TO (10) PARTITION BY LIST (kind);
         CREATE TABLE a_events_2_web PARTITION OF b_events_2 FOR VALUES IN ('web') PARTITION BY RANGE (at);
         CREATE TABLE a_events_2_web_low PARTITION OF a_events_2_web FOR VALUES FROM (0) TO (5);
         ALTER TABLE a_events_2_web_low ALTER COLUMN total SET DEFAULT 0;
         CREATE TABLE z_parent (id int, total bigint DEFAULT zone_count());
         CREATE TABLE a_child (note text) INHERITS (z_parent);
         ALTER TABLE a_child ALTER COLUMN total SET DEFAULT 0;",
    );
}

#[test]
fn a_sql_function_in_a_new_tables_generated_column() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;
         CREATE TABLE amounts (x int, doubled int GENERATED ALWAYS AS (twice(x)) STORED);",
    );
}

#[test]
fn a_check_calling_a_sql_function_over_a_new_table() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE TABLE limits (n int);
         CREATE FUNCTION under_limit(x int) RETURNS boolean LANGUAGE sql
           AS $$ SELECT x < coalesce((SELECT max(n) FROM limits), 100) $$;
         CREATE TABLE orders (qty int CHECK (under_limit(qty)));",
    );
}

#[test]
fn an_index_on_an_expression_calling_a_new_sql_function() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE FUNCTION normalized(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
         CREATE TABLE users (email text);
         CREATE INDEX users_email_normalized ON users (normalized(email));",
    );
}

#[test]
fn a_function_reading_a_view_over_a_function() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE TABLE tickets (id int);
         CREATE FUNCTION ticket_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM tickets $$;
         CREATE VIEW ticket_totals AS SELECT ticket_count() AS total;
         CREATE FUNCTION reported_total() RETURNS bigint LANGUAGE sql AS $$ SELECT total FROM ticket_totals $$;
         CREATE FUNCTION atomic_total() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT reported_total(); END;",
    );
}

#[test]
fn foreign_keys_in_a_cycle_between_two_new_tables() {
    if database().is_none() {
        return;
    }
    plans_reach(
        "CREATE TABLE authors (id int PRIMARY KEY, favourite_book int);
         CREATE TABLE books (id int PRIMARY KEY, author int REFERENCES authors);
         ALTER TABLE authors ADD FOREIGN KEY (favourite_book) REFERENCES books;",
    );
}

/// What the planner reads of constraints, indexes and functions comes from the catalog.
#[test]
fn introspection_fills_the_typed_facts() {
    let Some(db) = database() else { return };
    db.execute(
        "CREATE SCHEMA crm;
         CREATE TABLE crm.orgs (id int, \"Region\" text, PRIMARY KEY (\"Region\", id));
         CREATE TABLE deals (id int PRIMARY KEY, org int, region text, code text, amount int,
           CONSTRAINT deals_code_key UNIQUE (code),
           CONSTRAINT deals_code_amount_key UNIQUE (code, amount) DEFERRABLE,
           CONSTRAINT deals_amount_key UNIQUE (amount) INCLUDE (code),
           CONSTRAINT deals_region_key UNIQUE NULLS NOT DISTINCT (region),
           CONSTRAINT deals_org_key UNIQUE (org) WITH (fillfactor = 70),
           CONSTRAINT deals_org_fkey FOREIGN KEY (region, org) REFERENCES crm.orgs (\"Region\", id)
             ON DELETE CASCADE ON UPDATE SET NULL);
         ALTER TABLE deals ADD CONSTRAINT deals_amount_check CHECK (amount > id AND amount > 0) NOT VALID;
         CREATE UNIQUE INDEX deals_lower_code ON deals USING btree (lower(code)) WHERE amount > 0;
         CREATE INDEX \"Deals by org\" ON deals USING hash (org);
         CREATE INDEX deals_org_amount ON deals (org DESC, amount) INCLUDE (code);
         CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE FUNCTION two() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 2; END';",
    );
    let schema = introspect(&db);
    let deals = schema.tables.iter().find(|t| t.name == "deals").unwrap();
    let constraint = |name: &str| deals.constraints.iter().find(|c| c.name == name).unwrap();
    let plain: Vec<&str> =
        deals.constraints.iter().filter(|c| c.plain_key).map(|c| c.name.as_str()).collect();
    // Storage parameters are not in the definition, nor in the model.
    assert_eq!(plain, ["deals_code_key", "deals_org_key", "deals_pkey"]);
    assert!(constraint("deals_code_amount_key").deferrable);
    assert!(!constraint("deals_amount_check").validated && constraint("deals_code_key").validated);
    assert_eq!(constraint("deals_amount_check").columns, ["amount", "id"]);
    let key = constraint("deals_org_fkey");
    assert_eq!(key.columns, ["region", "org"]);
    let target = key.references.as_ref().unwrap();
    assert_eq!((target.schema.as_str(), target.table.as_str()), ("crm", "orgs"));
    assert_eq!(target.columns, ["Region", "id"]);
    assert_eq!(
        (target.on_delete, target.on_update),
        (ReferentialAction::Cascade, ReferentialAction::SetNull)
    );
    assert!(key.references_column("crm", "orgs", "Region") && !key.references_column("public", "orgs", "id"));
    let orgs = schema.tables.iter().find(|t| t.name == "orgs").unwrap();
    assert_eq!(orgs.constraints[0].kind, ConstraintKind::PrimaryKey);
    assert_eq!(orgs.constraints[0].columns, ["Region", "id"]);

    let index = |name: &str| schema.indexes.iter().find(|i| i.name == name).unwrap();
    assert!(index("deals_lower_code").unique && index("deals_lower_code").columns.is_empty());
    assert_eq!(index("Deals by org").method, "hash");
    assert_eq!(index("deals_org_amount").columns, ["org", "amount"]);
    // Each concurrent form, built from the parts, builds the index the definition describes.
    let copy = database().unwrap();
    copy.execute(&schema.to_ddl().join(";\n"));
    for index in &schema.indexes {
        copy.execute(&format!("DROP INDEX {}", index.qualified_name()));
        copy.execute(&index.create_concurrently_statement());
    }
    assert_eq!(introspect(&copy), schema);

    let language = |name: &str| schema.functions.iter().find(|f| f.name == name).unwrap().language.as_str();
    assert_eq!((language("one"), language("two")), ("sql", "plpgsql"));
}

/// Plans `from` to `to` (plain and online), applies it statement by statement on a database
/// holding `from`: it must reach `to`, and diffing again must be empty.
fn plan_applies(from: &str, to: &str) {
    let at_to = database().unwrap();
    at_to.execute(to);
    let desired = introspect(&at_to);
    for online in [false, true] {
        let at_from = database().unwrap();
        at_from.execute(from);
        let options = haste_diff::Options { online };
        let plan = haste_diff::diff(&introspect(&at_from), &desired, &options);
        for step in &plan.steps {
            if let Err(error) = at_from.try_execute(&step.sql) {
                panic!("{error}\nin `{}` (online: {online})", step.sql);
            }
        }
        assert!(haste_diff::diff(&introspect(&at_from), &desired, &options).is_empty(), "online: {online}");
    }
}

/// Two enums of 63-byte names that differ only in their last byte, both rebuilt: their staging
/// names (`<name>_new`, `<name>_old`) are cut to 63 bytes and must not meet.
#[test]
fn enums_of_long_names_are_rebuilt_under_names_of_their_own() {
    if database().is_none() {
        return;
    }
    let stem = "e".repeat(62);
    let (a, b) = (format!("{stem}a"), format!("{stem}b"));
    let schema = |labels: &str| {
        format!(
            "CREATE TYPE {a} AS ENUM ({labels}); CREATE TYPE {b} AS ENUM ({labels});
             CREATE TABLE t (x {a}, y {b});"
        )
    };
    plan_applies(&schema("'one', 'two', 'three'"), &schema("'one', 'three'"));
}

/// An extension moved to another schema is moved, not created again (which would skip it).
#[test]
fn an_extension_moves_to_its_new_schema() {
    if database().is_none() {
        return;
    }
    plan_applies(
        "CREATE EXTENSION citext; CREATE TABLE t (x citext);",
        "CREATE SCHEMA ext; CREATE EXTENSION citext WITH SCHEMA ext; CREATE TABLE t (x ext.citext);",
    );
}

/// A table and a function created where default privileges give tables to a reader and take
/// functions from `PUBLIC`, for a target whose objects have neither: the plan corrects what the
/// defaults gave them (the diff after it is empty only then).
#[test]
fn objects_a_plan_creates_lose_what_the_default_privileges_gave_them_unasked() {
    let Some(db) = database() else { return };
    haste_testkit::ensure_roles(&db.url, &haste_testkit::GRANTEES);
    let defaults = "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO haste_reader;
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;";
    plan_applies(
        defaults,
        &format!(
            "CREATE TABLE t (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; {defaults}"
        ),
    );
}
