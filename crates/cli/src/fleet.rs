//! `migrate deploy --targets|--fleet` and `migrate status --targets|--fleet`: resolve the
//! targets, call the runner's fleet functions, render a live view, a summary table or NDJSON.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use haste_driver::DatabaseUrl;
use haste_migrations::MigrationsDir;
use haste_runner::{FleetObserver, FleetOptions, Outcome, RunEvent, SkipReason, State, Target, TargetError};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::args::{Common, FleetTargets, Format, RunOptions};
use crate::config::{self, FleetConfig};
use crate::exit;
use crate::fleet_guards::{self, GuardFailure};
use crate::render::{self, Printer};

/// What `migrate deploy` asks of a fleet beyond its targets.
pub struct DeployArgs<'a> {
    pub common: &'a Common,
    pub run: &'a RunOptions,
    pub fleet: &'a FleetTargets,
    pub fail_fast: bool,
    pub canary: Option<usize>,
    pub outside_window: Option<&'a str>,
    /// `--backup PATH`: every target backs up first, to a file of its own made from PATH.
    pub backup: Option<&'a std::path::Path>,
    /// `--lint`: lint what any target lacks before any target runs.
    pub lint: bool,
    /// `--verify`: verify every target after it deployed.
    pub verify: bool,
    /// `--promotion-override REASON`.
    pub promotion_override: Option<&'a str>,
}

/// `migrate deploy` to every target.
pub fn deploy(args: &DeployArgs<'_>) -> u8 {
    let (config, targets, dir, printer) = match prepare(args.common, Some(args.run), args.fleet) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let guards = &config.guards;
    let outside =
        match haste_runner::check_window(guards.window.as_ref(), jiff::Timestamp::now(), args.outside_window)
        {
            Ok(outside) => outside,
            Err(error) => return printer.runner_error(&error),
        };
    let verifies = args.verify || guards.verify;
    // A verify needs a shadow database, made once for the fleet on the configured server (else
    // the first target's), and compares whole PostgreSQL databases.
    let shadow_server = match verifies.then(|| shadow_server("verify", &config, &targets)).transpose() {
        Ok(server) => server,
        Err(message) => return printer.usage_error(&message),
    };
    let override_reason = args.promotion_override.map(str::to_owned);
    let promotion = match crate::promotion(&dir, guards.promote_from.as_ref(), override_reason, &printer) {
        Ok(promotion) => promotion,
        Err(code) => return code,
    };
    let lints = args.lint || guards.lint;
    let mut linted = None;
    if lints || promotion.is_some() {
        let fleet = fleet_guards::fleet_pending(&targets, &dir, config.jobs);
        if let Some(promotion) = &promotion
            && let Err(code) = fleet_guards::check_promotion(promotion, &fleet, &dir, &printer)
        {
            return code;
        }
        if lints {
            let code = crate::lint_unreleased(
                &dir,
                args.common,
                &fleet.released,
                (fleet.dialect, fleet.server),
                &printer,
            );
            if code != exit::OK {
                return code;
            }
            linted = Some(fleet.pending);
        }
    }
    let targets: Vec<Target> = targets
        .into_iter()
        .map(|target| Target {
            settings: haste_runner::Settings {
                outside_window: outside.clone(),
                promotion: promotion.clone(),
                ..target.settings
            },
            ..target
        })
        .collect();
    let per_target = fleet_guards::PerTarget {
        targets: &targets,
        dir: &dir,
        backup: args.backup.map(std::path::Path::to_owned).or_else(|| guards.backup.clone()),
        linted,
        verify: shadow_server.as_ref().map(|server| haste_dev::SharedHistories::new(&dir, server)),
    };
    let options =
        FleetOptions { jobs: config.jobs, fail_fast: args.fail_fast, canary: args.canary.unwrap_or(0) };
    let view = LiveView::new(&printer, &targets);
    let started = Instant::now();
    let report =
        haste_runner::deploy_fleet(&targets, &dir, &options, &crate::connect_target, &per_target, &view);
    view.summary(&report.outcomes, started.elapsed());
    if report.succeeded() { exit::OK } else { exit::FLEET_FAILED }
}

