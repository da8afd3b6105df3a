//! Privileges and default privileges, granted and revoked as the target has them. An object the
//! plan creates again (a view dropped and recreated, a type rebuilt, a function dropped and
//! created for a new result, a column replaced or a
//! generated column added again around a type change) comes back with only what PostgreSQL
//! gives a new object, so every privilege the target gives it is granted again, in the same
//! transaction as its recreation: a role reading a view never finds it without its grant. An
//! object that disappears takes its privileges with it.
//!
//! "What PostgreSQL gives a new object" is the source database's default privileges (`ALTER
//! DEFAULT PRIVILEGES` of the role that runs the plan), not only the built-in defaults: a new
//! table in a database that grants `SELECT ON TABLES TO reader` by default is readable by
//! `reader` the moment it is created, so the plan revokes that where the target does not give
//! it (and grants back a built-in default the defaults revoke).

use std::collections::{BTreeSet, HashMap, HashSet};

use haste_schema::{DefaultObjects, Privilege, PrivilegeObject, Schema, Table, View, qualified};

use crate::builder::Builder;
use crate::columns::regenerated;
use crate::compare::{recreated_functions, replaced};
use crate::{Lock, SchemaChange};

/// Which object a privilege is on: the whole object (no column) or one column of it.
type ObjectKey = (PrivilegeObject, String, String, Option<String>);

fn whole(object: PrivilegeObject, schema: &str, name: &str) -> ObjectKey {
    (object, schema.to_owned(), name.to_owned(), None)
}

/// The objects of `to` this plan creates anew although `from` had them.
fn recreated(from: &Schema, to: &Schema, views: &[&View], recreated_types: &[String]) -> BTreeSet<ObjectKey> {
    let mut keys: BTreeSet<ObjectKey> =
        views.iter().map(|view| whole(PrivilegeObject::Table, &view.schema, &view.name)).collect();
    let types = to
        .enums
        .iter()
        .map(|e| (&e.schema, &e.name))
        .chain(to.composites.iter().map(|c| (&c.schema, &c.name)))
        .chain(to.ranges.iter().map(|r| (&r.schema, &r.name)))
        .chain(to.domains.iter().map(|d| (&d.schema, &d.name)))
        .filter(|(schema, name)| recreated_types.contains(&qualified(schema, name)));
    keys.extend(types.map(|(schema, name)| whole(PrivilegeObject::Type, schema, name)));
    keys.extend(
        recreated_functions(from, to)
            .into_iter()
            .map(|function| whole(PrivilegeObject::Function, &function.schema, &function.signature)),
    );
    let new_tables = Objects::of(to).tables;
    for old in &from.tables {
        let Some(new) = new_tables.get(&(old.schema.as_str(), old.name.as_str())) else {
            continue;
        };
        let regenerated = regenerated(old, new);
        for column in &new.columns {
            let dropped = old.columns.iter().any(|c| c.name == column.name && replaced(c, column))
                || regenerated.iter().any(|c| c.name == column.name);
            if dropped {
                let key = whole(PrivilegeObject::Table, &new.schema, &new.name);
                keys.insert((key.0, key.1, key.2, Some(column.name.clone())));
            }
        }
    }
    keys
}

/// The objects of `to` a plan creates: new ones and those it creates again (`recreated`'s whole
/// objects), as the default privileges see them.
fn created(from: &Schema, to: &Schema, recreated: &BTreeSet<ObjectKey>) -> Vec<(DefaultObjects, ObjectKey)> {
    let existing = Objects::of(from);
    let mut objects = Vec::new();
    let mut add = |kind: DefaultObjects, key: ObjectKey| {
        let new = !existing.has((key.0, &key.1, &key.2, key.3.as_deref()));
        if new || recreated.contains(&key) {
            objects.push((kind, key));
        }
    };
    for table in &to.tables {
        add(DefaultObjects::Tables, whole(PrivilegeObject::Table, &table.schema, &table.name));
    }
    for view in &to.views {
        add(DefaultObjects::Tables, whole(PrivilegeObject::Table, &view.schema, &view.name));
    }
    for sequence in to.sequences.iter().filter(|s| !s.identity) {
        add(DefaultObjects::Sequences, whole(PrivilegeObject::Sequence, &sequence.schema, &sequence.name));
    }
    for function in &to.functions {
        add(
            DefaultObjects::Functions,
            whole(PrivilegeObject::Function, &function.schema, &function.signature),
        );
    }
    let types = to
        .enums
        .iter()
        .map(|e| (&e.schema, &e.name))
        .chain(to.composites.iter().map(|c| (&c.schema, &c.name)))
        .chain(to.ranges.iter().map(|r| (&r.schema, &r.name)))
        .chain(to.domains.iter().map(|d| (&d.schema, &d.name)));
    for (schema, name) in types {
        add(DefaultObjects::Types, whole(PrivilegeObject::Type, schema, name));
    }
    objects
}

