//! Indexes on partitioned tables: dumped so that a replay builds valid parent indexes with
//! their partitions' indexes under the same names, validity part of the model, and plans that
//! add and drop them (online too, where PostgreSQL builds no partitioned index concurrently).
//! Then the round trip of real production dumps (crates/cli/tests/structure-dumps/manifest.toml,
//! built outside the repository by scripts/structure-dumps-corpus), and of the fragments of them
//! that once broke it (crates/cli/tests/structure-dumps/fragments).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use haste_testkit::{TempDir, TestDb, database};

use crate::schema::{check_dump_round_trip, check_plan, model};
use crate::{haste, migrations};

/// A range-partitioned table with a sub-partitioned partition, as pg_dump writes it: the
/// parent's index `ON ONLY`, each partition's under a name of its own, then attached.
const EVENTS: &str = r#"
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, body jsonb) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (kind);
CREATE TABLE events_2026_web PARTITION OF events_2026 FOR VALUES IN ('web');
CREATE TABLE events_2026_other PARTITION OF events_2026 DEFAULT;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at, kind);
CREATE INDEX index_events_on_kind ON ONLY events USING btree (kind);
CREATE INDEX legacy_2025_kind ON events_2025 USING btree (kind);
CREATE INDEX events_2026_kind_idx ON ONLY events_2026 USING btree (kind);
CREATE INDEX events_2026_web_kind_idx ON events_2026_web USING btree (kind);
CREATE INDEX events_2026_other_kind_idx ON events_2026_other USING btree (kind);
ALTER INDEX index_events_on_kind ATTACH PARTITION legacy_2025_kind;
ALTER INDEX index_events_on_kind ATTACH PARTITION events_2026_kind_idx;
ALTER INDEX events_2026_kind_idx ATTACH PARTITION events_2026_web_kind_idx;
ALTER INDEX events_2026_kind_idx ATTACH PARTITION events_2026_other_kind_idx;
CREATE INDEX events_body ON events USING gin (body);
CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (during WITH &&));
"#;

/// `(index, valid)` for every index of the database but haste's history tables', sorted.
fn validity(db: &TestDb) -> Vec<(String, String)> {
    db.query(
        "SELECT c.relname::text, x.indisvalid::text FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_haste\\_%' \
         ORDER BY 1",
    )
    .into_iter()
    .map(|row| (row[0].clone().unwrap_or_default(), row[1].clone().unwrap_or_default()))
    .collect()
}

#[test]
fn a_dump_rebuilds_partitioned_indexes_valid_with_every_partition_index_and_name() {
    let Some(source) = database() else { return };
    let dir = migrations(&[("1_events", EVENTS)]);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &source.url]).code, 0);
    let dump = haste(dir.path(), &["schema", "dump", "--url", &source.url]);
    assert!(
        dump.stdout.contains(
            "ALTER INDEX \"public\".\"index_events_on_kind\" ATTACH PARTITION \"public\".\"legacy_2025_kind\""
        ),
        "{}",
        dump.stdout
    );
    check_dump_round_trip(&dir, &source);
    let target = database().unwrap();
    target.execute(&dump.stdout);
    assert_eq!(validity(&target), validity(&source));
    assert!(validity(&target).iter().all(|(_, valid)| valid == "true"), "{:?}", validity(&target));
}

#[test]
fn an_invalid_index_is_a_difference_and_the_plan_makes_it_valid() {
    let Some(db) = database() else { return };
    let with_partitions = "CREATE TABLE m (a int, b int) PARTITION BY RANGE (a);
         CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);";
    // The parent's index without its partition's: INVALID, never equal to the valid one.
    db.execute(&format!("{with_partitions} CREATE INDEX m_b ON ONLY m (b);"));
    let dir = migrations(&[]);
    let wanted = dir.write("wanted.sql", &format!("{with_partitions} CREATE INDEX m_b ON m (b);"));
    let args = ["schema", "diff", "--from", &db.url, "--to", wanted.to_str().unwrap(), "--url", &db.url];
    let diff = haste(dir.path(), &args);
    assert_eq!(diff.code, 14, "an invalid index differs from a valid one: {diff:?}");
    check_plan(
        &format!("{with_partitions} CREATE INDEX m_b ON ONLY m (b);"),
        &format!("{with_partitions} CREATE INDEX m_b ON m (b);"),
    );
}

