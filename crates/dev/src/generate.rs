//! `migrate dev`: from the history and a desired schema to a reviewed, validated migration.

use std::path::{Path, PathBuf};

use haste_diff::{
    Change, Hazard, Lock, OfTable, Options, Plan, Rename, RenameSuggestion, Renamed, SchemaChange, Step,
};
use haste_driver::{Connection, DatabaseUrl};
use haste_migrations::{LOCK_FILE, MigrationsDir};
use haste_runner::{DeployReport, Observer, Settings};
use haste_schema::{Schema, qualified};
use haste_sql::{quote_ident, quote_literal};
use time::OffsetDateTime;

use crate::draft::Draft;
use crate::drift::check;
use crate::render::sql;
use crate::source::Loaded;
use crate::target::{Desired, Target};
use crate::together::{committing_together_apart, together};
use crate::{Error, NullRows, expand, fill, render, retype};

/// What `migrate dev` is asked to do.
pub struct Request<'a> {
    /// The migrations folder.
    pub dir: &'a Path,
    /// The new migration's name (after its timestamp).
    pub name: &'a str,
    /// The desired schema.
    pub desired: &'a Desired,
    /// The development database.
    pub url: &'a DatabaseUrl,
    /// Where shadow databases are made (`--shadow-url`, or the development server).
    pub shadow_server: &'a DatabaseUrl,
    /// Explicit renames.
    pub renames: &'a [Rename],
    /// Two releases: column renames as expand (this release) and contract (the next) instead
    /// of in place, and type changes that would rewrite a table swapped in the next release.
    pub expand_contract: bool,
    /// Runner settings for the development database.
    pub settings: &'a Settings,
    /// The new folder's timestamp.
    pub now: OffsetDateTime,
    /// What to do with a migration that drops data.
    pub data_loss: DataLoss,
}

/// What `migrate dev` does with a migration that drops data (a table, a column, a type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLoss {
    /// Write nothing and say which statements lose data.
    Refuse,
    /// Write it for review (`--create-only`); the linter's findings say what it loses.
    Review,
    /// Write and apply it; the file records that a person accepted the loss.
    Accepted,
}

/// The lint rules a data-losing statement that a person accepted would otherwise fail.
const DATA_LOSS_RULES: &[&str] = &["drop-column", "drop-table"];

/// The lint rules a rename from a `--rename` hint breaks.
const RENAME_RULES: &[&str] = &["rename-column", "rename-table"];

/// The rules a generated column added again (with its constraints and indexes, while the
/// table is locked for the rewrite anyway) breaks.
const REGENERATION_RULES: &[&str] = &[
    "drop-column",
    "check-constraint-not-valid",
    "fk-not-valid",
    "unique-constraint-blocking",
    "primary-key-blocking",
    "index-create-not-concurrent",
];

/// The migration written.
#[derive(Debug)]
pub struct Generated {
    /// The folders written, in order: the migration and those that follow it in the same deploy,
    /// then, with `--expand-contract`, those of the second release (the first held by deploy).
    pub folders: Vec<PathBuf>,
    /// The statements of the (first) migration, with their locks and hazards.
    pub plan: Plan,
    /// What changes, object by object, from the history to the desired schema.
    pub changes: Vec<Change>,
    /// What `down.sql` cannot give back.
    pub irreversible: Vec<String>,
    /// Prisma's warnings, when the migration is written as Prisma writes it, and haste's own
    /// (writes a type change refuses from its expand on).
    pub warnings: Vec<String>,
    /// Objects of the database a Prisma schema cannot express, left alone.
    pub kept: Vec<String>,
}