/// A privilege on `key`, whose grantee and privilege the caller gives.
fn on(key: &ObjectKey) -> Privilege {
    Privilege {
        object: key.0,
        schema: key.1.clone(),
        name: key.2.clone(),
        column: key.3.clone(),
        grantee: String::new(),
        privilege: String::new(),
        grantable: false,
        revoked: false,
    }
}

/// What `from`'s default privileges give an object of `kind` created by the role that runs the
/// plan: the defaults for every schema (which replace the built-in ones, so a revoked built-in
/// default is a `revoked` privilege) and those of its schema (which only add).
fn given_by_default(from: &Schema, kind: DefaultObjects, key: &ObjectKey) -> Vec<Privilege> {
    from.default_privileges
        .iter()
        .filter(|d| d.role.is_none() && d.objects == kind)
        .filter(|d| match &d.schema {
            None => true,
            Some(schema) => *schema == key.1 && !d.revoked,
        })
        .map(|d| Privilege {
            grantee: d.grantee.clone(),
            privilege: d.privilege.clone(),
            grantable: d.grantable,
            revoked: d.revoked,
            ..on(key)
        })
        .collect()
}

/// The objects of a schema privileges can be on, looked up by name: asked once per object of the
/// other side, a search of every list was quadratic (a million name comparisons at 1,000 tables).
struct Objects<'a> {
    schemas: HashSet<&'a str>,
    tables: HashMap<(&'a str, &'a str), &'a Table>,
    views: HashSet<(&'a str, &'a str)>,
    sequences: HashSet<(&'a str, &'a str)>,
    /// Function signatures (`regprocedure`), which name the schema where it is not `public`.
    functions: HashSet<&'a str>,
    /// Enums, domains, composite types and range types.
    types: HashSet<(&'a str, &'a str)>,
}

impl<'a> Objects<'a> {
    fn of(schema: &'a Schema) -> Objects<'a> {
        let pair = |schema: &'a str, name: &'a str| (schema, name);
        Objects {
            schemas: schema.schemas.iter().map(|n| n.name.as_str()).collect(),
            tables: schema.tables.iter().map(|t| (pair(&t.schema, &t.name), t)).collect(),
            views: schema.views.iter().map(|v| pair(&v.schema, &v.name)).collect(),
            sequences: schema.sequences.iter().map(|s| pair(&s.schema, &s.name)).collect(),
            functions: schema.functions.iter().map(|f| f.signature.as_str()).collect(),
            types: (schema.enums.iter().map(|e| pair(&e.schema, &e.name)))
                .chain(schema.domains.iter().map(|d| pair(&d.schema, &d.name)))
                .chain(schema.composites.iter().map(|c| pair(&c.schema, &c.name)))
                .chain(schema.ranges.iter().map(|r| pair(&r.schema, &r.name)))
                .collect(),
        }
    }

    /// Whether the object (and column) `key` names is here.
    fn has(&self, (object, schema, name, column): (PrivilegeObject, &str, &str, Option<&str>)) -> bool {
        let key = (schema, name);
        match object {
            PrivilegeObject::Schema => self.schemas.contains(schema),
            PrivilegeObject::Table => {
                self.views.contains(&key)
                    || self.tables.get(&key).is_some_and(|table| {
                        column.is_none_or(|column| table.columns.iter().any(|c| c.name == column))
                    })
            }
            PrivilegeObject::Sequence => self.sequences.contains(&key),
            PrivilegeObject::Function => self.functions.contains(name),
            PrivilegeObject::Type => self.types.contains(&key),
        }
    }
}

/// Revokes what `to` no longer gives and grants what it gives anew (or gives an object
/// created again), then the same for default privileges.
pub(crate) fn plan(
    plan: &mut Builder,
    from: &Schema,
    to: &Schema,
    views: &[&View],
    recreated_types: &[String],
) {
    let recreated = recreated(from, to, views, recreated_types);
    let fresh = |p: &Privilege| {
        let key = (p.object, p.schema.clone(), p.name.clone(), p.column.clone());
        recreated.contains(&whole(p.object, &p.schema, &p.name)) || recreated.contains(&key)
    };
    let defaults: Vec<Privilege> = created(from, to, &recreated)
        .iter()
        .flat_map(|(kind, key)| given_by_default(from, *kind, key))
        .collect();
    let old: BTreeSet<&Privilege> = from.privileges.iter().filter(|p| !fresh(p)).chain(&defaults).collect();
    let new: BTreeSet<&Privilege> = to.privileges.iter().collect();
    // Revokes first: a privilege whose grant option changes is revoked, then granted again.
    let target = Objects::of(to);
    let revoked: Vec<&Privilege> = old
        .difference(&new)
        .filter(|p| target.has((p.object, &p.schema, &p.name, p.column.as_deref())))
        .copied()
        .collect();
    for privilege in &revoked {
        let source = SchemaChange::RemovePrivilege((*privilege).clone());
        plan.push(&source, privilege.undo_statement(), Lock::None, &[]);
    }
    // PostgreSQL's `REVOKE p ON TABLE` also takes `p` on every column of the table: the
    // column privileges the target keeps are granted again.
    let taken_from_columns = |p: &&Privilege| {
        p.column.is_some()
            && revoked.iter().any(|r| {
                r.column.is_none()
                    && (r.object, &r.schema, &r.name, &r.grantee, &r.privilege)
                        == (p.object, &p.schema, &p.name, &p.grantee, &p.privilege)
            })
    };
    let granted: BTreeSet<&Privilege> =
        new.difference(&old).copied().chain(new.iter().copied().filter(taken_from_columns)).collect();
    for privilege in granted {
        let source = SchemaChange::AddPrivilege((*privilege).clone());
        plan.push(&source, privilege.apply_statement(), Lock::None, &[]);
    }
    for privilege in from.default_privileges.iter().filter(|p| !to.default_privileges.contains(p)) {
        let source = SchemaChange::RemoveDefaultPrivilege(privilege.clone());
        plan.push(&source, privilege.undo_statement(), Lock::None, &[]);
    }
    for privilege in to.default_privileges.iter().filter(|p| !from.default_privileges.contains(p)) {
        let source = SchemaChange::AddDefaultPrivilege(privilege.clone());
        plan.push(&source, privilege.apply_statement(), Lock::None, &[]);
    }
}

#[cfg(test)]
mod tests {
    use haste_schema::{
        DefaultObjects, DefaultPrivilege, Function, Privilege, PrivilegeObject, Schema, View,
    };

