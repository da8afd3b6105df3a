//! SQLite scripts, split by the rules of SQLite's `sqlite3_complete()`: a `;` ends a statement
//! unless it sits in a string, a quoted name, a comment or a trigger body (which ends at `END;`).

use crate::{Script, Statement, StatementKind, TransactionControl, trivia};

pub(crate) fn parse(sql: &str) -> Script {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut words = StatementWords::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => {
                words.other(false);
                i = quoted_end(bytes, i, bytes[i]);
            }
            b'[' => {
                words.other(false);
                i = bytes[i..].iter().position(|&b| b == b']').map_or(bytes.len(), |n| i + n + 1);
            }
            b'-' if bytes[i..].starts_with(b"--") => {
                i = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| i + n + 1)
            }
            b'/' if bytes[i..].starts_with(b"/*") => {
                i = sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2)
            }
            b';' => {
                if !words.in_trigger() || words.last_is_end {
                    push_statement(sql, start, i, &mut statements);
                    start = i + 1;
                    words = StatementWords::default();
                } else {
                    words.other(false);
                }
                i += 1;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80))
                    .map_or(bytes.len(), |n| i + n);
                words.push(&sql[i..end]);
                i = end;
            }
            b if b.is_ascii_whitespace() => i += 1,
            b => {
                words.other(b == b'.');
                i += 1;
            }
        }
    }
    push_statement(sql, start, sql.len(), &mut statements);
    if statements.iter().any(|s| matches!(s.kind, StatementKind::TransactionControl(_))) {
        savepoints_outside_transactions(&mut statements);
    }
    Script { statements, parse_error: None }
}

/// In a script that manages its own transactions (run as written, never wrapped by the
/// runner), a `SAVEPOINT` outside every transaction opens one, as `BEGIN` would, and the
/// `RELEASE` of that outermost savepoint commits it: SQLite's rules. So they are transaction
/// control there; savepoints inside a transaction stay [`StatementKind::Plain`]. In a script
/// without transaction control of its own the runner wraps the statements in its transaction,
/// and every savepoint is nested in it.
fn savepoints_outside_transactions(statements: &mut [Statement]) {
    use TransactionControl::*;
    let mut open = false;
    // The savepoints of a transaction a savepoint opened, outermost first (empty in a
    // transaction `BEGIN` opened: releasing any of them commits nothing).
    let mut names: Vec<String> = Vec::new();
    for statement in statements {
        let text = &statement.text[statement.start - statement.offset..];
        match (statement.kind, savepoint_statement(text)) {
            (StatementKind::TransactionControl(Begin), _) => (open, names) = (true, Vec::new()),
            (StatementKind::TransactionControl(_), _) => (open, names) = (false, Vec::new()),
            (_, Some(Savepoint::Open(name))) if !open => {
                statement.kind = StatementKind::TransactionControl(Begin);
                (open, names) = (true, vec![name]);
            }
            (_, Some(Savepoint::Open(name))) if !names.is_empty() => names.push(name),
            (_, Some(Savepoint::Release(name))) => match names.iter().rposition(|n| *n == name) {
                Some(0) => {
                    statement.kind = StatementKind::TransactionControl(Commit);
                    (open, names) = (false, Vec::new());
                }
                Some(at) => names.truncate(at),
                None => {}
            },
            (_, Some(Savepoint::RollbackTo(name))) => {
                if let Some(at) = names.iter().rposition(|n| *n == name) {
                    names.truncate(at + 1);
                }
            }
            _ => {}
        }
    }
}

/// Whether a SQLite statement sets a pragma (`PRAGMA foreign_keys = OFF`, `PRAGMA
/// ignore_check_constraints(1)`), which stays set for the rest of the session whatever a
/// rollback does.
pub fn sets_pragma(statement: &Statement) -> bool {
    let text = statement.text[statement.start - statement.offset..].trim_start();
    text.as_bytes().get(..6).is_some_and(|word| word.eq_ignore_ascii_case(b"pragma"))
        && (text.contains('=') || text.contains('('))
}

