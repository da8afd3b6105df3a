//! Reads a database's schema into [`haste_schema::Schema`] with one catalog query per kind of
//! object (twenty-two in all, however many tables there are, the indexes' on a second session
//! alongside; a twenty-third for owners when asked; one or two more only for key and constraint
//! columns the columns read cannot name), those of kinds a first query finds no object of left
//! unsent. Objects owned by extensions and the migration history tables (haste's and Prisma's)
//! are left out.

use std::collections::HashMap;

use haste_driver::DbError;
use haste_schema::{
    Attribute, Collation, CollationProvider, Column, ColumnSettings, ColumnStorage, Comment, CommentObject,
    Composite, Compression, Constraint, ConstraintKind, Domain, DomainConstraint, Enum, Extension, Function,
    Identity, Index, IndexKey, Namespace, NotModelled, NotModelledKind, NotModelledObject, Policy, Range,
    References, ReferentialAction, ReplicaIdentity, Rule, Schema, Sequence, Statistics, StorageParameter,
    StorageStrategy, Table, TableKind, Trigger, TriggerFiring, View, ViewColumnDefault, WithNoData,
};
use haste_sql::{quote_literal, quote_literal_escaped};
use tokio_postgres::SimpleQueryRow;

use crate::PgConnection;

/// Separates list items inside one text column (ASCII unit separator).
const ITEM: char = '\u{1f}';
/// Separates the fields of one item (ASCII record separator).
const FIELD: char = '\u{1e}';

/// User schemas: not the system's, not temporary or toast ones.
pub(crate) const USER_SCHEMA: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
/// PostgreSQL's `FirstNormalObjectId`: every object made after `initdb` has an oid from here on
/// (the counter wraps around to it, never below it); the system's own are below.
const FIRST_NORMAL_OID: u32 = 16384;
/// Tables haste leaves out of every schema: migration history.
const HISTORY_TABLE: &str = "(c.relname LIKE '\\_haste\\_%' OR c.relname = '_prisma_migrations')";

pub(crate) fn not_extension_owned(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// Not an object PostgreSQL made along with another and drops with it (`pg_depend.deptype` `i`:
/// a type's array type, the cast from a range type to its multirange): the other's `CREATE`
/// makes it again.
fn not_internal(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = '{catalog}'::regclass AND i.objid = {oid} AND i.deptype = 'i')"
    )
}

/// Not a function PostgreSQL made for a type and drops with it (a range type's constructors,
/// `pg_depend.deptype` `i` on the type): `CREATE TYPE` makes them again.
pub(crate) fn not_type_internal(oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend ti WHERE ti.classid = 'pg_proc'::regclass AND ti.objid = {oid} \
         AND ti.refclassid = 'pg_type'::regclass AND ti.deptype = 'i')"
    )
}

/// The objects of one kind the model does not hold, as one column `name` (see
/// [`NotModelledObject::name`]): those of user schemas, or of the database, that no extension
/// made. `class_filter` keeps the relations the model reads tables from.
fn not_modelled_query(kind: NotModelledKind, class_filter: &str) -> String {
    let qualified =
        |namespace: &str, name: &str| format!("quote_ident({namespace}) || '.' || quote_ident({name})");
    // An object of a schema: `alias` over `catalog`, its name and namespace in those columns.
    let in_schema = |catalog: &str, alias: &str, name: &str, namespace: &str| {
        format!(
            "SELECT {} AS name FROM {catalog} {alias} JOIN pg_namespace n ON n.oid = {alias}.{namespace} \
             WHERE {USER_SCHEMA} AND {}",
            qualified("n.nspname", &format!("{alias}.{name}")),
            not_extension_owned(catalog, &format!("{alias}.oid")),
        )
    };
    // An object of the database, made after `initdb`.
    let in_database = |catalog: &str, alias: &str, name: &str| {
        format!(
            "SELECT quote_ident({alias}.{name}) AS name FROM {catalog} {alias} WHERE {alias}.oid >= {FIRST_NORMAL_OID} AND {}",
            not_extension_owned(catalog, &format!("{alias}.oid")),
        )
    };
    match kind {
        NotModelledKind::Aggregate => format!(
            "SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.prokind = 'a' AND {USER_SCHEMA} AND {}",
            not_extension_owned("pg_proc", "p.oid"),
        ),
        NotModelledKind::Operator => format!(
            "SELECT o.oid::regoperator::text AS name FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace \
             WHERE {USER_SCHEMA} AND {}",
            not_extension_owned("pg_operator", "o.oid"),
        ),
        NotModelledKind::OperatorClass => format!(
            "SELECT {} || ' USING ' || quote_ident(am.amname) AS name FROM pg_opclass c \
             JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod \
             WHERE {USER_SCHEMA} AND {}",
            qualified("n.nspname", "c.opcname"),
            not_extension_owned("pg_opclass", "c.oid"),
        ),
        // `CREATE OPERATOR CLASS` without `FAMILY` makes a family of its name: the class says it.
        NotModelledKind::OperatorFamily => format!(
            "SELECT {} || ' USING ' || quote_ident(am.amname) AS name FROM pg_opfamily f \
             JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod \
             WHERE {USER_SCHEMA} AND {} AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid \
             AND c.opcname = f.opfname AND c.opcnamespace = f.opfnamespace)",
            qualified("n.nspname", "f.opfname"),
            not_extension_owned("pg_opfamily", "f.oid"),
        ),
        NotModelledKind::TextSearchConfiguration => in_schema("pg_ts_config", "c", "cfgname", "cfgnamespace"),
        NotModelledKind::TextSearchDictionary => in_schema("pg_ts_dict", "d", "dictname", "dictnamespace"),
        NotModelledKind::TextSearchParser => in_schema("pg_ts_parser", "p", "prsname", "prsnamespace"),
        NotModelledKind::TextSearchTemplate => in_schema("pg_ts_template", "t", "tmplname", "tmplnamespace"),
        NotModelledKind::Conversion => in_schema("pg_conversion", "c", "conname", "connamespace"),
        NotModelledKind::Cast => format!(
            "SELECT '(' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')' AS name \
             FROM pg_cast c WHERE c.oid >= {FIRST_NORMAL_OID} AND {} AND {}",
            not_extension_owned("pg_cast", "c.oid"),
            not_internal("pg_cast", "c.oid"),
        ),
        NotModelledKind::BaseType => format!(
            "SELECT {} AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype IN ('b', 'p') AND {USER_SCHEMA} AND {} AND {}",
            qualified("n.nspname", "t.typname"),
            not_extension_owned("pg_type", "t.oid"),
            not_internal("pg_type", "t.oid"),
        ),
        NotModelledKind::TypedTable => format!(
            "SELECT {} || ' OF ' || format_type(c.reloftype, NULL) AS name FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND c.reloftype <> 0 AND {class_filter}",
            qualified("n.nspname", "c.relname"),
        ),
        NotModelledKind::ForeignTable => format!(
            "SELECT {} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'f' AND {class_filter}",
            qualified("n.nspname", "c.relname"),
        ),
        NotModelledKind::ForeignDataWrapper => in_database("pg_foreign_data_wrapper", "w", "fdwname"),
        NotModelledKind::ForeignServer => in_database("pg_foreign_server", "s", "srvname"),
        // `pg_user_mappings` hides the options (passwords) from whoever may not read them.
        NotModelledKind::UserMapping => {
            "SELECT 'FOR ' || CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(m.usename) END \
             || ' SERVER ' || quote_ident(m.srvname) AS name FROM pg_user_mappings m"
                .into()
        }
        NotModelledKind::EventTrigger => in_database("pg_event_trigger", "evt", "evtname"),
        NotModelledKind::Publication => in_database("pg_publication", "p", "pubname"),
        // A cluster-wide catalog: this database's; its connection string is not read.
        NotModelledKind::Subscription => "SELECT quote_ident(s.subname) AS name FROM pg_subscription s \
             WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            .into(),
        NotModelledKind::AccessMethod => in_database("pg_am", "a", "amname"),
        NotModelledKind::Language => in_database("pg_language", "l", "lanname"),
        NotModelledKind::Transform => format!(
            "SELECT 'FOR ' || format_type(t.trftype, NULL) || ' LANGUAGE ' || quote_ident(l.lanname) AS name \
             FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE t.oid >= {FIRST_NORMAL_OID} AND {}",
            not_extension_owned("pg_transform", "t.oid"),
        ),
        // `attstattarget` is -1 for the default before PostgreSQL 17, NULL since.
        NotModelledKind::IndexStatisticsTarget => format!(
            "SELECT {} || ' column ' || a.attnum || ' (' || a.attstattarget || ')' AS name FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('i', 'I') AND a.attnum > 0 AND a.attstattarget >= 0 AND {class_filter}",
            qualified("n.nspname", "c.relname"),
        ),
    }
}

