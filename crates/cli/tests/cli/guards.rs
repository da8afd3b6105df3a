//! The environment guards key on where the connection really goes, every error that could
//! quote configuration keeps the password out, and backups are readable by their owner only.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use haste_testkit::{TempDir, database};

use crate::{Run, command, haste, migrations};

/// An address of TEST-NET-1 (RFC 5737), which nothing answers. Used only where haste must
/// refuse before it connects: with `connect_timeout=2`, an attempt would end in exit 9 after
/// two seconds instead of exit 12 at once.
const UNROUTED: &str = "192.0.2.1";

/// A password no output may hold, in part or whole: raw `@` and `/` in it, as a pasted
/// secret has them.
const SECRET: &str = "Zq9@Secr3t/Pw";
const SECRET_PARTS: [&str; 3] = ["Zq9", "Secr3t", "Pw@"];

fn assert_no_secret(run: &Run) {
    for part in SECRET_PARTS {
        assert!(!run.all().contains(part), "`{part}` of the password leaked: {run:?}");
    }
}

/// `postgres://postgres@127.0.0.1:<port>/<name>` as (port, name).
fn port_and_name(url: &str) -> (String, String) {
    let rest = url.rsplit_once(':').unwrap().1;
    let (port, name) = rest.split_once('/').unwrap();
    (port.to_owned(), name.split('?').next().unwrap().to_owned())
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_server_not_on_this_machine_is_refused_before_anything_connects() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    dir.write("schema.sql", "CREATE TABLE a (id int);");
    // Every one names a host that is not this machine, some beside one that is.
    let remote = [
        format!("postgres://user@/db?host={UNROUTED}&port=5432&connect_timeout=2"),
        format!("postgres://user@localhost/db?hostaddr={UNROUTED}&connect_timeout=2"),
        format!("postgres://user@localhost,{UNROUTED}/db?connect_timeout=2"),
        format!("postgres://user:p@ss@{UNROUTED}/db?connect_timeout=2"),
        format!("host={UNROUTED} dbname=db connect_timeout=2"),
        format!("host=localhost hostaddr=127.0.0.1,{UNROUTED} dbname=db connect_timeout=2"),
    ];
    for url in &remote {
        for args in [
            vec!["migrate", "reset", "--url", url],
            vec!["migrate", "dev", "--url", url, "--schema", "schema.sql"],
            vec![
                "migrate",
                "dev",
                "--url",
                url,
                "--schema",
                "schema.sql",
                "--environment",
                "production",
                "--force",
            ],
            vec!["migrate", "down", "--url", url, "--environment", "production"],
        ] {
            let started = Instant::now();
            let run = haste(dir.path(), &args);
            assert_eq!(run.code, 12, "{args:?}: {run:?}");
            assert!(run.stderr.contains("refusing to"), "{run:?}");
            assert!(started.elapsed() < Duration::from_secs(2), "it tried to connect: {args:?}");
        }
        let json = haste(dir.path(), &["migrate", "reset", "--url", url, "--format", "json"]);
        assert_eq!(json.code, 12, "{json:?}");
        assert_eq!(json.json_lines()[0]["error"]["code"], "REFUSED");
    }
    assert_eq!(dir.path().join("migrations").read_dir().unwrap().count(), 1, "nothing written");
}

#[test]
fn a_local_server_in_any_spelling_counts_as_development() {
    let Some(db) = database() else { return };
    let (port, name) = port_and_name(&db.url);
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let local = [
        format!("postgres://postgres@/{name}?host=127.0.0.1&port={port}"),
        format!("postgres://postgres@localhost:{port}/{name}?hostaddr=127.0.0.1"),
        format!("host=127.0.0.1 port={port} user=postgres dbname={name}"),
        format!("host=localhost hostaddr=127.0.0.1 port={port} user=postgres dbname='{name}'"),
    ];
    for url in &local {
        let reset = haste(dir.path(), &["migrate", "reset", "--url", url]);
        assert_eq!(reset.code, 0, "{url}: {reset:?}");
        assert_eq!(db.value("SELECT count(*) FROM _haste_migrations").as_deref(), Some("1"));
    }
}

