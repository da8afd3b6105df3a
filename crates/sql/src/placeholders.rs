//! Placeholders such as data.sql's `:range`, found where PostgreSQL would read code: never in a
//! comment, a string, a quoted identifier or a dollar-quoted body, never as part of a longer name
//! (`:ranges`) or a cast (`x::range`).

use crate::trivia::block_comment_len;

/// A placeholder `:name` found in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder<'n> {
    /// Byte offset of its colon.
    pub offset: usize,
    /// Which of the names asked for it is (without the colon).
    pub name: &'n str,
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// Every `:name` of `names` in `sql`'s code, in order.
pub fn placeholders<'n>(sql: &str, names: &[&'n str]) -> Vec<Placeholder<'n>> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if rest.starts_with(b"/*") {
            i += block_comment_len(rest);
        } else if rest[0] == b'\'' {
            // An `E'...'` string takes backslash escapes; a standard one only doubled quotes.
            let escapes =
                i > 0 && matches!(bytes[i - 1], b'E' | b'e') && (i < 2 || !is_name_byte(bytes[i - 2]));
            i = quoted_end(bytes, i, b'\'', escapes);
        } else if rest[0] == b'"' {
            i = quoted_end(bytes, i, b'"', false);
        } else if rest[0] == b'$' && (i == 0 || !is_name_byte(bytes[i - 1])) {
            i = dollar_quoted_end(sql, i).unwrap_or(i + 1);
        } else if rest.starts_with(b"::") {
            // A cast: the name after it is a type.
            i += 2;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
        } else if rest[0] == b':' {
            let name = names.iter().find(|name| {
                rest[1..].starts_with(name.as_bytes())
                    && rest.get(1 + name.len()).is_none_or(|&b| !is_name_byte(b))
            });
            match name {
                Some(name) => {
                    found.push(Placeholder { offset: i, name });
                    i += 1 + name.len();
                }
                None => i += 1,
            }
        } else if is_name_byte(rest[0]) {
            // A whole word at once, so that a `$` inside a name opens no dollar quote.
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The end of the string or quoted identifier opening at `start` (past its closing quote; the
/// end of `bytes` when unterminated).
fn quoted_end(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if escapes && bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The end of the dollar-quoted body opening at `start` (`$$` or `$tag$`), past its closing tag;
/// `None` when `$` opens no tag there (a parameter such as `$1`).
fn dollar_quoted_end(sql: &str, start: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut end = start + 1;
    while end < bytes.len() && bytes[end] != b'$' {
        let first = end == start + 1;
        if !(bytes[end].is_ascii_alphabetic()
            || bytes[end] == b'_'
            || bytes[end] >= 0x80
            || (!first && bytes[end].is_ascii_digit()))
        {
            return None;
        }
        end += 1;
    }
    if end >= bytes.len() {
        return None;
    }
    let tag = &sql[start..=end];
    let body = end + 1;
    Some(sql[body..].find(tag).map_or(bytes.len(), |n| body + n + tag.len()))
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    fn names(sql: &str) -> Vec<(usize, &str)> {
        placeholders(sql, &["range", "end"]).into_iter().map(|p| (p.offset, p.name)).collect()
    }

    #[test]
    fn placeholders_are_found_only_in_code() {
        assert_eq!(names("UPDATE t SET n = 1 WHERE :range"), [(25, "range")]);
        assert_eq!(names("UPDATE t SET n = 1 WHERE :range AND k <= :end;"), [(25, "range"), (41, "end")]);
        assert_eq!(names("UPDATE t SET n = 1 WHERE (:range)"), [(26, "range")]);
        for not_code in [
            "UPDATE t SET n = n + 1 -- :range",
            "UPDATE t SET n = n + 1 /* :range /* nested */ :end */",
            "UPDATE t SET s = ':range'",
            "UPDATE t SET s = 'it''s :range'",
            "UPDATE t SET s = E'\\' :range'",
            "UPDATE t SET \":range\" = 1",
            "UPDATE t SET s = $$ :range $$",
            "UPDATE t SET s = $q$ :end $q$",
            "UPDATE t SET n = 1 WHERE :ranges",
            "UPDATE t SET n = 1 WHERE :range_x",
            "UPDATE t SET n = x::range",
            "UPDATE t SET n = 1 WHERE :endless",
        ] {
            assert_eq!(names(not_code), [], "{not_code}");
        }
        // A parameter or a `$` inside a name opens no dollar quote.
        assert_eq!(names("UPDATE t SET n = $1 WHERE :range"), [(26, "range")]);
        assert_eq!(names("UPDATE t$x SET a$ = 1 WHERE :range"), [(28, "range")]);
        // An unterminated string or comment hides what follows, as it does from PostgreSQL.
        assert_eq!(names("UPDATE t SET s = ' WHERE :range"), []);
    }
}
