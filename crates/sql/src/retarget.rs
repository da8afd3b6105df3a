//! Indexes and constraints re-pointed from one column to another. A column whose type change
//! would rewrite its table is replaced by a new column filled in the background; its indexes
//! and keys are built again on the replacement before the two swap names.
//!
//! Definitions come in as PostgreSQL prints them (`pg_get_indexdef`, `pg_get_constraintdef`)
//! and are read with PostgreSQL's own grammar, never by matching text.

use std::collections::BTreeSet;

use pg_query::NodeEnum;
use pg_query::protobuf::{ConstrType, Constraint, Node};

/// What re-pointing a definition at another column gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repointed {
    /// The definition does not involve the column.
    Untouched,
    /// The statement that builds the same object on the other column.
    Statement(String),
    /// The object uses the column in a way that cannot be re-pointed (an expression, a
    /// `WHERE`, a key other objects reference, ...): the reason, for people.
    Unsupported(&'static str),
}

/// The last field of every column reference in `node` (`None` for `*`). pg_query's own walker
/// skips expressions inside constraints and index elements, so the references are read from the
/// tree's complete debug form, where each one is printed as
/// `ColumnRef(ColumnRef { fields: [Node { node: Some(String(String { sval: "a" })) }, ...] ...`.
fn column_references(node: &NodeEnum) -> Vec<Option<String>> {
    const OPEN: &str = "ColumnRef(ColumnRef { fields: [";
    let dump = format!("{node:?}");
    let mut references = Vec::new();
    let mut rest = dump.as_str();
    while let Some(at) = rest.find(OPEN) {
        rest = &rest[at + OPEN.len()..];
        // Fields are names or `*`, never nested lists: the first `]` outside a string ends them.
        let mut end = rest.len();
        let mut in_string = false;
        let mut escaped = false;
        for (index, character) in rest.char_indices() {
            match (in_string, escaped, character) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (_, false, '"') => in_string = !in_string,
                (false, _, ']') => {
                    end = index;
                    break;
                }
                _ => {}
            }
        }
        let fields = &rest[..end];
        let last = fields.rsplit("Node { node: Some(").next().unwrap_or_default();
        references.push(last.strip_prefix("String(String { sval: ").and_then(|quoted| {
            let quoted = &quoted[..quoted.rfind('"')? + 1];
            Some(quoted[1..quoted.len() - 1].replace("\\\"", "\"").replace("\\\\", "\\"))
        }));
        rest = &rest[end..];
    }
    references
}

/// Whether any column reference in `node` names `column` (qualified or not).
fn reads_column(node: &NodeEnum, column: &str) -> bool {
    column_references(node).iter().any(|reference| reference.as_deref() == Some(column))
}

/// Renames every column reference to `from` (its last field: `from` or `t.from`) in the
/// expression `node` to `to`, through the expression forms a `CHECK` can hold. A form not
/// walked here keeps its references: the caller reads the result again with
/// [`reads_column`], which sees every one, and refuses to re-point when any is left.
fn rename_column_references(node: &mut Node, from: &str, to: &str) {
    let rename = |nodes: &mut [Node]| nodes.iter_mut().for_each(|n| rename_column_references(n, from, to));
    let rename_one = |node: &mut Option<Box<Node>>| {
        if let Some(node) = node {
            rename_column_references(node, from, to);
        }
    };
    match node.node.as_mut() {
        Some(NodeEnum::ColumnRef(reference)) => {
            if let Some(last) = reference.fields.last_mut() {
                rename_in(std::slice::from_mut(last), from, to);
            }
        }
        Some(NodeEnum::AExpr(expression)) => {
            rename_one(&mut expression.lexpr);
            rename_one(&mut expression.rexpr);
        }
        Some(NodeEnum::BoolExpr(expression)) => rename(&mut expression.args),
        Some(NodeEnum::NullTest(test)) => rename_one(&mut test.arg),
        Some(NodeEnum::BooleanTest(test)) => rename_one(&mut test.arg),
        Some(NodeEnum::TypeCast(cast)) => rename_one(&mut cast.arg),
        Some(NodeEnum::CollateClause(collate)) => rename_one(&mut collate.arg),
        Some(NodeEnum::NamedArgExpr(argument)) => rename_one(&mut argument.arg),
        Some(NodeEnum::FuncCall(call)) => rename(&mut call.args),
        Some(NodeEnum::CaseExpr(case)) => {
            rename_one(&mut case.arg);
            rename(&mut case.args);
            rename_one(&mut case.defresult);
        }
        Some(NodeEnum::CaseWhen(when)) => {
            rename_one(&mut when.expr);
            rename_one(&mut when.result);
        }
        Some(NodeEnum::CoalesceExpr(coalesce)) => rename(&mut coalesce.args),
        Some(NodeEnum::MinMaxExpr(extreme)) => rename(&mut extreme.args),
        Some(NodeEnum::RowExpr(row)) => rename(&mut row.args),
        Some(NodeEnum::AArrayExpr(array)) => rename(&mut array.elements),
        Some(NodeEnum::List(list)) => rename(&mut list.items),
        Some(NodeEnum::AIndirection(indirection)) => {
            rename_one(&mut indirection.arg);
            rename(&mut indirection.indirection);
        }
        Some(NodeEnum::AIndices(indices)) => {
            rename_one(&mut indices.lidx);
            rename_one(&mut indices.uidx);
        }
        _ => {}
    }
}