#[test]
fn plans_add_and_drop_indexes_on_partitioned_tables() {
    if database().is_none() {
        return;
    }
    let tables = EVENTS.split("ALTER TABLE events ADD CONSTRAINT").next().unwrap();
    // Added on every level at once, then dropped.
    let plan = check_plan(tables, EVENTS);
    assert!(plan.contains("ATTACH PARTITION \"public\".\"events_2026_web_kind_idx\""), "{plan}");
    check_plan(EVENTS, tables);
    // A new partition of a table whose index stays gets its index from PostgreSQL, and nothing
    // else of the index is touched.
    let plan = check_plan(
        EVENTS,
        &format!(
            "{EVENTS}\nCREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
        ),
    );
    assert!(!plan.contains("INDEX"), "{plan}");
    // A partition's index renamed: the family is built again under the new names.
    check_plan(EVENTS, &EVENTS.replace("legacy_2025_kind", "events_2025_kind_idx"));
}

#[test]
fn the_online_plan_builds_each_partition_index_concurrently_then_attaches() {
    let (Some(db), Some(wanted_db)) = (database(), database()) else { return };
    let tables = EVENTS.split("ALTER TABLE events ADD CONSTRAINT").next().unwrap();
    db.execute(tables);
    db.execute("INSERT INTO events VALUES (1, '2025-03-01', 'web'), (2, '2026-03-01', 'web'), (3, '2026-04-01', 'app')");
    wanted_db.execute(EVENTS);
    let dir = migrations(&[]);
    let plan = haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", &wanted_db.url, "--online"]);
    assert_eq!(plan.code, 14, "{plan:?}");
    assert!(
        plan.stdout.contains("CREATE INDEX index_events_on_kind ON ONLY public.events")
            && plan.stdout.contains(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"legacy_2025_kind\" ON \"public\".\"events_2025\""
            )
            && !plan.stdout.contains("CONCURRENTLY IF NOT EXISTS \"index_events_on_kind\""),
        "{}",
        plan.stdout
    );
    dir.write("migrations/2_online/migration.sql", &plan.stdout);
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(applied.code, 0, "{applied:?}\n{}", plan.stdout);
    assert_eq!(model(&dir, &db), model(&dir, &wanted_db));
    assert!(validity(&db).iter().all(|(_, valid)| valid == "true"), "{:?}", validity(&db));
}

/// Plans `a` to `b` in online form (`schema diff --online`) on a database holding `a`, applies
/// it with `migrate deploy` and checks the database then holds `b`. Returns the plan.
fn check_online_plan(a: &str, b: &str) -> String {
    let (Some(db), Some(wanted)) = (database(), database()) else { return String::new() };
    db.execute(a);
    wanted.execute(b);
    let dir = migrations(&[]);
    let plan = haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", &wanted.url, "--online"]);
    assert_eq!(plan.code, 14, "{plan:?}");
    dir.write("migrations/1_online/migration.sql", &plan.stdout);
    let applied = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(applied.code, 0, "{applied:?}\n{}", plan.stdout);
    assert_eq!(model(&dir, &db), model(&dir, &wanted), "{}", plan.stdout);
    plan.stdout
}

/// A range-partitioned ledger with a sub-partitioned partition, a partition that gives a
/// column a default of its own, and rows in each partition.
const LEDGER: &str = "
CREATE TABLE ledger (id bigint NOT NULL, at int NOT NULL, kind text NOT NULL, amount int, note varchar(20), legacy text) PARTITION BY RANGE (at);
CREATE TABLE ledger_a PARTITION OF ledger FOR VALUES FROM (0) TO (10);
CREATE TABLE ledger_b PARTITION OF ledger FOR VALUES FROM (10) TO (20) PARTITION BY LIST (kind);
CREATE TABLE ledger_b_web PARTITION OF ledger_b FOR VALUES IN ('web');
CREATE TABLE ledger_b_other PARTITION OF ledger_b DEFAULT;
ALTER TABLE ledger_a ALTER COLUMN kind SET DEFAULT 'web';
INSERT INTO ledger VALUES (1, 5, 'web', 3, 'x', 'l'), (2, 15, 'web', 4, 'y', 'l'), (3, 15, 'app', 5, NULL, 'l');
";

