//! The command line's words.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The version line: the package version and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("HASTE_COMMIT"), ")");

/// haste: schema migrations that are safe under load by default.
#[derive(Debug, Parser)]
#[command(
    name = "haste",
    version = VERSION,
    about = "Schema migrations for PostgreSQL and SQLite, safe under load by default",
    long_about = "Schema migrations for PostgreSQL and SQLite, safe under load by default.\n\n\
haste applies schema migrations the way a careful team would by hand: Prisma \
Migrate's workflow and folder layout, plans that keep the application running (concurrent index \
builds, constraints validated apart, type changes without table rewrites, a lock budget of about \
100 ms per attempt), a linter that knows the migration history, batched data migrations, and a \
state it understands after every failure.\n\n\
Start with `haste migrate dev` (write and apply a migration from schema.sql or schema.prisma), \
`haste migrate deploy` (apply pending migrations) and `haste migrate status`. Without a server, \
`--url sqlite:app.db` uses an embedded SQLite file.",
    after_help = "Exit codes: docs/exit-codes.md. JSON output (--format json): docs/json.md."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply, inspect, create, undo and repair migrations.
    #[command(subcommand)]
    Migrate(Migrate),
    /// Read, compare and draw schemas: `inspect` (summary, or the model with --format json),
    /// `dump` (DDL that recreates it), `diff` (the statements from one schema to another), `erd`
    /// (an entity-relationship diagram).
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Check migrations for statements that lock, rewrite, lose data or break running code.
    Lint {
        /// Files to check (default: every migration, or the pending ones with --url). Earlier
        /// migrations of the folder are replayed as history.
        files: Vec<PathBuf>,
        /// Migrations folder (default: `migrations_dir` from haste.toml, else ./migrations).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Configuration file (default: ./haste.toml when it exists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// A database to learn from: its server version, and which migrations are applied
        /// (only pending ones are checked; their new tables count as empty).
        #[arg(long)]
        url: Option<String>,
        /// Target PostgreSQL major version (default: from --url, then haste.toml, then 15).
        #[arg(long)]
        pg_version: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// Set a rule's severity: `--rule drop-column=warn` (error, warn, off); repeatable.
        #[arg(long, value_name = "ID=SEVERITY")]
        rule: Vec<String>,
    },
    /// Check connectivity, server, privileges, migrations, the lock and invalid indexes.
    Doctor {
        #[command(flatten)]
        common: Common,
    },
    /// Write one self-contained HTML page (no network needed to view it): the schema's
    /// documentation and diagram, the migration history as a timeline, and with --plan the
    /// pending statements with their locks, hazards and estimates.
    Report {
        #[command(flatten)]
        common: Common,
        /// Folder to write `index.html` into (made when missing).
        #[arg(long, default_value = "haste-report")]
        out: PathBuf,
        /// Also show what deploying the pending migrations would do now (as `migrate plan`).
        #[arg(long)]
        plan: bool,
        #[command(flatten)]
        tables: TableFilter,
    },
    /// Print a shell completion script: `haste completions bash > /etc/bash_completion.d/haste`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `haste man > haste.1 && man ./haste.1`; `--dir` writes it
    /// and the page of every command (`haste-migrate-deploy.1`, ...) into a folder.
    Man {
        /// Folder to write every page into (made when missing), for `MANPATH` or
        /// `/usr/local/share/man/man1`.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show the settings a command would use here (environment, URLs with passwords hidden,
    /// folder, lock budget), after haste.toml, its `[environments.<name>]` section, .env and
    /// flags; connects to nothing.
    Config {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
    },
}

