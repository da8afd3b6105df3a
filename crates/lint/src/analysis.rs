//! What the linter knows of the schema before each statement: tables the history created (and
//! whether they are still new), which are partitioned and which are whose partitions, their
//! columns' types and collations, validated `IS NOT NULL` checks, the named indexes and their
//! tables, the columns each index or index-backed constraint reads,
//! constraints added `NOT VALID` and enum values added, with the transaction that did it.

use std::collections::{HashMap, HashSet};

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ConstrType, NullTestType, ObjectType, RangeVar};

use crate::rules::ast;

/// The schema as replayed from the migrations so far.
#[derive(Debug, Default, Clone)]
pub struct Schema {
    tables: HashMap<String, Table>,
    /// `schema.index` → `schema.table` of every index created with a name.
    indexes: HashMap<String, String>,
    file_unreleased: bool,
    /// `(transaction, constraint name)` added `NOT VALID` in the current file.
    not_valid: HashSet<(usize, String)>,
    /// `(transaction, value)` added to an enum in the current file.
    enum_values: Vec<(usize, String)>,
    /// How many indexes and index-backed constraints without a name were replayed: each gets
    /// a name of its own in [`Table::indexed`].
    unnamed: usize,
    /// What the current file created: its tables (`schema.table`) and the columns it added to
    /// tables (`schema.table.column`). A `down.sql` read after it ([`Schema::begin_revert`])
    /// drops them to undo the migration, not to lose anyone's data.
    created: HashSet<String>,
    /// The file read now is a `down.sql`: it undoes the migration of [`Schema::created`].
    reverting: bool,
}

#[derive(Debug, Default, Clone)]
struct Table {
    /// Created in the file being replayed, or in an unreleased one: still empty.
    new: bool,
    /// Created `PARTITION BY`: it holds no rows of its own, its partitions do.
    partitioned: bool,
    /// The partitioned table it is a partition of (`schema.table`).
    partition_of: Option<String>,
    columns: HashMap<String, String>,
    /// Check constraint name → (the column it proves NOT NULL, validated).
    not_null_checks: HashMap<String, (String, bool)>,
    /// Column → the collation it was given (`COLLATE`), when it has one of its own.
    collations: HashMap<String, String>,
    /// Index or index-backed constraint (primary key, unique, exclusion) → the columns it
    /// reads; an unnamed one under a name starting with `#`.
    indexed: HashMap<String, Vec<String>>,
}

/// Whether a constraint builds an index (primary key, unique, exclusion).
fn builds_index(constraint: &pg_query::protobuf::Constraint) -> bool {
    [ConstrType::ConstrPrimary, ConstrType::ConstrUnique, ConstrType::ConstrExclusion]
        .iter()
        .any(|kind| constraint.contype == *kind as i32)
}

impl Table {
    /// Remembers a column's definition: its type and its collation.
    fn define_column(&mut self, name: &str, column: &pg_query::protobuf::ColumnDef) {
        self.columns.insert(name.to_owned(), ast::type_text(column.type_name.as_ref()));
        match ast::collation(column) {
            Some(collation) => self.collations.insert(name.to_owned(), collation),
            None => self.collations.remove(name),
        };
    }
}

/// `schema.table` of a relation, `public` when unqualified.
pub(crate) fn table_key(relation: &RangeVar) -> String {
    let schema = if relation.schemaname.is_empty() { "public" } else { &relation.schemaname };
    format!("{schema}.{}", relation.relname)
}

/// `schema.name` of a name as a `DROP` lists it, `public` when unqualified.
fn qualified_key(name: String) -> String {
    if name.contains('.') { name } else { format!("public.{name}") }
}

/// `schema.name` of `name` in the schema of `schema_key` (a `schema.table`): an index lives in
/// its table's schema.
fn sibling_key(schema_key: &str, name: &str) -> String {
    let schema = schema_key.split_once('.').map_or("public", |(schema, _)| schema);
    format!("{schema}.{name}")
}

