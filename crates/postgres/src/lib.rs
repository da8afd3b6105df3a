//! The PostgreSQL driver: implements [`haste_driver::Connection`] over `tokio-postgres`.
//!
//! The runner is sequential, so the driver is synchronous: it owns a single-threaded Tokio
//! runtime and blocks on each request. A transactional migration is pipelined: `BEGIN` and all
//! its statements travel in one round trip, its history writes and the commit in a second one,
//! sent only once every statement succeeded.
//!
//! The migration lock is a session-level advisory lock taken only by polling
//! `pg_try_advisory_lock`: a blocking `pg_advisory_lock` would deadlock against the holder's
//! `CREATE INDEX CONCURRENTLY`, which waits for every open transaction, the waiter's included.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use haste_driver::history::{
    HistoryRow, HistoryTables, HistoryWrite, MIGRATIONS_TABLE, MigrationStatus, PRISMA_SELECT,
    PROGRESS_TABLE, PrismaRow,
};
use haste_driver::{
    Autovacuum, Capabilities, CodeBody, ConnectError, Connection, DatabaseUrl, DbError, Executor, IndexRef,
    Limits, LockHolder, StepError,
};
use haste_sql::{Dialect, Lock, LockedObject, LockedObjectKind, quote_ident, quote_literal};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage, SimpleQueryRow, config::Host};

mod cluster;
mod introspect;
mod options;
mod privileges;
mod shadow;

pub use cluster::{Durability, LocalCluster, current_uid, server_binaries};
pub use options::{DatabaseIdentity, database_identity, is_local_target};
pub use shadow::{Sandbox, ShadowDatabase, create_database_if_missing};
mod tls;

/// First key of haste's advisory locks (`hast` in ASCII); the second is derived from the
/// history table, so applications sharing a database with separate histories never block each other.
const LOCK_CLASS: i32 = 0x6861_7374;

/// Fails unless it runs inside a transaction block opened by an earlier message: in autocommit
/// (and in the implicit transaction of a multi-statement message) the transaction starts with
/// the statement, so the two clocks are equal; in an open block the statement comes later.
/// Sent before history writes and `COMMIT`, it proves the transaction meant is still open.
const TRANSACTION_STILL_OPEN: &str = "SELECT CAST(CASE WHEN statement_timestamp() <> transaction_timestamp() \
     THEN '0' ELSE 'haste: no transaction open' END AS integer)";

/// What `DISCARD ALL` does, the advisory locks released one by one but the migration lock
/// (`pg_advisory_unlock_all()` would release it too): a migration's session state (settings,
/// role, temporary tables, prepared statements, cursors held past their transaction, listens,
/// advisory locks, cached plans and sequence values) must not reach the next migration, nor the
/// next attempt of a migration rolled back for a retry. `RESET ALL` leaves role and session
/// authorization as they are: they go back to the role that logged in (which a shadow's
/// confined role may always do: it is that role). haste itself uses only the simple query
/// protocol, so it has no prepared statement of its own to lose.
const SESSION_RESET: &str = "CLOSE ALL; RESET SESSION AUTHORIZATION; RESET ROLE; DEALLOCATE ALL; \
     UNLISTEN *; DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES";

/// Releases every session-level advisory lock of this session but the migration lock (classid
/// `LOCK_CLASS`, objid `{key}`, two int4 keys), as often as each is held: a bigint key is
/// `classid << 32 | objid` (`objsubid` 1), two int4 keys are `classid` and `objid` (2).
/// `pg_advisory_unlock` says nothing but `false` once the count reaches zero, after a warning
/// silenced here; the `RESET ALL` after it puts `client_min_messages` back.
fn release_advisory_locks(key: i32) -> String {
    let int4 = |column: &str| {
        format!(
            "CAST(CASE WHEN {column}::bigint >= 2147483648 THEN {column}::bigint - 4294967296 ELSE {column}::bigint END AS integer)"
        )
    };
    let body = format!(
        "DECLARE h record; BEGIN \
         FOR h IN SELECT l.classid, l.objid, l.objsubid, l.mode FROM pg_locks l \
           WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted \
           AND NOT (l.objsubid = 2 AND {} = {LOCK_CLASS} AND {} = {key}) LOOP \
           LOOP EXIT WHEN NOT CASE \
             WHEN h.objsubid = 1 AND h.mode = 'ShareLock' THEN pg_advisory_unlock_shared((h.classid::bigint << 32) | h.objid::bigint) \
             WHEN h.objsubid = 1 THEN pg_advisory_unlock((h.classid::bigint << 32) | h.objid::bigint) \
             WHEN h.mode = 'ShareLock' THEN pg_advisory_unlock_shared({}, {}) \
             ELSE pg_advisory_unlock({}, {}) END; END LOOP; \
         END LOOP; END",
        int4("l.classid"),
        int4("l.objid"),
        int4("h.classid"),
        int4("h.objid"),
        int4("h.classid"),
        int4("h.objid"),
    );
    format!("SET client_min_messages = error; DO {}; RESET ALL", haste_sql::dollar_quote(&body))
}

/// Where the catalog keeps the objects of a [`LockedObjectKind`]: its table, the column of an
/// object's name and, for kinds that live in a schema, the column of its schema and the function
/// that tells whether the search path finds it.
struct ObjectCatalog {
    table: &'static str,
    name: &'static str,
    namespace: Option<(&'static str, &'static str)>,
}

