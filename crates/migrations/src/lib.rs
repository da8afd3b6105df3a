//! Reads a migrations folder in Prisma Migrate's layout.
//!
//! # Brief overview
//! ```text
//! migrations/
//!   migration_lock.toml            provider = "postgresql"
//!   20260115093000_create_users/
//!     migration.sql                the migration
//!     down.sql                     optional: how to undo it (for `migrate down`)
//!     data.sql                     optional: a batched data migration (see [`DataStep`])
//!     data.down.sql                optional: how to undo the data migration
//! ```
//! - [`MigrationsDir::load`] reads every migration, in byte order of folder names (Prisma's
//!   order; the prefix is never parsed as a number, so `01_init` and names with spaces work).
//! - [`Checksum`] is SHA-256 of the text with a BOM stripped and CRLF/CR mapped to LF, tagged with
//!   its algorithm so the normalization can change without invalidating history.
//! - [`Directives`] are `-- haste:` comment lines at the top of `migration.sql` that steer how
//!   the runner applies it.
//! - [`create_migration`] makes a new timestamped folder (`haste migrate new`).

mod checksum;
mod data;
mod directives;
mod duration;
mod folder;

pub use checksum::Checksum;
pub use data::{DataStep, data_header};
pub use directives::{Directives, TransactionMode};
pub use duration::{MAX_DURATION, parse_duration};
pub use folder::{LOCK_FILE, Migration, MigrationsDir, SqlFile, create_migration};

use std::path::PathBuf;

/// Why a migrations folder could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file system refused.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A migration folder's name holds a control character (a line break, a tab, an escape):
    /// printed, it could forge lines of output.
    #[error("the migration folder name {name:?} holds a control character; rename the folder")]
    ControlCharacterInName {
        /// The name, escaped.
        name: String,
    },
    /// A file or folder name is not UTF-8.
    #[error("the name {path} is not valid UTF-8")]
    NotUtf8 {
        /// The file or folder.
        path: PathBuf,
    },
    /// A file holds bytes that are not text: invalid UTF-8, or a NUL byte (which PostgreSQL
    /// cannot take in a statement and some drivers take for the end of the text).
    #[error("{path}:{line}: {what} at byte offset {offset}; save the file as UTF-8 text")]
    NotText {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first bad byte.
        line: usize,
        /// Offset of the first bad byte in the file as stored.
        offset: usize,
        /// What was found.
        what: &'static str,
    },
    /// The migrations folder does not exist.
    #[error("migrations folder {path} does not exist (pass --dir, or set migrations_dir in haste.toml)")]
    MissingFolder {
        /// The path given.
        path: PathBuf,
    },
    /// The migrations folder is a file.
    #[error("migrations folder {path} is not a folder")]
    NotAFolder {
        /// The path given.
        path: PathBuf,
    },
    /// A symbolic link points at nothing, so what it stands for cannot be read.
    #[error("{path} is a symbolic link to {target}, which does not exist")]
    BrokenSymlink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// A migration folder has no `migration.sql` (Prisma's P3015).
    #[error("migration folder {dir} has no migration.sql")]
    MissingMigrationFile {
        /// The folder.
        dir: PathBuf,
    },
    /// A `-- haste:` directive is unknown or malformed.
    #[error("{path}:{line}: {reason}: `{text}`")]
    BadDirective {
        /// The file.
        path: PathBuf,
        /// 1-based line of the directive.
        line: usize,
        /// The directive as written.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `migration_lock.toml` is unreadable.
    #[error("{path}: {reason}")]
    BadLockFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `migrate new` was given a name that cannot be a folder name.
    #[error("invalid migration name {name:?}: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
