//! The command line's words.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// haste: safe schema migrations for PostgreSQL and SQLite.
#[derive(Debug, Parser)]
#[command(name = "haste", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply, inspect and create migrations.
    #[command(subcommand)]
    Migrate(Migrate),
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
    },
    /// List applied, pending, failed and modified migrations; exits 0 only when up to date.
    Status {
        #[command(flatten)]
        common: Common,
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
#[derive(Debug, Args)]
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
}

/// Options of commands that apply migrations.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// How long to wait for another run's migration lock (e.g. 30s, 5min).
    #[arg(long)]
    pub lock_wait: Option<String>,
    /// lock_timeout for each statement (e.g. 2s; 0 disables).
    #[arg(long)]
    pub lock_timeout: Option<String>,
    /// statement_timeout for each statement (e.g. 30min; 0 disables).
    #[arg(long)]
    pub statement_timeout: Option<String>,
    /// Attempts after a lock timeout or deadlock.
    #[arg(long)]
    pub retries: Option<u32>,
    /// Apply pending migrations that sort before applied ones instead of refusing.
    #[arg(long)]
    pub allow_out_of_order: bool,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs: see docs/json.md.
    Json,
}
