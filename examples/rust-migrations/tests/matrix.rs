//! The fault-position matrix for migrations written in Rust (`CodeMigration`), through the
//! library API: a fault before each of four statements, each fault of docs/failure-model.md.
//! A code migration is one transaction with its history row: after any fault nothing of it is
//! applied, history has no row for it and a `failed` event (unless the session itself died),
//! and once the fault is fixed the next deploy reaches the state of an uninterrupted run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use haste_driver::history::HistoryTables;
use haste_driver::{DatabaseUrl, Limits};
use haste_migrations::MigrationsDir;
use haste_runner::{CodeMigration, Error, FailureState, Quiet, Settings};
use haste_testkit::{Session, TempDir, database};

const BASE: &str = "CREATE TABLE base (id int PRIMARY KEY, v int);\nINSERT INTO base VALUES (1, 1);\n\
                    CREATE TABLE held (id int);\nCREATE TABLE fuse (kind text);\nINSERT INTO fuse VALUES ('kill');\n";

const STATEMENTS: [&str; 4] = [
    "CREATE TABLE m (id int PRIMARY KEY, v int)",
    "INSERT INTO m VALUES (1, 10), (2, 20), (3, 30), (4, 40)",
    "ALTER TABLE m ADD COLUMN w int",
    "CREATE INDEX m_v_idx ON m (v)",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Syntax,
    Unique,
    DivZero,
    Nul,
    Lock,
    StatementTimeout,
    Killed,
}

/// The faulty statement, and what runs once the fault is fixed (the fixes that change the
/// database keep the statement).
fn statement(fault: Fault) -> (&'static str, &'static str) {
    match fault {
        Fault::Syntax => ("CREATE TABEL s (id int)", "CREATE TABLE s (id int)"),
        Fault::Unique => ("INSERT INTO base (id) VALUES (1)", "INSERT INTO base (id) VALUES (1)"),
        Fault::DivZero => ("SELECT 1/0", "SELECT 1/1"),
        Fault::Nul => ("SELECT 'a\0b'", "SELECT 'ab'"),
        Fault::Lock => ("ALTER TABLE held ADD COLUMN f int", "ALTER TABLE held ADD COLUMN f int"),
        Fault::StatementTimeout => ("SELECT pg_sleep(1)", "SELECT pg_sleep(0)"),
        Fault::Killed => (
            "SELECT pg_terminate_backend(pg_backend_pid()) FROM fuse",
            "SELECT pg_terminate_backend(pg_backend_pid()) FROM fuse",
        ),
    }
}

const SNAPSHOT: &str = "SELECT string_agg(line, E'\\n' ORDER BY line) FROM ( \
    SELECT format('column %s.%s %s %s', table_name, ordinal_position, column_name, data_type) AS line \
      FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_haste%' \
    UNION ALL SELECT format('index %s %s valid=%s', c.relname, replace(pg_get_indexdef(i.indexrelid), current_schema() || '.', ''), i.indisvalid) \
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relname NOT LIKE '\\_haste%' \
    UNION ALL SELECT format('rows %s %s', relname, (xpath('/row/r/text()', query_to_xml(format( \
        'SELECT string_agg(t::text, '' '' ORDER BY t::text) AS r FROM %I t', relname), false, true, '')))[1]::text) \
      FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname NOT LIKE '\\_haste%' \
  ) s";

fn settings(schema: &str) -> Settings {
    Settings {
        lock_wait: Duration::from_secs(10),
        limits: Limits {
            lock_timeout: Some(Duration::from_millis(100)),
            // Longer than the lock timeout, so a lock wait ends as a lock timeout.
            statement_timeout: Some(Duration::from_millis(400)),
        },
        retries: Some(0),
        backoff: Duration::from_millis(10),
        tool_version: "test".into(),
        ..Settings::new(
            HistoryTables { schema: Some(schema.into()) },
            format!("matrix-{}", std::process::id()),
        )
    }
}

/// The code migration: the four statements with `fault` before statement `position` while
/// `armed`, its fixed form after.
fn migration(position: usize, fault: Fault, armed: Arc<AtomicBool>) -> CodeMigration {
    CodeMigration::new("2_code", move |tx| {
        let (bad, fixed) = statement(fault);
        for (i, sql) in STATEMENTS.iter().enumerate() {
            if i == position {
                tx.execute(if armed.load(Ordering::SeqCst) { bad } else { fixed })?;
            }
            tx.execute(sql)?;
        }
        Ok(())
    })
}

/// A schema of its own for one run (`?schema=`): the URL haste is given, and the one the
/// test's queries use.
struct Place {
    schema: String,
    url: String,
    sql_url: String,
}

impl Place {
    fn new(server_db: &str, n: usize) -> Place {
        let schema = format!("code{n}");
        haste_testkit::execute(server_db, &format!("CREATE SCHEMA {schema}"));
        Place {
            url: format!("{server_db}?schema={schema}"),
            sql_url: format!("{server_db}?options=-c%20search_path%3D{schema}"),
            schema,
        }
    }

    fn value(&self, sql: &str) -> Option<String> {
        haste_testkit::query(&self.sql_url, sql)
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
    }

    fn execute(&self, sql: &str) {
        haste_testkit::execute(&self.sql_url, sql);
    }

