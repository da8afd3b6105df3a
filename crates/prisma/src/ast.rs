//! The syntax tree of a Prisma schema, as written (no name resolution).

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Which file of a multi-file schema.
    pub file: usize,
}

/// Where a node is never makes two trees differ: trees compare by content.
impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// A name and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A whole schema: every top-level block of every file, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaAst {
    /// The blocks.
    pub tops: Vec<Top>,
}

/// A top-level block.
#[derive(Debug, Clone, PartialEq)]
pub enum Top {
    /// `model`.
    Model(Model),
    /// `view` (read-only to Migrate).
    View(Model),
    /// `type` (a composite type: MongoDB only).
    CompositeType(Model),
    /// `enum`.
    Enum(Enum),
    /// `datasource`.
    Datasource(Config),
    /// `generator`.
    Generator(Config),
}

/// A `model`, `view` or `type` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Its name.
    pub name: Ident,
    /// Its fields, in order.
    pub fields: Vec<Field>,
    /// Block attributes (`@@id`, `@@index`, ...), in order.
    pub attributes: Vec<Attribute>,
    /// `///` comments before it.
    pub doc: Option<String>,
    /// The whole block.
    pub span: Span,
}

/// A field of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: FieldType,
    /// Field attributes (`@id`, `@default(...)`, `@db.VarChar(20)`, ...), in order.
    pub attributes: Vec<Attribute>,
    /// `///` comments before it.
    pub doc: Option<String>,
    /// The whole line.
    pub span: Span,
}

/// `T`, `T?` or `T[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Required.
    Required,
    /// `?`.
    Optional,
    /// `[]`.
    List,
}

/// A field's type.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldType {
    /// `String`, a model or enum name, or `Unsupported`.
    pub name: Ident,
    /// For `Unsupported("...")`: the database type, verbatim.
    pub unsupported: Option<String>,
    /// Required, optional or list.
    pub arity: Arity,
}

/// An `enum` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Its name.
    pub name: Ident,
    /// Its values, in order.
    pub values: Vec<EnumValue>,
    /// Block attributes (`@@map`, `@@schema`).
    pub attributes: Vec<Attribute>,
    /// `///` comments before it.
    pub doc: Option<String>,
    /// The whole block.
    pub span: Span,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// Its name.
    pub name: Ident,
    /// `@map`.
    pub attributes: Vec<Attribute>,
    /// `///` comments before it.
    pub doc: Option<String>,
}

/// A `datasource` or `generator` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Its name.
    pub name: Ident,
    /// `key = value` lines, in order.
    pub properties: Vec<(Ident, Value)>,
    /// The whole block.
    pub span: Span,
}

/// `@name(args)` or `@@name(args)`; `name` may be dotted (`db.VarChar`).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Without the `@` or `@@`.
    pub name: Ident,
    /// Its arguments (none when written without parentheses).
    pub args: Vec<Argument>,
    /// The whole attribute.
    pub span: Span,
}

/// An argument, positional or named (`map: "x"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    /// The name, for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Value,
}

/// An expression and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where.
    pub span: Span,
}

/// The expressions of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `"text"`, unescaped.
    String(String),
    /// `42`, `-1.5`, as written.
    Number(String),
    /// `Cascade`, `true`, `db.Text`: a name, possibly dotted.
    Name(String),
    /// `now()`, `dbgenerated("...")`, `email(sort: Desc)`.
    Call(String, Vec<Argument>),
    /// `[a, b]`.
    Array(Vec<Value>),
}

impl Attribute {
    /// The first positional argument.
    pub fn positional(&self) -> Option<&Value> {
        self.args.iter().find(|a| a.name.is_none()).map(|a| &a.value)
    }

    /// The named argument `name`.
    pub fn named(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == name)).map(|a| &a.value)
    }
}

impl Value {
    /// The text of a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(text) => Some(text),
            _ => None,
        }
    }

    /// The name of a bare name.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::Name(name) => Some(name),
            _ => None,
        }
    }
}