#[test]
fn migrate_dev_is_refused_in_production_and_elsewhere_needs_force() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("dev-guard");
    dir.write("schema.sql", "CREATE TABLE guarded (id int);");
    let dev = |extra: &[&str]| {
        let mut args = vec!["migrate", "dev", "--url", &db.url, "--schema", "schema.sql", "--name", "init"];
        args.extend_from_slice(extra);
        haste(dir.path(), &args)
    };
    let production = dev(&["--environment", "production", "--force"]);
    assert_eq!(production.code, 12, "{production:?}");
    assert!(production.stderr.contains("production environment (no flag allows it)"), "{production:?}");
    let json = dev(&["--environment", "production", "--format", "json"]);
    assert_eq!(json.json_lines()[0]["error"]["code"], "REFUSED", "{json:?}");
    let staging = dev(&["--environment", "staging"]);
    assert_eq!(staging.code, 12, "{staging:?}");
    assert!(staging.stderr.contains("without --force"), "{staging:?}");
    assert!(!dir.path().join("migrations").exists(), "nothing written when refused");
    assert_eq!(db.value("SELECT to_regclass('guarded') IS NULL").as_deref(), Some("t"));

    let forced = dev(&["--environment", "staging", "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(db.value("SELECT to_regclass('guarded') IS NOT NULL").as_deref(), Some("t"));
}

#[test]
fn configuration_errors_never_quote_the_password() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let url = format!("postgres://postgres:{SECRET}@127.0.0.1:{}/x", closed_port());
    let configs = [
        // A string toml cannot read: toml's own message shows the line.
        format!("url = \"{url}\nmigrations_dir = \"migrations\"\n"),
        // A value of the wrong type: serde's message quotes it.
        format!("[defaults]\nretries = \"{url}\"\n"),
        format!("url = \"${{DATABASE_URL:-{url}\"\n"),
        format!("url = \"${{DATABASE_URL:{url}}}\"\n"),
        format!("url = \"{}\"\n", url.replace("postgres://", "mysql://")),
        format!("url = \"{}\"\n", url.replace("postgres://", "")),
        // Values quoted back by haste's own checks: a window, a duration, names.
        format!("environment = \"live\"\n[environments.live]\nwindow = \"{url}\"\n"),
        format!("environment = \"live\"\n[environments.live]\nwindow = \"Sat {url}\"\n"),
        format!("[lock]\nwait = \"{url}\"\n"),
        format!("environment = \"{url}\"\n[environments.live]\n"),
        format!("environment = \"live\"\n[environments.live]\npromote_from = \"{url}\"\n"),
        // A URL pasted where a key goes: toml's message quotes the unknown key back.
        format!("\"{url}\" = 1\n"),
        format!("[environments.live]\n\"{url}\" = \"x\"\n"),
    ];
    for config in &configs {
        dir.write("haste.toml", config);
        for format in ["text", "json"] {
            let run = haste(dir.path(), &["migrate", "status", "--format", format]);
            assert_eq!(run.code, 2, "{config}: {run:?}");
            assert_no_secret(&run);
            if format == "json" {
                assert_eq!(run.json_lines()[0]["error"]["code"], "USAGE");
            }
        }
    }
    // `haste lint` reads [lint]: an unknown group, rule or severity is quoted back, masked.
    for config in [
        format!("[lint]\ngroups = [\"{url}\"]\n"),
        format!("[lint.rules]\n\"{url}\" = \"warn\"\n"),
        format!("[lint.rules]\ndrop-column = \"{url}\"\n"),
    ] {
        dir.write("haste.toml", &config);
        let run = haste(dir.path(), &["lint"]);
        assert_eq!(run.code, 2, "{config}: {run:?}");
        assert_no_secret(&run);
        assert!(run.stderr.contains("postgres:***@"), "the value is shown, masked: {run:?}");
    }
    // A password too short to be scrubbed as a word is masked as part of its URL.
    dir.write(
        "haste.toml",
        "environment = \"live\"\n[environments.live]\nwindow = \"postgres://u:pw@h/db\"\n",
    );
    let short = haste(dir.path(), &["migrate", "status"]);
    assert_eq!(short.code, 2, "{short:?}");
    assert!(!short.all().contains("u:pw@") && short.stderr.contains("u:***@h/db"), "{short:?}");

    // promote_from naming its own section says so.
    dir.write("haste.toml", "[environments.live]\nurl = \"sqlite:x.db\"\npromote_from = \"live\"\n");
    let itself = haste(dir.path(), &["migrate", "deploy", "--env", "live"]);
    assert_eq!(itself.code, 2, "{itself:?}");
    assert!(itself.stderr.contains("[environments.live] promote_from names its own section"), "{itself:?}");

    dir.write("haste.toml", &configs[0]);
    let toml = haste(dir.path(), &["migrate", "status"]);
    assert!(toml.stderr.contains("haste.toml:1:"), "says where: {toml:?}");
    std::fs::remove_file(dir.path().join("haste.toml")).unwrap();

    dir.write(".env", &format!("OTHER=1\nDATABASE_URL='{url}\n"));
    for format in ["text", "json"] {
        let run = haste(dir.path(), &["migrate", "status", "--format", format]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_no_secret(&run);
    }
    let dotenv = haste(dir.path(), &["migrate", "status"]);
    assert!(dotenv.stderr.contains(".env: line 2 cannot be parsed"), "says where: {dotenv:?}");
}

#[test]
fn connection_and_tool_errors_never_quote_the_password() {
    let Some(db) = database() else { return };
    let (port, name) = port_and_name(&db.url);
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let closed = closed_port();
    let unreachable = [
        format!("postgres://postgres:{SECRET}@127.0.0.1:{closed}/x"),
        format!("postgres://postgres@127.0.0.1:{closed}/x?password={}", SECRET.replace('@', "%40")),
        format!("host=127.0.0.1 port={closed} user=postgres password='{SECRET}' dbname=x"),
        format!("postgres://postgres:{SECRET}@127.0.0.1:{closed}/x?sslmode=sometimes"),
        format!("postgres://postgres:{SECRET}@127.0.0.1:{closed}/x?sslcert=/c.pem"),
        format!("host=127.0.0.1 port=nope password='{SECRET}'"),
    ];
    for url in &unreachable {
        for format in ["text", "json"] {
            let run = haste(dir.path(), &["migrate", "deploy", "--url", url, "--format", format]);
            assert_eq!(run.code, 9, "{url}: {run:?}");
            assert_no_secret(&run);
        }
    }

    // The server trusts any password: a raw `@` and `/` in it reach the right host.
    let reachable = [
        format!("postgres://postgres:{SECRET}@127.0.0.1:{port}/{name}"),
        format!("host=127.0.0.1 port={port} user=postgres password='{SECRET}' dbname={name}"),
    ];
    for url in &reachable {
        let run = haste(dir.path(), &["migrate", "status", "--url", url, "--format", "json"]);
        assert_eq!(run.code, 3, "{url}: {run:?}");
        assert_no_secret(&run);
        assert!(run.json_lines()[0]["url"].as_str().unwrap().contains("***"), "{run:?}");
    }

    // pg_dump fails (libpq reads PGOPTIONS, which names no setting; haste's driver does not).
    let backup = dir.path().join("before.sql");
    let output = command(
        dir.path(),
        &[
            "migrate",
            "deploy",
            "--url",
            &reachable[0],
            "--backup",
            backup.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
    .env("PGOPTIONS", "-c no_such_setting=1")
    .output()
    .unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, 10, "{run:?}");
    assert!(run.stdout.contains("pg_dump failed"), "{run:?}");
    assert_no_secret(&run);
}

#[test]
fn backups_are_readable_by_their_owner_only() {
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let sqlite = format!("sqlite:{}", dir.path().join("app.db").display());
    assert_eq!(haste(dir.path(), &["migrate", "deploy", "--url", &sqlite]).code, 0);
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id int);");
    let copy = dir.path().join("app-before.db");
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &sqlite, "--backup", copy.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mode(&copy), 0o600);
    assert!(std::fs::metadata(&copy).unwrap().len() > 0, "VACUUM INTO wrote it");

    let Some(db) = database() else { return };
    let dump = dir.path().join("before.sql");
    // An existing file keeps being replaced, as before, but loses its broader mode first.
    std::fs::write(&dump, "old").unwrap();
    std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--backup", dump.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mode(&dump), 0o600);
    assert!(std::fs::read_to_string(&dump).unwrap().contains("PostgreSQL database dump"));
    let fresh = dir.path().join("fresh.sql");
    let run =
        haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--backup", fresh.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mode(&fresh), 0o600);
}

