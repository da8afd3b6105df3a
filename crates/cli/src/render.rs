//! Everything haste prints: text for people, JSON for programs (shape in docs/json.md).
//! Every line goes through [`Printer::emit`], which scrubs the database password.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};

use haste_driver::{ConnectError, DatabaseUrl, LockHolder};
use haste_runner::{
    AppliedMigration, AutovacuumYield, Check, DeployReport, Error, ExecutionMode, FailureState, GaveUpBy,
    MigrationFailure, Observer, RecordedBy, Resolution, RunEvent, State, StatusReport, UnlockReport,
};
use serde_json::{Value, json};

use crate::args::Format;
use crate::exit;

/// Version of the JSON shape, carried by every object.
const JSON_SCHEMA: &str = "haste/1";

pub struct Printer {
    format: Format,
    url: Option<DatabaseUrl>,
    /// A fleet's other URLs, whose passwords are scrubbed too.
    fleet: Vec<DatabaseUrl>,
    /// A JSON document the next one extends: `status --drift` prints the status and the drift
    /// check as one document, though the drift check's outcome is only known later.
    extended: Mutex<Option<Value>>,
    /// A data step's progress bar while one is drawn; [`Printer::emit`] clears it before any
    /// line, so no message ever continues the bar's line.
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Printer {
    pub fn new(format: Format, url: Option<DatabaseUrl>) -> Printer {
        Printer { format, url, fleet: Vec::new(), extended: Mutex::new(None), bar: Mutex::new(None) }
    }

    /// A printer for a fleet: every target's password is scrubbed, and JSON documents carry
    /// no `url` (events name their `target`).
    pub fn for_fleet(format: Format, urls: Vec<DatabaseUrl>) -> Printer {
        Printer { fleet: urls, ..Printer::new(format, None) }
    }

    /// Makes the next JSON document carry the fields of `document` too (its own fields win; an
    /// `error` sets `exit_code`).
    pub fn extend_next(&self, document: Value) {
        *locked(&self.extended) = Some(document);
    }

    pub fn scrub(&self, text: &str) -> String {
        self.url.iter().chain(&self.fleet).fold(text.to_owned(), |text, url| url.scrub(&text))
    }

    /// `text` scrubbed, once the progress bar is cleared: ready to print.
    fn ready(&self, text: &str) -> String {
        if let Some(bar) = locked(&self.bar).take() {
            bar.finish_and_clear();
        }
        self.scrub(text)
    }

    pub fn emit(&self, text: &str, to_stderr: bool) {
        let text = self.ready(text);
        // A closed pipe (`haste ... | head`) is not worth a panic.
        // anstream passes colours to a terminal and drops them for a pipe, a file, NO_COLOR.
        let _ = if to_stderr {
            writeln!(anstream::stderr(), "{text}")
        } else {
            writeln!(anstream::stdout(), "{text}")
        };
    }

    /// A JSON document on stdout. JSON escapes every control character, so it holds no colour
    /// for anstream to drop: written straight out (anstream scanned it byte by byte, a tenth of
    /// `schema inspect --format json`'s time at 1,000 tables).
    fn emit_json(&self, document: &str) {
        let document = self.ready(document);
        let _ = writeln!(std::io::stdout().lock(), "{document}");
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn line(&self, text: &str) {
        self.emit(text, false);
    }

    pub fn json(&self, mut value: Value) {
        if let Some(Value::Object(mut base)) = locked(&self.extended).take()
            && let Value::Object(fields) = value
        {
            if let Some(exit_code) = fields.get("error").and_then(|error| error.get("exit_code")) {
                base.insert("exit_code".into(), exit_code.clone());
            }
            base.extend(fields);
            value = Value::Object(base);
        }
        if let Value::Object(map) = &mut value {
            map.insert("schema".into(), JSON_SCHEMA.into());
            if let Some(url) = &self.url {
                map.insert("url".into(), url.redacted().into());
            }
        }
        // The same bytes as `Display`, written straight into a buffer rather than through a
        // formatter (its writes were about a tenth of `schema inspect`'s client time at 1,000 tables).
        self.emit_json(&serde_json::to_string(&value).expect("a JSON value always serializes"));
    }

    pub fn error_object(&self, code: &str, exit_code: u8, message: &str) -> Value {
        json!({ "code": code, "exit_code": exit_code, "message": message })
    }

    pub fn fail(&self, code: &str, exit_code: u8, message: &str) -> u8 {
        match self.format {
            Format::Text => self.emit(&format!("error: {message}"), true),
            Format::Json => {
                self.json(json!({ "ok": false, "error": self.error_object(code, exit_code, message) }))
            }
        }
        exit_code
    }

    pub fn usage_error(&self, message: &str) -> u8 {
        self.fail("USAGE", exit::USAGE, message)
    }

    pub fn connect_error(&self, error: &ConnectError) -> u8 {
        self.fail("CONNECT", exit::CONNECT, &error.to_string())
    }

    /// A migration `migrate dev` had just written failed on the shadow database where it is
    /// checked after the history (exit 1, `PLAN_INVALID`), told with the failure's file, line and
    /// SQLSTATE as any failure.
    pub fn generated_failure(&self, failure: &MigrationFailure) -> u8 {
        match self.format {
            Format::Text => self.emit(&failure_text(failure, Unit::Generated), true),
            Format::Json => {
                let mut error = json!({ "code": "PLAN_INVALID", "exit_code": exit::INTERNAL });
                failure_fields(&mut error, failure);
                self.json(json!({ "ok": false, "error": error }))
            }
        }
        exit::INTERNAL
    }

    pub fn runner_error(&self, error: &Error) -> u8 {
        let (exit_code, code) = exit::classify(error);
        match self.format {
            Format::Text => self.emit(&error_text(error), true),
            Format::Json => self.json(json!({ "ok": false, "error": error_json(error, code, exit_code) })),
        }
        exit_code
    }

    pub fn observer(&self, run_id: &str) -> impl Observer + '_ {
        ProgressPrinter {
            printer: self,
            run_id: run_id.to_owned(),
            terminal: self.format == Format::Text && std::io::stdout().is_terminal(),
            last_line: None,
        }
    }

    /// Draws a data step's progress bar on stdout, which the caller knows is a terminal showing
    /// text; the next line printed clears it.
    fn progress_bar(&self, name: &str, done: u64, total: u64, text: &str) {
        let mut slot = locked(&self.bar);
        let bar = slot.get_or_insert_with(|| {
            // One decision about colours: anstream's for stdout (a terminal, NO_COLOR,
            // CLICOLOR_FORCE), which indicatif's styles (through `console`) follow too.
            let colours = anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            console::set_colors_enabled(colours);
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stdout(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("  {prefix} [{bar:30.green/dim}] {msg}")
                    .expect("a valid template")
                    .progress_chars("##-"),
            );
            bar.set_prefix(self.scrub(name));
            bar
        });
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_message(self.scrub(text));
        bar.set_position(done);
    }

    pub fn deploy_result(&self, run_id: &str, result: &Result<DeployReport, Error>) -> u8 {
        let report = match result {
            Ok(report) => report,
            Err(error) => {
                let (exit_code, code) = exit::classify(error);
                match self.format {
                    Format::Text => self.emit(&error_text(error), true),
                    Format::Json => self.json(json!({
                        "event": "run_finished", "run_id": run_id, "ok": false,
                        "error": error_json(error, code, exit_code),
                    })),
                }
                return exit_code;
            }
        };
        match self.format {
            Format::Text if report.applied.is_empty() => self
                .line(&format!("Nothing to apply: {} migrations already applied.", report.already_applied)),
            Format::Text => {
                let total: u128 = report.applied.iter().map(|m| m.duration_ms).sum();
                self.line(&format!(
                    "Applied {} migration{} in {} ms ({} already applied).",
                    report.applied.len(),
                    if report.applied.len() == 1 { "" } else { "s" },
                    total,
                    report.already_applied
                ));
            }
            Format::Json => self.json(json!({
                "event": "run_finished", "run_id": run_id, "ok": true,
                "applied": report.applied, "already_applied": report.already_applied, "adopted": report.adopted,
                "held": report.held, "lock_waits": report.lock_waits, "replication": report.replication,
            })),
        }
        let waits = &report.lock_waits;
        if self.format == Format::Text && waits.retries > 0 {
            let holders: Vec<String> = waits.blockers.iter().map(session_text).collect();
            let held_by = match holders.as_slice() {
                [] => String::new(),
                holders => format!("; the tables were held by {}", holders.join(", ")),
            };
            self.line(&format!(
                "Waited for table locks: {} attempt{} cancelled and retried, {} ms in all{held_by}.",
                waits.retries,
                if waits.retries == 1 { "" } else { "s" },
                waits.waited_ms
            ));
        }
        if let (Format::Text, Some(replication)) = (self.format, &report.replication) {
            let replicas: Vec<String> = replication
                .replicas
                .iter()
                .map(|replica| match replica.visible {
                    _ if !replica.streaming_at_end => format!(
                        "{} stopped streaming during the deploy (at most {} behind while seen)",
                        replica.name,
                        human_bytes(replica.max_behind_bytes)
                    ),
                    true => format!(
                        "{} at most {} behind ({} ms of replay), {} at the end",
                        replica.name,
                        human_bytes(replica.max_behind_bytes),
                        replica.max_replay_lag_ms,
                        human_bytes(replica.behind_bytes_at_end)
                    ),
                    false => format!(
                        "{} (its position is not visible to this role: grant it pg_monitor)",
                        replica.name
                    ),
                })
                .collect();
            self.line(&format!("Replicas: {}.", replicas.join("; ")));
        }
        if let (Format::Text, Some(held)) = (self.format, &report.held) {
            self.line(&format!(
                "Held {} for a later deploy: it contracts {}, which {} (-- haste:after).",
                held.name,
                held.after,
                held_because(held, "this deploy applied")
            ));
        }
        exit::OK
    }

    /// A progress line: text only (JSON output carries events instead).
    pub fn progress(&self, text: &str) {
        if self.format == Format::Text {
            self.line(text);
        }
    }

    pub fn backup_error(&self, path: &std::path::Path, error: &haste_driver::DbError) -> u8 {
        let message = format!("backup to {} failed, nothing was applied: {}", path.display(), error.message);
        self.fail("BACKUP_FAILED", exit::BACKUP_FAILED, &message)
    }

    /// The result of a command that returns the migrations it touched (`down`, `baseline`).
    pub fn names_result(&self, verb: &str, key: &str, result: &Result<Vec<String>, Error>) -> u8 {
        match result {
            Err(error) => self.runner_error(error),
            Ok(names) => {
                match self.format {
                    Format::Text if names.is_empty() => self.line(&format!("{verb} nothing.")),
                    Format::Text => {
                        self.line(&format!("{verb} {} migration(s): {}", names.len(), names.join(", ")))
                    }
                    Format::Json => self.json(json!({ "ok": true, key: names })),
                }
                exit::OK
            }
        }
    }

    pub fn resolve_result(
        &self,
        name: &str,
        resolution: &Resolution,
        result: &Result<Option<AppliedMigration>, Error>,
    ) -> u8 {
        let outcome = match resolution {
            Resolution::Applied => "recorded as applied",
            Resolution::RolledBack => "recorded as rolled back: it is pending again",
            Resolution::Resume { .. } => "resumed and applied",
        };
        match result {
            Err(error) => self.runner_error(error),
            Ok(applied) => {
                match self.format {
                    Format::Text => self.line(&format!("{name} {outcome}.")),
                    Format::Json => self.json(
                        json!({ "ok": true, "migration": name, "outcome": outcome, "applied": applied }),
                    ),
                }
                exit::OK
            }
        }
    }

    /// Runs the configured seed command after `reset`, with DATABASE_URL set.
    pub fn seed_command(&self, command: &str, url: &DatabaseUrl) -> u8 {
        self.progress(&format!("Seeding: {command}"));
        let mut child = std::process::Command::new("sh");
        child.arg("-c").arg(command).env("DATABASE_URL", url.expose());
        if self.format == Format::Json {
            // stdout carries only JSON; whatever the seed prints goes to stderr.
            child.stdout(std::io::stderr());
        }
        let status = child.status();
        match status {
            Ok(status) if status.success() => exit::OK,
            Ok(status) => self.fail(
                "SEED_FAILED",
                exit::MIGRATION_FAILED,
                &format!("seed command `{command}` failed: {status}"),
            ),
            Err(error) => self.fail(
                "SEED_FAILED",
                exit::MIGRATION_FAILED,
                &format!("cannot run seed command `{command}`: {error}"),
            ),
        }
    }

    pub fn unlock_result(&self, result: &Result<UnlockReport, Error>) -> u8 {
        match result {
            Err(error) => self.runner_error(error),
            Ok(report) => {
                match self.format {
                    Format::Json => self.json(json!({ "ok": true, "holder": report.holder, "terminated": report.terminated })),
                    Format::Text => self.line(&match (&report.holder, report.terminated) {
                        (None, _) => "The migration lock is free.".to_owned(),
                        (Some(holder), true) => format!("Ended pid {} ({}), which held the migration lock.", holder.pid, holder.application_name),
                        (Some(holder), false) if holder.prepared.is_some() => {
                            format!("The migration lock is held by {}.", holder.describe())
                        }
                        (Some(holder), false) => format!(
                            "The migration lock is held by {}.\nTo end that session: haste migrate unlock --terminate {}",
                            holder.describe(), holder.pid
                        ),
                    }),
                }
                exit::OK
            }
        }
    }

    /// `haste config`: the resolved settings, passwords hidden.
    pub fn config(&self, resolved: &crate::config::Resolved) -> u8 {
        let settings = &resolved.settings;
        let duration = |value: Option<std::time::Duration>| match value {
            Some(value) if !value.is_zero() => format!("{value:?}"),
            _ => "none".to_owned(),
        };
        // A shadow URL that does not parse is not shown at all: it may hold a password.
        let shadow = resolved.shadow_url.as_deref().map(|text| {
            DatabaseUrl::parse(text).map_or_else(
                |_| "(set, but not a URL haste reads; not shown)".to_owned(),
                |url| url.to_string(),
            )
        });
        let guards = match &resolved.environment {
            haste_runner::Environment::Development => "development",
            haste_runner::Environment::Production => "production guards",
            haste_runner::Environment::Other(_) => "reset needs --force",
        };
        let environment = match &resolved.environment_named {
            Some((name, source)) => format!("{name} ({source}; {guards})"),
            None => match &resolved.environment {
                haste_runner::Environment::Other(name) => format!("{name} ({guards})"),
                _ => format!("{guards} (judged from the URL)"),
            },
        };
        let retries = settings.retries.map_or_else(|| "until the deadline".to_owned(), |n| n.to_string());
        let rows = [
            ("environment", environment),
            ("url", resolved.url.to_string()),
            ("url_from", resolved.url_source.clone()),
            ("shadow_url", shadow.clone().unwrap_or_else(|| "none (the url's server)".into())),
            ("shadow_url_from", resolved.shadow_url_source.clone().unwrap_or_else(|| "none".into())),
            ("migrations_dir", resolved.dir.path.display().to_string()),
            ("history_schema", settings.history.schema.clone().unwrap_or_else(|| "none (SQLite)".into())),
            ("lock_timeout", duration(settings.limits.lock_timeout)),
            ("lock_deadline", duration(Some(settings.lock_deadline))),
            ("retries", retries),
            (
                "statement_timeout",
                match settings.limits.statement_timeout {
                    // haste sets none: the session keeps what the server gives it.
                    None => "not set by haste (the role's or database's own, if any)".to_owned(),
                    limit => duration(limit),
                },
            ),
            ("lock_wait", duration(Some(settings.lock_wait))),
            ("exact_prisma", resolved.exact_prisma.to_string()),
            ("owners", settings.owners.to_string()),
            (
                "promote_from",
                resolved
                    .promote_from
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |source| format!("{} ({})", source.name, source.url)),
            ),
            ("window", resolved.window.as_ref().map_or_else(|| "none".to_owned(), |w| w.text().to_owned())),
            (
                "backup",
                resolved.backup.as_ref().map_or_else(|| "none".to_owned(), |p| p.display().to_string()),
            ),
            ("verify", resolved.verify.to_string()),
            ("lint", resolved.lint.to_string()),
        ];
        match self.format {
            Format::Text => {
                for (key, value) in &rows {
                    self.line(&format!("{key:<18} {value}"));
                }
            }
            Format::Json => {
                let mut document = serde_json::Map::new();
                document.insert("ok".into(), true.into());
                for (key, value) in rows {
                    document.insert(key.into(), value.into());
                }
                self.json(Value::Object(document));
            }
        }
        exit::OK
    }

