//! Comments on the objects other than schemas, tables and table columns (those are planned with
//! their tables): a comment that appears or changes is set, one that disappears from an object
//! that stays is cleared (`IS NULL`), and an object the plan creates again (a view recreated, an
//! index rebuilt, a domain check replaced, a function dropped for a new result) gets its comment
//! back, since its drop took it. Read
//! from the steps' sources (a domain's check, whose steps carry their domain, from the models),
//! after every object exists.

use std::collections::BTreeMap;

use haste_schema::{Comment, CommentObject, Schema};

use crate::builder::Builder;
use crate::{Lock, Named, OfTable, SchemaChange, Step};

type Key<'a> = (CommentObject, &'a str, &'a str, Option<&'a str>);

fn key(comment: &Comment) -> Key<'_> {
    (comment.object, &comment.schema, &comment.name, comment.part.as_deref())
}

/// Sets, sets again and clears the comments that differ between `from` and `to`.
pub(crate) fn plan(plan: &mut Builder, from: &Schema, to: &Schema) {
    let old: BTreeMap<Key<'_>, &Comment> = from.comments.iter().map(|c| (key(c), c)).collect();
    let new: BTreeMap<Key<'_>, &Comment> = to.comments.iter().map(|c| (key(c), c)).collect();
    let mut statements = Vec::new();
    let recreated = |comment: &Comment| {
        plan.steps.iter().any(|step| creates(step, comment)) || check_replaced(from, to, comment)
    };
    for comment in &to.comments {
        if old.get(&key(comment)) != Some(&comment) || recreated(comment) {
            statements.push((comment, comment.statement(Some(&comment.text))));
        }
    }
    for comment in from.comments.iter().filter(|c| !new.contains_key(&key(c))) {
        if exists(to, comment) && !recreated(comment) {
            statements.push((comment, comment.statement(None)));
        }
    }
    for (comment, statement) in statements {
        plan.push(&SchemaChange::SetComment(comment.clone()), statement, Lock::ShareUpdateExclusive, &[]);
    }
}

/// Whether `comment` is on a domain's check that the plan drops and adds again, in place or
/// next to the old one and renamed (`domains.rs`): its check changes, or it is left `NOT VALID`.
fn check_replaced(from: &Schema, to: &Schema, comment: &Comment) -> bool {
    let find = |schema: &'_ Schema| {
        schema
            .domains
            .iter()
            .find(|d| d.schema == comment.schema && d.name == comment.name)
            .and_then(|d| d.constraints.iter().find(|c| Some(c.name.as_str()) == comment.part.as_deref()))
            .cloned()
    };
    let replaced = match (find(from), find(to)) {
        (Some(before), Some(after)) => before.check != after.check || (before.validated && !after.validated),
        _ => false,
    };
    comment.object == CommentObject::DomainConstraint && replaced
}

/// Whether `step` creates (anew, or again after dropping it) the object `comment` is on. A
/// function replaced (`CREATE OR REPLACE`) keeps its comment; one dropped to be created again
/// (its result, or its arguments' names or defaults, change) loses it with the drop, so the drop
/// of a function the target still has is what says so.
fn creates(step: &Step, comment: &Comment) -> bool {
    let named = |n: &Named| n.schema == comment.schema && n.name == comment.name;
    let part = |p: &OfTable| {
        p.schema == comment.schema
            && p.table == comment.name
            && Some(p.name.as_str()) == comment.part.as_deref()
    };
    match (&step.source, comment.object) {
        (
            SchemaChange::CreateEnum(n)
            | SchemaChange::RebuildEnum(n)
            | SchemaChange::CreateComposite(n)
            | SchemaChange::RebuildComposite(n)
            | SchemaChange::CreateRange(n),
            CommentObject::Type,
        )
        | (
            SchemaChange::CreateDomain(n) | SchemaChange::RebuildDomain(n),
            CommentObject::Domain | CommentObject::DomainConstraint,
        )
        | (SchemaChange::CreateSequence(n), CommentObject::Sequence)
        | (SchemaChange::CreateStatistics(n), CommentObject::Statistics)
        | (SchemaChange::CreateIndex(n), CommentObject::Index)
        | (SchemaChange::CreateView(n), CommentObject::View | CommentObject::MaterializedView)
        | (SchemaChange::DropFunction(n), CommentObject::Function) => named(n),
        (SchemaChange::AddConstraint { constraint, .. }, CommentObject::Constraint)
        | (SchemaChange::CreateTrigger(constraint), CommentObject::Trigger)
        | (SchemaChange::CreatePolicy(constraint), CommentObject::Policy)
        | (SchemaChange::CreateRule(constraint), CommentObject::Rule) => part(constraint),
        _ => false,
    }
}

/// Whether `schema` holds the object `comment` is on.
fn exists(schema: &Schema, comment: &Comment) -> bool {
    let (on, name, part) = (comment.schema.as_str(), comment.name.as_str(), comment.part.as_deref());
    let same = |s: &str, n: &str| s == on && n == name;
    match comment.object {
        CommentObject::Type => match part {
            Some(attribute) => schema
                .composites
                .iter()
                .any(|c| same(&c.schema, &c.name) && c.attributes.iter().any(|a| a.name == attribute)),
            None => {
                schema.enums.iter().any(|e| same(&e.schema, &e.name))
                    || schema.composites.iter().any(|c| same(&c.schema, &c.name))
                    || schema.ranges.iter().any(|r| same(&r.schema, &r.name))
            }
        },
        CommentObject::Domain => schema.domains.iter().any(|d| same(&d.schema, &d.name)),
        CommentObject::DomainConstraint => schema
            .domains
            .iter()
            .any(|d| same(&d.schema, &d.name) && d.constraints.iter().any(|c| Some(c.name.as_str()) == part)),
        CommentObject::Sequence => schema.sequences.iter().any(|s| same(&s.schema, &s.name)),
        CommentObject::Index => schema.indexes.iter().any(|i| same(&i.schema, &i.name)),
        // A view column that goes takes its view along (it is recreated).
        CommentObject::View | CommentObject::MaterializedView => {
            schema.views.iter().any(|v| same(&v.schema, &v.name))
        }
        CommentObject::Function => schema.functions.iter().any(|f| f.schema == on && f.signature == name),
        CommentObject::Constraint => schema
            .tables
            .iter()
            .any(|t| same(&t.schema, &t.name) && t.constraints.iter().any(|c| Some(c.name.as_str()) == part)),
        CommentObject::Trigger => {
            schema.triggers.iter().any(|t| same(&t.schema, &t.table) && Some(t.name.as_str()) == part)
        }
        CommentObject::Policy => {
            schema.policies.iter().any(|p| same(&p.schema, &p.table) && Some(p.name.as_str()) == part)
        }
        CommentObject::Statistics => schema.statistics.iter().any(|s| same(&s.schema, &s.name)),
        CommentObject::Rule => {
            schema.rules.iter().any(|r| same(&r.schema, &r.table) && Some(r.name.as_str()) == part)
        }
    }
}
