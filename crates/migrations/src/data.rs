//! Data migrations: `data.sql` (and `data.down.sql`) beside `migration.sql`, run in batches
//! over a key range.
//!
//! ```sql
//! -- haste:data table=contacts key=id batch=5000
//! UPDATE contacts SET score = calculate_score(data) WHERE :range AND score IS NULL;
//! ```
//! `:range` becomes the batch's key range (`"id" > '41000' AND "id" <= '46000'`), `:end` its
//! upper key. Optional settings: `target=50ms` (batch duration the size adapts to, 50 ms by default),
//! `max-rate=<rows per second>`.

use std::path::Path;
use std::time::Duration;

use crate::{Error, SqlFile, parse_duration};

/// A batched data step.
#[derive(Debug, Clone)]
pub struct DataStep {
    /// The file.
    pub file: SqlFile,
    /// Schema of the table, when qualified.
    pub schema: Option<String>,
    /// The table walked.
    pub table: String,
    /// Its key column: unique, ordered (a primary key).
    pub key: String,
    /// Rows per batch to start with.
    pub batch_size: u64,
    /// The batch duration the size adapts to.
    pub target: Duration,
    /// At most this many rows per second, when set.
    pub max_rate: Option<u64>,
    /// The statement, with `:range` and `:end` placeholders.
    pub statement: String,
}

/// The placeholders of a data statement, found only in its code (never in a comment or a string:
/// a `-- :range` would have passed for one, and every batch updated the whole table).
const PLACEHOLDERS: [&str; 2] = ["range", "end"];

/// `statement` with each `:range` replaced by `range` in parentheses and each `:end` by `end`.
fn fill(statement: &str, range: &str, end: &str) -> String {
    let mut filled = String::with_capacity(statement.len() + range.len());
    let mut copied = 0;
    for placeholder in haste_sql::placeholders(statement, &PLACEHOLDERS) {
        filled.push_str(&statement[copied..placeholder.offset]);
        match placeholder.name {
            "range" => {
                filled.push('(');
                filled.push_str(range);
                filled.push(')');
            }
            _ => filled.push_str(end),
        }
        copied = placeholder.offset + 1 + placeholder.name.len();
    }
    filled.push_str(&statement[copied..]);
    filled
}

const DEFAULT_BATCH: u64 = 1000;
/// A batch holds the row locks of its rows until it commits: an application write to one of
/// them waits that long, so the default stays well inside the lock budget's 100 ms.
const DEFAULT_TARGET: Duration = Duration::from_millis(50);
/// A batch is a `LIMIT`, which PostgreSQL reads as a `bigint`.
const MAX_BATCH: u64 = i64::MAX as u64;

/// The header line of a data file over `schema.table` keyed by `key`, each name written bare
/// when it can be read back as it is and in double quotes otherwise.
pub fn data_header(schema: &str, table: &str, key: &str) -> String {
    let name = |name: &str| {
        if !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '"' || c == '.') {
            name.to_owned()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    };
    format!("-- haste:data table={}.{} key={}", name(schema), name(table), name(key))
}

