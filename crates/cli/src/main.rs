//! `haste`: parse arguments, load configuration, call the runner, render, exit.

mod args;
mod config;
mod exit;
mod render;

use std::process::ExitCode;

use clap::Parser;
use haste_driver::{ConnectError, Connection, DatabaseUrl, Scheme};
use haste_migrations::MigrationsDir;

use args::{Cli, Command, Format, Migrate};
use render::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match cli.command {
        Command::Migrate(command) => migrate(command),
    })
}

fn migrate(command: Migrate) -> u8 {
    match command {
        Migrate::New { name, dir, config } => {
            let printer = Printer::new(Format::Text, None);
            let dir = match config::migrations_dir(dir.as_deref(), config.as_deref()) {
                Ok(dir) => dir,
                Err(error) => return printer.usage_error(&error.0),
            };
            match haste_migrations::create_migration(&dir, &name, time::OffsetDateTime::now_utc()) {
                Ok(folder) => {
                    printer.line(&format!(
                        "Created {}",
                        folder.join("migration.sql").display()
                    ));
                    exit::OK
                }
                Err(error) => printer.usage_error(&error.to_string()),
            }
        }
        Migrate::Deploy { common, run } => {
            with_database(&common, Some(&run), |connection, dir, resolved, printer| {
                let mut observer = printer.observer(&resolved.settings.run_id);
                let result =
                    haste_runner::deploy(connection, dir, &resolved.settings, &mut observer);
                printer.deploy_result(&resolved.settings.run_id, &result)
            })
        }
        Migrate::Status { common } => {
            with_database(&common, None, |connection, dir, resolved, printer| {
                match haste_runner::status(connection, dir, &resolved.settings) {
                    Ok(report) => printer.status(&report),
                    Err(error) => printer.runner_error(&error),
                }
            })
        }
    }
}

/// Resolves configuration, reads the folder, connects, then runs `body`; any failure on the way
/// is rendered with its exit code.
fn with_database(
    common: &args::Common,
    run: Option<&args::RunOptions>,
    body: impl FnOnce(&mut dyn Connection, &MigrationsDir, &config::Resolved, &Printer) -> u8,
) -> u8 {
    let bare = Printer::new(common.format, None);
    let resolved = match config::resolve(common, run) {
        Ok(resolved) => resolved,
        Err(error) => return bare.usage_error(&error.0),
    };
    let printer = Printer::new(common.format, Some(resolved.url.clone()));
    let application_name = format!("haste/{}", resolved.settings.run_id);
    // Reading the folder and connecting both take milliseconds; they overlap.
    let (dir, connection) = std::thread::scope(|scope| {
        let loading = scope.spawn(|| MigrationsDir::load(&resolved.dir));
        let connection = connect(&resolved.url, &application_name, &resolved.settings);
        (
            loading
                .join()
                .expect("reading the migrations folder does not panic"),
            connection,
        )
    });
    let dir = match dir {
        Ok(dir) => dir,
        Err(error) => return printer.runner_error(&haste_runner::Error::Folder(error)),
    };
    let mut connection = match connection {
        Ok(connection) => connection,
        Err(error) => return printer.connect_error(&error),
    };
    body(connection.as_mut(), &dir, &resolved, &printer)
}

fn connect(
    url: &DatabaseUrl,
    application_name: &str,
    settings: &haste_runner::Settings,
) -> Result<Box<dyn Connection>, ConnectError> {
    Ok(match url.scheme() {
        Scheme::Postgres => {
            let scope = settings
                .history
                .qualified(haste_driver::history::MIGRATIONS_TABLE);
            Box::new(haste_postgres::PgConnection::connect(
                url,
                application_name,
                &scope,
            )?)
        }
        Scheme::Sqlite => Box::new(haste_sqlite::SqliteConnection::open(url, application_name)?),
    })
}
