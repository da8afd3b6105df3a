//! Shadow databases: temporary databases where a schema written as SQL (or a migration history)
//! is applied so PostgreSQL itself normalizes it before it is introspected. One is created on
//! the given server; when that server refuses (the role lacks CREATEDB), on a local cluster
//! started from the machine's server binaries instead.
//!
//! What runs on a shadow is the user's SQL on the user's server, unreviewed, so it runs as a
//! role made for the shadow ([`Sandbox::Confined`]): a login role with no attribute (not
//! superuser, no CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS) and no membership (so none of
//! `pg_read_server_files`, `pg_write_server_files`, `pg_execute_server_program`,
//! `pg_signal_backend`), owner of the shadow and its `public` schema, dropped with it. Its
//! session logs in as that role: a session that logged in as a superuser and only `SET ROLE`
//! to it could be given its privileges back by the SQL it runs (`RESET ROLE`, `set_config('role',
//! ...)` in SQL built at run time), one that logged in as the role cannot. So the server itself
//! refuses what acts outside the shadow, also SQL assembled at run time inside a function that a
//! static check (`haste_sql::sandbox`) cannot read. The privileged session creates beforehand
//! the extensions the sources need that such a role may not create itself (untrusted ones).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use haste_driver::{ConnectError, DatabaseUrl};
use haste_sql::sandbox::{ExtensionRequest, ShadowNeeds};
use haste_sql::{quote_ident, quote_literal};

use crate::{Durability, LocalCluster, PgConnection};

/// A database created for one command and dropped when the value is, also after a failure.
pub struct ShadowDatabase {
    admin: PgConnection,
    name: String,
    /// Where it is, with the connecting role's credentials (the privileged session's).
    url: DatabaseUrl,
    /// Who the SQL run on it runs as.
    sandbox: Sandbox,
    /// The password of the shadow's own role, when it has one.
    password: Option<String>,
    /// Whether a role was created for it (dropped with it).
    role_created: bool,
    /// The local cluster holding it, when the server allowed no database of ours.
    local: Option<LocalShadow>,
}

