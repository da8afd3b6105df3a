//! Schema sources and histories replayed on shadow databases stay inside them: statements that
//! act on other databases, roles, the server's files or settings are refused, named by file and
//! line, before anything runs on a shadow.

use haste_testkit::{TempDir, TestDb, database};

use crate::{Run, haste, migrations};

/// A database on the test cluster that a shadow replay must never touch; dropped at the end.
struct Victim<'a> {
    db: &'a TestDb,
    name: String,
}

impl<'a> Victim<'a> {
    fn create(db: &'a TestDb) -> Victim<'a> {
        let name = format!("{}_victim", db.name);
        db.execute(&format!("CREATE DATABASE \"{name}\""));
        Victim { db, name }
    }

    fn exists(&self) -> bool {
        self.db.value(&format!("SELECT count(*) FROM pg_database WHERE datname = '{}'", self.name)).as_deref()
            == Some("1")
    }
}

impl Drop for Victim<'_> {
    fn drop(&mut self) {
        let _ = self.db.try_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

/// A schema file whose line 2 drops the victim, followed by other statements that reach outside.
fn hostile_schema(victim: &Victim<'_>, dir: &TempDir) -> String {
    let copied = dir.path().join("copied.txt");
    format!(
        "CREATE TABLE t (id int);
DROP DATABASE \"{victim}\";
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{victim}';
COPY t TO '{copied}';
ALTER SYSTEM SET work_mem = '7MB';
CREATE ROLE \"{victim}_role\";
DO $$ BEGIN PERFORM pg_reload_conf(); END $$;
",
        victim = victim.name,
        copied = copied.display()
    )
}

/// Nothing of the hostile schema ran: the victim, the server's settings and its roles are as
/// they were, no file was written, no migration generated.
fn assert_untouched(victim: &Victim<'_>, dir: &TempDir, run: &Run) {
    assert!(victim.exists(), "the victim database survives: {run:?}");
    assert!(!dir.path().join("copied.txt").exists(), "COPY did not run: {run:?}");
    let written = std::fs::read_dir(dir.path().join("migrations")).map_or(0, |entries| entries.count());
    assert_eq!(written, 0, "nothing was written: {run:?}");
    let role = format!("{}_role", victim.name);
    assert_eq!(
        victim.db.value(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'")).as_deref(),
        Some("0"),
        "{run:?}"
    );
    assert_ne!(
        victim.db.value("SELECT setting FROM pg_file_settings WHERE name = 'work_mem'").as_deref(),
        Some("7MB"),
        "ALTER SYSTEM did not run: {run:?}"
    );
}

/// Exit 4, every escaping statement named with its file and line.
fn assert_refused(run: &Run, file: &str) {
    assert_eq!(run.code, 4, "{run:?}");
    for (line, what) in [
        (2, "DROP DATABASE"),
        (3, "a call of pg_terminate_backend"),
        (4, "COPY to or from a file"),
        (5, "ALTER SYSTEM"),
        (6, "CREATE ROLE"),
        (7, "a call of pg_reload_conf"),
    ] {
        assert!(
            run.stderr.contains(&format!("{file}:{line}:")) && run.stderr.contains(what),
            "{what}: {run:?}"
        );
    }
    assert!(run.stderr.contains("nothing was run"), "{run:?}");
}

#[test]
fn a_schema_source_that_acts_outside_its_shadow_is_refused_before_anything_runs() {
    let Some(db) = database() else { return };
    let victim = Victim::create(&db);
    let dir = TempDir::new("sandbox");
    dir.write("schema.sql", &hostile_schema(&victim, &dir));

    let dev =
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--create-only"]);
    assert_refused(&dev, "schema.sql");
    assert_untouched(&victim, &dir, &dev);

    let diff =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "schema.sql", "--url", &db.url]);
    assert_refused(&diff, "schema.sql");
    assert_untouched(&victim, &dir, &diff);

    let inspect = haste(dir.path(), &["schema", "inspect", "--source", "schema.sql", "--url", &db.url]);
    assert_refused(&inspect, "schema.sql");
    assert_untouched(&victim, &dir, &inspect);

    // A folder of .sql files is checked as a whole before its first file runs.
    dir.write("schema/01_tables.sql", "CREATE TABLE a (id int);");
    dir.write("schema/02_hostile.sql", &format!("SELECT 1;\nDROP DATABASE \"{}\";", victim.name));
    let folder =
        haste(dir.path(), &["schema", "inspect", "--source", "schema", "--url", &db.url, "--format", "json"]);
    assert_eq!(folder.code, 4, "{folder:?}");
    let document = &folder.json_lines()[0];
    assert_eq!(document["error"]["code"], "OUTSIDE_SHADOW", "{folder:?}");
    assert_eq!(document["error"]["line"], 2, "{folder:?}");
    assert!(document["error"]["file"].as_str().unwrap().ends_with("02_hostile.sql"), "{folder:?}");
    assert_eq!(document["error"]["statements"][0]["what"], "DROP DATABASE", "{folder:?}");
    assert!(victim.exists(), "{folder:?}");
}

#[test]
fn a_history_that_acts_outside_its_shadow_is_refused_by_dev_and_drift() {
    let Some(db) = database() else { return };
    let victim = Victim::create(&db);
    let dir = migrations(&[
        ("01_init", "CREATE TABLE t (id int);"),
        (
            "02_cleanup",
            &format!("-- a leftover\nCREATE TABLE u (id int);\nDROP DATABASE \"{}\";", victim.name),
        ),
    ]);
    dir.write("schema.sql", "CREATE TABLE t (id int);\nCREATE TABLE u (id int);\nCREATE TABLE v (id int);");
    let folder = "migrations/02_cleanup/migration.sql";

    // Pending: migrate dev replays it on its shadow before generating anything.
    let dev = haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--create-only", "--name", "more"]);
    assert_eq!(dev.code, 4, "{dev:?}");
    assert!(dev.stderr.contains(&format!("{folder}:3:1: DROP DATABASE")), "{dev:?}");
    assert!(victim.exists(), "{dev:?}");
    assert_eq!(crate::migration_folders(&dir).len(), 2, "nothing generated: {dev:?}");

    // Applied (recorded without running): the drift check replays it.
    let baseline = haste(dir.path(), &["migrate", "baseline", "02_cleanup", "--url", &db.url]);
    assert_eq!(baseline.code, 0, "{baseline:?}");
    let drift = haste(dir.path(), &["migrate", "status", "--drift", "--url", &db.url, "--format", "json"]);
    assert_eq!(drift.code, 4, "{drift:?}");
    let documents = drift.json_lines();
    assert_eq!(documents.last().unwrap()["error"]["code"], "OUTSIDE_SHADOW", "{drift:?}");
    assert!(victim.exists(), "{drift:?}");

    let dev = haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--create-only", "--name", "more"]);
    assert_eq!(dev.code, 4, "{dev:?}");
    assert!(victim.exists(), "{dev:?}");

    // The user's own database runs what the user wrote: deploy is not sandboxed.
    let Some(target) = database() else { return };
    let other = migrations(&[("01_drop", &format!("DROP DATABASE \"{}\";", victim.name))]);
    let deploy = haste(other.path(), &["migrate", "deploy", "--url", &target.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert!(!victim.exists(), "{deploy:?}");
}

/// SQL a function or a `DO` block assembles at run time, which no scan of the text can judge:
/// the server refuses it, because a shadow's session logs in as a role of the shadow's own.
#[test]
fn sql_built_at_run_time_cannot_act_outside_its_shadow() {
    let Some(db) = database() else { return };
    let victim = Victim::create(&db);
    let dir = TempDir::new("sandbox-dynamic");
    let written = dir.path().join("written.txt");
    let call = |body: &str| {
        format!(
            "CREATE TABLE t (id int);\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN {body}; END $$;\nSELECT f();\n"
        )
    };
    let do_block = |body: &str| format!("CREATE TABLE t (id int);\nSELECT 1;\nDO $$ BEGIN {body}; END $$;\n");
    // Each split so that no word of it is whole in the text.
    let attacks = [
        call(&format!("EXECUTE 'DR' || 'OP DATABASE \"{}\"'", victim.name)),
        call(&format!("EXECUTE 'CRE' || 'ATE ROLE \"{}_role\" SUPERUSER'", victim.name)),
        call(&format!("EXECUTE 'RE' || 'SET ROLE'; EXECUTE 'CRE' || 'ATE ROLE \"{}_role\"'", victim.name)),
        call(&format!(
            "PERFORM set_config('ro' || 'le', 'postgres', false); EXECUTE 'CRE' || 'ATE ROLE \"{}_role\"'",
            victim.name
        )),
        call("EXECUTE 'SELECT pg_read_' || 'file(''/etc/hostname'')'"),
        call(&format!("EXECUTE 'CO' || 'PY (SELECT 1) TO ' || quote_literal('{}')", written.display())),
        call("EXECUTE 'CREATE EXT' || 'ENSION dblink'"),
        call("EXECUTE 'AL' || 'TER ROLE postgres NOSUPERUSER'"),
        call(&format!(
            "EXECUTE 'SELECT pg_terminate_' || 'backend(pid) FROM pg_stat_activity WHERE datname = ''{}'''",
            victim.name
        )),
        // A DO block runs as the same role: what it builds is refused the same way.
        do_block("EXECUTE 'SET ROLE postgres'; EXECUTE 'AL' || 'TER ROLE postgres NOSUPERUSER'"),
        do_block(&format!("EXECUTE 'CRE' || 'ATE ROLE \"{}_role\" SUPERUSER'", victim.name)),
        do_block(&format!("EXECUTE 'DR' || 'OP DATABASE \"{}\"'", victim.name)),
    ];
    // A session on the victim, which pg_terminate_backend would end.
    let victim_url = db.url.replace(&format!("/{}", db.name), &format!("/{}", victim.name));
    let watcher = haste_testkit::Session::connect(&victim_url);
    for attack in &attacks {
        dir.write("schema.sql", attack);
        let run = haste(dir.path(), &["schema", "inspect", "--source", "schema.sql", "--url", &db.url]);
        assert_eq!(run.code, 6, "the server refused it as it ran: {attack}\n{run:?}");
        assert!(run.stderr.contains("schema.sql:3"), "the call is named: {attack}\n{run:?}");
        assert!(victim.exists(), "{attack}\n{run:?}");
        assert!(!written.exists(), "{attack}\n{run:?}");
        assert_eq!(
            db.value(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{}_role'", victim.name))
                .as_deref(),
            Some("0"),
            "{attack}\n{run:?}"
        );
        assert_eq!(
            db.value("SELECT rolsuper::text FROM pg_roles WHERE rolname = 'postgres'").as_deref(),
            Some("true")
        );
    }
    assert_eq!(watcher.query("SELECT 1").len(), 1, "the victim's session lives");
    // Nothing of the shadows' roles is left on the server by a haste that has ended (the name
    // holds its process id; other tests' haste processes may be running now).
    let left: Vec<String> = db
        .query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'haste\\_shadow\\_%'")
        .into_iter()
        .filter_map(|row| row[0].clone())
        .filter(|role| {
            let pid = role.trim_start_matches("haste_shadow_").split('_').next().unwrap_or_default();
            !std::path::Path::new("/proc").join(pid).exists()
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The same through a history, the function called by a column default during an INSERT.
    let history = migrations(&[
        (
            "01_init",
            &format!(
                "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CRE' || 'ATE ROLE \"{}_role\"'; RETURN 1; END $$;\nCREATE TABLE t (id int DEFAULT f());",
                victim.name
            ),
        ),
        ("02_rows", "-- a seed row\nINSERT INTO t DEFAULT VALUES;"),
    ]);
    history.write("schema.sql", "CREATE TABLE t (id int);\nCREATE TABLE u (id int);");
    let dev = haste(history.path(), &["migrate", "dev", "--url", &db.url, "--create-only", "--name", "more"]);
    assert_ne!(dev.code, 0, "{dev:?}");
    assert!(dev.stderr.contains("02_rows/migration.sql:2"), "{dev:?}");
    assert!(dev.stderr.contains("permission denied"), "{dev:?}");
    assert_eq!(crate::migration_folders(&history).len(), 2, "nothing generated: {dev:?}");
    assert_eq!(
        db.value(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{}_role'", victim.name)).as_deref(),
        Some("0"),
        "{dev:?}"
    );
}

/// A source that gives an object to another role (`OWNER TO postgres`) runs as the connecting
/// role, where the server stops nothing: SQL a function or a `DO` block builds at run time is
/// refused before anything runs, through a schema source and through a history.
#[test]
fn sql_built_at_run_time_is_refused_where_the_shadow_runs_as_the_connecting_role() {
    let Some(db) = database() else { return };
    let victim = Victim::create(&db);
    let role = format!("{}_role", victim.name);
    let create_role = format!("EXECUTE 'CRE' || 'ATE ROLE \"{role}\" SUPERUSER'");
    let function = format!(
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN {create_role}; RETURN 1; END $$;\nCREATE TABLE t (id int DEFAULT f());"
    );
    let do_block = format!("DO $$ BEGIN {create_role}; END $$;\nCREATE TABLE t (id int);");
    for escape in [function, do_block] {
        let dir = TempDir::new("sandbox-unconfined");
        dir.write(
            "schema.sql",
            &format!("{escape}\nALTER TABLE t OWNER TO postgres;\nINSERT INTO t DEFAULT VALUES;\n"),
        );
        let run = haste(dir.path(), &["schema", "inspect", "--source", "schema.sql", "--url", &db.url]);
        let history = migrations(&[
            ("01_init", &format!("{escape}\nALTER TABLE t OWNER TO postgres;")),
            ("02_rows", "INSERT INTO t DEFAULT VALUES;"),
        ]);
        // Replayed as a schema source: no role of a shadow's own is made (another test counts them).
        let replay =
            haste(history.path(), &["schema", "inspect", "--source", "migrations", "--url", &db.url]);
        for (run, file) in [(&run, "schema.sql:1:"), (&replay, "01_init/migration.sql:1:")] {
            assert_eq!(run.code, 4, "{run:?}");
            assert!(run.stderr.contains(file) && run.stderr.contains("dynamic SQL (EXECUTE)"), "{run:?}");
            assert_eq!(
                db.value(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'")).as_deref(),
                Some("0"),
                "{run:?}"
            );
        }
    }
}

/// A history that creates a type only where it is missing, with dynamic SQL in a `DO` block (as
/// linkwarden's does): it replays on a confined shadow, as Prisma replays it.
#[test]
fn a_do_block_with_dynamic_sql_replays_on_a_confined_shadow() {
    let Some(db) = database() else { return };
    let dir = migrations(&[(
        "01_theme",
        "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'Theme') THEN\n    EXECUTE 'CREATE TYPE \"Theme\" AS ENUM (''dark'', ''light'')';\n  END IF;\nEND $$;\nCREATE TABLE u (theme \"Theme\");",
    )]);
    dir.write(
        "schema.sql",
        "CREATE TYPE \"Theme\" AS ENUM ('dark', 'light');\nCREATE TABLE u (theme \"Theme\");\nCREATE TABLE v (id int);",
    );
    let dev = haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--name", "more"]);
    assert_eq!(dev.code, 0, "{dev:?}");
    let folders = crate::migration_folders(&dir);
    assert_eq!(folders.len(), 2, "{dev:?}");
    let generated = std::fs::read_to_string(folders[1].join("migration.sql")).unwrap();
    assert!(generated.contains("CREATE TABLE") && !generated.contains("Theme"), "{generated}");
    assert_eq!(db.value("SELECT count(*) FROM pg_type WHERE typname = 'Theme'").as_deref(), Some("1"));
}

/// Ordinary sources still replay as the shadow's own role: grants to roles that exist,
/// trusted extensions created by the history; and an owner given to another role (as `pg_dump`
/// writes) replays as the connecting role, as before.
#[test]
fn ordinary_histories_replay_on_a_confined_shadow() {
    let Some(db) = database() else { return };
    let app = format!("{}_app", db.name);
    db.execute(&format!("CREATE ROLE \"{app}\" NOLOGIN"));
    let init = format!(
        "CREATE EXTENSION pg_trgm;\nCREATE TABLE t (id int, name text);\nCREATE INDEX t_name ON t USING gin (name gin_trgm_ops);\nGRANT SELECT ON t TO \"{app}\";\nREVOKE ALL ON SCHEMA public FROM PUBLIC;\nCOMMENT ON SCHEMA public IS 'app';"
    );
    let schema = "CREATE EXTENSION pg_trgm;\nCREATE TABLE t (id int, name text);\nCREATE INDEX t_name ON t USING gin (name gin_trgm_ops);\nCREATE TABLE u (id int);\nCOMMENT ON SCHEMA public IS 'app';";
    // Confined: the history's role creates the trusted extension and grants to a role that exists.
    // With an owner given to another role: replayed as the connecting role.
    for history in [
        vec![("01_init", init.as_str())],
        vec![("01_init", init.as_str()), ("02_owner", "ALTER TABLE public.t OWNER TO postgres;")],
    ] {
        let Some(target) = database() else { return };
        let dir = migrations(&history);
        dir.write("schema.sql", schema);
        let dev = haste(dir.path(), &["migrate", "dev", "--url", &target.url, "--name", "more"]);
        assert_eq!(dev.code, 0, "{dev:?}");
        assert_eq!(crate::migration_folders(&dir).len(), history.len() + 1, "{dev:?}");
        let status = haste(dir.path(), &["migrate", "status", "--drift", "--url", &target.url]);
        assert_eq!(status.code, 0, "{status:?}");
    }
    let _ = db.try_execute(&format!("DROP OWNED BY \"{app}\""));
    let _ = db.try_execute(&format!("DROP ROLE \"{app}\""));
}

/// A source that acts as another role makes the shadow run without a role of its own: the user
/// is told, on stderr, while the comparison itself goes on.
#[test]
fn an_unconfined_shadow_is_said_out_loud() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("sandbox-unconfined");
    dir.write("confined.sql", "CREATE TABLE t (id int);");
    dir.write("owned.sql", "CREATE TABLE t (id int);\nALTER TABLE t OWNER TO postgres;");
    let diff = |file: &str| {
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", file, "--url", &db.url])
    };
    let confined = diff("confined.sql");
    assert_eq!(confined.code, 14, "{confined:?}");
    assert!(!confined.stderr.contains("only haste's static checks"), "{confined:?}");
    let owned = diff("owned.sql");
    assert_eq!(owned.code, 14, "{owned:?}");
    assert!(
        owned.stderr.contains("warning: the shadow database ran its SQL as the connecting role"),
        "{owned:?}"
    );
}

/// A run killed while its shadow lived leaves the shadow's database and role behind; a later
/// run drops those older than an hour that nobody is connected to, and leaves recent ones.
#[test]
fn shadows_a_killed_run_left_behind_are_dropped_by_a_later_run() {
    let Some(db) = database() else { return };
    let nanos = |ago: u64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        format!("{:x}", (now - std::time::Duration::from_secs(ago)).as_nanos())
    };
    let (old, recent) = (format!("haste_shadow_1_{}", nanos(7200)), format!("haste_shadow_1_{}", nanos(60)));
    for name in [&old, &recent] {
        db.execute(&format!("CREATE DATABASE \"{name}\""));
    }
    db.execute(&format!("CREATE ROLE \"{old}\" LOGIN"));
    let dir = TempDir::new("sandbox-sweep");
    dir.write("schema.sql", "CREATE TABLE t (id int);");
    let diff =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "schema.sql", "--url", &db.url]);
    assert_eq!(diff.code, 14, "{diff:?}");
    let count = |sql: &str| db.value(sql).unwrap_or_default();
    assert_eq!(
        count(&format!("SELECT count(*) FROM pg_database WHERE datname = '{old}'")),
        "0",
        "abandoned: dropped"
    );
    assert_eq!(count(&format!("SELECT count(*) FROM pg_roles WHERE rolname = '{old}'")), "0", "its role too");
    assert_eq!(
        count(&format!("SELECT count(*) FROM pg_database WHERE datname = '{recent}'")),
        "1",
        "recent: kept"
    );
    db.execute(&format!("DROP DATABASE \"{recent}\""));
}
