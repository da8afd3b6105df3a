//! The diagram's model: tables with their columns and keys, and foreign keys as links, read
//! from a [`Schema`] and narrowed by a [`Filter`].

use std::collections::HashMap;

use haste_schema::{ConstraintKind, Schema};

/// Which tables to draw.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these schemas (all when empty).
    pub schemas: Vec<String>,
    /// Only tables whose name or `schema.name` matches this pattern (`*` any run of
    /// characters, `?` one character).
    pub tables: Option<String>,
}

/// A filter that can only draw nothing, because of a mistake in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// Schemas asked for that the schema model does not have.
    UnknownSchemas {
        /// Those asked for and missing.
        unknown: Vec<String>,
        /// The schemas there are, sorted.
        known: Vec<String>,
    },
    /// The table pattern matches no table of the schemas asked for.
    NoTableMatches {
        /// The pattern.
        pattern: String,
        /// How many tables it was tried on.
        tables: usize,
    },
}

impl Filter {
    fn keeps(&self, schema: &str, table: &str) -> bool {
        self.keeps_schema(schema)
            && self
                .tables
                .as_deref()
                .is_none_or(|pattern| glob(pattern, table) || glob(pattern, &format!("{schema}.{table}")))
    }

    fn keeps_schema(&self, schema: &str) -> bool {
        self.schemas.is_empty() || self.schemas.iter().any(|s| s == schema)
    }

    /// Whether every schema asked for exists in `model` and the pattern matches a table of
    /// them. Without a pattern, a schema with no table (or an empty database) is no mistake.
    pub fn check(&self, model: &Schema) -> Result<(), FilterError> {
        // `public` is not listed unless it has a comment, but is there unless dropped.
        let mut known: Vec<String> = model
            .schemas
            .iter()
            .map(|namespace| namespace.name.clone())
            .chain(model.tables.iter().map(|table| table.schema.clone()))
            .chain(std::iter::once("public".to_owned()))
            .collect();
        known.sort();
        known.dedup();
        let unknown: Vec<String> = self.schemas.iter().filter(|s| !known.contains(s)).cloned().collect();
        if !unknown.is_empty() {
            return Err(FilterError::UnknownSchemas { unknown, known });
        }
        match &self.tables {
            Some(pattern) if !model.tables.iter().any(|table| self.keeps(&table.schema, &table.name)) => {
                let tables = model.tables.iter().filter(|table| self.keeps_schema(&table.schema)).count();
                Err(FilterError::NoTableMatches { pattern: pattern.clone(), tables })
            }
            _ => Ok(()),
        }
    }
}

/// `*` and `?` wildcards, whole text.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut p, mut t, mut star, mut resume) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            p += 1;
            resume = t;
        } else if let Some(s) = star {
            p = s + 1;
            resume += 1;
            t = resume;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// An entity-relationship diagram: tables sorted by schema and name, and the foreign keys
/// between the tables drawn.
#[derive(Debug, Clone)]
pub struct Erd {
    /// The tables.
    pub entities: Vec<Entity>,
    /// The foreign keys between them.
    pub links: Vec<Link>,
}

/// A table.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Its columns in position order.
    pub attributes: Vec<Attribute>,
}

/// A column and its part in keys.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name.
    pub name: String,
    /// Type as PostgreSQL prints it.
    pub data_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Part of the primary key.
    pub primary: bool,
    /// Unique on its own (a unique constraint or unique index on this column alone).
    pub unique: bool,
    /// Part of a foreign key.
    pub foreign: bool,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
}

/// A foreign key between two drawn tables (indexes into [`Erd::entities`] and their
/// attributes).
#[derive(Debug, Clone)]
pub struct Link {
    /// The constraint's name.
    pub name: String,
    /// The referencing table.
    pub from: usize,
    /// Its first key column.
    pub from_attribute: usize,
    /// The referenced table.
    pub to: usize,
    /// Its first referenced column.
    pub to_attribute: usize,
    /// Every referencing column is `NOT NULL`: each row has a parent.
    pub required: bool,
    /// The referencing columns are unique: one-to-one.
    pub one_to_one: bool,
}

