//! Column renames as expand and contract, across two releases (the guide's recipe). The first
//! migration adds the new column, keeps both columns equal with a trigger whatever version of
//! the application writes, and copies the rows in batches (a data step). The second, which
//! deploy holds back until a later run (`-- haste:after <first>`), sets the new column's
//! constraints, drops the trigger and the old column.
//!
//! Both are planned from models: the state between the releases is the desired schema plus the
//! old column (and the old table's constraints and indexes the desired schema drops), with the
//! new column nullable until the copy is done. The shadow validates both, as for any plan.

use haste_diff::{Lock, Options, Rename, SchemaChange, Step};
use haste_schema::{Schema, Table, qualified};
use haste_sql::{dollar_quote, quote_ident, quote_literal, truncate_ident, unused_ident};

use crate::Error;
use crate::draft::{Draft, Moved};
use crate::source::Loaded;

fn step(sql: String, lock: Lock) -> Step {
    Step { sql, lock, hazards: Vec::new(), alone: false, source: SchemaChange::Custom }
}

/// Splits hints into column renames (expanded) and the rest (applied in place), checking each
/// column rename against both schemas.
fn split(history: &Schema, desired: &Schema, renames: &[Rename]) -> Result<(Vec<Moved>, Vec<Rename>), Error> {
    let mut moved = Vec::new();
    let mut in_place = Vec::new();
    for rename in renames {
        let haste_diff::Renamed::Column { schema, table, column } = rename.resolve(history)? else {
            in_place.push(rename.clone());
            continue;
        };
        let target = desired.tables.iter().find(|t| t.schema == schema && t.name == table);
        let Some(new) = target.and_then(|t| t.columns.iter().find(|c| c.name == rename.to)) else {
            return Err(Error::Rename(haste_diff::Error::BadRename {
                hint: rename.hint.clone(),
                reason: format!("the desired schema has no column `{}` in {schema}.{table}", rename.to),
            }));
        };
        // The sync trigger and the copy assign one column to the other as they are; a type
        // change needs its own conversion, check and swap, which the type change's recipe
        // does on a column that keeps its name.
        let old = history
            .tables
            .iter()
            .find(|t| t.schema == schema && t.name == table)
            .and_then(|t| t.columns.iter().find(|c| c.name == column));
        if let Some(old) = old.filter(|old| old.data_type != new.data_type) {
            return Err(Error::RenameAndRetype {
                column: format!("{}.{}", qualified(&schema, &table), quote_ident(&column)),
                new: rename.to.clone(),
                from: old.data_type.clone(),
                to: new.data_type.clone(),
            });
        }
        let refused = |reason: String| {
            Error::Rename(haste_diff::Error::BadRename { hint: rename.hint.clone(), reason })
        };
        let first_trigger = crate::retype::fires_first_name(
            history,
            desired,
            &schema,
            &table,
            &format!("haste_copy_{column}_{}", rename.to),
        )
        .ok_or_else(|| {
            refused(format!(
                "a trigger of {schema}.{table} sorts before every name haste can give the trigger that copies the column a write sets into the other, which must fire first: rename it to begin with a letter"
            ))
        })?;
        let last_trigger = crate::retype::fires_last_name(
            history,
            desired,
            &schema,
            &table,
            &format!("haste_sync_{column}_{}", rename.to),
        )
        .ok_or_else(|| {
            refused(format!(
                "a trigger of {schema}.{table} sorts after every name haste can give the trigger that keeps both columns equal, which must fire last: rename it to sort before `z`"
            ))
        })?;
        moved.push(Moved { schema, table, old: column, new: rename.to.clone(), first_trigger, last_trigger });
    }
    Ok((moved, in_place))
}

/// An index the desired schema redefines on a moved column under the name the old release's
/// index has: between the releases both exist, the new one under a temporary name.
struct Parked {
    schema: String,
    temporary: String,
    name: String,
}

/// `schema` with each parked index under its temporary name.
fn with_parked_names(schema: &Schema, parked: &[Parked]) -> Schema {
    let mut renamed = schema.clone();
    for index in &mut renamed.indexes {
        if let Some(park) = parked.iter().find(|p| p.schema == index.schema && p.name == index.name)
            && let Some(definition) = haste_sql::index_named(&index.definition, &park.temporary)
        {
            index.name = park.temporary.clone();
            index.definition = definition;
        }
    }
    renamed
}

