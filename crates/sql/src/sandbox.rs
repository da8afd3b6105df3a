//! Statements that act outside the database they run in. A shadow database stands in for the
//! user's: haste applies schema files and replays histories on it, and what they say must stay
//! inside it. This module finds what would not: database-level DDL, roles, tablespaces, server
//! settings and subscriptions, `COPY` to or from a file or a program, `LOAD`, extensions and
//! languages that reach the file system or other servers, and calls of the functions that read
//! files, signal other sessions or reload the server, wherever they are called.
//!
//! It reads PostgreSQL's own parse tree: statement kinds by node type, function calls by
//! walking every node of the statement. Bodies PostgreSQL keeps as text (`DO` blocks, functions
//! written as strings) and statements the grammar refuses are scanned as text for the same
//! function names, conservatively: a mention followed by `(` counts, even inside a string.
//! SQL built at run time from pieces (`EXECUTE 'pg_read' || '_file(...)'`) is beyond any scan:
//! the server stops it, since a replay runs as a role of the shadow's own that may do nothing
//! else (`haste_postgres::ShadowDatabase`); where no such role could be had
//! ([`RunsAs::ConnectingRole`]), `EXECUTE` in a `DO` block or a function is refused instead.
//! [`needs`] tells what that role must be given before a script runs (extensions it may not
//! create itself), or that it cannot run the script.

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use crate::postgres::parse_with_trees;

/// A statement that would act outside the database it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// Byte offset in the script of what escapes: the function call when the parse tree gives
    /// its place, else the statement's first token.
    pub offset: usize,
    /// What it is, in words: `DROP DATABASE`, `a call of pg_read_file`.
    pub what: String,
}

/// Functions that read or write the server's files, signal other sessions, change the running
/// server, or connect elsewhere. Names ending in `*` are prefixes.
const OUTSIDE_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_ls_*",
    "pg_file_*",
    "pg_logdir_ls",
    "lo_import",
    "lo_export",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_log_backend_memory_contexts",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_origin_*",
    "dblink*",
];

/// Extensions that read the server's files or connect to other servers.
const OUTSIDE_EXTENSIONS: &[&str] = &["adminpack", "dblink", "file_fdw", "postgres_fdw", "plsh"];

/// Languages whose functions run as the server's operating-system user (untrusted languages),
/// or load a shared library (`c`).
const OUTSIDE_LANGUAGES: &[&str] =
    &["c", "plperlu", "plpythonu", "plpython2u", "plpython3u", "pltclu", "plsh", "plv8u", "pljavau"];

/// Who a script on a shadow database runs as, which decides what a reading of its text must
/// refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsAs {
    /// A role of the shadow's own: the server refuses what SQL built at run time would do
    /// outside the shadow.
    OwnRole,
    /// The connecting role (no role of the shadow's own could be had): nothing but this
    /// reading stands between the script and the server, so SQL a `DO` block or a function
    /// builds at run time (`EXECUTE`), which no reading can judge, is refused.
    ConnectingRole,
}

/// Every statement of a PostgreSQL script that would act outside its database, in file order.
pub fn escapes(sql: &str, runs_as: RunsAs) -> Vec<Escape> {
    let parsed = parse_with_trees(sql);
    let mut found = Vec::new();
    for (statement, tree) in parsed.script.statements.iter().zip(&parsed.trees) {
        let mut in_statement = Vec::new();
        match tree {
            Ok(node) => {
                if let Some(what) = statement_escape(node) {
                    in_statement.push(Escape { offset: statement.start, what });
                }
                in_statement.extend(called_outside(node, statement.start));
                if matches!(node, NodeEnum::DoStmt(_) | NodeEnum::CreateFunctionStmt(_)) {
                    in_statement.extend(mentioned_outside(&statement.text, statement.offset));
                }
                // SQL a DO block or a function builds at run time cannot be judged by a
                // reading; under the shadow's own role the server refuses what it would do
                // outside the shadow, under the connecting role nothing would.
                let unjudged = match (runs_as, node) {
                    (RunsAs::ConnectingRole, NodeEnum::DoStmt(_)) => Some("a DO block"),
                    (RunsAs::ConnectingRole, NodeEnum::CreateFunctionStmt(_)) => Some("a function"),
                    _ => None,
                };
                if let Some(place) = unjudged
                    && let Some((_, at)) =
                        word_sequences(&statement.text).find(|(words, _)| words[0] == "execute")
                {
                    in_statement.push(Escape {
                        offset: statement.offset + at,
                        what: format!(
                            "dynamic SQL (EXECUTE) in {place}, run as the connecting role, which cannot be checked"
                        ),
                    });
                }
            }
            // The server may still run what pg_query's grammar refuses (a newer server, a
            // newer syntax): judge its text.
            Err(_) => in_statement.extend(mentioned_outside(&statement.text, statement.offset)),
        }
        // Each thing once per statement: a body can be both walked and scanned.
        in_statement.sort_by_key(|escape| escape.offset);
        let mut seen = std::collections::HashSet::new();
        found.extend(in_statement.into_iter().filter(|escape| seen.insert(escape.what.clone())));
    }
    found
}