impl Generated {
    /// The steps worth a warning: work under a lock that blocks writes, or lost data (online
    /// steps are not).
    pub fn warned_steps(&self) -> impl Iterator<Item = &Step> {
        self.plan.steps.iter().filter(|step| {
            step.hazards.contains(&Hazard::DataLoss) || (step.lock >= Lock::Share && !step.hazards.is_empty())
        })
    }
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

/// What `migrate dev` checks and makes before it plans: the migrations folder must read (before
/// anything connects), and the development database is created when the server says it does
/// not exist, as Prisma Migrate does. Whether it was created.
pub fn prepare(request: &Request<'_>) -> Result<bool, Error> {
    MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
    Ok(haste_postgres::create_database_if_missing(request.url)?)
}

/// Runs `migrate dev` up to the written, validated migration.
pub fn dev(request: &Request<'_>) -> Result<Outcome, Error> {
    let settings = request.settings;
    let dir = MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
    let (checked, target) = std::thread::scope(|scope| {
        let history = crate::source::history_needs(&dir);
        let target =
            scope.spawn(move || Target::load(request.desired, &history, request.shadow_server, settings));
        let checked = check(request.url, &dir, request.shadow_server, settings);
        (checked, target.join().expect("loading a schema does not panic"))
    });
    let (checked, target) = (checked?, target?);
    if !checked.drift.is_empty() {
        return Err(Error::Drift(checked.drift));
    }
    let mut history = checked.history;
    history.deploy(&dir, settings)?;
    let before = target.view(&history.schema);
    if let Some(table) = haste_diff::inheritance_refused(&before, target.schema()) {
        return Err(Error::Inheritance { table });
    }
    if let Some(reason) = haste_diff::rebuild_refused(&before, target.schema()) {
        return Err(Error::DropRefused { reason });
    }
    if let Some(refusal) = haste_diff::partitioning_refused(&before, target.schema()) {
        return Err(Error::Partitioning(refusal));
    }

    let drafts = match (&target, request.expand_contract) {
        (_, true) => expand_contract(&mut history, &target, request.renames, request.name)?,
        (Target::Prisma { online: false, .. }, false) => {
            vec![prisma_style(&mut history, &target, request.renames)?]
        }
        (Target::Prisma { .. }, false) => {
            let drafts = in_place(&mut history, &target, request.renames, request.name, false)?;
            match drafts.as_slice() {
                [draft] if !online_forms_differ(&mut history, &target, request.renames, draft)? => {
                    vec![prisma_style(&mut history, &target, request.renames)?]
                }
                _ => drafts,
            }
        }
        (Target::Sql(_), false) => in_place(&mut history, &target, request.renames, request.name, false)?,
    };
    if drafts.iter().all(Draft::is_empty) {
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
    let nulls = unfilled_nulls(request, &drafts)?;
    if !nulls.is_empty() {
        return Err(Error::NullsInRequired { columns: nulls });
    }
    // The summary describes the migration as planned, before what commits as one is set apart;
    // the pieces are what the lint allowances below are made for, each file its own.
    let summary = drafts[0].up.clone();
    let mut drafts: Vec<Draft> = drafts
        .into_iter()
        .flat_map(|draft| committing_together_apart(draft, request.name, target.schema()))
        .collect();
    for draft in &mut drafts {
        let notes = regenerated_notes(&draft.up);
        draft.notes.extend(notes);
    }
    let exact_prisma = matches!(target, Target::Prisma { online: false, .. });
    let losing: Vec<String> = drafts
        .iter()
        .flat_map(|draft| {
            draft.up.iter().filter(|step| {
                step.hazards.contains(&Hazard::DataLoss) && !expand::restored(&draft.restores, &step.source)
            })
        })
        .map(|step| step.sql.clone())
        .collect();
    if !losing.is_empty() {
        match request.data_loss {
            DataLoss::Refuse => return Err(Error::DataLoss { statements: losing }),
            DataLoss::Review => {}
            DataLoss::Accepted => {
                for draft in &mut drafts {
                    draft.allow_broken(
                        &history.schema,
                        |step| step.hazards.contains(&Hazard::DataLoss),
                        DATA_LOSS_RULES,
                        "accepted with migrate dev --accept-data-loss",
                        exact_prisma,
                    );
                }
            }
        }
    }
    // A rename the person asked for (`--rename`) is what they want, old release or not: the
    // file says so rather than fail haste's own lint. Also with --exact-prisma: Prisma writes no
    // rename, so a file holding one is no longer Prisma's byte for byte anyway.
    for draft in &mut drafts {
        draft.allow_broken(
            &history.schema,
            |step| matches!(step.source, SchemaChange::Rename { .. }),
            RENAME_RULES,
            "asked for with migrate dev --rename",
            false,
        );
    }
    // What is left rewriting a table has no online form here (an enum rebuilt, a type change
    // the swap cannot carry, a stored generated column added): the file says so rather than
    // fail haste's own lint. A generated column added again around the type change of a column
    // it reads comes back in the same transaction with what its drop took along.
    for draft in &mut drafts {
        draft.allow_broken(
            &history.schema,
            |step| step.hazards.contains(&Hazard::TableRewrite),
            &["column-type-rewrite", "add-stored-generated-column"],
            "no online form for this change: it rewrites the table under its lock",
            exact_prisma,
        );
        // A collation changed in place (the swap could not carry it: the note says why) builds
        // the column's indexes again under its lock.
        draft.allow_broken(
            &history.schema,
            |step| {
                matches!(step.source, SchemaChange::AlterColumnType(_))
                    && step.hazards.contains(&Hazard::IndexBuild)
            },
            &["collation-change-reindex"],
            "no online form for this change: it builds the column's indexes again under its lock",
            exact_prisma,
        );
        // A partition's new bound (or parent) is DETACH then ATTACH in one transaction, so no
        // row is ever outside the table: `DETACH CONCURRENTLY` cannot run in a transaction.
        draft.allow_broken(
            &history.schema,
            |step| matches!(step.source, SchemaChange::DetachPartition(_)),
            &["detach-partition-not-concurrent"],
            DETACH_REASON,
            exact_prisma,
        );
        // PostgreSQL before 18 refuses a foreign key NOT VALID on a partitioned table.
        let partitioned = |schema: &str, table: &str| {
            target.schema().tables.iter().any(|t| {
                t.schema == schema
                    && t.name == table
                    && matches!(t.kind, haste_schema::TableKind::Partitioned { .. })
            })
        };
        draft.allow_broken(
            &history.schema,
            |step| match &step.source {
                SchemaChange::AddConstraint {
                    constraint,
                    kind: haste_schema::ConstraintKind::ForeignKey,
                } => partitioned(&constraint.schema, &constraint.table),
                _ => false,
            },
            &["fk-not-valid"],
            PARTITIONED_FK_REASON,
            exact_prisma,
        );
        // A key on a partitioned table that stays: its partitions' keys are built concurrently
        // first where the key is plain (then it builds nothing); PostgreSQL has no concurrent
        // form for the partitioned table's own.
        draft.allow_broken(
            &history.schema,
            |step| match &step.source {
                SchemaChange::AddConstraint {
                    constraint,
                    kind: haste_schema::ConstraintKind::Unique | haste_schema::ConstraintKind::PrimaryKey,
                } => partitioned(&constraint.schema, &constraint.table),
                _ => false,
            },
            &["unique-constraint-blocking", "primary-key-blocking"],
            PARTITIONED_KEY_REASON,
            exact_prisma,
        );
        // PostgreSQL builds an exclusion constraint's index only under the table's ACCESS
        // EXCLUSIVE lock: no CONCURRENTLY, no USING INDEX, no NOT VALID.
        draft.allow_broken(
            &history.schema,
            |step| {
                matches!(
                    step.source,
                    SchemaChange::AddConstraint { kind: haste_schema::ConstraintKind::Exclusion, .. }
                )
            },
            &["exclude-constraint-blocking"],
            EXCLUDE_REASON,
            exact_prisma,
        );
        draft.allow_broken(
            &history.schema,
            |step| matches!(step.source, SchemaChange::RegenerateColumn(_)),
            REGENERATION_RULES,
            "a generated column added again around the type change of a column it reads, with its constraints and indexes, in the same transaction: its values are computed again",
            exact_prisma,
        );
    }

    // Prisma's exact statements are what the person asked for: the file allows what they break
    // of haste's lint (a loss of data only once accepted; for review it stays reported).
    if exact_prisma {
        for draft in &mut drafts {
            if request.data_loss == DataLoss::Accepted {
                draft.allow_prisma_errors(
                    &history.schema,
                    |rule| DATA_LOSS_RULES.contains(&rule),
                    "accepted with migrate dev --accept-data-loss",
                );
            }
            draft.allow_prisma_errors(
                &history.schema,
                |rule| !DATA_LOSS_RULES.contains(&rule),
                "Prisma's exact statements, asked for with migrate dev --exact-prisma",
            );
        }
    }

    let folders = write(request, &drafts, &mut history, &target)?;
    let first = drafts.into_iter().next().expect("at least one draft");
    let generated = Generated {
        folders,
        irreversible: render::irreversible_notes(&summary),
        warnings: first
            .prisma_text
            .map(|(_, warnings)| warnings)
            .into_iter()
            .flatten()
            .chain(first.warnings)
            .collect(),
        plan: Plan { steps: summary, suggestions },
        changes: haste_diff::changes(&before, target.schema()),
        kept: target.kept(&history.schema),
    };
    Ok(Outcome::Generated(generated))
}

/// The columns the drafts make `NOT NULL` with no data step of theirs filling the `NULL`s first
/// (no default, no key to walk, or Prisma's exact statements), each with the number of rows of
/// the development database holding `NULL` there, where there are any: applied, the migration
/// would fail its validation there and be left failed. A column the development database does
/// not have yet (a pending migration adds it) has no rows to count.
fn unfilled_nulls(request: &Request<'_>, drafts: &[Draft]) -> Result<Vec<NullRows>, Error> {
    let filled: Vec<&OfTable> = drafts.iter().flat_map(|draft| &draft.fills).collect();
    let mut columns: Vec<&OfTable> = Vec::new();
    for step in drafts.iter().flat_map(|draft| &draft.up) {
        if let SchemaChange::SetNotNull(column) = &step.source
            && !filled.contains(&column)
            && !columns.contains(&column)
        {
            columns.push(column);
        }
    }
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let scope = request.settings.history.qualified(haste_driver::history::MIGRATIONS_TABLE);
    let mut database = haste_postgres::PgConnection::connect(request.url, "haste/dev", &scope)?;
    let counting =
        |source| Error::Database { context: "counting the NULLs of a column made NOT NULL", source };
    let mut nulls = Vec::new();
    for column in columns {
        let table = qualified(&column.schema, &column.table);
        let exists = format!(
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = {} AND NOT attisdropped",
            quote_literal(&table),
            quote_literal(&column.name)
        );
        if database.query_rows(&exists).map_err(counting)?.is_empty() {
            continue;
        }
        let count = format!("SELECT count(*) FROM {table} WHERE {} IS NULL", quote_ident(&column.name));
        let rows = database.query_rows(&count).map_err(counting)?;
        let count: u64 = rows.first().and_then(|row| row.first()?.as_deref()?.parse().ok()).unwrap_or(0);
        if count > 0 {
            nulls.push(NullRows { column: format!("{table}.{}", quote_ident(&column.name)), rows: count });
        }
    }
    Ok(nulls)
}

/// `--expand-contract`: column renames from hints as expand and contract (SQL desired schemas
/// only), or else the type changes that would rewrite a table, planned as in place; either way
/// split across two releases.
fn expand_contract(
    history: &mut Loaded,
    target: &Target,
    renames: &[Rename],
    name: &str,
) -> Result<Vec<Draft>, Error> {
    let mut column_renames = false;
    for rename in renames {
        column_renames |= matches!(rename.resolve(&history.schema)?, Renamed::Column { .. });
    }
    let drafts = match (target, column_renames) {
        (Target::Prisma { .. }, true) => return Err(Error::ExpandNeedsSql),
        (Target::Sql(_), true) => expand::drafts(history, target.schema(), renames, name)?,
        (_, false) => {
            let mut drafts = in_place(history, target, renames, name, true)?;
            drafts[0].notes.push(
                "--expand-contract: the swap waits for a later deploy (haste:after); until then the trigger keeps the new columns filled.".into(),
            );
            drafts
        }
    };
    if !drafts.iter().any(|draft| draft.second_release) {
        return Err(Error::NothingToExpand);
    }
    Ok(two_releases(drafts))
}

/// The drafts of the second release (contracts, swaps and the validations after them) moved
/// after those of the first, each group in its order; the first of the second release is held
/// by deploy for a run after the one that applies the first release (`-- haste:after`), and
/// deploy stops there, so the rest of the second release waits with it. A type change's swap
/// and a rename's contract only read what the first release built for them, so the order
/// within each group still holds: the shadow applies the drafts in this order and validates
/// them, as any plan.
fn two_releases(drafts: Vec<Draft>) -> Vec<Draft> {
    let (first, second): (Vec<Draft>, Vec<Draft>) =
        drafts.into_iter().partition(|draft| !draft.second_release);
    let mut drafts = first;
    for (index, mut draft) in second.into_iter().enumerate() {
        draft.after_previous = index == 0;
        drafts.push(draft);
    }
    drafts
}

/// Runs rename hints on the shadow, then `plan` on the renamed schema, then undoes them; the
/// rename statements come first in the result.
fn around_renames<T>(
    history: &mut Loaded,
    renames: &[Rename],
    plan: impl FnOnce(&Schema) -> T,
) -> Result<(Vec<Step>, T), Error> {
    let renamed = haste_diff::rename_statements(&history.schema, renames)?;
    history.run(&sql(&renamed))?;
    let planned = plan(&history.schema);
    undo_renames(history, renames)?;
    Ok((renamed, planned))
}

/// The plan for an in-place change: renames from hints, then the online diff; type changes
/// that would rewrite a table follow as expand, prepare and swap migrations of the same deploy.
/// `expand_contract`: the swaps are for a later release, which type changes of both ends of a
/// foreign key cannot wait for (`Retypes::linked`).
fn in_place(
    history: &mut Loaded,
    target: &Target,
    renames: &[Rename],
    name: &str,
    expand_contract: bool,
) -> Result<Vec<Draft>, Error> {
    let kept: Vec<String> = target.kept(&history.schema).iter().map(|kept| format!("kept: {kept}")).collect();
    let (mut up, (plan, retypes, fills)) = around_renames(history, renames, |renamed| {
        let current = target.view(renamed);
        let retypes = retype::plan(&current, target.schema());
        let fills = fill::plan(&current, &retypes.held);
        (haste_diff::diff(&current, &fills.held, &Options { online: true }), retypes, fills)
    })?;
    if let Some((referencing, referenced)) = retypes.linked().filter(|_| expand_contract) {
        return Err(Error::LinkedRetypes { referencing, referenced });
    }
    let renamed = up.len();
    up.extend(plan.steps);
    let mut draft = Draft::empty(String::new(), format!("{name}: generated by haste migrate dev"));
    draft.up = up;
    draft.suggestions = plan.suggestions;
    draft.notes = kept;
    draft.notes.extend(retypes.in_place.iter().cloned());
    let mut drafts = match retypes.is_empty() {
        true => vec![draft],
        false => retypes.drafts(draft, name, renamed),
    };
    let mut filling = fills.drafts(name);
    // Nothing but fills (a column made NOT NULL with a default, say): the first fill is the
    // migration, rather than an empty one before it.
    if let ([only], Some(first)) = (drafts.as_mut_slice(), filling.first_mut())
        && only.up.is_empty()
        && only.data.is_none()
    {
        first.suffix = String::new();
        first.notes.splice(0..0, std::mem::take(&mut only.notes));
        first.suggestions = std::mem::take(&mut only.suggestions);
        drafts.clear();
    }
    drafts.extend(filling);
    Ok(drafts)
}

/// What a reader must know of each generated column added again around the type change of a
/// column it reads.
fn regenerated_notes(steps: &[Step]) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    for step in steps {
        if let SchemaChange::RegenerateColumn(column) = &step.source {
            let note = format!(
                "the generated column {}.{} is dropped and added again around the type change of a column it reads (PostgreSQL refuses the change under it): it is computed again, rewriting the table, and moves to the end of the table",
                haste_schema::qualified(&column.schema, &column.table),
                haste_sql::quote_ident(&column.name)
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    notes
}

/// Whether haste's online plan (`draft`) does anything other than the plain plan, which Prisma's
/// statements express: when it does not (new tables, catalog-only changes), the migration is
/// written as Prisma writes it.
fn online_forms_differ(
    history: &mut Loaded,
    target: &Target,
    renames: &[Rename],
    draft: &Draft,
) -> Result<bool, Error> {
    let (renamed, plain) = around_renames(history, renames, |renamed| {
        haste_diff::diff(&target.view(renamed), target.schema(), &Options { online: false })
    })?;
    let plain: Vec<&Step> = renamed.iter().chain(&plain.steps).collect();
    Ok(draft.data.is_some()
        || plain.len() != draft.up.len()
        || plain.iter().zip(&draft.up).any(|(a, b)| *a != b))
}

/// The migration as Prisma Migrate would write it (plus any rename hints, which Prisma has not).
fn prisma_style(history: &mut Loaded, target: &Target, renames: &[Rename]) -> Result<Draft, Error> {
    // Step names in Prisma's manner, for the renames Prisma cannot express.
    let kinds = renames
        .iter()
        .map(|rename| {
            Ok(match rename.resolve(&history.schema)? {
                Renamed::Table { .. } => "RenameTable",
                Renamed::Column { .. } => "RenameColumn",
                Renamed::Enum { .. } => "RenameEnum",
                Renamed::Label { .. } => "RenameEnumValue",
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let (renamed, (migration, plan)) = around_renames(history, renames, |renamed| {
        let migration = target.prisma_migration(renamed);
        let plan = haste_diff::diff(&target.view(renamed), target.schema(), &Options { online: false });
        (migration, plan)
    })?;
    let mut text = String::new();
    for (kind, step) in kinds.iter().zip(&renamed) {
        text.push_str(&format!("-- {kind}\n{};\n\n", step.sql));
    }
    if !migration.is_empty() {
        text.push_str(&migration.to_sql());
    }
    let mut up = renamed;
    up.extend(plan.steps);
    let mut draft = Draft::empty(String::new(), String::new());
    draft.up = up;
    draft.prisma_text = Some((text, migration.warnings));
    draft.suggestions = plan.suggestions;
    Ok(draft)
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

/// The `haste:allow-file` lines of a generated `down.sql` of `steps` undoing the migration of
/// `up`, which ran after `before`: `haste
/// lint` reads every down.sql with the same rules as a migration, and what is left there
/// breaking them on purpose says why. (What the migration created, the down drops without a
/// finding: undoing it is what a down.sql is for.)
fn down_allowances(before: &Schema, up: &[Step], steps: &[Step]) -> Vec<String> {
    use crate::draft::Allowance;
    let partitioned = |schema: &str, table: &str| {
        before.tables.iter().any(|t| {
            t.schema == schema
                && t.name == table
                && matches!(t.kind, haste_schema::TableKind::Partitioned { .. })
        })
    };
    let renamed = |step: &Step| matches!(step.source, SchemaChange::Rename { .. });
    let rewrites = |step: &Step| step.hazards.contains(&Hazard::TableRewrite);
    // A column a down.sql adds is one its migration dropped (with its values: irreversible).
    let column_back = |step: &Step| matches!(step.source, SchemaChange::AddColumn(_));
    let reindexes = |step: &Step| {
        matches!(step.source, SchemaChange::AlterColumnType(_)) && step.hazards.contains(&Hazard::IndexBuild)
    };
    let regenerates = |step: &Step| matches!(step.source, SchemaChange::RegenerateColumn(_));
    let fails_on_rows = |step: &Step| step.hazards.contains(&Hazard::FailsOnRows);
    // What has no online form on the way there has none on the way back either.
    let detaches = |step: &Step| matches!(step.source, SchemaChange::DetachPartition(_));
    let partitioned_key = |step: &Step| match &step.source {
        SchemaChange::AddConstraint { constraint, kind: haste_schema::ConstraintKind::ForeignKey } => {
            partitioned(&constraint.schema, &constraint.table)
        }
        _ => false,
    };
    let excludes = |step: &Step| {
        matches!(
            step.source,
            SchemaChange::AddConstraint { kind: haste_schema::ConstraintKind::Exclusion, .. }
        )
    };
    crate::draft::allow_broken_in_down(
        before,
        up,
        steps,
        &[
            Allowance {
                chosen: &renamed,
                rules: RENAME_RULES,
                reason: "undoes a rename asked for with migrate dev --rename",
            },
            Allowance {
                chosen: &rewrites,
                rules: &["column-type-rewrite", "add-stored-generated-column"],
                reason: "no online form for undoing this change here: it rewrites the table under its lock",
            },
            Allowance {
                chosen: &column_back,
                rules: &["add-column-volatile-default", "add-auto-increment-column"],
                reason: "gives back a column the migration dropped, without its values (irreversible): its default is computed per row, so adding it fills every row in a rewrite under its lock",
            },
            Allowance {
                chosen: &reindexes,
                rules: &["collation-change-reindex"],
                reason: "no online form for undoing this change here: it builds the column's indexes again under its lock",
            },
            Allowance {
                chosen: &regenerates,
                rules: REGENERATION_RULES,
                reason: "a generated column added again around the type change of a column it reads, with its constraints and indexes, in the same transaction: its values are computed again",
            },
            Allowance {
                chosen: &fails_on_rows,
                rules: &["add-required-column"],
                reason: "gives back a column the migration dropped, without its values (irreversible): NOT NULL without a default, it fails on a table with rows",
            },
            Allowance {
                chosen: &detaches,
                rules: &["detach-partition-not-concurrent"],
                reason: DETACH_REASON,
            },
            Allowance { chosen: &partitioned_key, rules: &["fk-not-valid"], reason: PARTITIONED_FK_REASON },
            Allowance { chosen: &excludes, rules: &["exclude-constraint-blocking"], reason: EXCLUDE_REASON },
        ],
    )
}

/// Why a partition is detached without `CONCURRENTLY`.
const DETACH_REASON: &str = "a partition detached to change its bound or parent (attached again in the same transaction) or to become a table of its own";
/// Why a foreign key on a partitioned table is added valid.
const PARTITIONED_KEY_REASON: &str = "a key on a partitioned table, which PostgreSQL cannot build concurrently: each partition's is built concurrently first where the key is plain, and the table's then builds nothing";
const PARTITIONED_FK_REASON: &str = "a foreign key on a partitioned table, which PostgreSQL before 18 refuses NOT VALID: it scans under its lock";
/// Why an exclusion constraint is added under its table's lock.
const EXCLUDE_REASON: &str = "no online form for an EXCLUDE constraint in PostgreSQL: it builds its index under ACCESS EXCLUSIVE; deploy it in a maintenance window";

/// The rules the plain forms of a `down.sql` in one transaction break (see `write_validated`).
const PLAIN_FORM_RULES: &[&str] = &[
    "drop-column",
    "check-constraint-not-valid",
    "fk-not-valid",
    "unique-constraint-blocking",
    "primary-key-blocking",
    "index-create-not-concurrent",
    "index-drop-not-concurrent",
    "set-not-null-blocking",
    "domain-add-constraint",
];

/// Writes each draft with its `down.sql`, after validating both on the shadow: the drafts in
/// order must reach the target, and the downs in reverse order must give `before` back. On
/// any failure nothing stays on disk.
fn write(
    request: &Request<'_>,
    drafts: &[Draft],
    history: &mut Loaded,
    target: &Target,
) -> Result<Vec<PathBuf>, Error> {
    let mut folders = Vec::new();
    let result = write_validated(request, drafts, history, target, &mut folders);
    if result.is_err() {
        for folder in &folders {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
    result.map(|()| folders)
}

/// Prisma's lock file, so Prisma Migrate reads the folder as its own.
const LOCK_FILE_TEXT: &str = "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"postgresql\"\n";

fn write_validated(
    request: &Request<'_>,
    drafts: &[Draft],
    history: &mut Loaded,
    target: &Target,
    folders: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(request.dir).map_err(io(request.dir))?;
    let lock_file = request.dir.join(LOCK_FILE);
    if !lock_file.exists() {
        std::fs::write(&lock_file, LOCK_FILE_TEXT).map_err(io(&lock_file))?;
    }
    let mut states = vec![history.schema.clone()];
    for draft in drafts {
        let name = format!("{}{}", request.name, draft.suffix);
        let folder = haste_migrations::create_migration(request.dir, &name, request.now)
            .map_err(haste_runner::Error::Folder)?;
        folders.push(folder.clone());
        let mut notes = draft.notes.clone();
        if !draft.restores.is_empty() {
            // The old columns it drops, its down.sql fills again.
            notes.push(
                "haste:allow-file drop-column reason=\"the contract step of an expand/contract rename, a release after the expand\"".into(),
            );
        }
        notes.extend(draft.suggestions.iter().map(|s| format!("hint: {s}")));
        if draft.after_previous
            && let Some(previous) = folders.iter().rev().nth(1).and_then(|f| f.file_name())
        {
            notes.push(format!("haste:after {}", previous.to_string_lossy()));
        }
        // The first piece of the change this one is cut from, released with it.
        if !draft.released_with.is_empty()
            && let Some(first) =
                folders.iter().rev().nth(draft.released_with.len()).and_then(|f| f.file_name())
        {
            notes.push(format!("haste:release-with {}", first.to_string_lossy()));
        }
        let text = match &draft.prisma_text {
            Some((text, _)) => text.clone(),
            None => render::file(&draft.title, &notes, &draft.up),
        };
        let up = folder.join("migration.sql");
        std::fs::write(&up, text).map_err(io(&up))?;
        if let Some((data, data_down)) = &draft.data {
            for (file, text) in [("data.sql", data), ("data.down.sql", data_down)]
                .into_iter()
                .filter(|(_, text)| !text.is_empty())
            {
                let path = folder.join(file);
                std::fs::write(&path, text).map_err(io(&path))?;
            }
        }
        // Applied to the shadow as the runner applies it, one migration at a time.
        let dir = MigrationsDir::load(request.dir).map_err(haste_runner::Error::Folder)?;
        history.deploy(&dir, request.settings).map_err(|error| match error {
            Error::Runner(haste_runner::Error::ReplayFailed(failure))
                if folders
                    .iter()
                    .any(|folder| folder.file_name().is_some_and(|name| *name == *failure.name)) =>
            {
                Error::GeneratedFailed(failure)
            }
            error => error,
        })?;
        states.push(history.schema.clone());
    }
    let left = target.unreached(&history.schema);
    if !left.is_empty() {
        return Err(Error::PlanInvalid { which: "migration.sql", left });
    }
    // Each down.sql goes from the state its migration reached back to the one before it.
    for (index, draft) in drafts.iter().enumerate().rev() {
        let previous = &states[index];
        // The hints' renames are the first draft's first statements, except in a rename's
        // expand and contract (its contract restores the old columns), whose renames stay.
        let contracted = drafts.iter().any(|draft| !draft.restores.is_empty());
        let renames = if draft.suffix.is_empty() && !contracted { request.renames } else { &[] };
        let mut down = undo_renames(history, renames)?;
        let title = format!("Reverts {}{}", request.name, draft.suffix);
        let lasting: Vec<Step> = draft
            .up
            .iter()
            .filter(|step| !expand::restored(&draft.restores, &step.source))
            .cloned()
            .collect();
        let irreversible = render::irreversible_notes(&lasting);
        let text = if let Some((up, _)) = &draft.prisma_text {
            let migration = target.prisma_migration_between(&history.schema, previous);
            history.run(&[migration.to_sql()])?;
            let mut body: String = down.iter().map(|step| format!("{};\n\n", step.sql)).collect();
            body.push_str(&migration.to_sql());
            let mut text = irreversible.iter().map(|n| format!("-- {n}\n")).collect::<String>();
            // Prisma's way back is Prisma's statements, whatever haste's lint says of them.
            let allowed = crate::draft::allow_errors_in_down(
                previous,
                up.clone(),
                body.clone(),
                "the way back as Prisma Migrate writes it for a Prisma schema: its statements, not haste's online forms",
            );
            text.extend(allowed.iter().map(|line| format!("-- {line}\n")));
            text.push_str(&body);
            text
        } else {
            let mut notes = irreversible;
            let steps = if !draft.restores.is_empty() {
                expand::restore_steps(&history.schema, previous, &draft.restores)
            } else if !draft.refills.is_empty() {
                let (current, previous) = (target.view(&history.schema), target.view(previous));
                match retype::online_refill_steps(&current, &previous, &draft.refills) {
                    Some((steps, online_notes)) => {
                        notes.extend(online_notes);
                        steps
                    }
                    None => retype::refill_steps(&current, &previous, &draft.refills),
                }
            } else {
                let (from, to) = (target.view(&history.schema), target.view(previous));
                let online = haste_diff::diff(&from, &to, &Options { online: true }).steps;
                // A down.sql is one file: what must commit as one (a generated column added
                // again, a view, trigger, check, function or policy dropped and created again)
                // must not be cut by a statement-by-statement run, even with statements that
                // must run alone between them, so its plain form, in one transaction.
                let stepwise = online.iter().any(|step| step.alone);
                let in_transactions: Vec<Step> = online.iter().filter(|step| !step.alone).cloned().collect();
                match stepwise && together(&in_transactions).is_some() {
                    true => {
                        let plain = haste_diff::diff(&from, &to, &Options { online: false }).steps;
                        notes.extend(crate::draft::allow_broken_in_down(
                            previous,
                            &draft.up,
                            &plain,
                            &[crate::draft::Allowance {
                                chosen: &|_| true,
                                rules: PLAIN_FORM_RULES,
                                reason: "what a stop must not leave half undone (a generated column added again, a policy dropped and created again) makes this file one transaction, in plain forms: each statement scans or builds under its table's lock",
                            }],
                        ));
                        plain
                    }
                    false => online,
                }
            };
            history.run(&sql(&steps))?;
            down.extend(steps);
            notes.extend(down_allowances(previous, &draft.up, &down));
            render::file(&title, &notes, &down)
        };
        let left = target.differences(&history.schema, previous);
        if !left.is_empty() {
            return Err(Error::PlanInvalid { which: "down.sql", left });
        }
        let path = folders[index].join("down.sql");
        std::fs::write(&path, text).map_err(io(&path))?;
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
