//! Connection strings that keep their password to themselves.
//!
//! This module knows where the parts of a connection string are (user info, password,
//! parameters), so that the password can be hidden and parameters added or removed; what the
//! parts mean (hosts, ports, sockets) is read by the driver's own parser (`tokio-postgres` for
//! PostgreSQL), never here.
//!
//! Where the user info ends: at the last `@` before the query, the query starting at the first
//! `?` after the first `@`. So a password may hold a raw `@` (as Prisma, whose URL parser takes
//! the last `@` of the authority, reads it), a raw `/` (as `tokio-postgres`, which takes the
//! first `@`, reads it), and a raw `?` before its first `@`; a query may hold `@` and `/`. An
//! `@` in the database name must be written `%40`. The driver is handed the URL without its
//! password and with every other `@` percent-encoded ([`DatabaseUrl::split_password`]), so it
//! finds the host exactly where the redaction does.

use std::fmt;
use std::ops::Range;

/// A connection string: a PostgreSQL URL (`postgres://user:password@host:port/db?...`,
/// `postgresql://...`), libpq's key/value form (`host=... dbname=... password=...`), or a SQLite
/// URL (`sqlite:path`, `sqlite://path`, `file:path`). Displaying, debugging or serializing it
/// never shows the password; only a driver opening a connection reads [`DatabaseUrl::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    scheme: Scheme,
    form: Form,
}

/// The database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// How a connection string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `scheme://user:password@host/path?key=value&...` (or `sqlite:path`).
    Url,
    /// libpq's `key=value key='quoted value' ...`.
    Keywords,
}

