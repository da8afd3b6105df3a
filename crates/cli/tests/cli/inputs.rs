//! Bad input is refused with exit 2 and a message naming the file (and line), before anything
//! is applied; it never panics and is never silently ignored. Mostly on SQLite files (no server
//! needed); the expand/contract case with a long multi-byte column name on PostgreSQL.

use std::fs;

use haste_testkit::{TempDir, database};

use crate::{Run, haste, migrations};

fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite:{}", dir.path().join("app.db").display())
}

/// The migrations recorded in the SQLite database's history (none when it has no history).
fn recorded(dir: &TempDir) -> Vec<String> {
    let Ok(db) = rusqlite::Connection::open(dir.path().join("app.db")) else { return Vec::new() };
    let Ok(mut statement) = db.prepare("SELECT name FROM _haste_migrations ORDER BY name") else {
        return Vec::new();
    };
    statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
}

/// Whether a table the migrations create exists in the SQLite database.
fn has_table(dir: &TempDir, table: &str) -> bool {
    let db = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    db.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [table], |row| row.get::<_, i64>(0))
        .unwrap()
        == 1
}

fn deploy(dir: &TempDir, extra: &[&str]) -> Run {
    let url = sqlite_url(dir);
    let mut args = vec!["migrate", "deploy", "--url", &url];
    args.extend_from_slice(extra);
    haste(dir.path(), &args)
}

/// Exit 2 with `needle` in the error, and nothing applied.
fn assert_refused(dir: &TempDir, run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(needle), "the error names {needle}: {run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    assert_eq!(recorded(dir), Vec::<String>::new(), "nothing applied: {run:?}");
}

