//! The Prisma schema language: every attribute and argument haste reads, each class of error
//! with its position, and a round-trip property (printed trees parse back the same).

use haste_prisma::ast::{Arity, SchemaAst, Top, ValueKind};
use haste_prisma::ir::{Database, IndexColumn};
use haste_prisma::{Diagnostic, SourceFile};
use haste_testkit::Random;

fn files(text: &str) -> Vec<SourceFile> {
    vec![SourceFile { path: "schema.prisma".into(), text: text.into() }]
}

fn parse(text: &str) -> SchemaAst {
    haste_prisma::parse(&files(text)).unwrap_or_else(|e| panic!("{}", e[0].render(&files(text))))
}

fn lower(text: &str) -> Database {
    haste_prisma::lower(&parse(text), "public").unwrap_or_else(|e| panic!("{}", e[0].render(&files(text))))
}

/// The first error of `text`, with its line and column.
fn error(text: &str) -> (String, usize, usize) {
    let errors: Vec<Diagnostic> = match haste_prisma::parse(&files(text)) {
        Err(errors) => errors,
        Ok(ast) => haste_prisma::lower(&ast, "public").expect_err("this schema must not validate"),
    };
    let (line, column) = errors[0].position(text);
    (errors[0].message.clone(), line, column)
}

const EVERYTHING: &str = r#"
/// The datasource.
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["partialIndexes", "views"]
}

/// Roles people have.
enum Role {
  USER
  ADMIN @map("admin")
  @@map("roles")
}

model User {
  /// The key.
  id        Int       @id(map: "users_pk") @default(autoincrement())
  email     String    @unique(map: "users_email_unique", sort: Desc) @db.VarChar(320)
  name      String?   @map("full_name")
  role      Role      @default(ADMIN)
  tags      String[]  @default(["a", "b"])
  nick      String    @default("it's")
  ratio     Float     @default(-1.5)
  amount    Decimal   @db.Decimal(12, 2)
  data      Json      @default("{}")
  raw       Bytes?
  geo       Unsupported("circle")?
  createdAt DateTime  @default(now()) @db.Timestamptz(6)
  updatedAt DateTime  @updatedAt
  token     String    @default(uuid()) @db.Uuid
  code      String    @default(cuid())
  serial    String    @default(dbgenerated("gen_random_uuid()::text"))
  hidden    Int?      @ignore
  posts     Post[]    @relation("authored")
  edits     Post[]    @relation("edited")
  groups    Group[]

  @@index([name(sort: Desc), role], map: "users_name_role")
  @@index([data(ops: JsonbPathOps)], type: Gin)
  @@index([email], where: raw("deleted IS NULL"))
  @@map("users")
}

model Post {
  id       BigInt @id @default(autoincrement())
  authorId Int
  editorId Int?
  slug     String
  author   User   @relation("authored", fields: [authorId], references: [id], onDelete: Cascade, onUpdate: NoAction, map: "post_author")
  editor   User?  @relation(name: "edited", fields: [editorId], references: [id])

  @@unique([authorId, slug], name: "authorSlug")
}

model Group {
  id    Int    @id @default(autoincrement()) @db.SmallInt
  users User[]
}

model Membership {
  userId  Int
  groupId Int
  @@id([userId, groupId], map: "membership_key")
  @@ignore
}

model Legacy {
  value Int
  @@ignore
}

view Active {
  id Int @unique
}
"#;

