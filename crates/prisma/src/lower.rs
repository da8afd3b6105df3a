//! From a parsed schema to the tables Prisma Migrate would keep: names resolved, relations
//! paired and validated, Prisma's naming, type, default and referential-action rules applied
//! (see `../shared/notes/prisma.md`, "PSL → PostgreSQL mapping rules").

use std::collections::{BTreeSet, HashMap};

use haste_sql::{object_name, quote_literal, truncate_ident};

use crate::ast::*;
use crate::attributes::preview_feature;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Database, Name};

const SCALARS: &[&str] =
    &["String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"];
/// PostgreSQL's native types in Prisma (`@db.VarChar(9)`): the name, the SQL type, the scalar
/// type a field must have, and how many arguments it takes at most.
const NATIVE_TYPES: &[(&str, &str, &str, usize)] = &[
    ("Text", "TEXT", "String", 0),
    ("VarChar", "VARCHAR", "String", 1),
    ("Char", "CHAR", "String", 1),
    ("Bit", "BIT", "String", 1),
    ("VarBit", "VARBIT", "String", 1),
    ("Uuid", "UUID", "String", 0),
    ("Xml", "XML", "String", 0),
    ("Inet", "INET", "String", 0),
    ("Citext", "CITEXT", "String", 0),
    ("Boolean", "BOOLEAN", "Boolean", 0),
    ("SmallInt", "SMALLINT", "Int", 0),
    ("Integer", "INTEGER", "Int", 0),
    ("Oid", "OID", "Int", 0),
    ("BigInt", "BIGINT", "BigInt", 0),
    ("Real", "REAL", "Float", 0),
    ("DoublePrecision", "DOUBLE PRECISION", "Float", 0),
    ("Decimal", "DECIMAL", "Decimal", 2),
    ("Money", "MONEY", "Decimal", 0),
    ("Timestamp", "TIMESTAMP", "DateTime", 1),
    ("Timestamptz", "TIMESTAMPTZ", "DateTime", 1),
    ("Date", "DATE", "DateTime", 0),
    ("Time", "TIME", "DateTime", 1),
    ("Timetz", "TIMETZ", "DateTime", 1),
    ("Json", "JSON", "Json", 0),
    ("JsonB", "JSONB", "Json", 0),
    ("ByteA", "BYTEA", "Bytes", 0),
];
/// Defaults a client computes: no database default.
const CLIENT_DEFAULTS: &[&str] = &["uuid", "cuid", "nanoid", "ulid"];

fn attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes.iter().find(|a| a.name.name == name)
}

fn mapped(attributes: &[Attribute], name: &str, default: &str) -> String {
    attribute(attributes, name)
        .and_then(|a| a.positional().or_else(|| a.named("name")))
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_owned()
}

