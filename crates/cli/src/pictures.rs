//! `schema erd` and `report`: read the schema (and history, and plan), hand them to
//! haste-report, write what it draws.

use std::path::Path;

use haste_driver::Scheme;
use haste_migrations::MigrationsDir;
use haste_report::{Erd, Filter, FilterError};

use crate::args::{Common, ErdFormat, Format, TableFilter};
use crate::exit;
use crate::render::Printer;

/// The filter `--schema` and `--tables` ask for, checked against `schema`: naming a schema
/// that does not exist, or a pattern that matches no table, is bad input (exit 2).
fn filter(tables: &TableFilter, schema: &haste_dev::Schema, printer: &Printer) -> Result<Filter, u8> {
    let filter = Filter { schemas: tables.schemas.clone(), tables: tables.tables.clone() };
    match filter.check(schema) {
        Ok(()) => Ok(filter),
        Err(FilterError::UnknownSchemas { unknown, known }) => Err(printer.usage_error(&format!(
            "--schema {}: no such schema (there {}: {})",
            unknown.join(", "),
            if known.len() == 1 { "is" } else { "are" },
            known.join(", ")
        ))),
        Err(FilterError::NoTableMatches { pattern, tables }) => {
            let place = match filter.schemas.as_slice() {
                [] => String::new(),
                schemas => format!(" in schema {}", schemas.join(", ")),
            };
            let matched = match tables {
                0 => format!("matches no table: there is none{place}"),
                1 => format!("matches no table: not the one table{place}"),
                _ => format!("matches none of the {tables} tables{place}"),
            };
            Err(printer.usage_error(&format!(
                "--tables {pattern} {matched} (`*` matches any run of characters and `?` one, in the name or schema.name)"
            )))
        }
    }
}

/// Writes `text` to `path` whole or not at all: into a file beside it, renamed over it once
/// written, so that a write that fails part-way (a full disk) leaves the previous file as it
/// was and nothing half-written. A device or pipe (`--out /dev/stdout`) is written as it is,
/// and a symbolic link through to its file, which stays linked.
fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let path = match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() && !metadata.is_dir() => return std::fs::write(path, text),
        Ok(_) => std::fs::canonicalize(path)?,
        Err(_) => path.to_owned(),
    };
    let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let written = std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// What `schema erd` was asked.
pub struct ErdArgs<'a> {
    pub url: Option<&'a str>,
    pub from: Option<&'a str>,
    pub shadow_url: Option<&'a str>,
    pub config: Option<&'a Path>,
    pub format: ErdFormat,
    pub out: Option<&'a Path>,
    pub tables: &'a TableFilter,
}

/// `schema erd`.
pub fn erd(args: &ErdArgs<'_>) -> u8 {
    let common = Common {
        url: args.url.map(str::to_owned),
        dir: None,
        config: args.config.map(Path::to_owned),
        format: Format::Text,
        history_schema: None,
        no_dotenv: false,
        environment: None,
        owners: false,
    };
    let printer = Printer::new(Format::Text, None);
    let schema = match crate::dev::load_any_schema(&common, args.from, args.shadow_url) {
        Ok(schema) => schema,
        Err(code) => return code,
    };
    let filter = match filter(args.tables, &schema, &printer) {
        Ok(filter) => filter,
        Err(code) => return code,
    };
    let erd = Erd::new(&schema, &filter);
    if erd.entities.is_empty() {
        printer.emit("warning: no table to draw: the schemas asked for have none", true);
    }
    let text = match args.format {
        ErdFormat::Svg => haste_report::svg::render(&erd, haste_report::svg::Anchors::None),
        ErdFormat::Mermaid => haste_report::text::mermaid(&erd),
        ErdFormat::Dot => haste_report::text::dot(&erd),
    };
    match args.out {
        Some(path) => match write_whole(path, &text) {
            Ok(()) => {
                printer.emit(
                    &format!(
                        "Wrote {} ({} tables, {} links)",
                        path.display(),
                        erd.entities.len(),
                        erd.links.len()
                    ),
                    true,
                );
                exit::OK
            }
            Err(error) => printer.usage_error(&format!("cannot write {}: {error}", path.display())),
        },
        None => {
            printer.emit(text.trim_end(), false);
            exit::OK
        }
    }
}

/// `report`.
pub fn report(common: &Common, out: &Path, plan: bool, tables: &TableFilter) -> u8 {
    let (resolved, printer) = match crate::resolve(common, None) {
        Ok(resolved) => resolved,
        Err(code) => return code,
    };
    let application_name = format!("haste/{}", resolved.settings.run_id);
    let mut connection = match crate::connect(
        &resolved.url,
        &application_name,
        &resolved.settings,
        haste_sqlite::Missing::Refuse,
    ) {
        Ok(connection) => connection,
        Err(error) => return printer.connect_error(&error),
    };
    let history = match haste_report::history::read(connection.as_mut(), &resolved.settings.history) {
        Ok(history) => history,
        Err(error) => {
            return printer.runner_error(&haste_runner::Error::Database {
                context: "reading the history",
                source: error,
            });
        }
    };
    let impact = if plan {
        let dir = match MigrationsDir::load(&resolved.dir.path) {
            Ok(dir) => dir,
            Err(error) => return printer.runner_error(&haste_runner::Error::Folder(error)),
        };
        match crate::planned_impact(connection.as_mut(), &dir, common, &resolved.settings, &printer) {
            Ok(report) => Some(report),
            Err(code) => return code,
        }
    } else {
        None
    };
    // The schema model is PostgreSQL's; a SQLite report has the history and plan only.
    let schema = match resolved.url.scheme() {
        Scheme::Postgres => match crate::dev::load_schema(common, None, None) {
            Ok(loaded) => loaded.schema,
            Err(code) => return code,
        },
        Scheme::Sqlite => haste_dev::Schema::default(),
    };
    let generated_at = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    let title = resolved.url.to_string();
    let filter = match filter(tables, &schema, &printer) {
        Ok(filter) => filter,
        Err(code) => return code,
    };
    let page = haste_report::page::render(&haste_report::page::Report {
        title: &title,
        generated_at: &generated_at,
        schema: &schema,
        filter: &filter,
        history: Some(&history),
        plan: impact.as_ref(),
    });
    // The history and the plan may quote the password (a failed statement's error, the
    // statement itself); the page is masked as the terminal is.
    let page = resolved.url.scrub_encoded(&page, haste_report::escape);
    let path = out.join("index.html");
    match std::fs::create_dir_all(out).and_then(|()| write_whole(&path, &page)) {
        Ok(()) => {
            match printer.format() {
                Format::Text => printer.line(&format!("Wrote {}", path.display())),
                Format::Json => printer.json(serde_json::json!({ "ok": true, "report": path })),
            }
            exit::OK
        }
        Err(error) => printer.usage_error(&format!("cannot write {}: {error}", path.display())),
    }
}
