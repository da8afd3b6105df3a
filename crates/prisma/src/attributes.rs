//! What Prisma 6.19.3 knows, and where: the attributes of each place (model and view fields and
//! blocks, enum values and enums), the arguments of each and the kind of value each takes, the
//! properties of a `datasource`, the arguments of an `extensions` entry and the preview features
//! of a `generator`. Anything else is refused with Prisma's message, before lowering reads the
//! schema (which reads only the arguments it knows and would otherwise pass a typo by).
//! Each message was taken from `prisma validate` (`docs/prisma-differences.md` lists the cases).

use std::collections::HashMap;

use crate::ast::*;
use crate::diagnostic::Diagnostic;

/// What a parameter accepts.
#[derive(Clone, Copy)]
enum Takes {
    /// Anything the lowering reads itself (field lists, default values, lengths).
    Any,
    /// A string literal.
    Text,
    /// A bare name out of a set, refused with `unknown(value)` otherwise.
    Constant(&'static [&'static str], fn(&str) -> String),
}

/// An attribute Prisma knows in one place.
struct Signature {
    name: &'static str,
    /// Its parameters; the first is the one an unnamed argument gives, when `unnamed`.
    params: &'static [(&'static str, Takes)],
    unnamed: bool,
    /// Whether the first parameter must be given.
    required: bool,
    /// Whether the attribute may be written only once in its place.
    once: bool,
}

const SORT: Takes = Takes::Constant(&["Asc", "Desc"], |value| {
    format!(
        "Error parsing attribute \"@unique\": The `sort` argument can only be `Asc` or `Desc` you provided: {value}."
    )
});
const ACTION: Takes =
    Takes::Constant(&["Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"], |value| {
        format!("Error parsing attribute \"@relation\": Invalid referential action: `{value}`")
    });
const INDEX_TYPE: Takes = Takes::Constant(&["BTree", "Hash", "Gist", "Gin", "SpGist", "Brin"], |value| {
    format!("Error parsing attribute \"@index\": Unknown index type: {value}.")
});

const fn signature(
    name: &'static str,
    params: &'static [(&'static str, Takes)],
    unnamed: bool,
    required: bool,
    once: bool,
) -> Signature {
    Signature { name, params, unnamed, required, once }
}

const KEY: &[(&str, Takes)] = &[
    ("fields", Takes::Any),
    ("name", Takes::Text),
    ("map", Takes::Text),
    ("length", Takes::Any),
    ("sort", Takes::Any),
    ("clustered", Takes::Any),
];
const NAME: &[(&str, Takes)] = &[("name", Takes::Text)];

/// Attributes of a model's or view's field (`@db.*` is checked by the lowering).
const FIELD: &[Signature] = &[
    signature(
        "id",
        &[("map", Takes::Text), ("length", Takes::Any), ("sort", Takes::Any), ("clustered", Takes::Any)],
        false,
        false,
        true,
    ),
    signature(
        "unique",
        &[("map", Takes::Text), ("length", Takes::Any), ("sort", SORT), ("clustered", Takes::Any)],
        false,
        false,
        true,
    ),
    signature("default", &[("value", Takes::Any), ("map", Takes::Any)], true, true, true),
    signature(
        "relation",
        &[
            ("name", Takes::Text),
            ("fields", Takes::Any),
            ("references", Takes::Any),
            ("map", Takes::Text),
            ("onDelete", ACTION),
            ("onUpdate", ACTION),
        ],
        true,
        false,
        true,
    ),
    signature("map", NAME, true, true, true),
    signature("updatedAt", &[], false, false, true),
    signature("ignore", &[], false, false, true),
];