/// What a field's type names.
#[derive(Clone, Copy)]
enum Kind<'a> {
    Scalar(&'a str),
    Enum(&'a Enum),
    Relation(&'a Model),
    Unsupported(&'a str),
}

struct Lowering<'a> {
    models: Vec<&'a Model>,
    /// `view` blocks: relation targets, never tables (Migrate does not manage views).
    views: Vec<&'a Model>,
    enums: HashMap<&'a str, &'a Enum>,
    multi_schema: bool,
    /// The datasource's `schemas`.
    schemas: Vec<String>,
    /// The connection's schema: Prisma prints the names in it unqualified, also when a model
    /// says `@@schema` of it.
    default_schema: &'a str,
    /// The schemas a model or enum is in: the only ones Prisma creates.
    used_schemas: BTreeSet<String>,
    foreign_keys: bool,
    diagnostics: Vec<Diagnostic>,
}

/// One end of a relation.
#[derive(Clone, Copy)]
struct RelationEnd<'a> {
    model: &'a Model,
    field: &'a Field,
    target: &'a Model,
    name: Option<&'a str>,
}

impl<'a> RelationEnd<'a> {
    fn relation(&self) -> Option<&'a Attribute> {
        attribute(&self.field.attributes, "relation")
    }

    fn list(&self, argument: &str) -> Vec<&'a Value> {
        match self.relation().and_then(|r| r.named(argument)).map(|v| &v.kind) {
            Some(ValueKind::Array(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    }
}

impl<'a> Lowering<'a> {
    fn error(&mut self, message: impl Into<String>, span: Span) {
        self.diagnostics.push(Diagnostic::new(message, span));
    }

    fn model(&self, name: &str) -> Option<&'a Model> {
        self.models.iter().chain(&self.views).copied().find(|m| m.name.name == name)
    }

    fn is_view(&self, model: &Model) -> bool {
        self.views.iter().any(|v| std::ptr::eq(*v, model))
    }

    /// The database name a block attribute gives: `map:`, or for `@@index` also `name:`,
    /// which Prisma reads as `map:` there for legacy reasons (on `@@id` and `@@unique`,
    /// `name:` is the client API's name and leaves the database name alone).
    fn database_name<'b>(&mut self, block: &'b Attribute) -> Option<&'b str> {
        let map = block.named("map").and_then(Value::as_str);
        if block.name.name != "index" {
            return map;
        }
        match (map, block.named("name")) {
            (Some(_), Some(name)) => {
                self.error("Error parsing attribute \"@index\": The `@@index` attribute accepts the `name` argument as an alias for the `map` argument for legacy reasons. It does not accept both though. Please use the `map` argument to specify the database name of the index.", name.span);
                map
            }
            (None, Some(name)) => name.as_str(),
            (map, None) => map,
        }
    }

    /// Refuses the arguments of a key or index attribute (`@id`, `@@unique`, ...) that other
    /// databases have and PostgreSQL does not, with Prisma's messages: `clustered` (SQL Server),
    /// `length` (MySQL), and `sort` on a primary key (SQL Server).
    fn other_connectors_arguments(&mut self, attribute: &Attribute, written: &str) {
        let primary_key = attribute.name.name == "id";
        let columns: Vec<&Argument> = match attribute.positional().or_else(|| attribute.named("fields")) {
            Some(Value { kind: ValueKind::Array(items), .. }) => items
                .iter()
                .flat_map(|item| match &item.kind {
                    ValueKind::Call(_, args) => args.iter().collect(),
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let place = if primary_key { "the primary key" } else { "an index definition" };
        for argument in attribute.args.iter().chain(columns) {
            let message = match argument.name.as_ref().map(|name| name.name.as_str()) {
                Some("clustered") => {
                    "Defining clustering is not supported in the current connector.".to_owned()
                }
                Some("length") => {
                    format!("The length argument is not supported in {place} with the current connector")
                }
                Some("sort") if primary_key => {
                    "The sort argument is not supported in the primary key with the current connector"
                        .to_owned()
                }
                _ => continue,
            };
            self.error(format!("Error parsing attribute \"{written}\": {message}"), argument.value.span);
        }
    }

    /// What `field` of `model` (or view) is, an unknown type reported; a relation field is
    /// noted in `relations` to be paired later.
    fn field_kind(
        &mut self,
        model: &'a Model,
        field: &'a Field,
        relations: &mut Vec<RelationEnd<'a>>,
    ) -> Option<Kind<'a>> {
        let Some(kind) = self.kind(field) else {
            self.error(
                format!("Type \"{}\" is neither a built-in type, nor refers to another model, composite type, or enum.", field.ty.name.name),
                field.ty.name.span,
            );
            return None;
        };
        if let Kind::Relation(target) = kind {
            let relation = attribute(&field.attributes, "relation");
            let name =
                relation.and_then(|r| r.positional().or_else(|| r.named("name"))).and_then(Value::as_str);
            relations.push(RelationEnd { model, field, target, name });
        }
        Some(kind)
    }

    fn kind(&self, field: &'a Field) -> Option<Kind<'a>> {
        let name = field.ty.name.name.as_str();
        if let Some(text) = &field.ty.unsupported {
            return Some(Kind::Unsupported(text));
        }
        if let Some(scalar) = SCALARS.iter().find(|s| **s == name) {
            return Some(Kind::Scalar(scalar));
        }
        if let Some(item) = self.enums.get(name) {
            return Some(Kind::Enum(item));
        }
        self.model(name).map(Kind::Relation)
    }

    fn schema_of(&mut self, attributes: &[Attribute], what: &str, span: Span) -> Option<String> {
        let written = attribute(attributes, "schema");
        let schema = written.and_then(|a| a.positional()).and_then(Value::as_str);
        if let (Some(written), Some(name)) = (written, schema)
            && !self.schemas.iter().any(|s| s == name)
        {
            self.error("This schema is not defined in the datasource. Read more on `@@schema` at https://pris.ly/d/multi-schema", written.span);
        }
        if !self.multi_schema {
            return None;
        }
        let Some(schema) = schema else {
            self.error(format!("This {what} is missing an `@@schema` attribute."), span);
            return None;
        };
        self.used_schemas.insert(schema.to_owned());
        (schema != self.default_schema).then(|| schema.to_owned())
    }

    fn table_name(&mut self, model: &'a Model) -> Name {
        let schema = self.schema_of(&model.attributes, "model", model.name.span);
        Name { schema, name: mapped(&model.attributes, "map", &model.name.name) }
    }

    fn column_name(field: &Field) -> String {
        mapped(&field.attributes, "map", &field.name.name)
    }

    fn enum_name(&mut self, item: &'a Enum) -> Name {
        let schema = self.schema_of(&item.attributes, "enum", item.name.span);
        Name { schema, name: mapped(&item.attributes, "map", &item.name.name) }
    }

    fn quoted_name(name: &Name) -> String {
        match &name.schema {
            Some(schema) => {
                format!("{}.{}", haste_sql::quote_ident(schema), haste_sql::quote_ident(&name.name))
            }
            None => haste_sql::quote_ident(&name.name),
        }
    }

    /// The column type as Prisma renders it, before `[]` and `SERIAL`.
    fn column_type(&mut self, field: &'a Field, kind: Kind<'a>) -> String {
        let native = field.attributes.iter().find(|a| a.name.name.starts_with("db."));
        match (kind, native) {
            (Kind::Unsupported(text), _) => text.to_owned(),
            (Kind::Enum(item), _) => {
                let name = self.enum_name(item);
                Lowering::quoted_name(&name)
            }
            (Kind::Scalar(scalar), Some(native)) => {
                let written = &native.name.name["db.".len()..];
                let Some(&(_, sql, expected, most)) = NATIVE_TYPES.iter().find(|(name, ..)| *name == written)
                else {
                    self.error(
                        format!("Native type {written} is not supported for postgresql connector."),
                        native.span,
                    );
                    return "TEXT".into();
                };
                if expected != scalar {
                    self.error(
                        format!("Native type {written} is not compatible with declared field type {scalar}, expected field type {expected}."),
                        native.span,
                    );
                }
                if native.args.len() > most {
                    self.error(
                        format!(
                            "Native type {written} takes {most} optional arguments, but received {}.",
                            native.args.len()
                        ),
                        native.span,
                    );
                }
                let args: Vec<String> = native
                    .args
                    .iter()
                    .map(|a| match &a.value.kind {
                        ValueKind::Number(n) => n.clone(),
                        _ => String::new(),
                    })
                    .collect();
                if args.is_empty() { sql.to_owned() } else { format!("{sql}({})", args.join(",")) }
            }
            (Kind::Scalar(scalar), None) => match scalar {
                "String" => "TEXT",
                "Boolean" => "BOOLEAN",
                "Int" => "INTEGER",
                "BigInt" => "BIGINT",
                "Float" => "DOUBLE PRECISION",
                "Decimal" => "DECIMAL(65,30)",
                "DateTime" => "TIMESTAMP(3)",
                "Json" => "JSONB",
                _ => "BYTEA",
            }
            .into(),
            (Kind::Relation(_), _) => unreachable!("relation fields have no column"),
        }
    }

    /// A literal default as SQL.
    fn literal(&mut self, value: &Value, kind: Kind<'a>) -> Option<String> {
        match (&value.kind, kind) {
            // A decimal may be written as a string (`@default("2.00")`): Prisma reads it as a
            // number and writes it unquoted.
            (ValueKind::String(text), Kind::Scalar("Decimal")) if decimal(text).is_some() => decimal(text),
            // Bytes are written in base64 and stored as PostgreSQL's hex form.
            (ValueKind::String(text), Kind::Scalar("Bytes")) => match base64_to_hex(text) {
                Some(hex) => Some(quote_literal(&format!("\\x{hex}"))),
                None => {
                    self.error(format!("Error parsing attribute \"@default\": Parse error: \"{text}\" is not a valid base64 string. (Could not convert from `base64 encoded bytes` to `PrismaValue::Bytes`)"), value.span);
                    None
                }
            },
            (ValueKind::String(text), Kind::Scalar("DateTime")) => match rfc3339(text) {
                Some(timestamp) => Some(quote_literal(&timestamp)),
                None => {
                    self.error(format!("Error parsing attribute \"@default\": Parse error: \"{text}\" is not a valid rfc3339 datetime string. (input contains invalid characters)"), value.span);
                    None
                }
            },
            (ValueKind::String(text), _) => Some(quote_literal(text)),
            (ValueKind::Number(number), _) => Some(number.clone()),
            (ValueKind::Name(name), Kind::Scalar("Boolean")) if name == "true" || name == "false" => {
                Some(name.clone())
            }
            (ValueKind::Name(name), Kind::Enum(item)) => {
                match item.values.iter().find(|v| &v.name.name == name) {
                    Some(found) => Some(quote_literal(&mapped(&found.attributes, "map", &found.name.name))),
                    None => {
                        self.error(format!("The defined default value `{name}` is not a valid value of the enum specified for the field."), value.span);
                        None
                    }
                }
            }
            _ => {
                self.error("This default value does not fit the field's type.", value.span);
                None
            }
        }
    }

    /// The `DEFAULT` of a column and whether it is `autoincrement()`.
    fn default(&mut self, field: &'a Field, kind: Kind<'a>, full_type: &str) -> (Option<String>, bool) {
        let Some(value) = attribute(&field.attributes, "default").and_then(|a| a.positional()) else {
            return (None, false);
        };
        match &value.kind {
            ValueKind::Call(name, args) => match name.as_str() {
                "autoincrement" => (None, true),
                "now" => {
                    if let Kind::Scalar(scalar) = kind
                        && scalar != "DateTime"
                    {
                        self.error(format!("Error parsing attribute \"@default\": The function `now()` cannot be used on fields of type `{scalar}`."), value.span);
                    }
                    (Some("CURRENT_TIMESTAMP".into()), false)
                }
                "dbgenerated" => (args.first().and_then(|a| a.value.as_str()).map(str::to_owned), false),
                "uuid"
                    if !args.is_empty()
                        && !matches!(args[0].value.kind, ValueKind::Number(ref n) if n == "4" || n == "7") =>
                {
                    self.error("Error parsing attribute \"@default\": `uuid()` takes either no argument, or a single integer argument which is either 4 or 7.", value.span);
                    (None, false)
                }
                client if CLIENT_DEFAULTS.contains(&client) => (None, false),
                "auto" => {
                    self.error("Error parsing attribute \"@default\": The current connector does not support the `auto()` function.", value.span);
                    (None, false)
                }
                other => {
                    self.error(format!("Unknown function in @default(): `{other}` is not known. You can read about the available functions here: https://pris.ly/d/attribute-functions"), value.span);
                    (None, false)
                }
            },
            ValueKind::Array(items) => {
                let rendered: Vec<String> =
                    items.iter().filter_map(|item| self.literal(item, kind)).collect();
                (Some(format!("ARRAY[{}]::{full_type}", rendered.join(", "))), false)
            }
            _ => (self.literal(value, kind), false),
        }
    }

    /// The columns of a list of field references (`[a, b(sort: Desc)]`) of an index of
    /// `index_type` (`Gin`, ...; `None`: B-tree), checked.
    fn index_columns(
        &mut self,
        model: &'a Model,
        fields: &Value,
        index_type: Option<&str>,
    ) -> Vec<ir::IndexColumn> {
        let items: Vec<&Value> = match &fields.kind {
            ValueKind::Array(items) => items.iter().collect(),
            _ => vec![fields],
        };
        let mut columns = Vec::new();
        for item in items {
            let (name, args) = match &item.kind {
                ValueKind::Name(name) => (name.as_str(), &[][..]),
                ValueKind::Call(name, args) => (name.as_str(), &args[..]),
                _ => {
                    self.error("Expected a field name.", item.span);
                    continue;
                }
            };
            let Some(field) = model.fields.iter().find(|f| f.name.name == name) else {
                self.error(format!("The index definition refers to the unknown fields: {name}."), item.span);
                continue;
            };
            let named =
                |wanted: &str| args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == wanted));
            let sort = named("sort").and_then(|a| a.value.as_name()).map(str::to_uppercase);
            let opclass = named("ops").map(|a| match &a.value.kind {
                ValueKind::Call(raw, raw_args) if raw == "raw" => {
                    raw_args.first().and_then(|a| a.value.as_str()).unwrap_or_default().to_owned()
                }
                ValueKind::Name(name) => operator_class(name),
                _ => String::new(),
            });
            // Prisma checks the field's type only where neither an operator class nor a native
            // type says more.
            let native = field.attributes.iter().any(|a| a.name.name.starts_with("db."));
            if let Some(index_type) = index_type
                && named("ops").is_none()
                && !native
                && !index_type_supports(index_type, self.kind(field), field.ty.arity == Arity::List)
            {
                self.error(
                    format!("Error parsing attribute \"@@index\": The {index_type} index type does not support the type of the field `{name}`."),
                    item.span,
                );
            }
            let opclass_default = named("ops")
                .and_then(|a| a.value.as_name())
                .is_some_and(|name| default_operator_class(name, index_type));
            columns.push(ir::IndexColumn {
                name: Lowering::column_name(field),
                sort,
                opclass,
                opclass_default,
            });
        }
        columns
    }
}