/// Column changes of a partitioned table (added, dropped, retyped, a default, `NOT NULL`) reach
/// its partitions by themselves: the plan alters the parent only, plain and online (where
/// `SET NOT NULL` goes through a check on the parent), and the partition's own default stays.
#[test]
fn column_changes_of_a_partitioned_table_are_planned_on_the_parent_only() {
    if database().is_none() {
        return;
    }
    let changed = LEDGER
        .replace(
            "amount int, note varchar(20), legacy text)",
            "amount bigint NOT NULL DEFAULT 0, note text, currency text DEFAULT 'EUR')",
        )
        .replace(", 'l')", ")");
    for plan in [check_plan(LEDGER, &changed), check_online_plan(LEDGER, &changed)] {
        assert!(plan.contains("ALTER TABLE \"public\".\"ledger\" ADD COLUMN \"currency\""), "{plan}");
        assert!(!plan.contains("\"ledger_"), "no statement on a partition:\n{plan}");
    }
    // A partition named to sort before its parent keeps a default of its own across the
    // parent's type change, which sets the parent's default on every partition: the parent is
    // altered first.
    let z_ledger = "CREATE TABLE z_ledger (at int NOT NULL, amount int DEFAULT 1) PARTITION BY RANGE (at);
CREATE TABLE a_ledger PARTITION OF z_ledger FOR VALUES FROM (0) TO (10);
ALTER TABLE a_ledger ALTER COLUMN amount SET DEFAULT 5;";
    let plan = check_plan(z_ledger, &z_ledger.replace("amount int DEFAULT 1", "amount bigint DEFAULT 2"));
    assert!(
        plan.contains("ALTER TABLE \"public\".\"a_ledger\" ALTER COLUMN \"amount\" SET DEFAULT 5"),
        "{plan}"
    );
}

/// A new partition, a dropped one, a changed bound (detached and attached again), a table
/// attached as a partition and a partition detached are planned, and reach the target.
#[test]
fn partitions_come_go_move_and_change_bounds() {
    if database().is_none() {
        return;
    }
    // A check of the parent, which PostgreSQL wants on a table before attaching it, and which a
    // detached partition keeps as its own.
    let parent = "CREATE TABLE ledger (id bigint NOT NULL, at int NOT NULL, note text, CONSTRAINT ledger_id_check CHECK (id > 0)) PARTITION BY RANGE (at);
CREATE TABLE ledger_a PARTITION OF ledger FOR VALUES FROM (0) TO (10);
INSERT INTO ledger VALUES (1, 5, 'x');
";
    let plan = check_plan(
        parent,
        &format!("{parent}CREATE TABLE ledger_c PARTITION OF ledger FOR VALUES FROM (20) TO (30);"),
    );
    assert!(plan.contains("PARTITION OF"), "{plan}");
    check_plan(
        &format!("{parent}CREATE TABLE ledger_c PARTITION OF ledger FOR VALUES FROM (20) TO (30);"),
        parent,
    );
    let plan = check_plan(parent, &parent.replace("FROM (0) TO (10)", "FROM (-10) TO (10)"));
    assert!(
        plan.contains("ALTER TABLE \"public\".\"ledger\" DETACH PARTITION \"public\".\"ledger_a\"")
            && plan.contains("ALTER TABLE \"public\".\"ledger\" ATTACH PARTITION \"public\".\"ledger_a\" FOR VALUES FROM ('-10') TO (10)"),
        "{plan}"
    );
    let plain = "CREATE TABLE ledger_c (id bigint NOT NULL, at int NOT NULL, note text);
INSERT INTO ledger_c VALUES (2, 25, 'y');";
    let attached = "CREATE TABLE ledger_c PARTITION OF ledger FOR VALUES FROM (20) TO (30);";
    let plan = check_plan(&format!("{parent}{plain}"), &format!("{parent}{attached}"));
    assert!(plan.contains("ATTACH PARTITION \"public\".\"ledger_c\" FOR VALUES FROM (20) TO (30)"), "{plan}");
    let plan = check_plan(&format!("{parent}{attached}"), &format!("{parent}{plain}"));
    assert!(plan.contains("DETACH PARTITION \"public\".\"ledger_c\""), "{plan}");
    // Two neighbours moving their common bound: both are detached before either is attached
    // again, or they would overlap in between (h-adv S13).
    let neighbours =
        format!("{parent}CREATE TABLE ledger_b PARTITION OF ledger FOR VALUES FROM (10) TO (20);");
    let moved = neighbours
        .replace("FROM (0) TO (10)", "FROM (0) TO (15)")
        .replace("FROM (10) TO (20)", "FROM (15) TO (20)");
    check_plan(&neighbours, &moved);
    check_plan(&moved, &neighbours);
}

