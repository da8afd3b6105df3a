//! Random pairs of PostgreSQL schemas for the property tests of the planner (`haste-diff`) and
//! of `migrate dev`: tables with keys, foreign keys to earlier tables, unique constraints,
//! indexes (on one column or two), table and column checks, views and views over them,
//! materialized views (some indexed), a domain whose checks change, grants
//! on tables, columns, views and a partitioned table and its partition (to [`GRANTEES`]), comments (on tables, columns, indexes,
//! constraints, views and their columns, a domain and its check), an enum, and columns whose types change within a family
//! (some of which rewrite the table: `integer` to `bigint`, `varchar(20)` to `varchar(10)`)
//! or between numbers and text. Each side also comes with a few rows for every table, chosen
//! so that they fit the other side too: a migration between the two that fails on them is
//! the migration's fault, not the rows'.

use crate::Random;

/// Kinds of columns: a change of type within a family has a cast, and every type of a family
/// reads the family's row values.
#[derive(Clone, Copy, PartialEq)]
enum Family {
    Number,
    Text,
    Boolean,
    Time,
    Json,
    Uuid,
}

const FAMILIES: [Family; 6] =
    [Family::Number, Family::Text, Family::Boolean, Family::Time, Family::Json, Family::Uuid];

impl Family {
    /// The family's types, each with a default of that type.
    fn kinds(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Family::Number => {
                &[("integer", "0"), ("bigint", "1"), ("numeric(10,2)", "2.5"), ("smallint", "3")]
            }
            Family::Text => &[
                ("text", "'x'"),
                ("character varying(20)", "'y'"),
                ("character varying(10)", "'w'"),
                ("text COLLATE \"C\"", "'z'"),
            ],
            Family::Boolean => &[("boolean", "true")],
            Family::Time => &[("timestamp with time zone", "now()"), ("date", "CURRENT_DATE")],
            Family::Json => &[("jsonb", "'{}'::jsonb")],
            // A volatile default: adding such a column fills every row with its own value.
            Family::Uuid => &[("uuid", "gen_random_uuid()")],
        }
    }

    /// The value of row `n` (1 to 3), as a literal every type of the family reads; numbers
    /// and text share theirs (digits), so a column may also change between those two.
    fn row_value(self, n: usize) -> String {
        match self {
            Family::Number | Family::Text => format!("'{n}'"),
            Family::Boolean => n.is_multiple_of(2).to_string(),
            Family::Time => format!("'2024-01-0{n}'"),
            Family::Json => format!("'{{\"n\": {n}}}'"),
            Family::Uuid => format!("'00000000-0000-0000-0000-00000000000{n}'"),
        }
    }

    /// Whether the rows' values differ from one another, so a unique key on the column holds.
    fn distinct(self) -> bool {
        matches!(self, Family::Number | Family::Text)
    }
}

const LABELS: &[&str] = &["lead", "qualified", "proposal", "won", "lost"];
/// The roles random schemas grant to; roles belong to the server, so a test creates them first
/// ([`crate::ensure_roles`]).
pub const GRANTEES: [&str; 2] = ["haste_reader", "haste_writer"];
/// How many rows `RandomSchema::rows` puts in each table.
const ROWS: usize = 3;

/// One side of a random pair.
pub struct RandomSchema {
    /// The schema, as SQL statements.
    pub sql: String,
    /// `INSERT` statements that put a few rows in every table of the schema (parents first).
    pub rows: String,
}

impl RandomSchema {
    /// Two random schemas that share their shape (which tables there can be, the family of
    /// each column) and differ in the rest, drawn from `random`; in half of the shapes
    /// with a partitioned table and its indexes.
    pub fn pair(random: &mut Random) -> (RandomSchema, RandomSchema) {
        let shape = random.next(usize::MAX) as u64;
        let from = RandomSchema::generate(shape, random.next(usize::MAX) as u64, false);
        let to = RandomSchema::generate(shape, random.next(usize::MAX) as u64, true);
        (from, to)
    }