/// A primary key, index or unique constraint name and the attribute that gives it.
struct ConstraintName {
    schema: Option<String>,
    name: String,
    attribute: String,
    span: Span,
}

impl ConstraintName {
    fn new(table: &Name, name: &str, attribute: &str, span: Span) -> ConstraintName {
        ConstraintName {
            schema: table.schema.clone(),
            name: name.to_owned(),
            attribute: attribute.to_owned(),
            span,
        }
    }
}

/// A decimal as Prisma prints it (`2.00`, `-0.5` for `-.5`, `7` for `+007`): digits with at most
/// one point, a sign in front; `None` for anything else.
fn decimal(text: &str) -> Option<String> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_none_or(str::is_empty))
        || !all_digits(whole)
        || !fraction.is_none_or(all_digits)
    {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Some(match fraction {
        Some(fraction) if !fraction.is_empty() => format!("{sign}{whole}.{fraction}"),
        _ => format!("{sign}{whole}"),
    })
}

/// A `view` as Prisma 6.19.3 validates it: the `views` preview feature, no primary key, no
/// index, `@unique` / `@@unique` without a database name (no index backs them). Its relation
/// fields pair with their models' (no foreign key is written: the view is not a table).
fn validate_view<'a>(
    lowering: &mut Lowering<'a>,
    view: &'a Model,
    enabled: bool,
    relations: &mut Vec<RelationEnd<'a>>,
) {
    if !enabled {
        lowering.error(
            "View definitions are only available with the `views` preview feature: add `previewFeatures = [\"views\"]` to the generator.",
            view.name.span,
        );
    }
    // Prisma 6.12 still accepted a primary key on a view (`@id`, `@@id`); 6.13 refuses it.
    let no_primary_key = "Views cannot have primary keys (a rule since Prisma 6.13: 6.12 and earlier accepted `@id` and `@@id` on a view). Use `@unique` or `@@unique` instead.";
    let no_mapped_unique = "@@unique annotations on views are not backed by unique indexes in the database and cannot specify a mapped database name.";
    for field in &view.fields {
        if lowering.field_kind(view, field, relations).is_none() {
            continue;
        }
        if let Some(id) = attribute(&field.attributes, "id") {
            lowering.error(no_primary_key, id.span);
        }
        if let Some(unique) = attribute(&field.attributes, "unique").filter(|u| u.named("map").is_some()) {
            lowering.error(no_mapped_unique, unique.span);
        }
    }
    for block in &view.attributes {
        match block.name.name.as_str() {
            "id" => lowering.error(no_primary_key, block.span),
            "index" => lowering.error("Views cannot have indexes.", block.span),
            "unique" if block.named("map").is_some() => lowering.error(no_mapped_unique, block.span),
            _ => {}
        }
    }
}

