//! Privileges from the catalog's ACLs (`aclexplode`): each object's ACL compared with the one
//! PostgreSQL gives it by default (`acldefault`), so what a plain `CREATE` gives (the owner's
//! privileges, `EXECUTE` and `USAGE` for `PUBLIC` on functions and types) is not a grant, and
//! what was revoked from those defaults is. The owner's own privileges are left out. Owners
//! are read only when asked for (`owners = true`; ARCHITECTURE.md says why), and only those
//! that are not the role reading them.

use haste_driver::DbError;
use haste_schema::{DefaultObjects, DefaultPrivilege, OwnedObject, Owner, Privilege, PrivilegeObject};

use crate::PgConnection;
use crate::introspect::{USER_SCHEMA, flag, not_extension_owned, not_type_internal, optional, text};

/// `PUBLIC` for the grantee `0`, else the role's name.
const GRANTEE: &str = "CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END";

/// The query of the privileges of `objects` (a query of columns `owner`, `acl`, `base` and
/// those `key` names, which say which object): the entries of its ACL (`base` when it has none)
/// that `base` lacks (granted), and of `base` that the ACL lacks (revoked), the owner's left out.
fn deviations(objects: &str, key: &str) -> String {
    let same: Vec<String> =
        key.split(", ").map(|column| format!("b.{column} IS NOT DISTINCT FROM x.{column}")).collect();
    let same = same.join(" AND ");
    format!(
        // An object without an ACL has exactly its default privileges: nothing to report, so
        // only objects with one are compared (on a schema without grants, none but `public`).
        "WITH objects AS (SELECT * FROM ({objects}) o WHERE o.acl IS NOT NULL), \
         actual AS (SELECT o.*, e.* FROM objects o CROSS JOIN LATERAL aclexplode(coalesce(o.acl, o.base)) e), \
         base AS (SELECT o.*, e.* FROM objects o CROSS JOIN LATERAL aclexplode(o.base) e) \
         SELECT {key}, {GRANTEE}, x.privilege_type, x.is_grantable, false FROM actual x \
         WHERE x.grantee <> x.owner AND NOT EXISTS (SELECT 1 FROM base b WHERE {same} AND b.grantee = x.grantee \
           AND b.privilege_type = x.privilege_type AND b.is_grantable = x.is_grantable) \
         UNION \
         SELECT {key}, {GRANTEE}, x.privilege_type, x.is_grantable, true FROM base x \
         WHERE x.grantee <> x.owner AND NOT EXISTS (SELECT 1 FROM actual b WHERE {same} AND b.grantee = x.grantee \
           AND b.privilege_type = x.privilege_type)"
    )
}

impl PgConnection {
    /// The privileges on the objects `class_filter` and `type_filter` let through (and on their
    /// schemas, functions and columns). Functions an extension created count too (a schema
    /// revokes or grants `EXECUTE` on pgcrypto's `digest`): what differs from the privileges
    /// the extension's script left (`pg_init_privs`), as pg_dump dumps them.
    pub(crate) fn privileges(
        &mut self,
        class_filter: &str,
        type_filter: &str,
    ) -> Result<Vec<Privilege>, DbError> {
        let namespace_owned = not_extension_owned("pg_namespace", "n.oid");
        // `public` is created with `USAGE` (before PostgreSQL 15 also `CREATE`) for `PUBLIC`.
        let public_default = "makeaclitem(0, n.nspowner, CASE WHEN current_setting('server_version_num')::int >= 150000 \
             THEN 'USAGE' ELSE 'USAGE, CREATE' END, false)";
        let objects = format!(
            "SELECT 'schema' AS object, n.nspname::text AS schema, ''::text AS name, NULL::text AS col, \
                 n.nspowner AS owner, n.nspacl AS acl, \
                 CASE WHEN n.nspname = 'public' THEN array_append(acldefault('n', n.nspowner), {public_default}) \
                 ELSE acldefault('n', n.nspowner) END AS base \
               FROM pg_namespace n WHERE {USER_SCHEMA} AND {namespace_owned} \
             UNION ALL \
               SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname, NULL, c.relowner, c.relacl, \
                 acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {class_filter} \
             UNION ALL \
               SELECT 'table', n.nspname, c.relname, a.attname, c.relowner, a.attacl, NULL \
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') AND {class_filter} \
             UNION ALL \
               SELECT 'function', n.nspname, p.oid::regprocedure::text, NULL, p.proowner, p.proacl, \
                 coalesce((SELECT i.initprivs FROM pg_init_privs i WHERE i.classoid = 'pg_proc'::regclass \
                   AND i.objoid = p.oid AND i.objsubid = 0), acldefault('f', p.proowner)) \
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} \
             UNION ALL \
               SELECT 'type', n.nspname, t.typname, NULL, t.typowner, t.typacl, acldefault('T', t.typowner) \
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class r ON r.oid = t.typrelid \
               WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND r.relkind = 'c')) AND {type_filter}"
        );
        let mut privileges: Vec<Privilege> = self
            .text_rows(&deviations(&objects, "object, schema, name, col"))?
            .iter()
            .map(|row| Privilege {
                object: match text(row, 0).as_str() {
                    "schema" => PrivilegeObject::Schema,
                    "sequence" => PrivilegeObject::Sequence,
                    "function" => PrivilegeObject::Function,
                    "type" => PrivilegeObject::Type,
                    _ => PrivilegeObject::Table,
                },
                schema: text(row, 1),
                name: text(row, 2),
                column: optional(row, 3),
                grantee: text(row, 4),
                privilege: text(row, 5),
                grantable: flag(row, 6),
                revoked: flag(row, 7),
            })
            .collect();
        privileges.sort();
        Ok(privileges)
    }