/// The server a fleet's verify (or drift check, `what`) makes its shadow databases on:
/// `shadow_url`, else the first target's. Every target must be a PostgreSQL database as a whole:
/// a schema of one (`?schema=tenant_42`) shares the database with others the comparison would
/// count.
fn shadow_server(what: &str, config: &FleetConfig, targets: &[Target]) -> Result<DatabaseUrl, String> {
    for (number, target) in targets.iter().enumerate().map(|(index, target)| (index + 1, target)) {
        if target.url.scheme() != haste_driver::Scheme::Postgres {
            return Err(format!("{what} reads PostgreSQL databases; target {number} is SQLite"));
        }
        if target.url.param("schema").is_some_and(|schema| schema != "public") {
            return Err(format!(
                "{what} compares whole databases; target {number} is one schema of a database (?schema=)"
            ));
        }
    }
    match &config.shadow_url {
        Some(url) => DatabaseUrl::parse(url).map_err(|error| format!("shadow_url: {error}")),
        None => Ok(targets[0].url.clone()),
    }
}

/// `migrate status` of every target: a table (or a JSON document per target, then one for the
/// fleet). Exit 0 when every target is up to date, 3 when some only have pending migrations,
/// 19 when one cannot be read or has a migration that needs attention. With `drift`, every
/// target whose history can be compared is compared with the schema its applied migrations give
/// (a shadow per point of the history, shared); a difference needs attention.
pub fn status(common: &Common, fleet: &FleetTargets, drift: bool) -> u8 {
    let (config, targets, dir, printer) = match prepare(common, None, fleet) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let shadow_server = match drift.then(|| shadow_server("--drift", &config, &targets)).transpose() {
        Ok(server) => server,
        Err(message) => return printer.usage_error(&message),
    };
    let reports = haste_runner::status_fleet(&targets, &dir, config.jobs, &crate::read_target);
    let drifts = shadow_server.as_ref().map(|server| drifts(&targets, &dir, &reports, server, config.jobs));
    let mut rows = Vec::with_capacity(targets.len());
    let mut worst = exit::OK;
    for (index, (target, report)) in targets.iter().zip(&reports).enumerate() {
        let drift = drifts.as_ref().and_then(|drifts| drifts[index].as_ref());
        let (code, counts) = match report {
            Ok(report) => {
                let count =
                    |states: &[State]| report.migrations.iter().filter(|m| states.contains(&m.state)).count();
                let counts = StatusCounts {
                    applied: count(&[State::Applied]),
                    pending: count(&[State::Pending]),
                    failed: count(&[State::Failed, State::Interrupted, State::Running]),
                    changed: count(&[State::Modified, State::Missing]),
                };
                let code = match drift {
                    Some(Ok(drift)) if drift.is_empty() => Printer::status_code(report),
                    Some(_) => exit::FLEET_FAILED,
                    None => Printer::status_code(report),
                };
                (code, Some(counts))
            }
            Err(_) => (exit::FLEET_FAILED, None),
        };
        worst = match (worst, code) {
            (exit::OK, code) => code,
            (exit::PENDING, exit::OK | exit::PENDING) => exit::PENDING,
            _ => exit::FLEET_FAILED,
        };
        match printer.format() {
            Format::Json => {
                let mut document =
                    json!({ "event": "target_status", "target": target.name, "ok": code == exit::OK });
                match (report, &counts) {
                    (Ok(report), Some(counts)) => {
                        document["counts"] = json!(counts);
                        document["migrations"] = json!(report.migrations);
                    }
                    (Err(error), _) => document["error"] = target_error_json(error),
                    _ => {}
                }
                match drift {
                    Some(Ok(drift)) => document["drift"] = json!(drift),
                    Some(Err(error)) => document["drift_error"] = json!(error.to_string()),
                    None => {}
                }
                printer.json(document);
            }
            Format::Text => {
                let mut row = vec![
                    target.name.clone(),
                    counts.as_ref().map_or("-".into(), |c| c.applied.to_string()),
                    counts.as_ref().map_or("-".into(), |c| c.pending.to_string()),
                    counts.as_ref().map_or("-".into(), |c| c.failed.to_string()),
                    counts.as_ref().map_or("-".into(), |c| c.changed.to_string()),
                ];
                if drifts.is_some() {
                    row.push(match drift {
                        Some(Ok(drift)) if drift.is_empty() => "none".into(),
                        Some(Ok(drift)) => drift_cell(drift),
                        Some(Err(error)) => format!("not checked: {}", first_line(&error.to_string())),
                        None => "-".into(),
                    });
                }
                row.push(match report {
                    Ok(_) if code == exit::OK => "up to date".into(),
                    Ok(_) if code == exit::PENDING => "behind".into(),
                    Ok(_) => "needs attention".into(),
                    Err(error) => target_error_text(error),
                });
                rows.push(row);
            }
        }
    }
    let drifted = drifts
        .iter()
        .flatten()
        .flatten()
        .filter(|drift| matches!(drift, Ok(drift) if !drift.is_empty()))
        .count();
    let behind = reports.iter().filter(|r| r.as_ref().is_ok_and(|r| r.any(State::Pending))).count();
    let unreadable = reports.iter().filter(|r| r.is_err()).count();
    match printer.format() {
        Format::Json => printer.json(json!({
            "event": "fleet_status", "ok": worst == exit::OK, "exit_code": worst,
            "targets": targets.len(), "behind": behind, "unreadable": unreadable, "drifted": drifted,
        })),
        Format::Text => {
            let headers: &[&str] = if drifts.is_some() {
                &["TARGET", "APPLIED", "PENDING", "FAILED", "CHANGED", "DRIFT", "STATE"]
            } else {
                &["TARGET", "APPLIED", "PENDING", "FAILED", "CHANGED", "STATE"]
            };
            table(&printer, headers, &rows);
            printer.line(&format!(
                "{} targets: {behind} behind, {unreadable} unreadable, {drifted} drifted, {} needing attention.",
                targets.len(),
                rows.iter().filter(|row| row.last().is_some_and(|state| state == "needs attention")).count()
            ));
        }
    }
    worst
}