/// `[environments.<name>]` sections: `--env` (or `HASTE_ENV`) picks one, its URL, folder and
/// lock budget replace the file's own, `production = true` brings the production guards under
/// any name, a name with no section is refused, and `haste config` shows what applies with the
/// passwords hidden.
#[test]
fn environments_in_haste_toml_are_picked_by_name_and_shown_without_secrets() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("environments");
    dir.write("db/staging/1_a/migration.sql", "CREATE TABLE from_staging_folder (id int);");
    dir.write(
        "haste.toml",
        &format!(
            "url = \"postgres://dev:{SECRET}@{UNROUTED}/crm?connect_timeout=2\"\nenvironment = \"staging\"\n\n\
             [environments.staging]\nurl = \"{}\"\nmigrations_dir = \"db/staging\"\n\
             [environments.staging.defaults]\nlock_timeout = \"50ms\"\n\n\
             [environments.live]\nurl = \"postgres://app:{SECRET}@{UNROUTED}/crm?connect_timeout=2\"\nproduction = true\n",
            db.url
        ),
    );
    // The file names staging: its section's URL and folder are used.
    let deploy = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    assert_eq!(db.value("SELECT to_regclass('from_staging_folder') IS NOT NULL").as_deref(), Some("t"));

    let shown = haste(dir.path(), &["config", "--env", "staging", "--format", "json"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let document = &shown.json_lines()[0];
    assert_eq!(document["migrations_dir"], "db/staging", "{shown:?}");
    assert_eq!(document["lock_timeout"], "50ms", "{shown:?}");
    assert!(document["environment"].as_str().unwrap().starts_with("staging (--env"), "{shown:?}");

    let live = haste(dir.path(), &["config", "--env", "live"]);
    assert_eq!(live.code, 0, "{live:?}");
    assert!(
        live.stdout.contains("live (--env; production guards)") && live.stdout.contains("app:***@"),
        "{live:?}"
    );
    assert_no_secret(&live);
    // Production guards under another name, refused before anything connects.
    let reset = haste(dir.path(), &["migrate", "reset", "--env", "live"]);
    assert_eq!(reset.code, 12, "{reset:?}");
    assert_no_secret(&reset);

    let typo = haste(dir.path(), &["config", "--env", "stagng"]);
    assert_eq!(typo.code, 2, "{typo:?}");
    assert!(
        typo.stderr.contains("unknown environment `stagng`")
            && typo.stderr.contains("[environments.staging]"),
        "{typo:?}"
    );
    let from_variable =
        command(dir.path(), &["config", "--format", "json"]).env("HASTE_ENV", "live").output().unwrap();
    let from_variable = String::from_utf8_lossy(&from_variable.stdout).into_owned();
    assert!(from_variable.contains("live (HASTE_ENV; production guards)"), "{from_variable}");
    assert!(!SECRET_PARTS.iter().any(|part| from_variable.contains(part)), "{from_variable}");
}

/// `promote_from`: production takes only migrations staging applied with the same file; the
/// refusal comes before anything is applied, names each migration, and an override with a
/// reason is recorded in production's history.
#[test]
fn promote_from_deploys_only_what_the_source_environment_applied() {
    let (Some(staging), Some(production)) = (database(), database()) else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);"), ("2_b", "CREATE TABLE b (id int);")]);
    dir.write(
        "haste.toml",
        &format!(
            "[environments.staging]\nurl = \"{}\"\n\n[environments.production]\nurl = \"{}\"\npromote_from = \"staging\"\n",
            staging.url, production.url
        ),
    );
    let deploy = |env: &str, extra: &[&str]| {
        haste(dir.path(), &[&["migrate", "deploy", "--env", env], extra].concat())
    };
    // Staging has applied 1_a only (2_b is not written yet there).
    std::fs::rename(dir.path().join("migrations/2_b"), dir.path().join("2_b.later")).unwrap();
    assert_eq!(deploy("staging", &[]).code, 0);
    std::fs::rename(dir.path().join("2_b.later"), dir.path().join("migrations/2_b")).unwrap();

    let refused = deploy("production", &[]);
    assert_eq!(refused.code, 12, "{refused:?}");
    assert!(refused.stderr.contains("not applied there with the same file:\n  2_b"), "{refused:?}");
    assert_eq!(production.value("SELECT to_regclass('a') IS NULL").as_deref(), Some("t"), "nothing applied");

    // Staging applies 2_b with another text: still not the same file.
    let edited = std::fs::read_to_string(dir.path().join("migrations/2_b/migration.sql")).unwrap();
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id bigint);");
    assert_eq!(deploy("staging", &[]).code, 0);
    dir.write("migrations/2_b/migration.sql", &edited);
    assert_eq!(deploy("production", &[]).code, 12, "a file changed since staging applied it");

    let overridden = deploy("production", &["--promotion-override", "hotfix approved by on-call"]);
    assert_eq!(overridden.code, 0, "{overridden:?}");
    assert_eq!(production.value("SELECT to_regclass('b') IS NOT NULL").as_deref(), Some("t"));
    assert_eq!(
        production
            .value("SELECT name || ': ' || (detail::jsonb ->> 'reason') FROM _haste_events WHERE event = 'promotion_override'")
            .as_deref(),
        Some("2_b: hotfix approved by on-call")
    );
    let no_rule = deploy("staging", &["--promotion-override", "x"]);
    assert_eq!(no_rule.code, 2, "{no_rule:?}");
}

