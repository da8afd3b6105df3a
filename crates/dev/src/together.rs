//! What a migration run statement by statement (`-- haste:transaction off`: a concurrent index
//! build, a validation) must still commit as one: an object dropped to be created again (a view
//! over a retyped column, a trigger, a rule, a changed check, a function, a policy) would be
//! missing between the two commits, and a failure between them would leave it missing; a
//! generated column dropped around a type change likewise. Such a draft becomes several
//! migrations of one deploy ([`committing_together_apart`]), the statements that must commit as
//! one in a migration of their own, which the runner applies whole or not at all.

use haste_diff::{SchemaChange, Step};
use haste_schema::{Constraint, ConstraintKind, Index, Schema, qualified};
use haste_sql::quote_ident;

use crate::draft::Draft;

/// Why a run of statements of a stepwise draft must commit as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Together {
    /// A generated column dropped around a type change comes back in it.
    Regenerated,
    /// Objects dropped (or a partition detached) come back in it, each named for people: the
    /// application never finds them missing (a restrictive policy gone shows rows it hides, a
    /// view gone fails its queries).
    Recreated(Vec<String>),
}

/// Whether `created` creates again what `dropped` drops. Not a partition detached and attached
/// again (not yet: a migration cut there puts the plain index builds of the tables it creates
/// after the cut, in a file whose lint takes those tables for old ones). Not an index: online, one of a table is dropped and built concurrently, each alone, and a
/// partitioned table's is created `ON ONLY` (invalid, unused) until its partitions' indexes,
/// built concurrently, are attached to it: its drop and that creation in one transaction would
/// leave it no less missing, and cut its family's online form across two files.
fn recreates(dropped: &SchemaChange, created: &SchemaChange) -> bool {
    use SchemaChange as C;
    match (dropped, created) {
        (C::DropView(a), C::CreateView(b))
        | (C::DropFunction(a), C::CreateFunction(b))
        | (C::DropComposite(a), C::CreateComposite(b))
        | (C::DropRange(a), C::CreateRange(b))
        | (C::DropDomain(a), C::CreateDomain(b))
        | (C::DropCollation(a), C::CreateCollation(b))
        | (C::DropStatistics(a), C::CreateStatistics(b))
        | (C::DropSequence(a), C::CreateSequence(b)) => a == b,
        (C::DropTrigger(a), C::CreateTrigger(b))
        | (C::DropRule(a), C::CreateRule(b))
        | (C::DropPolicy(a), C::CreatePolicy(b))
        | (C::DropConstraint(a), C::AddConstraint { constraint: b, .. })
        | (C::DropColumn(a), C::AddColumn(b)) => a == b,
        _ => false,
    }
}

/// What `dropped` drops, for people (`the view "public"."v"`), when it is a drop
/// [`recreates`] pairs.
fn described(dropped: &SchemaChange) -> Option<String> {
    use SchemaChange as C;
    let (kind, name) = match dropped {
        C::DropView(n) => ("view", qualified(&n.schema, &n.name)),
        // A function's name is its signature as `regprocedure` prints it.
        C::DropFunction(n) => ("function", n.name.clone()),
        C::DropComposite(n) => ("type", qualified(&n.schema, &n.name)),
        C::DropRange(n) => ("range type", qualified(&n.schema, &n.name)),
        C::DropDomain(n) => ("domain", qualified(&n.schema, &n.name)),
        C::DropCollation(n) => ("collation", qualified(&n.schema, &n.name)),
        C::DropStatistics(n) => ("statistics object", qualified(&n.schema, &n.name)),
        C::DropSequence(n) => ("sequence", qualified(&n.schema, &n.name)),
        C::DropColumn(p) => {
            ("column", format!("{}.{}", qualified(&p.schema, &p.table), quote_ident(&p.name)))
        }
        C::DropTrigger(p) | C::DropRule(p) | C::DropPolicy(p) | C::DropConstraint(p) => {
            let kind = match dropped {
                C::DropTrigger(_) => "trigger",
                C::DropRule(_) => "rule",
                C::DropPolicy(_) => "policy",
                _ => "constraint",
            };
            (kind, format!("{} on {}", quote_ident(&p.name), qualified(&p.schema, &p.table)))
        }
        _ => return None,
    };
    Some(format!("the {kind} {name}"))
}

/// Why `run` must commit as one, if it must.
pub(crate) fn together(run: &[Step]) -> Option<Together> {
    if run.iter().any(|s| s.alone) {
        return None;
    }
    if run.iter().any(|step| matches!(step.source, SchemaChange::RegenerateColumn(_))) {
        return Some(Together::Regenerated);
    }
    let mut recreated: Vec<String> = Vec::new();
    for (index, step) in run.iter().enumerate() {
        if run[index + 1..].iter().any(|later| recreates(&step.source, &later.source))
            && let Some(object) = described(&step.source)
            && !recreated.contains(&object)
        {
            recreated.push(object);
        }
    }
    (!recreated.is_empty()).then_some(Together::Recreated(recreated))
}

