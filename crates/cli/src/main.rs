//! `haste`: parse arguments, load configuration, call the runner, render, exit.

mod args;
mod config;
mod dev;
mod exit;
mod fleet;
mod fleet_guards;
mod lint;
mod pictures;
mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use haste_driver::{ConnectError, Connection, DatabaseUrl, Scheme};
use haste_migrations::MigrationsDir;
use haste_sqlite::Missing;

use args::{Cli, Command, Format, Migrate};
use render::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return ExitCode::from(argument_error(&error)),
    };
    ExitCode::from(match cli.command {
        Command::Migrate(command) => migrate(command),
        Command::Schema(command) => schema(command),
        Command::Lint { files, dir, config, url, pg_version, format, rule } => {
            // Errors of `lint --format json` are JSON documents too; the other formats' are text.
            let errors = if format == args::LintFormat::Json { Format::Json } else { Format::Text };
            let printer = Printer::new(errors, url.as_deref().and_then(|u| DatabaseUrl::parse(u).ok()));
            lint::command(
                &files,
                dir.as_deref(),
                config.as_deref(),
                url.as_deref(),
                pg_version,
                format,
                &rule,
                &printer,
            )
        }
        Command::Report { common, out, plan, tables } => pictures::report(&common, &out, plan, &tables),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut command, "haste", &mut text);
            print_bytes(&text)
        }
        Command::Man { dir } => manual(dir.as_deref()),
        Command::Config { common, run } => match resolve(&common, Some(&run)) {
            Ok((resolved, printer)) => printer.config(&resolved),
            Err(code) => code,
        },
        Command::Doctor { common } => {
            with_database(&common, None, Missing::Refuse, |connection, dir, resolved, printer| {
                printer.doctor(&haste_runner::doctor(
                    connection,
                    dir,
                    &resolved.settings,
                    &haste_postgres::LocalCluster::can_start,
                ))
            })
        }
    })
}