/// Whether [`not_modelled_query`] of `kind` may find an object, as an SQL condition that reads
/// little: every object made after `initdb` has an oid from [`FIRST_NORMAL_OID`] on, so a range
/// of the catalog's oid index answers where the query joins and filters. True whenever the query
/// would find one. Most databases have none of these, and the query of every kind (a union of
/// 23: 20-50 ms to plan and 30-60 ms to run at 1,000 tables on a busy machine) was the fourth
/// costliest.
fn not_modelled_may_exist(kind: NotModelledKind) -> String {
    let made_after_initdb =
        |catalog: &str| format!("EXISTS (SELECT 1 FROM {catalog} x WHERE x.oid >= {FIRST_NORMAL_OID})");
    match kind {
        NotModelledKind::Aggregate => {
            format!("EXISTS (SELECT 1 FROM pg_proc x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.prokind = 'a')")
        }
        NotModelledKind::Operator => made_after_initdb("pg_operator"),
        NotModelledKind::OperatorClass => made_after_initdb("pg_opclass"),
        NotModelledKind::OperatorFamily => made_after_initdb("pg_opfamily"),
        NotModelledKind::TextSearchConfiguration => made_after_initdb("pg_ts_config"),
        NotModelledKind::TextSearchDictionary => made_after_initdb("pg_ts_dict"),
        NotModelledKind::TextSearchParser => made_after_initdb("pg_ts_parser"),
        NotModelledKind::TextSearchTemplate => made_after_initdb("pg_ts_template"),
        NotModelledKind::Conversion => made_after_initdb("pg_conversion"),
        NotModelledKind::Cast => made_after_initdb("pg_cast"),
        // Every table has an array type of its row type: an array type its element type names
        // (`typarray`) is one PostgreSQL made with it, internal to it.
        NotModelledKind::BaseType => format!(
            "EXISTS (SELECT 1 FROM pg_type x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.typtype IN ('b', 'p') \
             AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = x.typelem AND e.typarray = x.oid))"
        ),
        NotModelledKind::TypedTable => format!(
            "EXISTS (SELECT 1 FROM pg_class x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.relkind IN ('r', 'p') \
             AND x.reloftype <> 0)"
        ),
        NotModelledKind::ForeignTable => "EXISTS (SELECT 1 FROM pg_foreign_table)".into(),
        NotModelledKind::ForeignDataWrapper => made_after_initdb("pg_foreign_data_wrapper"),
        // A user mapping is for a server (and `pg_user_mapping` is the superuser's to read).
        NotModelledKind::ForeignServer | NotModelledKind::UserMapping => {
            made_after_initdb("pg_foreign_server")
        }
        NotModelledKind::EventTrigger => made_after_initdb("pg_event_trigger"),
        NotModelledKind::Publication => made_after_initdb("pg_publication"),
        NotModelledKind::Subscription => format!("EXISTS ({})", not_modelled_query(kind, "")),
        NotModelledKind::AccessMethod => made_after_initdb("pg_am"),
        NotModelledKind::Language => made_after_initdb("pg_language"),
        NotModelledKind::Transform => made_after_initdb("pg_transform"),
        // PostgreSQL sets the statistics target of an index's expression columns only.
        NotModelledKind::IndexStatisticsTarget => format!(
            "EXISTS (SELECT 1 FROM pg_index x WHERE x.indexrelid >= {FIRST_NORMAL_OID} AND x.indexprs IS NOT NULL)"
        ),
    }
}

/// What [`PgConnection::read_schema`] reads only where a cheap look at its catalog finds
/// something: where there are none (1,000 tables and nothing else), planning and running their
/// queries in a session whose catalog caches are cold cost more than reading the tables did.
#[derive(Clone, Copy)]
enum Present {
    /// A comment on an object other than a schema, table or table column.
    Comments,
    Collations,
    Enums,
    Domains,
    Ranges,
    Sequences,
    Functions,
    Policies,
    Statistics,
    /// Rules other than a view's own (`_RETURN`).
    Rules,
}

impl Present {
    /// Every one, in the order of [`Present`]'s variants (its number is its place here).
    const ALL: [Present; 10] = [
        Present::Comments,
        Present::Collations,
        Present::Enums,
        Present::Domains,
        Present::Ranges,
        Present::Sequences,
        Present::Functions,
        Present::Policies,
        Present::Statistics,
        Present::Rules,
    ];

    /// An SQL condition true whenever its query would find something, as
    /// [`not_modelled_may_exist`]'s: every object made after `initdb` has an oid from
    /// [`FIRST_NORMAL_OID`] on, and `pg_policies` lists every row of `pg_policy`.
    fn may_exist(self) -> String {
        let user_type = |kind: char| {
            format!(
                "EXISTS (SELECT 1 FROM pg_type x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.typtype = '{kind}')"
            )
        };
        match self {
            // The comments of tables and their columns are read with them.
            Present::Comments => format!(
                "EXISTS (SELECT 1 FROM pg_description d LEFT JOIN pg_class c ON d.classoid = 'pg_class'::regclass \
                 AND c.oid = d.objoid WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid <> 'pg_namespace'::regclass \
                 AND c.relkind IS DISTINCT FROM 'r' AND c.relkind IS DISTINCT FROM 'p')"
            ),
            Present::Collations => {
                format!("EXISTS (SELECT 1 FROM pg_collation x WHERE x.oid >= {FIRST_NORMAL_OID})")
            }
            Present::Enums => user_type('e'),
            Present::Domains => user_type('d'),
            Present::Ranges => {
                format!("EXISTS (SELECT 1 FROM pg_range x WHERE x.rngtypid >= {FIRST_NORMAL_OID})")
            }
            Present::Sequences => {
                format!("EXISTS (SELECT 1 FROM pg_sequence x WHERE x.seqrelid >= {FIRST_NORMAL_OID})")
            }
            Present::Functions => format!(
                "EXISTS (SELECT 1 FROM pg_proc x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.prokind IN ('f', 'p'))"
            ),
            Present::Policies => "EXISTS (SELECT 1 FROM pg_policy)".into(),
            Present::Statistics => {
                format!("EXISTS (SELECT 1 FROM pg_statistic_ext x WHERE x.oid >= {FIRST_NORMAL_OID})")
            }
            Present::Rules => format!(
                "EXISTS (SELECT 1 FROM pg_rewrite x WHERE x.oid >= {FIRST_NORMAL_OID} AND x.rulename <> '_RETURN')"
            ),
        }
    }
}

type Row = SimpleQueryRow;

/// A field's text; none for NULL.
fn field(row: &Row, i: usize) -> Option<&str> {
    row.try_get(i).ok().flatten()
}

pub(crate) fn text(row: &Row, i: usize) -> String {
    field(row, i).unwrap_or_default().to_owned()
}

/// A trigger's or rule's firing (`tgenabled`, `ev_enabled`) in column `i`.
fn firing(row: &Row, i: usize, of: &str) -> Result<TriggerFiring, DbError> {
    TriggerFiring::from_code(&text(row, i))
        .ok_or_else(|| DbError::message(format!("unexpected {of} firing `{}`", text(row, i))))
}

pub(crate) fn optional(row: &Row, i: usize) -> Option<String> {
    field(row, i).map(str::to_owned)
}

pub(crate) fn flag(row: &Row, i: usize) -> bool {
    field(row, i) == Some("t")
}

fn number(row: &Row, i: usize) -> i64 {
    field(row, i).unwrap_or_default().parse().unwrap_or_default()
}

fn items(row: &Row, i: usize) -> Vec<String> {
    field(row, i).map(|list| list.split(ITEM).map(str::to_owned).collect()).unwrap_or_default()
}

/// Joined to a type's oid in `column`: the relation (`rc`, in schema `rn`) whose row type it is,
/// or whose row type its elements are (an array of rows).
fn row_type_join(column: &str) -> String {
    format!(
        "JOIN pg_type rt ON rt.oid = {column} JOIN pg_class rc ON rc.oid = CASE WHEN rt.typrelid <> 0 \
         THEN rt.typrelid ELSE (SELECT e.typrelid FROM pg_type e WHERE e.oid = rt.typelem) END \
         JOIN pg_namespace rn ON rn.oid = rc.relnamespace"
    )
}

/// The name of collation `co`, as a column or attribute's `COLLATE` takes it: qualified unless it
/// is PostgreSQL's own, so a user's collation in another schema than `public` is found.
const COLLATION_NAME: &str = "coalesce((SELECT quote_ident(cn.nspname) || '.' FROM pg_namespace cn \
     WHERE cn.oid = co.collnamespace AND cn.nspname <> 'pg_catalog'), '') || quote_ident(co.collname)";

/// The relation of [`row_type_join`] as a pair for [`pairs`].
const ROW_TYPE_RELATION: &str = "rn.nspname || E'\\x1e' || rc.relname";

