//! The statements that wait for other transactions by design, and whom they wait for: the one
//! model behind `migrate plan`'s `waits_for` and the sessions a give-up names.

use haste_driver::{Connection, DbError, LockHolder};
use haste_sql::{CatalogTable, Dropped, KeyScope, Lock, StatementKind, quote_ident, quote_literal_escaped};

/// How a statement that waits by design waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DesignedWait {
    /// It waits for the sessions holding a lock on its tables that conflicts with this mode.
    pub mode: Lock,
    /// It also waits for every transaction of the database holding a snapshot, on any table
    /// (the last phases of a concurrent build): `pg_locks` shows those only as the build's
    /// waits on their virtual transaction ids.
    pub snapshots: bool,
}

/// How `kind` waits for other transactions by design, if it does: the concurrent index builds
/// and drops and `DETACH PARTITION CONCURRENTLY`, whose wait holds only a lock the
/// application's reads and writes never wait for.
pub(crate) fn waits_by_design(kind: StatementKind) -> Option<DesignedWait> {
    match kind {
        StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY" | "REINDEX CONCURRENTLY") => {
            Some(DesignedWait { mode: Lock::Share, snapshots: true })
        }
        StatementKind::NoTransaction("DROP INDEX CONCURRENTLY" | "DETACH PARTITION CONCURRENTLY") => {
            Some(DesignedWait { mode: Lock::AccessExclusive, snapshots: false })
        }
        _ => None,
    }
}

/// Adds the sessions of `more` that `sessions` does not name yet, in their order.
pub(crate) fn add_sessions(sessions: &mut Vec<LockHolder>, more: Vec<LockHolder>) {
    for session in more {
        if !sessions.iter().any(|seen| seen.pid == session.pid) {
            sessions.push(session);
        }
    }
}

