//! The table lock a PostgreSQL statement takes, read from its syntax tree (PostgreSQL's
//! "Explicit Locking" and `ALTER TABLE` documentation; `AlterTableGetLockLevel` in the server).

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType};

use crate::plpgsql::{block_statements, plpgsql_tree};

/// The strongest table lock a statement takes on a table that exists, in PostgreSQL's names,
/// weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lock {
    /// No lock on an existing table (new objects, types, functions).
    None,
    /// Plain reads.
    AccessShare,
    /// `SELECT ... FOR UPDATE/SHARE`.
    RowShare,
    /// Row changes (`INSERT`, `UPDATE`, `DELETE`, `MERGE`).
    RowExclusive,
    /// Blocks schema changes and VACUUM, not reads or writes.
    ShareUpdateExclusive,
    /// Blocks writes, not reads.
    Share,
    /// Blocks writes and other SHARE ROW EXCLUSIVE holders, not reads.
    ShareRowExclusive,
    /// Blocks writes and `SELECT ... FOR UPDATE`, not plain reads.
    Exclusive,
    /// Blocks every read and write.
    AccessExclusive,
}

impl Lock {
    /// As PostgreSQL's documentation names it, with what it means for the application.
    pub fn describe(self) -> &'static str {
        match self {
            Lock::None => "no table lock",
            Lock::AccessShare => "ACCESS SHARE (reads and writes go on)",
            Lock::RowShare => "ROW SHARE (reads and writes go on)",
            Lock::RowExclusive => "ROW EXCLUSIVE (reads and writes go on; changed rows are locked)",
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE (reads and writes go on)",
            Lock::Share => "SHARE (blocks writes)",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE (blocks writes)",
            Lock::Exclusive => "EXCLUSIVE (blocks writes)",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE (blocks reads and writes)",
        }
    }

    /// Whether holding or queueing for this lock never makes the application's reads and
    /// writes wait: no lock they request conflicts with it, so a statement taking it may wait
    /// for other transactions as long as it needs to (`CREATE INDEX CONCURRENTLY`'s waits,
    /// `VALIDATE CONSTRAINT`).
    pub fn lets_application_through(self) -> bool {
        matches!(self, Lock::None | Lock::AccessShare | Lock::ShareUpdateExclusive)
    }

    /// Whether a session holding `self` makes a request for `other` wait (PostgreSQL's
    /// "Conflicting Lock Modes" table; the relation is symmetric).
    pub fn conflicts_with(self, other: Lock) -> bool {
        use Lock::*;
        let (weaker, stronger) = if self <= other { (self, other) } else { (other, self) };
        match stronger {
            None => false,
            AccessShare | RowShare | RowExclusive => false,
            ShareUpdateExclusive => matches!(weaker, ShareUpdateExclusive),
            Share => matches!(weaker, RowExclusive | ShareUpdateExclusive),
            ShareRowExclusive => {
                matches!(weaker, RowExclusive | ShareUpdateExclusive | Share | ShareRowExclusive)
            }
            Exclusive => weaker >= RowShare,
            AccessExclusive => weaker >= AccessShare,
        }
    }

    /// The modes a session may hold that make a request for `self` wait.
    pub fn conflicting(self) -> impl Iterator<Item = Lock> {
        Lock::ALL.into_iter().filter(move |held| held.conflicts_with(self))
    }

    /// Its name in `pg_locks.mode`; `None` for [`Lock::None`].
    pub fn server_name(self) -> Option<&'static str> {
        Some(match self {
            Lock::None => return Option::None,
            Lock::AccessShare => "AccessShareLock",
            Lock::RowShare => "RowShareLock",
            Lock::RowExclusive => "RowExclusiveLock",
            Lock::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            Lock::Share => "ShareLock",
            Lock::ShareRowExclusive => "ShareRowExclusiveLock",
            Lock::Exclusive => "ExclusiveLock",
            Lock::AccessExclusive => "AccessExclusiveLock",
        })
    }

    /// Every mode, weakest first.
    const ALL: [Lock; 9] = [
        Lock::None,
        Lock::AccessShare,
        Lock::RowShare,
        Lock::RowExclusive,
        Lock::ShareUpdateExclusive,
        Lock::Share,
        Lock::ShareRowExclusive,
        Lock::Exclusive,
        Lock::AccessExclusive,
    ];
}

/// The strongest table lock of a PostgreSQL statement; statements haste cannot judge (function
/// calls, `DO` blocks, anything unknown) count as `ACCESS EXCLUSIVE`.
pub fn statement_lock(node: &NodeEnum) -> Lock {
    match node {
        NodeEnum::IndexStmt(index) if index.concurrent => Lock::ShareUpdateExclusive,
        NodeEnum::IndexStmt(_) => Lock::Share,
        NodeEnum::DropStmt(drop) if drop.concurrent => Lock::ShareUpdateExclusive,
        NodeEnum::DropStmt(drop) => match ObjectType::try_from(drop.remove_type) {
            // Without CASCADE these cannot take a table with them.
            Ok(ObjectType::ObjectType | ObjectType::ObjectDomain | ObjectType::ObjectFunction)
                if drop.behavior != pg_query::protobuf::DropBehavior::DropCascade as i32 =>
            {
                Lock::None
            }
            _ => Lock::AccessExclusive,
        },
        NodeEnum::ReindexStmt(reindex) if has_option(&reindex.params, "concurrently") => {
            Lock::ShareUpdateExclusive
        }
        // SHARE on the table, and ACCESS EXCLUSIVE on each index rebuilt: the planner opens every
        // index of a table it plans a query on, so reads wait too, not only writes.
        NodeEnum::ReindexStmt(_) => Lock::AccessExclusive,
        NodeEnum::RefreshMatViewStmt(refresh) if refresh.concurrent => Lock::Exclusive,
        NodeEnum::RefreshMatViewStmt(_) | NodeEnum::ClusterStmt(_) => Lock::AccessExclusive,
        NodeEnum::VacuumStmt(vacuum) if has_option(&vacuum.options, "full") => Lock::AccessExclusive,
        NodeEnum::VacuumStmt(_) => Lock::ShareUpdateExclusive,
        NodeEnum::AlterTableStmt(alter) => alter
            .cmds
            .iter()
            .map(|cmd| match &cmd.node {
                Some(NodeEnum::AlterTableCmd(cmd)) => alter_table_lock(cmd),
                _ => Lock::AccessExclusive,
            })
            .max()
            .unwrap_or(Lock::AccessExclusive),
        NodeEnum::RenameStmt(rename) if rename.rename_type == ObjectType::ObjectIndex as i32 => {
            Lock::ShareUpdateExclusive
        }
        // `AlterSequence` opens the sequence in SHARE ROW EXCLUSIVE: `nextval` goes on.
        NodeEnum::CreateTrigStmt(_) | NodeEnum::AlterSeqStmt(_) => Lock::ShareRowExclusive,
        NodeEnum::CreateStatsStmt(_) | NodeEnum::CommentStmt(_) => Lock::ShareUpdateExclusive,
        NodeEnum::CreateStmt(create) => new_table_lock(create),
        // Its elements create objects in the new schema only (PostgreSQL refuses another schema's
        // name there): indexes and triggers are on its new tables; a view reads, and a table's
        // foreign keys lock, the tables they name.
        NodeEnum::CreateSchemaStmt(schema) => schema
            .schema_elts
            .iter()
            .map(|element| match &element.node {
                Some(NodeEnum::IndexStmt(_) | NodeEnum::CreateTrigStmt(_)) => Lock::None,
                Some(element) => statement_lock(element),
                None => Lock::None,
            })
            .max()
            .unwrap_or(Lock::None),
        NodeEnum::CreateEnumStmt(_)
        | NodeEnum::CreateDomainStmt(_)
        | NodeEnum::CompositeTypeStmt(_)
        | NodeEnum::CreateFunctionStmt(_)
        | NodeEnum::CreateSeqStmt(_)
        | NodeEnum::CreateExtensionStmt(_)
        | NodeEnum::AlterEnumStmt(_)
        | NodeEnum::GrantStmt(_)
        | NodeEnum::VariableSetStmt(_) => Lock::None,
        NodeEnum::ViewStmt(view) if !view.replace => Lock::AccessShare,
        // A function may lock anything; a read that calls one cannot be judged.
        NodeEnum::SelectStmt(_) if calls_functions(node) => Lock::AccessExclusive,
        NodeEnum::SelectStmt(select) if select.locking_clause.is_empty() && select.into_clause.is_none() => {
            Lock::AccessShare
        }
        NodeEnum::SelectStmt(select) if select.into_clause.is_none() => Lock::RowShare,
        NodeEnum::InsertStmt(_)
        | NodeEnum::UpdateStmt(_)
        | NodeEnum::DeleteStmt(_)
        | NodeEnum::MergeStmt(_) => Lock::RowExclusive,
        NodeEnum::LockStmt(lock) => explicit_lock(lock.mode),
        NodeEnum::DoStmt(block) => match block_reads(block) {
            Some(BlockReads::Catalog) => Lock::None,
            Some(BlockReads::Tables) => Lock::AccessShare,
            None => Lock::AccessExclusive,
        },
        _ => Lock::AccessExclusive,
    }
}

/// What a `DO` block that only reads reads.
/// Ordered: a block reading the catalog and tables reads tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BlockReads {
    /// The system catalogs only (as the checks haste writes into a type change's swap): no lock
    /// on any table, and a time that does not grow with one.
    Catalog,
    /// Tables too (as the conversion checks haste writes before a domain's rebuild): `ACCESS
    /// SHARE` on them, and a scan.
    Tables,
}

/// What a `DO` block reads when it only reads: PL/pgSQL blocks, assignments, `IF`, `RAISE`,
/// `RETURN`, loops over queries and queries that are plain reads (no row locks) calling only
/// built-in functions that run no database code; `None` for any other block.
fn block_reads(block: &pg_query::protobuf::DoStmt) -> Option<BlockReads> {
    let parsed = plpgsql_tree(block)?;
    let mut queries = Vec::new();
    if !plpgsql_reads(&parsed, &mut queries) {
        return None;
    }
    queries.iter().try_fold(BlockReads::Catalog, |reads, query| Some(reads.max(plain_read(query)?)))
}

