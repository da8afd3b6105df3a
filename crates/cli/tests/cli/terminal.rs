//! The terminal: help that says what haste is, the version with its commit, shell completions
//! and a manual page, and colours only where they belong (a terminal or CLICOLOR_FORCE, never
//! with NO_COLOR, never in JSON).

use crate::{command, haste, migrations};

#[test]
fn help_says_what_haste_is_and_lists_every_command() {
    let dir = migrations(&[]);
    let help = haste(dir.path(), &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(
        help.stdout.contains("Schema migrations for PostgreSQL and SQLite, safe under load by default"),
        "{help:?}"
    );
    assert!(
        !help.stdout.contains("arguments, configuration, rendering"),
        "not the crate's description: {help:?}"
    );
    for name in ["migrate", "schema", "lint", "doctor", "report", "config", "completions", "man"] {
        assert!(help.stdout.contains(&format!("\n  {name} ")), "{name}: {help:?}");
    }
    let schema = haste(dir.path(), &["schema", "--help"]);
    assert!(
        ["inspect", "dump", "diff", "erd"].iter().all(|c| schema.stdout.contains(&format!("\n  {c} "))),
        "{schema:?}"
    );
    // Flags that would do nothing are not offered.
    let baseline = haste(dir.path(), &["migrate", "baseline", "--help"]);
    assert!(
        !baseline.stdout.contains("--max-rate") && !baseline.stdout.contains("--allow-out-of-order"),
        "{baseline:?}"
    );
    let deploy = haste(dir.path(), &["migrate", "deploy", "--help"]);
    assert!(
        deploy.stdout.contains("--max-rate") && deploy.stdout.contains("--allow-out-of-order"),
        "{deploy:?}"
    );
}

#[test]
fn the_version_names_its_commit() {
    let dir = migrations(&[]);
    let version = haste(dir.path(), &["--version"]);
    let line = version.stdout.trim();
    let commit = line
        .strip_prefix(&format!("haste {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'));
    assert!(
        commit.is_some_and(
            |c| c == "commit unknown" || (c.len() == 12 && c.chars().all(|x| x.is_ascii_hexdigit()))
        ),
        "{version:?}"
    );
}

#[test]
fn completions_for_every_shell_and_a_manual_page() {
    let dir = migrations(&[]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = haste(dir.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("haste") && run.stdout.contains("deploy"), "{shell}: {run:?}");
    }
    assert_eq!(haste(dir.path(), &["completions", "tcsh"]).code, 2, "an unknown shell is bad input");
    let man = haste(dir.path(), &["man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(man.stdout.contains(".TH haste 1") && man.stdout.contains("safe under load"), "{man:?}");
}

#[test]
fn colours_only_on_a_terminal_or_when_forced_and_never_with_no_color_or_json() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let status = |env: &[(&str, &str)], extra: &[&str]| {
        let mut command = command(dir.path(), &[&["migrate", "status", "--url", &url], extra].concat());
        command.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
        for (key, value) in env {
            command.env(key, value);
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    const ESCAPE: &str = "\x1b[";
    assert!(!status(&[], &[]).contains(ESCAPE), "a pipe gets no colours");
    let forced = status(&[("CLICOLOR_FORCE", "1")], &[]);
    assert!(forced.contains(ESCAPE) && forced.contains("pending"), "{forced:?}");
    assert!(!status(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains(ESCAPE), "NO_COLOR wins");
    let json = status(&[("CLICOLOR_FORCE", "1")], &["--format", "json"]);
    assert!(!json.contains(ESCAPE), "{json:?}");
    serde_json::from_str::<serde_json::Value>(json.trim()).expect("only JSON");
}

/// Messages say what happened: `reset` names the seed it ran, a mode reads as a sentence, and a
/// schema file that fails on a shadow database is not called a migration the next deploy retries.
#[test]
fn messages_say_what_happened() {
    let dir = migrations(&[
        ("1_a", "CREATE TABLE a (id int);"),
        ("2_b", "-- haste:transaction off\nCREATE TABLE b (id int);"),
    ]);
    dir.write("seed.sql", "INSERT INTO a VALUES (1);");
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &url]);
    assert_eq!(reset.code, 0, "{reset:?}");
    assert!(reset.stdout.contains("Ran the seed seed.sql."), "{reset:?}");
    assert!(reset.stdout.contains("Applying 2_b (1 statement): statement by statement"), "{reset:?}");
    assert!(!reset.stdout.contains("statement statement"), "{reset:?}");

    let Some(db) = haste_testkit::database() else { return };
    dir.write("schema.sql", "CREATE TABLE x (id int);\nSELECT 1/0;");
    let failed =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "schema.sql", "--url", &db.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(failed.stderr.contains("error: schema file schema.sql failed: division by zero"), "{failed:?}");
    assert!(failed.stderr.contains("schema.sql:2:1") && !failed.stderr.contains("next deploy"), "{failed:?}");
}
