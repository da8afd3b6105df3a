//! `schema.prisma` as the desired schema: `migrate dev` writes what Prisma Migrate writes,
//! `schema diff` reads `.prisma` sides, `status --drift --schema` checks a Prisma-managed
//! database.

use std::fs;

use haste_testkit::{TempDir, database};

use crate::{compare_sources, corpus, haste, prisma_managed};

use crate::migration_folders as folders;

#[test]
fn migrate_dev_from_the_corpus_schemas_writes_prismas_migrations() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else { return };
    let dir = TempDir::new("prisma-dev");
    let steps = [
        ("v1", "initial", "20250612024039_initial"),
        ("v2", "add_gmail_webhook_support", "20250613172146_add_gmail_webhook_support"),
        ("v3", "add_pipeline_automation_models", "20250614030005_add_pipeline_automation_models"),
    ];
    // The schemas live in the corpus: `--dir` keeps the migrations in the project rather than
    // beside them, where Prisma (and haste, by default) would write them.
    fs::create_dir(dir.path().join("migrations")).unwrap();
    for (version, name, prisma) in steps {
        let schema = corpus.join(format!("schemas/{version}.schema.prisma"));
        let run = haste(
            dir.path(),
            &[
                "migrate",
                "dev",
                "--url",
                &db.url,
                "--dir",
                "migrations",
                "--schema",
                schema.to_str().unwrap(),
                "--name",
                name,
            ],
        );
        assert_eq!(run.code, 0, "{version}: {run:?}");
        let written = folders(&dir).pop().unwrap();
        assert!(written.file_name().unwrap().to_string_lossy().ends_with(name));
        let expected =
            fs::read_to_string(corpus.join("migrations").join(prisma).join("migration.sql")).unwrap();
        assert_eq!(
            fs::read_to_string(written.join("migration.sql")).unwrap(),
            expected,
            "{version}: Prisma's text"
        );
        let again = haste(
            dir.path(),
            &[
                "migrate",
                "dev",
                "--url",
                &db.url,
                "--dir",
                "migrations",
                "--schema",
                schema.to_str().unwrap(),
            ],
        );
        assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
    }
    let lock = fs::read_to_string(dir.path().join("migrations/migration_lock.toml")).unwrap();
    assert_eq!(lock, fs::read_to_string(corpus.join("migrations/migration_lock.toml")).unwrap());
    // The three migrations replay to the schema Prisma's three give.
    let same =
        compare_sources(dir.path(), &dir.path().join("migrations"), &corpus.join("migrations"), &db.url);
    assert_eq!(same.code, 0, "{same:?}");
    // down.sql of the last one gives v2 back, by the schema engine.
    let down = haste(dir.path(), &["migrate", "down", "--url", &db.url]);
    assert_eq!(down.code, 0, "{down:?}");
    let v2 = corpus.join("schemas/v2.schema.prisma");
    let back = haste(
        dir.path(),
        &["schema", "diff", "--from", &db.url, "--to", v2.to_str().unwrap(), "--url", &db.url],
    );
    assert_eq!(back.code, 0, "{back:?}");
}

#[test]
fn a_prisma_managed_database_shows_no_drift_against_its_schema() {
    let (Some(corpus), Some(db)) = (corpus(), database()) else { return };
    let work = prisma_managed(&corpus, &db);
    let v3 = corpus.join("schemas/v3.schema.prisma");
    let status = haste(
        work.path(),
        &["migrate", "status", "--drift", "--schema", v3.to_str().unwrap(), "--url", &db.url],
    );
    assert_eq!(status.code, 0, "{status:?}");
    assert!(
        status.stdout.contains("No drift") && status.stdout.contains("matches the database"),
        "{status:?}"
    );
    let dev = haste(work.path(), &["migrate", "dev", "--schema", v3.to_str().unwrap(), "--url", &db.url]);
    assert_eq!(dev.code, 0, "{dev:?}");
    assert!(dev.stdout.contains("no migration generated"), "no false drift: {dev:?}");
    // Against an older schema the difference is listed, as Prisma would write it.
    let v2 = corpus.join("schemas/v2.schema.prisma");
    let behind = haste(
        work.path(),
        &["migrate", "status", "--drift", "--schema", v2.to_str().unwrap(), "--url", &db.url],
    );
    assert_eq!(behind.code, 15, "{behind:?}");
    assert!(behind.stderr.contains("DROP TABLE \"PipelineAutomation\""), "{behind:?}");
}

const BLOG: &str = r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Author {
  id    Int    @id @default(autoincrement())
  email String @unique
  posts Post[]
}
"#;

const POSTS: &str = r#"model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   Author @relation(fields: [authorId], references: [id])
}
"#;