    pub fn doctor(&self, checks: &[Check]) -> u8 {
        let ok = checks.iter().all(|check| check.ok);
        match self.format {
            Format::Json => self.json(json!({ "ok": ok, "checks": checks })),
            Format::Text => {
                for check in checks {
                    self.line(&format!(
                        "{} {}: {}",
                        match (check.ok, check.warning) {
                            (false, _) => "FAIL",
                            (true, true) => "warn",
                            (true, false) => "pass",
                        },
                        check.name,
                        check.detail
                    ));
                }
            }
        }
        if ok { exit::OK } else { exit::DOCTOR_FAILED }
    }

    /// `schema inspect`: counts per kind of object, or the whole model as JSON.
    pub fn schema_summary(&self, model: &haste_dev::Schema) {
        match self.format {
            Format::Json => self.json(json!({ "ok": true, "schema_model": model })),
            Format::Text => {
                for (kind, count) in model.counts() {
                    self.line(&format!("{count:>7} {kind}"));
                }
            }
        }
    }

    /// `schema diff`: the plan, each statement with its hazards; 0 when equal, 14 otherwise.
    pub fn schema_plan(&self, plan: &haste_dev::Plan) -> u8 {
        let code = if plan.is_empty() { exit::OK } else { exit::SCHEMAS_DIFFER };
        match self.format {
            Format::Json => self.json(json!({
                "ok": true, "equal": plan.is_empty(), "steps": plan.steps, "suggestions": plan.suggestions,
            })),
            Format::Text if plan.is_empty() => self.emit("-- The schemas are equal.", true),
            Format::Text => {
                for suggestion in &plan.suggestions {
                    self.line(&format!("-- hint: {suggestion}"));
                }
                // The statements are written for this session (names in `public` unqualified).
                for setting in haste_dev::WRITTEN_FOR {
                    self.line(&format!("{setting};"));
                }
                self.line("");
                for step in &plan.steps {
                    if step.lock != haste_dev::Lock::None {
                        self.line(&format!("-- lock: {}", step.lock.describe()));
                    }
                    for hazard in &step.hazards {
                        self.line(&format!("-- hazard: {}", hazard.describe()));
                    }
                    self.line(&format!("{};\n", step.sql));
                }
            }
        }
        code
    }

