//! Column defaults compared by meaning, as Prisma Migrate compares them: a database that says
//! `'{}'` or `now()` holds the default a schema's `@default([])` or `@default(now())` asks for,
//! although PostgreSQL prints the schema's own statements as `ARRAY[]::text[]` and
//! `CURRENT_TIMESTAMP`.
//!
//! Each side is read the way Prisma's schema describer reads a PostgreSQL default
//! (`sql-schema-describer/src/postgres/default.rs`): by the column's type family, literals with
//! their casts, `now()`, sequences, lists in both spellings; what does not read as one of these
//! is an expression compared as text. Then the pair is judged by Prisma's differ
//! (`sql_schema_differ/column.rs`, `defaults_match`).

/// The kind of values a column holds, which decides how its default reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Text,
    Json,
    Int,
    Float,
    Boolean,
    DateTime,
    Bytes,
    Enum,
    /// `uuid` and types Prisma does not model: defaults are expressions.
    Other,
}

/// A column type as `format_type` prints it: its family and whether it is a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnKind {
    pub(crate) family: Family,
    pub(crate) list: bool,
}

impl ColumnKind {
    /// `format_type`'s spelling (`character varying(10)[]`, `"Role"`); `is_enum` says whether a
    /// bare type name is one of the schema's enums.
    pub(crate) fn of(data_type: &str, is_enum: impl Fn(&str) -> bool) -> ColumnKind {
        let (base, list) = match data_type.strip_suffix("[]") {
            Some(base) => (base, true),
            None => (data_type, false),
        };
        let name = base.split('(').next().unwrap_or(base).trim();
        let family = match name {
            "text" | "character varying" | "character" | "citext" | "xml" | "inet" | "bit"
            | "bit varying" => Family::Text,
            "json" | "jsonb" => Family::Json,
            "integer" | "smallint" | "bigint" | "oid" => Family::Int,
            "double precision" | "real" | "numeric" | "money" => Family::Float,
            "boolean" => Family::Boolean,
            "date" => Family::DateTime,
            _ if name.starts_with("timestamp") || name.starts_with("time ") || name == "time" => {
                Family::DateTime
            }
            "bytea" => Family::Bytes,
            _ if is_enum(name) => Family::Enum,
            _ => Family::Other,
        };
        ColumnKind { family, list }
    }
}

/// One literal value.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Int(i64),
    /// A decimal number without redundant zeros (`1.50` and `1.5` are one value).
    Number(String),
    Bool(bool),
    /// Text, JSON text and enum values.
    Text(String),
    Bytes(Vec<u8>),
}

/// A default as Prisma reads it.
#[derive(Debug, Clone, PartialEq)]
enum Parsed {
    Value(Literal),
    List(Vec<Literal>),
    Now,
    /// `nextval(...)`: autoincrement, compared as the column's type (`SERIAL`), not here.
    Sequence,
    /// Anything else: an expression, compared as text.
    Expression(String),
    /// A date-time literal (or list of them) asked for by the schema: Prisma cannot compare
    /// these and takes any database default as equal.
    DateTimeLiteral,
}

/// Whether a column whose database default is `from` (of type `from_kind`) already has the
/// default that `to` (the Prisma schema's, as PostgreSQL printed it back) asks for.
pub(crate) fn same_default(
    from: Option<&str>,
    from_kind: ColumnKind,
    to: Option<&str>,
    to_kind: ColumnKind,
) -> bool {
    let from = from.and_then(|text| parse(text, from_kind));
    let to = to.and_then(|text| parse(text, to_kind)).map(|parsed| match parsed {
        Parsed::Expression(text) if to_kind.family == Family::DateTime && is_literal(&text) => {
            Parsed::DateTimeLiteral
        }
        other => other,
    });
    let json = to_kind.family == Family::Json;
    match (from, to) {
        (None, None) => true,
        // `autoincrement()` on both sides, whatever the sequence's name; on one side only, the
        // column gains or loses it.
        (Some(Parsed::Sequence), Some(Parsed::Sequence)) => true,
        (Some(Parsed::Sequence), _) | (_, Some(Parsed::Sequence)) => false,
        (Some(_), Some(Parsed::DateTimeLiteral)) => true,
        (Some(Parsed::List(a)), Some(Parsed::List(b))) => {
            a.len() == b.len() && a.iter().zip(&b).all(|(a, b)| same_literal(a, b, json))
        }
        (Some(Parsed::Value(a)), Some(Parsed::Value(b))) => same_literal(&a, &b, json),
        (Some(Parsed::Expression(a)), Some(Parsed::Expression(b))) => a.eq_ignore_ascii_case(&b),
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// JSON text is compared as JSON (text that does not read as JSON compares equal, as Prisma's
/// differ has it).
fn same_literal(a: &Literal, b: &Literal, json: bool) -> bool {
    match (a, b) {
        (Literal::Text(a), Literal::Text(b)) if json => {
            match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b))
            {
                (Ok(a), Ok(b)) => a == b,
                _ => true,
            }
        }
        _ => a == b,
    }
}

