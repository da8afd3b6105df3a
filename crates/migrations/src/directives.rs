//! `-- haste:` directives in the comment block that opens a migration file.

use std::path::Path;
use std::time::Duration;

use crate::{Error, duration::parse_duration};

/// How a migration asks to be run. Every field left `None` falls back to configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- haste:transaction on|off`: force a transaction mode instead of detecting it.
    pub transaction: Option<TransactionMode>,
    /// `-- haste:lock-timeout 2s`: `lock_timeout` for each statement.
    pub lock_timeout: Option<Duration>,
    /// `-- haste:statement-timeout 30min`: `statement_timeout` for each statement.
    pub statement_timeout: Option<Duration>,
    /// `-- haste:retries 5`: attempts after a lock timeout or deadlock.
    pub retries: Option<u32>,
    /// `-- haste:after <migration>`: not applied by the run that applies `<migration>`, so a
    /// contracting change waits for the next release.
    pub after: Option<String>,
}

pub use haste_sql::TransactionMode;

const PREFIX: &str = "haste:";

/// The directives that change how a file runs (the linter's `allow` lines are not among them).
const RUN_SETTINGS: &[&str] = &["transaction", "lock-timeout", "statement-timeout", "retries", "after"];

impl Directives {
    /// Reads the directives from the comment lines at the top of `text` (until the first line
    /// that is neither blank nor a `--` comment).
    pub fn parse(path: &Path, text: &str) -> Result<Directives, Error> {
        let mut directives = Directives::default();
        let mut seen = Vec::new();
        let mut in_header = true;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            let bad = |reason: String| Error::BadDirective {
                path: path.to_owned(),
                line: index + 1,
                text: line.to_owned(),
                reason,
            };
            let Some(comment) = line.strip_prefix("--").filter(|_| in_header) else {
                in_header = false;
                // A run setting below the first statement would be silently ignored: the file
                // would run otherwise than its author asked. (Lint's `allow` lines go anywhere.)
                let setting = line.strip_prefix("--").map(str::trim).and_then(|c| c.strip_prefix(PREFIX));
                if let Some(name) = setting.and_then(|d| d.split_whitespace().next())
                    && RUN_SETTINGS.contains(&name)
                {
                    return Err(bad("a directive takes effect only in the comment lines at the top of the file, before the first statement".into()));
                }
                continue;
            };
            let comment = comment.trim();
            let Some(directive) = comment.strip_prefix(PREFIX) else {
                // `-- HASTE:transaction off` was meant as a directive; ignoring it would run the
                // file in another mode than its author asked for.
                if comment.get(..PREFIX.len()).is_some_and(|start| start.eq_ignore_ascii_case(PREFIX)) {
                    return Err(bad(format!("directives are written in lower case: `-- {PREFIX}...`")));
                }
                continue;
            };
            let (name, argument) = directive.split_once(char::is_whitespace).unwrap_or((directive, ""));
            let argument = argument.trim();
            if RUN_SETTINGS.contains(&name) {
                if seen.contains(&name) {
                    return Err(bad(format!("`{name}` is given twice; which one was meant cannot be told")));
                }
                seen.push(name);
            }
            match name {
                "transaction" => {
                    directives.transaction = Some(match argument {
                        "on" => TransactionMode::On,
                        "off" => TransactionMode::Off,
                        _ => return Err(bad("expected `on` or `off`".into())),
                    })
                }
                "after" if !argument.is_empty() => directives.after = Some(argument.to_owned()),
                "after" => return Err(bad("expected the name of a migration".into())),
                "lock-timeout" => directives.lock_timeout = Some(parse_duration(argument).map_err(bad)?),
                "statement-timeout" => {
                    directives.statement_timeout = Some(parse_duration(argument).map_err(bad)?)
                }
                "retries" => {
                    directives.retries = Some(argument.parse().map_err(|_| {
                        bad(format!("expected a whole number from 0 to {}, not `{argument}`", u32::MAX))
                    })?)
                }
                // The linter's suppressions share the prefix; they are not run settings.
                "allow" | "allow-file" => {}
                _ => {
                    return Err(bad(
                        "unknown directive (known: transaction, lock-timeout, statement-timeout, retries, after, allow, allow-file)"
                            .into(),
                    ));
                }
            }
        }
        Ok(directives)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directives_from_the_header_only() {
        let text = "-- a note\n-- haste:transaction off\n--haste:lock-timeout 500ms\n\n-- haste:retries 5\n-- haste:allow-file drop-column reason=\"x\"\n-- haste:after 1_expand\nSELECT 1;\n-- haste:allow drop-table reason=\"y\"\nSELECT 2;\n";
        let directives = Directives::parse(Path::new("m.sql"), text).unwrap();
        assert_eq!(directives.transaction, Some(TransactionMode::Off));
        assert_eq!(directives.lock_timeout, Some(Duration::from_millis(500)));
        assert_eq!(directives.retries, Some(5));
        assert_eq!(directives.after.as_deref(), Some("1_expand"));
    }

    #[test]
    fn a_setting_given_twice_or_below_the_first_statement_is_an_error() {
        let twice =
            Directives::parse(Path::new("m.sql"), "-- haste:transaction off\n-- haste:transaction on\n");
        assert!(twice.unwrap_err().to_string().contains("given twice"));
        let late = Directives::parse(Path::new("m.sql"), "SELECT 1;\n-- haste:transaction off\nSELECT 2;\n");
        assert!(late.unwrap_err().to_string().contains("m.sql:2"));
    }

    #[test]
    fn a_misspelt_directive_is_an_error_naming_its_line() {
        let error = Directives::parse(Path::new("m.sql"), "\n-- haste:transation off\n").unwrap_err();
        assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{error}");
        let error = Directives::parse(Path::new("m.sql"), "-- haste:transaction maybe\n").unwrap_err();
        assert!(error.to_string().contains("expected `on` or `off`"));
    }

    #[test]
    fn a_directive_in_the_wrong_case_is_an_error_not_a_comment() {
        for text in ["-- HASTE:transaction off", "-- Haste:transaction off", "--hAsTe:retries 2"] {
            let error = Directives::parse(Path::new("m.sql"), &format!("-- note\n{text}\n")).unwrap_err();
            assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{error}");
            assert!(error.to_string().contains("lower case"), "{error}");
        }
        // A comment that merely starts with the word is still a comment.
        assert!(Directives::parse(Path::new("m.sql"), "-- haste is fast\n-- hasted\n").is_ok());
    }

    #[test]
    fn numbers_out_of_range_are_errors_naming_the_value() {
        let parse = |text: &str| Directives::parse(Path::new("m.sql"), text).unwrap_err().to_string();
        let error = parse("-- haste:statement-timeout 18446744073709551615s\n");
        assert!(error.starts_with("m.sql:1:") && error.contains("18446744073709551615s"), "{error}");
        let error = parse("-- haste:lock-timeout 99999999999999999999999\n");
        assert!(error.contains("maximum of 2147483647 ms"), "{error}");
        let error = parse("-- haste:retries 99999999999999999999\n");
        assert!(error.contains("from 0 to 4294967295, not `99999999999999999999`"), "{error}");
        assert!(parse("-- haste:retries -1\n").contains("`-1`"));
    }
}
