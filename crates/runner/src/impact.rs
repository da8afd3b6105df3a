//! `migrate plan`: what the pending statements would do right now, before anything runs: the
//! lock each takes, how its work grows with the table, the table's live size, an estimate of
//! its duration, the sessions that would block it and those it would wait for, and the lint
//! findings on its lines. Every probe runs under a short lock and statement timeout: a figure
//! that cannot be measured without waiting is reported `unmeasured`, never waited for.

use std::time::Instant;

use haste_driver::{Connection, DbError, LockHolder};
use haste_migrations::MigrationsDir;
use haste_sql::{Dialect, Lock, Work, quote_literal};

use crate::plan::{ExecutionMode, Plan};
use crate::waits::{DesignedWait, add_sessions, locked_tables, waits_by_design};
use crate::{Error, Settings};
use haste_driver::history::MigrationStatus;

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
    /// Its statements (a resumed one's: those it has not done).
    pub statements: Vec<StatementImpact>,
    /// Its batched data step (`data.sql`), run after the statements.
    pub data: Option<DataImpact>,
}

/// A pending data step: the table it walks and how.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DataImpact {
    /// `data.sql`, as found in the folder.
    pub file: String,
    /// The table walked, quoted as SQL text.
    pub table: String,
    /// Its key column.
    pub key: String,
    /// The table's live size, when it exists now (`None`: not yet, or not measured).
    pub size: Option<TableSize>,
    /// Rows a batch starts with; the size adapts to `target_ms`.
    pub batch_size: u64,
    /// The duration each batch's size adapts to: how long a batch holds its rows' locks.
    pub target_ms: u64,
    /// At most this many rows per second, when set.
    pub max_rate: Option<u64>,
    /// Batches at the starting size to walk the rows left (an estimate from the row estimate).
    pub batches: Option<u64>,
    /// Rows already done by a stopped walk this deploy resumes.
    pub rows_done: u64,
    /// One attempt of the lock budget for a batch, in milliseconds (0: none); a blocked batch
    /// is retried smaller until the deploy's lock deadline.
    pub lock_timeout_ms: u64,
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
    /// Sessions holding a lock on those tables (or their partitions and inheritance children)
    /// that conflicts with its lock now, oldest transaction first: it would wait for them.
    pub blockers: Vec<LockHolder>,
    /// Sessions holding such a lock now in an active transaction younger than one attempt of
    /// the lock budget (the migration's `lock_timeout`): ordinary load it would queue behind
    /// briefly, within an attempt, not blockers.
    pub load: Vec<LockHolder>,
    /// For statements that wait for other transactions by design (the concurrent index builds
    /// and drops, `DETACH PARTITION CONCURRENTLY`): the sessions it would wait for now. That
    /// wait holds only a lock the application's reads and writes never wait for.
    pub waits_for: Vec<LockHolder>,
    /// The figures that could not be measured without waiting (or at all).
    pub unmeasured: Vec<Unmeasured>,
    /// The lint findings on its lines.
    pub lint: Vec<LintNote>,
    /// Whether running it now is safe: nobody holds a lock it conflicts with, lint finds no
    /// error in it, every figure was measured, and its lock lets the application through or
    /// it holds it only briefly.
    pub safe_now: bool,
    /// Why not, when it is not (the first reason).
    pub why_not: Option<String>,
}

/// A table's live size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableSize {
    /// As the statement names it.
    pub name: String,
    /// Bytes on disk with indexes and TOAST, summed over its partitions and inheritance
    /// children.
    pub bytes: u64,
    /// The planner's row estimate, summed likewise.
    pub rows: u64,
    /// How many partitions and inheritance children (at any depth) the sums include.
    pub partitions: u64,
    /// Its indexes, with those of its partitions and children: each is built anew when the
    /// table is rewritten.
    pub indexes: u64,
}

/// A figure of a statement that could not be measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unmeasured {
    /// Which figure.
    pub figure: Figure,
    /// The table it concerns, where it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Why: the server's message (a lock or statement timeout of the probe).
    pub reason: String,
}

