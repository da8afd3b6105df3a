//! A PostgreSQL schema as data: what `haste schema inspect` reads from a database and
//! `haste schema dump` writes back as DDL.
//!
//! # Brief overview
//! - [`Schema`] holds every object haste models, each list sorted by name, so two schemas
//!   compare with `==` and serialize deterministically.
//! - Expressions are kept in the form PostgreSQL prints them (`format_type`, `pg_get_expr`,
//!   `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_functiondef`,
//!   `pg_get_triggerdef`): comparing two schemas normalized by the same server compares what
//!   PostgreSQL would do, not how the DDL was spelled.
//! - [`Schema::to_ddl`] renders statements that recreate the schema on an empty database, in
//!   dependency order.
//!
//! No I/O: introspection lives in the PostgreSQL driver.

mod ddl;

pub use ddl::{DeclaredType, WRITTEN_FOR, comment_statements, qualified, row_security_statements, type_is};

use serde::Serialize;

/// Every object of a database's user schemas, extension-owned objects and migration history
/// tables left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// Schemas other than `public`'s defaults (`public` itself included when it has a comment).
    pub schemas: Vec<Namespace>,
    /// Installed extensions.
    pub extensions: Vec<Extension>,
    /// Collations (`CREATE COLLATION`), such as a case-insensitive ICU one for e-mail addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collations: Vec<Collation>,
    /// Enum types.
    pub enums: Vec<Enum>,
    /// Domains.
    pub domains: Vec<Domain>,
    /// Composite types (not a table's row type).
    pub composites: Vec<Composite>,
    /// Range types (`CREATE TYPE ... AS RANGE`), each with its multirange type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Sequences, owned by a column or not.
    pub sequences: Vec<Sequence>,
    /// Tables, partitioned tables and partitions.
    pub tables: Vec<Table>,
    /// Indexes that do not back a constraint.
    pub indexes: Vec<Index>,
    /// Views and materialized views, in creation order (a view may read an earlier one).
    pub views: Vec<View>,
    /// Functions and procedures.
    pub functions: Vec<Function>,
    /// Triggers.
    pub triggers: Vec<Trigger>,
    /// Row-level security policies.
    pub policies: Vec<Policy>,
    /// Rules (`CREATE RULE`) on tables and views, a view's own `_RETURN` rule aside (that is the
    /// view).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Extended statistics objects (`CREATE STATISTICS`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statistics: Vec<Statistics>,
    /// Privileges granted to roles other than each object's owner, and defaults revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub privileges: Vec<Privilege>,
    /// `ALTER DEFAULT PRIVILEGES`: what objects created later are given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_privileges: Vec<DefaultPrivilege>,
    /// `COMMENT ON` the objects other than schemas, tables and table columns (those keep theirs
    /// on themselves), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
    /// The owners of objects owned by another role than the one the schema is read as, when
    /// owners are asked for (`owners = true`); empty otherwise. See ARCHITECTURE.md.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Objects of the database the model does not hold (aggregates, operators, collations, ...:
    /// [`NotModelledKind`]), named so that `schema dump` can say what it leaves out and `migrate
    /// dev` can refuse schema files that create them. Never part of a comparison.
    #[serde(skip)]
    pub not_modelled: NotModelled,
}

/// Objects the model does not hold, for warnings; any two compare equal (a diff neither sees
/// nor plans them, see ARCHITECTURE.md).
#[derive(Debug, Clone, Default, Eq)]
pub struct NotModelled(pub Vec<NotModelledObject>);

impl PartialEq for NotModelled {
    fn eq(&self, _: &NotModelled) -> bool {
        true
    }
}

/// The kind of an object the model does not hold (see ARCHITECTURE.md), or of a property of
/// one it holds that it loses (a typed table's `OF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotModelledKind {
    /// `CREATE AGGREGATE`.
    Aggregate,
    /// `CREATE OPERATOR`.
    Operator,
    /// `CREATE OPERATOR CLASS`.
    OperatorClass,
    /// `CREATE OPERATOR FAMILY` (one an operator class made for itself is not named apart).
    OperatorFamily,
    /// `CREATE TEXT SEARCH CONFIGURATION`.
    TextSearchConfiguration,
    /// `CREATE TEXT SEARCH DICTIONARY`.
    TextSearchDictionary,
    /// `CREATE TEXT SEARCH PARSER`.
    TextSearchParser,
    /// `CREATE TEXT SEARCH TEMPLATE`.
    TextSearchTemplate,
    /// `CREATE CONVERSION`.
    Conversion,
    /// `CREATE CAST`.
    Cast,
    /// `CREATE TYPE` of a base type (with input and output functions) or a shell type.
    BaseType,
    /// `CREATE TABLE ... OF type` (the table is modelled, its `OF` is not).
    TypedTable,
    /// `CREATE FOREIGN TABLE`.
    ForeignTable,
    /// `CREATE FOREIGN DATA WRAPPER`.
    ForeignDataWrapper,
    /// `CREATE SERVER`.
    ForeignServer,
    /// `CREATE USER MAPPING`.
    UserMapping,
    /// `CREATE EVENT TRIGGER`.
    EventTrigger,
    /// `CREATE PUBLICATION`.
    Publication,
    /// `CREATE SUBSCRIPTION`.
    Subscription,
    /// `CREATE ACCESS METHOD`.
    AccessMethod,
    /// `CREATE LANGUAGE`.
    Language,
    /// `CREATE TRANSFORM`.
    Transform,
    /// `ALTER INDEX ... ALTER COLUMN ... SET STATISTICS` (the index is modelled, the statistics
    /// target of its expression columns is not).
    IndexStatisticsTarget,
}