/// The schema between the releases, and the indexes parked in it.
fn between(history: &Schema, desired: &Schema, moved: &[Moved]) -> (Schema, Vec<Parked>) {
    let mut parked = Vec::new();
    for column in moved {
        for old in history.indexes.iter().filter(|i| i.schema == column.schema && i.table == column.table) {
            let redefined = desired.indexes.iter().any(|new| {
                new.schema == old.schema && new.name == old.name && new.definition != old.definition
            });
            if redefined && !parked.iter().any(|p: &Parked| p.schema == old.schema && p.name == old.name) {
                parked.push(Parked {
                    schema: old.schema.clone(),
                    temporary: unused_ident(&old.name, "_haste_new", |name| {
                        [history, desired].iter().any(|schema| {
                            schema.indexes.iter().any(|i| i.schema == old.schema && i.name == name)
                                || schema.tables.iter().any(|t| {
                                    t.schema == old.schema
                                        && (t.name == name || t.constraints.iter().any(|c| c.name == name))
                                })
                        }) || parked.iter().any(|p| p.schema == old.schema && p.temporary == name)
                    }),
                    name: old.name.clone(),
                });
            }
        }
    }
    let mut middle = with_parked_names(desired, &parked);
    for column in moved {
        let find = |tables: &[Table]| {
            tables.iter().position(|t| t.schema == column.schema && t.name == column.table)
        };
        let (Some(at), Some(was)) = (find(&middle.tables), find(&history.tables)) else { continue };
        let old_table = &history.tables[was];
        let table = &mut middle.tables[at];
        // Between the releases the new column is nullable and has no default: the sync
        // trigger tells a value the writer gave it (the new release's) from one it lacks by
        // `NULL` alone, which a default filling it on INSERT would hide. The one default lives
        // on the old column (the desired one if the old column had none), so whichever release
        // leaves the column out gets it, evaluated once; the contract moves it to the new column.
        let mut desired_default = None;
        if let Some(new) = table.columns.iter_mut().find(|c| c.name == column.new) {
            new.not_null = false;
            desired_default = new.default.take();
        }
        if let Some(old) = old_table.columns.iter().find(|c| c.name == column.old) {
            let mut old = old.clone();
            if old.default.is_none() && old.identity.is_none() && old.generated.is_none() {
                old.default = desired_default;
            }
            table.columns.push(old);
        }
        for constraint in &old_table.constraints {
            if !table.constraints.iter().any(|c| c.name == constraint.name) {
                table.constraints.push(constraint.clone());
            }
        }
        table.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        // The old release keeps its indexes until the contract.
        for index in history.indexes.iter().filter(|i| i.schema == column.schema && i.table == column.table) {
            if !middle.indexes.iter().any(|i| i.schema == index.schema && i.name == index.name) {
                middle.indexes.push(index.clone());
            }
        }
    }
    keep_old_views(history, &mut middle, moved);
    (middle, parked)
}

/// The old release reads the views over a moved column by the old column's name: between the
/// releases they keep history's definitions, as do the views over them (and a view the desired
/// schema drops), and a new view over one of those waits for the contract, which creates them
/// all as the desired schema has them. Recreated in the expand, they would fail the old
/// release's queries from the first deploy.
fn keep_old_views(history: &Schema, middle: &mut Schema, moved: &[Moved]) {
    let reads = |view: &haste_schema::View, names: &[&str]| {
        haste_sql::reads(&view.definition)
            .is_none_or(|reads| reads.relations.iter().any(|relation| names.contains(&relation.as_str())))
    };
    // By name alone: a view kept that needed not be is only recreated a release later.
    let mut read: Vec<&str> = moved.iter().map(|column| column.table.as_str()).collect();
    let mut kept: Vec<&haste_schema::View> = Vec::new();
    // Creation order: a view reads only earlier ones.
    for view in &history.views {
        if reads(view, &read) {
            kept.push(view);
            read.push(&view.name);
        }
    }
    if kept.is_empty() {
        return;
    }
    let kept_names: Vec<&str> = kept.iter().map(|view| view.name.as_str()).collect();
    let old = |view: &haste_schema::View| kept.iter().any(|k| k.schema == view.schema && k.name == view.name);
    middle.views.retain(|view| old(view) || !reads(view, &kept_names));
    for view in kept {
        match middle.views.iter_mut().find(|v| v.schema == view.schema && v.name == view.name) {
            Some(middle_view) => *middle_view = view.clone(),
            None => middle.views.push(view.clone()),
        }
    }
}

