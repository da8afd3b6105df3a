//! The rules: one per file, registered once in [`RULES`].

pub(crate) mod ast;

mod add_auto_increment_column;
mod add_column_volatile_default;
mod add_required_column;
mod add_stored_generated_column;
mod ban_char_field;
mod check_constraint_not_valid;
mod collation_change_reindex;
mod column_type_rewrite;
mod detach_partition_not_concurrent;
mod domain_add_constraint;
mod drop_column;
mod drop_database;
mod drop_not_null;
mod drop_table;
mod enum_add_value_tx;
mod exclude_constraint_blocking;
mod fk_not_valid;
mod index_create_not_concurrent;
mod index_drop_not_concurrent;
mod json_not_jsonb;
mod non_transactional_in_tx;
mod partitioned_index_drop;
mod prefer_bigint_over_int;
mod prefer_identity;
mod prefer_robust_stmts;
mod prefer_text_field;
mod prefer_timestamptz;
mod primary_key_blocking;
mod refresh_matview_blocking;
mod reindex_not_concurrent;
mod rename_column;
mod rename_table;
mod require_lock_timeout;
mod require_statement_timeout;
mod set_not_null_blocking;
mod set_timeout_in_migration;
mod truncate_cascade;
mod truncate_table;
mod uncommitted_transaction;
mod unique_constraint_blocking;
mod vacuum_full_cluster;
mod validate_in_same_tx;

use haste_sql::Statement;
use pg_query::NodeEnum;
use pg_query::protobuf::{ConstrType, ObjectType};

use crate::{Config, Group, Schema, Severity};

/// A rule.
pub trait Rule: Sync {
    /// Stable kebab-case id.
    fn id(&self) -> &'static str;
    /// Its group: safety rules are on by default, style rules off.
    fn group(&self) -> Group {
        Group::Safety
    }
    /// Severity unless configured otherwise.
    fn default_severity(&self) -> Severity {
        match self.group() {
            Group::Safety => Severity::Error,
            Group::Style => Severity::Off,
        }
    }
    /// One line: what the rule detects.
    fn summary(&self) -> &'static str;
    /// Whether the rule holds for any database (it is about the release running beside the
    /// migration, or the file itself), not only PostgreSQL's locks and forms: SQLite files are
    /// checked by these alone.
    fn any_database(&self) -> bool {
        false
    }
    /// Adds a finding for each problem in `node`, the statement of `context`.
    fn check(&self, context: &Context<'_>, node: &NodeEnum, findings: &mut Vec<Raw>);
}

/// Every rule, in the order their findings are reported for one statement.
pub static RULES: &[&dyn Rule] = &[
    &index_create_not_concurrent::IndexCreateNotConcurrent,
    &index_drop_not_concurrent::IndexDropNotConcurrent,
    &partitioned_index_drop::PartitionedIndexDrop,
    &non_transactional_in_tx::NonTransactionalInTx,
    &reindex_not_concurrent::ReindexNotConcurrent,
    &check_constraint_not_valid::CheckConstraintNotValid,
    &fk_not_valid::FkNotValid,
    &validate_in_same_tx::ValidateInSameTx,
    &unique_constraint_blocking::UniqueConstraintBlocking,
    &primary_key_blocking::PrimaryKeyBlocking,
    &exclude_constraint_blocking::ExcludeConstraintBlocking,
    &set_not_null_blocking::SetNotNullBlocking,
    &add_column_volatile_default::AddColumnVolatileDefault,
    &add_required_column::AddRequiredColumn,
    &add_auto_increment_column::AddAutoIncrementColumn,
    &add_stored_generated_column::AddStoredGeneratedColumn,
    &domain_add_constraint::DomainAddConstraint,
    &drop_not_null::DropNotNull,
    &prefer_robust_stmts::PreferRobustStmts,
    &column_type_rewrite::ColumnTypeRewrite,
    &collation_change_reindex::CollationChangeReindex,
    &drop_column::DropColumn,
    &drop_table::DropTable,
    &drop_database::DropDatabase,
    &rename_column::RenameColumn,
    &rename_table::RenameTable,
    &truncate_table::TruncateTable,
    &truncate_cascade::TruncateCascade,
    &enum_add_value_tx::EnumAddValueTx,
    &vacuum_full_cluster::VacuumFullCluster,
    &refresh_matview_blocking::RefreshMatviewBlocking,
    &detach_partition_not_concurrent::DetachPartitionNotConcurrent,
    &uncommitted_transaction::UncommittedTransaction,
    &require_lock_timeout::RequireLockTimeout,
    &require_statement_timeout::RequireStatementTimeout,
    &set_timeout_in_migration::SetTimeoutInMigration,
    &json_not_jsonb::JsonNotJsonb,
    &prefer_text_field::PreferTextField,
    &ban_char_field::BanCharField,
    &prefer_bigint_over_int::PreferBigintOverInt,
    &prefer_timestamptz::PreferTimestamptz,
    &prefer_identity::PreferIdentity,
];

/// Ids of the findings the linter itself reports, outside the rule registry.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("syntax-error", "a statement PostgreSQL does not accept"),
    ("unused-suppression", "a -- haste:allow that suppresses nothing"),
    ("suppression-without-reason", "a -- haste:allow without reason=\"...\""),
];