impl NotModelledKind {
    /// Every kind, in the order objects are listed.
    pub const ALL: [NotModelledKind; 23] = [
        NotModelledKind::Aggregate,
        NotModelledKind::Operator,
        NotModelledKind::OperatorClass,
        NotModelledKind::OperatorFamily,
        NotModelledKind::TextSearchConfiguration,
        NotModelledKind::TextSearchDictionary,
        NotModelledKind::TextSearchParser,
        NotModelledKind::TextSearchTemplate,
        NotModelledKind::Conversion,
        NotModelledKind::Cast,
        NotModelledKind::BaseType,
        NotModelledKind::TypedTable,
        NotModelledKind::ForeignTable,
        NotModelledKind::ForeignDataWrapper,
        NotModelledKind::ForeignServer,
        NotModelledKind::UserMapping,
        NotModelledKind::EventTrigger,
        NotModelledKind::Publication,
        NotModelledKind::Subscription,
        NotModelledKind::AccessMethod,
        NotModelledKind::Language,
        NotModelledKind::Transform,
        NotModelledKind::IndexStatisticsTarget,
    ];

    /// What people call it.
    pub fn describe(self) -> &'static str {
        match self {
            NotModelledKind::Aggregate => "aggregate",
            NotModelledKind::Operator => "operator",
            NotModelledKind::OperatorClass => "operator class",
            NotModelledKind::OperatorFamily => "operator family",
            NotModelledKind::TextSearchConfiguration => "text search configuration",
            NotModelledKind::TextSearchDictionary => "text search dictionary",
            NotModelledKind::TextSearchParser => "text search parser",
            NotModelledKind::TextSearchTemplate => "text search template",
            NotModelledKind::Conversion => "conversion",
            NotModelledKind::Cast => "cast",
            NotModelledKind::BaseType => "base type",
            NotModelledKind::TypedTable => "typed table",
            NotModelledKind::ForeignTable => "foreign table",
            NotModelledKind::ForeignDataWrapper => "foreign data wrapper",
            NotModelledKind::ForeignServer => "foreign server",
            NotModelledKind::UserMapping => "user mapping",
            NotModelledKind::EventTrigger => "event trigger",
            NotModelledKind::Publication => "publication",
            NotModelledKind::Subscription => "subscription",
            NotModelledKind::AccessMethod => "access method",
            NotModelledKind::Language => "language",
            NotModelledKind::Transform => "transform",
            NotModelledKind::IndexStatisticsTarget => "index statistics target",
        }
    }
}

/// One object the model does not hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotModelledObject {
    /// What it is.
    pub kind: NotModelledKind,
    /// Its name as people read it: an aggregate's or an operator's signature (`regprocedure`,
    /// `regoperator`), a cast's `(source AS target)`, a user mapping's `FOR role SERVER server`,
    /// a typed table's name and `OF type`, an index's name, column number and statistics
    /// target (`public.t_expr column 1 (1000)`); a schema's object qualified, names quoted as SQL
    /// quotes them.
    pub name: String,
}

impl std::fmt::Display for NotModelledObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.describe(), self.name)
    }
}

/// A schema (namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    /// Its name.
    pub name: String,
    /// `COMMENT ON SCHEMA`.
    pub comment: Option<String>,
}

/// A collation of a user schema (`CREATE COLLATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collation {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// The library that compares its strings.
    pub provider: CollationProvider,
    /// The ICU or builtin locale (`colllocale`, `colliculocale` before PostgreSQL 17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `LC_COLLATE` of a libc collation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lc_collate: Option<String>,
    /// `LC_CTYPE` of a libc collation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lc_ctype: Option<String>,
    /// Whether strings that compare equal must be equal byte for byte (`deterministic = false`
    /// makes a case- or accent-insensitive collation).
    pub deterministic: bool,
    /// ICU tailoring rules (PostgreSQL 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
}

/// `pg_collation.collprovider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CollationProvider {
    /// `c`: the operating system's C library.
    Libc,
    /// `i`: ICU.
    Icu,
    /// `b`: PostgreSQL's builtin provider (PostgreSQL 17).
    Builtin,
}

impl CollationProvider {
    /// The provider of catalog code `code`; `None` for `d` (the database default, never a
    /// collation of a user schema) or a code this version does not know.
    pub fn from_code(code: &str) -> Option<CollationProvider> {
        match code {
            "c" => Some(CollationProvider::Libc),
            "i" => Some(CollationProvider::Icu),
            "b" => Some(CollationProvider::Builtin),
            _ => None,
        }
    }

    /// As `CREATE COLLATION (provider = ...)` writes it.
    pub fn keyword(self) -> &'static str {
        match self {
            CollationProvider::Libc => "libc",
            CollationProvider::Icu => "icu",
            CollationProvider::Builtin => "builtin",
        }
    }
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Its name.
    pub name: String,
    /// The schema it was installed in.
    pub schema: String,
}

/// The kind of object a [`Comment`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentObject {
    /// An enum, composite or range type, or a composite type's attribute `part`.
    Type,
    /// A domain.
    Domain,
    /// A domain's `CHECK` (`part`), of domain `name`.
    DomainConstraint,
    /// A sequence.
    Sequence,
    /// An index.
    Index,
    /// A view, or its column `part`.
    View,
    /// A materialized view, or its column `part`.
    MaterializedView,
    /// A function or procedure (`name` its signature, as `regprocedure` prints it).
    Function,
    /// A table's constraint (`part`), of table `name`.
    Constraint,
    /// A trigger (`part`) of table `name`.
    Trigger,
    /// A row-level security policy (`part`) of table `name`.
    Policy,
    /// An extended statistics object.
    Statistics,
    /// A rule (`part`) of table or view `name`.
    Rule,
}

/// One `COMMENT ON` an object the model holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Comment {
    /// What kind of object.
    pub object: CommentObject,
    /// Its schema.
    pub schema: String,
    /// Its name: for a part of a table, view or domain, theirs.
    pub name: String,
    /// The part: a view's column, a constraint, trigger or policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// The comment.
    pub text: String,
}

/// An enum type with its labels in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enum {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Labels, in sort order.
    pub values: Vec<String>,
}

/// A domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Base type, as `format_type` prints it.
    pub base_type: String,
    /// `COLLATE` when not the base type's default, quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// NOT NULL.
    pub not_null: bool,
    /// Default expression.
    pub default: Option<String>,
    /// Its `CHECK` constraints, by name.
    pub constraints: Vec<DomainConstraint>,
}

