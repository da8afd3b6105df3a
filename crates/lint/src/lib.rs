//! `haste lint`: finds the statements in PostgreSQL migrations that lock, rewrite, lose data or
//! break running code, knowing what the linter's peers must guess.
//!
//! # Brief overview
//! - [`lint`] takes the migrations in order (the history first, then the files to check) and
//!   returns [`Finding`]s. Each file is checked against the schema the earlier ones built: a
//!   table created in the same file, or in an earlier file marked unreleased, is new and empty,
//!   so building an index on it without `CONCURRENTLY` is fine.
//! - Every statement is checked in the transaction the runner will really use
//!   ([`haste_sql::transaction_of_each`]), so `CREATE INDEX CONCURRENTLY` in a plain file is
//!   not "inside a transaction", and `VALIDATE` is only flagged when it shares one with its
//!   `NOT VALID`.
//! - [`rules::RULES`] is the registry: one rule per file in `rules/`, each documented with what
//!   it detects, the lock it takes, the safe alternative and the PostgreSQL versions concerned.
//! - A migration's `down.sql` ([`SourceFile::reverts`]) is checked with the same rules against
//!   the schema its migration left; dropping what that migration created is what undoing it
//!   means, and is not reported.
//! - `-- haste:allow <rule> reason="..."` suppresses a rule for the next statement,
//!   `-- haste:allow-file <rule> reason="..."` for the file; a suppression that suppresses
//!   nothing is itself a finding (`unused-suppression`).
//!
//! No I/O: files come in as text, findings go out as data; the command line renders them.

mod analysis;
mod finding;
pub mod rules;
mod suppress;

pub use analysis::Schema;
pub use finding::{Finding, Group, Severity};

use std::collections::HashMap;

use haste_sql::{
    Dialect, LineIndex, ParsedScript, Script, TransactionMode, parse_with_trees, transaction_of_each,
};
use pg_query::NodeEnum;

/// One migration file, as the linter sees it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path shown in findings.
    pub path: String,
    /// The SQL text.
    pub sql: String,
    /// Forced transaction mode from the file's directives.
    pub transaction: Option<TransactionMode>,
    /// Whether to report findings for this file (history files are only replayed).
    pub check: bool,
    /// Whether its changes are not released yet: tables it creates are still empty when later
    /// files run (a pending migration of the same deploy).
    pub unreleased: bool,
    /// A `down.sql`, given right after the file of its migration: it is checked against the
    /// schema that migration left, may drop what that migration created (undoing it loses
    /// nothing anyone else had), and what it changes is not kept for the files after it.
    pub reverts: bool,
}

/// How the linter is configured.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database the migrations are written for (`provider` in `migration_lock.toml`).
    /// SQLite files are cut by SQLite's rules and checked only by the rules that hold for any
    /// database ([`rules::Rule::any_database`]).
    pub dialect: Dialect,
    /// PostgreSQL major version of the target.
    pub pg_version: u32,
    /// Whether the runner sets a `lock_timeout` on every statement (haste's does, unless it
    /// is configured to 0).
    pub runner_lock_timeout: bool,
    /// Whether the runner sets a `statement_timeout` (haste's does when configured).
    pub runner_statement_timeout: bool,
    /// Severity per rule id, over the rule's default (style rules default to off).
    pub severities: HashMap<String, Severity>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            dialect: Dialect::Postgres,
            pg_version: 15,
            runner_lock_timeout: true,
            runner_statement_timeout: false,
            severities: HashMap::new(),
        }
    }
}

/// Lints `files` in order and returns the findings of the files marked `check`, in file and
/// position order.
pub fn lint(files: &[SourceFile], config: &Config) -> Vec<Finding> {
    let mut schema = Schema::default();
    let mut findings = Vec::new();
    for file in files {
        if file.reverts {
            let mut reverted = schema.clone();
            reverted.begin_revert();
            lint_file(file, &mut reverted, config, &mut findings);
        } else {
            schema.begin_file(file.unreleased);
            lint_file(file, &mut schema, config, &mut findings);
        }
    }
    findings
}

/// Lints one file after the schema the files before it built, and replays it into `schema`.
fn lint_file(file: &SourceFile, schema: &mut Schema, config: &Config, findings: &mut Vec<Finding>) {
    let ParsedScript { script, trees } = parse(config.dialect, &file.sql);
    let transactions = transaction_of_each(&script.statements, file.transaction);
    let mut raw = Vec::new();
    for (index, (statement, tree)) in script.statements.iter().zip(&trees).enumerate() {
        let context = rules::Context {
            config,
            schema,
            statement,
            index,
            statements: &script.statements,
            transaction: transactions[index],
            trees: &trees,
            source: &file.sql,
        };
        match tree {
            // PostgreSQL's grammar judges PostgreSQL files only.
            Err(_) if config.dialect == Dialect::Sqlite => {}
            Err(error) => raw.push(rules::Raw::new(
                &context,
                "syntax-error",
                error.clone(),
                "fix the statement: PostgreSQL will refuse it",
            )),
            Ok(node) => {
                if file.check {
                    let rules = rules::RULES
                        .iter()
                        .filter(|rule| config.dialect == Dialect::Postgres || rule.any_database());
                    for rule in rules {
                        rule.check(&context, node, &mut raw);
                    }
                }
                schema.apply(node, transactions[index]);
            }
        }
    }
    if file.check {
        let suppressions = suppress::Suppressions::parse(&file.sql, &script.statements);
        let index = LineIndex::new(&file.sql);
        findings.extend(suppressions.apply(raw, &file.path, &index, config));
    }
}

/// A file cut into statements by the rules of its dialect, each with PostgreSQL's syntax tree.
/// A SQLite statement has one when PostgreSQL's grammar reads it as one statement (`DROP TABLE`,
/// `ALTER TABLE ... RENAME`); the others (trigger bodies, `AUTOINCREMENT`, `PRAGMA`) have none.
fn parse(dialect: Dialect, sql: &str) -> ParsedScript {
    if dialect == Dialect::Postgres {
        return parse_with_trees(sql);
    }
    let script = Script::parse(Dialect::Sqlite, sql);
    let trees = script
        .statements
        .iter()
        .map(|statement| {
            let ParsedScript { script, mut trees } = parse_with_trees(&statement.text);
            match (script.parse_error, trees.len()) {
                (None, 1) => trees.remove(0),
                _ => Err::<NodeEnum, String>("not PostgreSQL syntax".to_owned()),
            }
        })
        .collect();
    ParsedScript { script, trees }
}