/// Whether `later` gives the object `created` creates (again) what it has: a privilege, a
/// comment, an owner (the planner gives them back after the creation, for a role never to find
/// the object without its grant).
fn gives_back(created: &SchemaChange, later: &SchemaChange) -> bool {
    use SchemaChange as C;
    let (schema, name, part) = match created {
        C::CreateView(n)
        | C::CreateIndex(n)
        | C::CreateFunction(n)
        | C::CreateComposite(n)
        | C::CreateRange(n)
        | C::CreateDomain(n)
        | C::CreateSequence(n) => (&n.schema, &n.name, None),
        C::CreateTrigger(p)
        | C::CreateRule(p)
        | C::CreatePolicy(p)
        | C::AddConstraint { constraint: p, .. } => (&p.schema, &p.table, Some(&p.name)),
        _ => return false,
    };
    match later {
        C::AddPrivilege(p) | C::RemovePrivilege(p) => {
            part.is_none() && p.schema == *schema && p.name == *name
        }
        C::SetOwner(o) | C::ResetOwner(o) => part.is_none() && o.schema == *schema && o.name == *name,
        C::SetComment(c) => {
            c.schema == *schema && c.name == *name && (part.is_none() || c.part.as_ref() == part)
        }
        _ => false,
    }
}

/// Whether `later` builds an index on the (materialized) view `created` creates again: built
/// plainly, as on any object the migration creates, it belongs with the creation; a file after
/// it would build it plainly on what is there already.
fn indexes_created(created: &SchemaChange, later: &SchemaChange, indexes: &[Index]) -> bool {
    let (SchemaChange::CreateView(view), SchemaChange::CreateIndex(index)) = (created, later) else {
        return false;
    };
    indexes.iter().any(|target| {
        target.schema == index.schema
            && target.name == index.name
            && target.schema == view.schema
            && target.table == view.name
    })
}

/// The stretches of `steps` from the drop of an object to its creation again (the creation's
/// statements included, and what gives it back its privileges, comments and owner), overlapping
/// ones merged, in order. An object dropped or created by a
/// statement that must run alone (an index dropped or built concurrently, a key on an index
/// built concurrently) cannot come back in one transaction: it has none.
fn recreations(steps: &[Step], indexes: &[Index]) -> Vec<(usize, usize)> {
    let mut stretches: Vec<(usize, usize)> = Vec::new();
    for (start, step) in steps.iter().enumerate().filter(|(_, step)| !step.alone) {
        let Some(created) = steps[start + 1..]
            .iter()
            .position(|later| recreates(&step.source, &later.source))
            .map(|offset| start + 1 + offset)
            .filter(|&created| !steps[created].alone)
        else {
            continue;
        };
        let mut end = created;
        while steps.get(end + 1).is_some_and(|next| !next.alone && next.source == steps[created].source) {
            end += 1;
        }
        if let Some(last) = steps
            .iter()
            .rposition(|later| {
                !later.alone
                    && (gives_back(&steps[created].source, &later.source)
                        || indexes_created(&steps[created].source, &later.source, indexes))
            })
            .filter(|&last| last > end)
        {
            end = last;
        }
        match stretches.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = (*last_end).max(end),
            _ => stretches.push((start, end)),
        }
    }
    stretches
}

/// Whether a statement of `later` must follow one of `moved` out of a stretch: the rest of the
/// same change, a partition's index's attachment after its build, what gives the object made
/// its comment or grants, and, after an index or key built, the replica identity and cluster
/// index that may name it (set later, harmlessly, when they name another).
fn follows(moved: &SchemaChange, later: &SchemaChange) -> bool {
    use SchemaChange as C;
    moved == later
        || matches!((moved, later), (C::CreateIndex(built), C::AttachIndex(attached)) if built == attached)
        || gives_back(moved, later)
        || (matches!(moved, C::CreateIndex(_) | C::AddConstraint { .. })
            && matches!(later, C::SetReplicaIdentity(_) | C::SetClusterIndex(_)))
}

/// `steps` with what must run alone moved out of each stretch from an object's drop to its
/// creation again, so that the stretch can commit as one: a concurrent index drop to just
/// before it (the statements after it in the stretch, a type change of a column the index
/// covers, count on its being gone: otherwise they would build it again under their lock); a
/// concurrent index build or a validation to just after it, each with the statements that
/// follow it there ([`follows`]: a `SET NOT NULL` after the validation of its check, a key
/// after its index, the index's comment), in their order. What stays in the stretch keeps its
/// order; nothing that must run alone depends on the objects created again, and what does is
/// caught by `migrate dev`'s validation on the shadow.
fn recreations_uncut(mut steps: Vec<Step>, indexes: &[Index]) -> Vec<Step> {
    // Moving statements within a stretch keeps the positions outside it: the last first is as
    // good as any order.
    for (start, end) in recreations(&steps, indexes).into_iter().rev() {
        let inside: Vec<Step> = steps.drain(start..=end).collect();
        let mut moving: Vec<SchemaChange> = Vec::new();
        let (mut before, mut kept, mut after) = (Vec::new(), Vec::new(), Vec::new());
        for step in inside {
            if step.alone && matches!(step.source, SchemaChange::DropIndex(_)) {
                before.push(step);
                continue;
            }
            if step.alone && !moving.contains(&step.source) {
                moving.push(step.source.clone());
            }
            match moving.iter().any(|source| follows(source, &step.source)) {
                true => after.push(step),
                false => kept.push(step),
            }
        }
        steps.splice(start..start, before.into_iter().chain(kept).chain(after));
    }
    steps
}