/// A connection string haste cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL {shown}: {reason}")]
pub struct UrlError {
    /// What may be shown of it: its scheme only, since a string haste cannot read could hold a
    /// password anywhere.
    pub shown: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

const MASK: &str = "***";

impl DatabaseUrl {
    /// Recognizes the scheme (a string without one that holds `=` is libpq's key/value form, as
    /// libpq reads it); the driver checks the rest when it connects.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, UrlError> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        let (scheme, form) = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            (Scheme::Postgres, Form::Url)
        } else if lower.starts_with("sqlite:") || lower.starts_with("file:") {
            (Scheme::Sqlite, Form::Url)
        } else if !raw.contains("://") && raw.contains('=') {
            (Scheme::Postgres, Form::Keywords)
        } else {
            let shown = match raw.split_once("://") {
                Some((scheme, _)) => format!("`{scheme}://...`"),
                None => "(no scheme)".to_owned(),
            };
            return Err(UrlError {
                shown,
                reason: "expected postgres://, postgresql://, key=value pairs or sqlite:",
            });
        };
        let url = DatabaseUrl { raw: raw.to_owned(), scheme, form };
        let refused = |shown: &str, reason| Err(UrlError { shown: shown.to_owned(), reason });
        if scheme == Scheme::Sqlite
            && ["sqlite://", "sqlite:", "file://", "file:"]
                .iter()
                .find_map(|prefix| lower.strip_prefix(prefix))
                .is_some_and(|rest| rest.split('?').next() == Some(""))
        {
            // SQLite would open a temporary database and drop it, with everything applied.
            return refused("`sqlite:`", "no file named after `sqlite:`");
        }
        let schemas: Vec<String> =
            url.params().into_iter().filter(|(key, _)| key == "schema").map(|(_, value)| value).collect();
        match schemas.as_slice() {
            [] => {}
            [name] if name.is_empty() => return refused("(schema=)", "the schema parameter is empty"),
            [_] => {}
            _ => return refused("(schema=...)", "the schema parameter is given more than once"),
        }
        Ok(url)
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
        let mut text = self.raw.clone();
        // From the end, so the ranges before stay valid.
        for range in self.hidden_ranges().into_iter().rev() {
            text.replace_range(range, MASK);
        }
        text
    }

    /// `text` with every occurrence of this URL's password (as written, and decoded) replaced
    /// by `***`: for messages that come from elsewhere (a server, a library) and might quote it.
    pub fn scrub(&self, text: &str) -> String {
        self.scrub_encoded(text, str::to_owned)
    }

    /// [`scrub`](Self::scrub) for text that quotes through an encoding (`encode`; HTML escaping
    /// for a page, where a password's `&` is written `&amp;`).
    pub fn scrub_encoded(&self, text: &str, encode: impl Fn(&str) -> String) -> String {
        let mut text = text.to_owned();
        for range in self.hidden_ranges() {
            let written = &self.raw[range];
            for password in [self.decode_value(written), written.to_owned()] {
                // Shorter ones would mask ordinary words.
                if password.len() >= 3 {
                    text = text.replace(&encode(&password), MASK);
                }
            }
        }
        text
    }

    /// The same server and credentials, another database (PostgreSQL).
    pub fn with_database(&self, database: &str) -> DatabaseUrl {
        if self.form == Form::Keywords {
            return self.with_params(|key| key != "dbname", &[("dbname", database)]);
        }
        let path_start = self.path_start();
        let query_start = self.query_start();
        let mut raw = format!("{}/{}", &self.raw[..path_start], percent_encode(database));
        raw.push_str(&self.raw[query_start..]);
        DatabaseUrl { raw, ..self.clone() }
    }

    /// The database a PostgreSQL connection string names (decoded), if it names one.
    pub fn database(&self) -> Option<String> {
        if self.form == Form::Keywords {
            return self.param("dbname");
        }
        let path = self.raw.get(self.path_start() + 1..self.query_start())?;
        (!path.is_empty()).then(|| percent_decode(path))
    }

    /// The value of parameter `name` (decoded), such as Prisma's `schema`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params().into_iter().find_map(|(key, value)| (key == name).then_some(value))
    }

    /// The parameters (the query of a URL, every pair of the key/value form), decoded, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        self.param_ranges()
            .into_iter()
            .map(|(key, value)| (self.decode_value(&self.raw[key]), self.decode_value(&self.raw[value])))
            .collect()
    }

    /// The same connection string with only the parameters `keep` accepts, then `add` (encoded
    /// or quoted as the form needs).
    pub fn with_params(&self, keep: impl Fn(&str) -> bool, add: &[(&str, &str)]) -> DatabaseUrl {
        let kept = self
            .param_ranges()
            .into_iter()
            .filter(|(key, _)| keep(&self.decode_value(&self.raw[key.clone()])));
        let raw = match self.form {
            Form::Keywords => {
                let mut pairs: Vec<String> =
                    kept.map(|(key, value)| self.raw[key.start..value.end].to_owned()).collect();
                pairs.extend(add.iter().map(|(key, value)| {
                    format!("{key}='{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
                }));
                // What is not a pair stays, for the driver to refuse.
                pairs.extend(self.unread().map(|range| self.raw[range].trim().to_owned()));
                pairs.join(" ")
            }
            Form::Url => {
                let mut pairs: Vec<String> =
                    kept.map(|(key, value)| self.raw[key.start..value.end].to_owned()).collect();
                pairs.extend(add.iter().map(|(key, value)| format!("{key}={}", percent_encode(value))));
                let base = &self.raw[..self.query_start()];
                if pairs.is_empty() { base.to_owned() } else { format!("{base}?{}", pairs.join("&")) }
            }
        };
        DatabaseUrl { raw, ..self.clone() }
    }

    /// The connection string without its password, and the password (decoded), for handing to
    /// a driver or an external tool such as `pg_dump`: the string on its command line, the
    /// password in its environment (`PGPASSWORD`), where `ps` does not show it. In the URL
    /// form every `@` left but the one that ends the user name is percent-encoded, so every
    /// reader (`tokio-postgres` takes the first `@`, libpq the first before a `/`) finds the
    /// host where this module does.
    pub fn split_password(&self) -> (DatabaseUrl, Option<String>) {
        let password = self.password_ranges().last().map(|range| self.decode_value(&self.raw[range.clone()]));
        let without = self.with_params(|key| !is_password_key(key), &[]);
        if self.form == Form::Keywords {
            return (without, password);
        }
        let Some(authority) = without.raw.find("://").map(|i| i + 3) else { return (without, password) };
        let raw = match without.user_info() {
            Some(info) => {
                let user_end = without.raw[info.clone()].find(':').map_or(info.end, |i| info.start + i);
                format!(
                    "{}{}@{}",
                    &without.raw[..authority],
                    without.raw[authority..user_end].replace('@', "%40"),
                    without.raw[info.end + 1..].replace('@', "%40"),
                )
            }
            None => without.raw.replace('@', "%40"),
        };
        (DatabaseUrl { raw, ..without }, password)
    }

    /// Byte range of the user info (`user[:password]`, without its `@`) of a URL.
    fn user_info(&self) -> Option<Range<usize>> {
        if self.form == Form::Keywords {
            return None;
        }
        let start = self.raw.find("://")? + 3;
        let rest = &self.raw[start..];
        let first_at = rest.find('@')?;
        let query = rest[first_at..].find('?').map_or(rest.len(), |i| first_at + i);
        let at = rest[..query].rfind('@')?;
        // A user name holds no `/` or `?`: such an `@` belongs to the path or the query.
        let user = rest[..at].split(':').next().unwrap_or_default();
        (!user.contains(['/', '?'])).then_some(start..start + at)
    }

    /// Where the host begins: after the user info, or after `://`.
    fn host_start(&self) -> usize {
        match self.user_info() {
            Some(info) => info.end + 1,
            None => self.raw.find("://").map_or(0, |i| i + 3),
        }
    }

    /// Where the path (`/db`) of a URL begins: its `/`, or where the query (or the end) is.
    fn path_start(&self) -> usize {
        let host = self.host_start();
        self.raw[host..].find(['/', '?']).map_or(self.raw.len(), |i| host + i)
    }

    /// Where the query (`?...`) of a URL begins: its `?`, or the end.
    fn query_start(&self) -> usize {
        let host = self.host_start();
        self.raw[host..].find('?').map_or(self.raw.len(), |i| host + i)
    }

    /// Byte ranges of every key and its value (quotes included in the key/value form).
    fn param_ranges(&self) -> Vec<KeyValue> {
        match self.form {
            Form::Keywords => keyword_pairs(&self.raw).0,
            Form::Url => {
                let start = self.query_start() + 1;
                let mut pairs = Vec::new();
                let mut offset = start;
                for pair in self.raw.get(start..).unwrap_or_default().split('&') {
                    let key_len = pair.find('=').unwrap_or(pair.len());
                    let value_start = (offset + key_len + 1).min(offset + pair.len());
                    if !pair.is_empty() {
                        pairs.push((offset..offset + key_len, value_start..offset + pair.len()));
                    }
                    offset += pair.len() + 1;
                }
                pairs
            }
        }
    }

    /// The end of a key/value string that is not a pair (`password 'x'`, a missing `=`).
    fn unread(&self) -> Option<Range<usize>> {
        let stop = (self.form == Form::Keywords).then(|| keyword_pairs(&self.raw).1)?;
        (stop < self.raw.len()).then_some(stop..self.raw.len())
    }

    /// Byte ranges never shown: the password's, and the end of a key/value string that is not
    /// a pair (what it holds is unknown).
    fn hidden_ranges(&self) -> Vec<Range<usize>> {
        self.password_ranges().into_iter().chain(self.unread()).collect()
    }

    /// Byte ranges of the password: in the user info, and any `password` parameter.
    fn password_ranges(&self) -> Vec<Range<usize>> {
        let in_user_info = self.user_info().and_then(|info| {
            let colon = self.raw[info.clone()].find(':')?;
            Some(info.start + colon + 1..info.end)
        });
        let in_params = self
            .param_ranges()
            .into_iter()
            .filter(|(key, _)| is_password_key(&self.raw[key.clone()]))
            .map(|(_, value)| value);
        in_user_info.into_iter().chain(in_params).filter(|range| !range.is_empty()).collect()
    }

    /// A value as the driver reads it: percent-decoded in a URL, unquoted in the key/value form.
    fn decode_value(&self, written: &str) -> String {
        match self.form {
            Form::Url => percent_decode(written),
            Form::Keywords => unquote(written),
        }
    }
}

