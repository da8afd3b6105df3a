//! Domains: created with their checks inside `CREATE DOMAIN`, changed in place when they keep
//! their base type, rebuilt when it changes, dropped once nothing declares them.
//!
//! In place: the default and `NOT NULL` by `ALTER DOMAIN`. A `CHECK` that changes is never
//! dropped before its replacement holds: with the online forms the new check is added `NOT
//! VALID` under a made-up name (`<name>_haste_new`), validated in its own transaction, and only
//! then is the old one dropped and the new one renamed, so the columns of the type are never
//! unchecked and a failed validation leaves the old check in force. Without them, the old check
//! is dropped and the new one added (checked) in one transaction.
//!
//! A new base type cannot be set in place: a domain of the new type is created under a staging
//! name, the columns of existing tables converted to it (through the new base type), the old
//! domain dropped and the new one renamed, defaults set again. Views reading those columns are
//! recreated around it (`views.rs`); other domains, composite types or functions using the type
//! would have to be rebuilt too, and a check, default, index or policy casting to it would hold
//! the old domain, so such a change is refused ([`domain_rebuild_refused`]).

use haste_schema::{Domain, DomainConstraint, Schema, qualified};
use haste_sql::{quote_ident, quote_literal, unused_ident};

use crate::builder::Builder;
use crate::compare::{Comparison, by, table_key};
use crate::enums::{column_uses, reached_through_parent, replace_with_staged, staging_name};
use crate::{Hazard, Lock, Named, SchemaChange, uses};

fn domain_key(domain: &Domain) -> String {
    qualified(&domain.schema, &domain.name)
}

/// The domains both sides have whose base type changes, as (old, new).
fn rebased<'a>(from: &'a Schema, to: &'a Schema) -> Vec<(&'a Domain, &'a Domain)> {
    let old = by(&from.domains, domain_key);
    to.domains
        .iter()
        .filter_map(|new| old.get(&domain_key(new)).map(|old| (*old, new)))
        .filter(|(old, new)| old.type_clause() != new.type_clause())
        .collect()
}

/// The domains a plan rebuilds (qualified), for the views and privileges that go with them.
pub(crate) fn rebuilt(from: &Schema, to: &Schema) -> Vec<String> {
    rebased(from, to).into_iter().map(|(_, new)| domain_key(new)).collect()
}

/// What stops a domain's base type from changing: the other domains, composite types and
/// functions that declare it on the side it starts from (each would have to be rebuilt too), and
/// the checks, defaults, indexes and policies the plan keeps that cast to it (PostgreSQL refuses
/// to drop the old domain under them), named, for the first such domain; `None` when every
/// domain can be rebuilt.
pub(crate) fn domain_rebuild_refused(from: &Schema, to: &Schema) -> Option<String> {
    rebased(from, to).into_iter().find_map(|(old, new)| {
        let mut users = uses::declarations_using(from, (&old.schema, &old.name));
        users.extend(uses::kept_casts(from, to, (&old.schema, &old.name)));
        (!users.is_empty()).then(|| {
            format!(
                "the base type of domain {}.{} changes from {} to {}, and {} use{} it (rebuild {} too, or change them in separate migrations)",
                old.schema,
                old.name,
                old.type_clause(),
                new.type_clause(),
                uses::listed(&users),
                if users.len() == 1 { "s" } else { "" },
                if users.len() == 1 { "it" } else { "them" },
            )
        })
    })
}

/// What stops a range type that changes from being dropped and created again (PostgreSQL alters
/// none of its options): the columns, domains, composite types and functions that use it on the
/// side it starts from, and the checks, defaults, indexes and policies the plan keeps that cast
/// to it, named, for the first such range; `None` when every one can be. Such a plan would fail
/// (2BP01) and roll back; refused before, it says why.
pub(crate) fn range_rebuild_refused(from: &Schema, to: &Schema) -> Option<String> {
    let changed = to.ranges.iter().filter_map(|new| {
        from.ranges.iter().find(|old| old.schema == new.schema && old.name == new.name && *old != new)
    });
    changed.into_iter().find_map(|old| {
        let mut users: Vec<String> = from
            .tables
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| column_uses(&c.data_type, &old.schema, &old.name).is_some())
                    .map(move |c| (t, c))
            })
            .map(|(t, c)| format!("column {}.{}.{}", t.schema, t.name, c.name))
            .collect();
        users.extend(uses::declarations_using(from, (&old.schema, &old.name)));
        users.extend(uses::kept_casts(from, to, (&old.schema, &old.name)));
        (!users.is_empty()).then(|| {
            format!(
                "range type {}.{} changes, and PostgreSQL cannot alter a range type in place, nor drop it while {} use{} it (write this migration by hand: haste migrate new)",
                old.schema,
                old.name,
                users.join(", "),
                if users.len() == 1 { "s" } else { "" },
            )
        })
    })
}

