//! Settings from flags, environment, `.env` and `haste.toml`, in that order of precedence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use haste_driver::history::HistoryTables;
use haste_driver::{DatabaseUrl, Limits};
use haste_migrations::parse_duration;
use haste_runner::{DEFAULT_LOCK_DEADLINE, DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Environment, Settings};
use serde::Deserialize;

use crate::args::{Common, RunOptions};

const CONFIG_FILE: &str = "haste.toml";
const DEFAULT_DIR: &str = "migrations";

/// `haste.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    migrations_dir: Option<PathBuf>,
    history_schema: Option<String>,
    environment: Option<String>,
    seed: Option<PathBuf>,
    seed_command: Option<String>,
    schema: Option<PathBuf>,
    shadow_url: Option<String>,
    #[serde(default)]
    lock: LockSection,
    #[serde(default)]
    defaults: DefaultsSection,
    #[serde(default)]
    lint: LintSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LintSection {
    pg_version: Option<u32>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    rules: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockSection {
    wait: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsSection {
    lock_timeout: Option<String>,
    lock_deadline: Option<String>,
    statement_timeout: Option<String>,
    retries: Option<u32>,
}

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

/// Everything a database command needs.
pub struct Resolved {
    pub url: DatabaseUrl,
    pub dir: PathBuf,
    pub settings: Settings,
    pub environment: Environment,
    /// A SQL file run after `reset`: `seed` in haste.toml, else `seed.sql` beside the folder.
    pub seed: Option<PathBuf>,
    /// A command run after `reset` (and after the seed file), with DATABASE_URL set.
    pub seed_command: Option<String>,
    /// The desired schema for `migrate dev`, from haste.toml.
    pub schema: Option<PathBuf>,
    /// The server for shadow databases, from haste.toml.
    pub shadow_url: Option<String>,
}

fn load_file(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if Path::new(CONFIG_FILE).exists() => PathBuf::from(CONFIG_FILE),
        None => return Ok(ConfigFile::default()),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| ConfigError(format!("cannot read {}: {error}", path.display())))?;
    // toml's own message quotes the line, which may hold a password: say where, and what.
    toml::from_str(&text).map_err(|error| {
        let place = error.span().map_or_else(String::new, |span| {
            let (line, column) = haste_sql::LineIndex::new(&text).line_col(span.start);
            format!(":{line}:{column}")
        });
        ConfigError(format!("{}{place}: {}", path.display(), without_quoted_value(error.message())))
    })
}

/// `message` with what it quotes in double quotes (serde's `invalid type: string "..."`, the
/// value as written, perhaps a password) left out.
fn without_quoted_value(message: &str) -> String {
    match (message.find('"'), message.rfind('"')) {
        (Some(first), Some(last)) if first < last => {
            format!("{}\"...\"{}", &message[..first], &message[last + 1..])
        }
        _ => message.to_owned(),
    }
}

/// What is wrong with `.env`, without the line dotenvy quotes (it may hold a password).
fn dotenv_error(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, index) => {
            // dotenvy reads the first .env in the working directory or above it.
            let first_line = line.lines().next().unwrap_or_default();
            let number = std::env::current_dir()
                .ok()
                .and_then(|dir| dir.ancestors().map(|dir| dir.join(".env")).find(|path| path.is_file()))
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|text| text.lines().position(|candidate| candidate.contains(first_line)));
            let which = number.map_or_else(|| "a line".to_owned(), |n| format!("line {}", n + 1));
            format!(
                ".env: {which} cannot be parsed (at character {}); it is not shown, as it may hold a secret",
                index + 1
            )
        }
        other => format!(".env: {other}"),
    }
}

/// What `haste lint` needs from configuration.
pub struct LintSettings {
    pub dir: PathBuf,
    pub config: haste_lint::Config,
    /// `pg_version` from haste.toml, when set.
    pub pg_version: Option<u32>,
}