    /// `schema dump`: the DDL, one statement after another (in JSON, a `statements` list).
    /// The dump's statements; what the model does not hold (an aggregate, a collation, ...) is named, never
    /// left out in silence: a warning on stderr, `not_modelled` in JSON.
    pub fn schema_dump(&self, model: &haste_dev::Schema) {
        let left_out = &model.not_modelled.0;
        match self.format {
            Format::Json => {
                self.json(json!({ "ok": true, "statements": model.to_ddl(), "not_modelled": left_out }))
            }
            Format::Text => {
                for statement in model.to_ddl() {
                    self.line(&format!("{statement};\n"));
                }
                for object in left_out {
                    self.emit(
                        &format!("warning: not in this dump (haste does not model it): {object}"),
                        true,
                    );
                }
            }
        }
    }

    pub fn impact(&self, report: &haste_runner::ImpactReport) -> u8 {
        let unsafe_now = report.migrations.iter().flat_map(|m| &m.statements).any(|s| !s.safe_now);
        let exit_code = if unsafe_now { exit::NOT_SAFE_NOW } else { exit::OK };
        match self.format {
            Format::Json => self.json(json!({
                "ok": !unsafe_now,
                "exit_code": exit_code,
                "scan_rows_per_second": report.scan_rows_per_second,
                "migrations": report.migrations,
                "held": report.held,
            })),
            Format::Text if report.migrations.is_empty() && report.held.is_none() => {
                self.line("Nothing to apply: no pending migration.")
            }
            Format::Text => {
                for migration in &report.migrations {
                    self.line(&format!("{}  ({})", migration.name, mode_text(migration.mode)));
                    for statement in &migration.statements {
                        self.line(&format!("  line {:>4}  {}", statement.line, statement.summary));
                        let mut facts = vec![paint(statement.lock.describe(), lock_style(statement.lock))];
                        for table in &statement.tables {
                            let partitions = match table.partitions {
                                0 => String::new(),
                                1 => " over 1 partition".to_owned(),
                                n => format!(" over {n} partitions"),
                            };
                            facts.push(format!(
                                "{}: {} rows, {}{partitions}",
                                table.name,
                                table.rows,
                                human_bytes(table.bytes)
                            ));
                        }
                        if let Some(estimate) = statement.estimate_ms {
                            let rebuilt = statement
                                .tables
                                .iter()
                                .max_by_key(|table| table.rows)
                                .map_or(0, |table| table.indexes);
                            let builds = match (statement.work, rebuilt) {
                                (haste_sql::Work::Rewrite, 1) => ", with its index built anew".to_owned(),
                                (haste_sql::Work::Rewrite, 2..) => {
                                    format!(", with its {rebuilt} indexes built anew")
                                }
                                _ => String::new(),
                            };
                            facts.push(format!(
                                "{} work{builds}, about {estimate} ms (estimate)",
                                format!("{:?}", statement.work).to_lowercase()
                            ));
                        }
                        self.line(&format!("             {}", facts.join("; ")));
                        for missing in &statement.unmeasured {
                            self.line(&format!(
                                "             unmeasured: {}{} ({})",
                                missing.figure.describe(),
                                missing
                                    .table
                                    .as_deref()
                                    .map(|table| format!(" of {table}"))
                                    .unwrap_or_default(),
                                missing.reason
                            ));
                        }
                        for blocker in &statement.blockers {
                            self.line(&format!("             blocked by {}", session_text(blocker)));
                        }
                        for session in &statement.load {
                            self.line(&format!(
                                "             queues briefly behind {} (a transaction younger than one lock-timeout attempt: load, not a blocker)",
                                session_text(session)
                            ));
                        }
                        for session in &statement.waits_for {
                            self.line(&format!(
                                "             waits for {} to end (this wait does not block the application)",
                                session_text(session)
                            ));
                        }
                        for note in &statement.lint {
                            let severity = match note.severity {
                                haste_runner::LintSeverity::Error => paint("lint error", RED.bold()),
                                haste_runner::LintSeverity::Warn => "lint warning".to_owned(),
                            };
                            self.line(&format!(
                                "             {severity} {} (line {}): {}",
                                note.rule, note.line, note.message
                            ));
                        }
                        if let Some(reason) = &statement.why_not {
                            self.line(&format!(
                                "             {}: {reason}",
                                paint("NOT SAFE NOW", RED.bold())
                            ));
                        }
                    }
                    if let Some(data) = &migration.data {
                        self.line(&format!("  data step  {}", data.file));
                        let size = match &data.size {
                            Some(size) => {
                                format!("{}: {} rows, {}", data.table, size.rows, human_bytes(size.bytes))
                            }
                            None => format!(
                                "{}: no size (not there now, or not measured without waiting)",
                                data.table
                            ),
                        };
                        let batches = data
                            .batches
                            .map(|batches| format!(", about {batches} batches"))
                            .unwrap_or_default();
                        let resumed = match data.rows_done {
                            0 => String::new(),
                            done => format!(", resumed after {done} rows done"),
                        };
                        let rate =
                            data.max_rate.map(|rate| format!(", at most {rate} rows/s")).unwrap_or_default();
                        self.line(&format!(
                            "             {size}; walked by {} in batches of {} rows{batches}{resumed}, each sized to about {} ms (the row locks a batch holds){rate}; lock timeout {} ms per attempt, blocked batches retried smaller",
                            data.key, data.batch_size, data.target_ms, data.lock_timeout_ms
                        ));
                    }
                }
                if let Some(held) = &report.held {
                    self.line(&format!(
                        "Deploy will stop before {} and hold it for a later deploy: it contracts {}, which {} (-- haste:after).",
                        held.name,
                        held.after,
                        held_because(held, "this deploy applies")
                    ));
                }
                if let Some(rate) = report.scan_rows_per_second {
                    self.line(&format!("Estimates assume a scan rate of {rate} rows/s, measured just now."));
                }
                self.line(if unsafe_now {
                    "Not safe to deploy now: see NOT SAFE NOW above."
                } else {
                    "Safe to deploy now."
                });
            }
        }
        exit_code
    }

