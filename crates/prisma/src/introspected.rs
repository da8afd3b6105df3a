//! A database read back in Prisma's terms: what `migrate dev` compares a Prisma schema with.
//! Only what Prisma models is kept (enums, tables and columns, primary keys, indexes and
//! unique constraints, foreign keys); checks, views, functions and triggers written by hand
//! in migrations stay invisible, as they are to Prisma.

use haste_schema::{Constraint, ConstraintKind, Schema};
use haste_sql::quote_ident;

use crate::defaults::{ColumnKind, same_default};
use crate::ir::{self, Database, Name};

/// Reads `schema`'s objects in `default_schema` (unqualified, as Prisma prints them), or in
/// every schema of `schemas` (qualified) for a multi-schema datasource.
pub fn from_schema(schema: &Schema, default_schema: &str, schemas: &[String]) -> Database {
    let multi = !schemas.is_empty();
    let wanted = |s: &str| if multi { schemas.iter().any(|x| x == s) } else { s == default_schema };
    // Prisma prints the names of the connection's schema unqualified, also in a multi-schema one.
    let qualified = |s: &str| multi && s != default_schema;
    let name = |s: &str, n: &str| Name { schema: qualified(s).then(|| s.to_owned()), name: n.to_owned() };
    let enum_names: Vec<(String, String)> =
        schema.enums.iter().map(|e| (e.schema.clone(), e.name.clone())).collect();
    // Schemas that exist: a multi-schema datasource's others are created by the migration.
    let existing: Vec<String> =
        schema.schemas.iter().filter(|n| multi && wanted(&n.name)).map(|n| n.name.clone()).collect();
    let extensions = schema
        .extensions
        .iter()
        .map(|e| ir::Extension { name: e.name.clone(), schema: None, version: None })
        .collect();
    let mut database = Database {
        existing_schemas: existing.clone(),
        schemas: existing,
        extensions,
        namespace: (!multi).then(|| default_schema.to_owned()),
        ..Database::default()
    };
    for item in schema.enums.iter().filter(|e| wanted(&e.schema)) {
        database
            .enums
            .push(ir::EnumType { name: name(&item.schema, &item.name), values: item.values.clone() });
    }
    for table in schema.tables.iter().filter(|t| wanted(&t.schema)) {
        let table_name = name(&table.schema, &table.name);
        let columns = table
            .columns
            .iter()
            .map(|column| {
                let data_type = prisma_type(&column.data_type, &enum_names, &qualified);
                let serial = column.default.as_deref().is_some_and(|d| d.starts_with("nextval("));
                let (data_type, default) = match (serial, data_type.as_str()) {
                    (true, "INTEGER") => ("SERIAL".to_owned(), None),
                    (true, "BIGINT") => ("BIGSERIAL".to_owned(), None),
                    (true, "SMALLINT") => ("SMALLSERIAL".to_owned(), None),
                    _ => (data_type, column.default.as_deref().map(prisma_default)),
                };
                // Only a sequence the column owns goes with its `autoincrement()`.
                let sequence = schema
                    .sequences
                    .iter()
                    .find(|s| {
                        s.schema == table.schema
                            && s.owned_by.as_ref().is_some_and(|(t, c)| *t == table.name && *c == column.name)
                    })
                    .map(|s| s.name.clone());
                ir::Column {
                    name: column.name.clone(),
                    data_type,
                    not_null: column.not_null,
                    default,
                    keeps_default: false,
                    sequence,
                }
            })
            .collect();
        let primary_key = table
            .constraints
            .iter()
            .find(|c| c.kind == ConstraintKind::PrimaryKey)
            .map(|c| ir::PrimaryKey { name: c.name.clone(), columns: c.columns.clone() });
        database.tables.push(ir::Table { name: table_name.clone(), columns, primary_key });
        for constraint in &table.constraints {
            match constraint.kind {
                ConstraintKind::Unique => database.indexes.push(ir::Index {
                    table: table_name.clone(),
                    name: constraint.name.clone(),
                    unique: true,
                    columns: constraint
                        .columns
                        .iter()
                        .map(|name| ir::IndexColumn {
                            name: name.clone(),
                            sort: None,
                            opclass: None,
                            opclass_default: false,
                        })
                        .collect(),
                    method: None,
                    predicate: None,
                }),
                ConstraintKind::ForeignKey => {
                    if let Some(foreign_key) = foreign_key(&table_name, constraint, &qualified) {
                        database.foreign_keys.push(foreign_key)
                    }
                }
                _ => {}
            }
        }
    }
    // Prisma does not read indexes on expressions (nor can a schema declare one).
    for index in schema.indexes.iter().filter(|i| wanted(&i.schema) && !i.expressions) {
        database.indexes.push(ir::Index {
            table: name(&index.schema, &index.table),
            name: index.name.clone(),
            ..prisma_index(index)
        });
    }
    // As Prisma's describer lists them (by table, then name): the order of its drops and renames.
    database.indexes.sort_by(|a, b| {
        (&a.table.schema, &a.table.name, &a.name).cmp(&(&b.table.schema, &b.table.name, &b.name))
    });
    database
}

