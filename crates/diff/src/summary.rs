//! What differs between two schemas, object by object, for people: drift reports and the
//! summary of a generated migration name objects, not statements. Derived from the typed
//! changes of [`compare`](crate::compare), one line per object that differs.

use std::collections::BTreeMap;

use haste_schema::{Schema, Table};
use serde::Serialize;

use crate::compare::{Comparison, ObjectChange, Pair, TableChange, compare};

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only on the `to` side.
    Added,
    /// Only on the `from` side.
    Removed,
    /// On both sides, different.
    Changed,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// How.
    pub kind: ChangeKind,
    /// `table`, `column`, `index`, ...
    pub object: &'static str,
    /// Its qualified name (`schema.table.column` for a column or constraint).
    pub name: String,
}

/// Every object that differs from `from` to `to`; columns and constraints of tables on both
/// sides are listed one by one rather than as a changed table.
pub fn changes(from: &Schema, to: &Schema) -> Vec<Change> {
    compare(from, to).summary()
}

/// Where a line goes: by kind of object; a table's lines by the table's place (those of `from`
/// in its order, then the new ones in `to`'s), then by kind of part; last, removed and changed
/// objects by name, then added ones by name.
type Place = (usize, usize, usize, bool, String);

const KINDS: [&str; 16] = [
    "schema",
    "extension",
    "enum",
    "domain",
    "type",
    "sequence",
    "table",
    "index",
    "view",
    "function",
    "trigger",
    "policy",
    "statistics",
    "privilege",
    "default privilege",
    "owner",
];

fn plain(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

impl Comparison<'_> {
    /// One line per object that differs, in the order of [`changes`].
    pub fn summary(&self) -> Vec<Change> {
        let position = |tables: &[Table]| -> BTreeMap<(String, String), usize> {
            tables.iter().enumerate().map(|(at, t)| ((t.schema.clone(), t.name.clone()), at)).collect()
        };
        let (old_places, new_places) = (position(&self.from.tables), position(&self.to.tables));
        let table_place = |table: &Table| {
            let key = (table.schema.clone(), table.name.clone());
            old_places.get(&key).copied().unwrap_or_else(|| self.from.tables.len() + new_places[&key])
        };
        let mut lines: Vec<(Place, Change)> = Vec::new();
        // `part`: the table a line is about, and where its kind of part goes among the table's.
        let mut line =
            |kind: ChangeKind, object: &'static str, name: String, part: Option<(&Table, usize)>| {
                let rank = |object: &str| KINDS.iter().position(|n| *n == object).unwrap_or(KINDS.len());
                let (kind_rank, group, part) = match part {
                    Some((table, part)) => (rank("table"), table_place(table), part),
                    None => (rank(object), 0, 0),
                };
                let place = (kind_rank, group, part, kind == ChangeKind::Added, name.clone());
                lines.push((place, Change { kind, object, name }));
            };
        for change in &self.changes {
            match change {
                ObjectChange::Add(object) => line(ChangeKind::Added, object.kind(), object.name(), None),
                ObjectChange::Drop(object) => line(ChangeKind::Removed, object.kind(), object.name(), None),
                ObjectChange::Modify { from, .. } => {
                    line(ChangeKind::Changed, from.kind(), from.name(), None)
                }
                ObjectChange::AddEnum(item) => {
                    line(ChangeKind::Added, "enum", plain(&item.schema, &item.name), None)
                }
                ObjectChange::AddEnumLabel { enum_type: item, .. }
                | ObjectChange::RebuildEnum(Pair { to: item, .. }) => {
                    line(ChangeKind::Changed, "enum", plain(&item.schema, &item.name), None)
                }
                ObjectChange::DropEnum(item) => {
                    line(ChangeKind::Removed, "enum", plain(&item.schema, &item.name), None)
                }
                ObjectChange::AddTable(table) => {
                    line(ChangeKind::Added, "table", plain(&table.schema, &table.name), Some((table, 0)))
                }
                ObjectChange::DropTable(table) => {
                    line(ChangeKind::Removed, "table", plain(&table.schema, &table.name), Some((table, 0)))
                }
                ObjectChange::ModifyTable { from: table, changes, .. } => {
                    for part in changes {
                        let (rank, kind, object, name) = table_part(table, part);
                        line(kind, object, name, Some((table, rank)));
                    }
                }
            }
        }
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<Change> = lines.into_iter().map(|(_, change)| change).collect();
        // A column changed in several ways is one changed column.
        out.dedup();
        out
    }
}

