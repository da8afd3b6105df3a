//! Which views a plan drops and creates again, and in which order. Each recreation takes a lock
//! and loses what PostgreSQL keeps on the view (its grants come back through `privileges.rs`),
//! so only the views that must go are recreated:
//! - a view whose own definition changes (or that disappears, or appears); one whose options
//!   alone change (`security_barrier`, `security_invoker`, `check_option`) is altered in
//!   place by the planner;
//! - a view that reads a column that is retyped, dropped, or dropped to be added again, or
//!   that reads a table that is dropped (PostgreSQL refuses all of these under a view);
//! - a view that calls a function dropped to be created again (its result or arguments change);
//! - a view that reads a view recreated for any of these reasons, transitively.
//!
//! What a view reads is taken from its definition with PostgreSQL's grammar
//! (`haste_sql::relations`, `haste_sql::mentions`), by name without schema, which can only
//! recreate more than needed. A definition that cannot be read is recreated whenever a table
//! changes in one of those ways. An enum or domain rebuilt converts its columns (as a retype
//! does) and drops its old type, so a view that names the type (a cast) is recreated as well.
//!
//! Views are dropped in reverse dependency order and created in dependency order: a view comes
//! after the views it reads, and otherwise keeps the model's order (creation order).

use std::collections::{BTreeMap, BTreeSet};

use haste_schema::{Schema, View, qualified};

use crate::compare::{by, recreated_functions, replaced, retyped, table_key};
use crate::enums;

/// The views a plan drops (in the order to drop them) and creates (in the order to create them).
pub(crate) struct Recreation<'a> {
    pub(crate) dropped: Vec<&'a View>,
    pub(crate) created: Vec<&'a View>,
}

impl Recreation<'_> {
    /// Whether the plan creates view `schema.name` (anew or again).
    pub(crate) fn creates(&self, schema: &str, name: &str) -> bool {
        self.created.iter().any(|view| view.schema == schema && view.name == name)
    }
}

fn view_key(view: &View) -> String {
    qualified(&view.schema, &view.name)
}

/// A view with the relations its definition names (`None`: it could not be read).
struct Reader<'a> {
    view: &'a View,
    reads: Option<BTreeSet<String>>,
}

impl Reader<'_> {
    fn reads(&self, name: &str) -> bool {
        self.reads.as_ref().is_none_or(|reads| reads.contains(name))
    }
}