/// A foreign key as Prisma reads it; `None` for a constraint that is none.
fn foreign_key(
    table: &Name,
    constraint: &Constraint,
    qualified: &dyn Fn(&str) -> bool,
) -> Option<ir::ForeignKey> {
    let target = constraint.references.as_ref()?;
    Some(ir::ForeignKey {
        table: table.clone(),
        name: constraint.name.clone(),
        columns: constraint.columns.clone(),
        referenced_table: Name {
            schema: qualified(&target.schema).then(|| target.schema.clone()),
            name: target.table.clone(),
        },
        referenced_columns: target.columns.clone(),
        on_delete: target.on_delete.keyword().to_owned(),
        on_update: target.on_update.keyword().to_owned(),
    })
}

/// An index in Prisma's terms, from the model's facts (its table and name left for the caller):
/// each key column with `DESC` and the operator class the definition writes (Prisma's describer
/// reads neither `NULLS FIRST`/`LAST` nor collations), the `INCLUDE` columns as key columns, as
/// Prisma reads them, and the predicate without the parentheses `pg_get_expr` puts around it.
fn prisma_index(index: &haste_schema::Index) -> ir::Index {
    let keys = index.columns.iter().zip(&index.keys).map(|(name, key)| ir::IndexColumn {
        name: name.clone(),
        sort: key.descending.then(|| "DESC".to_owned()),
        opclass: key.opclass.clone(),
        opclass_default: false,
    });
    let included = index.included.iter().map(|name| ir::IndexColumn {
        name: name.clone(),
        sort: None,
        opclass: None,
        opclass_default: false,
    });
    let predicate = index.predicate.as_deref().map(|p| {
        let p = p.trim();
        p.strip_prefix('(').and_then(|p| p.strip_suffix(')')).unwrap_or(p).to_owned()
    });
    ir::Index {
        table: Name { schema: None, name: String::new() },
        name: String::new(),
        unique: index.unique,
        columns: keys.chain(included).collect(),
        method: (index.method != "btree").then(|| index.method.to_uppercase()),
        predicate,
    }
}