#[test]
fn a_folder_of_prisma_files_is_one_schema_and_prismas_exact_statements_are_a_switch() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-folder");
    dir.write("prisma/schema/author.prisma", BLOG);
    dir.write("prisma/schema/post.prisma", POSTS);
    fs::create_dir(dir.path().join("migrations")).unwrap();
    let run = haste(
        dir.path(),
        &[
            "migrate",
            "dev",
            "--url",
            &db.url,
            "--dir",
            "migrations",
            "--schema",
            "prisma/schema",
            "--name",
            "init",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let sql = fs::read_to_string(folders(&dir)[0].join("migration.sql")).unwrap();
    assert!(
        sql.contains("-- AddForeignKey\nALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"Author\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE;"),
        "a relation across files: {sql}"
    );
    db.execute("INSERT INTO \"Author\" (email) VALUES ('a@x.test')");
    // haste's online forms for a table that exists, by default; Prisma's exact statements with
    // --exact-prisma or `exact_prisma = true` in haste.toml. A new table is Prisma's either way
    // (above).
    dir.write("prisma/schema/post.prisma", &POSTS.replace("  author ", "  @@index([title])\n  author "));
    let dev = |extra: &[&str]| {
        haste(
            dir.path(),
            &[
                &["migrate", "dev", "--url", &db.url, "--dir", "migrations", "--schema", "prisma/schema"],
                extra,
            ]
            .concat(),
        )
    };
    for exact in [&["--exact-prisma"][..], &[]] {
        if exact.is_empty() {
            dir.write("haste.toml", "exact_prisma = true\n");
        }
        let review = dev(&[&["--name", "title", "--create-only"], exact].concat());
        assert_eq!(review.code, 0, "{review:?}");
        let prisma_style = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
        // Prisma's statement, with the allow line of the rule it breaks, so the file passes
        // haste's lint (and `deploy --lint`).
        assert_eq!(
            prisma_style,
            "-- haste:allow-file index-create-not-concurrent reason=\"Prisma's exact statements, asked for with migrate dev --exact-prisma\"\n-- CreateIndex\nCREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\");\n"
        );
        let lint = haste(dir.path(), &["lint", "--dir", "migrations"]);
        assert_eq!(lint.code, 0, "{lint:?}");
        fs::remove_dir_all(&folders(&dir)[1]).unwrap();
    }
    fs::remove_file(dir.path().join("haste.toml")).unwrap();
    let online = dev(&["--name", "title"]);
    assert_eq!(online.code, 0, "{online:?}");
    let sql = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(sql.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Post_title_idx\""), "{sql}");
    // A rename hint keeps the rows; Prisma's own steps follow (its index renamed after the column).
    // Prisma writes no rename, so the file is not Prisma's byte for byte anyway: it carries the
    // allow line of the rename the person asked for, and passes haste's lint.
    dir.write(
        "prisma/schema/author.prisma",
        &BLOG.replace("  email String @unique", "  mail  String @unique"),
    );
    let renamed = dev(&["--name", "mail", "--rename", "public.Author.email=mail", "--exact-prisma"]);
    assert_eq!(renamed.code, 0, "{renamed:?}");
    let sql = fs::read_to_string(folders(&dir)[2].join("migration.sql")).unwrap();
    assert_eq!(
        sql,
        "-- haste:allow-file rename-column reason=\"asked for with migrate dev --rename\"\n-- RenameColumn\nALTER TABLE \"public\".\"Author\" RENAME COLUMN \"email\" TO \"mail\";\n\n-- RenameIndex\nALTER INDEX \"Author_email_key\" RENAME TO \"Author_mail_key\";\n"
    );
    let lint = haste(dir.path(), &["lint", "--dir", "migrations"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    assert_eq!(db.value("SELECT mail FROM \"Author\"").as_deref(), Some("a@x.test"));
}

/// `exact_prisma = true` over a table with rows: a unique index, a plain index and a rewriting
/// type change, each of which haste's lint reports as an error, and a column made required
/// over rows holding NULL. The file written keeps Prisma's statements and allows the rules they
/// break, so `haste lint` and `deploy --lint` pass it; the NULLs are refused before anything is
/// written, as Prisma Migrate refuses them in development.
#[test]
fn exact_prisma_files_pass_haste_lint_and_required_over_nulls_is_refused() {
    let (Some(db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("prisma-exact-lint");
    let model = "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\nmodel User {\n  id    Int     @id @default(autoincrement())\n  email String\n  name  String?\n  age   Int\n}\n";
    dir.write("schema.prisma", model);
    dir.write("haste.toml", "schema = \"schema.prisma\"\nexact_prisma = true\n");
    let dev = |name: &str| haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--name", name]);
    assert_eq!(dev("init").code, 0);
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--lint", "--url", &prod.url]);
    assert_eq!(deploy().code, 0);
    db.execute("INSERT INTO \"User\" (email, name, age) SELECT 'e' || g, NULLIF('n', CASE WHEN g = 1 THEN 'n' END), g FROM generate_series(1, 50) g");
    dir.write(
        "schema.prisma",
        &model
            .replace("email String\n", "email String @unique\n")
            .replace("age   Int\n", "age   BigInt\n  @@index([name])\n"),
    );
    let changed = dev("change");
    assert_eq!(changed.code, 0, "{changed:?}");
    let sql = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(
        sql.contains("-- haste:allow-file column-type-rewrite reason=\"Prisma's exact statements")
            && sql.contains("CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");"),
        "{sql}"
    );
    let lint = haste(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{lint:?}");
    let deployed = deploy();
    assert_eq!(deployed.code, 0, "{deployed:?}");

    dir.write(
        "schema.prisma",
        &fs::read_to_string(dir.path().join("schema.prisma"))
            .unwrap()
            .replace("String?", "String @default(\"anon\")"),
    );
    let refused = dev("required");
    assert_eq!(refused.code, 16, "{refused:?}");
    assert!(refused.stderr.contains("\"public\".\"User\".\"name\": 1 row holds NULL"), "{refused:?}");
    assert_eq!(folders(&dir).len(), 2, "nothing written");
    let status = haste(dir.path(), &["migrate", "status", "--url", &db.url]);
    assert_eq!(status.code, 0, "{status:?}");
}

#[test]
fn schema_diff_reads_prisma_schemas_and_bad_ones_point_at_the_error() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-diff");
    dir.write("empty.prisma", "datasource db {\n  provider = \"postgresql\"\n}\n");
    dir.write("blog.prisma", &format!("{BLOG}\n{POSTS}"));
    let diff = haste(dir.path(), &["schema", "diff", "--from", "empty.prisma", "--to", "blog.prisma"]);
    assert_eq!(diff.code, 14, "{diff:?}");
    assert!(
        diff.stdout.starts_with("-- CreateTable\nCREATE TABLE \"Author\" (\n    \"id\" SERIAL NOT NULL,"),
        "{diff:?}"
    );
    // A database on the other side is read in Prisma's terms.
    db.execute("CREATE TABLE \"Author\" (id serial PRIMARY KEY, email text NOT NULL); CREATE UNIQUE INDEX \"Author_email_key\" ON \"Author\" (email);");
    let rest =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "blog.prisma", "--url", &db.url]);
    assert_eq!(rest.code, 14, "{rest:?}");
    assert!(
        !rest.stdout.contains("CREATE TABLE \"Author\"") && rest.stdout.contains("CREATE TABLE \"Post\""),
        "{rest:?}"
    );
    assert!(!rest.stdout.contains("ALTER TABLE \"Author\""), "Author matches already: {rest:?}");
    // --online: haste's online forms, as migrate dev writes them for tables that exist, between
    // two Prisma schemas and between a database and one; Prisma's statements without it.
    let indexed = format!("{BLOG}\n{}", POSTS.replace("  author ", "  @@index([title])\n  author "));
    dir.write("indexed.prisma", &indexed);
    let plain = haste(dir.path(), &["schema", "diff", "--from", "blog.prisma", "--to", "indexed.prisma"]);
    assert_eq!(plain.code, 14, "{plain:?}");
    assert!(plain.stdout.contains("CREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\");"), "{plain:?}");
    db.execute("CREATE TABLE \"Post\" (id serial PRIMARY KEY, title text NOT NULL, \"authorId\" integer NOT NULL REFERENCES \"Author\" ON UPDATE CASCADE ON DELETE RESTRICT);");
    for from in ["blog.prisma", db.url.as_str()] {
        let online = haste(
            dir.path(),
            &["schema", "diff", "--from", from, "--to", "indexed.prisma", "--online", "--url", &db.url],
        );
        assert_eq!(online.code, 14, "{online:?}");
        assert!(
            online.stdout.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Post_title_idx\"")
                && !online.stdout.contains("CREATE INDEX \"Post_title_idx\""),
            "{from}: {online:?}"
        );
    }

    dir.write("bad.prisma", "model A {\n  id Int @id\n  b Nope\n}\n");
    // Said once, as every error is: `error: ` and the diagnostic, wherever the schema is read.
    for bad in [
        haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "bad.prisma"]),
        haste(dir.path(), &["schema", "erd", "--url", &db.url, "--from", "bad.prisma"]),
    ] {
        assert_eq!(bad.code, 2, "{bad:?}");
        assert!(
            bad.stderr.starts_with("error: Type \"Nope\" is neither a built-in type")
                && bad.stderr.contains("bad.prisma:3:5"),
            "{bad:?}"
        );
        assert!(!bad.stderr.contains("error: error"), "{bad:?}");
    }
    // Also where the datasource is read for the connection string, before anything connects.
    let dir = haste_testkit::TempDir::new("broken-datasource");
    dir.write(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"postgresql\"\n  url = \"postgres://u:S3cretPw@127.0.0.1:1/x\"\n}\nmodel A {\n  id Int @id\n",
    );
    let broken = haste(dir.path(), &["migrate", "status"]);
    assert_eq!(broken.code, 2, "{broken:?}");
    assert!(
        broken.stderr.starts_with("error: Expected `}`") && !broken.stderr.contains("error: error"),
        "{broken:?}"
    );
    assert!(!broken.all().contains("S3cretPw"), "{broken:?}");
}