impl ObjectCatalog {
    fn of(kind: LockedObjectKind) -> ObjectCatalog {
        use LockedObjectKind as Kind;
        let (table, name, namespace) = match kind {
            Kind::Routine => ("pg_proc", "proname", Some(("pronamespace", "pg_function_is_visible"))),
            Kind::Type => ("pg_type", "typname", Some(("typnamespace", "pg_type_is_visible"))),
            Kind::Schema => ("pg_namespace", "nspname", None),
            Kind::Collation => {
                ("pg_collation", "collname", Some(("collnamespace", "pg_collation_is_visible")))
            }
            Kind::Conversion => {
                ("pg_conversion", "conname", Some(("connamespace", "pg_conversion_is_visible")))
            }
            Kind::TextSearchConfiguration => {
                ("pg_ts_config", "cfgname", Some(("cfgnamespace", "pg_ts_config_is_visible")))
            }
            Kind::TextSearchDictionary => {
                ("pg_ts_dict", "dictname", Some(("dictnamespace", "pg_ts_dict_is_visible")))
            }
            Kind::TextSearchParser => {
                ("pg_ts_parser", "prsname", Some(("prsnamespace", "pg_ts_parser_is_visible")))
            }
            Kind::TextSearchTemplate => {
                ("pg_ts_template", "tmplname", Some(("tmplnamespace", "pg_ts_template_is_visible")))
            }
            Kind::Statistics => {
                ("pg_statistic_ext", "stxname", Some(("stxnamespace", "pg_statistics_obj_is_visible")))
            }
            Kind::Extension => ("pg_extension", "extname", None),
            Kind::Language => ("pg_language", "lanname", None),
            Kind::EventTrigger => ("pg_event_trigger", "evtname", None),
            Kind::ForeignDataWrapper => ("pg_foreign_data_wrapper", "fdwname", None),
            Kind::ForeignServer => ("pg_foreign_server", "srvname", None),
            Kind::Publication => ("pg_publication", "pubname", None),
        };
        ObjectCatalog { table, name, namespace }
    }
}

/// A `pg_locks` row (`l`) of the database this session is in: databases cloned from one
/// template share oids, so a lock elsewhere could look like one on the same table.
const LOCK_IN_THIS_DATABASE: &str =
    "l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// Prepared transactions (two-phase commit) with the virtual transaction their locks are held
/// under: those locks have no pid, and the virtual transaction that also holds the prepared
/// transaction's id tells them.
const PREPARED_TRANSACTIONS: &str = "SELECT x.virtualtransaction, p.gid, p.prepared FROM pg_prepared_xacts p \
     JOIN pg_locks x ON x.locktype = 'transactionid' AND x.transactionid = p.transaction";

/// The text `before_history_writes` fails with, recognised in `db_error`.
const LOCK_LOST: &str = "haste: migration lock lost";

/// A PostgreSQL session used for one run.
pub struct PgConnection {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// How this session was opened, for another one alongside (catalog reading).
    session: Session,
    lock_key: i32,
    /// Whether this session took the migration lock (and has not released it).
    locked: bool,
    history_exists: bool,
    url: DatabaseUrl,
    /// The URL for `pg_dump`: libpq's parameters only, no password.
    libpq_url: String,
}

/// What opens a session: the driver's settings (the role's credentials among them) and the TLS
/// connector, none without TLS.
#[derive(Clone)]
struct Session {
    config: Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Session {
    /// Connects; the connection's task runs whenever the runtime blocks on a request, and ends
    /// (the handle) once the client is dropped and the server told.
    async fn open(self) -> Result<(Client, ConnectionTask), tokio_postgres::Error> {
        Ok(match self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                (client, tokio::spawn(connection))
            }
            Some(connector) => {
                let (client, connection) = self.config.connect(connector).await?;
                (client, tokio::spawn(connection))
            }
        })
    }
}

/// The task that runs a session's connection.
type ConnectionTask = tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>;

/// The rows of a simple query's answer.
fn rows_of(messages: Vec<SimpleQueryMessage>) -> Vec<SimpleQueryRow> {
    messages
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect()
}

/// Queries running on a session of their own beside the main one: see [`PgConnection::alongside`].
type Alongside = tokio::task::JoinHandle<Result<Vec<SimpleQueryRow>, tokio_postgres::Error>>;

impl PgConnection {
    /// Connects to `url`; `application_name` tells other sessions who holds the lock.
    /// `lock_scope` (the history table) selects the lock key.
    pub fn connect(
        url: &DatabaseUrl,
        application_name: &str,
        lock_scope: &str,
    ) -> Result<PgConnection, ConnectError> {
        PgConnection::open(url, None, application_name, lock_scope, Limits::default())
    }

    /// [`connect`](Self::connect) for applying migrations: the lock timeout of `limits` becomes
    /// the session's own default (startup option `-c lock_timeout=...`, as a URL's `options`
    /// would set it).
    /// `RESET ALL`, `RESET lock_timeout` and `SET ... TO DEFAULT` go back to the session's
    /// defaults, and a migration can run them where the runner never sees them (inside a `DO`
    /// block, an `EXECUTE`, a function it calls) before statements that take locks: those then
    /// wait under the lock budget's timeout, never under the server's (none). A pooler that
    /// refuses startup options it does not know (PgBouncer: 08P01) gets the connection without
    /// them: the runner's per-statement `SET`s still hold, only such a reset lifts them there.
    pub fn connect_for_migrations(
        url: &DatabaseUrl,
        application_name: &str,
        lock_scope: &str,
        limits: Limits,
    ) -> Result<PgConnection, ConnectError> {
        PgConnection::open(url, None, application_name, lock_scope, limits)
    }