pub(crate) fn recreation<'a>(from: &'a Schema, to: &'a Schema, rebuilt_types: &[String]) -> Recreation<'a> {
    let readers: Vec<Reader<'_>> = from
        .views
        .iter()
        .map(|view| Reader { view, reads: haste_sql::relations(&view.definition) })
        .collect();
    let (old_tables, new_tables) = (by(&from.tables, table_key), by(&to.tables, table_key));
    // The enums, domains and composite types rebuilt, as (schema, name).
    let rebuilt: Vec<(&str, &str)> = from
        .enums
        .iter()
        .map(|e| (e.schema.as_str(), e.name.as_str()))
        .chain(from.domains.iter().map(|d| (d.schema.as_str(), d.name.as_str())))
        .chain(from.composites.iter().map(|c| (c.schema.as_str(), c.name.as_str())))
        .filter(|(schema, name)| rebuilt_types.contains(&qualified(schema, name)))
        .collect();
    // Table name → columns PostgreSQL would refuse to change under a view reading them.
    let mut blocked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut dropped_tables = BTreeSet::new();
    for (key, old) in &old_tables {
        let Some(new) = new_tables.get(key) else {
            dropped_tables.insert(old.name.as_str());
            continue;
        };
        for column in &old.columns {
            let kept = new.columns.iter().find(|c| c.name == column.name);
            let converted = rebuilt
                .iter()
                .any(|(schema, name)| enums::column_uses(&column.data_type, schema, name).is_some());
            if converted || kept.is_none_or(|kept| replaced(column, kept) || retyped(column, kept)) {
                blocked.entry(old.name.as_str()).or_default().push(column.name.as_str());
            }
        }
    }
    let tables_change = !blocked.is_empty() || !dropped_tables.is_empty();
    // A rebuilt enum's or domain's old type is dropped: a view naming it (a cast) goes first.
    let names_rebuilt_type = |view: &View| {
        !rebuilt.is_empty()
            && haste_sql::type_names(&view.definition)
                .is_none_or(|types| rebuilt.iter().any(|(_, name)| types.contains(*name)))
    };
    // A function dropped to be created again (`plan.rs`: its result or arguments change) takes
    // the views that call it first.
    let recreated_functions: BTreeSet<&str> =
        recreated_functions(from, to).into_iter().map(|function| function.name.as_str()).collect();
    let calls_recreated_function = |view: &View| {
        !recreated_functions.is_empty()
            && haste_sql::reads(&view.definition).is_none_or(|reads| {
                reads.functions.iter().any(|name| recreated_functions.contains(name.as_str()))
            })
    };
    let must_go = |reader: &Reader| {
        !to.views.iter().any(|view| view.same_query(reader.view))
            || names_rebuilt_type(reader.view)
            || calls_recreated_function(reader.view)
            || match &reader.reads {
                None => tables_change,
                Some(reads) => {
                    reads.iter().any(|name| dropped_tables.contains(name.as_str()))
                        || blocked.iter().any(|(table, columns)| {
                            reads.contains(*table)
                                && columns
                                    .iter()
                                    .any(|column| haste_sql::mentions(&reader.view.definition, table, column))
                        })
                }
            }
    };
    let mut going: BTreeSet<String> =
        readers.iter().filter(|reader| must_go(reader)).map(|reader| view_key(reader.view)).collect();
    // Views over views that go, until nothing more goes.
    loop {
        let names: BTreeSet<&str> = readers
            .iter()
            .filter(|r| going.contains(&view_key(r.view)))
            .map(|r| r.view.name.as_str())
            .collect();
        let more: Vec<String> = readers
            .iter()
            .filter(|r| !going.contains(&view_key(r.view)) && names.iter().any(|name| r.reads(name)))
            .map(|r| view_key(r.view))
            .collect();
        if more.is_empty() {
            break;
        }
        going.extend(more);
    }
    let mut dropped =
        in_dependency_order(readers.into_iter().filter(|r| going.contains(&view_key(r.view))).collect());
    dropped.reverse();
    let created = in_dependency_order(
        to.views
            .iter()
            .filter(|view| {
                going.contains(&view_key(view)) || !from.views.iter().any(|old| old.same_query(view))
            })
            .map(|view| Reader { view, reads: haste_sql::relations(&view.definition) })
            .collect(),
    );
    Recreation { dropped, created }
}

/// `views` with each after the views of the list it reads, otherwise in the order given; a
/// cycle (only possible through a name that is not the view's: a common table expression, a
/// table of another schema) is broken at the first view of it in that order.
fn in_dependency_order(mut views: Vec<Reader<'_>>) -> Vec<&View> {
    let mut ordered = Vec::with_capacity(views.len());
    while !views.is_empty() {
        let ready = |index: usize| {
            let reader = &views[index];
            reader.reads.is_none()
                || views.iter().enumerate().all(|(other, read)| {
                    other == index || read.view.name == reader.view.name || !reader.reads(&read.view.name)
                })
        };
        let next = (0..views.len()).find(|&index| ready(index)).unwrap_or(0);
        ordered.push(views.remove(next).view);
    }
    ordered
}

#[cfg(test)]
mod tests {
    use haste_schema::{Enum, Privilege, PrivilegeObject, Schema, Table, Trigger, View};

    use crate::fixtures::{column, table};
    use crate::{Options, diff};

    fn view(name: &str, definition: &str) -> View {
        View {
            schema: "crm".into(),
            name: name.into(),
            materialized: false,
            definition: definition.into(),
            options: Vec::new(),
            with_no_data: Default::default(),
            column_defaults: Vec::new(),
        }
    }

    fn select_on(name: &str) -> Privilege {
        Privilege {
            object: PrivilegeObject::Table,
            schema: "crm".into(),
            name: name.into(),
            column: None,
            grantee: "app_ro".into(),
            privilege: "SELECT".into(),
            grantable: false,
            revoked: false,
        }
    }

