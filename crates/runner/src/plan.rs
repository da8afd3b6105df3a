//! How one migration will run: the execution mode chosen from its statements and directives.

use haste_driver::{Connection, DbError, StepError};
use haste_migrations::{Migration, SqlFile, TransactionMode};
use haste_sql::{
    Created, Dialect, LineIndex, Script, Statement, StatementKind, Step, TransactionControl, quote_ident,
    quote_literal,
};

use crate::error::{Error, FailureState, MigrationFailure, SourcePosition};

/// How a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ExecutionMode {
    /// All statements and the history row in one transaction.
    Transaction,
    /// Outside a single transaction: runs of ordinary statements each in a transaction of their
    /// own, every statement the database refuses in a transaction on its own, with progress
    /// recorded after each step so a failure can be resumed.
    Stepwise {
        /// Why: the first construct that cannot run in a transaction, or the directive.
        reason: &'static str,
    },
    /// The file begins and commits its own transactions and runs exactly as written.
    AsWritten {
        /// Whether the history row commits inside the file's own (single, final) transaction.
        history_in_file_transaction: bool,
    },
}

/// A migration ready to run.
pub(crate) struct Plan<'m> {
    pub migration: &'m Migration,
    /// The file the statements come from: `migration.sql`, or `down.sql` when undoing.
    pub file: &'m SqlFile,
    forced: Option<TransactionMode>,
    pub statements: Vec<Statement>,
    /// Why PostgreSQL's grammar refuses the file, when it does.
    parse_error: Option<String>,
    pub mode: ExecutionMode,
    /// What each statement locks ([`Plan::lock_facts`]), read once when first asked.
    lock_facts: std::cell::OnceCell<Vec<haste_sql::LockFacts>>,
}

impl<'m> Plan<'m> {
    pub fn new(dialect: Dialect, migration: &'m Migration) -> Result<Plan<'m>, Error> {
        Plan::for_file(dialect, migration, &migration.up, migration.directives.transaction)
    }

    /// The plan of another file of `migration` (its `down.sql`), with that file's forced mode.
    pub fn for_file(
        dialect: Dialect,
        migration: &'m Migration,
        file: &'m SqlFile,
        forced: Option<TransactionMode>,
    ) -> Result<Plan<'m>, Error> {
        if let Some(error) = nul_byte(dialect, &migration.name, file) {
            return Err(Error::MigrationFailed(error));
        }
        let script = Script::parse(dialect, &file.sql);
        if let Some(statement) = script
            .statements
            .iter()
            .find(|s| s.kind == StatementKind::TransactionControl(TransactionControl::Other))
        {
            let text = &statement.text[statement.start - statement.offset..];
            return Err(Error::TwoPhaseCommit {
                name: migration.name.clone(),
                position: source_position(file, statement.start),
                construct: text.split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_uppercase(),
            });
        }
        if script.parse_error.is_none()
            && let Some(index) = haste_sql::unterminated(&script.statements)
        {
            return Err(Error::UnterminatedTransaction {
                name: migration.name.clone(),
                position: source_position(file, script.statements[index].start),
            });
        }
        let first_no_tx = script.no_transaction_statements().next();
        let mode = match forced {
            // The file's own blocks are kept: each statement alone would commit them piecemeal
            // (history's own COMMIT after each statement ended the file's open transaction).
            Some(TransactionMode::Off) if script.manages_transactions() => ExecutionMode::AsWritten {
                history_in_file_transaction: haste_sql::is_one_transaction(&script.statements),
            },
            Some(TransactionMode::Off) => ExecutionMode::Stepwise { reason: "-- haste:transaction off" },
            Some(TransactionMode::On) => {
                let conflict = first_no_tx.or_else(|| {
                    script.statements.iter().find(|s| matches!(s.kind, StatementKind::TransactionControl(_)))
                });
                if let Some(statement) = conflict {
                    let construct = match statement.kind {
                        StatementKind::NoTransaction(construct) => construct,
                        _ => "transaction control",
                    };
                    return Err(Error::ForcedTransactionConflict {
                        name: migration.name.clone(),
                        position: source_position(file, statement.start),
                        construct,
                    });
                }
                ExecutionMode::Transaction
            }
            // A script PostgreSQL's grammar refuses is cut by its scanner, whose pieces may look
            // like transaction control or statements that cannot run in a transaction (a
            // `BEGIN ATOMIC` body cut at its `END`). It cannot succeed as a whole, so it runs
            // in one transaction: the server names the bad statement and nothing commits.
            None if script.parse_error.is_some() => ExecutionMode::Transaction,
            None if script.manages_transactions() => ExecutionMode::AsWritten {
                history_in_file_transaction: haste_sql::is_one_transaction(&script.statements),
            },
            None => match first_no_tx.map(|s| s.kind) {
                Some(StatementKind::NoTransaction(reason)) => ExecutionMode::Stepwise { reason },
                _ => ExecutionMode::Transaction,
            },
        };
        Ok(Plan {
            migration,
            file,
            forced,
            statements: script.statements,
            parse_error: script.parse_error,
            mode,
            lock_facts: std::cell::OnceCell::new(),
        })
    }