/// A table as (`schema`, `name`).
type TableName = (String, String);

/// A key's columns, sorted: a foreign key needs the key on the columns it references.
fn sorted(columns: &[String]) -> Vec<String> {
    let mut columns = columns.to_vec();
    columns.sort();
    columns
}

/// A key: its table and its columns, sorted.
type Key = (TableName, Vec<String>);

/// The index a step builds, as `target` has it.
fn target_index<'a>(target: &'a Schema, index: &haste_diff::Named) -> Option<&'a Index> {
    target.indexes.iter().find(|i| i.schema == index.schema && i.name == index.name)
}

/// The constraint a step adds, as `target` has it.
fn target_constraint<'a>(target: &'a Schema, constraint: &haste_diff::OfTable) -> Option<&'a Constraint> {
    target
        .tables
        .iter()
        .find(|t| t.schema == constraint.schema && t.name == constraint.table)
        .and_then(|t| t.constraints.iter().find(|c| c.name == constraint.name))
}

/// What a step on a table needs made before it: the key a foreign key references, or the index
/// a partition's index is attached to.
#[derive(Debug, PartialEq)]
enum Needs {
    Key(Key),
    ParentIndex(TableName),
}

/// What a step makes that another may need first ([`Needs`]).
#[derive(Debug, PartialEq)]
enum Made {
    Table(TableName),
    /// A key on a table's columns (a primary key, a unique constraint or index), the columns
    /// sorted; none where the model does not say which, which could be any.
    Key(TableName, Vec<String>),
    /// An index, as (`schema`, `name`).
    Index(TableName),
}

impl Needs {
    fn met_by(&self, made: &Made) -> bool {
        match (self, made) {
            (Needs::Key((table, _)), Made::Table(made)) => table == made,
            (Needs::Key((table, columns)), Made::Key(made, key)) => {
                table == made && (key.is_empty() || key == columns)
            }
            (Needs::ParentIndex(index), Made::Index(made)) => index == made,
            _ => false,
        }
    }
}

/// The table a step builds an index or adds a constraint on, and what that step needs made
/// first, as `target` has them; `None` for other steps.
fn keyed_table(step: &Step, target: &Schema) -> Option<(TableName, Option<Needs>)> {
    match &step.source {
        SchemaChange::CreateIndex(index) => {
            target_index(target, index).map(|i| ((i.schema.clone(), i.table.clone()), None))
        }
        SchemaChange::AttachIndex(index) => target_index(target, index)
            .map(|i| ((i.schema.clone(), i.table.clone()), i.attached_to.clone().map(Needs::ParentIndex))),
        SchemaChange::AddConstraint { constraint, kind } => {
            let table = (constraint.schema.clone(), constraint.table.clone());
            let referenced = match kind {
                ConstraintKind::ForeignKey => target_constraint(target, constraint)
                    .and_then(|c| c.references.as_ref())
                    .map(|r| Needs::Key(((r.schema.clone(), r.table.clone()), sorted(&r.columns)))),
                _ => None,
            };
            Some((table, referenced))
        }
        _ => None,
    }
}

/// What a step makes that a later one may need first ([`Made`]).
fn made_by(step: &Step, target: &Schema) -> Vec<Made> {
    match &step.source {
        SchemaChange::CreateTable(table) => vec![Made::Table((table.schema.clone(), table.name.clone()))],
        SchemaChange::AddConstraint {
            constraint,
            kind: ConstraintKind::PrimaryKey | ConstraintKind::Unique,
        } => {
            let columns = target_constraint(target, constraint).map(|c| sorted(&c.columns));
            // A key whose columns the model does not say could be any: it holds back every
            // foreign key to its table.
            vec![Made::Key(
                (constraint.schema.clone(), constraint.table.clone()),
                columns.unwrap_or_default(),
            )]
        }
        SchemaChange::CreateIndex(index) => {
            let mut made = vec![Made::Index((index.schema.clone(), index.name.clone()))];
            made.extend(
                target_index(target, index)
                    .filter(|i| i.unique)
                    .map(|i| Made::Key((i.schema.clone(), i.table.clone()), sorted(&i.columns))),
            );
            made
        }
        _ => Vec::new(),
    }
}

