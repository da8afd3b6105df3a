//! haste's history: a current-state table (one row per migration) and an append-only event log.
//!
//! The layout is a stability boundary: other tools and people read these tables. Rows of
//! `_haste_events` are only ever inserted.

use haste_sql::{Dialect, dollar_quote, quote_ident, quote_literal, quote_literal_escaped};

/// Where the history tables live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTables {
    /// PostgreSQL schema of the tables; `None` on SQLite.
    pub schema: Option<String>,
}

/// Name of the current-state table.
pub const MIGRATIONS_TABLE: &str = "_haste_migrations";
/// Name of the append-only event log.
pub const EVENTS_TABLE: &str = "_haste_events";
/// Name of the table that holds how far each data migration got (the last key done).
pub const PROGRESS_TABLE: &str = "_haste_progress";
/// Version of the history layout, stored in the events of every run.
pub const LAYOUT_VERSION: u32 = 1;

impl HistoryTables {
    /// The schema-qualified, quoted name of `table`.
    pub fn qualified(&self, table: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(table)),
            None => quote_ident(table),
        }
    }

    /// The statements that create the history tables (idempotent).
    pub fn create_statements(&self, dialect: Dialect) -> Vec<String> {
        let migrations = self.qualified(MIGRATIONS_TABLE);
        let events = self.qualified(EVENTS_TABLE);
        let (timestamp, now, json, identity) = match dialect {
            Dialect::Postgres => (
                "timestamptz",
                "clock_timestamp()",
                "jsonb",
                "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            ),
            Dialect::Sqlite => (
                "text",
                "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                "text",
                "integer PRIMARY KEY AUTOINCREMENT",
            ),
        };
        let mut statements = Vec::new();
        if let (Dialect::Postgres, Some(schema)) = (dialect, &self.schema) {
            // Only when it is missing: PostgreSQL checks the database's CREATE privilege before
            // `IF NOT EXISTS`, which a role that may only create in its schema lacks.
            let body = format!(
                "BEGIN IF to_regnamespace({}) IS NULL THEN CREATE SCHEMA IF NOT EXISTS {}; END IF; END",
                quote_literal(&quote_ident(schema)),
                quote_ident(schema)
            );
            statements.push(format!("DO {}", dollar_quote(&body)));
        }
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {migrations} (
    name text PRIMARY KEY,
    status text NOT NULL,
    checksum text NOT NULL,
    transactional boolean NOT NULL,
    statements_total integer NOT NULL,
    statements_done integer NOT NULL,
    started_at {timestamp} NOT NULL DEFAULT {now},
    finished_at {timestamp},
    run_id text NOT NULL,
    tool_version text NOT NULL,
    last_error {json}
)"
        ));
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {events} (
    id {identity},
    at {timestamp} NOT NULL DEFAULT {now},
    run_id text NOT NULL,
    event text NOT NULL,
    name text,
    checksum text,
    detail {json}
)"
        ));
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {} (
    name text PRIMARY KEY,
    last_key text NOT NULL,
    rows_done bigint NOT NULL,
    updated_at {timestamp} NOT NULL DEFAULT {now}
)",
            self.qualified(PROGRESS_TABLE)
        ));
        statements
    }

    /// The query that reads every row of the current-state table, in name order.
    pub fn select_statement(&self, dialect: Dialect) -> String {
        let duration = match dialect {
            Dialect::Postgres => "CAST(1000 * extract(epoch FROM finished_at - started_at) AS bigint)",
            Dialect::Sqlite => "CAST((julianday(finished_at) - julianday(started_at)) * 86400000 AS integer)",
        };
        format!(
            "SELECT m.name, m.status, m.checksum, m.transactional, m.statements_total, m.statements_done, \
             CAST(m.finished_at AS text), {duration}, CAST(m.last_error AS text), p.last_key, p.rows_done \
             FROM {} m LEFT JOIN {} p ON p.name = m.name ORDER BY m.name",
            self.qualified(MIGRATIONS_TABLE),
            self.qualified(PROGRESS_TABLE)
        )
    }

    /// The query that reads the detail of the newest event of one of the kinds `events` about
    /// migration `name` (one row, one text column; no row when there is none).
    pub fn latest_event_detail(&self, name: &str, events: &[&str]) -> String {
        let kinds: Vec<String> = events.iter().map(|event| quote_literal(event)).collect();
        format!(
            "SELECT CAST(detail AS text) FROM {} WHERE name = {} AND event IN ({}) ORDER BY id DESC LIMIT 1",
            self.qualified(EVENTS_TABLE),
            quote_literal(name),
            kinds.join(", ")
        )
    }

    /// The query that reads the id (as text) of the newest event of one of the kinds `events`
    /// for migration `name`: one row, `NULL` when there is none.
    pub fn latest_event_id(&self, name: &str, events: &[&str]) -> String {
        let kinds: Vec<String> = events.iter().map(|event| quote_literal(event)).collect();
        format!(
            "SELECT CAST(max(id) AS text) FROM {} WHERE name = {} AND event IN ({})",
            self.qualified(EVENTS_TABLE),
            quote_literal(name),
            kinds.join(", ")
        )
    }

    /// `writes` followed by `COMMIT`, as one script: how a migration's transaction ends.
    pub fn commit_with(&self, dialect: Dialect, writes: &[HistoryWrite<'_>]) -> String {
        let mut sql: Vec<String> = writes.iter().map(|write| self.render(dialect, write)).collect();
        sql.push("COMMIT".into());
        sql.join(";\n")
    }

    /// The SQL of one history write.
    pub fn render(&self, dialect: Dialect, write: &HistoryWrite<'_>) -> String {
        // On PostgreSQL `now()` is the start of the transaction: for a migration that runs in one
        // transaction, the moment it started. SQLite has no such clock.
        let (start, now) = match dialect {
            Dialect::Postgres => ("now()", "clock_timestamp()"),
            Dialect::Sqlite => {
                ("strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
            }
        };
        // A PostgreSQL database may read backslashes in a plain literal as escapes
        // (`standard_conforming_strings` off): every JSON text holding a quote has them.
        let literal = |text: &str| match dialect {
            Dialect::Postgres => quote_literal_escaped(text),
            Dialect::Sqlite => quote_literal(text),
        };
        let json = |value: &Option<String>| match (value, dialect) {
            (None, _) => "NULL".to_owned(),
            (Some(text), Dialect::Postgres) => format!("{}::jsonb", literal(text)),
            (Some(text), Dialect::Sqlite) => literal(text),
        };
        match write {
            HistoryWrite::Migration(row) => {
                let finished = if row.status == MigrationStatus::Running { "NULL" } else { now };
                format!(
                    "INSERT INTO {table} AS m (name, status, checksum, transactional, statements_total, \
                     statements_done, started_at, finished_at, run_id, tool_version, last_error) \
                     VALUES ({name}, {status}, {checksum}, {transactional}, {total}, {done}, {start}, {finished}, \
                     {run_id}, {tool_version}, {error}) \
                     ON CONFLICT (name) DO UPDATE SET status = excluded.status, checksum = excluded.checksum, \
                     transactional = excluded.transactional, statements_total = excluded.statements_total, \
                     statements_done = excluded.statements_done, finished_at = excluded.finished_at, \
                     run_id = excluded.run_id, \
                     tool_version = excluded.tool_version, last_error = excluded.last_error",
                    table = self.qualified(MIGRATIONS_TABLE),
                    name = literal(row.name),
                    status = literal(row.status.as_str()),
                    checksum = literal(row.checksum),
                    transactional = if row.transactional { "TRUE" } else { "FALSE" },
                    total = row.statements_total,
                    done = row.statements_done,
                    run_id = literal(row.run_id),
                    tool_version = literal(row.tool_version),
                    error = json(&row.last_error),
                )
            }
            HistoryWrite::Forget(name) => format!(
                "DELETE FROM {} WHERE name = {name}; DELETE FROM {} WHERE name = {name}",
                self.qualified(MIGRATIONS_TABLE),
                self.qualified(PROGRESS_TABLE),
                name = literal(name)
            ),
            HistoryWrite::Progress { name, last_key, rows_done } => format!(
                "INSERT INTO {} (name, last_key, rows_done) VALUES ({}, {}, {rows_done}) \
                 ON CONFLICT (name) DO UPDATE SET last_key = excluded.last_key, rows_done = excluded.rows_done, updated_at = {now}",
                self.qualified(PROGRESS_TABLE),
                literal(name),
                literal(last_key),
            ),
            HistoryWrite::Event(event) => format!(
                "INSERT INTO {table} (run_id, event, name, checksum, detail) VALUES ({run_id}, {kind}, {name}, {checksum}, {detail})",
                table = self.qualified(EVENTS_TABLE),
                run_id = literal(event.run_id),
                kind = literal(event.event),
                name = event.name.map_or("NULL".to_owned(), literal),
                checksum = event.checksum.map_or("NULL".to_owned(), literal),
                detail = json(&event.detail),
            ),
        }
    }
}

/// State of a migration in the current-state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStatus {
    /// A non-transactional migration in progress (or interrupted: no lock holder).
    Running,
    /// Applied completely.
    Applied,
    /// A non-transactional migration that stopped at a failed statement; needs `resolve`.
    Failed,
}