/// Byte ranges of a parameter's key and of its value.
type KeyValue = (Range<usize>, Range<usize>);

/// `password`, and libpq's `sslpassword`, in any case: never shown.
fn is_password_key(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("password")
}

/// Byte ranges of the keys and values of libpq's key/value form, read as libpq and
/// `tokio-postgres` read it: `key = value` separated by white space, a value either bare (a
/// backslash escapes the next character) or in single quotes (the same escapes). Reading stops
/// at the first thing that is not a pair; also where, which is the string's length when every
/// part was a pair (the driver reports what is wrong with the rest).
fn keyword_pairs(raw: &str) -> (Vec<KeyValue>, usize) {
    let mut pairs = Vec::new();
    let mut chars = raw.char_indices().peekable();
    let position = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        chars.peek().map_or(raw.len(), |(i, _)| *i)
    };
    loop {
        let pair_start = position(&mut chars);
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let key_start = position(&mut chars);
        while chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=').is_some() {}
        let key_end = position(&mut chars);
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if key_start == key_end || chars.next_if(|(_, c)| *c == '=').is_none() {
            return (pairs, if key_start == raw.len() { key_start } else { pair_start });
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = position(&mut chars);
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        while let Some((_, c)) = chars.next_if(|(_, c)| quoted || !c.is_whitespace()) {
            match c {
                '\\' => {
                    chars.next();
                }
                '\'' if quoted => break,
                _ => {}
            }
        }
        pairs.push((key_start..key_end, value_start..position(&mut chars)));
    }
}