    /// One random schema. `shape` seeds what stays comparable between the two sides (which
    /// tables exist, column families, which table a foreign key may point to), `variant` what
    /// changes.
    fn generate(shape: u64, variant: u64, target: bool) -> RandomSchema {
        let mut stable = Random::new(shape);
        let mut random = Random::new(variant);
        let mut sql = String::new();
        let mut rows = String::new();
        // An enum whose labels usually grow from `from` to `to` (a longer prefix of a fixed
        // list), and sometimes lose one or change order, which needs a rebuild. The first label
        // (the rows' value) is never removed.
        let base = 2 + stable.next(3);
        let labels = if target { base + random.next(LABELS.len() - base + 1) } else { base };
        let mut chosen: Vec<&str> = LABELS[..labels].to_vec();
        if target && random.chance(25) {
            chosen.remove(1 + random.next(chosen.len() - 1));
        }
        if target && random.chance(25) {
            chosen.reverse();
        }
        let quoted: Vec<String> = chosen.iter().map(|l| format!("'{l}'")).collect();
        sql.push_str(&format!("CREATE TYPE stage AS ENUM ({});\n", quoted.join(", ")));
        // A range type (no column uses it: one that changes is dropped and created again).
        if random.chance(30) {
            let subtype = if random.chance(50) { "int4" } else { "int8" };
            sql.push_str(&format!("CREATE TYPE span AS RANGE (subtype = {subtype});\n"));
            if random.chance(30) {
                sql.push_str(&format!("COMMENT ON TYPE span IS 'span {}';\n", random.next(2)));
            }
        }
        let tables = 1 + stable.next(4);
        let mut present = Vec::new();
        for t in 0..tables {
            // Drawn before any random skip, so both sides agree on each column's family and on
            // the table a foreign key may point to.
            let families: Vec<Family> =
                (0..1 + stable.next(5)).map(|_| FAMILIES[stable.next(FAMILIES.len())]).collect();
            let parent = stable.next(t.max(1));
            if random.chance(15) {
                continue;
            }
            let table = format!("t{t}");
            let id_type = if random.chance(10) { "bigint" } else { "integer" };
            let mut columns = vec![format!("id {id_type} PRIMARY KEY")];
            // Each column's name and the value of each row in it.
            let mut values: Vec<(String, Vec<String>)> =
                vec![("id".into(), (1..=ROWS).map(|n| (10 + n).to_string()).collect())];
            let mut unique_candidate = None;
            for (c, family) in families.into_iter().enumerate() {
                if random.chance(20) {
                    continue;
                }
                let family = match family {
                    Family::Number if random.chance(10) => Family::Text,
                    Family::Text if random.chance(10) => Family::Number,
                    family => family,
                };
                let (kind, default) = family.kinds()[random.next(family.kinds().len())];
                let name = format!("c{c}");
                let mut column = format!("{name} {kind}");
                let with_default = random.chance(30);
                if with_default {
                    column.push_str(&format!(" DEFAULT {default}"));
                }
                if random.chance(30) {
                    column.push_str(" NOT NULL");
                }
                if family == Family::Number && random.chance(15) {
                    column.push_str(&format!(" CHECK ({name} >= 0)"));
                }
                columns.push(column);
                // Not with a default: added to a table with rows, the column would hold the
                // same value in each.
                if family.distinct() && !with_default && unique_candidate.is_none() {
                    unique_candidate = Some(name.clone());
                }
                values.push((name, (1..=ROWS).map(|n| family.row_value(n)).collect()));
            }
            if random.chance(30) {
                let default = if random.chance(30) { " DEFAULT 'lead'" } else { "" };
                columns.push(format!("stage stage{default}"));
                values.push(("stage".into(), vec!["'lead'".into(); ROWS]));
            }
            if t > 0 && present.contains(&parent) && random.chance(40) {
                columns.push(format!(
                    "parent_id integer REFERENCES t{parent} (id){}",
                    if random.chance(50) { " ON DELETE CASCADE" } else { "" }
                ));
                values.push(("parent_id".into(), (1..=ROWS).map(|n| (10 + n).to_string()).collect()));
            }
            sql.push_str(&format!("CREATE TABLE {table} ({});\n", columns.join(", ")));
            present.push(t);
            // A statistics target, kept through a change of the column's type.
            if random.chance(20) {
                let target = 100 * (1 + random.next(3));
                sql.push_str(&format!("ALTER TABLE {table} ALTER COLUMN id SET STATISTICS {target};\n"));
            }
            if let Some(name) = &unique_candidate
                && random.chance(25)
            {
                if random.chance(50) {
                    sql.push_str(&format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {table}_{name}_key UNIQUE ({name});\n"
                    ));
                } else {
                    sql.push_str(&format!("CREATE UNIQUE INDEX {table}_{name}_key ON {table} ({name});\n"));
                }
            }
            let plain: Vec<&str> =
                values.iter().map(|(name, _)| name.as_str()).filter(|name| name.starts_with('c')).collect();
            if let [first, second, ..] = plain[..]
                && random.chance(20)
            {
                sql.push_str(&format!("CREATE INDEX {table}_pair_idx ON {table} ({first}, {second});\n"));
            }
            if let Some((name, _)) = values.get(1).filter(|(name, _)| name.starts_with('c')) {
                if random.chance(40) {
                    sql.push_str(&format!(
                        "CREATE INDEX {table}_{name}_idx ON {table} ({name}){};\n",
                        if random.chance(50) { " WHERE id > 0" } else { "" }
                    ));
                    if random.chance(30) {
                        sql.push_str(&format!(
                            "COMMENT ON INDEX {table}_{name}_idx IS 'index {}';\n",
                            random.next(2)
                        ));
                    }
                }
                if random.chance(25) {
                    sql.push_str(&format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {table}_id_check CHECK (id > {});\n",
                        random.next(3)
                    ));
                    if random.chance(30) {
                        sql.push_str(&format!(
                            "COMMENT ON CONSTRAINT {table}_id_check ON {table} IS 'check {}';\n",
                            random.next(2)
                        ));
                    }
                }
                if random.chance(30) {
                    sql.push_str(&format!("CREATE VIEW v{t} AS SELECT id, {name} FROM {table};\n"));
                    // A view recreated (a column it reads retyped) gets its comments back.
                    if random.chance(30) {
                        sql.push_str(&format!("COMMENT ON VIEW v{t} IS 'view {}';\n", random.next(2)));
                    }
                    if random.chance(20) {
                        sql.push_str(&format!(
                            "COMMENT ON COLUMN v{t}.{name} IS 'column {}';\n",
                            random.next(2)
                        ));
                    }
                    if random.chance(40) {
                        sql.push_str(&format!("GRANT SELECT ON v{t} TO haste_reader;\n"));
                    }
                    // A view over the view: recreating the one means recreating the other.
                    if random.chance(30) {
                        sql.push_str(&format!("CREATE VIEW w{t} AS SELECT id FROM v{t} WHERE id > 0;\n"));
                        if random.chance(50) {
                            sql.push_str(&format!("GRANT SELECT ON w{t} TO haste_reader;\n"));
                        }
                    }
                }
                // A materialized view, perhaps indexed: a retyped column takes it through the
                // swap (created again, populated, with its index).
                if random.chance(15) {
                    sql.push_str(&format!(
                        "CREATE MATERIALIZED VIEW m{t} AS SELECT id, {name} FROM {table};\n"
                    ));
                    if random.chance(50) {
                        sql.push_str(&format!("CREATE UNIQUE INDEX m{t}_id_idx ON m{t} (id);\n"));
                    }
                }
                if random.chance(15) {
                    sql.push_str(&format!(
                        "GRANT SELECT (id, {name}), UPDATE ({name}) ON {table} TO haste_writer;\n"
                    ));
                }
                if random.chance(15) {
                    sql.push_str(&format!(
                        "COMMENT ON COLUMN {table}.{name} IS 'note {}';\n",
                        random.next(2)
                    ));
                }
            }
            if random.chance(20) {
                sql.push_str(&format!("COMMENT ON TABLE {table} IS 'about {}';\n", random.next(2)));
            }
            if random.chance(15) {
                let vacuum = if random.chance(50) { ", autovacuum_vacuum_scale_factor = 0.05" } else { "" };
                sql.push_str(&format!(
                    "ALTER TABLE {table} SET (fillfactor = {}{vacuum});\n",
                    70 + 10 * random.next(3)
                ));
            }
            match random.next(12) {
                0 => sql.push_str(&format!("ALTER TABLE {table} REPLICA IDENTITY FULL;\n")),
                1 => {
                    sql.push_str(&format!("ALTER TABLE {table} REPLICA IDENTITY USING INDEX {table}_pkey;\n"))
                }
                _ => {}
            }
            match random.next(8) {
                0 => sql.push_str(&format!("GRANT SELECT ON {table} TO haste_reader;\n")),
                1 => sql.push_str(&format!("GRANT SELECT, INSERT, UPDATE ON {table} TO haste_writer;\n")),
                2 => sql.push_str(&format!("GRANT SELECT ON {table} TO haste_reader WITH GRANT OPTION;\n")),
                _ => {}
            }
            let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
            let tuples: Vec<String> = (0..ROWS)
                .map(|row| {
                    let row: Vec<&str> = values.iter().map(|(_, rows)| rows[row].as_str()).collect();
                    format!("({})", row.join(", "))
                })
                .collect();
            rows.push_str(&format!(
                "INSERT INTO {table} ({}) VALUES {};\n",
                names.join(", "),
                tuples.join(", ")
            ));
        }
        if stable.chance(50) {
            partitioned_table(&mut random, target, &mut sql, &mut rows);
        }
        if stable.chance(40) {
            domain(&mut random, &mut sql, &mut rows);
        }
        RandomSchema { sql, rows }
    }
}

