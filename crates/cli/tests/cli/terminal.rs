//! The terminal: help that says what haste is, the version with its commit, shell completions
//! and a manual page, and colours only where they belong (a terminal or CLICOLOR_FORCE, never
//! with NO_COLOR, never in JSON).

use std::num::NonZeroU16;

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

    // The page names a page per command (`haste-migrate(1)`): `--dir` writes every one of them,
    // each with its command's flags, and no page names one that is not there.
    let pages = dir.path().join("man1");
    let written = haste(dir.path(), &["man", "--dir", pages.to_str().unwrap()]);
    assert_eq!(written.code, 0, "{written:?}");
    let read = |name: &str| std::fs::read_to_string(pages.join(name)).unwrap_or_default();
    assert_eq!(read("haste.1"), man.stdout, "the page `haste man` prints");
    assert!(read("haste-migrate-deploy.1").contains("max\\-rate"), "{}", read("haste-migrate-deploy.1"));
    let files: Vec<String> =
        std::fs::read_dir(&pages).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(written.stderr.contains(&format!("Wrote {} manual pages to ", files.len())), "{written:?}");
    for file in &files {
        // A reference is a line of its own, in roff: `haste\-migrate(1)`.
        for named in read(file).lines().filter_map(|line| line.strip_suffix("(1)")) {
            let page = format!("{}.1", named.replace("\\-", "-"));
            assert!(files.contains(&page), "{file} names {page}, which is not written: {files:?}");
        }
    }
    assert!(!files.contains(&"haste-help.1".to_owned()), "help is not a command to document");
}

#[test]
fn colours_only_on_a_terminal_or_when_forced_and_never_with_no_color_or_json() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    // An empty file is an empty database: nothing applied, one migration pending.
    std::fs::File::create(dir.path().join("app.db")).unwrap();
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

    // A migration that is only a data step says so, not "0 statements: in one transaction".
    let filled = backfill(false);
    let url = format!("sqlite:{}", filled.path().join("app.db").display());
    let deploy = haste(filled.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert!(deploy.stdout.contains("Applying 2_fill: a data step, in batches"), "{deploy:?}");
    assert!(!deploy.stdout.contains("0 statements"), "{deploy:?}");

    let Some(db) = haste_testkit::database() else { return };
    dir.write("schema.sql", "CREATE TABLE x (id int);\nSELECT 1/0;");
    let failed =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "schema.sql", "--url", &db.url]);
    assert_eq!(failed.code, 6, "{failed:?}");
    assert!(failed.stderr.contains("error: schema file schema.sql failed: division by zero"), "{failed:?}");
    assert!(failed.stderr.contains("schema.sql:2:1") && !failed.stderr.contains("next deploy"), "{failed:?}");
}

/// A folder whose data step walks 3,000 rows in batches of 100 (at `--max-rate 3000`, about a
/// second: a bar is drawn several times); with `fails`, a row past the middle breaks a check.
fn backfill(fails: bool) -> haste_testkit::TempDir {
    let dir = migrations(&[(
        "1_t",
        "CREATE TABLE t (id integer PRIMARY KEY, v integer CHECK (v < 2));\n\
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 3000) INSERT INTO t SELECT i, 0 FROM g;",
    )]);
    let value = if fails { "CASE WHEN id > 1500 THEN 2 ELSE 1 END" } else { "1" };
    dir.write(
        "migrations/2_fill/data.sql",
        &format!(
            "-- haste:data table=t key=id batch=100 target=50ms\nUPDATE t SET v = {value} WHERE :range;\n"
        ),
    );
    dir
}