/// Arguments clap refused (or `--help`, `--version`, which it reports the same way). With
/// `--format json` among the arguments an error is a JSON document on stdout like every other
/// error, so a program reading stdout is never handed clap's text. The password of a connection
/// string among the arguments is masked wherever the message quotes it.
fn argument_error(error: &clap::Error) -> u8 {
    if !error.use_stderr() {
        // Help and version: clap prints them on stdout and exits 0.
        let _ = error.print();
        return exit::OK;
    }
    let arguments: Vec<String> =
        std::env::args_os().skip(1).map(|arg| arg.to_string_lossy().into_owned()).collect();
    let json = arguments.iter().enumerate().any(|(index, arg)| {
        arg == "--format=json"
            || (arg == "--format" && arguments.get(index + 1).is_some_and(|next| next == "json"))
    });
    let masked = |text: &str| config::shown_in(text, &arguments.join(" "));
    if json {
        let text = error.render().to_string();
        let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
        // The first paragraph says what is wrong; the usage line and the pointer to --help after
        // it are for people.
        let message = message.split("\n\nUsage:").next().unwrap_or(message).trim();
        Printer::new(Format::Json, None).usage_error(&masked(message))
    } else {
        let _ = write!(anstream::stderr(), "{}", masked(&error.render().ansi().to_string()));
        exit::USAGE
    }
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
                    printer.line(&format!("Created {}", folder.join("migration.sql").display()));
                    exit::OK
                }
                Err(error) => printer.usage_error(&error.to_string()),
            }
        }
        Migrate::Plan { common, run } => plan(&common, &run),
        Migrate::Deploy { common, run, dry_run: true, .. } => plan(&common, &run),
        Migrate::Deploy {
            common,
            mut run,
            rate,
            allow_out_of_order,
            backup,
            lint,
            dry_run: false,
            promotion_override,
            verify,
            outside_window,
            fleet,
            fail_fast,
            canary,
        } => {
            run.max_rate = rate.max_rate;
            run.allow_out_of_order = allow_out_of_order;
            if fleet.asked() {
                return fleet::deploy(&fleet::DeployArgs {
                    common: &common,
                    run: &run,
                    fleet: &fleet,
                    fail_fast,
                    canary,
                    outside_window: outside_window.as_deref(),
                    backup: backup.as_deref(),
                    lint,
                    verify,
                    promotion_override: promotion_override.as_deref(),
                });
            }
            // The window is judged before anything connects.
            let outside = match resolve(&common, Some(&run)) {
                Ok((resolved, printer)) => match haste_runner::check_window(
                    resolved.window.as_ref(),
                    jiff::Timestamp::now(),
                    outside_window.as_deref(),
                ) {
                    Ok(outside) => outside,
                    Err(error) => return printer.runner_error(&error),
                },
                Err(code) => return code,
            };
            let mut verifies = verify;
            let code = with_database(
                &common,
                Some(&run),
                Missing::Create,
                |connection, dir, resolved, printer| {
                    verifies |= resolved.verify;
                    let rule = resolved.promote_from.as_ref();
                    let settings = match promotion(dir, rule, promotion_override.clone(), printer) {
                        Ok(promotion) => haste_runner::Settings {
                            promotion,
                            outside_window: outside.clone(),
                            ..resolved.settings.clone()
                        },
                        Err(code) => return code,
                    };
                    if lint || resolved.lint {
                        let code = lint_pending(connection, dir, &common, resolved, printer);
                        if code != exit::OK {
                            return code;
                        }
                    }
                    let configured = resolved.backup.as_deref().map(timestamped);
                    // A path from haste.toml (a committed file) never replaces an existing file; one
                    // given on the command line is the person's own choice.
                    if let (None, Some(path)) = (&backup, &configured)
                        && path.exists()
                    {
                        return printer.usage_error(&format!(
                        "backup {} exists: a backup path from haste.toml never replaces a file (use {{timestamp}} in it)",
                        path.display()
                    ));
                    }
                    let backup = backup.clone().or(configured);
                    if let Some(path) = &backup {
                        if let Err(error) = connection.backup(path) {
                            return printer.backup_error(path, &error);
                        }
                        printer.progress(&format!("Backed up the database to {}", path.display()));
                    }
                    let mut observer = printer.observer(&settings.run_id);
                    let result = haste_runner::deploy(connection, dir, &settings, &mut observer);
                    printer.deploy_result(&settings.run_id, &result)
                },
            );
            if code == exit::OK && verifies { dev::verify(&common) } else { code }
        }
        Migrate::Status { common, drift, fleet: targets, owners, .. } if targets.asked() => {
            fleet::status(&owners.apply(&common), &targets, drift)
        }
        Migrate::Status { common, drift, shadow_url, schema, owners, .. } => {
            let common = owners.apply(&common);
            // With --drift, a drift check follows a status that lets it run; in JSON both make
            // one document, so the status waits for it.
            let mut waiting = None;
            let code = with_database(&common, None, Missing::Refuse, |connection, dir, resolved, printer| {
                match haste_runner::status(connection, dir, &resolved.settings) {
                    Ok(report) => {
                        let code = Printer::status_code(&report);
                        let checks_drift = drift && matches!(code, exit::OK | exit::PENDING);
                        if checks_drift && printer.format() == Format::Json {
                            waiting = Some(Printer::status_document(&report));
                            code
                        } else {
                            printer.status(&report)
                        }
                    }
                    Err(error) => printer.runner_error(&error),
                }
            });
            if drift && matches!(code, exit::OK | exit::PENDING) {
                dev::status_drift(&common, shadow_url.as_deref(), schema.as_deref(), code, waiting)
            } else {
                code
            }
        }
        Migrate::Dev {
            common,
            mut run,
            rate,
            name,
            schema,
            exact_prisma,
            online: _,
            owners,
            shadow_url,
            rename,
            expand_contract,
            create_only,
            accept_data_loss,
            force,
        } => dev::migrate_dev(&dev::DevArgs {
            run: &{
                run.max_rate = rate.max_rate;
                run
            },
            common: &owners.apply(&common),
            name: &name,
            schema: schema.as_deref(),
            exact_prisma,
            shadow_url: shadow_url.as_deref(),
            renames: &rename,
            expand_contract,
            create_only,
            accept_data_loss,
            force,
        }),
        Migrate::Down { common, mut run, rate, steps, to, confirm_production } => {
            run.max_rate = rate.max_rate;
            let target = match to {
                Some(name) => haste_runner::DownTarget::To(name),
                None => haste_runner::DownTarget::Steps(steps.unwrap_or(1)),
            };
            let guard = |environment: &_| haste_runner::check_down_allowed(environment, confirm_production);
            with_guarded_database(
                &common,
                Some(&run),
                Missing::Refuse,
                guard,
                |connection, dir, resolved, printer| {
                    let mut observer = printer.observer(&resolved.settings.run_id);
                    let result = haste_runner::down(
                        connection,
                        dir,
                        &resolved.settings,
                        &target,
                        &resolved.environment,
                        confirm_production,
                        &mut observer,
                    );
                    printer.names_result("Reverted", "reverted", &result)
                },
            )
        }
        Migrate::Resolve {
            common,
            mut run,
            rate,
            applied,
            rolled_back,
            resume,
            drop_invalid_index,
            accept_edit,
        } => {
            run.max_rate = rate.max_rate;
            let (name, resolution) = match (applied, rolled_back, resume) {
                (Some(name), _, _) => (name, haste_runner::Resolution::Applied),
                (_, Some(name), _) => (name, haste_runner::Resolution::RolledBack),
                (_, _, Some(name)) => {
                    (name, haste_runner::Resolution::Resume { drop_invalid_index, accept_edit })
                }
                _ => unreachable!("clap requires one of --applied, --rolled-back, --resume"),
            };
            with_database(&common, Some(&run), Missing::Refuse, |connection, dir, resolved, printer| {
                let mut observer = printer.observer(&resolved.settings.run_id);
                let result = haste_runner::resolve(
                    connection,
                    dir,
                    &resolved.settings,
                    &name,
                    &resolution,
                    &mut observer,
                );
                printer.resolve_result(&name, &resolution, &result)
            })
        }
        Migrate::Reset { common, mut run, rate, force, skip_seed } => {
            run.max_rate = rate.max_rate;
            let guard = |environment: &_| haste_runner::check_reset_allowed(environment, force);
            with_guarded_database(
                &common,
                Some(&run),
                Missing::Create,
                guard,
                |connection, dir, resolved, printer| {
                    let seed = match resolved
                        .seed
                        .as_deref()
                        .filter(|_| !skip_seed)
                        .map(haste_migrations::SqlFile::read)
                    {
                        None => None,
                        Some(Ok(Some(file))) => Some(file),
                        Some(Ok(None)) => {
                            return printer.usage_error(&format!(
                                "seed file {} does not exist",
                                resolved
                                    .seed
                                    .as_deref()
                                    .unwrap_or_else(|| std::path::Path::new(""))
                                    .display()
                            ));
                        }
                        Some(Err(error)) => return printer.usage_error(&error.to_string()),
                    };
                    let mut observer = printer.observer(&resolved.settings.run_id);
                    let result = haste_runner::reset(
                        connection,
                        dir,
                        &resolved.settings,
                        seed.as_ref(),
                        &resolved.environment,
                        force,
                        &mut observer,
                    );
                    let code = printer.deploy_result(&resolved.settings.run_id, &result);
                    if let (Some(file), exit::OK) = (&seed, code) {
                        printer.progress(&format!("Ran the seed {}.", file.path.display()));
                    }
                    match (&resolved.seed_command, code, skip_seed) {
                        (Some(command), exit::OK, false) => printer.seed_command(command, &resolved.url),
                        _ => code,
                    }
                },
            )
        }
        Migrate::Baseline { migration, common, run } => {
            with_database(&common, Some(&run), Missing::Refuse, |connection, dir, resolved, printer| {
                let mut observer = printer.observer(&resolved.settings.run_id);
                let result =
                    haste_runner::baseline(connection, dir, &resolved.settings, &migration, &mut observer);
                printer.names_result("Baselined", "baselined", &result)
            })
        }
        // The only command that needs no migrations folder: it may be run from anywhere.
        Migrate::Unlock { common, terminate } => {
            let (resolved, printer) = match resolve(&common, None) {
                Ok(resolved) => resolved,
                Err(code) => return code,
            };
            let application_name = format!("haste/{}", resolved.settings.run_id);
            match connect(&resolved.url, &application_name, &resolved.settings, Missing::Refuse) {
                Ok(mut connection) => {
                    printer.unlock_result(&haste_runner::unlock(connection.as_mut(), terminate))
                }
                Err(error) => printer.connect_error(&error),
            }
        }
    }
}