/// What PostgreSQL cannot change in place is refused with exit 2, naming the table and why, and
/// nothing is planned: a new partition key, a key column retyped, a table partitioned or no
/// longer, a parent dropped under a partition that stays.
#[test]
fn partition_changes_that_cannot_be_planned_are_refused() {
    if database().is_none() {
        return;
    }
    let parent = "CREATE TABLE ledger (id bigint NOT NULL, at int NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ledger_a PARTITION OF ledger FOR VALUES FROM (0) TO (10);
";
    let plain = "CREATE TABLE ledger (id bigint NOT NULL, at int NOT NULL);\n";
    let cases = [
        (parent.to_owned(), parent.replace("RANGE (at)", "RANGE (id)"), "changes its partition key"),
        (
            parent.to_owned(),
            parent.replace("at int", "at bigint"),
            "column at of table \"public\".\"ledger\" is part of its partition key",
        ),
        (plain.to_owned(), parent.to_owned(), "becomes partitioned"),
        (parent.to_owned(), plain.to_owned(), "stops being partitioned"),
        (
            parent.to_owned(),
            "CREATE TABLE ledger_a (id bigint NOT NULL, at int NOT NULL);".to_owned(),
            "is dropped while its partition \"public\".\"ledger_a\" stays",
        ),
    ];
    for (from, to, why) in cases {
        let (Some(at_from), Some(at_to)) = (database(), database()) else { return };
        at_from.execute(&from);
        at_to.execute(&to);
        let dir = migrations(&[]);
        let diff = haste(dir.path(), &["schema", "diff", "--from", &at_from.url, "--to", &at_to.url]);
        assert_eq!(diff.code, 2, "{why}: {diff:?}");
        assert!(
            diff.stderr.contains("\"public\".\"ledger\"") && diff.stderr.contains(why),
            "{why}: {diff:?}"
        );
        assert!(diff.stdout.is_empty(), "{why}: nothing planned: {diff:?}");
    }
}

/// PostgreSQL before 18 refuses a foreign key `NOT VALID` on a partitioned table: `migrate dev`
/// (online by default) adds it plain, saying it scans under its lock, and applies it.
#[test]
fn migrate_dev_adds_a_foreign_key_to_a_partitioned_table_plain() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-partition-fk");
    let v1 = "CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE ledger (id bigint NOT NULL, at int NOT NULL, account_id bigint) PARTITION BY RANGE (at);
CREATE TABLE ledger_a PARTITION OF ledger FOR VALUES FROM (0) TO (10);
";
    let v2 = format!(
        "{v1}ALTER TABLE ledger ADD CONSTRAINT ledger_account_fkey FOREIGN KEY (account_id) REFERENCES accounts;\n"
    );
    let dev = |desired: &str, name: &str| {
        dir.write("schema.sql", desired);
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
    };
    let init = dev(v1, "init");
    assert_eq!(init.code, 0, "{init:?}");
    db.execute("INSERT INTO accounts VALUES (1); INSERT INTO ledger VALUES (1, 5, 1)");
    let keyed = dev(&v2, "account_key");
    assert_eq!(keyed.code, 0, "{keyed:?}");
    let written = crate::migration_folders(&dir);
    let sql = fs::read_to_string(written.last().unwrap().join("migration.sql")).unwrap();
    assert!(
        sql.contains("-- lock: SHARE ROW EXCLUSIVE (blocks writes); scans the whole table\n")
            && sql.contains("ADD CONSTRAINT \"ledger_account_fkey\" FOREIGN KEY")
            && !sql.contains("VALIDATE")
            && sql.contains("REFERENCES accounts(id);\n"),
        "{sql}"
    );
    assert_eq!(crate::dev::matches(&dir, &db, &v2).code, 0);
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "haste's own migration passes its lint: {lint:?}\n{sql}");
}

/// A change cut into migrations of one deploy (a check changed commits as one; the unique key
/// is built concurrently after it) that creates a partitioned table with a foreign key to that
/// key: the key's migration says it is released with the first (`-- haste:release-with`), so
/// the table it keys is new there to every lint (offline, `--url` while pending, `deploy
/// --lint`), and no allowance is written that one of them would find unused (the allowance
/// of `fk-not-valid` offline failed `lint --url` and `deploy --lint` with `unused-suppression`).
#[test]
fn the_migrations_of_one_change_are_linted_as_one_release() {
    let Some(db) = database() else { return };
    let prod = database().unwrap();
    let dir = TempDir::new("dev-release-with");
    let v1 = "CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL, CONSTRAINT accounts_id_check CHECK (id > 0));";
    let v2 = "CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, CONSTRAINT accounts_id_check CHECK (id > 1));
CREATE TABLE events (at int NOT NULL, acode text REFERENCES accounts (code)) PARTITION BY RANGE (at);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (10);";
    let dev = |desired: &str, name: &str, extra: &[&str]| {
        dir.write("schema.sql", desired);
        let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name];
        args.extend_from_slice(extra);
        haste(dir.path(), &args)
    };
    assert_eq!(dev(v1, "init", &[]).code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    prod.execute("INSERT INTO accounts VALUES (2, 'a')");
    let changed = dev(v2, "events", &["--create-only"]);
    assert_eq!(changed.code, 0, "{changed:?}");
    let written = crate::migration_folders(&dir);
    assert_eq!(written.len(), 3, "the change is cut in two: {written:?}");
    let first = written[1].file_name().unwrap().to_string_lossy().into_owned();
    let after = fs::read_to_string(written[2].join("migration.sql")).unwrap();
    assert!(after.contains(&format!("-- haste:release-with {first}\n")), "{after}");
    assert!(!after.contains("haste:allow"), "{after}");
    for lint in [vec!["lint"], vec!["lint", "--url", &db.url], vec!["lint", "--url", &prod.url]] {
        let run = haste(dir.path(), &lint);
        assert_eq!(run.code, 0, "{lint:?}: {run:?}");
    }
    let deployed = haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--lint"]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    assert_eq!(crate::dev::matches(&dir, &prod, v2).code, 0);
}

