//! Minimal reproducers of every way haste disagreed with Prisma 6.19.3 on real open-source
//! projects (docs/real-world-prisma.md; the corpus itself stays out of the repository). Each case
//! under `tests/real-world/<case>/` is our own tiny schema: `before.prisma` and `after.prisma`
//! (a schema change), or `migrations/` and `schema.prisma` (a schema against its history), and
//! `prisma.sql`, the SQL Prisma 6.19.3's `migrate diff --script` printed for it.
//!
//! A case with a `KNOWN_FAILURE` file (its first line: the category) is a disagreement not fixed
//! yet: it is reported, not asserted, so the suite stays green; when it starts to pass the test
//! says so, and the file should be deleted, which turns the case into a regression test.
//! `HASTE_STRICT_KNOWN_FAILURES=1` makes a fixed-but-still-listed case fail the test.

use std::fs;
use std::path::{Path, PathBuf};

use haste_testkit::{TempDir, database};

use crate::haste;

/// What a tool says when the two sides are equal; everything else is compared as text.
fn normalized(sql: &str) -> String {
    let lines: Vec<&str> = sql.lines().map(str::trim_end).collect();
    let text = lines.join("\n");
    let mut out = String::new();
    for block in text.split("\n\n").map(str::trim).filter(|block| !block.is_empty()) {
        out.push_str(block);
        out.push_str("\n\n");
    }
    let out = out.trim().to_owned();
    if out == "-- This is an empty migration." || out == "-- The schemas are equal." {
        String::new()
    } else {
        out
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real-world");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/real-world exists")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("prisma.sql").is_file())
        .collect();
    cases.sort();
    cases
}

/// haste's `schema diff` for a case: the SQL it prints, or its error.
fn haste_sql(case: &Path, url: &str) -> Result<String, String> {
    let path = |name: &str| case.join(name).to_str().unwrap().to_owned();
    let (from, to) = if case.join("migrations").is_dir() {
        (path("migrations"), path("schema.prisma"))
    } else {
        (path("before.prisma"), path("after.prisma"))
    };
    let cwd = TempDir::new("real-world");
    let run = haste(cwd.path(), &["schema", "diff", "--from", &from, "--to", &to, "--url", url]);
    match run.code {
        0 | 14 => Ok(run.stdout),
        _ => Err(format!("{run:?}")),
    }
}

#[test]
fn real_world_reproducers_match_prisma_except_the_known_failures() {
    let Some(db) = database() else { return };
    let strict = std::env::var_os("HASTE_STRICT_KNOWN_FAILURES").is_some();
    let mut broken = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expected = normalized(&fs::read_to_string(case.join("prisma.sql")).unwrap());
        let outcome = haste_sql(&case, &db.url).map(|sql| normalized(&sql));
        let matches = outcome.as_ref().is_ok_and(|sql| *sql == expected);
        let known = fs::read_to_string(case.join("KNOWN_FAILURE")).ok();
        match (matches, known) {
            (true, None) => {}
            (true, Some(_)) => {
                eprintln!("FIXED: {name} now matches Prisma; delete its KNOWN_FAILURE file");
                if strict {
                    broken.push(format!("{name}: fixed but still listed as a known failure"));
                }
            }
            (false, Some(category)) => {
                eprintln!("KNOWN FAILURE: {name}: {}", category.lines().next().unwrap_or_default());
            }
            (false, None) => broken.push(match outcome {
                Ok(sql) => format!("{name}: haste printed\n{sql}\nPrisma printed\n{expected}"),
                Err(error) => format!("{name}: haste failed\n{error}"),
            }),
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
}
