//! The report: one HTML file that needs no network to be read (CSS, script and the diagram's
//! SVG inline): the schema's documentation with its diagram, the migration history as a
//! timeline, and, when asked, the pending statements with their locks, hazards and estimates.
//! Every text from the database or the files reaches the page through [`escape`].

use std::fmt::Write;

use haste_driver::LockHolder;
use haste_runner::{ExecutionMode, ImpactReport, LintSeverity, RecordedLockWaits, StatementImpact};
use haste_schema::{ConstraintKind, Schema, Table};
use haste_sql::Lock;

use crate::erd::{Erd, Filter};
use crate::escape;
use crate::history::History;
use crate::svg::{self, Anchors};

/// What the page shows.
pub struct Report<'a> {
    /// The heading: which database or files.
    pub title: &'a str,
    /// When it was made, as text.
    pub generated_at: &'a str,
    /// The schema to document and draw.
    pub schema: &'a Schema,
    /// Which tables.
    pub filter: &'a Filter,
    /// The migration history, when the source has one.
    pub history: Option<&'a History>,
    /// The pending statements (`--plan`).
    pub plan: Option<&'a ImpactReport>,
}

/// How a lock treats the application: the three colours of the plan.
pub fn lock_effect(lock: Lock) -> (&'static str, &'static str) {
    if lock <= Lock::ShareUpdateExclusive {
        ("go", "reads and writes go on")
    } else if lock < Lock::AccessExclusive {
        ("writes", "blocks writes")
    } else {
        ("all", "blocks reads and writes")
    }
}

