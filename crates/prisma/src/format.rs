//! Prints a syntax tree back as a Prisma schema (one field per line, attributes as written),
//! so that printing and parsing again gives the same tree.

use crate::ast::*;

fn string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn value(item: &Value) -> String {
    match &item.kind {
        ValueKind::String(text) => string(text),
        ValueKind::Number(number) => number.clone(),
        ValueKind::Name(name) => name.clone(),
        ValueKind::Call(name, args) => format!("{name}({})", arguments(args)),
        ValueKind::Array(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
    }
}

fn arguments(args: &[Argument]) -> String {
    args.iter()
        .map(|arg| match &arg.name {
            Some(name) => format!("{}: {}", name.name, value(&arg.value)),
            None => value(&arg.value),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn attribute(prefix: &str, attribute: &Attribute) -> String {
    if attribute.args.is_empty() {
        format!("{prefix}{}", attribute.name.name)
    } else {
        format!("{prefix}{}({})", attribute.name.name, arguments(&attribute.args))
    }
}

fn doc(out: &mut String, indent: &str, doc: &Option<String>) {
    for line in doc.iter().flat_map(|d| d.lines()) {
        out.push_str(&format!("{indent}/// {line}\n"));
    }
}

fn block_attributes(out: &mut String, attributes: &[Attribute]) {
    for item in attributes {
        out.push_str(&format!("  {}\n", attribute("@@", item)));
    }
}

/// The schema as text.
pub fn format(schema: &SchemaAst) -> String {
    let mut out = String::new();
    for top in &schema.tops {
        if !out.is_empty() {
            out.push('\n');
        }
        match top {
            Top::Model(model) | Top::View(model) | Top::CompositeType(model) => {
                let keyword = match top {
                    Top::Model(_) => "model",
                    Top::View(_) => "view",
                    _ => "type",
                };
                doc(&mut out, "", &model.doc);
                out.push_str(&format!("{keyword} {} {{\n", model.name.name));
                for field in &model.fields {
                    doc(&mut out, "  ", &field.doc);
                    let mut ty = field.ty.name.name.clone();
                    if let Some(text) = &field.ty.unsupported {
                        ty = format!("Unsupported({})", string(text));
                    }
                    match field.ty.arity {
                        Arity::Optional => ty.push('?'),
                        Arity::List => ty.push_str("[]"),
                        Arity::Required => {}
                    }
                    let attributes: Vec<String> =
                        field.attributes.iter().map(|a| attribute("@", a)).collect();
                    let line = format!("{} {ty} {}", field.name.name, attributes.join(" "));
                    out.push_str(&format!("  {}\n", line.trim_end()));
                }
                block_attributes(&mut out, &model.attributes);
                out.push_str("}\n");
            }
            Top::Enum(item) => {
                doc(&mut out, "", &item.doc);
                out.push_str(&format!("enum {} {{\n", item.name.name));
                for entry in &item.values {
                    doc(&mut out, "  ", &entry.doc);
                    let attributes: Vec<String> =
                        entry.attributes.iter().map(|a| attribute("@", a)).collect();
                    out.push_str(&format!(
                        "  {}\n",
                        format!("{} {}", entry.name.name, attributes.join(" ")).trim_end()
                    ));
                }
                block_attributes(&mut out, &item.attributes);
                out.push_str("}\n");
            }
            Top::Datasource(config) | Top::Generator(config) => {
                let keyword = if matches!(top, Top::Datasource(_)) { "datasource" } else { "generator" };
                out.push_str(&format!("{keyword} {} {{\n", config.name.name));
                for (key, item) in &config.properties {
                    out.push_str(&format!("  {} = {}\n", key.name, value(item)));
                }
                out.push_str("}\n");
            }
        }
    }
    out
}