/// A domain's `CHECK` constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainConstraint {
    /// Its name.
    pub name: String,
    /// `CHECK (...)` as `pg_get_constraintdef` prints it, without `NOT VALID`.
    pub check: String,
    /// Checked against every value of the columns using the domain (`convalidated`): false for
    /// one added `NOT VALID` and not validated since.
    pub validated: bool,
}

/// A composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Composite {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Attributes, in order.
    pub attributes: Vec<Attribute>,
    /// The relations (schema, name) whose row types its attributes are of (tables, views, other
    /// composite types, arrays of them): such a type exists only once they do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_types: Vec<(String, String)>,
}

/// An attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type, as `format_type` prints it.
    pub data_type: String,
    /// Its collation when not its type's default, quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A range type and the multirange type PostgreSQL creates with it. Its constructor functions
/// are PostgreSQL's (created with the type, never on their own) and not in the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `SUBTYPE`, as `format_type` prints it.
    pub subtype: String,
    /// `SUBTYPE_OPCLASS` when not the subtype's default B-tree class, as `regclass`-like text
    /// quoted and qualified where the search path does not show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype_opclass: Option<String>,
    /// `COLLATION` when not the subtype's default, quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// `SUBTYPE_DIFF`: the function's schema and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype_diff: Option<(String, String)>,
    /// `MULTIRANGE_TYPE_NAME`: its multirange type's schema and name.
    pub multirange: (String, String),
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `AS` type.
    pub data_type: String,
    /// START, INCREMENT, MINVALUE, MAXVALUE, CACHE.
    pub start: i64,
    /// INCREMENT.
    pub increment: i64,
    /// MINVALUE.
    pub min: i64,
    /// MAXVALUE.
    pub max: i64,
    /// CACHE.
    pub cache: i64,
    /// CYCLE.
    pub cycle: bool,
    /// The column that owns it (`serial`), as `table.column` in the same schema.
    pub owned_by: Option<(String, String)>,
    /// Backs an identity column: created with the table, never on its own.
    pub identity: bool,
}

/// How a table stores rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// An ordinary table.
    Regular,
    /// `UNLOGGED`.
    Unlogged,
    /// `PARTITION BY <key>`.
    Partitioned {
        /// The partition key, as `pg_get_partkeydef` prints it.
        key: String,
    },
}

/// A table. Two tables are equal whatever the order of their columns: a column added later
/// comes last, and nothing but `SELECT *` can tell.
#[derive(Debug, Clone, Eq, Serialize)]
pub struct Table {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Storage.
    pub kind: TableKind,
    /// For a partition: its parent (`schema.table`, quoted) and bound.
    pub partition_of: Option<(String, String)>,
    /// How deep a partition sits: 1 under a table that is no partition, 2 under a partition of
    /// one, ...; 0 for a table that is no partition. Parents are created first.
    pub partition_depth: usize,
    /// For a child of table inheritance (`INHERITS`, not a partition): its parents (schema and
    /// name) in inheritance order. `migrate dev` plans no change to such a table or to a parent
    /// of one (see `haste_diff::inheritance_refused`); the dump writes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<(String, String)>,
    /// Columns in position order.
    pub columns: Vec<Column>,
    /// Constraints (PK, unique, check, exclusion, foreign key), sorted by name.
    pub constraints: Vec<Constraint>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub force_row_security: bool,
    /// Storage parameters (`WITH (fillfactor=70)`), the TOAST table's prefixed `toast.`, sorted
    /// by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub storage_parameters: Vec<StorageParameter>,
    /// What logical replication writes of an updated or deleted row.
    #[serde(skip_serializing_if = "ReplicaIdentity::is_default")]
    pub replica_identity: ReplicaIdentity,
    /// The index a bare `CLUSTER` orders it by (`ALTER TABLE ... CLUSTER ON`,
    /// `pg_index.indisclustered`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clustered_on: Option<String>,
}

/// One storage parameter of a table. Both parts are checked when read ([`StorageParameter::parse`]),
/// so a statement never carries catalog text it did not check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StorageParameter {
    /// Its name, `toast.` first for the TOAST table's (`toast.autovacuum_enabled`).
    pub name: String,
    /// Its value as the catalog keeps it (`70`, `0.05`, `off`).
    pub value: String,
}

impl StorageParameter {
    /// One `pg_class.reloptions` entry (`fillfactor=70`), the TOAST table's with `toast.` in
    /// front: the name must be an identifier (lower case, digits, `_`; one `toast.` prefix at
    /// most) and the value a simple literal (letters, digits, `_`, `.`, `+`, `-`).
    pub fn parse(option: &str) -> Result<StorageParameter, String> {
        let invalid = || format!("unexpected storage parameter `{option}`");
        let (name, value) = option.split_once('=').ok_or_else(invalid)?;
        let word = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let name_is_identifier = match name.split_once('.') {
            Some((namespace, rest)) => namespace == "toast" && word(rest),
            None => word(name),
        };
        let value_is_literal = !value.is_empty()
            && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'));
        if !name_is_identifier || !value_is_literal {
            return Err(invalid());
        }
        Ok(StorageParameter { name: name.to_owned(), value: value.to_owned() })
    }
}

/// What logical replication records of the old row of an update or delete
/// (`pg_class.relreplident`, and for `USING INDEX` the index marked `indisreplident`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    /// The primary key's columns.
    #[default]
    Default,
    /// Every column.
    Full,
    /// Nothing (also what a table whose identity index was dropped behaves as).
    Nothing,
    /// The columns of this unique index (of the same table and schema).
    Index(String),
}

impl ReplicaIdentity {
    /// The catalog's code (`d`, `f`, `n`, `i`) and, for `i`, the index: `None` for any other
    /// code. `i` with no index left behaves as `n`, and is read as that.
    pub fn from_code(code: &str, index: Option<String>) -> Option<ReplicaIdentity> {
        match (code, index) {
            ("d", _) => Some(ReplicaIdentity::Default),
            ("f", _) => Some(ReplicaIdentity::Full),
            ("n", _) | ("i", None) => Some(ReplicaIdentity::Nothing),
            ("i", Some(index)) => Some(ReplicaIdentity::Index(index)),
            _ => None,
        }
    }