#[test]
fn a_multi_schema_datasource_qualifies_every_name() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-multi");
    dir.write(
        "schema.prisma",
        r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
  schemas  = ["crm", "auth"]
}

enum Stage {
  LEAD
  WON
  @@schema("crm")
}

model User {
  id    Int    @id @default(autoincrement())
  deals Deal[]
  @@schema("auth")
}

model Deal {
  id      Int   @id @default(autoincrement())
  stage   Stage @default(LEAD)
  ownerId Int
  owner   User  @relation(fields: [ownerId], references: [id])
  @@schema("crm")
}
"#,
    );
    let run = haste(
        dir.path(),
        &["migrate", "dev", "--url", &db.url, "--schema", "schema.prisma", "--name", "init"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let sql = fs::read_to_string(folders(&dir)[0].join("migration.sql")).unwrap();
    for expected in [
        "-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS \"auth\";\n\n-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS \"crm\";",
        "CREATE TYPE \"crm\".\"Stage\" AS ENUM ('LEAD', 'WON');",
        "\"stage\" \"crm\".\"Stage\" NOT NULL DEFAULT 'LEAD',",
        "REFERENCES \"auth\".\"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE;",
    ] {
        assert!(sql.contains(expected), "missing {expected} in:\n{sql}");
    }
    // haste.toml can name the schema instead of --schema.
    dir.write("haste.toml", "schema = \"schema.prisma\"\n");
    let again = haste(dir.path(), &["migrate", "dev", "--url", &db.url]);
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
}

#[test]
fn a_prisma_schema_parameter_puts_the_tables_in_that_schema() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-param");
    dir.write("schema.prisma", &format!("{BLOG}\n{POSTS}"));
    let url = format!("{}?schema=app", db.url);
    let run =
        haste(dir.path(), &["migrate", "dev", "--url", &url, "--schema", "schema.prisma", "--name", "init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let tables = "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables \
                  WHERE schemaname = 'app' AND tablename NOT LIKE '\\_haste\\_%'";
    assert_eq!(db.value(tables).as_deref(), Some("Author,Post"));
    let again = haste(dir.path(), &["migrate", "dev", "--url", &url, "--schema", "schema.prisma"]);
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
}

/// A database built by hand-written or older migrations, against the schema that describes it
/// (issue 14, each case checked with Prisma 6.19.3's `migrate diff --from-migrations`): two
/// identical unique indexes where `@unique` wants one, and an index named by `@@index(name:)`,
/// are left alone; a view with a primary key is refused as Prisma 6.19 refuses it.
#[test]
fn real_world_schemas_read_as_prisma_reads_them() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-real-world");
    db.execute(
        "CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"email\" TEXT NOT NULL, \"a\" INTEGER NOT NULL, \"b\" INTEGER NOT NULL);
         CREATE UNIQUE INDEX \"User_email_key\" ON \"User\" (\"email\");
         CREATE UNIQUE INDEX \"users_email_key\" ON \"User\" (\"email\");
         CREATE INDEX \"User_ab_idx\" ON \"User\" (\"a\", \"b\");",
    );
    dir.write(
        "schema.prisma",
        "datasource db {\n  provider = \"postgresql\" // the only provider haste reads\n}\n\n/** Every user. */\nmodel User {\n  id    Int    @id @default(autoincrement()) /// @zod.custom.use(z.number())\n  email String @unique /* one of two identical indexes */\n  a     Int\n  b     Int\n  @@index([a, b], name: \"User_ab_idx\")\n}\n",
    );
    let diff =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "schema.prisma", "--url", &db.url]);
    assert_eq!((diff.code, diff.stdout.as_str()), (0, ""), "{diff:?}");
    assert!(diff.stderr.contains("The schemas are equal."), "{diff:?}");

    dir.write(
        "view.prisma",
        "generator client {\n  provider        = \"prisma-client-js\"\n  previewFeatures = [\"views\"]\n}\n\nview Active {\n  id Int @id\n}\n",
    );
    let view =
        haste(dir.path(), &["schema", "diff", "--from", &db.url, "--to", "view.prisma", "--url", &db.url]);
    assert_eq!(view.code, 2, "{view:?}");
    assert!(
        view.stderr.contains("Views cannot have primary keys (a rule since Prisma 6.13")
            && view.stderr.contains("view.prisma:7:10"),
        "{view:?}"
    );
}

