//! Byte offsets to the line and column a person sees.

/// Line starts of one text, for repeated offset-to-position look-ups.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`. Lines end at `\n`; a `\r` before it belongs to the line.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, line_starts }
    }

    /// The 1-based line and 1-based column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let column =
            self.text[self.line_starts[line]..floor_char_boundary(self.text, offset)].chars().count();
        (line + 1, column + 1)
    }

    /// The text of 1-based `line`, without its line ending.
    pub fn line(&self, line: usize) -> &'a str {
        let start = self.line_starts[line - 1];
        let end = self.line_starts.get(line).map_or(self.text.len(), |&next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }

    /// How many lines the text has.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Byte offset of the `position`-th character (1-based, as PostgreSQL reports error positions)
/// of `text`.
pub fn char_position_to_offset(text: &str, position: usize) -> usize {
    text.char_indices().nth(position.saturating_sub(1)).map_or(text.len(), |(i, _)| i)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_to_lines_and_character_columns() {
        let text = "ab\r\ncé d\nlast";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(0), (1, 1));
        assert_eq!(index.line_col(4), (2, 1));
        assert_eq!(index.line_col(text.find('d').unwrap()), (2, 4));
        assert_eq!(index.line(1), "ab");
        assert_eq!(index.line(3), "last");
        assert_eq!(index.line_count(), 3);
        assert_eq!(char_position_to_offset("é x", 3), 3);
    }
}