/// Renames `from` to `to` in a list of plain column names; whether any was renamed.
fn rename_in(names: &mut [Node], from: &str, to: &str) -> bool {
    let mut renamed = false;
    for name in names {
        if let Some(NodeEnum::String(string)) = &mut name.node
            && string.sval == from
        {
            string.sval = to.to_owned();
            renamed = true;
        }
    }
    renamed
}

/// The strings of a list of `String` nodes (column names in keys, qualified names).
pub fn names(nodes: &[Node]) -> Vec<&str> {
    nodes
        .iter()
        .filter_map(|node| match &node.node {
            Some(NodeEnum::String(string)) => Some(string.sval.as_str()),
            _ => None,
        })
        .collect()
}

/// A parsed statement written back as SQL by PostgreSQL's deparser.
fn deparse(statement: NodeEnum) -> Option<String> {
    let version = pg_query::parse("SELECT", 0).ok()?.protobuf.version;
    let result = pg_query::protobuf::ParseResult {
        version,
        stmts: vec![pg_query::protobuf::RawStmt {
            stmt: Some(Box::new(Node { node: Some(statement) })),
            stmt_location: 0,
            stmt_len: 0,
        }],
    };
    pg_query::deparse(&result, Default::default()).ok()
}

fn only_statement(sql: &str) -> Option<NodeEnum> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else { return None };
    raw.stmt.as_ref()?.node.clone()
}

/// `definition` (a `CREATE [UNIQUE] INDEX`) as a concurrent build named `name` on column `to`
/// wherever it keys or includes column `from`.
pub fn index_on(definition: &str, from: &str, to: &str, name: &str) -> Repointed {
    let Some(NodeEnum::IndexStmt(mut index)) = only_statement(definition) else {
        return Repointed::Unsupported("the index definition could not be read");
    };
    if reads_column(&NodeEnum::IndexStmt(index.clone()), from) {
        return Repointed::Unsupported("an expression or WHERE clause of an index reads the column");
    }
    let mut renamed = false;
    for param in index.index_params.iter_mut().chain(index.index_including_params.iter_mut()) {
        if let Some(NodeEnum::IndexElem(element)) = &mut param.node
            && element.name == from
        {
            element.name = to.to_owned();
            renamed = true;
        }
    }
    if !renamed {
        return Repointed::Untouched;
    }
    index.idxname = name.to_owned();
    index.concurrent = true;
    index.if_not_exists = true;
    match deparse(NodeEnum::IndexStmt(index)) {
        Some(sql) => Repointed::Statement(sql),
        None => Repointed::Unsupported("the index definition could not be written again"),
    }
}

/// `definition` (a `CREATE [UNIQUE] INDEX`) under another name; `None` when it cannot be read.
pub fn index_named(definition: &str, name: &str) -> Option<String> {
    let Some(NodeEnum::IndexStmt(mut index)) = only_statement(definition) else { return None };
    index.idxname = name.to_owned();
    deparse(NodeEnum::IndexStmt(index))
}