/// A savepoint statement and the savepoint it names (as SQLite compares names: quotes
/// removed, ASCII case ignored).
enum Savepoint {
    Open(String),
    Release(String),
    RollbackTo(String),
}

fn savepoint_statement(text: &str) -> Option<Savepoint> {
    let mut rest = text;
    let mut keyword = |word: &str| {
        let trimmed = &rest[trivia::leading_len(rest)..];
        // By bytes: the keyword is ASCII, the text may hold any character where it is not.
        let matches = trimmed
            .as_bytes()
            .get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()))
            && !trimmed[word.len()..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if matches {
            rest = &trimmed[word.len()..];
        }
        matches
    };
    let verb = if keyword("SAVEPOINT") {
        Savepoint::Open
    } else if keyword("RELEASE") {
        keyword("SAVEPOINT");
        Savepoint::Release
    } else if keyword("ROLLBACK") {
        keyword("TRANSACTION");
        if !keyword("TO") {
            return None;
        }
        keyword("SAVEPOINT");
        Savepoint::RollbackTo
    } else {
        return None;
    };
    savepoint_name(&rest[trivia::leading_len(rest)..]).map(verb)
}

fn savepoint_name(text: &str) -> Option<String> {
    let close = match text.chars().next()? {
        '"' => '"',
        '`' => '`',
        '\'' => '\'',
        '[' => ']',
        _ => {
            let end =
                text.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(text.len());
            return (end > 0).then(|| text[..end].to_ascii_lowercase());
        }
    };
    let inner = &text[1..];
    let end = inner.find(close).unwrap_or(inner.len());
    Some(inner[..end].to_ascii_lowercase())
}

fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            // A doubled quote is an escaped quote, not the end.
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn push_statement(sql: &str, start: usize, end: usize, statements: &mut Vec<Statement>) {
    if trivia::is_blank(&sql[start..end]) {
        return;
    }
    let mut statement = Statement::new(sql, start, end, StatementKind::Plain);
    statement.kind = classify(&sql[statement.start..end]);
    statements.push(statement);
}

/// The first words of the statement being scanned: enough to know a trigger body and where it
/// ends. In a trigger, `CASE` opens an expression that its own `END` closes; only an `END` that
/// closes no `CASE`, followed by `;`, ends the trigger.
#[derive(Default)]
struct StatementWords {
    leading: Vec<String>,
    /// The last token was an `END` that closes the trigger body.
    last_is_end: bool,
    /// `CASE` expressions open in the trigger.
    case_depth: usize,
    /// The last token was `.`: the next word is a name (`new.end`), never a keyword.
    after_dot: bool,
}

impl StatementWords {
    fn push(&mut self, word: &str) {
        if self.leading.len() < 3 {
            self.leading.push(word.to_ascii_uppercase());
        }
        let keyword = !std::mem::take(&mut self.after_dot);
        self.last_is_end = false;
        if keyword && self.in_trigger() {
            if word.eq_ignore_ascii_case("case") {
                self.case_depth += 1;
            } else if word.eq_ignore_ascii_case("end") {
                match self.case_depth {
                    0 => self.last_is_end = true,
                    _ => self.case_depth -= 1,
                }
            }
        }
    }

    /// Any token but a word: a string, a quoted name, punctuation.
    fn other(&mut self, dot: bool) {
        self.last_is_end = false;
        self.after_dot = dot;
    }

    fn in_trigger(&self) -> bool {
        match self.leading.as_slice() {
            [create, trigger, ..] if create == "CREATE" && trigger == "TRIGGER" => true,
            [create, temp, trigger] => {
                create == "CREATE" && (temp == "TEMP" || temp == "TEMPORARY") && trigger == "TRIGGER"
            }
            _ => false,
        }
    }
}