    /// `crm.deals (id, amount)`, `crm.notes (id)`, a view `v` over deals' amounts, a view `w`
    /// over `v`, a view `ids` over deals' ids only, and `SELECT` on the three views.
    fn schema(amount_type: &str) -> Schema {
        let notes = Table { name: "notes".into(), ..table(vec![column("id", "integer")]) };
        Schema {
            tables: vec![table(vec![column("id", "integer"), column("amount", amount_type)]), notes],
            views: vec![
                view("v", " SELECT deals.amount FROM crm.deals WHERE deals.amount > 0;"),
                view("ids", " SELECT deals.id FROM crm.deals;"),
                view("w", " SELECT v.amount FROM crm.v;"),
            ],
            privileges: ["v", "ids", "w"].map(select_on).into(),
            ..Schema::default()
        }
    }

    fn statements(from: &Schema, to: &Schema) -> Vec<String> {
        diff(from, to, &Options::default()).steps.into_iter().map(|step| step.sql).collect()
    }

    #[test]
    fn a_column_added_to_a_table_a_view_reads_leaves_the_view_alone() {
        let mut wider = schema("integer");
        wider.tables[0].columns.push(column("note", "text"));
        assert_eq!(
            statements(&schema("integer"), &wider),
            [r#"ALTER TABLE "crm"."deals" ADD COLUMN "note" text"#]
        );
    }

    #[test]
    fn a_change_to_a_table_no_view_reads_plans_no_view_statement() {
        let mut noted = schema("integer");
        noted.tables[1].columns.push(column("body", "text"));
        noted.tables[1].columns[0].data_type = "bigint".into();
        let planned = statements(&schema("integer"), &noted);
        assert!(!planned.iter().any(|s| s.contains("VIEW") || s.contains("GRANT")), "{planned:#?}");
        assert_eq!(planned.len(), 2, "{planned:#?}");
    }

    #[test]
    fn a_retyped_column_recreates_the_views_that_read_it_and_the_views_over_those() {
        let planned = statements(&schema("integer"), &schema("bigint"));
        assert_eq!(
            planned,
            [
                r#"DROP VIEW "crm"."w""#,
                r#"DROP VIEW "crm"."v""#,
                r#"ALTER TABLE "crm"."deals" ALTER COLUMN "amount" TYPE bigint USING "amount"::bigint"#,
                r#"CREATE VIEW "crm"."v" AS  SELECT deals.amount FROM crm.deals WHERE deals.amount > 0"#,
                r#"CREATE VIEW "crm"."w" AS  SELECT v.amount FROM crm.v"#,
                r#"GRANT SELECT ON TABLE "crm"."v" TO "app_ro""#,
                r#"GRANT SELECT ON TABLE "crm"."w" TO "app_ro""#,
            ]
        );
    }

    #[test]
    fn views_over_views_are_created_after_what_they_read_whatever_the_model_order() {
        // `w` was created first and replaced to read `v` later: the model lists it first.
        let mut before = schema("integer");
        before.views.rotate_right(1);
        let mut after = schema("bigint");
        after.views.rotate_right(1);
        let planned = statements(&before, &after);
        let position = |statement: &str| planned.iter().position(|s| s.starts_with(statement));
        assert!(position(r#"DROP VIEW "crm"."w""#) < position(r#"DROP VIEW "crm"."v""#), "{planned:#?}");
        assert!(position(r#"CREATE VIEW "crm"."v""#) < position(r#"CREATE VIEW "crm"."w""#), "{planned:#?}");
        assert!(!planned.iter().any(|s| s.contains(r#""ids""#)), "{planned:#?}");
    }

    #[test]
    fn a_join_using_a_retyped_column_recreates_the_view() {
        let joined = |id_type: &str| {
            let mut schema = schema("integer");
            schema.tables[0].columns[0].data_type = id_type.into();
            schema.views =
                vec![view("joined", " SELECT count(*) AS count FROM (crm.deals JOIN crm.notes USING (id));")];
            schema.privileges.clear();
            schema
        };
        let planned = statements(&joined("integer"), &joined("bigint"));
        assert_eq!(planned.first().map(String::as_str), Some(r#"DROP VIEW "crm"."joined""#), "{planned:#?}");
    }

    #[test]
    fn a_trigger_on_a_recreated_view_comes_back_after_it() {
        let on_v = |mut schema: Schema| {
            schema.triggers.push(Trigger {
                schema: "crm".into(),
                table: "v".into(),
                name: "v_insert".into(),
                definition: "CREATE TRIGGER v_insert INSTEAD OF INSERT ON crm.v FOR EACH ROW EXECUTE FUNCTION crm.insert_amount()".into(),
                firing: Default::default(),
                cloned: false,
            });
            schema
        };
        let planned = statements(&on_v(schema("integer")), &on_v(schema("bigint")));
        let position = |statement: &str| planned.iter().position(|s| s.starts_with(statement));
        assert!(position(r#"CREATE VIEW "crm"."v""#) < position("CREATE TRIGGER v_insert"), "{planned:#?}");
        assert!(position("CREATE TRIGGER v_insert").is_some(), "{planned:#?}");
        assert!(!planned.iter().any(|s| s.starts_with("DROP TRIGGER")), "{planned:#?}");
    }

    #[test]
    fn a_rebuilt_enum_recreates_the_views_that_read_its_columns_or_name_it() {
        let with_stage = |values: &[&str]| {
            let mut schema = schema("integer");
            schema.enums.push(Enum {
                schema: "crm".into(),
                name: "stage".into(),
                values: values.iter().map(|v| (*v).into()).collect(),
            });
            schema.tables[1].columns.push(column("stage", "crm.stage"));
            schema.views.push(view("staged", " SELECT notes.stage FROM crm.notes;"));
            schema
                .views
                .push(view("won", " SELECT deals.id FROM crm.deals WHERE 'won'::crm.stage IS NOT NULL;"));
            schema
        };
        let planned =
            statements(&with_stage(&["open", "won", "lost"]), &with_stage(&["open", "lost", "won"]));
        let dropped: Vec<&String> = planned.iter().filter(|s| s.starts_with("DROP VIEW")).collect();
        assert_eq!(dropped, [r#"DROP VIEW "crm"."won""#, r#"DROP VIEW "crm"."staged""#], "{planned:#?}");
    }

    #[test]
    fn a_changed_view_recreates_the_views_over_it_only() {
        let mut after = schema("integer");
        after.views[0].definition = " SELECT deals.amount FROM crm.deals;".into();
        let planned = statements(&schema("integer"), &after);
        assert_eq!(
            planned,
            [
                r#"DROP VIEW "crm"."w""#,
                r#"DROP VIEW "crm"."v""#,
                r#"CREATE VIEW "crm"."v" AS  SELECT deals.amount FROM crm.deals"#,
                r#"CREATE VIEW "crm"."w" AS  SELECT v.amount FROM crm.v"#,
                r#"GRANT SELECT ON TABLE "crm"."v" TO "app_ro""#,
                r#"GRANT SELECT ON TABLE "crm"."w" TO "app_ro""#,
            ]
        );
    }

    #[test]
    fn a_dropped_column_or_table_recreates_the_views_that_read_it() {
        let mut narrower = schema("integer");
        narrower.tables[0].columns.remove(1);
        narrower.views.retain(|v| v.name == "ids");
        narrower.privileges.retain(|p| p.name == "ids");
        let planned = statements(&schema("integer"), &narrower);
        assert_eq!(
            planned,
            [
                r#"DROP VIEW "crm"."w""#,
                r#"DROP VIEW "crm"."v""#,
                r#"ALTER TABLE "crm"."deals" DROP COLUMN "amount""#,
            ]
        );
        let mut reads_notes = schema("integer");
        reads_notes.views.push(view("n", " SELECT notes.id FROM crm.notes;"));
        let mut no_notes = schema("integer");
        no_notes.tables.pop();
        let planned = statements(&reads_notes, &no_notes);
        assert_eq!(planned, [r#"DROP VIEW "crm"."n""#, r#"DROP TABLE "crm"."notes""#]);
    }
}
