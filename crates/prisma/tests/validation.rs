//! What Prisma refuses and accepts, as data (`tests/data/validation/`): each schema in
//! `refused/` marks every line Prisma 6.19.3 reports with a trailing `// expect: <message>`
//! (its exact message); haste must report those lines with those messages and nothing else.
//! Each schema in `accepted/` must validate. `scripts/prisma-validation-check` runs the same
//! files through Prisma itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const MARK: &str = "// expect: ";

fn schemas(folder: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/validation").join(folder);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().flatten().map(|e| e.path()).collect();
    found.sort();
    found
}

/// Every error of a schema, as (line, message).
fn reported(path: &Path) -> BTreeSet<(usize, String)> {
    let files = haste_prisma::read(path).unwrap();
    let errors = match haste_prisma::parse(&files) {
        Err(errors) => errors,
        Ok(ast) => haste_prisma::lower(&ast, "public").err().unwrap_or_default(),
    };
    errors.iter().map(|error| (error.position(&files[0].text).0, error.message.clone())).collect()
}

#[test]
fn what_prisma_refuses_is_refused_on_its_line_with_its_message() {
    let cases = schemas("refused");
    assert!(cases.len() >= 10, "the refused schemas are there");
    for path in cases {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: BTreeSet<(usize, String)> = text
            .lines()
            .enumerate()
            .filter_map(|(index, line)| {
                line.split_once(MARK).map(|(_, message)| (index + 1, message.to_owned()))
            })
            .collect();
        assert!(!expected.is_empty(), "{} marks no error", path.display());
        assert_eq!(reported(&path), expected, "{}", path.display());
    }
}

#[test]
fn what_prisma_accepts_is_accepted() {
    let cases = schemas("accepted");
    assert!(!cases.is_empty(), "the accepted schemas are there");
    for path in cases {
        assert_eq!(reported(&path), BTreeSet::new(), "{}", path.display());
    }
}