/// Who the SQL replayed on a shadow database runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandbox {
    /// A login role of the shadow's own, which may do nothing outside it: the server refuses
    /// the rest, also SQL built at run time.
    Confined {
        /// Its name (the shadow database's).
        role: String,
    },
    /// The connecting role itself, because the server or the sources allowed no role of the
    /// shadow's own (why): only the static check (`haste_sql::sandbox`) stands between the
    /// sources and the server.
    Unconfined {
        /// Why, in words.
        reason: String,
    },
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
    /// connection to create and drop it), or on a local cluster if the server refuses, with a
    /// role of its own for the sources to run as when the server and `needs` allow one.
    pub fn create(server: &DatabaseUrl, needs: &ShadowNeeds) -> Result<ShadowDatabase, ConnectError> {
        let mut admin = PgConnection::connect(server, "haste/shadow", "haste shadow")?;
        sweep_abandoned(&mut admin);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!("{SHADOW_PREFIX}{}_{:x}", std::process::id(), nanos);
        let mut shadow = match admin.execute(&format!("CREATE DATABASE {}", quote_ident(&name))) {
            Ok(()) => ShadowDatabase::new(admin, name, server, None),
            Err(error) if error.sqlstate.as_deref() == Some(INSUFFICIENT_PRIVILEGE) => {
                ShadowDatabase::on_local_cluster(name).map_err(|reason| ConnectError {
                    target: server.redacted(),
                    reason: format!(
                        "cannot create a shadow database ({error}), and no local cluster could be started instead ({reason}); grant CREATEDB or pass --shadow-url"
                    ),
                })?
            }
            Err(error) => {
                return Err(ConnectError {
                    target: server.redacted(),
                    reason: format!("cannot create a shadow database (pass --shadow-url): {error}"),
                });
            }
        };
        create_missing_roles(&mut shadow.admin, &needs.roles);
        shadow.sandbox = match &needs.other_role {
            Some(statement) => Sandbox::Unconfined {
                reason: format!("{statement}, which a role of the shadow's own may not do"),
            },
            None => match shadow.confine(&needs.extensions) {
                Ok(role) => Sandbox::Confined { role },
                Err(reason) => Sandbox::Unconfined { reason },
            },
        };
        Ok(shadow)
    }

    fn new(admin: PgConnection, name: String, server: &DatabaseUrl, local: Option<LocalShadow>) -> Self {
        let url = server.with_database(&name);
        let sandbox = Sandbox::Unconfined { reason: String::new() };
        ShadowDatabase { admin, name, url, sandbox, password: None, role_created: false, local }
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
        Ok(ShadowDatabase::new(admin, name, &server, Some(local)))
    }

    /// Who the sources run as.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// A session on the shadow database for the sources to run in: logged in as its own role
    /// when it has one, else as the connecting role.
    pub fn connect(&self, application_name: &str, lock_scope: &str) -> Result<PgConnection, ConnectError> {
        match (&self.sandbox, &self.password) {
            (Sandbox::Confined { role }, Some(password)) => {
                PgConnection::connect_as(&self.url, role, password, application_name, lock_scope)
            }
            _ => PgConnection::connect(&self.url, application_name, lock_scope),
        }
    }

    /// Makes the shadow's own role, gives it the shadow, creates the extensions it may not
    /// create itself, and checks that it can log in. Its name, or why it cannot be had.
    fn confine(&mut self, extensions: &[ExtensionRequest]) -> Result<String, String> {
        let role = self.name.clone();
        let mut random = [0u8; 24];
        getrandom::fill(&mut random)
            .map_err(|error| format!("no random password could be made ({error})"))?;
        let password: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        // The server is handed a SCRAM verifier, never the password: statement logs show nothing usable.
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        self.admin
            .execute(&format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}",
                quote_ident(&role),
                quote_literal(&verifier)
            ))
            .map_err(|error| format!("the connecting role may not create a role for the shadow ({error})"))?;
        self.role_created = true;
        let give = format!("ALTER DATABASE {} OWNER TO {}", quote_ident(&self.name), quote_ident(&role));
        if self.admin.execute(&give).is_err() {
            // Not a superuser: a database goes only to a role one may act as.
            self.admin
                .execute(&format!("GRANT {} TO CURRENT_USER", quote_ident(&role)))
                .and_then(|()| self.admin.execute(&give))
                .map_err(|error| format!("the shadow could not be given to its own role ({error})"))?;
        }
        let mut inside =
            PgConnection::connect(&self.url, "haste/shadow", "haste shadow").map_err(|error| error.reason)?;
        // Before PostgreSQL 15, `public` belongs to the bootstrap superuser, not to the database's owner.
        let public_owner = inside
            .value("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'")
            .map_err(|error| error.to_string())?;
        if public_owner.is_some_and(|owner| owner != "pg_database_owner") {
            inside.execute(&format!("ALTER SCHEMA public OWNER TO {}", quote_ident(&role))).map_err(
                |error| format!("the public schema could not be given to the shadow's role ({error})"),
            )?;
        }
        for extension in extensions {
            create_untrusted(&mut inside, extension, extensions)?;
        }
        drop(inside);
        self.password = Some(password);
        PgConnection::connect_as(
            &self.url,
            &role,
            self.password.as_deref().unwrap_or_default(),
            "haste/shadow",
            "",
        )
        .map_err(|error| format!("the server refused a login as the shadow's own role ({})", error.reason))?;
        Ok(role)
    }
}

