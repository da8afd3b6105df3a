//! Connection strings as people write them, including what `tokio-postgres` does not read:
//! libpq's `sslmode=verify-ca|verify-full` and `sslrootcert`, and Prisma's `schema`, `sslaccept`
//! and pool settings (`connection_limit`, `pool_timeout`, `pgbouncer`, ...).

use std::net::IpAddr;
use std::path::PathBuf;

use haste_driver::DatabaseUrl;
use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// How to use TLS, in libpq's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Never.
    Disable,
    /// If the server offers it; the certificate is not checked (libpq `prefer`, the default).
    Prefer,
    /// Always; the certificate is not checked (libpq `require` without a root certificate).
    Require,
    /// Always; the certificate must chain to a trusted root.
    VerifyCa,
    /// Always; the certificate must chain to a trusted root and name the host.
    VerifyFull,
}

/// A parsed connection string.
pub(crate) struct ConnectionOptions {
    pub config: Config,
    pub tls: TlsMode,
    /// `sslrootcert`: the roots to trust instead of the system's.
    pub root_cert: Option<PathBuf>,
    /// The URL as libpq tools (`pg_dump`) read it: without the password and without Prisma's
    /// parameters.
    pub libpq_url: String,
}

/// Parameters Prisma reads for its own pool and engine; PostgreSQL never sees them.
const PRISMA_ONLY: &[&str] = &[
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "statement_cache_size",
    "socket_timeout",
    "sslidentity",
];

pub(crate) fn parse(url: &DatabaseUrl) -> Result<ConnectionOptions, String> {
    // The driver never sees the password in the string, so it cannot read a raw `@` in it
    // otherwise than the redaction does.
    let (without_password, password) = url.split_password();
    let mut tls = TlsMode::Prefer;
    let mut root_cert = None;
    let mut schema = None;
    let mut strict = None;
    for (key, value) in without_password.params() {
        match key.as_str() {
            "sslmode" => {
                tls = match value.as_str() {
                    "disable" => TlsMode::Disable,
                    "allow" | "prefer" => TlsMode::Prefer,
                    "require" => TlsMode::Require,
                    "verify-ca" => TlsMode::VerifyCa,
                    "verify-full" => TlsMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "unknown sslmode `{other}` (disable, prefer, require, verify-ca, verify-full)"
                        ));
                    }
                };
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(value)),
            "sslaccept" => strict = Some(value == "strict"),
            "schema" => schema = Some(value),
            "sslcert" | "sslkey" | "sslpassword" => {
                return Err(format!("`{key}`: client certificates are not supported yet"));
            }
            _ => {}
        }
    }
    // libpq: `require` with a root certificate file behaves like `verify-ca`. Prisma: `sslaccept=strict`
    // checks the certificate fully.
    if tls == TlsMode::Require && root_cert.is_some() {
        tls = TlsMode::VerifyCa;
    }
    if strict == Some(true) && matches!(tls, TlsMode::Prefer | TlsMode::Require) {
        tls = TlsMode::VerifyFull;
    }
    let libpq_only = |key: &str| {
        !matches!(key, "sslmode" | "sslrootcert" | "sslaccept" | "schema") && !PRISMA_ONLY.contains(&key)
    };
    let driver_mode = match tls {
        TlsMode::Disable => "disable",
        TlsMode::Prefer => "prefer",
        _ => "require",
    };
    let mut config: Config = without_password
        .with_params(libpq_only, &[("sslmode", driver_mode)])
        .expose()
        .parse()
        .map_err(|error: tokio_postgres::Error| error.to_string())?;
    if let Some(password) = &password {
        config.password(password);
    }
    if let Some(schema) = &schema {
        // Prisma's `schema` is where unqualified names go: the search path. Quoted, as the
        // history schema and Prisma's statements name it, so `Tenant` is not folded to `tenant`.
        add_startup_settings(&mut config, &[("search_path", haste_sql::quote_ident(schema))]);
    }
    let libpq_sslmode = match tls {
        TlsMode::Disable => "disable",
        TlsMode::Prefer => "prefer",
        TlsMode::Require => "require",
        TlsMode::VerifyCa => "verify-ca",
        TlsMode::VerifyFull => "verify-full",
    };
    let root = root_cert.as_ref().map(|path| path.display().to_string());
    let mut libpq_params = vec![("sslmode", libpq_sslmode)];
    libpq_params.extend(root.as_deref().map(|root| ("sslrootcert", root)));
    let libpq_url = without_password.with_params(libpq_only, &libpq_params).expose().to_owned();
    Ok(ConnectionOptions { config, tls, root_cert, libpq_url })
}

