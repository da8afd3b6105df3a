//! Passwords in migration text, hidden before the text is shown.
//!
//! A migration may hold a secret the server needs (`CREATE ROLE app LOGIN PASSWORD '...'`, a
//! user mapping's `OPTIONS (password '...')`, a subscription's or a `dblink` call's connection
//! string). haste runs the text as written but never shows the secret: in plans, error snippets
//! and lint findings the secret's characters become `*`. The text keeps its length in bytes, so
//! offsets, lines and columns found in the real text point at the same place in the shown one.

use std::borrow::Cow;

use pg_query::protobuf::Token;

/// `sql` with every secret's characters replaced by `*`: a string literal after `PASSWORD`
/// (roles) or after an option named `password` (user mappings, servers), and in any string
/// literal the value of a `password=` connection keyword, the password of a
/// `scheme://user:password@host` address, or the quoted value after the word `password` (SQL
/// a `DO` block or a function runs: `EXECUTE 'ALTER ROLE app PASSWORD ''...'''`). Text the
/// scanner cannot read (an unterminated literal) is read as one literal.
pub fn mask_secrets(sql: &str) -> Cow<'_, str> {
    let spans = match pg_query::scan_tokens(sql) {
        Ok(tokens) => token_secrets(sql, &tokens),
        Err(_) => passwords_in(sql, 0, sql.len()),
    };
    if spans.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut bytes = sql.as_bytes().to_vec();
    for (from, to) in spans {
        bytes[from..to].fill(b'*');
    }
    // Every span starts and ends at an ASCII delimiter, so whole characters were replaced and
    // the bytes are still UTF-8.
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

/// The secrets among `sql`'s scanned tokens.
fn token_secrets(sql: &str, tokens: &[pg_query::protobuf::ScanToken]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut previous: Option<(Option<Token>, usize, usize)> = None;
    for token in tokens {
        let kind = Token::try_from(token.token).ok();
        if matches!(kind, Some(Token::SqlComment | Token::CComment)) {
            continue;
        }
        let (start, end) = (token.start as usize, token.end as usize);
        if matches!(kind, Some(Token::Sconst | Token::Usconst)) {
            let after_password = previous.is_some_and(|(previous, from, to)| {
                previous == Some(Token::Password)
                    || sql
                        .get(from..to)
                        .is_some_and(|word| word.trim_matches('"').eq_ignore_ascii_case("password"))
            });
            match after_password {
                true => spans.extend(literal_contents(sql, start, end)),
                false => spans.extend(embedded_passwords(sql, start, end)),
            }
        }
        previous = Some((kind, start, end));
    }
    spans
}

/// The bytes between a literal's quotes (`'...'`, `E'...'`, `U&'...'`, `$tag$...$tag$`).
fn literal_contents(sql: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let text = sql.get(start..end)?;
    if let Some(rest) = text.strip_prefix('$') {
        let tag_end = rest.find('$')? + 2;
        return (end - tag_end > start + tag_end).then_some((start + tag_end, end - tag_end));
    }
    let open = text.find('\'')? + 1;
    (end - 1 > start + open).then_some((start + open, end - 1))
}

/// Inside one literal: the value of each `password=` keyword of a connection string, and the
/// password of each `://user:password@` address.
fn embedded_passwords(sql: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let Some((from, to)) = literal_contents(sql, start, end) else {
        return Vec::new();
    };
    passwords_in(sql, from, to)
}

/// In `sql[from..to]`: the value of each `password=` keyword, the password of each
/// `://user:password@` address, and the quoted value after each word `password` (up to the same
/// run of quotes that opens it, or to the end of the line when it is never closed).
fn passwords_in(sql: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
    let text = &sql[from..to];
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut search = 0;
    while let Some(found) = lower[search..].find("password") {
        let mut at = search + found + "password".len();
        search = at;
        at += text[at..].len() - text[at..].trim_start().len();
        if let Some((value_from, value_to)) = quoted_value(text, at) {
            spans.push((from + value_from, from + value_to));
            continue;
        }
        if !text[at..].starts_with('=') {
            continue;
        }
        at += 1;
        at += text[at..].len() - text[at..].trim_start().len();
        if let Some((value_from, value_to)) = quoted_value(text, at) {
            spans.push((from + value_from, from + value_to));
            continue;
        }
        let value_end = text[at..]
            .find(|c: char| c.is_whitespace() || c == '\'')
            .map_or(text.len(), |length| at + length);
        if value_end > at {
            spans.push((from + at, from + value_end));
        }
    }
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let authority_start = search + found + 3;
        search = authority_start;
        let authority_end = text[authority_start..]
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'')
            .map_or(text.len(), |length| authority_start + length);
        let authority = &text[authority_start..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && at > colon + 1
        {
            spans.push((from + authority_start + colon + 1, from + authority_start + at));
        }
    }
    spans
}