/// A string literal or an array, cast or not: a constant rather than an expression.
fn is_literal(text: &str) -> bool {
    let text = text.trim_start_matches('(');
    text.starts_with('\'') || text.starts_with("E'") || text.starts_with("ARRAY[")
}

/// Reads a default as Prisma's describer does; `None` for `NULL` (no default).
fn parse(text: &str, kind: ColumnKind) -> Option<Parsed> {
    if text.trim().starts_with("NULL") {
        return None;
    }
    let mut parser = Parser::new(text);
    let expression = || Parsed::Expression(text.to_owned());
    if kind.list {
        let values = match parser.peek() {
            Some(Token::String | Token::EscapeString) => {
                parser.string().and_then(|array| array_literal(&array, kind.family))
            }
            Some(Token::Word | Token::Open) => parser.array_constructor(kind.family),
            _ => None,
        };
        // Prisma ignores what follows a list (an outer cast).
        return Some(values.map_or_else(expression, Parsed::List));
    }
    let parsed = match kind.family {
        Family::DateTime => parser.now(),
        _ => parser.literal(kind.family).map(|value| match value {
            Scalar::Literal(literal) => Parsed::Value(literal),
            Scalar::Sequence => Parsed::Sequence,
        }),
    };
    Some(parsed.filter(|_| parser.is_done()).unwrap_or_else(expression))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A name or key word.
    Word,
    /// `"quoted name"`.
    QuotedWord,
    /// `'text'`.
    String,
    /// `E'text'`.
    EscapeString,
    Digits,
    Minus,
    Dot,
    Comma,
    Cast,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Other,
}

fn tokenize(text: &str) -> Vec<(Token, &str)> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    // The end of a quoted run starting at `start` (its opening quote), doubled quotes and, in
    // `E''` strings, backslash escapes inside.
    let quoted = |start: usize, quote: u8, backslash: bool| {
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if backslash => i += 2,
                c if c == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
                c if c == quote => return i + 1,
                _ => i += 1,
            }
        }
        bytes.len()
    };
    while at < bytes.len() {
        let c = bytes[at];
        let (token, end) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                at += 1;
                continue;
            }
            b'E' | b'e' if bytes.get(at + 1) == Some(&b'\'') => {
                (Token::EscapeString, quoted(at + 1, b'\'', true))
            }
            b'\'' => (Token::String, quoted(at, b'\'', false)),
            b'"' => (Token::QuotedWord, quoted(at, b'"', false)),
            b'0'..=b'9' => {
                (Token::Digits, at + bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count())
            }
            b':' if bytes.get(at + 1) == Some(&b':') => (Token::Cast, at + 2),
            b'-' => (Token::Minus, at + 1),
            b'.' => (Token::Dot, at + 1),
            b',' => (Token::Comma, at + 1),
            b'(' => (Token::Open, at + 1),
            b')' => (Token::Close, at + 1),
            b'[' => (Token::OpenBracket, at + 1),
            b']' => (Token::CloseBracket, at + 1),
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let length = bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'$' || **b >= 0x80)
                    .count();
                (Token::Word, at + length)
            }
            _ => (Token::Other, at + 1),
        };
        tokens.push((token, &text[at..end]));
        at = end;
    }
    tokens
}

/// A scalar read from tokens.
enum Scalar {
    Literal(Literal),
    Sequence,
}