/// Extensions the datasource declares are created as Prisma writes them, and those the history
/// creates by hand are on the shadow too (an operator class from `pg_trgm`).
#[test]
fn extensions_from_the_datasource_or_the_history_are_on_the_shadow() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-extensions");
    let schema = |extra: &str| {
        format!(
            r#"generator client {{
  provider        = "prisma-client-js"
  previewFeatures = ["postgresqlExtensions"]
}}

datasource db {{
  provider   = "postgresql"
  url        = env("DATABASE_URL")
  extensions = [citext]
}}

model User {{
  id    Int    @id
  email String @db.Citext
  name  String
{extra}}}
"#
        )
    };
    // pg_trgm created by hand in a migration, its operator class named by the schema.
    let by_hand = dir.path().join("migrations/20000101000000_trgm");
    fs::create_dir_all(&by_hand).unwrap();
    fs::write(by_hand.join("migration.sql"), "CREATE EXTENSION pg_trgm;\n").unwrap();
    dir.write("schema.prisma", &schema("\n  @@index([name(ops: raw(\"gin_trgm_ops\"))], type: Gin)\n"));
    let init = haste(
        dir.path(),
        &["migrate", "dev", "--url", &db.url, "--schema", "schema.prisma", "--name", "init"],
    );
    assert_eq!(init.code, 0, "{init:?}");
    let sql = fs::read_to_string(folders(&dir)[1].join("migration.sql")).unwrap();
    assert!(sql.starts_with("-- CreateExtension\nCREATE EXTENSION IF NOT EXISTS \"citext\";\n"), "{sql}");
    assert!(sql.contains("\"email\" CITEXT NOT NULL"), "{sql}");
    assert!(
        sql.contains("CREATE INDEX \"User_name_idx\" ON \"User\" USING GIN (\"name\" gin_trgm_ops);"),
        "{sql}"
    );
    let again = haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", "schema.prisma"]);
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
}