/// The figures a probe measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// A table's size and row estimate.
    Size,
    /// The sessions that would block the statement.
    Blockers,
    /// The transactions it would wait for by design.
    WaitsFor,
    /// Its duration estimate (the scan rate it derives from).
    Estimate,
}

impl Figure {
    /// As the plan's text names it.
    pub fn describe(self) -> &'static str {
        match self {
            Figure::Size => "size",
            Figure::Blockers => "blockers",
            Figure::WaitsFor => "transactions it waits for",
            Figure::Estimate => "duration estimate",
        }
    }
}

/// A lint finding on a statement's lines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LintNote {
    /// Rule id.
    pub rule: String,
    /// How much it matters.
    pub severity: LintSeverity,
    /// 1-based line in `migration.sql` where it starts.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The severity of a [`LintNote`], as `haste lint` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LintSeverity {
    /// Reported; does not fail lint.
    Warn,
    /// Fails lint: the statement is not safe to run.
    Error,
}

impl ImpactReport {
    /// Puts the lint findings of migration `name` beside the statements whose lines they are
    /// on; an error makes its statement not safe to run now.
    pub fn attach_lint(&mut self, name: &str, notes: impl IntoIterator<Item = LintNote>) {
        let Some(migration) = self.migrations.iter_mut().find(|migration| migration.name == name) else {
            return;
        };
        for note in notes {
            // The last statement starting on or before the finding's line holds it (a finding
            // in the comments before the first statement goes to the first).
            let at = migration.statements.iter().rposition(|statement| statement.line <= note.line);
            let Some(statement) = at.or(Some(0)).and_then(|at| migration.statements.get_mut(at)) else {
                continue;
            };
            if note.severity == LintSeverity::Error {
                statement.refuse(format!("lint error {}: {}", note.rule, note.message));
            }
            statement.lint.push(note);
        }
    }
}

impl StatementImpact {
    /// Marks it not safe to run now, keeping the first reason given.
    fn refuse(&mut self, reason: String) {
        self.safe_now = false;
        self.why_not.get_or_insert(reason);
    }
}

/// Limits of every probe: it never makes the application queue behind it longer than the
/// runner's default lock budget per attempt, and never runs long.
const PROBE_LIMITS: &str = "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), \
     set_config('lock_timeout', '100ms', false), set_config('statement_timeout', '2s', false)";

/// How many rows the throughput sample reads at most.
const SAMPLE_ROWS: u64 = 200_000;
/// The work of building an index over a table's rows, in scans of it: a scan and a sort.
const INDEX_BUILD_FACTOR: f64 = 2.0;
/// A blocking lock held longer than this (estimated) makes the application wait noticeably.
const BRIEF_MS: u64 = 100;

/// Describes what deploying the pending migrations would do now. Takes no lock it would wait
/// for, writes nothing.
pub fn impact(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
) -> Result<ImpactReport, Error> {
    if connection.dialect() != Dialect::Postgres {
        return measure(connection, dir, settings);
    }
    let saved = connection.query_row(PROBE_LIMITS).map_err(Error::database("limiting the probes"))?;
    let report = measure(connection, dir, settings);
    // The session's own limits back (it may be used after): the probes' are only theirs.
    let value = |i: usize| saved.as_ref().and_then(|row| row.get(i).cloned().flatten()).unwrap_or_default();
    let restore = format!(
        "SELECT set_config('lock_timeout', {}, false), set_config('statement_timeout', {}, false)",
        quote_literal(&value(0)),
        quote_literal(&value(1))
    );
    connection.query_row(&restore).map_err(Error::database("restoring the session's limits"))?;
    report
}