#[test]
fn every_block_field_attribute_and_argument_is_read() {
    let ast = parse(EVERYTHING);
    let Top::Model(user) = &ast.tops[3] else { panic!("the fourth block is a model") };
    assert_eq!(user.fields[0].doc.as_deref(), Some("The key."));
    let geo = user.fields.iter().find(|f| f.name.name == "geo").unwrap();
    assert_eq!((geo.ty.unsupported.as_deref(), geo.ty.arity), (Some("circle"), Arity::Optional));
    assert_eq!(user.fields.iter().find(|f| f.name.name == "tags").unwrap().ty.arity, Arity::List);
    let index = &user.attributes[0];
    assert_eq!(index.name.name, "index");
    let ValueKind::Array(fields) = &index.positional().unwrap().kind else { panic!("a field list") };
    assert!(
        matches!(&fields[0].kind, ValueKind::Call(name, args) if name == "name" && args[0].value.as_name() == Some("Desc"))
    );
    assert!(matches!(ast.tops.last(), Some(Top::View(_))));

    let database = lower(EVERYTHING);
    let users = database.tables.iter().find(|t| t.name.name == "users").unwrap();
    let column = |name: &str| users.columns.iter().find(|c| c.name == name).unwrap();
    assert_eq!(users.primary_key.as_ref().unwrap().name, "users_pk");
    assert_eq!(column("id").data_type, "SERIAL");
    assert_eq!(column("email").data_type, "VARCHAR(320)");
    assert!(column("full_name").default.is_none() && !column("full_name").not_null);
    assert_eq!(column("role").data_type, "\"roles\"");
    assert_eq!(column("role").default.as_deref(), Some("'admin'"));
    assert_eq!(column("tags").default.as_deref(), Some("ARRAY['a', 'b']::TEXT[]"));
    assert!(!column("tags").not_null, "lists are never NOT NULL");
    assert_eq!(column("nick").default.as_deref(), Some("'it''s'"));
    assert_eq!(column("ratio").default.as_deref(), Some("-1.5"));
    assert_eq!(column("amount").data_type, "DECIMAL(12,2)");
    assert_eq!(column("raw").data_type, "BYTEA");
    assert_eq!(column("geo").data_type, "circle");
    assert_eq!(column("createdAt").data_type, "TIMESTAMPTZ(6)");
    assert_eq!(column("createdAt").default.as_deref(), Some("CURRENT_TIMESTAMP"));
    assert!(column("updatedAt").default.is_none() && column("updatedAt").not_null);
    assert!(column("token").default.is_none() && column("code").default.is_none(), "client-side defaults");
    assert_eq!(column("serial").default.as_deref(), Some("gen_random_uuid()::text"));
    assert!(users.columns.iter().any(|c| c.name == "hidden"), "@ignore fields keep their column");
    assert!(database.tables.iter().any(|t| t.name.name == "Membership"), "@@ignore models keep their table");
    assert!(!database.tables.iter().any(|t| t.name.name == "Active"), "views are not Migrate's");

    let index =
        |name: &str| database.indexes.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(index("users_email_unique").columns[0].sort.as_deref(), Some("DESC"));
    assert_eq!(
        index("users_name_role").columns,
        vec![
            IndexColumn {
                name: "full_name".into(),
                sort: Some("DESC".into()),
                opclass: None,
                opclass_default: false
            },
            IndexColumn { name: "role".into(), sort: None, opclass: None, opclass_default: false },
        ]
    );
    let gin = index("users_data_idx");
    assert_eq!(
        (gin.method.as_deref(), gin.columns[0].opclass.as_deref()),
        (Some("GIN"), Some("jsonb_path_ops"))
    );
    assert_eq!(
        database.indexes.iter().find(|i| i.predicate.is_some()).unwrap().predicate.as_deref(),
        Some("deleted IS NULL")
    );
    assert!(index("Post_authorId_slug_key").unique, "@@unique is a unique index, `name:` is client-only");

    let key = |name: &str| {
        database.foreign_keys.iter().find(|k| k.name == name).unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        (key("post_author").on_delete.as_str(), key("post_author").on_update.as_str()),
        ("CASCADE", "NO ACTION")
    );
    assert_eq!(key("Post_editorId_fkey").on_delete, "SET NULL", "optional relation: SetNull by default");
    let join = database.tables.iter().find(|t| t.name.name == "_GroupToUser").unwrap();
    assert_eq!(join.columns[0].data_type, "SMALLINT", "A is Group's id, SMALLSERIAL read as SMALLINT");
    assert_eq!(join.columns[1].data_type, "INTEGER");
    assert_eq!(join.primary_key.as_ref().unwrap().name, "_GroupToUser_AB_pkey");
    assert!(database.indexes.iter().any(|i| i.name == "_GroupToUser_B_index"));
    assert!(
        database.foreign_keys.iter().any(|k| k.name == "_GroupToUser_A_fkey" && k.on_delete == "CASCADE")
    );
    let membership = database.tables.iter().find(|t| t.name.name == "Membership").unwrap();
    assert_eq!(membership.primary_key.as_ref().unwrap().columns, vec!["userId", "groupId"]);
}

