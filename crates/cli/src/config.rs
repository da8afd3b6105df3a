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
    exact_prisma: bool,
    #[serde(default)]
    owners: bool,
    #[serde(default)]
    lock: LockSection,
    #[serde(default)]
    defaults: DefaultsSection,
    #[serde(default)]
    lint: LintSection,
    /// `[environments.<name>]`: what differs in each environment.
    #[serde(default)]
    environments: std::collections::BTreeMap<String, EnvironmentSection>,
    /// `[fleet]`: the targets of `--fleet`.
    fleet: Option<FleetSection>,
}

/// `[fleet]`: the databases (or schemas) `--fleet` deploys to, listed or queried.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetSection {
    /// Database URLs and `env:NAME`, as in a targets file.
    #[serde(default)]
    targets: Vec<String>,
    /// A query run on the url that returns a target per row (first column): a database URL,
    /// or a schema name of the url's database.
    targets_query: Option<String>,
    /// A shell command whose standard output lists the targets, one per line, as a targets
    /// file does.
    targets_command: Option<String>,
    /// Targets handled at the same time.
    jobs: Option<usize>,
}

/// One `[environments.<name>]` section: its values replace the file's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentSection {
    url: Option<String>,
    shadow_url: Option<String>,
    migrations_dir: Option<PathBuf>,
    history_schema: Option<String>,
    /// Whether the production guards apply (default: when the name is `production` or `prod`).
    production: Option<bool>,
    /// Deploy only migrations this other environment has applied with the same file.
    promote_from: Option<String>,
    /// `migrate deploy` verifies the schema afterwards.
    #[serde(default)]
    verify: bool,
    /// When deploys may start: `Sat 02:00-05:00 Europe/Berlin`.
    window: Option<String>,
    /// Every deploy backs the database up first, to this file (`{timestamp}` is replaced).
    backup: Option<PathBuf>,
    /// Every deploy lints the pending migrations first and applies nothing on an error.
    #[serde(default)]
    lint: bool,
    #[serde(default)]
    lock: LockSection,
    #[serde(default)]
    defaults: DefaultsSection,
}

impl ConfigFile {
    /// The file as environment `name` sees it: its section's values over the file's own. A
    /// name the file has no section for is refused when the file has sections at all (a typo
    /// must not deploy with the defaults); `production` says whether its section marks it so.
    fn for_environment(mut self, name: Option<&str>) -> Result<(ConfigFile, EnvironmentRules), ConfigError> {
        let Some(name) = name else { return Ok((self, EnvironmentRules::default())) };
        let Some(section) = self.environments.remove(name) else {
            if self.environments.is_empty() {
                return Ok((self, EnvironmentRules::default()));
            }
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            return Err(ConfigError(format!(
                "unknown environment `{}`: haste.toml has [environments.{}]",
                shown(name),
                known.join("], [environments.")
            )));
        };
        self.url = section.url.or(self.url);
        self.shadow_url = section.shadow_url.or(self.shadow_url);
        self.migrations_dir = section.migrations_dir.or(self.migrations_dir);
        self.history_schema = section.history_schema.or(self.history_schema);
        self.lock.wait = section.lock.wait.or(self.lock.wait);
        let (own, theirs) = (&mut self.defaults, section.defaults);
        own.lock_timeout = theirs.lock_timeout.or(own.lock_timeout);
        own.lock_deadline = theirs.lock_deadline.or(own.lock_deadline);
        own.statement_timeout = theirs.statement_timeout.or(own.statement_timeout);
        own.retries = theirs.retries.or(own.retries);
        let promote_from = match section.promote_from {
            Some(from) => Some(self.source_environment(name, from)?),
            None => None,
        };
        let window = section
            .window
            .map(|text| {
                haste_runner::DeployWindow::parse(&text).map_err(|error| {
                    ConfigError(shown_in(&format!("[environments.{name}] window: {error}"), &text))
                })
            })
            .transpose()?;
        Ok((
            self,
            EnvironmentRules {
                production: section.production,
                promote_from,
                verify: section.verify,
                window,
                backup: section.backup,
                lint: section.lint,
            },
        ))
    }