fn measure(
    connection: &mut dyn Connection,
    dir: &MigrationsDir,
    settings: &Settings,
) -> Result<ImpactReport, Error> {
    // The checks deploy makes before applying anything, by the same function: a plan of a deploy
    // that would refuse is that refusal, with its exit code.
    crate::check_provider(connection, dir)?;
    let mut records = crate::recorded::read(connection, &settings.history)?;
    // Without the migration lock, a `running` record is a live deploy's when one holds the
    // lock: what it applies is still to be applied, not an interrupted run's.
    if records.iter().any(|record| record.row.status == Some(MigrationStatus::Running))
        && connection.lock_holder().map_err(Error::database("looking up the lock holder"))?.is_some()
    {
        records.retain(|record| record.row.status != Some(MigrationStatus::Running));
    }
    let pending = crate::verify(dir, &records, settings.allow_out_of_order)?;
    let dialect = connection.dialect();
    let postgres = dialect == Dialect::Postgres;
    let mut migrations: Vec<MigrationImpact> = Vec::new();
    let mut held = None;
    for crate::Pending { migration, from, progress } in pending {
        let applied_now = |after: &str| migrations.iter().any(|listed| listed.name == after);
        if let Some(hold) = crate::held_back(connection, settings, migration, &applied_now)? {
            held = Some(hold);
            break;
        }
        let plan = Plan::new(dialect, migration)?;
        plan.check_data_header(connection)?;
        // One attempt of the lock budget, as deploy runs this migration's statements.
        let attempt = migration.directives.lock_timeout.or(settings.limits.lock_timeout).unwrap_or_default();
        let mut statements = Vec::new();
        // Masked as a whole: a password one statement passes may be written in another.
        let shown = haste_sql::mask_secrets(&plan.file.sql);
        // A resumed migration runs only the statements it has not done.
        for (index, statement) in plan.statements.iter().enumerate().skip(from) {
            let lock = if postgres { haste_sql::lock_of(&statement.text) } else { Lock::AccessExclusive };
            let work = if postgres { haste_sql::work_of(&statement.text) } else { Work::Catalog };
            let mut unmeasured = Vec::new();
            let names = if postgres {
                locked_tables(connection, &statement.text).unwrap_or_else(|error| {
                    unmeasured.push(Unmeasured { figure: Figure::Size, table: None, reason: error.message });
                    haste_sql::tables_of(&statement.text)
                })
            } else {
                Vec::new()
            };
            let mut tables = Vec::new();
            for name in &names {
                match table_size(connection, name) {
                    Ok(Some(size)) => tables.push(size),
                    Ok(None) => {}
                    Err(error) => unmeasured.push(Unmeasured {
                        figure: Figure::Size,
                        table: Some(name.clone()),
                        reason: error.message,
                    }),
                }
            }
            let objects = if postgres { haste_sql::objects_locked(&statement.text) } else { Vec::new() };
            let holders = connection
                .lock_holders(&names, lock)
                .and_then(|mut holders| {
                    add_sessions(&mut holders, connection.object_lock_holders(&objects)?);
                    Ok(holders)
                })
                .unwrap_or_else(|error| {
                    unmeasured.push(Unmeasured {
                        figure: Figure::Blockers,
                        table: None,
                        reason: error.message,
                    });
                    Vec::new()
                });
            let (load, blockers) = holders.iter().cloned().partition(|holder| passing(holder, attempt));
            let waits_for = match waits_by_design(statement.kind) {
                Some(wait) => waited_for(connection, &names, wait, &holders).unwrap_or_else(|error| {
                    unmeasured.push(Unmeasured {
                        figure: Figure::WaitsFor,
                        table: None,
                        reason: error.message,
                    });
                    Vec::new()
                }),
                None => Vec::new(),
            };
            let position = plan.error_position(index, None);
            statements.push(StatementImpact {
                index,
                line: position.line,
                summary: shown[statement.start..statement.offset + statement.text.len()]
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                lock,
                work,
                tables,
                estimate_ms: None,
                blockers,
                load,
                waits_for,
                unmeasured,
                lint: Vec::new(),
                safe_now: true,
                why_not: None,
            });
        }
        // A file PostgreSQL's grammar refuses runs not at all: nothing of it is safe to run.
        if let Some(refused) = plan.unparseable()
            && let Some(statement) = statements.get_mut(refused.index)
        {
            statement.refuse(format!(
                "PostgreSQL's grammar refuses it ({}): nothing of the file would run",
                refused.error.message
            ));
        }
        let data = migration.data.as_ref().map(|step| {
            let table = step.relation();
            let size = table_size(connection, &table).ok().flatten();
            let rows_done = progress.as_ref().map_or(0, |(_, rows)| *rows);
            DataImpact {
                file: step.file.path.display().to_string(),
                key: step.key.clone(),
                batches: size
                    .as_ref()
                    .map(|size| size.rows.saturating_sub(rows_done).div_ceil(step.batch_size.max(1))),
                size,
                table,
                batch_size: step.batch_size,
                target_ms: u64::try_from(step.target.as_millis()).unwrap_or(u64::MAX),
                max_rate: step.max_rate,
                rows_done,
                lock_timeout_ms: u64::try_from(attempt.as_millis()).unwrap_or(u64::MAX),
            }
        });
        migrations.push(MigrationImpact { name: migration.name.clone(), mode: plan.mode, statements, data });
    }
    let largest = migrations
        .iter()
        .flat_map(|migration| &migration.statements)
        .filter(|statement| statement.work != Work::Catalog)
        .flat_map(|statement| &statement.tables)
        .max_by_key(|table| table.rows)
        .map(|table| table.name.clone());
    let scan = match largest {
        Some(table) => scan_rate(connection, &table),
        None => Ok(None),
    };
    let scan_rows_per_second = scan.as_ref().ok().copied().flatten();
    for statement in migrations.iter_mut().flat_map(|migration| &mut migration.statements) {
        if let Err(error) = &scan
            && !matches!(statement.work, Work::Catalog | Work::Unknown)
            && !statement.tables.is_empty()
        {
            statement.unmeasured.push(Unmeasured {
                figure: Figure::Estimate,
                table: None,
                reason: error.message.clone(),
            });
        }
        judge(statement, scan_rows_per_second);
    }
    for migration in migrations.iter_mut().filter(|migration| migration.mode == ExecutionMode::Transaction) {
        judge_transaction(&mut migration.statements);
    }
    Ok(ImpactReport { scan_rows_per_second, migrations, held })
}

