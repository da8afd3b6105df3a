//! Places the diagram's tables on a grid and routes its links through the gaps between them.
//!
//! Tables are boxes in grid cells, each schema starting on a new grid row; the most linked
//! tables are placed first, in the middle, and each other table in the free cell nearest the
//! tables it links to, so linked tables land near each other. Links never cross a box: each runs
//! in the gutters between columns and rows, as at most three straight segments (down the
//! gutter beside its table, along the gutter beside the row of the table it references, down
//! to the referenced column). Every gutter gives each segment in it a lane of its own (interval
//! colouring: segments that overlap along the gutter never share a lane), and is as wide as its
//! lanes need, so links never lie on top of each other however many there are.

use crate::erd::{Erd, Link};

/// Height of a table's name bar.
pub const HEADER: f64 = 26.0;
/// Height of one column's line.
pub const ROW: f64 = 18.0;
/// Width of one character of the diagram's monospace font (12px).
pub const CHAR: f64 = 7.3;
/// Room for the key marks (`PK`, `FK`, `UK`) of a line.
pub const MARKS: f64 = 54.0;
/// Inner padding of a table box.
pub const PAD: f64 = 8.0;
/// Distance between two lanes of a gutter.
const LANE: f64 = 6.0;
/// Narrowest gutter.
const GUTTER: f64 = 28.0;
/// How far a route's end sits above (right side) or below (left side) its line's middle.
const SIDE_SHIFT: f64 = 2.5;
/// Room above a schema's first row for its title.
const TITLE: f64 = 30.0;

/// A rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// A schema's frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The schema.
    pub schema: String,
    /// Where it is drawn.
    pub rect: Rect,
}

/// Where everything goes.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// Each entity's box, in [`Erd::entities`] order.
    pub boxes: Vec<Rect>,
    /// Each schema's frame.
    pub frames: Vec<Frame>,
    /// Each link's polyline, in [`Erd::links`] order, from the referencing column to the
    /// referenced one.
    pub routes: Vec<Vec<(f64, f64)>>,
}

/// Width of text in the diagram's font (characters of East Asian scripts count double).
pub fn text_width(text: &str) -> f64 {
    text.chars().map(|c| if c >= '\u{2e80}' { 2.0 } else { 1.0 }).sum::<f64>() * CHAR
}

fn box_size(erd: &Erd, entity: usize) -> (f64, f64) {
    let entity = &erd.entities[entity];
    let name = text_width(&entity.name) + 2.0 * PAD;
    let name_width = entity.attributes.iter().map(|a| text_width(&a.name)).fold(0.0, f64::max);
    let type_width = entity.attributes.iter().map(|a| text_width(&a.data_type)).fold(0.0, f64::max);
    let lines = name_width + type_width + MARKS + 3.0 * PAD;
    (name.max(lines).max(120.0), HEADER + entity.attributes.len() as f64 * ROW + 6.0)
}

/// Y of an attribute's line inside its box.
pub fn attribute_offset(attribute: usize) -> f64 {
    HEADER + attribute as f64 * ROW + ROW / 2.0 + 3.0
}

/// A segment of a route in a gutter, from `low` to `high` along it, in order keys (not yet
/// coordinates: a gutter's width depends on the segments it holds).
struct Segment {
    gutter: usize,
    low: f64,
    high: f64,
    lane: usize,
}