/// Whether `source` drops an index that the drop of a moved column drops by itself: a plain
/// index of the moved table with the old column among its key or included columns.
fn dropped_with_column(middle: &Schema, moved: &[Moved], source: &SchemaChange) -> bool {
    let SchemaChange::DropIndex(dropped) = source else { return false };
    middle.indexes.iter().any(|index| {
        index.schema == dropped.schema
            && index.name == dropped.name
            && index.attached_to.is_none()
            && moved.iter().any(|column| {
                column.schema == index.schema
                    && column.table == index.table
                    && index.columns.iter().chain(&index.included).any(|name| *name == column.old)
            })
    })
}

/// The function of the trigger that fires first: it copies the column the writer set.
fn copy_function(column: &Moved) -> String {
    let name = format!("haste_copy_{}_{}_{}", column.table, column.old, column.new);
    qualified(&column.schema, &truncate_ident(&name, ""))
}

/// The function of the trigger that fires last: it mirrors the new column into the old one.
fn sync_function(column: &Moved) -> String {
    let name = format!("haste_sync_{}_{}_{}", column.table, column.old, column.new);
    qualified(&column.schema, &truncate_ident(&name, ""))
}

/// The setting the copy of the rows sets, in its transaction, to the table it copies: the sync
/// triggers then leave every value the application reads as it was.
const BACKFILL_SETTING: &str = "haste.rename_backfill";

/// The two triggers that keep both columns equal, whichever one a write sets, around the
/// table's own `BEFORE` triggers (installed as the desired schema has them: they read and
/// write the new column).
///
/// The first fires before them (`Moved::first_trigger`) and copies the column the writer set
/// into the other, so they see the new column filled on the old release's writes too. On
/// INSERT the new column, which has no default until the contract (`between`), holds a value
/// only when the writer gave one (the new release): it wins; otherwise the old column's value
/// (the old release's, or the default it got) fills the new one. On UPDATE a changed new
/// column wins; otherwise the old column's value (changed by the old release or not) fills it.
///
/// The last fires after them (`Moved::last_trigger`) and gives the old column the new one's
/// final value, what a trigger that normalizes it (or a `set_updated_at` setting it) wrote. In
/// the copy of the rows (marked, `retype::marked_update`), which touches each row only to fill
/// the new columns of the table (`same_table`, every column renamed there), it gives every
/// other column its value back instead: the table's own triggers fire on the copy too, and a
/// `set_updated_at` must not date every row. The depth keeps an update a user trigger makes of
/// another row as written.
fn sync_statements(column: &Moved, same_table: &[&Moved]) -> Vec<Step> {
    let (old, new) = (quote_ident(&column.old), quote_ident(&column.new));
    let table = qualified(&column.schema, &column.table);
    let copied: String = same_table
        .iter()
        .map(|other| format!("    NEW.{} := OLD.{};\n", quote_ident(&other.new), quote_ident(&other.old)))
        .collect();
    let copy_body = format!(
        "\n\
         BEGIN\n\
         \x20 IF TG_OP = 'INSERT' THEN\n\
         \x20   IF NEW.{new} IS NULL THEN NEW.{new} := NEW.{old}; ELSE NEW.{old} := NEW.{new}; END IF;\n\
         \x20 ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN\n\
         \x20   NEW.{old} := NEW.{new};\n\
         \x20 ELSE\n\
         \x20   NEW.{new} := NEW.{old};\n\
         \x20 END IF;\n\
         \x20 RETURN NEW;\n\
         END\n"
    );
    let sync_body = format!(
        "\n\
         BEGIN\n\
         \x20 IF TG_OP = 'UPDATE' AND pg_trigger_depth() = 1\n\
         \x20    AND current_setting({setting}, true) = {marked} THEN\n\
         \x20   NEW := OLD;\n\
         {copied}\
         \x20   RETURN NEW;\n\
         \x20 END IF;\n\
         \x20 NEW.{old} := NEW.{new};\n\
         \x20 RETURN NEW;\n\
         END\n",
        setting = quote_literal(BACKFILL_SETTING),
        marked = quote_literal(&table),
    );
    let mut steps = Vec::new();
    for (function, body, trigger) in [
        (copy_function(column), copy_body, &column.first_trigger),
        (sync_function(column), sync_body, &column.last_trigger),
    ] {
        let trigger = quote_ident(trigger);
        steps.push(step(
            format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS {}",
                dollar_quote(&body)
            ),
            Lock::None,
        ));
        steps.push(step(
            format!("CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"),
            Lock::ShareRowExclusive,
        ));
        steps.push(crate::retype::always_fires(&table, &trigger));
    }
    steps
}