/// Lint settings: flags over `[lint]` in haste.toml over built-ins. `rule_flags` are
/// `id=severity` pairs.
pub fn lint_settings(
    dir: Option<&Path>,
    config: Option<&Path>,
    rule_flags: &[String],
) -> Result<LintSettings, ConfigError> {
    let file = load_file(config)?;
    let mut lint = haste_lint::Config::default();
    for group in &file.lint.groups {
        let group = match group.as_str() {
            "safety" => haste_lint::Group::Safety,
            "style" => haste_lint::Group::Style,
            other => {
                return Err(ConfigError(format!("[lint] groups: unknown group `{other}` (safety, style)")));
            }
        };
        for rule in haste_lint::rules::RULES
            .iter()
            .filter(|r| r.group() == group && r.default_severity() == haste_lint::Severity::Off)
        {
            lint.severities.insert(rule.id().to_owned(), haste_lint::Severity::Warn);
        }
    }
    let known = |id: &str| {
        haste_lint::rules::RULES.iter().any(|r| r.id() == id)
            || haste_lint::rules::BUILT_IN.iter().any(|(b, _)| *b == id)
    };
    let pairs = file.lint.rules.iter().map(|(id, severity)| (id.clone(), severity.clone())).chain(
        rule_flags.iter().map(|flag| {
            let (id, severity) = flag.split_once('=').unwrap_or((flag, ""));
            (id.to_owned(), severity.to_owned())
        }),
    );
    for (id, severity) in pairs {
        if !known(&id) {
            return Err(ConfigError(format!("unknown lint rule `{id}`")));
        }
        let severity = haste_lint::Severity::parse(&severity).ok_or_else(|| {
            ConfigError(format!("rule {id}: severity must be error, warn or off, not `{severity}`"))
        })?;
        lint.severities.insert(id, severity);
    }
    lint.runner_statement_timeout = match &file.defaults.statement_timeout {
        Some(text) => {
            parse_duration(text).map_err(|e| ConfigError(format!("statement timeout: {e}")))? > Duration::ZERO
        }
        None => false,
    };
    lint.runner_lock_timeout = match &file.defaults.lock_timeout {
        Some(text) => {
            parse_duration(text).map_err(|e| ConfigError(format!("lock timeout: {e}")))? > Duration::ZERO
        }
        None => true,
    };
    let dir = dir.map(Path::to_owned).or(file.migrations_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    Ok(LintSettings { dir, config: lint, pg_version: file.lint.pg_version })
}

/// The migrations folder for commands that need no database.
pub fn migrations_dir(dir: Option<&Path>, config: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let file = load_file(config)?;
    Ok(dir.map(Path::to_owned).or(file.migrations_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DIR)))
}

