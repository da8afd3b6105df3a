//! `schema erd` and `report` on the hasteCRM corpus, as a user runs them; the report opened in
//! headless Chromium.

use std::fs;

use haste_testkit::browser::{Browser, ink};
use haste_testkit::{TempDir, database};

use crate::{corpus, haste};

/// The corpus's tables and foreign keys (its README).
const TABLES: usize = 45;
const FOREIGN_KEYS: usize = 91;

#[test]
fn the_corpus_is_drawn_in_every_format_from_every_source() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else { return };
    let work = TempDir::new("erd");
    let migrations = corpus.join("migrations");
    let svg_file = work.path().join("crm.svg");
    let run = haste(
        work.path(),
        &[
            "schema",
            "erd",
            "--url",
            &db.url,
            "--from",
            migrations.to_str().unwrap(),
            "--out",
            svg_file.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains(&format!("({TABLES} tables, {FOREIGN_KEYS} links)")), "{run:?}");
    let svg = fs::read_to_string(&svg_file).unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(svg.matches("<g class=\"table\"").count(), TABLES);
    assert_eq!(svg.matches("<polyline").count(), FOREIGN_KEYS);
    assert!(svg.contains(">Workspace</text>"));

    let prisma = corpus.join("schemas/v3.schema.prisma");
    let run = haste(
        work.path(),
        &["schema", "erd", "--url", &db.url, "--from", prisma.to_str().unwrap(), "--format", "mermaid"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("erDiagram\n"));
    assert_eq!(run.stdout.lines().filter(|l| l.starts_with("    t") && l.ends_with('{')).count(), TABLES);
    assert_eq!(run.stdout.matches("--").count(), FOREIGN_KEYS, "{}", run.stdout);
    assert!(
        run.stdout.contains("t44[\"public.Workspace\"]") || run.stdout.contains("[\"public.Workspace\"]")
    );

    // The database itself, narrowed to a few tables: links only between those drawn.
    assert_eq!(
        haste(work.path(), &["migrate", "deploy", "--url", &db.url, "--dir", migrations.to_str().unwrap()])
            .code,
        0
    );
    let run = haste(
        work.path(),
        &["schema", "erd", "--url", &db.url, "--format", "dot", "--schema", "public", "--tables", "Deal*"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let nodes =
        run.stdout.lines().filter(|l| l.trim_start().starts_with('t') && l.contains("[label=<")).count();
    assert_eq!(nodes, 5, "Deal, DealContact, DealCustomField, DealStageTransition, DealTag:\n{}", run.stdout);
    assert!(run.stdout.contains("subgraph cluster_0") && run.stdout.contains(" -> "));
}

#[test]
fn the_report_shows_schema_history_and_plan_in_a_browser() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else { return };
    let work = TempDir::new("report");
    for entry in fs::read_dir(corpus.join("migrations")).unwrap().flatten() {
        let name = entry.file_name().into_string().unwrap();
        if entry.path().is_dir() {
            let sql = fs::read_to_string(entry.path().join("migration.sql")).unwrap();
            work.write(&format!("migrations/{name}/migration.sql"), &sql);
        }
    }
    work.write(
        "migrations/30000000000000_counters/migration.sql",
        "CREATE TABLE counters (id bigint PRIMARY KEY, n integer);\n\
         INSERT INTO counters SELECT g, 0 FROM generate_series(1, 5000) g;\n\
         CREATE TABLE \"<script>alert(1)</script>\" (id int PRIMARY KEY, \"quo\"\"te\" text, \"日本語\" text,\n\
           counter bigint REFERENCES counters (id));\n\
         COMMENT ON TABLE \"<script>alert(1)</script>\" IS '</script><img src=x onerror=alert(2)> & \"quotes\"';",
    );
    work.write(
        "migrations/30000000000000_counters/data.sql",
        "-- haste:data table=counters key=id batch=1000\nUPDATE counters SET n = id * 2 WHERE :range;\n",
    );
    work.write("migrations/30000000000001_broken/migration.sql", "CREATE TABLE never (id int);\nSELECT 1/0;");
    // The first migration waits for a table another session holds, and retries until it is free.
    db.execute("CREATE TABLE t (id int)");
    work.write("migrations/00000000000000_waits/migration.sql", "ALTER TABLE t ADD COLUMN v int;");
    let holder = crate::budget::hold_lock(&db.url, "ACCESS SHARE", std::time::Duration::from_millis(800));
    let failed = haste(work.path(), &["migrate", "deploy", "--url", &db.url]);
    holder.join().unwrap();
    assert_ne!(failed.code, 0, "{failed:?}");
    assert!(
        failed.stdout.contains("00000000000000_waits: attempt 1 (lock_timeout 100 ms) hit "),
        "{failed:?}"
    );
    // The failed migration, rewritten, is what the plan shows: a lock of each colour.
    work.write(
        "migrations/30000000000001_broken/migration.sql",
        "CREATE INDEX CONCURRENTLY \"idx<script>\" ON counters (n);\n\
         CREATE INDEX plain_index ON counters (id, n);\n\
         ALTER TABLE counters ALTER COLUMN n TYPE bigint;",
    );
    let out = work.path().join("out");
    let run = haste(work.path(), &["report", "--url", &db.url, "--plan", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let page = out.join("index.html");
    let html = fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");
    assert!(html.contains("5000 rows,") && html.contains("rows/s"), "the data step's rate");
    for class in ["lock-go", "lock-writes", "lock-all"] {
        assert!(html.contains(&format!("<tr class=\"{class}\">")), "a {class} statement");
    }
    assert!(html.contains("division by zero"), "the failure is in the timeline");
    let holder_pid =
        db.value("SELECT detail->'lock_waits'->'longest_blocker'->>'pid' FROM _haste_events WHERE name = '00000000000000_waits' AND event = 'applied'");
    let holder_pid = holder_pid.expect("the applied event keeps the migration's lock waits");

    let Some(browser) = Browser::start("the_report_shows_schema_history_and_plan_in_a_browser") else {
        return;
    };
    let screenshot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-corpus.png");
    browser.screenshot(&page, &screenshot, 1400, 1000).expect("a screenshot");
    let covered = ink(&screenshot);
    eprintln!("screenshot: {} ({:.1}% ink)", screenshot.display(), covered * 100.0);
    assert!(covered > 0.05, "the report looks blank: {covered}");
    let dom = browser.dump_dom(&page).expect("the DOM");
    let tables = TABLES + 3;
    assert_eq!(dom.matches("class=\"doc\"").count(), tables, "a section per table");
    assert_eq!(dom.matches("<g class=\"table\"").count(), tables, "a box per table");
    assert_eq!(dom.matches("class=\"entry\"").count(), 6, "five migrations applied, one failed:\n{dom}");
    // The migration that waited says so on its entry, naming whom it waited for; the others
    // (their `applied` events carry no waits, as in histories older than the record) do not.
    let waits: Vec<&str> = dom.split("<span class=\"waits\">").skip(1).collect();
    assert_eq!(waits.len(), 1, "one migration waited:\n{dom}");
    let entry = dom.split("class=\"entry\"").find(|entry| entry.contains("00000000000000_waits")).unwrap();
    assert!(
        entry.contains("<span class=\"waits\">lock waits: ")
            && entry.contains(&format!("waited longest for pid {holder_pid} (report)")),
        "{entry}"
    );
    assert_eq!(dom.matches("<script").count(), 1, "no name became a script");
    assert!(!dom.contains("<img"), "no comment became an element");
    assert!(dom.contains("id=\"plan\"") && dom.contains("ACCESS EXCLUSIVE"));
}

#[test]
fn two_hundred_tables_are_drawn_and_reported_on_a_database_haste_never_ran_on() {
    let Some(db) = database() else { return };
    let schemas = ["billing", "crm", "inventory", "public"];
    let mut random = haste_testkit::Random::new(200);
    let mut sql = String::from("CREATE SCHEMA billing; CREATE SCHEMA crm; CREATE SCHEMA inventory;\n");
    let mut links = 0;
    for i in 0..200 {
        let mut columns = vec!["id bigint PRIMARY KEY".to_owned()];
        columns.extend((0..2 + random.next(8)).map(|c| format!("c{c} text")));
        for p in 0..if i == 0 { 0 } else { 1 + random.next(3) } {
            let parent = random.next(i);
            columns.push(format!(
                "t{parent:03}_{p}_id bigint REFERENCES {}.t{parent:03} (id)",
                schemas[parent % 4]
            ));
            links += 1;
        }
        sql.push_str(&format!("CREATE TABLE {}.t{i:03} ({});\n", schemas[i % 4], columns.join(", ")));
    }
    db.execute(&sql);
    let work = TempDir::new("erd-200");
    let started = std::time::Instant::now();
    let run = haste(work.path(), &["schema", "erd", "--url", &db.url]);
    let erd_time = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.matches("<g class=\"table\"").count(), 200);
    assert_eq!(run.stdout.matches("<polyline").count(), links);
    assert_eq!(run.stdout.matches("class=\"frame-title\"").count(), 4, "a frame per schema");
    let out = work.path().join("report");
    let started = std::time::Instant::now();
    let run = haste(work.path(), &["report", "--url", &db.url, "--out", out.to_str().unwrap()]);
    let report_time = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("No migration recorded"), "a database haste never deployed to");
    assert_eq!(html.matches("class=\"doc\"").count(), 200);
    eprintln!(
        "200 tables, {links} foreign keys: schema erd {} ms, report {} ms ({} KiB)",
        erd_time.as_millis(),
        report_time.as_millis(),
        html.len() / 1024
    );
}

#[test]
fn a_filter_that_can_draw_nothing_is_bad_input() {
    let Some(db) = database() else { return };
    db.execute("CREATE SCHEMA crm; CREATE TABLE crm.deal (id int); CREATE TABLE crm.contact (id int); CREATE TABLE note (id int);");
    let work = TempDir::new("erd-filter");
    let svg = work.path().join("out.svg");
    let erd = |extra: &[&str]| {
        haste(
            work.path(),
            &[&["schema", "erd", "--url", &db.url, "--out", svg.to_str().unwrap()], extra].concat(),
        )
    };
    let run = erd(&["--tables", "Dael*"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("error: --tables Dael* matches none of the 3 tables ("), "{run:?}");
    let run = erd(&["--schema", "crm", "--tables", "note"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--tables note matches none of the 2 tables in schema crm"), "{run:?}");
    let run = erd(&["--schema", "sales"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("error: --schema sales: no such schema (there are: crm, public)"), "{run:?}");
    assert!(!svg.exists(), "nothing drawn");
    let out = work.path().join("report");
    let run =
        haste(work.path(), &["report", "--url", &db.url, "--out", out.to_str().unwrap(), "--tables", "x?"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--tables x? matches none of the 3 tables"), "{run:?}");
    assert!(!out.exists(), "nothing written");
    // What does match is drawn: a pattern on schema.name, and a schema with its tables.
    let run = erd(&["--tables", "crm.*", "--schema", "crm"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("(2 tables, 0 links)"), "{run:?}");
}

/// The report is a file people pass around: the connection's password stays out of it, as it
/// stays out of the terminal, even where the history or a pending statement quotes it (here a
/// failed migration's error, kept in `_haste_events`, and the same statement in the plan).
#[test]
fn the_report_never_holds_the_password() {
    let Some(db) = database() else { return };
    let password = "R3port&<Secret>";
    let url = db.url_with_password(&password.replace('&', "%26").replace('<', "%3C").replace('>', "%3E"));
    let work = crate::migrations(&[
        ("1_ok", "CREATE TABLE ok (id int);"),
        ("2_quotes", &format!("SELECT '{password}'::int;")),
    ]);
    let deploy = haste(work.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(deploy.code, 6, "{deploy:?}");
    assert!(!deploy.all().contains(password), "{deploy:?}");
    let out = work.path().join("report");
    let run = haste(work.path(), &["report", "--url", &url, "--plan", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("invalid input syntax for type integer"), "the failure is in the timeline");
    for written in [password.to_owned(), haste_report::escape(password)] {
        assert!(!html.contains(&written), "the password, as {written:?}, is in the report");
    }
    assert!(html.contains("&quot;***&quot;"), "masked where the error quoted it");
}

/// A write that fails part-way (here the file-size limit, as a full disk would) leaves the
/// previous report and diagram whole, and no piece of the new one beside them.
#[test]
fn a_write_that_fails_part_way_leaves_the_previous_output_whole() {
    let Some(db) = database() else { return };
    let table = |i: usize| format!("CREATE TABLE t{i} (id int PRIMARY KEY, name text, note text);");
    db.execute(&(0..10).map(table).collect::<String>());
    let work = TempDir::new("half-written");
    let out = work.path().join("report");
    let svg = work.path().join("erd.svg");
    let (report, erd) = (out.to_str().unwrap(), svg.to_str().unwrap());
    assert_eq!(haste(work.path(), &["report", "--url", &db.url, "--out", report]).code, 0);
    assert_eq!(haste(work.path(), &["schema", "erd", "--url", &db.url, "--out", erd]).code, 0);
    let (page, picture) =
        (fs::read_to_string(out.join("index.html")).unwrap(), fs::read_to_string(&svg).unwrap());
    db.execute(&(10..60).map(table).collect::<String>());
    for args in [
        vec!["report", "--url", &db.url, "--out", report],
        vec!["schema", "erd", "--url", &db.url, "--out", erd],
    ] {
        // Files may grow to 16 blocks; the signal ignored, so that the write fails (EFBIG).
        let limited = "trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\"";
        let output = std::process::Command::new("sh")
            .args(["-c", limited, env!("CARGO_BIN_EXE_haste")])
            .args(&args)
            .current_dir(work.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("error: cannot write "), "{stderr}");
    }
    let now = (fs::read_to_string(out.join("index.html")).unwrap(), fs::read_to_string(&svg).unwrap());
    assert!(now.0 == page, "the previous report, whole: {} bytes of {}", now.0.len(), page.len());
    assert!(now.1 == picture, "the previous diagram, whole: {} bytes of {}", now.1.len(), picture.len());
    let mut left: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .chain(fs::read_dir(&out).unwrap())
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["erd.svg", "index.html", "report"], "nothing half-written beside them");
}