/// Collects the queries of a PL/pgSQL syntax tree (as JSON) into `queries`; false when it holds
/// a statement other than those [`block_reads`] accepts.
fn plpgsql_reads(value: &serde_json::Value, queries: &mut Vec<String>) -> bool {
    const ACCEPTED: [&str; 7] = [
        "PLpgSQL_stmt_block",
        "PLpgSQL_stmt_assign",
        "PLpgSQL_stmt_if",
        "PLpgSQL_stmt_raise",
        "PLpgSQL_stmt_return",
        "PLpgSQL_stmt_execsql",
        "PLpgSQL_stmt_fors",
    ];
    match value {
        serde_json::Value::Object(object) => object.iter().all(|(key, value)| {
            if key.starts_with("PLpgSQL_stmt_") && !ACCEPTED.contains(&key.as_str()) {
                return false;
            }
            if key == "query"
                && let serde_json::Value::String(query) = value
            {
                queries.push(query.clone());
                return true;
            }
            plpgsql_reads(value, queries)
        }),
        serde_json::Value::Array(items) => items.iter().all(|item| plpgsql_reads(item, queries)),
        _ => true,
    }
}

/// The built-in functions a read in a `DO` block may call: none runs database code or reads a
/// table.
const READ_BUILTINS: [&str; 6] = ["string_agg", "format", "count", "array_agg", "to_regclass", "quote_ident"];

/// What a PL/pgSQL query (a statement, or an expression) reads when it is a plain read calling
/// only built-in functions that run no database code; `None` otherwise.
fn plain_read(query: &str) -> Option<BlockReads> {
    // An assignment's query is the whole statement (`converted := checked.value::varchar`):
    // what is read is its value.
    let value = query.split_once(":=").map_or(query, |(_, value)| value);
    let parsed = pg_query::parse(query, 0)
        .or_else(|_| pg_query::parse(&format!("SELECT {query}"), 0))
        .or_else(|_| pg_query::parse(&format!("SELECT {value}"), 0))
        .ok()?;
    let [statement] = parsed.protobuf.stmts.as_slice() else { return None };
    let Some(NodeEnum::SelectStmt(select)) = statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref())
    else {
        return None;
    };
    if !select.locking_clause.is_empty() {
        return None;
    }
    let root = NodeEnum::SelectStmt(select.clone());
    let nodes = root.nodes();
    let catalog = |range: &pg_query::protobuf::RangeVar| {
        matches!(range.schemaname.as_str(), "" | "pg_catalog") && range.relname.starts_with("pg_")
    };
    let only_builtins = nodes.iter().all(|(node, _, _, _)| match node {
        pg_query::NodeRef::FuncCall(call) => {
            let names: Vec<&str> = call
                .funcname
                .iter()
                .filter_map(|name| match &name.node {
                    Some(NodeEnum::String(name)) => Some(name.sval.as_str()),
                    _ => None,
                })
                .collect();
            matches!(
                names.as_slice(),
                [name] | ["pg_catalog", name] if READ_BUILTINS.contains(name)
            )
        }
        // A sub-select, a function in FROM: what they read is walked too, or refused.
        pg_query::NodeRef::RangeFunction(_) => false,
        _ => true,
    });
    let tables = nodes
        .iter()
        .any(|(node, _, _, _)| matches!(node, pg_query::NodeRef::RangeVar(range) if !catalog(range)));
    only_builtins.then_some(if tables { BlockReads::Tables } else { BlockReads::Catalog })
}

/// The lock `CREATE TABLE` takes on tables that exist: ACCESS EXCLUSIVE on the parent of a
/// partition (`PARTITION OF`), SHARE UPDATE EXCLUSIVE on the parents it inherits from
/// (`INHERITS`), SHARE ROW EXCLUSIVE on the tables its foreign keys reference, ACCESS SHARE on
/// a table it copies (`LIKE`).
fn new_table_lock(create: &pg_query::protobuf::CreateStmt) -> Lock {
    let is_foreign_key = |node: &pg_query::Node| {
        matches!(&node.node, Some(NodeEnum::Constraint(constraint))
            if constraint.contype == ConstrType::ConstrForeign as i32)
    };
    let parents = match (create.partbound.is_some(), create.inh_relations.is_empty()) {
        (true, _) => Lock::AccessExclusive,
        (false, false) => Lock::ShareUpdateExclusive,
        (false, true) => Lock::None,
    };
    let elements = create.table_elts.iter().chain(&create.constraints).map(|element| match &element.node {
        _ if is_foreign_key(element) => Lock::ShareRowExclusive,
        Some(NodeEnum::ColumnDef(column)) if column.constraints.iter().any(is_foreign_key) => {
            Lock::ShareRowExclusive
        }
        Some(NodeEnum::TableLikeClause(_)) => Lock::AccessShare,
        _ => Lock::None,
    });
    elements.chain([parents]).max().unwrap_or(Lock::None)
}

/// Whether a statement calls a function anywhere, other than the built-in aggregates that run
/// no code of the database's own (`count`, `sum`, `min`, `max`, `avg`, unqualified).
fn calls_functions(node: &NodeEnum) -> bool {
    node.nodes().into_iter().any(|(node, _, _, _)| match node {
        pg_query::NodeRef::FuncCall(call) => {
            let name = match call.funcname.as_slice() {
                [name] => match &name.node {
                    Some(NodeEnum::String(name)) => Some(name.sval.to_ascii_lowercase()),
                    _ => None,
                },
                _ => None,
            };
            !matches!(name.as_deref(), Some("count" | "sum" | "min" | "max" | "avg"))
        }
        _ => false,
    })
}

/// What a statement does to the rows of the tables it locks, beyond changing the catalog: how
/// its duration grows with the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    /// Catalog only: instant whatever the table's size.
    Catalog,
    /// Reads every row (validating a constraint, `SET NOT NULL`, `VACUUM`).
    Scan,
    /// Changes rows (`UPDATE`, `DELETE`, `INSERT ... SELECT`).
    Rows,
    /// Builds an index: a scan and a sort.
    Build,
    /// Writes the whole table anew (a type change, a volatile default, `VACUUM FULL`).
    Rewrite,
    /// Runs code whose work cannot be told from the statement (`DO`, `CALL`, a `SELECT` that may
    /// call functions).
    Unknown,
}

/// [`Work`] of a PostgreSQL statement given as text; a rewrite when it does not parse.
pub fn work_of(statement: &str) -> Work {
    match crate::parse_with_trees(statement).trees.as_slice() {
        [Ok(tree)] => statement_work(tree),
        _ => Work::Rewrite,
    }
}

/// [`Work`] of a PostgreSQL statement.
pub fn statement_work(node: &NodeEnum) -> Work {
    match node {
        NodeEnum::IndexStmt(_) | NodeEnum::ReindexStmt(_) => Work::Build,
        NodeEnum::VacuumStmt(vacuum) if has_option(&vacuum.options, "full") => Work::Rewrite,
        NodeEnum::VacuumStmt(_) => Work::Scan,
        NodeEnum::ClusterStmt(_) | NodeEnum::RefreshMatViewStmt(_) => Work::Rewrite,
        NodeEnum::UpdateStmt(_) | NodeEnum::DeleteStmt(_) | NodeEnum::MergeStmt(_) => Work::Rows,
        NodeEnum::DoStmt(block) => match block_reads(block) {
            Some(BlockReads::Catalog) => Work::Catalog,
            Some(BlockReads::Tables) => Work::Scan,
            None => Work::Unknown,
        },
        NodeEnum::CallStmt(_) | NodeEnum::SelectStmt(_) => Work::Unknown,
        NodeEnum::InsertStmt(insert) if insert.select_stmt.is_some() => Work::Rows,
        NodeEnum::AlterTableStmt(alter) => alter
            .cmds
            .iter()
            .map(|cmd| match &cmd.node {
                Some(NodeEnum::AlterTableCmd(cmd)) => alter_table_work(cmd),
                _ => Work::Rewrite,
            })
            .max()
            .unwrap_or(Work::Catalog),
        _ => Work::Catalog,
    }
}

fn alter_table_work(cmd: &pg_query::protobuf::AlterTableCmd) -> Work {
    use AlterTableType as At;
    let definition = cmd.def.as_deref().and_then(|def| def.node.as_ref());
    match At::try_from(cmd.subtype) {
        // Whether the new type is binary-coercible takes the catalog to know: assume the worst.
        Ok(At::AtAlterColumnType | At::AtSetLogged | At::AtSetUnLogged | At::AtSetTableSpace) => {
            Work::Rewrite
        }
        Ok(At::AtSetAccessMethod) => Work::Rewrite,
        Ok(At::AtAddColumn) => match definition {
            // A volatile default is computed for every row; a constant one is stored once.
            Some(NodeEnum::ColumnDef(column)) if column.constraints.iter().any(volatile_default) => {
                Work::Rewrite
            }
            _ => Work::Catalog,
        },
        Ok(At::AtSetNotNull | At::AtValidateConstraint | At::AtAttachPartition) => Work::Scan,
        Ok(At::AtAddConstraint | At::AtAddIndex) => match definition {
            Some(NodeEnum::Constraint(constraint)) => match ConstrType::try_from(constraint.contype) {
                Ok(ConstrType::ConstrPrimary | ConstrType::ConstrUnique | ConstrType::ConstrExclusion)
                    if constraint.indexname.is_empty() =>
                {
                    Work::Build
                }
                Ok(ConstrType::ConstrCheck | ConstrType::ConstrForeign) if !constraint.skip_validation => {
                    Work::Scan
                }
                _ => Work::Catalog,
            },
            _ => Work::Catalog,
        },
        _ => Work::Catalog,
    }
}