/// `deploy --verify` (or `verify = true` in the environment's section) compares the database
/// with the schema its migrations give after applying them, and a hand-made change fails it
/// with its own exit code, the migrations still applied.
#[test]
fn deploy_verify_reports_what_differs_from_the_migrations() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    let clean = haste(dir.path(), &["migrate", "deploy", "--url", &db.url, "--verify"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("Verified: the database is the schema its migrations give."), "{clean:?}");

    db.execute("ALTER TABLE a ADD COLUMN by_hand text");
    dir.write("migrations/2_b/migration.sql", "CREATE TABLE b (id int);");
    dir.write(
        "haste.toml",
        &format!("environment = \"ci\"\n\n[environments.ci]\nurl = \"{}\"\nverify = true\n", db.url),
    );
    let drifted = haste(dir.path(), &["migrate", "deploy", "--format", "json"]);
    assert_eq!(drifted.code, 18, "{drifted:?}");
    let lines = drifted.json_lines();
    let error = &lines.last().unwrap()["error"];
    assert_eq!(error["code"], "VERIFY_FAILED", "{drifted:?}");
    assert!(error["drift"].to_string().contains("by_hand"), "{drifted:?}");
    assert_eq!(
        db.value("SELECT to_regclass('b') IS NOT NULL").as_deref(),
        Some("t"),
        "the migration was applied"
    );
}

