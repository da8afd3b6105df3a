//! A hand-written parser for the Prisma schema language (its grammar is small and line
//! oriented: fields and block attributes end at a newline, except inside brackets).

use crate::ast::*;
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Str(String),
    Number(String),
    Doc(String),
    /// `// ...` or `/* ... */` (`/** ... */` too): Prisma keeps neither.
    Comment,
    Punct(char),
    AtAt,
    Newline,
    Eof,
}

struct Lexed {
    token: Token,
    span: Span,
}

fn lex(text: &str, file: usize) -> Result<Vec<Lexed>, Diagnostic> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let span = |start: usize, end: usize| Span { start, end, file };
    while at < bytes.len() {
        let start = at;
        let c = text[at..].chars().next().expect("at is a char boundary");
        match c {
            '\n' => {
                tokens.push(Lexed { token: Token::Newline, span: span(at, at + 1) });
                at += 1;
            }
            c if c.is_whitespace() => at += c.len_utf8(),
            '/' if text[at..].starts_with("///") => {
                let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                tokens.push(Lexed {
                    token: Token::Doc(text[at + 3..end].trim().to_owned()),
                    span: span(at, end),
                });
                at = end;
            }
            '/' if text[at..].starts_with("//") => {
                at = text[at..].find('\n').map_or(text.len(), |n| at + n);
                tokens.push(Lexed { token: Token::Comment, span: span(start, at) });
            }
            '/' if text[at..].starts_with("/*") => {
                let Some(length) = text[at + 2..].find("*/") else {
                    return Err(Diagnostic::new(
                        "This comment is not closed: `*/` is missing.",
                        span(at, at + 2),
                    ));
                };
                at += 2 + length + 2;
                tokens.push(Lexed { token: Token::Comment, span: span(start, at) });
            }
            '"' => {
                let mut value = String::new();
                at += 1;
                loop {
                    let Some(c) = text[at..].chars().next() else {
                        return Err(Diagnostic::new("This string is not closed.", span(start, at)));
                    };
                    at += c.len_utf8();
                    match c {
                        '"' => break,
                        '\n' => {
                            return Err(Diagnostic::new("This string is not closed.", span(start, at - 1)));
                        }
                        '\\' => {
                            // A backslash at the very end escapes nothing: the string is open.
                            let Some(escaped) = text[at..].chars().next() else {
                                return Err(Diagnostic::new("This string is not closed.", span(start, at)));
                            };
                            at += escaped.len_utf8();
                            value.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        c => value.push(c),
                    }
                }
                tokens.push(Lexed { token: Token::Str(value), span: span(start, at) });
            }
            '@' if text[at..].starts_with("@@") => {
                tokens.push(Lexed { token: Token::AtAt, span: span(at, at + 2) });
                at += 2;
            }
            c if c.is_ascii_digit() || (c == '-' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)) => {
                at += 1;
                while at < bytes.len() && (bytes[at].is_ascii_digit() || bytes[at] == b'.') {
                    at += 1;
                }
                tokens
                    .push(Lexed { token: Token::Number(text[start..at].to_owned()), span: span(start, at) });
            }
            c if c.is_alphabetic() || c == '_' => {
                while let Some(c) = text[at..].chars().next()
                    && (c.is_alphanumeric() || c == '_' || c == '-')
                {
                    at += c.len_utf8();
                }
                tokens.push(Lexed { token: Token::Name(text[start..at].to_owned()), span: span(start, at) });
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ',' | ':' | '=' | '?' | '@' | '.' => {
                tokens.push(Lexed { token: Token::Punct(c), span: span(at, at + 1) });
                at += 1;
            }
            other => {
                return Err(Diagnostic::new(
                    format!("Unexpected character `{other}`."),
                    span(at, at + other.len_utf8()),
                ));
            }
        }
    }
    tokens.push(Lexed { token: Token::Eof, span: span(text.len(), text.len()) });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Lexed>,
    at: usize,
}

