//! The Prisma schema language as a source of desired schemas.
//!
//! # Brief overview
//! [`parse`] reads one or more `.prisma` files into a syntax tree ([`ast`]); [`lower`] resolves
//! names and relations and applies Prisma Migrate's mapping rules, giving the tables Prisma
//! keeps ([`ir::Database`]) in declaration order; [`migration`] renders the steps between two
//! such states as Prisma writes them. [`from_schema`] reads a database model back in the same
//! terms, so a migrations history can be compared with a Prisma schema.
//!
//! The syntax is parsed by hand (no parser generator): the language is small and line
//! oriented, and errors must point at the exact span, as Prisma's own validation does.

pub mod ast;
mod attributes;
mod defaults;
mod diagnostic;
mod format;
mod introspected;
pub mod ir;
mod lower;
mod parser;
mod render;

use std::path::Path;

pub use diagnostic::{Diagnostic, SourceFile};
pub use format::format;
pub use introspected::{Kept, align, from_schema, kept, project};
pub use lower::lower;
pub use render::{Migration, migration};

/// Parses every file of a schema (Prisma's multi-file schemas are one schema).
pub fn parse(files: &[SourceFile]) -> Result<ast::SchemaAst, Vec<Diagnostic>> {
    let mut tops = Vec::new();
    let mut errors = Vec::new();
    for (index, file) in files.iter().enumerate() {
        match parser::parse(&file.text, index) {
            Ok(found) => tops.extend(found),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(ast::SchemaAst { tops }) } else { Err(errors) }
}

/// Reads `path`: a `.prisma` file, or a folder whose `.prisma` files (in name order, sub-folders
/// included) form one schema.
pub fn read(path: &Path) -> std::io::Result<Vec<SourceFile>> {
    if !path.is_dir() {
        return Ok(vec![SourceFile {
            path: path.display().to_string(),
            text: std::fs::read_to_string(path)?,
        }]);
    }
    let mut found = Vec::new();
    let mut pending = vec![path.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?.path();
            if entry.is_dir() {
                pending.push(entry);
            } else if entry.extension().is_some_and(|e| e == "prisma") {
                found.push(entry);
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|file| {
            Ok(SourceFile { path: file.display().to_string(), text: std::fs::read_to_string(&file)? })
        })
        .collect()
}

/// The datasource's `schemas` (multi-schema), empty when it lists none.
pub fn datasource_schemas(ast: &ast::SchemaAst) -> Vec<String> {
    ast.tops
        .iter()
        .filter_map(|top| match top {
            ast::Top::Datasource(config) => config.properties.iter().find(|(k, _)| k.name == "schemas"),
            _ => None,
        })
        .flat_map(|(_, value)| match &value.kind {
            ast::ValueKind::Array(items) => {
                items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

/// A connection string the datasource gives (`url`, `directUrl`, `shadowDatabaseUrl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasourceUrl {
    /// The property, as written.
    pub property: String,
    /// The string, or the environment variable that holds it.
    pub value: UrlValue,
    /// Where: `file:line`.
    pub place: String,
    /// The schema file that holds it, as the user named it.
    pub file: String,
}

/// How a datasource property gives its connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlValue {
    /// `"postgres://..."`, written in the schema.
    Literal(String),
    /// `env("NAME")`.
    Env(String),
}

/// The datasource's `url`, `directUrl` and `shadowDatabaseUrl` that are set, in that order of
/// the properties' names; the schema is parsed, not validated.
pub fn datasource_urls(files: &[SourceFile]) -> Result<Vec<DatasourceUrl>, Vec<Diagnostic>> {
    let ast = parse(files)?;
    let mut found = Vec::new();
    for config in ast.tops.iter().filter_map(|top| match top {
        ast::Top::Datasource(config) => Some(config),
        _ => None,
    }) {
        for (key, value) in &config.properties {
            let value = match &value.kind {
                ast::ValueKind::String(text) => UrlValue::Literal(text.clone()),
                ast::ValueKind::Call(env, args) if env == "env" => {
                    match args.first().and_then(|a| a.value.as_str()) {
                        Some(name) => UrlValue::Env(name.to_owned()),
                        None => continue,
                    }
                }
                _ => continue,
            };
            if !["url", "directUrl", "shadowDatabaseUrl"].contains(&key.name.as_str()) {
                continue;
            }
            let file = &files[key.span.file];
            let (line, _) = Diagnostic::new(String::new(), key.span).position(&file.text);
            found.push(DatasourceUrl {
                property: key.name.clone(),
                value,
                place: format!("{}:{line}", file.path),
                file: file.path.clone(),
            });
        }
    }
    Ok(found)
}
