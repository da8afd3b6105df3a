//! DDL for the model: each object's own statements, and [`Schema::to_ddl`], which recreates a
//! whole schema on an empty database in dependency order: types and sequences before the
//! tables that use them, functions before the defaults and checks that call them, keys before
//! the foreign keys that reference them (but composite types and functions over the row types of
//! tables or views after those), indexes before the attachments of partitions' indexes to their
//! parents' (pg_dump's form, which keeps every name), tables before views, views in creation
//! order, triggers, rules and policies, comments once every object they are on exists, then
//! privileges, owners (when read) and default privileges last.

use haste_sql::{quote_ident, quote_literal};

use crate::{
    Attribute, Collation, Column, ColumnSetting, ColumnSettings, Comment, CommentObject, Composite,
    Compression, Constraint, ConstraintKind, DefaultObjects, DefaultPrivilege, Domain, DomainConstraint,
    Enum, Extension, Function, Identity, Index, Namespace, OwnedObject, Owner, Policy, Privilege,
    PrivilegeObject, Range, ReplicaIdentity, RowTypeStage, Rule, Schema, Sequence, Statistics,
    StorageParameter, Table, TableKind, Trigger, View, ViewColumnDefault,
};

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    let mut qualified = quote_ident(schema);
    qualified.push('.');
    qualified.push_str(&quote_ident(name));
    qualified
}

/// The session the statements of a dump or a plan are written for, as their first statements
/// (pg_dump writes most of them too): names in `public` are written without their schema (the
/// model is read with that search path), so a session whose path puts another schema first
/// (a role's own, `"$user"`) would find other objects; string constants are written for
/// `standard_conforming_strings` on (off, `'\x41'` is another value); XML constants may be
/// fragments (`xmloption = document` refuses them); a function's body names what the sessions
/// calling it find, so it is not checked against this one when created, and SQL-language
/// functions may read tables created after them.
pub const WRITTEN_FOR: [&str; 4] = [
    "SET search_path = public",
    "SET standard_conforming_strings = on",
    "SET xmloption = content",
    "SET check_function_bodies = false",
];

/// Whether a type as `format_type` prints it (`"Stage"`, `crm.stage`, `stage[]`) is type
/// `schema`.`name` (an enum, domain or composite type); returns whether it is an array of it.
/// Compared by names ([`haste_sql::name_parts`]), so a quote or a dot in a name counts.
pub fn type_is(data_type: &str, schema: &str, name: &str) -> Option<bool> {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (data_type, false),
    };
    let same = match haste_sql::name_parts(base).as_slice() {
        [bare] => bare == name,
        [in_schema, bare] => in_schema == schema && bare == name,
        _ => false,
    };
    same.then_some(array)
}

impl Schema {
    /// The domains, each after the domain it is over (or over an array of): PostgreSQL refuses a
    /// domain over a type that does not exist yet. Otherwise in the model's order.
    pub fn domains_in_creation_order(&self) -> Vec<&Domain> {
        self.types_in_creation_order(std::iter::empty(), self.domains.iter(), std::iter::empty())
            .into_iter()
            .filter_map(|declared| match declared {
                DeclaredType::Domain(domain) => Some(domain),
                _ => None,
            })
            .collect()
    }

    /// `composites`, `domains` and `ranges` of this schema (all of them for a dump, those a plan
    /// creates), each after the types of the list it declares: a domain over a range, a composite
    /// type holding a domain over a composite type. PostgreSQL refuses a type declaring one that
    /// does not exist yet. Otherwise composite types first, those holding a domain after the
    /// domains, then ranges, each in the order given.
    pub fn types_in_creation_order<'a>(
        &self,
        composites: impl Iterator<Item = &'a Composite>,
        domains: impl Iterator<Item = &'a Domain>,
        ranges: impl Iterator<Item = &'a Range>,
    ) -> Vec<DeclaredType<'a>> {
        let (holding, before_domains): (Vec<&Composite>, Vec<&Composite>) =
            composites.partition(|c| c.holds_domain(self));
        let types = before_domains
            .into_iter()
            .map(DeclaredType::Composite)
            .chain(domains.map(DeclaredType::Domain))
            .chain(holding.into_iter().map(DeclaredType::Composite))
            .chain(ranges.map(DeclaredType::Range));
        in_declaration_order(types.collect())
    }
}

