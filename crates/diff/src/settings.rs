//! Table settings that are neither columns nor constraints: storage parameters and the replica
//! identity of tables on both sides (a new table gets its parameters in `CREATE TABLE`).

use std::collections::BTreeMap;

use haste_schema::{ReplicaIdentity, Schema, StorageParameter, Table, TableKind};

use crate::builder::Builder;
use crate::compare::{TableChange, by, table_key};
use crate::{Hazard, Lock, Named, SchemaChange};

/// `RESET (...)` for the parameters `table` no longer sets, `SET (...)` for those it sets anew or
/// to another value, each at the strongest lock of its parameters.
pub(crate) fn storage_parameters(plan: &mut Builder, table: &Table, changes: &[TableChange]) {
    let source = SchemaChange::SetStorageParameters(Named::new(&table.schema, &table.name));
    let lock = |parameters: &[&StorageParameter]| {
        parameters
            .iter()
            .map(|parameter| haste_sql::storage_parameter_lock(&parameter.name))
            .max()
            .unwrap_or(Lock::None)
    };
    let (mut set, mut reset): (Vec<&StorageParameter>, Vec<&StorageParameter>) = (Vec::new(), Vec::new());
    for change in changes {
        match change {
            TableChange::SetStorageParameter(parameter) | TableChange::ChangeStorageParameter(parameter) => {
                set.push(parameter)
            }
            TableChange::ResetStorageParameter(parameter) => reset.push(parameter),
            _ => {}
        }
    }
    if !reset.is_empty() {
        let names: Vec<String> = reset.iter().map(|p| p.quoted_name()).collect();
        plan.push(
            &source,
            format!("ALTER TABLE {} RESET ({})", table.qualified_name(), names.join(", ")),
            lock(&reset),
            &[],
        );
    }
    if !set.is_empty() {
        let assignments: Vec<StorageParameter> = set.iter().map(|p| (*p).clone()).collect();
        plan.push(
            &source,
            format!(
                "ALTER TABLE {} SET ({})",
                table.qualified_name(),
                StorageParameter::assignments(&assignments)
            ),
            lock(&set),
            &[],
        );
    }
}

/// `SET UNLOGGED` or `SET LOGGED` for a table that becomes unlogged or logged again: a rewrite
/// under its lock. (A table that becomes partitioned or stops being so is refused beforehand,
/// `partitions::partitioning_refused`.)
pub(crate) fn persistence(plan: &mut Builder, old: &Table, new: &Table) {
    let setting = match (&old.kind, &new.kind) {
        (TableKind::Regular, TableKind::Unlogged) => "UNLOGGED",
        (TableKind::Unlogged, TableKind::Regular) => "LOGGED",
        _ => return,
    };
    plan.push(
        &SchemaChange::SetPersistence(Named::new(&new.schema, &new.name)),
        format!("ALTER TABLE {} SET {setting}", new.qualified_name()),
        Lock::AccessExclusive,
        &[Hazard::TableRewrite],
    );
}

/// `REPLICA IDENTITY` of every table of `to` whose identity differs from `from`'s, or whose
/// identity index the plan drops and builds again (a new index is not the identity until
/// said so). Runs after indexes and keys are built.
pub(crate) fn replica_identities(plan: &mut Builder, from: &Schema, to: &Schema) {
    let old_tables = by(&from.tables, table_key);
    let index_key = |index: &haste_schema::Index| format!("{}.{}", index.schema, index.name);
    let old_indexes = by(&from.indexes, index_key);
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        let rebuilt = match (&new.replica_identity, old) {
            (ReplicaIdentity::Index(name), Some(old)) => index_rebuilt(old, new, name, &old_indexes, to),
            _ => false,
        };
        // A new table starts with the default.
        let changed = match old {
            Some(old) => old.replica_identity != new.replica_identity,
            None => !new.replica_identity.is_default(),
        };
        if !(changed || rebuilt) {
            continue;
        }
        let source = SchemaChange::SetReplicaIdentity(Named::new(&new.schema, &new.name));
        plan.push(&source, new.replica_identity_statement(), Lock::AccessExclusive, &[]);
    }
}