/// A domain typing a column of its own table, whose checks, default and `NOT NULL` differ
/// between the sides (a domain in use is altered in place: a check dropped, added `NOT VALID`
/// and validated); the rows (1 to 3) fit every variant.
fn domain(random: &mut Random, sql: &mut String, rows: &mut String) {
    let default = if random.chance(30) { " DEFAULT 5" } else { "" };
    let not_null = if random.chance(30) { " NOT NULL" } else { "" };
    sql.push_str(&format!(
        "CREATE DOMAIN score AS integer{default}{not_null} CONSTRAINT score_floor CHECK (VALUE >= -{});\n",
        random.next(2)
    ));
    if random.chance(40) {
        sql.push_str("ALTER DOMAIN score ADD CONSTRAINT score_cap CHECK (VALUE < 100);\n");
    }
    // A check replaced in place is a new constraint: its comment comes back.
    if random.chance(30) {
        sql.push_str(&format!(
            "COMMENT ON CONSTRAINT score_floor ON DOMAIN score IS 'floor {}';\n",
            random.next(2)
        ));
    }
    if random.chance(20) {
        sql.push_str("COMMENT ON DOMAIN score IS 'a score';\n");
    }
    sql.push_str("CREATE TABLE scores (id integer PRIMARY KEY, s score);\n");
    rows.push_str("INSERT INTO scores VALUES (1, 1), (2, 2), (3, 3);\n");
}

