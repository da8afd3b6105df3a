//! Every rule's examples, as data: `tests/data/<rule-id>/{bad,good}_*.sql`.
//!
//! A fixture is one or more migration files separated by `-- //- next migration` lines; the
//! last is checked, the earlier ones are its history (released, unless they contain
//! `-- fixture: unreleased`). `-- fixture: pg=11 lock_timeout=none` sets the target version
//! and says the runner sets no lock timeout. `-- expect: <rule-id>` after a statement expects
//! one finding of that rule on it; a `good_*` file expects none of its folder's rule.

use std::collections::BTreeMap;
use std::path::Path;

use haste_lint::{Config, SourceFile, lint, rules};
use haste_sql::{Dialect, Script};

fn check_fixture(rule: &str, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut config = Config::default();
    for word in text.lines().filter_map(|l| l.strip_prefix("-- fixture:")).flat_map(str::split_whitespace) {
        match word.split_once('=') {
            Some(("pg", version)) => config.pg_version = version.parse().unwrap(),
            Some(("lock_timeout", "none")) => config.runner_lock_timeout = false,
            None if word == "unreleased" => {}
            _ => panic!("{}: unknown fixture setting {word}", path.display()),
        }
    }
    for rule in rules::RULES {
        config.severities.insert(rule.id().to_owned(), haste_lint::Severity::Error);
    }
    let parts: Vec<&str> = text.split("-- //- next migration\n").collect();
    let files: Vec<SourceFile> = parts
        .iter()
        .enumerate()
        .map(|(i, sql)| SourceFile {
            path: format!("{i}.sql"),
            sql: (*sql).to_owned(),
            transaction: None,
            check: i == parts.len() - 1,
            unreleased: sql.contains("-- fixture: unreleased"),
            reverts: false,
        })
        .collect();
    let checked = parts.last().unwrap();
    let statements = Script::parse(Dialect::Postgres, checked).statements;
    let line_of = |offset: usize| checked[..offset].matches('\n').count() + 1;
    let mut expected: BTreeMap<usize, usize> = BTreeMap::new();
    let mut offset = 0;
    let mut previous = "";
    for line in checked.split_inclusive('\n') {
        if let Some(expected_rule) = line.trim().strip_prefix("-- expect:") {
            assert_eq!(expected_rule.trim(), rule, "{}: expectations name the folder's rule", path.display());
            // Under a suppression comment, the finding is the comment's; otherwise the statement's.
            let target = if previous.trim_start().starts_with("-- haste:allow") {
                line_of(offset) - 1
            } else {
                let statement = statements
                    .iter()
                    .rev()
                    .find(|s| s.start < offset)
                    .expect("an expectation follows a statement");
                line_of(statement.start)
            };
            *expected.entry(target).or_default() += 1;
        }
        offset += line.len();
        previous = line;
    }
    let mut actual: BTreeMap<usize, usize> = BTreeMap::new();
    for finding in lint(&files, &config).iter().filter(|f| f.rule == rule) {
        *actual.entry(finding.line).or_default() += 1;
    }
    let is_bad = path.file_name().unwrap().to_str().unwrap().starts_with("bad");
    if is_bad && expected.is_empty() {
        return Err(format!("{}: a bad example expects at least one finding", path.display()));
    }
    if expected != actual {
        return Err(format!("{}: expected findings on lines {expected:?}, got {actual:?}", path.display()));
    }
    Ok(())
}

#[test]
fn every_rule_has_failing_and_passing_examples_that_hold() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let ids = rules::RULES.iter().map(|r| r.id()).chain(rules::BUILT_IN.iter().map(|(id, _)| *id));
    let mut failures = Vec::new();
    for rule in ids {
        let dir = data.join(rule);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no examples for {rule}: add {}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let names: Vec<String> =
            files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert!(
            names.iter().any(|n| n.starts_with("bad")) && names.iter().any(|n| n.starts_with("good")),
            "{rule} needs bad_ and good_ examples"
        );
        for file in &files {
            if let Err(error) = check_fixture(rule, file) {
                failures.push(error);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_rule_reference_lists_every_rule() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint.md")).unwrap();
    for rule in rules::RULES {
        assert!(docs.contains(&format!("| `{}` |", rule.id())), "docs/lint.md does not list {}", rule.id());
    }
}
