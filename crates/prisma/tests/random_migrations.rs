//! Property test: random pairs of Prisma schemas (scalar types, optional and list fields,
//! defaults, uniques, indexes, an enum that gains and loses values, one-to-many and implicit
//! many-to-many relations), and the migration haste writes between them in Prisma's style,
//! validated on a real server: applied to a database built from the first, it gives the
//! database the second builds. `HASTE_PSL_CASES` sets how many (default 120); the seed is
//! printed so a failure can be replayed with `HASTE_PSL_DIFF_SEED`.

use haste_driver::DatabaseUrl;
use haste_postgres::PgConnection;
use haste_prisma::SourceFile;
use haste_prisma::ir::Database;
use haste_testkit::{Random, database, property_run};

/// Field types grouped so that a change within a group is a cast PostgreSQL makes.
const FAMILIES: &[&[(&str, &str)]] = &[
    &[("Int", "@default(3)"), ("BigInt", "@default(4)")],
    &[("String", "@default(\"x\")"), ("String @db.VarChar(40)", "@default(\"y\")")],
    &[("Boolean", "@default(true)")],
    &[("DateTime", "@default(now())"), ("DateTime @db.Timestamptz(3)", "@default(now())")],
    &[("Float", "@default(1.5)")],
    &[("Decimal", "@default(2)")],
    &[("Json", "@default(\"{}\")")],
    &[("Stage", "@default(LEAD)")],
];
const LABELS: &[&str] = &["LEAD", "QUALIFIED", "PROPOSAL", "WON", "LOST"];

fn schema(shape: u64, variant: u64, target: bool) -> String {
    let mut stable = Random::new(shape);
    let mut random = Random::new(variant);
    let mut text = String::from("datasource db {\n  provider = \"postgresql\"\n}\n\n");
    // LEAD stays (it is a default); the rest may come and go in the target.
    let mut labels: Vec<&str> = LABELS[..2 + stable.next(3)].to_vec();
    if target {
        labels.extend(LABELS[labels.len()..].iter().filter(|_| random.chance(40)));
        if labels.len() > 2 && random.chance(30) {
            labels.remove(1 + random.next(labels.len() - 1));
        }
    }
    text.push_str(&format!("enum Stage {{\n  {}\n}}\n\n", labels.join("\n  ")));
    let models = 2 + stable.next(3);
    let string_ids: Vec<bool> = (0..models).map(|_| stable.chance(40)).collect();
    // Which model points at the one before it, and whether the first two share a many-to-many.
    let parents: Vec<bool> = (0..models).map(|m| m > 0 && stable.chance(60) && random.chance(80)).collect();
    let many_to_many = stable.chance(40) && random.chance(80);
    for m in 0..models {
        let id = if string_ids[m] { "String @id" } else { "Int @id @default(autoincrement())" };
        let mut lines = vec![format!("id {id}")];
        let mut scalars = Vec::new();
        for f in 0..1 + stable.next(5) {
            let family = FAMILIES[stable.next(FAMILIES.len())];
            let (kind, default) = family[random.next(family.len())];
            if random.chance(15) {
                continue;
            }
            let list = !kind.contains('@') && matches!(kind, "Int" | "String") && random.chance(15);
            let arity = if list {
                "[]"
            } else if random.chance(40) {
                "?"
            } else {
                ""
            };
            let mut line = format!(
                "f{f} {}{arity}",
                kind.replacen(' ', &format!("{arity} "), 1).trim_end_matches(arity)
            );
            if kind.contains(' ') {
                let (base, native) = kind.split_once(' ').unwrap();
                line = format!("f{f} {base}{arity} {native}");
            }
            if !list && random.chance(40) {
                line.push_str(&format!(" {default}"));
            }
            if !list && kind != "Json" && random.chance(15) {
                line.push_str(" @unique");
            }
            lines.push(line);
            if !list && kind != "Json" {
                scalars.push(format!("f{f}"));
            }
        }
        if parents[m] {
            let parent_id = if string_ids[m - 1] { "String" } else { "Int" };
            let action = ["Cascade", "SetNull"][random.next(2)];
            lines.push(format!("parentId {parent_id}?"));
            lines.push(format!(
                "parent M{}? @relation(fields: [parentId], references: [id], onDelete: {action})",
                m - 1
            ));
        }
        if m + 1 < models && parents[m + 1] {
            lines.push(format!("children M{}[]", m + 1));
        }
        if many_to_many && m == 0 {
            lines.push("peers M1[] @relation(\"peers\")".into());
        }
        if many_to_many && m == 1 {
            lines.push("peersOf M0[] @relation(\"peers\")".into());
        }
        if let Some(field) = scalars.first()
            && random.chance(40)
        {
            lines.push(format!("@@index([{field}])"));
        }
        if scalars.len() > 1 && random.chance(30) {
            lines.push(format!("@@unique([{}, {}])", scalars[0], scalars[1]));
        }
        text.push_str(&format!("model M{m} {{\n  {}\n}}\n\n", lines.join("\n  ")));
    }
    text
}

fn lowered(text: &str) -> Database {
    let files = vec![SourceFile { path: "schema.prisma".into(), text: text.into() }];
    let ast = haste_prisma::parse(&files).unwrap_or_else(|e| panic!("{}\n{text}", e[0].render(&files)));
    haste_prisma::lower(&ast, "public").unwrap_or_else(|e| panic!("{}\n{text}", e[0].render(&files)))
}

fn introspect(url: &str) -> haste_schema::Schema {
    let mut connection =
        PgConnection::connect(&DatabaseUrl::parse(url).unwrap(), "haste/test", "test").unwrap();
    haste_prisma::project(&connection.introspect().unwrap(), "public", &[])
}