/// `migrate deploy` of `dir` on a terminal: a pseudo-terminal of 100 columns from util-linux's
/// `script`, stdout and stderr both on it. The bytes written, and the screen a person sees
/// after them; `None` (after printing SKIP) where `script` cannot run.
fn deploy_on_a_terminal(dir: &std::path::Path, env: &[(&str, &str)]) -> Option<(String, Vec<String>)> {
    let haste = env!("CARGO_BIN_EXE_haste");
    let shell =
        format!("stty cols 100 rows 60; exec '{haste}' migrate deploy --url sqlite:app.db --max-rate 3000");
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &shell, "/dev/null"]).current_dir(dir).stdin(std::process::Stdio::null());
    script.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR").env("TERM", "xterm");
    for (key, value) in env {
        script.env(key, value);
    }
    let output = match script.output() {
        Ok(output) if !output.stdout.is_empty() => output,
        outcome => {
            eprintln!("SKIP: util-linux `script` cannot give haste a terminal here: {outcome:?}");
            return None;
        }
    };
    let mut terminal = vt100::Parser::new(NonZeroU16::new(60).unwrap(), NonZeroU16::new(100).unwrap(), 0);
    terminal.process(&output.stdout);
    let screen = terminal.screen().rows(0, 100).map(|row| row.trim_end().to_owned()).collect();
    Some((String::from_utf8_lossy(&output.stdout).into_owned(), screen))
}

/// Whether `text` holds an SGR sequence (a colour or weight); cursor moves do not count.
fn has_colours(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        rest.find(|c: char| !(c.is_ascii_digit() || c == ';')).is_some_and(|end| rest[end..].starts_with('m'))
    })
}

#[test]
fn the_progress_bar_is_drawn_only_on_a_terminal_and_ends_its_line_before_the_next_message() {
    // Piped, even with colours forced: a line now and then, never a bar redrawn in place.
    let piped = backfill(false);
    let mut deploy =
        command(piped.path(), &["migrate", "deploy", "--url", "sqlite:app.db", "--max-rate", "3000"]);
    let output = deploy.env("CLICOLOR_FORCE", "1").env_remove("NO_COLOR").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(!stdout.contains('\r') && !stdout.contains("##"), "no bar on a pipe: {stdout:?}");
    assert!(stdout.contains("  2_fill: 3000/3000 rows (100%)"), "{stdout:?}");
    let json = backfill(false);
    let run = haste(json.path(), &["migrate", "deploy", "--url", "sqlite:app.db", "--format", "json"]);
    assert!(!run.stdout.contains('\r') && !run.stdout.contains('\x1b'), "{run:?}");
    assert!(run.json_lines().iter().any(|event| event["event"] == "data_progress"), "{run:?}");

    // On a terminal: the bar, coloured, then the last position and the next message each on
    // a line of their own, and nothing of the bar left on the screen.
    let done = backfill(false);
    let Some((bytes, screen)) = deploy_on_a_terminal(done.path(), &[]) else { return };
    assert!(
        bytes.contains("] 1") && bytes.contains("rows/s") && bytes.contains('#'),
        "a bar was drawn: {bytes:?}"
    );
    assert!(has_colours(&bytes), "{bytes:?}");
    let at = screen
        .iter()
        .position(|row| row.starts_with("  2_fill: 3000/3000 rows (100%)"))
        .expect("the last position");
    assert!(
        screen[at + 1].starts_with("  applied 2_fill in ") && screen[at + 1].ends_with(" ms"),
        "{screen:#?}"
    );
    assert!(screen[at + 2].starts_with("Applied 2 migrations in "), "{screen:#?}");
    assert!(screen.iter().all(|row| !row.contains('#') && !row.contains(" [")), "no bar left: {screen:#?}");

    // A failure while the bar is drawn: the error starts a line of its own.
    let failing = backfill(true);
    let (bytes, screen) = deploy_on_a_terminal(failing.path(), &[("NO_COLOR", "1")]).unwrap();
    assert!(bytes.contains("#-") && !has_colours(&bytes), "a bar without colours (NO_COLOR): {bytes:?}");
    let error = screen.iter().position(|row| row.contains("2_fill failed")).expect("the error");
    assert!(screen[error].starts_with("error: migration 2_fill failed: "), "{screen:#?}");
    assert!(screen.iter().all(|row| !row.contains("rows/s")), "no bar left: {screen:#?}");
}