    /// Whether it is PostgreSQL's default (left out of JSON).
    pub fn is_default(&self) -> bool {
        *self == ReplicaIdentity::Default
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type as `format_type` prints it.
    pub data_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Default expression, as `pg_get_expr` prints it.
    pub default: Option<String>,
    /// An identity column.
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (...) STORED` expression.
    pub generated: Option<String>,
    /// Collation, when not the type's default.
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// Only inherited from an `INHERITS` parent, not the table's own (`pg_attribute.attislocal`
    /// false): `CREATE TABLE` does not write it, the parent gives it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
    /// `SET STATISTICS`, `SET STORAGE`, `SET COMPRESSION`: how the planner samples it and how
    /// its values are stored, where they are not the defaults.
    #[serde(skip_serializing_if = "ColumnSettings::is_default")]
    pub settings: ColumnSettings,
}

/// What `ALTER COLUMN ... SET STATISTICS | STORAGE | COMPRESSION | (...)` sets on a column;
/// `None` (or none) for the default of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnSettings {
    /// The statistics target (`pg_attribute.attstattarget`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics_target: Option<i32>,
    /// The storage strategy (`attstorage`) when it is not its type's (`typstorage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<ColumnStorage>,
    /// The compression method (`attcompression`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// Its options (`pg_attribute.attoptions`: `n_distinct`, `n_distinct_inherited`), sorted by
    /// name: what `ANALYZE` takes for the number of distinct values instead of its estimate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<StorageParameter>,
}

impl ColumnSettings {
    /// Whether every setting is the default (left out of JSON).
    pub fn is_default(&self) -> bool {
        *self == ColumnSettings::default()
    }
}

/// One of a column's settings, as a statement sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnSetting {
    /// `SET STATISTICS`.
    StatisticsTarget,
    /// `SET STORAGE`.
    Storage,
    /// `SET COMPRESSION`.
    Compression,
    /// `SET (...)` or `RESET (...)` of its options.
    Options,
}

/// A column's storage strategy set apart from its type's, with the type's (which `SET STORAGE`
/// gives back: PostgreSQL before 16 has no `SET STORAGE DEFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ColumnStorage {
    /// The column's.
    pub strategy: StorageStrategy,
    /// Its type's.
    pub type_default: StorageStrategy,
}

/// A storage strategy (`attstorage`, `typstorage`); serialized as the keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageStrategy {
    /// `PLAIN` (`p`).
    Plain,
    /// `EXTERNAL` (`e`).
    External,
    /// `EXTENDED` (`x`).
    Extended,
    /// `MAIN` (`m`).
    Main,
}

impl StorageStrategy {
    /// The catalog's code, or `None` for any other.
    pub fn from_code(code: &str) -> Option<StorageStrategy> {
        match code {
            "p" => Some(StorageStrategy::Plain),
            "e" => Some(StorageStrategy::External),
            "x" => Some(StorageStrategy::Extended),
            "m" => Some(StorageStrategy::Main),
            _ => None,
        }
    }

    /// The keyword `SET STORAGE` takes.
    pub fn keyword(self) -> &'static str {
        match self {
            StorageStrategy::Plain => "PLAIN",
            StorageStrategy::External => "EXTERNAL",
            StorageStrategy::Extended => "EXTENDED",
            StorageStrategy::Main => "MAIN",
        }
    }
}

/// A column's compression method (`attcompression`); serialized as the keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `pglz` (`p`).
    Pglz,
    /// `lz4` (`l`).
    Lz4,
}

impl Compression {
    /// The catalog's code (`p`, `l`); `None` for the default (empty) or any other.
    pub fn from_code(code: &str) -> Option<Compression> {
        match code {
            "p" => Some(Compression::Pglz),
            "l" => Some(Compression::Lz4),
            _ => None,
        }
    }

    /// The method's name, as `SET COMPRESSION` takes it.
    pub fn keyword(self) -> &'static str {
        match self {
            Compression::Pglz => "pglz",
            Compression::Lz4 => "lz4",
        }
    }
}

/// How an identity column takes values (`pg_attribute.attidentity`); serialized as the catalog
/// writes it (`a`, `d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    #[serde(rename = "a")]
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    #[serde(rename = "d")]
    ByDefault,
}

impl Identity {
    /// The catalog's code (`pg_attribute.attidentity`), or `None` for any other.
    pub fn from_code(code: &str) -> Option<Identity> {
        match code {
            "a" => Some(Identity::Always),
            "d" => Some(Identity::ByDefault),
            _ => None,
        }
    }
}

/// What a constraint is (`pg_constraint.contype`); serialized as the catalog writes it (`p`,
/// `u`, `c`, `x`, `f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    #[serde(rename = "p")]
    PrimaryKey,
    /// `UNIQUE`.
    #[serde(rename = "u")]
    Unique,
    /// `CHECK`.
    #[serde(rename = "c")]
    Check,
    /// `EXCLUDE`.
    #[serde(rename = "x")]
    Exclusion,
    /// `FOREIGN KEY`.
    #[serde(rename = "f")]
    ForeignKey,
}

impl ConstraintKind {
    /// The catalog's code (`pg_constraint.contype`), or `None` for a kind the model leaves out
    /// (a domain's or a not-null constraint, a trigger).
    pub fn from_code(code: &str) -> Option<ConstraintKind> {
        match code {
            "p" => Some(ConstraintKind::PrimaryKey),
            "u" => Some(ConstraintKind::Unique),
            "c" => Some(ConstraintKind::Check),
            "x" => Some(ConstraintKind::Exclusion),
            "f" => Some(ConstraintKind::ForeignKey),
            _ => None,
        }
    }

    /// The words that introduce it in a definition (`PRIMARY KEY`, ...).
    pub fn keyword(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "PRIMARY KEY",
            ConstraintKind::Unique => "UNIQUE",
            ConstraintKind::Check => "CHECK",
            ConstraintKind::Exclusion => "EXCLUDE",
            ConstraintKind::ForeignKey => "FOREIGN KEY",
        }
    }

    /// Whether it is backed by an index (primary key, unique, exclusion).
    pub fn builds_index(self) -> bool {
        matches!(self, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion)
    }
}