/// The sessions a statement that waits by design would wait for now (`wait`): those holding a
/// lock on `tables` that conflicts with its mode, and those holding a snapshot where it waits
/// for them; not the `blockers` it waits for anyway.
fn waited_for(
    connection: &mut dyn Connection,
    tables: &[String],
    wait: DesignedWait,
    blockers: &[LockHolder],
) -> Result<Vec<LockHolder>, DbError> {
    let mut sessions = blockers.to_vec();
    add_sessions(&mut sessions, connection.lock_holders(tables, wait.mode)?);
    if wait.snapshots {
        add_sessions(&mut sessions, connection.snapshot_holders()?);
    }
    Ok(sessions.split_off(blockers.len()))
}

/// Whether a session holding a conflicting lock is passing load rather than a blocker: a
/// transaction younger than one `attempt` of the lock budget, which ordinarily ends within it,
/// whether it runs a statement now or waits for its client's next one (between the statements
/// of a transaction a client sends one by one, the session is idle in it for milliseconds).
/// One older than an attempt may hold past it (an idle one waits for a client that may never
/// come back); and without a lock timeout (zero) the application would queue behind the
/// statement for as long as any holder lasts.
fn passing(holder: &LockHolder, attempt: std::time::Duration) -> bool {
    matches!(
        holder.state.as_deref(),
        Some("active" | "idle in transaction" | "idle in transaction (aborted)")
    ) && holder.transaction_ms.is_some_and(|ms| u128::from(ms) < attempt.as_millis())
}