/// `@default(dbgenerated())` without an expression: Prisma leaves the database's default alone.
fn keeps_database_default(field: &Field) -> bool {
    attribute(&field.attributes, "default")
        .and_then(|a| a.positional())
        .is_some_and(|value| matches!(&value.kind, ValueKind::Call(name, args) if name == "dbgenerated" && args.is_empty()))
}

/// Whether Prisma accepts an index of `index_type` (`Gin`, ...) on a field of `kind`: GiST and
/// SP-GiST on strings, GIN on JSON and lists, BRIN on strings, bytes, numbers and date-times
/// (its `supports_field_type`); B-tree and hash, and `Unsupported` fields, on anything.
fn index_type_supports(index_type: &str, kind: Option<Kind<'_>>, list: bool) -> bool {
    let scalar = match kind {
        Some(Kind::Scalar(scalar)) => Some(scalar),
        Some(Kind::Unsupported(_)) | None => return true,
        _ => None,
    };
    match index_type {
        "Gist" | "SpGist" => scalar == Some("String"),
        "Gin" => scalar == Some("Json") || list,
        "Brin" => scalar.is_some_and(|s| !matches!(s, "Boolean" | "Json")),
        _ => true,
    }
}

/// Whether Prisma counts the named operator class as the default of an index of `index_type`
/// (Prisma's own table, by name alone: `JsonbOps`, `ArrayOps`, `TextOps`, the BRIN `...MinMaxOps`
/// and `InetInclusionOps`, and `InetOps` on SP-GiST), so that writing it or leaving it out is the
/// same index.
fn default_operator_class(name: &str, index_type: Option<&str>) -> bool {
    match name {
        "JsonbOps" | "ArrayOps" | "TextOps" | "InetInclusionOps" => true,
        "InetOps" => index_type == Some("SpGist"),
        _ => name.ends_with("MinMaxOps"),
    }
}

/// Prisma's name of an operator class (`Int4MinMaxOps`) as PostgreSQL's (`int4_minmax_ops`):
/// snake case, but with the words PostgreSQL writes as one (`minmax`, `varbit`, `timestamptz`,
/// `timetz`) kept whole.
fn operator_class(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out.replace("min_max", "minmax").replace("var_bit", "varbit").replace("_tz_", "tz_")
}