    fn deploy(&self, dir: &MigrationsDir, code: &[CodeMigration]) -> Result<usize, Error> {
        let url = DatabaseUrl::parse(&self.url).unwrap();
        let settings = settings(&self.schema);
        let scope = settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
        let mut connection = haste_postgres::PgConnection::connect(&url, "haste/matrix", &scope).unwrap();
        haste_runner::deploy_with_code(&mut connection, dir, code, &settings, &mut Quiet)
            .map(|report| report.applied.len())
    }
}

#[test]
fn every_fault_at_every_position_of_a_code_migration_rolls_back_and_recovers() {
    let Some(server) = database() else { return };
    let folder = TempDir::new("code-matrix");
    folder.write("migrations/1_base/migration.sql", BASE);
    let dir = MigrationsDir::load(&folder.path().join("migrations")).unwrap();
    let mut places = 0;
    let mut place = || {
        places += 1;
        let place = Place::new(&server.url, places);
        assert_eq!(place.deploy(&dir, &[]).unwrap(), 1);
        place
    };
    let mut references = std::collections::HashMap::new();
    let faults = [
        Fault::Syntax,
        Fault::Unique,
        Fault::DivZero,
        Fault::Nul,
        Fault::Lock,
        Fault::StatementTimeout,
        Fault::Killed,
    ];
    let started = std::time::Instant::now();
    println!("{:<17} {:>3}  {:<40} outcome", "fault", "pos", "error");
    let mut count = 0;
    for fault in faults {
        for position in 0..STATEMENTS.len() {
            let db = place();
            let holder = (fault == Fault::Lock).then(|| {
                let session = Session::connect(&db.sql_url);
                session.execute("BEGIN; LOCK TABLE held IN ACCESS SHARE MODE");
                session
            });
            let before = db.value(SNAPSHOT);
            let events = db.value("SELECT count(*) FROM _haste_events");
            let armed = Arc::new(AtomicBool::new(true));
            let code = [migration(position, fault, armed.clone())];
            let context = format!("{fault:?} at {position}");
            let error = db.deploy(&dir, &code).expect_err(&context);
            let Error::MigrationFailed(failure) = &error else { panic!("{context}: {error:?}") };
            assert_eq!(failure.state, FailureState::RolledBack, "{context}");
            let sqlstate = match fault {
                Fault::Syntax => Some("42601"),
                Fault::Unique => Some("23505"),
                Fault::DivZero => Some("22012"),
                Fault::Nul => None,
                Fault::Lock => Some("55P03"),
                Fault::StatementTimeout => Some("57014"),
                Fault::Killed => Some("57P01"),
            };
            assert_eq!(failure.error.sqlstate.as_deref(), sqlstate, "{context}: {error:?}");
            assert_eq!(failure.error.connection_lost, fault == Fault::Killed, "{context}: {error:?}");
            if fault == Fault::Killed {
                assert!(haste_testkit::wait_until(Duration::from_secs(10), || {
                    db.value(&format!(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND application_name LIKE 'haste/%'",
                        server.name
                    ))
                    .as_deref()
                        == Some("0")
                }));
            }
            assert_eq!(db.value(SNAPSHOT), before, "{context}: nothing applied");
            assert_eq!(
                db.value("SELECT count(*) FROM _haste_migrations WHERE name = '2_code'").as_deref(),
                Some("0"),
                "{context}"
            );
            let logged =
                db.value("SELECT count(*) FROM _haste_events WHERE name = '2_code' AND event = 'failed'");
            let expected_events = if fault == Fault::Killed { "0" } else { "1" };
            assert_eq!(
                logged.as_deref(),
                Some(expected_events),
                "{context}: the failure is in the event log"
            );
            let _ = events;

            // Fix, then deploy again: the state of an uninterrupted run.
            match fault {
                Fault::Unique => db.execute("DELETE FROM base WHERE id = 1"),
                Fault::Killed => db.execute("DELETE FROM fuse"),
                _ => armed.store(false, Ordering::SeqCst),
            }
            if let Some(holder) = holder {
                holder.execute("COMMIT");
            }
            assert_eq!(db.deploy(&dir, &code).expect(&context), 1, "{context}");
            // The fixed statement's place in the migration changes no snapshot line: one
            // uninterrupted reference run per fault.
            let recovered = db.value(SNAPSHOT);
            let reference = references.entry(format!("{fault:?}")).or_insert_with(|| {
                let reference = place();
                match fault {
                    Fault::Unique => reference.execute("DELETE FROM base WHERE id = 1"),
                    Fault::Killed => reference.execute("DELETE FROM fuse"),
                    _ => {}
                }
                let clean = [migration(position, fault, Arc::new(AtomicBool::new(false)))];
                assert_eq!(reference.deploy(&dir, &clean).unwrap(), 1);
                reference.value(SNAPSHOT)
            });
            assert_eq!(&recovered, reference, "{context}: recovered");
            println!(
                "{:<17} {:>3}  {:<40} rolled back; fixed, deploy applied it",
                format!("{fault:?}"),
                position,
                failure.error.sqlstate.clone().unwrap_or_else(|| "client".into())
            );
            count += 1;
        }
    }
    println!("{count} code-migration cases in {:.1} s", started.elapsed().as_secs_f64());
}