/// A type of the schema that declares others: a composite type (its attributes), a domain (its
/// base type) or a range (its subtype).
#[derive(Clone, Copy)]
pub enum DeclaredType<'a> {
    /// A composite type.
    Composite(&'a Composite),
    /// A domain.
    Domain(&'a Domain),
    /// A range type.
    Range(&'a Range),
}

impl DeclaredType<'_> {
    /// The types it declares, as `format_type` prints them.
    fn declares(&self) -> Vec<&str> {
        match self {
            DeclaredType::Composite(composite) => {
                composite.attributes.iter().map(|a| a.data_type.as_str()).collect()
            }
            DeclaredType::Domain(domain) => vec![domain.base_type.as_str()],
            DeclaredType::Range(range) => vec![range.subtype.as_str()],
        }
    }

    /// Whether `data_type` is this type (or an array of it; a range's multirange too).
    fn is(&self, data_type: &str) -> bool {
        let named = |schema: &str, name: &str| type_is(data_type, schema, name).is_some();
        match self {
            DeclaredType::Composite(composite) => named(&composite.schema, &composite.name),
            DeclaredType::Domain(domain) => named(&domain.schema, &domain.name),
            DeclaredType::Range(range) => {
                named(&range.schema, &range.name) || named(&range.multirange.0, &range.multirange.1)
            }
        }
    }

    /// The statements that create it.
    pub fn create_statements(self) -> Vec<String> {
        match self {
            DeclaredType::Composite(composite) => vec![composite.create_statement()],
            DeclaredType::Domain(domain) => domain.create_statements(),
            DeclaredType::Range(range) => vec![range.create_statement()],
        }
    }
}

/// `types` (in the order they would be created if none declared another) each after the types of
/// the list it declares ([`Schema::types_in_creation_order`]).
fn in_declaration_order(mut left: Vec<DeclaredType<'_>>) -> Vec<DeclaredType<'_>> {
    let mut ordered = Vec::with_capacity(left.len());
    while !left.is_empty() {
        // The first declaring none still left but itself (a domain named like the built-in
        // type it is over reads, by name, as declaring itself; a cycle is impossible).
        let ready = |at: usize| {
            left[at].declares().iter().all(|declared| {
                left.iter().enumerate().all(|(other, item)| other == at || !item.is(declared))
            })
        };
        let next = (0..left.len()).find(|&at| ready(at)).unwrap_or(0);
        ordered.push(left.remove(next));
    }
    ordered
}

impl Composite {
    /// Whether an attribute is of a domain of `schema` (or an array of one): such a type is
    /// created after the domains.
    pub fn holds_domain(&self, schema: &Schema) -> bool {
        self.attributes.iter().any(|attribute| {
            schema
                .domains
                .iter()
                .any(|domain| type_is(&attribute.data_type, &domain.schema, &domain.name).is_some())
        })
    }
}

impl Extension {
    /// `CREATE EXTENSION`.
    pub fn create_statement(&self) -> String {
        format!(
            "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
            quote_ident(&self.name),
            quote_ident(&self.schema)
        )
    }
}

impl Collation {
    /// `CREATE COLLATION ... (provider = ..., ...)`.
    pub fn create_statement(&self) -> String {
        let mut options = vec![format!("provider = {}", self.provider.keyword())];
        let literal = |value: &Option<String>| value.as_deref().map(quote_literal);
        match (literal(&self.locale), literal(&self.lc_collate), literal(&self.lc_ctype)) {
            (Some(locale), _, _) => options.push(format!("locale = {locale}")),
            (None, Some(collate), Some(ctype)) if collate == ctype => {
                options.push(format!("locale = {collate}"))
            }
            (None, collate, ctype) => {
                options.extend(collate.map(|collate| format!("lc_collate = {collate}")));
                options.extend(ctype.map(|ctype| format!("lc_ctype = {ctype}")));
            }
        }
        if !self.deterministic {
            options.push("deterministic = false".to_owned());
        }
        if let Some(rules) = &self.rules {
            options.push(format!("rules = {}", quote_literal(rules)));
        }
        format!("CREATE COLLATION {} ({})", qualified(&self.schema, &self.name), options.join(", "))
    }

    /// `DROP COLLATION`.
    pub fn drop_statement(&self) -> String {
        format!("DROP COLLATION {}", qualified(&self.schema, &self.name))
    }

    /// Whether `collation`, as a column, domain, attribute or range names it (`app.ci`), is
    /// this one.
    pub fn is_named_by(&self, collation: &str) -> bool {
        haste_sql::name_parts(collation) == [self.schema.as_str(), self.name.as_str()]
    }
}

impl Enum {
    /// `CREATE TYPE ... AS ENUM`.
    pub fn create_statement(&self) -> String {
        let values: Vec<String> = self.values.iter().map(|v| quote_literal(v)).collect();
        format!("CREATE TYPE {} AS ENUM ({})", qualified(&self.schema, &self.name), values.join(", "))
    }
}

impl Attribute {
    /// The attribute as written in `CREATE TYPE ... AS (...)` and `ADD ATTRIBUTE`.
    pub fn definition(&self) -> String {
        format!("{} {}", quote_ident(&self.name), self.type_clause())
    }

    /// Its type and collation, as `ALTER ATTRIBUTE ... TYPE` takes them.
    pub fn type_clause(&self) -> String {
        match &self.collation {
            Some(collation) => format!("{} COLLATE {collation}", self.data_type),
            None => self.data_type.clone(),
        }
    }
}

impl Composite {
    /// `CREATE TYPE ... AS (...)`.
    pub fn create_statement(&self) -> String {
        let attributes: Vec<String> = self.attributes.iter().map(Attribute::definition).collect();
        format!("CREATE TYPE {} AS ({})", qualified(&self.schema, &self.name), attributes.join(", "))
    }
}

impl Range {
    /// `CREATE TYPE ... AS RANGE (...)`, its multirange type named.
    pub fn create_statement(&self) -> String {
        let mut options = vec![format!("SUBTYPE = {}", self.subtype)];
        if let Some(opclass) = &self.subtype_opclass {
            options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
        }
        if let Some(collation) = &self.collation {
            options.push(format!("COLLATION = {collation}"));
        }
        if let Some((schema, name)) = &self.subtype_diff {
            options.push(format!("SUBTYPE_DIFF = {}", qualified(schema, name)));
        }
        let (schema, name) = &self.multirange;
        options.push(format!("MULTIRANGE_TYPE_NAME = {}", qualified(schema, name)));
        format!("CREATE TYPE {} AS RANGE ({})", qualified(&self.schema, &self.name), options.join(", "))
    }

    /// `DROP TYPE` (its multirange type goes with it).
    pub fn drop_statement(&self) -> String {
        format!("DROP TYPE {}", qualified(&self.schema, &self.name))
    }

    /// Whether its `SUBTYPE_DIFF` is a function of `schema` (one of its own, created before it).
    pub fn uses_function_of(&self, schema: &Schema) -> bool {
        self.subtype_diff
            .as_ref()
            .is_some_and(|(on, name)| schema.functions.iter().any(|f| f.schema == *on && f.name == *name))
    }
}

impl Schema {
    /// Whether `function` is over a range type of this schema whose `SUBTYPE_DIFF` is one of its
    /// functions: it waits for that range, which waits for the functions.
    pub fn uses_late_range(&self, function: &Function) -> bool {
        function.range_types.iter().any(|(schema, name)| {
            self.ranges.iter().any(|r| r.schema == *schema && r.name == *name && r.uses_function_of(self))
        })
    }
}

impl Domain {
    /// `CREATE DOMAIN` with its validated constraints inside it (a new domain types no column
    /// yet, so there is nothing to check; an `ALTER DOMAIN ... ADD CONSTRAINT` after it is what
    /// haste's lint `domain-add-constraint` refuses), then those left `NOT VALID`, which only
    /// `ALTER DOMAIN` can add.
    pub fn create_statements(&self) -> Vec<String> {
        let name = qualified(&self.schema, &self.name);
        let mut statement = format!("CREATE DOMAIN {name} AS {}", self.type_clause());
        if let Some(default) = &self.default {
            statement.push_str(&format!(" DEFAULT {default}"));
        }
        if self.not_null {
            statement.push_str(" NOT NULL");
        }
        let (validated, unvalidated): (Vec<_>, Vec<_>) = self.constraints.iter().partition(|c| c.validated);
        for constraint in validated {
            statement.push_str(&format!(
                " CONSTRAINT {} {}",
                quote_ident(&constraint.name),
                constraint.check
            ));
        }
        let mut out = vec![statement];
        out.extend(unvalidated.into_iter().map(|constraint| self.add_constraint_statement(constraint)));
        out
    }

    /// Its base type and collation, as `CREATE DOMAIN ... AS` takes them.
    pub fn type_clause(&self) -> String {
        match &self.collation {
            Some(collation) => format!("{} COLLATE {collation}", self.base_type),
            None => self.base_type.clone(),
        }
    }

    /// `ALTER DOMAIN ... ADD CONSTRAINT name CHECK (...)`, with `NOT VALID` for one not validated.
    pub fn add_constraint_statement(&self, constraint: &DomainConstraint) -> String {
        format!(
            "ALTER DOMAIN {} ADD CONSTRAINT {} {}{}",
            qualified(&self.schema, &self.name),
            quote_ident(&constraint.name),
            constraint.check,
            if constraint.validated { "" } else { " NOT VALID" }
        )
    }
}

impl Comment {
    /// `COMMENT ON <object> IS <text>`, or `IS NULL` for `None`.
    pub fn statement(&self, text: Option<&str>) -> String {
        let name = qualified(&self.schema, &self.name);
        let part = self.part.as_deref().map(quote_ident).unwrap_or_default();
        let object = match self.object {
            CommentObject::Type if self.part.is_some() => format!("COLUMN {name}.{part}"),
            CommentObject::Type => format!("TYPE {name}"),
            CommentObject::Domain => format!("DOMAIN {name}"),
            CommentObject::DomainConstraint => format!("CONSTRAINT {part} ON DOMAIN {name}"),
            CommentObject::Sequence => format!("SEQUENCE {name}"),
            CommentObject::Index => format!("INDEX {name}"),
            CommentObject::View | CommentObject::MaterializedView if self.part.is_some() => {
                format!("COLUMN {name}.{part}")
            }
            CommentObject::View => format!("VIEW {name}"),
            CommentObject::MaterializedView => format!("MATERIALIZED VIEW {name}"),
            // The signature as `regprocedure` prints it, schema-qualified where it must be.
            CommentObject::Function => format!("ROUTINE {}", self.name),
            CommentObject::Constraint => format!("CONSTRAINT {part} ON {name}"),
            CommentObject::Trigger => format!("TRIGGER {part} ON {name}"),
            CommentObject::Policy => format!("POLICY {part} ON {name}"),
            CommentObject::Statistics => format!("STATISTICS {name}"),
            CommentObject::Rule => format!("RULE {part} ON {name}"),
        };
        let text = text.map_or_else(|| "NULL".to_owned(), quote_literal);
        format!("COMMENT ON {object} IS {text}")
    }
}

impl Sequence {
    /// `CREATE SEQUENCE` with every option.
    pub fn create_statement(&self) -> String {
        format!(
            "CREATE SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{}",
            qualified(&self.schema, &self.name),
            self.data_type,
            self.increment,
            self.min,
            self.max,
            self.start,
            self.cache,
            if self.cycle { " CYCLE" } else { "" }
        )
    }

    /// Its options as `ALTER SEQUENCE` writes them, always in this order: `INCREMENT BY`,
    /// `MINVALUE`, `MAXVALUE`, `START WITH`, `CACHE`, `[NO] CYCLE`.
    fn option_clauses(&self) -> [String; 6] {
        [
            format!("INCREMENT BY {}", self.increment),
            format!("MINVALUE {}", self.min),
            format!("MAXVALUE {}", self.max),
            format!("START WITH {}", self.start),
            format!("CACHE {}", self.cache),
            if self.cycle { "CYCLE" } else { "NO CYCLE" }.to_owned(),
        ]
    }

    /// The option clauses of this sequence that `from` does not have (its type aside).
    pub fn changed_options(&self, from: &Sequence) -> Vec<String> {
        self.option_clauses()
            .into_iter()
            .zip(from.option_clauses())
            .filter(|(new, old)| new != old)
            .map(|(new, _)| new)
            .collect()
    }

    /// The options an identity column of this sequence's type gets when it names none
    /// (ascending from 1 to the type's maximum, cached one at a time, no cycle).
    pub fn identity_defaults(&self) -> Sequence {
        let max = match self.data_type.as_str() {
            "smallint" => i16::MAX.into(),
            "integer" => i32::MAX.into(),
            _ => i64::MAX,
        };
        Sequence { start: 1, increment: 1, min: 1, max, cache: 1, cycle: false, ..self.clone() }
    }

    /// `ALTER SEQUENCE ... OWNED BY` its column, when one owns it.
    pub fn owned_by_statement(&self) -> Option<String> {
        let (table, column) = self.owned_by.as_ref()?;
        Some(format!(
            "ALTER SEQUENCE {} OWNED BY {}.{}",
            qualified(&self.schema, &self.name),
            qualified(&self.schema, table),
            quote_ident(column)
        ))
    }

    /// For an identity sequence, the statement that sets `options` (clauses of
    /// [`Sequence::changed_options`]) through its column: `ALTER TABLE ... ALTER COLUMN ... SET
    /// ...`, which finds the sequence whatever its name. `None` with no options (or no column).
    /// `fresh`: the identity was just made, so the sequence also restarts at its new start;
    /// else PostgreSQL checks its first value (1) against the new bounds and refuses a
    /// `MINVALUE` above it or a descending sequence (`RESTART value (1) cannot be less than
    /// MINVALUE`). Never for a sequence already in use: it would hand out numbers again.
    pub fn identity_options_statement(&self, options: &[String], fresh: bool) -> Option<String> {
        let (table, column) = self.owned_by.as_ref().filter(|_| !options.is_empty())?;
        let mut sets: Vec<String> = options.iter().map(|option| format!("SET {option}")).collect();
        if fresh {
            sets.push("RESTART".to_owned());
        }
        Some(format!(
            "ALTER TABLE {} ALTER COLUMN {} {}",
            qualified(&self.schema, table),
            quote_ident(column),
            sets.join(" ")
        ))
    }
}

impl Trigger {
    /// `ALTER TABLE ... DISABLE | ENABLE [REPLICA | ALWAYS] TRIGGER`, as its firing says.
    pub fn firing_statement(&self) -> String {
        format!(
            "ALTER TABLE {} {} TRIGGER {}",
            qualified(&self.schema, &self.table),
            self.firing.keyword(),
            quote_ident(&self.name)
        )
    }
}

impl Namespace {
    /// `COMMENT ON SCHEMA ... IS`, its comment or `NULL`.
    pub fn comment_statement(&self) -> String {
        let text = self.comment.as_deref().map_or_else(|| "NULL".to_owned(), quote_literal);
        format!("COMMENT ON SCHEMA {} IS {text}", quote_ident(&self.name))
    }
}

impl Rule {
    /// `ALTER TABLE ... DISABLE | ENABLE [REPLICA | ALWAYS] RULE`, as its firing says.
    pub fn firing_statement(&self) -> String {
        format!(
            "ALTER TABLE {} {} RULE {}",
            qualified(&self.schema, &self.table),
            self.firing.keyword(),
            quote_ident(&self.name)
        )
    }
}

impl Column {
    /// The column as written in `CREATE TABLE` or `ADD COLUMN`.
    pub fn definition(&self) -> String {
        let mut text = format!("{} {}", quote_ident(&self.name), self.data_type);
        if let Some(collation) = &self.collation {
            text.push_str(&format!(" COLLATE {collation}"));
        }
        if let Some(expression) = &self.generated {
            text.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
        }
        match self.identity {
            Some(Identity::Always) => text.push_str(" GENERATED ALWAYS AS IDENTITY"),
            Some(Identity::ByDefault) => text.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            None => {}
        }
        if let Some(default) = &self.default {
            text.push_str(&format!(" DEFAULT {default}"));
        }
        if self.not_null {
            text.push_str(" NOT NULL");
        }
        text
    }

    /// The `ALTER COLUMN` actions (`SET STATISTICS 500`, `SET STORAGE EXTERNAL`, `SET
    /// COMPRESSION lz4`, `RESET (n_distinct)`, `SET (n_distinct = '5')`) that turn the settings
    /// `from` into this column's, each to run on its own. A new column starts from the defaults.
    pub fn settings_actions(&self, from: &ColumnSettings) -> Vec<(ColumnSetting, String)> {
        let (old, new) = (from, &self.settings);
        let mut out = Vec::new();
        if old.statistics_target != new.statistics_target {
            let target = new.statistics_target.unwrap_or(-1);
            out.push((ColumnSetting::StatisticsTarget, format!("SET STATISTICS {target}")));
        }
        if old.storage != new.storage {
            let strategy = match (new.storage, old.storage) {
                (Some(storage), _) => Some(storage.strategy),
                (None, Some(previous)) => Some(previous.type_default),
                (None, None) => None,
            };
            out.extend(strategy.map(|s| (ColumnSetting::Storage, format!("SET STORAGE {}", s.keyword()))));
        }
        if old.compression != new.compression {
            let method = new.compression.map_or("DEFAULT", Compression::keyword);
            out.push((ColumnSetting::Compression, format!("SET COMPRESSION {method}")));
        }
        let reset: Vec<String> = old
            .options
            .iter()
            .filter(|before| !new.options.iter().any(|after| after.name == before.name))
            .map(StorageParameter::quoted_name)
            .collect();
        if !reset.is_empty() {
            out.push((ColumnSetting::Options, format!("RESET ({})", reset.join(", "))));
        }
        let set: Vec<StorageParameter> =
            new.options.iter().filter(|after| !old.options.contains(after)).cloned().collect();
        if !set.is_empty() {
            out.push((ColumnSetting::Options, format!("SET ({})", StorageParameter::assignments(&set))));
        }
        out
    }

    /// `ALTER TABLE ... ALTER COLUMN ...` for each of [`Column::settings_actions`], with what it
    /// sets.
    pub fn settings_statements(&self, table: &str, from: &ColumnSettings) -> Vec<(ColumnSetting, String)> {
        self.settings_actions(from)
            .into_iter()
            .map(|(setting, action)| {
                (setting, format!("ALTER TABLE {table} ALTER COLUMN {} {action}", quote_ident(&self.name)))
            })
            .collect()
    }
}

impl Table {
    /// `"schema"."table"`.
    pub fn qualified_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    /// Whether this table is a partition of `parent`. The catalog names the parent as
    /// PostgreSQL's `quote_ident` writes it (quoted only when it must be), so each part is
    /// compared both bare and quoted: the bare form only fits a name that needs no quotes.
    pub fn is_partition_of(&self, parent: &Table) -> bool {
        let forms = |name: &str| [name.to_owned(), quote_ident(name)];
        self.partition_of.as_ref().is_some_and(|(written, _)| {
            forms(&parent.schema)
                .iter()
                .any(|schema| forms(&parent.name).iter().any(|name| *written == format!("{schema}.{name}")))
        })
    }

    /// The partitions of this table among `tables`, at any depth, each parent before its own.
    pub fn partitions_among<'a>(&self, tables: impl Iterator<Item = &'a Table> + Clone) -> Vec<&'a Table> {
        let mut found: Vec<&'a Table> = tables.clone().filter(|child| child.is_partition_of(self)).collect();
        let mut next = 0;
        while let Some(parent) = found.get(next).copied() {
            found.extend(tables.clone().filter(|child| child.is_partition_of(parent)));
            next += 1;
        }
        found
    }

    /// `CREATE TABLE` with its columns (constraints are added separately).
    pub fn create_statement(&self) -> String {
        let name = self.qualified_name();
        let (unlogged, partition) = match &self.kind {
            TableKind::Regular => ("", String::new()),
            TableKind::Unlogged => ("UNLOGGED ", String::new()),
            TableKind::Partitioned { key } => ("", format!(" PARTITION BY {key}")),
        };
        let with = match self.storage_parameters.as_slice() {
            [] => String::new(),
            parameters => format!(" WITH ({})", StorageParameter::assignments(parameters)),
        };
        if let Some((parent, bound)) = &self.partition_of {
            return format!("CREATE {unlogged}TABLE {name} PARTITION OF {parent} {bound}{partition}{with}");
        }
        // A column only inherited is the parent's to give: written here, it would become the
        // child's own too (`attislocal`), and stay when the parent drops it.
        let columns: Vec<String> =
            self.columns.iter().filter(|c| !c.inherited).map(Column::definition).collect();
        let inherits = match self.inherits.as_slice() {
            [] => String::new(),
            parents => {
                let parents: Vec<String> =
                    parents.iter().map(|(schema, name)| qualified(schema, name)).collect();
                format!(" INHERITS ({})", parents.join(", "))
            }
        };
        format!(
            "CREATE {unlogged}TABLE {name} (\n    {}\n){inherits}{partition}{with}",
            columns.join(",\n    ")
        )
    }

    /// `ALTER TABLE ... REPLICA IDENTITY ...` as the table has it.
    pub fn replica_identity_statement(&self) -> String {
        let identity = match &self.replica_identity {
            ReplicaIdentity::Default => "DEFAULT".to_owned(),
            ReplicaIdentity::Full => "FULL".to_owned(),
            ReplicaIdentity::Nothing => "NOTHING".to_owned(),
            ReplicaIdentity::Index(index) => format!("USING INDEX {}", quote_ident(index)),
        };
        format!("ALTER TABLE {} REPLICA IDENTITY {identity}", self.qualified_name())
    }

    /// `ALTER TABLE ... CLUSTER ON` the index the table has, or `SET WITHOUT CLUSTER`.
    pub fn cluster_statement(&self) -> String {
        let setting = match &self.clustered_on {
            Some(index) => format!("CLUSTER ON {}", quote_ident(index)),
            None => "SET WITHOUT CLUSTER".to_owned(),
        };
        format!("ALTER TABLE {} {setting}", self.qualified_name())
    }

    /// `ALTER TABLE ... ADD CONSTRAINT`.
    pub fn add_constraint_statement(&self, constraint: &Constraint) -> String {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            self.qualified_name(),
            quote_ident(&constraint.name),
            constraint.definition
        )
    }
}

