//! The guards of the environment a fleet deploys in, with the meaning they have for one
//! database: the lint and the promotion rule are judged once for the fleet before any target
//! runs (on what any target lacks), the backup and the verify run per target around its deploy.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use haste_driver::{Connection, DbError};
use haste_migrations::MigrationsDir;
use haste_runner::{DeployReport, State, Target, TargetGuards};
use serde_json::{Value, json};

use crate::exit;
use crate::render::Printer;

/// Why a guard failed one target.
#[derive(Debug)]
pub enum GuardFailure {
    /// The backup could not be made (or its file exists): nothing was applied.
    Backup { path: PathBuf, error: DbError },
    /// The target lacks migrations the fleet's lint did not see (it could not be read when the
    /// fleet was linted): nothing was applied.
    NotLinted { names: Vec<String> },
    /// The target differs from the schema its migrations give; they were applied.
    Verify(haste_dev::Drift),
    /// The verify could not run; the migrations were applied.
    VerifyError(haste_dev::Error),
}

impl GuardFailure {
    /// The guard's name, as `--format json` and the table show it.
    fn guard(&self) -> &'static str {
        match self {
            GuardFailure::Backup { .. } => "backup",
            GuardFailure::NotLinted { .. } => "lint",
            GuardFailure::Verify(_) | GuardFailure::VerifyError(_) => "verify",
        }
    }

    /// What went wrong, for a line of text (the guard's name first).
    pub fn text(&self) -> String {
        let what = match self {
            GuardFailure::Backup { path, error } => {
                format!("backup to {} failed, nothing was applied: {}", path.display(), error.message)
            }
            GuardFailure::NotLinted { names } => format!(
                "{} not linted with the fleet (the target could not be read then), nothing was applied; run again",
                names.join(", ")
            ),
            GuardFailure::Verify(drift) => format!(
                "the database differs from the schema its migrations give ({} difference{}); the migrations were applied",
                drift.changes.len() + drift.migrations.len(),
                if drift.changes.len() + drift.migrations.len() == 1 { "" } else { "s" }
            ),
            GuardFailure::VerifyError(error) => {
                format!("could not verify, the migrations were applied: {error}")
            }
        };
        format!("{}: {what}", self.guard())
    }

    /// The error document of `--format json`: the guard, a stable code, its exit code for one
    /// database, the message, and a verify's differences.
    pub fn json(&self) -> Value {
        let (code, exit_code) = match self {
            GuardFailure::Backup { .. } => ("BACKUP_FAILED", exit::BACKUP_FAILED),
            GuardFailure::NotLinted { .. } => ("LINT_FAILED", exit::LINT_FAILED),
            GuardFailure::Verify(_) => ("VERIFY_FAILED", exit::VERIFY_FAILED),
            GuardFailure::VerifyError(haste_dev::Error::Runner(error)) => {
                let (exit_code, code) = exit::classify(error);
                (code, exit_code)
            }
            GuardFailure::VerifyError(haste_dev::Error::Connect(_)) => ("CONNECT", exit::CONNECT),
            GuardFailure::VerifyError(_) => ("INTERNAL", exit::INTERNAL),
        };
        let mut error =
            json!({ "guard": self.guard(), "code": code, "exit_code": exit_code, "message": self.text() });
        if let GuardFailure::Verify(drift) = self {
            error["drift"] = json!(drift);
        }
        error
    }
}

/// The fleet's per-target guards: a backup before each deploy, a check that the fleet's lint
/// saw what the target lacks, and a verify after.
pub struct PerTarget<'a> {
    pub targets: &'a [Target],
    pub dir: &'a MigrationsDir,
    /// The backup file asked for, made into one file per target.
    pub backup: Option<PathBuf>,
    /// What the fleet's lint checked, when it linted.
    pub linted: Option<HashSet<String>>,
    /// Every target's replays, shared, when the fleet verifies.
    pub verify: Option<haste_dev::SharedHistories<'a>>,
}