/// What a foreign key does to the referencing rows when the referenced row is deleted or its
/// key updated (`pg_constraint.confdeltype`, `confupdtype`); serialized as the catalog writes it
/// (`a`, `r`, `c`, `n`, `d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReferentialAction {
    /// `NO ACTION`, the default.
    #[serde(rename = "a")]
    NoAction,
    /// `RESTRICT`.
    #[serde(rename = "r")]
    Restrict,
    /// `CASCADE`.
    #[serde(rename = "c")]
    Cascade,
    /// `SET NULL`.
    #[serde(rename = "n")]
    SetNull,
    /// `SET DEFAULT`.
    #[serde(rename = "d")]
    SetDefault,
}

impl ReferentialAction {
    /// The catalog's code, or `None` for any other.
    pub fn from_code(code: &str) -> Option<ReferentialAction> {
        match code {
            "a" => Some(ReferentialAction::NoAction),
            "r" => Some(ReferentialAction::Restrict),
            "c" => Some(ReferentialAction::Cascade),
            "n" => Some(ReferentialAction::SetNull),
            "d" => Some(ReferentialAction::SetDefault),
            _ => None,
        }
    }

    /// The words of its clause (`ON DELETE <keyword>`).
    pub fn keyword(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// What a foreign key references (`pg_constraint.confrelid`, `confkey`) and what it does when
/// that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct References {
    /// The referenced table's schema.
    pub schema: String,
    /// The referenced table.
    pub table: String,
    /// The referenced columns, in the order of the key's own columns.
    pub columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: ReferentialAction,
    /// `ON UPDATE`.
    pub on_update: ReferentialAction,
}

/// A table constraint. Its definition is what statements carry; the other fields are the same
/// facts read from the catalog for code that needs them, so nothing parses the definition back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constraint {
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: ConstraintKind,
    /// As `pg_get_constraintdef` prints it (includes `NOT VALID`, `DEFERRABLE`, actions).
    pub definition: String,
    /// Checked against every row (`pg_constraint.convalidated`): false for one added `NOT
    /// VALID` and not validated since.
    pub validated: bool,
    /// Its columns (`conkey`): a key's in key order, a check's in name order (it reads them in no
    /// order, and a type-change swap moves a column to the end).
    pub columns: Vec<String>,
    /// `DEFERRABLE` (`condeferrable`).
    pub deferrable: bool,
    /// A primary key or unique constraint whose definition says nothing but its columns (no
    /// `INCLUDE`, `NULLS NOT DISTINCT`, `WITHOUT OVERLAPS` or `DEFERRABLE`): a unique index
    /// built on its own on the columns can back it.
    pub plain_key: bool,
    /// For a foreign key, what it references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<References>,
}

impl Constraint {
    /// A constraint with no columns, validated, not deferrable, referencing nothing: the facts
    /// callers fill from here.
    pub fn new(name: &str, kind: ConstraintKind, definition: &str) -> Constraint {
        Constraint {
            name: name.to_owned(),
            kind,
            definition: definition.to_owned(),
            validated: true,
            columns: Vec::new(),
            deferrable: false,
            plain_key: false,
            references: None,
        }
    }

    /// Whether it is a foreign key referencing column `column` of table `schema`.`table`.
    pub fn references_column(&self, schema: &str, table: &str, column: &str) -> bool {
        self.references.as_ref().is_some_and(|target| {
            target.schema == schema && target.table == table && target.columns.iter().any(|c| c == column)
        })
    }
}

/// An index that does not back a constraint: on a partitioned table, the partitions' indexes
/// attached to it are indexes of their own, each naming it in `attached_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Name.
    pub name: String,
    /// As `pg_get_indexdef` prints it.
    pub definition: String,
    /// `UNIQUE` (`pg_index.indisunique`).
    pub unique: bool,
    /// Its access method (`pg_am.amname`: `btree`, `gin`, ...).
    pub method: String,
    /// What follows `USING <method>` in the definition: the key elements in parentheses, then
    /// `INCLUDE`, `NULLS NOT DISTINCT`, `WITH (...)` and `WHERE` as PostgreSQL prints them, so a
    /// statement of another form ([`Index::create_concurrently_statement`]) is built from parts.
    pub elements: String,
    /// Its key columns in order (`indkey`, the `INCLUDE` ones left out); empty when a key is an
    /// expression.
    pub columns: Vec<String>,
    /// How each key element (column or expression, in key order) is sorted and compared
    /// (`pg_index.indoption`, `indclass`); left out of JSON when every key is the default.
    #[serde(skip_serializing_if = "IndexKey::all_default")]
    pub keys: Vec<IndexKey>,
    /// Its `INCLUDE` columns, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub included: Vec<String>,
    /// The `WHERE` predicate of a partial index, as `pg_get_expr` prints it (in parentheses).
    pub predicate: Option<String>,
    /// Has a key that is an expression rather than a column (`lower("email")`).
    pub expressions: bool,
    /// Usable by queries (`pg_index.indisvalid`). An interrupted concurrent build is not, nor
    /// an index on a partitioned table while some partition has no index attached to it.
    pub valid: bool,
    /// For a partition's index attached to its parent table's index: that index's schema and
    /// name. It goes when that index goes, and cannot be dropped alone.
    pub attached_to: Option<(String, String)>,
}

/// How one key element of an index is ordered and compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexKey {
    /// `DESC` (`indoption` bit 0).
    pub descending: bool,
    /// `NULLS FIRST` (`indoption` bit 1; the default of a `DESC` key).
    pub nulls_first: bool,
    /// Its operator class when it is not the default one for the key's type, as
    /// `pg_get_indexdef` writes it (`text_pattern_ops`; schema-qualified when not visible).
    pub opclass: Option<String>,
}

impl IndexKey {
    /// `ASC NULLS LAST` with the type's default operator class: what a bare column gets.
    fn is_default(&self) -> bool {
        !self.descending && !self.nulls_first && self.opclass.is_none()
    }