    /// `migrate status`: the exit code its report calls for.
    pub fn status_code(report: &StatusReport) -> u8 {
        if report.any(State::Failed) || report.any(State::Interrupted) {
            exit::BLOCKED
        } else if report.any(State::Modified) || report.any(State::Missing) {
            exit::VALIDATION
        } else if report.any(State::Pending) || report.any(State::Running) {
            exit::PENDING
        } else {
            exit::OK
        }
    }

    /// `migrate status` as the JSON document docs/json.md describes.
    pub fn status_document(report: &StatusReport) -> Value {
        let exit_code = Printer::status_code(report);
        json!({
            "ok": exit_code == exit::OK,
            "exit_code": exit_code,
            "up_to_date": exit_code == exit::OK,
            "migrations": report.migrations,
        })
    }

    pub fn status(&self, report: &StatusReport) -> u8 {
        let exit_code = Printer::status_code(report);
        match self.format {
            Format::Json => self.json(Printer::status_document(report)),
            Format::Text => {
                for migration in &report.migrations {
                    let label = format!("{:<11}", state_label(migration.state));
                    let mut line =
                        format!("{} {}", paint(&label, state_style(migration.state)), migration.name);
                    // A revert that stopped part-way: its down.sql's progress, not the up
                    // migration's (all of which ran).
                    match (
                        migration.down_statements_done,
                        migration.statements_done,
                        migration.statements_total,
                        migration.state,
                    ) {
                        (Some(done), _, _, _) => line
                            .push_str(&format!("  (reverting: down.sql stopped after {done} statement(s))")),
                        (
                            None,
                            Some(done),
                            Some(total),
                            State::Failed | State::Interrupted | State::Running,
                        ) => line.push_str(&format!("  ({done} of {total} statements done)")),
                        _ => {}
                    }
                    if let (Some(progress), false) =
                        (&migration.data_progress, migration.state == State::Applied)
                    {
                        let last_key = match &progress["last_key"] {
                            Value::Null => "none".to_owned(),
                            key => key.to_string(),
                        };
                        line.push_str(&format!(
                            "  (schema part applied; data: {} rows done, last key {last_key}; deploy resumes it)",
                            progress["rows_done"]
                        ));
                    }
                    if let Some(error) = &migration.last_error {
                        line.push_str(&format!(
                            "  [{}] {}",
                            error["sqlstate"].as_str().unwrap_or("-"),
                            error["message"].as_str().unwrap_or_default()
                        ));
                    }
                    self.line(&line);
                }
                let count = |state| report.migrations.iter().filter(|m| m.state == state).count();
                self.line(&match exit_code {
                    exit::OK => format!("Database is up to date ({} migrations applied).", count(State::Applied)),
                    exit::PENDING => format!("{} pending migration(s).", count(State::Pending) + count(State::Running)),
                    exit::VALIDATION => "Applied migrations were modified or are missing: deploy will refuse.".into(),
                    _ => "A migration failed or was interrupted part-way: it needs resolving before deploy continues.".into(),
                });
            }
        }
        exit_code
    }
}