    /// Connects to `url`'s server and database as another role (`user`, `password`), with the
    /// rest of `url`'s settings (TLS, options): how a shadow database's own role logs in.
    pub fn connect_as(
        url: &DatabaseUrl,
        user: &str,
        password: &str,
        application_name: &str,
        lock_scope: &str,
    ) -> Result<PgConnection, ConnectError> {
        PgConnection::open(url, Some((user, password)), application_name, lock_scope, Limits::default())
    }

    fn open(
        url: &DatabaseUrl,
        credentials: Option<(&str, &str)>,
        application_name: &str,
        lock_scope: &str,
        session_defaults: Limits,
    ) -> Result<PgConnection, ConnectError> {
        let options::ConnectionOptions { mut config, tls, root_cert, libpq_url } = options::parse(url)
            .map_err(|reason| ConnectError { target: url.redacted(), reason: url.scrub(&reason) })?;
        if let Some((user, password)) = credentials {
            config.user(user).password(password);
        }
        config.application_name(application_name);
        let without_defaults = config.clone();
        options::add_startup_settings(&mut config, &startup_settings(session_defaults));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let target = describe(&config);
        let failed = |reason: String| ConnectError { target: target.clone(), reason: url.scrub(&reason) };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| failed(error.to_string()))?;
        let tls = match tls {
            options::TlsMode::Disable => None,
            tls => Some(tls::connector(tls, root_cert.as_deref()).map_err(failed)?),
        };
        let with_defaults = config.get_options() != without_defaults.get_options();
        let mut session = Session { config, tls };
        let opened = match runtime.block_on(session.clone().open()) {
            // A pooler that refuses startup options it does not know (PgBouncer: 08P01
            // "unsupported startup parameter"): the session without the defaults.
            Err(error) if with_defaults && error.code() == Some(&SqlState::PROTOCOL_VIOLATION) => {
                session.config = without_defaults;
                runtime.block_on(session.clone().open())
            }
            opened => opened,
        };
        let (client, _) = opened.map_err(|error| failed(describe_error(&error)))?;
        Ok(PgConnection {
            runtime,
            client,
            session,
            lock_key: lock_key(lock_scope),
            locked: false,
            history_exists: false,
            url: url.clone(),
            libpq_url,
        })
    }

    /// Runs a simple query and returns its rows as text.
    fn rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        Ok(self
            .text_rows(sql)?
            .into_iter()
            .map(|row| (0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
            .collect())
    }

    /// Runs a simple query and returns its rows as they came: catalog reading takes each
    /// field's text from them once (a copy per field for every row first was a tenth of it).
    fn text_rows(&mut self, sql: &str) -> Result<Vec<SimpleQueryRow>, DbError> {
        let messages = self.runtime.block_on(self.client.simple_query(sql)).map_err(db_error)?;
        Ok(rows_of(messages))
    }

    /// Starts `queries` one after the other on a new session to the same database as the same
    /// role, which runs whenever this one waits for the server; the handle gives the rows of
    /// the last. The session is closed once they ran.
    fn alongside(&self, queries: Vec<String>) -> Alongside {
        let session = self.session.clone();
        self.runtime.spawn(async move {
            let (client, connection) = session.open().await?;
            let mut rows = Vec::new();
            for sql in &queries {
                rows = rows_of(client.simple_query(sql).await?);
            }
            drop(client);
            let _ = connection.await;
            Ok(rows)
        })
    }

    /// The rows of queries started [`alongside`](Self::alongside); where that session could not
    /// open or its queries failed, `sql` is run here instead (and fails here, reported as
    /// every other query's failure is).
    fn rows_from(&mut self, alongside: Option<Alongside>, sql: &str) -> Result<Vec<SimpleQueryRow>, DbError> {
        match alongside.map(|task| self.runtime.block_on(task)) {
            Some(Ok(Ok(rows))) => Ok(rows),
            _ => self.text_rows(sql),
        }
    }

    fn value(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        Ok(self.rows(sql)?.into_iter().next().and_then(|row| row.into_iter().next().flatten()))
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.runtime.block_on(self.client.batch_execute(sql)).map_err(db_error)
    }

    /// Ends a failed transaction so the session is usable again; a lost connection has
    /// nothing left to roll back.
    fn roll_back(&mut self) {
        if !self.client.is_closed() {
            let _ = self.execute("ROLLBACK");
        }
    }

    /// Sets the limits for the statements that follow outside a transaction. Sent before each
    /// of them, never cached: a migration may have changed them (`SET lock_timeout = 0`,
    /// `RESET ALL`, `DISCARD ALL`), and they must not leak into the next one.
    fn set_session_limits(&mut self, limits: Limits) -> Result<(), DbError> {
        self.execute(&limit_settings(limits, "SET"))
    }

    /// Whether the history tables exist; once they do, they are not looked up again.
    fn history_exists(&mut self, tables: &HistoryTables) -> Result<bool, DbError> {
        if !self.history_exists {
            let sql = format!(
                "SELECT to_regclass({}) IS NOT NULL",
                quote_literal(&tables.qualified(PROGRESS_TABLE))
            );
            self.history_exists = self.value(&sql)?.as_deref() == Some("t");
        }
        Ok(self.history_exists)
    }

    /// Sent in the transaction that writes history, before the writes.
    ///
    /// It writes as the role the session started with (the user, or the role the URL's
    /// options set): a migration may `SET ROLE` to one that may not write history. `SET
    /// LOCAL`, so that at `COMMIT` (or a chained commit) the role the file chose is back for
    /// its next statements.
    ///
    /// It fails unless this session still holds the migration lock it took: a migration can
    /// release it (`pg_advisory_unlock_all()`, `DISCARD ALL`), and history must then not be
    /// written, or a second run could apply the same migration again. No lock check when no
    /// lock was taken (shadow replays).
    fn before_history_writes(&self) -> String {
        const AS_LOGIN_ROLE: &str = "SET LOCAL SESSION AUTHORIZATION DEFAULT;\nSET LOCAL role TO DEFAULT;\n";
        if !self.locked {
            return AS_LOGIN_ROLE.to_owned();
        }
        format!(
            "{AS_LOGIN_ROLE}SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM pg_locks l WHERE {} AND l.pid = pg_backend_pid()) \
             THEN '0' ELSE '{LOCK_LOST}' END AS integer);\n",
            self.lock_condition()
        )
    }

    fn lock_condition(&self) -> String {
        format!(
            "l.locktype = 'advisory' AND {LOCK_IN_THIS_DATABASE} \
             AND l.classid = {}::oid AND l.objid = {}::oid AND l.objsubid = 2 AND l.granted",
            LOCK_CLASS, self.lock_key
        )
    }
}

