//! `haste lint` and `deploy --lint`: choose the files and their history, run the linter,
//! render its findings (rustc-style text, JSON, GitHub annotations, SARIF 2.1.0).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use annotate_snippets::{Level, Snippet};
use haste_lint::{Finding, Severity, SourceFile};
use haste_migrations::MigrationsDir;
use haste_sql::{Dialect, LineIndex};
use serde_json::json;

use crate::args::{Format, LintFormat};
use crate::exit;
use crate::render::Printer;

/// The target version when neither a flag, a server nor haste.toml says.
const DEFAULT_PG_VERSION: u32 = 15;

/// The linter's input for a folder: every migration in order, each followed by its `down.sql`
/// when `downs` asks (`haste lint`, and `migrate dev` for the files it wrote; a deploy runs no
/// `down.sql`), `check` where `checked` says so of the file's path; migrations `applied` on the
/// target are released history, the others are new; without a target, one a later migration
/// is released with (`-- haste:release-with`) is new to it.
pub fn sources(
    dir: &MigrationsDir,
    checked: impl Fn(&haste_migrations::Migration, &Path) -> bool,
    applied: Option<&HashSet<String>>,
    downs: bool,
) -> Result<Vec<SourceFile>, haste_migrations::Error> {
    let mut inputs = Vec::new();
    let with_later = dir.released_with_a_later();
    for (migration, with_later) in dir.migrations.iter().zip(with_later) {
        // The database, where known, says what is released: a pending migration's tables are
        // new to those after it, an applied one's are not, whatever a directive claims.
        let unreleased = match applied {
            Some(applied) => !applied.contains(&migration.name),
            None => with_later,
        };
        inputs.push(SourceFile {
            path: migration.up.path.display().to_string(),
            sql: migration.up.sql.clone(),
            transaction: migration.directives.transaction,
            check: checked(migration, &migration.up.path),
            unreleased,
            reverts: false,
        });
        let down = if downs { migration.read_down()? } else { None };
        if let Some(down) = down {
            let transaction = haste_migrations::Directives::parse(&down.path, &down.sql)?.transaction;
            inputs.push(SourceFile {
                path: down.path.display().to_string(),
                check: checked(migration, &down.path),
                sql: down.sql,
                transaction,
                unreleased,
                reverts: true,
            });
        }
    }
    Ok(inputs)
}

/// The dialect the migrations are written in: the folder's `provider`, else the `--url`'s.
fn dialect(folder: &MigrationsDir, url: Option<&str>) -> Dialect {
    let sqlite = match folder.provider.as_deref() {
        Some(provider) => provider == "sqlite",
        None => url.is_some_and(|url| url.starts_with("sqlite:")),
    };
    if sqlite { Dialect::Sqlite } else { Dialect::Postgres }
}

/// The major version in `PostgreSQL 15.18`.
pub fn major_version(server: &str) -> Option<u32> {
    server.strip_prefix("PostgreSQL ")?.split(['.', ' ']).next()?.parse().ok()
}

#[allow(clippy::too_many_arguments)]
pub fn command(
    files: &[PathBuf],
    dir: Option<&Path>,
    config: Option<&Path>,
    url: Option<&str>,
    pg_version: Option<u32>,
    format: LintFormat,
    rules: &[String],
    printer: &Printer,
) -> u8 {
    let mut settings = match crate::config::lint_settings(dir, config, rules) {
        Ok(settings) => settings,
        Err(error) => return printer.usage_error(&error.0),
    };
    let folder = match MigrationsDir::load(&settings.dir.path) {
        Ok(folder) => folder,
        // Files named on the command line can be linted without a history when nobody named a
        // folder and the default one does not exist.
        Err(haste_migrations::Error::MissingFolder { path }) if !settings.dir.named && !files.is_empty() => {
            MigrationsDir { path, migrations: Vec::new(), provider: None }
        }
        Err(error) => return printer.usage_error(&error.to_string()),
    };
    settings.config.dialect = dialect(&folder, url);
    let mut server_version = None;
    let mut applied: Option<HashSet<String>> = None;
    if let Some(url) = url {
        match crate::applied_migrations(url, &folder, printer) {
            Ok((version, names)) => {
                server_version = major_version(&version);
                applied = Some(names);
            }
            Err(code) => return code,
        }
    }
    settings.config.pg_version =
        pg_version.or(server_version).or(settings.pg_version).unwrap_or(DEFAULT_PG_VERSION);
    let wanted: HashSet<PathBuf> = files.iter().filter_map(|file| file.canonicalize().ok()).collect();
    if let Some(missing) = files.iter().find(|file| !file.exists()) {
        return printer.usage_error(&format!("{} does not exist", missing.display()));
    }
    let named = |file: &Path| file.canonicalize().is_ok_and(|path| wanted.contains(&path));
    let inputs = sources(
        &folder,
        |migration, file| match (&applied, files.is_empty()) {
            (_, false) => named(file),
            (Some(applied), true) => !applied.contains(&migration.name),
            (None, true) => true,
        },
        applied.as_ref(),
        true,
    );
    let mut inputs = match inputs {
        Ok(inputs) => inputs,
        Err(error) => return printer.usage_error(&error.to_string()),
    };
    let folder_paths: HashSet<PathBuf> =
        inputs.iter().filter_map(|input| Path::new(&input.path).canonicalize().ok()).collect();
    for file in
        files.iter().filter(|file| file.canonicalize().is_ok_and(|path| !folder_paths.contains(&path)))
    {
        match haste_migrations::SqlFile::read(file) {
            Ok(Some(read)) => {
                let transaction =
                    haste_migrations::Directives::parse(file, &read.sql).ok().and_then(|d| d.transaction);
                inputs.push(SourceFile {
                    path: file.display().to_string(),
                    sql: read.sql,
                    transaction,
                    check: true,
                    unreleased: true,
                    reverts: false,
                });
            }
            Ok(None) => return printer.usage_error(&format!("{} does not exist", file.display())),
            Err(error) => return printer.usage_error(&error.to_string()),
        }
    }
    let findings = haste_lint::lint(&inputs, &settings.config);
    render(&findings, &inputs, format, printer);
    outcome(&findings)
}