impl StorageParameter {
    /// The name, each part quoted (`"toast"."autovacuum_enabled"`).
    pub fn quoted_name(&self) -> String {
        self.name.split('.').map(quote_ident).collect::<Vec<_>>().join(".")
    }

    /// `"fillfactor" = '70', ...`, as `WITH (...)` and `SET (...)` take them.
    pub fn assignments(parameters: &[StorageParameter]) -> String {
        let assignments: Vec<String> = parameters
            .iter()
            .map(|parameter| format!("{} = {}", parameter.quoted_name(), quote_literal(&parameter.value)))
            .collect();
        assignments.join(", ")
    }
}

impl Index {
    /// `"schema"."name"`.
    pub fn qualified_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    /// `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS ...`, built from its parts: outside a
    /// transaction, a statement that already ran must not fail a retry. Never for a partitioned
    /// table's own index, which PostgreSQL cannot build concurrently.
    pub fn create_concurrently_statement(&self) -> String {
        // PostgreSQL's own methods are written as the words people know; any other is quoted.
        let method = ["btree", "hash", "gist", "spgist", "gin", "brin"]
            .into_iter()
            .find(|known| *known == self.method)
            .map_or_else(|| quote_ident(&self.method), str::to_owned);
        format!(
            "CREATE {}INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING {method} {}",
            if self.unique { "UNIQUE " } else { "" },
            quote_ident(&self.name),
            qualified(&self.schema, &self.table),
            self.elements
        )
    }