/// Whether a column constraint is a default PostgreSQL must compute row by row (a function
/// call other than the clock functions, which are stable within the statement).
fn volatile_default(constraint: &pg_query::Node) -> bool {
    let Some(NodeEnum::Constraint(constraint)) = &constraint.node else { return false };
    if constraint.contype != ConstrType::ConstrDefault as i32 {
        return constraint.contype == ConstrType::ConstrGenerated as i32;
    }
    let Some(expression) = constraint.raw_expr.as_deref().and_then(|expression| expression.node.as_ref())
    else {
        return false;
    };
    computed_per_row(expression)
}

/// Whether PostgreSQL computes a column default (as PostgreSQL prints it) row by row when the
/// column is added, rewriting the table: the judgement [`statement_work`] makes of `ADD
/// COLUMN`, for a planner that has the default but no statement. An expression that does not
/// parse counts as computed per row.
pub fn default_computed_per_row(default: &str) -> bool {
    let Ok(parsed) = pg_query::parse(&format!("SELECT {default}"), 0) else { return true };
    let select =
        parsed.protobuf.stmts.first().and_then(|raw| raw.stmt.as_deref()).and_then(|stmt| stmt.node.as_ref());
    let Some(NodeEnum::SelectStmt(select)) = select else { return true };
    select.target_list.iter().any(|target| match &target.node {
        Some(NodeEnum::ResTarget(target)) => {
            target.val.as_deref().and_then(|value| value.node.as_ref()).is_none_or(computed_per_row)
        }
        _ => true,
    })
}

/// Whether an expression calls a function other than the clock functions, which are stable
/// within the statement.
fn computed_per_row(expression: &NodeEnum) -> bool {
    expression.nodes().into_iter().any(|(node, _, _, _)| match node {
        pg_query::NodeRef::FuncCall(call) => {
            let name = call.funcname.last().and_then(|part| match &part.node {
                Some(NodeEnum::String(name)) => Some(name.sval.to_ascii_lowercase()),
                _ => None,
            });
            !matches!(name.as_deref(), Some("now" | "statement_timestamp" | "transaction_timestamp"))
        }
        _ => false,
    })
}

/// What one PostgreSQL statement locks, and what it leaves the statements after it, read from
/// one parse of its text: the runner reads a file's statements once, not once per fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockFacts {
    /// The search path it gives the session (`SET search_path`), if it does; empty for
    /// `RESET`/`DEFAULT`.
    pub search_path: Option<Vec<String>>,
    /// Its strongest table lock ([`lock_of`]).
    pub lock: Lock,
    /// The tables it names ([`tables_of`]).
    pub tables: Vec<String>,
    /// Those among `tables` it locks without their partitions or inheritance children (named
    /// with `ONLY`, renamed or moved, a partition's parent in `ATTACH`/`DETACH`).
    pub alone: Vec<String>,
    /// The tables only the catalog names for it ([`catalog_tables_of`]).
    pub through_catalog: Vec<CatalogTable>,
    /// The tables, views and materialized views it creates, quoted as `tables` are.
    pub created: Vec<String>,
}

/// [`LockFacts`] of one PostgreSQL statement given as text; one that does not parse locks
/// `ACCESS EXCLUSIVE` and names nothing.
pub fn lock_facts(statement: &str) -> LockFacts {
    let Ok(parsed) = pg_query::parse(statement, 0) else {
        return LockFacts {
            search_path: None,
            lock: Lock::AccessExclusive,
            tables: Vec::new(),
            alone: Vec::new(),
            through_catalog: Vec::new(),
            created: Vec::new(),
        };
    };
    let nodes: Vec<&NodeEnum> =
        parsed.protobuf.stmts.iter().filter_map(|raw| raw.stmt.as_ref()?.node.as_ref()).collect();
    LockFacts {
        search_path: match nodes.first() {
            Some(NodeEnum::VariableSetStmt(set)) => crate::postgres::search_path_of(set),
            _ => None,
        },
        lock: match nodes.as_slice() {
            [only] => statement_lock(only),
            _ => Lock::AccessExclusive,
        },
        tables: tables_in(&parsed),
        alone: tables_locked_alone(&parsed),
        through_catalog: catalog_tables_in(&parsed),
        created: tables_created(&parsed),
    }
}

/// [`statement_lock`] of one PostgreSQL statement given as text; `ACCESS EXCLUSIVE` when it
/// does not parse.
pub fn lock_of(statement: &str) -> Lock {
    match crate::parse_with_trees(statement).trees.as_slice() {
        [Ok(tree)] => statement_lock(tree),
        _ => Lock::AccessExclusive,
    }
}

/// The tables a PostgreSQL statement names, quoted as SQL text (schema-qualified where written
/// so): the ones it may wait for a lock on.
pub fn tables_of(statement: &str) -> Vec<String> {
    pg_query::parse(statement, 0).map(|parsed| tables_in(&parsed)).unwrap_or_default()
}

/// [`tables_of`] a parsed statement.
fn tables_in(parsed: &pg_query::ParseResult) -> Vec<String> {
    // The parser lists its tables as `schema.name` text, which a name holding a dot would cut
    // at the wrong place: each is taken from the tree's own name, schema and table apart.
    // One the tree holds as a list of names (`DROP TRIGGER ... ON s.t`), not a range, is cut at
    // its last dot.
    let ranges: Vec<(String, String)> = parsed
        .protobuf
        .nodes()
        .into_iter()
        .filter_map(|(node, _, _, _)| match node {
            pg_query::NodeRef::RangeVar(range) => {
                let joined = match range.schemaname.as_str() {
                    "" => range.relname.clone(),
                    schema => format!("{schema}.{}", range.relname),
                };
                Some((joined, quoted_table(&range.schemaname, &range.relname)))
            }
            _ => None,
        })
        .collect();
    let mut tables: Vec<String> = Vec::new();
    for listed in parsed.tables() {
        let table = match ranges.iter().find(|(joined, _)| *joined == listed) {
            Some((_, table)) => table.clone(),
            None => match listed.rsplit_once('.') {
                Some((schema, name)) => quoted_table(schema, name),
                None => quoted_table("", &listed),
            },
        };
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    // Tables locked though not listed as read or written: the parent a new partition or
    // inheritance child is added to, and the table a foreign key references.
    let range = |node: &pg_query::Node| match &node.node {
        Some(NodeEnum::RangeVar(range)) => Some(range.clone()),
        _ => None,
    };
    let referenced = |node: &pg_query::Node| match &node.node {
        Some(NodeEnum::Constraint(constraint)) => constraint.pktable.clone(),
        _ => None,
    };
    // A constraint's referenced table, or those of a column's constraints (`REFERENCES`).
    let references = |node: &pg_query::Node| -> Vec<pg_query::protobuf::RangeVar> {
        match &node.node {
            Some(NodeEnum::ColumnDef(column)) => column.constraints.iter().filter_map(referenced).collect(),
            _ => referenced(node).into_iter().collect(),
        }
    };
    let mut named = Vec::new();
    for statement in &parsed.protobuf.stmts {
        match statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref()) {
            Some(NodeEnum::CreateStmt(create)) => {
                named.extend(create.inh_relations.iter().filter_map(range));
                for element in create.table_elts.iter().chain(&create.constraints) {
                    named.extend(references(element));
                }
            }
            Some(NodeEnum::AlterTableStmt(alter)) => {
                for command in &alter.cmds {
                    if let Some(NodeEnum::AlterTableCmd(command)) = &command.node {
                        named.extend(command.def.as_deref().map(references).unwrap_or_default());
                        // The table attached (scanned under its lock) or detached.
                        if let Some(NodeEnum::PartitionCmd(partition)) =
                            command.def.as_deref().and_then(|def| def.node.as_ref())
                        {
                            named.extend(partition.name.clone());
                        }
                    }
                }
            }
            // Statements whose table the parser's list of tables leaves out.
            Some(NodeEnum::RenameStmt(rename)) if rename.rename_type != ObjectType::ObjectIndex as i32 => {
                named.extend(rename.relation.clone());
            }
            Some(NodeEnum::AlterSeqStmt(sequence)) => named.extend(sequence.sequence.clone()),
            // Relations other than tables a `DROP` takes ACCESS EXCLUSIVE on: a reader of a view
            // or a sequence's user holds a lock on it, not on a table.
            Some(NodeEnum::DropStmt(drop))
                if is_one_of(
                    drop.remove_type,
                    &[ObjectType::ObjectView, ObjectType::ObjectMatview, ObjectType::ObjectSequence],
                ) =>
            {
                for table in drop.objects.iter().filter_map(dropped_name) {
                    if !tables.contains(&table) {
                        tables.push(table);
                    }
                }
            }
            Some(NodeEnum::CreatePolicyStmt(policy)) => named.extend(policy.table.clone()),
            Some(NodeEnum::AlterPolicyStmt(policy)) => named.extend(policy.table.clone()),
            Some(NodeEnum::ClusterStmt(cluster)) => named.extend(cluster.relation.clone()),
            // What a block runs locks what those statements lock, as far as its text tells.
            Some(NodeEnum::DoStmt(block)) => {
                for table in block_statements(block).iter().flat_map(|statement| tables_of(statement)) {
                    if !tables.contains(&table) {
                        tables.push(table);
                    }
                }
            }
            _ => {}
        }
    }
    for range in named {
        let table = quoted_table(&range.schemaname, &range.relname);
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    tables
}

/// The tables among [`tables_of`] a parsed statement locks without their partitions or
/// inheritance children: named with `ONLY`, renamed or moved to another schema, or a table a
/// partition is attached to or detached from (locked itself, and the partition named).
fn tables_locked_alone(parsed: &pg_query::ParseResult) -> Vec<String> {
    let mut alone: Vec<String> = Vec::new();
    let mut add = |range: &pg_query::protobuf::RangeVar| {
        let table = quoted_table(&range.schemaname, &range.relname);
        if !alone.contains(&table) {
            alone.push(table);
        }
    };
    for (node, _, _, _) in parsed.protobuf.nodes() {
        if let pg_query::NodeRef::RangeVar(range) = node
            && !range.inh
        {
            add(range);
        }
    }
    let partition_command = |command: &pg_query::Node| {
        matches!(&command.node, Some(NodeEnum::AlterTableCmd(command))
            if is_one_of(command.subtype, &[AlterTableType::AtAttachPartition, AlterTableType::AtDetachPartition, AlterTableType::AtDetachPartitionFinalize]))
    };
    for statement in &parsed.protobuf.stmts {
        match statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref()) {
            Some(NodeEnum::RenameStmt(rename)) => rename.relation.iter().for_each(&mut add),
            Some(NodeEnum::AlterObjectSchemaStmt(moved)) => moved.relation.iter().for_each(&mut add),
            Some(NodeEnum::AlterTableStmt(alter))
                if !alter.cmds.is_empty() && alter.cmds.iter().all(partition_command) =>
            {
                alter.relation.iter().for_each(&mut add)
            }
            _ => {}
        }
    }
    alone
}