pub fn resolve(common: &Common, run: Option<&RunOptions>) -> Result<Resolved, ConfigError> {
    if !common.no_dotenv {
        // A missing .env is normal; a malformed one is worth saying.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            return Err(ConfigError(dotenv_error(&error)));
        }
    }
    let file = load_file(common.config.as_deref())?;
    let raw_url = common
        .url
        .clone()
        .map(Ok)
        .or_else(|| file.url.as_deref().map(interpolate))
        .or_else(|| std::env::var("DATABASE_URL").ok().map(Ok))
        .transpose()?
        .ok_or_else(|| {
            ConfigError(
                "no database URL: pass --url, set DATABASE_URL (or put it in .env), or set url in haste.toml"
                    .into(),
            )
        })?;
    let url = DatabaseUrl::parse(&raw_url).map_err(|error| ConfigError(error.to_string()))?;
    let dir = common.dir.clone().or(file.migrations_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));

    let duration =
        |flag: Option<&String>, file: Option<&String>, default: Option<Duration>, what: &str| match flag
            .or(file)
        {
            Some(text) => {
                parse_duration(text).map(Some).map_err(|error| ConfigError(format!("{what}: {error}")))
            }
            None => Ok(default),
        };
    let run_flag = |get: fn(&RunOptions) -> Option<&String>| run.and_then(get);
    let lock_wait = duration(
        run_flag(|r| r.lock_wait.as_ref()),
        file.lock.wait.as_ref(),
        Some(DEFAULT_LOCK_WAIT),
        "lock wait",
    )?
    .unwrap_or(DEFAULT_LOCK_WAIT);
    let lock_timeout = duration(
        run_flag(|r| r.lock_timeout.as_ref()),
        file.defaults.lock_timeout.as_ref(),
        Some(DEFAULT_LOCK_TIMEOUT),
        "lock timeout",
    )?;
    let statement_timeout = duration(
        run_flag(|r| r.statement_timeout.as_ref()),
        file.defaults.statement_timeout.as_ref(),
        None,
        "statement timeout",
    )?;
    let lock_deadline = duration(
        run_flag(|r| r.lock_deadline.as_ref()),
        file.defaults.lock_deadline.as_ref(),
        Some(DEFAULT_LOCK_DEADLINE),
        "lock deadline",
    )?
    .unwrap_or(DEFAULT_LOCK_DEADLINE);
    let retries = run.and_then(|r| r.retries).or(file.defaults.retries);
    let history_schema = common.history_schema.clone().or(file.history_schema);
    let environment =
        match common.environment.clone().or_else(|| std::env::var("HASTE_ENV").ok()).or(file.environment) {
            Some(name) => match name.to_ascii_lowercase().as_str() {
                "development" | "dev" => Environment::Development,
                "production" | "prod" => Environment::Production,
                _ => Environment::Other(name),
            },
            None if is_local(&url) => Environment::Development,
            None => Environment::Other("unnamed (remote server)".into()),
        };
    let seed = file.seed.or_else(|| {
        let beside = dir.parent().unwrap_or(Path::new(".")).join("seed.sql");
        beside.exists().then_some(beside)
    });
    let settings = Settings {
        lock_wait,
        limits: Limits { lock_timeout, statement_timeout },
        lock_deadline,
        retries,
        allow_out_of_order: run.is_some_and(|r| r.allow_out_of_order),
        max_rate: run.and_then(|r| r.max_rate),
        ..settings_for(&url, history_schema)
    };
    let shadow_url = file.shadow_url.as_deref().map(interpolate).transpose()?;
    Ok(Resolved {
        url,
        dir,
        settings,
        environment,
        seed,
        seed_command: file.seed_command,
        schema: file.schema,
        shadow_url,
    })
}

/// Built-in settings for a database, with the history in `history_schema` (default: the
/// URL's `schema` parameter, as Prisma keeps `_prisma_migrations` there, else `public`; SQLite
/// has no schemas).
pub fn settings_for(url: &DatabaseUrl, history_schema: Option<String>) -> Settings {
    let history = HistoryTables {
        schema: match url.scheme() {
            haste_driver::Scheme::Postgres => {
                Some(history_schema.or_else(|| url.param("schema")).unwrap_or_else(|| "public".into()))
            }
            haste_driver::Scheme::Sqlite => None,
        },
    };
    Settings::new(history, new_run_id())
}

/// Whether the database is on this machine: a SQLite file, or a PostgreSQL server every host
/// of which is local, as `haste_postgres::is_local_target` reads the connection string.
fn is_local(url: &DatabaseUrl) -> bool {
    match url.scheme() {
        haste_driver::Scheme::Sqlite => true,
        haste_driver::Scheme::Postgres => haste_postgres::is_local_target(url),
    }
}

/// Replaces `${VAR}` and `${VAR:-default}` with the environment's values.
fn interpolate(text: &str) -> Result<String, ConfigError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        // Errors never quote the value: it is usually a connection string.
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| ConfigError("haste.toml: a `${` is not closed by `}`".into()))?;
        let inner = &rest[start + 2..start + end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError(
                "haste.toml: `${...}` must hold a variable name (${VAR} or ${VAR:-default})".into(),
            ));
        }
        match (std::env::var(name), default) {
            (Ok(value), _) if !value.is_empty() => out.push_str(&value),
            (_, Some(default)) => out.push_str(default),
            _ => {
                return Err(ConfigError(format!(
                    "environment variable {name} is not set (used in haste.toml)"
                )));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn new_run_id() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{:x}-{:x}", nanos, std::process::id())
}