    /// The environment `from` that environment `name` is promoted from, with its URL.
    fn source_environment(&self, name: &str, from: String) -> Result<SourceEnvironment, ConfigError> {
        if from == name {
            return Err(ConfigError(format!(
                "[environments.{name}] promote_from names its own section: an environment is promoted from another one (staging, say)"
            )));
        }
        let section = self.environments.get(&from).ok_or_else(|| {
            ConfigError(format!(
                "[environments.{name}] promote_from: no [environments.{}] in haste.toml",
                shown(&from)
            ))
        })?;
        // Followed from `from`: a chain that comes back would make every new migration wait for
        // an environment that waits for this one.
        let mut chain = vec![name.to_owned(), from.clone()];
        let mut next = section.promote_from.as_deref();
        while let Some(step) = next {
            chain.push(step.to_owned());
            if chain[..chain.len() - 1].iter().any(|seen| seen == step) {
                return Err(ConfigError(format!(
                    "promote_from goes in a circle ({}): one environment must take migrations first",
                    chain.iter().map(|env| shown(env)).collect::<Vec<_>>().join(" <- ")
                )));
            }
            next = self.environments.get(step).and_then(|section| section.promote_from.as_deref());
        }
        let raw = section.url.as_deref().ok_or_else(|| {
            ConfigError(format!(
                "[environments.{from}] has no url, which promote_from in [environments.{name}] needs"
            ))
        })?;
        let url = DatabaseUrl::parse(&interpolate(raw)?)
            .map_err(|error| ConfigError(format!("[environments.{from}] url: {error}")))?;
        let history_schema = section.history_schema.clone().or_else(|| self.history_schema.clone());
        Ok(SourceEnvironment { name: from, url, history_schema })
    }
}

impl EnvironmentSection {
    /// The first guard this section sets that runs around a deploy (`promote_from`, `backup`,
    /// `lint`, `verify`, `window`): a fleet applies those of the selected environment to every
    /// target, so an `env:NAME` target's own would be a second, conflicting set.
    fn per_database_guard(&self) -> Option<&'static str> {
        first_set(&[
            ("promote_from", self.promote_from.is_some()),
            ("backup", self.backup.is_some()),
            ("lint", self.lint),
            ("verify", self.verify),
            ("window", self.window.is_some()),
        ])
    }
}