/// A constraint of `table` (quoted, qualified) re-pointed from column `from` to `to`:
/// - a plain primary key or unique constraint: the unique index, built concurrently and named
///   `name`, that the constraint is attached to after the swap (`USING INDEX`);
/// - a foreign key: the same key named `name` on `to`, added `NOT VALID`;
/// - a `CHECK`: the same check named `name` with every reference to `from` reading `to`, added
///   `NOT VALID` (unsupported when it is `NOT VALID` or `NOT ENFORCED` itself);
/// - anything else that reads the column (an `EXCLUDE`): unsupported.
pub fn constraint_on(table: &str, definition: &str, from: &str, to: &str, name: &str) -> Repointed {
    let sql = format!("ALTER TABLE {table} ADD CONSTRAINT {} {definition}", crate::quote_ident(name));
    let Some(NodeEnum::AlterTableStmt(mut alter)) = only_statement(&sql) else {
        return Repointed::Unsupported("the constraint definition could not be read");
    };
    let Some(NodeEnum::AlterTableCmd(command)) = alter.cmds.first_mut().and_then(|c| c.node.as_mut()) else {
        return Repointed::Unsupported("the constraint definition could not be read");
    };
    let Some(NodeEnum::Constraint(constraint)) = command.def.as_mut().and_then(|d| d.node.as_mut()) else {
        return Repointed::Unsupported("the constraint definition could not be read");
    };
    let reads = reads_column(&NodeEnum::Constraint(constraint.clone()), from);
    match ConstrType::try_from(constraint.contype) {
        Ok(ConstrType::ConstrPrimary | ConstrType::ConstrUnique) => {
            if !names(&constraint.keys).contains(&from) && !names(&constraint.including).contains(&from) {
                return if reads {
                    Repointed::Unsupported("a key reads the column")
                } else {
                    Repointed::Untouched
                };
            }
            let plain = constraint.including.is_empty()
                && !constraint.nulls_not_distinct
                && !constraint.deferrable
                && !constraint.without_overlaps
                && constraint.options.is_empty()
                && constraint.indexspace.is_empty()
                && constraint.where_clause.is_none();
            if !plain {
                return Repointed::Unsupported(
                    "a key with INCLUDE, NULLS NOT DISTINCT, DEFERRABLE or storage options uses the column",
                );
            }
            let columns: Vec<String> = names(&constraint.keys)
                .into_iter()
                .map(|column| crate::quote_ident(if column == from { to } else { column }))
                .collect();
            Repointed::Statement(format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {table} ({})",
                crate::quote_ident(name),
                columns.join(", ")
            ))
        }
        Ok(ConstrType::ConstrForeign) => {
            let referenced_here = constraint.pktable.as_ref().is_some_and(|pk| {
                alter
                    .relation
                    .as_ref()
                    .is_some_and(|own| own.relname == pk.relname && own.schemaname == pk.schemaname)
            }) && names(&constraint.pk_attrs).contains(&from);
            if referenced_here {
                return Repointed::Unsupported("a foreign key of the table references the column");
            }
            if !rename_in(&mut constraint.fk_attrs, from, to) {
                return Repointed::Untouched;
            }
            constraint.skip_validation = true;
            constraint.initially_valid = false;
            match deparse(NodeEnum::AlterTableStmt(alter)) {
                Some(sql) => Repointed::Statement(sql),
                None => Repointed::Unsupported("the foreign key could not be written again"),
            }
        }
        Ok(ConstrType::ConstrCheck) if reads => {
            // One the desired schema holds unvalidated or unenforced would come out validated.
            if constraint.skip_validation || !constraint.is_enforced {
                return Repointed::Unsupported(
                    "a CHECK constraint NOT VALID or NOT ENFORCED reads the column",
                );
            }
            if let Some(expression) = constraint.raw_expr.as_deref_mut() {
                rename_column_references(expression, from, to);
            }
            if reads_column(&NodeEnum::Constraint(constraint.clone()), from) {
                return Repointed::Unsupported(
                    "a CHECK constraint reads the column in a form haste cannot re-point",
                );
            }
            constraint.skip_validation = true;
            constraint.initially_valid = false;
            match deparse(NodeEnum::AlterTableStmt(alter)) {
                Some(sql) => Repointed::Statement(sql),
                None => Repointed::Unsupported("the CHECK constraint could not be written again"),
            }
        }
        Ok(ConstrType::ConstrExclusion) if reads || excludes_on(constraint, from) => {
            Repointed::Unsupported("an EXCLUDE constraint uses the column")
        }
        _ if reads => Repointed::Unsupported("a constraint reads the column"),
        _ => Repointed::Untouched,
    }
}