type Parsed<T> = Result<T, Diagnostic>;

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].token
    }

    fn span(&self) -> Span {
        self.tokens[self.at].span
    }

    fn bump(&mut self) -> Lexed {
        let lexed = Lexed { token: self.peek().clone(), span: self.span() };
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        lexed
    }

    fn unexpected<T>(&self, expected: &str) -> Parsed<T> {
        let found = match self.peek() {
            Token::Name(name) => format!("`{name}`"),
            Token::Str(text) => format!("\"{text}\""),
            Token::Number(number) => number.clone(),
            Token::Doc(_) => "a doc comment".into(),
            Token::Comment => "a comment".into(),
            Token::Punct(c) => format!("`{c}`"),
            Token::AtAt => "`@@`".into(),
            Token::Newline => "the end of the line".into(),
            Token::Eof => "the end of the file".into(),
        };
        Err(Diagnostic::new(format!("Expected {expected}, found {found}."), self.span()))
    }

    fn punct(&mut self, c: char) -> Parsed<Span> {
        if *self.peek() == Token::Punct(c) {
            Ok(self.bump().span)
        } else {
            self.unexpected(&format!("`{c}`"))
        }
    }

    fn eat(&mut self, c: char) -> bool {
        let found = *self.peek() == Token::Punct(c);
        if found {
            self.bump();
        }
        found
    }

    fn ident(&mut self, what: &str) -> Parsed<Ident> {
        match self.peek().clone() {
            Token::Name(name) => Ok(Ident { name, span: self.bump().span }),
            _ => self.unexpected(what),
        }
    }

    /// `a` or `a.b.c`.
    fn dotted(&mut self, what: &str) -> Parsed<Ident> {
        let mut ident = self.ident(what)?;
        while *self.peek() == Token::Punct('.') {
            self.bump();
            let next = self.ident("a name after `.`")?;
            ident.name = format!("{}.{}", ident.name, next.name);
            ident.span.end = next.span.end;
        }
        Ok(ident)
    }

    /// The end of a field, enum value, block attribute or property: one trailing comment at
    /// most (as Prisma: `a Int /* x */ // y` is refused), then a newline. A trailing `///` is
    /// documentation, as Prisma appends it to the field's.
    fn end_of_line(&mut self) -> Parsed<Option<String>> {
        let trailing_doc = match self.peek().clone() {
            Token::Doc(text) => {
                self.bump();
                Some(text)
            }
            Token::Comment => {
                self.bump();
                None
            }
            _ => None,
        };
        match self.peek() {
            Token::Newline => {
                self.bump();
                Ok(trailing_doc)
            }
            Token::Punct('}') | Token::Eof => Ok(trailing_doc),
            _ => self.unexpected("the end of the line"),
        }
    }

    /// Blank lines and comments before an item, and its `///` documentation. A comment may
    /// stand before the item on its own line (`/* x */ id Int @id`), as Prisma reads it.
    fn docs(&mut self) -> Option<String> {
        let mut lines = Vec::new();
        loop {
            match self.peek().clone() {
                Token::Doc(text) => {
                    lines.push(text);
                    self.bump();
                }
                Token::Newline | Token::Comment => {
                    self.bump();
                }
                _ => break,
            }
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn file(&mut self) -> Parsed<Vec<Top>> {
        let mut tops = Vec::new();
        loop {
            let doc = self.docs();
            if *self.peek() == Token::Eof {
                return Ok(tops);
            }
            let keyword =
                self.ident("a block (`model`, `enum`, `view`, `type`, `datasource`, `generator`)")?;
            let name = self.ident("the block's name")?;
            self.punct('{')?;
            let start = keyword.span;
            let top = match keyword.name.as_str() {
                "model" | "view" | "type" => {
                    let (fields, attributes) = self.model_body()?;
                    let end = self.punct('}')?;
                    let model = Model { name, fields, attributes, doc, span: Span { end: end.end, ..start } };
                    match keyword.name.as_str() {
                        "model" => Top::Model(model),
                        "view" => Top::View(model),
                        _ => Top::CompositeType(model),
                    }
                }
                "enum" => {
                    let (values, attributes) = self.enum_body()?;
                    let end = self.punct('}')?;
                    Top::Enum(Enum { name, values, attributes, doc, span: Span { end: end.end, ..start } })
                }
                "datasource" | "generator" => {
                    let properties = self.config_body()?;
                    let end = self.punct('}')?;
                    let config = Config { name, properties, span: Span { end: end.end, ..start } };
                    if keyword.name == "datasource" {
                        Top::Datasource(config)
                    } else {
                        Top::Generator(config)
                    }
                }
                other => {
                    return Err(Diagnostic::new(
                        format!(
                            "This block is invalid: `{other}` is not a block type. Use `model`, `enum`, `view`, `type`, `datasource` or `generator`."
                        ),
                        keyword.span,
                    ));
                }
            };
            tops.push(top);
        }
    }

    fn model_body(&mut self) -> Parsed<(Vec<Field>, Vec<Attribute>)> {
        let (mut fields, mut attributes) = (Vec::new(), Vec::new());
        loop {
            let doc = self.docs();
            match self.peek() {
                Token::Punct('}') | Token::Eof => return Ok((fields, attributes)),
                Token::AtAt => {
                    self.bump();
                    attributes.push(self.attribute()?);
                    self.end_of_line()?;
                }
                _ => {
                    let name = self.ident("a field name or a block attribute (`@@...`)")?;
                    let ty = self.field_type()?;
                    let mut field_attributes = Vec::new();
                    while *self.peek() == Token::Punct('@') {
                        self.bump();
                        field_attributes.push(self.attribute()?);
                    }
                    let end = self.tokens[self.at.saturating_sub(1)].span.end;
                    let span = Span { end, ..name.span };
                    let doc = with_trailing(doc, self.end_of_line()?);
                    fields.push(Field { name, ty, attributes: field_attributes, doc, span });
                }
            }
        }
    }

    fn field_type(&mut self) -> Parsed<FieldType> {
        let name = match self.peek() {
            Token::Name(_) => self.ident("a type")?,
            _ => return self.unexpected("the field's type"),
        };
        let unsupported = if name.name == "Unsupported" {
            self.punct('(')?;
            let text = match self.bump().token {
                Token::Str(text) => text,
                _ => {
                    return Err(Diagnostic::new(
                        "Unsupported types take the database type as a string: `Unsupported(\"circle\")`.",
                        name.span,
                    ));
                }
            };
            self.punct(')')?;
            Some(text)
        } else {
            None
        };
        let arity = if self.eat('?') {
            Arity::Optional
        } else if *self.peek() == Token::Punct('[') {
            self.bump();
            self.punct(']')?;
            if *self.peek() == Token::Punct('?') {
                return Err(Diagnostic::new(
                    "Optional lists are not supported: use `T[]` or `T?`.",
                    self.span(),
                ));
            }
            Arity::List
        } else {
            Arity::Required
        };
        Ok(FieldType { name, unsupported, arity })
    }

    fn attribute(&mut self) -> Parsed<Attribute> {
        let start = self.tokens[self.at.saturating_sub(1)].span;
        let name = self.dotted("an attribute name")?;
        let args = if *self.peek() == Token::Punct('(') { self.arguments()? } else { Vec::new() };
        let end = self.tokens[self.at.saturating_sub(1)].span.end;
        Ok(Attribute { name, args, span: Span { end, ..start } })
    }

    /// `(a, name: b, ...)`, on one line as Prisma reads it.
    fn arguments(&mut self) -> Parsed<Vec<Argument>> {
        self.punct('(')?;
        let mut args = Vec::new();
        loop {
            self.same_line()?;
            if self.eat(')') {
                return Ok(args);
            }
            let named = matches!(self.peek(), Token::Name(_))
                && self.tokens.get(self.at + 1).is_some_and(|next| next.token == Token::Punct(':'));
            let name = if named {
                let name = self.ident("an argument name")?;
                self.punct(':')?;
                Some(name)
            } else {
                None
            };
            args.push(Argument { name, value: self.value()? });
            self.same_line()?;
            if !self.eat(',') {
                self.punct(')')?;
                return Ok(args);
            }
        }
    }

    /// Prisma's grammar has no line breaks (nor comments) inside brackets: it refuses an
    /// attribute written over several lines, so haste does too.
    fn same_line(&self) -> Parsed<()> {
        match self.peek() {
            Token::Newline | Token::Comment | Token::Doc(_) => Err(Diagnostic::new(
                "Prisma reads an attribute and its arguments on one line: join the lines (and move the comment after the attribute).",
                self.span(),
            )),
            _ => Ok(()),
        }
    }

    fn value(&mut self) -> Parsed<Value> {
        let start = self.span();
        let kind = match self.peek().clone() {
            Token::Str(text) => {
                self.bump();
                ValueKind::String(text)
            }
            Token::Number(number) => {
                self.bump();
                ValueKind::Number(number)
            }
            Token::Name(_) => {
                let name = self.dotted("a value")?;
                if *self.peek() == Token::Punct('(') {
                    ValueKind::Call(name.name, self.arguments()?)
                } else {
                    ValueKind::Name(name.name)
                }
            }
            Token::Punct('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.same_line()?;
                    if self.eat(']') {
                        break;
                    }
                    items.push(self.value()?);
                    self.same_line()?;
                    if !self.eat(',') {
                        self.punct(']')?;
                        break;
                    }
                }
                ValueKind::Array(items)
            }
            _ => return self.unexpected("a value"),
        };
        let end = self.tokens[self.at.saturating_sub(1)].span.end;
        Ok(Value { kind, span: Span { end, ..start } })
    }

    fn enum_body(&mut self) -> Parsed<(Vec<EnumValue>, Vec<Attribute>)> {
        let (mut values, mut attributes) = (Vec::new(), Vec::new());
        loop {
            let doc = self.docs();
            match self.peek() {
                Token::Punct('}') | Token::Eof => return Ok((values, attributes)),
                Token::AtAt => {
                    self.bump();
                    attributes.push(self.attribute()?);
                    self.end_of_line()?;
                }
                _ => {
                    let name = self.ident("an enum value")?;
                    let mut value_attributes = Vec::new();
                    while self.eat('@') {
                        value_attributes.push(self.attribute()?);
                    }
                    let doc = with_trailing(doc, self.end_of_line()?);
                    values.push(EnumValue { name, attributes: value_attributes, doc });
                }
            }
        }
    }

    fn config_body(&mut self) -> Parsed<Vec<(Ident, Value)>> {
        let mut properties = Vec::new();
        loop {
            self.docs();
            if matches!(self.peek(), Token::Punct('}') | Token::Eof) {
                return Ok(properties);
            }
            let key = self.ident("a property name")?;
            self.punct('=')?;
            let value = self.value()?;
            self.end_of_line()?;
            properties.push((key, value));
        }
    }
}

/// Documentation written before an item and after it on the same line, as Prisma joins them.
fn with_trailing(doc: Option<String>, trailing: Option<String>) -> Option<String> {
    match (doc, trailing) {
        (Some(doc), Some(trailing)) => Some(format!("{doc}\n{trailing}")),
        (doc, trailing) => doc.or(trailing),
    }
}

/// Parses one file (`file` is its index in a multi-file schema, for spans).
pub fn parse(text: &str, file: usize) -> Result<Vec<Top>, Diagnostic> {
    let tokens = lex(text, file)?;
    Parser { tokens, at: 0 }.file()
}
