//! The diagram and the report as a person sees them: laid out without routes on top of each
//! other or across tables, at 200 tables; rendered by headless Chromium into a screenshot
//! with ink on it and a DOM holding the tables, with hostile names shown as text.

use std::time::Instant;

use haste_report::erd::Erd;
use haste_report::layout::{Layout, Rect, layout};
use haste_report::page::{Report, render};
use haste_report::svg::{self, Anchors};
use haste_report::{Filter, history::History};
use haste_schema::{
    Column, Constraint, ConstraintKind, Index, Policy, References, ReferentialAction, Schema, Table,
    TableKind, Trigger,
};
use haste_testkit::browser::{Browser, ink};
use haste_testkit::{Random, TempDir};

fn column(name: &str, data_type: &str, not_null: bool) -> Column {
    Column {
        name: name.to_owned(),
        data_type: data_type.to_owned(),
        not_null,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        comment: None,
        inherited: false,
        settings: Default::default(),
    }
}

/// A primary key on `id`.
fn primary_key(name: &str) -> Constraint {
    Constraint {
        columns: vec!["id".to_owned()],
        ..Constraint::new(name, ConstraintKind::PrimaryKey, "PRIMARY KEY (id)")
    }
}

/// A foreign key on `column` referencing `id` of `schema`.`table`, the definition as
/// PostgreSQL prints it.
fn foreign_key(name: &str, column: &str, schema: &str, table: &str, definition: String) -> Constraint {
    Constraint {
        columns: vec![column.to_owned()],
        references: Some(References {
            schema: schema.to_owned(),
            table: table.to_owned(),
            columns: vec!["id".to_owned()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
        }),
        ..Constraint::new(name, ConstraintKind::ForeignKey, &definition)
    }
}

fn table(schema: &str, name: &str, columns: Vec<Column>, constraints: Vec<Constraint>) -> Table {
    Table {
        schema: schema.to_owned(),
        name: name.to_owned(),
        kind: TableKind::Regular,
        partition_of: None,
        partition_depth: 0,
        inherits: Vec::new(),
        columns,
        constraints,
        comment: None,
        row_security: false,
        force_row_security: false,
        storage_parameters: Vec::new(),
        replica_identity: Default::default(),
        clustered_on: None,
    }
}

/// `"name"` as PostgreSQL quotes it.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `tables` tables in four schemas, each with an id, a few columns and one to three foreign
/// keys to earlier tables (a quarter of them in another schema), as PostgreSQL prints them.
fn generated(tables: usize) -> Schema {
    let mut random = Random::new(17);
    let schemas = ["billing", "crm", "inventory", "public"];
    let mut schema = Schema::default();
    let mut names: Vec<(String, String)> = Vec::new();
    for i in 0..tables {
        let own = schemas[i % schemas.len()].to_owned();
        let name = format!("table_{i:03}");
        let mut columns = vec![column("id", "bigint", true)];
        for c in 0..2 + random.next(8) {
            columns.push(column(
                &format!("field_{c}"),
                ["text", "integer", "timestamp with time zone"][c % 3],
                c % 2 == 0,
            ));
        }
        let mut constraints = vec![primary_key(&format!("{name}_pkey"))];
        let parents = if names.is_empty() { 0 } else { 1 + random.next(3) };
        for p in 0..parents {
            let (parent_schema, parent) = &names[random.next(names.len())];
            let key = format!("{parent}_{p}_id");
            columns.push(column(&key, "bigint", p == 0));
            constraints.push(foreign_key(
                &format!("{name}_{key}_fkey"),
                &key,
                parent_schema,
                parent,
                format!("FOREIGN KEY ({key}) REFERENCES {parent_schema}.{parent}(id) ON DELETE CASCADE"),
            ));
        }
        schema.tables.push(table(&own, &name, columns, constraints));
        names.push((own, name));
    }
    schema
}

/// Names a careless page would turn into markup or break on.
fn hostile() -> Schema {
    let evil = "<script>alert(1)</script>";
    let mut target = table(
        "public",
        evil,
        vec![
            column("id", "integer", true),
            column("quo\"te'", "text", false),
            column("日本語", "text", false),
        ],
        vec![primary_key("p<k>")],
    );
    target.comment = Some("</script><img src=x onerror=alert(2)> & \"quotes\"".to_owned());
    target.columns[1].comment = Some("<b>bold?</b>".to_owned());
    target.row_security = true;
    let child = table(
        "we\"ird",
        "child & <i>",
        vec![column("id", "integer", true), column("parent", "integer", false)],
        vec![
            primary_key("child_pkey"),
            foreign_key(
                "fk<script>",
                "parent",
                "public",
                evil,
                format!("FOREIGN KEY (parent) REFERENCES public.{}(id) ON DELETE CASCADE", quoted(evil)),
            ),
        ],
    );
    Schema {
        tables: vec![child, target],
        indexes: vec![Index {
            schema: "public".to_owned(),
            table: evil.to_owned(),
            name: "u<idx>".to_owned(),
            definition: format!(
                "CREATE UNIQUE INDEX \"u<idx>\" ON public.{} USING btree (\"日本語\")",
                quoted(evil)
            ),
            unique: true,
            method: "btree".to_owned(),
            elements: "(\"日本語\")".to_owned(),
            columns: vec!["日本語".to_owned()],
            keys: Vec::new(),
            included: Vec::new(),
            predicate: None,
            expressions: false,
            valid: true,
            attached_to: None,
        }],
        triggers: vec![Trigger {
            schema: "public".to_owned(),
            table: evil.to_owned(),
            name: "t</td>".to_owned(),
            definition: "CREATE TRIGGER \"t</td>\" BEFORE INSERT ON ... EXECUTE FUNCTION f()".to_owned(),
            firing: Default::default(),
            cloned: false,
        }],
        policies: vec![Policy {
            schema: "public".to_owned(),
            table: evil.to_owned(),
            name: "p\"olicy".to_owned(),
            permissive: true,
            command: "SELECT".to_owned(),
            roles: vec!["public".to_owned()],
            using: Some("(id > 0) AND '<x>' <> ''".to_owned()),
            with_check: None,
        }],
        ..Schema::default()
    }
}

/// A horizontal or vertical piece of a route.
#[derive(Debug, Clone, Copy)]
struct Piece {
    link: usize,
    from: (f64, f64),
    to: (f64, f64),
}

fn pieces(layout: &Layout) -> Vec<Piece> {
    layout
        .routes
        .iter()
        .enumerate()
        .flat_map(|(link, route)| route.windows(2).map(move |w| Piece { link, from: w[0], to: w[1] }))
        .collect()
}

fn inside(rect: &Rect, (x, y): (f64, f64)) -> bool {
    x > rect.x + 0.5 && x < rect.x + rect.w - 0.5 && y > rect.y + 0.5 && y < rect.y + rect.h - 0.5
}

/// Checks what makes a diagram readable: tables apart, routes straight pieces that never
/// enter a table and never lie along another route.
fn assert_readable(erd: &Erd, layout: &Layout) {
    for (i, a) in layout.boxes.iter().enumerate() {
        for b in &layout.boxes[i + 1..] {
            let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
            assert!(apart, "tables overlap: {a:?} {b:?}");
        }
    }
    let pieces = pieces(layout);
    for piece in &pieces {
        let straight = piece.from.0 == piece.to.0 || piece.from.1 == piece.to.1;
        assert!(straight, "a route piece is not straight: {piece:?}");
        // Sample along the piece: no point may be inside a table.
        for step in 0..=20 {
            let t = step as f64 / 20.0;
            let point = (
                piece.from.0 + (piece.to.0 - piece.from.0) * t,
                piece.from.1 + (piece.to.1 - piece.from.1) * t,
            );
            for (e, b) in layout.boxes.iter().enumerate() {
                assert!(
                    !inside(b, point),
                    "link {} crosses table {}",
                    erd.links[piece.link].name,
                    erd.entities[e].name
                );
            }
        }
    }
    // Two routes may meet at the line they both reach, never run along each other elsewhere.
    let mut by_line: std::collections::HashMap<(bool, i64), Vec<&Piece>> = Default::default();
    for piece in &pieces {
        let vertical = piece.from.0 == piece.to.0;
        let at = if vertical { piece.from.0 } else { piece.from.1 };
        by_line.entry((vertical, (at * 10.0).round() as i64)).or_default().push(piece);
    }
    for ((vertical, _), line) in by_line {
        let span = |p: &Piece| {
            let (a, b) = if vertical { (p.from.1, p.to.1) } else { (p.from.0, p.to.0) };
            (a.min(b), a.max(b))
        };
        for (i, a) in line.iter().enumerate() {
            for b in &line[i + 1..] {
                let same_end = |l: usize, m: usize| {
                    let (x, y) = (&erd.links[l], &erd.links[m]);
                    (x.to, x.to_attribute) == (y.to, y.to_attribute)
                        || (x.from, x.from_attribute) == (y.from, y.from_attribute)
                };
                if a.link == b.link || same_end(a.link, b.link) {
                    continue;
                }
                let ((a0, a1), (b0, b1)) = (span(a), span(b));
                let overlap = a1.min(b1) - a0.max(b0);
                assert!(
                    overlap <= 0.5,
                    "routes of {} and {} lie on each other for {overlap} px",
                    erd.links[a.link].name,
                    erd.links[b.link].name
                );
            }
        }
    }
}

#[test]
fn two_hundred_tables_are_laid_out_with_routes_apart_and_off_tables() {
    let schema = generated(200);
    let started = Instant::now();
    let erd = Erd::new(&schema, &Filter::default());
    let laid_out = layout(&erd);
    let drawing = svg::render_laid_out(&erd, &laid_out, Anchors::None);
    let elapsed = started.elapsed();
    assert_eq!(erd.entities.len(), 200);
    assert_eq!(
        erd.links.len(),
        schema
            .tables
            .iter()
            .flat_map(|t| &t.constraints)
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
            .count()
    );
    assert_eq!(laid_out.frames.len(), 4, "one frame per schema");
    assert_readable(&erd, &laid_out);
    let length: f64 = laid_out
        .routes
        .iter()
        .flat_map(|route| route.windows(2))
        .map(|w| (w[1].0 - w[0].0).abs() + (w[1].1 - w[0].1).abs())
        .sum();
    eprintln!("total route length {:.0} px", length);
    eprintln!(
        "200 tables, {} links: model, layout and SVG in {} ms, {:.0}x{:.0} px, {} KiB",
        erd.links.len(),
        elapsed.as_millis(),
        laid_out.width,
        laid_out.height,
        drawing.len() / 1024
    );
    // Narrowed: one schema, a pattern; links only between the tables drawn.
    let narrowed =
        Erd::new(&schema, &Filter { schemas: vec!["crm".to_owned()], tables: Some("table_0?1".to_owned()) });
    assert!(
        narrowed
            .entities
            .iter()
            .all(|e| e.schema == "crm" && e.name.starts_with("table_0") && e.name.ends_with('1'))
    );
    assert!(!narrowed.entities.is_empty());
    assert_readable(&narrowed, &layout(&narrowed));
}

#[test]
fn hostile_names_reach_the_page_and_the_diagram_as_text() {
    let schema = hostile();
    let erd = Erd::new(&schema, &Filter::default());
    assert_eq!(erd.links.len(), 1, "the quoted reference is followed");
    let target = erd.entities.iter().find(|e| e.name.starts_with("<script>")).unwrap();
    assert!(
        target.attributes.iter().any(|a| a.name == "日本語" && a.unique),
        "the unique index marks its column"
    );
    let page = render(&Report {
        title: "db <\"title\">",
        generated_at: "now",
        schema: &schema,
        filter: &Filter::default(),
        history: Some(&History::default()),
        plan: None,
    });
    assert_eq!(page.matches("<script>").count(), 1, "only the page's own script");
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>bold"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let drawing = svg::render(&erd, Anchors::None);
    assert!(!drawing.contains("<script") && !drawing.contains("<i>"));
    let mermaid = haste_report::text::mermaid(&erd);
    assert!(mermaid.lines().all(|line| line.matches('"').count() % 2 == 0), "quotes stay paired:\n{mermaid}");
    assert!(
        !mermaid.contains('<') && mermaid.contains("‹script›alert(1)‹/script›"),
        "no markup for Mermaid:\n{mermaid}"
    );
    assert!(!haste_report::text::dot(&erd).contains("<script>"));
}

#[test]
fn chromium_shows_the_report_and_the_diagram() {
    let Some(browser) = Browser::start("chromium_shows_the_report_and_the_diagram") else { return };
    let work = TempDir::new("report-browser");
    let mut schema = generated(60);
    let hostile = hostile();
    schema.tables.extend(hostile.tables.clone());
    schema.indexes.extend(hostile.indexes.clone());
    schema.triggers.extend(hostile.triggers.clone());
    schema.policies.extend(hostile.policies.clone());
    let page = work.write(
        "index.html",
        &render(&Report {
            title: "generated <schema>",
            generated_at: "now",
            schema: &schema,
            filter: &Filter::default(),
            history: Some(&History::default()),
            plan: None,
        }),
    );
    let erd = Erd::new(&schema, &Filter::default());
    let picture = work.write("erd.svg", &svg::render(&erd, Anchors::None));
    // Kept after the run, one of each, for a person to look at.
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (page_png, svg_png) = (artifacts.join("report-page.png"), artifacts.join("report-erd.png"));
    browser.screenshot(&page, &page_png, 1400, 1000).expect("a screenshot of the page");
    browser.screenshot(&picture, &svg_png, 1600, 1200).expect("a screenshot of the diagram");
    let (page_ink, svg_ink) = (ink(&page_png), ink(&svg_png));
    eprintln!(
        "screenshots: {} ({:.1}% ink), {} ({:.1}% ink)",
        page_png.display(),
        page_ink * 100.0,
        svg_png.display(),
        svg_ink * 100.0
    );
    assert!(page_ink > 0.05, "the page looks blank: {page_ink}");
    assert!(svg_ink > 0.05, "the diagram looks blank: {svg_ink}");
    let dom = browser.dump_dom(&page).expect("the page's DOM");
    assert_eq!(dom.matches("class=\"doc\"").count(), erd.entities.len(), "a section per table");
    assert_eq!(dom.matches("class=\"table\"").count(), erd.entities.len(), "a box per table in the diagram");
    assert_eq!(dom.matches("<polyline").count(), erd.links.len(), "a route per foreign key");
    assert!(dom.contains("id=\"diagram\"") && dom.contains("id=\"history\""));
    assert_eq!(dom.matches("<script").count(), 1, "no name became a script");
    assert!(!dom.contains("<img"), "no comment became an element");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is shown as text");
    // The script ran: a diagram wider than its frame is scaled down to fit.
    let width = |svg: &str| {
        svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).and_then(|w| w.parse::<f64>().ok())
    };
    let drawn = dom.split("<svg").nth(1).and_then(width).unwrap();
    assert!(drawn < layout(&erd).width.ceil(), "the page's script fitted the diagram ({drawn})");
}

/// Mermaid reads `#name;` and `#123;` in any text as its entity codes and shows what it makes of
/// them (`ﬂ°lt¶ß`); a comment or name holding one ("ticket #123; see #lt;") keeps its look.
#[test]
fn mermaid_labels_hold_no_entity_code() {
    let mut schema = hostile();
    schema.tables[0].name = "orders#v2;".to_owned();
    schema.tables[1].columns[0].comment = Some("ticket #123; see #lt; and #_x; (# alone stays)".to_owned());
    let mermaid = haste_report::text::mermaid(&Erd::new(&schema, &Filter::default()));
    let codes: Vec<&str> = mermaid
        .match_indices('#')
        .map(|(at, _)| &mermaid[at..])
        .filter(|rest| {
            let word =
                rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |end| end + 1);
            word > 1 && rest[word..].starts_with(';')
        })
        .map(|rest| rest.split(';').next().unwrap_or_default())
        .collect();
    assert!(codes.is_empty(), "entity codes for Mermaid: {codes:?}\n{mermaid}");
    assert!(
        mermaid.contains("ticket ＃123; see ＃lt; and ＃_x; (# alone stays)")
            && mermaid.contains("orders＃v2;"),
        "{mermaid}"
    );
}
