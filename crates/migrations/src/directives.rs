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
    /// `-- haste:release-with <migration>`: released with that earlier migration (and those
    /// between), in the same deploy: what they create is still new and empty when this one runs,
    /// as the linter judges it (the migrations `migrate dev` cuts one change into).
    pub release_with: Option<String>,
}

pub use haste_sql::TransactionMode;

const PREFIX: &str = "haste:";

/// The directives that change how a file runs (the linter's `allow` lines are not among them).
const RUN_SETTINGS: &[&str] =
    &["transaction", "lock-timeout", "statement-timeout", "retries", "after", "release-with"];

/// Every directive name, run settings and the linter's suppressions.
const NAMES: &[&str] = &[
    "transaction",
    "lock-timeout",
    "statement-timeout",
    "retries",
    "after",
    "release-with",
    "allow",
    "allow-file",
];

impl Directives {
    /// Reads the directives from the comment lines at the top of `text` (until the first line
    /// that is neither blank nor a `--` comment).
    pub fn parse(path: &Path, text: &str) -> Result<Directives, Error> {
        let mut directives = Directives::default();
        let mut seen = Vec::new();
        let mut in_header = true;
        // Inside a `/* */` comment that opened in the header: its lines are checked for directives.
        let mut in_header_block = false;
        // A lone `\r` ends a line too (old Mac files): PostgreSQL ends a `--` comment there, so
        // the statements after it run, and a directive after it must be read.
        let lines = text.split('\n').flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'));
        for (index, line) in lines.enumerate() {
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
            let block_comment_error = || {
                bad(format!(
                    "a directive is a `--` line comment; a block comment is not read: write `-- {PREFIX}...`"
                ))
            };
            if in_header_block {
                in_header_block = !line.contains("*/");
                if block_line_reads_as_directive(line) {
                    return Err(block_comment_error());
                }
                continue;
            }
            let Some(comment) = line.strip_prefix("--").filter(|_| in_header) else {
                if in_header && let Some(block) = line.strip_prefix("/*") {
                    if block_line_reads_as_directive(block) {
                        return Err(block_comment_error());
                    }
                    in_header_block = !block.contains("*/");
                }
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
                if starts_with_prefix_in_any_case(comment) {
                    return Err(bad(format!("directives are written in lower case: `-- {PREFIX}...`")));
                }
                // `--- haste:` or `-- -- haste:` (a directive commented out) is a comment to
                // PostgreSQL and would be ignored; whether it was meant cannot be told.
                let unmarked = comment.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
                if unmarked.len() < comment.len() && reads_as_directive(unmarked) {
                    return Err(bad(format!(
                        "a directive is written `-- {PREFIX}...` with nothing else between `--` and `{PREFIX}`; delete a directive that is not meant"
                    )));
                }
                // Neither is a comment that was plainly meant as a directive but misspelt.
                if meant_as_directive(comment) {
                    return Err(bad(format!(
                        "this comment reads as a misspelt directive, which would be ignored; write `-- {PREFIX}<name> <value>` (known: {})",
                        NAMES.join(", ")
                    )));
                }
                continue;
            };
            if directive.starts_with(char::is_whitespace) {
                return Err(bad(format!(
                    "no space may follow `{PREFIX}`: write `-- {PREFIX}{}`",
                    directive.trim()
                )));
            }
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
                "release-with" if !argument.is_empty() => directives.release_with = Some(argument.to_owned()),
                "after" | "release-with" => return Err(bad("expected the name of a migration".into())),
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
                    return Err(bad(match known_name(name) {
                        Some(known) => format!("the directive is spelt `{known}`"),
                        None => format!("unknown directive (known: {})", NAMES.join(", ")),
                    }));
                }
            }
        }
        Ok(directives)
    }
}

/// Whether a comment's text is a directive, correct or plainly meant as one.
fn reads_as_directive(comment: &str) -> bool {
    starts_with_prefix_in_any_case(comment) || meant_as_directive(comment)
}

/// Whether a line of a block comment (its `/*`, `*` and `*/` marks and any `--` aside) reads as
/// a directive.
fn block_line_reads_as_directive(line: &str) -> bool {
    let text = line.split("*/").next().unwrap_or_default();
    reads_as_directive(
        text.trim_start_matches(|c: char| c == '*' || c == '-' || c.is_whitespace()).trim_end(),
    )
}