/// The tables a PostgreSQL `statement` locks, quoted as SQL text: those it names, and those the
/// catalog names for it (an index's table, the tables joined by a foreign key it drops or
/// rebuilds): the one list behind `migrate plan`'s tables and blockers and the sessions a retry
/// names. Reads only the catalog, which takes no table lock.
pub(crate) fn locked_tables(
    connection: &mut dyn Connection,
    statement: &str,
) -> Result<Vec<String>, DbError> {
    let mut tables = haste_sql::tables_of(statement);
    let through: Vec<(CatalogTable, Vec<String>)> =
        haste_sql::catalog_tables_of(statement).into_iter().map(|found| (found, Vec::new())).collect();
    for table in catalog_tables(connection, &through)?.into_iter().flatten() {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    Ok(tables)
}

/// For each of `through`, the tables the catalog names for it (see [`CatalogTable`]),
/// schema-qualified and quoted as SQL text, in one query. A name without a schema is looked
/// for in the schemas given with it first (a search path the migration sets), then in the
/// session's; one not found names no table. The tables joined by foreign keys include the
/// partitions a partitioned table's foreign key reaches, not the statement's own table nor its
/// partitions (locked as the table's own).
pub(crate) fn catalog_tables(
    connection: &mut dyn Connection,
    through: &[(CatalogTable, Vec<String>)],
) -> Result<Vec<Vec<String>>, DbError> {
    if through.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<String> = through
        .iter()
        .enumerate()
        .map(|(place, (found, path))| {
            let regclass = |name: &str| {
                let found: Vec<String> = names_in_path(name, path)
                    .iter()
                    .map(|name| format!("to_regclass({})", quote_literal_escaped(name)))
                    .collect();
                format!("coalesce({})::oid", found.join(", "))
            };
            match found {
                CatalogTable::OfIndex(index) => format!(
                    "SELECT {place}, i.indrelid FROM pg_index i WHERE i.indexrelid = {}",
                    regclass(index)
                ),
                CatalogTable::DependentsOf(dropped) => {
                    let (catalog, root) = match dropped {
                        Dropped::Relation(name) => ("pg_class", regclass(name)),
                        Dropped::Type(name) => ("pg_type", format!("to_regtype({})::oid", quote_literal_escaped(name))),
                        Dropped::Schema(name) => {
                            ("pg_namespace", format!("to_regnamespace({})::oid", quote_literal_escaped(&quote_ident(name))))
                        }
                    };
                    // What depends on the object at any depth (PostgreSQL drops it too; what
                    // depends on one column of a table goes with that column only; an array
                    // type, a row type or a view's rule leads on to what depends on the array,
                    // the table or the view), then the
                    // relations those are or are on: a dropped foreign key's both tables, a
                    // trigger's, default's, rule's or policy's table, an index's table. The
                    // dropped relation itself, its partitions and an index's table are the
                    // statement's own.
                    format!(
                        "SELECT {place}, rel FROM (WITH RECURSIVE \
                           edge(classid, objid, objsubid, refclassid, refobjid, refobjsubid) AS ( \
                             SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid FROM pg_depend \
                               WHERE deptype IN ('n', 'a', 'i') \
                             UNION ALL SELECT 'pg_class'::regclass::oid, ev_class, 0, 'pg_rewrite'::regclass::oid, oid, 0 \
                               FROM pg_rewrite), \
                           dep(classid, objid, objsubid) AS (SELECT '{catalog}'::regclass::oid, {root}, 0 \
                             UNION SELECT d.classid, d.objid, d.objsubid FROM edge d \
                             JOIN dep ON d.refclassid = dep.classid AND d.refobjid = dep.objid \
                               AND (dep.objsubid = 0 OR d.refobjsubid = dep.objsubid)), \
                           own(oid) AS (SELECT CASE WHEN '{catalog}' = 'pg_class' THEN {root} END \
                             UNION SELECT x.indrelid FROM pg_index x \
                               WHERE '{catalog}' = 'pg_class' AND x.indexrelid = {root} \
                             UNION SELECT i.inhrelid FROM pg_inherits i JOIN own ON i.inhparent = own.oid) \
                           SELECT rel FROM ( \
                             SELECT objid AS rel FROM dep WHERE classid = 'pg_class'::regclass \
                               AND objid IN (SELECT oid FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm', 'f', 'S')) \
                             UNION SELECT i.indrelid FROM dep JOIN pg_index i \
                               ON dep.classid = 'pg_class'::regclass AND i.indexrelid = dep.objid \
                             UNION SELECT c.conrelid FROM dep JOIN pg_constraint c \
                               ON dep.classid = 'pg_constraint'::regclass AND c.oid = dep.objid \
                             UNION SELECT c.confrelid FROM dep JOIN pg_constraint c \
                               ON dep.classid = 'pg_constraint'::regclass AND c.oid = dep.objid \
                             UNION SELECT t.tgrelid FROM dep JOIN pg_trigger t \
                               ON dep.classid = 'pg_trigger'::regclass AND t.oid = dep.objid \
                             UNION SELECT a.adrelid FROM dep JOIN pg_attrdef a \
                               ON dep.classid = 'pg_attrdef'::regclass AND a.oid = dep.objid \
                             UNION SELECT r.ev_class FROM dep JOIN pg_rewrite r \
                               ON dep.classid = 'pg_rewrite'::regclass AND r.oid = dep.objid \
                             UNION SELECT p.polrelid FROM dep JOIN pg_policy p \
                               ON dep.classid = 'pg_policy'::regclass AND p.oid = dep.objid) reached \
                           WHERE rel <> 0 AND rel NOT IN (SELECT oid FROM own WHERE oid IS NOT NULL)) dependents"
                    )
                }
                CatalogTable::KeyPartners { table, through, referenced, referencing } => {
                    let table = regclass(table);
                    let attnums = |columns: &[String]| {
                        let names: Vec<String> = columns.iter().map(|column| quote_literal_escaped(column)).collect();
                        format!(
                            "ARRAY(SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = {table} \
                             AND a.attname = ANY (ARRAY[{}]::name[]))",
                            names.join(", ")
                        )
                    };
                    let (outgoing, incoming) = match through {
                        KeyScope::Table => ("TRUE".to_owned(), "TRUE".to_owned()),
                        KeyScope::Constraint(name) => (
                            format!("k.conname = {}", quote_literal_escaped(name)),
                            format!(
                                "k.conindid = (SELECT u.conindid FROM pg_constraint u WHERE u.conrelid = {table} \
                                 AND u.conname = {} AND u.contype IN ('p', 'u'))",
                                quote_literal_escaped(name)
                            ),
                        ),
                        KeyScope::Columns(columns) => (
                            format!("k.conkey && {}", attnums(columns)),
                            format!("k.confkey && {}", attnums(columns)),
                        ),
                    };
                    // The foreign keys chosen, with the copies PostgreSQL keeps of each for
                    // partitions (on either side), then every table they join.
                    format!(
                        "SELECT {place}, partner FROM (WITH RECURSIVE \
                           chosen(oid) AS (SELECT k.oid FROM pg_constraint k WHERE k.contype = 'f' AND \
                             (({referenced} AND k.conrelid = {table} AND {outgoing}) \
                             OR ({referencing} AND k.confrelid = {table} AND {incoming})) \
                             UNION SELECT k.oid FROM pg_constraint k JOIN chosen ON k.conparentid = chosen.oid), \
                           tree(oid) AS (SELECT {table} UNION \
                             SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid) \
                           SELECT partner FROM (SELECT k.conrelid FROM pg_constraint k JOIN chosen USING (oid) \
                             UNION SELECT k.confrelid FROM pg_constraint k JOIN chosen USING (oid)) joined(partner) \
                           WHERE partner NOT IN (SELECT oid FROM tree WHERE oid IS NOT NULL)) partners"
                    )
                }
            }
        })
        .collect();
    let sql = format!(
        "SELECT found.place, n.nspname, c.relname FROM ({}) found(place, oid) \
         JOIN pg_class c ON c.oid = found.oid JOIN pg_namespace n ON n.oid = c.relnamespace \
         ORDER BY 1, 2, 3",
        parts.join(" UNION ALL ")
    );
    let mut tables = vec![Vec::new(); through.len()];
    for row in connection.query_rows(&sql)? {
        if let [Some(place), Some(schema), Some(name)] = row.as_slice()
            && let Some(found) = place.parse::<usize>().ok().and_then(|place| tables.get_mut(place))
        {
            let table = format!("{}.{}", quote_ident(schema), quote_ident(name));
            if !found.contains(&table) {
                found.push(table);
            }
        }
    }
    Ok(tables)
}

/// The names a table's name as SQL text may stand for, in the order PostgreSQL looks: one with
/// a schema itself; one without, in each schema of `path` (a search path a migration set), then
/// as the session finds it.
pub(crate) fn names_in_path(table: &str, path: &[String]) -> Vec<String> {
    match qualified(table) {
        true => vec![table.to_owned()],
        false => path
            .iter()
            .map(|schema| format!("{}.{table}", quote_ident(schema)))
            .chain([table.to_owned()])
            .collect(),
    }
}

/// Whether a table's name as SQL text (quoted by [`quote_ident`]) holds a schema: a dot
/// outside the quotes.
fn qualified(table: &str) -> bool {
    let mut quoted = false;
    table.chars().any(|c| {
        if c == '"' {
            quoted = !quoted;
        }
        c == '.' && !quoted
    })
}
