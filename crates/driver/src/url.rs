//! Connection strings that keep their password to themselves.

use std::fmt;

/// A database URL: `postgres://user:password@host:port/db?...`, `postgresql://...`, or
/// `sqlite:path` / `sqlite://path`. Displaying, debugging or serializing it never shows the
/// password; only a driver opening a connection reads [`DatabaseUrl::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    scheme: Scheme,
}

/// The database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A URL haste cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL `{redacted}`: {reason}")]
pub struct UrlError {
    /// The URL as given, password redacted.
    pub redacted: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

const MASK: &str = "***";

impl DatabaseUrl {
    /// Recognizes the scheme; the driver checks the rest when it connects.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, UrlError> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        let scheme = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Scheme::Postgres
        } else if lower.starts_with("sqlite:") || lower.starts_with("file:") {
            Scheme::Sqlite
        } else {
            return Err(UrlError {
                redacted: redact(raw),
                reason: "expected postgres://, postgresql:// or sqlite:",
            });
        };
        Ok(DatabaseUrl { raw: raw.to_owned(), scheme })
    }

    /// Which database the URL points at.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The URL with its password: for drivers opening a connection, nothing else.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// `text` with every occurrence of this URL's password replaced by `***`: for messages that
    /// come from elsewhere (a server, a library) and might quote it.
    pub fn scrub(&self, text: &str) -> String {
        // A password of one or two characters would mask ordinary text everywhere.
        self.passwords()
            .filter(|password| password.len() >= 3)
            .fold(text.to_owned(), |text, password| text.replace(password, MASK))
    }

    /// The same server and credentials, another database (PostgreSQL URLs).
    pub fn with_database(&self, database: &str) -> DatabaseUrl {
        let (base, query) = self.raw.split_once('?').map_or((self.raw.as_str(), None), |(b, q)| (b, Some(q)));
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
        let mut raw = format!("{}/{database}", &base[..path_start]);
        if let Some(query) = query {
            raw.push('?');
            raw.push_str(query);
        }
        DatabaseUrl { raw, scheme: self.scheme }
    }

    /// The database a PostgreSQL URL names (percent-decoded), if it names one.
    pub fn database(&self) -> Option<String> {
        let base = self.raw.split_once('?').map_or(self.raw.as_str(), |(b, _)| b);
        let authority_start = base.find("://")? + 3;
        let path = &base[authority_start..][base[authority_start..].find('/')? + 1..];
        (!path.is_empty()).then(|| percent_decode(path))
    }

    /// The value of query parameter `name` (percent-decoded), such as Prisma's `schema`.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.raw.split_once('?')?.1;
        query.split('&').find_map(|pair| match pair.split_once('=') {
            Some((key, value)) if key == name => Some(percent_decode(value)),
            _ => None,
        })
    }

    /// The URL without its password, and the password (percent-decoded), for handing to an
    /// external tool such as `pg_dump`: the URL on its command line, the password in its
    /// environment (`PGPASSWORD`), where `ps` does not show it.
    pub fn split_password(&self) -> (String, Option<String>) {
        let mut url = self.raw.clone();
        let mut password = None;
        if let Some((start, end)) = query_password(&url) {
            password = Some(percent_decode(&url[start..end]));
            // Remove the whole `password=...` parameter.
            let key_start = start - "password=".len();
            let end = if url[end..].starts_with('&') { end + 1 } else { end };
            url.replace_range(key_start..end, "");
            url = url.trim_end_matches(['&', '?']).to_owned();
        }
        if let Some((start, end)) = userinfo_password(&url).filter(|(start, end)| start < end) {
            password = Some(percent_decode(&url[start..end]));
            url.replace_range(start - 1..end, "");
        }
        (url, password)
    }

    /// The passwords as written: in the user info and in a `password=` parameter (a URL may
    /// hold both; each must be scrubbed).
    fn passwords(&self) -> impl Iterator<Item = &str> {
        [userinfo_password(&self.raw), query_password(&self.raw)]
            .into_iter()
            .flatten()
            .map(|(start, end)| &self.raw[start..end])
    }
}

/// Byte range of the password in `scheme://user:password@host`.
fn userinfo_password(raw: &str) -> Option<(usize, usize)> {
    let authority_start = raw.find("://")? + 3;
    let authority_len = raw[authority_start..].find(['/', '?', '#']).unwrap_or(raw.len() - authority_start);
    let authority = &raw[authority_start..authority_start + authority_len];
    // The last `@` ends the user info: passwords may contain `@` when not percent-encoded.
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    Some((authority_start + colon + 1, authority_start + at))
}