/// The domains `to` has and `from` has not (created with the other new types, each after the
/// types it declares: `plan.rs`).
pub(crate) fn created<'a>(comparison: &Comparison<'a>) -> Vec<&'a Domain> {
    let old_domains = by(&comparison.from.domains, domain_key);
    comparison.to.domains.iter().filter(|d| !old_domains.contains_key(&domain_key(d))).collect()
}

/// Domains changed in place, and the staging domains of those rebuilt.
pub(crate) fn alter_and_stage(plan: &mut Builder, comparison: &Comparison) {
    let (from, to) = (comparison.from, comparison.to);
    let old_domains = by(&from.domains, domain_key);
    for new in to.domains_in_creation_order().into_iter().filter(|d| !from.domains.contains(d)) {
        let named = Named::new(&new.schema, &new.name);
        match old_domains.get(&domain_key(new)) {
            Some(old) if old.type_clause() == new.type_clause() => alter(plan, old, new),
            Some(_) => {
                let staged = Domain { name: staging_name(comparison, &new.schema, &new.name), ..new.clone() };
                for statement in staged.create_statements() {
                    plan.push(&SchemaChange::RebuildDomain(named.clone()), statement, Lock::None, &[]);
                }
            }
            None => {}
        }
    }
}

/// A domain that keeps its base type, changed in place: columns of that type keep their rows.
fn alter(plan: &mut Builder, old: &Domain, new: &Domain) {
    let name = domain_key(new);
    let source = SchemaChange::AlterDomain(Named::new(&new.schema, &new.name));
    if old.default != new.default {
        let statement = match &new.default {
            Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default}"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
        };
        plan.push(&source, statement, Lock::None, &[]);
    }
    let find = |domain: &'_ Domain, constraint: &str| {
        domain.constraints.iter().find(|c| c.name == constraint).cloned()
    };
    let drop = |plan: &mut Builder, constraint: &str| {
        plan.push(
            &source,
            format!("ALTER DOMAIN {name} DROP CONSTRAINT {}", quote_ident(constraint)),
            Lock::None,
            &[],
        )
    };
    // Checks that go, or that are replaced in one transaction: without the online forms, when
    // the new one is left `NOT VALID` (it checks no row), or to be left `NOT VALID` again.
    for before in &old.constraints {
        let goes = match find(new, &before.name) {
            None => true,
            Some(after) if after.check != before.check => !plan.options.online || !after.validated,
            Some(after) => before.validated && !after.validated,
        };
        if goes {
            drop(plan, &before.name);
        }
    }
    if old.not_null && !new.not_null {
        plan.push(&source, format!("ALTER DOMAIN {name} DROP NOT NULL"), Lock::None, &[]);
    }
    for after in &new.constraints {
        let before = find(old, &after.name);
        match before {
            Some(before) if before == *after => {}
            // The same check, validated since.
            Some(before) if before.check == after.check && after.validated => {
                validate(plan, &source, &name, &after.name)
            }
            Some(before) if before.check != after.check && plan.options.online && after.validated => {
                // Window-free: the new check next to the old one, validated, then in its place.
                let taken = |candidate: &str| {
                    [old, new].iter().any(|domain| domain.constraints.iter().any(|c| c.name == candidate))
                };
                let staged = DomainConstraint {
                    name: unused_ident(&after.name, "_haste_new", taken),
                    validated: false,
                    ..after.clone()
                };
                plan.push(&source, new.add_constraint_statement(&staged), Lock::None, &[]);
                validate(plan, &source, &name, &staged.name);
                drop(plan, &after.name);
                plan.push(
                    &source,
                    format!(
                        "ALTER DOMAIN {name} RENAME CONSTRAINT {} TO {}",
                        quote_ident(&staged.name),
                        quote_ident(&after.name)
                    ),
                    Lock::None,
                    &[],
                );
            }
            _ if plan.options.online && after.validated => {
                let unvalidated = DomainConstraint { validated: false, ..after.clone() };
                plan.push(&source, new.add_constraint_statement(&unvalidated), Lock::None, &[]);
                validate(plan, &source, &name, &after.name);
            }
            _ => {
                let (lock, hazards): (Lock, &[Hazard]) =
                    if after.validated { (Lock::Share, &[Hazard::TableScan]) } else { (Lock::None, &[]) };
                plan.push(&source, new.add_constraint_statement(after), lock, hazards);
            }
        }
    }
    if !old.not_null && new.not_null {
        plan.push(&source, format!("ALTER DOMAIN {name} SET NOT NULL"), Lock::Share, &[Hazard::TableScan]);
    }
}