/// The first key of `keys` that is set.
fn first_set(keys: &[(&'static str, bool)]) -> Option<&'static str> {
    keys.iter().find_map(|(key, set)| set.then_some(*key))
}

/// What an environment's section says beyond its values.
#[derive(Default)]
struct EnvironmentRules {
    /// `production = ...`, when given.
    production: Option<bool>,
    promote_from: Option<SourceEnvironment>,
    verify: bool,
    window: Option<haste_runner::DeployWindow>,
    backup: Option<PathBuf>,
    lint: bool,
}

/// The environment migrations are promoted from (`promote_from`).
pub struct SourceEnvironment {
    pub name: String,
    pub url: DatabaseUrl,
    pub history_schema: Option<String>,
}

/// The environment named by the flag, else `HASTE_ENV`, else `environment` in haste.toml, and
/// where the name came from.
fn environment_name(flag: Option<&str>, file: &ConfigFile) -> Option<(String, &'static str)> {
    flag.map(|name| (name.to_owned(), "--env"))
        .or_else(|| std::env::var("HASTE_ENV").ok().map(|name| (name, "HASTE_ENV")))
        .or_else(|| file.environment.clone().map(|name| (name, "haste.toml")))
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
    wait: Option<ConfigDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsSection {
    lock_timeout: Option<ConfigDuration>,
    lock_deadline: Option<ConfigDuration>,
    statement_timeout: Option<ConfigDuration>,
    retries: Option<u32>,
}

/// A duration in haste.toml, read by haste's one duration parser while the file is parsed, so a
/// bad value is reported with the file, line and column of the key.
#[derive(Debug, Clone, Copy)]
struct ConfigDuration(Duration);

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .map(ConfigDuration)
            .map_err(|error| serde::de::Error::custom(shown_in(&error.to_string(), &text)))
    }
}

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

/// Everything a database command needs.
pub struct Resolved {
    pub url: DatabaseUrl,
    pub dir: Folder,
    pub settings: Settings,
    pub environment: Environment,
    /// A SQL file run after `reset`: `seed` in haste.toml, else `seed.sql` beside the folder.
    pub seed: Option<PathBuf>,
    /// A command run after `reset` (and after the seed file), with DATABASE_URL set.
    pub seed_command: Option<String>,
    /// The desired schema for `migrate dev`, from haste.toml.
    pub schema: Option<PathBuf>,
    /// Where `url` comes from: `--url`, `haste.toml`, the Prisma schema's `directUrl` or `url`
    /// (`prisma/schema.prisma:4 directUrl, env DIRECT_URL`), `DATABASE_URL`.
    pub url_source: String,
    /// The server for shadow databases, from haste.toml or the Prisma schema's
    /// `shadowDatabaseUrl`.
    pub shadow_url: Option<String>,
    /// Where `shadow_url` comes from.
    pub shadow_url_source: Option<String>,
    /// `migrate dev` with a Prisma schema writes Prisma's exact statements.
    pub exact_prisma: bool,
    /// The environment's name as given and where it came from (`--env`, `HASTE_ENV`,
    /// `haste.toml`); `None` when it was judged from the URL.
    pub environment_named: Option<(String, &'static str)>,
    /// `promote_from`: the environment whose history decides what may be deployed here.
    pub promote_from: Option<SourceEnvironment>,
    /// `verify = true`: `migrate deploy` checks the schema afterwards.
    pub verify: bool,
    /// When deploys may start.
    pub window: Option<haste_runner::DeployWindow>,
    /// `backup = "..."`: the file every deploy backs up to first (`{timestamp}` replaced).
    pub backup: Option<PathBuf>,
    /// `lint = true`: every deploy lints the pending migrations first.
    pub lint: bool,
}

fn load_file(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if Path::new(CONFIG_FILE).exists() => PathBuf::from(CONFIG_FILE),
        None => return Ok(ConfigFile::default()),
    };
    // A path may be a connection string pasted in the wrong place: never shown with its password.
    let text = std::fs::read_to_string(&path)
        .map_err(|error| ConfigError(shown(&format!("cannot read {}: {error}", path.display()))))?;
    // toml's own message quotes the line, which may hold a password: say where, and what.
    parse_file(&text).map_err(|error| {
        let place = error.span().map_or_else(String::new, |span| {
            let (line, column) = haste_sql::LineIndex::new(&text).line_col(span.start);
            format!(":{line}:{column}")
        });
        // A key is quoted back too (`unknown field ...`): connection strings in the message masked.
        ConfigError(format!("{}{place}: {}", path.display(), shown(&without_quoted_value(error.message()))))
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

/// `value` as a message may quote it: every connection string in it with its password masked
/// (as [`DatabaseUrl::redacted`] shows it), since any value of haste.toml may be a pasted URL.
fn shown(value: &str) -> String {
    shown_in(value, value)
}

/// `message`, which may quote `value` or part of it, with the password of every connection
/// string in `value` (the whole, or a word of it) masked.
pub fn shown_in(message: &str, value: &str) -> String {
    std::iter::once(value)
        .chain(value.split_whitespace().map(|word| word.trim_matches(|c: char| "`\"',;()[]{}".contains(c))))
        .filter_map(|text| DatabaseUrl::parse(text).ok().map(|url| (text, url)))
        .fold(message.to_owned(), |message, (text, url)| {
            url.scrub(&message.replace(text.trim(), &url.redacted()))
        })
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

/// The text of a haste.toml, checked: unknown keys, wrong types and bad durations are errors.
fn parse_file(text: &str) -> Result<ConfigFile, toml::de::Error> {
    toml::from_str(text)
}

/// The migrations folder: the flag, else `migrations_dir` in haste.toml, else where Prisma keeps
/// it for the project's Prisma schema (`--schema`, haste.toml's, or Prisma's lookup):
/// `migrations` beside a schema file, inside a schema folder; else ./migrations. `named` says whether someone chose it: a
/// folder nobody named may not exist yet (`migrate dev` creates it, `lint` of given files needs
/// no history), a named one must.
pub struct Folder {
    pub path: PathBuf,
    pub named: bool,
}

fn folder(flag: Option<&Path>, schema: Option<&Path>, file: &ConfigFile) -> Folder {
    if let Some(path) = flag.map(Path::to_owned).or_else(|| file.migrations_dir.clone()) {
        return Folder { path, named: true };
    }
    let beside_schema = prisma_schema(schema, file.schema.as_deref()).map(|schema| {
        let home = if schema.is_dir() { schema.as_path() } else { schema.parent().unwrap_or(Path::new("")) };
        home.join(DEFAULT_DIR)
    });
    // A project that kept ./migrations beside a Prisma schema before haste looked for Prisma's
    // folder keeps it.
    let path = beside_schema
        .filter(|beside| beside.is_dir() || !Path::new(DEFAULT_DIR).is_dir())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    Folder { path, named: false }
}

/// The project's Prisma schema: the `--schema` flag, else `schema` in haste.toml, else
/// `prisma/schema.prisma` or `schema.prisma` (Prisma's own lookup), when it is one.
fn prisma_schema(flag: Option<&Path>, file: Option<&Path>) -> Option<PathBuf> {
    let is_prisma = |path: &Path| path.exists() && haste_dev::is_prisma(&path.to_string_lossy());
    match flag.or(file) {
        Some(named) => Some(named.to_owned()).filter(|path| is_prisma(path)),
        None => {
            ["prisma/schema.prisma", "schema.prisma"].into_iter().map(PathBuf::from).find(|p| is_prisma(p))
        }
    }
}

/// What `haste lint` needs from configuration.
pub struct LintSettings {
    pub dir: Folder,
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
    let named = environment_name(None, &file);
    let (file, _) = file.for_environment(named.as_ref().map(|(name, _)| name.as_str()))?;
    let mut lint = haste_lint::Config::default();
    for group in &file.lint.groups {
        let group = match group.as_str() {
            "safety" => haste_lint::Group::Safety,
            "style" => haste_lint::Group::Style,
            other => {
                return Err(ConfigError(format!(
                    "[lint] groups: unknown group `{}` (safety, style)",
                    shown(other)
                )));
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
            return Err(ConfigError(format!("unknown lint rule `{}`", shown(&id))));
        }
        let severity = haste_lint::Severity::parse(&severity).ok_or_else(|| {
            ConfigError(format!("rule {id}: severity must be error, warn or off, not `{}`", shown(&severity)))
        })?;
        lint.severities.insert(id, severity);
    }
    lint.runner_statement_timeout = file.defaults.statement_timeout.is_some_and(|t| t.0 > Duration::ZERO);
    lint.runner_lock_timeout = file.defaults.lock_timeout.is_none_or(|t| t.0 > Duration::ZERO);
    Ok(LintSettings { dir: folder(dir, None, &file), config: lint, pg_version: file.lint.pg_version })
}

/// The migrations folder for commands that need no database.
pub fn migrations_dir(dir: Option<&Path>, config: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let file = load_file(config)?;
    let named = environment_name(None, &file);
    let (file, _) = file.for_environment(named.as_ref().map(|(name, _)| name.as_str()))?;
    Ok(folder(dir, None, &file).path)
}

/// `.env` read (unless `--no-dotenv`), then haste.toml.
fn load(common: &Common) -> Result<ConfigFile, ConfigError> {
    if !common.no_dotenv {
        // A missing .env is normal; a malformed one is worth saying.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            return Err(ConfigError(dotenv_error(&error)));
        }
    }
    load_file(common.config.as_deref())
}

/// The Prisma schema whose datasource gives the URLs flags and haste.toml leave unset: the
/// `--schema` flag, else `schema` in haste.toml, else `prisma/schema.prisma` or `schema.prisma`,
/// when it is a Prisma schema. Read once, when first asked.
struct PrismaDatasource {
    path: Option<PathBuf>,
    urls: Option<Vec<haste_dev::DatasourceUrl>>,
}

impl PrismaDatasource {
    fn new(flag: Option<&Path>, file: Option<&Path>) -> PrismaDatasource {
        PrismaDatasource { path: prisma_schema(flag, file), urls: None }
    }

    /// The connection string `property` gives, with where it comes from (`prisma/schema.prisma:4
    /// directUrl`); an `env("NAME")` whose variable is not set is an error when `required`
    /// (Prisma stops there too), else unset.
    fn url(&mut self, property: &str, required: bool) -> Result<Option<(String, String)>, ConfigError> {
        let Some(path) = &self.path else { return Ok(None) };
        if self.urls.is_none() {
            let urls = haste_dev::prisma_datasource(path).map_err(|error| match error {
                haste_dev::Error::Prisma(rendered) => ConfigError(without_level(&rendered).to_owned()),
                other => ConfigError(other.to_string()),
            })?;
            self.urls = Some(urls);
        }
        let Some(found) = self.urls.iter().flatten().find(|url| url.property == property) else {
            return Ok(None);
        };
        let source = format!("{} {property}", found.place);
        let beside = |text: String| sqlite_beside(&text, Path::new(&found.file)).unwrap_or(text);
        match &found.value {
            haste_dev::UrlValue::Literal(text) => Ok(Some((beside(text.clone()), source))),
            haste_dev::UrlValue::Env(name) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Some((beside(value), format!("{source}, env {name}")))),
                _ if required => Err(ConfigError(format!(
                    "{source} reads the environment variable {name}, which is not set (set it, or pass --url)"
                ))),
                _ => Ok(None),
            },
        }
    }
}

/// A SQLite `file:` URL with a relative path, read from the Prisma schema `schema_file`: Prisma
/// takes the path from the schema file's folder (`file:./dev.db` in prisma/schema.prisma is
/// prisma/dev.db), so haste does too. `None` for any other URL.
fn sqlite_beside(url: &str, schema_file: &Path) -> Option<String> {
    let scheme = url.get(..5).filter(|scheme| scheme.eq_ignore_ascii_case("file:"))?;
    let path = &url[5..];
    let relative = !path.is_empty() && !path.starts_with('/') && !path.starts_with(":memory:");
    let folder = schema_file.parent().filter(|folder| !folder.as_os_str().is_empty())?;
    relative.then(|| format!("{scheme}{}", folder.join(path).display()))
}

/// The database URL and where it comes from: the flag, else `url` in haste.toml (its
/// environment's section), else the Prisma schema's `directUrl` (Prisma Migrate connects through
/// it), else its `url`, else DATABASE_URL; `None` when none is set.
fn main_url(
    common: &Common,
    file: &ConfigFile,
    prisma: &mut PrismaDatasource,
) -> Result<Option<(DatabaseUrl, String)>, ConfigError> {
    let raw = match (&common.url, &file.url) {
        (Some(flag), _) => Some((flag.clone(), "--url".to_owned())),
        (None, Some(text)) => Some((interpolate(text)?, "haste.toml".to_owned())),
        (None, None) => match prisma.url("directUrl", true)? {
            Some(found) => Some(found),
            None => match prisma.url("url", false)? {
                Some(found) => Some(found),
                None => std::env::var("DATABASE_URL").ok().map(|url| (url, "DATABASE_URL".to_owned())),
            },
        },
    };
    raw.map(|(text, source)| {
        DatabaseUrl::parse(&text)
            .map(|url| (url, source.clone()))
            .map_err(|error| ConfigError(format!("{source}: {error}")))
    })
    .transpose()
}

/// Everything a database command needs; the Prisma schema's datasource read from `schema`
/// (`--schema`) when it is one.
pub fn resolve(
    common: &Common,
    run: Option<&RunOptions>,
    schema: Option<&Path>,
) -> Result<Resolved, ConfigError> {
    let file = load(common)?;
    let named = environment_name(common.environment.as_deref(), &file);
    let (file, rules) = file.for_environment(named.as_ref().map(|(name, _)| name.as_str()))?;
    let mut prisma = PrismaDatasource::new(schema, file.schema.as_deref());
    let (url, url_source) = main_url(common, &file, &mut prisma)?.ok_or_else(|| {
        ConfigError(
            "no database URL: pass --url, set DATABASE_URL (or put it in .env), set url in haste.toml, or directUrl or url in the Prisma schema's datasource"
                .into(),
        )
    })?;
    let dir = folder(common.dir.as_deref(), schema, &file);
    let history_schema = common.history_schema.clone().or_else(|| file.history_schema.clone());
    let mut settings = run_settings(run, &file, settings_for(&url, history_schema))?;
    settings.owners = common.owners || file.owners;
    let environment = match (named.as_ref(), rules.production) {
        (_, Some(true)) => Environment::Production,
        (Some((name, _)), marked) => match name.to_ascii_lowercase().as_str() {
            "production" | "prod" if marked.is_none() => Environment::Production,
            "development" | "dev" => Environment::Development,
            _ => Environment::Other(name.clone()),
        },
        (None, _) if is_local(&url) => Environment::Development,
        (None, _) => Environment::Other("unnamed (remote server)".into()),
    };
    let seed = file.seed.or_else(|| {
        let beside = dir.path.parent().unwrap_or(Path::new(".")).join("seed.sql");
        beside.exists().then_some(beside)
    });
    // The shadow server: haste.toml, else the Prisma schema's shadowDatabaseUrl (`--shadow-url`
    // is the commands' own and wins over both).
    let shadow = match file.shadow_url.as_deref() {
        Some(text) => Some((interpolate(text)?, "haste.toml".to_owned())),
        None => prisma.url("shadowDatabaseUrl", false)?,
    };
    let (shadow_url, shadow_url_source) = shadow.unzip();
    Ok(Resolved {
        url,
        url_source,
        shadow_url_source,
        dir,
        settings,
        environment,
        seed,
        seed_command: file.seed_command,
        schema: file.schema,
        shadow_url,
        exact_prisma: file.exact_prisma,
        environment_named: named,
        promote_from: rules.promote_from,
        verify: rules.verify,
        window: rules.window,
        backup: rules.backup,
        lint: rules.lint,
    })
}

/// `base` with the run options: flags over haste.toml over built-ins.
fn run_settings(
    run: Option<&RunOptions>,
    file: &ConfigFile,
    base: Settings,
) -> Result<Settings, ConfigError> {
    // A flag's value is parsed here rather than by clap, so a bad one is reported in the
    // output format asked for (JSON too), naming the flag.
    let flag = |get: fn(&RunOptions) -> Option<&String>, name: &str| {
        run.and_then(get)
            .map(|text| {
                parse_duration(text)
                    .map_err(|error| ConfigError(shown_in(&format!("--{name}: {error}"), text)))
            })
            .transpose()
    };
    let lock_wait = flag(|r| r.lock_wait.as_ref(), "lock-wait")?
        .or(file.lock.wait.map(|d| d.0))
        .unwrap_or(DEFAULT_LOCK_WAIT);
    let lock_timeout = flag(|r| r.lock_timeout.as_ref(), "lock-timeout")?
        .or(file.defaults.lock_timeout.map(|d| d.0))
        .or(Some(DEFAULT_LOCK_TIMEOUT));
    let statement_timeout = flag(|r| r.statement_timeout.as_ref(), "statement-timeout")?
        .or(file.defaults.statement_timeout.map(|d| d.0));
    let lock_deadline = flag(|r| r.lock_deadline.as_ref(), "lock-deadline")?
        .or(file.defaults.lock_deadline.map(|d| d.0))
        .unwrap_or(DEFAULT_LOCK_DEADLINE);
    let retries = run.and_then(|r| r.retries).or(file.defaults.retries);
    Ok(Settings {
        lock_wait,
        limits: Limits { lock_timeout, statement_timeout },
        lock_deadline,
        retries,
        allow_out_of_order: run.is_some_and(|r| r.allow_out_of_order),
        max_rate: run.and_then(|r| r.max_rate),
        ..base
    })
}

/// Targets handled at the same time when neither `--jobs` nor `[fleet] jobs` says.
const DEFAULT_JOBS: usize = 4;

/// What a fleet command needs: the folder, the targets with their settings, how many at once.
pub struct FleetConfig {
    pub dir: Folder,
    pub targets: FleetTargets,
    /// How the targets a query returns are made.
    pub template: TargetTemplate,
    pub jobs: usize,
    /// The server for shadow databases (`verify`, `status --drift`), from haste.toml.
    pub shadow_url: Option<String>,
    /// The selected environment's guards, applied to the fleet as to a single deploy.
    pub guards: FleetGuards,
}

/// The guards of the environment a fleet runs in (`--env`): what they mean for one database,
/// applied to every target.
pub struct FleetGuards {
    /// When deploys may start.
    pub window: Option<haste_runner::DeployWindow>,
    /// Deploy only what this environment applied (checked once for the fleet).
    pub promote_from: Option<SourceEnvironment>,
    /// Every target backs up first, to a file of its own made from this one.
    pub backup: Option<PathBuf>,
    /// Lint what any target lacks, once, before any target runs.
    pub lint: bool,
    /// Every target is verified after it deployed.
    pub verify: bool,
}

/// Where a fleet's targets come from.
pub enum FleetTargets {
    /// Listed (a targets file, `[fleet] targets`).
    Listed(Vec<haste_runner::Target>),
    /// To be read by running `query` on `url`; each row becomes a target (`FleetConfig::template`).
    Query { url: DatabaseUrl, query: String },
}

/// How a target's settings are made from its URL: the fleet's run options and run id, the
/// history in the URL's schema.
pub struct TargetTemplate {
    base: Settings,
    history_schema: Option<String>,
}

impl TargetTemplate {
    /// The target at `url`, named `name` (its URL with the password hidden when `None`).
    pub fn target(
        &self,
        name: Option<String>,
        url: DatabaseUrl,
        history_schema: Option<String>,
    ) -> haste_runner::Target {
        let history = settings_for(&url, history_schema.or_else(|| self.history_schema.clone())).history;
        haste_runner::Target {
            name: name.unwrap_or_else(|| url.to_string()),
            url,
            settings: Settings { history, ..self.base.clone() },
        }
    }
}

/// A fleet's configuration: `--targets FILE` (or `-`), or `--fleet` and `[fleet]` in haste.toml.
/// Every target is checked here (URL syntax, `env:NAME` sections, duplicates), before anything
/// connects; nothing of a target line is ever quoted in an error, as it may hold a password.
pub fn resolve_fleet(
    common: &Common,
    run: Option<&RunOptions>,
    fleet: &crate::args::FleetTargets,
) -> Result<FleetConfig, ConfigError> {
    if fleet.targets.is_some() && common.url.is_some() {
        return Err(ConfigError("--url is not used with --targets: the file names every target".into()));
    }
    let raw = load(common)?;
    let named = environment_name(common.environment.as_deref(), &raw);
    let entries: Vec<(String, String)> = match &fleet.targets {
        Some(path) => targets_file(path)?,
        None => match &raw.fleet {
            Some(section)
                if [
                    !section.targets.is_empty(),
                    section.targets_query.is_some(),
                    section.targets_command.is_some(),
                ]
                .into_iter()
                .filter(|set| *set)
                .count()
                    > 1 =>
            {
                return Err(ConfigError(
                    "[fleet]: set one of targets, targets_query and targets_command".into(),
                ));
            }
            Some(FleetSection { targets_command: Some(command), .. }) => run_targets_command(command)?,
            Some(section) => section
                .targets
                .iter()
                .enumerate()
                .map(|(i, line)| (format!("[fleet] targets, item {}", i + 1), line.clone()))
                .collect(),
            None => return Err(ConfigError("--fleet: haste.toml has no [fleet] section".into())),
        },
    };
    let query = raw.fleet.as_ref().and_then(|f| f.targets_query.clone()).filter(|_| fleet.targets.is_none());
    let jobs = fleet.jobs.or(raw.fleet.as_ref().and_then(|f| f.jobs)).unwrap_or(DEFAULT_JOBS);
    if jobs == 0 {
        return Err(ConfigError("--jobs must be at least 1".into()));
    }
    let mut listed = Vec::with_capacity(entries.len());
    for (place, line) in &entries {
        listed.push(target_entry(&raw, place, line)?);
    }
    let (file, rules) = raw.for_environment(named.as_ref().map(|(name, _)| name.as_str()))?;
    // One run id for the whole fleet; each target's history comes from its own URL.
    let mut base = run_settings(run, &file, Settings::new(HistoryTables { schema: None }, new_run_id()))?;
    base.owners = common.owners || file.owners;
    let template = TargetTemplate {
        base,
        history_schema: common.history_schema.clone().or_else(|| file.history_schema.clone()),
    };
    let targets = match query {
        Some(query) => {
            let mut prisma = PrismaDatasource::new(None, file.schema.as_deref());
            let (url, _) = main_url(common, &file, &mut prisma)?.ok_or_else(|| {
                ConfigError(
                    "[fleet] targets_query needs a database URL to run on (--url, url, DATABASE_URL)".into(),
                )
            })?;
            FleetTargets::Query { url, query }
        }
        None => {
            let targets: Vec<haste_runner::Target> = listed
                .into_iter()
                .map(|entry| template.target(entry.name, entry.url, entry.history_schema))
                .collect();
            let places: Vec<String> = entries.into_iter().map(|(place, _)| place).collect();
            check_distinct(&targets, &places)?;
            FleetTargets::Listed(targets)
        }
    };
    Ok(FleetConfig {
        dir: folder(common.dir.as_deref(), None, &file),
        targets,
        template,
        jobs,
        shadow_url: file.shadow_url.as_deref().map(interpolate).transpose()?,
        guards: FleetGuards {
            window: rules.window,
            promote_from: rules.promote_from,
            backup: rules.backup,
            lint: rules.lint,
            verify: rules.verify,
        },
    })
}

/// Refuses a target the driver cannot read (before any other runs) and two targets with the
/// same database and history, however their URLs are spelled: they would share one lock and
/// one history, so the second would only wait for the first. `places` says where each target
/// was listed.
pub fn check_distinct(targets: &[haste_runner::Target], places: &[String]) -> Result<(), ConfigError> {
    /// Where a target's history is: its database (as the driver reads it) and history schema.
    #[derive(PartialEq, Eq, Hash)]
    enum Place {
        Postgres(haste_postgres::DatabaseIdentity),
        Sqlite(String),
    }
    let mut seen = std::collections::HashMap::new();
    for (index, (target, place)) in targets.iter().zip(places).enumerate() {
        let database = match target.url.scheme() {
            haste_driver::Scheme::Postgres => Place::Postgres(
                haste_postgres::database_identity(&target.url)
                    .map_err(|error| ConfigError(format!("{place}: {}", target.url.scrub(&error))))?,
            ),
            haste_driver::Scheme::Sqlite => Place::Sqlite(target.url.redacted()),
        };
        if let Some(first) = seen.insert((database, target.settings.history.schema.clone()), index) {
            return Err(ConfigError(format!(
                "targets {} and {} are the same database and history schema ({})",
                first + 1,
                index + 1,
                target.name
            )));
        }
    }
    Ok(())
}

/// The lines of a targets file (`-`: standard input) that name a target, with their place.
fn targets_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let (text, shown) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|error| ConfigError(format!("cannot read the targets from standard input: {error}")))?;
        (text, "standard input".to_owned())
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError(shown(&format!("cannot read {}: {error}", path.display()))))?;
        (text, shown(&path.display().to_string()))
    };
    target_lines(&text, &shown)
}