    /// `ALTER INDEX parent ATTACH PARTITION index`, for a partition's index attached to its
    /// parent table's index. The parent's definition says `ON ONLY`, so it is created without
    /// its partitions' indexes and is valid once every partition has one attached.
    pub fn attach_statement(&self) -> Option<String> {
        self.attached_to.as_ref().map(|(schema, name)| {
            format!("ALTER INDEX {} ATTACH PARTITION {}", qualified(schema, name), self.qualified_name())
        })
    }
}

impl View {
    fn keyword(&self) -> &'static str {
        if self.materialized { "MATERIALIZED VIEW" } else { "VIEW" }
    }

    /// `CREATE [MATERIALIZED] VIEW`, with its options.
    pub fn create_statement(&self) -> String {
        let options = match self.options.is_empty() {
            true => String::new(),
            false => format!(" WITH ({})", StorageParameter::assignments(&self.options)),
        };
        let no_data = if self.with_no_data.0 { " WITH NO DATA" } else { "" };
        format!(
            "CREATE {} {}{options} AS {}{no_data}",
            self.keyword(),
            qualified(&self.schema, &self.name),
            self.definition.trim_end().trim_end_matches(';')
        )
    }

    /// `CREATE [MATERIALIZED] VIEW` and what it does not say: its columns' defaults.
    pub fn create_statements(&self) -> Vec<String> {
        let mut out = vec![self.create_statement()];
        out.extend(self.column_default_statements(&[]));
        out
    }

    /// `ALTER VIEW ... ALTER COLUMN ... DROP DEFAULT` for the columns that had a default in
    /// `before` and have none, then `SET DEFAULT` for those whose default is new or another.
    pub fn column_default_statements(&self, before: &[ViewColumnDefault]) -> Vec<String> {
        let name = qualified(&self.schema, &self.name);
        let alter = |column: &str, action: String| {
            format!("ALTER {} {name} ALTER COLUMN {} {action}", self.keyword(), quote_ident(column))
        };
        let dropped = before
            .iter()
            .filter(|old| !self.column_defaults.iter().any(|new| new.column == old.column))
            .map(|old| alter(&old.column, "DROP DEFAULT".to_owned()));
        let set = self
            .column_defaults
            .iter()
            .filter(|new| !before.contains(new))
            .map(|new| alter(&new.column, format!("SET DEFAULT {}", new.expression)));
        dropped.chain(set).collect()
    }

    /// `ALTER [MATERIALIZED] VIEW ... RESET (...)` for the options `from` has and this view
    /// does not, then `SET (...)` for those it sets anew or to another value.
    pub fn alter_options_statements(&self, from: &View) -> Vec<String> {
        let name = qualified(&self.schema, &self.name);
        let reset: Vec<String> = from
            .options
            .iter()
            .filter(|old| !self.options.iter().any(|new| new.name == old.name))
            .map(StorageParameter::quoted_name)
            .collect();
        let set: Vec<StorageParameter> =
            self.options.iter().filter(|new| !from.options.contains(new)).cloned().collect();
        let mut out = Vec::new();
        if !reset.is_empty() {
            out.push(format!("ALTER {} {name} RESET ({})", self.keyword(), reset.join(", ")));
        }
        if !set.is_empty() {
            out.push(format!(
                "ALTER {} {name} SET ({})",
                self.keyword(),
                StorageParameter::assignments(&set)
            ));
        }
        out
    }
}

