//! PostgreSQL scripts, split and classified by PostgreSQL's own grammar.

use pg_query::NodeEnum;
use pg_query::protobuf::{
    AlterSubscriptionType, AlterTableType, DiscardMode, ReindexObjectType, TransactionStmtKind,
};

use crate::{Script, Statement, StatementKind, TransactionControl, trivia};

pub(crate) fn parse(sql: &str) -> Script {
    parse_with_trees(sql).script
}

/// A PostgreSQL script with the syntax tree of each statement, for analysis.
#[derive(Debug)]
pub struct ParsedScript {
    /// The statements, as [`Script::parse`] cuts them.
    pub script: Script,
    /// For each statement, its syntax tree, or why PostgreSQL's grammar refuses it.
    pub trees: Vec<Result<NodeEnum, String>>,
}

/// Cuts and classifies a PostgreSQL script like [`Script::parse`], keeping the syntax tree of
/// every statement (parsed once, for the cut and the trees alike).
pub fn parse_with_trees(sql: &str) -> ParsedScript {
    match pg_query::parse(sql, 0) {
        Ok(parsed) => {
            let (statements, trees) = parsed
                .protobuf
                .stmts
                .into_iter()
                .filter_map(|raw| {
                    let offset = raw.stmt_location as usize;
                    // A length of 0 means "to the end of the script".
                    let end = if raw.stmt_len == 0 { sql.len() } else { offset + raw.stmt_len as usize };
                    let node = raw.stmt.and_then(|node| node.node)?;
                    let statement = statement(sql, offset, end, &node);
                    (!trivia::is_blank(&statement.text)).then_some((statement, Ok(node)))
                })
                .unzip();
            ParsedScript { script: Script { statements, parse_error: None }, trees }
        }
        Err(error) => {
            let (statements, trees) = split_by_scanner(sql).into_iter().unzip();
            ParsedScript { script: Script { statements, parse_error: Some(error.to_string()) }, trees }
        }
    }
}

/// A statement of a parsed script, classified from its tree.
fn statement(sql: &str, offset: usize, end: usize, node: &NodeEnum) -> Statement {
    let may_commit = matches!(node, NodeEnum::CallStmt(_) | NodeEnum::DoStmt(_));
    Statement { may_commit, ..Statement::new(sql, offset, end, classify(node)) }
}

/// Cuts a script the grammar refused, so every statement before and after the bad one can still
/// be classified and the database can report the bad one precisely.
///
/// A piece the grammar refuses on its own is [`StatementKind::Plain`], whatever its first word:
/// it fails when it runs, and in the runner's transaction that failure leaves nothing behind.
fn split_by_scanner(sql: &str) -> Vec<(Statement, Result<NodeEnum, String>)> {
    let Some(pieces) = scanner_pieces(sql) else {
        // Only a NUL byte gets here; let the database judge the whole text.
        let statement = Statement::new(sql, 0, sql.len(), StatementKind::Plain);
        return vec![(statement, Err("the script contains a NUL byte".to_owned()))];
    };
    pieces
        .into_iter()
        .filter(|&(start, end)| !trivia::is_blank(&sql[start..end]))
        .map(|(offset, end)| {
            let piece = &sql[offset..end];
            let tree = pg_query::parse(piece, 0).map_err(|error| error.to_string()).and_then(|parsed| {
                parsed
                    .protobuf
                    .stmts
                    .into_iter()
                    .next()
                    .and_then(|raw| raw.stmt)
                    .and_then(|node| node.node)
                    .ok_or_else(|| "empty statement".to_owned())
            });
            let statement = match &tree {
                Ok(node) => statement(sql, offset, end, node),
                Err(_) => Statement::new(sql, offset, end, StatementKind::Plain),
            };
            (statement, tree)
        })
        .collect()
}

/// The byte ranges of a script's statements, cut at every `;` PostgreSQL's scanner sees outside
/// a `BEGIN ATOMIC ... END` body (whose `CASE ... END` expressions nest inside it). `None` when
/// the script holds a NUL byte.
fn scanner_pieces(sql: &str) -> Option<Vec<(usize, usize)>> {
    use pg_query::protobuf::Token;
    let Ok(tokens) = pg_query::scan_tokens(sql) else {
        // The scanner refuses the text (an unterminated string or comment): cut as PostgreSQL's
        // own statement splitter does, as far as it can.
        let pieces = pg_query::split_with_scanner(sql).ok()?;
        return Some(
            pieces
                .into_iter()
                .map(|piece| {
                    let offset = piece.as_ptr() as usize - sql.as_ptr() as usize;
                    (offset, offset + piece.len())
                })
                .collect(),
        );
    };
    let tokens: Vec<(Option<Token>, usize, usize)> = tokens
        .iter()
        .map(|token| (Token::try_from(token.token).ok(), token.start as usize, token.end as usize))
        .filter(|(token, ..)| !matches!(token, Some(Token::SqlComment | Token::CComment)))
        .collect();
    let (mut pieces, mut start, mut depth) = (Vec::new(), 0, 0usize);
    for (index, &(token, token_start, token_end)) in tokens.iter().enumerate() {
        match token {
            Some(Token::BeginP) if matches!(tokens.get(index + 1), Some((Some(Token::Atomic), ..))) => {
                depth += 1
            }
            Some(Token::Case) if depth > 0 => depth += 1,
            Some(Token::EndP) if depth > 0 => depth -= 1,
            Some(Token::Ascii59) if depth == 0 => {
                pieces.push((start, token_start));
                start = token_end;
            }
            _ => {}
        }
    }
    pieces.push((start, sql.len()));
    Some(pieces)
}