/// Whether a syntax tree's enum code (an object type, an `ALTER TABLE` subcommand) is one of
/// `kinds`.
fn is_one_of<K: Copy + Into<i32>>(code: i32, kinds: &[K]) -> bool {
    kinds.iter().any(|kind| (*kind).into() == code)
}

/// A table's name as SQL text: quoted, schema-qualified when `schema` is not empty.
fn quoted_table(schema: &str, name: &str) -> String {
    match schema {
        "" => crate::quote_ident(name),
        schema => format!("{}.{}", crate::quote_ident(schema), crate::quote_ident(name)),
    }
}

/// The tables, views and materialized views a parsed statement creates, quoted as
/// [`tables_of`] gives them (schema-qualified where written so).
fn tables_created(parsed: &pg_query::ParseResult) -> Vec<String> {
    parsed
        .protobuf
        .stmts
        .iter()
        .filter_map(|statement| relation_created(statement.stmt.as_ref()?.node.as_ref()?))
        .map(|range| quoted_table(&range.schemaname, &range.relname))
        .collect()
}

/// The table, view or materialized view a statement creates, as written.
fn relation_created(node: &NodeEnum) -> Option<&pg_query::protobuf::RangeVar> {
    match node {
        NodeEnum::CreateStmt(create) => create.relation.as_ref(),
        NodeEnum::CreateTableAsStmt(create) => create.into.as_ref()?.rel.as_ref(),
        NodeEnum::ViewStmt(view) => view.view.as_ref(),
        _ => None,
    }
}

/// A table or column a statement creates, or names anew by renaming (names as PostgreSQL reads
/// them, without schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A table, view or materialized view.
    Table(String),
    /// A column of `table`.
    Column {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
}

/// What a PostgreSQL statement creates ([`Created`]); `None` when that cannot be told from the
/// statement (it does not parse, or runs code: `DO`, `CALL`, a function call).
pub fn created_of(statement: &str) -> Option<Vec<Created>> {
    let parsed = pg_query::parse(statement, 0).ok()?;
    let mut created = Vec::new();
    for statement in &parsed.protobuf.stmts {
        let node = statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref())?;
        match node {
            NodeEnum::DoStmt(_) | NodeEnum::CallStmt(_) => return None,
            NodeEnum::SelectStmt(_) if calls_functions(node) => return None,
            NodeEnum::CreateStmt(_) | NodeEnum::CreateTableAsStmt(_) | NodeEnum::ViewStmt(_) => {
                created.extend(relation_created(node).map(|r| Created::Table(r.relname.clone())))
            }
            NodeEnum::AlterTableStmt(alter) => {
                let table = alter.relation.as_ref().map(|r| r.relname.clone()).unwrap_or_default();
                for command in &alter.cmds {
                    if let Some(NodeEnum::AlterTableCmd(command)) = &command.node
                        && command.subtype == AlterTableType::AtAddColumn as i32
                        && let Some(NodeEnum::ColumnDef(column)) =
                            command.def.as_deref().and_then(|def| def.node.as_ref())
                    {
                        created
                            .push(Created::Column { table: table.clone(), column: column.colname.clone() });
                    }
                }
            }
            NodeEnum::RenameStmt(rename) => {
                let table = rename.relation.as_ref().map(|r| r.relname.clone()).unwrap_or_default();
                if rename.rename_type == ObjectType::ObjectColumn as i32 {
                    created.push(Created::Column { table, column: rename.newname.clone() });
                } else if rename.relation.is_some() {
                    created.push(Created::Table(rename.newname.clone()));
                }
            }
            _ => {}
        }
    }
    Some(created)
}

/// A table a statement locks that only the catalog can name: the statement names another
/// object, through which PostgreSQL locks the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogTable {
    /// The table of an index (quoted as SQL text): `DROP INDEX`, `REINDEX INDEX`.
    OfIndex(String),
    /// The tables joined to `table` (quoted) by the foreign keys `through` reaches: dropping a
    /// foreign key, or the table or column it is on, removes its triggers from the table it
    /// references, a type change rebuilds it, and a partition attached or detached takes on or
    /// leaves the table's, each locking that table too.
    KeyPartners {
        /// The table the statement names.
        table: String,
        /// Which of the table's foreign keys (and of those referencing it) the statement touches.
        through: KeyScope,
        /// Whether the tables the chosen foreign keys of `table` reference are locked.
        referenced: bool,
        /// Whether the tables whose chosen foreign keys reference `table` are locked (`CASCADE`,
        /// a referenced column's type change).
        referencing: bool,
    },
    /// The tables, views and materialized views that depend on what a `DROP ... CASCADE` drops,
    /// at any depth, and those its dropped foreign keys, triggers, defaults, rules and policies
    /// are on or reference: each is dropped or changed under ACCESS EXCLUSIVE.
    DependentsOf(Dropped),
}

/// An object a `DROP ... CASCADE` drops, whose dependents go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// A table, view, materialized view, sequence or index (quoted as SQL text).
    Relation(String),
    /// A type or domain (quoted as SQL text).
    Type(String),
    /// A schema (its name).
    Schema(String),
}

/// Which foreign keys a statement on a table touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// All of them: the table is dropped or emptied, or gains or loses a partition.
    Table,
    /// The constraint of that name (and, referencing the table, the foreign keys that depend on
    /// it as their key).
    Constraint(String),
    /// Those over one of these columns.
    Columns(Vec<String>),
}

/// An object a `DROP` names (`[schema.]name`), quoted as SQL text.
fn dropped_name(object: &pg_query::Node) -> Option<String> {
    let Some(NodeEnum::List(names)) = &object.node else { return None };
    let names: Vec<String> = names
        .items
        .iter()
        .filter_map(|name| match &name.node {
            Some(NodeEnum::String(name)) => Some(crate::quote_ident(&name.sval)),
            _ => None,
        })
        .collect();
    (!names.is_empty()).then(|| names.join("."))
}

/// What kind of object a [`LockedObject`] is: the catalog PostgreSQL locks it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedObjectKind {
    /// A function, procedure, aggregate or routine (`pg_proc`).
    Routine,
    /// A type or domain (`pg_type`).
    Type,
    /// A schema (`pg_namespace`).
    Schema,
    /// A collation (`pg_collation`).
    Collation,
    /// An encoding conversion (`pg_conversion`).
    Conversion,
    /// A text search configuration (`pg_ts_config`).
    TextSearchConfiguration,
    /// A text search dictionary (`pg_ts_dict`).
    TextSearchDictionary,
    /// A text search parser (`pg_ts_parser`).
    TextSearchParser,
    /// A text search template (`pg_ts_template`).
    TextSearchTemplate,
    /// An extended statistics object (`pg_statistic_ext`).
    Statistics,
    /// An extension (`pg_extension`).
    Extension,
    /// A procedural language (`pg_language`).
    Language,
    /// An event trigger (`pg_event_trigger`).
    EventTrigger,
    /// A foreign-data wrapper (`pg_foreign_data_wrapper`).
    ForeignDataWrapper,
    /// A foreign server (`pg_foreign_server`).
    ForeignServer,
    /// A publication (`pg_publication`).
    Publication,
}

impl LockedObjectKind {
    /// The kind of object a statement's `ObjectType` names, if PostgreSQL locks such an object
    /// in this database's catalogs when a statement names it (`get_object_address`): relations
    /// are tables' business ([`tables_of`]); roles, databases, tablespaces and subscriptions are
    /// shared objects, locked outside any database.
    fn of(object_type: i32) -> Option<LockedObjectKind> {
        use LockedObjectKind as Kind;
        let kinds = [
            (ObjectType::ObjectFunction, Kind::Routine),
            (ObjectType::ObjectProcedure, Kind::Routine),
            (ObjectType::ObjectRoutine, Kind::Routine),
            (ObjectType::ObjectAggregate, Kind::Routine),
            (ObjectType::ObjectType, Kind::Type),
            (ObjectType::ObjectDomain, Kind::Type),
            (ObjectType::ObjectSchema, Kind::Schema),
            (ObjectType::ObjectCollation, Kind::Collation),
            (ObjectType::ObjectConversion, Kind::Conversion),
            (ObjectType::ObjectTsconfiguration, Kind::TextSearchConfiguration),
            (ObjectType::ObjectTsdictionary, Kind::TextSearchDictionary),
            (ObjectType::ObjectTsparser, Kind::TextSearchParser),
            (ObjectType::ObjectTstemplate, Kind::TextSearchTemplate),
            (ObjectType::ObjectStatisticExt, Kind::Statistics),
            (ObjectType::ObjectExtension, Kind::Extension),
            (ObjectType::ObjectLanguage, Kind::Language),
            (ObjectType::ObjectEventTrigger, Kind::EventTrigger),
            (ObjectType::ObjectFdw, Kind::ForeignDataWrapper),
            (ObjectType::ObjectForeignServer, Kind::ForeignServer),
            (ObjectType::ObjectPublication, Kind::Publication),
        ];
        kinds.iter().find(|(written, _)| *written as i32 == object_type).map(|(_, kind)| *kind)
    }
}