/// `text` in `style`; the printer's stream drops the style where colours do not belong.
fn paint(text: &str, style: anstyle::Style) -> String {
    format!("{style}{text}{style:#}")
}

const RED: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));
const YELLOW: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));
const GREEN: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Green)));

/// Green for done, yellow for waiting, red for what needs a person.
fn state_style(state: State) -> anstyle::Style {
    match state {
        State::Applied => GREEN,
        State::Pending | State::Running => YELLOW,
        State::Modified | State::Missing | State::Failed | State::Interrupted => RED.bold(),
    }
}

/// Green when reads and writes go on, yellow when writes wait, red when both wait.
fn lock_style(lock: haste_dev::Lock) -> anstyle::Style {
    match lock {
        _ if lock.lets_application_through() || lock == haste_dev::Lock::RowExclusive => GREEN,
        haste_dev::Lock::AccessExclusive => RED.bold(),
        _ => YELLOW,
    }
}

fn state_label(state: State) -> &'static str {
    match state {
        State::Applied => "applied",
        State::Pending => "pending",
        State::Modified => "MODIFIED",
        State::Missing => "MISSING",
        State::Failed => "FAILED",
        State::Running => "running",
        State::Interrupted => "INTERRUPTED",
    }
}

pub(crate) fn mode_text(mode: ExecutionMode) -> String {
    match mode {
        ExecutionMode::Transaction => "in one transaction".into(),
        ExecutionMode::Stepwise { reason } => {
            format!("statement by statement, outside a transaction ({reason})")
        }
        ExecutionMode::AsWritten { history_in_file_transaction: true } => {
            "as written (the file manages its transaction; history commits inside it)".into()
        }
        ExecutionMode::AsWritten { history_in_file_transaction: false } => {
            "as written (the file manages its transactions; history recorded after each)".into()
        }
    }
}

struct ProgressPrinter<'p> {
    printer: &'p Printer,
    run_id: String,
    /// Whether stdout is a terminal: a progress bar redrawn in place; otherwise a line a second.
    terminal: bool,
    last_line: Option<std::time::Instant>,
}

impl ProgressPrinter<'_> {
    /// A bar redrawn in place on a terminal, a line a second elsewhere; the last position
    /// is a line in both, which stays on the screen.
    fn data_progress(&mut self, name: &str, done: u64, total: u64, rate: u64) {
        let fraction = if total == 0 { 1.0 } else { done as f64 / total as f64 };
        let eta = total.saturating_sub(done).checked_div(rate).unwrap_or(0);
        let text = format!("{done}/{total} rows ({:.0}%), {rate} rows/s, ETA {eta} s", fraction * 100.0);
        let finished = done >= total;
        if self.terminal && !finished {
            self.printer.progress_bar(name, done, total, &text);
        } else if finished
            || self.last_line.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(1))
        {
            self.printer.line(&format!("  {name}: {text}"));
            self.last_line = Some(std::time::Instant::now());
        }
    }
}

impl Observer for ProgressPrinter<'_> {
    fn event(&mut self, event: &RunEvent<'_>) {
        match self.printer.format {
            Format::Json => {
                let mut value = serde_json::to_value(event).unwrap_or_default();
                value["run_id"] = self.run_id.clone().into();
                self.printer.json(value);
            }
            Format::Text => match event {
                RunEvent::LockWaiting { holder: Some(holder), waited_ms } => self.printer.line(&format!(
                    "Waiting for the migration lock ({:.1} s): held by {}",
                    *waited_ms as f64 / 1000.0,
                    holder.describe()
                )),
                RunEvent::LockWaiting { holder: None, waited_ms } => self
                    .printer
                    .line(&format!("Waiting for the migration lock ({:.1} s)", *waited_ms as f64 / 1000.0)),
                RunEvent::MigrationStarted { name, mode, statements, data_step, in_code } => {
                    let statements_text = format!(
                        "({statements} statement{}): {}",
                        if *statements == 1 { "" } else { "s" },
                        mode_text(*mode)
                    );
                    self.printer.line(&match (*in_code, *statements, *data_step) {
                        (true, _, _) => format!("Applying {name} (written in code): {}", mode_text(*mode)),
                        (false, 0, true) => format!("Applying {name}: a data step, in batches"),
                        (false, _, true) => format!("Applying {name} {statements_text}, then a data step in batches"),
                        (false, _, false) => format!("Applying {name} {statements_text}"),
                    })
                }
                RunEvent::Retrying { name, attempt, delay_ms, lock_timeout_ms, error, blockers, autovacuum } => {
                    let waited = match lock_timeout_ms {
                        Some(ms) => format!(" (lock_timeout {ms} ms)"),
                        None => String::new(),
                    };
                    let waited_for = match blockers {
                        [] => String::new(),
                        sessions => format!("; waited for {}", sessions_text(sessions)),
                    };
                    let autovacuum = match autovacuum {
                        None => String::new(),
                        Some(AutovacuumYield::Cancelled { pid }) => {
                            format!("; cancelled autovacuum pid {pid} (it comes back to the table later)")
                        }
                        Some(AutovacuumYield::Outwaited { pid, lock_timeout_ms }) => format!(
                            "; this role may not cancel autovacuum pid {pid}: the next attempt waits up to {lock_timeout_ms} ms, past deadlock_timeout, so that the server cancels it"
                        ),
                        Some(AutovacuumYield::Wraparound { pid }) => format!(
                            "; autovacuum pid {pid} prevents wraparound and cannot be cancelled: waiting for it within the deadline"
                        ),
                    };
                    self.printer.line(&format!(
                        "  {name}: attempt {attempt}{waited} hit {error}{waited_for}{autovacuum}; retrying in {delay_ms} ms"
                    ))
                }
                RunEvent::DetachFinalized { name, partitioned, partition } => self.printer.line(&format!(
                    "  {name}: {partition} was left detach pending from {partitioned} by an earlier attempt; finishing it with ALTER TABLE {partitioned} DETACH PARTITION {partition} FINALIZE"
                )),
                RunEvent::MigrationApplied { name, duration_ms, .. } => {
                    self.printer.line(&format!("  applied {name} in {duration_ms} ms"))
                }
                RunEvent::MigrationAdopted { name } => {
                    self.printer.line(&format!("Adopted {name} from Prisma Migrate's history"))
                }
                RunEvent::MigrationReverted { name, duration_ms } => {
                    self.printer.line(&format!("Reverted {name} in {duration_ms} ms"))
                }
                RunEvent::DataProgress { name, rows_done, rows_total, rows_per_second, .. } => {
                    self.data_progress(name, *rows_done, *rows_total, *rows_per_second)
                }
                RunEvent::DataPaused { name, replica_lag_bytes, paused_ms } => self.printer.line(&format!(
                    "  {name}: paused {:.1} s: a replica is {replica_lag_bytes} bytes behind",
                    *paused_ms as f64 / 1000.0
                )),
                RunEvent::ReplicasNotVisible { name, replicas } => self.printer.emit(
                    &format!(
                        "warning: {name}: this role cannot see how far {} behind, so the data step does not pause for {}; grant it pg_monitor",
                        match replicas {
                            [one] => format!("replica {one} is"),
                            many => format!("replicas {} are", many.join(", ")),
                        },
                        if replicas.len() == 1 { "it" } else { "them" }
                    ),
                    true,
                ),
                RunEvent::EmptyMigration { name, file } => self.printer.emit(
                    &format!(
                        "warning: migration {name} has no statements ({} is empty or only comments); it is recorded as applied",
                        file.display()
                    ),
                    true,
                ),
                RunEvent::SettingsNotMadeAgain { name, lines } => self.printer.emit(
                    &format!(
                        "warning: resuming {name}: the statement{} at line{} {} may have changed session settings in a way haste cannot make again (a DO block's SET, set_config among other work); the rest runs without them",
                        if lines.len() == 1 { "" } else { "s" },
                        if lines.len() == 1 { "" } else { "s" },
                        lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    ),
                    true,
                ),
                RunEvent::LockAcquired { .. } | RunEvent::StepDone { .. } => {}
            },
        }
    }
}