/// Block attributes of a model or view (`where:` on `@@index` is haste's own extension).
const BLOCK: &[Signature] = &[
    signature("id", KEY, true, true, true),
    signature("unique", KEY, true, true, false),
    signature(
        "index",
        &[
            ("fields", Takes::Any),
            ("name", Takes::Text),
            ("map", Takes::Text),
            ("type", INDEX_TYPE),
            ("length", Takes::Any),
            ("sort", Takes::Any),
            ("clustered", Takes::Any),
            ("where", Takes::Any),
        ],
        true,
        true,
        false,
    ),
    signature("fulltext", &[("fields", Takes::Any), ("map", Takes::Text)], true, true, false),
    signature("map", NAME, true, true, true),
    signature("ignore", &[], false, false, true),
    signature("schema", NAME, true, true, true),
];

const ENUM_VALUE: &[Signature] = &[signature("map", NAME, true, true, true)];
const ENUM: &[Signature] =
    &[signature("map", NAME, true, true, true), signature("schema", NAME, true, true, true)];

/// The properties of a `datasource` on PostgreSQL.
const DATASOURCE: &[&str] = &[
    "provider",
    "url",
    "directUrl",
    "shadowDatabaseUrl",
    "relationMode",
    "referentialIntegrity",
    "extensions",
    "schemas",
];
const URLS: &[&str] = &["url", "directUrl", "shadowDatabaseUrl"];
const EXTENSION: &[&str] = &["map", "schema", "version"];

/// Preview features of Prisma 6.19.3 still in preview (its error lists these).
const PREVIEW: &[&str] = &[
    "fullTextSearchPostgres",
    "metrics",
    "nativeDistinct",
    "postgresqlExtensions",
    "relationJoins",
    "schemaEngineDriverAdapters",
    "shardKeys",
    "strictUndefinedChecks",
    "views",
];
/// Preview features Prisma 6.19.3 still accepts: released (a warning in Prisma: "is deprecated.
/// The functionality can be used without specifying it"), renamed (`fullTextSearch`), or hidden.
const ACCEPTED: &[&str] = &[
    "aggregateApi",
    "atomicNumberOperations",
    "clientExtensions",
    "cockroachdb",
    "connectOrCreate",
    "createMany",
    "dataProxy",
    "deno",
    "distinct",
    "driverAdapters",
    "extendedIndexes",
    "extendedWhereUnique",
    "fieldReference",
    "filterJson",
    "filteredRelationCount",
    "fullTextIndex",
    "fullTextSearch",
    "groupBy",
    "improvedQueryRaw",
    "interactiveTransactions",
    "jsonProtocol",
    "microsoftSqlServer",
    "middlewares",
    "mongoDb",
    "multiSchema",
    "nApi",
    "namedConstraints",
    "nativeTypes",
    "omitApi",
    "orderByAggregateGroup",
    "orderByNulls",
    "orderByRelation",
    "prismaSchemaFolder",
    "queryCompiler",
    "reactNative",
    "referentialActions",
    "referentialIntegrity",
    "selectRelationCount",
    "tracing",
    "transactionApi",
    "typedSql",
    "uncheckedScalarInputs",
    // Not in Prisma 6.19.3: the preview of later versions for partial indexes, which haste
    // reads as `@@index(where: raw(...))` whatever the generator says.
    "partialIndexes",
];