/// `CLUSTER ON` of every table of `to` whose cluster index differs from `from`'s, or is one the
/// plan drops and builds again (a new index is not marked), and `SET WITHOUT CLUSTER` of a table
/// that keeps its index unmarked. Runs after indexes and keys are built.
pub(crate) fn cluster_indexes(plan: &mut Builder, from: &Schema, to: &Schema) {
    let old_tables = by(&from.tables, table_key);
    let index_key = |index: &haste_schema::Index| format!("{}.{}", index.schema, index.name);
    let old_indexes = by(&from.indexes, index_key);
    for new in &to.tables {
        let old = old_tables.get(&table_key(new));
        let rebuilt = match (&new.clustered_on, old) {
            (Some(name), Some(old)) => index_rebuilt(old, new, name, &old_indexes, to),
            _ => false,
        };
        // A new table is clustered on nothing; a dropped index takes its mark along.
        let changed = match (old.and_then(|old| old.clustered_on.as_ref()), &new.clustered_on) {
            (before, Some(after)) => before != Some(after),
            (Some(before), None) => index_kept(new, before, to),
            (None, None) => false,
        };
        if changed || rebuilt {
            let source = SchemaChange::SetClusterIndex(Named::new(&new.schema, &new.name));
            plan.push(&source, new.cluster_statement(), Lock::ShareUpdateExclusive, &[]);
        }
    }
}

/// Whether `to` still has the index (or key constraint) named `name` on `table`.
fn index_kept(table: &Table, name: &str, to: &Schema) -> bool {
    to.indexes
        .iter()
        .any(|index| index.schema == table.schema && index.table == table.name && index.name == name)
        || table.constraints.iter().any(|c| c.name == name)
}

/// Whether the index (or key constraint) named `name` on the table changes between the two
/// sides, so the plan drops it and builds it again.
fn index_rebuilt(
    old: &Table,
    new: &Table,
    name: &str,
    old_indexes: &BTreeMap<String, &haste_schema::Index>,
    to: &Schema,
) -> bool {
    let key = format!("{}.{name}", new.schema);
    let new_index = to.indexes.iter().find(|index| index.schema == new.schema && index.name == name);
    let index_changed = old_indexes.get(&key).copied() != new_index && new_index.is_some();
    let constraint = |table: &Table| table.constraints.iter().find(|c| c.name == name).cloned();
    let constraint_changed = constraint(new).is_some() && constraint(old) != constraint(new);
    index_changed || constraint_changed
}

#[cfg(test)]
mod tests {
    use haste_schema::{Constraint, ConstraintKind, Index, ReplicaIdentity, Schema, StorageParameter};

    use crate::fixtures::{column, table};
    use crate::{Lock, Named, Options, SchemaChange, diff};

    fn deals(parameters: &[(&str, &str)], identity: ReplicaIdentity) -> Schema {
        let mut deals = table(vec![column("id", "integer"), column("code", "text")]);
        deals.storage_parameters = parameters
            .iter()
            .map(|(name, value)| StorageParameter { name: (*name).into(), value: (*value).into() })
            .collect();
        deals.replica_identity = identity;
        Schema { tables: vec![deals], ..Schema::default() }
    }

    fn code_index(definition: &str) -> Index {
        Index { name: "deals_code_key".into(), ..crate::fixtures::index(definition) }
    }

    fn statements(from: &Schema, to: &Schema) -> Vec<(String, Lock)> {
        diff(from, to, &Options::default()).steps.into_iter().map(|s| (s.sql, s.lock)).collect()
    }

