//! Which statements share a transaction when haste's runner applies a script. The runner and
//! the linter both read it from here, so the linter never guesses what the runner will do.

use crate::{Statement, StatementKind, TransactionControl};

/// A transaction mode forced by a `-- haste:transaction on|off` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionMode {
    /// The whole file in one transaction; a statement that cannot run in one is an error.
    On,
    /// Every statement on its own, outside a transaction.
    Off,
}

/// Statements `start..end` of a script that the runner sends together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// First statement index.
    pub start: usize,
    /// One past the last statement index.
    pub end: usize,
    /// Outside any transaction (a statement the database refuses in one, or forced off).
    pub alone: bool,
}

/// How a script that cannot run as one transaction is cut: runs of ordinary statements each in
/// a transaction of their own, every no-transaction statement (every statement, when
/// `forced_off`) alone.
pub fn steps(statements: &[Statement], forced_off: bool) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let alone = forced_off || matches!(statement.kind, StatementKind::NoTransaction(_));
        match steps.last_mut() {
            Some(step) if !alone && !step.alone => step.end = index + 1,
            _ => steps.push(Step { start: index, end: index + 1, alone }),
        }
    }
    steps
}

fn control(statement: &Statement) -> Option<TransactionControl> {
    match statement.kind {
        StatementKind::TransactionControl(control) => Some(control),
        _ => None,
    }
}

/// `BEGIN; ...; COMMIT;` and nothing else around or between: the runner's history row can
/// join the file's own transaction, just before its `COMMIT`.
///
/// Any transaction control between the two makes it more than one transaction: a
/// `COMMIT AND CHAIN` or `ROLLBACK AND CHAIN` ([`TransactionControl::CommitAndChain`]) ends the first
/// transaction (its work is committed, or rolled back, whatever follows), and two-phase commit
/// takes the transaction away from the session. Savepoints are not transaction control
/// ([`StatementKind::Plain`]), so they may appear between.
pub fn is_one_transaction(statements: &[Statement]) -> bool {
    use TransactionControl::*;
    let (Some(first), Some(last)) = (statements.first(), statements.last()) else { return false };
    statements.len() >= 2
        && control(first) == Some(Begin)
        && control(last) == Some(Commit)
        && statements[1..statements.len() - 1].iter().all(|s| control(s).is_none())
}

/// The `BEGIN` of the file's transaction block open when statement `at` starts, if one is:
/// the first `BEGIN` after the last `COMMIT` or `ROLLBACK` before `at` (a `BEGIN` inside a
/// block, a `COMMIT` outside one, changes nothing). Read back from `at`, so only that block is.
pub fn open_block(statements: &[Statement], at: usize) -> Option<usize> {
    use TransactionControl::{Begin, Commit, Rollback};
    let start = statements[..at]
        .iter()
        .rposition(|s| matches!(control(s), Some(Commit | Rollback)))
        .map_or(0, |closing| closing + 1);
    statements[start..at].iter().position(|s| control(s) == Some(Begin)).map(|offset| start + offset)
}

/// Whether statement `at` starts the part of a block that a chained commit or rollback
/// (`COMMIT AND CHAIN`, `ROLLBACK AND CHAIN`) opened.
pub fn opened_by_chain(statements: &[Statement], at: usize) -> bool {
    at.checked_sub(1).is_some_and(|before| {
        matches!(
            control(&statements[before]),
            Some(TransactionControl::CommitAndChain | TransactionControl::RollbackAndChain)
        )
    })
}

/// The transaction-control statement (index) that opens a transaction the script never ends
/// while statements follow it in that transaction: a `BEGIN` without its `COMMIT`, or a chained
/// part with statements and no end. Run as written, that work would be rolled back when the
/// session ends, whatever history or messages say, so such a file is refused before it runs.
/// A file that ends right at a `COMMIT AND CHAIN` leaves an empty transaction: nothing is lost.
pub fn unterminated(statements: &[Statement]) -> Option<usize> {
    let (mut open, mut opening) = (false, None);
    for (index, statement) in statements.iter().enumerate() {
        match control(statement) {
            Some(TransactionControl::Begin) if !open => opening = Some(index),
            Some(TransactionControl::CommitAndChain | TransactionControl::RollbackAndChain) if open => {
                opening = Some(index)
            }
            _ => {}
        }
        open = statement.kind.transaction_open_after(open);
    }
    opening.filter(|&at| open && at + 1 < statements.len())
}

