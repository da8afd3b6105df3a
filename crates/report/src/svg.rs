//! The diagram as SVG, drawn from [`layout`](crate::layout): a monospace font so that the
//! widths the layout measured hold, links under the boxes, every text through
//! [`escape`](crate::escape).

use std::fmt::Write;

use crate::erd::{Erd, Link};
use crate::escape;
use crate::layout::{self, Layout, PAD, ROW};

/// Link colours, cycled, so that neighbouring routes can be told apart.
const PALETTE: [&str; 8] =
    ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

/// Where a table's box leads when clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchors {
    /// Nowhere: a picture on its own.
    None,
    /// To the table's section of the HTML report (`#table-<index>`).
    Report,
}

/// The SVG document of `erd`.
pub fn render(erd: &Erd, anchors: Anchors) -> String {
    let layout = layout::layout(erd);
    render_laid_out(erd, &layout, anchors)
}

/// The SVG document of `erd` laid out as `layout`.
pub fn render_laid_out(erd: &Erd, layout: &Layout, anchors: Anchors) -> String {
    let mut svg = String::new();
    let (width, height) = (layout.width.ceil(), layout.height.ceil());
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="erd" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">
<style>
.erd .frame {{ fill: #f6f8fa; stroke: #d0d7de; }}
.erd .frame-title {{ font-size: 15px; font-weight: bold; fill: #57606a; }}
.erd .box {{ fill: #ffffff; stroke: #8c959f; }}
.erd .head {{ fill: #24292f; }}
.erd .name {{ fill: #ffffff; font-weight: bold; }}
.erd .type {{ fill: #6e7781; }}
.erd .mark {{ fill: #9a6700; font-size: 10px; font-weight: bold; }}
.erd .link {{ fill: none; stroke-width: 1.3; }}
.erd .link.optional {{ stroke-dasharray: 5 3; }}
.erd .table:hover .box {{ stroke: #0969da; stroke-width: 2; }}
</style>
<defs>
<marker id="many" viewBox="0 0 12 12" refX="0" refY="6" markerWidth="12" markerHeight="12" orient="auto-start-reverse" markerUnits="userSpaceOnUse"><path d="M0,0 L10,6 L0,12 M10,0 L10,12" fill="none" stroke="#57606a"/></marker>
<marker id="one" viewBox="0 0 12 12" refX="12" refY="6" markerWidth="12" markerHeight="12" orient="auto" markerUnits="userSpaceOnUse"><path d="M4,0 L4,12 M8,0 L8,12" fill="none" stroke="#57606a"/></marker>
</defs>
<rect width="100%" height="100%" fill="#ffffff"/>
"##
    );
    for frame in &layout.frames {
        let r = frame.rect;
        let _ = writeln!(
            svg,
            r#"<g class="schema"><rect class="frame" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="6"/><text class="frame-title" x="{:.1}" y="{:.1}">{}</text></g>"#,
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10.0,
            r.y + 19.0,
            escape(&frame.schema)
        );
    }
    for (i, (link, route)) in erd.links.iter().zip(&layout.routes).enumerate() {
        let points: Vec<String> = route.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = writeln!(
            svg,
            r#"<polyline class="link{}" stroke="{}" points="{}" marker-start="url(#{})" marker-end="url(#one)"><title>{}</title></polyline>"#,
            if link.required { "" } else { " optional" },
            PALETTE[i % PALETTE.len()],
            points.join(" "),
            if link.one_to_one { "one" } else { "many" },
            escape(&link_title(erd, link)),
        );
    }
    for (e, (entity, b)) in erd.entities.iter().zip(&layout.boxes).enumerate() {
        let open = match anchors {
            Anchors::None => String::new(),
            Anchors::Report => format!(r##"<a href="#table-{e}">"##),
        };
        let _ = write!(
            svg,
            r#"<g class="table" id="erd-table-{e}">{open}<title>{}</title><rect class="box" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"/><rect class="head" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"/><text class="name" x="{:.1}" y="{:.1}">{}</text>"#,
            escape(&format!(
                "{}{}",
                entity.qualified(),
                entity.comment.as_deref().map(|c| format!("\n{c}")).unwrap_or_default()
            )),
            b.x,
            b.y,
            b.w,
            b.h,
            b.x,
            b.y,
            b.w,
            layout::HEADER,
            b.x + PAD,
            b.y + 17.0,
            escape(&entity.name)
        );
        let type_x = b.x
            + PAD
            + entity.attributes.iter().map(|a| layout::text_width(&a.name)).fold(0.0, f64::max)
            + PAD;
        for (k, attribute) in entity.attributes.iter().enumerate() {
            let y = b.y + layout::attribute_offset(k) + 4.0;
            let marks = attribute.marks();
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{y:.1}"{}>{}</text><text class="type" x="{type_x:.1}" y="{y:.1}">{}{}</text>"#,
                b.x + PAD,
                if attribute.primary { r#" font-weight="bold""# } else { "" },
                escape(&attribute.name),
                escape(&attribute.data_type),
                if attribute.not_null { "" } else { "?" },
            );
            if !marks.is_empty() {
                let _ = write!(
                    svg,
                    r#"<text class="mark" x="{:.1}" y="{y:.1}" text-anchor="end">{}</text>"#,
                    b.x + b.w - PAD,
                    marks.join(" ")
                );
            }
            if k + 1 < entity.attributes.len() {
                let line_y = b.y + layout::HEADER + (k + 1) as f64 * ROW + 3.0;
                let _ = write!(
                    svg,
                    r##"<line x1="{:.1}" x2="{:.1}" y1="{line_y:.1}" y2="{line_y:.1}" stroke="#eaeef2"/>"##,
                    b.x + 1.0,
                    b.x + b.w - 1.0
                );
            }
        }
        let close = if anchors == Anchors::Report { "</a>" } else { "" };
        let _ = writeln!(svg, "{close}</g>");
    }
    svg.push_str("</svg>\n");
    svg
}

/// `constraint: from.table(column) → to.table(column)`, the text shown over a link.
pub fn link_title(erd: &Erd, link: &Link) -> String {
    let (from, to) = (&erd.entities[link.from], &erd.entities[link.to]);
    format!(
        "{}: {}.{} → {}.{}",
        link.name,
        from.qualified(),
        from.attributes[link.from_attribute].name,
        to.qualified(),
        to.attributes[link.to_attribute].name
    )
}