impl Policy {
    /// `CREATE POLICY`.
    pub fn create_statement(&self) -> String {
        let roles: Vec<String> = self
            .roles
            .iter()
            .map(|role| if role == "public" { "PUBLIC".to_owned() } else { quote_ident(role) })
            .collect();
        let mut statement = format!(
            "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
            quote_ident(&self.name),
            qualified(&self.schema, &self.table),
            if self.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            self.command,
            roles.join(", ")
        );
        if let Some(using) = &self.using {
            statement.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &self.with_check {
            statement.push_str(&format!(" WITH CHECK ({check})"));
        }
        statement
    }
}

impl Statistics {
    fn create(&self, if_missing: bool) -> String {
        let kinds =
            if self.kinds.is_empty() { String::new() } else { format!(" ({})", self.kinds.join(", ")) };
        let expressions = self.expressions.iter().map(|expression| format!("({expression})"));
        let on: Vec<String> = self.columns.iter().cloned().chain(expressions).collect();
        format!(
            "CREATE STATISTICS {}{}{kinds} ON {} FROM {}",
            if if_missing { "IF NOT EXISTS " } else { "" },
            qualified(&self.schema, &self.name),
            on.join(", "),
            qualified(&self.table_schema, &self.table)
        )
    }

    /// `CREATE STATISTICS`.
    pub fn create_statement(&self) -> String {
        self.create(false)
    }