    /// Whether every key of an index is plain (left out of JSON).
    pub fn all_default(keys: &[IndexKey]) -> bool {
        keys.iter().all(IndexKey::is_default)
    }
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Materialized.
    pub materialized: bool,
    /// The query, as `pg_get_viewdef` prints it.
    pub definition: String,
    /// Its `WITH (...)` options (`pg_class.reloptions`), sorted by name: a view's
    /// `security_barrier`, `security_invoker` and `check_option` (`local`, `cascaded`), a
    /// materialized view's storage parameters. `pg_get_viewdef` prints none of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<StorageParameter>,
    /// A materialized view without rows (`WITH NO DATA`, not refreshed since).
    #[serde(skip_serializing_if = "WithNoData::is_false")]
    pub with_no_data: WithNoData,
    /// Its columns' defaults (`ALTER VIEW ... ALTER COLUMN ... SET DEFAULT`, `pg_attrdef`), in
    /// column order: what an `INSERT` through the view gives a column it does not name.
    /// `pg_get_viewdef` prints none of them; they change in place.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub column_defaults: Vec<ViewColumnDefault>,
}

/// A view column's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewColumnDefault {
    /// The view's column.
    pub column: String,
    /// The expression, as `pg_get_expr` prints it.
    pub expression: String,
}

/// Whether a materialized view is without rows (`pg_class.relispopulated` false: created `WITH
/// NO DATA` and not refreshed since). A view is created so again, so a migration or dump does not
/// run a query its author kept for later; but its rows are data, not schema (a `REFRESH` is no
/// change to plan or drift to report), so any two compare equal.
#[derive(Debug, Clone, Copy, Default, Eq, Serialize)]
pub struct WithNoData(pub bool);

impl WithNoData {
    fn is_false(&self) -> bool {
        !self.0
    }
}

impl PartialEq for WithNoData {
    fn eq(&self, _: &WithNoData) -> bool {
        true
    }
}

impl View {
    /// Whether `other` is the same relation with the same query (its options may differ: those
    /// change in place, `ALTER VIEW ... SET`, without creating it again).
    pub fn same_query(&self, other: &View) -> bool {
        (&self.schema, &self.name, self.materialized, &self.definition)
            == (&other.schema, &other.name, other.materialized, &other.definition)
    }
}

/// A function or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// Schema.
    pub schema: String,
    /// Name (`pg_proc.proname`), as calls name it.
    pub name: String,
    /// Name with its argument types, as `regprocedure` prints it.
    pub signature: String,
    /// The language of its body (`pg_language.lanname`: `sql`, `plpgsql`, ...). PostgreSQL
    /// checks a `sql` body against the catalog when the function is created.
    pub language: String,
    /// The `CREATE OR REPLACE` statement, as `pg_get_functiondef` prints it.
    pub definition: String,
    /// The relations (schema, name) whose row types its arguments or result are of (tables,
    /// views, composite types, arrays of them): PostgreSQL refuses the function before them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_types: Vec<(String, String)>,
    /// Its arguments with their names, modes and defaults (`pg_get_function_arguments`).
    pub arguments: String,
    /// What it returns (`pg_get_function_result`: `integer`, `SETOF t`, `TABLE(...)`); `None`
    /// for a procedure.
    pub result: Option<String>,
    /// The range types (schema, name) its arguments or result are of (the ranges, their
    /// multiranges, arrays of them): PostgreSQL refuses the function before them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub range_types: Vec<(String, String)>,
}

impl Function {
    /// Whether `CREATE OR REPLACE` cannot turn `self` into `other` (same signature): PostgreSQL
    /// refuses to change a function's result type, or its arguments' names or defaults in most
    /// ways, in place; such a function is dropped and created.
    pub fn interface_changes(&self, other: &Function) -> bool {
        (&self.arguments, &self.result) != (&other.arguments, &other.result)
    }
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// Schema of its table.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Name.
    pub name: String,
    /// The `CREATE TRIGGER` statement, as `pg_get_triggerdef` prints it.
    pub definition: String,
    /// When it fires (`pg_trigger.tgenabled`), which `pg_get_triggerdef` does not print.
    #[serde(skip_serializing_if = "TriggerFiring::is_default")]
    pub firing: TriggerFiring,
    /// A partition's clone of its parent table's trigger (of the same name), which comes and
    /// goes with that trigger: in the model only when it fires otherwise than the parent's
    /// (`ALTER TABLE partition DISABLE TRIGGER`), for its firing alone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cloned: bool,
}

/// When a trigger or rule fires, with `session_replication_role` (`pg_trigger.tgenabled`,
/// `pg_rewrite.ev_enabled`); serialized as the catalog writes it (`O`, `D`, `R`, `A`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum TriggerFiring {
    /// Enabled (`ENABLE TRIGGER`): fires in `origin` and `local` sessions, PostgreSQL's default.
    #[default]
    #[serde(rename = "O")]
    Origin,
    /// `DISABLE TRIGGER`: never fires.
    #[serde(rename = "D")]
    Disabled,
    /// `ENABLE REPLICA TRIGGER`: fires only in `replica` sessions (logical replication appliers).
    #[serde(rename = "R")]
    Replica,
    /// `ENABLE ALWAYS TRIGGER`: fires in every session.
    #[serde(rename = "A")]
    Always,
}

impl TriggerFiring {
    /// The catalog's code (`pg_trigger.tgenabled`, `pg_rewrite.ev_enabled`), or `None` for any other.
    pub fn from_code(code: &str) -> Option<TriggerFiring> {
        match code {
            "O" => Some(TriggerFiring::Origin),
            "D" => Some(TriggerFiring::Disabled),
            "R" => Some(TriggerFiring::Replica),
            "A" => Some(TriggerFiring::Always),
            _ => None,
        }
    }

    /// Whether it is what `CREATE TRIGGER` or `CREATE RULE` gives (left out of JSON).
    pub fn is_default(&self) -> bool {
        *self == TriggerFiring::Origin
    }

    /// The `ALTER TABLE` action that sets it (`DISABLE`, `ENABLE REPLICA`, ...).
    pub fn keyword(self) -> &'static str {
        match self {
            TriggerFiring::Origin => "ENABLE",
            TriggerFiring::Disabled => "DISABLE",
            TriggerFiring::Replica => "ENABLE REPLICA",
            TriggerFiring::Always => "ENABLE ALWAYS",
        }
    }
}