pub(crate) fn error_text(error: &Error) -> String {
    match error {
        Error::MigrationFailed(failure) => failure_text(failure, Unit::Migration),
        Error::ChecksumMismatch { name, file, applied, current } => format!(
            "error: migration {name} was modified after it was applied\n  --> {}\n   = applied checksum: {applied}\n   = current checksum: {current}\n   = restore the file as it was applied; deploy changes nothing until then",
            file.display()
        ),
        Error::ForcedTransactionConflict { name, position, construct } => format!(
            "error: migration {name} forces a transaction (-- haste:transaction on) but contains {construct}, which PostgreSQL refuses inside one\n  --> {}:{}:{}",
            position.file.display(),
            position.line,
            position.column
        ),
        Error::OutsideWindow { window } => format!(
            "error: this environment takes deploys only within its window ({window}); nothing was applied\n   = deploy within it, or pass --outside-window \"<reason>\" (recorded in the history)"
        ),
        Error::NotPromoted { from, names } => format!(
            "error: this environment takes only migrations applied in {from} first (promote_from); not applied there with the same file:\n{}\n   = deploy them to {from} first, or pass --promotion-override \"<reason>\" (recorded in the history); nothing was applied",
            names.iter().map(|n| format!("  {n}")).collect::<Vec<_>>().join("\n")
        ),
        Error::DataHeader { name, file, line, message } => format!(
            "error: migration {name}: {message}; nothing of the migration was applied\n  --> {}:{line}\n   = name the table and its key column (the primary key) in the header",
            file.display()
        ),
        Error::UnterminatedTransaction { name, position } => format!(
            "error: migration {name} opens a transaction here that it never ends (no COMMIT): its statements would be rolled back when the session ends; nothing of the migration was run\n  --> {}:{}:{}\n   = end the transaction with COMMIT (or remove the BEGIN and let haste run the file in one)",
            position.file.display(),
            position.line,
            position.column
        ),
        Error::SeedUnterminatedTransaction { position } => format!(
            "error: the seed opens a transaction here that it never ends (no COMMIT): its statements would be rolled back when the session ends; nothing was run and the database was not reset\n  --> {}:{}:{}\n   = end the transaction with COMMIT (or remove the BEGIN and let haste run the seed in one)",
            position.file.display(),
            position.line,
            position.column
        ),
        Error::TwoPhaseCommit { name, position, construct } => format!(
            "error: migration {name} uses two-phase commit ({construct}): a prepared transaction keeps its locks after the session ends, until someone commits it by hand; nothing of the migration was run\n  --> {}:{}:{}",
            position.file.display(),
            position.line,
            position.column
        ),
        Error::LockTimeout { waited, holder } => {
            let mut text = format!(
                "error: timed out after {:.1} s waiting for the migration lock",
                waited.as_secs_f64()
            );
            if let Some(holder) = holder {
                text.push_str(&format!("\n   = held by {}", holder.describe()));
            }
            text
        }
        Error::PoolerDetected => format!(
            "error: {error}\n   = a session lock is useless there: connect directly to the server (not through a transaction-mode pooler) for migrations"
        ),
        Error::Blocked { name, recorded_by: RecordedBy::Haste, down_statements_done: Some(_), .. } => {
            format!(
                "error: {error}\n   = finish or undo the rest of its down.sql by hand, then `haste migrate resolve --rolled-back {name}` if it is undone, \
             or `--applied {name}` if it is back as the migration left it"
            )
        }
        Error::Blocked { name, recorded_by: RecordedBy::Haste, .. } => format!(
            "error: {error}\n   = see `haste migrate status`; then `haste migrate resolve --resume {name}` to continue it, \
             `--applied {name}` if it was finished by hand, or `--rolled-back {name}` if it was undone by hand"
        ),
        Error::Blocked { .. } => format!(
            "error: {error} (recorded by Prisma Migrate)\n   = resolve it with `prisma migrate resolve` first"
        ),
        Error::EditedBeforeResume { name, file, statements_done, changed_statement_done } => {
            let way_out = match changed_statement_done {
                None => format!(
                    "the {statements_done} statement(s) that already ran are unchanged; to run the new text of the rest: haste migrate resolve --resume {name} --accept-edit"
                ),
                Some(index) if index == statements_done => format!(
                    "the file now has fewer than the {statements_done} statement(s) that already ran; restore it, or finish by hand and use --applied"
                ),
                Some(index) => format!(
                    "statement {} already ran and is not the same any more (or haste cannot tell: history from an older version); restore the statements that ran, or finish by hand and use --applied",
                    index + 1
                ),
            };
            format!(
                "error: migration {name} was edited after it stopped after {statements_done} statement(s)\n  --> {}\n   = {way_out}",
                file.display()
            )
        }
        Error::InvalidIndexLeft { name, index, drop_statement } => format!(
            "error: migration {name} stopped while building {index}, which is left INVALID\n   = drop it: {drop_statement};\n   = or let haste drop it: haste migrate resolve --resume {name} --drop-invalid-index"
        ),
        Error::SeedFailed(failure) => failure_text(failure, Unit::Seed),
        Error::SourceFailed(failure) => failure_text(failure, Unit::SchemaFile),
        Error::ReplayFailed(failure) => failure_text(failure, Unit::Replay),
        Error::OutsideShadow { statements } => {
            let mut text = String::from(
                "error: refusing to run SQL on a shadow database that acts outside it; nothing was run",
            );
            for statement in statements {
                let position = &statement.position;
                text.push_str(&format!(
                    "\n  --> {}:{}:{}: {}",
                    position.file.display(),
                    position.line,
                    position.column,
                    statement.what
                ));
            }
            text.push_str("\n   = a schema file or migration history replayed on a shadow database may only change that database: \
                 run what acts on databases, roles, tablespaces, the server or its files outside them (by hand, or from a provisioning script)");
            text
        }
        other => format!("error: {other}"),
    }
}

