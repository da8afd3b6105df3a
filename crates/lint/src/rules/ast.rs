//! Small readers of PostgreSQL's parse tree shared by the rules and the schema replay.

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AlterTableCmd, AlterTableStmt, AlterTableType, ColumnDef, ColumnRef, ConstrType, Constraint, DropStmt,
    RangeVar, TypeName,
};

/// The `ALTER TABLE` subcommands of a statement.
pub fn alter_commands(alter: &AlterTableStmt) -> impl Iterator<Item = &AlterTableCmd> {
    alter.cmds.iter().filter_map(|cmd| match &cmd.node {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
        _ => None,
    })
}

/// The constraints in a list of nodes.
pub fn constraints(nodes: &[pg_query::Node]) -> impl Iterator<Item = &Constraint> {
    nodes.iter().filter_map(|node| match &node.node {
        Some(NodeEnum::Constraint(constraint)) => Some(constraint.as_ref()),
        _ => None,
    })
}

/// The strings of a list of `String` nodes.
pub fn strings(nodes: &[pg_query::Node]) -> Vec<&str> {
    haste_sql::string_nodes(nodes)
}

/// A type as written, in PostgreSQL's internal names, lower case: `int4`, `varchar(255)`,
/// `numeric(10,2)`, `text[]`. The `pg_catalog.` prefix is dropped.
pub fn type_text(type_name: Option<&TypeName>) -> String {
    let Some(type_name) = type_name else { return String::new() };
    let names = strings(&type_name.names);
    let base = names.iter().rev().find(|name| **name != "pg_catalog").copied().unwrap_or_default();
    let mods: Vec<String> = type_name
        .typmods
        .iter()
        .filter_map(|node| match &node.node {
            Some(NodeEnum::AConst(constant)) => match &constant.val {
                Some(pg_query::protobuf::a_const::Val::Ival(value)) => Some(value.ival.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let mut text = base.to_ascii_lowercase();
    if !mods.is_empty() {
        text.push_str(&format!("({})", mods.join(",")));
    }
    for _ in &type_name.array_bounds {
        text.push_str("[]");
    }
    text
}

/// The base name of a type (`varchar` for `varchar(255)`).
pub fn base_type(type_text: &str) -> &str {
    type_text.split(['(', '[']).next().unwrap_or(type_text)
}

/// The column a `ColumnRef` names, when it is a plain column.
pub fn column_ref_name(column: &ColumnRef) -> Option<String> {
    strings(&column.fields).last().map(|name| (*name).to_owned())
}

/// `schema.name` (or `name`) of each object a `DROP` names.
pub fn dropped_names(drop: &DropStmt) -> Vec<String> {
    drop.objects
        .iter()
        .filter_map(|object| match &object.node {
            Some(NodeEnum::List(list)) => Some(strings(&list.items).join(".")),
            Some(NodeEnum::String(string)) => Some(string.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The names of every function a node calls, lower case, without schema.
pub fn called_functions(node: &NodeEnum) -> Vec<String> {
    node.nodes()
        .into_iter()
        .filter_map(|(child, ..)| match child {
            pg_query::NodeRef::FuncCall(call) => {
                strings(&call.funcname).last().map(|name| name.to_ascii_lowercase())
            }
            _ => None,
        })
        .collect()
}

/// `schema.table` as a person writes it.
pub fn relation_text(relation: &pg_query::protobuf::RangeVar) -> String {
    if relation.schemaname.is_empty() {
        relation.relname.clone()
    } else {
        format!("{}.{}", relation.schemaname, relation.relname)
    }
}

/// Constraints a statement adds to a table: `ADD CONSTRAINT`, and inline constraints of
/// `ADD COLUMN`.
pub fn added_constraints(node: &NodeEnum) -> Vec<(&RangeVar, &Constraint)> {
    let NodeEnum::AlterTableStmt(alter) = node else { return Vec::new() };
    let Some(relation) = &alter.relation else { return Vec::new() };
    let mut found = Vec::new();
    for command in alter_commands(alter) {
        match command.def.as_deref().and_then(|def| def.node.as_ref()) {
            Some(NodeEnum::Constraint(constraint))
                if command.subtype == AlterTableType::AtAddConstraint as i32 =>
            {
                found.push((relation, constraint.as_ref()))
            }
            Some(NodeEnum::ColumnDef(column)) if command.subtype == AlterTableType::AtAddColumn as i32 => {
                found.extend(constraints(&column.constraints).map(|constraint| (relation, constraint)))
            }
            _ => {}
        }
    }
    found
}

/// The columns an `ALTER TABLE` adds.
pub fn added_columns(alter: &AlterTableStmt) -> impl Iterator<Item = &ColumnDef> {
    alter_commands(alter).filter_map(|command| {
        match command.def.as_deref().and_then(|def| def.node.as_ref()) {
            Some(NodeEnum::ColumnDef(column)) if command.subtype == AlterTableType::AtAddColumn as i32 => {
                Some(column.as_ref())
            }
            _ => None,
        }
    })
}

/// The columns a statement creates: those of `CREATE TABLE` and of `ALTER TABLE ... ADD COLUMN`.
pub fn new_columns(node: &NodeEnum) -> Vec<&ColumnDef> {
    match node {
        NodeEnum::CreateStmt(create) => create
            .table_elts
            .iter()
            .filter_map(|element| match &element.node {
                Some(NodeEnum::ColumnDef(column)) => Some(column.as_ref()),
                _ => None,
            })
            .collect(),
        NodeEnum::AlterTableStmt(alter) => added_columns(alter).collect(),
        _ => Vec::new(),
    }
}

/// The default expression of a column definition, inline (`DEFAULT x`) or as parsed.
pub fn column_default(column: &ColumnDef) -> Option<&NodeEnum> {
    column.raw_default.as_deref().and_then(|node| node.node.as_ref()).or_else(|| {
        constraints(&column.constraints)
            .find(|c| c.contype == ConstrType::ConstrDefault as i32)
            .and_then(|c| c.raw_expr.as_deref())
            .and_then(|node| node.node.as_ref())
    })
}

/// The collation a column definition names (`COLLATE "C"`), as written.
pub fn collation(column: &ColumnDef) -> Option<String> {
    column.coll_clause.as_ref().map(|clause| strings(&clause.collname).join("."))
}

/// The columns an index or an index-backed constraint reads: its key columns, the columns of
/// its expressions and of its predicate. PostgreSQL builds it again when any of them changes
/// type or collation.
pub fn index_columns(node: &NodeEnum) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    match node {
        // The parse tree walk does not enter a constraint's column lists.
        NodeEnum::Constraint(constraint) => {
            let named = strings(&constraint.keys).into_iter().chain(strings(&constraint.including));
            columns.extend(named.map(str::to_owned));
            let exclusions = constraint.exclusions.iter().filter_map(|pair| match &pair.node {
                Some(NodeEnum::List(pair)) => pair.items.first().and_then(|element| element.node.as_ref()),
                _ => None,
            });
            for part in exclusions.chain(constraint.where_clause.as_deref().and_then(|w| w.node.as_ref())) {
                columns_read(part, &mut columns);
            }
        }
        _ => columns_read(node, &mut columns),
    }
    columns.sort();
    columns.dedup();
    columns
}

/// Adds the columns `node` names: an index element's column, every column reference in it.
fn columns_read(node: &NodeEnum, columns: &mut Vec<String>) {
    if let NodeEnum::IndexElem(element) = node
        && !element.name.is_empty()
    {
        columns.push(element.name.clone());
    }
    for (child, ..) in node.nodes() {
        match child {
            pg_query::NodeRef::IndexElem(element) if !element.name.is_empty() => {
                columns.push(element.name.clone())
            }
            pg_query::NodeRef::ColumnRef(column) => columns.extend(column_ref_name(column)),
            _ => {}
        }
    }
}