/// Creates `extension` in the privileged session when only a superuser may create it (the
/// shadow's role creates trusted ones itself, as the sources say). A source that creates it
/// without `IF NOT EXISTS` would then fail: such sources cannot run confined.
fn create_untrusted(
    inside: &mut PgConnection,
    extension: &ExtensionRequest,
    all: &[ExtensionRequest],
) -> Result<(), String> {
    let version = extension.version.as_deref().map_or("e.default_version".to_owned(), quote_literal);
    let superuser_only = inside
        .value(&format!(
            "SELECT v.superuser AND NOT v.trusted FROM pg_available_extensions e \
             JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = {version} \
             WHERE e.name = {}",
            quote_literal(&extension.name)
        ))
        .map_err(|error| error.to_string())?;
    // Not available at all: the source's own statement says so when it runs.
    if superuser_only.as_deref() != Some("t") {
        return Ok(());
    }
    if all.iter().any(|other| other.name == extension.name && !other.if_not_exists) {
        return Err(format!(
            "a source creates extension {} without IF NOT EXISTS, and only a superuser may create it",
            extension.name
        ));
    }
    let mut statement = format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(&extension.name));
    if let Some(schema) = &extension.schema {
        statement.push_str(&format!(" SCHEMA {}", quote_ident(schema)));
    }
    if let Some(version) = &extension.version {
        statement.push_str(&format!(" VERSION {}", quote_literal(version)));
    }
    statement.push_str(" CASCADE");
    inside.execute(&statement).map_err(|error| {
        format!("extension {} could not be created for the shadow ({error})", extension.name)
    })
}

/// Creates the roles the sources grant to that the shadow's server lacks, as `NOLOGIN` roles
/// with no attribute: a history that grants to `app_ro` must replay where `app_ro` was never
/// made (a local cluster, a fresh CI server). Roles belong to the whole server, so they stay
/// when the shadow goes (dropping one would race with another shadow granting to it), and
/// privileges are all they ever get, inside shadows. Best effort: where the connecting role
/// may not create roles, the statement granting to a missing one fails, naming it.
fn create_missing_roles(admin: &mut PgConnection, roles: &[String]) {
    for role in roles {
        let exists = admin.value(&format!("SELECT 1 FROM pg_roles WHERE rolname = {}", quote_literal(role)));
        if matches!(exists, Ok(None)) {
            // Another run may create it meanwhile: its error changes nothing.
            let _ = admin.execute(&format!("CREATE ROLE {} NOLOGIN", quote_ident(role)));
        }
    }
}

/// Every shadow database, and its role, is named `haste_shadow_<pid>_<creation time in ns, hex>`.
const SHADOW_PREFIX: &str = "haste_shadow_";

/// How old a shadow with nobody connected must be before a later run drops it: a run holds a
/// session on its shadow for as long as the shadow lives, and this leaves a wide margin for
/// another machine's clock.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// When a shadow was created, from its name.
fn created_at(name: &str) -> Option<std::time::Duration> {
    let (_, hex) = name.strip_prefix(SHADOW_PREFIX)?.rsplit_once('_')?;
    u128::from_str_radix(hex, 16)
        .ok()
        .map(|nanos| std::time::Duration::from_nanos(nanos.min(u64::MAX as u128) as u64))
}

/// Drops the shadow databases and roles a killed run left behind (its `Drop` never ran): those
/// older than [`ABANDONED_AFTER`] with no session connected. Best effort: a shadow someone
/// connects to meanwhile refuses the drop and stays.
fn sweep_abandoned(admin: &mut PgConnection) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let abandoned =
        |name: &str| created_at(name).is_some_and(|created| now.saturating_sub(created) > ABANDONED_AFTER);
    let pattern = quote_literal(&format!("{}%", SHADOW_PREFIX.replace('_', "\\_")));
    // Databases first (a role cannot go while it owns one), then roles left without theirs.
    let kinds = [
        (
            "DATABASE",
            "SELECT datname FROM pg_database d WHERE datname LIKE {pattern} AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
        ),
        (
            "ROLE",
            "SELECT rolname FROM pg_roles r WHERE rolname LIKE {pattern} AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = r.rolname)",
        ),
    ];
    for (kind, query) in kinds {
        let names = admin.rows(&query.replace("{pattern}", &pattern)).unwrap_or_default();
        for name in names.into_iter().flatten().flatten().filter(|name| abandoned(name)) {
            let _ = admin.execute(&format!("DROP {kind} IF EXISTS {}", quote_ident(&name)));
        }
    }
}

impl Drop for ShadowDatabase {
    fn drop(&mut self) {
        // A local cluster goes whole, with its database and role.
        if self.local.is_none() {
            let _ = self
                .admin
                .execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name)));
            if self.role_created {
                let _ = self.admin.execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(&self.name)));
            }
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