/// A history written by hand: defaults in other spellings than Prisma's, and objects a Prisma
/// schema cannot express.
const HAND_WRITTEN: &str = r#"CREATE TYPE "Role" AS ENUM ('USER', 'admin');
CREATE TABLE "T" (
  "id" INTEGER NOT NULL,
  "a" TEXT NOT NULL CHECK ("a" <> ''),
  "b" TEXT,
  "tags" TEXT[] NOT NULL DEFAULT '{}',
  "cast" TEXT[] NOT NULL DEFAULT '{}'::TEXT[],
  "array" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
  "pair" TEXT[] DEFAULT '{a,"b c"}',
  "ints" INTEGER[] DEFAULT '{1,2}',
  "roles" "Role"[] DEFAULT '{USER,admin}',
  "at" TIMESTAMP(3) NOT NULL DEFAULT now(),
  "atz" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "since" TIMESTAMP(3) NOT NULL DEFAULT '2021-06-01 00:00:00',
  "n" INTEGER NOT NULL DEFAULT '-1',
  "big" BIGINT NOT NULL DEFAULT 5000000000,
  "ratio" DOUBLE PRECISION NOT NULL DEFAULT 1.50,
  "price" DECIMAL(65,30) NOT NULL DEFAULT 2.000,
  "on" BOOLEAN NOT NULL DEFAULT 't',
  "quote" TEXT NOT NULL DEFAULT 'it''s',
  "lines" TEXT NOT NULL DEFAULT E'one\ntwo',
  "role" "Role" NOT NULL DEFAULT 'admin',
  "data" JSONB NOT NULL DEFAULT '{"b":[1, 2],"a":1}',
  "token" UUID NOT NULL DEFAULT GEN_RANDOM_UUID(),
  "legacy" INTEGER NOT NULL DEFAULT 7,
  CONSTRAINT "T_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "T_b_idx" ON "T"("b");
CREATE INDEX "T_pending" ON "T"("a") WHERE "b" IS NULL;
CREATE UNIQUE INDEX "T_lower_a" ON "T"(lower("a"));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "T_touch" BEFORE UPDATE ON "T" FOR EACH ROW EXECUTE FUNCTION touch();
"#;

/// The same table in Prisma's words.
const HAND_WRITTEN_SCHEMA: &str = r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Role {
  USER
  ADMIN @map("admin")
}

model T {
  id     Int      @id
  a      String
  b      String?
  tags   String[] @default([])
  cast   String[] @default([])
  array  String[] @default([])
  pair   String[] @default(["a", "b c"])
  ints   Int[]    @default([1, 2])
  roles  Role[]   @default([USER, ADMIN])
  at     DateTime @default(now())
  atz    DateTime @default(now()) @db.Timestamptz(6)
  since  DateTime @default("2020-01-01T00:00:00Z")
  n      Int      @default(-1)
  big    BigInt   @default(5000000000)
  ratio  Float    @default(1.5)
  price  Decimal  @default(2)
  on     Boolean  @default(true)
  quote  String   @default("it's")
  lines  String   @default("one\ntwo")
  role   Role     @default(ADMIN)
  data   Json     @default("{\"a\": 1, \"b\": [1, 2]}")
  token  String   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  legacy Int      @default(dbgenerated())
  @@index([b])
}
"#;

/// Checked against Prisma 6.19.3 (`migrate diff --from-migrations --to-schema-datamodel
/// --script`): it reports no change for every default above, leaves the partial and the
/// expression index alone, drops a plain index the schema lacks, and creates a schema index
/// whose name a hand-written partial index holds.
#[test]
fn a_hand_written_history_compares_with_a_prisma_schema_as_prisma_compares_it() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-hand-written");
    dir.write("migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    dir.write("migrations/0_init/migration.sql", HAND_WRITTEN);
    dir.write("schema.prisma", HAND_WRITTEN_SCHEMA);
    let diff = |schema: &str, format: &[&str]| {
        haste(
            dir.path(),
            &[&["schema", "diff", "--from", "migrations", "--to", schema, "--url", &db.url], format].concat(),
        )
    };
    let kept = "-- kept: check constraint \"T_a_check\" on \"T\" (not expressible in schema.prisma)\n\
                -- kept: expression index \"T_lower_a\" on \"T\" (not expressible in schema.prisma)\n\
                -- kept: partial index \"T_pending\" on \"T\" (not expressible in schema.prisma)\n\
                -- kept: trigger \"T_touch\" on \"T\" (not expressible in schema.prisma)\n\
                -- kept: function touch() (not expressible in schema.prisma)";
    let same = diff("schema.prisma", &[]);
    assert_eq!(same.code, 0, "{same:?}");
    assert_eq!(same.stderr.trim_end(), format!("-- The schemas are equal.\n{kept}"), "{same:?}");
    let json = diff("schema.prisma", &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(report["equal"], true, "{json:?}");
    assert_eq!(report["kept"].as_array().map(Vec::len), Some(5), "{json:?}");

    // A plain index the schema lacks is dropped; the hand-written ones stay. A schema index
    // named as a partial one is created, as Prisma writes it (the name is taken: PostgreSQL
    // refuses it, and `migrate dev` stops on the shadow before writing anything).
    dir.write(
        "changed.prisma",
        &HAND_WRITTEN_SCHEMA.replace("  @@index([b])", "  @@index([a], map: \"T_pending\")"),
    );
    let changed = diff("changed.prisma", &[]);
    assert_eq!(changed.code, 14, "{changed:?}");
    assert_eq!(
        changed.stdout.trim_end(),
        format!(
            "-- DropIndex\nDROP INDEX \"T_b_idx\";\n\n-- CreateIndex\nCREATE INDEX \"T_pending\" ON \"T\"(\"a\");\n\n{}",
            kept.replace(
                "\"T_pending\" on \"T\" (not expressible in schema.prisma)",
                "\"T_pending\" on \"T\" (not expressible in schema.prisma; the schema's index of the same name cannot be created beside it: rename one)"
            )
        ),
        "{changed:?}"
    );

    // `migrate dev` on a database at that history writes nothing, in both styles.
    let deploy = haste(dir.path(), &["migrate", "deploy", "--url", &db.url]);
    assert_eq!(deploy.code, 0, "{deploy:?}");
    for extra in [&[][..], &["--online"]] {
        let dev = haste(
            dir.path(),
            &[&["migrate", "dev", "--url", &db.url, "--schema", "schema.prisma"], extra].concat(),
        );
        assert!(dev.code == 0 && dev.stdout.contains("no migration generated"), "{extra:?}: {dev:?}");
    }
    // A written migration names what it leaves alone, after Prisma's steps or in the header
    // of haste's online forms.
    for (index, extra) in [("a", &[][..]), ("b, a", &["--online"])] {
        dir.write(
            "schema.prisma",
            &HAND_WRITTEN_SCHEMA.replace("  @@index([b])", &format!("  @@index([b])\n  @@index([{index}])")),
        );
        let dev = haste(
            dir.path(),
            &[&["migrate", "dev", "--url", &db.url, "--schema", "schema.prisma", "--name", "index"], extra]
                .concat(),
        );
        assert_eq!(dev.code, 0, "{dev:?}");
        assert!(dev.stdout.contains("kept: partial index \"T_pending\" on \"T\""), "{dev:?}");
        let sql = fs::read_to_string(folders(&dir).pop().unwrap().join("migration.sql")).unwrap();
        assert!(
            sql.contains(
                "-- kept: partial index \"T_pending\" on \"T\" (not expressible in schema.prisma)\n"
            ),
            "{sql}"
        );
        assert!(!sql.contains("DROP INDEX \"T_pending\"") && !sql.contains("SET DEFAULT"), "{sql}");
    }
}

#[test]
fn migrate_dev_adds_and_removes_autoincrement_on_a_table_with_rows() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-autoincrement");
    let schema = |id: &str| {
        let text =
            format!("datasource db {{\n  provider = \"postgresql\"\n}}\n\nmodel T {{\n  {id}\n  n Int\n}}\n");
        dir.write("schema.prisma", &text).to_str().unwrap().to_owned()
    };
    let dev = |schema: String| haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", &schema]);
    let written = || fs::read_to_string(folders(&dir).pop().unwrap().join("migration.sql")).unwrap();
    assert_eq!(dev(schema("id Int @id")).code, 0);
    db.execute("INSERT INTO \"T\" VALUES (1, 10), (7, 20)");

    let gained = dev(schema("id Int @id @default(autoincrement())"));
    assert_eq!(gained.code, 0, "{gained:?}");
    assert!(written().contains("CREATE SEQUENCE \"t_id_seq\""), "{}", written());
    assert_eq!(db.value("INSERT INTO \"T\" (n) VALUES (30) RETURNING id::text"), Some("8".into()));
    let again = dev(schema("id Int @id @default(autoincrement())"));
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");

    let lost = dev(schema("id Int @id"));
    assert_eq!(lost.code, 0, "{lost:?}");
    assert!(written().contains("DROP SEQUENCE \"t_id_seq\""), "{}", written());
    assert!(db.try_execute("INSERT INTO \"T\" (n) VALUES (40)").is_err(), "the default is gone");
    let again = dev(schema("id Int @id"));
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
}

/// Prisma's describer reads no operator class on a B-tree index, so Prisma drops and creates an
/// `ops: raw("text_pattern_ops")` index again on every run; haste compares the one the schema
/// names (docs/prisma-differences.md).
#[test]
fn migrate_dev_keeps_a_btree_operator_class_the_schema_names() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-btree-opclass");
    let schema = |ops: &str| {
        let text = format!(
            "datasource db {{\n  provider = \"postgresql\"\n}}\n\nmodel T {{\n  id Int @id\n  name String\n\n  @@index([name{ops}])\n}}\n"
        );
        dir.write("schema.prisma", &text).to_str().unwrap().to_owned()
    };
    let dev = |schema: String| haste(dir.path(), &["migrate", "dev", "--url", &db.url, "--schema", &schema]);
    assert_eq!(dev(schema("")).code, 0);
    let named = dev(schema("(ops: raw(\"text_pattern_ops\"))"));
    assert_eq!(named.code, 0, "{named:?}");
    let definition = "SELECT indexdef FROM pg_indexes WHERE indexname = 'T_name_idx'";
    assert!(db.value(definition).unwrap().contains("text_pattern_ops"), "the operator class is asked for");
    let again = dev(schema("(ops: raw(\"text_pattern_ops\"))"));
    assert!(again.code == 0 && again.stdout.contains("no migration generated"), "{again:?}");
    // Without `ops:`, the schema accepts the operator class the database has, as Prisma does.
    let plain = dev(schema(""));
    assert!(plain.code == 0 && plain.stdout.contains("no migration generated"), "{plain:?}");
}

