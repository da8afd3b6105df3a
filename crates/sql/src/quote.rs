//! The one place where names and values become SQL text.

/// Quotes an identifier for PostgreSQL and SQLite: always double-quoted, inner quotes doubled,
/// so no name is ever folded to lower case or read as a keyword.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for PostgreSQL (with `standard_conforming_strings` on, the default
/// since 9.1) and SQLite: single-quoted, inner quotes doubled.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_embedded_quotes() {
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_ident("User"), "\"User\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