/// The header's `name=value` settings, cut at white space outside double quotes.
fn settings(text: &str) -> Vec<String> {
    let (mut settings, mut current, mut quoted) = (Vec::new(), String::new(), false);
    for c in text.chars() {
        if c.is_whitespace() && !quoted {
            if !current.is_empty() {
                settings.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c == '"' {
            quoted = !quoted;
        }
        current.push(c);
    }
    if !current.is_empty() {
        settings.push(current);
    }
    settings
}

/// The dotted names of a setting's value: each bare (taken as written) or in double quotes
/// (`""` for a quote); `None` when a name is empty or a quote is not closed.
fn names(value: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        name.push('"');
                    }
                    '"' => break,
                    c => name.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return None;
                }
                name.push(c);
                chars.next();
            }
        }
        if name.is_empty() {
            return None;
        }
        names.push(name);
        match chars.next() {
            None => return Some(names),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

impl DataStep {
    /// The table walked, quoted as SQL text (schema-qualified when the header qualifies it).
    pub fn relation(&self) -> String {
        match &self.schema {
            Some(schema) => {
                format!("{}.{}", haste_sql::quote_ident(schema), haste_sql::quote_ident(&self.table))
            }
            None => haste_sql::quote_ident(&self.table),
        }
    }

    /// The statement of the batch whose key range is `range` (a condition) and whose last key is
    /// `end` (a literal).
    pub fn batch_statement(&self, range: &str, end: &str) -> String {
        fill(&self.statement, range, end)
    }

    /// Reads the header and the statement of a data file.
    pub fn parse(file: SqlFile) -> Result<DataStep, Error> {
        let bad = |line: usize, text: &str, reason: &str| Error::BadDirective {
            path: file.path.clone(),
            line,
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (number, header) = file
            .sql
            .lines()
            .enumerate()
            .find(|(_, line)| line.trim_start().starts_with("-- haste:data"))
            .map(|(i, line)| (i + 1, line.trim().to_owned()))
            .ok_or_else(|| {
                // The line quoted is the file's first that holds anything: where the header was due.
                let (index, first) =
                    file.sql.lines().enumerate().find(|(_, line)| !line.trim().is_empty()).unwrap_or((0, ""));
                bad(
                    index + 1,
                    first.trim(),
                    "a data file starts with `-- haste:data table=<table> key=<column>`",
                )
            })?;
        let mut table = None;
        let (mut key, mut batch_size, mut target, mut max_rate) = (None, DEFAULT_BATCH, DEFAULT_TARGET, None);
        let mut seen: Vec<String> = Vec::new();
        for setting in settings(&header["-- haste:data".len()..]) {
            let (name, value) =
                setting.split_once('=').ok_or_else(|| bad(number, &header, "settings are name=value"))?;
            if seen.iter().any(|earlier| earlier == name) {
                return Err(bad(
                    number,
                    &header,
                    &format!("`{name}` is given twice; which one was meant cannot be told"),
                ));
            }
            seen.push(name.to_owned());
            match name {
                "table" => table = Some(value.to_owned()),
                "key" => key = Some(value.to_owned()),
                "batch" => {
                    batch_size =
                        value.parse().ok().filter(|size| (1..=MAX_BATCH).contains(size)).ok_or_else(|| {
                            bad(
                                number,
                                &header,
                                &format!("batch is a whole number from 1 to {MAX_BATCH}, not `{value}`"),
                            )
                        })?
                }
                "target" => {
                    target =
                        parse_duration(value).map_err(|e| bad(number, &header, &format!("target: {e}")))?
                }
                "max-rate" => {
                    // Zero rows per second would never finish (the walk waits forever for
                    // its next batch's share).
                    max_rate = Some(value.parse().ok().filter(|rate| *rate > 0).ok_or_else(|| {
                        bad(
                            number,
                            &header,
                            &format!("max-rate is rows per second from 1 to {}, not `{value}`", u64::MAX),
                        )
                    })?)
                }
                _ => {
                    return Err(bad(
                        number,
                        &header,
                        "unknown setting (table, key, batch, target, max-rate)",
                    ));
                }
            }
        }
        let table = table.ok_or_else(|| bad(number, &header, "table=<table> is required"))?;
        let key = key.ok_or_else(|| bad(number, &header, "key=<column> is required"))?;
        let quoting = "a name with spaces, dots or quotes is written in double quotes (\"my table\")";
        let (schema, table) = match names(&table).as_deref() {
            Some([schema, table]) => (Some(schema.clone()), table.clone()),
            Some([table]) => (None, table.clone()),
            _ => return Err(bad(number, &header, &format!("table=[<schema>.]<table>: {quoting}"))),
        };
        let key = match names(&key).as_deref() {
            Some([key]) => key.clone(),
            _ => return Err(bad(number, &header, &format!("key=<column>: {quoting}"))),
        };
        let statement: String = file
            .sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("-- haste:data"))
            .collect::<Vec<_>>()
            .join("\n");
        let statement = statement.trim().trim_end_matches(';').trim().to_owned();
        if haste_sql::placeholders(&statement, &PLACEHOLDERS).is_empty() {
            return Err(bad(number, &header, "the statement must use :range (or :end) to stay in its batch"));
        }
        // Each batch runs the statement in a transaction with its progress: a second statement,
        // or a COMMIT, would commit a batch without its progress and repeat it on resume.
        let script =
            haste_sql::Script::parse(haste_sql::Dialect::Postgres, &fill(&statement, "TRUE", "NULL"));
        if !matches!(script.statements.as_slice(), [only] if only.kind == haste_sql::StatementKind::Plain) {
            return Err(bad(
                number,
                &header,
                "a data file holds exactly one statement, without transaction control: each batch runs it in a transaction of its own",
            ));
        }
        Ok(DataStep { file, schema, table, key, batch_size, target, max_rate, statement })
    }

    /// Reads and parses `path`, if it exists.
    pub fn read(path: &Path) -> Result<Option<DataStep>, Error> {
        SqlFile::read(path)?.map(DataStep::parse).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checksum;

    fn file(sql: &str) -> SqlFile {
        SqlFile { path: "data.sql".into(), sql: sql.into(), checksum: Checksum::of(sql) }
    }

    #[test]
    fn refuses_more_than_one_statement_or_transaction_control() {
        for sql in [
            "-- haste:data table=t key=id\nUPDATE t SET n = 1 WHERE :range; COMMIT; SELECT 1",
            "-- haste:data table=t key=id\nUPDATE t SET n = 1 WHERE :range; UPDATE u SET n = 1 WHERE :range",
        ] {
            let file =
                SqlFile { path: "data.sql".into(), sql: sql.into(), checksum: crate::Checksum::of(sql) };
            assert!(DataStep::parse(file).is_err(), "{sql}");
        }
    }

    #[test]
    fn reads_the_header_and_the_statement() {
        let step = DataStep::parse(file(
            "-- haste:data table=crm.contacts key=id batch=5000 target=100ms max-rate=20000\nUPDATE crm.contacts SET n = n + 1 WHERE :range;\n",
        ))
        .unwrap();
        assert_eq!(
            (step.schema.as_deref(), step.table.as_str(), step.key.as_str()),
            (Some("crm"), "contacts", "id")
        );
        assert_eq!(
            (step.batch_size, step.target, step.max_rate),
            (5000, Duration::from_millis(100), Some(20000))
        );
        assert_eq!(step.statement, "UPDATE crm.contacts SET n = n + 1 WHERE :range");
    }

    /// `:range` counts only where PostgreSQL reads code: one in a comment is no placeholder (the
    /// statement, unranged, ran on the whole table in every batch), one in a string or a longer
    /// name is left alone.
    #[test]
    fn placeholders_count_only_in_code() {
        let header = "-- haste:data table=t key=id";
        for unranged in [
            "UPDATE t SET n = n + 1 -- :range",
            "UPDATE t SET s = ':range'",
            "UPDATE t SET n = 1 WHERE :ranges",
        ] {
            let error = DataStep::parse(file(&format!("{header}\n{unranged};"))).unwrap_err().to_string();
            assert!(error.contains("must use :range"), "{unranged}: {error}");
        }
        let step = DataStep::parse(file(&format!(
            "{header}\nUPDATE t SET s = ':range /* :end */', n = $$:end$$ WHERE :range AND id <= :end -- :range"
        )))
        .unwrap();
        assert_eq!(
            step.batch_statement("id <= '7'", "'7'"),
            "UPDATE t SET s = ':range /* :end */', n = $$:end$$ WHERE (id <= '7') AND id <= '7' -- :range"
        );
    }

    #[test]
    fn names_in_double_quotes_come_back_as_written() {
        for (schema, table, key) in [("my.schema", "Wéird \"T\" name", "the key"), ("crm", "contacts", "id")]
        {
            let header = data_header(schema, table, key);
            let step = DataStep::parse(file(&format!("{header}\nUPDATE t SET n = 1 WHERE :range;"))).unwrap();
            assert_eq!(
                (step.schema.as_deref(), step.table.as_str(), step.key.as_str()),
                (Some(schema), table, key)
            );
        }
        assert_eq!(data_header("crm", "contacts", "id"), "-- haste:data table=crm.contacts key=id");
        for unreadable in
            ["table=\"open key=id", "table=a..b key=id", "table=a.b.c key=id", "table=t key=a\"b"]
        {
            let text = format!("-- haste:data {unreadable}\nUPDATE t SET n = 1 WHERE :range;");
            assert!(DataStep::parse(file(&text)).is_err(), "{unreadable}");
        }
    }

    #[test]
    fn a_setting_given_twice_is_refused() {
        for header in ["table=a key=id table=b", "table=a key=id key=id", "table=a key=id batch=1 batch=2"] {
            let text = format!("-- haste:data {header}\nUPDATE t SET n = 1 WHERE :range;");
            let error = DataStep::parse(file(&text)).unwrap_err().to_string();
            assert!(error.contains("given twice"), "{header}: {error}");
        }
    }

    #[test]
    fn a_missing_header_quotes_the_line_where_it_was_due() {
        let error = DataStep::parse(file("\n\nUPDATE t SET n = 1 WHERE :range;")).unwrap_err().to_string();
        assert!(
            error.starts_with("data.sql:3: ") && error.ends_with("`UPDATE t SET n = 1 WHERE :range;`"),
            "{error}"
        );
    }

    #[test]
    fn refuses_files_that_cannot_run_in_batches() {
        assert!(DataStep::parse(file("UPDATE t SET n = 1;")).is_err());
        assert!(DataStep::parse(file("-- haste:data table=t key=id\nUPDATE t SET n = 1;")).is_err());
        assert!(DataStep::parse(file("-- haste:data key=id\nUPDATE t SET n = 1 WHERE :range;")).is_err());
        assert!(
            DataStep::parse(file(
                "-- haste:data table=t key=id batch=many\nUPDATE t SET n = 1 WHERE :range;"
            ))
            .is_err()
        );
    }

    #[test]
    fn numbers_out_of_range_are_errors_naming_the_value() {
        let error = |header: &str| {
            DataStep::parse(file(&format!(
                "-- haste:data table=t key=id {header}\nUPDATE t SET n = 1 WHERE :range;"
            )))
            .unwrap_err()
            .to_string()
        };
        assert!(error("batch=99999999999999999999").contains("not `99999999999999999999`"));
        assert!(error("batch=9223372036854775808").contains("from 1 to 9223372036854775807"));
        assert!(error("batch=0").contains("not `0`"));
        assert!(error("target=18446744073709551615s").contains("target: `18446744073709551615s` is longer"));
        assert!(error("max-rate=18446744073709551616").contains("not `18446744073709551616`"));
        assert!(error("max-rate=0").contains("from 1 to"), "zero rows per second never finishes");
    }
}
