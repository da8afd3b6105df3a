//! The comparison stage: what differs between two schemas, as typed values that hold the objects
//! of both sides by reference. Nothing here formats SQL; the planner (`plan.rs`) turns these
//! values into statements and the summary (`summary.rs`) into lines for people.
//!
//! One function per object kind. Objects are matched by name; a table on both sides is one
//! [`ObjectChange::ModifyTable`] listing its [`TableChange`]s. Order: by object kind (schemas,
//! extensions, enums, domains, composite types, sequences, tables, indexes, views, functions,
//! triggers, policies, statistics, privileges, default privileges, owners, comments); the planner puts the changes
//! in an order PostgreSQL accepts, phase by phase.

use std::collections::BTreeMap;

use haste_schema::{
    Collation, Column, Comment, CommentObject, Composite, Constraint, DefaultPrivilege, Domain, Enum,
    Extension, Function, Index, Namespace, OwnedObject, Owner, Policy, Privilege, PrivilegeObject, Range,
    Rule, Schema, Sequence, Statistics, StorageParameter, Table, Trigger, View, qualified,
};

/// Two schemas and the changes from one to the other.
#[derive(Debug)]
pub struct Comparison<'a> {
    /// The schema the changes start from.
    pub from: &'a Schema,
    /// The schema they reach.
    pub to: &'a Schema,
    /// What differs, object by object.
    pub changes: Vec<ObjectChange<'a>>,
}

impl<'a> Comparison<'a> {
    /// The objects of one kind (`kind` picks them out) that `to` adds or holds changed, in their
    /// new form, in the order of the changes.
    pub(crate) fn added_or_changed<T: 'a>(
        &self,
        kind: impl Fn(Object<'a>) -> Option<&'a T>,
    ) -> impl Iterator<Item = &'a T> {
        self.picked(kind, |change| match change {
            ObjectChange::Add(new) | ObjectChange::Modify { to: new, .. } => Some(*new),
            _ => None,
        })
    }

    /// The objects of one kind that `from` holds and `to` drops or holds changed, in their old
    /// form.
    pub(crate) fn dropped_or_changed<T: 'a>(
        &self,
        kind: impl Fn(Object<'a>) -> Option<&'a T>,
    ) -> impl Iterator<Item = &'a T> {
        self.picked(kind, |change| match change {
            ObjectChange::Drop(old) | ObjectChange::Modify { from: old, .. } => Some(*old),
            _ => None,
        })
    }

    /// The objects of one kind that `to` no longer holds.
    pub(crate) fn dropped<T: 'a>(
        &self,
        kind: impl Fn(Object<'a>) -> Option<&'a T>,
    ) -> impl Iterator<Item = &'a T> {
        self.picked(kind, |change| match change {
            ObjectChange::Drop(old) => Some(*old),
            _ => None,
        })
    }

    /// The objects `side` takes from each change, of the kind `kind` picks out.
    fn picked<T: 'a>(
        &self,
        kind: impl Fn(Object<'a>) -> Option<&'a T>,
        side: fn(&ObjectChange<'a>) -> Option<Object<'a>>,
    ) -> impl Iterator<Item = &'a T> {
        self.changes.iter().filter_map(move |change| side(change).and_then(&kind))
    }
}

