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
        let mut hex = String::with_capacity(TAG.len() + 64);
        hex.push_str(TAG);
        for byte in hasher.finalize() {
            hex.push_str(&format!("{byte:02x}"));
        }
        Checksum(hex)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_bom_do_not_change_the_checksum() {
        let lf = Checksum::of("CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(
            lf,
            Checksum::of("CREATE TABLE a (id int);\r\nSELECT 1;\r\n")
        );
        assert_eq!(lf, Checksum::of("CREATE TABLE a (id int);\rSELECT 1;\r"));
        assert_eq!(
            lf,
            Checksum::of("\u{feff}CREATE TABLE a (id int);\nSELECT 1;\n")
        );
        assert!(lf.as_str().starts_with("sha256n1:") && lf.as_str().len() == 9 + 64);
    }

    #[test]
    fn one_changed_byte_changes_the_checksum() {
        assert_ne!(Checksum::of("SELECT 1;\n"), Checksum::of("SELECT 2;\n"));
        assert_ne!(Checksum::of("SELECT 1;\n"), Checksum::of("SELECT 1;\n\n"));
    }
}
