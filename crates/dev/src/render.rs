//! The text of generated migration files: each statement preceded by the lock it takes and what
//! it risks, so a reviewer reads the cost beside the change.

use haste_diff::{Hazard, Lock, Step};

/// Lines of a file's opening comment block, where `-- haste:` directives are read.
fn header(title: &str, steps: &[Step]) -> String {
    let mut text = format!("-- {title}\n");
    if steps.iter().any(|step| step.alone) {
        text.push_str(
            "-- haste:transaction off\n\
             -- Each statement commits on its own: a concurrent index build or a constraint\n\
             -- validation must not share a transaction with what comes before it.\n",
        );
    }
    text
}

/// One statement with its annotations.
fn statement(step: &Step) -> String {
    let mut notes = Vec::new();
    if step.lock != Lock::None {
        notes.push(format!("lock: {}", step.lock.describe()));
    }
    notes.extend(step.hazards.iter().map(|hazard| hazard.describe().to_owned()));
    let mut text = String::new();
    if !notes.is_empty() {
        text.push_str(&format!("-- {}\n", notes.join("; ")));
    }
    text.push_str(&step.sql);
    text.push_str(";\n");
    text
}

/// The session the statements were written for ([`haste_schema::WRITTEN_FOR`]): the search
/// path the names were printed for, how string and XML constants read, function bodies not
/// checked here. Set as statements, they hold however the file is run (a resume sets them
/// again, and the runner resets the session after each migration).
fn written_for() -> String {
    let mut text = String::from(
        "\n-- The names below are written for this search path; function bodies are checked where they run.\n",
    );
    for setting in haste_schema::WRITTEN_FOR {
        text.push_str(setting);
        text.push_str(";\n");
    }
    text
}

/// A whole file: the header, optional notes, the search path, then the statements.
pub(crate) fn file(title: &str, notes: &[String], steps: &[Step]) -> String {
    let mut text = header(title, steps);
    for note in notes {
        text.push_str(&format!("-- {note}\n"));
    }
    text.push_str(&written_for());
    for step in steps {
        text.push('\n');
        text.push_str(&statement(step));
    }
    text
}

/// What `down.sql` cannot give back: the rows the migration dropped.
pub(crate) fn irreversible_notes(up: &[Step]) -> Vec<String> {
    up.iter()
        .filter(|step| step.hazards.contains(&Hazard::DataLoss))
        .map(|step| {
            format!("irreversible: `{}` drops data; this file restores the structure, not the rows", step.sql)
        })
        .collect()
}

/// The statements' text, as they run on a shadow database.
pub(crate) fn sql(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|step| step.sql.clone()).collect()
}