/// Fills in the estimate and whether the statement is safe to run now.
fn judge(statement: &mut StatementImpact, scan_rows_per_second: Option<u64>) {
    let largest = statement.tables.iter().max_by_key(|table| table.rows);
    let rows = largest.map_or(0, |table| table.rows);
    // A scan reads each row once; an index build also sorts; changing rows writes them and
    // their WAL; a rewrite writes the table and then builds each of its indexes anew.
    let factor = match statement.work {
        Work::Catalog | Work::Unknown => None,
        Work::Scan => Some(1.0),
        Work::Build => Some(INDEX_BUILD_FACTOR),
        Work::Rows => Some(3.0),
        Work::Rewrite => Some(4.0 + INDEX_BUILD_FACTOR * largest.map_or(0, |table| table.indexes) as f64),
    };
    statement.estimate_ms = factor
        .zip(scan_rows_per_second)
        .map(|(factor, rate)| (rows as f64 * factor * 1000.0 / rate.max(1) as f64) as u64);
    let reason = if let Some(missing) = statement.unmeasured.first() {
        Some(format!(
            "its {}{} could not be measured without waiting ({}): it cannot be judged",
            missing.figure.describe(),
            missing.table.as_deref().map(|table| format!(" of {table}")).unwrap_or_default(),
            missing.reason
        ))
    } else if let Some(holder) = statement.blockers.first() {
        Some(match &holder.prepared {
            Some(_) => format!(
                "{} holds a conflicting lock on its table: the statement would wait for it",
                holder.describe()
            ),
            None => format!(
                "pid {} ({}{}) holds a conflicting lock on its table since {}: the statement would wait for it",
                holder.pid,
                holder.application_name,
                holder.state.as_deref().map(|state| format!(", {state}")).unwrap_or_default(),
                holder.since
            ),
        })
    } else if statement.lock.lets_application_through() {
        None
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
    if let Some(reason) = reason {
        statement.refuse(reason);
    }
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
    if let Some(reason) = reason {
        statements[first].refuse(reason);
    }
}

/// The live size of `table` (quoted SQL text) with its partitions and inheritance children at
/// any depth (a partitioned table holds no rows itself); `None` when it does not exist (yet).
fn table_size(connection: &mut dyn Connection, table: &str) -> Result<Option<TableSize>, DbError> {
    // A table never analyzed has no row estimate (-1): guess from its size, 100 bytes a row,
    // rather than call it empty.
    let sql = format!(
        "WITH RECURSIVE tree(oid, depth) AS (SELECT to_regclass({}), 0 \
           UNION ALL SELECT i.inhrelid, tree.depth + 1 FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid), \
         sizes AS (SELECT c.relkind, pg_total_relation_size(c.oid) AS bytes, c.reltuples, tree.depth \
           FROM tree JOIN pg_class c ON c.oid = tree.oid) \
         SELECT sum(bytes), sum(CASE WHEN reltuples >= 0 THEN CAST(reltuples AS bigint) \
                WHEN relkind = 'p' THEN 0 ELSE bytes / 100 END), count(*) FILTER (WHERE depth > 0), \
                (SELECT count(*) FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM tree)) \
         FROM sizes HAVING count(*) > 0",
        quote_literal(table)
    );
    let Some(row) = connection.query_row(&sql)? else { return Ok(None) };
    let number = |i: usize| {
        row.get(i).cloned().flatten().and_then(|value| value.parse::<i64>().ok()).unwrap_or(0).max(0) as u64
    };
    Ok(Some(TableSize {
        name: table.to_owned(),
        bytes: number(0),
        rows: number(1),
        partitions: number(2),
        indexes: number(3),
    }))
}

/// Rows per second a sequential scan of `table` reads now, from reading up to
/// [`SAMPLE_ROWS`] of its rows; `None` when it has none.
fn scan_rate(connection: &mut dyn Connection, table: &str) -> Result<Option<u64>, DbError> {
    let sql = format!("SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {SAMPLE_ROWS}) sample");
    let started = Instant::now();
    let rows = connection.query_row(&sql)?.and_then(|row| row.into_iter().next().flatten());
    let rows: u64 = rows.and_then(|rows| rows.parse().ok()).unwrap_or(0);
    let seconds = started.elapsed().as_secs_f64().max(0.000_1);
    Ok((rows > 0).then(|| (rows as f64 / seconds) as u64))
}