/// An object other than a table that a statement locks by name (`DROP FUNCTION`, `DROP TYPE`,
/// `COMMENT ON SCHEMA`, `DROP COLLATION`, `ALTER FUNCTION ... RENAME`): a session holding it in
/// a conflicting mode (such a statement in an open transaction) blocks the statement though it
/// holds no table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedObject {
    /// What kind of object it is.
    pub kind: LockedObjectKind,
    /// Its schema as written; `None` when the search path finds it (or the kind has none).
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// A routine's argument types as the statement writes them (each a type name quoted as SQL
    /// text, `"pg_catalog"."int4"`): that overload only. `None` when the statement gives no
    /// argument list (every overload of the name is meant) or for other kinds.
    pub arguments: Option<Vec<String>>,
    /// The lock the statement takes on it (PostgreSQL's `get_object_address` callers).
    pub lock: Lock,
}

/// A type name as SQL text a server can resolve (`to_regtype`), each part quoted, or `None` for
/// a form that names no type by itself (`%TYPE`).
fn type_name_text(type_name: &pg_query::protobuf::TypeName) -> Option<String> {
    if type_name.pct_type || type_name.names.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for name in &type_name.names {
        match &name.node {
            Some(NodeEnum::String(name)) => parts.push(crate::quote_ident(&name.sval)),
            _ => return None,
        }
    }
    Some(format!("{}{}", parts.join("."), "[]".repeat(type_name.array_bounds.len())))
}