/// `window` in an environment's section: a deploy outside it is refused before anything
/// connects; `--outside-window "<reason>"` deploys and records the reason; inside, nothing is
/// asked.
#[test]
fn a_deploy_window_refuses_outside_it_unless_a_reason_is_recorded() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    // Tomorrow's day in UTC: now is outside a window on that day only.
    let tomorrow = (jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC) + jiff::Span::new().days(1))
        .weekday()
        .to_monday_zero_offset();
    let tomorrow = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][tomorrow as usize];
    let config = |url: &str, window: &str| {
        format!("environment = \"live\"\n\n[environments.live]\nurl = \"{url}\"\nwindow = \"{window}\"\n")
    };
    let unrouted = format!("postgres://app:{SECRET}@{UNROUTED}/crm?connect_timeout=2");
    dir.write("haste.toml", &config(&unrouted, &format!("{tomorrow} 00:00-24:00 UTC")));
    let started = Instant::now();
    let refused = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(refused.code, 12, "{refused:?}");
    assert!(
        refused.stderr.contains(&format!("only within its window ({tomorrow} 00:00-24:00 UTC)")),
        "{refused:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "refused before connecting");
    assert_no_secret(&refused);

    dir.write("haste.toml", &config(&db.url, &format!("{tomorrow} 00:00-24:00 UTC")));
    for flag in ["--outside-window", "--promotion-override"] {
        let blank = haste(dir.path(), &["migrate", "deploy", flag, " \n "]);
        assert_eq!(blank.code, 2, "an empty reason records nothing: {blank:?}");
        assert!(blank.stderr.contains("the reason is empty"), "{blank:?}");
    }
    assert_eq!(db.value("SELECT to_regclass('a')::text"), None, "nothing applied");
    let forced = haste(dir.path(), &["migrate", "deploy", "--outside-window", "incident 4711"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(
        db.value("SELECT detail::jsonb ->> 'reason' FROM _haste_events WHERE event = 'outside_window'")
            .as_deref(),
        Some("incident 4711")
    );
    dir.write("haste.toml", &config(&db.url, "daily 00:00-24:00 UTC"));
    assert_eq!(haste(dir.path(), &["migrate", "deploy"]).code, 0, "inside the window");
    dir.write("haste.toml", &config(&db.url, "Sat 02:00-05:00 Mars/Olympus"));
    let bad = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("[environments.live] window: `Mars/Olympus` is not a time zone"), "{bad:?}");
}

/// `backup` and `lint = true` in an environment's section: every deploy there backs up first
/// (one file per deploy, owner-only) and lints first, applying nothing on an error.
#[test]
fn an_environment_can_require_a_backup_and_a_clean_lint_before_each_deploy() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int, legacy text);")]);
    dir.write(
        "haste.toml",
        &format!(
            "environment = \"live\"\n\n[environments.live]\nurl = \"{}\"\nbackup = \"backups/live-{{timestamp}}.sql\"\nlint = true\n",
            db.url
        ),
    );
    let first = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(first.code, 0, "{first:?}");
    let backups: Vec<_> = std::fs::read_dir(dir.path().join("backups")).unwrap().flatten().collect();
    assert_eq!(backups.len(), 1, "{first:?}");
    assert_eq!(backups[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);

    // A path from haste.toml never replaces a file that exists.
    dir.write("precious.txt", "keep me");
    let precious = dir.path().join("precious.txt");
    dir.write(
        "haste.toml",
        &format!(
            "environment = \"live\"\n\n[environments.live]\nurl = \"{}\"\nbackup = \"{}\"\n",
            db.url,
            precious.display()
        ),
    );
    let kept = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(kept.code, 2, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    dir.write(
        "haste.toml",
        &format!(
            "environment = \"live\"\n\n[environments.live]\nurl = \"{}\"\nbackup = \"backups/live-{{timestamp}}.sql\"\nlint = true\n",
            db.url
        ),
    );

    dir.write("migrations/2_b/migration.sql", "ALTER TABLE a DROP COLUMN legacy;");
    let refused = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(refused.code, 13, "{refused:?}");
    assert!(refused.all().contains("drop-column"), "{refused:?}");
    assert_eq!(
        db.value("SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy'").as_deref(),
        Some("1")
    );
}

/// A window's days and hours are read as written or refused (exit 2), never panicking and never
/// taken for something else: a word that only begins like a day is not that day.
#[test]
fn a_window_that_is_not_days_hours_and_a_zone_is_refused() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    for (window, says) in [
        ("ééx 02:00-05:00 UTC", "`ééx` is not a day"),
        ("Sé 02:00-05:00 UTC", "`Sé` is not a day"),
        ("Saturnalia 02:00-05:00 UTC", "`Saturnalia` is not a day"),
        ("Mon-Sunshine 02:00-05:00 UTC", "`Sunshine` is not a day"),
        ("Sat +2:00-05:00 UTC", "`+2:00` is not a time"),
        ("Sat 02:+5-05:00 UTC", "`02:+5` is not a time"),
    ] {
        dir.write(
            "haste.toml",
            &format!("[environments.live]\nurl = \"sqlite:x.db\"\nwindow = \"{window}\"\n"),
        );
        let run = haste(dir.path(), &["config", "--env", "live"]);
        assert_eq!(run.code, 2, "{window}: {run:?}");
        assert!(run.stderr.contains(says), "{window}: {run:?}");
    }
    for window in ["Saturday 02:00-05:00 UTC", "mon-FRIDAY,sun 23:00-01:00 Europe/Berlin"] {
        dir.write(
            "haste.toml",
            &format!("[environments.live]\nurl = \"sqlite:x.db\"\nwindow = \"{window}\"\n"),
        );
        let run = haste(dir.path(), &["config", "--env", "live"]);
        assert_eq!(run.code, 0, "{window}: {run:?}");
    }
}

