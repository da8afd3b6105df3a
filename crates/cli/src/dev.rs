//! `migrate dev`, `status --drift` and `schema` commands: the PostgreSQL schema engine's
//! commands, on top of haste-dev.

use std::path::{Path, PathBuf};

use haste_dev::{
    Change, ChangeKind, Desired, Drift, Error as DevError, Generated, Outcome, PrismaDiff, PrismaOrSchema,
    Rename, ShadowServer, Side, Unmigrated, is_prisma,
};
use haste_driver::{DatabaseUrl, Scheme};
use haste_runner::SchemaSource;
use serde_json::json;

use crate::args::{self, Common, Format, RunOptions};
use crate::config::{self, Resolved};
use crate::exit;
use crate::lint;
use crate::render::Printer;

/// What `migrate dev` was asked.
pub struct DevArgs<'a> {
    pub common: &'a Common,
    pub run: &'a RunOptions,
    pub name: &'a str,
    pub schema: Option<&'a Path>,
    pub exact_prisma: bool,
    pub shadow_url: Option<&'a str>,
    pub renames: &'a [String],
    pub expand_contract: bool,
    pub create_only: bool,
    pub accept_data_loss: bool,
    pub force: bool,
}

/// Configuration for a command on a PostgreSQL database, and the server for shadow databases.
fn postgres(
    common: &Common,
    run: Option<&RunOptions>,
    shadow_url: Option<&str>,
) -> Result<(Resolved, DatabaseUrl, Printer), u8> {
    postgres_with_schema(common, run, shadow_url, None)
}

/// [`postgres`], the Prisma schema's datasource read from `schema` (`--schema`) when it is one.
fn postgres_with_schema(
    common: &Common,
    run: Option<&RunOptions>,
    shadow_url: Option<&str>,
    schema: Option<&Path>,
) -> Result<(Resolved, DatabaseUrl, Printer), u8> {
    let (resolved, printer) = crate::resolve_with_schema(common, run, schema)?;
    if resolved.url.scheme() != Scheme::Postgres {
        return Err(printer.usage_error("the schema engine reads PostgreSQL databases; this URL is SQLite"));
    }
    let server = match shadow_url.map(str::to_owned).or_else(|| resolved.shadow_url.clone()) {
        Some(url) => DatabaseUrl::parse(&url).map_err(|error| printer.usage_error(&error.to_string()))?,
        None => resolved.url.clone(),
    };
    Ok((resolved, server, printer))
}

fn parse_renames(hints: &[String], printer: &Printer) -> Result<Vec<Rename>, u8> {
    hints
        .iter()
        .map(|hint| Rename::parse(hint).map_err(|error| printer.usage_error(&error.to_string())))
        .collect()
}