/// Base64 (as Prisma reads a `Bytes` default) as hex digits; `None` when it is not base64.
fn base64_to_hex(text: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// An RFC 3339 date-time (`2020-01-02T03:04:05.5Z`) as Prisma writes it into a default
/// (`2020-01-02 03:04:05.500 +00:00`: the fraction in 3, 6 or 9 digits, none when zero);
/// `None` when the text is not one.
fn rfc3339(text: &str) -> Option<String> {
    let digits = |part: &str, length: usize| {
        (part.len() == length && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())?
    };
    let (date, time) = text.split_at_checked(10)?;
    let (separator, time) = time.split_at_checked(1)?;
    if !matches!(separator, "T" | "t" | " ") {
        return None;
    }
    digits(date.get(0..4)?, 4)?;
    let (month, day) = (digits(date.get(5..7)?, 2)?, digits(date.get(8..10)?, 2)?);
    let (hour, minute, second) =
        (digits(time.get(0..2)?, 2)?, digits(time.get(3..5)?, 2)?, digits(time.get(6..8)?, 2)?);
    let punctuated = &date[4..5] == "-" && &date[7..8] == "-" && &time[2..3] == ":" && &time[5..6] == ":";
    if !punctuated
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let rest = &time[8..];
    let (fraction, offset) = match rest.strip_prefix('.') {
        Some(rest) => rest.split_at(rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())),
        None => ("", rest),
    };
    if rest.starts_with('.') && fraction.is_empty() || fraction.len() > 9 {
        return None;
    }
    let offset = match offset {
        "Z" | "z" => "+00:00".to_owned(),
        _ => {
            let (sign, hours_minutes) = offset.split_at_checked(1)?;
            let (hours, minutes) = hours_minutes.split_once(':')?;
            if !matches!(sign, "+" | "-") || digits(hours, 2)? > 23 || digits(minutes, 2)? > 59 {
                return None;
            }
            offset.to_owned()
        }
    };
    let nanos = format!("{fraction:0<9}");
    let fraction = match nanos.trim_end_matches('0').len() {
        0 => String::new(),
        1..=3 => format!(".{}", &nanos[..3]),
        4..=6 => format!(".{}", &nanos[..6]),
        _ => format!(".{nanos}"),
    };
    Some(format!("{} {}{fraction} {offset}", date, &time[..8]))
}

