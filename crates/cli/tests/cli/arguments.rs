//! Arguments and run options are refused alike by every command that takes them: a directive
//! plainly meant but misspelt, a bad run option on `migrate plan` and `deploy --dry-run` (as on
//! `deploy`), and clap's own errors, which are JSON on stdout under `--format json`. On SQLite
//! files: no server needed.

use haste_testkit::TempDir;

use crate::{Run, haste, migrations};

fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite:{}", dir.path().join("app.db").display())
}

fn run(dir: &TempDir, args: &[&str]) -> Run {
    let url = sqlite_url(dir);
    let mut all = args.to_vec();
    all.extend_from_slice(&["--url", &url]);
    haste(dir.path(), &all)
}

/// The migrations recorded in the SQLite database's history.
fn recorded(dir: &TempDir) -> Vec<String> {
    let Ok(db) = rusqlite::Connection::open(dir.path().join("app.db")) else { return Vec::new() };
    let Ok(mut statement) = db.prepare("SELECT name FROM _haste_migrations ORDER BY name") else {
        return Vec::new();
    };
    statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_comment_plainly_meant_as_a_directive_is_refused_naming_file_and_line() {
    for directive in [
        "-- haste: lock-timeout 1s",
        "--haste lock-timeout 1s",
        "-- hast:retries 3",
        "-- haste-lock-timeout 1s",
        "/* haste:transaction off */",
        "-- haste:lock_timeout 1s",
        "-- lock-timeout 1s",
        "--- haste:transaction on",
        "-- -- haste:transaction on",
        "-- haste\u{ff1a}transaction on",
        "-- haste=transaction on",
        "-- haste/transaction on",
        "/*\n haste:transaction on\n*/",
    ] {
        let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
        assert_eq!(run(&dir, &["migrate", "deploy"]).code, 0);
        dir.write(
            "migrations/2_b/migration.sql",
            &format!("-- indexes\n\n{directive}\nCREATE TABLE b (id INTEGER);"),
        );
        let refused = run(&dir, &["migrate", "deploy"]);
        assert_eq!(refused.code, 2, "{directive}: {refused:?}");
        // The line the directive is on (a block comment's second line, for the last one).
        let line = 3 + directive.lines().position(|line| line.contains("haste")).unwrap_or(0);
        let place = format!("2_b{}migration.sql:{line}:", std::path::MAIN_SEPARATOR);
        assert!(refused.stderr.contains(&place), "{directive}: {refused:?}");
        assert_eq!(recorded(&dir), ["1_a"], "nothing of 2_b applied: {refused:?}");
    }
    // A comment that only mentions haste, or a word near it, is a comment.
    let dir = migrations(&[(
        "1_a",
        "-- haste is fast\n-- haste retries on lock timeouts\n-- Waste: after the deploy nothing is left\n-- paste after\n-- taste: after\nCREATE TABLE a (id INTEGER);",
    )]);
    let applied = run(&dir, &["migrate", "deploy"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(recorded(&dir), ["1_a"]);
}

#[test]
fn migrate_new_refuses_a_name_with_a_control_character_before_creating_anything() {
    let dir = TempDir::new("new-control");
    for name in ["a\u{1}b", "two\nlines", "tab\there"] {
        let refused = haste(dir.path(), &["migrate", "new", name]);
        assert_eq!(refused.code, 2, "{name:?}: {refused:?}");
        assert!(refused.stderr.contains("control character"), "{name:?}: {refused:?}");
        assert!(!refused.stderr.contains('\u{1}'), "the name is printed escaped: {refused:?}");
    }
    let created =
        std::fs::read_dir(dir.path().join("migrations")).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(created, 0, "no folder was created");
    assert_eq!(haste(dir.path(), &["migrate", "new", "fine name"]).code, 0);
    assert_eq!(haste(dir.path(), &["lint", "--dir", "migrations"]).code, 0, "the folders made are readable");
}

#[test]
fn plan_and_dry_run_refuse_the_run_options_deploy_refuses_with_the_same_message() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    assert_eq!(run(&dir, &["migrate", "deploy"]).code, 0);
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id INTEGER);");
    assert_eq!(run(&dir, &["migrate", "plan"]).code, 0, "a pending migration, planned");
    for (flag, value, says) in [
        ("--lock-timeout", "fast", "`fast`"),
        ("--lock-deadline", "18446744073709551615s", "is longer than the maximum"),
        ("--statement-timeout", "1.5ms", "whole number of milliseconds"),
        ("--lock-wait", "-1", "`-1` is negative"),
        ("--lock-timeout=-500ms", "", "`-500ms` is negative"),
        ("--retries", "99999999999", "99999999999"),
        ("--retries", "-1", "-1"),
    ] {
        // `--flag=value`, or `--flag value`.
        let option: Vec<&str> = [flag, value].into_iter().filter(|part| !part.is_empty()).collect();
        let deploy = run(&dir, &[&["migrate", "deploy"][..], &option].concat());
        assert_eq!(deploy.code, 2, "{deploy:?}");
        let name = flag.split('=').next().unwrap();
        assert!(deploy.stderr.contains(says) && deploy.stderr.contains(name), "{deploy:?}");
        let first_line = |run: &Run| run.stderr.lines().next().unwrap_or_default().to_owned();
        for command in [&["migrate", "deploy", "--dry-run"][..], &["migrate", "plan"]] {
            let refused = run(&dir, &[command, &option].concat());
            assert_eq!(refused.code, 2, "{command:?} {flag} {value}: {refused:?}");
            assert_eq!(first_line(&refused), first_line(&deploy), "{command:?}: {refused:?}");
            assert!(refused.stdout.is_empty(), "{refused:?}");
        }
    }
    assert_eq!(recorded(&dir), ["1_a"]);
}

#[test]
fn argument_errors_are_json_on_stdout_under_format_json() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    for (args, says) in [
        (&["migrate", "deploy", "--format", "json", "--no-such-flag"][..], "--no-such-flag"),
        (&["migrate", "status", "--format=json", "--retries", "3"], "--retries"),
        (&["migrate", "plan", "--format", "json", "--retries", "many"], "many"),
        (&["schema", "diff", "--format", "json", "--from"], "--from"),
        (&["lint", "--format", "json", "--no-such-flag"], "--no-such-flag"),
        (
            &["migrate", "deploy", "--format", "json", "--url", "sqlite:app.db", "--lock-timeout=-1"],
            "`-1` is negative",
        ),
        (
            &["migrate", "plan", "--format", "json", "--url", "sqlite:app.db", "--lock-timeout", "-1"],
            "`-1` is negative",
        ),
    ] {
        let refused = haste(dir.path(), args);
        assert_eq!(refused.code, 2, "{args:?}: {refused:?}");
        let lines = refused.json_lines();
        assert_eq!(lines.len(), 1, "one document and nothing else on stdout: {refused:?}");
        assert_eq!(lines[0]["ok"], false, "{refused:?}");
        assert_eq!(lines[0]["error"]["code"], "USAGE", "{refused:?}");
        assert_eq!(lines[0]["error"]["exit_code"], 2, "{refused:?}");
        let message = lines[0]["error"]["message"].as_str().unwrap();
        assert!(message.contains(says) && !message.contains("Usage:"), "{args:?}: {refused:?}");
    }
    // In text, clap's message goes to stderr as before.
    let text = haste(dir.path(), &["migrate", "deploy", "--no-such-flag"]);
    assert_eq!(text.code, 2, "{text:?}");
    assert!(text.stdout.is_empty() && text.stderr.contains("--no-such-flag"), "{text:?}");
    // Help is still help.
    let help = haste(dir.path(), &["migrate", "plan", "--format", "json", "--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(help.stdout.contains("Usage:"), "{help:?}");
}

#[test]
fn a_password_in_a_refused_argument_is_masked() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    for format in ["text", "json"] {
        let refused = haste(
            dir.path(),
            &["migrate", "deploy", "--format", format, "postgres://app:s3cr3t@db.internal/app"],
        );
        assert_eq!(refused.code, 2, "{refused:?}");
        assert!(refused.all().contains("db.internal"), "the argument is named: {refused:?}");
        assert!(!refused.all().contains("s3cr3t"), "{refused:?}");
    }
}

#[test]
fn a_rate_of_zero_rows_per_second_is_refused_not_waited_on_forever() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    let refused = run(&dir, &["migrate", "deploy", "--max-rate", "0"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(recorded(&dir).is_empty(), "nothing applied: {refused:?}");
}

#[test]
fn a_connection_string_given_as_the_config_path_is_never_shown_with_its_password() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    for format in ["text", "json"] {
        let refused = run(
            &dir,
            &["migrate", "plan", "--format", format, "--config", "postgres://u:s3cr3t@db.example/app"],
        );
        assert_eq!(refused.code, 2, "{refused:?}");
        assert!(!refused.stdout.contains("s3cr3t") && !refused.stderr.contains("s3cr3t"), "{refused:?}");
        assert!(format == "text" || refused.stdout.contains("cannot read"), "{refused:?}");
    }
}