/// A Prisma project whose `url` goes through a pooler: `migrate dev` connects through the
/// datasource's `directUrl` and makes its shadows on `shadowDatabaseUrl`'s server, as Prisma
/// Migrate does; `haste config` says where each came from without a password; a flag wins.
#[test]
fn the_datasource_gives_direct_and_shadow_urls_when_nothing_else_does() {
    let Some(db) = database() else { return };
    let dir = TempDir::new("prisma-datasource");
    dir.write(
        "prisma/schema.prisma",
        "datasource db {\n  provider          = \"postgresql\"\n  url               = env(\"DATABASE_URL\")\n  directUrl         = env(\"DIRECT_URL\")\n  shadowDatabaseUrl = env(\"SHADOW_URL\")\n}\n\nmodel Account {\n  id   Int    @id\n  name String\n}\n",
    );
    let direct = db.url_with_password("direct-secret");
    // Nothing listens on port 1: connecting through `url` would fail.
    let pooled = "postgres://app:pooled-secret@127.0.0.1:1/app";
    let run = |args: &[&str]| {
        let output = crate::command(dir.path(), args)
            .env("DATABASE_URL", pooled)
            .env("DIRECT_URL", &direct)
            .env("SHADOW_URL", &direct)
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.code().unwrap_or(-1), text)
    };
    let (code, text) = run(&["config"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("prisma/schema.prisma:4 directUrl, env DIRECT_URL"), "{text}");
    assert!(text.contains("prisma/schema.prisma:5 shadowDatabaseUrl, env SHADOW_URL"), "{text}");
    assert!(!text.contains("secret"), "no password shown: {text}");

    let (code, text) = run(&["migrate", "dev", "--name", "init"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        db.value("SELECT count(*) FROM information_schema.tables WHERE table_name = 'Account'"),
        Some("1".into())
    );
    assert!(!text.contains("secret"), "no password shown: {text}");

    // Flags win over the schema: `--url` names the pooler, which cannot be reached.
    let (code, text) = run(&["migrate", "deploy", "--url", pooled]);
    assert_ne!(code, 0, "{text}");
    assert!(!text.contains("pooled-secret"), "no password shown: {text}");

    // A directUrl whose variable is unset stops the command (exit 2), naming the schema's line.
    let output =
        crate::command(dir.path(), &["migrate", "deploy"]).env("DATABASE_URL", pooled).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("prisma/schema.prisma:4 directUrl reads the environment variable DIRECT_URL"),
        "{stderr}"
    );
}