struct Parser<'a> {
    tokens: Vec<(Token, &'a str)>,
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser { tokens: tokenize(text), at: 0 }
    }

    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.at).map(|(token, _)| *token)
    }

    fn eat(&mut self, wanted: Token) -> Option<&'a str> {
        let (token, text) = *self.tokens.get(self.at)?;
        (token == wanted).then(|| {
            self.at += 1;
            text
        })
    }

    fn is_done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// `::type`, `::"Enum"`, `::schema."Enum"`, `::timestamp(3) without time zone[]`; `None`
    /// when a cast does not read as one.
    fn cast(&mut self) -> Option<()> {
        if self.eat(Token::Cast).is_none() {
            return Some(());
        }
        while self
            .eat(Token::Word)
            .or_else(|| self.eat(Token::QuotedWord))
            .or_else(|| self.eat(Token::Dot))
            .is_some()
        {}
        if self.eat(Token::Open).is_some() {
            while self.eat(Token::Close).is_none() {
                self.tokens.get(self.at)?;
                self.at += 1;
            }
            while self.eat(Token::Word).is_some() {}
        }
        if self.eat(Token::OpenBracket).is_some() {
            self.eat(Token::CloseBracket)?;
        }
        Some(())
    }

    /// A string literal's value, its cast eaten.
    fn string(&mut self) -> Option<String> {
        let value = if let Some(text) = self.eat(Token::String) {
            text[1..text.len() - 1].replace("''", "'")
        } else {
            let text = self.eat(Token::EscapeString)?;
            unescape(&text[2..text.len() - 1])?
        };
        self.cast()?;
        Some(value)
    }

    /// `now()`, `CURRENT_TIMESTAMP`, with any cast.
    fn now(&mut self) -> Option<Parsed> {
        let name = self.eat(Token::Word)?;
        if self.eat(Token::Open).is_some() {
            self.eat(Token::Close)?;
        }
        self.cast()?;
        (name.eq_ignore_ascii_case("now") || name.eq_ignore_ascii_case("current_timestamp"))
            .then_some(Parsed::Now)
    }

    fn literal(&mut self, family: Family) -> Option<Scalar> {
        let literal = match family {
            Family::Text | Family::Json => Literal::Text(self.string()?),
            Family::Enum => match self.eat(Token::Word) {
                Some(word) => {
                    self.cast()?;
                    Literal::Text(word.to_owned())
                }
                None => Literal::Text(self.string()?),
            },
            Family::Int => return self.integer(),
            Family::Float => Literal::Number(self.number()?),
            Family::Boolean => {
                let word = self.eat(Token::Word)?;
                match word.to_ascii_lowercase().as_str() {
                    "t" | "true" => Literal::Bool(true),
                    "f" | "false" => Literal::Bool(false),
                    _ => return None,
                }
            }
            Family::Bytes => Literal::Bytes(hex_bytes(&self.string()?)?),
            Family::DateTime | Family::Other => return None,
        };
        Some(Scalar::Literal(literal))
    }

    fn integer(&mut self) -> Option<Scalar> {
        let value = match self.peek()? {
            Token::Digits => self.eat(Token::Digits)?.parse().ok()?,
            Token::Minus => {
                self.eat(Token::Minus)?;
                -self.eat(Token::Digits)?.parse::<i64>().ok()?
            }
            Token::String | Token::EscapeString => self.string()?.trim().parse().ok()?,
            Token::Word if self.eat(Token::Word)?.eq_ignore_ascii_case("nextval") => {
                // `nextval('"T_id_seq"'::regclass)`: read up to the closing parenthesis.
                self.eat(Token::Open)?;
                let mut depth = 1;
                while depth > 0 {
                    match self.tokens.get(self.at)?.0 {
                        Token::Open => depth += 1,
                        Token::Close => depth -= 1,
                        _ => {}
                    }
                    self.at += 1;
                }
                self.cast()?;
                return Some(Scalar::Sequence);
            }
            _ => return None,
        };
        Some(Scalar::Literal(Literal::Int(value)))
    }

    /// A decimal number, bare, parenthesized or quoted, its cast eaten.
    fn number(&mut self) -> Option<String> {
        if matches!(self.peek()?, Token::String | Token::EscapeString) {
            let text = self.string()?;
            let mut inner = Parser::new(&text);
            return inner.number().filter(|_| inner.is_done());
        }
        let parenthesized = self.eat(Token::Open).is_some();
        let negative = self.eat(Token::Minus).is_some();
        let whole = self.eat(Token::Digits)?;
        let fraction = if self.eat(Token::Dot).is_some() { self.eat(Token::Digits)? } else { "" };
        if parenthesized {
            self.eat(Token::Close)?;
        }
        self.cast()?;
        Some(decimal(negative, whole, fraction))
    }

    /// `ARRAY[a, b]`, `(ARRAY[]::text[])`, with a cast after it.
    fn array_constructor(&mut self, family: Family) -> Option<Vec<Literal>> {
        let parenthesized = self.eat(Token::Open).is_some();
        if !self.eat(Token::Word)?.eq_ignore_ascii_case("array") {
            return None;
        }
        self.eat(Token::OpenBracket)?;
        let mut values = Vec::new();
        if self.eat(Token::CloseBracket).is_none() {
            loop {
                let value = match family {
                    Family::DateTime => return None,
                    _ => match self.literal(family)? {
                        Scalar::Literal(literal) => literal,
                        Scalar::Sequence => return None,
                    },
                };
                values.push(value);
                if self.eat(Token::CloseBracket).is_some() {
                    break;
                }
                self.eat(Token::Comma)?;
            }
        }
        self.cast()?;
        if parenthesized {
            self.eat(Token::Close);
        }
        Some(values)
    }
}