impl Schema {
    pub(crate) fn begin_file(&mut self, unreleased: bool) {
        // Tables of a released file have rows by the time a later file runs.
        if !self.file_unreleased {
            for table in self.tables.values_mut() {
                table.new = false;
            }
        }
        self.file_unreleased = unreleased;
        self.not_valid.clear();
        self.enum_values.clear();
        self.created.clear();
    }

    /// Starts reading the `down.sql` of the file just read, on a copy of the schema that file
    /// left (what a `down.sql` changes is not kept for the files after it: it only runs when
    /// someone undoes its migration). By then the migration was deployed and its tables hold
    /// rows, so none is new; what it created stays known, for [`Schema::reverts_creation`].
    pub(crate) fn begin_revert(&mut self) {
        for table in self.tables.values_mut() {
            table.new = false;
        }
        self.file_unreleased = false;
        self.not_valid.clear();
        self.enum_values.clear();
        self.reverting = true;
    }

    /// Whether the file read is a `down.sql` and `relation` (or its `column`, when named) is
    /// one its migration created: dropping it is what undoing that migration means.
    pub fn reverts_creation(&self, relation: &RangeVar, column: Option<&str>) -> bool {
        let key = match column {
            Some(column) => format!("{}.{column}", table_key(relation)),
            None => table_key(relation),
        };
        self.reverting && self.created.contains(&key)
    }

    /// Whether `relation` was created by this file (or an unreleased earlier one), so it is
    /// still empty and nobody else uses it.
    pub fn is_new_table(&self, relation: &RangeVar) -> bool {
        self.tables.get(&table_key(relation)).is_some_and(|table| table.new)
    }

    /// Whether `relation` was created `PARTITION BY` (its indexes are partitioned indexes).
    pub fn is_partitioned(&self, relation: &RangeVar) -> bool {
        self.tables.get(&table_key(relation)).is_some_and(|table| table.partitioned)
    }

    /// The partitions of `relation` the history created or attached (`schema.table`), sorted.
    pub fn partitions_of(&self, relation: &RangeVar) -> Vec<&str> {
        let key = table_key(relation);
        let mut partitions: Vec<&str> = self
            .tables
            .iter()
            .filter(|(_, table)| table.partition_of.as_deref() == Some(key.as_str()))
            .map(|(name, _)| name.as_str())
            .collect();
        partitions.sort_unstable();
        partitions
    }

    /// Whether the index `name` (`schema.index` or `index`, as `DROP INDEX` names it) is on a
    /// partitioned table.
    pub fn is_partitioned_index(&self, name: &str) -> bool {
        self.indexes
            .get(&qualified_key(name.to_owned()))
            .and_then(|table| self.tables.get(table))
            .is_some_and(|table| table.partitioned)
    }

    /// The type of a column as written where it was created or last changed.
    pub fn column_type(&self, relation: &RangeVar, column: &str) -> Option<&str> {
        self.tables.get(&table_key(relation))?.columns.get(column).map(String::as_str)
    }

    /// The collation a column was given of its own, if any.
    pub fn column_collation(&self, relation: &RangeVar, column: &str) -> Option<&str> {
        self.tables.get(&table_key(relation))?.collations.get(column).map(String::as_str)
    }

    /// Whether an index or an index-backed constraint reads the column.
    pub fn is_indexed(&self, relation: &RangeVar, column: &str) -> bool {
        self.tables
            .get(&table_key(relation))
            .is_some_and(|table| table.indexed.values().any(|columns| columns.iter().any(|c| c == column)))
    }