impl Connection for PgConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn provider(&self) -> &'static str {
        "postgresql"
    }

    fn server_version(&mut self) -> Result<String, DbError> {
        Ok(format!("PostgreSQL {}", self.value("SHOW server_version")?.unwrap_or_default()))
    }

    fn behind_transaction_pooler(&mut self) -> Result<bool, DbError> {
        // Two autocommit queries, pipelined: one round trip, still two transactions.
        let query = "SELECT pg_backend_pid()";
        let (first, second) = self.runtime.block_on(futures_util::future::join(
            self.client.simple_query(query),
            self.client.simple_query(query),
        ));
        let pid = |messages: Vec<SimpleQueryMessage>| {
            messages.into_iter().find_map(|message| match message {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
        };
        Ok(pid(first.map_err(db_error)?) != pid(second.map_err(db_error)?))
    }

    fn try_lock(&mut self) -> Result<bool, DbError> {
        let sql = format!("SELECT pg_try_advisory_lock({LOCK_CLASS}, {})", self.lock_key);
        self.locked = self.value(&sql)?.as_deref() == Some("t");
        Ok(self.locked)
    }

    fn lock_holder(&mut self) -> Result<Option<LockHolder>, DbError> {
        let sql = format!(
            "SELECT coalesce(a.pid, 0), coalesce(a.application_name, ''), \
             coalesce(a.xact_start, a.backend_start, p.prepared)::text, p.gid \
             FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             LEFT JOIN ({PREPARED_TRANSACTIONS}) p ON l.pid IS NULL AND p.virtualtransaction = l.virtualtransaction \
             WHERE {} AND (a.pid IS NOT NULL OR p.gid IS NOT NULL) LIMIT 1",
            self.lock_condition()
        );
        Ok(self.rows(&sql)?.into_iter().next().map(|row| {
            let mut row = row.into_iter().map(Option::unwrap_or_default);
            LockHolder {
                pid: row.next().unwrap_or_default().parse().unwrap_or_default(),
                application_name: row.next().unwrap_or_default(),
                since: row.next().unwrap_or_default(),
                state: None,
                autovacuum: None,
                transaction_ms: None,
                prepared: row.next().filter(|gid| !gid.is_empty()),
            }
        }))
    }

    fn lock_holders(&mut self, tables: &[String], lock: Lock) -> Result<Vec<LockHolder>, DbError> {
        let modes: Vec<String> =
            lock.conflicting().filter_map(Lock::server_name).map(quote_literal).collect();
        if tables.is_empty() || modes.is_empty() {
            return Ok(Vec::new());
        }
        let relations: Vec<String> =
            tables.iter().map(|table| format!("to_regclass({})", quote_literal(table))).collect();
        let sql = format!(
            "WITH RECURSIVE tree(oid) AS (SELECT unnest(ARRAY[{}]::regclass[])::oid \
               UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid), \
             held AS (SELECT l.pid, l.virtualtransaction FROM pg_locks l \
               WHERE l.granted AND l.relation IN (SELECT oid FROM tree) AND l.mode = ANY (ARRAY[{}]) \
               AND {LOCK_IN_THIS_DATABASE}) \
             SELECT sessions.*, NULL::text FROM ({SESSION_COLUMNS} \
               WHERE a.pid <> pg_backend_pid() AND a.pid IN (SELECT pid FROM held)) sessions \
             UNION ALL SELECT 0, '', p.prepared::text, 'prepared', \
               CAST(extract(epoch FROM clock_timestamp() - p.prepared) * 1000 AS bigint), NULL, p.gid \
               FROM ({PREPARED_TRANSACTIONS}) p \
               WHERE p.virtualtransaction IN (SELECT virtualtransaction FROM held WHERE pid IS NULL) \
             ORDER BY 3, 1 LIMIT 5",
            relations.join(", "),
            modes.join(", ")
        );
        Ok(self.rows(&sql)?.into_iter().map(session_row).collect())
    }

    fn relations_locked(&mut self, tables: &[Vec<String>]) -> Result<Vec<usize>, DbError> {
        if tables.is_empty() {
            return Ok(Vec::new());
        }
        let relations: Vec<String> = tables
            .iter()
            .map(|names| {
                let found: Vec<String> =
                    names.iter().map(|name| format!("to_regclass({})", quote_literal(name))).collect();
                match found.as_slice() {
                    [] => "NULL::regclass".to_owned(),
                    found => format!("coalesce({})", found.join(", ")),
                }
            })
            .collect();
        // Per table, in order: the size of its inheritance tree (partitions of partitions
        // included); a missing table's tree is empty.
        let sql = format!(
            "WITH RECURSIVE named(place, oid) AS (SELECT place, oid::oid FROM unnest(ARRAY[{}]::regclass[]) \
               WITH ORDINALITY AS n(oid, place)), \
             tree(place, oid) AS (SELECT place, oid FROM named WHERE oid IS NOT NULL \
               UNION SELECT tree.place, i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid) \
             SELECT named.place, count(tree.oid) FROM named LEFT JOIN tree USING (place) \
             GROUP BY named.place ORDER BY named.place",
            relations.join(", ")
        );
        self.rows(&sql)?
            .into_iter()
            .map(|row| {
                row.get(1)
                    .cloned()
                    .flatten()
                    .and_then(|count| count.parse().ok())
                    .ok_or_else(|| DbError::message(format!("relations locked: unexpected row {row:?}")))
            })
            .collect()
    }

    fn object_lock_holders(&mut self, objects: &[LockedObject]) -> Result<Vec<LockHolder>, DbError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let held: Vec<String> = objects
            .iter()
            .map(|object| {
                let catalog = ObjectCatalog::of(object.kind);
                let mut matches = vec![format!("o.{} = {}", catalog.name, quote_literal(&object.name))];
                match (&object.schema, catalog.namespace) {
                    (Some(schema), Some((namespace, _))) => matches.push(format!(
                        "o.{namespace} = to_regnamespace({})",
                        quote_literal(&quote_ident(schema))
                    )),
                    (None, Some((_, visible))) => matches.push(format!("{visible}(o.oid)")),
                    (_, None) => {}
                }
                // The overload the statement names, its argument types resolved as the server
                // resolves them (NULL, matching nothing, for a type that does not exist).
                if let Some(arguments) = &object.arguments {
                    matches.push(format!("o.pronargs = {}", arguments.len()));
                    for (position, argument) in arguments.iter().enumerate() {
                        matches.push(format!(
                            "o.proargtypes[{position}] = to_regtype({})",
                            quote_literal(argument)
                        ));
                    }
                }
                let modes: Vec<String> =
                    object.lock.conflicting().filter_map(Lock::server_name).map(quote_literal).collect();
                format!(
                    "(l.classid = '{}'::regclass AND l.mode = ANY (ARRAY[{}]::text[]) \
                     AND l.objid IN (SELECT o.oid FROM {} o WHERE {}))",
                    catalog.table,
                    modes.join(", "),
                    catalog.table,
                    matches.join(" AND ")
                )
            })
            .collect();
        let sql = format!(
            "{SESSION_COLUMNS} WHERE a.pid <> pg_backend_pid() AND a.pid IN (SELECT l.pid FROM pg_locks l \
               WHERE l.granted AND l.locktype = 'object' \
               AND {LOCK_IN_THIS_DATABASE} AND ({})) \
             ORDER BY a.xact_start NULLS LAST, a.pid LIMIT 5",
            held.join(" OR ")
        );
        Ok(self.rows(&sql)?.into_iter().map(session_row).collect())
    }

    fn snapshot_holders(&mut self) -> Result<Vec<LockHolder>, DbError> {
        let sql = format!(
            "{SESSION_COLUMNS} WHERE a.pid <> pg_backend_pid() AND a.datname = current_database() \
             AND a.backend_xmin IS NOT NULL AND a.backend_type = 'client backend' \
             ORDER BY a.xact_start NULLS LAST, a.pid LIMIT 5"
        );
        Ok(self.rows(&sql)?.into_iter().map(session_row).collect())
    }

    fn holds_lock(&mut self) -> Result<bool, DbError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {} AND l.pid = pg_backend_pid())",
            self.lock_condition()
        );
        Ok(self.value(&sql)?.as_deref() == Some("t"))
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        self.locked = false;
        self.execute(&format!("SELECT pg_advisory_unlock({LOCK_CLASS}, {})", self.lock_key))
    }

    fn ensure_history(&mut self, tables: &HistoryTables) -> Result<(), DbError> {
        if self.history_exists(tables)? {
            return Ok(());
        }
        // One transaction: a run killed half-way must not leave one table without the other.
        let statements = tables.create_statements(Dialect::Postgres).join(";\n");
        self.execute(&format!("BEGIN;\n{statements};\nCOMMIT"))?;
        self.history_exists = true;
        Ok(())
    }

    fn history(&mut self, tables: &HistoryTables) -> Result<Vec<HistoryRow>, DbError> {
        if !self.history_exists(tables)? {
            return Ok(Vec::new());
        }
        let rows = self.rows(&tables.select_statement(Dialect::Postgres))?;
        Ok(rows.into_iter().map(history_row).collect())
    }

    fn record(
        &mut self,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
        in_open_transaction: bool,
    ) -> Result<(), DbError> {
        let writes: Vec<String> =
            writes.iter().map(|write| tables.render(Dialect::Postgres, write)).collect();
        let guard = self.before_history_writes();
        let sql = if in_open_transaction {
            // The script's own transaction must still be open, or these rows would commit
            // on their own.
            format!("{TRANSACTION_STILL_OPEN};\n{guard}{}", writes.join(";\n"))
        } else {
            // Read write whatever a migration made the session's default
            // (`default_transaction_read_only`): history is haste's, not the file's.
            format!("BEGIN READ WRITE;\n{guard}{};\nCOMMIT", writes.join(";\n"))
        };
        let result = self.execute(&sql);
        if result.is_err() && !in_open_transaction {
            // A write that failed left this transaction aborted; the session must stay usable.
            self.roll_back();
        }
        result
    }

    fn run_in_transaction(
        &mut self,
        limits: Limits,
        statements: &[&str],
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), StepError> {
        // A statement the client cannot send fails before anything is sent: failing in the
        // middle of the pipeline would leave the statements around it running in a transaction
        // the server never saw fail.
        if let Some(index) = statements.iter().position(|statement| statement.contains('\0')) {
            return Err(StepError { index, error: nul_byte_error() });
        }
        // Pipelined: `BEGIN` and the limits as one message, then every statement as its own,
        // sent without waiting, so all statements cost one round trip. `BEGIN` travels alone so
        // that a statement the server refuses to parse can never take it down with it: once the
        // transaction is open, the first failure aborts it and the server answers every later
        // message with 25P02.
        // Read write: the transaction is haste's and writes history, whatever a statement of
        // an earlier step made the session's default (`default_transaction_read_only`).
        let local_limits = limit_settings(limits, "SET LOCAL");
        let opening = format!("BEGIN READ WRITE;\n{local_limits}");
        // Each statement is followed, in the same message, by haste's limits again: one may
        // change them (`SET lock_timeout = 0`, `set_config(...)`, a function or `DO` block that
        // does, `RESET ALL`), and the next must still wait under the lock budget, as each
        // statement run on its own does.
        let messages: Vec<String> = std::iter::once(opening)
            .chain(statements.iter().map(|statement| format!("{statement}\n;{local_limits}")))
            .collect();
        let outcomes = self.runtime.block_on(futures_util::future::join_all(
            messages.iter().map(|message| self.client.batch_execute(message)),
        ));
        let first_error = outcomes.into_iter().enumerate().find_map(|(index, outcome)| {
            // Message 0 is the opening; a failure there is reported on the first statement.
            outcome.err().map(|error| (index.saturating_sub(1), error))
        });
        if let Some((index, error)) = first_error {
            self.roll_back();
            return Err(StepError { index, error: db_error(error) });
        }
        // Every statement succeeded inside the transaction: only now are history and COMMIT
        // sent, behind a check that the transaction is still the one opened above.
        let closing = format!(
            "{TRANSACTION_STILL_OPEN};\n{}{}",
            self.before_history_writes(),
            tables.commit_with(Dialect::Postgres, writes)
        );
        self.execute(&closing).map_err(|error| {
            self.roll_back();
            StepError { index: statements.len(), error }
        })
    }

    fn run_alone(&mut self, limits: Limits, statement: &str) -> Result<(), DbError> {
        if statement.contains('\0') {
            return Err(nul_byte_error());
        }
        self.set_session_limits(limits)?;
        self.execute(statement)
    }

    fn reset_session(&mut self) -> Result<(), DbError> {
        self.execute(&format!("{SESSION_RESET}; {}", release_advisory_locks(self.lock_key)))
    }

    fn run_as_written(&mut self, limits: Limits, statement: &str) -> Result<(), DbError> {
        // Ending a transaction takes no lock, and a failed transaction block refuses the `SET`
        // of the limits that would go first: the block would stay open and aborted, and every
        // later request of the session (the failure's record, the unlock) fail with 25P02.
        if statement.trim().trim_end_matches(';').trim().eq_ignore_ascii_case("ROLLBACK") {
            return self.execute(statement);
        }
        self.run_alone(limits, statement)
    }

    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        self.rows(sql)
    }

    fn run_code(
        &mut self,
        limits: Limits,
        body: CodeBody<'_>,
        tables: &HistoryTables,
        writes: &[HistoryWrite<'_>],
    ) -> Result<(), DbError> {
        self.execute(&format!("BEGIN READ WRITE;\n{}", limit_settings(limits, "SET LOCAL")))?;
        let result = body(self).and_then(|()| {
            self.execute(&format!(
                "{TRANSACTION_STILL_OPEN};\n{}{}",
                self.before_history_writes(),
                tables.commit_with(Dialect::Postgres, writes)
            ))
        });
        if result.is_err() {
            self.roll_back();
        }
        result
    }

    fn prisma_history(&mut self) -> Result<Option<Vec<PrismaRow>>, DbError> {
        if self.value("SELECT to_regclass('_prisma_migrations') IS NOT NULL")?.as_deref() != Some("t") {
            return Ok(None);
        }
        let rows = self.rows(PRISMA_SELECT)?;
        Ok(Some(
            rows.into_iter()
                .map(|row| {
                    let mut row = row.into_iter();
                    let mut next = || row.next().flatten();
                    PrismaRow {
                        migration_name: next().unwrap_or_default(),
                        checksum: next().unwrap_or_default(),
                        finished_at: next(),
                        rolled_back_at: next(),
                        logs: next(),
                    }
                })
                .collect(),
        ))
    }

    fn index_validity(&mut self, name: &str) -> Result<Option<bool>, DbError> {
        let sql = format!(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass({})",
            quote_literal(name)
        );
        Ok(self.value(&sql)?.map(|valid| valid == "t"))
    }

    fn invalid_indexes(&mut self) -> Result<Vec<IndexRef>, DbError> {
        let rows = self.rows(
            "SELECT n.nspname, c.relname, t.relname FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class t ON t.oid = i.indrelid WHERE NOT i.indisvalid ORDER BY 1, 2",
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter().map(Option::unwrap_or_default);
                let mut next = || row.next().unwrap_or_default();
                IndexRef { schema: next(), name: next(), table: next() }
            })
            .collect())
    }

    fn drop_all_objects(&mut self) -> Result<(), DbError> {
        // `public` comes back as it was (owner, comment, grants), so an emptied database cannot
        // be told from a new one.
        let public = self
            .rows(
                "SELECT pg_get_userbyid(nspowner), obj_description(oid, 'pg_namespace'), \
                 (SELECT string_agg(format('GRANT %s ON SCHEMA public TO %s', a.privilege_type, \
                    CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END), ';') \
                  FROM aclexplode(nspacl) a WHERE a.grantee <> nspowner) \
                 FROM pg_namespace WHERE nspname = 'public'",
            )?
            .into_iter()
            .next();
        let schemas = self.rows(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
        )?;
        let mut sql: Vec<String> = schemas
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .map(|schema| format!("DROP SCHEMA {} CASCADE", quote_ident(&schema)))
            .collect();
        match public.map(|row| row.into_iter().collect::<Vec<_>>()).as_deref() {
            Some([owner, comment, grants]) => {
                let owner = owner.as_deref().unwrap_or("CURRENT_USER");
                sql.push(format!("CREATE SCHEMA public AUTHORIZATION {}", quote_ident(owner)));
                if let Some(comment) = comment {
                    sql.push(format!("COMMENT ON SCHEMA public IS {}", quote_literal(comment)));
                }
                sql.extend(grants.iter().flat_map(|grants| grants.split(';').map(str::to_owned)));
            }
            _ => sql.push("CREATE SCHEMA public".into()),
        }
        self.history_exists = false;
        self.execute(&format!("BEGIN;\n{};\nCOMMIT", sql.join(";\n")))
    }

    fn terminate_session(&mut self, pid: i64) -> Result<bool, DbError> {
        Ok(self.value(&format!("SELECT pg_terminate_backend({pid})"))?.as_deref() == Some("t"))
    }

    fn capabilities(&mut self, tables: &HistoryTables) -> Result<Capabilities, DbError> {
        let schema = tables.schema.as_deref().unwrap_or("public");
        let sql = format!(
            "SELECT r.rolcreatedb OR r.rolsuper, r.rolsuper, \
             CASE WHEN to_regclass({history}) IS NOT NULL THEN has_table_privilege(to_regclass({history}), 'INSERT, UPDATE, DELETE') \
                  WHEN to_regnamespace({schema}) IS NOT NULL THEN has_schema_privilege(to_regnamespace({schema}), 'CREATE') \
                  ELSE has_database_privilege(current_database(), 'CREATE') END, \
             r.rolcreaterole OR r.rolsuper \
             FROM pg_roles r WHERE r.rolname = current_user",
            history = quote_literal(&tables.qualified(MIGRATIONS_TABLE)),
            schema = quote_literal(&quote_ident(schema)),
        );
        let row = self.rows(&sql)?.into_iter().next().unwrap_or_default();
        let flag = |i: usize| row.get(i).cloned().flatten().as_deref() == Some("t");
        Ok(Capabilities {
            can_create_database: flag(0),
            superuser: flag(1),
            can_write_history: flag(2),
            can_create_role: flag(3),
        })
    }

    fn backup(&mut self, path: &Path) -> Result<(), DbError> {
        haste_driver::write_backup(path, || self.dump_into(path))
    }
}