/// The objects other than tables a PostgreSQL statement locks by name ([`LockedObject`]).
/// Statements that change an object in place without such a lock (`ALTER FUNCTION ... SECURITY
/// DEFINER`, a type's or a schema's rename) name none.
pub fn objects_locked(statement: &str) -> Vec<LockedObject> {
    let Ok(parsed) = pg_query::parse(statement, 0) else { return Vec::new() };
    let named = |kind: LockedObjectKind, lock: Lock, names: &[pg_query::Node]| {
        let mut parts: Vec<String> = names
            .iter()
            .filter_map(|name| match &name.node {
                Some(NodeEnum::String(name)) => Some(name.sval.clone()),
                _ => None,
            })
            .collect();
        let name = parts.pop()?;
        Some(LockedObject { kind, schema: parts.pop(), name, arguments: None, lock })
    };
    // The object a `DROP`, a `COMMENT`, a `RENAME`, an `OWNER TO` or a `SET SCHEMA` names: a
    // routine's `ObjectWithArgs`, a type's `TypeName`, a qualified name's list, a schema's,
    // an extension's or a language's single name.
    let object = |object_type: i32, lock: Lock, node: &pg_query::Node| -> Option<LockedObject> {
        let kind = LockedObjectKind::of(object_type)?;
        match &node.node {
            Some(NodeEnum::ObjectWithArgs(routine)) if kind == LockedObjectKind::Routine => {
                let arguments = match routine.args_unspecified {
                    true => None,
                    false => routine
                        .objargs
                        .iter()
                        .map(|argument| match &argument.node {
                            Some(NodeEnum::TypeName(type_name)) => type_name_text(type_name),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>(),
                };
                named(kind, lock, &routine.objname).map(|found| LockedObject { arguments, ..found })
            }
            Some(NodeEnum::TypeName(type_name)) if kind == LockedObjectKind::Type => {
                named(kind, lock, &type_name.names)
            }
            Some(NodeEnum::List(names)) if kind != LockedObjectKind::Routine => {
                named(kind, lock, &names.items)
            }
            Some(NodeEnum::String(name)) if kind != LockedObjectKind::Routine => {
                Some(LockedObject { kind, schema: None, name: name.sval.clone(), arguments: None, lock })
            }
            _ => None,
        }
    };
    // PostgreSQL renames a type or a schema without locking it; it gives a new owner to, or
    // moves to another schema, those and the kinds with an `ALTER ... OWNER` of their own
    // (foreign-data wrappers, servers, event triggers, publications, extensions) likewise.
    let unlocked_by_rename = [ObjectType::ObjectType, ObjectType::ObjectDomain, ObjectType::ObjectSchema];
    let unlocked_by_owner_or_move = [
        ObjectType::ObjectType,
        ObjectType::ObjectDomain,
        ObjectType::ObjectSchema,
        ObjectType::ObjectFdw,
        ObjectType::ObjectForeignServer,
        ObjectType::ObjectEventTrigger,
        ObjectType::ObjectPublication,
        ObjectType::ObjectExtension,
    ];
    let mut found = Vec::new();
    for statement in &parsed.protobuf.stmts {
        let exclusive = Lock::AccessExclusive;
        match statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref()) {
            Some(NodeEnum::DropStmt(drop)) => {
                found
                    .extend(drop.objects.iter().filter_map(|node| object(drop.remove_type, exclusive, node)));
            }
            Some(NodeEnum::CommentStmt(comment)) => found.extend(
                comment
                    .object
                    .as_deref()
                    .and_then(|node| object(comment.objtype, Lock::ShareUpdateExclusive, node)),
            ),
            Some(NodeEnum::RenameStmt(rename)) if !is_one_of(rename.rename_type, &unlocked_by_rename) => {
                found.extend(
                    rename.object.as_deref().and_then(|node| object(rename.rename_type, exclusive, node)),
                )
            }
            Some(NodeEnum::AlterOwnerStmt(owner))
                if !is_one_of(owner.object_type, &unlocked_by_owner_or_move) =>
            {
                found.extend(
                    owner.object.as_deref().and_then(|node| object(owner.object_type, exclusive, node)),
                )
            }
            // Adding or renaming a label locks the enum (`ExclusiveLock` on the type).
            Some(NodeEnum::AlterEnumStmt(alter)) => {
                found.extend(named(LockedObjectKind::Type, Lock::Exclusive, &alter.type_name))
            }
            Some(NodeEnum::AlterObjectSchemaStmt(moved))
                if !is_one_of(moved.object_type, &unlocked_by_owner_or_move) =>
            {
                found.extend(
                    moved.object.as_deref().and_then(|node| object(moved.object_type, exclusive, node)),
                )
            }
            _ => {}
        }
    }
    found
}

/// The tables `statement` locks that [`tables_of`] cannot name without the catalog.
pub fn catalog_tables_of(statement: &str) -> Vec<CatalogTable> {
    pg_query::parse(statement, 0).map(|parsed| catalog_tables_in(&parsed)).unwrap_or_default()
}

/// [`catalog_tables_of`] a parsed statement.
fn catalog_tables_in(parsed: &pg_query::ParseResult) -> Vec<CatalogTable> {
    let cascade = |behavior: i32| behavior == pg_query::protobuf::DropBehavior::DropCascade as i32;
    let partners = |table: String, through: KeyScope, referenced: bool, referencing: bool| {
        CatalogTable::KeyPartners { table, through, referenced, referencing }
    };
    let mut found = Vec::new();
    for statement in &parsed.protobuf.stmts {
        if let Some(NodeEnum::DropStmt(drop)) = statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref())
            && cascade(drop.behavior)
        {
            let relation = is_one_of(
                drop.remove_type,
                &[
                    ObjectType::ObjectTable,
                    ObjectType::ObjectView,
                    ObjectType::ObjectMatview,
                    ObjectType::ObjectSequence,
                    ObjectType::ObjectIndex,
                ],
            );
            let typed = is_one_of(drop.remove_type, &[ObjectType::ObjectType, ObjectType::ObjectDomain]);
            for object in &drop.objects {
                let dropped = match &object.node {
                    _ if relation => dropped_name(object).map(Dropped::Relation),
                    Some(NodeEnum::TypeName(type_name)) if typed => {
                        type_name_text(type_name).map(Dropped::Type)
                    }
                    Some(NodeEnum::String(schema)) if drop.remove_type == ObjectType::ObjectSchema as i32 => {
                        Some(Dropped::Schema(schema.sval.clone()))
                    }
                    _ => None,
                };
                found.extend(dropped.map(CatalogTable::DependentsOf));
            }
        }
        match statement.stmt.as_ref().and_then(|stmt| stmt.node.as_ref()) {
            Some(NodeEnum::DropStmt(drop)) if drop.remove_type == ObjectType::ObjectIndex as i32 => {
                found.extend(drop.objects.iter().filter_map(dropped_name).map(CatalogTable::OfIndex));
            }
            // With CASCADE, what depends on the table is looked up whole (above).
            Some(NodeEnum::DropStmt(drop))
                if drop.remove_type == ObjectType::ObjectTable as i32 && !cascade(drop.behavior) =>
            {
                found.extend(
                    drop.objects
                        .iter()
                        .filter_map(dropped_name)
                        .map(|table| partners(table, KeyScope::Table, true, false)),
                );
            }
            Some(NodeEnum::TruncateStmt(truncate)) if cascade(truncate.behavior) => {
                found.extend(truncate.relations.iter().filter_map(|node| match &node.node {
                    Some(NodeEnum::RangeVar(range)) => Some(partners(
                        quoted_table(&range.schemaname, &range.relname),
                        KeyScope::Table,
                        false,
                        true,
                    )),
                    _ => None,
                }));
            }
            Some(NodeEnum::ReindexStmt(reindex))
                if reindex.kind == pg_query::protobuf::ReindexObjectType::ReindexObjectIndex as i32 =>
            {
                found.extend(
                    reindex
                        .relation
                        .as_ref()
                        .map(|index| CatalogTable::OfIndex(quoted_table(&index.schemaname, &index.relname))),
                );
            }
            Some(NodeEnum::AlterTableStmt(alter)) => {
                let Some(table) =
                    alter.relation.as_ref().map(|range| quoted_table(&range.schemaname, &range.relname))
                else {
                    continue;
                };
                for command in &alter.cmds {
                    let Some(NodeEnum::AlterTableCmd(command)) = &command.node else { continue };
                    let name = command.name.clone();
                    let cascaded = cascade(command.behavior);
                    let subtype = command.subtype;
                    if subtype == AlterTableType::AtDropConstraint as i32 {
                        found.push(partners(table.clone(), KeyScope::Constraint(name), true, cascaded));
                    } else if subtype == AlterTableType::AtDropColumn as i32 {
                        found.push(partners(table.clone(), KeyScope::Columns(vec![name]), true, cascaded));
                    } else if subtype == AlterTableType::AtAlterColumnType as i32 {
                        found.push(partners(table.clone(), KeyScope::Columns(vec![name]), true, true));
                    } else if is_one_of(
                        subtype,
                        &[AlterTableType::AtAttachPartition, AlterTableType::AtDetachPartition],
                    ) {
                        // The partition takes on, or leaves, the table's foreign keys both ways.
                        found.push(partners(table.clone(), KeyScope::Table, true, true));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The lock `SET (name = ...)` or `RESET (name)` of one table storage parameter takes (`toast.`
/// in front or not): `SHARE UPDATE EXCLUSIVE` for those PostgreSQL's `reloptions.c` lists at
/// that level (fillfactor, autovacuum and vacuum settings, `parallel_workers`,
/// `toast_tuple_target`), `ACCESS EXCLUSIVE` for any other (`user_catalog_table`, names it
/// does not know).
pub fn storage_parameter_lock(name: &str) -> Lock {
    let name = name.strip_prefix("toast.").unwrap_or(name);
    let light = name.starts_with("autovacuum_")
        || matches!(
            name,
            "fillfactor"
                | "toast_tuple_target"
                | "parallel_workers"
                | "vacuum_truncate"
                | "vacuum_index_cleanup"
                | "vacuum_max_eager_freeze_failure_rate"
                | "log_autovacuum_min_duration"
        );
    if light { Lock::ShareUpdateExclusive } else { Lock::AccessExclusive }
}

/// The lock of one `ALTER TABLE` subcommand.
fn alter_table_lock(cmd: &pg_query::protobuf::AlterTableCmd) -> Lock {
    use AlterTableType as At;
    let Ok(subtype) = At::try_from(cmd.subtype) else { return Lock::AccessExclusive };
    match subtype {
        At::AtSetStatistics
        | At::AtSetOptions
        | At::AtResetOptions
        | At::AtValidateConstraint
        | At::AtClusterOn
        | At::AtDropCluster => Lock::ShareUpdateExclusive,
        // SHARE UPDATE EXCLUSIVE on the parent, but ACCESS EXCLUSIVE on the table attached (and
        // the default partition, which is scanned); `ALTER INDEX ... ATTACH PARTITION` takes
        // ACCESS EXCLUSIVE on the partition's index, which every query planned on the partition
        // opens.
        At::AtAttachPartition => Lock::AccessExclusive,
        // The strongest of the parameters' own levels, as `AlterTableGetRelOptionsLockLevel`.
        At::AtSetRelOptions | At::AtResetRelOptions => {
            match cmd.def.as_deref().and_then(|def| def.node.as_ref()) {
                Some(NodeEnum::List(list)) => list
                    .items
                    .iter()
                    .map(|item| match &item.node {
                        Some(NodeEnum::DefElem(def)) if def.defnamespace.is_empty() => {
                            storage_parameter_lock(&def.defname)
                        }
                        Some(NodeEnum::DefElem(def)) => {
                            storage_parameter_lock(&format!("{}.{}", def.defnamespace, def.defname))
                        }
                        _ => Lock::AccessExclusive,
                    })
                    .max()
                    .unwrap_or(Lock::AccessExclusive),
                _ => Lock::AccessExclusive,
            }
        }
        At::AtDetachPartition => match &cmd.def.as_deref().and_then(|def| def.node.as_ref()) {
            Some(NodeEnum::PartitionCmd(partition)) if partition.concurrent => Lock::ShareUpdateExclusive,
            _ => Lock::AccessExclusive,
        },
        At::AtEnableTrig
        | At::AtEnableAlwaysTrig
        | At::AtEnableReplicaTrig
        | At::AtDisableTrig
        | At::AtEnableTrigAll
        | At::AtDisableTrigAll
        | At::AtEnableTrigUser
        | At::AtDisableTrigUser => Lock::ShareRowExclusive,
        At::AtAddConstraint => match &cmd.def.as_deref().and_then(|def| def.node.as_ref()) {
            Some(NodeEnum::Constraint(constraint))
                if constraint.contype == ConstrType::ConstrForeign as i32 =>
            {
                Lock::ShareRowExclusive
            }
            _ => Lock::AccessExclusive,
        },
        _ => Lock::AccessExclusive,
    }
}

/// `LOCK TABLE ... IN <mode> MODE`, by PostgreSQL's lock mode numbers.
fn explicit_lock(mode: i32) -> Lock {
    match mode {
        1 => Lock::AccessShare,
        2 => Lock::RowShare,
        3 => Lock::RowExclusive,
        4 => Lock::ShareUpdateExclusive,
        5 => Lock::Share,
        6 => Lock::ShareRowExclusive,
        7 => Lock::Exclusive,
        _ => Lock::AccessExclusive,
    }
}

fn has_option(params: &[pg_query::Node], name: &str) -> bool {
    params.iter().any(
        |param| matches!(&param.node, Some(NodeEnum::DefElem(def)) if def.defname.eq_ignore_ascii_case(name)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_locked_by_name_are_named() {
        let object = |kind, schema: Option<&str>, name: &str, lock| LockedObject {
            kind,
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            arguments: None,
            lock,
        };
        let routine = |schema, name, arguments: &[&str]| LockedObject {
            arguments: Some(arguments.iter().map(|argument| argument.to_string()).collect()),
            ..object(LockedObjectKind::Routine, schema, name, Lock::AccessExclusive)
        };
        let typed = |schema, name| object(LockedObjectKind::Type, schema, name, Lock::AccessExclusive);
        assert_eq!(
            objects_locked("DROP ROUTINE app.\"F\"(int, app.\"Mood\"[], character varying(9)), g()"),
            [
                routine(
                    Some("app"),
                    "F",
                    &[r#""pg_catalog"."int4""#, r#""app"."Mood"[]"#, r#""pg_catalog"."varchar""#]
                ),
                routine(None, "g", &[])
            ]
        );
        // No argument list: every overload of the name.
        assert_eq!(
            objects_locked("DROP FUNCTION f"),
            [object(LockedObjectKind::Routine, None, "f", Lock::AccessExclusive)]
        );
        assert_eq!(
            objects_locked("ALTER FUNCTION f(int) RENAME TO h"),
            [routine(None, "f", &[r#""pg_catalog"."int4""#])]
        );
        assert_eq!(
            objects_locked("COMMENT ON PROCEDURE p() IS 'x'"),
            [LockedObject {
                arguments: Some(Vec::new()),
                ..object(LockedObjectKind::Routine, None, "p", Lock::ShareUpdateExclusive)
            }]
        );
        assert_eq!(
            objects_locked("DROP TYPE app.stage, mood"),
            [typed(Some("app"), "stage"), typed(None, "mood")]
        );
        assert_eq!(objects_locked("DROP DOMAIN score"), [typed(None, "score")]);
        assert_eq!(
            objects_locked("COMMENT ON SCHEMA crm IS 'x'"),
            [object(LockedObjectKind::Schema, None, "crm", Lock::ShareUpdateExclusive)]
        );
        assert_eq!(
            objects_locked("DROP SCHEMA crm, \"Old\" CASCADE"),
            [
                object(LockedObjectKind::Schema, None, "crm", Lock::AccessExclusive),
                object(LockedObjectKind::Schema, None, "Old", Lock::AccessExclusive)
            ]
        );
        assert_eq!(
            objects_locked("DROP COLLATION app.nocase"),
            [object(LockedObjectKind::Collation, Some("app"), "nocase", Lock::AccessExclusive)]
        );
        assert_eq!(
            objects_locked("DROP TEXT SEARCH CONFIGURATION english_simple"),
            [object(
                LockedObjectKind::TextSearchConfiguration,
                None,
                "english_simple",
                Lock::AccessExclusive
            )]
        );
        assert_eq!(
            objects_locked("ALTER COLLATION nocase OWNER TO app"),
            [object(LockedObjectKind::Collation, None, "nocase", Lock::AccessExclusive)]
        );
        assert_eq!(
            objects_locked("DROP EXTENSION citext"),
            [object(LockedObjectKind::Extension, None, "citext", Lock::AccessExclusive)]
        );
        // No lock on the object: nobody to name.
        assert!(objects_locked("ALTER TYPE stage RENAME TO phase").is_empty());
        assert!(objects_locked("ALTER SCHEMA crm RENAME TO sales").is_empty());
        assert!(objects_locked("ALTER SCHEMA crm OWNER TO app").is_empty());
        assert!(objects_locked("ALTER TYPE stage SET SCHEMA app").is_empty());
        assert_eq!(
            objects_locked("ALTER TYPE stage ADD VALUE 'won'"),
            [object(LockedObjectKind::Type, None, "stage", Lock::Exclusive)]
        );
        assert!(objects_locked("DROP TABLE t").is_empty());
        assert!(objects_locked("DROP ROLE app").is_empty());
        assert!(objects_locked("ALTER TABLE t ADD COLUMN c int").is_empty());
    }

    #[test]
    fn storage_parameters_take_the_lock_their_own_level_says() {
        let cases = [
            (
                r#"ALTER TABLE t SET ("fillfactor" = '70', autovacuum_vacuum_scale_factor = 0.05)"#,
                Lock::ShareUpdateExclusive,
            ),
            ("ALTER TABLE t RESET (toast.autovacuum_enabled, parallel_workers)", Lock::ShareUpdateExclusive),
            ("ALTER TABLE t SET (fillfactor = 70, user_catalog_table = true)", Lock::AccessExclusive),
            ("ALTER TABLE t SET (no_such_parameter = 1)", Lock::AccessExclusive),
            ("ALTER TABLE t REPLICA IDENTITY FULL", Lock::AccessExclusive),
        ];
        for (statement, lock) in cases {
            assert_eq!(lock_of(statement), lock, "{statement}");
        }
    }

    #[test]
    fn defaults_computed_per_row_are_the_function_calls_other_than_the_clock() {
        for default in [
            "gen_random_uuid()",
            "random()",
            "nextval('s'::regclass)",
            "(clock_timestamp() + '1 day'::interval)",
        ] {
            assert!(super::default_computed_per_row(default), "{default}");
        }
        for default in ["0", "'x'::text", "now()", "CURRENT_DATE", "'{}'::jsonb", "(1 + 2)"] {
            assert!(!super::default_computed_per_row(default), "{default}");
        }
    }

    fn lock(sql: &str) -> Lock {
        lock_of(sql)
    }

    #[test]
    fn says_how_the_work_grows_with_the_table() {
        for (sql, expected) in [
            ("ALTER TABLE t ADD COLUMN a int", Work::Catalog),
            ("ALTER TABLE t ADD COLUMN a int DEFAULT 0", Work::Catalog),
            ("ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now()", Work::Catalog),
            ("ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()", Work::Rewrite),
            ("ALTER TABLE t ALTER COLUMN a TYPE bigint", Work::Rewrite),
            ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", Work::Scan),
            ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", Work::Scan),
            ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", Work::Catalog),
            ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", Work::Build),
            ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", Work::Catalog),
            ("CREATE INDEX CONCURRENTLY i ON t (a)", Work::Build),
            ("UPDATE t SET a = 1", Work::Rows),
            ("CREATE TABLE u (a int)", Work::Catalog),
            ("SELECT pg_sleep(30)", Work::Unknown),
            ("DO $$ BEGIN PERFORM 1; END $$", Work::Unknown),
        ] {
            assert_eq!(work_of(sql), expected, "{sql}");
        }
    }

    #[test]
    fn names_the_tables_a_statement_may_wait_for() {
        assert_eq!(tables_of("ALTER TABLE crm.\"Deals\" ADD COLUMN a int"), ["\"crm\".\"Deals\""]);
        assert_eq!(tables_of("UPDATE t SET a = (SELECT max(b) FROM u)").len(), 2);
        assert!(tables_of("CREATE TABEL t (a int)").is_empty());
        // Locked without their partitions.
        for statement in [
            "ALTER TABLE ONLY p ALTER COLUMN a SET DEFAULT 1",
            "ALTER TABLE p RENAME TO q",
            "ALTER TABLE p SET SCHEMA s",
            "ALTER TABLE p DETACH PARTITION p1",
            "LOCK TABLE ONLY p",
        ] {
            assert_eq!(lock_facts(statement).alone, ["\"p\""], "{statement}");
        }
        assert!(lock_facts("ALTER TABLE p ADD COLUMN a int").alone.is_empty());
        assert_eq!(tables_of("DROP TRIGGER g ON s.t"), ["\"s\".\"t\""]);
        // A name holding a dot is one name, not a schema and a table.
        assert_eq!(tables_of("ALTER TABLE \"a.b\" ADD COLUMN c int"), ["\"a.b\""]);
        assert_eq!(tables_of("ALTER TABLE \"My S\".\"t.x\" ADD COLUMN c int"), ["\"My S\".\"t.x\""]);
        assert_eq!(lock_facts("CREATE TABLE s.t (a int)").created, ["\"s\".\"t\""]);
        assert_eq!(lock_facts("CREATE VIEW \"v.w\" AS SELECT 1").created, ["\"v.w\""]);
    }

    /// A `DO` block locks what its statements lock: its queries, and an `EXECUTE` of a string
    /// literal; what it builds at run time cannot be read.
    #[test]
    fn names_the_tables_a_do_block_locks_as_far_as_its_text_tells() {
        let block = "DO $$ BEGIN ALTER TABLE t ADD COLUMN a int; EXECUTE 'ALTER TABLE s.\"U\" ADD COLUMN b int'; \
                     IF (SELECT count(*) FROM r) > 0 THEN UPDATE w SET x = 1; END IF; \
                     EXECUTE format('ALTER TABLE %I ADD COLUMN c int', 'z'); END $$";
        assert_eq!(tables_of(block), ["\"t\"", "\"s\".\"U\"", "\"r\"", "\"w\""]);
        assert!(tables_of("DO LANGUAGE plpython3u $$ plpy.execute('ALTER TABLE t ADD a int') $$").is_empty());
    }

    #[test]
    fn online_forms_let_the_application_through_and_blocking_forms_do_not() {
        for sql in [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "DROP INDEX CONCURRENTLY i",
            "REINDEX INDEX CONCURRENTLY i",
            "ALTER TABLE t VALIDATE CONSTRAINT c",
            "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
            "ALTER INDEX i RENAME TO j",
            "VACUUM t",
            "SELECT count(*) FROM t",
            "CREATE TYPE e AS ENUM ('a')",
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
        ] {
            assert!(lock(sql).lets_application_through(), "{sql}: {:?}", lock(sql));
        }
        for (sql, expected) in [
            ("CREATE INDEX i ON t (a)", Lock::Share),
            ("ALTER TABLE t ADD COLUMN b int", Lock::AccessExclusive),
            (
                "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
                Lock::ShareRowExclusive,
            ),
            ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", Lock::AccessExclusive),
            ("ALTER TABLE t VALIDATE CONSTRAINT c, ADD COLUMN b int", Lock::AccessExclusive),
            ("CREATE TABLE u (id int REFERENCES t (id))", Lock::ShareRowExclusive),
            ("CREATE TABLE u (id int)", Lock::None),
            ("UPDATE t SET a = 1", Lock::RowExclusive),
            ("SELECT * FROM t FOR UPDATE", Lock::RowShare),
            ("LOCK TABLE t IN SHARE MODE", Lock::Share),
            ("DROP TABLE t", Lock::AccessExclusive),
            ("DO $$ BEGIN PERFORM 1; END $$", Lock::AccessExclusive),
            ("VACUUM FULL t", Lock::AccessExclusive),
        ] {
            assert_eq!(lock(sql), expected, "{sql}");
        }
    }

    #[test]
    fn the_tables_a_statement_waits_for_include_a_new_partitions_parent_and_a_referenced_table() {
        let partition = tables_of("CREATE TABLE p4 PARTITION OF parted FOR VALUES IN (4)");
        assert!(partition.contains(&r#""parted""#.to_owned()), "{partition:?}");
        let child = tables_of("CREATE TABLE c (b int) INHERITS (s.p)");
        assert!(child.contains(&r#""s"."p""#.to_owned()), "{child:?}");
        let fk =
            tables_of("ALTER TABLE ch ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES par (id) NOT VALID");
        assert_eq!(fk, [r#""ch""#, r#""par""#]);
        let column = tables_of("ALTER TABLE ch ADD COLUMN pid int REFERENCES par (id)");
        assert_eq!(column, [r#""ch""#, r#""par""#]);
        let attached = tables_of("ALTER TABLE parted ATTACH PARTITION p2 FOR VALUES FROM (1) TO (2)");
        assert_eq!(attached, [r#""parted""#, r#""p2""#]);
        for (sql, table) in [
            ("ALTER TABLE parent RENAME COLUMN v TO w", r#""parent""#),
            ("ALTER TABLE s.parent RENAME TO parent2", r#""s"."parent""#),
            ("CREATE POLICY p ON parent USING (v > 0)", r#""parent""#),
            ("ALTER POLICY p ON parent USING (v > 1)", r#""parent""#),
            ("CLUSTER parent USING parent_pkey", r#""parent""#),
            ("DROP VIEW s.v", r#""s"."v""#),
            ("DROP MATERIALIZED VIEW IF EXISTS mv", r#""mv""#),
            ("DROP SEQUENCE s.seq", r#""s"."seq""#),
            ("ALTER SEQUENCE seq RESTART WITH 10", r#""seq""#),
        ] {
            assert_eq!(tables_of(sql), [table], "{sql}");
        }
        let inline = tables_of("CREATE TABLE c (a int REFERENCES \"Big\".\"Par\" (id))");
        assert!(inline.contains(&"\"Big\".\"Par\"".to_owned()), "{inline:?}");
    }

    #[test]
    fn an_index_and_the_foreign_keys_a_statement_drops_or_rebuilds_name_their_tables_through_the_catalog() {
        assert_eq!(
            catalog_tables_of("DROP INDEX s.i, j"),
            [CatalogTable::OfIndex(r#""s"."i""#.to_owned()), CatalogTable::OfIndex(r#""j""#.to_owned())]
        );
        assert_eq!(catalog_tables_of("REINDEX INDEX i"), [CatalogTable::OfIndex(r#""i""#.to_owned())]);
        let partners = |table: &str, through: KeyScope, referenced: bool, referencing: bool| {
            CatalogTable::KeyPartners { table: table.to_owned(), through, referenced, referencing }
        };
        let constraint = |name: &str| KeyScope::Constraint(name.to_owned());
        let columns = |name: &str| KeyScope::Columns(vec![name.to_owned()]);
        for (sql, expected) in [
            (
                "ALTER TABLE child DROP CONSTRAINT child_pid_fkey",
                vec![partners(r#""child""#, constraint("child_pid_fkey"), true, false)],
            ),
            (
                "ALTER TABLE s.par DROP CONSTRAINT par_pkey CASCADE, DROP COLUMN a, ALTER COLUMN b TYPE bigint",
                vec![
                    partners(r#""s"."par""#, constraint("par_pkey"), true, true),
                    partners(r#""s"."par""#, columns("a"), true, false),
                    partners(r#""s"."par""#, columns("b"), true, true),
                ],
            ),
            (
                "DROP TABLE a, s.b CASCADE",
                vec![
                    CatalogTable::DependentsOf(Dropped::Relation(r#""a""#.into())),
                    CatalogTable::DependentsOf(Dropped::Relation(r#""s"."b""#.into())),
                ],
            ),
            ("DROP TABLE IF EXISTS a", vec![partners(r#""a""#, KeyScope::Table, true, false)]),
            ("TRUNCATE a CASCADE", vec![partners(r#""a""#, KeyScope::Table, false, true)]),
            ("TRUNCATE a", vec![]),
            ("DROP SCHEMA s CASCADE", vec![CatalogTable::DependentsOf(Dropped::Schema("s".into()))]),
            (
                "DROP TYPE s.mood, \"Other\" CASCADE",
                vec![
                    CatalogTable::DependentsOf(Dropped::Type(r#""s"."mood""#.into())),
                    CatalogTable::DependentsOf(Dropped::Type(r#""Other""#.into())),
                ],
            ),
            (
                "DROP INDEX u CASCADE",
                vec![
                    CatalogTable::DependentsOf(Dropped::Relation(r#""u""#.into())),
                    CatalogTable::OfIndex(r#""u""#.into()),
                ],
            ),
            ("DROP SEQUENCE q", vec![]),
            ("DROP SCHEMA s", vec![]),
            ("ALTER TABLE child ADD COLUMN a int", vec![]),
            ("ALTER TABLE child RENAME COLUMN a TO b", vec![]),
            (
                "ALTER TABLE parted DETACH PARTITION p1",
                vec![partners(r#""parted""#, KeyScope::Table, true, true)],
            ),
        ] {
            assert_eq!(catalog_tables_of(sql), expected, "{sql}");
        }
    }

    #[test]
    fn says_which_tables_and_columns_a_statement_creates() {
        let column =
            |table: &str, column: &str| Created::Column { table: table.into(), column: column.into() };
        assert_eq!(
            created_of("ALTER TABLE s.t ADD COLUMN k int, ADD COLUMN \"V\" int"),
            Some(vec![column("t", "k"), column("t", "V")])
        );
        assert_eq!(created_of("ALTER TABLE t RENAME COLUMN a TO k"), Some(vec![column("t", "k")]));
        assert_eq!(created_of("ALTER TABLE t RENAME TO u"), Some(vec![Created::Table("u".into())]));
        assert_eq!(created_of("CREATE TABLE t (k int)"), Some(vec![Created::Table("t".into())]));
        assert_eq!(created_of("ALTER TABLE t ALTER COLUMN k TYPE bigint"), Some(vec![]));
        assert_eq!(created_of("DO $$ BEGIN END $$"), None);
    }

    #[test]
    fn a_do_block_that_only_reads_the_catalog_is_brief_and_locks_no_table() {
        let check = "DO $haste$
DECLARE
  unknown text;
BEGIN
  SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) INTO unknown
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = '\"t\"'::regclass AND NOT c.relispartition;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
      MESSAGE = format('cannot swap column %s of %s', 'n', 't'),
      DETAIL = format('%s inherit its columns', unknown);
  END IF;
END
$haste$";
        assert_eq!((lock_of(check), work_of(check)), (Lock::None, Work::Catalog));
        // A block that reads tables as plainly (a conversion check) scans them under ACCESS SHARE.
        let reads_tables = "DO $$ DECLARE converted varchar(5); checked record; BEGIN
  FOR checked IN SELECT v AS value FROM t LOOP converted := checked.value::varchar; END LOOP;
EXCEPTION WHEN data_exception THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = format('%s', SQLERRM);
END $$";
        assert_eq!((lock_of(reads_tables), work_of(reads_tables)), (Lock::AccessShare, Work::Scan));
        for unknown in [
            "DO $$ BEGIN UPDATE t SET a = 1; END $$",
            "DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$",
            "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM t FOR UPDATE; END $$",
            "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM t WHERE f(a); END $$",
            "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM pg_class WHERE f(relname); END $$",
            "DO $$ BEGIN PERFORM pg_sleep(10); END $$",
            "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM pg_class FOR UPDATE; END $$",
        ] {
            assert_eq!(
                (lock_of(unknown), work_of(unknown)),
                (Lock::AccessExclusive, Work::Unknown),
                "{unknown}"
            );
        }
    }

    #[test]
    fn conflicts_follow_postgres_table() {
        // Rows of PostgreSQL's "Conflicting Lock Modes" table, as the modes each one conflicts with.
        let table = [
            (Lock::AccessShare, vec![Lock::AccessExclusive]),
            (Lock::RowShare, vec![Lock::Exclusive, Lock::AccessExclusive]),
            (
                Lock::RowExclusive,
                vec![Lock::Share, Lock::ShareRowExclusive, Lock::Exclusive, Lock::AccessExclusive],
            ),
            (
                Lock::ShareUpdateExclusive,
                vec![
                    Lock::ShareUpdateExclusive,
                    Lock::Share,
                    Lock::ShareRowExclusive,
                    Lock::Exclusive,
                    Lock::AccessExclusive,
                ],
            ),
            (
                Lock::Share,
                vec![
                    Lock::RowExclusive,
                    Lock::ShareUpdateExclusive,
                    Lock::ShareRowExclusive,
                    Lock::Exclusive,
                    Lock::AccessExclusive,
                ],
            ),
            (
                Lock::Exclusive,
                vec![
                    Lock::RowShare,
                    Lock::RowExclusive,
                    Lock::ShareUpdateExclusive,
                    Lock::Share,
                    Lock::ShareRowExclusive,
                    Lock::Exclusive,
                    Lock::AccessExclusive,
                ],
            ),
        ];
        for (lock, conflicts) in table {
            assert_eq!(lock.conflicting().collect::<Vec<_>>(), conflicts, "{lock:?}");
        }
        assert_eq!(Lock::AccessExclusive.conflicting().count(), 8);
        assert_eq!(Lock::None.conflicting().count(), 0);
    }

    #[test]
    fn partitions_reindexing_and_rewrites_take_the_locks_postgresql_takes() {
        for (sql, expected) in [
            // Partitions: the parent, the table attached, the default partition.
            ("CREATE TABLE p_2024 PARTITION OF p FOR VALUES FROM (1) TO (10)", Lock::AccessExclusive),
            ("CREATE TABLE p_default PARTITION OF p DEFAULT", Lock::AccessExclusive),
            ("CREATE TABLE c (b int) INHERITS (p)", Lock::ShareUpdateExclusive),
            ("CREATE TABLE c (LIKE t INCLUDING ALL)", Lock::AccessShare),
            ("CREATE TABLE c (a int, FOREIGN KEY (a) REFERENCES t (id))", Lock::ShareRowExclusive),
            ("CREATE TABLE p (a int) PARTITION BY RANGE (a)", Lock::None),
            ("ALTER TABLE p ATTACH PARTITION p_2024 FOR VALUES FROM (1) TO (10)", Lock::AccessExclusive),
            ("ALTER INDEX p_a_idx ATTACH PARTITION p_2024_a_idx", Lock::AccessExclusive),
            ("ALTER TABLE p DETACH PARTITION p_2024", Lock::AccessExclusive),
            ("ALTER TABLE p DETACH PARTITION p_2024 CONCURRENTLY", Lock::ShareUpdateExclusive),
            ("ALTER TABLE p DETACH PARTITION p_2024 FINALIZE", Lock::AccessExclusive),
            // REINDEX: SHARE on the table, ACCESS EXCLUSIVE on the indexes reads plan with.
            ("REINDEX TABLE t", Lock::AccessExclusive),
            ("REINDEX INDEX i", Lock::AccessExclusive),
            ("REINDEX TABLE CONCURRENTLY t", Lock::ShareUpdateExclusive),
            ("REINDEX (CONCURRENTLY) INDEX i", Lock::ShareUpdateExclusive),
            // Rewrites.
            ("CLUSTER t USING i", Lock::AccessExclusive),
            ("CLUSTER", Lock::AccessExclusive),
            ("VACUUM (FULL, ANALYZE) t", Lock::AccessExclusive),
            ("VACUUM (ANALYZE) t", Lock::ShareUpdateExclusive),
            ("REFRESH MATERIALIZED VIEW v", Lock::AccessExclusive),
            ("REFRESH MATERIALIZED VIEW CONCURRENTLY v", Lock::Exclusive),
            // Storage parameters: their own level; a table's tablespace or access method rewrites.
            ("ALTER TABLE t SET (autovacuum_enabled = false)", Lock::ShareUpdateExclusive),
            ("ALTER TABLE t SET TABLESPACE fast", Lock::AccessExclusive),
            ("ALTER TABLE t CLUSTER ON i", Lock::ShareUpdateExclusive),
            // CREATE SCHEMA: its elements' locks on the tables that exist.
            ("CREATE SCHEMA s", Lock::None),
            ("CREATE SCHEMA s CREATE TABLE u (a int) CREATE INDEX ON u (a)", Lock::None),
            ("CREATE SCHEMA s CREATE VIEW v AS SELECT * FROM public.t", Lock::AccessShare),
            ("CREATE SCHEMA s CREATE TABLE u (a int REFERENCES public.t (id))", Lock::ShareRowExclusive),
            // A read that calls a function cannot be judged.
            ("SELECT set_config('lock_timeout', '0', false)", Lock::AccessExclusive),
            ("SELECT f(a) FROM t", Lock::AccessExclusive),
            ("SELECT count(*), max(a) FROM t", Lock::AccessShare),
        ] {
            assert_eq!(lock(sql), expected, "{sql}");
        }
        assert!(!lock("REINDEX TABLE t").lets_application_through());
        assert!(lock("REINDEX TABLE CONCURRENTLY t").lets_application_through());
        assert!(!lock("ALTER INDEX p_a_idx ATTACH PARTITION p_2024_a_idx").lets_application_through());
    }
}