/// Lays out `erd`.
pub fn layout(erd: &Erd) -> Layout {
    let n = erd.entities.len();
    let columns = ((n as f64 * 1.5).sqrt().ceil() as usize).clamp(1, n.max(1));
    let sizes: Vec<(f64, f64)> = (0..n).map(|e| box_size(erd, e)).collect();
    // Grid cells, schema by schema.
    let mut cell = vec![(0usize, 0usize); n];
    let mut group_rows = Vec::new();
    let mut rows = 0;
    for (schema, range) in erd.groups() {
        let used = range.len().div_ceil(columns);
        for (entity, (row, column)) in place(erd, range, used, columns) {
            cell[entity] = (rows + row, column);
        }
        group_rows.push((schema.to_owned(), rows, rows + used));
        rows += used;
    }
    let mut column_width = vec![0.0f64; columns];
    let mut row_height = vec![0.0f64; rows];
    for (e, &(row, column)) in cell.iter().enumerate() {
        column_width[column] = column_width[column].max(sizes[e].0);
        row_height[row] = row_height[row].max(sizes[e].1);
    }
    // Order keys: along a vertical gutter, horizontal gutter h is 2h and row r spans
    // (2r, 2r + 2); along a horizontal gutter, vertical gutter i is 2i.
    let y_key = |e: usize, attribute: usize| {
        let (row, _) = cell[e];
        2.0 * row as f64 + 0.5 + attribute_offset(attribute) / row_height[row].max(1.0)
    };
    let mut vertical: Vec<Segment> = Vec::new();
    let mut horizontal: Vec<Segment> = Vec::new();
    // Per link: (exits right, enters right, first vertical, horizontal, second vertical).
    let mut plans = Vec::new();
    for link in &erd.links {
        let Link { from, to, from_attribute, to_attribute, .. } = *link;
        let ((from_row, from_column), (to_row, to_column)) = (cell[from], cell[to]);
        let (exits_right, enters_right, first, second) = match to_column.cmp(&from_column) {
            std::cmp::Ordering::Greater => (true, false, from_column + 1, to_column),
            std::cmp::Ordering::Less => (false, true, from_column, to_column + 1),
            std::cmp::Ordering::Equal => (true, true, from_column + 1, from_column + 1),
        };
        let (start, end) = (y_key(from, from_attribute), y_key(to, to_attribute));
        if first == second {
            vertical.push(Segment { gutter: first, low: start.min(end), high: start.max(end), lane: 0 });
            plans.push((exits_right, enters_right, vertical.len() - 1, None, None));
            continue;
        }
        let across = match to_row.cmp(&from_row) {
            std::cmp::Ordering::Greater | std::cmp::Ordering::Equal => to_row,
            std::cmp::Ordering::Less => to_row + 1,
        };
        let turn = 2.0 * across as f64;
        vertical.push(Segment { gutter: first, low: start.min(turn), high: start.max(turn), lane: 0 });
        let down = vertical.len() - 1;
        let (left, right) = (2.0 * first.min(second) as f64, 2.0 * first.max(second) as f64);
        horizontal.push(Segment { gutter: across, low: left, high: right, lane: 0 });
        vertical.push(Segment { gutter: second, low: turn.min(end), high: turn.max(end), lane: 0 });
        plans.push((exits_right, enters_right, down, Some(horizontal.len() - 1), Some(vertical.len() - 1)));
    }
    let vertical_lanes = assign_lanes(&mut vertical, columns + 1);
    let horizontal_lanes = assign_lanes(&mut horizontal, rows + 1);
    let starts_group = |h: usize| group_rows.iter().any(|(_, first, _)| *first == h);
    let gutter = |lanes: usize| (lanes as f64 * LANE + 2.0 * LANE).max(GUTTER);
    let vertical_width: Vec<f64> = vertical_lanes.iter().map(|&l| gutter(l)).collect();
    let horizontal_height: Vec<f64> = horizontal_lanes
        .iter()
        .enumerate()
        .map(|(h, &l)| gutter(l) + if starts_group(h) { TITLE } else { 0.0 })
        .collect();
    let mut gutter_x = vec![0.0; columns + 1];
    let mut column_x = vec![0.0; columns];
    for c in 0..columns {
        column_x[c] = gutter_x[c] + vertical_width[c];
        gutter_x[c + 1] = column_x[c] + column_width[c];
    }
    let mut gutter_y = vec![0.0; rows + 1];
    let mut row_y = vec![0.0; rows];
    for r in 0..rows {
        row_y[r] = gutter_y[r] + horizontal_height[r];
        gutter_y[r + 1] = row_y[r] + row_height[r];
    }
    let width = gutter_x[columns] + vertical_width[columns];
    let height = gutter_y[rows] + horizontal_height[rows];
    let boxes: Vec<Rect> = (0..n)
        .map(|e| {
            let (row, column) = cell[e];
            Rect { x: column_x[column], y: row_y[row], w: sizes[e].0, h: sizes[e].1 }
        })
        .collect();
    // A lane's place: lanes centred in their gutter (below a schema's title).
    let lane_x = |s: &Segment| {
        let lanes = vertical_lanes[s.gutter] as f64;
        gutter_x[s.gutter] + (vertical_width[s.gutter] - (lanes - 1.0) * LANE) / 2.0 + s.lane as f64 * LANE
    };
    let lane_y = |s: &Segment| {
        let title = if starts_group(s.gutter) { TITLE } else { 0.0 };
        let lanes = horizontal_lanes[s.gutter] as f64;
        gutter_y[s.gutter]
            + title
            + (horizontal_height[s.gutter] - title - (lanes - 1.0) * LANE) / 2.0
            + s.lane as f64 * LANE
    };
    let routes = erd
        .links
        .iter()
        .zip(&plans)
        .map(|(link, &(exits_right, enters_right, down, across, last))| {
            let (a, b) = (boxes[link.from], boxes[link.to]);
            // Routes leave and reach a line a little above it on a box's right side and below
            // it on the left, so that two boxes facing each other across a gutter never send
            // routes along the same line.
            let side = |right: bool| if right { -SIDE_SHIFT } else { SIDE_SHIFT };
            let start_y = a.y + attribute_offset(link.from_attribute) + side(exits_right);
            let end_y = b.y + attribute_offset(link.to_attribute) + side(enters_right);
            let start = (if exits_right { a.x + a.w } else { a.x }, start_y);
            let end = (if enters_right { b.x + b.w } else { b.x }, end_y);
            let first_x = lane_x(&vertical[down]);
            match (across, last) {
                (Some(h), Some(v)) => {
                    let (turn_y, second_x) = (lane_y(&horizontal[h]), lane_x(&vertical[v]));
                    vec![
                        start,
                        (first_x, start_y),
                        (first_x, turn_y),
                        (second_x, turn_y),
                        (second_x, end_y),
                        end,
                    ]
                }
                _ => vec![start, (first_x, start_y), (first_x, end_y), end],
            }
        })
        .collect();
    let frames = group_rows
        .into_iter()
        .map(|(schema, first, last)| {
            let top = gutter_y[first] + 6.0;
            Frame { schema, rect: Rect { x: 6.0, y: top, w: width - 12.0, h: gutter_y[last] + 8.0 - top } }
        })
        .collect();
    Layout { width, height, boxes, frames, routes }
}

