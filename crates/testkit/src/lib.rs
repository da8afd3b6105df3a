//! Test support: a throwaway PostgreSQL cluster and one fresh database per test.
//!
//! The cluster is started from the machine's server binaries (`initdb`, `pg_ctl`; as the
//! `postgres` user when running as root, since `initdb` refuses root) in a folder under the
//! temporary directory, on a free port, and shared by every test process of a run: the first
//! process to take the folder's lock starts it, later ones reuse it. `.ci/run` stops it at the
//! end; on a developer machine it stays up for the next run.
//!
//! - `HASTE_TEST_PG_URL`: use this server (a superuser URL) instead of starting one.
//! - `HASTE_TEST_PG_DIR`: the cluster folder (default `$TMPDIR/haste-testpg-<uid>`).
//! - `HASTE_PG_BIN`: the server binaries (default: newest `/usr/lib/postgresql/*/bin`,
//!   then `pg_config --bindir`, then `PATH`).
//! - `HASTE_REQUIRE_PG=1`: a missing server is a failure instead of a visible skip (CI sets it).

pub mod browser;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod schemas;

pub use haste_postgres::{Durability, LocalCluster};
use haste_postgres::{current_uid, server_binaries};
pub use schemas::{GRANTEES, RandomSchema};
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// A fresh, empty database that is dropped when the value is.
pub struct TestDb {
    /// `postgres://postgres@127.0.0.1:<port>/<name>`.
    pub url: String,
    /// The database name.
    pub name: String,
    admin_url: String,
}

/// A fresh database for one test, or `None` (after printing why) when no PostgreSQL server can
/// be had on this machine.
pub fn database() -> Option<TestDb> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let server = server()?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let name = format!("t{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos);
    let admin_url = format!("{server}/postgres");
    execute(&admin_url, &format!("CREATE DATABASE \"{name}\""));
    Some(TestDb { url: format!("{server}/{name}"), name, admin_url })
}

impl TestDb {
    /// The URL with a password in it (the test server trusts every password), for redaction tests.
    pub fn url_with_password(&self, password: &str) -> String {
        self.url.replacen("postgres@", &format!("postgres:{password}@"), 1)
    }

    /// Rows of a simple query, as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        query(&self.url, sql)
    }

    /// The first column of the first row.
    pub fn value(&self, sql: &str) -> Option<String> {
        self.query(sql).into_iter().next().and_then(|row| row.into_iter().next().flatten())
    }

    /// Runs statements.
    pub fn execute(&self, sql: &str) {
        execute(&self.url, sql);
    }

    /// Runs statements that may fail, returning `SQLSTATE: message` when they do.
    pub fn try_execute(&self, sql: &str) -> Result<(), String> {
        try_query(&self.url, sql).map(drop)
    }

    /// The schema as `pg_dump --schema-only` prints it, without haste's history tables: two
    /// databases with equal dumps have equal schemas.
    pub fn schema_dump(&self) -> String {
        let bin = server_binaries().expect("a running test server has its binaries");
        let output = Command::new(bin.join("pg_dump"))
            .args([
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                "--exclude-table=_haste_*",
                "--dbname",
                &self.url,
            ])
            .output()
            .expect("run pg_dump");
        assert!(output.status.success(), "pg_dump: {}", String::from_utf8_lossy(&output.stderr));
        // Dumps name their database in comments and settings only; drop those lines.
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| {
                !line.starts_with("--")
                    && !line.starts_with("\\restrict")
                    && !line.starts_with("\\unrestrict")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = try_query(&self.admin_url, &sql);
    }
}

/// One open connection for many quick statements (a workload's client).
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Session {
    /// Connects to `url`.
    pub fn connect(url: &str) -> Session {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (client, connection) = runtime.block_on(tokio_postgres::connect(url, NoTls)).expect("connect");
        runtime.spawn(connection);
        Session { runtime, client }
    }

    /// Runs statements, panicking on error.
    pub fn execute(&self, sql: &str) {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Rows of a simple query, as text, panicking on error: many quick queries without a
    /// connection each.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let messages = self
            .runtime
            .block_on(self.client.simple_query(sql))
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        messages
            .into_iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect()
    }
}