    /// `CREATE STATISTICS IF NOT EXISTS`: for when dropping a column may or may not have taken
    /// it along.
    pub fn create_if_missing_statement(&self) -> String {
        self.create(true)
    }

    /// `DROP STATISTICS`.
    pub fn drop_statement(&self) -> String {
        format!("DROP STATISTICS {}", qualified(&self.schema, &self.name))
    }

    /// `DROP STATISTICS IF EXISTS`: for when dropping a column may or may not have taken it along
    /// (it does when one column would be left).
    pub fn drop_if_exists_statement(&self) -> String {
        format!("DROP STATISTICS IF EXISTS {}", qualified(&self.schema, &self.name))
    }
}

/// A grantee as `GRANT ... TO` takes it.
fn grantee(role: &str) -> String {
    if role == "PUBLIC" { role.to_owned() } else { quote_ident(role) }
}

/// `GRANT` (or `REVOKE`, `take` true) of one privilege: `what` is `<privilege>[ (column)] ON
/// <object>`.
fn grant_or_revoke(what: &str, role: &str, grantable: bool, take: bool) -> String {
    match take {
        true => format!("REVOKE {what} FROM {}", grantee(role)),
        false => {
            let option = if grantable { " WITH GRANT OPTION" } else { "" };
            format!("GRANT {what} TO {}{option}", grantee(role))
        }
    }
}

impl Privilege {
    /// `<privilege>[ (column)] ON <kind> <object>`.
    fn what(&self) -> String {
        let column = self.column.as_ref().map(|c| format!(" ({})", quote_ident(c))).unwrap_or_default();
        let object = match self.object {
            PrivilegeObject::Schema => format!("SCHEMA {}", quote_ident(&self.schema)),
            PrivilegeObject::Table => format!("TABLE {}", qualified(&self.schema, &self.name)),
            PrivilegeObject::Sequence => format!("SEQUENCE {}", qualified(&self.schema, &self.name)),
            // `regprocedure` text, qualified and quoted by PostgreSQL; ROUTINE covers procedures.
            PrivilegeObject::Function => format!("ROUTINE {}", self.name),
            PrivilegeObject::Type => format!("TYPE {}", qualified(&self.schema, &self.name)),
        };
        format!("{}{column} ON {object}", self.privilege)
    }

    /// The statement that gives an object this privilege (a `REVOKE` for a revoked default).
    pub fn apply_statement(&self) -> String {
        grant_or_revoke(&self.what(), &self.grantee, self.grantable, self.revoked)
    }