/// Byte range of the value of a `password=` parameter.
fn query_password(raw: &str) -> Option<(usize, usize)> {
    let lower = raw.to_ascii_lowercase();
    let key = lower
        .match_indices("password=")
        .find(|(i, _)| *i == 0 || matches!(raw.as_bytes()[i - 1], b'?' | b'&' | b' '))?;
    let start = key.0 + "password=".len();
    let end = raw[start..].find(['&', ' ', '#']).map_or(raw.len(), |n| start + n);
    Some((start, end))
}

/// Decodes `%XX` escapes (invalid UTF-8 is replaced).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn redact(raw: &str) -> String {
    let mut text = raw.to_owned();
    // Query first: its range lies after the user info, so replacing it keeps the other valid.
    if let Some((start, end)) = query_password(&text) {
        text.replace_range(start..end, MASK);
    }
    if let Some((start, end)) = userinfo_password(&text) {
        text.replace_range(start..end, MASK);
    }
    text
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl serde::Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_user_info_password_does_not_hide_the_query_one() {
        // Found by tests/fuzz.rs.
        let url = DatabaseUrl::parse("postgres://user:@host/db?password=s3cret&x=1").unwrap();
        assert_eq!(url.scrub("auth failed for s3cret"), "auth failed for ***");
        assert_eq!(url.split_password().1.as_deref(), Some("s3cret"));
    }

    #[test]
    fn never_shows_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cr@t!@db.example:5432/crm?sslmode=disable").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.example:5432/crm?sslmode=disable");
        assert!(!format!("{url:?}").contains("s3cr"));
        assert_eq!(url.scrub("failed for s3cr@t! here"), "failed for *** here");
        let url = DatabaseUrl::parse("postgresql://db/crm?user=app&password=hunter2&x=1").unwrap();
        assert_eq!(url.redacted(), "postgresql://db/crm?user=app&password=***&x=1");
        let url = DatabaseUrl::parse("postgres://app@db/crm").unwrap();
        assert_eq!(url.redacted(), "postgres://app@db/crm");
    }

    #[test]
    fn splits_the_password_off_for_external_tools() {
        let url = DatabaseUrl::parse("postgres://app:p%40ss@db:5432/crm?sslmode=disable").unwrap();
        assert_eq!(
            url.split_password(),
            ("postgres://app@db:5432/crm?sslmode=disable".into(), Some("p@ss".into()))
        );
        let url = DatabaseUrl::parse("postgres://db/crm?password=x&user=app").unwrap();
        assert_eq!(url.split_password(), ("postgres://db/crm?user=app".into(), Some("x".into())));
        let url = DatabaseUrl::parse("postgres://app@db/crm").unwrap();
        assert_eq!(url.split_password(), ("postgres://app@db/crm".into(), None));
        let url = DatabaseUrl::parse("postgres://app@db/crm?schema=my%20crm&x=1").unwrap();
        assert_eq!(url.param("schema").as_deref(), Some("my crm"));
        assert_eq!(url.param("y"), None);
    }

    #[test]
    fn points_at_another_database_on_the_same_server() {
        let url = DatabaseUrl::parse("postgres://app:pw@db:5432/crm?sslmode=require").unwrap();
        assert_eq!(url.with_database("shadow").expose(), "postgres://app:pw@db:5432/shadow?sslmode=require");
        let url = DatabaseUrl::parse("postgres://db").unwrap();
        assert_eq!(url.with_database("shadow").expose(), "postgres://db/shadow");
        assert_eq!(url.database(), None);
        let url = DatabaseUrl::parse("postgres://app:pw@db:5432/my%20crm?sslmode=require").unwrap();
        assert_eq!(url.database().as_deref(), Some("my crm"));
    }

    #[test]
    fn knows_its_scheme() {
        assert_eq!(DatabaseUrl::parse("sqlite:dev.db").unwrap().scheme(), Scheme::Sqlite);
        assert_eq!(DatabaseUrl::parse("POSTGRES://h/d").unwrap().scheme(), Scheme::Postgres);
        let error = DatabaseUrl::parse("mysql://u:topsecret@h/d").unwrap_err();
        assert!(!error.to_string().contains("topsecret"));
    }
}