fn schema(command: args::SchemaCommand) -> u8 {
    match &command {
        args::SchemaCommand::Inspect { common, source } | args::SchemaCommand::Dump { common, source } => {
            let printer = Printer::new(common.format, None);
            let common = &source.owners.apply(common);
            match dev::load_schema(common, source.source.as_deref(), source.shadow_url.as_deref()) {
                Ok(loaded) if matches!(command, args::SchemaCommand::Dump { .. }) => {
                    printer.schema_dump(&loaded.schema)
                }
                Ok(loaded) => printer.schema_summary(&loaded.schema),
                Err(code) => return code,
            }
            exit::OK
        }
        args::SchemaCommand::Diff { common, from, to, shadow_url, online, rename, owners } => {
            dev::schema_diff(&owners.apply(common), from, to, shadow_url.as_deref(), *online, rename)
        }
        args::SchemaCommand::Erd { url, from, shadow_url, config, format, out, tables } => {
            pictures::erd(&pictures::ErdArgs {
                url: url.as_deref(),
                from: from.as_deref(),
                shadow_url: shadow_url.as_deref(),
                config: config.as_deref(),
                format: *format,
                out: out.as_deref(),
                tables,
            })
        }
    }
}

/// `migrate plan`, `deploy --dry-run`: what the pending statements would do now. The run options are resolved (and refused) exactly as
/// deploy resolves them, though nothing runs.
fn plan(common: &args::Common, run: &args::RunOptions) -> u8 {
    with_database(common, Some(run), Missing::Refuse, |connection, dir, resolved, printer| {
        match planned_impact(connection, dir, common, &resolved.settings, printer) {
            Ok(report) => printer.impact(&report),
            Err(code) => code,
        }
    })
}