/// The desired schema: the flag, then haste.toml, then the usual places.
fn desired_schema(flag: Option<&Path>, resolved: &Resolved) -> Option<PathBuf> {
    flag.map(Path::to_owned).or_else(|| resolved.schema.clone()).or_else(|| {
        ["schema.sql", "schema", "prisma/schema.prisma", "schema.prisma"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
    })
}

pub fn migrate_dev(args: &DevArgs<'_>) -> u8 {
    let (resolved, server, printer) =
        match postgres_with_schema(args.common, Some(args.run), args.shadow_url, args.schema) {
            Ok(context) => context,
            Err(code) => return code,
        };
    if let Err(error) = haste_runner::check_dev_allowed(&resolved.environment, args.force) {
        return printer.runner_error(&error);
    }
    let renames = match parse_renames(args.renames, &printer) {
        Ok(renames) => renames,
        Err(code) => return code,
    };
    let Some(schema) = desired_schema(args.schema, &resolved) else {
        return printer.usage_error("no desired schema: pass --schema <file.sql|folder>, set `schema` in haste.toml, or create ./schema.sql");
    };
    if !schema.exists() {
        return printer.usage_error(&format!("the desired schema {} does not exist", schema.display()));
    }
    // A project's first `migrate dev` makes its default folder; a folder someone named must
    // exist, so a typo in --dir does not start a second history.
    if !resolved.dir.named
        && !resolved.dir.path.exists()
        && let Err(error) = std::fs::create_dir_all(&resolved.dir.path)
    {
        return printer.usage_error(&format!("cannot create {}: {error}", resolved.dir.path.display()));
    }
    let desired = Desired::from_path(schema, !(args.exact_prisma || resolved.exact_prisma));
    let request = haste_dev::Request {
        dir: &resolved.dir.path,
        name: args.name,
        desired: &desired,
        url: &resolved.url,
        shadow_server: &server,
        renames: &renames,
        expand_contract: args.expand_contract,
        settings: &resolved.settings,
        now: time::OffsetDateTime::now_utc(),
        data_loss: match (args.accept_data_loss, args.create_only) {
            (true, _) => haste_dev::DataLoss::Accepted,
            (false, true) => haste_dev::DataLoss::Review,
            (false, false) => haste_dev::DataLoss::Refuse,
        },
    };
    match haste_dev::prepare(&request) {
        Ok(true) if printer.format() == Format::Text => printer.line("Created the development database."),
        Ok(_) => {}
        Err(error) => return dev_error(&printer, &error),
    }
    match haste_dev::dev(&request) {
        Ok(Outcome::InSync) => match printer.format() {
            Format::Text => {
                printer.line("The migrations already give the desired schema: no migration generated.")
            }
            Format::Json => printer.json(json!({ "ok": true, "generated": false })),
        },
        Ok(Outcome::Generated(generated)) => {
            report_generated(&printer, &resolved, &generated, args.create_only)
        }
        Err(error) => return dev_error(&printer, &error),
    }
    if args.create_only {
        return exit::OK;
    }
    let mut observer = printer.observer(&resolved.settings.run_id);
    let applied = haste_dev::apply(&request, &mut observer);
    drop(observer);
    match applied {
        Ok(report) => printer.deploy_result(&resolved.settings.run_id, &Ok(report)),
        Err(DevError::Runner(error)) => printer.deploy_result(&resolved.settings.run_id, &Err(error)),
        Err(error) => dev_error(&printer, &error),
    }
}

pub fn change_line(change: &Change) -> String {
    let sign = match change.kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    };
    format!("  {sign} {} {}", change.object, change.name)
}

/// The summary of a generated migration, its warnings, and its lint findings.
fn report_generated(printer: &Printer, resolved: &Resolved, generated: &Generated, create_only: bool) {
    let files: Vec<String> =
        generated.folders.iter().map(|f| f.join("migration.sql").display().to_string()).collect();
    let warnings: Vec<String> = generated
        .warned_steps()
        .map(|step| {
            let hazards: Vec<&str> = step.hazards.iter().map(|h| h.describe()).collect();
            format!(
                "{} ({}; lock: {})",
                step.sql.lines().next().unwrap_or_default(),
                hazards.join(", "),
                step.lock.describe()
            )
        })
        .collect();
    let (findings, inputs) = lint_generated(resolved, generated);
    match printer.format() {
        Format::Text => {
            printer.line(&format!("Generated {}", files.join(" and ")));
            for change in &generated.changes {
                printer.line(&change_line(change));
            }
            for warning in &warnings {
                printer.line(&format!("warning: {warning}"));
            }
            for warning in &generated.warnings {
                printer.line(&format!("warning: {warning}"));
            }
            for note in &generated.irreversible {
                printer.line(&format!("note: {note}"));
            }
            for kept in &generated.kept {
                printer.line(&format!("kept: {kept}"));
            }
            for suggestion in &generated.plan.suggestions {
                printer.line(&format!("hint: {suggestion}"));
            }
            if !findings.is_empty() {
                lint::render(&findings, &inputs, args::LintFormat::Text, printer);
            }
            if create_only {
                printer.line("Not applied (--create-only): review and edit it, then run `haste migrate dev` again to apply it.");
            }
        }
        Format::Json => printer.json(json!({
            "ok": true, "generated": true, "files": files, "changes": generated.changes,
            "steps": generated.plan.steps, "irreversible": generated.irreversible, "warnings": generated.warnings,
            "suggestions": generated.plan.suggestions, "applied": !create_only, "lint": findings,
            "kept": generated.kept,
        })),
    }
}