/// The cells of a `rows`×`columns` grid, nearest to its centre first (ties in reading order).
fn centre_out(rows: usize, columns: usize) -> Vec<(usize, usize)> {
    let mut cells: Vec<(usize, usize)> = (0..rows).flat_map(|r| (0..columns).map(move |c| (r, c))).collect();
    let distance = |&(r, c): &(usize, usize)| {
        let (dr, dc) = (2 * r as i64 - (rows as i64 - 1), 2 * c as i64 - (columns as i64 - 1));
        dr * dr + dc * dc
    };
    cells.sort_by_key(|cell| (distance(cell), *cell));
    cells
}

/// Gives each segment the lowest lane of its gutter that no overlapping segment holds;
/// returns how many lanes each gutter needs.
fn assign_lanes(segments: &mut [Segment], gutters: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by(|&a, &b| segments[a].low.total_cmp(&segments[b].low));
    // Per gutter, the end of the last segment in each lane.
    let mut lane_ends: Vec<Vec<f64>> = vec![Vec::new(); gutters];
    for i in order {
        let ends = &mut lane_ends[segments[i].gutter];
        // Touching counts as overlapping: two routes must not meet end to end in a lane.
        let lane = ends.iter().position(|&end| end < segments[i].low - 1e-9).unwrap_or(ends.len());
        if lane == ends.len() {
            ends.push(segments[i].high);
        } else {
            ends[lane] = segments[i].high;
        }
        segments[i].lane = lane;
    }
    lane_ends.iter().map(|ends| ends.len().max(1)).collect()
}

/// Cells of a `rows`×`columns` grid for the entities of `range`: the most linked first, each in
/// the free cell closest to the neighbours already placed (the centre's for one without), so
/// that hubs sit in the middle with their tables around them.
fn place(
    erd: &Erd,
    range: std::ops::Range<usize>,
    rows: usize,
    columns: usize,
) -> Vec<(usize, (usize, usize))> {
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); erd.entities.len()];
    for link in &erd.links {
        if range.contains(&link.from) && range.contains(&link.to) && link.from != link.to {
            neighbours[link.from].push(link.to);
            neighbours[link.to].push(link.from);
        }
    }
    let mut order: Vec<usize> = range.collect();
    order.sort_by_key(|&e| (std::cmp::Reverse(neighbours[e].len()), e));
    let mut free = centre_out(rows, columns);
    let mut placed: Vec<Option<(usize, usize)>> = vec![None; erd.entities.len()];
    let mut cells = Vec::new();
    for entity in order {
        let cost = |&(r, c): &(usize, usize)| -> usize {
            neighbours[entity]
                .iter()
                .filter_map(|&n| placed[n])
                .map(|(nr, nc)| nr.abs_diff(r) + nc.abs_diff(c))
                .sum()
        };
        // `free` is in centre-out order, so the first of the cheapest is the most central.
        let best = (0..free.len()).min_by_key(|&i| (cost(&free[i]), i)).expect("a free cell per entity");
        let chosen = free.remove(best);
        placed[entity] = Some(chosen);
        cells.push((entity, chosen));
    }
    cells
}