/// For each statement, the transaction it runs in when the runner applies the script (`None`:
/// outside any transaction block). Transactions are numbered in file order.
///
/// A `COMMIT AND CHAIN` or `ROLLBACK AND CHAIN` belongs to the transaction it ends, and the
/// statements after it to a new one (PostgreSQL refuses it outside a transaction block, where it
/// opens nothing). [`steps`] never sees transaction control: a script that has some runs as
/// written, unless forced on (an error) or off (every statement alone).
pub fn transaction_of_each(statements: &[Statement], forced: Option<TransactionMode>) -> Vec<Option<usize>> {
    let manages = statements.iter().any(|s| control(s).is_some());
    let has_no_tx = statements.iter().any(|s| matches!(s.kind, StatementKind::NoTransaction(_)));
    match forced {
        Some(TransactionMode::On) => vec![Some(0); statements.len()],
        // A file that manages its transactions runs as written even when forced off: haste
        // wraps nothing, and the file's own blocks stay blocks.
        Some(TransactionMode::Off) | None if manages => {
            let (mut open, mut next) = (None, 0);
            statements
                .iter()
                .map(|statement| match control(statement) {
                    Some(TransactionControl::Begin) => {
                        open = Some(next);
                        next += 1;
                        open
                    }
                    Some(TransactionControl::Commit | TransactionControl::Rollback) => open.take(),
                    Some(TransactionControl::CommitAndChain | TransactionControl::RollbackAndChain) => {
                        let ended = open;
                        if ended.is_some() {
                            open = Some(next);
                            next += 1;
                        }
                        ended
                    }
                    _ => open,
                })
                .collect()
        }
        None if has_no_tx => {
            let mut each = vec![None; statements.len()];
            for (number, step) in steps(statements, false).iter().enumerate() {
                if !step.alone {
                    each[step.start..step.end].fill(Some(number));
                }
            }
            each
        }
        Some(TransactionMode::Off) => vec![None; statements.len()],
        None => vec![Some(0); statements.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dialect, Script};

    fn each(sql: &str, forced: Option<TransactionMode>) -> Vec<Option<usize>> {
        transaction_of_each(&Script::parse(Dialect::Postgres, sql).statements, forced)
    }

    #[test]
    fn the_block_open_at_a_statement_is_found() {
        let statements = Script::parse(
            Dialect::Postgres,
            "SELECT 0; BEGIN; SELECT 1; BEGIN; COMMIT AND CHAIN; SELECT 2; COMMIT; COMMIT; SELECT 3;",
        )
        .statements;
        let open: Vec<Option<usize>> = (0..=statements.len()).map(|at| open_block(&statements, at)).collect();
        assert_eq!(open, [None, None, Some(1), Some(1), Some(1), Some(1), Some(1), None, None, None]);
        let chained: Vec<usize> =
            (0..=statements.len()).filter(|&at| opened_by_chain(&statements, at)).collect();
        assert_eq!(chained, [5]);
    }

    #[test]
    fn a_transaction_opened_and_never_ended_is_found() {
        let open = |sql: &str| unterminated(&Script::parse(Dialect::Postgres, sql).statements);
        assert_eq!(open("BEGIN; INSERT INTO t VALUES (1);"), Some(0));
        assert_eq!(open("SELECT 1; BEGIN; SELECT 2; COMMIT; BEGIN; SELECT 3;"), Some(4));
        assert_eq!(open("BEGIN; SELECT 1; COMMIT AND CHAIN; SELECT 2;"), Some(2));
        assert_eq!(open("BEGIN; SELECT 1; COMMIT AND CHAIN;"), None, "an empty transaction loses nothing");
        assert_eq!(open("BEGIN; SELECT 1; COMMIT;"), None);
        assert_eq!(open("SELECT 1;"), None);
        assert_eq!(
            each("-- haste:transaction off\nBEGIN; SELECT 1; COMMIT; SELECT 2;", Some(TransactionMode::Off)),
            [Some(0), Some(0), Some(0), None]
        );
    }

    #[test]
    fn numbers_the_transactions_the_runner_will_use() {
        assert_eq!(each("SELECT 1; SELECT 2;", None), [Some(0), Some(0)]);
        assert_eq!(
            each("SELECT 1; SELECT 2; CREATE INDEX CONCURRENTLY i ON t (a); SELECT 3;", None),
            [Some(0), Some(0), None, Some(2)]
        );
        assert_eq!(
            each("SELECT 0; BEGIN; SELECT 1; COMMIT; SELECT 2;", None),
            [None, Some(0), Some(0), Some(0), None]
        );
        assert_eq!(each("SELECT 1; SELECT 2;", Some(TransactionMode::Off)), [None, None]);
        assert_eq!(each("CREATE INDEX CONCURRENTLY i ON t (a);", Some(TransactionMode::On)), [Some(0)]);
    }

    fn one(sql: &str) -> bool {
        is_one_transaction(&Script::parse(Dialect::Postgres, sql).statements)
    }

    #[test]
    fn a_chained_commit_starts_the_next_transaction() {
        assert_eq!(
            each(
                "BEGIN; SELECT 1; COMMIT AND CHAIN; SELECT 2; ROLLBACK AND CHAIN; SELECT 3; COMMIT; SELECT 4;",
                None
            ),
            [Some(0), Some(0), Some(0), Some(1), Some(1), Some(2), Some(2), None]
        );
        // PostgreSQL refuses a chain outside a transaction block; it opens nothing.
        assert_eq!(each("COMMIT AND CHAIN; SELECT 1;", None), [None, None]);
    }

    #[test]
    fn one_transaction_means_no_transaction_control_between() {
        assert!(one("BEGIN; SELECT 1; COMMIT;"));
        assert!(one("BEGIN; SAVEPOINT s; SELECT 1; ROLLBACK TO SAVEPOINT s; RELEASE s; COMMIT;"));
        assert!(!one("BEGIN; SELECT 1; COMMIT AND CHAIN; SELECT 2; COMMIT;"));
        assert!(!one("BEGIN; SELECT 1; ROLLBACK AND CHAIN; SELECT 2; COMMIT;"));
        assert!(!one("BEGIN; SELECT 1; COMMIT AND CHAIN;"));
        assert!(!one("BEGIN; SELECT 1; PREPARE TRANSACTION 'x'; COMMIT;"));
        assert!(!one("BEGIN; SELECT 1; COMMIT; BEGIN; SELECT 2; COMMIT;"));
    }

    #[test]
    fn savepoints_alone_leave_the_transaction_to_the_runner() {
        assert_eq!(each("SAVEPOINT s; SELECT 1; RELEASE s;", None), [Some(0), Some(0), Some(0)]);
    }
}