#[test]
fn a_missing_migrations_folder_or_a_file_is_refused_by_every_command() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    dir.write("schema.sql", "CREATE TABLE a (id int);");
    dir.write("not-a-folder", "SELECT 1;");
    let url = sqlite_url(&dir);
    for folder in ["./migratoins", "not-a-folder"] {
        let commands: [&[&str]; 8] = [
            &["migrate", "deploy"],
            &["migrate", "status"],
            &["migrate", "down"],
            &["migrate", "resolve", "--applied", "1_a"],
            &["migrate", "reset", "--force"],
            &["migrate", "baseline", "1_a"],
            &["doctor"],
            &["lint"],
        ];
        for command in commands {
            let mut args = command.to_vec();
            if command[0] != "lint" {
                args.extend_from_slice(&["--url", &url]);
            }
            args.extend_from_slice(&["--dir", folder]);
            let run = haste(dir.path(), &args);
            assert_refused(&dir, &run, folder);
        }
        // migrate dev checks the folder before it connects to anything.
        let dev = haste(
            dir.path(),
            &[
                "migrate",
                "dev",
                "--url",
                "postgres://nobody@127.0.0.1:9/none",
                "--schema",
                "schema.sql",
                "--dir",
                folder,
            ],
        );
        assert_refused(&dir, &dev, folder);
    }
    // The default folder, too, when it is absent: "Nothing to apply" would hide a wrong cwd.
    let elsewhere = TempDir::new("no-default-folder");
    let run = deploy(&elsewhere, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("migrations folder migrations does not exist"), "{run:?}");

    // JSON mode: only JSON on stdout, with the stable code.
    let json = deploy(&dir, &["--dir", "./migratoins", "--format", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    let lines = json.json_lines();
    assert_eq!(lines.len(), 1, "{json:?}");
    assert_eq!(lines[0]["error"]["code"], "MIGRATIONS_FOLDER");
    assert_eq!(lines[0]["error"]["exit_code"], 2);
    assert!(lines[0]["error"]["message"].as_str().unwrap().contains("./migratoins does not exist"));

    // unlock needs no folder; linting named files needs no history when no folder was named.
    deploy(&elsewhere, &["--dir", "."]);
    let unlock = haste(elsewhere.path(), &["migrate", "unlock", "--url", &sqlite_url(&elsewhere)]);
    assert_eq!(unlock.code, 0, "{unlock:?}");
    let file = elsewhere.write("one.sql", "CREATE TABLE t (id int);");
    let lint = haste(elsewhere.path(), &["lint", file.to_str().unwrap()]);
    assert_eq!(lint.code, 0, "{lint:?}");
}

#[test]
fn directives_in_the_wrong_case_are_refused_naming_file_and_line() {
    for directive in ["-- HASTE:transaction off", "-- Haste:lock-timeout 1s"] {
        let dir = migrations(&[
            ("1_a", "CREATE TABLE a (id INTEGER);"),
            ("2_b", &format!("-- indexes\n{directive}\nCREATE TABLE b (id INTEGER);")),
        ]);
        let run = deploy(&dir, &[]);
        assert_refused(&dir, &run, &format!("2_b{}migration.sql:2", std::path::MAIN_SEPARATOR));
        assert!(run.stderr.contains("lower case"), "{run:?}");
    }
}

#[test]
fn after_naming_no_migration_is_refused_before_anything_runs() {
    let dir = migrations(&[
        ("1_expand", "CREATE TABLE a (id INTEGER);"),
        ("2_contract", "-- haste:after 1_expnad\nDROP TABLE a;"),
    ]);
    let run = deploy(&dir, &[]);
    assert_refused(&dir, &run, "2_contract");
    assert!(
        run.stderr.contains("migration.sql:1") && run.stderr.contains("no migration named `1_expnad`"),
        "{run:?}"
    );
    let status = haste(dir.path(), &["migrate", "status", "--url", &sqlite_url(&dir)]);
    assert_eq!(status.code, 2, "{status:?}");
}

#[test]
fn empty_and_comment_only_migrations_are_recorded_with_a_warning() {
    let dir = migrations(&[
        ("1_empty", ""),
        ("2_comments", "-- to do: add the index\n/* later */\n"),
        ("3_table", "CREATE TABLE t (id INTEGER);"),
    ]);
    let run = deploy(&dir, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    for name in ["1_empty", "2_comments"] {
        assert!(run.stderr.contains(&format!("warning: migration {name} has no statements")), "{run:?}");
    }
    assert!(!run.stderr.contains("3_table"), "{run:?}");
    assert_eq!(recorded(&dir), ["1_empty", "2_comments", "3_table"]);

    let json_dir = migrations(&[("1_empty", "-- nothing yet\n")]);
    let json = deploy(&json_dir, &["--format", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let warning =
        json.json_lines().into_iter().find(|e| e["event"] == "empty_migration").expect("a warning event");
    assert_eq!(warning["name"], "1_empty");
    assert!(warning["file"].as_str().unwrap().ends_with("migration.sql"), "{json:?}");
    assert_eq!(recorded(&json_dir), ["1_empty"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_migration_folder_is_applied_and_a_broken_link_refused() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    dir.write("shared/2_b/migration.sql", "CREATE TABLE b (id INTEGER);");
    std::os::unix::fs::symlink(dir.path().join("shared/2_b"), dir.path().join("migrations/2_b")).unwrap();
    let run = deploy(&dir, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(recorded(&dir), ["1_a", "2_b"]);
    assert!(has_table(&dir, "b"));

    let broken = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    std::os::unix::fs::symlink(broken.path().join("gone"), broken.path().join("migrations/2_b")).unwrap();
    let run = deploy(&broken, &[]);
    assert_refused(&broken, &run, "2_b is a symbolic link to");
}

#[test]
fn nul_bytes_and_invalid_utf8_are_refused_naming_file_line_and_offset() {
    let cases: [(&[u8], &str); 2] = [
        (
            b"CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\0\n",
            "2: a NUL byte at byte offset 57",
        ),
        (b"CREATE TABLE a (id INTEGER);\n-- caf\xe9\n", "2: invalid UTF-8 at byte offset 35"),
    ];
    for (bytes, place) in cases {
        let dir = migrations(&[("1_a", "CREATE TABLE first (id INTEGER);")]);
        fs::create_dir_all(dir.path().join("migrations/2_b")).unwrap();
        fs::write(dir.path().join("migrations/2_b/migration.sql"), bytes).unwrap();
        let run = deploy(&dir, &[]);
        assert_refused(&dir, &run, &format!("migration.sql:{place}"));
        assert!(!has_table(&dir, "first") && !has_table(&dir, "a"), "{run:?}");
    }

    // data.sql is read with its folder; down.sql and seed.sql when they are used.
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    fs::write(dir.path().join("migrations/1_a/data.sql"), b"-- haste:data table=a key=id\0\n").unwrap();
    assert_refused(&dir, &deploy(&dir, &[]), "data.sql:1: a NUL byte at byte offset 28");
    fs::remove_file(dir.path().join("migrations/1_a/data.sql")).unwrap();

    assert_eq!(deploy(&dir, &[]).code, 0);
    let url = sqlite_url(&dir);
    fs::write(dir.path().join("migrations/1_a/down.sql"), b"DROP TABLE a;\xff").unwrap();
    let down = haste(dir.path(), &["migrate", "down", "--url", &url]);
    assert_eq!(down.code, 2, "{down:?}");
    assert!(down.stderr.contains("down.sql:1: invalid UTF-8 at byte offset 13"), "{down:?}");
    assert_eq!(recorded(&dir), ["1_a"], "still applied: {down:?}");
    assert!(has_table(&dir, "a"), "nothing was undone");
    fs::write(dir.path().join("seed.sql"), b"INSERT INTO a VALUES (1);\0").unwrap();
    let reset = haste(dir.path(), &["migrate", "reset", "--url", &url]);
    assert_eq!(reset.code, 2, "{reset:?}");
    assert!(reset.stderr.contains("seed.sql:1: a NUL byte at byte offset 25"), "{reset:?}");
    assert_eq!(recorded(&dir), ["1_a"], "nothing was reset: {reset:?}");
}

#[test]
fn overflowing_durations_and_numbers_are_refused_naming_value_and_source() {
    let header =
        |directive: &str| migrations(&[("1_a", &format!("{directive}\nCREATE TABLE a (id INTEGER);"))]);
    for (directive, value) in [
        (
            "-- haste:statement-timeout 18446744073709551615s",
            "`18446744073709551615s` is longer than the maximum",
        ),
        ("-- haste:lock-timeout 2147483648ms", "`2147483648ms` is longer than the maximum of 2147483647 ms"),
        ("-- haste:retries 99999999999999999999", "not `99999999999999999999`"),
    ] {
        let dir = header(directive);
        assert_refused(&dir, &deploy(&dir, &[]), value);
        assert!(deploy(&dir, &[]).stderr.contains("migration.sql:1"));
    }

    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);")]);
    for (setting, value) in [
        ("target=99999999999999999999999", "target: `99999999999999999999999` is longer"),
        ("batch=99999999999999999999", "not `99999999999999999999`"),
    ] {
        dir.write(
            "migrations/2_fill/data.sql",
            &format!("-- haste:data table=a key=id {setting}\nUPDATE a SET id = id WHERE :range;\n"),
        );
        let run = deploy(&dir, &[]);
        assert_refused(&dir, &run, value);
        assert!(run.stderr.contains("data.sql:1"), "{run:?}");
    }
    fs::remove_dir_all(dir.path().join("migrations/2_fill")).unwrap();

    for (toml, value) in [
        ("[defaults]\nlock_timeout = \"99999999999999999999999\"\n", "`99999999999999999999999` is longer"),
        ("[defaults]\nstatement_timeout = \"1.5ms\"\n", "`1.5ms` is not a whole number of milliseconds"),
        ("[lock]\nwait = \"18446744073709551615s\"\n", "`18446744073709551615s` is longer"),
    ] {
        dir.write("haste.toml", toml);
        let run = deploy(&dir, &[]);
        assert_refused(&dir, &run, value);
        assert!(run.stderr.contains("haste.toml:2:"), "the file and line are named: {run:?}");
    }
    fs::remove_file(dir.path().join("haste.toml")).unwrap();

    for flag in ["--lock-wait", "--lock-timeout", "--statement-timeout"] {
        let run = deploy(&dir, &[flag, "18446744073709551615s"]);
        assert_refused(&dir, &run, &format!("{flag}: `18446744073709551615s` is longer"));
        let json = deploy(&dir, &[flag, "99999999999999999999999", "--format", "json"]);
        assert_eq!(json.code, 2, "{json:?}");
        let lines = json.json_lines();
        assert_eq!(lines.len(), 1, "{json:?}");
        assert_eq!(lines[0]["error"]["code"], "USAGE");
        assert!(lines[0]["error"]["message"].as_str().unwrap().contains(flag), "{json:?}");
    }
    assert_eq!(deploy(&dir, &["--lock-wait", "2147483647ms"]).code, 0, "the maximum itself is accepted");
}

/// `--expand-contract` on a column whose name is long and not ASCII: the trigger and function
/// names are cut at 63 bytes on a character boundary, as PostgreSQL cuts them.
#[test]
fn expand_contract_on_a_long_multibyte_column_name() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("inputs-expand");
    // 2-byte characters: every "haste_sync_..." and "0haste_copy_..." name derived from these
    // crosses byte 63 inside one.
    let old = "ä".repeat(25);
    let new = "ö".repeat(25);
    let dev = |schema: &str, extra: &[&str]| {
        dir.write("schema.sql", schema);
        let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", "schema.sql"];
        args.extend_from_slice(extra);
        haste(dir.path(), &args)
    };
    let v1 = format!("CREATE TABLE kontakte (id bigint PRIMARY KEY, \"{old}\" text);");
    assert_eq!(dev(&v1, &["--name", "init"]).code, 0);
    let v2 = v1.replace(&old, &new);
    let rename = format!("public.kontakte.{old}={new}");
    let run = dev(&v2, &["--name", "rename", "--rename", &rename, "--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    db.execute(&format!("INSERT INTO kontakte (id, \"{new}\") VALUES (1, 'x')"));
    assert_eq!(
        db.value(&format!("SELECT \"{old}\" FROM kontakte WHERE id = 1")).as_deref(),
        Some("x"),
        "the sync trigger (its name cut at a character boundary) keeps the old column filled"
    );
    let names =
        db.query("SELECT tgname FROM pg_trigger WHERE tgrelid = 'kontakte'::regclass AND NOT tgisinternal");
    assert!(
        names.len() == 2
            && names.iter().flatten().flatten().all(|name| name.len() <= 63
                && (name.starts_with("haste_sync_") || name.starts_with("0haste_copy_"))),
        "{names:?}"
    );
}

/// A connection string that says nothing usable is refused before anything runs: `sqlite:`
/// with no file (SQLite would apply everything to a temporary database and drop it), and an
/// empty or repeated `schema` parameter (history and search path would disagree).
#[test]
fn a_url_without_a_file_or_with_an_unclear_schema_is_refused() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    for url in [
        "sqlite:",
        "sqlite://?mode=rwc",
        "postgres://app:Pw0rd@127.0.0.1:1/crm?schema=",
        "postgres://app:Pw0rd@127.0.0.1:1/crm?schema=a&schema=b",
        "host=127.0.0.1 port=1 password=Pw0rd schema=''",
    ] {
        let run = haste(dir.path(), &["migrate", "deploy", "--url", url]);
        assert_eq!(run.code, 2, "{url}: {run:?}");
        assert!(run.stderr.contains("unsupported database URL"), "{url}: {run:?}");
        assert!(!run.all().contains("Pw0rd"), "{run:?}");
        dir.write("targets.txt", url);
        let fleet = haste(dir.path(), &["migrate", "deploy", "--targets", "targets.txt"]);
        assert_eq!(fleet.code, 2, "{url}: {fleet:?}");
        assert!(fleet.stderr.contains("targets.txt:1: unsupported database URL"), "{fleet:?}");
    }
    assert!(!dir.path().join(".haste-lock").exists(), "nothing was opened");
}

/// A SQLite file that does not exist is created only by the commands that apply migrations
/// (deploy, reset), as Prisma Migrate creates it; every other command refuses it, naming the
/// file, rather than answer for an empty database it made (a misspelt name reported as "nothing
/// applied") and leave that file behind.
#[test]
fn a_missing_sqlite_file_is_created_only_by_commands_that_apply_migrations() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id INTEGER);")]);
    let typo = format!("sqlite:{}", dir.path().join("ap.db").display());
    let commands: [&[&str]; 8] = [
        &["migrate", "status"],
        &["migrate", "plan"],
        &["migrate", "down"],
        &["migrate", "resolve", "--applied", "1_a"],
        &["migrate", "baseline", "1_a"],
        &["migrate", "unlock"],
        &["doctor"],
        &["report", "--out", "report.html"],
    ];
    for command in commands {
        let run = haste(dir.path(), &[command, &["--url", &typo]].concat());
        assert_eq!(run.code, 9, "{command:?}: {run:?}");
        assert!(run.stderr.contains("ap.db: the file does not exist"), "{command:?}: {run:?}");
        assert!(!dir.path().join("ap.db").exists(), "{command:?} made the file");
    }
    let deployed = deploy(&dir, &[]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    assert_eq!(recorded(&dir), ["1_a"]);
    let status = haste(dir.path(), &["migrate", "status", "--url", &sqlite_url(&dir)]);
    assert_eq!(status.code, 0, "{status:?}");
}