/// `format_type`'s spelling as Prisma renders the type.
fn prisma_type(data_type: &str, enums: &[(String, String)], qualified: &dyn Fn(&str) -> bool) -> String {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (data_type, ""),
    };
    if let Some((schema, name)) = enums.iter().find(|(s, n)| haste_schema::type_is(base, s, n).is_some()) {
        let quoted = if qualified(schema) {
            format!("{}.{}", quote_ident(schema), quote_ident(name))
        } else {
            quote_ident(name)
        };
        return format!("{quoted}{array}");
    }
    let with_args = |prefix: &str, name: &str| {
        base.strip_prefix(prefix).map(|rest| {
            let args = rest.split_once(')').map_or("", |(args, _)| args).trim_start_matches('(');
            if args.is_empty() { name.to_owned() } else { format!("{name}({})", args.replace(' ', "")) }
        })
    };
    let rendered = match base {
        "text" => "TEXT".to_owned(),
        "integer" => "INTEGER".to_owned(),
        "bigint" => "BIGINT".to_owned(),
        "smallint" => "SMALLINT".to_owned(),
        "boolean" => "BOOLEAN".to_owned(),
        "double precision" => "DOUBLE PRECISION".to_owned(),
        "real" => "REAL".to_owned(),
        "jsonb" => "JSONB".to_owned(),
        "json" => "JSON".to_owned(),
        "bytea" => "BYTEA".to_owned(),
        "uuid" => "UUID".to_owned(),
        "date" => "DATE".to_owned(),
        "xml" => "XML".to_owned(),
        "inet" => "INET".to_owned(),
        "citext" => "CITEXT".to_owned(),
        "oid" => "OID".to_owned(),
        "money" => "MONEY".to_owned(),
        // A time or timestamp without a precision has PostgreSQL's, 6, as Prisma's describer
        // reads it (`TIME(6)` to `@db.Time(3)` is a change of precision).
        _ => with_args("timestamp", "TIMESTAMP")
            .filter(|_| base.ends_with("without time zone"))
            .or_else(|| with_args("timestamp", "TIMESTAMPTZ").filter(|_| base.ends_with("with time zone")))
            .or_else(|| with_args("time", "TIME").filter(|_| base.ends_with("without time zone")))
            .or_else(|| with_args("time", "TIMETZ").filter(|_| base.ends_with("with time zone")))
            .map(|time| if time.contains('(') { time } else { format!("{time}(6)") })
            .or_else(|| with_args("numeric", "DECIMAL"))
            .or_else(|| with_args("character varying", "VARCHAR"))
            .or_else(|| with_args("bit varying", "VARBIT"))
            .or_else(|| with_args("character", "CHAR"))
            .or_else(|| with_args("bit", "BIT"))
            .unwrap_or_else(|| base.to_owned()),
    };
    format!("{rendered}{array}")
}

/// `pg_get_expr`'s spelling of a default as Prisma renders it: literal casts dropped.
fn prisma_default(default: &str) -> String {
    if default.starts_with('\'')
        && let Some((literal, _cast)) = default.rsplit_once("::")
        && literal.ends_with('\'')
    {
        let inner = &literal[1..literal.len() - 1];
        if inner.parse::<f64>().is_ok() && !inner.is_empty() {
            return inner.to_owned();
        }
        return literal.to_owned();
    }
    default.to_owned()
}

/// `schema` reduced to what Prisma models in the schemas it manages: enums, tables with their
/// columns, primary keys, unique and foreign-key constraints, indexes, and the sequences of
/// serial columns. A plan between two projections never touches what migrations added by hand.
pub fn project(schema: &Schema, default_schema: &str, schemas: &[String]) -> Schema {
    let wanted =
        |s: &str| if schemas.is_empty() { s == default_schema } else { schemas.iter().any(|x| x == s) };
    let mut projected = Schema {
        enums: schema.enums.iter().filter(|e| wanted(&e.schema)).cloned().collect(),
        tables: schema.tables.iter().filter(|t| wanted(&t.schema)).cloned().collect(),
        indexes: schema.indexes.iter().filter(|i| wanted(&i.schema)).cloned().collect(),
        sequences: schema
            .sequences
            .iter()
            .filter(|s| wanted(&s.schema) && s.owned_by.is_some())
            .cloned()
            .collect(),
        ..Schema::default()
    };
    for table in &mut projected.tables {
        table.constraints.retain(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::ForeignKey)
        });
        table.comment = None;
        table.row_security = false;
        table.force_row_security = false;
        for column in &mut table.columns {
            column.comment = None;
        }
    }
    projected
}