/// A unique key added to a partitioned table that holds rows: each partition's key is built
/// concurrently first and the table's key takes them over (the plain `ADD CONSTRAINT ...
/// UNIQUE` built every partition's index under the lock, and failed haste's own lint and
/// `deploy --lint`); a primary key, which has no such form, is allowed with its reason. Both
/// reach the desired schema on a database with rows.
#[test]
fn a_key_added_to_a_partitioned_table_with_rows_is_built_partition_by_partition() {
    let Some(db) = database() else { return };
    let prod = database().unwrap();
    let dir = TempDir::new("dev-partitioned-key");
    let v1 =
        "CREATE TABLE m (id bigint NOT NULL, region text NOT NULL, note text) PARTITION BY LIST (region);
CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us');
CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu') PARTITION BY RANGE (id);
CREATE TABLE m_eu1 PARTITION OF m_eu FOR VALUES FROM (0) TO (100000);
CREATE INDEX m_us_region_id_key ON m_us (note);";
    let v2 = format!("{v1}\nALTER TABLE m ADD CONSTRAINT m_uniq UNIQUE (region, id);");
    let v3 = format!("{v2}\nALTER TABLE m ADD PRIMARY KEY (id, region);");
    let dev = |desired: &str, name: &str| {
        dir.write("schema.sql", desired);
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
    };
    assert_eq!(dev(v1, "init").code, 0);
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &prod.url]).code, 0);
    let rows =
        "INSERT INTO m SELECT g, CASE WHEN g % 2 = 0 THEN 'us' ELSE 'eu' END FROM generate_series(1, 5000) g";
    db.execute(rows);
    prod.execute(rows);
    let keyed = dev(&v2, "unique");
    assert_eq!(keyed.code, 0, "{keyed:?}");
    let sql =
        fs::read_to_string(crate::migration_folders(&dir).last().unwrap().join("migration.sql")).unwrap();
    // Named as PostgreSQL names them: past a name an index of the partition already has.
    for (leaf, key) in [("m_us", "m_us_region_id_key1"), ("m_eu1", "m_eu1_region_id_key")] {
        assert!(
            sql.contains(&format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"{key}\" ON \"public\".\"{leaf}\""
            )) && sql.contains(&format!("UNIQUE USING INDEX \"{key}\"")),
            "{leaf}: {sql}"
        );
    }
    let primary = dev(&v3, "primary");
    assert_eq!(primary.code, 0, "{primary:?}");
    for run in [vec!["lint"], vec!["migrate", "deploy", "--url", &prod.url, "--lint"]] {
        let done = haste(dir.path(), &run);
        assert_eq!(done.code, 0, "{run:?}: {done:?}");
    }
    assert_eq!(crate::dev::matches(&dir, &prod, &v3).code, 0);
}

/// A new partition under an `INVALID` index made `ON ONLY` (its partitions' indexes never all
/// attached): PostgreSQL gives the new partition an index of its own, which the desired schema
/// does not have, so the index is made again after the partition (`migrate dev` refused: its
/// migration did not reach the desired schema, exit 1).
#[test]
fn a_new_partition_under_an_invalid_index_gets_no_index_of_its_own() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-invalid-parent-index");
    let v1 =
        "CREATE TABLE m (id bigint NOT NULL, region text NOT NULL, note text) PARTITION BY LIST (region);
CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us');
CREATE INDEX m_note_idx ON ONLY m (note);";
    let v2 =
        v1.replace("CREATE INDEX", "CREATE TABLE m_ap PARTITION OF m FOR VALUES IN ('ap');\nCREATE INDEX");
    let dev = |desired: &str, name: &str| {
        dir.write("schema.sql", desired);
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", name])
    };
    assert_eq!(dev(v1, "init").code, 0);
    let added = dev(&v2, "partition");
    assert_eq!(added.code, 0, "{added:?}");
    assert_eq!(crate::dev::matches(&dir, &db, &v2).code, 0);
    assert_eq!(db.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'm_ap'").as_deref(), Some("0"));
    assert_eq!(haste(dir.path(), &["lint"]).code, 0);
    // Where the desired schema gives the new partition its index (made after the index), the
    // index stays, and with it the one a partition holding rows has attached.
    let v3 = format!(
        "{v2}\nCREATE INDEX m_us_note_idx ON m_us (note);\nALTER INDEX m_note_idx ATTACH PARTITION m_us_note_idx;"
    );
    assert_eq!(dev(&v3, "attached").code, 0);
    let v4 = format!("{v3}\nCREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu');");
    let kept = dev(&v4, "another");
    assert_eq!(kept.code, 0, "{kept:?}");
    let sql =
        fs::read_to_string(crate::migration_folders(&dir).last().unwrap().join("migration.sql")).unwrap();
    assert!(!sql.contains("DROP INDEX"), "{sql}");
    assert_eq!(crate::dev::matches(&dir, &db, &v4).code, 0);
}

/// The production dump corpus: the folder `HASTE_STRUCTURE_DUMPS` names, else
/// `shared/corpus/structure-dumps`, else `shared-cache/structure-dumps` (where
/// `scripts/structure-dumps-corpus` writes it) beside the project, in the nearest folder above
/// the project holding one (a worktree sits deeper than the main checkout); or `None` (after
/// saying so).
fn structure_dumps() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HASTE_STRUCTURE_DUMPS").map(PathBuf::from) {
        if path.is_dir() {
            return Some(path);
        }
        eprintln!(
            "SKIP: HASTE_STRUCTURE_DUMPS={} is not a folder; structure dump corpus skipped",
            path.display()
        );
        return None;
    }
    let project = fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap();
    let found = ["shared/corpus/structure-dumps", "shared-cache/structure-dumps"].iter().find_map(|corpus| {
        project.ancestors().skip(1).map(|dir| dir.join(corpus)).find(|path| path.is_dir())
    });
    if found.is_none() {
        eprintln!(
            "SKIP: no structure dump corpus (HASTE_STRUCTURE_DUMPS, ../shared/corpus/structure-dumps, \
             ../shared-cache/structure-dumps); scripts/structure-dumps-corpus builds it"
        );
    }
    found
}

/// What a catalog holds of the user's schemas, kind by kind; privileges as they apply (an object
/// without an ACL has its default privileges, as one whose ACL spells them out).
const CATALOG_COUNTS: &str = "
WITH nsp AS (SELECT * FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'),
rel AS (SELECT c.* FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace)
SELECT 'tables', count(*) FROM rel WHERE relkind IN ('r', 'p')
UNION ALL SELECT 'partitions', count(*) FROM rel WHERE relispartition AND relkind IN ('r', 'p')
UNION ALL SELECT 'indexes', count(*) FROM rel WHERE relkind IN ('i', 'I')
UNION ALL SELECT 'valid indexes', count(*) FROM rel JOIN pg_index x ON x.indexrelid = rel.oid WHERE x.indisvalid
UNION ALL SELECT 'attached indexes', count(*) FROM rel JOIN pg_inherits h ON h.inhrelid = rel.oid WHERE rel.relkind IN ('i', 'I')
UNION ALL SELECT 'constraints', count(*) FROM pg_constraint k JOIN rel ON rel.oid = k.conrelid
UNION ALL SELECT 'exclusion constraints', count(*) FROM pg_constraint k JOIN rel ON rel.oid = k.conrelid WHERE k.contype = 'x'
UNION ALL SELECT 'views', count(*) FROM rel WHERE relkind IN ('v', 'm')
UNION ALL SELECT 'functions', count(*) FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
UNION ALL SELECT 'triggers', count(*) FROM pg_trigger t JOIN rel ON rel.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL SELECT 'row security tables', count(*) FROM rel WHERE relrowsecurity
UNION ALL SELECT 'policies', count(*) FROM pg_policy p JOIN rel ON rel.oid = p.polrelid
UNION ALL SELECT 'privileges', (SELECT count(*) FROM rel, aclexplode(coalesce(rel.relacl,
        acldefault(CASE WHEN rel.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", rel.relowner))))
    + (SELECT count(*) FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid, aclexplode(a.attacl))
    + (SELECT count(*) FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace,
        aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))))
    + (SELECT count(*) FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace,
        aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))))
    + (SELECT count(*) FROM nsp, aclexplode(coalesce(nsp.nspacl, acldefault('n', nsp.nspowner))))