/// `haste config` shows the guards the environment sets (what a deploy there will insist on),
/// the source environment's URL with its password hidden, and "none" where nothing is set.
#[test]
fn haste_config_shows_the_guards_of_the_environment() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    dir.write(
        "haste.toml",
        &format!(
            "[environments.staging]\nurl = \"postgres://app:{SECRET}@{UNROUTED}/staging\"\n\
             [environments.live]\nurl = \"sqlite:live.db\"\npromote_from = \"staging\"\n\
             window = \"Sat 02:00-05:00 Europe/Berlin\"\nbackup = \"backups/live-{{timestamp}}.sql\"\n\
             verify = true\nlint = true\n"
        ),
    );
    let live = haste(dir.path(), &["config", "--env", "live", "--format", "json"]);
    assert_eq!(live.code, 0, "{live:?}");
    assert_no_secret(&live);
    let document = &live.json_lines()[0];
    assert_eq!(
        document["promote_from"],
        format!("staging (postgres://app:***@{UNROUTED}/staging)"),
        "{live:?}"
    );
    assert_eq!(document["window"], "Sat 02:00-05:00 Europe/Berlin", "{live:?}");
    assert_eq!(document["backup"], "backups/live-{timestamp}.sql", "{live:?}");
    assert_eq!((&document["verify"], &document["lint"]), (&"true".into(), &"true".into()), "{live:?}");
    let staging = haste(dir.path(), &["config", "--env", "staging"]);
    assert_eq!(staging.code, 0, "{staging:?}");
    for key in ["promote_from", "window", "backup"] {
        assert!(
            staging.stdout.lines().any(|line| line.starts_with(key) && line.ends_with(" none")),
            "{staging:?}"
        );
    }
}

/// Environments promoted from each other in a circle (live from staging, staging from live)
/// could never deploy a new migration without an override: refused as configuration (exit 2).
#[test]
fn promote_from_in_a_circle_is_refused() {
    let dir = migrations(&[("1_a", "CREATE TABLE a (id int);")]);
    dir.write(
        "haste.toml",
        "[environments.live]\nurl = \"sqlite:live.db\"\npromote_from = \"staging\"\n\
         [environments.staging]\nurl = \"sqlite:staging.db\"\npromote_from = \"qa\"\n\
         [environments.qa]\nurl = \"sqlite:qa.db\"\npromote_from = \"live\"\n",
    );
    for env in ["live", "qa"] {
        let run = haste(dir.path(), &["migrate", "deploy", "--env", env]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("promote_from goes in a circle"), "{run:?}");
        assert!(!dir.path().join(format!("{env}.db")).exists(), "nothing was opened");
    }
}