/// `schema` (a projection) as it compares with `target` (the Prisma schema's projection):
/// indexes Prisma does not read are left out, and where a column's default or a list's
/// nullability already means what the Prisma schema asks for (`'{}'` for `@default([])`,
/// `now()` for `@default(now())`, a list column `NOT NULL` or not), the target's spelling is
/// taken, so that no comparison sees a difference Prisma would not. `lowered` says which
/// columns keep whatever default the database has (`@default(dbgenerated())`).
pub fn align(schema: &Schema, target: &Schema, lowered: &Database, default_schema: &str) -> Schema {
    let mut aligned = schema.clone();
    // `autoincrement()` is a yes or no: the sequence of a column that has one on both sides is
    // the target's, whatever name, width or start the database gave its own.
    for sequence in &mut aligned.sequences {
        let owner = (&sequence.schema, &sequence.owned_by);
        if let Some(wanted) =
            target.sequences.iter().find(|s| owner.1.is_some() && (&s.schema, &s.owned_by) == owner)
        {
            *sequence = wanted.clone();
        }
    }
    let partial_modeled = target.indexes.iter().any(|i| i.predicate.is_some());
    aligned.indexes.retain(|index| !unread_index(index, partial_modeled));
    for index in &mut aligned.indexes {
        let wanted = target
            .indexes
            .iter()
            .find(|i| (&i.schema, &i.table, &i.name) == (&index.schema, &index.table, &index.name));
        if let Some(wanted) = wanted.filter(|wanted| opclasses_unread(index, wanted)) {
            // The elements and keys are where the operator classes are written.
            index.definition = wanted.definition.clone();
            index.elements = wanted.elements.clone();
            index.keys = wanted.keys.clone();
        }
    }
    let is_enum = |name: &str| {
        [schema, target]
            .iter()
            .flat_map(|s| &s.enums)
            .any(|e| haste_schema::type_is(name, &e.schema, &e.name).is_some())
    };
    let keeps_default = |table: &haste_schema::Table, column: &str| {
        lowered.tables.iter().any(|t| {
            t.name.name == table.name
                && t.name.schema.as_deref().unwrap_or(default_schema) == table.schema
                && t.columns.iter().any(|c| c.name == column && c.keeps_default)
        })
    };
    for table in &mut aligned.tables {
        let Some(wanted) = target.tables.iter().find(|t| t.schema == table.schema && t.name == table.name)
        else {
            continue;
        };
        for column in &mut table.columns {
            let Some(desired) = wanted.columns.iter().find(|c| c.name == column.name) else { continue };
            let (kind, desired_kind) =
                (ColumnKind::of(&column.data_type, is_enum), ColumnKind::of(&desired.data_type, is_enum));
            // Prisma gives every list the arity "list": `NOT NULL` on one is not compared.
            if kind.list && desired_kind.list {
                column.not_null = desired.not_null;
            }
            if keeps_default(wanted, &column.name)
                || same_default(column.default.as_deref(), kind, desired.default.as_deref(), desired_kind)
            {
                column.default = desired.default.clone();
            }
        }
    }
    aligned
}

/// Whether two B-tree index definitions differ only in operator classes the database side has
/// where the schema's names none: Prisma's describer reads no operator class on a B-tree index,
/// so a hand-written `("name" text_pattern_ops)` is its `@@index([name])`. One the schema names
/// (`ops: raw("text_pattern_ops")`) is compared.
fn opclasses_unread(database: &haste_schema::Index, schema: &haste_schema::Index) -> bool {
    let (mut database, schema) = (prisma_index(database), prisma_index(schema));
    if database.method.is_some() || database.columns.len() != schema.columns.len() {
        return false;
    }
    for (column, wanted) in database.columns.iter_mut().zip(&schema.columns) {
        if wanted.opclass.is_none() {
            column.opclass = None;
        }
    }
    database == schema
}