/// The lint findings of the new migrations, checked against the ones before them (they never
/// stop `migrate dev`: the file is there to be reviewed), and the files they point into.
fn lint_generated(
    resolved: &Resolved,
    generated: &Generated,
) -> (Vec<haste_lint::Finding>, Vec<haste_lint::SourceFile>) {
    let Ok(dir) = haste_migrations::MigrationsDir::load(&resolved.dir.path) else {
        return (Vec::new(), Vec::new());
    };
    let new: Vec<String> = generated
        .folders
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let earlier = dir.migrations.iter().filter(|m| !new.contains(&m.name)).map(|m| m.name.clone()).collect();
    // The down.sql files too: every file `migrate dev` writes must pass.
    let Ok(inputs) = lint::sources(&dir, |m, _| new.contains(&m.name), Some(&earlier), true) else {
        return (Vec::new(), Vec::new());
    };
    let Ok(settings) = config::lint_settings(Some(&resolved.dir.path), None, &[]) else {
        return (Vec::new(), inputs);
    };
    (haste_lint::lint(&inputs, &settings.config), inputs)
}

fn drift_text(drift: &Drift) -> String {
    let mut text = String::from("the development database has drifted from the migration history:\n");
    text.push_str(&drift_lines(drift));
    text.push_str("Nothing was generated. Put the change in the desired schema and run `haste migrate reset` (this drops the development data), or undo it by hand.");
    text
}

/// One line per difference between a database and its migration history.
fn drift_lines(drift: &Drift) -> String {
    let mut text = String::new();
    for migration in &drift.migrations {
        let what = match migration.state {
            haste_runner::State::Missing => "was applied, but its folder is gone",
            _ => "was edited after it was applied",
        };
        text.push_str(&format!("  migration {} {what}\n", migration.name));
    }
    for change in &drift.changes {
        let side = match change.kind {
            ChangeKind::Added => "exists in the database but not in the migrations",
            ChangeKind::Removed => "is in the migrations but not in the database",
            ChangeKind::Changed => "differs between the database and the migrations",
        };
        text.push_str(&format!("  {} {} {side}\n", change.object, change.name));
    }
    text
}

/// `deploy --verify`: the database after the deploy against the schema its migration history
/// gives on a shadow database (the guide's "verify").
pub fn verify(common: &Common) -> u8 {
    let (resolved, server, printer) = match postgres(common, None, None) {
        Ok(context) => context,
        Err(code) => return code,
    };
    let dir = match haste_migrations::MigrationsDir::load(&resolved.dir.path) {
        Ok(dir) => dir,
        Err(error) => return printer.runner_error(&haste_runner::Error::Folder(error)),
    };
    match haste_dev::drift(&resolved.url, &dir, &server, &resolved.settings) {
        Ok(drift) if drift.is_empty() => {
            match printer.format() {
                Format::Text => printer.line("Verified: the database is the schema its migrations give."),
                Format::Json => printer.json(json!({ "event": "verified", "drift": { "migrations": [], "changes": [] } })),
            }
            exit::OK
        }
        Ok(drift) => match printer.format() {
            Format::Text => printer.fail(
                "VERIFY_FAILED",
                exit::VERIFY_FAILED,
                &format!(
                    "verify: the database differs from the schema its migrations give:\n{}The migrations were applied; find who changed the database by hand.",
                    drift_lines(&drift)
                ),
            ),
            Format::Json => {
                printer.json(json!({ "ok": false, "error": { "code": "VERIFY_FAILED", "exit_code": exit::VERIFY_FAILED, "message": "the database differs from the schema its migrations give", "drift": drift } }));
                exit::VERIFY_FAILED
            }
        },
        Err(error) => dev_error(&printer, &error),
    }
}

