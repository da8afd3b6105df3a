//! `migrate plan`: what the pending statements would do right now, before anything runs: the
//! lock each takes, how its work grows with the table, the table's live size, an estimate of
//! its duration, and the sessions that would block it.

use std::time::Instant;

use haste_driver::{Connection, LockHolder};
use haste_migrations::MigrationsDir;
use haste_sql::{Dialect, Lock, Work, quote_literal};

use crate::plan::{ExecutionMode, Plan};
use crate::status::State;
use crate::{Error, Settings};

/// The pending migrations, statement by statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImpactReport {
    /// Rows per second a sequential scan read on this server just now (sampled from the largest
    /// table a pending statement touches); the estimates are derived from it.
    pub scan_rows_per_second: Option<u64>,
    /// Each pending migration deploy would apply now, in its order.
    pub migrations: Vec<MigrationImpact>,
    /// The contract deploy would hold back (`-- haste:after`), where it stops: neither it nor
    /// what follows is in `migrations`.
    pub held: Option<crate::HeldMigration>,
}

/// One pending migration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationImpact {
    /// Folder name.
    pub name: String,
    /// How it would run.
    #[serde(flatten)]
    pub mode: ExecutionMode,
    /// Its statements.
    pub statements: Vec<StatementImpact>,
}

/// One statement of a pending migration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementImpact {
    /// 0-based index in the file.
    pub index: usize,
    /// 1-based line of its first token in `migration.sql`.
    pub line: usize,
    /// Its first line, as written.
    pub summary: String,
    /// The strongest table lock it takes.
    pub lock: Lock,
    /// How its work grows with the table.
    pub work: Work,
    /// The existing tables it names, with their live size.
    pub tables: Vec<TableSize>,
    /// Estimated duration in milliseconds, for work that grows with the table (an estimate
    /// from `scan_rows_per_second`, not a promise).
    pub estimate_ms: Option<u64>,
    /// Sessions holding locks on those tables now, oldest transaction first.
    pub blockers: Vec<LockHolder>,
    /// Whether running it now is safe: its lock lets the application through, or nobody holds
    /// its tables and it holds its lock only briefly.
    pub safe_now: bool,
    /// Why not, when it is not.
    pub why_not: Option<String>,
}

/// A table's live size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSize {
    /// As the statement names it.
    pub name: String,
    /// Bytes on disk with indexes and TOAST.
    pub bytes: u64,
    /// The planner's row estimate.
    pub rows: u64,
}

/// How many rows the throughput sample reads at most.
const SAMPLE_ROWS: u64 = 200_000;
/// A blocking lock held longer than this (estimated) makes the application wait noticeably.
const BRIEF_MS: u64 = 100;

/// Describes what deploying the pending migrations would do now. Takes no lock, writes nothing.
pub fn impact(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
) -> Result<ImpactReport, Error> {
    let status = crate::status(connection, dir, settings)?;
    let dialect = connection.dialect();
    let mut migrations: Vec<MigrationImpact> = Vec::new();
    let mut held = None;
    for state in status.migrations.iter().filter(|state| state.state == State::Pending) {
        let Some(migration) = dir.get(&state.name) else { continue };
        let applied_now = |after: &str| migrations.iter().any(|listed| listed.name == after);
        if let Some(hold) = crate::held_back(connection, settings, migration, &applied_now)? {
            held = Some(hold);
            break;
        }
        let plan = Plan::new(dialect, migration)?;
        let statements = plan
            .statements
            .iter()
            .enumerate()
            .map(|(index, statement)| {
                let postgres = dialect == Dialect::Postgres;
                let lock = if postgres { haste_sql::lock_of(&statement.text) } else { Lock::AccessExclusive };
                let work = if postgres { haste_sql::work_of(&statement.text) } else { Work::Catalog };
                let names = if postgres { haste_sql::tables_of(&statement.text) } else { Vec::new() };
                let tables = names.iter().filter_map(|name| table_size(connection, name)).collect();
                let blockers = crate::apply::blockers(connection, &statement.text);
                let position = plan.error_position(index, None);
                StatementImpact {
                    index,
                    line: position.line,
                    summary: haste_sql::mask_secrets(&statement.text[statement.start - statement.offset..])
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    lock,
                    work,
                    tables,
                    estimate_ms: None,
                    blockers,
                    safe_now: true,
                    why_not: None,
                }
            })
            .collect();
        migrations.push(MigrationImpact { name: migration.name.clone(), mode: plan.mode, statements });
    }
    let largest = migrations
        .iter()
        .flat_map(|migration| &migration.statements)
        .filter(|statement| statement.work != Work::Catalog)
        .flat_map(|statement| &statement.tables)
        .max_by_key(|table| table.rows)
        .map(|table| table.name.clone());
    let scan_rows_per_second = largest.and_then(|table| scan_rate(connection, &table));
    for statement in migrations.iter_mut().flat_map(|migration| &mut migration.statements) {
        judge(statement, scan_rows_per_second);
    }
    for migration in migrations.iter_mut().filter(|migration| migration.mode == ExecutionMode::Transaction) {
        judge_transaction(&mut migration.statements);
    }
    Ok(ImpactReport { scan_rows_per_second, migrations, held })
}

