//! The diagram as text for other tools: Mermaid (`erDiagram`, for markdown) and Graphviz DOT.

use std::fmt::Write;

use crate::erd::Erd;
use crate::escape;

/// A Mermaid `erDiagram`. Mermaid's grammar accepts only plain words for entity, attribute and
/// type names, so entities are `t<n>` with the real `schema.table` as their label, and other
/// names keep their letters and digits (anything else becomes `_`).
pub fn mermaid(erd: &Erd) -> String {
    let mut out = String::from("erDiagram\n");
    for (e, entity) in erd.entities.iter().enumerate() {
        let _ = writeln!(out, "    t{e}[\"{}\"] {{", label(&entity.qualified()));
        for attribute in &entity.attributes {
            let marks = attribute.marks();
            let _ = write!(out, "        {} {}", word(&attribute.data_type), word(&attribute.name));
            if !marks.is_empty() {
                let _ = write!(out, " {}", marks.join(", "));
            }
            if let Some(comment) = &attribute.comment {
                let _ = write!(out, " \"{}\"", label(comment));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for link in &erd.links {
        let child = if link.one_to_one { "|o" } else { "}o" };
        let parent = if link.required { "||" } else { "o|" };
        let _ =
            writeln!(out, "    t{} {child}--{parent} t{} : \"{}\"", link.from, link.to, label(&link.name));
    }
    out
}

/// A name as a Mermaid word: `[A-Za-z_][A-Za-z0-9_()\[\]-]*`.
fn word(text: &str) -> String {
    let mut word: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_()[]-".contains(c) { c } else { '_' })
        .collect();
    if !word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        word.insert(0, '_');
    }
    word
}

/// Text inside Mermaid's double quotes, on one line. Mermaid reads markup in the labels of an
/// `erDiagram` and decodes no escape there, so `<`, `>` and `"` become the look-alikes `‹`, `›`
/// and `'`. It also takes any `#word;` for one of its entity codes (`#lt;`, `#35;`), which it
/// then shows mangled (`ﬂ°lt¶ß`), so the `#` of such a run becomes the look-alike `＃`.
fn label(text: &str) -> String {
    text.char_indices()
        .map(|(at, c)| match c {
            '<' => '‹',
            '>' => '›',
            '"' => '\'',
            '#' if starts_entity_code(&text[at + 1..]) => '＃',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Whether `rest`, after a `#`, makes it one of Mermaid's entity codes: `\w+;` (JavaScript's
/// `\w`, ASCII letters, digits and `_`).
fn starts_entity_code(rest: &str) -> bool {
    let word = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    word > 0 && rest[word..].starts_with(';')
}

/// A Graphviz DOT graph: each schema a cluster, each table an HTML-like table with a port per
/// column, each foreign key an edge between the two columns. Every text is an HTML-like label,
/// escaped by [`escape`].
pub fn dot(erd: &Erd) -> String {
    let mut out = String::from(
        "digraph erd {\n    graph [rankdir=LR, fontname=\"monospace\", nodesep=0.4, ranksep=1.2];\n    \
         node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n    edge [arrowhead=tee, arrowtail=crow, dir=both];\n",
    );
    for (g, (schema, range)) in erd.groups().into_iter().enumerate() {
        let _ = writeln!(out, "    subgraph cluster_{g} {{\n        label=<<B>{}</B>>;", escape(schema));
        for e in range {
            let entity = &erd.entities[e];
            let _ = write!(
                out,
                "        t{e} [label=<<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\">\
                 <TR><TD COLSPAN=\"3\" BGCOLOR=\"#24292f\"><FONT COLOR=\"#ffffff\"><B>{}</B></FONT></TD></TR>",
                escape(&entity.name)
            );
            for (k, attribute) in entity.attributes.iter().enumerate() {
                let marks = attribute.marks();
                let _ = write!(
                    out,
                    "<TR><TD ALIGN=\"LEFT\" PORT=\"c{k}\">{}</TD><TD ALIGN=\"LEFT\">{}</TD><TD>{}</TD></TR>",
                    escape(&attribute.name),
                    escape(&attribute.data_type),
                    marks.join(" ")
                );
            }
            out.push_str("</TABLE>>];\n");
        }
        out.push_str("    }\n");
    }
    for link in &erd.links {
        let _ = writeln!(
            out,
            "    t{}:c{}:e -> t{}:c{}:w{};",
            link.from,
            link.from_attribute,
            link.to,
            link.to_attribute,
            if link.required { "" } else { " [style=dashed]" }
        );
    }
    out.push_str("}\n");
    out
}