/// An index Prisma 6 does not read: on expressions, or partial (unless the Prisma schema
/// declares partial indexes, haste's `where:` extension).
fn unread_index(index: &haste_schema::Index, partial_modeled: bool) -> bool {
    index.expressions || (index.predicate.is_some() && !partial_modeled)
}

/// One object of a database that a Prisma schema cannot express, left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// `partial index`, `check constraint`, `trigger`, ...
    pub kind: &'static str,
    /// Its name as SQL writes it (quoted; a function with its argument types).
    pub name: String,
    /// The table it belongs to, if any, quoted.
    pub table: Option<String>,
    /// The Prisma schema declares an index of the same name, which PostgreSQL cannot create
    /// beside this one (Prisma writes the `CREATE INDEX` all the same).
    pub name_taken: bool,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)?;
        if let Some(table) = &self.table {
            write!(f, " on {table}")?;
        }
        write!(f, " (not expressible in schema.prisma")?;
        if self.name_taken {
            write!(f, "; the schema's index of the same name cannot be created beside it: rename one")?;
        }
        write!(f, ")")
    }
}

/// What of `schema` a comparison with the Prisma schema `target` leaves alone, as Prisma does:
/// indexes it does not read, checks and exclusion constraints, triggers, policies, views,
/// functions and sequences that no column owns, in the schemas the datasource manages.
pub fn kept(schema: &Schema, target: &Schema, default_schema: &str, schemas: &[String]) -> Vec<Kept> {
    let wanted =
        |s: &str| if schemas.is_empty() { s == default_schema } else { schemas.iter().any(|x| x == s) };
    let on = |kind, name: &str, table: &str| Kept {
        kind,
        name: quote_ident(name),
        table: Some(quote_ident(table)),
        name_taken: false,
    };
    let alone = |kind, name: &str| Kept { kind, name: quote_ident(name), table: None, name_taken: false };
    let partial_modeled = target.indexes.iter().any(|i| i.predicate.is_some());
    let mut kept = Vec::new();
    for table in schema.tables.iter().filter(|t| wanted(&t.schema)) {
        for constraint in &table.constraints {
            match constraint.kind {
                ConstraintKind::Check => kept.push(on("check constraint", &constraint.name, &table.name)),
                ConstraintKind::Exclusion => {
                    kept.push(on("exclusion constraint", &constraint.name, &table.name))
                }
                _ => {}
            }
        }
    }
    for index in schema.indexes.iter().filter(|i| wanted(&i.schema) && unread_index(i, partial_modeled)) {
        let kind = if index.expressions { "expression index" } else { "partial index" };
        let name_taken = target.indexes.iter().any(|i| i.schema == index.schema && i.name == index.name)
            || target
                .tables
                .iter()
                .filter(|t| t.schema == index.schema)
                .flat_map(|t| &t.constraints)
                .any(|c| c.name == index.name);
        kept.push(Kept { name_taken, ..on(kind, &index.name, &index.table) });
    }
    kept.extend(
        schema.triggers.iter().filter(|t| wanted(&t.schema)).map(|t| on("trigger", &t.name, &t.table)),
    );
    kept.extend(
        schema.policies.iter().filter(|p| wanted(&p.schema)).map(|p| on("policy", &p.name, &p.table)),
    );
    kept.extend(schema.views.iter().filter(|v| wanted(&v.schema)).map(|v| alone("view", &v.name)));
    kept.extend(
        schema
            .functions
            .iter()
            .filter(|f| wanted(&f.schema))
            .map(|f| Kept { name: f.signature.clone(), ..alone("function", "") }),
    );
    // A sequence a column default draws from is that column's `autoincrement()`.
    let drawn_from = |name: &str| {
        schema
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .filter_map(|c| c.default.as_deref())
            .any(|default| default.starts_with("nextval(") && default.contains(name))
    };
    kept.extend(
        schema
            .sequences
            .iter()
            .filter(|s| wanted(&s.schema) && s.owned_by.is_none() && !s.identity && !drawn_from(&s.name))
            .map(|s| alone("sequence", &s.name)),
    );
    kept
}