/// The lines of `text` that name a target (blank ones and `#` comments skipped), each with its
/// place (`shown:line`); none is an error.
fn target_lines(text: &str, shown: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let entries: Vec<(String, String)> = text
        .lines()
        .enumerate()
        .map(|(number, line)| (format!("{shown}:{}", number + 1), line.trim().to_owned()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .collect();
    if entries.is_empty() {
        return Err(ConfigError(format!("{shown} lists no target")));
    }
    Ok(entries)
}

/// How long `targets_command` may run before it is killed.
const TARGETS_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `[fleet] targets_command` and reads its standard output as a targets file. It runs as
/// written, by `sh -c`, with nothing of haste's added to it; neither the command nor what it
/// writes to standard error is ever shown (either may hold a password), only how it ended.
fn run_targets_command(command: &str) -> Result<Vec<(String, String)>, ConfigError> {
    use std::io::Read;
    const SHOWN: &str = "[fleet] targets_command";
    let failed = |what: String| {
        ConfigError(format!(
            "{SHOWN} {what}; its standard error is not shown, as it may hold a secret: run it by hand to see it"
        ))
    };
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| ConfigError(format!("{SHOWN} cannot be started: {error}")))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    // Read while it runs: a command that prints much would otherwise block on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < TARGETS_COMMAND_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "did not finish within {} s and was stopped",
                    TARGETS_COMMAND_TIMEOUT.as_secs()
                )));
            }
            Err(error) => return Err(ConfigError(format!("{SHOWN}: {error}"))),
        }
    };
    if !status.success() {
        return Err(failed(format!("failed ({status})")));
    }
    let bytes = reader
        .join()
        .expect("reading a pipe does not panic")
        .map_err(|error| ConfigError(format!("{SHOWN}: cannot read its output: {error}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| ConfigError(format!("{SHOWN}: its output is not UTF-8")))?;
    target_lines(&text, SHOWN)
}

/// One target as written: `env:NAME` or a database URL.
struct TargetEntry {
    name: Option<String>,
    url: DatabaseUrl,
    history_schema: Option<String>,
}

fn target_entry(file: &ConfigFile, place: &str, line: &str) -> Result<TargetEntry, ConfigError> {
    if let Some(name) = line.strip_prefix("env:") {
        let section = file.environments.get(name).ok_or_else(|| {
            ConfigError(format!("{place}: no [environments.{}] in haste.toml", shown(name)))
        })?;
        let raw = section
            .url
            .as_deref()
            .ok_or_else(|| ConfigError(format!("{place}: [environments.{name}] has no url")))?;
        let url = DatabaseUrl::parse(&interpolate(raw)?)
            .map_err(|error| ConfigError(format!("{place}: [environments.{name}] url: {error}")))?;
        if let Some(guard) = section.per_database_guard() {
            return Err(ConfigError(format!(
                "{place}: [environments.{name}] sets `{guard}`; a fleet applies the guards of the environment it runs in (--env) to every target, so set it there"
            )));
        }
        return Ok(TargetEntry {
            name: Some(line.to_owned()),
            url,
            history_schema: section.history_schema.clone(),
        });
    }
    let url = DatabaseUrl::parse(line).map_err(|error| ConfigError(format!("{place}: {error}")))?;
    Ok(TargetEntry { name: None, url, history_schema: None })
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

/// Rendered Prisma diagnostics without the first one's `error: `: each diagnostic is rendered
/// with its own, and the first one's is the printer's.
pub(crate) fn without_level(rendered: &str) -> &str {
    rendered.strip_prefix("error: ").unwrap_or(rendered)
}

#[cfg(test)]
mod tests {
    //! haste.toml is only read by the binary, so its parser is fuzzed here: arbitrary text never
    //! panics it. The corpus (`tests/fuzz-corpus/config/*.toml`) is replayed first; then
    //! `HASTE_FUZZ_CASES` random cases (a short run by default).

    use super::*;
    use proptest::prelude::*;
    use proptest::sample::select;

    fn config(default_cases: u32) -> ProptestConfig {
        let cases =
            std::env::var("HASTE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    /// Pieces of haste.toml: every key and section, values of the right and wrong types,
    /// durations past the bounds, interpolations, multi-byte text.
    const TOKENS: &[&str] = &[
        "url",
        "migrations_dir",
        "history_schema",
        "environment",
        "seed",
        "seed_command",
        "schema",
        "shadow_url",
        "exact_prisma",
        "owners",
        "[environments.staging]",
        "[environments.production]",
        "production",
        "[lock]",
        "[defaults]",
        "[lint]",
        "wait",
        "lock_timeout",
        "statement_timeout",
        "retries",
        "pg_version",
        "groups",
        "rules",
        " = ",
        "=",
        "\n",
        " ",
        "\"",
        "'",
        "\"\"\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        "#",
        "0",
        "1",
        "-1",
        "2s",
        "500ms",
        "5min",
        "99999999999999999999999",
        "18446744073709551615s",
        "2147483648ms",
        "\"99999999999999999999999\"",
        "\"2147483647ms\"",
        "true",
        "1.5",
        "${",
        "${DATABASE_URL}",
        "${X:-y}",
        ":-",
        "é",
        "🦀",
        "\0",
        "\\",
        "\\u00e9",
        "sqlite:x.db",
        "postgres://u:p@localhost/db",
    ];

    fn toml_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            prop::collection::vec(select(TOKENS), 0..30).prop_map(|tokens| tokens.concat()),
        ]
    }

    fn check(text: &str) {
        if let Ok(file) = parse_file(text) {
            for duration in [file.lock.wait, file.defaults.lock_timeout, file.defaults.statement_timeout] {
                assert!(duration.is_none_or(|d| d.0 <= haste_migrations::MAX_DURATION));
            }
            for value in [&file.url, &file.shadow_url].into_iter().flatten() {
                if let Ok(url) = interpolate(value).map(|url| DatabaseUrl::parse(&url)) {
                    url.map(|url| is_local(&url)).ok();
                }
            }
        }
        let _ = interpolate(text);
    }

    #[test]
    fn durations_name_the_file_line_and_value() {
        let error =
            parse_file("[defaults]\nlock_timeout = \"99999999999999999999999\"\n").unwrap_err().to_string();
        assert!(error.contains("line 2") && error.contains("`99999999999999999999999` is longer"), "{error}");
        let error = parse_file("[lock]\nwait = \"18446744073709551615s\"\n").unwrap_err().to_string();
        assert!(error.contains("line 2") && error.contains("18446744073709551615s"), "{error}");
        assert_eq!(
            parse_file("[lock]\nwait = \"2147483647ms\"\n").unwrap().lock.wait.unwrap().0,
            haste_migrations::MAX_DURATION
        );
    }

    #[test]
    fn the_corpus_never_panics() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus/config");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&corpus).unwrap() {
            check(&String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()));
            replayed += 1;
        }
        assert!(replayed > 0);
    }

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn configuration_never_panics(text in toml_text()) {
            check(&text);
        }
    }
}