/// A rule on a table or view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Schema of its table or view.
    pub schema: String,
    /// Its table or view.
    pub table: String,
    /// Name.
    pub name: String,
    /// The `CREATE RULE` statement, as `pg_get_ruledef` prints it.
    pub definition: String,
    /// When it fires (`pg_rewrite.ev_enabled`, `ALTER TABLE ... DISABLE RULE`), which
    /// `pg_get_ruledef` does not print.
    #[serde(skip_serializing_if = "TriggerFiring::is_default")]
    pub firing: TriggerFiring,
}

impl Rule {
    /// `CREATE RULE`.
    pub fn create_statement(&self) -> String {
        self.definition.trim_end().trim_end_matches(';').to_owned()
    }
}

/// A row-level security policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Schema of its table.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Name.
    pub name: String,
    /// `PERMISSIVE` or `RESTRICTIVE`.
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Roles it applies to.
    pub roles: Vec<String>,
    /// `USING` expression.
    pub using: Option<String>,
    /// `WITH CHECK` expression.
    pub with_check: Option<String>,
}

/// An extended statistics object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// The schema of its table.
    pub table_schema: String,
    /// Its table.
    pub table: String,
    /// `ndistinct`, `dependencies`, `mcv`; empty for one expression (which takes no kinds).
    pub kinds: Vec<String>,
    /// Its columns, quoted, in name order (their order means nothing, and a type-change swap
    /// moves a column to the end).
    pub columns: Vec<String>,
    /// Its expressions, as `pg_get_statisticsobjdef_expressions` prints them.
    pub expressions: Vec<String>,
}

/// The kind of object a privilege is on, as `GRANT ... ON <kind>` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivilegeObject {
    /// A schema.
    Schema,
    /// A table, partitioned table, view or materialized view (or one of its columns).
    Table,
    /// A sequence.
    Sequence,
    /// A function or procedure.
    Function,
    /// An enum, domain or composite type.
    Type,
}

/// One privilege of one grantee on one object (the owner's own privileges are not modelled:
/// see ARCHITECTURE.md).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Privilege {
    /// What kind of object.
    pub object: PrivilegeObject,
    /// Its schema (for a schema, its own name).
    pub schema: String,
    /// Its name: a function's signature as `regprocedure` prints it; empty for a schema.
    pub name: String,
    /// The column, for a column privilege.
    pub column: Option<String>,
    /// The role given it (its name, unquoted), or `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `INSERT`, `USAGE`, `EXECUTE`, ... as `aclexplode` names it.
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
    /// A privilege PostgreSQL gives by default (`EXECUTE` on functions and `USAGE` on types to
    /// `PUBLIC`) that was revoked: its statement is a `REVOKE`.
    pub revoked: bool,
}

/// The kind of object an `ALTER DEFAULT PRIVILEGES` applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultObjects {
    /// `ON TABLES` (views too).
    Tables,
    /// `ON SEQUENCES`.
    Sequences,
    /// `ON FUNCTIONS` (procedures too).
    Functions,
    /// `ON TYPES`.
    Types,
    /// `ON SCHEMAS`.
    Schemas,
}

/// One privilege objects created later are given (`ALTER DEFAULT PRIVILEGES`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DefaultPrivilege {
    /// `IN SCHEMA`, or every schema.
    pub schema: Option<String>,
    /// Which objects.
    pub objects: DefaultObjects,
    /// The role given it (unquoted), or `PUBLIC`.
    pub grantee: String,
    /// As `aclexplode` names it.
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
    /// A privilege such objects get by default that was revoked (`REVOKE EXECUTE ON FUNCTIONS
    /// FROM PUBLIC`).
    pub revoked: bool,
    /// Whose objects get it (`pg_default_acl.defaclrole`, `FOR ROLE`) when that is another role
    /// than the one the schema is read as; `None` for that role's own, which the statements
    /// give to the role that runs them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The kind of object an owner is recorded for, as `ALTER <kind> ... OWNER TO` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnedObject {
    /// A schema.
    Schema,
    /// A table, partitioned table or partition.
    Table,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A sequence no column owns (one a column owns is its table's owner's).
    Sequence,
    /// A function or procedure.
    Function,
    /// An enum or composite type.
    Type,
    /// A domain.
    Domain,
}

/// Who owns one object (`OWNER TO`), recorded when it is another role than the one the schema
/// is read as (on each database, the role that runs its migrations): that role's objects are
/// its own wherever it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Owner {
    /// What kind of object.
    pub object: OwnedObject,
    /// Its schema (for a schema, its own name).
    pub schema: String,
    /// Its name: a function's signature as `regprocedure` prints it; empty for a schema.
    pub name: String,
    /// The role that owns it (unquoted).
    pub role: String,
}

impl Table {
    /// The columns in name order.
    pub fn columns_by_name(&self) -> Vec<&Column> {
        let mut columns: Vec<&Column> = self.columns.iter().collect();
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        columns
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        self.schema == other.schema
            && self.name == other.name
            && self.kind == other.kind
            && self.partition_of == other.partition_of
            && self.partition_depth == other.partition_depth
            && self.inherits == other.inherits
            && self.columns_by_name() == other.columns_by_name()
            && self.constraints == other.constraints
            && self.comment == other.comment
            && self.row_security == other.row_security
            && self.force_row_security == other.force_row_security
            && self.storage_parameters == other.storage_parameters
            && self.replica_identity == other.replica_identity
            && self.clustered_on == other.clustered_on
    }
}

/// When an object using row types can be created (a function whose signature, or a composite
/// type whose attributes, are of a table's or a view's row type): PostgreSQL refuses it before
/// the relation exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowTypeStage {
    /// With the other types and functions, before the tables.
    BeforeTables,
    /// Once the tables exist.
    AfterTables,
    /// Once the views exist too.
    AfterViews,
}