/// Per index (`indexrelid`; the caller adds which, and `GROUP BY x.indexrelid`): `keys`, per key
/// `descending`, `nulls first` and the operator class's name when `pg_get_indexdef` writes it, as
/// it writes it; `columns`, the key columns' names (none when a key is an expression); `included`,
/// the `INCLUDE` columns. The class is left out when it is the default of the key's type (a
/// domain's base type; PostgreSQL's `GetDefaultOpClass`, whose exact match wins over a class for a
/// binary-compatible type, so `text_ops` is written on a `citext` column: `other` is that type's
/// default class for the method when it is another one; a type has at most one per method), and
/// qualified when the search path does not show it. One grouped pass joins the catalogs once:
/// subqueries per index scanned `pg_opclass` twice per key (about 140 ms at 3,000 indexes, more
/// than `pg_get_indexdef` itself). [`index_keys_of`] reads the same in the client for the indexes
/// whose keys are all columns of a table the model read (a third of the index query's time at 3,000
/// indexes was this pass, most of it hashing all of `pg_attribute`); this query is for the others
/// (expression keys, a materialized view's index).
const INDEX_KEYS: &str = "SELECT x.indexrelid, string_agg((u.option & 1 <> 0)::text || E'\\x1e' \
    || (u.option & 2 <> 0)::text || E'\\x1e' || coalesce(CASE WHEN NOT opc.opcdefault OR other.oid IS NOT NULL \
      THEN CASE WHEN pg_opclass_is_visible(opc.oid) THEN quote_ident(opc.opcname) \
      ELSE quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END END, ''), E'\\x1f' ORDER BY u.o) \
      FILTER (WHERE u.o <= x.indnkeyatts) AS keys, \
    CASE WHEN bool_and(x.indexprs IS NULL) THEN string_agg(ka.attname, E'\\x1f' ORDER BY u.o) \
      FILTER (WHERE u.o <= x.indnkeyatts) END AS columns, \
    string_agg(ka.attname, E'\\x1f' ORDER BY u.o) FILTER (WHERE u.o > x.indnkeyatts) AS included, \
    pg_get_indexdef(x.indexrelid) \
    FROM pg_index x \
    CROSS JOIN LATERAL unnest(x.indkey::int2[], x.indclass::oid[], x.indoption::int2[]) WITH ORDINALITY u(k, class, option, o) \
    LEFT JOIN pg_opclass opc ON opc.oid = u.class LEFT JOIN pg_namespace opn ON opn.oid = opc.opcnamespace \
    LEFT JOIN pg_attribute ka ON ka.attrelid = CASE WHEN u.k <> 0 THEN x.indrelid ELSE x.indexrelid END \
      AND ka.attnum = CASE WHEN u.k <> 0 THEN u.k ELSE u.o END \
    LEFT JOIN pg_type kt ON kt.oid = ka.atttypid \
    LEFT JOIN pg_opclass other ON other.opcdefault AND other.opcmethod = opc.opcmethod \
      AND other.opcintype = coalesce(nullif(kt.typbasetype, 0), kt.oid) AND other.oid <> opc.oid";

/// The names of a constraint's columns (`conkey`, a check's in name order), of the columns it
/// references (`confkey`) and the referenced table's schema and name, by the constraint's `oid`:
/// for the constraints whose numbers or referenced table are not among those the model read.
const CONSTRAINT_COLUMNS: &str = "SELECT k.oid, \
    (SELECT string_agg(a.attname, E'\\x1f' ORDER BY CASE WHEN k.contype = 'c' THEN 0 ELSE u.o END, a.attname) \
      FROM unnest(k.conkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n), \
    (SELECT string_agg(a.attname, E'\\x1f' ORDER BY u.o) \
      FROM unnest(k.confkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n), \
    fn.nspname, f.relname \
    FROM pg_constraint k LEFT JOIN pg_class f ON f.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace";