const STYLE: &str = r#"
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; background: #fff; }
header { padding: 16px 24px; background: #24292f; color: #fff; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #d0d7de; }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; width: 260px; flex: none; max-height: 100vh; overflow: auto; padding: 12px; border-right: 1px solid #d0d7de; background: #f6f8fa; }
nav input { width: 100%; padding: 6px; margin-bottom: 8px; }
nav ul { list-style: none; margin: 0 0 8px; padding: 0; }
nav li a { display: block; padding: 1px 4px; color: #0969da; text-decoration: none; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
nav h3 { margin: 10px 0 4px; font-size: 13px; color: #57606a; }
main { flex: 1; min-width: 0; padding: 16px 24px; }
section { margin-bottom: 32px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.diagram { border: 1px solid #d0d7de; overflow: auto; max-height: 80vh; background: #fff; }
.toolbar button { margin-right: 4px; }
table.grid { border-collapse: collapse; margin: 6px 0 12px; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
table.grid th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
pre { white-space: pre-wrap; background: #f6f8fa; padding: 6px; margin: 4px 0; }
.doc { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; margin-bottom: 14px; }
.doc h3 { margin: 4px 0; }
.comment { color: #57606a; font-style: italic; }
.muted { color: #6e7781; }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; border: 1px solid transparent; }
.state-applied { background: #dafbe1; border-color: #4ac26b; }
.state-failed, .state-running { background: #ffebe9; border-color: #ff8182; }
.state-other { background: #fff8c5; border-color: #d4a72c; }
.timeline .entry { display: grid; grid-template-columns: 340px 1fr; gap: 12px; padding: 6px 0; border-bottom: 1px solid #eaeef2; }
.timeline .bar { height: 14px; background: #54aeff; border-radius: 3px; min-width: 3px; }
.timeline .bar.failed { background: #ff8182; }
.timeline .events { margin: 4px 0 0; padding-left: 18px; font-size: 12px; }
.timeline .waits { display: block; font-size: 12px; color: #9a6700; }
.lock-go { background: #dafbe1; }
.lock-writes { background: #fff8c5; }
.lock-all { background: #ffebe9; }
.legend span { padding: 2px 8px; margin-right: 6px; border: 1px solid #d0d7de; }
"#;

const SCRIPT: &str = r#"
(function () {
  var filter = document.getElementById('filter');
  filter.addEventListener('input', function () {
    var q = filter.value.toLowerCase();
    document.querySelectorAll('[data-table]').forEach(function (el) {
      el.style.display = el.getAttribute('data-table').toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
  var svg = document.querySelector('.diagram svg');
  if (!svg) return;
  var width = svg.width.baseVal.value, scale = 1;
  function zoom(to) { scale = to; svg.setAttribute('width', width * scale); svg.setAttribute('height', svg.viewBox.baseVal.height * scale); }
  document.getElementById('zoom-in').onclick = function () { zoom(scale * 1.25); };
  document.getElementById('zoom-out').onclick = function () { zoom(scale / 1.25); };
  document.getElementById('zoom-fit').onclick = function () { zoom(svg.parentNode.clientWidth / width); };
  if (width > svg.parentNode.clientWidth) zoom(Math.max(svg.parentNode.clientWidth / width, 0.5));
})();
"#;

/// The HTML document.
pub fn render(report: &Report<'_>) -> String {
    let erd = Erd::new(report.schema, report.filter);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>haste report: {}</title>\
         <style>{STYLE}</style></head><body>\n<header><h1>{}</h1><p>haste report, generated {}: {} tables, {} foreign keys{}</p></header>\n",
        escape(report.title),
        escape(report.title),
        escape(report.generated_at),
        erd.entities.len(),
        erd.links.len(),
        report
            .history
            .map(|h| format!(", {} recorded", count(h.migrations.len(), "migration")))
            .unwrap_or_default()
    );
    html.push_str(
        "<div class=\"layout\"><nav><input id=\"filter\" type=\"search\" placeholder=\"Filter tables\">",
    );
    html.push_str("<ul><li><a href=\"#diagram\">Diagram</a></li><li><a href=\"#tables\">Tables</a></li>");
    if report.history.is_some() {
        html.push_str("<li><a href=\"#history\">Migration history</a></li>");
    }
    if report.plan.is_some() {
        html.push_str("<li><a href=\"#plan\">Pending statements</a></li>");
    }
    html.push_str("</ul>");
    for (schema, range) in erd.groups() {
        let _ = write!(html, "<h3>{}</h3><ul>", escape(schema));
        for e in range {
            let _ = write!(
                html,
                "<li data-table=\"{}\"><a href=\"#table-{e}\">{}</a></li>",
                escape(&erd.entities[e].qualified()),
                escape(&erd.entities[e].name)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</nav><main>\n");
    let _ = writeln!(
        html,
        "<section id=\"diagram\"><h2>Diagram</h2><p class=\"toolbar\"><button id=\"zoom-out\">−</button>\
         <button id=\"zoom-in\">+</button><button id=\"zoom-fit\">Fit</button> <span class=\"muted\">Click a table for its \
         documentation; hover a link for its foreign key. Dashed: the key may be null.</span></p><div class=\"diagram\">{}</div></section>",
        svg::render(&erd, Anchors::Report)
    );
    html.push_str("<section id=\"tables\"><h2>Tables</h2>\n");
    for (e, entity) in erd.entities.iter().enumerate() {
        if let Some(table) =
            report.schema.tables.iter().find(|t| t.schema == entity.schema && t.name == entity.name)
        {
            table_doc(&mut html, e, table, report.schema, &erd);
        }
    }
    html.push_str("</section>\n");
    other_objects(&mut html, report.schema);
    if let Some(history) = report.history {
        timeline(&mut html, history);
    }
    if let Some(plan) = report.plan {
        pending(&mut html, plan);
    }
    let _ = writeln!(html, "</main></div><script>{SCRIPT}</script></body></html>");
    html
}

fn optional(text: Option<&str>) -> String {
    text.map(escape).unwrap_or_default()
}

fn table_doc(html: &mut String, e: usize, table: &Table, schema: &Schema, erd: &Erd) {
    let _ = write!(
        html,
        "<div class=\"doc\" id=\"table-{e}\" data-table=\"{}\"><h3>{}<span class=\"muted\">.</span>{}</h3>",
        escape(&format!("{}.{}", table.schema, table.name)),
        escape(&table.schema),
        escape(&table.name)
    );
    if let Some(comment) = &table.comment {
        let _ = write!(html, "<p class=\"comment\">{}</p>", escape(comment));
    }
    html.push_str("<table class=\"grid\"><tr><th>Column</th><th>Type</th><th>Null</th><th>Default</th><th>Keys</th><th>Comment</th></tr>");
    let entity = &erd.entities[e];
    for (column, attribute) in table.columns.iter().zip(&entity.attributes) {
        let keys = attribute.marks();
        let default =
            column.default.as_deref().or(column.generated.as_deref()).or(column.identity.map(|_| "identity"));
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&column.name),
            escape(&column.data_type),
            if column.not_null { "not null" } else { "null" },
            optional(default),
            keys.join(" "),
            optional(column.comment.as_deref())
        );
    }
    html.push_str("</table>");
    let references: Vec<String> = erd
        .links
        .iter()
        .filter(|link| link.to == e && link.from != e)
        .map(|link| {
            format!("<a href=\"#table-{}\">{}</a>", link.from, escape(&erd.entities[link.from].qualified()))
        })
        .collect();
    if !references.is_empty() {
        let _ = write!(html, "<p>Referenced by: {}</p>", references.join(", "));
    }
    let mut rows: Vec<(String, String, String)> = table
        .constraints
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ConstraintKind::PrimaryKey => "primary key",
                ConstraintKind::Unique => "unique",
                ConstraintKind::ForeignKey => "foreign key",
                ConstraintKind::Check => "check",
                ConstraintKind::Exclusion => "exclusion",
            };
            (kind.to_owned(), c.name.clone(), c.definition.clone())
        })
        .collect();
    for index in schema.indexes.iter().filter(|i| i.schema == table.schema && i.table == table.name) {
        rows.push(("index".to_owned(), index.name.clone(), index.definition.clone()));
    }
    for trigger in schema.triggers.iter().filter(|t| t.schema == table.schema && t.table == table.name) {
        rows.push(("trigger".to_owned(), trigger.name.clone(), trigger.definition.clone()));
    }
    for policy in schema.policies.iter().filter(|p| p.schema == table.schema && p.table == table.name) {
        let definition = format!(
            "{} FOR {} TO {}{}{}",
            if policy.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            policy.command,
            policy.roles.join(", "),
            policy.using.as_deref().map(|u| format!(" USING ({u})")).unwrap_or_default(),
            policy.with_check.as_deref().map(|w| format!(" WITH CHECK ({w})")).unwrap_or_default()
        );
        rows.push(("policy".to_owned(), policy.name.clone(), definition));
    }
    if table.row_security {
        rows.push((
            "row security".to_owned(),
            String::new(),
            if table.force_row_security { "enabled, forced" } else { "enabled" }.to_owned(),
        ));
    }
    if !rows.is_empty() {
        html.push_str("<table class=\"grid\"><tr><th>Kind</th><th>Name</th><th>Definition</th></tr>");
        for (kind, name, definition) in rows {
            let _ = write!(
                html,
                "<tr><td>{kind}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&name),
                escape(&definition)
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</div>\n");
}

/// Views and enums, briefly: what else the schema holds.
fn other_objects(html: &mut String, schema: &Schema) {
    if schema.views.is_empty() && schema.enums.is_empty() {
        return;
    }
    html.push_str("<section id=\"types-views\"><h2>Enums and views</h2><table class=\"grid\"><tr><th>Kind</th><th>Name</th><th>Definition</th></tr>");
    for e in &schema.enums {
        let _ = write!(
            html,
            "<tr><td>enum</td><td><code>{}.{}</code></td><td><code>{}</code></td></tr>",
            escape(&e.schema),
            escape(&e.name),
            escape(&e.values.join(", "))
        );
    }
    for view in &schema.views {
        let _ = write!(
            html,
            "<tr><td>{}</td><td><code>{}.{}</code></td><td><pre>{}</pre></td></tr>",
            if view.materialized { "materialized view" } else { "view" },
            escape(&view.schema),
            escape(&view.name),
            escape(&view.definition)
        );
    }
    html.push_str("</table></section>\n");
}

/// `1 migration`, `3 migrations`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// `850 ms`, `12.4 s`, `3 min 05 s`.
pub fn duration(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

fn timeline(html: &mut String, history: &History) {
    html.push_str("<section id=\"history\"><h2>Migration history</h2>");
    if history.migrations.is_empty() && history.events.is_empty() {
        html.push_str("<p class=\"muted\">No migration recorded: haste has not deployed to this database.</p></section>\n");
        return;
    }
    let longest = history.migrations.iter().filter_map(|m| m.duration_ms).max().unwrap_or(0);
    let total: i64 = history.migrations.iter().filter_map(|m| m.duration_ms).sum();
    let _ = write!(
        html,
        "<p>{}, {} in all; bars are to scale (the longest: {}).</p><div class=\"timeline\">",
        count(history.migrations.len(), "migration"),
        duration(total),
        duration(longest)
    );
    let mut migrations: Vec<_> = history.migrations.iter().collect();
    migrations.sort_by(|a, b| {
        (a.finished_at.is_none(), &a.finished_at, &a.name).cmp(&(
            b.finished_at.is_none(),
            &b.finished_at,
            &b.name,
        ))
    });
    for migration in migrations {
        let status = migration.status.map(|s| s.as_str()).unwrap_or("unknown");
        let class = match status {
            "applied" => "state-applied",
            "failed" | "running" => "state-failed",
            _ => "state-other",
        };
        let mode = if migration.transactional { "one transaction" } else { "statement by statement" };
        let width = migration.duration_ms.map_or(0.0, |ms| ms as f64 * 100.0 / longest.max(1) as f64);
        let data = match (migration.data_rows_done, migration.duration_ms) {
            (Some(rows), Some(ms)) if ms > 0 => {
                format!("; data: {rows} rows, {} rows/s", (rows as f64 * 1000.0 / ms as f64).round() as i64)
            }
            (Some(rows), _) => format!("; data: {rows} rows"),
            _ => String::new(),
        };
        let _ = write!(
            html,
            "<div class=\"entry\"><div><code>{}</code><br><span class=\"badge {class}\">{}</span> <span class=\"muted\">{}, {}/{} statements{}{}</span></div>\
             <div><div class=\"bar{}\" style=\"width: {width:.2}%\" title=\"{}\"></div><span class=\"muted\">{}</span>",
            escape(&migration.name),
            escape(status),
            mode,
            migration.statements_done,
            migration.statements_total,
            escape(&data),
            migration
                .finished_at
                .as_deref()
                .map(|at| format!(", finished {}", escape(at)))
                .unwrap_or_default(),
            if status == "applied" { "" } else { " failed" },
            migration.duration_ms.map(duration).unwrap_or_default(),
            migration.duration_ms.map(duration).unwrap_or_else(|| "no duration recorded".to_owned()),
        );
        if let Some(waits) = history.lock_waits_of(&migration.name) {
            html.push_str(&lock_waits(&waits));
        }
        html.push_str(&events_list(history, &migration.name));
        html.push_str("</div></div>\n");
    }
    // Migrations with events but no current state: rolled back after a failure, or forgotten
    // by `resolve --rolled-back` or `down`.
    let mut stateless: Vec<&str> = Vec::new();
    for name in history.events.iter().filter_map(|event| event.name.as_deref()) {
        if !history.migrations.iter().any(|m| m.name == name) && !stateless.contains(&name) {
            stateless.push(name);
        }
    }
    for name in stateless {
        let last = history.events_of(name).last().map_or("", |event| event.event.as_str());
        let class = if last == "failed" { "state-failed" } else { "state-other" };
        let _ = writeln!(
            html,
            "<div class=\"entry\"><div><code>{}</code><br><span class=\"badge {class}\">not applied</span> <span class=\"muted\">last event: {}</span></div><div>{}</div></div>",
            escape(name),
            escape(last),
            events_list(history, name)
        );
    }
    html.push_str("</div></section>\n");
}

/// How a migration waited for table locks: the attempts retried, the time, and whom it waited
/// for longest.
fn lock_waits(waits: &RecordedLockWaits) -> String {
    let blocker = waits
        .longest_blocker
        .as_ref()
        .map(|blocker| {
            format!(
                "; waited longest for pid {} ({}), {}",
                blocker.pid,
                escape(&blocker.application_name),
                duration(blocker.waited_ms as i64)
            )
        })
        .unwrap_or_default();
    format!(
        "<span class=\"waits\">lock waits: {} retried, {} waited{blocker}</span>",
        count(waits.retries as usize, "attempt"),
        duration(waits.waited_ms as i64)
    )
}

/// The events about migration `name`, as a list (empty when there are none).
fn events_list(history: &History, name: &str) -> String {
    let events: Vec<String> = history
        .events_of(name)
        .map(|event| {
            format!(
                "<li>{} <b>{}</b> <span class=\"muted\">run {}</span>{}</li>",
                escape(&event.at),
                escape(&event.event),
                escape(&event.run_id),
                event.detail.as_ref().map(event_detail).unwrap_or_default()
            )
        })
        .collect();
    if events.is_empty() { String::new() } else { format!("<ul class=\"events\">{}</ul>", events.join("")) }
}

/// What an event's detail says that a reader wants: the error and the attempts it took (lock
/// timeouts retried), the progress; statement checksums are left out.
fn event_detail(detail: &serde_json::Value) -> String {
    let text = |key: &str| {
        detail
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let parts: Vec<String> = [
        ("sqlstate", "SQLSTATE"),
        ("message", "error"),
        ("line", "line"),
        ("attempts", "attempts"),
        ("statements_done", "statements done"),
        ("reason", "reason"),
    ]
    .into_iter()
    .filter_map(|(key, label)| text(key).map(|value| format!("{label}: {}", escape(&value))))
    .collect();
    if parts.is_empty() { String::new() } else { format!(" — {}", parts.join("; ")) }
}

/// What `migrate plan` says of a statement beside its verdict: the figures it could not measure,
/// the sessions that block it and those it waits for by design, and its lint findings.
fn statement_notes(statement: &StatementImpact) -> String {
    let session = |session: &LockHolder| {
        if session.prepared.is_some() {
            return escape(&session.describe());
        }
        let state = session.state.as_deref().map(|state| format!(", {state}")).unwrap_or_default();
        let since = session.since_phrase().map(|since| format!(", {since}")).unwrap_or_default();
        escape(&format!("pid {} ({}{state}{since})", session.pid, session.application_name))
    };
    let mut notes = Vec::new();
    for missing in &statement.unmeasured {
        let table = missing.table.as_deref().map(|table| format!(" of {table}")).unwrap_or_default();
        notes.push(format!(
            "unmeasured: {}{} ({})",
            missing.figure.describe(),
            escape(&table),
            escape(&missing.reason)
        ));
    }
    for blocker in &statement.blockers {
        notes.push(format!("blocked by {}", session(blocker)));
    }
    for waited in &statement.waits_for {
        notes
            .push(format!("waits for {} to end (this wait does not block the application)", session(waited)));
    }
    for note in &statement.lint {
        let severity = match note.severity {
            LintSeverity::Error => "<b>lint error</b>",
            LintSeverity::Warn => "lint warning",
        };
        notes.push(format!(
            "{severity} {} (line {}): {}",
            escape(&note.rule),
            note.line,
            escape(&note.message)
        ));
    }
    notes.iter().map(|note| format!("<br><small>{note}</small>")).collect()
}

fn pending(html: &mut String, plan: &ImpactReport) {
    html.push_str("<section id=\"plan\"><h2>Pending statements</h2>");
    html.push_str(
        "<p class=\"legend\"><span class=\"lock-go\">reads and writes go on</span><span class=\"lock-writes\">blocks writes</span>\
         <span class=\"lock-all\">blocks reads and writes</span></p>",
    );
    if let Some(rate) = plan.scan_rows_per_second {
        let _ = write!(
            html,
            "<p class=\"muted\">Estimates from a scan rate of {rate} rows/s sampled on the server just now.</p>"
        );
    }
    if plan.migrations.is_empty() {
        html.push_str("<p>Nothing is pending: the database is up to date.</p>");
    }
    for migration in &plan.migrations {
        let mode = match migration.mode {
            ExecutionMode::Transaction => "in one transaction".to_owned(),
            ExecutionMode::Stepwise { reason } => format!("statement by statement ({reason})"),
            ExecutionMode::AsWritten { .. } => "as written (its own transactions)".to_owned(),
        };
        let _ = write!(
            html,
            "<h3><code>{}</code> <span class=\"muted\">{}</span></h3><table class=\"grid plan\"><tr><th>Line</th><th>Statement</th>\
             <th>Lock</th><th>Work</th><th>Tables (rows)</th><th>Estimate</th><th>Now</th></tr>",
            escape(&migration.name),
            escape(&mode)
        );
        for statement in &migration.statements {
            let (class, effect) = lock_effect(statement.lock);
            let tables: Vec<String> =
                statement.tables.iter().map(|t| format!("{} ({})", escape(&t.name), t.rows)).collect();
            let mut now = if statement.safe_now {
                "safe now".to_owned()
            } else {
                format!("<b>hazard:</b> {}", optional(statement.why_not.as_deref()))
            };
            now.push_str(&statement_notes(statement));
            let _ = write!(
                html,
                "<tr class=\"lock-{class}\"><td>{}</td><td><code>{}</code></td><td>{}<br><small>{effect}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{now}</td></tr>",
                statement.line,
                escape(&statement.summary),
                escape(statement.lock.describe()),
                format!("{:?}", statement.work).to_lowercase(),
                tables.join(", "),
                statement.estimate_ms.map(|ms| duration(ms as i64)).unwrap_or_default(),
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</section>\n");
}