/// Prisma's operator classes for PostgreSQL (`ops:` in an index's field list).
pub(crate) const OPERATOR_CLASSES: &[&str] = &[
    "InetOps",
    "JsonbOps",
    "JsonbPathOps",
    "ArrayOps",
    "TextOps",
    "BitMinMaxOps",
    "VarBitMinMaxOps",
    "BpcharBloomOps",
    "BpcharMinMaxOps",
    "ByteaBloomOps",
    "ByteaMinMaxOps",
    "DateBloomOps",
    "DateMinMaxOps",
    "DateMinMaxMultiOps",
    "Float4BloomOps",
    "Float4MinMaxOps",
    "Float4MinMaxMultiOps",
    "Float8BloomOps",
    "Float8MinMaxOps",
    "Float8MinMaxMultiOps",
    "InetInclusionOps",
    "InetBloomOps",
    "InetMinMaxOps",
    "InetMinMaxMultiOps",
    "Int2BloomOps",
    "Int2MinMaxOps",
    "Int2MinMaxMultiOps",
    "Int4BloomOps",
    "Int4MinMaxOps",
    "Int4MinMaxMultiOps",
    "Int8BloomOps",
    "Int8MinMaxOps",
    "Int8MinMaxMultiOps",
    "NumericBloomOps",
    "NumericMinMaxOps",
    "NumericMinMaxMultiOps",
    "OidBloomOps",
    "OidMinMaxOps",
    "OidMinMaxMultiOps",
    "TextBloomOps",
    "TextMinMaxOps",
    "TimestampBloomOps",
    "TimestampMinMaxOps",
    "TimestampMinMaxMultiOps",
    "TimestampTzBloomOps",
    "TimestampTzMinMaxOps",
    "TimestampTzMinMaxMultiOps",
    "TimeBloomOps",
    "TimeMinMaxOps",
    "TimeMinMaxMultiOps",
    "TimeTzBloomOps",
    "TimeTzMinMaxOps",
    "TimeTzMinMaxMultiOps",
    "UuidBloomOps",
    "UuidMinMaxOps",
    "UuidMinMaxMultiOps",
];

/// Every attribute, argument, property and preview feature of `ast` checked against what
/// Prisma knows; what it does not know is returned as Prisma reports it.
pub(crate) fn check(ast: &SchemaAst) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let datasource = ast.tops.iter().find_map(|top| match top {
        Top::Datasource(config) => Some(config.name.name.as_str()),
        _ => None,
    });
    for top in &ast.tops {
        match top {
            Top::Model(model) | Top::View(model) => {
                for field in &model.fields {
                    check_native_prefix(&field.attributes, datasource, &mut errors);
                    check_place(&field.attributes, FIELD, "@", &mut errors);
                }
                check_place(&model.attributes, BLOCK, "@@", &mut errors);
                for block in model.attributes.iter().filter(|b| b.name.name == "index") {
                    check_operator_classes(block, &mut errors);
                }
            }
            Top::Enum(item) => {
                for value in &item.values {
                    check_place(&value.attributes, ENUM_VALUE, "@", &mut errors);
                }
                check_place(&item.attributes, ENUM, "@@", &mut errors);
            }
            Top::Datasource(config) => check_datasource(config, &mut errors),
            Top::Generator(config) => check_generator(config, &mut errors),
            Top::CompositeType(_) => {}
        }
    }
    errors
}

/// `@db.Text` with the datasource's name as prefix: another prefix is refused (`@pg.Text`).
fn check_native_prefix(attributes: &[Attribute], datasource: Option<&str>, errors: &mut Vec<Diagnostic>) {
    for attribute in attributes {
        let Some((prefix, native)) = attribute.name.name.split_once('.') else { continue };
        if let Some(name) = datasource
            && prefix != name
        {
            errors.push(Diagnostic::new(
                format!("The prefix {prefix} is invalid. It must be equal to the name of an existing datasource e.g. {name}. Did you mean to use {name}.{native}?"),
                attribute.span,
            ));
        }
        for argument in &attribute.args {
            if !matches!(&argument.value.kind, ValueKind::Number(n) if n.bytes().all(|b| b.is_ascii_digit()))
            {
                errors.push(Diagnostic::new(
                    format!(
                        "Expected a nonnegative integer, but found ({}).",
                        crate::format::value(&argument.value)
                    ),
                    argument.value.span,
                ));
            }
        }
    }
}

/// The attributes of one place (a field, a block, an enum value) against `known`.
fn check_place(attributes: &[Attribute], known: &[Signature], prefix: &str, errors: &mut Vec<Diagnostic>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for attribute in attributes {
        *counts.entry(attribute.name.name.as_str()).or_default() += 1;
    }
    for attribute in attributes {
        let name = attribute.name.name.as_str();
        if name.contains('.') {
            continue;
        }
        let Some(signature) = known.iter().find(|s| s.name == name) else {
            errors.push(Diagnostic::new(format!("Attribute not known: \"@{name}\"."), attribute.span));
            continue;
        };
        if signature.once && counts[name] > 1 {
            errors.push(Diagnostic::new(
                format!("Attribute \"@{name}\" can only be defined once."),
                attribute.span,
            ));
        }
        check_arguments(attribute, signature, prefix, errors);
    }
}

