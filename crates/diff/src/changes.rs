//! What differs between two schemas, object by object, for people: drift reports and the
//! summary of a generated migration name objects, not statements.

use std::collections::BTreeMap;

use haste_schema::Schema;
use serde::Serialize;

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

fn compare<T: PartialEq>(
    out: &mut Vec<Change>,
    object: &'static str,
    from: &[T],
    to: &[T],
    key: impl Fn(&T) -> String,
) {
    let old: BTreeMap<String, &T> = from.iter().map(|item| (key(item), item)).collect();
    let new: BTreeMap<String, &T> = to.iter().map(|item| (key(item), item)).collect();
    for (name, item) in &old {
        match new.get(name) {
            None => out.push(Change { kind: ChangeKind::Removed, object, name: name.clone() }),
            Some(other) if *other != *item => {
                out.push(Change { kind: ChangeKind::Changed, object, name: name.clone() })
            }
            Some(_) => {}
        }
    }
    for name in new.keys().filter(|name| !old.contains_key(*name)) {
        out.push(Change { kind: ChangeKind::Added, object, name: name.clone() });
    }
}

/// Every object that differs from `from` to `to`; columns and constraints of tables on both
/// sides are listed one by one rather than as a changed table.
pub fn changes(from: &Schema, to: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    let plain = |schema: &str, name: &str| format!("{schema}.{name}");
    compare(&mut out, "schema", &from.schemas, &to.schemas, |n| n.name.clone());
    compare(&mut out, "extension", &from.extensions, &to.extensions, |e| e.name.clone());
    compare(&mut out, "enum", &from.enums, &to.enums, |e| plain(&e.schema, &e.name));
    compare(&mut out, "domain", &from.domains, &to.domains, |d| plain(&d.schema, &d.name));
    compare(&mut out, "type", &from.composites, &to.composites, |c| plain(&c.schema, &c.name));
    let free = |s: &&haste_schema::Sequence| !s.identity && s.owned_by.is_none();
    let (old_sequences, new_sequences): (Vec<_>, Vec<_>) =
        (from.sequences.iter().filter(free).collect(), to.sequences.iter().filter(free).collect());
    compare(&mut out, "sequence", &old_sequences, &new_sequences, |s| plain(&s.schema, &s.name));
    let table_names = |schema: &Schema| -> Vec<String> {
        schema.tables.iter().map(|t| plain(&t.schema, &t.name)).collect()
    };
    let (old_names, new_names) = (table_names(from), table_names(to));
    for (name, table) in old_names.iter().zip(&from.tables) {
        if !new_names.contains(name) {
            out.push(Change { kind: ChangeKind::Removed, object: "table", name: name.clone() });
            continue;
        }
        let other = &to.tables[new_names.iter().position(|n| n == name).expect("checked above")];
        let member = |t: &haste_schema::Table, c: &str| plain(&plain(&t.schema, &t.name), c);
        compare(&mut out, "column", &table.columns, &other.columns, |c| member(table, &c.name));
        compare(&mut out, "constraint", &table.constraints, &other.constraints, |c| member(table, &c.name));
        compare(&mut out, "storage parameter", &table.storage_parameters, &other.storage_parameters, |p| {
            member(table, &p.name)
        });
        if table.replica_identity != other.replica_identity {
            out.push(Change {
                kind: ChangeKind::Changed,
                object: "replica identity of table",
                name: name.clone(),
            });
        }
        let settings = |t: &haste_schema::Table| {
            (t.kind.clone(), t.partition_of.clone(), t.comment.clone(), t.row_security, t.force_row_security)
        };
        if settings(table) != settings(other) {
            out.push(Change { kind: ChangeKind::Changed, object: "table", name: name.clone() });
        }
    }
    for name in new_names.iter().filter(|name| !old_names.contains(name)) {
        out.push(Change { kind: ChangeKind::Added, object: "table", name: name.clone() });
    }
    compare(&mut out, "index", &from.indexes, &to.indexes, |i| plain(&i.schema, &i.name));
    compare(&mut out, "view", &from.views, &to.views, |v| plain(&v.schema, &v.name));
    compare(&mut out, "function", &from.functions, &to.functions, |f| f.signature.clone());
    compare(&mut out, "trigger", &from.triggers, &to.triggers, |t| {
        plain(&plain(&t.schema, &t.table), &t.name)
    });
    compare(&mut out, "policy", &from.policies, &to.policies, |p| {
        plain(&plain(&p.schema, &p.table), &p.name)
    });
    compare(&mut out, "statistics", &from.statistics, &to.statistics, |s| plain(&s.schema, &s.name));
    compare(&mut out, "privilege", &from.privileges, &to.privileges, |p| {
        let object = match (p.object, &p.column) {
            (haste_schema::PrivilegeObject::Schema, _) => p.schema.clone(),
            (haste_schema::PrivilegeObject::Function, _) => p.name.clone(),
            (_, Some(column)) => plain(&plain(&p.schema, &p.name), column),
            (_, None) => plain(&p.schema, &p.name),
        };
        format!("{} on {object} for {}", p.privilege, p.grantee)
    });
    compare(&mut out, "default privilege", &from.default_privileges, &to.default_privileges, |p| {
        let schema = p.schema.as_deref().map(|s| format!(" in {s}")).unwrap_or_default();
        let objects = format!("{:?}", p.objects).to_lowercase();
        format!("{} on new {objects}{schema} for {}", p.privilege, p.grantee)
    });
    out
}
