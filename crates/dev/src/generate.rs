//! `migrate dev`: from the history and a desired schema to a reviewed, validated migration.

use std::path::{Path, PathBuf};

use haste_diff::{Change, Hazard, Options, Plan, Rename, RenameSuggestion, Step};
use haste_driver::DatabaseUrl;
use haste_migrations::{LOCK_FILE, MigrationsDir};
use haste_runner::{DeployReport, Observer, SchemaSource, Settings};

use haste_schema::Schema;
use time::OffsetDateTime;

use crate::drift::check;
use crate::source::{Loaded, load};
use crate::{Error, expand, render};

/// What `migrate dev` is asked to do.
pub struct Request<'a> {
    /// The migrations folder.
    pub dir: &'a Path,
    /// The new migration's name (after its timestamp).
    pub name: &'a str,
    /// The desired schema: a SQL file or folder.
    pub desired: &'a SchemaSource,
    /// The development database.
    pub url: &'a DatabaseUrl,
    /// Where shadow databases are made (`--shadow-url`, or the development server).
    pub shadow_server: &'a DatabaseUrl,
    /// Explicit renames.
    pub renames: &'a [Rename],
    /// Column renames as expand (this release) and contract (the next) instead of in place.
    pub expand_contract: bool,
    /// Runner settings for the development database.
    pub settings: &'a Settings,
    /// The new folder's timestamp.
    pub now: OffsetDateTime,
}

/// The migration written.
#[derive(Debug)]
pub struct Generated {
    /// The folders written: the migration, then with expand/contract the contracting one.
    pub folders: Vec<PathBuf>,
    /// The statements of the (first) migration.
    pub plan: Plan,
    /// What changes, object by object, from the history to the desired schema.
    pub changes: Vec<Change>,
    /// What `down.sql` cannot give back.
    pub irreversible: Vec<String>,
}

/// How `migrate dev` ended. Either way, [`apply`] then brings the development database up to
/// the folder (unless the user only wants to review).
#[derive(Debug)]
pub enum Outcome {
    /// The history already gives the desired schema; nothing was written.
    InSync,
    /// A migration was written.
    Generated(Generated),
}

fn sql(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|step| step.sql.clone()).collect()
}

/// One migration to write: its folder name suffix, its steps, its notes and data step.
pub(crate) struct Draft {
    pub(crate) suffix: &'static str,
    pub(crate) title: String,
    pub(crate) notes: Vec<String>,
    pub(crate) up: Vec<Step>,
    /// `data.sql` and `data.down.sql`.
    pub(crate) data: Option<(String, String)>,
    /// Held by deploy until a run after the one that applies the draft before it.
    pub(crate) after_previous: bool,
    /// Likely renames the planner saw.
    pub(crate) suggestions: Vec<RenameSuggestion>,
}

/// Runs `migrate dev` up to the written, validated migration.
pub fn dev(request: &Request<'_>) -> Result<Outcome, Error> {
    let settings = request.settings;
    let dir = MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
    let (checked, desired) = std::thread::scope(|scope| {
        let desired = scope.spawn(|| load(request.desired, request.shadow_server, settings));
        let checked = check(request.url, &dir, request.shadow_server, settings);
        (checked, desired.join().expect("loading a schema does not panic"))
    });
    let (checked, desired) = (checked?, desired?);
    if !checked.drift.is_empty() {
        return Err(Error::Drift(checked.drift));
    }
    let mut history = checked.history;
    history.deploy(&dir, settings)?;
    let before = history.schema.clone();

    let drafts = if request.expand_contract {
        expand::drafts(&mut history, &desired.schema, request.renames, request.name)?
    } else {
        vec![in_place(&mut history, &desired.schema, request.renames, request.name)?]
    };
    if drafts.iter().all(|draft| draft.up.is_empty()) {
        return Ok(Outcome::InSync);
    }
    let required: Vec<String> = drafts
        .iter()
        .flat_map(|draft| &draft.up)
        .filter(|step| step.hazards.contains(&Hazard::FailsOnRows))
        .map(|step| step.sql.clone())
        .collect();
    let suggestions: Vec<RenameSuggestion> = drafts.iter().flat_map(|d| d.suggestions.clone()).collect();
    if !required.is_empty() {
        return Err(Error::RequiredColumns { statements: required, suggestions });
    }

    let folders = write(request, &drafts, &mut history, &desired.schema, &before)?;
    let first = drafts.into_iter().next().expect("at least one draft");
    let generated = Generated {
        folders,
        irreversible: render::irreversible_notes(&first.up),
        plan: Plan { steps: first.up, suggestions },
        changes: haste_diff::changes(&before, &desired.schema),
    };
    Ok(Outcome::Generated(generated))
}