/// The expand and contract migrations for the column renames among `renames`.
pub(crate) fn drafts(
    history: &mut Loaded,
    desired: &Schema,
    renames: &[Rename],
    name: &str,
) -> Result<Vec<Draft>, Error> {
    let (moved, in_place) = split(&history.schema, desired, renames)?;
    let mut expand = haste_diff::rename_statements(&history.schema, &in_place)?;
    history.run(&expand.iter().map(|s| s.sql.clone()).collect::<Vec<_>>())?;
    let (middle, parked) = between(&history.schema, desired, &moved);
    // A type change that would rewrite a table goes through its own expand and prepare in the
    // first release and its swap in the second, beside the contract (`generate::two_releases`):
    // the state between the releases has the new types' columns, kept filled by their trigger.
    let retypes = crate::retype::plan(&history.schema, &middle);
    if let Some((referencing, referenced)) = retypes.linked() {
        return Err(Error::LinkedRetypes { referencing, referenced });
    }
    expand.extend(haste_diff::diff(&history.schema, &retypes.held, &Options { online: true }).steps);
    let mut contract = Vec::new();
    let mut data = None;
    for column in &moved {
        let same_table: Vec<&Moved> =
            moved.iter().filter(|m| m.schema == column.schema && m.table == column.table).collect();
        expand.extend(sync_statements(column, &same_table));
        let table = qualified(&column.schema, &column.table);
        let (old, new) = (quote_ident(&column.old), quote_ident(&column.new));
        let copy = crate::retype::marked_update(
            &table,
            BACKFILL_SETTING,
            &format!("{new} = {old}"),
            &format!("{new} IS DISTINCT FROM {old}"),
        );
        let walkable = history
            .schema
            .tables
            .iter()
            .find(|t| t.schema == column.schema && t.name == column.table)
            .and_then(crate::retype::walk_key);
        match walkable.filter(|_| data.is_none()) {
            Some(key) => {
                let header = haste_migrations::data_header(&column.schema, &column.table, &key);
                let back = format!("UPDATE {table} SET {old} = {new} WHERE {old} IS DISTINCT FROM {new}");
                data = Some((
                    format!("{header}\n{copy} AND :range;\n"),
                    format!("{header}\n{back} AND :range;\n"),
                ))
            }
            None => expand.push(Step {
                sql: copy,
                lock: Lock::None,
                hazards: vec![haste_diff::Hazard::TableScan],
                alone: false,
                source: SchemaChange::Custom,
            }),
        }
        for (trigger, function) in
            [(&column.first_trigger, copy_function(column)), (&column.last_trigger, sync_function(column))]
        {
            contract.push(step(
                format!("DROP TRIGGER IF EXISTS {} ON {table}", quote_ident(trigger)),
                Lock::AccessExclusive,
            ));
            contract.push(step(format!("DROP FUNCTION IF EXISTS {function}()"), Lock::None));
        }
    }
    // The old release's indexes on an old column go with the column's drop, in the contract's
    // transaction: dropped on their own (concurrently, each committing alone) they would cut
    // the contract into statements that commit apart, and a view over the table dropped and
    // created again would be missing between them.
    let contracted =
        haste_diff::diff(&middle, &with_parked_names(desired, &parked), &Options { online: true });
    contract.extend(
        contracted.steps.into_iter().filter(|step| !dropped_with_column(&middle, &moved, &step.source)),
    );
    // The old index is gone (above); the new one takes its name.
    for park in &parked {
        contract.push(step(
            format!(
                "ALTER INDEX {} RENAME TO {}",
                qualified(&park.schema, &park.temporary),
                quote_ident(&park.name)
            ),
            Lock::ShareUpdateExclusive,
        ));
    }
    let renamed: Vec<String> =
        moved.iter().map(|m| format!("{}.{}: {} -> {}", m.schema, m.table, m.old, m.new)).collect();
    let in_place = retypes.in_place.clone();
    let retyped = match retypes.is_empty() {
        true => Vec::new(),
        false => {
            let first = Draft::empty(
                "_retype".into(),
                format!("{name} (retype): generated by haste migrate dev --expand-contract"),
            );
            retypes.drafts(first, name, 0)
        }
    };
    let mut notes = vec![
        format!("Adds the new columns, keeps them in sync with the old ones and copies the rows ({}).", renamed.join(", ")),
        "The contract migration that follows runs on a later deploy, after every application instance writes the new columns.".into(),
    ];
    notes.extend(in_place);
    let mut drafts = vec![Draft {
        suffix: String::new(),
        title: format!("{name} (expand): generated by haste migrate dev --expand-contract"),
        notes,
        up: expand,
        prisma_text: None,
        data,
        after_previous: false,
        released_with: Vec::new(),
        second_release: false,
        suggestions: Vec::new(),
        restores: Vec::new(),
        refills: Vec::new(),
        fills: Vec::new(),
        warnings: Vec::new(),
    }];
    drafts.extend(retyped);
    drafts.push(Draft {
        suffix: "_contract".into(),
        title: format!("{name} (contract): generated by haste migrate dev --expand-contract"),
        notes: vec![
            "Runs on a deploy after the one that applies the expand migration (haste:after below).".into(),
        ],
        up: contract,
        prisma_text: None,
        data: None,
        after_previous: true,
        released_with: Vec::new(),
        second_release: true,
        suggestions: Vec::new(),
        restores: moved.clone(),
        refills: Vec::new(),
        fills: Vec::new(),
        warnings: Vec::new(),
    });
    Ok(drafts)
}