/// What a rule may look at.
pub struct Context<'a> {
    /// Configuration.
    pub config: &'a Config,
    /// The schema before this statement.
    pub schema: &'a Schema,
    /// The statement.
    pub statement: &'a Statement,
    /// Its index in the file.
    pub index: usize,
    /// Every statement of the file.
    pub statements: &'a [Statement],
    /// The transaction the runner runs it in (`None`: outside any).
    pub transaction: Option<usize>,
    /// The syntax tree of every statement of the file.
    pub trees: &'a [Result<NodeEnum, String>],
    /// The file's text.
    pub source: &'a str,
}

impl Context<'_> {
    /// Whether `relation` existed before this file with rows in it (not created by this file
    /// or an unreleased one).
    pub fn is_existing_table(&self, relation: &pg_query::protobuf::RangeVar) -> bool {
        !self.schema.is_new_table(relation)
    }

    /// Whether the file sets `setting` (`SET lock_timeout ...`) before this statement, or
    /// names `directive` (`haste:lock-timeout`) in its header.
    pub fn sets_setting(&self, setting: &str, directive: &str) -> bool {
        let header = &self.source[..self.statements.first().map_or(self.source.len(), |s| s.start)];
        header.contains(directive)
            || self.statements[..self.index].iter().any(|s| s.text.to_ascii_lowercase().contains(setting))
    }

    /// The table `node` takes a strong lock on (ALTER TABLE, or an index built without
    /// CONCURRENTLY), if any.
    pub fn strongly_locked_table<'n>(&self, node: &'n NodeEnum) -> Option<&'n pg_query::protobuf::RangeVar> {
        match node {
            NodeEnum::AlterTableStmt(alter) => alter.relation.as_ref(),
            NodeEnum::IndexStmt(index) if !index.concurrent => index.relation.as_ref(),
            _ => None,
        }
    }

    /// The constraints of `kind` that `node` adds to existing tables, with the table's name.
    pub fn constraints_added_to_existing<'n>(
        &self,
        node: &'n NodeEnum,
        kind: ConstrType,
    ) -> Vec<(String, &'n pg_query::protobuf::Constraint)> {
        ast::added_constraints(node)
            .into_iter()
            .filter(|(relation, constraint)| {
                constraint.contype == kind as i32 && self.is_existing_table(relation)
            })
            .map(|(relation, constraint)| (ast::relation_text(relation), constraint))
            .collect()
    }

    /// The rename `node` makes of an existing table's `object` (the table itself or a column),
    /// with the table's name.
    pub fn rename_of_existing<'n>(
        &self,
        node: &'n NodeEnum,
        object: ObjectType,
    ) -> Option<(String, &'n pg_query::protobuf::RenameStmt)> {
        match node {
            NodeEnum::RenameStmt(rename) if rename.rename_type == object as i32 => {
                let relation =
                    rename.relation.as_ref().filter(|relation| self.is_existing_table(relation))?;
                Some((ast::relation_text(relation), rename.as_ref()))
            }
            _ => None,
        }
    }
}

/// A finding before configuration and suppressions: a byte range of the file.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Rule id.
    pub rule: &'static str,
    /// Byte range in the file.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Index of the statement it is about.
    pub statement: usize,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub help: String,
}

impl Raw {
    /// A finding that covers the whole statement of `context`.
    pub fn new(
        context: &Context<'_>,
        rule: &'static str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Raw {
        let statement = context.statement;
        let end = statement.offset + statement.text.trim_end().len();
        Raw {
            rule,
            start: statement.start,
            end: end.max(statement.start),
            statement: context.index,
            message: message.into(),
            help: help.into(),
        }
    }
}
