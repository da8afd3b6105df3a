//! The tables Prisma Migrate keeps for a schema: what `schema.prisma` says about the database,
//! in the terms Prisma renders (`TEXT`, `TIMESTAMP(3)`, `SERIAL`, `DEFAULT CURRENT_TIMESTAMP`),
//! in declaration order. Lowered from a Prisma schema, or read back from a database that
//! Prisma-style migrations built.

/// A table or type name, with its schema when the datasource lists schemas.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    /// `None`: the connection's schema, unqualified as Prisma prints it.
    pub schema: Option<String>,
    /// The database name.
    pub name: String,
}

/// Everything Migrate manages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Database {
    /// The schemas a migration to this database creates: those of the datasource's list
    /// (multi-schema) that hold a model or enum; for a database read back, those that exist.
    pub schemas: Vec<String>,
    /// The schemas this database counts as existing when a migration starts from it: for a
    /// Prisma schema every one its datasource lists, used or not, or the connection's schema
    /// when it lists none (Prisma 6.19.3 creates none of them); for a database read back, the
    /// same as `schemas`.
    pub existing_schemas: Vec<String>,
    /// Extensions: the datasource's `extensions` (`postgresqlExtensions`), or those installed.
    pub extensions: Vec<Extension>,
    /// Enum types, in declaration order.
    pub enums: Vec<EnumType>,
    /// Tables, models in declaration order, then implicit many-to-many tables.
    pub tables: Vec<Table>,
    /// Indexes (unique ones included), table by table.
    pub indexes: Vec<Index>,
    /// Foreign keys, in relation order.
    pub foreign_keys: Vec<ForeignKey>,
    /// For a database read back, the schema its unqualified names live in: Prisma's describer
    /// knows it, and the statements Prisma writes from the database's own columns and types
    /// name it (an enum rebuilt: `ALTER TABLE "public"."T" ... DROP DEFAULT`, `DROP TYPE
    /// "public"."E_old"`). `None` for a Prisma schema.
    pub namespace: Option<String>,
}

/// A PostgreSQL extension (`extensions = [citext, pg_trgm(schema: "ext", version: "1.6")]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    /// Its database name (`map:`, else as written).
    pub name: String,
    /// `schema:`, when given.
    pub schema: Option<String>,
    /// `version:`, when given.
    pub version: Option<String>,
}

/// `CREATE TYPE ... AS ENUM`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    /// Its name.
    pub name: Name,
    /// Its values' database names, in order.
    pub values: Vec<String>,
}

/// A table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its name.
    pub name: Name,
    /// Columns, in order.
    pub columns: Vec<Column>,
    /// `CONSTRAINT "name" PRIMARY KEY (...)`.
    pub primary_key: Option<PrimaryKey>,
}

/// A column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its database name.
    pub name: String,
    /// As Prisma renders it: `TEXT`, `VARCHAR(20)`, `SERIAL`, `"Role"`, `INTEGER[]`.
    pub data_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The `DEFAULT` expression as Prisma renders it.
    pub default: Option<String>,
    /// `@default(dbgenerated())`: whatever default the database has is kept.
    pub keeps_default: bool,
    /// The sequence an autoincrement column owns, in the table's schema: as a database holds
    /// it, else the name PostgreSQL gives a `SERIAL` column's (`<table>_<column>_seq`).
    pub sequence: Option<String>,
}

impl Column {
    /// The type the column stores: an autoincrement column's `SERIAL` is an `INTEGER` with a
    /// sequence default (Prisma changes that default, not the type).
    pub fn stored_type(&self) -> &str {
        match self.data_type.as_str() {
            "SERIAL" => "INTEGER",
            "BIGSERIAL" => "BIGINT",
            "SMALLSERIAL" => "SMALLINT",
            other => other,
        }
    }

    /// Whether it is `@default(autoincrement())`: a `SERIAL` of some width.
    pub fn is_serial(&self) -> bool {
        self.data_type.ends_with("SERIAL")
    }
}

/// A primary key.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryKey {
    /// The constraint name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
}

/// An index; Prisma makes unique constraints unique indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// Its table.
    pub table: Name,
    /// Its name.
    pub name: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// Its key columns.
    pub columns: Vec<IndexColumn>,
    /// `GIN`, `GIST`, `HASH`, `SPGIST`, `BRIN`; `None` for B-tree.
    pub method: Option<String>,
    /// A partial index's predicate.
    pub predicate: Option<String>,
}

/// One key column of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexColumn {
    /// The column.
    pub name: String,
    /// `ASC` or `DESC` when written.
    pub sort: Option<String>,
    /// An operator class when written.
    pub opclass: Option<String>,
    /// The operator class is one Prisma counts as its index type's default (a named one, never
    /// `raw(...)`): an index without one is the same index.
    pub opclass_default: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The referencing table.
    pub table: Name,
    /// The constraint name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referenced_table: Name,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
    /// `CASCADE`, `RESTRICT`, `NO ACTION`, `SET NULL`, `SET DEFAULT`.
    pub on_delete: String,
    /// The same for updates.
    pub on_update: String,
}

impl Index {
    /// The same index whatever its name: Prisma matches indexes by shape and renames.
    pub fn same_shape(&self, other: &Index) -> bool {
        self.table == other.table
            && self.unique == other.unique
            && self.columns.len() == other.columns.len()
            && self.columns.iter().zip(&other.columns).all(|(a, b)| a.same_shape(b))
            && self.method == other.method
            && self.predicate == other.predicate
    }
}

impl IndexColumn {
    /// The same column of an index, as Prisma compares them: a default operator class matches
    /// none.
    pub fn same_shape(&self, other: &IndexColumn) -> bool {
        self.name == other.name
            && self.sort == other.sort
            && (self.opclass == other.opclass
                || (self.opclass.is_none() && other.opclass_default)
                || (other.opclass.is_none() && self.opclass_default))
    }
}

impl ForeignKey {
    /// The same key whatever its name.
    pub fn same_shape(&self, other: &ForeignKey) -> bool {
        self.table == other.table
            && self.columns == other.columns
            && self.referenced_table == other.referenced_table
            && self.referenced_columns == other.referenced_columns
            && self.on_delete == other.on_delete
            && self.on_update == other.on_update
    }
}
