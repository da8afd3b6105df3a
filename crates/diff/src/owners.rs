//! Owners, when they are compared (`owners = true`): each object the target gives to another
//! role than the one running the plan gets `OWNER TO` that role, and one the target leaves to
//! that role goes back to it (`OWNER TO CURRENT_USER`). An object the plan creates again (a
//! view recreated, an enum rebuilt, a type or domain replaced) belongs to the role creating it,
//! so its owner is given again. An object that disappears takes its owner with it. After the
//! privileges, which the role running the plan gives as the owner it still is.

use haste_schema::{OwnedObject, Owner, Schema, View, qualified};

use crate::builder::Builder;
use crate::compare::recreated_functions;
use crate::{Lock, SchemaChange};

/// Which object an owner is of.
fn key(owner: &Owner) -> (OwnedObject, &str, &str) {
    (owner.object, &owner.schema, &owner.name)
}

/// Whether `schema` has the object `owner` is of.
fn exists(schema: &Schema, owner: &Owner) -> bool {
    let same = |s: &str, n: &str| s == owner.schema && n == owner.name;
    match owner.object {
        OwnedObject::Schema => {
            owner.schema == "public" || schema.schemas.iter().any(|n| n.name == owner.schema)
        }
        OwnedObject::Table => schema.tables.iter().any(|t| same(&t.schema, &t.name)),
        OwnedObject::View | OwnedObject::MaterializedView => {
            schema.views.iter().any(|v| same(&v.schema, &v.name))
        }
        OwnedObject::Sequence => schema.sequences.iter().any(|s| same(&s.schema, &s.name)),
        OwnedObject::Function => schema.functions.iter().any(|f| f.signature == owner.name),
        OwnedObject::Type => {
            schema.enums.iter().any(|e| same(&e.schema, &e.name))
                || schema.composites.iter().any(|c| same(&c.schema, &c.name))
                || schema.ranges.iter().any(|r| same(&r.schema, &r.name))
        }
        OwnedObject::Domain => schema.domains.iter().any(|d| same(&d.schema, &d.name)),
    }
}

/// Whether the plan creates the object of `owner` again although `from` had it: a view it
/// recreates, an enum or domain it rebuilds, a composite type it drops and creates, a function
/// dropped and created for a new result or arguments.
fn recreated(from: &Schema, to: &Schema, owner: &Owner, views: &[&View], recreated_types: &[String]) -> bool {
    let same = |s: &str, n: &str| s == owner.schema && n == owner.name;
    match owner.object {
        OwnedObject::View | OwnedObject::MaterializedView => views.iter().any(|v| same(&v.schema, &v.name)),
        OwnedObject::Type | OwnedObject::Domain => {
            recreated_types.contains(&qualified(&owner.schema, &owner.name))
        }
        OwnedObject::Function => recreated_functions(from, to).iter().any(|f| f.signature == owner.name),
        _ => false,
    }
}

/// The lock `ALTER ... OWNER TO` takes: a relation's is `ACCESS EXCLUSIVE` (it is an `ALTER
/// TABLE`); a schema's, a function's or a type's takes no table lock.
fn lock(owner: &Owner) -> Lock {
    match owner.object {
        OwnedObject::Table | OwnedObject::View | OwnedObject::MaterializedView | OwnedObject::Sequence => {
            Lock::AccessExclusive
        }
        OwnedObject::Schema | OwnedObject::Function | OwnedObject::Type | OwnedObject::Domain => Lock::None,
    }
}

/// Gives back to the role running the plan what `to` leaves to it, then gives each object the
/// owner `to` names where `from` names another or the plan creates the object again.
pub(crate) fn plan(
    plan: &mut Builder,
    from: &Schema,
    to: &Schema,
    views: &[&View],
    recreated_types: &[String],
) {
    for old in &from.owners {
        if !to.owners.iter().any(|new| key(new) == key(old)) && exists(to, old) {
            let source = SchemaChange::ResetOwner(old.clone());
            plan.push(&source, old.undo_statement(), lock(old), &[]);
        }
    }
    for new in &to.owners {
        if !from.owners.contains(new) || recreated(from, to, new, views, recreated_types) {
            let source = SchemaChange::SetOwner(new.clone());
            plan.push(&source, new.apply_statement(), lock(new), &[]);
        }
    }
}

#[cfg(test)]
mod tests {
    use haste_schema::{OwnedObject, Owner, Schema, View};

    use crate::fixtures::{column, table};
    use crate::{Lock, Options, SchemaChange, diff};

    fn owner(role: &str) -> Owner {
        Owner { object: OwnedObject::Table, schema: "crm".into(), name: "deals".into(), role: role.into() }
    }

    fn schema(owners: Vec<Owner>) -> Schema {
        Schema { tables: vec![table(vec![column("id", "integer")])], owners, ..Schema::default() }
    }

    #[test]
    fn owners_are_set_changed_and_given_back_under_an_access_exclusive_lock() {
        let cases = [
            (vec![], vec![owner("app")], r#"ALTER TABLE "crm"."deals" OWNER TO "app""#),
            (
                vec![owner("app")],
                vec![owner("App Owner")],
                r#"ALTER TABLE "crm"."deals" OWNER TO "App Owner""#,
            ),
            (vec![owner("app")], vec![], r#"ALTER TABLE "crm"."deals" OWNER TO CURRENT_USER"#),
        ];
        for (from, to, statement) in cases {
            let plan = diff(&schema(from), &schema(to.clone()), &Options::default());
            let [step] = plan.steps.as_slice() else { panic!("{plan:?}") };
            assert_eq!(step.sql, statement);
            assert_eq!(step.lock, Lock::AccessExclusive);
            match &step.source {
                SchemaChange::SetOwner(set) => assert_eq!(Some(set), to.first()),
                SchemaChange::ResetOwner(reset) => assert_eq!(reset, &owner("app")),
                other => panic!("{other:?}"),
            }
        }
        let same = diff(&schema(vec![owner("app")]), &schema(vec![owner("app")]), &Options::default());
        assert!(same.steps.is_empty(), "{same:?}");
    }

    /// A view the plan recreates belongs to the role recreating it: its owner is given again,
    /// in the same plan, though both sides name the same one.
    #[test]
    fn a_recreated_view_gets_its_owner_again() {
        let with_view = |definition: &str| Schema {
            views: vec![View {
                schema: "crm".into(),
                name: "ids".into(),
                materialized: false,
                definition: definition.into(),
                options: Vec::new(),
                with_no_data: Default::default(),
                column_defaults: Vec::new(),
            }],
            owners: vec![Owner { object: OwnedObject::View, name: "ids".into(), ..owner("app") }],
            ..schema(Vec::new())
        };
        let plan = diff(&with_view(" SELECT 1 AS id;"), &with_view(" SELECT 2 AS id;"), &Options::default());
        let statements: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
        let created = statements.iter().position(|s| s.starts_with("CREATE VIEW")).expect("recreated");
        let owned = statements.iter().position(|s| *s == r#"ALTER VIEW "crm"."ids" OWNER TO "app""#);
        assert!(owned.is_some_and(|owned| owned > created), "{statements:?}");
    }

    #[test]
    fn a_dropped_object_takes_its_owner_with_it() {
        let plan = diff(&schema(vec![owner("app")]), &Schema::default(), &Options::default());
        assert!(plan.steps.iter().all(|step| !step.sql.contains("OWNER")), "{plan:?}");
    }
}