/// Lowers a schema whose unqualified names live in `default_schema` (the connection's schema:
/// `?schema=` of its URL, else `public`). Every problem found is reported, not only the first.
pub fn lower<'a>(ast: &'a SchemaAst, default_schema: &'a str) -> Result<Database, Vec<Diagnostic>> {
    let mut lowering = Lowering {
        models: Vec::new(),
        views: Vec::new(),
        enums: HashMap::new(),
        multi_schema: false,
        schemas: Vec::new(),
        default_schema,
        used_schemas: BTreeSet::new(),
        foreign_keys: true,
        diagnostics: crate::attributes::check(ast),
    };
    let mut enums = Vec::new();
    let mut extensions = Vec::new();
    for top in &ast.tops {
        match top {
            Top::Model(model) => lowering.models.push(model),
            Top::Enum(item) => {
                enums.push(item);
                lowering.enums.insert(&item.name.name, item);
            }
            Top::CompositeType(model) => lowering.error(
                "Composite types are not supported on PostgreSQL; use a model or a Json field.",
                model.name.span,
            ),
            Top::Datasource(config) => {
                for (key, value) in &config.properties {
                    match (key.name.as_str(), &value.kind) {
                        ("provider", ValueKind::String(provider)) if provider != "postgresql" && provider != "postgres" => {
                            lowering.error(format!("haste reads Prisma schemas for PostgreSQL; this datasource's provider is `{provider}`."), value.span)
                        }
                        ("schemas", ValueKind::Array(items)) => {
                            lowering.multi_schema = true;
                            lowering.schemas =
                                items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                        }
                        // `referentialIntegrity`: its name before Prisma 4.5, still read.
                        ("relationMode" | "referentialIntegrity", ValueKind::String(mode)) => {
                            if mode != "prisma" && mode != "foreignKeys" {
                                lowering.error(format!("Error validating datasource `{}`: Invalid relation mode setting: \"{mode}\". Supported values: \"prisma\", \"foreignKeys\"", key.name), value.span);
                            }
                            lowering.foreign_keys = mode != "prisma"
                        }
                        ("extensions", ValueKind::Array(items)) => {
                            if !preview_feature(ast, "postgresqlExtensions") {
                                lowering.error("The `extensions` property is only available with the `postgresqlExtensions` preview feature.", key.span);
                            }
                            extensions = items.iter().filter_map(extension).collect()
                        }
                        _ => {}
                    }
                }
            }
            Top::View(view) => lowering.views.push(view),
            Top::Generator(_) => {}
        }
    }
    let mut seen = HashMap::new();
    let declared: Vec<(String, Span, &str)> = lowering
        .models
        .iter()
        .map(|m| (m.name.name.clone(), m.name.span, "model"))
        .chain(enums.iter().map(|e| (e.name.name.clone(), e.name.span, "enum")))
        .chain(lowering.views.iter().map(|v| (v.name.name.clone(), v.name.span, "view")))
        .collect();
    for (name, span, what) in declared {
        if let Some(first) = seen.insert(name.clone(), what) {
            let message = if what == "view" {
                format!(
                    "The view \"{name}\" cannot be defined because a {first} with that name already exists."
                )
            } else {
                format!(
                    "The model or enum \"{name}\" cannot be defined because a model or enum with that name already exists."
                )
            };
            lowering.error(message, span);
        }
    }
    let views_enabled = preview_feature(ast, "views");
    let mut relations = Vec::new();
    for view in lowering.views.clone() {
        validate_view(&mut lowering, view, views_enabled, &mut relations);
    }
    // Primary keys, indexes and unique constraints share one namespace in Prisma's validation.
    let mut constraint_names: Vec<ConstraintName> = Vec::new();

    let mut database = Database { extensions, ..Database::default() };
    for item in &enums {
        let name = lowering.enum_name(item);
        let values = item.values.iter().map(|v| mapped(&v.attributes, "map", &v.name.name)).collect();
        database.enums.push(ir::EnumType { name, values });
    }

    let models = lowering.models.clone();
    for model in &models {
        let table = lowering.table_name(model);
        let mut columns = Vec::new();
        let mut indexes = Vec::new();
        let mut primary_key = None;
        for field in &model.fields {
            let Some(kind) = lowering.field_kind(model, field, &mut relations) else { continue };
            if let Kind::Relation(_) = kind {
                continue;
            }
            let base = lowering.column_type(field, kind);
            let list = field.ty.arity == Arity::List;
            let full_type = if list { format!("{base}[]") } else { base.clone() };
            let (default, serial) = lowering.default(field, kind, &full_type);
            let data_type = if serial {
                match base.as_str() {
                    "BIGINT" => "BIGSERIAL".to_owned(),
                    "SMALLINT" => "SMALLSERIAL".to_owned(),
                    _ => "SERIAL".to_owned(),
                }
            } else {
                full_type
            };
            let column = Lowering::column_name(field);
            for key in ["id", "unique"].iter().filter_map(|name| attribute(&field.attributes, name)) {
                lowering.other_connectors_arguments(key, &format!("@{}", key.name.name));
            }
            if let Some(id) = attribute(&field.attributes, "id")
                && field.ty.arity != Arity::Required
            {
                lowering.error(
                    "Error parsing attribute \"@id\": Fields that are marked as id must be required.",
                    id.span,
                );
            }
            if let Some(updated) = attribute(&field.attributes, "updatedAt")
                && !matches!(kind, Kind::Scalar("DateTime"))
            {
                lowering.error("Error parsing attribute \"@updatedAt\": Fields that are marked with @updatedAt must be of type DateTime.", updated.span);
            }
            if let Some(id) = attribute(&field.attributes, "id") {
                let name = id
                    .named("map")
                    .and_then(Value::as_str)
                    .map_or_else(|| truncate_ident(&table.name, "_pkey"), str::to_owned);
                constraint_names.push(ConstraintName::new(&table, &name, "@id", id.span));
                primary_key = Some(ir::PrimaryKey { name, columns: vec![column.clone()] });
            }
            if let Some(unique) = attribute(&field.attributes, "unique") {
                let name = unique.named("map").and_then(Value::as_str).map_or_else(
                    || truncate_ident(&format!("{}_{column}", table.name), "_key"),
                    str::to_owned,
                );
                let sort = unique.named("sort").and_then(Value::as_name).map(str::to_uppercase);
                constraint_names.push(ConstraintName::new(&table, &name, "@unique", unique.span));
                indexes.push(ir::Index {
                    table: table.clone(),
                    name,
                    unique: true,
                    columns: vec![ir::IndexColumn {
                        name: column.clone(),
                        sort,
                        opclass: None,
                        opclass_default: false,
                    }],
                    method: None,
                    predicate: None,
                });
            }
            columns.push(ir::Column {
                sequence: serial.then(|| object_name(&table.name, &column, "seq")),
                name: column,
                data_type,
                not_null: field.ty.arity == Arity::Required,
                default,
                keeps_default: keeps_database_default(field),
            });
        }
        // Prisma's order: field-level uniques (above), then `@@id`, `@@index`, `@@unique`, each
        // kind in source order.
        let mut blocks: Vec<&Attribute> = model.attributes.iter().collect();
        blocks.sort_by_key(|b| match b.name.name.as_str() {
            "id" => 0,
            "index" => 1,
            _ => 2,
        });
        for block in blocks {
            let kind = block.name.name.as_str();
            if kind == "fulltext" {
                lowering.error("Error parsing attribute \"@@fulltext\": Defining fulltext indexes is not supported with the current connector.", block.span);
            }
            let Some(fields) = block.positional().or_else(|| block.named("fields")) else {
                continue;
            };
            if !matches!(kind, "id" | "unique" | "index") {
                continue;
            }
            lowering.other_connectors_arguments(block, &format!("@@{kind}"));
            let index_type = block.named("type").and_then(|value| value.as_name());
            let key = lowering.index_columns(model, fields, index_type);
            let stem = format!(
                "{}_{}",
                table.name,
                key.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("_")
            );
            let explicit = lowering.database_name(block).map(str::to_owned);
            let attribute_name = format!("@@{kind}");
            if kind == "id" {
                let name = explicit.unwrap_or_else(|| truncate_ident(&table.name, "_pkey"));
                constraint_names.push(ConstraintName::new(&table, &name, &attribute_name, block.span));
                primary_key =
                    Some(ir::PrimaryKey { name, columns: key.into_iter().map(|c| c.name).collect() });
                continue;
            }
            let unique = kind == "unique";
            let name =
                explicit.unwrap_or_else(|| truncate_ident(&stem, if unique { "_key" } else { "_idx" }));
            constraint_names.push(ConstraintName::new(&table, &name, &attribute_name, block.span));
            let method =
                block.named("type").and_then(Value::as_name).filter(|m| *m != "BTree").map(str::to_uppercase);
            let predicate = block.named("where").and_then(|w| match &w.kind {
                ValueKind::Call(raw, args) if raw == "raw" => {
                    args.first().and_then(|a| a.value.as_str()).map(str::to_owned)
                }
                _ => None,
            });
            indexes.push(ir::Index { table: table.clone(), name, unique, columns: key, method, predicate });
        }
        // Prisma lets an ignored model (one the client does not use) go without.
        let has_unique = primary_key.is_some() || indexes.iter().any(|i| i.unique);
        if !has_unique && attribute(&model.attributes, "ignore").is_none() {
            lowering.error(
                format!("Each model must have at least one unique criteria that has only required fields. Either mark a single field with `@id`, `@unique` or add a multi field criterion with `@@id([])` or `@@unique([])` to the model `{}`.", model.name.name),
                model.name.span,
            );
        }
        database.tables.push(ir::Table { name: table, columns, primary_key });
        database.indexes.extend(indexes);
    }

    for (i, constraint) in constraint_names.iter().enumerate() {
        let same =
            |other: &ConstraintName| other.schema == constraint.schema && other.name == constraint.name;
        let clashes = constraint_names.iter().enumerate().any(|(j, other)| i != j && same(other));
        if clashes {
            lowering.error(
                format!(
                    "Error parsing attribute \"{}\": The given constraint name `{}` has to be unique in the following namespace: global for primary key, indexes and unique constraints. Please provide a different name using the `map` argument.",
                    constraint.attribute, constraint.name
                ),
                constraint.span,
            );
        }
    }
    relate(&mut lowering, &mut database, &relations);
    let used = &lowering.used_schemas;
    database.schemas = lowering.schemas.iter().filter(|schema| used.contains(*schema)).cloned().collect();
    database.existing_schemas =
        if lowering.multi_schema { lowering.schemas.clone() } else { vec![default_schema.to_owned()] };
    if lowering.diagnostics.is_empty() { Ok(database) } else { Err(lowering.diagnostics) }
}

