//! Passwords in migration text, hidden before the text is shown.
//!
//! A migration may hold a secret the server needs (`CREATE ROLE app LOGIN PASSWORD '...'`, a
//! user mapping's `OPTIONS (password '...')`, a subscription's or a `dblink` call's connection
//! string). haste runs the text as written but never shows the secret: in plans, error snippets
//! and lint findings the secret's characters become `*`. The text keeps its length in bytes, so
//! offsets, lines and columns found in the real text point at the same place in the shown one.

use std::{borrow::Cow, ops::Range};

use pg_query::protobuf::Token;

/// `sql` with every secret's characters replaced by `*`: a string literal after `PASSWORD`
/// (roles) or after an option named `password` (user mappings, servers), and in any string
/// literal the value of a `password=` connection keyword, the password of a
/// `scheme://user:password@host` address, or the quoted value after the word `password` (SQL
/// a `DO` block or a function runs: `EXECUTE 'ALTER ROLE app PASSWORD ''...'''`). Text the
/// scanner cannot read (an unterminated literal) is read as one literal.
///
/// A password can also reach the server from somewhere else than where the word `PASSWORD`
/// is: `'... PASSWORD ' || quote_literal(secret)`, `format('... PASSWORD %L', p)` with `p`
/// declared elsewhere, `'password=' || value`. Where the text passes a password that way, which
/// literal holds it cannot be told, so every literal of the text is hidden (the literals of each
/// code body one by one, so the code around them stays readable), except those naming the
/// password, which show what is done with it.
pub fn mask_secrets(sql: &str) -> Cow<'_, str> {
    let whole = 0..sql.len();
    let spans = code_secrets(sql, whole.clone(), passes_password_indirectly(sql, whole));
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

/// One string literal of scanned code: where its token is, and whether it follows the keyword
/// `PASSWORD` or an option named `password`.
struct Literal {
    start: usize,
    end: usize,
    after_password: bool,
}

/// The string literals of the code in `sql[range]`, or `None` where the scanner cannot read it.
fn literals(sql: &str, range: Range<usize>) -> Option<Vec<Literal>> {
    let scanned = pg_query::scan_tokens(&sql[range.clone()]).ok()?;
    let mut literals = Vec::new();
    let mut previous: Option<(Option<Token>, usize, usize)> = None;
    for token in &scanned {
        let kind = Token::try_from(token.token).ok();
        if matches!(kind, Some(Token::SqlComment | Token::CComment)) {
            continue;
        }
        let (start, end) = (range.start + token.start as usize, range.start + token.end as usize);
        if matches!(kind, Some(Token::Sconst | Token::Usconst)) {
            let after_password = previous.is_some_and(|(previous, from, to)| {
                previous == Some(Token::Password)
                    || sql
                        .get(from..to)
                        .is_some_and(|word| word.trim_matches('"').eq_ignore_ascii_case("password"))
            });
            literals.push(Literal { start, end, after_password });
        }
        previous = Some((kind, start, end));
    }
    Some(literals)
}

/// The contents of a dollar-quoted literal that is a body of code (it scans as code).
fn code_body(sql: &str, literal: &Literal) -> Option<Range<usize>> {
    if !sql[literal.start..literal.end].starts_with('$') {
        return None;
    }
    let (from, to) = literal_contents(sql, literal.start, literal.end)?;
    pg_query::scan_tokens(&sql[from..to]).is_ok().then_some(from..to)
}

/// Whether the code in `sql[range]`, or code in its bodies, passes a password that is not
/// written right after the word naming it ([`mask_secrets`]).
fn passes_password_indirectly(sql: &str, range: Range<usize>) -> bool {
    let Some(literals) = literals(sql, range.clone()) else {
        return passwords_in(sql, range.start, range.end).indirect;
    };
    literals.iter().filter(|literal| !literal.after_password).any(|literal| match code_body(sql, literal) {
        Some(body) => passes_password_indirectly(sql, body),
        None => literal_contents(sql, literal.start, literal.end)
            .is_some_and(|(from, to)| passwords_in(sql, from, to).indirect),
    })
}