#[test]
fn long_names_are_cut_at_63_bytes_like_prismas() {
    let long = "A".repeat(70);
    let database = lower(&format!(
        "model {long} {{\n  id Int @id\n  value Int @unique\n  other Int\n  @@index([other])\n}}\n"
    ));
    let names: Vec<&str> = database.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec![format!("{}_key", &long[..59]), format!("{}_idx", &long[..59])]);
    assert_eq!(database.tables[0].primary_key.as_ref().unwrap().name, format!("{}_pkey", &long[..58]));
}

#[test]
fn every_error_class_names_its_place() {
    let cases: &[(&str, &str, usize, usize)] = &[
        ("model A {\n  id String @default(\"x)\n}\n", "This string is not closed.", 2, 22),
        // A backslash that ends the file (found by tests/fuzz.rs; it used to panic).
        ("model A {\n  id String @map(\"a\\", "This string is not closed.", 2, 18),
        ("model A {\n  id Int @id\n  bad Int !\n}\n", "Unexpected character `!`.", 3, 11),
        ("model A {\n  id\n}\n", "Expected the field's type, found the end of the line.", 2, 5),
        ("modle A {\n}\n", "`modle` is not a block type", 1, 1),
        ("model A {\n  id Int @id\n  b Nope\n}\n", "Type \"Nope\" is neither a built-in type", 3, 5),
        (
            "model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n}\n",
            "The relation field `bs` on model `A` is missing an opposite relation field on the model `B`",
            3,
            3,
        ),
        (
            "model A {\n  id Int @id\n  x B @relation(fields: [xId], references: [id])\n  xId Int\n  y B @relation(fields: [yId], references: [id])\n  yId Int\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n",
            "Ambiguous relation detected. The fields `x` and `y` in model `A` both refer to `B`",
            5,
            3,
        ),
        (
            "model A {\n  id Int @id\n  b B @relation(fields: [bId, id], references: [id])\n  bId Int\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n",
            "You must specify the same number of fields in `fields` and `references`.",
            3,
            7,
        ),
        (
            "model A {\n  id Int @id\n  b B\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n",
            "must specify the `fields` argument in the @relation attribute",
            3,
            3,
        ),
        (
            "model A {\n  id Int @id\n  @@index([nope])\n}\n",
            "The index definition refers to the unknown fields: nope.",
            3,
            12,
        ),
        ("type Address {\n  street String\n}\n", "Composite types are not supported on PostgreSQL", 1, 6),
        (
            "model A {\n  id Int @id\n}\nenum A {\n  X\n}\n",
            "cannot be defined because a model or enum with that name already exists",
            4,
            6,
        ),
        ("model A {\n  name String\n}\n", "Each model must have at least one unique criteria", 1, 7),
        (
            "model A {\n  id String @id @db.Varchar(3)\n}\n",
            "Native type Varchar is not supported for postgresql connector.",
            2,
            17,
        ),
        (
            "enum E {\n  X\n}\nmodel A {\n  id Int @id\n  e E @default(Y)\n}\n",
            "`Y` is not a valid value of the enum",
            6,
            16,
        ),
        ("datasource db {\n  provider = \"mysql\"\n}\n", "this datasource's provider is `mysql`", 2, 14),
        ("model A {\n  id Int[]? @id\n}\n", "Optional lists are not supported", 2, 11),
    ];
    for (text, message, line, column) in cases {
        let (found, found_line, found_column) = error(text);
        assert!(found.contains(message), "expected `{message}`, got `{found}` for:\n{text}");
        assert_eq!((found_line, found_column), (*line, *column), "{found}\n{text}");
    }
    // Rendered like Prisma's own errors: message, file:line:column, the line, a marker.
    let text = "model A {\n  id Int @id\n  b Nope\n}\n";
    let errors = haste_prisma::lower(&parse(text), "public").unwrap_err();
    let rendered = errors[0].render(&files(text));
    assert!(rendered.starts_with("error: Type \"Nope\""), "{rendered}");
    assert!(
        rendered.contains("--> schema.prisma:3:5")
            && rendered.contains("3 |   b Nope")
            && rendered.contains("^^^^"),
        "{rendered}"
    );
}

