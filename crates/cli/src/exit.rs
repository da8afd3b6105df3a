//! Exit codes: stable, documented in docs/exit-codes.md, one test each.

use haste_runner::Error;

/// Success, or nothing to do.
pub const OK: u8 = 0;
/// A bug or an unexpected condition in haste itself.
pub const INTERNAL: u8 = 1;
/// Bad arguments or configuration.
pub const USAGE: u8 = 2;
/// `status`: pending migrations exist.
pub const PENDING: u8 = 3;
/// Validation: a migration changed after it was applied, is missing, is out of order, the
/// folder does not fit the database, or SQL meant for a shadow database acts outside it.
pub const VALIDATION: u8 = 4;
/// The migration lock could not be taken in time, or is not safe to take (pooler, lost).
pub const LOCK: u8 = 5;
/// A migration failed in this run.
pub const MIGRATION_FAILED: u8 = 6;
/// An earlier run left a migration failed or interrupted; it needs resolving.
pub const BLOCKED: u8 = 7;
/// The database could not be reached.
pub const CONNECT: u8 = 9;
/// `deploy --backup`: the backup failed, so nothing was applied.
pub const BACKUP_FAILED: u8 = 10;
/// `doctor`: at least one check failed.
pub const DOCTOR_FAILED: u8 = 11;
/// The environment forbids the command without a confirmation flag.
pub const REFUSED: u8 = 12;
/// `lint` (or `deploy --lint`): an error-level finding.
pub const LINT_FAILED: u8 = 13;
/// `schema diff`: the schemas differ.
pub const SCHEMAS_DIFFER: u8 = 14;
/// `migrate dev`, `status --drift`: the database drifted from its migration history.
pub const DRIFT: u8 = 15;
/// `migrate dev`: the change cannot be made safely as asked (a NOT NULL column without a
/// default on a table that exists, or data dropped without `--accept-data-loss`); nothing was
/// written.
pub const UNSAFE_CHANGE: u8 = 16;
/// `migrate plan`: a pending statement is not safe to run now (it would wait for a session
/// that holds its table, or block the application for longer than a moment).
pub const NOT_SAFE_NOW: u8 = 17;
/// `migrate deploy --verify`: the migrations were applied, but the database differs from the
/// schema they give (someone changed it by hand).
pub const VERIFY_FAILED: u8 = 18;

/// `migrate deploy --targets`/`--fleet`: at least one target failed or was not started (a
/// canary failed, or `--fail-fast`); `migrate status --targets`: a target could not be read or
/// needs attention. The others' outcomes are in the summary; a rerun carries on.
pub const FLEET_FAILED: u8 = 19;

/// The exit code and stable error code of a runner error.
pub fn classify(error: &Error) -> (u8, &'static str) {
    match error {
        Error::Database { source, .. } if source.connection_lost => (CONNECT, "CONNECTION_LOST"),
        Error::Database { .. } => (INTERNAL, "DATABASE_ERROR"),
        Error::Folder(_) => (USAGE, "MIGRATIONS_FOLDER"),
        Error::ChecksumMismatch { .. } => (VALIDATION, "CHECKSUM_MISMATCH"),
        Error::MissingFiles { .. } => (VALIDATION, "MISSING_APPLIED"),
        Error::OutOfOrder { .. } => (VALIDATION, "OUT_OF_ORDER"),
        Error::ProviderMismatch { .. } => (VALIDATION, "PROVIDER_MISMATCH"),
        Error::ForcedTransactionConflict { .. } => (VALIDATION, "NO_TRANSACTION_STATEMENT"),
        Error::TwoPhaseCommit { .. } => (VALIDATION, "TWO_PHASE_COMMIT"),
        Error::UnterminatedTransaction { .. } | Error::SeedUnterminatedTransaction { .. } => {
            (VALIDATION, "UNTERMINATED_TRANSACTION")
        }
        Error::DataHeader { .. } => (VALIDATION, "DATA_HEADER"),
        Error::NotPromoted { .. } => (REFUSED, "NOT_PROMOTED"),
        Error::OutsideWindow { .. } => (REFUSED, "OUTSIDE_WINDOW"),
        Error::OutsideShadow { .. } => (VALIDATION, "OUTSIDE_SHADOW"),
        Error::LockTimeout { .. } => (LOCK, "LOCK_TIMEOUT"),
        Error::PoolerDetected => (LOCK, "POOLER_DETECTED"),
        Error::LockLost => (LOCK, "LOCK_LOST"),
        Error::Blocked { .. } => (BLOCKED, "BLOCKED_BY_FAILED"),
        Error::InvalidIndexLeft { .. } => (BLOCKED, "INVALID_INDEX"),
        Error::EditedBeforeResume { .. } => (VALIDATION, "EDITED_BEFORE_RESUME"),
        Error::UnknownMigration { .. } => (USAGE, "UNKNOWN_MIGRATION"),
        Error::NotResolvable { .. } => (VALIDATION, "NOT_RESOLVABLE"),
        Error::NoDownFile { .. } => (VALIDATION, "NO_DOWN_FILE"),
        Error::Refused { .. } => (REFUSED, "REFUSED"),
        Error::SeedFailed(failure) if failure.error.connection_lost => (CONNECT, "CONNECTION_LOST"),
        Error::SeedFailed(_) => (MIGRATION_FAILED, "SEED_FAILED"),
        Error::SourceFailed(failure) if failure.error.connection_lost => (CONNECT, "CONNECTION_LOST"),
        Error::SourceFailed(_) => (MIGRATION_FAILED, "SCHEMA_FILE_FAILED"),
        Error::ReplayFailed(failure) if failure.error.connection_lost => (CONNECT, "CONNECTION_LOST"),
        Error::ReplayFailed(_) => (MIGRATION_FAILED, "REPLAY_FAILED"),
        Error::MigrationFailed(failure) if failure.error.connection_lost => (CONNECT, "CONNECTION_LOST"),
        Error::MigrationFailed(_) => (MIGRATION_FAILED, "MIGRATION_FAILED"),
        _ => (INTERNAL, "INTERNAL"),
    }
}
