//! Renames: only from explicit hints. A hint names its object by path and gives the new name:
//! `schema.table=new` (a table, or an enum type), `schema.table.column=new` (a column, or an
//! enum label), with `public` assumed when the schema is left out of a column or label hint.
//! The planner itself only suggests: one column dropped and one added with the same type.

use std::fmt;

use haste_schema::{Column, Schema, Table, qualified};
use haste_sql::{quote_ident, quote_literal};
use serde::Serialize;

use crate::compare::TableChange;
use crate::{Error, Lock, SchemaChange, Step};

/// A rename hint, as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The hint as written.
    pub hint: String,
    path: Vec<String>,
    /// The new name.
    pub to: String,
}

impl Rename {
    /// Reads `path=new_name`.
    pub fn parse(hint: &str) -> Result<Rename, Error> {
        let bad = |reason: &str| Error::BadRename { hint: hint.to_owned(), reason: reason.to_owned() };
        let (path, to) =
            hint.split_once('=').ok_or_else(|| bad("expected `schema.table.column=new_name`"))?;
        let path: Vec<String> = path.trim().split('.').map(str::to_owned).collect();
        if to.trim().is_empty() || path.iter().any(String::is_empty) || !(2..=3).contains(&path.len()) {
            return Err(bad("expected `schema.table=new_name` or `schema.table.column=new_name`"));
        }
        Ok(Rename { hint: hint.to_owned(), path, to: to.trim().to_owned() })
    }

    /// The inverse hint, which names the object by its new name.
    pub fn inverse(&self) -> Rename {
        let mut path = self.path.clone();
        let old = path.pop().expect("a hint has at least two parts");
        path.push(self.to.clone());
        Rename { hint: format!("{}={old}", path.join(".")), path, to: old }
    }
}

/// What a hint names, resolved against a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    /// A table.
    Table {
        /// Its schema.
        schema: String,
        /// Its name.
        table: String,
    },
    /// A column.
    Column {
        /// Its table's schema.
        schema: String,
        /// Its table.
        table: String,
        /// Its name.
        column: String,
    },
    /// An enum type.
    Enum {
        /// Its schema.
        schema: String,
        /// Its name.
        name: String,
    },
    /// A label of an enum.
    Label {
        /// The enum's schema.
        schema: String,
        /// The enum.
        name: String,
        /// The label.
        label: String,
    },
}

impl Rename {
    /// What the hint names in `schema`: two parts name a table or enum first
    /// (`schema.table`), then a column or label in `public`.
    pub fn resolve(&self, schema: &Schema) -> Result<Renamed, Error> {
        let table = |s: &str, t: &str| schema.tables.iter().find(|x| x.schema == s && x.name == t);
        let enumeration = |s: &str, t: &str| schema.enums.iter().find(|x| x.schema == s && x.name == t);
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        let (s, t, c) = match path[..] {
            [s, t] if table(s, t).is_some() => {
                return Ok(Renamed::Table { schema: s.into(), table: t.into() });
            }
            [s, t] if enumeration(s, t).is_some() => {
                return Ok(Renamed::Enum { schema: s.into(), name: t.into() });
            }
            [t, c] => ("public", t, c),
            [s, t, c] => (s, t, c),
            _ => unreachable!("parse keeps two or three parts"),
        };
        if table(s, t).is_some_and(|found| found.columns.iter().any(|column| column.name == c)) {
            return Ok(Renamed::Column { schema: s.into(), table: t.into(), column: c.into() });
        }
        if enumeration(s, t).is_some_and(|found| found.values.iter().any(|value| value == c)) {
            return Ok(Renamed::Label { schema: s.into(), name: t.into(), label: c.into() });
        }
        Err(Error::BadRename {
            hint: self.hint.clone(),
            reason: "no table, column, enum or enum label has that name".into(),
        })
    }

    fn statement(&self, target: &Renamed) -> String {
        let new = quote_ident(&self.to);
        match target {
            Renamed::Table { schema, table } => {
                format!("ALTER TABLE {} RENAME TO {new}", qualified(schema, table))
            }
            Renamed::Column { schema, table, column } => {
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {new}",
                    qualified(schema, table),
                    quote_ident(column)
                )
            }
            Renamed::Enum { schema, name } => {
                format!("ALTER TYPE {} RENAME TO {new}", qualified(schema, name))
            }
            Renamed::Label { schema, name, label } => format!(
                "ALTER TYPE {} RENAME VALUE {} TO {}",
                qualified(schema, name),
                quote_literal(label),
                quote_literal(&self.to)
            ),
        }
    }
}

/// The statements that carry out `renames` on `schema`, in order; each hint must name
/// something that exists.
pub fn rename_statements(schema: &Schema, renames: &[Rename]) -> Result<Vec<Step>, Error> {
    renames
        .iter()
        .map(|rename| {
            let target = rename.resolve(schema)?;
            Ok(Step {
                sql: rename.statement(&target),
                lock: Lock::AccessExclusive,
                hazards: Vec::new(),
                alone: false,
                source: SchemaChange::Rename { target, to: rename.to.clone() },
            })
        })
        .collect()
}

/// One column dropped and one added with the same type: maybe a rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenameSuggestion {
    /// The table's schema.
    pub schema: String,
    /// The table.
    pub table: String,
    /// The dropped column.
    pub from: String,
    /// The added column.
    pub to: String,
}

impl fmt::Display for RenameSuggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}: column `{}` is dropped and `{}` added with the same type; if that is a rename, pass --rename {}.{}.{}={} to keep the data",
            self.schema, self.table, self.from, self.to, self.schema, self.table, self.from, self.to
        )
    }
}

/// The likely rename between two versions of a table, if there is exactly one candidate.
pub(crate) fn suggest(new: &Table, changes: &[TableChange]) -> Option<RenameSuggestion> {
    let (mut dropped, mut added): (Vec<&Column>, Vec<&Column>) = (Vec::new(), Vec::new());
    for change in changes {
        match change {
            TableChange::DropColumn(column) => dropped.push(*column),
            TableChange::AddColumn(column) => added.push(*column),
            _ => {}
        }
    }
    match (&dropped[..], &added[..]) {
        ([gone], [came]) if gone.data_type == came.data_type => Some(RenameSuggestion {
            schema: new.schema.clone(),
            table: new.name.clone(),
            from: gone.name.clone(),
            to: came.name.clone(),
        }),
        _ => None,
    }
}
