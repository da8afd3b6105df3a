//! `haste doctor`: every precondition of every command, each a plain pass or fail.

use haste_driver::Connection;
use haste_migrations::MigrationsDir;

use crate::{Settings, State, status};

/// One check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Runs every check against a connected database. A database error in one check fails that
/// check and the others still run.
pub fn doctor(connection: &mut dyn Connection, dir: &MigrationsDir, settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |name, outcome: Result<(bool, String), String>| {
        let (ok, detail) = outcome.unwrap_or_else(|error| (false, error));
        checks.push(Check { name, ok, detail });
    };
    check("server", connection.server_version().map(|version| (true, version)).map_err(|e| e.to_string()));
    check(
        "direct connection",
        connection.behind_transaction_pooler().map_err(|e| e.to_string()).map(|pooled| match pooled {
            false => (true, "two autocommit statements reached the same server process".into()),
            true => (
                false,
                "a transaction-mode pooler is in between: session locks do not work through it".into(),
            ),
        }),
    );
    let capabilities = connection.capabilities(&settings.history).map_err(|e| e.to_string());
    check(
        "privilege: history tables",
        capabilities.clone().map(|c| match c.can_write_history {
            true => (true, "may create and write haste's history tables (deploy, down, resolve)".into()),
            false => (false, "may not create or write haste's history tables: deploy will fail".into()),
        }),
    );
    check(
        "privilege: create database",
        capabilities.map(|c| match c.can_create_database {
            true => (true, "may create databases (shadow database for schema diff and migrate dev)".into()),
            false => (false, "may not create databases: a shadow database needs --shadow-url".into()),
        }),
    );
    check(
        "migrations",
        status(connection, dir, settings).map_err(|e| e.to_string()).map(|report| {
            let count = |state| report.migrations.iter().filter(|m| m.state == state).count();
            let blocked = count(State::Failed)
                + count(State::Interrupted)
                + count(State::Modified)
                + count(State::Missing);
            (
                blocked == 0,
                format!(
                    "{} applied, {} pending, {} failed, {} interrupted, {} modified, {} missing",
                    count(State::Applied),
                    count(State::Pending),
                    count(State::Failed),
                    count(State::Interrupted),
                    count(State::Modified),
                    count(State::Missing),
                ),
            )
        }),
    );
    check(
        "migration lock",
        connection.lock_holder().map_err(|e| e.to_string()).map(|holder| match holder {
            None => (true, "free".into()),
            Some(holder) => (
                false,
                format!("held by pid {} ({}) since {}", holder.pid, holder.application_name, holder.since),
            ),
        }),
    );
    check(
        "invalid indexes",
        connection.invalid_indexes().map_err(|e| e.to_string()).map(|indexes| match indexes.as_slice() {
            [] => (true, "none".into()),
            found => (
                false,
                found
                    .iter()
                    .map(|index| {
                        format!("{}.{} on {} (drop and rebuild it)", index.schema, index.name, index.table)
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        }),
    );
    checks
}