/// A `CREATE EXTENSION` of a script: what a shadow database must be able to offer before the
/// script runs there, since the role a replay runs as may create only trusted extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequest {
    /// The extension's name.
    pub name: String,
    /// `SCHEMA`, when given.
    pub schema: Option<String>,
    /// `VERSION`, when given.
    pub version: Option<String>,
    /// Written `IF NOT EXISTS`: the statement accepts the extension already being there.
    pub if_not_exists: bool,
}

/// What a script asks of the role it runs as, beyond owning the database it runs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Its `CREATE EXTENSION` statements, in file order.
    pub extensions: Vec<ExtensionRequest>,
    /// Statements that act as, or give objects to, a role named in the script (`ALTER TABLE
    /// ... OWNER TO postgres`, as `pg_dump` writes, `SET ROLE`, `CREATE SCHEMA ... AUTHORIZATION`,
    /// `ALTER DEFAULT PRIVILEGES FOR ROLE`), and event triggers (a superuser's): a role of the
    /// shadow's own cannot run them.
    pub other_roles: Vec<Escape>,
    /// The roles it grants privileges to or names in policies (cluster objects: a shadow on
    /// another server may lack them).
    pub roles: Vec<String>,
}

/// What a shadow database must offer every source replayed on it, gathered from all files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShadowNeeds {
    /// The extensions the sources create, or (a Prisma schema's `extensions`) declare.
    pub extensions: Vec<ExtensionRequest>,
    /// The first statement a role of the shadow's own cannot run, with its place
    /// (`file:line: what`): then the sources run as the connecting role.
    pub other_role: Option<String>,
    /// The roles the sources grant to or name in policies, sorted, each once.
    pub roles: Vec<String>,
}

/// What the statements of a PostgreSQL script ask of the role they run as. Only what the
/// grammar reads is seen: bodies kept as text are not, since a role of the shadow's own is what
/// keeps them inside it.
pub fn needs(sql: &str) -> Needs {
    let parsed = parse_with_trees(sql);
    let mut needs = Needs::default();
    for (statement, tree) in parsed.script.statements.iter().zip(&parsed.trees) {
        let Ok(node) = tree else { continue };
        if let NodeEnum::CreateExtensionStmt(extension) = node {
            let option = |name: &str| {
                extension.options.iter().find_map(|option| match &option.node {
                    Some(NodeEnum::DefElem(def)) if def.defname == name => match def.arg.as_deref() {
                        Some(pg_query::Node { node: Some(NodeEnum::String(value)) }) => {
                            Some(value.sval.clone())
                        }
                        _ => None,
                    },
                    _ => None,
                })
            };
            needs.extensions.push(ExtensionRequest {
                name: extension.extname.clone(),
                schema: option("schema"),
                version: option("new_version"),
                if_not_exists: extension.if_not_exists,
            });
        }
        if let Some(what) = other_role(node) {
            needs.other_roles.push(Escape { offset: statement.start, what });
        }
        needs.roles.extend(named_roles(node));
    }
    needs
}