    /// `ALTER DEFAULT PRIVILEGES`, of every role (whose is not modelled).
    pub(crate) fn default_privileges(&mut self) -> Result<Vec<DefaultPrivilege>, DbError> {
        // Per schema only grants are stored (against no base); for all schemas the whole ACL,
        // defaults included.
        let objects = "SELECT CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname::text END AS schema, \
             d.defaclobjtype::text AS objects, \
             CASE WHEN d.defaclrole <> (SELECT oid FROM pg_roles WHERE rolname = current_user) \
               THEN pg_get_userbyid(d.defaclrole)::text END AS role, \
             d.defaclrole AS owner, d.defaclacl AS acl, \
             CASE WHEN d.defaclnamespace = 0 THEN acldefault(CASE WHEN d.defaclobjtype = 'S' THEN 's' \
               ELSE d.defaclobjtype END, d.defaclrole) END AS base \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace";
        let mut privileges: Vec<DefaultPrivilege> = self
            .text_rows(&deviations(objects, "schema, objects, role"))?
            .iter()
            .map(|row| DefaultPrivilege {
                schema: optional(row, 0),
                objects: match text(row, 1).as_str() {
                    "S" => DefaultObjects::Sequences,
                    "f" => DefaultObjects::Functions,
                    "T" => DefaultObjects::Types,
                    "n" => DefaultObjects::Schemas,
                    _ => DefaultObjects::Tables,
                },
                role: optional(row, 2),
                grantee: text(row, 3),
                privilege: text(row, 4),
                grantable: flag(row, 5),
                revoked: flag(row, 6),
            })
            .collect();
        privileges.sort();
        Ok(privileges)
    }

    /// The owners of the objects `class_filter` and `type_filter` let through, of their schemas
    /// and functions, that are not the role reading them (`current_user`). A sequence a column
    /// owns is left out (it follows its table), and so is `public` owned by the database's owner
    /// (`pg_database_owner` or the database's role): what every new database has.
    pub(crate) fn owners(&mut self, class_filter: &str, type_filter: &str) -> Result<Vec<Owner>, DbError> {
        let namespace_owned = not_extension_owned("pg_namespace", "n.oid");
        let function_owned = not_extension_owned("pg_proc", "p.oid");
        let function_made = not_type_internal("p.oid");
        let objects = format!(
            "SELECT 'schema' AS object, n.nspname::text AS schema, ''::text AS name, n.nspowner AS owner \
               FROM pg_namespace n WHERE {USER_SCHEMA} AND {namespace_owned} AND NOT (n.nspname = 'public' \
                 AND (pg_get_userbyid(n.nspowner) = 'pg_database_owner' \
                   OR n.nspowner = (SELECT datdba FROM pg_database WHERE datname = current_database()))) \
             UNION ALL \
               SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view' WHEN 'S' THEN 'sequence' \
                 ELSE 'table' END, n.nspname, c.relname, c.relowner \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {class_filter} \
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass \
                   AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')) \
             UNION ALL \
               SELECT 'function', n.nspname, p.oid::regprocedure::text, p.proowner \
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {function_owned} AND {function_made} \
             UNION ALL \
               SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE 'type' END, n.nspname, t.typname, t.typowner \
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class r ON r.oid = t.typrelid \
               WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND r.relkind = 'c')) AND {type_filter}"
        );
        let mut owners: Vec<Owner> = self
            .text_rows(&format!(
                "SELECT o.object, o.schema, o.name, pg_get_userbyid(o.owner)::text FROM ({objects}) o \
                 WHERE o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            ))?
            .iter()
            .map(|row| Owner {
                object: match text(row, 0).as_str() {
                    "schema" => OwnedObject::Schema,
                    "view" => OwnedObject::View,
                    "materialized_view" => OwnedObject::MaterializedView,
                    "sequence" => OwnedObject::Sequence,
                    "function" => OwnedObject::Function,
                    "domain" => OwnedObject::Domain,
                    "type" => OwnedObject::Type,
                    _ => OwnedObject::Table,
                },
                schema: text(row, 1),
                name: text(row, 2),
                role: text(row, 3),
            })
            .collect();
        owners.sort();
        Ok(owners)
    }
}