    use crate::fixtures::{column, table};
    use crate::{Options, diff};

    fn grant(object: PrivilegeObject, name: &str, column: Option<&str>, privilege: &str) -> Privilege {
        Privilege {
            object,
            schema: "crm".into(),
            name: name.into(),
            column: column.map(Into::into),
            grantee: "app_ro".into(),
            privilege: privilege.into(),
            grantable: false,
            revoked: false,
        }
    }

    /// A table `crm.deals (id, amount)` and a view `crm.open_deals` over it, with `privileges`.
    fn schema(amount_type: &str, privileges: Vec<Privilege>) -> Schema {
        Schema {
            tables: vec![table(vec![column("id", "integer"), column("amount", amount_type)])],
            views: vec![View {
                schema: "crm".into(),
                name: "open_deals".into(),
                materialized: false,
                definition: " SELECT id, amount FROM crm.deals;".into(),
                options: Vec::new(),
                with_no_data: Default::default(),
                column_defaults: Vec::new(),
            }],
            privileges,
            ..Schema::default()
        }
    }

    fn statements(from: &Schema, to: &Schema) -> Vec<String> {
        diff(from, to, &Options::default()).steps.into_iter().map(|step| step.sql).collect()
    }

    #[test]
    fn grants_and_revokes_follow_the_target() {
        let select = grant(PrivilegeObject::Table, "deals", None, "SELECT");
        let update = grant(PrivilegeObject::Table, "deals", Some("amount"), "UPDATE");
        let (before, after) = (schema("numeric", vec![select.clone()]), schema("numeric", vec![update]));
        assert_eq!(
            statements(&before, &after),
            [
                r#"REVOKE SELECT ON TABLE "crm"."deals" FROM "app_ro""#,
                r#"GRANT UPDATE ("amount") ON TABLE "crm"."deals" TO "app_ro""#,
            ]
        );
        let with_option = Privilege { grantable: true, ..select.clone() };
        assert_eq!(
            statements(&schema("numeric", vec![select.clone()]), &schema("numeric", vec![with_option])),
            [
                r#"REVOKE SELECT ON TABLE "crm"."deals" FROM "app_ro""#,
                r#"GRANT SELECT ON TABLE "crm"."deals" TO "app_ro" WITH GRANT OPTION"#,
            ]
        );
        assert!(statements(&before, &before).is_empty());
    }