/// Every target's drift, `jobs` at a time, for those whose status could be read and has no
/// failed migration (a drift check of those would only report the failure again); `None` for
/// the others.
fn drifts(
    targets: &[Target],
    dir: &MigrationsDir,
    reports: &[Result<haste_runner::StatusReport, TargetError<std::convert::Infallible>>],
    server: &DatabaseUrl,
    jobs: usize,
) -> Vec<Option<Result<haste_dev::Drift, haste_dev::Error>>> {
    let histories = haste_dev::SharedHistories::new(dir, server);
    let drifts: Mutex<Vec<Option<Result<haste_dev::Drift, haste_dev::Error>>>> =
        Mutex::new(targets.iter().map(|_| None).collect());
    haste_runner::run_parallel(0..targets.len(), jobs, false, &|index| {
        let comparable = reports[index]
            .as_ref()
            .is_ok_and(|report| matches!(Printer::status_code(report), exit::OK | exit::PENDING));
        if comparable {
            let target = &targets[index];
            let drift = histories.drift(&target.url, &target.settings);
            drifts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[index] = Some(drift);
        }
        false
    });
    drifts.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A drift in a cell: how many objects differ and the first of them.
fn drift_cell(drift: &haste_dev::Drift) -> String {
    let count = drift.changes.len() + drift.migrations.len();
    let first = drift
        .migrations
        .first()
        .map(|m| format!("{} {}", m.name, json!(m.state).as_str().unwrap_or_default()))
        .or_else(|| drift.changes.first().map(|change| crate::dev::change_line(change).trim().to_owned()));
    format!("{count} difference{}: {}", if count == 1 { "" } else { "s" }, first.unwrap_or_default())
}

#[derive(serde::Serialize)]
struct StatusCounts {
    applied: usize,
    pending: usize,
    /// Failed, interrupted or running.
    failed: usize,
    /// Modified since applied, or missing from the folder.
    changed: usize,
}

/// The fleet's configuration, its targets (a query run), the folder, and a printer that scrubs
/// every target's password; or the exit code of an error, already reported.
fn prepare(
    common: &Common,
    run: Option<&RunOptions>,
    fleet: &FleetTargets,
) -> Result<(FleetConfig, Vec<Target>, MigrationsDir, Printer), u8> {
    let config = config::resolve_fleet(common, run, fleet)
        .map_err(|error| Printer::new(common.format, None).usage_error(&error.0))?;
    let targets = match &config.targets {
        config::FleetTargets::Listed(targets) => targets.clone(),
        config::FleetTargets::Query { url, query } => {
            let printer = Printer::new(common.format, Some(url.clone()));
            let settings = config::settings_for(url, None);
            let mut connection = crate::connect(
                url,
                &format!("haste/{}", settings.run_id),
                &settings,
                haste_sqlite::Missing::Refuse,
            )
            .map_err(|error| printer.connect_error(&error))?;
            let rows = read_only_rows(connection.as_mut(), query).map_err(|error| {
                printer.fail(
                    "TARGETS_QUERY",
                    exit::USAGE,
                    &format!("[fleet] targets_query failed: {}", error.message),
                )
            })?;
            // A NULL is empty too: an empty schema name would reach the server as `""`, per
            // target, after others ran.
            let values: Vec<String> = rows
                .into_iter()
                .enumerate()
                .map(|(row, columns)| match columns.into_iter().next().flatten() {
                    Some(value) if !value.trim().is_empty() => Ok(value),
                    _ => {
                        Err(printer.usage_error(&format!("[fleet] targets_query: row {} is empty", row + 1)))
                    }
                })
                .collect::<Result<_, u8>>()?;
            let targets: Vec<Target> = values
                .iter()
                .enumerate()
                .map(|(row, value)| {
                    query_target(&config.template, url, value).map_err(|error| {
                        printer.usage_error(&format!("[fleet] targets_query, row {}: {error}", row + 1))
                    })
                })
                .collect::<Result<_, u8>>()?;
            let places: Vec<String> =
                (1..=targets.len()).map(|row| format!("[fleet] targets_query, row {row}")).collect();
            config::check_distinct(&targets, &places).map_err(|error| printer.usage_error(&error.0))?;
            if targets.is_empty() {
                return Err(printer.usage_error("[fleet] targets_query returned no target"));
            }
            targets
        }
    };
    let urls: Vec<DatabaseUrl> = targets.iter().map(|target| target.url.clone()).collect();
    let printer = Printer::for_fleet(common.format, urls);
    let dir = MigrationsDir::load(&config.dir.path)
        .map_err(|error| printer.runner_error(&haste_runner::Error::Folder(error)))?;
    Ok((config, targets, dir, printer))
}

/// The rows of `targets_query` in a read-only transaction (PostgreSQL) or with `query_only`
/// (SQLite): listing the fleet changes nothing, even when the query by mistake writes.
fn read_only_rows(
    connection: &mut dyn haste_driver::Connection,
    query: &str,
) -> Result<Vec<Vec<Option<String>>>, haste_driver::DbError> {
    let (start, end) = match connection.dialect() {
        haste_sql::Dialect::Postgres => ("BEGIN READ ONLY", "ROLLBACK"),
        haste_sql::Dialect::Sqlite => ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
    };
    connection.query_rows(start)?;
    let rows = connection.query_rows(query);
    connection.query_rows(end)?;
    rows
}

/// A row of `targets_query`: a connection string haste reads is a database; a URL of another
/// kind (`mysql://...`) is refused (its error shows only the scheme); anything else is the name
/// of a schema of the queried database (`?schema=NAME`: history and search path).
fn query_target(
    template: &config::TargetTemplate,
    queried: &DatabaseUrl,
    value: &str,
) -> Result<Target, haste_driver::UrlError> {
    match DatabaseUrl::parse(value) {
        Ok(url) => Ok(template.target(None, url, None)),
        Err(error) if value.contains("://") => Err(error),
        Err(_) => {
            let url = queried.with_params(|key| key != "schema", &[("schema", value)]);
            Ok(template.target(None, url, None))
        }
    }
}

fn target_error_text<G: Guard>(error: &TargetError<G>) -> String {
    match error {
        TargetError::Connect(error) => error.to_string(),
        TargetError::Run(error) => render::error_text(error),
        TargetError::GuardBefore(failure) => failure.text(),
    }
}

fn target_error_json<G: Guard>(error: &TargetError<G>) -> Value {
    match error {
        TargetError::GuardBefore(failure) => failure.json(),
        TargetError::Connect(error) => {
            json!({ "code": "CONNECT", "exit_code": exit::CONNECT, "message": error.to_string() })
        }
        TargetError::Run(error) => {
            let (exit_code, code) = exit::classify(error);
            render::error_json(error, code, exit_code)
        }
    }
}

/// A guard's failure as a target's result shows it (a status read has none).
trait Guard {
    fn text(&self) -> String;
    fn json(&self) -> Value;
}

impl Guard for GuardFailure {
    fn text(&self) -> String {
        GuardFailure::text(self)
    }

    fn json(&self) -> Value {
        GuardFailure::json(self)
    }
}

impl Guard for std::convert::Infallible {
    fn text(&self) -> String {
        match *self {}
    }

    fn json(&self) -> Value {
        match *self {}
    }
}

/// The deploy a target finished (whether or not its guard after it passed).
fn deployed(outcome: &Outcome<GuardFailure>) -> Option<&haste_runner::DeployReport> {
    match outcome {
        Outcome::Deployed(report) | Outcome::GuardAfterFailed(report, _) => Some(report),
        Outcome::Failed(_) | Outcome::Skipped(_) => None,
    }
}

/// Why a target failed, in a line of text.
fn failure_text(outcome: &Outcome<GuardFailure>) -> Option<String> {
    match outcome {
        Outcome::Failed(error) => Some(target_error_text(error)),
        Outcome::GuardAfterFailed(_, failure) => Some(failure.text()),
        Outcome::Deployed(_) | Outcome::Skipped(_) => None,
    }
}

/// Prints `rows` under `headers`, columns padded to their widest cell.
fn table(printer: &Printer, headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        printer.line(padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// What a fleet deploy shows while it runs: on a terminal (text), a line per running target
/// under an overall bar (on stderr, redrawn in place); otherwise a line per finished target;
/// in JSON, every event with its `target`, then a document per target.
struct LiveView<'a> {
    printer: &'a Printer,
    names: Vec<&'a str>,
    run_id: &'a str,
    /// The terminal's bars, when stderr is one and the output is text.
    bars: Option<Bars>,
    state: Mutex<ViewState>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
}

#[derive(Default)]
struct ViewState {
    running: HashMap<usize, (Instant, Option<ProgressBar>)>,
    durations: HashMap<usize, Duration>,
    finished: usize,
}

impl<'a> LiveView<'a> {
    fn new(printer: &'a Printer, targets: &'a [Target]) -> LiveView<'a> {
        let terminal = printer.format() == Format::Text && std::io::stderr().is_terminal();
        let bars = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            let overall = multi.add(ProgressBar::new(targets.len() as u64));
            overall.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} targets  {elapsed_precise}  {msg}")
                    .expect("a valid template"),
            );
            Bars { multi, overall }
        });
        LiveView {
            printer,
            names: targets.iter().map(|target| target.name.as_str()).collect(),
            run_id: targets.first().map_or("", |target| target.settings.run_id.as_str()),
            bars,
            state: Mutex::new(ViewState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ViewState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A line above the bars (or on stdout without them), scrubbed like every other.
    fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) => bars.multi.suspend(|| self.printer.emit(text, true)),
            None => self.printer.line(text),
        }
    }

    /// The table of every target's outcome (text) or a document per target and one for the
    /// fleet (JSON).
    fn summary(&self, outcomes: &[Outcome<GuardFailure>], elapsed: Duration) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
        let state = self.state();
        let count = |keep: fn(&Outcome<GuardFailure>) -> bool| outcomes.iter().filter(|o| keep(o)).count();
        let succeeded = count(Outcome::succeeded);
        let failed = count(|o| failure_text(o).is_some());
        let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
        let applied: usize = outcomes.iter().filter_map(deployed).map(|r| r.applied.len()).sum();
        match self.printer.format() {
            Format::Json => {
                for (index, outcome) in outcomes.iter().enumerate() {
                    if let Outcome::Skipped(reason) = outcome {
                        self.printer.json(json!({
                            "event": "target_finished", "target": self.names[index], "run_id": self.run_id,
                            "ok": false, "skipped": reason,
                        }));
                    }
                }
                self.printer.json(json!({
                    "event": "fleet_finished", "run_id": self.run_id, "ok": failed + skipped == 0,
                    "exit_code": if failed + skipped == 0 { exit::OK } else { exit::FLEET_FAILED },
                    "targets": outcomes.len(), "deployed": succeeded, "failed": failed, "skipped": skipped,
                    "migrations_applied": applied, "duration_ms": elapsed.as_millis(),
                }));
            }
            Format::Text => {
                let rows: Vec<Vec<String>> = outcomes
                    .iter()
                    .enumerate()
                    .map(|(index, outcome)| {
                        let time = state
                            .durations
                            .get(&index)
                            .map_or_else(|| "-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
                        let result = match (outcome, failure_text(outcome)) {
                            (_, Some(failure)) => format!("FAILED: {}", first_line(&failure)),
                            (Outcome::Skipped(reason), None) => skip_text(*reason).to_owned(),
                            _ => "deployed".to_owned(),
                        };
                        let (applied, already) = deployed(outcome)
                            .map_or(("-".into(), "-".into()), |report| {
                                (report.applied.len().to_string(), report.already_applied.to_string())
                            });
                        vec![self.names[index].to_owned(), applied, already, time, result]
                    })
                    .collect();
                table(self.printer, &["TARGET", "APPLIED", "ALREADY", "TIME", "RESULT"], &rows);
                self.printer.line(&format!(
                    "Fleet: {succeeded} of {} targets deployed ({applied} migrations applied), {failed} failed, {skipped} skipped, in {:.1} s.",
                    outcomes.len(),
                    elapsed.as_secs_f64()
                ));
                if failed + skipped > 0 {
                    self.printer.line(
                        "Run the same command again to carry on: each target's history says where it stopped.",
                    );
                }
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn skip_text(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::CanaryFailed => "skipped: a canary failed",
        SkipReason::FailFast => "skipped: --fail-fast after a failure",
    }
}

impl FleetObserver<GuardFailure> for LiveView<'_> {
    fn started(&self, target: usize) {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.multi.insert_before(&bars.overall, ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {prefix}: {msg}").expect("a valid template"),
            );
            bar.set_prefix(self.printer.scrub(self.names[target]));
            bar.set_message("connecting");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        self.state().running.insert(target, (Instant::now(), bar));
    }

    fn event(&self, target: usize, event: &RunEvent<'_>) {
        match self.printer.format() {
            Format::Json => {
                let mut value = serde_json::to_value(event).unwrap_or_default();
                value["target"] = self.names[target].into();
                value["run_id"] = self.run_id.into();
                self.printer.json(value);
            }
            Format::Text => {
                let state = self.state();
                let Some((_, Some(bar))) = state.running.get(&target) else { return };
                let message = match event {
                    RunEvent::LockWaiting { waited_ms, .. } => {
                        format!("waiting for the migration lock ({:.1} s)", *waited_ms as f64 / 1000.0)
                    }
                    RunEvent::MigrationStarted { name, .. } => format!("applying {name}"),
                    RunEvent::StepDone { name, statements_done, statements_total } => {
                        format!("applying {name} ({statements_done}/{statements_total} statements)")
                    }
                    RunEvent::Retrying { name, attempt, .. } => {
                        format!("{name}: lock timeout, attempt {attempt}")
                    }
                    RunEvent::DataProgress { name, rows_done, rows_total, .. } => {
                        format!("{name}: {rows_done}/{rows_total} rows")
                    }
                    _ => return,
                };
                bar.set_message(self.printer.scrub(&message));
            }
        }
    }

    fn finished(&self, target: usize, outcome: &Outcome<GuardFailure>) {
        let elapsed = {
            let mut state = self.state();
            let (started, bar) = state.running.remove(&target).unwrap_or((Instant::now(), None));
            if let Some(bar) = bar {
                bar.finish_and_clear();
                if let Some(bars) = &self.bars {
                    bars.multi.remove(&bar);
                }
            }
            state.finished += 1;
            state.durations.insert(target, started.elapsed());
            started.elapsed()
        };
        let name = self.names[target];
        match self.printer.format() {
            Format::Json => {
                let mut document = json!({
                    "event": "target_finished", "target": name, "run_id": self.run_id,
                    "ok": outcome.succeeded(), "duration_ms": elapsed.as_millis(),
                });
                if let Some(report) = deployed(outcome) {
                    document["applied"] = json!(report.applied);
                    document["already_applied"] = json!(report.already_applied);
                    document["held"] = json!(report.held);
                }
                match outcome {
                    Outcome::Failed(error) => document["error"] = target_error_json(error),
                    Outcome::GuardAfterFailed(_, failure) => document["error"] = failure.json(),
                    Outcome::Skipped(reason) => document["skipped"] = json!(reason),
                    Outcome::Deployed(_) => {}
                }
                self.printer.json(document);
            }
            Format::Text => {
                let finished = self.state().finished;
                let text = match outcome {
                    Outcome::Deployed(report) => format!(
                        "{name}: applied {} migration{} in {:.1} s ({} already applied)",
                        report.applied.len(),
                        if report.applied.len() == 1 { "" } else { "s" },
                        elapsed.as_secs_f64(),
                        report.already_applied
                    ),
                    Outcome::Failed(error) => format!("{name}: FAILED: {}", target_error_text(error)),
                    Outcome::GuardAfterFailed(_, failure) => format!("{name}: FAILED: {}", failure.text()),
                    Outcome::Skipped(reason) => format!("{name}: {}", skip_text(*reason)),
                };
                match &self.bars {
                    Some(bars) => {
                        bars.overall.set_position(finished as u64);
                        if !outcome.succeeded() {
                            self.line(&text);
                        }
                    }
                    None => self.line(&format!("[{finished}/{}] {text}", self.names.len())),
                }
            }
        }
    }
}