/// Every place Prisma 6.19.3 accepts a comment (each checked with `prisma validate`): the
/// schema reads as it does without them, and a trailing `///` documents its field as Prisma's does.
#[test]
fn comments_are_read_where_prisma_reads_them() {
    let commented = r#"
/* A block comment
   model Broken { !!! } */
/** A doc block. */ /* two on a line */
datasource db { // after the brace
  provider = "postgresql" /* after a property */
  /* before a property */ url = env("DATABASE_URL") // and a line comment
}

enum Role { /* after the brace */
  USER /// trailing doc
  ADMIN /* block */
  // own line
  @@map("roles") // after a block attribute
}

model User {
  id           Int     @id /// the key
  credentialId Bytes /// @zod.custom.use(z.instanceof(Buffer))
  email        String  @unique // a plain comment
  /* before a field */ name String? /* after it,
  over two lines */
  role         Role    @default(USER) //no space
  @@index([email, name]) /* after a block attribute */
  /** before a block attribute */ @@map("users") /// doc after it
} // after the block
"#;
    let plain = r#"
datasource db {
  provider = "postgresql"
  url = env("DATABASE_URL")
}
enum Role {
  USER
  ADMIN
  @@map("roles")
}
model User {
  id           Int     @id
  credentialId Bytes
  email        String  @unique
  name         String?
  role         Role    @default(USER)
  @@index([email, name])
  @@map("users")
}
"#;
    assert_eq!(lower(commented), lower(plain));
    let ast = parse(commented);
    let Top::Model(user) = &ast.tops[2] else { panic!("the third block is a model") };
    let doc = |name: &str| user.fields.iter().find(|f| f.name.name == name).unwrap().doc.clone();
    assert_eq!(doc("id").as_deref(), Some("the key"));
    assert_eq!(doc("credentialId").as_deref(), Some("@zod.custom.use(z.instanceof(Buffer))"));
    assert_eq!(doc("email"), None, "`//` is not documentation");
    let Top::Enum(role) = &ast.tops[1] else { panic!("the second block is an enum") };
    assert_eq!(role.values[0].doc.as_deref(), Some("trailing doc"));
}