/// Whether a comment starts with `haste:` in any case.
fn starts_with_prefix_in_any_case(comment: &str) -> bool {
    comment.get(..PREFIX.len()).is_some_and(|start| start.eq_ignore_ascii_case(PREFIX))
}

/// The directive a name means when written in another case or with `_` for `-`.
fn known_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase().replace('_', "-");
    NAMES.iter().copied().find(|known| *known == name)
}

/// Whether a header comment that does not start with `haste:` was plainly meant as a directive
/// (the rule README.md states), so that ignoring it would run the file otherwise than its
/// author asked:
/// - its first word is `haste` or one edit from it that still starts with `h` (`hast`, `hsate`,
///   `hastes`; not `paste`, `taste`, `Waste`), joined to a directive name by any punctuation or
///   spaces (`hast:retries 3`, `haste-lock-timeout 1s`, `haste=retries 3`, `haste：transaction
///   on`, `haste lock-timeout 1s`); without a `:`-like mark (anything but spaces, `-`, `_`, `.`)
///   only when at most one word follows the name, so prose such as `haste retries on lock
///   timeouts` stays a comment;
/// - or it is a run setting other than `after` (an everyday word) with one valid value and
///   nothing else (`lock-timeout 1s`, `lock_timeout=1s`, `retries: 3`, `transaction off`).
fn meant_as_directive(comment: &str) -> bool {
    let split = comment.find(|c: char| !c.is_alphanumeric()).unwrap_or(comment.len());
    let (word, rest) = comment.split_at(split);
    let word = word.to_ascii_lowercase();
    let prefix_word = PREFIX.trim_end_matches(':');
    if word.starts_with('h') && within_one_edit(&word, prefix_word) {
        let name_start = rest.find(char::is_alphanumeric).unwrap_or(rest.len());
        let (separator, rest) = rest.split_at(name_start);
        let colon_like = separator.contains(|c: char| !c.is_whitespace() && !"-_.".contains(c));
        let Some((_, argument)) = leading_name(rest, NAMES) else { return false };
        return colon_like || argument.split_whitespace().count() <= 1;
    }
    let settings = RUN_SETTINGS.iter().copied().filter(|name| *name != "after").collect::<Vec<_>>();
    let Some((name, argument)) = leading_name(comment, &settings) else { return false };
    let argument = argument.trim_start_matches(|c: char| c.is_whitespace() || ":=".contains(c)).trim();
    if argument.is_empty() || argument.contains(char::is_whitespace) {
        return false;
    }
    match name {
        "transaction" => matches!(argument.to_ascii_lowercase().as_str(), "on" | "off"),
        "retries" => argument.parse::<u32>().is_ok(),
        _ => parse_duration(argument).is_ok(),
    }
}

/// The name of `names` that `text` starts with (in any case, `_` for `-`), ended by the end of
/// the text, a space, `:` or `=`; with the text after it.
fn leading_name<'a>(text: &'a str, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
    let end = text.find(|c: char| c.is_whitespace() || ":=".contains(c)).unwrap_or(text.len());
    let name = known_name(&text[..end]).filter(|name| names.contains(name))?;
    Some((name, &text[end..]))
}