#[test]
fn random_prisma_migrations_turn_one_schema_into_the_other() {
    if database().is_none() {
        return;
    }
    let (cases, seed) =
        property_run("random Prisma migrations", "HASTE_PSL_CASES", 120, "HASTE_PSL_DIFF_SEED");
    let (at_a, at_b) = (database().unwrap(), database().unwrap());
    let mut random = Random::new(seed);
    let empty = Database::default();
    for case in 0..cases {
        let shape = random.next(usize::MAX) as u64;
        let (a_text, b_text) = (
            schema(shape, random.next(usize::MAX) as u64, false),
            schema(shape, random.next(usize::MAX) as u64, true),
        );
        let (a, b) = (lowered(&a_text), lowered(&b_text));
        for db in [&at_a, &at_b] {
            db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        }
        let context =
            format!("-- from:\n{a_text}\n-- to:\n{b_text}\nreplay: HASTE_PSL_DIFF_SEED={seed}, case {case}");
        for (db, target) in [(&at_a, &a), (&at_b, &b)] {
            let sql = haste_prisma::migration(&empty, target, target).to_sql();
            if let Err(error) = db.try_execute(&sql) {
                panic!("the schema's own SQL does not apply: {error}\n{sql}\n{context}");
            }
        }
        let (from, to) = (introspect(&at_a.url), introspect(&at_b.url));
        let read = |schema: &haste_schema::Schema| haste_prisma::from_schema(schema, "public", &[]);
        let migration = haste_prisma::migration(&read(&from), &b, &read(&to)).to_sql();
        if let Err(error) = at_a.try_execute(&migration) {
            panic!("the migration does not apply: {error}\n{migration}\n{context}");
        }
        let after = introspect(&at_a.url);
        let left = haste_diff::changes(&after, &to);
        assert!(left.is_empty(), "the migration does not reach the target: {left:?}\n{migration}\n{context}");
        assert!(
            haste_prisma::migration(&read(&after), &b, &read(&to)).is_empty(),
            "a second migration is not empty\n{context}"
        );
    }
}

/// A datasource and one model `T` with the given fields.
fn model(fields: &str) -> String {
    format!("datasource db {{\n  provider = \"postgresql\"\n}}\n\nmodel T {{\n  {fields}\n}}\n")
}

/// Migrates `db`, built from `from`, to `to` (as `migrate dev` does: the database read back on
/// one side, the target as a shadow database reads it on the other), checks that nothing is left
/// to do, and returns the migration.
fn migrate(db: &haste_testkit::TestDb, shadow: &haste_testkit::TestDb, to: &str) -> String {
    shadow.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    let target = lowered(to);
    shadow.execute(&haste_prisma::migration(&Database::default(), &target, &target).to_sql());
    let read = |url: &str| haste_prisma::from_schema(&introspect(url), "public", &[]);
    let migration = haste_prisma::migration(&read(&db.url), &target, &read(&shadow.url)).to_sql();
    db.try_execute(&migration).unwrap_or_else(|error| panic!("{error}\n{migration}"));
    let again = haste_prisma::migration(&read(&db.url), &target, &read(&shadow.url));
    assert!(again.is_empty(), "{migration}\nleaves\n{}", again.to_sql());
    migration
}

#[test]
fn autoincrement_comes_and_goes_on_a_table_with_rows() {
    let (Some(db), Some(shadow)) = (database(), database()) else { return };
    let plain = model("id Int @id\n  n Int");
    db.execute(&haste_prisma::migration(&Database::default(), &lowered(&plain), &lowered(&plain)).to_sql());
    db.execute("INSERT INTO \"T\" VALUES (1, 10), (7, 20)");

    // Gained: a sequence owned by the column, starting above the rows already there.
    let gained = migrate(&db, &shadow, &model("id Int @id @default(autoincrement())\n  n Int"));
    assert!(gained.contains("CREATE SEQUENCE \"t_id_seq\""), "{gained}");
    db.execute("INSERT INTO \"T\" (n) VALUES (30)");
    assert_eq!(db.value("SELECT max(id)::text FROM \"T\""), Some("8".into()));
    assert_eq!(db.value("SELECT pg_get_serial_sequence('\"T\"', 'id')"), Some("public.t_id_seq".into()));

    // Widened: the column and its sequence count past 2^31.
    migrate(&db, &shadow, &model("id BigInt @id @default(autoincrement())\n  n Int"));
    db.execute("SELECT setval('t_id_seq', 3000000000)");
    db.execute("INSERT INTO \"T\" (n) VALUES (40)");
    assert_eq!(db.value("SELECT max(id)::text FROM \"T\""), Some("3000000001".into()));

    // Lost: the default and the sequence go; an insert needs its key again.
    let lost = migrate(&db, &shadow, &model("id BigInt @id\n  n Int"));
    assert!(lost.contains("DROP SEQUENCE \"t_id_seq\""), "{lost}");
    assert_eq!(db.value("SELECT count(*)::text FROM pg_class WHERE relkind = 'S'"), Some("0".into()));
    assert!(db.try_execute("INSERT INTO \"T\" (n) VALUES (50)").is_err());

    // A column created `SERIAL` drops the sequence PostgreSQL named for it.
    migrate(&db, &shadow, &model("id BigInt @id\n  n Int\n  k Int @default(autoincrement())"));
    let dropped = migrate(&db, &shadow, &model("id BigInt @id\n  n Int\n  k Int @default(5)"));
    assert!(dropped.contains("SET DEFAULT 5") && dropped.contains("DROP SEQUENCE \"T_k_seq\""), "{dropped}");
}