/// Where Prisma 6.19.3 refuses a comment or a line break, haste does too, and says where.
#[test]
fn comments_and_line_breaks_prisma_refuses_are_errors() {
    let cases: &[(&str, &str, usize, usize)] = &[
        ("model A {\n  id /* x */ Int @id\n}\n", "Expected the field's type, found a comment.", 2, 6),
        ("model A {\n  id Int /* x */ @id\n}\n", "Expected the end of the line, found `@`.", 2, 18),
        (
            "model A {\n  id Int @id /* a */ /* b */\n}\n",
            "Expected the end of the line, found a comment.",
            2,
            22,
        ),
        (
            "model A {\n  id Int @id /* a */ // b\n}\n",
            "Expected the end of the line, found a comment.",
            2,
            22,
        ),
        ("model A /* x */ {\n  id Int @id\n}\n", "Expected `{`, found a comment.", 1, 9),
        (
            "model A {\n  id Int @id @default(/* x */ 1)\n}\n",
            "Prisma reads an attribute and its arguments on one line",
            2,
            23,
        ),
        ("model A {\n  id Int @id\n}\n/* not closed\n", "This comment is not closed: `*/` is missing.", 4, 1),
        (
            "model A {\n  id Int @id\n  a Int\n  @@index([\n    a\n  ])\n}\n",
            "Prisma reads an attribute and its arguments on one line",
            4,
            12,
        ),
        (
            "model A {\n  id Int @id\n  a Int\n  @@index([a], // x\n    map: \"i\")\n}\n",
            "Prisma reads an attribute and its arguments on one line",
            4,
            16,
        ),
        (
            "generator g {\n  previewFeatures = [\n    \"views\"\n  ]\n}\n",
            "Prisma reads an attribute and its arguments on one line",
            2,
            22,
        ),
    ];
    for (text, message, line, column) in cases {
        let (found, found_line, found_column) = error(text);
        assert!(found.contains(message), "expected `{message}`, got `{found}` for:\n{text}");
        assert_eq!((found_line, found_column), (*line, *column), "{found}\n{text}");
    }
}

/// `name:` as Prisma 6.19.3 reads it (each checked with `prisma-oracle.sh diff`): the database
/// name on `@@index` (an alias of `map:`, both refused), the client API's name on `@@unique`
/// and `@@id`, which keep their default database names.
#[test]
fn name_argument_is_the_index_name_only_on_index() {
    let database = lower(
        "model T {\n  id Int @id\n  a Int\n  b Int\n  c Int\n  d Int\n  e Int\n  @@index([a, b], name: \"T_ab_idx\")\n  @@unique([c, d], name: \"cd\")\n  @@unique([a, e], name: \"ae\", map: \"T_ae_map\")\n}\nmodel U {\n  x Int\n  y Int\n  @@id([x, y], name: \"xy\")\n}\nmodel W {\n  x Int\n  y Int\n  @@id([x, y], name: \"xy\", map: \"W_key\")\n}\n",
    );
    let names: Vec<&str> = database.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["T_ab_idx", "T_c_d_key", "T_ae_map"]);
    let keys: Vec<&str> =
        database.tables.iter().map(|t| t.primary_key.as_ref().unwrap().name.as_str()).collect();
    assert_eq!(keys, vec!["T_pkey", "U_pkey", "W_key"]);
    // An index named as the database already has it is not renamed to the default name.
    let history =
        lower("model T {\n  id Int @id\n  a Int\n  b Int\n  @@index([a, b], map: \"T_ab_idx\")\n}\n");
    let schema =
        lower("model T {\n  id Int @id\n  a Int\n  b Int\n  @@index([a, b], name: \"T_ab_idx\")\n}\n");
    assert!(haste_prisma::migration(&history, &schema, &schema).is_empty());
}