/// A Prisma project laid out as Prisma lays it out, with no haste.toml: the migrations live in
/// prisma/migrations beside the schema, and a SQLite `file:./dev.db` is the file beside the
/// schema, as Prisma reads both. A project that kept ./migrations keeps it.
#[test]
fn a_prisma_project_keeps_its_migrations_and_sqlite_file_where_prisma_does() {
    let dir = TempDir::new("prisma-layout");
    dir.write(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"sqlite\"\n  url      = \"file:./dev.db\"\n}\n\nmodel Account {\n  id Int @id\n}\n",
    );
    dir.write(
        "prisma/migrations/20260101000000_init/migration.sql",
        "CREATE TABLE \"Account\" (\"id\" INTEGER PRIMARY KEY);\n",
    );
    let run = haste(dir.path(), &["migrate", "deploy"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.path().join("prisma/dev.db").is_file(), "the database file beside the schema");
    assert!(!dir.path().join("dev.db").exists(), "no database file in the working folder");
    let status = haste(dir.path(), &["migrate", "status"]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(status.stdout.contains("20260101000000_init"), "{status:?}");

    // A ./migrations folder beside a Prisma schema whose own folder has none stays the folder.
    let kept = TempDir::new("prisma-layout-kept");
    kept.write(
        "prisma/schema.prisma",
        "datasource db {\n  provider = \"sqlite\"\n  url      = \"file:./dev.db\"\n}\n",
    );
    kept.write("migrations/20260101000000_init/migration.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n");
    let run = haste(kept.path(), &["migrate", "deploy"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("20260101000000_init"), "{run:?}");
}

const PLAYERS: &str = r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Player {
  id    Int    @id
  name  String
  score Int

  @@index([score])
}
"#;

/// `--expand-contract` with a Prisma schema: a type change needs no rename syntax, so it is
/// split across two releases as from SQL (release 1: expand, backfill, prepare; release 2: the
/// swap, held by the first deploy), and every value, also one written between, is kept. A
/// column rename with a Prisma schema is still refused (exit 2).
#[test]
fn expand_contract_splits_a_prisma_type_change_across_two_releases() {
    let (Some(dev_db), Some(prod)) = (database(), database()) else { return };
    let dir = TempDir::new("prisma-two-releases");
    fs::create_dir(dir.path().join("migrations")).unwrap();
    let dev = |schema: &str, extra: &[&str]| {
        dir.write("schema.prisma", schema);
        let args =
            ["migrate", "dev", "--url", &dev_db.url, "--schema", "schema.prisma", "--dir", "migrations"];
        haste(dir.path(), &[&args[..], extra].concat())
    };
    let deploy = || haste(dir.path(), &["migrate", "deploy", "--url", &prod.url, "--dir", "migrations"]);
    assert_eq!(dev(PLAYERS, &["--name", "init"]).code, 0);
    assert_eq!(deploy().code, 0);
    prod.execute("INSERT INTO \"Player\" SELECT g, 'p' || g, g FROM generate_series(1, 2000) g");
    let v2 = PLAYERS.replace("score Int", "score BigInt");

    let renamed = dev(
        &v2.replace("  name  String", "  title String"),
        &["--name", "title", "--rename", "public.Player.name=title", "--expand-contract"],
    );
    assert_eq!(renamed.code, 2, "{renamed:?}");
    assert!(renamed.stderr.contains("Prisma schemas have no rename syntax"), "{renamed:?}");

    let run = dev(&v2, &["--name", "wider", "--expand-contract"]);
    assert_eq!(run.code, 0, "{run:?}");
    let created = folders(&dir);
    let ends: Vec<String> = created
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            name[name.find('_').unwrap()..].to_owned()
        })
        .collect();
    assert_eq!(ends, ["_init", "_wider", "_wider_prepare", "_wider_swap"], "{created:?}");
    let swap = fs::read_to_string(created[3].join("migration.sql")).unwrap();
    let prepare = created[2].file_name().unwrap().to_string_lossy().into_owned();
    assert!(swap.contains(&format!("-- haste:after {prepare}\n")), "{swap}");
    let lint = haste(dir.path(), &["lint", "--dir", "migrations"]);
    assert_eq!(lint.code, 0, "{lint:?}");

    let score = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '\"Player\"'::regclass AND attname = 'score'";
    let first = deploy();
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("_wider_swap for a later deploy"), "{first:?}");
    assert_eq!(prod.value(score).as_deref(), Some("integer"));
    prod.execute(
        "INSERT INTO \"Player\" VALUES (-1, 'between', 7); UPDATE \"Player\" SET score = 0 WHERE id = 1",
    );
    let second = deploy();
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(prod.value(score).as_deref(), Some("bigint"));
    assert_eq!(
        prod.value("SELECT count(*) || ':' || sum(score) FROM \"Player\"").as_deref(),
        Some("2001:2001006")
    );
    let same = dev(&v2, &["--name", "again"]);
    assert!(same.stdout.contains("no migration generated"), "{same:?}");
}
