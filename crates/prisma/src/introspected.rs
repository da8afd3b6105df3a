//! A database read back in Prisma's terms: what `migrate dev` compares a Prisma schema with.
//! Only what Prisma models is kept (enums, tables and columns, primary keys, indexes and
//! unique constraints, foreign keys); checks, views, functions and triggers written by hand
//! in migrations stay invisible, as they are to Prisma.

use haste_schema::{Constraint, Schema};
use haste_sql::quote_ident;

use crate::ir::{self, Database, Name};

/// Reads `schema`'s objects in `default_schema` (unqualified, as Prisma prints them), or in
/// every schema of `schemas` (qualified) for a multi-schema datasource.
pub fn from_schema(schema: &Schema, default_schema: &str, schemas: &[String]) -> Database {
    let multi = !schemas.is_empty();
    let wanted = |s: &str| if multi { schemas.iter().any(|x| x == s) } else { s == default_schema };
    let name = |s: &str, n: &str| Name { schema: multi.then(|| s.to_owned()), name: n.to_owned() };
    let enum_names: Vec<(String, String)> =
        schema.enums.iter().map(|e| (e.schema.clone(), e.name.clone())).collect();
    // Schemas that exist: a multi-schema datasource's others are created by the migration.
    let existing =
        schema.schemas.iter().filter(|n| multi && wanted(&n.name)).map(|n| n.name.clone()).collect();
    let extensions = schema
        .extensions
        .iter()
        .map(|e| ir::Extension { name: e.name.clone(), schema: None, version: None })
        .collect();
    let mut database = Database { schemas: existing, extensions, ..Database::default() };
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
                let data_type = prisma_type(&column.data_type, &enum_names, multi);
                let serial = column.default.as_deref().is_some_and(|d| d.starts_with("nextval("));
                let (data_type, default) = match (serial, data_type.as_str()) {
                    (true, "INTEGER") => ("SERIAL".to_owned(), None),
                    (true, "BIGINT") => ("BIGSERIAL".to_owned(), None),
                    (true, "SMALLINT") => ("SMALLSERIAL".to_owned(), None),
                    _ => (data_type, column.default.as_deref().map(prisma_default)),
                };
                ir::Column { name: column.name.clone(), data_type, not_null: column.not_null, default }
            })
            .collect();
        let primary_key = table
            .constraints
            .iter()
            .find(|c| c.kind == "p")
            .map(|c| ir::PrimaryKey { name: c.name.clone(), columns: key_columns(&c.definition) });
        database.tables.push(ir::Table { name: table_name.clone(), columns, primary_key });
        for constraint in &table.constraints {
            match constraint.kind.as_str() {
                "u" => database.indexes.push(ir::Index {
                    table: table_name.clone(),
                    name: constraint.name.clone(),
                    unique: true,
                    columns: key_columns(&constraint.definition)
                        .into_iter()
                        .map(|name| ir::IndexColumn { name, sort: None, opclass: None })
                        .collect(),
                    method: None,
                    predicate: None,
                }),
                "f" => database.foreign_keys.push(foreign_key(&table_name, constraint, multi, &table.schema)),
                _ => {}
            }
        }
    }
    for index in schema.indexes.iter().filter(|i| wanted(&i.schema)) {
        if let Some(parsed) = parse_index(&index.definition) {
            database.indexes.push(ir::Index {
                table: name(&index.schema, &index.table),
                name: index.name.clone(),
                ..parsed
            });
        }
    }
    database
}

/// `a`, `"A"`, `"a b"` as the name.
fn unquote(text: &str) -> String {
    let text = text.trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => text.to_owned(),
    }
}

/// The names in the first parenthesized list of a definition.
fn key_columns(definition: &str) -> Vec<String> {
    let Some(open) = definition.find('(') else { return Vec::new() };
    let Some(close) = definition[open..].find(')') else { return Vec::new() };
    definition[open + 1..open + close].split(',').map(unquote).collect()
}