/// The roles a statement gives privileges to, a policy applies to, or objects are given to
/// (`OWNER TO`, `AUTHORIZATION`, default privileges `FOR ROLE`), by name.
fn named_roles(node: &NodeEnum) -> Vec<String> {
    let cstring = pg_query::protobuf::RoleSpecType::RolespecCstring as i32;
    let named =
        |role: &pg_query::protobuf::RoleSpec| (role.roletype == cstring).then(|| role.rolename.clone());
    let change_owner = pg_query::protobuf::AlterTableType::AtChangeOwner as i32;
    let roles = match node {
        NodeEnum::GrantStmt(grant) => &grant.grantees,
        NodeEnum::AlterDefaultPrivilegesStmt(defaults) => {
            let grantees = defaults.action.iter().flat_map(|grant| &grant.grantees);
            // `FOR ROLE a, b` is a list of role specs under the option `roles`.
            let owners = defaults.options.iter().flat_map(|option| match &option.node {
                Some(NodeEnum::DefElem(def)) if def.defname == "roles" => match def.arg.as_deref() {
                    Some(pg_query::Node { node: Some(NodeEnum::List(list)) }) => list.items.iter().collect(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            });
            return grantees
                .chain(owners)
                .filter_map(|role| match &role.node {
                    Some(NodeEnum::RoleSpec(role)) => named(role),
                    _ => None,
                })
                .collect();
        }
        NodeEnum::CreatePolicyStmt(policy) => &policy.roles,
        NodeEnum::AlterPolicyStmt(policy) => &policy.roles,
        NodeEnum::AlterOwnerStmt(owner) => return owner.newowner.iter().filter_map(named).collect(),
        NodeEnum::AlterTableStmt(table) => {
            return table
                .cmds
                .iter()
                .filter_map(|command| match &command.node {
                    Some(NodeEnum::AlterTableCmd(command)) if command.subtype == change_owner => {
                        command.newowner.as_ref().and_then(named)
                    }
                    _ => None,
                })
                .collect();
        }
        NodeEnum::CreateSchemaStmt(schema) => return schema.authrole.iter().filter_map(named).collect(),
        _ => return Vec::new(),
    };
    roles
        .iter()
        .filter_map(|role| match &role.node {
            Some(NodeEnum::RoleSpec(role)) => named(role),
            _ => None,
        })
        .collect()
}

/// What a statement does as another role (named in it), or as a superuser.
fn other_role(node: &NodeEnum) -> Option<String> {
    let named = |role: &Option<pg_query::protobuf::RoleSpec>| {
        role.as_ref()
            .filter(|role| role.roletype == pg_query::protobuf::RoleSpecType::RolespecCstring as i32)
            .map(|role| role.rolename.clone())
    };
    let change_owner = pg_query::protobuf::AlterTableType::AtChangeOwner as i32;
    match node {
        NodeEnum::AlterOwnerStmt(owner) => named(&owner.newowner).map(|role| format!("OWNER TO {role}")),
        NodeEnum::AlterTableStmt(table) => table.cmds.iter().find_map(|command| match &command.node {
            Some(NodeEnum::AlterTableCmd(command)) if command.subtype == change_owner => {
                named(&command.newowner).map(|role| format!("OWNER TO {role}"))
            }
            _ => None,
        }),
        NodeEnum::CreateSchemaStmt(schema) => {
            named(&schema.authrole).map(|role| format!("CREATE SCHEMA ... AUTHORIZATION {role}"))
        }
        NodeEnum::AlterDefaultPrivilegesStmt(privileges) => privileges
            .options
            .iter()
            .any(|option| matches!(&option.node, Some(NodeEnum::DefElem(def)) if def.defname == "roles"))
            .then(|| "ALTER DEFAULT PRIVILEGES FOR ROLE".to_owned()),
        NodeEnum::VariableSetStmt(set)
            if set.kind == pg_query::protobuf::VariableSetKind::VarSetValue as i32
                && matches!(set.name.as_str(), "role" | "session_authorization") =>
        {
            Some(format!("SET {}", set.name.replace('_', " ").to_uppercase()))
        }
        NodeEnum::CreateEventTrigStmt(_) | NodeEnum::AlterEventTrigStmt(_) => {
            Some("an event trigger".to_owned())
        }
        _ => None,
    }
}

/// What a statement is, when its kind alone acts outside the database.
fn statement_escape(node: &NodeEnum) -> Option<String> {
    let what = match node {
        NodeEnum::CreatedbStmt(_) => "CREATE DATABASE",
        NodeEnum::DropdbStmt(_) => "DROP DATABASE",
        NodeEnum::AlterDatabaseStmt(_)
        | NodeEnum::AlterDatabaseSetStmt(_)
        | NodeEnum::AlterDatabaseRefreshCollStmt(_) => "ALTER DATABASE",
        NodeEnum::CreateRoleStmt(_) => "CREATE ROLE",
        NodeEnum::AlterRoleStmt(_) | NodeEnum::AlterRoleSetStmt(_) => "ALTER ROLE",
        NodeEnum::DropRoleStmt(_) => "DROP ROLE",
        NodeEnum::GrantRoleStmt(_) => "GRANT or REVOKE of a role",
        NodeEnum::ReassignOwnedStmt(_) => "REASSIGN OWNED",
        NodeEnum::DropOwnedStmt(_) => "DROP OWNED",
        NodeEnum::CreateTableSpaceStmt(_) => "CREATE TABLESPACE",
        NodeEnum::DropTableSpaceStmt(_) => "DROP TABLESPACE",
        NodeEnum::AlterTableSpaceOptionsStmt(_) => "ALTER TABLESPACE",
        NodeEnum::AlterSystemStmt(_) => "ALTER SYSTEM",
        NodeEnum::LoadStmt(_) => "LOAD",
        NodeEnum::CheckPointStmt(_) => "CHECKPOINT",
        NodeEnum::CreateSubscriptionStmt(_)
        | NodeEnum::AlterSubscriptionStmt(_)
        | NodeEnum::DropSubscriptionStmt(_) => "a subscription (it connects to another server)",
        NodeEnum::CreateFdwStmt(_)
        | NodeEnum::CreateForeignServerStmt(_)
        | NodeEnum::CreateUserMappingStmt(_) => "a foreign server (it connects elsewhere)",
        NodeEnum::CopyStmt(copy) if copy.is_program => "COPY to or from a program",
        NodeEnum::CopyStmt(copy) if !copy.filename.is_empty() => "COPY to or from a file",
        NodeEnum::CreateExtensionStmt(extension) => {
            let name = extension.extname.to_ascii_lowercase();
            return OUTSIDE_EXTENSIONS.contains(&name.as_str()).then(|| format!("CREATE EXTENSION {name}"));
        }
        NodeEnum::CreatePlangStmt(language) => return Some(format!("CREATE LANGUAGE {}", language.plname)),
        NodeEnum::CreateFunctionStmt(function) => {
            let language = function_language(&function.options)?;
            return OUTSIDE_LANGUAGES
                .contains(&language.as_str())
                .then(|| format!("a function in LANGUAGE {language}"));
        }
        NodeEnum::GrantStmt(grant) => return on_shared_object("GRANT or REVOKE on", grant.objtype),
        NodeEnum::CommentStmt(comment) => return on_shared_object("COMMENT ON", comment.objtype),
        NodeEnum::SecLabelStmt(label) => return on_shared_object("SECURITY LABEL on", label.objtype),
        NodeEnum::AlterOwnerStmt(owner) => {
            return on_shared_object("a change of owner of", owner.object_type);
        }
        NodeEnum::RenameStmt(rename) => return on_shared_object("a rename of", rename.rename_type),
        _ => return None,
    };
    Some(what.to_owned())
}

/// `action` on an object every database of the server shares (it lives in the shared
/// catalogs), or on a server parameter.
fn on_shared_object(action: &str, object_type: i32) -> Option<String> {
    let kind = match ObjectType::try_from(object_type).ok()? {
        ObjectType::ObjectDatabase => "DATABASE",
        ObjectType::ObjectRole => "ROLE",
        ObjectType::ObjectTablespace => "TABLESPACE",
        ObjectType::ObjectParameterAcl => "PARAMETER",
        ObjectType::ObjectSubscription => "SUBSCRIPTION",
        _ => return None,
    };
    Some(format!("{action} a {kind}"))
}

/// The `LANGUAGE` of a `CREATE FUNCTION`, lower case.
fn function_language(options: &[pg_query::Node]) -> Option<String> {
    options.iter().find_map(|option| match &option.node {
        Some(NodeEnum::DefElem(def)) if def.defname == "language" => match def.arg.as_deref() {
            Some(pg_query::Node { node: Some(NodeEnum::String(name)) }) => {
                Some(name.sval.to_ascii_lowercase())
            }
            _ => None,
        },
        _ => None,
    })
}

/// Whether `name` (lower case, without schema) is one of [`OUTSIDE_FUNCTIONS`].
fn is_outside_function(name: &str) -> bool {
    OUTSIDE_FUNCTIONS.iter().any(|banned| match banned.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *banned,
    })
}

/// The calls of [`OUTSIDE_FUNCTIONS`] anywhere in a statement's tree. The tree is walked
/// through its serialized form, which reaches every node, where a hand-written walk would have
/// to name each of PostgreSQL's node types.
fn called_outside(node: &NodeEnum, statement_start: usize) -> Vec<Escape> {
    fn walk(value: &serde_json::Value, statement_start: usize, found: &mut Vec<Escape>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(call) = map.get("FuncCall")
                    && let Some(name) = call["funcname"]
                        .as_array()
                        .and_then(|names| names.last())
                        .and_then(|name| name["node"]["String"]["sval"].as_str())
                    && is_outside_function(&name.to_ascii_lowercase())
                {
                    // Locations are byte offsets in the script; -1 when unknown.
                    let offset = call["location"].as_i64().and_then(|l| usize::try_from(l).ok());
                    found.push(Escape {
                        offset: offset.unwrap_or(statement_start),
                        what: format!("a call of {}", name.to_ascii_lowercase()),
                    });
                }
                map.values().for_each(|child| walk(child, statement_start, found));
            }
            serde_json::Value::Array(items) => {
                items.iter().for_each(|child| walk(child, statement_start, found))
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(tree) = serde_json::to_value(node) {
        walk(&tree, statement_start, &mut found);
    }
    found
}

/// Statements that act outside the database, as the two words they start with, looked for in
/// text PostgreSQL does not parse as SQL (string literals a body hands to `EXECUTE`).
const OUTSIDE_WORDS: &[[&str; 2]] = &[
    ["to", "program"],
    ["from", "program"],
    ["alter", "system"],
    ["alter", "role"],
    ["alter", "user"],
    ["alter", "group"],
    ["create", "role"],
    ["create", "user"],
    ["drop", "role"],
    ["drop", "user"],
    ["create", "database"],
    ["drop", "database"],
    ["alter", "database"],
    ["create", "tablespace"],
    ["drop", "tablespace"],
    ["create", "extension"],
    ["create", "subscription"],
    ["create", "server"],
    ["reassign", "owned"],
    ["drop", "owned"],
];

/// Each word of `text` (lower case) with the next one and the byte offset of the first; quotes
/// and punctuation between words are ignored.
fn word_sequences(text: &str) -> impl Iterator<Item = ([String; 2], usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut words: Vec<(String, usize)> = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for (at, c) in text.char_indices() {
        match (&mut current, is_word(c)) {
            (Some((word, _)), true) => word.extend(c.to_lowercase()),
            (None, true) => current = Some((c.to_lowercase().collect(), at)),
            (Some(_), false) => words.extend(current.take()),
            (None, false) => {}
        }
    }
    words.extend(current);
    let pairs: Vec<([String; 2], usize)> = (0..words.len())
        .map(|i| {
            let next = words.get(i + 1).map(|(word, _)| word.clone()).unwrap_or_default();
            ([words[i].0.clone(), next], words[i].1)
        })
        .collect();
    pairs.into_iter()
}

/// Mentions of [`OUTSIDE_FUNCTIONS`] followed by `(`, and of the statements of
/// [`OUTSIDE_WORDS`], in text PostgreSQL does not parse as SQL (a `DO` body, a function body, a
/// statement its grammar refuses). `offset` is where `text` starts in the script.
fn mentioned_outside(text: &str, offset: usize) -> Vec<Escape> {
    // `... FROM program` is an ordinary table name unless a COPY came first.
    let copy_at = word_sequences(text).find(|(words, _)| words[0] == "copy").map(|(_, at)| at);
    let mut found: Vec<Escape> = word_sequences(text)
        .filter(|(words, at)| {
            OUTSIDE_WORDS.iter().any(|wanted| wanted[0] == words[0] && wanted[1] == words[1])
                && (words[1] != "program" || copy_at.is_some_and(|copy| copy < *at))
        })
        .map(|(words, at)| Escape {
            offset: offset + at,
            what: format!("{} {}", words[0], words[1]).to_uppercase(),
        })
        .collect();
    // `"pg_terminate_backend"(...)`: a quoted name is the same function.
    let lower = text.to_ascii_lowercase().replace('"', " ");
    let bytes = lower.as_bytes();
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    let mut at = 0;
    while at < bytes.len() {
        let starts_name = is_name_byte(bytes[at]) && (at == 0 || !is_name_byte(bytes[at - 1]));
        if !starts_name {
            at += 1;
            continue;
        }
        let end = (at..bytes.len()).find(|&i| !is_name_byte(bytes[i])).unwrap_or(bytes.len());
        let name = &lower[at..end];
        let called = lower[end..].trim_start().starts_with('(');
        if called && is_outside_function(name) {
            found.push(Escape { offset: offset + at, what: format!("a call of {name}") });
        }
        at = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{Escape, ExtensionRequest, RunsAs, escapes, needs};

    #[test]
    fn needs_name_the_extensions_and_the_statements_of_other_roles() {
        let sql = "CREATE EXTENSION IF NOT EXISTS \"pg_trgm\" WITH SCHEMA ext VERSION '1.6';
CREATE EXTENSION citext;
ALTER TABLE public.t OWNER TO postgres;
ALTER TABLE t OWNER TO CURRENT_USER;
ALTER FUNCTION f() OWNER TO app;
CREATE SCHEMA s AUTHORIZATION app;
SET ROLE app;
SET SESSION AUTHORIZATION app;
ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT SELECT ON TABLES TO PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app;
CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f();
GRANT SELECT ON t TO app;
CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET ROLE app'; END $$;
CREATE POLICY p ON t TO app_rls, CURRENT_USER USING (true);
REVOKE SELECT ON t FROM \"App Ro\", PUBLIC;";
        let found = needs(sql);
        // Grantees, default privileges' `FOR ROLE`, owners and `AUTHORIZATION` alike.
        assert_eq!(found.roles, ["postgres", "app", "app", "app", "app", "app", "app_rls", "App Ro"]);
        assert_eq!(
            found.extensions,
            [
                ExtensionRequest {
                    name: "pg_trgm".into(),
                    schema: Some("ext".into()),
                    version: Some("1.6".into()),
                    if_not_exists: true
                },
                ExtensionRequest { name: "citext".into(), schema: None, version: None, if_not_exists: false },
            ]
        );
        let whats: Vec<&str> = found.other_roles.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "OWNER TO postgres",
                "OWNER TO app",
                "CREATE SCHEMA ... AUTHORIZATION app",
                "SET ROLE",
                "SET SESSION AUTHORIZATION",
                "ALTER DEFAULT PRIVILEGES FOR ROLE",
                "an event trigger"
            ]
        );
        assert!(sql[found.other_roles[0].offset..].starts_with("ALTER TABLE public.t"));
    }

    #[test]
    fn statements_and_quoted_calls_inside_bodies_are_refused() {
        let sql = r#"DO $$ DECLARE c text := chr(67)||'OPY (select 1) TO PROGRAM ''touch /tmp/x'''; BEGIN EXECUTE c; END $$;
CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER ROLE postgres SET work_mem = ''7MB'''; END $$;
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_catalog."pg_terminate_backend"(1); END $$;
CREATE FUNCTION h() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'COPY (select 1) TO  PROGRAM ''x'''; RETURN NEW; END $$;"#;
        let found = whats(sql);
        for expected in ["TO PROGRAM", "ALTER ROLE", "a call of pg_terminate_backend"] {
            assert!(found.iter().any(|what| what == expected), "{expected}: {found:?}");
        }
        assert!(whats("CREATE FUNCTION ok() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;").is_empty());
        assert!(whats("DO $$ BEGIN PERFORM 1; END $$;").is_empty());
        assert!(whats("CREATE FUNCTION p() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM program); END $$;").is_empty());
    }

    #[test]
    fn dynamic_sql_is_refused_only_when_nothing_else_confines_it() {
        let function = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE reverse('x'); RETURN 1; END $$;";
        // As linkwarden's history creates a type only where it is missing.
        let block = "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'Theme') THEN
  EXECUTE 'CREATE TYPE \"Theme\" AS ENUM (''dark'', ''light'')'; END IF; END $$;";
        for (sql, place) in [(function, "a function"), (block, "a DO block")] {
            assert!(whats(sql).is_empty(), "the shadow's own role stops it at the server: {sql}");
            let found: Vec<Escape> = escapes(sql, RunsAs::ConnectingRole);
            assert_eq!(
                found.iter().map(|escape| escape.what.as_str()).collect::<Vec<_>>(),
                [format!(
                    "dynamic SQL (EXECUTE) in {place}, run as the connecting role, which cannot be checked"
                )]
            );
            assert!(sql[found[0].offset..].starts_with("EXECUTE"), "{sql}");
        }
    }

    fn whats(sql: &str) -> Vec<String> {
        escapes(sql, RunsAs::OwnRole).into_iter().map(|escape| escape.what).collect()
    }

    #[test]
    fn refuses_what_acts_on_the_server_rather_than_the_database() {
        let sql = "CREATE DATABASE d;
            DROP DATABASE victim;
            ALTER DATABASE victim RENAME TO v2;
            ALTER DATABASE postgres SET work_mem = '1MB';
            CREATE ROLE r;
            CREATE USER u;
            CREATE GROUP g;
            ALTER ROLE r SUPERUSER;
            ALTER USER u SET search_path = x;
            DROP ROLE r;
            DROP USER IF EXISTS u;
            GRANT r TO u;
            REVOKE r FROM u;
            CREATE TABLESPACE ts LOCATION '/tmp/ts';
            DROP TABLESPACE ts;
            ALTER SYSTEM SET work_mem = '8MB';
            COPY t TO '/tmp/x';
            COPY t FROM PROGRAM 'id';
            LOAD 'auto_explain';
            CREATE EXTENSION dblink;
            CREATE EXTENSION IF NOT EXISTS postgres_fdw;
            CREATE EXTENSION file_fdw;
            CREATE EXTENSION adminpack;
            CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'sym';
            CREATE FUNCTION g() RETURNS int LANGUAGE plpython3u AS 'return 1';
            GRANT CONNECT ON DATABASE victim TO PUBLIC;
            COMMENT ON ROLE r IS 'x';
            ALTER DATABASE victim OWNER TO r;
            ALTER ROLE r RENAME TO r2;
            REASSIGN OWNED BY r TO u;
            DROP OWNED BY r;
            CREATE SUBSCRIPTION s CONNECTION 'host=elsewhere' PUBLICATION p;
            CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;
            GRANT SET ON PARAMETER work_mem TO r;";
        let found = escapes(sql, RunsAs::OwnRole);
        assert_eq!(found.len(), 34, "{found:#?}");
        assert_eq!(found[1].what, "DROP DATABASE");
        assert_eq!(&sql[found[1].offset..found[1].offset + 13], "DROP DATABASE");
    }

    #[test]
    fn finds_outside_calls_anywhere_in_a_statement() {
        let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'victim';
CREATE TABLE t (id int, secret text DEFAULT pg_catalog.pg_read_file('/etc/passwd'));
CREATE VIEW v AS SELECT * FROM pg_ls_dir('.') AS f;
INSERT INTO t VALUES (1, (SELECT lo_import('/etc/hosts')::text));
SELECT dblink_exec('host=elsewhere', 'DROP TABLE x');
CREATE FUNCTION h() RETURNS bool LANGUAGE sql BEGIN ATOMIC SELECT pg_catalog.pg_reload_conf(); END;
ALTER TABLE t ADD CONSTRAINT c CHECK (pg_cancel_backend(1));";
        let found = escapes(sql, RunsAs::OwnRole);
        let names: Vec<&str> = found.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            names,
            [
                "a call of pg_terminate_backend",
                "a call of pg_read_file",
                "a call of pg_ls_dir",
                "a call of lo_import",
                "a call of dblink_exec",
                "a call of pg_reload_conf",
                "a call of pg_cancel_backend"
            ]
        );
        assert!(sql[found[1].offset..].starts_with("pg_catalog.pg_read_file"));
    }

    #[test]
    fn scans_bodies_kept_as_text_and_statements_the_grammar_refuses() {
        let sql = "DO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; END $$;
CREATE FUNCTION k() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE 'SELECT pg_read_file (''x'')'; END $f$;
SELEC pg_rotate_logfile();";
        let found = escapes(sql, RunsAs::OwnRole);
        assert_eq!(
            found.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(),
            ["a call of pg_terminate_backend", "a call of pg_read_file", "a call of pg_rotate_logfile"]
        );
        assert!(sql[found[0].offset..].starts_with("pg_terminate_backend("));
    }

    #[test]
    fn allows_what_a_schema_legitimately_holds() {
        let sql = "CREATE SCHEMA app;
CREATE TABLE app.t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text DEFAULT now()::text);
GRANT SELECT, INSERT ON app.t TO PUBLIC;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC;
COMMENT ON TABLE app.t IS 'calls pg_read_file() never';
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE FUNCTION app.f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
DO $$ BEGIN RAISE NOTICE 'hello'; END $$;
COPY app.t FROM STDIN;
CREATE TABLE app.files (pg_read_file text);
SELECT set_config('search_path', 'app', false);";
        assert_eq!(whats(sql), Vec::<String>::new());
    }
}