/// `E''` escapes: `\n`, `\t`, `\\`, `\'`, `\uXXXX` and the rest as PostgreSQL reads them.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            chars.next();
            out.push('\'');
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => out.push(code_point(&mut chars, 4)?),
            'U' => out.push(code_point(&mut chars, 8)?),
            other => out.push(other),
        }
    }
    Some(out)
}

fn code_point(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let hex: String = chars.take(digits).collect();
    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
}

/// `\x0a0b`: `bytea`'s hex form.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let hex = text.strip_prefix("\\x")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// A decimal's value as text, without leading or trailing zeros that do not count.
fn decimal(negative: bool, whole: &str, fraction: &str) -> String {
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let mut text = if whole.is_empty() { "0".to_owned() } else { whole.to_owned() };
    if !fraction.is_empty() {
        text = format!("{text}.{fraction}");
    }
    if negative && text != "0" { format!("-{text}") } else { text }
}

/// PostgreSQL's array literal (`{a,"b c",NULL}`), each element read for `family`; `None` when
/// an element is `NULL` or does not read as one of the family.
fn array_literal(text: &str, family: Family) -> Option<Vec<Literal>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut elements = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let (element, quoted) = if chars.next_if_eq(&'"').is_some() {
            let mut element = String::new();
            loop {
                match chars.next()? {
                    '\\' => element.push(chars.next()?),
                    '"' => break,
                    c => element.push(c),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            (element, true)
        } else {
            let mut element = String::new();
            while let Some(c) = chars.next_if(|c| *c != ',') {
                element.push(c);
            }
            (element.trim().to_owned(), false)
        };
        if !quoted && element.eq_ignore_ascii_case("null") {
            return None;
        }
        elements.push(element_literal(&element, family)?);
        match chars.next() {
            Some(',') | None => {}
            Some(_) => return None,
        }
    }
    Some(elements)
}

