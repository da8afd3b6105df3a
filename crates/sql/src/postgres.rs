//! PostgreSQL scripts, split and classified by PostgreSQL's own grammar.

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterSubscriptionType, AlterTableType, ReindexObjectType, TransactionStmtKind};

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
                    let statement = Statement::new(sql, offset, end, classify(&node));
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

/// Cuts a script the grammar refused, so every statement before and after the bad one can still
/// be classified and the database can report the bad one precisely.
fn split_by_scanner(sql: &str) -> Vec<(Statement, Result<NodeEnum, String>)> {
    let Ok(pieces) = pg_query::split_with_scanner(sql) else {
        // Only a NUL byte gets here; let the database judge the whole text.
        let statement = Statement::new(sql, 0, sql.len(), StatementKind::Plain);
        return vec![(statement, Err("the script contains a NUL byte".to_owned()))];
    };
    pieces
        .into_iter()
        .filter(|piece| !trivia::is_blank(piece))
        .map(|piece| {
            let offset = piece.as_ptr() as usize - sql.as_ptr() as usize;
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
            let kind = tree.as_ref().map_or(StatementKind::Plain, classify);
            (Statement::new(sql, offset, offset + piece.len(), kind), tree)
        })
        .collect()
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
        NodeEnum::AlterTableStmt(alter) if detaches_concurrently(alter) => {
            NoTransaction("DETACH PARTITION CONCURRENTLY")
        }
        NodeEnum::TransactionStmt(transaction) => {
            use TransactionStmtKind::*;
            StatementKind::TransactionControl(match TransactionStmtKind::try_from(transaction.kind) {
                Ok(TransStmtBegin | TransStmtStart) => TransactionControl::Begin,
                Ok(TransStmtCommit | TransStmtRollback) if transaction.chain => TransactionControl::Chain,
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
            Some(ConcurrentIndex {
                // An index lives in its table's schema.
                name: (!index.idxname.is_empty()).then(|| qualified(&index.idxname)),
                table: qualified(&relation.relname),
            })
        }
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use crate::{Dialect, Script, StatementKind, TransactionControl};

    fn kinds(sql: &str) -> Vec<StatementKind> {
        Script::parse(Dialect::Postgres, sql).statements.iter().map(|s| s.kind).collect()
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
            ALTER TABLE p DETACH PARTITION c;";
        let no_tx: Vec<bool> =
            kinds(sql).iter().map(|k| matches!(k, StatementKind::NoTransaction(_))).collect();
        assert_eq!(no_tx, [false, true, true, true, true, false, true, false, true, true, true, false]);
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
        assert!(!Script::parse(Dialect::Postgres, "SAVEPOINT s; SELECT 1; ROLLBACK TO s; RELEASE s;")
            .manages_transactions());
    }

    #[test]
    fn chained_commit_and_rollback_are_chain() {
        use TransactionControl::*;
        let found = kinds("BEGIN; COMMIT AND CHAIN; ROLLBACK AND CHAIN; COMMIT AND NO CHAIN; ROLLBACK AND NO CHAIN; END AND CHAIN; ABORT AND CHAIN;");
        assert_eq!(
            found,
            [
                StatementKind::TransactionControl(Begin),
                StatementKind::TransactionControl(Chain),
                StatementKind::TransactionControl(Chain),
                StatementKind::TransactionControl(Commit),
                StatementKind::TransactionControl(Rollback),
                StatementKind::TransactionControl(Chain),
                StatementKind::TransactionControl(Chain),
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