    /// The statement that takes it back (a `GRANT` for a revoked default).
    pub fn undo_statement(&self) -> String {
        grant_or_revoke(&self.what(), &self.grantee, self.grantable, !self.revoked)
    }
}

impl DefaultPrivilege {
    fn statement(&self, take: bool) -> String {
        let schema =
            self.schema.as_ref().map(|s| format!("IN SCHEMA {} ", quote_ident(s))).unwrap_or_default();
        let objects = match self.objects {
            DefaultObjects::Tables => "TABLES",
            DefaultObjects::Sequences => "SEQUENCES",
            DefaultObjects::Functions => "FUNCTIONS",
            DefaultObjects::Types => "TYPES",
            DefaultObjects::Schemas => "SCHEMAS",
        };
        let what = format!("{} ON {objects}", self.privilege);
        let role = self.role.as_ref().map(|r| format!("FOR ROLE {} ", quote_ident(r))).unwrap_or_default();
        format!(
            "ALTER DEFAULT PRIVILEGES {role}{schema}{}",
            grant_or_revoke(&what, &self.grantee, self.grantable, take)
        )
    }

    /// `ALTER DEFAULT PRIVILEGES ... GRANT` (`REVOKE` for a revoked default).
    pub fn apply_statement(&self) -> String {
        self.statement(self.revoked)
    }

    /// The statement that takes it back.
    pub fn undo_statement(&self) -> String {
        self.statement(!self.revoked)
    }
}

impl Owner {
    /// `ALTER <kind> <object> OWNER TO <role>`: `role` is the owner's role, or `CURRENT_USER`
    /// (the role running the statement) when `to_current_user`.
    fn statement(&self, to_current_user: bool) -> String {
        let object = match self.object {
            OwnedObject::Schema => format!("SCHEMA {}", quote_ident(&self.schema)),
            OwnedObject::Table => format!("TABLE {}", qualified(&self.schema, &self.name)),
            OwnedObject::View => format!("VIEW {}", qualified(&self.schema, &self.name)),
            OwnedObject::MaterializedView => {
                format!("MATERIALIZED VIEW {}", qualified(&self.schema, &self.name))
            }
            OwnedObject::Sequence => format!("SEQUENCE {}", qualified(&self.schema, &self.name)),
            // `regprocedure` text, qualified and quoted by PostgreSQL; ROUTINE covers procedures.
            OwnedObject::Function => format!("ROUTINE {}", self.name),
            OwnedObject::Type => format!("TYPE {}", qualified(&self.schema, &self.name)),
            OwnedObject::Domain => format!("DOMAIN {}", qualified(&self.schema, &self.name)),
        };
        let role = if to_current_user { "CURRENT_USER".to_owned() } else { quote_ident(&self.role) };
        format!("ALTER {object} OWNER TO {role}")
    }

    /// The statement that gives the object this owner.
    pub fn apply_statement(&self) -> String {
        self.statement(false)
    }

    /// The statement that gives the object back to the role running it (an object without an
    /// owner recorded is that role's).
    pub fn undo_statement(&self) -> String {
        self.statement(true)
    }
}

impl Schema {
    /// The statements, each without its terminating `;`.
    pub fn to_ddl(&self) -> Vec<String> {
        let mut out: Vec<String> = WRITTEN_FOR.iter().map(|setting| (*setting).to_owned()).collect();
        for namespace in &self.schemas {
            if namespace.name != "public" {
                out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&namespace.name)));
            }
            if namespace.comment.is_some() {
                out.push(namespace.comment_statement());
            }
        }
        out.extend(self.extensions.iter().map(Extension::create_statement));
        out.extend(self.collations.iter().map(Collation::create_statement));
        out.extend(self.enums.iter().map(Enum::create_statement));
        // Types and functions over the row types of tables or views wait for them.
        let composites =
            |stage| self.composites.iter().filter(move |c| self.row_type_stage(&c.row_types) == stage);
        let functions = |stage, late: bool| {
            self.functions
                .iter()
                .filter(move |f| self.row_type_stage(&f.row_types) == stage)
                .filter(move |f| stage != RowTypeStage::BeforeTables || self.uses_late_range(f) == late)
                .map(|function| function.definition.trim_end().trim_end_matches(';').to_owned())
        };
        // Composite types, domains and ranges, each after the types it declares; a range whose
        // `SUBTYPE_DIFF` is a function of the schema after the functions, and the functions over
        // such a range after it.
        let ranges = |late: bool| self.ranges.iter().filter(move |r| r.uses_function_of(self) == late);
        let types = self.types_in_creation_order(
            composites(RowTypeStage::BeforeTables),
            self.domains.iter(),
            ranges(false),
        );
        out.extend(types.into_iter().flat_map(DeclaredType::create_statements));
        out.extend(self.sequences.iter().filter(|s| !s.identity).map(Sequence::create_statement));
        out.extend(functions(RowTypeStage::BeforeTables, false));
        out.extend(ranges(true).map(Range::create_statement));
        out.extend(functions(RowTypeStage::BeforeTables, true));
        // Parents before their partitions and their inheritance children.
        let tables = self.creation_order(self.tables.iter().collect());
        out.extend(tables.iter().map(|table| table.create_statement()));
        out.extend(tables.iter().flat_map(|table| self.inherited_column_statements(table)));
        // Parents first: a parent's statistics target and storage reach its children.
        out.extend(tables.iter().flat_map(|table| {
            let name = table.qualified_name();
            table.columns.iter().flat_map(move |column| {
                let given = self.settings_from_parent(table, column);
                column.settings_statements(&name, &given).into_iter().map(|(_, statement)| statement)
            })
        }));
        out.extend(self.sequences.iter().filter(|s| s.identity).filter_map(|sequence| {
            sequence
                .identity_options_statement(&sequence.changed_options(&sequence.identity_defaults()), true)
        }));
        out.extend(composites(RowTypeStage::AfterTables).map(Composite::create_statement));
        out.extend(functions(RowTypeStage::AfterTables, false));
        out.extend(self.sequences.iter().filter(|s| !s.identity).filter_map(Sequence::owned_by_statement));
        let constraints = |foreign: bool| {
            tables.iter().flat_map(move |table| {
                table
                    .constraints
                    .iter()
                    .filter(move |c| (c.kind == ConstraintKind::ForeignKey) == foreign)
                    .map(move |constraint| table.add_constraint_statement(constraint))
            })
        };
        out.extend(constraints(false));
        // A materialized view's indexes once it exists, with the views.
        let on_view =
            |index: &Index| self.views.iter().any(|v| v.schema == index.schema && v.name == index.table);
        out.extend(self.indexes.iter().filter(|index| !on_view(index)).map(|index| index.definition.clone()));
        out.extend(self.indexes.iter().filter_map(Index::attach_statement));
        out.extend(self.statistics.iter().map(Statistics::create_statement));
        out.extend(constraints(true));
        // After the keys and indexes a `USING INDEX` names.
        out.extend(
            self.tables
                .iter()
                .filter(|t| !t.replica_identity.is_default())
                .map(Table::replica_identity_statement),
        );
        out.extend(self.tables.iter().filter(|t| t.clustered_on.is_some()).map(Table::cluster_statement));
        out.extend(self.views.iter().flat_map(View::create_statements));
        out.extend(self.indexes.iter().filter(|index| on_view(index)).map(|index| index.definition.clone()));
        out.extend(composites(RowTypeStage::AfterViews).map(Composite::create_statement));
        out.extend(functions(RowTypeStage::AfterViews, false));
        // A partition's clone of a trigger comes with its parent's, whose firing (set first)
        // reaches the partitions; a clone that fires otherwise is set after.
        let (cloned, own): (Vec<&Trigger>, Vec<&Trigger>) = self.triggers.iter().partition(|t| t.cloned);
        out.extend(own.iter().map(|trigger| trigger.definition.clone()));
        out.extend(own.iter().filter(|t| !t.firing.is_default()).map(|t| t.firing_statement()));
        out.extend(cloned.iter().map(|t| t.firing_statement()));
        out.extend(self.rules.iter().map(Rule::create_statement));
        out.extend(self.rules.iter().filter(|r| !r.firing.is_default()).map(Rule::firing_statement));
        out.extend(self.tables.iter().flat_map(row_security_statements));
        out.extend(self.policies.iter().map(Policy::create_statement));
        out.extend(self.tables.iter().flat_map(comment_statements));
        out.extend(self.comments.iter().map(|comment| comment.statement(Some(&comment.text))));
        out.extend(self.privileges.iter().map(Privilege::apply_statement));
        // After the grants, which their owner (the role running these) gives; ownership moves
        // them to the new owner.
        out.extend(self.owners.iter().map(Owner::apply_statement));
        // Last: objects created above must not get them on top of their own privileges.
        out.extend(self.default_privileges.iter().map(DefaultPrivilege::apply_statement));
        out
    }
}