impl PgConnection {
    /// Runs `pg_dump` of this database into `path`.
    fn dump_into(&self, path: &Path) -> Result<(), DbError> {
        let (_, password) = self.url.split_password();
        let mut command = Command::new(pg_dump()?);
        command.arg("--no-password").arg("--file").arg(path).arg("--dbname").arg(&self.libpq_url);
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        let output =
            command.output().map_err(|error| DbError::message(format!("cannot run pg_dump: {error}")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(DbError::message(format!(
                "pg_dump failed ({}): {}",
                output.status,
                self.url.scrub(String::from_utf8_lossy(&output.stderr).trim())
            )))
        }
    }
}

/// The newest `pg_dump` on the machine: server packages keep one per major version, and
/// `pg_dump` must not be older than the server.
fn pg_dump() -> Result<std::path::PathBuf, DbError> {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin/pg_dump")))
        })
        .filter(|(_, path)| path.exists())
        .collect();
    versions.sort();
    if let Some((_, path)) = versions.pop() {
        return Ok(path);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("pg_dump"))
        .find(|path| path.exists())
        .ok_or_else(|| DbError::message("pg_dump not found: install the PostgreSQL client tools"))
}

impl Executor for PgConnection {
    // A migration written in code sends what it likes: a NUL byte is refused here, before the
    // client library fails to encode it, which would read as a lost connection.
    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        if sql.contains('\0') {
            return Err(nul_byte_error());
        }
        PgConnection::execute(self, sql)
    }

    fn query_row(&mut self, sql: &str) -> Result<Option<Vec<Option<String>>>, DbError> {
        if sql.contains('\0') {
            return Err(nul_byte_error());
        }
        Ok(self.rows(sql)?.into_iter().next())
    }
}