/// Adds `settings` to the startup options (`-c name=value` each, after the URL's own, so they
/// win), each value escaped as the server reads options: a backslash before `\` and spaces.
pub(crate) fn add_startup_settings(config: &mut Config, settings: &[(&str, String)]) {
    if settings.is_empty() {
        return;
    }
    let mut options = config.get_options().unwrap_or_default().to_owned();
    for (name, value) in settings {
        let escaped = value.replace('\\', "\\\\").replace(' ', "\\ ");
        if !options.is_empty() {
            options.push(' ');
        }
        options.push_str(&format!("-c {name}={escaped}"));
    }
    config.options(&options);
}

/// Where a connection string leads, as the driver reads it: its hosts (and `hostaddr`s), ports
/// and database (libpq's default: the user's name), whoever logs in. Two strings with one
/// identity name one database, however they are spelled (`postgresql://`, key/value, other
/// parameters). Names are not resolved: `localhost` and `127.0.0.1` differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatabaseIdentity {
    hosts: Vec<String>,
    hostaddrs: Vec<IpAddr>,
    ports: Vec<u16>,
    database: String,
}

/// `url`'s [`DatabaseIdentity`], or why the driver cannot read it (a message that never holds
/// the password: the driver reads the string without it).
pub fn database_identity(url: &DatabaseUrl) -> Result<DatabaseIdentity, String> {
    let config = parse(url)?.config;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.to_ascii_lowercase(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    // As the driver pairs them when it connects: one port for every host, or one per host.
    let ports = match config.get_ports() {
        [] => vec![DEFAULT_PORT; hosts.len().max(1)],
        [port] => vec![*port; hosts.len().max(1)],
        ports if ports.len() == hosts.len() => ports.to_vec(),
        _ => return Err("invalid configuration: a port for each host, or one for all".into()),
    };
    let database = config.get_dbname().or(config.get_user()).unwrap_or_default().to_owned();
    Ok(DatabaseIdentity { hosts, hostaddrs: config.get_hostaddrs().to_vec(), ports, database })
}

/// The port libpq and `tokio-postgres` use when none is given.
const DEFAULT_PORT: u16 = 5432;

/// Whether every server `url` names is on this machine: each host (and `hostaddr`, which is
/// where libpq and `tokio-postgres` really connect when it is given) a loopback address,
/// `localhost` or a Unix socket. No host at all is libpq's default, the Unix socket. Names are
/// not resolved: `db` is remote even when /etc/hosts maps it to 127.0.0.1. A string that does
/// not parse is remote (it connects nowhere).
///
/// The one place that decides it, read from the same `Config` the connection is opened with,
/// so the environment guards key on where the connection really goes.
pub fn is_local_target(url: &DatabaseUrl) -> bool {
    parse(url).is_ok_and(|options| connects_only_to_this_machine(&options.config))
}

fn connects_only_to_this_machine(config: &Config) -> bool {
    let loopback = |address: IpAddr| address.to_canonical().is_loopback();
    config.get_hosts().iter().all(|host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.is_empty() || name.eq_ignore_ascii_case("localhost") || name.parse().is_ok_and(loopback)
        }
    }) && config.get_hostaddrs().iter().copied().all(loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> ConnectionOptions {
        parse(&DatabaseUrl::parse(url).unwrap()).unwrap()
    }

    #[test]
    fn reads_prisma_urls_and_libpq_tls_modes() {
        let parsed = options(
            "postgresql://app:pw@db:5432/crm?schema=sales&connection_limit=5&pgbouncer=true&sslmode=require",
        );
        assert_eq!(parsed.tls, TlsMode::Require);
        assert_eq!(parsed.config.get_options(), Some("-c search_path=\"sales\""));
        assert_eq!(parsed.libpq_url, "postgresql://app@db:5432/crm?sslmode=require");
        assert_eq!(
            options("postgres://db/crm?sslmode=verify-full&sslrootcert=/ca.pem").tls,
            TlsMode::VerifyFull
        );
        assert_eq!(options("postgres://db/crm?sslmode=require&sslrootcert=/ca.pem").tls, TlsMode::VerifyCa);
        assert_eq!(options("postgres://db/crm?sslaccept=strict&sslmode=require").tls, TlsMode::VerifyFull);
        assert_eq!(options("postgres://db/crm").tls, TlsMode::Prefer);
        assert_eq!(
            options("postgres://db/crm?application_name=x&sslmode=disable").libpq_url,
            "postgres://db/crm?application_name=x&sslmode=disable"
        );
        assert!(parse(&DatabaseUrl::parse("postgres://db/crm?sslmode=sometimes").unwrap()).is_err());
        assert!(parse(&DatabaseUrl::parse("postgres://db/crm?sslcert=/c.pem").unwrap()).is_err());
    }

    #[test]
    fn a_target_is_local_only_when_every_host_is_on_this_machine() {
        let cases = [
            ("postgres://app:pw@localhost:5432/crm", true),
            ("postgres://app:pw@LOCALHOST/crm", true),
            ("postgres://app:pw@127.0.0.1/crm", true),
            ("postgres://app:pw@127.8.9.10:6543/crm", true),
            ("postgres://app:pw@[::1]:5432/crm", true),
            ("postgres://app@/crm", true),
            ("postgres:///crm", true),
            ("postgres://%2Fvar%2Frun%2Fpostgresql/crm", true),
            ("postgres://app@/crm?host=/var/run/postgresql", true),
            ("postgres://app@/crm?host=%2Ftmp", true),
            ("postgres://app@localhost/crm?hostaddr=127.0.0.1", true),
            ("postgres://app@h1,h2/crm?host=localhost", false),
            ("postgres://app@localhost,127.0.0.1:5433/crm", true),
            ("postgres://app@db.example/crm", false),
            ("postgres://app@10.1.2.3/crm", false),
            ("postgres://user@/db?host=10.1.2.3&port=5432", false),
            ("postgres://app@localhost/crm?hostaddr=10.1.2.3", false),
            ("postgres://app@localhost,10.1.2.3/crm", false),
            ("postgres://app@[2001:db8::1]/crm", false),
            ("postgres://app@localhost.evil.com/crm", false),
            ("postgres://app@127.0.0.1.evil.com/crm", false),
            ("postgres://app:p@ss@10.1.2.3/crm", false),
            ("postgres://app:p@ss@localhost/crm", true),
            ("postgres://app:ab/cd@10.1.2.3/crm", false),
            ("postgres://app:Zq9@Secr3t/Pw@localhost/crm", true),
            ("postgres://app:Zq9@localhost/Pw@10.1.2.3/crm", false),
            ("postgres://localhost/crm?application_name=a@10.1.2.3", true),
            ("postgres://localhost/crm?schema=s&connection_limit=1&pgbouncer=true&sslaccept=strict", true),
            ("postgres://10.1.2.3/crm?schema=s&connection_limit=1", false),
            ("host=localhost dbname=crm", true),
            ("host=/var/run/postgresql dbname=crm password=x", true),
            ("dbname=crm", true),
            ("host=10.0.0.1 dbname=x", false),
            ("host='localhost' hostaddr=10.0.0.1 dbname=x", false),
            ("host=localhost,db.example dbname=x", false),
            ("host=::1 dbname=x", true),
            ("host=localhost dbname=x schema=s connection_limit=3", true),
            // Unreadable: the connection fails; never counted as local.
            ("postgres://localhost/crm?sslmode=sometimes", false),
            ("host=localhost dbname", false),
        ];
        for (raw, local) in cases {
            assert_eq!(is_local_target(&DatabaseUrl::parse(raw).unwrap()), local, "{raw}");
        }
    }

    #[test]
    fn the_driver_and_pg_dump_read_the_host_the_redaction_reads() {
        let parsed = options("postgres://app:p@ss@10.1.2.3/crm?application_name=me@home");
        assert_eq!(parsed.config.get_hosts(), [Host::Tcp("10.1.2.3".into())]);
        assert_eq!(parsed.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(parsed.config.get_user(), Some("app"));
        assert_eq!(parsed.config.get_application_name(), Some("me@home"));
        assert_eq!(parsed.libpq_url, "postgres://app@10.1.2.3/crm?application_name=me%40home&sslmode=prefer");
        let parsed = options("host=db user=app password='a b' dbname=crm schema=s sslmode=verify-full");
        assert_eq!(parsed.config.get_password(), Some(&b"a b"[..]));
        assert_eq!(parsed.config.get_dbname(), Some("crm"));
        assert_eq!(parsed.tls, TlsMode::VerifyFull);
        assert_eq!(parsed.libpq_url, "host=db user=app dbname=crm sslmode='verify-full'");
    }
}
