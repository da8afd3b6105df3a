//! Whitespace and comments, which both dialects write the same way.

/// Length in bytes of the whitespace, `--` comments and (nested) `/* */` comments that open `text`.
pub(crate) fn leading_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i..].starts_with(b"--") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if bytes[i..].starts_with(b"/*") {
            i += block_comment_len(&bytes[i..]);
        } else {
            return i;
        }
    }
}

/// Length of the block comment that opens `bytes`, nesting as PostgreSQL does; unterminated
/// comments run to the end.
pub(crate) fn block_comment_len(bytes: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Whether `text` holds nothing but whitespace and comments.
pub(crate) fn is_blank(text: &str) -> bool {
    leading_len(text) == text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_nested_comments_and_line_comments() {
        let text = "  -- a\n/* b /* c */ d */\n  SELECT 1";
        assert_eq!(&text[leading_len(text)..], "SELECT 1");
        assert!(is_blank("-- only\n/* comments */ "));
        assert!(!is_blank("-- x\n;"));
    }
}