    /// What each PostgreSQL statement locks, read from its text once per plan: the lock budget
    /// of each step reads them all (the search path a file set before the step too), and
    /// reading them again for every step would cost a file of many steps time in the square
    /// of its length.
    pub fn lock_facts(&self) -> &[haste_sql::LockFacts] {
        self.lock_facts
            .get_or_init(|| self.statements.iter().map(|s| haste_sql::lock_facts(&s.text)).collect())
    }

    /// Steps of a stepwise run.
    pub fn steps(&self) -> Vec<Step> {
        haste_sql::steps(&self.statements, self.forced == Some(TransactionMode::Off))
    }

    /// Whether a run can start at statement `from` (after `from` statements ran and committed):
    /// the start, the end, or a boundary this mode records progress at. Anything else would
    /// run statements twice or skip them.
    pub fn resumes_at(&self, from: usize) -> bool {
        if from == 0 || from == self.statements.len() {
            return true;
        }
        match self.mode {
            ExecutionMode::Transaction => false,
            ExecutionMode::Stepwise { .. } => self.steps().iter().any(|step| step.start == from),
            ExecutionMode::AsWritten { history_in_file_transaction } => {
                // Inside a block only where a chained commit opened its part: the resume opens
                // that part again (`apply::reopen_chained`).
                let open = haste_sql::open_block(&self.statements, from).is_some();
                !history_in_file_transaction && (!open || haste_sql::opened_by_chain(&self.statements, from))
            }
        }
    }

    /// The first statement PostgreSQL's grammar refuses, as the error a server would give,
    /// when the file does not parse. Such a file cannot succeed, and running the statements
    /// before the bad one would leave it half-applied: nothing of it runs.
    pub fn unparseable(&self) -> Option<StepError> {
        self.parse_error.as_ref()?;
        let trees = haste_sql::parse_with_trees(&self.file.sql).trees;
        let (index, message) = trees
            .iter()
            .enumerate()
            .find_map(|(index, tree)| tree.as_ref().err().map(|message| (index, message.clone())))?;
        let statement = self.statements.get(index)?;
        // "syntax error at or near "X"": point at X, as the server would.
        let position = message
            .split_once("at or near \"")
            .and_then(|(_, rest)| rest.rsplit_once('"'))
            .and_then(|(token, _)| statement.text[statement.start - statement.offset..].find(token))
            .map(|at| statement.text[..statement.start - statement.offset + at].chars().count() + 1);
        let message = message.trim_start_matches("Invalid statement: ").to_owned();
        Some(StepError {
            index,
            error: DbError {
                sqlstate: Some("42601".into()),
                position,
                detail: Some(
                    "PostgreSQL's grammar refuses this statement: nothing of the file was run".into(),
                ),
                ..DbError::message(message)
            },
        })
    }

    pub fn texts(&self, range: std::ops::Range<usize>) -> Vec<&str> {
        self.statements[range].iter().map(|s| s.text.as_str()).collect()
    }