/// `haste migrate ...`
#[derive(Debug, Subcommand)]
pub enum Migrate {
    /// Apply every pending migration, each exactly once, under the migration lock.
    Deploy {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
        #[command(flatten)]
        rate: RateOption,
        /// Apply pending migrations that sort before applied ones instead of refusing.
        #[arg(long)]
        allow_out_of_order: bool,
        /// Back the database up to this file first (pg_dump; SQLite: VACUUM INTO); refuse to
        /// continue if the backup fails.
        #[arg(long)]
        backup: Option<PathBuf>,
        /// Lint the pending migrations first and refuse to apply any if an error-level
        /// finding is not allowed with a reason.
        #[arg(long)]
        lint: bool,
        /// Apply nothing: show what each pending statement would do now (as `migrate plan`).
        #[arg(long)]
        dry_run: bool,
        /// After applying, compare the database with the schema its migrations give on a shadow
        /// database and report every difference (exit 18); default: `verify` in the
        /// environment's section of haste.toml.
        #[arg(long)]
        verify: bool,
        /// Deploy outside the environment's `window`, for this reason (recorded in the history).
        #[arg(long, value_name = "REASON", value_parser = reason)]
        outside_window: Option<String>,
        /// With `promote_from` in the environment's section: deploy migrations the source
        /// environment has not applied, for this reason (recorded in the history).
        #[arg(long, value_name = "REASON", value_parser = reason)]
        promotion_override: Option<String>,
        #[command(flatten)]
        fleet: FleetTargets,
        /// With a fleet: after the first target fails, start no other (those running finish).
        #[arg(long, requires = "fleet_source")]
        fail_fast: bool,
        /// With a fleet: deploy the first K targets before any other, and stop if one fails.
        #[arg(long, value_name = "K", requires = "fleet_source")]
        canary: Option<usize>,
    },
    /// Show what deploying the pending migrations would do now, statement by statement: the
    /// lock each takes, the live size of its tables, an estimate of its duration, who would
    /// block it, and whether it is safe to run now (exit 17 when it is not). Applies nothing.
    Plan {
        #[command(flatten)]
        common: Common,
        /// Validated as deploy validates them, so a plan never accepts what deploy would refuse.
        #[command(flatten)]
        run: RunOptions,
    },
    /// Undo applied migrations with their down.sql, newest first.
    Down {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
        #[command(flatten)]
        rate: RateOption,
        /// How many migrations to undo.
        #[arg(long, conflicts_with = "to")]
        steps: Option<usize>,
        /// Undo every migration applied after this one.
        #[arg(long)]
        to: Option<String>,
        /// Allow this in an environment marked production.
        #[arg(long)]
        confirm_production: bool,
    },
    /// Leave a failed or interrupted state: mark applied, mark rolled back, or resume.
    #[command(group = clap::ArgGroup::new("resolution").required(true))]
    Resolve {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
        #[command(flatten)]
        rate: RateOption,
        /// The migration was completed by hand: record it as applied.
        #[arg(long, value_name = "MIGRATION", group = "resolution")]
        applied: Option<String>,
        /// The migration was undone by hand: forget it, so deploy runs it again.
        #[arg(long, value_name = "MIGRATION", group = "resolution")]
        rolled_back: Option<String>,
        /// Continue a failed or interrupted non-transactional migration from its recorded progress.
        #[arg(long, value_name = "MIGRATION", group = "resolution")]
        resume: Option<String>,
        /// With --resume: drop the invalid index a failed CREATE INDEX CONCURRENTLY left.
        #[arg(long, requires = "resume")]
        drop_invalid_index: bool,
        /// With --resume: the file was edited after it stopped; run the new text of the
        /// statements not yet done (refused when a statement that already ran changed).
        #[arg(long, requires = "resume")]
        accept_edit: bool,
    },
    /// Empty the database, apply every migration, then run the seed.
    Reset {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
        #[command(flatten)]
        rate: RateOption,
        /// Allow this outside the development environment.
        #[arg(long)]
        force: bool,
        /// Do not run the seed.
        #[arg(long)]
        skip_seed: bool,
    },
    /// Mark every migration up to this one as applied without running anything.
    Baseline {
        /// The last migration the database already has.
        migration: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Show who holds the migration lock; end that session with --terminate.
    Unlock {
        #[command(flatten)]
        common: Common,
        /// End the session with this pid, which must be the lock holder.
        #[arg(long, value_name = "PID")]
        terminate: Option<i64>,
    },
    /// List applied, pending, failed and modified migrations; exits 0 only when up to date.
    Status {
        #[command(flatten)]
        common: Common,
        /// Also compare the database with its applied migrations replayed on a shadow
        /// database, and list what drifted (exit 15).
        #[arg(long)]
        drift: bool,
        /// The server for shadow databases (default: `shadow_url` in haste.toml, then the --url server).
        #[arg(long)]
        shadow_url: Option<String>,
        /// With --drift: also compare the database with this desired schema (.sql or .prisma)
        /// and list what no migration holds yet.
        #[arg(long, requires = "drift")]
        schema: Option<PathBuf>,
        #[command(flatten)]
        owners: OwnersOption,
        #[command(flatten)]
        fleet: FleetTargets,
    },
    /// Generate a migration from the desired schema and apply it to the development database:
    /// stops on drift, writes `<timestamp>_<name>/migration.sql` and `down.sql` in online-safe
    /// form, lints it, then applies it (not with --create-only).
    Dev {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        run: RunOptions,
        #[command(flatten)]
        rate: RateOption,
        /// Name of the migration (the folder name after the timestamp).
        #[arg(long, default_value = "migration")]
        name: String,
        /// The desired schema: a .sql file or folder, or a schema.prisma (or a folder of .prisma
        /// files), whose migrations are written as Prisma Migrate writes them (default: `schema`
        /// in haste.toml, then ./schema.sql, ./schema/, ./prisma/schema.prisma, ./schema.prisma).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// With a Prisma schema: write Prisma Migrate's exact statements, byte for byte, instead
        /// of haste's online forms for tables that already exist (default: `exact_prisma` in
        /// haste.toml, else off). Migrations that only create tables are Prisma's either way.
        #[arg(long)]
        exact_prisma: bool,
        /// The default, kept for scripts written before it was: haste's online forms.
        #[arg(long, hide = true, conflicts_with = "exact_prisma")]
        online: bool,
        #[command(flatten)]
        owners: OwnersOption,
        /// The server for shadow databases (default: `shadow_url` in haste.toml, then the --url server).
        #[arg(long)]
        shadow_url: Option<String>,
        /// A rename instead of a drop and an add: `schema.table.column=new_name`,
        /// `schema.table=new_name`, or an enum (`schema.enum=new`) or label
        /// (`schema.enum.label=new`); repeatable.
        #[arg(long, value_name = "PATH=NEW_NAME")]
        rename: Vec<String>,
        /// Two releases: a column rename (`--rename`) adds and syncs the new column and copies
        /// the rows, and a type change that would rewrite a table adds, fills and prepares the
        /// new-typed column; the migrations of the second release, held for a later deploy, drop
        /// the old column (the rename's contract, the type change's swap).
        #[arg(long)]
        expand_contract: bool,
        /// Write the migration without applying it, to review and edit it first.
        #[arg(long)]
        create_only: bool,
        /// Write and apply a migration that drops a table, a column or a type (refused without
        /// it, exit 16); the file records the acceptance, so its lint passes.
        #[arg(long)]
        accept_data_loss: bool,
        /// Run outside development: in a named environment other than production, or, with no
        /// environment named, against a server that is not on this machine. Never in production.
        #[arg(long)]
        force: bool,
    },
    /// Create `<dir>/<timestamp>_<name>/migration.sql`.
    New {
        /// Name of the migration (the folder name after the timestamp).
        name: String,
        /// Migrations folder (default: `migrations_dir` from haste.toml, else ./migrations).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Configuration file (default: ./haste.toml when it exists).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Options every command that talks to a database takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Database URL: postgres://user:password@host:port/db or sqlite:path.
    /// Default: `url` in haste.toml, then DATABASE_URL (also read from .env).
    #[arg(long)]
    pub url: Option<String>,
    /// Migrations folder (default: `migrations_dir` from haste.toml, else ./migrations).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Configuration file (default: ./haste.toml when it exists).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// PostgreSQL schema of haste's history tables (default: public).
    #[arg(long)]
    pub history_schema: Option<String>,
    /// Do not read a .env file.
    #[arg(long)]
    pub no_dotenv: bool,
    /// The environment: development, production, or another name, whose
    /// `[environments.<name>]` section of haste.toml applies (default: HASTE_ENV, then
    /// `environment` in haste.toml, then development for SQLite and local servers).
    #[arg(long, visible_alias = "env")]
    pub environment: Option<String>,
    /// Read owners with schemas (from the commands that take `--owners`, see [`OwnersOption`]).
    #[arg(skip)]
    pub owners: bool,
}

/// Many databases at once (docs/fleets.md): where the targets come from, how many at a time.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("fleet_source").multiple(false))]
pub struct FleetTargets {
    /// Every target listed in this file (`-`: standard input): a database URL or `env:NAME`
    /// per line; blank lines and `#` comments are allowed.
    #[arg(long, value_name = "FILE", group = "fleet_source")]
    pub targets: Option<PathBuf>,
    /// The targets of `[fleet]` in haste.toml (`targets`, or `targets_query` run on the url).
    #[arg(long, group = "fleet_source")]
    pub fleet: bool,
    /// Targets handled at the same time (default: `jobs` in `[fleet]`, else 4).
    #[arg(long, value_name = "N", requires = "fleet_source")]
    pub jobs: Option<usize>,
}

impl FleetTargets {
    /// Whether a fleet was asked for.
    pub fn asked(&self) -> bool {
        self.targets.is_some() || self.fleet
    }
}

/// Options of commands that apply migrations.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// How long to wait for another run's migration lock (e.g. 30s, 5min).
    #[arg(long, allow_negative_numbers = true)]
    pub lock_wait: Option<String>,
    /// The lock budget per attempt: lock_timeout for each statement, the longest the
    /// application queues behind it (default 100ms; 0 disables).
    #[arg(long, allow_negative_numbers = true)]
    pub lock_timeout: Option<String>,
    /// The lock budget's deadline: how long a statement keeps retrying after lock timeouts
    /// (default 5min).
    #[arg(long, allow_negative_numbers = true)]
    pub lock_deadline: Option<String>,
    /// statement_timeout for each statement (e.g. 30min; 0 disables).
    #[arg(long, allow_negative_numbers = true)]
    pub statement_timeout: Option<String>,
    /// At most this many attempts after a lock timeout or deadlock (default: until the deadline).
    #[arg(long, allow_negative_numbers = true)]
    pub retries: Option<u32>,
    /// From `--allow-out-of-order`, on the commands that have it.
    #[arg(skip)]
    pub allow_out_of_order: bool,
    /// From `--max-rate`, on the commands that run data steps.
    #[arg(skip)]
    pub max_rate: Option<u64>,
}

/// `--max-rate`, for the commands that run data steps.
#[derive(Debug, Args)]
pub struct RateOption {
    /// At most this many rows per second in data migrations (unless data.sql sets max-rate).
    #[arg(long, value_name = "ROWS_PER_SECOND", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rate: Option<u64>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs: see docs/json.md.
    Json,
}

/// How lint findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// rustc-style diagnostics with the SQL and a suggested fix.
    Text,
    /// One JSON array of findings.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// `haste schema ...`
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Summarize the schema, or print its model as JSON with --format json.
    Inspect {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        source: SourceOptions,
    },
    /// Print SQL that recreates the schema on an empty database, in dependency order.
    Dump {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        source: SourceOptions,
    },
    /// Print the statements that turn one schema into another, each with its hazards; exit 14
    /// when they differ, 0 when equal.
    Diff {
        #[command(flatten)]
        common: Common,
        /// The schema as it is: a database URL, a .sql file or folder, or a migrations folder.
        #[arg(long)]
        from: String,
        /// The schema as it should be.
        #[arg(long)]
        to: String,
        /// The server for shadow databases (default: the --url server).
        #[arg(long)]
        shadow_url: Option<String>,
        /// Plan the online forms for tables that already exist (concurrent indexes, NOT VALID
        /// then VALIDATE, SET NOT NULL through a validated check).
        #[arg(long)]
        online: bool,
        /// A rename instead of a drop and an add (see `migrate dev --rename`); repeatable.
        #[arg(long, value_name = "PATH=NEW_NAME")]
        rename: Vec<String>,
        #[command(flatten)]
        owners: OwnersOption,
    },
    /// Draw an entity-relationship diagram: tables with their columns, types and keys, foreign
    /// keys as links, grouped by schema.
    Erd {
        /// Database URL (default: `url` in haste.toml, then DATABASE_URL); with --from, the
        /// server for the shadow database the files are applied to.
        #[arg(long)]
        url: Option<String>,
        /// Draw this instead of the --url database: a .sql file or folder, a migrations folder,
        /// a schema.prisma, or a database URL.
        #[arg(long)]
        from: Option<String>,
        /// The server for shadow databases (default: the --url server).
        #[arg(long)]
        shadow_url: Option<String>,
        /// Configuration file (default: ./haste.toml when it exists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// What to write.
        #[arg(long, value_enum, default_value_t = ErdFormat::Svg)]
        format: ErdFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        tables: TableFilter,
    },
}