/// `VALIDATE CONSTRAINT` in its own transaction, once the `NOT VALID` one committed: the scan of
/// every column of the type runs under `SHARE` locks of their tables (`SHARE UPDATE EXCLUSIVE`
/// from PostgreSQL 18 on), not under the lock of the statement that added it.
fn validate(plan: &mut Builder, source: &SchemaChange, domain: &str, constraint: &str) {
    plan.push_alone(
        source,
        format!("ALTER DOMAIN {domain} VALIDATE CONSTRAINT {}", quote_ident(constraint)),
        Lock::Share,
        &[Hazard::TableScan],
    );
}

/// Before anything else of the plan: every value of a column a rebuilt domain types is cast to
/// the new base type, where that cast can fail (a narrower type): a value that does not fit
/// stops the migration at its first statement, before it drops the views and indexes in the
/// way of the rebuild (in a migration whose statements commit one by one they stayed dropped).
/// A read, under ACCESS SHARE: the application goes on. A cast to a length-limited string or
/// bit type would cut the value instead: each is assigned, as the conversion assigns it to the
/// column ([`conversion_check`]).
pub(crate) fn check_conversions(plan: &mut Builder, comparison: &Comparison) {
    for (old, new) in rebased(comparison.from, comparison.to) {
        if haste_sql::conversion_cannot_fail(&old.base_type, &new.base_type) {
            continue;
        }
        let source = SchemaChange::RebuildDomain(Named::new(&new.schema, &new.name));
        let kept_tables = by(&comparison.to.tables, table_key);
        // A partition's rows are read through its parent.
        for table in comparison
            .from
            .tables
            .iter()
            .filter(|t| kept_tables.contains_key(&table_key(t)) && !reached_through_parent(comparison, t))
        {
            for column in &table.columns {
                let Some(array) = column_uses(&column.data_type, &old.schema, &old.name) else { continue };
                let suffix = if array { "[]" } else { "" };
                let new_type = format!("{}{suffix}", new.base_type);
                let statement = match haste_sql::cast_cuts(&new_type) {
                    true => conversion_check(table, &column.name, &new_type),
                    false => format!(
                        "SELECT count({}::{new_type}) FROM {}",
                        quote_ident(&column.name),
                        table.qualified_name()
                    ),
                };
                plan.push(&source, statement, Lock::AccessShare, &[Hazard::TableScan]);
            }
        }
    }
}

/// A `DO` block assigning every value of `column` to a variable of `new_type` (a length-limited
/// string or bit type) as the conversion assigns it to the column: a value that does not fit
/// fails (`value too long for type character varying(5)`), where a cast would cut it. The error
/// names the column.
fn conversion_check(table: &haste_schema::Table, column: &str, new_type: &str) -> String {
    let body = format!(
        "
DECLARE
  converted {new_type};
  checked record;
BEGIN
  FOR checked IN SELECT {} AS value FROM {} LOOP
    converted := {};
  END LOOP;
EXCEPTION WHEN data_exception THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE,
    MESSAGE = format('a value of %s does not convert to %s: %s', {}, {}, SQLERRM),
    HINT = {};
END
",
        quote_ident(column),
        table.qualified_name(),
        haste_sql::conversion("checked.value", new_type),
        quote_literal(&format!("{}.{}", table.qualified_name(), quote_ident(column))),
        quote_literal(new_type),
        quote_literal("change or delete the values that do not fit, then deploy again"),
    );
    format!("DO {}", haste_sql::dollar_quote(&body))
}