impl Attribute {
    /// Its key marks: `PK`, `FK`, `UK`, in that order.
    pub fn marks(&self) -> Vec<&'static str> {
        [(self.primary, "PK"), (self.foreign, "FK"), (self.unique, "UK")]
            .into_iter()
            .filter_map(|(on, mark)| on.then_some(mark))
            .collect()
    }
}

impl Entity {
    /// `schema.name`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

impl Erd {
    /// The diagram of the tables of `schema` that `filter` keeps.
    pub fn new(schema: &Schema, filter: &Filter) -> Erd {
        let mut tables: Vec<&haste_schema::Table> =
            schema.tables.iter().filter(|t| filter.keeps(&t.schema, &t.name)).collect();
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        let index: HashMap<(&str, &str), usize> =
            tables.iter().enumerate().map(|(i, t)| ((t.schema.as_str(), t.name.as_str()), i)).collect();
        let mut entities: Vec<Entity> = tables.iter().map(|table| entity(schema, table)).collect();
        let mut links = Vec::new();
        for (from, table) in tables.iter().enumerate() {
            for constraint in table.constraints.iter().filter(|c| c.kind == ConstraintKind::ForeignKey) {
                let Some(target) = &constraint.references else { continue };
                let Some(&to) = index.get(&(target.schema.as_str(), target.table.as_str())) else { continue };
                let key = &constraint.columns;
                let position =
                    |entity: &Entity, name: &str| entity.attributes.iter().position(|a| a.name == name);
                let (Some(from_attribute), Some(to_attribute)) = (
                    key.first().and_then(|c| position(&entities[from], c)),
                    target.columns.first().and_then(|c| position(&entities[to], c)),
                ) else {
                    continue;
                };
                let attribute = |name: &String| entities[from].attributes.iter().find(|a| &a.name == name);
                let required = key.iter().all(|c| attribute(c).is_some_and(|a| a.not_null));
                let one_to_one = key.len() == 1
                    && attribute(&key[0])
                        .is_some_and(|a| a.unique || a.primary && primary_key_len(&entities[from]) == 1);
                for column in key {
                    if let Some(a) = entities[from].attributes.iter_mut().find(|a| &a.name == column) {
                        a.foreign = true;
                    }
                }
                links.push(Link {
                    name: constraint.name.clone(),
                    from,
                    from_attribute,
                    to,
                    to_attribute,
                    required,
                    one_to_one,
                });
            }
        }
        Erd { entities, links }
    }

    /// The schemas drawn, in order, each with the range of its entities.
    pub fn groups(&self) -> Vec<(&str, std::ops::Range<usize>)> {
        let mut groups: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
        for (i, entity) in self.entities.iter().enumerate() {
            match groups.last_mut() {
                Some((schema, range)) if *schema == entity.schema => range.end = i + 1,
                _ => groups.push((&entity.schema, i..i + 1)),
            }
        }
        groups
    }
}

fn primary_key_len(entity: &Entity) -> usize {
    entity.attributes.iter().filter(|a| a.primary).count()
}

fn entity(schema: &Schema, table: &haste_schema::Table) -> Entity {
    let mut primary = Vec::new();
    let mut unique = Vec::new();
    for constraint in &table.constraints {
        match constraint.kind {
            ConstraintKind::PrimaryKey => primary = constraint.columns.clone(),
            ConstraintKind::Unique if constraint.columns.len() == 1 => {
                unique.extend(constraint.columns.clone())
            }
            _ => {}
        }
    }
    let unique_on_one = |i: &&haste_schema::Index| {
        i.schema == table.schema
            && i.table == table.name
            && i.unique
            && i.predicate.is_none()
            && i.columns.len() == 1
    };
    for index in schema.indexes.iter().filter(unique_on_one) {
        unique.extend(index.columns.clone());
    }
    Entity {
        schema: table.schema.clone(),
        name: table.name.clone(),
        comment: table.comment.clone(),
        attributes: table
            .columns
            .iter()
            .map(|column| Attribute {
                name: column.name.clone(),
                data_type: column.data_type.clone(),
                not_null: column.not_null,
                primary: primary.contains(&column.name),
                unique: unique.contains(&column.name),
                foreign: false,
                comment: column.comment.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn wildcards() {
        assert!(glob("user*", "users"));
        assert!(glob("*_id?", "deal_ids"));
        assert!(glob("crm.*", "crm.deals"));
        assert!(!glob("user", "users"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acbd"));
    }
}
