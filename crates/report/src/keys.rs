//! The columns of keys, read from definitions as PostgreSQL prints them
//! (`pg_get_constraintdef`, `pg_get_indexdef`): names are quoted where they need it, so a
//! scanner that knows quoted identifiers reads them exactly, whatever characters they hold.

/// A foreign key: its columns, the table it references (schema when printed), and the
/// referenced columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub schema: Option<String>,
    pub table: String,
    pub referenced: Vec<String>,
}

/// `FOREIGN KEY (a, "B") REFERENCES s.t(x, y) ...`.
pub fn foreign_key(definition: &str) -> Option<ForeignKey> {
    let mut scanner = Scanner::new(definition.strip_prefix("FOREIGN KEY")?);
    let columns = scanner.name_list()?;
    scanner.word("REFERENCES")?;
    let first = scanner.identifier()?;
    let (schema, table) =
        if scanner.punct('.') { (Some(first), scanner.identifier()?) } else { (None, first) };
    let referenced = scanner.name_list()?;
    Some(ForeignKey { columns, schema, table, referenced })
}

/// The columns of a unique index on plain columns (`CREATE UNIQUE INDEX n ON t USING m (a, b
/// DESC)`); `None` for other indexes.
pub fn unique_index_columns(definition: &str) -> Option<Vec<String>> {
    let rest = definition.strip_prefix("CREATE UNIQUE INDEX ")?;
    let mut scanner = Scanner::new(rest);
    scanner.identifier()?;
    scanner.word("ON")?;
    if scanner.word("ONLY").is_none() {
        scanner.reset_word();
    }
    scanner.identifier()?;
    if scanner.punct('.') {
        scanner.identifier()?;
    }
    scanner.word("USING")?;
    scanner.identifier()?;
    scanner.element_names()
}

struct Scanner<'a> {
    text: &'a str,
    at: usize,
    mark: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner { text, at: 0, mark: 0 }
    }

    fn skip_space(&mut self) {
        while self.text[self.at..].starts_with(char::is_whitespace) {
            self.at += self.text[self.at..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn punct(&mut self, c: char) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn word(&mut self, word: &str) -> Option<()> {
        self.skip_space();
        self.mark = self.at;
        let rest = &self.text[self.at..];
        let follows = rest.get(word.len()..)?;
        if rest.starts_with(word) && !follows.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            self.at += word.len();
            Some(())
        } else {
            None
        }
    }

    fn reset_word(&mut self) {
        self.at = self.mark;
    }

    /// `name` or `"quoted ""name"""`.
    fn identifier(&mut self) -> Option<String> {
        self.skip_space();
        let rest = &self.text[self.at..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if quoted[i + 1..].starts_with('"') {
                        name.push('"');
                        chars.next();
                    } else {
                        self.at += 1 + i + 1;
                        return Some(name);
                    }
                } else {
                    name.push(c);
                }
            }
            None
        } else {
            let end =
                rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(rest.len());
            (end > 0).then(|| {
                self.at += end;
                rest[..end].to_owned()
            })
        }
    }

    /// `(a, "b", c)`.
    fn name_list(&mut self) -> Option<Vec<String>> {
        if !self.punct('(') {
            return None;
        }
        let mut names = vec![self.identifier()?];
        while self.punct(',') {
            names.push(self.identifier()?);
        }
        self.punct(')').then_some(names)
    }

    /// `(a DESC, "b" text_pattern_ops)`: the leading name of each element; `None` when an
    /// element is an expression.
    fn element_names(&mut self) -> Option<Vec<String>> {
        if !self.punct('(') {
            return None;
        }
        let mut names = Vec::new();
        loop {
            names.push(self.identifier()?);
            // Sort order, nulls order and operator class are words; anything else is an
            // expression.
            loop {
                self.skip_space();
                if self.punct(',') {
                    break;
                }
                if self.punct(')') {
                    return Some(names);
                }
                self.identifier()?;
                if self.punct('.') {
                    self.identifier()?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_with_commas_dots_and_quotes_are_read_whole() {
        let key =
            foreign_key(r#"FOREIGN KEY ("a, b", c) REFERENCES "we.ird"."t""x"("<id>", d) ON DELETE CASCADE"#)
                .unwrap();
        assert_eq!(key.columns, ["a, b", "c"]);
        assert_eq!(key.schema.as_deref(), Some("we.ird"));
        assert_eq!(key.table, "t\"x");
        assert_eq!(key.referenced, ["<id>", "d"]);
        let unqualified = foreign_key("FOREIGN KEY (user_id) REFERENCES users(id)").unwrap();
        assert_eq!((unqualified.schema, unqualified.table.as_str()), (None, "users"));
    }

    #[test]
    fn unique_indexes() {
        assert_eq!(
            unique_index_columns(
                "CREATE UNIQUE INDEX \"u\" ON public.users USING btree (email, \"Org\" DESC)"
            )
            .unwrap(),
            ["email", "Org"]
        );
        assert_eq!(unique_index_columns("CREATE UNIQUE INDEX u ON ONLY s.t USING btree (a)").unwrap(), ["a"]);
        assert_eq!(unique_index_columns("CREATE UNIQUE INDEX u ON t USING btree (lower(email))"), None);
        assert_eq!(unique_index_columns("CREATE INDEX u ON t USING btree (a)"), None);
    }
}