/// Converts the columns of existing tables typed by each rebuilt domain to its staging domain,
/// then drops the old domain and gives the new one its name (new tables are created afterwards,
/// with the name). A value the new base type or checks refuse makes the conversion fail, so
/// nothing is lost silently.
pub(crate) fn rebuild(plan: &mut Builder, comparison: &Comparison) {
    for (old, new) in rebased(comparison.from, comparison.to) {
        let source = SchemaChange::RebuildDomain(Named::new(&new.schema, &new.name));
        let staged = qualified(&new.schema, &staging_name(comparison, &new.schema, &new.name));
        replace_with_staged(
            plan,
            comparison,
            &source,
            "DOMAIN",
            (&old.schema, &old.name),
            &staged,
            &new.base_type,
        );
    }
}

#[cfg(test)]
mod tests {
    use haste_schema::{Attribute, Composite, Domain, DomainConstraint, Privilege, PrivilegeObject, Schema};

    use super::domain_rebuild_refused;
    use crate::fixtures::{column, table};
    use crate::{Hazard, Options, diff};

    /// `crm.score`, an integer domain with the checks given (name, check, validated).
    fn domain(constraints: &[(&str, &str, bool)]) -> Schema {
        let domain = Domain {
            schema: "crm".into(),
            name: "score".into(),
            base_type: "integer".into(),
            collation: None,
            not_null: false,
            default: None,
            constraints: constraints
                .iter()
                .map(|(name, check, validated)| DomainConstraint {
                    name: (*name).into(),
                    check: (*check).into(),
                    validated: *validated,
                })
                .collect(),
        };
        Schema { domains: vec![domain], ..Schema::default() }
    }

    fn statements(from: &Schema, to: &Schema, online: bool) -> Vec<String> {
        diff(from, to, &Options { online }).steps.into_iter().map(|step| step.sql).collect()
    }