/// Pairs relation fields, validates them, and adds foreign keys and implicit many-to-many
/// tables.
fn relate<'a>(lowering: &mut Lowering<'a>, database: &mut Database, ends: &[RelationEnd<'a>]) {
    // Two unnamed relations between the same models cannot be told apart.
    for (i, end) in ends.iter().enumerate() {
        if let Some(other) = ends[..i].iter().find(|o| {
            std::ptr::eq(o.model, end.model)
                && std::ptr::eq(o.target, end.target)
                && o.name == end.name
                && !std::ptr::eq(o.model, o.target)
        }) {
            lowering.error(
                format!(
                    "Error validating model \"{}\": Ambiguous relation detected. The fields `{}` and `{}` in model `{}` both refer to `{}`. Please provide different relation names for them by adding `@relation(<name>).",
                    end.model.name.name, other.field.name.name, end.field.name.name, end.model.name.name, end.target.name.name
                ),
                end.field.span,
            );
        }
    }
    let mut paired = vec![false; ends.len()];
    let mut foreign_keys = Vec::new();
    let mut joins = Vec::new();
    for (i, end) in ends.iter().enumerate() {
        if paired[i] {
            continue;
        }
        let opposite = ends.iter().enumerate().find(|(j, o)| {
            *j != i
                && !paired[*j]
                && std::ptr::eq(o.model, end.target)
                && std::ptr::eq(o.target, end.model)
                && o.name == end.name
        });
        let Some((j, other)) = opposite else {
            lowering.error(
                format!(
                    "Error validating field `{}` in model `{}`: The relation field `{}` on model `{}` is missing an opposite relation field on the model `{}`. Either run `prisma format` or add it manually.",
                    end.field.name.name, end.model.name.name, end.field.name.name, end.model.name.name, end.target.name.name
                ),
                end.field.span,
            );
            continue;
        };
        paired[i] = true;
        paired[j] = true;
        let (a_list, b_list) = (end.field.ty.arity == Arity::List, other.field.ty.arity == Arity::List);
        let (a_fields, b_fields) = (!end.list("fields").is_empty(), !other.list("fields").is_empty());
        // A view is no table: a relation to or from one has no foreign key, nor join table.
        let table_to_table = !lowering.is_view(end.model) && !lowering.is_view(other.model);
        if a_list && b_list && !a_fields && !b_fields {
            if table_to_table {
                joins.push((*end, *other));
            }
            continue;
        }
        let owner = match (a_fields, b_fields) {
            (true, false) => *end,
            (false, true) => *other,
            _ => {
                let missing = if a_list { other } else { end };
                lowering.error(
                    format!(
                        "Error parsing attribute \"@relation\": The relation field `{}` on Model `{}` must specify the `fields` argument in the @relation attribute. You can run `prisma format` to fix this automatically.",
                        missing.field.name.name, missing.model.name.name
                    ),
                    missing.field.span,
                );
                continue;
            }
        };
        if table_to_table {
            foreign_keys.push(owner);
        }
    }
    // Foreign keys follow the referencing models' order, then their fields' order; join tables
    // their side A's (relationMode = "prisma": join tables still, without foreign keys).
    let position = |end: &RelationEnd<'a>| {
        let model = lowering.models.iter().position(|m| std::ptr::eq(*m, end.model)).unwrap_or(0);
        let field = end.model.fields.iter().position(|f| std::ptr::eq(f, end.field)).unwrap_or(0);
        (model, field)
    };
    foreign_keys.sort_by_key(position);
    joins.sort_by_key(|(one, other)| position(&join_sides(*one, *other).0));
    if lowering.foreign_keys {
        for owner in foreign_keys {
            add_foreign_key(lowering, database, &owner);
        }
    }
    for (one, other) in joins {
        add_join_table(lowering, database, one, other);
    }
}

/// The ends of an implicit many-to-many relation as columns `A` and `B`: by model name, then
/// field name.
fn join_sides<'a>(one: RelationEnd<'a>, other: RelationEnd<'a>) -> (RelationEnd<'a>, RelationEnd<'a>) {
    if (one.model.name.name.as_str(), one.field.name.name.as_str())
        <= (other.model.name.name.as_str(), other.field.name.name.as_str())
    {
        (one, other)
    } else {
        (other, one)
    }
}

fn field_columns<'a>(
    lowering: &mut Lowering<'a>,
    model: &'a Model,
    names: &[&Value],
    what: &str,
    span: Span,
) -> Vec<(String, &'a Field)> {
    let mut columns = Vec::new();
    for value in names {
        match value.as_name().and_then(|name| model.fields.iter().find(|f| f.name.name == name)) {
            Some(field) => columns.push((Lowering::column_name(field), field)),
            None => lowering.error(
                format!("The argument `{what}` must refer only to existing fields in `{}`. The following fields do not exist: {}", model.name.name, value.as_name().unwrap_or("?")),
                span,
            ),
        }
    }
    columns
}