/// Whether `a` becomes `b` by at most one inserted, deleted or replaced character, or one swap of
/// neighbours.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let common_start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let common_end = a[common_start..]
        .iter()
        .rev()
        .zip(b[common_start..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_rest, b_rest) = (a.len() - common_start - common_end, b.len() - common_start - common_end);
    let swapped = a_rest == 2
        && b_rest == 2
        && a[common_start] == b[common_start + 1]
        && a[common_start + 1] == b[common_start];
    a_rest.max(b_rest) <= 1 || swapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directives_from_the_header_only() {
        let text = "-- a note\n-- haste:transaction off\n--haste:lock-timeout 500ms\n\n-- haste:retries 5\n-- haste:allow-file drop-column reason=\"x\"\n-- haste:after 1_expand\n-- haste:release-with 0_init\nSELECT 1;\n-- haste:allow drop-table reason=\"y\"\nSELECT 2;\n";
        let directives = Directives::parse(Path::new("m.sql"), text).unwrap();
        assert_eq!(directives.transaction, Some(TransactionMode::Off));
        assert_eq!(directives.lock_timeout, Some(Duration::from_millis(500)));
        assert_eq!(directives.retries, Some(5));
        assert_eq!(directives.after.as_deref(), Some("1_expand"));
        assert_eq!(directives.release_with.as_deref(), Some("0_init"));
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
    fn a_lone_carriage_return_ends_a_line_as_it_ends_the_comment() {
        let directives =
            Directives::parse(Path::new("m.sql"), "-- ok\r-- haste:transaction off\rSELECT 1;\r").unwrap();
        assert_eq!(directives.transaction, Some(haste_sql::TransactionMode::Off));
        let crlf =
            Directives::parse(Path::new("m.sql"), "-- ok\r\n\r\n-- haste:transaction maybe\r\n").unwrap_err();
        assert!(crlf.to_string().contains(":3"), "CRLF lines keep their numbers: {crlf}");
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

    #[test]
    fn a_comment_plainly_meant_as_a_directive_is_an_error_naming_its_line() {
        for (text, says) in [
            ("-- haste: lock-timeout 1s", "no space may follow"),
            ("--haste lock-timeout 1s", "misspelt directive"),
            ("-- haste lock-timeout", "misspelt directive"),
            ("-- hast:retries 3", "misspelt directive"),
            ("-- hsate:transaction off", "misspelt directive"),
            ("-- hastes:after 1_expand", "misspelt directive"),
            ("-- haste-lock-timeout 1s", "misspelt directive"),
            ("-- haste_retries 2", "misspelt directive"),
            ("-- haste.transaction off", "misspelt directive"),
            ("-- lock-timeout 1s", "misspelt directive"),
            ("-- lock_timeout=1s", "misspelt directive"),
            ("-- Retries: 3", "misspelt directive"),
            ("-- transaction off", "misspelt directive"),
            ("-- haste:lock_timeout 1s", "spelt `lock-timeout`"),
            ("-- haste:Retries 1", "spelt `retries`"),
            ("/* haste:transaction off */", "block comment"),
            ("/* haste-transaction off */", "block comment"),
            ("/* HASTE:retries 2", "block comment"),
            ("--- haste:transaction on", "nothing else between"),
            ("-- -- haste:transaction on", "nothing else between"),
            ("-- haste\u{ff1a}transaction on", "misspelt directive"),
            ("-- haste=transaction on", "misspelt directive"),
            ("-- haste/transaction on", "misspelt directive"),
            ("-- haste;transaction on", "misspelt directive"),
        ] {
            let error =
                Directives::parse(Path::new("m.sql"), &format!("-- note\n{text}\nSELECT 1;\n")).unwrap_err();
            assert!(matches!(error, Error::BadDirective { line: 2, .. }), "{text}: {error}");
            assert!(error.to_string().contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn ordinary_comments_that_mention_haste_or_a_setting_stay_comments() {
        for text in [
            "-- haste is fast",
            "-- hasted",
            "-- Generated by haste 0.1",
            "-- haste retries on lock timeouts",
            "-- paste: the output of psql here",
            "-- retries are handled by haste",
            "-- transaction: one, written by hand",
            "-- after the backfill, drop the old column",
            "-- lock_timeout is set by haste",
            "/* a license */",
            "-- Waste: after the deploy the old rows go",
            "-- paste after",
            "-- taste: after",
            "-- ----------",
            "/*\n * Copyright, generated by haste\n */",
        ] {
            let directives = Directives::parse(Path::new("m.sql"), &format!("{text}\nSELECT 1;\n"));
            assert_eq!(directives.unwrap(), Directives::default(), "{text}");
        }
    }

    #[test]
    fn a_directive_on_a_later_line_of_a_block_comment_is_an_error_naming_its_line() {
        for text in
            ["/*\n haste:transaction on\n*/", "/* note\n * -- haste:retries 2 */", "/*\n\n haste=retries 2\n"]
        {
            let error = Directives::parse(Path::new("m.sql"), &format!("{text}\nSELECT 1;\n")).unwrap_err();
            assert!(error.to_string().contains("block comment"), "{text}: {error}");
            let line = text.lines().position(|line| line.contains("haste")).unwrap() + 1;
            assert!(matches!(error, Error::BadDirective { line: at, .. } if at == line), "{text}: {error}");
        }
    }

    #[test]
    fn a_blank_line_does_not_end_the_header() {
        let directives =
            Directives::parse(Path::new("m.sql"), "-- note\n\n\n-- haste:retries 4\nSELECT 1;\n").unwrap();
        assert_eq!(directives.retries, Some(4));
    }
}
