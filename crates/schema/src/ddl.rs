//! The DDL that recreates a [`Schema`] on an empty database, in dependency order: types and
//! sequences before the tables that use them, functions before the defaults and checks that
//! call them, keys before the foreign keys that reference them, tables before views, views in
//! creation order, triggers and policies last.

use haste_sql::{quote_ident, quote_literal};

use crate::{Schema, Table, TableKind};

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

impl Schema {
    /// The statements, each without its terminating `;`.
    pub fn to_ddl(&self) -> Vec<String> {
        // SQL-language functions may read tables created after them.
        let mut out = vec!["SET check_function_bodies = false".to_owned()];
        for namespace in &self.schemas {
            if namespace.name != "public" {
                out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&namespace.name)));
            }
            if let Some(comment) = &namespace.comment {
                out.push(format!(
                    "COMMENT ON SCHEMA {} IS {}",
                    quote_ident(&namespace.name),
                    quote_literal(comment)
                ));
            }
        }
        for extension in &self.extensions {
            out.push(format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                quote_ident(&extension.name),
                quote_ident(&extension.schema)
            ));
        }
        for item in &self.enums {
            let values: Vec<String> = item.values.iter().map(|v| quote_literal(v)).collect();
            out.push(format!(
                "CREATE TYPE {} AS ENUM ({})",
                qualified(&item.schema, &item.name),
                values.join(", ")
            ));
        }
        for item in &self.composites {
            let attributes: Vec<String> =
                item.attributes.iter().map(|(name, kind)| format!("{} {kind}", quote_ident(name))).collect();
            out.push(format!(
                "CREATE TYPE {} AS ({})",
                qualified(&item.schema, &item.name),
                attributes.join(", ")
            ));
        }
        for domain in &self.domains {
            let mut statement =
                format!("CREATE DOMAIN {} AS {}", qualified(&domain.schema, &domain.name), domain.base_type);
            if let Some(default) = &domain.default {
                statement.push_str(&format!(" DEFAULT {default}"));
            }
            if domain.not_null {
                statement.push_str(" NOT NULL");
            }
            out.push(statement);
            for (name, definition) in &domain.constraints {
                out.push(format!(
                    "ALTER DOMAIN {} ADD CONSTRAINT {} {definition}",
                    qualified(&domain.schema, &domain.name),
                    quote_ident(name)
                ));
            }
        }
        for sequence in self.sequences.iter().filter(|s| !s.identity) {
            out.push(format!(
                "CREATE SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{}",
                qualified(&sequence.schema, &sequence.name),
                sequence.data_type,
                sequence.increment,
                sequence.min,
                sequence.max,
                sequence.start,
                sequence.cache,
                if sequence.cycle { " CYCLE" } else { "" }
            ));
        }
        out.extend(
            self.functions
                .iter()
                .map(|function| function.definition.trim_end().trim_end_matches(';').to_owned()),
        );
        // Parents before their partitions.
        let mut tables: Vec<&Table> = self.tables.iter().collect();
        tables.sort_by_key(|table| table.partition_of.is_some());
        out.extend(tables.iter().map(|table| create_table(table)));
        for sequence in self.sequences.iter().filter(|s| !s.identity) {
            if let Some((table, column)) = &sequence.owned_by {
                out.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{}",
                    qualified(&sequence.schema, &sequence.name),
                    qualified(&sequence.schema, table),
                    quote_ident(column)
                ));
            }
        }
        let constraints = |foreign: bool| {
            tables.iter().flat_map(move |table| {
                table.constraints.iter().filter(move |c| (c.kind == "f") == foreign).map(move |constraint| {
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {}",
                        qualified(&table.schema, &table.name),
                        quote_ident(&constraint.name),
                        constraint.definition
                    )
                })
            })
        };
        out.extend(constraints(false));
        out.extend(self.indexes.iter().map(|index| index.definition.clone()));
        out.extend(constraints(true));
        for view in &self.views {
            out.push(format!(
                "CREATE {}VIEW {} AS {}",
                if view.materialized { "MATERIALIZED " } else { "" },
                qualified(&view.schema, &view.name),
                view.definition.trim_end().trim_end_matches(';')
            ));
        }
        out.extend(self.triggers.iter().map(|trigger| trigger.definition.clone()));
        for table in &self.tables {
            let name = qualified(&table.schema, &table.name);
            if table.row_security {
                out.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"));
            }
            if table.force_row_security {
                out.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"));
            }
        }
        for policy in &self.policies {
            let mut statement = format!(
                "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
                quote_ident(&policy.name),
                qualified(&policy.schema, &policy.table),
                if policy.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
                policy.command,
                policy
                    .roles
                    .iter()
                    .map(|role| if role == "public" { "PUBLIC".to_owned() } else { quote_ident(role) })
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(using) = &policy.using {
                statement.push_str(&format!(" USING ({using})"));
            }
            if let Some(check) = &policy.with_check {
                statement.push_str(&format!(" WITH CHECK ({check})"));
            }
            out.push(statement);
        }
        for table in &self.tables {
            let name = qualified(&table.schema, &table.name);
            if let Some(comment) = &table.comment {
                out.push(format!("COMMENT ON TABLE {name} IS {}", quote_literal(comment)));
            }
            for column in table.columns.iter().filter(|c| c.comment.is_some()) {
                out.push(format!(
                    "COMMENT ON COLUMN {name}.{} IS {}",
                    quote_ident(&column.name),
                    quote_literal(column.comment.as_deref().unwrap_or_default())
                ));
            }
        }
        out
    }
}

fn create_table(table: &Table) -> String {
    let name = qualified(&table.schema, &table.name);
    if let Some((parent, bound)) = &table.partition_of {
        return format!("CREATE TABLE {name} PARTITION OF {parent} {bound}");
    }
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let mut text = format!("{} {}", quote_ident(&column.name), column.data_type);
            if let Some(collation) = &column.collation {
                text.push_str(&format!(" COLLATE {collation}"));
            }
            if let Some(expression) = &column.generated {
                text.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
            }
            match column.identity.as_deref() {
                Some("a") => text.push_str(" GENERATED ALWAYS AS IDENTITY"),
                Some("d") => text.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                _ => {}
            }
            if let Some(default) = &column.default {
                text.push_str(&format!(" DEFAULT {default}"));
            }
            if column.not_null {
                text.push_str(" NOT NULL");
            }
            text
        })
        .collect();
    let (unlogged, partition) = match &table.kind {
        TableKind::Regular => ("", String::new()),
        TableKind::Unlogged => ("UNLOGGED ", String::new()),
        TableKind::Partitioned { key } => ("", format!(" PARTITION BY {key}")),
    };
    format!("CREATE {unlogged}TABLE {name} (\n    {}\n){partition}", columns.join(",\n    "))
}
