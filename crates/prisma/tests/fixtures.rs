//! Schemas beside the SQL Prisma Migrate generates for them (`tests/data/*/`; see its README):
//! haste must write the same statements.

use std::path::Path;

use haste_prisma::ir::Database;

fn lowered(path: &Path) -> Database {
    let files = haste_prisma::read(path).unwrap();
    let ast = haste_prisma::parse(&files).unwrap_or_else(|e| panic!("{}", e[0].render(&files)));
    haste_prisma::lower(&ast, "public").unwrap_or_else(|e| panic!("{}", e[0].render(&files)))
}

#[test]
fn every_fixture_renders_as_prisma_does() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut cases: Vec<_> =
        std::fs::read_dir(&data).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    // `validation/` holds schemas to validate, not migrations (`tests/validation.rs`).
    cases.retain(|case| !case.ends_with("validation"));
    cases.sort();
    assert!(cases.len() >= 5, "the fixtures are there");
    for case in cases {
        let from = case.join("from.prisma");
        let from = if from.exists() { lowered(&from) } else { Database::default() };
        let to = lowered(&case.join("to.prisma"));
        let mut migration = haste_prisma::migration(&from, &to, &to);
        migration.warnings.clear();
        let expected = std::fs::read_to_string(case.join("expected.sql")).unwrap();
        assert_eq!(migration.to_sql(), expected, "{}", case.display());
    }
}