/// A key/value value as the driver reads it: quotes removed, backslash escapes applied.
fn unquote(written: &str) -> String {
    let inner = written.strip_prefix('\'').map_or(written, |rest| rest.strip_suffix('\'').unwrap_or(rest));
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.extend(if c == '\\' { chars.next() } else { Some(c) });
    }
    out
}

/// Decodes `%XX` escapes (invalid UTF-8 is replaced).
fn percent_decode(text: &str) -> String {
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

/// Encodes every byte but unreserved characters and `/` as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
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

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text).unwrap()
    }

    #[test]
    fn never_shows_the_password() {
        let cases = [
            (
                "postgres://app:s3cr!t@db.example:5432/crm?sslmode=disable",
                "postgres://app:***@db.example:5432/crm?sslmode=disable",
            ),
            // A raw `@` in the password: the last `@` before the host ends the user info.
            ("postgres://app:p@ss@w0rd@db/crm", "postgres://app:***@db/crm"),
            // Raw `/` and `?` in the password (base64 secrets).
            ("postgres://app:ab/c?d=@db/crm?x=1", "postgres://app:***@db/crm?x=1"),
            ("postgres://app:Zq9@Secr3t/Pw@db/crm", "postgres://app:***@db/crm"),
            (
                "postgres://app:pw@db/crm?sslrootcert=/a@b/c.pem",
                "postgres://app:***@db/crm?sslrootcert=/a@b/c.pem",
            ),
            ("postgres://app:p%40ss@db/crm", "postgres://app:***@db/crm"),
            (
                "postgresql://db/crm?user=app&password=hunter2&x=1",
                "postgresql://db/crm?user=app&password=***&x=1",
            ),
            ("postgresql://db/crm?PASSWORD=hunter2", "postgresql://db/crm?PASSWORD=***"),
            ("postgresql://u:pw1@db/crm?password=pw2", "postgresql://u:***@db/crm?password=***"),
            ("postgres://app@db/crm", "postgres://app@db/crm"),
            ("postgres://db/crm?application_name=me@home", "postgres://db/crm?application_name=me@home"),
            ("host=db user=app password=hunter2 dbname=crm", "host=db user=app password=*** dbname=crm"),
            ("host=db password = 'two words\\' quoted' dbname=crm", "host=db password = *** dbname=crm"),
            ("host=db password='unterminated secret", "host=db password=***"),
            ("host=db password=back\\ slashed dbname=crm", "host=db password=*** dbname=crm"),
            ("host=db sslpassword=keypass", "host=db sslpassword=***"),
            ("host=db password 'no equals sign'", "host=db***"),
        ];
        for (raw, redacted) in cases {
            let parsed = url(raw);
            assert_eq!(parsed.redacted(), redacted, "{raw}");
            assert_eq!(parsed.to_string(), redacted);
            assert_eq!(format!("{parsed:?}"), format!("DatabaseUrl({redacted})"));
        }
    }

    #[test]
    fn scrubs_the_password_as_written_and_decoded() {
        let parsed = url("postgres://app:p%40ss!@db/crm");
        assert_eq!(parsed.scrub("p@ss! and p%40ss! here"), "*** and *** here");
        let parsed = url("host=db password='two words'");
        assert_eq!(parsed.scrub("said two words"), "said ***");
    }

    #[test]
    fn splits_the_password_off_for_drivers_and_external_tools() {
        let cases = [
            (
                "postgres://app:p%40ss@db:5432/crm?sslmode=disable",
                "postgres://app@db:5432/crm?sslmode=disable",
                Some("p@ss"),
            ),
            ("postgres://app:p@ss@db/crm", "postgres://app@db/crm", Some("p@ss")),
            ("postgres://app:ab/c?d@db/crm", "postgres://app@db/crm", Some("ab/c?d")),
            ("postgres://app:Zq9@Secr3t/Pw@db/crm?x=y", "postgres://app@db/crm?x=y", Some("Zq9@Secr3t/Pw")),
            (
                "postgres://me@corp:pw@db/crm?application_name=a@b",
                "postgres://me%40corp@db/crm?application_name=a%40b",
                Some("pw"),
            ),
            ("postgres://db/crm?password=x&user=app", "postgres://db/crm?user=app", Some("x")),
            ("postgres://db/crm?application_name=a@b", "postgres://db/crm?application_name=a%40b", None),
            ("postgres://app@db/crm", "postgres://app@db/crm", None),
            ("host=db password='a b' dbname=crm", "host=db dbname=crm", Some("a b")),
        ];
        for (raw, without, password) in cases {
            let (bare, found) = url(raw).split_password();
            assert_eq!((bare.expose(), found.as_deref()), (without, password), "{raw}");
        }
    }

    #[test]
    fn reads_and_rewrites_parameters() {
        let parsed = url("postgres://app:pw@db/crm?schema=my%20crm&x=1");
        assert_eq!(parsed.param("schema").as_deref(), Some("my crm"));
        assert_eq!(parsed.param("y"), None);
        assert_eq!(
            parsed.with_params(|key| key != "x", &[("sslrootcert", "/a b&c")]).expose(),
            "postgres://app:pw@db/crm?schema=my%20crm&sslrootcert=/a%20b%26c"
        );
        assert_eq!(parsed.with_params(|_| false, &[]).expose(), "postgres://app:pw@db/crm");
        let keywords = url("host=db dbname='my crm' schema=sales");
        assert_eq!(
            keywords.params(),
            [("host", "db"), ("dbname", "my crm"), ("schema", "sales")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(
            keywords.with_params(|key| key != "schema", &[("sslmode", "it's")]).expose(),
            "host=db dbname='my crm' sslmode='it\\'s'"
        );
    }

    #[test]
    fn points_at_another_database_on_the_same_server() {
        let parsed = url("postgres://app:pw@db:5432/crm?sslmode=require");
        assert_eq!(
            parsed.with_database("shadow").expose(),
            "postgres://app:pw@db:5432/shadow?sslmode=require"
        );
        let parsed = url("postgres://db");
        assert_eq!(parsed.with_database("shadow").expose(), "postgres://db/shadow");
        assert_eq!(parsed.database(), None);
        let parsed = url("postgres://app:p/w@db:5432/my%20crm?sslmode=require");
        assert_eq!(parsed.database().as_deref(), Some("my crm"));
        assert_eq!(parsed.with_database("x").expose(), "postgres://app:p/w@db:5432/x?sslmode=require");
        let parsed = url("host=db dbname=crm");
        assert_eq!(parsed.database().as_deref(), Some("crm"));
        assert_eq!(parsed.with_database("shadow").expose(), "host=db dbname='shadow'");
    }

    #[test]
    fn knows_its_scheme() {
        assert_eq!(url("sqlite:dev.db").scheme(), Scheme::Sqlite);
        assert_eq!(url("POSTGRES://h/d").scheme(), Scheme::Postgres);
        assert_eq!(url("host=10.0.0.1 dbname=x").scheme(), Scheme::Postgres);
        let error = DatabaseUrl::parse("mysql://u:topsecret@h/d").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unsupported database URL `mysql://...`: expected postgres://, postgresql://, key=value pairs or sqlite:"
        );
        let error = DatabaseUrl::parse("u:topsecret@h/d").unwrap_err();
        assert!(!error.to_string().contains("topsecret"));
    }
}