UNION ALL SELECT 'default privileges', count(*) FROM pg_default_acl d, aclexplode(d.defaclacl)
UNION ALL SELECT 'comments', (SELECT count(*) FROM pg_description d JOIN rel ON d.classoid = 'pg_class'::regclass AND d.objoid = rel.oid)
    + (SELECT count(*) FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
        JOIN nsp n ON n.oid = p.pronamespace)
    + (SELECT count(*) FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid
        JOIN nsp n ON n.oid = t.typnamespace)
    + (SELECT count(*) FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass
        AND d.objoid = k.oid JOIN nsp n ON n.oid = k.connamespace)
    + (SELECT count(*) FROM pg_description d JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid
        JOIN rel ON rel.oid = t.tgrelid)
    + (SELECT count(*) FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid
        JOIN rel ON rel.oid = p.polrelid)
    + (SELECT count(*) FROM pg_description d JOIN nsp ON d.classoid = 'pg_namespace'::regclass AND d.objoid = nsp.oid)";

fn catalog_counts(db: &TestDb) -> Vec<(String, String)> {
    db.query(CATALOG_COUNTS)
        .into_iter()
        .map(|row| (row[0].clone().unwrap_or_default(), row[1].clone().unwrap_or_default()))
        .collect()
}

/// The extensions a dump creates that this server cannot install.
fn missing_extensions(db: &TestDb, dump: &str) -> Vec<String> {
    dump.lines()
        .filter_map(|line| line.strip_prefix("CREATE EXTENSION IF NOT EXISTS "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.trim_matches('"').to_owned())
        .filter(|name| {
            db.value(&format!("SELECT count(*) FROM pg_available_extensions WHERE name = '{name}'"))
                .as_deref()
                == Some("0")
        })
        .collect()
}

/// The roles a dump grants to, revokes from, sets default privileges for, gives objects to or
/// names in a policy (pg_dump writes each on one line), but PUBLIC, the current user and the
/// predefined roles: the dump replays only where they exist.
fn roles_named(dump: &str) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    let mut add = |list: &str| {
        for role in list.split(',').map(|role| role.trim().trim_matches('"')) {
            let keyword = ["PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"]
                .iter()
                .any(|word| role.eq_ignore_ascii_case(word));
            if !role.is_empty() && !keyword && !role.starts_with("pg_") {
                roles.insert(role.to_owned());
            }
        }
    };
    for line in dump.lines().map(str::trim_end) {
        let statement = line.trim_end_matches(';');
        if let Some(rest) = statement.strip_prefix("ALTER DEFAULT PRIVILEGES FOR ROLE ") {
            add(rest.split(' ').next().unwrap_or_default());
        }
        let grants = statement.starts_with("GRANT ") || statement.starts_with("ALTER DEFAULT PRIVILEGES");
        if grants && let Some(at) = statement.rfind(" TO ") {
            let list = &statement[at + 4..];
            add(list.split(" WITH GRANT OPTION").next().unwrap().split(" GRANTED BY ").next().unwrap());
        }
        let revokes = statement.starts_with("REVOKE ") || statement.starts_with("ALTER DEFAULT PRIVILEGES");
        if revokes && let Some(at) = statement.rfind(" FROM ") {
            add(statement[at + 6..].split(" CASCADE").next().unwrap().split(" GRANTED BY ").next().unwrap());
        }
        if let Some(at) = statement.find(" OWNER TO ") {
            add(&statement[at + 10..]);
        }
        if statement.starts_with("CREATE POLICY ")
            && let Some(at) = statement.find(" TO ")
        {
            let list = &statement[at + 4..];
            add(list.split(" USING").next().unwrap().split(" WITH CHECK").next().unwrap());
        }
    }
    roles
}