/// The way back over a contract migration: the old columns return nullable, are filled from the
/// new ones (which kept every write), and only then get their `NOT NULL` back, through a
/// validated check; a plain diff would add them `NOT NULL` to a table with rows and fail.
pub(crate) fn restore_steps(current: &Schema, previous: &Schema, moved: &[Moved]) -> Vec<Step> {
    let mut relaxed = previous.clone();
    for column in moved {
        let table = relaxed.tables.iter_mut().find(|t| t.schema == column.schema && t.name == column.table);
        if let Some(old) = table.and_then(|t| t.columns.iter_mut().find(|c| c.name == column.old)) {
            old.not_null = false;
        }
    }
    let online = Options { online: true };
    let mut steps = haste_diff::diff(current, &relaxed, &online).steps;
    // One update a table, every old column of it at once: the copy triggers are back, and one
    // of them would give a new column that an update left as it was the value of its old one,
    // still empty (`NULL`) until its own turn.
    let mut tables: Vec<(&str, &str)> = Vec::new();
    for column in moved {
        if !tables.contains(&(column.schema.as_str(), column.table.as_str())) {
            tables.push((&column.schema, &column.table));
        }
    }
    for (schema, table) in tables {
        let pairs: Vec<(String, String)> = moved
            .iter()
            .filter(|column| column.schema == schema && column.table == table)
            .map(|column| (quote_ident(&column.old), quote_ident(&column.new)))
            .collect();
        let assignments: Vec<String> = pairs.iter().map(|(old, new)| format!("{old} = {new}")).collect();
        let differing: Vec<String> =
            pairs.iter().map(|(old, new)| format!("{old} IS DISTINCT FROM {new}")).collect();
        steps.push(Step {
            sql: format!(
                "UPDATE {} SET {} WHERE {}",
                qualified(schema, table),
                assignments.join(", "),
                differing.join(" OR ")
            ),
            lock: Lock::None,
            hazards: vec![haste_diff::Hazard::TableScan],
            alone: false,
            source: SchemaChange::Custom,
        });
    }
    steps.extend(haste_diff::diff(&relaxed, previous, &online).steps);
    steps
}

/// Whether a step carrying `source` drops a column that `down.sql` fills again, so no data is
/// lost for good.
pub(crate) fn restored(moved: &[Moved], source: &SchemaChange) -> bool {
    let SchemaChange::DropColumn(dropped) = source else { return false };
    moved.iter().any(|column| {
        (&dropped.schema, &dropped.table, &dropped.name) == (&column.schema, &column.table, &column.old)
    })
}