/// Rows of a simple query against `url`, as text. Panics on error: tests want to know.
pub fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    try_query(url, sql).unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Creates `roles` (`NOLOGIN`) on the server of `url` where they are missing. Roles belong to
/// the server, which tests share: one created at the same moment by another test is fine.
pub fn ensure_roles(url: &str, roles: &[&str]) {
    for role in roles {
        execute(
            url,
            &format!(
                "DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                haste_sql::quote_ident(role)
            ),
        );
    }
}

/// Runs statements against `url`.
pub fn execute(url: &str, sql: &str) {
    query(url, sql);
}

/// Rows of a simple query against `url`, or `SQLSTATE: message` when it fails.
pub fn try_query(url: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| e.to_string())?;
        let driver = tokio::spawn(connection);
        let messages = client.simple_query(sql).await.map_err(|e| match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        });
        drop(client);
        let _ = driver.await;
        Ok(messages?
            .into_iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect())
    })
}

/// `postgres://postgres@127.0.0.1:<port>` of the shared cluster.
fn server() -> Option<&'static str> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("HASTE_TEST_PG_URL") {
                return Some(url.trim_end_matches('/').to_owned());
            }
            match start_or_reuse() {
                Ok(url) => Some(url),
                Err(reason) if std::env::var_os("HASTE_REQUIRE_PG").is_some() => {
                    panic!("HASTE_REQUIRE_PG is set but no PostgreSQL server could be started: {reason}")
                }
                Err(reason) => {
                    eprintln!("SKIP: PostgreSQL tests skipped: {reason}");
                    None
                }
            }
        })
        .as_deref()
}

fn start_or_reuse() -> Result<String, String> {
    let dir = std::env::var_os("HASTE_TEST_PG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("haste-testpg-{}", current_uid())));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // One process starts the cluster; the others wait here, then reuse it.
    let lock = File::create(dir.join("setup.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let port_file = dir.join("port");
    if let Ok(port) = fs::read_to_string(&port_file) {
        let url = format!("postgres://postgres@127.0.0.1:{}", port.trim());
        if try_query(&format!("{url}/postgres"), "SELECT 1").is_ok() {
            return Ok(url);
        }
    }
    // Tests need no durability: a crash loses a throwaway cluster.
    let cluster = LocalCluster::start(&dir, Durability::Off)?;
    fs::write(&port_file, cluster.port.to_string()).map_err(|e| e.to_string())?;
    let url = cluster.url.clone();
    // Shared by every test process of the run: it outlives this one (`.ci/run` stops it).
    std::mem::forget(cluster);
    Ok(url)
}

/// A fresh, empty temporary folder for one test, removed when the value is dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates it.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "haste-test-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `relative` (creating folders), returning the file's path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create folders");
        fs::write(&path, text).expect("write a fixture file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Waits up to `timeout` for `condition`, polling.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// `../shared/corpus/hastecrm` beside the project, or `None` (after saying so) on a checkout
/// without the shared folder.
pub fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/hastecrm");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("SKIP: ../shared/corpus/hastecrm is absent; corpus test skipped");
        None
    }
}

/// A small deterministic generator for property tests: the same seed gives the same cases, so
/// a failure can be replayed.
pub struct Random(u64);

impl Random {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }

    /// A number below `bound` (0 when `bound` is 0).
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.next(100) < percent
    }
}

/// A property test's case count and seed: `cases_var` and `seed_var` from the environment when
/// set (to run more cases, or replay a failure), else `cases` and the clock. Prints both.
pub fn property_run(name: &str, cases_var: &str, cases: u64, seed_var: &str) -> (u64, u64) {
    let number = |var: &str| std::env::var(var).ok().and_then(|n| n.parse().ok());
    let cases = number(cases_var).unwrap_or(cases);
    let seed = number(seed_var).unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as u64
    });
    eprintln!("{name}: {cases} cases, {seed_var}={seed}");
    (cases, seed)
}
