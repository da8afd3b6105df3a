//! What a PL/pgSQL `DO` block runs, read from its body with PostgreSQL's own PL/pgSQL parser:
//! shared by the lock judgement (`lock.rs`) and the session settings a statement makes
//! (`postgres.rs`).

use pg_query::NodeEnum;

/// The syntax tree (as JSON) of a PL/pgSQL `DO` block; `None` for another language or a body
/// that does not parse.
pub(crate) fn plpgsql_tree(block: &pg_query::protobuf::DoStmt) -> Option<serde_json::Value> {
    let mut language = None;
    let mut body = None;
    for argument in &block.args {
        if let Some(NodeEnum::DefElem(element)) = &argument.node
            && let Some(NodeEnum::String(value)) = element.arg.as_deref().and_then(|arg| arg.node.as_ref())
        {
            match element.defname.as_str() {
                "as" => body = Some(value.sval.clone()),
                "language" => language = Some(value.sval.to_ascii_lowercase()),
                _ => {}
            }
        }
    }
    let (Some(body), None | Some("plpgsql")) = (body, language.as_deref()) else { return None };
    let function = format!(
        "CREATE FUNCTION haste_check() RETURNS void LANGUAGE plpgsql AS {}",
        crate::dollar_quote(&body)
    );
    pg_query::parse_plpgsql(&function).ok()
}

/// The statements a PL/pgSQL `DO` block runs that can be read from its text: its queries, and
/// what an `EXECUTE` of a string literal runs. What it builds at run time cannot be read.
pub(crate) fn block_statements(block: &pg_query::protobuf::DoStmt) -> Vec<String> {
    fn collect(value: &serde_json::Value, queries: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(object) => {
                for (key, value) in object {
                    match (key.as_str(), value) {
                        ("query", serde_json::Value::String(query)) => queries.push(query.clone()),
                        _ => collect(value, queries),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, queries)),
            _ => {}
        }
    }
    let mut queries = Vec::new();
    if let Some(tree) = plpgsql_tree(block) {
        collect(&tree, &mut queries);
    }
    queries
        .into_iter()
        .filter_map(|query| {
            if pg_query::parse(&query, 0).is_ok_and(|parsed| !parsed.protobuf.stmts.is_empty()) {
                return Some(query);
            }
            // An expression: an `EXECUTE`d string literal is the statement it runs.
            let expression = format!("SELECT {query}");
            let parsed = pg_query::parse(&expression, 0).ok()?;
            let literal = parsed.protobuf.stmts.first().and_then(|statement| {
                let Some(NodeEnum::SelectStmt(select)) = statement.stmt.as_ref()?.node.as_ref() else {
                    return None;
                };
                let [target] = select.target_list.as_slice() else { return None };
                let Some(NodeEnum::ResTarget(target)) = target.node.as_ref() else { return None };
                let Some(NodeEnum::AConst(constant)) = target.val.as_ref()?.node.as_ref() else {
                    return None;
                };
                match constant.val.as_ref()? {
                    pg_query::protobuf::a_const::Val::Sval(text) => Some(text.sval.clone()),
                    _ => None,
                }
            });
            Some(literal.unwrap_or(expression))
        })
        .collect()
}
