//! What each step of a plan carries out, as a value: code that reads a plan (down.sql notes,
//! the expand/contract recipe, the planner's own later passes) matches on it, never on the
//! statement's text. One change may take several statements (an online `SET NOT NULL` takes four),
//! each carrying it.

use haste_schema::{Comment, ConstraintKind, DefaultPrivilege, Owner, Privilege};

use crate::Renamed;

/// An object by schema and name (a function by its signature, as `regprocedure` prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
}

impl Named {
    pub(crate) fn new(schema: &str, name: &str) -> Named {
        Named { schema: schema.to_owned(), name: name.to_owned() }
    }
}

/// A part of a table: a column, constraint, trigger or policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTable {
    /// The table's schema.
    pub schema: String,
    /// The table.
    pub table: String,
    /// The part's name.
    pub name: String,
}

impl OfTable {
    pub(crate) fn new(schema: &str, table: &str, name: &str) -> OfTable {
        OfTable { schema: schema.to_owned(), table: table.to_owned(), name: name.to_owned() }
    }
}

/// One change from one schema to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaChange {
    /// `CREATE SCHEMA`.
    CreateSchema(String),
    /// `DROP SCHEMA`.
    DropSchema(String),
    /// `COMMENT ON SCHEMA` set or cleared.
    SetSchemaComment(String),
    /// `CREATE EXTENSION`.
    CreateExtension(String),
    /// `DROP EXTENSION`.
    DropExtension(String),
    /// A new enum type.
    CreateEnum(Named),
    /// A label added to an enum that keeps its others in order (`ADD VALUE`).
    AddEnumLabel {
        /// The enum.
        enum_type: Named,
        /// The label, unquoted.
        label: String,
    },
    /// An enum rebuilt because labels disappeared or moved: new type, columns converted, old
    /// type dropped.
    RebuildEnum(Named),
    /// An enum nothing declares any more.
    DropEnum(Named),
    /// A new composite type (or one created again after its old form was dropped).
    CreateComposite(Named),
    /// A composite type dropped.
    DropComposite(Named),
    /// A composite type changed in place: attributes dropped, retyped or added.
    AlterComposite(Named),
    /// A new collation (or one created again after its old form was dropped: PostgreSQL alters
    /// none of its options).
    CreateCollation(Named),
    /// A collation dropped.
    DropCollation(Named),
    /// A new range type (or one created again after its old form was dropped), with its
    /// multirange type.
    CreateRange(Named),
    /// A range type dropped, with its multirange type.
    DropRange(Named),
    /// A composite type whose attribute changes type while a table stores it, rebuilt: a type
    /// with the new attributes under a staging name, the columns converted to it, the old type
    /// dropped and the new one renamed.
    RebuildComposite(Named),
    /// A new domain (or one created again after its old form was dropped).
    CreateDomain(Named),
    /// A domain dropped.
    DropDomain(Named),
    /// A domain that keeps its base type changed in place: its default, `NOT NULL` or
    /// constraints (a changed `CHECK` added next to the old one `NOT VALID`, validated on its
    /// own, then put in its place).
    AlterDomain(Named),
    /// A domain whose base type changes, rebuilt: a domain of the new type under a staging
    /// name, the columns converted to it, the old domain dropped and the new one renamed.
    RebuildDomain(Named),
    /// A new sequence, and the column that owns it.
    CreateSequence(Named),
    /// A sequence dropped.
    DropSequence(Named),
    /// A sequence on both sides changed in place: its type and options (`ALTER SEQUENCE`), the
    /// column that owns it (`OWNED BY`); an identity column's options through its column.
    AlterSequence(Named),
    /// A new table (or partition).
    CreateTable(Named),
    /// A table dropped (and its foreign keys first).
    DropTable(Named),
    /// A table attached as a partition of its parent (`ATTACH PARTITION`, after a `DETACH` when
    /// only its bound changes).
    AttachPartition(Named),
    /// A partition detached from its parent (`DETACH PARTITION`), to stay as a table or to be
    /// attached elsewhere.
    DetachPartition(Named),
    /// A column added to a table that exists.
    AddColumn(OfTable),
    /// A column's identity added (and its sequence set past the column's values), changed
    /// between `ALWAYS` and `BY DEFAULT`, or dropped, in place: the rows stay.
    ChangeIdentity(OfTable),
    /// A column dropped (or dropped to be added again, for a generation expression changed).
    DropColumn(OfTable),
    /// A stored generated column that reads a column whose type changes, dropped before the
    /// change and added again after it (PostgreSQL refuses the change under it), with the
    /// constraints and indexes its drop took along: nothing is lost, it is computed again.
    RegenerateColumn(OfTable),
    /// A column's type or collation changed (its default dropped and set around it).
    AlterColumnType(OfTable),
    /// A column's default set or dropped.
    ChangeColumnDefault(OfTable),
    /// A column's statistics target, storage or compression set.
    ChangeColumnSettings(OfTable),
    /// `SET NOT NULL` (online: through a validated check).
    SetNotNull(OfTable),
    /// `DROP NOT NULL`.
    DropNotNull(OfTable),
    /// A constraint added (online: `NOT VALID` then validated, or a key on an index built
    /// concurrently).
    AddConstraint {
        /// The constraint.
        constraint: OfTable,
        /// What it is.
        kind: ConstraintKind,
    },
    /// A constraint dropped, to go or to be added again.
    DropConstraint(OfTable),
    /// An index built.
    CreateIndex(Named),
    /// A partition's index (named) attached to the index of its parent table, which must be
    /// built first.
    AttachIndex(Named),
    /// An index dropped, with the partitions' indexes attached to it.
    DropIndex(Named),
    /// A statistics object created.
    CreateStatistics(Named),
    /// A statistics object dropped.
    DropStatistics(Named),
    /// A view created (new, changed, or created again because it reads a column, table or view
    /// that changes).
    CreateView(Named),
    /// A view dropped.
    DropView(Named),
    /// A view's options set or reset in place (`security_barrier`, `security_invoker`,
    /// `check_option`; a materialized view's storage parameters).
    AlterView(Named),
    /// A function created or replaced.
    CreateFunction(Named),
    /// A function dropped.
    DropFunction(Named),
    /// A trigger created.
    CreateTrigger(OfTable),
    /// A trigger dropped.
    DropTrigger(OfTable),
    /// A rule created.
    CreateRule(OfTable),
    /// A rule dropped.
    DropRule(OfTable),
    /// A trigger disabled or enabled (`ENABLE REPLICA`, `ENABLE ALWAYS`).
    SetTriggerFiring(OfTable),
    /// A rule disabled or enabled (`ENABLE REPLICA`, `ENABLE ALWAYS`).
    SetRuleFiring(OfTable),
    /// A policy created.
    CreatePolicy(OfTable),
    /// A policy dropped.
    DropPolicy(OfTable),
    /// Row-level security enabled, disabled, forced or no longer forced on a table.
    SetRowSecurity(Named),
    /// Storage parameters of a table set or reset.
    SetStorageParameters(Named),
    /// A table made unlogged, or logged again.
    SetPersistence(Named),
    /// A table's replica identity set (again, when the index it names was built again).
    SetReplicaIdentity(Named),
    /// A table's cluster index set (again, when that index was built again) or unset.
    SetClusterIndex(Named),
    /// The comments of a table and its columns set or cleared.
    SetComments(Named),
    /// A comment on another object set, set again (the object was created again) or cleared:
    /// the comment, as the target has it or, cleared, as the source had it.
    SetComment(Comment),
    /// A privilege given (or a default one revoked, for a privilege marked `revoked`).
    AddPrivilege(Privilege),
    /// A privilege taken back (or a default one given back).
    RemovePrivilege(Privilege),
    /// A default privilege given (or a default revoked).
    AddDefaultPrivilege(DefaultPrivilege),
    /// A default privilege taken back.
    RemoveDefaultPrivilege(DefaultPrivilege),
    /// An object given to the role named (`ALTER ... OWNER TO`), when owners are compared.
    SetOwner(Owner),
    /// An object given back to the role running the plan (`OWNER TO CURRENT_USER`): the target
    /// records no other owner for it.
    ResetOwner(Owner),
    /// An object renamed by an explicit hint.
    Rename {
        /// What was renamed.
        target: Renamed,
        /// Its new name.
        to: String,
    },
    /// A statement written outside the planner, around a plan: the expand/contract recipe's
    /// trigger and copy, a type change's swap, a fill of new columns.
    Custom,
}

