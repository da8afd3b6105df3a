//! Arbitrary connection strings never panic `DatabaseUrl`, and a password never shows in what
//! it prints. The corpus (`tests/fuzz-corpus/urls.txt`, one URL a line) is replayed first; then
//! `HASTE_FUZZ_CASES` random cases per property (a short run by default).

use haste_driver::DatabaseUrl;
use proptest::prelude::*;
use proptest::sample::select;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("HASTE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Pieces of URLs: schemes in any case, the separators the parser looks for, percent escapes
/// (whole, cut short, multi-byte), passwords in the user info and in the query.
const TOKENS: &[&str] = &[
    "postgres://",
    "postgresql://",
    "POSTGRES://",
    "sqlite:",
    "file:",
    "://",
    "user",
    ":",
    "@",
    "pw",
    "host",
    "5432",
    "/",
    "db",
    "?",
    "&",
    "#",
    " ",
    "password=",
    "PASSWORD=",
    "schema=",
    "sslmode=require",
    "%",
    "%2",
    "%41",
    "%e9",
    "%C3%A9",
    "%ZZ",
    "é",
    "日",
    "🦀",
    "\0",
    "=",
    "[::1]",
    "host=%2Ftmp",
];

fn url_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(TOKENS), 0..20).prop_map(|tokens| tokens.concat()),
    ]
}

/// Every method a command calls on a URL.
fn exercise(raw: &str) {
    let Ok(url) = DatabaseUrl::parse(raw) else { return };
    let _ = (url.scheme(), url.redacted(), url.to_string(), format!("{url:?}"), url.database());
    let _ = (url.param("schema"), url.param(""), url.split_password(), url.scrub(raw));
    let _ = serde_json::to_string(&url);
    let other = url.with_database("other");
    let _ = (other.redacted(), other.database());
}

#[test]
fn the_corpus_never_panics() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus/urls.txt");
    let text = std::fs::read_to_string(&corpus).unwrap();
    assert!(text.lines().count() > 0);
    for line in text.lines() {
        exercise(line);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn urls_never_panic(raw in url_text()) {
        exercise(&raw);
    }

    #[test]
    fn a_password_never_shows(
        password in "PW[A-Za-z0-9!*;,$~]{6,20}",
        host in "[a-z0-9.@:-]{0,12}",
        query in prop_oneof![Just(String::new()), "[?][a-z=&%0-9]{0,20}"],
        in_query in any::<bool>(),
    ) {
        let raw = if in_query {
            format!("postgres://user@{host}/db?password={password}&{}", query.trim_start_matches('?'))
        } else {
            format!("postgres://user:{password}@{host}/db{query}")
        };
        let url = DatabaseUrl::parse(&raw).unwrap();
        for shown in [url.redacted(), url.to_string(), format!("{url:?}"), serde_json::to_string(&url).unwrap(), url.scrub(&raw), url.split_password().0.expose().to_owned()] {
            prop_assert!(!shown.contains(&password), "{shown}");
        }
    }
}