/// The dump as a server older than the pg_dump that wrote it takes it: psql's meta-commands
/// (`\restrict`, which pg_dump 17.6 and later write around a dump) are no SQL, and on a server
/// before 17 the `transaction_timeout` setting and the `MAINTAIN` privilege do not exist (the
/// round trip then compares two databases without those grants).
fn replayable(dump: &str, server_version_num: u32) -> String {
    let before_17 = server_version_num < 170_000;
    let mut out = String::with_capacity(dump.len());
    for line in dump.lines() {
        if line.starts_with('\\') || (before_17 && line.starts_with("SET transaction_timeout")) {
            continue;
        }
        let privileges = ["GRANT ", "REVOKE "].iter().find(|verb| line.starts_with(**verb));
        match privileges.zip(line.find(" ON ")) {
            Some((verb, on)) if before_17 && line[..on].contains("MAINTAIN") => {
                let kept: Vec<&str> =
                    line[verb.len()..on].split(',').filter(|privilege| *privilege != "MAINTAIN").collect();
                if !kept.is_empty() {
                    out.push_str(&format!("{verb}{}{}\n", kept.join(","), &line[on..]));
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// What the round trip of one schema found: its catalog, kind by kind, when the re-created
/// database diffs as equal and holds as much; else why not.
fn round_trip(
    probe: &TestDb,
    work: &TempDir,
    name: &str,
    original: &str,
) -> Result<Vec<(String, String)>, String> {
    let roles = roles_named(original);
    haste_testkit::ensure_roles(&probe.url, &roles.iter().map(String::as_str).collect::<Vec<_>>());
    let source = database().unwrap();
    source.try_execute(original).map_err(|error| format!("{name} does not replay: {error}"))?;
    // Most index definitions are written by haste, the others printed by the server: all are the
    // server's text.
    let indexes = crate::schema::model(work, &source)["indexes"].as_array().unwrap().clone();
    let unlike = crate::schema::indexes_unlike_the_server(&indexes, &source);
    if !unlike.is_empty() {
        return Err(format!("{name}: index definitions unlike pg_get_indexdef's:\n{}", unlike.join("\n")));
    }
    let dump = haste(work.path(), &["schema", "dump", "--url", &source.url]);
    if dump.code != 0 {
        return Err(format!("{name}: schema dump failed: {dump:?}"));
    }
    let target = database().unwrap();
    target
        .try_execute(&dump.stdout)
        .map_err(|error| format!("{name}: haste's dump does not apply: {error}"))?;
    let diff = haste(work.path(), &["schema", "diff", "--from", &source.url, "--to", &target.url]);
    if diff.code != 0 {
        return Err(format!("{name}: the re-created database differs:\n{}{}", diff.stdout, diff.stderr));
    }
    let (counts, recreated) = (catalog_counts(&source), catalog_counts(&target));
    if recreated != counts {
        let unequal: Vec<String> = counts
            .iter()
            .zip(&recreated)
            .filter(|(a, b)| a != b)
            .map(|((kind, a), (_, b))| format!("{kind}: {a} replayed, {b} re-created"))
            .collect();
        return Err(format!("{name}: catalogs differ: {}", unequal.join("; ")));
    }
    Ok(counts)
}

/// Each production dump: replayed, dumped by haste, the dump applied to a fresh database; the
/// two diff as equal and their catalogs hold as many objects of each kind, valid indexes too.
#[test]
fn production_structure_dumps_round_trip_with_equal_catalogs() {
    let (Some(corpus), Some(probe)) = (structure_dumps(), database()) else { return };
    let mut files: Vec<PathBuf> = fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the corpus holds at least five dumps: {files:?}");
    let version: u32 = probe.value("SHOW server_version_num").unwrap().parse().unwrap();
    let work = TempDir::new("structure-dumps");
    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let original = replayable(&fs::read_to_string(file).unwrap(), version);
        let missing = missing_extensions(&probe, &original);
        if !missing.is_empty() {
            eprintln!("SKIP: {name} needs extensions this server lacks: {}", missing.join(", "));
            continue;
        }
        // Reported, never asserted: how long the round trip of a production schema takes.
        let started = std::time::Instant::now();
        match round_trip(&probe, &work, &name, &original) {
            Ok(counts) => {
                checked += 1;
                let counts: Vec<String> =
                    counts.iter().map(|(kind, count)| format!("{kind} {count}")).collect();
                eprintln!(
                    "{name} ({} bytes, {:.1} s): {}",
                    original.len(),
                    started.elapsed().as_secs_f64(),
                    counts.join(", ")
                );
            }
            Err(failure) => failures.push(failure),
        }
    }
    eprintln!("{checked} of {} structure dumps round-trip", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The fragments of production dumps that once broke the round trip
/// (crates/cli/tests/structure-dumps/fragments/<what broke>.sql, each with the reason on its
/// first lines): each holds it with equal catalogs.
#[test]
fn structure_dump_fragments_round_trip_with_equal_catalogs() {
    let Some(probe) = database() else { return };
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/structure-dumps/fragments");
    let mut files: Vec<PathBuf> =
        fs::read_dir(&folder).unwrap().flatten().map(|entry| entry.path()).collect();
    files.sort();
    assert!(!files.is_empty(), "fragments in {}", folder.display());
    let work = TempDir::new("structure-dump-fragments");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            round_trip(&probe, &work, &name, &fs::read_to_string(file).unwrap()).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
