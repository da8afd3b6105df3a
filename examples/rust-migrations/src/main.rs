//! An application binary that applies its migrations itself: the SQL ones in `migrations/` and
//! one written in Rust, with haste's lock, history and progress.
//!
//! `DATABASE_URL=postgres://... haste-example-rust`

use std::path::Path;
use std::time::Duration;

use haste_driver::DatabaseUrl;
use haste_driver::history::HistoryTables;
use haste_migrations::MigrationsDir;
use haste_runner::{CodeMigration, DbError, Executor, Observer, RunEvent, Settings};
use haste_sql::quote_literal;

/// Fills `contacts.domain` from the e-mail address, row by row in Rust.
fn backfill_domains(tx: &mut dyn Executor) -> Result<(), DbError> {
    let mut last = 0_i64;
    while let Some(row) =
        tx.query_row(&format!("SELECT id, email FROM contacts WHERE id > {last} ORDER BY id LIMIT 1"))?
    {
        let id: i64 = row[0].as_deref().and_then(|id| id.parse().ok()).unwrap_or_default();
        let email = row[1].clone().unwrap_or_default();
        let domain = quote_literal(email.rsplit('@').next().unwrap_or_default());
        tx.execute(&format!("UPDATE contacts SET domain = {domain} WHERE id = {id}"))?;
        last = id;
    }
    Ok(())
}

struct Printer;

impl Observer for Printer {
    fn event(&mut self, event: &RunEvent<'_>) {
        if let RunEvent::MigrationApplied { name, duration_ms, .. } = event {
            println!("applied {name} in {duration_ms} ms");
        }
    }
}

fn main() {
    let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL");
    let url = DatabaseUrl::parse(&url).expect("a postgres:// URL");
    let dir = MigrationsDir::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
        .expect("the migrations folder");
    let code = [CodeMigration::new("20260102000000_backfill_domains", backfill_domains)];
    let settings = Settings {
        lock_wait: Duration::from_secs(60),
        ..Settings::new(
            HistoryTables { schema: Some("public".into()) },
            format!("example-{}", std::process::id()),
        )
    };
    let scope = settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
    let mut connection = haste_postgres::PgConnection::connect(&url, "haste-example-rust", &scope)
        .unwrap_or_else(|error| {
            eprintln!("{error}");
            std::process::exit(9)
        });
    match haste_runner::deploy_with_code(&mut connection, &dir, &code, &settings, &mut Printer) {
        Ok(report) => {
            println!("{} applied, {} already applied", report.applied.len(), report.already_applied)
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(6)
        }
    }
}