/// The statements PostgreSQL refuses inside a transaction block (`PreventInTransactionBlock`
/// callers in the server source), and transaction control.
fn classify(node: &NodeEnum) -> StatementKind {
    use StatementKind::{NoTransaction, Plain};
    match node {
        NodeEnum::IndexStmt(index) if index.concurrent => NoTransaction("CREATE INDEX CONCURRENTLY"),
        NodeEnum::DropStmt(drop) if drop.concurrent => NoTransaction("DROP INDEX CONCURRENTLY"),
        NodeEnum::ReindexStmt(reindex) => {
            if has_option(&reindex.params, "concurrently") {
                NoTransaction("REINDEX CONCURRENTLY")
            } else if reindex.kind == ReindexObjectType::ReindexObjectSchema as i32
                || reindex.kind == ReindexObjectType::ReindexObjectSystem as i32
                || reindex.kind == ReindexObjectType::ReindexObjectDatabase as i32
            {
                NoTransaction("REINDEX SCHEMA, SYSTEM or DATABASE")
            } else {
                Plain
            }
        }
        NodeEnum::VacuumStmt(vacuum) if vacuum.is_vacuumcmd => NoTransaction("VACUUM"),
        NodeEnum::ClusterStmt(cluster) if cluster.relation.is_none() => {
            NoTransaction("CLUSTER without a table")
        }
        NodeEnum::AlterSystemStmt(_) => NoTransaction("ALTER SYSTEM"),
        NodeEnum::CreatedbStmt(_) => NoTransaction("CREATE DATABASE"),
        NodeEnum::DropdbStmt(_) => NoTransaction("DROP DATABASE"),
        NodeEnum::CreateTableSpaceStmt(_) => NoTransaction("CREATE TABLESPACE"),
        NodeEnum::DropTableSpaceStmt(_) => NoTransaction("DROP TABLESPACE"),
        NodeEnum::CreateSubscriptionStmt(_) => NoTransaction("CREATE SUBSCRIPTION"),
        NodeEnum::DropSubscriptionStmt(_) => NoTransaction("DROP SUBSCRIPTION"),
        NodeEnum::AlterSubscriptionStmt(alter)
            if alter.kind == AlterSubscriptionType::AlterSubscriptionRefresh as i32 =>
        {
            NoTransaction("ALTER SUBSCRIPTION ... REFRESH PUBLICATION")
        }
        NodeEnum::AlterSubscriptionStmt(alter)
            if [
                AlterSubscriptionType::AlterSubscriptionSetPublication,
                AlterSubscriptionType::AlterSubscriptionAddPublication,
                AlterSubscriptionType::AlterSubscriptionDropPublication,
            ]
            .iter()
            .any(|kind| alter.kind == *kind as i32) =>
        {
            // With `refresh = false` it could run in one; alone it runs either way.
            NoTransaction("ALTER SUBSCRIPTION ... PUBLICATION")
        }
        NodeEnum::AlterTableStmt(alter) if detaches_concurrently(alter) => {
            NoTransaction("DETACH PARTITION CONCURRENTLY")
        }
        NodeEnum::DiscardStmt(discard) if discard.target == DiscardMode::DiscardAll as i32 => {
            NoTransaction("DISCARD ALL")
        }
        NodeEnum::AlterDatabaseStmt(alter) if has_option(&alter.options, "tablespace") => {
            NoTransaction("ALTER DATABASE ... SET TABLESPACE")
        }
        NodeEnum::TransactionStmt(transaction) => {
            use TransactionStmtKind::*;
            StatementKind::TransactionControl(match TransactionStmtKind::try_from(transaction.kind) {
                Ok(TransStmtBegin | TransStmtStart) => TransactionControl::Begin,
                Ok(TransStmtCommit) if transaction.chain => TransactionControl::CommitAndChain,
                Ok(TransStmtRollback) if transaction.chain => TransactionControl::RollbackAndChain,
                Ok(TransStmtCommit) => TransactionControl::Commit,
                Ok(TransStmtRollback) => TransactionControl::Rollback,
                // Savepoints run inside the transaction they are in: they do not manage it.
                Ok(TransStmtSavepoint | TransStmtRelease | TransStmtRollbackTo) => return Plain,
                _ => TransactionControl::Other,
            })
        }
        _ => Plain,
    }
}

/// What a PostgreSQL `CREATE INDEX CONCURRENTLY` statement builds. A failed build leaves an
/// invalid index behind, which has to be dropped before the statement can run again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrentIndex {
    /// The quoted, schema-qualified name of the index, when the statement names it (PostgreSQL
    /// picks a free name otherwise).
    pub name: Option<String>,
    /// The quoted, possibly schema-qualified table it indexes, as written.
    pub table: String,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// The key columns in order, when every key is a plain column and there is no `WHERE`;
    /// `None` for expression or partial indexes.
    pub columns: Option<Vec<String>>,
}