fn history_row(row: Vec<Option<String>>) -> HistoryRow {
    let mut row = row.into_iter();
    let mut next = || row.next().flatten();
    HistoryRow {
        name: next().unwrap_or_default(),
        status: next().as_deref().and_then(MigrationStatus::parse),
        checksum: next().unwrap_or_default(),
        transactional: next().as_deref() == Some("t"),
        statements_total: next().and_then(|v| v.parse().ok()).unwrap_or_default(),
        statements_done: next().and_then(|v| v.parse().ok()).unwrap_or_default(),
        finished_at: next(),
        duration_ms: next().and_then(|v| v.parse().ok()),
        last_error: next(),
        data_last_key: next(),
        data_rows_done: next().and_then(|v| v.parse().ok()),
    }
}

/// The columns of another session that [`session_row`] reads. Never the query text: another
/// session's statement may hold secrets (only an autovacuum worker's is looked at, for whether
/// it prevents wraparound). A role without `pg_read_all_stats` sees no `backend_type` of
/// another role's session, but a session of no role in a database is an autovacuum worker
/// (whether it prevents wraparound it cannot tell).
const SESSION_COLUMNS: &str = "SELECT a.pid, coalesce(a.application_name, ''), \
     coalesce(a.xact_start, a.backend_start)::text, coalesce(a.state, ''), \
     CAST(extract(epoch FROM clock_timestamp() - a.xact_start) * 1000 AS bigint), \
     CASE WHEN a.backend_type = 'autovacuum worker' THEN \
       CASE WHEN a.query LIKE '%to prevent wraparound%' THEN 'wraparound' ELSE 'ordinary' END \
     WHEN a.backend_type IS NULL AND a.usesysid IS NULL AND a.datid IS NOT NULL THEN 'ordinary' END \
     FROM pg_stat_activity a";