/// Prisma's validation of names and views, as 6.19.3 words it.
#[test]
fn constraint_names_and_views_are_validated_as_prisma_does() {
    let views = "generator client {\n  provider = \"prisma-client-js\"\n  previewFeatures = [\"views\"]\n}\n";
    let long = "VeryLongTableNameForTestingTruncation";
    let colliding = format!(
        "model {long} {{\n  id Int @id\n  aVeryLongColumnNameNumberOne Int\n  aVeryLongColumnNameNumberTwo Int\n  aVeryLongColumnNameNumberThree Int\n  @@index([aVeryLongColumnNameNumberOne, aVeryLongColumnNameNumberTwo])\n  @@index([aVeryLongColumnNameNumberOne, aVeryLongColumnNameNumberThree])\n}}\n"
    );
    let cases: Vec<(String, &str, usize, usize)> = vec![
        (
            "model T {\n  id Int @id\n  e Int\n  @@index([e], name: \"n\", map: \"m\")\n}\n".into(),
            "The `@@index` attribute accepts the `name` argument as an alias for the `map` argument for legacy reasons. It does not accept both though.",
            4,
            22,
        ),
        (
            colliding,
            "The given constraint name `VeryLongTableNameForTestingTruncation_aVeryLongColumnNameNu_idx` has to be unique in the following namespace: global for primary key, indexes and unique constraints.",
            6,
            3,
        ),
        (
            "model T {\n  id Int @id\n  a Int\n}\nmodel U {\n  id Int @id\n  b Int @unique(map: \"T_pkey\")\n}\n".into(),
            "Error parsing attribute \"@id\": The given constraint name `T_pkey` has to be unique",
            2,
            10,
        ),
        ("view V {\n  id Int @unique\n}\n".into(), "View definitions are only available with the `views` preview feature", 1, 6),
        (format!("{views}view V {{\n  id Int @id\n}}\n"), "Views cannot have primary keys (a rule since Prisma 6.13", 6, 10),
        (format!("{views}view V {{\n  a Int\n  b Int\n  @@id([a, b])\n}}\n"), "Views cannot have primary keys", 8, 3),
        (format!("{views}view V {{\n  a Int @unique\n  @@index([a])\n}}\n"), "Views cannot have indexes.", 7, 3),
        (
            format!("{views}view V {{\n  a Int @unique(map: \"x\")\n}}\n"),
            "@@unique annotations on views are not backed by unique indexes in the database and cannot specify a mapped database name.",
            6,
            9,
        ),
        (
            format!("{views}model V {{\n  id Int @id\n}}\nview V {{\n  id Int @unique\n}}\n"),
            "The view \"V\" cannot be defined because a model with that name already exists.",
            8,
            6,
        ),
    ];
    for (text, message, line, column) in &cases {
        let (found, found_line, found_column) = error(text);
        assert!(found.contains(message), "expected `{message}`, got `{found}` for:\n{text}");
        assert_eq!((found_line, found_column), (*line, *column), "{found}\n{text}");
    }
    // A view may be related to a model: the relation pairs, no foreign key is written (the view
    // is not a table), and a view needs no unique criteria.
    let database = lower(&format!(
        "{views}model User {{\n  id Int @id\n  stats Stats?\n}}\nview Stats {{\n  userId Int @unique\n  user User @relation(fields: [userId], references: [id])\n}}\nview Plain {{\n  a Int\n}}\n"
    ));
    assert_eq!(database.tables.iter().map(|t| t.name.name.as_str()).collect::<Vec<_>>(), vec!["User"]);
    assert!(database.foreign_keys.is_empty() && database.indexes.is_empty());
}

/// Random schema text, well formed, over the whole grammar.
struct Generator(Random);

impl Generator {
    fn next(&mut self, bound: usize) -> usize {
        self.0.next(bound)
    }