fn foreign_key(table: &Name, constraint: &Constraint, multi: bool, schema: &str) -> ir::ForeignKey {
    let definition = &constraint.definition;
    let after = definition.split_once("REFERENCES ").map_or("", |(_, rest)| rest);
    let (target, rest) = after.split_once('(').unwrap_or((after, ""));
    let (referenced, actions) = rest.split_once(')').unwrap_or((rest, ""));
    let target_parts: Vec<String> = target.split('.').map(unquote).collect();
    let (target_schema, target_name) = match &target_parts[..] {
        [s, n] => (s.clone(), n.clone()),
        [n] => (schema.to_owned(), n.clone()),
        _ => (schema.to_owned(), target.to_owned()),
    };
    let action = |event: &str| {
        let marker = format!("ON {event} ");
        actions.split_once(&marker).map_or("NO ACTION".to_owned(), |(_, rest)| {
            ["SET DEFAULT", "SET NULL", "NO ACTION", "RESTRICT", "CASCADE"]
                .into_iter()
                .find(|a| rest.starts_with(a))
                .unwrap_or("NO ACTION")
                .to_owned()
        })
    };
    ir::ForeignKey {
        table: table.clone(),
        name: constraint.name.clone(),
        columns: key_columns(definition),
        referenced_table: Name { schema: multi.then_some(target_schema), name: target_name },
        referenced_columns: referenced.split(',').map(unquote).collect(),
        on_delete: action("DELETE"),
        on_update: action("UPDATE"),
    }
}

/// `CREATE [UNIQUE] INDEX name ON table USING method (cols) [WHERE (predicate)]`.
fn parse_index(definition: &str) -> Option<ir::Index> {
    let unique = definition.starts_with("CREATE UNIQUE INDEX ");
    let (_, rest) = definition.split_once(" USING ")?;
    let (method, rest) = rest.split_once(" (")?;
    let mut depth = 1;
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let columns = rest[..end]
        .split(", ")
        .map(|part| {
            let mut words = part.split_whitespace();
            let name = unquote(words.next().unwrap_or_default());
            let mut column = ir::IndexColumn { name, sort: None, opclass: None };
            for word in words {
                match word {
                    "DESC" | "ASC" => column.sort = Some(word.to_owned()),
                    "NULLS" | "FIRST" | "LAST" => {}
                    opclass => column.opclass = Some(opclass.to_owned()),
                }
            }
            column
        })
        .collect();
    let predicate = rest[end + 1..].trim().strip_prefix("WHERE ").map(|p| {
        let p = p.trim();
        p.strip_prefix('(').and_then(|p| p.strip_suffix(')')).unwrap_or(p).to_owned()
    });
    let method = (method != "btree").then(|| method.to_uppercase());
    Some(ir::Index {
        table: Name { schema: None, name: String::new() },
        name: String::new(),
        unique,
        columns,
        method,
        predicate,
    })
}

/// `format_type`'s spelling as Prisma renders the type.
fn prisma_type(data_type: &str, enums: &[(String, String)], multi: bool) -> String {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (data_type, ""),
    };
    let bare = base.replace('"', "");
    if let Some((schema, name)) = enums.iter().find(|(s, n)| bare == *n || bare == format!("{s}.{n}")) {
        let quoted =
            if multi { format!("{}.{}", quote_ident(schema), quote_ident(name)) } else { quote_ident(name) };
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
        _ => with_args("timestamp", "TIMESTAMP")
            .filter(|_| base.ends_with("without time zone"))
            .or_else(|| with_args("timestamp", "TIMESTAMPTZ").filter(|_| base.ends_with("with time zone")))
            .or_else(|| with_args("time", "TIME").filter(|_| base.ends_with("without time zone")))
            .or_else(|| with_args("time", "TIMETZ").filter(|_| base.ends_with("with time zone")))
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
        table.constraints.retain(|c| matches!(c.kind.as_str(), "p" | "u" | "f"));
        table.comment = None;
        table.row_security = false;
        table.force_row_security = false;
        for column in &mut table.columns {
            column.comment = None;
        }
    }
    projected
}