    /// A name, a schema pair, and the statements between them with their locks.
    type Case = (&'static str, Schema, Schema, Vec<(&'static str, Lock)>);

    /// Schema pairs and the statements between them, with their locks.
    #[test]
    fn storage_parameters_are_set_and_reset_at_their_own_lock() {
        use ReplicaIdentity::Default as Plain;
        let sue = Lock::ShareUpdateExclusive;
        let cases: Vec<Case> = vec![
            (
                "set",
                deals(&[], Plain),
                deals(&[("autovacuum_vacuum_scale_factor", "0.05"), ("fillfactor", "70")], Plain),
                vec![(
                    r#"ALTER TABLE "crm"."deals" SET ("autovacuum_vacuum_scale_factor" = '0.05', "fillfactor" = '70')"#,
                    sue,
                )],
            ),
            (
                "changed and removed",
                deals(&[("fillfactor", "70"), ("toast.autovacuum_enabled", "false")], Plain),
                deals(&[("fillfactor", "90")], Plain),
                vec![
                    (r#"ALTER TABLE "crm"."deals" RESET ("toast"."autovacuum_enabled")"#, sue),
                    (r#"ALTER TABLE "crm"."deals" SET ("fillfactor" = '90')"#, sue),
                ],
            ),
            (
                "a parameter PostgreSQL changes under ACCESS EXCLUSIVE",
                deals(&[], Plain),
                deals(&[("fillfactor", "70"), ("user_catalog_table", "true")], Plain),
                vec![(
                    r#"ALTER TABLE "crm"."deals" SET ("fillfactor" = '70', "user_catalog_table" = 'true')"#,
                    Lock::AccessExclusive,
                )],
            ),
            (
                "a new table takes them in CREATE TABLE",
                Schema::default(),
                deals(&[("fillfactor", "70")], ReplicaIdentity::Full),
                vec![
                    (
                        "CREATE TABLE \"crm\".\"deals\" (\n    \"id\" integer,\n    \"code\" text\n) WITH (\"fillfactor\" = '70')",
                        Lock::None,
                    ),
                    (r#"ALTER TABLE "crm"."deals" REPLICA IDENTITY FULL"#, Lock::AccessExclusive),
                ],
            ),
            (
                "identity back to the default",
                deals(&[], ReplicaIdentity::Nothing),
                deals(&[], Plain),
                vec![(r#"ALTER TABLE "crm"."deals" REPLICA IDENTITY DEFAULT"#, Lock::AccessExclusive)],
            ),
        ];
        for (case, from, to, expected) in cases {
            let expected: Vec<(String, Lock)> =
                expected.into_iter().map(|(s, l)| (s.to_owned(), l)).collect();
            assert_eq!(statements(&from, &to), expected, "{case}");
        }
    }

    /// `USING INDEX` comes after the index is built, and is said again when the index is built
    /// again (a new index is nobody's identity).
    #[test]
    fn an_identity_index_is_named_after_it_is_built_and_again_when_rebuilt() {
        let unique = r#"CREATE UNIQUE INDEX deals_code_key ON crm.deals USING btree (code)"#;
        let mut from = deals(&[], ReplicaIdentity::Default);
        from.tables[0].columns[1].not_null = true;
        let mut to = from.clone();
        to.indexes = vec![code_index(unique)];
        to.tables[0].replica_identity = ReplicaIdentity::Index("deals_code_key".into());
        let steps = diff(&from, &to, &Options::default()).steps;
        let sources: Vec<&SchemaChange> = steps.iter().map(|s| &s.source).collect();
        let named = Named::new("crm", "deals_code_key");
        let table = Named::new("crm", "deals");
        assert_eq!(
            sources,
            [&SchemaChange::CreateIndex(named), &SchemaChange::SetReplicaIdentity(table.clone())]
        );
        assert_eq!(
            steps[1].sql,
            r#"ALTER TABLE "crm"."deals" REPLICA IDENTITY USING INDEX "deals_code_key""#
        );

        let mut rebuilt = to.clone();
        rebuilt.indexes = vec![code_index(&unique.replace("(code)", "(code DESC)"))];
        let again = diff(&to, &rebuilt, &Options::default()).steps;
        assert_eq!(again.last().map(|s| &s.source), Some(&SchemaChange::SetReplicaIdentity(table.clone())));
        assert!(diff(&to, &to.clone(), &Options::default()).steps.is_empty());

        // A unique key's index: the same when the constraint is added again.
        let keyed = |definition: &str| {
            let mut schema = from.clone();
            schema.tables[0].constraints =
                vec![Constraint::new("deals_code_key", ConstraintKind::Unique, definition)];
            schema.tables[0].replica_identity = ReplicaIdentity::Index("deals_code_key".into());
            schema
        };
        let steps = diff(&keyed("UNIQUE (code)"), &keyed("UNIQUE (code, id)"), &Options::default()).steps;
        assert_eq!(steps.last().map(|s| &s.source), Some(&SchemaChange::SetReplicaIdentity(table)));
    }
}