    fn name(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.next(1000))
    }

    fn value(&mut self, depth: usize) -> String {
        match self.next(if depth > 1 { 4 } else { 6 }) {
            0 => format!("\"s{} \\\" \\\\ {}\"", self.next(9), ["", "é", "\\n"][self.next(3)]),
            1 => format!("{}{}", ["", "-"][self.next(2)], self.next(100)),
            2 => self.name("name"),
            3 => format!("{}.{}", self.name("db"), self.name("T")),
            4 => {
                let args: Vec<String> = (0..self.next(3)).map(|_| self.argument(depth + 1)).collect();
                format!("{}({})", self.name("f"), args.join(", "))
            }
            _ => {
                let items: Vec<String> = (0..self.next(3)).map(|_| self.value(depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    fn argument(&mut self, depth: usize) -> String {
        let value = self.value(depth);
        if self.next(2) == 0 { format!("{}: {value}", self.name("arg")) } else { value }
    }

    fn attribute(&mut self, prefix: &str) -> String {
        let name = if self.next(3) == 0 { format!("db.{}", self.name("T")) } else { self.name("attr") };
        match self.next(2) {
            0 => format!("{prefix}{name}"),
            _ => {
                let args: Vec<String> = (0..1 + self.next(3)).map(|_| self.argument(0)).collect();
                format!("{prefix}{name}({})", args.join(", "))
            }
        }
    }

    /// A comment where Prisma allows one after an item on its line, or nothing.
    fn trailing_comment(&mut self) -> String {
        match self.next(5) {
            0 => format!(" // {}", self.name("c")),
            1 => format!(" /* {} */", self.name("c")),
            2 => format!(" /// {}", self.name("doc")),
            _ => String::new(),
        }
    }

    /// A comment where Prisma allows one before an item on its line, or nothing.
    fn leading_comment(&mut self) -> String {
        match self.next(4) {
            0 => format!("/* {}\n {} */ ", self.name("c"), self.name("c")),
            1 => "/**/ ".to_owned(),
            _ => String::new(),
        }
    }

    fn schema(&mut self) -> String {
        let mut text = String::new();
        for _ in 0..1 + self.next(4) {
            let doc = if self.next(3) == 0 { format!("/// {}\n", self.name("doc")) } else { String::new() };
            match self.next(4) {
                0 | 1 => {
                    let keyword = ["model", "view", "type"][self.next(3)];
                    text.push_str(&format!("{doc}{keyword} {} {{\n", self.name("M")));
                    for _ in 0..self.next(5) {
                        let ty = if self.next(5) == 0 {
                            "Unsupported(\"circle\")".to_owned()
                        } else {
                            self.name("T")
                        };
                        let arity = ["", "?", "[]"][self.next(3)];
                        let attributes: Vec<String> =
                            (0..self.next(3)).map(|_| self.attribute("@")).collect();
                        let (before, after) = (self.leading_comment(), self.trailing_comment());
                        text.push_str(&format!(
                            "  {before}{} {ty}{arity} {}{after}\n",
                            self.name("f"),
                            attributes.join(" ")
                        ));
                    }
                    for _ in 0..self.next(3) {
                        let after = self.trailing_comment();
                        text.push_str(&format!("  {}{after}\n", self.attribute("@@")));
                    }
                    text.push_str("}\n");
                }
                2 => {
                    text.push_str(&format!("{doc}enum {} {{\n", self.name("E")));
                    for _ in 0..1 + self.next(4) {
                        let attributes: Vec<String> =
                            (0..self.next(2)).map(|_| self.attribute("@")).collect();
                        let after = self.trailing_comment();
                        text.push_str(&format!("  {} {}{after}\n", self.name("V"), attributes.join(" ")));
                    }
                    text.push_str("}\n");
                }
                _ => {
                    let keyword = ["datasource", "generator"][self.next(2)];
                    text.push_str(&format!("{keyword} {} {{\n", self.name("c")));
                    for _ in 0..self.next(4) {
                        let after = self.trailing_comment();
                        text.push_str(&format!("  {} = {}{after}\n", self.name("k"), self.value(0)));
                    }
                    text.push_str("}\n");
                }
            }
        }
        text
    }
}

#[test]
fn printed_schemas_parse_back_to_the_same_tree() {
    let seed: u64 = std::env::var("HASTE_PSL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261127);
    let mut random = Generator(Random::new(seed));
    for case in 0..1000 {
        let text = random.schema();
        let first = parse(&text);
        let printed = haste_prisma::format(&first);
        let again = haste_prisma::parse(&files(&printed))
            .unwrap_or_else(|e| panic!("case {case} (HASTE_PSL_SEED={seed}): {}\n{printed}", e[0].message));
        assert_eq!(first, again, "case {case} (HASTE_PSL_SEED={seed}):\n{text}\n---\n{printed}");
    }
}

/// What Prisma 6.19.3 refuses on PostgreSQL (each checked with `prisma validate`): arguments
/// and attributes of other connectors, functions that do not fit, native types on the wrong
/// field type. haste refuses each with Prisma's message.
#[test]
fn what_prisma_refuses_on_postgresql_is_refused_with_its_message() {
    let model = |body: &str| format!("model A {{\n  id Int @id\n{body}\n}}\n");
    let cases = [
        (
            model("  t String\n  @@fulltext([t])"),
            "\"@@fulltext\": Defining fulltext indexes is not supported",
        ),
        (
            "model A {\n  id Int @id(clustered: true)\n}\n".into(),
            "\"@id\": Defining clustering is not supported",
        ),
        (model("  t String @unique(clustered: false)"), "\"@unique\": Defining clustering is not supported"),
        (
            model("  t String\n  @@index([t(length: 10)])"),
            "\"@@index\": The length argument is not supported in an index definition",
        ),
        (
            "model A {\n  a Int\n  b Int\n  @@id([a, b(sort: Desc)])\n}\n".into(),
            "\"@@id\": The sort argument is not supported in the primary key",
        ),
        ("model A {\n  id Int @id(sort: Desc)\n}\n".into(), "\"@id\": The sort argument is not supported"),
        (
            "model A {\n  id Int @id @default(sequence())\n}\n".into(),
            "Unknown function in @default(): `sequence`",
        ),
        ("model A {\n  id String @id @default(auto())\n}\n".into(), "does not support the `auto()` function"),
        ("model A {\n  id String @id @default(uuid(5))\n}\n".into(), "`uuid()` takes either no argument"),
        (
            model("  t String @default(now())"),
            "The function `now()` cannot be used on fields of type `String`",
        ),
        (model("  t String @updatedAt"), "marked with @updatedAt must be of type DateTime"),
        ("model A {\n  id Int? @id\n}\n".into(), "Fields that are marked as id must be required"),
        (
            "model A {\n  id Int @id @db.Text\n}\n".into(),
            "Native type Text is not compatible with declared field type Int",
        ),
        (
            model("  t String @db.VarChar(1, 2)"),
            "Native type VarChar takes 1 optional arguments, but received 2",
        ),
        (model("  t Bytes @default(\"!!\")"), "\"!!\" is not a valid base64 string"),
        (
            model("  t DateTime @default(\"yesterday\")"),
            "\"yesterday\" is not a valid rfc3339 datetime string",
        ),
        (
            "datasource db {\n  provider = \"postgresql\"\n  relationMode = \"nope\"\n}\n".into(),
            "Invalid relation mode setting: \"nope\"",
        ),
        (
            "datasource db {\n  provider = \"postgresql\"\n  extensions = [citext]\n}\n".into(),
            "only available with the `postgresqlExtensions` preview feature",
        ),
    ];
    for (text, message) in &cases {
        let (found, ..) = error(text);
        assert!(found.contains(message), "expected `{message}`, got `{found}` for:\n{text}");
    }
    // What it accepts: `uuid(4)`, `uuid(7)`, `cuid(2)`, `nanoid(8)`, a date-time default with an
    // offset and a fraction (written as Prisma writes it), `sort` on a unique index.
    let database = lower(&model(
        "  a String @default(uuid(7))\n  b String @default(cuid(2))\n  c String @default(nanoid(8))\n  d DateTime @default(\"2020-01-02T03:04:05.5+02:00\")\n  e String @unique(sort: Desc)",
    ));
    let d = database.tables[0].columns.iter().find(|c| c.name == "d").unwrap();
    assert_eq!(d.default.as_deref(), Some("'2020-01-02 03:04:05.500 +02:00'"));
}