impl TargetGuards for PerTarget<'_> {
    type Failure = GuardFailure;

    fn before(&self, target: usize, connection: &mut dyn Connection) -> Result<(), GuardFailure> {
        let settings = &self.targets[target].settings;
        if let Some(linted) = &self.linted
            // Unreadable here, the deploy that follows reports why.
            && let Ok(report) = haste_runner::status(connection, self.dir, settings)
        {
            let names: Vec<String> = report
                .migrations
                .into_iter()
                .filter(|m| m.state == State::Pending && !linted.contains(&m.name))
                .map(|m| m.name)
                .collect();
            if !names.is_empty() {
                return Err(GuardFailure::NotLinted { names });
            }
        }
        if let Some(template) = &self.backup {
            let path = backup_path(template, target, &self.targets[target]);
            new_private_file(&path)
                .and_then(|()| {
                    // The file is this target's own (made just now): a failed backup leaves
                    // none behind, so nobody restores from half of one.
                    connection.backup(&path).inspect_err(|_| {
                        let _ = std::fs::remove_file(&path);
                    })
                })
                .map_err(|error| GuardFailure::Backup { path: path.clone(), error })?;
        }
        Ok(())
    }

    fn after(&self, target: usize, _: &DeployReport) -> Result<(), GuardFailure> {
        let Some(histories) = &self.verify else { return Ok(()) };
        let target = &self.targets[target];
        match histories.drift(&target.url, &target.settings) {
            Ok(drift) if drift.is_empty() => Ok(()),
            Ok(drift) => Err(GuardFailure::Verify(drift)),
            Err(error) => Err(GuardFailure::VerifyError(error)),
        }
    }
}

/// Creates the backup file, owner-only, refusing one that exists: a fleet's backups never
/// replace a file, whoever named the path.
fn new_private_file(path: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|error| DbError::message(format!("{}: {error}", path.display())))
}

/// Target `index`'s backup file: `template` (its `{timestamp}` replaced) with the target's
/// place in the fleet and its database (and schema) before the extension, so no two targets of
/// one run share a file: `backups/live-20250101T020000Z.sql` becomes
/// `backups/live-20250101T020000Z-3-crm.sql` for the third target, database `crm`.
pub fn backup_path(template: &Path, index: usize, target: &Target) -> PathBuf {
    let path = crate::timestamped(template);
    let database = match target.url.scheme() {
        haste_driver::Scheme::Postgres => target.url.database(),
        haste_driver::Scheme::Sqlite => {
            Path::new(target.url.expose()).file_stem().map(|stem| stem.to_string_lossy().into_owned())
        }
    };
    let mut label = format!("{}-{}", index + 1, database.unwrap_or_default());
    if let Some(schema) = target.url.param("schema") {
        label = format!("{label}.{schema}");
    }
    // Only what is safe in any file name: a database name may hold `/` or `..`.
    let label: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-{}.{}", label.trim_end_matches('-'), extension.to_string_lossy()),
        None => format!("{stem}-{}", label.trim_end_matches('-')),
    };
    path.with_file_name(name)
}

/// What every readable target lacks, read before any target runs: the union of their pending
/// migrations, the folder's others (applied everywhere), and the lowest server version and the
/// dialect seen, for the lint.
pub struct FleetPending {
    pub pending: HashSet<String>,
    pub released: HashSet<String>,
    pub dialect: haste_sql::Dialect,
    pub server: Option<u32>,
}

/// Reads every target's status (`jobs` at a time) into [`FleetPending`]. A target that cannot
/// be read is left out: it fails at its own deploy, and the guard before it checks again.
pub fn fleet_pending(targets: &[Target], dir: &MigrationsDir, jobs: usize) -> FleetPending {
    let seen: Mutex<Vec<(haste_sql::Dialect, Option<u32>)>> = Mutex::new(Vec::new());
    let connect = |target: &Target| {
        let mut connection = crate::connect_target(target)?;
        let version = connection.server_version().ok().and_then(|v| crate::lint::major_version(&v));
        seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((connection.dialect(), version));
        Ok(connection)
    };
    let reports = haste_runner::status_fleet(targets, dir, jobs, &connect);
    let pending: HashSet<String> = reports
        .iter()
        .flatten()
        .flat_map(|report| report.migrations.iter().filter(|m| m.state == State::Pending))
        .map(|m| m.name.clone())
        .collect();
    let released =
        dir.migrations.iter().map(|m| m.name.clone()).filter(|name| !pending.contains(name)).collect();
    let seen = seen.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    FleetPending {
        pending,
        released,
        dialect: seen.first().map_or(haste_sql::Dialect::Postgres, |(dialect, _)| *dialect),
        server: seen.iter().filter_map(|(_, version)| *version).min(),
    }
}

/// The promotion rule checked once for the fleet: a migration some target lacks that the
/// source environment has not applied refuses the whole fleet (NOT_PROMOTED, exit 12), unless
/// overridden; each target's deploy checks again under its lock and records an override.
pub fn check_promotion(
    promotion: &haste_runner::Promotion,
    fleet: &FleetPending,
    dir: &MigrationsDir,
    printer: &Printer,
) -> Result<(), u8> {
    promotion.check_pending(dir, &fleet.pending).map_err(|error| printer.runner_error(&error))
}