/// What deploying the pending migrations of `dir` would do now, with the lint findings beside
/// the statements they concern: the one impact `migrate plan` prints and `report --plan` shows.
/// An error is printed and its exit code returned.
pub(crate) fn planned_impact(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    common: &args::Common,
    settings: &haste_runner::Settings,
    printer: &Printer,
) -> Result<haste_runner::ImpactReport, u8> {
    let mut report =
        haste_runner::impact(connection, dir, settings).map_err(|error| printer.runner_error(&error))?;
    let released: std::collections::HashSet<String> = dir
        .migrations
        .iter()
        .filter(|migration| !report.migrations.iter().any(|pending| pending.name == migration.name))
        .map(|migration| migration.name.clone())
        .collect();
    let server = connection.server_version().ok().and_then(|v| lint::major_version(&v));
    let (findings, _) = lint_findings(dir, common, &released, (connection.dialect(), server))
        .map_err(|error| printer.usage_error(&error))?;
    for migration in &dir.migrations {
        let file = migration.up.path.display().to_string();
        let notes = findings.iter().filter(|finding| finding.file == file).filter_map(|finding| {
            let severity = match finding.severity {
                haste_lint::Severity::Error => haste_runner::LintSeverity::Error,
                haste_lint::Severity::Warn => haste_runner::LintSeverity::Warn,
                haste_lint::Severity::Off => return None,
            };
            Some(haste_runner::LintNote {
                rule: finding.rule.to_owned(),
                severity,
                line: finding.line,
                message: finding.message.clone(),
            })
        });
        report.attach_lint(&migration.name, notes);
    }
    Ok(report)
}

/// `deploy --lint`: lints the pending migrations against the applied ones; error findings
/// stop the deploy before anything runs.
fn lint_pending(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    common: &args::Common,
    resolved: &config::Resolved,
    printer: &Printer,
) -> u8 {
    let report = match haste_runner::status(connection, dir, &resolved.settings) {
        Ok(report) => report,
        Err(error) => return printer.runner_error(&error),
    };
    let applied: std::collections::HashSet<String> = report
        .migrations
        .iter()
        .filter(|m| m.state != haste_runner::State::Pending)
        .map(|m| m.name.clone())
        .collect();
    let server = connection.server_version().ok().and_then(|v| lint::major_version(&v));
    lint_unreleased(dir, common, &applied, (connection.dialect(), server), printer)
}

/// Lints the migrations of `dir` not in `released` (what some database lacks) with those in it
/// as context, for `dialect` and the server's major version (else `[lint] pg_version`, else
/// 15); error findings are refused (the exit code, after the findings are printed).
fn lint_unreleased(
    dir: &MigrationsDir,
    common: &args::Common,
    released: &std::collections::HashSet<String>,
    (dialect, server): (haste_sql::Dialect, Option<u32>),
    printer: &Printer,
) -> u8 {
    let (findings, inputs) = match lint_findings(dir, common, released, (dialect, server)) {
        Ok(linted) => linted,
        Err(error) => return printer.usage_error(&error),
    };
    if lint::outcome(&findings) == exit::OK { exit::OK } else { lint::refused(&findings, &inputs, printer) }
}