    /// Where in the file a database error in statement `index` points.
    pub fn error_position(&self, index: usize, position: Option<usize>) -> SourcePosition {
        statement_position(self.file, self.statements.get(index), position)
    }
}

impl Plan<'_> {
    /// Refuses `migration`'s data step when its header names a table or key column the database
    /// does not have and the migration's statements  do not create, before anything of the
    /// migration runs: the walk would fail after them. What a statement creates that cannot be told
    /// (a `DO` block, a file that does not parse) is given the benefit of the doubt.
    pub(crate) fn check_data_header(&self, connection: &mut dyn Connection) -> Result<(), Error> {
        let Some(step) = self.migration.data.as_ref().filter(|_| connection.dialect() == Dialect::Postgres)
        else {
            return Ok(());
        };
        let relation = quote_literal(&step.relation());
        let sql = format!(
            "SELECT to_regclass({relation}) IS NOT NULL, EXISTS (SELECT 1 FROM pg_attribute \
             WHERE attrelid = to_regclass({relation}) AND attname = {} AND attnum > 0 AND NOT attisdropped)",
            quote_literal(&step.key)
        );
        let row = connection.query_row(&sql).map_err(Error::database("looking up the data step's table"))?;
        let yes =
            |i: usize| row.as_ref().and_then(|row| row.get(i).cloned().flatten()).as_deref() == Some("t");
        let (table_there, key_there) = (yes(0), yes(1));
        if key_there {
            return Ok(());
        }
        let mut created = Vec::new();
        for statement in &self.statements {
            match haste_sql::created_of(&statement.text) {
                Some(names) => created.extend(names),
                None => return Ok(()),
            }
        }
        let table_created = created.contains(&Created::Table(step.table.clone()));
        let key_created =
            created.contains(&Created::Column { table: step.table.clone(), column: step.key.clone() });
        let message = match (table_there, table_created, key_created) {
            (_, true, _) | (_, _, true) => return Ok(()),
            (false, false, false) => format!(
                "the data step's table {} does not exist, and {} does not create it",
                step.relation(),
                self.migration.up.path.display()
            ),
            (true, false, false) => format!(
                "the data step's key column {} is not a column of {}, and {} does not add it",
                quote_ident(&step.key),
                step.relation(),
                self.migration.up.path.display()
            ),
        };
        Err(Error::DataHeader {
            name: self.migration.name.clone(),
            file: step.file.path.clone(),
            line: 1,
            message,
        })
    }
}

/// A NUL byte reaches neither database intact (PostgreSQL refuses it, SQLite stops reading at
/// it), and it cuts the statement splitter short, so the statements and the execution mode of
/// the file would be misjudged: a file holding one is refused before anything of it runs.
pub(crate) fn nul_byte(dialect: Dialect, name: &str, file: &SqlFile) -> Option<Box<MigrationFailure>> {
    let offset = file.sql.find('\0')?;
    let statements = Script::parse(dialect, &file.sql.replace('\0', " ")).statements;
    let statement_index = statements
        .iter()
        .position(|statement| offset < statement.offset + statement.text.len())
        .unwrap_or(statements.len().saturating_sub(1));
    Some(Box::new(MigrationFailure {
        name: name.to_owned(),
        statement_index,
        position: source_position(file, offset),
        error: haste_driver::DbError::message(
            "the file contains a NUL byte, which cannot be sent to the database; nothing of it was run",
        ),
        attempts: 0,
        state: FailureState::RolledBack,
        gave_up: None,
    }))
}

/// Where in `file` an error points: the character `position` the database gave within
/// `statement`, or the statement's first token.
pub(crate) fn statement_position(
    file: &SqlFile,
    statement: Option<&Statement>,
    position: Option<usize>,
) -> SourcePosition {
    let offset = statement.map_or(0, |statement| match position {
        Some(position) => statement.offset + haste_sql::char_position_to_offset(&statement.text, position),
        None => statement.start,
    });
    source_position(file, offset)
}