/// Fills in the estimate and whether the statement is safe to run now.
fn judge(statement: &mut StatementImpact, scan_rows_per_second: Option<u64>) {
    let rows: u64 = statement.tables.iter().map(|table| table.rows).max().unwrap_or(0);
    // A scan reads each row once; an index build also sorts; changing rows writes them and
    // their WAL; a rewrite writes the table and rebuilds every index.
    let factor = match statement.work {
        Work::Catalog | Work::Unknown => None,
        Work::Scan => Some(1.0),
        Work::Build => Some(2.0),
        Work::Rows => Some(3.0),
        Work::Rewrite => Some(4.0),
    };
    statement.estimate_ms = factor
        .zip(scan_rows_per_second)
        .map(|(factor, rate)| (rows as f64 * factor * 1000.0 / rate.max(1) as f64) as u64);
    if statement.lock.lets_application_through() {
        return;
    }
    let reason = if let Some(holder) = statement.blockers.first() {
        Some(format!(
            "pid {} ({}{}) holds a lock on its table since {}: the statement would wait for it",
            holder.pid,
            holder.application_name,
            holder.state.as_deref().map(|state| format!(", {state}")).unwrap_or_default(),
            holder.since
        ))
    } else if statement.lock >= Lock::Share && statement.work == Work::Unknown {
        Some(format!("it holds {} while it runs, for a time that cannot be told", statement.lock.describe()))
    } else if statement.lock >= Lock::Share && statement.estimate_ms.unwrap_or(0) > BRIEF_MS {
        Some(format!(
            "it holds {} for about {} ms",
            statement.lock.describe(),
            statement.estimate_ms.unwrap_or(0)
        ))
    } else {
        None
    };
    statement.safe_now = reason.is_none();
    statement.why_not = reason;
}

/// In one transaction a lock is held until the commit: the first statement that takes one
/// blocking the application is unsafe when the statements after it take long, or an unknown
/// time.
fn judge_transaction(statements: &mut [StatementImpact]) {
    let Some(first) = statements.iter().position(|statement| statement.lock >= Lock::Share) else { return };
    if !statements[first].safe_now {
        return;
    }
    let rest = &statements[first + 1..];
    let held: u64 = statements[first..].iter().filter_map(|statement| statement.estimate_ms).sum();
    let reason = if rest.iter().any(|statement| statement.work == Work::Unknown) {
        Some(format!(
            "in one transaction, it holds {} until the commit, through statements whose duration cannot be told",
            statements[first].lock.describe()
        ))
    } else if held > BRIEF_MS {
        Some(format!(
            "in one transaction, it holds {} until the commit, about {held} ms (estimate)",
            statements[first].lock.describe()
        ))
    } else {
        None
    };
    if reason.is_some() {
        statements[first].safe_now = false;
        statements[first].why_not = reason;
    }
}

/// The live size of `table` (quoted SQL text); `None` when it does not exist (yet).
fn table_size(connection: &mut dyn Connection, table: &str) -> Option<TableSize> {
    let sql = format!(
        "SELECT pg_total_relation_size(c.oid), CAST(c.reltuples AS bigint) \
         FROM pg_class c WHERE c.oid = to_regclass({})",
        quote_literal(table)
    );
    let row = connection.query_row(&sql).ok()??;
    let number =
        |i: usize| row.get(i).cloned().flatten().and_then(|value| value.parse::<i64>().ok()).unwrap_or(-1);
    let bytes = number(0).max(0) as u64;
    // A table never analyzed has no row estimate (-1): guess from its size, 100 bytes a row,
    // rather than call it empty.
    let rows = match number(1) {
        rows if rows >= 0 => rows as u64,
        _ => bytes / 100,
    };
    Some(TableSize { name: table.to_owned(), bytes, rows })
}

/// Rows per second a sequential scan of `table` reads now, from reading up to
/// [`SAMPLE_ROWS`] of its rows.
fn scan_rate(connection: &mut dyn Connection, table: &str) -> Option<u64> {
    let sql = format!("SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {SAMPLE_ROWS}) sample");
    let started = Instant::now();
    let rows: u64 = connection.query_row(&sql).ok()??.into_iter().next()??.parse().ok()?;
    let seconds = started.elapsed().as_secs_f64().max(0.000_1);
    (rows > 0).then(|| (rows as f64 / seconds) as u64)
}