impl Schema {
    /// When an object using the row types of `relations` (schema, name) can be created in a
    /// database being given this schema; a composite type counts as late as what it uses.
    pub fn row_type_stage(&self, relations: &[(String, String)]) -> RowTypeStage {
        relations
            .iter()
            .map(|(schema, name)| {
                if self.views.iter().any(|v| v.schema == *schema && v.name == *name) {
                    RowTypeStage::AfterViews
                } else if self.tables.iter().any(|t| t.schema == *schema && t.name == *name) {
                    RowTypeStage::AfterTables
                } else if let Some(composite) =
                    self.composites.iter().find(|c| c.schema == *schema && c.name == *name)
                {
                    self.row_type_stage(&composite.row_types)
                } else {
                    RowTypeStage::BeforeTables
                }
            })
            .max()
            .unwrap_or(RowTypeStage::BeforeTables)
    }

    /// The roles its privileges, policies and owners name (`PUBLIC` aside), sorted, each once:
    /// a database holding a copy of it needs them.
    pub fn granted_roles(&self) -> Vec<String> {
        let grantees = self.privileges.iter().map(|p| &p.grantee);
        let defaults = self.default_privileges.iter().flat_map(|p| [Some(&p.grantee), p.role.as_ref()]);
        let policies = self.policies.iter().flat_map(|p| &p.roles);
        let owners = self.owners.iter().map(|o| &o.role);
        let mut roles: Vec<String> = grantees
            .chain(defaults.flatten())
            .chain(policies)
            .chain(owners)
            .filter(|role| !role.eq_ignore_ascii_case("public"))
            .cloned()
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// `tables` (of this schema) in an order PostgreSQL can create them: partitions after their
    /// parents, inheritance children after the parents they name; otherwise as given.
    pub fn creation_order<'a>(&self, mut tables: Vec<&'a Table>) -> Vec<&'a Table> {
        tables.sort_by_cached_key(|table| (table.partition_depth, self.inheritance_depth(table)));
        tables
    }

    /// `tables` (of this schema) in an order PostgreSQL can drop them: inheritance children
    /// before the parents they name; otherwise as given.
    pub fn drop_order<'a>(&self, mut tables: Vec<&'a Table>) -> Vec<&'a Table> {
        tables.sort_by_cached_key(|table| std::cmp::Reverse(self.inheritance_depth(table)));
        tables
    }

    /// How many generations of inheritance parents (in this schema) a table has: 0 for one that
    /// inherits nothing. Bounded by the number of tables, in case of a broken model.
    fn inheritance_depth(&self, table: &Table) -> usize {
        let (mut generation, mut depth) = (vec![table], 0);
        while depth < self.tables.len() {
            let parents: Vec<&Table> = generation
                .iter()
                .flat_map(|child| &child.inherits)
                .filter_map(|(schema, name)| {
                    self.tables.iter().find(|t| &t.schema == schema && &t.name == name)
                })
                .collect();
            if parents.is_empty() {
                break;
            }
            generation = parents;
            depth += 1;
        }
        depth
    }

    /// How many objects of each kind, for a summary.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("schemas", self.schemas.len()),
            ("extensions", self.extensions.len()),
            ("collations", self.collations.len()),
            ("enums", self.enums.len()),
            ("domains", self.domains.len()),
            ("composite types", self.composites.len()),
            ("range types", self.ranges.len()),
            ("sequences", self.sequences.len()),
            ("tables", self.tables.len()),
            ("columns", self.tables.iter().map(|t| t.columns.len()).sum()),
            ("constraints", self.tables.iter().map(|t| t.constraints.len()).sum()),
            ("indexes", self.indexes.len()),
            ("views", self.views.len()),
            ("functions", self.functions.len()),
            ("triggers", self.triggers.len()),
            ("policies", self.policies.len()),
            ("rules", self.rules.len()),
            ("statistics", self.statistics.len()),
            ("privileges", self.privileges.len() + self.default_privileges.len()),
            ("comments", self.comments.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schema inspect --format json` shows the model: kinds and identities keep the catalog's
    /// codes there (docs/json.md).
    #[test]
    fn catalog_codes_keep_their_spelling_in_json() {
        let kinds = [
            (ConstraintKind::PrimaryKey, "p"),
            (ConstraintKind::Unique, "u"),
            (ConstraintKind::Check, "c"),
            (ConstraintKind::Exclusion, "x"),
            (ConstraintKind::ForeignKey, "f"),
        ];
        for (kind, code) in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), code);
            assert_eq!(ConstraintKind::from_code(code), Some(kind));
        }
        for (identity, code) in [(Identity::Always, "a"), (Identity::ByDefault, "d")] {
            assert_eq!(serde_json::to_value(identity).unwrap(), code);
            assert_eq!(Identity::from_code(code), Some(identity));
        }
        assert_eq!(ConstraintKind::from_code("n"), None);
    }

    #[test]
    fn storage_parameters_are_identifiers_and_simple_literals() {
        for (option, name, value) in [
            ("fillfactor=70", "fillfactor", "70"),
            ("autovacuum_vacuum_scale_factor=0.05", "autovacuum_vacuum_scale_factor", "0.05"),
            ("toast.autovacuum_enabled=false", "toast.autovacuum_enabled", "false"),
            ("log_autovacuum_min_duration=-1", "log_autovacuum_min_duration", "-1"),
        ] {
            let parsed = StorageParameter::parse(option).unwrap();
            assert_eq!((parsed.name.as_str(), parsed.value.as_str()), (name, value));
        }
        for option in [
            "fillfactor",
            "=70",
            "Fill=1",
            "a b=1",
            "x.fillfactor=1",
            "fillfactor=7'0",
            "fillfactor=",
            "a=1)",
        ] {
            assert!(StorageParameter::parse(option).is_err(), "{option}");
        }
    }

    #[test]
    fn replica_identity_reads_the_catalog_codes_and_stays_out_of_json_by_default() {
        assert_eq!(
            ReplicaIdentity::from_code("i", Some("k".into())),
            Some(ReplicaIdentity::Index("k".into()))
        );
        assert_eq!(ReplicaIdentity::from_code("i", None), Some(ReplicaIdentity::Nothing));
        assert_eq!(ReplicaIdentity::from_code("x", None), None);
        assert_eq!(serde_json::to_value(ReplicaIdentity::Full).unwrap(), "full");
        assert_eq!(serde_json::to_value(ReplicaIdentity::Index("k".into())).unwrap()["index"], "k");
    }
}