#[cfg(test)]
mod tests {
    use haste_schema::{Constraint, ConstraintKind, Enum, Schema};

    use super::{Named, OfTable, SchemaChange};
    use crate::fixtures::{column, table};
    use crate::{Options, diff};

    fn deals(columns: &[(&str, &str)]) -> Schema {
        let columns = columns.iter().map(|(name, data_type)| column(name, data_type)).collect();
        Schema { tables: vec![table(columns)], ..Schema::default() }
    }

    fn part(name: &str) -> OfTable {
        OfTable::new("crm", "deals", name)
    }

    /// A schema pair, and the change each planned statement carries, in order.
    #[test]
    fn each_statement_carries_the_change_it_makes() {
        let id_amount = deals(&[("id", "integer"), ("amount", "integer")]);
        let mut required = id_amount.clone();
        required.tables[0].columns[1].not_null = true;
        let mut keyed = id_amount.clone();
        keyed.tables[0].constraints.push(Constraint {
            columns: vec!["amount".into()],
            plain_key: true,
            ..Constraint::new("deals_amount_key", ConstraintKind::Unique, "UNIQUE (amount)")
        });
        let online = Options { online: true };
        let cases: Vec<(&str, Schema, Schema, Options, Vec<SchemaChange>)> = vec![
            (
                "drop a column",
                id_amount.clone(),
                deals(&[("id", "integer")]),
                Options::default(),
                vec![SchemaChange::DropColumn(part("amount"))],
            ),
            (
                "add a column",
                deals(&[("id", "integer")]),
                id_amount.clone(),
                Options::default(),
                vec![SchemaChange::AddColumn(part("amount"))],
            ),
            (
                "retype",
                id_amount.clone(),
                deals(&[("id", "integer"), ("amount", "bigint")]),
                online,
                vec![SchemaChange::AlterColumnType(part("amount"))],
            ),
            (
                "set not null online: check, validate, set, drop check",
                id_amount.clone(),
                required,
                online,
                vec![SchemaChange::SetNotNull(part("amount")); 4],
            ),
            (
                "a unique key online: index built concurrently, then attached",
                id_amount.clone(),
                keyed,
                online,
                vec![
                    SchemaChange::AddConstraint {
                        constraint: part("deals_amount_key"),
                        kind: ConstraintKind::Unique
                    };
                    2
                ],
            ),
            (
                "a new table",
                Schema::default(),
                id_amount,
                Options::default(),
                vec![SchemaChange::CreateTable(Named::new("crm", "deals"))],
            ),
        ];
        for (case, from, to, options, expected) in cases {
            let sources: Vec<SchemaChange> =
                diff(&from, &to, &options).steps.into_iter().map(|s| s.source).collect();
            assert_eq!(sources, expected, "{case}");
        }
    }

    /// A statement that uses a label added in the same plan runs after that label committed.
    #[test]
    fn a_use_of_a_new_label_runs_apart() {
        let stage = |values: &[&str]| Enum {
            schema: "crm".into(),
            name: "stage".into(),
            values: values.iter().map(|v| (*v).into()).collect(),
        };
        let mut from = deals(&[("id", "integer"), ("stage", "crm.stage")]);
        from.enums = vec![stage(&["open", "won"])];
        let mut to = from.clone();
        to.enums = vec![stage(&["open", "lost", "won"])];
        to.tables[0].columns[1].default = Some("'lost'::crm.stage".into());
        let steps = diff(&from, &to, &Options::default()).steps;
        let label =
            SchemaChange::AddEnumLabel { enum_type: Named::new("crm", "stage"), label: "lost".into() };
        assert_eq!(steps[0].source, label);
        assert_eq!(steps[1].source, SchemaChange::ChangeColumnDefault(part("stage")));
        assert!(!steps[0].alone && steps[1].alone, "{steps:#?}");
    }
}