    /// A new domain carries its checks (nothing to validate); a changed check on one that
    /// exists is added next to the old one `NOT VALID`, validated on its own, and only then put
    /// in the old one's place: the columns are never unchecked.
    #[test]
    fn a_changed_domain_check_replaces_the_old_one_only_once_validated() {
        let positive = domain(&[("score_check", "CHECK ((VALUE >= 0))", true)]);
        assert_eq!(
            statements(&Schema::default(), &positive, true),
            [r#"CREATE DOMAIN "crm"."score" AS integer CONSTRAINT "score_check" CHECK ((VALUE >= 0))"#]
        );
        let wider = domain(&[("score_check", "CHECK ((VALUE >= '-10'::integer))", true)]);
        let plan = diff(&positive, &wider, &Options { online: true });
        let sql: Vec<&str> = plan.steps.iter().map(|step| step.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                r#"ALTER DOMAIN "crm"."score" ADD CONSTRAINT "score_check_haste_new" CHECK ((VALUE >= '-10'::integer)) NOT VALID"#,
                r#"ALTER DOMAIN "crm"."score" VALIDATE CONSTRAINT "score_check_haste_new""#,
                r#"ALTER DOMAIN "crm"."score" DROP CONSTRAINT "score_check""#,
                r#"ALTER DOMAIN "crm"."score" RENAME CONSTRAINT "score_check_haste_new" TO "score_check""#,
            ]
        );
        assert_eq!(plan.steps.iter().map(|step| step.alone).collect::<Vec<_>>(), [false, true, false, false]);
        assert_eq!(plan.steps[1].hazards, [Hazard::TableScan]);
        // Changed in place, the domain keeps its privileges: none is given again.
        let usage = Privilege {
            object: PrivilegeObject::Type,
            schema: "crm".into(),
            name: "score".into(),
            column: None,
            grantee: "app".into(),
            privilege: "USAGE".into(),
            grantable: false,
            revoked: false,
        };
        let (mut granted, mut granted_wider) = (positive.clone(), wider.clone());
        granted.privileges.push(usage.clone());
        granted_wider.privileges.push(usage);
        assert_eq!(statements(&granted, &granted_wider, true).len(), 4, "no GRANT");
        assert!(plan.steps.iter().all(|step| !step.hazards.contains(&Hazard::DataLoss)), "never dropped");
        // Without the online forms: replaced in one transaction.
        assert_eq!(
            statements(&positive, &wider, false),
            [
                r#"ALTER DOMAIN "crm"."score" DROP CONSTRAINT "score_check""#,
                r#"ALTER DOMAIN "crm"."score" ADD CONSTRAINT "score_check" CHECK ((VALUE >= '-10'::integer))"#,
            ]
        );
        // A check left NOT VALID stays so, and one validated since is only validated.
        let unvalidated = domain(&[("score_check", "CHECK ((VALUE >= 0))", false)]);
        assert_eq!(
            statements(&unvalidated, &positive, false),
            [r#"ALTER DOMAIN "crm"."score" VALIDATE CONSTRAINT "score_check""#]
        );
        assert_eq!(
            statements(&Schema::default(), &unvalidated, false)[1],
            r#"ALTER DOMAIN "crm"."score" ADD CONSTRAINT "score_check" CHECK ((VALUE >= 0)) NOT VALID"#
        );
        // The staging name is one neither side holds.
        let taken = domain(&[
            ("score_check", "CHECK ((VALUE >= 0))", true),
            ("score_check_haste_new", "CHECK ((VALUE < 1000))", true),
        ]);
        let mut moved = taken.clone();
        moved.domains[0].constraints[0].check = "CHECK ((VALUE >= 1))".into();
        assert!(statements(&taken, &moved, true)[0].contains(r#""score_check_haste_new2""#));
    }

    /// A new base type: the columns move to a domain of that type under a staging name, the old
    /// domain goes and the new one takes its name; a composite type using it refuses the change.
    #[test]
    fn a_domain_of_another_base_type_is_rebuilt_with_its_columns() {
        let with_column = |base: &str| {
            let mut schema = domain(&[("score_check", "CHECK ((VALUE >= 0))", true)]);
            schema.domains[0].base_type = base.into();
            schema.tables.push(table(vec![column("id", "integer"), column("score", "crm.score")]));
            schema
        };
        let sql = statements(&with_column("integer"), &with_column("bigint"), true);
        assert_eq!(
            sql,
            [
                r#"CREATE DOMAIN "crm"."score_new" AS bigint CONSTRAINT "score_check" CHECK ((VALUE >= 0))"#,
                r#"ALTER TABLE "crm"."deals" ALTER COLUMN "score" TYPE "crm"."score_new" USING ("score"::bigint::"crm"."score_new")"#,
                r#"DROP DOMAIN "crm"."score""#,
                r#"ALTER DOMAIN "crm"."score_new" RENAME TO "score""#,
            ]
        );
        assert_eq!(domain_rebuild_refused(&with_column("integer"), &with_column("bigint")), None);
        // A shorter string: a cast would cut what does not fit. The check assigns each value to a
        // variable of the new type, the conversion leaves the length to the column's assignment.
        let sql =
            statements(&with_column("character varying(20)"), &with_column("character varying(5)"), true);
        assert!(
            sql[0].starts_with("DO ")
                && sql[0].contains("converted character varying(5);")
                && sql[0].contains("converted := checked.value::character varying;"),
            "{sql:?}"
        );
        assert_eq!(
            sql[2],
            r#"ALTER TABLE "crm"."deals" ALTER COLUMN "score" TYPE "crm"."score_new" USING ("score"::character varying)"#
        );
        let mut used = with_column("integer");
        used.composites.push(Composite {
            schema: "crm".into(),
            name: "pair".into(),
            attributes: vec![Attribute { name: "a".into(), data_type: "crm.score".into(), collation: None }],
            row_types: Vec::new(),
        });
        let mut rebased = used.clone();
        rebased.domains[0].base_type = "bigint".into();
        let refused = domain_rebuild_refused(&used, &rebased).expect("refused");
        assert!(refused.contains("domain crm.score") && refused.contains("type crm.pair"), "{refused}");
    }
}
