//! Pictures of a schema and its history, for people who would rather look than read: the
//! entity-relationship diagram ([`Erd`]: SVG laid out by [`layout`], Mermaid, DOT) and the
//! self-contained HTML report ([`page`]). Everything here is data in, text out; the only I/O is
//! [`history::read`], through the driver's primitives.

pub mod erd;
pub mod history;
pub mod layout;
pub mod page;
pub mod svg;
pub mod text;

pub use erd::{Erd, Filter, FilterError};

/// Escapes text for HTML and XML (SVG, Graphviz's HTML-like labels): the one way any name,
/// comment or statement reaches markup.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Control characters other than tab and line ends are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_characters_and_controls_are_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\u{1}é"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\u{fffd}é"
        );
    }
}