/// The plan for an in-place change: renames from hints, then the online diff.
fn in_place(history: &mut Loaded, desired: &Schema, renames: &[Rename], name: &str) -> Result<Draft, Error> {
    let renamed = haste_diff::rename_statements(&history.schema, renames)?;
    history.run(&sql(&renamed))?;
    let plan = haste_diff::diff(&history.schema, desired, &Options { online: true });
    undo_renames(history, renames)?;
    let mut up = renamed;
    up.extend(plan.steps);
    Ok(Draft {
        suffix: "",
        title: format!("{name}: generated by haste migrate dev"),
        notes: Vec::new(),
        up,
        data: None,
        after_previous: false,
        suggestions: plan.suggestions,
    })
}

/// Reverses `renames` on the shadow (newest first).
fn undo_renames(history: &mut Loaded, renames: &[Rename]) -> Result<Vec<Step>, Error> {
    let mut steps = Vec::new();
    for rename in renames.iter().rev() {
        let inverse = haste_diff::rename_statements(&history.schema, &[rename.inverse()])?;
        history.run(&sql(&inverse))?;
        steps.extend(inverse);
    }
    Ok(steps)
}

/// Writes each draft with its `down.sql`, after validating both on the shadow: the drafts in
/// order must reach `desired`, and the downs in reverse order must give `before` back. On any
/// failure nothing stays on disk.
fn write(
    request: &Request<'_>,
    drafts: &[Draft],
    history: &mut Loaded,
    desired: &Schema,
    before: &Schema,
) -> Result<Vec<PathBuf>, Error> {
    let mut folders = Vec::new();
    let result = write_validated(request, drafts, history, desired, before, &mut folders);
    if result.is_err() {
        for folder in &folders {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
    result.map(|()| folders)
}

fn write_validated(
    request: &Request<'_>,
    drafts: &[Draft],
    history: &mut Loaded,
    desired: &Schema,
    before: &Schema,
    folders: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(request.dir).map_err(io(request.dir))?;
    let lock_file = request.dir.join(LOCK_FILE);
    if !lock_file.exists() {
        std::fs::write(
            &lock_file,
            "# Written by haste; keep it in version control.\nprovider = \"postgresql\"\n",
        )
        .map_err(io(&lock_file))?;
    }
    let mut states = vec![before.clone()];
    for draft in drafts {
        let name = format!("{}{}", request.name, draft.suffix);
        let folder = haste_migrations::create_migration(request.dir, &name, request.now)
            .map_err(haste_runner::Error::Folder)?;
        folders.push(folder.clone());
        let mut notes = draft.notes.clone();
        notes.extend(draft.suggestions.iter().map(|s| format!("hint: {s}")));
        if draft.after_previous
            && let Some(previous) = folders.iter().rev().nth(1).and_then(|f| f.file_name())
        {
            notes.push(format!("haste:after {}", previous.to_string_lossy()));
        }
        let up = folder.join("migration.sql");
        std::fs::write(&up, render::file(&draft.title, &notes, &draft.up)).map_err(io(&up))?;
        if let Some((data, data_down)) = &draft.data {
            for (file, text) in [("data.sql", data), ("data.down.sql", data_down)] {
                let path = folder.join(file);
                std::fs::write(&path, text).map_err(io(&path))?;
            }
        }
        // Applied to the shadow as the runner applies it, one migration at a time.
        let dir = MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
        history.deploy(&dir, request.settings)?;
        states.push(history.schema.clone());
    }
    let left = haste_diff::changes(&history.schema, desired);
    if !left.is_empty() {
        return Err(Error::PlanInvalid { which: "migration.sql", left });
    }
    // Each down.sql goes from the state its migration reached back to the one before it.
    for (index, draft) in drafts.iter().enumerate().rev() {
        let target = &states[index];
        let renames = if draft.suffix.is_empty() && !request.expand_contract { request.renames } else { &[] };
        let mut down = undo_renames(history, renames)?;
        let plan = haste_diff::diff(&history.schema, target, &Options { online: true });
        history.run(&sql(&plan.steps))?;
        down.extend(plan.steps);
        let left = haste_diff::changes(&history.schema, target);
        if !left.is_empty() {
            return Err(Error::PlanInvalid { which: "down.sql", left });
        }
        let path = folders[index].join("down.sql");
        let title = format!("Reverts {}{}", request.name, draft.suffix);
        std::fs::write(&path, render::file(&title, &render::irreversible_notes(&draft.up), &down))
            .map_err(io(&path))?;
    }
    Ok(())
}

/// Applies pending migrations to the development database.
pub fn apply(request: &Request<'_>, observer: &mut dyn Observer) -> Result<DeployReport, Error> {
    let dir = MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
    let scope = request.settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
    let mut connection = haste_postgres::PgConnection::connect(
        request.url,
        &format!("haste/{}", request.settings.run_id),
        &scope,
    )?;
    Ok(haste_runner::deploy(&mut connection, &dir, request.settings, observer)?)
}