/// An `int2[]` of attribute numbers (`{1,3}`) as numbers; none when NULL.
fn attribute_numbers_of(row: &Row, i: usize) -> Vec<i64> {
    field(row, i)
        .map(|list| {
            list.trim_matches(|c| c == '{' || c == '}')
                .split(',')
                .filter(|number| !number.is_empty())
                .map(|number| number.parse().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// An operator class, as [`index_keys_of`] needs it.
struct OperatorClass {
    /// `opcmethod`: the index access method's oid.
    method: String,
    /// `opcdefault`.
    default: bool,
    /// `opcintype`: the type it is for.
    input_type: String,
    /// Its name as `pg_get_indexdef` writes it: quoted, and qualified when the search path does
    /// not show it.
    written: String,
}

/// The operator classes by oid, and the default ones by access method and input type (`opcintype`).
struct OperatorClasses {
    by_oid: HashMap<String, OperatorClass>,
    defaults: HashMap<String, HashMap<String, Vec<String>>>,
}

/// What an index and a constraint need of a table's column beyond the model's `Column`: its
/// `attnum`, the oid of its type (a domain's base type), its collation's oid and its name as the
/// server's `quote_ident` writes it (as `pg_get_indexdef` does).
#[derive(Clone)]
struct ColumnNumber {
    number: i64,
    key_type: String,
    /// Whether `key_type` is itself a domain (a domain of a domain), whose base type
    /// `GetDefaultOpClass` would look for further down.
    key_type_is_domain: bool,
    /// `attcollation`'s oid.
    collation: String,
    written: String,
}

/// An index's key columns read by attribute number ([`index_keys_of`]).
#[derive(Default)]
struct IndexColumns {
    /// The key columns' names, in key order.
    names: Vec<String>,
    keys: Vec<IndexKey>,
    /// The `INCLUDE` columns' names.
    included: Vec<String>,
    /// Every column (keys, then `INCLUDE`) as `pg_get_indexdef` writes its name.
    written: Vec<String>,
    /// Whether `pg_get_indexdef` would print the keys as [`plain_index_elements`] writes them:
    /// each key's collation is its column's, and its operator class is not a default reached
    /// through binary coercion or a domain of a domain (which default `GetDefaultOpClass`
    /// takes then, and so whether the class is printed, only the server knows). A class that is
    /// not a default is always printed, the exact type's default never.
    plain: bool,
}

/// An index's key column names, keys and `INCLUDE` column names (row columns 13 to 16: `indkey`,
/// `indclass`, `indoption`, `indnkeyatts`) from its table's columns and their `attributes`, by
/// [`INDEX_KEYS`]'s rule: the operator class is written unless it is the default one of the
/// key's type and that type has no other default class for the method. None when a key is an
/// expression or a number or class is not among those read: [`INDEX_KEYS`] answers then.
fn index_keys_of(
    row: &Row,
    columns: &[Column],
    attributes: &[ColumnNumber],
    classes: &OperatorClasses,
) -> Option<IndexColumns> {
    let numbers = field(row, 13).unwrap_or_default();
    let mut key_classes = field(row, 14).unwrap_or_default().split_whitespace();
    let mut options = field(row, 15).unwrap_or_default().split_whitespace();
    let key_count = number(row, 16);
    let mut collations = field(row, 18).unwrap_or_default().split_whitespace();
    let mut read = IndexColumns { plain: true, ..IndexColumns::default() };
    for (position, column) in numbers.split_whitespace().enumerate() {
        let column: i64 = column.parse().ok().filter(|&column| column != 0)?;
        let at = attributes.binary_search_by_key(&column, |attribute| attribute.number).ok()?;
        let name = columns[at].name.clone();
        read.written.push(attributes[at].written.clone());
        if position as i64 >= key_count {
            read.included.push(name);
            continue;
        }
        let class_oid = key_classes.next()?;
        let class = classes.by_oid.get(class_oid)?;
        let key_type = &attributes[at].key_type;
        let other_default = classes
            .defaults
            .get(&class.method)
            .and_then(|of_method| of_method.get(key_type))
            .is_some_and(|defaults| defaults.iter().any(|oid| oid != class_oid));
        let option: i64 = options.next()?.parse().ok()?;
        let collation = collations.next()?;
        let column = &attributes[at];
        read.plain &= (collation == "0" || collation == column.collation)
            && (!class.default || (class.input_type == column.key_type && !column.key_type_is_domain));
        read.keys.push(IndexKey {
            descending: option & 1 != 0,
            nulls_first: option & 2 != 0,
            opclass: (!class.default || other_default).then(|| class.written.clone()),
        });
        read.names.push(name);
    }
    Some(read)
}

/// What `definition` (as `pg_get_indexdef` prints it) says after `head` (`CREATE ... USING
/// <method> `, built by the index query as PostgreSQL builds it): a definition of another form is
/// an error, never a statement cut at the wrong place.
fn elements_of(definition: &str, head: &str) -> Result<String, DbError> {
    definition
        .strip_prefix(head)
        .map(str::to_owned)
        .ok_or_else(|| DbError::message(format!("unexpected index definition `{definition}`")))
}

/// What `pg_get_indexdef` prints after `USING <method> ` for an index whose keys are columns
/// and that has no storage parameters, operator class options, collations other than its
/// columns' or `NULLS NOT DISTINCT` (the index query asks the server for every other): as
/// `pg_get_indexdef_worker` writes it, each key's name, operator class when not the default and
/// order (`DESC`, then `NULLS LAST` where that is not a descending key's default, `NULLS FIRST`
/// where it is not an ascending one's), `INCLUDE`, then the predicate as `pg_get_expr` prints it.
fn plain_index_elements(columns: &IndexColumns, predicate: Option<&str>) -> String {
    let mut elements = String::from("(");
    for (at, written) in columns.written.iter().enumerate() {
        match at {
            0 => {}
            at if at == columns.keys.len() => elements.push_str(") INCLUDE ("),
            _ => elements.push_str(", "),
        }
        elements.push_str(written);
        let Some(key) = columns.keys.get(at) else { continue };
        if let Some(opclass) = &key.opclass {
            elements.push(' ');
            elements.push_str(opclass);
        }
        match (key.descending, key.nulls_first) {
            (true, true) => elements.push_str(" DESC"),
            (true, false) => elements.push_str(" DESC NULLS LAST"),
            (false, true) => elements.push_str(" NULLS FIRST"),
            (false, false) => {}
        }
    }
    elements.push(')');
    if let Some(predicate) = predicate {
        elements.push_str(" WHERE ");
        elements.push_str(predicate);
    }
    elements
}

/// A comma-separated list of oids the server gave, checked to be numbers.
fn oid_list<'a>(oids: impl Iterator<Item = &'a str>) -> Result<String, DbError> {
    let oids = oids
        .map(|oid| oid.parse::<u32>().map(|oid| oid.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| DbError::message(format!("unexpected oid: {error}")))?;
    Ok(oids.join(", "))
}

/// The keys of an index: `descending`, `nulls first` and the operator class written (empty
/// when none), per key.
fn index_keys(row: &Row, i: usize) -> Vec<IndexKey> {
    items(row, i)
        .into_iter()
        .map(|item| {
            let mut fields = item.split(FIELD);
            let mut next = || fields.next().unwrap_or_default().to_owned();
            let (descending, nulls_first, opclass) = (next() == "true", next() == "true", next());
            IndexKey { descending, nulls_first, opclass: (!opclass.is_empty()).then_some(opclass) }
        })
        .collect()
}

/// A domain's checks: name, `convalidated` and definition, per check; `NOT VALID`, which the
/// definition ends with for one not validated, is the flag's to say.
fn domain_constraints(row: &Row, i: usize) -> Vec<DomainConstraint> {
    items(row, i)
        .into_iter()
        .filter_map(|item| {
            let mut fields = item.splitn(3, FIELD);
            let (name, validated, definition) = (fields.next()?, fields.next()? == "true", fields.next()?);
            let check = if validated {
                definition
            } else {
                definition.strip_suffix(" NOT VALID").unwrap_or(definition)
            };
            Some(DomainConstraint { name: name.to_owned(), check: check.to_owned(), validated })
        })
        .collect()
}

/// A composite type's attributes: name, type and collation (empty for the type's own), per
/// attribute.
fn attributes(row: &Row, i: usize) -> Vec<Attribute> {
    items(row, i)
        .into_iter()
        .filter_map(|item| {
            let mut fields = item.splitn(3, FIELD);
            let (name, data_type, collation) = (fields.next()?, fields.next()?, fields.next()?);
            Some(Attribute {
                name: name.to_owned(),
                data_type: data_type.to_owned(),
                collation: (!collation.is_empty()).then(|| collation.to_owned()),
            })
        })
        .collect()
}

fn pairs(row: &Row, i: usize) -> Vec<(String, String)> {
    items(row, i)
        .into_iter()
        .filter_map(|item| item.split_once(FIELD).map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect()
}

/// A column's statistics target (column 12), storage and its type's (13, 14) and compression
/// (15).
fn column_settings(row: &Row) -> Result<ColumnSettings, DbError> {
    let strategy = |i: usize| {
        StorageStrategy::from_code(&text(row, i))
            .ok_or_else(|| DbError::message(format!("unexpected storage `{}`", text(row, i))))
    };
    let (strategy, type_default) = (strategy(13)?, strategy(14)?);
    Ok(ColumnSettings {
        statistics_target: optional(row, 12).and_then(|target| target.parse().ok()),
        storage: (strategy != type_default).then_some(ColumnStorage { strategy, type_default }),
        compression: Compression::from_code(&text(row, 15)),
        options: parameters(items(row, 16))?,
    })
}

/// `pg_class.reloptions` entries, checked and sorted by name.
fn parameters(options: impl IntoIterator<Item = String>) -> Result<Vec<StorageParameter>, DbError> {
    let mut parameters = options
        .into_iter()
        .map(|option| StorageParameter::parse(&option).map_err(DbError::message))
        .collect::<Result<Vec<_>, _>>()?;
    parameters.sort();
    Ok(parameters)
}

/// A table's storage parameters (column 12) and its TOAST table's (column 13, named `toast.`
/// here as in `WITH (...)`), checked and sorted by name.
fn storage_parameters(row: &Row) -> Result<Vec<StorageParameter>, DbError> {
    let toast = items(row, 13).into_iter().map(|option| format!("toast.{option}"));
    parameters(items(row, 12).into_iter().chain(toast))
}

/// The settings the catalog's printers read, as a schema is read whoever reads it (pg_dump pins
/// most of them too). The search path: the printers leave out the schema of every name it
/// shows, so under a role whose path is `app, public`, `app.f()` would be read as `f()` and a
/// dump applied elsewhere would land in the wrong schema; pinned to `public`, names there are
/// unqualified and every other is qualified. The others change how constants in defaults,
/// checks, predicates and views are printed: a date `'02/01/2024'` under `DateStyle = 'SQL,
/// DMY'` is another day elsewhere, `extra_float_digits` below 3 loses digits, `TimeZone` and
/// `IntervalStyle` make equal schemas look different, `quote_all_identifiers` quotes every
/// name and type, `standard_conforming_strings` off writes `E'...'` literals, `bytea_output`
/// and `lc_monetary` change how bytes and money are written.
const PINNED_SETTINGS: [(&str, &str); 9] = [
    ("search_path", "public"),
    ("DateStyle", "ISO, MDY"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("TimeZone", "UTC"),
    ("quote_all_identifiers", "off"),
    ("standard_conforming_strings", "on"),
    ("bytea_output", "hex"),
    ("lc_monetary", "C"),
];

/// One statement setting `settings` for the session.
fn set_settings<'a>(settings: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let set: Vec<String> = settings
        .map(|(name, value)| {
            format!("set_config({}, {}, false)", quote_literal(name), quote_literal_escaped(value))
        })
        .collect();
    format!("SELECT {}", set.join(", "))
}

/// One statement pinning [`PINNED_SETTINGS`] for the session.
fn pin_settings() -> String {
    set_settings(PINNED_SETTINGS.iter().copied())
}

impl PgConnection {
    /// The schema of the connected database, owners left out.
    pub fn introspect(&mut self) -> Result<Schema, DbError> {
        self.introspect_with_owners(false)
    }

    /// The schema of the connected database, with the owners that are not the role reading it
    /// when `owners` (`owners = true`).
    ///
    /// The catalog's printers (`pg_get_expr`, `pg_get_indexdef`, `pg_get_viewdef`,
    /// `format_type`, `regprocedure`) print by the session's settings ([`PINNED_SETTINGS`]), so
    /// the session reads with those pinned, and gets its own back after, for a connection used
    /// again.
    pub fn introspect_with_owners(&mut self, owners: bool) -> Result<Schema, DbError> {
        // In autocommit a statement starts its own transaction: the two clocks are equal.
        let current: Vec<String> = PINNED_SETTINGS
            .iter()
            .map(|(name, _)| format!("current_setting({})", quote_literal(name)))
            .collect();
        let settings = self.text_rows(&format!(
            "SELECT current_setting('server_version_num')::int >= 150000, \
             statement_timestamp() = transaction_timestamp(), {}",
            current.join(", ")
        ))?;
        let settings = settings.first().ok_or_else(|| DbError::message("no settings"))?;
        let (nulls_not_distinct, alone) = (flag(settings, 0), flag(settings, 1));
        let previous: Vec<(&str, String)> = PINNED_SETTINGS
            .iter()
            .enumerate()
            .map(|(at, (name, _))| (*name, text(settings, at + 2)))
            .collect();
        self.value(&pin_settings())?;
        let schema = self.read_schema(owners, nulls_not_distinct, alone);
        let restored =
            self.value(&set_settings(previous.iter().map(|(name, value)| (*name, value.as_str()))));
        let schema = schema?;
        restored?;
        Ok(schema)
    }

    /// `nulls_not_distinct`: whether the server has `pg_index.indnullsnotdistinct` (15 and later).
    /// `alone`: whether the session is outside a transaction block, where another session sees
    /// what it sees.
    fn read_schema(
        &mut self,
        owners: bool,
        nulls_not_distinct: bool,
        alone: bool,
    ) -> Result<Schema, DbError> {
        let class_filter =
            format!("{USER_SCHEMA} AND NOT {HISTORY_TABLE} AND {}", not_extension_owned("pg_class", "c.oid"));
        let type_filter = format!("{USER_SCHEMA} AND {}", not_extension_owned("pg_type", "t.oid"));
        let mut schema = Schema::default();

        // The elements are what `pg_get_indexdef` prints after `USING <method> `: its head is
        // built here as PostgreSQL builds it (quoted by the server's own `quote_ident`, `ONLY`
        // for a partitioned table's index) and checked, so a head of another form is an error,
        // never a statement cut at the wrong place. `pg_get_indexdef` (about 30 µs an index, most
        // of a schema's introspection) is asked here only of an index with more than columns (an
        // expression key, storage parameters, an operator class's options, `NULLS NOT DISTINCT`);
        // the others' definitions are written in the client from their typed keys
        // ([`plain_index_elements`]) exactly as it prints them, unless their keys say otherwise
        // ([`IndexColumns::plain`]: a collation other than the column's, a default operator class
        // of another type), and then [`INDEX_KEYS`] brings the server's. Judged in the client,
        // those two cost nothing; in this query they were a third of its time.
        // `OFFSET 0` keeps the lateral a subquery: pulled up, it could call `pg_get_indexdef`
        // once per use of `d.def`.
        let distinct_nulls = if nulls_not_distinct { "NOT x.indnullsnotdistinct AND " } else { "" };
        let index_query = format!(
            "SELECT n.nspname, c.relname, i.relname, d.def, \
             pg_get_expr(x.indpred, x.indrelid), x.indexprs IS NOT NULL, x.indisvalid, pn.nspname, p.relname, x.indisunique, am.amname, \
             d.head, x.indrelid, x.indkey, x.indclass, x.indoption, x.indnkeyatts, x.indexrelid, x.indcollation \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_am am ON am.oid = i.relam \
             CROSS JOIN LATERAL (SELECT CASE WHEN x.indexprs IS NULL AND i.reloptions IS NULL AND {distinct_nulls}\
               NOT EXISTS (SELECT 1 FROM pg_attribute ia WHERE ia.attrelid = x.indexrelid AND ia.attoptions IS NOT NULL) \
               THEN NULL ELSE pg_get_indexdef(x.indexrelid) END AS def, \
               'CREATE ' || CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || quote_ident(i.relname) \
               || ' ON ' || CASE WHEN i.relkind = 'I' THEN 'ONLY ' ELSE '' END || quote_ident(n.nspname) || '.' \
               || quote_ident(c.relname) || ' USING ' || quote_ident(am.amname) || ' ' AS head OFFSET 0) d \
             LEFT JOIN pg_inherits h ON h.inhrelid = x.indexrelid LEFT JOIN pg_class p ON p.oid = h.inhparent \
             LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             WHERE {class_filter} \
             AND x.indexrelid NOT IN (SELECT k.conindid FROM pg_constraint k WHERE k.contype IN ('p', 'u', 'x')) \
             ORDER BY 1, 3",
        );
        // The index query is the longest (`pg_get_indexdef` for some indexes, the others' keys for
        // all): it runs on a session of
        // its own while this one reads the rest, unless this one is inside a transaction (which
        // another session would not see into).
        let indexes_alongside = alone.then(|| self.alongside(vec![pin_settings(), index_query.clone()]));
        // Which catalogs hold what the queries below read, so that those with nothing to find
        // are not sent: the kinds the model does not hold first, then [`Present`]'s.
        let probes: Vec<String> = (NotModelledKind::ALL.iter().map(|kind| not_modelled_may_exist(*kind)))
            .chain(Present::ALL.iter().map(|what| what.may_exist()))
            .collect();
        let found = self.text_rows(&format!("SELECT {}", probes.join(", ")))?;
        let found = found.first().ok_or_else(|| DbError::message("no answer to which objects exist"))?;
        let present = |what: Present| flag(found, NotModelledKind::ALL.len() + what as usize);
        schema.schemas = self
            .text_rows(&format!(
                "SELECT n.nspname, obj_description(n.oid, 'pg_namespace') FROM pg_namespace n \
                 WHERE {USER_SCHEMA} AND {} ORDER BY 1",
                not_extension_owned("pg_namespace", "n.oid")
            ))?
            .iter()
            .map(|row| Namespace { name: text(row, 0), comment: optional(row, 1) })
            .collect();
        schema.extensions = self
            .text_rows(
                "SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
                 WHERE e.extname <> 'plpgsql' ORDER BY 1",
            )?
            .iter()
            .map(|row| Extension { name: text(row, 0), schema: text(row, 1) })
            .collect();
        // Read through `to_jsonb`: the columns differ between versions (`colliculocale` became
        // `colllocale` in 17, `collicurules` is 16's).
        if present(Present::Collations) {
            schema.collations = self
            .text_rows(&format!(
                "SELECT n.nspname, c.collname, c.collprovider, coalesce(j->>'colllocale', j->>'colliculocale'), \
                 j->>'collcollate', j->>'collctype', coalesce(j->>'collisdeterministic', 'true'), j->>'collicurules' \
                 FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace, to_jsonb(c) j \
                 WHERE {USER_SCHEMA} AND {} ORDER BY 1, 2",
                not_extension_owned("pg_collation", "c.oid")
            ))?
            .iter()
            .filter_map(|row| {
                Some(Collation {
                    schema: text(row, 0),
                    name: text(row, 1),
                    provider: CollationProvider::from_code(&text(row, 2))?,
                    locale: optional(row, 3),
                    lc_collate: optional(row, 4),
                    lc_ctype: optional(row, 5),
                    deterministic: text(row, 6) == "true",
                    rules: optional(row, 7),
                })
            })
            .collect();
        }
        if present(Present::Enums) {
            schema.enums = self
            .text_rows(&format!(
                "SELECT n.nspname, t.typname, (SELECT string_agg(e.enumlabel, E'\\x1f' ORDER BY e.enumsortorder) \
                 FROM pg_enum e WHERE e.enumtypid = t.oid) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE t.typtype = 'e' AND {type_filter} ORDER BY 1, 2"
            ))?
            .iter()
            .map(|row| Enum { schema: text(row, 0), name: text(row, 1), values: items(row, 2) })
            .collect();
        }
        if present(Present::Domains) {
            schema.domains = self
            .text_rows(&format!(
                "SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, \
                 (SELECT string_agg(c.conname || E'\\x1e' || c.convalidated || E'\\x1e' || pg_get_constraintdef(c.oid), \
                 E'\\x1f' ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), \
                 CASE WHEN t.typcollation <> bt.typcollation THEN {COLLATION_NAME} END \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype \
                 LEFT JOIN pg_collation co ON co.oid = t.typcollation \
                 WHERE t.typtype = 'd' AND {type_filter} ORDER BY 1, 2"
            ))?
            .iter()
            .map(|row| Domain {
                schema: text(row, 0),
                name: text(row, 1),
                base_type: text(row, 2),
                collation: optional(row, 6),
                not_null: flag(row, 3),
                default: optional(row, 4),
                constraints: domain_constraints(row, 5),
            })
            .collect();
        }
        schema.composites = self
            .text_rows(&format!(
                "SELECT n.nspname, t.typname, (SELECT string_agg(a.attname || E'\\x1e' || format_type(a.atttypid, a.atttypmod) \
                 || E'\\x1e' || CASE WHEN a.attcollation <> at.typcollation THEN {COLLATION_NAME} ELSE '' END, \
                 E'\\x1f' ORDER BY a.attnum) FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation \
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) \
                 , (SELECT string_agg(DISTINCT {ROW_TYPE_RELATION}, E'\\x1f') FROM pg_attribute a {ROW_TYPE_JOIN} \
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class r ON r.oid = t.typrelid \
                 WHERE t.typtype = 'c' AND r.relkind = 'c' AND {type_filter} ORDER BY 1, 2",
                ROW_TYPE_JOIN = row_type_join("a.atttypid"),
            ))?
            .iter()
            .map(|row| Composite {
                schema: text(row, 0),
                name: text(row, 1),
                attributes: attributes(row, 2),
                row_types: pairs(row, 3),
            })
            .collect();
        if present(Present::Ranges) {
            schema.ranges = self
            .text_rows(&format!(
                "SELECT n.nspname, t.typname, format_type(r.rngsubtype, NULL), \
                 CASE WHEN NOT opc.opcdefault THEN CASE WHEN pg_opclass_is_visible(opc.oid) THEN quote_ident(opc.opcname) \
                   ELSE quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END END, \
                 CASE WHEN r.rngcollation <> st.typcollation THEN {COLLATION_NAME} END, \
                 dn.nspname, dp.proname, mn.nspname, mt.typname \
                 FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_type st ON st.oid = r.rngsubtype \
                 JOIN pg_opclass opc ON opc.oid = r.rngsubopc JOIN pg_namespace opn ON opn.oid = opc.opcnamespace \
                 LEFT JOIN pg_collation co ON co.oid = r.rngcollation \
                 LEFT JOIN pg_proc dp ON dp.oid = r.rngsubdiff LEFT JOIN pg_namespace dn ON dn.oid = dp.pronamespace \
                 JOIN pg_type mt ON mt.oid = r.rngmultitypid JOIN pg_namespace mn ON mn.oid = mt.typnamespace \
                 WHERE {type_filter} ORDER BY 1, 2"
            ))?
            .iter()
            .map(|row| Range {
                schema: text(row, 0),
                name: text(row, 1),
                subtype: text(row, 2),
                subtype_opclass: optional(row, 3),
                collation: optional(row, 4),
                subtype_diff: optional(row, 5).zip(optional(row, 6)),
                multirange: (text(row, 7), text(row, 8)),
            })
            .collect();
        }
        if present(Present::Sequences) {
            schema.sequences = self
            .text_rows(&format!(
                "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, \
                 s.seqcache, s.seqcycle, o.relname, a.attname, d.deptype = 'i' \
                 FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass \
                   AND d.deptype IN ('a', 'i') \
                 LEFT JOIN pg_class o ON o.oid = d.refobjid LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE {class_filter} AND NOT coalesce(o.relname LIKE '\\_haste\\_%' OR o.relname = '_prisma_migrations', false) ORDER BY 1, 2"
            ))?
            .iter()
            .map(|row| Sequence {
                schema: text(row, 0),
                name: text(row, 1),
                data_type: text(row, 2),
                start: number(row, 3),
                increment: number(row, 4),
                min: number(row, 5),
                max: number(row, 6),
                cache: number(row, 7),
                cycle: flag(row, 8),
                owned_by: optional(row, 9).zip(optional(row, 10)),
                identity: flag(row, 11),
            })
            .collect();
        }

        let table_rows = self.text_rows(&format!(
            "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence, \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
             CASE WHEN c.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname) \
               FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace \
               WHERE i.inhrelid = c.oid) END, \
             CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
             ds.description, c.relrowsecurity, c.relforcerowsecurity, \
             CASE WHEN c.relispartition THEN (SELECT count(*) - 1 FROM pg_partition_ancestors(c.oid)) ELSE 0 END, \
             array_to_string(c.reloptions, E'\\x1f'), array_to_string(tc.reloptions, E'\\x1f'), c.relreplident, \
             CASE WHEN c.relreplident = 'i' THEN (SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid \
               WHERE x.indrelid = c.oid AND x.indisreplident) END, \
             CASE WHEN NOT c.relispartition THEN (SELECT string_agg(pn.nspname || E'\\x1e' || p.relname, E'\\x1f' ORDER BY i.inhseqno) \
               FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace \
               WHERE i.inhrelid = c.oid) END, \
             (SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid \
               WHERE x.indrelid = c.oid AND x.indisclustered) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid \
             LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = c.oid AND ds.objsubid = 0 \
             WHERE c.relkind IN ('r', 'p') AND {class_filter} \
             ORDER BY 2, 3"
        ))?;
        let mut tables: Vec<(String, Table)> = table_rows
            .iter()
            .map(|row| -> Result<(String, Table), DbError> {
                let kind = match (text(row, 3).as_str(), text(row, 4).as_str()) {
                    ("p", _) => TableKind::Partitioned { key: text(row, 5) },
                    (_, "u") => TableKind::Unlogged,
                    _ => TableKind::Regular,
                };
                let table = Table {
                    schema: text(row, 1),
                    name: text(row, 2),
                    kind,
                    partition_of: optional(row, 6).zip(optional(row, 7)),
                    partition_depth: number(row, 11) as usize,
                    inherits: pairs(row, 16),
                    columns: Vec::new(),
                    constraints: Vec::new(),
                    comment: optional(row, 8),
                    row_security: flag(row, 9),
                    force_row_security: flag(row, 10),
                    storage_parameters: storage_parameters(row)?,
                    replica_identity: ReplicaIdentity::from_code(&text(row, 14), optional(row, 15))
                        .ok_or_else(|| {
                            DbError::message(format!("unexpected replica identity `{}`", text(row, 14)))
                        })?,
                    clustered_on: optional(row, 17),
                };
                Ok((text(row, 0), table))
            })
            .collect::<Result<_, _>>()?;
        let position: HashMap<String, usize> =
            tables.iter().enumerate().map(|(i, (oid, _))| (oid.clone(), i)).collect();
        // Per table, each column's `attnum` (ascending, as the columns come), the oid of its
        // type and its quoted name: how a constraint's `conkey` and `confkey` and an index's keys
        // are turned into names, an index key's operator class is judged and a plain index's
        // definition is written.
        let mut attributes: Vec<Vec<ColumnNumber>> = vec![Vec::new(); tables.len()];
        for row in self.text_rows(&format!(
            "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
             nullif(a.attidentity, ''), CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
             CASE WHEN a.attcollation <> t.typcollation THEN {COLLATION_NAME} END, ds.description, NOT a.attislocal, a.attnum, \
             coalesce(nullif(t.typbasetype, 0), t.oid), nullif(a.attstattarget, -1), a.attstorage, t.typstorage, a.attcompression, \
             array_to_string(a.attoptions, E'\\x1f'), quote_ident(a.attname), a.attcollation, bt.typtype = 'd' \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON bt.oid = t.typbasetype LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             LEFT JOIN pg_collation co ON co.oid = a.attcollation \
             LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass AND ds.objoid = a.attrelid AND ds.objsubid = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {class_filter} ORDER BY a.attrelid, a.attnum"
        ))? {
            if let Some(&i) = position.get(field(&row, 0).unwrap_or_default()) {
                attributes[i].push(ColumnNumber {
                    number: number(&row, 10),
                    key_type: text(&row, 11),
                    key_type_is_domain: flag(&row, 19),
                    collation: text(&row, 18),
                    written: text(&row, 17),
                });
                tables[i].1.columns.push(Column {
                    name: text(&row, 1),
                    data_type: text(&row, 2),
                    not_null: flag(&row, 3),
                    default: optional(&row, 4),
                    identity: optional(&row, 5).as_deref().and_then(Identity::from_code),
                    generated: optional(&row, 6),
                    collation: optional(&row, 7),
                    comment: optional(&row, 8),
                    inherited: flag(&row, 9),
                    settings: column_settings(&row)?,
                });
            }
        }
        // A check reads its columns in no order: they come in name order. A key is plain when its
        // definition says nothing but its columns (its index's storage parameters and tablespace
        // it does not print, so they are not part of the model); a key `WITHOUT OVERLAPS`
        // (PostgreSQL 18) has an exclusion index; `NULLS NOT DISTINCT` is PostgreSQL 15's (older
        // servers lack the column). The columns of `conkey` and `confkey` and a referenced table's
        // name come from the tables and columns read above (subqueries per constraint and joins
        // doubled this query's time); those of a constraint that are not all among them (a system
        // column, a referenced table left out of the model) are asked for afterwards, by
        // `CONSTRAINT_COLUMNS`.
        let mut unresolved: Vec<(String, usize, usize)> = Vec::new();
        for row in self.text_rows(&format!(
            "SELECT k.conrelid, k.conname, k.contype, pg_get_constraintdef(k.oid), k.convalidated, k.condeferrable, \
             k.conkey, CASE WHEN k.contype IN ('p', 'u') AND NOT k.condeferrable THEN (SELECT x.indnkeyatts = x.indnatts \
               AND NOT x.indisexclusion{nulls_distinct} FROM pg_index x WHERE x.indexrelid = k.conindid) ELSE false END, \
             k.confrelid, k.confkey, k.confdeltype, k.confupdtype, k.oid \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal AND {class_filter} ORDER BY k.conrelid, k.conname",
            nulls_distinct = if nulls_not_distinct { " AND NOT x.indnullsnotdistinct" } else { "" },
        ))? {
            // The query asks for the kinds the model holds only.
            if let (Some(&i), Some(kind)) = (position.get(field(&row, 0).unwrap_or_default()), ConstraintKind::from_code(&text(&row, 2))) {
                let action = |column: usize| {
                    ReferentialAction::from_code(&text(&row, column)).ok_or_else(|| {
                        DbError::message(format!("unexpected foreign key action `{}`", text(&row, column)))
                    })
                };
                let column_names = |table: usize, numbers: usize| {
                    attribute_numbers_of(&row, numbers)
                        .into_iter()
                        .map(|number| {
                            let at = attributes[table].binary_search_by_key(&number, |a| a.number).ok()?;
                            Some(tables[table].1.columns[at].name.clone())
                        })
                        .collect::<Option<Vec<String>>>()
                };
                let mut columns = column_names(i, 6);
                if let (ConstraintKind::Check, Some(names)) = (kind, columns.as_mut()) {
                    names.sort();
                }
                let mut resolved = columns.is_some();
                let references = if kind == ConstraintKind::ForeignKey {
                    let referenced = position.get(field(&row, 8).unwrap_or_default()).and_then(|&j| {
                        let table = &tables[j].1;
                        Some((table.schema.clone(), table.name.clone(), column_names(j, 9)?))
                    });
                    resolved &= referenced.is_some();
                    let (schema, table, columns) = referenced.unwrap_or_default();
                    Some(References { schema, table, columns, on_delete: action(10)?, on_update: action(11)? })
                } else {
                    None
                };
                if !resolved {
                    unresolved.push((text(&row, 12), i, tables[i].1.constraints.len()));
                }
                tables[i].1.constraints.push(Constraint {
                    name: text(&row, 1),
                    kind,
                    definition: text(&row, 3),
                    validated: flag(&row, 4),
                    columns: columns.unwrap_or_default(),
                    deferrable: flag(&row, 5),
                    plain_key: flag(&row, 7),
                    references,
                });
            }
        }
        if !unresolved.is_empty() {
            let oids = oid_list(unresolved.iter().map(|(oid, _, _)| oid.as_str()))?;
            let names: HashMap<String, Row> = self
                .text_rows(&format!("{CONSTRAINT_COLUMNS} WHERE k.oid IN ({oids})"))?
                .into_iter()
                .map(|row| (text(&row, 0), row))
                .collect();
            for (oid, table, at) in unresolved {
                let constraint = &mut tables[table].1.constraints[at];
                let Some(row) = names.get(&oid) else { continue };
                constraint.columns = items(row, 1);
                if let Some(references) = &mut constraint.references {
                    references.schema = text(row, 3);
                    references.table = text(row, 4);
                    references.columns = items(row, 2);
                }
            }
        }
        let operator_classes = self.operator_classes()?;
        // The indexes to ask [`INDEX_KEYS`] about, with their heads when their definition is
        // still to come.
        let mut unresolved_indexes: HashMap<String, Option<String>> = HashMap::new();
        let mut indexes: Vec<(String, Index)> = self
            .rows_from(indexes_alongside, &index_query)?
            .iter()
            .map(|row| {
                let read = position.get(field(row, 12).unwrap_or_default()).and_then(|&i| {
                    index_keys_of(row, &tables[i].1.columns, &attributes[i], &operator_classes)
                });
                let predicate = optional(row, 4);
                // A plain index (no definition asked of the server) is written here from its keys;
                // one whose keys are not among those read, or not plain, waits for [`INDEX_KEYS`]
                // below, which brings its definition too.
                let head = text(row, 11);
                let elements = match (optional(row, 3), &read) {
                    (Some(definition), _) => Some(elements_of(&definition, &head)?),
                    (None, Some(read)) if read.plain => {
                        Some(plain_index_elements(read, predicate.as_deref()))
                    }
                    (None, _) => None,
                };
                if read.is_none() || elements.is_none() {
                    unresolved_indexes.insert(text(row, 17), elements.is_none().then(|| head.clone()));
                }
                let read = read.unwrap_or_default();
                Ok((
                    text(row, 17),
                    Index {
                        schema: text(row, 0),
                        table: text(row, 1),
                        name: text(row, 2),
                        definition: elements
                            .as_ref()
                            .map(|elements| format!("{head}{elements}"))
                            .unwrap_or_default(),
                        unique: flag(row, 9),
                        method: text(row, 10),
                        elements: elements.unwrap_or_default(),
                        columns: read.names,
                        keys: read.keys,
                        included: read.included,
                        predicate,
                        expressions: flag(row, 5),
                        valid: flag(row, 6),
                        attached_to: optional(row, 7).zip(optional(row, 8)),
                    },
                ))
            })
            .collect::<Result<_, DbError>>()?;
        if !unresolved_indexes.is_empty() {
            let oids = oid_list(unresolved_indexes.keys().map(String::as_str))?;
            let keys: HashMap<String, Row> = self
                .text_rows(&format!("{INDEX_KEYS} WHERE x.indexrelid IN ({oids}) GROUP BY x.indexrelid"))?
                .into_iter()
                .map(|row| (text(&row, 0), row))
                .collect();
            for (oid, index) in &mut indexes {
                if let Some(row) = keys.get(oid.as_str()) {
                    index.columns = items(row, 2);
                    index.keys = index_keys(row, 1);
                    index.included = items(row, 3);
                    if let Some(Some(head)) = unresolved_indexes.get(oid.as_str()) {
                        index.definition = text(row, 4);
                        index.elements = elements_of(&index.definition, head)?;
                    }
                }
            }
        }
        schema.tables = tables.into_iter().map(|(_, table)| table).collect();
        schema.indexes = indexes.into_iter().map(|(_, index)| index).collect();
        schema.views = self
            .text_rows(&format!(
                "SELECT n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid), array_to_string(c.reloptions, E'\\x1f'), \
                 NOT c.relispopulated FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('v', 'm') AND {class_filter} ORDER BY c.oid"
            ))?
            .iter()
            .map(|row| {
                Ok(View {
                    schema: text(row, 0),
                    name: text(row, 1),
                    materialized: flag(row, 2),
                    definition: text(row, 3),
                    options: parameters(items(row, 4))?,
                    with_no_data: WithNoData(flag(row, 5)),
                    column_defaults: Vec::new(),
                })
            })
            .collect::<Result<_, DbError>>()?;
        let view_defaults = self.text_rows(&format!(
            "SELECT n.nspname, c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
             JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'v' AND {class_filter} ORDER BY 1, 2, a.attnum"
        ))?;
        for row in &view_defaults {
            let (schema_name, name) = (text(row, 0), text(row, 1));
            if let Some(view) = schema.views.iter_mut().find(|v| v.schema == schema_name && v.name == name) {
                view.column_defaults
                    .push(ViewColumnDefault { column: text(row, 2), expression: text(row, 3) });
            }
        }
        if present(Present::Functions) {
            schema.functions = self
            .text_rows(&format!(
                "SELECT n.nspname, p.oid::regprocedure::text, pg_get_functiondef(p.oid), l.lanname, p.proname, \
                 (SELECT string_agg(DISTINCT {ROW_TYPE_RELATION}, E'\\x1f') FROM pg_depend d {ROW_TYPE_JOIN} \
                 WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_type'::regclass), \
                 pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), \
                 (SELECT string_agg(DISTINCT rn.nspname || E'\\x1e' || rt.typname, E'\\x1f') FROM pg_depend d \
                   JOIN pg_type dt ON dt.oid = d.refobjid \
                   JOIN pg_range r ON r.rngtypid IN (dt.oid, dt.typelem) OR r.rngmultitypid IN (dt.oid, dt.typelem) \
                   JOIN pg_type rt ON rt.oid = r.rngtypid JOIN pg_namespace rn ON rn.oid = rt.typnamespace \
                   WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_type'::regclass) \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
                 WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {} AND {} ORDER BY 1, 2",
                not_extension_owned("pg_proc", "p.oid"),
                not_type_internal("p.oid"),
                ROW_TYPE_JOIN = row_type_join("d.refobjid"),
            ))?
            .iter()
            .map(|row| Function {
                schema: text(row, 0),
                name: text(row, 4),
                signature: text(row, 1),
                language: text(row, 3),
                definition: text(row, 2),
                row_types: pairs(row, 5),
                arguments: text(row, 6),
                result: optional(row, 7),
                range_types: pairs(row, 8),
            })
            .collect();
        }
        schema.triggers = self
            .text_rows(&format!(
                "SELECT n.nspname, c.relname, g.tgname, pg_get_triggerdef(g.oid), g.tgenabled, g.tgparentid <> 0 \
                 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_trigger pg ON pg.oid = g.tgparentid \
                 WHERE NOT g.tgisinternal AND (g.tgparentid = 0 OR g.tgenabled <> pg.tgenabled) AND {class_filter} \
                 ORDER BY 1, 2, 3"
            ))?
            .iter()
            .map(|row| {
                Ok(Trigger {
                    schema: text(row, 0),
                    table: text(row, 1),
                    name: text(row, 2),
                    definition: text(row, 3),
                    firing: firing(row, 4, "trigger")?,
                    cloned: flag(row, 5),
                })
            })
            .collect::<Result<_, DbError>>()?;
        if present(Present::Policies) {
            schema.policies = self
            .text_rows(
                "SELECT schemaname, tablename, policyname, permissive = 'PERMISSIVE', cmd, array_to_string(roles, E'\\x1f'), \
                 qual, with_check FROM pg_policies ORDER BY 1, 2, 3",
            )?
            .iter()
            .map(|row| Policy {
                schema: text(row, 0),
                table: text(row, 1),
                name: text(row, 2),
                permissive: flag(row, 3),
                command: text(row, 4),
                roles: items(row, 5),
                using: optional(row, 6),
                with_check: optional(row, 7),
            })
            .collect();
        }
        if present(Present::Statistics) {
            schema.statistics = self
            .text_rows(&format!(
                "SELECT sn.nspname, s.stxname, n.nspname, c.relname, \
                 nullif(array_to_string(ARRAY(SELECT CASE k WHEN 'd' THEN 'ndistinct' WHEN 'f' THEN 'dependencies' ELSE 'mcv' END \
                   FROM unnest(s.stxkind) k WHERE k <> 'e' ORDER BY 1), E'\\x1f'), ''), \
                 nullif(array_to_string(ARRAY(SELECT quote_ident(a.attname) FROM unnest(s.stxkeys) k \
                   JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = k ORDER BY 1), E'\\x1f'), ''), \
                 array_to_string(pg_get_statisticsobjdef_expressions(s.oid), E'\\x1f') \
                 FROM pg_statistic_ext s JOIN pg_namespace sn ON sn.oid = s.stxnamespace \
                 JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {class_filter} ORDER BY 1, 2"
            ))?
            .iter()
            .map(|row| Statistics {
                schema: text(row, 0),
                name: text(row, 1),
                table_schema: text(row, 2),
                table: text(row, 3),
                kinds: items(row, 4),
                columns: items(row, 5),
                expressions: items(row, 6),
            })
            .collect();
        }
        if present(Present::Rules) {
            schema.rules = self
            .text_rows(&format!(
                "SELECT n.nspname, c.relname, r.rulename, pg_get_ruledef(r.oid), r.ev_enabled FROM pg_rewrite r \
                 JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE r.rulename <> '_RETURN' AND {class_filter} ORDER BY 1, 2, 3"
            ))?
            .iter()
            .map(|row| {
                Ok(Rule {
                    schema: text(row, 0),
                    table: text(row, 1),
                    name: text(row, 2),
                    definition: text(row, 3),
                    firing: firing(row, 4, "rule")?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        }
        let not_modelled = NotModelledKind::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| flag(found, *i))
            .map(|(i, kind)| {
                format!("SELECT {i}, q.name FROM ({}) q", not_modelled_query(*kind, &class_filter))
            })
            .collect::<Vec<_>>();
        if !not_modelled.is_empty() {
            schema.not_modelled = NotModelled(
                self.text_rows(&format!("{} ORDER BY 1, 2", not_modelled.join(" UNION ALL ")))?
                    .iter()
                    .filter_map(|row| {
                        let kind = NotModelledKind::ALL.get(text(row, 0).parse::<usize>().ok()?)?;
                        Some(NotModelledObject { kind: *kind, name: text(row, 1) })
                    })
                    .collect(),
            );
        }
        if present(Present::Comments) {
            schema.comments = self.comments(&class_filter, &type_filter)?;
        }
        schema.privileges = self.privileges(&class_filter, &type_filter)?;
        schema.default_privileges = self.default_privileges()?;
        if owners {
            schema.owners = self.owners(&class_filter, &type_filter)?;
        }
        Ok(schema)
    }

    /// Every operator class (a few hundred rows), for [`index_keys_of`].
    fn operator_classes(&mut self) -> Result<OperatorClasses, DbError> {
        let mut classes = OperatorClasses { by_oid: HashMap::new(), defaults: HashMap::new() };
        for row in self.text_rows(
            "SELECT o.oid, o.opcmethod, o.opcintype, o.opcdefault, CASE WHEN pg_opclass_is_visible(o.oid) \
             THEN quote_ident(o.opcname) ELSE quote_ident(n.nspname) || '.' || quote_ident(o.opcname) END \
             FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace",
        )? {
            let (oid, method, default) = (text(&row, 0), text(&row, 1), flag(&row, 3));
            if default {
                classes
                    .defaults
                    .entry(method.clone())
                    .or_default()
                    .entry(text(&row, 2))
                    .or_default()
                    .push(oid.clone());
            }
            let (input_type, written) = (text(&row, 2), text(&row, 4));
            classes.by_oid.insert(oid, OperatorClass { method, default, input_type, written });
        }
        Ok(classes)
    }

    /// The comments on objects other than schemas, tables and table columns: one query over
    /// `pg_description`, each object kind joined to its catalog with the filters its own query
    /// uses (extension-owned objects, history tables and indexes backing constraints left out).
    /// Each kind reads only the descriptions of objects made after `initdb` (an index range
    /// instead of a scan of the system's own thousands, 7 ms at every size).
    /// The first branch types the union's columns: `name` there would cut a function's
    /// signature (its third column) at 63 bytes, and the dump would comment on a half signature.
    fn comments(&mut self, class_filter: &str, type_filter: &str) -> Result<Vec<Comment>, DbError> {
        let rows = self.text_rows(&format!(
            "SELECT kind, schema, name, part, description FROM ( \
             SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END AS kind, n.nspname AS schema, t.typname::text AS name, \
               NULL::name AS part, d.description FROM pg_description d JOIN pg_type t ON t.oid = d.objoid \
               JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class r ON r.oid = t.typrelid \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_type'::regclass AND (t.typtype IN ('e', 'd', 'r') OR r.relkind = 'c') AND {type_filter} \
             UNION ALL SELECT 'domain_constraint', n.nspname, t.typname, k.conname, d.description FROM pg_description d \
               JOIN pg_constraint k ON k.oid = d.objoid JOIN pg_type t ON t.oid = k.contypid \
               JOIN pg_namespace n ON n.oid = t.typnamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_constraint'::regclass AND k.contype = 'c' AND {type_filter} \
             UNION ALL SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view' \
               ELSE 'index' END, n.nspname, c.relname, a.attname, d.description FROM pg_description d \
               JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_class'::regclass AND c.relkind IN ('S', 'v', 'm', 'i', 'I') \
               AND (d.objsubid = 0 OR c.relkind IN ('v', 'm')) AND {class_filter} \
               AND c.oid NOT IN (SELECT k.conindid FROM pg_constraint k WHERE k.contype IN ('p', 'u', 'x')) \
             UNION ALL SELECT 'type', n.nspname, c.relname, a.attname, d.description FROM pg_description d \
               JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace \
               JOIN pg_type t ON t.oid = c.reltype \
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_class'::regclass AND c.relkind = 'c' AND d.objsubid > 0 AND {type_filter} \
             UNION ALL SELECT 'function', n.nspname, p.oid::regprocedure::text, NULL, d.description FROM pg_description d \
               JOIN pg_proc p ON p.oid = d.objoid JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_proc'::regclass AND p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {function_filter} \
               AND {not_type_internal} \
             UNION ALL SELECT 'statistics', n.nspname, s.stxname, NULL, d.description FROM pg_description d \
               JOIN pg_statistic_ext s ON s.oid = d.objoid JOIN pg_namespace n ON n.oid = s.stxnamespace \
               JOIN pg_class c ON c.oid = s.stxrelid \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_statistic_ext'::regclass AND {USER_SCHEMA} AND {class_filter} \
             UNION ALL SELECT 'constraint', n.nspname, c.relname, k.conname, d.description FROM pg_description d \
               JOIN pg_constraint k ON k.oid = d.objoid JOIN pg_class c ON c.oid = k.conrelid \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_constraint'::regclass AND k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal \
               AND {class_filter} \
             UNION ALL SELECT 'trigger', n.nspname, c.relname, g.tgname, d.description FROM pg_description d \
               JOIN pg_trigger g ON g.oid = d.objoid JOIN pg_class c ON c.oid = g.tgrelid \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_trigger'::regclass AND NOT g.tgisinternal AND g.tgparentid = 0 AND {class_filter} \
             UNION ALL SELECT 'policy', n.nspname, c.relname, o.polname, d.description FROM pg_description d \
               JOIN pg_policy o ON o.oid = d.objoid JOIN pg_class c ON c.oid = o.polrelid \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_policy'::regclass AND {class_filter} \
             UNION ALL SELECT 'rule', n.nspname, c.relname, r.rulename, d.description FROM pg_description d \
               JOIN pg_rewrite r ON r.oid = d.objoid JOIN pg_class c ON c.oid = r.ev_class \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE d.objoid >= {FIRST_NORMAL_OID} AND d.classoid = 'pg_rewrite'::regclass AND r.rulename <> '_RETURN' AND {class_filter} \
             ) comments ORDER BY 1, 2, 3, 4",
            function_filter = not_extension_owned("pg_proc", "p.oid"),
            not_type_internal = not_type_internal("p.oid"),
        ))?;
        rows.iter()
            .map(|row| {
                let object = match text(row, 0).as_str() {
                    "type" => CommentObject::Type,
                    "domain" => CommentObject::Domain,
                    "domain_constraint" => CommentObject::DomainConstraint,
                    "sequence" => CommentObject::Sequence,
                    "index" => CommentObject::Index,
                    "view" => CommentObject::View,
                    "materialized_view" => CommentObject::MaterializedView,
                    "function" => CommentObject::Function,
                    "constraint" => CommentObject::Constraint,
                    "trigger" => CommentObject::Trigger,
                    "policy" => CommentObject::Policy,
                    "rule" => CommentObject::Rule,
                    "statistics" => CommentObject::Statistics,
                    other => return Err(DbError::message(format!("unexpected comment kind `{other}`"))),
                };
                Ok(Comment {
                    object,
                    schema: text(row, 1),
                    name: text(row, 2),
                    part: optional(row, 3),
                    text: text(row, 4),
                })
            })
            .collect()
    }
}