/// The lint findings of the migrations of `dir` not in `released`, with those in it as context,
/// and the files linted; or why the lint configuration cannot be read.
fn lint_findings(
    dir: &MigrationsDir,
    common: &args::Common,
    released: &std::collections::HashSet<String>,
    (dialect, server): (haste_sql::Dialect, Option<u32>),
) -> Result<(Vec<haste_lint::Finding>, Vec<haste_lint::SourceFile>), String> {
    let mut settings = config::lint_settings(common.dir.as_deref(), common.config.as_deref(), &[])
        .map_err(|error| error.0)?;
    settings.config.pg_version = server.or(settings.pg_version).unwrap_or(15);
    settings.config.dialect = dialect;
    // A deploy runs no down.sql: only what it applies is judged.
    let inputs = lint::sources(dir, |m, _| !released.contains(&m.name), Some(released), false)
        .map_err(|error| error.to_string())?;
    Ok((haste_lint::lint(&inputs, &settings.config), inputs))
}

/// The server version and the migrations recorded as applied (or otherwise started) on `url`.
fn applied_migrations(
    url: &str,
    dir: &MigrationsDir,
    printer: &Printer,
) -> Result<(String, std::collections::HashSet<String>), u8> {
    let url = DatabaseUrl::parse(url).map_err(|error| printer.usage_error(&error.to_string()))?;
    let settings = config::settings_for(&url, None);
    let mut connection = connect(&url, "haste/lint", &settings, Missing::Refuse)
        .map_err(|error| printer.connect_error(&error))?;
    let version = connection.server_version().unwrap_or_default();
    let report = haste_runner::status(connection.as_mut(), dir, &settings)
        .map_err(|error| printer.runner_error(&error))?;
    let names = report
        .migrations
        .into_iter()
        .filter(|m| m.state != haste_runner::State::Pending)
        .map(|m| m.name)
        .collect();
    Ok((version, names))
}

/// Resolves configuration, reads the folder, connects, then runs `body`; any failure on the way
/// is rendered with its exit code. `missing`: whether the command creates a SQLite file that does
/// not exist (deploy and reset do) or refuses it.
fn with_database(
    common: &args::Common,
    run: Option<&args::RunOptions>,
    missing: Missing,
    body: impl FnOnce(&mut dyn Connection, &MigrationsDir, &config::Resolved, &Printer) -> u8,
) -> u8 {
    with_guarded_database(common, run, missing, |_| Ok(()), body)
}