fn session_row(row: Vec<Option<String>>) -> LockHolder {
    let mut row = row.into_iter().map(Option::unwrap_or_default);
    LockHolder {
        pid: row.next().unwrap_or_default().parse().unwrap_or_default(),
        application_name: row.next().unwrap_or_default(),
        since: row.next().unwrap_or_default(),
        state: row.next().filter(|state| !state.is_empty()),
        transaction_ms: row.next().and_then(|ms| ms.parse::<i64>().ok()).map(|ms| ms.max(0) as u64),
        autovacuum: match row.next().as_deref() {
            Some("ordinary") => Some(Autovacuum::Ordinary),
            Some("wraparound") => Some(Autovacuum::ToPreventWraparound),
            _ => None,
        },
        // Where a query lists prepared transactions too.
        prepared: row.next().filter(|gid| !gid.is_empty()),
    }
}

/// The startup settings that make `limits` a session's defaults ([`PgConnection::connect_for_migrations`]):
/// a lock timeout of none or zero and no statement timeout leave the server's.
fn startup_settings(limits: Limits) -> Vec<(&'static str, String)> {
    // The lock timeout only: the session's own work (creating the history tables, emptying the
    // database for a reset, reading the schema) takes no lock an application waits behind for
    // long, but may take longer than a statement timeout meant for migration statements, which
    // the runner sets around each of those.
    let lock_timeout = limits.lock_timeout.filter(|timeout| !timeout.is_zero());
    lock_timeout.map(|timeout| ("lock_timeout", format!("{}ms", timeout.as_millis()))).into_iter().collect()
}

