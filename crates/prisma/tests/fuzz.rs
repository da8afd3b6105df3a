//! Arbitrary schema text never panics the PSL parser, the validation and lowering behind it,
//! the formatter or the rendering of its errors. The corpus (`tests/fuzz-corpus/*.prisma`) is
//! replayed first; then `HASTE_FUZZ_CASES` random cases (a short run by default).

use haste_prisma::SourceFile;
use proptest::prelude::*;
use proptest::sample::select;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("HASTE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Pieces of the language: blocks, types, attributes with arguments, relations, comments,
/// strings with escapes, names long enough to be cut at 63 bytes, multi-byte text.
const TOKENS: &[&str] = &[
    "model ",
    "enum ",
    "datasource ",
    "generator ",
    "view ",
    "type ",
    "db ",
    "{",
    "}",
    "\n",
    " ",
    "\t",
    "\r\n",
    "User",
    "Post",
    "id",
    "name",
    "A",
    "B",
    "String",
    "Int",
    "BigInt",
    "Boolean",
    "DateTime",
    "Json",
    "Decimal",
    "Float",
    "Bytes",
    "?",
    "[]",
    "@id",
    "@@id([id])",
    "@unique",
    "@@unique([a, b])",
    "@@index([name])",
    "@default(",
    "autoincrement()",
    "now()",
    "uuid()",
    "dbgenerated(\"x\")",
    "@map(\"",
    "@@map(\"",
    "@@schema(\"s\")",
    "@relation(",
    "fields: [",
    "references: [",
    "name: ",
    "onDelete: Cascade",
    "]",
    ")",
    "(",
    ",",
    ":",
    "=",
    "\"",
    "\\\"",
    "\\",
    "//",
    "///",
    "/*",
    "*/",
    "/**",
    "@db.VarChar(",
    "255",
    "-1",
    "99999999999999999999",
    "@@ignore",
    "@ignore",
    "provider = \"postgresql\"",
    "url = env(\"DATABASE_URL\")",
    "schemas = [\"a\", \"b\"]",
    "ÄÖÜßéèêëäöüÄÖÜßéèêëäöüÄÖÜßéèêëäöüÄÖÜßéèêëäöü",
    "日本語日本語日本語日本語日本語日本語日本語",
    "🦀",
    "\0",
    "\u{feff}",
];

fn schema_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(TOKENS), 0..60).prop_map(|tokens| tokens.concat()),
    ]
}

fn check(text: &str) {
    let files = [SourceFile { path: "schema.prisma".into(), text: text.to_owned() }];
    match haste_prisma::parse(&files) {
        Ok(ast) => {
            haste_prisma::format(&ast);
            haste_prisma::datasource_schemas(&ast);
            if let Err(errors) = haste_prisma::lower(&ast, "public") {
                errors.iter().for_each(|e| drop(e.render(&files)));
            }
        }
        Err(errors) => errors.iter().for_each(|e| drop(e.render(&files))),
    }
}

#[test]
fn the_corpus_never_panics() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        check(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        replayed += 1;
    }
    assert!(replayed > 0);
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn schemas_never_panic(text in schema_text()) {
        check(&text);
    }
}
