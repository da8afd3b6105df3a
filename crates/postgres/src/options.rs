//! Connection strings as people write them, including what `tokio-postgres` does not read:
//! libpq's `sslmode=verify-ca|verify-full` and `sslrootcert`, and Prisma's `schema`, `sslaccept`
//! and pool settings (`connection_limit`, `pool_timeout`, `pgbouncer`, ...).

use std::path::PathBuf;

use haste_driver::{DatabaseUrl, percent_decode};
use tokio_postgres::Config;

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
    let raw = url.expose();
    let (base, query) = raw.split_once('?').unwrap_or((raw, ""));
    let mut kept: Vec<&str> = Vec::new();
    let mut tls = TlsMode::Prefer;
    let mut root_cert = None;
    let mut schema = None;
    let mut strict = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
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
            key if PRISMA_ONLY.contains(&key) => {}
            _ => kept.push(pair),
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
    let driver_mode = match tls {
        TlsMode::Disable => "disable",
        TlsMode::Prefer => "prefer",
        _ => "require",
    };
    let mut driver_query = kept.clone();
    let sslmode = format!("sslmode={driver_mode}");
    driver_query.push(&sslmode);
    let mut config: Config = format!("{base}?{}", driver_query.join("&"))
        .parse()
        .map_err(|error: tokio_postgres::Error| error.to_string())?;
    if let Some(schema) = &schema {
        // Prisma's `schema` is where unqualified names go: the search path.
        let setting = format!("-c search_path={}", schema.replace('\\', "\\\\").replace(' ', "\\ "));
        let options = match config.get_options() {
            Some(existing) if !existing.is_empty() => format!("{existing} {setting}"),
            _ => setting,
        };
        config.options(&options);
    }
    let mut libpq_query = kept;
    let libpq_sslmode = match tls {
        TlsMode::Disable => "sslmode=disable",
        TlsMode::Prefer => "sslmode=prefer",
        TlsMode::Require => "sslmode=require",
        TlsMode::VerifyCa => "sslmode=verify-ca",
        TlsMode::VerifyFull => "sslmode=verify-full",
    };
    libpq_query.push(libpq_sslmode);
    let root = root_cert.as_ref().map(|path| format!("sslrootcert={}", path.display()));
    if let Some(root) = &root {
        libpq_query.push(root);
    }
    let without_password = DatabaseUrl::parse(&format!("{base}?{}", libpq_query.join("&")))
        .map(|url| url.split_password().0)
        .map_err(|error| error.to_string())?;
    Ok(ConnectionOptions { config, tls, root_cert, libpq_url: without_password })
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
        assert_eq!(parsed.config.get_options(), Some("-c search_path=sales"));
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
}