/// The line of one change in a table both sides have, after where its kind of part goes:
/// columns, constraints, storage parameters, replica identity, then the table's own settings.
fn table_part(table: &Table, change: &TableChange) -> (usize, ChangeKind, &'static str, String) {
    let member = |name: &str| plain(&plain(&table.schema, &table.name), name);
    let whole = plain(&table.schema, &table.name);
    match change {
        TableChange::AddColumn(column) => (1, ChangeKind::Added, "column", member(&column.name)),
        TableChange::DropColumn(column) => (1, ChangeKind::Removed, "column", member(&column.name)),
        TableChange::ReplaceColumn(Pair { to: column, .. })
        | TableChange::ChangeIdentity(Pair { to: column, .. })
        | TableChange::AlterColumnType(Pair { to: column, .. })
        | TableChange::ChangeColumnDefault(Pair { to: column, .. })
        | TableChange::SetNotNull(column)
        | TableChange::DropNotNull(column)
        | TableChange::ChangeColumnComment(column)
        | TableChange::ChangeColumnSettings(Pair { to: column, .. }) => {
            (1, ChangeKind::Changed, "column", member(&column.name))
        }
        TableChange::AddConstraint(constraint) => {
            (2, ChangeKind::Added, "constraint", member(&constraint.name))
        }
        TableChange::DropConstraint(constraint) => {
            (2, ChangeKind::Removed, "constraint", member(&constraint.name))
        }
        TableChange::ModifyConstraint(Pair { to, .. }) => {
            (2, ChangeKind::Changed, "constraint", member(&to.name))
        }
        TableChange::SetStorageParameter(parameter) => {
            (3, ChangeKind::Added, "storage parameter", member(&parameter.name))
        }
        TableChange::ChangeStorageParameter(parameter) => {
            (3, ChangeKind::Changed, "storage parameter", member(&parameter.name))
        }
        TableChange::ResetStorageParameter(parameter) => {
            (3, ChangeKind::Removed, "storage parameter", member(&parameter.name))
        }
        TableChange::SetReplicaIdentity => (4, ChangeKind::Changed, "replica identity of table", whole),
        TableChange::SetClusterIndex => (4, ChangeKind::Changed, "cluster index of table", whole),
        TableChange::SetRowSecurity | TableChange::ChangeTableComment | TableChange::ChangePartitioning => {
            (5, ChangeKind::Changed, "table", whole)
        }
    }
}

#[cfg(test)]
mod tests {
    use haste_schema::{Column, Schema};

    use super::{Change, ChangeKind, changes};
    use crate::fixtures::{column, table};

    fn line(kind: ChangeKind, object: &'static str, name: &str) -> Change {
        Change { kind, object, name: name.into() }
    }

    /// One line per object: a column changed in type, default and nullability is one changed
    /// column; a table's parts come before its own settings, removed before added.
    #[test]
    fn one_line_per_object_that_differs() {
        let from = Schema {
            tables: vec![table(vec![column("id", "integer"), column("gone", "text")])],
            ..Schema::default()
        };
        let mut to = from.clone();
        to.tables[0].columns = vec![
            Column { not_null: true, default: Some("0".into()), ..column("id", "bigint") },
            column("new", "text"),
        ];
        to.tables[0].row_security = true;
        assert_eq!(
            changes(&from, &to),
            [
                line(ChangeKind::Removed, "column", "crm.deals.gone"),
                line(ChangeKind::Changed, "column", "crm.deals.id"),
                line(ChangeKind::Added, "column", "crm.deals.new"),
                line(ChangeKind::Changed, "table", "crm.deals"),
            ]
        );
        assert!(changes(&to, &to).is_empty());
    }
}