/// Which tables a picture shows.
#[derive(Debug, Args)]
pub struct TableFilter {
    /// Only tables of this schema; repeatable (default: every schema).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Only tables whose name or schema.name matches this pattern (`*` and `?` wildcards).
    #[arg(long, value_name = "PATTERN")]
    pub tables: Option<String>,
}

/// How `schema erd` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErdFormat {
    /// A picture laid out by haste (no other tool needed).
    Svg,
    /// A Mermaid erDiagram, for markdown.
    Mermaid,
    /// A Graphviz graph, for `dot -Tsvg`.
    Dot,
}

/// Where a schema comes from.
#[derive(Debug, Args)]
pub struct SourceOptions {
    #[command(flatten)]
    pub owners: OwnersOption,
    /// A database URL, a .sql file, a folder of .sql files, or a migrations folder (default:
    /// the --url database). Files are applied to a temporary shadow database first.
    #[arg(long)]
    pub source: Option<String>,
    /// The server for shadow databases (default: the --url server).
    #[arg(long)]
    pub shadow_url: Option<String>,
}

/// A reason recorded in the history for an exception to a rule: an empty one would record
/// nothing a reader could check, so it is refused.
fn reason(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("the reason is empty: say why (it is recorded in the history)".to_owned());
    }
    Ok(text.to_owned())
}

/// `--owners`: the commands that read schemas (`schema inspect`, `dump`, `diff`, `migrate dev`,
/// `status --drift`) read owners too.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OwnersOption {
    /// Compare and write owners (`ALTER ... OWNER TO`) of objects that another role than the
    /// one running haste owns (default: `owners` in haste.toml, else off).
    #[arg(long)]
    pub owners: bool,
}

impl OwnersOption {
    /// `common` with owners read when the flag asks for them.
    pub fn apply(self, common: &Common) -> Common {
        Common { owners: common.owners || self.owners, ..common.clone() }
    }
}