/// What failed: a migration (its `migration.sql`, `down.sql` or `data.down.sql`), or the seed
/// `migrate reset` runs after the migrations. The outcome line says only what is true of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Migration,
    Seed,
    /// `schema.sql` (or a folder of SQL files) loaded into a shadow database.
    SchemaFile,
    /// A migration of the history replayed on a shadow database.
    Replay,
    /// A migration `migrate dev` had just written, checked on a shadow database.
    Generated,
}

/// Sessions holding locks, as the lock budget names them: pid, application name, state and
/// since when, never their query text.
fn sessions_text(sessions: &[LockHolder]) -> String {
    let named: Vec<String> = sessions.iter().map(session_text).collect();
    named.join(", ")
}

fn failure_text(failure: &MigrationFailure, unit: Unit) -> String {
    let position = &failure.position;
    let subject = match unit {
        Unit::Migration => "migration",
        Unit::Seed => "seed",
        Unit::SchemaFile => "schema file",
        Unit::Replay | Unit::Generated => "migration",
    };
    let mut text = format!("error: {subject} {} failed: {}", failure.name, failure.error.message);
    text.push_str(&format!("\n  --> {}:{}:{}", position.file.display(), position.line, position.column));
    let width = position.snippet.last().map_or(1, |(n, _)| n.to_string().len());
    text.push_str(&format!("\n{:width$} |", ""));
    for (number, line) in &position.snippet {
        text.push_str(&format!("\n{number:>width$} | {line}"));
        if *number == position.line {
            text.push_str(&format!("\n{:width$} | {}^", "", " ".repeat(position.column - 1)));
        }
    }
    if let Some(sqlstate) = &failure.error.sqlstate {
        text.push_str(&format!("\n{:width$} = sqlstate: {sqlstate}", ""));
    }
    if let Some(detail) = &failure.error.detail {
        text.push_str(&format!("\n{:width$} = detail: {detail}", ""));
    }
    if let Some(hint) = hint(&failure.error) {
        text.push_str(&format!("\n{:width$} = hint: {hint}", ""));
    }
    match &failure.gave_up {
        Some(gave_up) => {
            let ended = match gave_up.by {
                GaveUpBy::Deadline => {
                    format!("the lock budget's deadline of {} ms passed", gave_up.deadline_ms)
                }
                GaveUpBy::Retries => "its retries were used up".to_owned(),
            };
            let blocked = match gave_up.blockers.as_slice() {
                [] => String::new(),
                sessions => format!("; blocked last by {}", sessions_text(sessions)),
            };
            text.push_str(&format!(
                "\n{:width$} = gave up after {} attempt{}: {ended}{blocked}",
                "",
                gave_up.attempts,
                if gave_up.attempts == 1 { "" } else { "s" }
            ));
        }
        None if failure.attempts > 1 => {
            text.push_str(&format!("\n{:width$} = after {} attempts", "", failure.attempts))
        }
        None => {}
    }
    // Undoing (`migrate down`) and seeding are not what the next deploy runs.
    let file = position.file.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let undoing = matches!(file, "down.sql" | "data.down.sql");
    let outcome = match (&failure.state, failure.error.connection_lost) {
        (_, true) if unit == Unit::Replay => {
            "the connection to the shadow database was lost while the history was replayed there; nothing but the shadow database was touched".to_owned()
        }
        (_, false) if unit == Unit::Replay => {
            "this happened while the history was replayed on a shadow database, which is dropped: nothing else was touched, and the migration's record in your database is unchanged. The shadow runs as a confined role (docs/failure-model.md, Shadow databases): a statement only a superuser may run fails there".to_owned()
        }
        (_, _) if unit == Unit::Generated => {
            "haste wrote this migration and checked it on a shadow database after the history, which is dropped: the folders it wrote are removed and nothing else was touched. Where the history explains it (rows a migration inserted), change the desired schema or the history; otherwise it is a bug in haste (please report it)".to_owned()
        }
        (_, true) if unit == Unit::SchemaFile => {
            "the connection to the shadow database was lost; nothing but the shadow database was touched".to_owned()
        }
        (_, false) if unit == Unit::SchemaFile => {
            "the file was being loaded into a shadow database, which is dropped: nothing else was touched; fix the file and run the command again".to_owned()
        }
        (_, true) if unit == Unit::Seed => {
            "the connection was lost: the migrations before the seed are applied; what the seed did is unknown".to_owned()
        }
        (FailureState::RolledBack, false) if unit == Unit::Seed => {
            "the seed was rolled back: nothing of it was applied; the migrations before it stay applied, and `migrate reset` runs it again".to_owned()
        }
        (FailureState::MarkedFailed { statements_done }, false) if unit == Unit::Seed => format!(
            "the seed steers its own transactions and stopped after {statements_done} committed statement(s), which stay applied"
        ),
        (_, true) => "the connection was lost: run `haste migrate status` to see what was recorded".to_owned(),
        (FailureState::RolledBack, false) if undoing => format!(
            "{file} was rolled back: nothing of it was applied; migration {} is still applied",
            failure.name
        ),
        (FailureState::RolledBack, false) => {
            "the migration was rolled back: nothing of it was applied or recorded; the next deploy tries it again".into()
        }
        (FailureState::DataStopped { last_key, rows_done }, false) if undoing => format!(
            "undoing the data migration stopped after {rows_done} rows (last key done: {}); the batches before are committed, migration {} is still applied, and `migrate down` walks the table again from the start",
            last_key.as_deref().unwrap_or("none"),
            failure.name
        ),
        (FailureState::DataStopped { last_key, rows_done }, false) => format!(
            "the data migration stopped after {rows_done} rows (last key done: {}); every batch before is committed, and the next deploy resumes after it",
            last_key.as_deref().unwrap_or("none")
        ),
        (FailureState::MarkedFailed { statements_done }, false) if undoing => format!(
            "{file} does not run in one transaction and stopped after {statements_done} statement(s); migration {} is recorded as failed (neither applied nor reverted) and blocks deploy until resolved",
            failure.name
        ),
        (FailureState::MarkedFailed { statements_done }, false) => format!(
            "the migration does not run in one transaction and stopped after {statements_done} statement(s); it is recorded as failed and blocks deploy until resolved"
        ),
        (FailureState::Unrecorded { statements_done }, false) => format!(
            "the migration does not run in one transaction and stopped after {statements_done} statement(s), but writing that to history failed too: history still shows it started with fewer statements done, and `resolve --resume` would run statements up to {statements_done} again; check them, then resolve"
        ),
    };
    text.push_str(&format!("\n{:width$} = {outcome}", ""));
    text
}