fn check_arguments(attribute: &Attribute, signature: &Signature, prefix: &str, errors: &mut Vec<Diagnostic>) {
    let written = format!("{prefix}{}", signature.name);
    let unnamed: Vec<&Argument> = attribute.args.iter().filter(|a| a.name.is_none()).collect();
    if signature.unnamed && unnamed.len() > 1 {
        let values: Vec<String> = unnamed.iter().map(|a| crate::format::value(&a.value)).collect();
        errors.push(Diagnostic::new(
            format!("Error parsing attribute \"{written}\": You provided multiple unnamed arguments. This is not possible. Did you forget the brackets? Did you mean `[{}]`?", values.join(", ")),
            attribute.span,
        ));
    }
    let mut given: Vec<&str> = Vec::new();
    for (index, argument) in attribute.args.iter().enumerate() {
        let param = match &argument.name {
            Some(name) => signature.params.iter().find(|(p, _)| *p == name.name),
            None if signature.unnamed && attribute.args[..index].iter().all(|a| a.name.is_some()) => {
                signature.params.first()
            }
            None if signature.unnamed => continue,
            None => None,
        };
        let span = argument
            .name
            .as_ref()
            .map_or(argument.value.span, |name| Span { end: argument.value.span.end, ..name.span });
        let Some(&(param, takes)) = param else {
            errors.push(Diagnostic::new("No such argument.", span));
            continue;
        };
        if given.contains(&param) {
            errors.push(Diagnostic::new(format!("Argument \"{param}\" is already specified."), span));
        }
        given.push(param);
        if let Some(message) = mismatch(&argument.value, takes) {
            errors.push(Diagnostic::new(message, argument.value.span));
        }
    }
    if signature.required && !given.contains(&signature.params[0].0) {
        errors.push(Diagnostic::new(
            format!("Argument \"{}\" is missing.", signature.params[0].0),
            attribute.span,
        ));
    }
}

/// Why `value` does not fit `takes`, in Prisma's words.
fn mismatch(value: &Value, takes: Takes) -> Option<String> {
    let (expected, fits) = match takes {
        Takes::Any => return None,
        Takes::Text => ("string", matches!(value.kind, ValueKind::String(_))),
        Takes::Constant(allowed, unknown) => match value.as_name() {
            Some(name) if allowed.contains(&name) => return None,
            Some(name) => return Some(unknown(name)),
            None => ("constant", false),
        },
    };
    (!fits).then(|| format!("Expected a {expected} value, but received {}.", described(value)))
}

/// A value as Prisma's type errors describe it: ``numeric value `1` ``.
fn described(value: &Value) -> String {
    let kind = match value.kind {
        ValueKind::String(_) => "string",
        ValueKind::Number(_) => "numeric",
        ValueKind::Name(_) => "constant",
        ValueKind::Call(..) => "function",
        ValueKind::Array(_) => "array",
    };
    format!("{kind} value `{}`", crate::format::value(value))
}

/// `ops:` in the field list of an `@@index`: one of Prisma's operator classes or `raw("...")`,
/// and none on a B-tree index (Prisma names none for it).
fn check_operator_classes(block: &Attribute, errors: &mut Vec<Diagnostic>) {
    let Some(Value { kind: ValueKind::Array(items), .. }) =
        block.positional().or_else(|| block.named("fields"))
    else {
        return;
    };
    let btree = block.named("type").and_then(Value::as_name).is_none_or(|t| t == "BTree");
    for item in items {
        let ValueKind::Call(_, args) = &item.kind else { continue };
        let Some(ops) = args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == "ops")) else {
            continue;
        };
        let message = match &ops.value.kind {
            ValueKind::Call(raw, _) if raw == "raw" => continue,
            ValueKind::Name(name) if !OPERATOR_CLASSES.contains(&name.as_str()) => {
                format!("Unexpected token. Expected one of: Invalid operator class: {name}")
            }
            ValueKind::Name(name) if btree => format!(
                "Error parsing attribute \"@@index\": The given operator class `{name}` is not supported with the `BTree` index type."
            ),
            ValueKind::Name(_) => continue,
            _ => "Unexpected token. Expected one of: operator class".to_owned(),
        };
        errors.push(Diagnostic::new(message, ops.value.span));
    }
}