impl Schema {
    /// The settings a column of `table` has once its parent's (a partition's, or the first
    /// inheritance parent's) are set: `SET STATISTICS` and `SET STORAGE` on a parent reach its
    /// children's columns of the same name, `SET COMPRESSION` and `SET (...)` do not.
    fn settings_from_parent(&self, table: &Table, column: &Column) -> ColumnSettings {
        let first_parent = table.inherits.first();
        let parent = self.tables.iter().find(|t| {
            table.is_partition_of(t)
                || first_parent.is_some_and(|(schema, name)| t.schema == *schema && t.name == *name)
        });
        match parent.and_then(|p| p.columns.iter().find(|c| c.name == column.name)) {
            Some(given) => {
                ColumnSettings { compression: None, options: Vec::new(), ..given.settings.clone() }
            }
            None => ColumnSettings::default(),
        }
    }

    /// What a child (a table of this schema: an inheritance child or a partition) sets on the
    /// columns it only inherits beyond what its parents give (a default of its own, `NOT
    /// NULL`), which its `CREATE TABLE` cannot say (a partition's `PARTITION OF` lists no
    /// columns): to run after it.
    pub fn inherited_column_statements(&self, table: &Table) -> Vec<String> {
        let partition_parent = self.tables.iter().filter(|t| table.is_partition_of(t));
        let parents: Vec<&Table> = table
            .inherits
            .iter()
            .filter_map(|(schema, name)| self.tables.iter().find(|t| t.schema == *schema && t.name == *name))
            .chain(partition_parent)
            .collect();
        let given = |column: &Column| {
            parents.iter().find_map(|parent| parent.columns.iter().find(|c| c.name == column.name))
        };
        let mut out = Vec::new();
        for column in table.columns.iter().filter(|c| c.inherited) {
            let alter =
                format!("ALTER TABLE {} ALTER COLUMN {}", table.qualified_name(), quote_ident(&column.name));
            let (default, not_null) =
                given(column).map_or((None, false), |c| (c.default.as_ref(), c.not_null));
            match &column.default {
                Some(own) if default != Some(own) => out.push(format!("{alter} SET DEFAULT {own}")),
                None if default.is_some() => out.push(format!("{alter} DROP DEFAULT")),
                _ => {}
            }
            if column.not_null && !not_null {
                out.push(format!("{alter} SET NOT NULL"));
            }
        }
        out
    }
}

/// `ENABLE` / `FORCE ROW LEVEL SECURITY` as the table has them.
pub fn row_security_statements(table: &Table) -> Vec<String> {
    let name = table.qualified_name();
    let mut out = Vec::new();
    if table.row_security {
        out.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"));
    }
    if table.force_row_security {
        out.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"));
    }
    out
}

/// `COMMENT ON TABLE` and `COMMENT ON COLUMN` as the table has them.
pub fn comment_statements(table: &Table) -> Vec<String> {
    let name = table.qualified_name();
    let mut out = Vec::new();
    if let Some(comment) = &table.comment {
        out.push(format!("COMMENT ON TABLE {name} IS {}", quote_literal(comment)));
    }
    for column in table.columns.iter().filter(|c| c.comment.is_some()) {
        out.push(format!(
            "COMMENT ON COLUMN {name}.{} IS {}",
            quote_ident(&column.name),
            quote_literal(column.comment.as_deref().unwrap_or_default())
        ));
    }
    out
}