/// An object of a kind whose changes are only added, dropped or modified as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object<'a> {
    /// A schema.
    Schema(&'a Namespace),
    /// An extension.
    Extension(&'a Extension),
    /// A collation.
    Collation(&'a Collation),
    /// A domain.
    Domain(&'a Domain),
    /// A composite type.
    Composite(&'a Composite),
    /// A range type.
    Range(&'a Range),
    /// A sequence no column owns (identity and serial sequences come with their column).
    Sequence(&'a Sequence),
    /// An index.
    Index(&'a Index),
    /// A view.
    View(&'a View),
    /// A function or procedure.
    Function(&'a Function),
    /// A trigger.
    Trigger(&'a Trigger),
    /// A row-level security policy.
    Policy(&'a Policy),
    /// A rule.
    Rule(&'a Rule),
    /// A statistics object.
    Statistics(&'a Statistics),
    /// A privilege.
    Privilege(&'a Privilege),
    /// A default privilege.
    DefaultPrivilege(&'a DefaultPrivilege),
    /// The owner of an object, when owners are compared.
    Owner(&'a Owner),
    /// A comment on an object other than a schema, table or table column.
    Comment(&'a Comment),
}

impl Object<'_> {
    /// What people call the kind: `schema`, `index`, `default privilege`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Schema(_) => "schema",
            Object::Extension(_) => "extension",
            Object::Collation(_) => "collation",
            Object::Domain(_) => "domain",
            Object::Composite(_) | Object::Range(_) => "type",
            Object::Sequence(_) => "sequence",
            Object::Index(_) => "index",
            Object::View(_) => "view",
            Object::Function(_) => "function",
            Object::Trigger(_) => "trigger",
            Object::Policy(_) => "policy",
            Object::Rule(_) => "rule",
            Object::Statistics(_) => "statistics",
            Object::Privilege(_) => "privilege",
            Object::DefaultPrivilege(_) => "default privilege",
            Object::Owner(_) => "owner",
            Object::Comment(_) => "comment",
        }
    }

    /// The name that matches it with its counterpart on the other side, as people read it
    /// (`schema.name`, a function's signature, `SELECT on crm.deals for app_ro`).
    pub fn name(&self) -> String {
        let plain = |schema: &str, name: &str| format!("{schema}.{name}");
        match self {
            Object::Schema(namespace) => namespace.name.clone(),
            Object::Extension(extension) => extension.name.clone(),
            Object::Collation(collation) => plain(&collation.schema, &collation.name),
            Object::Domain(domain) => plain(&domain.schema, &domain.name),
            Object::Composite(composite) => plain(&composite.schema, &composite.name),
            Object::Range(range) => plain(&range.schema, &range.name),
            Object::Sequence(sequence) => plain(&sequence.schema, &sequence.name),
            Object::Index(index) => plain(&index.schema, &index.name),
            Object::View(view) => plain(&view.schema, &view.name),
            Object::Function(function) => function.signature.clone(),
            Object::Trigger(trigger) => plain(&plain(&trigger.schema, &trigger.table), &trigger.name),
            Object::Policy(policy) => plain(&plain(&policy.schema, &policy.table), &policy.name),
            Object::Rule(rule) => plain(&plain(&rule.schema, &rule.table), &rule.name),
            Object::Statistics(statistics) => plain(&statistics.schema, &statistics.name),
            Object::Privilege(privilege) => {
                let object = match (privilege.object, &privilege.column) {
                    (PrivilegeObject::Schema, _) => privilege.schema.clone(),
                    (PrivilegeObject::Function, _) => privilege.name.clone(),
                    (_, Some(column)) => plain(&plain(&privilege.schema, &privilege.name), column),
                    (_, None) => plain(&privilege.schema, &privilege.name),
                };
                format!("{} on {object} for {}", privilege.privilege, privilege.grantee)
            }
            Object::DefaultPrivilege(privilege) => {
                let schema = privilege.schema.as_deref().map(|s| format!(" in {s}")).unwrap_or_default();
                let objects = format!("{:?}", privilege.objects).to_lowercase();
                let role = privilege.role.as_deref().map(|r| format!(" of {r}")).unwrap_or_default();
                format!("{} on new {objects}{role}{schema} for {}", privilege.privilege, privilege.grantee)
            }
            Object::Owner(owner) => {
                let relation = |kind: &str| format!("{kind} {}", plain(&owner.schema, &owner.name));
                match owner.object {
                    OwnedObject::Schema => format!("schema {}", owner.schema),
                    OwnedObject::Function => format!("function {}", owner.name),
                    OwnedObject::Table => relation("table"),
                    OwnedObject::View => relation("view"),
                    OwnedObject::MaterializedView => relation("materialized view"),
                    OwnedObject::Sequence => relation("sequence"),
                    OwnedObject::Type => relation("type"),
                    OwnedObject::Domain => relation("domain"),
                }
            }
            Object::Comment(comment) => {
                let object = format!("{:?}", comment.object).to_lowercase();
                let part = comment.part.as_deref().map(|part| format!(".{part}")).unwrap_or_default();
                match comment.object {
                    CommentObject::Function => format!("on {object} {}", comment.name),
                    _ => format!("on {object} {}{part}", plain(&comment.schema, &comment.name)),
                }
            }
        }
    }
}

/// An object as each side has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a, T> {
    /// As `from` has it.
    pub from: &'a T,
    /// As `to` has it.
    pub to: &'a T,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectChange<'a> {
    /// Only `to` has it.
    Add(Object<'a>),
    /// Only `from` has it.
    Drop(Object<'a>),
    /// Both have it, different.
    Modify {
        /// As `from` has it.
        from: Object<'a>,
        /// As `to` has it.
        to: Object<'a>,
    },
    /// A new enum.
    AddEnum(&'a Enum),
    /// A label added to an enum whose other labels stay in order (`ADD VALUE`).
    AddEnumLabel {
        /// The enum, as `to` has it.
        enum_type: &'a Enum,
        /// The label, unquoted.
        label: &'a str,
        /// The label it goes before, when it is not the last.
        before: Option<&'a str>,
    },
    /// An enum that lost labels or changed their order, which only a new type can make.
    RebuildEnum(Pair<'a, Enum>),
    /// An enum only `from` has.
    DropEnum(&'a Enum),
    /// A new table (or partition), with its columns and constraints.
    AddTable(&'a Table),
    /// A table only `from` has.
    DropTable(&'a Table),
    /// A table both have, with what differs in it.
    ModifyTable {
        /// As `from` has it.
        from: &'a Table,
        /// As `to` has it.
        to: &'a Table,
        /// Its columns first (dropped in `from`'s order, then the others in `to`'s), then
        /// constraints, storage parameters, replica identity and settings.
        changes: Vec<TableChange<'a>>,
    },
}

/// What differs in a table both sides have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableChange<'a> {
    /// A column only `to` has.
    AddColumn(&'a Column),
    /// A column only `from` has.
    DropColumn(&'a Column),
    /// A column whose generation expression changes, which only dropping and adding it again
    /// can make.
    ReplaceColumn(Pair<'a, Column>),
    /// A column's identity added, changed (`ALWAYS`, `BY DEFAULT`) or dropped, in place. An
    /// identity dropped comes before the column's default change, one added after it and after
    /// `SET NOT NULL` (PostgreSQL wants neither a default nor nulls under an identity).
    ChangeIdentity(Pair<'a, Column>),
    /// A column's type or collation.
    AlterColumnType(Pair<'a, Column>),
    /// A column's default.
    ChangeColumnDefault(Pair<'a, Column>),
    /// A column becomes `NOT NULL`.
    SetNotNull(&'a Column),
    /// A column becomes nullable.
    DropNotNull(&'a Column),
    /// A column's comment.
    ChangeColumnComment(&'a Column),
    /// A column's statistics target, storage or compression (`ALTER COLUMN ... SET ...`).
    ChangeColumnSettings(Pair<'a, Column>),
    /// A constraint only `to` has.
    AddConstraint(&'a Constraint),
    /// A constraint only `from` has.
    DropConstraint(&'a Constraint),
    /// A constraint both have by name, different.
    ModifyConstraint(Pair<'a, Constraint>),
    /// A storage parameter only `to` sets.
    SetStorageParameter(&'a StorageParameter),
    /// A storage parameter `to` sets to another value.
    ChangeStorageParameter(&'a StorageParameter),
    /// A storage parameter only `from` sets.
    ResetStorageParameter(&'a StorageParameter),
    /// The replica identity.
    SetReplicaIdentity,
    /// The index `CLUSTER` orders it by.
    SetClusterIndex,
    /// Row-level security enabled or disabled, forced or not.
    SetRowSecurity,
    /// The table's own comment.
    ChangeTableComment,
    /// Its partitioning: partitioned or not, by which key, of which parent, for which values.
    /// No statement changes it: it is listed, never planned.
    ChangePartitioning,
}

/// Objects keyed by name, for matching the two sides.
pub(crate) fn by<T>(items: &[T], key: impl Fn(&T) -> String) -> BTreeMap<String, &T> {
    items.iter().map(|item| (key(item), item)).collect()
}

pub(crate) fn table_key(table: &Table) -> String {
    qualified(&table.schema, &table.name)
}

fn enum_key(item: &Enum) -> String {
    qualified(&item.schema, &item.name)
}

/// Whether a column's type or collation changes (`ALTER COLUMN ... TYPE`).
pub(crate) fn retyped(old: &Column, new: &Column) -> bool {
    old.data_type != new.data_type || old.collation != new.collation
}

/// Whether a column changes in a way only dropping and adding it again can make: its generation
/// expression (an identity is added, changed and dropped in place, keeping the rows).
pub(crate) fn replaced(old: &Column, new: &Column) -> bool {
    old.generated != new.generated
}

/// Every change from `from` to `to`.
pub fn compare<'a>(from: &'a Schema, to: &'a Schema) -> Comparison<'a> {
    let mut changes = Vec::new();
    let out = &mut changes;
    objects(out, from.schemas.iter().map(Object::Schema), to.schemas.iter().map(Object::Schema));
    objects(out, from.extensions.iter().map(Object::Extension), to.extensions.iter().map(Object::Extension));
    objects(out, from.collations.iter().map(Object::Collation), to.collations.iter().map(Object::Collation));
    enums(out, from, to);
    objects(out, from.domains.iter().map(Object::Domain), to.domains.iter().map(Object::Domain));
    objects(out, from.composites.iter().map(Object::Composite), to.composites.iter().map(Object::Composite));
    objects(out, from.ranges.iter().map(Object::Range), to.ranges.iter().map(Object::Range));
    sequences(out, from, to);
    tables(out, from, to);
    objects(out, from.indexes.iter().map(Object::Index), to.indexes.iter().map(Object::Index));
    objects(out, from.views.iter().map(Object::View), to.views.iter().map(Object::View));
    objects(out, from.functions.iter().map(Object::Function), to.functions.iter().map(Object::Function));
    objects(out, from.triggers.iter().map(Object::Trigger), to.triggers.iter().map(Object::Trigger));
    objects(out, from.policies.iter().map(Object::Policy), to.policies.iter().map(Object::Policy));
    objects(out, from.rules.iter().map(Object::Rule), to.rules.iter().map(Object::Rule));
    objects(
        out,
        from.statistics.iter().map(Object::Statistics),
        to.statistics.iter().map(Object::Statistics),
    );
    objects(out, from.privileges.iter().map(Object::Privilege), to.privileges.iter().map(Object::Privilege));
    let defaults = |schema: &'a Schema| schema.default_privileges.iter().map(Object::DefaultPrivilege);
    objects(out, defaults(from), defaults(to));
    objects(out, from.owners.iter().map(Object::Owner), to.owners.iter().map(Object::Owner));
    objects(out, from.comments.iter().map(Object::Comment), to.comments.iter().map(Object::Comment));
    Comparison { from, to, changes }
}

/// Objects matched by [`Object::name`]: those `from` has (dropped or modified), then those only
/// `to` has, each in name order.
fn objects<'a>(
    out: &mut Vec<ObjectChange<'a>>,
    from: impl Iterator<Item = Object<'a>>,
    to: impl Iterator<Item = Object<'a>>,
) {
    // Keyed as the summary always matched them: of two objects with one name, the later.
    let old: BTreeMap<String, Object<'a>> = from.map(|item| (item.name(), item)).collect();
    let new: BTreeMap<String, Object<'a>> = to.map(|item| (item.name(), item)).collect();
    for (name, item) in &old {
        match new.get(name) {
            None => out.push(ObjectChange::Drop(*item)),
            Some(other) if other != item => out.push(ObjectChange::Modify { from: *item, to: *other }),
            Some(_) => {}
        }
    }
    for (name, item) in &new {
        if !old.contains_key(name) {
            out.push(ObjectChange::Add(*item));
        }
    }
}

/// Sequences. One no column owns comes and goes on its own; a serial column's comes and goes with
/// its column, an identity column's with its identity. On both sides, a sequence is modified when
/// its type, options or owning column change; an identity column's (matched by its column, its
/// name is PostgreSQL's choice) when its options do.
fn sequences<'a>(out: &mut Vec<ObjectChange<'a>>, from: &'a Schema, to: &'a Schema) {
    let key = |s: &Sequence| qualified(&s.schema, &s.name);
    let plain = |schema: &'a Schema| by(&schema.sequences, key).into_iter().filter(|(_, s)| !s.identity);
    let (old_sequences, new_sequences): (BTreeMap<_, _>, BTreeMap<_, _>) =
        (plain(from).collect(), plain(to).collect());
    for (name, old) in &old_sequences {
        match new_sequences.get(name) {
            Some(new) if new != old => {
                out.push(ObjectChange::Modify { from: Object::Sequence(old), to: Object::Sequence(new) })
            }
            // An owned one goes with its column, unless the column stays.
            None if old.owned_by.as_ref().is_none_or(|owner| column_stays(to, &old.schema, owner)) => {
                out.push(ObjectChange::Drop(Object::Sequence(old)))
            }
            _ => {}
        }
    }
    for (name, new) in &new_sequences {
        if new.owned_by.is_none() && !old_sequences.contains_key(name) {
            out.push(ObjectChange::Add(Object::Sequence(new)));
        }
    }
    for old in from.sequences.iter().filter(|s| s.identity && s.owned_by.is_some()) {
        let new = identity_sequence(to, &old.schema, old.owned_by.as_ref());
        if let Some(new) = new.filter(|new| !new.changed_options(old).is_empty()) {
            out.push(ObjectChange::Modify { from: Object::Sequence(old), to: Object::Sequence(new) });
        }
    }
}

/// Whether `schema` has column `owner` (table, column) in `namespace`.
fn column_stays(schema: &Schema, namespace: &str, (table, column): &(String, String)) -> bool {
    schema
        .tables
        .iter()
        .any(|t| t.schema == namespace && t.name == *table && t.columns.iter().any(|c| c.name == *column))
}

/// The identity sequence of column `owner` (table, column) in `schema`.
pub(crate) fn identity_sequence<'a>(
    schema: &'a Schema,
    namespace: &str,
    owner: Option<&(String, String)>,
) -> Option<&'a Sequence> {
    schema.sequences.iter().find(|s| s.identity && s.schema == namespace && s.owned_by.as_ref() == owner)
}

/// The functions of `from` that the plan drops to create again: `to` has one of the same
/// signature whose result, or arguments' names or defaults, differ ([`Function::interface_changes`],
/// which `CREATE OR REPLACE` refuses).
pub(crate) fn recreated_functions<'a>(from: &'a Schema, to: &Schema) -> Vec<&'a Function> {
    from.functions
        .iter()
        .filter(|old| {
            to.functions.iter().any(|new| new.signature == old.signature && old.interface_changes(new))
        })
        .collect()
}

/// Whether `old`'s labels all survive in `new`, in the same order (so they can be extended).
fn only_grows(old: &Enum, new: &Enum) -> bool {
    let kept: Vec<&String> = new.values.iter().filter(|v| old.values.contains(v)).collect();
    kept.len() == old.values.len() && kept.iter().zip(&old.values).all(|(a, b)| *a == b)
}

/// Enums in `to`'s order (new, grown label by label, or rebuilt), then those only `from` has.
fn enums<'a>(out: &mut Vec<ObjectChange<'a>>, from: &'a Schema, to: &'a Schema) {
    let old_enums = by(&from.enums, enum_key);
    for new in &to.enums {
        let Some(old) = old_enums.get(&enum_key(new)) else {
            out.push(ObjectChange::AddEnum(new));
            continue;
        };
        if !only_grows(old, new) {
            out.push(ObjectChange::RebuildEnum(Pair { from: old, to: new }));
            continue;
        }
        for (position, label) in new.values.iter().enumerate() {
            if !old.values.contains(label) {
                let before = new.values[position + 1..].iter().find(|v| old.values.contains(v));
                out.push(ObjectChange::AddEnumLabel {
                    enum_type: new,
                    label,
                    before: before.map(String::as_str),
                });
            }
        }
    }
    let new_enums = by(&to.enums, enum_key);
    for old in from.enums.iter().filter(|old| !new_enums.contains_key(&enum_key(old))) {
        out.push(ObjectChange::DropEnum(old));
    }
}

/// Tables in `from`'s order (dropped or modified), then those only `to` has, in its order.
fn tables<'a>(out: &mut Vec<ObjectChange<'a>>, from: &'a Schema, to: &'a Schema) {
    let (old_tables, new_tables) = (by(&from.tables, table_key), by(&to.tables, table_key));
    for old in &from.tables {
        let Some(new) = new_tables.get(&table_key(old)) else {
            out.push(ObjectChange::DropTable(old));
            continue;
        };
        let changes = table(old, new);
        if !changes.is_empty() {
            out.push(ObjectChange::ModifyTable { from: old, to: new, changes });
        }
    }
    for new in to.tables.iter().filter(|new| !old_tables.contains_key(&table_key(new))) {
        out.push(ObjectChange::AddTable(new));
    }
}

/// The first table (qualified, in `from`'s order) of an inheritance tree (`INHERITS`,
/// not partitions) that changes in a way the planner cannot carry out: a child or a parent that
/// both sides hold and that differs, or a parent that disappears while a child stays. Columns and `CHECK`s of a
/// parent reach its children by themselves, which the table-by-table plan does not know (it
/// would add a parent's new column to each child again, or retype a parent through a swap that
/// drops its children's column); so such a change is refused rather than planned wrong. New
/// trees and children, and dropped ones, are planned (parents are created first, dropped last).
pub fn inheritance_refused(from: &Schema, to: &Schema) -> Option<String> {
    let parent = |schema: &Schema, table: &Table| {
        schema
            .tables
            .iter()
            .any(|child| child.inherits.iter().any(|(s, n)| *s == table.schema && *n == table.name))
    };
    let involved = |schema: &Schema, table: &Table| !table.inherits.is_empty() || parent(schema, table);
    let new_tables = by(&to.tables, table_key);
    from.tables.iter().find_map(|old| {
        let refused = match new_tables.get(&table_key(old)) {
            Some(new) => *new != old && (involved(from, old) || involved(to, new)),
            // Its children would stop its drop, unless they go too (they are dropped first).
            None => from.tables.iter().any(|child| {
                child.inherits.iter().any(|(s, n)| *s == old.schema && *n == old.name)
                    && new_tables.contains_key(&table_key(child))
            }),
        };
        refused.then(|| table_key(old))
    })
}

/// What differs in a table both sides have.
pub(crate) fn table<'a>(old: &'a Table, new: &'a Table) -> Vec<TableChange<'a>> {
    let mut out = Vec::new();
    columns(&mut out, old, new);
    constraints(&mut out, old, new);
    storage_parameters(&mut out, old, new);
    if old.replica_identity != new.replica_identity {
        out.push(TableChange::SetReplicaIdentity);
    }
    if old.clustered_on != new.clustered_on {
        out.push(TableChange::SetClusterIndex);
    }
    if (old.row_security, old.force_row_security) != (new.row_security, new.force_row_security) {
        out.push(TableChange::SetRowSecurity);
    }
    if old.comment != new.comment {
        out.push(TableChange::ChangeTableComment);
    }
    if (&old.kind, &old.partition_of) != (&new.kind, &new.partition_of) {
        out.push(TableChange::ChangePartitioning);
    }
    out
}

/// Columns only `from` has, in its order; then `to`'s columns in its order, each added,
/// replaced, or changed in type, default, nullability and comment (in that order).
fn columns<'a>(out: &mut Vec<TableChange<'a>>, old: &'a Table, new: &'a Table) {
    let old_columns: BTreeMap<&str, &Column> = old.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new_columns: BTreeMap<&str, &Column> = new.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for column in old.columns.iter().filter(|c| !new_columns.contains_key(c.name.as_str())) {
        out.push(TableChange::DropColumn(column));
    }
    for column in &new.columns {
        let Some(previous) = old_columns.get(column.name.as_str()).copied() else {
            out.push(TableChange::AddColumn(column));
            continue;
        };
        if replaced(previous, column) {
            out.push(TableChange::ReplaceColumn(Pair { from: previous, to: column }));
            continue;
        }
        let identity = (previous.identity != column.identity).then_some(Pair { from: previous, to: column });
        if let Some(pair) = identity.clone().filter(|_| column.identity.is_none()) {
            out.push(TableChange::ChangeIdentity(pair));
        }
        if retyped(previous, column) {
            out.push(TableChange::AlterColumnType(Pair { from: previous, to: column }));
        }
        if previous.default != column.default {
            out.push(TableChange::ChangeColumnDefault(Pair { from: previous, to: column }));
        }
        match (previous.not_null, column.not_null) {
            (false, true) => out.push(TableChange::SetNotNull(column)),
            (true, false) => out.push(TableChange::DropNotNull(column)),
            _ => {}
        }
        if let Some(pair) = identity.filter(|_| column.identity.is_some()) {
            out.push(TableChange::ChangeIdentity(pair));
        }
        if previous.comment != column.comment {
            out.push(TableChange::ChangeColumnComment(column));
        }
        if previous.settings != column.settings {
            out.push(TableChange::ChangeColumnSettings(Pair { from: previous, to: column }));
        }
    }
}

/// Constraints only `from` has or that differ, in its order; then those only `to` has.
fn constraints<'a>(out: &mut Vec<TableChange<'a>>, old: &'a Table, new: &'a Table) {
    let find = |table: &'a Table, name: &str| table.constraints.iter().find(|c| c.name == name);
    for constraint in &old.constraints {
        match find(new, &constraint.name) {
            None => out.push(TableChange::DropConstraint(constraint)),
            Some(other) if other != constraint => {
                out.push(TableChange::ModifyConstraint(Pair { from: constraint, to: other }))
            }
            Some(_) => {}
        }
    }
    for constraint in new.constraints.iter().filter(|c| find(old, &c.name).is_none()) {
        out.push(TableChange::AddConstraint(constraint));
    }
}

/// Parameters only `from` sets, in its order; then those `to` sets anew or to another value,
/// in its order (the order of the `SET` list).
fn storage_parameters<'a>(out: &mut Vec<TableChange<'a>>, old: &'a Table, new: &'a Table) {
    let find = |table: &'a Table, name: &str| table.storage_parameters.iter().find(|p| p.name == name);
    for parameter in old.storage_parameters.iter().filter(|p| find(new, &p.name).is_none()) {
        out.push(TableChange::ResetStorageParameter(parameter));
    }
    for parameter in &new.storage_parameters {
        match find(old, &parameter.name) {
            None => out.push(TableChange::SetStorageParameter(parameter)),
            Some(previous) if previous != parameter => {
                out.push(TableChange::ChangeStorageParameter(parameter))
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use haste_schema::{Column, Constraint, ConstraintKind, Enum, Identity, Index, Schema, StorageParameter};

    use super::{Object, ObjectChange, Pair, TableChange, compare};
    use crate::fixtures::{column, table};

    fn deals(columns: Vec<Column>) -> Schema {
        Schema { tables: vec![table(columns)], ..Schema::default() }
    }

    fn stage(values: &[&str]) -> Enum {
        Enum {
            schema: "crm".into(),
            name: "stage".into(),
            values: values.iter().map(|v| (*v).into()).collect(),
        }
    }

    /// A schema pair and the changes of the one table both have, in order.
    #[test]
    fn a_table_on_both_sides_lists_what_differs_in_it() {
        let id = column("id", "integer");
        let amount = column("amount", "integer");
        let required = Column { not_null: true, default: Some("0".into()), ..column("amount", "bigint") };
        let identity = Column { identity: Some(Identity::Always), ..id.clone() };
        let doubled = Column { generated: Some("(amount * 2)".into()), ..id.clone() };
        let note = column("note", "text");
        let commented = Column { comment: Some("in cents".into()), ..note.clone() };
        let key = |definition: &str| Constraint::new("deals_amount_key", ConstraintKind::Unique, definition);
        let fill = |value: &str| StorageParameter { name: "fillfactor".into(), value: value.into() };
        let (total, nullable) = (column("total", "integer"), Column { not_null: false, ..required.clone() });
        let (old_key, new_key) = (key("UNIQUE (amount)"), key("UNIQUE (amount, id)"));
        let (seventy, ninety) = (fill("70"), fill("90"));
        let mut keyed = deals(vec![id.clone(), amount.clone()]);
        keyed.tables[0].constraints = vec![old_key.clone()];
        let mut rekeyed = keyed.clone();
        rekeyed.tables[0].constraints = vec![new_key.clone()];
        let mut filled = deals(vec![id.clone()]);
        filled.tables[0].storage_parameters = vec![seventy.clone()];
        let mut refilled = filled.clone();
        refilled.tables[0].storage_parameters = vec![ninety.clone()];
        let mut secured = deals(vec![id.clone()]);
        secured.tables[0].row_security = true;
        type Case<'a> = (&'a str, Schema, Schema, Vec<TableChange<'a>>);
        let cases: Vec<Case> = vec![
            (
                "a column dropped, another added",
                deals(vec![id.clone(), amount.clone()]),
                deals(vec![id.clone(), total.clone()]),
                vec![TableChange::DropColumn(&amount), TableChange::AddColumn(&total)],
            ),
            (
                "type, default and nullability of one column, in that order",
                deals(vec![amount.clone()]),
                deals(vec![required.clone()]),
                vec![
                    TableChange::AlterColumnType(Pair { from: &amount, to: &required }),
                    TableChange::ChangeColumnDefault(Pair { from: &amount, to: &required }),
                    TableChange::SetNotNull(&required),
                ],
            ),
            (
                "an identity, added in place",
                deals(vec![id.clone()]),
                deals(vec![identity.clone()]),
                vec![TableChange::ChangeIdentity(Pair { from: &id, to: &identity })],
            ),
            (
                "a generation expression only dropping and adding makes",
                deals(vec![id.clone()]),
                deals(vec![doubled.clone()]),
                vec![TableChange::ReplaceColumn(Pair { from: &id, to: &doubled })],
            ),
            (
                "nullable again, comment",
                deals(vec![required.clone(), commented.clone()]),
                deals(vec![nullable.clone(), note.clone()]),
                vec![TableChange::DropNotNull(&nullable), TableChange::ChangeColumnComment(&note)],
            ),
            (
                "a constraint changed by name",
                keyed.clone(),
                rekeyed.clone(),
                vec![TableChange::ModifyConstraint(Pair { from: &old_key, to: &new_key })],
            ),
            (
                "a constraint added",
                deals(vec![id.clone(), amount.clone()]),
                keyed,
                vec![TableChange::AddConstraint(&old_key)],
            ),
            (
                "a storage parameter changed",
                filled.clone(),
                refilled,
                vec![TableChange::ChangeStorageParameter(&ninety)],
            ),
            (
                "a storage parameter reset",
                filled,
                deals(vec![id.clone()]),
                vec![TableChange::ResetStorageParameter(&seventy)],
            ),
            ("row security", deals(vec![id.clone()]), secured, vec![TableChange::SetRowSecurity]),
        ];
        for (case, from, to, expected) in &cases {
            let comparison = compare(from, to);
            let [ObjectChange::ModifyTable { changes, .. }] = comparison.changes.as_slice() else {
                panic!("{case}: {:#?}", comparison.changes);
            };
            assert_eq!(changes, expected, "{case}");
        }
        assert!(compare(&cases[0].1, &cases[0].1).changes.is_empty(), "equal schemas");
    }

    /// Schema pairs and their changes, for objects other than a table's parts.
    #[test]
    fn objects_are_added_dropped_modified_and_enums_grow_or_are_rebuilt() {
        let index = |definition: &str| Index {
            schema: "crm".into(),
            name: "deals_id_idx".into(),
            table: "deals".into(),
            ..crate::fixtures::index(definition)
        };
        let with = |enums: Vec<Enum>, indexes: Vec<Index>| Schema {
            enums,
            indexes,
            ..deals(vec![column("id", "integer")])
        };
        let btree = index("CREATE INDEX deals_id_idx ON crm.deals USING btree (id)");
        let hash = index("CREATE INDEX deals_id_idx ON crm.deals USING hash (id)");
        let (open_won, open_lost_won, won_open) =
            (stage(&["open", "won"]), stage(&["open", "lost", "won", "void"]), stage(&["won", "open"]));
        let empty = Schema::default();
        let table = &deals(vec![column("id", "integer")]).tables[0];
        let cases: Vec<(&str, Schema, Schema, Vec<ObjectChange>)> = vec![
            (
                "an index added",
                with(vec![], vec![]),
                with(vec![], vec![btree.clone()]),
                vec![ObjectChange::Add(Object::Index(&btree))],
            ),
            (
                "an index changed",
                with(vec![], vec![btree.clone()]),
                with(vec![], vec![hash.clone()]),
                vec![ObjectChange::Modify { from: Object::Index(&btree), to: Object::Index(&hash) }],
            ),
            (
                "labels added, each before the label it precedes",
                with(vec![open_won.clone()], vec![]),
                with(vec![open_lost_won.clone()], vec![]),
                vec![
                    ObjectChange::AddEnumLabel {
                        enum_type: &open_lost_won,
                        label: "lost",
                        before: Some("won"),
                    },
                    ObjectChange::AddEnumLabel { enum_type: &open_lost_won, label: "void", before: None },
                ],
            ),
            (
                "labels reordered",
                with(vec![open_won.clone()], vec![]),
                with(vec![won_open.clone()], vec![]),
                vec![ObjectChange::RebuildEnum(Pair { from: &open_won, to: &won_open })],
            ),
            (
                "everything new, by kind",
                empty.clone(),
                with(vec![open_won.clone()], vec![btree.clone()]),
                vec![
                    ObjectChange::AddEnum(&open_won),
                    ObjectChange::AddTable(table),
                    ObjectChange::Add(Object::Index(&btree)),
                ],
            ),
            (
                "everything gone",
                with(vec![open_won.clone()], vec![btree.clone()]),
                empty,
                vec![
                    ObjectChange::DropEnum(&open_won),
                    ObjectChange::DropTable(table),
                    ObjectChange::Drop(Object::Index(&btree)),
                ],
            ),
        ];
        for (case, from, to, expected) in &cases {
            assert_eq!(&compare(from, to).changes, expected, "{case}");
        }
    }
}