/// The fields of a failed migration, seed or schema file in its error document.
fn failure_fields(value: &mut Value, failure: &MigrationFailure) {
    value["migration"] = failure.name.clone().into();
    value["sqlstate"] = json!(failure.error.sqlstate);
    value["message"] = failure.error.message.clone().into();
    value["detail"] = json!(failure.error.detail);
    value["hint"] = json!(hint(&failure.error));
    value["file"] = failure.position.file.display().to_string().into();
    value["line"] = failure.position.line.into();
    value["column"] = failure.position.column.into();
    value["statement_index"] = failure.statement_index.into();
    value["attempts"] = failure.attempts.into();
    value["state"] = json!(failure.state);
    if let Some(gave_up) = &failure.gave_up {
        value["gave_up"] = json!(gave_up);
    }
}

pub(crate) fn error_json(error: &Error, code: &str, exit_code: u8) -> Value {
    let mut value = json!({ "code": code, "exit_code": exit_code, "message": error.to_string() });
    match error {
        Error::MigrationFailed(failure)
        | Error::SeedFailed(failure)
        | Error::SourceFailed(failure)
        | Error::ReplayFailed(failure) => failure_fields(&mut value, failure),
        Error::ChecksumMismatch { name, file, applied, current } => {
            value["migration"] = name.clone().into();
            value["file"] = file.display().to_string().into();
            value["applied_checksum"] = applied.clone().into();
            value["current_checksum"] = current.clone().into();
        }
        Error::EditedBeforeResume { name, file, statements_done, changed_statement_done } => {
            value["migration"] = name.clone().into();
            value["file"] = file.display().to_string().into();
            value["statements_done"] = (*statements_done).into();
            value["changed_statement_done"] = json!(changed_statement_done);
        }
        Error::LockTimeout { holder, .. } => value["holder"] = json!(holder),
        Error::Blocked { name, .. } => value["migration"] = name.clone().into(),
        Error::OutsideShadow { statements } => {
            let first = &statements[0].position;
            value["file"] = first.file.display().to_string().into();
            value["line"] = first.line.into();
            value["column"] = first.column.into();
            value["statements"] = statements
                .iter()
                .map(|statement| {
                    json!({
                        "file": statement.position.file.display().to_string(),
                        "line": statement.position.line,
                        "column": statement.position.column,
                        "what": statement.what,
                    })
                })
                .collect();
        }
        Error::DataHeader { name, file, line, .. } => {
            value["migration"] = name.clone().into();
            value["file"] = file.display().to_string().into();
            value["line"] = (*line).into();
        }
        Error::ForcedTransactionConflict { name, position, .. }
        | Error::TwoPhaseCommit { name, position, .. }
        | Error::UnterminatedTransaction { name, position } => {
            value["migration"] = name.clone().into();
            value["file"] = position.file.display().to_string().into();
            value["line"] = position.line.into();
        }
        Error::SeedUnterminatedTransaction { position } => {
            value["file"] = position.file.display().to_string().into();
            value["line"] = position.line.into();
        }
        _ => {}
    }
    value
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.0} kB", bytes as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.0} MB", bytes as f64 / 1_048_576.0),
        _ => format!("{:.1} GB", bytes as f64 / 1_073_741_824.0),
    }
}

/// The hint shown with a failed statement: the server's, except where it would have a
/// migration drop what it does not name, and haste's where the server gives none and the fix
/// is haste's. PostgreSQL answers an object others depend on (`2BP01`: a view over a column a
/// type change swaps, added after the migration was written) with "Use DROP ... CASCADE", which
/// would drop those others with it, unreviewed. A statement refused inside a transaction block
/// (`25001`) that haste cannot tell from its text, since only the server knows the table is
/// partitioned (`REINDEX TABLE`, `CLUSTER`), ran in the file's transaction: the directive runs
/// it outside one.
fn hint(error: &haste_driver::DbError) -> Option<String> {
    match error.sqlstate.as_deref() {
        Some("2BP01") => Some(
            "the objects named in the detail depend on it: change or drop them first (they are not in the schema this migration was planned for), then deploy again; CASCADE would drop them with it"
                .to_owned(),
        ),
        Some("25001") if error.hint.is_none() => Some(
            "PostgreSQL runs this statement only outside a transaction (REINDEX TABLE or CLUSTER of a partitioned table, for one): add the line `-- haste:transaction off` at the top of the migration so that haste runs its statements one by one, each outside a transaction (and take the statement out of any BEGIN ... COMMIT of the file), then deploy again"
                .to_owned(),
        ),
        _ => error.hint.clone(),
    }
}

/// Why a contract waits: the migration it contracts is new in this deploy, or was finished by
/// `migrate resolve` since the last one.
fn held_because(held: &haste_runner::HeldMigration, by_this_deploy: &'static str) -> &'static str {
    if held.resolved {
        "`migrate resolve` finished or marked applied since the last deploy"
    } else {
        by_this_deploy
    }
}

/// Another session that holds up a statement: never its query, which may hold secrets.
fn session_text(session: &haste_driver::LockHolder) -> String {
    if session.prepared.is_some() {
        return session.describe();
    }
    let state = session.state.as_deref().map(|state| format!(", {state}")).unwrap_or_default();
    let name = match session.autovacuum {
        Some(haste_driver::Autovacuum::Ordinary) => "autovacuum",
        Some(haste_driver::Autovacuum::ToPreventWraparound) => "autovacuum to prevent wraparound",
        None => &session.application_name,
    };
    // A role that may not see another role's session is shown no time.
    let since = session.since_phrase().map(|since| format!(", {since}")).unwrap_or_default();
    format!("pid {} ({name}{state}{since})", session.pid)
}
