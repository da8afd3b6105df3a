//! Splits migration scripts into statements and says how each one may run.
//!
//! # Brief overview
//! - [`Script::parse`] splits a script in the grammar of its [`Dialect`] and classifies every
//!   statement as [`StatementKind::Plain`] (fine inside a transaction),
//!   [`StatementKind::NoTransaction`] (the database refuses it inside one) or
//!   [`StatementKind::TransactionControl`] (the file manages its own transaction).
//! - PostgreSQL scripts are split by PostgreSQL's own grammar (`pg_query`), so dollar quotes,
//!   `E''` strings, nested comments and `BEGIN ATOMIC` bodies are exact. SQLite scripts are split
//!   by a scanner that follows SQLite's own completeness rules (trigger bodies included).
//! - [`quote_ident`] and [`quote_literal`] are the only way haste puts a name or a value into SQL.
//! - [`statement_lock`] says which table lock a PostgreSQL statement takes ([`Lock`]).
//! - [`mask_secrets`] hides passwords in migration text before it is shown.
//! - [`LineIndex`] maps byte offsets to the line and column a person sees in an editor.
//!
//! Parsing never fails: a script that does not parse still yields statements, and
//! [`Script::parse_error`] says why the grammar refused it.
//!
//! ```
//! use haste_sql::{Dialect, Script, StatementKind};
//! let script = Script::parse(Dialect::Postgres, "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);");
//! assert_eq!(script.statements.len(), 2);
//! assert!(matches!(script.statements[1].kind, StatementKind::NoTransaction(_)));
//! ```

mod line_index;
mod lock;
mod placeholders;
mod plpgsql;
mod postgres;
mod quote;
mod retarget;
pub mod sandbox;
mod secrets;
mod sqlite;
mod transactions;
mod trivia;
mod types;

pub use line_index::{LineIndex, char_position_to_offset};
pub use lock::{
    CatalogTable, Created, Dropped, KeyScope, Lock, LockFacts, LockedObject, LockedObjectKind, Work,
    catalog_tables_of, created_of, default_computed_per_row, lock_facts, lock_of, objects_locked,
    statement_lock, statement_work, storage_parameter_lock, tables_of, work_of,
};
pub use placeholders::{Placeholder, placeholders};
pub use postgres::{
    ConcurrentIndex, ParsedScript, ReindexTarget, concurrent_index, detached_partition, parse_with_trees,
    read_only_setting, reindexed_relation, session_settings_in_force, sets_session, sets_session_unseen,
    sets_transaction_characteristics,
};
pub use quote::{
    MAX_IDENT_BYTES, dollar_quote, name_parts, object_name, quote_ident, quote_literal,
    quote_literal_escaped, truncate_ident, unused_ident,
};
pub use retarget::{
    Reads, Repointed, constraint_on, expression_reads, index_named, index_on, mentions,
    names as string_nodes, reads, relations, trigger_reads, type_names,
};
pub use secrets::mask_secrets;
pub use sqlite::sets_pragma;
pub use transactions::{
    Step, TransactionMode, is_one_transaction, open_block, opened_by_chain, steps, transaction_of_each,
    unterminated,
};
pub use types::{cast_cuts, conversion, conversion_cannot_fail, type_change_rewrites};

/// The SQL grammar a script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL, split by PostgreSQL's own parser.
    Postgres,
    /// SQLite, split by SQLite's statement-completeness rules.
    Sqlite,
}

/// A migration script cut into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The statements in file order; comments and blank space between them are not statements.
    pub statements: Vec<Statement>,
    /// Why the grammar refused the script, when it did. The statements are then cut by the
    /// scanner alone, and the database will report the error with its exact position.
    pub parse_error: Option<String>,
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The text sent to the database: the statement without its terminating `;`, possibly led
    /// by the comments that precede it.
    pub text: String,
    /// Byte offset of `text` in the script.
    pub offset: usize,
    /// Byte offset in the script of the statement's first token (after leading comments).
    pub start: usize,
    /// How the statement may run.
    pub kind: StatementKind,
    /// A `CALL` of a procedure or a `DO` block (PostgreSQL): it may `COMMIT` from inside, which
    /// PostgreSQL allows only when the statement does not run in a transaction block.
    pub may_commit: bool,
}

/// How a statement may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// May run inside a transaction.
    Plain,
    /// The database refuses it inside a transaction block; the value names the construct.
    NoTransaction(&'static str),
    /// Starts, ends or otherwise steers a transaction: the script manages its own transactions.
    TransactionControl(TransactionControl),
}

impl StatementKind {
    /// Whether a session is inside a transaction block after a statement of this kind ran,
    /// given whether it was before (a chained commit opens the next one at once).
    pub fn transaction_open_after(self, open_before: bool) -> bool {
        match self {
            StatementKind::TransactionControl(TransactionControl::Begin) => true,
            StatementKind::TransactionControl(TransactionControl::Commit | TransactionControl::Rollback) => {
                false
            }
            _ => open_before,
        }
    }
}

/// Which transaction-control statement a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`.
    Commit,
    /// `ROLLBACK`, `ABORT`.
    Rollback,
    /// `COMMIT AND CHAIN` (PostgreSQL): commits the open transaction and at once opens a new
    /// one with the same characteristics, so the session stays in a transaction block.
    CommitAndChain,
    /// `ROLLBACK AND CHAIN`: rolls the open transaction back and at once opens a new one.
    RollbackAndChain,
    /// Two-phase commit: `PREPARE TRANSACTION`, `COMMIT PREPARED`, `ROLLBACK PREPARED`.
    ///
    /// Savepoints (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`) are not transaction control: they
    /// run inside the transaction they are in, and are [`StatementKind::Plain`].
    Other,
}

impl Script {
    /// Splits and classifies `sql`. Never fails; see [`Script::parse_error`].
    pub fn parse(dialect: Dialect, sql: &str) -> Script {
        match dialect {
            Dialect::Postgres => postgres::parse(sql),
            Dialect::Sqlite => sqlite::parse(sql),
        }
    }

    /// The statements the database refuses inside a transaction.
    pub fn no_transaction_statements(&self) -> impl Iterator<Item = &Statement> {
        self.statements.iter().filter(|s| matches!(s.kind, StatementKind::NoTransaction(_)))
    }

    /// Whether the script begins, commits or rolls back transactions itself.
    pub fn manages_transactions(&self) -> bool {
        self.statements.iter().any(|s| matches!(s.kind, StatementKind::TransactionControl(_)))
    }
}

impl Statement {
    fn new(sql: &str, offset: usize, end: usize, kind: StatementKind) -> Statement {
        let text = &sql[offset..end];
        let start = offset + trivia::leading_len(text);
        Statement { text: text.to_owned(), offset, start, kind, may_commit: false }
    }
}