fn add_foreign_key<'a>(lowering: &mut Lowering<'a>, database: &mut Database, owner: &RelationEnd<'a>) {
    let span = owner.relation().map_or(owner.field.span, |r| r.span);
    let (fields, references) = (owner.list("fields"), owner.list("references"));
    if fields.len() != references.len() {
        lowering.error("Error parsing attribute \"@relation\": You must specify the same number of fields in `fields` and `references`.", span);
        return;
    }
    let columns = field_columns(lowering, owner.model, &fields, "fields", span);
    let referenced = field_columns(lowering, owner.target, &references, "references", span);
    if columns.len() != fields.len() || referenced.len() != references.len() {
        return;
    }
    let action = |name: &str| {
        owner.relation().and_then(|r| r.named(name)).and_then(Value::as_name).map(|action| match action {
            "Cascade" => "CASCADE",
            "Restrict" => "RESTRICT",
            "NoAction" => "NO ACTION",
            "SetNull" => "SET NULL",
            _ => "SET DEFAULT",
        })
    };
    let required = columns.iter().any(|(_, field)| field.ty.arity == Arity::Required);
    let on_delete = action("onDelete").unwrap_or(if required { "RESTRICT" } else { "SET NULL" });
    let on_update = action("onUpdate").unwrap_or("CASCADE");
    let table = lowering.table_name(owner.model);
    let columns: Vec<String> = columns.into_iter().map(|(c, _)| c).collect();
    let name = owner.relation().and_then(|r| r.named("map")).and_then(Value::as_str).map_or_else(
        || truncate_ident(&format!("{}_{}", table.name, columns.join("_")), "_fkey"),
        str::to_owned,
    );
    database.foreign_keys.push(ir::ForeignKey {
        referenced_table: lowering.table_name(owner.target),
        referenced_columns: referenced.into_iter().map(|(c, _)| c).collect(),
        table,
        name,
        columns,
        on_delete: on_delete.into(),
        on_update: on_update.into(),
    });
}

/// `_AToB`: columns `A` and `B` referencing each side's single-column id, a two-column primary
/// key, an index on `B`, and cascading foreign keys.
fn add_join_table<'a>(
    lowering: &mut Lowering<'a>,
    database: &mut Database,
    one: RelationEnd<'a>,
    other: RelationEnd<'a>,
) {
    let (a, b) = join_sides(one, other);
    let relation =
        one.name.map_or_else(|| format!("{}To{}", a.model.name.name, b.model.name.name), str::to_owned);
    let table_name = Name {
        schema: lowering.table_name(a.model).schema,
        name: truncate_ident(&format!("_{relation}"), ""),
    };
    let mut columns = Vec::new();
    for (side, end) in [("A", a), ("B", b)] {
        let id = database
            .tables
            .iter()
            .find(|t| t.name == lowering.table_name(end.model))
            .and_then(|t| {
                let key = t.primary_key.as_ref()?;
                (key.columns.len() == 1).then(|| t.columns.iter().find(|c| c.name == key.columns[0]))?
            })
            .map(|c| c.stored_type().to_owned());
        let Some(data_type) = id else {
            lowering.error(
                format!("The implicit many-to-many relation `{relation}` needs a single-field `@id` on model `{}`.", end.model.name.name),
                end.field.span,
            );
            return;
        };
        columns.push(ir::Column {
            name: side.into(),
            data_type,
            not_null: true,
            default: None,
            keeps_default: false,
            sequence: None,
        });
    }
    let primary_key = ir::PrimaryKey {
        name: truncate_ident(&format!("_{relation}_AB"), "_pkey"),
        columns: vec!["A".into(), "B".into()],
    };
    database.tables.push(ir::Table { name: table_name.clone(), columns, primary_key: Some(primary_key) });
    database.indexes.push(ir::Index {
        table: table_name.clone(),
        name: truncate_ident(&format!("_{relation}_B"), "_index"),
        unique: false,
        columns: vec![ir::IndexColumn {
            name: "B".into(),
            sort: None,
            opclass: None,
            opclass_default: false,
        }],
        method: None,
        predicate: None,
    });
    if !lowering.foreign_keys {
        return;
    }
    for (side, end) in [("A", a), ("B", b)] {
        let target = lowering.table_name(end.model);
        let referenced =
            database.tables.iter().find(|t| t.name == target).and_then(|t| t.primary_key.clone());
        database.foreign_keys.push(ir::ForeignKey {
            table: table_name.clone(),
            name: truncate_ident(&format!("_{relation}_{side}"), "_fkey"),
            columns: vec![side.into()],
            referenced_table: target,
            referenced_columns: referenced.map(|k| k.columns).unwrap_or_default(),
            on_delete: "CASCADE".into(),
            on_update: "CASCADE".into(),
        });
    }
}

/// An entry of the datasource's `extensions`: `citext`, or `uuid_ossp(map: "uuid-ossp",
/// schema: "ext", version: "1.1")`.
fn extension(value: &crate::ast::Value) -> Option<ir::Extension> {
    let (written, args): (&str, &[crate::ast::Argument]) = match &value.kind {
        ValueKind::Name(name) => (name, &[]),
        ValueKind::Call(name, args) => (name, args),
        _ => return None,
    };
    let named = |wanted: &str| {
        args.iter()
            .find(|arg| arg.name.as_ref().is_some_and(|n| n.name == wanted))
            .and_then(|arg| arg.value.as_str().map(str::to_owned))
    };
    Some(ir::Extension {
        name: named("map").unwrap_or_else(|| written.to_owned()),
        schema: named("schema"),
        version: named("version"),
    })
}
