//! Shadow databases: temporary databases on a server, where a schema written as SQL (or a
//! migration history) is applied so PostgreSQL itself normalizes it before it is introspected.

use std::time::{SystemTime, UNIX_EPOCH};

use haste_driver::{ConnectError, DatabaseUrl};
use haste_sql::quote_ident;

use crate::PgConnection;

/// A database created for one command and dropped when the value is, also after a failure.
pub struct ShadowDatabase {
    admin: PgConnection,
    name: String,
    /// Where it is.
    pub url: DatabaseUrl,
}

impl ShadowDatabase {
    /// Creates an empty database on the server of `server` (whose own database serves as the
    /// connection to create and drop it).
    pub fn create(server: &DatabaseUrl) -> Result<ShadowDatabase, ConnectError> {
        let mut admin = PgConnection::connect(server, "haste/shadow", "haste shadow")?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!("haste_shadow_{}_{:x}", std::process::id(), nanos);
        admin.execute(&format!("CREATE DATABASE {}", quote_ident(&name))).map_err(|error| ConnectError {
            target: server.redacted(),
            reason: format!(
                "cannot create a shadow database (the role needs CREATEDB, or pass --shadow-url): {error}"
            ),
        })?;
        let url = server.with_database(&name);
        Ok(ShadowDatabase { admin, name, url })
    }
}

impl Drop for ShadowDatabase {
    fn drop(&mut self) {
        let _ =
            self.admin.execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name)));
    }
}