/// The index builds and constraints on a table the draft creates, moved from a later piece to
/// the end of the piece that creates it: built plainly, as on any new table, they belong with
/// the creation (a migration that creates a table inside a stretch that must commit as one would
/// otherwise leave its keys to a later file, whose lint takes the table for an old one). A step
/// stays where it is when what it needs is made between the two places: a foreign key's
/// referenced table, or the key on the columns it references (a primary key, unique constraint
/// or unique index); a partition index's parent index, which its attachment needs. A piece
/// left empty goes.
fn with_their_tables(pieces: &mut Vec<(Option<Together>, Vec<Step>)>, target: &Schema) {
    for creating in 0..pieces.len() {
        let created: Vec<(String, String)> = pieces[creating]
            .1
            .iter()
            .filter_map(|step| match &step.source {
                SchemaChange::CreateTable(table) => Some((table.schema.clone(), table.name.clone())),
                _ => None,
            })
            .collect();
        if created.is_empty() {
            continue;
        }
        let mut moved: Vec<Step> = Vec::new();
        // What stays between the creating piece and a step makes.
        let mut made_between: Vec<Made> = Vec::new();
        for (_, steps) in pieces[creating + 1..].iter_mut() {
            let mut kept = Vec::new();
            for step in std::mem::take(steps) {
                let keyed = keyed_table(&step, target);
                let moves = !step.alone
                    && keyed.is_some_and(|(table, needs)| {
                        created.contains(&table)
                            && needs.is_none_or(|needs| !made_between.iter().any(|made| needs.met_by(made)))
                    });
                match moves {
                    true => moved.push(step),
                    false => {
                        made_between.extend(made_by(&step, target));
                        kept.push(step);
                    }
                }
            }
            *steps = kept;
        }
        pieces[creating].1.extend(moved);
    }
    pieces.retain(|(_, steps)| !steps.is_empty());
}

/// A draft whose other statements must each run on their own (a concurrent index build, a
/// validation: the file is `-- haste:transaction off`) as several migrations of one deploy, so
/// that what is dropped to be created again comes back in the transaction that dropped it (a
/// generated column dropped around the type change of a column it reads, a view, trigger,
/// rule, check, function or policy dropped and created again): what must run alone is moved
/// out of the stretch between a drop and its creation ([`recreations_uncut`]), and each run of
/// statements that share a transaction and must commit as one ([`together`]) becomes a
/// migration of its own, which the runner applies whole or not at all; the statements around
/// it stay in migrations that run statement by statement. The first keeps the draft's name,
/// notes and warnings, the last its data step (it follows the expand of an online type change,
/// which the plan puts last). A draft with nothing to set apart comes back as it is.
pub(crate) fn committing_together_apart(mut draft: Draft, name: &str, target: &Schema) -> Vec<Draft> {
    let stepwise =
        draft.prisma_text.is_none() && draft.refills.is_empty() && draft.up.iter().any(|step| step.alone);
    if !stepwise {
        return vec![draft];
    }
    // Runs: each statement that must run alone, and each longest stretch of the others.
    let mut runs: Vec<Vec<Step>> = Vec::new();
    for step in recreations_uncut(std::mem::take(&mut draft.up), &target.indexes) {
        match runs.last_mut() {
            Some(run) if !step.alone && run.iter().all(|s| !s.alone) => run.push(step),
            _ => runs.push(vec![step]),
        }
    }
    let runs: Vec<(Option<Together>, Vec<Step>)> =
        runs.into_iter().map(|run| (together(&run), run)).collect();
    if runs.iter().all(|(atomic, _)| atomic.is_none()) {
        draft.up = runs.into_iter().flat_map(|(_, run)| run).collect();
        return vec![draft];
    }
    // Pieces: a run that must commit as one alone, the runs between them together.
    let mut pieces: Vec<(Option<Together>, Vec<Step>)> = Vec::new();
    for (atomic, run) in runs {
        match pieces.last_mut() {
            Some((None, steps)) if atomic.is_none() => steps.extend(run),
            _ => pieces.push((atomic, run)),
        }
    }
    with_their_tables(&mut pieces, target);
    let data = draft.data.take();
    // A contract's columns to fill again go with the piece that drops them: its down.sql
    // fills them, and its data loss is no loss.
    let restores = std::mem::take(&mut draft.restores);
    let base = draft.suffix.clone();
    let mut first = Some(draft);
    let mut drafts: Vec<Draft> = Vec::new();
    for (atomic, steps) in pieces {
        let (label, title) = match &atomic {
            Some(Together::Regenerated) => {
                ("regenerate", format!("{name} (generated columns added again, in one transaction)"))
            }
            Some(Together::Recreated(_)) => {
                ("recreate", format!("{name} (objects dropped and created again, in one transaction)"))
            }
            None => ("after", format!("{name} (after the statements that commit as one)")),
        };
        let mut piece = first.take().unwrap_or_else(|| {
            // After the draft's own suffix: a contract's pieces are `_contract_after`, apart
            // from the expand's `_after`.
            let stem = format!("{base}_{label}");
            let before = drafts.iter().filter(|d| d.suffix.starts_with(&stem)).count();
            let suffix = match before {
                0 => stem,
                _ => format!("{stem}_{}", before + 1),
            };
            Draft::empty(suffix, title)
        });
        match atomic {
            Some(Together::Regenerated) => piece.notes.extend([
                "One transaction: generated columns dropped around the type change of a column they read, the change,".into(),
                "and the columns added again with the keys and indexes on them; a failure leaves them as they were.".into(),
                "What must run on its own (concurrent builds, validations) is in the migrations around it, same deploy.".into(),
            ]),
            Some(Together::Recreated(objects)) => {
                piece.notes.push(
                    "One transaction: what is dropped here is created again here, so the application never finds it missing;".into(),
                );
                piece.notes.push("a failure leaves it as it was. Dropped and created again:".into());
                piece.notes.extend(objects.into_iter().map(|object| format!("  {object}")));
                piece.notes.push(
                    "What must run on its own (concurrent builds, validations) is in the migrations around it, same deploy.".into(),
                );
            }
            None => {}
        }
        piece.up = steps;
        drafts.push(piece);
    }
    if let Some(last) = drafts.last_mut() {
        last.data = data;
    }
    // Each piece after the first is released with those before it, in the same deploy.
    let texts: Vec<String> = drafts.iter().map(|piece| crate::draft::text_of(&piece.up).0).collect();
    for (index, piece) in drafts.iter_mut().enumerate() {
        piece.released_with = texts[..index].to_vec();
    }
    let dropping = drafts
        .iter()
        .position(|piece| piece.up.iter().any(|step| crate::expand::restored(&restores, &step.source)));
    if let Some(piece) = drafts.get_mut(dropping.unwrap_or(0)) {
        piece.restores = restores;
    }
    drafts
}

