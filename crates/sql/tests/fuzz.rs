//! Arbitrary scripts never panic the splitter, in either dialect, and what it returns points
//! into the script. The corpus (`tests/fuzz-corpus/*.sql`) is replayed first; then
//! `HASTE_FUZZ_CASES` random cases per property (a short run by default).

use haste_sql::{Dialect, LineIndex, Script, quote_ident, truncate_ident};
use proptest::prelude::*;
use proptest::sample::select;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("HASTE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Pieces of SQL that steer the scanners into their corners: quotes of every kind, comments,
/// dollar quotes, trigger and atomic bodies, transaction control, multi-byte text, NUL.
const TOKENS: &[&str] = &[
    "CREATE ",
    "TABLE ",
    "INDEX ",
    "CONCURRENTLY ",
    "TRIGGER ",
    "BEGIN",
    " ATOMIC ",
    "END",
    "CASE ",
    "COMMIT",
    "ROLLBACK",
    "START TRANSACTION",
    "VACUUM",
    "REINDEX",
    "ALTER TYPE e ADD VALUE 'x'",
    "SELECT 1",
    "t",
    "(",
    ")",
    ";",
    ";\n",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "'",
    "''",
    "E'",
    "\\",
    "\"",
    "`",
    "[",
    "]",
    "$$",
    "$a$",
    "$",
    "--",
    "/*",
    "*/",
    "é",
    "日本",
    "🦀",
    "\0",
    "\u{feff}",
    "ON t",
    "FOR EACH ROW",
    "DO",
    "0",
    "x",
];

fn script() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(TOKENS), 0..40).prop_map(|tokens| tokens.concat()),
    ]
}

fn check(dialect: Dialect, sql: &str) {
    let script = Script::parse(dialect, sql);
    for statement in &script.statements {
        assert!(statement.offset <= statement.start && statement.start <= sql.len(), "{statement:?}");
        assert!(sql.is_char_boundary(statement.offset) && sql.is_char_boundary(statement.start));
    }
    let index = LineIndex::new(sql);
    for offset in [0, sql.len() / 2, sql.len(), sql.len() + 1] {
        let (line, _) = index.line_col(offset);
        index.line(line);
    }
}

#[test]
fn the_corpus_never_panics() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let sql = String::from_utf8_lossy(&bytes);
        check(Dialect::Postgres, &sql);
        check(Dialect::Sqlite, &sql);
        replayed += 1;
    }
    assert!(replayed > 0, "no corpus in {}", corpus.display());
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn postgres_scripts_never_panic(sql in script()) {
        check(Dialect::Postgres, &sql);
    }

    #[test]
    fn sqlite_scripts_never_panic(sql in script()) {
        check(Dialect::Sqlite, &sql);
    }

    #[test]
    fn names_are_cut_within_63_bytes_on_a_character_boundary(name in any::<String>(), suffix in "[_a-z]{0,8}") {
        let cut = truncate_ident(&name, &suffix);
        prop_assert!(cut.len() <= haste_sql::MAX_IDENT_BYTES);
        prop_assert!(cut.ends_with(&suffix));
        prop_assert!(name.starts_with(cut.strip_suffix(&suffix).unwrap()));
        quote_ident(&cut);
    }
}