/// The characters of a value quoted at `text[at..]` (`'...'`, `''...''` inside a literal,
/// `E'...'`): from after the run of quotes that opens it to the same run closing it, or to the
/// end of the line when it is never closed.
fn quoted_value(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = text.get(at..)?;
    let rest = rest.strip_prefix(['E', 'e']).filter(|after| after.starts_with('\'')).unwrap_or(rest);
    let quotes = rest.len() - rest.trim_start_matches('\'').len();
    if quotes == 0 {
        return None;
    }
    let opening = &rest[..quotes];
    let start = text.len() - rest.len() + quotes;
    let end = match text[start..].find(opening) {
        Some(length) => start + length,
        None => text[start..].find('\n').map_or(text.len(), |length| start + length),
    };
    (end > start).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    #[test]
    fn secrets_are_hidden_and_offsets_kept() {
        let cases = [
            ("CREATE ROLE app LOGIN PASSWORD 'hunter2';", "CREATE ROLE app LOGIN PASSWORD '*******';"),
            (
                "ALTER USER app WITH ENCRYPTED PASSWORD E'p\\'w';",
                "ALTER USER app WITH ENCRYPTED PASSWORD E'****';",
            ),
            ("ALTER ROLE app PASSWORD $$s3cret$$", "ALTER ROLE app PASSWORD $$******$$"),
            (
                "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password 'pw');",
                "CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password '**');",
            ),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'host=db password=top dbname=crm' PUBLICATION p;",
                "CREATE SUBSCRIPTION s CONNECTION 'host=db password=*** dbname=crm' PUBLICATION p;",
            ),
            (
                "SELECT dblink_connect('postgres://crm:s%40cret@db:5432/crm');",
                "SELECT dblink_connect('postgres://crm:********@db:5432/crm');",
            ),
            ("SELECT 'password reset' AS note;", "SELECT 'password reset' AS note;"),
            ("ALTER ROLE app PASSWORD NULL;", "ALTER ROLE app PASSWORD NULL;"),
            ("CREATE ROLE app PASSWORD 'пароль';", "CREATE ROLE app PASSWORD '************';"),
            (
                "-- PASSWORD 'in a comment' is the author's own\nSELECT 1;",
                "-- PASSWORD 'in a comment' is the author's own\nSELECT 1;",
            ),
        ];
        for (sql, shown) in cases {
            let masked = mask_secrets(sql);
            assert_eq!(masked, shown, "{sql}");
            assert_eq!(masked.len(), sql.len(), "{sql}");
        }
    }

    #[test]
    fn text_the_scanner_refuses_is_shown_without_its_secrets() {
        assert_eq!(mask_secrets("SELECT 'unterminated"), "SELECT 'unterminated");
        assert_eq!(
            mask_secrets("ALTER ROLE app PASSWORD 'unterminated\nSELECT 1;"),
            "ALTER ROLE app PASSWORD '************\nSELECT 1;"
        );
    }

    #[test]
    fn secrets_in_sql_a_literal_holds_are_hidden() {
        let cases = [
            (
                "DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD ''S3CRET''', 'app'); END $$;",
                "DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD ''******''', 'app'); END $$;",
            ),
            (
                "DO $body$ BEGIN ALTER ROLE app PASSWORD 'S3CRET'; END $body$;",
                "DO $body$ BEGIN ALTER ROLE app PASSWORD '******'; END $body$;",
            ),
            (
                "SELECT dblink_connect('host=db password=''a b'' dbname=crm');",
                "SELECT dblink_connect('host=db password=''***'' dbname=crm');",
            ),
        ];
        for (sql, shown) in cases {
            let masked = mask_secrets(sql);
            assert_eq!(masked, shown, "{sql}");
            assert_eq!(masked.len(), sql.len(), "{sql}");
        }
    }
}