/// A range-partitioned `events` table, one partition of it partitioned again, and indexes on
/// it: created on the parent (PostgreSQL names the partitions' indexes), created as pg_dump
/// writes them (`ON ONLY`, each partition's under a name of its own, attached), or (on the
/// `from` side) left INVALID by a partition without its index. The `to` side may gain a
/// partition, whose indexes come with it. The parent's columns differ between the sides (a type,
/// a default, `NOT NULL`, a column of one side only), which reach the partitions from the
/// parent, and so may the first partition's bound (detached and attached again). Grants on the
/// parent and a partition, and views over views over the parent, differ too.
fn partitioned_table(random: &mut Random, target: bool, sql: &mut String, rows: &mut String) {
    let amount = ["integer", "bigint", "integer NOT NULL DEFAULT 0"][random.next(3)];
    let source = if random.chance(50) { ", source text DEFAULT 'web'" } else { "" };
    let bound = if random.chance(70) { "FROM (0) TO (10)" } else { "FROM (-5) TO (10)" };
    sql.push_str(&format!(
        "CREATE TABLE events (at integer NOT NULL, kind text NOT NULL, note text, amount {amount}{source}) PARTITION BY RANGE (at);
CREATE TABLE events_a PARTITION OF events FOR VALUES {bound};
CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (10) TO (20) PARTITION BY LIST (kind);
CREATE TABLE events_b_web PARTITION OF events_b FOR VALUES IN ('web');
CREATE TABLE events_b_other PARTITION OF events_b DEFAULT;
"
    ));
    if target && random.chance(30) {
        sql.push_str("CREATE TABLE events_c PARTITION OF events FOR VALUES FROM (20) TO (30);\n");
    }
    for (column, name) in [("kind", "events_kind_idx"), ("note", "index_events_on_note")] {
        match random.next(4) {
            0 => {}
            1 => sql.push_str(&format!("CREATE INDEX {name} ON events ({column});\n")),
            2 if !target => sql.push_str(&format!("CREATE INDEX {name} ON ONLY events ({column});\n")),
            _ => sql.push_str(&format!(
                "CREATE INDEX {name} ON ONLY events ({column});
CREATE INDEX {name}_a ON events_a ({column});
CREATE INDEX {name}_b ON events_b ({column});
ALTER INDEX {name} ATTACH PARTITION {name}_a;
ALTER INDEX {name} ATTACH PARTITION {name}_b;
"
            )),
        }
    }
    // Grants on the parent and on a partition (each table keeps its own), and a view over the
    // parent read by a view of its own: a retyped `amount` recreates both, grants given back.
    match random.next(3) {
        0 => {}
        1 => sql.push_str("GRANT SELECT ON events TO haste_reader;\n"),
        _ => sql.push_str(
            "GRANT SELECT, INSERT ON events TO haste_writer;\nGRANT SELECT ON events_a TO haste_reader;\n",
        ),
    }
    if random.chance(50) {
        sql.push_str(
            "CREATE VIEW recent_events AS SELECT at, kind, amount FROM events WHERE at >= 10;
CREATE VIEW recent_web_events AS SELECT at, amount FROM recent_events WHERE kind = 'web';
GRANT SELECT ON recent_web_events TO haste_reader;
",
        );
    }
    rows.push_str("INSERT INTO events (at, kind, note, amount) VALUES (1, 'web', 'a', 1), (11, 'web', 'b', 2), (12, 'app', NULL, 3);\n");
}