impl MigrationStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationStatus::Running => "running",
            MigrationStatus::Applied => "applied",
            MigrationStatus::Failed => "failed",
        }
    }

    /// Reads the stored form.
    pub fn parse(text: &str) -> Option<MigrationStatus> {
        match text {
            "running" => Some(MigrationStatus::Running),
            "applied" => Some(MigrationStatus::Applied),
            "failed" => Some(MigrationStatus::Failed),
            _ => None,
        }
    }
}

/// A change to history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryWrite<'a> {
    /// Insert or replace a migration's current state.
    Migration(MigrationRow<'a>),
    /// Append an event.
    Event(Event<'a>),
    /// Remove a migration's current state: it is pending again (reverted or rolled back by hand).
    Forget(&'a str),
    /// Record how far a data migration got: the last key done and the rows done so far.
    Progress {
        /// The migration.
        name: &'a str,
        /// The last key of the last batch done.
        last_key: &'a str,
        /// Rows done so far.
        rows_done: u64,
    },
}

/// A migration's current state, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRow<'a> {
    /// Folder name.
    pub name: &'a str,
    /// State.
    pub status: MigrationStatus,
    /// Checksum of `migration.sql` as applied.
    pub checksum: &'a str,
    /// Whether it ran in one transaction.
    pub transactional: bool,
    /// How many statements the file has.
    pub statements_total: usize,
    /// How many of them have run to completion.
    pub statements_done: usize,
    /// The run that wrote this state.
    pub run_id: &'a str,
    /// Version of haste that wrote it.
    pub tool_version: &'a str,
    /// JSON describing the error that stopped it, for a failed migration.
    pub last_error: Option<String>,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// The run it belongs to.
    pub run_id: &'a str,
    /// `run_started`, `started`, `applied`, `failed`, `run_finished`, ...
    pub event: &'a str,
    /// The migration, if the event is about one.
    pub name: Option<&'a str>,
    /// The migration's checksum at the time.
    pub checksum: Option<&'a str>,
    /// JSON with the details (SQLSTATE, message, statement index, ...).
    pub detail: Option<String>,
}

/// A migration's current state, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Folder name.
    pub name: String,
    /// State; `None` for a state this version does not know (written by a newer haste).
    pub status: Option<MigrationStatus>,
    /// Stored checksum.
    pub checksum: String,
    /// Whether it ran in one transaction.
    pub transactional: bool,
    /// Statements in the file.
    pub statements_total: i64,
    /// Statements completed.
    pub statements_done: i64,
    /// When it finished, as the database prints timestamps.
    pub finished_at: Option<String>,
    /// Milliseconds from its start to its finish.
    pub duration_ms: Option<i64>,
    /// The error that stopped it, as stored JSON.
    pub last_error: Option<String>,
    /// For a data migration: the last key done.
    pub data_last_key: Option<String>,
    /// For a data migration: the rows done so far.
    pub data_rows_done: Option<i64>,
}

/// A row of Prisma Migrate's `_prisma_migrations`, read when adopting a Prisma-managed database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrismaRow {
    /// Folder name.
    pub migration_name: String,
    /// SHA-256 hex of `migration.sql` as Prisma applied it.
    pub checksum: String,
    /// When Prisma finished applying it; `None` for a failed or unfinished migration.
    pub finished_at: Option<String>,
    /// When it was marked rolled back (`prisma migrate resolve --rolled-back`).
    pub rolled_back_at: Option<String>,
    /// Prisma's log of the failure, if any.
    pub logs: Option<String>,
}

/// The query that reads `_prisma_migrations` in the order Prisma applied the rows.
pub const PRISMA_SELECT: &str = "SELECT migration_name, checksum, CAST(finished_at AS text), \
     CAST(rolled_back_at AS text), logs FROM _prisma_migrations ORDER BY started_at, migration_name";