fn classify(text: &str) -> StatementKind {
    let mut words = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase);
    let first = words.next().unwrap_or_default();
    let second = words.next().unwrap_or_default();
    use TransactionControl::*;
    match (first.as_str(), second.as_str()) {
        ("VACUUM", _) => StatementKind::NoTransaction("VACUUM"),
        // SQLite silently ignores these inside a transaction.
        ("PRAGMA", "FOREIGN_KEYS") => StatementKind::NoTransaction("PRAGMA foreign_keys"),
        ("PRAGMA", "JOURNAL_MODE") => StatementKind::NoTransaction("PRAGMA journal_mode"),
        ("BEGIN", _) => StatementKind::TransactionControl(Begin),
        ("COMMIT" | "END", _) => StatementKind::TransactionControl(Commit),
        // Savepoints run inside the transaction they are in (or open one of their own that
        // their RELEASE ends): they do not take the script's transaction away from the runner.
        ("ROLLBACK", "TO") => StatementKind::Plain,
        ("ROLLBACK", "TRANSACTION") if words.next().as_deref() == Some("TO") => StatementKind::Plain,
        ("ROLLBACK", _) => StatementKind::TransactionControl(Rollback),
        ("SAVEPOINT" | "RELEASE", _) => StatementKind::Plain,
        _ => StatementKind::Plain,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Dialect, Script, StatementKind, TransactionControl};

    #[test]
    fn a_keyword_beside_a_wide_character_is_read_without_a_panic() {
        let script = crate::Script::parse(
            crate::Dialect::Sqlite,
            "REINDEX'\u{1f980}[COMMIT \\CONCURRENTLY FOR EACH ROW--`",
        );
        assert!(script.statements.len() <= 1);
        let script = crate::Script::parse(crate::Dialect::Sqlite, "BEGIN; SAVEPOIN\u{e9} a; COMMIT;");
        assert_eq!(script.statements.len(), 3);
    }

    fn texts(sql: &str) -> Vec<String> {
        Script::parse(Dialect::Sqlite, sql)
            .statements
            .iter()
            .map(|s| s.text[s.start - s.offset..].trim_end().to_owned())
            .collect()
    }

    #[test]
    fn keeps_trigger_bodies_strings_and_quoted_names_whole() {
        let sql = "CREATE TABLE \"a;b\" (x TEXT DEFAULT 'x;''y');
CREATE TEMP TRIGGER t AFTER INSERT ON [a;b] BEGIN
  UPDATE \"a;b\" SET x = 'z;'; -- comment;
  DELETE FROM `a;b`;
END;
/* c; */ SELECT 1";
        let texts = texts(sql);
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert!(texts[1].starts_with("CREATE TEMP TRIGGER") && texts[1].ends_with("END"));
        assert_eq!(texts[2], "SELECT 1");
    }

    fn kinds(sql: &str) -> Vec<StatementKind> {
        Script::parse(Dialect::Sqlite, sql).statements.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn case_end_inside_a_trigger_does_not_end_it() {
        let sql = "CREATE TABLE a (x integer);
CREATE TRIGGER a_check BEFORE INSERT ON a BEGIN
  SELECT CASE WHEN new.x < 0 THEN RAISE(ABORT, 'negative') END;
END;";
        let texts = texts(sql);
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert!(texts[1].starts_with("CREATE TRIGGER") && texts[1].ends_with("END;\nEND"), "{texts:#?}");
        assert_eq!(kinds(sql), [StatementKind::Plain, StatementKind::Plain]);
    }

    #[test]
    fn nested_case_and_case_in_update_inside_a_trigger() {
        let sql = "CREATE TRIGGER t AFTER UPDATE ON a WHEN (CASE new.x WHEN 1 THEN 1 ELSE 0 END) = 1 BEGIN
  UPDATE b SET y = CASE WHEN new.x > 0 THEN CASE WHEN new.x > 9 THEN 'big;' ELSE 'small' END ELSE 'none' END
    WHERE id = new.id;
  INSERT INTO log VALUES (case when new.x is null then 0 else 1 end);
  DELETE FROM c WHERE z = (CASE new.x WHEN 2 THEN 3 END);
end;
SELECT 2;";
        let texts = texts(sql);
        assert_eq!(texts.len(), 2, "{texts:#?}");
        assert!(texts[0].ends_with("END);\nend"), "{texts:#?}");
        assert_eq!(texts[1], "SELECT 2");
        assert_eq!(kinds(sql), [StatementKind::Plain, StatementKind::Plain]);
    }

    #[test]
    fn quoted_end_and_case_names_in_a_trigger_are_names() {
        let sql = "CREATE TRIGGER t BEFORE DELETE ON \"case\" BEGIN
  UPDATE \"end\" SET [case] = `end`, \"CASE\" = 'case', x = new.end WHERE 'end' = old.\"end\";
  /* case */ -- end;
  SELECT 1;
END;
CREATE TEMP TRIGGER u AFTER INSERT ON t BEGIN SELECT 'end;'; END;
SELECT 3";
        let texts = texts(sql);
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert!(texts[0].ends_with("SELECT 1;\nEND"), "{texts:#?}");
        assert!(texts[1].starts_with("CREATE TEMP TRIGGER u") && texts[1].ends_with("'end;'; END"));
        assert_eq!(texts[2], "SELECT 3");
        assert!(kinds(sql).iter().all(|k| *k == StatementKind::Plain));
    }

    #[test]
    fn classifies_vacuum_pragmas_and_transaction_control() {
        let kinds: Vec<_> = Script::parse(
            Dialect::Sqlite,
            "BEGIN; VACUUM; PRAGMA foreign_keys = OFF; PRAGMA user_version = 3; END; ROLLBACK TO s;",
        )
        .statements
        .iter()
        .map(|s| s.kind)
        .collect();
        assert_eq!(
            kinds,
            [
                StatementKind::TransactionControl(TransactionControl::Begin),
                StatementKind::NoTransaction("VACUUM"),
                StatementKind::NoTransaction("PRAGMA foreign_keys"),
                StatementKind::Plain,
                StatementKind::TransactionControl(TransactionControl::Commit),
                StatementKind::Plain,
            ]
        );
    }

    #[test]
    fn savepoints_are_plain_where_the_runner_wraps_the_script() {
        let script = Script::parse(
            Dialect::Sqlite,
            "SAVEPOINT s; RELEASE s; RELEASE SAVEPOINT s; ROLLBACK TO s; ROLLBACK TRANSACTION TO SAVEPOINT s;",
        );
        assert!(script.statements.iter().all(|s| s.kind == StatementKind::Plain));
        assert!(
            !Script::parse(Dialect::Sqlite, "SAVEPOINT s; CREATE TABLE t (x); RELEASE s;")
                .manages_transactions()
        );
    }

    /// In a script run as written, a savepoint outside every transaction opens one and the
    /// release of that outermost savepoint commits it (SQLite's rules); nested savepoints, and
    /// those inside a transaction `BEGIN` opened, stay plain.
    #[test]
    fn a_savepoint_outside_a_transaction_of_a_script_run_as_written_opens_one() {
        use StatementKind::{Plain, TransactionControl as Control};
        use TransactionControl::*;
        assert_eq!(
            kinds(
                "BEGIN; COMMIT; END TRANSACTION; ROLLBACK; ROLLBACK TRANSACTION;
                 SAVEPOINT \"A\"; SAVEPOINT b; ROLLBACK TO a; SAVEPOINT b; RELEASE SAVEPOINT b; SELECT 1; RELEASE a;
                 BEGIN; SAVEPOINT c; RELEASE c; COMMIT;
                 SAVEPOINT d; SAVEPOINT d; RELEASE d; ROLLBACK TRANSACTION TO SAVEPOINT [d]; RELEASE \"d\";
                 SAVEPOINT e; INSERT INTO t VALUES (1); COMMIT; RELEASE e;"
            ),
            [
                Control(Begin),
                Control(Commit),
                Control(Commit),
                Control(Rollback),
                Control(Rollback),
                Control(Begin),
                Plain,
                Plain,
                Plain,
                Plain,
                Plain,
                Control(Commit),
                Control(Begin),
                Plain,
                Plain,
                Control(Commit),
                Control(Begin),
                Plain,
                Plain,
                Plain,
                Control(Commit),
                Control(Begin),
                Plain,
                Control(Commit),
                Plain,
            ]
        );
    }
}