fn dev_error(printer: &Printer, error: &DevError) -> u8 {
    match error {
        DevError::Runner(error) => printer.runner_error(error),
        DevError::Connect(error) => printer.connect_error(error),
        DevError::Drift(drift) => match printer.format() {
            Format::Text => printer.fail("DRIFT", exit::DRIFT, &drift_text(drift)),
            Format::Json => {
                printer.json(json!({ "ok": false, "error": { "code": "DRIFT", "exit_code": exit::DRIFT, "message": error.to_string(), "drift": drift } }));
                exit::DRIFT
            }
        },
        DevError::RequiredColumns { statements, suggestions } => {
            let hints: String = suggestions.iter().map(|s| format!("\nhint: {s}")).collect();
            printer.fail(
                "UNSAFE_CHANGE",
                exit::UNSAFE_CHANGE,
                &format!(
                    "{error}; it fails on any row:\n  {}\nAdd the column without NOT NULL (or with a DEFAULT), fill it, and make it NOT NULL in a later migration. Nothing was written.{hints}",
                    statements.join(";\n  ")
                ),
            )
        }
        DevError::NullsInRequired { columns } => {
            let lines: Vec<String> = columns
                .iter()
                .map(|c| match c.rows {
                    1 => format!("{}: 1 row holds NULL", c.column),
                    rows => format!("{}: {rows} rows hold NULL", c.column),
                })
                .collect();
            printer.fail(
                "UNSAFE_CHANGE",
                exit::UNSAFE_CHANGE,
                &format!(
                    "{error}; making them NOT NULL fails on those rows and would leave the migration failed there:\n  {}\nGive each a DEFAULT (haste then fills those rows with it in batches before the NOT NULL; not with --exact-prisma), or fill them in a migration of your own first (haste migrate new). Nothing was written.",
                    lines.join("\n  ")
                ),
            )
        }
        DevError::DataLoss { statements } => printer.fail(
            "DATA_LOSS",
            exit::UNSAFE_CHANGE,
            &format!(
                "{error}:\n  {}\nPass --accept-data-loss to write and apply it (the file records that you did), or --create-only to write it for review. Nothing was written.",
                statements.join(";\n  ")
            ),
        ),
        DevError::Rename(_)
        | DevError::NothingToExpand
        | DevError::ExpandNeedsSql
        | DevError::RenameAndRetype { .. }
        | DevError::LinkedRetypes { .. }
        | DevError::Inheritance { .. }
        | DevError::DropRefused { .. }
        | DevError::NotModelled { .. }
        | DevError::Partitioning(_) => {
            printer.usage_error(&error.to_string())
        }
        DevError::Prisma(rendered) => printer.fail("SCHEMA_INVALID", exit::USAGE, config::without_level(rendered)),
        DevError::Read { .. } => printer.usage_error(&error.to_string()),
        DevError::GeneratedFailed(failure) => printer.generated_failure(failure),
        DevError::PlanInvalid { left, .. } => {
            let lines: Vec<String> = left.iter().map(change_line).collect();
            printer.fail(
                "PLAN_INVALID",
                exit::INTERNAL,
                &format!("{error} (a bug in haste; please report it):\n{}", lines.join("\n")),
            )
        }
        _ => printer.fail("INTERNAL", exit::INTERNAL, &error.to_string()),
    }
}

/// `status --drift`: the status (already printed, or in JSON the `status` document this one
/// extends), then the drift check.
pub fn status_drift(
    common: &Common,
    shadow_url: Option<&str>,
    schema: Option<&Path>,
    status_code: u8,
    status: Option<serde_json::Value>,
) -> u8 {
    let (resolved, server, printer) = match postgres_with_schema(common, None, shadow_url, schema) {
        Ok(context) => context,
        Err(code) => return code,
    };
    if let Some(status) = status {
        printer.extend_next(status);
    }
    let dir = match haste_migrations::MigrationsDir::load(&resolved.dir.path) {
        Ok(dir) => dir,
        Err(error) => return printer.runner_error(&haste_runner::Error::Folder(error)),
    };
    let no_drift = json!({ "migrations": [], "changes": [] });
    match haste_dev::drift(&resolved.url, &dir, &server, &resolved.settings) {
        Ok(drift) if drift.is_empty() => {
            if printer.format() == Format::Text {
                printer.line("No drift: the database matches its applied migrations.");
            }
        }
        Ok(drift) => return dev_error(&printer, &DevError::Drift(drift)),
        Err(error) => return dev_error(&printer, &error),
    }
    let Some(schema) = schema else {
        if printer.format() == Format::Json {
            printer.json(json!({ "drift": no_drift }));
        }
        return status_code;
    };
    match haste_dev::unmigrated(&resolved.url, schema, &server, &resolved.settings) {
        Ok(pending) if pending.is_empty() => {
            match printer.format() {
                Format::Text => {
                    printer.line(&format!("{} matches the database: nothing to generate.", schema.display()))
                }
                Format::Json => printer.json(json!({ "drift": no_drift, "unmigrated": [] })),
            }
            status_code
        }
        Ok(pending) => printer.fail(
            "DRIFT",
            exit::DRIFT,
            &format!(
                "{} has changes no migration holds yet (run `haste migrate dev`):\n{}",
                schema.display(),
                unmigrated_lines(&pending).join("\n")
            ),
        ),
        Err(error) => dev_error(&printer, &error),
    }
}

/// One line per statement or object a desired schema holds and no migration does.
fn unmigrated_lines(pending: &Unmigrated) -> Vec<String> {
    match pending {
        Unmigrated::Statements(statements) => statements.iter().map(|sql| format!("  {sql};")).collect(),
        Unmigrated::Changes(changes) => changes.iter().map(change_line).collect(),
    }
}