/// The secrets in the code in `sql[range]`; with `every_literal`, the contents of every literal
/// that does not name a password too.
fn code_secrets(sql: &str, range: Range<usize>, every_literal: bool) -> Vec<(usize, usize)> {
    let Some(literals) = literals(sql, range.clone()) else {
        let found = passwords_in(sql, range.start, range.end);
        return match every_literal && !found.names_password {
            true => vec![(range.start, range.end)],
            false => found.spans,
        };
    };
    let mut spans = Vec::new();
    for literal in literals {
        let Some((from, to)) = literal_contents(sql, literal.start, literal.end) else { continue };
        if literal.after_password {
            spans.push((from, to));
        } else if let Some(body) = code_body(sql, &literal) {
            spans.extend(code_secrets(sql, body, every_literal));
        } else {
            let found = passwords_in(sql, from, to);
            match every_literal && !found.names_password {
                true => spans.push((from, to)),
                false => spans.extend(found.spans),
            }
        }
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

/// What [`passwords_in`] finds in a stretch of text.
#[derive(Default)]
struct Passwords {
    /// The values written in the text.
    spans: Vec<(usize, usize)>,
    /// Whether the text names a password at all (the word `password`).
    names_password: bool,
    /// Whether it gives a role, a user mapping or a connection a password whose value comes from
    /// elsewhere: nothing follows the word (or `password=`), or a placeholder (`%L`, `$1`) or a
    /// concatenation does.
    indirect: bool,
}

/// In `sql[from..to]`: the value of each `password=` keyword, the password of each
/// `://user:password@` address, and the quoted value after each word `password` (up to the same
/// run of quotes that opens it, or to the end of the line when it is never closed).
fn passwords_in(sql: &str, from: usize, to: usize) -> Passwords {
    let text = &sql[from..to];
    let lower = text.to_ascii_lowercase();
    let mut found = Passwords::default();
    let elsewhere = |rest: &str| {
        let rest = rest.trim_start();
        rest.is_empty()
            || rest.starts_with(['%', '?'])
            || rest.starts_with("||")
            || rest.strip_prefix('$').is_some_and(|after| after.starts_with(|c: char| c.is_ascii_digit()))
    };
    let mut search = 0;
    while let Some(found_at) = lower[search..].find("password") {
        found.names_password = true;
        let word = search + found_at;
        // Prose mentions passwords too (`'reset your password'`); SQL that sets one names the
        // role or user it is for, or is cut where the word starts (`'ROLE r ' || 'PASSWORD '`).
        let before = &lower[..word];
        let sets_one = before.contains("role") || before.contains("user") || before.trim().is_empty();
        let mut at = word + "password".len();
        search = at;
        at += text[at..].len() - text[at..].trim_start().len();
        if let Some((value_from, value_to)) = quoted_value(text, at) {
            match elsewhere(&text[value_from..value_to]) {
                true => found.indirect = true,
                false => found.spans.push((from + value_from, from + value_to)),
            }
            continue;
        }
        if !text[at..].starts_with('=') {
            found.indirect |= sets_one && elsewhere(&text[at..]);
            continue;
        }
        at += 1;
        at += text[at..].len() - text[at..].trim_start().len();
        found.indirect |= elsewhere(&text[at..]);
        if let Some((value_from, value_to)) = quoted_value(text, at) {
            found.spans.push((from + value_from, from + value_to));
            continue;
        }
        let value_end = text[at..]
            .find(|c: char| c.is_whitespace() || c == '\'')
            .map_or(text.len(), |length| at + length);
        if value_end > at {
            found.spans.push((from + at, from + value_end));
        }
    }
    let mut search = 0;
    while let Some(address) = text[search..].find("://") {
        let authority_start = search + address + 3;
        search = authority_start;
        let authority_end = text[authority_start..]
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'')
            .map_or(text.len(), |length| authority_start + length);
        let authority = &text[authority_start..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && at > colon + 1
        {
            found.spans.push((from + authority_start + colon + 1, from + authority_start + at));
        }
    }
    found
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

    #[test]
    fn a_password_passed_from_elsewhere_hides_every_literal() {
        let cases = [
            (
                "DO $$ BEGIN EXECUTE 'ALTER ROLE r PASSWORD ' || quote_literal('PWconcat'); END $$;",
                "DO $$ BEGIN EXECUTE 'ALTER ROLE r PASSWORD ' || quote_literal('********'); END $$;",
            ),
            (
                "DO $$ DECLARE p text := 'PWdeclared'; BEGIN\n  EXECUTE format('ALTER ROLE r PASSWORD %L', p);\nEND $$;",
                "DO $$ DECLARE p text := '**********'; BEGIN\n  EXECUTE format('ALTER ROLE r PASSWORD %L', p);\nEND $$;",
            ),
            (
                "SELECT dblink_connect('host=db password=' || 'PWjoined');\nINSERT INTO t VALUES ('x');",
                "SELECT dblink_connect('host=db password=' || '********');\nINSERT INTO t VALUES ('*');",
            ),
            (
                "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$\nBEGIN EXECUTE format('CREATE USER MAPPING FOR u SERVER s OPTIONS (password %L)', 'PWmap'); END $f$;",
                "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$\nBEGIN EXECUTE format('CREATE USER MAPPING FOR u SERVER s OPTIONS (password %L)', '*****'); END $f$;",
            ),
            (
                "DO $$ BEGIN EXECUTE 'ALTER ROLE r ' || 'PASSWORD ' || quote_literal('PWpieces'); END $$;",
                "DO $$ BEGIN EXECUTE '*************' || 'PASSWORD ' || quote_literal('********'); END $$;",
            ),
            (
                "CREATE FUNCTION set_pw(p text) RETURNS void LANGUAGE plpgsql AS $f$\nBEGIN EXECUTE 'ALTER ROLE r PASSWORD ' || quote_literal(p); END $f$;\nSELECT set_pw('PWcall');",
                "CREATE FUNCTION set_pw(p text) RETURNS void LANGUAGE plpgsql AS $f$\nBEGIN EXECUTE 'ALTER ROLE r PASSWORD ' || quote_literal(p); END $f$;\nSELECT set_pw('******');",
            ),
        ];
        for (sql, shown) in cases {
            let masked = mask_secrets(sql);
            assert_eq!(masked, shown, "{sql}");
            assert_eq!(masked.len(), sql.len(), "{sql}");
        }
        // Prose about passwords passes none: the other literals stay shown.
        let prose = "COMMENT ON COLUMN users.pw IS 'the hash of the password';\nINSERT INTO t VALUES ('x');";
        assert_eq!(mask_secrets(prose), prose);
    }
}
