//! Errors as data: wording belongs to the command line.

use std::fmt;

/// What the database said about a failed statement or request.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct DbError {
    /// The SQLSTATE (`42601`), when the database gave one.
    pub sqlstate: Option<String>,
    /// The primary message.
    pub message: String,
    /// `DETAIL`, when given.
    pub detail: Option<String>,
    /// `HINT`, when given.
    pub hint: Option<String>,
    /// 1-based character position in the statement text sent, when the database gave one.
    pub position: Option<usize>,
    /// The connection broke: the outcome of the request is unknown.
    pub connection_lost: bool,
    /// The transaction the statements were meant to run in had already ended when its history
    /// writes and `COMMIT` came: some statements may have run outside it, in autocommit.
    pub transaction_ended_early: bool,
}

impl DbError {
    /// An error with a message only.
    pub fn message(message: impl Into<String>) -> DbError {
        DbError { message: message.into(), ..DbError::default() }
    }

    /// Whether waiting and trying again may succeed: a lock timeout (`55P03`) or a deadlock
    /// (`40P01`). A statement timeout (`57014`) is never retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self.sqlstate.as_deref(), Some("55P03" | "40P01"))
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sqlstate) = &self.sqlstate {
            write!(f, "{sqlstate}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

/// A failure inside a run of statements: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// 0-based index of the failed statement; the statement count means the bookkeeping after them.
    pub index: usize,
    /// What the database said.
    pub error: DbError,
}

/// A connection that could not be made. `target` names what was tried, never a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot connect to {target}: {reason}")]
pub struct ConnectError {
    /// Host, port, database and user (PostgreSQL), or the file (SQLite).
    pub target: String,
    /// Why not.
    pub reason: String,
}