/// The index a `CREATE INDEX CONCURRENTLY` statement builds; `None` for any other statement.
pub fn concurrent_index(statement: &str) -> Option<ConcurrentIndex> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    match raw.stmt.as_ref()?.node.as_ref()? {
        NodeEnum::IndexStmt(index) if index.concurrent => {
            let relation = index.relation.as_ref()?;
            let qualified = |name: &str| match relation.schemaname.as_str() {
                "" => crate::quote_ident(name),
                schema => format!("{}.{}", crate::quote_ident(schema), crate::quote_ident(name)),
            };
            let columns: Option<Vec<String>> = index
                .index_params
                .iter()
                .map(|param| match &param.node {
                    Some(NodeEnum::IndexElem(element)) if !element.name.is_empty() => {
                        Some(element.name.clone())
                    }
                    _ => None,
                })
                .collect();
            Some(ConcurrentIndex {
                // An index lives in its table's schema.
                name: (!index.idxname.is_empty()).then(|| qualified(&index.idxname)),
                table: qualified(&relation.relname),
                unique: index.unique,
                columns: columns.filter(|_| index.where_clause.is_none()),
            })
        }
        _ => None,
    }
}

/// What a `REINDEX ... CONCURRENTLY` rebuilds: the index, table, schema or database it names,
/// quoted as SQL text (a cancelled one leaves INVALID `_ccnew` or `_ccold` indexes behind);
/// `None` for any other statement.
pub fn reindexed_relation(statement: &str) -> Option<(ReindexTarget, String)> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    match raw.stmt.as_ref()?.node.as_ref()? {
        NodeEnum::ReindexStmt(reindex) if has_option(&reindex.params, "concurrently") => {
            let relation = || {
                let relation = reindex.relation.as_ref()?;
                Some(match relation.schemaname.as_str() {
                    "" => crate::quote_ident(&relation.relname),
                    schema => {
                        format!("{}.{}", crate::quote_ident(schema), crate::quote_ident(&relation.relname))
                    }
                })
            };
            match ReindexObjectType::try_from(reindex.kind) {
                Ok(ReindexObjectType::ReindexObjectIndex) => Some((ReindexTarget::Index, relation()?)),
                Ok(ReindexObjectType::ReindexObjectTable) => Some((ReindexTarget::Table, relation()?)),
                Ok(ReindexObjectType::ReindexObjectSchema) => {
                    Some((ReindexTarget::Schema, crate::quote_ident(&reindex.name)))
                }
                Ok(ReindexObjectType::ReindexObjectDatabase) => Some((
                    ReindexTarget::Database,
                    match reindex.name.as_str() {
                        "" => String::new(),
                        name => crate::quote_ident(name),
                    },
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What a `REINDEX` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexTarget {
    /// `REINDEX INDEX`.
    Index,
    /// `REINDEX TABLE`.
    Table,
    /// `REINDEX SCHEMA`: every table of the schema.
    Schema,
    /// `REINDEX DATABASE`: every table of the current database (the only one it may name; the
    /// name quoted, or empty when left out).
    Database,
}

/// The partitioned table and the partition of an `ALTER TABLE ... DETACH PARTITION ...
/// CONCURRENTLY`, quoted and qualified as written; `None` for any other statement.
/// Interrupted, such a detach leaves the partition "detach pending" until `DETACH PARTITION
/// ... FINALIZE` completes it.
pub fn detached_partition(statement: &str) -> Option<(String, String)> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    let NodeEnum::AlterTableStmt(alter) = raw.stmt.as_ref()?.node.as_ref()? else { return None };
    let partition = alter.cmds.iter().find_map(|cmd| match &cmd.node {
        Some(NodeEnum::AlterTableCmd(cmd)) if cmd.subtype == AlterTableType::AtDetachPartition as i32 => {
            match cmd.def.as_deref().and_then(|def| def.node.as_ref()) {
                Some(NodeEnum::PartitionCmd(partition)) if partition.concurrent => partition.name.clone(),
                _ => None,
            }
        }
        _ => None,
    })?;
    let qualified = |relation: &pg_query::protobuf::RangeVar| match relation.schemaname.as_str() {
        "" => crate::quote_ident(&relation.relname),
        schema => format!("{}.{}", crate::quote_ident(schema), crate::quote_ident(&relation.relname)),
    };
    Some((qualified(alter.relation.as_ref()?), qualified(&partition)))
}

fn has_option(params: &[pg_query::Node], name: &str) -> bool {
    params.iter().any(
        |param| matches!(&param.node, Some(NodeEnum::DefElem(def)) if def.defname.eq_ignore_ascii_case(name)),
    )
}

fn detaches_concurrently(alter: &pg_query::protobuf::AlterTableStmt) -> bool {
    alter.cmds.iter().any(|cmd| match &cmd.node {
        Some(NodeEnum::AlterTableCmd(cmd)) if cmd.subtype == AlterTableType::AtDetachPartition as i32 => {
            matches!(cmd.def.as_deref().and_then(|def| def.node.as_ref()),
                Some(NodeEnum::PartitionCmd(partition)) if partition.concurrent)
        }
        _ => false,
    })
}

/// Whether a statement sets characteristics of the open transaction, which a chained commit
/// carries into the next one: `SET TRANSACTION ...` (isolation level, `READ ONLY`, `DEFERRABLE`,
/// `SNAPSHOT`), or the same through their settings (`SET [LOCAL] transaction_isolation = ...`,
/// `transaction_read_only`, `transaction_deferrable`, which act on the current transaction only).
pub fn sets_transaction_characteristics(statement: &str) -> bool {
    first_setting(statement).is_some_and(|set| of_transaction(&set))
}

/// The search path a parsed `SET`/`RESET` sets (`SET [LOCAL] search_path = app, public`): its
/// schemas as written, `"$user"` left out; `Some` of none for `RESET` or `SET ... TO DEFAULT`
/// (the session's own again); `None` for another setting ([`crate::LockFacts::search_path`]).
pub(crate) fn search_path_of(set: &pg_query::protobuf::VariableSetStmt) -> Option<Vec<String>> {
    use pg_query::protobuf::VariableSetKind;
    if set.name != "search_path" {
        return None;
    }
    if set.kind != VariableSetKind::VarSetValue as i32 {
        return Some(Vec::new());
    }
    Some(
        set.args
            .iter()
            .filter_map(|argument| match argument.node.as_ref()? {
                NodeEnum::AConst(constant) => match constant.val.as_ref()? {
                    pg_query::protobuf::a_const::Val::Sval(schema) => Some(schema.sval.clone()),
                    _ => None,
                },
                _ => None,
            })
            .filter(|schema| schema != "$user")
            .collect(),
    )
}

/// The `SET`/`RESET` a statement is, if it is one.
fn first_setting(statement: &str) -> Option<pg_query::protobuf::VariableSetStmt> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    match parsed.protobuf.stmts.into_iter().next()?.stmt?.node? {
        NodeEnum::VariableSetStmt(set) => Some(set),
        _ => None,
    }
}

/// Whether a `SET` acts on the open transaction only ([`sets_transaction_characteristics`]).
fn of_transaction(set: &pg_query::protobuf::VariableSetStmt) -> bool {
    use pg_query::protobuf::VariableSetKind;
    (set.kind == VariableSetKind::VarSetMulti as i32 && set.name == "TRANSACTION")
        || (set.kind == VariableSetKind::VarSetValue as i32
            && matches!(
                set.name.as_str(),
                "transaction_isolation" | "transaction_read_only" | "transaction_deferrable"
            ))
}

/// Whether a statement makes the open (or the opened) transaction read only (`Some(true)`) or
/// read write (`Some(false)`): `BEGIN`/`START TRANSACTION ... READ ONLY|WRITE`, `SET
/// TRANSACTION READ ONLY|WRITE`, `SET transaction_read_only = ...`; `None` for any other.
pub fn read_only_setting(statement: &str) -> Option<bool> {
    use pg_query::protobuf::VariableSetKind;
    use pg_query::protobuf::a_const::Val;
    let parsed = pg_query::parse(statement, 0).ok()?;
    let node = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    // A boolean as a setting takes it: `on`, `true`, `1`, `yes`.
    let truth = |value: Option<&pg_query::Node>| match value.and_then(|value| value.node.as_ref()) {
        Some(NodeEnum::AConst(constant)) => match &constant.val {
            Some(Val::Ival(value)) => Some(value.ival != 0),
            Some(Val::Boolval(value)) => Some(value.boolval),
            Some(Val::Sval(value)) => {
                Some(matches!(value.sval.to_lowercase().as_str(), "on" | "true" | "yes" | "1"))
            }
            _ => None,
        },
        _ => None,
    };
    let read_only = |options: &[pg_query::Node]| {
        options.iter().find_map(|option| match &option.node {
            Some(NodeEnum::DefElem(def)) if def.defname == "transaction_read_only" => {
                Some(truth(def.arg.as_deref()).unwrap_or(true))
            }
            _ => None,
        })
    };
    match node {
        NodeEnum::TransactionStmt(transaction) => read_only(&transaction.options),
        NodeEnum::VariableSetStmt(set)
            if set.kind == VariableSetKind::VarSetMulti as i32 && set.name == "TRANSACTION" =>
        {
            read_only(&set.args)
        }
        NodeEnum::VariableSetStmt(set)
            if set.kind == VariableSetKind::VarSetValue as i32 && set.name == "transaction_read_only" =>
        {
            truth(set.args.first())
        }
        _ => None,
    }
}

/// Whether a statement changes a setting of the session beyond its transaction (`SET
/// search_path`, `SET ROLE`, `SET SESSION AUTHORIZATION`, `RESET`, `SET SESSION
/// CHARACTERISTICS`, and a `SELECT` of nothing but `set_config(<literal>, <literal>, false)`
/// calls, as `pg_dump` writes its search path): what a later statement of the file runs under.
/// `SET LOCAL` and the transaction's own characteristics end with the transaction; a
/// `set_config` among other work (a table read, another call, a computed value) is not seen.
pub fn sets_session(statement: &str) -> bool {
    first_setting(statement).is_some_and(|set| !set.is_local && !of_transaction(&set))
        || selects_session_config(statement)
}

/// Whether a statement may change a session setting in a way [`sets_session`] does not read,
/// so that a resume cannot make it again: a `DO` block that runs a session `SET` or `RESET` or
/// calls `set_config`, or another statement that calls `set_config` among other work.
pub fn sets_session_unseen(statement: &str) -> bool {
    let calls_set_config = statement.to_ascii_lowercase().contains("set_config");
    let Ok(parsed) = pg_query::parse(statement, 0) else { return false };
    match parsed.protobuf.stmts.first().and_then(|raw| raw.stmt.as_ref()?.node.as_ref()) {
        Some(NodeEnum::DoStmt(block)) => {
            calls_set_config
                || crate::plpgsql::block_statements(block)
                    .iter()
                    .any(|inner| first_setting(inner).is_some_and(|set| !set.is_local))
        }
        _ => calls_set_config && !sets_session(statement),
    }
}

/// Whether a statement is `SELECT [pg_catalog.]set_config('name', 'value', false)`, one or more
/// such calls with literal arguments and nothing else: a session setting run as a query.
fn selects_session_config(statement: &str) -> bool {
    use pg_query::protobuf::a_const::Val;
    if !statement.to_ascii_lowercase().contains("set_config") {
        return false;
    }
    let Ok(parsed) = pg_query::parse(statement, 0) else { return false };
    let [only] = parsed.protobuf.stmts.as_slice() else { return false };
    let Some(NodeEnum::SelectStmt(select)) = only.stmt.as_ref().and_then(|stmt| stmt.node.as_ref()) else {
        return false;
    };
    let literal = |node: &pg_query::Node| match node.node.as_ref() {
        Some(NodeEnum::AConst(constant)) => constant.val.clone(),
        _ => None,
    };
    let session_config = |target: &pg_query::Node| {
        let Some(NodeEnum::ResTarget(target)) = target.node.as_ref() else { return false };
        let Some(NodeEnum::FuncCall(call)) = target.val.as_ref().and_then(|value| value.node.as_ref()) else {
            return false;
        };
        let name: Vec<&str> = call
            .funcname
            .iter()
            .filter_map(|part| match part.node.as_ref() {
                Some(NodeEnum::String(part)) => Some(part.sval.as_str()),
                _ => None,
            })
            .collect();
        let [setting, value, local] = call.args.as_slice() else { return false };
        matches!(name.as_slice(), ["set_config"] | ["pg_catalog", "set_config"])
            && matches!(literal(setting), Some(Val::Sval(_)))
            && matches!(literal(value), Some(Val::Sval(_)))
            && match literal(local) {
                Some(Val::Boolval(local)) => !local.boolval,
                Some(Val::Sval(local)) => {
                    matches!(local.sval.to_ascii_lowercase().as_str(), "false" | "f" | "off" | "no")
                }
                _ => false,
            }
    };
    select.from_clause.is_empty()
        && select.where_clause.is_none()
        && select.values_lists.is_empty()
        && select.op == pg_query::protobuf::SetOperation::SetopNone as i32
        && !select.target_list.is_empty()
        && select.target_list.iter().all(session_config)
}

/// The statements of `statements` that made session-level settings still in force after them
/// all ([`sets_session`]): a `SET` outside a transaction block, or inside one that committed
/// (its own `COMMIT`, or a chained commit of its part), and not undone by a `ROLLBACK`, a
/// `ROLLBACK AND CHAIN` or a `ROLLBACK TO SAVEPOINT` of the savepoint before it. The part
/// still open at the end is left out: it is the one that did not commit.
pub fn session_settings_in_force(statements: &[Statement]) -> Vec<usize> {
    use pg_query::protobuf::TransactionStmtKind;
    let (mut kept, mut pending) = (Vec::new(), Vec::new());
    // Each savepoint of the open transaction, with how many of its settings came before it.
    let mut savepoints: Vec<(String, usize)> = Vec::new();
    let mut open = false;
    for (index, statement) in statements.iter().enumerate() {
        match statement.kind {
            StatementKind::TransactionControl(TransactionControl::Begin) if !open => {
                (pending, savepoints) = (Vec::new(), Vec::new());
            }
            StatementKind::TransactionControl(
                TransactionControl::Commit | TransactionControl::CommitAndChain,
            ) => {
                kept.append(&mut pending);
                savepoints.clear();
            }
            StatementKind::TransactionControl(
                TransactionControl::Rollback | TransactionControl::RollbackAndChain,
            ) => {
                pending.clear();
                savepoints.clear();
            }
            StatementKind::Plain if open => {
                let lower = statement.text.to_ascii_lowercase();
                let savepoint = (lower.contains("savepoint")
                    || lower.contains("release")
                    || lower.contains("rollback"))
                .then(|| pg_query::parse(&statement.text, 0).ok())
                .flatten()
                .and_then(|parsed| match parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()? {
                    NodeEnum::TransactionStmt(transaction) => Some((
                        TransactionStmtKind::try_from(transaction.kind).ok()?,
                        transaction.savepoint_name.clone(),
                    )),
                    _ => None,
                });
                match savepoint {
                    Some((TransactionStmtKind::TransStmtSavepoint, name)) => {
                        savepoints.push((name, pending.len()))
                    }
                    Some((TransactionStmtKind::TransStmtRelease, name)) => {
                        if let Some(at) = savepoints.iter().rposition(|(saved, _)| *saved == name) {
                            savepoints.truncate(at);
                        }
                    }
                    Some((TransactionStmtKind::TransStmtRollbackTo, name)) => {
                        if let Some(at) = savepoints.iter().rposition(|(saved, _)| *saved == name) {
                            pending.truncate(savepoints[at].1);
                            savepoints.truncate(at + 1);
                        }
                    }
                    _ if sets_session(&statement.text) => pending.push(index),
                    _ => {}
                }
            }
            StatementKind::Plain if sets_session(&statement.text) => kept.push(index),
            _ => {}
        }
        open = statement.kind.transaction_open_after(open);
    }
    kept
}

#[cfg(test)]
mod tests {
    use crate::{Dialect, Script, StatementKind, TransactionControl};

    #[test]
    fn reads_the_search_path_a_statement_sets() {
        let path = |sql: &str| crate::lock_facts(sql).search_path;
        assert_eq!(path("SET search_path = app, public"), Some(vec!["app".into(), "public".into()]));
        assert_eq!(path("SET LOCAL search_path TO \"My S\", \"$user\""), Some(vec!["My S".into()]));
        assert_eq!(path("RESET search_path"), Some(vec![]));
        assert_eq!(path("SET search_path TO DEFAULT"), Some(vec![]));
        assert_eq!(path("SET lock_timeout = '1s'"), None);
    }

    #[test]
    fn settings_a_resume_cannot_make_again_are_told() {
        use super::sets_session_unseen as unseen;
        assert!(unseen("DO $$ BEGIN SET search_path = app; END $$"));
        assert!(unseen("DO $$ BEGIN PERFORM set_config('search_path', 'app', false); END $$"));
        assert!(unseen("SELECT set_config('search_path', 'app', false), count(*) FROM t"));
        assert!(!unseen("SELECT set_config('search_path', 'app', false)"), "made again as it is");
        assert!(!unseen("SET search_path = app"), "made again as it is");
        assert!(!unseen("DO $$ BEGIN SET LOCAL search_path = app; END $$"), "ends with its transaction");
        assert!(!unseen("DO $$ BEGIN UPDATE t SET a = 1; END $$"));
    }

    #[test]
    fn set_transaction_is_told_from_session_settings() {
        use super::sets_transaction_characteristics as sets;
        assert!(sets("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
        assert!(sets("set transaction read only, deferrable"));
        assert!(sets("SET transaction_isolation = 'repeatable read'"));
        assert!(sets("SET LOCAL transaction_read_only TO on"));
        assert!(!sets("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
        assert!(!sets("SET LOCAL lock_timeout = '1s'"));
        assert!(!sets("BEGIN ISOLATION LEVEL SERIALIZABLE"));
        use super::read_only_setting as read_only;
        assert_eq!(read_only("BEGIN READ ONLY"), Some(true));
        assert_eq!(read_only("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE"), Some(false));
        assert_eq!(read_only("SET TRANSACTION READ ONLY"), Some(true));
        assert_eq!(read_only("SET transaction_read_only = on"), Some(true));
        assert_eq!(read_only("SET transaction_read_only TO off"), Some(false));
        assert_eq!(read_only("BEGIN"), None);
        assert_eq!(read_only("SELECT 1"), None);
        let kept =
            |sql: &str| super::session_settings_in_force(&Script::parse(Dialect::Postgres, sql).statements);
        assert_eq!(kept("SET search_path = a; BEGIN; SET role r; COMMIT; SELECT 1;"), [0, 2]);
        assert_eq!(kept("BEGIN; SET search_path = archive; ROLLBACK; SELECT 1;"), [] as [usize; 0]);
        assert_eq!(
            kept("BEGIN; SET search_path = a; SAVEPOINT s; SET search_path = b; ROLLBACK TO s; COMMIT;"),
            [1]
        );
        assert_eq!(
            kept(
                "BEGIN; SET search_path = a; ROLLBACK AND CHAIN; SET role r; COMMIT AND CHAIN; SET search_path = c;"
            ),
            [3]
        );
        use super::sets_session;
        assert!(sets_session("SET search_path = app, public"));
        assert!(sets_session("SET ROLE app_owner"));
        assert!(sets_session("RESET ROLE"));
        assert!(sets_session("SET SESSION AUTHORIZATION app_owner"));
        assert!(!sets_session("SET LOCAL search_path = app"));
        assert!(!sets_session("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
        assert!(!sets_session("SET transaction_isolation = 'serializable'"));
        // A query of nothing but session settings, as pg_dump writes its search path.
        assert!(sets_session("SELECT pg_catalog.set_config('search_path', '', false)"));
        assert!(sets_session(
            "select set_config('search_path', 'app', false), set_config('a.b', 'c', 'false')"
        ));
        assert!(!sets_session("SELECT set_config('search_path', 'app', true)"));
        assert!(!sets_session("SELECT set_config('search_path', current_setting('x'), false)"));
        assert!(!sets_session("SELECT set_config('search_path', 'app', false), f()"));
        assert!(!sets_session("SELECT set_config('search_path', 'app', false) FROM t"));
    }

    #[test]
    fn reindex_and_detach_name_what_they_touch() {
        use super::{ReindexTarget, detached_partition, reindexed_relation};
        assert_eq!(
            reindexed_relation("REINDEX SCHEMA CONCURRENTLY \"App\""),
            Some((ReindexTarget::Schema, "\"App\"".to_owned()))
        );
        assert_eq!(
            reindexed_relation("REINDEX DATABASE CONCURRENTLY").map(|(t, _)| t),
            Some(ReindexTarget::Database)
        );
        assert_eq!(reindexed_relation("REINDEX SCHEMA app"), None, "not concurrent");
        assert_eq!(
            detached_partition("ALTER TABLE s.events DETACH PARTITION s.\"Events 2024\" CONCURRENTLY"),
            Some(("\"s\".\"events\"".to_owned(), "\"s\".\"Events 2024\"".to_owned()))
        );
        assert_eq!(detached_partition("ALTER TABLE events DETACH PARTITION e1"), None);
        assert_eq!(detached_partition("ALTER TABLE events DETACH PARTITION e1 FINALIZE"), None);
    }

    fn kinds(sql: &str) -> Vec<StatementKind> {
        Script::parse(Dialect::Postgres, sql).statements.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn calls_and_do_blocks_may_commit_inside_also_in_a_script_the_grammar_refuses() {
        let may_commit = |sql: &str| -> Vec<bool> {
            Script::parse(Dialect::Postgres, sql).statements.iter().map(|s| s.may_commit).collect()
        };
        let script = "CREATE TABLE t (id int);\ncall fill();\nDO $$ BEGIN COMMIT; END $$;\nSELECT 1";
        assert_eq!(may_commit(script), [false, true, true, false]);
        assert_eq!(may_commit(&format!("{script};\nSELEC oops;")), [false, true, true, false, false]);
    }

    fn texts(sql: &str) -> Vec<String> {
        Script::parse(Dialect::Postgres, sql)
            .statements
            .iter()
            .map(|s| s.text[s.start - s.offset..].to_owned())
            .collect()
    }

    #[test]
    fn splits_dollar_quotes_escape_strings_nested_comments_and_atomic_bodies() {
        let sql = r#"
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN 'a;$$;'; END $body$;
SELECT E'it\'s; fine';
/* outer /* inner; */ still comment; */ SELECT 2;
CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
SELECT "semi;colon" FROM t
"#;
        let texts = texts(sql);
        assert_eq!(texts.len(), 5, "{texts:#?}");
        assert!(texts[0].ends_with("$body$"));
        assert_eq!(texts[1], r"SELECT E'it\'s; fine'");
        assert_eq!(texts[2], "SELECT 2");
        assert!(texts[3].ends_with("SELECT 2; END"));
        assert_eq!(texts[4], "SELECT \"semi;colon\" FROM t\n");
    }

    #[test]
    fn finds_statements_postgres_refuses_in_a_transaction() {
        let sql = "CREATE TABLE t (id int);
            CREATE UNIQUE INDEX CONCURRENTLY i ON t (id);
            DROP INDEX CONCURRENTLY i;
            REINDEX (CONCURRENTLY) TABLE t;
            REINDEX INDEX CONCURRENTLY i;
            REINDEX TABLE t;
            VACUUM t;
            ANALYZE t;
            ALTER SYSTEM SET work_mem = '8MB';
            CREATE DATABASE d;
            ALTER TABLE p DETACH PARTITION c CONCURRENTLY;
            ALTER TABLE p DETACH PARTITION c;
            discard all;
            DISCARD PLANS;
            ALTER DATABASE d SET TABLESPACE pg_default;
            ALTER DATABASE d SET work_mem = '8MB';
            ALTER SUBSCRIPTION s SET PUBLICATION p;";
        let no_tx: Vec<bool> =
            kinds(sql).iter().map(|k| matches!(k, StatementKind::NoTransaction(_))).collect();
        assert_eq!(
            no_tx,
            [
                false, true, true, true, true, false, true, false, true, true, true, false, true, false,
                true, false, true
            ]
        );
    }

    #[test]
    fn recognizes_transaction_control() {
        use TransactionControl::*;
        let found = kinds("BEGIN; CREATE TABLE t (id int); COMMIT; START TRANSACTION; ROLLBACK; END;");
        assert_eq!(
            found,
            [
                StatementKind::TransactionControl(Begin),
                StatementKind::Plain,
                StatementKind::TransactionControl(Commit),
                StatementKind::TransactionControl(Begin),
                StatementKind::TransactionControl(Rollback),
                StatementKind::TransactionControl(Commit),
            ]
        );
    }

    #[test]
    fn savepoints_are_plain_and_two_phase_commit_is_control() {
        use TransactionControl::*;
        let found = kinds(
            "SAVEPOINT s; RELEASE SAVEPOINT s; RELEASE s; ROLLBACK TO SAVEPOINT s; ROLLBACK TO s;
             PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; ROLLBACK PREPARED 'x';",
        );
        assert_eq!(
            found,
            [
                StatementKind::Plain,
                StatementKind::Plain,
                StatementKind::Plain,
                StatementKind::Plain,
                StatementKind::Plain,
                StatementKind::TransactionControl(Other),
                StatementKind::TransactionControl(Other),
                StatementKind::TransactionControl(Other),
            ]
        );
        assert!(
            !Script::parse(Dialect::Postgres, "SAVEPOINT s; SELECT 1; ROLLBACK TO s; RELEASE s;")
                .manages_transactions()
        );
    }

    #[test]
    fn chained_commit_and_rollback_are_chain() {
        use TransactionControl::*;
        let found = kinds(
            "BEGIN; COMMIT AND CHAIN; ROLLBACK AND CHAIN; COMMIT AND NO CHAIN; ROLLBACK AND NO CHAIN; END AND CHAIN; ABORT AND CHAIN;",
        );
        assert_eq!(
            found,
            [
                StatementKind::TransactionControl(Begin),
                StatementKind::TransactionControl(CommitAndChain),
                StatementKind::TransactionControl(RollbackAndChain),
                StatementKind::TransactionControl(Commit),
                StatementKind::TransactionControl(Rollback),
                StatementKind::TransactionControl(CommitAndChain),
                StatementKind::TransactionControl(RollbackAndChain),
            ]
        );
    }

    #[test]
    fn a_script_that_does_not_parse_is_still_split_and_classified() {
        let script = Script::parse(
            Dialect::Postgres,
            "CREATE TABLE t (id int);\nCREATE TABEL oops (id int);\nCREATE INDEX CONCURRENTLY i ON t (id);",
        );
        assert!(script.parse_error.as_deref().unwrap().contains("syntax error"));
        assert_eq!(script.statements.len(), 3);
        assert!(script.statements[1].text.contains("TABEL"));
        assert!(matches!(script.statements[2].kind, StatementKind::NoTransaction(_)));
    }

    #[test]
    fn a_statement_without_any_keyword_is_kept_for_the_database_to_refuse() {
        let sql = "CREATE TABLE t (id int);\nSELEC f();\n-- done\nCREATE INDEX CONCURRENTLY i ON t (id);\nfoo bar;\n";
        let script = Script::parse(Dialect::Postgres, sql);
        assert!(script.parse_error.is_some());
        let texts: Vec<&str> = script.statements.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "CREATE TABLE t (id int)",
                "\nSELEC f()",
                "\n-- done\nCREATE INDEX CONCURRENTLY i ON t (id)",
                "\nfoo bar"
            ]
        );
        assert_eq!(&sql[script.statements[1].start..][..9], "SELEC f()");
    }

    #[test]
    fn a_script_that_does_not_parse_keeps_atomic_bodies_whole() {
        let sql = "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
CREATE FUNCTION total() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC
  SELECT sum(balance) FROM acounts WHERE;
END;
";
        let script = Script::parse(Dialect::Postgres, sql);
        assert!(script.parse_error.is_some());
        assert_eq!(script.statements.len(), 2, "{:#?}", script.statements);
        assert!(script.statements[1].text.trim_end().ends_with("WHERE;\nEND"));
        assert_eq!(kinds(sql), [StatementKind::Plain, StatementKind::Plain]);
        assert!(!script.manages_transactions());
    }

    #[test]
    fn atomic_bodies_with_case_stay_whole_when_another_statement_does_not_parse() {
        let sql = "CREATE TABEL oops (id int);
CREATE OR REPLACE PROCEDURE p(x int) LANGUAGE sql
begin   /* c; */  atomic
  INSERT INTO t VALUES (CASE WHEN x > 0 THEN CASE x WHEN 1 THEN 1 ELSE 2 END ELSE 0 END);
  SELECT case when x is null then 'end;' end;
  -- end;
END;
END;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT 'BEGIN ATOMIC';
CREATE INDEX CONCURRENTLY i ON t (id);
COMMIT";
        use TransactionControl::*;
        let script = Script::parse(Dialect::Postgres, sql);
        assert!(script.parse_error.is_some());
        let texts = texts(sql);
        assert_eq!(texts.len(), 7, "{texts:#?}");
        assert!(
            texts[1].starts_with("CREATE OR REPLACE PROCEDURE") && texts[1].ends_with("-- end;\nEND"),
            "{texts:#?}"
        );
        assert_eq!(texts[2], "END");
        assert_eq!(
            kinds(sql),
            [
                StatementKind::Plain,
                StatementKind::Plain,
                StatementKind::TransactionControl(Commit),
                StatementKind::TransactionControl(Begin),
                StatementKind::Plain,
                StatementKind::NoTransaction("CREATE INDEX CONCURRENTLY"),
                StatementKind::TransactionControl(Commit),
            ]
        );
    }

    #[test]
    fn an_unparseable_piece_is_never_transaction_control() {
        let script =
            Script::parse(Dialect::Postgres, "COMMIT TRANSACTON; BEGIN ATOMIC; END WORK NOW; ROLLBACK TO;");
        assert_eq!(script.statements.len(), 3, "{:#?}", script.statements);
        assert!(!script.manages_transactions(), "{:#?}", script.statements);
        let script =
            Script::parse(Dialect::Postgres, "SELECT 1; COMMIT TRANSACTON; ROLLBACK TO; END NOW; SELECT 2;");
        assert_eq!(script.statements.len(), 5);
        assert!(!script.manages_transactions(), "{:#?}", script.statements);
    }

    #[test]
    fn names_the_index_a_concurrent_build_creates() {
        use crate::concurrent_index;
        let name = |sql: &str| concurrent_index(sql).and_then(|index| index.name);
        assert_eq!(name("CREATE INDEX CONCURRENTLY i ON crm.t (id)").as_deref(), Some("\"crm\".\"i\""));
        assert_eq!(name("create unique index concurrently \"Big\" on t (id)").as_deref(), Some("\"Big\""));
        assert_eq!(name("CREATE INDEX CONCURRENTLY ON t (id)"), None);
        assert_eq!(
            concurrent_index("CREATE INDEX CONCURRENTLY ON crm.\"T\" (id)")
                .map(|index| index.table)
                .as_deref(),
            Some("\"crm\".\"T\"")
        );
        assert_eq!(concurrent_index("CREATE INDEX i ON t (id)"), None);
        let plain = concurrent_index("CREATE UNIQUE INDEX CONCURRENTLY ON t (a, \"B\")").unwrap();
        assert!(plain.unique);
        assert_eq!(plain.columns, Some(vec!["a".to_owned(), "B".to_owned()]));
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY ON t (lower(a))").unwrap().columns, None);
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY ON t (a) WHERE a > 0").unwrap().columns, None);
    }

    #[test]
    fn comment_only_and_empty_scripts_have_no_statements() {
        assert!(kinds("").is_empty());
        assert!(kinds("-- nothing here\n/* at all */\n").is_empty());
    }

    #[test]
    fn offsets_point_into_the_script() {
        let sql = "-- lead\nSELECT 1;\n\n  SELECT 2;";
        let script = Script::parse(Dialect::Postgres, sql);
        let second = &script.statements[1];
        assert_eq!(&sql[second.start..second.start + 8], "SELECT 2");
        assert_eq!(&sql[second.offset..second.offset + second.text.len()], second.text);
    }
}