/// Where `offset` is, with the lines around it as shown to people: passwords hidden
/// ([`haste_sql::mask_secrets`], which keeps every offset).
pub(crate) fn source_position(file: &SqlFile, offset: usize) -> SourcePosition {
    let shown = haste_sql::mask_secrets(&file.sql);
    let index = LineIndex::new(&shown);
    let (line, column) = index.line_col(offset);
    SourcePosition {
        file: file.path.clone(),
        line,
        column,
        snippet: (line.saturating_sub(2).max(1)..=(line + 1).min(index.line_count()))
            .map(|n| (n, index.line(n).to_owned()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haste_migrations::{Checksum, Directives, SqlFile};

    fn migration(sql: &str) -> Migration {
        Migration {
            name: "1_test".into(),
            up: SqlFile { path: "1_test/migration.sql".into(), sql: sql.into(), checksum: Checksum::of(sql) },
            directives: Directives::parse(std::path::Path::new("m.sql"), sql).unwrap(),
            data: None,
        }
    }

    fn mode(sql: &str) -> Result<ExecutionMode, Error> {
        Plan::new(Dialect::Postgres, &migration(sql)).map(|plan| plan.mode)
    }

    #[test]
    fn a_file_resumes_outside_its_blocks_or_where_a_chain_opened_one() {
        let sql = "BEGIN;\nSELECT 1;\nCOMMIT AND CHAIN;\nSELECT 2;\nCOMMIT;\nSELECT 3;";
        let migration = migration(sql);
        let plan = Plan::new(Dialect::Postgres, &migration).unwrap();
        let resumes: Vec<usize> = (0..=plan.statements.len()).filter(|&at| plan.resumes_at(at)).collect();
        assert_eq!(resumes, [0, 3, 5, 6]);
    }

    #[test]
    fn chooses_the_mode_from_the_statements() {
        assert_eq!(
            mode("CREATE TABLE t (id int); CREATE INDEX i ON t (id);").unwrap(),
            ExecutionMode::Transaction
        );
        assert_eq!(
            mode("CREATE INDEX CONCURRENTLY i ON t (id);").unwrap(),
            ExecutionMode::Stepwise { reason: "CREATE INDEX CONCURRENTLY" }
        );
        assert_eq!(
            mode("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;").unwrap(),
            ExecutionMode::AsWritten { history_in_file_transaction: true }
        );
        assert_eq!(
            mode("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\nBEGIN;\nSELECT 1;\nCOMMIT;").unwrap(),
            ExecutionMode::AsWritten { history_in_file_transaction: false }
        );
        assert_eq!(
            mode("-- haste:transaction off\nCREATE TABLE t (id int);").unwrap(),
            ExecutionMode::Stepwise { reason: "-- haste:transaction off" }
        );
    }

    #[test]
    fn a_forced_transaction_refuses_concurrent_index_builds_naming_the_line() {
        let error =
            mode("-- haste:transaction on\nCREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);")
                .unwrap_err();
        match error {
            Error::ForcedTransactionConflict { position, construct, .. } => {
                assert_eq!(position.line, 3);
                assert_eq!(construct, "CREATE INDEX CONCURRENTLY");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn two_phase_commit_is_refused_naming_the_line() {
        for sql in [
            "BEGIN;\nCREATE TABLE t (id int);\nPREPARE TRANSACTION 'x';",
            "SELECT 1;\n\ncommit prepared 'x';",
        ] {
            match mode(sql).unwrap_err() {
                Error::TwoPhaseCommit { position, construct, .. } => {
                    assert_eq!(position.line, 3, "{sql}");
                    assert!(
                        construct == "PREPARE TRANSACTION" || construct == "COMMIT PREPARED",
                        "{construct}"
                    );
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn groups_ordinary_statements_between_concurrent_ones() {
        let m = migration(
            "CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE INDEX CONCURRENTLY i ON a (id); ALTER TABLE a ADD c int;",
        );
        let plan = Plan::new(Dialect::Postgres, &m).unwrap();
        assert_eq!(
            plan.steps(),
            [
                Step { start: 0, end: 2, alone: false },
                Step { start: 2, end: 3, alone: true },
                Step { start: 3, end: 4, alone: false }
            ]
        );
    }
}