    #[test]
    fn a_table_revoke_takes_the_columns_too_so_kept_column_grants_come_back() {
        let on_table = grant(PrivilegeObject::Table, "deals", None, "SELECT");
        let on_id = grant(PrivilegeObject::Table, "deals", Some("id"), "SELECT");
        let before = schema("numeric", vec![on_table, on_id.clone()]);
        let after = schema("numeric", vec![on_id]);
        assert_eq!(
            statements(&before, &after),
            [
                r#"REVOKE SELECT ON TABLE "crm"."deals" FROM "app_ro""#,
                r#"GRANT SELECT ("id") ON TABLE "crm"."deals" TO "app_ro""#,
            ]
        );
    }

    #[test]
    fn a_recreated_view_gets_its_grants_back_after_it_is_created() {
        let on_view = grant(PrivilegeObject::Table, "open_deals", None, "SELECT");
        let on_view_column = grant(PrivilegeObject::Table, "open_deals", Some("id"), "UPDATE");
        let privileges = vec![on_view.clone(), on_view_column];
        let planned = statements(&schema("integer", privileges.clone()), &schema("bigint", privileges));
        let position =
            |prefix: &str| planned.iter().position(|s| s.starts_with(prefix)).unwrap_or(usize::MAX);
        assert!(position("DROP VIEW") < position("CREATE VIEW"), "{planned:#?}");
        assert!(
            position("CREATE VIEW") < position("GRANT SELECT ON TABLE \"crm\".\"open_deals\""),
            "{planned:#?}"
        );
        assert!(
            planned.contains(&r#"GRANT UPDATE ("id") ON TABLE "crm"."open_deals" TO "app_ro""#.to_owned())
        );
        assert!(!planned.iter().any(|s| s.starts_with("REVOKE")), "{planned:#?}");
    }

    #[test]
    fn a_replaced_column_gets_its_grants_back_and_a_dropped_table_takes_its_own() {
        let on_column = grant(PrivilegeObject::Table, "deals", Some("amount"), "SELECT");
        let mut generated = schema("numeric", vec![on_column.clone()]);
        generated.tables[0].columns[1].generated = Some("(id * 2)".into());
        let planned = statements(&schema("numeric", vec![on_column.clone()]), &generated);
        assert_eq!(
            planned.last().map(String::as_str),
            Some(r#"GRANT SELECT ("amount") ON TABLE "crm"."deals" TO "app_ro""#)
        );

        let empty = Schema::default();
        let planned = statements(&schema("numeric", vec![on_column]), &empty);
        assert!(!planned.iter().any(|s| s.contains("REVOKE")), "{planned:#?}");
    }

    #[test]
    fn revoked_defaults_and_default_privileges() {
        let function = Function {
            schema: "crm".into(),
            name: "total".into(),
            signature: "crm.total(integer)".into(),
            language: "sql".into(),
            definition: "CREATE OR REPLACE FUNCTION crm.total(integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$select $1$function$\n".into(),
            row_types: Vec::new(),
            arguments: "integer".into(),
            result: Some("integer".into()),
            range_types: Vec::new(),
        };
        let revoked = Privilege {
            grantee: "PUBLIC".into(),
            revoked: true,
            ..grant(PrivilegeObject::Function, "crm.total(integer)", None, "EXECUTE")
        };
        let defaults = DefaultPrivilege {
            schema: Some("crm".into()),
            objects: DefaultObjects::Tables,
            grantee: "app_ro".into(),
            privilege: "SELECT".into(),
            grantable: false,
            revoked: false,
            role: None,
        };
        let before = Schema { functions: vec![function.clone()], ..Schema::default() };
        let after = Schema {
            functions: vec![function],
            privileges: vec![revoked],
            default_privileges: vec![defaults],
            ..Schema::default()
        };
        assert_eq!(
            statements(&before, &after),
            [
                "REVOKE EXECUTE ON ROUTINE crm.total(integer) FROM PUBLIC",
                r#"ALTER DEFAULT PRIVILEGES IN SCHEMA "crm" GRANT SELECT ON TABLES TO "app_ro""#,
            ]
        );
        assert_eq!(
            statements(&after, &before),
            [
                "GRANT EXECUTE ON ROUTINE crm.total(integer) TO PUBLIC",
                r#"ALTER DEFAULT PRIVILEGES IN SCHEMA "crm" REVOKE SELECT ON TABLES FROM "app_ro""#,
            ]
        );
    }
}