/// Whether an `EXCLUDE` constraint has `column` itself (not an expression of it, which
/// [`reads_column`] finds) as one of its elements: each is a list of the element and its operator.
fn excludes_on(constraint: &Constraint, column: &str) -> bool {
    constraint.exclusions.iter().any(|exclusion| match &exclusion.node {
        Some(NodeEnum::List(pair)) => pair
            .items
            .iter()
            .any(|item| matches!(&item.node, Some(NodeEnum::IndexElem(element)) if element.name == column)),
        _ => false,
    })
}

/// Whether the definition of a view, trigger or policy (any statement) reads `column` of a
/// table named `table`: conservatively, whether it names both (a join `USING` the column, or
/// a `NATURAL` join, which names none, counts).
pub fn mentions(statement: &str, table: &str, column: &str) -> bool {
    let Some(node) = only_statement(statement) else { return true };
    let joins_on = node.nodes().into_iter().any(|(node, ..)| match node {
        pg_query::NodeRef::JoinExpr(join) => join.is_natural || names(&join.using_clause).contains(&column),
        _ => false,
    });
    range_names(&node).contains(table)
        && (joins_on
            || column_references(&node)
                .iter()
                .any(|reference| reference.as_deref().is_none_or(|name| name == column)))
}

/// Whether a trigger (its `CREATE TRIGGER` statement) depends on `column` of `table`, so that
/// PostgreSQL refuses to drop the column under it: its `UPDATE OF` list names the column, or its
/// `WHEN` condition reads it (as [`mentions`] judges); `true` when the statement cannot be read.
pub fn trigger_reads(definition: &str, table: &str, column: &str) -> bool {
    let Some(node) = only_statement(definition) else { return true };
    let listed = match &node {
        NodeEnum::CreateTrigStmt(trigger) => names(&trigger.columns).contains(&column),
        _ => false,
    };
    listed || mentions(definition, table, column)
}

/// The relations (tables, views, and common table expressions, which read alike) a statement
/// names, by name without their schema; `None` when the statement cannot be read.
pub fn relations(statement: &str) -> Option<BTreeSet<String>> {
    only_statement(statement).map(|node| range_names(&node).into_iter().map(str::to_owned).collect())
}

/// What a statement reads, by name without schema (so a caller matching them can only find more):
/// the relations it names, as [`relations`] reads them, and the functions it calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Tables, views and common table expressions.
    pub relations: BTreeSet<String>,
    /// Functions called.
    pub functions: BTreeSet<String>,
}

/// What the statements of `sql` read ([`Reads`]). A `CREATE FUNCTION` is read through its body,
/// a quoted one (`AS '...'`, every statement of it) or a `BEGIN ATOMIC` one, which pg_query's
/// walker does not enter, and its argument and result types count as relations (a table's row
/// type is named as the table); `None` when a statement or such a body cannot be read.
pub fn reads(sql: &str) -> Option<Reads> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let mut reads = Reads::default();
    for raw in &parsed.protobuf.stmts {
        read_into(raw.stmt.as_ref()?.node.as_ref()?, &mut reads)?;
    }
    Some(reads)
}

