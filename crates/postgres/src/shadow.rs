//! Shadow databases: temporary databases where a schema written as SQL (or a migration history)
//! is applied so PostgreSQL itself normalizes it before it is introspected. One is created on
//! the given server; when that server refuses (the role lacks CREATEDB), on a local cluster
//! started from the machine's server binaries instead.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use haste_driver::{ConnectError, DatabaseUrl};
use haste_sql::quote_ident;

use crate::{Durability, LocalCluster, PgConnection};

/// A database created for one command and dropped when the value is, also after a failure.
pub struct ShadowDatabase {
    admin: PgConnection,
    name: String,
    /// Where it is.
    pub url: DatabaseUrl,
    /// The local cluster holding it, when the server allowed no database of ours.
    local: Option<LocalShadow>,
}

/// A local cluster started for one shadow database, removed with it.
struct LocalShadow {
    cluster: LocalCluster,
    dir: PathBuf,
}

impl Drop for LocalShadow {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const INSUFFICIENT_PRIVILEGE: &str = "42501";

impl ShadowDatabase {
    /// Creates an empty database on the server of `server` (whose own database serves as the
    /// connection to create and drop it), or on a local cluster if the server refuses.
    pub fn create(server: &DatabaseUrl) -> Result<ShadowDatabase, ConnectError> {
        let mut admin = PgConnection::connect(server, "haste/shadow", "haste shadow")?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!("haste_shadow_{}_{:x}", std::process::id(), nanos);
        match admin.execute(&format!("CREATE DATABASE {}", quote_ident(&name))) {
            Ok(()) => {
                let url = server.with_database(&name);
                Ok(ShadowDatabase { admin, name, url, local: None })
            }
            Err(error) if error.sqlstate.as_deref() == Some(INSUFFICIENT_PRIVILEGE) => {
                ShadowDatabase::on_local_cluster(name).map_err(|reason| ConnectError {
                    target: server.redacted(),
                    reason: format!(
                        "cannot create a shadow database ({error}), and no local cluster could be started instead ({reason}); grant CREATEDB or pass --shadow-url"
                    ),
                })
            }
            Err(error) => Err(ConnectError {
                target: server.redacted(),
                reason: format!("cannot create a shadow database (pass --shadow-url): {error}"),
            }),
        }
    }

    fn on_local_cluster(name: String) -> Result<ShadowDatabase, String> {
        let dir = std::env::temp_dir().join(format!("{name}_cluster"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let local = LocalShadow { cluster: LocalCluster::start(&dir, Durability::Off)?, dir };
        let server =
            DatabaseUrl::parse(&format!("{}/postgres", local.cluster.url)).map_err(|e| e.to_string())?;
        let mut admin =
            PgConnection::connect(&server, "haste/shadow", "haste shadow").map_err(|e| e.to_string())?;
        admin.execute(&format!("CREATE DATABASE {}", quote_ident(&name))).map_err(|e| e.to_string())?;
        let url = server.with_database(&name);
        Ok(ShadowDatabase { admin, name, url, local: Some(local) })
    }
}

impl Drop for ShadowDatabase {
    fn drop(&mut self) {
        // A local cluster goes whole, with its database.
        if self.local.is_none() {
            let _ = self
                .admin
                .execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name)));
        }
    }
}

/// `url`'s database, created first when the server says it does not exist (`migrate dev`
/// creates the development database, as Prisma Migrate does). Whether it was created.
pub fn create_database_if_missing(url: &DatabaseUrl) -> Result<bool, ConnectError> {
    let missing = match PgConnection::connect(url, "haste/dev", "haste dev") {
        Ok(_) => return Ok(false),
        Err(error) if error.reason.starts_with(INVALID_CATALOG_NAME) => error,
        Err(error) => return Err(error),
    };
    let Some(name) = url.database() else { return Err(missing) };
    let mut admin = PgConnection::connect(&url.with_database("postgres"), "haste/dev", "haste dev")?;
    admin.execute(&format!("CREATE DATABASE {}", quote_ident(&name))).map_err(|error| ConnectError {
        target: missing.target.clone(),
        reason: format!("{}; creating it failed: {error}", missing.reason),
    })?;
    Ok(true)
}

const INVALID_CATALOG_NAME: &str = "3D000";