fn element_literal(text: &str, family: Family) -> Option<Literal> {
    match family {
        Family::Text | Family::Json | Family::Enum => Some(Literal::Text(text.to_owned())),
        Family::Int => text.parse().ok().map(Literal::Int),
        Family::Float => {
            let mut parser = Parser::new(text);
            parser.number().filter(|_| parser.is_done()).map(Literal::Number)
        }
        Family::Boolean => match text.to_ascii_lowercase().as_str() {
            "t" | "true" => Some(Literal::Bool(true)),
            "f" | "false" => Some(Literal::Bool(false)),
            _ => None,
        },
        Family::Bytes | Family::DateTime | Family::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(data_type: &str) -> ColumnKind {
        ColumnKind::of(data_type, |name| name == "\"Role\"" || name == "crm.\"Stage\"")
    }

    /// Database default (as `pg_get_expr` prints it) × the Prisma schema's (as PostgreSQL
    /// printed it back), of one column type: equal or not. Each row was checked with Prisma
    /// 6.19.3's `migrate diff --from-migrations ... --to-schema-datamodel ...`.
    const CASES: &[(&str, Option<&str>, Option<&str>, bool)] = &[
        // Lists: `'{}'`, `'{}'::text[]` and `ARRAY[]::text[]` are all `@default([])`.
        ("text[]", Some("'{}'::text[]"), Some("ARRAY[]::text[]"), true),
        ("text[]", Some("ARRAY[]::text[]"), Some("ARRAY[]::text[]"), true),
        ("text[]", Some("'{a,b}'::text[]"), Some("ARRAY['a'::text, 'b'::text]"), true),
        ("text[]", Some("'{\"a b\",\"c\\\"d\"}'::text[]"), Some("ARRAY['a b'::text, 'c\"d'::text]"), true),
        ("text[]", Some("'{b,a}'::text[]"), Some("ARRAY['a'::text, 'b'::text]"), false),
        ("text[]", Some("'{}'::text[]"), Some("ARRAY['a'::text]"), false),
        ("text[]", Some("'{a}'::text[]"), Some("ARRAY[]::text[]"), false),
        ("text[]", Some("ARRAY[]::text[]"), None, false),
        (
            "character varying(10)[]",
            Some("'{}'::character varying[]"),
            Some("(ARRAY[]::character varying[])::character varying(10)[]"),
            true,
        ),
        ("integer[]", Some("'{1,2}'::integer[]"), Some("ARRAY[1, 2]"), true),
        ("integer[]", Some("'{1,2}'::integer[]"), Some("ARRAY[1, 3]"), false),
        ("integer[]", Some("'{}'::integer[]"), Some("ARRAY[]::integer[]"), true),
        (
            "\"Role\"[]",
            Some("ARRAY['USER'::\"Role\", 'admin'::\"Role\"]"),
            Some("ARRAY['USER'::\"Role\", 'admin'::\"Role\"]"),
            true,
        ),
        (
            "\"Role\"[]",
            Some("'{USER,admin}'::\"Role\"[]"),
            Some("ARRAY['USER'::\"Role\", 'admin'::\"Role\"]"),
            true,
        ),
        (
            "\"Role\"[]",
            Some("ARRAY['USER'::\"Role\", 'admin'::\"Role\"]"),
            Some("ARRAY['admin'::\"Role\"]"),
            false,
        ),
        ("boolean[]", Some("'{t,f}'::boolean[]"), Some("ARRAY[true, false]"), true),
        ("double precision[]", Some("'{1.50,2}'::double precision[]"), Some("ARRAY[1.5, 2.0]"), true),
        ("numeric(65,30)[]", Some("'{1.50}'::numeric[]"), Some("ARRAY[1.5::numeric(65,30)]"), true),
        ("boolean[]", Some("'{t}'::boolean[]"), Some("ARRAY[true]"), true),
        ("jsonb[]", Some("'{}'::jsonb[]"), Some("ARRAY[]::jsonb[]"), true),
        // Date and time.
        ("timestamp(3) without time zone", Some("now()"), Some("CURRENT_TIMESTAMP"), true),
        ("timestamp(6) with time zone", Some("now()"), Some("CURRENT_TIMESTAMP"), true),
        ("timestamp(3) without time zone", Some("CURRENT_TIMESTAMP"), Some("CURRENT_TIMESTAMP"), true),
        ("timestamp(3) without time zone", None, Some("CURRENT_TIMESTAMP"), false),
        ("timestamp(3) without time zone", Some("CURRENT_TIMESTAMP"), None, false),
        (
            "timestamp(3) without time zone",
            Some("'2021-01-01 00:00:00'::timestamp without time zone"),
            Some("CURRENT_TIMESTAMP"),
            false,
        ),
        ("timestamp(3) without time zone", Some("statement_timestamp()"), Some("CURRENT_TIMESTAMP"), false),
        ("timestamp(3) without time zone", Some("transaction_timestamp()"), Some("CURRENT_TIMESTAMP"), false),
        ("timestamp(3) without time zone", Some("CURRENT_TIMESTAMP(3)"), Some("CURRENT_TIMESTAMP"), false),
        ("timestamp(3) without time zone", Some("LOCALTIMESTAMP"), Some("CURRENT_TIMESTAMP"), false),
        (
            "timestamp(3) without time zone",
            Some("(now())::timestamp(3) without time zone"),
            Some("CURRENT_TIMESTAMP"),
            false,
        ),
        // A date-time literal in the schema: Prisma takes any database default as equal.
        (
            "timestamp(3) without time zone",
            Some("'2021-01-01 00:00:00'::timestamp without time zone"),
            Some("'2020-01-01 00:00:00'::timestamp without time zone"),
            true,
        ),
        (
            "timestamp(3) without time zone",
            None,
            Some("'2020-01-01 00:00:00'::timestamp without time zone"),
            false,
        ),
        // Numbers: by value, whatever the cast or the zeros.
        ("integer", Some("'-1'::integer"), Some("'-1'::integer"), true),
        ("integer", Some("'-1'::integer"), Some("'-2'::integer"), false),
        ("integer", Some("1"), Some("1"), true),
        ("integer", Some("2"), Some("1"), false),
        ("bigint", Some("'5000000000'::bigint"), Some("'5000000000'::bigint"), true),
        ("double precision", Some("1.50"), Some("1.5"), true),
        ("double precision", Some("1.0"), Some("1"), true),
        ("double precision", Some("1.50"), Some("1.25"), false),
        ("numeric(65,30)", Some("2.000"), Some("2"), true),
        ("numeric(65,30)", Some("1.5"), Some("1.51"), false),
        ("numeric(65,30)", Some("'-0.50'::numeric"), Some("'-0.5'::numeric"), true),
        ("numeric(65,30)", Some("1.5"), Some("1.5"), true),
        ("integer", Some("1"), Some("'1'::integer"), true),
        ("integer", Some("(1 + 2)"), Some("3"), false),
        // Booleans.
        ("boolean", Some("true"), Some("true"), true),
        ("boolean", Some("true"), Some("false"), false),
        // Text, with quotes and escapes.
        ("text", Some("'it''s'::text"), Some("'it''s'::text"), true),
        ("text", Some("'it''s'::text"), Some("'its'::text"), false),
        ("text", Some("'a\\b'::text"), Some("E'a\\\\b'"), true),
        ("text", Some("E'line\\nnext'::text"), Some("'line\nnext'::text"), true),
        ("text", Some("'a'::character varying"), Some("'a'::text"), true),
        ("text", Some("''::text"), Some("'x'::text"), false),
        ("character varying(10)", Some("'x'::character varying"), Some("'x'::character varying"), true),
        ("text", Some("upper('x'::text)"), Some("'x'::text"), false),
        ("text", Some("NULL::text"), None, true),
        // Enums, by the value's database name.
        ("\"Role\"", Some("'admin'::\"Role\""), Some("'admin'::\"Role\""), true),
        ("\"Role\"", Some("'admin'::\"Role\""), Some("'USER'::\"Role\""), false),
        ("crm.\"Stage\"", Some("'Lead'::crm.\"Stage\""), Some("'Lead'::crm.\"Stage\""), true),
        // JSON, as JSON.
        ("jsonb", Some("'{\"b\":[1, 2],\"a\":1}'::jsonb"), Some("'{\"a\": 1, \"b\": [1, 2]}'::jsonb"), true),
        ("jsonb", Some("'{\"b\":[1, 2],\"a\":1}'::jsonb"), Some("'{\"a\": 2}'::jsonb"), false),
        ("jsonb", Some("'{}'::jsonb"), Some("'[]'::jsonb"), false),
        // Expressions (`dbgenerated`), as text.
        ("uuid", Some("gen_random_uuid()"), Some("gen_random_uuid()"), true),
        (
            "uuid",
            Some("uuid_in('00000000-0000-0000-0000-000000000000'::cstring)"),
            Some("gen_random_uuid()"),
            false,
        ),
        // Bytes.
        ("bytea", Some("'\\x0a0b'::bytea"), Some("'\\x0a0b'::bytea"), true),
        ("bytea", Some("'\\x0a0b'::bytea"), Some("'\\x0a0c'::bytea"), false),
        // Sequences are compared as the column's type (`SERIAL`): the name does not count.
        ("integer", Some("nextval('\"T_id_seq\"'::regclass)"), Some("nextval('t_id_seq'::regclass)"), true),
        ("integer", Some("nextval('\"T_id_seq\"'::regclass)"), None, false),
        ("integer", None, Some("nextval('\"T_id_seq\"'::regclass)"), false),
    ];

    #[test]
    fn defaults_compare_by_meaning_as_prisma_does() {
        let mut wrong = Vec::new();
        for (data_type, database, schema, equal) in CASES {
            if same_default(*database, kind(data_type), *schema, kind(data_type)) != *equal {
                wrong.push(format!("{data_type}: {database:?} vs {schema:?} should be equal: {equal}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn type_families_follow_prisma() {
        assert_eq!(kind("character varying(10)[]"), ColumnKind { family: Family::Text, list: true });
        assert_eq!(kind("timestamp(3) without time zone").family, Family::DateTime);
        assert_eq!(kind("time with time zone").family, Family::DateTime);
        assert_eq!(kind("\"Role\"").family, Family::Enum);
        assert_eq!(kind("uuid").family, Family::Other);
        assert_eq!(kind("numeric(65,30)").family, Family::Float);
    }
}