fn read_into(node: &NodeEnum, into: &mut Reads) -> Option<()> {
    match node {
        NodeEnum::CreateFunctionStmt(function) => {
            // A table's row type, as an argument or result (`RETURNS SETOF t`), needs the table.
            let parameters = function.parameters.iter().filter_map(|parameter| match &parameter.node {
                Some(NodeEnum::FunctionParameter(parameter)) => parameter.arg_type.as_ref(),
                _ => None,
            });
            for type_name in function.return_type.iter().chain(parameters) {
                if let Some(name) = names(&type_name.names).last() {
                    into.relations.insert((*name).to_owned());
                }
            }
            if let Some(body) = function.sql_body.as_ref().and_then(|body| body.node.as_ref()) {
                read_into(body, into)?;
            }
            let quoted_body = function.options.iter().find_map(|option| match &option.node {
                Some(NodeEnum::DefElem(element)) if element.defname == "as" => element.arg.as_ref(),
                _ => None,
            });
            // `AS 'body'`, or `AS 'file', 'symbol'` for C: the first string is the body.
            if let Some(Some(NodeEnum::List(list))) = quoted_body.map(|arg| arg.node.as_ref())
                && let Some(body) = names(&list.items).first()
            {
                let body = reads(body)?;
                into.relations.extend(body.relations);
                into.functions.extend(body.functions);
            }
        }
        // A `BEGIN ATOMIC` body is a list of statements (in a list).
        NodeEnum::List(list) => {
            for item in list.items.iter().filter_map(|item| item.node.as_ref()) {
                read_into(item, into)?;
            }
        }
        node => {
            for (node, ..) in node.nodes() {
                match node {
                    pg_query::NodeRef::RangeVar(range) => {
                        into.relations.insert(range.relname.clone());
                    }
                    pg_query::NodeRef::FuncCall(call) => {
                        if let Some(name) = names(&call.funcname).last() {
                            into.functions.insert((*name).to_owned());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Some(())
}

/// The types a statement names (in casts, mostly), by name without their schema; `None` when
/// the statement cannot be read. Read from the whole syntax tree as data: `pg_query`'s walker
/// does not go into every node (a field of a cast, `(ROW(1)::t).a`, is an `A_Indirection` it
/// leaves out), and a type missed here is a view not recreated around its type's change.
pub fn type_names(statement: &str) -> Option<BTreeSet<String>> {
    fn collect(value: &serde_json::Value, names: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, value) in fields {
                    if key == "type_name" || key == "TypeName" {
                        let last = value.get("names").and_then(|names| names.as_array()?.last());
                        if let Some(name) = last.and_then(|name| name.pointer("/node/String/sval")?.as_str())
                        {
                            names.insert(name.to_owned());
                        }
                    }
                    collect(value, names);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, names)),
            _ => {}
        }
    }
    let parsed = pg_query::parse(statement, 0).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else { return None };
    let tree = serde_json::to_value(raw).ok()?;
    let mut names = BTreeSet::new();
    collect(&tree, &mut names);
    Some(names)
}

fn range_names(node: &NodeEnum) -> BTreeSet<&str> {
    node.nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            pg_query::NodeRef::RangeVar(range) => Some(range.relname.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether an expression of table `table` (a generated column's, a policy's) reads `column`,
/// read as a query of the table: conservatively, as [`mentions`] judges it.
pub fn expression_reads(table: &str, expression: &str, column: &str) -> bool {
    mentions(&format!("SELECT 1 FROM {} WHERE {expression}", crate::quote_ident(table)), table, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_move_to_the_new_column() {
        let moved = index_on(
            "CREATE UNIQUE INDEX contacts_a_score_idx ON public.contacts USING btree (a, score) INCLUDE (score)",
            "score",
            "score_new",
            "contacts_a_score_idx_new",
        );
        assert_eq!(
            moved,
            Repointed::Statement(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS contacts_a_score_idx_new ON public.contacts USING btree (a, score_new) INCLUDE (score_new)".into()
            )
        );
        assert_eq!(
            index_on("CREATE INDEX i ON public.contacts USING btree (a)", "score", "s2", "n"),
            Repointed::Untouched
        );
        for expression in [
            "CREATE INDEX i ON public.contacts USING btree (lower(score))",
            "CREATE INDEX i ON public.contacts USING btree (a) WHERE (score > 0)",
        ] {
            assert!(
                matches!(index_on(expression, "score", "s2", "n"), Repointed::Unsupported(_)),
                "{expression}"
            );
        }
    }

    #[test]
    fn keys_become_unique_indexes_and_foreign_keys_start_not_valid() {
        let table = "\"public\".\"deals\"";
        assert_eq!(
            constraint_on(table, "PRIMARY KEY (id)", "id", "id_new", "deals_pkey_new"),
            Repointed::Statement(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"deals_pkey_new\" ON \"public\".\"deals\" (\"id_new\")".into()
            )
        );
        let Repointed::Statement(foreign) = constraint_on(
            table,
            "FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE",
            "contact_id",
            "contact_id_new",
            "deals_contact_fkey_new",
        ) else {
            panic!("a foreign key moves")
        };
        assert!(foreign.contains("FOREIGN KEY (contact_id_new) REFERENCES contacts (id)"), "{foreign}");
        assert!(foreign.contains("ON DELETE CASCADE") && foreign.ends_with("NOT VALID"), "{foreign}");
        assert_eq!(constraint_on(table, "CHECK ((amount > 0))", "id", "x", "n"), Repointed::Untouched);
        assert!(matches!(
            constraint_on(table, "UNIQUE NULLS NOT DISTINCT (id)", "id", "x", "n"),
            Repointed::Unsupported(_)
        ));
        assert!(matches!(
            constraint_on(table, "FOREIGN KEY (parent) REFERENCES public.deals(id)", "id", "x", "n"),
            Repointed::Unsupported(_)
        ));
    }

    #[test]
    fn checks_read_the_new_column_and_start_not_valid() {
        let table = "\"public\".\"deals\"";
        let on_new = |definition: &str, column: &str| match constraint_on(
            table,
            definition,
            column,
            &format!("{column}_new"),
            "c_new",
        ) {
            Repointed::Statement(sql) => sql,
            other => panic!("{definition}: {other:?}"),
        };
        assert_eq!(
            on_new("CHECK ((amount >= (0)::numeric))", "amount"),
            "ALTER TABLE public.deals ADD CONSTRAINT c_new CHECK (amount_new >= 0::numeric) NOT VALID"
        );
        assert_eq!(
            on_new("CHECK (((code)::text <> ''::text))", "code"),
            "ALTER TABLE public.deals ADD CONSTRAINT c_new CHECK (code_new::text <> ''::text) NOT VALID"
        );
        assert_eq!(
            on_new("CHECK (((n >= 0) AND (n <= 100)))", "n"),
            "ALTER TABLE public.deals ADD CONSTRAINT c_new CHECK (n_new >= 0 AND n_new <= 100) NOT VALID"
        );
        // Every reference moves, through the forms a check holds; other columns stay.
        let moved = on_new(
            "CHECK (((COALESCE(n, 0) > other) AND ((n IS NOT NULL) IS TRUE) AND (n = ANY (ARRAY[1, n])) \
             AND (CASE WHEN (n > 1) THEN deals.n ELSE other END < 5) AND (n BETWEEN 0 AND other) \
             AND (lower((n)::text COLLATE \"C\") <> ''::text) AND (ROW(n, other) IS NOT NULL)))",
            "n",
        );
        assert!(!reads_column(&only_statement(&moved).expect("it reads back"), "n"), "{moved}");
        assert_eq!(moved.matches("n_new").count(), 9, "{moved}");
        assert_eq!(moved.matches("other").count(), 4, "{moved}");
        for (definition, why) in [
            ("CHECK ((xmlelement(name a, n) IS NOT NULL))", "a form not walked"),
            ("CHECK ((n > 0)) NOT VALID", "an unvalidated check"),
            ("EXCLUDE USING gist (n WITH =)", "an exclusion"),
        ] {
            assert!(
                matches!(constraint_on(table, definition, "n", "n_new", "c_new"), Repointed::Unsupported(_)),
                "{why}"
            );
        }
    }

    #[test]
    fn an_index_takes_another_name() {
        assert_eq!(
            index_named("CREATE INDEX a ON public.t USING btree (x) WHERE (x > 0)", "b").as_deref(),
            Some("CREATE INDEX b ON public.t USING btree (x) WHERE x > 0")
        );
    }

    #[test]
    fn functions_are_read_through_their_bodies() {
        let read = |sql: &str| {
            let reads = reads(sql).unwrap();
            (reads.relations.into_iter().collect::<Vec<_>>(), reads.functions.into_iter().collect::<Vec<_>>())
        };
        let quoted = "CREATE OR REPLACE FUNCTION public.f2()\n RETURNS bigint\n LANGUAGE sql\n\
                      AS $function$ SELECT total FROM v; SELECT f1() + count(*) FROM crm.t $function$\n";
        assert_eq!(
            read(quoted),
            (vec!["int8".into(), "t".into(), "v".into()], vec!["count".into(), "f1".into()])
        );
        let atomic =
            "CREATE FUNCTION g(a crm.t) RETURNS SETOF u LANGUAGE sql BEGIN ATOMIC SELECT f1() FROM v; END";
        assert_eq!(read(atomic), (vec!["t".into(), "u".into(), "v".into()], vec!["f1".into()]));
        assert_eq!(read("SELECT (x * public.double(y)) FROM t"), (vec!["t".into()], vec!["double".into()]));
        assert_eq!(reads("CREATE FUNCTION h() RETURNS int LANGUAGE sql AS 'SELECT FROM WHERE'"), None);
    }

    #[test]
    fn triggers_on_the_column_are_found_by_their_column_list_or_condition() {
        let of =
            "CREATE TRIGGER t BEFORE UPDATE OF n, m ON public.contacts FOR EACH ROW EXECUTE FUNCTION f()";
        assert!(trigger_reads(of, "contacts", "n"));
        assert!(!trigger_reads(of, "contacts", "k"));
        let when = "CREATE TRIGGER t BEFORE UPDATE ON public.contacts FOR EACH ROW WHEN ((new.n > 0)) EXECUTE FUNCTION f()";
        assert!(trigger_reads(when, "contacts", "n"));
        assert!(!trigger_reads(when, "contacts", "k"));
        let plain = "CREATE TRIGGER t BEFORE UPDATE ON public.contacts FOR EACH ROW EXECUTE FUNCTION f('n')";
        assert!(!trigger_reads(plain, "contacts", "n"));
    }

    #[test]
    fn views_that_read_the_column_or_every_column_are_found() {
        assert!(mentions("CREATE VIEW v AS SELECT score FROM contacts", "contacts", "score"));
        assert!(mentions("CREATE VIEW v AS SELECT * FROM contacts", "contacts", "score"));
        assert!(!mentions("CREATE VIEW v AS SELECT name FROM contacts", "contacts", "score"));
        assert!(!mentions("CREATE VIEW v AS SELECT score FROM deals", "contacts", "score"));
        assert!(mentions(
            "CREATE VIEW v AS SELECT d.id FROM deals d JOIN contacts USING (score)",
            "contacts",
            "score"
        ));
        assert!(mentions(
            "CREATE VIEW v AS SELECT d.id FROM deals d NATURAL JOIN contacts",
            "contacts",
            "score"
        ));
        assert!(!mentions(
            "CREATE VIEW v AS SELECT d.id FROM deals d JOIN contacts USING (id)",
            "contacts",
            "score"
        ));
        assert!(mentions("CREATE VIEW v AS SELECT \"we\"\"ird\\\" FROM contacts", "contacts", "we\"ird\\"));
    }

    #[test]
    fn the_relations_a_view_reads_are_named() {
        let read = relations(
            " SELECT d.id FROM crm.deals d JOIN open_deals o USING (id) WHERE d.id IN (SELECT id FROM won);",
        );
        assert_eq!(read, Some(["deals", "open_deals", "won"].map(String::from).into()));
        assert_eq!(relations("SELECT FROM ("), None);
        let cast = type_names(" SELECT d.id FROM crm.deals d WHERE d.stage = 'won'::crm.stage;");
        assert_eq!(cast, Some(["stage".to_owned()].into()));
        // A field of a cast row: the walker of `pg_query` does not go into `A_Indirection`.
        let field = type_names(" SELECT (ROW(1, 'x'::text)::comp).a AS a, CAST(NULL AS public.mood[]) AS m;");
        assert_eq!(field, Some(["comp", "mood", "text"].map(String::from).into()));
        assert_eq!(type_names("SELECT ("), None);
    }
}