#[cfg(test)]
mod tests {
    use haste_diff::{Lock, Named, OfTable, SchemaChange, Step};
    use haste_schema::ConstraintKind;

    use super::{Together, committing_together_apart, recreations_uncut, together};
    use crate::draft::Draft;

    fn step(sql: &str, source: SchemaChange) -> Step {
        Step { sql: sql.into(), lock: Lock::AccessExclusive, hazards: Vec::new(), alone: false, source }
    }

    fn alone(sql: &str, source: SchemaChange) -> Step {
        Step { alone: true, ..step(sql, source) }
    }

    fn named(name: &str) -> Named {
        Named { schema: "public".into(), name: name.into() }
    }

    fn part(name: &str) -> OfTable {
        OfTable { schema: "public".into(), table: "items".into(), name: name.into() }
    }

    fn comment(index: &str) -> haste_schema::Comment {
        haste_schema::Comment {
            object: haste_schema::CommentObject::Index,
            schema: "public".into(),
            name: index.into(),
            part: None,
            text: "why".into(),
        }
    }

    fn statements(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|step| step.sql.as_str()).collect()
    }

    /// Each piece's suffix and statements.
    fn pieces(drafts: &[Draft]) -> Vec<(&str, Vec<&str>)> {
        drafts.iter().map(|d| (d.suffix.as_str(), statements(&d.up))).collect()
    }

    /// A view over a retyped column, with an index built concurrently between its drop and its
    /// creation as planned: the build (with the index's comment and, for a partition's index,
    /// its attachment, which left behind named an index not built yet) moves after the
    /// creation, and the drop, the type change and the creation are one run, which must commit
    /// as one.
    #[test]
    fn a_build_between_a_views_drop_and_creation_moves_after_it() {
        let planned = vec![
            step("DROP VIEW v", SchemaChange::DropView(named("v"))),
            step("ALTER COLUMN name TYPE", SchemaChange::AlterColumnType(part("name"))),
            alone("CREATE INDEX CONCURRENTLY i", SchemaChange::CreateIndex(named("i"))),
            step("COMMENT ON INDEX i", SchemaChange::SetComment(comment("i"))),
            step("ALTER INDEX parent ATTACH PARTITION i", SchemaChange::AttachIndex(named("i"))),
            step("CREATE VIEW v", SchemaChange::CreateView(named("v"))),
            step("ALTER VIEW v ALTER COLUMN SET DEFAULT", SchemaChange::CreateView(named("v"))),
        ];
        let steps = recreations_uncut(planned, &[]);
        assert_eq!(
            statements(&steps),
            [
                "DROP VIEW v",
                "ALTER COLUMN name TYPE",
                "CREATE VIEW v",
                "ALTER VIEW v ALTER COLUMN SET DEFAULT",
                "CREATE INDEX CONCURRENTLY i",
                "COMMENT ON INDEX i",
                "ALTER INDEX parent ATTACH PARTITION i"
            ]
        );
        assert_eq!(
            together(&steps[..4]),
            Some(Together::Recreated(vec!["the view \"public\".\"v\"".into()]))
        );
        assert_eq!(together(&steps[1..4]), None, "a creation alone is no recreation");
    }

    /// An index dropped concurrently inside the stretch goes before it: the type change after
    /// it would otherwise build it again under its lock.
    #[test]
    fn an_index_drop_inside_a_stretch_moves_before_it() {
        let planned = vec![
            step("DROP VIEW v", SchemaChange::DropView(named("v"))),
            alone("DROP INDEX CONCURRENTLY i", SchemaChange::DropIndex(named("i"))),
            step("ALTER COLUMN name TYPE", SchemaChange::AlterColumnType(part("name"))),
            alone("CREATE INDEX CONCURRENTLY j", SchemaChange::CreateIndex(named("j"))),
            step("CREATE VIEW v", SchemaChange::CreateView(named("v"))),
        ];
        assert_eq!(
            statements(&recreations_uncut(planned, &[])),
            [
                "DROP INDEX CONCURRENTLY i",
                "DROP VIEW v",
                "ALTER COLUMN name TYPE",
                "CREATE VIEW v",
                "CREATE INDEX CONCURRENTLY j"
            ]
        );
    }

    /// A plain table `name` with nothing on it, as a target schema holds it.
    fn table(name: &str) -> haste_schema::Table {
        haste_schema::Table {
            schema: "public".into(),
            name: name.into(),
            kind: haste_schema::TableKind::Regular,
            partition_of: None,
            partition_depth: 0,
            inherits: Vec::new(),
            columns: Vec::new(),
            constraints: Vec::new(),
            comment: None,
            row_security: false,
            force_row_security: false,
            storage_parameters: Vec::new(),
            replica_identity: haste_schema::ReplicaIdentity::Default,
            clustered_on: None,
        }
    }

    /// The index `name` on `table`, as a target schema holds it.
    fn index_on(table: &str, name: &str) -> haste_schema::Index {
        haste_schema::Index {
            schema: "public".into(),
            table: table.into(),
            name: name.into(),
            definition: format!("CREATE INDEX {name} ON public.{table} USING btree (id)"),
            unique: false,
            method: "btree".into(),
            elements: "id".into(),
            columns: vec!["id".into()],
            keys: Vec::new(),
            included: Vec::new(),
            predicate: None,
            expressions: false,
            valid: true,
            attached_to: None,
        }
    }

    /// A table created inside a stretch that must commit as one keeps its plain index build and
    /// checks in the piece that creates it, not in the piece after the validation that follows
    /// the stretch (whose lint would take the table for an old one); a foreign key to a key
    /// built concurrently between the two stays after that build, one to a key already there
    /// goes with the table.
    #[test]
    fn keys_of_a_table_created_in_a_stretch_go_with_its_creation() {
        let mut target = haste_schema::Schema {
            indexes: vec![index_on("t3", "t3_c0_idx"), index_on("items", "items_code_key")],
            ..Default::default()
        };
        let mut t3 = table("t3");
        let mut fk = haste_schema::Constraint::new("t3_code_fkey", ConstraintKind::ForeignKey, "");
        fk.references = Some(haste_schema::References {
            schema: "public".into(),
            table: "items".into(),
            columns: vec!["code".into()],
            on_delete: haste_schema::ReferentialAction::NoAction,
            on_update: haste_schema::ReferentialAction::NoAction,
        });
        t3.constraints.push(fk);
        // A key to `items`' primary key: an ordinary index built on `items` in between does
        // not hold it back.
        let mut to_pkey = haste_schema::Constraint::new("t3_item_fkey", ConstraintKind::ForeignKey, "");
        to_pkey.references = Some(haste_schema::References {
            columns: vec!["id".into()],
            ..t3.constraints[0].references.clone().unwrap()
        });
        t3.constraints.push(to_pkey);
        let mut items = haste_schema::Table { name: "items".into(), constraints: Vec::new(), ..t3.clone() };
        let mut code_key = haste_schema::Constraint::new("items_code_key", ConstraintKind::Unique, "");
        code_key.columns = vec!["code".into()];
        items.constraints.push(code_key);
        target.tables.extend([t3, items]);
        target.indexes.push(index_on("items", "items_name_idx"));
        let on_t3 = |name: &str, kind| SchemaChange::AddConstraint {
            constraint: OfTable { schema: "public".into(), table: "t3".into(), name: name.into() },
            kind,
        };
        let check = || SchemaChange::AddConstraint {
            constraint: part("items_price_check"),
            kind: ConstraintKind::Check,
        };
        let key = || SchemaChange::AddConstraint {
            constraint: part("items_code_key"),
            kind: ConstraintKind::Unique,
        };
        let mut draft = Draft::empty(String::new(), "change".into());
        draft.up = vec![
            step(
                "DROP CONSTRAINT items_price_check",
                SchemaChange::DropConstraint(part("items_price_check")),
            ),
            step("CREATE TABLE t3", SchemaChange::CreateTable(named("t3"))),
            step("ADD CONSTRAINT items_price_check NOT VALID", check()),
            alone("VALIDATE CONSTRAINT items_price_check", check()),
            alone(
                "CREATE INDEX CONCURRENTLY items_name_idx",
                SchemaChange::CreateIndex(named("items_name_idx")),
            ),
            alone("CREATE UNIQUE INDEX CONCURRENTLY items_code_key", key()),
            step("ADD CONSTRAINT items_code_key USING INDEX", key()),
            step("ADD CONSTRAINT t3_pkey PRIMARY KEY", on_t3("t3_pkey", ConstraintKind::PrimaryKey)),
            step("ADD CONSTRAINT t3_c3_check CHECK", on_t3("t3_c3_check", ConstraintKind::Check)),
            step(
                "ADD CONSTRAINT t3_code_fkey FOREIGN KEY",
                on_t3("t3_code_fkey", ConstraintKind::ForeignKey),
            ),
            step("CREATE INDEX t3_c0_idx", SchemaChange::CreateIndex(named("t3_c0_idx"))),
            step(
                "ADD CONSTRAINT t3_item_fkey FOREIGN KEY",
                on_t3("t3_item_fkey", ConstraintKind::ForeignKey),
            ),
        ];
        let drafts = committing_together_apart(draft, "change", &target);
        assert_eq!(
            pieces(&drafts),
            [
                (
                    "",
                    vec![
                        "DROP CONSTRAINT items_price_check",
                        "CREATE TABLE t3",
                        "ADD CONSTRAINT items_price_check NOT VALID",
                        "ADD CONSTRAINT t3_pkey PRIMARY KEY",
                        "ADD CONSTRAINT t3_c3_check CHECK",
                        "CREATE INDEX t3_c0_idx",
                        "ADD CONSTRAINT t3_item_fkey FOREIGN KEY",
                    ]
                ),
                (
                    "_after",
                    vec![
                        "VALIDATE CONSTRAINT items_price_check",
                        "CREATE INDEX CONCURRENTLY items_name_idx",
                        "CREATE UNIQUE INDEX CONCURRENTLY items_code_key",
                        "ADD CONSTRAINT items_code_key USING INDEX",
                        "ADD CONSTRAINT t3_code_fkey FOREIGN KEY",
                    ]
                ),
            ]
        );
    }

    /// A new partition's index goes with the partition's creation (a later file would build it
    /// plainly on a table already there), but its attachment to a parent index the draft builds
    /// later (dropped and made again on the partitioned table) stays after that build: moved
    /// with the partition, it named an index not made yet (the shadow replay of `migrate dev`
    /// failed with 42P01). One whose parent index is made before moves too.
    #[test]
    fn a_new_partitions_index_waits_for_its_parent_index() {
        let mut note_c = index_on("events_c", "events_c_note_idx");
        note_c.attached_to = Some(("public".into(), "note_idx".into()));
        let mut kind_c = index_on("events_c", "events_c_kind_idx");
        kind_c.attached_to = Some(("public".into(), "kind_idx".into()));
        let events_c = table("events_c");
        let target = haste_schema::Schema {
            tables: vec![events_c],
            indexes: vec![index_on("events", "note_idx"), index_on("events", "kind_idx"), note_c, kind_c],
            ..Default::default()
        };
        let index = |name: &str| SchemaChange::CreateIndex(named(name));
        let attach = |name: &str| SchemaChange::AttachIndex(named(name));
        let mut draft = Draft::empty(String::new(), "change".into());
        let check = || SchemaChange::AddConstraint {
            constraint: part("items_price_check"),
            kind: ConstraintKind::Check,
        };
        draft.up = vec![
            step("CREATE INDEX kind_idx ON ONLY events", index("kind_idx")),
            step("DROP INDEX note_idx", SchemaChange::DropIndex(named("note_idx"))),
            step(
                "DROP CONSTRAINT items_price_check",
                SchemaChange::DropConstraint(part("items_price_check")),
            ),
            step("CREATE TABLE events_c PARTITION OF events", SchemaChange::CreateTable(named("events_c"))),
            step("ADD CONSTRAINT items_price_check NOT VALID", check()),
            alone("VALIDATE CONSTRAINT items_price_check", check()),
            step("CREATE INDEX events_c_kind_idx", index("events_c_kind_idx")),
            step("ATTACH events_c_kind_idx", attach("events_c_kind_idx")),
            step("CREATE INDEX note_idx ON ONLY events", index("note_idx")),
            step("CREATE INDEX events_c_note_idx", index("events_c_note_idx")),
            step("ATTACH events_c_note_idx", attach("events_c_note_idx")),
        ];
        let drafts = committing_together_apart(draft, "change", &target);
        assert_eq!(
            pieces(&drafts),
            [
                (
                    "",
                    vec![
                        "CREATE INDEX kind_idx ON ONLY events",
                        "DROP INDEX note_idx",
                        "DROP CONSTRAINT items_price_check",
                        "CREATE TABLE events_c PARTITION OF events",
                        "ADD CONSTRAINT items_price_check NOT VALID",
                        "CREATE INDEX events_c_kind_idx",
                        "ATTACH events_c_kind_idx",
                        "CREATE INDEX events_c_note_idx",
                    ]
                ),
                (
                    "_after",
                    vec![
                        "VALIDATE CONSTRAINT items_price_check",
                        "CREATE INDEX note_idx ON ONLY events",
                        "ATTACH events_c_note_idx",
                    ]
                ),
            ]
        );
    }

    /// An index built plainly on a materialized view created again belongs with its creation:
    /// a later file would build it plainly on a view already there (lint's
    /// `index-create-not-concurrent` in a migration haste wrote).
    #[test]
    fn an_index_on_a_view_created_again_stays_with_it() {
        let on_m = index_on("m", "m_id");
        let planned = vec![
            step("DROP MATERIALIZED VIEW m", SchemaChange::DropView(named("m"))),
            step("CREATE MATERIALIZED VIEW m", SchemaChange::CreateView(named("m"))),
            alone("CREATE INDEX CONCURRENTLY i", SchemaChange::CreateIndex(named("i"))),
            step("CREATE INDEX m_id ON m", SchemaChange::CreateIndex(named("m_id"))),
        ];
        let steps = recreations_uncut(planned.clone(), std::slice::from_ref(&on_m));
        assert_eq!(
            statements(&steps),
            [
                "DROP MATERIALIZED VIEW m",
                "CREATE MATERIALIZED VIEW m",
                "CREATE INDEX m_id ON m",
                "CREATE INDEX CONCURRENTLY i"
            ]
        );
        assert!(together(&steps[..3]).is_some());
        // Without knowing the index is the view's, it stays where it was.
        assert_eq!(statements(&recreations_uncut(planned, &[]))[3], "CREATE INDEX m_id ON m");
    }

    /// A validation moves out with the statements of its change after it (an online `SET NOT
    /// NULL`: its check stays, added `NOT VALID` in the transaction); what comes after the
    /// creation stays where it was.
    #[test]
    fn a_validation_moves_out_with_the_statements_of_its_change_after_it() {
        let not_null = || SchemaChange::SetNotNull(part("price"));
        let trigger = || SchemaChange::DropTrigger(part("audit"));
        let planned = vec![
            step("DROP TRIGGER audit", trigger()),
            step("ADD CONSTRAINT c CHECK NOT VALID", not_null()),
            alone("VALIDATE CONSTRAINT c", not_null()),
            step("SET NOT NULL", not_null()),
            step("DROP CONSTRAINT c", not_null()),
            step("CREATE TRIGGER audit", SchemaChange::CreateTrigger(part("audit"))),
            alone("CREATE INDEX CONCURRENTLY i", SchemaChange::CreateIndex(named("i"))),
        ];
        let steps = recreations_uncut(planned, &[]);
        assert_eq!(
            statements(&steps),
            [
                "DROP TRIGGER audit",
                "ADD CONSTRAINT c CHECK NOT VALID",
                "CREATE TRIGGER audit",
                "VALIDATE CONSTRAINT c",
                "SET NOT NULL",
                "DROP CONSTRAINT c",
                "CREATE INDEX CONCURRENTLY i"
            ]
        );
        assert_eq!(
            together(&steps[..3]),
            Some(Together::Recreated(vec!["the trigger \"audit\" on \"public\".\"items\"".into()]))
        );
    }

    /// What is created again only by a statement that must run alone (a key on an index built
    /// concurrently) has no transaction to share: nothing moves. A check added again `NOT
    /// VALID` comes back in the transaction that dropped it; its validation follows.
    #[test]
    fn only_a_creation_that_can_share_a_transaction_is_kept_with_its_drop() {
        let key = || SchemaChange::AddConstraint {
            constraint: part("items_code_key"),
            kind: haste_schema::ConstraintKind::Unique,
        };
        let check = || SchemaChange::AddConstraint {
            constraint: part("items_price_check"),
            kind: haste_schema::ConstraintKind::Check,
        };
        let planned = vec![
            step("DROP CONSTRAINT items_code_key", SchemaChange::DropConstraint(part("items_code_key"))),
            step(
                "DROP CONSTRAINT items_price_check",
                SchemaChange::DropConstraint(part("items_price_check")),
            ),
            step("ADD CONSTRAINT items_price_check NOT VALID", check()),
            alone("CREATE UNIQUE INDEX CONCURRENTLY items_code_key", key()),
            step("ADD CONSTRAINT items_code_key USING INDEX", key()),
            alone("VALIDATE CONSTRAINT items_price_check", check()),
        ];
        let steps = recreations_uncut(planned.clone(), &[]);
        assert_eq!(steps, planned);
        assert_eq!(
            together(&steps[..3]),
            Some(Together::Recreated(vec![
                "the constraint \"items_price_check\" on \"public\".\"items\"".into()
            ]))
        );
    }

    /// The draft becomes the transaction that drops and creates the view again, then the build
    /// in a migration of its own, run statement by statement; the notes name the view.
    #[test]
    fn a_stepwise_draft_is_cut_around_what_commits_as_one() {
        let mut draft = Draft::empty(String::new(), "widen: generated by haste migrate dev".into());
        draft.up = vec![
            step("DROP VIEW v", SchemaChange::DropView(named("v"))),
            step("ALTER COLUMN name TYPE", SchemaChange::AlterColumnType(part("name"))),
            alone("CREATE INDEX CONCURRENTLY i", SchemaChange::CreateIndex(named("i"))),
            step("CREATE VIEW v", SchemaChange::CreateView(named("v"))),
        ];
        let drafts = committing_together_apart(draft, "widen", &haste_schema::Schema::default());
        assert_eq!(
            pieces(&drafts),
            [
                ("", vec!["DROP VIEW v", "ALTER COLUMN name TYPE", "CREATE VIEW v"]),
                ("_after", vec!["CREATE INDEX CONCURRENTLY i"]),
            ]
        );
        assert!(
            drafts[0].notes.iter().any(|note| note.contains("the view \"public\".\"v\"")),
            "{:?}",
            drafts[0].notes
        );
        assert!(drafts[1].notes.is_empty());
    }
}