/// `SET [LOCAL] lock_timeout ...; SET [LOCAL] statement_timeout ...`. A lock timeout of zero
/// or none disables it, as does a statement timeout of zero; no statement timeout is the
/// server's own (`DEFAULT`: the role's, the database's or the server's setting, or the URL's
/// `options`), never a zero that would lift a limit the DBA set.
fn limit_settings(limits: Limits, set: &str) -> String {
    let millis = |limit: Duration| quote_literal(&format!("{}ms", limit.as_millis()));
    let statement_timeout = limits.statement_timeout.map_or_else(|| "DEFAULT".to_owned(), millis);
    format!(
        "{set} lock_timeout = {};\n{set} statement_timeout = {statement_timeout}",
        millis(limits.lock_timeout.unwrap_or_default()),
    )
}

/// A stable, positive 31-bit FNV-1a hash of the history table's name.
fn lock_key(scope: &str) -> i32 {
    let hash =
        scope.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    (hash & 0x7fff_ffff) as i32
}

fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "host={} port={} database={} user={}",
        if hosts.is_empty() { "localhost".into() } else { hosts.join(",") },
        if ports.is_empty() { "5432".into() } else { ports.join(",") },
        config.get_dbname().unwrap_or("(user name)"),
        config.get_user().unwrap_or("(none)"),
    )
}

fn describe_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            // The top-level message is often just "error connecting to server"; the cause says why.
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

fn nul_byte_error() -> DbError {
    DbError::message("the statement contains a NUL byte, which PostgreSQL cannot receive; nothing was sent")
}

fn db_error(error: tokio_postgres::Error) -> DbError {
    match error.as_db_error() {
        Some(db) if db.message().contains(LOCK_LOST) => DbError::message(
            "this session no longer holds the migration lock (a statement released it: \
             pg_advisory_unlock_all(), DISCARD ALL), so history was not written",
        ),
        Some(db) if db.message().contains("haste: no transaction open") => DbError {
            transaction_ended_early: true,
            ..DbError::message(
                "the transaction had ended before haste's history write and COMMIT: \
                 statements after the one that ended it may have run outside it",
            )
        },
        Some(db) => DbError {
            sqlstate: Some(db.code().code().to_owned()),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            hint: db.hint().map(str::to_owned),
            position: match db.position() {
                Some(tokio_postgres::error::ErrorPosition::Original(position)) => Some(*position as usize),
                _ => None,
            },
            // The server ended the session (shutdown, restart, pg_terminate_backend) or the
            // link failed: what happened to the request is unknown.
            connection_lost: db.code().code().starts_with("08") || db.code().code().starts_with("57P"),
            transaction_ended_early: false,
        },
        None => DbError { connection_lost: true, ..DbError::message(describe_error(&error)) },
    }
}