    /// The name an index or constraint is remembered under: its own, or a new `#n`.
    fn index_name(&mut self, name: &str) -> String {
        if name.is_empty() {
            self.unnamed += 1;
            format!("#{}", self.unnamed)
        } else {
            name.to_owned()
        }
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` exists on the column.
    pub fn has_validated_not_null_check(&self, relation: &RangeVar, column: &str) -> bool {
        self.tables
            .get(&table_key(relation))
            .is_some_and(|table| table.not_null_checks.values().any(|(c, valid)| c == column && *valid))
    }

    /// Whether constraint `name` was added `NOT VALID` in transaction `transaction` of this file.
    pub fn added_not_valid_in(&self, transaction: usize, name: &str) -> bool {
        self.not_valid.contains(&(transaction, name.to_owned()))
    }

    /// Enum values added in transaction `transaction` of this file.
    pub fn enum_values_added_in(&self, transaction: usize) -> impl Iterator<Item = &str> {
        self.enum_values.iter().filter(move |(t, _)| *t == transaction).map(|(_, value)| value.as_str())
    }

    /// Replays one statement.
    pub(crate) fn apply(&mut self, node: &NodeEnum, transaction: Option<usize>) {
        match node {
            NodeEnum::CreateStmt(create) => {
                let Some(relation) = &create.relation else { return };
                // `IF NOT EXISTS` over a table already there does nothing: it stays as it was,
                // rows and all, never new again.
                if create.if_not_exists && self.tables.contains_key(&table_key(relation)) {
                    return;
                }
                let partition_of = create.inh_relations.iter().find_map(|node| match &node.node {
                    Some(NodeEnum::RangeVar(parent)) if create.partbound.is_some() => Some(table_key(parent)),
                    _ => None,
                });
                let mut table = Table {
                    new: true,
                    partitioned: create.partspec.is_some(),
                    partition_of,
                    ..Table::default()
                };
                for element in &create.table_elts {
                    match &element.node {
                        Some(NodeEnum::ColumnDef(column)) => {
                            table.define_column(&column.colname, column);
                            for constraint in ast::constraints(&column.constraints) {
                                if let Some(name) = not_null_check_column(constraint) {
                                    table.not_null_checks.insert(constraint.conname.clone(), (name, true));
                                }
                                if builds_index(constraint) {
                                    let name = self.index_name(&constraint.conname);
                                    table.indexed.insert(name, vec![column.colname.clone()]);
                                }
                            }
                        }
                        Some(NodeEnum::Constraint(constraint)) => {
                            if let Some(column) = not_null_check_column(constraint) {
                                table.not_null_checks.insert(constraint.conname.clone(), (column, true));
                            }
                            if builds_index(constraint) {
                                let name = self.index_name(&constraint.conname);
                                table.indexed.insert(
                                    name,
                                    ast::index_columns(element.node.as_ref().expect("matched")),
                                );
                            }
                        }
                        _ => {}
                    }
                }
                if !self.reverting {
                    self.created.insert(table_key(relation));
                }
                self.tables.insert(table_key(relation), table);
            }
            // A materialized view (or a table made from a query) is new like a table: nobody
            // else reads it before this transaction ends, so an index built on it waits for none.
            NodeEnum::CreateTableAsStmt(create) => {
                if let Some(relation) = create.into.as_ref().and_then(|into| into.rel.as_ref()) {
                    self.tables.insert(table_key(relation), Table { new: true, ..Table::default() });
                }
            }
            NodeEnum::AlterTableStmt(alter) if alter.objtype == ObjectType::ObjectTable as i32 => {
                let Some(relation) = &alter.relation else { return };
                let key = table_key(relation);
                for command in ast::alter_commands(alter) {
                    let definition = command.def.as_deref().and_then(|def| def.node.as_ref());
                    let index_backed = match definition {
                        Some(NodeEnum::Constraint(constraint)) if builds_index(constraint) => {
                            Some(constraint.conname.clone())
                        }
                        Some(NodeEnum::ColumnDef(column)) => ast::constraints(&column.constraints)
                            .find(|constraint| builds_index(constraint))
                            .map(|constraint| constraint.conname.clone()),
                        _ => None,
                    };
                    let index = index_backed.map(|name| self.index_name(&name));
                    let table = self.tables.entry(key.clone()).or_default();
                    let subtype =
                        AlterTableType::try_from(command.subtype).unwrap_or(AlterTableType::Undefined);
                    match (subtype, definition) {
                        (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column))) => {
                            if !self.reverting {
                                self.created.insert(format!("{key}.{}", column.colname));
                            }
                            table.define_column(&column.colname, column);
                            if let Some(name) = index {
                                table.indexed.insert(name, vec![column.colname.clone()]);
                            }
                        }
                        (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(column))) => {
                            table.define_column(&command.name, column);
                        }
                        (AlterTableType::AtDropColumn, _) => {
                            table.columns.remove(&command.name);
                            table.collations.remove(&command.name);
                            // PostgreSQL drops the column's own checks and its indexes with it.
                            table.not_null_checks.retain(|_, (column, _)| *column != command.name);
                            table.indexed.retain(|_, columns| !columns.contains(&command.name));
                        }
                        (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(constraint))) => {
                            if let Some(name) = index {
                                table.indexed.insert(name, ast::index_columns(definition.expect("matched")));
                            }
                            if constraint.skip_validation
                                && let Some(transaction) = transaction
                            {
                                self.not_valid.insert((transaction, constraint.conname.clone()));
                            }
                            if let Some(column) = not_null_check_column(constraint) {
                                table.not_null_checks.insert(
                                    constraint.conname.clone(),
                                    (column, !constraint.skip_validation),
                                );
                            }
                        }
                        (AlterTableType::AtValidateConstraint, _) => {
                            if let Some(check) = table.not_null_checks.get_mut(&command.name) {
                                check.1 = true;
                            }
                        }
                        (AlterTableType::AtDropConstraint, _) => {
                            table.not_null_checks.remove(&command.name);
                            table.indexed.remove(&command.name);
                        }
                        (AlterTableType::AtAttachPartition, Some(NodeEnum::PartitionCmd(partition))) => {
                            let Some(child) = &partition.name else { continue };
                            let child = self.tables.entry(table_key(child)).or_default();
                            child.partition_of = Some(key.clone());
                            // An attached table brings its rows: the parent is not empty any more.
                            if !child.new {
                                self.tables.entry(key.clone()).or_default().new = false;
                            }
                        }
                        (AlterTableType::AtDetachPartition, Some(NodeEnum::PartitionCmd(partition))) => {
                            if let Some(child) = &partition.name
                                && let Some(child) = self.tables.get_mut(&table_key(child))
                            {
                                child.partition_of = None;
                            }
                        }
                        _ => {}
                    }
                }
            }
            // A domain's constraint added `NOT VALID` (`ALTER DOMAIN ... ADD`), like a table's.
            NodeEnum::AlterDomainStmt(alter) if alter.subtype == "C" => {
                if let (Some(NodeEnum::Constraint(constraint)), Some(transaction)) =
                    (alter.def.as_deref().and_then(|def| def.node.as_ref()), transaction)
                    && constraint.skip_validation
                {
                    self.not_valid.insert((transaction, constraint.conname.clone()));
                }
            }
            NodeEnum::IndexStmt(index) => {
                if let Some(relation) = &index.relation {
                    let table = table_key(relation);
                    if !index.idxname.is_empty() {
                        self.indexes.insert(sibling_key(&table, &index.idxname), table.clone());
                    }
                    let name = self.index_name(&index.idxname);
                    self.tables.entry(table).or_default().indexed.insert(name, ast::index_columns(node));
                }
            }
            NodeEnum::DropStmt(drop) if drop.remove_type == ObjectType::ObjectIndex as i32 => {
                for name in ast::dropped_names(drop) {
                    let key = qualified_key(name);
                    if let Some(table) = self.indexes.remove(&key)
                        && let Some(table) = self.tables.get_mut(&table)
                    {
                        let index = key.rsplit_once('.').map_or(key.as_str(), |(_, index)| index);
                        table.indexed.remove(index);
                    }
                }
            }
            NodeEnum::DropStmt(drop) if drop.remove_type == ObjectType::ObjectTable as i32 => {
                for name in ast::dropped_names(drop) {
                    self.drop_table(&qualified_key(name));
                }
            }
            NodeEnum::RenameStmt(rename) if rename.rename_type == ObjectType::ObjectTable as i32 => {
                if let Some(relation) = &rename.relation
                    && let Some(table) = self.tables.remove(&table_key(relation))
                {
                    let old = table_key(relation);
                    let new = sibling_key(&old, &rename.newname);
                    // Partitions and indexes name their table by key: they follow the rename.
                    for other in self.tables.values_mut() {
                        if other.partition_of.as_deref() == Some(old.as_str()) {
                            other.partition_of = Some(new.clone());
                        }
                    }
                    for table in self.indexes.values_mut().filter(|table| **table == old) {
                        table.clone_from(&new);
                    }
                    self.tables.insert(new, table);
                }
            }
            NodeEnum::RenameStmt(rename) if rename.rename_type == ObjectType::ObjectIndex as i32 => {
                if let Some(relation) = &rename.relation
                    && let Some(table) = self.indexes.remove(&table_key(relation))
                {
                    if let Some(columns) =
                        self.tables.get_mut(&table).and_then(|t| t.indexed.remove(&relation.relname))
                    {
                        self.tables
                            .entry(table.clone())
                            .or_default()
                            .indexed
                            .insert(rename.newname.clone(), columns);
                    }
                    self.indexes.insert(sibling_key(&table_key(relation), &rename.newname), table);
                }
            }
            NodeEnum::RenameStmt(rename) if rename.rename_type == ObjectType::ObjectColumn as i32 => {
                if let Some(relation) = &rename.relation
                    && let Some(table) = self.tables.get_mut(&table_key(relation))
                    && let Some(column_type) = table.columns.remove(&rename.subname)
                {
                    table.columns.insert(rename.newname.clone(), column_type);
                    if let Some(collation) = table.collations.remove(&rename.subname) {
                        table.collations.insert(rename.newname.clone(), collation);
                    }
                    for column in table.indexed.values_mut().flatten().filter(|c| **c == rename.subname) {
                        column.clone_from(&rename.newname);
                    }
                    // A check follows its column through a rename.
                    for (column, _) in table.not_null_checks.values_mut() {
                        if *column == rename.subname {
                            column.clone_from(&rename.newname);
                        }
                    }
                }
            }
            NodeEnum::AlterEnumStmt(alter) if alter.old_val.is_empty() && !alter.new_val.is_empty() => {
                if let Some(transaction) = transaction {
                    self.enum_values.push((transaction, alter.new_val.clone()));
                }
            }
            _ => {}
        }
    }
}

impl Schema {
    /// Forgets a dropped table, its indexes and its partitions, which PostgreSQL drops with it.
    fn drop_table(&mut self, key: &str) {
        self.tables.remove(key);
        self.indexes.retain(|_, table| table != key);
        let partitions: Vec<String> = self
            .tables
            .iter()
            .filter(|(_, table)| table.partition_of.as_deref() == Some(key))
            .map(|(name, _)| name.clone())
            .collect();
        for partition in partitions {
            self.drop_table(&partition);
        }
    }
}

/// The column a `CHECK (column IS NOT NULL)` constraint proves not null.
fn not_null_check_column(constraint: &pg_query::protobuf::Constraint) -> Option<String> {
    if constraint.contype != ConstrType::ConstrCheck as i32 {
        return None;
    }
    match constraint.raw_expr.as_deref()?.node.as_ref()? {
        NodeEnum::NullTest(test) if test.nulltesttype == NullTestType::IsNotNull as i32 => {
            match test.arg.as_deref()?.node.as_ref()? {
                NodeEnum::ColumnRef(column) => ast::column_ref_name(column),
                _ => None,
            }
        }
        _ => None,
    }
}
