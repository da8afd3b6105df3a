//! Checksums that survive a checkout with other line endings.

use sha2::{Digest, Sha256};
use std::fmt;

/// A migration file's checksum as stored in history: `sha256n1:<hex>`.
///
/// `n1` names the normalization (BOM stripped, CRLF and lone CR mapped to LF), so a later
/// normalization can be told apart from this one and old history stays verifiable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum(String);

const TAG: &str = "sha256n1:";
const CODE_TAG: &str = "code:";

impl Checksum {
    /// The checksum of `text` after normalization.
    pub fn of(text: &str) -> Checksum {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut hasher = Sha256::new();
        let mut rest = text.as_bytes();
        while let Some(cr) = rest.iter().position(|&b| b == b'\r') {
            hasher.update(&rest[..cr]);
            hasher.update(b"\n");
            rest = &rest[cr + 1..];
            if rest.first() == Some(&b'\n') {
                rest = &rest[1..];
            }
        }
        hasher.update(rest);
        let hex: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        Checksum(format!("{TAG}{hex}"))
    }

    /// Whether `stored`, a checksum Prisma Migrate wrote into `_prisma_migrations` (SHA-256 hex
    /// of the file's bytes), belongs to `text`. Like Prisma, accepts the file with its line
    /// endings as they are, converted to LF, or converted to CRLF.
    pub fn matches_prisma(text: &str, stored: &str) -> bool {
        let lf = text.replace("\r\n", "\n");
        let crlf = lf.replace('\n', "\r\n");
        [text, &lf, &crlf]
            .into_iter()
            .any(|variant| sha256_hex(variant.as_bytes()).eq_ignore_ascii_case(stored))
    }

    /// The checksum haste records for a migration written in code (it has no file): `code:<name>`.
    pub fn code(name: &str) -> Checksum {
        Checksum(format!("{CODE_TAG}{name}"))
    }

    /// Whether a stored checksum belongs to a migration written in code, which lives in an
    /// application binary rather than in the migrations folder.
    pub fn is_code(stored: &str) -> bool {
        stored.starts_with(CODE_TAG)
    }

    /// A checksum read back from history, as stored.
    pub fn from_stored(stored: String) -> Checksum {
        Checksum(stored)
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_bom_do_not_change_the_checksum() {
        let lf = Checksum::of("CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(lf, Checksum::of("CREATE TABLE a (id int);\r\nSELECT 1;\r\n"));
        assert_eq!(lf, Checksum::of("CREATE TABLE a (id int);\rSELECT 1;\r"));
        assert_eq!(lf, Checksum::of("\u{feff}CREATE TABLE a (id int);\nSELECT 1;\n"));
        assert!(lf.as_str().starts_with("sha256n1:") && lf.as_str().len() == 9 + 64);
    }

    #[test]
    fn recognizes_prismas_checksums_across_line_endings() {
        // sha256("SELECT 1;\n")
        let lf = "a6ec4e08f2b5d6f0ed0e3e2a36d1f49dd8e05a4a4a0c4ee7e6e0c9c9d0a4b0fb";
        let real = sha256_hex(b"SELECT 1;\n");
        assert!(Checksum::matches_prisma("SELECT 1;\n", &real));
        assert!(Checksum::matches_prisma("SELECT 1;\r\n", &real));
        assert!(Checksum::matches_prisma("SELECT 1;\n", &sha256_hex(b"SELECT 1;\r\n")));
        assert!(!Checksum::matches_prisma("SELECT 2;\n", &real));
        assert!(!Checksum::matches_prisma("SELECT 1;\n", lf));
    }

    #[test]
    fn one_changed_byte_changes_the_checksum() {
        assert_ne!(Checksum::of("SELECT 1;\n"), Checksum::of("SELECT 2;\n"));
        assert_ne!(Checksum::of("SELECT 1;\n"), Checksum::of("SELECT 1;\n\n"));
    }
}
