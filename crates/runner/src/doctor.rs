//! `haste doctor`: every precondition of every command, each a pass, a warning (it works, in
//! a way worth knowing) or a failure.

use std::path::PathBuf;

use haste_driver::Connection;
use haste_migrations::MigrationsDir;
use haste_sql::Dialect;

use crate::{Settings, State, status};

/// One check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed (a warning passes).
    pub ok: bool,
    /// Whether it passed in a way worth knowing (a fallback will be used).
    pub warning: bool,
    /// What was found.
    pub detail: String,
}

/// Runs every check against a connected database. A database error in one check fails that
/// check and the others still run. `local_cluster` tells whether a throwaway local cluster can
/// hold shadow databases when the role may not create any (the folder of the server binaries
/// it would start from, or why not); it is asked only then.
pub fn doctor(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
    local_cluster: &dyn Fn() -> Result<PathBuf, String>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |name, outcome: Result<(bool, String), String>| {
        let (ok, detail) = outcome.unwrap_or_else(|error| (false, error));
        checks.push(Check { name, ok, warning: false, detail });
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
    let can_create_database = capabilities.clone().map(|c| c.can_create_database);
    let can_create_role = capabilities.map(|c| c.can_create_role);
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
            Some(holder) => (false, format!("held by {}", holder.describe())),
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
    if connection.dialect() == Dialect::Postgres {
        let on_this_server = can_create_database.as_ref().is_ok_and(|allowed| *allowed);
        checks.push(shadow_check(can_create_database, local_cluster));
        checks.push(sandbox_check(on_this_server, can_create_role));
    }
    checks
}

/// Where `migrate dev`, `status --drift` and `schema diff` will put their shadow databases,
/// as `ShadowDatabase::create` decides: on this server, else on a local cluster.
fn shadow_check(
    can_create_database: Result<bool, String>,
    local_cluster: &dyn Fn() -> Result<PathBuf, String>,
) -> Check {
    let name = "shadow database";
    let (ok, warning, detail) = match can_create_database {
        Err(error) => (false, false, error),
        Ok(true) => (true, false, "CREATE DATABASE allowed: shadow databases go on this server".to_owned()),
        Ok(false) => match local_cluster() {
            Ok(bin) => (
                true,
                true,
                format!(
                    "CREATE DATABASE refused (no CREATEDB); shadow databases go on a throwaway local cluster started from {} (or pass --shadow-url)",
                    bin.display()
                ),
            ),
            Err(reason) => (
                false,
                false,
                format!(
                    "CREATE DATABASE refused (no CREATEDB) and no local cluster can start ({reason}): grant CREATEDB or pass --shadow-url"
                ),
            ),
        },
    };
    Check { name, ok, warning, detail }
}

/// Whether the SQL replayed on shadow databases runs as a role of the shadow's own, as
/// `ShadowDatabase::create` decides: on a local cluster always; on this server when this role
/// may create roles (and `pg_hba.conf` lets such a role log in as this connection does).
fn sandbox_check(on_this_server: bool, can_create_role: Result<bool, String>) -> Check {
    let name = "shadow sandbox";
    let confined = "replayed SQL runs as a login role of each shadow's own, with no privilege outside it: the server refuses what acts on other databases, roles, files or sessions, also SQL built at run time";
    let (ok, warning, detail) = match (on_this_server, can_create_role) {
        (false, _) => (true, false, format!("{confined} (on the local cluster)")),
        (true, Err(error)) => (false, false, error),
        (true, Ok(true)) => (
            true,
            false,
            format!("{confined} (if pg_hba.conf lets a new role log in the way this connection does)"),
        ),
        (true, Ok(false)) => (
            true,
            true,
            "this role may not create roles: replayed SQL runs as this role, guarded only by the check of what it says, not of SQL built at run time (grant CREATEROLE, or pass --shadow-url to a server where haste may)".to_owned(),
        ),
    };
    Check { name, ok, warning, detail }
}