/// [`with_database`] for a command the environment may forbid: `guard` decides before anything
/// connects, so a refused command never opens a connection to the database it refuses.
fn with_guarded_database(
    common: &args::Common,
    run: Option<&args::RunOptions>,
    missing: Missing,
    guard: impl FnOnce(&haste_runner::Environment) -> Result<(), haste_runner::Error>,
    body: impl FnOnce(&mut dyn Connection, &MigrationsDir, &config::Resolved, &Printer) -> u8,
) -> u8 {
    let (resolved, printer) = match resolve(common, run) {
        Ok(resolved) => resolved,
        Err(code) => return code,
    };
    if let Err(error) = guard(&resolved.environment) {
        return printer.runner_error(&error);
    }
    let application_name = format!("haste/{}", resolved.settings.run_id);
    // Reading the folder and connecting both take milliseconds; they overlap.
    let (dir, connection) = std::thread::scope(|scope| {
        let loading = scope.spawn(|| MigrationsDir::load(&resolved.dir.path));
        let connection = connect(&resolved.url, &application_name, &resolved.settings, missing);
        (loading.join().expect("reading the migrations folder does not panic"), connection)
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

/// The settings, and a printer that knows the URL's password to scrub; or the exit code of a
/// configuration error, already reported.
/// Writes generated text to stdout; a reader that stopped early (`| head`) is no error.
/// `haste man`: the page on stdout, or (`--dir`) every command's page in a folder; the help
/// subcommand is left out, as it has nothing to document and no page.
fn manual(dir: Option<&std::path::Path>) -> u8 {
    let command = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    let printer = Printer::new(Format::Text, None);
    let Some(dir) = dir else {
        let mut text = Vec::new();
        return match clap_mangen::Man::new(command).render(&mut text) {
            Ok(()) => print_bytes(&text),
            Err(error) => printer.fail("INTERNAL", exit::INTERNAL, &error.to_string()),
        };
    };
    // One page per command, as clap_mangen writes them.
    fn pages(command: &clap::Command) -> usize {
        1 + command.get_subcommands().filter(|sub| !sub.is_hide_set()).map(pages).sum::<usize>()
    }
    let count = pages(&command);
    let written = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
    match written.map(|()| count) {
        Ok(count) => {
            printer.emit(&format!("Wrote {count} manual pages to {}", dir.display()), true);
            exit::OK
        }
        Err(error) => {
            printer.usage_error(&format!("cannot write the manual pages to {}: {error}", dir.display()))
        }
    }
}

fn print_bytes(text: &[u8]) -> u8 {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Ok(()) => exit::OK,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(error) => Printer::new(Format::Text, None).fail("INTERNAL", exit::INTERNAL, &error.to_string()),
    }
}

/// A backup file name from haste.toml with `{timestamp}` replaced by the time now (UTC), so
/// each deploy keeps its own.
fn timestamped(template: &std::path::Path) -> std::path::PathBuf {
    let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let path = std::path::PathBuf::from(template.to_string_lossy().replace("{timestamp}", &now));
    // The folder of a configured backup is made on first use; a failure shows at the backup.
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    path
}

/// The promotion rule of the environment: what its source environment has applied, read from
/// that environment's own history (the same folder, so `applied` means the same file); on
/// failure, the exit code after the error is printed.
fn promotion(
    dir: &MigrationsDir,
    rule: Option<&config::SourceEnvironment>,
    override_reason: Option<String>,
    printer: &Printer,
) -> Result<Option<haste_runner::Promotion>, u8> {
    let Some(source) = rule else {
        return match override_reason {
            Some(_) => Err(printer.usage_error("--promotion-override: this environment has no promote_from")),
            None => Ok(None),
        };
    };
    let settings = config::settings_for(&source.url, source.history_schema.clone());
    let mut connection =
        connect(&source.url, &format!("haste/{}", settings.run_id), &settings, Missing::Refuse)
            .map_err(|error| printer.connect_error(&error))?;
    haste_runner::Promotion::read(connection.as_mut(), dir, &settings, source.name.clone(), override_reason)
        .map(Some)
        .map_err(|error| printer.runner_error(&error))
}

fn resolve(common: &args::Common, run: Option<&args::RunOptions>) -> Result<(config::Resolved, Printer), u8> {
    resolve_with_schema(common, run, None)
}

/// [`resolve`], with the Prisma schema `--schema` names (its datasource gives the URLs flags and
/// haste.toml leave unset).
fn resolve_with_schema(
    common: &args::Common,
    run: Option<&args::RunOptions>,
    schema: Option<&std::path::Path>,
) -> Result<(config::Resolved, Printer), u8> {
    match config::resolve(common, run, schema) {
        Ok(resolved) => {
            let printer = Printer::new(common.format, Some(resolved.url.clone()));
            Ok((resolved, printer))
        }
        Err(error) => Err(Printer::new(common.format, None).usage_error(&error.0)),
    }
}

/// A connection to `url`. `missing` says what a SQLite file that does not exist means: a
/// command that applies migrations creates it, one that only reads refuses it.
fn connect(
    url: &DatabaseUrl,
    application_name: &str,
    settings: &haste_runner::Settings,
    missing: Missing,
) -> Result<Box<dyn Connection>, ConnectError> {
    Ok(match url.scheme() {
        Scheme::Postgres => {
            let scope = settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
            Box::new(haste_postgres::PgConnection::connect_for_migrations(
                url,
                application_name,
                &scope,
                settings.limits,
            )?)
        }
        Scheme::Sqlite => Box::new(haste_sqlite::SqliteConnection::open(url, application_name, missing)?),
    })
}

/// A connection to one target of a fleet a deploy applies migrations to, named with its run.
fn connect_target(
    target: &haste_runner::Target,
) -> Result<Box<dyn haste_driver::Connection>, haste_driver::ConnectError> {
    crate::connect(
        &target.url,
        &format!("haste/{}", target.settings.run_id),
        &target.settings,
        Missing::Create,
    )
}

/// A connection to one target of a fleet whose status is read.
fn read_target(
    target: &haste_runner::Target,
) -> Result<Box<dyn haste_driver::Connection>, haste_driver::ConnectError> {
    crate::connect(
        &target.url,
        &format!("haste/{}", target.settings.run_id),
        &target.settings,
        Missing::Refuse,
    )
}