/// A schema source resolved: what to read, the server for its shadow database, the settings,
/// and the printer for its errors.
struct SourceContext {
    source: SchemaSource,
    server: DatabaseUrl,
    resolved: Resolved,
    printer: Printer,
}

impl SourceContext {
    fn side(&self) -> Side<'_> {
        Side { source: &self.source, server: &self.server, settings: &self.resolved.settings }
    }
}

/// Resolves `source` (a database URL, or files applied to a shadow database on the
/// `shadow_url` or `--url` server; none is the `--url` database), or the exit code of what went
/// wrong, already reported.
fn source_context(
    common: &Common,
    source: Option<&str>,
    shadow_url: Option<&str>,
) -> Result<SourceContext, u8> {
    let source = source.map(SchemaSource::parse);
    let server = match &source {
        Some(SchemaSource::Database(url)) if shadow_url.is_none() => Some(url.clone()),
        _ => common.url.clone(),
    };
    let common = Common { url: server, ..common.clone() };
    let (resolved, server, printer) = postgres(&common, None, shadow_url)?;
    let source = source.unwrap_or_else(|| SchemaSource::Database(resolved.url.expose().to_owned()));
    Ok(SourceContext { source, server, resolved, printer })
}

/// The schema of `source` (see [`source_context`]), or the exit code of what went wrong,
/// already reported.
pub fn load_schema(
    common: &Common,
    source: Option<&str>,
    shadow_url: Option<&str>,
) -> Result<haste_dev::Loaded, u8> {
    let context = source_context(common, source, shadow_url)?;
    let loaded = haste_dev::load(&context.source, &context.server, &context.resolved.settings)
        .map_err(|error| dev_error(&context.printer, &error))?;
    warn_if_unconfined(&context.printer, &loaded);
    Ok(loaded)
}

/// Says so when a shadow database ran its sources without a role of its own: then only
/// haste's static checks kept their SQL inside the shadow (`haste doctor` tells more).
fn warn_if_unconfined(printer: &Printer, loaded: &haste_dev::Loaded) {
    if let Some(haste_dev::Sandbox::Unconfined { reason }) = loaded.sandbox() {
        printer.emit(
            &format!(
                "warning: the shadow database ran its SQL as the connecting role ({reason}); only haste's static checks kept it inside the shadow"
            ),
            true,
        );
    }
}

/// The schema of `source` as [`load_schema`] reads it, or of a Prisma schema (applied to a
/// shadow database, kept to what Prisma models), or the exit code of what went wrong.
pub fn load_any_schema(
    common: &Common,
    source: Option<&str>,
    shadow_url: Option<&str>,
) -> Result<haste_dev::Schema, u8> {
    match source.filter(|source| is_prisma(source)) {
        Some(path) => {
            let (resolved, server, printer) = postgres(common, None, shadow_url)?;
            haste_dev::PrismaSchema::load(Path::new(path), &[], &server, &resolved.settings)
                .map(|prisma| prisma.projected)
                .map_err(|error| dev_error(&printer, &error))
        }
        None => load_schema(common, source, shadow_url).map(|loaded| loaded.schema),
    }
}

/// `schema diff`.
pub fn schema_diff(
    common: &Common,
    from: &str,
    to: &str,
    shadow_url: Option<&str>,
    online: bool,
    renames: &[String],
) -> u8 {
    if is_prisma(from) || is_prisma(to) {
        return match online {
            true => prisma_online_diff(common, from, to, shadow_url),
            false => prisma_schema_diff(common, from, to, shadow_url),
        };
    }
    let printer = Printer::new(common.format, None);
    let renames = match parse_renames(renames, &printer) {
        Ok(renames) => renames,
        Err(code) => return code,
    };
    let contexts = source_context(common, Some(from), shadow_url)
        .and_then(|from| Ok((from, source_context(common, Some(to), shadow_url)?)));
    let (from, to) = match contexts {
        Ok(contexts) => contexts,
        Err(code) => return code,
    };
    // Both sides load at once; only the first failure is reported, so that JSON output stays
    // one document.
    let (loaded_from, loaded_to) = haste_dev::load_pair(from.side(), to.side());
    let (loaded_from, loaded_to) = match (loaded_from, loaded_to) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) => return dev_error(&from.printer, &error),
        (_, Err(error)) => return dev_error(&to.printer, &error),
    };
    warn_if_unconfined(&printer, &loaded_from);
    warn_if_unconfined(&printer, &loaded_to);
    // Renames run on a shadow database on the `--url` server (or `--shadow-url`).
    let renames_on = match renames.is_empty() {
        true => from,
        false => match source_context(common, None, shadow_url) {
            Ok(context) => context,
            Err(code) => return code,
        },
    };
    let shadow = ShadowServer { server: &renames_on.server, settings: &renames_on.resolved.settings };
    match haste_dev::plan_between(loaded_from, &loaded_to.schema, &renames, online, shadow) {
        Ok(plan) => printer.schema_plan(&plan),
        Err(error) => dev_error(&printer, &error),
    }
}

