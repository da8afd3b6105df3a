//! `schema erd` and `report`: read the schema (and history, and plan), hand them to
//! haste-report, write what it draws.

use std::path::Path;

use haste_driver::Scheme;
use haste_migrations::MigrationsDir;
use haste_report::{Erd, Filter};

use crate::args::{Common, ErdFormat, Format, TableFilter};
use crate::exit;
use crate::render::Printer;

fn filter(tables: &TableFilter) -> Filter {
    Filter { schemas: tables.schemas.clone(), tables: tables.tables.clone() }
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
    };
    let printer = Printer::new(Format::Text, None);
    let schema = match crate::dev::load_any_schema(&common, args.from, args.shadow_url) {
        Ok(schema) => schema,
        Err(code) => return code,
    };
    let erd = Erd::new(&schema, &filter(args.tables));
    if erd.entities.is_empty() {
        printer.emit("warning: no table to draw (check --schema and --tables)", true);
    }
    let text = match args.format {
        ErdFormat::Svg => haste_report::svg::render(&erd, haste_report::svg::Anchors::None),
        ErdFormat::Mermaid => haste_report::text::mermaid(&erd),
        ErdFormat::Dot => haste_report::text::dot(&erd),
    };
    match args.out {
        Some(path) => match std::fs::write(path, text) {
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
    let mut connection = match crate::connect(&resolved.url, &application_name, &resolved.settings) {
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
        match haste_runner::impact(connection.as_mut(), &dir, &resolved.settings) {
            Ok(report) => Some(report),
            Err(error) => return printer.runner_error(&error),
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
        Scheme::Sqlite => haste_schema::Schema::default(),
    };
    let generated_at = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    let title = resolved.url.to_string();
    let filter = filter(tables);
    let page = haste_report::page::render(&haste_report::page::Report {
        title: &title,
        generated_at: &generated_at,
        schema: &schema,
        filter: &filter,
        history: Some(&history),
        plan: impact.as_ref(),
    });
    let path = out.join("index.html");
    match std::fs::create_dir_all(out).and_then(|()| std::fs::write(&path, page)) {
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