/// 0 when no finding is an error, else the lint exit code.
pub fn outcome(findings: &[Finding]) -> u8 {
    if findings.iter().any(|f| f.severity == Severity::Error) { exit::LINT_FAILED } else { exit::OK }
}

pub fn render(findings: &[Finding], inputs: &[SourceFile], format: LintFormat, printer: &Printer) {
    let text = match format {
        LintFormat::Text => text(findings, inputs),
        LintFormat::Json => serde_json::to_string(findings).unwrap_or_default(),
        LintFormat::Github => findings.iter().map(github).collect::<Vec<_>>().join("\n"),
        LintFormat::Sarif => serde_json::to_string_pretty(&sarif(findings)).unwrap_or_default(),
    };
    if !text.is_empty() {
        printer.line(&text);
    }
}

/// rustc-style, by annotate-snippets: the rule, the place, the SQL underlined, the fix. Styled
/// always; the printer's stream drops the colours where they do not belong (a pipe, NO_COLOR).
fn text(findings: &[Finding], inputs: &[SourceFile]) -> String {
    let renderer = annotate_snippets::Renderer::styled();
    let mut out = String::new();
    for finding in findings {
        let level = match finding.severity {
            Severity::Error => Level::Error,
            _ => Level::Warning,
        };
        let place = format!("{}:{}:{}", finding.file, finding.line, finding.column);
        // Shown with passwords hidden (the same bytes long, so spans still fit).
        let source = inputs
            .iter()
            .find(|input| input.path == finding.file)
            .map(|input| haste_sql::mask_secrets(&input.sql));
        let span = source.as_deref().map(|sql| byte_span(sql, finding));
        let mut message =
            level.title(&finding.message).id(finding.rule).footer(Level::Help.title(&finding.help));
        message = match (source.as_deref(), span) {
            (Some(sql), Some(span)) => message
                .snippet(Snippet::source(sql).origin(&finding.file).fold(true).annotation(level.span(span))),
            _ => message.footer(Level::Note.title(&place)),
        };
        out.push_str(&renderer.render(message).to_string());
        out.push_str("\n\n");
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let checked = inputs.iter().filter(|input| input.check).count();
    out.push_str(&format!(
        "{errors} error(s), {} warning(s) in {checked} file(s) checked",
        findings.len() - errors
    ));
    out
}

/// The bytes of `sql` a finding covers (its line and column pairs count characters).
fn byte_span(sql: &str, finding: &Finding) -> std::ops::Range<usize> {
    let index = LineIndex::new(sql);
    let offset = |line: usize, column: usize| {
        let text = index.line(line);
        let start = text.as_ptr() as usize - sql.as_ptr() as usize;
        start + haste_sql::char_position_to_offset(text, column)
    };
    let start = offset(finding.line, finding.column);
    let end = offset(finding.end_line, finding.end_column).max(start);
    start..end
}

/// A GitHub Actions workflow command.
fn github(finding: &Finding) -> String {
    let property = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
            .replace(':', "%3A")
            .replace(',', "%2C")
    };
    let message = |text: &str| text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        if finding.severity == Severity::Error { "error" } else { "warning" },
        property(&finding.file),
        finding.line,
        finding.column,
        finding.end_line,
        finding.end_column,
        property(finding.rule),
        message(&format!("{} (help: {})", finding.message, finding.help)),
    )
}

fn sarif(findings: &[Finding]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = haste_lint::rules::RULES
        .iter()
        .map(|rule| (rule.id(), rule.summary(), rule.default_severity()))
        .chain(haste_lint::rules::BUILT_IN.iter().map(|(id, summary)| (*id, *summary, Severity::Error)))
        .map(|(id, summary, severity)| {
            json!({
                "id": id,
                "shortDescription": { "text": summary },
                "defaultConfiguration": { "level": sarif_level(severity), "enabled": severity != Severity::Off },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|finding| {
            json!({
                "ruleId": finding.rule,
                "level": sarif_level(finding.severity),
                "message": { "text": format!("{} Help: {}", finding.message, finding.help) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": finding.file },
                    "region": { "startLine": finding.line, "startColumn": finding.column, "endLine": finding.end_line, "endColumn": finding.end_column },
                }}],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "haste", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warn => "warning",
        Severity::Off => "none",
    }
}

/// `deploy --lint`: pending migrations have error-level findings, so nothing was applied.
pub fn refused(findings: &[Finding], inputs: &[SourceFile], printer: &Printer) -> u8 {
    let message = "pending migrations have error-level lint findings; nothing was applied (allow them with -- haste:allow <rule> reason=\"...\")";
    match printer.format() {
        Format::Text => {
            render(findings, inputs, LintFormat::Text, printer);
            printer.fail("LINT_FAILED", exit::LINT_FAILED, message)
        }
        Format::Json => {
            let mut error = printer.error_object("LINT_FAILED", exit::LINT_FAILED, message);
            error["findings"] = json!(findings);
            printer.json(json!({ "ok": false, "error": error }));
            exit::LINT_FAILED
        }
    }
}