fn check_datasource(config: &Config, errors: &mut Vec<Diagnostic>) {
    for (key, value) in &config.properties {
        let name = key.name.as_str();
        if !DATASOURCE.contains(&name) {
            errors.push(Diagnostic::new(format!("Property not known: \"{name}\"."), key.span));
        } else if URLS.contains(&name) {
            match &value.kind {
                ValueKind::String(_) => {}
                ValueKind::Call(env, args) if env == "env" => {
                    if let Some(argument) = args.iter().find(|a| a.value.as_str().is_none()) {
                        errors.push(Diagnostic::new(
                            format!("Expected a string value, but received {}.", described(&argument.value)),
                            argument.value.span,
                        ));
                    }
                }
                _ => errors.push(Diagnostic::new(
                    format!("Expected a String value, but received {}.", described(value)),
                    value.span,
                )),
            }
        } else if name == "extensions"
            && let ValueKind::Array(items) = &value.kind
        {
            for argument in items.iter().flat_map(|item| match &item.kind {
                ValueKind::Call(_, args) => args.as_slice(),
                _ => &[],
            }) {
                let Some(name) = argument.name.as_ref().filter(|n| !EXTENSION.contains(&n.name.as_str()))
                else {
                    continue;
                };
                errors.push(Diagnostic::new(format!("Argument not known: \"{}\".", name.name), name.span));
            }
        }
    }
    if !config.properties.iter().any(|(key, _)| key.name == "provider") {
        errors.push(Diagnostic::new(
            format!("Argument \"provider\" is missing in data source block \"{}\".", config.name.name),
            config.name.span,
        ));
    }
}

/// A generator's properties are its own (Prisma passes them on), but for `provider`, which it
/// needs, and `previewFeatures`, which Prisma reads.
fn check_generator(config: &Config, errors: &mut Vec<Diagnostic>) {
    if !config.properties.iter().any(|(key, _)| key.name == "provider") {
        errors.push(Diagnostic::new(
            format!("Argument \"provider\" is missing in generator block \"{}\".", config.name.name),
            config.name.span,
        ));
    }
    let features = config.properties.iter().filter(|(key, _)| key.name == "previewFeatures");
    for item in features.flat_map(|(_, value)| match &value.kind {
        ValueKind::Array(items) => items.as_slice(),
        _ => std::slice::from_ref(value),
    }) {
        let Some(feature) = item.as_str() else { continue };
        let known = PREVIEW.iter().chain(ACCEPTED).any(|known| known.eq_ignore_ascii_case(feature));
        if !known {
            errors.push(Diagnostic::new(
                format!(
                    "The preview feature \"{feature}\" is not known. Expected one of: {}",
                    PREVIEW.join(", ")
                ),
                item.span,
            ));
        }
    }
}

/// Whether a generator lists `feature` (Prisma reads the names case-insensitively).
pub(crate) fn preview_feature(ast: &SchemaAst, feature: &str) -> bool {
    ast.tops.iter().any(|top| match top {
        Top::Generator(config) => config.properties.iter().any(|(key, value)| {
            key.name == "previewFeatures"
                && matches!(&value.kind, ValueKind::Array(items)
                    if items.iter().any(|i| i.as_str().is_some_and(|s| s.eq_ignore_ascii_case(feature))))
        }),
        _ => false,
    })
}