/// `schema diff --online` where a side is a Prisma schema: haste's online plan, as `migrate dev`
/// writes it for tables that exist, instead of Prisma's own statements. Each Prisma schema is
/// normalized on a shadow database.
fn prisma_online_diff(common: &Common, from: &str, to: &str, shadow_url: Option<&str>) -> u8 {
    let printer = Printer::new(common.format, None);
    let (resolved, server, _) = match postgres(common, None, shadow_url) {
        Ok(context) => context,
        Err(code) => return code,
    };
    let read = |source: &str| match is_prisma(source) {
        true => Ok(None),
        false => load_schema(common, Some(source), shadow_url).map(|loaded| Some(loaded.schema)),
    };
    let (from_schema, to_schema) = match (read(from), read(to)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    fn side<'a>(source: &'a str, schema: &'a Option<haste_dev::Schema>) -> PrismaOrSchema<'a> {
        match schema {
            Some(schema) => PrismaOrSchema::Schema(schema),
            None => PrismaOrSchema::Prisma(Path::new(source)),
        }
    }
    let shadow = ShadowServer { server: &server, settings: &resolved.settings };
    match haste_dev::prisma_plan(side(from, &from_schema), side(to, &to_schema), true, shadow) {
        Ok(plan) => printer.schema_plan(&plan),
        Err(error) => dev_error(&printer, &error),
    }
}

/// `schema diff` where a side is a Prisma schema: the migration as Prisma Migrate writes it.
/// Two Prisma schemas need no database; otherwise the Prisma side is normalized on a shadow
/// database and the other side read in Prisma's terms.
fn prisma_schema_diff(common: &Common, from: &str, to: &str, shadow_url: Option<&str>) -> u8 {
    let printer = Printer::new(common.format, None);
    let migration = if is_prisma(from) && is_prisma(to) {
        haste_dev::prisma_diff(PrismaDiff::Schemas { from: Path::new(from), to: Path::new(to) })
    } else {
        let (resolved, server, _) = match postgres(common, None, shadow_url) {
            Ok(context) => context,
            Err(code) => return code,
        };
        let database = match load_schema(common, Some(if is_prisma(to) { from } else { to }), shadow_url) {
            Ok(loaded) => loaded.schema,
            Err(code) => return code,
        };
        let shadow = ShadowServer { server: &server, settings: &resolved.settings };
        haste_dev::prisma_diff(match is_prisma(to) {
            true => PrismaDiff::ToPrisma { from: &database, to: Path::new(to), shadow },
            false => PrismaDiff::FromPrisma { from: Path::new(from), to: &database, shadow },
        })
    };
    match migration {
        Ok(migration) if migration.is_empty() => {
            match printer.format() {
                Format::Text => printer.emit(
                    format!("-- The schemas are equal.\n{}", migration.kept_comments()).trim_end(),
                    true,
                ),
                Format::Json => printer.json(json!({ "ok": true, "equal": true, "kept": migration.kept })),
            }
            exit::OK
        }
        Ok(migration) => {
            match printer.format() {
                // As `prisma migrate diff --script`: the statements on stdout, the warnings apart.
                Format::Text => {
                    for warning in &migration.warnings {
                        printer.emit(&format!("warning: {warning}"), true);
                    }
                    printer.emit(
                        format!("{}{}", migration.script(), migration.kept_comments()).trim_end(),
                        false,
                    )
                }
                Format::Json => printer.json(json!({
                    "ok": true, "equal": false, "sql": migration.script(), "warnings": migration.warnings,
                    "kept": migration.kept,
                })),
            }
            exit::SCHEMAS_DIFFER
        }
        Err(error) => dev_error(&printer, &error),
    }
}
